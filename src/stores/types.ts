// The storage seam. Micronode keeps everything in memory; macronode uses PostgreSQL behind the
// same interface. Sealed documents are immutable and keyed by their CID; an epoch is bound once.

export interface StoredInputs {
  cid: string;
  bytes: Uint8Array;
  actors: number;
  events: number;
}

export interface StoredPolicy {
  hash: string;
  id: string;
  bytes: Uint8Array;
}

/** A published run: the manifest bytes and the binding of its epoch to one triple. */
export interface EpochRecord {
  epochId: string;
  inputsCid: string;
  policyHash: string;
  policyId: string;
  runKey: string;
  commitment: string;
  manifest: Uint8Array;
  /** Attestation JSON bytes when signing is on (issue: attestation), else null. */
  attestation: Uint8Array | null;
}

export type PublishOutcome = { created: true; record: EpochRecord } | { created: false; record: EpochRecord };

export interface Stores {
  readonly kind: 'memory' | 'postgres';
  /** true when newly stored, false when the same CID was already there. */
  putInputs(doc: StoredInputs): Promise<boolean>;
  getInputs(cid: string): Promise<StoredInputs | null>;
  putPolicy(doc: StoredPolicy): Promise<boolean>;
  getPolicy(hash: string): Promise<StoredPolicy | null>;
  getEpoch(epochId: string): Promise<EpochRecord | null>;
  /**
   * Binds the epoch and stores its manifest atomically. If the epoch is already bound, nothing is
   * written and the existing record is returned: the caller decides between replay and conflict.
   */
  publish(record: EpochRecord): Promise<PublishOutcome>;
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}

// The storage seam. Micronode keeps everything in memory; macronode uses PostgreSQL behind the
// same interface. Sealed documents are immutable and keyed by their CID; an epoch is bound once;
// its ledger parts live in an outbox written in the same transaction as the binding.

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
  /** Attestation JSON bytes when signing is on, else null. */
  attestation: Uint8Array | null;
  /**
   * True when the manifest bytes were evicted under the store's retention budget (memory store):
   * `manifest` is then empty; the binding (this record's other members) is kept for ever, and the
   * manifest is recomputed from its documents while those are held (service/epochs.ts).
   */
  evicted?: boolean;
}

/**
 * Where a ledger part stands. `pending`: not yet acknowledged, may be emitted now; `held`: kept
 * back while the ledger is degraded (quarantine-only mode); `accepted`/`dup`: acknowledged (final);
 * `conflict`/`failed`: the ledger refused it permanently (final, alerts; only an operator's
 * re-drive moves a `failed` part back to `pending`).
 */
export type PartState = 'pending' | 'held' | 'accepted' | 'dup' | 'conflict' | 'failed';
export const FINAL_STATES: readonly PartState[] = ['accepted', 'dup', 'conflict', 'failed'];

/** One ledger intent part (SPEC §7): its exact request body is fixed at publication. */
export interface OutboxPart {
  partId: string;
  epochId: string;
  runKey: string;
  index: number;
  count: number;
  /** The exact JSON body to POST, identical on every attempt from any replica. */
  body: Uint8Array;
}

export interface PartStatus {
  partId: string;
  epochId: string;
  index: number;
  count: number;
  state: PartState;
  attempts: number;
  lastError: string | null;
}

/** Who will emit a run's parts right after publishing it, and for how long nobody else may. */
export interface PublishLease {
  owner: string;
  ms: number;
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
   * Binds the epoch, stores its manifest and enqueues its ledger parts (in `initial` state) in one
   * transaction. If the epoch is already bound, nothing is written and the existing record is
   * returned: the caller decides between replay and conflict.
   * With `lease`, the parts are enqueued already leased to `lease.owner` for `lease.ms`: the
   * publishing request emits them itself, and no drainer can take them between the commit and its
   * claimPartsById (if the publisher dies, they pass to the drainers once the lease expires).
   */
  publish(record: EpochRecord, parts: readonly OutboxPart[], initial: 'pending' | 'held', lease?: PublishLease): Promise<PublishOutcome>;
  /**
   * Leases up to `limit` non-final parts (in epoch publication order, then part index) whose lease
   * has expired, for `leaseMs`, to `owner`. `states` narrows which (e.g. only `held`). Replicas
   * share the outbox through this: a part is leased by at most one owner at a time, and a crashed
   * owner's lease simply expires.
   */
  claimParts(owner: string, limit: number, leaseMs: number, states: readonly PartState[]): Promise<OutboxPart[]>;
  /**
   * Leases the given parts (a request emitting its own run) if nobody else holds them: unleased,
   * expired, or leased by `owner` itself (publish's lease), which is renewed.
   */
  claimPartsById(owner: string, partIds: readonly string[], leaseMs: number): Promise<OutboxPart[]>;
  /** Records an attempt's outcome and releases the lease; final states are never left again. */
  settlePart(partId: string, owner: string, state: PartState, attemptsAdded: number, lastError: string | null): Promise<void>;
  /**
   * Frees every lease `owner` holds on a part not yet final (a replica stopping): another replica
   * may take them at once instead of after the lease runs out. Returns how many were freed.
   */
  releaseLeases(owner: string): Promise<number>;
  /**
   * An operator's re-drive: moves `failed` parts (of one epoch, or all) back to `pending`, lease
   * released, attempts and last error kept, so the drainer sends them again. `conflict` parts are
   * never re-driven (a different body under the same part_id is a bug or an attack). Returns how many.
   */
  redriveFailed(epochId?: string): Promise<number>;
  /** Moves every `pending` part to `held` (entering quarantine-only mode). */
  holdPending(): Promise<number>;
  partsOf(epochId: string): Promise<PartStatus[]>;
  countParts(states: readonly PartState[]): Promise<number>;
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}

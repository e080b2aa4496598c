// The storage seam. Micronode keeps everything in memory; macronode uses PostgreSQL behind the
// same interface. Sealed documents are immutable and keyed by their CID; an epoch is bound once;
// its ledger parts live in an outbox written in the same transaction as the binding.
//
// Tenancy (SPEC §10): a document's bytes are stored once, but each tenant that seals them owns
// them, and only an owner reads them (a get for anyone else answers null, exactly as for a missing
// CID). An owner's documents count against its byte quota whether or not another tenant stored the
// same bytes first, so nothing in an answer reveals what other tenants stored. Epochs bind per
// program, and a program's bound windows never overlap.

import { AppError } from '../errors.js';
import type { InputsFile } from './inputs-file.js';

export interface StoredInputs {
  cid: string;
  /** The document's bytes; empty when it is kept as a file (`file`): read it with inputsBytes(). */
  bytes: Uint8Array;
  /**
   * Micronode only: a large Arrow upload kept as its spooled file under the amnesia tmpfs
   * (src/stores/inputs-file.ts) instead of `bytes`; the memory store owns and removes it.
   */
  file?: InputsFile;
  actors: number;
  events: number;
  /**
   * The document's window and pool_minor, recorded when sealed (for budgets before any work);
   * null for documents sealed before they were recorded (PostgreSQL databases migrated in place).
   */
  window: Window | null;
  poolMinor: string | null;
}

/** A stored document's size in bytes, whether held in memory or as a file. */
export function inputsSize(doc: StoredInputs): number {
  return doc.file?.size ?? doc.bytes.length;
}

/**
 * A stored document's bytes: from memory, or read from its file (a copy of their own); null when
 * its file went with an eviction after the document was looked up (as if it had not been found).
 */
export function inputsBytes(doc: StoredInputs): Uint8Array | Promise<Uint8Array | null> {
  return doc.file === undefined ? doc.bytes : doc.file.read();
}

/** The bytes of the inputs `cid` as `tenant` may read them; null when not held (or evicted meanwhile). */
export async function readInputs(stores: Stores, cid: string, tenant: string): Promise<Uint8Array | null> {
  const doc = await stores.getInputs(cid, tenant);
  return doc === null ? null : inputsBytes(doc);
}

export interface Window {
  startMs: number;
  endMs: number;
}

/** Who seals a document, and how many bytes that tenant may own in all (null: no quota). */
export interface Sealer {
  tenant: string;
  quotaBytes: number | null;
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
  /** SPEC §10: the epoch id's program, the inputs window, who bound it, with which corr id, when. */
  program: string;
  window: Window;
  tenant: string;
  /** Empty for bindings made before corr ids were recorded. */
  corrId: string;
  /** Epoch milliseconds. */
  boundAt: number;
  payees: number;
  payoutMinor: string;
  /**
   * True when the manifest bytes were evicted under the store's retention budget (memory store):
   * `manifest` is then empty; the binding (this record's other members) is kept for ever, and the
   * manifest is recomputed from its documents while those are held (service/epochs.ts).
   */
  evicted?: boolean;
  /**
   * SPEC §13 hold: the epoch's parts are not sent before this (epoch ms); 0 or absent: no hold.
   * Fixed at binding (bound_at + the program's hold_ms), so replays answer the same `hold_until`.
   */
  holdUntil?: number;
  /** SPEC §13: the epoch this one supersedes (null/absent: a plain epoch). */
  supersedes?: string | null;
  /** SPEC §13: the epoch that superseded this one, once one did (its window passed to it). */
  supersededBy?: string | null;
  /**
   * A superseding epoch's basis: `awaiting` until every attempted part of the chain it replaces
   * is answered, then `fixed` (its correction document, or its plain parts when the basis was
   * empty, enqueued). Null for a plain epoch.
   */
  basis?: 'awaiting' | 'fixed' | null;
  /** The correction document's JCS bytes once the basis is fixed and not empty, else null. */
  correction?: Uint8Array | null;
  /** The correction's attestation JSON bytes when signing is on. */
  correctionAttestation?: Uint8Array | null;
}

/** A bound epoch as the program listing shows it (no manifest bytes). */
export type EpochSummary = Omit<EpochRecord, 'manifest' | 'attestation' | 'correction' | 'correctionAttestation'>;

/** SPEC §13: `old` was superseded already, by `by`. */
export function alreadySuperseded(old: string, by: string): AppError {
  return new AppError('ALREADY_SUPERSEDED', `epoch ${old} is already superseded by ${by}`, {
    reason: 'already_superseded',
    epoch_id: old,
    superseded_by: by,
  });
}

/** The 404 of a `supersedes` naming no epoch bound in the caller's program (nothing says whether another program has it). */
export function noSuchSuperseded(old: string): AppError {
  return new AppError('NOT_FOUND', `epoch ${old} is not bound in this program`, { reason: 'unknown_superseded_epoch', supersedes: old });
}

/** The refusal of a binding whose window overlaps `bound`'s in the same program (SPEC §10). */
export function windowOverlap(bound: string): AppError {
  return new AppError('WINDOW_OVERLAP', `the inputs window overlaps that of epoch ${bound}, already bound in this program`, {
    reason: 'window_overlap',
    epoch_id: bound,
  });
}

/** Whether two half-open windows share a millisecond. */
export function overlaps(a: Window, b: Window): boolean {
  return a.startMs < b.endMs && b.startMs < a.endMs;
}

/** The refusal of a document that would take its tenant past its byte quota. */
export function quotaExceeded(quotaBytes: number, usedBytes: number, documentBytes: number): AppError {
  return new AppError('QUOTA_EXCEEDED', 'storing this document would exceed the tenant\'s storage quota', {
    reason: 'tenant_quota',
    limit_bytes: quotaBytes,
    used_bytes: usedBytes,
    document_bytes: documentBytes,
  });
}

/**
 * Where a ledger part stands. `pending`: not yet acknowledged, may be emitted now; `held`: kept
 * back while the ledger is degraded (quarantine-only mode); `on_hold`: waiting for its epoch's
 * hold to end (SPEC §13; a claim takes it once `hold_until` has passed, as `pending`);
 * `awaiting_basis`: a superseding epoch's plain part, kept until its basis is fixed (then sent if
 * the basis is empty, else replaced by the correction's parts); `accepted`/`dup`: acknowledged
 * (final); `conflict`/`failed`: the ledger refused it permanently (final, alerts; only an
 * operator's re-drive moves a `failed` part back to `pending`); `cancelled`: never sent, and never
 * will be (its epoch was superseded before anyone claimed it; final).
 */
export type PartState = 'pending' | 'held' | 'on_hold' | 'awaiting_basis' | 'accepted' | 'dup' | 'conflict' | 'failed' | 'cancelled';
export const FINAL_STATES: readonly PartState[] = ['accepted', 'dup', 'conflict', 'failed', 'cancelled'];
/** States a part may be cancelled from, if it was never claimed (SPEC §13 "never attempted"). */
export const CANCELLABLE_STATES: readonly PartState[] = ['pending', 'held', 'on_hold', 'awaiting_basis'];
/** What fixes a superseding epoch's basis (SPEC §13). */
export interface FixedBasis {
  /** The correction document's JCS bytes; null when the basis was empty (a plain §7 intent). */
  document: Uint8Array | null;
  attestation: Uint8Array | null;
  parts: readonly OutboxPart[];
}

/** A publication's initial part state. */
export type InitialState = 'pending' | 'held' | 'on_hold' | 'awaiting_basis';

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
  /**
   * Stores the bytes (once) and makes `by.tenant` an owner. true when the tenant newly owns the
   * document, false when it already did. Throws QUOTA_EXCEEDED (nothing written) when a new
   * ownership would take the tenant past `by.quotaBytes`.
   */
  putInputs(doc: StoredInputs, by: Sealer): Promise<boolean>;
  /** The document if `tenant` owns it, else null (also when another tenant does). */
  getInputs(cid: string, tenant: string): Promise<StoredInputs | null>;
  putPolicy(doc: StoredPolicy, by: Sealer): Promise<boolean>;
  getPolicy(hash: string, tenant: string): Promise<StoredPolicy | null>;
  /** Whether `tenant` owns the document (without reading its bytes). */
  owns(kind: 'inputs' | 'policy', id: string, tenant: string): Promise<boolean>;
  /** Bytes owned per tenant (each owner counts a shared document's bytes in full). */
  tenantUsage(): Promise<Map<string, number>>;
  getEpoch(epochId: string): Promise<EpochRecord | null>;
  /**
   * An epoch bound in `program` whose window overlaps `window`, if any: a hint that lets a doomed
   * compute be refused before any work. publish() alone decides.
   */
  overlapping(program: string, window: Window): Promise<string | null>;
  /**
   * Bound epochs of `program` in window order (start, then epoch id), after the epoch `after`
   * (null: from the first), at most `limit`. `after` not bound in the program → null.
   */
  listEpochs(program: string, after: string | null, limit: number): Promise<EpochSummary[] | null>;
  /**
   * Binds the epoch, stores its manifest and enqueues its ledger parts (in `initial` state) in one
   * transaction. If the epoch is already bound, nothing is written and the existing record is
   * returned: the caller decides between replay and conflict. If the record's window overlaps that
   * of an epoch already bound in its program, nothing is written and WINDOW_OVERLAP is thrown
   * naming that epoch; this holds between replicas too.
   * With `lease`, the parts are enqueued already leased to `lease.owner` for `lease.ms`: the
   * publishing request emits them itself, and no drainer can take them between the commit and its
   * claimPartsById (if the publisher dies, they pass to the drainers once the lease expires).
   */
  publish(record: EpochRecord, parts: readonly OutboxPart[], initial: InitialState, lease?: PublishLease): Promise<PublishOutcome>;
  // SPEC §13, supersession: with `record.supersedes`, the same transaction marks that epoch
  // `superseded_by` this one (ALREADY_SUPERSEDED if another epoch did first; NOT_FOUND if it is
  // not bound in the record's program) and cancels every part of it never claimed. A part is
  // claimed (marked so, for ever) in the same row update that leases it, so a part is either
  // claimed (and may have been sent: the superseding epoch waits for its answer) or cancelled,
  // never both, across replicas. The window rule exempts the superseded epoch: `record` takes its
  // window over. Parts carry `record.holdUntil`.
  /** Superseding epochs whose basis is still awaited (and which are not superseded themselves). */
  awaitingBasis(): Promise<string[]>;
  /**
   * Fixes a superseding epoch's basis, once: stores the correction document (null for an empty
   * basis, when the epoch settles as a plain intent) and enqueues `parts` (the correction's, or
   * the epoch's own §7 parts), `on_hold` until the epoch's hold ends, else `pending`. A superseding
   * epoch is bound without parts; these are its first. false (nothing written) when the epoch is
   * not awaiting its basis, or was superseded meanwhile.
   */
  fixBasis(epochId: string, fixed: FixedBasis): Promise<boolean>;
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
  /** Moves every `pending` part to `held` (entering quarantine-only mode; `on_hold` parts stay on hold). */
  holdPending(): Promise<number>;
  partsOf(epochId: string): Promise<PartStatus[]>;
  countParts(states: readonly PartState[]): Promise<number>;
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}

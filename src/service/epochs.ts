// Computing an epoch, independent of HTTP: binding, replay, conflict, single flight, dry runs,
// deadline admission and publication. Routes only translate requests into calls here.
//
// Walk of one compute:
//   1. the epoch is already bound → same triple: replay the stored answer; else 409 CONFLICT;
//   2. someone is computing this epoch now → wait for them, then go to 1 (single flight);
//   3. load the sealed documents (422 if policy_id does not name the stored policy);
//   4. refuse with 504 if the estimated cost does not fit in the time left;
//   5. run in the pool (aborted when the deadline passes or the client leaves);
//   6. publish atomically (manifest + binding); a replica that lost the race replays or 409s.
//
// Tenancy (SPEC §10): the route has already refused epochs outside the caller's programs. Here
// the caller must own (have sealed) the inputs and policy it names, or it gets the same 404 as for
// a missing document, replays included; a new run's pool must fit its program's budget (422,
// before any work); and the binding records program, window, tenant, corr id and time, the store
// refusing a window that overlaps another binding of the program (409 WINDOW_OVERLAP).
//
// Holds and corrections (SPEC §13): a program's `hold_ms` publishes the parts `on_hold` until
// bound_at + hold_ms (202 with `hold_until`; the drainer sends them after). `supersedes` binds a
// new epoch over the same window as a bound one of the program; the store marks the old one
// superseded and cancels its never-claimed parts in the publishing transaction, and the new
// epoch binds without parts (state awaiting_basis) until `corrections.ts` fixes its basis.

import type { Logger } from 'pino';
import { type ComputeResult, type DocLimits, type Prepared, actorCount } from '../compute/protocol.js';
import type { Signer } from '../attest/signer.js';
import { type IntentPart, withAttestation } from '../core/intents.js';
import { canonicalBytes } from '../core/jcs.js';
import { type ManifestHead, headFromManifest } from '../core/manifest.js';
import type { Deadline } from '../deadline.js';
import { retryAfterSec } from '../admission.js';
import { AppError } from '../errors.js';
import type { InputsCache } from '../inputs-cache.js';
import type { Metrics } from '../metrics.js';
import type { ComputePool } from '../pool.js';
import type { LedgerState, Settlement } from '../ledger/settlement.js';
import {
  type EpochRecord,
  type InitialState,
  type OutboxPart,
  type StoredPolicy,
  type Stores,
  type Window,
  alreadySuperseded,
  inputsBytes,
  inputsSize,
  readInputs,
  noSuchSuperseded,
  windowOverlap,
} from '../stores/types.js';
import { noSuchInputs, noSuchPolicy } from '../http/tenancy.js';
import { type CorrectionPreview, Corrections } from './corrections.js';

/** Who asks for a compute, and the program of the epoch (already checked against its token). */
export interface Caller {
  tenant: string;
  program: string;
}

export interface ComputeRequest {
  inputs_cid: string;
  policy_id: string;
  policy_hash: string;
  dry_run?: boolean | undefined;
  deadline_ms?: number | undefined;
  notes?: string | undefined;
  /** SPEC §13: the bound epoch this one supersedes (the route has checked scope rewarder.correct). */
  supersedes?: string | undefined;
}

export interface ComputeOutcome {
  status: 200 | 202;
  body: Uint8Array;
  replayed: boolean;
  /** Server-Timing entries (ms), kept out of the body so replays stay byte-identical. */
  timing: Record<string, number>;
}

export interface EpochDeps {
  stores: Stores;
  pool: ComputePool;
  cache: InputsCache;
  metrics: Metrics;
  limits: () => DocLimits;
  /** Longest expected queue wait a compute is admitted with (QUEUE_WAIT_MAX_MS); beyond: 503 queue_wait. */
  queueWaitMaxMs?: () => number;
  /** null without LEDGER_URL: runs end at a published manifest (ledger state `none`). */
  settlement: Settlement | null;
  /** null while signing is off: runs publish without an attestation. */
  signer?: Signer | null;
  logger?: Logger;
  /** The program's `max_pool_minor` (PROGRAMS_FILE), or null for no budget. */
  budget?: (program: string) => bigint | null;
  /** Epoch milliseconds, for `bound_at`. */
  now?: () => number;
  /** The program's `hold_ms` (PROGRAMS_FILE, SPEC §13), 0 for none. */
  holdMs?: (program: string) => number;
}

/** What an answer says beyond the manifest head and the ledger state (SPEC §13). */
interface AnswerExtra {
  holdUntil?: number | undefined;
  supersedes?: string | null | undefined;
  correction?: CorrectionPreview | undefined;
}

function extraOf(rec: EpochRecord): AnswerExtra {
  return { holdUntil: rec.holdUntil, supersedes: rec.supersedes };
}

/** What a task will do: decode `decodeBytes` (0 when the inputs are cached), then run over `actors`. */
interface Work {
  actors: number;
  decodeBytes: number;
}

/**
 * Learned cost of a task, to refuse work that cannot finish in the time left. A run (policy,
 * calculus, manifest) grows with the inputs' actors and a decode with their bytes; both rates are
 * learned apart, each only from tasks big enough to measure: dividing a small task's fixed
 * overhead by its size would price an M document at tens of seconds and refuse it. The starting
 * rates are below what this machine measures, so the model is never too strict before it learns.
 */
const MIN_LEARN_BYTES = 64 * 1024;
const MIN_LEARN_ACTORS = 1000;

class CostModel {
  private nsPerByte = 15; // decode: ~65 MB/s (the columnar path measures more)
  private nsPerActor = 500; // run: ~0.8 µs per actor measured at M
  /** Mean compute time of recent tasks: the price of a task ahead while no drain is measured. */
  private taskMs = 5;

  /** The task's own compute time (no queue wait). */
  ownMs(work: Work): number {
    return 0.5 + (work.actors * this.nsPerActor + work.decodeBytes * this.nsPerByte) / 1e6;
  }

  /**
   * Expected wait for `ahead` tasks: over the measured drain rate of the pool when there is one,
   * else over the learned compute time per thread. Never from observed queue waits, which grow
   * with load and, multiplied by the queue depth, priced every task out (congestive collapse).
   */
  waitMs(ahead: number, drainPerSec: number | null, threads: number): number {
    if (ahead === 0) return 0;
    if (drainPerSec !== null && drainPerSec > 0) return (ahead * 1000) / drainPerSec;
    return (ahead * this.taskMs) / Math.max(1, threads);
  }

  /** Times measured inside the worker: `decodeMs` when it decoded the inputs, else null; `computeMs` the whole task. */
  observe(work: Work, decodeMs: number | null, computeMs: number): void {
    const runMs = Math.max(0, computeMs - (decodeMs ?? 0));
    this.taskMs = 0.8 * this.taskMs + 0.2 * computeMs;
    if (work.actors >= MIN_LEARN_ACTORS) this.nsPerActor = 0.8 * this.nsPerActor + 0.2 * ((runMs * 1e6) / work.actors);
    if (decodeMs !== null && work.decodeBytes >= MIN_LEARN_BYTES) {
      this.nsPerByte = 0.8 * this.nsPerByte + 0.2 * ((decodeMs * 1e6) / work.decodeBytes);
    }
  }
}

export class EpochService {
  private readonly inflight = new Map<string, Promise<unknown>>();
  /** Heads of published runs, so replays skip parsing the manifest. */
  private readonly heads = new Map<string, ManifestHead>();
  /** Answers whose ledger state can no longer change (none, accepted, failed). */
  private readonly settled = new Map<string, ComputeOutcome>();
  private readonly cost = new CostModel();
  /**
   * `tenant|kind|id` known to be owned. A yes is kept: only retention takes ownership away (with
   * the bytes), and a run then meets the missing document when it reads it.
   */
  private readonly owned = new Map<string, true>();
  /** Recomputations of evicted manifests in progress, by epoch (concurrent readers share one). */
  private readonly recomputing = new Map<string, Promise<Uint8Array>>();
  /** SPEC §13: fixing superseding epochs' bases (also run by the drainer on every tick). */
  readonly corrections: Corrections;

  constructor(private readonly deps: EpochDeps) {
    this.corrections = new Corrections({
      stores: deps.stores,
      signer: deps.signer ?? null,
      manifestOf: (rec) => this.manifestOf(rec, AbortSignal.timeout(120_000), rec.tenant),
      ledger: deps.settlement !== null,
      degraded: () => deps.settlement?.degraded ?? false,
      ...(deps.logger === undefined ? {} : { logger: deps.logger }),
    });
  }

  /**
   * The stored answer to `req` when memory alone decides it is a replay: `tenant` is known to own
   * both documents it names, and the epoch's answer is settled (its ledger state can no longer
   * change) and bound to this exact triple. Undefined otherwise; compute() then decides with the
   * store. compute() takes this path first, and the replay shortcut (http/replay-shortcut.ts) takes
   * it before the app, so both apply one rule. The caller counts the replay (runs_total) once it
   * answers with it.
   */
  settledReplay(epochId: string, req: ComputeRequest, tenant: string): ComputeOutcome | undefined {
    // A request naming `supersedes` is decided by the full path (its scope, and whether it names
    // the epoch the binding superseded: SPEC §13), never by a memo of the triple alone.
    if (req.supersedes !== undefined) return undefined;
    const settled = this.settled.get(epochId);
    if (settled === undefined || !this.sameTriple(epochId, req)) return undefined;
    if (!this.owned.has(ownedKey(tenant, 'policy', req.policy_hash)) || !this.owned.has(ownedKey(tenant, 'inputs', req.inputs_cid))) return undefined;
    return settled;
  }

  /** `clientSignal` makes the client's disconnect signal on first use: a replay never needs one. */
  async compute(epochId: string, req: ComputeRequest, deadline: Deadline, clientSignal: () => AbortSignal, corrId: string, caller: Caller): Promise<ComputeOutcome> {
    // Known owner, settled answer, same triple: no store read, no await.
    const known = this.settledReplay(epochId, req, caller.tenant);
    if (known !== undefined) {
      this.deps.metrics.runs.inc({ status: 'replayed' });
      return known;
    }
    // A tenant computes only with documents it sealed itself, replays included; except on an epoch
    // it bound itself, whose documents retention may have evicted since: it gets its replay or 409.
    const missing = await this.missingDocument(caller.tenant, req);
    if (missing !== null) {
      const bound = await this.deps.stores.getEpoch(epochId);
      if (bound === null || bound.tenant !== caller.tenant) throw missing;
    }
    // Dry runs never bind, so they share work only with identical dry runs.
    const key = req.dry_run ? `dry|${epochId}|${req.inputs_cid}|${req.policy_hash}|${req.supersedes ?? ''}` : epochId;
    for (;;) {
      const settled = this.settled.get(epochId);
      if (settled !== undefined && req.supersedes === undefined && this.sameTriple(epochId, req)) {
        this.deps.metrics.runs.inc({ status: 'replayed' });
        return settled;
      }
      const bound = await this.deps.stores.getEpoch(epochId);
      if (bound !== null) return this.replayOrConflict(bound, req, caller);
      const running = this.inflight.get(key);
      if (running === undefined) break;
      // Someone is computing this epoch: share their work, then look again (replay or 409).
      await waitWithin(running, deadline, clientSignal());
      if (req.dry_run) return (await running) as ComputeOutcome;
    }
    const work = this.run(epochId, req, deadline, clientSignal(), corrId, caller);
    this.inflight.set(key, work);
    try {
      return await work;
    } finally {
      this.inflight.delete(key);
    }
  }

  /**
   * Throws 503 queue_wait (Retry-After from the drain rate) when a new task of `tenant` would wait
   * longer than QUEUE_WAIT_MAX_MS, or than the deadline's `remainingMs` leaves after the task's own
   * compute time `ownMs`. Cheap (no await, no allocation when it passes): the compute route
   * calls it before reading the body too, so a request that cannot be admitted is refused before
   * its body is read and parsed.
   */
  refuseLongWait(tenant: string, remainingMs?: number, ownMs = 0): void {
    const w = this.deps.pool.expectedWait(tenant);
    if (w.ahead === 0) return;
    const waitMs = w.ms ?? this.cost.waitMs(w.ahead, null, w.threads);
    if ((remainingMs === undefined || waitMs + ownMs <= remainingMs) && waitMs <= (this.deps.queueWaitMaxMs?.() ?? Number.POSITIVE_INFINITY)) return;
    this.deps.metrics.rejected.inc({ reason: 'queue_wait' });
    const after = retryAfterSec(w.ahead, w.drainPerSec, w.threads);
    throw new AppError(
      'OVERLOADED',
      'the compute queue is too long for this deadline; retry later or with a longer deadline',
      {
        reason: 'queue_wait',
        expected_wait_ms: Math.ceil(waitMs),
        ...(remainingMs === undefined ? {} : { deadline_remaining_ms: Math.max(0, Math.floor(remainingMs)) }),
        retry_after_sec: after,
      },
      { 'Retry-After': String(after) },
    );
  }

  /** Whether this replica knows `epochId` as published (a compute for it is a replay or a 409, no task). */
  knownPublished(epochId: string): boolean {
    return this.heads.has(epochId) || this.settled.has(epochId);
  }

  /** The 404 for the first of the request's documents the tenant has not sealed, or null. */
  private async missingDocument(tenant: string, req: ComputeRequest): Promise<AppError | null> {
    if (!(await this.owns(tenant, 'policy', req.policy_hash))) return noSuchPolicy();
    if (!(await this.owns(tenant, 'inputs', req.inputs_cid))) return noSuchInputs();
    return null;
  }

  private async owns(tenant: string, kind: 'inputs' | 'policy', id: string): Promise<boolean> {
    const key = ownedKey(tenant, kind, id);
    if (this.owned.has(key)) return true;
    const yes = await this.deps.stores.owns(kind, id, tenant);
    if (yes) remember(this.owned, key, true, 100_000);
    return yes;
  }

  private async run(epochId: string, req: ComputeRequest, deadline: Deadline, signal: AbortSignal, corrId: string, caller: Caller): Promise<ComputeOutcome> {
    const { stores, pool, cache, metrics } = this.deps;
    const t0 = performance.now();
    const [policy, cached] = [await stores.getPolicy(req.policy_hash, caller.tenant), cache.get(req.inputs_cid)];
    if (policy === null) throw noSuchPolicy();
    if (policy.id !== req.policy_id) {
      throw new AppError('POLICY_MISMATCH', 'policy_id does not match the stored policy', {
        reason: 'policy_id_mismatch',
        stored_policy_id: policy.id,
      });
    }
    let inputs: Prepared | Uint8Array;
    let work: Work;
    let poolMinor: bigint | null;
    let storedWindow: Window | null = null;
    if (cached !== undefined) {
      inputs = cached;
      work = { actors: actorCount(cached), decodeBytes: 0 };
      poolMinor = cached.tally.poolMinor;
    } else {
      const stored = await stores.getInputs(req.inputs_cid, caller.tenant);
      const bytes = stored === null ? null : await inputsBytes(stored);
      if (stored === null || bytes === null) throw noSuchInputs();
      inputs = bytes;
      work = { actors: stored.actors, decodeBytes: inputsSize(stored) };
      poolMinor = stored.poolMinor === null ? null : BigInt(stored.poolMinor);
      storedWindow = stored.window;
    }
    const knownWindow = cached !== undefined ? cached.tally.window : storedWindow;
    // SPEC §13: the epoch superseded must be bound in this program, not superseded yet, and cover
    // the same window (checked again on the run's own window below, and atomically by publish).
    const old = req.supersedes === undefined ? null : await this.supersedable(req.supersedes, epochId, caller);
    if (old !== null && knownWindow !== null) sameWindow(old, knownWindow);
    if (!req.dry_run) {
      // A window already paid in the program: refused now rather than after the run (publish still
      // decides, atomically, for binds racing this one).
      const clash = knownWindow === null ? null : await stores.overlapping(caller.program, knownWindow);
      if (clash !== null && clash !== epochId && clash !== old?.epochId) {
        metrics.runs.inc({ status: 'window_overlap' });
        throw windowOverlap(clash);
      }
    }
    // Budget before any work, from what was recorded at sealing (a document sealed before that was
    // recorded is checked on the run's own P, still before anything is published).
    const budget = this.deps.budget?.(caller.program) ?? null;
    if (budget !== null && poolMinor !== null) this.withinBudget(effectivePool(poolMinor, policy.bytes), budget, caller.program);
    // 504 only when the task's own compute time cannot fit the client's deadline; a wait that
    // does not fit is the service being busy: 503 with Retry-After from the drain rate.
    const own = this.cost.ownMs(work);
    if (deadline.remaining() < own) {
      metrics.rejected.inc({ reason: 'deadline_estimate' });
      metrics.deadlineEnforced.inc({ stage: 'estimate' });
      throw deadline.exceeded('estimate');
    }
    this.refuseLongWait(caller.tenant, deadline.remaining(), own);
    metrics.deadlineRemaining.observe(Math.max(0, deadline.remaining()) / 1000);

    const t1 = performance.now();
    const result = await pool.compute(
      {
        op: 'compute',
        epochId,
        inputsCid: req.inputs_cid,
        policyHash: req.policy_hash,
        policy: policy.bytes,
        inputs,
        limits: this.deps.limits(),
        ledger: this.deps.settlement !== null && !req.dry_run,
      },
      AbortSignal.any([signal, deadline.signal()]),
      caller.tenant,
      own,
    );
    const t2 = performance.now();
    metrics.computeLatency.observe((t2 - t1) / 1000);
    const ok = this.accept(result, req);
    this.cost.observe(work, ok.decoded !== null ? ok.ms.decode : null, ok.ms.decode + ok.ms.calculus + ok.ms.manifest);
    if (ok.decoded !== null) cache.set(req.inputs_cid, ok.decoded);
    if (budget !== null) this.withinBudget(BigInt(ok.head.totals.pool_minor), budget, caller.program);

    const timing = { load: t1 - t0, queue_and_compute: t2 - t1, decode: ok.ms.decode, calculus: ok.ms.calculus, manifest: ok.ms.manifest };
    if (old !== null) sameWindow(old, { startMs: ok.head.window.start_ms, endMs: ok.head.window.end_ms });
    if (req.dry_run) {
      metrics.runs.inc({ status: 'dry_run' });
      // With supersedes: the correction on the basis acknowledged now, nothing bound or cancelled.
      const correction = old === null ? undefined : await this.corrections.preview(ok.manifest, old);
      return { status: 200, body: answerBody(ok.head, true, 'none', { supersedes: old?.epochId, correction }), replayed: false, timing };
    }
    const boundAt = (this.deps.now ?? Date.now)();
    const holdMs = this.deps.holdMs?.(caller.program) ?? 0;
    const record: EpochRecord = {
      epochId,
      inputsCid: req.inputs_cid,
      policyHash: req.policy_hash,
      policyId: policy.id,
      runKey: ok.head.run_key,
      commitment: ok.head.commitment,
      manifest: ok.manifest,
      attestation: null,
      program: caller.program,
      window: { startMs: ok.head.window.start_ms, endMs: ok.head.window.end_ms },
      tenant: caller.tenant,
      corrId,
      boundAt,
      payees: ok.head.counts.payees,
      payoutMinor: ok.head.totals.payout_minor,
      holdUntil: holdMs > 0 ? boundAt + holdMs : 0,
      supersedes: old?.epochId ?? null,
      supersededBy: null,
      basis: old === null ? null : 'awaiting',
    };
    // Signed on the signing thread while the compute worker already runs the next task.
    const attestation = this.deps.signer ? await this.deps.signer.sign(ok.head.commitment) : undefined;
    if (attestation !== undefined) record.attestation = canonicalBytes(attestation);
    const settlement = this.deps.settlement;
    const parts = ok.parts.map((p) => outboxPart(attestation === undefined ? p : withAttestation(p, attestation), epochId, ok.head.run_key));
    // A superseding epoch's parts wait for its basis; a held program's for the hold's end; else
    // pending parts are published leased to this replica, which emits them right below.
    const initial: InitialState = old !== null ? 'awaiting_basis' : holdMs > 0 ? 'on_hold' : settlement?.degraded ? 'held' : 'pending';
    let published;
    try {
      // A superseding epoch binds without parts: what it sends is known once its basis is fixed.
      published = await stores.publish(record, old !== null ? [] : parts, initial, initial === 'pending' ? settlement?.publishLease() : undefined);
    } catch (e) {
      if (e instanceof AppError && e.code === 'WINDOW_OVERLAP') metrics.runs.inc({ status: 'window_overlap' });
      throw e;
    }
    if (!published.created) return this.replayOrConflict(published.record, req, caller);
    remember(this.heads, epochId, ok.head);
    metrics.runs.inc({ status: old === null ? 'published' : 'superseded' });
    const t3 = performance.now();
    let state: LedgerState = 'none';
    let toEmit: readonly OutboxPart[] = initial === 'pending' || initial === 'held' ? parts : [];
    let emitState: 'pending' | 'held' | 'on_hold' = initial === 'held' ? 'held' : 'pending';
    if (old !== null) {
      // The basis is fixed now when nothing of the superseded chain can still be acknowledged
      // (e.g. superseded within its hold: every part cancelled), else by the drainer later.
      let fixed: OutboxPart[] | null = null;
      try {
        fixed = await this.corrections.resolve(epochId);
      } catch (e) {
        // Published and safe: the drainer tries again on its next tick.
        this.deps.logger?.error({ err: e, epoch_id: epochId }, 'fixing the correction basis failed; the drainer will retry');
      }
      toEmit = fixed ?? [];
      emitState = holdMs > 0 ? 'on_hold' : settlement?.degraded ? 'held' : 'pending';
      if (fixed === null) state = 'awaiting_basis';
    } else if (initial === 'on_hold') {
      state = parts.length > 0 ? 'on_hold' : 'none';
    }
    if (settlement !== null && toEmit.length > 0 && emitState === 'pending') {
      const emitted = await settlement.emitRun(toEmit, corrId, deadline.atMs);
      if (emitted === 'deadline') {
        // Published and safe: the parts stay pending for the drainer. The client can read the
        // epoch (and its ledger state) later with the run_key.
        metrics.deadlineEnforced.inc({ stage: 'ledger' });
        const e = deadline.exceeded('ledger');
        throw new AppError('DEADLINE_EXCEEDED', 'the run is published; its ledger intent will be emitted later', {
          ...e.details,
          run_key: ok.head.run_key,
        }, e.headers as Record<string, string>);
      }
      state = emitted;
    } else if (initial === 'held') {
      state = parts.length > 0 ? 'held' : 'none';
    } else if (old !== null && state !== 'awaiting_basis' && settlement !== null) {
      state = await settlement.stateOf(epochId);
    }
    return this.outcome(ok.head, state, false, { ...timing, publish: t3 - t2, ledger: performance.now() - t3 }, extraOf(record));
  }

  /**
   * The epoch `old` a compute of `epochId` may supersede: bound in the caller's program (else the
   * missing-epoch 404, whichever program has it) and not superseded yet (409 ALREADY_SUPERSEDED).
   */
  private async supersedable(oldId: string, epochId: string, caller: Caller): Promise<EpochRecord> {
    const old = oldId === epochId ? null : await this.deps.stores.getEpoch(oldId);
    if (old === null || old.program !== caller.program) throw noSuchSuperseded(oldId);
    const by = old.supersededBy ?? null;
    if (by !== null) {
      this.deps.metrics.runs.inc({ status: 'already_superseded' });
      throw alreadySuperseded(oldId, by);
    }
    return old;
  }

  /** 202 while the intent waits (held, pending, on hold, awaiting its basis): it will be emitted without any client call. */
  private outcome(head: ManifestHead, state: LedgerState, replayed: boolean, timing: Record<string, number>, extra: AnswerExtra = {}): ComputeOutcome {
    const waiting = state === 'held' || state === 'pending' || state === 'on_hold' || state === 'awaiting_basis';
    const out: ComputeOutcome = { status: waiting ? 202 : 200, body: answerBody(head, false, state, extra), replayed, timing };
    if (!waiting) remember(this.settled, head.epoch_id, { ...out, replayed: true, timing: {} });
    return out;
  }

  /**
   * The manifest bytes of a published run. Evicted under the store's retention budget, it is
   * recomputed from its documents (byte-identical: the calculus is deterministic, and the
   * commitment is checked) while they are held; else 410 Gone.
   */
  async manifestOf(rec: EpochRecord, signal: AbortSignal, tenant = 'anonymous'): Promise<Uint8Array> {
    if (rec.evicted !== true) return rec.manifest;
    let work = this.recomputing.get(rec.epochId);
    if (work === undefined) {
      work = this.recompute(rec, signal, tenant);
      this.recomputing.set(rec.epochId, work);
      const forget = (): void => void this.recomputing.delete(rec.epochId);
      work.then(forget, forget);
    }
    return work;
  }

  private async recompute(rec: EpochRecord, signal: AbortSignal, tenant: string): Promise<Uint8Array> {
    const { stores, cache, pool } = this.deps;
    const { policy, inputs } = await boundDocuments(stores, cache, rec);
    const r = await pool.compute(
      { op: 'compute', epochId: rec.epochId, inputsCid: rec.inputsCid, policyHash: rec.policyHash, policy: policy.bytes, inputs, limits: this.deps.limits(), ledger: false },
      signal,
      tenant,
    );
    if (!r.ok || r.head.commitment !== rec.commitment) {
      // Determinism broken or documents changed under a CID: never serve a different manifest.
      this.deps.logger?.error({ epoch_id: rec.epochId, commitment: rec.commitment, got: r.ok ? r.head.commitment : r.kind }, 'recomputed manifest differs from the published one');
      throw new AppError('INTERNAL', 'internal error', { reason: 'internal' });
    }
    return r.manifest;
  }

  private sameTriple(epochId: string, req: ComputeRequest): boolean {
    const h = this.heads.get(epochId);
    return h !== undefined && h.inputs_cid === req.inputs_cid && h.policy.hash === req.policy_hash && h.policy.id === req.policy_id;
  }

  private accept(result: ComputeResult, req: ComputeRequest): Extract<ComputeResult, { ok: true }> {
    if (result.ok) return result;
    const { metrics } = this.deps;
    if (result.kind === 'quarantined') {
      // An invariant breach is a bug or an attack on the calculus: leave operators a trail.
      this.deps.logger?.error(
        { alert: 'RewardInvariantFailure', inputs_cid: req.inputs_cid, policy_hash: req.policy_hash, breaches: result.breaches },
        'run quarantined: an invariant of the calculus failed; nothing was published',
      );
      metrics.invariantFail.inc();
      metrics.runs.inc({ status: 'quarantined' });
      throw new AppError('QUARANTINED', 'an invariant of the calculus failed; nothing was published', {
        reason: 'invariant_breach',
        invariants: result.breaches.map((b) => b.invariant),
      });
    }
    // Sealed documents were valid when stored; they can fail now only if limits were lowered.
    metrics.runs.inc({ status: 'invalid' });
    throw new AppError('BAD_REQUEST', `stored ${result.kind} no longer pass the configured limits`, {
      reason: `${result.kind}_invalid`,
      path: result.error.path,
      problem: result.error.reason,
      [result.kind === 'inputs' ? 'inputs_cid' : 'policy_hash']: result.kind === 'inputs' ? req.inputs_cid : req.policy_hash,
    });
  }

  private withinBudget(pool: bigint, budget: bigint, program: string): void {
    if (pool <= budget) return;
    this.deps.metrics.runs.inc({ status: 'over_budget' });
    throw new AppError('POOL_OVER_BUDGET', `the pool exceeds the budget of program ${program}`, {
      reason: 'pool_over_budget',
      program,
      pool_minor: pool.toString(),
      max_pool_minor: budget.toString(),
    });
  }

  private async replayOrConflict(bound: EpochRecord, req: ComputeRequest, caller: Caller): Promise<ComputeOutcome> {
    // A repeat naming no `supersedes` reads a superseding epoch's answer like any replay; one
    // naming another epoch than the binding did is a different request.
    const differs = [
      ...(bound.inputsCid !== req.inputs_cid ? ['inputs_cid'] : []),
      ...(bound.policyHash !== req.policy_hash ? ['policy_hash'] : []),
      ...(req.supersedes !== undefined && req.supersedes !== (bound.supersedes ?? null) ? ['supersedes'] : []),
    ];
    if (differs.length > 0) {
      this.deps.metrics.runs.inc({ status: 'conflict' });
      // The bound CIDs only to the tenant that bound them: no answer carries another's CIDs.
      throw new AppError('CONFLICT', `epoch ${bound.epochId} is bound to a different ${differs.join(' and ')}`, {
        reason: 'epoch_bound',
        differs,
        ...(bound.tenant === caller.tenant ? { bound: { inputs_cid: bound.inputsCid, policy_hash: bound.policyHash } } : {}),
      });
    }
    if (bound.policyId !== req.policy_id) {
      throw new AppError('POLICY_MISMATCH', 'policy_id does not match the stored policy', {
        reason: 'policy_id_mismatch',
        stored_policy_id: bound.policyId,
      });
    }
    let head = this.heads.get(bound.epochId);
    if (head === undefined) {
      head = headFromManifest(await this.manifestOf(bound, AbortSignal.timeout(120_000)));
      remember(this.heads, bound.epochId, head);
    }
    this.deps.metrics.runs.inc({ status: 'replayed' });
    const awaiting = bound.basis === 'awaiting' && (bound.supersededBy ?? null) === null;
    const state = this.deps.settlement === null ? (awaiting ? 'awaiting_basis' : 'none') : await this.deps.settlement.stateOf(bound.epochId, awaiting);
    return this.outcome(head, state, true, {}, extraOf(bound));
  }

}

/** SPEC §4.3's P: the pool, capped by the policy's `pool_cap_minor` (a sealed, valid policy). */
function effectivePool(poolMinor: bigint, policyBytes: Uint8Array): bigint {
  const cap = (JSON.parse(new TextDecoder().decode(policyBytes)) as { pool_cap_minor?: string }).pool_cap_minor;
  return cap === undefined ? poolMinor : poolMinor < BigInt(cap) ? poolMinor : BigInt(cap);
}

/** SPEC §13: a superseding epoch's inputs window must be the superseded one's. */
function sameWindow(old: EpochRecord, window: Window): void {
  if (old.window.startMs === window.startMs && old.window.endMs === window.endMs) return;
  throw new AppError('WINDOW_MISMATCH', `the inputs window differs from that of epoch ${old.epochId}, which this epoch would supersede`, {
    reason: 'window_mismatch',
    epoch_id: old.epochId,
    window: { start_ms: old.window.startMs, end_ms: old.window.endMs },
  });
}

/** RFC 3339 UTC with milliseconds. */
function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}

/** The compute response: a deterministic function of the run and its ledger state. */
function answerBody(head: ManifestHead, dryRun: boolean, state: LedgerState, extra: AnswerExtra = {}): Uint8Array {
  return canonicalBytes({
    ...(extra.holdUntil !== undefined && extra.holdUntil > 0 ? { hold_until: rfc3339(extra.holdUntil) } : {}),
    ...(extra.supersedes !== undefined && extra.supersedes !== null ? { supersedes: extra.supersedes } : {}),
    ...(extra.correction !== undefined ? { correction: extra.correction } : {}),
    epoch_id: head.epoch_id,
    run_key: head.run_key,
    inputs_cid: head.inputs_cid,
    policy: head.policy,
    window: head.window,
    counts: head.counts,
    totals: head.totals,
    payouts_root: head.payouts_root,
    commitment: head.commitment,
    dry_run: dryRun,
    ledger: { state },
    quarantine: state === 'held',
  });
}

/** Bounded memo: the oldest entries go first (they are only a shortcut to the store). */
function ownedKey(tenant: string, kind: 'inputs' | 'policy', id: string): string {
  return `${tenant}|${kind}|${id}`;
}

function remember<V>(map: Map<string, V>, key: string, value: V, max = 10_000): void {
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value as string);
}

function outboxPart(p: IntentPart, epochId: string, runKey: string): OutboxPart {
  return { partId: p.partId, epochId, runKey, index: p.index, count: p.count, body: p.body };
}

/** Waits for another request's work without outliving our own deadline or client. */
async function waitWithin(work: Promise<unknown>, deadline: Deadline, signal: AbortSignal): Promise<void> {
  const stop = AbortSignal.any([signal, deadline.signal('waiting')]);
  if (stop.aborted) throw stop.reason;
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(stop.reason);
    stop.addEventListener('abort', onAbort, { once: true });
    work.then(
      () => {
        stop.removeEventListener('abort', onAbort);
        resolve();
      },
      () => {
        stop.removeEventListener('abort', onAbort);
        resolve();
      },
    );
  });
}

/**
 * The documents a bound run was computed from, as its binder sealed them (it could not have bound
 * the epoch otherwise), the inputs from the cache when there; 410 GONE naming what retention evicted.
 */
export async function boundDocuments(stores: Stores, cache: InputsCache, rec: EpochRecord): Promise<{ policy: StoredPolicy; inputs: Uint8Array | Prepared }> {
  const policy = await stores.getPolicy(rec.policyHash, rec.tenant);
  const inputs = cache.get(rec.inputsCid) ?? (await readInputs(stores, rec.inputsCid, rec.tenant));
  if (policy === null || inputs === null) {
    throw new AppError('GONE', 'the run was evicted under the retention budget and its documents are no longer held', {
      reason: 'evicted',
      run_key: rec.runKey,
      commitment: rec.commitment,
      inputs_cid: rec.inputsCid,
      policy_hash: rec.policyHash,
      missing: [...(inputs === null ? ['inputs'] : []), ...(policy === null ? ['policy'] : [])],
    });
  }
  return { policy, inputs };
}

// Settlement: moves outbox parts to the ledger exactly once per part, whatever fails in between.
//
// - A compute request emits its own run's parts while it waits (`emitRun`), within its deadline.
// - When egress degrades (EgressHealth), the service enters quarantine-only mode: new runs are
//   published with their parts `held`, and pending parts are held too.
// - The drainer runs on every replica: while degraded it probes the ledger (with the oldest held
//   part when there is one); once healthy for the recovery window it leaves the mode and drains
//   every held part in order. When healthy it also picks up parts nobody is emitting (a request
//   that timed out, a replica that crashed mid-emission: their leases expire).
// Exactly-once rests on the ledger's dedupe by part_id and on parts' fixed bodies: a resend after
// an ambiguous answer is a `dup`, never a second credit.

import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';
import { FINAL_STATES, type OutboxPart, type PartState, type PublishLease, type Stores } from '../stores/types.js';
import type { LedgerClient, SendResult } from './client.js';
import type { EgressHealth } from './health.js';

export type LedgerState = 'none' | 'pending' | 'held' | 'on_hold' | 'awaiting_basis' | 'accepted' | 'failed' | 'cancelled';

export interface SettlementOptions {
  stores: Stores;
  client: LedgerClient;
  health: EgressHealth;
  metrics: Metrics;
  logger: Logger;
  /** This replica's lease owner id. */
  owner: string;
  leaseMs: number;
  probeIntervalMs: number;
  batch?: number;
}

export class Settlement {
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private stopped = false;
  /**
   * Run at the start of every drainer tick (SPEC §13: fixing the basis of superseding epochs whose
   * superseded chain is now answered, so their parts join the outbox). Set by the composition root.
   */
  beforeDrain: (() => Promise<void>) | null = null;

  constructor(private readonly o: SettlementOptions) {}

  /** This replica's lease owner id. */
  get owner(): string {
    return this.o.owner;
  }

  get degraded(): boolean {
    return this.o.health.degraded;
  }

  /**
   * The lease a request publishes its run's parts under (Stores.publish): held by this replica
   * from the commit on, so no drainer (here or on another replica) takes a part the request is
   * about to emit itself, which would answer 202 for a run the ledger is about to accept.
   */
  publishLease(): PublishLease {
    return { owner: this.o.owner, ms: this.o.leaseMs };
  }

  /**
   * Emits a freshly published run's parts in order. Returns the run's resulting state, or
   * 'deadline' when the request's deadline passed first (the parts stay for the drainer).
   */
  async emitRun(parts: readonly OutboxPart[], corrId: string, deadlineAt: number): Promise<LedgerState | 'deadline'> {
    const { stores, owner, leaseMs } = this.o;
    const epochId = parts[0]?.epochId;
    if (epochId === undefined) return 'none';
    const mine = await stores.claimPartsById(owner, parts.map((p) => p.partId), leaseMs);
    let deadlineHit = false;
    for (const part of mine) {
      if (this.degraded) {
        await stores.settlePart(part.partId, owner, 'held', 0, 'held: ledger degraded');
      } else if (Date.now() >= deadlineAt) {
        deadlineHit = true;
        await stores.settlePart(part.partId, owner, 'pending', 0, 'request deadline passed before emission');
      } else {
        const r = await this.o.client.send(part, corrId, deadlineAt);
        if (r.result === 'deadline') deadlineHit = true;
        await this.settle(part, r);
      }
    }
    const state = await this.stateOf(epochId);
    return deadlineHit && state === 'pending' ? 'deadline' : state;
  }

  /** Records one send; an unknown outcome degrades egress and holds the part. */
  private async settle(part: OutboxPart, r: SendResult): Promise<PartState> {
    const { stores, owner, metrics, logger } = this.o;
    if (r.result === 'deadline') {
      // Not the ledger's fault: the part goes back to pending for the drainer.
      await stores.settlePart(part.partId, owner, 'pending', r.attempts, r.error);
      return 'pending';
    }
    metrics.ledgerIntents.inc({ result: r.result === 'unknown' || r.result === 'failed' ? 'error' : r.result });
    if (r.result === 'accepted' || r.result === 'dup') {
      metrics.ledgerLatency.observe(r.latencyMs / 1000);
      await stores.settlePart(part.partId, owner, r.result, r.attempts, null);
      return r.result;
    }
    metrics.ledgerErrors.inc();
    if (r.result === 'conflict') {
      // A different body under the same part_id: a bug or an attack. Never retried; page someone.
      metrics.ledgerConflicts.inc();
      logger.error({ alert: 'LedgerIntentConflict', part_id: part.partId, epoch_id: part.epochId }, 'ledger reports a conflicting intent');
      await stores.settlePart(part.partId, owner, 'conflict', r.attempts, r.error);
      return 'failed';
    }
    if (r.result === 'failed') {
      logger.error({ part_id: part.partId, epoch_id: part.epochId, error: r.error }, 'ledger refused an intent permanently');
      await stores.settlePart(part.partId, owner, 'failed', r.attempts, r.error);
      return 'failed';
    }
    this.o.health.exhausted();
    await stores.settlePart(part.partId, owner, 'held', r.attempts, 'error' in r ? r.error : null);
    return 'held';
  }

  /** The run's ledger state from its parts (none when it has none); `awaiting`: its basis is not fixed yet. */
  async stateOf(epochId: string, awaiting = false): Promise<LedgerState> {
    if (awaiting) return 'awaiting_basis';
    const parts = await this.o.stores.partsOf(epochId);
    return summarise(parts.map((p) => p.state));
  }

  /** Entering quarantine-only mode: hold what is pending so nothing is emitted behind its back. */
  async enterQuarantine(): Promise<void> {
    const n = await this.o.stores.holdPending();
    this.o.logger.warn({ held: n }, 'LedgerEgressDegraded: quarantine-only mode, intents are held');
  }

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.draining = this.drainOnce()
        .catch((e: unknown) => this.o.logger.error({ err: e }, 'drainer tick failed'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.o.probeIntervalMs);
        });
    };
    this.timer = setTimeout(tick, this.o.probeIntervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.draining;
  }

  /** One drainer step: a probe while degraded, else a drain of held and orphaned parts. */
  async drainOnce(): Promise<void> {
    const { stores, owner, leaseMs } = this.o;
    if (this.beforeDrain !== null) await this.beforeDrain().catch((e: unknown) => this.o.logger.error({ err: e }, 'fixing correction bases failed'));
    if (this.degraded) {
      const [probe] = await stores.claimParts(owner, 1, leaseMs, ['held', 'pending']);
      if (probe === undefined) {
        this.o.health.observe(await this.o.client.probe());
        return;
      }
      await this.settleProbe(probe);
      return;
    }
    const batch = this.o.batch ?? 64;
    for (;;) {
      if (this.stopped || this.degraded) return;
      const parts = await stores.claimParts(owner, batch, leaseMs, ['held', 'pending']);
      if (parts.length === 0) return;
      for (const part of parts) {
        if (this.stopped || this.degraded) {
          await stores.settlePart(part.partId, owner, 'held', 0, 'held: ledger degraded');
          continue;
        }
        await this.settle(part, await this.o.client.send(part, `drain-${part.partId.slice(3, 15)}`));
      }
    }
  }

  private async settleProbe(part: OutboxPart): Promise<void> {
    const r = await this.o.client.send(part, `probe-${part.partId.slice(3, 15)}`);
    if (r.result === 'unknown') {
      await this.o.stores.settlePart(part.partId, this.o.owner, 'held', r.attempts, r.error);
      return;
    }
    await this.settle(part, r);
  }
}

/**
 * A run's state from its parts: `failed` over `held` over `awaiting_basis` over `on_hold` over
 * `pending`; once all are final, `cancelled` when none was ever sent (its epoch was superseded
 * first), else `accepted` (a superseded run's sent parts were acknowledged, the rest cancelled).
 */
export function summarise(states: readonly PartState[]): LedgerState {
  if (states.length === 0) return 'none';
  if (states.some((s) => s === 'conflict' || s === 'failed')) return 'failed';
  for (const s of ['held', 'awaiting_basis', 'on_hold'] as const) if (states.includes(s)) return s;
  if (states.some((s) => !FINAL_STATES.includes(s))) return 'pending';
  if (states.every((s) => s === 'cancelled')) return 'cancelled';
  return 'accepted';
}

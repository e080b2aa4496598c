// Who may wait for a compute worker, in which queue, and what is shed: a policy of its own,
// testable without threads. The pool (pool.ts) only runs what this hands it.
//
//   - Tenants' tasks wait in per-tenant FIFO queues served by start-time fair queueing weighted
//     by each task's estimated compute time (TenantQueues), so a flood from one tenant costs
//     another at most the task running when it arrives, not the flood's length, and a tenant of
//     big tasks gets fewer turns rather than more of the workers' time.
//   - A tenant over its share is refused with 429: with the queue full, any tenant holding more
//     than queueMax ÷ (tenants waiting) of it; at any time, one holding TENANT_QUEUE_MAX. A
//     tenant under its share that finds the queue full pushes out the newest task of the tenant
//     most over its share (that task is answered 429), so a flood that filled the queue before
//     anyone else came cannot keep others out. A full queue otherwise is 503. Both carry
//     Retry-After from the measured drain rate.
//   - The drain rate is measured (mean time per task over the last 32, pool.ts timeTask): while the workers
//     are kept busy, the interval between completions × threads; otherwise the task's time inside
//     the worker (src/compute/clock.ts). Timed from the edge (dispatch to the completion event),
//     every task also counted the edge's event-loop lag, which a storm of refusals multiplies: the
//     queue was then priced out and the worker idled. Not completions per second (which
//     only follows the arrival rate while the pool is not saturated, and after refusals would
//     price every task out: a collapse of its own), and never from how long tasks waited (queue
//     wait × queue depth counts the wait twice and refuses everything under load).

import { AppError } from './errors.js';

export type ShedReason = 'queue_full' | 'tenant_share';

/**
 * How fast a busy pool drains its queue: threads ÷ the mean time per task, over the last WINDOW
 * tasks. A window, not an exponential average: under CPU contention single samples spike (an
 * event loop descheduled for 100 ms sees one long interval, then a short one), and an EWMA that
 * jumps by a fifth of every spike refused clients the queue could serve.
 */
const WINDOW = 32;

export class DrainMeter {
  private readonly samples = new Float64Array(WINDOW);
  private n = 0;
  private sum = 0;

  constructor(private readonly threads: number) {}

  /** A task cost the queue `ms` (see pool.ts timeTask). */
  record(ms: number): void {
    const i = this.n % WINDOW;
    if (this.n >= WINDOW) this.sum -= this.samples[i] as number;
    this.samples[i] = ms;
    this.sum += ms;
    this.n++;
  }

  /** Tasks per second the pool finishes while busy, or null before any task finished. */
  perSecond(): number | null {
    const ms = this.taskMs();
    return ms === null ? null : (this.threads * 1000) / Math.max(0.01, ms);
  }

  /** Mean milliseconds per task over the window, or null before any task finished. */
  taskMs(): number | null {
    return this.n === 0 ? null : this.sum / Math.min(this.n, WINDOW);
  }
}

interface Tagged<T> {
  item: T;
  /** Virtual start tag: the tenant's previous finish tag, or the virtual time if it was idle. */
  start: number;
  cost: number;
  /** Arrival order, to break ties between equal tags. */
  seq: number;
}

/**
 * Per-tenant FIFO queues served by start-time fair queueing, weighted by each task's cost (its
 * estimated compute milliseconds): a task's start tag is its tenant's previous finish tag, or the
 * virtual time (the start tag of the task last handed out) if that tenant had nothing pending, and
 * the task with the smallest start tag goes next. A tenant that was idle therefore comes next
 * after the running task however long a flood's backlog is, tenants that keep queues share the
 * workers in proportion to cost (a tenant of big tasks gets fewer turns, not more time), and an idle
 * tenant banks no credit. With equal costs this is round robin, one task per tenant in turn.
 */
export class TenantQueues<T> {
  private readonly queues = new Map<string, Tagged<T>[]>();
  /** Finish tag of each tenant's newest task (kept while it may still be ahead of the virtual time). */
  private readonly finish = new Map<string, number>();
  private vtime = 0;
  private seq = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  get tenants(): number {
    return this.queues.size;
  }

  sizeOf(tenant: string): number {
    return this.queues.get(tenant)?.length ?? 0;
  }

  /** Start tag a new task of `tenant` would get now. */
  startOf(tenant: string): number {
    return Math.max(this.vtime, this.finish.get(tenant) ?? 0);
  }

  push(tenant: string, item: T, cost = 1): void {
    let q = this.queues.get(tenant);
    if (q === undefined) {
      q = [];
      this.queues.set(tenant, q);
    }
    const start = this.startOf(tenant);
    const c = Math.max(0, cost);
    q.push({ item, start, cost: c, seq: this.seq++ });
    this.finish.set(tenant, start + c);
    this.count++;
  }

  /**
   * Hands out the task with the smallest start tag. `busy(tenant)`: whether that tenant already
   * has a task running; while any tenant with nothing running waits, a busy tenant's task is
   * passed over (at most one running per tenant while others wait, when there are threads to spare).
   */
  shift(busy?: (tenant: string) => boolean): T | undefined {
    return this.shiftTagged(busy)?.item;
  }

  /**
   * shift(), with the task's start tag and cost (to requeue it in its place, see requeue()).
   * `starts`: whether it starts now (the virtual time moves to its tag); a task handed to a worker
   * as its next one moves it only when it starts (advance()): until then it may be withdrawn.
   */
  shiftTagged(busy?: (tenant: string) => boolean, starts = true): { item: T; start: number; cost: number } | undefined {
    let best: { tenant: string; t: Tagged<T> } | undefined;
    let bestIdle: { tenant: string; t: Tagged<T> } | undefined;
    for (const [tenant, q] of this.queues) {
      const t = q[0] as Tagged<T>;
      if (best === undefined || before(t, best.t)) best = { tenant, t };
      if (busy !== undefined && !busy(tenant) && (bestIdle === undefined || before(t, bestIdle.t))) bestIdle = { tenant, t };
    }
    const pick = bestIdle ?? best;
    if (pick === undefined) return undefined;
    const q = this.queues.get(pick.tenant) as Tagged<T>[];
    q.shift();
    this.count--;
    if (q.length === 0) this.queues.delete(pick.tenant);
    if (starts) this.vtime = Math.max(this.vtime, pick.t.start);
    this.forgetIdle();
    return { item: pick.t.item, start: pick.t.start, cost: pick.t.cost };
  }

  /** A task handed out earlier (tag `start`) has started: the virtual time moves to its tag. */
  advance(start: number): void {
    this.vtime = Math.max(this.vtime, start);
  }

  /**
   * Puts back a task handed out but never started (withdrawn from a worker, or its worker died
   * before reaching it), in its place by its original start tag.
   */
  requeue(tenant: string, item: T, start: number, cost: number): void {
    let q = this.queues.get(tenant);
    if (q === undefined) {
      q = [];
      this.queues.set(tenant, q);
    }
    let i = 0;
    while (i < q.length && (q[i] as Tagged<T>).start <= start) i++;
    q.splice(i, 0, { item, start, cost, seq: -1 - this.seq++ });
    this.finish.set(tenant, Math.max(this.finish.get(tenant) ?? 0, start + cost));
    this.count++;
  }

  /** Drops finish tags the virtual time has passed: those tenants start afresh at the virtual time. */
  private forgetIdle(): void {
    if (this.finish.size <= 2 * this.queues.size + 16) return;
    for (const [tenant, f] of this.finish) if (!this.queues.has(tenant) && f <= this.vtime) this.finish.delete(tenant);
  }

  /** Whether a task `tenant` queued now would go before every other tenant's waiting task. */
  wouldLead(tenant: string): boolean {
    const start = this.startOf(tenant);
    for (const [other, q] of this.queues) if (other !== tenant && (q[0] as Tagged<T>).start < start) return false;
    return true;
  }

  /** Tasks that would be handed out before a new task of `tenant` queued now (its place in line). */
  aheadOf(tenant: string): number {
    const start = this.startOf(tenant);
    let n = 0;
    for (const q of this.queues.values()) {
      for (const t of q) {
        if (t.start > start) break;
        n++;
      }
    }
    return n;
  }

  /** The tenant with the most tasks waiting, and how many. */
  longest(): { tenant: string; size: number } | undefined {
    let best: { tenant: string; size: number } | undefined;
    for (const [tenant, q] of this.queues) if (best === undefined || q.length > best.size) best = { tenant, size: q.length };
    return best;
  }

  /** The newest task of `tenant` (the one to push out). */
  newest(tenant: string): T | undefined {
    const q = this.queues.get(tenant);
    return q?.[q.length - 1]?.item;
  }

  remove(tenant: string, item: T): boolean {
    const q = this.queues.get(tenant);
    const i = q?.findIndex((t) => t.item === item) ?? -1;
    if (q === undefined || i < 0) return false;
    const [t] = q.splice(i, 1);
    this.count--;
    // The tenant's newest task leaves: its reserved share of virtual time goes back.
    if (t !== undefined && i === q.length) this.finish.set(tenant, t.start);
    if (q.length === 0) this.queues.delete(tenant);
    return true;
  }
}

function before<T>(a: Tagged<T>, b: Tagged<T>): boolean {
  return a.start < b.start || (a.start === b.start && a.seq < b.seq);
}

export interface ShedLimits {
  queueMax: number;
  /** Most tasks one tenant may have waiting (default: queueMax). */
  tenantQueueMax: number;
  threads: number;
}

/**
 * Seconds until a place is likely free: the work ahead over the measured drain rate (before
 * anything has been measured, a task a second per thread), within [1, 60].
 */
export function retryAfterSec(ahead: number, drainPerSec: number | null, threads: number): number {
  const rate = drainPerSec ?? Math.max(1, threads);
  return Math.min(60, Math.max(1, Math.ceil((ahead + 1) / rate)));
}

/**
 * Throws 429 tenant_share or 503 queue_full when `tenant` may not queue one more task now
 * (`handedOver`: tasks handed to workers ahead of time, not started);
 * returns the tenant whose newest task must be pushed out to make room, if any.
 */
export function checkQueue<T>(queues: TenantQueues<T>, tenant: string, limits: ShedLimits, drainPerSec: number | null, handedOver = 0): string | undefined {
  const mine = queues.sizeOf(tenant);
  // Tasks handed to a worker ahead of time (not started) still count as waiting.
  const full = queues.size + handedOver >= limits.queueMax;
  const waiting = queues.tenants + (mine === 0 ? 1 : 0);
  const share = Math.max(1, Math.floor(limits.queueMax / waiting));
  // A tenant alone in a full queue is not over its share: that is a full service (503).
  const capped = limits.tenantQueueMax < limits.queueMax && mine >= limits.tenantQueueMax;
  if (capped || (full && waiting > 1 && mine >= share)) {
    const after = retryAfterSec(mine * waiting, drainPerSec, limits.threads);
    throw new AppError(
      'RATE_LIMITED',
      'this tenant has its share of the compute queue; retry later',
      { reason: 'tenant_share', queued: mine, share: Math.min(share, limits.tenantQueueMax), retry_after_sec: after },
      { 'Retry-After': String(after) },
    );
  }
  if (full) {
    // Under its share in a full queue: room is made at the expense of the tenant most over its.
    const top = queues.longest();
    if (top !== undefined && top.tenant !== tenant && top.size > share) return top.tenant;
    const after = retryAfterSec(queues.size, drainPerSec, limits.threads);
    throw new AppError(
      'OVERLOADED',
      'compute queue is full',
      { reason: 'queue_full', queue_max: limits.queueMax, retry_after_sec: after },
      { 'Retry-After': String(after) },
    );
  }
  return undefined;
}

/** The answer of a task pushed out of the queue for a tenant under its share. */
export function pushedOut(queued: number, drainPerSec: number | null, threads: number): AppError {
  const after = retryAfterSec(queued, drainPerSec, threads);
  return new AppError(
    'RATE_LIMITED',
    "this tenant is over its share of the compute queue: its newest task made room for another tenant's",
    { reason: 'tenant_share', queued, retry_after_sec: after },
    { 'Retry-After': String(after) },
  );
}

// Who may wait for a compute worker, in which queue, and what is shed: a policy of its own,
// testable without threads. The pool (pool.ts) only runs what this hands it.
//
//   - Tenants' tasks wait in per-tenant FIFO queues served in turn (deficit round robin with a
//     quantum of one task: every task costs one turn), so a flood from one tenant costs another
//     only its turn, not the flood's length.
//   - A tenant over its share is refused with 429: with the queue full, any tenant holding more
//     than queueMax ÷ (tenants waiting) of it; at any time, one holding TENANT_QUEUE_MAX. A
//     tenant under its share that finds the queue full pushes out the newest task of the tenant
//     most over its share (that task is answered 429), so a flood that filled the queue before
//     anyone else came cannot keep others out. A full queue otherwise is 503. Both carry
//     Retry-After from the measured drain rate.
//   - The drain rate is measured: how long a task holds a worker (dispatch to completion, EWMA),
//     times the threads, which is how fast a busy queue drains. Not completions per second (which
//     only follows the arrival rate while the pool is not saturated, and after refusals would
//     price every task out: a collapse of its own), and never from how long tasks waited (queue
//     wait × queue depth counts the wait twice and refuses everything under load).

import { AppError } from './errors.js';

export type ShedReason = 'queue_full' | 'tenant_share';

/** How fast a busy pool drains its queue: threads ÷ the mean time a task holds a worker. */
export class DrainMeter {
  private meanMs: number | undefined;

  constructor(private readonly threads: number) {}

  /** A task held a worker for `ms` (dispatch to completion). */
  record(ms: number): void {
    this.meanMs = this.meanMs === undefined ? ms : 0.8 * this.meanMs + 0.2 * ms;
  }

  /** Tasks per second the pool finishes while busy, or null before any task finished. */
  perSecond(): number | null {
    return this.meanMs === undefined ? null : (this.threads * 1000) / Math.max(0.01, this.meanMs);
  }
}

/** Per-tenant FIFO queues, served one task per tenant in turn. */
export class TenantQueues<T> {
  private readonly queues = new Map<string, T[]>();
  /** Tenants with waiting tasks, in the order of their next turn. */
  private readonly turn: string[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  get tenants(): number {
    return this.turn.length;
  }

  sizeOf(tenant: string): number {
    return this.queues.get(tenant)?.length ?? 0;
  }

  push(tenant: string, item: T): void {
    let q = this.queues.get(tenant);
    if (q === undefined) {
      q = [];
      this.queues.set(tenant, q);
      this.turn.push(tenant);
    }
    q.push(item);
    this.count++;
  }

  /** The oldest task of the tenant whose turn it is; that tenant goes to the back. */
  shift(): T | undefined {
    const tenant = this.turn.shift();
    if (tenant === undefined) return undefined;
    const q = this.queues.get(tenant) as T[];
    const item = q.shift() as T;
    this.count--;
    if (q.length > 0) this.turn.push(tenant);
    else this.queues.delete(tenant);
    return item;
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
    return q?.[q.length - 1];
  }

  remove(tenant: string, item: T): boolean {
    const q = this.queues.get(tenant);
    const i = q?.indexOf(item) ?? -1;
    if (q === undefined || i < 0) return false;
    q.splice(i, 1);
    this.count--;
    if (q.length === 0) {
      this.queues.delete(tenant);
      this.turn.splice(this.turn.indexOf(tenant), 1);
    }
    return true;
  }
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
 * Throws 429 tenant_share or 503 queue_full when `tenant` may not queue one more task now;
 * returns the tenant whose newest task must be pushed out to make room, if any.
 */
export function checkQueue<T>(queues: TenantQueues<T>, tenant: string, limits: ShedLimits, drainPerSec: number | null): string | undefined {
  const mine = queues.sizeOf(tenant);
  const full = queues.size >= limits.queueMax;
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

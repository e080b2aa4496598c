// Per-tenant token buckets. Buckets live in a Map kept in least-recently-used order, capped, and
// a bucket that has refilled to full is dropped whenever it reaches the old end: a full bucket is
// indistinguishable from a new one, so idle tenants cost nothing.

import { AppError } from '../errors.js';

export interface TakeResult {
  ok: boolean;
  /** Bucket capacity (burst). */
  limit: number;
  /** Whole requests left right now. */
  remaining: number;
  /** Seconds until one request would be allowed; 0 when `ok`. */
  retryAfterSec: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export const DEFAULT_MAX_TENANTS = 10_000;

export class TenantRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private rate = 0; // tokens per millisecond
  private burst = 1;
  private readonly burstFollowsRate: boolean;

  /**
   * `ratePerSec` requests per second per tenant with bursts of `burst` (default: one second's
   * worth, at least 1). `now` is a millisecond clock (default `performance.now`). At most
   * `maxTenants` buckets are kept; beyond that the least recently used is forgotten.
   */
  constructor(
    ratePerSec: number,
    burst?: number,
    private readonly now: () => number = () => performance.now(),
    private readonly maxTenants: number = DEFAULT_MAX_TENANTS,
  ) {
    if (burst !== undefined && !(Number.isFinite(burst) && burst >= 1)) throw new RangeError(`burst must be ≥ 1, got ${burst}`);
    if (!(Number.isInteger(maxTenants) && maxTenants >= 1)) throw new RangeError(`maxTenants must be a positive integer`);
    this.burstFollowsRate = burst === undefined;
    if (burst !== undefined) this.burst = burst;
    this.setRate(ratePerSec);
  }

  /** Tenants currently tracked. */
  get size(): number {
    return this.buckets.size;
  }

  /** Changes the rate (for a config reload); tokens earned so far are kept, capped by the burst. */
  setRate(ratePerSec: number): void {
    if (!(Number.isFinite(ratePerSec) && ratePerSec > 0)) throw new RangeError(`ratePerSec must be > 0, got ${ratePerSec}`);
    const t = this.now();
    for (const bucket of this.buckets.values()) this.refill(bucket, t); // earned at the old rate
    this.rate = ratePerSec / 1000;
    if (this.burstFollowsRate) this.burst = Math.max(1, Math.ceil(ratePerSec));
    for (const bucket of this.buckets.values()) bucket.tokens = Math.min(bucket.tokens, this.burst);
  }

  take(tenant: string): TakeResult {
    const t = this.now();
    let bucket = this.buckets.get(tenant);
    if (bucket) {
      this.buckets.delete(tenant); // re-inserted below: most recently used last
      this.refill(bucket, t);
    } else {
      bucket = { tokens: this.burst, at: t };
    }
    this.buckets.set(tenant, bucket);

    let result: TakeResult;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      result = { ok: true, limit: this.burst, remaining: Math.floor(bucket.tokens), retryAfterSec: 0 };
    } else {
      const waitMs = (1 - bucket.tokens) / this.rate;
      result = { ok: false, limit: this.burst, remaining: 0, retryAfterSec: Math.max(1, Math.ceil(waitMs / 1000)) };
    }
    this.evict(t);
    return result;
  }

  private refill(bucket: Bucket, t: number): void {
    const elapsed = Math.max(0, t - bucket.at); // a clock that steps back earns nothing
    bucket.tokens = Math.min(this.burst, bucket.tokens + elapsed * this.rate);
    bucket.at = t;
  }

  /** Runs after a take, so the tenant just served is the newest entry and just spent a token. */
  private evict(t: number): void {
    while (this.buckets.size > this.maxTenants) this.dropOldest();
    // Opportunistic: a couple of the oldest, if refilled to full, carry no state worth keeping.
    for (let i = 0; i < 2; i++) {
      const oldest = this.buckets.values().next();
      if (oldest.done || oldest.value.tokens + (t - oldest.value.at) * this.rate < this.burst) return;
      this.dropOldest();
    }
  }

  private dropOldest(): void {
    const oldest = this.buckets.keys().next();
    if (!oldest.done) this.buckets.delete(oldest.value);
  }
}

/** `X-RateLimit-*` headers describing a take result (for any response). */
export function rateLimitHeaders(r: TakeResult): Record<string, string> {
  return { 'X-RateLimit-Limit': String(r.limit), 'X-RateLimit-Remaining': String(r.remaining) };
}

/** The 429 for a refused take, with `Retry-After` and `X-RateLimit-*`. */
export function rateLimited(r: TakeResult): AppError {
  return new AppError(
    'RATE_LIMITED',
    'rate limit exceeded',
    { reason: 'rate_limited', retry_after_sec: r.retryAfterSec },
    { ...rateLimitHeaders(r), 'Retry-After': String(r.retryAfterSec) },
  );
}

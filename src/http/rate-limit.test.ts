import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rateLimited, TenantRateLimiter } from './rate-limit.js';

function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

function takeN(limiter: TenantRateLimiter, tenant: string, n: number): boolean[] {
  return Array.from({ length: n }, () => limiter.take(tenant).ok);
}

void test('a tenant may spend its burst at once, then is refused with a Retry-After', () => {
  const clock = fakeClock();
  const limiter = new TenantRateLimiter(2, 5, clock.now);
  const first = limiter.take('acme');
  assert.deepEqual(first, { ok: true, limit: 5, remaining: 4, retryAfterSec: 0 });
  assert.deepEqual(takeN(limiter, 'acme', 4), [true, true, true, true]);
  assert.deepEqual(limiter.take('acme'), { ok: false, limit: 5, remaining: 0, retryAfterSec: 1 });
});

void test('tokens come back at the configured rate', () => {
  const clock = fakeClock();
  const limiter = new TenantRateLimiter(4, 2, clock.now);
  takeN(limiter, 'acme', 2);
  assert.equal(limiter.take('acme').ok, false);
  clock.advance(249);
  assert.equal(limiter.take('acme').ok, false);
  clock.advance(1);
  assert.equal(limiter.take('acme').ok, true); // 250 ms at 4/s is one token
  assert.equal(limiter.take('acme').ok, false);
  clock.advance(10_000);
  assert.deepEqual(takeN(limiter, 'acme', 3), [true, true, false]); // never more than the burst
});

void test('one tenant exhausting its bucket does not affect another', () => {
  const clock = fakeClock();
  const limiter = new TenantRateLimiter(1, 1, clock.now);
  assert.equal(limiter.take('acme').ok, true);
  assert.equal(limiter.take('acme').ok, false);
  assert.equal(limiter.take('globex').ok, true);
});

void test('the default burst is one second of rate, at least one, and Retry-After rounds up', () => {
  const clock = fakeClock();
  const fast = new TenantRateLimiter(3.5, undefined, clock.now);
  assert.deepEqual(takeN(fast, 'a', 5), [true, true, true, true, false]);
  const slow = new TenantRateLimiter(0.25, undefined, clock.now);
  assert.equal(slow.take('a').ok, true);
  assert.deepEqual(slow.take('a'), { ok: false, limit: 1, remaining: 0, retryAfterSec: 4 });
});

void test('setRate changes how fast tokens come back and keeps what was earned', () => {
  const clock = fakeClock();
  const limiter = new TenantRateLimiter(1, 10, clock.now);
  takeN(limiter, 'acme', 10);
  clock.advance(2_000); // 2 tokens earned at the old rate
  limiter.setRate(10);
  clock.advance(100); // +1 at the new rate
  assert.deepEqual(takeN(limiter, 'acme', 4), [true, true, true, false]);
});

void test('setRate moves a defaulted burst with the rate', () => {
  const clock = fakeClock();
  const limiter = new TenantRateLimiter(2, undefined, clock.now);
  limiter.setRate(5);
  assert.equal(limiter.take('acme').limit, 5);
  limiter.setRate(1);
  clock.advance(60_000);
  assert.deepEqual(takeN(limiter, 'acme', 2), [true, false]);
});

void test('no more than maxTenants buckets are kept, forgetting the least recently used', () => {
  const clock = fakeClock();
  const limiter = new TenantRateLimiter(1, 1, clock.now, 3);
  for (const t of ['a', 'b', 'c']) assert.equal(limiter.take(t).ok, true);
  assert.equal(limiter.take('a').ok, false); // a is now the most recently used
  assert.equal(limiter.take('d').ok, true); // evicts b
  assert.equal(limiter.size, 3);
  assert.equal(limiter.take('a').ok, false, 'a recently used tenant keeps its empty bucket');
  assert.equal(limiter.take('b').ok, true, 'the least recently used tenant was forgotten');
  for (let i = 0; i < 1_000; i++) limiter.take(`t${i}`);
  assert.equal(limiter.size, 3);
});

void test('idle tenants whose buckets have refilled are dropped', () => {
  const clock = fakeClock();
  const limiter = new TenantRateLimiter(10, 10, clock.now);
  for (let i = 0; i < 100; i++) limiter.take(`tenant-${i}`);
  assert.equal(limiter.size, 100);
  clock.advance(1_000); // every bucket is full again
  for (let i = 0; i < 60; i++) limiter.take('busy');
  assert.equal(limiter.size, 1);
});

void test('a clock stepping backwards neither mints tokens nor locks the tenant out', () => {
  let t = 5_000;
  const limiter = new TenantRateLimiter(1, 1, () => t);
  assert.equal(limiter.take('acme').ok, true);
  t -= 10_000;
  assert.equal(limiter.take('acme').ok, false);
  t += 500;
  assert.equal(limiter.take('acme').ok, false);
  t += 500;
  assert.equal(limiter.take('acme').ok, true, 'one second of clock after the step earns one token');
});

void test('a refused take becomes a 429 with Retry-After and X-RateLimit headers', () => {
  const limiter = new TenantRateLimiter(0.5, 1, fakeClock().now);
  limiter.take('acme');
  const err = rateLimited(limiter.take('acme'));
  assert.equal(err.status, 429);
  assert.equal(err.code, 'RATE_LIMITED');
  assert.deepEqual(err.headers, { 'Retry-After': '2', 'X-RateLimit-Limit': '1', 'X-RateLimit-Remaining': '0' });
  assert.equal(err.details.reason, 'rate_limited');
});

void test('nonsensical rates and bursts are refused at construction', () => {
  assert.throws(() => new TenantRateLimiter(0), RangeError);
  assert.throws(() => new TenantRateLimiter(Number.NaN), RangeError);
  assert.throws(() => new TenantRateLimiter(1, 0.5), RangeError);
  assert.throws(() => new TenantRateLimiter(1, 1, undefined, 0), RangeError);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DrainMeter, TenantQueues, checkQueue, retryAfterSec } from './admission.js';
import { AppError } from './errors.js';

const limits = { queueMax: 4, tenantQueueMax: 4, threads: 1 };
const shed = (status: number, reason: string) => (e: unknown) =>
  e instanceof AppError && e.status === status && e.details.reason === reason && /^[1-9]\d*$/.test(e.headers['Retry-After'] ?? '');

test('tenants are served in turn, each in its own arrival order', () => {
  const q = new TenantQueues<string>();
  for (const x of ['a1', 'a2', 'a3', 'a4']) q.push('a', x);
  q.push('b', 'b1');
  q.push('b', 'b2');
  q.push('c', 'c1');
  const order: string[] = [];
  for (let x = q.shift(); x !== undefined; x = q.shift()) order.push(x);
  assert.deepEqual(order, ['a1', 'b1', 'c1', 'a2', 'b2', 'a3', 'a4']);
  assert.equal(q.size, 0);
  assert.equal(q.tenants, 0);
});

test('a full queue is 503 for a tenant alone in it, with Retry-After from the drain rate', () => {
  const q = new TenantQueues<number>();
  for (let i = 0; i < 4; i++) q.push('a', i);
  assert.throws(() => checkQueue(q, 'a', limits, 2), shed(503, 'queue_full'));
  // 4 ahead + this one at 2 per second: 3 s (rounded up).
  assert.throws(() => checkQueue(q, 'a', limits, 2), (e: unknown) => e instanceof AppError && e.headers['Retry-After'] === '3');
});

test('a tenant under its share pushes out the newest task of the tenant most over its; one at its share gets 429', () => {
  const q = new TenantQueues<number>();
  for (let i = 0; i < 4; i++) q.push('flood', i);
  assert.equal(checkQueue(q, 'quiet', limits, null), 'flood', 'room is made at the flood’s expense');
  q.remove('flood', q.newest('flood') as number);
  q.push('quiet', 100);
  q.remove('flood', q.newest('flood') as number);
  q.push('quiet', 101);
  // Full again, two each: the quiet tenant is at its share (4 / 2).
  assert.throws(() => checkQueue(q, 'quiet', limits, null), shed(429, 'tenant_share'));
  assert.throws(() => checkQueue(q, 'flood', limits, null), shed(429, 'tenant_share'));
});

test('TENANT_QUEUE_MAX caps one tenant even when the queue has room', () => {
  const q = new TenantQueues<number>();
  q.push('a', 1);
  q.push('a', 2);
  assert.throws(() => checkQueue(q, 'a', { ...limits, tenantQueueMax: 2 }, null), shed(429, 'tenant_share'));
  assert.equal(checkQueue(q, 'b', { ...limits, tenantQueueMax: 2 }, null), undefined);
});

test('the drain rate is the threads over the mean time a task holds a worker, whatever the arrival rate', () => {
  const m = new DrainMeter(2);
  assert.equal(m.perSecond(), null);
  m.record(100);
  assert.equal(m.perSecond(), 20);
  for (let i = 0; i < 50; i++) m.record(250);
  assert.ok(Math.abs((m.perSecond() as number) - 8) < 0.01, String(m.perSecond()));
  assert.equal(retryAfterSec(10, null, 2), 6);
  assert.equal(retryAfterSec(0, 100, 1), 1);
  assert.equal(retryAfterSec(10_000, 1, 1), 60);
});

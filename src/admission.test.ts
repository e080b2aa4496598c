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

test('the drain rate is the threads over the mean time per task of the last 32, whatever the arrival rate', () => {
  const m = new DrainMeter(2);
  assert.equal(m.perSecond(), null);
  m.record(100);
  assert.equal(m.perSecond(), 20);
  for (let i = 0; i < 50; i++) m.record(250);
  assert.ok(Math.abs((m.perSecond() as number) - 8) < 1e-9, String(m.perSecond()));
  // One spike moves the mean by a 32nd of itself, and leaves the window after 32 more tasks.
  m.record(250 + 32 * 100);
  assert.ok(Math.abs((m.taskMs() as number) - 350) < 1e-9, String(m.taskMs()));
  for (let i = 0; i < 32; i++) m.record(250);
  assert.ok(Math.abs((m.taskMs() as number) - 250) < 1e-9, String(m.taskMs()));
  assert.equal(retryAfterSec(10, null, 2), 6);
  assert.equal(retryAfterSec(0, 100, 1), 1);
  assert.equal(retryAfterSec(10_000, 1, 1), 60);
});

test('a tenant that was idle goes next after the running task, however long another tenant’s backlog', () => {
  const q = new TenantQueues<string>();
  for (let i = 0; i < 10; i++) q.push('flood', `f${i}`, 8);
  assert.equal(q.shift(), 'f0', 'running');
  assert.equal(q.aheadOf('quiet'), 0, 'nothing of the flood’s is ahead of a quiet task');
  assert.equal(q.aheadOf('flood'), 9, 'the flood waits behind its own backlog');
  q.push('quiet', 'q0', 8);
  assert.equal(q.shift(), 'q0');
  // Served, then back with the next one: again next after the running task.
  assert.equal(q.shift(), 'f1');
  q.push('quiet', 'q1', 8);
  assert.equal(q.shift(), 'q1');
  assert.equal(q.shift(), 'f2');
});

test('turns are weighted by cost: a tenant of big tasks gets fewer turns, not more of the workers’ time', () => {
  const q = new TenantQueues<string>();
  for (let i = 1; i <= 3; i++) q.push('big', `B${i}`, 4);
  for (let i = 1; i <= 9; i++) q.push('small', `s${i}`, 1);
  const order: string[] = [];
  for (let x = q.shift(); x !== undefined; x = q.shift()) order.push(x);
  assert.deepEqual(order, ['B1', 's1', 's2', 's3', 's4', 'B2', 's5', 's6', 's7', 's8', 'B3', 's9']);
});

test('an idle tenant banks no credit: back after a long absence, it shares turns instead of going first for all its tasks', () => {
  const q = new TenantQueues<string>();
  for (let i = 0; i < 100; i++) {
    q.push('busy', `b${i}`);
    assert.equal(q.shift(), `b${i}`);
  }
  for (let i = 0; i < 3; i++) q.push('busy', `B${i}`);
  for (let i = 0; i < 3; i++) q.push('back', `k${i}`);
  const order: string[] = [];
  for (let x = q.shift(); x !== undefined; x = q.shift()) order.push(x);
  // It starts level with the task last handed out (b99), not 100 turns early: they alternate.
  assert.deepEqual(order, ['k0', 'B0', 'k1', 'B1', 'k2', 'B2']);
});

test('a tenant with a task running is passed over while a tenant with none waits', () => {
  const q = new TenantQueues<string>();
  q.push('a', 'a1');
  q.push('a', 'a2');
  q.push('b', 'b1');
  q.push('b', 'b2');
  assert.equal(q.shift(), 'a1');
  // Two threads: a1 runs; by tags a2 would tie with b1, but b has nothing running.
  assert.equal(
    q.shift((t) => t === 'a'),
    'b1',
  );
  // Both running: the smallest tag goes, whoever it belongs to (the thread is not left idle).
  assert.equal(
    q.shift(() => true),
    'a2',
  );
});

test('a pushed-out newest task gives its share of virtual time back', () => {
  const q = new TenantQueues<string>();
  q.push('a', 'a1', 5);
  q.push('a', 'a2', 5);
  assert.ok(q.remove('a', 'a2'));
  q.push('b', 'b1', 5);
  q.push('a', 'a3', 5);
  // a3 takes a2's place (tag 5), level with b1 (0 → served first by tag) — not behind a phantom.
  assert.deepEqual([q.shift(), q.shift(), q.shift()], ['a1', 'b1', 'a3']);
});

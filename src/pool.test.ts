import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SealTask } from './compute/protocol.js';
import { ComputePool } from './pool.js';

const policyTask = (i: number): SealTask => ({
  op: 'seal',
  bytes: new TextEncoder().encode(`{"schema":"rewarder.policy/v1","id":"p${i}","rounding":"floor","kinds":{}}`),
  limits: { inputs: { maxBytes: 1, maxActors: 1, maxEvents: 1 }, policyMaxBytes: 1024 },
  expect: 'rewarder.policy/v1',
});

test('tasks that carry abort signals complete in submission order (FIFO), and queue depth is exact', async (t) => {
  const pool = new ComputePool({ threads: 1, queueMax: 1000 });
  t.after(() => pool.close());
  await pool.start();
  const order: number[] = [];
  const all = Array.from({ length: 60 }, (_, i) =>
    pool.seal(policyTask(i), new AbortController().signal).then((r) => {
      assert.ok(r.ok);
      order.push(i);
    }),
  );
  assert.equal(pool.saturation().queueDepth, 59, 'one running, the rest waiting here');
  await Promise.all(all);
  assert.deepEqual(order, Array.from({ length: 60 }, (_, i) => i));
  assert.equal(pool.saturation().queueDepth, 0);
});

test('a task aborted while waiting leaves the queue at once with the abort reason', async (t) => {
  const pool = new ComputePool({ threads: 1, queueMax: 10 });
  t.after(() => pool.close());
  await pool.start();
  const first = pool.seal(policyTask(0), new AbortController().signal);
  const ctl = new AbortController();
  const second = pool.seal(policyTask(1), ctl.signal);
  ctl.abort(new Error('client left'));
  await assert.rejects(second, /client left/);
  assert.ok((await first).ok);
});

test('a full queue refuses with 503 queue_full, and the limit can be changed at run time', async (t) => {
  const pool = new ComputePool({ threads: 1, queueMax: 1 });
  t.after(() => pool.close());
  await pool.start();
  const s = new AbortController().signal;
  const running = pool.seal(policyTask(0), s);
  const queued = pool.seal(policyTask(1), s);
  await assert.rejects(pool.seal(policyTask(2), s), (e: Error & { code?: string }) => e.code === 'OVERLOADED');
  pool.setQueueMax(2);
  const third = pool.seal(policyTask(3), s);
  await Promise.all([running, queued, third]);
});

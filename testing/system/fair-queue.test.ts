// The compute pool's fair queueing and hand-over with real worker threads (the fault worker's
// slow-N tasks spin N ms, so the order in which tasks end is the order the worker ran them).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { ComputeTask } from '../../src/compute/protocol.js';
import { ComputePool } from '../../src/pool.js';
import { EXAMPLE, FAULT_WORKER } from '../harness.js';

const LIMIT = { timeout: 60_000 };
const limits = { inputs: { maxBytes: 1 << 20, maxActors: 1000, maxEvents: 10_000 }, policyMaxBytes: 1 << 16 };
const policy = readFileSync(EXAMPLE.policy);
const inputs = readFileSync(EXAMPLE.inputs);

/** A dry-run compute of the example whose epoch id may ask the fault worker to spin. */
function task(epochId: string): ComputeTask {
  return { op: 'compute', epochId, inputsCid: EXAMPLE.inputsCid, policyHash: EXAMPLE.policyHash, policy, inputs: new Uint8Array(inputs), limits, ledger: false };
}

for (const handover of [true, false]) {
  test(`a flood tenant’s queued tasks delay a quiet tenant’s by the running task only (hand-over ${handover ? 'on' : 'off'})`, LIMIT, async (t) => {
    const pool = new ComputePool({ threads: 1, queueMax: 100, filename: FAULT_WORKER, handover });
    t.after(() => pool.close());
    await pool.start();
    const ended: string[] = [];
    const run = (id: string, tenant: string) =>
      pool.compute(task(id), new AbortController().signal, tenant, 5).then((r) => {
        assert.ok(r.ok, id);
        ended.push(id);
      });
    // f0 runs, f1 is handed to the worker as its next task (with hand-over), f2…f5 wait.
    const flood = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5'].map((id) => run(`slow-100-${id}`, 'flood'));
    // The quiet tenant's task goes next after f0: with hand-over, f1 is withdrawn and requeued.
    const quiet = run('slow-10-q', 'quiet');
    await Promise.all([...flood, quiet]);
    assert.deepEqual(
      ended.map((id) => id.replace(/^slow-\d+-/, '')),
      ['f0', 'q', 'f1', 'f2', 'f3', 'f4', 'f5'],
    );
  });
}

test('a task handed to the worker as its next one and then aborted is skipped: it never runs and the queue goes on', LIMIT, async (t) => {
  const pool = new ComputePool({ threads: 1, queueMax: 100, filename: FAULT_WORKER });
  t.after(() => pool.close());
  await pool.start();
  const first = pool.compute(task('slow-150-a'), new AbortController().signal, 'x', 5);
  const ctl = new AbortController();
  const next = pool.compute(task('slow-150-b'), ctl.signal, 'x', 5);
  const after = pool.compute(task('slow-10-c'), new AbortController().signal, 'x', 5);
  assert.equal(pool.saturation().queueDepth, 2, 'b (next in line on the worker) and c count as waiting');
  ctl.abort(new Error('client left'));
  await assert.rejects(next, /client left/);
  assert.ok((await first).ok);
  assert.ok((await after).ok);
  // b was skipped, not run and abandoned: no worker was stopped or replaced for it.
  assert.equal(pool.saturation().running, 0);
});

test('a task whose worker dies before reaching it is handed out again, and only the crashed task fails', LIMIT, async (t) => {
  const pool = new ComputePool({ threads: 1, queueMax: 100, filename: FAULT_WORKER });
  t.after(() => pool.close());
  await pool.start();
  const failures: string[] = [];
  pool.onFailure = (kind) => failures.push(kind);
  const crash = pool.compute(task('crash-1'), new AbortController().signal, 'x', 5);
  const innocent = pool.compute(task('slow-10-innocent'), new AbortController().signal, 'x', 5);
  await assert.rejects(crash, (e: Error & { code?: string; details?: { reason?: string } }) => e.code === 'UNAVAILABLE' && e.details?.reason === 'worker_failed');
  const r = await innocent;
  assert.ok(r.ok, 'the task handed to the dead worker ran on its replacement');
  assert.deepEqual(failures, ['crash']);
});

test('anticipation: a tenant of small tasks that re-sends at once keeps the worker for its next one while within its share, instead of finding a big flood task just started', LIMIT, async (t) => {
  const orders: Record<string, string[]> = {};
  for (const anticipateMs of [0, 200]) {
    const pool = new ComputePool({ threads: 1, queueMax: 100, filename: FAULT_WORKER, anticipateMs });
    t.after(() => pool.close());
    await pool.start();
    const ended: string[] = [];
    const run = (id: string, tenant: string, ms: number) =>
      pool.compute(task(`slow-${ms}-${id}`), new AbortController().signal, tenant, ms).then((r) => {
        assert.ok(r.ok, id);
        ended.push(id);
      });
    // The flood's tasks cost 60, the quiet tenant's 10: it may have six for each of the flood's.
    const flood = ['f0', 'f1', 'f2', 'f3', 'f4'].map((id) => run(id, 'flood', 60));
    // The quiet tenant sends its next task as soon as its last is answered.
    for (const id of ['q1', 'q2', 'q3', 'q4']) await run(id, 'quiet', 10);
    await Promise.all(flood);
    orders[anticipateMs] = ended;
  }
  // Without: after its first task it always finds the next flood task just started.
  assert.deepEqual(orders[0], ['f0', 'q1', 'f1', 'q2', 'f2', 'q3', 'f3', 'q4', 'f4']);
  // With: once its think time is known to be short (after q1), the worker waits for it.
  assert.deepEqual(orders[200], ['f0', 'q1', 'f1', 'q2', 'q3', 'q4', 'f2', 'f3', 'f4']);
});

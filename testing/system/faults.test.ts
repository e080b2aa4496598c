// Worker faults through the real HTTP path: the service in-process (buildRuntime + listen, a real
// Piscina pool with one worker thread, real sockets on 127.0.0.1) with testing/fault-worker.ts as
// the worker module. The epoch id picks the fault: crash-… exits the worker thread, hang-… spins
// forever, throw-… throws, uncaught-… dies of an asynchronous exception. Each fault must fail only its own request; the next one succeeds.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { after, before, test } from 'node:test';
import { THROWN_SECRET } from '../fault-worker.js';
import {
  EXAMPLE,
  FAULT_WORKER,
  type InProcessServer,
  assertErrorEnvelope,
  get,
  metricValue,
  metrics,
  post,
  put,
  startInProcess,
  until,
} from '../harness.js';

const LIMIT = { timeout: 30_000 };
const triple = { inputs_cid: EXAMPLE.inputsCid, policy_id: EXAMPLE.policyId, policy_hash: EXAMPLE.policyHash };
const BASE = { AUTH: 'off', CONCURRENCY_COMPUTE_WORKERS: '1' };

async function faultyServer(env: Record<string, string | undefined> = {}): Promise<InProcessServer> {
  const s = await startInProcess({ ...BASE, ...env }, { workerFile: FAULT_WORKER });
  try {
    assert.equal((await put(s.url, '/inputs', readFileSync(EXAMPLE.inputs))).status, 201);
    assert.equal((await put(s.url, '/policies', readFileSync(EXAMPLE.policy))).status, 201);
  } catch (e) {
    await s.close();
    throw e;
  }
  return s;
}

let seq = 0;
/** A compute that must succeed: the pool is healthy again. */
async function expectHealthy(url: string, label: string): Promise<void> {
  const res = await post(url, `/epochs/ok-${++seq}:e/compute`, triple);
  assert.equal(res.status, 200, `${label}: the next request succeeds (${res.status} ${res.text})`);
  assert.equal(res.json<{ commitment: string }>().commitment.length, 67);
}

let s: InProcessServer | undefined;
let url = '';

before(async () => {
  s = await faultyServer();
  url = s.url;
});

after(async () => {
  await s?.close();
});

const failures = async (kind: string) => metricValue(await metrics(url), 'compute_worker_failures_total', { kind });

test('a worker that dies fails only its own request with 503 worker_failed; the next request succeeds', LIMIT, async () => {
  await expectHealthy(url, 'before');
  const crashes = await failures('crash');
  const res = await post(url, '/epochs/crash-1/compute', triple, { 'x-corr-id': 'crash-1' });
  const d = assertErrorEnvelope(res, { status: 503, code: 'UNAVAILABLE', reason: 'worker_failed', corrId: 'crash-1' });
  assert.deepEqual(Object.keys(d), ['reason']);
  assert.equal(res.headers['retry-after'], '1');
  assert.equal(await failures('crash'), crashes + 1);
  assert.equal((await get(url, '/epochs/crash-1')).status, 404, 'nothing was published');
  await expectHealthy(url, 'after a crash');
});

test('a worker killed by an uncaught asynchronous exception is a worker failure too, not a 500', LIMIT, async () => {
  const crashes = await failures('crash');
  const res = await post(url, '/epochs/uncaught-1/compute', triple);
  assertErrorEnvelope(res, { status: 503, code: 'UNAVAILABLE', reason: 'worker_failed', secrets: [THROWN_SECRET] });
  assert.equal(await failures('crash'), crashes + 1, 'it counts towards the breaker');
  await expectHealthy(url, 'after an uncaught exception');
});

test('a worker that hangs past the deadline is stopped with a 504 and replaced; the next request succeeds', LIMIT, async () => {
  const t0 = performance.now();
  const res = await post(url, '/epochs/hang-1/compute', { ...triple, deadline_ms: 500 });
  const ms = performance.now() - t0;
  const d = assertErrorEnvelope(res, { status: 504, code: 'DEADLINE_EXCEEDED', reason: 'deadline_aborted' });
  assert.ok(ms >= 450 && ms < 2_000, `answered after ${Math.round(ms)} ms for a 500 ms deadline`);
  assert.equal(d.deadline_ms, 500);
  assert.ok((d.elapsed_ms as number) >= 490, `elapsed ${String(d.elapsed_ms)}`);
  assert.equal(res.headers['x-deadline-exceeded-by-ms'], String(d.exceeded_by_ms));
  assert.match(String(res.headers['retry-after']), /^[1-9][0-9]*$/);
  // One worker thread: this succeeds only because the spinning one was terminated and replaced.
  await expectHealthy(url, 'after a hang');
  const m = await metrics(url);
  assert.ok(metricValue(m, 'deadline_enforced_total', { stage: 'aborted' }) >= 1);
});

test('a worker whose task throws yields a generic 500 that reveals nothing; the next request succeeds', LIMIT, async () => {
  const mark = s?.logs.lines.length ?? 0;
  const res = await post(url, '/epochs/throw-1/compute', triple, { 'x-corr-id': 'throw-1' });
  const d = assertErrorEnvelope(res, { status: 500, code: 'INTERNAL', reason: 'internal', corrId: 'throw-1', secrets: [THROWN_SECRET, 'injected', 'stack'] });
  assert.deepEqual(d, { reason: 'internal' });
  assert.equal(res.json<{ error: { message: string } }>().error.message, 'internal error');
  // … while the log keeps the whole error, under the same corr id.
  const logged = await s?.logs.waitFor((l) => l.corr_id === 'throw-1' && l.msg === 'unhandled error', 2_000);
  assert.ok(JSON.stringify(logged).includes(THROWN_SECRET));
  assert.ok(s !== undefined && s.logs.since(mark).length > 0);
  await expectHealthy(url, 'after a throw');
});

/** Posts a compute for `epochId` (20 s deadline), waits until it runs, `afterMs` more, then disconnects. */
async function leaveMidRun(epochId: string, afterMs: number): Promise<void> {
  const ctl = new AbortController();
  const gone = new Promise<void>((resolve) => {
    const req = httpRequest(new URL(`/epochs/${epochId}/compute`, url), { method: 'POST', headers: { 'content-type': 'application/json' }, agent: false, signal: ctl.signal });
    req.on('error', () => resolve());
    req.end(JSON.stringify({ ...triple, deadline_ms: 20_000 }));
  });
  await until(async () => metricValue(await metrics(url), 'inflight_requests') === 1, 3_000, `${epochId} to be in flight`);
  await new Promise((r) => setTimeout(r, afterMs));
  ctl.abort();
  await gone;
}

test('a client that disconnects mid-run gets its hung task aborted, freeing the worker', LIMIT, async () => {
  const aborts = await failures('abort');
  await leaveMidRun('hang-2', 200);
  const t0 = performance.now();
  await expectHealthy(url, 'after the client left');
  assert.ok(performance.now() - t0 < 3_000, 'the only worker was freed long before the 20 s deadline');
  assert.equal(await failures('abort'), aborts + 1);
});

test('a client that disconnects while a task runs that ends by itself costs no worker: the task finishes, nothing is terminated', LIMIT, async () => {
  const before = await Promise.all(['abort', 'crash', 'error'].map(failures));
  await leaveMidRun('slow-400-1', 0);
  // Within the grace period (1 s) the 400 ms task ends by itself, so its worker is not replaced.
  await expectHealthy(url, 'after the client left a slow run');
  await new Promise((r) => setTimeout(r, 1_200));
  assert.deepEqual(await Promise.all(['abort', 'crash', 'error'].map(failures)), before, 'no task was lost, no worker terminated');
  // The client left before an answer: nothing was published for that epoch.
  assert.equal((await get(url, '/epochs/slow-400-1')).status, 404);
});

test('a full work queue is a 503 queue_full, /readyz reports it, and both queued tasks end at their deadlines', LIMIT, async () => {
  const q = await faultyServer({ WORK_QUEUE_MAX: '1' });
  try {
    const running = post(q.url, '/epochs/hang-q1/compute', { ...triple, deadline_ms: 1_500 });
    await until(async () => metricValue(await metrics(q.url), 'inflight_requests') === 1, 3_000, 'the first task to run');
    const queued = post(q.url, '/epochs/hang-q2/compute', { ...triple, deadline_ms: 1_500 });
    await until(async () => metricValue(await metrics(q.url), 'queue_depth') === 1, 3_000, 'the second task to be queued');

    const full = await post(q.url, '/epochs/q3/compute', triple, { 'x-corr-id': 'queue-full' });
    const d = assertErrorEnvelope(full, { status: 503, code: 'OVERLOADED', reason: 'queue_full', corrId: 'queue-full' });
    assert.equal(d.queue_max, 1);
    assert.match(String(full.headers['retry-after']), /^[1-9][0-9]*$/, 'Retry-After from the drain rate');
    const ready = await get(q.url, '/readyz');
    assert.equal(ready.status, 503);
    assert.ok(ready.json<{ causes: string[] }>().causes.includes('queue_above_80_percent'), ready.text);

    const [r1, r2] = await Promise.all([running, queued]);
    assertErrorEnvelope(r1, { status: 504, code: 'DEADLINE_EXCEEDED', reason: 'deadline_aborted' }, 'running');
    assertErrorEnvelope(r2, { status: 504, code: 'DEADLINE_EXCEEDED', reason: 'deadline_aborted' }, 'queued');
    assert.equal(metricValue(await metrics(q.url), 'rejected_total', { reason: 'queue_full' }), 1);
    assert.equal((await get(q.url, '/readyz')).status, 200);
    await expectHealthy(q.url, 'after the queue drained');
  } finally {
    await q.close();
  }
});

test('repeated worker deaths open the breaker: 503 breaker_open and /readyz 503 until it closes', LIMIT, async () => {
  const b = await faultyServer();
  try {
    // Five deaths within 30 s open the breaker for 1 s (src/pool.ts).
    for (let i = 1; i <= 5; i++) {
      const res = await post(b.url, `/epochs/crash-b${i}/compute`, triple);
      assertErrorEnvelope(res, { status: 503, code: 'UNAVAILABLE', reason: 'worker_failed' }, `crash ${i}`);
    }
    const refused = await post(b.url, '/epochs/after-breaker/compute', triple);
    const d = assertErrorEnvelope(refused, { status: 503, code: 'UNAVAILABLE', reason: 'breaker_open' });
    assert.ok((d.retry_after_ms as number) > 0 && (d.retry_after_ms as number) <= 1_000, String(d.retry_after_ms));
    assert.equal(refused.headers['retry-after'], '1');
    const ready = await get(b.url, '/readyz');
    assert.equal(ready.status, 503);
    const body = ready.json<{ degraded: boolean; causes: string[]; retry_after: number }>();
    assert.equal(body.degraded, true);
    assert.ok(body.causes.includes('compute_breaker_open'), ready.text);
    assert.equal(body.retry_after, 1);
    assert.equal(ready.headers['retry-after'], '1');
    assert.equal(metricValue(await metrics(b.url), 'rejected_total', { reason: 'breaker_open' }), 1);
    assert.equal(metricValue(await metrics(b.url), 'compute_worker_failures_total', { kind: 'crash' }), 5);

    await until(async () => (await get(b.url, '/readyz')).status === 200, 3_000, 'the breaker to close');
    await expectHealthy(b.url, 'after the breaker closed');
  } finally {
    await b.close();
  }
});

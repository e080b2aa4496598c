// Slow ledger, end to end: every answer takes 50–500 ms (seeded jitter). About forty computes over
// small generated inputs, four at a time: no 5xx, every answered run's parts end accepted exactly
// once, and resends (dups at the ledger) stay at or under 1 % of the parts.
//
// The budgets are raised above the jitter (p95 1 s, p99 2 s, attempts 1.5 s): this scenario is
// about emission on the request path under latency; the brownout test covers quarantine mode.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generate } from '../../src/gen/generate.js';
import { type Reply, type Triple, compute, ledgerOf, seal, startService, startStub, until } from './service.js';

const RUNS = 40;
const CONCURRENCY = 4;

test('under 50–500 ms ledger jitter, forty computes answer without a 5xx and settle exactly once with at most 1 % dups', { timeout: 60_000 }, async (t) => {
  const stub = await startStub(t, { seed: 303, faults: { latency_ms: { min: 50, max: 500 } } });
  const svc = await startService(t, {
    LEDGER_URL: stub.url,
    LEDGER_DEADLINE_MS: '1500',
    LEDGER_P95_BUDGET_MS: '1000',
    LEDGER_P99_BUDGET_MS: '2000',
  });
  const triples: Triple[] = [];
  for (const seed of [11, 12, 13, 14]) triples.push(await seal(svc.url, generate({ scale: 'S', seed, form: 'columnar' })));

  const jobs = Array.from({ length: RUNS }, (_, i) => ({ epoch: `slow-${String(i).padStart(2, '0')}:e`, triple: triples[i % triples.length] as Triple }));
  const answers = new Map<string, Reply>();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < jobs.length) {
        const job = jobs[next++] as (typeof jobs)[number];
        answers.set(job.epoch, await compute(svc.url, job.epoch, job.triple));
      }
    }),
  );
  const elapsed = performance.now() - t0;

  const statuses = [...answers.values()].map((r) => r.status);
  assert.deepEqual(statuses.filter((s) => s >= 500), [], 'no 5xx');
  assert.ok(statuses.every((s) => s === 200 || s === 202), `statuses ${JSON.stringify(statuses)}`);
  const runKeys = new Set([...answers.values()].map((r) => r.json.run_key as string));
  assert.equal(runKeys.size, RUNS);

  // Every answered run's parts reach the ledger (a 202 one through the drainer, on its own).
  const expected = new Map<string, string>(); // part_id → epoch
  for (const { epoch } of jobs) for (const p of (await ledgerOf(svc.url, epoch)).parts) expected.set(p.part_id, epoch);
  await until('every part reaches the ledger', 20_000, async () => (await stub.admin.parts()).length >= expected.size, 100);
  const records = await stub.admin.parts();
  const stats = await stub.admin.stats();
  assert.equal(records.length, expected.size);
  assert.deepEqual(new Set(records.map((r) => r.part_id)), new Set(expected.keys()));
  assert.equal(stats.accepted, expected.size, 'no part accepted twice');
  assert.equal(stats.conflict, 0);
  assert.ok(stats.dup / expected.size <= 0.01, `dup ratio ${stats.dup}/${expected.size}`);
  for (const { epoch } of jobs) {
    await until(`${epoch} settles`, 5_000, async () => (await ledgerOf(svc.url, epoch)).state === 'accepted');
  }
  const s202 = statuses.filter((s) => s === 202).length;
  t.diagnostic(`${RUNS} runs, ${expected.size} parts in ${elapsed.toFixed(0)} ms; 202 share ${s202}/${RUNS}; dups ${stats.dup}; requests ${stats.requests_total}`);
});

// Crash durability, end to end: the real service (macronode, PostgreSQL) under load from a few
// concurrent clients, killed with SIGKILL twenty times at seeded pseudo-random moments and
// restarted on the same schema each time, settling to one real ledger stub process. Whatever a
// kill interrupted (a compute, a publish transaction, an emission between the ledger's commit and
// the outbox update, a drainer batch), every run the service answered 200 or 202 must end with all
// its parts accepted exactly once at the ledger, and its manifest still served.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { generate } from '../../src/gen/generate.js';
import { createRng } from '../ledger-stub/faults.js';
import { type Triple, startStub } from '../ledger/service.js';
import {
  type Acked,
  Replica,
  ackedOf,
  assertNoPartTwice,
  assertRunsSettled,
  bindings,
  computeAt,
  freshSchema,
  mustCall,
  outboxRows,
  serviceEnv,
  settle,
  waitFor,
  seal,
} from './cluster.js';

const KILLS = 20;
const CLIENTS = 3;
const SEED = 0x5eed_0001;

test('twenty seeded SIGKILLs under load lose no acknowledged run: each one\'s parts are accepted exactly once and its manifest is served', { timeout: 240_000 }, async (t) => {
  const rng = createRng(SEED);
  // A little ledger latency (10–60 ms a part) widens the window between a part's commit at the
  // ledger and its outbox update, where a kill leaves a leased, unsettled part to the next process.
  const stub = await startStub(t, { seed: 404, faults: { latency_ms: { min: 10, max: 60 } } });
  const schema = freshSchema(t);
  // Budgets above what a loaded two-core box shows: this test is about crashes, not brownouts
  // (a quarantine entered from CPU noise would only slow the final drain to one part per probe).
  // Nor about rate limits: the final check reads two routes per acknowledged run as fast as it
  // can, and on a quiet box there are enough runs for that to pass the default 100 requests/s.
  const svc = new Replica(
    t,
    serviceEnv(schema.name, stub.url, { LEDGER_P95_BUDGET_MS: '2000', LEDGER_P99_BUDGET_MS: '4000', TENANT_RPS_MAX: '100000' }),
    'rewarder',
  );
  const first = await svc.start();
  const triples: Triple[] = [];
  for (const seed of [31, 32, 33]) triples.push(await seal(first, generate({ scale: 'S', seed, form: 'columnar' })));
  // One M document: 10k actors, so its runs have three parts and a kill can land between them.
  triples.push(await seal(first, generate({ scale: 'M', seed: 34, form: 'columnar' })));

  const acked: Acked[] = [];
  const refused: string[] = [];
  let lost = 0;
  let stop = false;
  const t0 = performance.now();
  const clients = Array.from({ length: CLIENTS }, async (_, c) => {
    for (let n = 0; !stop; n++) {
      const url = svc.url;
      if (url === null) {
        await sleep(5);
        continue;
      }
      const epochId = `crash-${c}-${n}:e`;
      // M runs are costly: every third from client 0 only.
      const triple = (c === 0 && n % 3 === 2 ? triples[3] : triples[n % 3]) as Triple;
      const a = await computeAt(url, epochId, triple);
      if (a === null) {
        lost++; // reset or refused by a kill: not acknowledged, whatever became of it
        continue;
      }
      if (a.status === 200 || a.status === 202) acked.push(ackedOf(epochId, a));
      else refused.push(`${epochId}: ${a.status} ${a.text.slice(0, 200)}`);
    }
  });

  const downtimes: number[] = [];
  for (let k = 0; k < KILLS; k++) {
    // A process needs ~1 s to start and its first computes meet cold caches: the kill's moment is
    // drawn from after it has acknowledged one run (waited for ≤ 10 s), so kills land amid load.
    const seen = acked.length;
    await waitFor(10_000, async () => acked.length > seen, 5);
    await sleep(100 + Math.floor(rng() * 500));
    await svc.kill('SIGKILL');
    const d0 = performance.now();
    await svc.start();
    downtimes.push(performance.now() - d0);
  }
  // Some load on the last process too, then the clients stop.
  await sleep(300);
  stop = true;
  await Promise.all(clients);
  const loadMs = performance.now() - t0;

  assert.equal(svc.starts, KILLS + 1);
  assert.deepEqual(refused, [], 'every answered compute was 200 or 202');
  assert.equal(new Set(acked.map((a) => a.runKey)).size, acked.length, 'one run per epoch');

  // The last process settles everything by itself: no client call but reads.
  const settledMs = await settle(stub, schema, acked, 30_000);
  assert.ok(acked.length >= KILLS, `the load was real: ${acked.length} acknowledged runs`);
  const records = await stub.admin.parts();
  const stats = await stub.admin.stats();
  const rows = await outboxRows(schema);
  assertNoPartTwice(records, stats, new Set(rows.map((r) => r.part_id)), 'after the kills');
  assertRunsSettled(acked, records, 'after the kills');
  // Every published run (acknowledged or cut short by a kill after its commit) is settled too.
  assert.deepEqual(new Set(records.map((r) => r.part_id)), new Set(rows.map((r) => r.part_id)), 'the ledger holds exactly the published parts');
  assert.deepEqual(rows.filter((r) => r.state !== 'accepted' && r.state !== 'dup').map((r) => `${r.part_id}:${r.state}`), [], 'every outbox row final and acknowledged');
  assert.deepEqual(svc.conflictAlerts(), [], 'no LedgerIntentConflict alert');

  const bound = await bindings(schema);
  const url = svc.url as string;
  for (const a of acked) {
    assert.equal(bound.get(a.epochId)?.runKey, a.runKey, `${a.epochId} is bound to the acknowledged run`);
    const m = await mustCall(url, 'GET', `/epochs/${a.epochId}`);
    assert.equal(m.status, 200, `GET /epochs/${a.epochId}: ${m.status}`);
    assert.equal(m.json.run_key, a.runKey, `${a.epochId}: the served manifest is the acknowledged run`);
    const l = await mustCall(url, 'GET', `/epochs/${a.epochId}/ledger`);
    assert.equal(l.json.state, 'accepted', `${a.epochId}: ledger state`);
  }
  const parts = acked.reduce((n, a) => n + Math.ceil(a.payees / 4096), 0);
  const m = acked.filter((a) => a.payees > 4096).length;
  t.diagnostic(
    `${KILLS} kills in ${(loadMs / 1000).toFixed(1)} s (restart p50 ${median(downtimes).toFixed(0)} ms); ${acked.length} runs acknowledged ` +
      `(${acked.filter((a) => a.status === 202).length} × 202, ${m} multi-part), ${parts} parts; ${lost} calls cut by kills; ` +
      `${bound.size - acked.length} published but unacknowledged runs; settled ${settledMs.toFixed(0)} ms after the last restart's load; ` +
      `ledger: ${stats.accepted} accepted, ${stats.dup} dup`,
  );
});

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

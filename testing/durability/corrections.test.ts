// Corrections on the macronode (SPEC §13, issue 19): two replicas on one PostgreSQL schema, one real
// ledger stub, the ledger down while epochs are superseded, and SIGKILLs of the replicas (the lease
// holders) during the outage and the recovery. Whatever the kills interrupted, once quiet:
// - every actor's net at the ledger equals the amounts of its chain's latest epoch;
// - no part is accepted twice and no conflicting body was ever sent;
// - no part of a superseded epoch that was cancelled ever reached the ledger;
// - every correction document recomputes offline (verifyCorrection) from the published manifests.
//
// Two chains, in programs of their own (same window, different programs): `claimed` is computed
// while the ledger is down but before egress is degraded, so its request claims (leases) every
// part and the successor must wait for their answers (awaiting_basis); `unclaimed` is computed once
// degraded, so its parts are published held, unleased: the successor cancels every one the
// drainers' probes had not claimed, and its basis is what the ledger acknowledged of the others.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ChainManifest, type CorrectionDocument, chainManifest, verifyCorrection } from '../../src/core/correction.js';
import { createRng } from '../ledger-stub/faults.js';
import { type Triple, startStub } from '../ledger/service.js';
import { Replica, freshSchema, mustCall, outboxRows, seal, serviceEnv, tryCall, waitFor } from './cluster.js';

const WINDOW = { start_ms: 1767225600000, end_ms: 1767312000000 };
const enc = new TextEncoder();
const POLICY = enc.encode(JSON.stringify({ schema: 'rewarder.policy/v1', id: 'corr-d', rounding: 'largest_remainder', kinds: { requests: { weight: 1 } } }));

/** `n` actors `prefix-i` with seeded quantities (0 drops the actor): 5000 actors make two parts. */
function inputs(prefix: string, n: number, seed: number): Uint8Array {
  const rng = createRng(seed);
  const events: { actor: string; kind: string; qty: number; ts: number }[] = [];
  const actors: string[] = [];
  for (let i = 0; i < n; i++) {
    const actor = `${prefix}-${String(i).padStart(5, '0')}`;
    const qty = Math.floor(rng() * 50);
    if (qty === 0) continue;
    actors.push(actor);
    events.push({ actor, kind: 'requests', qty, ts: WINDOW.start_ms + i });
  }
  return enc.encode(JSON.stringify({ schema: 'rewarder.inputs/v1', window: WINDOW, pool_minor: '10000000', kinds: ['requests'], actors, events }));
}

async function manifest(url: string, epochId: string): Promise<ChainManifest> {
  const r = await mustCall(url, 'GET', `/epochs/${epochId}`);
  assert.equal(r.status, 200, r.text);
  const m = chainManifest(r.json);
  assert.ok(typeof m !== 'string', String(m));
  return m;
}

test('supersessions during a ledger outage with SIGKILLs of the lease holders end at the latest amounts, nothing cancelled sent, nothing twice', { timeout: 240_000 }, async (t) => {
  const rng = createRng(0x19_c0ff);
  const stub = await startStub(t, { seed: 1905 });
  const schema = freshSchema(t);
  // Generous egress budgets: only the outage should degrade egress, not CPU noise.
  const env = serviceEnv(schema.name, stub.url, { LEDGER_P95_BUDGET_MS: '2000', LEDGER_P99_BUDGET_MS: '4000', TENANT_RPS_MAX: '100000' });
  const r1 = new Replica(t, env, 'r1');
  const r2 = new Replica(t, env, 'r2');
  const u1 = await r1.start();
  await r2.start();
  const docs = {
    claimedOld: inputs('c', 5000, 1),
    claimedNew: inputs('c', 5000, 2),
    // Five parts: the drainers' probes (one part at a time each, oldest first) may claim one or
    // two of them before the supersession; the rest must be cancelled.
    unclaimedOld: inputs('u', 20000, 3),
    unclaimedNew: inputs('u', 20000, 4),
  };
  const triples: Record<keyof typeof docs, Triple> = {
    claimedOld: await seal(u1, { inputs: docs.claimedOld, policy: POLICY }),
    claimedNew: await seal(u1, { inputs: docs.claimedNew, policy: POLICY }),
    unclaimedOld: await seal(u1, { inputs: docs.unclaimedOld, policy: POLICY }),
    unclaimedNew: await seal(u1, { inputs: docs.unclaimedNew, policy: POLICY }),
  };

  await stub.admin.setFaults({ down: true });
  // Healthy egress when published: the request leases its parts and tries to send them (202, held).
  const c1 = await mustCall(u1, 'POST', '/epochs/claimed:v1/compute', triples.claimedOld);
  assert.equal(c1.status, 202, c1.text);
  const degraded = await waitFor(20_000, async () => (await mustCall(u1, 'GET', '/epochs/claimed:v1/ledger')).json.degraded === true);
  assert.ok(degraded, 'egress degrades while the ledger is down');
  // Degraded when published: held, unleased, never claimed (the drainer probes older parts).
  const u1v1 = await mustCall(u1, 'POST', '/epochs/unclaimed:v1/compute', triples.unclaimedOld);
  assert.equal(u1v1.status, 202, u1v1.text);
  assert.equal(u1v1.json.ledger.state, 'held');

  // Supersede both from the other replica.
  const u2 = r2.url as string;
  const c2 = await mustCall(u2, 'POST', '/epochs/claimed:v2/compute', { ...triples.claimedNew, supersedes: 'claimed:v1' });
  assert.equal(c2.status, 202, c2.text);
  assert.equal(c2.json.ledger.state, 'awaiting_basis', 'claimed parts of the old epoch may have been sent: the correction waits');
  const listed = await mustCall(u2, 'GET', '/programs/claimed/epochs');
  assert.equal(listed.json.epochs.find((e: { epoch_id: string }) => e.epoch_id === 'claimed:v2')?.ledger.state, 'awaiting_basis');
  const u2v2 = await mustCall(u2, 'POST', '/epochs/unclaimed:v2/compute', { ...triples.unclaimedNew, supersedes: 'unclaimed:v1' });
  assert.equal(u2v2.status, 202, u2v2.text);
  const oldRows = await schema.sql<{ state: string; claimed: boolean }[]>`
    SELECT state, claimed FROM ${schema.sql(`${schema.name}.outbox`)} WHERE epoch_id = 'unclaimed:v1' ORDER BY idx`;
  assert.equal(oldRows.length, 5);
  for (const r of oldRows) assert.equal(r.state === 'cancelled', !r.claimed, `cancelled exactly when never claimed: ${JSON.stringify(r)}`);
  assert.ok(oldRows.filter((r) => r.state === 'cancelled').length >= 3, 'most parts were never claimed, and are cancelled');

  // Kills while down, then recovery with more kills (each replica in turn holds the leases).
  for (let k = 0; k < 4; k++) {
    const victim = k % 2 === 0 ? r1 : r2;
    await sleep(100 + Math.floor(rng() * 400));
    await victim.kill('SIGKILL');
    await victim.start();
  }
  await stub.admin.clearFaults();
  for (let k = 0; k < 3; k++) {
    const victim = k % 2 === 0 ? r2 : r1;
    await sleep(50 + Math.floor(rng() * 300));
    await victim.kill('SIGKILL');
    await victim.start();
  }

  const url = r1.url as string;
  const quiet = await waitFor(90_000, async () => {
    for (const e of ['claimed:v2', 'unclaimed:v2']) {
      const l = await tryCall(url, 'GET', `/epochs/${e}/ledger`);
      if (l?.json?.state !== 'accepted') return false;
    }
    return true;
  }, 200);
  assert.ok(quiet, `settled: ${JSON.stringify((await outboxRows(schema)).filter((r) => !['accepted', 'dup', 'cancelled'].includes(r.state)).slice(0, 5))}`);

  // The end state at the ledger: each chain's actors at the latest epoch's amounts.
  const balances = new Map((await stub.admin.balances()).map((b) => [b.actor, b.net_minor]));
  for (const [latest, prefix] of [['claimed:v2', 'c-'], ['unclaimed:v2', 'u-']] as const) {
    const m = await manifest(url, latest);
    const want = new Map(m.payouts.filter((p) => p.amount > 0n).map((p) => [p.actor, String(p.amount)]));
    const got = new Map([...balances].filter(([a, v]) => a.startsWith(prefix) && v !== '0'));
    assert.deepEqual(got, want, `${latest}: every actor's net equals the latest amounts`);
  }
  // Nothing twice, no conflicting body, nothing cancelled ever sent.
  const records = await stub.admin.parts();
  const stats = await stub.admin.stats();
  assert.equal(stats.accepted, records.length, 'no part accepted twice');
  assert.equal(stats.conflict, 0);
  const rows = await outboxRows(schema);
  const cancelledIds = new Set(rows.filter((r) => r.state === 'cancelled').map((r) => r.part_id));
  assert.ok(cancelledIds.size >= 2);
  assert.deepEqual(records.filter((r) => cancelledIds.has(r.part_id)).map((r) => r.part_id), [], 'no cancelled part reached the ledger');
  const published = new Set(rows.map((r) => r.part_id));
  assert.deepEqual(records.filter((r) => !published.has(r.part_id)).map((r) => r.part_id), [], 'nothing unpublished was sent');
  assert.deepEqual([...r1.conflictAlerts(), ...r2.conflictAlerts()], []);

  // The claimed chain settled by a correction that recomputes offline.
  const doc = await mustCall(url, 'GET', '/epochs/claimed:v2/correction');
  assert.equal(doc.status, 200, doc.text);
  const [old, next] = [await manifest(url, 'claimed:v1'), await manifest(url, 'claimed:v2')];
  assert.equal(verifyCorrection(doc.json as CorrectionDocument, [old, next], []), null);
  assert.equal((doc.json as CorrectionDocument).basis.length, 2, 'both parts of the old epoch were acknowledged before the correction was fixed');
  // The other chain: a correction over the parts a probe had claimed (all acknowledged since), or
  // a plain intent when none had been.
  const claimedOld = oldRows.filter((r) => r.claimed).length;
  const other = await mustCall(url, 'GET', '/epochs/unclaimed:v2/correction');
  if (claimedOld === 0) assert.equal(other.status, 404);
  else {
    assert.equal(other.status, 200, other.text);
    assert.equal((other.json as CorrectionDocument).basis.length, claimedOld);
    const [uOld, uNext] = [await manifest(url, 'unclaimed:v1'), await manifest(url, 'unclaimed:v2')];
    assert.equal(verifyCorrection(other.json as CorrectionDocument, [uOld, uNext], []), null);
  }
  t.diagnostic(`${records.length} parts at the ledger, ${stats.dup} dup answers, ${cancelledIds.size} cancelled`);
});

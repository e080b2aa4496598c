// Three replicas on one database, end to end: three service processes (macronode, one PostgreSQL
// schema, one real ledger stub) started together and hammered concurrently with the same epochs,
// each epoch asked of every replica at once, some also with another policy on purpose. The epoch
// binding is a primary key, so each epoch is bound once: one request publishes, the others replay
// (Idempotent-Replayed) or get 409 CONFLICT when they asked for another policy, and the drainers of
// all three share the outbox without sending any part twice or a different body under a part_id.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generate } from '../../src/gen/generate.js';
import { createRng } from '../ledger-stub/faults.js';
import { type Triple, startStub } from '../ledger/service.js';
import {
  type Acked,
  type Answer,
  Replica,
  ackedOf,
  assertNoPartTwice,
  assertRunsSettled,
  bindings,
  computeAt,
  freshSchema,
  ledgerSnapshot,
  liveParts,
  mustCall,
  outboxRows,
  partsOfRun,
  serviceEnv,
  settle,
  waitFor,
  seal,
} from './cluster.js';

const REPLICAS = 3;
const EPOCHS = 18;
/** Epochs raced at the same time (each by four or five requests). */
const WAVE = 3;

interface Ask {
  epochId: string;
  replica: number;
  triple: Triple;
  /** The epoch's own triple (true) or the conflicting one with another policy (false). */
  main: boolean;
}

test('three replicas racing on the same epochs bind each epoch once, replay or 409 the losers, and settle each part exactly once', { timeout: 90_000 }, async (t) => {
  const rng = createRng(0x3e_91_1ca5);
  const stub = await startStub(t, { seed: 505 });
  const schema = freshSchema(t);
  // Long leases: nothing is killed here, so a part is only ever re-sent if replicas fail to share.
  // Busy drainers (a claim every 20 ms on each replica) make any window in which one of them could
  // take a freshly published part from its publishing request wide enough to hit.
  const env = serviceEnv(schema.name, stub.url, {
    LEDGER_P95_BUDGET_MS: '2000',
    LEDGER_P99_BUDGET_MS: '4000',
    LEDGER_LEASE_MS: '5000',
    LEDGER_PROBE_INTERVAL_MS: '20',
  });
  const replicas = Array.from({ length: REPLICAS }, (_, i) => new Replica(t, env, `replica-${i}`));
  // Started together: the migrations race too (serialised by an advisory lock).
  const urls = await Promise.all(replicas.map((r) => r.start()));

  // Two sealed S documents with their policies; the conflicting ask of an epoch keeps its inputs
  // and takes the other document's policy.
  const a = await seal(urls[0] as string, generate({ scale: 'S', seed: 41, form: 'columnar' }));
  const b = await seal(urls[1] as string, generate({ scale: 'S', seed: 42, form: 'columnar' }));
  // One M document (three parts per run) so a part can be claimed by one replica's drainer while
  // another replica's request emits the rest.
  const m = await seal(urls[2] as string, generate({ scale: 'M', seed: 43, form: 'columnar' }));
  const main = (e: number): Triple => (e % 6 === 5 ? m : e % 2 === 0 ? a : b);
  const other = (e: number): Triple => ({ ...main(e), policy_id: (e % 2 === 0 ? b : a).policy_id, policy_hash: (e % 2 === 0 ? b : a).policy_hash });

  const asks: Ask[] = [];
  for (let e = 0; e < EPOCHS; e++) {
    // Each epoch its own program: epochs of one program may not pay overlapping windows (SPEC §10).
    const epochId = `e${String(e).padStart(2, '0')}:replicas-${String(e).padStart(2, '0')}`;
    // Every replica once, one replica twice (single flight inside a process), and on every other
    // epoch one ask with the other policy on a random replica.
    for (let r = 0; r < REPLICAS; r++) asks.push({ epochId, replica: r, triple: main(e), main: true });
    asks.push({ epochId, replica: Math.floor(rng() * REPLICAS), triple: main(e), main: true });
    if (e % 2 === 1) asks.push({ epochId, replica: Math.floor(rng() * REPLICAS), triple: other(e), main: false });
  }

  const answers = new Map<Ask, Answer | null>();
  const t0 = performance.now();
  for (let w = 0; w < EPOCHS; w += WAVE) {
    const wave = asks.filter((q) => Number(q.epochId.slice(-2)) >= w && Number(q.epochId.slice(-2)) < w + WAVE);
    shuffle(wave, rng);
    await Promise.all(wave.map(async (q) => answers.set(q, await computeAt(urls[q.replica] as string, q.epochId, q.triple))));
  }
  const raceMs = performance.now() - t0;

  // Every ask answered, and only with 200, 202 or 409.
  for (const [q, ans] of answers) {
    assert.ok(ans !== null, `${q.epochId} on replica ${q.replica}: no answer`);
    assert.ok([200, 202, 409].includes(ans.status), `${q.epochId} on replica ${q.replica}: ${ans.status} ${ans.text.slice(0, 300)}`);
  }

  // Exactly one binding per epoch, and it is the one triple that was answered without replay.
  const counts = await schema.sql<{ epoch_id: string; n: number }[]>`
    SELECT epoch_id, count(*)::int AS n FROM ${schema.sql(`${schema.name}.epochs`)} GROUP BY epoch_id ORDER BY epoch_id`;
  assert.equal(counts.length, EPOCHS, 'every epoch bound');
  assert.ok(counts.every((c) => c.n === 1), `one binding per epoch: ${JSON.stringify(counts.filter((c) => c.n !== 1))}`);
  const bound = await bindings(schema);
  const winners: Acked[] = [];
  let conflicts = 0;
  let replays = 0;
  let mainLost = 0;
  for (let e = 0; e < EPOCHS; e++) {
    const epochId = `e${String(e).padStart(2, '0')}:replicas-${String(e).padStart(2, '0')}`;
    const mine = [...answers].filter(([q]) => q.epochId === epochId) as [Ask, Answer][];
    const binding = bound.get(epochId);
    assert.ok(binding !== undefined);
    const isBound = (q: Ask) => q.triple.inputs_cid === binding.inputsCid && q.triple.policy_hash === binding.policyHash;
    const created = mine.filter(([, ans]) => (ans.status === 200 || ans.status === 202) && !ans.replayed);
    assert.equal(created.length, 1, `${epochId}: exactly one request published (got ${created.length})`);
    const [[wq, wa]] = created as [[Ask, Answer]];
    assert.ok(isBound(wq), `${epochId}: the publishing request's triple is the binding`);
    assert.equal(wa.json.run_key, binding.runKey, `${epochId}: the publisher's run_key is bound`);
    // With a healthy ledger the publisher emits its own parts before answering: no other replica's
    // drainer may take them from under it (they are published leased to it).
    assert.equal(wa.status, 200, `${epochId}: the publisher answers 200 (${wa.text.slice(0, 200)})`);
    const expected = wa.json.counts.payees > 0 ? 'accepted' : 'none'; // a run without payees has no parts
    assert.deepEqual(wa.json.ledger, { state: expected }, `${epochId}: the publisher saw its run ${expected}`);
    winners.push(ackedOf(epochId, wa));
    if (!wq.main) mainLost++;
    for (const [q, ans] of mine) {
      if (ans === wa) continue;
      if (isBound(q)) {
        assert.ok(ans.status === 200 || ans.status === 202, `${epochId}: a loser with the bound triple replays (${ans.status} ${ans.text.slice(0, 200)})`);
        assert.equal(ans.replayed, true, `${epochId}: Idempotent-Replayed on the loser`);
        assert.equal(ans.json.run_key, binding.runKey, `${epochId}: the replay is the bound run`);
        replays++;
      } else {
        assert.equal(ans.status, 409, `${epochId}: another policy for a bound epoch is a conflict (${ans.status})`);
        assert.equal(ans.json.error.code, 'CONFLICT');
        assert.deepEqual(ans.json.error.details.differs, ['policy_hash']);
        conflicts++;
      }
    }
  }
  assert.ok(conflicts > 0, 'some asks conflicted on purpose');
  // Every replica serves the one bound manifest, byte for byte.
  for (const [epochId, binding] of bound) {
    const served = await Promise.all(urls.map((u) => mustCall(u, 'GET', `/epochs/${epochId}`)));
    assert.ok(served.every((x) => x.status === 200 && x.text === served[0]?.text), `${epochId}: the same manifest from every replica`);
    assert.equal(served[0]?.json.run_key, binding.runKey, `${epochId}: the manifest is the bound run`);
  }

  // The outbox holds each bound run's parts once; the ledger gets each of them exactly once.
  const settledMs = await settle(stub, schema, winners, 30_000);
  const rows = await outboxRows(schema);
  for (const w of winners) {
    const own = rows.filter((r) => r.epoch_id === w.epochId);
    assert.equal(own.length, partsOfRun(w.payees), `${w.epochId}: outbox rows`);
    assert.ok(own.every((r) => r.run_key === w.runKey), `${w.epochId}: outbox rows of the bound run only`);
  }
  const records = await stub.admin.parts();
  const stats = await stub.admin.stats();
  assertNoPartTwice(records, stats, new Set(rows.map((r) => r.part_id)), 'three replicas');
  assertRunsSettled(winners, records, 'three replicas');
  assert.equal(records.length, rows.length, 'every outbox part at the ledger');
  assert.deepEqual(rows.filter((r) => r.state !== 'accepted' && r.state !== 'dup').map((r) => `${r.part_id}:${r.state}`), []);
  for (const r of replicas) assert.deepEqual(r.conflictAlerts(), [], `${r.name}: no LedgerIntentConflict alert`);
  // Dups are allowed by the contract, but with a healthy ledger, live leases and nobody killed, a
  // resend means two replicas sent a part at once: the leases (FOR UPDATE SKIP LOCKED) failed.
  assert.ok(stats.dup <= Math.floor(rows.length / 10), `replicas share the outbox without resending: ${stats.dup} dups for ${rows.length} parts`);
  t.diagnostic(
    `${asks.length} asks over ${EPOCHS} epochs in ${raceMs.toFixed(0)} ms: ${EPOCHS} published (${mainLost} by the other policy), ` +
      `${replays} replays, ${conflicts} × 409; ${rows.length} parts settled ${settledMs.toFixed(0)} ms later; ledger ${stats.accepted} accepted, ${stats.dup} dup`,
  );
});

test('a replica killed mid-emission leaves its run to another replica, which settles every part exactly once without a restart', { timeout: 60_000 }, async (t) => {
  // 200 ms a part: a three-part run takes ~0.6 s to emit, a window to kill the emitter in.
  const stub = await startStub(t, { seed: 707, faults: { latency_ms: { min: 200, max: 200 } } });
  const schema = freshSchema(t);
  const env = serviceEnv(schema.name, stub.url, { LEDGER_P95_BUDGET_MS: '2000', LEDGER_P99_BUDGET_MS: '4000', LEDGER_DEADLINE_MS: '1000' });
  const emitter = new Replica(t, env, 'emitter');
  const survivor = new Replica(t, env, 'survivor');
  const [eu, su] = await Promise.all([emitter.start(), survivor.start()]);
  const m = await seal(eu, generate({ scale: 'M', seed: 71, form: 'columnar' }));

  const epochId = 'handover-m';
  const cut = computeAt(eu, epochId, m, 30_000);
  // Published (its parts are in the outbox), and the first part has reached the ledger: kill.
  const published = await waitFor(20_000, async () => (await outboxRows(schema)).length > 0, 20);
  assert.ok(published, 'the run is published');
  const rows = await outboxRows(schema);
  assert.ok(rows.length >= 2, `a multi-part run (${rows.length} parts)`);
  assert.ok(await waitFor(5_000, async () => (await stub.admin.parts()).length >= 1, 20), 'the first part reaches the ledger');
  await emitter.kill('SIGKILL');
  assert.equal(await cut, null, 'the compute was cut by the kill');
  const before = await stub.admin.parts();
  assert.ok(before.length < rows.length, `the kill landed mid-emission (${before.length} of ${rows.length} parts sent)`);

  // The survivor's drainer takes the parts over once the dead emitter's leases expire.
  const settled = await waitFor(15_000, async () => (await stub.admin.parts()).length >= rows.length && (await liveParts(schema)) === 0);
  const records = await stub.admin.parts();
  const stats = await stub.admin.stats();
  assert.ok(settled, `settled by the survivor: ${records.length} of ${rows.length} parts at the ledger`);
  assertNoPartTwice(records, stats, new Set(rows.map((r) => r.part_id)), 'handover');
  assert.deepEqual(records.map((r) => r.part_id).sort(), rows.map((r) => r.part_id).sort(), 'every part at the ledger');
  const sentBefore = new Set(before.map((r) => r.part_id));
  const takenOver = records.filter((r) => !sentBefore.has(r.part_id));
  assert.ok(takenOver.length > 0 && takenOver.every((r) => r.x_corr_id?.startsWith('drain-')), 'the rest was sent by a drainer, not a request');
  assert.equal(emitter.starts, 1, 'the emitter was never restarted');

  // The run is the survivor's to serve now: a replay, settled.
  const replay = await computeAt(su, epochId, m);
  assert.equal(replay?.status, 200, replay?.text);
  assert.equal(replay.replayed, true);
  assert.deepEqual(replay.json.ledger, { state: 'accepted' });
  t.diagnostic(`${rows.length} parts: ${before.length} sent before the kill, ${takenOver.length} taken over; ${stats.dup} dup`);
});

test('a replica stopped with SIGTERM hands back the parts it leased: another replica settles them long before the lease would run out', { timeout: 60_000 }, async (t) => {
  // 200 ms a part and a 100 ms grace: the SIGTERM cuts the request emitting its run. Leases of a
  // minute: only a hand-back lets the survivor take the rest within the 15 s asserted below.
  const stub = await startStub(t, { seed: 708, faults: { latency_ms: { min: 200, max: 200 } } });
  const schema = freshSchema(t);
  const env = serviceEnv(schema.name, stub.url, {
    LEDGER_P95_BUDGET_MS: '2000',
    LEDGER_P99_BUDGET_MS: '4000',
    LEDGER_DEADLINE_MS: '1000',
    LEDGER_LEASE_MS: '60000',
    SHUTDOWN_GRACE_MS: '100',
  });
  const stopping = new Replica(t, env, 'stopping');
  const survivor = new Replica(t, env, 'survivor');
  const [eu] = await Promise.all([stopping.start(), survivor.start()]);
  const m = await seal(eu, generate({ scale: 'M', seed: 72, form: 'columnar' }));

  const cut = computeAt(eu, 'handback-m', m, 30_000);
  assert.ok(await waitFor(20_000, async () => (await outboxRows(schema)).length > 0, 20), 'the run is published');
  const rows = await outboxRows(schema);
  assert.ok(rows.length >= 2, `a multi-part run (${rows.length} parts)`);
  const t0 = performance.now();
  await stopping.kill('SIGTERM');
  await cut;
  const before = await stub.admin.parts();
  assert.ok(before.length < rows.length, `the stop landed mid-emission (${before.length} of ${rows.length} parts sent)`);

  const settled = await waitFor(15_000, async () => (await liveParts(schema)) === 0 && (await stub.admin.parts()).length >= rows.length);
  const { records, stats } = await ledgerSnapshot(stub);
  assert.ok(settled, `settled by the survivor within 15 s of the stop (lease 60 s): ${records.length} of ${rows.length} parts at the ledger`);
  assertNoPartTwice(records, stats, new Set(rows.map((r) => r.part_id)), 'hand-back');
  assert.deepEqual(records.map((r) => r.part_id).sort(), rows.map((r) => r.part_id).sort(), 'every part at the ledger');
  t.diagnostic(`${rows.length} parts: ${before.length} sent before the stop, the rest settled ${(performance.now() - t0).toFixed(0)} ms after SIGTERM`);
});

function shuffle<T>(xs: T[], rng: () => number): void {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [xs[i], xs[j]] = [xs[j] as T, xs[i] as T];
  }
}

// SPEC §10 on macronode: two service processes on one PostgreSQL schema. Many concurrent binds of
// overlapping windows in one program, spread over both processes, bind exactly one epoch (the
// database's exclusion constraint decides, not a check in either process); every loser is a
// 409 WINDOW_OVERLAP naming the winner. Tenancy holds across the processes: another tenant's
// epochs, documents and listings are 404 on either of them.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { type Reply, type SpawnedServer, assertErrorEnvelope, bearer, get, post, put, spawnServer, tempDir, writeTokensFile } from '../harness.js';
import { DATABASE_URL, freshSchema } from './cluster.js';

const ALL = ['rewarder.seal', 'rewarder.run', 'rewarder.inspect'];
const DAY = 86_400_000;
const JAN1 = 1_767_225_600_000;
const POLICY = JSON.stringify({ schema: 'rewarder.policy/v1', id: 'p', rounding: 'floor', kinds: { bytes_served: { weight: 1 } } });

/** Inputs over [start, end): distinct bounds make distinct CIDs. */
function inputsFor(start: number, end: number): string {
  return JSON.stringify({
    schema: 'rewarder.inputs/v1',
    window: { start_ms: start, end_ms: end },
    pool_minor: '1000',
    kinds: ['bytes_served'],
    actors: ['did:ron:alice', 'did:ron:bob'],
    events: [
      { actor: 'did:ron:alice', kind: 'bytes_served', qty: 2, ts: start },
      { actor: 'did:ron:bob', kind: 'bytes_served', qty: 1, ts: start },
    ],
  });
}

test('two replicas: concurrent overlapping binds in one program bind exactly one epoch, and tenants stay apart', { timeout: 120_000 }, async (t) => {
  const schema = freshSchema(t);
  const tmp = tempDir();
  t.after(tmp.remove);
  const acme = randomBytes(24).toString('base64url');
  const globex = randomBytes(24).toString('base64url');
  const tokens = writeTokensFile(tmp.dir, [
    { tenant: 'acme', scopes: ALL, token: acme, programs: ['acme'] },
    { tenant: 'globex', scopes: ALL, token: globex, programs: ['globex'] },
  ]);
  const env = {
    PROFILE: 'macronode',
    DATABASE_URL,
    DATABASE_SCHEMA: schema.name,
    AUTH: 'on',
    TOKENS_FILE: tokens,
    TENANT_RPS_MAX: '100000',
    CONCURRENCY_COMPUTE_WORKERS: '1',
  };
  // The first start migrates the schema; the second finds it done.
  const a = await spawnServer(env);
  t.after(() => a.stop());
  const b = await spawnServer(env);
  t.after(() => b.stop());
  const replicas: SpawnedServer[] = [a, b];

  const N = 24;
  const H = bearer(acme);
  assert.equal((await put(a.url, '/policies', POLICY, H)).status, 201);
  const policy = { policy_id: 'p', policy_hash: (await put(b.url, '/policies', POLICY, bearer(globex))).json<{ policy_hash: string }>().policy_hash };
  // N windows, each overlapping every other (all contain JAN1 + 12 h), sealed through either replica.
  const cids: string[] = [];
  for (let i = 0; i < N; i++) {
    const r = await put((replicas[i % 2] as SpawnedServer).url, '/inputs', inputsFor(JAN1 + i * 60_000, JAN1 + DAY - i * 60_000), H);
    assert.equal(r.status, 201, r.text);
    cids.push(r.json<{ inputs_cid: string }>().inputs_cid);
  }
  const globexCid = (await put(b.url, '/inputs', inputsFor(JAN1, JAN1 + DAY), bearer(globex))).json<{ inputs_cid: string }>().inputs_cid;

  const answers = await Promise.all([
    ...cids.map((cid, i) => post((replicas[i % 2] as SpawnedServer).url, `/epochs/acme:r${i}/compute`, { inputs_cid: cid, ...policy }, H, 60_000)),
    post(a.url, '/epochs/globex:2026-01-01/compute', { inputs_cid: globexCid, ...policy }, bearer(globex), 60_000),
  ]);
  const acmeAnswers = answers.slice(0, N);
  const won = acmeAnswers.flatMap((r, i) => (r.status === 200 ? [i] : []));
  assert.equal(won.length, 1, `exactly one bind wins: ${acmeAnswers.map((r) => r.status).join(',')}`);
  const winner = `acme:r${won[0] as number}`;
  for (const r of acmeAnswers) {
    if (r.status === 200) continue;
    const d = assertErrorEnvelope(r, { status: 409, code: 'WINDOW_OVERLAP', reason: 'window_overlap' });
    assert.equal(d.epoch_id, winner);
  }
  assert.equal((answers[N] as Reply).status, 200, 'the same window in another program binds');
  const rows = await schema.sql.unsafe<{ epoch_id: string; tenant: string }[]>(`SELECT epoch_id, tenant FROM "${schema.name}".epochs ORDER BY epoch_id`);
  assert.deepEqual(rows.map((r) => [r.epoch_id, r.tenant]), [[winner, 'acme'], ['globex:2026-01-01', 'globex']]);

  // Tenancy on either replica: globex sees none of acme's epochs, documents or listing.
  for (const s of replicas) {
    for (const path of [`/epochs/${winner}`, `/epochs/${winner}/ledger`, `/inputs/${cids[1] as string}`, '/programs/acme/epochs']) {
      const r = await get(s.url, path, bearer(globex));
      assert.equal(r.status, 404, `${path}: ${r.text}`);
      assert.ok(!r.text.includes('b3:'), 'no CID in the answer');
    }
    const listed = (await get(s.url, '/programs/acme/epochs', H)).json<{ epochs: { epoch_id: string; bound: { tenant: string } }[] }>();
    assert.deepEqual(listed.epochs.map((e) => [e.epoch_id, e.bound.tenant]), [[winner, 'acme']]);
  }
});

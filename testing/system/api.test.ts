// The API as a client meets it: one real server process (AUTH=off, memory stores) on loopback,
// driven through the SPEC §9 example bytes and a generated M document.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { checkProof } from '../../src/core/proof.js';
import { generate } from '../../src/gen/generate.js';
import { EXAMPLE, type SpawnedServer, assertErrorEnvelope, get, metricValue, metrics, policyDoc, post, put, spawnServer } from '../harness.js';

const LIMIT = { timeout: 30_000 };
const inputsBytes = readFileSync(EXAMPLE.inputs);
const policyBytes = readFileSync(EXAMPLE.policy);
const manifestBytes = readFileSync(EXAMPLE.manifest);
const triple = { inputs_cid: EXAMPLE.inputsCid, policy_id: EXAMPLE.policyId, policy_hash: EXAMPLE.policyHash };

let server: SpawnedServer | undefined;
let url: string;

before(async () => {
  // No inputs cache: every compute decodes its inputs, so an M compute takes long enough for
  // concurrent requests to overlap it (the single-flight test depends on that).
  server = await spawnServer({ AUTH: 'off', INPUTS_CACHE_MAX_BYTES: '0' });
  url = server.url;
});

after(async () => {
  await server?.stop();
});

async function sealPolicy(doc: string): Promise<{ policy_id: string; policy_hash: string }> {
  const res = await put(url, '/policies', doc);
  assert.ok(res.status === 201 || res.status === 200, res.text);
  return res.json();
}

async function checkExample(prefix: string, first: boolean): Promise<void> {
  const created = first ? 201 : 200;
  for (let i = 0; i < 2; i++) {
    const res = await put(url, `${prefix}/inputs`, inputsBytes);
    assert.equal(res.status, i === 0 ? created : 200, res.text);
    assert.deepEqual(res.json(), { inputs_cid: EXAMPLE.inputsCid, bytes: inputsBytes.length, actors: 5, events: 8 });
  }
  for (let i = 0; i < 2; i++) {
    const res = await put(url, `${prefix}/policies`, policyBytes);
    assert.equal(res.status, i === 0 ? created : 200, res.text);
    assert.deepEqual(res.json(), { policy_id: EXAMPLE.policyId, policy_hash: EXAMPLE.policyHash });
  }

  const run = await post(url, `${prefix}/epochs/2026-01-01/compute`, triple, { 'x-corr-id': `happy${prefix.replace('/', '-')}` });
  assert.equal(run.status, 200, run.text);
  assert.equal(run.headers['x-corr-id'], `happy${prefix.replace('/', '-')}`);
  assert.match(String(run.headers['content-type']), /^application\/json/);
  assert.equal(run.headers['idempotent-replayed'], first ? undefined : 'true');
  const body = run.json<Record<string, unknown>>();
  assert.equal(body.commitment, EXAMPLE.commitment);
  assert.equal(body.payouts_root, EXAMPLE.payoutsRoot);
  assert.equal(body.run_key, 'b3:6f622f2e190b8bad182a928204d6cab66b7e44e1f8372bb51a82facf14a462bb');
  assert.deepEqual(body.totals, {
    below_min_minor: '4',
    capped_minor: '69',
    payout_minor: '927',
    pool_input_minor: '1000',
    pool_minor: '1000',
    residual_minor: '73',
    rounding_dust_minor: '0',
  });
  assert.equal(body.dry_run, false);
  assert.deepEqual(body.ledger, { state: 'none' });

  const manifest = await get(url, `${prefix}/epochs/2026-01-01`);
  assert.equal(manifest.status, 200);
  assert.ok(manifest.body.equals(manifestBytes), 'GET /epochs/2026-01-01 is the SPEC §9 manifest, byte for byte');
  assert.equal(manifest.headers.etag, `"${EXAMPLE.commitment}"`);
  assert.match(String(manifest.headers['content-type']), /^application\/json/);
  const cached = await get(url, `${prefix}/epochs/2026-01-01`, { 'if-none-match': `"${EXAMPLE.commitment}"` });
  assert.equal(cached.status, 304);
  assert.equal(cached.body.length, 0);
  const stale = await get(url, `${prefix}/epochs/2026-01-01`, { 'if-none-match': '"b3:other"' });
  assert.equal(stale.status, 200);

  const inputs = await get(url, `${prefix}/inputs/${EXAMPLE.inputsCid}`);
  assert.equal(inputs.status, 200);
  assert.ok(inputs.body.equals(inputsBytes), 'GET /inputs/{cid} returns the sealed bytes exactly');
  assert.equal(inputs.headers.etag, `"${EXAMPLE.inputsCid}"`);
  const policy = await get(url, `${prefix}/policies/${EXAMPLE.policyHash}`);
  assert.equal(policy.status, 200);
  assert.ok(policy.body.equals(policyBytes), 'GET /policies/{hash} returns the sealed bytes exactly');

  const bob = await get(url, `${prefix}/epochs/2026-01-01/payouts/did:ron:bob`);
  assert.equal(bob.status, 200, bob.text);
  const proof = bob.json<Record<string, unknown>>();
  assert.equal(proof.amount_minor, '400');
  assert.equal(proof.payouts_root, EXAMPLE.payoutsRoot);
  const checked = checkProof(proof, EXAMPLE.payoutsRoot);
  assert.ok(checked.ok, `bob's proof verifies against the SPEC root (${checked.ok ? '' : checked.reason})`);
  // The proof is bound to the amount: a client cannot claim more with the same path.
  assert.equal(checkProof({ ...proof, amount_minor: '401' }, EXAMPLE.payoutsRoot).ok, false);
}

test('the SPEC §9 example seals, computes and reads back byte for byte at /', LIMIT, async () => {
  await checkExample('', true);
});

test('every route of the example is also served under /rewarder', LIMIT, async () => {
  await checkExample('/rewarder', false);
});

test('a repeated compute of the same triple replays a byte-identical body with Idempotent-Replayed', LIMIT, async () => {
  const p = await sealPolicy(policyDoc('replay-1'));
  const req = { inputs_cid: EXAMPLE.inputsCid, policy_id: p.policy_id, policy_hash: p.policy_hash };
  const first = await post(url, '/epochs/replay-epoch:e/compute', req);
  assert.equal(first.status, 200, first.text);
  assert.equal(first.headers['idempotent-replayed'], undefined);
  assert.match(String(first.headers['server-timing']), /queue_and_compute;dur=/);
  for (const prefix of ['', '/rewarder', '']) {
    const again = await post(url, `${prefix}/epochs/replay-epoch:e/compute`, { ...req, notes: 'notes do not change the run' });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.ok(again.body.equals(first.body), 'the replay is byte-identical');
  }
});

test('a different policy or inputs for a bound epoch is a 409 CONFLICT naming what differs', LIMIT, async () => {
  const p1 = await sealPolicy(policyDoc('conflict-1'));
  const p2 = await sealPolicy(policyDoc('conflict-2'));
  const other = await put(url, '/inputs', inputsBytes.toString().replace('"pool_minor":"1000"', '"pool_minor":"2000"'));
  assert.equal(other.status, 201, other.text);
  const otherCid = other.json<{ inputs_cid: string }>().inputs_cid;
  const bound = await post(url, '/epochs/conflict-epoch:e/compute', { inputs_cid: EXAMPLE.inputsCid, policy_id: p1.policy_id, policy_hash: p1.policy_hash });
  assert.equal(bound.status, 200, bound.text);

  const cases: [Record<string, string>, string[]][] = [
    [{ inputs_cid: EXAMPLE.inputsCid, policy_id: p2.policy_id, policy_hash: p2.policy_hash }, ['policy_hash']],
    [{ inputs_cid: otherCid, policy_id: p1.policy_id, policy_hash: p1.policy_hash }, ['inputs_cid']],
    [{ inputs_cid: otherCid, policy_id: p2.policy_id, policy_hash: p2.policy_hash }, ['inputs_cid', 'policy_hash']],
  ];
  for (const [req, differs] of cases) {
    const res = await post(url, '/epochs/conflict-epoch:e/compute', req);
    assert.equal(res.status, 409, res.text);
    const e = res.json<{ error: { code: string; details: Record<string, unknown> } }>().error;
    assert.equal(e.code, 'CONFLICT');
    assert.equal(e.details.reason, 'epoch_bound');
    assert.deepEqual(e.details.differs, differs);
    assert.deepEqual(e.details.bound, { inputs_cid: EXAMPLE.inputsCid, policy_hash: p1.policy_hash });
  }
  // The binding did not move: the manifest is still the first run's.
  const m = await get(url, '/epochs/conflict-epoch:e');
  assert.equal(m.headers.etag, `"${bound.json<{ commitment: string }>().commitment}"`);
});

const M = generate({ scale: 'M', seed: 11, form: 'row' });
let mRequest: { inputs_cid: string; policy_id: string; policy_hash: string } | undefined;

test('a multi-megabyte inputs document is sealed with its true size and served back byte for byte', LIMIT, async () => {
  const sealed = await put(url, '/inputs', M.inputs);
  assert.equal(sealed.status, 201, sealed.text);
  const info = sealed.json<{ inputs_cid: string; bytes: number; actors: number; events: number }>();
  assert.equal(info.bytes, M.inputs.length);
  assert.deepEqual([info.actors, info.events], [10_000, 100_000]);
  const back = await get(url, `/inputs/${info.inputs_cid}`);
  assert.equal(back.status, 200);
  assert.ok(back.body.equals(M.inputs), 'the stored document is intact after sealing');
  const policy = await put(url, '/policies', M.policy);
  assert.equal(policy.status, 201, policy.text);
  mRequest = { inputs_cid: info.inputs_cid, ...policy.json<{ policy_id: string; policy_hash: string }>() };
});

test('concurrent identical computes of a fresh epoch run once and all get the same 200 body', LIMIT, async () => {
  assert.ok(mRequest !== undefined, 'the M document was sealed by the previous test');
  const req = mRequest;

  const before = await metrics(url);
  const N = 8;
  const sentAt: number[] = [];
  const doneAt: number[] = [];
  const replies = await Promise.all(
    Array.from({ length: N }, async () => {
      sentAt.push(performance.now());
      const r = await post(url, '/epochs/single-flight:e/compute', req);
      doneAt.push(performance.now());
      return r;
    }),
  );
  const afterText = await metrics(url);

  // Precondition: the requests really were in flight together.
  assert.ok(Math.max(...sentAt) < Math.min(...doneAt), 'all requests were sent before the first answer came back');
  for (const r of replies) {
    assert.equal(r.status, 200, r.text);
    assert.ok(r.body.equals((replies[0] as (typeof replies)[0]).body), 'every answer has the same bytes');
  }
  assert.equal(replies.filter((r) => r.headers['idempotent-replayed'] === 'true').length, N - 1);
  const delta = (name: string, labels: Record<string, string> = {}) => metricValue(afterText, name, labels) - metricValue(before, name, labels);
  assert.equal(delta('reward_runs_total', { status: 'published' }), 1);
  assert.equal(delta('reward_compute_latency_seconds_count'), 1, 'the pool computed the epoch exactly once');
});

test('a deadline too short for an M compute is a 504 before the pool is used, and binds nothing', LIMIT, async () => {
  assert.ok(mRequest !== undefined, 'the M document was sealed by an earlier test');
  const before = await metrics(url);
  // 3 ms: more than reading the request takes, less than any estimate of an M run (10k actors).
  const res = await post(url, '/epochs/m-too-late:e/compute', { ...mRequest, deadline_ms: 3 }, { 'x-corr-id': 'm-too-late' });
  const d = assertErrorEnvelope(res, { status: 504, code: 'DEADLINE_EXCEEDED', reason: 'deadline_estimate', corrId: 'm-too-late' });
  assert.equal(d.deadline_ms, 3);
  assert.equal(typeof d.elapsed_ms, 'number');
  assert.equal(res.headers['x-deadline-exceeded-by-ms'], String(d.exceeded_by_ms));
  assert.match(String(res.headers['retry-after']), /^[1-9][0-9]*$/);
  const afterText = await metrics(url);
  const delta = (name: string, labels: Record<string, string> = {}) => metricValue(afterText, name, labels) - metricValue(before, name, labels);
  assert.equal(delta('reward_compute_latency_seconds_count'), 0, 'refused before it was queued');
  assert.equal(delta('rejected_total', { reason: 'deadline_estimate' }), 1);
  assert.equal(delta('deadline_enforced_total', { stage: 'estimate' }), 1);
  assert.equal((await get(url, '/epochs/m-too-late:e')).status, 404);
  // With the default deadline the same request runs.
  const ok = await post(url, '/epochs/m-too-late:e/compute', mRequest);
  assert.equal(ok.status, 200, ok.text);
});

test('a dry run computes without binding the epoch', LIMIT, async () => {
  const p1 = await sealPolicy(policyDoc('dry-1'));
  const p2 = await sealPolicy(policyDoc('dry-2', 2));
  const req1 = { inputs_cid: EXAMPLE.inputsCid, policy_id: p1.policy_id, policy_hash: p1.policy_hash };
  const dry = await post(url, '/epochs/dry-epoch:e/compute', { ...req1, dry_run: true });
  assert.equal(dry.status, 200, dry.text);
  assert.equal(dry.headers['idempotent-replayed'], undefined);
  const body = dry.json<{ dry_run: boolean; ledger: { state: string }; epoch_id: string }>();
  assert.equal(body.dry_run, true);
  assert.equal(body.epoch_id, 'dry-epoch:e');
  assert.equal((await get(url, '/epochs/dry-epoch:e')).status, 404, 'nothing was published');

  // The epoch is still free: a real compute with another policy binds it.
  const real = await post(url, '/epochs/dry-epoch:e/compute', { inputs_cid: EXAMPLE.inputsCid, policy_id: p2.policy_id, policy_hash: p2.policy_hash });
  assert.equal(real.status, 200, real.text);
  assert.equal(real.json<{ dry_run: boolean }>().dry_run, false);
  assert.equal((await get(url, '/epochs/dry-epoch:e')).status, 200);
  // … and from then on the dry run's policy conflicts like any other.
  const late = await post(url, '/epochs/dry-epoch:e/compute', req1);
  assert.equal(late.status, 409, late.text);
});

// Programs and tenancy (SPEC §10) on a real server over loopback with several tenants: nothing of
// another tenant's epochs or documents can be seen, blocked or spent through; a usage window is
// paid once per program; budgets and quotas refuse before any work.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  EXAMPLE,
  type InProcessServer,
  type Reply,
  assertErrorEnvelope,
  bearer,
  get,
  metricValue,
  metrics,
  parseLabels,
  post,
  put,
  request,
  startInProcess,
  tempDir,
  until,
  writeTokensFile,
} from '../harness.js';

const LIMIT = { timeout: 60_000 };
const ALL = ['rewarder.seal', 'rewarder.run', 'rewarder.inspect'];
const token = () => randomBytes(24).toString('base64url');
const T = { acme: token(), acmeReader: token(), globex: token(), ops: token(), plain: token(), plain2: token(), small: token(), acmeAdmin: token(), acmeCorrector: token() };
const SECRETS = Object.values(T);
const inputsBytes = readFileSync(EXAMPLE.inputs);
const policyBytes = readFileSync(EXAMPLE.policy);
const triple = { inputs_cid: EXAMPLE.inputsCid, policy_id: EXAMPLE.policyId, policy_hash: EXAMPLE.policyHash };
const DAY = 86_400_000;
/** Room for the example's two documents and 100 bytes more. */
const SMALL_QUOTA = inputsBytes.length + policyBytes.length + 100;
const JAN1 = 1_767_225_600_000;

/** An inputs document over `[start, end)` paying `pool` (distinct windows make distinct CIDs). */
function inputsFor(start: number, end: number, pool = '1000'): string {
  return JSON.stringify({
    schema: 'rewarder.inputs/v1',
    window: { start_ms: start, end_ms: end },
    pool_minor: pool,
    kinds: ['bytes_served'],
    actors: ['did:ron:alice', 'did:ron:bob'],
    events: [
      { actor: 'did:ron:alice', kind: 'bytes_served', qty: 3, ts: start },
      { actor: 'did:ron:bob', kind: 'bytes_served', qty: 1, ts: start },
    ],
  });
}

const tmp = tempDir();
const auditDir = join(tmp.dir, 'audit');
let server: InProcessServer | undefined;
let url = '';

before(async () => {
  const tokens = writeTokensFile(tmp.dir, [
    { tenant: 'acme', scopes: ALL, token: T.acme, programs: ['acme-poc'] },
    { tenant: 'acme', scopes: ['rewarder.inspect'], token: T.acmeReader, programs: ['acme-poc'] },
    { tenant: 'globex', scopes: ALL, token: T.globex, programs: ['globex'] },
    { tenant: 'ops', scopes: ['rewarder.inspect'], token: T.ops, programs: ['*'] },
    { tenant: 'plain', scopes: ALL, token: T.plain },
    { tenant: 'plain2', scopes: ALL, token: T.plain2 },
    { tenant: 'small', scopes: ALL, token: T.small, programs: ['small'], storeMaxBytes: SMALL_QUOTA },
    { tenant: 'acme', scopes: ['rewarder.admin'], token: T.acmeAdmin, programs: ['acme-poc'] },
    { tenant: 'acme', scopes: ['rewarder.run', 'rewarder.correct'], token: T.acmeCorrector, programs: ['acme-poc'] },
  ]);
  const programs = join(tmp.dir, 'programs.json');
  writeFileSync(programs, JSON.stringify({ 'acme-poc': { max_pool_minor: '5000' }, small: {} }));
  server = await startInProcess({
    AUTH: 'on',
    TOKENS_FILE: tokens,
    PROGRAMS_FILE: programs,
    TENANT_STORE_MAX_BYTES: '1000000',
    TENANT_RPS_MAX: '100000',
    AUDIT_MODE: 'local',
    AUDIT_DIR: auditDir,
  });
  url = server.url;
  for (const tok of [T.acme, T.globex]) {
    assert.equal((await put(url, '/inputs', inputsBytes, bearer(tok))).status, 201, 'each tenant seals the example itself: a first sealing for it');
    assert.equal((await put(url, '/policies', policyBytes, bearer(tok))).status, 201);
  }
  assert.equal((await post(url, '/epochs/acme-poc:2026-01-01/compute', triple, { ...bearer(T.acme), 'x-corr-id': 'acme-bind-1' })).status, 200);
  assert.equal((await post(url, '/epochs/globex:2026-01-01/compute', triple, bearer(T.globex))).status, 200);
});

after(async () => {
  await server?.close();
  tmp.remove();
});

/** The parts of an error answer that must not differ between "missing" and "someone else's". */
function shape(res: Reply): unknown {
  const doc = res.json<{ error: { corr_id: string } }>();
  return { status: res.status, type: res.headers['content-type'], body: { ...doc, error: { ...doc.error, corr_id: '' } } };
}

const previewOf = { policy_id: EXAMPLE.policyId, policy_hash: EXAMPLE.policyHash };

test("every epoch route answers another program's epoch exactly as a missing one, without reading the store", LIMIT, async () => {
  const rt = (server as InProcessServer).rt;
  let reads = 0;
  const getEpoch = rt.stores.getEpoch.bind(rt.stores);
  rt.stores.getEpoch = (id) => {
    reads++;
    return getEpoch(id);
  };
  try {
    for (const prefix of ['', '/rewarder']) {
      for (const [label, epoch] of [['bound elsewhere', 'globex:2026-01-01'], ['missing elsewhere', 'globex:2099-01-01']] as const) {
        const probes: [string, () => Promise<Reply>, () => Promise<Reply>][] = [
          ['manifest', () => get(url, `${prefix}/epochs/${epoch}`, bearer(T.acme)), () => get(url, `${prefix}/epochs/acme-poc:2099-01-01`, bearer(T.acme))],
          ['attestation', () => get(url, `${prefix}/epochs/${epoch}/attestation`, bearer(T.acme)), () => get(url, `${prefix}/epochs/acme-poc:2099-01-01/attestation`, bearer(T.acme))],
          ['ledger', () => get(url, `${prefix}/epochs/${epoch}/ledger`, bearer(T.acme)), () => get(url, `${prefix}/epochs/acme-poc:2099-01-01/ledger`, bearer(T.acme))],
          ['payout', () => get(url, `${prefix}/epochs/${epoch}/payouts/did:ron:alice`, bearer(T.acme)), () => get(url, `${prefix}/epochs/acme-poc:2099-01-01/payouts/did:ron:alice`, bearer(T.acme))],
          ['explain', () => get(url, `${prefix}/epochs/${epoch}/explain/did:ron:alice`, bearer(T.acme)), () => get(url, `${prefix}/epochs/acme-poc:2099-01-01/explain/did:ron:alice`, bearer(T.acme))],
          ['preview', () => post(url, `${prefix}/epochs/${epoch}/preview`, previewOf, bearer(T.acme)), () => post(url, `${prefix}/epochs/acme-poc:2099-01-01/preview`, previewOf, bearer(T.acme))],
          ['export.csv', () => get(url, `${prefix}/epochs/${epoch}/export.csv`, bearer(T.acme)), () => get(url, `${prefix}/epochs/acme-poc:2099-01-01/export.csv`, bearer(T.acme))],
          ['claims', () => get(url, `${prefix}/epochs/${epoch}/claims`, bearer(T.acme)), () => get(url, `${prefix}/epochs/acme-poc:2099-01-01/claims`, bearer(T.acme))],
        ];
        for (const [what, foreign, missing] of probes) {
          const before = reads;
          const theirs = await foreign();
          assert.equal(reads, before, `${what} (${label}): decided before any store read`);
          assertErrorEnvelope(theirs, { status: 404, code: 'NOT_FOUND', reason: 'unknown_epoch', secrets: SECRETS }, `${what} ${label}`);
          assert.deepEqual(shape(theirs), shape(await missing()), `${what} ${label}: same answer as a missing epoch`);
        }
        // Compute, even with documents the caller owns: the same 404, never 403 or 409.
        const run = await post(url, `${prefix}/epochs/${epoch}/compute`, triple, bearer(T.acme));
        assertErrorEnvelope(run, { status: 404, code: 'NOT_FOUND', reason: 'unknown_epoch', secrets: SECRETS }, `compute ${label}`);
        assert.ok(!run.text.includes('b3:'), 'no CID in the answer');
      }
    }
    // A program granted to nobody, a token with ["*"], and the default program of a token without programs.
    assertErrorEnvelope(await get(url, '/epochs/nobody:x', bearer(T.globex)), { status: 404, code: 'NOT_FOUND', reason: 'unknown_epoch' });
    assert.equal((await get(url, '/epochs/globex:2026-01-01', bearer(T.ops))).status, 200);
    assert.equal((await get(url, '/epochs/acme-poc:2026-01-01', bearer(T.ops))).status, 200);
    assert.equal((await get(url, '/epochs/acme-poc:2026-01-01', bearer(T.acmeReader))).status, 200, "the tenant's other token");
    assertErrorEnvelope(await get(url, '/epochs/acme-poc:2026-01-01', bearer(T.plain)), { status: 404, code: 'NOT_FOUND', reason: 'unknown_epoch' });
    // The SPEC §12 exports follow the same programs.
    assert.equal((await get(url, '/epochs/acme-poc:2026-01-01/export.csv', bearer(T.acmeReader))).status, 200);
    assert.equal((await get(url, '/epochs/acme-poc:2026-01-01/claims', bearer(T.ops))).status, 200);
    assertErrorEnvelope(await get(url, '/epochs/acme-poc:2026-01-01/claims', bearer(T.plain)), { status: 404, code: 'NOT_FOUND', reason: 'unknown_epoch' });
  } finally {
    rt.stores.getEpoch = getEpoch;
  }
});

test("the admin re-drive reaches only the token's programs: another program's epoch is the missing-epoch 404, every epoch needs \"*\"", LIMIT, async () => {
  const own = await request(url, 'POST', '/admin/ledger/redrive?epoch_id=acme-poc:2026-01-01', { headers: bearer(T.acmeAdmin) });
  assert.equal(own.status, 200, own.text);
  assert.deepEqual(own.json(), { redriven: 0, epoch_id: 'acme-poc:2026-01-01' });
  const theirs = await request(url, 'POST', '/admin/ledger/redrive?epoch_id=globex:2026-01-01', { headers: bearer(T.acmeAdmin) });
  assertErrorEnvelope(theirs, { status: 404, code: 'NOT_FOUND', reason: 'unknown_epoch', secrets: SECRETS });
  const all = await request(url, 'POST', '/admin/ledger/redrive', { headers: bearer(T.acmeAdmin) });
  assertErrorEnvelope(all, { status: 403, code: 'FORBIDDEN', reason: 'all_programs_required', secrets: SECRETS });
});

test('an epoch id whose prefix is not a program name is a 400', LIMIT, async () => {
  for (const id of ['Acme:2026', '-x:2026', ':2026', `${'a'.repeat(65)}:x`]) {
    assertErrorEnvelope(await get(url, `/epochs/${id}`, bearer(T.ops)), { status: 400, code: 'BAD_REQUEST', reason: 'invalid_program' }, id);
    assertErrorEnvelope(await post(url, `/epochs/${id}/compute`, triple, bearer(T.acme)), { status: 400, code: 'BAD_REQUEST', reason: 'invalid_program' }, id);
  }
});

test('a document is readable and usable only by a tenant that sealed it; sealing the same bytes does not reveal they were there', LIMIT, async () => {
  const doc = inputsFor(JAN1 + 40 * DAY, JAN1 + 41 * DAY);
  const sealed = await put(url, '/inputs', doc, bearer(T.acme));
  assert.equal(sealed.status, 201);
  const cid = sealed.json<{ inputs_cid: string }>().inputs_cid;
  const missing = `b3:${'0'.repeat(64)}`;
  // Reads: another tenant (and ops, which sees every program but sealed nothing) get the missing-CID answer.
  for (const tok of [T.globex, T.ops]) {
    const theirs = await get(url, `/inputs/${cid}`, bearer(tok));
    assertErrorEnvelope(theirs, { status: 404, code: 'NOT_FOUND', reason: 'unknown_inputs', secrets: SECRETS });
    assert.deepEqual(shape(theirs), shape(await get(url, `/inputs/${missing}`, bearer(tok))));
    assert.deepEqual(shape(await get(url, `/policies/${EXAMPLE.policyHash}`, bearer(T.plain))), shape(await get(url, `/policies/${missing}`, bearer(T.plain))));
  }
  assert.equal((await get(url, `/inputs/${cid}`, bearer(T.acmeReader))).status, 200, "the tenant's other token reads it");
  // Compute: globex cannot spend acme's inputs, even in its own program.
  const spend = await post(url, '/epochs/globex:feb/compute', { ...triple, inputs_cid: cid }, bearer(T.globex));
  assertErrorEnvelope(spend, { status: 404, code: 'NOT_FOUND', reason: 'unknown_inputs', secrets: SECRETS });
  assert.deepEqual(shape(spend), shape(await post(url, '/epochs/globex:feb/compute', { ...triple, inputs_cid: missing }, bearer(T.globex))));
  // Preview: globex cannot try acme's inputs (or a policy only acme sealed) against its own epoch.
  const peek = await post(url, '/epochs/globex:2026-01-01/preview', { ...previewOf, inputs_cid: cid }, bearer(T.globex));
  assertErrorEnvelope(peek, { status: 404, code: 'NOT_FOUND', reason: 'unknown_inputs', secrets: SECRETS });
  assert.deepEqual(shape(peek), shape(await post(url, '/epochs/globex:2026-01-01/preview', { ...previewOf, inputs_cid: missing }, bearer(T.globex))));
  assert.equal((await post(url, '/epochs/acme-poc:2026-01-01/preview', previewOf, bearer(T.acme))).status, 200, 'its own epoch and documents preview');
  // Sealing the same bytes: 201 for globex (its first), then 200, as for bytes nobody had.
  assert.equal((await put(url, '/inputs', doc, bearer(T.globex))).status, 201);
  assert.equal((await put(url, '/inputs', doc, bearer(T.globex))).status, 200);
  assert.equal((await post(url, '/epochs/globex:feb/compute', { ...triple, inputs_cid: cid }, bearer(T.globex))).status, 200);
});

test('a replay or conflict needs the documents too, and a conflict shows the bound CIDs only to the tenant that bound them', LIMIT, async () => {
  // plain and plain2 are two tenants sharing `default` (entries without programs).
  const docA = inputsFor(JAN1 + 50 * DAY, JAN1 + 51 * DAY);
  const docB = inputsFor(JAN1 + 50 * DAY, JAN1 + 51 * DAY, '999');
  const a = (await put(url, '/inputs', docA, bearer(T.plain))).json<{ inputs_cid: string }>().inputs_cid;
  assert.equal((await put(url, '/policies', policyBytes, bearer(T.plain))).status, 201);
  assert.equal((await post(url, '/epochs/shared-day/compute', { ...triple, inputs_cid: a }, bearer(T.plain))).status, 200);
  // plain2 replaying plain's exact triple without having sealed the inputs: the missing-CID 404.
  assertErrorEnvelope(await post(url, '/epochs/shared-day/compute', { ...triple, inputs_cid: a }, bearer(T.plain2)), { status: 404, code: 'NOT_FOUND', reason: 'unknown_policy' });
  assert.equal((await put(url, '/policies', policyBytes, bearer(T.plain2))).status, 201);
  assertErrorEnvelope(await post(url, '/epochs/shared-day/compute', { ...triple, inputs_cid: a }, bearer(T.plain2)), { status: 404, code: 'NOT_FOUND', reason: 'unknown_inputs' });
  // With its own documents, a conflict names what differs but not plain's CIDs.
  const b = (await put(url, '/inputs', docB, bearer(T.plain2))).json<{ inputs_cid: string }>().inputs_cid;
  const theirs = await post(url, '/epochs/shared-day/compute', { ...triple, inputs_cid: b }, bearer(T.plain2));
  const d2 = assertErrorEnvelope(theirs, { status: 409, code: 'CONFLICT', reason: 'epoch_bound', secrets: [a] });
  assert.deepEqual(d2, { reason: 'epoch_bound', differs: ['inputs_cid'] });
  assert.equal((await put(url, '/inputs', docB, bearer(T.plain))).status, 201);
  const own = await post(url, '/epochs/shared-day/compute', { ...triple, inputs_cid: b }, bearer(T.plain));
  const details = assertErrorEnvelope(own, { status: 409, code: 'CONFLICT', reason: 'epoch_bound' });
  assert.deepEqual(details.bound, { inputs_cid: a, policy_hash: EXAMPLE.policyHash }, 'the binder sees its own CIDs');
});

test('a usage window is paid once per program: an overlapping binding is 409 WINDOW_OVERLAP naming the epoch; dry runs and other programs are not refused', LIMIT, async () => {
  const rt = (server as InProcessServer).rt;
  const tasks = async () => (await rt.metrics.computeLatency.get()).values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
  const before = await tasks();
  // The example's window is bound as acme-poc:2026-01-01; the same bytes under another id:
  const bis = await post(url, '/epochs/acme-poc:2026-01-01-bis/compute', triple, bearer(T.acme));
  const d = assertErrorEnvelope(bis, { status: 409, code: 'WINDOW_OVERLAP', reason: 'window_overlap', secrets: SECRETS });
  assert.equal(d.epoch_id, 'acme-poc:2026-01-01');
  assertErrorEnvelope(await get(url, '/epochs/acme-poc:2026-01-01-bis', bearer(T.acme)), { status: 404, code: 'NOT_FOUND', reason: 'unknown_epoch' });
  // A partial overlap (the last millisecond of the bound day) is refused too; the next day binds.
  const straddle = (await put(url, '/inputs', inputsFor(JAN1 + DAY - 1, JAN1 + 2 * DAY), bearer(T.acme))).json<{ inputs_cid: string }>().inputs_cid;
  assertErrorEnvelope(await post(url, '/epochs/acme-poc:jan2/compute', { ...triple, inputs_cid: straddle }, bearer(T.acme)), { status: 409, code: 'WINDOW_OVERLAP' });
  assert.equal(await tasks(), before, 'refused before any work: no task reached the pool');
  const next = (await put(url, '/inputs', inputsFor(JAN1 + DAY, JAN1 + 2 * DAY), bearer(T.acme))).json<{ inputs_cid: string }>().inputs_cid;
  assert.equal((await post(url, '/epochs/acme-poc:jan2/compute', { ...triple, inputs_cid: next }, bearer(T.acme))).status, 200);
  // Dry runs bind nothing: the overlapping preview is answered.
  const dry = await post(url, '/epochs/acme-poc:2026-01-01-bis/compute', { ...triple, dry_run: true }, bearer(T.acme));
  assert.equal(dry.status, 200, dry.text);
  assert.equal(dry.json<{ dry_run: boolean }>().dry_run, true);
  // The same window in another program was bound in before(); the replay of the original still replays.
  const replay = await post(url, '/epochs/acme-poc:2026-01-01/compute', triple, bearer(T.acme));
  assert.equal(replay.status, 200);
  assert.equal(replay.headers['idempotent-replayed'], 'true');
});

test("a pool over its program's budget is 422 POOL_OVER_BUDGET before any work; within it, or without a budget, it runs", LIMIT, async () => {
  const rt = (server as InProcessServer).rt;
  const over = (await put(url, '/inputs', inputsFor(JAN1 + 60 * DAY, JAN1 + 61 * DAY, '5001'), bearer(T.acme))).json<{ inputs_cid: string }>().inputs_cid;
  const tasks = async () => (await rt.metrics.computeLatency.get()).values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
  const before = await tasks();
  const refused = await post(url, '/epochs/acme-poc:over/compute', { ...triple, inputs_cid: over }, bearer(T.acme));
  const d = assertErrorEnvelope(refused, { status: 422, code: 'POOL_OVER_BUDGET', reason: 'pool_over_budget' });
  assert.deepEqual(d, { reason: 'pool_over_budget', program: 'acme-poc', pool_minor: '5001', max_pool_minor: '5000' });
  assertErrorEnvelope(await post(url, '/epochs/acme-poc:over/compute', { ...triple, inputs_cid: over, dry_run: true }, bearer(T.acme)), { status: 422, code: 'POOL_OVER_BUDGET' });
  assert.equal(await tasks(), before, 'no task reached the pool');
  // A policy's pool_cap_minor brings P within the budget.
  const capped = await put(url, '/policies', JSON.stringify({ schema: 'rewarder.policy/v1', id: 'capped', rounding: 'floor', kinds: { bytes_served: { weight: 1 } }, pool_cap_minor: '5000' }), bearer(T.acme));
  const cappedHash = capped.json<{ policy_hash: string }>().policy_hash;
  assert.equal((await post(url, '/epochs/acme-poc:over/compute', { inputs_cid: over, policy_id: 'capped', policy_hash: cappedHash }, bearer(T.acme))).status, 200);
  // globex has no budget.
  assert.equal((await put(url, '/inputs', inputsFor(JAN1 + 60 * DAY, JAN1 + 61 * DAY, '5001'), bearer(T.globex))).status, 201);
  assert.equal((await post(url, '/epochs/globex:over/compute', { ...triple, inputs_cid: over }, bearer(T.globex))).status, 200);
});

test("a tenant's stored bytes are bounded by its quota (the token's own overriding the default), with a clear 413", LIMIT, async () => {
  // `small` may own the example's inputs and policy and 100 bytes more: another inputs does not fit.
  assert.equal((await put(url, '/inputs', inputsBytes, bearer(T.small))).status, 201);
  assert.equal((await put(url, '/policies', policyBytes, bearer(T.small))).status, 201);
  const doc = inputsFor(JAN1, JAN1 + DAY);
  const refused = await put(url, '/inputs', doc, bearer(T.small));
  const d = assertErrorEnvelope(refused, { status: 413, code: 'QUOTA_EXCEEDED', reason: 'tenant_quota', secrets: SECRETS });
  assert.deepEqual(d, { reason: 'tenant_quota', limit_bytes: SMALL_QUOTA, used_bytes: inputsBytes.length + policyBytes.length, document_bytes: Buffer.byteLength(doc) });
  // Re-sealing what it already owns costs nothing; others are unaffected.
  assert.equal((await put(url, '/inputs', inputsBytes, bearer(T.small))).status, 200);
  assert.equal((await put(url, '/inputs', doc, bearer(T.plain))).status, 201);
});

interface Listing {
  epochs: {
    epoch_id: string;
    window: { start_ms: number; end_ms: number };
    inputs_cid: string;
    policy_hash: string;
    commitment: string;
    payees: number;
    payout_minor: string;
    ledger: { state: string; parts: number };
    bound: { tenant: string; corr_id: string | null; at: string };
  }[];
  next: string | null;
}

test("GET /programs/{program}/epochs pages a program's bound epochs in window order with who bound each; other programs are 404", LIMIT, async () => {
  const all = await get(url, '/programs/acme-poc/epochs', bearer(T.acmeReader));
  assert.equal(all.status, 200, all.text);
  const doc = all.json<Listing>();
  const ids = doc.epochs.map((e) => e.epoch_id);
  assert.deepEqual(ids.slice(0, 2), ['acme-poc:2026-01-01', 'acme-poc:jan2']);
  assert.equal(doc.next, null);
  const starts = doc.epochs.map((e) => e.window.start_ms);
  assert.deepEqual(starts, [...starts].sort((x, y) => x - y), 'window order');
  const first = doc.epochs[0];
  assert.ok(first !== undefined);
  assert.deepEqual({ ...first, bound: { ...first.bound, at: '' } }, {
    epoch_id: 'acme-poc:2026-01-01',
    window: { start_ms: JAN1, end_ms: JAN1 + DAY },
    inputs_cid: EXAMPLE.inputsCid,
    policy_hash: EXAMPLE.policyHash,
    commitment: first.commitment,
    payees: 3,
    payout_minor: '927',
    ledger: { state: 'none', parts: 0 },
    bound: { tenant: 'acme', corr_id: 'acme-bind-1', at: '' },
  });
  assert.ok(Math.abs(Date.parse(first.bound.at) - Date.now()) < 10 * 60_000, 'bound_at is a recent time');
  // Paging: one at a time walks the same list.
  const walked: string[] = [];
  let after: string | null = null;
  for (let i = 0; i < 10; i++) {
    const page: Listing = (await get(url, `/programs/acme-poc/epochs?limit=1${after === null ? '' : `&after=${after}`}`, bearer(T.ops))).json<Listing>();
    walked.push(...page.epochs.map((e) => e.epoch_id));
    after = page.next;
    if (after === null) break;
  }
  assert.deepEqual(walked, ids);
  // Another tenant's program: 404, the same whether it has epochs or not; a program nobody used is empty for '*'.
  const theirs = await get(url, '/programs/acme-poc/epochs', bearer(T.globex));
  assertErrorEnvelope(theirs, { status: 404, code: 'NOT_FOUND', reason: 'unknown_program', secrets: SECRETS });
  assert.deepEqual(shape(theirs), shape(await get(url, '/programs/nobody/epochs', bearer(T.globex))));
  assert.deepEqual((await get(url, '/programs/nobody/epochs', bearer(T.ops))).json(), { epochs: [], next: null });
  for (const [path, reason] of [
    ['/programs/Acme/epochs', 'invalid_path'],
    ['/programs/acme-poc/epochs?limit=0', 'invalid_query'],
    ['/programs/acme-poc/epochs?limit=1001', 'invalid_query'],
    ['/programs/acme-poc/epochs?limit=x', 'invalid_query'],
    ['/programs/acme-poc/epochs?after=globex:2026-01-01', 'invalid_cursor'],
  ] as const) {
    assertErrorEnvelope(await get(url, path, bearer(T.ops)), { status: 400, code: 'BAD_REQUEST', reason }, path);
  }
  assertErrorEnvelope(await get(url, '/programs/acme-poc/epochs', bearer(T.small)), { status: 404, code: 'NOT_FOUND', reason: 'unknown_program' });
});

test('the audit log records the epoch id and CIDs of every seal, compute and read, refusals included', LIMIT, async () => {
  const corr = { 'x-corr-id': 'audit-read-1' };
  assert.equal((await put(url, '/inputs', inputsBytes, { ...bearer(T.acme), 'x-corr-id': 'audit-seal-1' })).status, 200);
  assert.equal((await get(url, `/inputs/${EXAMPLE.inputsCid}`, { ...bearer(T.acme), ...corr })).status, 200);
  assert.equal((await get(url, '/epochs/globex:2026-01-01', { ...bearer(T.acme), 'x-corr-id': 'audit-probe-1' })).status, 404);
  assert.equal((await post(url, '/epochs/acme-poc:2026-01-01/compute', triple, { ...bearer(T.acme), 'x-corr-id': 'audit-compute-1' })).status, 200);
  assert.equal((await get(url, '/epochs/acme-poc:2026-01-01/ledger', { ...bearer(T.acmeReader), 'x-corr-id': 'audit-ledger-1' })).status, 200);
  const read = () =>
    readdirSync(auditDir)
      .map((f) => readFileSync(join(auditDir, f), 'utf8'))
      .join('')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  await until(() => read().some((l) => l.corr_id === 'audit-ledger-1' && l.kind === 'read'), 5_000, 'the audit lines');
  const lines = read();
  const by = (corrId: string) => {
    const l = lines.find((x) => x.corr_id === corrId && (x.kind === 'read' || x.kind === 'compute' || x.kind === 'seal'));
    assert.ok(l !== undefined, corrId);
    const { at, ...rest } = l;
    assert.ok(!Number.isNaN(Date.parse(String(at))));
    return rest;
  };
  assert.deepEqual(by('audit-seal-1'), { kind: 'seal', tenant: 'acme', route: '/inputs', corr_id: 'audit-seal-1', inputs_cid: EXAMPLE.inputsCid, status: 200 });
  assert.deepEqual(by('audit-read-1'), { kind: 'read', tenant: 'acme', route: '/inputs/:cid', corr_id: 'audit-read-1', inputs_cid: EXAMPLE.inputsCid, status: 200 });
  assert.deepEqual(by('audit-probe-1'), { kind: 'read', tenant: 'acme', route: '/epochs/:epoch', corr_id: 'audit-probe-1', epoch_id: 'globex:2026-01-01', status: 404 });
  assert.deepEqual(by('audit-compute-1'), {
    kind: 'compute',
    tenant: 'acme',
    route: '/epochs/:epoch/compute',
    corr_id: 'audit-compute-1',
    epoch_id: 'acme-poc:2026-01-01',
    inputs_cid: EXAMPLE.inputsCid,
    policy_hash: EXAMPLE.policyHash,
    status: 200,
  });
  assert.deepEqual(by('audit-ledger-1'), {
    kind: 'read',
    tenant: 'acme',
    route: '/epochs/:epoch/ledger',
    corr_id: 'audit-ledger-1',
    epoch_id: 'acme-poc:2026-01-01',
    inputs_cid: EXAMPLE.inputsCid,
    policy_hash: EXAMPLE.policyHash,
    status: 200,
  });
  for (const s of SECRETS) assert.ok(!JSON.stringify(lines).includes(s));
});

test('/metrics shows per-tenant stored bytes, computes and refusals, labelled only by the tenants of the tokens file', LIMIT, async () => {
  const text = await metrics(url);
  const tenantsOf = (name: string) =>
    new Set(
      text
        .split('\n')
        .filter((l) => l.startsWith(`${name}{`))
        .map((l) => parseLabels(l.slice(name.length + 1, l.indexOf('}'))).tenant),
    );
  assert.deepEqual([...tenantsOf('tenant_stored_bytes')].sort(), ['acme', 'globex', 'ops', 'plain', 'plain2', 'small']);
  assert.equal(metricValue(text, 'tenant_stored_bytes', { tenant: 'ops' }), 0);
  assert.ok(metricValue(text, 'tenant_stored_bytes', { tenant: 'acme' }) >= inputsBytes.length + policyBytes.length);
  assert.equal(metricValue(text, 'tenant_stored_bytes', { tenant: 'small' }), inputsBytes.length + policyBytes.length);
  assert.ok(metricValue(text, 'tenant_computes_total', { tenant: 'acme', status: '2xx' }) >= 3);
  assert.ok(metricValue(text, 'tenant_refusals_total', { tenant: 'acme', reason: 'window_overlap' }) >= 2);
  assert.ok(metricValue(text, 'tenant_refusals_total', { tenant: 'acme', reason: 'pool_over_budget' }) >= 2);
  assert.equal(metricValue(text, 'tenant_refusals_total', { tenant: 'small', reason: 'tenant_quota' }), 1);
  for (const name of ['tenant_computes_total', 'tenant_refusals_total']) {
    for (const t of tenantsOf(name)) assert.ok(['acme', 'globex', 'ops', 'plain', 'plain2', 'small'].includes(String(t)), `${name}: ${t}`);
  }
});

test('superseding an epoch needs rewarder.correct beside rewarder.run (SPEC §13); a preview with it binds nothing', LIMIT, async () => {
  const body = { ...triple, supersedes: 'acme-poc:2026-01-01', dry_run: true };
  const denied = await post(url, '/epochs/acme-poc:2026-01-01b/compute', body, bearer(T.acme));
  assert.equal(denied.status, 403);
  assert.deepEqual(denied.json<{ error: { details: unknown } }>().error.details, { reason: 'missing_scope', scope: 'rewarder.correct' });
  const preview = await post(url, '/epochs/acme-poc:2026-01-01b/compute', body, bearer(T.acmeCorrector));
  assert.equal(preview.status, 200, preview.text);
  const doc = preview.json<{ dry_run: boolean; supersedes: string; correction: { supersedes: { epoch_id: string }; basis_complete: boolean } }>();
  assert.equal(doc.dry_run, true);
  assert.equal(doc.supersedes, 'acme-poc:2026-01-01');
  assert.equal(doc.correction.supersedes.epoch_id, 'acme-poc:2026-01-01');
  // Another program's epoch is the missing-epoch 404, as for every other route.
  const foreign = await post(url, '/epochs/acme-poc:2026-01-01b/compute', { ...body, supersedes: 'globex:2026-01-01' }, bearer(T.acmeCorrector));
  assert.equal(foreign.status, 404);
  assert.equal((await get(url, '/epochs/acme-poc:2026-01-01b', bearer(T.acme))).status, 404, 'nothing bound');
});

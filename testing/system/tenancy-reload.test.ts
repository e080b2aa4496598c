// SIGHUP reloads PROGRAMS_FILE and TOKENS_FILE on a real server process: a valid file takes
// effect at once, an invalid one is refused (logged) and the previous budgets and grants stay.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BIN, EXAMPLE, ROOT, type SpawnedServer, assertErrorEnvelope, bearer, get, post, put, spawnServer, tempDir, writeTokensFile } from '../harness.js';

const LIMIT = { timeout: 60_000 };
const ALL = ['rewarder.seal', 'rewarder.run', 'rewarder.inspect'];
const A = randomBytes(24).toString('base64url');
const B = randomBytes(24).toString('base64url');
const DAY = 86_400_000;
const JAN1 = 1_767_225_600_000;
const policy = readFileSync(EXAMPLE.policy);

function inputsFor(day: number, pool: string): string {
  const start = JAN1 + day * DAY;
  return JSON.stringify({
    schema: 'rewarder.inputs/v1',
    window: { start_ms: start, end_ms: start + DAY },
    pool_minor: pool,
    kinds: ['bytes_served'],
    actors: ['did:ron:alice'],
    events: [{ actor: 'did:ron:alice', kind: 'bytes_served', qty: 1, ts: start }],
  });
}

const tmp = tempDir();
const programsFile = join(tmp.dir, 'programs.json');
let server: SpawnedServer | undefined;
let url = '';

before(async () => {
  writeFileSync(programsFile, JSON.stringify({ acme: { max_pool_minor: '100' } }));
  const tokens = writeTokensFile(tmp.dir, [{ tenant: 'acme', scopes: ALL, token: A, programs: ['acme'] }]);
  server = await spawnServer({ AUTH: 'on', TOKENS_FILE: tokens, PROGRAMS_FILE: programsFile });
  url = server.url;
  assert.equal((await put(url, '/policies', policy, bearer(A))).status, 201);
});

after(async () => {
  await server?.stop();
  tmp.remove();
});

async function hup(expect: 'configuration reloaded' | 'configuration reload refused; keeping the previous values'): Promise<Record<string, unknown>> {
  const s = server as SpawnedServer;
  const mark = s.logs.lines.length;
  s.child.kill('SIGHUP');
  return s.logs.waitFor((l) => l.msg === expect || String(l.msg).startsWith('configuration reload'), 5_000, expect, mark);
}

async function computeDay(day: number, pool: string, epoch: string, token = A) {
  const cid = (await put(url, '/inputs', inputsFor(day, pool), bearer(token))).json<{ inputs_cid: string }>().inputs_cid;
  return post(url, `/epochs/${epoch}/compute`, { inputs_cid: cid, policy_id: EXAMPLE.policyId, policy_hash: EXAMPLE.policyHash }, bearer(token));
}

test('SIGHUP applies a valid PROGRAMS_FILE at once and keeps the previous budgets when the new file is invalid', LIMIT, async () => {
  assertErrorEnvelope(await computeDay(1, '1000', 'acme:d1'), { status: 422, code: 'POOL_OVER_BUDGET', reason: 'pool_over_budget' });
  writeFileSync(programsFile, JSON.stringify({ acme: { max_pool_minor: '5000' } }));
  assert.equal((await hup('configuration reloaded')).msg, 'configuration reloaded');
  assert.equal((await computeDay(1, '1000', 'acme:d1')).status, 200);
  for (const bad of ['{"acme": {"max_pool_minor": 5000}}', '{"Acme": {}}', '{"acme": {"max_pool_minor": "01"}}', 'not json', '{"acme": {"hold": 1}}']) {
    writeFileSync(programsFile, bad);
    const line = await hup('configuration reload refused; keeping the previous values');
    assert.equal(line.msg, 'configuration reload refused; keeping the previous values', bad);
    assert.match(String(line.reason), /programs file/, bad);
  }
  const d = assertErrorEnvelope(await computeDay(2, '5001', 'acme:d2'), { status: 422, code: 'POOL_OVER_BUDGET' });
  assert.equal(d.max_pool_minor, '5000', 'the last valid budget is in force');
  assert.equal((await computeDay(2, '5000', 'acme:d2')).status, 200);
});

test('SIGHUP reloads TOKENS_FILE: programs granted or withdrawn take effect at once; an invalid file keeps the old grants', LIMIT, async () => {
  assert.equal((await get(url, '/epochs/acme:d1', bearer(A))).status, 200);
  writeTokensFile(tmp.dir, [
    { tenant: 'acme', scopes: ALL, token: A, programs: ['beta'] },
    { tenant: 'auditor', scopes: ['rewarder.inspect'], token: B, programs: ['acme'] },
  ]);
  writeFileSync(programsFile, '{}');
  assert.equal((await hup('configuration reloaded')).msg, 'configuration reloaded');
  assertErrorEnvelope(await get(url, '/epochs/acme:d1', bearer(A)), { status: 404, code: 'NOT_FOUND', reason: 'unknown_epoch' });
  assert.equal((await get(url, '/epochs/acme:d1', bearer(B))).status, 200);
  writeFileSync(join(tmp.dir, 'tokens.json'), '[{"tenant": "x", "scopes": ["rewarder.run"], "programs": ["NO"], "sha256": "00"}]');
  const line = await hup('configuration reload refused; keeping the previous values');
  assert.match(String(line.reason), /tokens file/);
  assert.ok(!String(line.reason).includes(A));
  assert.equal((await get(url, '/epochs/acme:d1', bearer(B))).status, 200, 'the previous grants stay');
  const v = (await get(url, '/version')).json<{ limits: { tenant_store_max_bytes: number | null } }>();
  assert.equal(v.limits.tenant_store_max_bytes, null, 'no quota configured');
});

test('rewarder tenancy checks both files with the service parsers and prints who holds which program, never a digest', LIMIT, () => {
  const dir = tempDir();
  try {
    const tokens = writeTokensFile(dir.dir, [
      { tenant: 'acme', scopes: ['rewarder.run', 'rewarder.seal'], token: A, programs: ['acme-poc'], storeMaxBytes: 1000 },
      { tenant: 'ops', scopes: ['rewarder.inspect'], token: B },
    ]);
    const programs = join(dir.dir, 'programs.json');
    writeFileSync(programs, JSON.stringify({ 'acme-poc': { max_pool_minor: '10' }, orphan: {} }));
    const run = (...args: string[]) => spawnSync(process.execPath, [BIN, 'tenancy', ...args], { cwd: ROOT, encoding: 'utf8' });
    const ok = run(tokens, '--programs', programs);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(
      ok.stdout,
      [
        'token[0] tenant=acme programs=acme-poc scopes=rewarder.run,rewarder.seal store_max_bytes=1000',
        'token[1] tenant=ops programs=default scopes=rewarder.inspect',
        'program acme-poc max_pool_minor=10',
        'program orphan max_pool_minor=none (no token holds it)',
        'ok 2 token(s), 2 program budget(s)',
        '',
      ].join('\n'),
    );
    const digest = JSON.parse(readFileSync(tokens, 'utf8'))[0].sha256 as string;
    assert.ok(!ok.stdout.includes(digest));
    writeFileSync(programs, '{"acme-poc": {"max_pool_minor": "-1"}}');
    const bad = run(tokens, '--programs', programs);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^rewarder: .*programs\.json: programs file: acme-poc\.max_pool_minor: /);
  } finally {
    dir.remove();
  }
});

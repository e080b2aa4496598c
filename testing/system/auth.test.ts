// Bearer auth, per-tenant rate limits and the audit log, against a real server process with
// AUTH=on, a tokens file, AUDIT_MODE=local and TENANT_RPS_MAX=2; and the refusal to start without
// a tokens file.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  EXAMPLE,
  type SpawnedServer,
  assertErrorEnvelope,
  bearer,
  get,
  metricValue,
  metrics,
  post,
  put,
  runServeToExit,
  spawnServer,
  tempDir,
  until,
  writeTokensFile,
} from '../harness.js';

const LIMIT = { timeout: 30_000 };
const token = () => randomBytes(24).toString('base64url');
const T = { sealer: token(), runner: token(), inspector: token(), tenantA: token(), tenantB: token(), unknown: token() };
const SECRETS = Object.values(T);
const ALL = ['rewarder.seal', 'rewarder.run', 'rewarder.inspect'];
const triple = { inputs_cid: EXAMPLE.inputsCid, policy_id: EXAMPLE.policyId, policy_hash: EXAMPLE.policyHash };

const tmp = tempDir();
const auditDir = join(tmp.dir, 'audit');
let server: SpawnedServer | undefined;
let url = '';

before(async () => {
  const tokens = writeTokensFile(tmp.dir, [
    // One tenant with a token per scope: documents belong to the tenant that sealed them (SPEC §10).
    { tenant: 'ops', scopes: ['rewarder.seal'], token: T.sealer },
    { tenant: 'ops', scopes: ['rewarder.run'], token: T.runner },
    { tenant: 'ops', scopes: ['rewarder.inspect'], token: T.inspector },
    { tenant: 'tenant-a', scopes: ALL, token: T.tenantA },
    { tenant: 'tenant-b', scopes: ALL, token: T.tenantB },
  ]);
  server = await spawnServer({ AUTH: 'on', TOKENS_FILE: tokens, AUDIT_MODE: 'local', AUDIT_DIR: auditDir, TENANT_RPS_MAX: '2' });
  url = server.url;
});

after(async () => {
  await server?.stop();
  tmp.remove();
});

test('each scope opens exactly its routes: seal for PUT, run for compute, inspect for GET', LIMIT, async () => {
  const inputs = readFileSync(EXAMPLE.inputs);
  const policy = readFileSync(EXAMPLE.policy);
  // Refusals first: they spend no rate tokens (auth is checked before the tenant's bucket).
  for (const [method, path, tok, body] of [
    ['PUT', '/inputs', T.runner, inputs],
    ['PUT', '/policies', T.inspector, policy],
    ['POST', '/epochs/auth-epoch/compute', T.sealer, JSON.stringify(triple)],
    ['GET', `/inputs/${EXAMPLE.inputsCid}`, T.runner, undefined],
  ] as const) {
    const res = await (method === 'GET' ? get(url, path, bearer(tok)) : method === 'PUT' ? put(url, path, body ?? '', bearer(tok)) : post(url, path, body, bearer(tok)));
    assertErrorEnvelope(res, { status: 403, code: 'FORBIDDEN', reason: 'missing_scope', secrets: SECRETS }, `${method} ${path}`);
  }
  assertErrorEnvelope(await put(url, '/inputs', inputs), { status: 401, code: 'UNAUTHENTICATED', reason: 'missing_token', secrets: SECRETS });
  assertErrorEnvelope(await put(url, '/inputs', inputs, bearer(T.unknown)), { status: 401, code: 'UNAUTHENTICATED', reason: 'unknown_token', secrets: SECRETS });
  // A token differing in one character is just unknown.
  const near = `${T.sealer.slice(0, -1)}${T.sealer.endsWith('A') ? 'B' : 'A'}`;
  assertErrorEnvelope(await put(url, '/inputs', inputs, bearer(near)), { status: 401, code: 'UNAUTHENTICATED', reason: 'unknown_token', secrets: [...SECRETS, near] });

  const sealed = await put(url, '/inputs', inputs, { ...bearer(T.sealer), 'x-corr-id': 'auth-seal-1' });
  assert.equal(sealed.status, 201, sealed.text);
  assert.equal((await put(url, '/policies', policy, bearer(T.sealer))).status, 201);
  // The three tokens share one tenant, hence one bucket of 2: let it refill between pairs.
  await new Promise((r) => setTimeout(r, 1_000));
  const run = await post(url, '/epochs/auth-epoch/compute', triple, bearer(T.runner));
  assert.equal(run.status, 200, run.text);
  const read = await get(url, '/epochs/auth-epoch', bearer(T.inspector));
  assert.equal(read.status, 200, read.text);
  await new Promise((r) => setTimeout(r, 1_000));
  assert.equal((await get(url, `/inputs/${EXAMPLE.inputsCid}`, bearer(T.inspector))).status, 200);
});

test("a tenant's third rapid request is a 429 with Retry-After while another tenant is unaffected", LIMIT, async () => {
  const before = await metrics(url);
  // Both tenants hold `default` (entries without programs), where auth-epoch is bound.
  const path = '/epochs/auth-epoch';
  const a1 = await get(url, path, { ...bearer(T.tenantA), 'x-corr-id': 'rate-a-1' });
  const a2 = await get(url, path, { ...bearer(T.tenantA), 'x-corr-id': 'rate-a-2' });
  const a3 = await get(url, path, { ...bearer(T.tenantA), 'x-corr-id': 'rate-a-3' });
  const b1 = await get(url, path, bearer(T.tenantB));
  assert.deepEqual([a1.status, a2.status], [200, 200]);
  assert.deepEqual([a1.headers['x-ratelimit-limit'], a1.headers['x-ratelimit-remaining']], ['2', '1']);
  assert.deepEqual([a2.headers['x-ratelimit-limit'], a2.headers['x-ratelimit-remaining']], ['2', '0']);
  assertErrorEnvelope(a3, { status: 429, code: 'RATE_LIMITED', reason: 'rate_limited', corrId: 'rate-a-3', secrets: SECRETS });
  assert.equal(a3.headers['retry-after'], '1');
  assert.equal(a3.headers['x-ratelimit-limit'], '2');
  assert.equal(a3.headers['x-ratelimit-remaining'], '0');
  assert.equal(b1.status, 200, 'tenant B has its own bucket');
  assert.equal(b1.headers['x-ratelimit-remaining'], '1');
  const afterText = await metrics(url);
  assert.equal(metricValue(afterText, 'rejected_total', { reason: 'rate_limited' }) - metricValue(before, 'rejected_total', { reason: 'rate_limited' }), 1);
  // The bucket refills at 2/s: tenant A is served again after Retry-After.
  await new Promise((r) => setTimeout(r, 1_000));
  assert.equal((await get(url, path, bearer(T.tenantA))).status, 200);
});

interface AuditLine {
  kind: string;
  tenant?: string;
  route: string;
  corr_id: string;
  token_fp?: string;
  at: string;
}

test('the audit log records auth decisions and rate-limit hits with fingerprints, never tokens', LIMIT, async () => {
  const read = (): { text: string; lines: AuditLine[] } => {
    const files = readdirSync(auditDir).filter((f) => /^audit-\d{4}-\d{2}-\d{2}\.jsonl$/.test(f));
    const text = files.map((f) => readFileSync(join(auditDir, f), 'utf8')).join('');
    return { text, lines: text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as AuditLine) };
  };
  // Writes are buffered: wait for the last event of the previous tests to reach the file.
  await until(() => read().lines.some((l) => l.kind === 'rate_limited' && l.corr_id === 'rate-a-3'), 5_000, 'the rate_limited audit line');
  const { text, lines } = read();
  for (const s of SECRETS) assert.ok(!text.includes(s), 'no raw token in the audit log');
  for (const l of lines) {
    const fields = ['kind', 'tenant', 'route', 'corr_id', 'token_fp', 'at', 'epoch_id', 'inputs_cid', 'policy_hash', 'program', 'status'];
    assert.deepEqual(Object.keys(l).filter((k) => !fields.includes(k)), []);
    assert.ok(!Number.isNaN(Date.parse(l.at)));
    if (l.token_fp !== undefined) assert.match(l.token_fp, /^[0-9a-f]{16}$/);
    assert.ok(l.route.startsWith('/'), `route template, got ${l.route}`);
  }
  const seal = lines.find((l) => l.corr_id === 'auth-seal-1');
  assert.deepEqual({ ...seal, at: undefined, token_fp: undefined }, { kind: 'auth_ok', tenant: 'ops', route: '/inputs', corr_id: 'auth-seal-1', at: undefined, token_fp: undefined });
  const kinds = new Set(lines.map((l) => l.kind));
  for (const k of ['auth_ok', 'auth_fail', 'scope_denied', 'rate_limited']) assert.ok(kinds.has(k), `an ${k} line`);
  const denied = lines.filter((l) => l.kind === 'scope_denied');
  assert.ok(denied.some((l) => l.tenant === 'ops' && l.route === '/inputs' && l.token_fp !== undefined));
  const unknown = lines.filter((l) => l.kind === 'auth_fail' && l.token_fp !== undefined);
  assert.ok(unknown.length >= 2 && unknown.every((l) => l.tenant === undefined), 'unknown tokens: fingerprint, no tenant');
  assert.ok(lines.some((l) => l.kind === 'auth_fail' && l.token_fp === undefined), 'a missing token has no fingerprint');
  const limited = lines.find((l) => l.kind === 'rate_limited');
  assert.equal(limited?.tenant, 'tenant-a');
  // One token, one fingerprint; different tokens, different fingerprints.
  const fps = (tenant: string) => new Set(lines.filter((l) => l.tenant === tenant && l.token_fp !== undefined).map((l) => l.token_fp));
  assert.equal(fps('tenant-a').size, 1);
  assert.notDeepEqual([...fps('tenant-a')], [...fps('tenant-b')]);
  // … and the service's own log carries no token either.
  const log = JSON.stringify(server?.logs.lines ?? []);
  for (const s of SECRETS) assert.ok(!log.includes(s), 'no raw token in the service log');
});

test('the service refuses to start with AUTH on and no tokens file, in one line on stderr', LIMIT, async () => {
  const dir = tempDir();
  try {
    const bad = join(dir.dir, 'tokens.json');
    writeFileSync(bad, `[{"tenant":"x","scopes":["rewarder.run"],"sha256":"${T.tenantA}"}]`);
    const cases = [
      ['AUTH unset, no TOKENS_FILE', {}],
      ['AUTH=on, no TOKENS_FILE', { AUTH: 'on' }],
      ['AUTH=on, missing TOKENS_FILE', { AUTH: 'on', TOKENS_FILE: join(dir.dir, 'absent.json') }],
      ['AUTH=on, invalid TOKENS_FILE', { AUTH: 'on', TOKENS_FILE: bad }],
    ] as const;
    const results = await Promise.all(cases.map(([, env]) => runServeToExit(env)));
    for (const [i, [label]] of cases.entries()) {
      const r = results[i] as Awaited<ReturnType<typeof runServeToExit>>;
      assert.notEqual(r.code, 0, `${label}: non-zero exit`);
      assert.equal(r.signal, null, `${label}: exited by itself`);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      assert.equal(lines.length, 1, `${label}: one line on stderr, got ${JSON.stringify(r.stderr)}`);
      assert.match(lines[0] as string, /^rewarder: /);
      if (label.includes('no TOKENS_FILE')) assert.match(lines[0] as string, /TOKENS_FILE/);
      assert.ok(!r.stderr.includes(T.tenantA), `${label}: the file's content is not echoed`);
      assert.ok(!r.stdout.includes('"listening"'), `${label}: never listened`);
    }
  } finally {
    dir.remove();
  }
});

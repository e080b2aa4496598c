// The replay shortcut (src/http/replay-shortcut.ts) on a real server over loopback: a replay of a
// settled binding is answered before the app with the same status, headers and bytes the app
// gives, and only after the same checks (token and scope, the epoch's program, ownership of the
// documents, the rate limit), with the same audit lines and metrics; everything else reaches the
// app, which reads the body the shortcut looked at.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  EXAMPLE,
  type InProcessServer,
  type Reply,
  bearer,
  metricValue,
  metrics,
  post,
  put,
  startInProcess,
  tempDir,
  until,
  writeTokensFile,
} from '../harness.js';

const LIMIT = { timeout: 60_000 };
const ALL = ['rewarder.seal', 'rewarder.run', 'rewarder.inspect'];
const token = () => randomBytes(24).toString('base64url');
const T = { acme: token(), globex: token(), stranger: token(), reader: token() };
const inputsBytes = readFileSync(EXAMPLE.inputs);
const policyBytes = readFileSync(EXAMPLE.policy);
const triple = { inputs_cid: EXAMPLE.inputsCid, policy_id: EXAMPLE.policyId, policy_hash: EXAMPLE.policyHash };
const EPOCH = '/epochs/acme-poc:2026-01-01/compute';

const tmp = tempDir();
const auditDir = join(tmp.dir, 'audit');
let server: InProcessServer | undefined;
let url = '';

/** Replays answered by the shortcut so far. */
const answered = (): number => (server as InProcessServer).rt.replays?.answered ?? Number.NaN;

before(async () => {
  const tokens = writeTokensFile(tmp.dir, [
    { tenant: 'acme', scopes: ALL, token: T.acme, programs: ['acme-poc'] },
    { tenant: 'globex', scopes: ALL, token: T.globex, programs: ['acme-poc', 'globex'] },
    { tenant: 'stranger', scopes: ALL, token: T.stranger, programs: ['globex'] },
    { tenant: 'acme', scopes: ['rewarder.inspect'], token: T.reader, programs: ['acme-poc'] },
  ]);
  server = await startInProcess({ AUTH: 'on', TOKENS_FILE: tokens, TENANT_RPS_MAX: '100000', AUDIT_MODE: 'local', AUDIT_DIR: auditDir });
  url = server.url;
  for (const tok of [T.acme, T.stranger]) {
    assert.equal((await put(url, '/inputs', inputsBytes, bearer(tok))).status, 201);
    assert.equal((await put(url, '/policies', policyBytes, bearer(tok))).status, 201);
  }
  assert.equal((await post(url, EPOCH, triple, bearer(T.acme))).status, 200, 'the binding');
  // stranger binds the same documents in its own program: the service then knows it owns them,
  // so only the program rule stands between it and acme's replay.
  assert.equal((await post(url, '/epochs/globex:2026-01-01/compute', triple, bearer(T.stranger))).status, 200);
});

after(async () => {
  await server?.close();
  tmp.remove();
});

/** The headers of an answer that do not vary per request. */
function stable(r: Reply): Record<string, unknown> {
  const { date: _d, 'x-corr-id': _c, 'x-ratelimit-remaining': _r, ...rest } = r.headers;
  return rest;
}

test('a replay is answered before the app with the bytes and headers the app answers', LIMIT, async () => {
  // An X-Deadline sends the request through the app; the same request without it takes the shortcut.
  const far = new Date(Date.now() + 60_000).toISOString();
  const before = answered();
  const viaApp = await post(url, EPOCH, triple, { ...bearer(T.acme), 'x-deadline': far });
  assert.equal(answered(), before, 'X-Deadline goes to the app');
  const viaShortcut = await post(url, EPOCH, triple, { ...bearer(T.acme), 'x-corr-id': 'shortcut-1' });
  assert.equal(answered(), before + 1, 'the shortcut answered');
  assert.equal(viaShortcut.status, 200);
  assert.equal(viaShortcut.status, viaApp.status);
  assert.ok(viaShortcut.body.equals(viaApp.body), 'byte-identical bodies');
  assert.deepEqual(stable(viaShortcut), stable(viaApp));
  assert.equal(viaShortcut.headers['idempotent-replayed'], 'true');
  assert.equal(viaShortcut.headers['x-corr-id'], 'shortcut-1', 'a valid given corr id is kept');
  assert.equal(viaShortcut.headers['x-ratelimit-limit'], '100000');
  assert.match(String(viaShortcut.headers['x-ratelimit-remaining']), /^\d+$/);
  // An invalid corr id is replaced, as the app does.
  const bad = await post(url, EPOCH, triple, { ...bearer(T.acme), 'x-corr-id': 'not valid!' });
  assert.equal(answered(), before + 2);
  assert.match(String(bad.headers['x-corr-id']), /^[0-9a-f-]{36}$/);
});

test('tenancy: another program, undisclosed documents and a wrong scope get the app answers, not the replay', LIMIT, async () => {
  const before = answered();
  // stranger owns the same documents (and bound them in globex) but holds only program globex:
  // the missing-epoch 404.
  const other = await post(url, EPOCH, triple, bearer(T.stranger));
  assert.equal(other.status, 404);
  assert.equal(other.json<{ error: { details: { reason: string } } }>().error.details.reason, 'unknown_epoch');
  // globex holds the program but has not sealed the documents: the missing-document 404.
  const unsealed = await post(url, EPOCH, triple, bearer(T.globex));
  assert.equal(unsealed.status, 404);
  assert.match(unsealed.json<{ error: { details: { reason: string } } }>().error.details.reason, /^unknown_(policy|inputs)$/);
  // A token without rewarder.run, no token, an unknown token.
  assert.equal((await post(url, EPOCH, triple, bearer(T.reader))).status, 403);
  assert.equal((await post(url, EPOCH, triple)).status, 401);
  assert.equal((await post(url, EPOCH, triple, bearer(token()))).status, 401);
  assert.equal(answered(), before, 'none of them was answered by the shortcut');
  // Once globex seals the documents itself it may replay (the answer names only CIDs it sealed).
  assert.equal((await put(url, '/inputs', inputsBytes, bearer(T.globex))).status, 201);
  assert.equal((await put(url, '/policies', policyBytes, bearer(T.globex))).status, 201);
  const first = await post(url, EPOCH, triple, bearer(T.globex));
  assert.equal(first.status, 200);
  const again = await post(url, EPOCH, triple, bearer(T.globex));
  assert.equal(again.status, 200);
  assert.ok(again.body.equals(first.body));
  assert.ok(answered() >= before + 1, 'its later replays take the shortcut');
});

test('the app still reads bodies the shortcut looked at and did not answer', LIMIT, async () => {
  const before = answered();
  // Not yet validated bytes (other spacing): the app parses them, then the shortcut knows them.
  const spaced = JSON.stringify(triple, null, 1);
  const first = await post(url, EPOCH, spaced, bearer(T.acme));
  assert.equal(first.status, 200, first.text);
  assert.equal(answered(), before, 'unknown bytes go to the app');
  assert.equal((await post(url, EPOCH, spaced, bearer(T.acme))).status, 200);
  assert.equal(answered(), before + 1);
  // Invalid JSON, another triple, another media type: the app's answers.
  const broken = await post(url, EPOCH, '{"inputs_cid":', bearer(T.acme));
  assert.equal(broken.status, 400);
  const conflict = await post(url, EPOCH, { ...triple, policy_hash: `b3:${'0'.repeat(64)}` }, bearer(T.acme));
  assert.equal(conflict.status, 409, 'its own epoch bound to another policy');
  const wrongType = await post(url, EPOCH, JSON.stringify(triple), { ...bearer(T.acme), 'content-type': 'text/plain' });
  assert.equal(wrongType.status, 415);
  assert.equal(answered(), before + 1);
});

/**
 * Sends raw bytes on one connection and reads the answer; before each piece after the first it
 * waits for `between()` (e.g. the server having looked at the headers).
 */
function raw(bytes: string[], between: () => Promise<void> = () => Promise.resolve()): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), '127.0.0.1');
    let text = '';
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      text += d;
      const head = text.indexOf('\r\n\r\n');
      const len = /content-length: (\d+)/i.exec(text);
      if (head !== -1 && len !== null && text.length >= head + 4 + Number(len[1])) {
        sock.end();
        resolve(text);
      }
    });
    sock.on('error', reject);
    sock.on('close', () => resolve(text));
    sock.setTimeout(10_000, () => sock.destroy(new Error('raw request timed out')));
    void (async () => {
      for (const [i, b] of bytes.entries()) {
        if (i > 0) await between();
        sock.write(b, 'latin1');
      }
    })();
  });
}

test('a body arriving after its headers, a second Host and chunked bodies go to the app', LIMIT, async () => {
  const body = JSON.stringify(triple);
  const head = (extra: string) =>
    `POST ${EPOCH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${T.acme}\r\nContent-Type: application/json\r\n${extra}\r\n`;
  const before = answered();
  const shortcut = (server as InProcessServer).rt.replays;
  const handed = shortcut?.handedOn ?? 0;
  // The body is sent only once the shortcut has looked at the headers and handed the request on.
  const late = await raw([head(`Content-Length: ${body.length}\r\n`), body], () =>
    until(() => (shortcut?.handedOn ?? 0) > handed, 5_000, 'the shortcut to hand the request on'),
  );
  assert.match(late, /^HTTP\/1\.1 200 /);
  assert.match(late, /idempotent-replayed: true/);
  const twoHosts = await raw([head(`Host: example.com\r\nContent-Length: ${body.length}\r\n`) + body]);
  assert.match(twoHosts, /^HTTP\/1\.1 400 /);
  const chunked = await raw([head('Transfer-Encoding: chunked\r\n') + `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`]);
  assert.match(chunked, /^HTTP\/1\.1 200 /);
  assert.equal(answered(), before, 'all three through the app');
  // The same request in one piece is the shortcut's.
  const whole = await raw([head(`Content-Length: ${body.length}\r\n`) + body]);
  assert.match(whole, /^HTTP\/1\.1 200 /);
  assert.equal(answered(), before + 1);
});

test('replays answered by the shortcut are audited and counted like the app does', LIMIT, async () => {
  const m0 = await metrics(url);
  const n = 3;
  for (let i = 0; i < n; i++) {
    assert.equal((await post(url, EPOCH, triple, { ...bearer(T.acme), 'x-corr-id': `shortcut-audit-${i}` })).status, 200);
  }
  const m1 = await metrics(url);
  const delta = (name: string, labels: Record<string, string>) => metricValue(m1, name, labels) - metricValue(m0, name, labels);
  assert.equal(delta('reward_runs_total', { status: 'replayed' }), n);
  assert.equal(delta('tenant_computes_total', { tenant: 'acme', status: '2xx' }), n);
  assert.equal(delta('http_request_duration_seconds_count', { route: '/epochs/:epoch/compute', method: 'POST', status: '200' }), n);
  const read = () =>
    readdirSync(auditDir)
      .flatMap((f) => readFileSync(join(auditDir, f), 'utf8').split('\n'))
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  await until(() => read().filter((l) => l.corr_id === `shortcut-audit-${n - 1}`).length === 2, 5_000, 'the audit lines');
  const lines = read().filter((l) => l.corr_id === 'shortcut-audit-0');
  const { at: at1, ...auth } = lines.find((l) => l.kind === 'auth_ok') ?? {};
  const { at: at2, ...compute } = lines.find((l) => l.kind === 'compute') ?? {};
  assert.match(String(at1), /^\d{4}-\d{2}-\d{2}T/);
  assert.match(String(at2), /^\d{4}-\d{2}-\d{2}T/);
  assert.deepEqual(Object.keys(auth).sort(), ['corr_id', 'kind', 'route', 'tenant', 'token_fp']);
  assert.equal(auth.tenant, 'acme');
  assert.match(String(auth.token_fp), /^[0-9a-f]{16}$/);
  assert.deepEqual(compute, {
    kind: 'compute',
    tenant: 'acme',
    route: '/epochs/:epoch/compute',
    corr_id: 'shortcut-audit-0',
    epoch_id: 'acme-poc:2026-01-01',
    inputs_cid: EXAMPLE.inputsCid,
    policy_hash: EXAMPLE.policyHash,
    status: 200,
  });
});

test('a tenant over its rate limit gets the 429 from the app, and a refused take spends nothing', LIMIT, async () => {
  const s = await startInProcess({ AUTH: 'off', TENANT_RPS_MAX: '1' });
  try {
    // One token a second: wait for it before each step that needs one.
    const bucket = () => new Promise((r) => setTimeout(r, 1_100));
    assert.equal((await put(s.url, '/inputs', inputsBytes)).status, 201);
    await bucket();
    assert.equal((await put(s.url, '/policies', policyBytes)).status, 201);
    await bucket();
    assert.equal((await post(s.url, '/epochs/e1/compute', triple)).status, 200, 'the binding');
    await bucket();
    const ok = await post(s.url, '/epochs/e1/compute', triple);
    assert.equal(ok.status, 200);
    assert.equal(s.rt.replays?.answered, 1);
    const refused = await post(s.url, '/epochs/e1/compute', triple);
    assert.equal(refused.status, 429);
    assert.ok(refused.headers['retry-after'] !== undefined);
    assert.equal(s.rt.replays?.answered, 1, 'the shortcut does not answer a refused take');
  } finally {
    await s.close();
  }
});

test('REPLAY_SHORTCUT=false leaves every replay to the app', LIMIT, async () => {
  const s = await startInProcess({ AUTH: 'off', TENANT_RPS_MAX: '100000', REPLAY_SHORTCUT: 'false' });
  try {
    assert.equal(s.rt.replays, null);
    assert.equal((await put(s.url, '/inputs', inputsBytes)).status, 201);
    assert.equal((await put(s.url, '/policies', policyBytes)).status, 201);
    const first = await post(s.url, '/epochs/e1/compute', triple);
    const again = await post(s.url, '/epochs/e1/compute', triple);
    assert.equal(again.status, 200);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.ok(again.body.equals(first.body));
  } finally {
    await s.close();
  }
});

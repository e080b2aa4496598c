// Issue 15 hardening, against the real service (in process on real sockets, AUTH=on, a tokens
// file; or `rewarder serve` as a process when its start is what is tested).

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { generate } from '../../src/gen/generate.js';
import {
  BIN,
  EXAMPLE,
  type InProcessServer,
  assertErrorEnvelope,
  bearer,
  get,
  metricValue,
  metrics,
  post,
  put,
  request,
  runServeToExit,
  startInProcess,
  tempDir,
  writeTokensFile,
} from '../harness.js';

const LIMIT = { timeout: 30_000 };
const token = () => randomBytes(24).toString('base64url');
const T = { everyday: token(), admin: token() };

const triple = { inputs_cid: EXAMPLE.inputsCid, policy_id: EXAMPLE.policyId, policy_hash: EXAMPLE.policyHash };
const tmp = tempDir();
let server: InProcessServer | undefined;
let url = '';

before(async () => {
  const tokens = writeTokensFile(tmp.dir, [
    { tenant: 'everyday', scopes: ['rewarder.seal', 'rewarder.run', 'rewarder.inspect'], token: T.everyday },
    { tenant: 'ops', scopes: ['rewarder.admin'], token: T.admin, programs: ['*'] },
  ]);
  // The smallest store the configuration allows (1 MiB): an M document fills it.
  server = await startInProcess({ AUTH: 'on', TOKENS_FILE: tokens, MEMORY_STORE_MAX_BYTES: String(1024 * 1024) });
  const H = bearer(T.everyday);
  assert.ok([200, 201].includes((await put(server.url, '/inputs', readFileSync(EXAMPLE.inputs), H)).status));
  assert.ok([200, 201].includes((await put(server.url, '/policies', readFileSync(EXAMPLE.policy), H)).status));
  assert.equal((await post(server.url, '/epochs/2026-01-01/compute', triple, H)).status, 200);
  url = server.url;
});

after(async () => {
  await server?.close();
  tmp.remove();
});

test('re-driving failed ledger parts needs rewarder.admin: the everyday scopes are refused', LIMIT, async () => {
  const none = await request(url, 'POST', '/admin/ledger/redrive');
  assertErrorEnvelope(none, { status: 401, code: 'UNAUTHENTICATED' });
  const everyday = await request(url, 'POST', '/admin/ledger/redrive', { headers: bearer(T.everyday) });
  assertErrorEnvelope(everyday, { status: 403, code: 'FORBIDDEN', secrets: [T.everyday] });
  const ops = await request(url, 'POST', '/admin/ledger/redrive', { headers: bearer(T.admin) });
  assert.equal(ops.status, 200, ops.text);
  assert.deepEqual(ops.json(), { redriven: 0 });
});

test('rewarder ledger-redrive calls the admin route with REWARDER_TOKEN and says why when refused', LIMIT, async () => {
  const run = promisify(execFile);
  const ok = await run(process.execPath, [BIN, 'ledger-redrive', '--url', url], { env: { ...process.env, REWARDER_TOKEN: T.admin } });
  assert.deepEqual(JSON.parse(ok.stdout), { redriven: 0 });
  await assert.rejects(
    run(process.execPath, [BIN, 'ledger-redrive', '--url', `${url}/rewarder`, '--epoch', 'e-1'], { env: { ...process.env, REWARDER_TOKEN: T.everyday } }),
    (e: { code?: number; stderr?: string }) => {
      assert.equal(e.code, 1);
      assert.match(e.stderr ?? '', /403 FORBIDDEN .*rewarder\.admin/);
      assert.ok(!(e.stderr ?? '').includes(T.everyday));
      return true;
    },
  );
});

test('serve refuses AUTH=off on a non-loopback address or a macronode, in one line on stderr', LIMIT, async () => {
  for (const env of [
    { AUTH: 'off', HOST: '0.0.0.0', PORT: '0' },
    { AUTH: 'off', HOST: '127.0.0.1', PORT: '0', PROFILE: 'macronode' },
  ]) {
    const r = await runServeToExit(env);
    assert.notEqual(r.code, 0, JSON.stringify(env));
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0] as string, /^rewarder: .*AUTH=off \(development mode\) needs HOST on loopback/);
  }
});

/** One raw HTTP/1.1 exchange: writes `head` (and `body` only when told), returns what came back until close or `ms`. */
function raw(url: string, head: string, opts: { body?: Buffer; sendBodyAfter100?: boolean; ms?: number } = {}): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), hostname);
    let got = '';
    const timer = setTimeout(() => sock.destroy(), opts.ms ?? 3_000);
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      got += d;
      if (opts.sendBodyAfter100 && got.startsWith('HTTP/1.1 100') && opts.body !== undefined) {
        const body = opts.body;
        opts.body = undefined;
        sock.write(body);
      }
    });
    sock.on('error', reject);
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
    sock.write(head);
    if (opts.body !== undefined && !opts.sendBodyAfter100) sock.write(opts.body);
  });
}

test('every answer says nosniff; stored bytes are cacheable privately per token; compute, ledger, payouts and errors are no-store', LIMIT, async () => {
  const H = bearer(T.everyday);
  const exact = await get(url, `/inputs/${EXAMPLE.inputsCid}`, H);
  assert.equal(exact.status, 200);
  assert.equal(exact.headers['cache-control'], 'private, max-age=31536000, immutable');
  assert.equal(exact.headers.vary, 'Authorization');
  const manifest = await get(url, '/epochs/2026-01-01', H);
  assert.equal(manifest.headers['cache-control'], 'private, max-age=31536000, immutable');
  assert.equal(manifest.headers.vary, 'Authorization');
  const notModified = await get(url, '/epochs/2026-01-01', { ...H, 'if-none-match': String(manifest.headers.etag) });
  assert.equal(notModified.status, 304);
  assert.equal(notModified.headers['cache-control'], 'private, max-age=31536000, immutable');
  const answers = [
    exact,
    manifest,
    notModified,
    await post(url, '/epochs/2026-01-01/compute', triple, H),
    await get(url, '/epochs/2026-01-01/ledger', H),
    await get(url, '/epochs/2026-01-01/payouts/did:ron:bob', H),
    await get(url, '/epochs/2026-01-01/payouts/did:ron:nobody', H),
    await get(url, '/epochs/2026-01-01'),
    await get(url, '/no/such/route'),
    await get(url, '/healthz'),
    await get(url, '/metrics'),
  ];
  for (const r of answers) assert.equal(r.headers['x-content-type-options'], 'nosniff', `${r.status} ${r.text.slice(0, 80)}`);
  for (const r of answers.slice(3)) assert.equal(r.headers['cache-control'], 'no-store', `${r.status} ${r.text.slice(0, 80)}`);
  assert.equal(answers[3]?.status, 200);
  assert.equal(answers[5]?.status, 200);
});

test('errors name client-chosen members by position and never echo them', LIMIT, async () => {
  const H = bearer(T.everyday);
  const img = '<img src=x onerror=alert(1)>';
  const script = '<script>alert(1)</script>';
  const policy = JSON.stringify({ schema: 'rewarder.policy/v1', id: 'p-x', rounding: 'floor', kinds: { bytes_served: { weight: 1 }, [img]: { weight: 1 } } });
  const r1 = await put(url, '/policies', policy, H);
  const d1 = assertErrorEnvelope(r1, { status: 400, code: 'BAD_REQUEST', secrets: [img, '<img'] });
  assert.equal(d1.path, '$.kinds[member 1]');
  const r2 = await post(url, '/epochs/e-echo/compute', { ...triple, [script]: 1 }, H);
  const d2 = assertErrorEnvelope(r2, { status: 400, code: 'BAD_REQUEST', secrets: [script, '<script'] });
  assert.equal(d2.path, '$[member 3]');
});

test('a request with two Host headers is refused with 400', LIMIT, async () => {
  const { host } = new URL(url);
  const two = await raw(url, `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nHost: evil.example\r\nConnection: close\r\n\r\n`);
  assert.match(two, /^HTTP\/1\.1 400 /);
  assert.match(two, /"reason":"duplicate_host"/);
  const one = await raw(url, `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  assert.match(one, /^HTTP\/1\.1 200 /);
});

test('Expect: 100-continue with an oversized Content-Length gets 413 without 100 Continue; a fitting one gets 100 first', LIMIT, async () => {
  const { host } = new URL(url);
  const auth = `Authorization: Bearer ${T.everyday}\r\n`;
  const big = await raw(
    url,
    `PUT /policies HTTP/1.1\r\nHost: ${host}\r\n${auth}Content-Type: application/json\r\nContent-Length: ${64 * 1024 * 1024}\r\nExpect: 100-continue\r\n\r\n`,
  );
  assert.match(big, /^HTTP\/1\.1 413 /, big.slice(0, 200));
  assert.ok(!big.includes('100 Continue'), 'no 100 Continue before the refusal');
  const body = Buffer.from(readFileSync(EXAMPLE.policy));
  const fits = await raw(
    url,
    `PUT /policies HTTP/1.1\r\nHost: ${host}\r\n${auth}Content-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
    { body, sendBodyAfter100: true },
  );
  assert.match(fits, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /, fits.slice(0, 200));
  // Refused before the body is wanted (no token): no 100 either.
  const unauth = await raw(
    url,
    `PUT /policies HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`,
  );
  assert.match(unauth, /^HTTP\/1\.1 401 /);
});

test('an X-Deadline years in the past is a budget of 0: a 504 without negative figures, lateness capped at MAX_DEADLINE_MS in the answer and the histogram', LIMIT, async () => {
  const before = metricValue(await metrics(url), 'deadline_exceeded_by_seconds_sum');
  const r = await post(url, '/epochs/e-late/compute', triple, { ...bearer(T.everyday), 'x-deadline': '2020-01-01T00:00:00.000Z' });
  const d = assertErrorEnvelope(r, { status: 504, code: 'DEADLINE_EXCEEDED' });
  assert.equal(d.deadline_ms, 0);
  // How late it was is capped at MAX_DEADLINE_MS (300 s by default), not six years.
  const by = Number(d.exceeded_by_ms);
  assert.ok(by >= 300_000 && by < 310_000, String(by));
  assert.equal(r.headers['x-deadline-exceeded-by-ms'], String(by));
  const after = metricValue(await metrics(url), 'deadline_exceeded_by_seconds_sum');
  assert.ok(after - before >= 300 && after - before < 310, `histogram sum grew by ${after - before} s`);
});

test('metrics: replays counted as replayed, a full store in rejected_total, an aborted upload not as a 400', LIMIT, async () => {
  const H = bearer(T.everyday);
  const replayedBefore = metricValue(await metrics(url), 'reward_runs_total', { status: 'replayed' });
  for (let i = 0; i < 3; i++) {
    const r = await post(url, '/epochs/2026-01-01/compute', triple, H);
    assert.equal(r.headers['idempotent-replayed'], 'true');
  }
  assert.equal(metricValue(await metrics(url), 'reward_runs_total', { status: 'replayed' }) - replayedBefore, 3);

  const full = await put(url, '/inputs', generate({ scale: 'M', seed: 3, form: 'columnar' }).inputs, H);
  assertErrorEnvelope(full, { status: 503, code: 'UNAVAILABLE', reason: 'store_full' });
  assert.equal(metricValue(await metrics(url), 'rejected_total', { reason: 'store_full' }), 1);

  const { host } = new URL(url);
  const count = async (status: string) => metricValue(await metrics(url), 'http_request_duration_seconds_count', { route: '/inputs', method: 'PUT', status });
  const [b400, b499] = [await count('400'), await count('499')];
  const { hostname, port } = new URL(url);
  await new Promise<void>((resolve) => {
    const sock = connect(Number(port), hostname, () => {
      sock.write(`PUT /inputs HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${T.everyday}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"schema":`);
      setTimeout(() => sock.destroy(), 100);
    });
    sock.on('close', () => resolve());
    sock.on('error', () => {});
  });
  const deadline = Date.now() + 5_000;
  while ((await count('499')) === b499 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal((await count('499')) - b499, 1, 'the aborted upload is recorded as 499');
  assert.equal(await count('400'), b400, 'and not as a 400');
});

// Issue 15 hardening, against the real service (in process on real sockets, AUTH=on, a tokens
// file; or `rewarder serve` as a process when its start is what is tested).

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BIN, type InProcessServer, assertErrorEnvelope, bearer, request, runServeToExit, startInProcess, tempDir, writeTokensFile } from '../harness.js';

const LIMIT = { timeout: 30_000 };
const token = () => randomBytes(24).toString('base64url');
const T = { everyday: token(), admin: token() };

const tmp = tempDir();
let server: InProcessServer | undefined;
let url = '';

before(async () => {
  const tokens = writeTokensFile(tmp.dir, [
    { tenant: 'everyday', scopes: ['rewarder.seal', 'rewarder.run', 'rewarder.inspect'], token: T.everyday },
    { tenant: 'ops', scopes: ['rewarder.admin'], token: T.admin },
  ]);
  server = await startInProcess({ AUTH: 'on', TOKENS_FILE: tokens });
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

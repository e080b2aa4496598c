// Explanations and previews under programs and tenancy (SPEC §10): another program's epoch is the
// missing-epoch 404 on both routes, and a preview's candidate must be the caller's own document.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { EXAMPLE, type SpawnedServer, bearer, get, post, put, spawnServer, tempDir, writeTokensFile } from '../harness.js';

const LIMIT = { timeout: 60_000 };
const ALL = ['rewarder.seal', 'rewarder.run', 'rewarder.inspect'];
const token = () => randomBytes(24).toString('base64url');
const T = { acme: token(), globex: token() };
const inputsBytes = readFileSync(EXAMPLE.inputs);
const policyBytes = readFileSync(EXAMPLE.policy);
const globexPolicy = Buffer.from(policyBytes.toString().replace('"id":"example-1"', '"id":"globex-1"'));
const tmp = tempDir();
let server: SpawnedServer | undefined;
let url = '';

before(async () => {
  const tokens = writeTokensFile(tmp.dir, [
    { tenant: 'acme', scopes: ALL, token: T.acme, programs: ['acme-poc'] },
    { tenant: 'globex', scopes: ALL, token: T.globex, programs: ['globex'] },
  ]);
  server = await spawnServer({ AUTH: 'on', TOKENS_FILE: tokens, TENANT_RPS_MAX: '100000' });
  url = server.url;
  const A = bearer(T.acme);
  assert.equal((await put(url, '/inputs', inputsBytes, A)).status, 201);
  assert.equal((await put(url, '/policies', policyBytes, A)).status, 201);
  const run = await post(url, '/epochs/acme-poc:2026-01-01/compute', { inputs_cid: EXAMPLE.inputsCid, policy_id: EXAMPLE.policyId, policy_hash: EXAMPLE.policyHash }, A);
  assert.equal(run.status, 200, run.text);
  assert.equal((await put(url, '/policies', globexPolicy, bearer(T.globex))).status, 201);
});

after(async () => {
  await server?.stop();
  tmp.remove();
});

/** status, code and details of an error answer (the corr id differs per request). */
const shape = (r: { status: number; json<T>(): T }) => {
  const e = r.json<{ error: { code: string; details: unknown } }>().error;
  return { status: r.status, code: e.code, details: e.details };
};

test('another program\'s epoch is the missing-epoch 404 for explanations and previews', LIMIT, async () => {
  const G = bearer(T.globex);
  const theirs = await get(url, '/epochs/acme-poc:2026-01-01/explain/did:ron:alice', G);
  const missing = await get(url, '/epochs/globex:never/explain/did:ron:alice', G);
  assert.equal(theirs.status, 404);
  assert.deepEqual(shape(theirs), shape(missing));
  const body = { policy_id: 'globex-1', policy_hash: '' };
  const sealed = (await put(url, '/policies', globexPolicy, G)).json<{ policy_hash: string }>();
  body.policy_hash = sealed.policy_hash;
  const preview = await post(url, '/epochs/acme-poc:2026-01-01/preview', body, G);
  const previewMissing = await post(url, '/epochs/globex:never/preview', body, G);
  assert.equal(preview.status, 404);
  assert.deepEqual(shape(preview), shape(previewMissing));
  // The owner reads its own.
  const own = await get(url, '/epochs/acme-poc:2026-01-01/explain/did:ron:alice', bearer(T.acme));
  assert.equal(own.status, 200);
  assert.equal(own.json<{ amount_minor: string }>().amount_minor, '360');
});

test('a preview\'s candidate policy must be one the caller sealed itself', LIMIT, async () => {
  const A = bearer(T.acme);
  const theirPolicy = await post(url, '/epochs/acme-poc:2026-01-01/preview', { policy_id: 'globex-1', policy_hash: (await put(url, '/policies', globexPolicy, bearer(T.globex))).json<{ policy_hash: string }>().policy_hash }, A);
  assert.equal(theirPolicy.status, 404);
  assert.equal(theirPolicy.json<{ error: { details: { reason: string } } }>().error.details.reason, 'unknown_policy');
  const own = await post(url, '/epochs/acme-poc:2026-01-01/preview', { policy_id: EXAMPLE.policyId, policy_hash: EXAMPLE.policyHash }, A);
  assert.equal(own.status, 200, own.text);
  assert.equal(own.json<{ payees: { changed: number } }>().payees.changed, 0);
});

// The typed client (`svc-rewarder/client`) against a real server with AUTH on: it is the file the
// document generates (not stale), it resolves as the package export, and its typed calls seal,
// compute, read and prove, with errors arriving as the typed envelope; every answer is also
// checked against the document (testing/contract.ts).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { clientTypes } from '../../scripts/client-types.js';
import { createRewarderClient, sealInputs, sealPolicy } from '../../src/client/index.js';
import { checkedFetch } from '../contract.js';
import { EXAMPLE, ROOT, type SpawnedServer, spawnServer, tempDir, writeTokensFile } from '../harness.js';

const LIMIT = { timeout: 60_000 };
const TOKEN = randomBytes(24).toString('base64url');
const tmp = tempDir();
let server: SpawnedServer | undefined;
let url = '';

before(async () => {
  const tokens = writeTokensFile(tmp.dir, [{ tenant: 'acme', scopes: ['rewarder.seal', 'rewarder.run', 'rewarder.inspect'], token: TOKEN }]);
  server = await spawnServer({ AUTH: 'on', TOKENS_FILE: tokens });
  url = server.url;
});

after(async () => {
  await server?.stop();
  tmp.remove();
});

test('src/client/api-types.ts is what the document generates (run npm run gen:client when this fails)', LIMIT, async () => {
  assert.equal(readFileSync(new URL('src/client/api-types.ts', `file://${ROOT}`), 'utf8'), await clientTypes());
});

test('the package exports the client as svc-rewarder/client', LIMIT, async () => {
  const mod = (await import('svc-rewarder/client')) as Record<string, unknown>;
  assert.equal(typeof mod.createRewarderClient, 'function');
});

test('typed calls seal, compute, read the manifest, prove a payee and read the ledger state', LIMIT, async () => {
  const rw = createRewarderClient(url, { token: TOKEN, fetch: checkedFetch });
  const inputs = await sealInputs(rw, readFileSync(EXAMPLE.inputs));
  assert.equal(inputs.response.status, 201);
  assert.equal(inputs.data?.inputs_cid, EXAMPLE.inputsCid, 'the exact bytes were sealed');
  const policy = await sealPolicy(rw, readFileSync(EXAMPLE.policy));
  assert.equal(policy.data?.policy_hash, EXAMPLE.policyHash);
  const epoch = { params: { path: { epoch_id: '2026-01-01' } } };
  const run = await rw.POST('/epochs/{epoch_id}/compute', { ...epoch, body: { inputs_cid: EXAMPLE.inputsCid, policy_id: EXAMPLE.policyId, policy_hash: EXAMPLE.policyHash } });
  assert.equal(run.response.status, 200);
  assert.equal(run.data?.totals.payout_minor, '927');
  const manifest = await rw.GET('/epochs/{epoch_id}', { ...epoch, parseAs: 'text' });
  assert.equal(manifest.data, readFileSync(EXAMPLE.manifest, 'utf8'));
  const bob = await rw.GET('/epochs/{epoch_id}/payouts/{actor}', { params: { path: { epoch_id: '2026-01-01', actor: 'did:ron:bob' } } });
  assert.equal(bob.data?.amount_minor, '400');
  const ledger = await rw.GET('/epochs/{epoch_id}/ledger', epoch);
  assert.equal(ledger.data?.state, 'none');
  const keys = await rw.GET('/keys');
  assert.deepEqual(keys.data, { keys: [] });
});

test('an error arrives as the typed envelope', LIMIT, async () => {
  const anonymous = createRewarderClient(url, { fetch: checkedFetch });
  const r = await anonymous.GET('/epochs/{epoch_id}', { params: { path: { epoch_id: '2026-01-01' } } });
  assert.equal(r.response.status, 401);
  assert.equal(r.error?.error.code, 'UNAUTHENTICATED');
  assert.equal(r.error?.error.details.reason, 'missing_token');
});

// Key rotation across restarts of a real server: an attestation made with key set 1 stays
// verifiable after `rewarder keygen` adds set 2 (GET /keys keeps set 1's public keys, retired), the
// new set signs new runs, and deleting set 1's private file keeps its public keys published.
// Memory stores forget across restarts, so epoch A's files are kept by the test, as a payee would.

import assert from 'node:assert/strict';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type PublicKey, verifyAttestation } from '../../src/attest/attestation.js';
import { EXAMPLE, type SpawnedServer, runServeToExit, spawnServer, tempDir } from '../harness.js';
import { type AttestationDoc, type KeyEntry, Transcript, cli, computeExample, fetchOk, independentlyVerify, keygen, signingFiles } from './kit.js';

const LIMIT = { timeout: 45_000 };
const tmp = tempDir('rewarder-rotation-');
const keyDir = join(tmp.dir, 'keys');
const transcript = new Transcript();
const secrets: string[] = [];
const running = new Set<SpawnedServer>();
after(async () => {
  for (const s of running) await s.stop();
  tmp.remove();
});

async function start(): Promise<SpawnedServer> {
  const s = await spawnServer({ AUTH: 'off', REQUIRE_PQ_ON: 'true', SIGNING_KEY_DIR: keyDir });
  running.add(s);
  return s;
}
async function stop(s: SpawnedServer): Promise<void> {
  await s.stop();
  running.delete(s);
  transcript.server(s);
}
const trusted = (entries: KeyEntry[]): PublicKey[] =>
  entries.map((k) => ({ alg: k.alg as PublicKey['alg'], keyId: k.key_id, publicKey: new Uint8Array(Buffer.from(k.public_key, 'base64')) }));
const verifyA = (keysFile: string) =>
  cli(['verify', join(tmp.dir, 'a-manifest.json'), '--inputs', EXAMPLE.inputs, '--policy', EXAMPLE.policy, '--attestation', join(tmp.dir, 'a-attestation.json'), '--keys', keysFile]);

test('after keygen adds a second set and a restart, old attestations verify and the new set signs', LIMIT, async () => {
  // Set 1 signs epoch A; the payee keeps the manifest and the attestation.
  const set1 = await keygen(keyDir);
  secrets.push(...set1.secrets);
  const s1 = await start();
  await computeExample(s1.url, 'epoch-a', transcript);
  const manifestA = (await fetchOk(s1.url, '/epochs/epoch-a', transcript)).body;
  const attA = (await fetchOk(s1.url, '/epochs/epoch-a/attestation', transcript)).json<AttestationDoc>();
  writeFileSync(join(tmp.dir, 'a-manifest.json'), manifestA);
  writeFileSync(join(tmp.dir, 'a-attestation.json'), JSON.stringify(attA));
  assert.deepEqual(attA.signatures.map((s) => s.key_id), set1.ids);
  await stop(s1);

  // Set 2 is added; the restarted service signs with it and still publishes set 1.
  const set2 = await keygen(keyDir);
  secrets.push(...set2.secrets);
  const s2 = await start();
  const keys2 = await fetchOk(s2.url, '/keys', transcript);
  writeFileSync(join(tmp.dir, 'keys-2.json'), keys2.body);
  const published = keys2.json<{ keys: KeyEntry[] }>().keys;
  assert.deepEqual(
    published.map((k) => [k.key_id, k.signing]).sort(),
    [...set1.ids.map((id) => [id, false]), ...set2.ids.map((id) => [id, true])].sort(),
  );
  const ok = verifyAttestation(attA, attA.commitment, trusted(published));
  assert.equal(ok.ok, true, ok.ok ? '' : ok.reason);
  assert.deepEqual(await independentlyVerify(attA, attA.commitment, published), ['Ed25519', 'ML-DSA-65']);
  const cliA = await verifyA(join(tmp.dir, 'keys-2.json'));
  assert.equal(cliA.code, 0, cliA.stderr);

  await computeExample(s2.url, 'epoch-b', transcript);
  const attB = (await fetchOk(s2.url, '/epochs/epoch-b/attestation', transcript)).json<AttestationDoc>();
  assert.deepEqual(attB.signatures.map((s) => s.key_id), set2.ids, 'epoch B is signed by set 2');
  assert.equal(verifyAttestation(attB, attB.commitment, trusted(published)).ok, true);
  // Set 2's attestation is not accepted by set 1's keys alone (the sets are distinct).
  assert.equal(verifyAttestation(attB, attB.commitment, trusted(published.filter((k) => set1.ids.includes(k.key_id)))).ok, false);
  await stop(s2);

  // Set 1's private file is deleted (public file kept): A still verifies against the new /keys.
  const set1Signing = signingFiles(keyDir).find((f) => readFileSync(f, 'utf8').includes(set1.ids[0] as string));
  assert.ok(set1Signing !== undefined);
  unlinkSync(set1Signing);
  assert.equal(signingFiles(keyDir).length, 1);
  const s3 = await start();
  const keys3 = await fetchOk(s3.url, '/keys', transcript);
  writeFileSync(join(tmp.dir, 'keys-3.json'), keys3.body);
  const published3 = keys3.json<{ keys: KeyEntry[] }>().keys;
  assert.deepEqual(published3, published, 'the same keys, set 1 still retired');
  const cliA3 = await verifyA(join(tmp.dir, 'keys-3.json'));
  assert.equal(cliA3.code, 0, cliA3.stderr);
  assert.match(cliA3.stdout, new RegExp(`signed by ML-DSA-65:${set1.ids[0]} Ed25519:${set1.ids[1]}`));
  await stop(s3);
});

test('a key directory left with only public files cannot sign: the service refuses to start', LIMIT, async () => {
  for (const f of signingFiles(keyDir)) unlinkSync(f);
  const r = await runServeToExit({ AUTH: 'off', REQUIRE_PQ_ON: 'true', SIGNING_KEY_DIR: keyDir });
  transcript.text(r.stdout + r.stderr);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^rewarder: cannot start: SIGNING_KEY_DIR \S+: no signing-\*\.json key set \(run rewarder keygen --out \S+\)\n$/);
});

test('no private key byte of either set appears in any server output or response body', LIMIT, () => {
  assert.equal(secrets.length, 12);
  assert.deepEqual(transcript.leaks(secrets), []);
});

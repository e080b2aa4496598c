// Private signing keys stay in the signing thread (issue 15): the main thread never reads a
// signing-*.json file, yet the service signs with the directory's keys and serves their public
// halves. Reads are observed by wrapping node:fs in this (the main) thread only: worker threads
// load their own copy of the module.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { test } from 'node:test';
import { EXAMPLE, startInProcess, tempDir } from '../harness.js';
import { type AttestationDoc, type KeyEntry, computeExample, fetchOk, independentlyVerify, keygen } from './kit.js';

test('the main thread never reads a signing-*.json file; the signing thread signs with its keys and /keys serves their public halves', { timeout: 60_000 }, async (t) => {
  const tmp = tempDir('rewarder-keys-thread-');
  t.after(() => tmp.remove());
  const made = await keygen(tmp.dir);

  const read: string[] = [];
  const original = fs.readFileSync;
  const originalOpen = fs.openSync;
  fs.readFileSync = ((path: fs.PathOrFileDescriptor, ...rest: unknown[]) => {
    read.push(String(path));
    return (original as (...a: unknown[]) => unknown)(path, ...rest);
  }) as typeof fs.readFileSync;
  fs.openSync = ((path: fs.PathLike, ...rest: unknown[]) => {
    read.push(String(path));
    return (originalOpen as (...a: unknown[]) => number)(path, ...rest);
  }) as typeof fs.openSync;
  syncBuiltinESMExports();
  let server: Awaited<ReturnType<typeof startInProcess>> | undefined;
  try {
    server = await startInProcess({ AUTH: 'off', REQUIRE_PQ_ON: 'true', SIGNING_KEY_DIR: tmp.dir });
  } finally {
    fs.readFileSync = original;
    fs.openSync = originalOpen;
    syncBuiltinESMExports();
  }
  t.after(() => server?.close());
  assert.deepEqual(read.filter((p) => /signing-[^/]*\.json$/.test(p)), [], 'the main thread opened a private key file');

  const keys = (await fetchOk(server.url, '/keys')).json<{ keys: KeyEntry[] }>().keys;
  assert.deepEqual(keys.map((k) => k.key_id).sort(), [...made.ids].sort());
  assert.ok(keys.every((k) => k.signing));
  const version = (await fetchOk(server.url, '/version')).json<{ signing: { key_ids: string[] } }>();
  assert.deepEqual([...version.signing.key_ids].sort(), [...made.ids].sort());
  await computeExample(server.url, '2026-01-01');
  const att = (await fetchOk(server.url, '/epochs/2026-01-01/attestation')).json<AttestationDoc>();
  assert.deepEqual(await independentlyVerify(att, EXAMPLE.commitment, keys), ['Ed25519', 'ML-DSA-65']);
});

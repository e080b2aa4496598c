// ML-DSA-65 secret keys: the Wycheproof vectors the native signer used to accept (tcId 56/57),
// keys broken by hand, and the key directory refusing them at load.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { nativeAddon } from '../core/native.js';
import { ML_DSA_CONTEXT, mlDsaSign } from './attestation.js';
import { generateKeySet, loadKeyDir, writeKeySet } from './keys.js';
import { mlDsa65KeyPairProblem, mlDsa65SecretKeyProblem } from './mldsa-key.js';

interface Vector {
  tcId: number;
  comment: string;
  result: 'valid' | 'invalid';
  msg: string;
  privateKey: string;
  publicKey: string | null;
}
const FILE = fileURLToPath(new URL('../../../vectors/wycheproof/mldsa_65_sign_noseed.subset.json', import.meta.url));
const vectors = (JSON.parse(readFileSync(FILE, 'utf8')) as { tests: Vector[] }).tests;
const byId = (id: number): Vector => vectors.find((v) => v.tcId === id) as Vector;
const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

test('Wycheproof mldsa_65_sign_noseed: s1 and s2 out of range (tcId 56, 57) and wrong lengths (54, 55) are malformed; the baseline is not', () => {
  assert.equal(mlDsa65SecretKeyProblem(hex(byId(1).privateKey)), null);
  assert.equal(mlDsa65KeyPairProblem(hex(byId(1).privateKey), hex(byId(1).publicKey as string)), null);
  assert.match(mlDsa65SecretKeyProblem(hex(byId(56).privateKey)) ?? '', /^s1 coefficient out of range/);
  assert.match(mlDsa65SecretKeyProblem(hex(byId(57).privateKey)) ?? '', /^s2 coefficient out of range/);
  assert.match(mlDsa65SecretKeyProblem(hex(byId(54).privateKey)) ?? '', /4031 bytes, expected 4032/);
  assert.match(mlDsa65SecretKeyProblem(hex(byId(55).privateKey)) ?? '', /4033 bytes, expected 4032/);
});

test('the signer refuses what @noble refuses and signs what it signs, whichever backend runs', () => {
  for (const v of vectors) {
    const sk = hex(v.privateKey);
    const msg = hex(v.msg);
    let nobleSigns: boolean;
    try {
      ml_dsa65.sign(msg, sk, { context: ML_DSA_CONTEXT });
      nobleSigns = true;
    } catch {
      nobleSigns = false;
    }
    assert.equal(nobleSigns, v.result === 'valid', `tcId ${v.tcId}: @noble`);
    if (v.result === 'valid') {
      const sig = mlDsaSign(msg, sk);
      assert.ok(ml_dsa65.verify(sig, msg, hex(v.publicKey as string), { context: ML_DSA_CONTEXT }), `tcId ${v.tcId}`);
    } else {
      assert.throws(() => mlDsaSign(msg, sk), /^RangeError: ML-DSA-65 /, `tcId ${v.tcId}: ${v.comment}`);
    }
  }
  // Today's reason for the check: PQClean alone signs with the s1-out-of-range key.
  const addon = nativeAddon();
  if (addon !== null) assert.equal(addon.mldsa65Sign(hex(byId(56).privateKey), hex(byId(56).msg), ML_DSA_CONTEXT).length, 3309);
});

test('keys broken by hand: an s1 or s2 nibble past 8, ρ or tr not the public key’s', () => {
  const [pq] = generateKeySet().signing;
  assert.ok(pq !== undefined);
  assert.equal(mlDsa65KeyPairProblem(pq.secretKey, pq.publicKey), null);
  const broken = (at: number, value: number) => {
    const sk = Uint8Array.from(pq.secretKey);
    sk[at] = value;
    return sk;
  };
  assert.match(mlDsa65SecretKeyProblem(broken(128, 0x09)) ?? '', /^s1/);
  assert.match(mlDsa65SecretKeyProblem(broken(128 + 639, 0x90)) ?? '', /^s1/);
  assert.match(mlDsa65SecretKeyProblem(broken(128 + 640, 0xff)) ?? '', /^s2/);
  assert.match(mlDsa65SecretKeyProblem(broken(128 + 640 + 767, 0x0f)) ?? '', /^s2/);
  assert.equal(mlDsa65SecretKeyProblem(broken(128, 0x88)), null, 'nibbles of 8 (coefficient −4) are valid');
  assert.match(mlDsa65KeyPairProblem(broken(0, (pq.secretKey[0] as number) ^ 1), pq.publicKey) ?? '', /ρ does not match/);
  assert.match(mlDsa65KeyPairProblem(broken(64, (pq.secretKey[64] as number) ^ 1), pq.publicKey) ?? '', /tr is not the hash/);
});

test('a key directory whose ML-DSA-65 secret key is malformed or not its public key’s is refused at load, naming the key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'badmldsa-'));
  try {
    const files = writeKeySet(dir, generateKeySet(new Date('2026-04-01T00:00:00Z')));
    const doc = JSON.parse(readFileSync(files.signing, 'utf8')) as { keys: { alg: string; secret_key: string }[] };
    const entry = doc.keys.find((k) => k.alg === 'ML-DSA-65');
    assert.ok(entry !== undefined);
    const good = entry.secret_key;
    const sk = Buffer.from(good, 'base64');
    sk[200] = 0x9f;
    entry.secret_key = sk.toString('base64');
    writeFileSync(files.signing, JSON.stringify(doc), { mode: 0o600 });
    assert.throws(() => loadKeyDir(dir), /signing-\S+\.json: ML-DSA-65 key b3:[0-9a-f]{64} is malformed: s1 coefficient out of range/);
    // Well formed, but another key set's secret: the self-test catches what the encoding cannot.
    const other = generateKeySet().signing[0]?.secretKey as Uint8Array;
    const mixed = Buffer.from(good, 'base64');
    mixed.set(other.subarray(128), 128);
    entry.secret_key = mixed.toString('base64');
    writeFileSync(files.signing, JSON.stringify(doc), { mode: 0o600 });
    assert.throws(() => loadKeyDir(dir), /self-test failed: ML-DSA-65 signature by b3:[0-9a-f]{64} does not verify/);
    entry.secret_key = good;
    writeFileSync(files.signing, JSON.stringify(doc), { mode: 0o600 });
    assert.equal(loadKeyDir(dir).signing.length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

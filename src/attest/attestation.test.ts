import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { ED25519, ML_DSA, type PublicKey, attest, attestationMessage, mlDsaSign, signingBackend, verifyAttestation } from './attestation.js';
import { generateKeySet, keysDocument, loadKeyDir, writeKeySet } from './keys.js';

const COMMITMENT = 'b3:20a6880bf936032741a1dc0d285d46a4fe85ee11a7c0d3db8ac3be64e616e1c7';
const set = generateKeySet(new Date('2026-01-01T00:00:00Z'));
const trusted: PublicKey[] = set.signing.map((k) => ({ alg: k.alg, keyId: k.keyId, publicKey: k.publicKey }));
const att = attest(COMMITMENT, set.signing);

test('an attestation carries one ML-DSA-65 and one Ed25519 signature and verifies', () => {
  assert.deepEqual(att.signatures.map((s) => s.alg), [ML_DSA, ED25519]);
  assert.deepEqual(verifyAttestation(att, COMMITMENT, trusted).ok, true);
});

test('signatures verify through independent code paths (WebCrypto Ed25519, noble ML-DSA with the SPEC context)', async () => {
  const msg = new TextEncoder().encode(`rewarder.attestation.v1:${COMMITMENT}`);
  assert.deepEqual(attestationMessage(COMMITMENT), msg);
  const ed = set.signing.find((k) => k.alg === ED25519);
  const pq = set.signing.find((k) => k.alg === ML_DSA);
  assert.ok(ed && pq);
  const edSig = Buffer.from(att.signatures[1]?.sig as string, 'base64');
  const key = await webcrypto.subtle.importKey('raw', ed.publicKey, { name: 'Ed25519' }, false, ['verify']);
  assert.equal(await webcrypto.subtle.verify({ name: 'Ed25519' }, key, edSig, msg), true);
  const pqSig = Buffer.from(att.signatures[0]?.sig as string, 'base64');
  assert.equal(ml_dsa65.verify(pqSig, msg, pq.publicKey, { context: new TextEncoder().encode('rewarder.manifest.v1') }), true);
  // Without the context string the ML-DSA signature must not verify (FIPS 204 domain separation).
  assert.equal(ml_dsa65.verify(pqSig, msg, pq.publicKey), false);
});

test('ML-DSA-65 signs through the native addon (PQClean), and noble verifies what it signs', () => {
  // The addon must be built here; REWARDER_ALLOW_NO_NATIVE=1 accepts the @noble fallback.
  if (process.env.REWARDER_ALLOW_NO_NATIVE !== '1') assert.equal(signingBackend(), 'native');
  const pq = set.signing.find((k) => k.alg === ML_DSA);
  assert.ok(pq);
  const context = new TextEncoder().encode('rewarder.manifest.v1');
  for (let i = 0; i < 20; i++) {
    const msg = attestationMessage(`b3:${i.toString(16).padStart(64, '0')}`);
    const sig = mlDsaSign(msg, pq.secretKey);
    // Hedged: two signatures of one message differ, and both verify.
    assert.notDeepEqual(sig, mlDsaSign(msg, pq.secretKey));
    assert.equal(ml_dsa65.verify(sig, msg, pq.publicKey, { context }), true);
    assert.equal(ml_dsa65.verify(sig, attestationMessage(COMMITMENT), pq.publicKey, { context }), false);
  }
  assert.throws(() => mlDsaSign(attestationMessage(COMMITMENT), pq.secretKey.subarray(1)), RangeError);
});

test('any flipped byte in commitment, signature or key fails', () => {
  const flipped = `${COMMITMENT.slice(0, -1)}${COMMITMENT.endsWith('7') ? '8' : '7'}`;
  assert.equal(verifyAttestation(att, flipped, trusted).ok, false, 'manifest with another commitment');
  assert.equal(verifyAttestation({ ...att, commitment: flipped }, flipped, trusted).ok, false, 'attestation re-labelled');
  for (const i of [0, 1]) {
    const sigs = att.signatures.map((s) => ({ ...s }));
    const raw = Buffer.from(sigs[i]?.sig as string, 'base64');
    raw[7] = (raw[7] as number) ^ 1;
    (sigs[i] as { sig: string }).sig = raw.toString('base64');
    assert.equal(verifyAttestation({ ...att, signatures: sigs }, COMMITMENT, trusted).ok, false, `signature ${i}`);
  }
  for (const i of [0, 1]) {
    const keys = trusted.map((k) => ({ ...k, publicKey: new Uint8Array(k.publicKey) }));
    (keys[i] as PublicKey).publicKey[3] = ((keys[i] as PublicKey).publicKey[3] as number) ^ 1;
    assert.equal(verifyAttestation(att, COMMITMENT, keys).ok, false, `key ${i}`);
  }
});

test('a key from another key set fails, and stripping one algorithm is refused (no downgrade)', () => {
  const other = generateKeySet();
  const otherTrusted = other.signing.map((k) => ({ alg: k.alg, keyId: k.keyId, publicKey: k.publicKey }));
  assert.equal(verifyAttestation(att, COMMITMENT, otherTrusted).ok, false);
  assert.equal(verifyAttestation(attest(COMMITMENT, other.signing), COMMITMENT, trusted).ok, false);
  const edOnly = { ...att, signatures: att.signatures.filter((s) => s.alg === ED25519) };
  assert.deepEqual(verifyAttestation(edOnly, COMMITMENT, trusted), { ok: false, reason: 'no ML-DSA-65 signature' });
  assert.equal(verifyAttestation(null, COMMITMENT, trusted).ok, false);
  assert.equal(verifyAttestation({ ...att, signatures: [{ alg: ML_DSA }] }, COMMITMENT, trusted).ok, false);
});

test('keygen writes a 0600 private set and a public set; loading picks the newest to sign', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keys-'));
  try {
    const first = writeKeySet(dir, set);
    assert.equal(statSync(first.signing).mode & 0o777, 0o600);
    assert.ok(!readFileSync(first.public, 'utf8').includes('secret_key'));
    const second = generateKeySet(new Date('2026-06-01T00:00:00Z'));
    writeKeySet(dir, second);
    const loaded = loadKeyDir(dir);
    assert.deepEqual(loaded.signing.map((k) => k.keyId), second.signing.map((k) => k.keyId));
    assert.equal(loaded.published.length, 4);
    // Rotation: the old set's attestation still verifies with the published (retired) keys,
    // even after its private file is deleted.
    unlinkSync(first.signing);
    const afterRetire = loadKeyDir(dir);
    assert.equal(verifyAttestation(att, COMMITMENT, afterRetire.published).ok, true);
    const doc = keysDocument(afterRetire);
    assert.equal(doc.keys.length, 4);
    assert.ok(!JSON.stringify(doc).includes(Buffer.from(second.signing[0]?.secretKey as Uint8Array).toString('base64')));
    assert.equal(doc.keys.filter((k) => k.signing).length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a key directory without a signing set is refused with one line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nokeys-'));
  try {
    assert.throws(() => loadKeyDir(dir), /no signing-\*\.json key set/);
    assert.throws(() => loadKeyDir(join(dir, 'missing')), /cannot read \(ENOENT\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a private key file readable by group or others is refused, as ssh does, with chmod 600 in the message', () => {
  const dir = mkdtempSync(join(tmpdir(), 'loosekeys-'));
  try {
    const files = writeKeySet(dir, generateKeySet(new Date('2026-03-01T00:00:00Z')));
    for (const mode of [0o640, 0o604, 0o644, 0o660]) {
      chmodSync(files.signing, mode);
      assert.throws(
        () => loadKeyDir(dir),
        (e: Error) => {
          assert.match(e.message, /private key file is readable by group or others \(mode 0\d{3}\); run: chmod 600 \S+signing-\S+\.json$/);
          assert.ok(!e.message.includes('\n'));
          return true;
        },
        mode.toString(8),
      );
    }
    chmodSync(files.signing, 0o600);
    assert.equal(loadKeyDir(dir).signing.length, 2);
    // The public file may be world-readable: that is what it is for.
    chmodSync(files.public, 0o644);
    assert.equal(loadKeyDir(dir).signing.length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Attestations (SPEC §6): ML-DSA-65 (FIPS 204, context "rewarder.manifest.v1") and Ed25519 over
// the ASCII bytes of "rewarder.attestation.v1:" + commitment. They travel beside the manifest,
// never inside it, so the manifest bytes are the same with signing on or off.

import { createPrivateKey, createPublicKey, sign as edSign, verify as edVerify } from 'node:crypto';
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { b3, isDigest } from '../core/hash.js';
import { isObject } from '../core/json/parse.js';
import { nativeAddon } from '../core/native.js';
import { mlDsa65SecretKeyProblem } from './mldsa-key.js';

export const ML_DSA = 'ML-DSA-65';
export const ED25519 = 'Ed25519';
export type Alg = typeof ML_DSA | typeof ED25519;
export const ML_DSA_CONTEXT = new TextEncoder().encode('rewarder.manifest.v1');

export interface Signature {
  alg: Alg;
  key_id: string;
  sig: string;
}

export interface Attestation {
  commitment: string;
  signatures: Signature[];
}

/** A key pair as raw bytes (Ed25519: the 32-byte seed and public key). */
export interface KeyPair {
  alg: Alg;
  keyId: string;
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export interface PublicKey {
  alg: Alg;
  keyId: string;
  publicKey: Uint8Array;
}

export const keyIdOf = (publicKey: Uint8Array): string => b3(publicKey);

/** What a signature is over: a manifest's commitment (§6) or a correction's (§13, `rewarder.correction.v1`). */
export type SignedDomain = 'rewarder.attestation.v1' | 'rewarder.correction.v1';

export function attestationMessage(commitment: string, domain: SignedDomain = 'rewarder.attestation.v1'): Uint8Array {
  return new TextEncoder().encode(`${domain}:${commitment}`);
}

const b64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');

export function edPrivateKey(seed: Uint8Array, publicKey: Uint8Array) {
  return createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: b64url(seed), x: b64url(publicKey) }, format: 'jwk' });
}

function edPublicKey(publicKey: Uint8Array) {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(publicKey) }, format: 'jwk' });
}

/**
 * ML-DSA-65 signing: PQClean's C through the native addon when it is built (~0.7 ms here), else
 * @noble/post-quantum (~8 ms, p95 ~25 ms). Both are hedged FIPS 204 signatures over the same
 * key encoding; verification below always uses @noble, an independent implementation.
 */
export function mlDsaSign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  // Both paths refuse a malformed key alike (PQClean would sign with it; @noble refuses).
  const problem = mlDsa65SecretKeyProblem(secretKey);
  if (problem !== null) throw new RangeError(`ML-DSA-65 ${problem}`);
  const addon = nativeAddon();
  return addon !== null ? addon.mldsa65Sign(secretKey, message, ML_DSA_CONTEXT) : ml_dsa65.sign(message, secretKey, { context: ML_DSA_CONTEXT });
}

export function signingBackend(): 'native' | 'js' {
  return nativeAddon() === null ? 'js' : 'native';
}

/** Signs a commitment with each key pair (one per algorithm, newest key set). */
export function attest(commitment: string, keys: readonly KeyPair[], domain: SignedDomain = 'rewarder.attestation.v1'): Attestation {
  const msg = attestationMessage(commitment, domain);
  const signatures = keys.map((k): Signature => {
    const sig = k.alg === ML_DSA ? mlDsaSign(msg, k.secretKey) : edSign(null, msg, edPrivateKey(k.secretKey, k.publicKey));
    return { alg: k.alg, key_id: k.keyId, sig: Buffer.from(sig).toString('base64') };
  });
  return { commitment, signatures };
}

export type VerifyResult = { ok: true; verified: Signature[] } | { ok: false; reason: string };

/**
 * Checks an attestation against a manifest's commitment and a trusted key set. Every signature
 * must verify with a key of the set, and both algorithms must be present: a PQ-safe attestation
 * cannot be downgraded to Ed25519 alone by stripping the ML-DSA signature. Never throws.
 */
export function verifyAttestation(doc: unknown, commitment: string, trusted: readonly PublicKey[], domain: SignedDomain = 'rewarder.attestation.v1'): VerifyResult {
  if (!isObject(doc) || !Array.isArray(doc.signatures)) return { ok: false, reason: 'not an attestation' };
  if (!isDigest(commitment) || doc.commitment !== commitment) return { ok: false, reason: 'commitment does not match the manifest' };
  const msg = attestationMessage(commitment, domain);
  const verified: Signature[] = [];
  for (const s of doc.signatures as unknown[]) {
    if (!isObject(s) || typeof s.alg !== 'string' || typeof s.key_id !== 'string' || typeof s.sig !== 'string') {
      return { ok: false, reason: 'malformed signature entry' };
    }
    const key = trusted.find((k) => k.keyId === s.key_id && k.alg === s.alg);
    if (key === undefined) return { ok: false, reason: `key ${s.key_id} (${s.alg}) is not in the trusted key set` };
    if (keyIdOf(key.publicKey) !== key.keyId) return { ok: false, reason: `key ${key.keyId} does not match its public key` };
    // Canonical base64 only: Node's decoder ignores the unused low bits of the last character, so
    // "…Cw==" and "…Cx==" decode alike, and a flipped byte of the attestation would still verify.
    const sig = Buffer.from(s.sig, 'base64');
    if (sig.toString('base64') !== s.sig) return { ok: false, reason: 'signature is not canonical base64' };
    let good: boolean;
    try {
      good = key.alg === ML_DSA ? ml_dsa65.verify(sig, msg, key.publicKey, { context: ML_DSA_CONTEXT }) : edVerify(null, msg, edPublicKey(key.publicKey), sig);
    } catch {
      good = false;
    }
    if (!good) return { ok: false, reason: `${s.alg} signature by ${s.key_id} does not verify` };
    verified.push(s as unknown as Signature);
  }
  for (const alg of [ML_DSA, ED25519]) {
    if (!verified.some((s) => s.alg === alg)) return { ok: false, reason: `no ${alg} signature` };
  }
  return { ok: true, verified };
}

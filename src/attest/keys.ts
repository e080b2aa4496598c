// Signing keys on disk. `rewarder keygen --out DIR` writes one key set (ML-DSA-65 + Ed25519) as
// `signing-<stamp>.json` (private, 0600) and `public-<stamp>.json` (shareable). SIGNING_KEY_DIR
// holds every generation: the newest signing set signs; every public key (retired ones included,
// even after their private file is deleted) is published by GET /keys so old attestations stay
// verifiable. Private keys are never logged or returned: only this module reads them.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { isObject } from '../core/json/parse.js';
import { type Alg, ED25519, type KeyPair, ML_DSA, type PublicKey, attest, keyIdOf, verifyAttestation } from './attestation.js';
import { mlDsa65KeyPairProblem } from './mldsa-key.js';

export interface KeySet {
  createdAt: string;
  signing: KeyPair[];
}

export function generateKeySet(now = new Date()): KeySet {
  const pq = ml_dsa65.keygen(randomBytes(32));
  const ed = generateKeyPairSync('ed25519');
  const jwk = ed.privateKey.export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d as string, 'base64url');
  const edPub = Buffer.from(jwk.x as string, 'base64url');
  return {
    createdAt: now.toISOString(),
    signing: [
      { alg: ML_DSA, keyId: keyIdOf(pq.publicKey), publicKey: pq.publicKey, secretKey: pq.secretKey },
      { alg: ED25519, keyId: keyIdOf(edPub), publicKey: new Uint8Array(edPub), secretKey: new Uint8Array(seed) },
    ],
  };
}

const stampOf = (iso: string) => iso.replace(/[-:.]/g, '').replace('T', '-');

/** Writes the set; returns the two file paths. The private file is created 0600. */
export function writeKeySet(dir: string, set: KeySet): { signing: string; public: string } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stamp = stampOf(set.createdAt);
  const signing = join(dir, `signing-${stamp}.json`);
  const pub = join(dir, `public-${stamp}.json`);
  if (existsSync(signing)) throw new Error(`${signing} already exists`);
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
  const keys = set.signing.map((k) => ({ alg: k.alg, key_id: k.keyId, public_key: b64(k.publicKey) }));
  writeFileSync(
    signing,
    `${JSON.stringify({ created_at: set.createdAt, keys: set.signing.map((k, i) => ({ ...keys[i], secret_key: b64(k.secretKey) })) })}\n`,
    { mode: 0o600, flag: 'wx' },
  );
  chmodSync(signing, 0o600);
  writeFileSync(pub, `${JSON.stringify({ created_at: set.createdAt, keys }, null, 2)}\n`, { mode: 0o644 });
  return { signing, public: pub };
}

export interface LoadedKeys {
  /** The newest set's key pairs: what signs. */
  signing: KeyPair[];
  /** Every public key found (signing and retired), newest first. */
  published: PublicKey[];
}

/** What the main thread knows of the keys: public halves only (the signing thread holds the rest). */
export interface PublicKeySet {
  /** The public halves of the newest set's key pairs. */
  signing: PublicKey[];
  published: PublicKey[];
}

export const publicHalf = (k: PublicKey): PublicKey => ({ alg: k.alg, keyId: k.keyId, publicKey: k.publicKey });

/** Loads SIGNING_KEY_DIR; throws an Error with a one-line reason when no usable set is there. */
export function loadKeyDir(dir: string): LoadedKeys {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new Error(`SIGNING_KEY_DIR ${dir}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
  }
  const sets: { createdAt: string; pairs: KeyPair[]; secret: boolean }[] = [];
  for (const name of names.filter((n) => /^(signing|public)-.*\.json$/.test(n)).sort()) {
    sets.push(parseKeyFile(join(dir, name), name.startsWith('signing-')));
  }
  const signing = sets.filter((s) => s.secret).sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
  if (signing === undefined) throw new Error(`SIGNING_KEY_DIR ${dir}: no signing-*.json key set (run rewarder keygen --out ${dir})`);
  const published = new Map<string, PublicKey>();
  for (const s of sets.sort((a, b) => b.createdAt.localeCompare(a.createdAt))) {
    for (const k of s.pairs) published.set(k.keyId, { alg: k.alg, keyId: k.keyId, publicKey: k.publicKey });
  }
  return { signing: signing.pairs, published: [...published.values()] };
}

function parseKeyFile(path: string, secret: boolean): { createdAt: string; pairs: KeyPair[]; secret: boolean } {
  const bad = (why: string): never => {
    throw new Error(`${path}: ${why}`);
  };
  // As ssh does with an unprotected private key: refuse it, and say how to fix it. Checked before
  // reading, so a key anyone on the box could read never reaches memory.
  if (secret) {
    let mode: number;
    try {
      mode = statSync(path).mode & 0o777;
    } catch {
      return bad('not readable JSON');
    }
    if ((mode & 0o077) !== 0) {
      return bad(`private key file is readable by group or others (mode ${mode.toString(8).padStart(4, '0')}); run: chmod 600 ${path}`);
    }
  }
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return bad('not readable JSON');
  }
  if (!isObject(doc) || typeof doc.created_at !== 'string' || !Array.isArray(doc.keys)) return bad('not a key set');
  const pairs = (doc.keys as unknown[]).map((k): KeyPair => {
    if (!isObject(k) || (k.alg !== ML_DSA && k.alg !== ED25519) || typeof k.public_key !== 'string') return bad('malformed key entry');
    const publicKey = new Uint8Array(Buffer.from(k.public_key, 'base64'));
    if (keyIdOf(publicKey) !== k.key_id) return bad(`key_id does not match the public key of ${String(k.alg)}`);
    const secretKey = secret && typeof k.secret_key === 'string' ? new Uint8Array(Buffer.from(k.secret_key, 'base64')) : new Uint8Array(0);
    if (secret && secretKey.length === 0) return bad('signing key without secret_key');
    return { alg: k.alg as Alg, keyId: k.key_id as string, publicKey, secretKey };
  });
  if (secret) {
    for (const alg of [ML_DSA, ED25519]) if (!pairs.some((p) => p.alg === alg)) bad(`no ${alg} key`);
    checkSigningPairs(pairs, bad);
  }
  return { createdAt: doc.created_at, pairs, secret };
}

/**
 * A signing set is used only if every key is well formed and signs what its public key verifies:
 * a malformed ML-DSA-65 key (s1/s2 out of range, ρ or tr not those of its public key) is refused
 * by name, and a self-test attestation must verify with @noble and node:crypto, so a corrupted or
 * mismatched key never signs a manifest nobody can verify.
 */
function checkSigningPairs(pairs: readonly KeyPair[], bad: (why: string) => never): void {
  for (const p of pairs) {
    if (p.alg === ML_DSA) {
      const problem = mlDsa65KeyPairProblem(p.secretKey, p.publicKey);
      if (problem !== null) bad(`ML-DSA-65 key ${p.keyId} is malformed: ${problem}`);
    } else if (p.secretKey.length !== 32) {
      bad(`Ed25519 key ${p.keyId} is malformed: secret key is ${p.secretKey.length} bytes, expected 32`);
    }
  }
  const probe = `b3:${'0'.repeat(64)}`;
  let result: ReturnType<typeof verifyAttestation>;
  try {
    result = verifyAttestation(attest(probe, pairs), probe, pairs);
  } catch {
    return bad('a key of the set cannot sign');
  }
  if (!result.ok) bad(`self-test failed: ${result.reason} (the secret key does not match its public key)`);
}

/** GET /keys: every public key, base64 raw. */
export function keysDocument(keys: PublicKeySet): { keys: { alg: string; key_id: string; public_key: string; signing: boolean }[] } {
  const active = new Set(keys.signing.map((k) => k.keyId));
  return {
    keys: keys.published.map((k) => ({
      alg: k.alg,
      key_id: k.keyId,
      public_key: Buffer.from(k.publicKey).toString('base64'),
      signing: active.has(k.keyId),
    })),
  };
}

// ML-DSA-65 secret keys checked before use (FIPS 204 §7.2 skDecode), so the native signer
// (PQClean, which decodes without checking) and @noble/post-quantum (which refuses) agree: a key
// whose s1 or s2 coefficients fall outside [-η, η] is refused by both paths, as Wycheproof's
// mldsa_65_sign_noseed tcId 56/57 require. At load, the key is also matched to its public key.
//
// sk = ρ (32) ‖ K (32) ‖ tr (64) ‖ s1 (ℓ = 5 polynomials) ‖ s2 (k = 6) ‖ t0 (k = 6); with η = 4 each
// s coefficient c is packed as the nibble 4 − c, so only nibbles 0..8 are valid; t0 takes every
// 13-bit value, so it needs no check. pk = ρ ‖ t1, and tr = SHAKE256(pk) to 64 bytes.

import { createHash } from 'node:crypto';

export const ML_DSA65_SECRET_KEY_BYTES = 4032;
export const ML_DSA65_PUBLIC_KEY_BYTES = 1952;

const S1_AT = 128;
const S2_AT = S1_AT + 5 * 128;
const T0_AT = S2_AT + 6 * 128;

/** Why `sk` is not a well-formed ML-DSA-65 secret key, or null when it is. Cheap (1.4 KB scanned). */
export function mlDsa65SecretKeyProblem(sk: Uint8Array): string | null {
  if (sk.length !== ML_DSA65_SECRET_KEY_BYTES) return `secret key is ${sk.length} bytes, expected ${ML_DSA65_SECRET_KEY_BYTES}`;
  for (let i = S1_AT; i < T0_AT; i++) {
    const b = sk[i] as number;
    if ((b & 0x0f) > 8 || b >> 4 > 8) return `${i < S2_AT ? 's1' : 's2'} coefficient out of range [-4, 4]`;
  }
  return null;
}

/** Why `sk` is not the secret key of `pk` (as far as its encoding says), or null. */
export function mlDsa65KeyPairProblem(sk: Uint8Array, pk: Uint8Array): string | null {
  const own = mlDsa65SecretKeyProblem(sk);
  if (own !== null) return own;
  if (pk.length !== ML_DSA65_PUBLIC_KEY_BYTES) return `public key is ${pk.length} bytes, expected ${ML_DSA65_PUBLIC_KEY_BYTES}`;
  if (!equal(sk.subarray(0, 32), pk.subarray(0, 32))) return 'secret key seed ρ does not match the public key';
  const tr = createHash('shake256', { outputLength: 64 }).update(pk).digest();
  if (!equal(sk.subarray(64, 128), tr)) return 'secret key tr is not the hash of the public key';
  return null;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

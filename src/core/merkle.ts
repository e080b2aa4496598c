// payouts_root and its inclusion proofs (SPEC §5): the RFC 6962 Merkle Tree Hash with BLAKE3.
//
// Roots and audit paths come from the native addon when it is built (native.ts) and from the
// TypeScript tree otherwise (merkle-js.ts); both give the same bytes, which the tests check.
import { blake3PrefixedInto } from './hash.js';
import { canonicalString } from './jcs.js';
import {
  DIGEST_LEN,
  LEAF_PREFIX,
  NODE_PREFIX,
  auditPathJs,
  auditPathOfRangesJs,
  merkleRootJs,
  merkleRootOfRangesJs,
} from './merkle-js.js';
import { nativeAddon } from './native.js';

const encoder = new TextEncoder();

/**
 * UTF-8 of the JCS object {"actor": actor, "amount_minor": amountMinor}, a payouts leaf's data.
 * Throws a TypeError on a lone surrogate, which has no JCS form (and no place in an actor id).
 */
export function leafData(actor: string, amountMinor: string): Uint8Array {
  // Member names are fixed ASCII already in JCS order, so the canonical text is written directly.
  return encoder.encode('{"actor":' + canonicalString(actor) + ',"amount_minor":' + canonicalString(amountMinor) + '}');
}

/** Which implementation computes roots and audit paths in this thread: for /version and logs. */
export function merkleBackend(): 'native' | 'js' {
  return nativeAddon() === null ? 'js' : 'native';
}

/**
 * The leaves packed into one buffer with their offsets, for the addon; null past 4 GiB, which
 * uint32 offsets cannot address. Always a copy: for leaves that are already views into one buffer
 * (manifest.ts), checking that through .buffer and .byteOffset costs as much as copying them.
 */
function packed(leaves: readonly Uint8Array[]): { bytes: Uint8Array; offsets: Uint32Array } | null {
  const offsets = new Uint32Array(leaves.length + 1);
  let total = 0;
  for (let i = 0; i < leaves.length; i++) {
    total += leaves[i]!.length;
    if (total > 0xffff_ffff) return null;
    offsets[i + 1] = total;
  }
  const bytes = new Uint8Array(total);
  for (let i = 0; i < leaves.length; i++) bytes.set(leaves[i]!, offsets[i]!);
  return { bytes, offsets };
}

/** Splits the addon's concatenated path into one array per digest. */
function digests(flat: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < flat.length; at += DIGEST_LEN) out.push(flat.slice(at, at + DIGEST_LEN));
  return out;
}

/**
 * MTH of the leaves bytes[offsets[i] .. offsets[i+1] − separator) for i < count (offsets has
 * count + 1 non-decreasing entries within bytes; anything else throws a TypeError or RangeError).
 * Equals merkleRoot of the same leaves; the empty tree's root is b3(""). A separator lets the
 * leaves sit in a buffer as a JSON array's elements ("leaf,leaf,…"), which the ledger parts copy
 * in one piece (manifest.ts).
 */
export function merkleRootOfRanges(bytes: Uint8Array, offsets: Uint32Array, count: number, separator = 0): Uint8Array {
  const addon = nativeAddon();
  return addon === null ? merkleRootOfRangesJs(bytes, offsets, count, separator) : addon.root(bytes, offsets, count, separator);
}

/** auditPath of the leaves bytes[offsets[i] .. offsets[i+1]), checked like merkleRootOfRanges. */
export function auditPathOfRanges(bytes: Uint8Array, offsets: Uint32Array, count: number, index: number): Uint8Array[] {
  const addon = nativeAddon();
  return addon === null ? auditPathOfRangesJs(bytes, offsets, count, index) : digests(addon.auditPath(bytes, offsets, count, index));
}

/** MTH over leaf data (each leaf is hashed as 0x00 ‖ data); the empty tree's root is b3(""). */
export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  const addon = nativeAddon();
  const ranges = addon === null ? null : packed(leaves);
  if (addon === null || ranges === null) return merkleRootJs(leaves);
  return addon.root(ranges.bytes, ranges.offsets, leaves.length);
}

/** RFC 6962 §2.1.1 PATH(index, leaves): sibling digests from the leaf level up. */
export function auditPath(leaves: readonly Uint8Array[], index: number): Uint8Array[] {
  const addon = nativeAddon();
  const ranges = addon === null ? null : packed(leaves);
  if (addon === null || ranges === null) return auditPathJs(leaves, index);
  return digests(addon.auditPath(ranges.bytes, ranges.offsets, leaves.length, index));
}

/** Writes b3(0x00 ‖ data) to out[outOff..outOff+32). */
function hashLeafInto(data: Uint8Array, out: Uint8Array, outOff: number): void {
  blake3PrefixedInto(LEAF_PREFIX, data, 0, data.length, out, outOff);
}

// One 0x01 ‖ left ‖ right message for nodes whose children are not adjacent (verification).
const pair = new Uint8Array(2 * DIGEST_LEN);

/** Writes b3(0x01 ‖ left ‖ right) to out[0..32); `out` may alias either child. */
function hashPairInto(left: Uint8Array, right: Uint8Array, out: Uint8Array): void {
  pair.set(left, 0);
  pair.set(right, DIGEST_LEN);
  blake3PrefixedInto(NODE_PREFIX, pair, 0, pair.length, out, 0);
}

function isDigestBytes(x: unknown): x is Uint8Array {
  return x instanceof Uint8Array && x.length === DIGEST_LEN;
}

/**
 * RFC 9162 §2.1.3.2: does `path` prove that `leaf` (data) sits at `index` in the tree of `treeSize`
 * leaves with this `root`? Never throws; anything malformed is simply false. The root commits to
 * the leaves, not to the size: for some (index, size) pairs a proof also verifies under another
 * size with the same path shape, so a verifier must take treeSize from the signed manifest.
 */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  treeSize: number,
  path: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!(leaf instanceof Uint8Array) || !isDigestBytes(root) || !Array.isArray(path)) return false;
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize) return false;
  // A tree of at most 2^53 leaves has paths of at most 53 digests.
  if (path.length > 53 || !path.every(isDigestBytes)) return false;
  // Arithmetic instead of bit operators: indices may exceed 2^31.
  let fn = index;
  let sn = treeSize - 1;
  const r = new Uint8Array(DIGEST_LEN);
  hashLeafInto(leaf, r, 0);
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      hashPairInto(p, r, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      hashPairInto(r, p, r);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) return false;
  for (let i = 0; i < DIGEST_LEN; i++) if (r[i] !== root[i]) return false;
  return true;
}

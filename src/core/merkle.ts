// payouts_root and its inclusion proofs (SPEC §5): the RFC 6962 Merkle Tree Hash with BLAKE3.
//
// MTH splits at the largest power of two below n. Building level by level, pairing neighbours and
// carrying an odd last node up unchanged, yields the same tree, iteratively and in O(n). Each level
// lives in one flat buffer of 32-byte digests and is overwritten in place by the next (node i of
// the next level is written after nodes 2i and 2i+1 were read), so a root costs two allocations.
import { blake3, blake3PrefixedInto } from './hash.js';
import { canonicalString } from './jcs.js';

const DIGEST_LEN = 32;
const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

const encoder = new TextEncoder();

/**
 * UTF-8 of the JCS object {"actor": actor, "amount_minor": amountMinor}, a payouts leaf's data.
 * Throws a TypeError on a lone surrogate, which has no JCS form (and no place in an actor id).
 */
export function leafData(actor: string, amountMinor: string): Uint8Array {
  // Member names are fixed ASCII already in JCS order, so the canonical text is written directly.
  return encoder.encode('{"actor":' + canonicalString(actor) + ',"amount_minor":' + canonicalString(amountMinor) + '}');
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

function leafLevel(leaves: readonly Uint8Array[]): Uint8Array {
  const level = new Uint8Array(leaves.length * DIGEST_LEN);
  for (let i = 0; i < leaves.length; i++) hashLeafInto(leaves[i]!, level, i * DIGEST_LEN);
  return level;
}

/** Replaces the first `size` digests of `level` by the next level up; returns its size. */
function foldLevel(level: Uint8Array, size: number): number {
  const pairs = size >> 1;
  for (let i = 0; i < pairs; i++) {
    // The two children are adjacent in the level, so the node message is 0x01 ‖ one 64-byte range.
    blake3PrefixedInto(NODE_PREFIX, level, 2 * i * DIGEST_LEN, 2 * DIGEST_LEN, level, i * DIGEST_LEN);
  }
  if (size & 1) level.copyWithin(pairs * DIGEST_LEN, (size - 1) * DIGEST_LEN, size * DIGEST_LEN);
  return pairs + (size & 1);
}

/** MTH over leaf data (each leaf is hashed as 0x00 ‖ data); the empty tree's root is b3(""). */
export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return blake3(new Uint8Array(0));
  const level = leafLevel(leaves);
  for (let size = leaves.length; size > 1; ) size = foldLevel(level, size);
  return level.slice(0, DIGEST_LEN);
}

/** RFC 6962 §2.1.1 PATH(index, leaves): sibling digests from the leaf level up. */
export function auditPath(leaves: readonly Uint8Array[], index: number): Uint8Array[] {
  if (!Number.isInteger(index) || index < 0 || index >= leaves.length) {
    throw new RangeError(`auditPath: index ${index} is outside a tree of ${leaves.length} leaves`);
  }
  const level = leafLevel(leaves);
  const path: Uint8Array[] = [];
  for (let size = leaves.length, i = index; size > 1; i >>>= 1) {
    const sibling = i ^ 1;
    // The last node of an odd level has no sibling: it is carried up and adds nothing to the path.
    if (sibling < size) path.push(level.slice(sibling * DIGEST_LEN, (sibling + 1) * DIGEST_LEN));
    size = foldLevel(level, size);
  }
  return path;
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

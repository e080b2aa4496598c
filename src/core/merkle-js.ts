// The RFC 6962 tree of SPEC §5 in TypeScript: the reference that native/rewarder_native.c is tested
// against, and the fallback when that addon was not built (no C toolchain at install time).
// merkle.ts chooses between them; call this module directly only to compare the two.
//
// MTH splits at the largest power of two below n. Building level by level, pairing neighbours and
// carrying an odd last node up unchanged, yields the same tree, iteratively and in O(n). Each level
// lives in one flat buffer of 32-byte digests and is overwritten in place by the next (node i of
// the next level is written after nodes 2i and 2i+1 were read), so a root costs two allocations.
import { blake3, blake3PrefixedInto } from './hash.js';

export const DIGEST_LEN = 32;
export const LEAF_PREFIX = 0x00;
export const NODE_PREFIX = 0x01;

// offsets has count + 1 uint32 entries, so count + 1 must itself fit in a uint32.
const MAX_COUNT = 0xffff_fffe;

function leafLevel(leaves: readonly Uint8Array[]): Uint8Array {
  const level = new Uint8Array(leaves.length * DIGEST_LEN);
  for (let i = 0; i < leaves.length; i++) {
    const leaf = leaves[i]!;
    blake3PrefixedInto(LEAF_PREFIX, leaf, 0, leaf.length, level, i * DIGEST_LEN);
  }
  return level;
}

/**
 * Checks (bytes, offsets, count) as the addon does, with the same errors, so that a caller sees
 * the same behaviour whichever implementation is active.
 */
function checkRanges(bytes: unknown, offsets: unknown, count: unknown): void {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
  if (!(offsets instanceof Uint32Array)) throw new TypeError('offsets must be a Uint32Array');
  if (typeof count !== 'number') throw new TypeError('count must be a number');
  if (!Number.isInteger(count) || count < 0 || count > MAX_COUNT) {
    throw new RangeError('count must be an integer from 0 to 4294967294');
  }
  if (offsets.length !== count + 1) throw new RangeError('offsets must have count + 1 entries');
}

function checkSeparator(separator: unknown): void {
  if (typeof separator !== 'number' || !Number.isInteger(separator) || separator < 0 || separator > 255) {
    throw new RangeError('separator must be an integer from 0 to 255');
  }
}

/**
 * The leaf level of leaves bytes[offsets[i] .. offsets[i+1] − separator), arguments already
 * checked: each range may end with `separator` bytes that are not part of its leaf.
 */
function leafLevelOfRanges(bytes: Uint8Array, offsets: Uint32Array, count: number, separator = 0): Uint8Array {
  const level = new Uint8Array(count * DIGEST_LEN);
  let start = offsets[0]!;
  if (start > bytes.length) throw new RangeError('offsets must be non-decreasing and within bytes');
  for (let i = 0; i < count; i++) {
    const end = offsets[i + 1]!;
    if (end < start || end > bytes.length) throw new RangeError('offsets must be non-decreasing and within bytes');
    if (end - start < separator) throw new RangeError('a range is shorter than its separator');
    blake3PrefixedInto(LEAF_PREFIX, bytes, start, end - start - separator, level, i * DIGEST_LEN);
    start = end;
  }
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

function rootOfLevel(level: Uint8Array, size: number): Uint8Array {
  while (size > 1) size = foldLevel(level, size);
  return level.slice(0, DIGEST_LEN);
}

function checkIndex(index: number, size: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= size) {
    throw new RangeError(`auditPath: index ${index} is outside a tree of ${size} leaves`);
  }
}

function pathOfLevel(level: Uint8Array, size: number, index: number): Uint8Array[] {
  const path: Uint8Array[] = [];
  for (let i = index; size > 1; i >>>= 1) {
    const sibling = i ^ 1;
    // The last node of an odd level has no sibling: it is carried up and adds nothing to the path.
    if (sibling < size) path.push(level.slice(sibling * DIGEST_LEN, (sibling + 1) * DIGEST_LEN));
    size = foldLevel(level, size);
  }
  return path;
}

/** MTH over leaf data (each leaf is hashed as 0x00 ‖ data); the empty tree's root is b3(""). */
export function merkleRootJs(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return blake3(new Uint8Array(0));
  return rootOfLevel(leafLevel(leaves), leaves.length);
}

/** RFC 6962 §2.1.1 PATH(index, leaves): sibling digests from the leaf level up. */
export function auditPathJs(leaves: readonly Uint8Array[], index: number): Uint8Array[] {
  checkIndex(index, leaves.length);
  return pathOfLevel(leafLevel(leaves), leaves.length, index);
}

/** merkleRootJs of the leaves bytes[offsets[i] .. offsets[i+1] − separator), i < count. */
export function merkleRootOfRangesJs(bytes: Uint8Array, offsets: Uint32Array, count: number, separator = 0): Uint8Array {
  checkRanges(bytes, offsets, count);
  checkSeparator(separator);
  const level = leafLevelOfRanges(bytes, offsets, count, separator);
  return count === 0 ? blake3(new Uint8Array(0)) : rootOfLevel(level, count);
}

/** auditPathJs of the leaves bytes[offsets[i] .. offsets[i+1]), i < count. */
export function auditPathOfRangesJs(bytes: Uint8Array, offsets: Uint32Array, count: number, index: number): Uint8Array[] {
  checkRanges(bytes, offsets, count);
  checkIndex(index, count);
  return pathOfLevel(leafLevelOfRanges(bytes, offsets, count), count, index);
}

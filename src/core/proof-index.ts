// Inclusion proofs in O(log n): the payouts tree's levels and an actor → leaf lookup, built once
// per manifest (in a pool worker) and kept, so a proof or a "not a payee" answer costs a binary
// search and ~log2(n) digest copies instead of hashing every leaf per request (9–11 s at 1M
// payees).
//
// Levels: level 0 is the leaf hashes; each next level hashes adjacent pairs, and an odd last node
// is carried up unchanged. For RFC 6962's tree (split at the largest power of two below n) this
// gives the same nodes, and PATH(i) is the sibling of i's node on every level where it has one.
//
// Everything is typed arrays, so the index moves between threads without copying or cloning
// strings. Pure: no IO, no clock.

import { blake3PrefixedInto, formatDigest } from './hash.js';
import { leafData } from './merkle.js';
import { DIGEST_LEN, LEAF_PREFIX, NODE_PREFIX } from './merkle-js.js';
import type { ManifestPayouts, PayoutProof } from './proof.js';

export interface ProofIndex {
  epochId: string;
  payoutsRoot: string;
  size: number;
  /** Actor ids' UTF-8, in leaf order; actor i is keys[keyOffsets[i] .. keyOffsets[i+1]). */
  keys: Uint8Array;
  keyOffsets: Uint32Array;
  /** Leaf indices sorted by their actor's UTF-8 bytes (binary search). */
  order: Uint32Array;
  /** amount_minor ASCII, in leaf order. */
  amounts: Uint8Array;
  amountOffsets: Uint32Array;
  /** All levels' digests, level 0 first; level l starts at node levelStarts[l]. */
  nodes: Uint8Array;
  levelStarts: Uint32Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The buffers an index is made of (to transfer it between threads). */
export function proofIndexBuffers(ix: ProofIndex): ArrayBuffer[] {
  return [ix.keys, ix.keyOffsets, ix.order, ix.amounts, ix.amountOffsets, ix.nodes, ix.levelStarts].map((a) => a.buffer as ArrayBuffer);
}

/** Bytes an index holds (for a cache bounded by bytes). */
export function proofIndexBytes(ix: ProofIndex): number {
  return ix.keys.byteLength + ix.keyOffsets.byteLength + ix.order.byteLength + ix.amounts.byteLength + ix.amountOffsets.byteLength + ix.nodes.byteLength + ix.levelStarts.byteLength;
}

function pack(texts: string[]): { bytes: Uint8Array; offsets: Uint32Array } {
  const parts = texts.map((t) => encoder.encode(t));
  const offsets = new Uint32Array(parts.length + 1);
  for (let i = 0; i < parts.length; i++) offsets[i + 1] = (offsets[i] as number) + (parts[i] as Uint8Array).length;
  const bytes = new Uint8Array(offsets[parts.length] as number);
  for (let i = 0; i < parts.length; i++) bytes.set(parts[i] as Uint8Array, offsets[i] as number);
  return { bytes, offsets };
}

function compareRange(a: Uint8Array, aFrom: number, aTo: number, b: Uint8Array, bFrom: number, bTo: number): number {
  const n = Math.min(aTo - aFrom, bTo - bFrom);
  for (let i = 0; i < n; i++) {
    const d = (a[aFrom + i] as number) - (b[bFrom + i] as number);
    if (d !== 0) return d;
  }
  return aTo - aFrom - (bTo - bFrom);
}

/** Builds the index of a manifest's payouts (throws a TypeError on an actor with a lone surrogate, like leafData). */
export function buildProofIndex(m: ManifestPayouts): ProofIndex {
  const n = m.payouts.length;
  const keys = pack(m.payouts.map((p) => p.actor));
  const amounts = pack(m.payouts.map((p) => p.amount_minor));
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  // Manifests list payees sorted already; check in one pass and sort only if they are not.
  let sorted = true;
  const k = keys.bytes;
  const o = keys.offsets;
  for (let i = 1; i < n && sorted; i++) sorted = compareRange(k, o[i - 1] as number, o[i] as number, k, o[i] as number, o[i + 1] as number) < 0;
  if (!sorted) order.sort((x, y) => compareRange(k, o[x] as number, o[x + 1] as number, k, o[y] as number, o[y + 1] as number));

  // Level sizes: n, ⌈n/2⌉, … 1 (an empty tree has no levels: no proofs).
  const sizes: number[] = [];
  for (let s = n; s > 0; s = s === 1 ? 0 : Math.ceil(s / 2)) sizes.push(s);
  const levelStarts = new Uint32Array(sizes.length + 1);
  for (let l = 0; l < sizes.length; l++) levelStarts[l + 1] = (levelStarts[l] as number) + (sizes[l] as number);
  const nodes = new Uint8Array((levelStarts[sizes.length] as number) * DIGEST_LEN);
  for (let i = 0; i < n; i++) {
    const p = m.payouts[i] as { actor: string; amount_minor: string };
    const leaf = leafData(p.actor, p.amount_minor);
    blake3PrefixedInto(LEAF_PREFIX, leaf, 0, leaf.length, nodes, i * DIGEST_LEN);
  }
  for (let l = 1; l < sizes.length; l++) {
    const below = levelStarts[l - 1] as number;
    const at = levelStarts[l] as number;
    const count = sizes[l - 1] as number;
    for (let j = 0; 2 * j < count; j++) {
      const left = (below + 2 * j) * DIGEST_LEN;
      if (2 * j + 1 < count) blake3PrefixedInto(NODE_PREFIX, nodes, left, 2 * DIGEST_LEN, nodes, (at + j) * DIGEST_LEN);
      else nodes.copyWithin((at + j) * DIGEST_LEN, left, left + DIGEST_LEN);
    }
  }
  return {
    epochId: m.epoch_id,
    payoutsRoot: m.payouts_root,
    size: n,
    keys: keys.bytes,
    keyOffsets: keys.offsets,
    order,
    amounts: amounts.bytes,
    amountOffsets: amounts.offsets,
    nodes,
    levelStarts,
  };
}

/** The leaf index of `actor`, or -1: a binary search over the actors' UTF-8. */
export function leafIndexOf(ix: ProofIndex, actor: string): number {
  const want = encoder.encode(actor);
  let lo = 0;
  let hi = ix.size - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const i = ix.order[mid] as number;
    const c = compareRange(ix.keys, ix.keyOffsets[i] as number, ix.keyOffsets[i + 1] as number, want, 0, want.length);
    if (c === 0) return i;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** The proof for `actor` from the index, or null when it is not a payee; equal to proveActor's. */
export function proveFromIndex(ix: ProofIndex, actor: string): PayoutProof | null {
  const index = leafIndexOf(ix, actor);
  if (index < 0) return null;
  const path: string[] = [];
  let i = index;
  const levels = ix.levelStarts.length - 1;
  // Every level below the root's (which has one node and no sibling).
  for (let l = 0; l < levels - 1; l++) {
    const count = (ix.levelStarts[l + 1] as number) - (ix.levelStarts[l] as number);
    const sibling = i ^ 1;
    if (sibling < count) {
      const at = ((ix.levelStarts[l] as number) + sibling) * DIGEST_LEN;
      path.push(formatDigest(ix.nodes.subarray(at, at + DIGEST_LEN)));
    }
    i = Math.floor(i / 2);
  }
  return {
    actor,
    amount_minor: decoder.decode(ix.amounts.subarray(ix.amountOffsets[index] as number, ix.amountOffsets[index + 1] as number)),
    epoch_id: ix.epochId,
    leaf_index: index,
    tree_size: ix.size,
    audit_path: path,
    payouts_root: ix.payoutsRoot,
  };
}

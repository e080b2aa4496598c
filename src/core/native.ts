// The native addon (native/, built by `npm ci`): the payouts tree, the same RFC 6962 tree as
// merkle-js.ts, 3–4× faster warm and ~10× on a first call for 10k payees (PERFORMANCE.md), partly
// because it batches node hashes through BLAKE3's SIMD code; and ML-DSA-65 signing (native/mldsa.c),
// ~13× faster than @noble/post-quantum; BLAKE3 of long messages (hash.ts); and, for a cold
// process, the columnar documents' integer arrays (json/cursor.ts, fast path only), the Number
// tally (calculus.ts), the column path's scores, shares, largest_remainder, ceiling and floor
// (shares.ts, native/share_kernel.c: ~0.4 s of CPU at XL in TypeScript, a few ms here); the
// Arrow stream's tally when sealing (arrow/tally.ts, native/arrow_tally.c); and the manifest's
// per-payee bytes (manifest.ts, native/manifest_write.c). Each has a fallback when it is not
// built (TypeScript, or the `blake3` package for the digest).
import { createRequire } from 'node:module';

/** The addon's functions. Each checks its arguments and throws a TypeError or RangeError. */
export interface NativeAddon {
  /** BLAKE3-256 of the bytes of the view. */
  blake3(bytes: Uint8Array): Uint8Array;
  /** A fresh incremental BLAKE3 state (opaque bytes, held by the caller). */
  blake3Init(): Uint8Array;
  /** Adds `bytes` to `state`. */
  blake3Update(state: Uint8Array, bytes: Uint8Array): void;
  /** BLAKE3-256 of everything added to `state`. */
  blake3Final(state: Uint8Array): Uint8Array;
  /** MTH over the leaves bytes[offsets[i] .. offsets[i+1] − separator), i < count (offsets has count + 1 entries). */
  root(bytes: Uint8Array, offsets: Uint32Array, count: number, separator?: number): Uint8Array;
  /** PATH(index) over the same leaves: its digests back to back, from the leaf level up. */
  auditPath(bytes: Uint8Array, offsets: Uint32Array, count: number, index: number): Uint8Array;
  /**
   * The SPEC §12 claim tree over the leaves' abi encodings bytes[offsets[i] .. offsets[i+1]):
   * fills `nodes` ((2·count − 1)·32 bytes) and `treeIndex` (count), as exports.ts's buildClaimTreeJs.
   */
  claimTree(bytes: Uint8Array, offsets: Uint32Array, count: number, nodes: Uint8Array, treeIndex: Uint32Array): void;
  /**
   * claimTree with each leaf's abi encoding written from payee i's spans of `bytes` (spans[6i ..
   * 6i+4): actor start, end, amount start, end; amounts decimal digits). RangeError above uint256.
   */
  claimTreeOfSpans(bytes: Uint8Array, spans: Uint32Array, count: number, nodes: Uint8Array, treeIndex: Uint32Array): void;
  /** Ethereum's keccak-256 of `data` (the claim tree's hash; exposed for the tests). */
  keccak256(data: Uint8Array): Uint8Array;
  /**
   * The claim dump's `tree` elements for nodes from..to (`,"0x<hex>"`, no comma before node 0)
   * written into out from `at`; returns where they end. Throws unless they fit (69 bytes a node).
   */
  claimNodesJson(nodes: Uint8Array, from: number, to: number, out: Uint8Array, at: number): number;
  /**
   * At bytes[pos] a payouts array exactly as the manifest writer writes it: six offsets a payee
   * (actor, amount_minor, score: each string's raw bytes) and, last, the offset after its `]`;
   * null for anything else (whitespace, escapes, other members, malformed text).
   */
  payeeSpans(bytes: Uint8Array, pos: number): Uint32Array | null;
  /**
   * Export rows (format 0: CSV lines; 1: the claim dump's values) of payees state[0] .. count from
   * their spans, written into out from state[1] while whole rows fit; state becomes the next
   * payee and the end of what was written (export-pieces.ts writes the same in JS).
   */
  exportRows(format: 0 | 1, bytes: Uint8Array, spans: Uint32Array, count: number, treeIndex: Uint32Array, out: Uint8Array, state: Uint32Array): void;
  /**
   * The integers of a plain JSON array `[1,2,…]` starting at `pos` (optional whitespace, then `[`)
   * as an exact-size column, with `end[0]` set to the position after `]` and `end[1]` to the
   * largest value (0 when empty); null, having written nothing, for any other form or more than
   * `max` elements (json/cursor.ts reads those).
   */
  uintArray(bytes: Uint8Array, pos: number, max: number, end: Float64Array): Float64Array | null;
  /**
   * SPEC §4.1's Number tally (calculus.ts): for i < count with startMs ≤ ts[i] < endMs, adds
   * qty[i] to q[actor[i]·K + kind[i]] in order; out = [ignored, total]. False when a cell falls
   * outside q (q is then partly written).
   */
  tallyColumns(
    actor: Float64Array,
    kind: Float64Array,
    qty: Float64Array,
    ts: Float64Array,
    count: number,
    startMs: number,
    endMs: number,
    K: number,
    q: Float64Array,
    out: Float64Array,
  ): boolean;
  /**
   * The column path's manifest sizes (manifest.ts columnSizes): out = [bytes of the leaves, bytes
   * of the payouts entries with their commas]. Names by actor index (`index`) or, with null, by
   * payee position; `names` may be null (only the offsets are read). Throws a RangeError when a
   * name is out of the table or an amount's limbs or a score are not the calculus's integers.
   */
  manifestSizes(names: Uint8Array | null, nameOffsets: Uint32Array, index: Uint32Array | null, amount: Float64Array, score: Float64Array, count: number, out: Float64Array): void;
  /**
   * Writes the column path's leaves (`{"actor":…,"amount_minor":"…"},` each, leafOffsets[i + 1] at
   * the end of leaf i) and payouts entries (comma-separated, from out[at]) in one pass, as
   * manifest.ts's writeColumnLeaves and writeColumnEntries do; returns where the entries end.
   */
  manifestWrite(
    names: Uint8Array,
    nameOffsets: Uint32Array,
    index: Uint32Array | null,
    amount: Float64Array,
    score: Float64Array,
    count: number,
    leaves: Uint8Array,
    leafOffsets: Uint32Array,
    out: Uint8Array,
    at: number,
  ): number;
  /**
   * One Arrow record batch of the one-pass tally (arrow/tally.ts, addBatch; native/arrow_tally.c):
   * for i < n, false (sum untouched, q partly written) at the first actor index outside
   * [0, nActors), kind index outside [0, K), or hi word of ts or qty (little-endian (lo, hi)
   * pairs) past 0x1FFFFF; an event with ts outside [startMs, endMs) adds 1 to sum[1]; any other
   * adds qty to q[actor·K + kind] and to sum[0], in order, in IEEE doubles. True when done.
   */
  arrowTallyBatch(
    actor: Int8Array | Int16Array | Int32Array,
    kind: Int8Array | Int16Array | Int32Array,
    qty: Uint32Array,
    ts: Uint32Array,
    n: number,
    startMs: number,
    endMs: number,
    nActors: number,
    K: number,
    q: Float64Array,
    sum: Float64Array,
  ): boolean;
  /** The one-pass tally's last pass: cells of q still −0 become +0 with seen 0; every other cell gets seen 1. */
  arrowTallyFinish(q: Float64Array, seen: Uint8Array): void;
  /** True when offsets[0] ≥ 0, offsets[0..n] never decrease and offsets[n] ≤ limit (arrow/read.ts's dictionary offsets checks). */
  arrowOffsetsPlain(offsets: Int32Array, n: number, limit: number): boolean;
  /**
   * True when the Arrow actor dictionary's entries data[offsets[i] .. offsets[i+1]), i < n, pass
   * every check of arrow/read.ts's actorChecks (which then need not run); false when one fails.
   */
  arrowActorsPlain(data: Uint8Array, offsets: Int32Array, n: number): boolean;
  /** utf8.ts's quoteEach, its size: src's length plus what JSON.stringify's escapes of its bytes add. */
  quotedLength(src: Uint8Array): number;
  /**
   * utf8.ts's quoteEach, its bytes: each text src[from[i] .. from[i+1]) quoted and escaped as
   * JSON.stringify writes it, back to back in `bytes`, ends in offsets[1..]; false (partly written)
   * when `from` does not lie within src or `bytes` or `offsets` is too short.
   */
  quoteInto(src: Uint8Array, from: Uint32Array, bytes: Uint8Array, offsets: Uint32Array): boolean;
  /**
   * wide.ts's ShareKernel.share for score[0..n) (each a safe integer ≤ T): amounts as decimal
   * limbs into amount[6i..6i+6), remainders into remHi/remLo (both null: not wanted), and the
   * amounts' limbs added column by column into bases (6). params is the kernel's `params()`.
   * native/share_kernel.c.
   */
  shareColumns(params: Float64Array, score: Float64Array, n: number, amount: Float64Array, remHi: Float64Array | null, remLo: Float64Array | null, bases: Float64Array): void;
  /** +1 to the amounts of the d payees with the largest remainders (remHi·2^48 + remLo), ties to the lower position. */
  largestRemainders(remHi: Float64Array, remLo: Float64Array, n: number, d: number, amount: Float64Array): void;
  /**
   * shares.ts's scoreColumns: the scored actors into who/score, T = out[0]·2^48 + out[1], and
   * their count; −1 where the TypeScript must decide (a term or score not safe, or not integers).
   */
  scoreColumns(
    q: Float64Array,
    K: number,
    weight: Float64Array,
    divisor: Float64Array,
    cap: Float64Array,
    excluded: Uint8Array,
    who: Uint32Array,
    score: Float64Array,
    out: Float64Array,
  ): number;
  /**
   * Ceiling, floor and compaction of the n amounts (shares.ts): capped limbs into sums[0..6) and
   * their count into out[0], those below the floor into sums[6..12), the payees' into
   * sums[12..18), compacted to the front of amount/who/score; returns how many payees.
   */
  payeeColumns(amount: Float64Array, n: number, ceiling: Float64Array | null, floor: Float64Array, who: Uint32Array, score: Float64Array, sums: Float64Array, out: Float64Array): number;
  /** calculus.ts's limbsOutOfBounds: the amounts summed into sums (6) up to the first that is 0 or above the ceiling; its position or −1. */
  limbsCheck(amount: Float64Array, count: number, ceiling: Float64Array | null, sums: Float64Array): number;
  /** FIPS 204 ML-DSA-65 hedged signature of `message` under `context` (≤ 255 bytes). */
  mldsa65Sign(secretKey: Uint8Array, message: Uint8Array, context: Uint8Array): Uint8Array;
}

// Relative to dist/src/core/, where this module runs from, in the checkout and in the image alike.
const ADDON = '../../../native/build/Release/rewarder_native.node';

let addon: NativeAddon | null | undefined;

/**
 * The addon, loaded on first use (directly by path, like the BLAKE3 addon in hash.ts), or null
 * when it was not built or does not load here; callers then use their TypeScript path.
 */
export function nativeAddon(): NativeAddon | null {
  if (addon === undefined) {
    try {
      addon = createRequire(import.meta.url)(ADDON) as NativeAddon;
    } catch {
      addon = null;
    }
  }
  return addon;
}

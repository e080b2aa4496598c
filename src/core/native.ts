// The native addon (native/, built by `npm ci`): the payouts tree, the same RFC 6962 tree as
// merkle-js.ts, 3–4× faster warm and ~10× on a first call for 10k payees (PERFORMANCE.md), partly
// because it batches node hashes through BLAKE3's SIMD code; and ML-DSA-65 signing (native/mldsa.c),
// ~13× faster than @noble/post-quantum; BLAKE3 of long messages (hash.ts); and, for a cold
// process, the columnar documents' integer arrays (json/cursor.ts, fast path only) and the Number
// tally (calculus.ts); the manifest's per-payee bytes and the actor ids' JSON strings
// (native/manifest_write.c: manifest.ts, utf8.ts). Each has a fallback when it is not built
// (TypeScript, or the `blake3` package for the digest).
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
  /** The bytes' length plus what JSON escapes add to it (utf8.ts quoteEach, without the quotes). */
  quotedSize(bytes: Uint8Array): number;
  /** utf8.ts quoteEach into out/outOffsets (sized with quotedSize + 2 per text); returns the end. */
  quoteEach(src: Uint8Array, srcOffsets: Uint32Array, out: Uint8Array, outOffsets: Uint32Array): number;
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

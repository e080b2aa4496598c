// The native payouts tree (native/rewarder_native.c, built by `npm ci`): the same RFC 6962 tree as
// merkle-js.ts, 3–4× faster warm and ~10× on a first call for 10k payees (PERFORMANCE.md), partly
// because it batches node hashes through BLAKE3's SIMD code.
import { createRequire } from 'node:module';

/** The addon's functions. Each checks its arguments and throws a TypeError or RangeError. */
export interface MerkleAddon {
  /** MTH over the leaves bytes[offsets[i] .. offsets[i+1]), i < count (offsets has count + 1 entries). */
  root(bytes: Uint8Array, offsets: Uint32Array, count: number): Uint8Array;
  /** PATH(index) over the same leaves: its digests back to back, from the leaf level up. */
  auditPath(bytes: Uint8Array, offsets: Uint32Array, count: number, index: number): Uint8Array;
}

// Relative to dist/src/core/, where this module runs from, in the checkout and in the image alike.
const ADDON = '../../../native/build/Release/rewarder_native.node';

let addon: MerkleAddon | null | undefined;

/**
 * The addon, loaded on first use (directly by path, like the BLAKE3 addon in hash.ts), or null
 * when it was not built or does not load here; callers then use merkle-js.ts.
 */
export function merkleAddon(): MerkleAddon | null {
  if (addon === undefined) {
    try {
      addon = createRequire(import.meta.url)(ADDON) as MerkleAddon;
    } catch {
      addon = null;
    }
  }
  return addon;
}

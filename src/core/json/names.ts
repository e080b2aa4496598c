// Looks up a JSON string's raw bytes in a fixed list of names without building a JS string.
// Row-form inputs name an actor and a kind in every event; decoding 200k small strings and
// hashing them again in a Map was the largest cost of the row decoder.
//
// FNV is not keyed, so a hostile actor list can be crafted to collide. Probes are bounded: if
// building the table needs a run longer than MAX_PROBE, every lookup goes through a Map instead
// (V8 seeds its string hash per process), so collisions cost speed, never quadratic time.

import { encodeEach } from '../utf8.js';

export class NameTable {
  private readonly bytes: Uint8Array;
  private readonly offsets: Uint32Array;
  private readonly slots: Int32Array;
  private readonly mask: number;
  /** Longest probe run of any name: a present name is always found within it. */
  private readonly maxProbe: number;
  /** True when the names collide too much: lookups decode and use `byName`. */
  private readonly flooded: boolean;
  /** For names written with escapes, which must be decoded to be compared. */
  readonly byName: Map<string, number>;

  constructor(names: readonly string[]) {
    const { bytes, offsets } = encodeEach(names);
    this.bytes = bytes;
    this.offsets = offsets;
    let size = 8;
    while (size < names.length * 2) size *= 2;
    this.mask = size - 1;
    this.slots = new Int32Array(size).fill(-1);
    let maxProbe = 0;
    for (let i = 0; i < names.length && maxProbe <= MAX_PROBE; i++) {
      let s = hash(this.bytes, this.offsets[i] as number, this.offsets[i + 1] as number) & this.mask;
      let probe = 0;
      while (this.slots[s] !== -1) {
        s = (s + 1) & this.mask;
        probe++;
      }
      this.slots[s] = i;
      if (probe > maxProbe) maxProbe = probe;
    }
    this.maxProbe = maxProbe;
    this.flooded = maxProbe > MAX_PROBE;
    this.byName = new Map(names.map((n, i) => [n, i]));
  }

  /** Index of the name whose UTF-8 bytes equal buf[start, end), or -1. */
  lookup(buf: Uint8Array, start: number, end: number): number {
    if (this.flooded) return this.byName.get(decoder.decode(buf.subarray(start, end))) ?? -1;
    const len = end - start;
    const bytes = this.bytes;
    const offsets = this.offsets;
    let s = hash(buf, start, end) & this.mask;
    for (let probe = 0; probe <= this.maxProbe; probe++) {
      const i = this.slots[s] as number;
      if (i === -1) return -1;
      const o = offsets[i] as number;
      if ((offsets[i + 1] as number) - o === len) {
        let j = 0;
        while (j < len && bytes[o + j] === buf[start + j]) j++;
        if (j === len) return i;
      }
      s = (s + 1) & this.mask;
    }
    return -1;
  }
}

const MAX_PROBE = 64;
const decoder = new TextDecoder();

/** FNV-1a, 32-bit. */
function hash(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ (buf[i] as number), 0x01000193);
  return h >>> 0;
}

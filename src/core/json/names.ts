// Looks up a JSON string's raw bytes in a fixed list of names without building a JS string.
// Row-form inputs name an actor and a kind in every event; decoding 200k small strings and
// hashing them again in a Map was the largest cost of the row decoder.
//
// Hash flooding: the names are the client's (actor ids), so the slot hash is keyed:
// HalfSipHash-1-3 (SipHash's 32-bit variant, a PRF for short inputs) under a 64-bit key the
// adapter draws at random once per process (workers/compute.ts, cli/commands.ts). Without the key
// nobody can craft ids that collide: under the old unkeyed FNV-1a, 65,536 crafted ids made sealing
// 6x slower. The core stays pure: the key is a parameter. Probes stay bounded as a second line: if
// building the table needs a run longer than MAX_PROBE, every lookup goes through a Map instead,
// so collisions cost speed, never quadratic time.

import { encodeEach } from '../utf8.js';

/** The slot hash's key: two 32-bit words (HalfSipHash's k0, k1). */
export type NameKey = readonly [number, number];

/** For fixed names chosen by us (the event member names), where nobody can craft collisions. */
export const FIXED_NAME_KEY: NameKey = [0, 0];

export class NameTable {
  /** Probe steps taken to build the table (0 when every name found a free slot at once). */
  readonly buildProbes: number;
  private readonly k0: number;
  private readonly k1: number;
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

  constructor(names: readonly string[], key: NameKey = FIXED_NAME_KEY) {
    this.k0 = key[0] | 0;
    this.k1 = key[1] | 0;
    const { bytes, offsets } = encodeEach(names);
    this.bytes = bytes;
    this.offsets = offsets;
    let size = 8;
    while (size < names.length * 2) size *= 2;
    this.mask = size - 1;
    this.slots = new Int32Array(size).fill(-1);
    let maxProbe = 0;
    let total = 0;
    for (let i = 0; i < names.length && maxProbe <= MAX_PROBE; i++) {
      let s = halfSipHash13(this.bytes, this.offsets[i] as number, this.offsets[i + 1] as number, this.k0, this.k1) & this.mask;
      let probe = 0;
      while (this.slots[s] !== -1) {
        s = (s + 1) & this.mask;
        probe++;
      }
      this.slots[s] = i;
      total += probe;
      if (probe > maxProbe) maxProbe = probe;
    }
    this.maxProbe = maxProbe;
    this.buildProbes = total;
    this.flooded = maxProbe > MAX_PROBE;
    this.byName = new Map(names.map((n, i) => [n, i]));
  }

  /** Index of the name whose UTF-8 bytes equal buf[start, end), or -1. */
  lookup(buf: Uint8Array, start: number, end: number): number {
    if (this.flooded) return this.byName.get(decoder.decode(buf.subarray(start, end))) ?? -1;
    const len = end - start;
    const bytes = this.bytes;
    const offsets = this.offsets;
    let s = halfSipHash13(buf, start, end, this.k0, this.k1) & this.mask;
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

const rotl = (x: number, b: number): number => (x << b) | (x >>> (32 - b));

/**
 * HalfSipHash-c-d with a 32-bit output (Aumasson, the SipHash reference `halfsiphash.c`), over
 * buf[start, end). The reference variant, c = 2 and d = 4, is what the published test vectors
 * check (names.test.ts); the table uses halfSipHash13, the same function with c = 1, d = 3.
 */
export function halfSipHash(buf: Uint8Array, start: number, end: number, k0: number, k1: number, c: number, d: number): number {
  let v0 = k0 | 0;
  let v1 = k1 | 0;
  let v2 = 0x6c796765 ^ k0;
  let v3 = 0x74656462 ^ k1;
  const round = () => {
    v0 = (v0 + v1) | 0;
    v1 = rotl(v1, 5) ^ v0;
    v0 = rotl(v0, 16);
    v2 = (v2 + v3) | 0;
    v3 = rotl(v3, 8) ^ v2;
    v0 = (v0 + v3) | 0;
    v3 = rotl(v3, 7) ^ v0;
    v2 = (v2 + v1) | 0;
    v1 = rotl(v1, 13) ^ v2;
    v2 = rotl(v2, 16);
  };
  const len = end - start;
  const blocks = start + (len & ~3);
  let i = start;
  for (; i < blocks; i += 4) {
    const m = (buf[i] as number) | ((buf[i + 1] as number) << 8) | ((buf[i + 2] as number) << 16) | ((buf[i + 3] as number) << 24);
    v3 ^= m;
    for (let r = 0; r < c; r++) round();
    v0 ^= m;
  }
  let b = (len & 0xff) << 24;
  const left = end - i;
  if (left === 3) b |= (buf[i + 2] as number) << 16;
  if (left >= 2) b |= (buf[i + 1] as number) << 8;
  if (left >= 1) b |= buf[i] as number;
  v3 ^= b;
  for (let r = 0; r < c; r++) round();
  v0 ^= b;
  v2 ^= 0xff;
  for (let r = 0; r < d; r++) round();
  return (v1 ^ v3) >>> 0;
}

/** HalfSipHash-1-3, unrolled: the table's slot hash (one round per 4 bytes, three to finish). */
export function halfSipHash13(buf: Uint8Array, start: number, end: number, k0: number, k1: number): number {
  let v0 = k0 | 0;
  let v1 = k1 | 0;
  let v2 = 0x6c796765 ^ k0;
  let v3 = 0x74656462 ^ k1;
  const len = end - start;
  const blocks = start + (len & ~3);
  let i = start;
  for (; i < blocks; i += 4) {
    const m = (buf[i] as number) | ((buf[i + 1] as number) << 8) | ((buf[i + 2] as number) << 16) | ((buf[i + 3] as number) << 24);
    v3 ^= m;
    v0 = (v0 + v1) | 0; v1 = ((v1 << 5) | (v1 >>> 27)) ^ v0; v0 = (v0 << 16) | (v0 >>> 16);
    v2 = (v2 + v3) | 0; v3 = ((v3 << 8) | (v3 >>> 24)) ^ v2;
    v0 = (v0 + v3) | 0; v3 = ((v3 << 7) | (v3 >>> 25)) ^ v0;
    v2 = (v2 + v1) | 0; v1 = ((v1 << 13) | (v1 >>> 19)) ^ v2; v2 = (v2 << 16) | (v2 >>> 16);
    v0 ^= m;
  }
  let b = (len & 0xff) << 24;
  const left = end - i;
  if (left === 3) b |= (buf[i + 2] as number) << 16;
  if (left >= 2) b |= (buf[i + 1] as number) << 8;
  if (left >= 1) b |= buf[i] as number;
  v3 ^= b;
  for (let r = 0; r < 4; r++) {
    // one compression round for the last block, then three finalization rounds
    if (r === 1) {
      v0 ^= b;
      v2 ^= 0xff;
    }
    v0 = (v0 + v1) | 0; v1 = ((v1 << 5) | (v1 >>> 27)) ^ v0; v0 = (v0 << 16) | (v0 >>> 16);
    v2 = (v2 + v3) | 0; v3 = ((v3 << 8) | (v3 >>> 24)) ^ v2;
    v0 = (v0 + v3) | 0; v3 = ((v3 << 7) | (v3 >>> 25)) ^ v0;
    v2 = (v2 + v1) | 0; v1 = ((v1 << 13) | (v1 >>> 19)) ^ v2; v2 = (v2 << 16) | (v2 >>> 16);
  }
  return (v1 ^ v3) >>> 0;
}

// Looks up a JSON string's raw bytes in a fixed list of names without building a JS string.
// Row-form inputs name an actor and a kind in every event; decoding 200k small strings and
// hashing them again in a Map was the largest cost of the row decoder.

const encoder = new TextEncoder();

export class NameTable {
  private readonly bytes: Uint8Array;
  private readonly offsets: Uint32Array;
  private readonly slots: Int32Array;
  private readonly mask: number;
  /** For names written with escapes, which must be decoded to be compared. */
  readonly byName: Map<string, number>;

  constructor(names: readonly string[]) {
    const encoded = names.map((n) => encoder.encode(n));
    const total = encoded.reduce((s, e) => s + e.length, 0);
    this.bytes = new Uint8Array(total);
    this.offsets = new Uint32Array(names.length + 1);
    let at = 0;
    encoded.forEach((e, i) => {
      this.bytes.set(e, at);
      at += e.length;
      this.offsets[i + 1] = at;
    });
    let size = 8;
    while (size < names.length * 2) size *= 2;
    this.mask = size - 1;
    this.slots = new Int32Array(size).fill(-1);
    for (let i = 0; i < names.length; i++) {
      let s = hash(this.bytes, this.offsets[i] as number, this.offsets[i + 1] as number) & this.mask;
      while (this.slots[s] !== -1) s = (s + 1) & this.mask;
      this.slots[s] = i;
    }
    this.byName = new Map(names.map((n, i) => [n, i]));
  }

  /** Index of the name whose UTF-8 bytes equal buf[start, end), or -1. */
  lookup(buf: Uint8Array, start: number, end: number): number {
    const len = end - start;
    const bytes = this.bytes;
    const offsets = this.offsets;
    let s = hash(buf, start, end) & this.mask;
    for (;;) {
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
  }
}

/** FNV-1a, 32-bit. */
function hash(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ (buf[i] as number), 0x01000193);
  return h >>> 0;
}

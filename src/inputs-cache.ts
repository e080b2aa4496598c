// Decoded inputs by CID. Sealed inputs never change, so a decoded copy can serve every epoch and
// policy computed over them; the cache only bounds memory (least recently used out first).

import type { Prepared } from './compute/protocol.js';

export class InputsCache {
  private readonly entries = new Map<string, { inputs: Prepared; bytes: number }>();
  private total = 0;

  constructor(
    private maxBytes: number,
    private readonly onLookup: (hit: boolean) => void = () => {},
  ) {}

  get(cid: string): Prepared | undefined {
    const e = this.entries.get(cid);
    this.onLookup(e !== undefined);
    if (e === undefined) return undefined;
    // Re-insert: Map keeps insertion order, so the first key is always the least recent.
    this.entries.delete(cid);
    this.entries.set(cid, e);
    return e.inputs;
  }

  set(cid: string, inputs: Prepared): void {
    const bytes = estimateBytes(inputs);
    if (bytes > this.maxBytes || this.entries.has(cid)) return;
    this.entries.set(cid, { inputs, bytes });
    this.total += bytes;
    for (const [key, e] of this.entries) {
      if (this.total <= this.maxBytes) break;
      this.entries.delete(key);
      this.total -= e.bytes;
    }
  }

  get bytes(): number {
    return this.total;
  }
}

/** Buffers exactly, kind names at two bytes a unit plus a per-string overhead. */
export function estimateBytes(p: Prepared): number {
  const t = p.tally;
  let strings = 0;
  for (const k of t.kinds) strings += 32 + k.length * 2;
  const q = t.q instanceof Float64Array ? t.q.byteLength : t.q.length * 24;
  const texts = p.seen.byteLength + p.ids.bytes.byteLength + p.ids.offsets.byteLength + p.names.bytes.byteLength + p.names.offsets.byteLength;
  return q + texts + strings + 256;
}

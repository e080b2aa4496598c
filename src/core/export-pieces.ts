// The SPEC §12 exports as bytes in pieces, for the service's export task (workers/compute.ts):
// the same text as exports.ts's csvChunks and claimDumpChunks, written straight into fixed-size
// buffers (no per-node hex strings, no encoding of a whole text, no join), each piece its own
// ArrayBuffer so it can be moved to the edge and streamed out as it is.

import { type ClaimTree, CSV_HEADER, type ExportPayee, csvField } from './exports.js';
import { canonicalString } from './jcs.js';

const encoder = new TextEncoder();

/** Appends UTF-8 to fixed-size pieces; a full piece is handed out and a fresh one started. */
class PieceWriter {
  private buf: Uint8Array;
  private at = 0;
  readonly done: Uint8Array[] = [];

  constructor(private readonly size: number) {
    this.buf = new Uint8Array(size);
  }

  /** Room for `n` more bytes in the current piece (n ≤ size). */
  room(n: number): Uint8Array {
    if (this.at + n > this.size) this.flush();
    return this.buf;
  }

  get pos(): number {
    return this.at;
  }

  advance(n: number): void {
    this.at += n;
  }

  text(s: string): void {
    // A UTF-16 unit is at most 3 UTF-8 bytes.
    if (3 * s.length > this.size) {
      this.bytes(encoder.encode(s));
      return;
    }
    const b = this.room(3 * s.length);
    this.at += encoder.encodeInto(s, b.subarray(this.at)).written;
  }

  bytes(b: Uint8Array): void {
    for (let p = 0; p < b.length; ) {
      const n = Math.min(this.size - this.at, b.length - p);
      if (n === 0) {
        this.flush();
        continue;
      }
      this.buf.set(b.subarray(p, p + n), this.at);
      this.at += n;
      p += n;
    }
  }

  flush(): void {
    if (this.at === 0) return;
    // Each piece its own ArrayBuffer, trimmed: transferable one by one.
    this.done.push(this.at === this.size ? this.buf : this.buf.slice(0, this.at));
    this.buf = new Uint8Array(this.size);
    this.at = 0;
  }

  end(): Uint8Array[] {
    this.flush();
    return this.done;
  }
}

const HEX_CODES = Uint8Array.from(Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0')).join(''), (ch) => ch.charCodeAt(0));

/** The `standard-v1` dump, byte for byte `claimDumpChunks`'s text, in pieces of `piece` bytes (≥ 1 KiB). */
export function claimDumpPieces(payees: readonly { actor: string; amount_minor: string }[], t: ClaimTree, piece = 1 << 20): Uint8Array[] {
  const w = new PieceWriter(piece);
  w.text('{"format":"standard-v1","leafEncoding":["string","uint256"],"tree":[');
  const size = 2 * t.count - 1;
  const nodes = t.nodes;
  for (let i = 0; i < size; i++) {
    // ,"0x<64 hex>"
    const b = w.room(68);
    let at = w.pos;
    if (i > 0) b[at++] = 0x2c;
    b[at++] = 0x22;
    b[at++] = 0x30;
    b[at++] = 0x78;
    for (let k = 32 * i, end = k + 32; k < end; k++) {
      const x = nodes[k] as number;
      b[at++] = HEX_CODES[2 * x] as number;
      b[at++] = HEX_CODES[2 * x + 1] as number;
    }
    b[at++] = 0x22;
    w.advance(at - w.pos);
  }
  w.text('],"values":[');
  for (let i = 0; i < payees.length; i++) {
    const p = payees[i] as { actor: string; amount_minor: string };
    w.text(`${i === 0 ? '' : ','}{"value":[${canonicalString(p.actor)},"${p.amount_minor}"],"treeIndex":${t.treeIndex[i]}}`);
  }
  w.text(']}');
  return w.end();
}

/** The CSV, byte for byte `csvChunks`'s text, in pieces of `piece` bytes (≥ 1 KiB). */
export function csvPieces(payees: readonly ExportPayee[], piece = 1 << 20): Uint8Array[] {
  const w = new PieceWriter(piece);
  w.text(CSV_HEADER);
  for (const p of payees) w.text(`${csvField(p.actor)},${p.amount_minor},${p.score}\n`);
  return w.end();
}

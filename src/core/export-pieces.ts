// The SPEC §12 exports as bytes in pieces, for the service's export task (workers/compute.ts):
// the same text as exports.ts's csvChunks and claimDumpChunks, written straight into fixed-size
// buffers (no per-node hex strings, no encoding of a whole text, no join), each piece its own
// ArrayBuffer so it can be moved to the edge and streamed out as it is.

import { type ClaimTree, CSV_HEADER, type ExportPayee, type PayeeSpans, csvField } from './exports.js';
import { canonicalString } from './jcs.js';
import { type NativeAddon, nativeAddon } from './native.js';

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
  treeNodes(w, t, nativeAddon());
  w.text('],"values":[');
  for (let i = 0; i < payees.length; i++) {
    const p = payees[i] as { actor: string; amount_minor: string };
    w.text(`${i === 0 ? '' : ','}{"value":[${canonicalString(p.actor)},"${p.amount_minor}"],"treeIndex":${t.treeIndex[i]}}`);
  }
  w.text(']}');
  return w.end();
}

/** The dump's head and its `tree` array's elements (the "0x…" nodes), without the closing bracket. */
function treeNodes(w: PieceWriter, t: ClaimTree, addon: NativeAddon | null): void {
  w.text('{"format":"standard-v1","leafEncoding":["string","uint256"],"tree":[');
  const size = 2 * t.count - 1;
  const nodes = t.nodes;
  if (addon !== null && typeof addon.claimNodesJson === 'function') {
    // As many nodes as fit in the piece at a time, in C (the loop below, ~10× faster).
    for (let i = 0; i < size; ) {
      const b = w.room(69);
      const k = Math.min(size - i, Math.floor((b.length - w.pos) / 69));
      w.advance(addon.claimNodesJson(nodes, i, i + k, b, w.pos) - w.pos);
      i += k;
    }
    return;
  }
  for (let i = 0; i < size; i++) {
    // ,"0x<64 hex>": 69 bytes (68 here dropped the closing quote of a node ending a piece exactly)
    const b = w.room(69);
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
}

/** The CSV, byte for byte `csvChunks`'s text, in pieces of `piece` bytes (≥ 1 KiB). */
export function csvPieces(payees: readonly ExportPayee[], piece = 1 << 20): Uint8Array[] {
  const w = new PieceWriter(piece);
  w.text(CSV_HEADER);
  for (const p of payees) w.text(`${csvField(p.actor)},${p.amount_minor},${p.score}\n`);
  return w.end();
}

// ---- the same from a manifest's payee spans (exports.ts, manifestPayeeSpans): bytes copied, no strings

const VALUE_OPEN = encoder.encode('{"value":["');
const VALUE_MID = encoder.encode('","');
const VALUE_INDEX = encoder.encode('"],"treeIndex":');

/** Copies src[from..to) to b at `at` (short runs: a loop beats a subarray and set). */
function copy(b: Uint8Array, at: number, src: Uint8Array, from: number, to: number): number {
  for (let p = from; p < to; p++) b[at++] = src[p] as number;
  return at;
}

/** The decimal digits of the non-negative integer v at b[at..); returns the end. */
function digits(b: Uint8Array, at: number, v: number): number {
  let n = 1;
  for (let x = v; x >= 10; x = Math.floor(x / 10)) n++;
  for (let k = at + n - 1; k >= at; k--, v = Math.floor(v / 10)) b[k] = 0x30 + (v % 10);
  return at + n;
}

const NO_INDEX = new Uint32Array(0);

/**
 * The rows written in C (exportRows) piece by piece, as the JS loops below would; returns how far
 * that got: all payees, or the first whose row does not fit in an empty piece (an actor id of
 * about a piece: the JS loop then writes it across pieces) or every payee without the addon.
 */
function nativeRows(w: PieceWriter, format: 0 | 1, s: PayeeSpans, treeIndex: Uint32Array, addon: NativeAddon | null): number {
  if (addon === null || typeof addon.exportRows !== 'function') return 0;
  const state = new Uint32Array(2);
  while ((state[0] as number) < s.count) {
    const b = w.room(0);
    const from = state[0] as number;
    state[1] = w.pos;
    addon.exportRows(format, s.bytes, s.at, s.count, treeIndex, b, state);
    w.advance((state[1] as number) - w.pos);
    if (state[0] === from) {
      if (w.pos === 0) break;
      w.flush();
    }
  }
  return state[0] as number;
}

/** `claimDumpPieces` of spans, byte for byte (each actor's JSON string is its span in quotes). */
export function claimDumpSpanPieces(s: PayeeSpans, t: ClaimTree, piece = 1 << 20, addon = nativeAddon()): Uint8Array[] {
  const w = new PieceWriter(piece);
  treeNodes(w, t, addon);
  w.text('],"values":[');
  const src = s.bytes;
  const sp = s.at;
  for (let i = nativeRows(w, 1, s, t.treeIndex, addon); i < s.count; i++) {
    const a0 = sp[6 * i] as number;
    const a1 = sp[6 * i + 1] as number;
    const m0 = sp[6 * i + 2] as number;
    const m1 = sp[6 * i + 3] as number;
    // ,{"value":["<actor>","<amount>"],"treeIndex":<index>}
    const need = 1 + VALUE_OPEN.length + (a1 - a0) + VALUE_MID.length + (m1 - m0) + VALUE_INDEX.length + 10 + 1;
    if (need > piece) {
      w.text(`${i === 0 ? '' : ','}`);
      w.bytes(VALUE_OPEN);
      w.bytes(src.subarray(a0, a1));
      w.bytes(VALUE_MID);
      w.bytes(src.subarray(m0, m1));
      w.bytes(VALUE_INDEX);
      w.text(`${t.treeIndex[i]}}`);
      continue;
    }
    const b = w.room(need);
    let at = w.pos;
    if (i > 0) b[at++] = 0x2c;
    b.set(VALUE_OPEN, at);
    at = copy(b, at + VALUE_OPEN.length, src, a0, a1);
    b.set(VALUE_MID, at);
    at = copy(b, at + VALUE_MID.length, src, m0, m1);
    b.set(VALUE_INDEX, at);
    at = digits(b, at + VALUE_INDEX.length, t.treeIndex[i] as number);
    b[at++] = 0x7d;
    w.advance(at - w.pos);
  }
  w.text(']}');
  return w.end();
}

/** `csvPieces` of spans, byte for byte (an unescaped actor needs quotes only for a comma). */
export function csvSpanPieces(s: PayeeSpans, piece = 1 << 20, addon = nativeAddon()): Uint8Array[] {
  const w = new PieceWriter(piece);
  w.text(CSV_HEADER);
  const src = s.bytes;
  const sp = s.at;
  for (let i = nativeRows(w, 0, s, NO_INDEX, addon); i < s.count; i++) {
    const a0 = sp[6 * i] as number;
    const a1 = sp[6 * i + 1] as number;
    const m0 = sp[6 * i + 2] as number;
    const m1 = sp[6 * i + 3] as number;
    const s0 = sp[6 * i + 4] as number;
    const s1 = sp[6 * i + 5] as number;
    let quote = false;
    for (let p = a0; p < a1; p++) {
      if (src[p] === 0x2c) {
        quote = true;
        break;
      }
    }
    const need = (a1 - a0) + (m1 - m0) + (s1 - s0) + 5;
    if (need > piece) {
      w.bytes(quote ? QUOTE : EMPTY);
      w.bytes(src.subarray(a0, a1));
      w.bytes(quote ? QUOTE : EMPTY);
      w.text(',');
      w.bytes(src.subarray(m0, m1));
      w.text(',');
      w.bytes(src.subarray(s0, s1));
      w.text('\n');
      continue;
    }
    const b = w.room(need);
    let at = w.pos;
    if (quote) b[at++] = 0x22;
    at = copy(b, at, src, a0, a1);
    if (quote) b[at++] = 0x22;
    b[at++] = 0x2c;
    at = copy(b, at, src, m0, m1);
    b[at++] = 0x2c;
    at = copy(b, at, src, s0, s1);
    b[at++] = 0x0a;
    w.advance(at - w.pos);
  }
  return w.end();
}

const QUOTE = encoder.encode('"');
const EMPTY = new Uint8Array(0);

// The few FlatBuffers primitives an Arrow IPC stream's metadata needs, both ways: a bounds-checked
// reader (every offset is checked against the message, so a hostile stream is a refusal, never an
// exception from a DataView) and a small front-to-back builder that writes deterministic bytes.

/** A malformed or refused stream: the reason is one line, its place the caller's. */
export class ArrowFail extends Error {
  constructor(
    readonly reason: string,
    readonly path = '$',
  ) {
    super(reason);
  }
}

const TWO32 = 2 ** 32;

/** Tables of one FlatBuffer occupying `[start, end)` of `dv`; every read stays inside it. */
export class FbReader {
  constructor(
    readonly dv: DataView,
    readonly start: number,
    readonly end: number,
  ) {}

  private need(p: number, n: number): void {
    if (p < this.start || p + n > this.end || !Number.isInteger(p)) throw new ArrowFail('malformed message metadata (offset outside the message)');
  }
  u8(p: number): number {
    this.need(p, 1);
    return this.dv.getUint8(p);
  }
  i16(p: number): number {
    this.need(p, 2);
    return this.dv.getInt16(p, true);
  }
  u16(p: number): number {
    this.need(p, 2);
    return this.dv.getUint16(p, true);
  }
  i32(p: number): number {
    this.need(p, 4);
    return this.dv.getInt32(p, true);
  }
  u32(p: number): number {
    this.need(p, 4);
    return this.dv.getUint32(p, true);
  }
  /** A signed 64-bit integer that must be a safe non-negative Number. */
  i64(p: number, what: string): number {
    this.need(p, 8);
    const lo = this.dv.getUint32(p, true);
    const hi = this.dv.getInt32(p + 4, true);
    if (hi < 0 || hi > 0x1fffff) throw new ArrowFail(`${what} out of range`);
    return hi * TWO32 + lo;
  }

  /** The root table's position. */
  root(): number {
    return this.start + this.u32(this.start);
  }

  /** The position of field `i` of the table at `t`, or 0 when absent. */
  field(t: number, i: number): number {
    const vt = t - this.i32(t);
    const vtSize = this.u16(vt);
    if (vtSize < 4 || vtSize % 2 !== 0) throw new ArrowFail('malformed message metadata (vtable)');
    if (4 + 2 * i >= vtSize) return 0;
    const off = this.u16(vt + 4 + 2 * i);
    return off === 0 ? 0 : t + off;
  }

  /** Field numbers at or past `known` that are present (fields a newer format added). */
  hasFieldsFrom(t: number, known: number): boolean {
    const vt = t - this.i32(t);
    const vtSize = this.u16(vt);
    for (let i = known; 4 + 2 * i < vtSize; i++) if (this.u16(vt + 4 + 2 * i) !== 0) return true;
    return false;
  }

  private deref(p: number): number {
    return p + this.u32(p);
  }

  table(t: number, i: number): number {
    const p = this.field(t, i);
    return p === 0 ? 0 : this.deref(p);
  }

  scalarU8(t: number, i: number, dflt: number): number {
    const p = this.field(t, i);
    return p === 0 ? dflt : this.u8(p);
  }
  scalarI16(t: number, i: number, dflt: number): number {
    const p = this.field(t, i);
    return p === 0 ? dflt : this.i16(p);
  }
  scalarI32(t: number, i: number, dflt: number): number {
    const p = this.field(t, i);
    return p === 0 ? dflt : this.i32(p);
  }
  scalarI64(t: number, i: number, what: string): number {
    const p = this.field(t, i);
    return p === 0 ? 0 : this.i64(p, what);
  }

  /** A vector field: where its elements start and how many; null when absent. */
  vector(t: number, i: number, elemSize: number): { at: number; length: number } | null {
    const p = this.field(t, i);
    if (p === 0) return null;
    const v = this.deref(p);
    const length = this.u32(v);
    this.need(v + 4, length * elemSize);
    return { at: v + 4, length };
  }

  /** The table at element `k` of a vector of tables. */
  tableAt(vec: { at: number }, k: number): number {
    return this.deref(vec.at + 4 * k);
  }

  /** A string field as UTF-8 (fatal on invalid bytes); null when absent. */
  string(t: number, i: number): string | null {
    const p = this.field(t, i);
    if (p === 0) return null;
    const s = this.deref(p);
    const n = this.u32(s);
    this.need(s + 4, n);
    try {
      return FATAL_UTF8.decode(new Uint8Array(this.dv.buffer, this.dv.byteOffset + s + 4, n));
    } catch {
      throw new ArrowFail('a metadata string is not valid UTF-8');
    }
  }
}

const FATAL_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// ---- building ----------------------------------------------------------------------------------

/** A value of a table field, as the builder writes it. */
export type FbField =
  | { kind: 'u8'; v: number }
  | { kind: 'i16'; v: number }
  | { kind: 'i32'; v: number }
  | { kind: 'i64'; v: number }
  | { kind: 'table'; v: FbTable }
  | { kind: 'string'; v: string }
  | { kind: 'tables'; v: FbTable[] }
  /** A vector of 16-byte structs of two int64s (Arrow's FieldNode and Buffer). */
  | { kind: 'pairs'; v: number[] };

export type FbTable = (FbField | null)[];

const ENCODER = new TextEncoder();

/**
 * Writes one FlatBuffer front to back: the root offset, then each table (its vtable just before
 * it), then what the table refers to. Offsets point forward as FlatBuffers requires; the result
 * is a pure function of the tree, so streams written from the same inputs are byte-identical.
 */
export function buildFlatbuffer(root: FbTable): Uint8Array {
  const w = new Growable();
  w.skip(4);
  const at = writeTable(w, root);
  w.setU32(0, at);
  return w.bytes();
}

function writeTable(w: Growable, fields: FbTable): number {
  w.align(2);
  const vt = w.pos;
  const vtSize = 4 + 2 * fields.length;
  w.skip(vtSize);
  w.align(8);
  const t = w.pos;
  w.i32(t - vt);
  const slots: number[] = [];
  for (const f of fields) {
    if (f === null) {
      slots.push(0);
      continue;
    }
    const size = f.kind === 'u8' ? 1 : f.kind === 'i16' ? 2 : f.kind === 'i64' ? 8 : 4;
    w.align(size);
    slots.push(w.pos - t);
    if (f.kind === 'u8') w.u8(f.v);
    else if (f.kind === 'i16') w.i16(f.v);
    else if (f.kind === 'i32') w.i32(f.v);
    else if (f.kind === 'i64') w.i64(f.v);
    else w.skip(4);
  }
  const tSize = w.pos - t;
  w.setU16(vt, vtSize);
  w.setU16(vt + 2, tSize);
  slots.forEach((s, i) => w.setU16(vt + 4 + 2 * i, s));
  fields.forEach((f, i) => {
    if (f === null || f.kind === 'u8' || f.kind === 'i16' || f.kind === 'i32' || f.kind === 'i64') return;
    const slot = t + (slots[i] as number);
    w.setU32(slot, writeRef(w, f) - slot);
  });
  return t;
}

function writeRef(w: Growable, f: FbField): number {
  switch (f.kind) {
    case 'table':
      return writeTable(w, f.v);
    case 'string': {
      w.align(4);
      const at = w.pos;
      const b = ENCODER.encode(f.v);
      w.u32(b.length);
      w.put(b);
      w.u8(0);
      return at;
    }
    case 'tables': {
      w.align(4);
      const at = w.pos;
      w.u32(f.v.length);
      const slots = f.v.map(() => {
        const s = w.pos;
        w.skip(4);
        return s;
      });
      f.v.forEach((tbl, k) => {
        const s = slots[k] as number;
        w.setU32(s, writeTable(w, tbl) - s);
      });
      return at;
    }
    case 'pairs': {
      // Structs of int64s must start 8-aligned, right after the 4-byte length.
      while ((w.pos + 4) % 8 !== 0) w.u8(0);
      const at = w.pos;
      w.u32(f.v.length / 2);
      for (const x of f.v) w.i64(x);
      return at;
    }
    default:
      throw new Error('not a reference field');
  }
}

/** A growable little-endian byte buffer. */
export class Growable {
  private buf = new Uint8Array(256);
  private dv = new DataView(this.buf.buffer);
  pos = 0;

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }
  skip(n: number): void {
    this.room(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }
  align(n: number): void {
    const pad = (n - (this.pos % n)) % n;
    if (pad > 0) this.skip(pad);
  }
  u8(v: number): void {
    this.room(1);
    this.dv.setUint8(this.pos, v);
    this.pos += 1;
  }
  i16(v: number): void {
    this.room(2);
    this.dv.setInt16(this.pos, v, true);
    this.pos += 2;
  }
  i32(v: number): void {
    this.room(4);
    this.dv.setInt32(this.pos, v, true);
    this.pos += 4;
  }
  u32(v: number): void {
    this.room(4);
    this.dv.setUint32(this.pos, v, true);
    this.pos += 4;
  }
  i64(v: number): void {
    this.room(8);
    this.dv.setUint32(this.pos, v % TWO32, true);
    this.dv.setUint32(this.pos + 4, Math.floor(v / TWO32), true);
    this.pos += 8;
  }
  put(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  setU16(at: number, v: number): void {
    this.dv.setUint16(at, v, true);
  }
  setU32(at: number, v: number): void {
    this.dv.setUint32(at, v, true);
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

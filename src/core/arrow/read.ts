// Reader for `rewarder.inputs.arrow/v1` (SPEC §2.1): an Arrow IPC stream decoded straight into
// the engine's event columns, validated strictly. Two passes: the first walks every message's
// metadata (cheap) and refuses anything §2.1 does not allow before a byte of column is touched;
// the second fills columns of exactly the right size from the batches' bodies.

import { canonicalize } from '../jcs.js';
import type { EventColumns, InputLimits, Inputs } from '../inputs.js';
import { type DocError, type Result, err, ok } from '../result.js';
import { nativeAddon } from '../native.js';
import { KIND_RE, MAX_KINDS, parseMoney } from '../rules.js';
import { ArrowFail, FbReader } from './flatbuf.js';
import {
  ARROW_SCHEMA,
  FIELD_NAMES,
  HEADER_DICTIONARY_BATCH,
  HEADER_RECORD_BATCH,
  HEADER_SCHEMA,
  META_POOL,
  META_SCHEMA,
  META_WINDOW,
  METADATA_V4,
  METADATA_V5,
  TYPE_INT,
  TYPE_UTF8,
} from './format.js';

/** Default byte cap of an Arrow stream: its own, far above the JSON forms'. */
export const DEFAULT_ARROW_MAX_BYTES = 2 * 1024 * 1024 * 1024 - 1;

interface Buf {
  /** Absolute offset in the stream. */
  at: number;
  length: number;
}

export interface Batch {
  length: number;
  buffers: Buf[];
}

interface Message {
  type: number;
  reader: FbReader;
  header: number;
  bodyAt: number;
  bodyLength: number;
}

const TWO32 = 2 ** 32;
const FATAL_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
let nativeActorChecks = true;

/** Tests only: false makes the reader run its dictionary checks' loops alone (the path without the addon). */
export function useNativeActorChecks(on: boolean): void {
  nativeActorChecks = on;
}

export function decodeArrowInputs(bytes: Uint8Array, limits: InputLimits): Result<Inputs, DocError> {
  try {
    return ok(new ArrowReader(bytes, limits).read());
  } catch (e) {
    if (e instanceof ArrowFail) return err({ path: e.path, reason: e.reason });
    throw e;
  }
}

export interface DictField {
  id: number;
  /** Index width in bytes: 1, 2 or 4 (signed). */
  width: 1 | 2 | 4;
}

/** What pass 1 learnt: the document's head, both dictionaries, and where each batch's buffers lie. */
export interface ArrowPlan {
  window: Inputs['window'];
  poolMinor: bigint;
  actor: DictField;
  kind: DictField;
  actors: string[];
  /** The actor dictionary as sent: entry i is data[offsets[i] .. offsets[i+1]) (checked UTF-8, ascending). */
  actorTexts: { offsets: Int32Array; data: Uint8Array };
  kinds: string[];
  batches: Batch[];
  total: number;
}

/** One record batch's columns as views over the stream (see ArrowReader.rows). */
export interface RowViews {
  n: number;
  actor: Int8Array | Int16Array | Int32Array;
  kind: Int8Array | Int16Array | Int32Array;
  qty: Uint32Array;
  ts: Uint32Array;
}

export class ArrowReader {
  private readonly dv: DataView;
  private pos = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly limits: InputLimits,
  ) {
    const max = limits.maxArrowBytes ?? DEFAULT_ARROW_MAX_BYTES;
    if (bytes.length > max) throw new ArrowFail(`stream is ${bytes.length} bytes, limit is ${max}`);
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  read(): Inputs {
    const p = this.plan();
    return { form: 'arrow', window: p.window, poolMinor: p.poolMinor, kinds: p.kinds, actors: p.actors, events: this.columns(p) };
  }

  /**
   * Pass 1: every message's metadata walked and checked, the dictionaries decoded and checked; no
   * event column byte is read yet.
   */
  plan(): ArrowPlan {
    const first = this.next();
    if (first === null || first.type !== HEADER_SCHEMA) throw new ArrowFail('the stream must begin with a schema message');
    const { window, poolMinor, actor, kind } = this.schema(first);
    let actors: string[] | undefined;
    let actorTexts: { offsets: Int32Array; data: Uint8Array } | undefined;
    let kinds: string[] | undefined;
    const batches: Batch[] = [];
    let total = 0;
    for (let m = this.next(); m !== null; m = this.next()) {
      if (m.type === HEADER_SCHEMA) throw new ArrowFail('more than one schema message');
      if (m.type === HEADER_DICTIONARY_BATCH) {
        if (batches.length > 0) throw new ArrowFail('dictionary batch after the first record batch (replacement dictionaries are not accepted)');
        const r = m.reader;
        if (r.hasFieldsFrom(m.header, 3)) throw new ArrowFail('unknown dictionary batch fields');
        const id = r.scalarI64(m.header, 0, 'dictionary id');
        if (r.scalarU8(m.header, 2, 0) !== 0) throw new ArrowFail('delta dictionaries are not accepted');
        const data = r.table(m.header, 1);
        if (data === 0) throw new ArrowFail('dictionary batch without data');
        const batch = this.batch(m, data, 1, 3);
        if (id === actor.id) {
          if (actors !== undefined) throw new ArrowFail('a second actor dictionary (replacement dictionaries are not accepted)');
          ({ actors, texts: actorTexts } = this.actorDictionary(batch));
        } else if (id === kind.id) {
          if (kinds !== undefined) throw new ArrowFail('a second kind dictionary (replacement dictionaries are not accepted)');
          kinds = this.kindDictionary(batch);
        } else throw new ArrowFail('dictionary batch for an id no field uses');
      } else if (m.type === HEADER_RECORD_BATCH) {
        if (actors === undefined || kinds === undefined) throw new ArrowFail('record batch before both dictionaries');
        const b = this.batch(m, m.header, 4, 8);
        // Every column's buffer must hold its rows before any column is allocated: a small
        // stream declaring millions of rows is refused here, not after allocating for them.
        const short = [actor.width, 0, kind.width, 0, 8, 0, 8].findIndex((w, i) => i % 2 === 0 && (b.buffers[i + 1] as Buf).length < b.length * w);
        if (short >= 0) throw new ArrowFail(`${FIELD_NAMES[short / 2]} buffer too short for its batch`, `$.events.${FIELD_NAMES[short / 2]}`);
        total += b.length;
        if (total > this.limits.maxEvents) throw new ArrowFail(`more than ${this.limits.maxEvents} events (configured limit)`, '$.events');
        batches.push(b);
      } else throw new ArrowFail(`message type ${m.type} is not accepted (only schema, dictionary and record batches)`);
    }
    if (this.pos !== this.bytes.length) throw new ArrowFail('trailing bytes after the end-of-stream marker');
    if (actors === undefined || actorTexts === undefined) throw new ArrowFail('missing actor dictionary');
    if (kinds === undefined) throw new ArrowFail('missing kind dictionary');
    return { window, poolMinor, actor, kind, actors, actorTexts, kinds, batches, total };
  }

  /**
   * The rows of batch `b` as typed views (copies only when misaligned): actor and kind indices,
   * and qty and ts as little-endian (lo, hi) 32-bit word pairs. Sizes were checked by plan().
   */
  rows(b: Batch, p: ArrowPlan): RowViews {
    const n = b.length;
    return {
      n,
      actor: this.indexView(b.buffers[1] as Buf, n, p.actor.width),
      kind: this.indexView(b.buffers[3] as Buf, n, p.kind.width),
      qty: this.view((b.buffers[5] as Buf).at, 2 * n, 4, Uint32Array),
      ts: this.view((b.buffers[7] as Buf).at, 2 * n, 4, Uint32Array),
    };
  }

  private indexView(buf: Buf, n: number, width: 1 | 2 | 4): Int8Array | Int16Array | Int32Array {
    return width === 4 ? this.view(buf.at, n, 4, Int32Array) : width === 2 ? this.view(buf.at, n, 2, Int16Array) : this.view(buf.at, n, 1, Int8Array);
  }

  /** The next message, or null at the end-of-stream marker. */
  private next(): Message | null {
    const len = this.bytes.length;
    const p = this.pos;
    if (p === len) throw new ArrowFail('truncated stream (no end-of-stream marker)');
    if (p + 8 > len) throw new ArrowFail('truncated stream (incomplete message prefix)');
    if (this.dv.getUint32(p, true) !== 0xffffffff) throw new ArrowFail(`expected the continuation marker 0xFFFFFFFF at byte ${p} (not an Arrow IPC stream, or the pre-0.15 framing)`);
    const metaLength = this.dv.getInt32(p + 4, true);
    if (metaLength === 0) {
      this.pos = p + 8;
      return null;
    }
    if (metaLength < 0 || metaLength % 8 !== 0) throw new ArrowFail(`message at byte ${p} has a metadata length that is not a positive multiple of 8`);
    const metaEnd = p + 8 + metaLength;
    if (metaEnd > len) throw new ArrowFail('truncated stream (incomplete message metadata)');
    const r = new FbReader(this.dv, p + 8, metaEnd);
    const root = r.root();
    if (r.hasFieldsFrom(root, 4)) throw new ArrowFail('message custom metadata is not accepted');
    const version = r.scalarI16(root, 0, 0);
    if (version !== METADATA_V4 && version !== METADATA_V5) throw new ArrowFail(`metadata version ${version} is not accepted (V4 or V5)`);
    const type = r.scalarU8(root, 1, 0);
    const header = r.table(root, 2);
    if (header === 0) throw new ArrowFail('message without a header');
    const bodyLength = r.scalarI64(root, 3, 'body length');
    if (metaEnd + bodyLength > len) throw new ArrowFail('truncated stream (incomplete message body)');
    this.pos = metaEnd + bodyLength;
    return { type, reader: r, header, bodyAt: metaEnd, bodyLength };
  }

  private schema(m: Message): { window: Inputs['window']; poolMinor: bigint; actor: DictField; kind: DictField } {
    const r = m.reader;
    const s = m.header;
    if (m.bodyLength !== 0) throw new ArrowFail('schema message with a body');
    if (r.hasFieldsFrom(s, 4)) throw new ArrowFail('unknown schema fields');
    if (r.scalarI16(s, 0, 0) !== 0) throw new ArrowFail('big-endian streams are not accepted');
    const features = r.vector(s, 3, 8);
    if (features !== null) {
      for (let i = 0; i < features.length; i++) {
        if (r.i64(features.at + 8 * i, 'feature') !== 0) throw new ArrowFail('schema features (compression, dictionary replacement) are not accepted');
      }
    }
    const meta = this.metadata(r, s);
    const fields = r.vector(s, 1, 4);
    if (fields === null || fields.length !== 4) throw new ArrowFail('expected exactly four fields: actor, kind, qty, ts', '$.fields');
    const actor = this.dictField(r, r.tableAt(fields, 0), 0);
    const kind = this.dictField(r, r.tableAt(fields, 1), 1);
    this.u64Field(r, r.tableAt(fields, 2), 2);
    this.u64Field(r, r.tableAt(fields, 3), 3);
    if (actor.id === kind.id) throw new ArrowFail('actor and kind must have their own dictionaries', '$.fields[1]');
    return { ...meta, actor, kind };
  }

  private metadata(r: FbReader, s: number): { window: Inputs['window']; poolMinor: bigint } {
    const kv = r.vector(s, 2, 4);
    const values = new Map<string, string>();
    for (let i = 0; kv !== null && i < kv.length; i++) {
      const t = r.tableAt(kv, i);
      const key = r.string(t, 0);
      const value = r.string(t, 1);
      if (key !== META_SCHEMA && key !== META_WINDOW && key !== META_POOL) throw new ArrowFail(`unknown schema metadata key (entry ${i})`, '$.metadata');
      if (values.has(key)) throw new ArrowFail(`duplicate schema metadata key ${key}`, '$.metadata');
      if (value === null) throw new ArrowFail(`schema metadata ${key} has no value`, '$.metadata');
      values.set(key, value);
    }
    for (const k of [META_SCHEMA, META_WINDOW, META_POOL]) {
      if (!values.has(k)) throw new ArrowFail(`missing schema metadata key ${k}`, '$.metadata');
    }
    if (values.get(META_SCHEMA) !== ARROW_SCHEMA) throw new ArrowFail(`${META_SCHEMA} must be "${ARROW_SCHEMA}"`, '$.metadata');
    const pool = parseMoney(values.get(META_POOL));
    if (typeof pool === 'string') throw new ArrowFail(`${META_POOL}: ${pool}`, '$.metadata');
    return { window: parseWindow(values.get(META_WINDOW) as string), poolMinor: pool };
  }

  private fieldHead(r: FbReader, f: number, i: number): number {
    const name = FIELD_NAMES[i] as string;
    const path = `$.fields[${i}]`;
    if (r.string(f, 0) !== name) throw new ArrowFail(`field ${i} must be named "${name}"`, path);
    if (r.scalarU8(f, 1, 0) !== 0) throw new ArrowFail(`field ${name} must not be nullable`, path);
    const children = r.vector(f, 5, 4);
    if (children !== null && children.length > 0) throw new ArrowFail(`field ${name} must have no children`, path);
    const meta = r.vector(f, 6, 4);
    if ((meta !== null && meta.length > 0) || r.hasFieldsFrom(f, 7)) throw new ArrowFail(`field ${name} carries metadata, which is not accepted`, path);
    return r.scalarU8(f, 2, 0);
  }

  private dictField(r: FbReader, f: number, i: number): DictField {
    const name = FIELD_NAMES[i] as string;
    const path = `$.fields[${i}]`;
    const type = this.fieldHead(r, f, i);
    const d = r.table(f, 4);
    if (d === 0) throw new ArrowFail(`field ${name} must be dictionary-encoded`, path);
    if (type !== TYPE_UTF8) throw new ArrowFail(`field ${name} must be a dictionary of Utf8`, path);
    if (r.scalarI16(d, 3, 0) !== 0 || r.hasFieldsFrom(d, 4)) throw new ArrowFail(`field ${name} must use a dense dictionary`, path);
    const id = r.scalarI64(d, 0, 'dictionary id');
    const it = r.table(d, 1);
    let bits = 32;
    let signed = true;
    if (it !== 0) {
      bits = r.scalarI32(it, 0, 0);
      signed = r.scalarU8(it, 1, 0) !== 0;
    }
    if (!signed || (bits !== 8 && bits !== 16 && bits !== 32)) throw new ArrowFail(`field ${name} dictionary index must be Int8, Int16 or Int32`, path);
    return { id, width: (bits / 8) as 1 | 2 | 4 };
  }

  private u64Field(r: FbReader, f: number, i: number): void {
    const name = FIELD_NAMES[i] as string;
    const type = this.fieldHead(r, f, i);
    const t = r.table(f, 3);
    const ok = type === TYPE_INT && t !== 0 && r.scalarI32(t, 0, 0) === 64 && r.scalarU8(t, 1, 0) === 0 && r.table(f, 4) === 0;
    if (!ok) throw new ArrowFail(`field ${name} must be UInt64`, `$.fields[${i}]`);
  }

  /** A RecordBatch table: its length, and its buffers checked to lie inside the body. */
  private batch(m: Message, t: number, nodes: number, buffers: number): Batch {
    const r = m.reader;
    if (r.table(t, 3) !== 0) throw new ArrowFail('body compression is not accepted');
    const variadic = r.vector(t, 4, 8);
    if ((variadic !== null && variadic.length > 0) || r.hasFieldsFrom(t, 5)) throw new ArrowFail('unknown record batch fields');
    const length = r.scalarI64(t, 0, 'batch length');
    const ns = r.vector(t, 1, 16);
    if (ns === null || ns.length !== nodes) throw new ArrowFail(`expected ${nodes} field node${nodes > 1 ? 's' : ''} in a batch`);
    for (let i = 0; i < nodes; i++) {
      if (r.i64(ns.at + 16 * i, 'node length') !== length) throw new ArrowFail('a column length differs from its batch length');
      if (r.i64(ns.at + 16 * i + 8, 'null count') !== 0) throw new ArrowFail(`nulls are not accepted (column ${FIELD_NAMES[i] ?? 'dictionary'})`);
    }
    const bs = r.vector(t, 2, 16);
    if (bs === null || bs.length !== buffers) throw new ArrowFail(`expected ${buffers} buffers in a batch`);
    const out: Buf[] = [];
    for (let i = 0; i < buffers; i++) {
      const off = r.i64(bs.at + 16 * i, 'buffer offset');
      const len = r.i64(bs.at + 16 * i + 8, 'buffer length');
      if (off + len > m.bodyLength) throw new ArrowFail('a buffer lies outside its message body');
      out.push({ at: m.bodyAt + off, length: len });
    }
    return { length, buffers: out };
  }

  /** Offsets and data of a Utf8 dictionary, checked; `what` names it in reasons. */
  private strings(b: Batch, path: string): { offsets: Int32Array; data: Uint8Array } {
    const n = b.length;
    const ob = b.buffers[1] as Buf;
    const db = b.buffers[2] as Buf;
    if (n === 0 && ob.length === 0) return { offsets: new Int32Array(1), data: new Uint8Array(0) };
    if (ob.length < 4 * (n + 1)) throw new ArrowFail('dictionary offsets buffer too short', path);
    const offsets = this.view(ob.at, n + 1, 4, Int32Array);
    const data = this.bytes.subarray(db.at, db.at + db.length);
    // The addon checks the 1M offsets of an XL actor dictionary in ~1 ms (this loop runs cold once
    // per seal: ~40 ms); only when it finds a fault does the loop run, to name it.
    const addon = nativeActorChecks ? nativeAddon() : null;
    if (addon !== null && addon.arrowOffsetsPlain(offsets, n, data.length)) return { offsets, data };
    let prev = offsets[0] as number;
    if (prev < 0) throw new ArrowFail('dictionary offsets must be non-negative', path);
    for (let i = 1; i <= n; i++) {
      const o = offsets[i] as number;
      if (o < prev) throw new ArrowFail(`dictionary offsets must not decrease (entry ${i - 1})`, path);
      prev = o;
    }
    if (prev > data.length) throw new ArrowFail('dictionary offsets run past its data', path);
    return { offsets, data };
  }

  private actorDictionary(b: Batch): { actors: string[]; texts: { offsets: Int32Array; data: Uint8Array } } {
    const n = b.length;
    if (n > this.limits.maxActors) throw new ArrowFail(`more than ${this.limits.maxActors} actors (configured limit)`, '$.actors');
    const { offsets, data } = this.strings(b, '$.actors');
    const text = decodeText(data, offsets[0] as number, offsets[n] as number, '$.actors');
    // The addon makes every check of actorChecks in one pass (native/arrow_tally.c, ~10× faster
    // than these loops run cold in a fresh worker at 1M actors); when it finds a failure, or is
    // not built, the loops run and name the first one.
    const addon = nativeActorChecks ? nativeAddon() : null;
    if (addon === null || !addon.arrowActorsPlain(data, offsets, n)) actorChecks(data, offsets, n);
    return { actors: splitStrings(text, data, offsets, n), texts: { offsets, data } };
  }

  private kindDictionary(b: Batch): string[] {
    const n = b.length;
    if (n === 0) throw new ArrowFail('at least one kind is required', '$.kinds');
    if (n > MAX_KINDS) throw new ArrowFail(`more than ${MAX_KINDS} kinds`, '$.kinds');
    const { offsets, data } = this.strings(b, '$.kinds');
    const text = decodeUtf8(data, offsets[0] as number, offsets[n] as number, offsets, '$.kinds');
    const kinds = splitStrings(text, data, offsets, n);
    const seen = new Set<string>();
    kinds.forEach((k, i) => {
      if (!KIND_RE.test(k)) throw new ArrowFail('kind must match ^[a-z][a-z0-9_]{0,63}$', `$.kinds[${i}]`);
      if (seen.has(k)) throw new ArrowFail('duplicate kind', `$.kinds[${i}]`);
      seen.add(k);
    });
    return kinds;
  }

  /** `count` elements of `size` bytes at `at`, as a typed array (a copy only when misaligned). */
  private view<T extends Int8Array | Int16Array | Int32Array | Uint32Array>(
    at: number,
    count: number,
    size: number,
    Ctor: { new (b: ArrayBufferLike, o: number, n: number): T; new (n: number): T },
  ): T {
    const abs = this.bytes.byteOffset + at;
    if (abs % size === 0) return new Ctor(this.bytes.buffer, abs, count);
    const copy = new Ctor(count);
    new Uint8Array(copy.buffer).set(this.bytes.subarray(at, at + count * size));
    return copy;
  }

  /** Pass 2 of decodeArrowInputs: the event columns, every index and u64 checked. */
  columns(p: ArrowPlan): EventColumns {
    const { batches, total, actor, kind } = p;
    const nActors = p.actors.length;
    const nKinds = p.kinds.length;
    const cols: EventColumns = {
      count: total,
      actor: new Float64Array(total),
      kind: new Float64Array(total),
      qty: new Float64Array(total),
      ts: new Float64Array(total),
    };
    let row = 0;
    for (const b of batches) {
      const n = b.length;
      this.indices(b.buffers[1] as Buf, n, actor.width, nActors, cols.actor, row, 'actor');
      this.indices(b.buffers[3] as Buf, n, kind.width, nKinds, cols.kind, row, 'kind');
      this.u64(b.buffers[5] as Buf, n, cols.qty, row, 'qty');
      this.u64(b.buffers[7] as Buf, n, cols.ts, row, 'ts');
      row += n;
    }
    return cols;
  }

  private indices(buf: Buf, n: number, width: 1 | 2 | 4, size: number, out: Float64Array, row: number, name: string): void {
    if (buf.length < n * width) throw new ArrowFail(`${name} index buffer too short`, `$.events.${name}`);
    const v = width === 4 ? this.view(buf.at, n, 4, Int32Array) : width === 2 ? this.view(buf.at, n, 2, Int16Array) : this.view(buf.at, n, 1, Int8Array);
    for (let i = 0; i < n; i++) {
      const x = v[i] as number;
      if (x < 0 || x >= size) throw new ArrowFail(`${name} index out of range`, `$.events.${name}[${row + i}]`);
      out[row + i] = x;
    }
  }

  private u64(buf: Buf, n: number, out: Float64Array, row: number, name: string): void {
    if (buf.length < n * 8) throw new ArrowFail(`${name} buffer too short`, `$.events.${name}`);
    const v = this.view(buf.at, 2 * n, 4, Uint32Array);
    for (let i = 0; i < n; i++) {
      const hi = v[2 * i + 1] as number;
      if (hi > 0x1fffff) throw new ArrowFail(`${name} exceeds 2^53-1`, `$.events.${name}[${row + i}]`);
      out[row + i] = hi * TWO32 + (v[2 * i] as number);
    }
  }
}

function parseWindow(s: string): Inputs['window'] {
  const bad = (): never => {
    throw new ArrowFail(`${META_WINDOW} must be the JCS of {"end_ms":…,"start_ms":…} with integers 0 ≤ start_ms < end_ms ≤ 2^53-1`, '$.metadata');
  };
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch {
    return bad();
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad();
  const o = v as Record<string, unknown>;
  const { start_ms: start, end_ms: end } = o;
  if (Object.keys(o).length !== 2 || !Number.isSafeInteger(start) || !Number.isSafeInteger(end)) return bad();
  if ((start as number) < 0 || (start as number) >= (end as number) || canonicalize(o) !== s) return bad();
  return { startMs: start as number, endMs: end as number };
}

/** Decodes `[start, end)`, refusing invalid UTF-8 and any entry that starts mid-character. */
function decodeUtf8(data: Uint8Array, start: number, end: number, offsets: Int32Array, path: string): string {
  const text = decodeText(data, start, end, path);
  midCharacter(data, end, offsets, path);
  return text;
}

/** Decodes `[start, end)`, refusing invalid UTF-8. */
function decodeText(data: Uint8Array, start: number, end: number, path: string): string {
  try {
    return FATAL_UTF8.decode(data.subarray(start, end));
  } catch {
    throw new ArrowFail('dictionary strings are not valid UTF-8', path);
  }
}

/** Refuses an entry (before `end`) that starts on a UTF-8 continuation byte. */
function midCharacter(data: Uint8Array, end: number, offsets: Int32Array, path: string): void {
  for (let i = 0; i < offsets.length - 1; i++) {
    const o = offsets[i] as number;
    if (o < end && ((data[o] as number) & 0xc0) === 0x80) throw new ArrowFail('dictionary strings are not valid UTF-8', `${path}[${i}]`);
  }
}

/**
 * SPEC §2.1's checks of the actor dictionary's entries once their bytes are valid UTF-8 (offsets
 * checked by `strings`), first failure thrown: no entry starting mid-character, no control
 * character, no empty entry or one past 256 bytes, strictly ascending by bytes. The addon's
 * arrowActorsPlain is true exactly when this throws nothing (tally.test.ts checks that).
 */
export function actorChecks(data: Uint8Array, offsets: Int32Array, n: number): void {
  const start = offsets[0] as number;
  const end = offsets[n] as number;
  midCharacter(data, end, offsets, '$.actors');
  // C0 controls and C1 controls (U+0080–U+009F are 0xC2 0x80–0x9F in UTF-8), in one pass.
  for (let p = start; p < end; p++) {
    const x = data[p] as number;
    if (x < 0x20 || (x === 0xc2 && (data[p + 1] as number) >= 0x80 && (data[p + 1] as number) <= 0x9f)) {
      throw new ArrowFail('actor id contains a control character', `$.actors[${entryAt(offsets, n, p)}]`);
    }
  }
  for (let i = 0; i < n; i++) {
    const a = offsets[i] as number;
    const z = offsets[i + 1] as number;
    if (z === a) throw new ArrowFail('actor id must not be empty', `$.actors[${i}]`);
    if (z - a > 256) throw new ArrowFail('actor id longer than 256 bytes', `$.actors[${i}]`);
    if (i > 0) {
      const c = compareBytes(data, offsets[i - 1] as number, a, a, z);
      if (c >= 0) throw new ArrowFail(c === 0 ? 'duplicate actor' : 'actors must be strictly ascending by UTF-8 bytes', `$.actors[${i}]`);
    }
  }
}

/** The entries as strings: slices of one decoded text when it is ASCII, else one decode each. */
function splitStrings(text: string, data: Uint8Array, offsets: Int32Array, n: number): string[] {
  const out = new Array<string>(n);
  const base = offsets[0] as number;
  if (text.length === (offsets[n] as number) - base) {
    for (let i = 0; i < n; i++) out[i] = text.slice((offsets[i] as number) - base, (offsets[i + 1] as number) - base);
    return out;
  }
  for (let i = 0; i < n; i++) out[i] = FATAL_UTF8.decode(data.subarray(offsets[i] as number, offsets[i + 1] as number));
  return out;
}

function compareBytes(d: Uint8Array, a0: number, a1: number, b0: number, b1: number): number {
  const la = a1 - a0;
  const lb = b1 - b0;
  const n = Math.min(la, lb);
  for (let i = 0; i < n; i++) {
    const x = (d[a0 + i] as number) - (d[b0 + i] as number);
    if (x !== 0) return x;
  }
  return la - lb;
}

/** The entry whose bytes hold position `p` (offsets ascending). */
function entryAt(offsets: Int32Array, n: number, p: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((offsets[mid] as number) <= p) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

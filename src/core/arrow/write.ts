// Writes inputs as a `rewarder.inputs.arrow/v1` stream (SPEC §2.1): schema, the actor and kind
// dictionaries, then record batches, then the end-of-stream marker. Our own writer, not a
// library's, because the bytes are content-addressed: `gen --form arrow` and `convert` must give
// the same CID on every machine and every library version (apache-arrow reads them in tests).

import { canonicalize } from '../jcs.js';
import { encodeEach } from '../utf8.js';
import type { EventColumns } from '../inputs.js';
import { type FbField, type FbTable, buildFlatbuffer } from './flatbuf.js';
import {
  ARROW_SCHEMA,
  FIELD_NAMES,
  HEADER_DICTIONARY_BATCH,
  HEADER_RECORD_BATCH,
  HEADER_SCHEMA,
  META_POOL,
  META_SCHEMA,
  META_WINDOW,
  METADATA_V5,
  TYPE_INT,
  TYPE_UTF8,
} from './format.js';

/** Index columns may be any typed array of the indices (the generator keeps narrow ones). */
type IndexColumn = Float64Array | Uint32Array | Uint8Array;

export interface ArrowSource {
  window: { startMs: number; endMs: number };
  poolMinor: bigint;
  kinds: readonly string[];
  actors: readonly string[];
  events: Pick<EventColumns, 'count' | 'qty' | 'ts'> & { actor: IndexColumn; kind: IndexColumn };
}

/** Rows per record batch unless asked otherwise. */
export const DEFAULT_BATCH_ROWS = 1 << 20;

// The pieces below are exported for tests that craft refused streams from them.
export const ACTOR_DICT_ID = 0;
export const KIND_DICT_ID = 1;

const u8 = (v: number): FbField => ({ kind: 'u8', v });
const i32 = (v: number): FbField => ({ kind: 'i32', v });
const i64 = (v: number): FbField => ({ kind: 'i64', v });
const str = (v: string): FbField => ({ kind: 'string', v });
const tbl = (v: FbTable): FbField => ({ kind: 'table', v });
const intType = (bits: number, signed: boolean): FbTable => [i32(bits), u8(signed ? 1 : 0)];

export function schemaTable(src: ArrowSource): FbTable {
  const dictField = (name: string, id: number, bits: number): FbTable => [
    str(name),
    u8(0),
    u8(TYPE_UTF8),
    tbl([]),
    tbl([i64(id), tbl(intType(bits, true)), u8(0)]),
    { kind: 'tables', v: [] },
  ];
  const u64Field = (name: string): FbTable => [str(name), u8(0), u8(TYPE_INT), tbl(intType(64, false)), null, { kind: 'tables', v: [] }];
  const window = canonicalize({ end_ms: src.window.endMs, start_ms: src.window.startMs });
  const kv = (k: string, v: string): FbTable => [str(k), str(v)];
  return [
    { kind: 'i16', v: 0 },
    {
      kind: 'tables',
      v: [dictField(FIELD_NAMES[0], ACTOR_DICT_ID, 32), dictField(FIELD_NAMES[1], KIND_DICT_ID, 8), u64Field(FIELD_NAMES[2]), u64Field(FIELD_NAMES[3])],
    },
    { kind: 'tables', v: [kv(META_SCHEMA, ARROW_SCHEMA), kv(META_WINDOW, window), kv(META_POOL, src.poolMinor.toString())] },
  ];
}

/** One encapsulated message: continuation marker, padded metadata length, metadata, body. */
export function message(headerType: number, header: FbTable, body: Uint8Array[], bodyLength: number): Uint8Array[] {
  const meta = buildFlatbuffer([{ kind: 'i16', v: METADATA_V5 }, u8(headerType), tbl(header), i64(bodyLength)]);
  const padded = Math.ceil(meta.length / 8) * 8;
  const head = new Uint8Array(8 + padded);
  const dv = new DataView(head.buffer);
  dv.setUint32(0, 0xffffffff, true);
  dv.setInt32(4, padded, true);
  head.set(meta, 8);
  return [head, ...body];
}

/** Buffers laid out in a body, each padded to 8 bytes; returns the Buffer structs' (offset, length) pairs. */
export function layout(buffers: Uint8Array[]): { parts: Uint8Array[]; pairs: number[]; length: number } {
  const parts: Uint8Array[] = [];
  const pairs: number[] = [];
  let at = 0;
  for (const b of buffers) {
    pairs.push(at, b.length);
    parts.push(b);
    const pad = (8 - (b.length % 8)) % 8;
    if (pad > 0) parts.push(new Uint8Array(pad));
    at += b.length + pad;
  }
  return { parts, pairs, length: at };
}

export function dictionaryMessage(id: number, names: readonly string[]): Uint8Array[] {
  const { bytes, offsets } = encodeEach(names);
  const off = new Int32Array(names.length + 1);
  off.set(offsets);
  const body = layout([new Uint8Array(0), new Uint8Array(off.buffer), bytes]);
  const batch: FbTable = [i64(names.length), { kind: 'pairs', v: [names.length, 0] }, { kind: 'pairs', v: body.pairs }];
  return message(HEADER_DICTIONARY_BATCH, [i64(id), tbl(batch), u8(0)], body.parts, body.length);
}

function u64Column(col: Float64Array): Uint8Array {
  const out = new Uint32Array(col.length * 2);
  for (let i = 0; i < col.length; i++) {
    const v = col[i] as number;
    out[2 * i] = v >>> 0;
    out[2 * i + 1] = Math.floor(v / 0x1_0000_0000);
  }
  return new Uint8Array(out.buffer);
}

export function recordMessage(ev: ArrowSource['events'], from: number, to: number): Uint8Array[] {
  const n = to - from;
  const actor = new Int32Array(ev.actor.subarray(from, to));
  const kind = new Int8Array(ev.kind.subarray(from, to));
  const empty = new Uint8Array(0);
  const body = layout([
    empty,
    new Uint8Array(actor.buffer),
    empty,
    new Uint8Array(kind.buffer),
    empty,
    u64Column(ev.qty.subarray(from, to)),
    empty,
    u64Column(ev.ts.subarray(from, to)),
  ]);
  const nodes = [n, 0, n, 0, n, 0, n, 0];
  const batch: FbTable = [i64(n), { kind: 'pairs', v: nodes }, { kind: 'pairs', v: body.pairs }];
  return message(HEADER_RECORD_BATCH, batch, body.parts, body.length);
}

/**
 * The stream as a sequence of byte chunks (concatenate or write them in order), so a large
 * stream is never one more whole copy in memory. Actor indices are Int32 and kind indices Int8.
 */
export function* arrowChunks(src: ArrowSource, batchRows = DEFAULT_BATCH_ROWS): Generator<Uint8Array> {
  if (!(batchRows >= 1)) throw new RangeError('batchRows must be at least 1');
  yield* message(HEADER_SCHEMA, schemaTable(src), [], 0);
  yield* dictionaryMessage(ACTOR_DICT_ID, src.actors);
  yield* dictionaryMessage(KIND_DICT_ID, src.kinds);
  const count = src.events.count;
  for (let from = 0; from < count; from += batchRows) yield* recordMessage(src.events, from, Math.min(count, from + batchRows));
  yield END_OF_STREAM;
}

export const END_OF_STREAM = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

/** The whole stream as one byte array. */
export function encodeArrowInputs(src: ArrowSource, batchRows = DEFAULT_BATCH_ROWS): Uint8Array {
  const chunks = [...arrowChunks(src, batchRows)];
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

// Arrow IPC streams written by apache-arrow itself (the reference implementation for JavaScript),
// in every shape SPEC §2.1 allows and in shapes it refuses, for tests of our own reader.
import * as A from 'apache-arrow';
import type { ArrowSource } from '../src/core/arrow/write.js';

export interface ArrowShape {
  /** Index width of the actor / kind dictionaries (default 32 / 8). */
  actorBits?: 8 | 16 | 32;
  kindBits?: 8 | 16 | 32;
  /** Rows per record batch (default: one batch). */
  batchRows?: number;
  /** Override parts to make refused streams. */
  metadata?: Map<string, string>;
  nullable?: boolean;
  qtyType?: A.DataType;
  /** Use an unsigned index type for the actor dictionary. */
  unsignedActorIndex?: boolean;
  /** Make qty's first value null (a validity bitmap with one null). */
  nullQty?: boolean;
  extraField?: boolean;
  plainActor?: boolean;
}

const indexType = (bits: 8 | 16 | 32, unsigned = false): A.Int8 | A.Int16 | A.Int32 | A.Uint32 | A.Uint8 | A.Uint16 =>
  unsigned ? (bits === 8 ? new A.Uint8() : bits === 16 ? new A.Uint16() : new A.Uint32()) : bits === 8 ? new A.Int8() : bits === 16 ? new A.Int16() : new A.Int32();

function typedIndices(bits: 8 | 16 | 32, values: ArrayLike<number>): Int8Array | Int16Array | Int32Array {
  return bits === 8 ? Int8Array.from(values) : bits === 16 ? Int16Array.from(values) : Int32Array.from(values);
}

export function defaultMetadata(src: ArrowSource): Map<string, string> {
  return new Map([
    ['rewarder.schema', 'rewarder.inputs.arrow/v1'],
    ['rewarder.window', JSON.stringify({ end_ms: src.window.endMs, start_ms: src.window.startMs })],
    ['rewarder.pool_minor', src.poolMinor.toString()],
  ]);
}

/** The inputs as an Arrow IPC stream written by apache-arrow's own writer. */
export function arrowWrite(src: ArrowSource, shape: ArrowShape = {}): Uint8Array {
  const aBits = shape.actorBits ?? 32;
  const kBits = shape.kindBits ?? 8;
  const nullable = shape.nullable ?? false;
  const actorType = new A.Dictionary(new A.Utf8(), indexType(aBits, shape.unsignedActorIndex), 0);
  const kindType = new A.Dictionary(new A.Utf8(), indexType(kBits), 1);
  const qtyType = shape.qtyType ?? new A.Uint64();
  const actorDict = A.vectorFromArray([...src.actors], new A.Utf8());
  const kindDict = A.vectorFromArray([...src.kinds], new A.Utf8());
  const fields = [
    shape.plainActor ? new A.Field('actor', new A.Utf8(), nullable) : new A.Field('actor', actorType, nullable),
    new A.Field('kind', kindType, nullable),
    new A.Field('qty', qtyType, nullable || shape.nullQty === true),
    new A.Field('ts', new A.Uint64(), nullable),
  ];
  if (shape.extraField) fields.push(new A.Field('extra', new A.Uint64(), false));
  const schema = new A.Schema(fields, shape.metadata ?? defaultMetadata(src));
  const ev = src.events;
  const u64 = (col: Float64Array) => BigUint64Array.from(col, (v) => BigInt(v));
  const batch = (from: number, to: number): A.RecordBatch => {
    const len = to - from;
    const qty = u64(ev.qty.subarray(from, to));
    const children: A.Data[] = [
      shape.plainActor
        ? A.vectorFromArray(Array.from(ev.actor.subarray(from, to), (i) => src.actors[i] as string), new A.Utf8()).data[0] as A.Data
        : A.makeData({ type: actorType, length: len, nullCount: 0, data: typedIndices(aBits, ev.actor.subarray(from, to)), dictionary: actorDict }),
      A.makeData({ type: kindType, length: len, nullCount: 0, data: typedIndices(kBits, ev.kind.subarray(from, to)), dictionary: kindDict }),
      shape.qtyType
        ? (A.vectorFromArray(
            Array.from(ev.qty.subarray(from, to), (v) => (A.DataType.isInt(shape.qtyType) && shape.qtyType.bitWidth === 64 ? BigInt(v) : v)),
            shape.qtyType,
          ).data[0] as A.Data)
        : shape.nullQty && len > 0
          ? A.makeData({ type: new A.Uint64(), length: len, nullCount: 1, data: qty, nullBitmap: Uint8Array.from({ length: Math.ceil(len / 8) }, (_, i) => (i === 0 ? 0xfe : 0xff)) })
          : A.makeData({ type: new A.Uint64(), length: len, nullCount: 0, data: qty }),
      A.makeData({ type: new A.Uint64(), length: len, nullCount: 0, data: u64(ev.ts.subarray(from, to)) }),
    ];
    if (shape.extraField) children.push(A.makeData({ type: new A.Uint64(), length: len, nullCount: 0, data: new BigUint64Array(len) }));
    return new A.RecordBatch(schema, A.makeData({ type: new A.Struct(fields), length: len, nullCount: 0, children }));
  };
  const rows = Math.max(1, shape.batchRows ?? Math.max(1, ev.count));
  const batches: A.RecordBatch[] = [];
  for (let from = 0; from < ev.count; from += rows) batches.push(batch(from, Math.min(ev.count, from + rows)));
  if (batches.length === 0) batches.push(batch(0, 0));
  return A.tableToIPC(new A.Table(schema, batches), 'stream');
}

/** apache-arrow's reading of a stream, as plain values. */
export function arrowRead(bytes: Uint8Array): { metadata: Map<string, string>; actors: string[]; kinds: string[]; rows: { actor: string; kind: string; qty: bigint; ts: bigint }[] } {
  const t = A.tableFromIPC(bytes);
  const rows = [];
  for (const r of t) {
    const o = r.toJSON() as { actor: string; kind: string; qty: bigint; ts: bigint };
    rows.push({ actor: o.actor, kind: o.kind, qty: o.qty, ts: o.ts });
  }
  const dict = (name: string): string[] => {
    const v = t.getChild(name);
    const d = v?.data[0]?.dictionary;
    return d ? ([...d] as string[]) : [];
  };
  return { metadata: t.schema.metadata, actors: dict('actor'), kinds: dict('kind'), rows };
}

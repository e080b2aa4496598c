// The Arrow IPC form (SPEC §2.1): our reader against streams apache-arrow writes in every allowed
// shape, our writer read back by apache-arrow, every refusal with its one-line reason, and the
// same payouts as the JSON forms of the same data.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as A from 'apache-arrow';
import fc from 'fast-check';
import { caseArb, inputsDoc, policyDoc } from '../../../testing/arbitraries.js';
import { arrowRead, arrowWrite, defaultMetadata } from '../../../testing/arrow.js';
import { type InputLimits, type Inputs, DEFAULT_INPUT_LIMITS, decodeInputs } from '../inputs.js';
import { encodeInputsJson } from '../inputs-json.js';
import { decodePolicy } from '../policy.js';
import { computeRun, seal } from '../run.js';
import type { FbTable } from './flatbuf.js';
import { decodeArrowInputs } from './read.js';
import { type ArrowSource, END_OF_STREAM, KIND_DICT_ID, dictionaryMessage, encodeArrowInputs, message, recordMessage, schemaTable } from './write.js';

const enc = (s: string) => new TextEncoder().encode(s);
const example = (): Inputs => {
  const r = decodeInputs(readFileSync('vectors/example/inputs.json'));
  assert.ok(r.ok);
  return r.value;
};
const examplePolicy = () => {
  const r = decodePolicy(readFileSync('vectors/example/policy.json'));
  assert.ok(r.ok);
  return r.value;
};

function decoded(bytes: Uint8Array, limits: InputLimits = DEFAULT_INPUT_LIMITS): Inputs {
  const r = decodeInputs(bytes, limits);
  if (!r.ok) assert.fail(`refused: ${r.error.path}: ${r.error.reason}`);
  assert.equal(r.value.form, 'arrow');
  return r.value;
}

function sameData(a: Inputs, b: Inputs): void {
  assert.deepEqual(a.window, b.window);
  assert.equal(a.poolMinor, b.poolMinor);
  assert.deepEqual(a.kinds, b.kinds);
  assert.deepEqual(a.actors, b.actors);
  assert.equal(a.events.count, b.events.count);
  for (const k of ['actor', 'kind', 'qty', 'ts'] as const) assert.deepEqual([...a.events[k]], [...b.events[k]], k);
}

function refusal(bytes: Uint8Array, limits: InputLimits = DEFAULT_INPUT_LIMITS): string {
  const r = decodeArrowInputs(bytes, limits);
  if (r.ok) assert.fail('accepted a stream §2.1 refuses');
  assert.doesNotMatch(r.error.reason, /\n/);
  return `${r.error.path}: ${r.error.reason}`;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const src = (over: Partial<ArrowSource> = {}): ArrowSource => ({ ...example(), ...over });
const cols = (actor: number[], kind: number[], qty: number[], ts: number[]) => ({
  count: actor.length,
  actor: Float64Array.from(actor),
  kind: Float64Array.from(kind),
  qty: Float64Array.from(qty),
  ts: Float64Array.from(ts),
});

test('streams apache-arrow writes decode to the same inputs as the JSON form, in every allowed shape', () => {
  const json = example();
  const shapes = [
    {},
    { actorBits: 8 as const },
    { actorBits: 16 as const, kindBits: 16 as const },
    { actorBits: 32 as const, kindBits: 32 as const },
    { batchRows: 1 },
    { batchRows: 3 },
  ];
  for (const shape of shapes) sameData(decoded(arrowWrite(json, shape)), json);
});

test('actors without events, zero events and non-ASCII actor ids decode exactly', () => {
  const actors = ['a', 'b', 'é', 'ö', '日本', '😀'];
  const s = src({ actors, events: cols([1, 5, 3], [0, 2, 1], [0, Number.MAX_SAFE_INTEGER, 7], [1767225600000, 1767225600001, 2 ** 53 - 1]) });
  const ours = decoded(encodeArrowInputs(s));
  const theirs = decoded(arrowWrite(s));
  sameData(ours, theirs);
  assert.deepEqual(ours.actors, actors);
  assert.equal(ours.events.qty[1], Number.MAX_SAFE_INTEGER);
  const none = decoded(arrowWrite(src({ events: cols([], [], [], []) })));
  assert.equal(none.events.count, 0);
  assert.deepEqual(none.actors, example().actors);
  const noneOurs = decoded(encodeArrowInputs(src({ actors: [], events: cols([], [], [], []) })));
  assert.deepEqual(noneOurs.actors, []);
});

test('apache-arrow reads our writer\'s stream back as the same table and metadata', () => {
  const s = src();
  for (const rows of [1, 2, 1 << 20]) {
    const bytes = encodeArrowInputs(s, rows);
    const t = arrowRead(bytes);
    assert.deepEqual(t.metadata, defaultMetadata(s));
    assert.deepEqual(t.actors, s.actors);
    assert.deepEqual(t.kinds, s.kinds);
    assert.deepEqual(
      t.rows,
      Array.from({ length: s.events.count }, (_, i) => ({
        actor: s.actors[s.events.actor[i] as number],
        kind: s.kinds[s.events.kind[i] as number],
        qty: BigInt(s.events.qty[i] as number),
        ts: BigInt(s.events.ts[i] as number),
      })),
    );
    sameData(decoded(bytes), example());
  }
});

test('our writer is deterministic and the Arrow form seals to its own CID', () => {
  const a = encodeArrowInputs(src());
  assert.deepEqual(a, encodeArrowInputs(src()));
  const sealed = seal(a);
  assert.ok(sealed.ok && sealed.value.schema === 'rewarder.inputs/v1' && sealed.value.inputs.form === 'arrow');
  const json = seal(readFileSync('vectors/example/inputs.json'));
  assert.ok(json.ok);
  assert.notEqual(sealed.value.cid, json.value.cid);
});

test('the SPEC §9 example in Arrow yields the example\'s payouts and totals', () => {
  const bytes = encodeArrowInputs(src());
  const run = (inputs: Inputs) => {
    const r = computeRun({ epochId: '2026-01-01', inputs, inputsCid: 'b3:x', policy: examplePolicy(), policyHash: 'b3:y' });
    assert.ok(r.ok);
    return new TextDecoder().decode(r.value.manifest.bytes);
  };
  const arrow = run(decoded(bytes));
  assert.equal(arrow, run(example()));
  assert.match(arrow, /"payout_minor":"927"/);
});

test('Arrow and JSON forms of the same data give identical manifests (property)', () => {
  fc.assert(
    fc.property(caseArb({ big: true }), fc.integer({ min: 1, max: 8 }), fc.boolean(), (c, rows, theirs) => {
      const policy = decodePolicy(enc(policyDoc(c)));
      assert.ok(policy.ok);
      const json = decodeInputs(enc(inputsDoc(c, 'row')));
      assert.ok(json.ok);
      const arrow = decoded(theirs ? arrowWrite(json.value, { batchRows: rows }) : encodeArrowInputs(json.value, rows));
      const m = (inputs: Inputs) => {
        const r = computeRun({ epochId: 'e', inputs, inputsCid: 'b3:c', policy: policy.value, policyHash: 'b3:h' });
        assert.ok(r.ok);
        return new TextDecoder().decode(r.value.manifest.bytes);
      };
      assert.equal(m(arrow), m(json.value));
    }),
    { numRuns: 150 },
  );
});

test('convert round-trips every form byte for byte: JSON → Arrow → JSON (property)', () => {
  fc.assert(
    fc.property(caseArb({ big: true }), (c) => {
      const row = decodeInputs(enc(inputsDoc(c, 'row')));
      assert.ok(row.ok);
      const arrow = decoded(encodeArrowInputs(row.value));
      for (const form of ['row', 'columnar'] as const) {
        // The generator's member order is ours too: converting gives back the very document.
        assert.equal(new TextDecoder().decode(encodeInputsJson(arrow, form)), inputsDoc(c, form));
        const back = decodeInputs(encodeInputsJson(arrow, form));
        assert.ok(back.ok);
        sameData(back.value, row.value);
      }
      assert.deepEqual(encodeArrowInputs(arrow), encodeArrowInputs(row.value));
    }),
    { numRuns: 150 },
  );
});

// ---- refusals: every case of §2.1, each with its one-line reason -----------------------------

/** A stream from our writer's pieces with one of them replaced. */
function crafted(o: { schema?: FbTable; dicts?: Uint8Array[][]; records?: Uint8Array[][]; tail?: Uint8Array } = {}): Uint8Array {
  const s = src();
  return concat([
    ...message(1, o.schema ?? schemaTable(s), [], 0),
    ...(o.dicts ?? [dictionaryMessage(0, s.actors), dictionaryMessage(KIND_DICT_ID, s.kinds)]).flat(),
    ...(o.records ?? [recordMessage(s.events, 0, s.events.count)]).flat(),
    o.tail ?? END_OF_STREAM,
  ]);
}

function withMeta(entries: [string, string][]): FbTable {
  const t = schemaTable(src());
  t[2] = { kind: 'tables', v: entries.map(([k, v]) => [{ kind: 'string', v: k }, { kind: 'string', v }]) };
  return t;
}

const META: [string, string][] = [...defaultMetadata(src()).entries()];

test('refuses framing faults: truncation, trailing bytes, missing markers, other message types', () => {
  const good = encodeArrowInputs(src());
  for (const cut of [4, 9, 100, good.length - 9, good.length - 1]) assert.match(refusal(good.subarray(0, cut)), /^\$: truncated stream/);
  assert.equal(refusal(good.subarray(0, good.length - 8)), '$: truncated stream (no end-of-stream marker)');
  assert.equal(refusal(concat([good, new Uint8Array([0])])), '$: trailing bytes after the end-of-stream marker');
  assert.match(refusal(new Uint8Array([0x10, 0, 0, 0, 1, 2, 3, 4])), /^\$: expected the continuation marker 0xFFFFFFFF at byte 0/);
  assert.equal(refusal(END_OF_STREAM), '$: the stream must begin with a schema message');
  const s = src();
  const twice = concat([...message(1, schemaTable(s), [], 0), ...message(1, schemaTable(s), [], 0), END_OF_STREAM]);
  assert.equal(refusal(twice), '$: more than one schema message');
  const tensor = crafted({ records: [message(4, [], [], 0)] });
  assert.equal(refusal(tensor), '$: message type 4 is not accepted (only schema, dictionary and record batches)');
  const odd = good.slice();
  new DataView(odd.buffer).setInt32(4, 13, true);
  assert.match(refusal(odd), /metadata length that is not a positive multiple of 8/);
});

test('refuses every departure from the three metadata keys', () => {
  assert.equal(refusal(crafted({ schema: withMeta([...META, ['extra', 'x']]) })), '$.metadata: unknown schema metadata key (entry 3)');
  assert.equal(refusal(crafted({ schema: withMeta(META.slice(1)) })), '$.metadata: missing schema metadata key rewarder.schema');
  assert.equal(refusal(crafted({ schema: withMeta([...META, META[0] as [string, string]]) })), '$.metadata: duplicate schema metadata key rewarder.schema');
  assert.equal(
    refusal(crafted({ schema: withMeta([['rewarder.schema', 'rewarder.inputs/v1'], META[1] as [string, string], META[2] as [string, string]]) })),
    '$.metadata: rewarder.schema must be "rewarder.inputs.arrow/v1"',
  );
  for (const w of ['{"start_ms":1,"end_ms":2}', '{"end_ms":2, "start_ms":1}', '{"end_ms":1,"start_ms":1}', '{"end_ms":2.5,"start_ms":1}', '{"end_ms":2}', 'x']) {
    assert.match(refusal(crafted({ schema: withMeta([META[0] as [string, string], ['rewarder.window', w], META[2] as [string, string]]) })), /^\$\.metadata: rewarder\.window must be the JCS/);
  }
  for (const p of ['01', '-1', '1e3', String(2n ** 128n)]) {
    assert.match(refusal(crafted({ schema: withMeta([META[0] as [string, string], META[1] as [string, string], ['rewarder.pool_minor', p]]) })), /^\$\.metadata: rewarder\.pool_minor: money/);
  }
});

test('refuses other fields, types, nullability and nulls (streams written by apache-arrow)', () => {
  const s = src();
  assert.equal(refusal(arrowWrite(s, { extraField: true })), '$.fields: expected exactly four fields: actor, kind, qty, ts');
  assert.equal(refusal(arrowWrite(s, { nullable: true })), '$.fields[0]: field actor must not be nullable');
  assert.equal(refusal(arrowWrite(s, { nullQty: true })), '$.fields[2]: field qty must not be nullable');
  assert.equal(refusal(arrowWrite(s, { qtyType: new A.Int64() })), '$.fields[2]: field qty must be UInt64');
  assert.equal(refusal(arrowWrite(s, { qtyType: new A.Uint32() })), '$.fields[2]: field qty must be UInt64');
  assert.equal(refusal(arrowWrite(s, { plainActor: true })), '$.fields[0]: field actor must be dictionary-encoded');
  assert.equal(refusal(arrowWrite(s, { unsignedActorIndex: true })), '$.fields[0]: field actor dictionary index must be Int8, Int16 or Int32');
  // A null with the field declared non-nullable: the batch's null count gives it away.
  const t = schemaTable(s);
  const rec = recordMessage(s.events, 0, s.events.count);
  const withNull = crafted({ schema: t, records: [rec] });
  const at = findNullCount(withNull);
  new DataView(withNull.buffer).setUint32(at, 1, true);
  assert.equal(refusal(withNull), '$: nulls are not accepted (column actor)');
  const renamed = schemaTable(s);
  const fields = renamed[1] as { kind: 'tables'; v: FbTable[] };
  [fields.v[2], fields.v[3]] = [fields.v[3] as FbTable, fields.v[2] as FbTable];
  assert.equal(refusal(crafted({ schema: renamed })), '$.fields[2]: field 2 must be named "qty"');
  const big = schemaTable(s);
  big[0] = { kind: 'i16', v: 1 };
  assert.equal(refusal(crafted({ schema: big })), '$: big-endian streams are not accepted');
  const shared = schemaTable(s);
  const kindField = (shared[1] as { v: FbTable[] }).v[1] as FbTable;
  (kindField[4] as { v: FbTable }).v[0] = { kind: 'i64', v: 0 };
  assert.equal(refusal(crafted({ schema: shared })), '$.fields[1]: actor and kind must have their own dictionaries');
});

/** The byte offset of the first record batch's first node null_count, found by its known lengths. */
function findNullCount(bytes: Uint8Array): number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = src().events.count;
  // The nodes vector of the record batch: length 4 then (n, 0) four times.
  for (let p = 0; p + 68 <= bytes.length; p += 4) {
    if (dv.getUint32(p, true) !== 4) continue;
    let hit = true;
    for (let i = 0; i < 4 && hit; i++) hit = dv.getUint32(p + 4 + 16 * i, true) === n && dv.getUint32(p + 12 + 16 * i, true) === 0;
    if (hit) return p + 12;
  }
  throw new Error('nodes not found');
}

test('refuses dictionary faults: delta, replacement, late, missing, out-of-range indices', () => {
  const s = src();
  const actorDict = dictionaryMessage(0, s.actors);
  const kindDict = dictionaryMessage(KIND_DICT_ID, s.kinds);
  const rec = recordMessage(s.events, 0, s.events.count);
  assert.equal(refusal(crafted({ dicts: [actorDict, kindDict, actorDict] })), '$: a second actor dictionary (replacement dictionaries are not accepted)');
  assert.equal(refusal(crafted({ dicts: [actorDict], records: [rec] })), '$: record batch before both dictionaries');
  assert.equal(refusal(crafted({ dicts: [actorDict], records: [] })), '$: missing kind dictionary');
  assert.equal(refusal(crafted({ dicts: [actorDict, kindDict], records: [rec, kindDict] })), '$: dictionary batch after the first record batch (replacement dictionaries are not accepted)');
  assert.equal(refusal(crafted({ dicts: [actorDict, kindDict, dictionaryMessage(7, ['x'])] })), '$: dictionary batch for an id no field uses');
  const delta = dictionaryMessage(KIND_DICT_ID, s.kinds);
  const deltaBytes = concat(delta);
  // isDelta is the header's third field, written as 0 by our writer: flip it through the vtable.
  const dv = new DataView(deltaBytes.buffer);
  const root = 8 + dv.getUint32(8, true);
  const header = fieldRef(dv, root, 2);
  const isDelta = fieldAt(dv, header, 2);
  deltaBytes[isDelta] = 1;
  assert.equal(refusal(crafted({ dicts: [actorDict, [deltaBytes]] })), '$: delta dictionaries are not accepted');
  const outOfRange = recordMessage(cols([5], [0], [1], [1]), 0, 1);
  assert.equal(refusal(crafted({ records: [outOfRange] })), '$.events.actor[0]: actor index out of range');
  const negative = recordMessage(cols([0, 0], [0, -1], [1, 1], [1, 1]), 0, 2);
  assert.equal(refusal(crafted({ records: [rec, negative] })), `$.events.kind[${s.events.count + 1}]: kind index out of range`);
  const tooBig = recordMessage(cols([0], [0], [2 ** 53], [1]), 0, 1);
  assert.equal(refusal(crafted({ records: [tooBig] })), '$.events.qty[0]: qty exceeds 2^53-1');
  assert.equal(refusal(arrowWrite(src({ events: cols([0], [0], [1], [2 ** 53]) }))), '$.events.ts[0]: ts exceeds 2^53-1');
});

function fieldAt(dv: DataView, table: number, i: number): number {
  const vt = table - dv.getInt32(table, true);
  return table + dv.getUint16(vt + 4 + 2 * i, true);
}
function fieldRef(dv: DataView, table: number, i: number): number {
  const p = fieldAt(dv, table, i);
  return p + dv.getUint32(p, true);
}

test('refuses dictionaries that break the rules of §2 for actors and kinds', () => {
  const with2 = (actors: string[], kinds = src().kinds) => crafted({ dicts: [dictionaryMessage(0, actors), dictionaryMessage(KIND_DICT_ID, kinds)], records: [] });
  assert.equal(refusal(with2(['b', 'a'])), '$.actors[1]: actors must be strictly ascending by UTF-8 bytes');
  assert.equal(refusal(with2(['a', 'a'])), '$.actors[1]: duplicate actor');
  assert.equal(refusal(with2(['a', ''])), '$.actors[1]: actor id must not be empty');
  assert.equal(refusal(with2(['a', 'x'.repeat(257)])), '$.actors[1]: actor id longer than 256 bytes');
  assert.equal(refusal(with2(['a', 'b\u0001'])), '$.actors[1]: actor id contains a control character');
  assert.equal(refusal(with2(['a', 'b\u0085'])), '$.actors[1]: actor id contains a control character');
  // U+E000 sorts after U+1F600's surrogates in UTF-16 but before it in UTF-8 bytes.
  assert.equal(refusal(with2(['😀', '\ue000'])), '$.actors[1]: actors must be strictly ascending by UTF-8 bytes');
  assert.equal(refusal(with2(['a'], ['Bad'])), '$.kinds[0]: kind must match ^[a-z][a-z0-9_]{0,63}$');
  assert.equal(refusal(with2(['a'], ['k', 'k'])), '$.kinds[1]: duplicate kind');
  assert.equal(refusal(with2(['a'], [])), '$.kinds: at least one kind is required');
  assert.equal(refusal(with2(['a'], Array.from({ length: 65 }, (_, i) => `k${i}`))), '$.kinds: more than 64 kinds');
  const bad = concat(dictionaryMessage(0, ['ab', 'ac']));
  const p = Buffer.from(bad).indexOf('abac');
  bad[p + 3] = 0xff;
  assert.match(refusal(crafted({ dicts: [[bad], dictionaryMessage(KIND_DICT_ID, src().kinds)], records: [] })), /^\$\.actors: dictionary strings are not valid UTF-8$/);
});

test('refuses compression and configured limits', () => {
  const s = src();
  const batch: FbTable = [
    { kind: 'i64', v: 0 },
    { kind: 'pairs', v: [0, 0, 0, 0, 0, 0, 0, 0] },
    { kind: 'pairs', v: Array(16).fill(0) as number[] },
    { kind: 'table', v: [{ kind: 'u8', v: 0 }] },
  ];
  assert.equal(refusal(crafted({ records: [message(3, batch, [], 0)] })), '$: body compression is not accepted');
  const bytes = encodeArrowInputs(s);
  assert.equal(refusal(bytes, { ...DEFAULT_INPUT_LIMITS, maxEvents: 7 }), '$.events: more than 7 events (configured limit)');
  assert.equal(refusal(bytes, { ...DEFAULT_INPUT_LIMITS, maxActors: 4 }), '$.actors: more than 4 actors (configured limit)');
  assert.equal(refusal(bytes, { ...DEFAULT_INPUT_LIMITS, maxArrowBytes: 100 }), `$: stream is ${bytes.length} bytes, limit is 100`);
  // The Arrow cap is its own: a JSON cap smaller than the stream does not refuse it.
  decoded(bytes, { ...DEFAULT_INPUT_LIMITS, maxBytes: 10 });
});

test('a batch declaring more rows than its buffers hold is refused before columns are allocated', () => {
  const s = src();
  const rec = concat(recordMessage(s.events, 0, s.events.count));
  const dv = new DataView(rec.buffer);
  // The batch's length (first field of the header table) and each node's length, set to 2^40.
  const root = 8 + dv.getUint32(8, true);
  const header = fieldRef(dv, root, 2);
  const at = fieldAt(dv, header, 0);
  dv.setUint32(at, 0, true);
  dv.setUint32(at + 4, 256, true);
  const nodes = fieldRef(dv, header, 1);
  for (let i = 0; i < 4; i++) {
    dv.setUint32(nodes + 4 + 16 * i, 0, true);
    dv.setUint32(nodes + 8 + 16 * i, 256, true);
  }
  const limits = { ...DEFAULT_INPUT_LIMITS, maxEvents: Number.MAX_SAFE_INTEGER };
  assert.equal(refusal(crafted({ records: [[rec]] }), limits), '$.events.actor: actor buffer too short for its batch');
});

test('any corruption of a valid stream is refused or decoded, never thrown', () => {
  const good = arrowWrite(src(), { batchRows: 3 });
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (edits) => {
      const b = good.slice();
      for (const [at, v] of edits) b[at] = v;
      decodeArrowInputs(b, DEFAULT_INPUT_LIMITS);
    }),
    { numRuns: 2000 },
  );
});

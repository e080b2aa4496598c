// The one-pass Arrow tally (tally.ts) against the general path it stands in for: decode the
// columns (read.ts), tally them (calculus.ts), count their cells (explain.ts), encode and quote the
// actor ids (utf8.ts, manifest.ts). Same values on every stream, same refusal on every bad one.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { caseArb, inputsDoc } from '../../../testing/arbitraries.js';
import { arrowWrite } from '../../../testing/arrow.js';
import { tally } from '../calculus.js';
import { countedCells } from '../explain.js';
import { type Inputs, DEFAULT_INPUT_LIMITS, decodeInputs } from '../inputs.js';
import { quotedNames } from '../manifest.js';
import { nativeAddon } from '../native.js';
import { encodeEach, quoteEach, useNativeQuote } from '../utf8.js';
import { ArrowFail } from './flatbuf.js';
import { actorChecks, decodeArrowInputs, useNativeActorChecks } from './read.js';
import { addBatch, finish, rebased, tallyArrow, useNativeArrowTally } from './tally.js';
import { encodeArrowInputs } from './write.js';

const enc = (s: string) => new TextEncoder().encode(s);

function jsonInputs(doc: string): Inputs {
  const r = decodeInputs(enc(doc));
  assert.ok(r.ok);
  return r.value;
}

/** tallyArrow's answer equals the general path's, field by field; null exactly when its guard fails. */
function agrees(bytes: Uint8Array): void {
  const general = decodeArrowInputs(bytes, DEFAULT_INPUT_LIMITS);
  const fused = tallyArrow(bytes, DEFAULT_INPUT_LIMITS);
  if (!general.ok) {
    assert.ok(!fused.ok, 'the one-pass tally accepted a stream the reader refuses');
    assert.deepEqual(fused.error, general.error);
    return;
  }
  assert.ok(fused.ok, `the one-pass tally refused a stream the reader accepts: ${fused.ok ? '' : fused.error.reason}`);
  const t = tally(general.value);
  if (!(t.q instanceof Float64Array)) {
    assert.equal(fused.value, null);
    return;
  }
  assert.ok(fused.value !== null);
  const f = fused.value;
  assert.deepEqual([...f.tally.q], [...t.q]);
  assert.equal(f.tally.ignored, t.ignored);
  assert.equal(f.tally.events, t.events);
  assert.deepEqual(f.tally.window, t.window);
  assert.equal(f.tally.poolMinor, t.poolMinor);
  assert.deepEqual(f.tally.kinds, t.kinds);
  assert.deepEqual(f.tally.actors, t.actors);
  assert.deepEqual([...f.seen], [...countedCells(general.value)]);
  const ids = encodeEach(general.value.actors);
  assert.deepEqual([...f.ids.bytes], [...ids.bytes]);
  assert.deepEqual([...f.ids.offsets], [...ids.offsets]);
}

test('the one-pass Arrow tally equals decode + tally + counted cells + ids (property)', () => {
  fc.assert(
    fc.property(caseArb({ big: true }), fc.integer({ min: 1, max: 8 }), fc.boolean(), (c, rows, theirs) => {
      const json = jsonInputs(inputsDoc(c, 'row'));
      agrees(theirs ? arrowWrite(json, { batchRows: rows }) : encodeArrowInputs(json, rows));
    }),
    { numRuns: 200 },
  );
});

test('quantities past 2^53−1 in total leave the one-pass tally to the BigInt path (null)', () => {
  const inputs: Inputs = {
    form: 'columnar',
    window: { startMs: 0, endMs: 10 },
    poolMinor: 100n,
    kinds: ['a'],
    actors: ['x', 'y'],
    events: cols([0, 1], [0, 0], [2 ** 53 - 1, 5], [1, 2]),
  };
  const r = tallyArrow(encodeArrowInputs(inputs, 1), DEFAULT_INPUT_LIMITS);
  assert.ok(r.ok);
  assert.equal(r.value, null);
  agrees(encodeArrowInputs(inputs, 1));
});

test('an index out of range or a value past 2^53−1 is refused with the strict reader\'s reason and row', () => {
  const base: Inputs = { form: 'columnar', window: { startMs: 0, endMs: 10 }, poolMinor: 100n, kinds: ['a', 'b', 'c'], actors: ['x', 'y'], events: cols([], [], [], []) };
  const bad = (over: Partial<Inputs['events']>): Uint8Array => {
    const events = { ...cols([0, 1, 0], [0, 0, 0], [1, 2, 3], [1, 2, 3]), ...over };
    return encodeArrowInputs({ ...base, events }, 2);
  };
  for (const [bytes, reason] of [
    [bad({ actor: Float64Array.of(0, 1, 7) }), '$.events.actor[2]: actor index out of range'],
    [bad({ kind: Float64Array.of(0, 3, 0) }), '$.events.kind[1]: kind index out of range'],
    [bad({ qty: Float64Array.of(1, 2, 2 ** 60) }), '$.events.qty[2]: qty exceeds 2^53-1'],
    [bad({ ts: Float64Array.of(2 ** 60, 2, 3) }), '$.events.ts[0]: ts exceeds 2^53-1'],
  ] as const) {
    const r = tallyArrow(bytes, DEFAULT_INPUT_LIMITS);
    assert.ok(!r.ok);
    assert.equal(`${r.error.path}: ${r.error.reason}`, reason);
    agrees(bytes);
  }
});

test('any corruption of a valid stream gets the strict reader\'s answer from the one-pass tally', () => {
  const good = arrowWrite(jsonInputs(readFileSync('vectors/example/inputs.json', 'utf8')), { batchRows: 3 });
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (edits) => {
      const b = good.slice();
      for (const [at, v] of edits) b[at] = v;
      agrees(b);
    }),
    { numRuns: 1500 },
  );
});

test('quoteEach writes from UTF-8 exactly what JSON.stringify writes for the same ids', () => {
  const ids = ['a', 'quote"d', 'back\\slash', 'é', '日本', '😀x', '\u007f', 'ends\\', '"', 'tab\there', 'nl\n', '\u0001\u001f', 'mixé"\\\b\f\r'];
  const mine = quoteEach(encodeEach(ids));
  const theirs = quotedNames(ids);
  assert.deepEqual([...mine.offsets], [...theirs.offsets]);
  assert.equal(new TextDecoder().decode(mine.bytes), new TextDecoder().decode(theirs.bytes));
  fc.assert(
    fc.property(fc.array(fc.string({ unit: 'grapheme', minLength: 1 })), (xs) => {
      const m = quoteEach(encodeEach(xs));
      const t = quotedNames(xs);
      assert.deepEqual([...m.bytes], [...t.bytes]);
      assert.deepEqual([...m.offsets], [...t.offsets]);
    }),
  );
});

const cols = (actor: number[], kind: number[], qty: number[], ts: number[]): Inputs['events'] => ({
  count: actor.length,
  actor: Float64Array.from(actor),
  kind: Float64Array.from(kind),
  qty: Float64Array.from(qty),
  ts: Float64Array.from(ts),
});

test('a counted event of quantity 0 marks its cell, an event outside the window does not, and Q holds no −0', () => {
  const inputs: Inputs = {
    form: 'columnar',
    window: { startMs: 10, endMs: 20 },
    poolMinor: 100n,
    kinds: ['a', 'b'],
    actors: ['x', 'y', 'z'],
    events: cols([0, 1, 2, 2], [0, 1, 0, 1], [0, 0, 5, 7], [10, 25, 19, 9]),
  };
  const r = tallyArrow(encodeArrowInputs(inputs, 2), DEFAULT_INPUT_LIMITS);
  assert.ok(r.ok && r.value !== null);
  assert.deepEqual([...r.value.seen], [1, 0, 0, 0, 1, 0]);
  assert.deepEqual([...r.value.tally.q], [0, 0, 0, 0, 5, 0]);
  assert.ok([...r.value.tally.q].every((v) => !Object.is(v, -0)));
  assert.equal(r.value.tally.ignored, 2);
  agrees(encodeArrowInputs(inputs, 2));
});

// ---- the addon's loops (native/arrow_tally.c) against addBatch and finish, their reference

const native = nativeAddon();
const allowJs = process.env.REWARDER_ALLOW_NO_NATIVE === '1';
const HI_MAX = 0x1fffff;

interface RawBatch {
  actor: Int8Array | Int16Array | Int32Array;
  kind: Int8Array | Int16Array | Int32Array;
  qty: Uint32Array;
  ts: Uint32Array;
  n: number;
}

const INDEX = [Int8Array, Int16Array, Int32Array] as const;
const LIMIT = [0x7f, 0x7fff, 0x7fffffff] as const;

/** An index mostly in [0, size), sometimes just outside it or anywhere the type holds. */
const indexArb = (size: number, width: 0 | 1 | 2) =>
  fc.oneof(
    { weight: 20, arbitrary: fc.integer({ min: 0, max: Math.min(size - 1, LIMIT[width]) }) },
    { weight: 1, arbitrary: fc.constantFrom(-1, size, size + 1, -LIMIT[width] - 1, LIMIT[width]).filter((x) => x <= LIMIT[width]) },
  );

/** A uint64 as (lo, hi): small, zero, near 2^53, past 2^53−1 (hi > 0x1FFFFF) now and then. */
const u64Arb = (lo: number, hi: number) =>
  fc.oneof(
    { weight: 10, arbitrary: fc.integer({ min: lo, max: hi }).map((x) => [x >>> 0, Math.floor(x / 2 ** 32)] as const) },
    { weight: 2, arbitrary: fc.constant([0, 0] as const) },
    { weight: 2, arbitrary: fc.tuple(fc.nat({ max: 0xffffffff }), fc.oneof(fc.constant(HI_MAX), fc.nat({ max: HI_MAX }))) },
    { weight: 1, arbitrary: fc.tuple(fc.nat({ max: 0xffffffff }), fc.oneof(fc.constantFrom(HI_MAX + 1, 0xffffffff), fc.integer({ min: HI_MAX + 1, max: 0xffffffff }))) },
  );

const shapeArb = fc.record({
  nActors: fc.integer({ min: 1, max: 300 }),
  K: fc.integer({ min: 1, max: 5 }),
  aw: fc.constantFrom(0, 1, 2) as fc.Arbitrary<0 | 1 | 2>,
  kw: fc.constantFrom(0, 1, 2) as fc.Arbitrary<0 | 1 | 2>,
  startMs: fc.integer({ min: 0, max: 100 }),
  span: fc.integer({ min: 1, max: 100 }),
});

const caseOf = fc.tuple(shapeArb, fc.integer({ min: 1, max: 4 })).chain(([s, batches]) => {
  const row = fc.tuple(indexArb(s.nActors, s.aw), indexArb(s.K, s.kw), u64Arb(0, 1000), u64Arb(Math.max(0, s.startMs - 20), s.startMs + s.span + 20));
  return fc.record({ s: fc.constant(s), batches: fc.array(fc.array(row, { maxLength: 60 }), { minLength: batches, maxLength: batches }) });
});

function rawBatch(rows: [number, number, readonly [number, number], readonly [number, number]][], aw: 0 | 1 | 2, kw: 0 | 1 | 2): RawBatch {
  const n = rows.length;
  const b: RawBatch = { actor: new INDEX[aw](n), kind: new INDEX[kw](n), qty: new Uint32Array(2 * n), ts: new Uint32Array(2 * n), n };
  rows.forEach(([a, k, q, t], i) => {
    b.actor[i] = a;
    b.kind[i] = k;
    b.qty.set(q, 2 * i);
    b.ts.set(t, 2 * i);
  });
  return b;
}

const bits = (a: Float64Array) => [...new Uint8Array(a.buffer, a.byteOffset, a.byteLength)];

test('the addon\'s batch loop and finishing pass equal addBatch and finish bit for bit, refusals included (property)', { skip: native === null && allowJs }, () => {
  assert.ok(native !== null, 'the native addon is not built or does not load');
  fc.assert(
    fc.property(caseOf, ({ s, batches }) => {
      const cells = s.nActors * s.K;
      const window = { startMs: s.startMs, endMs: s.startMs + s.span };
      const qTs = new Float64Array(cells).fill(-0);
      const qC = new Float64Array(cells).fill(-0);
      const sumTs = new Float64Array(2);
      const sumC = new Float64Array(2);
      for (const rows of batches) {
        const b = rawBatch(rows, s.aw, s.kw);
        const ts = addBatch(b, window, s.nActors, s.K, qTs, sumTs);
        const c = native.arrowTallyBatch(b.actor, b.kind, b.qty, b.ts, b.n, window.startMs, window.endMs, s.nActors, s.K, qC, sumC);
        assert.equal(c, ts);
        // On a refusal both have written the same cells up to the same row and left sum alone.
        assert.deepEqual(bits(qC), bits(qTs));
        assert.deepEqual(bits(sumC), bits(sumTs));
        if (!ts) return;
      }
      const seenTs = new Uint8Array(cells);
      const seenC = new Uint8Array(cells);
      finish(qTs, seenTs);
      native.arrowTallyFinish(qC, seenC);
      assert.deepEqual(bits(qC), bits(qTs));
      assert.deepEqual([...seenC], [...seenTs]);
    }),
    { numRuns: 2000, seed: 18 },
  );
});

test('the addon\'s batch loop: in-order rounding past 2^53, refusal at any bad row, argument checks', { skip: native === null && allowJs }, () => {
  assert.ok(native !== null, 'the native addon is not built or does not load');
  const u64 = (xs: number[]) => Uint32Array.from(xs.flatMap((x) => [x >>> 0, Math.floor(x / 2 ** 32)]));
  const q = new Float64Array(4).fill(-0);
  const sum = new Float64Array(2);
  // ts 5 is outside [10, 20): ignored. 2^53 − 1 then 1 then 1 in one cell: each addition rounds in order.
  const max = 2 ** 53 - 1;
  assert.equal(native.arrowTallyBatch(Int8Array.of(0, 1, 1, 1, 1), Int32Array.of(1, 0, 0, 0, 1), u64([3, max, 1, 1, 0]), u64([10, 19, 19, 19, 5]), 5, 10, 20, 2, 2, q, sum), true);
  const ref = new Float64Array(4).fill(-0);
  const refSum = new Float64Array(2);
  assert.equal(addBatch({ n: 5, actor: Int8Array.of(0, 1, 1, 1, 1), kind: Int32Array.of(1, 0, 0, 0, 1), qty: u64([3, max, 1, 1, 0]), ts: u64([10, 19, 19, 19, 5]) }, { startMs: 10, endMs: 20 }, 2, 2, ref, refSum), true);
  assert.deepEqual(bits(q), bits(ref));
  assert.deepEqual(bits(sum), bits(refSum));
  assert.equal(refSum[1], 1);
  // Each refusal leaves sum as it was.
  const before = [...sum];
  for (const [a, k, qty, ts] of [
    [Int16Array.of(2), Int8Array.of(0), u64([1]), u64([10])],
    [Int16Array.of(-1), Int8Array.of(0), u64([1]), u64([10])],
    [Int16Array.of(0), Int8Array.of(2), u64([1]), u64([10])],
    [Int16Array.of(0), Int8Array.of(-1), u64([1]), u64([10])],
    [Int16Array.of(0), Int8Array.of(0), Uint32Array.of(0, HI_MAX + 1), u64([10])],
    [Int16Array.of(0), Int8Array.of(0), u64([1]), Uint32Array.of(0, HI_MAX + 1)],
    // Outside the window, still refused: the checks come before the window test.
    [Int16Array.of(0), Int8Array.of(0), Uint32Array.of(0, 0xffffffff), u64([5])],
  ] as const) {
    assert.equal(native.arrowTallyBatch(a, k, qty, ts, 1, 10, 20, 2, 2, q, sum), false);
    assert.deepEqual([...sum], before);
  }
  const ok1 = [Int8Array.of(0), Int8Array.of(0), u64([1]), u64([10])] as const;
  assert.throws(() => native.arrowTallyBatch(...ok1, 2, 10, 20, 2, 2, q, sum), RangeError);
  assert.throws(() => native.arrowTallyBatch(...ok1, 1, 10, 20, 3, 2, q, sum), RangeError);
  assert.throws(() => native.arrowTallyBatch(...ok1, 1, 10, 20, 2, 2, q, new Float64Array(1)), RangeError);
  assert.throws(() => native.arrowTallyBatch(...ok1, -1, 10, 20, 2, 2, q, sum), RangeError);
  assert.throws(() => native.arrowTallyBatch(Uint8Array.of(0) as unknown as Int8Array, ok1[1], ok1[2], ok1[3], 1, 10, 20, 2, 2, q, sum), TypeError);
  assert.throws(() => native.arrowTallyBatch(ok1[0], ok1[1], Int32Array.of(1, 0) as unknown as Uint32Array, ok1[3], 1, 10, 20, 2, 2, q, sum), TypeError);
  assert.throws(() => native.arrowTallyFinish(q, new Uint8Array(3)), RangeError);
  assert.throws(() => native.arrowTallyFinish(new Uint8Array(4) as unknown as Float64Array, new Uint8Array(4)), TypeError);
});

test('tallyArrow without the addon (its TypeScript loops) gives what it gives with it', () => {
  fc.assert(
    fc.property(caseArb({ big: true }), fc.integer({ min: 1, max: 8 }), (c, rows) => {
      const bytes = encodeArrowInputs(jsonInputs(inputsDoc(c, 'row')), rows);
      const on = tallyArrow(bytes, DEFAULT_INPUT_LIMITS);
      useNativeArrowTally(false);
      let off: ReturnType<typeof tallyArrow>;
      try {
        off = tallyArrow(bytes, DEFAULT_INPUT_LIMITS);
        agrees(bytes);
      } finally {
        useNativeArrowTally(true);
      }
      assert.deepEqual(on, off);
    }),
    { numRuns: 200 },
  );
});

test('the addon\'s actor dictionary check is true exactly when actorChecks refuses nothing (property)', { skip: native === null && allowJs }, () => {
  assert.ok(native !== null, 'the native addon is not built or does not load');
  // Bytes around every boundary the checks draw: controls, 0xC2 then C1 or not, continuation bytes.
  const byte = fc.constantFrom(0x00, 0x1f, 0x20, 0x41, 0x61, 0x62, 0x7f, 0x80, 0x9f, 0xa0, 0xbf, 0xc2, 0xc3, 0xe2, 0xff);
  const pair = fc.constantFrom([0xc2, 0x7f], [0xc2, 0x80], [0xc2, 0x9f], [0xc2, 0xa0], [0xc3, 0x80], [0xc2]);
  const entry = fc.array(fc.oneof(byte.map((b) => [b]), pair, fc.constant([0x61])), { maxLength: 3 }).map((xs) => xs.flat());
  const dict = fc
    .tuple(fc.nat({ max: 3 }), fc.array(fc.oneof(entry, fc.constant([0x61, 0x62]), fc.constant(new Array<number>(257).fill(0x61)), fc.constant(new Array<number>(256).fill(0x62))), { maxLength: 8 }), fc.array(byte, { maxLength: 3 }))
    .map(([lead, entries, tail]) => {
      const offsets = new Int32Array(entries.length + 1);
      const bytes: number[] = new Array<number>(lead).fill(0x61);
      offsets[0] = lead;
      entries.forEach((e, i) => {
        bytes.push(...e);
        offsets[i + 1] = bytes.length;
      });
      bytes.push(...tail);
      return { data: Uint8Array.from(bytes), offsets, n: entries.length };
    });
  const sorted = fc.uniqueArray(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }), { maxLength: 8 }).map((ids) => {
    const t = encodeEach(ids.map((s) => new TextEncoder().encode(s)).sort((a, b) => Buffer.compare(a, b)).map((b) => new TextDecoder().decode(b)));
    return { data: t.bytes, offsets: Int32Array.from(t.offsets), n: ids.length };
  });
  fc.assert(
    fc.property(fc.oneof(dict, sorted), ({ data, offsets, n }) => {
      let refused = false;
      try {
        actorChecks(data, offsets, n);
      } catch (e) {
        assert.ok(e instanceof ArrowFail);
        refused = true;
      }
      assert.equal(native.arrowActorsPlain(data, offsets, n), !refused);
    }),
    { numRuns: 5000, seed: 18 },
  );
  assert.equal(native.arrowActorsPlain(new Uint8Array(0), new Int32Array(1), 0), true);
  assert.equal(native.arrowActorsPlain(Uint8Array.of(0x61), Int32Array.of(0, 2), 1), false, 'offsets past the data');
  assert.equal(native.arrowActorsPlain(Uint8Array.of(0x61, 0x62), Int32Array.of(1, 0, 2), 2), false, 'decreasing offsets');
  assert.throws(() => native.arrowActorsPlain(Uint8Array.of(0x61), Int32Array.of(0, 1), 2), RangeError);
});

test('tallyArrow and the strict reader without the addon\'s actor check refuse and accept as with it', () => {
  const good = arrowWrite(jsonInputs(readFileSync('vectors/example/inputs.json', 'utf8')), { batchRows: 3 });
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (edits) => {
      const b = good.slice();
      for (const [at, v] of edits) b[at] = v;
      const on = [tallyArrow(b, DEFAULT_INPUT_LIMITS), decodeArrowInputs(b, DEFAULT_INPUT_LIMITS)];
      useNativeActorChecks(false);
      try {
        assert.deepEqual([tallyArrow(b, DEFAULT_INPUT_LIMITS), decodeArrowInputs(b, DEFAULT_INPUT_LIMITS)], on);
      } finally {
        useNativeActorChecks(true);
      }
    }),
    { numRuns: 1500 },
  );
});

test('quoteEach with the addon writes what its TypeScript loops write (property)', () => {
  const quoted = (t: { bytes: Uint8Array; offsets: Uint32Array }, on: boolean) => {
    useNativeQuote(on);
    try {
      const q = quoteEach(t);
      return { bytes: [...q.bytes], offsets: [...q.offsets] };
    } finally {
      useNativeQuote(true);
    }
  };
  const all = Array.from({ length: 128 }, (_, i) => String.fromCharCode(i));
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.string({ unit: 'grapheme' }), fc.string({ unit: fc.constantFrom(...all, 'é', '😀'), maxLength: 40 }), fc.string({ unit: fc.constantFrom('a', 'b', 'é', '"', '\\\\', '\\u001f'), maxLength: 40 })), { maxLength: 12 }), (xs) => {
      const t = encodeEach(xs);
      assert.deepEqual(quoted(t, true), quoted(t, false));
    }),
    { numRuns: 3000, seed: 18 },
  );
  if (native !== null) {
    const src = Uint8Array.of(0x61, 0x22, 0x01);
    const from = Uint32Array.of(0, 1, 3);
    assert.equal(native.quotedLength(src), 3 + 1 + 5);
    const bytes = new Uint8Array(9 + 4);
    const offsets = new Uint32Array(3);
    assert.equal(native.quoteInto(src, from, bytes, offsets), true);
    assert.equal(new TextDecoder().decode(bytes), '"a""\\"\\u0001"');
    assert.deepEqual([...offsets], [0, 3, 13]);
    assert.equal(native.quoteInto(src, from, new Uint8Array(12), new Uint32Array(3)), false, 'bytes too short');
    assert.equal(native.quoteInto(src, Uint32Array.of(0, 4), new Uint8Array(20), new Uint32Array(2)), false, 'from past src');
    assert.equal(native.quoteInto(src, Uint32Array.of(2, 1), new Uint8Array(20), new Uint32Array(2)), false, 'from decreasing');
    assert.equal(native.quoteInto(src, from, new Uint8Array(20), new Uint32Array(2)), false, 'offsets too short');
  }
});

test('rebased: the actor ids from the dictionary\'s first entry on, whether its data starts at 0 or not', () => {
  const data = new TextEncoder().encode('xxabcde');
  for (const [offsets, bytes, rel] of [
    [Int32Array.of(2, 3, 5, 7), 'abcde', [0, 1, 3, 5]],
    [Int32Array.of(0, 2, 3, 7, 7), 'xxabcde', [0, 2, 3, 7, 7]],
    [Int32Array.of(0, 2, 4), 'xxab', [0, 2, 4]],
  ] as const) {
    const n = offsets.length - 1;
    const t = rebased({ offsets, data }, n, (k) => new SharedArrayBuffer(k));
    assert.equal(new TextDecoder().decode(t.bytes), bytes);
    assert.ok(t.offsets instanceof Uint32Array);
    assert.deepEqual([...t.offsets], rel);
  }
});

test('the addon\'s dictionary offsets check: non-negative start, never decreasing, within the data (property)', { skip: native === null && allowJs }, () => {
  assert.ok(native !== null, 'the native addon is not built or does not load');
  const offs = fc.array(fc.integer({ min: -2, max: 12 }), { minLength: 1, maxLength: 40 }).chain((xs) => fc.tuple(fc.constant(xs), fc.nat({ max: xs.length - 1 }), fc.nat({ max: 14 })));
  const sorted = fc.array(fc.nat({ max: 3 }), { maxLength: 40 }).map((steps) => {
    const xs = [0];
    for (const d of steps) xs.push((xs[xs.length - 1] as number) + d);
    return [xs, steps.length, xs[xs.length - 1] as number] as const;
  });
  fc.assert(
    fc.property(fc.oneof(offs, sorted), ([xs, n, limit]) => {
      const o = Int32Array.from(xs);
      let plain = (o[0] as number) >= 0 && (o[n] as number) <= limit;
      for (let i = 1; i <= n; i++) if ((o[i] as number) < (o[i - 1] as number)) plain = false;
      assert.equal(native.arrowOffsetsPlain(o, n, limit), plain);
    }),
    { numRuns: 3000, seed: 18 },
  );
  assert.throws(() => native.arrowOffsetsPlain(Int32Array.of(0), 1, 5), RangeError);
});

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
import { encodeEach, quoteEach } from '../utf8.js';
import { decodeArrowInputs } from './read.js';
import { tallyArrow } from './tally.js';
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

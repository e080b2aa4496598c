// The addon's reader of columnar integer arrays (native/rewarder_native.c, uintArray) against the
// TypeScript loop in cursor.ts: the addon takes only plain arrays and returns null for anything
// else, so decoding with it and without it must give the same columns, or the same error, for any
// document. `npm ci` must have built the addon (REWARDER_ALLOW_NO_NATIVE=1 skips the direct checks
// on a machine without a C toolchain, as merkle-native.test.ts does).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type InputLimits, decodeInputs } from '../inputs.js';
import { nativeAddon } from '../native.js';
import { useNativeArrays } from './cursor.js';

const enc = (s: string) => new TextEncoder().encode(s);
const native = nativeAddon();
const allowJs = process.env.REWARDER_ALLOW_NO_NATIVE === '1';

function both(doc: Uint8Array, limits?: InputLimits): { on: unknown; off: unknown } {
  useNativeArrays(true);
  const on = decodeInputs(doc, limits);
  useNativeArrays(false);
  try {
    return { on, off: decodeInputs(doc, limits) };
  } finally {
    useNativeArrays(true);
  }
}

/** Decoded columns as plain arrays (deepEqual on typed arrays compares their types and buffers too). */
function plain(r: unknown): unknown {
  const v = r as { ok: boolean; value?: { events: Record<string, unknown> } };
  if (!v.ok || v.value === undefined) return r;
  const ev = v.value.events as { count: number; actor: Float64Array; kind: Float64Array; qty: Float64Array; ts: Float64Array };
  return { ...v.value, events: { count: ev.count, actor: [...ev.actor], kind: [...ev.kind], qty: [...ev.qty], ts: [...ev.ts] } };
}

/** Columnar events of n elements with `arr` as the column `col` (the others plain and valid). */
const docWith = (arr: string, n: number, col: 'actor' | 'kind' | 'qty' = 'qty') => {
  const cols = { actor: `[${Array(n).fill(1).join(',')}]`, kind: `[${Array(n).fill(0).join(',')}]`, qty: `[${Array(n).fill(3).join(',')}]`, [col]: arr };
  return (
    `{"schema":"rewarder.inputs/v1","window":{"start_ms":0,"end_ms":10},"pool_minor":"10","kinds":["a","b"],"actors":["x","y","z"],` +
    `"events":{"actor":${cols.actor},"kind":${cols.kind},"qty":${cols.qty},"ts":[${Array(n).fill(5).join(',')}]}}`
  );
};

test('the addon reads plain arrays and declines every other form', { skip: native === null && allowJs }, () => {
  assert.ok(native !== null, 'the native addon is not built or does not load');
  const end = new Float64Array(2);
  const read = (s: string, pos = 0, max = 100) => native.uintArray(enc(s), pos, max, end);
  assert.deepEqual([...(read(' \n[ 0 ,\t1,23 ,999999999999999 ]x') as Float64Array)], [0, 1, 23, 999999999999999]);
  assert.equal(end[0], 31);
  assert.equal(end[1], 999999999999999);
  assert.deepEqual([...(read('[]') as Float64Array)], []);
  assert.deepEqual([...end], [2, 0]);
  assert.deepEqual([...(read('xx[7]', 2) as Float64Array)], [7]);
  assert.deepEqual([...end], [5, 7]);
  for (const s of ['[1,2', '[01]', '[1,]', '[1.5]', '[1e3]', '[-1]', '[1 2]', '[1234567890123456]', '[', '', '{}', '[1,2,3]']) {
    assert.equal(read(s, 0, s === '[1,2,3]' ? 2 : 100), null, s);
  }
  assert.deepEqual([...(read('[1,2,3]', 0, 3) as Float64Array)], [1, 2, 3]);
  assert.throws(() => native.uintArray(enc('[1]'), 5, 10, end), RangeError);
  assert.throws(() => native.uintArray(enc('[1]'), 0, 10, new Float64Array(1)), RangeError);
  assert.throws(() => native.uintArray('[1]' as unknown as Uint8Array, 0, 10, end), TypeError);
});

test('decoding with and without the addon: the same columns or the same error', () => {
  const token = fc.oneof(
    fc.integer({ min: 0, max: 9 }).map(String),
    fc.integer({ min: 0, max: 3 }).map(String),
    fc.constantFrom('0', '007', '9007199254740991', '9007199254740992', '1234567890123456', '999999999999999', '2.5', '1e3', '-4', '', ' ', '\n\t', 'x', ']', '[', ','),
    fc.bigInt({ min: 0n, max: 10n ** 17n }).map(String),
  );
  const ws = fc.constantFrom('', ' ', '\n', '\t ', '\r\n');
  const arr = fc.tuple(fc.array(fc.tuple(ws, token, ws), { maxLength: 8 }), ws, fc.boolean()).map(([items, w, close]) => `[${w}${items.map(([a, t, b]) => a + t + b).join(',')}${close ? ']' : ''}`);
  fc.assert(
    fc.property(arr, fc.integer({ min: 1, max: 9 }), fc.constantFrom('actor', 'kind', 'qty'), (text, maxEvents, col) => {
      const n = Math.max(0, text.split(',').length);
      const doc = enc(docWith(text, n, col as 'actor' | 'kind' | 'qty'));
      const { on, off } = both(doc, { maxBytes: 1 << 20, maxActors: 10, maxEvents });
      assert.deepEqual(plain(on), plain(off));
    }),
    { numRuns: 2000, seed: 16 },
  );
});

test('the generator-shaped document decodes the same with and without the addon', () => {
  const qty = `[${Array.from({ length: 3000 }, (_, i) => (i * 7919) % 100003).join(',')}]`;
  const { on, off } = both(enc(docWith(qty, 3000)));
  assert.ok((on as { ok: boolean }).ok);
  assert.deepEqual(plain(on), plain(off));
});

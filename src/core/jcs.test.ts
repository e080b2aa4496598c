// node:test schedules every test() itself; the promise it returns needs no handling.
 
import assert from 'node:assert/strict';
// Tests may read fixtures; the no-IO rule is for the src/core modules themselves.
 
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { MAX_DEPTH, canonicalBytes, canonicalize } from './jcs.js';

test('sorts members by UTF-16 code units, as in the RFC 8785 sorting example', () => {
  const input = {
    '\u20ac': 'Euro Sign',
    '\r': 'Carriage Return',
    '\ufb33': 'Hebrew Letter Dalet With Dagesh',
    '1': 'One',
    '\ud83d\ude00': 'Emoji: Grinning Face',
    '\u0080': 'Control',
    '\u00f6': 'Latin Small Letter O With Diaeresis',
  };
  assert.equal(
    canonicalize(input),
    '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
      '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
  );
});

test('reproduces the RFC 8785 §3.2.2 example from its JSON text', () => {
  const text = String.raw`{
    "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
    "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
    "literals": [null, true, false]
  }`;
  assert.equal(
    canonicalize(JSON.parse(text)),
    String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`,
  );
});

test('escapes control characters as lower-case \\u00XX except the five short escapes', () => {
  const short: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' };
  for (let c = 0; c < 0x20; c++) {
    const expected = short[c] ?? '\\u00' + c.toString(16).padStart(2, '0');
    assert.equal(canonicalize(String.fromCharCode(c)), `"${expected}"`, `U+${c.toString(16)}`);
  }
  assert.equal(canonicalize('"\\'), String.raw`"\"\\"`);
  // Everything else is written literally, including DEL, U+2028 and non-BMP characters.
  assert.equal(canonicalize('\u007f\u2028/ö😀'), '"\u007f\u2028/ö😀"');
});

test('writes numbers as ECMAScript Number::toString does', () => {
  const cases: [number, string][] = [
    [1e21, '1e+21'],
    [-0, '0'],
    [0.000001, '0.000001'],
    [1e-7, '1e-7'],
    [123456789012345680000, '123456789012345680000'],
    [-1.5, '-1.5'],
  ];
  for (const [n, s] of cases) assert.equal(canonicalize(n), s, s);
});

test('matches the RFC 8785 Appendix B number vectors', () => {
  const vectors: [string, string][] = [
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ];
  for (const [bits, s] of vectors) {
    const n = new DataView(Uint8Array.from(Buffer.from(bits, 'hex')).buffer).getFloat64(0);
    assert.equal(canonicalize(n), s, bits);
  }
});

test('writes arrays in order, literals, nested objects and null-prototype objects', () => {
  const bare = Object.create(null) as Record<string, unknown>;
  bare.b = [3, 1, 2];
  bare.a = { z: null, y: true, x: false };
  assert.equal(canonicalize(bare), '{"a":{"x":false,"y":true,"z":null},"b":[3,1,2]}');
  assert.equal(canonicalize([]), '[]');
  assert.equal(canonicalize({}), '{}');
  assert.equal(canonicalize(JSON.parse('{"__proto__":1}')), '{"__proto__":1}');
});

test('refuses values that have no JSON meaning instead of dropping them', () => {
  class Point {
    x = 1;
  }
  const hostile: unknown[] = [
    NaN,
    Infinity,
    -Infinity,
    10n,
    undefined,
    () => 1,
    Symbol('s'),
    { a: undefined },
    [1, undefined],
    [1, , 3], // eslint-disable-line no-sparse-arrays
    { n: NaN },
    new Date(0),  
    new Map(),
    new Point(),
    new Uint8Array(2),
    { [Symbol('k')]: 1 },
  ];
  for (const v of hostile) assert.throws(() => canonicalize(v), TypeError, String(v));
});

test('refuses lone surrogates in values and in member names', () => {
  assert.throws(() => canonicalize('\ud800'), TypeError);
  assert.throws(() => canonicalize('a\udc00b'), TypeError);
  assert.throws(() => canonicalize({ '\ude00': 1 }), TypeError);
  assert.equal(canonicalize('\ud83d\ude00'), '"😀"');
});

test(`accepts ${MAX_DEPTH} levels of nesting and refuses one more, and refuses cycles`, () => {
  const nest = (depth: number): unknown => {
    let v: unknown = 0;
    for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { k: v };
    return v;
  };
  assert.doesNotThrow(() => canonicalize(nest(MAX_DEPTH)));
  assert.throws(() => canonicalize(nest(MAX_DEPTH + 1)), RangeError);
  assert.throws(() => canonicalize(nest(100_000)), RangeError);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => canonicalize(cyclic), RangeError);
});

test('canonicalBytes is the UTF-8 encoding of the canonical text', () => {
  const value = { b: 'ö€😀', a: [1.5, 'x'] };
  assert.deepEqual(canonicalBytes(value), new TextEncoder().encode('{"a":[1.5,"x"],"b":"ö€😀"}'));
});

test('the SPEC §9 example manifest is already canonical', () => {
  // vectors/example holds the repository's copy of shared/examples (resolved from dist/src/core).
  const text = readFileSync(new URL('../../../vectors/example/manifest-2026-01-01.json', import.meta.url), 'utf8');
  assert.equal(canonicalize(JSON.parse(text)), text);
});

test('canonical text parses back to the same value and is a fixed point', () => {
  fc.assert(
    fc.property(fc.jsonValue({ stringUnit: 'grapheme' }), (value) => {
      const text = canonicalize(value);
      assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(value)));
      assert.equal(canonicalize(JSON.parse(text)), text);
    }),
    { numRuns: 300 },
  );
});

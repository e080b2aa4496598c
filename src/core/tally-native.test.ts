// The addon's tally (native/rewarder_native.c, tallyColumns) against calculus.ts's TypeScript
// loop: the same cells (bit for bit), the same ignored count and the same choice between the
// Number and the BigInt tally, for generated inputs of every shape the property tests use, big
// quantities included (where the Number total passes 2^53 and the BigInt path takes over).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { caseArb, inputsDoc } from '../../testing/arbitraries.js';
import { type Tally, tally, useNativeTally } from './calculus.js';
import { decodeInputs } from './inputs.js';
import { nativeAddon } from './native.js';

const native = nativeAddon();
const allowJs = process.env.REWARDER_ALLOW_NO_NATIVE === '1';

function bothTallies(doc: string): { on: Tally; off: Tally } {
  const inputs = decodeInputs(new TextEncoder().encode(doc));
  assert.ok(inputs.ok);
  useNativeTally(false);
  let off: Tally;
  try {
    off = tally(inputs.value);
  } finally {
    useNativeTally(true);
  }
  return { on: tally(inputs.value), off };
}

const plain = (t: Tally) => ({ ...t, q: t.q instanceof Float64Array ? [...t.q] : t.q });

test('the native tally equals the TypeScript tally', () => {
  for (const opts of [{}, { big: true }, { token: true }]) {
    fc.assert(
      fc.property(caseArb(opts), (c) => {
        const { on, off } = bothTallies(inputsDoc(c, 'columnar'));
        assert.deepEqual(plain(on), plain(off));
      }),
      { numRuns: 300, seed: 16 },
    );
  }
});

test('the addon sums in order, stops on a cell outside q and checks its arguments', { skip: native === null && allowJs }, () => {
  assert.ok(native !== null, 'the native addon is not built or does not load');
  const f = (xs: number[]) => new Float64Array(xs);
  const q = new Float64Array(4);
  const out = new Float64Array(2);
  // ts 5 is outside [10, 20): ignored. Past 2^53 each addition rounds as V8's does, in order.
  assert.equal(native.tallyColumns(f([0, 1, 1, 1]), f([1, 0, 0, 1]), f([3, 2 ** 53, 1, 1]), f([10, 19, 19, 5]), 4, 10, 20, 2, q, out), true);
  assert.deepEqual([...q], [0, 3, 2 ** 53 + 1, 0]);
  assert.deepEqual([...out], [1, 3 + 2 ** 53 + 1]);
  assert.equal(out[1], 2 ** 53 + 4);
  assert.equal(native.tallyColumns(f([2]), f([0]), f([1]), f([10]), 1, 10, 20, 2, new Float64Array(4), out), false);
  assert.throws(() => native.tallyColumns(f([0]), f([0]), f([1]), f([10]), 2, 10, 20, 2, q, out), RangeError);
  assert.throws(() => native.tallyColumns(f([0]), f([0]), f([1]), new Uint8Array(1) as unknown as Float64Array, 1, 10, 20, 2, q, out), TypeError);
});

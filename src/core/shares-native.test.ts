// The addon's column path (native/share_kernel.c) against the TypeScript it replaces, which is
// the reference: ShareKernel.share limb for limb and remainder for remainder, the largest_remainder
// +1s against a literal sort, and whole calculations (scores, shares, +1s, ceiling, floor, the
// invariant check) with the addon on and off, for generated runs of every shape the property
// tests use (token-sized pools and totals included).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type CaseData, caseArb, inputsDoc, policyDoc } from '../../testing/arbitraries.js';
import { type Calculation, calculate, tally } from './calculus.js';
import { decodeInputs } from './inputs.js';
import { nativeAddon } from './native.js';
import { decodePolicy } from './policy.js';
import { useNativeShares } from './shares.js';
import { KERNEL_T_LIMIT, LIMBS, ShareKernel, addColumns, fromDecimalLimbs } from './wide.js';

const native = nativeAddon();
const skip = native === null && process.env.REWARDER_ALLOW_NO_NATIVE === '1';
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MONEY_MAX = (1n << 128n) - 1n;
const enc = (s: string) => new TextEncoder().encode(s);

/** Uniform values besides ones near the powers of two that bound the limbs. */
const edgy = (max: bigint) =>
  fc
    .oneof(fc.bigInt({ min: 0n, max }), fc.integer({ min: 0, max: 128 }).chain((b) => fc.bigInt({ min: -3n, max: 3n }).map((d) => (1n << BigInt(b)) + d)))
    .map((v) => (v < 0n ? 0n : v > max ? max : v));

/** A pool (0 to 10^30, or any money value), T (1 to 2^72 − 1) and scores ≤ min(T, 2^53 − 1). */
const kernelCase = fc
  .tuple(fc.oneof(edgy(10n ** 30n), edgy(MONEY_MAX)), edgy(KERNEL_T_LIMIT - 1n))
  .chain(([pool, t]) => {
    const total = t === 0n ? 1n : t;
    const cap = total < SAFE ? total : SAFE;
    const s = fc.oneof(fc.bigInt({ min: 0n, max: cap }), fc.constantFrom(0n, 1n, cap, cap - 1n > 0n ? cap - 1n : 0n));
    return fc.record({ pool: fc.constant(pool), total: fc.constant(total), scores: fc.array(s, { minLength: 1, maxLength: 40 }) });
  });

function tsShares(k: ShareKernel, score: Float64Array) {
  const n = score.length;
  const out = { amount: new Float64Array(n * LIMBS), remHi: new Float64Array(n), remLo: new Float64Array(n), bases: new Float64Array(LIMBS) };
  for (let i = 0; i < n; i++) {
    k.share(score[i] as number, out.amount, i * LIMBS, out.remHi, out.remLo, i);
    addColumns(out.bases, out.amount, i * LIMBS);
  }
  return out;
}

test("the addon's shares are ShareKernel.share's, limb for limb, and exact", { skip }, () => {
  assert.ok(native !== null, 'the native addon is not built or does not load');
  fc.assert(
    fc.property(kernelCase, ({ pool, total, scores }) => {
      const k = ShareKernel.create(pool, total);
      assert.ok(k !== null);
      const score = Float64Array.from(scores, Number);
      const n = score.length;
      const want = tsShares(k, score);
      const got = { amount: new Float64Array(n * LIMBS), remHi: new Float64Array(n), remLo: new Float64Array(n), bases: new Float64Array(LIMBS) };
      native.shareColumns(k.params(), score, n, got.amount, got.remHi, got.remLo, got.bases);
      assert.deepEqual(got, want);
      // Without remainders (floor rounding) the amounts and their sums are the same.
      const floorOnly = { amount: new Float64Array(n * LIMBS), bases: new Float64Array(LIMBS) };
      native.shareColumns(k.params(), score, n, floorOnly.amount, null, null, floorOnly.bases);
      assert.deepEqual(floorOnly, { amount: want.amount, bases: want.bases });
      const i = n - 1;
      const s = scores[i] as bigint;
      assert.equal(fromDecimalLimbs(got.amount, i * LIMBS), (pool * s) / total);
      assert.equal(BigInt(got.remHi[i] as number) * (1n << 48n) + BigInt(got.remLo[i] as number), (pool * s) % total);
    }),
    { numRuns: 10_000, seed: 18 },
  );
});

/** The d positions with the largest remainders, ties to the lower position: a literal sort. */
function referencePlusOnes(rem: bigint[], d: number): number[] {
  const idx = rem.map((_, i) => i);
  idx.sort((x, y) => ((rem[y] as bigint) > (rem[x] as bigint) ? 1 : (rem[y] as bigint) < (rem[x] as bigint) ? -1 : x - y));
  return idx.slice(0, d).sort((x, y) => x - y);
}

test('largestRemainders gives the +1s to the largest remainders, ties to the lower position', { skip }, () => {
  assert.ok(native !== null, 'the native addon is not built or does not load');
  // Remainders from a few distinct values (ties across the cut are the rule) or spread over all
  // 72 bits, and amounts that carry when incremented.
  const remArb = fc.oneof(
    fc.array(fc.constantFrom(0n, 1n, 5n, (1n << 48n) - 1n, 1n << 48n, (1n << 72n) - 1n), { minLength: 1, maxLength: 60 }),
    fc.array(fc.bigInt({ min: 0n, max: (1n << 72n) - 1n }), { minLength: 1, maxLength: 60 }),
    fc.array(fc.bigInt({ min: 0n, max: 3000n }), { minLength: 1, maxLength: 600 }),
  );
  fc.assert(
    fc.property(remArb.chain((rem) => fc.tuple(fc.constant(rem), fc.integer({ min: 0, max: rem.length }), fc.constantFrom(0, 9_999_999))), ([rem, d, limb]) => {
      const n = rem.length;
      const remHi = Float64Array.from(rem, (r) => Number(r >> 48n));
      const remLo = Float64Array.from(rem, (r) => Number(r & ((1n << 48n) - 1n)));
      // Low limbs of 9 999 999 make the +1 carry into the fourth.
      const one = Float64Array.of(limb, limb, limb, 0, 0, 0);
      const amount = new Float64Array(n * LIMBS);
      for (let i = 0; i < n; i++) amount.set(one, i * LIMBS);
      native.largestRemainders(remHi, remLo, n, d, amount);
      const plus = new Set(referencePlusOnes(rem, d));
      const base = fromDecimalLimbs(one);
      for (let i = 0; i < n; i++) {
        assert.equal(fromDecimalLimbs(amount, i * LIMBS), base + (plus.has(i) ? 1n : 0n), `position ${i}`);
      }
    }),
    { numRuns: 3_000, seed: 18 },
  );
});

function calc(c: CaseData, nativeOn: boolean): Calculation | string {
  const inputs = decodeInputs(enc(inputsDoc(c, 'columnar')));
  const policy = decodePolicy(enc(policyDoc(c)));
  if (!inputs.ok || !policy.ok) return assert.fail('generated documents invalid');
  useNativeShares(nativeOn);
  try {
    const r = calculate(tally(inputs.value), policy.value);
    return r.ok ? r.value : JSON.stringify(r.error);
  } finally {
    useNativeShares(true);
  }
}

const plain = (x: Calculation | string) =>
  typeof x === 'string' ? x : { ...x, payees: x.payees.map((p) => ({ ...p })), columns: x.columns === undefined ? undefined : { ...x.columns, index: [...x.columns.index], amount: [...x.columns.amount], score: [...x.columns.score] } };

test('whole calculations are identical with and without the addon', { skip }, () => {
  const ties = caseArb({ maxActors: 30, maxEvents: 60 }).map((c) => ({
    ...c,
    events: c.events.map((e) => ({ ...e, qty: e.qty % 3 })),
    policy: { ...c.policy, rounding: 'largest_remainder' as const, kinds: Object.fromEntries(c.kinds.map((k) => [k, { weight: 1 }])) },
  }));
  let columns = 0;
  fc.assert(
    fc.property(fc.oneof(caseArb(), caseArb({ big: true }), caseArb({ token: true }), caseArb({ token: true, maxActors: 200, maxEvents: 400 }), ties), (c) => {
      const on = calc(c, true);
      const off = calc(c, false);
      if (typeof on !== 'string' && on.columns !== undefined) columns++;
      assert.deepEqual(plain(on), plain(off));
    }),
    { numRuns: 1_500, seed: 18 },
  );
  assert.ok(columns > 500, `only ${columns} runs took the column path`);
});

test('the addon checks its arguments', { skip }, () => {
  assert.ok(native !== null, 'the native addon is not built or does not load');
  const k = ShareKernel.create(10n, 7n) as ShareKernel;
  const f = (n: number) => new Float64Array(n);
  const six = f(LIMBS);
  // A score above T, a short column, a wrong type, parameters that are not a kernel's.
  assert.throws(() => native.shareColumns(k.params(), Float64Array.of(8), 1, f(6), f(1), f(1), six), RangeError);
  assert.throws(() => native.shareColumns(k.params(), Float64Array.of(0.5), 1, f(6), f(1), f(1), six), RangeError);
  assert.throws(() => native.shareColumns(k.params(), f(2), 2, f(6), f(2), f(2), six), RangeError);
  assert.throws(() => native.shareColumns(k.params(), f(1), 1, f(6), f(1), null, six), TypeError);
  assert.throws(() => native.shareColumns(k.params(), new Uint32Array(1) as unknown as Float64Array, 1, f(6), f(1), f(1), six), TypeError);
  const bad = k.params();
  bad[6] = 7; // B ≥ T
  assert.throws(() => native.shareColumns(bad, f(1), 1, f(6), f(1), f(1), six), RangeError);
  const huge = k.params();
  huge.fill(9_999_999, 0, LIMBS); // A = 10^42 − 1: A·T + B is no money value
  assert.throws(() => native.shareColumns(huge, f(1), 1, f(6), f(1), f(1), six), RangeError);
  // The largest P and T and s = T: floor(P·s/T) = P, 39 digits.
  const top = ShareKernel.create(MONEY_MAX, KERNEL_T_LIMIT - 1n) as ShareKernel;
  const amount = f(6);
  native.shareColumns(top.params(), Float64Array.of(Number.MAX_SAFE_INTEGER), 1, amount, null, null, f(6));
  assert.equal(fromDecimalLimbs(amount), (MONEY_MAX * SAFE) / (KERNEL_T_LIMIT - 1n));
  assert.throws(() => native.largestRemainders(f(2), f(2), 2, 3, f(12)), RangeError);
  assert.throws(() => native.largestRemainders(Float64Array.of(2 ** 24), f(1), 1, 1, f(6)), RangeError);
  assert.throws(() => native.payeeColumns(f(6), 1, null, six, new Uint32Array(0), f(1), f(18), f(1)), RangeError);
  assert.throws(() => native.limbsCheck(f(6), 2, null, six), RangeError);
  assert.throws(() => native.scoreColumns(f(1), 2, f(2), f(2), f(2), new Uint8Array(1), new Uint32Array(1), f(1), f(2)), RangeError);
  // Terms past 2^53 − 1 hand the scores back to the TypeScript.
  assert.equal(native.scoreColumns(Float64Array.of(2 ** 40), 1, Float64Array.of(2 ** 20), Float64Array.of(1), Float64Array.of(Infinity), new Uint8Array(1), new Uint32Array(1), f(1), f(2)), -1);
});

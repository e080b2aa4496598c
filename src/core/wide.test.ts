// The exact kernel of the column path against plain BigInt arithmetic, on random and edge values
// of every size the calculus admits (P < 2^128, T < 2^72, safe scores s ≤ T).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  KERNEL_T_LIMIT,
  LIMBS,
  ShareKernel,
  fromDecimalLimbs,
  incrementLimbs,
  limbDigits,
  safeDigits,
  toDecimalLimbs,
  writeLimbDigits,
  writeSafeDigits,
} from './wide.js';

const MONEY_MAX = (1n << 128n) - 1n;
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function check(pool: bigint, total: bigint, s: bigint, skew = 1): void {
  const k = ShareKernel.create(pool, total);
  assert.ok(k !== null);
  // A skewed estimate of B/T exercises the corrections in both directions (an exact one rarely
  // needs them). Like the real one it stays ≤ 1 (fl(B) ≤ fl(T)), so the estimate never passes s.
  const est = k as unknown as { f: number };
  if (skew !== 1) est.f = Math.min(1, est.f * skew);
  const amount = new Float64Array(LIMBS);
  const hi = new Float64Array(1);
  const lo = new Float64Array(1);
  k.share(Number(s), amount, 0, hi, lo, 0);
  const want = (pool * s) / total;
  assert.equal(fromDecimalLimbs(amount), want, `floor(${pool}·${s}/${total})`);
  assert.equal(BigInt(hi[0] as number) * (1n << 48n) + BigInt(lo[0] as number), (pool * s) % total, `(${pool}·${s}) mod ${total}`);
  for (let j = 0; j < LIMBS; j++) assert.ok((amount[j] as number) < 1e7 && Number.isInteger(amount[j]));
}

/** Values near the powers of two that bound the limbs, besides uniform ones. */
const edgy = (max: bigint) =>
  fc.oneof(
    fc.bigInt({ min: 0n, max }),
    fc.integer({ min: 0, max: 127 }).chain((b) => fc.bigInt({ min: -3n, max: 3n }).map((d) => (1n << BigInt(b)) + d)),
  ).map((v) => (v < 0n ? 0n : v > max ? max : v));

test('P·s ÷ T and its remainder are exact for every P < 2^128, T < 2^72 and safe s ≤ T', () => {
  fc.assert(
    fc.property(edgy(MONEY_MAX), edgy(KERNEL_T_LIMIT - 1n), fc.bigInt({ min: 0n, max: SAFE }), (pool, t, s0) => {
      const total = t === 0n ? 1n : t;
      const cap = total < SAFE ? total : SAFE;
      check(pool, total, s0 % (cap + 1n));
    }),
    { numRuns: 20_000 },
  );
});

test('remainders just below T (where the floating estimate is most often one short) are exact', () => {
  // P = k·T + (T − 1 − δ) and s near min(T, 2^53): B·s/T sits just below an integer.
  fc.assert(
    fc.property(fc.bigInt({ min: 1n << 20n, max: KERNEL_T_LIMIT - 1n }), fc.bigInt({ min: 0n, max: 1n << 50n }), fc.bigInt({ min: 0n, max: 300n }), fc.bigInt({ min: 0n, max: 200n }), (total, k, delta, e) => {
      const pool = k * total + total - 1n - (delta % total);
      const cap = total < SAFE ? total : SAFE;
      check(pool, total, cap - (e % cap));
    }),
    { numRuns: 20_000 },
  );
});

test('the correction turns any estimate a few units off into the exact quotient and remainder', () => {
  fc.assert(
    fc.property(edgy(MONEY_MAX), edgy(KERNEL_T_LIMIT - 1n), fc.bigInt({ min: 0n, max: SAFE }), fc.constantFrom(1 + 1e-14, 1 - 1e-14, 1 + 4e-15, 1 - 4e-15), (pool, t, s0, skew) => {
      const total = t === 0n ? 1n : t;
      const cap = total < SAFE ? total : SAFE;
      check(pool, total, s0 % (cap + 1n), skew);
    }),
    { numRuns: 5_000 },
  );
});

test('token-sized runs: P ~10^22, T just above 2^53, scores ~10^12, and the extremes', () => {
  fc.assert(
    fc.property(
      fc.bigInt({ min: 10n ** 21n, max: 10n ** 24n }),
      fc.bigInt({ min: SAFE - 1000n, max: 10n ** 17n }),
      fc.bigInt({ min: 0n, max: 10n ** 13n }),
      (pool, total, s) => check(pool, total, s),
    ),
    { numRuns: 20_000 },
  );
  for (const [pool, total, s] of [
    [MONEY_MAX, 1n, 1n],
    [MONEY_MAX, KERNEL_T_LIMIT - 1n, SAFE],
    [MONEY_MAX, SAFE, SAFE],
    [0n, 5n, 5n],
    [1n, KERNEL_T_LIMIT - 1n, SAFE],
    [MONEY_MAX, SAFE + 1n, SAFE],
    [10n ** 22n, 3n, 2n],
  ] as const) {
    check(pool, total, s);
  }
  assert.equal(ShareKernel.create(1n, KERNEL_T_LIMIT), null, 'T of 2^72 is outside the kernel');
  assert.equal(ShareKernel.create(1n, 0n), null);
});

test('decimal limbs write the same digits as BigInt.toString, and +1 carries', () => {
  fc.assert(
    fc.property(edgy(MONEY_MAX), (v) => {
      const limbs = toDecimalLimbs(v);
      const out = new Uint8Array(64);
      const end = writeLimbDigits(out, 3, limbs, 0);
      assert.equal(Buffer.from(out.subarray(3, end)).toString(), v.toString());
      assert.equal(limbDigits(limbs, 0), v.toString().length);
      incrementLimbs(limbs, 0);
      assert.equal(fromDecimalLimbs(limbs), v + 1n);
    }),
    { numRuns: 5_000 },
  );
  fc.assert(
    fc.property(fc.oneof(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 0, max: 20_000_000 })), (v) => {
      const out = new Uint8Array(20);
      const end = writeSafeDigits(out, 1, v);
      assert.equal(Buffer.from(out.subarray(1, end)).toString(), String(v));
      assert.equal(safeDigits(v), String(v).length);
    }),
    { numRuns: 5_000 },
  );
  const limbs = toDecimalLimbs(10n ** 21n - 1n);
  incrementLimbs(limbs, 0);
  assert.equal(fromDecimalLimbs(limbs), 10n ** 21n);
});

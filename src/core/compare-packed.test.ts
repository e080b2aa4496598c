// The packed comparison answers what compare() answers from the two parsed manifests, to the
// byte: on random pairs of runs (same inputs under two policies, and two different inputs), for
// several `top`, and its distribution equals compare.ts's on amounts whose sums pass 2^53. It
// declines (null) exactly when an amount is above 2^53−1, so the caller falls back to compare().
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type CaseData, caseArb, inputsDoc, policyDoc } from '../../testing/arbitraries.js';
import { type ComparedManifest, compare, comparedManifest, distribution } from './compare.js';
import { type CompareBasis, basisManifest, candidatePayees, compareBasis, comparePacked, exactSum, rankWeightedSum, safeDistribution } from './compare-packed.js';
import type { Calculation } from './calculus.js';
import { b3 } from './hash.js';
import { canonicalize } from './jcs.js';
import { decodeInputs } from './inputs.js';
import { decodePolicy } from './policy.js';
import { computeRun } from './run.js';
import { encodeEach } from './utf8.js';

const enc = (s: string) => new TextEncoder().encode(s);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

interface Ran {
  manifest: ComparedManifest;
  calc: Calculation;
  actors: string[];
}

/** A run of `inputsOf`'s inputs under `policyOf`'s policy, as a parsed manifest and its calculation. */
function run(inputsOf: CaseData, policyOf: CaseData, epochId: string, opts: { forceBigInt?: boolean } = {}): Ran {
  const inputs = decodeInputs(enc(inputsDoc(inputsOf, 'columnar')));
  const policy = decodePolicy(enc(policyDoc(policyOf)));
  if (!inputs.ok || !policy.ok) assert.fail('generated documents do not decode');
  // The inputs' own CID: the packed merge compares actor positions only over the same inputs.
  const bytes = enc(inputsDoc(inputsOf, 'columnar'));
  const r = computeRun({ epochId, inputs: inputs.value, inputsCid: b3(bytes), policy: policy.value, policyHash: `b3:${'2'.repeat(64)}` }, opts);
  if (!r.ok) assert.fail(`run failed: ${r.error.kind}`);
  const m = comparedManifest(JSON.parse(Buffer.from(r.value.manifest.bytes).toString()));
  if (typeof m === 'string') assert.fail(m);
  return { manifest: m, calc: r.value.calculation, actors: inputs.value.actors };
}

const safe = (m: ComparedManifest) => m.payouts.every((p) => p.amount <= MAX_SAFE);

/** Asserts the packed answer is compare()'s bytes, or that the packed path declined for a reason. */
function assertSameAnswer(a: Ran, b: Ran, top: number): void {
  const expected = canonicalize(compare(a.manifest, b.manifest, top));
  const basis = compareBasis(a.manifest);
  assert.equal(basis === null, !safe(a.manifest));
  // Built with its inputs' actor ids at hand, the basis merges by actor position over the same inputs.
  const positioned = compareBasis(a.manifest, undefined, encodeEach(a.actors));
  assert.equal(positioned === null, basis === null);
  if (positioned !== null) assert.notEqual(positioned.actorIndex, null);
  const packed = candidatePayees(b.calc, encodeEach(b.actors));
  assert.equal(packed === null, !safe(b.manifest));
  if (basis === null) return;
  // The fallback the worker takes for an unsafe candidate reads the basis back unchanged.
  assert.equal(canonicalize(compare(basisManifest(basis), b.manifest, top)), expected);
  if (packed === null) return;
  const { payouts: _, ...head } = b.manifest;
  assert.equal(canonicalize(comparePacked(basis, head, packed, top)), expected);
  assert.equal(canonicalize(comparePacked(positioned as CompareBasis, head, packed, top)), expected);
}

test('the packed comparison is compare() to the byte for two policies over the same inputs', () => {
  fc.assert(
    fc.property(caseArb(), caseArb(), fc.constantFrom(0, 1, 3, 10, 1000), fc.boolean(), (c, other, top, bigint) => {
      const a = run(c, c, 'e1');
      const b = run(c, other, 'e1', { forceBigInt: bigint });
      assertSameAnswer(a, b, top);
      assertSameAnswer(b, a, top);
      assertSameAnswer(a, a, top);
    }),
    { numRuns: 300 },
  );
});

test('the packed comparison is compare() to the byte across different inputs (payees added and removed)', () => {
  fc.assert(
    fc.property(caseArb({ maxActors: 30 }), caseArb({ maxActors: 30 }), fc.constantFrom(0, 2, 10), (c, d, top) => {
      assertSameAnswer(run(c, c, 'e1'), run(d, d, 'e2'), top);
    }),
    { numRuns: 200 },
  );
});

test('token-sized amounts take the packed path while safe and decline past 2^53−1', () => {
  let packed = 0;
  let declined = 0;
  fc.assert(
    fc.property(caseArb({ token: true }), caseArb({ token: true }), (c, other) => {
      const a = run(c, c, 'e1');
      const b = run(c, other, 'e1');
      assertSameAnswer(a, b, 10);
      if (compareBasis(a.manifest) !== null && candidatePayees(b.calc, encodeEach(b.actors)) !== null) packed++;
      else declined++;
    }),
    { numRuns: 200 },
  );
  // Both branches were exercised (the arbitraries draw pools up to 2^128 and down to 0).
  assert.ok(packed > 0 && declined > 0, `packed ${packed}, declined ${declined}`);
});

test('a basis declines payees out of UTF-8 order, which compare() sorts itself', () => {
  const m: ComparedManifest = {
    epoch_id: 'e',
    commitment: 'c',
    inputs_cid: 'i',
    policy_hash: 'p',
    totals: { pool_input_minor: 3n, pool_minor: 3n, payout_minor: 3n, residual_minor: 0n, capped_minor: 0n, below_min_minor: 0n, rounding_dust_minor: 0n },
    payouts: [
      { actor: 'b', amount: 1n },
      { actor: 'a', amount: 2n },
    ],
  };
  assert.equal(compareBasis(m), null);
  assert.notEqual(compareBasis({ ...m, payouts: [...m.payouts].reverse() }), null);
});

test('the distribution of safe amounts is compare.ts distribution(), sums past 2^53 included', () => {
  const amount = fc.oneof(
    fc.integer({ min: 0, max: 20 }),
    fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    fc.constantFrom(Number.MAX_SAFE_INTEGER, 2 ** 52, 2 ** 26 - 1, 2 ** 26, 2 ** 53 - 2 ** 26),
  );
  fc.assert(
    fc.property(fc.array(amount, { maxLength: 400 }), (xs) => {
      assert.deepEqual(safeDistribution(Float64Array.from(xs)), distribution(xs.map(BigInt)));
    }),
    { numRuns: 500 },
  );
  // Many payees near 2^53: every accumulator carries (the Gini's rank-weighted halves only past
  // ~12k payees of this size).
  const big = Array.from({ length: 40_000 }, (_, i) => Number.MAX_SAFE_INTEGER - i * 7919);
  assert.deepEqual(safeDistribution(Float64Array.from(big)), distribution(big.map(BigInt)));
});

test('the sums behind the figures are exact where Numbers alone would round', () => {
  // Basis points hide small errors, so the sums are checked as integers.
  const reference = (xs: number[]) => ({
    sum: xs.reduce((s, v) => s + BigInt(v), 0n),
    ranked: xs.reduce((s, v, i) => s + BigInt(i + 1) * BigInt(v), 0n),
  });
  const cases = [
    Array.from({ length: 40_000 }, (_, i) => Number.MAX_SAFE_INTEGER - i * 7919),
    Array.from({ length: 3 }, () => Number.MAX_SAFE_INTEGER),
    Array.from({ length: 20_000 }, (_, i) => (i % 2 === 0 ? 1 : 2 ** 53 - 2 ** 26 + i)),
    [],
  ];
  for (const xs of cases) {
    const x = Float64Array.from(xs);
    assert.deepEqual({ sum: exactSum(x, 0, x.length), ranked: rankWeightedSum(x) }, reference(xs));
  }
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), { maxLength: 300 }), (xs) => {
      const x = Float64Array.from(xs);
      assert.deepEqual({ sum: exactSum(x, 0, x.length), ranked: rankWeightedSum(x) }, reference(xs));
    }),
  );
});

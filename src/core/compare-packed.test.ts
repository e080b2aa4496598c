// The packed comparison answers what compare() answers from the two parsed manifests, to the
// byte: on random pairs of runs (same inputs under two policies, and two different inputs,
// default-sized and token-sized), on manifests with any money values up to 2^128−1, for several
// `top`; and it never declines for money values, so the compare() fallback never runs for them.
// limb-stats.ts's distribution and sums equal compare.ts's BigInt ones.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type CaseData, caseArb, inputsDoc, policyDoc } from '../../testing/arbitraries.js';
import { type ComparedManifest, compare, comparedManifest, distribution } from './compare.js';
import { type PackedPayees, basisManifest, candidatePayees, compareBasis, comparePacked } from './compare-packed.js';
import { limbDistribution, orderedSum, rankWeightedSum, sortedOrder } from './limb-stats.js';
import type { Calculation } from './calculus.js';
import { b3 } from './hash.js';
import { canonicalize } from './jcs.js';
import { decodeInputs } from './inputs.js';
import { decodePolicy } from './policy.js';
import { computeRun } from './run.js';
import { encodeEach } from './utf8.js';
import { LIMBS, toDecimalLimbs } from './wide.js';

const enc = (s: string) => new TextEncoder().encode(s);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MAX_MONEY = (1n << 128n) - 1n;

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

const unsafe = (m: ComparedManifest) => m.payouts.some((p) => p.amount > MAX_SAFE);

/** Asserts the packed path answers (no fallback) and that its answer is compare()'s bytes. */
function assertSameAnswer(a: Ran, b: Ran, top: number): void {
  const expected = canonicalize(compare(a.manifest, b.manifest, top));
  const basis = compareBasis(a.manifest);
  // Built with its inputs' actor ids at hand, the basis merges by actor position over the same inputs.
  const positioned = compareBasis(a.manifest, undefined, encodeEach(a.actors));
  const packed = candidatePayees(b.calc, encodeEach(b.actors));
  // Every money value fits the limbs: the worker never falls back to compare() for these runs.
  assert.ok(basis !== null && positioned !== null && packed !== null, 'the packed path declined');
  assert.notEqual(positioned.actorIndex, null);
  // What the worker's fallback (a basis kept, a candidate it cannot pack) reads: the basis back unchanged.
  assert.equal(canonicalize(compare(basisManifest(basis), b.manifest, top)), expected);
  const { payouts: _, ...head } = b.manifest;
  assert.equal(canonicalize(comparePacked(basis, head, packed, top)), expected);
  assert.equal(canonicalize(comparePacked(positioned, head, packed, top)), expected);
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

test('token-sized runs, amounts past 2^53 included, take the packed path and answer compare() to the byte', () => {
  let past = 0;
  fc.assert(
    fc.property(caseArb({ token: true }), caseArb({ token: true }), fc.constantFrom(0, 3, 10), fc.boolean(), (c, other, top, bigint) => {
      const a = run(c, c, 'e1');
      const b = run(c, other, 'e1', { forceBigInt: bigint });
      assertSameAnswer(a, b, top);
      assertSameAnswer(b, a, top);
      if (unsafe(a.manifest) || unsafe(b.manifest)) past++;
    }),
    { numRuns: 200 },
  );
  // The arbitraries draw pools of 10^21–2^128: many runs (about a quarter) pay amounts above 2^53−1.
  assert.ok(past >= 10, `only ${past} runs passed 2^53`);
});

/** A manifest of the given payees (sorted here by UTF-8 bytes, as manifests list them). */
function manifestOf(payouts: { actor: string; amount: bigint }[], commitment: string): ComparedManifest {
  const sorted = [...payouts].sort((p, q) => Buffer.compare(Buffer.from(p.actor), Buffer.from(q.actor)));
  const sum = sorted.reduce((s, p) => s + p.amount, 0n);
  return {
    epoch_id: 'e',
    commitment,
    inputs_cid: 'i',
    policy_hash: commitment,
    totals: { pool_input_minor: sum, pool_minor: sum, payout_minor: sum, residual_minor: 0n, capped_minor: 0n, below_min_minor: 0n, rounding_dust_minor: 0n },
    payouts: sorted,
  };
}

/** A manifest's payees as packed columns (what candidatePayees makes of a calculation). */
function packedOf(m: ComparedManifest): PackedPayees {
  const amounts = new Float64Array(m.payouts.length * LIMBS);
  m.payouts.forEach((p, i) => toDecimalLimbs(p.amount, amounts, i * LIMBS));
  return { count: m.payouts.length, ids: encodeEach(m.payouts.map((p) => p.actor)), index: null, amounts };
}

/** Money values of every size: small, around 2^53, token-sized, up to 2^128−1, and clusters of near-equal large ones. */
const moneyArb = fc.oneof(
  fc.bigInt({ min: 0n, max: 20n }),
  fc.bigInt({ min: MAX_SAFE - 5n, max: MAX_SAFE + 5n }),
  fc.bigInt({ min: 10n ** 16n, max: 10n ** 21n }),
  fc.bigInt({ min: 0n, max: MAX_MONEY }),
  fc.constantFrom(MAX_MONEY, MAX_MONEY - 1n, 10n ** 21n, 10n ** 21n + 1n, 10n ** 14n - 1n, 10n ** 14n),
  fc.bigInt({ min: 0n, max: 1000n }).map((k) => MAX_MONEY - 10n ** 20n + k),
  fc.bigInt({ min: 0n, max: 1000n }).map((k) => 123_456_789_012_345_678_901n + k),
);

test('any money values up to 2^128−1: the packed comparison is compare() to the byte', () => {
  const actor = fc.constantFrom(...Array.from({ length: 24 }, (_, i) => `did:ron:${String.fromCharCode(97 + (i % 12))}${i >= 12 ? 'é' : ''}`));
  const payees = fc.uniqueArray(fc.record({ actor, amount: moneyArb }), { selector: (p) => p.actor, maxLength: 24 });
  fc.assert(
    fc.property(payees, payees, (pa, pb) => {
      const a = manifestOf(pa, 'a');
      // b repeats some of a's amounts exactly, so unchanged payees occur.
      const b = manifestOf(
        pb.map((p, i) => (i % 3 === 0 ? { actor: p.actor, amount: pa.find((q) => q.actor === p.actor)?.amount ?? p.amount } : p)),
        'b',
      );
      for (const top of [0, 1, 3, 10, 100]) {
        const basis = compareBasis(a);
        assert.ok(basis !== null);
        const { payouts: _, ...head } = b;
        assert.equal(canonicalize(comparePacked(basis, head, packedOf(b), top)), canonicalize(compare(a, b, top)));
      }
    }),
    { numRuns: 300 },
  );
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

const limbsOf = (xs: readonly bigint[]): Float64Array => {
  const out = new Float64Array(xs.length * LIMBS);
  xs.forEach((v, i) => toDecimalLimbs(v, out, i * LIMBS));
  return out;
};

test('the distribution of amounts as limbs is compare.ts distribution(), for any money values', () => {
  fc.assert(
    fc.property(fc.array(moneyArb, { maxLength: 400 }), (xs) => {
      assert.deepEqual(limbDistribution(limbsOf(xs), xs.length), distribution(xs));
    }),
    { numRuns: 500 },
  );
  // Many payees near the largest money value, and many near-equal token amounts (keys that tie).
  const big = Array.from({ length: 40_000 }, (_, i) => MAX_MONEY - BigInt(i) * 7919n * 10n ** 20n);
  assert.deepEqual(limbDistribution(limbsOf(big), big.length), distribution(big));
  const close = Array.from({ length: 5_000 }, (_, i) => 10n ** 21n + BigInt((i * 7919) % 5_000));
  assert.deepEqual(limbDistribution(limbsOf(close), close.length), distribution(close));
});

test('the order and sums behind the figures are exact where Numbers alone would round', () => {
  // Basis points hide small errors, so the order and the sums are checked as integers.
  const check = (xs: bigint[]) => {
    const x = limbsOf(xs);
    const order = sortedOrder(x, xs.length);
    const sorted = [...xs].sort((p, q) => (p < q ? -1 : p > q ? 1 : 0));
    assert.deepEqual(Array.from(order, (i) => xs[i]), sorted);
    assert.equal(orderedSum(x, order, 0, xs.length), xs.reduce((s, v) => s + v, 0n));
    assert.equal(rankWeightedSum(x, order), sorted.reduce((s, v, i) => s + BigInt(i + 1) * v, 0n));
  };
  // 100k ranks over amounts whose every limb varies: Σ rank·limb passes 2^53 in every column, so
  // each column carries several times.
  check(Array.from({ length: 100_000 }, (_, i) => MAX_MONEY - BigInt(i) * 3_402_823_669_209_384_634_633_746_074_317n));
  check(Array.from({ length: 3 }, () => MAX_MONEY));
  check(Array.from({ length: 20_000 }, (_, i) => (i % 2 === 0 ? 1n : 2n ** 53n - 2n ** 26n + BigInt(i))));
  check(Array.from({ length: 9_000 }, (_, i) => 10n ** 17n + BigInt((i * 7919) % 9_000) * 10n ** 9n));
  check([]);
  fc.assert(fc.property(fc.array(moneyArb, { maxLength: 300 }), check));
});

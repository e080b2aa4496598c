// The native manifest writers (native/manifest_write.c) against the TypeScript ones
// (manifest.ts, utf8.ts), which are the reference: the same manifest bytes and leaves for the
// golden vectors' runs, for property-generated calculations and for payee columns at the edges
// (token amounts of many limbs, zero amounts, long ids, ids that need JSON escapes or are not
// ASCII, no payee, one payee); the same quoted names (utf8.ts's quoteEach, natively in
// arrow_tally.c); and errors, not garbage, for bad arguments.
// `npm ci` must have built the addon (REWARDER_ALLOW_NO_NATIVE=1 says this machine cannot).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { caseArb, inputsDoc, policyDoc } from '../../testing/arbitraries.js';
import { generate } from '../gen/generate.js';
import { type Calculation, calculate, tally } from './calculus.js';
import { decodeInputs } from './inputs.js';
import { type RunRef, type Texts, buildManifest, leafHeads, quotedNames } from './manifest.js';
import { nativeAddon } from './native.js';
import { decodePolicy } from './policy.js';
import type { PayeeColumns } from './shares.js';
import { encodeEach, quoteEach, useNativeQuote } from './utf8.js';
import { LIMBS, toDecimalLimbs } from './wide.js';

const native = nativeAddon();
const skip = native === null ? (process.env.REWARDER_ALLOW_NO_NATIVE === '1' ? 'the native addon is not built' : false) : false;
const enc = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => Buffer.from(b).toString();
const REF: RunRef = { epochId: 'e1', inputsCid: `b3:${'1'.repeat(64)}`, policyId: 'p', policyHash: `b3:${'2'.repeat(64)}`, window: { startMs: 0, endMs: 10 } };

test('the addon is built (or this machine says it cannot build it)', { skip }, () => {
  assert.notEqual(native, null);
});

/** The manifest with the native writers, against the TypeScript ones with and without heads, names cached and not. */
function assertSameManifests(ref: RunRef, calc: Calculation, names?: Texts): void {
  const addon = native ?? assert.fail('no addon');
  const n = buildManifest(ref, calc, names, undefined, addon);
  const js = buildManifest(ref, calc, names, undefined, null);
  assert.equal(text(n.bytes), text(js.bytes));
  assert.deepEqual(n.leaves, js.leaves);
  assert.equal(n.commitment, js.commitment);
  assert.equal(n.payoutsRoot, js.payoutsRoot);
  if (names !== undefined) {
    const headed = buildManifest(ref, calc, names, leafHeads(names), null);
    assert.equal(text(headed.bytes), text(n.bytes));
    assert.deepEqual(headed.leaves, n.leaves);
  }
}

for (const scale of ['S', 'M'] as const) {
  test(`the golden ${scale} run's manifest is the same bytes from both writers`, { skip }, () => {
    const g = generate({ scale, seed: 1, form: 'columnar' });
    const inputs = decodeInputs(g.inputs);
    const policy = decodePolicy(g.policy);
    if (!inputs.ok || !policy.ok) return assert.fail('golden documents invalid');
    const calc = calculate(tally(inputs.value), policy.value);
    if (!calc.ok) return assert.fail('quarantined');
    assert.ok(calc.value.columns !== undefined, 'the golden run takes the column path');
    const ref = { ...REF, window: inputs.value.window };
    assertSameManifests(ref, calc.value, quotedNames(inputs.value.actors));
    assertSameManifests(ref, calc.value);
  });
}

test('property-generated calculations give the same manifest from both writers', { skip }, () => {
  fc.assert(
    fc.property(fc.oneof(caseArb(), caseArb({ token: true }), caseArb({ big: true })), (c) => {
      const inputs = decodeInputs(enc(inputsDoc(c, 'columnar')));
      const policy = decodePolicy(enc(policyDoc(c)));
      if (!inputs.ok || !policy.ok) return assert.fail('generated documents invalid');
      const calc = calculate(tally(inputs.value), policy.value);
      if (!calc.ok) return;
      const ref = { ...REF, window: inputs.value.window };
      assertSameManifests(ref, calc.value, quotedNames(inputs.value.actors));
      assertSameManifests(ref, calc.value);
    }),
    { numRuns: 200 },
  );
});

// Ids of every shape the manifest meets, and some it must escape: did:… of any length, 0x
// addresses, control characters, quotes and backslashes, 0x7f, and UTF-8 of 2 to 4 bytes.
const idArb = fc.oneof(
  fc.string({ minLength: 1, maxLength: 200 }).map((s) => `did:ron:${s}`),
  fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => `0x${Buffer.from(b).toString('hex')}`),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
  fc.string({ unit: fc.constantFrom('"', '\\', '\u0000', '\u0008', '\t', '\n', '\u000b', '\f', '\r', '\u001f', '\u007f', 'é', '€', '😀', 'a'), maxLength: 20 }),
);
// Amounts: zero, small, token-sized (10^21 and up, four to six limbs) and the largest six limbs hold.
const amountArb = fc.oneof(
  fc.constant(0n),
  fc.bigInt({ min: 0n, max: 10n ** 7n }),
  fc.bigInt({ min: 10n ** 21n, max: 10n ** 30n }),
  fc.bigInt({ min: 0n, max: 10n ** 42n - 1n }),
);
const scoreArb = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 10_000_000 }), fc.maxSafeNat());

const columnsArb = fc.uniqueArray(idArb, { minLength: 0, maxLength: 30 }).chain((actors) =>
  fc.record({
    actors: fc.constant(actors),
    payees: fc.array(fc.record({ actor: fc.nat({ max: Math.max(0, actors.length - 1) }), amount: amountArb, score: scoreArb }), {
      maxLength: actors.length === 0 ? 0 : 40,
    }),
  }),
);

/** A column-path Calculation of these payees (counts and totals are not the writers' concern). */
function columnCalc(actors: string[], payees: { actor: number; amount: bigint; score: number }[]): Calculation {
  const m = payees.length;
  const amount = new Float64Array(m * LIMBS);
  payees.forEach((p, i) => toDecimalLimbs(p.amount, amount, i * LIMBS));
  const columns: PayeeColumns = {
    count: m,
    actors,
    index: Uint32Array.from(payees, (p) => p.actor),
    amount,
    score: Float64Array.from(payees, (p) => p.score),
  };
  return {
    counts: { actors: actors.length, events: 0, ignoredEvents: 0, excludedActors: 0, payees: m },
    totals: { poolInput: 0n, pool: 0n, payout: 0n, residual: 0n, capped: 0n, belowMin: 0n, roundingDust: 0n },
    arithmetic: 'number',
    columns,
    payees: payees.map((p) => ({ actor: actors[p.actor] as string, index: p.actor, amount: p.amount, score: BigInt(p.score) })),
  } as Calculation;
}

test('payee columns at the edges (many limbs, zero, long and escaped ids, 0 and 1 payees) give the same manifest from both writers', { skip }, () => {
  fc.assert(
    fc.property(columnsArb, ({ actors, payees }) => {
      const calc = columnCalc(actors, payees);
      const names = quotedNames(actors);
      assertSameManifests(REF, calc, names);
      assertSameManifests(REF, calc);
      // And both say what the payees are.
      const doc = JSON.parse(text(buildManifest(REF, calc, names).bytes)) as { payouts: unknown };
      assert.deepEqual(
        doc.payouts,
        payees.map((p) => ({ actor: actors[p.actor], amount_minor: p.amount.toString(), score: String(p.score) })),
      );
    }),
    { numRuns: 300 },
  );
});

test('quoteEach from the addon is JSON.stringify of each id, byte for byte, as the TypeScript loop is', { skip }, () => {
  const both = (texts: { bytes: Uint8Array; offsets: Uint32Array }, alloc?: (n: number) => ArrayBufferLike) => {
    const n = quoteEach(texts, alloc);
    useNativeQuote(false);
    try {
      return { n, js: quoteEach(texts, alloc) };
    } finally {
      useNativeQuote(true);
    }
  };
  fc.assert(
    fc.property(fc.array(idArb, { maxLength: 30 }), (ids) => {
      const { n, js } = both(encodeEach(ids));
      assert.deepEqual(n, js);
      assert.deepEqual(n, quotedNames(ids));
      // In shared memory too (the seal's).
      const shared = both(encodeEach(ids), (b) => new SharedArrayBuffer(b));
      assert.ok(shared.n.bytes.buffer instanceof SharedArrayBuffer);
      assert.deepEqual(Buffer.from(shared.n.bytes), Buffer.from(shared.js.bytes));
    }),
    { numRuns: 300 },
  );
  // Every byte below 0x80, one id each.
  const all = Array.from({ length: 0x80 }, (_, b) => `a${String.fromCharCode(b)}z`);
  assert.deepEqual(quoteEach(encodeEach(all)), quotedNames(all));
});

test('the native writers refuse arguments outside their form instead of writing past them', { skip }, () => {
  const addon = native ?? assert.fail('no addon');
  const calc = columnCalc(['did:a', 'did:b'], [
    { actor: 0, amount: 10n ** 21n, score: 3 },
    { actor: 1, amount: 0n, score: 0 },
  ]);
  const cols = calc.columns as PayeeColumns;
  const names = quotedNames(['did:a', 'did:b']);
  const sizes = new Float64Array(2);
  addon.manifestSizes(null, names.offsets, cols.index, cols.amount, cols.score, 2, sizes);
  const write = (o: { index?: Uint32Array; amount?: Float64Array; score?: Float64Array; leaves?: number; out?: number; count?: number }) =>
    addon.manifestWrite(
      names.bytes,
      names.offsets,
      o.index ?? cols.index,
      o.amount ?? cols.amount,
      o.score ?? cols.score,
      o.count ?? 2,
      new Uint8Array(o.leaves ?? (sizes[0] as number)),
      new Uint32Array(3),
      new Uint8Array(o.out ?? (sizes[1] as number)),
      0,
    );
  assert.equal(write({}), sizes[1]);
  assert.throws(() => write({ leaves: (sizes[0] as number) - 1 }), RangeError);
  assert.throws(() => write({ out: (sizes[1] as number) - 1 }), RangeError);
  assert.throws(() => write({ index: Uint32Array.of(0, 2) }), RangeError);
  assert.throws(() => write({ count: 3 }), RangeError);
  for (const bad of [1e7, 0.5, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
    const amount = cols.amount.slice();
    amount[LIMBS + 2] = bad;
    assert.throws(() => write({ amount }), RangeError, `limb ${bad}`);
  }
  for (const bad of [2 ** 53, 1.5, -1, Number.NaN]) assert.throws(() => write({ score: Float64Array.of(1, bad) }), RangeError, `score ${bad}`);
  assert.throws(() => addon.manifestSizes(null, Uint32Array.of(0, 5, 3), null, cols.amount, cols.score, 2, sizes), RangeError);
});

test('past 65,536 payees (written in two halves on two threads) the manifest is still the same bytes, and bad columns still throw', { skip }, () => {
  const addon = native ?? assert.fail('no addon');
  for (const m of [65_535, 65_536, 70_001]) {
    const actors = Array.from({ length: m + 10 }, (_, i) => (i % 1000 === 7 ? `did:ron:"é\n${i}` : `did:ron:n${String(i).padStart(7, '0')}`));
    const payees = Array.from({ length: m }, (_, i) => ({
      actor: i + (i % 3 === 0 ? 1 : 0),
      amount: i % 11 === 0 ? 0n : 10n ** 21n * BigInt(i) + BigInt(i * 7919),
      score: i % 13 === 0 ? Number.MAX_SAFE_INTEGER - i : i,
    }));
    const calc = columnCalc(actors, payees);
    assertSameManifests(REF, calc, quotedNames(actors));
  }
  const m = 70_001;
  const actors = Array.from({ length: m }, (_, i) => `did:ron:n${i}`);
  const calc = columnCalc(actors, Array.from({ length: m }, (_, i) => ({ actor: i, amount: BigInt(i), score: i })));
  const cols = calc.columns as PayeeColumns;
  const names = quotedNames(actors);
  const sizes = new Float64Array(2);
  addon.manifestSizes(null, names.offsets, cols.index, cols.amount, cols.score, m, sizes);
  const write = (o: { amount?: Float64Array; leaves?: number; out?: number }) =>
    addon.manifestWrite(names.bytes, names.offsets, cols.index, o.amount ?? cols.amount, cols.score, m, new Uint8Array(o.leaves ?? (sizes[0] as number)), new Uint32Array(m + 1), new Uint8Array(o.out ?? (sizes[1] as number)), 0);
  assert.equal(write({}), sizes[1]);
  assert.throws(() => write({ leaves: (sizes[0] as number) - 1 }), RangeError);
  assert.throws(() => write({ out: (sizes[1] as number) - 1 }), RangeError);
  for (const at of [10, m - 10]) {
    const amount = cols.amount.slice();
    amount[at * LIMBS] = 0.5;
    assert.throws(() => write({ amount }), RangeError, `bad limb of payee ${at}`);
  }
});

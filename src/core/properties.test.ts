// Properties of the calculus and its proofs over random runs. Every property here was checked to
// fail when the behaviour it names is broken on purpose.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type CaseData, type EventData, caseArb, inputsDoc, policyDoc } from '../../testing/arbitraries.js';
import { type CalcOptions, calculate, tally } from './calculus.js';
import { buildManifest, leafHeads, quotedNames } from './manifest.js';
import { decodeInputs } from './inputs.js';
import { decodePolicy } from './policy.js';
import { checkProof, manifestPayouts, proveActor } from './proof.js';
import { computeRun } from './run.js';

const enc = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => Buffer.from(b).toString();
const RUNS = { numRuns: 200 };
// The same identity for every variant, so manifests can be compared byte for byte: the
// properties are about the calculus, not about the CIDs of differently serialised inputs.
const CID = `b3:${'1'.repeat(64)}`;
const HASH = `b3:${'2'.repeat(64)}`;

function run(c: CaseData, o: { form?: 'row' | 'columnar'; events?: EventData[]; calc?: CalcOptions } = {}) {
  const inputs = decodeInputs(enc(inputsDoc(c, o.form ?? 'row', o.events ?? c.events)));
  const policy = decodePolicy(enc(policyDoc(c)));
  if (!inputs.ok) assert.fail(`generated inputs invalid: ${inputs.error.path} ${inputs.error.reason}`);
  if (!policy.ok) assert.fail(`generated policy invalid: ${policy.error.path} ${policy.error.reason}`);
  const r = computeRun({ epochId: 'e1', inputs: inputs.value, inputsCid: CID, policy: policy.value, policyHash: HASH }, o.calc);
  if (!r.ok) assert.fail(`run failed: ${r.error.kind}`);
  return r.value;
}

const withShuffle = caseArb().chain((c) =>
  fc.tuple(fc.constant(c), fc.shuffledSubarray(c.events, { minLength: c.events.length, maxLength: c.events.length })),
);

test('conservation: payout + residual = pool and residual = capped + below_min + dust', () => {
  fc.assert(
    fc.property(caseArb(), (c) => {
      const t = run(c).calculation.totals;
      assert.equal(t.payout + t.residual, t.pool);
      assert.equal(t.residual, t.capped + t.belowMin + t.roundingDust);
      const cap = c.policy.poolCap;
      assert.equal(t.pool, cap !== undefined && cap < c.pool ? cap : c.pool);
    }),
    RUNS,
  );
});

test('largest_remainder distributes the whole pool whenever any actor has a score', () => {
  fc.assert(
    fc.property(caseArb(), (c) => {
      c.policy.rounding = 'largest_remainder';
      const calc = run(c).calculation;
      if (calc.totals.pool > 0n && calc.payees.some((p) => p.score > 0n)) assert.equal(calc.totals.roundingDust, 0n);
    }),
    RUNS,
  );
});

test('event order does not change a single byte of the manifest', () => {
  fc.assert(
    fc.property(withShuffle, ([c, shuffled]) => {
      assert.equal(text(run(c, { events: shuffled }).manifest.bytes), text(run(c).manifest.bytes));
    }),
    RUNS,
  );
});

test('splitting an event into several with the same total does not change the manifest', () => {
  fc.assert(
    fc.property(
      caseArb().filter((c) => c.events.length > 0),
      fc.nat(),
      fc.integer({ min: 2, max: 5 }),
      (c, pick, parts) => {
        const i = pick % c.events.length;
        const e = c.events[i] as EventData;
        const share = Math.floor(e.qty / parts);
        const pieces = Array.from({ length: parts }, (_, k) => ({ ...e, qty: k === 0 ? e.qty - share * (parts - 1) : share }));
        const split = [...c.events.slice(0, i), ...pieces, ...c.events.slice(i + 1)];
        // `events` and `ignored_events` count the document's events, so only they (and the
        // commitment over them) may differ.
        const strip = (bytes: Uint8Array) => {
          const m = JSON.parse(text(bytes));
          delete m.commitment;
          delete m.counts.events;
          delete m.counts.ignored_events;
          return m;
        };
        assert.deepEqual(strip(run(c, { events: split }).manifest.bytes), strip(run(c).manifest.bytes));
      },
    ),
    RUNS,
  );
});

test('row and columnar forms of the same data give identical manifests', () => {
  fc.assert(
    fc.property(caseArb(), (c) => {
      assert.equal(text(run(c, { form: 'columnar' }).manifest.bytes), text(run(c, { form: 'row' }).manifest.bytes));
    }),
    RUNS,
  );
});

test("more quantity never lowers the actor's own score", () => {
  fc.assert(
    fc.property(
      caseArb().filter((c) => c.events.length > 0),
      fc.nat(),
      fc.integer({ min: 1, max: 1_000_000 }),
      (c, pick, extra) => {
        const i = pick % c.events.length;
        const e = c.events[i] as EventData;
        const more = c.events.map((x, k) => (k === i ? { ...x, qty: x.qty + extra } : x));
        const before = scoreOf(c, c.events, e.actor);
        const after = scoreOf(c, more, e.actor);
        assert.ok(after >= before, `score fell from ${before} to ${after}`);
      },
    ),
    RUNS,
  );
});

/**
 * The actor's score, read from a probe run with a huge pool and no ceiling or floor, so every
 * actor with a positive score is a payee (payees omit actors whose amount rounds to 0).
 */
function scoreOf(c: CaseData, events: EventData[], actor: number): bigint {
  const probe: CaseData = { ...c, pool: 10n ** 30n, policy: { ...c.policy, maxPayout: undefined, minPayout: 0n, poolCap: undefined } };
  const calc = run(probe, { events }).calculation;
  return calc.payees.find((p) => p.actor === c.actors[actor])?.score ?? 0n;
}

test('no amount exceeds the per-actor ceiling and every payee amount is at least the floor', () => {
  fc.assert(
    fc.property(caseArb(), (c) => {
      for (const p of run(c).calculation.payees) {
        if (c.policy.maxPayout !== undefined) assert.ok(p.amount <= c.policy.maxPayout);
        assert.ok(p.amount >= (c.policy.minPayout ?? 1n) && p.amount > 0n);
      }
    }),
    RUNS,
  );
});

test('the Number fast path and the BigInt path give identical manifests, including past 2^53', () => {
  fc.assert(
    fc.property(fc.oneof(caseArb(), caseArb({ big: true }), caseArb({ token: true })), (c) => {
      const fast = run(c);
      const slow = run(c, { calc: { forceBigInt: true } });
      assert.equal(slow.calculation.arithmetic, 'bigint');
      assert.equal(text(fast.manifest.bytes), text(slow.manifest.bytes));
    }),
    RUNS,
  );
});

test('token magnitudes (T past 2^53, safe scores) take the column path', () => {
  let columns = 0;
  fc.assert(
    fc.property(caseArb({ token: true }), (c) => {
      const calc = run(c).calculation;
      if (calc.columns !== undefined) columns++;
      assert.equal(calc.columns !== undefined, calc.arithmetic === 'number');
    }),
    RUNS,
  );
  assert.ok(columns > RUNS.numRuns / 4, `most token cases take the column path (${columns} of ${RUNS.numRuns})`);
});

test('sums past 2^53 fall back to BigInt and stay exact', () => {
  const c: CaseData = {
    window: { start: 0, end: 10 },
    pool: 1000n,
    kinds: ['requests'],
    actors: ['a', 'b'],
    events: [
      { actor: 0, kind: 0, qty: Number.MAX_SAFE_INTEGER, ts: 1 },
      { actor: 0, kind: 0, qty: 2, ts: 2 },
      { actor: 1, kind: 0, qty: 1, ts: 3 },
    ],
    policy: { rounding: 'floor', kinds: { requests: { weight: 1 } }, exclude: [] },
  };
  const r = run(c);
  assert.equal(r.calculation.arithmetic, 'bigint');
  assert.equal(r.calculation.payees[0]?.score, 2n ** 53n + 1n);
});

test('every payee proof verifies, and any altered amount, index or path fails', () => {
  fc.assert(
    fc.property(caseArb({ maxActors: 40, maxEvents: 80 }), fc.nat(), (c, pick) => {
      const m = manifestPayouts(JSON.parse(text(run(c).manifest.bytes)));
      assert.ok(typeof m !== 'string');
      for (const p of m.payouts) {
        const proof = proveActor(m, p.actor);
        assert.ok(proof !== null);
        assert.ok(checkProof(proof, m.payouts_root).ok);
        const bumped = (BigInt(p.amount_minor) + 1n + BigInt(pick % 7)).toString();
        assert.ok(!checkProof({ ...proof, amount_minor: bumped }, m.payouts_root).ok);
        if (m.payouts.length > 1) {
          assert.ok(!checkProof({ ...proof, leaf_index: (proof.leaf_index + 1) % proof.tree_size }, m.payouts_root).ok);
          const path = [...proof.audit_path];
          const j = pick % path.length;
          path[j] = `b3:${(path[j] as string).slice(3).split('').reverse().join('')}`;
          assert.ok(!checkProof({ ...proof, audit_path: path }, m.payouts_root).ok);
        }
      }
    }),
    { numRuns: 100 },
  );
});

test('a proof with a hostile actor (lone surrogate) or malformed amount is refused, not thrown', () => {
  const proof = { actor: 'a', amount_minor: '1', leaf_index: 0, tree_size: 1, audit_path: [] };
  const root = `b3:${'0'.repeat(64)}`;
  assert.deepEqual(checkProof({ ...proof, actor: '\ud800' }, root), { ok: false, reason: 'proof actor or amount_minor is malformed' });
  assert.deepEqual(checkProof({ ...proof, amount_minor: '01' }, root), { ok: false, reason: 'proof actor or amount_minor is malformed' });
  assert.equal(checkProof({ ...proof, leaf_index: -1 }, root).ok, false);
  assert.equal(checkProof(null, root).ok, false);
});

/**
 * SPEC §4 read literally, in BigInt, with a comparator sort for largest_remainder: the reference
 * the optimised calculus (cached tallies, threshold selection of the +1s, binary-search
 * exclusion) must agree with.
 */
function referenceCalculus(c: CaseData): { payees: [string, bigint, bigint][]; dust: bigint; capped: bigint; belowMin: bigint } {
  const K = c.kinds.length;
  const q = new Array<bigint>(c.actors.length * K).fill(0n);
  for (const e of c.events) if (e.ts >= c.window.start && e.ts < c.window.end) q[e.actor * K + e.kind]! += BigInt(e.qty);
  const scores = c.actors.map((a, i) => {
    if (c.policy.exclude.includes(a)) return 0n;
    let s = 0n;
    c.kinds.forEach((k, j) => {
      const rule = c.policy.kinds[k];
      if (rule === undefined) return;
      const cell = q[i * K + j]!;
      const capped = rule.cap !== undefined && cell > BigInt(rule.cap) ? BigInt(rule.cap) : cell;
      s += (capped * BigInt(rule.weight)) / BigInt(rule.divisor ?? 1);
    });
    return s;
  });
  const pool = c.policy.poolCap !== undefined && c.policy.poolCap < c.pool ? c.policy.poolCap : c.pool;
  const total = scores.reduce((x, y) => x + y, 0n);
  const amounts = scores.map(() => 0n);
  let dust = pool;
  if (pool > 0n && total > 0n) {
    scores.forEach((s, i) => (amounts[i] = (pool * s) / total));
    dust = pool - amounts.reduce((x, y) => x + y, 0n);
    if (c.policy.rounding === 'largest_remainder') {
      const order = scores.map((s, i) => ({ i, s, rem: (pool * s) % total })).filter((x) => x.s > 0n);
      // Actor ids are ascending (they are generated in UTF-8 order), so the index breaks ties.
      order.sort((x, y) => (x.rem === y.rem ? x.i - y.i : x.rem > y.rem ? -1 : 1));
      for (const x of order.slice(0, Number(dust))) amounts[x.i]! += 1n;
      dust = 0n;
    }
  }
  let capped = 0n;
  let belowMin = 0n;
  const payees: [string, bigint, bigint][] = [];
  amounts.forEach((amount, i) => {
    let amt = amount;
    if (amt === 0n) return;
    if (c.policy.maxPayout !== undefined && amt > c.policy.maxPayout) {
      capped += amt - c.policy.maxPayout;
      amt = c.policy.maxPayout;
    }
    if (amt < (c.policy.minPayout ?? 0n)) {
      belowMin += amt;
      return;
    }
    payees.push([c.actors[i]!, amt, scores[i]!]);
  });
  return { payees, dust, capped, belowMin };
}

test('the calculus agrees with a literal BigInt reference of SPEC §4, remainder ties included', () => {
  // Tiny quantities, unit weights and no divisors make equal scores, and so equal remainders
  // shared across the cut of the +1s, common.
  const ties = caseArb({ maxActors: 30, maxEvents: 60 }).map((c) => ({
    ...c,
    events: c.events.map((e) => ({ ...e, qty: e.qty % 3 })),
    policy: {
      ...c.policy,
      rounding: 'largest_remainder' as const,
      kinds: Object.fromEntries(c.kinds.map((k) => [k, { weight: 1 }])),
      maxPayout: undefined,
      minPayout: undefined,
    },
  }));
  fc.assert(
    fc.property(fc.oneof(caseArb(), caseArb({ big: true }), caseArb({ token: true }), ties), (c) => {
      const calc = run(c).calculation;
      const want = referenceCalculus(c);
      assert.deepEqual(
        calc.payees.map((p) => [p.actor, p.amount, p.score]),
        want.payees,
      );
      assert.deepEqual([calc.totals.roundingDust, calc.totals.capped, calc.totals.belowMin], [want.dust, want.capped, want.belowMin]);
    }),
    { numRuns: 300 },
  );
});

test('a manifest written from cached quoted names, or from leaf heads, is byte-identical to one written from the payees', () => {
  fc.assert(
    fc.property(fc.oneof(caseArb(), caseArb({ token: true })), (c) => {
      const inputs = decodeInputs(enc(inputsDoc(c, 'columnar')));
      const policy = decodePolicy(enc(policyDoc(c)));
      if (!inputs.ok || !policy.ok) return assert.fail('generated documents invalid');
      const prepared = tally(inputs.value);
      const calc = calculate(prepared, policy.value);
      if (!calc.ok) return assert.fail('quarantined');
      const ref = { epochId: 'e1', inputsCid: CID, policyId: 'prop', policyHash: HASH, window: inputs.value.window };
      const names = quotedNames(inputs.value.actors);
      const cached = buildManifest(ref, calc.value, names);
      const plain = buildManifest(ref, calc.value);
      // Heads are the TypeScript writers' (the native one does not take them).
      const headed = buildManifest(ref, calc.value, names, leafHeads(names), null);
      assert.equal(text(cached.bytes), text(plain.bytes));
      assert.deepEqual(cached.leaves, plain.leaves);
      assert.equal(text(headed.bytes), text(plain.bytes));
      assert.deepEqual(headed.leaves, plain.leaves);
    }),
    RUNS,
  );
});

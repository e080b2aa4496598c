// Comparisons of manifests: a manifest compared with itself changes nothing; raising one kind's
// weight moves payees the way the calculus says; the distribution formulas on known figures.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { type CaseData, caseArb, inputsDoc, policyDoc } from '../../testing/arbitraries.js';
import { type ComparedManifest, compare, comparedManifest, deltasCsv, distribution, payoutDeltas } from './compare.js';
import { decodeInputs } from './inputs.js';
import { decodePolicy } from './policy.js';
import { computeRun } from './run.js';

const enc = (s: string) => new TextEncoder().encode(s);
const root = new URL('../../../vectors/', import.meta.url);

function manifestOf(c: CaseData): ComparedManifest {
  const inputs = decodeInputs(enc(inputsDoc(c, 'row')));
  const policy = decodePolicy(enc(policyDoc(c)));
  if (!inputs.ok || !policy.ok) assert.fail('generated documents do not decode');
  const r = computeRun({ epochId: 'e1', inputs: inputs.value, inputsCid: `b3:${'1'.repeat(64)}`, policy: policy.value, policyHash: `b3:${'2'.repeat(64)}` });
  if (!r.ok) assert.fail(`run failed: ${r.error.kind}`);
  const m = comparedManifest(JSON.parse(Buffer.from(r.value.manifest.bytes).toString()));
  if (typeof m === 'string') assert.fail(m);
  return m;
}

function assertNoChange(m: ComparedManifest): void {
  const c = compare(m, m);
  for (const t of Object.values(c.totals)) assert.equal(t.delta_minor, '0');
  assert.deepEqual(c.payees, { a: m.payouts.length, b: m.payouts.length, added: 0, removed: 0, changed: 0, unchanged: m.payouts.length });
  assert.deepEqual([c.gainers, c.losers], [[], []]);
  assert.deepEqual(c.distribution.a, c.distribution.b);
  assert.ok(payoutDeltas(m, m).every((d) => d.delta === 0n));
}

test('a manifest compared with itself is all zero (the S vector and random runs)', () => {
  const s = comparedManifest(JSON.parse(readFileSync(new URL('S/manifest-row.json', root), 'utf8')));
  assert.ok(typeof s !== 'string');
  assertNoChange(s);
  fc.assert(
    fc.property(caseArb(), (c) => assertNoChange(manifestOf(c))),
    { numRuns: 200 },
  );
});

test('the distribution figures follow the documented formulas', () => {
  assert.deepEqual(distribution([4n, 1n, 3n, 2n]), {
    payees: 4,
    median_minor: '2',
    p90_minor: '4',
    p99_minor: '4',
    top_1pct_share_bp: 4000,
    top_10pct_share_bp: 4000,
    gini_bp: 2500,
  });
  assert.equal(distribution(Array.from({ length: 100 }, () => 7n)).gini_bp, 0);
  const skewed = distribution([...Array.from({ length: 99 }, () => 1n), 901n]);
  assert.deepEqual([skewed.top_1pct_share_bp, skewed.top_10pct_share_bp, skewed.median_minor, skewed.p99_minor], [9010, 9100, '1', '1']);
  assert.equal(distribution([]).payees, 0);
});

test('the example against a pool twice as large: totals, gainers and the CSV', () => {
  const doc = JSON.parse(readFileSync(new URL('example/manifest-2026-01-01.json', root), 'utf8')) as { payouts: { amount_minor: string }[]; totals: Record<string, string> };
  const a = comparedManifest(doc);
  doc.payouts.forEach((p) => (p.amount_minor = String(Number(p.amount_minor) + 1)));
  doc.payouts.pop();
  doc.totals.payout_minor = '999';
  const b = comparedManifest(doc);
  assert.ok(typeof a !== 'string' && typeof b !== 'string');
  const c = compare(a, b, 1);
  assert.equal(c.totals.payout_minor.delta_minor, '72');
  assert.deepEqual(c.payees, { a: 3, b: 2, added: 0, removed: 1, changed: 2, unchanged: 0 });
  assert.deepEqual(c.gainers, [{ actor: 'did:ron:alice', a_minor: '360', b_minor: '361', delta_minor: '1' }]);
  assert.deepEqual(c.losers, [{ actor: 'did:ron:erin', a_minor: '167', b_minor: '0', delta_minor: '-167' }]);
  assert.equal(deltasCsv(payoutDeltas(a, b)), 'actor,a_minor,b_minor,delta_minor\ndid:ron:alice,360,361,1\ndid:ron:bob,400,401,1\ndid:ron:erin,167,0,-167\n');
});

test('raising one kind\'s weight never lowers a payee paid only for it, nor raises one without it', () => {
  // Divisor 1, floor rounding and no ceiling: scores are exact Σ q·w, so an actor paid only for
  // kind k gains at least the pool's growth factor and an actor without k keeps its score while T grows.
  const plain = caseArb().map((c): CaseData => {
    const kinds = Object.fromEntries(c.kinds.map((k) => [k, { weight: c.policy.kinds[k]?.weight ?? 1 }]));
    return { ...c, policy: { rounding: 'floor', kinds, exclude: c.policy.exclude } };
  });
  fc.assert(
    fc.property(plain, fc.nat(), fc.integer({ min: 1, max: 20 }), (c, pick, raise) => {
      const k = c.kinds[pick % c.kinds.length] as string;
      const before = manifestOf(c);
      const rule = c.policy.kinds[k] as { weight: number };
      const after = manifestOf({ ...c, policy: { ...c.policy, kinds: { ...c.policy.kinds, [k]: { weight: rule.weight + raise } } } });
      const ki = c.kinds.indexOf(k);
      const counted = c.events.filter((e) => e.ts >= c.window.start && e.ts < c.window.end && e.qty > 0);
      const uses = (actor: number, kind: number) => counted.some((e) => e.actor === actor && e.kind === kind);
      const deltas = new Map(payoutDeltas(before, after).map((d) => [d.actor, d.delta]));
      c.actors.forEach((name, i) => {
        const delta = deltas.get(name) ?? 0n;
        const weighted = c.kinds.some((_, j) => j !== ki && uses(i, j) && (c.policy.kinds[c.kinds[j] as string]?.weight ?? 0) > 0);
        if (!uses(i, ki)) assert.ok(delta <= 0n, `${name} has no ${k} yet gained ${delta}`);
        else if (!weighted) assert.ok(delta >= 0n, `${name} is paid only for ${k} yet lost ${delta}`);
      });
    }),
    { numRuns: 200 },
  );
});

test('payees out of order (a hand-edited document) give the same deltas as sorted ones', () => {
  fc.assert(
    fc.property(caseArb(), caseArb(), (c1, c2) => {
      const a = manifestOf(c1);
      const b = manifestOf({ ...c2, actors: c1.actors, events: c2.events.filter((e) => e.actor < c1.actors.length) });
      const shuffled = { ...b, payouts: [...b.payouts].reverse() };
      assert.deepEqual(payoutDeltas(a, shuffled), payoutDeltas(a, b));
      assert.deepEqual(payoutDeltas(shuffled, a), payoutDeltas(b, a));
    }),
    { numRuns: 200 },
  );
});

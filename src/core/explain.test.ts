// Explanations (SPEC §11) agree with the calculus and the manifest for every actor: of the worked
// example, of every S golden vector and of random runs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { caseArb, inputsDoc, policyDoc } from '../../testing/arbitraries.js';
import { prepare } from '../compute/protocol.js';
import { type Explanation, actorIndex, explainActor, explainBasis, explainManifest, explanationBytes, offlineExplainer, proofPart, textIndex } from './explain.js';
import { buildProofIndex, proveFromIndex } from './proof-index.js';
import { encodeEach } from './utf8.js';
import { decodeInputs, type Inputs } from './inputs.js';
import { decodePolicy, type Policy } from './policy.js';
import { checkProof } from './proof.js';
import { computeRun } from './run.js';
import { canonicalize } from './jcs.js';

const enc = (s: string) => new TextEncoder().encode(s);
const root = new URL('../../../vectors/', import.meta.url);

function docs(inputs: Uint8Array, policy: Uint8Array): { inputs: Inputs; policy: Policy } {
  const i = decodeInputs(inputs);
  const p = decodePolicy(policy);
  if (!i.ok || !p.ok) assert.fail('documents do not decode');
  return { inputs: i.value, policy: p.value };
}

function explainer(inputs: Inputs, policy: Policy, manifest: unknown) {
  const m = explainManifest(manifest);
  if (typeof m === 'string') assert.fail(m);
  const explain = offlineExplainer(inputs, policy, m);
  return (actor: string): Explanation => {
    const r = explain(actor);
    if (!r.ok) assert.fail(r.error);
    return r.value;
  };
}

/**
 * The §11 identities of one run, over every listed actor and two that are not: terms sum to the
 * score, amounts are the manifest's, D actors have plus_one, each status is the calculus's reason.
 */
function checkRun(inputs: Inputs, policy: Policy, manifestBytes: Uint8Array): void {
  const manifest = JSON.parse(Buffer.from(manifestBytes).toString()) as {
    payouts_root: string;
    payouts: { actor: string; amount_minor: string; score: string }[];
    totals: { pool_minor: string; rounding_dust_minor: string; capped_minor: string; below_min_minor: string; payout_minor: string };
  };
  const explain = explainer(inputs, policy, manifest);
  const paid = new Map(manifest.payouts.map((p) => [p.actor, p]));
  let plusOnes = 0;
  let ceilingCuts = 0n;
  let belowMinCuts = 0n;
  let payout = 0n;
  let total = 0n;
  const ranks: number[] = [];
  for (const actor of [...inputs.actors, 'did:ron:absent', ...policy.exclude]) {
    const e = explain(actor);
    assert.equal(e.actor, actor);
    assert.equal(e.pool_minor, manifest.totals.pool_minor);
    const terms = e.kinds.reduce((s, k) => s + BigInt(k.term), 0n);
    const listed = inputs.actors.includes(actor);
    if (!listed) {
      assert.equal(e.status, 'not_in_inputs');
      assert.equal(e.kinds.length, 0);
      continue;
    }
    if (policy.exclude.includes(actor)) {
      assert.equal(e.status, 'excluded');
      assert.equal(e.score, '0');
    } else {
      assert.equal(BigInt(e.score), terms, `terms of ${actor} sum to its score`);
      total += terms;
    }
    const p = paid.get(actor);
    assert.equal(e.amount_minor, p?.amount_minor ?? '0');
    if (p !== undefined) {
      assert.equal(e.status, 'paid');
      assert.equal(e.score, p.score);
      assert.ok(e.proof !== null);
      assert.ok(checkProof({ actor, amount_minor: e.amount_minor, ...e.proof }, manifest.payouts_root).ok);
    } else {
      assert.equal(e.proof, null);
      assert.notEqual(e.status, 'paid');
    }
    if (e.status === 'no_usage') assert.equal(e.kinds.length, 0);
    if (e.status === 'zero_score') assert.ok(e.kinds.length > 0 && e.score === '0');
    if (e.status === 'zero_share') assert.ok(e.score !== '0' && e.below_min_cut_minor === '0');
    if (e.status === 'below_min') assert.ok(BigInt(e.below_min_cut_minor) > 0n);
    const names = e.kinds.map((k) => k.kind);
    assert.deepEqual(names, [...names].sort());
    // The actor's amount, rebuilt from its parts.
    const before = BigInt(e.base_minor) + (e.plus_one ? 1n : 0n);
    assert.equal(before - BigInt(e.ceiling_cut_minor) - BigInt(e.below_min_cut_minor), BigInt(e.amount_minor));
    if (e.plus_one) plusOnes++;
    if (e.remainder_rank !== null) ranks.push(e.remainder_rank);
    ceilingCuts += BigInt(e.ceiling_cut_minor);
    belowMinCuts += BigInt(e.below_min_cut_minor);
    payout += BigInt(e.amount_minor);
    assert.equal(Buffer.from(explanationBytes(e)).toString(), canonicalize(e));
  }
  // D = P − Σ base: the rounding dust under floor, the number of +1 under largest_remainder.
  // (With P or T 0 nothing is distributed: all of P is dust, and no one gets +1.)
  let dust = BigInt(manifest.totals.pool_minor);
  for (const actor of inputs.actors) dust -= BigInt(explain(actor).base_minor);
  const D = dust === 0n || total === 0n ? 0n : dust;
  if (policy.rounding === 'largest_remainder') {
    assert.equal(BigInt(plusOnes), D);
    assert.deepEqual(
      ranks.sort((a, b) => a - b),
      ranks.map((_, i) => i),
    );
  } else {
    assert.equal(plusOnes, 0);
    assert.equal(ranks.length, 0);
    assert.equal(BigInt(manifest.totals.rounding_dust_minor), dust);
  }
  assert.equal(ceilingCuts, BigInt(manifest.totals.capped_minor));
  assert.equal(belowMinCuts, BigInt(manifest.totals.below_min_minor));
  assert.equal(payout, BigInt(manifest.totals.payout_minor));
}

test('the worked example explains every actor as SPEC §9 tells it', () => {
  const dir = new URL('example/', root);
  const { inputs, policy } = docs(readFileSync(new URL('inputs.json', dir)), readFileSync(new URL('policy.json', dir)));
  const manifest = readFileSync(new URL('manifest-2026-01-01.json', dir));
  checkRun(inputs, policy, manifest);
  const explain = explainer(inputs, policy, JSON.parse(manifest.toString()));
  const alice = explain('did:ron:alice');
  assert.deepEqual(
    { status: alice.status, score: alice.score, total: alice.total_score, base: alice.base_minor, rem: alice.remainder, rank: alice.remainder_rank, plus: alice.plus_one, amount: alice.amount_minor },
    { status: 'paid', score: '1864', total: '5181', base: '359', rem: '4021', rank: 0, plus: true, amount: '360' },
  );
  assert.deepEqual(alice.kinds, [
    { kind: 'bytes_served', quantity: '4000', capped_quantity: '4000', weight: 1, divisor: 4, term: '1000' },
    { kind: 'uptime_s', quantity: '86400', capped_quantity: '86400', weight: 1, divisor: 100, term: '864' },
  ]);
  const bob = explain('did:ron:bob');
  assert.equal(bob.kinds[0]?.capped_quantity, '8000');
  assert.equal(bob.ceiling_cut_minor, '69');
  assert.equal(bob.amount_minor, '400');
  assert.equal(explain('did:ron:erin').remainder_rank, 1);
  assert.equal(explain('did:ron:erin').plus_one, true);
  const carol = explain('did:ron:carol');
  assert.deepEqual([carol.status, carol.below_min_cut_minor, carol.amount_minor, carol.proof], ['below_min', '4', '0', null]);
  const dave = explain('did:ron:dave');
  assert.deepEqual([dave.status, dave.score, dave.kinds.length, dave.remainder_rank], ['excluded', '0', 1, null]);
  const nobody = explain('did:ron:zed');
  assert.deepEqual([nobody.status, nobody.total_score, nobody.pool_minor, nobody.amount_minor], ['not_in_inputs', '5181', '1000', '0']);
});

for (const form of ['row', 'columnar']) {
  test(`every actor of the S ${form} golden vector is explained consistently with its manifest`, () => {
    const { inputs, policy } = docs(readFileSync(new URL(`S/inputs-${form}.json`, root)), readFileSync(new URL('S/policy.json', root)));
    checkRun(inputs, policy, readFileSync(new URL(`S/manifest-${form}.json`, root)));
  });
}

test('explanations of random runs agree with the calculus for every actor, small and huge magnitudes', () => {
  fc.assert(
    fc.property(fc.oneof(caseArb(), caseArb({ big: true }), caseArb({ token: true })), (c) => {
      const { inputs, policy } = docs(enc(inputsDoc(c, 'row')), enc(policyDoc(c)));
      const r = computeRun({ epochId: 'e1', inputs, inputsCid: `b3:${'1'.repeat(64)}`, policy, policyHash: `b3:${'2'.repeat(64)}` });
      if (!r.ok) return;
      checkRun(inputs, policy, r.value.manifest.bytes);
    }),
    { numRuns: 300 },
  );
});

test('an actor whose only counted events have quantity 0 has usage but a zero score', () => {
  const inputs = '{"schema":"rewarder.inputs/v1","window":{"start_ms":0,"end_ms":10},"pool_minor":"100","kinds":["a"],"actors":["x","y","z"],"events":[{"actor":"x","kind":"a","qty":0,"ts":1},{"actor":"y","kind":"a","qty":5,"ts":1},{"actor":"z","kind":"a","qty":5,"ts":10}]}';
  const policy = '{"schema":"rewarder.policy/v1","id":"p","rounding":"largest_remainder","kinds":{"a":{"weight":1}}}';
  const d = docs(enc(inputs), enc(policy));
  const r = computeRun({ epochId: 'e1', inputs: d.inputs, inputsCid: `b3:${'1'.repeat(64)}`, policy: d.policy, policyHash: `b3:${'2'.repeat(64)}` });
  assert.ok(r.ok);
  const explain = explainer(d.inputs, d.policy, JSON.parse(Buffer.from(r.value.manifest.bytes).toString()));
  assert.equal(explain('x').status, 'zero_score');
  assert.deepEqual(explain('x').kinds, [{ kind: 'a', quantity: '0', capped_quantity: '0', weight: 1, divisor: 1, term: '0' }]);
  assert.equal(explain('z').status, 'no_usage');
  assert.equal(explain('y').status, 'paid');
});

test('a manifest not computed from the documents is refused, not explained', () => {
  const dir = new URL('example/', root);
  const { inputs, policy } = docs(readFileSync(new URL('inputs.json', dir)), readFileSync(new URL('policy.json', dir)));
  const manifest = JSON.parse(readFileSync(new URL('manifest-2026-01-01.json', dir), 'utf8')) as { payouts: { amount_minor: string }[] };
  (manifest.payouts[0] as { amount_minor: string }).amount_minor = '361';
  const m = explainManifest(manifest);
  assert.ok(typeof m !== 'string');
  const r = offlineExplainer(inputs, policy, m)('did:ron:alice');
  assert.equal(r.ok, false);
});

test('the service path (prepared inputs, ids as UTF-8, a cloned basis) gives the offline bytes', () => {
  fc.assert(
    fc.property(fc.oneof(caseArb(), caseArb({ token: true })), (c) => {
      const { inputs, policy } = docs(enc(inputsDoc(c, 'columnar')), enc(policyDoc(c)));
      const r = computeRun({ epochId: 'e1', inputs, inputsCid: `b3:${'1'.repeat(64)}`, policy, policyHash: `b3:${'2'.repeat(64)}` });
      if (!r.ok) return;
      const manifest = explainManifest(JSON.parse(Buffer.from(r.value.manifest.bytes).toString()));
      assert.ok(typeof manifest !== 'string');
      const offline = offlineExplainer(inputs, policy, manifest);
      const p = prepare('b3:x', inputs);
      // What crosses from the worker: a structured clone.
      const basis = structuredClone(explainBasis(p.tally, inputs.actors.length, inputs.actors, policy));
      const index = buildProofIndex(manifest);
      for (const actor of [...inputs.actors, 'did:ron:a', 'did:ron:zzz', '']) {
        const proof = proveFromIndex(index, actor);
        const served = explainActor(basis, { kinds: p.tally.kinds, q: p.tally.q, seen: p.seen }, { epochId: 'e1', commitment: manifest.commitment }, actor, textIndex(p.ids, actor), proof === null ? null : proofPart(proof));
        const want = offline(actor);
        assert.ok(want.ok);
        assert.equal(canonicalize(served), canonicalize(want.value));
      }
    }),
    { numRuns: 200 },
  );
});

test('actor lookup over UTF-8 ids finds every id and nothing else', () => {
  const ids = ['a', 'ab', 'b', 'é', '\uffff', '😀'];
  const texts = encodeEach(ids);
  ids.forEach((id, i) => {
    assert.equal(textIndex(texts, id), i);
    assert.equal(actorIndex(ids, id), i);
  });
  for (const other of ['', 'aa', 'c', 'e', '😁', 'é\u0000']) {
    assert.equal(textIndex(texts, other), -1);
    assert.equal(actorIndex(ids, other), -1);
  }
});

// SPEC §13 corrections: the entries take every actor from what the basis paid to the new amounts,
// exactly, in UTF-8 actor order, sliced 4096 to a part. Every property here was checked to fail
// when the behaviour it names is broken on purpose.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { testManifest } from '../../testing/corrections.js';
import {
  type BasisPart,
  type ChainManifest,
  type CorrectionDocument,
  buildCorrection,
  chainManifest,
  correctionBasisParts,
  correctionParts,
  paidFrom,
  plainParts,
  verifyCorrection,
} from './correction.js';
import { b3, b3Text } from './hash.js';
import { canonicalBytes } from './jcs.js';
import { compareUtf8 } from './rules.js';

function chain(epochId: string, payouts: readonly (readonly [string, bigint | number])[]): ChainManifest {
  const m = chainManifest(testManifest(epochId, payouts));
  if (typeof m === 'string') assert.fail(m);
  return m;
}
const ref = (m: ChainManifest) => ({ epoch_id: m.epoch_id, commitment: m.commitment });
// Sums of a few such amounts stay money (≤ 2^128 − 1), as a budget-bounded chain does.
const money = fc.bigInt({ min: 0n, max: 1n << 120n });
const actors = fc.uniqueArray(fc.string({ unit: 'binary', minLength: 1, maxLength: 4 }), { maxLength: 30 });

test('credits and debits take each actor from what the old epoch paid to the new amounts, in UTF-8 order', () => {
  // U+E000 sorts after U+1F600 in UTF-16 code units, before it in UTF-8 bytes.
  const old = chain('e1', [['\u{1F600}', 5], ['alice', 100], ['bob', 50], ['carol', 30]]);
  const next = chain('e2', [['\u{E000}', 7], ['alice', 120], ['bob', 50], ['dave', 10]]);
  const doc = buildCorrection(next, ref(old), plainParts(old)) as CorrectionDocument;
  assert.deepEqual(doc.entries, [
    { actor: 'alice', op: 'credit', amount_minor: '20' },
    { actor: 'carol', op: 'debit', amount_minor: '30' },
    { actor: 'dave', op: 'credit', amount_minor: '10' },
    { actor: '\u{E000}', op: 'credit', amount_minor: '7' },
    { actor: '\u{1F600}', op: 'debit', amount_minor: '5' },
  ]);
  assert.deepEqual(doc.totals, { credit_minor: '37', debit_minor: '35' });
  assert.equal(doc.schema, 'rewarder.correction/v1');
  assert.deepEqual(doc.supersedes, ref(old));
  assert.equal(doc.commitment, next.commitment);
  assert.deepEqual(doc.basis, [b3Text(`rewarder.intent.v1|${old.run_key}|0|1`)]);
  const { correction_commitment, ...rest } = doc;
  assert.equal(correction_commitment, b3(canonicalBytes(rest)));
  assert.equal(verifyCorrection(doc, [old, next], []), null);
});

test('an empty basis gives no correction: the new epoch settles as a plain intent', () => {
  assert.equal(buildCorrection(chain('e2', [['a', 1]]), ref(chain('e1', [['a', 2]])), []), null);
});

test('a correction equal to what was paid has a document but no parts', () => {
  const old = chain('e1', [['a', 2]]);
  const doc = buildCorrection(chain('e2', [['a', 2]]), ref(old), plainParts(old)) as CorrectionDocument;
  assert.deepEqual([doc.entries, doc.totals], [[], { credit_minor: '0', debit_minor: '0' }]);
  assert.deepEqual(correctionParts(doc, chain('e2', [['a', 2]]).run_key), []);
});

test('parts hold 4096 entries: 4095, 4096 and 4097 entries make 1, 1 and 2 parts with §13 ids and bodies', () => {
  for (const n of [4095, 4096, 4097]) {
    const next = chain('e2', Array.from({ length: n }, (_, i) => [`a${String(i).padStart(5, '0')}`, i + 1] as const));
    const basis: BasisPart[] = [{ part_id: b3Text('p'), moves: [] }];
    const doc = buildCorrection(next, { epoch_id: 'e1', commitment: b3Text('c') }, basis) as CorrectionDocument;
    const parts = correctionParts(doc, next.run_key);
    const count = n > 4096 ? 2 : 1;
    assert.equal(parts.length, count);
    let seen = 0;
    parts.forEach((p, i) => {
      const id = b3Text(`rewarder.correction.v1|${next.run_key}|${i}|${count}`);
      const body = JSON.parse(new TextDecoder().decode(p.body)) as Record<string, unknown> & { entries: unknown[] };
      assert.deepEqual(canonicalBytes(body), p.body, 'the body is JCS');
      assert.deepEqual(Object.keys(body).sort(), ['commitment', 'correction_commitment', 'entries', 'epoch_id', 'kind', 'part', 'part_id', 'run_key', 'supersedes']);
      assert.equal(p.partId, id);
      assert.equal(body.part_id, id);
      assert.equal(body.kind, 'correction');
      assert.equal(body.run_key, next.run_key);
      assert.equal(body.correction_commitment, doc.correction_commitment);
      assert.deepEqual(body.part, { index: i, count });
      assert.deepEqual(body.entries, doc.entries.slice(seen, seen + 4096));
      seen += body.entries.length;
    });
    assert.equal(seen, n);
    const signed = correctionParts(doc, next.run_key, { commitment: doc.correction_commitment, signatures: [] })[0];
    assert.deepEqual((JSON.parse(new TextDecoder().decode(signed?.body)) as { attestation: unknown }).attestation, { commitment: doc.correction_commitment, signatures: [] });
  }
});

test('once every entry is applied, paid(a) = amount_new(a); credit − debit = payout_new − Σ paid; entries ordered', () => {
  const moves = actors.chain((names) =>
    fc.tuple(
      fc.constant(names),
      fc.array(fc.array(fc.tuple(fc.constantFrom(...(names.length > 0 ? names : ['x'])), money, fc.boolean()), { maxLength: 20 }), { maxLength: 5 }),
      fc.uniqueArray(fc.tuple(fc.string({ unit: 'binary', minLength: 1, maxLength: 4 }), money), { selector: (p) => p[0], maxLength: 30 }),
    ),
  );
  fc.assert(
    fc.property(moves, ([, parts, payouts]) => {
      // A basis may debit (a correction part of the chain), but never below zero overall per actor.
      const basis: BasisPart[] = parts.map((p, i) => ({ part_id: b3Text(`part ${i}`), moves: p.map(([actor, amount, debit]) => ({ actor, amount: debit ? -amount : amount })) }));
      const paid = paidFrom(basis);
      fc.pre([...paid.values()].every((v) => v >= 0n));
      const next = chain('e2', payouts);
      const doc = buildCorrection(next, { epoch_id: 'e1', commitment: b3Text('c') }, basis);
      if (basis.length === 0) return assert.equal(doc, null);
      assert.ok(doc !== null);
      const after = paidFrom([...basis, ...correctionBasisParts(next.run_key, doc.entries)]);
      for (const [actor, amount] of payouts) assert.equal(after.get(actor) ?? 0n, amount);
      for (const [actor, v] of after) if (!payouts.some(([a]) => a === actor)) assert.equal(v, 0n);
      const totalPaid = [...paid.values()].reduce((s, v) => s + v, 0n);
      assert.equal(BigInt(doc.totals.credit_minor) - BigInt(doc.totals.debit_minor), next.payout_minor - totalPaid);
      for (let i = 1; i < doc.entries.length; i++) assert.ok(compareUtf8(doc.entries[i - 1]!.actor, doc.entries[i]!.actor) < 0);
      assert.ok(doc.entries.every((e) => e.amount_minor !== '0'));
    }),
    { numRuns: 200 },
  );
});

test('a chain of three epochs: the third pays what the second corrected, and every correction verifies offline', () => {
  const e1 = chain('e1', [['a', 100], ['b', 40], ['c', 9]]);
  const e2 = chain('e2', [['a', 80], ['b', 60]]);
  const e3 = chain('e3', [['a', 90], ['c', 1], ['d', 5]]);
  const c2 = buildCorrection(e2, ref(e1), plainParts(e1)) as CorrectionDocument;
  assert.deepEqual(c2.entries.map((e) => `${e.actor}${e.op === 'credit' ? '+' : '-'}${e.amount_minor}`), ['a-20', 'b+20', 'c-9']);
  // The basis of e3: e2's correction parts (acknowledged) and, recursively, e1's plain part.
  const basis = [...plainParts(e1), ...correctionBasisParts(e2.run_key, c2.entries)];
  const c3 = buildCorrection(e3, ref(e2), basis) as CorrectionDocument;
  assert.deepEqual(c3.entries.map((e) => `${e.actor}${e.op === 'credit' ? '+' : '-'}${e.amount_minor}`), ['a+10', 'b-60', 'c+1', 'd+5']);
  assert.equal(verifyCorrection(c3, [e1, e2, e3], [c2]), null);
  // Without e2's correction document, its parts are unknown.
  assert.match(verifyCorrection(c3, [e1, e2, e3], []) ?? '', /^\$\.basis: part b3:[0-9a-f]{64} is not a part of the superseded chain/);
  // A partially acknowledged basis (only e1's part): entries against e1's amounts alone.
  const partial = buildCorrection(e3, ref(e2), plainParts(e1)) as CorrectionDocument;
  assert.equal(verifyCorrection(partial, [e1, e2, e3], [c2]), null);
  assert.deepEqual(partial.entries.map((e) => `${e.actor}${e.op === 'credit' ? '+' : '-'}${e.amount_minor}`), ['a-10', 'b-40', 'c-8', 'd+5']);
  // A tampered earlier correction is named.
  const forged = { ...c2, entries: c2.entries.map((e, i) => (i === 0 ? { ...e, amount_minor: '21' } : e)) };
  assert.match(verifyCorrection(c3, [e1, e2, e3], [forged]) ?? '', /^correction of e2: \$\.entries\[0\]\.amount_minor: expected "20", got "21"/);
});

test('verification names the first difference', () => {
  const old = chain('e1', [['a', 3], ['b', 4]]);
  const next = chain('e2', [['a', 5]]);
  const doc = buildCorrection(next, ref(old), plainParts(old)) as CorrectionDocument;
  const entries = doc.entries.map((e) => ({ ...e }));
  entries[1]!.op = 'credit';
  assert.equal(verifyCorrection({ ...doc, entries }, [old, next], []), '$.entries[1].op: expected "debit", got "credit"');
  assert.match(verifyCorrection({ ...doc, correction_commitment: b3Text('x') }, [old, next], []) ?? '', /^\$\.correction_commitment: expected/);
  assert.match(verifyCorrection(doc, [next], []) ?? '', /^no --chain manifest for superseded epoch e1/);
  assert.match(verifyCorrection(doc, [old], []) ?? '', /^no --chain manifest has the correction's commitment/);
  assert.match(verifyCorrection({ ...doc, basis: [] }, [old, next], []) ?? '', /^\$\.basis: empty/);
  const tampered = testManifest('e1', [['a', 3], ['b', 4]]);
  (tampered.payouts as { amount_minor: string }[])[0]!.amount_minor = '2';
  assert.match(chainManifest(tampered) as string, /commitment does not recompute/);
});

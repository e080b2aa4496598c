import assert from 'node:assert/strict';
import { test } from 'node:test';
import { intentParts } from './intents.js';
import { canonicalize } from './jcs.js';
import { partId } from './keys.js';
import { type ManifestHead, buildManifest } from './manifest.js';

const head = {
  run_key: 'b3:6f622f2e190b8bad182a928204d6cab66b7e44e1f8372bb51a82facf14a462bb',
  epoch_id: '2026-01-01',
  commitment: `b3:${'c'.repeat(64)}`,
  payouts_root: `b3:${'d'.repeat(64)}`,
} as ManifestHead;
const credits = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ actor: `a${String(i).padStart(6, '0')}`, amount_minor: `${i + 1}` }));

test('a run without payees has no ledger parts', () => {
  assert.deepEqual(intentParts(head, []), []);
});

test('payouts split in payee order into parts of 4096 credits with derived part ids', () => {
  const parts = intentParts(head, credits(4096 * 2 + 1));
  assert.deepEqual(parts.map((p) => [p.index, p.count]), [[0, 3], [1, 3], [2, 3]]);
  const bodies = parts.map((p) => JSON.parse(Buffer.from(p.body).toString()));
  assert.deepEqual(bodies.map((b) => b.credits.length), [4096, 4096, 1]);
  assert.equal(bodies[1].credits[0].actor, 'a004096');
  parts.forEach((p, i) => {
    assert.equal(p.partId, partId(head.run_key, i, 3));
    assert.equal(bodies[i].part_id, p.partId);
    assert.deepEqual(bodies[i].part, { index: i, count: 3 });
  });
  assert.deepEqual(intentParts(head, credits(4096)).map((p) => p.count), [1]);
});

test('bodies are canonical and identical on every build (the ledger compares them)', () => {
  const a = intentParts(head, credits(10));
  const b = intentParts(head, credits(10));
  assert.deepEqual(a[0]?.body, b[0]?.body);
  const text = Buffer.from(a[0]?.body as Uint8Array).toString();
  assert.equal(canonicalize(JSON.parse(text)), text, 'the body is its own JCS form');
  assert.ok(!text.includes('attestation'));
  const signed = Buffer.from(intentParts(head, credits(1), { commitment: 'x', signatures: [] })[0]?.body as Uint8Array).toString();
  assert.ok(signed.includes('"attestation":{"commitment":"x","signatures":[]}'));
  assert.equal(canonicalize(JSON.parse(signed)), signed);
});

test('splicing an attestation into a built part gives exactly the body built with it', async () => {
  const { withAttestation } = await import('./intents.js');
  const attestation = { commitment: head.commitment, signatures: [{ alg: 'Ed25519', key_id: 'b3:x', sig: 'AA==' }] };
  const plain = intentParts(head, credits(5000));
  const signed = intentParts(head, credits(5000), attestation);
  plain.forEach((p, i) => assert.deepEqual(withAttestation(p, attestation).body, signed[i]?.body));
});

test("parts built from a manifest's leaves equal parts built from the credits as objects", () => {
  // Non-ASCII and escaped actors too: the leaves are copied as bytes, the objects canonicalised.
  const actors = ['a"quote', 'b\\back', 'c-ascii', 'dé', 'e😀'];
  const payees = Array.from({ length: 4096 + 7 }, (_, i) => ({ actor: `${actors[i % 5]}${String(i).padStart(5, '0')}`, amount: BigInt(i + 1) }));
  payees.sort((x, y) => (Buffer.compare(Buffer.from(x.actor), Buffer.from(y.actor))));
  const calc = {
    counts: { actors: payees.length, events: 0, ignoredEvents: 0, excludedActors: 0, payees: payees.length },
    totals: { poolInput: 0n, pool: 0n, payout: 0n, residual: 0n, capped: 0n, belowMin: 0n, roundingDust: 0n },
    payees: payees.map((p, index) => ({ ...p, index, score: 1n })),
    arithmetic: 'number' as const,
  };
  const ref = { epochId: 'e', inputsCid: head.commitment, policyId: 'p', policyHash: head.commitment, window: { startMs: 0, endMs: 1 } };
  const m = buildManifest(ref, calc);
  const fromLeaves = intentParts(head, m.leaves);
  const fromObjects = intentParts(head, payees.map((p) => ({ actor: p.actor, amount_minor: String(p.amount) })));
  assert.equal(fromLeaves.length, 2);
  fromLeaves.forEach((p, i) => assert.deepEqual(Buffer.from(p.body).toString(), Buffer.from(fromObjects[i]?.body as Uint8Array).toString()));
});

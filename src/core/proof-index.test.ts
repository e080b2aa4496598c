import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { formatDigest } from './hash.js';
import { merkleRoot, leafData } from './merkle.js';
import { checkProof, manifestPayouts, proveActor } from './proof.js';
import { buildProofIndex, proveFromIndex } from './proof-index.js';

const repo = new URL('../../../', import.meta.url);
const VECTORS = ['vectors/example/manifest-2026-01-01.json', 'vectors/S/manifest-row.json', 'vectors/S/manifest-columnar.json'];

test('the index proves every payee of the golden vectors exactly as a freshly built tree does', () => {
  for (const file of VECTORS) {
    const m = manifestPayouts(JSON.parse(readFileSync(new URL(file, repo), 'utf8')));
    if (typeof m === 'string') assert.fail(`${file}: ${m}`);
    assert.ok(m.payouts.length > 0, file);
    const ix = buildProofIndex(m);
    const root = ix.levelStarts.length > 1 ? formatDigest(ix.nodes.subarray(ix.nodes.length - 32)) : '';
    assert.equal(root, m.payouts_root, `${file}: the index's top node is the manifest's root`);
    for (const p of m.payouts) {
      const got = proveFromIndex(ix, p.actor);
      assert.deepEqual(got, proveActor(m, p.actor), `${file} ${p.actor}`);
      assert.ok(checkProof(got, m.payouts_root).ok, `${file} ${p.actor} verifies`);
    }
    assert.equal(proveFromIndex(ix, 'did:nobody:here'), null);
    assert.equal(proveFromIndex(ix, ''), null);
    assert.equal(proveFromIndex(ix, `${m.payouts[0]?.actor ?? ''}x`), null, 'a longer id is not a prefix match');
  }
});

test('for any tree size and order of actors, index proofs equal the reference audit paths', () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s.isWellFormed()), { minLength: 1, maxLength: 70 }), (actors) => {
      const payouts = actors.map((actor, i) => ({ actor, amount_minor: String(i * 7 + 1) }));
      const root = formatDigest(merkleRoot(payouts.map((p) => leafData(p.actor, p.amount_minor))));
      const m = { epoch_id: 'e', payouts_root: root, payouts };
      const ix = buildProofIndex(m);
      for (const p of payouts) {
        const got = proveFromIndex(ix, p.actor);
        assert.deepEqual(got, proveActor(m, p.actor));
        assert.ok(checkProof(got, root).ok);
      }
      assert.equal(proveFromIndex(ix, 'x'.repeat(13)), null, 'longer than any generated actor');
    }),
    { numRuns: 150 },
  );
});

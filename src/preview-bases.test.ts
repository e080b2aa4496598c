import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CompareBasis, compareBasis, compareBasisBytes } from './core/compare-packed.js';
import { PreviewBases } from './preview-bases.js';

const basis = (commitment: string): CompareBasis => {
  const b = compareBasis({
    epoch_id: 'e',
    commitment,
    inputs_cid: 'i',
    policy_hash: 'p',
    totals: { pool_input_minor: 5n, pool_minor: 5n, payout_minor: 5n, residual_minor: 0n, capped_minor: 0n, below_min_minor: 0n, rounding_dust_minor: 0n },
    payouts: [{ actor: 'did:ron:a', amount: 5n }],
  });
  assert.ok(b !== null);
  return b;
};

test('bases are kept by commitment under the byte budget, least recently used out', () => {
  const one = compareBasisBytes(basis('c0')); // every basis here has the same size
  const kept = new PreviewBases(2 * one);
  const [b1, b2, b3] = [basis('c1'), basis('c2'), basis('c3')];
  kept.keep('c1', b1);
  kept.keep('c2', b2);
  assert.equal(kept.get('c1'), b1);
  kept.keep('c3', b3);
  assert.equal(kept.get('c2'), undefined, 'the least recently used went');
  assert.deepEqual([kept.get('c1'), kept.get('c3')], [b1, b3]);
  assert.equal(kept.bytes, 2 * one);
});

test('a basis is not kept under another commitment, nor when it alone exceeds the budget', () => {
  const kept = new PreviewBases(1 << 20);
  kept.keep('c2', basis('c1'));
  assert.equal(kept.get('c2'), undefined);
  assert.equal(kept.bytes, 0);
  const small = new PreviewBases(compareBasisBytes(basis('c0')) - 1);
  small.keep('c1', basis('c1'));
  assert.equal(small.get('c1'), undefined);
  assert.equal(small.bytes, 0);
});

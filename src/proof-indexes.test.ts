import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildProofIndex } from './core/proof-index.js';
import { proofIndexBytes } from './core/proof-index.js';
import { ProofIndexes } from './proof-indexes.js';

const index = (epochId: string) =>
  buildProofIndex({ epoch_id: epochId, payouts_root: `b3:${'0'.repeat(64)}`, payouts: [{ actor: `a-${epochId}`, amount_minor: '1' }] });

test('an index is built once however many ask at once, then found by epoch without the store', async () => {
  const p = new ProofIndexes(1 << 20);
  let builds = 0;
  const build = async () => (builds++, index('e1'));
  const [a, b] = await Promise.all([p.get('m1', build), p.get('m1', build)]);
  assert.equal(builds, 1);
  assert.equal(a, b);
  assert.equal(p.ofEpoch('e1'), a);
  assert.equal(p.ofEpoch('e2'), undefined);
});

test('indexes are kept under the byte budget, least recently used out, and a failed build is not kept', async () => {
  const one = proofIndexBytes(index('e0')); // every index here has the same size
  const p = new ProofIndexes(2 * one);
  await p.get('m1', async () => index('e1'));
  await p.get('m2', async () => index('e2'));
  await p.get('m1', async () => assert.fail('kept'));
  await p.get('m3', async () => index('e3'));
  assert.equal(p.ofEpoch('e2'), undefined, 'the least recently used went');
  assert.notEqual(p.ofEpoch('e1'), undefined);
  assert.ok(p.bytes <= 2 * one);
  await assert.rejects(p.get('m4', async () => Promise.reject(new Error('worker failed'))), /worker failed/);
  assert.equal(p.ofEpoch('e4'), undefined);
  let rebuilt = false;
  await p.get('m4', async () => ((rebuilt = true), index('e4')));
  assert.ok(rebuilt, 'a failed build is tried again');
});

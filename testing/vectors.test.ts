// Golden vectors: the committed S set must reproduce byte for byte through the CLI's code path,
// and regenerating M and L must give the committed CIDs and commitments, so a change in the
// generator or the engine cannot slip through without a new version.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { b3 } from '../src/core/hash.js';
import type { Form, Scale } from '../src/gen/generate.js';
import { goldenRun } from '../scripts/update-vectors.js';

interface Golden {
  scale: Scale;
  seed: number;
  form: Form;
  epoch_id: string;
  inputs_cid: string;
  policy_hash: string;
  run_key: string;
  payouts_root: string;
  commitment: string;
}

const root = new URL('../../vectors/', import.meta.url);
const golden = JSON.parse(readFileSync(new URL('golden.json', root), 'utf8')) as Golden[];

test('the golden table covers S, M and L in both forms', () => {
  assert.deepEqual(
    golden.map((g) => `${g.scale}/${g.form}`),
    ['S/row', 'S/columnar', 'M/row', 'M/columnar', 'L/row', 'L/columnar'],
  );
});

for (const form of ['row', 'columnar'] as Form[]) {
  test(`the committed S ${form} vector reproduces its manifest byte for byte`, () => {
    const { g, manifest } = goldenRun('S', form);
    assert.equal(b3(g.inputs), b3(readFileSync(new URL(`S/inputs-${form}.json`, root))));
    assert.equal(b3(g.policy), b3(readFileSync(new URL('S/policy.json', root))));
    assert.equal(Buffer.from(manifest.bytes).toString(), readFileSync(new URL(`S/manifest-${form}.json`, root), 'utf8'));
  });
}

for (const entry of golden) {
  test(`regenerating ${entry.scale} ${entry.form} gives the committed CIDs and commitment`, () => {
    const { g, manifest } = goldenRun(entry.scale, entry.form);
    assert.equal(b3(g.inputs), entry.inputs_cid);
    assert.equal(b3(g.policy), entry.policy_hash);
    assert.equal(manifest.runKey, entry.run_key);
    assert.equal(manifest.payoutsRoot, entry.payouts_root);
    assert.equal(manifest.commitment, entry.commitment);
  });
}

test('row and columnar forms of each scale share payouts_root (same data, different bytes)', () => {
  for (const scale of ['S', 'M', 'L']) {
    const [row, col] = golden.filter((g) => g.scale === scale);
    assert.ok(row && col);
    assert.equal(row.payouts_root, col.payouts_root);
    assert.notEqual(row.inputs_cid, col.inputs_cid);
  }
});

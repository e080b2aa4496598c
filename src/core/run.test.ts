import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { b3 } from './hash.js';
import { decodeInputs } from './inputs.js';
import { partId, runKey } from './keys.js';
import { decodePolicy } from './policy.js';
import { computeRun, seal } from './run.js';

const dir = new URL('../../../vectors/example/', import.meta.url);
const inputsBytes = readFileSync(new URL('inputs.json', dir));
const policyBytes = readFileSync(new URL('policy.json', dir));
const expected = readFileSync(new URL('manifest-2026-01-01.json', dir));

function exampleRun(epochId = '2026-01-01') {
  const inputs = decodeInputs(inputsBytes);
  const policy = decodePolicy(policyBytes);
  assert.ok(inputs.ok && policy.ok);
  return computeRun({
    epochId,
    inputs: inputs.value,
    inputsCid: b3(inputsBytes),
    policy: policy.value,
    policyHash: b3(policyBytes),
  });
}

test('the SPEC §9 example reproduces the published manifest byte for byte', () => {
  const run = exampleRun();
  assert.ok(run.ok);
  assert.equal(Buffer.from(run.value.manifest.bytes).toString(), expected.toString());
  assert.equal(run.value.manifest.commitment, 'b3:20a6880bf936032741a1dc0d285d46a4fe85ee11a7c0d3db8ac3be64e616e1c7');
  assert.equal(run.value.manifest.payoutsRoot, 'b3:d6bdc847ba63d60c47857cb7d5085ee333704038d8fea3790b2413c897fee5aa');
});

test('the SPEC §9 example has the documented scores, amounts and totals', () => {
  const run = exampleRun();
  assert.ok(run.ok);
  const c = run.value.calculation;
  assert.deepEqual(
    c.payees.map((p) => [p.actor, p.amount, p.score]),
    [
      ['did:ron:alice', 360n, 1864n],
      ['did:ron:bob', 400n, 2432n],
      ['did:ron:erin', 167n, 864n],
    ],
  );
  assert.deepEqual(c.totals, {
    poolInput: 1000n,
    pool: 1000n,
    payout: 927n,
    residual: 73n,
    capped: 69n,
    belowMin: 4n,
    roundingDust: 0n,
  });
  assert.deepEqual(c.counts, { actors: 5, events: 8, ignoredEvents: 1, excludedActors: 1, payees: 3 });
});

test('seal names the SPEC §9 CIDs of both example documents', () => {
  const i = seal(inputsBytes);
  const p = seal(policyBytes);
  assert.ok(i.ok && p.ok);
  assert.equal(i.value.cid, 'b3:915e47e7f5e6dcb39e5e129586e416123070411bb4307cbb8ed4bdc971e60cd9');
  assert.equal(p.value.cid, 'b3:ba421cee62a9e324e2dc3fbf61d53b5eeabc96fd22f27ec556412a18e1931854');
  assert.equal(i.value.schema, 'rewarder.inputs/v1');
  assert.equal(p.value.schema, 'rewarder.policy/v1');
});

test('run_key matches SPEC §9 and part ids depend on index and count', () => {
  const key = runKey(
    '2026-01-01',
    'b3:915e47e7f5e6dcb39e5e129586e416123070411bb4307cbb8ed4bdc971e60cd9',
    'b3:ba421cee62a9e324e2dc3fbf61d53b5eeabc96fd22f27ec556412a18e1931854',
  );
  assert.equal(key, 'b3:6f622f2e190b8bad182a928204d6cab66b7e44e1f8372bb51a82facf14a462bb');
  assert.equal(partId(key, 0, 1), b3(new TextEncoder().encode(`rewarder.intent.v1|${key}|0|1`)));
  assert.notEqual(partId(key, 0, 1), partId(key, 0, 2));
});

test('a different epoch gives a different run_key and commitment over the same payouts', () => {
  const a = exampleRun('2026-01-01');
  const b = exampleRun('2026-01-02');
  assert.ok(a.ok && b.ok);
  assert.notEqual(a.value.manifest.runKey, b.value.manifest.runKey);
  assert.notEqual(a.value.manifest.commitment, b.value.manifest.commitment);
  assert.equal(a.value.manifest.payoutsRoot, b.value.manifest.payoutsRoot);
});

test('an invalid epoch id is refused before any calculation', () => {
  const r = exampleRun('bad epoch/id');
  assert.ok(!r.ok);
  assert.equal(r.error.kind, 'epoch');
});

test('the manifest head built from a run equals the head read back from its bytes', async () => {
  const { headFromManifest, manifestHead } = await import('./manifest.js');
  const run = exampleRun();
  assert.ok(run.ok);
  const { manifest, calculation } = run.value;
  const ref = {
    epochId: '2026-01-01',
    inputsCid: b3(inputsBytes),
    policyId: 'example-1',
    policyHash: b3(policyBytes),
    window: { startMs: 1767225600000, endMs: 1767312000000 },
  };
  assert.deepEqual(manifestHead(ref, manifest, calculation), headFromManifest(manifest.bytes));
});

test('manifests built by the engine are canonical JCS (S golden vector)', async () => {
  const { canonicalize } = await import('./jcs.js');
  const text = readFileSync(new URL('../S/manifest-columnar.json', dir), 'utf8');
  assert.equal(canonicalize(JSON.parse(text)), text);
});

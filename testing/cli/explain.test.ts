// `rewarder explain` as a payee meets it: the SPEC §11 bytes of any actor from the documents, and
// a refusal (exit 1) when the documents are not what the manifest was computed from.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { explainManifest, explanationBytes, offlineExplainer } from '../../src/core/explain.js';
import { decodeInputs } from '../../src/core/inputs.js';
import { decodePolicy } from '../../src/core/policy.js';
import { BIN, ROOT } from '../harness.js';

const EX = 'vectors/example/';

function rewarder(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('explain prints the canonical explanation of a payee, a cut actor and an unknown one', () => {
  const inputs = decodeInputs(readFileSync(new URL(`../../../${EX}inputs.json`, import.meta.url)));
  const policy = decodePolicy(readFileSync(new URL(`../../../${EX}policy.json`, import.meta.url)));
  const manifest = explainManifest(JSON.parse(readFileSync(new URL(`../../../${EX}manifest-2026-01-01.json`, import.meta.url), 'utf8')));
  assert.ok(inputs.ok && policy.ok && typeof manifest !== 'string');
  const explain = offlineExplainer(inputs.value, policy.value, manifest);
  for (const actor of ['did:ron:alice', 'did:ron:carol', 'did:ron:nobody']) {
    const r = rewarder('explain', `${EX}manifest-2026-01-01.json`, actor, '--inputs', `${EX}inputs.json`, '--policy', `${EX}policy.json`);
    assert.equal(r.code, 0, r.stderr);
    const want = explain(actor);
    assert.ok(want.ok);
    assert.equal(r.stdout, Buffer.from(explanationBytes(want.value)).toString());
  }
  const alice = JSON.parse(rewarder('explain', `${EX}manifest-2026-01-01.json`, 'did:ron:alice', '--inputs', `${EX}inputs.json`, '--policy', `${EX}policy.json`).stdout) as { status: string; amount_minor: string };
  assert.deepEqual([alice.status, alice.amount_minor], ['paid', '360']);
});

test('explain refuses inputs the manifest was not computed from (exit 1, one line)', () => {
  const r = rewarder('explain', `${EX}manifest-2026-01-01.json`, 'did:ron:alice', '--inputs', 'vectors/S/inputs-row.json', '--policy', `${EX}policy.json`);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^rewarder: vectors\/S\/inputs-row.json is not the inputs .* was computed from\n$/);
});

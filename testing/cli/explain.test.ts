// `rewarder explain` as a payee meets it: the SPEC §11 bytes of any actor from the documents, and
// a refusal (exit 1) when the documents are not what the manifest was computed from.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildCorrection, chainManifest } from '../../src/core/correction.js';
import { explainManifest, explanationBytes, offlineExplainer } from '../../src/core/explain.js';
import { canonicalBytes } from '../../src/core/jcs.js';
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

test('explain --correction says what a correction changed for the actor: paid before, the new amount, the credit or debit', () => {
  const manifestText = readFileSync(new URL(`../../../${EX}manifest-2026-01-01.json`, import.meta.url), 'utf8');
  const next = chainManifest(JSON.parse(manifestText));
  assert.ok(typeof next !== 'string');
  // What a superseded chain had paid (the ledger's acknowledged basis): alice and bob 400, dave 50.
  const basis = [{ part_id: `b3:${'1'.repeat(64)}`, moves: [{ actor: 'did:ron:alice', amount: 400n }, { actor: 'did:ron:bob', amount: 400n }, { actor: 'did:ron:dave', amount: 50n }] }];
  const doc = buildCorrection(next, { epoch_id: '2025-12-31', commitment: `b3:${'0'.repeat(64)}` }, basis);
  assert.ok(doc !== null);
  const dir = mkdtempSync(join(tmpdir(), 'rewarder-explain-'));
  try {
    const file = join(dir, 'correction.json');
    writeFileSync(file, canonicalBytes(doc));
    const run = (actor: string) => rewarder('explain', `${EX}manifest-2026-01-01.json`, actor, '--inputs', `${EX}inputs.json`, '--policy', `${EX}policy.json`, '--correction', file);
    const plain = (actor: string) => rewarder('explain', `${EX}manifest-2026-01-01.json`, actor, '--inputs', `${EX}inputs.json`, '--policy', `${EX}policy.json`).stdout;
    const cases: [string, string, string, unknown][] = [
      ['did:ron:alice', '400', '360', { op: 'debit', amount_minor: '40' }],
      ['did:ron:bob', '400', '400', null],
      ['did:ron:dave', '50', '0', { op: 'debit', amount_minor: '50' }],
      ['did:ron:erin', '0', '167', { op: 'credit', amount_minor: '167' }],
    ];
    for (const [actor, before, after, change] of cases) {
      const r = run(actor);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { correction: Record<string, unknown>; explanation: unknown };
      assert.deepEqual(out.correction, {
        epoch_id: '2026-01-01',
        supersedes: { epoch_id: '2025-12-31', commitment: `b3:${'0'.repeat(64)}` },
        correction_commitment: doc.correction_commitment,
        paid_before_minor: before,
        amount_minor: after,
        change,
      }, actor);
      assert.deepEqual(out.explanation, JSON.parse(plain(actor)), `${actor}: the §11 explanation is unchanged`);
    }
    // A correction of another epoch is refused.
    writeFileSync(file, canonicalBytes({ ...doc, commitment: `b3:${'2'.repeat(64)}` }));
    const wrong = run('did:ron:alice');
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /is not the correction of this manifest/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

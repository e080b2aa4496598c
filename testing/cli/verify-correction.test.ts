// `rewarder verify-correction` as an auditor meets it: the shipped example manifest corrected by a
// new epoch (credits and debits), recomputed from files alone; every tampering named in one line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type ChainManifest, type CorrectionDocument, buildCorrection, chainManifest, correctionBasisParts, plainParts } from '../../src/core/correction.js';
import { canonicalBytes } from '../../src/core/jcs.js';
import { testManifest } from '../corrections.js';
import { BIN, ROOT } from '../harness.js';

const EX = join(ROOT, 'vectors/example/manifest-2026-01-01.json');

function rewarder(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function chain(doc: unknown): ChainManifest {
  const m = chainManifest(doc);
  if (typeof m === 'string') assert.fail(m);
  return m;
}

test('verify-correction accepts a correction of the example epoch and names every difference', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'verify-correction-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, v: unknown) => {
    const p = join(dir, name);
    writeFileSync(p, typeof v === 'string' ? v : canonicalBytes(v));
    return p;
  };
  // The example pays alice 360, bob 400, erin 167; the re-issue pays alice more, bob less, erin
  // nothing and frank for the first time.
  const e1 = chain(JSON.parse(readFileSync(EX, 'utf8')));
  const m2 = testManifest('2026-01-01-fix', [['did:ron:alice', 400], ['did:ron:bob', 390], ['did:ron:frank', 25]]);
  const e2 = chain(m2);
  const c2 = buildCorrection(e2, { epoch_id: e1.epoch_id, commitment: e1.commitment }, plainParts(e1)) as CorrectionDocument;
  assert.deepEqual(c2.entries, [
    { actor: 'did:ron:alice', op: 'credit', amount_minor: '40' },
    { actor: 'did:ron:bob', op: 'debit', amount_minor: '10' },
    { actor: 'did:ron:erin', op: 'debit', amount_minor: '167' },
    { actor: 'did:ron:frank', op: 'credit', amount_minor: '25' },
  ]);
  const f2 = file('m2.json', m2);
  const fc2 = file('c2.json', c2);

  const ok = rewarder('verify-correction', fc2, '--chain', EX, f2);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, new RegExp(`^ok ${c2.correction_commitment} 4 entries in 1 part\\(s\\), credit 65 debit 177, basis 1 part\\(s\\)\\npart 0/1 b3:[0-9a-f]{64}\\n$`));

  // A third epoch over the second's correction: needs that correction document to know its parts.
  const m3 = testManifest('2026-01-01-fix2', [['did:ron:alice', 400], ['did:ron:bob', 400]]);
  const e3 = chain(m3);
  const c3 = buildCorrection(e3, { epoch_id: e2.epoch_id, commitment: e2.commitment }, [...plainParts(e1), ...correctionBasisParts(e2.run_key, c2.entries)]) as CorrectionDocument;
  const f3 = file('m3.json', m3);
  const fc3 = file('c3.json', c3);
  assert.equal(rewarder('verify-correction', fc3, '--chain', EX, f2, f3, '--corrections', fc2).code, 0);
  const without = rewarder('verify-correction', fc3, '--chain', EX, f2, f3);
  assert.equal(without.code, 1);
  assert.match(without.stderr, /^rewarder: .*c3\.json differs: \$\.basis: part b3:[0-9a-f]{64} is not a part of the superseded chain/);

  // Tampered amount, missing manifest, non-canonical bytes: exit 1, one line naming the difference.
  const forged = file('forged.json', { ...c2, entries: c2.entries.map((e, i) => (i === 2 ? { ...e, amount_minor: '160' } : e)) });
  const bad = rewarder('verify-correction', forged, '--chain', EX, f2);
  assert.deepEqual([bad.code, bad.stderr.split('\n').length], [1, 2]);
  assert.match(bad.stderr, /differs: \$\.entries\[2\]\.amount_minor: expected "167", got "160"\n$/);
  assert.match(rewarder('verify-correction', fc2, '--chain', f2).stderr, /differs: no --chain manifest for superseded epoch 2026-01-01/);
  const spaced = file('spaced.json', JSON.stringify(c2, null, 1));
  assert.match(rewarder('verify-correction', spaced, '--chain', EX, f2).stderr, /differs: not the canonical bytes \(JCS\)/);

  // Bad usage and files that are not the documents: exit 2, one line.
  for (const argv of [[fc2], [fc2, '--chian', EX], ['--chain', EX], [fc2, '--chain', join(dir, 'absent.json')], [EX, '--chain', EX], [fc2, '--chain', fc2]]) {
    const r = rewarder('verify-correction', ...argv);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.split('\n').length, 2, r.stderr);
  }
});

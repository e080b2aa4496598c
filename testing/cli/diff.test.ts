// `rewarder diff` as an operator meets it: canonical JSON of the comparison, or CSV of every paid
// actor, and one-line refusals for what is not a manifest.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN, ROOT } from '../harness.js';

const EX = 'vectors/example/manifest-2026-01-01.json';

function rewarder(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('diff of a manifest with itself is all zero; against a changed one it names gainers, losers and CSV rows', () => {
  const same = rewarder('diff', EX, EX);
  assert.equal(same.code, 0, same.stderr);
  const c = JSON.parse(same.stdout) as { schema: string; payees: Record<string, number>; gainers: unknown[]; losers: unknown[]; totals: Record<string, { delta_minor: string }> };
  assert.equal(c.schema, 'rewarder.comparison/v1');
  assert.deepEqual([c.payees.added, c.payees.removed, c.payees.changed, c.gainers.length, c.losers.length], [0, 0, 0, 0, 0]);
  assert.ok(Object.values(c.totals).every((t) => t.delta_minor === '0'));

  const dir = mkdtempSync(join(tmpdir(), 'diff-'));
  try {
    const doc = JSON.parse(readFileSync(join(ROOT, EX), 'utf8')) as { payouts: { actor: string; amount_minor: string }[] };
    (doc.payouts[1] as { amount_minor: string }).amount_minor = '390';
    const b = join(dir, 'b.json');
    writeFileSync(b, JSON.stringify(doc));
    const d = JSON.parse(rewarder('diff', EX, b, '--top', '5').stdout) as { losers: { actor: string; delta_minor: string }[] };
    assert.deepEqual(d.losers, [{ actor: 'did:ron:bob', a_minor: '400', b_minor: '390', delta_minor: '-10' }]);
    const csv = rewarder('diff', EX, b, '--csv');
    assert.equal(csv.stdout, 'actor,a_minor,b_minor,delta_minor\ndid:ron:alice,360,360,0\ndid:ron:bob,400,390,-10\ndid:ron:erin,167,167,0\n');
    const bad = rewarder('diff', EX, 'vectors/example/policy.json');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^rewarder: vectors\/example\/policy.json: manifest lacks/);
    assert.equal(rewarder('diff', EX, EX, '--top', '-1').code, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

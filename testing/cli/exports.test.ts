// `rewarder export` and `rewarder proofs` on the golden vectors, checked by the reference tools:
// @openzeppelin/merkle-tree loads and verifies the claim tree and every claim proof; every
// inclusion proof of the bundle verifies against the manifest's root with verifyInclusion.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { checkProof } from '../../src/core/proof.js';
import { BIN, ROOT } from '../harness.js';

const dir = mkdtempSync(join(tmpdir(), 'rewarder-exports-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const MANIFESTS = ['vectors/example/manifest-2026-01-01.json', 'vectors/S/manifest-row.json'];

function rewarder(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 28, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const payouts = (file: string) => (JSON.parse(readFileSync(file, 'utf8')) as { payouts: { actor: string; amount_minor: string; score: string }[] }).payouts;

test('export --format csv prints a header and one line per payee in payee order', () => {
  for (const m of MANIFESTS) {
    const r = rewarder('export', m, '--format', 'csv');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines.pop(), '');
    assert.equal(lines.shift(), 'actor,amount_minor,score');
    // These ids need no quoting: each line is the three values joined by commas.
    assert.deepEqual(lines, payouts(m).map((p) => `${p.actor},${p.amount_minor},${p.score}`));
  }
});

test('export --format oz-tree is a dump @openzeppelin/merkle-tree loads, with its root and proofs', () => {
  for (const m of MANIFESTS) {
    const out = join(dir, 'tree.json');
    const r = rewarder('export', m, '--format', 'oz-tree', '--out', out);
    assert.equal(r.code, 0, r.stderr);
    const tree = StandardMerkleTree.load(JSON.parse(readFileSync(out, 'utf8')));
    const values = payouts(m).map((p) => [p.actor, p.amount_minor]);
    assert.equal(tree.root, StandardMerkleTree.of(values, ['string', 'uint256']).root);
    for (const [i, v] of tree.entries()) assert.ok(StandardMerkleTree.verify(tree.root, ['string', 'uint256'], v, tree.getProof(i)));
  }
  assert.equal(rewarder('export', MANIFESTS[0] as string, '--format', 'xml').stderr, 'rewarder: --format must be csv or oz-tree\n');
});

test('proofs writes every payee\'s inclusion and claim proof in chunks, with an index by actor', () => {
  const m = 'vectors/S/manifest-row.json';
  const out = join(dir, 'proofs');
  const r = rewarder('proofs', m, '--out', out, '--chunk', '300');
  assert.equal(r.code, 0, r.stderr);
  const manifest = JSON.parse(readFileSync(m, 'utf8')) as { payouts_root: string; payouts: { actor: string; amount_minor: string }[] };
  const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as {
    payees: number;
    payouts_root: string;
    claims_root: string;
    chunks: { file: string; first: string; last: string; count: number }[];
  };
  const n = manifest.payouts.length;
  assert.equal(index.payees, n);
  assert.equal(index.payouts_root, manifest.payouts_root);
  assert.equal(index.chunks.length, Math.ceil(n / 300));
  const claimsRoot = StandardMerkleTree.of(manifest.payouts.map((p) => [p.actor, p.amount_minor]), ['string', 'uint256']).root;
  assert.equal(index.claims_root, claimsRoot);
  let seen = 0;
  for (const c of index.chunks) {
    const entries = JSON.parse(readFileSync(join(out, c.file), 'utf8')) as { actor: string; amount_minor: string; leaf_index: number; claim_proof: string[] }[];
    assert.equal(entries.length, c.count);
    assert.equal(entries[0]?.actor, c.first);
    assert.equal(entries.at(-1)?.actor, c.last);
    for (const e of entries) {
      assert.equal(e.leaf_index, seen);
      assert.equal(e.actor, manifest.payouts[seen]?.actor);
      const v = checkProof(e, manifest.payouts_root);
      assert.ok(v.ok, `${e.actor}: ${v.ok ? '' : v.reason}`);
      assert.ok(StandardMerkleTree.verify(claimsRoot, ['string', 'uint256'], [e.actor, e.amount_minor], e.claim_proof), e.actor);
      seen++;
    }
  }
  assert.equal(seen, n);
  // An entry is a proof document: verify-proof takes it as it is.
  const one = join(dir, 'one.json');
  const first = (JSON.parse(readFileSync(join(out, 'proofs-00000.json'), 'utf8')) as unknown[])[0];
  writeFileSync(one, JSON.stringify(first));
  const check = rewarder('verify-proof', one, '--manifest', m);
  assert.equal(check.code, 0, check.stderr);
});

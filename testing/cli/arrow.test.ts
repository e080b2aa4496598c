// The CLI with Arrow inputs (SPEC §2.1): `gen --form arrow`, `convert` between every pair of forms,
// and `seal`, `compute`, `verify` on .arrows files — same payouts as JSON, each form its own CID.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { arrowRead } from '../arrow.js';
import { BIN, ROOT } from '../harness.js';

const dir = mkdtempSync(join(tmpdir(), 'rewarder-arrow-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function rewarder(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(...args: string[]): string {
  const r = rewarder(...args);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

/** The manifest without what names its inputs (inputs_cid, run_key, commitment): the payouts part. */
function payoutsOf(manifest: string): unknown {
  const m = JSON.parse(manifest) as Record<string, unknown>;
  return { counts: m.counts, totals: m.totals, payouts: m.payouts, root: m.payouts_root };
}

test('gen --form arrow writes inputs.arrows with the same data as the columnar document of that seed', () => {
  const a = ok('gen', '--scale', 'S', '--seed', '7', '--form', 'arrow', '--out', join(dir, 'a'));
  assert.match(a, /^inputs .*inputs\.arrows b3:[0-9a-f]{64}\npolicy /);
  ok('gen', '--scale', 'S', '--seed', '7', '--form', 'columnar', '--out', join(dir, 'c'));
  // Deterministic: a second run writes the same bytes.
  ok('gen', '--scale', 'S', '--seed', '7', '--form', 'arrow', '--out', join(dir, 'a2'));
  assert.deepEqual(readFileSync(join(dir, 'a2', 'inputs.arrows')), readFileSync(join(dir, 'a', 'inputs.arrows')));
  // apache-arrow reads it: 10k rows, 1k actors.
  const t = arrowRead(readFileSync(join(dir, 'a', 'inputs.arrows')));
  assert.equal(t.rows.length, 10_000);
  assert.equal(t.actors.length, 1_000);
  const m = (inputs: string) => ok('compute', '--epoch', 'e1', '--inputs', inputs, '--policy', join(dir, 'c', 'policy.json'));
  const arrow = m(join(dir, 'a', 'inputs.arrows'));
  const columnar = m(join(dir, 'c', 'inputs.json'));
  assert.deepEqual(payoutsOf(arrow), payoutsOf(columnar));
  assert.notEqual(JSON.parse(arrow).inputs_cid, JSON.parse(columnar).inputs_cid);
});

test('seal prints the CID of an .arrows file, and verify recomputes a manifest from it', () => {
  const inputs = join(dir, 'example.arrows');
  const conv = ok('convert', 'vectors/example/inputs.json', '--to', 'arrow', '--out', inputs);
  const cid = ok('seal', inputs).trim();
  assert.equal(conv, `inputs ${inputs} ${cid}\n`);
  const manifest = ok('compute', '--epoch', '2026-01-01', '--inputs', inputs, '--policy', 'vectors/example/policy.json');
  assert.equal(JSON.parse(manifest).inputs_cid, cid);
  assert.deepEqual(payoutsOf(manifest), payoutsOf(readFileSync('vectors/example/manifest-2026-01-01.json', 'utf8')));
  writeFileSync(join(dir, 'm.json'), manifest);
  assert.match(ok('verify', join(dir, 'm.json'), '--inputs', inputs, '--policy', 'vectors/example/policy.json'), /^ok b3:/);
  const wrong = rewarder('verify', join(dir, 'm.json'), '--inputs', 'vectors/example/inputs.json', '--policy', 'vectors/example/policy.json');
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /\$\.inputs_cid: .*--inputs is not the document it was computed from/);
});

test('convert round-trips every form: JSON → Arrow → JSON gives back the same bytes', () => {
  for (const form of ['row', 'columnar'] as const) {
    const arrow = join(dir, `rt-${form}.arrows`);
    ok('convert', 'vectors/example/inputs.json', '--to', form, '--out', join(dir, `rt-${form}.json`));
    ok('convert', join(dir, `rt-${form}.json`), '--to', 'arrow', '--out', arrow);
    ok('convert', arrow, '--to', form, '--out', join(dir, `back-${form}.json`));
    assert.deepEqual(readFileSync(join(dir, `back-${form}.json`)), readFileSync(join(dir, `rt-${form}.json`)));
  }
  // The SPEC §9 document is in row form with the generator's member order: converting it gives it back exactly.
  assert.deepEqual(readFileSync(join(dir, 'rt-row.json')), readFileSync('vectors/example/inputs.json'));
  // To stdout without --out.
  const r = spawnSync(process.execPath, [BIN, 'convert', 'vectors/example/inputs.json', '--to', 'arrow'], { cwd: ROOT, timeout: 60_000 });
  assert.equal(r.status, 0);
  assert.deepEqual(new Uint8Array(r.stdout), new Uint8Array(readFileSync(join(dir, 'example.arrows'))));
});

test('a refused stream is one line naming the file and the reason, exit 2', () => {
  const bytes = readFileSync(join(dir, 'example.arrows'));
  writeFileSync(join(dir, 'cut.arrows'), bytes.subarray(0, bytes.length - 8));
  const r = rewarder('seal', join(dir, 'cut.arrows'));
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `rewarder: ${join(dir, 'cut.arrows')}: $: truncated stream (no end-of-stream marker)\n`);
  const bad = rewarder('convert', 'vectors/example/inputs.json', '--to', 'parquet');
  assert.equal(bad.stderr, 'rewarder: --to must be row, columnar or arrow\n');
});

// The bundled `rewarder compute` (scripts/bundle-cli.ts, run by the build) and the launcher's
// fallback to dist/src/cli/main.js: the same bytes and errors either way, and a bundle that is
// not the one stamped for the dist/ files beside it is never run.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { b3 } from '../../src/core/hash.js';
import { BIN, ROOT } from '../harness.js';

const CLI = join(ROOT, 'dist', 'src', 'cli');
const VECTOR = ['--epoch', 'golden-S', '--inputs', join(ROOT, 'vectors/S/inputs-columnar.json'), '--policy', join(ROOT, 'vectors/S/policy.json')];
const EXPECTED = readFileSync(join(ROOT, 'vectors/S/manifest-columnar.json'));

function run(bin: string, args: string[], env: Record<string, string> = {}): { code: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: ROOT, timeout: 60_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

test('the build made the bundle, its stamp and its code cache', () => {
  const files = readdirSync(CLI).filter((f) => f.startsWith('compute.bundle.'));
  assert.ok(files.includes('compute.bundle.cjs'), files.join(' '));
  assert.ok(files.includes('compute.bundle.json'), files.join(' '));
  assert.ok(files.some((f) => f.endsWith('.cache')), files.join(' '));
});

test('compute prints the same bytes and errors bundled and through main.js', () => {
  const cases = [
    VECTOR,
    ['--epoch', 'e1', '--inputs', join(ROOT, 'vectors/example/inputs.json'), '--policy', join(ROOT, 'vectors/example/policy.json')],
    ['--epoch', 'e1', '--inputs', 'missing.json', '--policy', 'vectors/S/policy.json'],
    ['--epoch', 'e1', '--inputs', 'vectors/S/policy.json', '--policy', 'vectors/S/policy.json'],
    ['--epoch', '', '--inputs', 'vectors/S/inputs-row.json', '--policy', 'vectors/S/policy.json'],
    ['--verbose'],
  ];
  for (const args of cases) {
    const bundled = run(BIN, ['compute', ...args]);
    const plain = run(BIN, ['compute', ...args], { REWARDER_NO_BUNDLE: '1' });
    assert.deepEqual(bundled, plain, args.join(' '));
  }
  assert.deepEqual(run(BIN, ['compute', ...VECTOR]).stdout, EXPECTED);
});

// A copy of the checkout's launcher and dist/src (node_modules and native/ linked), to break.
const copy = mkdtempSync(join(tmpdir(), 'rewarder-bundle-'));
after(() => rmSync(copy, { recursive: true, force: true }));
cpSync(join(ROOT, 'bin'), join(copy, 'bin'), { recursive: true });
cpSync(join(ROOT, 'dist', 'src'), join(copy, 'dist', 'src'), { recursive: true });
cpSync(join(ROOT, 'package.json'), join(copy, 'package.json'));
symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
if (existsSync(join(ROOT, 'native'))) symlinkSync(join(ROOT, 'native'), join(copy, 'native'));
const copyBin = join(copy, 'bin', 'rewarder.js');
const copyCli = join(copy, 'dist', 'src', 'cli');

test('the bundle runs on its own: compute works with main.js gone', () => {
  renameSync(join(copyCli, 'main.js'), join(copyCli, 'main.js.away'));
  try {
    const r = run(copyBin, ['compute', ...VECTOR]);
    assert.equal(r.stderr, '');
    assert.deepEqual(r.stdout, EXPECTED);
  } finally {
    renameSync(join(copyCli, 'main.js.away'), join(copyCli, 'main.js'));
  }
});

test('a bundle that does not match its stamp, or a stamp that does not match dist/, is not run', () => {
  const bundleFile = join(copyCli, 'compute.bundle.cjs');
  const stampFile = join(copyCli, 'compute.bundle.json');
  const original = readFileSync(bundleFile, 'utf8');
  // A bundle that would print something else if it ran.
  const wrong = original.replace('function writeStdout(bytes) {', 'function writeStdout(bytes) {\n  bytes = new TextEncoder().encode("wrong\\n");');
  assert.notEqual(wrong, original);
  writeFileSync(bundleFile, wrong);
  let r = run(copyBin, ['compute', ...VECTOR]);
  assert.deepEqual(r.stdout, EXPECTED, 'a bundle that is not the stamped one');
  // Stamped as current, the altered bundle runs (so the checks below are what stop it): by its
  // SHA-256 (the launcher's check without the addon's BLAKE3) ...
  const stamp = JSON.parse(readFileSync(stampFile, 'utf8')) as { sha256: { bundle: string; inputs: string }; blake3?: unknown; inputs: string[] };
  const wrongSha = createHash('sha256').update(wrong).digest('hex');
  writeFileSync(stampFile, JSON.stringify({ ...stamp, sha256: { ...stamp.sha256, bundle: wrongSha }, blake3: undefined }));
  r = run(copyBin, ['compute', ...VECTOR]);
  assert.equal(r.stdout.toString(), 'wrong\n');
  // ... and by BLAKE3 (the addon's check, when it is built).
  if (stamp.blake3 !== undefined) {
    const bytes = new TextEncoder().encode(wrong);
    writeFileSync(stampFile, JSON.stringify({ ...stamp, blake3: { ...(stamp.blake3 as object), bundle: b3(bytes).slice(3) } }));
    r = run(copyBin, ['compute', ...VECTOR]);
    assert.equal(r.stdout.toString(), 'wrong\n', 'stamped by BLAKE3');
    writeFileSync(stampFile, JSON.stringify({ ...stamp, sha256: { ...stamp.sha256, bundle: wrongSha }, blake3: { ...(stamp.blake3 as object), bundle: b3(bytes).slice(3) } }));
  } else {
    writeFileSync(stampFile, JSON.stringify({ ...stamp, sha256: { ...stamp.sha256, bundle: wrongSha } }));
  }
  // ... until one of the dist/ files it was made from changes: then main.js runs.
  const input = join(copy, stamp.inputs.find((f) => f.endsWith('calculus.js')) as string);
  writeFileSync(input, `${readFileSync(input, 'utf8')}\n// edited\n`);
  r = run(copyBin, ['compute', ...VECTOR]);
  assert.deepEqual(r.stdout, EXPECTED, 'a stamp of other dist/ files');
  // No stamp at all: main.js.
  rmSync(stampFile);
  r = run(copyBin, ['compute', ...VECTOR]);
  assert.deepEqual(r.stdout, EXPECTED, 'no stamp');
});

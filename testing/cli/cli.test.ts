// The CLI's usage errors, as a user meets them: one line on stderr naming what is valid, exit 2;
// and `verify` names the cause of a mismatch (what the manifest was computed from) before the
// members derived from it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { closest, unknownOption } from '../../src/cli/io.js';
import { BIN, ROOT } from '../harness.js';

function rewarder(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Exit 2, nothing on stdout, exactly one line on stderr; returns it. */
function usageError(r: ReturnType<typeof rewarder>): string {
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, '');
  const lines = r.stderr.split('\n');
  assert.equal(lines.length, 2, `one line: ${r.stderr}`);
  assert.equal(lines[1], '');
  return lines[0] as string;
}

test('an unknown option is named with the valid one it resembles', () => {
  assert.equal(usageError(rewarder('compute', '--input', 'x', '--policy', 'p', '--epoch', 'e')), 'rewarder: unknown option --input (did you mean --inputs?)');
  assert.equal(usageError(rewarder('verify', 'm.json', '--inputs', 'i', '--polcy', 'p')), 'rewarder: unknown option --polcy (did you mean --policy?)');
  assert.equal(usageError(rewarder('gen', '--scales', 'S')), 'rewarder: unknown option --scales (did you mean --scale?)');
});

test('an unknown option like none of the valid ones lists them; a command without options says so', () => {
  assert.equal(usageError(rewarder('compute', '--verbose')), 'rewarder: unknown option --verbose (valid: --epoch, --inputs, --policy)');
  assert.equal(usageError(rewarder('seal', '--strict', 'x.json')), 'rewarder: unknown option --strict (this command takes no options)');
});

test('an unknown command suggests the nearest one', () => {
  assert.equal(usageError(rewarder('comptue')), 'rewarder: unknown command "comptue" (did you mean compute? try rewarder --help)');
  assert.equal(usageError(rewarder('frobnicate')), 'rewarder: unknown command "frobnicate" (try rewarder --help)');
});

test('no arguments is one usage line on stderr (exit 2); --help prints every command on stdout (exit 0)', () => {
  const line = usageError(rewarder());
  assert.match(line, /^rewarder: missing command: rewarder <command> \[options\], one of keygen, seal, compute, verify, prove, verify-proof, gen, demo, serve(, [a-z-]+)* \(rewarder --help/);
  const help = rewarder('--help');
  assert.equal(help.code, 0);
  assert.equal(help.stderr, '');
  for (const c of ['seal', 'compute', 'verify ', 'keygen', 'prove', 'verify-proof', 'gen', 'demo', 'serve', 'ledger-redrive']) assert.ok(help.stdout.includes(`  ${c}`), c);
});

test('verify against another form of the same data names inputs_cid first, not a derived member', () => {
  const r = rewarder('verify', 'vectors/S/manifest-row.json', '--inputs', 'vectors/S/inputs-columnar.json', '--policy', 'vectors/S/policy.json');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^rewarder: vectors\/S\/manifest-row\.json differs: \$\.inputs_cid: expected "b3:[0-9a-f]{64}", got "b3:[0-9a-f]{64}" \(--inputs is not the document it was computed from\)\n$/);
});

test('verify with another policy names policy.hash first', () => {
  const r = rewarder('verify', 'vectors/example/manifest-2026-01-01.json', '--inputs', 'vectors/example/inputs.json', '--policy', 'vectors/S/policy.json');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /differs: \$\.policy\.hash: expected "b3:[0-9a-f]{64}", got "b3:ba421cee[0-9a-f]{56}" \(--policy is not the policy it was computed from\)\n$/);
  const ok = rewarder('verify', 'vectors/example/manifest-2026-01-01.json', '--inputs', 'vectors/example/inputs.json', '--policy', 'vectors/example/policy.json');
  assert.equal(ok.code, 0, ok.stderr);
});

test('closest suggests within two edits or a prefix, and nothing for a stranger', () => {
  assert.equal(closest('--input', ['--epoch', '--inputs', '--policy']), '--inputs');
  assert.equal(closest('--inputs-file', ['--epoch', '--inputs', '--policy']), '--inputs');
  assert.equal(closest('--epoc', ['--epoch', '--inputs']), '--epoch');
  assert.equal(closest('--zzz', ['--epoch', '--inputs']), null);
  assert.equal(unknownOption('--x', []), 'unknown option --x (this command takes no options)');
});

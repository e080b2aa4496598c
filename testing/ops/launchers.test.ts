// The `serve` process's V8 settings (src/cli/serve-flags.ts) can only be given on node's command
// line, so every launcher that ships must carry them; the test and benchmark spawners import the
// list itself. One place forgetting them would quietly run the edge with ~3 needless major GCs a
// second under load.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { SERVE_NODE_FLAGS } from '../../src/cli/serve-flags.js';
import { STUB_NODE_FLAGS } from '../ledger-stub/client.js';

const read = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');

/** The node flags given before `bin/rewarder.js` in a command line. */
function flagsBefore(line: string): string[] {
  const m = /\bnode((?:\s+--[\w-]+(?:=\S+)?)*)\s+(?:"\$ROOT\/)?bin\/rewarder\.js/.exec(line);
  assert.ok(m, `no node … bin/rewarder.js in: ${line}`);
  return (m[1] ?? '').trim().split(/\s+/).filter(Boolean);
}

test('the flags are node command-line flags with a value', () => {
  assert.ok(SERVE_NODE_FLAGS.length > 0);
  for (const f of SERVE_NODE_FLAGS) assert.match(f, /^--[a-z-]+=\d+$/);
});

test('npm start and npm run serve pass them', () => {
  const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
  for (const name of ['start', 'serve']) {
    const flags = flagsBefore(scripts[name] ?? '');
    for (const f of SERVE_NODE_FLAGS) assert.ok(flags.includes(f), `npm run ${name} lacks ${f}`);
  }
});

test('the launcher shebang passes them (./bin/rewarder.js serve, npx rewarder serve)', () => {
  const shebang = read('bin/rewarder.js').split('\n')[0] ?? '';
  assert.match(shebang, /^#!\/usr\/bin\/env -S node /);
  for (const f of SERVE_NODE_FLAGS) assert.ok(shebang.split(/\s+/).includes(f), `shebang lacks ${f}`);
});

test('scripts/macronode-up starts its replicas with them', () => {
  const line = read('scripts/macronode-up')
    .split('\n')
    .find((l) => l.includes('bin/rewarder.js" serve'));
  assert.ok(line !== undefined, 'macronode-up starts no replica');
  const flags = flagsBefore(line);
  for (const f of SERVE_NODE_FLAGS) assert.ok(flags.includes(f), `macronode-up lacks ${f}`);
});

test('npm run ledger-stub starts the stub with the flags its spawner uses (STUB_NODE_FLAGS)', () => {
  const script = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts['ledger-stub'] ?? '';
  const m = /\bnode((?:\s+--[\w-]+(?:=\S+)?)*)\s+dist\/testing\/ledger-stub\/main\.js/.exec(script);
  assert.ok(m, `no node … ledger-stub/main.js in: ${script}`);
  const flags = (m[1] ?? '').trim().split(/\s+/).filter(Boolean);
  assert.ok(STUB_NODE_FLAGS.length > 0);
  for (const f of STUB_NODE_FLAGS) assert.ok(flags.includes(f), `npm run ledger-stub lacks ${f}`);
});

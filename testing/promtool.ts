// The one way tests reach promtool (Prometheus' rule and exposition checker): PROMTOOL when set
// (and then only it), else .tools/promtool (where scripts/install-promtool.sh puts it, which
// `npm test`'s pretest runs), else the first promtool on PATH. When none is found the calling
// test fails and says how to get one: a check that quietly passes without its tool is no check.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));

const executable = (p: string): boolean => {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** The candidates in lookup order, and the first executable one (null: none). */
export function findPromtool(env: NodeJS.ProcessEnv = process.env): { path: string | null; tried: string[] } {
  const onPath = (env.PATH ?? '').split(delimiter).filter((d) => d !== '').map((d) => join(d, 'promtool'));
  const candidates = env.PROMTOOL ? [env.PROMTOOL] : [join(repo, '.tools', 'promtool'), ...onPath];
  const tried: string[] = [];
  for (const c of candidates) {
    tried.push(c);
    if (executable(c)) return { path: c, tried };
  }
  return { path: null, tried };
}

/** Runs promtool from the repository root; fails the calling test when there is none. */
export function promtool(args: string[], opts: { input?: string } = {}): { status: number | null; out: string } {
  const found = findPromtool();
  if (found.path === null) {
    assert.fail(
      'promtool not found: run scripts/install-promtool.sh (npm test does, before the tests; it puts promtool at ' +
        `.tools/promtool), set PROMTOOL, or put promtool on PATH; tried ${found.tried.slice(0, 3).join(', ')}${found.tried.length > 3 ? '…' : ''}`,
    );
  }
  const r = spawnSync(found.path, args, { cwd: repo, encoding: 'utf8', timeout: 60_000, ...(opts.input !== undefined ? { input: opts.input } : {}) });
  if (r.error !== undefined) assert.fail(`promtool (${found.path}) did not run: ${r.error.message}`);
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

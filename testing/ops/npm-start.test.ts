// `npm start` in the foreground ends with its server, as a user expects: SIGTERM to the npm
// process and Ctrl-C (SIGINT to the whole foreground process group, as a terminal sends it) both
// drain the server and leave no process behind. The script `exec`s node so the server is npm's
// own child and receives npm's forwarded signal; before that, the shell between them died and
// the server was re-parented to init, still listening.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ROOT, until } from '../harness.js';

const LIMIT = { timeout: 120_000 };

/** Live (not zombie) processes below `pid`, by /proc. */
function descendants(pid: number): number[] {
  let children: number[];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return children.flatMap((c) => [c, ...descendants(c)]);
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

const cmdline = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
};

interface Started {
  npm: ChildProcess;
  server: number;
  out: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `npm start` in its own process group (as a shell runs a foreground job), once its demo has run. */
async function npmStart(t: { after: (fn: () => void) => void }): Promise<Started> {
  const npm = process.env.npm_execpath !== undefined ? [process.execPath, process.env.npm_execpath] : ['npm'];
  const child = spawn(npm[0] as string, [...npm.slice(1), 'start'], {
    cwd: ROOT,
    detached: true,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', PORT: '0', HOST: '127.0.0.1', SHUTDOWN_GRACE_MS: '3000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const group = child.pid as number;
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (out += s));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const mine = new Set<number>([group]);
  t.after(() => {
    // Whatever this test started and is still there, an orphaned server included; its pipes
    // would otherwise keep this test process alive.
    for (const pid of [...mine, ...descendants(group)]) if (alive(pid)) process.kill(pid, 'SIGKILL');
    child.stdout?.destroy();
    child.stderr?.destroy();
  });
  await until(() => out.includes('serving; Ctrl-C to stop'), 90_000, `npm start's demo:\n${out}`, 100);
  // The node process itself, not a shell whose command line names it.
  const server = descendants(group).find((p) => /^\S*node\s.*bin\/rewarder\.js serve/.test(cmdline(p)));
  assert.ok(server !== undefined, `no server process under npm ${group}`);
  mine.add(server);
  return { npm: child, server, out: () => out, exited };
}

async function assertGone(s: Started, what: string): Promise<void> {
  const exit = await Promise.race([s.exited, new Promise<null>((r) => setTimeout(() => r(null), 20_000).unref())]);
  assert.ok(exit !== null, `npm did not exit after ${what}`);
  await until(() => !alive(s.server), 10_000, `the server (pid ${s.server}) to exit after ${what}`);
  assert.match(s.out(), /"msg":"stopped"/, `the server drained and said so:\n${s.out().slice(-2_000)}`);
}

test('SIGTERM to the npm process of `npm start` stops the server too: it drains and exits, no orphan', LIMIT, async (t) => {
  const s = await npmStart(t);
  s.npm.kill('SIGTERM');
  await assertGone(s, 'SIGTERM to npm');
});

test('Ctrl-C (SIGINT to the foreground process group) stops `npm start` and its server after one drain', LIMIT, async (t) => {
  const s = await npmStart(t);
  process.kill(-(s.npm.pid as number), 'SIGINT');
  await assertGone(s, 'SIGINT to the group');
  assert.equal((s.out().match(/"msg":"draining"/g) ?? []).length, 1, 'one drain, though SIGINT arrived twice');
});

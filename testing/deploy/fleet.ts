// What the macronode test and bench-scale need to drive scripts/macronode-up and -down and to read
// HAProxy: run a script with a bounded wait, read the state file, query the runtime API socket,
// tell whether a recorded process is still the one that was started.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file runs as dist/testing/deploy/fleet.js). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const UP = join(ROOT, 'scripts', 'macronode-up');
export const DOWN = join(ROOT, 'scripts', 'macronode-down');

export interface Proc {
  pid: number;
  start: string | null;
}
export interface Replica extends Proc {
  name: string;
  port: number;
  url: string;
  log: string;
  /** Its HAProxy agent-check port (LB_AGENT_PORT). */
  agent_port: number;
}
export interface FleetState {
  front_url: string;
  stats_url: string;
  stats_socket: string;
  database_url: string;
  schema: string;
  schema_created: boolean;
  postgres_started: boolean;
  ledger: Partial<Proc> & { url: string };
  replicas: Replica[];
  haproxy: Proc & { cfg: string };
}

/** The Authorization header for the fleet's development token (macronode-up writes it; AUTH=off is refused for a macronode). */
export function devAuth(dir: string): Record<string, string> {
  return { authorization: `Bearer ${readFileSync(join(dir, 'dev-token'), 'utf8').trim()}` };
}

export function readState(dir: string): FleetState {
  return JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as FleetState;
}

/** Every process the state file records (HAProxy, replicas, the ledger stub if it was started). */
export function processesOf(s: FleetState): Array<{ name: string } & Proc> {
  const out: Array<{ name: string } & Proc> = [{ name: 'haproxy', pid: s.haproxy.pid, start: s.haproxy.start }];
  for (const r of s.replicas) out.push({ name: r.name, pid: r.pid, start: r.start });
  if (s.ledger.pid !== undefined) out.push({ name: 'ledger-stub', pid: s.ledger.pid, start: s.ledger.start ?? null });
  return out;
}

/** True while `p.pid` is the very process recorded (same start time), and not a zombie. */
export function stillRunning(p: Proc): boolean {
  try {
    const stat = readFileSync(`/proc/${p.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] !== 'Z' && fields[0] !== 'X' && fields[19] === p.start;
  } catch {
    return false;
  }
}

export interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a bash script with exactly `env`; resolves with its exit and output (killed after `timeoutMs`). */
export function runScript(script: string, env: Record<string, string>, timeoutMs = 120_000, args: readonly string[] = []): Promise<ScriptRun> {
  return new Promise((resolve) => {
    const child = spawn('bash', [script, ...args], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeoutMs} ms)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** One HAProxy runtime API command (the socket answers and closes). */
export function haproxyCommand(socket: string, command: string, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(socket, () => sock.end(`${command}\n`));
    let reply = '';
    sock.setEncoding('utf8').on('data', (d: string) => (reply += d));
    sock.once('close', () => resolve(reply));
    sock.once('error', reject);
    sock.setTimeout(timeoutMs, () => sock.destroy(new Error(`haproxy ${command}: no answer within ${timeoutMs} ms`)));
  });
}

export interface ServerStat {
  status: string;
  check: string;
  /** Requests (sessions) the server has handled in total. */
  total: number;
}

/** `show stat` of the `rewarder` backend's servers, by name: status (UP, DOWN, UP 3/15, …). */
export async function serverStats(socket: string): Promise<Map<string, ServerStat>> {
  const csv = await haproxyCommand(socket, 'show stat');
  const [header, ...rows] = csv.trim().split('\n');
  const cols = (header ?? '').replace(/^# /, '').split(',');
  const at = (name: string) => cols.indexOf(name);
  const out = new Map<string, ServerStat>();
  for (const row of rows) {
    const f = row.split(',');
    if (f[at('pxname')] !== 'rewarder' || f[at('svname')] === 'BACKEND') continue;
    out.set(f[at('svname')] as string, {
      status: f[at('status')] ?? '',
      check: f[at('check_status')] ?? '',
      total: Number(f[at('stot')] ?? 0),
    });
  }
  return out;
}

/** The minimal environment for the scripts: nothing of the developer's own settings leaks in. */
export function scriptEnv(extra: Record<string, string>): Record<string, string> {
  // haproxy and pg_ctlcluster live in sbin, which a non-login PATH may lack.
  const path = `${process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'}:/usr/sbin:/sbin`;
  return { PATH: path, HOME: process.env.HOME ?? '/root', ...extra };
}

// Runs the ledger stub as a real child process and talks to its admin API. The child must never
// outlive the test process that spawned it: it is killed from our 'exit' hook, and it also exits by
// itself when its stdin (a pipe we hold) reaches end-of-file, which covers a parent killed outright.
// The child handle is unref'd once it listens, so a test that forgets to kill it still ends (and the
// hook then kills it); kill() refs it again so awaiting the exit keeps the test alive.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Balance } from './balances.js';
import type { FaultsPatch } from './faults.js';
import type { FaultsView, Stats } from './ledger.js';
import type { PartFilter, PartRecord } from './store.js';

export type { FaultsPatch, FaultsView, PartFilter, PartRecord, Stats };

export interface SpawnLedgerStubOptions {
  seed?: number;
  token?: string;
  /** Passed as `--faults JSON`: in force from the first request. */
  faults?: FaultsPatch;
  host?: string;
  port?: number;
  /** Raw extra flags, appended last (they override the options above). */
  args?: string[];
  /** How long to wait for the listening line; default 10 s. */
  startupTimeoutMs?: number;
  /**
   * Runs the stub (every thread of it) under SCHED_IDLE (`chrt --idle 0`): it then gets only CPU
   * nothing else wants. Not `nice -n 19`: a CPU busy with a nice-19 task is still busy to the
   * kernel when it places a woken thread, so the stub kept pushing the service's own threads onto
   * the compute worker's core; a CPU running only SCHED_IDLE tasks counts as idle.
   */
  idle?: boolean;
}

export interface LedgerStubAdmin {
  faults(): Promise<FaultsView>;
  setFaults(patch: FaultsPatch): Promise<FaultsView>;
  clearFaults(): Promise<FaultsView>;
  stats(): Promise<Stats>;
  parts(filter?: PartFilter): Promise<PartRecord[]>;
  /** Per-actor net balances (credits − debits) over every accepted part, sorted by actor. */
  balances(actor?: string): Promise<Balance[]>;
  reset(): Promise<Stats>;
}

export interface SpawnedLedgerStub {
  url: string;
  pid: number;
  admin: LedgerStubAdmin;
  /** Sends `signal` (default SIGTERM), then SIGKILL if still alive after 5 s; resolves like `exited`. */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
  /** The exit code; null when a signal ended the process. */
  exited: Promise<number | null>;
}

/**
 * Node flags the stub runs with (also in `npm run ledger-stub`). The stub holds a few MB of live
 * objects, so V8 keeps its old generation's limit just above that and, with ~250 KB parts
 * arriving hundreds of times a second, ran a major GC several times a second (13 in 1.6 s); on the
 * loopback benchmarks its marking threads competed with the rewarder's compute worker. The same
 * floor as `serve` (src/cli/serve-flags.ts): memory is committed as it is used.
 */
export const STUB_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=128'];

/** Compiled beside this module: dist/testing/ledger-stub/main.js. */
export const STUB_MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

const KILL_GRACE_MS = 5_000;
const ADMIN_TIMEOUT_MS = 5_000;
const STDERR_TAIL_CHARS = 4_096;

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

export async function spawnLedgerStub(opts: SpawnLedgerStubOptions = {}): Promise<SpawnedLedgerStub> {
  const args = [...STUB_NODE_FLAGS, STUB_MAIN, '--exit-with-stdin'];
  if (opts.host !== undefined) args.push('--host', opts.host);
  if (opts.port !== undefined) args.push('--port', String(opts.port));
  if (opts.seed !== undefined) args.push('--seed', String(opts.seed));
  if (opts.token !== undefined) args.push('--token', opts.token);
  if (opts.faults !== undefined) args.push('--faults', JSON.stringify(opts.faults));
  args.push(...(opts.args ?? []));

  // chrt(1) execs node in place, so the child's pid is the stub's.
  const [cmd, argv] = opts.idle === true ? ['chrt', ['--idle', '0', process.execPath, ...args]] : [process.execPath, args];
  const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  track(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL_CHARS);
  });

  let url: string;
  try {
    url = await listeningUrl(child, exited, opts.startupTimeoutMs ?? 10_000, () => stderr);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  for (const handle of [child, child.stdin, child.stdout, child.stderr]) unref(handle);

  const kill = (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.ref();
    child.kill(signal);
    const escalate = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    return exited.finally(() => clearTimeout(escalate));
  };
  return { url, pid: child.pid ?? -1, admin: adminClient(url), kill, exited };
}

/** Resolves with the URL from the stub's one JSON line; rejects on exit, garbage or timeout. */
function listeningUrl(child: ChildProcess, exited: Promise<number | null>, timeoutMs: number, stderr: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      cleanup();
      const tail = stderr().trim();
      reject(new Error(`ledger stub did not start: ${why}${tail ? `\n${tail}` : ''}`));
    };
    const onData = (chunk: string): void => {
      out += chunk;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      cleanup();
      try {
        const line = JSON.parse(out.slice(0, nl)) as { ledger_stub?: unknown; url?: unknown };
        if (line.ledger_stub !== 'listening' || typeof line.url !== 'string') throw new Error('unexpected line');
        child.stdout?.resume(); // keep draining: a full pipe would block the child
        resolve(line.url);
      } catch {
        reject(new Error(`ledger stub did not start: unexpected output ${JSON.stringify(out.slice(0, 200))}`));
      }
    };
    const timer = setTimeout(() => fail(`no listening line within ${timeoutMs} ms`), timeoutMs);
    const cleanup = (): void => {
      settled = true;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
    };
    child.stdout?.setEncoding('utf8').on('data', onData);
    child.once('error', (err) => fail(err.message));
    // 'exit' can come before the last stderr chunk is read; give the pipe a moment to drain.
    void exited.then((code) => {
      if (!settled) setTimeout(() => fail(`exited with code ${String(code)}`), 50);
    });
  });
}

function adminClient(url: string): LedgerStubAdmin {
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`ledger stub ${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  }
  return {
    faults: () => call('GET', '/admin/faults'),
    setFaults: (patch) => call('PUT', '/admin/faults', patch),
    clearFaults: () => call('DELETE', '/admin/faults'),
    stats: () => call('GET', '/admin/stats'),
    parts: (filter = {}) => {
      const query = new URLSearchParams();
      if (filter.epoch_id !== undefined) query.set('epoch_id', filter.epoch_id);
      if (filter.run_key !== undefined) query.set('run_key', filter.run_key);
      const qs = query.toString();
      return call('GET', `/admin/parts${qs ? `?${qs}` : ''}`);
    },
    balances: (actor) => call('GET', `/admin/balances${actor === undefined ? '' : `?actor=${encodeURIComponent(actor)}`}`),
    reset: () => call('POST', '/admin/reset'),
  };
}

function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: a signal is all we can send, and SIGKILL cannot be ignored.
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

/** Child processes and their pipes (net.Socket at runtime) can be unref'd; the typings say Readable. */
function unref(handle: unknown): void {
  if (handle !== null && typeof handle === 'object' && 'unref' in handle && typeof handle.unref === 'function') {
    (handle as { unref(): void }).unref();
  }
}

// `npm run bench:http`: the HTTP service under load, against the REAL server process
// (`node bin/rewarder.js serve --dev` on 127.0.0.1, a fresh process per run) driven by autocannon.
// A benchmark, not a test: it prints figures, the targets of issue 3 beside them, and a final JSON
// summary line; it fails only when the harness itself cannot run (server does not start, setup
// request refused, global timeout).
//
//   node dist/scripts/bench-http.js [--scenario all|readyz-spawn,warm-m,replay,cold-s,pq]
//                                   [--duration S] [--runs N] [--connections C] [--timeout S]
//                                   [--ledger none,healthy,healthy-idle] [--profile gen,token]
//
// --profile (warm-m and replay, default both): the documents' generator profile, `gen` (the
// default data of every earlier figure) or `token` (18-decimal pools, long ids, ~99 % paid; see
// src/gen/token.ts); each profile gets its own table and summary entry (`warm-m/token`).
//
// --ledger (warm-m only) runs each round once per listed ledger, back to back, and compares them:
// `none` removes LEDGER_URL; `healthy` spawns the real ledger stub process (no faults) for each
// server and points LEDGER_URL at it, so every 200 is a run whose 3 parts the stub accepted; its
// CPU is reported beside the server's (on 2 cores it competes with the compute worker).
// `healthy-idle` is the same stub under SCHED_IDLE (`chrt --idle 0`): it then runs only on CPU the
// service leaves idle, the closest this box gets to a ledger on another host (which costs the
// service none of its CPU); the difference between the two is the stub's own CPU taken from the
// service. Without --ledger the server inherits LEDGER_URL from the environment, if any.
//
// Scenarios:
//   readyz-spawn  spawn → first /readyz 200 (polled every 10 ms); one spawn per run (default 5 runs)
//   warm-m        M columnar inputs sealed once; every request a fresh epoch AND a fresh policy
//                 (K ≥ 3000 distinct policies pre-sealed); c = 16, 20 s; runs/s, latency, RSS
//   replay        one bound epoch, the same compute request again and again; c = 64, 10 s
//   cold-s        each pair seals fresh S inputs (own seed) then computes a fresh epoch on them;
//                 async workers (c = 8) timed with performance.now(); 10 s
//   pq            issue 5's budget (PQ adds ≤ 5 % to p95): the warm-m load against a server with
//                 signing off, then against one with REQUIRE_PQ_ON=true + SIGNING_KEY_DIR (a temp
//                 directory made by `rewarder keygen`), same duration and c; off/on alternate for
//                 --runs rounds (default 3); prints p95 off, p95 on and the delta (median over
//                 rounds), and runs/s both ways. Not part of `all` (it is two warm-m runs per round).
//
// The server gets TENANT_RPS_MAX=1000000 (the default 100/s per tenant would turn the load into
// 429s: every request here is the one `anonymous` tenant) and MEMORY_STORE_MAX_BYTES=4 GiB (a
// warm-m run keeps ~0.6 MB of manifest per published epoch); both can be overridden from the
// environment. PORT=0, HOST=127.0.0.1 and LOG_LEVEL=info (the "listening" line is at info) are
// always forced.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type AcOptions, type AcResult, autocannon, cpuSecondsOf, percentile, pmap, policyVariant, threadSched, threadShares } from './bench-kit.js';
import { type Scale, generate } from '../src/gen/generate.js';
import { type Profile, generateProfile, isProfile } from '../src/gen/profiles.js';
import { type SpawnedLedgerStub, spawnLedgerStub } from '../testing/ledger-stub/client.js';
import { SERVE_NODE_FLAGS } from '../src/cli/serve-flags.js';
import { createRewarderClient, sealInputs, sealPolicy } from '../src/client/index.js';

// ---------------------------------------------------------------------------------------------
// Arguments.

const SCENARIOS = ['readyz-spawn', 'warm-m', 'replay', 'cold-s', 'pq'] as const;
type ScenarioName = (typeof SCENARIOS)[number];
/** What `--scenario all` runs: pq repeats warm-m twice per round, so it is asked for by name. */
const ALL: readonly ScenarioName[] = ['readyz-spawn', 'warm-m', 'replay', 'cold-s'];
const DEFAULTS: Record<ScenarioName, { duration: number; connections: number; runs: number }> = {
  'readyz-spawn': { duration: 0, connections: 1, runs: 5 },
  'warm-m': { duration: 20, connections: 16, runs: 1 },
  replay: { duration: 10, connections: 64, runs: 1 },
  'cold-s': { duration: 10, connections: 8, runs: 1 },
  pq: { duration: 20, connections: 16, runs: 3 },
};

function usage(msg: string): never {
  process.stderr.write(
    `bench-http: ${msg}\nusage: node dist/scripts/bench-http.js [--scenario all|${SCENARIOS.join(',')}] ` +
      '[--duration S] [--runs N] [--connections C] [--timeout S] [--ledger none,healthy,healthy-idle] [--profile gen,token]\n',
  );
  process.exit(2);
}

const { values: argv } = (() => {
  try {
    return parseArgs({
      options: {
        scenario: { type: 'string', default: 'all' },
        duration: { type: 'string' },
        runs: { type: 'string' },
        connections: { type: 'string' },
        timeout: { type: 'string' },
        ledger: { type: 'string' },
        profile: { type: 'string', default: 'gen,token' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    return usage((e as Error).message);
  }
})();
if (argv.help === true) usage('help');

const positive = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) usage(`--${name} must be a positive number`);
  return n;
};
const optDuration = positive('duration', argv.duration);
const optRuns = positive('runs', argv.runs);
const optConnections = positive('connections', argv.connections);
const optTimeout = positive('timeout', argv.timeout);
const selected: ScenarioName[] = (() => {
  if (argv.scenario === 'all') return [...ALL];
  const names = argv.scenario.split(',').map((s) => s.trim());
  for (const n of names) if (!(SCENARIOS as readonly string[]).includes(n)) usage(`unknown scenario ${n}`);
  return names as ScenarioName[];
})();
const LEDGERS = ['none', 'healthy', 'healthy-idle'] as const;
type LedgerMode = (typeof LEDGERS)[number];
const ledgers: LedgerMode[] | undefined = (() => {
  if (argv.ledger === undefined) return undefined;
  const names = argv.ledger.split(',').map((s) => s.trim());
  for (const n of names) if (!(LEDGERS as readonly string[]).includes(n)) usage(`unknown ledger ${n} (none, healthy, healthy-idle)`);
  return names as LedgerMode[];
})();
const profiles: Profile[] = (() => {
  const names = argv.profile.split(',').map((s) => s.trim());
  for (const n of names) if (!isProfile(n)) usage(`unknown profile ${n} (gen, token)`);
  return names as Profile[];
})();
/** Scenarios run once per --profile; the others (readyz-spawn, cold-s, pq, --ledger) use `gen`. */
const PER_PROFILE: readonly ScenarioName[] = ['warm-m', 'replay'];
const cfg = (s: ScenarioName) => ({
  duration: s === 'readyz-spawn' ? 0 : (optDuration ?? DEFAULTS[s].duration),
  connections: Math.round(optConnections ?? DEFAULTS[s].connections),
  runs: Math.round(optRuns ?? DEFAULTS[s].runs),
});

// ---------------------------------------------------------------------------------------------
// Small utilities.

const ROOT = fileURLToPath(new URL('../../', import.meta.url)); // dist/scripts → repository root
const BIN = fileURLToPath(new URL('../../bin/rewarder.js', import.meta.url));
const JSON_HEADERS = { 'content-type': 'application/json' };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const out = (line = '') => process.stdout.write(`${line}\n`);

const sortedOf = (xs: number[]) => Float64Array.from(xs).sort();
function median(xs: number[]): number {
  const s = sortedOf(xs.filter((x) => !Number.isNaN(x)));
  if (s.length === 0) return Number.NaN;
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}


async function call(
  url: string,
  method: string,
  body?: Uint8Array | string,
  signal?: AbortSignal,
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const timeout = AbortSignal.timeout(60_000);
  const res = await fetch(url, {
    method,
    headers: JSON_HEADERS,
    ...(body !== undefined ? { body } : {}),
    signal: signal !== undefined ? AbortSignal.any([signal, timeout]) : timeout,
  });
  const text = await res.text();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { text: text.slice(0, 200) };
  }
  return { status: res.status, json, headers: res.headers };
}

/** Setup requests must succeed: a refusal here means the figures would be meaningless. */
async function must(url: string, method: string, body?: Uint8Array | string): Promise<Record<string, unknown>> {
  const r = await call(url, method, body);
  if (r.status !== 200 && r.status !== 201) throw new Error(`setup ${method} ${url} → ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
  return r.json;
}

/**
 * Setup seals go through the typed client (svc-rewarder/client): every benchmark run then also
 * exercises the OpenAPI document the client is generated from. The measured requests do not.
 */
async function sealThroughClient(base: string, kind: 'inputs' | 'policies', doc: Uint8Array | string): Promise<Record<string, unknown>> {
  const rw = createRewarderClient(base);
  const bytes = typeof doc === 'string' ? new TextEncoder().encode(doc) : doc;
  const r = kind === 'inputs' ? await sealInputs(rw, bytes) : await sealPolicy(rw, bytes);
  if (r.data === undefined) throw new Error(`setup PUT ${base}/${kind} → ${r.response.status} ${JSON.stringify(r.error).slice(0, 300)}`);
  return { ...r.data };
}

/** Latency samples split by status, from autocannon's `response` events or our own timing. */
class Recorder {
  readonly ok: number[] = [];
  readonly statuses = new Map<number, number>();
  errors = 0;
  add(status: number, ms: number): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    if (status === 200) this.ok.push(ms);
  }
  get count200(): number {
    return this.statuses.get(200) ?? 0;
  }
  get non2xx(): number {
    let n = 0;
    for (const [s, c] of this.statuses) if (s < 200 || s > 299) n += c;
    return n;
  }
  statusText(): string {
    return [...this.statuses].sort((a, b) => a[0] - b[0]).map(([s, c]) => `${s}:${c}`).join(' ') || '-';
  }
  latency(): { p50: number; p95: number; p99: number; max: number } {
    const s = sortedOf(this.ok);
    return { p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: percentile(s, 100) };
  }
}

/**
 * Requests sent and not yet answered. autocannon drops whatever is in flight when the duration
 * ends and its latencies cover answered requests only, so a request the server starves never
 * shows in p99: this is where it shows (count at the end, and how long the oldest had waited).
 */
class Outstanding {
  private readonly since = new Map<number, number>();
  issue(i: number): void {
    this.since.set(i, performance.now());
  }
  done(i: number): void {
    this.since.delete(i);
  }
  at(now = performance.now()): { count: number; oldestMs: number } {
    let oldest = now;
    for (const t of this.since.values()) oldest = Math.min(oldest, t);
    return { count: this.since.size, oldestMs: this.since.size > 0 ? now - oldest : 0 };
  }
}

/**
 * Server-side view from /metrics: totals of `_sum` and `_count` of the compute histograms, so
 * the mean over a window is (after − before). Separates server time from client-side overhead.
 */
async function serverTotals(base: string): Promise<{ poolSum: number; poolCount: number; httpSum: number; httpCount: number }> {
  const text = await (await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const total = (name: string, labels: string[] = []) => {
    let v = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(name) || !labels.every((l) => line.includes(l))) continue;
      const rest = line.slice(name.length);
      if (rest[0] !== ' ' && rest[0] !== '{') continue;
      v += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return v;
  };
  const compute = ['route="/epochs/:epoch/compute"', 'status="200"'];
  return {
    poolSum: total('reward_compute_latency_seconds_sum'),
    poolCount: total('reward_compute_latency_seconds_count'),
    httpSum: total('http_request_duration_seconds_sum', compute),
    httpCount: total('http_request_duration_seconds_count', compute),
  };
}
const meanMs = (sum: number, count: number) => (count > 0 ? (1000 * sum) / count : Number.NaN);

// ---------------------------------------------------------------------------------------------
// The server process. Every spawned child is tracked so that any way out of this process kills it.

const live = new Set<ChildProcess>();
const SERVER_ENV_DEFAULTS = { TENANT_RPS_MAX: '1000000', MEMORY_STORE_MAX_BYTES: String(4 * 2 ** 30) };

class Server {
  readonly tail: string[] = [];
  url = '';
  workers: number | undefined;
  private readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;

  private constructor(readonly child: ChildProcess, readonly spawnedAt: number) {
    live.add(child);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        live.delete(child);
        this.exitCode = code ?? (signal !== null ? -1 : null);
        resolve(this.exitCode);
      }),
    );
    const keep = (prefix: string) => {
      let partial = '';
      return (chunk: Buffer) => {
        const lines = (partial + chunk.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) this.onLine(prefix, l);
      };
    };
    // Always drain both pipes: a server blocked on a full stdout pipe would stall the benchmark.
    child.stdout?.on('data', keep(''));
    child.stderr?.on('data', keep('stderr: '));
  }

  private listeners: Array<(l: Record<string, unknown>) => void> = [];

  private onLine(prefix: string, line: string): void {
    if (line === '') return;
    this.tail.push(prefix + line);
    if (this.tail.length > 40) this.tail.shift();
    if (prefix !== '') return;
    try {
      const j = JSON.parse(line) as Record<string, unknown>;
      for (const f of this.listeners) f(j);
    } catch {
      /* not a log line */
    }
  }

  get pid(): number {
    return this.child.pid as number;
  }

  get alive(): boolean {
    return this.exitCode === undefined;
  }

  /** Spawns the server and resolves once its "listening" line has named the URL. */
  /** `extra` overrides the environment; an undefined value removes the variable. */
  static async start(extra: Record<string, string | undefined> = {}): Promise<Server> {
    const env: NodeJS.ProcessEnv = { ...SERVER_ENV_DEFAULTS, ...process.env, ...extra, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
    const t0 = performance.now();
    // BENCH_SERVER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the server.
    const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    const child = spawn(process.execPath, [...SERVE_NODE_FLAGS, ...nodeArgs, BIN, 'serve', '--dev'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const s = new Server(child, t0);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not log "listening" within 30 s\n${s.tail.join('\n')}`)), 30_000);
      s.listeners.push((j) => {
        if (j.msg === 'listening' && typeof j.url === 'string') {
          s.url = j.url;
          s.workers = typeof j.workers === 'number' ? j.workers : undefined;
          clearTimeout(timer);
          resolve();
        }
      });
      void s.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`server exited (${code}) before listening\n${s.tail.join('\n')}`));
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    }).catch(async (e: unknown) => {
      await s.stop();
      throw e;
    });
    return s;
  }

  /** Peak and current resident set of the server process (all its threads), MiB. */
  memory(): { hwmMiB: number; rssMiB: number } {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const kib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
      return { hwmMiB: kib('VmHWM') / 1024, rssMiB: kib('VmRSS') / 1024 };
    } catch {
      return { hwmMiB: Number.NaN, rssMiB: Number.NaN };
    }
  }

  /** CPU seconds (user + system, all threads) the server has used so far. */
  cpuSeconds(): number {
    return cpuSecondsOf(this.pid);
  }

  /** Throws if the server died under us (a crash must not pass for a slow run). */
  check(): void {
    if (!this.alive) throw new Error(`server exited (${this.exitCode}) during the run\n${this.tail.join('\n')}`);
  }

  /** SIGTERM (drain), SIGKILL after 5 s; resolves once the process is gone. Returns ms taken. */
  async stop(): Promise<number> {
    const t0 = performance.now();
    if (!this.alive) return 0;
    this.child.kill('SIGTERM');
    const late = await Promise.race([this.exited.then(() => false), sleep(5_000).then(() => true)]);
    if (late) {
      out(`  (server ${this.pid} still running 5 s after SIGTERM: SIGKILL)`);
      this.child.kill('SIGKILL');
      await Promise.race([this.exited, sleep(5_000)]);
    }
    return performance.now() - t0;
  }
}


/** Runs body against a fresh server and always stops it. */
async function withServer<T>(body: (s: Server) => Promise<T>, env: Record<string, string | undefined> = {}): Promise<T> {
  const s = await Server.start(env);
  try {
    const r = await body(s);
    s.check();
    return r;
  } catch (e) {
    // The server's own account of what went wrong (its last log lines) beats a bare status.
    if (e instanceof Error && !e.message.includes('\n')) e.message += `\nlast server output:\n${s.tail.slice(-8).join('\n')}`;
    throw e;
  } finally {
    await s.stop();
  }
}

function killAll(): void {
  for (const c of live) c.kill('SIGKILL');
  for (const d of keyDirs) rmSync(d, { recursive: true, force: true });
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    process.stderr.write(`bench-http: ${sig}, killing the server\n`);
    killAll();
    process.exit(130);
  });
}

// ---------------------------------------------------------------------------------------------
// Load drivers.

/** One autocannon run; latencies come from its `response` events (exact percentiles, any p). */
function cannon(opts: AcOptions, rec: Recorder): Promise<AcResult> {
  return new Promise((resolve, reject) => {
    const inst = autocannon({ timeout: 30, ...opts }, (err, result) => (err !== null && err !== undefined ? reject(err) : resolve(result)));
    inst.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => rec.add(status, ms));
  });
}

/**
 * CPU use over a window, in % of one core, for the server process, this one (the client) and the
 * ledger stub process when there is one (NaN without).
 */
function cpuMeter(s: Server, stubPid?: number): () => { srv: number; cli: number; stub: number } {
  const t0 = performance.now();
  const srv0 = s.cpuSeconds();
  const stub0 = stubPid === undefined ? Number.NaN : cpuSecondsOf(stubPid);
  const cli0 = process.cpuUsage();
  return () => {
    const wall = (performance.now() - t0) / 1000;
    const cli = process.cpuUsage(cli0);
    const stub = stubPid === undefined ? Number.NaN : (100 * (cpuSecondsOf(stubPid) - stub0)) / wall;
    return { srv: (100 * (s.cpuSeconds() - srv0)) / wall, cli: (100 * (cli.user + cli.system)) / 1e6 / wall, stub };
  };
}

/**
 * Where the server's threads spent a window (threadShares). Threads are read every 250 ms and
 * each keeps its last reading: a worker can be replaced mid-window (a task still running when
 * its aborted request's grace period ends is stopped by terminating its thread).
 */
function threadMeter(s: Server): () => ReturnType<typeof threadShares> {
  const t0 = performance.now();
  const before = threadSched(s.pid);
  const last = new Map(before);
  const sampler = setInterval(() => {
    for (const [tid, r] of threadSched(s.pid)) last.set(tid, r);
  }, 250).unref();
  return () => {
    clearInterval(sampler);
    return threadShares(s.pid, before, last, (performance.now() - t0) / 1000);
  };
}

/** Generated documents are deterministic and costly at M: make each once per process. */
const generated = new Map<string, ReturnType<typeof generate>>();
function gen(scale: Scale, seed: number, profile: Profile = 'gen') {
  const key = `${profile}/${scale}/${seed}`;
  let g = generated.get(key);
  if (g === undefined) {
    g = generateProfile({ profile, scale, seed, form: 'columnar' });
    generated.set(key, g);
  }
  return g;
}


type Metrics = Record<string, number>;
interface RunOutcome {
  metrics: Metrics;
  statuses?: string;
  notes?: string[];
}

// ---------------------------------------------------------------------------------------------
// Scenarios.

/**
 * GET with node:http and no keep-alive: status, or 0 on any failure. (fetch would charge the
 * first poll with loading undici in this process, ~50–100 ms that are not the server's.)
 */
function probe(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = httpGet(url, { agent: false, timeout: 1_000 }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
      res.once('error', () => resolve(0));
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(0));
  });
}

async function readyzSpawn(): Promise<RunOutcome> {
  const s = await Server.start();
  try {
    const listenMs = performance.now() - s.spawnedAt;
    let readyMs = Number.NaN;
    let polls = 0;
    const giveUp = performance.now() + 30_000;
    while (performance.now() < giveUp) {
      const tick = performance.now();
      polls++;
      if ((await probe(`${s.url}/readyz`)) === 200) {
        readyMs = performance.now() - s.spawnedAt;
        break;
      }
      s.check();
      await sleep(Math.max(0, 10 - (performance.now() - tick)));
    }
    if (Number.isNaN(readyMs)) throw new Error('/readyz never answered 200 within 30 s');
    const mem = s.memory();
    const stopMs = await s.stop();
    return { metrics: { listen_ms: listenMs, ready_ms: readyMs, polls, stop_ms: stopMs, rss_mib: mem.rssMiB } };
  } finally {
    await s.stop();
  }
}

/** How a warm-m server signs: extra environment and the key ids it must then report (null: off). */
interface Signing {
  env: Record<string, string | undefined>;
  keyIds: string[] | null;
}

/** Fails the run unless the server signs exactly as asked: an unsigned "on" run would flatter PQ. */
async function checkSigning(s: Server, signing: Signing, epoch: string): Promise<void> {
  const version = await must(`${s.url}/version`, 'GET');
  const keyIds = version.signing === 'off' ? null : (version.signing as { key_ids?: unknown }).key_ids;
  if (JSON.stringify(keyIds) !== JSON.stringify(signing.keyIds)) {
    throw new Error(`server signing is ${JSON.stringify(version.signing)}, expected ${JSON.stringify(signing.keyIds ?? 'off')}`);
  }
  const att = await call(`${s.url}/epochs/${epoch}/attestation`, 'GET');
  if (att.status !== (signing.keyIds === null ? 404 : 200)) throw new Error(`GET /epochs/${epoch}/attestation → ${att.status} with signing ${signing.keyIds === null ? 'off' : 'on'}`);
}

/** warm-m against a server with the given ledger (see --ledger); undefined: the environment's. */
async function warmM(duration: number, connections: number, signing?: Signing, ledger?: LedgerMode, profile: Profile = 'gen'): Promise<RunOutcome> {
  const stub =
    ledger === 'healthy' || ledger === 'healthy-idle' ? await spawnLedgerStub({ seed: 1, idle: ledger === 'healthy-idle' }) : undefined;
  const env = { ...(signing?.env ?? {}), ...(ledger === undefined ? {} : { LEDGER_URL: stub?.url }) };
  try {
    return await warmMOn(duration, connections, env, signing, stub, profile);
  } finally {
    await stub?.kill();
  }
}

async function warmMOn(
  duration: number,
  connections: number,
  env: Record<string, string | undefined>,
  signing: Signing | undefined,
  stub: SpawnedLedgerStub | undefined,
  profile: Profile,
): Promise<RunOutcome> {
  const warmups = 8;
  const k = Math.max(160, Math.ceil(duration * 150)); // 2.5× the 60 runs/s target: 3000 at 20 s
  const t0 = performance.now();
  const g = gen('M', 1, profile);
  const genMs = performance.now() - t0;
  const policies = Array.from({ length: k + warmups }, (_, i) => policyVariant(g.policy, i));
  return withServer(async (s) => {
    const t1 = performance.now();
    const inputs = await sealThroughClient(s.url, 'inputs', g.inputs);
    const t2 = performance.now();
    const sealed = await pmap(policies, 16, (p) => sealThroughClient(s.url, 'policies', p));
    const t3 = performance.now();
    if (new Set(sealed.map((p) => p.policy_hash)).size !== sealed.length) throw new Error('policy variants do not hash apart');
    const bodies = sealed.map((p) =>
      Buffer.from(JSON.stringify({ inputs_cid: inputs.inputs_cid, policy_id: p.policy_id, policy_hash: p.policy_hash })),
    );
    out(
      `  setup: ${signing === undefined ? '' : `signing ${signing.keyIds === null ? 'off' : 'ON'}, `}${s.workers ?? '?'} compute worker(s); generate ${profile} M ${genMs.toFixed(0)} ms (cached after the first run), PUT /inputs ${(t2 - t1).toFixed(0)} ms, ` +
        `${sealed.length} policies ${((t3 - t2) / 1000).toFixed(1)} s (${(sealed.length / ((t3 - t2) / 1000)).toFixed(0)}/s, 16 in flight)`,
    );
    // Warm the worker's JIT on policies the measured run never uses. With a ledger, one at a time:
    // a cold stub parsing parts from 4 runs at once answers in > 100 ms, over the default p95
    // budget, and the server rightly enters quarantine-only mode before the measurement starts.
    await pmap(bodies.slice(k), stub === undefined ? 4 : 1, async (b, i) => {
      const r = await call(`${s.url}/epochs/warmup-${i}:e/compute`, 'POST', b);
      if (r.status !== 200) throw new Error(`warm-up compute → ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
    });
    if (signing !== undefined) await checkSigning(s, signing, 'warmup-0:e');
    s.check();

    const rec = new Recorder();
    const pending = new Outstanding();
    let next = 0;
    let replays = 0;
    const srv0 = await serverTotals(s.url);
    const stub0 = await stub?.admin.stats();
    const cpu = cpuMeter(s, stub?.pid);
    const threads = threadMeter(s);
    const before = performance.now();
    const result = await cannon(
      {
        url: s.url,
        connections,
        duration,
        requests: [
          {
            method: 'POST',
            headers: JSON_HEADERS,
            setupRequest: (req, ctx) => {
              const i = next++;
              ctx.i = i;
              pending.issue(i);
              req.path = `/epochs/m-${i}:e/compute`;
              req.body = bodies[i % k] as Buffer;
              return req;
            },
            onResponse: (_status, _body, ctx, headers) => {
              pending.done(ctx.i as number);
              for (const [h, v] of Object.entries(headers)) if (h.toLowerCase() === 'idempotent-replayed' && v === 'true') replays++;
            },
          },
        ],
      },
      rec,
    );
    const wall = (performance.now() - before) / 1000;
    const unfinished = pending.at();
    const used = cpu();
    const shares = threads();
    s.check();
    const mem = s.memory();
    await sleep(200); // let the requests autocannon abandoned at the end finish or abort
    const srv1 = await serverTotals(s.url);
    const lat = rec.latency();
    const notes: string[] = [];
    if (next > k) notes.push(`${next - k} requests reused a policy (fresh epochs still): raise K`);
    if (unfinished.count > 0) {
      notes.push(
        `${unfinished.count} requests were still unanswered when the load stopped, the oldest after ` +
          `${fmt(unfinished.oldestMs)} ms: they are in no latency figure (a server that starves some requests looks fast)`,
      );
    }
    if (replays > 0) notes.push(`${replays} responses were replays: not a fresh-run measurement`);
    if (stub !== undefined && stub0 !== undefined) {
      const st = await stub.admin.stats();
      const d = (k: 'requests_total' | 'accepted' | 'dup' | 'conflict') => st[k] - stub0[k];
      notes.push(
        `ledger stub (measured window): ${d('requests_total')} requests, ${d('accepted')} accepted, ${d('dup')} dup, ` +
          `${d('conflict')} conflict (${fmt(d('accepted') / Math.max(1, rec.count200))} parts per 200)`,
      );
    }
    return {
      metrics: {
        runs_per_s: rec.count200 / (result.duration || wall),
        ok: rec.count200,
        p50_ms: lat.p50,
        p95_ms: lat.p95,
        p99_ms: lat.p99,
        max_ms: lat.max,
        srv_http_ms: meanMs(srv1.httpSum - srv0.httpSum, srv1.httpCount - srv0.httpCount),
        srv_pool_ms: meanMs(srv1.poolSum - srv0.poolSum, srv1.poolCount - srv0.poolCount),
        unfinished: unfinished.count,
        oldest_unfinished_ms: unfinished.oldestMs,
        non2xx: rec.non2xx,
        errors: result.errors,
        replays,
        srv_cpu_pct: used.srv,
        cli_cpu_pct: used.cli,
        stub_cpu_pct: used.stub,
        wrk_run_pct: shares.workerRun,
        wrk_wait_pct: shares.workerWait,
        main_cpu_pct: shares.main,
        helpers_cpu_pct: shares.others,
        rss_hwm_mib: mem.hwmMiB,
        rss_mib: mem.rssMiB,
      },
      statuses: rec.statusText(),
      notes,
    };
  }, env);
}

/** The trivial Hono POST server (scripts/hono-trivial.ts), answering `bytes` stored bytes. */
async function startTrivial(bytes: number): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const script = fileURLToPath(new URL('./hono-trivial.js', import.meta.url));
  const child = spawn(process.execPath, [...SERVE_NODE_FLAGS, script, '--bytes', String(bytes)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (c: Buffer) => {
      text += c.toString('utf8');
      const line = text.split('\n')[0] ?? '';
      if (text.includes('\n')) resolve((JSON.parse(line) as { url: string }).url);
    });
    void exited.then(() => reject(new Error('hono-trivial exited before listening')));
  });
  return {
    url,
    pid: child.pid as number,
    stop: async () => {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5_000)]);
      child.kill('SIGKILL');
      live.delete(child);
    },
  };
}

/**
 * replay against the trivial Hono POST in the same round: the same body, connections and duration
 * against a process that only reads the body and writes stored bytes of the answer's size, one
 * right after the other (alternating which goes first), so the ratio compares like with like.
 */
async function replay(duration: number, connections: number, profile: Profile = 'gen', round = 0): Promise<RunOutcome> {
  const g = gen('M', 1, profile);
  return withServer(async (s) => {
    const inputs = await sealThroughClient(s.url, 'inputs', g.inputs);
    const policy = await sealThroughClient(s.url, 'policies', g.policy);
    const body = JSON.stringify({ inputs_cid: inputs.inputs_cid, policy_id: policy.policy_id, policy_hash: policy.policy_hash });
    const first = await call(`${s.url}/epochs/replay-1/compute`, 'POST', body);
    if (first.status !== 200) throw new Error(`binding compute → ${first.status} ${JSON.stringify(first.json).slice(0, 300)}`);
    const again = await call(`${s.url}/epochs/replay-1/compute`, 'POST', body);
    const notes: string[] = [];
    if (again.status !== 200 || again.headers.get('idempotent-replayed') !== 'true') {
      notes.push(`second request was not a replay (status ${again.status}, Idempotent-Replayed ${again.headers.get('idempotent-replayed')})`);
    }
    const opts = { url: `${s.url}/epochs/replay-1/compute`, connections, method: 'POST', headers: JSON_HEADERS, body };
    await cannon({ ...opts, amount: 2_000 }, new Recorder()); // warm-up, not reported
    const trivial = await startTrivial(Buffer.byteLength(JSON.stringify(again.json)));
    let trivialRate = Number.NaN;
    let trivialUs = Number.NaN;
    const measureTrivial = async () => {
      const topts = { ...opts, url: `${trivial.url}/epochs/replay-1/compute` };
      await cannon({ ...topts, amount: 2_000 }, new Recorder());
      const trec = new Recorder();
      const c0 = cpuSecondsOf(trivial.pid);
      const r = await cannon({ ...topts, duration }, trec);
      trivialRate = trec.count200 / r.duration;
      trivialUs = (1e6 * (cpuSecondsOf(trivial.pid) - c0)) / Math.max(1, trec.count200);
    };
    const rec = new Recorder();
    let srvUs: number;
    let srv0: Awaited<ReturnType<typeof serverTotals>>;
    let cpu: ReturnType<typeof cpuMeter>;
    let result: AcResult;
    let used: ReturnType<ReturnType<typeof cpuMeter>>;
    try {
      if (round % 2 === 0) await measureTrivial();
      srv0 = await serverTotals(s.url);
      cpu = cpuMeter(s);
      const srvCpu0 = s.cpuSeconds();
      result = await cannon({ ...opts, duration }, rec);
      used = cpu();
      srvUs = (1e6 * (s.cpuSeconds() - srvCpu0)) / Math.max(1, rec.count200);
      if (round % 2 === 1) await measureTrivial();
    } finally {
      await trivial.stop();
    }
    s.check();
    const mem = s.memory();
    await sleep(200);
    const srv1 = await serverTotals(s.url);
    const lat = rec.latency();
    return {
      metrics: {
        req_per_s: rec.count200 / result.duration,
        trivial_req_per_s: trivialRate,
        vs_trivial: rec.count200 / result.duration / trivialRate,
        srv_us_per_req: srvUs,
        trivial_us_per_req: trivialUs,
        // Server CPU per request, trivial over replay: the throughput ratio a CPU-bound server
        // would reach, and far less sensitive to other load on the machine than req/s.
        cpu_vs_trivial: trivialUs / srvUs,
        ok: rec.count200,
        p50_ms: lat.p50,
        p95_ms: lat.p95,
        p99_ms: lat.p99,
        max_ms: lat.max,
        srv_http_ms: meanMs(srv1.httpSum - srv0.httpSum, srv1.httpCount - srv0.httpCount),
        non2xx: rec.non2xx,
        errors: result.errors,
        srv_cpu_pct: used.srv,
        cli_cpu_pct: used.cli,
        rss_hwm_mib: mem.hwmMiB,
      },
      statuses: rec.statusText(),
      notes,
    };
  });
}

/** Seeds of the cold-s documents; each fresh server sees each of them for the first time. */
const COLD_SEED0 = 100_001;
const coldDocs: Uint8Array[] = [];

async function coldS(duration: number, connections: number): Promise<RunOutcome> {
  const want = Math.max(300, Math.ceil(duration * 100)); // room for 100 pairs/s
  if (coldDocs.length < want) {
    const t0 = performance.now();
    for (let i = coldDocs.length; i < want; i++) coldDocs.push(generate({ scale: 'S', seed: COLD_SEED0 + i, form: 'columnar' }).inputs);
    out(`  setup: generated ${want} S input documents (distinct seeds) in ${((performance.now() - t0) / 1000).toFixed(1)} s (cached for later runs)`);
  }
  const policyDoc = gen('S', 1).policy;
  return withServer(async (s) => {
    const policy = await sealThroughClient(s.url, 'policies', policyDoc);
    const pairs = new Recorder();
    const seal: number[] = [];
    const compute: number[] = [];
    let next = 0;
    let onDemand = 0;
    let failures = 0;
    const docFor = (i: number): Uint8Array => {
      const d = coldDocs[i];
      if (d !== undefined) return d;
      onDemand++; // ran out of pre-generated documents: make one now (costs client CPU)
      return generate({ scale: 'S', seed: COLD_SEED0 + i, form: 'columnar' }).inputs;
    };
    const cpu = cpuMeter(s);
    const start = performance.now();
    const stopAt = start + duration * 1000;
    // Like autocannon, drop what is still in flight when the duration ends (and say so).
    const end = new AbortController();
    const endTimer = setTimeout(() => end.abort(), duration * 1000);
    let dropped = 0;
    let droppedOldestMs = 0;
    const worker = async () => {
      while (performance.now() < stopAt && s.alive) {
        const i = next++;
        const doc = docFor(i);
        const t0 = performance.now();
        try {
          const a = await call(`${s.url}/inputs`, 'PUT', doc, end.signal);
          const t1 = performance.now();
          if (a.status !== 201 && a.status !== 200) {
            pairs.add(a.status, t1 - t0);
            continue;
          }
          seal.push(t1 - t0);
          const body = JSON.stringify({ inputs_cid: a.json.inputs_cid, policy_id: policy.policy_id, policy_hash: policy.policy_hash });
          const b = await call(`${s.url}/epochs/cold-${i}/compute`, 'POST', body, end.signal);
          const t2 = performance.now();
          if (b.status === 200) compute.push(t2 - t1);
          pairs.add(b.status, t2 - t0);
        } catch {
          if (end.signal.aborted) {
            dropped++;
            droppedOldestMs = Math.max(droppedOldestMs, performance.now() - t0);
          } else failures++;
        }
      }
    };
    await Promise.all(Array.from({ length: connections }, worker));
    clearTimeout(endTimer);
    const elapsed = (performance.now() - start) / 1000;
    const used = cpu();
    s.check();
    const mem = s.memory();
    const lat = pairs.latency();
    const notes: string[] = [];
    if (dropped > 0) {
      notes.push(`${dropped} pairs were still unanswered when the load stopped, the oldest after ${fmt(droppedOldestMs)} ms (in no latency figure)`);
    }
    if (onDemand > 0) notes.push(`${onDemand} documents generated during the run (client CPU competed with the server)`);
    return {
      metrics: {
        runs_per_s: pairs.count200 / elapsed,
        ok: pairs.count200,
        p50_ms: lat.p50,
        p95_ms: lat.p95,
        p99_ms: lat.p99,
        seal_p95_ms: percentile(sortedOf(seal), 95),
        compute_p95_ms: percentile(sortedOf(compute), 95),
        unfinished: dropped,
        oldest_unfinished_ms: droppedOldestMs,
        non2xx: pairs.non2xx,
        errors: failures,
        srv_cpu_pct: used.srv,
        cli_cpu_pct: used.cli,
        rss_hwm_mib: mem.hwmMiB,
      },
      statuses: pairs.statusText(),
      notes,
    };
  });
}

/**
 * Issue 5's budget: the same warm-m load against a server with signing off and one with
 * REQUIRE_PQ_ON=true + SIGNING_KEY_DIR, alternating, `rounds` times, in this one process (same
 * client, same generated documents, same machine state as far as a busy box allows). Each server
 * gets the configuration an operator would give it: the PQ one therefore also runs one compute
 * worker fewer (cores − 2 instead of cores − 1) unless CONCURRENCY_COMPUTE_WORKERS is set.
 */
async function pq(duration: number, connections: number, rounds: number): Promise<{ off: RunOutcome[]; on: RunOutcome[]; keyIds: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'rewarder-bench-keys-'));
  keyDirs.add(dir);
  try {
    const keyIds = await keygen(dir);
    out(`  setup: rewarder keygen --out ${dir} → ${keyIds.join(', ')}`);
    const offEnv: Signing = { env: { REQUIRE_PQ_ON: 'false', SIGNING_KEY_DIR: undefined }, keyIds: null };
    const onEnv: Signing = { env: { REQUIRE_PQ_ON: 'true', SIGNING_KEY_DIR: dir }, keyIds };
    const off: RunOutcome[] = [];
    const on: RunOutcome[] = [];
    for (let r = 0; r < rounds; r++) {
      off.push(await warmM(duration, connections, offEnv));
      on.push(await warmM(duration, connections, onEnv));
    }
    return { off, on, keyIds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    keyDirs.delete(dir);
  }
}

/** `rewarder keygen --out dir` as an operator runs it; resolves with the printed key ids. */
function keygen(dir: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'keygen', '--out', dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (c: Buffer) => (text += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (text += c.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => {
      const ids = [...text.matchAll(/^(?:ML-DSA-65|Ed25519) (b3:[0-9a-f]{64})$/gm)].map((m) => m[1] as string);
      if (code === 0 && ids.length === 2) resolve(ids);
      else reject(new Error(`rewarder keygen exited ${code}: ${text.trim()}`));
    });
  });
}

/** Key directories made here: removed on every way out (they hold private keys). */
const keyDirs = new Set<string>();

// ---------------------------------------------------------------------------------------------
// Reporting.

interface Target {
  metric: string;
  op: '>=' | '<=';
  value: number;
  label: string;
}
const TARGETS: Partial<Record<ScenarioName, Target[]>> = {
  'readyz-spawn': [{ metric: 'ready_ms', op: '<=', value: 1000, label: '/readyz 200 within 1 s of spawn' }],
  'warm-m': [
    { metric: 'runs_per_s', op: '>=', value: 60, label: '≥ 60 runs/s at c = 16' },
    { metric: 'p95_ms', op: '<=', value: 250, label: 'p95 ≤ 250 ms at c = 16' },
  ],
  replay: [
    { metric: 'req_per_s', op: '>=', value: 5000, label: '≥ 5,000 req/s' },
    { metric: 'vs_trivial', op: '>=', value: 0.8, label: '≥ 0.8× a trivial Hono POST in the same round' },
  ],
  pq: [{ metric: 'p95_delta_pct', op: '<=', value: 5, label: 'PQ adds ≤ 5 % to p95 (seed 002)' }],
};
const DESCRIPTIONS: Record<ScenarioName, string> = {
  'readyz-spawn': 'spawn → first /readyz 200, polled every 10 ms (one spawn per run)',
  'warm-m': 'M inputs sealed once; each request a fresh epoch with a fresh policy',
  replay: 'one bound epoch; the same compute request replayed, against a trivial Hono POST (hono-trivial.js) in the same round',
  'cold-s': 'each pair: PUT fresh S inputs (own seed) + compute a fresh epoch',
  pq: 'warm-m with signing off, then with REQUIRE_PQ_ON=true + SIGNING_KEY_DIR, alternating per round',
};

function fmt(v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return '-';
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1);
}

/** Column labels (the JSON summary keeps the full metric names). */
const LABELS: Record<string, string> = {
  runs_per_s: 'runs/s',
  req_per_s: 'req/s',
  trivial_req_per_s: 'hono_req/s',
  vs_trivial: 'vs_hono',
  srv_us_per_req: 'srv_µs/req',
  trivial_us_per_req: 'hono_µs/req',
  cpu_vs_trivial: 'cpu_vs_hono',
  ok: '200s',
  p50_ms: 'p50',
  p95_ms: 'p95',
  p99_ms: 'p99',
  max_ms: 'max',
  srv_http_ms: 'srv_http',
  srv_pool_ms: 'srv_pool',
  seal_p95_ms: 'seal_p95',
  compute_p95_ms: 'comp_p95',
  unfinished: 'unfin',
  oldest_unfinished_ms: 'unfin_age',
  errors: 'errs',
  srv_cpu_pct: 'srv_cpu%',
  cli_cpu_pct: 'cli_cpu%',
  stub_cpu_pct: 'stub_cpu%',
  wrk_run_pct: 'wrk_run%',
  wrk_wait_pct: 'wrk_wait%',
  main_cpu_pct: 'main%',
  helpers_cpu_pct: 'helpers%',
  rss_hwm_mib: 'HWM_MiB',
  rss_mib: 'RSS_MiB',
  listen_ms: 'listen',
  ready_ms: 'ready',
  stop_ms: 'stop',
};
const LEGEND =
  'times in ms (p50/p95/p99/max: 200s only, client side); srv_http / srv_pool: server mean per 200 from /metrics ' +
  '(whole request / pool queue + compute); unfin: unanswered when the load stopped, unfin_age: the oldest one\'s wait; ' +
  'cpu in % of one core (server process, this client, the ledger stub process; warm-m: the compute worker on a CPU ' +
  'and runnable but waiting for one, the main thread, the server\'s other threads such as V8\'s GC helpers); HWM/RSS: server VmHWM/VmRSS at the end';

function printTable(runs: RunOutcome[], med: Metrics, labels?: string[], medians?: [string, Metrics][]): void {
  const keys = Object.keys(runs[0]?.metrics ?? {});
  const header = ['run', ...keys.map((k) => LABELS[k] ?? k), ...(runs.some((r) => r.statuses !== undefined) ? ['statuses'] : [])];
  const rows = runs.map((r, i) => [labels?.[i] ?? String(i + 1), ...keys.map((k) => fmt(r.metrics[k])), ...(r.statuses !== undefined ? [r.statuses] : [])]);
  for (const [label, m] of medians ?? (runs.length > 1 ? [['median', med] as [string, Metrics]] : [])) rows.push([label, ...keys.map((k) => fmt(m[k]))]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) =>
    `  ${cells.map((cell, c) => (c === 0 || (c === header.length - 1 && header[c] === 'statuses') ? cell.padEnd(widths[c] as number) : cell.padStart(widths[c] as number))).join('  ')}`.trimEnd();
  out(line(header));
  for (const r of rows) out(line(r));
}

// ---------------------------------------------------------------------------------------------
// Main.

const budgetS =
  optTimeout ??
  60 +
    selected.reduce((sum, s) => {
      const c = cfg(s);
      const setup = { 'readyz-spawn': 35, 'warm-m': 240, replay: 90, 'cold-s': 120 + c.duration * 3, pq: 240 }[s];
      const perRound =
        s === 'pq' ? 2 : s === 'warm-m' ? (ledgers?.length ?? profiles.length) : s === 'replay' ? 2 * profiles.length : 1;
      return sum + c.runs * perRound * (c.duration + setup);
    }, 0);
const watchdog = setTimeout(() => {
  process.stderr.write(`bench-http: global timeout after ${budgetS} s; killing the server\n`);
  killAll();
  process.exit(124);
}, budgetS * 1000);
watchdog.unref();

const medianOf = (runs: RunOutcome[]): Metrics => {
  const med: Metrics = {};
  for (const k of Object.keys(runs[0]?.metrics ?? {})) med[k] = median(runs.map((r) => r.metrics[k] as number));
  return med;
};
const pct = (on: number, off: number) => (100 * (on - off)) / off;

/** Prints the off/on table, p95 both ways and the delta; returns the scenario's JSON summary. */
function reportPq(r: { off: RunOutcome[]; on: RunOutcome[]; keyIds: string[] }, c: { connections: number; duration: number; runs: number }) {
  const runs = r.off.flatMap((o, i) => [o, r.on[i] as RunOutcome]);
  const labels = r.off.flatMap((_, i) => [`${i + 1} off`, `${i + 1} on`]);
  const medOff = medianOf(r.off);
  const medOn = medianOf(r.on);
  printTable(runs, medOff, labels, [
    ['median off', medOff],
    ['median on', medOn],
  ]);
  for (const note of new Set(runs.flatMap((x) => x.notes ?? []))) out(`  note: ${note}`);
  const rounds = r.off.map((o, i) => {
    const on = (r.on[i] as RunOutcome).metrics;
    return {
      p95_off_ms: o.metrics.p95_ms as number,
      p95_on_ms: on.p95_ms as number,
      p95_delta_pct: pct(on.p95_ms as number, o.metrics.p95_ms as number),
      runs_per_s_off: o.metrics.runs_per_s as number,
      runs_per_s_on: on.runs_per_s as number,
    };
  });
  const med: Metrics = {
    p95_off_ms: medOff.p95_ms as number,
    p95_on_ms: medOn.p95_ms as number,
    // Median of the per-round (paired) deltas: each pair ran back to back on the same machine.
    p95_delta_pct: median(rounds.map((x) => x.p95_delta_pct)),
    p95_delta_of_medians_pct: pct(medOn.p95_ms as number, medOff.p95_ms as number),
    runs_per_s_off: medOff.runs_per_s as number,
    runs_per_s_on: medOn.runs_per_s as number,
    runs_per_s_delta_pct: median(rounds.map((x) => pct(x.runs_per_s_on, x.runs_per_s_off))),
  };
  const sign = (v: number) => `${v > 0 ? '+' : ''}${fmt(v)}`;
  out(`  rounds: ${rounds.map((x, i) => `${i + 1}: p95 ${fmt(x.p95_off_ms)} → ${fmt(x.p95_on_ms)} ms (${sign(x.p95_delta_pct)} %)`).join('; ')}`);
  out(
    `  p95 off ${fmt(med.p95_off_ms)} ms, p95 on ${fmt(med.p95_on_ms)} ms, delta ${sign(med.p95_delta_pct as number)} % ` +
      `(median of ${rounds.length} paired round${rounds.length > 1 ? 's' : ''}; of the medians: ${sign(med.p95_delta_of_medians_pct as number)} %)`,
  );
  out(`  runs/s off ${fmt(med.runs_per_s_off)}, on ${fmt(med.runs_per_s_on)} (${sign(med.runs_per_s_delta_pct as number)} %); signing key ids ${r.keyIds.join(', ')}`);
  const targets = (TARGETS.pq ?? []).map((t) => {
    const v = med[t.metric] as number;
    const met = t.op === '>=' ? v >= t.value : v <= t.value;
    out(`  target ${t.label}: ${sign(v)} % ${t.metric}${rounds.length > 1 ? ' (median)' : ''} → ${met ? 'met' : 'NOT met'}`);
    return { ...t, measured: v, met };
  });
  return {
    connections: c.connections,
    duration_s: c.duration,
    rounds: rounds.map((x, i) => ({ ...x, off: r.off[i]?.metrics, on: r.on[i]?.metrics })),
    median: med,
    targets,
  };
}

/**
 * warm-m once per --ledger mode in each round, back to back; prints every run, the medians per mode
 * and, against `none`, the paired per-round deltas and issue 4's budget (≤ 10 % fewer runs/s).
 */
async function reportLedgers(modes: LedgerMode[], c: { connections: number; duration: number; runs: number }) {
  const byMode = new Map<LedgerMode, RunOutcome[]>(modes.map((m) => [m, []]));
  const runs: RunOutcome[] = [];
  const labels: string[] = [];
  for (let r = 0; r < c.runs; r++) {
    for (const mode of modes) {
      const run = await warmM(c.duration, c.connections, undefined, mode);
      byMode.get(mode)?.push(run);
      runs.push(run);
      labels.push(`${r + 1} ${mode}`);
    }
  }
  const medians = modes.map((m) => [`median ${m}`, medianOf(byMode.get(m) ?? [])] as [string, Metrics]);
  printTable(runs, medians[0]?.[1] ?? {}, labels, medians);
  for (const note of new Set(runs.flatMap((x) => x.notes ?? []))) out(`  note: ${note}`);
  const summary: Record<string, unknown> = {
    connections: c.connections,
    duration_s: c.duration,
    runs: runs.map((x, i) => ({ ledger: labels[i], ...x.metrics, statuses: x.statuses })),
    median: Object.fromEntries(modes.map((m, i) => [m, medians[i]?.[1]])),
  };
  const base = byMode.get('none');
  const deltas: Record<string, unknown> = {};
  const targets: unknown[] = [];
  for (const mode of modes) {
    const other = byMode.get(mode);
    if (mode === 'none' || base === undefined || other === undefined) continue;
    const paired = (k: string) => median(base.map((b, i) => pct(other[i]?.metrics[k] as number, b.metrics[k] as number)));
    const delta = { runs_per_s_delta_pct: paired('runs_per_s'), p95_delta_pct: paired('p95_ms') };
    const sign = (v: number) => `${v > 0 ? '+' : ''}${fmt(v)}`;
    out(`  ${mode} ledger vs none (median of ${base.length} paired round${base.length > 1 ? 's' : ''}): runs/s ${sign(delta.runs_per_s_delta_pct)} %, p95 ${sign(delta.p95_delta_pct)} %`);
    const met = delta.runs_per_s_delta_pct >= -10;
    out(`  target issue 4 (a healthy ledger costs ≤ 10 % of warm-m runs/s), ${mode}: ${sign(delta.runs_per_s_delta_pct)} % → ${met ? 'met' : 'NOT met'}`);
    deltas[mode] = delta;
    targets.push({ metric: 'runs_per_s_delta_pct', op: '>=', value: -10, label: `${mode} ledger ≤ 10 % fewer runs/s`, measured: delta.runs_per_s_delta_pct, met });
  }
  if (targets.length > 0) {
    summary.delta = deltas;
    summary.targets = targets;
  }
  return summary;
}

async function main(): Promise<void> {
  const load = loadavg().map((x) => x.toFixed(2)).join(' ');
  const envNote = Object.entries(SERVER_ENV_DEFAULTS)
    .map(([k, v]) => `${k}=${process.env[k] ?? v}`)
    .join(' ');
  out(`bench-http: node ${process.version}, ${availableParallelism()} cores, load ${load}; budget ${budgetS} s`);
  out(`columns: ${LEGEND}`);
  out(`server: ${process.execPath} ${SERVE_NODE_FLAGS.join(' ')} bin/rewarder.js serve --dev, PORT=0 HOST=127.0.0.1 LOG_LEVEL=info ${envNote}; a fresh process per run`);
  const summary: Record<string, unknown> = {};
  for (const [name, profile] of selected.flatMap((n) => (PER_PROFILE.includes(n) && ledgers === undefined ? profiles.map((p) => [n, p] as const) : [[n, 'gen' as Profile] as const]))) {
    const c = cfg(name);
    const key = PER_PROFILE.includes(name) && ledgers === undefined ? `${name}/${profile}` : name;
    out();
    out(
      `== ${key}: ${DESCRIPTIONS[name]}` +
        (name === 'readyz-spawn'
          ? `; ${c.runs} runs`
          : `; c = ${c.connections}, ${c.duration} s, ${c.runs} ${name === 'pq' ? 'round' : 'run'}${c.runs > 1 ? 's' : ''}`),
    );
    if (name === 'pq') {
      summary[name] = reportPq(await pq(c.duration, c.connections, c.runs), c);
      continue;
    }
    if (name === 'warm-m' && ledgers !== undefined) {
      summary[name] = await reportLedgers(ledgers, c);
      continue;
    }
    const runs: RunOutcome[] = [];
    for (let i = 0; i < c.runs; i++) {
      if (name === 'readyz-spawn') runs.push(await readyzSpawn());
      else if (name === 'warm-m') runs.push(await warmM(c.duration, c.connections, undefined, undefined, profile));
      else if (name === 'replay') runs.push(await replay(c.duration, c.connections, profile, i));
      else runs.push(await coldS(c.duration, c.connections));
    }
    const med: Metrics = {};
    for (const k of Object.keys(runs[0]?.metrics ?? {})) med[k] = median(runs.map((r) => r.metrics[k] as number));
    printTable(runs, med);
    for (const note of new Set(runs.flatMap((r) => r.notes ?? []))) out(`  note: ${note}`);
    const targets = (TARGETS[name] ?? []).map((t) => {
      const v = med[t.metric] as number;
      const met = t.op === '>=' ? v >= t.value : v <= t.value;
      out(`  target ${t.label}: ${fmt(v)} ${t.metric}${runs.length > 1 ? ' (median)' : ''} → ${met ? 'met' : 'NOT met'}`);
      return { ...t, measured: v, met };
    });
    summary[key] = {
      profile: PER_PROFILE.includes(name) ? profile : 'gen',
      connections: c.connections,
      duration_s: c.duration,
      runs: runs.map((r) => ({ ...r.metrics, ...(r.statuses !== undefined ? { statuses: r.statuses } : {}) })),
      median: med,
      targets,
    };
  }
  out();
  out(JSON.stringify({ bench: 'http', node: process.version, cores: availableParallelism(), load: loadavg(), scenarios: summary }));
}

main().then(
  () => {
    clearTimeout(watchdog);
    killAll();
    process.exit(0);
  },
  (e: unknown) => {
    process.stderr.write(`bench-http: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    killAll();
    process.exit(1);
  },
);

// `node dist/scripts/bench-cold.js`: how fast a micronode comes up, and how fast its FIRST compute
// is, each from a fresh process (`node bin/rewarder.js serve --dev`, micronode defaults, amnesia
// directory under /dev/shm). A benchmark, not a test: it prints figures with the issue 6 targets
// beside them and a final JSON line; it fails only if the harness itself cannot run.
//
//   node dist/scripts/bench-cold.js [--ready-runs N] [--compute-runs N] [--cli-runs N] [--profile gen,token]
//
//   ready    spawn → first /readyz 200. The port is picked before the spawn so polling (every 5 ms,
//            node:http, no keep-alive) starts at once instead of after reading the log. Median of N (7).
//   first-s  a fresh process per run: wait for /readyz, PUT vectors/S/inputs-columnar.json and
//            vectors/S/policy.json, then time the first POST /epochs/…/compute (decode + calculus +
//            manifest on a cold worker thread, publish). p95 of N (12) processes. Once per
//            --profile: `gen` uses the committed vector; `token` the S documents of
//            `rewarder gen --profile token --scale S --seed 1 --form columnar`.
//   cli-m    a whole `rewarder compute` process at M (columnar, seed 1) per --profile, as an
//            auditor runs it (./bin/rewarder.js: its shebang's flags), stdout to /dev/null;
//            spawn → exit, median of N (9), beside `node -e 0` (Node's own start and exit).

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile } from './bench-kit.js';
import { SERVE_NODE_FLAGS } from '../src/cli/serve-flags.js';
import { type Profile, generateProfile, isProfile } from '../src/gen/profiles.js';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/rewarder.js', import.meta.url));
const S_INPUTS = readFileSync(new URL('vectors/S/inputs-columnar.json', `file://${ROOT}`));
const S_POLICY = readFileSync(new URL('vectors/S/policy.json', `file://${ROOT}`));
const out = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const { values } = parseArgs({
  options: {
    'ready-runs': { type: 'string', default: '7' },
    'compute-runs': { type: 'string', default: '12' },
    'cli-runs': { type: 'string', default: '9' },
    profile: { type: 'string', default: 'gen,token' },
  },
});
const profiles = values.profile.split(',') as Profile[];
for (const p of profiles) if (!isProfile(p)) throw new Error(`unknown profile ${p} (gen, token)`);
/** The S documents each profile's first compute seals. */
function sDocs(profile: Profile): { inputs: Uint8Array; policy: Uint8Array } {
  if (profile === 'gen') return { inputs: S_INPUTS, policy: S_POLICY };
  return generateProfile({ profile, scale: 'S', seed: 1, form: 'columnar' });
}
const readyRuns = Math.max(5, Number(values['ready-runs']));
const computeRuns = Math.max(10, Number(values['compute-runs']));
const cliRuns = Math.max(3, Number(values['cli-runs']));
/** The launcher's shebang flags: what `./bin/rewarder.js compute` runs with. */
const CLI_FLAGS = (readFileSync(BIN, 'utf8').split('\n')[0] ?? '').split(' ').filter((a) => a.startsWith('--'));

/** Wall time of one process from spawn to exit (stdout discarded); rejects on a non-zero exit. */
function processMs(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`${args.join(' ')} exited ${code}`))));
  });
}

/** M documents of a profile in a temp directory (generated once, reused by later runs). */
function mFiles(profile: Profile): { inputs: string; policy: string } {
  const dir = join(tmpdir(), `rewarder-bench-cold-${profile}-M`);
  const inputs = join(dir, 'inputs.json');
  const policy = join(dir, 'policy.json');
  if (!existsSync(inputs) || !existsSync(policy)) {
    const g = generateProfile({ profile, scale: 'M', seed: 1, form: 'columnar' });
    mkdirSync(dir, { recursive: true });
    writeFileSync(inputs, g.inputs);
    writeFileSync(policy, g.policy);
  }
  return { inputs, policy };
}

const median = (xs: number[]) => percentile(xs, 50);

/** A port free right now (bound and released); the service binds it a few ms later. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** One request on a fresh connection: status and body, or status 0 on any failure. */
function call(port: number, method: string, path: string, body?: Uint8Array | string): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, method, path, agent: false, timeout: 30_000, headers: body === undefined ? {} : { 'content-type': 'application/json' } },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8') }));
        res.once('error', () => resolve({ status: 0, text: '' }));
      },
    );
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve({ status: 0, text: '' }));
    req.end(body);
  });
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

interface Started {
  child: ChildProcess;
  port: number;
  readyMs: number;
  stop(): Promise<void>;
}

/** Spawns the service and polls /readyz from the first millisecond; resolves at the first 200. */
async function start(): Promise<Started> {
  const port = await freePort();
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
  const t0 = performance.now();
  const child = spawn(process.execPath, [...SERVE_NODE_FLAGS, BIN, 'serve', '--dev'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    live.delete(child);
  };
  const giveUp = t0 + 30_000;
  for (;;) {
    if ((await call(port, 'GET', '/readyz')).status === 200) return { child, port, readyMs: performance.now() - t0, stop };
    if (child.exitCode !== null || performance.now() > giveUp) {
      await stop();
      throw new Error(`service did not become ready (exit ${child.exitCode}): ${stderr.trim()}`);
    }
    await sleep(5);
  }
}

async function firstCompute(run: number, docs: { inputs: Uint8Array; policy: Uint8Array }): Promise<{ readyMs: number; sealMs: number; computeMs: number; totalMs: number }> {
  const s = await start();
  try {
    const t0 = performance.now();
    const inputs = await call(s.port, 'PUT', '/inputs', docs.inputs);
    const policy = await call(s.port, 'PUT', '/policies', docs.policy);
    if (inputs.status !== 201 || policy.status !== 201) throw new Error(`seal → ${inputs.status}/${policy.status} ${inputs.text}${policy.text}`);
    const i = JSON.parse(inputs.text) as { inputs_cid: string };
    const p = JSON.parse(policy.text) as { policy_id: string; policy_hash: string };
    const body = JSON.stringify({ inputs_cid: i.inputs_cid, policy_id: p.policy_id, policy_hash: p.policy_hash });
    const t1 = performance.now();
    const r = await call(s.port, 'POST', `/epochs/cold-${run}:e/compute`, body);
    const t2 = performance.now();
    if (r.status !== 200) throw new Error(`compute → ${r.status} ${r.text.slice(0, 300)}`);
    return { readyMs: s.readyMs, sealMs: t1 - t0, computeMs: t2 - t1, totalMs: s.readyMs + (t2 - t0) };
  } finally {
    await s.stop();
  }
}

const fmt = (v: number) => (Number.isNaN(v) ? '-' : v.toFixed(0));

async function main(): Promise<void> {
  out(`bench-cold: node ${process.version}, ${availableParallelism()} cores, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  out(`server: node ${SERVE_NODE_FLAGS.join(' ')} bin/rewarder.js serve --dev (micronode defaults, AUTH=off, LOG_LEVEL=warn), a fresh process per run`);

  out(`\n== ready: spawn → first /readyz 200 (polled every 5 ms); ${readyRuns} processes`);
  const ready: number[] = [];
  for (let k = 0; k < readyRuns; k++) {
    const s = await start();
    ready.push(s.readyMs);
    await s.stop();
  }
  out(`  runs (ms): ${ready.map(fmt).join(' ')}`);
  const readyMed = median(ready);
  out(`  median ${fmt(readyMed)} ms, max ${fmt(Math.max(...ready))} ms → target ≤ 1000 ms: ${readyMed <= 1000 ? 'met' : 'NOT met'}`);

  const first: Record<string, unknown> = {};
  for (const profile of profiles) {
    const docs = sDocs(profile);
    out(`\n== first-s/${profile}: first compute of the ${profile} S documents in a fresh process; ${computeRuns} processes`);
    const runs: Array<Awaited<ReturnType<typeof firstCompute>>> = [];
    for (let k = 0; k < computeRuns; k++) runs.push(await firstCompute(k, docs));
    const col = (f: (r: (typeof runs)[number]) => number) => runs.map(f);
    out('  run  ready  seal(PUT×2)  compute  spawn→manifest');
    runs.forEach((r, k) => out(`  ${String(k + 1).padStart(3)}  ${fmt(r.readyMs).padStart(5)}  ${fmt(r.sealMs).padStart(11)}  ${fmt(r.computeMs).padStart(7)}  ${fmt(r.totalMs).padStart(14)}`));
    const c = col((r) => r.computeMs);
    const p95 = percentile(c, 95);
    out(`  compute p50 ${fmt(median(c))} ms, p95 ${fmt(p95)} ms, max ${fmt(Math.max(...c))} ms → target p95 ≤ 750 ms: ${p95 <= 750 ? 'met' : 'NOT met'}`);
    out(`  spawn → manifest p50 ${fmt(median(col((r) => r.totalMs)))} ms, p95 ${fmt(percentile(col((r) => r.totalMs), 95))} ms`);
    first[profile] = {
      compute_ms: { runs: c, p50: median(c), p95 },
      seal_ms_p95: percentile(col((r) => r.sealMs), 95),
      spawn_to_manifest_ms_p95: percentile(col((r) => r.totalMs), 95),
    };
  }

  const cli: Record<string, unknown> = {};
  const bare: number[] = [];
  for (let k = 0; k < cliRuns; k++) bare.push(await processMs(['-e', '0']));
  out(`\n== cli-m: whole-process rewarder compute at M (node ${CLI_FLAGS.join(' ')} bin/rewarder.js compute …); ${cliRuns} runs each`);
  out(`  node -e 0 (ms): ${bare.map(fmt).join(' ')}  median ${fmt(median(bare))}`);
  for (const profile of profiles) {
    const f = mFiles(profile);
    const ms: number[] = [];
    for (let k = 0; k < cliRuns; k++) ms.push(await processMs([...CLI_FLAGS, BIN, 'compute', '--epoch', 'e1', '--inputs', f.inputs, '--policy', f.policy]));
    const med = median(ms);
    out(`  ${profile.padEnd(5)} (ms): ${ms.map(fmt).join(' ')}  median ${fmt(med)} → target ≤ 200 ms: ${med <= 200 ? 'met' : 'NOT met'}`);
    cli[profile] = { runs: ms, median: med };
  }

  out(
    `\n${JSON.stringify({
      bench: 'cold',
      cli_m_ms: cli,
      node_e0_ms: { runs: bare, median: median(bare) },
      node: process.version,
      cores: availableParallelism(),
      ready_ms: { runs: ready, median: readyMed },
      first_s: first,
    })}`,
  );
}

const watchdog = setTimeout(() => {
  process.stderr.write('bench-cold: global timeout (300 s)\n');
  process.exit(124);
}, 300_000);
watchdog.unref();
main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench-cold: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);

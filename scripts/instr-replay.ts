// Instructions per replayed compute request against instructions per trivial Hono POST, counted by
// callgrind in each server process (`callgrind_control` zeroes the counters after a warm-up and
// dumps them after a fixed number of requests), so the ratio does not depend on machine load the
// way req/s does. It is the throughput ratio a CPU-bound server reaches: replay ≥ 0.8× the trivial
// POST means ≤ 1.25× its instructions per request.
//
//   node dist/scripts/instr-replay.js [--profile gen|token] [--requests 3000] [--warmup 1500]
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type AcResult, autocannon } from './bench-kit.js';
import { SERVE_NODE_FLAGS } from '../src/cli/serve-flags.js';
import { type Profile, generateProfile } from '../src/gen/profiles.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/rewarder.js', import.meta.url));
const TRIVIAL = fileURLToPath(new URL('./hono-trivial.js', import.meta.url));
const { values } = parseArgs({ options: { profile: { type: 'string', default: 'token' }, requests: { type: 'string', default: '3000' }, warmup: { type: 'string', default: '1500' } } });
const requests = Number(values.requests);
const warmup = Number(values.warmup);
const dir = mkdtempSync(join(tmpdir(), 'rewarder-instr-'));
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `args` under callgrind; resolves with its pid and the URL it logs. */
function startUnderCallgrind(name: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${join(dir, `${name}.%p`)}`, process.execPath, ...SERVE_NODE_FLAGS, ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout?.on('data', (c: Buffer) => {
      text += c.toString('utf8');
      const m = /"url":"(http:\/\/[^"]+)"/.exec(text);
      if (m !== null) resolve({ child, url: m[1] as string });
    });
    child.stderr?.on('data', () => {});
    child.once('exit', (code) => reject(new Error(`${name} exited ${code} before listening`)));
  });
}

function load(url: string, body: string, amount: number): Promise<AcResult> {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: 16, amount, method: 'POST', headers: { 'content-type': 'application/json' }, body, timeout: 120 }, (e, r) =>
      e ? reject(e) : resolve(r),
    );
  });
}

/** Ir of the requests between a zeroing and a dump of `child`'s counters. */
async function measure(child: ChildProcess, name: string, url: string, body: string, env: NodeJS.ProcessEnv): Promise<number> {
  await load(url, body, warmup);
  // valgrind names its vgdb files after $HOST (here the server's bind address) and $USER:
  // callgrind_control finds them only with the same environment.
  const control = { env };
  execFileSync('callgrind_control', ['-z', String(child.pid)], control);
  const r = await load(url, body, requests);
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  execFileSync('callgrind_control', ['-d', String(child.pid)], control);
  // The dump is the file with a part suffix; every thread's events are summed in its summary line.
  const files = readdirSync(dir).filter((f) => f.startsWith(`${name}.`) && /\.\d+$/.test(f));
  let total = 0;
  for (const f of files) {
    const m = /^summary: (\d+)/m.exec(readFileSync(join(dir, f), 'utf8')) ?? /^totals: (\d+)/m.exec(readFileSync(join(dir, f), 'utf8'));
    total += Number(m?.[1] ?? 0);
  }
  return total / requests;
}

async function main(): Promise<void> {
  // S inputs: a replay never touches them (the answer is the run's head), and sealing M under
  // valgrind takes minutes.
  const g = generateProfile({ profile: values.profile as Profile, scale: 'S', seed: 1, form: 'columnar' });
  const env = { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', TENANT_RPS_MAX: '1000000' };
  const srv = await startUnderCallgrind('server', [BIN, 'serve', '--dev'], env);
  const post = async (path: string, b: Uint8Array | string) => {
    const res = await fetch(`${srv.url}${path}`, { method: path.endsWith('compute') ? 'POST' : 'PUT', headers: { 'content-type': 'application/json' }, body: b });
    return { status: res.status, text: await res.text() };
  };
  const i = JSON.parse((await post('/inputs', g.inputs)).text) as { inputs_cid: string };
  const p = JSON.parse((await post('/policies', g.policy)).text) as { policy_id: string; policy_hash: string };
  const body = JSON.stringify({ inputs_cid: i.inputs_cid, policy_id: p.policy_id, policy_hash: p.policy_hash });
  const first = await post('/epochs/replay-1/compute', body);
  if (first.status !== 200) throw new Error(`compute → ${first.status}`);
  const replayIr = await measure(srv.child, 'server', `${srv.url}/epochs/replay-1/compute`, body, env);
  srv.child.kill('SIGKILL');
  const triv = await startUnderCallgrind('trivial', [TRIVIAL, '--bytes', String(Buffer.byteLength(first.text))], env);
  const trivialIr = await measure(triv.child, 'trivial', `${triv.url}/epochs/replay-1/compute`, body, env);
  triv.child.kill('SIGKILL');
  process.stdout.write(
    `${values.profile} S: replay ${Math.round(replayIr)} instructions per request, trivial Hono POST ${Math.round(trivialIr)}; ` +
      `ratio (trivial / replay) ${(trivialIr / replayIr).toFixed(3)} (${requests} requests after ${warmup}, c = 16)\n`,
  );
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`instr-replay: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);

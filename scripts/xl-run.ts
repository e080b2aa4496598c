// One Arrow run through a real service, as issue 18's XL target measures it: generated inputs
// (`gen --form arrow`) sealed with PUT /inputs, then the first compute, timed from the client,
// with the service's peak RSS (VmHWM of the whole process, worker threads included). The XL
// benchmark (scripts/bench-xl.ts) runs it at XL; testing/system/xl.test.ts runs the same code at
// a reduced scale in CI and checks the payouts against the offline computation.
import { readFileSync, readdirSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { Blake3Stream, b3 } from '../src/core/hash.js';
import type { Scale } from '../src/gen/generate.js';
import { type Profile, generateProfile } from '../src/gen/profiles.js';
import { request, spawnServer } from '../testing/harness.js';

export interface XlRun {
  scale: Scale;
  streamBytes: number;
  inputsCid: string;
  sealMs: number;
  computeMs: number;
  peakRssBytes: number;
  /**
   * Bytes of the upload held as a file on the amnesia tmpfs (INPUTS_SPOOL_MIN_BYTES; 0 when it was
   * received into memory): the box's memory, but outside the process's RSS.
   */
  spooledBytes: number;
  /** /healthz probed every 100 ms during the seal and the compute: how many answered 200, the slowest. */
  healthz: { probes: number; ok: number; maxMs: number };
  /** With `exports`: GET export.csv and claims of the epoch, timed from the client, and their sizes. */
  exports?: { csvMs: number; csvBytes: number; csvCid: string; csvCpu: { main: number; others: number }; claimsMs: number; claimsCpu: { main: number; others: number }; claimsBytes: number; claimsCid: string; peakRssBytes: number; declaredBytes: [number, number] };
  /**
   * CPU time the service spent (ms, from /proc: 10 ms ticks) during the seal and during the
   * compute, on its main thread and on all its other threads (the pool worker, GC and libuv
   * helpers): unlike the wall clock, nearly independent of what else the machine runs.
   */
  cpu: { seal: { main: number; others: number }; compute: { main: number; others: number } };
  /** The service's own phase timings (Server-Timing) of the seal and of the compute, in ms. */
  phases: { seal: Record<string, number>; compute: Record<string, number> };
  manifest: { payouts_root: string; counts: Record<string, number>; totals: Record<string, string> };
  policy: Uint8Array;
}

/** CPU ms used so far by the process's main thread and by its other threads. */
function cpuMs(pid: number): { main: number; others: number } {
  const out = { main: 0, others: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // a thread that ended meanwhile
    }
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ms = (Number(f[11]) + Number(f[12])) * 10;
    if (Number(tid) === pid) out.main += ms;
    else out.others += ms;
  }
  return out;
}

const minus = (a: { main: number; others: number }, b: { main: number; others: number }) => ({ main: a.main - b.main, others: a.others - b.others });

function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/**
 * GET `path` read as it streams in: its length, its digest and the time to its last byte. Not
 * through the harness's request(), which buffers the answer and checks it against the OpenAPI
 * document: parsing and validating a 174 MB claims dump on the client would be most of the figure.
 */
function download(url: string, path: string): Promise<{ ms: number; bytes: number; cid: string; declared: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpGet(new URL(path, url), { agent: false, signal: AbortSignal.timeout(300_000) }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`GET ${path} → ${res.statusCode}`));
      const hasher = new Blake3Stream();
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        hasher.update(c);
        bytes += c.length;
      });
      res.on('end', () => resolve({ ms: performance.now() - t0, bytes, cid: hasher.digest(), declared: Number(res.headers['content-length'] ?? -1) }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** `a;dur=1.5, b;dur=2` → { a: 1.5, b: 2 }. */
function serverTiming(header: string | string[] | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of String(header ?? '').matchAll(/([\w-]+);dur=([\d.]+)/g)) out[m[1] as string] = Number(m[2]);
  return out;
}

export async function xlRun(scale: Scale, seed = 1, opts: { cpuProfDir?: string; exports?: boolean; env?: Record<string, string>; profile?: Profile } = {}): Promise<XlRun> {
  // `token`: 18-decimal pools, 42-byte `0x…` ids, nearly everyone paid, largest_remainder (src/gen/token.ts).
  const g = generateProfile({ profile: opts.profile ?? 'gen', scale, seed, form: 'arrow' });
  const big = String(2 ** 31 - 1);
  const server = await spawnServer({
    AUTH: 'off',
    INPUTS_ARROW_MAX_BYTES: big,
    BODY_BYTES_BUDGET: big,
    MAX_ACTORS: '2000000',
    MAX_EVENTS: '20000000',
    MEMORY_STORE_MAX_BYTES: String(2 * 1024 ** 3),
    // A micronode with its default amnesia directory: an XL stream (219 MiB) is spooled there as
    // it arrives (INPUTS_SPOOL_MIN_BYTES, 64 MiB) unless `env` says otherwise.
    ...opts.env,
  },
  // `bench:xl -- --cpu-prof DIR`: the service's threads (main and workers) write V8 CPU profiles there.
  opts.cpuProfDir === undefined ? {} : { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] });
  const healthz = { probes: 0, ok: 0, maxMs: 0 };
  let probing = true;
  const probe = (async () => {
    while (probing) {
      const h = await request(server.url, 'GET', '/healthz', { timeoutMs: 60_000 }).catch(() => null);
      healthz.probes++;
      if (h !== null && h.status === 200) healthz.ok++;
      if (h !== null) healthz.maxMs = Math.max(healthz.maxMs, h.ms);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  try {
    const c0 = cpuMs(server.pid);
    const t0 = performance.now();
    const sealed = await request(server.url, 'PUT', '/inputs', { body: g.inputs, headers: { 'content-type': 'application/vnd.apache.arrow.stream' }, timeoutMs: 300_000 });
    const t1 = performance.now();
    const c1 = cpuMs(server.pid);
    if (sealed.status !== 201) throw new Error(`PUT /inputs → ${sealed.status} ${sealed.text.slice(0, 300)}`);
    const pol = await request(server.url, 'PUT', '/policies', { body: g.policy, headers: { 'content-type': 'application/json' } });
    if (pol.status !== 201) throw new Error(`PUT /policies → ${pol.status} ${pol.text.slice(0, 300)}`);
    const { policy_id, policy_hash } = pol.json<{ policy_id: string; policy_hash: string }>();
    const inputsCid = b3(g.inputs);
    const c2 = cpuMs(server.pid);
    const t2 = performance.now();
    const run = await request(server.url, 'POST', '/epochs/xl-1/compute', {
      body: JSON.stringify({ inputs_cid: inputsCid, policy_id, policy_hash, deadline_ms: 280_000 }),
      headers: { 'content-type': 'application/json' },
      timeoutMs: 300_000,
    });
    const t3 = performance.now();
    const c3 = cpuMs(server.pid);
    if (run.status !== 200) throw new Error(`compute → ${run.status} ${run.text.slice(0, 300)}`);
    const peak = peakRss(server.pid);
    probing = false;
    await probe;
    const m = await request(server.url, 'GET', '/epochs/xl-1', { timeoutMs: 300_000 });
    const gauge = /^inputs_spooled_bytes (\d+)/m.exec((await request(server.url, 'GET', '/metrics')).text);
    const spooledBytes = gauge === null ? 0 : Number(gauge[1]);
    let exports: XlRun['exports'];
    if (opts.exports === true) {
      const e0 = cpuMs(server.pid);
      const csv = await download(server.url, '/epochs/xl-1/export.csv');
      const e1 = cpuMs(server.pid);
      const claims = await download(server.url, '/epochs/xl-1/claims');
      const e2 = cpuMs(server.pid);
      exports = {
        csvMs: csv.ms,
        csvCpu: minus(e1, e0),
        claimsCpu: minus(e2, e1),
        csvBytes: csv.bytes,
        csvCid: csv.cid,
        claimsMs: claims.ms,
        claimsBytes: claims.bytes,
        claimsCid: claims.cid,
        peakRssBytes: peakRss(server.pid),
        // What Content-Length said: a streamed answer still declares its length up front.
        declaredBytes: [csv.declared, claims.declared],
      };
    }
    const phases = { seal: serverTiming(sealed.headers['server-timing']), compute: serverTiming(run.headers['server-timing']) };
    return { scale, streamBytes: g.inputs.length, inputsCid, sealMs: t1 - t0, computeMs: t3 - t2, peakRssBytes: peak, spooledBytes, healthz, phases, cpu: { seal: minus(c1, c0), compute: minus(c3, c2) }, ...(exports === undefined ? {} : { exports }), manifest: m.json(), policy: g.policy };
  } finally {
    probing = false;
    await probe;
    await server.stop();
  }
}

// `npm run chaos:macronode`: what clients see while replicas die. Runs scripts/macronode-up (N
// replicas, PostgreSQL, the ledger stub, HAProxy), drives computes through HAProxy from C
// concurrent clients (a fresh epoch per request, S inputs), and every K seconds restarts the next
// replica round robin with `macronode-up --restart` — SIGKILL (a crash) and SIGTERM (a rolling
// restart) in turn — for D seconds, with the ledger resetting some connections after committing
// (ambiguous acknowledgements) and one outage in the middle. Then it waits for settlement and
// checks exactly-once at the ledger. Prints every non-2xx answer (status, Retry-After, when
// relative to the last kill) and one JSON summary line. A measurement, not a test: exit 1 only when
// a run was lost or paid twice, or the harness could not run.
//
//   node dist/scripts/chaos-macronode.js [--replicas 3] [--duration 40] [--every 4] [--connections 16]

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DOWN, UP, devAuth, readState, runScript, scriptEnv } from '../testing/deploy/fleet.js';
import type { PartRecord, Stats } from '../testing/ledger-stub/client.js';

const { values } = parseArgs({
  options: {
    replicas: { type: 'string', default: '3' },
    duration: { type: 'string', default: '40' },
    every: { type: 'string', default: '4' },
    connections: { type: 'string', default: '16' },
  },
});
const n = Number(values.replicas);
const durationMs = Number(values.duration) * 1000;
const everyMs = Number(values.every) * 1000;
const connections = Number(values.connections);
if (!(n >= 2 && n <= 9) || !(durationMs > 0) || !(everyMs >= 1000) || !(connections >= 1)) {
  process.stderr.write('usage: node dist/scripts/chaos-macronode.js [--replicas 2..9] [--duration S] [--every S>=1] [--connections C]\n');
  process.exit(2);
}
const out = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const ROOT = new URL('../../', import.meta.url);

interface Answer {
  epoch: string;
  t0: number;
  status: number;
  retryAfter: string | null;
  runKey?: string;
  error?: string;
}

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${init?.method ?? 'GET'} ${url} → ${res.status} ${text.slice(0, 200)}`);
  return JSON.parse(text) as T;
}

const dir = mkdtempSync(join(tmpdir(), 'rewarder-chaos-'));
const env = scriptEnv({ N: String(n), MACRONODE_DIR: dir, TENANT_RPS_MAX: '1000000', LOG_LEVEL: 'warn', LEDGER_LEASE_MS: '2000', LEDGER_RECOVERY_WINDOW_MS: '2000' });
let failed: boolean;
try {
  const up = await runScript(UP, env, 240_000);
  if (up.code !== 0) throw new Error(`macronode-up failed:\n${up.stderr}`);
  const state = readState(dir);
  const front = state.front_url;
  const ledger = state.ledger.url as string;
  // The ledger stub's admin routes need no token; the fleet's routes need macronode-up's dev token.
  const headers = { 'content-type': 'application/json' };
  const authed = { ...headers, ...devAuth(dir) };
  const inputs = await json<{ inputs_cid: string }>(`${front}/inputs`, { method: 'PUT', headers: authed, body: readFileSync(new URL('vectors/S/inputs-columnar.json', ROOT)) });
  const policy = await json<{ policy_id: string; policy_hash: string }>(`${front}/policies`, { method: 'PUT', headers: authed, body: readFileSync(new URL('vectors/S/policy.json', ROOT)) });
  const body = JSON.stringify({ inputs_cid: inputs.inputs_cid, ...policy });
  await json(`${ledger}/admin/faults`, { method: 'PUT', headers, body: JSON.stringify({ reset_after_commit_rate: 0.05 }) });

  const t0 = performance.now();
  const at = () => performance.now() - t0;
  const answers: Answer[] = [];
  const kills: Array<{ at: number; name: string; signal: string; restartMs: number }> = [];
  let stop = false;
  let seq = 0;
  const client = async () => {
    while (!stop) {
      // Each epoch its own program: one program may not pay the same window twice (SPEC §10).
      const epoch = `chaos-${seq++}:e`;
      const a: Answer = { epoch, t0: at(), status: 0, retryAfter: null };
      try {
        const res = await fetch(`${front}/epochs/${epoch}/compute`, { method: 'POST', headers: authed, body, signal: AbortSignal.timeout(60_000) });
        a.status = res.status;
        a.retryAfter = res.headers.get('retry-after');
        const text = await res.text();
        if (res.status === 200 || res.status === 202) a.runKey = (JSON.parse(text) as { run_key: string }).run_key;
        else a.error = text.slice(0, 160);
      } catch (e) {
        a.error = (e as Error).message;
      }
      answers.push(a);
    }
  };
  const load = Promise.all(Array.from({ length: connections }, client));
  const chaos = (async () => {
    for (let i = 0; at() + everyMs < durationMs; i++) {
      await sleep(everyMs);
      const name = `r${(i % n) + 1}`;
      const signal = i % 2 === 0 ? 'KILL' : 'TERM';
      const k0 = at();
      const r = await runScript(UP, env, 90_000, ['--restart', name, '--signal', signal]);
      if (r.code !== 0) throw new Error(`--restart ${name}: ${r.stderr}`);
      kills.push({ at: k0, name, signal, restartMs: Math.round(at() - k0) });
      // One ledger outage in the middle: runs are held (202) and drained afterwards.
      if (i === 3) {
        await json(`${ledger}/admin/faults`, { method: 'PUT', headers, body: JSON.stringify({ down: true }) });
        setTimeout(() => void json(`${ledger}/admin/faults`, { method: 'PUT', headers, body: JSON.stringify({ down: false }) }), 3_000);
      }
    }
  })();
  await Promise.race([chaos, sleep(durationMs)]);
  await chaos;
  stop = true;
  await load;
  await json(`${ledger}/admin/faults`, { method: 'PUT', headers, body: JSON.stringify({ down: false, reset_after_commit_rate: 0 }) });
  const loadMs = at();

  // Settlement: every acknowledged run's parts at the ledger, each accepted once.
  const acked = answers.filter((a) => a.runKey !== undefined);
  let parts: PartRecord[] = [];
  let stats: Stats | undefined;
  const settleStart = at();
  for (;;) {
    const before = await json<Stats>(`${ledger}/admin/stats`);
    parts = await json<PartRecord[]>(`${ledger}/admin/parts`);
    stats = await json<Stats>(`${ledger}/admin/stats`);
    if (before.accepted !== stats.accepted) continue;
    const have = new Set(parts.map((p) => p.run_key));
    if (acked.every((a) => have.has(a.runKey as string)) || at() - settleStart > 60_000) break;
    await sleep(500);
  }
  const have = new Set(parts.map((p) => p.run_key));
  const unsettled = acked.filter((a) => !have.has(a.runKey as string));
  const twice = stats.accepted - parts.length + (parts.length - new Set(parts.map((p) => p.part_id)).size);

  const lastKillBefore = (t: number) => kills.filter((k) => k.at <= t).pop();
  const bad = answers.filter((a) => a.status !== 200 && a.status !== 202);
  for (const a of bad) {
    const k = lastKillBefore(a.t0);
    out(`  ${a.status || 'error'} ${a.epoch} at ${(a.t0 / 1000).toFixed(2)} s${a.retryAfter === null ? '' : ` Retry-After ${a.retryAfter}`}` +
      `${k === undefined ? '' : `, ${Math.round(a.t0 - k.at)} ms after SIG${k.signal} ${k.name}`}: ${a.error ?? ''}`);
  }
  const byStatus: Record<string, number> = {};
  for (const a of answers) byStatus[a.status || 'error'] = (byStatus[a.status || 'error'] ?? 0) + 1;
  const shed = bad.filter((a) => (a.status === 429 || a.status === 503) && a.retryAfter !== null).length;
  const summary = {
    replicas: n,
    seconds: Math.round(loadMs / 1000),
    connections,
    restarts: kills.length,
    restart_ms: kills.map((k) => `${k.signal}:${k.restartMs}`),
    requests: answers.length,
    by_status: byStatus,
    non_2xx_unexplained: bad.length - shed,
    shed_with_retry_after: shed,
    availability: Number(((answers.length - (bad.length - shed)) / answers.length).toFixed(5)),
    acknowledged: acked.length,
    unsettled: unsettled.length,
    parts_accepted_twice: twice,
    ledger: { accepted: stats.accepted, dup: stats.dup, conflict: stats.conflict, reset_after_commit: stats.reset_after_commit },
  };
  out(JSON.stringify(summary));
  failed = unsettled.length > 0 || twice !== 0 || stats.conflict !== 0;
} catch (e) {
  process.stderr.write(`chaos-macronode: ${(e as Error).message}\n`);
  failed = true;
} finally {
  await runScript(DOWN, env, 60_000);
  rmSync(dir, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;

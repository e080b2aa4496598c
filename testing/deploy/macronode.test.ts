// The macronode as an operator runs it: scripts/macronode-up with N=3 (PostgreSQL, the ledger stub,
// three replicas, HAProxy on loopback), load through HAProxy while one replica is killed (-9) and
// another is frozen, then a third is restarted with SIGTERM and the killed one restarted, both by
// `macronode-up --restart`; then the checks: no client sees anything but 200/202 (or a documented
// 429/503 with Retry-After) — not even the requests in flight on the killed replica, which HAProxy
// resends elsewhere —, every acknowledged run settled exactly once at the ledger, one binding per
// epoch in PostgreSQL, the frozen replica out of rotation and back; then scripts/macronode-down
// leaves nothing running.
//
// How a replica is made "degraded": SIGSTOP, then SIGCONT once HAProxy has ejected it. From the
// balancer's side a replica is degraded when GET /readyz does not answer 200 in time; the
// service's own 503 causes (breaker open, queue > 80 %, store down) cannot be provoked on ONE
// replica from outside without fault hooks or per-replica settings, whereas a frozen process
// (what a long GC pause, CPU starvation or a stuck event loop look like) is confined to that
// replica and reversed exactly, state and connections intact, which "comes back into rotation"
// needs. It is also the harder case: requests already routed to it hang instead of failing fast.
// A frozen replica's checks each wait out a ~1 s timeout and the next starts 1 s later, so its 15
// failed checks take ~30 s, against ~15 s for a replica that fails fast (503 or refused, like the
// killed r1); see the generated HAProxy config.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import postgres from 'postgres';
import { request } from '../harness.js';
import type { PartRecord, Stats } from '../ledger-stub/client.js';
import {
  DOWN,
  type FleetState,
  devAuth,
  ROOT,
  UP,
  processesOf,
  readState,
  runScript,
  scriptEnv,
  serverStats,
  stillRunning,
} from './fleet.js';

const S_INPUTS = readFileSync(join(ROOT, 'vectors', 'S', 'inputs-columnar.json'));
const S_POLICY = readFileSync(join(ROOT, 'vectors', 'S', 'policy.json'));
// Paced, not as fast as possible: the suite runs two test files at once on two cores, and the
// properties checked here need steady load through every phase, not saturation.
const RATE_PER_S = 15;
const MAX_INFLIGHT = 12;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Outcome {
  epoch: string;
  t0: number;
  t1: number;
  status: number;
  servedBy?: string;
  retryAfter?: string | undefined;
  error?: string;
  runKey?: string;
  commitment?: string;
}

async function json<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  assert.equal(res.status, 200, `GET ${url}`);
  return (await res.json()) as T;
}

describe('a 3-replica macronode behind HAProxy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rewarder-macronode-'));
  // macronode-up's development token (AUTH=off is refused for a macronode).
  const auth = () => devAuth(dir);
  const env = scriptEnv({
    N: '3',
    MACRONODE_DIR: dir,
    // Passed through to the replicas: every request here is the one `dev` tenant; a killed
    // replica's leased ledger parts and a frozen one's egress health come back within the test.
    TENANT_RPS_MAX: '100000',
    LEDGER_LEASE_MS: '2000',
    LEDGER_RECOVERY_WINDOW_MS: '2000',
    SHUTDOWN_GRACE_MS: '3000',
  });
  let state: FleetState;
  let front: string;
  let body: string;
  const outcomes: Outcome[] = [];
  const marks = { kill: 0, stop: 0, down: 0, cont: 0, up: 0, r1Down: 0, term: 0, termDone: 0, restart: 0, r1Up: 0, end: 0 };
  const timeline: string[] = [];
  let frozenPid = 0;

  before(async () => {
    const up = await runScript(UP, env, 240_000);
    assert.equal(up.code, 0, `macronode-up failed (HAProxy must be installable: apt-get install -y haproxy):\n${up.stderr}`);
    state = readState(dir);
    front = up.stdout.trim().split('\n').pop() as string;
    assert.equal(front, state.front_url);
  });

  after(async () => {
    if (frozenPid !== 0) {
      try {
        process.kill(frozenPid, 'SIGCONT');
      } catch {
        /* gone */
      }
    }
    await runScript(DOWN, env, 60_000); // a safety net; the last test checks the first run
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts nothing new when macronode-up runs again while the fleet is up', async () => {
    const again = await runScript(UP, env, 60_000);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout.trim(), front);
    assert.match(again.stderr, /already up/);
    assert.deepEqual(processesOf(readState(dir)), processesOf(state));
    const stats = await serverStats(state.stats_socket);
    assert.deepEqual([...stats.keys()], ['r1', 'r2', 'r3']);
    for (const [name, s] of stats) assert.equal(s.status, 'UP', `${name} starts fully healthy`);
  });

  it('keeps answering through HAProxy while r1 is killed and r2 frozen, ejecting r2 and taking it back', async (t) => {
    const inputs = await request(front, 'PUT', '/inputs', { body: S_INPUTS, headers: { 'content-type': 'application/json', ...auth() } });
    assert.ok(inputs.status === 201 || inputs.status === 200, inputs.text);
    const policy = await request(front, 'PUT', '/policies', { body: S_POLICY, headers: { 'content-type': 'application/json', ...auth() } });
    assert.ok(policy.status === 201 || policy.status === 200, policy.text);
    const p = policy.json<{ policy_id: string; policy_hash: string }>();
    body = JSON.stringify({ inputs_cid: inputs.json<{ inputs_cid: string }>().inputs_cid, policy_id: p.policy_id, policy_hash: p.policy_hash });

    const [r1, r2, r3] = state.replicas;
    assert.ok(r1 !== undefined && r2 !== undefined && r3 !== undefined);
    const t0 = performance.now();
    const at = () => performance.now() - t0;
    let stop = false;
    const inflight = new Set<Promise<void>>();
    const send = async (epoch: string) => {
      const o: Outcome = { epoch, t0: at(), t1: 0, status: 0 };
      try {
        const r = await request(front, 'POST', `/epochs/${epoch}/compute`, {
          body,
          headers: { 'content-type': 'application/json', ...auth() },
          timeoutMs: 90_000,
        });
        o.status = r.status;
        o.servedBy = r.headers['x-served-by'] as string | undefined;
        o.retryAfter = r.headers['retry-after'] as string | undefined;
        if (r.status === 200 || r.status === 202) {
          const j = r.json<{ run_key: string; commitment: string }>();
          o.runKey = j.run_key;
          o.commitment = j.commitment;
        } else o.error = r.text.slice(0, 200);
      } catch (e) {
        o.error = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      }
      o.t1 = at();
      outcomes.push(o);
    };
    const load = (async () => {
      for (let i = 0; !stop; i++) {
        const due = (i * 1000) / RATE_PER_S;
        if (due > at()) await sleep(due - at());
        while (inflight.size >= MAX_INFLIGHT && !stop) await Promise.race(inflight);
        if (stop) break;
        const p: Promise<void> = send(`mn-${i}:e`).finally(() => inflight.delete(p));
        inflight.add(p);
      }
      await Promise.all(inflight);
    })();

    // The controller: kill r1, freeze r2, watch HAProxy, thaw r2 once it is out, wait for it back.
    let last = '';
    const watch = async () => {
      const s = await serverStats(state.stats_socket);
      const line = [...s].map(([n, v]) => `${n}=${v.status}`).join(' ');
      if (line !== last) timeline.push(`${(at() / 1000).toFixed(1)}s ${line}`);
      last = line;
      return s;
    };
    const control = async (): Promise<void> => {
      try {
        // Until every replica has served (leastconn spreads the load; on a loaded machine the
        // first seconds may all land on one or two), at most 20 s.
        for (const t1 = at() + 20_000; at() < t1; ) {
          await sleep(250);
          const served = new Set(outcomes.map((o) => o.servedBy));
          if (at() > 2_000 && ['r1', 'r2', 'r3'].every((n) => served.has(n))) break;
        }
        process.kill(r1.pid, 'SIGKILL');
        marks.kill = at();
        process.kill(r2.pid, 'SIGSTOP');
        frozenPid = r2.pid;
        marks.stop = at();
        while (marks.down === 0 && at() - marks.stop < 45_000) {
          const s = await watch();
          if (marks.r1Down === 0 && s.get('r1')?.status.startsWith('DOWN')) marks.r1Down = at();
          if (s.get('r2')?.status.startsWith('DOWN')) marks.down = at();
          else await sleep(200);
        }
      } finally {
        process.kill(r2.pid, 'SIGCONT');
        frozenPid = 0;
        marks.cont = at();
      }
      while (marks.up === 0 && at() - marks.cont < 15_000) {
        const s = await watch();
        if (marks.r1Down === 0 && s.get('r1')?.status.startsWith('DOWN')) marks.r1Down = at();
        if (s.get('r2')?.status === 'UP') marks.up = at();
        else await sleep(200);
      }
      await sleep(3_000); // r2 back in rotation takes load again

      // An operator's rolling restart of r3 (SIGTERM: it reports drain to HAProxy's agent check,
      // serves what was routed to it, closes, exits; a new process takes its ports), then the killed
      // r1 brought back. Both under the same load.
      marks.term = at();
      const term = await runScript(UP, env, 90_000, ['--restart', 'r3']);
      assert.equal(term.code, 0, `macronode-up --restart r3: ${term.stderr}`);
      marks.termDone = at();
      await watch();
      marks.restart = at();
      const back = await runScript(UP, env, 90_000, ['--restart', 'r1', '--signal', 'KILL']);
      assert.equal(back.code, 0, `macronode-up --restart r1: ${back.stderr}`);
      marks.r1Up = at();
      await watch();
      // Both take load again: until each has served a request sent after r1's restart, at most 20 s
      // (a loaded machine may route the first few seconds elsewhere).
      for (const t1 = at() + 20_000; at() < t1; ) {
        await sleep(250);
        const again = new Set(outcomes.filter((o) => o.t0 > marks.r1Up).map((o) => o.servedBy));
        if (again.has('r1') && again.has('r3')) break;
      }
    };
    try {
      await control();
    } finally {
      stop = true;
      await load;
    }
    marks.end = at();
    const final = await watch();
    const info = `marks (ms): ${JSON.stringify(marks)}\ntimeline:\n${timeline.join('\n')}`;

    assert.ok(marks.down > 0, `r2 was never taken out of rotation\n${info}`);
    const outFor = marks.down - marks.stop;
    assert.ok(outFor >= 14_000, `r2 left rotation after ${outFor} ms frozen: a shorter blip must not eject (fall 15)\n${info}`);
    assert.ok(marks.up > 0 && marks.up - marks.cont <= 6_000, `r2 back UP ${marks.up - marks.cont} ms after SIGCONT (rise 2)\n${info}`);
    // The first refused connection in live traffic marks it down (observe layer4, on-error
    // mark-down); without traffic the /readyz checks would take ~15 s.
    const r1Out = marks.r1Down - marks.kill;
    assert.ok(r1Out > 0 && r1Out <= 5_000, `the killed r1 left rotation ${r1Out} ms after the kill\n${info}`);
    for (const name of ['r1', 'r2', 'r3']) assert.equal(final.get(name)?.status, 'UP', `${name} in rotation at the end\n${info}`);
    const restarted = readState(dir);
    for (const name of ['r1', 'r3']) {
      const was = state.replicas.find((r) => r.name === name);
      const now = restarted.replicas.find((r) => r.name === name);
      assert.ok(was !== undefined && now !== undefined && now.pid !== was.pid && now.port === was.port, `${name}: a new process on the same port, recorded in the state file`);
    }

    const before = outcomes.filter((o) => o.t1 < marks.kill);
    for (const name of ['r1', 'r2', 'r3']) assert.ok(before.some((o) => o.servedBy === name), `${name} served before the kill\n${info}`);
    assert.ok(
      outcomes.some((o) => o.servedBy === 'r2' && o.t0 > marks.up),
      `r2 served requests again after returning to rotation\n${info}`,
    );
    for (const name of ['r1', 'r3']) {
      assert.ok(outcomes.some((o) => o.servedBy === name && o.t0 > marks.r1Up), `${name} served requests again after its restart\n${info}`);
    }

    // Lost = anything but 200/202, or a 429/503 without Retry-After (the documented shedding).
    // Not even the requests in flight on r1 when it died: HAProxy resends them (compute is
    // idempotent: the same epoch and triple replays or completes the run).
    const shed = (o: Outcome) => (o.status === 429 || o.status === 503) && o.retryAfter !== undefined;
    // A request that was on r2 when it froze waits out the freeze (~30 s, the default deadline):
    // its 504 is the documented answer to a passed deadline (the run stays published or unbound;
    // a retry replays), and says nothing about replicas dying.
    const frozenOut = (o: Outcome) => o.status === 504 && o.servedBy === 'r2' && o.t0 < marks.stop && o.t1 > marks.cont;
    const lost = outcomes.filter((o) => o.status !== 200 && o.status !== 202 && !shed(o) && !frozenOut(o));
    const inflightAtKill = outcomes.filter((o) => o.t0 < marks.kill && o.t1 > marks.kill);
    assert.deepEqual(
      lost.map((o) => `${o.epoch} ${o.status} ${o.servedBy ?? ''} ${o.error ?? ''} at ${(o.t0 / 1000).toFixed(1)}s`),
      [],
      `requests lost (${outcomes.length} sent, ${inflightAtKill.length} in flight at the kill)\n${info}`,
    );
    const acked = outcomes.filter((o) => o.status === 200 || o.status === 202);
    assert.ok(acked.length >= 100, `enough load to mean something: ${acked.length} runs acknowledged`);
    // The hung ones: requests routed to r2 while frozen were answered once it was thawed.
    t.diagnostic(info.replaceAll('\n', ' | '));
    t.diagnostic(
      `${outcomes.length} requests, ${acked.length} acknowledged, ${outcomes.filter(shed).length} shed with Retry-After, ${inflightAtKill.length} in flight at the kill; ` +
        `r3 restart (SIGTERM) took ${((marks.termDone - marks.term) / 1000).toFixed(1)} s, r1 ${((marks.r1Up - marks.restart) / 1000).toFixed(1)} s`,
    );
  });

  it('settles every acknowledged run exactly once at the ledger, and binds each epoch once in PostgreSQL', async () => {
    const acked = outcomes.filter((o) => o.runKey !== undefined);
    assert.ok(acked.length > 0, 'the load test acknowledged runs');
    const ledger = state.ledger.url;
    let parts: PartRecord[] = [];
    const pending = () => {
      const byRun = new Map<string | null, PartRecord[]>();
      for (const r of parts) byRun.set(r.run_key, [...(byRun.get(r.run_key) ?? []), r]);
      return acked.filter((o) => {
        const got = byRun.get(o.runKey as string) ?? [];
        return got.length === 0 || got.length !== got[0]?.part.count;
      });
    };
    const deadline = performance.now() + 45_000;
    for (;;) {
      parts = await json<PartRecord[]>(`${ledger}/admin/parts`);
      if (pending().length === 0 || performance.now() > deadline) break;
      await sleep(500);
    }
    assert.deepEqual(pending().map((o) => o.epoch), [], 'acknowledged runs with parts missing at the ledger');

    // Exactly once: one record per part (the stub keys by part_id), each accepted by one 201 (every
    // other delivery of it was a byte-identical duplicate), none conflicting, indices complete.
    // Records and counters as of one instant: a drainer may still commit a part of a run cut by
    // the kill between two reads, so read the counters on both sides until they agree.
    let stats = await json<Stats>(`${ledger}/admin/stats`);
    for (let i = 0; i < 50; i++) {
      parts = await json<PartRecord[]>(`${ledger}/admin/parts`);
      const again = await json<Stats>(`${ledger}/admin/stats`);
      if (again.accepted === stats.accepted) break;
      stats = again;
    }
    assert.equal(stats.accepted, parts.length, 'each part accepted once');
    assert.equal(new Set(parts.map((r) => r.part_id)).size, parts.length);
    assert.equal(stats.conflict, 0, 'no part arrived with a different body');
    for (const o of acked) {
      const idx = parts.filter((r) => r.run_key === o.runKey).map((r) => r.part.index);
      assert.equal(new Set(idx).size, idx.length, `${o.epoch}: distinct part indices`);
    }

    const sql = postgres(state.database_url, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql.unsafe<Array<{ epoch_id: string; run_key: string; commitment: string; n: number }>>(
        `SELECT epoch_id, run_key, commitment, count(*) OVER (PARTITION BY epoch_id)::int AS n FROM "${state.schema}".epochs`,
      );
      const bound = new Map(rows.map((r) => [r.epoch_id, r]));
      assert.ok(rows.every((r) => r.n === 1), 'one binding per epoch');
      for (const o of acked) {
        const b = bound.get(o.epoch);
        assert.ok(b !== undefined, `${o.epoch} acknowledged but not bound`);
        assert.equal(b.commitment, o.commitment, `${o.epoch}: the acknowledged commitment is the bound one`);
        assert.equal(b.run_key, o.runKey);
      }
      // Nothing reached the ledger that is not a bound run.
      const runKeys = new Set<string | null>(rows.map((r) => r.run_key));
      assert.deepEqual(parts.filter((r) => !runKeys.has(r.run_key)).map((r) => r.part_id), []);
      // The replicas recorded the ledger's answers: no acknowledged part left pending or held.
      const open = await sql.unsafe<Array<{ epoch_id: string }>>(
        `SELECT DISTINCT epoch_id FROM "${state.schema}".outbox WHERE state NOT IN ('accepted', 'dup')`,
      );
      const ackedEpochs = new Set(acked.map((o) => o.epoch));
      const unsettled = open.filter((r) => ackedEpochs.has(r.epoch_id));
      if (unsettled.length > 0) {
        // The drainers may still be recording the last answers: give them a few seconds.
        await sleep(5_000);
        const again = await sql.unsafe<Array<{ epoch_id: string }>>(
          `SELECT DISTINCT epoch_id FROM "${state.schema}".outbox WHERE state NOT IN ('accepted', 'dup')`,
        );
        assert.deepEqual(again.filter((r) => ackedEpochs.has(r.epoch_id)).map((r) => r.epoch_id), [], 'parts not settled in PostgreSQL');
      }
    } finally {
      await sql.end({ timeout: 5 });
    }

    // Any replica replays a bound epoch byte for byte in meaning: same commitment, marked replayed.
    for (const o of acked.slice(0, 12)) {
      const r = await request(front, 'POST', `/epochs/${o.epoch}/compute`, { body, headers: { 'content-type': 'application/json', ...auth() } });
      assert.equal(r.status, 200, `${o.epoch} replay → ${r.status} ${r.text.slice(0, 200)}`);
      assert.equal(r.headers['idempotent-replayed'], 'true');
      assert.equal(r.json<{ commitment: string }>().commitment, o.commitment);
    }
  });

  it('macronode-down stops every process it started, drops its schema, and is safe to run again', async () => {
    // The state file as it is now: it names the restarted replicas' new processes.
    const recorded = readState(dir);
    const down = await runScript(DOWN, env, 60_000);
    assert.equal(down.code, 0, down.stderr);
    const left = [...processesOf(state), ...processesOf(recorded)].filter(stillRunning);
    assert.deepEqual(left.map((p) => `${p.name} ${p.pid}`), [], 'processes still running after macronode-down');
    const sql = postgres(state.database_url, { max: 1, onnotice: () => {} });
    try {
      const [row] = await sql<Array<{ n: number }>>`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = ${state.schema}`;
      assert.equal(row?.n, 0, `schema ${state.schema} dropped`);
    } finally {
      await sql.end({ timeout: 5 });
    }
    assert.throws(() => readState(dir), /ENOENT/, 'the state file is removed');
    const again = await runScript(DOWN, env, 30_000);
    assert.equal(again.code, 0);
    assert.match(again.stderr, /nothing to stop/);
  });
});

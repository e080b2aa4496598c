// Overload and abuse through the real HTTP path (in-process service, real Piscina pool, real
// sockets on loopback). A slow-body flood comes from other loopback addresses (127.0.0.2…), so the
// per-client bound is exercised apart from the normal client on 127.0.0.1.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { type Socket, connect } from 'node:net';
import { test } from 'node:test';
import {
  EXAMPLE,
  FAULT_WORKER,
  type InProcessServer,
  type Reply,
  assertErrorEnvelope,
  bearer,
  metricValue,
  metrics,
  post,
  put,
  request,
  startInProcess,
  tempDir,
  until,
  writeTokensFile,
} from '../harness.js';
import { manifestPayouts, proveActor } from '../../src/core/proof.js';

const LIMIT = { timeout: 60_000 };
const triple = { inputs_cid: EXAMPLE.inputsCid, policy_id: EXAMPLE.policyId, policy_hash: EXAMPLE.policyHash };

async function seeded(env: Record<string, string>, workerFile?: string): Promise<InProcessServer> {
  const s = await startInProcess({ AUTH: 'off', CONCURRENCY_COMPUTE_WORKERS: '1', ...env }, workerFile !== undefined ? { workerFile } : {});
  try {
    assert.equal((await put(s.url, '/inputs', readFileSync(EXAMPLE.inputs))).status, 201);
    assert.equal((await put(s.url, '/policies', readFileSync(EXAMPLE.policy))).status, 201);
  } catch (e) {
    await s.close();
    throw e;
  }
  return s;
}

/**
 * Keeps `sockets` connections open from `addresses`, each sending compute headers and then one
 * byte of body every 100 ms; a connection that the server closes is replaced until stop().
 * Records the status line of every answer the server sent.
 */
function slowBodyFlood(url: string, addresses: string[], sockets: number) {
  const { port, hostname } = new URL(url);
  const statuses: number[] = [];
  const open = new Set<Socket>();
  let stopped = false;
  let n = 0;
  const one = (): void => {
    if (stopped) return;
    const localAddress = addresses[n++ % addresses.length] as string;
    const s = connect({ port: Number(port), host: hostname, localAddress });
    open.add(s);
    let timer: NodeJS.Timeout | undefined;
    let got = '';
    s.on('connect', () => {
      s.write(`POST /epochs/slow-flood-${n}/compute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n{"i`);
      timer = setInterval(() => s.write(' '), 100);
    });
    let recorded = false;
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
      if (m !== null && !recorded) {
        recorded = true;
        statuses.push(Number(m[1]));
      }
    });
    s.on('error', () => {});
    s.on('close', () => {
      clearInterval(timer);
      open.delete(s);
      setTimeout(one, 20);
    });
  };
  for (let i = 0; i < sockets; i++) one();
  return {
    statuses,
    get open() {
      return open.size;
    },
    stop(): void {
      stopped = true;
      for (const s of open) s.destroy();
    },
  };
}

test('a slow-body flood holding many sockets cannot stop a normal client: its computes succeed while slow bodies get 408/429/503', LIMIT, async () => {
  const s = await seeded({ TENANT_RPS_MAX: '1000000', MAX_INFLIGHT: '4', BODY_INTAKE_MAX: '24', BODY_INTAKE_PER_CLIENT_MAX: '12', BODY_RATE_GRACE_MS: '500', BODY_MIN_RATE_BYTES_S: '1000' });
  // One greedy address (over its own bound) and two others (together over the total bound).
  const addresses = ['127.0.0.2', '127.0.0.2', '127.0.0.2', '127.0.0.3', '127.0.0.4'];
  const flood = slowBodyFlood(s.url, addresses, 120);
  try {
    // Let the flood fill every place it can get before the normal client starts (at least 700 ms;
    // a loaded machine opens its sockets more slowly, so up to 10 s for 60 of them).
    await new Promise((r) => setTimeout(r, 700));
    for (const t1 = Date.now() + 10_000; flood.open < 60 && Date.now() < t1; ) await new Promise((r) => setTimeout(r, 100));
    assert.ok(flood.open >= 60, `the flood holds many sockets (${flood.open})`);
    for (let i = 0; i < 12; i++) {
      // Each epoch its own program: one program may not pay the same window twice (SPEC §10).
      const res = await post(s.url, `/epochs/normal-${i}:e/compute`, { ...triple, dry_run: i % 2 === 0 });
      assert.equal(res.status, 200, `normal compute ${i} during the flood: ${res.status} ${res.text}`);
      assert.equal(res.json<{ commitment: string }>().commitment.length, 67);
    }
    const m = await metrics(s.url);
    assert.ok(metricValue(m, 'body_intake_bodies') <= 24, 'bodies in progress stay within BODY_INTAKE_MAX');
    assert.ok(metricValue(m, 'rejected_total', { reason: 'body_too_slow' }) > 0, 'slow bodies were cut');
    assert.ok(metricValue(m, 'rejected_total', { reason: 'bodies_per_client' }) > 0, 'per-client bound hit');
    assert.ok(metricValue(m, 'rejected_total', { reason: 'bodies_total' }) > 0, 'total bound hit');
    assert.equal(metricValue(m, 'rejected_total', { reason: 'inflight' }), 0, 'no slow body ever held an in-flight slot');
    const seen = new Set(flood.statuses);
    for (const status of [408, 429, 503]) assert.ok(seen.has(status), `the flood was answered ${status} (${[...seen].join(',')})`);
    assert.ok(!seen.has(200) && !seen.has(500), 'no slow body was computed or crashed anything');
  } finally {
    flood.stop();
    await s.close();
  }
});

/** Sends `head` (request line, headers, some body) from `localAddress`; resolves with the answer's text once the server closes or answers. */
function rawRequest(url: string, head: string, localAddress: string): { socket: Socket; answer: Promise<string> } {
  const { port, hostname } = new URL(url);
  const socket = connect({ port: Number(port), host: hostname, localAddress });
  let got = '';
  const answer = new Promise<string>((resolve) => {
    socket.on('connect', () => socket.write(head));
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      const end = got.indexOf('\r\n\r\n');
      const len = /content-length: (\d+)/i.exec(got);
      if (end >= 0 && len !== null && got.length >= end + 4 + Number(len[1])) resolve(got);
    });
    socket.on('error', () => resolve(got));
    socket.on('close', () => resolve(got));
  });
  return { socket, answer };
}

test('a body that declares more than the byte budget has left is refused before buffering with 503 and Retry-After; over the cap is 413', LIMIT, async () => {
  const s = await seeded({ BODY_BYTES_BUDGET: String(256 * 1024), INPUTS_MAX_BYTES: String(200 * 1024), REQ_BODY_MAX_BYTES: '65536', BODY_RATE_GRACE_MS: '30000' });
  // One upload declares 150 KiB and sends a little: its declared bytes are reserved.
  const holder = rawRequest(s.url, 'PUT /inputs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 153600\r\n\r\n{"sch', '127.0.0.2');
  try {
    const deadline = Date.now() + 5_000;
    while (metricValue(await metrics(s.url), 'body_intake_bytes') < 153600) {
      assert.ok(Date.now() < deadline, 'the held upload reserved its bytes');
      await new Promise((r) => setTimeout(r, 20));
    }
    // A second declares 120 KiB, which does not fit now; it has sent only its headers.
    const second = rawRequest(s.url, 'PUT /inputs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 122880\r\n\r\n', '127.0.0.3');
    const text = await second.answer;
    second.socket.destroy();
    assert.match(text, /^HTTP\/1\.1 503 /, text);
    assert.match(text, /\r\nretry-after: [1-9]\d*\r\n/i, text);
    assert.match(text, /"reason":"body_budget"/, text);
    const over = await request(s.url, 'PUT', '/inputs', { headers: { 'content-type': 'application/json' }, body: 'x'.repeat(210 * 1024) });
    assertErrorEnvelope(over, { status: 413, code: 'PAYLOAD_TOO_LARGE', reason: 'body_too_large' });
    // A small compute that arrives whole is never refused by the budget.
    assert.equal((await post(s.url, '/epochs/budget-ok/compute', triple)).status, 200);
    assert.equal(metricValue(await metrics(s.url), 'rejected_total', { reason: 'body_budget' }), 1);
  } finally {
    holder.socket.destroy();
    await s.close();
  }
});

test('with the worker held and a queue that cannot drain within QUEUE_WAIT_MAX_MS, a compute is refused 503 queue_wait before its body is read, the answer held while other requests are served', LIMIT, async () => {
  const s = await seeded({ QUEUE_WAIT_MAX_MS: '300', BODY_RATE_GRACE_MS: '30000', SHED_HOLD_MS: '5000' }, FAULT_WORKER);
  const pending: Promise<Reply>[] = [];
  try {
    assert.equal((await post(s.url, '/epochs/replay-me/compute', triple)).status, 200, 'published');
    // The time per task is learned from tasks of 300 ms, timed inside the worker (a mean of
    // 200–300 ms over the window after six, with the seals and the run above).
    for (let i = 0; i < 6; i++) assert.equal((await post(s.url, `/epochs/slow-300-warm-${i}/compute`, { ...triple, dry_run: true })).status, 200);
    // The worker is held and one task waits: the next would wait for two (> 300 ms).
    pending.push(post(s.url, '/epochs/hang-0/compute', { ...triple, dry_run: true, deadline_ms: 3_000 }, {}, 30_000));
    await until(async () => metricValue(await metrics(s.url), 'inflight_requests') === 1 && (await depth(s.url)) === 0, 5_000, 'the hang to run');
    pending.push(post(s.url, '/epochs/slow-300-q1/compute', { ...triple, dry_run: true }, {}, 30_000));
    await until(async () => (await depth(s.url)) === 1, 5_000, 'q1 to queue');
    // Headers and 2 of 4,000 declared bytes; the rest never comes. Waiting for the body would end
    // in 408 after the grace (30 s); it is answered now, with nothing read or parsed.
    const early = rawRequest(s.url, 'POST /epochs/early/compute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n{"', '127.0.0.1');
    const answered: string[] = [];
    void early.answer.then(() => answered.push('refused'));
    await until(async () => metricValue(await metrics(s.url), 'rejected_total', { reason: 'queue_wait' }) === 1, 5_000, 'the refusal');
    // A compute for an epoch already published is a replay, not a task: it is not refused for the
    // queue, and it is answered while the refusal is still held (SHED_HOLD_MS, up to Retry-After).
    const replay = await post(s.url, '/epochs/replay-me/compute', triple);
    answered.push('replay');
    assert.equal(replay.status, 200, replay.text);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    const text = await early.answer;
    early.socket.destroy();
    assert.deepEqual(answered, ['replay', 'refused'], 'the refusal was held, the replay was not');
    assert.match(text, /^HTTP\/1\.1 503 /, text);
    assert.match(text, /\r\nretry-after: [1-9]\d*\r\n/i, text);
    assert.match(text, /"reason":"queue_wait"/, text);
    const m = await metrics(s.url);
    assert.equal(metricValue(m, 'rejected_total', { reason: 'queue_wait' }), 1);
    assert.equal(metricValue(m, 'body_intake_bodies'), 0, 'the refused body never took a place in the intake');
    assertErrorEnvelope(await post(s.url, '/epochs/new-one/compute', { ...triple, dry_run: true }), { status: 503, code: 'OVERLOADED', reason: 'queue_wait' });
  } finally {
    await Promise.allSettled(pending);
    await s.close();
  }
});

// Refused before a byte is read, the body is still dropped by Node once the answer is sent
// (the server dumps an unread request), so a client sending at full speed reads the 503.
test('a client sending at full speed a body the byte budget refuses reads the 503, not a connection reset', LIMIT, async () => {
  const MiB = 1024 * 1024;
  const s = await seeded({ BODY_BYTES_BUDGET: String(8 * MiB), INPUTS_MAX_BYTES: String(6 * MiB), BODY_RATE_GRACE_MS: '30000' });
  const holder = rawRequest(s.url, `PUT /inputs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${5 * MiB}\r\n\r\n{"sch`, '127.0.0.2');
  try {
    await until(async () => metricValue(await metrics(s.url), 'body_intake_bytes') >= 5 * MiB, 5_000, 'the held upload to reserve its bytes');
    for (let i = 0; i < 3; i++) {
      const fast = await put(s.url, '/inputs', Buffer.alloc(4 * MiB, 0x20));
      assertErrorEnvelope(fast, { status: 503, code: 'OVERLOADED', reason: 'body_budget' });
    }
  } finally {
    holder.socket.destroy();
    await s.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Shedding and fair queueing: one worker thread running the fault worker's slow-N-… tasks (each
// spins N ms), two tenants with their own tokens.

const FLOOD = 'flood-token-0123456789abcdef';
const QUIET = 'quiet-token-0123456789abcdef';

async function twoTenantServer(env: Record<string, string>): Promise<{ s: InProcessServer; remove: () => void }> {
  const tmp = tempDir();
  const tokens = writeTokensFile(tmp.dir, [
    { tenant: 'flood', scopes: ['rewarder.seal', 'rewarder.run', 'rewarder.inspect'], token: FLOOD },
    { tenant: 'quiet', scopes: ['rewarder.seal', 'rewarder.run', 'rewarder.inspect'], token: QUIET },
  ]);
  try {
    const s = await startInProcess({ AUTH: 'on', TOKENS_FILE: tokens, TENANT_RPS_MAX: '100000', CONCURRENCY_COMPUTE_WORKERS: '1', ...env }, { workerFile: FAULT_WORKER });
    try {
      // Each tenant computes with documents it sealed itself (SPEC §10).
      for (const token of [FLOOD, QUIET]) {
        assert.equal((await put(s.url, '/inputs', readFileSync(EXAMPLE.inputs), bearer(token))).status, 201);
        assert.equal((await put(s.url, '/policies', readFileSync(EXAMPLE.policy), bearer(token))).status, 201);
      }
    } catch (e) {
      await s.close();
      throw e;
    }
    return { s, remove: tmp.remove };
  } catch (e) {
    tmp.remove();
    throw e;
  }
}

const depth = async (url: string) => metricValue(await metrics(url), 'queue_depth');

test('a queue kept full sheds with 503 queue_full or 429 tenant_share and Retry-After, a quiet tenant still gets in, and a wait that cannot fit a deadline is 503, not 504', LIMIT, async () => {
  // QUEUE_WAIT_MAX_MS out of the way: this test is about the queue's bound and shares.
  const { s, remove } = await twoTenantServer({ WORK_QUEUE_MAX: '4', QUEUE_WAIT_MAX_MS: '600000' });
  try {
    const flood = (i: number) => post(s.url, `/epochs/slow-300-f${i}/compute`, { ...triple, dry_run: true }, bearer(FLOOD), 30_000);
    // The first task hangs until its deadline, so the queue stays full while the test looks at it.
    const hung = post(s.url, '/epochs/hang-f0/compute', { ...triple, dry_run: true, deadline_ms: 6_000 }, bearer(FLOOD), 30_000);
    const running: Promise<Reply>[] = [];
    await until(async () => metricValue(await metrics(s.url), 'inflight_requests') === 1 && (await depth(s.url)) === 0, 5_000, 'f0 to run');
    for (let i = 1; i <= 4; i++) {
      running.push(flood(i));
      await until(async () => (await depth(s.url)) === i, 5_000, `f${i} to queue`);
    }
    running.unshift(hung);
    // Full, and the flood is alone in it: the service is full.
    const full = await post(s.url, '/epochs/slow-300-f5/compute', { ...triple, dry_run: true }, bearer(FLOOD));
    assertErrorEnvelope(full, { status: 503, code: 'OVERLOADED', reason: 'queue_full' });
    assert.match(String(full.headers['retry-after']), /^[1-9]\d*$/);
    // The quiet tenant under its share makes room: the flood's newest task is pushed out (429).
    const quiet = post(s.url, '/epochs/quiet-1/compute', { ...triple, dry_run: true }, bearer(QUIET), 30_000);
    const pushed = await running[4];
    const d = assertErrorEnvelope(pushed as Reply, { status: 429, code: 'RATE_LIMITED', reason: 'tenant_share' });
    assert.match(String((pushed as Reply).headers['retry-after']), /^[1-9]\d*$/);
    assert.equal(typeof d.retry_after_sec, 'number');
    assert.equal((await quiet).status, 200, 'the quiet tenant was served');
    assertErrorEnvelope(await hung, { status: 504, code: 'DEADLINE_EXCEEDED', reason: 'deadline_aborted' });
    for (const r of await Promise.all(running.slice(1, 4))) assert.equal(r.status, 200, r.text);

    // Drain measured (tasks of ~300 ms finished): behind its own three queued tasks and the running
    // one, the flood's next compute cannot meet a 200 ms deadline for the wait, though the task
    // itself would fit: 503 with Retry-After. (The quiet tenant's would go next after the running
    // one: fair queueing.)
    const more = [1, 2, 3, 4].map((i) => post(s.url, `/epochs/slow-300-g${i}/compute`, { ...triple, dry_run: true }, bearer(FLOOD), 30_000));
    await until(async () => (await depth(s.url)) === 3, 5_000, 'three queued');
    const late = await post(s.url, '/epochs/flood-late/compute', { ...triple, dry_run: true, deadline_ms: 200 }, bearer(FLOOD));
    const w = assertErrorEnvelope(late, { status: 503, code: 'OVERLOADED', reason: 'queue_wait' });
    assert.ok((w.expected_wait_ms as number) > 200, String(w.expected_wait_ms));
    assert.match(String(late.headers['retry-after']), /^[1-9]\d*$/);
    for (const r of await Promise.all(more)) assert.equal(r.status, 200, r.text);
    const m = await metrics(s.url);
    assert.equal(metricValue(m, 'rejected_total', { reason: 'queue_full' }), 1);
    assert.equal(metricValue(m, 'rejected_total', { reason: 'tenant_share' }), 1);
    assert.equal(metricValue(m, 'rejected_total', { reason: 'queue_wait' }), 1);
    assert.equal(metricValue(m, 'rejected_total', { reason: 'deadline_estimate' }), 0, 'no 504 for load');
    // Refusals are summarised, not logged one line each.
    assert.ok(s.logs.lines.filter((l) => l.event === 'RequestsRefused').length <= 1);
    assert.deepEqual(
      s.logs.lines.filter((l) => ['OVERLOADED', 'RATE_LIMITED', 'DEADLINE_EXCEEDED'].includes(String(l.code))),
      [],
      'no line per refusal',
    );
  } finally {
    await s.close();
    remove();
  }
});

test('two tenants, one flooding: the quiet tenant’s computes are served in turn, not behind the flood', LIMIT, async () => {
  const { s, remove } = await twoTenantServer({ WORK_QUEUE_MAX: '64' });
  try {
    const done: string[] = [];
    const floodAll = Array.from({ length: 12 }, (_, i) =>
      post(s.url, `/epochs/slow-80-flood-${i}/compute`, { ...triple, dry_run: true }, bearer(FLOOD), 30_000).then((r) => {
        assert.equal(r.status, 200, r.text);
        done.push('flood');
      }),
    );
    await until(async () => (await depth(s.url)) >= 8, 5_000, 'the flood to queue');
    for (let i = 0; i < 3; i++) {
      const before = done.length;
      const r = await post(s.url, `/epochs/slow-80-quiet-${i}/compute`, { ...triple, dry_run: true }, bearer(QUIET), 30_000);
      assert.equal(r.status, 200, r.text);
      const floodServedMeanwhile = done.length - before;
      // In turn: the running flood task and at most one more of the flood's (first-come
      // first-served would put every queued flood task ahead: 8 or more).
      // (≤ 4: a flood answer that finished before the quiet request may reach us after it.)
      assert.ok(floodServedMeanwhile <= 4, `quiet compute ${i} waited for ${floodServedMeanwhile} flood tasks`);
    }
    await Promise.all(floodAll);
  } finally {
    await s.close();
    remove();
  }
});

test('/readyz answers from the store health pinged in the background: many calls, few pings, and a store going down is seen', LIMIT, async () => {
  const s = await startInProcess({ AUTH: 'off', READINESS_PING_MS: '100' });
  try {
    let pings = 0;
    let up = true;
    s.rt.stores.healthy = async () => (pings++, up);
    await until(() => pings > 0, 3_000, 'the next background ping');
    const before = pings;
    for (let i = 0; i < 50; i++) assert.equal((await request(s.url, 'GET', '/readyz')).status, 200);
    // The background timer pings while the 50 calls run; never once per call.
    assert.ok(pings - before < 25, `50 readiness calls, ${pings - before} pings`);
    up = false;
    await until(async () => (await request(s.url, 'GET', '/readyz')).status === 503, 3_000, 'store_down');
    const r = await request(s.url, 'GET', '/readyz');
    assert.ok(r.json<{ causes: string[] }>().causes.includes('store_down'), r.text);
  } finally {
    await s.close();
  }
});

test('proofs come from an index built once per published epoch: every payee equals the manifest’s own proof, unknown actors are 404', LIMIT, async () => {
  const s = await seeded({});
  try {
    assert.equal((await post(s.url, '/epochs/2026-01-01/compute', triple)).status, 200);
    const manifest = manifestPayouts(JSON.parse(readFileSync(EXAMPLE.manifest, 'utf8')));
    if (typeof manifest === 'string') assert.fail(manifest);
    assert.equal(metricValue(await metrics(s.url), 'proof_index_cache_bytes'), 0, 'nothing built before the first proof');
    for (const p of manifest.payouts) {
      const res = await request(s.url, 'GET', `/epochs/2026-01-01/payouts/${encodeURIComponent(p.actor)}`);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json(), proveActor(manifest, p.actor));
    }
    const kept = metricValue(await metrics(s.url), 'proof_index_cache_bytes');
    assert.ok(kept > 0, 'the index is kept');
    const missing = await request(s.url, 'GET', '/epochs/2026-01-01/payouts/did:ron:nobody');
    assertErrorEnvelope(missing, { status: 404, code: 'NOT_FOUND', reason: 'not_a_payee' });
    assert.equal(metricValue(await metrics(s.url), 'proof_index_cache_bytes'), kept, 'built once');
  } finally {
    await s.close();
  }
});

// The ledger stub as the rewarder will meet it: a separate process on a real socket. Every test
// spawns its own stub and kills it in t.after, whatever the assertions did.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { b3Text } from '../../src/core/hash.js';
import { spawnLedgerStub, type SpawnLedgerStubOptions, type SpawnedLedgerStub } from './client.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

async function stubFor(t: TestContext, opts: SpawnLedgerStubOptions = {}): Promise<SpawnedLedgerStub> {
  const stub = await spawnLedgerStub(opts);
  t.after(() => stub.kill('SIGKILL'));
  return stub;
}

/** Each test takes well under a second; a hang must fail the test, not stall the suite. */
const LIMIT = { timeout: 10_000 };

const BIG = '340282366920938463463374607431768211455'; // 2^128 − 1

function intent(partId: string, over: Record<string, unknown> = {}): string {
  return JSON.stringify({
    part_id: partId,
    run_key: 'b3:run-1',
    epoch_id: '2026-01-01',
    commitment: 'b3:commitment',
    payouts_root: 'b3:root',
    part: { index: 0, count: 1 },
    credits: [
      { actor: 'did:ron:alice', amount_minor: '360' },
      { actor: 'did:ron:bob', amount_minor: '400' },
    ],
    ...over,
  });
}

function headersFor(partId: string, extra: Record<string, string> = {}): Record<string, string> {
  return { 'content-type': 'application/json', 'idempotency-key': partId, ...extra };
}

/** One POST on a fresh connection (no pooling), so a reset or a hang affects only this request. */
function post(url: string, body: string, headers: Record<string, string>, signal?: AbortSignal): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v1/intents`, { method: 'POST', headers, agent: false, signal }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) as Record<string, unknown> });
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const send = (stub: SpawnedLedgerStub, partId: string, body = intent(partId)): Promise<Reply> =>
  post(stub.url, body, headersFor(partId));

async function statuses(stub: SpawnedLedgerStub, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await send(stub, `p-${i}`)).status);
  return out;
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 3_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Linux: a zombie (state Z) is as good as dead; elsewhere fall back to signal 0. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

function killQuietly(pid: number | undefined): void {
  try {
    if (pid !== undefined) process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

test('accepts a new part with 201 and records its ids, credit count, BigInt sum and headers', LIMIT, async (t) => {
  const stub = await stubFor(t);
  const body = intent('p-1', {
    epoch_id: 'e-7',
    part: { index: 2, count: 5 },
    credits: [
      { actor: 'a', amount_minor: BIG },
      { actor: 'b', amount_minor: BIG },
      { actor: 'c', amount_minor: '0' },
    ],
  });
  const reply = await post(
    stub.url,
    body,
    headersFor('p-1', { 'x-deadline': '2026-01-01T00:00:05.000Z', 'x-corr-id': 'corr-1' }),
  );

  assert.equal(reply.status, 201);
  assert.deepEqual(reply.body, { result: 'accepted' });
  const [record, ...rest] = await stub.admin.parts();
  assert.deepEqual(rest, []);
  assert.ok(record);
  assert.deepEqual(
    { ...record, received_at: undefined },
    {
      part_id: 'p-1',
      run_key: 'b3:run-1',
      epoch_id: 'e-7',
      part: { index: 2, count: 5 },
      credits: 3,
      sum_minor: (2n * BigInt(BIG)).toString(),
      body_b3: b3Text(body),
      kind: 'intent',
      entries: 0,
      x_deadline: '2026-01-01T00:00:05.000Z',
      x_corr_id: 'corr-1',
      received_at: undefined,
      dups: 0,
      conflicts: 0,
    },
  );
  assert.match(record.received_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

test('answers 200 dup for the same part_id with identical bytes and keeps a single record', LIMIT, async (t) => {
  const stub = await stubFor(t);
  assert.equal((await send(stub, 'p-1')).status, 201);
  const again = await send(stub, 'p-1');
  assert.equal(again.status, 200);
  assert.deepEqual(again.body, { result: 'dup' });
  const parts = await stub.admin.parts();
  assert.equal(parts.length, 1);
  assert.equal(parts[0]?.dups, 1);
});

test('answers 409 conflict for the same part_id with different bytes and keeps the first body', LIMIT, async (t) => {
  const stub = await stubFor(t);
  const first = intent('p-1');
  assert.equal((await post(stub.url, first, headersFor('p-1'))).status, 201);
  // Same JSON value, different bytes: the stub compares bytes, never a re-serialisation.
  const reordered = intent('p-1').replace('{"part_id":"p-1",', '{').replace(/}$/, ',"part_id":"p-1"}');
  const conflict = await post(stub.url, reordered, headersFor('p-1'));
  assert.equal(conflict.status, 409);
  assert.deepEqual(conflict.body, { result: 'conflict' });
  const [record] = await stub.admin.parts();
  assert.equal(record?.body_b3, b3Text(first));
  assert.equal(record?.conflicts, 1);
});

test('rejects with 400 a missing or mismatched Idempotency-Key or a body without part_id, recording nothing', LIMIT, async (t) => {
  const stub = await stubFor(t);
  const body = intent('p-1');
  const noKey = await post(stub.url, body, { 'content-type': 'application/json' });
  assert.equal(noKey.status, 400);
  assert.equal(noKey.body['reason'], 'idempotency_key_mismatch');
  assert.equal((await post(stub.url, body, headersFor('p-2'))).status, 400);
  assert.equal((await post(stub.url, '{"credits":[]}', headersFor('p-1'))).status, 400);
  assert.equal((await post(stub.url, '[1,2]', headersFor('p-1'))).status, 400);
  assert.equal((await post(stub.url, 'not json', headersFor('p-1'))).status, 400);
  assert.deepEqual(await stub.admin.parts(), []);
  assert.equal((await send(stub, 'p-1')).status, 201, 'nothing was recorded before');
});

test('answers 503 to every intent while down, records nothing, and serves again once up', LIMIT, async (t) => {
  const stub = await stubFor(t);
  await stub.admin.setFaults({ down: true });
  for (let i = 0; i < 3; i++) assert.equal((await send(stub, 'p-1')).status, 503);
  assert.deepEqual(await stub.admin.parts(), []);
  assert.equal((await stub.admin.stats()).unavailable, 3);
  await stub.admin.setFaults({ down: false });
  assert.equal((await send(stub, 'p-1')).status, 201);
});

test('answers every intent with the injected status at error_rate 1 and records nothing', LIMIT, async (t) => {
  const stub = await stubFor(t, { faults: { error_rate: 1 } });
  assert.deepEqual(await statuses(stub, 5), [503, 503, 503, 503, 503]);
  await stub.admin.setFaults({ error_status: 500 });
  assert.equal((await send(stub, 'p-9')).status, 500);
  assert.deepEqual(await stub.admin.parts(), []);
  assert.equal((await stub.admin.stats()).errors_injected, 6);
});

test('under reset_after_commit the client sees ECONNRESET, yet the part is recorded and a resend is a dup', LIMIT, async (t) => {
  const stub = await stubFor(t, { faults: { reset_after_commit_rate: 1 } });
  await assert.rejects(send(stub, 'p-1'), (err: NodeJS.ErrnoException) => {
    assert.equal(err.code, 'ECONNRESET');
    return true;
  });
  const parts = await stub.admin.parts();
  assert.deepEqual(
    parts.map((p) => p.part_id),
    ['p-1'],
  );
  // Only a first commit is reset, so the retry is answered even with the fault still on.
  const resend = await send(stub, 'p-1');
  assert.equal(resend.status, 200);
  assert.deepEqual(resend.body, { result: 'dup' });
  const stats = await stub.admin.stats();
  assert.equal(stats.reset_after_commit, 1);
  assert.equal(stats.accepted, 1);
  assert.equal(stats.dup, 1);
});

test('under hang the client times out, nothing is recorded and the stub stays healthy', LIMIT, async (t) => {
  const stub = await stubFor(t, { faults: { hang: true } });
  const started = performance.now();
  await assert.rejects(post(stub.url, intent('p-1'), headersFor('p-1'), AbortSignal.timeout(300)), { name: 'AbortError' });
  assert.ok(performance.now() - started >= 299, 'the stub answered before the client gave up');

  const health = await fetch(`${stub.url}/healthz`);
  assert.equal(health.status, 200);
  const stats = await stub.admin.stats();
  assert.equal(stats.hung, 1);
  assert.equal(stats.parts, 0);
  await stub.admin.setFaults({ hang: false });
  assert.equal((await send(stub, 'p-1')).status, 201);
});

test('delays every answer by at least the minimum latency', LIMIT, async (t) => {
  const stub = await stubFor(t, { faults: { latency_ms: { min: 150, max: 250 } } });
  for (const id of ['p-1', 'p-1', 'p-2']) {
    const started = performance.now();
    await send(stub, id);
    // Timers may fire up to a millisecond early through rounding; the lower bound is what matters.
    assert.ok(performance.now() - started >= 149, `answered after ${performance.now() - started} ms`);
  }
  const health = performance.now();
  await fetch(`${stub.url}/healthz`);
  assert.ok(performance.now() - health < 150, 'latency is for intents only');
});

test('answers 503 inside an outage window and serves outside it', LIMIT, async (t) => {
  const stub = await stubFor(t);
  await stub.admin.setFaults({ outage_windows: [{ start_ms: 0, end_ms: 300 }] });
  assert.equal((await send(stub, 'p-1')).status, 503);
  await waitFor('the window to end', async () => (await stub.admin.faults()).outage_elapsed_ms >= 300);
  assert.equal((await send(stub, 'p-1')).status, 201);

  await stub.admin.setFaults({ outage_windows: [{ start_ms: 300, end_ms: 60_000 }] });
  assert.equal((await send(stub, 'p-2')).status, 201, 'before the window opens');
  await waitFor('the window to open', async () => (await stub.admin.faults()).outage_elapsed_ms >= 300);
  assert.equal((await send(stub, 'p-3')).status, 503);
  assert.deepEqual(
    (await stub.admin.parts()).map((p) => p.part_id),
    ['p-1', 'p-2'],
  );
});

test('requires the bearer token when one is configured', LIMIT, async (t) => {
  const stub = await stubFor(t, { token: 'sekret-token-1' });
  const none = await send(stub, 'p-1');
  assert.equal(none.status, 401);
  assert.equal(none.headers['www-authenticate'], 'Bearer');
  const wrong = await post(stub.url, intent('p-1'), headersFor('p-1', { authorization: 'Bearer sekret-token-2' }));
  assert.equal(wrong.status, 401);
  assert.deepEqual(await stub.admin.parts(), []);
  const right = await post(stub.url, intent('p-1'), headersFor('p-1', { authorization: 'Bearer sekret-token-1' }));
  assert.equal(right.status, 201);
  assert.equal((await stub.admin.stats()).unauthorized, 2);
});

test('counts every outcome in stats, and reset clears records and counters', LIMIT, async (t) => {
  const stub = await stubFor(t, { seed: 5 });
  await send(stub, 'p-1');
  await send(stub, 'p-1');
  await post(stub.url, intent('p-1', { epoch_id: 'other' }), headersFor('p-1'));
  await post(stub.url, intent('p-2'), headersFor('p-3'));
  await post(stub.url, intent('p-2'), { 'idempotency-key': 'p-2', 'content-type': 'text/plain' });
  await send(stub, 'p-2');
  const { uptime_ms, ...stats } = await stub.admin.stats();
  assert.ok(uptime_ms >= 0);
  assert.deepEqual(stats, {
    seed: 5,
    parts: 2,
    requests_total: 6,
    accepted: 2,
    dup: 1,
    conflict: 1,
    errors_injected: 0,
    unavailable: 0,
    hung: 0,
    reset_after_commit: 0,
    bad_request: 2,
    unauthorized: 0,
    canned: 0,
  });

  const cleared = await stub.admin.reset();
  assert.equal(cleared.requests_total, 0);
  assert.equal(cleared.parts, 0);
  assert.deepEqual(await stub.admin.parts(), []);
  assert.equal((await send(stub, 'p-1')).status, 201);
});

test('filters parts by epoch_id and run_key', LIMIT, async (t) => {
  const stub = await stubFor(t);
  await post(stub.url, intent('p-1', { epoch_id: 'e-1' }), headersFor('p-1'));
  await post(stub.url, intent('p-2', { epoch_id: 'e-2', run_key: 'b3:run-2' }), headersFor('p-2'));
  await post(stub.url, intent('p-3', { epoch_id: 'e-1' }), headersFor('p-3'));
  const ids = (parts: { part_id: string }[]): string[] => parts.map((p) => p.part_id);
  assert.deepEqual(ids(await stub.admin.parts({ epoch_id: 'e-1' })), ['p-1', 'p-3']);
  assert.deepEqual(ids(await stub.admin.parts({ run_key: 'b3:run-2' })), ['p-2']);
  assert.deepEqual(ids(await stub.admin.parts({ epoch_id: 'none' })), []);
  assert.deepEqual(ids(await stub.admin.parts()), ['p-1', 'p-2', 'p-3']);
});

test('the same seed gives the same fault pattern in two processes and again after a reset', LIMIT, async (t) => {
  const faults = { error_rate: 0.5 };
  const [a, b, c] = await Promise.all([
    stubFor(t, { seed: 42, faults }),
    stubFor(t, { seed: 42, faults }),
    stubFor(t, { seed: 43, faults }),
  ]);
  const pattern = await statuses(a, 24);
  assert.ok(pattern.includes(201) && pattern.includes(503), `pattern ${pattern.join(',')}`);
  assert.deepEqual(await statuses(b, 24), pattern);
  assert.notDeepEqual(await statuses(c, 24), pattern);
  await a.admin.reset();
  assert.deepEqual(await statuses(a, 24), pattern);
});

test('refuses an invalid fault patch with 400 and leaves the faults unchanged', LIMIT, async (t) => {
  const stub = await stubFor(t, { faults: { error_rate: 0.25 } });
  const before = await stub.admin.faults();
  await assert.rejects(stub.admin.setFaults({ error_rate: 2 }), /400.*error_rate/);
  await assert.rejects(stub.admin.setFaults({ latency_ms: { min: 50, max: 10 } }), /400.*min must not exceed max/);
  await assert.rejects(stub.admin.setFaults({ error_status: 404 }), /400.*error_status/);
  await assert.rejects(stub.admin.setFaults({ surprise: true } as never), /400/);
  const after = await stub.admin.faults();
  assert.deepEqual({ ...after, outage_elapsed_ms: 0 }, { ...before, outage_elapsed_ms: 0 });
});

test('command-line flags set the faults in force from the start', LIMIT, async (t) => {
  const stub = await stubFor(t, {
    args: [
      '--latency', '100-200', '--error-rate', '0.25', '--error-status', '502', '--down',
      '--reset-after-commit-rate', '0.5', '--outage', '1000-2000', '--outage', '5000-6000',
      '--canned-answer', 'html-200',
    ],
  });
  const { outage_elapsed_ms, ...faults } = await stub.admin.faults();
  assert.ok(outage_elapsed_ms >= 0);
  assert.deepEqual(faults, {
    latency_ms: { min: 100, max: 200 },
    error_rate: 0.25,
    error_status: 502,
    down: true,
    hang: false,
    reset_after_commit_rate: 0.5,
    outage_windows: [
      { start_ms: 1000, end_ms: 2000 },
      { start_ms: 5000, end_ms: 6000 },
    ],
    canned_answer: 'html-200',
  });
  assert.equal((await send(stub, 'p-1')).status, 503);
});

test('refuses to listen anywhere but loopback and exits with code 2', LIMIT, async () => {
  await assert.rejects(spawnLedgerStub({ host: '0.0.0.0' }), /exited with code 2[\s\S]*only 127\.0\.0\.1/);
  await assert.rejects(spawnLedgerStub({ args: ['--error-rate', 'lots'] }), /exited with code 2[\s\S]*--error-rate/);
});

test('exits 0 on SIGTERM and on SIGINT even while a request hangs', LIMIT, async (t) => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const stub = await stubFor(t, { faults: { hang: true } });
    const hung = post(stub.url, intent('p-1'), headersFor('p-1'), AbortSignal.timeout(5_000));
    hung.catch(() => undefined); // its failure is asserted below; keep it from going unhandled meanwhile
    await waitFor('the request to hang', async () => (await stub.admin.stats()).hung === 1);
    assert.equal(await stub.kill(signal), 0, signal);
    await assert.rejects(hung, (err: NodeJS.ErrnoException) => err.name !== 'AbortError');
  }
});

const CLIENT = new URL('./client.js', import.meta.url).href;

/** A parent node process that spawns a stub, prints the stub's pid, then does `then`. */
function parentProcess(then: string): { pid: Promise<number>; exited: Promise<number | null>; kill(): void } {
  const script = `import { spawnLedgerStub } from ${JSON.stringify(CLIENT)};
const stub = await spawnLedgerStub();
process.stdout.write(stub.pid + '\\n');
${then}`;
  const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => parent.once('exit', resolve));
  const pid = new Promise<number>((resolve, reject) => {
    let out = '';
    parent.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    void exited.then(() => reject(new Error(`parent exited before printing a pid: ${out}`)));
  });
  return { pid, exited, kill: () => killQuietly(parent.pid) };
}

test('the stub dies when the test process that spawned it exits without killing it', LIMIT, async (t) => {
  const parent = parentProcess('// and simply ends');
  t.after(() => parent.kill());
  const pid = await parent.pid;
  t.after(() => killQuietly(pid));
  assert.equal(await parent.exited, 0, 'a forgotten stub must not keep its parent alive');
  await waitFor('the orphaned stub to exit', () => !isAlive(pid));
});

test('the stub dies when the process that spawned it is killed outright', LIMIT, async (t) => {
  const parent = parentProcess('setInterval(() => {}, 1000);');
  t.after(() => parent.kill());
  const pid = await parent.pid;
  t.after(() => killQuietly(pid));
  assert.ok(isAlive(pid));
  parent.kill();
  await parent.exited;
  await waitFor('the orphaned stub to exit', () => !isAlive(pid));
});

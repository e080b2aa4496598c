// Durability tests' harness: real service processes (`bin/rewarder.js serve`, macronode, on
// PostgreSQL, AUTH=on with one all-scopes token: development mode is refused for a macronode) that a test can SIGKILL and restart on the same schema, a fresh schema per test
// (dropped in t.after), and the HTTP and SQL probes the tests make. Every process started here is
// SIGKILLed in t.after; every wait is bounded.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVE_NODE_FLAGS } from '../../src/cli/serve-flags.js';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { assertFetchedConforms, registerService, unregisterService } from '../contract.js';
import type { PartRecord, SpawnedLedgerStub, Stats } from '../ledger-stub/client.js';
import { onJsonLines } from '../json-lines.js';
import type { Triple } from '../ledger/service.js';

/** Repository root (this file runs as dist/testing/durability/cluster.js). */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'rewarder.js');

export const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** SPEC §7: credits per ledger part. */
export const PART_SIZE = 4096;

/** Settings a test may not inherit from the environment it runs in. */
const SCRUBBED = /^(LEDGER_|DATABASE_|REWARDER_|AUTH$|TOKENS_FILE$|PORT$|HOST$|PROFILE$|LOG_LEVEL$|AUDIT_|AMNESIA_|SIGNING_|REQUIRE_PQ)/;

/** The one token every replica of this test process accepts (AUTH=off is micronode-on-loopback only). */
const TOKEN = randomBytes(24).toString('base64url');
let tokensFile: string | undefined;

/** The tokens file for TOKEN, written once per test process and removed when it exits. */
function devTokensFile(): string {
  if (tokensFile !== undefined) return tokensFile;
  const dir = mkdtempSync(join(tmpdir(), 'rewarder-durability-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'tokens.json');
  const sha256 = createHash('sha256').update(TOKEN).digest('hex');
  writeFileSync(file, JSON.stringify([{ tenant: 'durability', scopes: ['rewarder.seal', 'rewarder.run', 'rewarder.inspect', 'rewarder.admin', 'rewarder.correct'], programs: ['*'], sha256 }]), { mode: 0o600 });
  tokensFile = file;
  return file;
}

export interface Schema {
  name: string;
  /** A small pool for looking behind the service's back. */
  sql: postgres.Sql;
  /** Drops the schema and closes the pool; idempotent (also run in t.after). */
  drop(): Promise<void>;
}

/** A fresh, empty schema name (the service creates it on start); dropped and closed in t.after. */
export function freshSchema(t: TestContext): Schema {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const sql = postgres(DATABASE_URL, { max: 2, onnotice: () => {}, fetch_types: false, connect_timeout: 5 });
  let dropped: Promise<void> | undefined;
  const drop = (): Promise<void> =>
    (dropped ??= (async () => {
      try {
        await sql.unsafe(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
      } finally {
        // timeout 0: after a refused connection postgres.js's graceful end() never settles (#1097).
        await sql.end({ timeout: 0 });
      }
    })());
  t.after(drop);
  return { name, sql, drop };
}

/** The environment of one replica: macronode on `schema`, settling to `ledgerUrl`, quick ledger timings. */
export function serviceEnv(schema: string, ledgerUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PROFILE: 'macronode',
    DATABASE_URL,
    DATABASE_SCHEMA: schema,
    LEDGER_URL: ledgerUrl,
    LEDGER_PROBE_INTERVAL_MS: '100',
    LEDGER_LEASE_MS: '1000',
    LEDGER_RECOVERY_WINDOW_MS: '300',
    LEDGER_DEADLINE_MS: '500',
    LEDGER_MAX_RETRIES: '2',
    CONCURRENCY_COMPUTE_WORKERS: '1',
    SHUTDOWN_GRACE_MS: '200',
    ...extra,
  };
}

export interface LogLine {
  level?: number;
  msg?: string;
  alert?: string;
  [key: string]: unknown;
}

/**
 * One service process slot: start(), kill() (SIGKILL by default), start() again, with the same
 * environment. `url` is null while no process is listening.
 */
export class Replica {
  url: string | null = null;
  /** Starts so far. */
  starts = 0;
  /** Log lines at warn level or above, across every process of this slot. */
  readonly warnings: LogLine[] = [];
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    t: TestContext,
    private readonly env: Record<string, string>,
    readonly name = 'replica',
  ) {
    t.after(() => this.kill());
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Spawns a process and resolves with its URL once it logs `listening` (within 15 s). */
  async start(): Promise<string> {
    assert.equal(this.child, null, `${this.name} is already running`);
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !SCRUBBED.test(k)));
    const child = spawn(process.execPath, [...SERVE_NODE_FLAGS, BIN, 'serve'], {
      env: { ...base, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', AUTH: 'on', TOKENS_FILE: devTokensFile(), ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.starts++;
    this.exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4_000)));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} did not listen within 15 s\n${stderr}`)), 15_000);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${String(code ?? signal)}) before listening\n${stderr}`));
      });
      if (child.stdout === null) return reject(new Error(`${this.name} has no stdout`));
      onJsonLines(child.stdout, (parsed, text) => {
        const line = (parsed ?? { level: 40, msg: text }) as LogLine;
        if ((line.level ?? 0) >= 40 && this.warnings.length < 1_000) this.warnings.push(line);
        if (line.msg === 'listening' && typeof line.url === 'string') {
          clearTimeout(timer);
          resolve(line.url);
        }
      });
    }).catch(async (e: unknown) => {
      await this.kill();
      throw e;
    });
    this.url = url;
    registerService(url);
    void this.exited.then(() => unregisterService(url));
    return url;
  }

  /** Sends `signal` (SIGKILL by default) and waits for the process to be gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (child === null) return;
    this.url = null;
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(killer);
    this.child = null;
  }

  /** Lines logging a ledger conflict alert (a part_id sent with a different body). */
  conflictAlerts(): LogLine[] {
    return this.warnings.filter((l) => l.alert === 'LedgerIntentConflict');
  }
}

export interface Answer {
  status: number;
  replayed: boolean;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test assertions read any member
  json: any;
  text: string;
}

/**
 * One HTTP call; null when the connection failed or was reset (the service being killed), which
 * tells nothing about what the service did with the request.
 */
export async function tryCall(url: string, method: string, path: string, body?: object | Uint8Array, timeoutMs = 20_000): Promise<Answer | null> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? null : body instanceof Uint8Array ? (body as Uint8Array<ArrayBuffer>) : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await res.text();
  } catch {
    return null;
  }
  assertFetchedConforms(url, method, path, res, text);
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, replayed: res.headers.get('idempotent-replayed') === 'true', json, text };
}

export async function mustCall(url: string, method: string, path: string, body?: object | Uint8Array): Promise<Answer> {
  const a = await tryCall(url, method, path, body);
  assert.ok(a !== null, `${method} ${path}: no answer from ${url}`);
  return a;
}

export function computeAt(url: string, epochId: string, triple: Triple, timeoutMs?: number): Promise<Answer | null> {
  return tryCall(url, 'POST', `/epochs/${epochId}/compute`, { ...triple }, timeoutMs);
}

/** A run the service acknowledged (answered 200 or 202): it must reach the ledger exactly once. */
export interface Acked {
  epochId: string;
  runKey: string;
  payees: number;
  /** totals.payout_minor of the answer: the sum the ledger must credit for this run. */
  payoutMinor: string;
  status: number;
}

/** The acknowledged run in a 200/202 compute answer. */
export function ackedOf(epochId: string, a: Answer): Acked {
  return { epochId, runKey: a.json.run_key, payees: a.json.counts.payees, payoutMinor: a.json.totals.payout_minor, status: a.status };
}

export const partsOfRun = (payees: number): number => Math.ceil(payees / PART_SIZE);

export interface OutboxRow {
  part_id: string;
  epoch_id: string;
  run_key: string;
  idx: number;
  count: number;
  state: string;
}

export async function outboxRows(s: Schema): Promise<OutboxRow[]> {
  return s.sql<OutboxRow[]>`SELECT part_id, epoch_id, run_key, idx, count, state FROM ${s.sql(`${s.name}.outbox`)} ORDER BY epoch_seq, idx`;
}

export async function bindings(s: Schema): Promise<Map<string, { runKey: string; inputsCid: string; policyHash: string }>> {
  const rows = await s.sql<{ epoch_id: string; run_key: string; inputs_cid: string; policy_hash: string }[]>`
    SELECT epoch_id, run_key, inputs_cid, policy_hash FROM ${s.sql(`${s.name}.epochs`)}`;
  return new Map(rows.map((r) => [r.epoch_id, { runKey: r.run_key, inputsCid: r.inputs_cid, policyHash: r.policy_hash }]));
}

/** Outbox rows not yet in a final state (pending or held). */
export async function liveParts(s: Schema): Promise<number> {
  const [r] = await s.sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM ${s.sql(`${s.name}.outbox`)} WHERE state IN ('pending', 'held')`;
  return r?.n ?? 0;
}

/**
 * What the ledger must show, whatever happened before: each record under its own part_id (the
 * stub keys records by part_id; the list is checked for repeats anyway), every first commit counted
 * once (accepted = records), no conflicting body ever sent, and nothing sent that was not published.
 */
export function assertNoPartTwice(records: readonly PartRecord[], stats: Stats, published: ReadonlySet<string>, where: string): void {
  const ids = records.map((r) => r.part_id);
  assert.equal(new Set(ids).size, ids.length, `${where}: a part_id recorded twice`);
  assert.equal(stats.accepted, records.length, `${where}: accepted ${stats.accepted} ≠ ${records.length} records (a part accepted twice)`);
  assert.equal(stats.conflict, 0, `${where}: the ledger saw a conflicting body`);
  assert.deepEqual(records.filter((r) => r.conflicts > 0).map((r) => r.part_id), [], `${where}: conflicts recorded`);
  const stray = ids.filter((id) => !published.has(id));
  assert.deepEqual(stray, [], `${where}: the ledger holds parts no published run has`);
}

/**
 * The stub's records and counters as of one instant. They come from two requests, and a drainer
 * may commit a part between them (records then lag `accepted`, which would read as a part accepted
 * twice): read the counters on both sides and retry until they agree. Counters only grow.
 */
export async function ledgerSnapshot(stub: SpawnedLedgerStub): Promise<{ records: PartRecord[]; stats: Stats }> {
  for (let tries = 0; ; tries++) {
    const before = await stub.admin.stats();
    const records = await stub.admin.parts();
    const stats = await stub.admin.stats();
    if (stats.accepted === before.accepted || tries >= 50) return { records, stats };
    await sleep(10);
  }
}

/**
 * Each acknowledged run is at the ledger exactly once: ceil(payees / 4096) records under its
 * run_key, indexes 0…count−1 each once, one credit per payee.
 */
export function assertRunsSettled(acked: readonly Acked[], records: readonly PartRecord[], where: string): void {
  const byRun = new Map<string, PartRecord[]>();
  for (const r of records) {
    const key = r.run_key ?? '';
    const list = byRun.get(key) ?? [];
    list.push(r);
    byRun.set(key, list);
  }
  for (const a of acked) {
    const got = byRun.get(a.runKey) ?? [];
    const want = partsOfRun(a.payees);
    assert.equal(got.length, want, `${where}: epoch ${a.epochId} (${a.status}) has ${got.length} of ${want} parts at the ledger`);
    assert.deepEqual(got.map((r) => r.part.index ?? -1).sort((x, y) => x - y), Array.from({ length: want }, (_, i) => i), `${where}: ${a.epochId} part indexes`);
    assert.ok(got.every((r) => r.part.count === want && r.epoch_id === a.epochId), `${where}: ${a.epochId} part counts`);
    assert.equal(got.reduce((n, r) => n + r.credits, 0), a.payees, `${where}: ${a.epochId}: one credit per payee`);
    assert.equal(String(got.reduce((n, r) => n + BigInt(r.sum_minor), 0n)), a.payoutMinor, `${where}: ${a.epochId}: credits sum to the payout`);
  }
}

/** Polls `probe` until true; false once `timeoutMs` has passed. */
export async function waitFor(timeoutMs: number, probe: () => Promise<boolean>, everyMs = 100): Promise<boolean> {
  const t0 = performance.now();
  for (;;) {
    if (await probe()) return true;
    if (performance.now() - t0 > timeoutMs) return false;
    await sleep(everyMs);
  }
}

/**
 * Waits (≤ timeoutMs) until every acknowledged run has all its parts at the ledger and no outbox
 * row is left pending or held; returns how long it took, or fails saying what is missing.
 */
export async function settle(stub: SpawnedLedgerStub, s: Schema, acked: readonly Acked[], timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  const want = new Map(acked.map((a) => [a.runKey, partsOfRun(a.payees)]));
  const done = await waitFor(timeoutMs, async () => {
    if ((await liveParts(s)) > 0) return false;
    const have = new Map<string, number>();
    for (const r of await stub.admin.parts()) have.set(r.run_key ?? '', (have.get(r.run_key ?? '') ?? 0) + 1);
    return [...want].every(([k, n]) => (have.get(k) ?? 0) >= n);
  });
  if (!done) {
    const rows = await outboxRows(s);
    const live = rows.filter((r) => r.state === 'pending' || r.state === 'held');
    const have = new Set((await stub.admin.parts()).map((r) => r.run_key));
    const missing = acked.filter((a) => !have.has(a.runKey)).map((a) => a.epochId);
    assert.fail(
      `not settled within ${timeoutMs} ms: ${live.length} outbox rows live (${JSON.stringify(live.slice(0, 3))}); ` +
        `acknowledged runs missing at the ledger: ${missing.length} ${JSON.stringify(missing.slice(0, 5))}`,
    );
  }
  return performance.now() - t0;
}

/** Stores an inputs document and its policy with the replicas' token; returns the compute triple. */
export async function seal(url: string, doc: { inputs: Uint8Array; policy: Uint8Array }): Promise<Triple> {
  const inputs = await mustCall(url, 'PUT', '/inputs', doc.inputs);
  assert.ok(inputs.status === 201 || inputs.status === 200, `PUT /inputs: ${inputs.status} ${inputs.text}`);
  const policy = await mustCall(url, 'PUT', '/policies', doc.policy);
  assert.ok(policy.status === 201 || policy.status === 200, `PUT /policies: ${policy.status} ${policy.text}`);
  return { inputs_cid: inputs.json.inputs_cid, policy_id: policy.json.policy_id, policy_hash: policy.json.policy_hash };
}

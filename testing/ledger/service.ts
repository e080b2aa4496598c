// Ledger system tests' own small harness: the real service as a child process
// (`bin/rewarder.js serve --dev`, memory stores) pointed at a real ledger stub process, plus the few
// HTTP calls the tests make. Every wait is bounded; every process started here is killed in t.after.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { SERVE_NODE_FLAGS } from '../../src/cli/serve-flags.js';
import { assertFetchedConforms, registerService, unregisterService } from '../contract.js';
import { onJsonLines } from '../json-lines.js';
import { type SpawnLedgerStubOptions, type SpawnedLedgerStub, spawnLedgerStub } from '../ledger-stub/client.js';

/** Repository root (this file runs as dist/testing/ledger/service.js). */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'rewarder.js');

export interface LogLine {
  msg?: string;
  event?: string;
  [key: string]: unknown;
}

export interface Service {
  url: string;
  pid: number;
  /** Every JSON line the service has logged so far. */
  logs: LogLine[];
}

/** Settings a test may not inherit from the environment it runs in. */
const SCRUBBED = /^(LEDGER_|DATABASE_|REWARDER_|AUTH$|TOKENS_FILE$|PORT$|HOST$|PROFILE$|LOG_LEVEL$|AUDIT_)/;

/** Starts the service with `env` on top of quick-to-test ledger settings; killed in t.after. */
export async function startService(t: TestContext, env: Record<string, string>): Promise<Service> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !SCRUBBED.test(k)));
  const child = spawn(process.execPath, [...SERVE_NODE_FLAGS, BIN, 'serve', '--dev'], {
    env: {
      ...base,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      SHUTDOWN_GRACE_MS: '200',
      CONCURRENCY_COMPUTE_WORKERS: '1',
      LEDGER_PROBE_INTERVAL_MS: '100',
      LEDGER_RECOVERY_WINDOW_MS: '500',
      LEDGER_DEADLINE_MS: '300',
      LEDGER_MAX_RETRIES: '2',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(killer);
  });

  const logs: LogLine[] = [];
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4_000)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not listen within 15 s\n${stderr}`)), 15_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${String(code)} before listening\n${stderr}`));
    });
    onJsonLines(child.stdout, (parsed, text) => {
      const line = (parsed ?? { text }) as LogLine;
      logs.push(line);
      if (line.msg === 'listening' && typeof line.url === 'string') {
        clearTimeout(timer);
        resolve(line.url);
      }
    });
  });
  registerService(url);
  void exited.then(() => unregisterService(url));
  return { url, pid: child.pid ?? -1, logs };
}

/** A real ledger stub process, killed in t.after. */
export async function startStub(t: TestContext, opts: SpawnLedgerStubOptions): Promise<SpawnedLedgerStub> {
  const stub = await spawnLedgerStub(opts);
  t.after(() => stub.kill('SIGKILL'));
  return stub;
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test assertions read any member
  json: any;
}

export async function call(url: string, method: string, path: string, body?: Uint8Array | object): Promise<Reply> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? null : body instanceof Uint8Array ? (body as Uint8Array<ArrayBuffer>) : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  assertFetchedConforms(url, method, path, res, text);
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: /metrics, for one
  }
  return { status: res.status, headers: res.headers, text, json };
}

export interface Triple {
  inputs_cid: string;
  policy_id: string;
  policy_hash: string;
}

/** Stores an inputs document and its policy; returns the compute triple. */
export async function seal(url: string, doc: { inputs: Uint8Array; policy: Uint8Array }): Promise<Triple> {
  const inputs = await call(url, 'PUT', '/inputs', doc.inputs);
  assert.ok(inputs.status === 201 || inputs.status === 200, `PUT /inputs: ${inputs.status} ${inputs.text}`);
  const policy = await call(url, 'PUT', '/policies', doc.policy);
  assert.ok(policy.status === 201 || policy.status === 200, `PUT /policies: ${policy.status} ${policy.text}`);
  return { inputs_cid: inputs.json.inputs_cid, policy_id: policy.json.policy_id, policy_hash: policy.json.policy_hash };
}

export function compute(url: string, epochId: string, triple: Triple, extra: Record<string, unknown> = {}): Promise<Reply> {
  return call(url, 'POST', `/epochs/${epochId}/compute`, { ...triple, ...extra });
}

export interface LedgerView {
  epoch_id: string;
  run_key: string;
  state: string;
  degraded: boolean;
  parts: Array<{ part_id: string; index: number; count: number; state: string; attempts: number; last_error: string | null }>;
}

export async function ledgerOf(url: string, epochId: string): Promise<LedgerView> {
  const r = await call(url, 'GET', `/epochs/${epochId}/ledger`);
  assert.equal(r.status, 200, `GET /epochs/${epochId}/ledger: ${r.text}`);
  return r.json as LedgerView;
}

/** One sample of a metric without labels, from the Prometheus text. */
export async function metric(url: string, name: string): Promise<number> {
  const r = await call(url, 'GET', '/metrics');
  const line = r.text.split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line !== undefined, `${name} missing from /metrics`);
  return Number(line.slice(name.length + 1));
}

/** Polls `probe` until it returns true; fails with `what` after `timeoutMs`. */
export async function until(what: string, timeoutMs: number, probe: () => Promise<boolean>, everyMs = 50): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (await probe()) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) assert.fail(`${what}: not within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

// System-test harness: the real service, either as a child process (`bin/rewarder.js serve`, as an
// operator runs it) or in-process through buildRuntime + listen with a real Piscina pool, always on
// 127.0.0.1 with real sockets. Every wait here is bounded; every process started here is killed by
// whoever holds its handle (tests do it in t.after).

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { SERVE_NODE_FLAGS } from '../src/cli/serve-flags.js';
import { loadConfig } from '../src/config.js';
import { type Runtime, buildRuntime } from '../src/runtime.js';
import { type Listening, listen } from '../src/server.js';
import { contractProblems, isContractChecked, registerService, unregisterService } from './contract.js';

/** Repository root (this file runs as dist/testing/harness.js). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'rewarder.js');
/** The compiled fault-injecting worker (testing/fault-worker.ts). */
export const FAULT_WORKER = fileURLToPath(new URL('./fault-worker.js', import.meta.url));

export type Env = Record<string, string | undefined>;

export interface LogLine {
  level?: number;
  msg?: string;
  [key: string]: unknown;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

// ---------------------------------------------------------------------------------------------
// Log collection, shared by both ways of running the service

/** Collects JSON log lines as they are written and lets tests wait for one, with a timeout. */
export class LogCollector {
  readonly lines: LogLine[] = [];
  private raw = '';
  private readonly waiters = new Set<{ pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();

  push(text: string): void {
    this.raw += text;
    let nl = this.raw.indexOf('\n');
    while (nl !== -1) {
      const line = this.raw.slice(0, nl);
      this.raw = this.raw.slice(nl + 1);
      nl = this.raw.indexOf('\n');
      let parsed: LogLine;
      try {
        const v: unknown = JSON.parse(line);
        parsed = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as LogLine) : { text: line };
      } catch {
        parsed = { text: line };
      }
      this.lines.push(parsed);
      for (const w of this.waiters) {
        if (w.pred(parsed)) {
          this.waiters.delete(w);
          w.resolve(parsed);
        }
      }
    }
  }

  /**
   * The first line from index `from` on (already seen or yet to come) matching `pred`; rejects
   * after `timeoutMs`. Take `lines.length` before an action to wait for what it logs.
   */
  waitFor(pred: (l: LogLine) => boolean, timeoutMs = 5_000, what = 'a matching log line', from = 0): Promise<LogLine> {
    const seen = this.lines.slice(from).find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        resolve: (l: LogLine) => {
          clearTimeout(timer);
          resolve(l);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(w);
    });
  }

  /** Lines seen from index `from` on (use `lines.length` as a mark before an action). */
  since(from: number): LogLine[] {
    return this.lines.slice(from);
  }
}

// ---------------------------------------------------------------------------------------------
// The server as a child process

export interface SpawnedServer {
  url: string;
  child: ChildProcess;
  pid: number;
  logs: LogCollector;
  stderr(): string;
  /** Settles when the process has exited. */
  exited: Promise<Exit>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with how it exited. Safe to call twice. */
  stop(graceMs?: number): Promise<Exit>;
}

/** Only what the service needs, so the developer's own environment cannot change a test. */
function childEnv(env: Env): NodeJS.ProcessEnv {
  // LOG_LEVEL info at least: the "listening" line the harness waits for is an info line.
  const out: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

function startChild(env: Env, args: string[], nodeFlags: string[] = []): { child: ChildProcess; logs: LogCollector; stderr: () => string; exited: Promise<Exit> } {
  const child = spawn(process.execPath, [...SERVE_NODE_FLAGS, ...nodeFlags, BIN, 'serve', ...args], { env: childEnv(env), cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs = new LogCollector();
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => logs.push(s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, logs, stderr: () => err, exited };
}

/**
 * Spawns `node bin/rewarder.js serve` with `env` (PORT=0 and HOST=127.0.0.1 unless given) and
 * resolves once its "listening" line names the URL. Rejects, after killing the child, if it exits
 * or says nothing within `startTimeoutMs`.
 */
export async function spawnServer(env: Env, opts: { args?: string[]; startTimeoutMs?: number; nodeFlags?: string[] } = {}): Promise<SpawnedServer> {
  const { child, logs, stderr, exited } = startChild(env, opts.args ?? [], opts.nodeFlags);
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  let listening: LogLine;
  try {
    listening = await Promise.race([
      logs.waitFor((l) => l.msg === 'listening' && typeof l.url === 'string', opts.startTimeoutMs ?? 10_000, 'the "listening" line'),
      exited.then((e) => {
        throw new Error(`server exited before listening (code ${e.code}, signal ${e.signal}): ${stderr().trim()}`);
      }),
    ]);
  } catch (e) {
    kill();
    throw e;
  }
  let stopping: Promise<Exit> | undefined;
  registerService(listening.url as string);
  void exited.then(() => unregisterService(listening.url as string));
  return {
    url: listening.url as string,
    child,
    pid: child.pid as number,
    logs,
    stderr,
    exited,
    stop(graceMs = 5_000) {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return exited;
        child.kill('SIGTERM');
        const timer = setTimeout(kill, graceMs);
        const e = await exited;
        clearTimeout(timer);
        return e;
      })();
      return stopping;
    },
  };
}

/** Runs `serve` expecting it to refuse to start: resolves with its exit and output (bounded). */
export async function runServeToExit(env: Env, timeoutMs = 30_000): Promise<Exit & { stdout: string; stderr: string }> {
  const { child, logs, stderr, exited } = startChild(env, []);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const e = await exited;
  clearTimeout(timer);
  return { ...e, stdout: logs.lines.map((l) => JSON.stringify(l)).join('\n'), stderr: stderr() };
}

// ---------------------------------------------------------------------------------------------
// The service in-process (real pool, real sockets), for injecting a worker module

export interface InProcessServer {
  url: string;
  rt: Runtime;
  listening: Listening;
  logs: LogCollector;
  close(): Promise<void>;
}

export async function startInProcess(env: Env, opts: { workerFile?: string } = {}): Promise<InProcessServer> {
  const config = loadConfig(childEnv({ LOG_LEVEL: 'info', ...env }));
  const logs = new LogCollector();
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = pino({ level: config.LOG_LEVEL }, sink);
  const rt = buildRuntime(config, { logger, ...(opts.workerFile !== undefined ? { workerFile: opts.workerFile } : {}) });
  try {
    await withTimeout(rt.pool.start(), 10_000, 'pool start');
    await withTimeout(rt.signingReady(), 10_000, 'signing keys');
  } catch (e) {
    await rt.close();
    throw e;
  }
  const listening = await listen(rt, config);
  registerService(listening.url);
  return { url: listening.url, rt, listening, logs, close: () => withTimeout(listening.shutdown(), 15_000, 'shutdown') };
}

// ---------------------------------------------------------------------------------------------
// HTTP

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  /** Milliseconds from sending to the end of the response. */
  ms: number;
  json<T = Record<string, unknown>>(): T;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  timeoutMs?: number;
}

/**
 * One request on a fresh connection (no pooling: a closed or reset connection affects only this
 * request). Resolves once the whole response is read, even if the server stops reading the body
 * we were still sending: what matters is what the client received. An answer from a service this
 * harness started is checked against the OpenAPI document (testing/contract.ts) and rejected
 * when it contradicts it.
 */
export function request(url: string, method: string, path: string, opts: RequestOptions = {}): Promise<Reply> {
  const t0 = performance.now();
  const checked = isContractChecked(url);
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = httpRequest(
      new URL(path, url),
      { method, headers: opts.headers ?? {}, agent: false, signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000) },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('error', reject);
        res.on('end', () => {
          answered = true;
          const body = Buffer.concat(parts);
          const text = body.toString('utf8');
          const problems = checked ? contractProblems(method, path, { status: res.statusCode ?? 0, headers: res.headers, body }) : [];
          if (problems.length > 0) {
            reject(new Error(`the answer contradicts the OpenAPI document (testing/contract.ts):\n  ${problems.join('\n  ')}`));
            return;
          }
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            text,
            ms: performance.now() - t0,
            json<T>() {
              return JSON.parse(text) as T;
            },
          });
        });
      },
    );
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    if (opts.body !== undefined) {
      // EPIPE after the server answered early is not the client's concern: the answer is read.
      req.end(opts.body);
    } else req.end();
  });
}

export const JSON_HEADERS = { 'content-type': 'application/json' };

export function get(url: string, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return request(url, 'GET', path, { headers });
}

export function put(url: string, path: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<Reply> {
  return request(url, 'PUT', path, { body, headers: { ...JSON_HEADERS, ...headers } });
}

export function post(url: string, path: string, body: unknown, headers: Record<string, string> = {}, timeoutMs?: number): Promise<Reply> {
  const text = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
  return request(url, 'POST', path, { body: text, headers: { ...JSON_HEADERS, ...headers }, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

// ---------------------------------------------------------------------------------------------
// Documents, tokens, temporary files

export const EXAMPLE = {
  inputs: join(ROOT, 'vectors', 'example', 'inputs.json'),
  policy: join(ROOT, 'vectors', 'example', 'policy.json'),
  manifest: join(ROOT, 'vectors', 'example', 'manifest-2026-01-01.json'),
  inputsCid: 'b3:915e47e7f5e6dcb39e5e129586e416123070411bb4307cbb8ed4bdc971e60cd9',
  policyHash: 'b3:ba421cee62a9e324e2dc3fbf61d53b5eeabc96fd22f27ec556412a18e1931854',
  policyId: 'example-1',
  commitment: 'b3:20a6880bf936032741a1dc0d285d46a4fe85ee11a7c0d3db8ac3be64e616e1c7',
  payoutsRoot: 'b3:d6bdc847ba63d60c47857cb7d5085ee333704038d8fea3790b2413c897fee5aa',
} as const;

/** A policy document over the example's kinds; `id` and `weight` make distinct hashes. */
export function policyDoc(id: string, weight = 1): string {
  return JSON.stringify({ schema: 'rewarder.policy/v1', id, rounding: 'floor', kinds: { bytes_served: { weight }, uptime_s: { weight: 1 } } });
}

export interface TokenSpec {
  tenant: string;
  scopes: string[];
  token: string;
  /** SPEC §10 programs; absent: the entry has none (the token then holds `default`). */
  programs?: string[];
  storeMaxBytes?: number;
}

/** Writes a tokens file (JSON array of {tenant, scopes, programs?, store_max_bytes?, sha256 hex of the token}); returns its path. */
export function writeTokensFile(dir: string, tokens: TokenSpec[], name = 'tokens.json'): string {
  const file = join(dir, name);
  const entries = tokens.map((t) => ({
    tenant: t.tenant,
    scopes: t.scopes,
    ...(t.programs === undefined ? {} : { programs: t.programs }),
    ...(t.storeMaxBytes === undefined ? {} : { store_max_bytes: t.storeMaxBytes }),
    sha256: createHash('sha256').update(t.token).digest('hex'),
  }));
  writeFileSync(file, JSON.stringify(entries));
  return file;
}

/** A temporary directory removed by the returned cleanup. */
export function tempDir(prefix = 'rewarder-system-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

// ---------------------------------------------------------------------------------------------
// Assertions and small utilities

export interface ErrorExpectation {
  status: number;
  code: string;
  reason?: string;
  /** The X-Corr-ID the request carried; absent: the server must have generated one. */
  corrId?: string;
  /** Strings that must appear nowhere in the response (tokens, raw input). */
  secrets?: string[];
}

/** The SPEC §8 error envelope, exactly, with X-Corr-ID echoed and nothing secret in it. */
export function assertErrorEnvelope(res: Reply, want: ErrorExpectation, label = ''): Record<string, unknown> {
  const where = `${label} → ${res.status} ${res.text.slice(0, 300)}`;
  assert.equal(res.status, want.status, where);
  assert.match(String(res.headers['content-type']), /^application\/json/, where);
  const doc = res.json<{ error: { code: string; message: string; corr_id: string; details: Record<string, unknown> } }>();
  assert.deepEqual(Object.keys(doc), ['error'], where);
  assert.deepEqual(Object.keys(doc.error).sort(), ['code', 'corr_id', 'details', 'message'], where);
  assert.equal(doc.error.code, want.code, where);
  assert.equal(typeof doc.error.message, 'string', where);
  assert.ok(doc.error.message.length > 0, where);
  assert.equal(typeof doc.error.details, 'object', where);
  assert.equal(typeof doc.error.details.reason, 'string', where);
  if (want.reason !== undefined) assert.equal(doc.error.details.reason, want.reason, where);
  const echoed = res.headers['x-corr-id'];
  assert.equal(typeof echoed, 'string', `${where}: X-Corr-ID missing`);
  assert.equal(doc.error.corr_id, echoed, where);
  if (want.corrId !== undefined) assert.equal(echoed, want.corrId, where);
  else assert.match(String(echoed), /^[A-Za-z0-9._:-]{8,128}$/, where);
  const everything = `${res.text}\n${JSON.stringify(res.headers)}`;
  for (const s of want.secrets ?? []) assert.ok(!everything.includes(s), `${where}: the response contains a secret (${s.slice(0, 12)}…)`);
  return doc.error.details;
}

/** Value of one sample of the Prometheus text exposition (0 when absent). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (m === null || m[1] !== name) continue;
    const got = parseLabels(m[2] ?? '');
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return 0;
}

export function parseLabels(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) out[m[1] as string] = (m[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  return out;
}

export async function metrics(url: string): Promise<string> {
  const res = await get(url, '/metrics');
  assert.equal(res.status, 200);
  return res.text;
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]);
}

/** Polls `check` every `everyMs` until it returns true or `timeoutMs` passes (then throws). */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string, everyMs = 20): Promise<void> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

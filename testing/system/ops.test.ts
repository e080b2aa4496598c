// Operations against real server processes: readiness, version, OpenAPI, the metrics exposition
// (promtool, which is required, plus our own format check), configuration reload by SIGHUP/SIGUSR1,
// and the SIGTERM drain.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generate } from '../../src/gen/generate.js';
import {
  EXAMPLE,
  type SpawnedServer,
  assertErrorEnvelope,
  get,
  metricValue,
  metrics,
  parseLabels,
  post,
  put,
  spawnServer,
  tempDir,
  until,
} from '../harness.js';
import { promtool } from '../promtool.js';

const LIMIT = { timeout: 30_000 };
const triple = { inputs_cid: EXAMPLE.inputsCid, policy_id: EXAMPLE.policyId, policy_hash: EXAMPLE.policyHash };
const tmp = tempDir();
const configFile = join(tmp.dir, 'rewarder.json');
let server: SpawnedServer | undefined;
let url = '';

before(async () => {
  writeFileSync(configFile, JSON.stringify({ TENANT_RPS_MAX: 100, MAX_INFLIGHT: 50 }));
  server = await spawnServer({ AUTH: 'off', REWARDER_CONFIG: configFile, INPUTS_MAX_BYTES: '123456', WORK_QUEUE_MAX: '40', BUILD_COMMIT: 'test-build-1' });
  url = server.url;
});

after(async () => {
  await server?.stop();
  tmp.remove();
});

test('/healthz and /readyz answer 200 when the service is healthy', LIMIT, async () => {
  for (const prefix of ['', '/rewarder']) {
    const health = await get(url, `${prefix}/healthz`);
    assert.equal(health.status, 200);
    const ready = await get(url, `${prefix}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.json(), { degraded: false, causes: [] });
  }
});

test('/version reports the build, the calculus version and the configured limits', LIMIT, async () => {
  const v = (await get(url, '/version')).json<{
    build: string;
    calculus: string;
    version: string;
    auth: string;
    native: { merkle: string; ml_dsa_signing: string };
    limits: Record<string, number>;
  }>();
  assert.equal(v.build, 'test-build-1');
  const native = process.env.REWARDER_ALLOW_NO_NATIVE === '1' ? v.native.merkle : 'native';
  assert.deepEqual(v.native, { merkle: native, ml_dsa_signing: native }, 'the C addon is built and in use');
  assert.equal(v.calculus, 'rewarder.calculus/v1');
  assert.match(v.version, /^\d+\.\d+\.\d+/);
  assert.equal(v.auth, 'off');
  assert.equal(v.limits.inputs_max_bytes, 123_456);
  assert.equal(v.limits.tenant_rps_max, 100, 'from the REWARDER_CONFIG file');
  assert.equal(v.limits.max_inflight, 50, 'from the REWARDER_CONFIG file');
  assert.equal(v.limits.work_queue_max, 40);
  for (const k of ['req_body_max_bytes', 'decomp_ratio_max', 'max_actors', 'max_events', 'default_deadline_ms', 'max_deadline_ms']) {
    assert.equal(typeof v.limits[k], 'number', k);
  }
});

test('/openapi.json is valid JSON describing every route and the strict compute body', LIMIT, async () => {
  type Doc = {
    openapi: string;
    servers: { url: string }[];
    paths: Record<string, Record<string, { operationId?: string; security?: unknown[]; requestBody?: { content: Record<string, { schema: { $ref: string } }> }; responses: Record<string, unknown> }>>;
    components: { schemas: Record<string, { type: string; properties: Record<string, unknown>; required: string[]; additionalProperties: boolean }> };
  };
  for (const prefix of ['', '/rewarder']) {
    const res = await get(url, `${prefix}/openapi.json`);
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const doc = JSON.parse(res.text) as Doc;
    assert.match(doc.openapi, /^3\./);
    assert.deepEqual(doc.servers.map((s) => s.url), ['/', '/rewarder']);
    for (const path of ['/inputs', '/inputs/{cid}', '/policies', '/policies/{policy_hash}', '/epochs/{epoch_id}/compute', '/epochs/{epoch_id}', '/epochs/{epoch_id}/payouts/{actor}', '/epochs/{epoch_id}/ledger', '/keys', '/healthz', '/readyz', '/metrics', '/version', '/openapi.json']) {
      assert.ok(doc.paths[path] !== undefined, `documents ${path}`);
    }
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, o] of Object.entries(ops)) assert.ok(o.operationId !== undefined && Array.isArray(o.security), `${method} ${path}: operationId and security`);
    }
    const compute = doc.paths['/epochs/{epoch_id}/compute']?.post;
    const ref = compute?.requestBody?.content['application/json']?.schema.$ref ?? '';
    const schema = doc.components.schemas[ref.replace('#/components/schemas/', '')];
    assert.ok(schema !== undefined, `the compute body schema ${ref}`);
    assert.equal(schema.type, 'object');
    assert.deepEqual(Object.keys(schema.properties).sort(), ['deadline_ms', 'dry_run', 'inputs_cid', 'notes', 'policy_hash', 'policy_id', 'supersedes']);
    assert.deepEqual([...schema.required].sort(), ['inputs_cid', 'policy_hash', 'policy_id']);
    assert.equal(schema.additionalProperties, false, 'strict: unknown members are refused');
    for (const status of ['200', '202', '400', '401', '403', '404', '409', '413', '415', '422', '429', '500', '503', '504']) assert.ok(status in (compute?.responses ?? {}), `documents ${status}`);
  }
});

/** A small check of the Prometheus text format; returns the problems found. */
function expositionProblems(text: string): string[] {
  const problems: string[] = [];
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const sampled = new Set<string>();
  const series = new Set<string>();
  const buckets = new Map<string, { le: number; v: number }[]>();
  const counts = new Map<string, number>();
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const familyOf = (name: string): string | undefined => {
    if (types.has(name)) return name;
    for (const suffix of ['_bucket', '_sum', '_count']) {
      const base = name.endsWith(suffix) ? name.slice(0, -suffix.length) : undefined;
      if (base !== undefined && (types.get(base) === 'histogram' || types.get(base) === 'summary')) return base;
    }
    return undefined;
  };
  if (!text.endsWith('\n')) problems.push('does not end with a newline');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m: RegExpExecArray | null;
    if ((m = new RegExp(`^# HELP (${NAME}) (.*)$`).exec(line)) !== null) {
      if (helps.has(m[1] as string)) problems.push(`HELP twice for ${m[1]}`);
      helps.add(m[1] as string);
    } else if ((m = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line)) !== null) {
      if (types.has(m[1] as string)) problems.push(`TYPE twice for ${m[1]}`);
      if (sampled.has(m[1] as string)) problems.push(`TYPE after samples for ${m[1]}`);
      types.set(m[1] as string, m[2] as string);
    } else if (line.startsWith('#')) {
      problems.push(`bad comment line: ${line}`);
    } else if ((m = new RegExp(`^(${NAME})(?:\\{((?:${NAME}="(?:[^"\\\\\\n]|\\\\.)*",?)*)\\})? (\\S+)(?: -?\\d+)?$`).exec(line)) !== null) {
      const [, name, labelText, value] = m as unknown as [string, string, string | undefined, string];
      const family = familyOf(name);
      if (family === undefined) problems.push(`sample without TYPE: ${name}`);
      else sampled.add(family);
      if (!/^([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]Inf|NaN)$/.test(value)) problems.push(`bad value: ${line}`);
      const labels = parseLabels(labelText ?? '');
      const key = `${name}{${Object.entries(labels).sort().map(([k, v]) => `${k}=${v}`).join(',')}}`;
      if (series.has(key)) problems.push(`duplicate series ${key}`);
      series.add(key);
      if (family !== undefined && types.get(family) === 'histogram') {
        const rest = Object.entries(labels).filter(([k]) => k !== 'le').sort().map(([k, v]) => `${k}=${v}`).join(',');
        if (name.endsWith('_bucket')) {
          if (labels.le === undefined) problems.push(`bucket without le: ${line}`);
          const list = buckets.get(`${family}{${rest}}`) ?? [];
          list.push({ le: labels.le === '+Inf' ? Infinity : Number(labels.le), v: Number(value) });
          buckets.set(`${family}{${rest}}`, list);
        } else if (name.endsWith('_count')) counts.set(`${family}{${rest}}`, Number(value));
      }
    } else {
      problems.push(`unparseable line: ${line}`);
    }
  }
  for (const name of types.keys()) if (!helps.has(name)) problems.push(`no HELP for ${name}`);
  for (const [key, list] of buckets) {
    for (let i = 1; i < list.length; i++) {
      const [prev, cur] = [list[i - 1], list[i]] as [{ le: number; v: number }, { le: number; v: number }];
      if (!(cur.le > prev.le && cur.v >= prev.v)) problems.push(`buckets not cumulative in ${key}`);
    }
    const last = list[list.length - 1];
    if (last?.le !== Infinity) problems.push(`no +Inf bucket in ${key}`);
    else if (counts.get(key) !== last.v) problems.push(`+Inf bucket ≠ _count in ${key}`);
  }
  return problems;
}

test('/metrics is a valid exposition with the metrics the service promises (promtool check metrics)', LIMIT, async () => {
  // Some traffic first, so labelled series and histograms have samples.
  await put(url, '/inputs', readFileSync(EXAMPLE.inputs));
  await put(url, '/policies', readFileSync(EXAMPLE.policy));
  assert.equal((await post(url, '/epochs/2026-01-01/compute', triple)).status, 200);
  await post(url, '/epochs/2026-01-01/compute', { ...triple, deadline_ms: 0 });
  await get(url, '/nope');
  const res = await get(url, '/metrics');
  assert.equal(res.status, 200);
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  const text = res.text;

  assert.deepEqual(expositionProblems(text), []);
  for (const family of [
    'reward_compute_latency_seconds',
    'reward_runs_total',
    'reward_invariant_fail_total',
    'rejected_total',
    'queue_depth',
    'inflight_requests',
    'http_request_duration_seconds',
    'deadline_enforced_total',
    'deadline_exceeded_by_seconds',
    'deadline_remaining_seconds',
    'inputs_cache_hits_total',
    'inputs_cache_misses_total',
    'config_reload_total',
  ]) {
    assert.match(text, new RegExp(`^# TYPE ${family} `, 'm'), `exports ${family}`);
  }
  assert.equal(metricValue(text, 'reward_runs_total', { status: 'published' }), 1);
  assert.equal(metricValue(text, 'rejected_total', { reason: 'deadline_on_arrival' }), 1);
  // HTTP series are labelled by route template, never by raw path.
  assert.ok(metricValue(text, 'http_request_duration_seconds_count', { route: '/epochs/:epoch/compute', method: 'POST', status: '200' }) >= 1);
  assert.ok(metricValue(text, 'http_request_duration_seconds_count', { route: 'unmatched', method: 'GET', status: '404' }) >= 1);
  assert.ok(!text.includes('2026-01-01'), 'no raw path or epoch id in a label');

  const checked = promtool(['check', 'metrics'], { input: text });
  assert.equal(checked.status, 0, `promtool check metrics: ${checked.out}`);
});

async function reload(signal: 'SIGHUP' | 'SIGUSR1', contents: string): Promise<{ ok: boolean; line: Record<string, unknown> }> {
  assert.ok(server !== undefined);
  writeFileSync(configFile, contents);
  const mark = server.logs.lines.length;
  server.child.kill(signal);
  const line = await server.logs.waitFor((l) => l.signal === signal && typeof l.msg === 'string' && l.msg.startsWith('configuration reload'), 5_000, `the ${signal} reload log line`, mark);
  return { ok: line.msg === 'configuration reloaded', line };
}

const limits = async () => (await get(url, '/version')).json<{ limits: Record<string, number> }>().limits;
const inputsPath = `/inputs/${EXAMPLE.inputsCid}`;

test('SIGHUP applies a valid config file: /version and the rate limit change at once', LIMIT, async () => {
  // Before: 100 per second, three rapid requests pass.
  for (let i = 0; i < 3; i++) assert.equal((await get(url, inputsPath)).status, 200);
  const before = await metrics(url);
  const r = await reload('SIGHUP', JSON.stringify({ TENANT_RPS_MAX: 2, MAX_INFLIGHT: 7, WORK_QUEUE_MAX: 9, LOG_LEVEL: 'info' }));
  assert.ok(r.ok, JSON.stringify(r.line));
  const l = await limits();
  assert.deepEqual([l.tenant_rps_max, l.max_inflight, l.work_queue_max], [2, 7, 9]);
  const statuses: number[] = [];
  let limited;
  for (let i = 0; i < 3; i++) {
    const res = await get(url, inputsPath);
    statuses.push(res.status);
    if (res.status === 429) limited = res;
  }
  assert.deepEqual(statuses, [200, 200, 429]);
  assert.ok(limited !== undefined);
  assert.equal(limited.headers['x-ratelimit-limit'], '2');
  const afterText = await metrics(url);
  assert.equal(metricValue(afterText, 'config_reload_total', { result: 'success' }) - metricValue(before, 'config_reload_total', { result: 'success' }), 1);
});

test('SIGHUP with an invalid file keeps every old value and counts a failed reload', LIMIT, async () => {
  const before = await metrics(url);
  const invalid = [
    '{"TENANT_RPS_MAX": ',
    '["TENANT_RPS_MAX", 5]',
    JSON.stringify({ TENANT_RPS_MAX: 0 }),
    JSON.stringify({ TENANT_RPS_MAX: 5, NO_SUCH_SETTING: 1 }),
    // Half valid: nothing of it may apply (all or none).
    JSON.stringify({ TENANT_RPS_MAX: 5, MAX_INFLIGHT: 0 }),
  ];
  for (const contents of invalid) {
    const r = await reload('SIGHUP', contents);
    assert.equal(r.ok, false, contents);
    assert.equal(typeof r.line.reason, 'string');
    const l = await limits();
    assert.deepEqual([l.tenant_rps_max, l.max_inflight, l.work_queue_max], [2, 7, 9], `unchanged after ${contents}`);
  }
  const afterText = await metrics(url);
  const delta = (result: string) => metricValue(afterText, 'config_reload_total', { result }) - metricValue(before, 'config_reload_total', { result });
  assert.equal(delta('failure'), invalid.length);
  assert.equal(delta('success'), 0);
  // Behaviour too: still 2 per second.
  await new Promise((r) => setTimeout(r, 1_100));
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await get(url, inputsPath)).status);
  assert.deepEqual(statuses, [200, 200, 429]);
  assert.equal(server?.child.exitCode, null, 'still running');
});

test('SIGUSR1 reloads the configuration like SIGHUP', LIMIT, async () => {
  const r = await reload('SIGUSR1', JSON.stringify({ TENANT_RPS_MAX: 40 }));
  assert.ok(r.ok, JSON.stringify(r.line));
  assert.equal((await limits()).tenant_rps_max, 40);
  assert.equal((await get(url, '/healthz')).status, 200);
});

/** Raw POST that sends its headers and part of its body now and the rest on `finish()`. */
function slowCompute(base: string, epoch: string, body: string): Promise<{ finish: () => void; response: Promise<string> }> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const s = connect({ port: Number(port), host: '127.0.0.1' });
    let data = '';
    const response = new Promise<string>((done) => s.on('close', () => done(data)));
    s.setEncoding('utf8');
    s.on('data', (d: string) => (data += d));
    s.on('error', reject);
    s.on('connect', () => {
      const half = Math.floor(body.length / 2);
      s.write(`POST /epochs/${epoch}/compute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body.slice(0, half)}`);
      resolve({ finish: () => s.write(body.slice(half)), response });
    });
  });
}

test('SIGTERM drains: readiness goes, in-flight requests finish with 200, the process exits 0', LIMIT, async (t) => {
  // A long rate grace: the half-sent body below waits for the drain on purpose.
  const d = await spawnServer({ AUTH: 'off', INPUTS_CACHE_MAX_BYTES: '0', BODY_RATE_GRACE_MS: '60000' });
  t.after(() => d.stop(1_000));
  assert.equal((await put(d.url, '/inputs', readFileSync(EXAMPLE.inputs))).status, 201);
  assert.equal((await put(d.url, '/policies', readFileSync(EXAMPLE.policy))).status, 201);
  const m = generate({ scale: 'M', seed: 5, form: 'row' });
  const mInputs = (await put(d.url, '/inputs', m.inputs)).json<{ inputs_cid: string }>().inputs_cid;
  const mPolicy = (await put(d.url, '/policies', m.policy)).json<{ policy_id: string; policy_hash: string }>();

  // In flight at the signal: a compute whose body is still arriving (received before admission,
  // src/http/intake.ts), and an M compute in the pool.
  const slow = await slowCompute(d.url, 'drain-slow', JSON.stringify(triple));
  await until(async () => metricValue(await metrics(d.url), 'body_intake_bodies') === 1, 3_000, 'the slow compute to be receiving');
  const running = post(d.url, '/epochs/drain-m/compute', { inputs_cid: mInputs, ...mPolicy });
  await until(async () => metricValue(await metrics(d.url), 'inflight_requests') === 1, 3_000, 'the M compute to be in flight');
  const mark = d.logs.lines.length;
  d.child.kill('SIGTERM');
  await d.logs.waitFor((l) => l.msg === 'draining', 3_000, 'the draining line', mark);

  // Not ready any more: 503 on a connection that gets through, refused once the listener is closed.
  const ready = await get(d.url, '/readyz').catch((e: NodeJS.ErrnoException) => e);
  if (ready instanceof Error) assert.match(String(ready.code), /ECONNREFUSED|ECONNRESET/);
  else {
    assert.equal(ready.status, 503);
    assert.ok(ready.json<{ causes: string[] }>().causes.includes('shutting_down'));
  }
  const late = await post(d.url, '/epochs/too-late/compute', triple).catch((e: NodeJS.ErrnoException) => e);
  if (!(late instanceof Error)) assertErrorEnvelope(late, { status: 503, code: 'UNAVAILABLE', reason: 'shutting_down' });

  const m200 = await running;
  assert.equal(m200.status, 200, m200.text);
  slow.finish();
  const raw = await slow.response;
  assert.match(raw, /^HTTP\/1\.1 200 /, raw.slice(0, 200));
  assert.match(raw, /"epoch_id":"drain-slow"/);

  const t0 = performance.now();
  const exit = await Promise.race([d.exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no exit within 5 s of the last answer')), 5_000))]);
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.ok(performance.now() - t0 < 5_000);
  assert.ok(d.logs.since(mark).some((l) => l.msg === 'stopped'), 'logged "stopped"');
});

/** One line from a TCP agent (HAProxy agent-check): connect, read until it closes. */
function agentSays(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let reply = '';
    const sock = connect(port, '127.0.0.1');
    sock.setEncoding('utf8').on('data', (d: string) => (reply += d));
    sock.on('end', () => resolve(reply));
    sock.on('error', reject);
    sock.setTimeout(3_000, () => sock.destroy(new Error('agent: no answer within 3 s')));
  });
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

test('SIGTERM with a balancer agent: the replica reports drain and keeps serving for SHUTDOWN_LEAVE_MS, then closes and exits 0', LIMIT, async (t) => {
  const agentPort = await freePort();
  const d = await spawnServer({ AUTH: 'off', LB_AGENT_PORT: String(agentPort), SHUTDOWN_LEAVE_MS: '2500' });
  t.after(() => d.stop(1_000));
  assert.equal((await put(d.url, '/inputs', readFileSync(EXAMPLE.inputs))).status, 201);
  assert.equal((await put(d.url, '/policies', readFileSync(EXAMPLE.policy))).status, 201);
  assert.equal(await agentSays(agentPort), 'ready\n');

  const mark = d.logs.lines.length;
  d.child.kill('SIGTERM');
  await d.logs.waitFor((l) => l.msg === 'draining', 3_000, 'the draining line', mark);
  const t0 = performance.now();
  assert.equal(await agentSays(agentPort), 'drain\n', 'the agent tells the balancer to route nothing new here');
  const ready = await get(d.url, '/readyz');
  assert.equal(ready.status, 503);
  assert.ok(ready.json<{ causes: string[] }>().causes.includes('shutting_down'));
  // Still serving while the balancer takes it out: a request routed here just before is answered.
  const during = await post(d.url, '/epochs/leaving-1/compute', triple);
  assert.equal(during.status, 200, during.text);
  assert.ok(performance.now() - t0 < 2_500, 'that request was answered inside the leave period');

  const exit = await Promise.race([d.exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no exit within 8 s')), 8_000))]);
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.ok(performance.now() - t0 >= 2_000, 'it left only after the leave period');
  await assert.rejects(agentSays(agentPort), /ECONNREFUSED/, 'the agent is gone with the process');
});

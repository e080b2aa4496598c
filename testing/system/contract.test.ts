// The error contract of SPEC §8, checked the same way for every route and every error class a
// client can cause here: status, code and reason; the exact envelope
// {error:{code,message,corr_id,details:{reason,…}}}; X-Corr-ID echoed when given and generated when
// absent; and no token or raw input anywhere in the answer. Two real server processes with AUTH on:
// A with generous rates and small body caps, B with TENANT_RPS_MAX=1 and MAX_INFLIGHT=1.
//
// Classes covered elsewhere with the same assertion (assertErrorEnvelope): 500 and the 503s of a
// failing pool (faults.test.ts), 413 of gzip bombs and 400 of corrupt gzip (edge.test.ts).
// 409 QUARANTINED is not reachable from outside: it needs a calculus invariant to fail, and the
// engine's invariants hold by construction for every valid document.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { type Socket, connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import {
  EXAMPLE,
  type ErrorExpectation,
  type Reply,
  type SpawnedServer,
  FAULT_WORKER,
  startInProcess,
  assertErrorEnvelope,
  bearer,
  get,
  metricValue,
  metrics,
  policyDoc,
  post,
  put,
  request,
  spawnServer,
  tempDir,
  until,
  writeTokensFile,
} from '../harness.js';

const LIMIT = { timeout: 60_000 };
const token = () => randomBytes(24).toString('base64url');
const T = { admin: token(), sealer: token(), runner: token(), inspector: token(), limited: token(), holder: token(), unknown: token() };
const ALL = ['rewarder.seal', 'rewarder.run', 'rewarder.inspect'];
const SECRETS = Object.values(T);
const inputsBytes = readFileSync(EXAMPLE.inputs);
const policyBytes = readFileSync(EXAMPLE.policy);
const triple = { inputs_cid: EXAMPLE.inputsCid, policy_id: EXAMPLE.policyId, policy_hash: EXAMPLE.policyHash };
const UNKNOWN_DIGEST = `b3:${'ab'.repeat(32)}`;
const PREFIXES = ['', '/rewarder'];

type Scope = 'rewarder.seal' | 'rewarder.run' | 'rewarder.inspect';
interface Route {
  name: string;
  method: string;
  path: string;
  scope: Scope;
  body?: string | Uint8Array;
}

/** One valid request per protected route (the epoch 2026-01-01 is bound in `before`). */
const ROUTES: Route[] = [
  { name: 'PUT /inputs', method: 'PUT', path: '/inputs', scope: 'rewarder.seal', body: inputsBytes },
  { name: 'GET /inputs/{cid}', method: 'GET', path: `/inputs/${EXAMPLE.inputsCid}`, scope: 'rewarder.inspect' },
  { name: 'PUT /policies', method: 'PUT', path: '/policies', scope: 'rewarder.seal', body: policyBytes },
  { name: 'GET /policies/{hash}', method: 'GET', path: `/policies/${EXAMPLE.policyHash}`, scope: 'rewarder.inspect' },
  { name: 'POST /epochs/{id}/compute', method: 'POST', path: '/epochs/2026-01-01/compute', scope: 'rewarder.run', body: JSON.stringify(triple) },
  { name: 'GET /epochs/{id}', method: 'GET', path: '/epochs/2026-01-01', scope: 'rewarder.inspect' },
  { name: 'GET /epochs/{id}/attestation', method: 'GET', path: '/epochs/2026-01-01/attestation', scope: 'rewarder.inspect' },
  { name: 'GET /epochs/{id}/payouts/{actor}', method: 'GET', path: '/epochs/2026-01-01/payouts/did:ron:bob', scope: 'rewarder.inspect' },
  { name: 'POST /epochs/{id}/preview', method: 'POST', path: '/epochs/2026-01-01/preview', scope: 'rewarder.run', body: JSON.stringify({ policy_id: EXAMPLE.policyId, policy_hash: EXAMPLE.policyHash }) },
  { name: 'GET /epochs/{id}/explain/{actor}', method: 'GET', path: '/epochs/2026-01-01/explain/did:ron:carol', scope: 'rewarder.inspect' },
];
const OPEN = ['/healthz', '/readyz', '/metrics', '/version', '/openapi.json'];
const WRONG_SCOPE: Record<Scope, string> = { 'rewarder.seal': T.runner, 'rewarder.run': T.inspector, 'rewarder.inspect': T.sealer };

let a: SpawnedServer | undefined;
let b: SpawnedServer | undefined;
let A = '';
let B = '';
const tmp = tempDir();
let otherPolicy = { policy_id: '', policy_hash: '' };
let tokensFile = '';

before(async () => {
  const tokens = writeTokensFile(tmp.dir, [
    { tenant: 'admin', scopes: ALL, token: T.admin },
    { tenant: 'sealer', scopes: ['rewarder.seal'], token: T.sealer },
    { tenant: 'runner', scopes: ['rewarder.run'], token: T.runner },
    { tenant: 'inspector', scopes: ['rewarder.inspect'], token: T.inspector },
    { tenant: 'limited', scopes: ALL, token: T.limited },
    { tenant: 'holder', scopes: ALL, token: T.holder },
  ]);
  tokensFile = tokens;
  const auth = { AUTH: 'on', TOKENS_FILE: tokens };
  [a, b] = await Promise.all([
    spawnServer({ ...auth, REQ_BODY_MAX_BYTES: '4096', INPUTS_MAX_BYTES: '65536', TENANT_RPS_MAX: '100000' }),
    spawnServer({ ...auth, TENANT_RPS_MAX: '1', MAX_INFLIGHT: '1' }),
  ]);
  A = a.url;
  B = b.url;
  const H = bearer(T.admin);
  assert.equal((await put(A, '/inputs', inputsBytes, H)).status, 201);
  assert.equal((await put(A, '/policies', policyBytes, H)).status, 201);
  const other = await put(A, '/policies', policyDoc('contract-other'), H);
  assert.equal(other.status, 201);
  otherPolicy = other.json();
  assert.equal((await post(A, '/epochs/2026-01-01/compute', triple, H)).status, 200);
});

after(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  tmp.remove();
});

interface Case {
  label: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  want: Omit<ErrorExpectation, 'corrId' | 'secrets'>;
  /** Raw input that must not come back. */
  secrets?: string[];
  check?: (details: Record<string, unknown>, res: Reply) => void;
}

let corrSeq = 0;

/** The shared contract: each case is sent twice, with an X-Corr-ID and without one. */
async function expectError(base: string, c: Case): Promise<void> {
  for (const given of [true, false]) {
    const corrId = given ? `contract-${++corrSeq}` : undefined;
    const headers = { ...(c.headers ?? {}), ...(corrId !== undefined ? { 'x-corr-id': corrId } : {}) };
    const res = await request(base, c.method, c.path, { headers, ...(c.body !== undefined ? { body: c.body } : {}) });
    const details = assertErrorEnvelope(
      res,
      { ...c.want, ...(corrId !== undefined ? { corrId } : {}), secrets: [...SECRETS, ...(c.secrets ?? [])] },
      `${c.label} (${given ? 'with' : 'without'} X-Corr-ID)`,
    );
    c.check?.(details, res);
  }
}

function json(tokenValue?: string): Record<string, string> {
  return { 'content-type': 'application/json', ...(tokenValue !== undefined ? bearer(tokenValue) : {}) };
}

function routeCase(r: Route, prefix: string, headers: Record<string, string>, label: string, want: Case['want']): Case {
  return {
    label: `${r.method} ${prefix}${r.path}: ${label}`,
    method: r.method,
    path: `${prefix}${r.path}`,
    headers: { ...(r.body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(r.body !== undefined ? { body: r.body } : {}),
    want,
  };
}

test('every protected route answers 401 without a token, with an unknown token and with a malformed header', LIMIT, async () => {
  for (const prefix of PREFIXES) {
    for (const r of ROUTES) {
      for (const [label, headers, reason] of [
        ['no token', {}, 'missing_token'],
        ['unknown token', bearer(T.unknown), 'unknown_token'],
        ['malformed Authorization', { authorization: `Basic ${T.admin}` }, 'malformed_authorization'],
      ] as const) {
        const c = routeCase(r, prefix, headers, label, { status: 401, code: 'UNAUTHENTICATED', reason });
        await expectError(A, { ...c, check: (_d, res) => assert.equal(res.headers['www-authenticate'], 'Bearer', c.label) });
      }
    }
  }
});

test('every protected route answers 403 to a known token without its scope', LIMIT, async () => {
  for (const prefix of PREFIXES) {
    for (const r of ROUTES) {
      const c = routeCase(r, prefix, bearer(WRONG_SCOPE[r.scope]), 'wrong scope', { status: 403, code: 'FORBIDDEN', reason: 'missing_scope' });
      await expectError(A, { ...c, check: (d) => assert.equal(d.scope, r.scope, c.label) });
    }
  }
});

test('operations routes are open without a token', LIMIT, async () => {
  for (const prefix of PREFIXES) {
    for (const path of OPEN) {
      const res = await get(A, `${prefix}${path}`);
      assert.equal(res.status, 200, `${prefix}${path} → ${res.status}`);
    }
  }
});

test('a malformed path parameter is a 400 naming the parameter', LIMIT, async () => {
  const H = bearer(T.admin);
  const long = 'e'.repeat(129);
  const cases: [string, string, string][] = [
    ['GET', '/inputs/not-a-cid', 'cid'],
    ['GET', `/inputs/${EXAMPLE.inputsCid.toUpperCase()}`, 'cid'],
    ['GET', '/policies/b3:1234', 'hash'],
    ['GET', '/epochs/bad$id', 'epoch'],
    ['GET', `/epochs/${long}`, 'epoch'],
    ['GET', '/epochs/bad$id/attestation', 'epoch'],
    ['GET', '/epochs/bad$id/payouts/did:ron:bob', 'epoch'],
    ['GET', '/epochs/bad$id/explain/did:ron:bob', 'epoch'],
    ['GET', '/epochs/2026-01-01/explain/did%3Aron%01x', 'actor'],
    ['POST', '/epochs/bad$id/compute', 'epoch'],
    ['POST', '/epochs/bad$id/preview', 'epoch'],
    ['POST', `/epochs/${long}/compute`, 'epoch'],
  ];
  for (const prefix of PREFIXES) {
    for (const [method, path, param] of cases) {
      await expectError(A, {
        label: `${method} ${prefix}${path}`,
        method,
        path: `${prefix}${path}`,
        headers: method === 'POST' ? json(T.admin) : H,
        ...(method === 'POST' ? { body: JSON.stringify(triple) } : {}),
        want: { status: 400, code: 'BAD_REQUEST', reason: 'invalid_path' },
        check: (d) => assert.equal(d.param, param),
      });
    }
  }
});

test('unknown inputs, policies, epochs, payees, attestations and routes are 404s', LIMIT, async () => {
  const H = bearer(T.admin);
  const cases: [string, string, string, unknown?][] = [
    ['GET', `/inputs/${UNKNOWN_DIGEST}`, 'unknown_inputs'],
    ['GET', `/policies/${UNKNOWN_DIGEST}`, 'unknown_policy'],
    ['GET', '/epochs/never-computed', 'unknown_epoch'],
    ['GET', '/epochs/never-computed/payouts/did:ron:bob', 'unknown_epoch'],
    ['GET', '/epochs/never-computed/attestation', 'unknown_epoch'],
    ['GET', '/epochs/never-computed/explain/did:ron:bob', 'unknown_epoch'],
    ['GET', '/epochs/2026-01-01/payouts/did:ron:carol', 'not_a_payee'], // below min_payout
    ['GET', '/epochs/2026-01-01/payouts/did:ron:nobody', 'not_a_payee'],
    ['GET', '/epochs/2026-01-01/attestation', 'signing_off'],
    ['POST', '/epochs/fresh-404/compute', 'unknown_inputs', { ...triple, inputs_cid: UNKNOWN_DIGEST }],
    ['POST', '/epochs/fresh-404/compute', 'unknown_policy', { ...triple, policy_hash: UNKNOWN_DIGEST }],
    ['GET', '/no-such-route', 'no_route'],
    ['DELETE', '/inputs', 'no_route'],
    ['PUT', '/epochs/2026-01-01', 'no_route'],
  ];
  for (const prefix of PREFIXES) {
    for (const [method, path, reason, body] of cases) {
      await expectError(A, {
        label: `${method} ${prefix}${path}`,
        method,
        path: `${prefix}${path}`,
        headers: body !== undefined ? json(T.admin) : H,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        want: { status: 404, code: 'NOT_FOUND', reason },
      });
    }
  }
});

test('a body that is not application/json or uses an encoding other than gzip is a 415', LIMIT, async () => {
  const bodied = ROUTES.filter((r) => r.body !== undefined);
  for (const prefix of PREFIXES) {
    for (const r of bodied) {
      for (const [label, headers, reason] of [
        ['text/plain', { 'content-type': 'text/plain' }, 'unsupported_media_type'],
        ['no content type', { 'content-type': '' }, 'unsupported_media_type'],
        ['form', { 'content-type': 'application/x-www-form-urlencoded' }, 'unsupported_media_type'],
        ['br encoding', { 'content-encoding': 'br' }, 'unsupported_encoding'],
        ['deflate encoding', { 'content-encoding': 'deflate' }, 'unsupported_encoding'],
      ] as const) {
        const c = routeCase(r, prefix, { ...bearer(T.admin), ...headers }, label, { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', reason });
        if (c.headers?.['content-type'] === '') delete c.headers['content-type'];
        await expectError(A, c);
      }
    }
  }
});

test('a body over its cap is a 413 the client receives', LIMIT, async () => {
  const H = json(T.admin);
  const big = (n: number) => `{"notes":"${'x'.repeat(n)}"}`;
  for (const prefix of PREFIXES) {
    for (const [path, method, body, limit] of [
      ['/inputs', 'PUT', big(70_000), 65_536],
      ['/policies', 'PUT', big(5_000), 4_096],
      ['/epochs/too-big/compute', 'POST', big(5_000), 4_096],
    ] as const) {
      await expectError(A, {
        label: `${method} ${prefix}${path} ${body.length} bytes`,
        method,
        path: `${prefix}${path}`,
        headers: H,
        body,
        want: { status: 413, code: 'PAYLOAD_TOO_LARGE', reason: 'body_too_large' },
        check: (d) => assert.equal(d.limit_bytes, limit),
      });
    }
  }
});

test('invalid compute bodies and documents are 400s that name the place without echoing the input', LIMIT, async () => {
  const H = json(T.admin);
  const secret = `LEAK-${randomBytes(6).toString('hex')}`;
  const longKey = `${'k'.repeat(40)}${secret}`;
  const leakyInputs = inputsBytes.toString().replace('"actor":"did:ron:alice","kind":"bytes_served"', `"actor":"did:ron:${secret}","kind":"bytes_served"`);
  const cases: { label: string; method: string; path: string; body: string; headers?: Record<string, string>; reason: string; path$?: string }[] = [
    { label: 'bad JSON', method: 'POST', path: '/epochs/e400/compute', body: `{"notes":"${secret}`, reason: 'invalid_json' },
    { label: 'not an object', method: 'POST', path: '/epochs/e400/compute', body: `["${secret}"]`, reason: 'invalid_request', path$: '$' },
    {
      label: 'unknown member',
      method: 'POST',
      path: '/epochs/e400/compute',
      body: JSON.stringify({ ...triple, [longKey]: secret }),
      reason: 'invalid_request',
    },
    {
      label: 'duplicate member names',
      method: 'POST',
      path: '/epochs/e400/compute',
      body: `{"inputs_cid":"${EXAMPLE.inputsCid}","policy_id":"example-1","policy_hash":"${EXAMPLE.policyHash}","notes":"${secret}","notes":"x"}`,
      reason: 'invalid_json',
    },
    { label: 'missing member', method: 'POST', path: '/epochs/e400/compute', body: JSON.stringify({ inputs_cid: EXAMPLE.inputsCid, policy_id: 'example-1' }), reason: 'invalid_request', path$: '$.policy_hash' },
    { label: 'wrong type', method: 'POST', path: '/epochs/e400/compute', body: JSON.stringify({ ...triple, inputs_cid: secret }), reason: 'invalid_request', path$: '$.inputs_cid' },
    // The body parser holds requests to the sealed-document number rules: no sign, no fraction.
    { label: 'negative deadline_ms', method: 'POST', path: '/epochs/e400/compute', body: JSON.stringify({ ...triple, deadline_ms: -1 }), reason: 'invalid_json' },
    { label: 'deadline_ms too large', method: 'POST', path: '/epochs/e400/compute', body: JSON.stringify({ ...triple, deadline_ms: 2 ** 53 }), reason: 'invalid_json' },
    { label: 'dry_run not a boolean', method: 'POST', path: '/epochs/e400/compute', body: JSON.stringify({ ...triple, dry_run: secret }), reason: 'invalid_request', path$: '$.dry_run' },
    { label: 'malformed X-Deadline', method: 'POST', path: '/epochs/e400/compute', body: JSON.stringify(triple), headers: { 'x-deadline': secret }, reason: 'invalid_deadline' },
    { label: 'malformed deadline_ms query', method: 'POST', path: `/epochs/e400/compute?deadline_ms=${secret}`, body: JSON.stringify(triple), reason: 'invalid_deadline' },
    { label: 'inputs with an unlisted actor', method: 'PUT', path: '/inputs', body: leakyInputs, reason: 'invalid_document', path$: '$.events[0].actor' },
    { label: 'inputs that are not JSON', method: 'PUT', path: '/inputs', body: `{"schema":"${secret}`, reason: 'invalid_document' },
    { label: 'a policy sent as inputs', method: 'PUT', path: '/inputs', body: policyBytes.toString(), reason: 'invalid_document', path$: '$.schema' },
    { label: 'policy with a bad rounding', method: 'PUT', path: '/policies', body: policyBytes.toString().replace('largest_remainder', secret), reason: 'invalid_document', path$: '$.rounding' },
  ];
  for (const prefix of PREFIXES) {
    for (const c of cases) {
      await expectError(A, {
        label: `${c.label} (${c.method} ${prefix}${c.path})`,
        method: c.method,
        path: `${prefix}${c.path}`,
        headers: { ...H, ...(c.headers ?? {}) },
        body: c.body,
        want: { status: 400, code: 'BAD_REQUEST', reason: c.reason },
        secrets: [secret],
        check: (d) => {
          if (c.path$ !== undefined) assert.equal(d.path, c.path$, c.label);
          if (c.reason === 'invalid_json' || c.reason === 'invalid_request' || c.reason === 'invalid_document') assert.equal(typeof d.problem, 'string', c.label);
        },
      });
    }
  }
});

test('a policy_id that does not name the stored policy is a 422', LIMIT, async () => {
  for (const prefix of PREFIXES) {
    for (const epoch of ['fresh-422', '2026-01-01']) {
      await expectError(A, {
        label: `${prefix} ${epoch}`,
        method: 'POST',
        path: `${prefix}/epochs/${epoch}/compute`,
        headers: json(T.admin),
        body: JSON.stringify({ ...triple, policy_id: 'not-example-1' }),
        want: { status: 422, code: 'POLICY_MISMATCH', reason: 'policy_id_mismatch' },
        check: (d) => assert.equal(d.stored_policy_id, 'example-1'),
      });
    }
  }
});

test('another triple for a bound epoch is a 409 CONFLICT in the envelope', LIMIT, async () => {
  for (const prefix of PREFIXES) {
    await expectError(A, {
      label: prefix,
      method: 'POST',
      path: `${prefix}/epochs/2026-01-01/compute`,
      headers: json(T.admin),
      body: JSON.stringify({ inputs_cid: EXAMPLE.inputsCid, ...otherPolicy }),
      want: { status: 409, code: 'CONFLICT', reason: 'epoch_bound' },
      check: (d) => assert.deepEqual(d.differs, ['policy_hash']),
    });
  }
});

test('an expired deadline is a 504 before any work, with the deadline details and headers', LIMIT, async () => {
  const before = await metrics(A);
  const past = new Date(Date.now() - 2_000).toISOString();
  const cases: [string, string, Record<string, string>, unknown][] = [
    ['X-Deadline 2 s ago', '/epochs/late-1/compute', { 'x-deadline': past }, triple],
    ['deadline_ms 0 in the body', '/epochs/late-2/compute', {}, { ...triple, deadline_ms: 0 }],
    ['deadline_ms 0 in the query', '/epochs/late-3/compute?deadline_ms=0', {}, triple],
  ];
  for (const prefix of PREFIXES) {
    for (const [label, path, headers, body] of cases) {
      await expectError(A, {
        label: `${label} (${prefix})`,
        method: 'POST',
        path: `${prefix}${path}`,
        headers: { ...json(T.admin), ...headers },
        body: JSON.stringify(body),
        want: { status: 504, code: 'DEADLINE_EXCEEDED', reason: 'deadline_arrival' },
        check: (d, res) => {
          for (const k of ['deadline_ms', 'elapsed_ms', 'exceeded_by_ms']) assert.equal(typeof d[k], 'number', `${label}: details.${k}`);
          const by = d.exceeded_by_ms as number;
          assert.ok(by >= 0, label);
          if (label.startsWith('X-Deadline')) {
            // A deadline already past is a budget of 0 (never negative), late by about 2 s.
            assert.equal(d.deadline_ms, 0, label);
            assert.ok(by >= 1_900 && by < 10_000, `${label}: exceeded by about 2 s, got ${by}`);
          } else {
            assert.ok(Math.abs((d.elapsed_ms as number) - (d.deadline_ms as number) - by) <= 1, `${label}: exceeded_by = elapsed − deadline`);
          }
          assert.equal(res.headers['x-deadline-exceeded-by-ms'], String(by));
          assert.match(String(res.headers['retry-after']), /^[1-9][0-9]*$/);
        },
      });
    }
  }
  const afterText = await metrics(A);
  const delta = (name: string, labels: Record<string, string> = {}) => metricValue(afterText, name, labels) - metricValue(before, name, labels);
  assert.equal(delta('reward_compute_latency_seconds_count'), 0, 'nothing reached the pool');
  assert.equal(delta('rejected_total', { reason: 'deadline_on_arrival' }), 12);
  assert.equal(delta('deadline_enforced_total', { stage: 'arrival' }), 12);
  assert.equal((await get(A, '/epochs/late-1', bearer(T.admin))).status, 404);
});

/** Sends the route's request as `limited` until one is refused (the bucket holds one token). */
async function until429(r: Route, prefix: string, corrId?: string): Promise<Reply> {
  for (let i = 0; i < 5; i++) {
    const res = await request(B, r.method, `${prefix}${r.path}`, {
      headers: { ...bearer(T.limited), ...(r.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(corrId !== undefined ? { 'x-corr-id': corrId } : {}) },
      ...(r.body !== undefined ? { body: r.body } : {}),
    });
    if (res.status === 429) return res;
  }
  throw new Error(`${r.name}: no 429 within 5 rapid requests at TENANT_RPS_MAX=1`);
}

test('a tenant over its rate gets a 429 with Retry-After and X-RateLimit-* on every protected route', LIMIT, async () => {
  for (const prefix of PREFIXES) {
    for (const r of ROUTES) {
      for (const corrId of [`rate-${++corrSeq}`, undefined]) {
        const res = await until429(r, prefix, corrId);
        const d = assertErrorEnvelope(res, { status: 429, code: 'RATE_LIMITED', reason: 'rate_limited', ...(corrId !== undefined ? { corrId } : {}), secrets: SECRETS }, `${r.name} ${prefix}`);
        assert.match(String(res.headers['retry-after']), /^[1-9][0-9]*$/);
        assert.equal(res.headers['x-ratelimit-limit'], '1');
        assert.equal(res.headers['x-ratelimit-remaining'], '0');
        assert.equal(typeof d.retry_after_sec, 'number');
      }
    }
  }
});

/**
 * Holds the one in-flight slot of `base` with a compute whose whole body has arrived and whose task
 * never ends (the fault worker's hang-…): a body still arriving would not hold one (bodies are
 * received before admission, src/http/intake.ts).
 */
function holdSlot(base: string): Promise<Socket> {
  const { port, hostname } = new URL(base);
  // A dry run: it hangs all the same, and binds no window (the example's is bound as 2026-01-01).
  const body = JSON.stringify({ ...triple, deadline_ms: 60_000, dry_run: true });
  return new Promise((resolve, reject) => {
    const s = connect({ port: Number(port), host: hostname }, () => {
      s.write(
        `POST /epochs/hang-holder/compute HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${T.holder}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
      resolve(s);
    });
    s.on('error', reject);
  });
}

test('every admitted route answers 503 at the in-flight cap while operations routes still answer', LIMIT, async () => {
  // Its own service (in-process, with the fault worker) so a compute can hang and hold the slot.
  const c1 = await startInProcess({ AUTH: 'on', TOKENS_FILE: tokensFile, MAX_INFLIGHT: '1', CONCURRENCY_COMPUTE_WORKERS: '1' }, { workerFile: FAULT_WORKER });
  const B = c1.url;
  try {
    await holdOn(B);
  } finally {
    await c1.close();
  }
});

async function holdOn(B: string): Promise<void> {
  const H = bearer(T.admin);
  assert.equal((await put(B, '/inputs', inputsBytes, H)).status, 201);
  assert.equal((await put(B, '/policies', policyBytes, H)).status, 201);
  assert.equal((await post(B, '/epochs/2026-01-01/compute', triple, H)).status, 200);
  // The holder computes with documents it sealed itself (SPEC §10).
  assert.equal((await put(B, '/inputs', inputsBytes, bearer(T.holder))).status, 201);
  assert.equal((await put(B, '/policies', policyBytes, bearer(T.holder))).status, 201);
  const holder = await holdSlot(B);
  try {
    await until(async () => metricValue(await metrics(B), 'inflight_requests') === 1, 5_000, 'the held request to be in flight');
    for (const prefix of PREFIXES) {
      for (const r of ROUTES) {
        const c = routeCase(r, prefix, bearer(T.admin), 'in-flight cap', { status: 503, code: 'OVERLOADED', reason: 'inflight' });
        await expectError(B, { ...c, check: (_d, res) => assert.match(String(res.headers['retry-after']), /^[1-9][0-9]*$/) });
      }
      for (const path of OPEN) assert.equal((await get(B, `${prefix}${path}`)).status, 200, `${prefix}${path} under overload`);
    }
    const m = await metrics(B);
    assert.ok(metricValue(m, 'rejected_total', { reason: 'inflight' }) >= 32);
  } finally {
    holder.destroy();
  }
  // The slot is given back once the held request ends.
  await until(async () => metricValue(await metrics(B), 'inflight_requests') === 0, 5_000, 'the slot to be released');
  const ok = await get(B, `/inputs/${UNKNOWN_DIGEST}`, bearer(T.admin));
  assert.equal(ok.status, 404, 'admitted again (and answered normally)');
}

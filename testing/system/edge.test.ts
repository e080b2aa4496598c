// Hostile and slow clients against a real server process with small caps and short timeouts:
// INPUTS_MAX_BYTES=64 KiB (also the decoded cap for inputs), REQ_BODY_MAX_BYTES=4 KiB,
// HEADERS_TIMEOUT_MS=1000, REQUEST_TIMEOUT_MS=2000, CONNECTIONS_CHECK_MS=250, TENANT_RPS_MAX=100000.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Socket, connect } from 'node:net';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  EXAMPLE,
  type SpawnedServer,
  assertErrorEnvelope,
  get,
  metricValue,
  metrics,
  put,
  request,
  spawnServer,
  until,
} from '../harness.js';

const LIMIT = { timeout: 30_000 };
const HEADERS_TIMEOUT_MS = 1_000;
const REQUEST_TIMEOUT_MS = 2_000;
const CHECK_MS = 250;
/**
 * Scheduling slack on a busy 2-core box. Small next to what these tests guard against: Node's
 * default connectionsCheckingInterval would let a stalled socket live 30 s.
 */
const SLACK_MS = 2_000;
const INPUTS_MAX = 65_536;
const inputsText = readFileSync(EXAMPLE.inputs, 'utf8');

let server: SpawnedServer | undefined;
let url = '';
let port = 0;

before(async () => {
  server = await spawnServer({
    AUTH: 'off',
    INPUTS_MAX_BYTES: String(INPUTS_MAX),
    REQ_BODY_MAX_BYTES: '4096',
    HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
    REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    CONNECTIONS_CHECK_MS: String(CHECK_MS),
    // The slow-loris test's normal client loops as fast as the server answers for 3 s; at the
    // default 100 requests/s per tenant a fast server turns that loop into 429s (rate limits are
    // contract.test.ts's subject, not this suite's).
    TENANT_RPS_MAX: '100000',
  });
  url = server.url;
  port = Number(new URL(url).port);
});

after(async () => {
  await server?.stop();
});

const GZ = { 'content-encoding': 'gzip' };

test('an upload over INPUTS_MAX_BYTES gets a clean 413 whether its length is declared or chunked', LIMIT, async () => {
  const body = Buffer.alloc(1024 * 1024, 0x20);
  const declared = await request(url, 'PUT', '/inputs', { headers: { 'content-type': 'application/json' }, body });
  assertErrorEnvelope(declared, { status: 413, code: 'PAYLOAD_TOO_LARGE', reason: 'body_too_large' }, 'declared');
  assert.equal(declared.headers.connection, 'close');
  const chunked = await request(url, 'PUT', '/inputs', { headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, body });
  assertErrorEnvelope(chunked, { status: 413, code: 'PAYLOAD_TOO_LARGE', reason: 'body_too_large' }, 'chunked');
  // Just at the cap is not too large (it is then judged as a document: this one is valid).
  const padded = inputsText + ' '.repeat(INPUTS_MAX - inputsText.length);
  const atCap = await put(url, '/inputs', padded);
  assert.equal(atCap.status, 201, atCap.text);
  assert.equal(atCap.json<{ bytes: number }>().bytes, INPUTS_MAX);
  const over = await put(url, '/inputs', `${padded} `);
  assertErrorEnvelope(over, { status: 413, code: 'PAYLOAD_TOO_LARGE', reason: 'body_too_large' }, 'one byte over');
});

test('a 16 MiB upload, more than the server will drain, still gets its 413 rather than a reset', LIMIT, async () => {
  // Past the drain budget the server answers and closes without reading the rest.
  const res = await request(url, 'PUT', '/inputs', { headers: { 'content-type': 'application/json' }, body: Buffer.alloc(16 * 1024 * 1024, 0x20) });
  assertErrorEnvelope(res, { status: 413, code: 'PAYLOAD_TOO_LARGE', reason: 'body_too_large' });
  assert.equal((await get(url, '/healthz')).status, 200);
});

test('a gzip bomb is refused with 413 without being inflated, and the server stays small', LIMIT, async () => {
  // 40 gzip members of 1 MiB of zeros each: about 40 KB on the wire (under the wire cap),
  // 40 MiB decoded. Multi-member streams count as one.
  const member = gzipSync(Buffer.alloc(1024 * 1024));
  const bomb = Buffer.concat(Array.from({ length: 40 }, () => member));
  assert.ok(bomb.length < INPUTS_MAX);
  const declared = await request(url, 'PUT', '/inputs', { headers: { 'content-type': 'application/json', ...GZ }, body: bomb });
  assertErrorEnvelope(declared, { status: 413, code: 'PAYLOAD_TOO_LARGE' }, 'declared');
  const chunked = await request(url, 'PUT', '/inputs', { headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', ...GZ }, body: bomb });
  const d = assertErrorEnvelope(chunked, { status: 413, code: 'PAYLOAD_TOO_LARGE' }, 'chunked');
  assert.ok(d.reason === 'decoded_too_large' || d.reason === 'decompression_ratio', String(d.reason));
  const toCompute = await request(url, 'POST', '/epochs/bomb/compute', { headers: { 'content-type': 'application/json', ...GZ }, body: gzipSync(Buffer.alloc(1024 * 1024, 0x20)) });
  assertErrorEnvelope(toCompute, { status: 413, code: 'PAYLOAD_TOO_LARGE' }, 'compute');
  const rss = metricValue(await metrics(url), 'process_resident_memory_bytes');
  assert.ok(rss > 0 && rss < 400 * 1024 * 1024, `RSS ${Math.round(rss / 1048576)} MiB after the bombs`);
});

/** The example inputs with trailing whitespace, gzipped, at a decoded÷wire ratio near `target`. */
function atRatio(target: number): { body: Buffer; decoded: number; ratio: number } {
  let best: { body: Buffer; decoded: number; ratio: number } | undefined;
  for (let spaces = 0; spaces < 20_000; spaces += 1) {
    const doc = Buffer.from(inputsText + ' '.repeat(spaces));
    const body = gzipSync(doc, { level: 9 });
    const ratio = doc.length / body.length;
    if (best === undefined || Math.abs(ratio - target) < Math.abs(best.ratio - target)) best = { body, decoded: doc.length, ratio };
    if (ratio > target + 0.5) break;
  }
  assert.ok(best !== undefined && Math.abs(best.ratio - target) < 0.02, `no gzip body at ratio ${target}`);
  return best;
}

test('the decompression ratio is enforced at 10×: 9.9× is sealed, 10.1× is a 413', LIMIT, async () => {
  const low = atRatio(9.9);
  const high = atRatio(10.1);
  for (const chunked of [false, true]) {
    const headers = { 'content-type': 'application/json', ...GZ, ...(chunked ? { 'transfer-encoding': 'chunked' } : {}) };
    const ok = await request(url, 'PUT', '/inputs', { headers, body: low.body });
    assert.ok(ok.status === 201 || ok.status === 200, `9.9× (${low.ratio.toFixed(3)}) → ${ok.status} ${ok.text}`);
    // The stored document is the decoded bytes, and its CID is theirs.
    assert.equal(ok.json<{ bytes: number }>().bytes, low.decoded);
    const refused = await request(url, 'PUT', '/inputs', { headers, body: high.body });
    const d = assertErrorEnvelope(refused, { status: 413, code: 'PAYLOAD_TOO_LARGE', reason: 'decompression_ratio' }, `10.1× (${high.ratio.toFixed(3)})`);
    assert.equal(d.ratio_max, 10);
  }
});

test('corrupt, truncated or trailing-junk gzip is a 400', LIMIT, async () => {
  const good = gzipSync(inputsText);
  const flipped = Buffer.from(good);
  const mid = Math.floor(flipped.length / 2);
  flipped[mid] = (flipped[mid] as number) ^ 0xff;
  const cases: [string, Buffer][] = [
    ['not gzip at all', Buffer.from(inputsText)],
    ['a flipped byte', flipped],
    ['truncated', good.subarray(0, good.length - 10)],
    ['junk after the stream', Buffer.concat([good, Buffer.from('junk')])],
    ['empty', Buffer.alloc(0)],
  ];
  for (const [label, body] of cases) {
    const res = await request(url, 'PUT', '/inputs', { headers: { 'content-type': 'application/json', ...GZ }, body });
    assertErrorEnvelope(res, { status: 400, code: 'BAD_REQUEST', reason: 'corrupt_gzip' }, label);
  }
  const sealed = await request(url, 'PUT', '/inputs', { headers: { 'content-type': 'application/json', ...GZ }, body: good });
  assert.equal(sealed.json<{ inputs_cid: string }>().inputs_cid, EXAMPLE.inputsCid, 'intact gzip seals the decoded bytes');
});

interface Closed {
  ms: number;
  data: string;
}

/** Opens a connection, writes `first`, then nothing; resolves when the server closes it. */
function stallAfter(first: string, maxMs: number): Promise<Closed> {
  return new Promise((resolve, reject) => {
    let t0 = performance.now();
    let data = '';
    const s = connect({ port, host: '127.0.0.1' }, () => {
      t0 = performance.now(); // the server's clock starts when it accepts, not when we dial
      s.write(first);
    });
    s.setEncoding('utf8');
    s.on('data', (d: string) => (data += d));
    s.on('error', () => {}); // a reset is also a close
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`the server kept a stalled connection open for ${maxMs} ms`));
    }, maxMs);
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ ms: performance.now() - t0, data });
    });
  });
}

test('a client that stalls in its headers is cut off after HEADERS_TIMEOUT_MS', LIMIT, async () => {
  const closed = await stallAfter('PUT /inputs HTTP/1.1\r\nHost: x\r\nContent-Ty', HEADERS_TIMEOUT_MS + CHECK_MS + SLACK_MS + 2_000);
  assert.ok(closed.ms >= HEADERS_TIMEOUT_MS - 50, `closed after ${Math.round(closed.ms)} ms: not before the timeout`);
  assert.ok(closed.ms <= HEADERS_TIMEOUT_MS + CHECK_MS + SLACK_MS, `closed after ${Math.round(closed.ms)} ms: on time`);
  assert.ok(closed.data === '' || closed.data.startsWith('HTTP/1.1 408'), closed.data);
});

test('a client that stalls mid-body is cut off after REQUEST_TIMEOUT_MS and its slot is released', LIMIT, async () => {
  const closed = await stallAfter(
    'PUT /inputs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"schema":"rew',
    REQUEST_TIMEOUT_MS + CHECK_MS + SLACK_MS + 2_000,
  );
  assert.ok(closed.ms >= REQUEST_TIMEOUT_MS - 50, `closed after ${Math.round(closed.ms)} ms: not before the timeout`);
  assert.ok(closed.ms <= REQUEST_TIMEOUT_MS + CHECK_MS + SLACK_MS, `closed after ${Math.round(closed.ms)} ms: on time`);
  assert.ok(closed.data === '' || closed.data.startsWith('HTTP/1.1 408'), closed.data);
  await until(async () => metricValue(await metrics(url), 'inflight_requests') === 0, 2_000, 'the in-flight count to return to 0');
});

test('a slow-loris flood of 300 dribbling sockets does not starve normal clients', LIMIT, async () => {
  const FLOOD = 300;
  const DURATION_MS = 3_000;
  const lifetimes: number[] = [];
  const sockets = new Set<Socket>();
  let stopping = false;
  let opened = 0;
  const open = (): void => {
    if (stopping) return;
    opened++;
    let t0 = performance.now();
    const s = connect({ port, host: '127.0.0.1' }, () => (t0 = performance.now()));
    sockets.add(s);
    let i = 0;
    const request = `POST /epochs/loris/compute HTTP/1.1\r\nHost: x\r\nX-Filler-${randomBytes(4).toString('hex')}: ${'a'.repeat(200)}\r\n`;
    const drip = setInterval(() => {
      if (i < request.length) s.write(request[i++] as string);
    }, 50);
    s.on('error', () => {});
    s.on('close', () => {
      clearInterval(drip);
      sockets.delete(s);
      if (!stopping) {
        lifetimes.push(performance.now() - t0);
        open(); // keep the flood at strength
      }
    });
  };
  const latencies: number[] = [];
  try {
    for (let i = 0; i < FLOOD; i++) open();
    await until(() => sockets.size >= FLOOD, 5_000, 'the flood to connect');
    const end = performance.now() + DURATION_MS;
    const inputs = Buffer.from(inputsText);
    while (performance.now() < end) {
      const h = await get(url, '/healthz');
      assert.equal(h.status, 200);
      const p = await put(url, '/inputs', inputs);
      assert.ok(p.status === 200 || p.status === 201, p.text);
      latencies.push(h.ms, p.ms);
    }
  } finally {
    stopping = true;
    for (const s of sockets) s.destroy();
  }
  latencies.sort((x, y) => x - y);
  const worst = latencies[latencies.length - 1] ?? Infinity;
  assert.ok(latencies.length >= 20, `only ${latencies.length} normal requests in ${DURATION_MS} ms`);
  // Starvation would mean waiting for the dribblers' timeouts (seconds each, or 30 s with Node's
  // default check interval); 2 s leaves room for a CI box running two suites at once.
  assert.ok(worst < 2_000, `slowest normal request took ${Math.round(worst)} ms under the flood`);
  // The server, not the test, ended the dribblers, each within the header timeout.
  assert.ok(lifetimes.length >= FLOOD, `the server closed ${lifetimes.length} of ${opened} dribbling sockets`);
  const longest = Math.max(...lifetimes);
  assert.ok(longest <= HEADERS_TIMEOUT_MS + CHECK_MS + SLACK_MS, `a dribbling socket lived ${Math.round(longest)} ms`);
});

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { type HttpBindings, serve } from '@hono/node-server';
import { Hono } from 'hono';
import { AppError, envelope } from '../errors.js';
import { readBody, type BodyLimits } from './body.js';

const KiB = 1024;
const MiB = 1024 * KiB;

// A tiny app around readBody: answers the decoded length and digest, renders AppError like the
// service does (status from the code, AppError.headers copied onto the response).
// `outcomes` gets what each read ended with, for clients that are gone before the answer.
async function withServer(
  limits: BodyLimits,
  fn: (port: number) => Promise<void>,
  autoCleanupIncoming = true,
  outcomes: Array<{ bytes: number } | { error: unknown }> = [],
): Promise<void> {
  const app = new Hono<{ Bindings: HttpBindings }>();
  app.post('/body', async (c) => {
    let bytes: Uint8Array;
    try {
      bytes = await readBody(c.env.incoming, limits);
    } catch (error) {
      outcomes.push({ error });
      throw error;
    }
    outcomes.push({ bytes: bytes.byteLength });
    return c.json({ bytes: bytes.byteLength, sha256: sha256(bytes) });
  });
  app.onError((err, c) => {
    if (err instanceof AppError) return c.json(envelope(err, 'test'), err.status, err.headers);
    return c.json({ unexpected: String(err) }, 500);
  });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1', autoCleanupIncoming }) as http.Server;
  await new Promise<void>((resolve) => server.once('listening', resolve));
  try {
    await fn((server.address() as AddressInfo).port);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  json: { bytes?: number; sha256?: string; error?: { code: string; details: Record<string, unknown> } };
  socketError: string | undefined;
  ms: number;
}

interface Upload {
  body: Uint8Array;
  headers?: Record<string, string>;
  /** Send Content-Length (this value, or the body's length when true); chunked otherwise. */
  contentLength?: boolean | number;
  /** Write only this many bytes, then keep the request open without ending it. */
  stallAfter?: number;
  /** Give up (and fail) when no answer came by then. */
  timeoutMs?: number;
}

// node:http is the strict client here: unlike fetch it keeps writing after an early answer, so a
// server that closes too soon shows up as EPIPE/ECONNRESET on the request.
function post(port: number, up: Upload): Promise<Answer> {
  const started = performance.now();
  const headers: Record<string, string> = { ...up.headers };
  if (up.contentLength !== undefined && up.contentLength !== false) {
    headers['content-length'] = String(up.contentLength === true ? up.body.byteLength : up.contentLength);
  }
  return new Promise((resolve, reject) => {
    let status = 0;
    let resHeaders: http.IncomingHttpHeaders = {};
    let text = '';
    let socketError: string | undefined;
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/body', headers, agent: false }, (res) => {
      status = res.statusCode ?? 0;
      resHeaders = res.headers;
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        if (up.stallAfter !== undefined) req.destroy();
      });
    });
    req.setTimeout(up.timeoutMs ?? 5_000, () => req.destroy(new Error('client timeout: no answer')));
    req.on('error', (e: NodeJS.ErrnoException) => (socketError = e.code ?? e.message));
    req.on('close', () => {
      if (status === 0) return reject(new Error(`no response (${socketError ?? 'closed'})`));
      resolve({ status, headers: resHeaders, json: JSON.parse(text) as Answer['json'], socketError, ms: performance.now() - started });
    });
    const end = up.stallAfter ?? up.body.byteLength;
    let sent = 0;
    const pump = (): void => {
      while (sent < end && !req.destroyed) {
        const n = Math.min(16 * KiB, end - sent);
        const ok = req.write(up.body.subarray(sent, sent + n));
        sent += n;
        if (!ok) return void req.once('drain', pump);
      }
      if (up.stallAfter === undefined) req.end();
    };
    pump();
  });
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Deterministic incompressible bytes (xorshift32). */
function noise(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Noise followed by zeros, the zero run sized by bisection so gzip inflates by about `target`. */
function payloadWithRatio(target: number): { plain: Buffer; gz: Buffer; ratio: number } {
  const head = noise(64 * KiB, 7);
  const build = (zeros: number) => {
    const plain = Buffer.concat([head, Buffer.alloc(zeros)]);
    const gz = gzipSync(plain, { level: 9 });
    return { plain, gz, ratio: plain.byteLength / gz.byteLength };
  };
  let lo = 0;
  let hi = 64 * KiB * 20;
  for (let i = 0; i < 30 && hi - lo > 1; i++) {
    const mid = Math.floor((lo + hi) / 2);
    if (build(mid).ratio < target) lo = mid;
    else hi = mid;
  }
  return build(target < 10 ? lo : hi);
}

const LIMITS: BodyLimits = { maxBytes: 64 * KiB, decompRatioMax: 10, maxDecodedBytes: 64 * MiB };

void test('an identity body of exactly maxBytes is returned whole, with or without Content-Length', async () => {
  const body = noise(64 * KiB, 1);
  await withServer(LIMITS, async (port) => {
    for (const contentLength of [true, false]) {
      const a = await post(port, { body, contentLength });
      assert.equal(a.status, 200);
      assert.deepEqual(a.json, { bytes: body.byteLength, sha256: sha256(body) });
    }
  });
});

void test('a body one byte over maxBytes gets a 413 the client actually reads, with or without Content-Length', async () => {
  const body = noise(64 * KiB + 1, 2);
  await withServer(LIMITS, async (port) => {
    for (const contentLength of [true, false]) {
      const a = await post(port, { body, contentLength });
      assert.equal(a.status, 413);
      assert.equal(a.json.error?.code, 'PAYLOAD_TOO_LARGE');
      assert.deepEqual(a.json.error?.details, { reason: 'body_too_large', limit_bytes: 64 * KiB });
      assert.equal(a.headers.connection, 'close');
      assert.equal(a.socketError, undefined, 'the client saw a socket error instead of a clean answer');
    }
  });
});

void test('an upload far over the limit gets a clean 413 instead of a connection reset', async () => {
  const body = Buffer.alloc(6 * MiB, 1);
  // autoCleanupIncoming: false hands readBody the raw Node stream, where cancelling it would
  // destroy the socket before the answer is written.
  for (const autoCleanupIncoming of [true, false]) {
    await withServer(
      LIMITS,
      async (port) => {
        for (const contentLength of [true, false]) {
          const a = await post(port, { body, contentLength });
          assert.equal(a.status, 413);
          assert.equal(a.json.error?.details.reason, 'body_too_large');
          assert.equal(a.socketError, undefined, `socket error: contentLength=${contentLength} autoCleanupIncoming=${autoCleanupIncoming}`);
        }
      },
      autoCleanupIncoming,
    );
  }
});

void test('a Content-Length beyond the limit is refused up front, without waiting for the body', async () => {
  for (const autoCleanupIncoming of [true, false]) {
    await withServer(
      LIMITS,
      async (port) => {
        // Declares 1 GiB, sends 16 KiB and then nothing: only an up-front refusal can answer this,
        // and the body left unread must not take the answer down with it.
        const a = await post(port, { body: Buffer.alloc(16 * KiB), contentLength: 1024 * MiB, stallAfter: 16 * KiB });
        assert.equal(a.status, 413);
        assert.equal(a.json.error?.details.reason, 'body_too_large');
        assert.ok(a.ms < 1_000, `took ${a.ms} ms`);
      },
      autoCleanupIncoming,
    );
  }
});

void test('draining the rest of a refused body is bounded in time when the client stalls', async () => {
  await withServer({ ...LIMITS, drainTimeoutMs: 300 }, async (port) => {
    const a = await post(port, { body: Buffer.alloc(96 * KiB), stallAfter: 96 * KiB });
    assert.equal(a.status, 413);
    assert.ok(a.ms >= 250 && a.ms < 2_000, `took ${a.ms} ms`);
  });
});

void test('gzip bodies are returned decoded; gzip, x-gzip and identity are accepted in any case', async () => {
  const plain = Buffer.from(JSON.stringify({ hex: noise(4 * KiB, 5).toString('hex') }));
  await withServer(LIMITS, async (port) => {
    for (const encoding of ['gzip', 'GZIP', ' x-gzip ', 'X-Gzip']) {
      const a = await post(port, { body: gzipSync(plain), headers: { 'content-encoding': encoding }, contentLength: true });
      assert.equal(a.status, 200, encoding);
      assert.deepEqual(a.json, { bytes: plain.byteLength, sha256: sha256(plain) });
    }
    const a = await post(port, { body: plain, headers: { 'content-encoding': 'identity' } });
    assert.deepEqual(a.json, { bytes: plain.byteLength, sha256: sha256(plain) });
  });
});

void test('a gzip bomb is refused at the ratio as soon as its output passes ratio × Content-Length', async () => {
  const gz = gzipSync(Buffer.alloc(50 * MiB));
  assert.ok(gz.byteLength < 64 * KiB, `bomb is ${gz.byteLength} bytes`);
  await withServer({ ...LIMITS, maxDecodedBytes: 256 * MiB, drainTimeoutMs: 100 }, async (port) => {
    // Only the first half ever arrives: the answer cannot wait for the end of the stream.
    const half = gz.byteLength >> 1;
    const a = await post(port, { body: gz, headers: { 'content-encoding': 'gzip' }, contentLength: true, stallAfter: half, timeoutMs: 2_000 });
    assert.equal(a.status, 413);
    assert.deepEqual(a.json.error?.details, { reason: 'decompression_ratio', ratio_max: 10 });
    const whole = await post(port, { body: gz, headers: { 'content-encoding': 'gzip' }, contentLength: true });
    assert.equal(whole.status, 413);
    assert.equal(whole.socketError, undefined);
  });
});

void test('a gzip bomb without Content-Length is refused at the absolute decoded cap', async () => {
  const gz = gzipSync(Buffer.alloc(50 * MiB));
  await withServer({ ...LIMITS, maxDecodedBytes: 1 * MiB }, async (port) => {
    const a = await post(port, { body: gz, headers: { 'content-encoding': 'gzip' } });
    assert.equal(a.status, 413);
    assert.deepEqual(a.json.error?.details, { reason: 'decoded_too_large', limit_bytes: 1 * MiB });
  });
});

void test('a 4 GiB multi-member bomb is refused quickly, without inflating it', async () => {
  const member = gzipSync(Buffer.alloc(1 * MiB), { level: 9 });
  const bomb = Buffer.concat(Array.from({ length: 4096 }, () => member)); // ~4 MiB → 4 GiB
  await withServer({ maxBytes: 8 * MiB, decompRatioMax: 10, maxDecodedBytes: 16 * MiB }, async (port) => {
    const a = await post(port, { body: bomb, headers: { 'content-encoding': 'gzip' } });
    assert.equal(a.status, 413);
    assert.equal(a.json.error?.details.reason, 'decoded_too_large');
    assert.ok(a.ms < 2_000, `took ${a.ms} ms`);
  });
});

void test('the ratio is enforced at its boundary: 9.9× passes and 10.1× is refused, with or without Content-Length', async () => {
  const under = payloadWithRatio(9.9);
  const over = payloadWithRatio(10.1);
  assert.ok(under.ratio > 9.85 && under.ratio < 9.95, `under ratio ${under.ratio}`);
  assert.ok(over.ratio > 10.05 && over.ratio < 10.15, `over ratio ${over.ratio}`);
  const limits = { maxBytes: 1 * MiB, decompRatioMax: 10, maxDecodedBytes: 64 * MiB };
  await withServer(limits, async (port) => {
    for (const contentLength of [true, false]) {
      const ok = await post(port, { body: under.gz, headers: { 'content-encoding': 'gzip' }, contentLength });
      assert.equal(ok.status, 200, `9.9× contentLength=${contentLength}`);
      assert.deepEqual(ok.json, { bytes: under.plain.byteLength, sha256: sha256(under.plain) });
      const refused = await post(port, { body: over.gz, headers: { 'content-encoding': 'gzip' }, contentLength });
      assert.equal(refused.status, 413, `10.1× contentLength=${contentLength}`);
      assert.equal(refused.json.error?.details.reason, 'decompression_ratio');
    }
  });
});

void test('multi-member gzip decodes to the concatenation of its members, its ratio taken over the whole stream', async () => {
  const zeros = Buffer.alloc(256 * KiB);
  const random = noise(64 * KiB, 3);
  const first = gzipSync(zeros);
  const both = Buffer.concat([first, gzipSync(random)]);
  const plain = Buffer.concat([zeros, random]);
  assert.ok(zeros.byteLength / first.byteLength > 10, 'the first member alone must exceed the ratio');
  await withServer({ maxBytes: 1 * MiB, decompRatioMax: 10, maxDecodedBytes: 8 * MiB }, async (port) => {
    const a = await post(port, { body: both, headers: { 'content-encoding': 'gzip' } });
    assert.equal(a.status, 200);
    assert.deepEqual(a.json, { bytes: plain.byteLength, sha256: sha256(plain) });
    const alone = await post(port, { body: first, headers: { 'content-encoding': 'gzip' } });
    assert.equal(alone.status, 413);
  });
});

void test('compressed bytes on the wire are still capped by maxBytes', async () => {
  const gz = gzipSync(noise(128 * KiB, 4));
  await withServer(LIMITS, async (port) => {
    const a = await post(port, { body: gz, headers: { 'content-encoding': 'gzip' } });
    assert.equal(a.status, 413);
    assert.equal(a.json.error?.details.reason, 'body_too_large');
  });
});

void test('truncated, empty or junk-trailed gzip is a 400 corrupt_gzip', async () => {
  const gz = gzipSync(Buffer.from(noise(4 * KiB, 6).toString('hex')));
  const cases: Record<string, Buffer> = {
    'cut in the data': gz.subarray(0, gz.byteLength >> 1),
    'cut in the trailer': gz.subarray(0, gz.byteLength - 3),
    empty: Buffer.alloc(0),
    'trailing junk': Buffer.concat([gz, Buffer.from('junk')]),
    'zero-led trailing junk': Buffer.concat([gz, Buffer.from('\0\0junk')]),
    'not gzip at all': Buffer.from('{"plain":"json"}'),
  };
  await withServer(LIMITS, async (port) => {
    for (const [name, body] of Object.entries(cases)) {
      const a = await post(port, { body, headers: { 'content-encoding': 'gzip' }, contentLength: true });
      assert.equal(a.status, 400, name);
      assert.deepEqual(a.json.error?.details, { reason: 'corrupt_gzip' }, name);
    }
  });
});

void test('any other content encoding is a 415 unsupported_encoding', async () => {
  await withServer(LIMITS, async (port) => {
    for (const encoding of ['br', 'deflate', 'zstd', 'gzip, br', 'identity, gzip']) {
      const a = await post(port, { body: Buffer.from('x'), headers: { 'content-encoding': encoding } });
      assert.equal(a.status, 415, encoding);
      assert.deepEqual(a.json.error?.details, { reason: 'unsupported_encoding' }, encoding);
    }
  });
});

/** Writes `text` on a raw socket, then ends it (`half`: FIN, still reading) or resets it; resolves what came back. */
function rawRequest(port: number, text: string, close: 'half' | 'reset'): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(text);
      if (close === 'half') socket.end();
      else setTimeout(() => socket.resetAndDestroy(), 50);
    });
    socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => resolve(got));
  });
}

async function until(check: () => boolean, ms: number): Promise<void> {
  for (const stop = performance.now() + ms; !check(); ) {
    if (performance.now() > stop) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

void test('a client that leaves mid-body ends the read at once with body_incomplete', async () => {
  const outcomes: Array<{ bytes: number } | { error: unknown }> = [];
  await withServer(
    LIMITS,
    async (port) => {
      const started = performance.now();
      await rawRequest(port, 'POST /body HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"half":', 'reset');
      await until(() => outcomes.length === 1, 2_000);
      assert.ok(performance.now() - started < 1_000);
      const [outcome] = outcomes;
      assert.ok(outcome !== undefined && 'error' in outcome && outcome.error instanceof AppError);
      assert.equal(outcome.error.details.reason, 'body_incomplete');
    },
    true,
    outcomes,
  );
});

void test('a client that half-closes right after a whole request still has its whole body read', async () => {
  const outcomes: Array<{ bytes: number } | { error: unknown }> = [];
  await withServer(
    LIMITS,
    async (port) => {
      await rawRequest(port, 'POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n{"whole":1}', 'half');
      await until(() => outcomes.length === 1, 2_000);
      assert.deepEqual(outcomes, [{ bytes: 11 }]);
    },
    true,
    outcomes,
  );
});

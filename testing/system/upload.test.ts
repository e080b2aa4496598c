// PUT /inputs bodies hashed while they are received (issue 18): a stream sent in many small pieces,
// with or without a declared length, is sealed under the CID of its exact bytes; an upload cut
// short stores nothing; a body declaring more than the cap is refused before a byte of it is read.
// One real server on loopback (AUTH=off), raw sockets where the client must misbehave.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { encodeArrowInputs } from '../../src/core/arrow/write.js';
import { b3 } from '../../src/core/hash.js';
import { decodeInputs } from '../../src/core/inputs.js';
import { generate } from '../../src/gen/generate.js';
import { type SpawnedServer, get, put, spawnServer, until } from '../harness.js';

const ARROW = 'application/vnd.apache.arrow.stream';
const CAP = 8 * 1024 * 1024;
const LIMIT = { timeout: 60_000 };
let server: SpawnedServer | undefined;
let url: string;

// Generated S inputs (1k actors, 10k events) in Arrow: ~230 KB, hundreds of pieces of 512 bytes.
const stream = (() => {
  const g = generate({ scale: 'S', seed: 5, form: 'columnar' });
  const r = decodeInputs(g.inputs);
  assert.ok(r.ok);
  return encodeArrowInputs(r.value, 1000);
})();

before(async () => {
  server = await spawnServer({ AUTH: 'off', INPUTS_ARROW_MAX_BYTES: String(CAP) });
  url = server.url;
});
after(async () => {
  await server?.stop();
});

/** Sends `body` in `piece`-byte writes, yielding to the event loop between them; the answer's status and JSON. */
function trickle(body: Uint8Array, piece: number, headers: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL('/inputs', url), { method: 'PUT', headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(parts).toString('utf8')) as Record<string, unknown> }));
      res.on('error', reject);
    });
    req.on('error', reject);
    void (async () => {
      for (let at = 0; at < body.length; at += piece) {
        req.write(body.subarray(at, at + piece));
        if ((at / piece) % 16 === 0) await new Promise((r) => setTimeout(r, 1));
      }
      req.end();
    })();
  });
}

test('a stream sent in many small pieces is sealed under the CID of its bytes, with or without a declared length', LIMIT, async () => {
  const cid = b3(stream);
  const declared = await trickle(stream, 512, { 'content-type': ARROW, 'content-length': String(stream.length) });
  assert.equal(declared.status, 201, JSON.stringify(declared.json));
  assert.equal(declared.json.inputs_cid, cid);
  assert.equal(declared.json.bytes, stream.length);
  // Chunked transfer encoding: no length to reserve a buffer for, the same bytes and CID.
  const chunked = await trickle(stream, 700, { 'content-type': ARROW, 'transfer-encoding': 'chunked' });
  assert.equal(chunked.status, 200, JSON.stringify(chunked.json));
  assert.equal(chunked.json.inputs_cid, cid);
  const back = await get(url, `/inputs/${cid}`);
  assert.equal(back.status, 200);
  assert.deepEqual(new Uint8Array(back.body), stream);
});

test('an upload cut short stores nothing, under its own CID or any prefix\'s', LIMIT, async () => {
  // A stream this server has never seen: another seed.
  const g = generate({ scale: 'S', seed: 6, form: 'columnar' });
  const r = decodeInputs(g.inputs);
  assert.ok(r.ok);
  const other = encodeArrowInputs(r.value, 1000);
  const half = other.subarray(0, other.length >> 1);
  const sock = connect(Number(new URL(url).port), '127.0.0.1');
  await new Promise<void>((resolve) => sock.once('connect', resolve));
  sock.write(`PUT /inputs HTTP/1.1\r\nHost: x\r\nContent-Type: ${ARROW}\r\nContent-Length: ${other.length}\r\n\r\n`);
  sock.write(half);
  await new Promise((r) => setTimeout(r, 100));
  sock.destroy();
  // The server saw the client go (a 499 in its request metric), and then holds nothing of it.
  await until(async () => /status="499"/.test((await get(url, '/metrics')).text), 10_000, 'the cut upload to be counted');
  assert.equal((await get(url, `/inputs/${b3(other)}`)).status, 404);
  assert.equal((await get(url, `/inputs/${b3(half)}`)).status, 404);
  // And it takes the whole stream afterwards as new.
  const whole = await put(url, '/inputs', other, { 'content-type': ARROW });
  assert.equal(whole.status, 201, whole.text);
  assert.equal(whole.json().inputs_cid, b3(other));
});

test('a body declaring more than the Arrow cap is refused before a byte of it is read', LIMIT, async () => {
  // `Expect: 100-continue`: a client that waits sends its body only after 100 Continue, so a 413
  // arriving instead proves the server refused it on the declared length alone.
  const sock = connect(Number(new URL(url).port), '127.0.0.1');
  await new Promise<void>((resolve) => sock.once('connect', resolve));
  let answer = '';
  sock.setEncoding('utf8').on('data', (s: string) => (answer += s));
  sock.write(`PUT /inputs HTTP/1.1\r\nHost: x\r\nContent-Type: ${ARROW}\r\nContent-Length: ${CAP + 1}\r\nExpect: 100-continue\r\n\r\n`);
  await until(() => answer.includes('\r\n\r\n'), 10_000, 'an answer to the headers');
  sock.destroy();
  assert.match(answer, /^HTTP\/1\.1 413 /);
  assert.doesNotMatch(answer, /100 Continue/);
  assert.match(answer, /"reason":"body_too_large"/);
});

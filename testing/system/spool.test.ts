// Large Arrow uploads spooled to the amnesia tmpfs (issue 18, INPUTS_SPOOL_MIN_BYTES): with the
// threshold lowered to 64 KiB a small generated stream takes the spool path. It seals under the
// same CID and pays the same as the in-memory path (a second server with spooling off), GET
// /inputs/{cid} streams back the same bytes and headers, and its file lives under
// AMNESIA_DIR/inputs exactly while the store holds it: removed on eviction, never left by a body
// refused (400/413/408/503), cut short, or already held. Real servers on loopback, AUTH=off.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { b3 } from '../../src/core/hash.js';
import { generate } from '../../src/gen/generate.js';
import { type Reply, type SpawnedServer, get, metricValue, metrics, post, put, spawnServer, until } from '../harness.js';

const ARROW = 'application/vnd.apache.arrow.stream';
const LIMIT = { timeout: 120_000 };
const MiB = 1024 * 1024;
const CAP = 3 * MiB;
const amnesia = `/dev/shm/rewarder-spool-test-${process.pid}-${randomBytes(4).toString('hex')}`;
const spoolDir = join(amnesia, 'inputs');
let spooling: SpawnedServer | undefined;
let inMemory: SpawnedServer | undefined;

/** Generated S inputs in Arrow (~230 KB: above the lowered 64 KiB threshold), one per seed. */
const arrow = (seed: number, scale: 'S' | 'M' = 'S') => generate({ scale, seed, form: 'arrow' });

before(async () => {
  const common = { AUTH: 'off', INPUTS_ARROW_MAX_BYTES: String(CAP), MEMORY_STORE_MAX_BYTES: String(MiB) };
  [spooling, inMemory] = await Promise.all([
    // No prepared-inputs cache: every compute re-reads the sealed document (from its file here).
    spawnServer({ ...common, AMNESIA_DIR: amnesia, INPUTS_SPOOL_MIN_BYTES: String(64 * 1024), INPUTS_CACHE_MAX_BYTES: '0', BODY_MIN_RATE_BYTES_S: String(64 * 1024), BODY_RATE_GRACE_MS: '300' }),
    spawnServer({ ...common, INPUTS_SPOOL_MIN_BYTES: '0' }),
  ]);
});
after(async () => {
  await Promise.all([spooling?.stop(), inMemory?.stop()]);
  assert.equal(existsSync(amnesia), false, 'AMNESIA_DIR is removed on exit');
});

/** The spooled files now: their sizes, by name. */
function files(): number[] {
  if (!existsSync(spoolDir)) return [];
  return readdirSync(spoolDir).map((f) => statSync(join(spoolDir, f)).size).sort((a, b) => a - b);
}

const url = (): string => (spooling as SpawnedServer).url;

test('a spooled upload seals like an in-memory one: same CID and answer, same bytes and headers back, same payouts', LIMIT, async () => {
  const g = arrow(11);
  const cid = b3(g.inputs);
  const [a, b] = await Promise.all([url(), (inMemory as SpawnedServer).url].map((u) => put(u, '/inputs', g.inputs, { 'content-type': ARROW })));
  assert.equal(a?.status, 201, a?.text);
  assert.equal(b?.status, 201, b?.text);
  assert.deepEqual(a?.json(), b?.json());
  assert.equal(a?.json<{ inputs_cid: string }>().inputs_cid, cid);
  // Held as one file of exactly its bytes; sealing the same bytes again stores nothing more.
  assert.deepEqual(files(), [g.inputs.length]);
  const again = await put(url(), '/inputs', g.inputs, { 'content-type': ARROW });
  assert.equal(again.status, 200, again.text);
  assert.deepEqual(files(), [g.inputs.length]);
  assert.equal(metricValue(await metrics(url()), 'inputs_spooled_bytes'), g.inputs.length);

  const [ga, gb] = await Promise.all([url(), (inMemory as SpawnedServer).url].map((u) => get(u, `/inputs/${cid}`)));
  assert.equal(ga?.status, 200);
  assert.ok(ga !== undefined && gb !== undefined && Buffer.compare(ga.body, gb.body) === 0 && Buffer.compare(ga.body, Buffer.from(g.inputs)) === 0, 'identical bytes');
  for (const h of ['content-type', 'content-length', 'etag', 'cache-control', 'vary']) assert.equal(ga?.headers[h], gb?.headers[h], h);
  const cached = await get(url(), `/inputs/${cid}`, { 'if-none-match': `"${cid}"` });
  assert.equal(cached.status, 304);

  // Computed on both (on the spooling server from the file: it keeps no prepared inputs).
  const manifests: Reply[] = [];
  for (const u of [url(), (inMemory as SpawnedServer).url]) {
    const pol = (await put(u, '/policies', g.policy, { 'content-type': 'application/json' })).json<{ policy_id: string; policy_hash: string }>();
    const run = await post(u, '/epochs/spool-1/compute', { inputs_cid: cid, ...pol });
    assert.equal(run.status, 200, run.text);
    manifests.push(await get(u, '/epochs/spool-1'));
  }
  assert.equal(manifests[0]?.status, 200);
  assert.ok(Buffer.compare(manifests[0]?.body as Buffer, manifests[1]?.body as Buffer) === 0, 'byte-identical manifests');
});

test('a stream without a declared length moves to a file once past the threshold, under the CID of its bytes', LIMIT, async () => {
  const g = arrow(12);
  const before = files().length;
  const r = await send(g.inputs, { 'content-type': ARROW, 'transfer-encoding': 'chunked' }, 16 * 1024);
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json().inputs_cid, b3(g.inputs));
  assert.equal(files().length, before + 1);
  const back = await get(url(), `/inputs/${b3(g.inputs)}`);
  assert.ok(Buffer.compare(back.body, Buffer.from(g.inputs)) === 0);
});

test('a gzip body is spooled as it inflates, under the CID of its inflated bytes; a broken one leaves no file', LIMIT, async () => {
  const g = arrow(19);
  const before = files().length;
  const packed = gzipSync(g.inputs);
  const r = await put(url(), '/inputs', packed, { 'content-type': ARROW, 'content-encoding': 'gzip' });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json<{ inputs_cid: string }>().inputs_cid, b3(g.inputs));
  assert.equal(files().length, before + 1);
  assert.ok(files().includes(g.inputs.length));
  const back = await get(url(), `/inputs/${b3(g.inputs)}`);
  assert.ok(Buffer.compare(back.body, Buffer.from(g.inputs)) === 0);
  // Cut before its trailer (400 corrupt_gzip), and with junk after it: neither leaves a file.
  const other = gzipSync(arrow(20).inputs);
  const cut = await put(url(), '/inputs', other.subarray(0, other.length - 6), { 'content-type': ARROW, 'content-encoding': 'gzip' });
  assert.equal(cut.status, 400, cut.text);
  const junk = await put(url(), '/inputs', Buffer.concat([other, Buffer.from('junk')]), { 'content-type': ARROW, 'content-encoding': 'gzip' });
  assert.equal(junk.status, 400, junk.text);
  assert.equal(files().length, before + 1);
});

test('a spooled document evicted under the store budget takes its file with it', LIMIT, async () => {
  // Four more S streams (~230 KB each) into a 1 MiB store: the oldest documents are evicted.
  const first = arrow(11);
  for (const seed of [13, 14, 15, 16]) {
    const r = await put(url(), '/inputs', arrow(seed).inputs, { 'content-type': ARROW });
    assert.equal(r.status, 201, r.text);
  }
  assert.equal((await get(url(), `/inputs/${b3(first.inputs)}`)).status, 404);
  const held = files();
  assert.ok(held.length >= 1 && held.reduce((n, s) => n + s, 0) <= MiB, `files ${held.join(', ')} within the 1 MiB store`);
});

test('a spooled body refused or invalid leaves no file behind', LIMIT, async () => {
  const before = files();
  // 400: not an Arrow stream / a broken one, both above the threshold.
  const json = new TextEncoder().encode(`{"pad":"${'x'.repeat(100_000)}"}`);
  assert.equal((await put(url(), '/inputs', json, { 'content-type': ARROW })).status, 400);
  const junk = new Uint8Array(100_000).fill(7);
  junk.set([0xff, 0xff, 0xff, 0xff], 0);
  assert.equal((await put(url(), '/inputs', junk, { 'content-type': ARROW })).status, 400);
  // 413: past the Arrow cap without a declared length (spooled until the cap was passed).
  const big = new Uint8Array(CAP + 64 * 1024).fill(1);
  big.set([0xff, 0xff, 0xff, 0xff], 0);
  const tooBig = await send(big, { 'content-type': ARROW, 'transfer-encoding': 'chunked' }, 256 * 1024);
  assert.equal(tooBig.status, 413, tooBig.text);
  // 503 store_full: an M stream (~2.3 MB, within the cap) is valid but larger than the 1 MiB store.
  const m = arrow(17, 'M');
  assert.deepEqual(files(), before);
  // (The store evicts what it can before it refuses: only the files of documents still held stay.)
  const full = await put(url(), '/inputs', m.inputs, { 'content-type': ARROW });
  assert.equal(full.status, 503, full.text);
  assert.match(full.text, /store_full/);
  assert.ok(files().every((n) => n !== m.inputs.length) && files().length <= before.length, `files ${files().join(', ')}`);
});

test('a spooled body cut short (the client leaves, or sends too slowly: 408) leaves no file behind', LIMIT, async () => {
  const before = files();
  const g = arrow(18);
  const port = Number(new URL(url()).port);
  // Cut: half the declared body, then the client leaves.
  const cut = connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => cut.once('connect', resolve));
  cut.write(`PUT /inputs HTTP/1.1\r\nHost: x\r\nContent-Type: ${ARROW}\r\nContent-Length: ${g.inputs.length}\r\n\r\n`);
  cut.write(g.inputs.subarray(0, g.inputs.length >> 1));
  await until(() => files().length > before.length, 10_000, 'the body to be spooled');
  cut.destroy();
  await until(() => files().length === before.length, 10_000, 'the cut body\'s file to be removed');
  // Slow: 100 KB and then nothing, below BODY_MIN_RATE_BYTES_S once its grace is over.
  const slow = connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => slow.once('connect', resolve));
  let answer = '';
  slow.setEncoding('utf8').on('data', (s: string) => (answer += s));
  slow.write(`PUT /inputs HTTP/1.1\r\nHost: x\r\nContent-Type: ${ARROW}\r\nContent-Length: ${g.inputs.length}\r\n\r\n`);
  slow.write(g.inputs.subarray(0, 100_000));
  await until(() => answer.includes('\r\n\r\n'), 20_000, 'the slow body to be refused');
  slow.destroy();
  assert.match(answer, /^HTTP\/1\.1 408 /);
  await until(() => files().length === before.length, 10_000, 'the slow body\'s file to be removed');
  assert.deepEqual(files(), before);
  assert.equal(metricValue(await metrics(url()), 'inputs_spooled_bytes'), before.reduce((n, b) => n + b, 0));
  assert.equal((await get(url(), `/inputs/${b3(g.inputs)}`)).status, 404);
});

/** PUT /inputs with `body` written in `piece`-byte writes; the answer's status and text. */
function send(body: Uint8Array, headers: Record<string, string>, piece: number): Promise<{ status: number; text: string; json: () => Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL('/inputs', url()), { method: 'PUT', headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        resolve({ status: res.statusCode ?? 0, text, json: () => JSON.parse(text) as Record<string, unknown> });
      });
      res.on('error', reject);
    });
    // The server may answer (413) and close before the whole body is written: an error counts
    // only if no answer follows it.
    req.on('error', (e) => setTimeout(() => reject(e), 2_000));
    void (async () => {
      for (let at = 0; at < body.length && !req.destroyed; at += piece) {
        req.write(body.subarray(at, at + piece));
        await new Promise((r) => setTimeout(r, 1));
      }
      req.end();
    })();
  });
}

test('a tmpfs that cannot take the upload is 503 spool_failed with Retry-After, and the next upload spools once it can', LIMIT, async () => {
  // Its own server: the spool directory is made on the first spooled body, so a regular file put
  // in its place first makes the spool fail for real (as a full or vanished tmpfs would).
  const dir = `/dev/shm/rewarder-spool-fail-${process.pid}-${randomBytes(4).toString('hex')}`;
  const s = await spawnServer({ AUTH: 'off', INPUTS_ARROW_MAX_BYTES: String(CAP), AMNESIA_DIR: dir, INPUTS_SPOOL_MIN_BYTES: String(64 * 1024) });
  try {
    writeFileSync(join(dir, 'inputs'), '');
    const g = arrow(23);
    const failed = await put(s.url, '/inputs', g.inputs, { 'content-type': ARROW });
    assert.equal(failed.status, 503, failed.text);
    assert.equal(failed.json<{ error: { details: { reason: string } } }>().error.details.reason, 'spool_failed');
    assert.ok(Number(failed.headers['retry-after']) > 0);
    rmSync(join(dir, 'inputs'));
    const sealed = await put(s.url, '/inputs', g.inputs, { 'content-type': ARROW });
    assert.equal(sealed.status, 201, sealed.text);
    assert.equal(readdirSync(join(dir, 'inputs')).length, 1);
  } finally {
    await s.stop();
  }
  assert.equal(existsSync(dir), false);
});

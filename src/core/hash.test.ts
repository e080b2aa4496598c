// node:test schedules every test() itself; the promise it returns needs no handling.
 
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { hash as nativeHash } from 'blake3';
import fc from 'fast-check';
import {
  Blake3Stream,
  b3,
  b3Text,
  blake3,
  blake3Into,
  blake3PrefixedInto,
  bytesToHex,
  formatDigest,
  hexToBytes,
  isDigest,
  parseDigest,
} from './hash.js';

/** mulberry32: a fixed-seed PRNG so every run hashes the same bytes. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

function randomBytes(next: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = next() & 0xff;
  return out;
}

const nativeHex = (data: Uint8Array): string => nativeHash(data).toString('hex');

test('the JS path equals the native addon for every length from 0 to 1100 bytes', () => {
  const next = prng(0x5eed);
  for (let n = 0; n <= 1100; n++) {
    const data = randomBytes(next, n);
    assert.equal(bytesToHex(blake3(data)), nativeHex(data), `length ${n}`);
  }
});

test('the empty message hashes to the published BLAKE3 vector', () => {
  const empty = 'b3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262';
  assert.equal(b3(new Uint8Array(0)), empty);
  assert.equal(b3Text(''), empty);
});

test('JS and native agree on arbitrary messages of up to 1024 bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1024 }), (data) => {
      assert.equal(bytesToHex(blake3(data)), nativeHex(data));
    }),
    { numRuns: 500 },
  );
});

test('hashing a range of a larger buffer equals hashing a copy of that range', () => {
  const next = prng(7);
  const big = randomBytes(next, 3000);
  for (const [off, len] of [[0, 0], [1, 64], [3, 65], [5, 1023], [7, 1024], [9, 1025], [11, 2900]] as const) {
    const out = new Uint8Array(40).fill(0xee);
    blake3Into(big, off, len, out, 4);
    assert.equal(bytesToHex(out.subarray(4, 36)), nativeHex(big.slice(off, off + len)), `off ${off} len ${len}`);
    assert.deepEqual([...out.subarray(0, 4), ...out.subarray(36)], new Array<number>(8).fill(0xee), 'writes only its 32 bytes');
  }
});

test('a prefixed hash equals the hash of the prefix byte followed by the range', () => {
  const next = prng(11);
  const big = randomBytes(next, 1200);
  for (const len of [0, 1, 63, 64, 65, 1022, 1023, 1024, 1100]) {
    const out = new Uint8Array(32);
    blake3PrefixedInto(0x01, big, 2, len, out, 0);
    const msg = new Uint8Array(len + 1);
    msg[0] = 0x01;
    msg.set(big.subarray(2, 2 + len), 1);
    assert.equal(bytesToHex(out), nativeHex(msg), `len ${len}`);
  }
});

test('digests of messages longer than a chunk are plain 32-byte Uint8Arrays', () => {
  const d = blake3(new Uint8Array(5000));
  assert.equal(Object.getPrototypeOf(d), Uint8Array.prototype);
  assert.equal(d.length, 32);
});

test('b3Text hashes the UTF-8 bytes of short and long strings', () => {
  const encoder = new TextEncoder();
  for (const s of ['abc', 'rewarder.run_key.v1|é€😀', 'x'.repeat(341), 'x'.repeat(342), '€'.repeat(400), 'y'.repeat(5000)]) {
    assert.equal(b3Text(s), 'b3:' + nativeHex(encoder.encode(s)), `length ${s.length}`);
  }
});

test('isDigest accepts only b3: followed by 64 lowercase hex digits', () => {
  const hex = 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262';
  assert.equal(isDigest('b3:' + hex), true);
  for (const bad of [hex, 'b3:' + hex.toUpperCase(), 'b3:' + hex.slice(1), 'b3:' + hex + '0', 'B3:' + hex, `b3:${hex}\n`, 42, null]) {
    assert.equal(isDigest(bad), false, String(bad));
  }
});

test('hex and digest text round-trip, and malformed text is refused', () => {
  const bytes = Uint8Array.from({ length: 32 }, (_, i) => i * 8);
  assert.deepEqual(hexToBytes(bytesToHex(bytes)), bytes);
  assert.deepEqual(parseDigest(formatDigest(bytes)), bytes);
  assert.deepEqual(hexToBytes('00FFab'), Uint8Array.of(0, 255, 0xab));
  assert.throws(() => hexToBytes('abc'), TypeError);
  assert.throws(() => hexToBytes('zz'), TypeError);
  assert.throws(() => parseDigest('b3:00'), TypeError);
  assert.throws(() => formatDigest(new Uint8Array(31)), TypeError);
});

test('the native addon loads and hashes inside a worker thread', async () => {
  const hashUrl = new URL('./hash.js', import.meta.url).href;
  // An eval worker runs as CommonJS, so it reaches the ESM module through a dynamic import.
  const source = `
    const { parentPort } = require('node:worker_threads');
    import(${JSON.stringify(hashUrl)}).then((m) => {
      parentPort.postMessage([m.b3(new Uint8Array(5000).fill(1)), m.b3(new Uint8Array(65).fill(1))]);
    });`;
  const worker = new Worker(source, { eval: true });
  try {
    const [long, short] = await new Promise<unknown>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    }) as [string, string];
    assert.equal(long, 'b3:' + nativeHex(new Uint8Array(5000).fill(1)));
    assert.equal(short, 'b3:' + nativeHex(new Uint8Array(65).fill(1)));
  } finally {
    await worker.terminate();
  }
});

test('Blake3Stream over any split of a message equals the one-shot digest', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 5000 }), fc.array(fc.nat(5000), { maxLength: 8 }), (bytes, cuts) => {
      const s = new Blake3Stream();
      let at = 0;
      for (const c of [...cuts].sort((a, b) => a - b)) {
        const to = Math.min(c, bytes.length);
        s.update(bytes.subarray(at, Math.max(at, to)));
        at = Math.max(at, to);
      }
      s.update(bytes.subarray(at));
      assert.equal(s.digest(), b3(bytes));
    }),
  );
  // Past BLAKE3's chunk and subtree boundaries, in socket-sized pieces.
  const big = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 31) & 0xff);
  const s = new Blake3Stream();
  for (let p = 0; p < big.length; p += 65536) s.update(big.subarray(p, p + 65536));
  assert.equal(s.digest(), b3(big));
  assert.throws(() => s.update(big), /update after digest/);
});

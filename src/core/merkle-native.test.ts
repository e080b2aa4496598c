// The native payouts tree (native/rewarder_native.c) against the TypeScript reference (merkle-js.ts):
// same roots and audit paths for any leaves, same errors for bad arguments, and loadable in worker
// threads; and the addon's BLAKE3 digest against the blake3 package, also on a terminated thread.
// `npm ci` must have built the addon: a missing or unloadable addon fails here instead of silently
// testing the TypeScript tree against itself, unless REWARDER_ALLOW_NO_NATIVE=1 says that this
// machine has no C toolchain.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { hash as packageHash } from 'blake3';
import fc from 'fast-check';
import { b3, formatDigest } from './hash.js';
import { auditPathOfRangesJs, merkleRootJs, merkleRootOfRangesJs } from './merkle-js.js';
import { nativeAddon } from './native.js';
import { auditPath, auditPathOfRanges, leafData, merkleBackend, merkleRoot, merkleRootOfRanges, verifyInclusion } from './merkle.js';
import { encodeEach } from './utf8.js';

const repo = new URL('../../../', import.meta.url);
const addonFile = fileURLToPath(new URL('native/build/Release/rewarder_native.node', repo));
const allowJs = process.env.REWARDER_ALLOW_NO_NATIVE === '1';
const native = nativeAddon();
const needsAddon = native === null ? 'the native addon is not built or does not load' : false;

/** The leaves as one buffer, with `pad` bytes before and after, and their offsets. */
function pack(leaves: readonly Uint8Array[], pad = 0): { bytes: Uint8Array; offsets: Uint32Array } {
  const offsets = new Uint32Array(leaves.length + 1);
  let at = pad;
  offsets[0] = at;
  leaves.forEach((leaf, i) => {
    at += leaf.length;
    offsets[i + 1] = at;
  });
  const bytes = new Uint8Array(at + pad).fill(0xa5);
  leaves.forEach((leaf, i) => bytes.set(leaf, offsets[i]!));
  return { bytes, offsets };
}

/** mulberry32 bytes: a fixed seed, so every run hashes the same (mostly non-ASCII) bytes. */
function pseudoRandomBytes(seed: number, n: number): Uint8Array {
  let a = seed >>> 0;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    out[i] = (t ^ (t >>> 14)) & 0xff;
  }
  return out;
}

/** Asserts that the native root and the paths at `indices` equal the TypeScript tree's. */
function assertSameTree(leaves: readonly Uint8Array[], indices: Iterable<number>, pad = 0): void {
  const { bytes, offsets } = pack(leaves, pad);
  const n = leaves.length;
  const root = merkleRootOfRangesJs(bytes, offsets, n);
  assert.deepEqual(merkleRootJs(leaves), root, `JS over arrays and over ranges, ${n} leaves`);
  assert.deepEqual(merkleRootOfRanges(bytes, offsets, n), root, `root of ${n} leaves`);
  assert.deepEqual(merkleRoot(leaves), root, `merkleRoot of ${n} leaves`);
  for (const i of indices) {
    const path = auditPathOfRangesJs(bytes, offsets, n, i);
    assert.deepEqual(auditPathOfRanges(bytes, offsets, n, i), path, `path ${i} of ${n}`);
    assert.deepEqual(auditPath(leaves, i), path, `auditPath ${i} of ${n}`);
    assert.equal(verifyInclusion(leaves[i]!, i, n, path, root), true, `path ${i} of ${n} verifies`);
  }
}

test('npm ci built the native addon and merkle.ts uses it', { skip: allowJs && native === null }, () => {
  assert.ok(existsSync(addonFile), `${addonFile} is missing: \`npm run build:native\` (npm ci) did not build it`);
  assert.notEqual(native, null, `${addonFile} exists but does not load`);
  assert.equal(merkleBackend(), 'native');
});

test('the published vectors give their payouts_root through the native tree', { skip: needsAddon }, () => {
  // SPEC §9: alice 360, bob 400, erin 167.
  const spec = [
    '{"actor":"did:ron:alice","amount_minor":"360"}',
    '{"actor":"did:ron:bob","amount_minor":"400"}',
    '{"actor":"did:ron:erin","amount_minor":"167"}',
  ];
  const { bytes, offsets } = encodeEach(spec);
  const root = formatDigest(merkleRootOfRanges(bytes, offsets, 3));
  assert.equal(root, 'b3:d6bdc847ba63d60c47857cb7d5085ee333704038d8fea3790b2413c897fee5aa');
  for (const file of ['vectors/example/manifest-2026-01-01.json', 'vectors/S/manifest-row.json', 'vectors/S/manifest-columnar.json']) {
    const manifest = JSON.parse(readFileSync(new URL(file, repo), 'utf8')) as {
      payouts: { actor: string; amount_minor: string }[];
      payouts_root: string;
    };
    const leaves = manifest.payouts.map((p) => leafData(p.actor, p.amount_minor));
    const { bytes: b, offsets: o } = pack(leaves);
    assert.equal(formatDigest(merkleRootOfRanges(b, o, leaves.length)), manifest.payouts_root, file);
    assert.equal(formatDigest(merkleRoot(leaves)), manifest.payouts_root, file);
  }
});

test('the empty tree is b3("") and a one-leaf tree is b3(0x00 ‖ data)', { skip: needsAddon }, () => {
  assert.equal(formatDigest(merkleRootOfRanges(new Uint8Array(0), new Uint32Array(1), 0)), b3(new Uint8Array(0)));
  assert.equal(formatDigest(merkleRootOfRanges(new Uint8Array(9), Uint32Array.of(9), 0)), b3(new Uint8Array(0)));
  assert.equal(formatDigest(merkleRoot([])), b3(new Uint8Array(0)));
  const d = leafData('did:ron:solo', '5');
  assert.equal(formatDigest(merkleRootOfRanges(d, Uint32Array.of(0, d.length), 1)), b3(Uint8Array.of(0, ...d)));
  assert.deepEqual(auditPathOfRanges(d, Uint32Array.of(0, d.length), 1, 0), []);
});

test('every leaf length from 0 to 2100 bytes hashes as in TypeScript, alone and in one tree', { skip: needsAddon }, () => {
  // Covers the block (64) and chunk (1024) boundaries of BLAKE3 with the one-byte prefix counted.
  const leaves = Array.from({ length: 2101 }, (_, len) => pseudoRandomBytes(len, len));
  for (const leaf of leaves) {
    const offsets = Uint32Array.of(0, leaf.length);
    assert.deepEqual(merkleRootOfRanges(leaf, offsets, 1), merkleRootOfRangesJs(leaf, offsets, 1), `length ${leaf.length}`);
  }
  assert.deepEqual(merkleRoot(leaves), merkleRootJs(leaves));
  assertSameTree(leaves, [0, 63, 64, 1023, 1024, 2047, 2100]);
});

test('native roots and audit paths equal the TypeScript tree for any leaves', { skip: needsAddon }, () => {
  // Mostly short leaves (payout leaves are ~60 bytes), sometimes longer than a BLAKE3 chunk.
  const leaf = fc.oneof(
    { arbitrary: fc.uint8Array({ maxLength: 130 }), weight: 8 },
    { arbitrary: fc.uint8Array({ minLength: 1000, maxLength: 2100 }), weight: 1 },
  );
  fc.assert(
    fc.property(fc.array(leaf, { maxLength: 300 }), fc.nat(64), fc.nat(), (leaves, pad, seed) => {
      const n = leaves.length;
      const indices = n <= 24 ? Array.from({ length: n }, (_, i) => i) : [0, n - 1, seed % n, (seed >>> 8) % n, n >> 1];
      assertSameTree(leaves, indices, pad);
    }),
    { numRuns: 150 },
  );
});

test('a separator after each range is left out of its leaf, natively as in TypeScript', { skip: needsAddon }, () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 90 }), { maxLength: 120 }), fc.integer({ min: 0, max: 3 }), (leaves, separator) => {
      // Each leaf followed by `separator` bytes of 0x2c (a JSON comma), as manifest.ts lays them out.
      const n = leaves.length;
      const offsets = new Uint32Array(n + 1);
      leaves.forEach((l, i) => (offsets[i + 1] = offsets[i]! + l.length + separator));
      const bytes = new Uint8Array(offsets[n]!).fill(0x2c);
      leaves.forEach((l, i) => bytes.set(l, offsets[i]!));
      const want = merkleRootJs(leaves);
      assert.deepEqual(merkleRootOfRanges(bytes, offsets, n, separator), want);
      assert.deepEqual(merkleRootOfRangesJs(bytes, offsets, n, separator), want);
    }),
    { numRuns: 100 },
  );
  const one = Uint8Array.of(1, 2, 0x2c);
  for (const f of [merkleRootOfRanges, merkleRootOfRangesJs]) {
    assert.throws(() => f(one, Uint32Array.of(0, 3), 1, 4), RangeError, 'a range shorter than its separator');
    for (const bad of [-1, 1.5, 256, Number.NaN]) assert.throws(() => f(one, Uint32Array.of(0, 3), 1, bad), RangeError, `separator ${bad}`);
  }
});

test('leaves of non-ASCII actors give the same tree natively', { skip: needsAddon }, () => {
  const actor = fc.string({ unit: 'grapheme', maxLength: 40 });
  const amount = fc.bigInt({ min: 0n, max: 2n ** 128n - 1n });
  fc.assert(
    fc.property(fc.array(fc.tuple(actor, amount), { maxLength: 100 }), (payees) => {
      const texts = payees.map(([actor, amount]) => new TextDecoder().decode(leafData(actor, String(amount))));
      const { bytes, offsets } = encodeEach(texts);
      const n = texts.length;
      assert.deepEqual(merkleRootOfRanges(bytes, offsets, n), merkleRootOfRangesJs(bytes, offsets, n));
      if (n > 0) assert.deepEqual(auditPathOfRanges(bytes, offsets, n, n - 1), auditPathOfRangesJs(bytes, offsets, n, n - 1));
    }),
    { numRuns: 100 },
  );
});

test('large trees around powers of two give the same roots and paths', { skip: needsAddon }, () => {
  for (const n of [1000, 1023, 1024, 1025, 4097, 10_000]) {
    const leaves = Array.from({ length: n }, (_, i) => leafData(`did:ron:ünï-${i}`, String(i * 7919)));
    assertSameTree(leaves, [0, 1, n >> 1, n - 2, n - 1]);
  }
});

test('trees past the two-thread threshold (65,536 leaves) give the same roots, separators and refusals', { skip: needsAddon }, () => {
  const addon = native ?? assert.fail('no addon');
  // Balanced and lopsided splits (2^16 + 1 leaves: a subtree of one), leaves of one, two and more blocks.
  for (const n of [65_535, 65_536, 65_537, 140_001]) {
    const leaves = Array.from({ length: n }, (_, i) => pseudoRandomBytes(i, (i * 37) % 200));
    const { bytes, offsets } = pack(leaves);
    const root = merkleRootOfRangesJs(bytes, offsets, n);
    assert.deepEqual(merkleRootOfRanges(bytes, offsets, n), root, `root of ${n} leaves`);
    assert.deepEqual(auditPathOfRanges(bytes, offsets, n, n - 1), auditPathOfRangesJs(bytes, offsets, n, n - 1), `path of ${n}`);
  }
  const n = 140_001;
  const leaves = Array.from({ length: n }, (_, i) => leafData(`did:ron:n${i}`, String(i * 7919)));
  const withComma = pack(leaves.map((l) => Uint8Array.from([...l, 0x2c])));
  assert.deepEqual(merkleRootOfRanges(withComma.bytes, withComma.offsets, n, 1), merkleRootJs(leaves));
  // A decreasing offset in either subtree is refused, not read past.
  for (const at of [1000, n - 5]) {
    const bad = withComma.offsets.slice();
    bad[at] = (bad[at - 1] as number) - 1;
    assert.throws(() => addon.root(withComma.bytes, bad, n, 1), RangeError, `bad offset at ${at}`);
  }
});

test('views, shared memory and leaves scattered over several buffers give the same tree', { skip: needsAddon }, () => {
  const leaves = Array.from({ length: 33 }, (_, i) => pseudoRandomBytes(i, (i * 37) % 150));
  const { bytes, offsets } = pack(leaves, 5);
  const root = merkleRootOfRangesJs(bytes, offsets, 33);
  // A view with a byte offset, and offsets that are a view of a longer array.
  const host = new Uint8Array(bytes.length + 3);
  host.set(bytes, 3);
  const longer = new Uint32Array(40);
  longer.set(offsets, 4);
  assert.deepEqual(merkleRootOfRanges(host.subarray(3), longer.subarray(4, 38), 33), root);
  // Buffer is a Uint8Array; SharedArrayBuffer-backed arrays are accepted too.
  assert.deepEqual(merkleRootOfRanges(Buffer.from(bytes), offsets, 33), root);
  const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
  shared.set(bytes);
  const sharedOffsets = new Uint32Array(new SharedArrayBuffer(offsets.byteLength));
  sharedOffsets.set(offsets);
  assert.deepEqual(merkleRootOfRanges(shared, sharedOffsets, 33), root);
  // merkleRoot takes leaves back to back in one buffer as a view, others as a copy: same root.
  const contiguous = leaves.map((_, i) => bytes.subarray(offsets[i]!, offsets[i + 1]!));
  assert.deepEqual(merkleRoot(contiguous), root);
  const gapped = leaves.map((leaf) => {
    const copy = new Uint8Array(leaf.length + 1);
    copy.set(leaf, 1);
    return copy.subarray(1);
  });
  assert.deepEqual(merkleRoot(gapped), root);
});

/** A Uint8Array whose buffer was transferred away: it now has no bytes. */
function detached(length: number): Uint8Array {
  const view = new Uint8Array(length);
  structuredClone(view.buffer, { transfer: [view.buffer] });
  return view;
}

test('bad arguments throw the same TypeError or RangeError natively and in TypeScript, never crash', { skip: needsAddon }, () => {
  const { bytes, offsets } = pack([Uint8Array.of(1, 2), Uint8Array.of(3), new Uint8Array(0)]);
  const cases: [string, unknown[], typeof TypeError | typeof RangeError][] = [
    ['no arguments', [], TypeError],
    ['bytes as a string', ['abc', offsets, 3], TypeError],
    ['bytes as an array', [[1, 2, 3], offsets, 3], TypeError],
    ['bytes as a Uint16Array', [new Uint16Array(3), offsets, 3], TypeError],
    ['bytes as a Uint8ClampedArray', [new Uint8ClampedArray(3), offsets, 3], TypeError],
    ['bytes as a DataView', [new DataView(bytes.buffer), offsets, 3], TypeError],
    ['bytes as an ArrayBuffer', [bytes.buffer, offsets, 3], TypeError],
    ['offsets missing', [bytes], TypeError],
    ['offsets as an array', [bytes, [0, 2, 3, 3], 3], TypeError],
    ['offsets as an Int32Array', [bytes, Int32Array.of(0, 2, 3, 3), 3], TypeError],
    ['offsets as a Float64Array', [bytes, Float64Array.of(0, 2, 3, 3), 3], TypeError],
    ['count missing', [bytes, offsets], TypeError],
    ['count as a string', [bytes, offsets, '3'], TypeError],
    ['count as a bigint', [bytes, offsets, 3n], TypeError],
    ['count negative', [bytes, offsets, -1], RangeError],
    ['count fractional', [bytes, offsets, 2.5], RangeError],
    ['count NaN', [bytes, offsets, NaN], RangeError],
    ['count infinite', [bytes, offsets, Infinity], RangeError],
    ['count 2^32', [bytes, offsets, 2 ** 32], RangeError],
    ['count too small for offsets', [bytes, offsets, 2], RangeError],
    ['count too large for offsets', [bytes, offsets, 4], RangeError],
    ['offsets decreasing', [bytes, Uint32Array.of(0, 2, 1, 3), 3], RangeError],
    ['offsets past the end', [bytes, Uint32Array.of(0, 2, 3, 4), 3], RangeError],
    ['offsets far past the end', [bytes, Uint32Array.of(0, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff), 3], RangeError],
    ['first offset past the end', [bytes, Uint32Array.of(4, 4, 4, 4), 3], RangeError],
    ['first offset past the end of an empty tree', [bytes, Uint32Array.of(4), 0], RangeError],
    ['offsets into a detached buffer', [detached(8), Uint32Array.of(0, 1), 1], RangeError],
  ];
  const addon = native!;
  const call = (f: (...a: unknown[]) => unknown, args: unknown[]) => () => f(...args);
  for (const [what, args, error] of cases) {
    assert.throws(call(addon.root as (...a: unknown[]) => unknown, args), error, `native root: ${what}`);
    assert.throws(call(merkleRootOfRangesJs as (...a: unknown[]) => unknown, args), error, `JS root: ${what}`);
    const withIndex = [args[0], args[1], args[2], 0];
    assert.throws(call(addon.auditPath as (...a: unknown[]) => unknown, withIndex), error, `native path: ${what}`);
    assert.throws(call(auditPathOfRangesJs as (...a: unknown[]) => unknown, withIndex), error, `JS path: ${what}`);
  }
  for (const index of [-1, 3, 1.5, NaN, Infinity, 2 ** 32, '0', undefined, null]) {
    assert.throws(() => addon.auditPath(bytes, offsets, 3, index as number), RangeError, `native index ${String(index)}`);
    assert.throws(() => auditPathOfRangesJs(bytes, offsets, 3, index as number), RangeError, `JS index ${String(index)}`);
  }
  assert.throws(() => auditPath([], 0), RangeError);
  assert.throws(() => auditPathOfRanges(new Uint8Array(0), new Uint32Array(1), 0, 0), RangeError);
  // The process is still sound: the next call answers.
  assert.deepEqual(merkleRootOfRanges(bytes, offsets, 3), merkleRootOfRangesJs(bytes, offsets, 3));
});

/** Computes a root in a new worker thread; resolves with its backend and root. */
function rootInWorker(bytes: Uint8Array, offsets: Uint32Array, count: number): Promise<{ backend: string; root: Uint8Array }> {
  const merkleUrl = new URL('./merkle.js', import.meta.url).href;
  // An eval worker runs as CommonJS, so it reaches the ESM module through a dynamic import.
  const source = `
    const { parentPort, workerData: { bytes, offsets, count } } = require('node:worker_threads');
    import(${JSON.stringify(merkleUrl)}).then((m) => {
      parentPort.postMessage({ backend: m.merkleBackend(), root: m.merkleRootOfRanges(bytes, offsets, count) });
    });`;
  const worker = new Worker(source, { eval: true, workerData: { bytes, offsets, count } });
  return new Promise<{ backend: string; root: Uint8Array }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker exited with ${code} before answering`)));
  }).finally(() => worker.terminate());
}

test('the addon loads in a worker thread, and in two at once, beside the main thread', { skip: needsAddon }, async () => {
  const leaves = Array.from({ length: 5000 }, (_, i) => leafData(`did:ron:w${i}`, String(i)));
  const { bytes, offsets } = pack(leaves);
  const expected = merkleRootOfRangesJs(bytes, offsets, leaves.length);
  // Loaded here first, so each worker registers the module in a second and third context.
  assert.deepEqual(merkleRootOfRanges(bytes, offsets, leaves.length), expected);
  const one = await rootInWorker(bytes, offsets, leaves.length);
  assert.deepEqual(one, { backend: 'native', root: expected });
  const two = await Promise.all([rootInWorker(bytes, offsets, leaves.length), rootInWorker(bytes, offsets, leaves.length)]);
  assert.deepEqual(two, [
    { backend: 'native', root: expected },
    { backend: 'native', root: expected },
  ]);
});

// ---- the addon's BLAKE3 digest (hash.ts sends every message longer than one chunk to it)

test('the addon digests any view as the blake3 package does, across chunk and SIMD batch boundaries', { skip: needsAddon }, () => {
  const addon = native!;
  const big = new Uint8Array(70_000).map((_, i) => (i * 131 + 7) & 0xff);
  for (const n of [0, 1, 63, 64, 65, 1023, 1024, 1025, 2048, 4096, 8191, 8192, 16_385, 65_536, 69_999]) {
    for (const off of [0, 1]) {
      const view = big.subarray(off, Math.min(big.length, off + n));
      assert.equal(formatDigest(addon.blake3(view)), `b3:${packageHash(view).toString('hex')}`, `length ${view.length} at ${off}`);
    }
  }
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 20_000 }), (data) => {
      assert.equal(formatDigest(addon.blake3(data)), `b3:${packageHash(data).toString('hex')}`);
    }),
    { numRuns: 200 },
  );
  assert.equal(formatDigest(addon.blake3(detached(16))), b3(new Uint8Array(0)), 'a detached view has no bytes');
  assert.equal(b3(big), formatDigest(addon.blake3(big)), 'hash.ts uses the addon for long messages');
});

test('the addon digest refuses anything but a Uint8Array with a TypeError', { skip: needsAddon }, () => {
  const digest = native!.blake3 as (...a: unknown[]) => unknown;
  for (const args of [[], [undefined], ['abc'], [[1, 2]], [new Uint16Array(2)], [new Uint8ClampedArray(2)], [new DataView(new ArrayBuffer(2))], [new ArrayBuffer(2)]]) {
    assert.throws(() => digest(...args), TypeError, JSON.stringify(args.map((a) => Object.prototype.toString.call(a))));
  }
});

test('a compute thread terminated while it hashes ends alone: the process lives on', { skip: needsAddon }, async () => {
  // Piscina terminates the worker of a task whose request was aborted (client gone, deadline). The
  // @c4312/blake3-native addon that hash.ts used for long messages turned the termination into a
  // fatal error of the whole process when it caught the thread inside createHash(); this is that
  // case a hundred times over, with the thread hashing 4 KB messages in a loop.
  const hashUrl = new URL('./hash.js', import.meta.url).href;
  const source = `
    const { parentPort } = require('node:worker_threads');
    import(${JSON.stringify(hashUrl)}).then((m) => {
      const message = new Uint8Array(4096);
      parentPort.postMessage('hashing');
      for (;;) m.b3(message);
    });`;
  for (let i = 0; i < 100; i++) {
    const worker = new Worker(source, { eval: true });
    await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await new Promise((resolve) => setTimeout(resolve, i % 5));
    assert.equal(await worker.terminate(), 1);
  }
  assert.equal(b3(new Uint8Array(4096)), `b3:${packageHash(new Uint8Array(4096)).toString('hex')}`);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NameTable, halfSipHash, halfSipHash13 } from './names.js';

const enc = (s: string) => new TextEncoder().encode(s);

function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (const b of enc(s)) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
}

test('finds every name by its bytes and misses names that are not listed', () => {
  const names = Array.from({ length: 5000 }, (_, i) => `did:ron:n${String(i).padStart(7, '0')}`).concat(['ünïcode', 'a']);
  const t = new NameTable(names);
  names.forEach((n, i) => {
    const b = enc(`xx${n}yy`);
    assert.equal(t.lookup(b, 2, b.length - 2), i);
  });
  for (const absent of ['did:ron:n9999999', '', 'b', 'did:ron:n000000']) {
    const b = enc(absent);
    assert.equal(t.lookup(b, 0, b.length), -1);
  }
});

test('a colliding (hash-flooding) name list still resolves every name correctly', () => {
  // Names whose FNV hashes agree in the low 13 bits all land in one probe run.
  const names: string[] = [];
  for (let i = 0; names.length < 400 && i < 5_000_000; i++) {
    const n = `x${i}`;
    if ((fnv(n) & 0x1fff) === 0) names.push(n);
  }
  names.sort();
  assert.ok(names.length >= 200, 'enough colliding names were found');
  const t = new NameTable(names);
  names.forEach((n, i) => {
    const b = enc(n);
    assert.equal(t.lookup(b, 0, b.length), i);
  });
  assert.equal(t.lookup(enc('nope'), 0, 4), -1);
});

// The reference implementation's vectors_hsip32 (HalfSipHash-2-4, 32-bit output; key 00..07,
// message i = bytes 00..i-1), little-endian bytes as published in veorq/SipHash vectors.h.
const HSIP32_VECTORS: Record<number, string> = {
  0: 'a9359f5b',
  1: '27475ab8',
  2: 'fa62a603',
  3: '8afee704',
  4: '2a6e4689',
  5: 'c5fab669',
  7: '8bcf63c5',
  8: 'd0b8848f',
  15: '74fe2b97',
  16: 'd9b5ac84',
  31: '5d589f1a',
  63: '59ea4a74',
};

test('halfSipHash(2, 4) matches the reference vectors, and halfSipHash13 is the same function at (1, 3)', () => {
  const buf = Uint8Array.from({ length: 64 }, (_, i) => i);
  const k0 = 0x03020100;
  const k1 = 0x07060504;
  for (const [len, hex] of Object.entries(HSIP32_VECTORS)) {
    const h = halfSipHash(buf, 0, Number(len), k0, k1, 2, 4);
    const le = Buffer.alloc(4);
    le.writeUInt32LE(h);
    assert.equal(le.toString('hex'), hex, `length ${len}`);
  }
  for (let len = 0; len <= 40; len++) {
    for (const start of [0, 3]) {
      assert.equal(halfSipHash13(buf, start, start + len, k0, k1), halfSipHash(buf, start, start + len, k0, k1, 1, 3), `length ${len} at ${start}`);
    }
  }
});

/** Ids whose old unkeyed FNV-1a hashes agree in their low `bits` bits: a flood crafted offline. */
function fnvFlood(count: number, bits: number): string[] {
  const mask = (1 << bits) - 1;
  const out: string[] = [];
  for (let i = 0; out.length < count; i++) {
    const n = `did:ron:${i.toString(36)}`;
    if ((fnv(n) & mask) === 0) out.push(n);
  }
  return out;
}

test('ids crafted to collide under the old unkeyed FNV cost no more probes than ordinary ids', () => {
  // 60 crafted ids fill one probe run under FNV (a table of 128 slots: 7 bits), just under the
  // Map fallback (64): the flood the security review used, at a size a test can craft quickly.
  const crafted = fnvFlood(60, 7);
  const ordinary = Array.from({ length: 60 }, (_, i) => `did:ron:ordinary-${i}`);
  // What the old table paid: every crafted id probes past all earlier ones, 0 + 1 + … + 59.
  let oldProbes = 0;
  const slots = new Set<number>();
  for (const n of crafted) {
    let s = fnv(n) & 127;
    while (slots.has(s)) {
      s = (s + 1) & 127;
      oldProbes++;
    }
    slots.add(s);
  }
  assert.equal(oldProbes, (59 * 60) / 2, 'the crafted ids do collide under FNV');
  for (const key of [[0x9e3779b9, 0x7f4a7c15], [1, 2], [0xdeadbeef, 0x01234567]] as const) {
    const flood = new NameTable(crafted, key);
    const calm = new NameTable(ordinary, key);
    // With a load factor under 1/2 a few short runs are normal; a flood would be ~1770.
    assert.ok(flood.buildProbes <= calm.buildProbes + 40, `crafted ${flood.buildProbes} vs ordinary ${calm.buildProbes} probes`);
    crafted.forEach((n, i) => {
      const b = enc(n);
      assert.equal(flood.lookup(b, 0, b.length), i);
    });
  }
});

test('the slot hash depends on the key: the same ids land differently under two keys', () => {
  const b = enc('did:ron:alice');
  assert.notEqual(halfSipHash13(b, 0, b.length, 1, 2), halfSipHash13(b, 0, b.length, 1, 3));
  assert.notEqual(halfSipHash13(b, 0, b.length, 1, 2), halfSipHash13(b, 0, b.length, 2, 2));
});

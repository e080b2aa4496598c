import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NameTable } from './names.js';

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

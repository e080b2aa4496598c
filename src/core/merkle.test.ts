// node:test schedules every test() itself; the promise it returns needs no handling.
 
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hash as nativeHash } from 'blake3';
import fc from 'fast-check';
import { b3, formatDigest } from './hash.js';
import { canonicalBytes } from './jcs.js';
import { auditPath, leafData, merkleRoot, verifyInclusion } from './merkle.js';

// Reference RFC 6962 §2.1 definitions, written recursively from the text and hashed with the
// native addon, so they share no code with the implementation under test.
const H = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(nativeHash(Buffer.concat(parts)));
const largestPowerOfTwoBelow = (n: number): number => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};
function refMth(d: readonly Uint8Array[]): Uint8Array {
  if (d.length === 0) return H();
  if (d.length === 1) return H(Uint8Array.of(0), d[0]!);
  const k = largestPowerOfTwoBelow(d.length);
  return H(Uint8Array.of(1), refMth(d.slice(0, k)), refMth(d.slice(k)));
}
function refPath(m: number, d: readonly Uint8Array[]): Uint8Array[] {
  if (d.length <= 1) return [];
  const k = largestPowerOfTwoBelow(d.length);
  return m < k ? [...refPath(m, d.slice(0, k)), refMth(d.slice(k))] : [...refPath(m - k, d.slice(k)), refMth(d.slice(0, k))];
}
/** Which side each path element sits on (true: left of the running hash), from the same recursion. */
function refShape(m: number, n: number): boolean[] {
  if (n <= 1) return [];
  const k = largestPowerOfTwoBelow(n);
  return m < k ? [...refShape(m, k), false] : [...refShape(m - k, n - k), true];
}

const leavesOf = (n: number, salt = ''): Uint8Array[] =>
  Array.from({ length: n }, (_, i) => leafData(`did:ron:${salt}${i}`, String(i * 37 + 1)));

const flip = (bytes: Uint8Array, at: number): Uint8Array => {
  const copy = bytes.slice();
  copy[at] = copy[at]! ^ 0x01;
  return copy;
};

test('the SPEC §9 payees give the published payouts_root', () => {
  const leaves = [
    leafData('did:ron:alice', '360'),
    leafData('did:ron:bob', '400'),
    leafData('did:ron:erin', '167'),
  ];
  assert.equal(formatDigest(merkleRoot(leaves)), 'b3:d6bdc847ba63d60c47857cb7d5085ee333704038d8fea3790b2413c897fee5aa');
});

test('the empty tree hashes to b3 of the empty string and one leaf to b3(0x00 ‖ data)', () => {
  assert.equal(formatDigest(merkleRoot([])), b3(new Uint8Array(0)));
  const d = leafData('did:ron:solo', '5');
  assert.equal(formatDigest(merkleRoot([d])), b3(Uint8Array.of(0, ...d)));
});

test('agrees with the recursive RFC 6962 definition for 0 to 70 leaves', () => {
  for (let n = 0; n <= 70; n++) {
    const leaves = leavesOf(n);
    assert.deepEqual(merkleRoot(leaves), refMth(leaves), `n = ${n}`);
  }
});

test('hashes leaves longer than one BLAKE3 chunk like any other', () => {
  const leaves = [leafData('did:ron:' + 'x'.repeat(1100), '1'), leafData('did:ron:y', '2'), new Uint8Array(1023)];
  assert.deepEqual(merkleRoot(leaves), refMth(leaves));
});

test('audit paths equal the RFC 6962 PATH for every index of trees of 1 to 40 leaves', () => {
  for (let n = 1; n <= 40; n++) {
    const leaves = leavesOf(n);
    for (let i = 0; i < n; i++) assert.deepEqual(auditPath(leaves, i), refPath(i, leaves), `n = ${n}, index ${i}`);
  }
});

test('auditPath refuses an index outside the tree', () => {
  const leaves = leavesOf(3);
  for (const bad of [-1, 3, 1.5, NaN]) assert.throws(() => auditPath(leaves, bad), RangeError);
  assert.throws(() => auditPath([], 0), RangeError);
});

test('leaf data is the JCS form of {actor, amount_minor}', () => {
  for (const actor of ['did:ron:alice', 'a"b\\c', 'ünï€😀', 'tab\there']) {
    assert.deepEqual(leafData(actor, '123'), canonicalBytes({ amount_minor: '123', actor }));
  }
  assert.throws(() => leafData('\ud800', '1'), TypeError);
});

test('every audit path verifies, and a changed amount, index, path byte or element count fails', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 300 }), fc.nat(), (n, seed) => {
      const leaves = leavesOf(n, `${seed}-`);
      const root = merkleRoot(leaves);
      for (let i = 0; i < n; i++) {
        const leaf = leaves[i]!;
        const path = auditPath(leaves, i);
        assert.equal(verifyInclusion(leaf, i, n, path, root), true, `n ${n} index ${i}`);
        const other = leafData(`did:ron:${seed}-${i}`, String(i * 37 + 2));
        assert.equal(verifyInclusion(other, i, n, path, root), false, 'changed amount');
        for (const j of [i - 1, i + 1, (i + seed) % n]) {
          if (j !== i) assert.equal(verifyInclusion(leaf, j, n, path, root), false, `index ${j} for ${i}`);
        }
        path.forEach((p, k) => {
          const altered = path.slice();
          altered[k] = flip(p, (seed + 7 * k + i) % 32);
          assert.equal(verifyInclusion(leaf, i, n, altered, root), false, `byte of element ${k}`);
        });
        assert.equal(verifyInclusion(leaf, i, n, [...path, root], root), false, 'extra element');
        if (path.length > 0) {
          assert.equal(verifyInclusion(leaf, i, n, path.slice(1), root), false, 'missing first element');
          assert.equal(verifyInclusion(leaf, i, n, path.slice(0, -1), root), false, 'missing last element');
        }
      }
    }),
    { numRuns: 25 },
  );
});

test('a wrong tree size fails unless it gives the proof the same shape, since the root binds the size', () => {
  // The proof for index 0 of 4 leaves also passes as index 0 of 3: both paths are "right, right".
  // Verifiers must therefore take tree_size from the signed manifest, never from the proof.
  const four = leavesOf(4);
  assert.equal(verifyInclusion(four[0]!, 0, 3, auditPath(four, 0), merkleRoot(four)), true);
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 200 }), fc.nat(), (n, seed) => {
      const leaves = leavesOf(n, `${seed}-`);
      const root = merkleRoot(leaves);
      const i = seed % n;
      const path = auditPath(leaves, i);
      const shape = JSON.stringify(refShape(i, n));
      for (let size = i + 1; size <= 2 * n + 2; size++) {
        const same = JSON.stringify(refShape(i, size)) === shape;
        assert.equal(verifyInclusion(leaves[i]!, i, size, path, root), same, `n ${n} index ${i} as size ${size}`);
      }
    }),
    { numRuns: 100 },
  );
});

test('flipping any byte of any path element makes the proof fail', () => {
  for (const n of [2, 7, 13, 16]) {
    const leaves = leavesOf(n);
    const root = merkleRoot(leaves);
    for (let i = 0; i < n; i++) {
      const path = auditPath(leaves, i);
      for (let k = 0; k < path.length; k++) {
        for (let at = 0; at < 32; at++) {
          const altered = path.slice();
          altered[k] = flip(path[k]!, at);
          assert.equal(verifyInclusion(leaves[i]!, i, n, altered, root), false, `n ${n} index ${i} element ${k} byte ${at}`);
        }
      }
    }
  }
});

test('verification answers false, never throws, on hostile numbers and shapes', () => {
  const leaves = leavesOf(5);
  const root = merkleRoot(leaves);
  const leaf = leaves[2]!;
  const path = auditPath(leaves, 2);
  assert.equal(verifyInclusion(leaf, 2, 5, path, root), true);
  const numbers = [-1, 1.5, NaN, Infinity, -Infinity, 2 ** 53, 2 ** 60, -0.5, 5, 6];
  for (const index of numbers) assert.equal(verifyInclusion(leaf, index, 5, path, root), false, `index ${index}`);
  for (const size of [0, -5, 2, 2.5, NaN, Infinity, 2 ** 53, 2 ** 64]) {
    assert.equal(verifyInclusion(leaf, 2, size, path, root), false, `size ${size}`);
  }
  const junk: unknown[] = [null, 'path', [null], [new Uint8Array(31)], [...path, new Uint8Array(33)], new Array(60).fill(root)];
  for (const p of junk) assert.equal(verifyInclusion(leaf, 2, 5, p as Uint8Array[], root), false, String(p));
  assert.equal(verifyInclusion(leaf, 2, 5, path, new Uint8Array(31)), false, 'short root');
  assert.equal(verifyInclusion(null as unknown as Uint8Array, 2, 5, path, root), false, 'no leaf');
  assert.equal(verifyInclusion(leaf, 2 ** 52, 2 ** 53 - 1, path, root), false, 'huge tree');
  assert.equal(verifyInclusion(leaf, 0, 1, [], root), false, 'one-leaf tree with another root');
  assert.equal(verifyInclusion(leaf, 0, 1, [], merkleRoot([leaf])), true, 'one-leaf tree');
});

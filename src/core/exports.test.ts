// SPEC §12 exports, checked by the reference implementations: the claim tree dump is loaded and
// validated by @openzeppelin/merkle-tree itself, has the root it computes from the same values,
// and every proof we derive verifies with it; the CSV parses back to the manifest's payees.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import fc from 'fast-check';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { type ExportPayee, abiEncodeClaim, abiEncodeClaims, buildClaimTree, buildClaimTreeOfSpans, manifestPayeeSpans, spanPayees, buildClaimTreeJs, claimDumpChunks, manifestExportPayees, claimProof, csvChunks, exportPayees, nodeHex } from './exports.js';
import { claimDumpPieces, claimDumpSpanPieces, csvPieces, csvSpanPieces } from './export-pieces.js';
import { nativeAddon } from './native.js';

const TYPES = ['string', 'uint256'];

function payeesOf(file: string): ExportPayee[] {
  const p = exportPayees(JSON.parse(readFileSync(file, 'utf8')));
  if (typeof p === 'string') assert.fail(p);
  return p;
}

/** An RFC 4180 reader (quoted fields, doubled quotes, LF records) for checking our writer. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (ch === '"') quoted = false;
      else field += ch;
      i++;
      continue;
    }
    if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
    i++;
  }
  assert.equal(field, '', 'the last record ends with LF');
  return rows;
}

function checkWithOpenZeppelin(payees: readonly { actor: string; amount_minor: string }[]): void {
  const tree = buildClaimTree(payees);
  const dump = JSON.parse([...claimDumpChunks(payees, tree, 64)].join(''));
  const loaded = StandardMerkleTree.load(dump); // validates every leaf and node
  const values = payees.map((p) => [p.actor, p.amount_minor]);
  const theirs = StandardMerkleTree.of(values, TYPES);
  assert.equal(loaded.root, theirs.root);
  assert.equal(nodeHex(tree, 0), theirs.root);
  assert.deepEqual(dump, theirs.dump());
  payees.forEach((p, i) => {
    const proof = claimProof(tree, tree.treeIndex[i] as number);
    assert.deepEqual(proof, theirs.getProof(i));
    assert.ok(StandardMerkleTree.verify(theirs.root, TYPES, [p.actor, p.amount_minor], proof));
  });
}

test('the claim tree of the SPEC example and of the golden S vector is OpenZeppelin\'s own', () => {
  checkWithOpenZeppelin(payeesOf('vectors/example/manifest-2026-01-01.json'));
  checkWithOpenZeppelin(payeesOf('vectors/S/manifest-row.json'));
});

test('claim trees of arbitrary ids and amounts up to 2^128 match OpenZeppelin (property)', () => {
  const payee = fc.record({ actor: fc.string({ unit: 'binary', minLength: 1, maxLength: 80 }), amount_minor: fc.bigInt({ min: 1n, max: (1n << 128n) - 1n }).map(String) });
  fc.assert(
    fc.property(fc.uniqueArray(payee, { minLength: 1, maxLength: 40, selector: (p) => p.actor }), (ps) => {
      checkWithOpenZeppelin(ps.filter((p) => p.actor.isWellFormed()).length > 0 ? ps.filter((p) => p.actor.isWellFormed()) : [{ actor: 'x', amount_minor: '1' }]);
    }),
    { numRuns: 100 },
  );
});

test('a tree needs a payee', () => {
  assert.throws(() => buildClaimTree([]), RangeError);
});

test('the CSV is a header and one RFC 4180 line per payee, parsing back to the payees', () => {
  const payees = [...payeesOf('vectors/example/manifest-2026-01-01.json'), { actor: 'did:x,"quoted", y', amount_minor: '5', score: '7' }, { actor: 'ünï', amount_minor: '1', score: '0' }];
  const text = [...csvChunks(payees, 16)].join('');
  assert.ok(text.startsWith('actor,amount_minor,score\ndid:ron:alice,360,1864\n'));
  assert.ok(text.includes('\n"did:x,""quoted"", y",5,7\n'));
  const rows = parseCsv(text);
  assert.deepEqual(rows[0], ['actor', 'amount_minor', 'score']);
  assert.deepEqual(rows.slice(1), payees.map((p) => [p.actor, p.amount_minor, p.score]));
  const s = payeesOf('vectors/S/manifest-row.json');
  assert.deepEqual(parseCsv([...csvChunks(s)].join('')).slice(1), s.map((p) => [p.actor, p.amount_minor, p.score]));
});

test('a manifest without well-formed payouts is named, not exported', () => {
  assert.equal(exportPayees({}), 'manifest has no payouts array');
  assert.equal(exportPayees({ payouts: [{ actor: 'a', amount_minor: '01', score: '1' }] }), 'manifest payouts are malformed');
});

// The native claim tree (native/rewarder_native.c, keccak-256 in C) against the TypeScript one;
// skipped only where the addon is not built (the merkle-native tests fail for that unless
// REWARDER_ALLOW_NO_NATIVE=1).
const addon = nativeAddon();
const needsAddon = addon === null ? 'the native addon is not built or does not load' : false;

test('the native claim tree equals the TypeScript one: nodes and tree indexes (property)', { skip: needsAddon }, () => {
  // Actors across the 32-byte word and the 136-byte keccak block boundaries, amounts up to 2^256−1.
  const payee = fc.record({
    actor: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 70 }),
    amount_minor: fc.oneof(fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }), fc.bigInt({ min: 0n, max: 2n ** 53n })).map(String),
  });
  fc.assert(
    fc.property(fc.uniqueArray(payee, { minLength: 1, maxLength: 300, selector: (p) => p.actor }), (ps) => {
      const mine = buildClaimTree(ps);
      const ref = buildClaimTreeJs(ps);
      assert.deepEqual(mine.nodes, ref.nodes);
      assert.deepEqual(mine.treeIndex, ref.treeIndex);
      assert.equal(mine.count, ref.count);
    }),
    { numRuns: 60 },
  );
  const { bytes, offsets } = abiEncodeClaims([{ actor: 'a', amount_minor: '1' }]);
  assert.deepEqual(bytes, abiEncodeClaim('a', '1'));
  assert.throws(() => addon?.claimTree(bytes, offsets, 1, new Uint8Array(64), new Uint32Array(1)), RangeError);
  assert.throws(() => addon?.claimTree(bytes, Uint32Array.of(0, 999), 1, new Uint8Array(32), new Uint32Array(1)), RangeError);
});

test('the native keccak-256 equals @noble/hashes on every length to 300 bytes and across the rate (property)', { skip: needsAddon }, () => {
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  for (let len = 0; len <= 300; len++) {
    const data = Uint8Array.from({ length: len }, (_, i) => (i * 131 + len * 7) & 0xff);
    assert.equal(hex(addon?.keccak256(data) ?? new Uint8Array()), hex(keccak_256(data)), `length ${len}`);
  }
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ minLength: 135, maxLength: 137 }), fc.uint8Array({ minLength: 271, maxLength: 273 })), (data) => {
      assert.equal(hex(addon?.keccak256(data) ?? new Uint8Array()), hex(keccak_256(data)));
    }),
    { numRuns: 500 },
  );
  assert.equal(hex(addon?.keccak256(new Uint8Array()) ?? new Uint8Array()), 'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
  // The dump's node text in C: bounds checked (69 bytes a node), never written past `out`.
  const nodes = Uint8Array.from({ length: 96 }, (_, i) => i);
  const out = new Uint8Array(1 + 69 * 3);
  assert.equal(addon?.claimNodesJson(nodes, 0, 3, out, 1), 1 + 68 + 69 + 69);
  assert.throws(() => addon?.claimNodesJson(nodes, 1, 3, out, 71), RangeError);
  assert.throws(() => addon?.claimNodesJson(nodes, 2, 4, out, 0), RangeError);
  assert.throws(() => addon?.claimNodesJson(nodes, 2, 1, out, 0), RangeError);
});

// rewarder_native.c splits the leaves and each large tree level across two threads from 8,192
// items (CLAIM_PARALLEL_MIN): sizes below, at and well above it, with actor ids of every length
// class (one and two keccak blocks) and duplicated amounts.
test('the native claim tree equals the TypeScript one across the two-thread threshold', { skip: needsAddon }, () => {
  for (const n of [8191, 8192, 8193, 16385, 20011]) {
    const ps = Array.from({ length: n }, (_, i) => ({ actor: `did:x:${i}`.padEnd(8 + (i % 97), 'y'), amount_minor: String((i * 7919) % 1000) }));
    const mine = buildClaimTree(ps);
    const ref = buildClaimTreeJs(ps);
    assert.ok(Buffer.from(mine.nodes).equals(Buffer.from(ref.nodes)), `nodes at n = ${n}`);
    assert.ok(Buffer.from(mine.treeIndex.buffer).equals(Buffer.from(ref.treeIndex.buffer)), `tree indexes at n = ${n}`);
    // The same leaves written from a manifest's spans (each thread its own scratch messages).
    const spans = manifestPayeeSpans(new TextEncoder().encode(JSON.stringify({ payouts: ps.map((p) => ({ ...p, score: '1' })) })));
    assert.ok(spans !== null && spans.count === n);
    const fromSpans = buildClaimTreeOfSpans(spans);
    assert.ok(Buffer.from(fromSpans.nodes).equals(Buffer.from(ref.nodes)), `nodes from spans at n = ${n}`);
    assert.ok(Buffer.from(fromSpans.treeIndex.buffer).equals(Buffer.from(ref.treeIndex.buffer)), `tree indexes from spans at n = ${n}`);
  }
});

// The workers' export path (manifestPayeeSpans → csvSpanPieces / claimDumpSpanPieces) copies the
// manifest's bytes; it must give the very bytes of the string path, and leave to it (null) every
// manifest it does not read exactly: escaped actors, other member orders, malformed documents.
test('the exports from payee spans are byte for byte those from the payees (property)', () => {
  const same = (a: Uint8Array[], b: Uint8Array[]) => Buffer.concat(a).equals(Buffer.concat(b));
  // Each check twice: with the addon's loops and with the TypeScript ones (the fallback without it).
  const check = (bytes: Uint8Array, spaced = false) => {
    for (const native of addon === null ? [null] : [addon, null]) checkWith(bytes, spaced, native);
  };
  const checkWith = (bytes: Uint8Array, spaced: boolean, native: typeof addon) => {
    const spans = manifestPayeeSpans(bytes, native);
    const payees = manifestExportPayees(bytes);
    if (typeof payees === 'string') return assert.equal(spans, null);
    const escaped = new TextDecoder().decode(bytes).includes('\\');
    if (spans === null) return assert.ok(escaped || spaced, 'only escaped or spaced-out manifests leave the span path');
    assert.deepEqual(spanPayees(spans), payees);
    if (payees.length === 0) return;
    const tree = buildClaimTreeOfSpans(spans, native);
    assert.deepEqual(tree, buildClaimTree(payees));
    // 1034 = 14·69 + 68: a piece that a node's 69 bytes end exactly (68 bytes were reserved once).
    for (const piece of [1024, 1034, 1 << 20]) {
      assert.ok(same(csvSpanPieces(spans, piece, native), csvPieces(payees, piece)));
      const dump = claimDumpSpanPieces(spans, tree, piece, native);
      assert.ok(dump.every((p) => p.byteLength <= piece));
      assert.ok(same(dump, claimDumpPieces(payees, tree, piece)));
    }
  };
  const file = new Uint8Array(readFileSync('vectors/S/manifest-row.json'));
  assert.ok(manifestPayeeSpans(file) !== null, "our writer's manifest is read as spans");
  check(file);
  const money = fc.oneof(fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }), fc.bigInt({ min: 0n, max: 2n ** 53n }), fc.constantFrom(0n, 9n, 10n, 999_999_999_999_999n, 1_000_000_000_000_000n)).map(String);
  const actor = fc.oneof(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), fc.stringMatching(/^[a-z:,]{1,12}$/), fc.constant('x'.repeat(1100)));
  const payee = fc.record({ actor, amount_minor: money, score: money });
  fc.assert(
    fc.property(fc.uniqueArray(payee, { maxLength: 40, selector: (p) => p.actor }), fc.boolean(), (ps, spaced) => {
      const doc = { epoch_id: 'e', payouts: ps, z: [1, { a: 'b' }] };
      check(new TextEncoder().encode(spaced ? JSON.stringify(doc, null, 1) : JSON.stringify(doc)), spaced);
    }),
    { numRuns: 150 },
  );
  for (const bad of ['{"payouts":[{"actor":"a","amount_minor":"01","score":"1"}]}', '{"payouts":[{"score":"1","actor":"a","amount_minor":"1"}]}', '{"payouts":[{"actor":"a","amount_minor":"1","score":"1","x":1}]}', '{"payouts":[]}', '{"payouts":[],"payouts":[]}', '{"payouts":[{"actor":"a","amount_minor":"1","score":"1"}]', '[]', '{"payouts":[{"actor":"a\\u0041","amount_minor":"1","score":"1"}]}']) {
    check(new TextEncoder().encode(bad), true);
  }
  // Amounts past uint256 are refused as the string path refuses them.
  const over = manifestPayeeSpans(new TextEncoder().encode(`{"payouts":[{"actor":"a","amount_minor":"${1n << 256n}","score":"1"}]}`));
  assert.ok(over !== null);
  assert.throws(() => buildClaimTreeOfSpans(over), /amount exceeds uint256/);
  assert.throws(() => buildClaimTree([{ actor: 'a', amount_minor: String(1n << 256n) }]), /amount exceeds uint256/);
  const max = manifestPayeeSpans(new TextEncoder().encode(`{"payouts":[{"actor":"a","amount_minor":"${(1n << 256n) - 1n}","score":"1"},{"actor":"b","amount_minor":"${10n ** 19n}","score":"1"}]}`));
  assert.ok(max !== null);
  assert.deepEqual(buildClaimTreeOfSpans(max), buildClaimTreeJs(spanPayees(max)));
});

test('the export pieces as bytes are the texts of csvChunks and claimDumpChunks, whatever the piece size', () => {
  const join = (pieces: Uint8Array[]) => Buffer.concat(pieces).toString('utf8');
  const s = payeesOf('vectors/S/manifest-row.json');
  const odd = [...payeesOf('vectors/example/manifest-2026-01-01.json'), { actor: 'did:x,"quoted", y\\', amount_minor: '5', score: '7' }, { actor: 'ünï😀', amount_minor: '1', score: '0' }, { actor: 'x'.repeat(2000), amount_minor: '2', score: '3' }];
  for (const payees of [s, odd]) {
    const tree = buildClaimTree(payees);
    for (const piece of [1024, 1034, 4096, 1 << 20]) {
      const dump = claimDumpPieces(payees, tree, piece);
      assert.ok(dump.every((p) => p.byteLength <= piece && p.byteOffset === 0 && p.buffer.byteLength === p.byteLength));
      assert.equal(join(dump), [...claimDumpChunks(payees, tree)].join(''));
      assert.equal(join(csvPieces(payees, piece)), [...csvChunks(payees)].join(''));
    }
  }
});

test('the payees read from a manifest\'s bytes are exportPayees of the parsed manifest, and the same refusals', () => {
  for (const file of ['vectors/example/manifest-2026-01-01.json', 'vectors/S/manifest-row.json']) {
    const bytes = readFileSync(file);
    assert.deepEqual(manifestExportPayees(bytes), exportPayees(JSON.parse(bytes.toString('utf8'))));
  }
  const enc = (s: string) => new TextEncoder().encode(s);
  const escaped = '{"a":1,"payouts":[{"actor":"q\\"\\u00e9\\\\","amount_minor":"3","extra":{"x":[1]},"score":"4"}],"z":"y"}';
  assert.deepEqual(manifestExportPayees(enc(escaped)), [{ actor: 'q"é\\', amount_minor: '3', score: '4' }]);
  assert.deepEqual(manifestExportPayees(enc('{"payouts":[]}')), []);
  for (const [doc, why] of [
    ['[1]', 'manifest has no payouts array'],
    ['{"payouts":{}}', 'manifest has no payouts array'],
    ['{"x":1}', 'manifest has no payouts array'],
    ['{"payouts":[1]}', 'manifest payouts are malformed'],
    ['{"payouts":[{"actor":"a","amount_minor":"01","score":"1"}]}', 'manifest payouts are malformed'],
    ['{"payouts":[{"actor":"a","amount_minor":"1"}]}', 'manifest payouts are malformed'],
    ['{"payouts":[{"actor":"a","amount_minor":1,"score":"1"}]}', 'manifest payouts are malformed'],
    ['{"payouts":[{"actor":"a","amount_minor":"1","score":"1"}]', 'manifest is not JSON'],
    ['{"payouts":[]} x', 'manifest is not JSON'],
  ] as const) {
    assert.equal(manifestExportPayees(enc(doc)), why, doc);
  }
});

// Exports of a published manifest (SPEC §12): the accounting CSV and the OpenZeppelin
// StandardMerkleTree (`standard-v1` dump) that on-chain claim contracts verify with Solidity's
// MerkleProof. Derived views, unsigned: anyone re-derives them from the manifest.
//
// The claim tree is computed here, not by @openzeppelin/merkle-tree (a dev dependency that checks
// it in the tests): the same algorithm — leaf = keccak256(keccak256(abi.encode(string, uint256))),
// leaves sorted by hash, tree as an array with the leaves reversed at its end, each node the
// keccak256 of its two children in ascending byte order — over typed arrays, so a million payees
// cost seconds, not object graphs.

import { keccak_256 } from '@noble/hashes/sha3.js';
import { Cursor, JsonFail } from './json/cursor.js';
import { isObject } from './json/parse.js';
import { canonicalString } from './jcs.js';
import { type NativeAddon, nativeAddon } from './native.js';
import { encodeEach } from './utf8.js';

export interface ExportPayee {
  actor: string;
  amount_minor: string;
  score: string;
}

const MONEY_RE = /^(0|[1-9][0-9]*)$/;

/** The payees of a parsed manifest, with their scores; or why it is not one. */
export function exportPayees(doc: unknown): ExportPayee[] | string {
  if (!isObject(doc) || !Array.isArray(doc.payouts)) return 'manifest has no payouts array';
  const out: ExportPayee[] = [];
  for (const p of doc.payouts) {
    if (!isObject(p) || typeof p.actor !== 'string' || typeof p.amount_minor !== 'string' || typeof p.score !== 'string') return 'manifest payouts are malformed';
    if (!MONEY_RE.test(p.amount_minor) || !MONEY_RE.test(p.score)) return 'manifest payouts are malformed';
    out.push({ actor: p.actor, amount_minor: p.amount_minor, score: p.score });
  }
  return out;
}

const encoder = new TextEncoder();
const KEY_ACTOR = encoder.encode('"actor":');
const KEY_AMOUNT = encoder.encode('"amount_minor":');
const KEY_SCORE = encoder.encode('"score":');

/** Consumes `lit` if the cursor's next bytes (after whitespace) are exactly it. */
function literal(c: Cursor, lit: Uint8Array): boolean {
  c.ws();
  const b = c.buf;
  const p = c.pos;
  if (p + lit.length > b.length) return false;
  for (let i = 0; i < lit.length; i++) if (b[p + i] !== lit[i]) return false;
  c.pos = p + lit.length;
  return true;
}

/**
 * `exportPayees` of a manifest's bytes, read with the strict cursor: the payees' three strings
 * without decoding the document to one string (64 MB at a million payees) and parsing it into
 * objects that are then copied out; about as fast as that, and half the memory at its peak.
 */
export function manifestExportPayees(bytes: Uint8Array): ExportPayee[] | string {
  const malformed = 'manifest payouts are malformed';
  try {
    const c = new Cursor(bytes);
    if (c.peek() !== 0x7b) return 'manifest has no payouts array';
    let out: ExportPayee[] | null = null;
    if (c.openObject()) {
      do {
        if (c.key() !== 'payouts') {
          c.parseValue(1);
          continue;
        }
        if (c.peek() !== 0x5b || out !== null) return 'manifest has no payouts array';
        out = [];
        if (!c.openArray()) continue;
        do {
          if (c.peek() !== 0x7b) return malformed;
          const p: Partial<ExportPayee> = {};
          if (c.openObject()) {
            do {
              // Our writer's member names matched as bytes (no string per name); anything else, read.
              const k = literal(c, KEY_ACTOR) ? 'actor' : literal(c, KEY_AMOUNT) ? 'amount_minor' : literal(c, KEY_SCORE) ? 'score' : c.key();
              if (k === 'actor' || k === 'amount_minor' || k === 'score') {
                if (c.peek() !== 0x22 || p[k] !== undefined) return malformed;
                p[k] = c.string();
              } else c.parseValue(2);
            } while (c.more(0x7d));
          }
          const { actor, amount_minor: amount, score } = p;
          if (actor === undefined || amount === undefined || score === undefined) return malformed;
          if (!MONEY_RE.test(amount) || !MONEY_RE.test(score)) return malformed;
          out.push({ actor, amount_minor: amount, score });
        } while (c.more(0x5d));
      } while (c.more(0x7d));
    }
    c.end();
    return out ?? 'manifest has no payouts array';
  } catch (e) {
    if (e instanceof JsonFail) return 'manifest is not JSON';
    throw e;
  }
}

/**
 * A manifest's payees as spans of its bytes, for the exports, which only copy them: per payee,
 * six offsets into `bytes` (actor, amount_minor and score, each the raw bytes between its quotes),
 * so no string or object is made per payee. Every actor span is valid UTF-8 without a backslash
 * (no escapes), so its bytes are its UTF-8 and its JSON string is the span in quotes.
 */
export interface PayeeSpans {
  bytes: Uint8Array;
  count: number;
  /** 6·count offsets: actor start, end, amount start, end, score start, end. */
  at: Uint32Array;
}

const OPEN_ACTOR = encoder.encode('{"actor":');
const NEXT_AMOUNT = encoder.encode(',"amount_minor":');
const NEXT_SCORE = encoder.encode(',"score":');
const CLOSE_PAYEE = encoder.encode('}');

/** Reads a string into at[k], at[k+1]; false unless it is an unescaped string (a money one if `money`). */
function spanInto(c: Cursor, at: Uint32Array, k: number, money: boolean): boolean {
  if (c.peek() !== 0x22) return false;
  const sp = c.readSpan();
  const b = c.buf;
  if (money) {
    if (sp.complex || sp.end === sp.start || (b[sp.start] === 0x30 && sp.end - sp.start > 1)) return false;
    for (let p = sp.start; p < sp.end; p++) if ((b[p] as number) < 0x30 || (b[p] as number) > 0x39) return false;
  } else if (sp.complex) {
    for (let p = sp.start; p < sp.end; p++) if (b[p] === 0x5c) return false;
  }
  at[k] = sp.start;
  at[k + 1] = sp.end;
  return true;
}

/**
 * `manifestExportPayees` as spans when the manifest is well formed and its payees are exactly our
 * writer's `{"actor":…,"amount_minor":…,"score":…}` with unescaped actors; null for anything else
 * (other member orders or names, escapes, malformed documents), which that function then reads
 * (and names what is wrong with). The same payees either way.
 */
export function manifestPayeeSpans(bytes: Uint8Array, addon: NativeAddon | null = nativeAddon()): PayeeSpans | null {
  try {
    const c = new Cursor(bytes);
    if (c.peek() !== 0x7b) return null;
    let out: PayeeSpans | null = null;
    if (c.openObject()) {
      do {
        if (c.key() !== 'payouts') {
          c.parseValue(1);
          continue;
        }
        if (c.peek() !== 0x5b || out !== null) return null;
        if (addon !== null && typeof addon.payeeSpans === 'function') {
          // The same reading in C (~10× faster); null there is null here too: the exact shape is required.
          const spans = addon.payeeSpans(bytes, c.pos);
          if (spans === null) return null;
          const count = (spans.length - 1) / 6;
          out = { bytes, count, at: spans.subarray(0, 6 * count) };
          c.pos = spans[6 * count] as number;
          continue;
        }
        let at = new Uint32Array(6 * 1024);
        let n = 0;
        if (c.openArray()) {
          do {
            if (6 * n + 6 > at.length) {
              const grown = new Uint32Array(2 * at.length);
              grown.set(at);
              at = grown;
            }
            const k = 6 * n;
            if (!literal(c, OPEN_ACTOR) || !spanInto(c, at, k, false)) return null;
            if (!literal(c, NEXT_AMOUNT) || !spanInto(c, at, k + 2, true)) return null;
            if (!literal(c, NEXT_SCORE) || !spanInto(c, at, k + 4, true)) return null;
            if (!literal(c, CLOSE_PAYEE)) return null;
            n++;
          } while (c.more(0x5d));
        }
        out = { bytes, count: n, at: at.subarray(0, 6 * n) };
      } while (c.more(0x7d));
    }
    c.end();
    return out;
  } catch (e) {
    if (e instanceof JsonFail) return null;
    throw e;
  }
}

const utf8 = new TextDecoder();

/** The payees of spans as strings (for the TypeScript claim tree, when the addon is not built). */
export function spanPayees(s: PayeeSpans): ExportPayee[] {
  const out: ExportPayee[] = [];
  const text = (k: number) => utf8.decode(s.bytes.subarray(s.at[k] as number, s.at[k + 1] as number));
  for (let i = 0; i < s.count; i++) out.push({ actor: text(6 * i), amount_minor: text(6 * i + 2), score: text(6 * i + 4) });
  return out;
}

// ---- CSV ---------------------------------------------------------------------------------------

export const CSV_HEADER = 'actor,amount_minor,score\n';

/** An RFC 4180 field: quoted (inner quotes doubled) when it holds a comma, quote, CR or LF. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The CSV in pieces of about `chunk` characters: a header line, then one LF-ended line per payee. */
export function* csvChunks(payees: readonly ExportPayee[], chunk = 1 << 20): Generator<string> {
  let buf = CSV_HEADER;
  for (const p of payees) {
    buf += `${csvField(p.actor)},${p.amount_minor},${p.score}\n`;
    if (buf.length >= chunk) {
      yield buf;
      buf = '';
    }
  }
  if (buf.length > 0) yield buf;
}

// ---- OpenZeppelin StandardMerkleTree -----------------------------------------------------------

export const CLAIM_LEAF_ENCODING = ['string', 'uint256'] as const;
const UINT256_MAX = (1n << 256n) - 1n;

/** `abi.encode(string actor, uint256 amount)`: offset, amount, length, bytes padded to 32. */
export function abiEncodeClaim(actor: string, amount: string): Uint8Array {
  const s = encoder.encode(actor);
  const words = Math.ceil(s.length / 32);
  const out = new Uint8Array(96 + 32 * words);
  out[31] = 0x40;
  let v = BigInt(amount);
  if (v > UINT256_MAX) throw new RangeError('amount exceeds uint256');
  for (let i = 63; i >= 32 && v > 0n; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  let n = s.length;
  for (let i = 95; i >= 64 && n > 0; i--) {
    out[i] = n & 0xff;
    n = Math.floor(n / 256);
  }
  out.set(s, 96);
  return out;
}

/** The claim tree: 2n−1 nodes of 32 bytes (node 0 the root), and each payee's node index. */
export interface ClaimTree {
  nodes: Uint8Array;
  count: number;
  /** Per payee (payee order): its leaf's index in `nodes`. */
  treeIndex: Uint32Array;
}

function compareNodes(a: Uint8Array, ai: number, b: Uint8Array, bi: number): number {
  for (let k = 0; k < 32; k++) {
    const d = (a[ai + k] as number) - (b[bi + k] as number);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Builds the tree exactly as `StandardMerkleTree.of(values, ["string","uint256"])` does; needs ≥ 1
 * payee. In the native addon when it is built (keccak there is ~10× @noble's here, and nothing is
 * allocated per payee), else `buildClaimTreeJs`, the reference it is tested against.
 */
export function buildClaimTree(payees: readonly { actor: string; amount_minor: string }[]): ClaimTree {
  const n = payees.length;
  if (n === 0) throw new RangeError('a claim tree needs at least one payee');
  const addon = nativeAddon();
  if (addon === null || typeof addon.claimTree !== 'function') return buildClaimTreeJs(payees);
  const { bytes, offsets } = abiEncodeClaims(payees);
  const nodes = new Uint8Array(32 * (2 * n - 1));
  const treeIndex = new Uint32Array(n);
  addon.claimTree(bytes, offsets, n, nodes, treeIndex);
  return { nodes, count: n, treeIndex };
}

/** Every payee's `abi.encode(string actor, uint256 amount)` back to back (see abiEncodeClaim). */
export function abiEncodeClaims(payees: readonly { actor: string; amount_minor: string }[]): { bytes: Uint8Array; offsets: Uint32Array } {
  const n = payees.length;
  const ids = encodeEach(payees.map((p) => p.actor));
  const offsets = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) {
    const len = (ids.offsets[i + 1] as number) - (ids.offsets[i] as number);
    offsets[i + 1] = (offsets[i] as number) + 96 + 32 * Math.ceil(len / 32);
  }
  const bytes = new Uint8Array(offsets[n] as number);
  for (let i = 0; i < n; i++) {
    const at = offsets[i] as number;
    const a = ids.offsets[i] as number;
    const len = (ids.offsets[i + 1] as number) - a;
    bytes[at + 31] = 0x40;
    writeUint256(bytes, at + 32, (payees[i] as { amount_minor: string }).amount_minor);
    for (let k = 95, m = len; k >= 64 && m > 0; k--, m = Math.floor(m / 256)) bytes[at + k] = m & 0xff;
    bytes.set(ids.bytes.subarray(a, a + len), at + 96);
  }
  return { bytes, offsets };
}

/** `buildClaimTree` of spans: the abi encodings written in C from the manifest's bytes, one at a time. */
export function buildClaimTreeOfSpans(s: PayeeSpans, addon: NativeAddon | null = nativeAddon()): ClaimTree {
  const n = s.count;
  if (n === 0) throw new RangeError('a claim tree needs at least one payee');
  if (addon === null || typeof addon.claimTreeOfSpans !== 'function') return buildClaimTreeJs(spanPayees(s));
  const nodes = new Uint8Array(32 * (2 * n - 1));
  const treeIndex = new Uint32Array(n);
  addon.claimTreeOfSpans(s.bytes, s.at, n, nodes, treeIndex);
  return { nodes, count: n, treeIndex };
}

/** Writes the decimal `amount` as a big-endian uint256 at out[at .. at+32) (zeros already there). */
function writeUint256(out: Uint8Array, at: number, amount: string): void {
  if (amount.length <= 15) {
    // Below 2^53: Number arithmetic, no BigInt per payee.
    for (let k = at + 31, v = Number(amount); v > 0; k--, v = Math.floor(v / 256)) out[k] = v % 256;
    return;
  }
  let v = BigInt(amount);
  if (v > UINT256_MAX) throw new RangeError('amount exceeds uint256');
  for (let k = at + 31; k >= at && v > 0n; k--, v >>= 8n) out[k] = Number(v & 0xffn);
}

/** The claim tree in TypeScript with @noble/hashes' keccak: the reference, and the fallback without the addon. */
export function buildClaimTreeJs(payees: readonly { actor: string; amount_minor: string }[]): ClaimTree {
  const n = payees.length;
  if (n === 0) throw new RangeError('a claim tree needs at least one payee');
  const leaves = new Uint8Array(32 * n);
  payees.forEach((p, i) => leaves.set(keccak_256(keccak_256(abiEncodeClaim(p.actor, p.amount_minor))), 32 * i));
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((x, y) => compareNodes(leaves, 32 * x, leaves, 32 * y) || x - y);
  const size = 2 * n - 1;
  const nodes = new Uint8Array(32 * size);
  const treeIndex = new Uint32Array(n);
  order.forEach((payee, k) => {
    const at = size - 1 - k;
    nodes.set(leaves.subarray(32 * payee, 32 * payee + 32), 32 * at);
    treeIndex[payee] = at;
  });
  const pair = new Uint8Array(64);
  for (let i = size - 1 - n; i >= 0; i--) {
    const l = 32 * (2 * i + 1);
    const r = 32 * (2 * i + 2);
    const leftFirst = compareNodes(nodes, l, nodes, r) <= 0;
    pair.set(nodes.subarray(leftFirst ? l : r, (leftFirst ? l : r) + 32), 0);
    pair.set(nodes.subarray(leftFirst ? r : l, (leftFirst ? r : l) + 32), 32);
    nodes.set(keccak_256(pair), 32 * i);
  }
  return { nodes, count: n, treeIndex };
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function nodeHex(t: ClaimTree, i: number): string {
  let s = '0x';
  for (let k = 32 * i; k < 32 * i + 32; k++) s += HEX[t.nodes[k] as number];
  return s;
}

/** The claim proof of node `at` (siblings bottom-up), as StandardMerkleTree.getProof answers it. */
export function claimProof(t: ClaimTree, at: number): string[] {
  const proof: string[] = [];
  for (let i = at; i > 0; i = Math.floor((i - 1) / 2)) proof.push(nodeHex(t, i % 2 === 1 ? i + 1 : i - 1));
  return proof;
}

/** The `standard-v1` dump as JSON text in pieces; `StandardMerkleTree.load(JSON.parse(it))` takes it. */
export function* claimDumpChunks(payees: readonly { actor: string; amount_minor: string }[], t: ClaimTree, chunk = 1 << 20): Generator<string> {
  let buf = '{"format":"standard-v1","leafEncoding":["string","uint256"],"tree":[';
  const size = 2 * t.count - 1;
  for (let i = 0; i < size; i++) {
    buf += `${i === 0 ? '' : ','}"${nodeHex(t, i)}"`;
    if (buf.length >= chunk) {
      yield buf;
      buf = '';
    }
  }
  buf += '],"values":[';
  for (let i = 0; i < payees.length; i++) {
    const p = payees[i] as { actor: string; amount_minor: string };
    buf += `${i === 0 ? '' : ','}{"value":[${canonicalString(p.actor)},"${p.amount_minor}"],"treeIndex":${t.treeIndex[i]}}`;
    if (buf.length >= chunk) {
      yield buf;
      buf = '';
    }
  }
  buf += ']}';
  yield buf;
}

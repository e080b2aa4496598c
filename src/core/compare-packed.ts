// The comparison of src/core/compare.ts over packed columns, for previews (POST
// /epochs/{id}/preview) where the same bound run is compared with candidate after candidate.
//
// compare() reads two parsed manifests: at M that is parsing ~1 MB of JSON, a BigInt per amount,
// comparator sorts of BigInt deltas and amounts — about 2× the dry run it follows. Here the bound
// side is a CompareBasis, built once per bound run (its distribution computed by compare.ts's own
// `distribution`) and kept by the service; the candidate side is the calculus's payee columns as
// they are. One merge over the two actor-ordered lists (UTF-8 bytes, as compare.ts orders them)
// counts the payee changes and keeps the top N gainers and losers as it goes; the candidate's
// distribution is limb-stats.ts's.
//
// Exactness: amounts on both sides are decimal limbs (wide.ts: base 10^7, six per amount, the
// calculus's own columns), so every money value up to 2^128−1 (and below 10^42) is held exactly.
// Equality, order and deltas are limb by limb with borrows; only the rows that enter the top N
// and the final sums become strings or BigInts. The answer is the same object compare() builds
// from the same manifests, so the same bytes (tested on random runs, token-sized runs whose
// amounts pass 2^53, and the M vector).

import { type ComparedManifest, type Comparison, type Distribution, type TotalName, COMPARISON_SCHEMA, TOTALS, distribution } from './compare.js';
import type { Calculation } from './calculus.js';
import { limbDistribution, limbsString, topLimb } from './limb-stats.js';
import type { Texts } from './manifest.js';
import { encodeEach } from './utf8.js';
import { LIMBS, compareLimbs, fromDecimalLimbs, toDecimalLimbs } from './wide.js';

const BEYOND_LIMBS = 10n ** 42n;
const decoder = new TextDecoder();

/** Payees as columns: payee i is the id at ids entry `index[i]` (entry i without an index), with the amount at `amounts[i·6 .. i·6+6)`. */
export interface PackedPayees {
  count: number;
  /** Actor ids' UTF-8, entry e at bytes[offsets[e] .. offsets[e+1]); payees ascend by these bytes. */
  ids: Texts;
  index: Uint32Array | null;
  /** Decimal (base 10^7) limbs of each amount, least significant first (wide.ts, as the calculus's columns). */
  amounts: Float64Array;
}

/** What a comparison needs of the bound run, built once per bound run. */
export interface CompareBasis {
  epoch_id: string;
  commitment: string;
  inputs_cid: string;
  policy_hash: string;
  totals: Record<TotalName, string>;
  payees: PackedPayees;
  /**
   * Each payee's position in the actor list of the inputs `inputs_cid` (when the basis was built
   * with them at hand), else null: against a candidate over the same inputs the merge then
   * compares positions instead of UTF-8 bytes.
   */
  actorIndex: Uint32Array | null;
  distribution: Distribution;
}

/** The candidate's identity and totals (the manifest members a comparison reads besides payouts). */
export type ComparedHead = Omit<ComparedManifest, 'payouts'>;

/**
 * The basis of a parsed manifest, or null when the packed path cannot answer for it exactly (an
 * amount of 10^42 or more, beyond any money value, or payees not strictly ascending by UTF-8
 * bytes): compare() then does.
 * `alloc` makes the typed arrays' memory (SharedArrayBuffers, so the basis crosses threads uncopied);
 * `inputsIds` are the actor ids of the inputs `m.inputs_cid`, in actor order, when at hand.
 */
export function compareBasis(m: ComparedManifest, alloc: (bytes: number) => ArrayBufferLike = (n) => new ArrayBuffer(n), inputsIds?: Texts): CompareBasis | null {
  const n = m.payouts.length;
  const amounts = new Float64Array(alloc(n * LIMBS * 8));
  for (let i = 0; i < n; i++) {
    const a = (m.payouts[i] as { amount: bigint }).amount;
    if (a >= BEYOND_LIMBS) return null;
    toDecimalLimbs(a, amounts, i * LIMBS);
  }
  const packed = encodeEach(m.payouts.map((p) => p.actor));
  for (let i = 1; i < n; i++) if (compareEntries(packed, i - 1, packed, i) >= 0) return null;
  const bytes = new Uint8Array(alloc(packed.bytes.byteLength));
  bytes.set(packed.bytes);
  const offsets = new Uint32Array(alloc(packed.offsets.byteLength));
  offsets.set(packed.offsets);
  const totals = {} as Record<TotalName, string>;
  for (const k of TOTALS) totals[k] = m.totals[k].toString();
  return {
    epoch_id: m.epoch_id,
    commitment: m.commitment,
    inputs_cid: m.inputs_cid,
    policy_hash: m.policy_hash,
    totals,
    payees: { count: n, ids: { bytes, offsets }, index: null, amounts },
    actorIndex: inputsIds === undefined ? null : positions(packed, inputsIds, alloc),
    distribution: distribution(m.payouts.map((p) => p.amount)),
  };
}

/** Where each of `ids` (ascending) is in `list` (ascending), or null if one is not there. */
function positions(ids: Texts, list: Texts, alloc: (bytes: number) => ArrayBufferLike): Uint32Array | null {
  const n = ids.offsets.length - 1;
  const m = list.offsets.length - 1;
  const out = new Uint32Array(alloc(n * 4));
  let j = 0;
  for (let i = 0; i < n; i++) {
    while (j < m && compareEntries(list, j, ids, i) < 0) j++;
    if (j === m || compareEntries(list, j, ids, i) !== 0) return null;
    out[i] = j;
  }
  return out;
}

/** Bytes a basis holds (for a cache bounded by bytes). */
export function compareBasisBytes(b: CompareBasis): number {
  return b.payees.ids.bytes.byteLength + b.payees.ids.offsets.byteLength + b.payees.amounts.byteLength + (b.actorIndex?.byteLength ?? 0);
}

/** The manifest members of a basis, for compare() (when the candidate cannot take the packed path). */
export function basisManifest(b: CompareBasis): ComparedManifest {
  const totals = {} as Record<TotalName, bigint>;
  for (const k of TOTALS) totals[k] = BigInt(b.totals[k]);
  const payouts: ComparedManifest['payouts'] = [];
  for (let i = 0; i < b.payees.count; i++) payouts.push({ actor: actorOf(b.payees, i), amount: fromDecimalLimbs(b.payees.amounts, i * LIMBS) });
  return { epoch_id: b.epoch_id, commitment: b.commitment, inputs_cid: b.inputs_cid, policy_hash: b.policy_hash, totals, payouts };
}

/**
 * A calculation's payees over its inputs' actor ids (`ids`, in actor order), or null when an
 * amount is 10^42 or more (beyond any money value). Payees are in actor order, and inputs list
 * actors strictly ascending by UTF-8 bytes (SPEC §2), so they ascend by these bytes. From the
 * calculus's columns nothing is copied: their amounts are already decimal limbs.
 */
export function candidatePayees(calc: Calculation, ids: Texts): PackedPayees | null {
  const c = calc.columns;
  if (c !== undefined) return { count: c.count, ids, index: c.index.subarray(0, c.count), amounts: c.amount.subarray(0, c.count * LIMBS) };
  const n = calc.payees.length;
  const amounts = new Float64Array(n * LIMBS);
  const index = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const p = calc.payees[i] as { index: number; amount: bigint };
    if (p.amount >= BEYOND_LIMBS) return null;
    toDecimalLimbs(p.amount, amounts, i * LIMBS);
    index[i] = p.index;
  }
  return { count: n, ids, index, amounts };
}

function entryOf(p: PackedPayees, i: number): number {
  return p.index === null ? i : (p.index[i] as number);
}

function actorOf(p: PackedPayees, i: number): string {
  const e = entryOf(p, i);
  return decoder.decode(p.ids.bytes.subarray(p.ids.offsets[e] as number, p.ids.offsets[e + 1] as number));
}

/** Entry x of `a` against entry y of `b` by UTF-8 bytes: negative, 0 or positive. */
function compareEntries(a: Texts, x: number, b: Texts, y: number): number {
  const ab = a.bytes;
  const bb = b.bytes;
  const aFrom = a.offsets[x] as number;
  const aLen = (a.offsets[x + 1] as number) - aFrom;
  const bFrom = b.offsets[y] as number;
  const bLen = (b.offsets[y + 1] as number) - bFrom;
  const n = aLen < bLen ? aLen : bLen;
  for (let k = 0; k < n; k++) {
    const d = (ab[aFrom + k] as number) - (bb[bFrom + k] as number);
    if (d !== 0) return d;
  }
  return aLen - bLen;
}

/** A gainer or loser kept while merging: |delta| as limbs, the payees on each side (−1: none) and whose actor id it is. */
interface Kept {
  delta: Float64Array;
  ai: number;
  bj: number;
  side: 'a' | 'b';
}

/** Compares limbs a[i..i+w) with b[j..j+w) (limbs from w on are 0 in both): negative, 0 or positive. */
function compareTo(w: number, a: Float64Array, i: number, b: Float64Array, j: number): number {
  for (let k = w - 1; k >= 0; k--) {
    const x = a[i + k] as number;
    const y = b[j + k] as number;
    if (x !== y) return x - y;
  }
  return 0;
}

/**
 * Whether a |delta| (limbs at d[0..w)) enters a list of at most `top` kept entries ordered by
 * |delta| descending (gainers by delta descending, losers by delta ascending).
 */
function enters(list: Kept[], top: number, d: Float64Array, w: number): boolean {
  return list.length < top || compareTo(w, d, 0, (list[list.length - 1] as Kept).delta, 0) > 0;
}

/**
 * Inserts an entry that enters after every kept entry whose |delta| is not strictly smaller:
 * offered in actor order, equal deltas keep actor order, as compare()'s stable sort does.
 */
function insert(list: Kept[], top: number, item: Kept): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareLimbs(item.delta, 0, (list[mid] as Kept).delta, 0) > 0) hi = mid;
    else lo = mid + 1;
  }
  list.splice(lo, 0, item);
  if (list.length > top) list.pop();
}

/** d[0..w) = x[xi..xi+w) − y[yi..yi+w), x ≥ y (limbs from w on are 0 in both). */
function subtract(w: number, x: Float64Array, xi: number, y: Float64Array, yi: number, d: Float64Array): void {
  let borrow = 0;
  for (let k = 0; k < w; k++) {
    let v = (x[xi + k] as number) - (y[yi + k] as number) - borrow;
    borrow = v < 0 ? 1 : 0;
    if (borrow === 1) v += 10_000_000;
    d[k] = v;
  }
}

const ZERO = new Float64Array(LIMBS);

function isZero(w: number, x: Float64Array, at: number): boolean {
  for (let k = 0; k < w; k++) if (x[at + k] !== 0) return false;
  return true;
}

/** compare(a's manifest, b's manifest, top), from the bound run's basis and the candidate's payees. */
export function comparePacked(a: CompareBasis, bHead: ComparedHead, b: PackedPayees, top = 10): Comparison {
  const pa = a.payees;
  const xs = pa.amounts;
  const ys = b.amounts;
  let added = 0;
  let removed = 0;
  let changed = 0;
  let union = 0;
  const gainers: Kept[] = [];
  const losers: Kept[] = [];
  const d = new Float64Array(LIMBS);
  // Limbs any amount of either side uses: every loop below stops there (2 or 3 of the 6 at M).
  const bTop = topLimb(ys, b.count);
  const w = Math.max(1, topLimb(xs, pa.count) + 1, bTop + 1);
  // Over the same inputs both sides are positions in one actor list, whose order is UTF-8 order.
  const ax = a.inputs_cid === bHead.inputs_cid ? a.actorIndex : null;
  const bx = b.index;
  let i = 0;
  let j = 0;
  while (i < pa.count || j < b.count) {
    const c =
      i === pa.count ? 1 : j === b.count ? -1 : ax !== null && bx !== null ? (ax[i] as number) - (bx[j] as number) : compareEntries(pa.ids, i, b.ids, entryOf(b, j));
    const ai = c <= 0 ? i : -1;
    const bj = c >= 0 ? j : -1;
    if (c <= 0) i++;
    if (c >= 0) j++;
    union++;
    const x = ai < 0 ? ZERO : xs;
    const xi = ai < 0 ? 0 : ai * LIMBS;
    const y = bj < 0 ? ZERO : ys;
    const yi = bj < 0 ? 0 : bj * LIMBS;
    const order = compareTo(w, y, yi, x, xi);
    // compare()'s classification, by amounts (not by which side lists the actor).
    if (ai < 0 || isZero(w, x, xi)) added++;
    else if (bj < 0 || isZero(w, y, yi)) removed++;
    else if (order !== 0) changed++;
    if (top > 0 && order !== 0) {
      const list = order > 0 ? gainers : losers;
      if (order > 0) subtract(w, y, yi, x, xi, d);
      else subtract(w, x, xi, y, yi, d);
      if (enters(list, top, d, w)) insert(list, top, { delta: Float64Array.from(d), ai, bj, side: ai < 0 ? 'b' : 'a' });
    }
  }
  const amount = (p: PackedPayees, at: number) => (at < 0 ? '0' : limbsString(p.amounts, at * LIMBS));
  const row = (k: Kept, sign: string) => ({
    actor: k.side === 'a' ? actorOf(pa, k.ai) : actorOf(b, k.bj),
    a_minor: amount(pa, k.ai),
    b_minor: amount(b, k.bj),
    delta_minor: sign + limbsString(k.delta, 0),
  });
  const totals = {} as Comparison['totals'];
  for (const k of TOTALS) {
    const before = a.totals[k];
    const after = bHead.totals[k];
    totals[k] = { a_minor: before, b_minor: after.toString(), delta_minor: (after - BigInt(before)).toString() };
  }
  return {
    schema: COMPARISON_SCHEMA,
    a: { epoch_id: a.epoch_id, commitment: a.commitment, inputs_cid: a.inputs_cid, policy_hash: a.policy_hash },
    b: { epoch_id: bHead.epoch_id, commitment: bHead.commitment, inputs_cid: bHead.inputs_cid, policy_hash: bHead.policy_hash },
    totals,
    payees: { a: pa.count, b: b.count, added, removed, changed, unchanged: union - added - removed - changed },
    gainers: gainers.map((k) => row(k, '')),
    losers: losers.map((k) => row(k, '-')),
    distribution: { a: a.distribution, b: limbDistribution(ys, b.count, bTop) },
  };
}

// The comparison of src/core/compare.ts over packed columns, for previews (POST
// /epochs/{id}/preview) where the same bound run is compared with candidate after candidate.
//
// compare() reads two parsed manifests: at M that is parsing ~1 MB of JSON, a BigInt per amount,
// comparator sorts of BigInt deltas and amounts — about 2× the dry run it follows. Here the bound
// side is a CompareBasis, built once per bound run (its distribution computed by compare.ts's own
// `distribution`) and kept by the service; the candidate side is read from the calculus's payee
// columns. One merge over the two actor-ordered lists (UTF-8 bytes, as compare.ts orders them)
// counts the payee changes and keeps the top N gainers and losers as it goes; the candidate's
// distribution sorts a Float64Array.
//
// Exactness: this path is taken only when every amount of both runs is a safe integer (a basis
// or a candidate with a larger amount is null, and the caller uses compare()). Deltas of two safe
// non-negative integers are exact in Numbers; every sum that may pass 2^53 (shares, the Gini
// numerator) is carried into a BigInt before it would. The answer is the same object compare()
// builds from the same manifests, so the same bytes (tested on random runs and the M vector).

import { type ComparedManifest, type Comparison, type Distribution, type TotalName, COMPARISON_SCHEMA, TOTALS, distribution } from './compare.js';
import type { Calculation } from './calculus.js';
import type { Texts } from './manifest.js';
import { encodeEach } from './utf8.js';
import { LIMBS } from './wide.js';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const L26 = 67_108_864; // 2^26
const decoder = new TextDecoder();

/** Payees as columns: payee i is the id at ids entry `index[i]` (entry i without an index), with `amounts[i]`. */
export interface PackedPayees {
  count: number;
  /** Actor ids' UTF-8, entry e at bytes[offsets[e] .. offsets[e+1]); payees ascend by these bytes. */
  ids: Texts;
  index: Uint32Array | null;
  /** Each amount, a safe integer. */
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
 * amount above 2^53−1, or payees not strictly ascending by UTF-8 bytes): compare() then does.
 * `alloc` makes the typed arrays' memory (SharedArrayBuffers, so the basis crosses threads uncopied);
 * `inputsIds` are the actor ids of the inputs `m.inputs_cid`, in actor order, when at hand.
 */
export function compareBasis(m: ComparedManifest, alloc: (bytes: number) => ArrayBufferLike = (n) => new ArrayBuffer(n), inputsIds?: Texts): CompareBasis | null {
  const n = m.payouts.length;
  const amounts = new Float64Array(alloc(n * 8));
  for (let i = 0; i < n; i++) {
    const a = (m.payouts[i] as { amount: bigint }).amount;
    if (a > 9_007_199_254_740_991n) return null;
    amounts[i] = Number(a);
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
  for (let i = 0; i < b.payees.count; i++) payouts.push({ actor: actorOf(b.payees, i), amount: BigInt(b.payees.amounts[i] as number) });
  return { epoch_id: b.epoch_id, commitment: b.commitment, inputs_cid: b.inputs_cid, policy_hash: b.policy_hash, totals, payouts };
}

/**
 * A calculation's payees over its inputs' actor ids (`ids`, in actor order), or null when an
 * amount is above 2^53−1. Payees are in actor order, and inputs list actors strictly ascending by
 * UTF-8 bytes (SPEC §2), so they ascend by these bytes.
 */
export function candidatePayees(calc: Calculation, ids: Texts): PackedPayees | null {
  const c = calc.columns;
  if (c !== undefined) {
    const amounts = new Float64Array(c.count);
    for (let i = 0; i < c.count; i++) {
      const at = i * LIMBS;
      // Decimal limbs of 10^7, least significant first: a safe integer needs the top three at 0.
      if (c.amount[at + 3] !== 0 || c.amount[at + 4] !== 0 || c.amount[at + 5] !== 0) return null;
      // Rounding is monotone: a value above 2^53−1 cannot compute to one at or below it.
      const v = (c.amount[at] as number) + (c.amount[at + 1] as number) * 1e7 + (c.amount[at + 2] as number) * 1e14;
      if (v > MAX_SAFE) return null;
      amounts[i] = v;
    }
    return { count: c.count, ids, index: c.index.subarray(0, c.count), amounts };
  }
  const n = calc.payees.length;
  const amounts = new Float64Array(n);
  const index = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const p = calc.payees[i] as { index: number; amount: bigint };
    if (p.amount > 9_007_199_254_740_991n) return null;
    amounts[i] = Number(p.amount);
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

/** A gainer or loser kept while merging: amounts, and where its actor id is (side and payee). */
interface Kept {
  a: number;
  b: number;
  delta: number;
  side: 'a' | 'b';
  at: number;
}

/** Whether `delta` enters a list of at most `top` kept entries ordered by `before`. */
function enters(list: Kept[], top: number, delta: number, before: (x: number, y: number) => boolean): boolean {
  return list.length < top || before(delta, (list[list.length - 1] as Kept).delta);
}

/**
 * Inserts an entry that enters (above) after every kept entry it does not come strictly before:
 * offered in actor order, equal deltas keep actor order, as compare()'s stable sort does.
 */
function insert(list: Kept[], top: number, item: Kept, before: (x: number, y: number) => boolean): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(item.delta, (list[mid] as Kept).delta)) hi = mid;
    else lo = mid + 1;
  }
  list.splice(lo, 0, item);
  if (list.length > top) list.pop();
}

const gains = (x: number, y: number) => x > y;
const loses = (x: number, y: number) => x < y;

/** compare(a's manifest, b's manifest, top), from the bound run's basis and the candidate's payees. */
export function comparePacked(a: CompareBasis, bHead: ComparedHead, b: PackedPayees, top = 10): Comparison {
  const pa = a.payees;
  let added = 0;
  let removed = 0;
  let changed = 0;
  let union = 0;
  const gainers: Kept[] = [];
  const losers: Kept[] = [];
  // Over the same inputs both sides are positions in one actor list, whose order is UTF-8 order.
  const ai = a.inputs_cid === bHead.inputs_cid ? a.actorIndex : null;
  const bi = b.index;
  let i = 0;
  let j = 0;
  while (i < pa.count || j < b.count) {
    const c =
      i === pa.count ? 1 : j === b.count ? -1 : ai !== null && bi !== null ? (ai[i] as number) - (bi[j] as number) : compareEntries(pa.ids, i, b.ids, entryOf(b, j));
    const x = c <= 0 ? (pa.amounts[i] as number) : 0;
    const y = c >= 0 ? (b.amounts[j] as number) : 0;
    const delta = y - x;
    const side = c <= 0 ? 'a' : 'b';
    const at = c <= 0 ? i : j;
    if (c <= 0) i++;
    if (c >= 0) j++;
    union++;
    // compare()'s classification, by amounts (not by which side lists the actor).
    if (x === 0) added++;
    else if (y === 0) removed++;
    else if (delta !== 0) changed++;
    if (top > 0 && delta !== 0) {
      const list = delta > 0 ? gainers : losers;
      const before = delta > 0 ? gains : loses;
      if (enters(list, top, delta, before)) insert(list, top, { a: x, b: y, delta, side, at }, before);
    }
  }
  const row = (k: Kept) => ({ actor: actorOf(k.side === 'a' ? pa : b, k.at), a_minor: String(k.a), b_minor: String(k.b), delta_minor: String(k.delta) });
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
    gainers: gainers.map(row),
    losers: losers.map(row),
    distribution: { a: a.distribution, b: safeDistribution(b.amounts) },
  };
}

/** Σ x[from..to) exactly: Number partial sums, carried into a BigInt before they would pass 2^53−1 (exported for its tests). */
export function exactSum(x: Float64Array, from: number, to: number): bigint {
  let big = 0n;
  let acc = 0;
  for (let i = from; i < to; i++) {
    const v = x[i] as number;
    // Both are safe: a true sum above 2^53−1 cannot round to one at or below it.
    const s = acc + v;
    if (s > MAX_SAFE) {
      big += BigInt(acc);
      acc = v;
    } else acc = s;
  }
  return big + BigInt(acc);
}

/** Σ (i+1)·x[i] exactly, x safe integers: each split as h·2^26 + l so every product stays safe (exported for its tests). */
export function rankWeightedSum(x: Float64Array): bigint {
  const n = x.length;
  if (n >= L26) {
    let w = 0n;
    for (let i = 0; i < n; i++) w += BigInt(i + 1) * BigInt(x[i] as number);
    return w;
  }
  let hiBig = 0n;
  let hi = 0;
  let loBig = 0n;
  let lo = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i] as number;
    const h = Math.floor(v / L26);
    const k = i + 1;
    // k < 2^26 and h < 2^27, v − h·2^26 < 2^26: both products are below 2^53.
    const ph = k * h;
    const pl = k * (v - h * L26);
    const sh = hi + ph;
    if (sh > MAX_SAFE) {
      hiBig += BigInt(hi);
      hi = ph;
    } else hi = sh;
    const sl = lo + pl;
    if (sl > MAX_SAFE) {
      loBig += BigInt(lo);
      lo = pl;
    } else lo = sl;
  }
  return ((hiBig + BigInt(hi)) << 26n) + loBig + BigInt(lo);
}

/** compare.ts's `distribution` of safe-integer amounts, by the same formulas, without BigInt sorts. */
export function safeDistribution(amounts: Float64Array): Distribution {
  const x = Float64Array.from(amounts).sort();
  const n = x.length;
  if (n === 0) return { payees: 0, median_minor: '0', p90_minor: '0', p99_minor: '0', top_1pct_share_bp: 0, top_10pct_share_bp: 0, gini_bp: 0 };
  const sum = exactSum(x, 0, n);
  const pct = (p: number): string => String(x[Math.ceil((p * n) / 100) - 1] as number);
  const top = (count: number): number => (sum === 0n ? 0 : Number((10000n * exactSum(x, n - count, n)) / sum));
  // Σ (2i − n − 1)·x_i over i = 1…n is 2·Σ i·x_i − (n + 1)·S (non-negative: x ascends).
  const weighted = 2n * rankWeightedSum(x) - BigInt(n + 1) * sum;
  const gini = sum === 0n ? 0 : Number((10000n * weighted) / (BigInt(n) * sum));
  return {
    payees: n,
    median_minor: pct(50),
    p90_minor: pct(90),
    p99_minor: pct(99),
    top_1pct_share_bp: top(Math.ceil(n / 100)),
    top_10pct_share_bp: top(Math.ceil(n / 10)),
    gini_bp: gini,
  };
}

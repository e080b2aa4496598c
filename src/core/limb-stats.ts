// compare.ts's distribution figures over amounts held as decimal limbs (wide.ts: base 10^7, six
// limbs per amount, least significant first, the calculus's own payee columns), exact for every
// money value (up to 2^128−1 and beyond, below 10^42) without a BigInt per amount.
//
// Why every step is exact:
// - Order: each amount gets a key g = ⌊v / 2^s⌋ below 2^32, where v is the integer of the
//   amount's top two or three limbs of the run (the same limbs for every amount, chosen by the
//   largest) and s the least shift that brings the largest v below 2^32. g is a floor of a floor
//   of the exact value, so x < y implies g(x) ≤ g(y); a radix sort orders the keys. Amounts with
//   equal g (equal amounts, or amounts that agree in their leading ~32 bits) are then checked
//   limb by limb and, only where out of order, sorted by an exact comparator. Equal amounts are
//   interchangeable for every figure, so no tie-break is needed.
// - Sums: a column sum of limbs below 10^7 over fewer than 2^26 amounts stays below 2^50.
// - Σ rank·amount: each product rank·limb is below 2^26·10^7 < 2^50; a column that reaches 2^52
//   carries ⌊col / 10^7⌋ into the next one (`%` and the division of an exact multiple are exact),
//   so every column stays below 2^53.
// Only the final sums become BigInts, for the basis-point ratios.

import { type Distribution, distribution } from './compare.js';
import { LIMBS, compareLimbs, fromDecimalLimbs } from './wide.js';

const DEC = 10_000_000;
const L26 = 67_108_864; // 2^26
const CARRY_AT = 4_503_599_627_370_496; // 2^52
const KEY_RANGE = 4_294_967_296; // 2^32
const RADIX_BITS = 11;
const RADIX = 1 << RADIX_BITS;
const RADIX_MASK = RADIX - 1;
/** Columns of Σ rank·amount: up to 2^26 · 2^26 · 10^42 < 10^58, nine limbs of 10^7. */
const RANKED_COLUMNS = 9;
const NONE: Distribution = { payees: 0, median_minor: '0', p90_minor: '0', p99_minor: '0', top_1pct_share_bp: 0, top_10pct_share_bp: 0, gini_bp: 0 };

/** The decimal digits of the amount at limbs[at..at+6). */
export function limbsString(limbs: Float64Array, at: number): string {
  let k = LIMBS - 1;
  while (k > 0 && limbs[at + k] === 0) k--;
  let s = String(limbs[at + k] as number);
  for (k--; k >= 0; k--) s += String(limbs[at + k] as number).padStart(7, '0');
  return s;
}

/** The BigInt of column sums (any number of columns, each below 2^53), least significant first. */
function columnsBig(cols: Float64Array): bigint {
  let v = 0n;
  for (let k = cols.length - 1; k >= 0; k--) v = v * 10_000_000n + BigInt(cols[k] as number);
  return v;
}

/** The highest limb any of the n amounts uses (−1 when all are 0): loops over limbs stop above it. */
export function topLimb(x: Float64Array, n: number): number {
  for (let k = LIMBS - 1; k >= 0; k--) for (let i = 0; i < n; i++) if (x[i * LIMBS + k] !== 0) return k;
  return -1;
}

/**
 * The n amounts' positions in ascending order of amount, exactly; `top` is topLimb(x, n) (exported
 * for its tests).
 */
export function sortedOrder(x: Float64Array, n: number, top = topLimb(x, n)): Uint32Array {
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (n < 2 || top < 0) return order;
  // v: the integer of limbs top, top−1 (and top−2 when the largest v leaves room), for every amount.
  const v = new Float64Array(n);
  let vmax = 0;
  for (let i = 0; i < n; i++) {
    const at = i * LIMBS + top;
    const w = top > 0 ? (x[at] as number) * DEC + (x[at - 1] as number) : (x[at] as number);
    v[i] = w;
    if (w > vmax) vmax = w;
  }
  if (top >= 2 && vmax < 900_000_000) {
    vmax = 0;
    for (let i = 0; i < n; i++) {
      const w = (v[i] as number) * DEC + (x[i * LIMBS + top - 2] as number);
      v[i] = w;
      if (w > vmax) vmax = w;
    }
  }
  // g = ⌊v / 2^s⌋ below 2^32, radix-sorted (three stable passes of 11 bits; a pass whose digit
  // is the same for every amount is skipped).
  let scale = 1;
  while (Math.floor(vmax / scale) >= KEY_RANGE) scale *= 2;
  let g = new Uint32Array(n);
  for (let i = 0; i < n; i++) g[i] = Math.floor((v[i] as number) / scale);
  let order2 = new Uint32Array(n);
  let g2 = new Uint32Array(n);
  const counts = new Uint32Array(RADIX);
  for (let shift = 0; shift < 32; shift += RADIX_BITS) {
    counts.fill(0);
    for (let r = 0; r < n; r++) {
      const d = ((g[r] as number) >>> shift) & RADIX_MASK;
      counts[d] = (counts[d] as number) + 1;
    }
    if (counts[((g[0] as number) >>> shift) & RADIX_MASK] === n) continue;
    let at = 0;
    for (let d = 0; d < RADIX; d++) {
      const c = counts[d] as number;
      counts[d] = at;
      at += c;
    }
    for (let r = 0; r < n; r++) {
      const key = g[r] as number;
      const to = counts[(key >>> shift) & RADIX_MASK] as number;
      counts[(key >>> shift) & RADIX_MASK] = to + 1;
      order2[to] = order[r] as number;
      g2[to] = key;
    }
    [order, order2] = [order2, order];
    [g, g2] = [g2, g];
  }
  // Runs of equal g: exact order by limbs where the key could not tell.
  let from = 0;
  for (let r = 1; r <= n; r++) {
    if (r < n && g[r] === g[from]) continue;
    if (r - from > 1) orderRun(x, order, from, r);
    from = r;
  }
  return order;
}

/** Sorts order[from..to) by amount unless it already ascends. */
function orderRun(x: Float64Array, order: Uint32Array, from: number, to: number): void {
  for (let r = from + 1; r < to; r++) {
    if (compareLimbs(x, (order[r - 1] as number) * LIMBS, x, (order[r] as number) * LIMBS) > 0) {
      order.subarray(from, to).sort((p, q) => compareLimbs(x, p * LIMBS, x, q * LIMBS));
      return;
    }
  }
}

/** Σ of the amounts at order[from..to), `width` limbs in use (exported for its tests). */
export function orderedSum(x: Float64Array, order: Uint32Array, from: number, to: number, width = topLimb(x, order.length) + 1): bigint {
  const cols = new Float64Array(LIMBS);
  for (let r = from; r < to; r++) {
    const at = (order[r] as number) * LIMBS;
    for (let k = 0; k < width; k++) cols[k] = (cols[k] as number) + (x[at + k] as number);
  }
  return columnsBig(cols);
}

/** Σ (r+1)·x[order[r]] over r = 0…n−1, n < 2^26, `width` limbs in use (exported for its tests). */
export function rankWeightedSum(x: Float64Array, order: Uint32Array, width = topLimb(x, order.length) + 1): bigint {
  const n = order.length;
  const cols = new Float64Array(RANKED_COLUMNS);
  const top = width;
  for (let r = 0; r < n; r++) {
    const at = (order[r] as number) * LIMBS;
    const rank = r + 1;
    for (let k = 0; k < top; k++) {
      const c = (cols[k] as number) + rank * (x[at + k] as number);
      if (c >= CARRY_AT) carry(cols, k, c);
      else cols[k] = c;
    }
  }
  return columnsBig(cols);
}

/** Stores column k's value c, carrying its multiples of 10^7 upward (columns stay below 2^53). */
function carry(cols: Float64Array, k: number, c: number): void {
  let from = k;
  let value = c;
  while (value >= CARRY_AT) {
    const low = value % DEC;
    cols[from] = low;
    from++;
    value = (cols[from] as number) + (value - low) / DEC;
  }
  cols[from] = value;
}

/** compare.ts's `distribution` of n amounts held as decimal limbs, by the same formulas; `top` is topLimb(x, n). */
export function limbDistribution(x: Float64Array, n: number, top = topLimb(x, n)): Distribution {
  if (n === 0) return { ...NONE };
  // Beyond the column bounds above: compare.ts's own BigInt figures (far past the service's limits).
  if (n >= L26) return distribution(Array.from({ length: n }, (_, i) => fromDecimalLimbs(x, i * LIMBS)));
  const order = sortedOrder(x, n, top);
  const width = top + 1;
  const sum = orderedSum(x, order, 0, n, width);
  const pct = (p: number): string => limbsString(x, (order[Math.ceil((p * n) / 100) - 1] as number) * LIMBS);
  const share = (count: number): number => (sum === 0n ? 0 : Number((10000n * orderedSum(x, order, n - count, n, width)) / sum));
  // Σ (2i − n − 1)·x_i over i = 1…n is 2·Σ i·x_i − (n + 1)·S (non-negative: x ascends).
  const weighted = 2n * rankWeightedSum(x, order, width) - BigInt(n + 1) * sum;
  const gini = sum === 0n ? 0 : Number((10000n * weighted) / (BigInt(n) * sum));
  return {
    payees: n,
    median_minor: pct(50),
    p90_minor: pct(90),
    p99_minor: pct(99),
    top_1pct_share_bp: share(Math.ceil(n / 100)),
    top_10pct_share_bp: share(Math.ceil(n / 10)),
    gini_bp: gini,
  };
}

// The reward calculus `rewarder.calculus/v1` (SPEC §4), exact on integers.
//
// Speed comes from accumulating quantities and scores in Numbers. That is exact only while every
// value stays ≤ 2^53−1, and the guard below proves it cheaply: all the quantities and terms are
// non-negative and IEEE rounding is monotone, so if a running total computed in floating point is
// still ≤ 2^53−1 at the end, no partial sum ever exceeded it and every one of them was exact.
// Steps 2–8 run in typed columns (shares.ts: exact `P × s ÷ T` in Numbers by wide.ts, T summed
// exactly even past 2^53) whenever every actor's score is a safe integer and T < 2^72; otherwise
// they are redone here in BigInt, which is also the reference path the property tests compare
// the columns against (`forceBigInt`).

import type { Inputs } from './inputs.js';
import type { Policy } from './policy.js';
import { type Result, err, ok } from './result.js';
import { nativeAddon } from './native.js';
import { compareUtf8 } from './rules.js';
import { type KindColumns, type PayeeColumns, distributeColumns, usesNativeShares } from './shares.js';
import { LIMBS, addColumns, columnsValue, compareLimbs, toDecimalLimbs } from './wide.js';

export const CALCULUS = 'rewarder.calculus/v1';
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const TALLY_OUT = new Float64Array(2);
let nativeTally = true;

/** Tests only: false makes tally use its TypeScript loop alone (the path without the addon). */
export function useNativeTally(on: boolean): void {
  nativeTally = on;
}

export interface Payee {
  actor: string;
  /** Position of the actor in the inputs' actor list. */
  index: number;
  amount: bigint;
  score: bigint;
}

export interface Counts {
  actors: number;
  events: number;
  ignoredEvents: number;
  excludedActors: number;
  payees: number;
}

export interface Totals {
  poolInput: bigint;
  pool: bigint;
  payout: bigint;
  residual: bigint;
  capped: bigint;
  belowMin: bigint;
  roundingDust: bigint;
}

export interface Calculation {
  counts: Counts;
  totals: Totals;
  /**
   * The payees as objects. From the column path (`columns` set) this is built on first read:
   * the service's worker writes the manifest from the columns and never reads it.
   */
  payees: Payee[];
  /** Which arithmetic the scores took; reported for tests and metrics, not part of the result. */
  arithmetic: 'number' | 'bigint';
  /** The payees as typed columns (the Number path); the manifest writes its digits from them. */
  columns?: PayeeColumns;
}

/** An invariant of SPEC §4.9 that did not hold: the run is quarantined, nothing is published. */
export interface InvariantBreach {
  invariant: 'payout_le_pool' | 'amount_le_ceiling' | 'residual_identity';
  detail: string;
}

export interface CalcOptions {
  /** Skip the Number fast path (the reference path the property tests compare against). */
  forceBigInt?: boolean;
}

/**
 * Step 1 of the calculus, Q[a][k]: it depends on the inputs alone (the window is theirs, not the
 * policy's), so one tally serves every policy and epoch computed over the same sealed inputs; the
 * service caches tallies instead of event columns (320 KB at M instead of 3.2 MB to hand to a
 * worker per run, and 100k events not walked again).
 */
export interface Tally {
  window: { startMs: number; endMs: number };
  poolMinor: bigint;
  kinds: string[];
  actors: string[];
  /** Every event of the document, counted or not. */
  events: number;
  ignored: number;
  /**
   * Q[a][k] at a·K + k. Numbers when the sum of all counted quantities is a safe integer (every
   * cell is then exact by the monotone guard), BigInts otherwise.
   */
  q: Float64Array | bigint[];
}

export function isTally(x: Inputs | Tally): x is Tally {
  return (x as Tally).q !== undefined;
}

/** SPEC §4.1 over the event columns. `forceBigInt` skips the Number path (tests compare both). */
export function tally(inputs: Inputs, opts: CalcOptions = {}): Tally {
  const K = inputs.kinds.length;
  const nActors = inputs.actors.length;
  const { actor, kind, qty, ts, count } = inputs.events;
  const { startMs, endMs } = inputs.window;
  const base = { window: inputs.window, poolMinor: inputs.poolMinor, kinds: inputs.kinds, actors: inputs.actors, events: count };
  if (!opts.forceBigInt) {
    const q = new Float64Array(nActors * K);
    let total = 0;
    let ignored = 0;
    // The addon runs the same loop in the same order (bit-identical doubles) without the cold
    // start of this one, whose interpreted sums allocate a heap number each (L: 500k events).
    if (nativeTally && nativeAddon()?.tallyColumns(actor, kind, qty, ts, count, startMs, endMs, K, q, TALLY_OUT) === true) {
      ignored = TALLY_OUT[0] as number;
      total = TALLY_OUT[1] as number;
    } else {
      q.fill(0);
      for (let i = 0; i < count; i++) {
        const t = ts[i] as number;
        if (t < startMs || t >= endMs) {
          ignored++;
          continue;
        }
        const v = qty[i] as number;
        const cell = (actor[i] as number) * K + (kind[i] as number);
        q[cell] = (q[cell] as number) + v;
        total += v;
      }
    }
    if (total <= MAX_SAFE) return { ...base, ignored, q };
  }
  const q: bigint[] = new Array<bigint>(nActors * K).fill(0n);
  let ignored = 0;
  for (let i = 0; i < count; i++) {
    const t = ts[i] as number;
    if (t < startMs || t >= endMs) {
      ignored++;
      continue;
    }
    const cell = (actor[i] as number) * K + (kind[i] as number);
    q[cell] = (q[cell] as bigint) + BigInt(qty[i] as number);
  }
  return { ...base, ignored, q };
}

export function calculate(source: Inputs | Tally, policy: Policy, opts: CalcOptions = {}): Result<Calculation, InvariantBreach[]> {
  const calc = distribute(source, policy, opts);
  const breaches = checkInvariants(calc, policy);
  return breaches.length === 0 ? ok(calc) : err(breaches);
}

/** Steps 2–8; exported separately so tests can feed a deliberately broken result to the checker. */
export function distribute(source: Inputs | Tally, policy: Policy, opts: CalcOptions = {}): Calculation {
  const t = isTally(source) ? source : tally(source, opts);
  const nActors = t.actors.length;
  const rules = kindColumns(t.kinds, policy);
  const excluded = new Uint8Array(nActors);
  const excludedActors = markExcluded(t.actors, policy.exclude, excluded);
  if (!opts.forceBigInt) {
    const fast = distributeColumns(t, policy, rules, excluded, excludedActors);
    if (fast !== null) return fast;
  }

  // Actors with a positive score, ascending (so in actor order), and their scores.
  const { who, scores, total } = scoresInBigInt(t.q, t.kinds.length, rules, excluded);

  const poolInput = t.poolMinor;
  const pool = policy.poolCapMinor !== null && policy.poolCapMinor < poolInput ? policy.poolCapMinor : poolInput;
  const n = who.length;
  const amounts: bigint[] = new Array<bigint>(n);
  let dust = pool;
  if (pool > 0n && total > 0n) {
    let distributed = 0n;
    // Remainders are below T: Numbers when T is a safe integer (the usual case), else BigInts.
    const small = total <= BigInt(MAX_SAFE);
    const remsN = small ? new Float64Array(n) : null;
    const remsB: bigint[] = small ? [] : new Array<bigint>(n);
    for (let i = 0; i < n; i++) {
      const prod = pool * (scores[i] as bigint);
      const base = prod / total;
      amounts[i] = base;
      const rem = prod - base * total;
      if (remsN !== null) remsN[i] = Number(rem);
      else remsB[i] = rem;
      distributed += base;
    }
    dust = pool - distributed;
    if (policy.rounding === 'largest_remainder' && dust > 0n) {
      for (const i of largestRemainders(n, remsN, remsB, Number(dust))) amounts[i] = (amounts[i] as bigint) + 1n;
      dust = 0n;
    }
  } else {
    amounts.fill(0n);
  }

  let capped = 0n;
  let belowMin = 0n;
  let payout = 0n;
  const payees: Payee[] = [];
  const ceiling = policy.maxPayoutMinor;
  const floor = policy.minPayoutMinor;
  for (let i = 0; i < n; i++) {
    let amt = amounts[i] as bigint;
    if (amt === 0n) continue;
    if (ceiling !== null && amt > ceiling) {
      capped += amt - ceiling;
      amt = ceiling;
    }
    if (amt < floor) {
      belowMin += amt;
      continue;
    }
    payout += amt;
    const a = who[i] as number;
    payees.push({ actor: t.actors[a] as string, index: a, amount: amt, score: scores[i] as bigint });
  }

  return {
    counts: {
      actors: nActors,
      events: t.events,
      ignoredEvents: t.ignored,
      excludedActors,
      payees: payees.length,
    },
    totals: {
      poolInput,
      pool,
      payout,
      residual: pool - payout,
      capped,
      belowMin,
      roundingDust: dust,
    },
    payees,
    arithmetic: 'bigint',
  };
}

export function checkInvariants(calc: Calculation, policy: Policy): InvariantBreach[] {
  const out: InvariantBreach[] = [];
  const t = calc.totals;
  if (t.payout > t.pool) out.push({ invariant: 'payout_le_pool', detail: `payout ${t.payout} exceeds pool ${t.pool}` });
  const bad = calc.columns === undefined ? amountOutOfBounds(calc.payees, policy.maxPayoutMinor) : limbsOutOfBounds(calc.columns, policy.maxPayoutMinor);
  if (bad.at >= 0) out.push({ invariant: 'amount_le_ceiling', detail: `amount of payee ${bad.at} out of bounds` });
  const sum = bad.sum;
  if (sum !== t.payout || t.residual !== t.capped + t.belowMin + t.roundingDust || t.residual !== t.pool - t.payout) {
    out.push({
      invariant: 'residual_identity',
      detail: `residual ${t.residual} != capped ${t.capped} + below_min ${t.belowMin} + dust ${t.roundingDust}`,
    });
  }
  return out;
}

/** Σ amounts, and the first payee whose amount is 0 or above the ceiling (−1 if none). */
function amountOutOfBounds(payees: readonly Payee[], ceiling: bigint | null): { sum: bigint; at: number } {
  let sum = 0n;
  for (let i = 0; i < payees.length; i++) {
    const amount = (payees[i] as Payee).amount;
    sum += amount;
    if ((ceiling !== null && amount > ceiling) || amount <= 0n) return { sum, at: i };
  }
  return { sum, at: -1 };
}

/** The same over the column path's decimal limbs (by the addon when it is there). */
function limbsOutOfBounds(c: PayeeColumns, ceiling: bigint | null): { sum: bigint; at: number } {
  const sums = new Float64Array(LIMBS);
  const top = ceiling === null ? null : toDecimalLimbs(ceiling);
  const native = usesNativeShares() ? nativeAddon() : null;
  if (native !== null) {
    const at = native.limbsCheck(c.amount, c.count, top, sums);
    return { sum: columnsValue(sums), at };
  }
  const zero = new Float64Array(LIMBS);
  for (let i = 0; i < c.count; i++) {
    const at = i * LIMBS;
    addColumns(sums, c.amount, at);
    if ((top !== null && compareLimbs(c.amount, at, top, 0) > 0) || compareLimbs(c.amount, at, zero, 0) <= 0) {
      return { sum: columnsValue(sums), at: i };
    }
  }
  return { sum: columnsValue(sums), at: -1 };
}

function kindColumns(kinds: readonly string[], policy: Policy): KindColumns {
  const n = kinds.length;
  const cols: KindColumns = { weight: new Float64Array(n), divisor: new Float64Array(n), cap: new Float64Array(n) };
  for (let k = 0; k < n; k++) {
    const rule = policy.kinds.get(kinds[k] as string);
    // A kind missing from the policy has weight 0 (SPEC §3).
    cols.weight[k] = rule?.weight ?? 0;
    cols.divisor[k] = rule?.divisor ?? 1;
    cols.cap[k] = rule?.cap ?? Number.POSITIVE_INFINITY;
  }
  return cols;
}

/** Marks listed actors: a binary search each in the actors, which are sorted by UTF-8 bytes. */
function markExcluded(actors: readonly string[], exclude: readonly string[], out: Uint8Array): number {
  let found = 0;
  for (const x of exclude) {
    let lo = 0;
    let hi = actors.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareUtf8(actors[mid] as string, x) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo < actors.length && actors[lo] === x && out[lo] === 0) {
      out[lo] = 1;
      found++;
    }
  }
  return found;
}

/** Actors with a positive score in ascending order, their scores, and T. */
interface Scored {
  who: number[];
  scores: bigint[];
  total: bigint;
}

function scoresInBigInt(q: Float64Array | bigint[], K: number, rules: KindColumns, excluded: Uint8Array): Scored {
  const nActors = excluded.length;
  const who: number[] = [];
  const scores: bigint[] = [];
  let total = 0n;
  for (let a = 0; a < nActors; a++) {
    if (excluded[a] === 1) continue;
    let s = 0n;
    for (let k = 0; k < K; k++) {
      const capN = rules.cap[k] as number;
      const cell = BigInt(q[a * K + k] as number | bigint);
      const capped = capN !== Number.POSITIVE_INFINITY && cell > BigInt(capN) ? BigInt(capN) : cell;
      s += (capped * BigInt(rules.weight[k] as number)) / BigInt(rules.divisor[k] as number);
    }
    if (s === 0n) continue;
    who.push(a);
    scores.push(s);
    total += s;
  }
  return { who, scores, total };
}

/**
 * The `d` scored actors that get +1 under largest_remainder: remainder descending, then actor id
 * ascending. Scored actors are in id order, so their position is the tie-break. Remainders come
 * as Numbers when T is a safe integer, else as BigInts.
 */
function largestRemainders(n: number, remsN: Float64Array | null, remsB: readonly bigint[], d: number): number[] {
  if (remsN !== null) {
    // The d-th largest remainder splits the actors: every one above it gets +1, and of those equal
    // to it the lowest positions fill what is left. A native sort of the values finds it (a
    // comparator sort of 10k positions cost ~3 ms).
    const cut = Float64Array.from(remsN).sort()[n - d] as number;
    let above = 0;
    for (let i = 0; i < n; i++) if ((remsN[i] as number) > cut) above++;
    const out: number[] = [];
    let ties = d - above;
    for (let i = 0; i < n; i++) {
      const r = remsN[i] as number;
      if (r > cut) out.push(i);
      else if (r === cut && ties > 0) {
        out.push(i);
        ties--;
      }
    }
    return out;
  }
  const idx: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((x, y) => {
    const rx = remsB[x] as bigint;
    const ry = remsB[y] as bigint;
    return rx === ry ? x - y : rx > ry ? -1 : 1;
  });
  return idx.slice(0, d);
}

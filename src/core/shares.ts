// Steps 2–8 of the calculus (SPEC §4) in typed columns, for every run whose per-actor scores are
// safe integers and whose T is below 2^72 (all realistic runs, token-sized pools included): scores
// in Numbers, `P × s ÷ T` and its remainder by the exact kernel of wide.ts, the largest_remainder
// +1s by a threshold over the remainders, ceiling and floor on decimal limbs, and totals from
// column sums. No BigInt per actor: the payees come out as columns (actor index, decimal limbs of
// the amount, score) that the manifest writes as digits. `Calculation.payees` is materialised from
// them only when something reads it (the service's worker never does).
// Anything outside that domain returns null and calculus.ts takes its BigInt path, which is also
// the reference the property tests compare this one against. The addon (native/share_kernel.c)
// runs each of the loops below to the same bits (~80 ms of CPU at XL instead of ~550 ms, most of
// it interpreted and JIT warm-up on a worker's first compute); the TypeScript is its fallback and
// the reference shares-native.test.ts compares it with.

import type { Calculation, Payee, Tally } from './calculus.js';
import { nativeAddon } from './native.js';
import type { Policy } from './policy.js';
import {
  LIMBS,
  ShareKernel,
  addColumns,
  columnsValue,
  compareLimbs,
  fromDecimalLimbs,
  incrementLimbs,
  toDecimalLimbs,
} from './wide.js';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const L48 = 281_474_976_710_656; // 2^48
const OUT = new Float64Array(2);
let nativeShares = true;

/**
 * Tests only: false makes the column path run its TypeScript loops alone (the path without the
 * addon, and the reference native/share_kernel.c must equal bit for bit).
 */
export function useNativeShares(on: boolean): void {
  nativeShares = on;
}

/** Whether the column path may use the addon (calculus.ts's invariant check follows it too). */
export function usesNativeShares(): boolean {
  return nativeShares;
}

/** The payees of a run as columns, in payee order (ascending actor index). */
export interface PayeeColumns {
  count: number;
  /** The inputs' actor ids (the tally's list, not a copy). */
  actors: readonly string[];
  /** Position of each payee's actor in the inputs' actor list. */
  index: Uint32Array;
  /** Decimal (base 10^7) limbs of each amount, least significant first: payee i at [i·6, i·6+6). */
  amount: Float64Array;
  /** Each payee's score, a safe integer. */
  score: Float64Array;
}

/** Per-kind rules of the policy in the inputs' kind order (see calculus.ts). */
export interface KindColumns {
  weight: Float64Array;
  divisor: Float64Array;
  /** Infinity where the kind has no cap. */
  cap: Float64Array;
}

/**
 * Steps 2–8 over a Number tally, or null when a score or T leaves the kernel's domain (the caller
 * then runs the BigInt path). `excluded` marks excluded actors; `excludedActors` counts them.
 */
export function distributeColumns(
  t: Tally,
  policy: Policy,
  rules: KindColumns,
  excluded: Uint8Array,
  excludedActors: number,
): Calculation | null {
  if (!(t.q instanceof Float64Array)) return null;
  // The addon runs each loop below as the TypeScript does, to the same bits (share_kernel.c).
  const native = nativeShares ? nativeAddon() : null;
  const scored = (native === null ? null : nativeScores(native, t.q, t.kinds.length, rules, excluded)) ?? scoreColumns(t.q, t.kinds.length, rules, excluded);
  if (scored === null) return null;
  const { who, score, total } = scored;
  const n = who.length;

  const poolInput = t.poolMinor;
  const pool = policy.poolCapMinor !== null && policy.poolCapMinor < poolInput ? policy.poolCapMinor : poolInput;
  const amount = new Float64Array(n * LIMBS);
  let dust = pool;
  if (pool > 0n && total > 0n) {
    const kernel = ShareKernel.create(pool, total);
    if (kernel === null) return null;
    const bases = new Float64Array(LIMBS);
    if (native !== null) {
      // Floor rounding has no use for the remainders: 14 MB not allocated nor written at XL.
      const lr = policy.rounding === 'largest_remainder';
      const remHi = lr ? new Float64Array(n) : null;
      const remLo = lr ? new Float64Array(n) : null;
      native.shareColumns(kernel.params(), score, n, amount, remHi, remLo, bases);
      dust = pool - columnsValue(bases);
      if (remHi !== null && remLo !== null && dust > 0n) {
        native.largestRemainders(remHi, remLo, n, Number(dust), amount);
        dust = 0n;
      }
    } else {
      const remHi = new Float64Array(n);
      const remLo = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        kernel.share(score[i] as number, amount, i * LIMBS, remHi, remLo, i);
        addColumns(bases, amount, i * LIMBS);
      }
      dust = pool - columnsValue(bases);
      if (policy.rounding === 'largest_remainder' && dust > 0n) {
        for (const i of largestRemainders(remHi, remLo, Number(dust))) incrementLimbs(amount, i * LIMBS);
        dust = 0n;
      }
    }
  }

  // Ceiling, floor and the payees, compacted in place (payee m ≤ scored actor i).
  const ceiling = policy.maxPayoutMinor === null ? null : toDecimalLimbs(policy.maxPayoutMinor);
  const floor = toDecimalLimbs(policy.minPayoutMinor);
  const sums = new Float64Array(3 * LIMBS);
  const cappedSum = sums.subarray(0, LIMBS);
  const belowSum = sums.subarray(LIMBS, 2 * LIMBS);
  const payoutSum = sums.subarray(2 * LIMBS);
  let cappedCount = 0;
  let m = 0;
  if (native !== null) {
    m = native.payeeColumns(amount, n, ceiling, floor, who, score, sums, OUT);
    cappedCount = OUT[0] as number;
  } else {
    for (let i = 0; i < n; i++) {
      const at = i * LIMBS;
      if (isZero(amount, at)) continue;
      if (ceiling !== null && compareLimbs(amount, at, ceiling, 0) > 0) {
        addColumns(cappedSum, amount, at);
        cappedCount++;
        amount.set(ceiling, at);
      }
      if (compareLimbs(amount, at, floor, 0) < 0) {
        addColumns(belowSum, amount, at);
        continue;
      }
      addColumns(payoutSum, amount, at);
      if (m !== i) {
        amount.copyWithin(m * LIMBS, at, at + LIMBS);
        who[m] = who[i] as number;
        score[m] = score[i] as number;
      }
      m++;
    }
  }
  const capped = cappedCount === 0 ? 0n : columnsValue(cappedSum) - BigInt(cappedCount) * (policy.maxPayoutMinor as bigint);
  const payout = columnsValue(payoutSum);
  const columns: PayeeColumns = {
    count: m,
    actors: t.actors,
    index: who.subarray(0, m),
    amount: amount.subarray(0, m * LIMBS),
    score: score.subarray(0, m),
  };
  const calc = {
    counts: { actors: t.actors.length, events: t.events, ignoredEvents: t.ignored, excludedActors, payees: m },
    totals: { poolInput, pool, payout, residual: pool - payout, capped, belowMin: columnsValue(belowSum), roundingDust: dust },
    arithmetic: 'number',
    columns,
  } as Omit<Calculation, 'payees'> as Calculation;
  let payees: Payee[] | undefined;
  Object.defineProperty(calc, 'payees', {
    enumerable: true,
    get: () => (payees ??= payeesOf(columns, t.actors)),
  });
  return calc;
}

/** Payee objects of the columns (BigInt amounts and scores), for readers of `payees`. */
export function payeesOf(c: PayeeColumns, actors: readonly string[]): Payee[] {
  const out: Payee[] = new Array<Payee>(c.count);
  for (let i = 0; i < c.count; i++) {
    const a = c.index[i] as number;
    out[i] = { actor: actors[a] as string, index: a, amount: fromDecimalLimbs(c.amount, i * LIMBS), score: BigInt(c.score[i] as number) };
  }
  return out;
}

function isZero(limbs: Float64Array, at: number): boolean {
  for (let k = 0; k < LIMBS; k++) if (limbs[at + k] !== 0) return false;
  return true;
}

/** scoreColumns by the addon, or null where the TypeScript must decide. */
function nativeScores(
  native: NonNullable<ReturnType<typeof nativeAddon>>,
  q: Float64Array,
  K: number,
  rules: KindColumns,
  excluded: Uint8Array,
): { who: Uint32Array; score: Float64Array; total: bigint } | null {
  const nActors = excluded.length;
  const who = new Uint32Array(nActors);
  const score = new Float64Array(nActors);
  const n = native.scoreColumns(q, K, rules.weight, rules.divisor, rules.cap, excluded, who, score, OUT);
  if (n < 0) return null;
  return { who: who.subarray(0, n), score: score.subarray(0, n), total: (BigInt(OUT[0] as number) << 48n) + BigInt(OUT[1] as number) };
}

/**
 * Step 2 in Numbers: actors with a positive score (ascending), their scores and T. Every term and
 * every actor's sum is checked against 2^53−1 (terms are non-negative and IEEE rounding is
 * monotone, so a sum that ends ≤ 2^53−1 was exact throughout); T itself may exceed it and is
 * summed exactly, a safe partial sum flushed into a BigInt whenever the next score would leave the
 * safe range. null when a term or a score is not safe.
 */
function scoreColumns(
  q: Float64Array,
  K: number,
  rules: KindColumns,
  excluded: Uint8Array,
): { who: Uint32Array; score: Float64Array; total: bigint } | null {
  const nActors = excluded.length;
  const who = new Uint32Array(nActors);
  const score = new Float64Array(nActors);
  let n = 0;
  let acc = 0;
  let flushed = 0n;
  for (let a = 0; a < nActors; a++) {
    if (excluded[a] === 1) continue;
    let s = 0;
    const row = a * K;
    for (let k = 0; k < K; k++) {
      const w = rules.weight[k] as number;
      const cell = q[row + k] as number;
      if (w === 0 || cell === 0) continue;
      const cap = rules.cap[k] as number;
      const x = (cell < cap ? cell : cap) * w;
      if (x > MAX_SAFE) return null;
      const d = rules.divisor[k] as number;
      // Exact floor division for safe integers: x − x mod d is an exact multiple of d.
      s += (x - (x % d)) / d;
    }
    if (s === 0) continue;
    if (s > MAX_SAFE) return null;
    if (acc + s > MAX_SAFE) {
      flushed += BigInt(acc);
      acc = 0;
    }
    acc += s;
    who[n] = a;
    score[n] = s;
    n++;
  }
  return { who: who.subarray(0, n), score: score.subarray(0, n), total: flushed + BigInt(acc) };
}

/**
 * The d scored actors that get +1 under largest_remainder: remainder descending, then actor id
 * ascending (scored actors are in id order, so position breaks ties). Each remainder is
 * remHi·2^48 + remLo; its nearest double is a monotone key, so a native sort of the keys finds the
 * d-th largest, every key above it is in, every key below out, and only the (usually one or two)
 * actors whose key equals it are ordered exactly.
 */
function largestRemainders(remHi: Float64Array, remLo: Float64Array, d: number): number[] {
  const n = remHi.length;
  const key = new Float64Array(n);
  for (let i = 0; i < n; i++) key[i] = (remHi[i] as number) * L48 + (remLo[i] as number);
  const cut = Float64Array.from(key).sort()[n - d] as number;
  const out: number[] = [];
  const tied: number[] = [];
  for (let i = 0; i < n; i++) {
    const k = key[i] as number;
    if (k > cut) out.push(i);
    else if (k === cut) tied.push(i);
  }
  // Exact order among the tied keys; Array.prototype.sort is stable, so equal remainders keep
  // ascending positions.
  tied.sort((x, y) => (remHi[y] as number) - (remHi[x] as number) || (remLo[y] as number) - (remLo[x] as number));
  for (let j = 0; out.length < d; j++) out.push(tied[j] as number);
  return out;
}

// The reward calculus `rewarder.calculus/v1` (SPEC §4), exact on integers.
//
// Speed comes from accumulating quantities and scores in Numbers. That is exact only while every
// value stays ≤ 2^53−1, and the guard below proves it cheaply: all the quantities and terms are
// non-negative and IEEE rounding is monotone, so if a running total computed in floating point is
// still ≤ 2^53−1 at the end, no partial sum ever exceeded it and every one of them was exact.
// When the guard fails the whole step is redone with BigInt. `P × s ÷ T` always uses BigInt
// (P alone may be up to 2^128−1).

import type { Inputs } from './inputs.js';
import type { Policy } from './policy.js';
import { type Result, err, ok } from './result.js';
import { compareUtf8 } from './rules.js';

export const CALCULUS = 'rewarder.calculus/v1';
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

export interface Payee {
  actor: string;
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
  payees: Payee[];
  /** Which arithmetic the scores took; reported for tests and metrics, not part of the result. */
  arithmetic: 'number' | 'bigint';
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

interface KindColumns {
  weight: Float64Array;
  divisor: Float64Array;
  /** Infinity where the kind has no cap. */
  cap: Float64Array;
}

export function calculate(inputs: Inputs, policy: Policy, opts: CalcOptions = {}): Result<Calculation, InvariantBreach[]> {
  const calc = distribute(inputs, policy, opts);
  const breaches = checkInvariants(calc, policy);
  return breaches.length === 0 ? ok(calc) : err(breaches);
}

/** Steps 1–8; exported separately so tests can feed a deliberately broken result to the checker. */
export function distribute(inputs: Inputs, policy: Policy, opts: CalcOptions = {}): Calculation {
  const nActors = inputs.actors.length;
  const rules = kindColumns(inputs.kinds, policy);
  const excluded = new Uint8Array(nActors);
  const excludedActors = markExcluded(inputs.actors, policy.exclude, excluded);

  let arithmetic: Calculation['arithmetic'] = 'number';
  let scores: bigint[];
  let ignoredEvents: number;
  const fast = opts.forceBigInt ? null : scoresInNumbers(inputs, rules, excluded);
  if (fast !== null) {
    ignoredEvents = fast.ignored;
    scores = fast.scores;
  } else {
    arithmetic = 'bigint';
    const slow = scoresInBigInt(inputs, rules, excluded);
    ignoredEvents = slow.ignored;
    scores = slow.scores;
  }

  const poolInput = inputs.poolMinor;
  const pool = policy.poolCapMinor !== null && policy.poolCapMinor < poolInput ? policy.poolCapMinor : poolInput;
  let total = 0n;
  for (const s of scores) total += s;

  const amounts: bigint[] = new Array<bigint>(nActors).fill(0n);
  let dust = pool;
  if (pool > 0n && total > 0n) {
    let distributed = 0n;
    const rems: bigint[] = new Array<bigint>(nActors).fill(0n);
    for (let a = 0; a < nActors; a++) {
      const s = scores[a] as bigint;
      if (s === 0n) continue;
      const prod = pool * s;
      const base = prod / total;
      amounts[a] = base;
      rems[a] = prod - base * total;
      distributed += base;
    }
    dust = pool - distributed;
    if (policy.rounding === 'largest_remainder' && dust > 0n) {
      for (const a of largestRemainders(scores, rems, total, Number(dust))) amounts[a] = (amounts[a] as bigint) + 1n;
      dust = 0n;
    }
  }

  let capped = 0n;
  let belowMin = 0n;
  let payout = 0n;
  const payees: Payee[] = [];
  const ceiling = policy.maxPayoutMinor;
  const floor = policy.minPayoutMinor;
  for (let a = 0; a < nActors; a++) {
    let amt = amounts[a] as bigint;
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
    payees.push({ actor: inputs.actors[a] as string, amount: amt, score: scores[a] as bigint });
  }

  return {
    counts: {
      actors: nActors,
      events: inputs.events.count,
      ignoredEvents,
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
    arithmetic,
  };
}

export function checkInvariants(calc: Calculation, policy: Policy): InvariantBreach[] {
  const out: InvariantBreach[] = [];
  const t = calc.totals;
  if (t.payout > t.pool) out.push({ invariant: 'payout_le_pool', detail: `payout ${t.payout} exceeds pool ${t.pool}` });
  const ceiling = policy.maxPayoutMinor;
  let sum = 0n;
  for (const p of calc.payees) {
    sum += p.amount;
    if ((ceiling !== null && p.amount > ceiling) || p.amount <= 0n) {
      out.push({ invariant: 'amount_le_ceiling', detail: `amount of payee ${calc.payees.indexOf(p)} out of bounds` });
      break;
    }
  }
  if (sum !== t.payout || t.residual !== t.capped + t.belowMin + t.roundingDust || t.residual !== t.pool - t.payout) {
    out.push({
      invariant: 'residual_identity',
      detail: `residual ${t.residual} != capped ${t.capped} + below_min ${t.belowMin} + dust ${t.roundingDust}`,
    });
  }
  return out;
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

/** Marks listed actors (both lists are sorted by UTF-8 bytes: one merge pass). */
function markExcluded(actors: readonly string[], exclude: readonly string[], out: Uint8Array): number {
  let i = 0;
  let found = 0;
  for (const x of exclude) {
    while (i < actors.length && compareUtf8(actors[i] as string, x) < 0) i++;
    if (i < actors.length && actors[i] === x) {
      out[i] = 1;
      found++;
    }
  }
  return found;
}

function scoresInNumbers(
  inputs: Inputs,
  rules: KindColumns,
  excluded: Uint8Array,
): { scores: bigint[]; ignored: number } | null {
  const K = inputs.kinds.length;
  const nActors = inputs.actors.length;
  const { actor, kind, qty, ts, count } = inputs.events;
  const { startMs, endMs } = inputs.window;
  const q = new Float64Array(nActors * K);
  let total = 0;
  let ignored = 0;
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
  if (total > MAX_SAFE) return null;

  const scores: bigint[] = new Array<bigint>(nActors);
  let grand = 0;
  for (let a = 0; a < nActors; a++) {
    if (excluded[a] === 1) {
      scores[a] = 0n;
      continue;
    }
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
    grand += s;
    scores[a] = BigInt(s);
  }
  // One check covers every per-actor sum: each is a partial sum of `grand`.
  return grand > MAX_SAFE ? null : { scores, ignored };
}

function scoresInBigInt(inputs: Inputs, rules: KindColumns, excluded: Uint8Array): { scores: bigint[]; ignored: number } {
  const K = inputs.kinds.length;
  const nActors = inputs.actors.length;
  const { actor, kind, qty, ts, count } = inputs.events;
  const { startMs, endMs } = inputs.window;
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
  const scores: bigint[] = new Array<bigint>(nActors);
  for (let a = 0; a < nActors; a++) {
    let s = 0n;
    if (excluded[a] !== 1) {
      for (let k = 0; k < K; k++) {
        const capN = rules.cap[k] as number;
        const cell = q[a * K + k] as bigint;
        const capped = capN !== Number.POSITIVE_INFINITY && cell > BigInt(capN) ? BigInt(capN) : cell;
        s += (capped * BigInt(rules.weight[k] as number)) / BigInt(rules.divisor[k] as number);
      }
    }
    scores[a] = s;
  }
  return { scores, ignored };
}

/**
 * The `d` actors that get +1 under largest_remainder: remainder descending, then actor id
 * ascending. Actors are already sorted by id, so the index is the tie-break. Remainders are
 * below T; when T is a safe integer they are compared as Numbers.
 */
function largestRemainders(scores: readonly bigint[], rems: readonly bigint[], total: bigint, d: number): number[] {
  const idx: number[] = [];
  for (let a = 0; a < scores.length; a++) if ((scores[a] as bigint) > 0n) idx.push(a);
  if (total <= BigInt(MAX_SAFE)) {
    const r = new Float64Array(rems.length);
    for (const a of idx) r[a] = Number(rems[a] as bigint);
    idx.sort((x, y) => (r[y] as number) - (r[x] as number) || x - y);
  } else {
    idx.sort((x, y) => {
      const rx = rems[x] as bigint;
      const ry = rems[y] as bigint;
      return rx === ry ? x - y : rx > ry ? -1 : 1;
    });
  }
  return idx.slice(0, d);
}

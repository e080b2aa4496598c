// Comparisons of two manifests `rewarder.comparison/v1`: what a policy or inputs change does to
// the payouts (`rewarder diff`, `POST /epochs/{id}/preview`). Pure and exact: amounts are
// BigInts, shares and the Gini coefficient integer basis points (floor), so the same two
// manifests always give the same bytes.
//
// Formulas, over the payees' amounts x (n of them, sorted ascending, S = Σx; all 0 when n = 0):
// - percentile p (median p = 50, p90, p99): nearest rank, x[⌈p·n/100⌉ − 1];
// - top q share (q = 1 %, 10 %): the ⌈q·n⌉ largest amounts' sum, ⌊10000 · Σ / S⌋ basis points;
// - Gini: ⌊10000 · Σᵢ (2i − n − 1)·xᵢ / (n · S)⌋ basis points, i = 1…n (0 = equal, → 10000 =
//   one payee has everything).
// Deltas are b − a, signed decimal strings; gainers are the top N by delta descending, losers by
// delta ascending, ties by actor id ascending (UTF-8 bytes).

import { isObject } from './json/parse.js';
import { compareUtf8 } from './rules.js';

export const COMPARISON_SCHEMA = 'rewarder.comparison/v1';
export const TOTALS = ['pool_input_minor', 'pool_minor', 'payout_minor', 'residual_minor', 'capped_minor', 'below_min_minor', 'rounding_dust_minor'] as const;
export type TotalName = (typeof TOTALS)[number];

/** The members of a manifest a comparison reads. */
export interface ComparedManifest {
  epoch_id: string;
  commitment: string;
  inputs_cid: string;
  policy_hash: string;
  totals: Record<TotalName, bigint>;
  payouts: { actor: string; amount: bigint }[];
}

const DIGITS = /^(0|[1-9][0-9]*)$/;

/** Reads them from a parsed manifest, or says what is malformed. */
export function comparedManifest(doc: unknown): ComparedManifest | string {
  if (!isObject(doc)) return 'manifest is not a JSON object';
  const { epoch_id, commitment, inputs_cid, policy, totals, payouts } = doc;
  if (typeof epoch_id !== 'string' || typeof commitment !== 'string' || typeof inputs_cid !== 'string') return 'manifest lacks epoch_id, commitment or inputs_cid';
  if (!isObject(policy) || typeof policy.hash !== 'string') return 'manifest lacks policy.hash';
  if (!isObject(totals)) return 'manifest has no totals';
  const t = {} as Record<TotalName, bigint>;
  for (const k of TOTALS) {
    const v = totals[k];
    if (typeof v !== 'string' || !DIGITS.test(v)) return `manifest totals.${k} is not money`;
    t[k] = BigInt(v);
  }
  if (!Array.isArray(payouts)) return 'manifest has no payouts array';
  const out: ComparedManifest['payouts'] = [];
  for (const p of payouts) {
    if (!isObject(p) || typeof p.actor !== 'string' || typeof p.amount_minor !== 'string' || !DIGITS.test(p.amount_minor)) return 'manifest payouts are malformed';
    out.push({ actor: p.actor, amount: BigInt(p.amount_minor) });
  }
  return { epoch_id, commitment, inputs_cid, policy_hash: policy.hash, totals: t, payouts: out };
}

export interface Delta {
  actor: string;
  a: bigint;
  b: bigint;
  delta: bigint;
}

/** Every actor paid in either manifest, by actor id ascending, with both amounts (0 if unpaid). */
export function payoutDeltas(a: ComparedManifest, b: ComparedManifest): Delta[] {
  // Manifests list payees by actor id ascending: one merge, no sort. Documents edited by hand
  // may not be: they take the map and sort.
  if (!ascending(a.payouts) || !ascending(b.payouts)) return unorderedDeltas(a, b);
  const out: Delta[] = [];
  let i = 0;
  let j = 0;
  const pa = a.payouts;
  const pb = b.payouts;
  while (i < pa.length || j < pb.length) {
    const x = pa[i];
    const y = pb[j];
    const c = x === undefined ? 1 : y === undefined ? -1 : x.actor === y.actor ? 0 : compareUtf8(x.actor, y.actor);
    if (c === 0 && x !== undefined && y !== undefined) {
      out.push({ actor: x.actor, a: x.amount, b: y.amount, delta: y.amount - x.amount });
      i++;
      j++;
    } else if (c < 0 && x !== undefined) {
      out.push({ actor: x.actor, a: x.amount, b: 0n, delta: -x.amount });
      i++;
    } else if (y !== undefined) {
      out.push({ actor: y.actor, a: 0n, b: y.amount, delta: y.amount });
      j++;
    }
  }
  return out;
}

function ascending(p: ComparedManifest['payouts']): boolean {
  for (let i = 1; i < p.length; i++) if (compareUtf8((p[i - 1] as { actor: string }).actor, (p[i] as { actor: string }).actor) >= 0) return false;
  return true;
}

function unorderedDeltas(a: ComparedManifest, b: ComparedManifest): Delta[] {
  const amounts = new Map<string, { a: bigint; b: bigint }>();
  for (const p of a.payouts) amounts.set(p.actor, { a: p.amount, b: 0n });
  for (const p of b.payouts) {
    const e = amounts.get(p.actor);
    if (e === undefined) amounts.set(p.actor, { a: 0n, b: p.amount });
    else e.b = p.amount;
  }
  const out: Delta[] = [];
  for (const [actor, v] of amounts) out.push({ actor, a: v.a, b: v.b, delta: v.b - v.a });
  return out.sort((x, y) => compareUtf8(x.actor, y.actor));
}

export interface Distribution {
  payees: number;
  median_minor: string;
  p90_minor: string;
  p99_minor: string;
  top_1pct_share_bp: number;
  top_10pct_share_bp: number;
  gini_bp: number;
}

/** The distribution figures of one manifest's amounts (formulas above). */
export function distribution(amounts: readonly bigint[]): Distribution {
  const x = [...amounts].sort((p, q) => (p < q ? -1 : p > q ? 1 : 0));
  const n = x.length;
  if (n === 0) return { payees: 0, median_minor: '0', p90_minor: '0', p99_minor: '0', top_1pct_share_bp: 0, top_10pct_share_bp: 0, gini_bp: 0 };
  let sum = 0n;
  for (const v of x) sum += v;
  const pct = (p: number): string => (x[Math.ceil((p * n) / 100) - 1] as bigint).toString();
  const top = (count: number): number => {
    if (sum === 0n) return 0;
    let s = 0n;
    for (let i = n - count; i < n; i++) s += x[i] as bigint;
    return Number((10000n * s) / sum);
  };
  let weighted = 0n;
  for (let i = 0; i < n; i++) weighted += BigInt(2 * (i + 1) - n - 1) * (x[i] as bigint);
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

const row = (d: Delta) => ({ actor: d.actor, a_minor: d.a.toString(), b_minor: d.b.toString(), delta_minor: d.delta.toString() });

export interface Comparison {
  schema: typeof COMPARISON_SCHEMA;
  a: { epoch_id: string; commitment: string; inputs_cid: string; policy_hash: string };
  b: { epoch_id: string; commitment: string; inputs_cid: string; policy_hash: string };
  totals: Record<TotalName, { a_minor: string; b_minor: string; delta_minor: string }>;
  payees: { a: number; b: number; added: number; removed: number; changed: number; unchanged: number };
  gainers: ReturnType<typeof row>[];
  losers: ReturnType<typeof row>[];
  distribution: { a: Distribution; b: Distribution };
}

/** Compares manifest `a` (before) with `b` (after); `top` gainers and losers are listed. */
export function compare(a: ComparedManifest, b: ComparedManifest, top = 10): Comparison {
  const deltas = payoutDeltas(a, b);
  let added = 0;
  let removed = 0;
  let changed = 0;
  for (const d of deltas) {
    if (d.a === 0n) added++;
    else if (d.b === 0n) removed++;
    else if (d.delta !== 0n) changed++;
  }
  // Deltas are in actor order already, and the sort is stable: equal deltas keep it.
  const gainers = top === 0 ? [] : deltas.filter((d) => d.delta > 0n).sort((x, y) => (x.delta === y.delta ? 0 : x.delta > y.delta ? -1 : 1)).slice(0, top);
  const losers = top === 0 ? [] : deltas.filter((d) => d.delta < 0n).sort((x, y) => (x.delta === y.delta ? 0 : x.delta < y.delta ? -1 : 1)).slice(0, top);
  const totals = {} as Comparison['totals'];
  for (const k of TOTALS) totals[k] = { a_minor: a.totals[k].toString(), b_minor: b.totals[k].toString(), delta_minor: (b.totals[k] - a.totals[k]).toString() };
  const id = (m: ComparedManifest) => ({ epoch_id: m.epoch_id, commitment: m.commitment, inputs_cid: m.inputs_cid, policy_hash: m.policy_hash });
  return {
    schema: COMPARISON_SCHEMA,
    a: id(a),
    b: id(b),
    totals,
    payees: { a: a.payouts.length, b: b.payouts.length, added, removed, changed, unchanged: deltas.length - added - removed - changed },
    gainers: gainers.map(row),
    losers: losers.map(row),
    distribution: { a: distribution(a.payouts.map((p) => p.amount)), b: distribution(b.payouts.map((p) => p.amount)) },
  };
}

/** Every changed or unchanged actor as CSV (header line first), by actor id. */
export function deltasCsv(deltas: readonly Delta[]): string {
  const quote = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  return ['actor,a_minor,b_minor,delta_minor', ...deltas.map((d) => `${quote(d.actor)},${d.a},${d.b},${d.delta}`)].join('\n') + '\n';
}

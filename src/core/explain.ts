// Explanations `rewarder.explanation/v1` (SPEC §11): why an actor got what it got, from the
// sealed inputs, the policy and the calculus alone, so anyone holding them recomputes the same
// bytes.
//
// Split in two so a service can answer in O(kinds) per call: `explainBasis` does the O(n log n)
// part once per (inputs, policy) — T, P, D and every scored actor's place in the §4.5 order — and
// `explainActor` derives one actor's explanation from the basis and that actor's row of the
// tally. Both are pure; every quantity is a BigInt, never a float.

import { type Tally, tally } from './calculus.js';
import { isDigest } from './hash.js';
import type { Inputs } from './inputs.js';
import type { Texts } from './manifest.js';
import { canonicalBytes } from './jcs.js';
import type { Policy } from './policy.js';
import { buildProofIndex, proveFromIndex } from './proof-index.js';
import { type PayoutProof, manifestPayouts } from './proof.js';
import { type Result, err, ok } from './result.js';
import { compareUtf8 } from './rules.js';

export const EXPLANATION_SCHEMA = 'rewarder.explanation/v1';

export type ExplainStatus = 'not_in_inputs' | 'excluded' | 'no_usage' | 'zero_score' | 'zero_share' | 'below_min' | 'paid';

/** The per-run facts every explanation of a run shares; built once (structured-cloneable). */
export interface ExplainBasis {
  rounding: Policy['rounding'];
  /** Per inputs kind: the policy's rule (weight 0, divisor 1 for a kind the policy lacks; cap null = none). */
  weight: number[];
  divisor: number[];
  cap: (number | null)[];
  /** Per actor: 1 when listed in the policy's `exclude`. */
  excluded: Uint8Array;
  /** Per actor: 0-based place in the §4.5 order, -1 where §11 says null. */
  rank: Int32Array;
  /** T, P and D of §4.3–4.4 (D = 0 when P or T is 0). */
  total: bigint;
  pool: bigint;
  dust: bigint;
  ceiling: bigint | null;
  floor: bigint;
}

/** What one explanation reads of the inputs: the tally (§4.1) and which cells saw a counted event. */
export interface ExplainSource {
  kinds: readonly string[];
  q: Float64Array | bigint[];
  /** Per actor·K + kind: 1 when the actor has at least one counted event of that kind (qty 0 too). */
  seen: Uint8Array;
}

export interface ExplanationProof {
  leaf_index: number;
  tree_size: number;
  audit_path: string[];
  payouts_root: string;
}

export interface ExplanationKind {
  kind: string;
  quantity: string;
  capped_quantity: string;
  weight: number;
  divisor: number;
  term: string;
}

export interface Explanation {
  schema: typeof EXPLANATION_SCHEMA;
  epoch_id: string;
  commitment: string;
  actor: string;
  status: ExplainStatus;
  score: string;
  total_score: string;
  pool_minor: string;
  base_minor: string;
  remainder: string;
  remainder_rank: number | null;
  plus_one: boolean;
  ceiling_cut_minor: string;
  below_min_cut_minor: string;
  amount_minor: string;
  kinds: ExplanationKind[];
  proof: ExplanationProof | null;
}

/** Which (actor, kind) cells have at least one counted event (§4.1): a zero tally does not say. */
export function countedCells(inputs: Inputs): Uint8Array {
  const K = inputs.kinds.length;
  const seen = new Uint8Array(inputs.actors.length * K);
  const { actor, kind, ts, count } = inputs.events;
  const { startMs, endMs } = inputs.window;
  for (let i = 0; i < count; i++) {
    const t = ts[i] as number;
    if (t >= startMs && t < endMs) seen[(actor[i] as number) * K + (kind[i] as number)] = 1;
  }
  return seen;
}

function cell(q: Float64Array | bigint[], at: number): bigint {
  const v = q[at];
  return typeof v === 'bigint' ? v : BigInt(v as number);
}

/** s_a of §4.2 ignoring `exclude` (the caller decides), exactly. */
function rawScore(q: Float64Array | bigint[], K: number, a: number, b: Pick<ExplainBasis, 'weight' | 'divisor' | 'cap'>): bigint {
  let s = 0n;
  for (let k = 0; k < K; k++) {
    const w = b.weight[k] as number;
    if (w === 0) continue;
    const quantity = cell(q, a * K + k);
    const cap = b.cap[k] as number | null;
    const capped = cap !== null && quantity > BigInt(cap) ? BigInt(cap) : quantity;
    s += (capped * BigInt(w)) / BigInt(b.divisor[k] as number);
  }
  return s;
}

/** The per-run part: O(actors × kinds) scores and one sort of the remainders. */
export function explainBasis(t: Pick<Tally, 'kinds' | 'q' | 'poolMinor'>, actorCount: number, actorIds: readonly string[] | null, policy: Policy): ExplainBasis {
  const K = t.kinds.length;
  const weight: number[] = [];
  const divisor: number[] = [];
  const cap: (number | null)[] = [];
  for (const name of t.kinds) {
    const rule = policy.kinds.get(name);
    weight.push(rule?.weight ?? 0);
    divisor.push(rule?.divisor ?? 1);
    cap.push(rule?.cap ?? null);
  }
  const excluded = new Uint8Array(actorCount);
  if (policy.exclude.length > 0) {
    if (actorIds === null) throw new TypeError('explainBasis: the policy excludes actors, so the actor ids are needed');
    for (const x of policy.exclude) {
      const a = actorIndex(actorIds, x);
      if (a >= 0) excluded[a] = 1;
    }
  }
  const rules = { weight, divisor, cap };
  const who: number[] = [];
  const scores: bigint[] = [];
  let total = 0n;
  for (let a = 0; a < actorCount; a++) {
    if (excluded[a] === 1) continue;
    const s = rawScore(t.q, K, a, rules);
    if (s === 0n) continue;
    who.push(a);
    scores.push(s);
    total += s;
  }
  const input = t.poolMinor;
  const pool = policy.poolCapMinor !== null && policy.poolCapMinor < input ? policy.poolCapMinor : input;
  const rank = new Int32Array(actorCount).fill(-1);
  let dust = 0n;
  if (pool > 0n && total > 0n) {
    const rems: bigint[] = new Array<bigint>(who.length);
    let distributed = 0n;
    for (let i = 0; i < who.length; i++) {
      const prod = pool * (scores[i] as bigint);
      distributed += prod / total;
      rems[i] = prod % total;
    }
    dust = pool - distributed;
    if (policy.rounding === 'largest_remainder') {
      // Remainder descending, then actor id ascending: scored actors are in id order already.
      const order = who.map((_, i) => i);
      order.sort((x, y) => {
        const rx = rems[x] as bigint;
        const ry = rems[y] as bigint;
        return rx === ry ? x - y : rx > ry ? -1 : 1;
      });
      for (let r = 0; r < order.length; r++) rank[who[order[r] as number] as number] = r;
    }
  }
  return { rounding: policy.rounding, weight, divisor, cap, excluded, rank, total, pool, dust, ceiling: policy.maxPayoutMinor, floor: policy.minPayoutMinor };
}

/** The index of `actor` in ids sorted by UTF-8 bytes, or -1. */
export function actorIndex(ids: readonly string[], actor: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareUtf8(ids[mid] as string, actor) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo < ids.length && ids[lo] === actor ? lo : -1;
}

export interface ExplainRef {
  epochId: string;
  commitment: string;
}

/**
 * One actor's explanation in O(kinds). `index` is the actor's position in the inputs (-1: not
 * listed); `proof` is its inclusion proof when it is a payee (the caller has the payouts tree).
 */
export function explainActor(basis: ExplainBasis, src: ExplainSource, ref: ExplainRef, actor: string, index: number, proof: ExplanationProof | null): Explanation {
  const head = { schema: EXPLANATION_SCHEMA, epoch_id: ref.epochId, commitment: ref.commitment, actor } as const;
  const totals = { total_score: basis.total.toString(), pool_minor: basis.pool.toString() };
  if (index < 0) {
    return {
      ...head,
      status: 'not_in_inputs',
      score: '0',
      ...totals,
      base_minor: '0',
      remainder: '0',
      remainder_rank: null,
      plus_one: false,
      ceiling_cut_minor: '0',
      below_min_cut_minor: '0',
      amount_minor: '0',
      kinds: [],
      proof: null,
    };
  }
  const K = src.kinds.length;
  const kinds: ExplanationKind[] = [];
  let sum = 0n;
  for (let k = 0; k < K; k++) {
    if (src.seen[index * K + k] !== 1) continue;
    const quantity = cell(src.q, index * K + k);
    const cap = basis.cap[k] as number | null;
    const capped = cap !== null && quantity > BigInt(cap) ? BigInt(cap) : quantity;
    const weight = basis.weight[k] as number;
    const divisor = basis.divisor[k] as number;
    const term = (capped * BigInt(weight)) / BigInt(divisor);
    sum += term;
    kinds.push({ kind: src.kinds[k] as string, quantity: quantity.toString(), capped_quantity: capped.toString(), weight, divisor, term: term.toString() });
  }
  // Ascending kind name, by UTF-8 bytes (kind names are ASCII, so code units agree).
  kinds.sort((x, y) => compareUtf8(x.kind, y.kind));
  const excluded = basis.excluded[index] === 1;
  const score = excluded ? 0n : sum;
  let base = 0n;
  let rem = 0n;
  if (score > 0n && basis.pool > 0n && basis.total > 0n) {
    const prod = basis.pool * score;
    base = prod / basis.total;
    rem = prod % basis.total;
  }
  const rank = basis.rank[index] as number;
  const plusOne = basis.rounding === 'largest_remainder' && rank >= 0 && BigInt(rank) < basis.dust;
  let amt = base + (plusOne ? 1n : 0n);
  let ceilingCut = 0n;
  if (basis.ceiling !== null && amt > basis.ceiling) {
    ceilingCut = amt - basis.ceiling;
    amt = basis.ceiling;
  }
  let belowMinCut = 0n;
  if (amt > 0n && amt < basis.floor) {
    belowMinCut = amt;
    amt = 0n;
  }
  const status: ExplainStatus = excluded
    ? 'excluded'
    : kinds.length === 0
      ? 'no_usage'
      : score === 0n
        ? 'zero_score'
        : belowMinCut > 0n
          ? 'below_min'
          : amt === 0n
            ? 'zero_share'
            : 'paid';
  return {
    ...head,
    status,
    score: score.toString(),
    ...totals,
    base_minor: base.toString(),
    remainder: rem.toString(),
    remainder_rank: rank >= 0 ? rank : null,
    plus_one: plusOne,
    ceiling_cut_minor: ceilingCut.toString(),
    below_min_cut_minor: belowMinCut.toString(),
    amount_minor: amt.toString(),
    kinds,
    proof: status === 'paid' ? proof : null,
  };
}

/** The explanation's canonical bytes (JCS, SPEC §11). */
export function explanationBytes(e: Explanation): Uint8Array {
  return canonicalBytes(e);
}

/** The members of a manifest an explanation reads. */
export interface ExplainManifest {
  epoch_id: string;
  commitment: string;
  payouts_root: string;
  payouts: { actor: string; amount_minor: string }[];
}

/** Reads them from a parsed manifest, or says which is malformed. */
export function explainManifest(doc: unknown): ExplainManifest | string {
  const m = manifestPayouts(doc);
  if (typeof m === 'string') return m;
  const commitment = (doc as { commitment?: unknown }).commitment;
  if (!isDigest(commitment)) return 'manifest has no valid commitment';
  return { ...m, commitment };
}

/**
 * Explains any actor of a run from its documents (what `rewarder explain` does, and the reference
 * the service's answer must equal byte for byte). Fails when the recomputed amount is not the
 * manifest's: then the manifest was not computed from these inputs and policy.
 */
export function offlineExplainer(inputs: Inputs, policy: Policy, manifest: ExplainManifest): (actor: string) => Result<Explanation, string> {
  const t = tally(inputs);
  const basis = explainBasis(t, inputs.actors.length, inputs.actors, policy);
  const src: ExplainSource = { kinds: inputs.kinds, q: t.q, seen: countedCells(inputs) };
  const index = buildProofIndex(manifest);
  const ref = { epochId: manifest.epoch_id, commitment: manifest.commitment };
  return (actor) => {
    const proof = proveFromIndex(index, actor);
    const e = explainActor(basis, src, ref, actor, actorIndex(inputs.actors, actor), proof === null ? null : proofPart(proof));
    const published = proof?.amount_minor ?? '0';
    if (e.amount_minor !== published) {
      return err(`the calculus gives ${actor} ${e.amount_minor}, the manifest ${published}: it was not computed from these inputs and policy`);
    }
    return ok(e);
  };
}

/** The §11 proof members of a payout proof. */
export function proofPart(p: PayoutProof): ExplanationProof {
  return { leaf_index: p.leaf_index, tree_size: p.tree_size, audit_path: p.audit_path, payouts_root: p.payouts_root };
}

const utf8 = new TextEncoder();

/** The index of `actor` among UTF-8 ids sorted by their bytes (an inputs' actors), or -1. */
export function textIndex(ids: Texts, actor: string): number {
  const want = utf8.encode(actor);
  const { bytes, offsets } = ids;
  let lo = 0;
  let hi = offsets.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const from = offsets[mid] as number;
    const to = offsets[mid + 1] as number;
    let c = 0;
    const n = Math.min(to - from, want.length);
    for (let i = 0; i < n && c === 0; i++) c = (bytes[from + i] as number) - (want[i] as number);
    if (c === 0) c = to - from - want.length;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  if (lo >= offsets.length - 1) return -1;
  const from = offsets[lo] as number;
  const to = offsets[lo + 1] as number;
  if (to - from !== want.length) return -1;
  for (let i = 0; i < want.length; i++) if (bytes[from + i] !== want[i]) return -1;
  return lo;
}

// The `token` profile of the generator: inputs and a policy shaped like a real token program
// rather than like `rewarder gen`'s default data. What differs, and why it matters for speed:
// - the pool is an 18-decimal token amount (10^21–10^23 minor units), so amounts at M are
//   ~10^17–10^19 and P × s needs ~110 bits;
// - scores are ~10^12 each, so T = Σ s is above 2^53 (the Number fast paths of the calculus do
//   not hold for T or for the remainders);
// - nearly every actor is paid (~99 %): every active actor has in-window events and the minimum
//   payout is small, so the manifest carries ~10k payouts of 17–19 digits;
// - ids are long: `0x` + 40 hex addresses (42 bytes) and `did:key:z6Mk…` ids (24 bytes);
// - `largest_remainder` always.
// The same habits as generate.ts keep it deterministic: our PRNG, integers below 2^53 in Numbers,
// BigInt for money, serialisation by hand.

import {
  BASE_START_MS,
  DAY_MS,
  type EventData,
  type Form,
  type Generated,
  Rng,
  SCALES,
  type Scale,
  WINDOW_DAYS,
  WeightedPicker,
  checkOptions,
  drawTs,
  serialiseInputs,
} from './generate.js';

/** Kinds of a token program's usage report, deliberately not sorted. */
export const TOKEN_KINDS = ['bandwidth_bytes', 'compute_ms', 'storage_byte_h', 'relay_msgs'] as const;
const BANDWIDTH = 0;
const COMPUTE = 1;
const STORAGE = 2;
const RELAY = 3;

/** Per-kind rules: weights put a typical actor's score near 10^12 (so T > 2^53 at M and L). */
const RULES: ReadonlyArray<{ weight: number; divisor: number; cap?: number }> = [
  { weight: 1_000, divisor: 1 }, // bandwidth_bytes: its cap is fitted to the data below
  { weight: 40_000, divisor: 3 },
  { weight: 3, divisor: 1 },
  { weight: 5_000_000, divisor: 7, cap: 20_000 },
];

const HEX = '0123456789abcdef';
const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** An EVM-style address: `0x` and 40 lowercase hex digits (42 bytes). */
function address(rng: Rng): string {
  let s = '0x';
  for (let i = 0; i < 40; i++) s += HEX[rng.below(16)] as string;
  return s;
}

/** A did:key id of 24 bytes (`did:key:z6Mk` and 12 base58 characters). */
function didKey(rng: Rng): string {
  let s = 'did:key:z6Mk';
  for (let i = 0; i < 12; i++) s += BASE58[rng.below(58)] as string;
  return s;
}

/** n unique ids, about half of each shape, ascending by UTF-8 bytes (ASCII: code-unit order). */
function drawIds(n: number, rng: Rng): string[] {
  const ids = new Set<string>();
  while (ids.size < n) ids.add(rng.below(2) === 0 ? address(rng) : didKey(rng));
  return [...ids].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
}

/** 22–23 digits, no leading zero: 10^21–10^23 minor units (1,000–100,000 tokens of 18 decimals). */
function drawPool(rng: Rng): string {
  const digits = 22 + rng.below(2);
  let s = String(1 + rng.below(9));
  for (let i = 1; i < digits; i++) s += String(rng.below(10));
  return s;
}

function drawKind(rng: Rng, role: number): number {
  const k = rng.below(100);
  if (role < 10) return k < 70 ? STORAGE : BANDWIDTH; // storage providers
  if (k < 50) return BANDWIDTH;
  if (k < 75) return COMPUTE;
  if (k < 85) return STORAGE;
  return RELAY;
}

function drawQty(rng: Rng, kind: number): number {
  switch (kind) {
    case BANDWIDTH:
      return (rng.below(2_000_000_000) >>> rng.below(6)) + 1;
    case COMPUTE:
      return rng.below(3_600_000) >>> rng.below(4);
    case STORAGE:
      return (rng.below(1_000_000_000) >>> rng.below(4)) + 1;
    default:
      return rng.below(2_000) >>> rng.below(3);
  }
}

interface TokenData extends EventData {
  roles: Uint8Array;
}

function drawData(scale: Scale, seed: number, rng: Rng): TokenData {
  const { actors: n, events: e } = SCALES[scale];
  const startMs = BASE_START_MS + (seed % WINDOW_DAYS) * DAY_MS;
  const endMs = startMs + DAY_MS;
  const poolMinor = drawPool(rng);
  const actorIds = drawIds(n, rng);
  // Activity is skewed but with a fat floor: every active actor reports something (one event of
  // each actor is placed first, then the rest follow the weights); one in 200 is dormant.
  const weight = new Float64Array(n);
  const roles = new Uint8Array(n);
  const active: number[] = [];
  for (let a = 0; a < n; a++) {
    roles[a] = rng.below(100);
    if (rng.below(200) === 0) continue;
    weight[a] = 256 + Math.floor(1_048_576 / (8 + rng.below(n)));
    active.push(a);
  }
  const picker = new WeightedPicker(weight);
  const actor = new Uint32Array(e);
  for (let i = 0; i < e; i++) actor[i] = i < active.length ? (active[i] as number) : picker.pick(rng);
  for (let i = e - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = actor[i] as number;
    actor[i] = actor[j] as number;
    actor[j] = t;
  }
  const kind = new Uint8Array(e);
  const qty = new Float64Array(e);
  const ts = new Float64Array(e);
  for (let i = 0; i < e; i++) {
    const k = drawKind(rng, roles[actor[i] as number] as number);
    kind[i] = k;
    qty[i] = drawQty(rng, k);
    ts[i] = drawTs(rng, i, e, startMs, endMs);
  }
  return { startMs, endMs, poolMinor, actorIds, actor, kind, qty, ts, roles };
}

/**
 * The policy: the weights above, a bandwidth cap binding for the top 1 % of servers, a ceiling
 * binding for the top two payees, a minimum payout of 10^12 (10^-6 token: a real dust limit that
 * nearly nobody falls under), two exclusions (one of them absent from the inputs).
 */
function fitPolicy(d: TokenData, scale: Scale, seed: number, rng: Rng): string {
  const n = d.actorIds.length;
  const K = TOKEN_KINDS.length;
  const q = new Float64Array(n * K);
  for (let i = 0; i < d.actor.length; i++) {
    const t = d.ts[i] as number;
    if (t < d.startMs || t >= d.endMs) continue;
    const j = (d.actor[i] as number) * K + (d.kind[i] as number);
    q[j] = (q[j] as number) + (d.qty[i] as number);
  }
  const bw = new Float64Array(n);
  for (let a = 0; a < n; a++) bw[a] = q[a * K + BANDWIDTH] as number;
  bw.sort().reverse();
  const bwCap = Math.max(1, (bw[Math.max(2, Math.floor(n / 100))] as number) - 1);
  const rules = RULES.map((r, k) => (k === BANDWIDTH ? { ...r, cap: bwCap } : r));

  const excludedIndex = rng.below(n);
  // Scores and T in BigInt: here T is meant to exceed 2^53.
  const scores: bigint[] = [];
  let total = 0n;
  for (let a = 0; a < n; a++) {
    let s = 0n;
    if (a !== excludedIndex) {
      for (let k = 0; k < K; k++) {
        const r = rules[k] as { weight: number; divisor: number; cap?: number };
        const cell = q[a * K + k] as number;
        const v = r.cap !== undefined && cell > r.cap ? r.cap : cell;
        s += (BigInt(v) * BigInt(r.weight)) / BigInt(r.divisor);
      }
    }
    scores.push(s);
    total += s;
  }
  const pool = BigInt(d.poolMinor);
  const bases = scores.map((s) => (total === 0n ? 0n : (pool * s) / total)).sort((x, y) => (x < y ? 1 : x > y ? -1 : 0));
  // Rounding adds at most 1 to a base: a ceiling at the third-largest base cuts the top two.
  const third = bases[Math.min(2, n - 1)] ?? 0n;
  const ceiling = third > 0n ? third : null;

  // An absent id sorts between existing ones: a did:key id with a suffix no draw produces.
  const absent = `${d.actorIds[rng.below(n)] as string}-gone`;
  const exclude = [d.actorIds[excludedIndex] as string, absent].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));

  const kinds = TOKEN_KINDS.map((name, k) => {
    const r = rules[k] as { weight: number; divisor: number; cap?: number };
    return `"${name}":{"weight":${r.weight},"divisor":${r.divisor}${r.cap === undefined ? '' : `,"cap":${r.cap}`}}`;
  });
  return (
    `{"schema":"rewarder.policy/v1","id":"token-${scale}-${seed}","rounding":"largest_remainder","kinds":{${kinds.join(',')}}` +
    (ceiling === null ? '' : `,"max_payout_minor":"${ceiling}"`) +
    `,"min_payout_minor":"1000000000000","exclude":[${exclude.map((x) => `"${x}"`).join(',')}]}`
  );
}

/** Inputs and a fitted policy of the token profile for one (scale, seed), in either form. */
export function generateToken(opts: { scale: Scale; seed: number; form: Form }): Generated {
  const { scale, seed, form } = opts;
  checkOptions(scale, seed, form);
  // A different stream from the default profile's for the same seed.
  const rng = new Rng((seed ^ 0x70c3e11d) >>> 0);
  const data = drawData(scale, seed, rng);
  const policy = fitPolicy(data, scale, seed, rng);
  return { inputs: serialiseInputs(data, form, TOKEN_KINDS), policy: new TextEncoder().encode(policy) };
}

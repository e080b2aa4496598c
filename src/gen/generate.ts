// Deterministic generator of realistic `rewarder.inputs/v1` documents and a matching
// `rewarder.policy/v1` (SPEC §2, §3), for benchmarks, load tests and property tests.
//
// Determinism across machines and Node versions rests on three habits: a PRNG of our own built
// from 32-bit integer operations (splitmix32 → sfc32), every other Number holding an integer
// below 2^53 (so IEEE arithmetic on it is exact), and serialisation by hand from integers and
// ASCII strings. Nothing here reads a clock, the environment or Math.random.
//
// The data is drawn once and then written two ways, so the row and columnar documents of one
// (scale, seed) describe exactly the same events in the same order.

import { encodeArrowInputs } from '../core/arrow/write.js';

export type Scale = 'S' | 'M' | 'L' | 'XL';
/** `arrow`: the same data as a `rewarder.inputs.arrow/v1` stream (SPEC §2.1). */
export type Form = 'row' | 'columnar' | 'arrow';

export const SCALES: Record<Scale, { actors: number; events: number }> = Object.freeze({
  S: Object.freeze({ actors: 1_000, events: 10_000 }),
  M: Object.freeze({ actors: 10_000, events: 100_000 }),
  L: Object.freeze({ actors: 50_000, events: 500_000 }),
  // Internet scale (issue 18): as many payees as the largest real programs; Arrow is the form for it.
  XL: Object.freeze({ actors: 1_000_000, events: 10_000_000 }),
});

/** Exact document bytes: UTF-8 JSON without a trailing newline. */
export interface Generated {
  inputs: Uint8Array;
  policy: Uint8Array;
}

export const DAY_MS = 86_400_000;
export const BASE_START_MS = 1_767_225_600_000; // 2026-01-01T00:00:00Z
export const WINDOW_DAYS = 3_653; // seeds spread windows over ten years
const JITTER_MS = 300_000; // exports are time-ordered to within ±5 minutes
const ID_DIGITS = 7;

// Inputs kinds, deliberately not sorted: SPEC §2 only asks for unique names.
const KINDS = ['bytes_served', 'requests', 'uptime_s', 'storage_gb_h'] as const;
const BYTES = 0;
const REQUESTS = 1;
const UPTIME = 2;
const STORAGE = 3;

/** sfc32 seeded through splitmix32: small, fast, and 32-bit integer arithmetic only. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed | 0;
    const mix = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) | 0;
    };
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
    for (let i = 0; i < 12; i++) this.next();
  }

  /** Uniform integer in [0, 2^32). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform integer in [0, n) for 1 ≤ n ≤ 2^32, without bias. */
  below(n: number): number {
    if (n <= 1) return 0;
    if (n <= 0x20_0000) {
      // Lemire's method: the high word of x·n, exact in a double since x·n < 2^53, rejecting
      // the few low words that would bias it. `>>> 0` takes the product modulo 2^32.
      let m = this.next() * n;
      if (m >>> 0 < n) {
        const threshold = (0x1_0000_0000 - n) % n;
        while (m >>> 0 < threshold) m = this.next() * n;
      }
      return Math.floor(m / 0x1_0000_0000);
    }
    // Wide ranges: mask to the next power of two and reject overshoots (under two draws).
    const mask = 0xffff_ffff >>> Math.clz32(n - 1);
    let x = (this.next() & mask) >>> 0;
    while (x >= n) x = (this.next() & mask) >>> 0;
    return x;
  }
}

/**
 * Draws indices in proportion to integer weights (total at most 2^32). A guide table over the
 * cumulative sums turns each draw into a short forward scan instead of a binary search.
 */
export class WeightedPicker {
  private readonly cumulative: Float64Array;
  private readonly guide: Uint32Array;
  private readonly shift: number;
  private readonly total: number;

  constructor(weights: Float64Array) {
    this.cumulative = new Float64Array(weights.length);
    let total = 0;
    for (let i = 0; i < weights.length; i++) {
      total += weights[i] as number;
      this.cumulative[i] = total;
    }
    if (total < 1 || total > 0x1_0000_0000) throw new RangeError('weights must total 1..2^32');
    this.total = total;
    // Buckets of 2^shift draw values, about as many buckets as weights.
    const per = Math.floor(total / weights.length);
    this.shift = per >= 1 ? 31 - Math.clz32(per) : 0;
    const size = 2 ** this.shift;
    this.guide = new Uint32Array(Math.floor((total - 1) / size) + 1);
    let i = 0;
    for (let b = 0; b < this.guide.length; b++) {
      while ((this.cumulative[i] as number) <= b * size) i++;
      this.guide[b] = i;
    }
  }

  /** The first index whose cumulative weight exceeds a uniform draw below the total. */
  pick(rng: Rng): number {
    const x = rng.below(this.total);
    let i = this.guide[x >>> this.shift] as number;
    while ((this.cumulative[i] as number) <= x) i++;
    return i;
  }
}

/** What serialiseInputs writes: one epoch's events over its actors and kinds. */
export interface EventData {
  startMs: number;
  endMs: number;
  poolMinor: string;
  actorIds: string[];
  actor: Uint32Array; // per event: index into actorIds
  kind: Uint8Array; // per event: index into the kinds
  qty: Float64Array; // integers < 2^53
  ts: Float64Array; // integers < 2^53
}

/** One epoch's data, drawn once and serialised in either form. */
interface Dataset {
  startMs: number;
  endMs: number;
  poolMinor: string;
  actorIds: string[];
  actorNums: number[]; // the numeric part of each id, ascending
  heaviest: number[]; // non-dormant actor indices, heaviest expected activity first
  actor: Uint32Array; // per event: index into actorIds
  kind: Uint8Array; // per event: index into KINDS
  qty: Float64Array; // integers < 2^53
  ts: Float64Array; // integers < 2^53
}

export function checkOptions(scale: Scale, seed: number, form: Form): void {
  if (!Object.hasOwn(SCALES, scale)) throw new RangeError(`unknown scale ${String(scale)}`);
  if (form !== 'row' && form !== 'columnar' && form !== 'arrow') throw new RangeError(`unknown form ${String(form)}`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
    throw new RangeError('seed must be an integer in [0, 2^32 - 1]');
  }
}

function actorId(n: number): string {
  return 'did:ron:n' + String(n).padStart(ID_DIGITS, '0');
}

/** Uniform random decimal string of 12–16 digits without a leading zero. */
function drawPool(rng: Rng): string {
  const digits = 12 + rng.below(5);
  let s = String(1 + rng.below(9));
  for (let i = 1; i < digits; i++) s += String(rng.below(10));
  return s;
}

interface Population {
  nums: number[];
  ids: string[];
  weight: Float64Array;
  role: Uint8Array;
  heaviest: number[];
}

function drawPopulation(n: number, rng: Rng): Population {
  // Ids ascend with small random gaps, so zero-padded ids ascend by UTF-8 bytes too and some
  // well-formed ids fall between them (useful for an `exclude` entry absent from the inputs).
  const nums: number[] = [];
  const ids: string[] = [];
  let num = rng.below(100);
  for (let i = 0; i < n; i++) {
    num += 1 + rng.below(3);
    nums.push(num);
    ids.push(actorId(num));
  }
  // Zipf-like weights by a random rank: a few heavy actors scattered through the id space, a
  // long tail, about 4 % dormant actors; a role per actor shapes which kinds it reports.
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = order[i] as number;
    order[i] = order[j] as number;
    order[j] = t;
  }
  const weight = new Float64Array(n);
  const role = new Uint8Array(n);
  const heaviest: number[] = [];
  for (let r = 0; r < n; r++) {
    const a = order[r] as number;
    role[a] = rng.below(100);
    if (rng.below(25) === 0) continue;
    weight[a] = Math.floor(4_194_304 / (r + 8)) + 64;
    heaviest.push(a);
  }
  return { nums, ids, weight, role, heaviest };
}

function drawKind(rng: Rng, role: number): number {
  if (role < 8) return STORAGE; // storage-only nodes
  const k = rng.below(100);
  if (k < 45) return BYTES;
  if (k < 80) return REQUESTS;
  if (k < 92) return UPTIME;
  return role < 28 ? BYTES : STORAGE; // some nodes offer no storage
}

function drawQty(rng: Rng, kind: number): number {
  if (rng.below(512) === 0) return 0; // idle heartbeats report nothing
  // A uniform draw shifted right by a uniform amount: mostly small, sometimes near the top.
  switch (kind) {
    case BYTES:
      return (rng.below(1_000_000_000) >>> rng.below(12)) + 1;
    case REQUESTS:
      return (rng.below(100_000) >>> rng.below(8)) + 1;
    case UPTIME:
      return 60 * rng.below(1_441); // whole minutes, at most one day
    default:
      return rng.below(10_001) >>> rng.below(4);
  }
}

/** Time-ordered to within the jitter, like a real export; about 1 % outside the window. */
export function drawTs(rng: Rng, i: number, events: number, startMs: number, endMs: number): number {
  if (rng.below(100) === 0) {
    // Late arrivals from the day before, and events at or after the (exclusive) end.
    const v = rng.below(4);
    if (v === 0) return endMs;
    if (v === 1) return endMs + 1 + rng.below(3_600_000);
    return startMs - 1 - rng.below(6 * 3_600_000);
  }
  const t = startMs + Math.floor((i * DAY_MS) / events) + rng.below(2 * JITTER_MS + 1) - JITTER_MS;
  return t < startMs ? startMs : t >= endMs ? endMs - 1 : t;
}

function drawDataset(scale: Scale, seed: number, rng: Rng): Dataset {
  const { actors: n, events: e } = SCALES[scale];
  const startMs = BASE_START_MS + (seed % WINDOW_DAYS) * DAY_MS;
  const endMs = startMs + DAY_MS;
  const poolMinor = drawPool(rng);
  const pop = drawPopulation(n, rng);
  const picker = new WeightedPicker(pop.weight);

  const actor = new Uint32Array(e);
  const kind = new Uint8Array(e);
  const qty = new Float64Array(e);
  const ts = new Float64Array(e);
  for (let i = 0; i < e; i++) {
    const a = picker.pick(rng);
    const k = drawKind(rng, pop.role[a] as number);
    actor[i] = a;
    kind[i] = k;
    qty[i] = drawQty(rng, k);
    ts[i] = drawTs(rng, i, e, startMs, endMs);
  }
  const { ids: actorIds, nums: actorNums, heaviest } = pop;
  return { startMs, endMs, poolMinor, actorIds, actorNums, heaviest, actor, kind, qty, ts };
}

interface KindRule {
  weight: number;
  divisor?: number;
  cap?: number;
}

/** Per-actor in-window totals, `q[a * KINDS.length + k]` (SPEC §4 step 1). */
function windowTotals(d: Dataset): Float64Array {
  const q = new Float64Array(d.actorIds.length * KINDS.length);
  for (let i = 0; i < d.actor.length; i++) {
    const t = d.ts[i] as number;
    if (t < d.startMs || t >= d.endMs) continue;
    const j = (d.actor[i] as number) * KINDS.length + (d.kind[i] as number);
    q[j] = (q[j] as number) + (d.qty[i] as number);
  }
  return q;
}

/** A handful of excluded ids, ascending: a heavy actor, a few others, and one absent id. */
function drawExclude(d: Dataset, rng: Rng): Set<number> {
  const n = d.actorIds.length;
  const picks = new Set<number>();
  picks.add(d.heaviest[rng.below(Math.min(10, d.heaviest.length))] as number);
  while (picks.size < 4) picks.add(rng.below(n));
  return picks;
}

function absentId(d: Dataset, rng: Rng): string {
  const nums = d.actorNums;
  const from = rng.below(nums.length);
  for (let k = 0; k < nums.length - 1; k++) {
    const i = (from + k) % (nums.length - 1);
    if ((nums[i + 1] as number) - (nums[i] as number) > 1) return actorId((nums[i] as number) + 1);
  }
  return actorId((nums[nums.length - 1] as number) + 1);
}

/**
 * The policy is fitted to the data so that every rule does work: the `bytes_served` cap binds
 * for the heaviest servers, `max_payout_minor` for the top few payees, `min_payout_minor` for
 * the tail, and `egress_gb` names a kind the inputs do not carry.
 */
function fitPolicy(d: Dataset, scale: Scale, seed: number, rng: Rng): string {
  const n = d.actorIds.length;
  const q = windowTotals(d);
  const excluded = drawExclude(d, rng);

  const bytes = new Float64Array(n);
  for (let a = 0; a < n; a++) bytes[a] = q[a * KINDS.length + BYTES] as number;
  bytes.sort().reverse();
  let bytesCap = bytes[Math.max(3, Math.floor(n / 100))] as number;
  if (bytesCap >= (bytes[0] as number)) bytesCap = (bytes[0] as number) - 1;
  const rules: Record<string, KindRule> = {
    bytes_served: { weight: 1, divisor: 1_000_000, cap: Math.max(0, bytesCap) },
    requests: { weight: 1, divisor: 100 },
    uptime_s: { weight: 1, divisor: 600, cap: 86_400 },
    storage_gb_h: { weight: 4, divisor: 100 },
    egress_gb: { weight: 7 },
  };

  // Scores as in SPEC §4 step 2; every product stays far below 2^53, so Numbers are exact.
  const inputRules = KINDS.map((k) => rules[k] as KindRule);
  const weight = inputRules.map((r) => r.weight);
  const divisor = inputRules.map((r) => r.divisor ?? 1);
  const cap = inputRules.map((r) => r.cap ?? Number.MAX_SAFE_INTEGER);
  const score = new Float64Array(n);
  let total = 0;
  for (let a = 0; a < n; a++) {
    if (excluded.has(a)) continue;
    let s = 0;
    for (let k = 0; k < KINDS.length; k++) {
      const v = Math.min(q[a * KINDS.length + k] as number, cap[k] as number);
      s += Math.floor((v * (weight[k] as number)) / (divisor[k] as number));
    }
    score[a] = s;
    total += s;
  }
  // floor(P × s ÷ T) never decreases with s, so order statistics of scores are those of bases.
  const pool = BigInt(d.poolMinor);
  const base = (s: number): bigint => (total === 0 ? 0n : (pool * BigInt(s)) / BigInt(total));
  score.sort();
  const firstPaid = score.findIndex((s) => base(s) > 0n);

  const parts = [
    `{"schema":"rewarder.policy/v1","id":"gen-${scale}-${seed}"`,
    `,"rounding":"${seed % 2 === 1 ? 'floor' : 'largest_remainder'}","kinds":{`,
    Object.entries(rules)
      .map(([name, r]) => {
        const divisor = r.divisor === undefined ? '' : `,"divisor":${r.divisor}`;
        const cap = r.cap === undefined ? '' : `,"cap":${r.cap}`;
        return `"${name}":{"weight":${r.weight}${divisor}${cap}}`;
      })
      .join(','),
    '}',
  ];
  // Rounding only adds to a base, so a ceiling at the 4th-largest base (below the largest)
  // cuts the top payees; it adds at most 1, so a floor 2 above a low base zeroes the payees
  // at or below it.
  const top = base(score[n - 1] as number);
  const fourth = base(score[Math.max(0, n - 4)] as number);
  const ceiling = fourth < top ? fourth : top - 1n;
  if (ceiling > 0n) parts.push(`,"max_payout_minor":"${ceiling}"`);
  if (firstPaid >= 0) {
    const low = base(score[firstPaid + Math.floor((n - firstPaid) / 20)] as number);
    parts.push(`,"min_payout_minor":"${low + 2n}"`);
  }

  const ids = [...excluded].sort((x, y) => x - y).map((a) => d.actorIds[a] as string);
  ids.push(absentId(d, rng));
  ids.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)); // ASCII ids: code-unit order is byte order
  parts.push(`,"exclude":[${ids.map((id) => `"${id}"`).join(',')}]}`);
  return parts.join('');
}

// '00'..'99' as byte pairs, so integers are written two digits per step.
const DIGIT_PAIRS = Uint8Array.from({ length: 200 }, (_, i) => 48 + (i % 2 === 0 ? Math.floor(i / 20) : (i >> 1) % 10));

/** Many short ASCII strings packed into one byte array, copied over and over. */
class Fragments {
  readonly bytes: Uint8Array;
  readonly offsets: Uint32Array;

  constructor(strings: readonly string[]) {
    this.offsets = new Uint32Array(strings.length + 1);
    for (let i = 0; i < strings.length; i++) {
      this.offsets[i + 1] = (this.offsets[i] as number) + (strings[i] as string).length;
    }
    this.bytes = new Uint8Array(this.offsets[strings.length] as number);
    strings.forEach((str, i) => asciiInto(this.bytes, this.offsets[i] as number, str));
  }

  get longest(): number {
    let m = 0;
    for (let i = 1; i < this.offsets.length; i++) {
      m = Math.max(m, (this.offsets[i] as number) - (this.offsets[i - 1] as number));
    }
    return m;
  }
}

/** Every string written here is ASCII by construction: ids, kind names, digits, punctuation. */
function asciiInto(buf: Uint8Array, at: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[at + i] = s.charCodeAt(i);
  return at + s.length;
}

/**
 * Writes straight into bytes: at L the row document is ~40 MB, and building it as strings,
 * joining and re-encoding them costs several times more than drawing the data.
 */
class AsciiWriter {
  private readonly buf: Uint8Array;
  private pos = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity);
  }

  text(s: string): void {
    this.pos = asciiInto(this.buf, this.pos, s);
  }

  fragment(f: Fragments, i: number): void {
    const { buf } = this;
    const src = f.bytes;
    const end = f.offsets[i + 1] as number;
    let p = this.pos;
    for (let j = f.offsets[i] as number; j < end; j++) buf[p++] = src[j] as number;
    this.pos = p;
  }

  /** A non-negative integer below 2^53 as plain digits. */
  int(v: number): void {
    if (v < 1e8) {
      this.digits(v, digitCount(v));
      return;
    }
    const hi = Math.floor(v / 1e8); // exact, and below 1e8 since v < 2^53
    this.digits(hi, digitCount(hi));
    this.digits(v - hi * 1e8, 8);
  }

  /** v < 1e8 in exactly `width` digits, zero-padded, written from the right. */
  private digits(v: number, width: number): void {
    const { buf } = this;
    const start = this.pos;
    let i = start + width;
    let x = v | 0;
    this.pos = i;
    while (i - start >= 2) {
      const pair = (x % 100) * 2;
      buf[--i] = DIGIT_PAIRS[pair + 1] as number;
      buf[--i] = DIGIT_PAIRS[pair] as number;
      x = (x / 100) | 0;
    }
    if (i > start) buf[start] = 48 + (x % 10);
  }

  byte(c: number): void {
    this.buf[this.pos++] = c;
  }

  /** Comma-separated integers. */
  ints(values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) {
      if (i > 0) this.byte(COMMA);
      this.int(values[i] as number);
    }
  }

  bytes(): Uint8Array {
    // Writes past the end of a typed array vanish silently: a wrong size bound must not.
    if (this.pos > this.buf.length) throw new Error('AsciiWriter capacity exceeded');
    return this.buf.slice(0, this.pos);
  }
}

const COMMA = 0x2c;
const CLOSE_BRACE = 0x7d;

function digitCount(v: number): number {
  let width = 1;
  for (let p = 10; p <= v; p *= 10) width++;
  return width;
}

/** Digits of the largest value: with a comma each, a tight bound on a column's length. */
function widest(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v > m) m = v;
  }
  return digitCount(m);
}

/** Exact document bytes of `d` (ASCII ids and kind names only) in either form. */
export function serialiseInputs(d: EventData, form: Form, kinds: readonly string[] = KINDS): Uint8Array {
  if (form === 'arrow') {
    const events = { count: d.actor.length, actor: d.actor, kind: d.kind, qty: d.qty, ts: d.ts };
    return encodeArrowInputs({ window: { startMs: d.startMs, endMs: d.endMs }, poolMinor: BigInt(d.poolMinor), kinds, actors: d.actorIds, events });
  }
  const head =
    `{"schema":"rewarder.inputs/v1","window":{"start_ms":${d.startMs},"end_ms":${d.endMs}}` +
    `,"pool_minor":"${d.poolMinor}","kinds":[${kinds.map((k) => `"${k}"`).join(',')}]` +
    `,"actors":[${d.actorIds.map((a) => `"${a}"`).join(',')}],"events":`;
  const e = d.actor.length;
  const numbers = widest(d.qty) + widest(d.ts);
  if (form === 'columnar') {
    const w = new AsciiWriter(head.length + 64 + e * (widest(d.actor) + widest(d.kind) + numbers + 4));
    w.text(head);
    w.text('{"actor":[');
    w.ints(d.actor);
    w.text('],"kind":[');
    w.ints(d.kind);
    w.text('],"qty":[');
    w.ints(d.qty);
    w.text('],"ts":[');
    w.ints(d.ts);
    w.text(']}}');
    return w.bytes();
  }
  const actorPart = new Fragments(d.actorIds.map((a) => `{"actor":"${a}","kind":"`));
  const kindPart = new Fragments(kinds.map((k) => `${k}","qty":`));
  const tsPart = new Fragments([',"ts":']);
  const w = new AsciiWriter(head.length + 8 + e * (actorPart.longest + kindPart.longest + numbers + 8));
  w.text(head);
  w.text('[');
  for (let i = 0; i < e; i++) {
    if (i > 0) w.byte(COMMA);
    w.fragment(actorPart, d.actor[i] as number);
    w.fragment(kindPart, d.kind[i] as number);
    w.int(d.qty[i] as number);
    w.fragment(tsPart, 0);
    w.int(d.ts[i] as number);
    w.byte(CLOSE_BRACE);
  }
  w.text(']}');
  return w.bytes();
}

/**
 * Inputs and a fitted policy for one (scale, seed). The same (scale, seed) yields the same data
 * in both forms; the same (scale, seed, form) yields the same bytes everywhere.
 */
export function generate(opts: { scale: Scale; seed: number; form: Form }): Generated {
  const { scale, seed, form } = opts;
  checkOptions(scale, seed, form);
  const rng = new Rng(seed);
  const data = drawDataset(scale, seed, rng);
  const policy = fitPolicy(data, scale, seed, rng);
  return { inputs: serialiseInputs(data, form), policy: new TextEncoder().encode(policy) };
}

// Exact wide-integer arithmetic in Numbers for the calculus's hot loop: `P × s ÷ T` and its
// remainder for every scored actor, where P (up to 2^128−1) and T (up to 2^72) are fixed for a run
// and every s is a safe integer. BigInt did this at ~1 µs per actor with token-sized values
// (P ~10^22, T > 2^53: a multiply, a divide, a multiply-subtract and their allocations, then a
// comparator sort over BigInt remainders and a BigInt → decimal conversion per amount); here it is
// a few dozen float operations without allocation, and amounts come out as decimal limbs that the
// manifest writes as digits directly.
//
// Why every step is exact:
// - All values handled are integers; every product is of two limbs below 2^24 (binary) or 10^7
//   (decimal), so below 2^48 or 10^14, and every column sum stays below 2^53.
// - P = A·T + B with A = P div T and B = P mod T (BigInt, once per run), so
//   P·s = A·T·s + B·s, floor(P·s/T) = A·s + floor(B·s/T), and the remainder is (B·s) mod T.
//   Since s ≤ T, A·s ≤ P·s/T ≤ P < 2^128.
// - q = floor(B·s/T) < s is estimated in floating point (off by a few units at most), then made
//   exact: d = B·s − q·T is computed modulo 2^96 from 24-bit limbs (|d| < 2^80 ≪ 2^95, so its sign
//   is known), and q is moved until 0 ≤ d < T. d is then the exact remainder.

const L24 = 16_777_216; // 2^24
const L48 = 281_474_976_710_656; // 2^48
const HALF96_TOP = 8_388_608; // 2^23: the top limb of a negative value mod 2^96
const DEC = 10_000_000; // decimal limb base
const L48n = 1n << 48n;

/** Decimal limbs per amount: 6 × 7 = 42 digits, room for any money value (2^128−1 has 39). */
export const LIMBS = 6;
/** T must stay below this for the kernel (72 bits: three 24-bit limbs). */
export const KERNEL_T_LIMIT = 1n << 72n;

/** Little-endian base-10^7 limbs of a non-negative BigInt below 10^42 into out[at..at+6). */
export function toDecimalLimbs(v: bigint, out: Float64Array = new Float64Array(LIMBS), at = 0): Float64Array {
  let x = v;
  for (let k = 0; k < LIMBS; k++) {
    out[at + k] = Number(x % 10_000_000n);
    x /= 10_000_000n;
  }
  if (x !== 0n) throw new RangeError('toDecimalLimbs: value above 10^42');
  return out;
}

/** The BigInt of limbs[at..at+6). */
export function fromDecimalLimbs(limbs: Float64Array, at = 0): bigint {
  let v = 0n;
  for (let k = LIMBS - 1; k >= 0; k--) v = v * 10_000_000n + BigInt(limbs[at + k] as number);
  return v;
}

/**
 * Compares limbs a[i..i+6) with b[j..j+6): negative, 0 or positive. Both normalised (each limb
 * below 10^7).
 */
export function compareLimbs(a: Float64Array, i: number, b: Float64Array, j: number): number {
  for (let k = LIMBS - 1; k >= 0; k--) {
    const x = a[i + k] as number;
    const y = b[j + k] as number;
    if (x !== y) return x - y;
  }
  return 0;
}

/** Adds limbs src[i..i+6) to column sums sums[0..6) (kept unnormalised: exact below 2^53). */
export function addColumns(sums: Float64Array, src: Float64Array, i: number): void {
  for (let k = 0; k < LIMBS; k++) sums[k] = (sums[k] as number) + (src[i + k] as number);
}

/** The BigInt value of column sums of decimal limbs (each column exact, any size below 2^53). */
export function columnsValue(sums: Float64Array): bigint {
  let v = 0n;
  for (let k = LIMBS - 1; k >= 0; k--) v = v * 10_000_000n + BigInt(sums[k] as number);
  return v;
}

/** Adds 1 to the amount at limbs[i..i+6). */
export function incrementLimbs(limbs: Float64Array, i: number): void {
  for (let k = 0; k < LIMBS; k++) {
    const v = (limbs[i + k] as number) + 1;
    if (v < DEC) {
      limbs[i + k] = v;
      return;
    }
    limbs[i + k] = 0;
  }
}

/**
 * Quotient and remainder of P·s ÷ T for a run's fixed P and T. `share` writes the quotient as
 * decimal limbs and the remainder as rem = remHi·2^48 + remLo, both exact.
 */
export class ShareKernel {
  /** Decimal limbs of A = P div T (least significant first) and how many are non-zero. */
  private readonly a: Float64Array;
  private readonly nA: number;
  /** 24-bit limbs of B = P mod T and of T. */
  private readonly b0: number;
  private readonly b1: number;
  private readonly b2: number;
  private readonly t0: number;
  private readonly t1: number;
  private readonly t2: number;
  /** T = tH·2^48 + tL. */
  readonly tH: number;
  readonly tL: number;
  /** B / T in floating point, for the estimate. */
  private readonly f: number;

  /** null when T is 0 or not below 2^72 (the caller then takes the BigInt path). */
  static create(pool: bigint, total: bigint): ShareKernel | null {
    if (total <= 0n || total >= KERNEL_T_LIMIT || pool < 0n) return null;
    return new ShareKernel(pool, total);
  }

  private constructor(pool: bigint, total: bigint) {
    const a = pool / total;
    const b = pool % total;
    this.a = toDecimalLimbs(a);
    let nA = LIMBS;
    while (nA > 0 && this.a[nA - 1] === 0) nA--;
    this.nA = nA;
    const limb24 = (v: bigint, k: number) => Number((v >> BigInt(24 * k)) & 0xff_ffffn);
    this.b0 = limb24(b, 0);
    this.b1 = limb24(b, 1);
    this.b2 = limb24(b, 2);
    this.t0 = limb24(total, 0);
    this.t1 = limb24(total, 1);
    this.t2 = limb24(total, 2);
    this.tH = Number(total >> 48n);
    this.tL = Number(total & (L48n - 1n));
    this.f = Number(b) / Number(total);
  }

  /**
   * The kernel's constants for the addon's shareColumns (native.ts): the decimal limbs of A, the
   * 24-bit limbs of B and of T, and B/T in floating point.
   */
  params(): Float64Array {
    const { b0, b1, b2, t0, t1, t2, f } = this;
    return Float64Array.of(...this.a, b0, b1, b2, t0, t1, t2, f);
  }

  /**
   * For a safe integer s ≤ T: writes floor(P·s/T) to amount[at..at+6) as decimal limbs and the
   * remainder's two parts to remHi[i] and remLo[i].
   */
  share(s: number, amount: Float64Array, at: number, remHi: Float64Array, remLo: Float64Array, i: number): void {
    // q = floor(B·s/T), estimated (B/T < 1, so q < s ≤ 2^53), then corrected below.
    let q = Math.floor(this.f * s);
    const s0 = s % L24;
    const s1 = ((s - s0) / L24) % L24;
    const s2 = Math.floor(s / L48);
    const q0 = q % L24;
    const q1 = ((q - q0) / L24) % L24;
    const q2 = Math.floor(q / L48);
    const { b0, b1, b2, t0, t1, t2 } = this;
    // d = B·s − q·T, column by column (mod 2^96), then normalised with signed carries.
    let v = b0 * s0 - t0 * q0;
    let r = v - Math.floor(v / L24) * L24;
    let c = (v - r) / L24;
    const d0 = r;
    v = b0 * s1 + b1 * s0 - (t0 * q1 + t1 * q0) + c;
    r = v - Math.floor(v / L24) * L24;
    c = (v - r) / L24;
    const d1 = r;
    v = b0 * s2 + b1 * s1 + b2 * s0 - (t0 * q2 + t1 * q1 + t2 * q0) + c;
    r = v - Math.floor(v / L24) * L24;
    c = (v - r) / L24;
    const d2 = r;
    v = b1 * s2 + b2 * s1 - (t1 * q2 + t2 * q1) + c;
    let d3 = v - Math.floor(v / L24) * L24;
    if (d3 >= HALF96_TOP) d3 -= L24; // negative: d was below 0
    let hi = d3 * L24 + d2;
    let lo = d1 * L24 + d0;
    const { tH, tL } = this;
    while (hi < 0) {
      lo += tL;
      hi += tH;
      if (lo >= L48) {
        lo -= L48;
        hi++;
      }
      q--;
    }
    while (hi > tH || (hi === tH && lo >= tL)) {
      lo -= tL;
      hi -= tH;
      if (lo < 0) {
        lo += L48;
        hi--;
      }
      q++;
    }
    remHi[i] = hi;
    remLo[i] = lo;

    // amount = A·s + q in decimal limbs.
    const sd0 = s % DEC;
    let x = (s - sd0) / DEC;
    const sd1 = x % DEC;
    const sd2 = (x - sd1) / DEC;
    const qd0 = q % DEC;
    x = (q - qd0) / DEC;
    const qd1 = x % DEC;
    const qd2 = (x - qd1) / DEC;
    const a = this.a;
    const nA = this.nA;
    if (nA <= 1) {
      // A < 10^7 (the usual case: P/T is a few hundred to a few million): three columns.
      const a0 = a[0] as number;
      let col = a0 * sd0 + qd0;
      let limb = col % DEC;
      amount[at] = limb;
      col = a0 * sd1 + qd1 + (col - limb) / DEC;
      limb = col % DEC;
      amount[at + 1] = limb;
      col = a0 * sd2 + qd2 + (col - limb) / DEC;
      limb = col % DEC;
      amount[at + 2] = limb;
      col = (col - limb) / DEC;
      limb = col % DEC;
      amount[at + 3] = limb;
      amount[at + 4] = (col - limb) / DEC;
      amount[at + 5] = 0;
      return;
    }
    let carry = 0;
    for (let k = 0; k < LIMBS; k++) {
      let col = carry + (k === 0 ? qd0 : k === 1 ? qd1 : k === 2 ? qd2 : 0);
      // Σ a[j]·sd[k−j] for the (at most three) j with both limbs present.
      for (let j = k < 2 ? 0 : k - 2; j <= k && j < nA; j++) {
        const m = k - j;
        col += (a[j] as number) * (m === 0 ? sd0 : m === 1 ? sd1 : sd2);
      }
      const limb = col % DEC;
      amount[at + k] = limb;
      carry = (col - limb) / DEC;
    }
  }
}

/** Number of decimal digits of an integer 0 ≤ v < 10^7 (at least 1). */
function digits7(v: number): number {
  return v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : v < 10_000 ? 4 : v < 100_000 ? 5 : v < 1_000_000 ? 6 : 7;
}

/** Index of the most significant non-zero limb of limbs[at..at+6), or 0. */
function topLimb(limbs: Float64Array, at: number): number {
  let k = LIMBS - 1;
  while (k > 0 && limbs[at + k] === 0) k--;
  return k;
}

/** Decimal digits of the amount at limbs[at..at+6). */
export function limbDigits(limbs: Float64Array, at: number): number {
  const k = topLimb(limbs, at);
  return digits7(limbs[at + k] as number) + 7 * k;
}

const PAIRS = Uint8Array.from({ length: 200 }, (_, i) => 48 + (i % 2 === 0 ? Math.floor(i / 20) : (i >> 1) % 10));

/** Writes v < 10^7 as exactly `width` digits ending at out[end). */
function writeFixed(out: Uint8Array, end: number, v: number, width: number): void {
  let i = end;
  let x = v;
  const start = end - width;
  while (i - start >= 2) {
    const r = x % 100;
    x = (x - r) / 100;
    out[--i] = PAIRS[2 * r + 1] as number;
    out[--i] = PAIRS[2 * r] as number;
  }
  if (i > start) out[start] = 48 + x;
}

/** Writes the amount at limbs[at..at+6) as decimal digits into out[pos..); returns the end. */
export function writeLimbDigits(out: Uint8Array, pos: number, limbs: Float64Array, at: number): number {
  const k = topLimb(limbs, at);
  const top = limbs[at + k] as number;
  const w = digits7(top);
  let end = pos + w;
  writeFixed(out, end, top, w);
  for (let j = k - 1; j >= 0; j--) {
    end += 7;
    writeFixed(out, end, limbs[at + j] as number, 7);
  }
  return end;
}

/** Decimal digits of a safe integer v ≥ 0. */
export function safeDigits(v: number): number {
  if (v < DEC) return digits7(v);
  const lo = v % DEC;
  const mid = (v - lo) / DEC;
  if (mid < DEC) return 7 + digits7(mid);
  const m = mid % DEC;
  return 14 + digits7((mid - m) / DEC);
}

/** Writes a safe integer v ≥ 0 as decimal digits into out[pos..); returns the end. */
export function writeSafeDigits(out: Uint8Array, pos: number, v: number): number {
  if (v < DEC) {
    const w = digits7(v);
    writeFixed(out, pos + w, v, w);
    return pos + w;
  }
  const lo = v % DEC;
  const rest = (v - lo) / DEC;
  const end = writeSafeDigits(out, pos, rest) + 7;
  writeFixed(out, end, lo, 7);
  return end;
}

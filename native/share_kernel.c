// The column path of the calculus (src/core/shares.ts) over all payees at once: the scores
// (scoreColumns), `P × s ÷ T` and its remainder (shareColumns, wide.ts's ShareKernel.share), the
// largest_remainder +1s (largestRemainders), ceiling and floor (payeeColumns) and the invariant
// check's sums (limbsCheck, calculus.ts's limbsOutOfBounds). At XL (909k payees) the TypeScript
// loops cost ~0.5 s of the first compute, a third of it in allocation-free float code that the
// interpreter and then the optimiser have to warm up to; here it is a few ms each.
//
// Bit-identical to the TypeScript, which stays the fallback and the reference (shares.test.ts):
// - shareColumns computes the same mathematical integers, floor(P·s/T) and (P·s) mod T, which
//   ShareKernel proves exact in doubles; here they are exact by construction in 64/128-bit
//   integers (B < T < 2^72, s < 2^53: B·s and q·T stay below 2^126). Limbs are normalised, so
//   equal values give equal limbs. Only the column sums of the amounts are doubles, added in the
//   same order as addColumns.
// - scoreColumns, payeeColumns and limbsCheck do the TypeScript's double operations in the same
//   order (no -ffast-math; the build turns contraction into FMA off too, though every product
//   here is exact anyway), and scoreColumns hands anything unusual back to the TypeScript.
// - largestRemainders picks the same set: remainder descending, then position ascending, by an
//   exact radix select on the 72-bit remainders instead of a sort of rounded keys.

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "share_kernel.h"
#include "napi_args.h"

typedef unsigned __int128 u128;
typedef __int128 i128;

#define LIMBS 6
#define DEC 10000000ULL
#define L24 16777216.0
#define L48 281474976710656.0
#define MASK48 ((UINT64_C(1) << 48) - 1)
#define MAX_SAFE 9007199254740991.0

// Conversions between doubles and integers known to lie in [0, 2^63): through the signed
// conversions, single instructions on x86-64 (the unsigned ones are not before AVX-512).
static inline uint64_t to_u64(double v) { return (uint64_t)(int64_t)v; }
static inline double to_f64(uint64_t v) { return (double)(int64_t)v; }

/** A Float64Array of at least `min` elements (RangeError when shorter). */
static bool f64(napi_env env, napi_value value, size_t min, const char *what, double **data) {
  void *d = NULL;
  size_t len = 0;
  if (!typed_array(env, value, napi_float64_array, what, &d, &len)) return false;
  if (len < min) {
    napi_throw_range_error(env, NULL, what);
    return false;
  }
  *data = d;
  return true;
}

/** Like f64, or NULL for a JavaScript null. */
static bool f64_or_null(napi_env env, napi_value value, size_t min, const char *what, double **data) {
  napi_valuetype t;
  if (!call_ok(env, napi_typeof(env, value, &t))) return false;
  if (t == napi_null) {
    *data = NULL;
    return true;
  }
  return f64(env, value, min, what, data);
}

/** A count: an integer 0 ≤ v ≤ 2^32 − 1. */
static bool count_arg(napi_env env, napi_value value, const char *what, size_t *out) { return index_arg(env, value, 4294967295.0, what, out); }

/** True when v is an integer 0 ≤ v < bound (bound ≤ 2^63). */
static bool whole_below(double v, double bound) { return v >= 0 && v < bound && v == to_f64(to_u64(v)); }

static napi_value number(napi_env env, double v) {
  napi_value result;
  if (!call_ok(env, napi_create_double(env, v, &result))) return NULL;
  return result;
}

#define ARGS(n)                                                                   \
  size_t argc = (n);                                                              \
  napi_value argv[(n)];                                                           \
  if (!call_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return NULL; \
  if (argc < (n)) {                                                               \
    napi_throw_type_error(env, NULL, "missing arguments");                        \
    return NULL;                                                                  \
  }

// ---- P × s ÷ T (wide.ts, ShareKernel.share)

/**
 * shareColumns(params, score, n, amount, remHi, remLo, bases): for i < n, floor(P·score[i]/T) as
 * decimal limbs into amount[6i..6i+6), (P·score[i]) mod T = remHi[i]·2^48 + remLo[i] (unless both
 * are null: floor rounding has no use for them), and the amounts' limbs added column by column into bases[0..6). params = ShareKernel.params(): the
 * decimal limbs of A = P div T, the 24-bit limbs of B = P mod T and of T, and fl(B/T).
 */
static napi_value share_columns(napi_env env, napi_callback_info info) {
  ARGS(7)
  double *params, *score, *amount, *rem_hi, *rem_lo, *bases;
  size_t n;
  if (!f64(env, argv[0], 13, "params must be a Float64Array(13)", &params)) return NULL;
  if (!count_arg(env, argv[2], "n out of range", &n)) return NULL;
  if (!f64(env, argv[1], n, "score must be a Float64Array of n", &score)) return NULL;
  if (!f64(env, argv[3], n * LIMBS, "amount must be a Float64Array of 6n", &amount)) return NULL;
  if (!f64_or_null(env, argv[4], n, "remHi must be null or a Float64Array of n", &rem_hi)) return NULL;
  if (!f64_or_null(env, argv[5], n, "remLo must be null or a Float64Array of n", &rem_lo)) return NULL;
  if ((rem_hi == NULL) != (rem_lo == NULL)) {
    napi_throw_type_error(env, NULL, "remHi and remLo must both be null or both arrays");
    return NULL;
  }
  if (!f64(env, argv[6], LIMBS, "bases must be a Float64Array(6)", &bases)) return NULL;

  uint64_t a[LIMBS];
  int n_a = 0;
  for (int k = 0; k < LIMBS; k++) {
    if (!whole_below(params[k], (double)DEC)) goto bad_params;
    a[k] = to_u64(params[k]);
    if (a[k] != 0) n_a = k + 1;
  }
  for (int k = 6; k < 12; k++) {
    if (!whole_below(params[k], L24)) goto bad_params;
  }
  const u128 b = (u128)params[6] | (u128)params[7] << 24 | (u128)params[8] << 48;
  const u128 t = (u128)params[9] | (u128)params[10] << 24 | (u128)params[11] << 48;
  const double f = params[12];
  if (t == 0 || b >= t || !(f >= 0 && f <= 1)) goto bad_params;
  // A in binary, and P = A·T + B below 2^128 (as a kernel's is): then for every s ≤ T,
  // A·s + q = floor(P·s/T) ≤ P fits in 128 bits too.
  const u128 u128_max = ~(u128)0;
  u128 a_bin = 0;
  for (int k = LIMBS - 1; k >= 0; k--) {
    if (a_bin > (u128_max - a[k]) / DEC) goto bad_params;
    a_bin = a_bin * DEC + a[k];
  }
  if (a_bin > (u128_max - b) / t) goto bad_params;

  double sums[LIMBS];
  for (int k = 0; k < LIMBS; k++) sums[k] = bases[k];
  for (size_t i = 0; i < n; i++) {
    const double sd = score[i];
    if (!(sd >= 0 && sd <= MAX_SAFE && sd == to_f64(to_u64(sd))) || (u128)to_u64(sd) > t) {
      napi_throw_range_error(env, NULL, "a score is not a safe integer ≤ T");
      return NULL;
    }
    const uint64_t s = to_u64(sd);
    // q = floor(B·s/T) from the same estimate as the TypeScript (< s + 1, so in range), made exact.
    uint64_t q = to_u64(f * sd);
    i128 d = (i128)(b * s) - (i128)((u128)q * t);
    while (d < 0) {
      d += (i128)t;
      q--;
    }
    while (d >= (i128)t) {
      d -= (i128)t;
      q++;
    }
    if (rem_hi != NULL) {
      rem_hi[i] = to_f64((uint64_t)((u128)d >> 48));
      rem_lo[i] = to_f64((uint64_t)d & MASK48);
    }

    double *out = amount + i * LIMBS;
    // amount = A·s + q. Below 2^64 (most amounts: 2^64 ≈ 1.8·10^19) three limbs from 64-bit
    // divisions by constants; above, column by column.
    const u128 v = a_bin * s + q;
    if ((uint64_t)(v >> 64) == 0) {
      uint64_t x = (uint64_t)v;
      const uint64_t l0 = x % DEC;
      x /= DEC;
      const uint64_t l1 = x % DEC;
      const uint64_t l2 = x / DEC;  // < 1.9·10^5
      out[0] = to_f64(l0);
      out[1] = to_f64(l1);
      out[2] = to_f64(l2);
      out[3] = 0;
      out[4] = 0;
      out[5] = 0;
      // The TypeScript adds the three zero limbs too; adding +0 to a sum ≥ 0 leaves it as is.
      sums[0] += to_f64(l0);
      sums[1] += to_f64(l1);
      sums[2] += to_f64(l2);
      continue;
    }
    // Each column < 3·10^14 + 10^7 + carry.
    const uint64_t sl[3] = {s % DEC, s / DEC % DEC, s / (DEC * DEC)};
    const uint64_t ql[3] = {q % DEC, q / DEC % DEC, q / (DEC * DEC)};
    uint64_t carry = 0;
    for (int k = 0; k < LIMBS; k++) {
      uint64_t col = carry + (k < 3 ? ql[k] : 0);
      for (int j = k < 2 ? 0 : k - 2; j <= k && j < n_a; j++) col += a[j] * sl[k - j];
      const uint64_t limb = col % DEC;
      out[k] = to_f64(limb);
      sums[k] += to_f64(limb);
      carry = col / DEC;
    }
  }
  for (int k = 0; k < LIMBS; k++) bases[k] = sums[k];
  return NULL;

bad_params:
  napi_throw_range_error(env, NULL, "params are not a share kernel's");
  return NULL;
}

// ---- largest_remainder (shares.ts, largestRemainders)

static inline u128 rem_at(const double *hi, const double *lo, size_t i) {
  return (u128)to_u64(hi[i]) << 48 | (u128)to_u64(lo[i]);
}

#define DIGIT_BITS 9
#define DIGITS (1 << DIGIT_BITS)

/**
 * largestRemainders(remHi, remLo, n, d, amount): adds 1 to the amounts (decimal limbs) of the d
 * payees with the largest remainders, ties to the lower position. The d-th largest remainder V
 * and how many equal to V are in come from a most-significant-digit radix select (9-bit digits,
 * each pass keeps the one bucket holding the d-th), exact and linear whatever the remainders.
 */
static napi_value largest_remainders(napi_env env, napi_callback_info info) {
  ARGS(5)
  double *hi, *lo, *amount;
  size_t n, d;
  if (!count_arg(env, argv[2], "n out of range", &n)) return NULL;
  if (!count_arg(env, argv[3], "d out of range", &d)) return NULL;
  if (!f64(env, argv[0], n, "remHi must be a Float64Array of n", &hi)) return NULL;
  if (!f64(env, argv[1], n, "remLo must be a Float64Array of n", &lo)) return NULL;
  if (!f64(env, argv[4], n * LIMBS, "amount must be a Float64Array of 6n", &amount)) return NULL;
  if (d > n) {
    napi_throw_range_error(env, NULL, "d above n");
    return NULL;
  }
  if (d == 0) return NULL;
  uint64_t or_hi = 0;
  uint64_t or_lo = 0;
  for (size_t i = 0; i < n; i++) {
    if (!whole_below(hi[i], L24) || !whole_below(lo[i], L48)) {
      napi_throw_range_error(env, NULL, "a remainder is outside [0, 2^72)");
      return NULL;
    }
    or_hi |= to_u64(hi[i]);
    or_lo |= to_u64(lo[i]);
  }
  int bits = 0;
  if (or_hi != 0) bits = 48 + 64 - __builtin_clzll(or_hi);
  else if (or_lo != 0) bits = 64 - __builtin_clzll(or_lo);

  uint32_t *cand = NULL;
  size_t m = n;
  size_t need = d;  // how many of the remaining candidates are in
  for (int shift = 72 - DIGIT_BITS; shift >= 0; shift -= DIGIT_BITS) {
    if (shift >= bits) continue;  // every remainder has digit 0 here
    size_t hist[DIGITS] = {0};
    if (cand == NULL) {
      for (size_t i = 0; i < n; i++) hist[(unsigned)(rem_at(hi, lo, i) >> shift) & (DIGITS - 1)]++;
    } else {
      for (size_t j = 0; j < m; j++) hist[(unsigned)(rem_at(hi, lo, cand[j]) >> shift) & (DIGITS - 1)]++;
    }
    unsigned bucket = DIGITS - 1;
    size_t above = 0;
    while (bucket > 0 && above + hist[bucket] < need) above += hist[bucket--];
    need -= above;
    const size_t kept = hist[bucket];
    if (cand == NULL) {
      cand = malloc((kept == 0 ? 1 : kept) * sizeof *cand);
      if (cand == NULL) {
        napi_throw_error(env, NULL, "out of memory");
        return NULL;
      }
      size_t w = 0;
      for (size_t i = 0; i < n; i++) {
        if (((unsigned)(rem_at(hi, lo, i) >> shift) & (DIGITS - 1)) == bucket) cand[w++] = (uint32_t)i;
      }
    } else {
      size_t w = 0;
      for (size_t j = 0; j < m; j++) {
        if (((unsigned)(rem_at(hi, lo, cand[j]) >> shift) & (DIGITS - 1)) == bucket) cand[w++] = cand[j];
      }
    }
    m = kept;
  }
  // Every remaining candidate now has the same remainder: the cut.
  const u128 cut = cand == NULL ? 0 : rem_at(hi, lo, cand[0]);
  free(cand);
  for (size_t i = 0; i < n; i++) {
    const u128 r = rem_at(hi, lo, i);
    if (r > cut || (r == cut && need > 0)) {
      if (r == cut) need--;
      double *x = amount + i * LIMBS;
      for (int k = 0; k < LIMBS; k++) {
        const double v = x[k] + 1;
        if (v < (double)DEC) {
          x[k] = v;
          break;
        }
        x[k] = 0;
      }
    }
  }
  return NULL;
}

// ---- step 2, the scores (shares.ts, scoreColumns)

/**
 * scoreColumns(q, K, weight, divisor, cap, excluded: Uint8Array, who: Uint32Array, score, out):
 * the scored actors into who/score and T = out[0]·2^48 + out[1]; returns how many, or −1 where
 * the TypeScript must decide (a term or a score not safe, or anything not a plain integer).
 */
static napi_value score_columns(napi_env env, napi_callback_info info) {
  ARGS(9)
  double *q, *weight, *divisor, *cap, *score, *out;
  size_t kinds, n_actors, len;
  void *ex = NULL;
  void *wv = NULL;
  if (!count_arg(env, argv[1], "K out of range", &kinds)) return NULL;
  if (!typed_array(env, argv[5], napi_uint8_array, "excluded must be a Uint8Array", &ex, &n_actors)) return NULL;
  if (!f64(env, argv[0], n_actors * kinds, "q must be a Float64Array of actors·K", &q)) return NULL;
  if (!f64(env, argv[2], kinds, "weight must be a Float64Array of K", &weight)) return NULL;
  if (!f64(env, argv[3], kinds, "divisor must be a Float64Array of K", &divisor)) return NULL;
  if (!f64(env, argv[4], kinds, "cap must be a Float64Array of K", &cap)) return NULL;
  if (!typed_array(env, argv[6], napi_uint32_array, "who must be a Uint32Array", &wv, &len)) return NULL;
  if (len < n_actors) {
    napi_throw_range_error(env, NULL, "who shorter than the actors");
    return NULL;
  }
  if (!f64(env, argv[7], n_actors, "score must be a Float64Array of the actors", &score)) return NULL;
  if (!f64(env, argv[8], 2, "out must be a Float64Array(2)", &out)) return NULL;
  const uint8_t *excluded = ex;
  uint32_t *who = wv;
  u128 total = 0;
  size_t n = 0;
  for (size_t a = 0; a < n_actors; a++) {
    if (excluded[a] == 1) continue;
    double s = 0;
    const double *row = q + a * kinds;
    for (size_t k = 0; k < kinds; k++) {
      const double w = weight[k];
      const double cell = row[k];
      if (w == 0 || cell == 0) continue;
      const double c = cap[k];
      const double x = (cell < c ? cell : c) * w;
      if (x > MAX_SAFE) return number(env, -1);
      const double dv = divisor[k];
      // (x − x mod d) / d, which for integers x ≤ 2^53 − 1 and d ≥ 1 is the integer quotient.
      if (!(x >= 0 && x == to_f64(to_u64(x)) && dv >= 1 && dv <= MAX_SAFE && dv == to_f64(to_u64(dv)))) {
        return number(env, -1);
      }
      s += to_f64(to_u64(x) / to_u64(dv));
    }
    if (s == 0) continue;
    if (s > MAX_SAFE) return number(env, -1);
    total += to_u64(s);
    who[n] = (uint32_t)a;
    score[n] = s;
    n++;
  }
  out[0] = to_f64((uint64_t)(total >> 48));
  out[1] = to_f64((uint64_t)total & MASK48);
  return number(env, (double)n);
}

// ---- ceiling, floor and compaction (shares.ts, distributeColumns), the invariant's sums

static inline double compare_limbs(const double *x, const double *y) {
  for (int k = LIMBS - 1; k >= 0; k--) {
    if (x[k] != y[k]) return x[k] - y[k];
  }
  return 0;
}

static inline void add_limbs(double *sums, const double *x) {
  for (int k = 0; k < LIMBS; k++) sums[k] += x[k];
}

/**
 * payeeColumns(amount, n, ceiling | null, floor, who: Uint32Array, score, sums: Float64Array(18),
 * out: Float64Array(1)): drops zero amounts, caps at the ceiling (the capped amounts' limbs into
 * sums[0..6), their count into out[0]), drops those below the floor (into sums[6..12)) and
 * compacts the rest to the front of amount/who/score (into sums[12..18)); returns how many.
 */
static napi_value payee_columns(napi_env env, napi_callback_info info) {
  ARGS(8)
  double *amount, *ceiling, *floor_limbs, *score, *sums, *out;
  size_t n, len;
  void *wv = NULL;
  if (!count_arg(env, argv[1], "n out of range", &n)) return NULL;
  if (!f64(env, argv[0], n * LIMBS, "amount must be a Float64Array of 6n", &amount)) return NULL;
  if (!f64_or_null(env, argv[2], LIMBS, "ceiling must be null or a Float64Array(6)", &ceiling)) return NULL;
  if (!f64(env, argv[3], LIMBS, "floor must be a Float64Array(6)", &floor_limbs)) return NULL;
  if (!typed_array(env, argv[4], napi_uint32_array, "who must be a Uint32Array", &wv, &len)) return NULL;
  if (len < n) {
    napi_throw_range_error(env, NULL, "who shorter than n");
    return NULL;
  }
  if (!f64(env, argv[5], n, "score must be a Float64Array of n", &score)) return NULL;
  if (!f64(env, argv[6], 3 * LIMBS, "sums must be a Float64Array(18)", &sums)) return NULL;
  if (!f64(env, argv[7], 1, "out must be a Float64Array(1)", &out)) return NULL;
  uint32_t *who = wv;
  double capped = 0;
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    double *x = amount + i * LIMBS;
    bool zero = true;
    for (int k = 0; k < LIMBS; k++) zero = zero && x[k] == 0;
    if (zero) continue;
    if (ceiling != NULL && compare_limbs(x, ceiling) > 0) {
      add_limbs(sums, x);
      capped++;
      for (int k = 0; k < LIMBS; k++) x[k] = ceiling[k];
    }
    if (compare_limbs(x, floor_limbs) < 0) {
      add_limbs(sums + LIMBS, x);
      continue;
    }
    add_limbs(sums + 2 * LIMBS, x);
    if (m != i) {
      for (int k = 0; k < LIMBS; k++) amount[m * LIMBS + k] = x[k];
      who[m] = who[i];
      score[m] = score[i];
    }
    m++;
  }
  out[0] = capped;
  return number(env, (double)m);
}

/**
 * limbsCheck(amount, count, ceiling | null, sums: Float64Array(6)): adds the amounts into sums
 * until the first that is 0 or above the ceiling, and returns its position (−1 if none).
 */
static napi_value limbs_check(napi_env env, napi_callback_info info) {
  ARGS(4)
  double *amount, *ceiling, *sums;
  size_t n;
  if (!count_arg(env, argv[1], "count out of range", &n)) return NULL;
  if (!f64(env, argv[0], n * LIMBS, "amount must be a Float64Array of 6·count", &amount)) return NULL;
  if (!f64_or_null(env, argv[2], LIMBS, "ceiling must be null or a Float64Array(6)", &ceiling)) return NULL;
  if (!f64(env, argv[3], LIMBS, "sums must be a Float64Array(6)", &sums)) return NULL;
  static const double zero[LIMBS] = {0};
  double acc[LIMBS];
  for (int k = 0; k < LIMBS; k++) acc[k] = sums[k];
  double at = -1;
  for (size_t i = 0; i < n; i++) {
    const double *x = amount + i * LIMBS;
    add_limbs(acc, x);
    if ((ceiling != NULL && compare_limbs(x, ceiling) > 0) || compare_limbs(x, zero) <= 0) {
      at = (double)i;
      break;
    }
  }
  for (int k = 0; k < LIMBS; k++) sums[k] = acc[k];
  return number(env, at);
}

bool rewarder_define_share_kernel(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"shareColumns", NULL, share_columns, NULL, NULL, NULL, napi_enumerable, NULL},
      {"largestRemainders", NULL, largest_remainders, NULL, NULL, NULL, napi_enumerable, NULL},
      {"scoreColumns", NULL, score_columns, NULL, NULL, NULL, napi_enumerable, NULL},
      {"payeeColumns", NULL, payee_columns, NULL, NULL, NULL, napi_enumerable, NULL},
      {"limbsCheck", NULL, limbs_check, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties) == napi_ok;
}

// The hot loop of the one-pass Arrow tally (src/core/arrow/tally.ts, addBatch) and its finishing
// pass, over one record batch's buffers as the stream carries them: actor and kind dictionary
// indices (Int8, Int16 or Int32), qty and ts as little-endian uint64 read as (lo, hi) uint32
// pairs. addBatch is the reference this must equal bit for bit, and the fallback when the addon is
// not built; tally.test.ts checks the two against each other on random batches.
//
// Exactness: every value is an integer below 2^53 (hi ≤ 0x1FFFFF is checked first), so it is
// converted to a double exactly from its uint64, with no multiply that a compiler could fuse; the
// sums are plain IEEE double additions in row order (no -ffast-math, and x86-64 and AArch64 do
// double arithmetic in double precision), so q, total and ignored are the same bits TypeScript
// computes. The window test compares the exact double with startMs and endMs, as addBatch does.
//
// Speed: Q (nActors·K doubles, 8 MB per kind at 1M actors) is written at random, one cache miss
// per event; the loop prefetches the cell of the row PREFETCH rows ahead so that those misses
// overlap instead of queueing one after the other.
//
// Stateless and synchronous: safe in any number of worker threads.

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <node_api.h>

#include "arrow_tally.h"
#include "napi_args.h"

#define HI_MAX 0x1fffffu
#define PREFETCH 24

/** A typed array's data, length and type, or a pending TypeError naming `what`. */
static bool typed(napi_env env, napi_value v, const char *what, napi_typedarray_type *type, void **data, size_t *len) {
  bool is = false;
  if (!call_ok(env, napi_is_typedarray(env, v, &is))) return false;
  if (!is) {
    napi_throw_type_error(env, NULL, what);
    return false;
  }
  return call_ok(env, napi_get_typedarray_info(env, v, type, len, data, NULL, NULL));
}

/** A number that is an integer in [0, 2^53), or a pending RangeError naming `what`. */
static bool count_arg(napi_env env, napi_value v, const char *what, size_t *out) { return index_arg(env, v, 9007199254740991.0, what, out); }

struct batch {
  const void *actor;
  const void *kind;
  const uint32_t *qty;
  const uint32_t *ts;
  size_t n;
  double start;
  double end;
  size_t actors;
  size_t kinds;
  double *q;
  double total;
  double ignored;
};

static inline double u53(uint32_t lo, uint32_t hi) { return (double)(((uint64_t)hi << 32) | lo); }

// One loop per pair of index types (AT, KT), so the index loads are plain typed loads.
#define TALLY_LOOP(NAME, AT, KT)                                                                    \
  static bool NAME(struct batch *b) {                                                               \
    const AT *actor = b->actor;                                                                     \
    const KT *kind = b->kind;                                                                       \
    const uint32_t *qty = b->qty;                                                                   \
    const uint32_t *ts = b->ts;                                                                     \
    const size_t n = b->n, nA = b->actors, K = b->kinds;                                            \
    const double start = b->start, end = b->end;                                                    \
    double *q = b->q;                                                                               \
    double total = b->total, ignored = b->ignored;                                                  \
    for (size_t i = 0; i < n; i++) {                                                                \
      if (i + PREFETCH < n) {                                                                       \
        int64_t pa = actor[i + PREFETCH], pk = kind[i + PREFETCH];                                  \
        if (pa >= 0 && (size_t)pa < nA && pk >= 0 && (size_t)pk < K) {                              \
          __builtin_prefetch(&q[(size_t)pa * K + (size_t)pk], 1, 0);                                \
        }                                                                                           \
      }                                                                                             \
      int64_t a = actor[i], k = kind[i];                                                            \
      uint32_t tHi = ts[2 * i + 1], qHi = qty[2 * i + 1];                                           \
      if (a < 0 || (size_t)a >= nA || k < 0 || (size_t)k >= K || tHi > HI_MAX || qHi > HI_MAX) {   \
        return false;                                                                               \
      }                                                                                             \
      double t = u53(ts[2 * i], tHi);                                                               \
      if (t < start || t >= end) {                                                                  \
        ignored++;                                                                                  \
        continue;                                                                                   \
      }                                                                                             \
      double x = u53(qty[2 * i], qHi);                                                              \
      q[(size_t)a * K + (size_t)k] += x;                                                            \
      total += x;                                                                                   \
    }                                                                                               \
    b->total = total;                                                                               \
    b->ignored = ignored;                                                                           \
    return true;                                                                                    \
  }

TALLY_LOOP(tally_8_8, int8_t, int8_t)
TALLY_LOOP(tally_8_16, int8_t, int16_t)
TALLY_LOOP(tally_8_32, int8_t, int32_t)
TALLY_LOOP(tally_16_8, int16_t, int8_t)
TALLY_LOOP(tally_16_16, int16_t, int16_t)
TALLY_LOOP(tally_16_32, int16_t, int32_t)
TALLY_LOOP(tally_32_8, int32_t, int8_t)
TALLY_LOOP(tally_32_16, int32_t, int16_t)
TALLY_LOOP(tally_32_32, int32_t, int32_t)

typedef bool (*tally_fn)(struct batch *);

/** 0, 1, 2 for Int8, Int16, Int32 index arrays; −1 for any other type. */
static int width_of(napi_typedarray_type t) {
  return t == napi_int8_array ? 0 : t == napi_int16_array ? 1 : t == napi_int32_array ? 2 : -1;
}

/**
 * arrowTallyBatch(actor, kind: Int8Array | Int16Array | Int32Array, qty, ts: Uint32Array, n,
 * startMs, endMs, nActors, K, q: Float64Array, sum: Float64Array(2)): for i < n, refuses (false,
 * sum untouched, q partly written) at the first actor or kind index outside [0, nActors) or
 * [0, K), or hi word of ts or qty past 0x1FFFFF; counts an event with ts outside [startMs, endMs)
 * in sum[1]; adds every other event's qty to q[actor·K + kind] and to sum[0]. True when done.
 */
napi_value rewarder_arrow_tally_batch(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  if (!call_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return NULL;
  if (argc < 11) {
    napi_throw_type_error(env, NULL, "arrowTallyBatch takes 11 arguments");
    return NULL;
  }
  napi_typedarray_type types[4], qt, st;
  void *data[4], *qv, *sv;
  size_t lens[4], qlen, slen;
  static const char *const what[4] = {"actor must be an Int8Array, Int16Array or Int32Array",
                                      "kind must be an Int8Array, Int16Array or Int32Array", "qty must be a Uint32Array",
                                      "ts must be a Uint32Array"};
  for (int c = 0; c < 4; c++) {
    if (!typed(env, argv[c], what[c], &types[c], &data[c], &lens[c])) return NULL;
  }
  int aw = width_of(types[0]), kw = width_of(types[1]);
  if (aw < 0 || kw < 0 || types[2] != napi_uint32_array || types[3] != napi_uint32_array) {
    napi_throw_type_error(env, NULL, aw < 0 ? what[0] : kw < 0 ? what[1] : types[2] != napi_uint32_array ? what[2] : what[3]);
    return NULL;
  }
  size_t n, actors, kinds;
  double start, end;
  if (!count_arg(env, argv[4], "n must be a count", &n)) return NULL;
  if (!call_ok(env, napi_get_value_double(env, argv[5], &start))) return NULL;
  if (!call_ok(env, napi_get_value_double(env, argv[6], &end))) return NULL;
  if (!count_arg(env, argv[7], "nActors must be a count", &actors)) return NULL;
  if (!count_arg(env, argv[8], "K must be a count", &kinds)) return NULL;
  if (!typed(env, argv[9], "q must be a Float64Array", &qt, &qv, &qlen)) return NULL;
  if (!typed(env, argv[10], "sum must be a Float64Array", &st, &sv, &slen)) return NULL;
  if (qt != napi_float64_array || st != napi_float64_array) {
    napi_throw_type_error(env, NULL, qt != napi_float64_array ? "q must be a Float64Array" : "sum must be a Float64Array");
    return NULL;
  }
  if (lens[0] < n || lens[1] < n || lens[2] / 2 < n || lens[3] / 2 < n) {
    napi_throw_range_error(env, NULL, "n is beyond a column");
    return NULL;
  }
  if (slen < 2 || (kinds != 0 && (actors > SIZE_MAX / kinds || qlen < actors * kinds))) {
    napi_throw_range_error(env, NULL, "q must hold nActors·K cells and sum 2");
    return NULL;
  }
  double *sum = sv;
  struct batch b = {data[0], data[1], data[2], data[3], n, start, end, actors, kinds, qv, sum[0], sum[1]};
  static const tally_fn loops[3][3] = {
      {tally_8_8, tally_8_16, tally_8_32},
      {tally_16_8, tally_16_16, tally_16_32},
      {tally_32_8, tally_32_16, tally_32_32},
  };
  bool done = loops[aw][kw](&b);
  if (done) {
    sum[0] = b.total;
    sum[1] = b.ignored;
  }
  napi_value result;
  if (!call_ok(env, napi_get_boolean(env, done, &result))) return NULL;
  return result;
}

/** arrowTallyFinish(q: Float64Array, seen: Uint8Array): see arrow_tally.h. */
napi_value rewarder_arrow_tally_finish(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (!call_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return NULL;
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "arrowTallyFinish takes 2 arguments");
    return NULL;
  }
  napi_typedarray_type qt, st;
  void *qv, *sv;
  size_t qlen, slen;
  if (!typed(env, argv[0], "q must be a Float64Array", &qt, &qv, &qlen)) return NULL;
  if (!typed(env, argv[1], "seen must be a Uint8Array", &st, &sv, &slen)) return NULL;
  if (qt != napi_float64_array || st != napi_uint8_array) {
    napi_throw_type_error(env, NULL, qt != napi_float64_array ? "q must be a Float64Array" : "seen must be a Uint8Array");
    return NULL;
  }
  if (slen < qlen) {
    napi_throw_range_error(env, NULL, "seen must have a byte per cell of q");
    return NULL;
  }
  // Through the bits: −0 == 0 in double comparison, and memcpy keeps it free of aliasing questions.
  uint64_t *bits = qv;
  uint8_t *seen = sv;
  const uint64_t negzero = UINT64_C(0x8000000000000000);
  for (size_t c = 0; c < qlen; c++) {
    uint64_t x;
    memcpy(&x, &bits[c], sizeof x);
    bool untouched = x == negzero;
    if (untouched) {
      uint64_t zero = 0;
      memcpy(&bits[c], &zero, sizeof zero);
    }
    seen[c] = !untouched;
  }
  return NULL;
}

/**
 * arrowOffsetsPlain(offsets: Int32Array, n, limit): true when offsets[0] ≥ 0, offsets[0..n] never
 * decrease and offsets[n] ≤ limit (read.ts's `strings` checks of a dictionary's offsets).
 */
napi_value rewarder_arrow_offsets_plain(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (!call_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return NULL;
  if (argc < 3) {
    napi_throw_type_error(env, NULL, "arrowOffsetsPlain takes 3 arguments");
    return NULL;
  }
  napi_typedarray_type ot;
  void *ov;
  size_t olen, n, limit;
  if (!typed(env, argv[0], "offsets must be an Int32Array", &ot, &ov, &olen)) return NULL;
  if (ot != napi_int32_array) {
    napi_throw_type_error(env, NULL, "offsets must be an Int32Array");
    return NULL;
  }
  if (!count_arg(env, argv[1], "n must be a count", &n)) return NULL;
  if (!count_arg(env, argv[2], "limit must be a count", &limit)) return NULL;
  if (olen < n + 1) {
    napi_throw_range_error(env, NULL, "offsets must have n + 1 entries");
    return NULL;
  }
  const int32_t *o = ov;
  // No early exit: a branch-free fold the compiler can vectorise.
  bool down = false;
  for (size_t i = 1; i <= n; i++) down |= o[i] < o[i - 1];
  bool plain = o[0] >= 0 && !down && (size_t)o[n] <= limit;
  napi_value result;
  if (!call_ok(env, napi_get_boolean(env, plain, &result))) return NULL;
  return result;
}

/**
 * arrowActorsPlain(data: Uint8Array, offsets: Int32Array, n): true when the actor dictionary's
 * entries data[offsets[i] .. offsets[i+1]), i < n, pass every check read.ts's actorDictionary makes
 * after decoding them as UTF-8: no entry starts on a continuation byte (10xxxxxx) unless it starts
 * at the end, no byte below 0x20 and no 0xC2 followed by 0x80–0x9F (C0 and C1 controls) in
 * data[offsets[0] .. offsets[n]), every entry 1 to 256 bytes, each strictly above the one before
 * by bytes. False when any fails (the TypeScript checks then name the first failure), and for
 * offsets that are not a non-decreasing run from 0 to data's length at most.
 */
napi_value rewarder_arrow_actors_plain(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (!call_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return NULL;
  if (argc < 3) {
    napi_throw_type_error(env, NULL, "arrowActorsPlain takes 3 arguments");
    return NULL;
  }
  napi_typedarray_type dt, ot;
  void *dv, *ov;
  size_t dlen, olen, n;
  if (!typed(env, argv[0], "data must be a Uint8Array", &dt, &dv, &dlen)) return NULL;
  if (!typed(env, argv[1], "offsets must be an Int32Array", &ot, &ov, &olen)) return NULL;
  if (dt != napi_uint8_array || ot != napi_int32_array) {
    napi_throw_type_error(env, NULL, dt != napi_uint8_array ? "data must be a Uint8Array" : "offsets must be an Int32Array");
    return NULL;
  }
  if (!count_arg(env, argv[2], "n must be a count", &n)) return NULL;
  if (olen < n + 1) {
    napi_throw_range_error(env, NULL, "offsets must have n + 1 entries");
    return NULL;
  }
  const uint8_t *d = dv;
  const int32_t *o = ov;
  bool plain = o[0] >= 0;
  for (size_t i = 1; plain && i <= n; i++) plain = o[i] >= o[i - 1];
  plain = plain && (size_t)o[n] <= dlen;
  if (plain) {
    const size_t start = (size_t)o[0], end = (size_t)o[n];
    for (size_t i = 0; plain && i < n; i++) {
      size_t a = (size_t)o[i], z = (size_t)o[i + 1];
      if (a < end && (d[a] & 0xc0) == 0x80) plain = false;
      else if (z == a || z - a > 256) plain = false;
      else if (i > 0) {
        size_t p = (size_t)o[i - 1], lp = a - p, lz = z - a;
        int c = memcmp(d + p, d + a, lp < lz ? lp : lz);
        if (c > 0 || (c == 0 && lp >= lz)) plain = false;
      }
    }
    // As the TypeScript loop reads it: the byte after 0xC2 may lie past `end` (but not past data).
    for (size_t p = start; plain && p < end; p++) {
      uint8_t x = d[p];
      if (x < 0x20 || (x == 0xc2 && p + 1 < dlen && d[p + 1] >= 0x80 && d[p + 1] <= 0x9f)) plain = false;
    }
  }
  napi_value result;
  if (!call_ok(env, napi_get_boolean(env, plain, &result))) return NULL;
  return result;
}

// ---- the quoted names (src/core/utf8.ts, quoteEach)

/** JSON.stringify's escape of byte b (RFC 8785's), written to out; its length, or 0 when b is copied as is. */
static size_t escape_of(uint8_t b, uint8_t out[6]) {
  static const char hex[] = "0123456789abcdef";
  char c = 0;
  switch (b) {
    case 0x08: c = 'b'; break;
    case 0x09: c = 't'; break;
    case 0x0a: c = 'n'; break;
    case 0x0c: c = 'f'; break;
    case 0x0d: c = 'r'; break;
    case 0x22: c = '"'; break;
    case 0x5c: c = '\\'; break;
    default:
      if (b >= 0x20) return 0;
      out[0] = '\\', out[1] = 'u', out[2] = '0', out[3] = '0', out[4] = (uint8_t)hex[b >> 4], out[5] = (uint8_t)hex[b & 15];
      return 6;
  }
  out[0] = '\\', out[1] = (uint8_t)c;
  return 2;
}

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/** Whether any of the 8 bytes at p is below 0x20, '"' or '\\' (exact: the zero-byte tests). */
static inline bool any_special(const uint8_t *p) {
  uint64_t w;
  memcpy(&w, p, sizeof w);
  uint64_t q = w ^ (ONES * 0x22), b = w ^ (ONES * 0x5c);
  return (((w - ONES * 0x20) & ~w) | ((q - ONES) & ~q) | ((b - ONES) & ~b)) & HIGHS;
}

/**
 * quotedLength(src: Uint8Array): the bytes quoteEach writes for the texts src holds, without their
 * 2·n quotes: src's length plus what the escapes add.
 */
napi_value rewarder_quoted_length(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (!call_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return NULL;
  napi_typedarray_type t;
  void *v;
  size_t len;
  if (argc < 1 || !typed(env, argv[0], "src must be a Uint8Array", &t, &v, &len)) return NULL;
  if (t != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "src must be a Uint8Array");
    return NULL;
  }
  const uint8_t *s = v;
  size_t size = len;
  uint8_t e[6];
  for (size_t p = 0; p < len; p++) {
    while (p + 8 <= len && !any_special(s + p)) p += 8;
    if (p >= len) break;
    uint8_t x = s[p];
    if (x < 0x20 || x == 0x22 || x == 0x5c) size += escape_of(x, e) - 1;
  }
  napi_value result;
  if (!call_ok(env, napi_create_double(env, (double)size, &result))) return NULL;
  return result;
}

/**
 * quoteInto(src: Uint8Array, from: Uint32Array, bytes: Uint8Array, offsets: Uint32Array): for each
 * text src[from[i] .. from[i+1]), i < from.length − 1, writes '"', its bytes with JSON.stringify's
 * escapes, '"' to bytes, back to back, and offsets[i+1] = where it ends (offsets[0] is left as is,
 * 0). False, with bytes and offsets partly written, when from is not a non-decreasing run within
 * src or bytes or offsets are too short.
 */
napi_value rewarder_quote_into(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (!call_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return NULL;
  if (argc < 4) {
    napi_throw_type_error(env, NULL, "quoteInto takes 4 arguments");
    return NULL;
  }
  static const napi_typedarray_type want[4] = {napi_uint8_array, napi_uint32_array, napi_uint8_array, napi_uint32_array};
  static const char *const what[4] = {"src must be a Uint8Array", "from must be a Uint32Array", "bytes must be a Uint8Array",
                                      "offsets must be a Uint32Array"};
  void *data[4];
  size_t lens[4];
  for (int c = 0; c < 4; c++) {
    napi_typedarray_type t;
    if (!typed(env, argv[c], what[c], &t, &data[c], &lens[c])) return NULL;
    if (t != want[c]) {
      napi_throw_type_error(env, NULL, what[c]);
      return NULL;
    }
  }
  const uint8_t *src = data[0];
  const uint32_t *from = data[1];
  uint8_t *out = data[2];
  uint32_t *offsets = data[3];
  const size_t n = lens[1] == 0 ? 0 : lens[1] - 1, cap = lens[2];
  bool done = lens[3] >= n + 1;
  size_t at = 0;
  uint8_t e[6];
  for (size_t i = 0; done && i < n; i++) {
    size_t p = from[i], end = from[i + 1];
    if (end < p || end > lens[0] || cap - at < 2 || cap - at - 2 < end - p) {
      done = false;
      break;
    }
    out[at++] = 0x22;
    while (p < end) {
      // The run of bytes copied as is, then one escape.
      size_t q = p;
      while (q + 8 <= end && !any_special(src + q)) q += 8;
      while (q < end && src[q] >= 0x20 && src[q] != 0x22 && src[q] != 0x5c) q++;
      memcpy(out + at, src + p, q - p);
      at += q - p;
      p = q;
      if (p < end) {
        size_t k = escape_of(src[p++], e);
        if (cap - at < k + 1 + (end - p)) {
          done = false;
          break;
        }
        memcpy(out + at, e, k);
        at += k;
      }
    }
    if (!done) break;
    out[at++] = 0x22;
    offsets[i + 1] = (uint32_t)at;
  }
  napi_value result;
  if (!call_ok(env, napi_get_boolean(env, done, &result))) return NULL;
  return result;
}

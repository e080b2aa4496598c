// The manifest's per-payee bytes (src/core/manifest.ts, the column path of buildManifest), written
// in C. At 909k payees the TypeScript writers spent ~0.9 s on three small copies, the digits and
// one offsets store per payee; here each payee is a few memcpys and a digit loop, and its leaf and
// its payouts entry are written in the same pass (the entry is the leaf, still in L1, less `"},`,
// plus its score).
// The TypeScript writers stay as the fallback and as the reference: the tests compare the bytes.
//
// Every input is checked before it is used: counts against the arrays' lengths, each name's range
// against the names' bytes (each offset read once, so shared memory rewritten meanwhile cannot
// move a range past its check), each limb and score for the form the calculus writes (integers,
// limbs below 10^7, scores safe), and every write against the room left in its buffer. A failed
// check throws a RangeError; output written before it is garbage the caller must drop.

#include "manifest_write.h"
#include "napi_args.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <uv.h>

#define LIMBS 6
#define LIMB_BASE 10000000.0
#define MAX_SAFE 9007199254740991.0

static const char LEAF_OPEN[] = "{\"actor\":";
static const char LEAF_AMOUNT[] = ",\"amount_minor\":\"";
static const char ENTRY_SCORE[] = "\",\"score\":\"";
#define LEAF_OPEN_LEN (sizeof LEAF_OPEN - 1)
#define LEAF_AMOUNT_LEN (sizeof LEAF_AMOUNT - 1)
#define ENTRY_SCORE_LEN (sizeof ENTRY_SCORE - 1)
// A leaf besides its quoted name and digits: the two constants and `"},`.
#define LEAF_FIXED (LEAF_OPEN_LEN + LEAF_AMOUNT_LEN + 3)
// An entry is its leaf less `"},`, plus `","score":"` and `"}`.
#define ENTRY_EXTRA (ENTRY_SCORE_LEN + 2 - 3)

static const char PAIRS[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

// ---- N-API plumbing (the same checks as rewarder_native.c's, which keeps its own static)

static napi_value number(napi_env env, double v) {
  napi_value result;
  if (!call_ok(env, napi_create_double(env, v, &result))) return NULL;
  return result;
}

// ---- digits (src/core/wide.ts: limbDigits, writeLimbDigits, safeDigits, writeSafeDigits)

static inline unsigned digits7(uint32_t v) {
  return v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 : v < 100000 ? 5 : v < 1000000 ? 6 : 7;
}

static inline unsigned digits64(uint64_t v) {
  unsigned n = 1;
  while (v >= 10000000) {
    v /= 10000000;
    n += 7;
  }
  return n - 1 + digits7((uint32_t)v);
}

/** Writes v as exactly `width` digits ending just before `end`. */
static inline void write_fixed(uint8_t *end, uint32_t v, unsigned width) {
  uint8_t *p = end;
  uint8_t *start = end - width;
  while (p - start >= 2) {
    uint32_t r = v % 100;
    v /= 100;
    p -= 2;
    memcpy(p, PAIRS + 2 * r, 2);
  }
  if (p > start) *start = (uint8_t)('0' + v);
}

/**
 * The limbs of one amount as integers, or false when one is not an integer in [0, 10^7). Sets
 * *top to the most significant non-zero limb (0 for zero) and returns its digit count in *len.
 */
static inline bool read_limbs(const double *at, uint32_t limbs[LIMBS], unsigned *top, unsigned *len) {
  for (unsigned k = 0; k < LIMBS; k++) {
    double v = at[k];
    if (!(v >= 0 && v < LIMB_BASE) || v != (double)(uint32_t)v) return false;
    limbs[k] = (uint32_t)v;
  }
  unsigned k = LIMBS - 1;
  while (k > 0 && limbs[k] == 0) k--;
  *top = k;
  *len = digits7(limbs[k]) + 7 * k;
  return true;
}

static inline uint8_t *write_limbs(uint8_t *p, const uint32_t limbs[LIMBS], unsigned top) {
  unsigned w = digits7(limbs[top]);
  p += w;
  write_fixed(p, limbs[top], w);
  for (unsigned j = top; j-- > 0;) {
    p += 7;
    write_fixed(p, limbs[j], 7);
  }
  return p;
}

/** A score as an integer, or false when it is not a safe integer ≥ 0. */
static inline bool read_score(double v, uint64_t *out) {
  if (!(v >= 0 && v <= MAX_SAFE) || v != (double)(uint64_t)v) return false;
  *out = (uint64_t)v;
  return true;
}

static inline uint8_t *write_u64(uint8_t *p, uint64_t v, unsigned len) {
  uint8_t *end = p + len;
  uint8_t *q = end;
  while (v >= 100) {
    uint32_t r = (uint32_t)(v % 100);
    v /= 100;
    q -= 2;
    memcpy(q, PAIRS + 2 * r, 2);
  }
  if (v >= 10) {
    q -= 2;
    memcpy(q, PAIRS + 2 * v, 2);
  } else {
    *--q = (uint8_t)('0' + v);
  }
  return end;
}

// ---- the payees' leaves and payouts entries

struct payee_columns {
  const uint8_t *names;
  size_t names_len;
  const uint32_t *name_offsets;
  /** Quoted names in the table: name_offsets has one more entry. */
  size_t name_count;
  /** Actor index of each payee, or NULL: names by payee position. */
  const uint32_t *index;
  const double *amount;
  const double *score;
  size_t count;
};

/**
 * Reads (names, nameOffsets, index | null, amount, score, count) from argv[0..6); `names` is
 * skipped (NULL) when `with_names` is false. False with a pending exception.
 */
static bool columns_in(napi_env env, napi_value *argv, bool with_names, struct payee_columns *c) {
  void *data = NULL;
  size_t len = 0;
  c->names = NULL;
  c->names_len = 0;
  if (with_names) {
    if (!typed_array(env, argv[0], napi_uint8_array, "names must be a Uint8Array", &data, &len)) return false;
    c->names = data;
    c->names_len = len;
  }
  if (!typed_array(env, argv[1], napi_uint32_array, "nameOffsets must be a Uint32Array", &data, &len)) return false;
  if (len == 0) {
    napi_throw_range_error(env, NULL, "nameOffsets must hold at least one offset");
    return false;
  }
  c->name_offsets = data;
  c->name_count = len - 1;
  size_t index_len = 0;
  if (!typed_array_or_null(env, argv[2], napi_uint32_array, "index must be a Uint32Array or null", &data, &index_len)) return false;
  c->index = data;
  size_t amount_len = 0;
  if (!typed_array(env, argv[3], napi_float64_array, "amount must be a Float64Array", &data, &amount_len)) return false;
  c->amount = data;
  size_t score_len = 0;
  if (!typed_array(env, argv[4], napi_float64_array, "score must be a Float64Array", &data, &score_len)) return false;
  c->score = data;
  if (!index_arg(env, argv[5], 4294967294.0, "count must be an integer in [0, 2^32 − 1)", &c->count)) return false;
  size_t n = c->count;
  if ((c->index != NULL ? index_len < n : c->name_count < n) || amount_len / LIMBS < n || score_len < n) {
    napi_throw_range_error(env, NULL, "count is beyond a column");
    return false;
  }
  return true;
}

/** The range of payee i's quoted name, or false when it is out of the table or its bytes. */
static inline bool name_range(const struct payee_columns *c, size_t i, size_t *from, size_t *to) {
  size_t a = c->index != NULL ? ((const volatile uint32_t *)c->index)[i] : i;
  if (a >= c->name_count) return false;
  const volatile uint32_t *offs = c->name_offsets;
  size_t f = offs[a];
  size_t t = offs[a + 1];
  if (f > t || (c->names != NULL && t > c->names_len)) return false;
  *from = f;
  *to = t;
  return true;
}

/**
 * manifestSizes(names | null, nameOffsets, index | null, amount, score, count, out: Float64Array(2)):
 * out = [bytes of the leaves, bytes of the payouts entries with the commas between them].
 * `names` may be null: only the offsets are read.
 */
napi_value rewarder_manifest_sizes(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  if (!call_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return NULL;
  if (argc < 7) {
    napi_throw_type_error(env, NULL, "manifestSizes takes 7 arguments");
    return NULL;
  }
  struct payee_columns c;
  napi_valuetype t0;
  if (!call_ok(env, napi_typeof(env, argv[0], &t0))) return NULL;
  if (!columns_in(env, argv, t0 != napi_null, &c)) return NULL;
  void *outv = NULL;
  size_t out_len = 0;
  if (!typed_array(env, argv[6], napi_float64_array, "out must be a Float64Array", &outv, &out_len)) return NULL;
  if (out_len < 2) {
    napi_throw_range_error(env, NULL, "out must hold 2 numbers");
    return NULL;
  }
  uint64_t leaf_bytes = 0;
  uint64_t score_bytes = 0;
  for (size_t i = 0; i < c.count; i++) {
    size_t from = 0;
    size_t to = 0;
    uint32_t limbs[LIMBS];
    unsigned top = 0;
    unsigned digits = 0;
    uint64_t score = 0;
    if (!name_range(&c, i, &from, &to)) {
      napi_throw_range_error(env, NULL, "a payee's name is outside the names");
      return NULL;
    }
    if (!read_limbs(c.amount + i * LIMBS, limbs, &top, &digits) || !read_score(c.score[i], &score)) {
      napi_throw_range_error(env, NULL, "an amount or score is not in the calculus's form");
      return NULL;
    }
    leaf_bytes += LEAF_FIXED + (to - from) + digits;
    score_bytes += digits64(score);
  }
  uint64_t n = c.count;
  uint64_t entry_bytes = leaf_bytes + n * ENTRY_EXTRA + score_bytes + (n > 0 ? n - 1 : 0);
  double *out = outv;
  out[0] = (double)leaf_bytes;
  out[1] = (double)entry_bytes;
  return NULL;
}

enum write_error { WRITE_OK, WRITE_NAME, WRITE_FORM, WRITE_ROOM, WRITE_MOVED };

/** Payee i's name range, limbs, score and the lengths of its leaf and of its entry (comma included). */
struct payee {
  size_t from;
  size_t to;
  uint32_t limbs[LIMBS];
  unsigned top;
  unsigned digits;
  uint64_t score;
  unsigned score_len;
  size_t leaf_len;
  size_t entry_len;
};

static inline enum write_error read_payee(const struct payee_columns *c, size_t i, struct payee *p) {
  if (!name_range(c, i, &p->from, &p->to)) return WRITE_NAME;
  if (!read_limbs(c->amount + i * LIMBS, p->limbs, &p->top, &p->digits) || !read_score(c->score[i], &p->score)) return WRITE_FORM;
  p->leaf_len = LEAF_FIXED + (p->to - p->from) + p->digits;
  p->score_len = digits64(p->score);
  p->entry_len = (i > 0 ? 1 : 0) + p->leaf_len + ENTRY_EXTRA + p->score_len;
  return WRITE_OK;
}

/** Payees [first, last) of one manifestWrite, on this thread or a second one. */
struct write_part {
  const struct payee_columns *c;
  size_t first;
  size_t last;
  uint8_t *leaves;
  size_t leaves_len;
  uint32_t *leaf_offsets;
  uint8_t *out;
  size_t out_len;
  /** Where payee `first` starts (or, with `measure`, where payee 0 does: the part sizes the rest). */
  size_t leaf_at;
  size_t at;
  bool measure;
  /** Where the part started writing, and the error that stopped it. */
  size_t leaf_start;
  size_t start;
  enum write_error error;
};

static void write_part(void *arg) {
  struct write_part *w = arg;
  const struct payee_columns *c = w->c;
  struct payee p;
  if (w->measure) {
    for (size_t i = 0; i < w->first; i++) {
      if ((w->error = read_payee(c, i, &p)) != WRITE_OK) return;
      w->leaf_at += p.leaf_len;
      w->at += p.entry_len;
    }
  }
  w->leaf_start = w->leaf_at;
  w->start = w->at;
  size_t leaf_at = w->leaf_at;
  size_t at = w->at;
  // Room checks compare lengths with what is left, never sums with ends (no overflow).
  for (size_t i = w->first; i < w->last; i++) {
    if ((w->error = read_payee(c, i, &p)) != WRITE_OK) return;
    if (leaf_at > w->leaves_len || at > w->out_len || p.leaf_len > w->leaves_len - leaf_at || p.entry_len > w->out_len - at) {
      w->error = WRITE_ROOM;
      return;
    }
    size_t name_len = p.to - p.from;
    uint8_t *leaf = w->leaves + leaf_at;
    uint8_t *q = leaf;
    memcpy(q, LEAF_OPEN, LEAF_OPEN_LEN);
    q += LEAF_OPEN_LEN;
    memcpy(q, c->names + p.from, name_len);
    q += name_len;
    memcpy(q, LEAF_AMOUNT, LEAF_AMOUNT_LEN);
    q += LEAF_AMOUNT_LEN;
    q = write_limbs(q, p.limbs, p.top);
    memcpy(q, "\"},", 3);
    leaf_at += p.leaf_len;
    w->leaf_offsets[i + 1] = (uint32_t)leaf_at;

    uint8_t *e = w->out + at;
    if (i > 0) *e++ = ',';
    memcpy(e, leaf, p.leaf_len - 3);
    e += p.leaf_len - 3;
    memcpy(e, ENTRY_SCORE, ENTRY_SCORE_LEN);
    e += ENTRY_SCORE_LEN;
    e = write_u64(e, p.score, p.score_len);
    e[0] = '"';
    e[1] = '}';
    at += p.entry_len;
  }
  w->leaf_at = leaf_at;
  w->at = at;
}

/**
 * manifestWrite(names, nameOffsets, index | null, amount, score, count, leaves: Uint8Array,
 * leafOffsets: Uint32Array, out: Uint8Array, at): writes each payee's leaf
 * `{"actor":<name>,"amount_minor":"<digits>"},` into `leaves` from 0 (leafOffsets[i + 1] = its
 * end, leafOffsets[0] = 0) and the payouts entries, comma-separated, into out[at..); returns
 * where the entries end. From PARALLEL_MIN payees the second half is written on a second thread
 * (libuv's), which first sizes the first half to know where its own starts: the pages of 150 MB
 * of fresh buffers are faulted in by two cores instead of one.
 */
#define PARALLEL_MIN 65536

napi_value rewarder_manifest_write(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  if (!call_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return NULL;
  if (argc < 10) {
    napi_throw_type_error(env, NULL, "manifestWrite takes 10 arguments");
    return NULL;
  }
  struct payee_columns c;
  if (!columns_in(env, argv, true, &c)) return NULL;
  void *data = NULL;
  size_t leaves_len = 0;
  size_t leaf_offsets_len = 0;
  size_t out_len = 0;
  if (!typed_array(env, argv[6], napi_uint8_array, "leaves must be a Uint8Array", &data, &leaves_len)) return NULL;
  uint8_t *leaves = data;
  if (!typed_array(env, argv[7], napi_uint32_array, "leafOffsets must be a Uint32Array", &data, &leaf_offsets_len)) return NULL;
  uint32_t *leaf_offsets = data;
  if (!typed_array(env, argv[8], napi_uint8_array, "out must be a Uint8Array", &data, &out_len)) return NULL;
  uint8_t *out = data;
  size_t at = 0;
  if (!index_arg(env, argv[9], (double)out_len, "at must be an integer within out", &at)) return NULL;
  if (leaf_offsets_len < c.count + 1 || leaves_len > UINT32_MAX) {
    napi_throw_range_error(env, NULL, "leafOffsets must hold count + 1 offsets and leaves at most 2^32 − 1 bytes");
    return NULL;
  }
  leaf_offsets[0] = 0;
  struct write_part first = {&c, 0, c.count, leaves, leaves_len, leaf_offsets, out, out_len, 0, at, false, 0, 0, WRITE_OK};
  struct write_part second = first;
  bool split = c.count >= PARALLEL_MIN;
  uv_thread_t thread;
  bool threaded = false;
  if (split) {
    first.last = second.first = c.count / 2;
    second.measure = true;
    threaded = uv_thread_create(&thread, write_part, &second) == 0;
  }
  write_part(&first);
  if (split) {
    if (threaded) {
      uv_thread_join(&thread);
    } else {
      write_part(&second);
    }
  }
  enum write_error error = first.error != WRITE_OK ? first.error : split ? second.error : WRITE_OK;
  // The halves meet exactly unless the names or columns changed under the call (shared memory).
  if (error == WRITE_OK && split && (first.leaf_at != second.leaf_start || first.at != second.start)) error = WRITE_MOVED;
  switch (error) {
    case WRITE_OK:
      return number(env, (double)(split ? second.at : first.at));
    case WRITE_NAME:
      napi_throw_range_error(env, NULL, "a payee's name is outside the names");
      return NULL;
    case WRITE_FORM:
      napi_throw_range_error(env, NULL, "an amount or score is not in the calculus's form");
      return NULL;
    case WRITE_ROOM:
      napi_throw_range_error(env, NULL, "leaves or out too small for the payees");
      return NULL;
    default:
      napi_throw_range_error(env, NULL, "the payees changed during the write");
      return NULL;
  }
}

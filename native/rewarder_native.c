// payouts_root (SPEC §5: the RFC 6962 Merkle Tree Hash with BLAKE3) and its audit paths over
// n leaves in one call, with the official BLAKE3 C implementation. src/core/merkle-js.ts is the
// reference this must equal, and the fallback when this addon is not built.
//
// A tree of n leaves of ~60 bytes is n one-block leaf messages (0x00 ‖ data) and n − 1 two-block
// node messages (0x01 ‖ left ‖ right, 65 bytes). BLAKE3's public hasher costs about twice a bare
// compression per message this small, so every message of at most one chunk is framed here
// directly on the library's compression function: one chunk with counter 0 is the root, hashed as
// its blocks chained with CHUNK_START on the first and CHUNK_END | ROOT on the last. The first
// block of every node message is a full 64-byte block from the IV, which is exactly what
// blake3_hash_many computes for many inputs at once with SIMD (up to 16 lanes with AVX-512);
// that batch is what makes this several times faster than hashing message by message. Messages of
// one or two blocks (nodes, and leaves under 128 bytes: nearly all payout leaves) go further:
// their last blocks, a partial block of a length that varies by message, which hash_many cannot
// take, were half of the tree's time one by one, so every block of theirs goes 16 messages at a
// time through blake3_lanes.c (~2.2× faster for XL's 909k leaves). Messages longer than one chunk
// (leaves of 1024 bytes or more) go through the public hasher.
//
// blake3_compress_in_place, blake3_hash_many and IV come from blake3_impl.h, the library's
// internal header: the BLAKE3 sources are pinned with @c4312/blake3-native (BLAKE3 1.3.1), so
// they cannot change under us without a lockfile change, which the tests would catch.
//
// Everything here is synchronous and keeps no state between calls (an incremental hasher's state
// is a buffer its caller holds), so the module is safe to load
// in any number of worker threads (NAPI_MODULE_INIT registers it per context). The one shared
// write is BLAKE3's own CPU-feature cache, which every thread sets to the same value.

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <node_api.h>
#include <uv.h>

#include "blake3.h"
#include "blake3_impl.h"
#include "arrow_tally.h"
#include "napi_args.h"
#include "blake3_lanes.h"
#include "manifest_write.h"
#include "mldsa.h"
#include "share_kernel.h"

#define DIGEST_LEN 32
#define LEAF_PREFIX 0x00
#define NODE_PREFIX 0x01
// offsets has count + 1 uint32 entries, so count + 1 must itself fit in a uint32.
#define MAX_COUNT 4294967294.0
// Node pairs whose first blocks go through one blake3_hash_many call: enough to fill 16 lanes
// several times over, small enough for the stack (64 blocks = 4 KiB).
#define BATCH 64
// A tree of at most 2^32 leaves has paths of at most 32 digests.
#define MAX_PATH 32

static const uint8_t EMPTY[1] = {0};

// ---- hashing

/** Writes b3(prefix ‖ data[0..len)) to out. */
static void hash_prefixed(uint8_t prefix, const uint8_t *data, size_t len, uint8_t out[DIGEST_LEN]) {
  if (len >= BLAKE3_CHUNK_LEN) {
    blake3_hasher hasher;
    blake3_hasher_init(&hasher);
    blake3_hasher_update(&hasher, &prefix, 1);
    blake3_hasher_update(&hasher, data, len);
    blake3_hasher_finalize(&hasher, out, DIGEST_LEN);
    return;
  }
  uint32_t cv[8];
  memcpy(cv, IV, sizeof cv);
  uint8_t block[BLAKE3_BLOCK_LEN];
  uint8_t flags = CHUNK_START;
  // The prefix shifts the data by one byte, so each block is copied out: the prefix and 63 data
  // bytes, then 64 data bytes at a time. Every block but the last is full.
  size_t take = len < BLAKE3_BLOCK_LEN - 1 ? len : BLAKE3_BLOCK_LEN - 1;
  block[0] = prefix;
  memcpy(block + 1, data, take);
  size_t filled = take + 1;
  size_t done = take;
  while (done < len) {
    blake3_compress_in_place(cv, block, BLAKE3_BLOCK_LEN, 0, flags);
    flags = 0;
    take = len - done < BLAKE3_BLOCK_LEN ? len - done : BLAKE3_BLOCK_LEN;
    memcpy(block, data + done, take);
    filled = take;
    done += take;
  }
  memset(block + filled, 0, BLAKE3_BLOCK_LEN - filled);
  blake3_compress_in_place(cv, block, (uint8_t)filled, 0, flags | CHUNK_END | ROOT);
  store_cv_words(out, cv);
}

/**
 * The rest of b3(prefix ‖ data[0..len)) of a one-chunk message whose first block (the prefix and
 * data[0..63)) is already compressed into `cv`: data[done..len) (at least one byte), every block but
 * the last with no flags, the last with CHUNK_END | ROOT. Writes the digest to out.
 */
static void finish_prefixed(uint32_t cv[8], const uint8_t *data, size_t done, size_t len, uint8_t out[DIGEST_LEN]) {
  while (len - done > BLAKE3_BLOCK_LEN) {
    blake3_compress_in_place(cv, data + done, BLAKE3_BLOCK_LEN, 0, 0);
    done += BLAKE3_BLOCK_LEN;
  }
  uint8_t block[BLAKE3_BLOCK_LEN] = {0};
  size_t filled = len - done;
  memcpy(block, data + done, filled);
  blake3_compress_in_place(cv, block, (uint8_t)filled, 0, CHUNK_END | ROOT);
  store_cv_words(out, cv);
}

/** Leaves queued for one blake3_hash_many call over their first blocks (hash_leaves). */
struct leaf_batch {
  uint8_t first[BATCH][BLAKE3_BLOCK_LEN];
  const uint8_t *inputs[BATCH];
  const uint8_t *data[BATCH];
  size_t len[BATCH];
  uint8_t *out[BATCH];
  size_t n;
};

static void flush_leaves(struct leaf_batch *b) {
  if (b->n == 0) return;
  uint8_t cvs[BATCH * DIGEST_LEN];
  // Block 1 of each leaf: 0x00 and its first 63 bytes, from the IV, flags CHUNK_START, counter 0.
  blake3_hash_many(b->inputs, b->n, 1, IV, 0, false, 0, CHUNK_START, 0, cvs);
  for (size_t k = 0; k < b->n; k++) {
    uint32_t cv[8];
    load_key_words(cvs + k * DIGEST_LEN, cv);
    finish_prefixed(cv, b->data[k], BLAKE3_BLOCK_LEN - 1, b->len[k], b->out[k]);
  }
  b->n = 0;
}

/** Leaves of one or two blocks queued for b3_lanes_hash (hash_leaves). */
struct lane_batch {
  const uint8_t *data[B3_LANES];
  size_t len[B3_LANES];
  uint8_t *out[B3_LANES];
  size_t n;
};

static void flush_lanes(struct lane_batch *b, unsigned blocks) {
  if (b->n == 0) return;
  b3_lanes_hash(b->data, b->len, LEAF_PREFIX, b->n, blocks, b->out);
  b->n = 0;
}

/**
 * Hashes leaf i (bytes[offsets[i] .. offsets[i + 1])) into level[i], for i < count. Returns false,
 * having read nothing out of range, when an offset decreases or passes `len`. Each offset is read
 * exactly once (volatile), so offsets in a SharedArrayBuffer that another thread rewrites during
 * the call can change the digests but never move a range past the check that admitted it.
 * Leaves of one or two blocks (payout leaves are ~60–120 bytes) are hashed 16 at a time
 * (b3_lanes_hash); longer ones of one chunk have their first blocks hashed together through
 * BLAKE3's SIMD code, as before.
 */
static bool hash_leaves(const uint8_t *bytes, size_t len, const uint32_t *offsets, size_t count, size_t separator, uint8_t *level) {
  const volatile uint32_t *offs = offsets;
  size_t start = offs[0];
  if (start > len) return false;
  struct leaf_batch batch;
  batch.n = 0;
  // By block count (index 0: one block, 1: two).
  struct lane_batch lanes[2];
  lanes[0].n = 0;
  lanes[1].n = 0;
  for (size_t i = 0; i < count; i++) {
    size_t end = offs[i + 1];
    if (end < start || end > len || end - start < separator) {
      flush_leaves(&batch);
      flush_lanes(&lanes[0], 1);
      flush_lanes(&lanes[1], 2);
      return false;
    }
    size_t data_len = end - start - separator;
    if (data_len < 2 * BLAKE3_BLOCK_LEN) {
      unsigned blocks = data_len < BLAKE3_BLOCK_LEN ? 1 : 2;
      struct lane_batch *b = &lanes[blocks - 1];
      size_t k = b->n++;
      b->data[k] = bytes + start;
      b->len[k] = data_len;
      b->out[k] = level + i * DIGEST_LEN;
      if (b->n == B3_LANES) flush_lanes(b, blocks);
    } else if (data_len < BLAKE3_CHUNK_LEN) {
      size_t k = batch.n++;
      batch.first[k][0] = LEAF_PREFIX;
      memcpy(batch.first[k] + 1, bytes + start, BLAKE3_BLOCK_LEN - 1);
      batch.inputs[k] = batch.first[k];
      batch.data[k] = bytes + start;
      batch.len[k] = data_len;
      batch.out[k] = level + i * DIGEST_LEN;
      if (batch.n == BATCH) flush_leaves(&batch);
    } else {
      hash_prefixed(LEAF_PREFIX, bytes + start, data_len, level + i * DIGEST_LEN);
    }
    start = end;
  }
  flush_leaves(&batch);
  flush_lanes(&lanes[0], 1);
  flush_lanes(&lanes[1], 2);
  return true;
}

/**
 * Replaces the first `size` digests of `level` by the next level up (pairs hashed as
 * 0x01 ‖ left ‖ right, an odd last node carried up unchanged) and returns its size. Node i is
 * written after nodes 2i and 2i + 1 were read, so the level is overwritten in place: each group
 * of B3_LANES pairs is read whole by b3_lanes_hash before it writes any of the group's nodes.
 */
static size_t fold_level(uint8_t *level, size_t size) {
  size_t pairs = size / 2;
  const uint8_t *data[B3_LANES];
  size_t len[B3_LANES];
  uint8_t *out[B3_LANES];
  for (size_t k = 0; k < B3_LANES; k++) len[k] = 2 * DIGEST_LEN;
  for (size_t g = 0; g < pairs; g += B3_LANES) {
    size_t n = pairs - g < B3_LANES ? pairs - g : B3_LANES;
    for (size_t k = 0; k < n; k++) {
      data[k] = level + (g + k) * 2 * DIGEST_LEN;
      out[k] = level + (g + k) * DIGEST_LEN;
    }
    b3_lanes_hash(data, len, NODE_PREFIX, n, 2, out);
  }
  if (size & 1) memmove(level + pairs * DIGEST_LEN, level + (size - 1) * DIGEST_LEN, DIGEST_LEN);
  return pairs + (size & 1);
}

// ---- arguments

struct ranges {
  const uint8_t *bytes;
  size_t len;
  const uint32_t *offsets;
  size_t count;
  /** Bytes at the end of each range that are not part of its leaf (e.g. a JSON comma). */
  size_t separator;
};

/** Reads (bytes: Uint8Array, offsets: Uint32Array, count) from argv[0..3). */
static bool read_ranges(napi_env env, napi_value *argv, struct ranges *r) {
  void *bytes = NULL;
  void *offsets = NULL;
  size_t offsets_len = 0;
  if (!typed_array(env, argv[0], napi_uint8_array, "bytes must be a Uint8Array", &bytes, &r->len)) return false;
  if (!typed_array(env, argv[1], napi_uint32_array, "offsets must be a Uint32Array", &offsets, &offsets_len)) {
    return false;
  }
  napi_valuetype type;
  if (!call_ok(env, napi_typeof(env, argv[2], &type))) return false;
  if (type != napi_number) {
    napi_throw_type_error(env, NULL, "count must be a number");
    return false;
  }
  double count = 0;
  if (!call_ok(env, napi_get_value_double(env, argv[2], &count))) return false;
  // Written so that NaN fails too; the cast is exact for integers in range.
  if (!(count >= 0 && count <= MAX_COUNT) || (double)(uint64_t)count != count) {
    napi_throw_range_error(env, NULL, "count must be an integer from 0 to 4294967294");
    return false;
  }
  r->count = (size_t)count;
  if (offsets_len != r->count + 1) {
    napi_throw_range_error(env, NULL, "offsets must have count + 1 entries");
    return false;
  }
  // Empty or detached buffers may have no data pointer; offsets into them are all 0 if valid.
  r->bytes = bytes != NULL ? bytes : EMPTY;
  r->offsets = offsets;
  r->separator = 0;
  return true;
}

/** A new Uint8Array holding a copy of data[0..len). */
static napi_value new_bytes(napi_env env, const uint8_t *data, size_t len) {
  void *store = NULL;
  napi_value buffer;
  napi_value array;
  if (!call_ok(env, napi_create_arraybuffer(env, len, &store, &buffer))) return NULL;
  if (len > 0) memcpy(store, data, len);
  if (!call_ok(env, napi_create_typedarray(env, napi_uint8_array, len, buffer, 0, &array))) return NULL;
  return array;
}

/** The leaf level of `r` in a new buffer, or NULL with a pending exception. */
static uint8_t *leaf_level(napi_env env, const struct ranges *r) {
  uint8_t *level = r->count <= SIZE_MAX / DIGEST_LEN ? malloc(r->count * DIGEST_LEN) : NULL;
  if (level == NULL) {
    napi_throw_range_error(env, NULL, "not enough memory for a tree of this many leaves");
    return NULL;
  }
  if (!hash_leaves(r->bytes, r->len, r->offsets, r->count, r->separator, level)) {
    free(level);
    napi_throw_range_error(env, NULL, "offsets must be non-decreasing and within bytes, each range at least its separator long");
    return NULL;
  }
  return level;
}

// ---- two threads for a large root
//
// RFC 6962 splits a tree of n leaves at k, the largest power of two below n: MTH = H(0x01 ‖
// MTH(first k) ‖ MTH(rest)). The two subtrees share nothing, so above PARALLEL_MIN leaves the
// rest is hashed on a second thread (libuv's, so portable) while this one hashes the first k, each
// into its own part of the level buffer: at XL's 909k payees this spends the core the pool
// worker's caller leaves idle during a compute. The bytes are the same either way (the tree tests
// compare both sides of the threshold with the TypeScript tree).
#define PARALLEL_MIN 65536

struct subtree {
  struct ranges r;
  uint8_t *level;
  bool ok;
};

static void subtree_root(void *arg) {
  struct subtree *t = arg;
  t->ok = hash_leaves(t->r.bytes, t->r.len, t->r.offsets, t->r.count, t->r.separator, t->level);
  if (t->ok) {
    for (size_t size = t->r.count; size > 1;) size = fold_level(t->level, size);
  }
}

/** MTH of r's leaves (count ≥ 2) into digest, the two subtrees on two threads; false for bad offsets. */
static bool parallel_root(const struct ranges *r, uint8_t *level, uint8_t digest[DIGEST_LEN]) {
  size_t k = 1;
  while (k * 2 < r->count) k *= 2;
  struct subtree left = {*r, level, false};
  left.r.count = k;
  struct subtree right = {*r, level + k * DIGEST_LEN, false};
  right.r.offsets = r->offsets + k;
  right.r.count = r->count - k;
  uv_thread_t thread;
  bool threaded = uv_thread_create(&thread, subtree_root, &right) == 0;
  subtree_root(&left);
  if (threaded) {
    uv_thread_join(&thread);
  } else {
    subtree_root(&right);
  }
  if (!left.ok || !right.ok) return false;
  // The left root is level[0], the right one level[k]: side by side, they are the node's message.
  memcpy(level + DIGEST_LEN, level + k * DIGEST_LEN, DIGEST_LEN);
  const uint8_t *data[1] = {level};
  size_t len[1] = {2 * DIGEST_LEN};
  uint8_t *out[1] = {digest};
  b3_lanes_hash(data, len, NODE_PREFIX, 1, 2, out);
  return true;
}

// ---- exports

/** root(bytes, offsets, count[, separator]): the 32-byte MTH of the leaves; b3("") for count 0. */
static napi_value root(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (!call_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return NULL;
  struct ranges r;
  if (!read_ranges(env, argv, &r)) return NULL;
  // Optional separator: absent or undefined is 0, else an integer 0..255.
  napi_valuetype sep_type = napi_undefined;
  if (argc >= 4 && !call_ok(env, napi_typeof(env, argv[3], &sep_type))) return NULL;
  if (sep_type != napi_undefined) {
    double sep = -1;
    if (sep_type == napi_number && !call_ok(env, napi_get_value_double(env, argv[3], &sep))) return NULL;
    if (!(sep >= 0 && sep <= 255) || (double)(size_t)sep != sep) {
      napi_throw_range_error(env, NULL, "separator must be an integer from 0 to 255");
      return NULL;
    }
    r.separator = (size_t)sep;
  }
  uint8_t digest[DIGEST_LEN];
  if (r.count == 0) {
    // Still checks offsets[0] against bytes, as for any other tree.
    if (*(const volatile uint32_t *)r.offsets > r.len) {
      napi_throw_range_error(env, NULL, "offsets must be non-decreasing and within bytes");
      return NULL;
    }
    blake3_hasher hasher;
    blake3_hasher_init(&hasher);
    blake3_hasher_finalize(&hasher, digest, DIGEST_LEN);
  } else if (r.count >= PARALLEL_MIN) {
    uint8_t *level = r.count <= SIZE_MAX / DIGEST_LEN ? malloc(r.count * DIGEST_LEN) : NULL;
    if (level == NULL) {
      napi_throw_range_error(env, NULL, "not enough memory for a tree of this many leaves");
      return NULL;
    }
    bool done = parallel_root(&r, level, digest);
    free(level);
    if (!done) {
      napi_throw_range_error(env, NULL, "offsets must be non-decreasing and within bytes, each range at least its separator long");
      return NULL;
    }
  } else {
    uint8_t *level = leaf_level(env, &r);
    if (level == NULL) return NULL;
    for (size_t size = r.count; size > 1;) size = fold_level(level, size);
    memcpy(digest, level, DIGEST_LEN);
    free(level);
  }
  return new_bytes(env, digest, DIGEST_LEN);
}

/** auditPath(bytes, offsets, count, index): RFC 6962 PATH(index), its digests concatenated. */
static napi_value audit_path(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (!call_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return NULL;
  struct ranges r;
  if (!read_ranges(env, argv, &r)) return NULL;
  // Like auditPath in TypeScript: anything that is not an index of the tree is a RangeError.
  napi_valuetype type;
  if (!call_ok(env, napi_typeof(env, argv[3], &type))) return NULL;
  double index = -1;
  if (type == napi_number && !call_ok(env, napi_get_value_double(env, argv[3], &index))) return NULL;
  if (type != napi_number || !(index >= 0 && index < (double)r.count) || (double)(uint64_t)index != index) {
    char message[96];
    if (type == napi_number) {
      snprintf(message, sizeof message, "auditPath: index %.17g is outside a tree of %zu leaves", index, r.count);
    } else {
      snprintf(message, sizeof message, "auditPath: index is not a number");
    }
    napi_throw_range_error(env, NULL, message);
    return NULL;
  }
  uint8_t *level = leaf_level(env, &r);
  if (level == NULL) return NULL;
  uint8_t path[MAX_PATH * DIGEST_LEN];
  size_t depth = 0;
  for (size_t size = r.count, i = (size_t)index; size > 1; i >>= 1) {
    size_t sibling = i ^ 1;
    // The last node of an odd level has no sibling: it is carried up and adds nothing to the path.
    if (sibling < size) memcpy(path + DIGEST_LEN * depth++, level + sibling * DIGEST_LEN, DIGEST_LEN);
    size = fold_level(level, size);
  }
  free(level);
  return new_bytes(env, path, depth * DIGEST_LEN);
}

/**
 * blake3(bytes): the 32-byte BLAKE3-256 digest of a Uint8Array (of its view: pass a subarray for a
 * range). Here rather than through @c4312/blake3-native because that addon's createHash() ends the
 * process (Napi::Error::Fatal from an empty Maybe) when it is called while the thread is being
 * terminated, which is what a compute worker is when its task is aborted mid-run; every N-API
 * failure here is a pending exception instead.
 */
static napi_value digest(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (!call_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return NULL;
  void *bytes = NULL;
  size_t len = 0;
  // A missing argument is undefined (napi_get_cb_info fills the rest), refused like any non-array.
  if (!typed_array(env, argv[0], napi_uint8_array, "bytes must be a Uint8Array", &bytes, &len)) return NULL;
  blake3_hasher hasher;
  blake3_hasher_init(&hasher);
  // Empty or detached buffers may have no data pointer.
  if (len > 0) blake3_hasher_update(&hasher, bytes, len);
  uint8_t out[DIGEST_LEN];
  blake3_hasher_finalize(&hasher, out, DIGEST_LEN);
  return new_bytes(env, out, DIGEST_LEN);
}

// ---- the SPEC §12 claim tree: OpenZeppelin's StandardMerkleTree over keccak-256
//
// The same algorithm as src/core/exports.ts (buildClaimTree), which is the reference this must
// equal and the fallback without this addon: leaf = keccak256(keccak256(abi.encode(actor,
// amount))), leaves sorted by hash (ties by payee order), placed reversed at the end of the node
// array, each inner node the keccak256 of its two children in ascending byte order. A million
// payees are three million keccak permutations: seconds in TypeScript, a fraction of one here.
// Keccak-f[1600] with the 25 lanes in local variables (a<x><y> is lane x + 5y), one round per
// loop pass written out: θ's column parities c and their mixes d, then ρ and π together into b
// (b at (y, 2x + 3y) is a at (x, y) rotated), then χ back into a, then ι. Written for this file from
// the Keccak reference (FIPS 202 §3.2); the tests compare it with @noble/hashes on random lengths.

static const uint64_t KECCAK_RC[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL};
#define ROTL64(x, y) (((x) << (y)) | ((x) >> (64 - (y))))
#define KECCAK_RATE 136

/** The little-endian 64-bit word at p on any host (one load on little-endian ones, at -O2 and above). */
static inline uint64_t load64_le(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

#define KECCAK_ROUND(T, rc) \
  T c0 = a00 ^ a01 ^ a02 ^ a03 ^ a04; \
  T c1 = a10 ^ a11 ^ a12 ^ a13 ^ a14; \
  T c2 = a20 ^ a21 ^ a22 ^ a23 ^ a24; \
  T c3 = a30 ^ a31 ^ a32 ^ a33 ^ a34; \
  T c4 = a40 ^ a41 ^ a42 ^ a43 ^ a44; \
  T d0 = c4 ^ ROTL64(c1, 1); \
  T d1 = c0 ^ ROTL64(c2, 1); \
  T d2 = c1 ^ ROTL64(c3, 1); \
  T d3 = c2 ^ ROTL64(c4, 1); \
  T d4 = c3 ^ ROTL64(c0, 1); \
  T b00 = (a00 ^ d0); T b01 = ROTL64(a30 ^ d3, 28); T b02 = ROTL64(a10 ^ d1, 1); T b03 = ROTL64(a40 ^ d4, 27); T b04 = ROTL64(a20 ^ d2, 62); \
  T b10 = ROTL64(a11 ^ d1, 44); T b11 = ROTL64(a41 ^ d4, 20); T b12 = ROTL64(a21 ^ d2, 6); T b13 = ROTL64(a01 ^ d0, 36); T b14 = ROTL64(a31 ^ d3, 55); \
  T b20 = ROTL64(a22 ^ d2, 43); T b21 = ROTL64(a02 ^ d0, 3); T b22 = ROTL64(a32 ^ d3, 25); T b23 = ROTL64(a12 ^ d1, 10); T b24 = ROTL64(a42 ^ d4, 39); \
  T b30 = ROTL64(a33 ^ d3, 21); T b31 = ROTL64(a13 ^ d1, 45); T b32 = ROTL64(a43 ^ d4, 8); T b33 = ROTL64(a23 ^ d2, 15); T b34 = ROTL64(a03 ^ d0, 41); \
  T b40 = ROTL64(a44 ^ d4, 14); T b41 = ROTL64(a24 ^ d2, 61); T b42 = ROTL64(a04 ^ d0, 18); T b43 = ROTL64(a34 ^ d3, 56); T b44 = ROTL64(a14 ^ d1, 2); \
  a00 = b00 ^ (~b10 & b20); a10 = b10 ^ (~b20 & b30); a20 = b20 ^ (~b30 & b40); a30 = b30 ^ (~b40 & b00); a40 = b40 ^ (~b00 & b10); \
  a01 = b01 ^ (~b11 & b21); a11 = b11 ^ (~b21 & b31); a21 = b21 ^ (~b31 & b41); a31 = b31 ^ (~b41 & b01); a41 = b41 ^ (~b01 & b11); \
  a02 = b02 ^ (~b12 & b22); a12 = b12 ^ (~b22 & b32); a22 = b22 ^ (~b32 & b42); a32 = b32 ^ (~b42 & b02); a42 = b42 ^ (~b02 & b12); \
  a03 = b03 ^ (~b13 & b23); a13 = b13 ^ (~b23 & b33); a23 = b23 ^ (~b33 & b43); a33 = b33 ^ (~b43 & b03); a43 = b43 ^ (~b03 & b13); \
  a04 = b04 ^ (~b14 & b24); a14 = b14 ^ (~b24 & b34); a24 = b24 ^ (~b34 & b44); a34 = b34 ^ (~b44 & b04); a44 = b44 ^ (~b04 & b14); \
  a00 ^= (rc);

// The state in and out of the 25 locals a<x><y> (lane x + 5y), for the scalar and the vector type.
#define KECCAK_LOAD(T, st) \
  T a00 = st[0], a10 = st[1], a20 = st[2], a30 = st[3], a40 = st[4]; \
  T a01 = st[5], a11 = st[6], a21 = st[7], a31 = st[8], a41 = st[9]; \
  T a02 = st[10], a12 = st[11], a22 = st[12], a32 = st[13], a42 = st[14]; \
  T a03 = st[15], a13 = st[16], a23 = st[17], a33 = st[18], a43 = st[19]; \
  T a04 = st[20], a14 = st[21], a24 = st[22], a34 = st[23], a44 = st[24]
#define KECCAK_STORE(st) \
  st[0] = a00, st[1] = a10, st[2] = a20, st[3] = a30, st[4] = a40; \
  st[5] = a01, st[6] = a11, st[7] = a21, st[8] = a31, st[9] = a41; \
  st[10] = a02, st[11] = a12, st[12] = a22, st[13] = a32, st[14] = a42; \
  st[15] = a03, st[16] = a13, st[17] = a23, st[18] = a33, st[19] = a43; \
  st[20] = a04, st[21] = a14, st[22] = a24, st[23] = a34, st[24] = a44

static void keccakf(uint64_t st[25]) {
  KECCAK_LOAD(uint64_t, st);
  for (int r = 0; r < 24; r++) {
    KECCAK_ROUND(uint64_t, KECCAK_RC[r])
  }
  KECCAK_STORE(st);
}

/** Ethereum's keccak256 (the original Keccak padding 0x01, not SHA-3's 0x06) of data[0..len). */
static void keccak256(const uint8_t *data, size_t len, uint8_t out[32]) {
  uint64_t st[25] = {0};
  // Lanes are little-endian whatever the host (load64_le).
  while (len >= KECCAK_RATE) {
    for (size_t i = 0; i < KECCAK_RATE / 8; i++) st[i] ^= load64_le(data + 8 * i);
    keccakf(st);
    data += KECCAK_RATE;
    len -= KECCAK_RATE;
  }
  size_t words = len / 8;
  for (size_t i = 0; i < words; i++) st[i] ^= load64_le(data + 8 * i);
  for (size_t i = 8 * words; i < len; i++) st[i / 8] ^= (uint64_t)data[i] << (8 * (i % 8));
  st[len / 8] ^= (uint64_t)0x01 << (8 * (len % 8));
  st[(KECCAK_RATE - 1) / 8] ^= (uint64_t)0x80 << (8 * ((KECCAK_RATE - 1) % 8));
  keccakf(st);
  for (size_t i = 0; i < 32; i++) out[i] = (uint8_t)(st[i / 8] >> (8 * (i % 8)));
}

/** The 17 little-endian words of one rate block: data[0..len), padded when `last` (len < 136). */
static void keccak_block(const uint8_t *data, size_t len, bool last, uint64_t w[KECCAK_RATE / 8]) {
  if (!last) {
    for (size_t i = 0; i < KECCAK_RATE / 8; i++) w[i] = load64_le(data + 8 * i);
    return;
  }
  memset(w, 0, KECCAK_RATE);
  size_t words = len / 8;
  for (size_t i = 0; i < words; i++) w[i] = load64_le(data + 8 * i);
  for (size_t i = 8 * words; i < len; i++) w[i / 8] |= (uint64_t)data[i] << (8 * (i % 8));
  w[len / 8] ^= (uint64_t)0x01 << (8 * (len % 8));
  w[(KECCAK_RATE - 1) / 8] ^= (uint64_t)0x80 << (8 * ((KECCAK_RATE - 1) % 8));
}

// Four messages at once: the same permutation on vectors of four lanes (GCC/Clang vector
// extensions), one message per vector element, for the claim tree's leaves and nodes, which are
// independent within a level. With AVX2 (chosen at run time: no -march, see binding.gyp) that is
// ~2.5× the scalar throughput; elsewhere the compiler's split of the vectors, close to scalar.
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__aarch64__))
#define KECCAK_X4 1
typedef uint64_t keccak_lanes4 __attribute__((vector_size(32)));

static inline __attribute__((always_inline)) void keccakf_x4_body(keccak_lanes4 st[25]) {
  KECCAK_LOAD(keccak_lanes4, st);
  for (int r = 0; r < 24; r++) {
    KECCAK_ROUND(keccak_lanes4, KECCAK_RC[r])
  }
  KECCAK_STORE(st);
}

static void keccakf_x4_base(keccak_lanes4 st[25]) { keccakf_x4_body(st); }
#if defined(__x86_64__)
__attribute__((target("avx2"))) static void keccakf_x4_avx2(keccak_lanes4 st[25]) { keccakf_x4_body(st); }
#endif

static void keccakf_x4(keccak_lanes4 st[25]) {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2")) {
    keccakf_x4_avx2(st);
    return;
  }
#endif
  keccakf_x4_base(st);
}

/** keccak256 of four messages whose lengths have the same len / 136 (the same number of blocks). */
static void keccak256_x4(const uint8_t *const data[4], const size_t len[4], uint8_t *const out[4]) {
  keccak_lanes4 st[25];
  memset(st, 0, sizeof st);
  size_t blocks = len[0] / KECCAK_RATE + 1;
  for (size_t b = 0; b < blocks; b++) {
    bool last = b + 1 == blocks;
    for (int m = 0; m < 4; m++) {
      uint64_t w[KECCAK_RATE / 8];
      keccak_block(data[m] + b * KECCAK_RATE, last ? len[m] - b * KECCAK_RATE : KECCAK_RATE, last, w);
      for (size_t i = 0; i < KECCAK_RATE / 8; i++) st[i][m] ^= w[i];
    }
    keccakf_x4(st);
  }
  for (int m = 0; m < 4; m++) {
    for (size_t i = 0; i < 32; i++) out[m][i] = (uint8_t)(st[i / 8][m] >> (8 * (i % 8)));
  }
}
#endif

/** keccak256(data, len): Ethereum's keccak-256 of a Uint8Array (tests compare it with @noble/hashes). */
static napi_value keccak256_js(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (!call_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return NULL;
  void *data = NULL;
  size_t len = 0;
  if (argc < 1 || !typed_array(env, argv[0], napi_uint8_array, "data must be a Uint8Array", &data, &len)) return NULL;
  uint8_t out[32];
  keccak256(data, len, out);
  return new_bytes(env, out, 32);
}

struct claim_leaf {
  uint8_t hash[32];
  uint32_t payee;
};

static int compare_leaves(const void *a, const void *b) {
  const struct claim_leaf *x = a;
  const struct claim_leaf *y = b;
  int c = memcmp(x->hash, y->hash, 32);
  if (c != 0) return c;
  return x->payee < y->payee ? -1 : x->payee > y->payee ? 1 : 0;
}

// From CLAIM_PARALLEL_MIN items (leaves, or inner nodes of one tree level) the work is split in two
// halves, the second on a libuv thread (as parallel_root above and manifest_write.c do): the
// hashes are independent within a level, so the bytes are the same either way, and the tests
// compare trees on both sides of the threshold with the TypeScript tree. Lower than PARALLEL_MIN
// because a keccak permutation costs ~10× a BLAKE3 compression: 8,192 items are ~3 ms of work.
#define CLAIM_PARALLEL_MIN 8192

struct claim_job {
  const struct ranges *r;
  struct claim_leaf *leaves;
  uint8_t *nodes;
  size_t from, to;
  /** With spans (claimTreeOfSpans): 6 offsets a payee into r->bytes, and 4 scratch messages of stride bytes. */
  const uint32_t *spans;
  uint8_t *scratch;
  size_t stride;
  /** Set when an amount exceeds 2^256 − 1. */
  bool overflow;
};

/** The decimal digits[0..len) as a big-endian uint256 into out[0..32) (zeros); false above 2^256 − 1. */
static bool uint256_be(const uint8_t *digits, size_t len, uint8_t out[32]) {
  if (len <= 19) {
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) v = 10 * v + (uint64_t)(digits[i] - '0');
    for (int k = 31; v > 0; k--, v >>= 8) out[k] = (uint8_t)v;
    return true;
  }
  for (size_t i = 0; i < len; i++) {
    unsigned carry = (unsigned)(digits[i] - '0');
    for (int k = 31; k >= 0; k--) {
      unsigned t = out[k] * 10u + carry;
      out[k] = (uint8_t)t;
      carry = t >> 8;
    }
    if (carry != 0) return false;
  }
  return true;
}

/** Leaf i's abi.encode(actor, amount): its range of r, or written from its spans into scratch `slot`. */
static bool leaf_message(struct claim_job *j, size_t i, int slot, const uint8_t **data, size_t *len) {
  if (j->spans == NULL) {
    *data = j->r->bytes + j->r->offsets[i];
    *len = j->r->offsets[i + 1] - j->r->offsets[i];
    return true;
  }
  const uint32_t *sp = j->spans + 6 * i;
  const uint8_t *bytes = j->r->bytes;
  uint8_t *out = j->scratch + (size_t)slot * j->stride;
  size_t actor = sp[1] - sp[0];
  size_t total = 96 + 32 * ((actor + 31) / 32);
  memset(out, 0, total);
  out[31] = 0x40;
  if (!uint256_be(bytes + sp[2], sp[3] - sp[2], out + 32)) return false;
  for (size_t k = 95, m = actor; k >= 64 && m > 0; k--, m >>= 8) out[k] = (uint8_t)m;
  memcpy(out + 96, bytes + sp[0], actor);
  *data = out;
  *len = total;
  return true;
}

/** Leaves from..to: keccak256(keccak256(abi.encode)) (offsets already checked). */
static void claim_leaves_part(void *arg) {
  struct claim_job *j = arg;
  size_t i = j->from;
#ifdef KECCAK_X4
  // Four leaves at a time while their encodings have as many blocks (nearly always: ids < 40 bytes).
  for (; i + 4 <= j->to; i += 4) {
    uint8_t inner[4][32];
    const uint8_t *data[4];
    size_t len[4];
    uint8_t *out[4];
    bool same = true;
    for (int m = 0; m < 4; m++) {
      if (!leaf_message(j, i + m, m, &data[m], &len[m])) {
        j->overflow = true;
        return;
      }
      same = same && len[m] / KECCAK_RATE == len[0] / KECCAK_RATE;
    }
    if (!same) {
      for (int m = 0; m < 4; m++) keccak256(data[m], len[m], inner[m]);
    } else {
      for (int m = 0; m < 4; m++) out[m] = inner[m];
      keccak256_x4(data, len, out);
    }
    for (int m = 0; m < 4; m++) {
      data[m] = inner[m];
      len[m] = 32;
      out[m] = j->leaves[i + m].hash;
      j->leaves[i + m].payee = (uint32_t)(i + m);
    }
    keccak256_x4(data, len, out);
  }
#endif
  for (; i < j->to; i++) {
    uint8_t inner[32];
    const uint8_t *data;
    size_t len;
    if (!leaf_message(j, i, 0, &data, &len)) {
      j->overflow = true;
      return;
    }
    keccak256(data, len, inner);
    keccak256(inner, 32, j->leaves[i].hash);
    j->leaves[i].payee = (uint32_t)i;
  }
}

/** Node i's children 2i + 1 and 2i + 2 side by side into pair, the smaller (bytewise) first. */
static void sorted_pair(const uint8_t *nodes, size_t i, uint8_t pair[64]) {
  const uint8_t *l = nodes + 32 * (2 * i + 1);
  const uint8_t *r = nodes + 32 * (2 * i + 2);
  bool left_first = memcmp(l, r, 32) <= 0;
  memcpy(pair, left_first ? l : r, 32);
  memcpy(pair + 32, left_first ? r : l, 32);
}

/** Inner nodes from..to (their children already hashed): keccak256 of the two, smaller first. */
static void claim_nodes_part(void *arg) {
  struct claim_job *j = arg;
  uint8_t pairs[4][64];
  size_t i = j->from;
#ifdef KECCAK_X4
  for (; i + 4 <= j->to; i += 4) {
    const uint8_t *data[4];
    size_t len[4];
    uint8_t *out[4];
    for (int m = 0; m < 4; m++) {
      sorted_pair(j->nodes, i + m, pairs[m]);
      data[m] = pairs[m];
      len[m] = 64;
      out[m] = j->nodes + 32 * (i + m);
    }
    keccak256_x4(data, len, out);
  }
#endif
  for (; i < j->to; i++) {
    sorted_pair(j->nodes, i, pairs[0]);
    keccak256(pairs[0], 64, j->nodes + 32 * i);
  }
}

/** fn over job's from..to, the second half on another thread when the range is large; false on overflow. */
static bool claim_split(void (*fn)(void *), struct claim_job job) {
  if (job.to - job.from < CLAIM_PARALLEL_MIN) {
    fn(&job);
    return !job.overflow;
  }
  struct claim_job second = job;
  second.from = job.from + (job.to - job.from) / 2;
  // Its own four scratch messages (the scratch holds eight).
  if (job.scratch != NULL) second.scratch = job.scratch + 4 * job.stride;
  job.to = second.from;
  uv_thread_t thread;
  bool threaded = uv_thread_create(&thread, fn, &second) == 0;
  fn(&job);
  if (threaded) {
    uv_thread_join(&thread);
  } else {
    fn(&second);
  }
  return !job.overflow && !second.overflow;
}

/**
 * Sorts leaves[0..n) by (hash, payee) into sorted: a stable counting pass on the hashes' first
 * two bytes (uniform keccak output, so ~n / 65,536 leaves a bucket), then each bucket sorted
 * alone, by insertion when small and by qsort when not (crafted actor ids can crowd a bucket).
 */
static bool sort_leaves(const struct claim_leaf *leaves, size_t n, struct claim_leaf *sorted) {
  uint32_t *start = calloc(65537, sizeof *start);
  if (start == NULL) return false;
  for (size_t i = 0; i < n; i++) start[((leaves[i].hash[0] << 8) | leaves[i].hash[1]) + 1]++;
  for (size_t b = 0; b < 65536; b++) start[b + 1] += start[b];
  uint32_t *next = malloc(65536 * sizeof *next);
  if (next == NULL) {
    free(start);
    return false;
  }
  memcpy(next, start, 65536 * sizeof *next);
  // In payee order, so equal hashes stay in payee order (and insertion sort keeps that).
  for (size_t i = 0; i < n; i++) sorted[next[(leaves[i].hash[0] << 8) | leaves[i].hash[1]]++] = leaves[i];
  free(next);
  for (size_t b = 0; b < 65536; b++) {
    struct claim_leaf *bucket = sorted + start[b];
    size_t size = start[b + 1] - start[b];
    if (size > 32) {
      qsort(bucket, size, sizeof *bucket, compare_leaves);
      continue;
    }
    for (size_t i = 1; i < size; i++) {
      struct claim_leaf x = bucket[i];
      size_t k = i;
      for (; k > 0 && compare_leaves(&bucket[k - 1], &x) > 0; k--) bucket[k] = bucket[k - 1];
      bucket[k] = x;
    }
  }
  free(start);
  return true;
}

/** nodes (2n − 1 of them) and tree_index from n leaves described by job (from 0 to n); false with a pending exception. */
static bool claim_tree_build(napi_env env, struct claim_job job, size_t n, uint8_t *nodes, uint32_t *tree_index) {
  struct claim_leaf *leaves = malloc(n * sizeof *leaves);
  struct claim_leaf *sorted = malloc(n * sizeof *sorted);
  if (leaves == NULL || sorted == NULL) {
    free(leaves);
    free(sorted);
    napi_throw_range_error(env, NULL, "not enough memory for a claim tree of this many leaves");
    return false;
  }
  job.leaves = leaves;
  job.from = 0;
  job.to = n;
  if (!claim_split(claim_leaves_part, job)) {
    free(leaves);
    free(sorted);
    napi_throw_range_error(env, NULL, "amount exceeds uint256");
    return false;
  }
  bool sorted_ok = sort_leaves(leaves, n, sorted);
  free(leaves);
  if (!sorted_ok) {
    free(sorted);
    napi_throw_range_error(env, NULL, "not enough memory for a claim tree of this many leaves");
    return false;
  }
  size_t size = 2 * n - 1;
  for (size_t k = 0; k < n; k++) {
    size_t at = size - 1 - k;
    memcpy(nodes + 32 * at, sorted[k].hash, 32);
    tree_index[sorted[k].payee] = (uint32_t)at;
  }
  free(sorted);
  // Inner nodes are 0 .. n − 2, node i's children 2i + 1 and 2i + 2: a level (depth d, nodes
  // 2^d − 1 .. 2^(d+1) − 2) depends only on the one below it, so levels go deepest first and the
  // nodes within one are independent.
  size_t inner_count = n - 1;
  size_t depth_start = 0;
  while (2 * depth_start + 1 < inner_count) depth_start = 2 * depth_start + 1;
  for (;;) {
    size_t end = 2 * depth_start + 1 < inner_count ? 2 * depth_start + 1 : inner_count;
    if (depth_start < end) claim_split(claim_nodes_part, (struct claim_job){job.r, NULL, nodes, depth_start, end, NULL, NULL, 0, false});
    if (depth_start == 0) break;
    depth_start = (depth_start - 1) / 2;
  }
  return true;
}

/** Reads argv[3..5) (nodes, treeIndex) for a tree of n leaves; false with a pending exception. */
static bool tree_outputs(napi_env env, napi_value *argv, size_t n, uint8_t **nodes, uint32_t **tree_index) {
  void *nodes_data = NULL;
  size_t nodes_len = 0;
  void *index_data = NULL;
  size_t index_len = 0;
  if (!typed_array(env, argv[3], napi_uint8_array, "nodes must be a Uint8Array", &nodes_data, &nodes_len)) return false;
  if (!typed_array(env, argv[4], napi_uint32_array, "treeIndex must be a Uint32Array", &index_data, &index_len)) return false;
  if (n == 0 || nodes_len != (2 * n - 1) * 32 || index_len != n) {
    napi_throw_range_error(env, NULL, "a claim tree needs count >= 1, nodes of (2·count − 1)·32 bytes and count tree indexes");
    return false;
  }
  *nodes = nodes_data;
  *tree_index = index_data;
  return true;
}

/**
 * claimTree(abi, offsets, count, nodes, treeIndex): leaf i is abi[offsets[i] .. offsets[i+1]) (its
 * abi.encode); writes the 2·count − 1 nodes (32 bytes each, node 0 the root) into `nodes` and each
 * payee's node index into `treeIndex`.
 */
static napi_value claim_tree(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (!call_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return NULL;
  struct ranges r;
  if (!read_ranges(env, argv, &r)) return NULL;
  uint8_t *nodes = NULL;
  uint32_t *tree_index = NULL;
  if (!tree_outputs(env, argv, r.count, &nodes, &tree_index)) return NULL;
  for (size_t i = 0; i < r.count; i++) {
    if (r.offsets[i] > r.offsets[i + 1] || r.offsets[i + 1] > r.len) {
      napi_throw_range_error(env, NULL, "offsets must be non-decreasing and within bytes");
      return NULL;
    }
  }
  claim_tree_build(env, (struct claim_job){&r, NULL, NULL, 0, 0, NULL, NULL, 0, false}, r.count, nodes, tree_index);
  return NULL;
}

/**
 * claimTreeOfSpans(bytes, spans, count, nodes, treeIndex): claimTree with each leaf's abi.encode
 * written here from payee i's spans of bytes (spans[6i .. 6i+4): actor start, end, amount start,
 * end; amounts decimal digits), as exports.ts's abiEncodeClaims would: no encodings array.
 */
static napi_value claim_tree_of_spans(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (!call_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return NULL;
  if (argc < 5) {
    napi_throw_type_error(env, NULL, "claimTreeOfSpans(bytes, spans, count, nodes, treeIndex)");
    return NULL;
  }
  void *bytes = NULL;
  size_t len = 0;
  void *spans_data = NULL;
  size_t spans_len = 0;
  if (!typed_array(env, argv[0], napi_uint8_array, "bytes must be a Uint8Array", &bytes, &len)) return NULL;
  if (!typed_array(env, argv[1], napi_uint32_array, "spans must be a Uint32Array", &spans_data, &spans_len)) return NULL;
  size_t n = 0;
  if (!index_arg(env, argv[2], (double)(spans_len / 6), "count must be an integer, at most spans.length / 6", &n)) return NULL;
  uint8_t *nodes = NULL;
  uint32_t *tree_index = NULL;
  if (!tree_outputs(env, argv, n, &nodes, &tree_index)) return NULL;
  const uint32_t *spans = spans_data;
  const uint8_t *b = bytes != NULL ? bytes : EMPTY;
  size_t longest = 0;
  for (size_t i = 0; i < n; i++) {
    const uint32_t *sp = spans + 6 * i;
    if (sp[0] > sp[1] || sp[1] > len || sp[2] >= sp[3] || sp[3] > len) {
      napi_throw_range_error(env, NULL, "spans must be in order and within bytes, amounts not empty");
      return NULL;
    }
    for (size_t p = sp[2]; p < sp[3]; p++) {
      if (b[p] < '0' || b[p] > '9') {
        napi_throw_range_error(env, NULL, "amounts must be decimal digits");
        return NULL;
      }
    }
    if (sp[1] - sp[0] > longest) longest = sp[1] - sp[0];
  }
  size_t stride = 96 + 32 * ((longest + 31) / 32);
  uint8_t *scratch = malloc(8 * stride);
  if (scratch == NULL) {
    napi_throw_range_error(env, NULL, "not enough memory for a claim tree of this many leaves");
    return NULL;
  }
  struct ranges r = {b, len, NULL, n, 0};
  claim_tree_build(env, (struct claim_job){&r, NULL, NULL, 0, 0, spans, scratch, stride, false}, n, nodes, tree_index);
  free(scratch);
  return NULL;
}

/**
 * claimNodesJson(nodes, from, to, out, at): the claim dump's `tree` elements for nodes from..to,
 * each `"0x<64 lowercase hex>"` preceded by a comma unless it is node 0, written into out from
 * `at`; returns where they end (69 bytes a node at most). export-pieces.ts writes the same in JS.
 */
static napi_value claim_nodes_json(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (!call_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return NULL;
  void *nodes_data = NULL;
  size_t nodes_len = 0;
  void *out_data = NULL;
  size_t out_len = 0;
  if (argc < 5) {
    napi_throw_type_error(env, NULL, "claimNodesJson(nodes, from, to, out, at)");
    return NULL;
  }
  if (!typed_array(env, argv[0], napi_uint8_array, "nodes must be a Uint8Array", &nodes_data, &nodes_len)) return NULL;
  if (!typed_array(env, argv[3], napi_uint8_array, "out must be a Uint8Array", &out_data, &out_len)) return NULL;
  size_t from = 0, to = 0, at = 0;
  if (!index_arg(env, argv[1], (double)(nodes_len / 32), "from must be a node index", &from)) return NULL;
  if (!index_arg(env, argv[2], (double)(nodes_len / 32), "to must be a node index", &to)) return NULL;
  if (!index_arg(env, argv[4], (double)out_len, "at must be within out", &at)) return NULL;
  if (from > to || (to - from) > (out_len - at) / 69) {
    napi_throw_range_error(env, NULL, "from..to must be in order and their text must fit in out after at");
    return NULL;
  }
  static const char HEX[] = "0123456789abcdef";
  const uint8_t *nodes = nodes_data;
  uint8_t *o = (uint8_t *)out_data + at;
  for (size_t i = from; i < to; i++) {
    if (i > 0) *o++ = ',';
    *o++ = '"';
    *o++ = '0';
    *o++ = 'x';
    for (size_t k = 0; k < 32; k++) {
      uint8_t x = nodes[32 * i + k];
      *o++ = (uint8_t)HEX[x >> 4];
      *o++ = (uint8_t)HEX[x & 15];
    }
    *o++ = '"';
  }
  napi_value end;
  if (!call_ok(env, napi_create_double(env, (double)(o - (uint8_t *)out_data), &end))) return NULL;
  return end;
}

// ---- the exports' payees as spans (src/core/exports.ts, manifestPayeeSpans)

/** The length of the valid UTF-8 sequence at p (RFC 3629's table, as src/core/json/cursor.ts), or 0. */
static size_t utf8_sequence(const uint8_t *p, const uint8_t *end) {
  uint8_t c = p[0];
  size_t need;
  uint8_t lo = 0x80, hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) {
    need = 1;
  } else if (c == 0xe0) {
    need = 2, lo = 0xa0;
  } else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) {
    need = 2;
  } else if (c == 0xed) {
    need = 2, hi = 0x9f;
  } else if (c == 0xf0) {
    need = 3, lo = 0x90;
  } else if (c >= 0xf1 && c <= 0xf3) {
    need = 3;
  } else if (c == 0xf4) {
    need = 3, hi = 0x8f;
  } else {
    return 0;
  }
  if ((size_t)(end - p) <= need || p[1] < lo || p[1] > hi) return 0;
  for (size_t i = 2; i <= need; i++) {
    if (p[i] < 0x80 || p[i] > 0xbf) return 0;
  }
  return need + 1;
}

/** Consumes lit at *p if the bytes there are exactly it. */
static bool take(const uint8_t **p, const uint8_t *end, const char *lit, size_t len) {
  if ((size_t)(end - *p) < len || memcmp(*p, lit, len) != 0) return false;
  *p += len;
  return true;
}

/**
 * A JSON string at *p without escapes or control characters, valid UTF-8 (digits without a
 * leading zero when `money`): its raw span into span[0..2), *p moved past it; false otherwise.
 */
static bool raw_string(const uint8_t **p, const uint8_t *base, const uint8_t *end, bool money, uint32_t span[2]) {
  const uint8_t *q = *p;
  if (q >= end || *q != '"') return false;
  const uint8_t *start = ++q;
  for (;;) {
    if (q >= end) return false;
    uint8_t c = *q;
    if (c == '"') break;
    if (money) {
      if (c < '0' || c > '9') return false;
      q++;
    } else if (c < 0x20 || c == '\\') {
      return false;
    } else if (c < 0x80) {
      q++;
    } else {
      size_t n = utf8_sequence(q, end);
      if (n == 0) return false;
      q += n;
    }
  }
  if (money && (q == start || (start[0] == '0' && q - start > 1))) return false;
  span[0] = (uint32_t)(start - base);
  span[1] = (uint32_t)(q - base);
  *p = q + 1;
  return true;
}

/**
 * payeeSpans(bytes, pos): at bytes[pos] a payouts array written exactly as our manifest writer
 * does (`[{"actor":"…","amount_minor":"…","score":"…"},…]`, no whitespace, no escapes): a
 * Uint32Array of six offsets a payee (each string's raw bytes) and, last, the offset after the
 * `]`; null for anything else, which exports.ts then reads with its general reader.
 */
static napi_value payee_spans(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (!call_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return NULL;
  void *data = NULL;
  size_t len = 0;
  if (argc < 2 || !typed_array(env, argv[0], napi_uint8_array, "bytes must be a Uint8Array", &data, &len)) return NULL;
  size_t pos = 0;
  if (!index_arg(env, argv[1], (double)len, "pos must be within bytes", &pos)) return NULL;
  napi_value null_value;
  if (!call_ok(env, napi_get_null(env, &null_value))) return NULL;
  if (len >= UINT32_MAX) return null_value;
  const uint8_t *base = data != NULL ? data : EMPTY;
  const uint8_t *end = base + len;
  const uint8_t *p = base + pos;
  size_t cap = 6 * 1024, n = 0;
  uint32_t *at = malloc(cap * sizeof *at);
  if (at == NULL) return null_value;
  bool good = take(&p, end, "[", 1);
  if (good && !take(&p, end, "]", 1)) {
    for (;;) {
      if (6 * n + 6 > cap) {
        uint32_t *grown = realloc(at, 2 * cap * sizeof *at);
        if (grown == NULL) {
          good = false;
          break;
        }
        at = grown, cap *= 2;
      }
      uint32_t *sp = at + 6 * n;
      good = take(&p, end, "{\"actor\":", 9) && raw_string(&p, base, end, false, sp) &&
             take(&p, end, ",\"amount_minor\":", 16) && raw_string(&p, base, end, true, sp + 2) &&
             take(&p, end, ",\"score\":", 9) && raw_string(&p, base, end, true, sp + 4) && take(&p, end, "}", 1);
      if (!good) break;
      n++;
      if (take(&p, end, "]", 1)) break;
      if (!take(&p, end, ",", 1)) {
        good = false;
        break;
      }
    }
  }
  if (!good) {
    free(at);
    return null_value;
  }
  void *store = NULL;
  napi_value buffer, array;
  bool made = call_ok(env, napi_create_arraybuffer(env, (6 * n + 1) * sizeof *at, &store, &buffer));
  if (made) {
    memcpy(store, at, 6 * n * sizeof *at);
    ((uint32_t *)store)[6 * n] = (uint32_t)(p - base);
  }
  free(at);
  if (!made || !call_ok(env, napi_create_typedarray(env, napi_uint32_array, 6 * n + 1, buffer, 0, &array))) return NULL;
  return array;
}

/** The decimal digits of v at o; returns the end. */
static uint8_t *put_decimal(uint8_t *o, uint32_t v) {
  uint8_t tmp[10];
  size_t n = 0;
  do {
    tmp[n++] = (uint8_t)('0' + v % 10);
    v /= 10;
  } while (v > 0);
  while (n > 0) *o++ = tmp[--n];
  return o;
}

/**
 * exportRows(format, bytes, spans, count, treeIndex, out, state): the export rows of payees
 * state[0] .. count from their spans of bytes (as payeeSpans gives them), written into out from
 * state[1] while whole rows fit; state becomes the next payee and the end. format 0: CSV lines
 * (`actor,amount,score\n`, the actor quoted when it holds a comma: spans have no quote, CR or LF);
 * format 1: the claim dump's values (`,{"value":["actor","amount"],"treeIndex":n}`, no comma
 * before payee 0). export-pieces.ts writes the same in JS.
 */
static napi_value export_rows(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  if (!call_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return NULL;
  if (argc < 7) {
    napi_throw_type_error(env, NULL, "exportRows(format, bytes, spans, count, treeIndex, out, state)");
    return NULL;
  }
  size_t format = 0, n = 0;
  void *bytes = NULL, *spans_data = NULL, *index_data = NULL, *out_data = NULL, *state_data = NULL;
  size_t len = 0, spans_len = 0, index_len = 0, out_len = 0, state_len = 0;
  if (!index_arg(env, argv[0], 1, "format must be 0 (CSV) or 1 (claim dump values)", &format)) return NULL;
  if (!typed_array(env, argv[1], napi_uint8_array, "bytes must be a Uint8Array", &bytes, &len)) return NULL;
  if (!typed_array(env, argv[2], napi_uint32_array, "spans must be a Uint32Array", &spans_data, &spans_len)) return NULL;
  if (!index_arg(env, argv[3], (double)(spans_len / 6), "count must be an integer, at most spans.length / 6", &n)) return NULL;
  if (!typed_array(env, argv[4], napi_uint32_array, "treeIndex must be a Uint32Array", &index_data, &index_len)) return NULL;
  if (!typed_array(env, argv[5], napi_uint8_array, "out must be a Uint8Array", &out_data, &out_len)) return NULL;
  if (!typed_array(env, argv[6], napi_uint32_array, "state must be a Uint32Array", &state_data, &state_len)) return NULL;
  uint32_t *state = state_data;
  if (state_len != 2 || state[0] > n || state[1] > out_len || (format == 1 && index_len < n)) {
    napi_throw_range_error(env, NULL, "state must be [next payee ≤ count, position ≤ out.length], treeIndex count long for the dump");
    return NULL;
  }
  const uint8_t *src = bytes != NULL ? bytes : EMPTY;
  const uint32_t *spans = spans_data;
  const uint32_t *tree_index = index_data;
  uint8_t *out = out_data;
  size_t i = state[0], at = state[1];
  static const char OPEN[] = "{\"value\":[\"";
  static const char MID[] = "\",\"";
  static const char INDEX[] = "\"],\"treeIndex\":";
  for (; i < n; i++) {
    const uint32_t *sp = spans + 6 * i;
    if (sp[0] > sp[1] || sp[1] > len || sp[2] > sp[3] || sp[3] > len || sp[4] > sp[5] || sp[5] > len) {
      napi_throw_range_error(env, NULL, "spans must be in order and within bytes");
      return NULL;
    }
    size_t actor = sp[1] - sp[0], amount = sp[3] - sp[2], score = sp[5] - sp[4];
    size_t need = format == 0 ? actor + amount + score + 5 : 1 + (sizeof OPEN - 1) + actor + (sizeof MID - 1) + amount + (sizeof INDEX - 1) + 10 + 1;
    if (need > out_len - at) break;
    uint8_t *o = out + at;
    if (format == 0) {
      bool quote = memchr(src + sp[0], ',', actor) != NULL;
      if (quote) *o++ = '"';
      memcpy(o, src + sp[0], actor), o += actor;
      if (quote) *o++ = '"';
      *o++ = ',';
      memcpy(o, src + sp[2], amount), o += amount;
      *o++ = ',';
      memcpy(o, src + sp[4], score), o += score;
      *o++ = '\n';
    } else {
      if (i > 0) *o++ = ',';
      memcpy(o, OPEN, sizeof OPEN - 1), o += sizeof OPEN - 1;
      memcpy(o, src + sp[0], actor), o += actor;
      memcpy(o, MID, sizeof MID - 1), o += sizeof MID - 1;
      memcpy(o, src + sp[2], amount), o += amount;
      memcpy(o, INDEX, sizeof INDEX - 1), o += sizeof INDEX - 1;
      o = put_decimal(o, tree_index[i]);
      *o++ = '}';
    }
    at = (size_t)(o - out);
  }
  state[0] = (uint32_t)i;
  state[1] = (uint32_t)at;
  return NULL;
}

// ---- incremental hashing: a body hashed as it arrives, chunk by chunk (src/core/hash.ts, Blake3Stream)
//
// The hasher's state lives in a Uint8Array the caller holds (so nothing here outlives a call and
// no finaliser is needed); it is copied in and out of a properly aligned hasher on the stack,
// ~2 KB per call, nothing next to hashing a 64 KiB socket chunk.

/** blake3Init(): a fresh hasher state (opaque bytes). */
static napi_value hasher_init(napi_env env, napi_callback_info info) {
  (void)info;
  blake3_hasher hasher;
  blake3_hasher_init(&hasher);
  return new_bytes(env, (const uint8_t *)&hasher, sizeof hasher);
}

/** The state argument copied into `hasher`, or false with a pending exception. */
static bool state_in(napi_env env, napi_value value, blake3_hasher *hasher, void **state) {
  size_t len = 0;
  if (!typed_array(env, value, napi_uint8_array, "state must be a Uint8Array from blake3Init", state, &len)) return false;
  if (len != sizeof *hasher) {
    napi_throw_range_error(env, NULL, "state must be a Uint8Array from blake3Init");
    return false;
  }
  memcpy(hasher, *state, sizeof *hasher);
  return true;
}

/** blake3Update(state, bytes): adds the bytes to the state. */
static napi_value hasher_update(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (!call_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return NULL;
  blake3_hasher hasher;
  void *state = NULL;
  if (!state_in(env, argv[0], &hasher, &state)) return NULL;
  void *bytes = NULL;
  size_t len = 0;
  if (!typed_array(env, argv[1], napi_uint8_array, "bytes must be a Uint8Array", &bytes, &len)) return NULL;
  if (len > 0) blake3_hasher_update(&hasher, bytes, len);
  memcpy(state, &hasher, sizeof hasher);
  return NULL;
}

/** blake3Final(state): the 32-byte digest of everything added (the state may go on growing). */
static napi_value hasher_final(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (!call_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return NULL;
  blake3_hasher hasher;
  void *state = NULL;
  if (!state_in(env, argv[0], &hasher, &state)) return NULL;
  uint8_t out[DIGEST_LEN];
  blake3_hasher_finalize(&hasher, out, DIGEST_LEN);
  return new_bytes(env, out, DIGEST_LEN);
}

// ---- the columnar events' integer arrays (src/core/json/cursor.ts, uintArray)
//
// The fast path only: `[` and `]` around plain non-negative integers of at most 15 digits (exact
// in a double) without leading zeros, separated by commas, with JSON whitespace anywhere between
// tokens. Anything else (another token, a 16th digit, a leading zero, a fraction or exponent,
// more than `max` elements, the end of the bytes) returns null before anything is written, and
// the caller re-reads the array with the TypeScript reader, which accepts exactly the same valid
// arrays and produces every error. So this decides nothing: it only reads valid arrays faster.

static inline bool json_ws(uint8_t c) { return c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d; }

/**
 * Scans the array starting at p (optional whitespace, then `[`). Returns the element count and
 * sets *end (after `]`), or returns -1 when the array is not in the fast path's form. With
 * `out`, also stores the values.
 */
static int64_t scan_uints(const uint8_t *b, size_t len, size_t p, double *out, size_t max, size_t *end, uint64_t *largest) {
  while (p < len && json_ws(b[p])) p++;
  if (p >= len || b[p] != '[') return -1;
  p++;
  while (p < len && json_ws(b[p])) p++;
  if (p >= len) return -1;
  if (b[p] == ']') {
    *end = p + 1;
    return 0;
  }
  size_t n = 0;
  uint64_t big = 0;
  for (;;) {
    while (p < len && json_ws(b[p])) p++;
    if (p >= len) return -1;
    uint8_t c = b[p];
    if (c < '0' || c > '9') return -1;
    size_t start = p;
    uint64_t v = (uint64_t)(c - '0');
    p++;
    if (v == 0) {
      if (p < len && b[p] >= '0' && b[p] <= '9') return -1;
    } else {
      while (p < len && b[p] >= '0' && b[p] <= '9') {
        v = v * 10 + (uint64_t)(b[p] - '0');
        p++;
        if (p - start > 15) return -1;
      }
    }
    if (n == max) return -1;
    if (out != NULL) out[n] = (double)v;
    if (v > big) big = v;
    n++;
    while (p < len && json_ws(b[p])) p++;
    if (p >= len) return -1;
    c = b[p];
    if (c == ',') {
      p++;
      continue;
    }
    if (c == ']') {
      *end = p + 1;
      *largest = big;
      return (int64_t)n;
    }
    return -1;
  }
}

static void free_column(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

/**
 * uintArray(bytes, pos, max, end: Float64Array(2)): a Float64Array of the values, with end[0] the
 * position after `]` and end[1] the largest value (0 for an empty array); or null.
 */
static napi_value uint_array(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (!call_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return NULL;
  void *bytes = NULL;
  size_t len = 0;
  void *endv = NULL;
  size_t end_len = 0;
  if (!typed_array(env, argv[0], napi_uint8_array, "bytes must be a Uint8Array", &bytes, &len)) return NULL;
  if (!typed_array(env, argv[3], napi_float64_array, "end must be a Float64Array", &endv, &end_len)) return NULL;
  double pos = 0;
  double max = 0;
  if (!call_ok(env, napi_get_value_double(env, argv[1], &pos))) return NULL;
  if (!call_ok(env, napi_get_value_double(env, argv[2], &max))) return NULL;
  if (!(pos >= 0 && pos <= (double)len && pos == (double)(size_t)pos) || !(max >= 0 && max <= 4294967295.0) || end_len < 2) {
    napi_throw_range_error(env, NULL, "pos, max or end out of range");
    return NULL;
  }
  napi_value result;
  size_t p = (size_t)pos;
  // One pass into memory of the most elements the rest of the bytes can hold (every element
  // takes at least two bytes, its digit and a comma or `]`): untouched pages of a large malloc are
  // never faulted in, and the block is shrunk to the count before V8 is told its size.
  size_t cap = (len - p) / 2 + 1;
  if (cap > (size_t)max) cap = (size_t)max;
  double *data = cap > 0 ? malloc(cap * sizeof(double)) : NULL;
  if (cap > 0 && data == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  size_t end = 0;
  uint64_t largest = 0;
  int64_t n = len == 0 ? -1 : scan_uints(bytes, len, p, data, (size_t)max, &end, &largest);
  if (n <= 0) {
    free(data);
    if (n < 0) {
      if (!call_ok(env, napi_get_null(env, &result))) return NULL;
      return result;
    }
    napi_value buffer;
    void *none = NULL;
    if (!call_ok(env, napi_create_arraybuffer(env, 0, &none, &buffer))) return NULL;
    if (!call_ok(env, napi_create_typedarray(env, napi_float64_array, 0, buffer, 0, &result))) return NULL;
    ((double *)endv)[0] = (double)end;
    ((double *)endv)[1] = 0;
    return result;
  }
  double *fit = realloc(data, (size_t)n * sizeof(double));
  if (fit != NULL) data = fit;
  napi_value buffer;
  napi_status status = napi_create_external_arraybuffer(env, data, (size_t)n * sizeof(double), free_column, NULL, &buffer);
  if (status != napi_ok) {
    free(data);
    call_ok(env, status);
    return NULL;
  }
  if (!call_ok(env, napi_create_typedarray(env, napi_float64_array, (size_t)n, buffer, 0, &result))) return NULL;
  ((double *)endv)[0] = (double)end;
  ((double *)endv)[1] = (double)largest;
  return result;
}

// ---- SPEC §4.1's tally over the event columns (src/core/calculus.ts, tally)
//
// The same loop as the TypeScript one, in the same order, in IEEE doubles (no -ffast-math here:
// each sum is the same correctly rounded addition V8 does), so q and the total are bit-identical;
// the caller still decides from the total whether the Numbers are exact. A cell outside q (which
// decoding rules out) stops it with false, and the caller redoes the tally in TypeScript.

/**
 * tallyColumns(actor, kind, qty, ts: Float64Array, count, startMs, endMs, K, q: Float64Array,
 * out: Float64Array(2)): adds each counted event's qty to q[actor·K + kind]; out = [ignored, total].
 */
static napi_value tally_columns(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  if (!call_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return NULL;
  double *cols[4];
  size_t lens[4];
  for (int c = 0; c < 4; c++) {
    void *data = NULL;
    if (!typed_array(env, argv[c], napi_float64_array, "columns must be Float64Arrays", &data, &lens[c])) return NULL;
    cols[c] = data;
  }
  double nums[4];
  for (int c = 0; c < 4; c++) {
    if (!call_ok(env, napi_get_value_double(env, argv[4 + c], &nums[c]))) return NULL;
  }
  void *qv = NULL;
  size_t qlen = 0;
  void *outv = NULL;
  size_t out_len = 0;
  if (!typed_array(env, argv[8], napi_float64_array, "q must be a Float64Array", &qv, &qlen)) return NULL;
  if (!typed_array(env, argv[9], napi_float64_array, "out must be a Float64Array", &outv, &out_len)) return NULL;
  double count = nums[0];
  double start = nums[1];
  double end = nums[2];
  double kinds = nums[3];
  if (!(count >= 0 && count == (double)(size_t)count) || out_len < 2) {
    napi_throw_range_error(env, NULL, "count or out out of range");
    return NULL;
  }
  size_t n = (size_t)count;
  for (int c = 0; c < 4; c++) {
    if (lens[c] < n) {
      napi_throw_range_error(env, NULL, "count is beyond a column");
      return NULL;
    }
  }
  const double *actor = cols[0];
  const double *kind = cols[1];
  const double *qty = cols[2];
  const double *ts = cols[3];
  double *q = qv;
  double ignored = 0;
  double total = 0;
  bool done = true;
  for (size_t i = 0; i < n; i++) {
    double t = ts[i];
    if (t < start || t >= end) {
      ignored++;
      continue;
    }
    double v = qty[i];
    double cell = actor[i] * kinds + kind[i];
    if (!(cell >= 0 && cell < (double)qlen) || cell != (double)(size_t)cell) {
      done = false;
      break;
    }
    q[(size_t)cell] += v;
    total += v;
  }
  double *out = outv;
  out[0] = ignored;
  out[1] = total;
  napi_value result;
  if (!call_ok(env, napi_get_boolean(env, done, &result))) return NULL;
  return result;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor properties[] = {
      {"blake3", NULL, digest, NULL, NULL, NULL, napi_enumerable, NULL},
      {"blake3Init", NULL, hasher_init, NULL, NULL, NULL, napi_enumerable, NULL},
      {"blake3Update", NULL, hasher_update, NULL, NULL, NULL, napi_enumerable, NULL},
      {"blake3Final", NULL, hasher_final, NULL, NULL, NULL, napi_enumerable, NULL},
      {"claimTree", NULL, claim_tree, NULL, NULL, NULL, napi_enumerable, NULL},
      {"claimTreeOfSpans", NULL, claim_tree_of_spans, NULL, NULL, NULL, napi_enumerable, NULL},
      {"keccak256", NULL, keccak256_js, NULL, NULL, NULL, napi_enumerable, NULL},
      {"claimNodesJson", NULL, claim_nodes_json, NULL, NULL, NULL, napi_enumerable, NULL},
      {"payeeSpans", NULL, payee_spans, NULL, NULL, NULL, napi_enumerable, NULL},
      {"exportRows", NULL, export_rows, NULL, NULL, NULL, napi_enumerable, NULL},
      {"root", NULL, root, NULL, NULL, NULL, napi_enumerable, NULL},
      {"auditPath", NULL, audit_path, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mldsa65Sign", NULL, rewarder_mldsa65_sign, NULL, NULL, NULL, napi_enumerable, NULL},
      {"uintArray", NULL, uint_array, NULL, NULL, NULL, napi_enumerable, NULL},
      {"tallyColumns", NULL, tally_columns, NULL, NULL, NULL, napi_enumerable, NULL},
      {"manifestSizes", NULL, rewarder_manifest_sizes, NULL, NULL, NULL, napi_enumerable, NULL},
      {"manifestWrite", NULL, rewarder_manifest_write, NULL, NULL, NULL, napi_enumerable, NULL},
      {"arrowTallyBatch", NULL, rewarder_arrow_tally_batch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"arrowTallyFinish", NULL, rewarder_arrow_tally_finish, NULL, NULL, NULL, napi_enumerable, NULL},
      {"arrowOffsetsPlain", NULL, rewarder_arrow_offsets_plain, NULL, NULL, NULL, napi_enumerable, NULL},
      {"arrowActorsPlain", NULL, rewarder_arrow_actors_plain, NULL, NULL, NULL, napi_enumerable, NULL},
      {"quotedLength", NULL, rewarder_quoted_length, NULL, NULL, NULL, napi_enumerable, NULL},
      {"quoteInto", NULL, rewarder_quote_into, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties) != napi_ok) {
    return NULL;
  }
  if (!rewarder_define_share_kernel(env, exports)) return NULL;
  return exports;
}

// BLAKE3 of up to 16 short messages at once, each one or two blocks long: the payouts tree's
// messages (leaves of ~60–120 bytes, nodes of 65) end in a partial block of a length that varies
// by message, which blake3_hash_many (full blocks, one length for all) cannot hash; one at a time
// through blake3_compress_in_place those last blocks were about half of the tree's time at XL.
// Here every block of every message goes through one 16-lane compression written with GCC's
// generic vectors, which the compiler lowers to AVX-512, AVX2 or SSE2 (target_clones, chosen at
// load time from the CPU) or to NEON. The compression is BLAKE3's as in blake3_portable.c, on
// transposed state; merkle-native.test.ts holds the tree to the TypeScript reference.

#include "blake3_lanes.h"

#include <string.h>

#include "blake3_impl.h"

// target_clones needs ifunc (glibc); elsewhere the generic vectors take the baseline target.
#if defined(__GNUC__) && defined(__x86_64__) && defined(__GLIBC__) && !defined(__clang__)
#define LANES_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define LANES_CLONES
#endif

typedef uint32_t lanes_v __attribute__((vector_size(4 * B3_LANES), aligned(4 * B3_LANES)));

#define rotr(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

#define G(a, b, c, d, x, y) \
  do {                      \
    a = a + b + (x);        \
    d = rotr(d ^ a, 16);    \
    c = c + d;              \
    b = rotr(b ^ c, 12);    \
    a = a + b + (y);        \
    d = rotr(d ^ a, 8);     \
    c = c + d;              \
    b = rotr(b ^ c, 7);     \
  } while (0)

/** One compression of each lane's block m (transposed: m[w] holds word w of every lane) into cv. */
LANES_CLONES static void compress_lanes(lanes_v cv[8], const lanes_v m[16], const lanes_v *block_len, uint32_t flags) {
  lanes_v v[16];
  for (int i = 0; i < 8; i++) v[i] = cv[i];
  for (int i = 0; i < 4; i++) v[8 + i] = (lanes_v){0} + IV[i];
  v[12] = (lanes_v){0};
  v[13] = (lanes_v){0};
  v[14] = *block_len;
  v[15] = (lanes_v){0} + flags;
  for (int r = 0; r < 7; r++) {
    const uint8_t *s = MSG_SCHEDULE[r];
    G(v[0], v[4], v[8], v[12], m[s[0]], m[s[1]]);
    G(v[1], v[5], v[9], v[13], m[s[2]], m[s[3]]);
    G(v[2], v[6], v[10], v[14], m[s[4]], m[s[5]]);
    G(v[3], v[7], v[11], v[15], m[s[6]], m[s[7]]);
    G(v[0], v[5], v[10], v[15], m[s[8]], m[s[9]]);
    G(v[1], v[6], v[11], v[12], m[s[10]], m[s[11]]);
    G(v[2], v[7], v[8], v[13], m[s[12]], m[s[13]]);
    G(v[3], v[4], v[9], v[14], m[s[14]], m[s[15]]);
  }
  for (int i = 0; i < 8; i++) cv[i] = v[i] ^ v[i + 8];
}

/** Word w of each lane's 64-byte block `blocks[k]` into m[w][k] (little-endian words). */
static void transpose_in(const uint8_t blocks[B3_LANES][64], size_t n, lanes_v m[16]) {
  uint32_t (*words)[B3_LANES] = (uint32_t(*)[B3_LANES])m;
  for (size_t k = 0; k < n; k++) {
    for (int w = 0; w < 16; w++) words[w][k] = load32(blocks[k] + 4 * w);
  }
  for (size_t k = n; k < B3_LANES; k++) {
    for (int w = 0; w < 16; w++) words[w][k] = 0;
  }
}

void b3_lanes_hash(const uint8_t *const data[], const size_t len[], uint8_t prefix, size_t n, unsigned blocks,
                   uint8_t *const out[]) {
  // Everything is read before anything is written: outputs may overlap inputs (fold_level).
  uint8_t block[B3_LANES][64];
  lanes_v m0[16];
  lanes_v m1[16];
  uint32_t len0[B3_LANES] = {0};
  uint32_t len1[B3_LANES] = {0};
  memset(block, 0, sizeof block);
  for (size_t k = 0; k < n; k++) {
    size_t take = len[k] < 63 ? len[k] : 63;
    block[k][0] = prefix;
    memcpy(block[k] + 1, data[k], take);
    len0[k] = (uint32_t)(take + 1);
  }
  transpose_in((const uint8_t(*)[64])block, n, m0);
  if (blocks == 2) {
    memset(block, 0, sizeof block);
    for (size_t k = 0; k < n; k++) {
      memcpy(block[k], data[k] + 63, len[k] - 63);
      len1[k] = (uint32_t)(len[k] - 63);
    }
    transpose_in((const uint8_t(*)[64])block, n, m1);
  }
  lanes_v cv[8];
  for (int i = 0; i < 8; i++) cv[i] = (lanes_v){0} + IV[i];
  lanes_v bl0;
  lanes_v bl1;
  memcpy(&bl0, len0, sizeof bl0);
  memcpy(&bl1, len1, sizeof bl1);
  if (blocks == 2) {
    compress_lanes(cv, m0, &bl0, CHUNK_START);
    compress_lanes(cv, m1, &bl1, CHUNK_END | ROOT);
  } else {
    compress_lanes(cv, m0, &bl0, CHUNK_START | CHUNK_END | ROOT);
  }
  uint32_t words[8][B3_LANES];
  memcpy(words, cv, sizeof words);
  for (size_t k = 0; k < n; k++) {
    uint8_t *o = out[k];
    for (int i = 0; i < 8; i++) store32(o + 4 * i, words[i][k]);
  }
}

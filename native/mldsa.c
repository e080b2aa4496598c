// ML-DSA-65 signing (FIPS 204, hedged, with a context string) on PQClean's clean implementation,
// vendored under vendor/pqclean. @noble/post-quantum signs in ~8 ms (p95 ~25 ms) on this
// machine's cores, this in ~0.6 ms: at M load that is the difference between the signing
// thread keeping up on the spare core and it taking CPU from the compute worker (issue 5: PQ
// adds at most 5 % to p95). Key generation and verification stay on @noble/post-quantum, so
// every signature made here is checked by an independent implementation.
//
// Stateless and synchronous, like the rest of the addon: safe in any number of worker threads.

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <node_api.h>

#include "mldsa.h"
#include "api.h"
#include "randombytes.h"

/**
 * PQClean's randomness interface (the hedged signature's rnd): the kernel's CSPRNG. PQClean
 * ignores the return value, so a failure must not return garbage: there is no safe signature
 * without randomness, and getrandom(2) only fails on a kernel older than 3.17.
 */
int randombytes(uint8_t *out, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t got = getrandom(out + done, n - done, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      abort();
    }
    done += (size_t)got;
  }
  return 0;
}

/** The bytes of a Uint8Array argument, or false with a TypeError pending. */
static bool bytes_arg(napi_env env, napi_value value, const char *name, const uint8_t **data, size_t *len) {
  bool is_typed = false;
  napi_typedarray_type type;
  void *ptr = NULL;
  char message[64];
  if (napi_is_typedarray(env, value, &is_typed) == napi_ok && is_typed &&
      napi_get_typedarray_info(env, value, &type, len, &ptr, NULL, NULL) == napi_ok && type == napi_uint8_array) {
    static const uint8_t empty[1] = {0};
    *data = ptr != NULL ? ptr : empty;
    return true;
  }
  snprintf(message, sizeof message, "%s must be a Uint8Array", name);
  napi_throw_type_error(env, NULL, message);
  return false;
}

/** mldsa65Sign(secretKey, message, context): the 3309-byte signature. */
napi_value rewarder_mldsa65_sign(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc != 3) {
    napi_throw_type_error(env, NULL, "mldsa65Sign(secretKey, message, context)");
    return NULL;
  }
  const uint8_t *sk, *msg, *ctx;
  size_t sk_len, msg_len, ctx_len;
  if (!bytes_arg(env, argv[0], "secretKey", &sk, &sk_len)) return NULL;
  if (!bytes_arg(env, argv[1], "message", &msg, &msg_len)) return NULL;
  if (!bytes_arg(env, argv[2], "context", &ctx, &ctx_len)) return NULL;
  if (sk_len != PQCLEAN_MLDSA65_CLEAN_CRYPTO_SECRETKEYBYTES) {
    napi_throw_range_error(env, NULL, "secretKey must be 4032 bytes (ML-DSA-65)");
    return NULL;
  }
  if (ctx_len > 255) {
    napi_throw_range_error(env, NULL, "context must be at most 255 bytes");
    return NULL;
  }
  void *store = NULL;
  napi_value buffer, array;
  if (napi_create_arraybuffer(env, PQCLEAN_MLDSA65_CLEAN_CRYPTO_BYTES, &store, &buffer) != napi_ok) return NULL;
  size_t sig_len = 0;
  if (PQCLEAN_MLDSA65_CLEAN_crypto_sign_signature_ctx(store, &sig_len, msg, msg_len, ctx, ctx_len, sk) != 0 ||
      sig_len != PQCLEAN_MLDSA65_CLEAN_CRYPTO_BYTES) {
    napi_throw_error(env, NULL, "ML-DSA-65 signing failed");
    return NULL;
  }
  if (napi_create_typedarray(env, napi_uint8_array, sig_len, buffer, 0, &array) != napi_ok) return NULL;
  return array;
}

// The N-API argument checks every file of the addon uses: one copy, static inline in each file
// that includes it (the addon's C files are separate translation units with hidden symbols).
#ifndef REWARDER_NAPI_ARGS_H
#define REWARDER_NAPI_ARGS_H

#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** True when the N-API call succeeded; otherwise leaves a JS exception pending. */
static inline bool call_ok(napi_env env, napi_status status) {
  if (status == napi_ok) return true;
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  const char *message = info != NULL && info->error_message != NULL ? info->error_message : "N-API call failed";
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, NULL, message);
  return false;
}

/** The data and length of a typed array of `type`, or a pending TypeError naming `what`. */
static inline bool typed_array(napi_env env, napi_value value, napi_typedarray_type type, const char *what, void **data,
                               size_t *length) {
  bool is = false;
  if (!call_ok(env, napi_is_typedarray(env, value, &is))) return false;
  napi_typedarray_type actual;
  if (is && !call_ok(env, napi_get_typedarray_info(env, value, &actual, length, data, NULL, NULL))) return false;
  if (!is || actual != type) {
    napi_throw_type_error(env, NULL, what);
    return false;
  }
  return true;
}

/** A typed array of `type`, or null (data NULL, length 0). */
static inline bool typed_array_or_null(napi_env env, napi_value value, napi_typedarray_type type, const char *what,
                                       void **data, size_t *length) {
  napi_valuetype t;
  if (!call_ok(env, napi_typeof(env, value, &t))) return false;
  if (t == napi_null) {
    *data = NULL;
    *length = 0;
    return true;
  }
  return typed_array(env, value, type, what, data, length);
}

/** An integer argument from 0 to max ≤ 2^53 (NaN and fractions refused), or false with a pending RangeError. */
static inline bool index_arg(napi_env env, napi_value value, double max, const char *what, size_t *out) {
  double v = 0;
  if (!call_ok(env, napi_get_value_double(env, value, &v))) return false;
  if (!(v >= 0 && v <= max) || (double)(uint64_t)v != v) {
    napi_throw_range_error(env, NULL, what);
    return false;
  }
  *out = (size_t)v;
  return true;
}

#endif

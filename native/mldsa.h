#ifndef REWARDER_MLDSA_H
#define REWARDER_MLDSA_H

#include <node_api.h>

/** mldsa65Sign(secretKey, message, context) → Uint8Array(3309); see mldsa.c. */
napi_value rewarder_mldsa65_sign(napi_env env, napi_callback_info info);

#endif

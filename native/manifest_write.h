#ifndef REWARDER_MANIFEST_WRITE_H
#define REWARDER_MANIFEST_WRITE_H

#include <node_api.h>

/** manifestSizes(names | null, nameOffsets, index | null, amount, score, count, out); see manifest_write.c. */
napi_value rewarder_manifest_sizes(napi_env env, napi_callback_info info);
/** manifestWrite(names, nameOffsets, index | null, amount, score, count, leaves, leafOffsets, out, at) → end. */
napi_value rewarder_manifest_write(napi_env env, napi_callback_info info);

#endif

#ifndef REWARDER_SHARE_KERNEL_H
#define REWARDER_SHARE_KERNEL_H

#include <stdbool.h>

#include <node_api.h>

/**
 * Defines the column path's calculus functions on `exports` (shareColumns, largestRemainders,
 * scoreColumns, payeeColumns, limbsCheck; see share_kernel.c). False with an exception pending
 * when that fails.
 */
bool rewarder_define_share_kernel(napi_env env, napi_value exports);

#endif

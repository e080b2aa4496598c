#ifndef REWARDER_ARROW_TALLY_H
#define REWARDER_ARROW_TALLY_H

#include <node_api.h>

/** arrowTallyBatch(actor, kind, qty, ts, n, startMs, endMs, nActors, K, q, sum) → boolean; see arrow_tally.c. */
napi_value rewarder_arrow_tally_batch(napi_env env, napi_callback_info info);

/** arrowTallyFinish(q, seen): cells still −0 become +0 (seen 0), every other cell is seen (1). */
napi_value rewarder_arrow_tally_finish(napi_env env, napi_callback_info info);

/** arrowOffsetsPlain(offsets, n, limit) → boolean: a dictionary's offsets pass read.ts's checks; see arrow_tally.c. */
napi_value rewarder_arrow_offsets_plain(napi_env env, napi_callback_info info);

/** arrowActorsPlain(data, offsets, n) → boolean: the actor dictionary passes read.ts's checks; see arrow_tally.c. */
napi_value rewarder_arrow_actors_plain(napi_env env, napi_callback_info info);

/** quotedLength(src) → number and quoteInto(src, from, bytes, offsets) → boolean: utf8.ts's quoteEach; see arrow_tally.c. */
napi_value rewarder_quoted_length(napi_env env, napi_callback_info info);
napi_value rewarder_quote_into(napi_env env, napi_callback_info info);

#endif

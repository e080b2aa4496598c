#ifndef REWARDER_BLAKE3_LANES_H
#define REWARDER_BLAKE3_LANES_H

#include <stddef.h>
#include <stdint.h>

/** Messages hashed together by b3_lanes_hash. */
#define B3_LANES 16

/**
 * out[k] = BLAKE3-256(prefix ‖ data[k][0 .. len[k])) for k < n ≤ B3_LANES, where every message is
 * `blocks` blocks long: blocks = 1 for len ≤ 63, blocks = 2 for 64 ≤ len ≤ 127. All inputs are
 * read before any output is written, so outputs may overlap inputs.
 */
void b3_lanes_hash(const uint8_t *const data[], const size_t len[], uint8_t prefix, size_t n, unsigned blocks,
                   uint8_t *const out[]);

#endif

# rewarder_native.node: the payouts Merkle tree (rewarder_native.c, short messages 16 at a time in
# blake3_lanes.c) on the official BLAKE3 C implementation, the columnar integer arrays' reader and
# the tally (rewarder_native.c), the Arrow stream's tally (arrow_tally.c), the calculus's column
# path (share_kernel.c), the manifest's per-payee bytes (manifest_write.c), and
# ML-DSA-65 signing (mldsa.c) on PQClean's clean implementation, vendored
# under vendor/pqclean (see its README). The BLAKE3 sources are not copied into this repository: they are compiled from
# the pinned dependency @c4312/blake3-native (its c/ directory, BLAKE3 1.3.1, CC0-1.0 OR
# Apache-2.0), found by Node's module resolution so that hoisting does not matter.
#
# Built by `npm run build:native` (`node-gyp rebuild -C native`), which `npm ci` runs as the root
# package's install script. No -march=native: the binary may run on another CPU; BLAKE3 picks
# SSE2/SSE4.1/AVX2/AVX-512 at run time from CPUID.
{
  "variables": {
    # Relative to this directory: gyp's make generator mishandles absolute source paths.
    "blake3_c": "<!(node -p \"const p = require('path'); p.relative('.', p.join(p.dirname(require.resolve('@c4312/blake3-native/package.json')), 'c'))\")",
  },
  "targets": [
    {
      "target_name": "rewarder_native",
      "sources": [
        "rewarder_native.c",
        "arrow_tally.c",
        "manifest_write.c",
        "blake3_lanes.c",
        "<(blake3_c)/blake3.c",
        "<(blake3_c)/blake3_dispatch.c",
        "<(blake3_c)/blake3_portable.c",
        "mldsa.c",
        "share_kernel.c",
        "vendor/pqclean/common/fips202.c",
        "vendor/pqclean/ml-dsa-65/ntt.c",
        "vendor/pqclean/ml-dsa-65/packing.c",
        "vendor/pqclean/ml-dsa-65/poly.c",
        "vendor/pqclean/ml-dsa-65/polyvec.c",
        "vendor/pqclean/ml-dsa-65/reduce.c",
        "vendor/pqclean/ml-dsa-65/rounding.c",
        "vendor/pqclean/ml-dsa-65/sign.c",
        "vendor/pqclean/ml-dsa-65/symmetric-shake.c",
      ],
      "include_dirs": ["<(blake3_c)", "vendor/pqclean/common", "vendor/pqclean/ml-dsa-65"],
      # -O3 is node-gyp's default for Release. Hidden visibility keeps BLAKE3's C functions out of
      # the addon's dynamic symbol table (the same ones are in @c4312/blake3-native's addon).
      # No contraction of a·b + c into FMA: the tally and the calculus (share_kernel.c) must round
      # each double operation as V8 does (their products are exact, so this is a second guard).
      "cflags": ["-fvisibility=hidden", "-ffp-contract=off"],
      "xcode_settings": {"OTHER_CFLAGS": ["-ffp-contract=off"]},
      "conditions": [
        # The SIMD implementations as the assembly BLAKE3 ships (no compiler flags needed).
        ["OS!='win' and target_arch=='x64'", {
          "sources": [
            "<(blake3_c)/blake3_sse2_x86-64_unix.S",
            "<(blake3_c)/blake3_sse41_x86-64_unix.S",
            "<(blake3_c)/blake3_avx2_x86-64_unix.S",
            "<(blake3_c)/blake3_avx512_x86-64_unix.S",
          ],
        }],
        # NEON is part of the AArch64 baseline, and BLAKE3 uses it by default there.
        ["target_arch=='arm64'", {
          "sources": ["<(blake3_c)/blake3_neon.c"],
        }],
        # Anything else: the portable implementation only.
        ["not (OS!='win' and target_arch=='x64') and target_arch!='arm64'", {
          "defines": ["BLAKE3_NO_SSE2", "BLAKE3_NO_SSE41", "BLAKE3_NO_AVX2", "BLAKE3_NO_AVX512"],
        }],
      ],
    },
  ],
}

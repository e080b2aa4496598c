#!/usr/bin/env bash
# Instructions per warm compute-worker run (calculus + manifest + parts), counted by callgrind,
# which does not depend on machine load: (Ir(K+N runs) − Ir(K runs)) / N, so start-up, reading and
# preparing the inputs and the first K runs (JIT warm-up) cancel out and N steady runs remain.
#   scripts/instr.sh DIR [N] [K]     DIR from `rewarder gen --out DIR` (inputs.json, policy.json)
# REWARDER_ROOT=/other/checkout counts that checkout's build instead (for A/B comparisons).
set -euo pipefail
dir=$1
n=${2:-20}
k=${3:-10}
here=${REWARDER_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
count() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null node --single-threaded "$here/dist/scripts/bench-run.js" \
    --dir="$dir" --runs="$1" --warmups=0 2>&1 >/dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
few=$(count "$k")
many=$(count $((k + n)))
echo "$dir: $(( (many - few) / n )) instructions per run (runs $((k + n)) − $k: $many − $few) [$here]"

#!/usr/bin/env bash
# Instructions per warm compute-worker run (calculus + manifest + parts), counted by callgrind,
# which does not depend on machine load: Ir(--runs=N) − Ir(--runs=0), divided by N. Both counts
# include start-up, reading and preparing the inputs; the difference is the runs alone.
#   scripts/instr.sh DIR [N]     DIR from `rewarder gen --out DIR` (inputs.json, policy.json)
set -euo pipefail
dir=$1
n=${2:-10}
here=${REWARDER_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
count() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null node --single-threaded "$here/dist/scripts/bench-run.js" \
    --dir="$dir" --runs="$1" --warmups=3 2>&1 >/dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
zero=$(count 0)
many=$(count "$n")
echo "$dir: $(( (many - zero) / (n + 3) )) instructions per run ($n+3 runs: $many − $zero)"

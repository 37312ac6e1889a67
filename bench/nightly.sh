#!/usr/bin/env bash
# Wall time of `contrail drift` over the bundled suite against the demo partner (drifted, so
# that there are findings to remember), without and with the history, N runs each,
# alternating. Prints each time and the medians.
#
#     bench/nightly.sh [N]     (default 5; builds the release binaries first)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-5}
partner_args=(--drift)
source bench/demo-partner.sh
run() {
  local start end
  start=$(date +%s.%N)
  target/release/contrail drift --color never --base-url "ticketing=$url" --base-url "incidents=$url" \
    --report "$work/r.json" "$@" > /dev/null 2>&1 || true
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
without=(); with=()
for i in $(seq "$n"); do
  without+=("$(run)")
  with+=("$(run --history "$work/history.db")")
  echo "run $i: without history ${without[-1]} s, with history ${with[-1]} s"
done
echo "median without history: $(median "${without[@]}") s"
echo "median with history:    $(median "${with[@]}") s ($(du -h "$work/history.db" | cut -f1) after $n runs)"

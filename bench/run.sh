#!/usr/bin/env bash
# Prints contrail's run-time figures: startup of `contrail run` on one trivial scenario, and
# 1,000 trivial scenarios with --jobs 16, both against the demo partner (started here, on
# 127.0.0.1, and stopped at the end; its start-up is not counted). Nothing here asserts a time.
#
#     bash bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin contrail --bin contrail-demo-partner
bin=target/release/contrail
work=$(mktemp -d)
partner_log="$work/partner.log"
target/release/contrail-demo-partner --port 0 > "$partner_log" &
partner=$!
trap 'kill $partner 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q listening "$partner_log" && break; sleep 0.05; done
url=$(awk '{print $3}' "$partner_log")

# A workspace with the bundled contract and steps, and features of our own.
cp -r contracts steps "$work/"
mkdir -p "$work/features" "$work/many"
cat > "$work/features/one.feature" <<'G'
Feature: one
  Scenario: trivial
    Given the contract "support-escalation"
    When I call "listIncidents"
    Then the response status is 200
G
{
  echo "Feature: many"
  echo "  Background:"
  echo "    Given the contract \"support-escalation\""
  for i in $(seq 1000); do
    printf '  Scenario: trivial %s\n    When I call "listIncidents"\n    Then the response status is 200\n' "$i"
  done
} > "$work/many/many.feature"

args=(--base-url "ticketing=$url" --base-url "incidents=$url" --color never)
ms() { echo $(( $(date +%s%N) / 1000000 )); }

# Startup: median of 21 runs of one trivial scenario.
times=()
for _ in $(seq 21); do
  t0=$(ms); (cd "$work" && "$OLDPWD/$bin" run features "${args[@]}" > /dev/null); t1=$(ms)
  times+=($((t1 - t0)))
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
echo "startup: contrail run, one trivial scenario: median ${sorted[10]} ms, min ${sorted[0]} ms, max ${sorted[20]} ms (21 runs)"

# 1,000 trivial scenarios, 16 at a time.
t0=$(ms); (cd "$work" && "$OLDPWD/$bin" run many --jobs 16 "${args[@]}" > "$work/many.log"); t1=$(ms)
tail -3 "$work/many.log" | tr '\n' ' '; echo
echo "1000 scenarios --jobs 16: $((t1 - t0)) ms wall"

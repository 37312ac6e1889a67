#!/usr/bin/env bash
# Replay server figures: contrail mock vs a minimal hyper server answering the same 100
# recorded ~1 KB JSON responses from a HashMap, under wrk at 1 and 32 connections (req/s and
# p99, side by side in the same run); cold start of `contrail mock` to its first served
# response; peak memory of contrail mock under load. Needs wrk (apt-get install wrk).
# Everything listens on 127.0.0.1 and is stopped at the end. Asserts nothing.
#
#     bash bench/replay.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk"; exit 2; }
cargo build --release --quiet --bin contrail --example hyper-baseline
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT

# A workspace with one inline-schema partner and 100 recorded interactions.
mkdir -p "$work/contracts" "$work/recordings/api"
cat > "$work/contracts/api.yaml" <<'Y'
contract: bench
version: "1"
partners:
  api:
    operations:
      - { id: getItem, method: GET, path: "/items/{id}" }
Y
python3 - "$work/recordings/api" <<'PY'
import json, sys
for i in range(100):
    body = {"id": f"item-{i}", "name": f"Item number {i}", "status": "open",
            "description": "x" * 800, "tags": ["a", "b", "c"], "owner": {"id": f"u{i}", "email": "owner@example.com"}}
    rec = {"meta": {"recorded_at": "2026-11-23T00:00:00Z", "target": "http://127.0.0.1:1", "contract": "bench",
                    "contract_version": "1", "partner": "api", "operation": "getItem", "sequence": 1},
           "request": {"method": "GET", "path": f"/items/{i}"},
           "response": {"status": 200, "headers": {"content-type": "application/json"}, "body": {"json": body}}}
    open(f"{sys.argv[1]}/getItem-{i:04}.json", "w").write(json.dumps(rec, indent=2))
PY
cat > "$work/paths.lua" <<'L'
local i = 0
request = function()
  i = (i + 1) % 100
  return wrk.format("GET", "/items/" .. i)
end
L
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_us() { echo $(( $(date +%s%N) / 1000 )); }

# Cold start: process start to first served response.
port=$(free_port)
t0=$(now_us)
(cd "$work" && exec "$OLDPWD/target/release/contrail" mock api --port "$port" > "$work/mock.log" 2>&1) &
mock=$!; pids+=("$mock")
until curl -sf -o /dev/null "http://127.0.0.1:$port/items/1"; do :; done
t1=$(now_us)
echo "cold start: contrail mock to first served response: $(( (t1 - t0) / 1000 )) ms"
mock_port=$port

port=$(free_port)
target/release/examples/hyper-baseline "$port" "$work/recordings/api" > /dev/null &
pids+=("$!")
until curl -sf -o /dev/null "http://127.0.0.1:$port/items/1"; do sleep 0.01; done
hyper_port=$port

run() { # name port connections
  out=$(wrk -t "$(( $3 < 2 ? 1 : 2 ))" -c "$3" -d "${secs}s" --latency -s "$work/paths.lua" "http://127.0.0.1:$2" 2>&1)
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  printf '%-14s %2s conn: %10s req/s  p99 %s\n' "$1" "$3" "$rps" "$p99"
  echo "$rps"
}
for c in 1 32; do
  m=$(run "contrail mock" "$mock_port" "$c" | tee /dev/stderr | tail -1)
  h=$(run "hyper+HashMap" "$hyper_port" "$c" | tee /dev/stderr | tail -1)
  python3 -c "print(f'ratio at $c conn: contrail/hyper = {float(\"$m\")/float(\"$h\"):.2f}')"
done 2> >(grep -v '^[0-9.]*$' >&2)
echo "peak RSS of contrail mock after the load: $(awk '/VmHWM/ {printf "%.1f MB", $2/1024}' /proc/$mock/status)"

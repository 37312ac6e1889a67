#!/usr/bin/env bash
# Replay server figures: contrail mock vs a minimal hyper server answering the same 100
# recorded ~1 KB JSON responses, pre-serialised, from a HashMap keyed by method + path + query
# (it reads bodies but never compares them). The workload is mixed, as an integration's is: 50
# GETs with a query string and 50 POSTs with a JSON body, which contrail matches semantically
# (canonical JSON under the field policy), journals and answers. wrk at 1 and 32 connections:
# req/s, p99 and the server's CPU time per request side by side in the same run; cold start of
# `contrail mock` to its first served response; peak memory of contrail mock under load. Needs
# wrk (apt-get install wrk).
# Everything listens on 127.0.0.1 and is stopped at the end. Asserts nothing.
#
#     bash bench/replay.sh [SECONDS]      (per round; ROUNDS=5 rounds)
#
# CARGO_TARGET_DIR is honoured (both servers are built and run from it): build profiles are
# compared by running the script once per target directory, each with its own baseline.
# BEFORE=/path/to/an/older/contrail adds that build's mock to the same run (before/after figures).
# On a shared machine, run it once with BEFORE= a copy of the same build too: how far one binary
# strays from itself in one run is the least difference a before/after run can show.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-4}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk"; exit 2; }
# As a user builds contrail (no dev-dependencies, whose features change tokio), the baseline
# alike (see Cargo.toml).
cargo build --release --quiet --features bench --bin contrail --bin hyper-baseline
bin=$(cd "${CARGO_TARGET_DIR:-target}/release" && pwd)
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT

# A workspace with one inline-schema partner and 100 recorded interactions (the mixed workload).
python3 bench/replay_workspace.py "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_us() { echo $(( $(date +%s%N) / 1000 )); }

# Cold start: process start to first served response.
port=$(free_port)
t0=$(now_us)
(cd "$work" && exec "$bin/contrail" mock api --port "$port" > "$work/mock.log" 2>&1) &
mock=$!; pids+=("$mock")
until curl -sf -o /dev/null "http://127.0.0.1:$port/items/0?view=full&lang=en&page=0"; do :; done
t1=$(now_us)
echo "cold start: contrail mock to first served response: $(( (t1 - t0) / 1000 )) ms"
mock_port=$port

before_port=
if [ -n "${BEFORE:-}" ]; then
  before_port=$(free_port)
  (cd "$work" && exec "$BEFORE" mock api --port "$before_port" > "$work/before.log" 2>&1) &
  before_pid=$!; pids+=("$before_pid")
  until curl -sf -o /dev/null "http://127.0.0.1:$before_port/items/0?view=full&lang=en&page=0"; do sleep 0.01; done
fi

port=$(free_port)
"$bin/hyper-baseline" "$port" "$work/recordings/api" > /dev/null &
hyper_pid=$!; pids+=("$hyper_pid")
until curl -sf -o /dev/null "http://127.0.0.1:$port/items/0?view=full&lang=en&page=0"; do sleep 0.01; done
hyper_port=$port

# The servers take turns (ROUNDS rounds of SECONDS each, default 5 x 4 s) and each figure is
# the median of its rounds: on a shared machine, a neighbour's burst then costs one round of
# one server, not a whole comparison. The order of the turns rotates from round to round, so
# that no server always runs first (or always after the same one). Each ratio is also given
# paired: the median of the rounds' own ratios, each of two servers measured seconds apart,
# which a load that changes over minutes moves less than the ratio of two medians.
servers="contrail=$mock_port:$mock hyper=$hyper_port:$hyper_pid${before_port:+ before=$before_port:$before_pid}"
python3 - "$work/mixed.lua" "${ROUNDS:-5}" "$secs" "$servers" <<'PY'
import os, re, statistics, subprocess, sys
lua, rounds, secs, servers = sys.argv[1], int(sys.argv[2]), sys.argv[3], dict(s.split("=") for s in sys.argv[4].split())
# The server's own CPU time per request (user + system, from /proc): unlike req/s it does not
# depend on how the machine shares its cores with wrk and the neighbours, only on the work done.
tick = os.sysconf("SC_CLK_TCK")
def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick
def us(t):
    n = re.match(r"[0-9.]+", t).group(0)
    return float(n) * {"us": 1, "ms": 1000, "s": 1000000}[t[len(n):]]
for conns in (1, 32):
    got = {name: [] for name in servers}
    cpu = {name: [] for name in servers}
    names = list(servers)
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            port, pid = servers[name].split(":")
            before = cpu_s(pid)
            out = subprocess.run(["wrk", "-t", "1" if conns < 2 else "2", "-c", str(conns), "-d", f"{secs}s",
                                  "--latency", "-s", lua, f"http://127.0.0.1:{port}"],
                                 capture_output=True, text=True).stdout
            bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            if bad:
                sys.exit(f"{name} answered {bad.group(1)} requests with an error status: not a figure")
            rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
            served = int(re.search(r"(\d+) requests in", out).group(1))
            cpu[name].append((cpu_s(pid) - before) * 1e6 / max(served, 1))
            p99 = us(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
            got[name].append((rps, p99))
    med = {n: (statistics.median(r for r, _ in v), statistics.median(p for _, p in v)) for n, v in got.items()}
    for n, (rps, p99) in med.items():
        print(f"{n:<9} {conns:>2} conn: {rps:>10.0f} req/s  p99 {p99:>7.0f} us  CPU {statistics.median(cpu[n]):5.2f} us/req"
              f"   (rounds: {' '.join(f'{r:.0f}' for r, _ in got[n])})")
    h = med["hyper"]
    for n in [n for n in med if n != "hyper"]:
        paired = statistics.median(a / b for (a, _), (b, _) in zip(got[n], got["hyper"]))
        print(f"ratio at {conns} conn: {n}/hyper = {med[n][0] / h[0]:.2f} (req/s; paired by round {paired:.2f}),"
              f" p99 {med[n][1] / h[1]:.2f}x the baseline's,"
              f" CPU per request {statistics.median(cpu[n]) / statistics.median(cpu['hyper']):.2f}x the baseline's")
PY
echo "peak RSS of contrail mock after the load: $(awk '/VmHWM/ {printf "%.1f MB", $2/1024}' /proc/$mock/status)"

#!/usr/bin/env bash
# Where the replay mock's time goes, in instructions (callgrind counts them: the figure does
# not depend on what else the machine is doing). The mock of bench/replay.sh's mixed workload
# runs under valgrind; a client sends the 100 requests N times over one keep-alive connection
# and checks every answer is 200; the script prints instructions per request and the top
# functions by inclusive cost. The same for the hyper baseline with BASELINE=1.
#
#     bash bench/replay_profile.sh [ROUNDS]      (default 20: 2,000 requests)
#
# BIN=/path/to/contrail profiles that build instead (one with debug info gives line costs);
# BASE_BIN=/path/to/hyper-baseline the same for the baseline. WARMUP=N sends N warm-up rounds
# (default 1); WARMUP=101 fills the mock's journal (10,000 requests), so that the measured
# requests also pay for dropping the oldest entry, as they do in any run longer than that.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-20}
command -v valgrind >/dev/null || { echo "valgrind is needed: apt-get install valgrind"; exit 2; }
# As a user builds contrail (no dev-dependencies, whose features change tokio), the baseline
# alike (see Cargo.toml).
cargo build --release --quiet --features bench --bin contrail --bin hyper-baseline
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT
python3 bench/replay_workspace.py "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

if [ -n "${BASELINE:-}" ]; then
    what="hyper baseline"
    cmd=("${BASE_BIN:-${CARGO_TARGET_DIR:-$PWD/target}/release/hyper-baseline}" "$port" "$work/recordings/api")
else
    what="contrail mock"
    # MOCK_ARGS: more arguments for `contrail mock` (`--journal-cap 100`, say).
    # shellcheck disable=SC2206
    cmd=("${BIN:-${CARGO_TARGET_DIR:-$PWD/target}/release/contrail}" mock api --port "$port" ${MOCK_ARGS:-})
fi
# One worker thread, so that the profile is one thread's story.
(cd "$work" && TOKIO_WORKER_THREADS=1 exec valgrind --tool=callgrind ${CACHE:+--cache-sim=yes} --callgrind-out-file="$work/cg.out" \
    "${cmd[@]}" > "$work/server.log" 2>&1) &
pids+=("$!")

# Warm-up rounds (loading, the index, lazy statics, the allocator's first pages), then a dump
# that closes it; the measured rounds, then a dump of those alone.
# CONNS=N spreads the requests over N keep-alive connections, N in flight at once (one per
# connection), as wrk does at N connections: the state of N connections then competes for the
# caches.
python3 - "$port" "$work/requests.http" "$rounds" "$what" "${pids[0]}" "${WARMUP:-1}" "${CONNS:-1}" <<'PY'
import socket, subprocess, sys, time
port, reqs, rounds, what, pid = int(sys.argv[1]), open(sys.argv[2], "rb").read().split(b"\0"), int(sys.argv[3]), sys.argv[4], sys.argv[5]
warmup, conns = int(sys.argv[6]), int(sys.argv[7])
deadline = time.time() + 120
while True:
    try:
        first = socket.create_connection(("127.0.0.1", port)); break
    except OSError:
        if time.time() > deadline: sys.exit(f"{what} never listened")
        time.sleep(0.2)
socks = [first] + [socket.create_connection(("127.0.0.1", port)) for _ in range(conns - 1)]
files = [s.makefile("rb") for s in socks]
def answer(f):
    status = f.readline().split()[1]
    length = 0
    while (line := f.readline()) not in (b"\r\n", b""):
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length": length = int(v)
    f.read(length)
    return status
def round_():
    for at in range(0, len(reqs), conns):
        batch = reqs[at:at + conns]
        for s, raw in zip(socks, batch):
            s.sendall(raw)
        for f, raw in zip(files, batch):
            st = answer(f)
            if st != b"200": sys.exit(f"{what} answered {st.decode()} to {raw.split(b' ')[1].decode()}: not a figure")
for r in range(warmup):
    round_()
subprocess.run(["callgrind_control", "--dump=warm-up", pid], check=True, capture_output=True)
for r in range(rounds):
    round_()
subprocess.run(["callgrind_control", "--dump=measured", pid], check=True, capture_output=True)
print(f"{rounds * len(reqs)} requests answered 200 (after {warmup} warm-up rounds)")
PY
kill "${pids[@]}" 2>/dev/null || true
wait 2>/dev/null || true
n=$((rounds * 100))
measured=$(grep -l 'measured' "$work"/cg.out.* | head -1)
# KEEP=FILE keeps the measured profile (for callgrind_annotate --tree=caller, kcachegrind).
if [ -n "${KEEP:-}" ]; then cp "$measured" "$KEEP"; fi
total=$(callgrind_annotate "$measured" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",","",$1); print $1}')
echo "$what: $total instructions for $n requests: $((total / n)) per request (every thread, the socket work included)"
callgrind_annotate --inclusive=yes "$measured" 2>/dev/null | grep -E '^ *[0-9,]+ ' | head -"${TOP:-40}"

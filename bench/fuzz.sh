#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ for SECONDS each (default 600) and prints, per target, the
# executions, the coverage reached and the findings. Corpora are seeded from the bundled files
# (bench/fuzz_seed.py) into fuzz/corpus/ (not committed) and grow across runs; a crashing
# input lands in fuzz/artifacts/<target>/. Exit 1 when any target found something.
#
#     bash bench/fuzz.sh [SECONDS] [TARGET...]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). libFuzzer needs a nightly compiler: the
# installed nightly when there is one, else the stable one with RUSTC_BOOTSTRAP=1. No
# sanitizer (`--sanitizer none`): the code is safe Rust, and the stable route has none.
# Everything the mock targets start listens on 127.0.0.1 inside the fuzzing process.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}
shift || true

command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz is needed: cargo install cargo-fuzz --locked"; exit 2; }
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    fuzz=(cargo +nightly fuzz)
else
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <("${fuzz[@]}" list)
fi

"${fuzz[@]}" build --sanitizer none -O
python3 bench/fuzz_seed.py . fuzz/corpus >/dev/null

found=0
printf '%-14s %12s %9s %8s %9s\n' target executions exec/s cov findings
for t in "${targets[@]}"; do
    mkdir -p "fuzz/artifacts/$t"
    log=$(mktemp)
    before=$(find "fuzz/artifacts/$t" -type f ! -name '*.log' | wc -l)
    # -timeout: one input over 10 s is a finding (a hang); -rss_limit_mb: a leak or a bomb is.
    "${fuzz[@]}" run --sanitizer none -O "$t" "fuzz/corpus/$t" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 -max_len=65536 \
        -artifact_prefix="fuzz/artifacts/$t/" -print_final_stats=1 >"$log" 2>&1 || true
    after=$(find "fuzz/artifacts/$t" -type f ! -name '*.log' | wc -l)
    # A crash can end a run before libFuzzer prints a figure: a missing one is "?", not the
    # end of this script (which would hide the finding's report below).
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1 || true)
    rate=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1 || true)
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)
    new=$((after - before))
    printf '%-14s %12s %9s %8s %9s\n' "$t" "${runs:-?}" "${rate:-?}" "${cov:-?}" "$new"
    if [ "$new" -gt 0 ] || grep -qE '^==[0-9]+== ERROR|panicked at' "$log"; then
        found=1
        grep -E 'panicked at|ERROR: libFuzzer|SUMMARY' -A 3 "$log" | head -20 | sed 's/^/    /'
        cp "$log" "fuzz/artifacts/$t/last-run.log"
    fi
    rm -f "$log"
done
exit $found

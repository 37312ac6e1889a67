# Sourced by the bench scripts: builds the release binaries, makes $work (removed on exit),
# starts the demo partner on a free 127.0.0.1 port with the arguments in the array
# partner_args, if set (stopped on exit)
# and sets $url to it; defines median.
cargo build --release --quiet --bins
work=$(mktemp -d)
trap 'kill "$partner" 2>/dev/null || true; rm -rf "$work"' EXIT
target/release/contrail-demo-partner --port 0 ${partner_args[@]+"${partner_args[@]}"} > "$work/partner.log" 2>&1 &
partner=$!
for _ in $(seq 50); do grep -q "listening on" "$work/partner.log" && break; sleep 0.1; done
url=$(awk '/listening on/ { print $3; exit }' "$work/partner.log")
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

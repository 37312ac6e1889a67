#!/usr/bin/env bash
# Wall time of a partner's `contrail verify` of the demo partner's bundle (ticketing, made
# from the bundled suite), against the healthy demo partner, N runs, with generated conformance
# (the default, 10 examples per operation) and without it; and of making the bundle.
# Prints each time and the medians.
#
#     bench/verify.sh [N]     (default 5; builds the release binaries first)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-5}
source bench/demo-partner.sh
secs() { local start end; start=$(date +%s.%N); "$@" > /dev/null 2>&1 || true; end=$(date +%s.%N); echo "$end - $start" | bc; }
bundle=(); verify=(); scenarios_only=()
for i in $(seq "$n"); do
  bundle+=("$(secs target/release/contrail bundle --partner ticketing --out "$work/t.contrail")")
  verify+=("$(cd "$work" && TICKETING_CLIENT_ID=contrail-qa TICKETING_CLIENT_SECRET=qa-secret \
    secs "$OLDPWD/target/release/contrail" verify t.contrail --base-url "$url" --color never)")
  scenarios_only+=("$(cd "$work" && TICKETING_CLIENT_ID=contrail-qa TICKETING_CLIENT_SECRET=qa-secret \
    secs "$OLDPWD/target/release/contrail" verify t.contrail --base-url "$url" --color never --conform-examples 0)")
  echo "run $i: bundle ${bundle[-1]} s, verify ${verify[-1]} s, verify without conformance ${scenarios_only[-1]} s"
done
echo "median bundle: $(median "${bundle[@]}") s ($(stat -c %s "$work/t.contrail") bytes)"
echo "median verify without conformance: $(median "${scenarios_only[@]}") s"
echo "median verify: $(median "${verify[@]}") s ($(python3 -c "import json;r=json.load(open('$work/verification-ticketing.json'));print(r['verdict'], r['counts']['scenarios'], 'scenarios')"))"

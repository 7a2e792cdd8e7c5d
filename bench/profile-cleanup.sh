#!/usr/bin/env bash
# CPU profiles of one cleanup worker run by hand (cmd/worker), on a clean
# product (up to date, no reports) and on a copy of
# testdata/codechecker/product-sample.sqlite, with the label set of
# testdata/labels. Each job runs N times (default 20) into one profile, so
# that the few milliseconds of one worker give enough samples.
# Usage: bench/profile-cleanup.sh [OUTDIR]   (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/supervisor-profile}
N=${N:-20}
rm -rf "$OUT"; mkdir -p "$OUT"
go build -o "$OUT/worker" ./cmd/worker
go build -o "$OUT/fleetgen" ./integration/cmd/fleetgen
"$OUT/fleetgen" -w "$OUT/clean" --products 1 --reports 0 --version latest >/dev/null
clean=$(ls "$OUT"/clean/products/*.sqlite | head -1)
cp "$clean" "$OUT/clean.sqlite"
labels=$PWD/testdata/labels
for case in clean sample; do
	for i in $(seq "$N"); do
		if [ "$case" = clean ]; then cp "$OUT/clean.sqlite" "$OUT/db.sqlite"
		else cp testdata/codechecker/product-sample.sqlite "$OUT/db.sqlite"; fi
		echo '{"action":"cleanup","endpoint":"P","target":{"dialect":"sqlite","path":"'"$OUT/db.sqlite"'"},"options":{"checker_labels":"'"$labels"'"}}' |
			SUPERVISOR_WORKER_CPUPROFILE="$OUT/$case.$i.prof" "$OUT/worker" >"$OUT/$case.result" 2>"$OUT/$case.log"
	done
	go tool pprof -top -cum -nodecount=30 "$OUT/worker" "$OUT"/$case.*.prof 2>/dev/null >"$OUT/$case.top"
	echo "== $case ($N runs): $(cat "$OUT/$case.result")"
	head -32 "$OUT/$case.top"
done

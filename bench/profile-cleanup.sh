#!/usr/bin/env bash
# CPU profiles of one cleanup worker run by hand (cmd/worker), on a clean
# product (up to date, no reports) and on a copy of
# testdata/codechecker/product-sample.sqlite (migrated), with the label set of
# testdata/labels. Each job runs N times (default 20) into one profile, so
# that the few milliseconds of one worker give enough samples.
# LABELS=dir passes the label directory ("checker_labels", as a spec
# written by hand does, and as every worker did before the digest);
# LABELS=digest (the default) passes its digest ("severity_labels"), as the
# supervisor does.
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
opt='"checker_labels":"'"$labels"'"'
if [ "${LABELS:-digest}" = digest ]; then
	go run ./bench/labeldigest "$labels" >"$OUT/digest.json"
	opt='"severity_labels":'"$(cat "$OUT/digest.json")"
fi
# The sample is at an older schema version: migrate it once (cleanup only
# runs on an up-to-date database).
cp testdata/codechecker/product-sample.sqlite "$OUT/sample.sqlite"
echo '{"action":"migrate","endpoint":"P","target":{"dialect":"sqlite","path":"'"$OUT/sample.sqlite"'"}}' |
	"$OUT/worker" >/dev/null 2>&1
for case in clean sample; do
	for i in $(seq "$N"); do
		if [ "$case" = clean ]; then cp "$OUT/clean.sqlite" "$OUT/db.sqlite"
		else cp "$OUT/sample.sqlite" "$OUT/db.sqlite"; fi
		echo '{"action":"cleanup","endpoint":"P","target":{"dialect":"sqlite","path":"'"$OUT/db.sqlite"'"},"options":{'"$opt"'}}' |
			SUPERVISOR_WORKER_CPUPROFILE="$OUT/$case.$i.prof" "$OUT/worker" >"$OUT/$case.result" 2>"$OUT/$case.log"
	done
	go tool pprof -top -cum -nodecount=30 "$OUT/worker" "$OUT"/$case.*.prof 2>/dev/null >"$OUT/$case.top"
	echo "== $case ($N runs): $(cat "$OUT/$case.result")"
	head -32 "$OUT/$case.top"
done

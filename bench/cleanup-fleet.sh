#!/usr/bin/env bash
# Wall and CPU time of `supervisor cleanup -j 2` on 200 clean products (up to
# date, no reports) and on 50 copies of testdata/codechecker/product-sample.sqlite
# (migrated to the latest version first), each restored before every run,
# with the label set of testdata/labels. Prints each run and the median of
# RUNS (default 5), per product.
# Usage: bench/cleanup-fleet.sh SUPERVISOR [OUTDIR]   (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/.."
S=$(realpath "$1")
OUT=${2:-/tmp/supervisor-cleanup-bench}
RUNS=${RUNS:-5}
rm -rf "$OUT"; mkdir -p "$OUT"
go build -o "$OUT/fleetgen" ./integration/cmd/fleetgen
# The registry holds absolute paths: each fleet is made in $OUT/ws (where
# the runs find it) and kept as a copy to restore from.
"$OUT/fleetgen" -w "$OUT/ws" --products 200 --reports 0 --version latest >/dev/null
mv "$OUT/ws" "$OUT/clean.orig"
"$OUT/fleetgen" -w "$OUT/ws" --products 50 --reports 0 --version latest >/dev/null
for f in "$OUT"/ws/products/*.sqlite; do cp testdata/codechecker/product-sample.sqlite "$f"; done
"$S" -w "$OUT/ws" migrate -y -j 2 >/dev/null 2>&1
mv "$OUT/ws" "$OUT/sample.orig"
labels=$PWD/testdata/labels
for case in clean:200 sample:50; do
	name=${case%:*} n=${case#*:}
	: >"$OUT/$name.times"
	for i in $(seq "$RUNS"); do
		rm -rf "$OUT/ws"; cp -a "$OUT/$name.orig" "$OUT/ws"
		/usr/bin/time -f '%e %U %S' -o "$OUT/time" "$S" -w "$OUT/ws" cleanup -j 2 --checker-labels "$labels" >"$OUT/$name.out" 2>&1 || true
		cat "$OUT/time" >>"$OUT/$name.times"
	done
	python3 - "$OUT/$name.times" "$n" "$name" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
n = int(sys.argv[2])
wall = [r[0] for r in rows]; cpu = [r[1] + r[2] for r in rows]
print(f"{sys.argv[3]} x{n}: runs wall {wall} cpu {[round(c, 2) for c in cpu]}")
print(f"{sys.argv[3]} x{n}: median wall {statistics.median(wall):.2f} s ({1000*statistics.median(wall)/n:.1f} ms/product), "
      f"CPU {statistics.median(cpu):.2f} s ({1000*statistics.median(cpu)/n:.1f} ms/product)")
PY
done

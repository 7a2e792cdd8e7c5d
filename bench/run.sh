#!/usr/bin/env bash
# make bench: the figures of BENCHMARKS.md. Run from the repository root after
# `make build`. BENCH_DIR (default /tmp/supervisor-bench) holds the fleets; it
# needs about 3 GB. BENCH_QUICK=1 makes every fleet 10x smaller.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/pgcluster.sh
S=$PWD/bin/supervisor
G=$PWD/bin/fleetgen
OUT=${BENCH_DIR:-/tmp/supervisor-bench}
scale=1; [ "${BENCH_QUICK:-}" = 1 ] && scale=10
rm -rf "$OUT"; mkdir -p "$OUT"

now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2-$1:.2f}')"; }
# timeit LABEL CMD...: run CMD once, print and record its wall time.
timeit() {
	local label=$1; shift
	local t0 t1; t0=$(now); "$@" >"$OUT/last.out" 2>"$OUT/last.err" || true; t1=$(now)
	printf '%-60s %8s s\n' "$label" "$(secs "$t0" "$t1")" | tee -a "$OUT/results.txt"
}
peak_rss() { grep -o 'peak_rss_mib=[0-9]*' "$OUT/last.err" | head -1 | cut -d= -f2; }

echo "# $(date -u +%FT%TZ) on $(nproc) cores, $(git rev-parse --short HEAD 2>/dev/null)" | tee "$OUT/results.txt"

# 1. 200 up-to-date SQLite products: status and migrate overhead.
n=$((200 / scale))
$G -w "$OUT/ws200" --products $n --reports 100 --version latest >/dev/null
for i in 1 2 3; do timeit "status -j 2, $n up-to-date SQLite products (run $i)" $S -w "$OUT/ws200" status -j 2; done
for i in 1 2 3; do timeit "migrate -j 2 -y, $n up-to-date SQLite products (run $i)" $S -w "$OUT/ws200" migrate -j 2 -y; done
# A worker process per product, every time: cleanup of the same small products.
for i in 1 2 3; do timeit "cleanup -j 2, $n small SQLite products, one worker each (run $i)" $S -w "$OUT/ws200" cleanup -j 2; done

# 2. 8 SQLite products x 200k reports through the table-rebuilding version (001 -> 002).
r=$((200000 / scale))
$G -w "$OUT/ws8" --products 8 --reports $r --version 001 >/dev/null
cp -a "$OUT/ws8" "$OUT/ws8.orig"
timeit "migrate -j 1 -y, 8 SQLite products x $r reports, 001 -> 002" $S -w "$OUT/ws8" migrate -j 1 -y
rm -rf "$OUT/ws8"; cp -a "$OUT/ws8.orig" "$OUT/ws8"
timeit "migrate -j 2 -y, 8 SQLite products x $r reports, 001 -> 002" $S -w "$OUT/ws8" migrate -j 2 -y
rm -rf "$OUT/ws8" "$OUT/ws8.orig"

# 3. Cleanup of one product with 1M reports and 30% garbage files.
r=$((1000000 / scale))
$G -w "$OUT/ws1m" --products 1 --reports $r --garbage 0.3 --version latest >/dev/null
timeit "cleanup, 1 SQLite product x $r reports, 30% garbage files" $S -w "$OUT/ws1m" --log-level debug cleanup --checker-labels testdata/labels
echo "   worker peak RSS: $(peak_rss) MiB" | tee -a "$OUT/results.txt"
rm -rf "$OUT/ws1m"

pg_start
$G -w "$OUT/wspg" --products 1 --reports $r --garbage 0.3 --version latest --pg-host "$PGHOST" --pg-port "$PGPORT" --prefix pgbench >/dev/null
timeit "cleanup, 1 PostgreSQL product x $r reports, 30% garbage files" $S -w "$OUT/wspg" --log-level debug cleanup --checker-labels testdata/labels
echo "   worker peak RSS: $(peak_rss) MiB" | tee -a "$OUT/results.txt"
pg_stop
rm -rf "$OUT/ws200" "$OUT/wspg"

echo "results: $OUT/results.txt"

#!/usr/bin/env bash
# B5 query plans (issue 11): the cleanup's sweeps in each form of the
# "unused" test (NOT EXISTS, NOT IN, LEFT JOIN ... IS NULL, and per-dialect
# variants) and batch size, on one generated product of 1M reports with 30%
# garbage files, SQLite and PostgreSQL; then the whole cleanup as production
# runs it. Prints a markdown table on stdout (progress on stderr); exits 1
# when two variants of a sweep removed different rows.
# Usage (from anywhere): bench/cleanupplans.sh
#   QUICK=1      100k reports instead of 1M
#   REPS=N       runs of every measurement, median reported (default 3)
#   BENCH_DIR    scratch directory (default /tmp/supervisor-cleanupplans)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/pgcluster.sh
OUT=${BENCH_DIR:-/tmp/supervisor-cleanupplans}
REPS=${REPS:-3}
reports=1000000; [ "${QUICK:-}" = 1 ] && reports=100000
rm -rf "$OUT"; mkdir -p "$OUT"
go build -o "$OUT/fleetgen" ./integration/cmd/fleetgen
go build -o "$OUT/cleanupplans" ./bench/cmd/cleanupplans

echo "cleanupplans: generating 1 product x $reports reports, 30% garbage files (SQLite, then PostgreSQL)" >&2
"$OUT/fleetgen" -w "$OUT/ws" --products 1 --reports "$reports" --garbage 0.3 --version latest >&2
pg_start
"$OUT/fleetgen" -w "$OUT/wspg" --products 1 --reports "$reports" --garbage 0.3 --version latest \
	--pg-host "$PGHOST" --pg-port "$PGPORT" --prefix plans >&2
# Statistics as a live server's autovacuum keeps them, not whatever it
# managed during the generation: the plans depend on them.
"$(pg_bindir)/psql" -qd plans000 -c ANALYZE

echo "### Cleanup query plans: 1 product x $reports reports, 30% garbage files ($(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(git rev-parse --short HEAD 2>/dev/null))"
echo
echo "Each sweep runs in a transaction that is rolled back, on one work copy; median of $REPS runs after"
echo "one untimed run, variants round-robin; a variant over 3x the fastest in the untimed run is not repeated."
echo "CPU: this process's for SQLite, the PostgreSQL backend's (parallel workers not counted) for PostgreSQL."
echo "Whole cleanup: \`cleanup.Run\` with testdata/labels on a fresh copy each run. Command: \`bench/cleanupplans.sh\`."
echo
"$OUT/cleanupplans" --sqlite "$OUT/ws/products/p000.sqlite" --work "$OUT" --pg-db plans000 \
	--reps "$REPS" --labels testdata/labels
rm -rf "$OUT"

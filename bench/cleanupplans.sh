#!/usr/bin/env bash
# B5 query plans (issue 11): the cleanup's sweeps in each form of the
# "unused" test (NOT EXISTS, NOT IN, LEFT JOIN ... IS NULL, and per-dialect
# variants) and batch size, on one generated product of 1M reports with 30%
# garbage files, SQLite and PostgreSQL; then the whole cleanup as production
# runs it. Prints one markdown section on stdout (progress on stderr); exits 1
# when two variants of a sweep removed different rows.
# Usage (from anywhere): bench/cleanupplans.sh
#   QUICK=1 (or BENCH_QUICK=1)   100k reports instead of 1M
#   CLEANUPPLANS_REPORTS=N      N reports instead of 1M (make bench: 200k, for its budget)
#   REPS=N (or BENCH_RUNS=N)     runs of every measurement, median reported (default 3)
#   BENCH_DIR                    scratch directory (default /tmp/supervisor-cleanupplans)
#   FLEETGEN                     a built fleetgen (default: built here)
#   PGHOST, PGPORT, PGUSER, PGPASSWORD: a PostgreSQL server to use; without
#   one that answers, a throwaway cluster is started (bench/pgcluster.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/pgcluster.sh
OUT=${BENCH_DIR:-/tmp/supervisor-cleanupplans}
REPS=${REPS:-${BENCH_RUNS:-3}}
QUICK=${QUICK:-${BENCH_QUICK:-}}
reports=${CLEANUPPLANS_REPORTS:-1000000}; [ "$QUICK" = 1 ] && reports=100000
rm -rf "$OUT"; mkdir -p "$OUT"
G=${FLEETGEN:-}
if [ -z "$G" ]; then G=$OUT/fleetgen; go build -o "$G" ./integration/cmd/fleetgen; fi
go build -o "$OUT/cleanupplans" ./bench/cmd/cleanupplans

if [ -n "${PGHOST:-}" ] && [ -n "${PGPORT:-}" ] && "$(pg_bindir)/pg_isready" -q -h "$PGHOST" -p "$PGPORT"; then
	shared=1
else
	shared=0
	pg_start
fi
db=cleanupplans000
cleanup() {
	rm -rf "$OUT"
	if [ "$shared" = 1 ]; then
		"$(pg_bindir)/psql" -qd postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
	else
		pg_stop
	fi
}
trap cleanup EXIT

echo "cleanupplans: generating 1 product x $reports reports, 30% garbage files (SQLite, then PostgreSQL)" >&2
"$G" -w "$OUT/ws" --products 1 --reports "$reports" --garbage 0.3 --version latest >&2
"$G" -w "$OUT/wspg" --products 1 --reports "$reports" --garbage 0.3 --version latest \
	--pg-host "$PGHOST" --pg-port "$PGPORT" --prefix cleanupplans >&2
# Statistics as a live server's autovacuum keeps them, not whatever it
# managed during the generation: the plans depend on them.
"$(pg_bindir)/psql" -qd "$db" -c ANALYZE

echo "### Cleanup query plans: 1 product x $reports reports, 30% garbage files ($(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(git rev-parse --short HEAD 2>/dev/null))"
echo
echo "Each sweep runs in a transaction that is rolled back, on one work copy; median of $REPS runs after"
echo "one untimed run, variants round-robin; a variant over 3x the fastest in the untimed run is not repeated,"
echo "and a run over 4x (at least 2 s) is stopped. Production form: NOT EXISTS, batch 5000 on SQLite, 60000 on PostgreSQL."
echo "CPU: this process's for SQLite, the PostgreSQL backend's (parallel workers not counted) for PostgreSQL."
echo "Whole cleanup: \`cleanup.Run\` with testdata/labels on a fresh copy each run. Command: \`bench/cleanupplans.sh\`."
echo
"$OUT/cleanupplans" --sqlite "$OUT/ws/products/p000.sqlite" --work "$OUT" --pg-db "$db" \
	--reps "$REPS" --labels testdata/labels

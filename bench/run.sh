#!/usr/bin/env bash
# make bench: measures every figure of BENCHMARKS.md (issue 11: B1-B6, the
# headline cases, the exec floor, the Go benchmarks) and writes it with
# bench/report.py, which computes every median and ratio from the
# measurements: no number in BENCHMARKS.md is typed by hand. The notes
# (explanations of missed targets) are bench/NOTES.md, kept verbatim.
#
# Run from the repository root after `make build` (make bench does both).
#   BENCH_DIR    scratch space (default /tmp/supervisor-bench; about 6 GB)
#   BENCH_QUICK=1  every fleet 10x smaller, 3 runs a figure, and the report
#                goes to $BENCH_DIR/BENCHMARKS.md instead of ./BENCHMARKS.md
#   BENCH_RUNS   runs per figure (default 5; the median is reported)
#   BENCH_ONLY   space-separated sections to run (floor b1 head b2 b3 b4 b5
#                b6 coop gobench); the report (in $BENCH_DIR) holds only those
# Budget on the project's 2-core VM, quiet: under 15 minutes in all; each
# section prints its elapsed time, and the report lists them.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
. bench/pgcluster.sh
S=$ROOT/bin/supervisor
G=$ROOT/bin/fleetgen
LABELS=$ROOT/testdata/labels
OUT=${BENCH_DIR:-/tmp/supervisor-bench}
QUICK=${BENCH_QUICK:-}
scale=1 RUNS=${BENCH_RUNS:-5}
if [ "$QUICK" = 1 ]; then scale=10 RUNS=${BENCH_RUNS:-3}; fi
ONLY=${BENCH_ONLY:-floor b1 head b2 b3 b4 b5 b6 coop gobench}
M=$OUT/m   # the measurements report.py reads
rm -rf "$OUT"; mkdir -p "$M" "$OUT/bin"
T0=$(date +%s.%N)

want() { [[ " $ONLY " == *" $1 "* ]]; }

# section NAME: starts a section; the elapsed time of each goes to
# sections.tsv (start and end stamps), and is printed.
cur= cur_t=
section() {
	local t; t=$(date +%s.%N)
	if [ -n "$cur" ]; then
		printf '%s\t%s\t%s\n' "$cur" "$cur_t" "$t" >>"$M/sections.tsv"
		awk -v a="$cur_t" -v b="$t" -v z="$T0" -v s="$cur" 'BEGIN{printf "== %s done in %.1f s (total %.1f s)\n", s, b-a, b-z}'
	fi
	cur=$1 cur_t=$t
	[ -n "$cur" ] && echo "== $cur"
	return 0
}

# run1 ID N CMD...: one more run of ID's series: calls the shell function
# named by $RESTORE first (if set; not timed) to put the fleet back, then
# runs CMD under /usr/bin/time. @RUN@ in an argument becomes the run's
# number (per-run report files). Records, once, the command and the
# product count N (for the per product figures), and per run "wall user sys
# maxrss_kb exit". $SHOW, if set, is the command as the report shows it (a
# glob instead of 8 paths). Series compared with each other (-j 1 and
# -j 2, the supervisor and its floor) take their runs in turns, so that a
# change of load during the section weighs on each alike.
run1() {
	local id=$1 n=$2; shift 2
	if [ ! -e "$M/$id.times" ]; then
		printf '%s\t%s\t%s\n' "$id" "$n" "${SHOW:-$*}" >>"$M/index.tsv"
		: >"$M/$id.times"
	fi
	local i rc=0 args
	i=$(($(wc -l <"$M/$id.times") + 1))
	[ -n "${RESTORE:-}" ] && "$RESTORE"
	args=("${@//@RUN@/$i}")
	/usr/bin/time -f '%e %U %S %M' -o "$M/time" "${args[@]}" >"$M/$id.$i.out" 2>"$M/$id.$i.err" || rc=$?
	echo "$(tail -1 "$M/time") $rc" >>"$M/$id.times"
}

# show ID...: prints the wall times of each series.
show() {
	local id
	for id; do printf '   %-28s %s\n' "$id" "$(awk '{printf "%s ", $1} END{print "s (wall per run)"}' "$M/$id.times")"; done
}

# measure ID N CMD...: a series of $RUNS runs (run1) one after another.
measure() {
	local i
	for i in $(seq "$RUNS"); do run1 "$@"; done
	show "$1"
}

# measure_hwm ID N CMD...: measure, with the supervisor's own peak RSS
# (VmHWM of the process, sampled by bench/hwm.py) as a sixth column.
measure_hwm() {
	local id=$1 n=$2; shift 2
	printf '%s\t%s\t%s\n' "$id" "$n" "$*" >>"$M/index.tsv"
	: >"$M/$id.times"
	local i
	for i in $(seq "$RUNS"); do
		[ -n "${RESTORE:-}" ] && "$RESTORE"
		python3 bench/hwm.py "$M/time" "${@//@RUN@/$i}" >"$M/$id.$i.out" 2>"$M/$id.$i.err" || true
		cat "$M/time" >>"$M/$id.times"
	done
	printf '   %-28s %s\n' "$id" "$(awk '{printf "%s ", $1} END{print "s (wall per run)"}' "$M/$id.times")"
}

# restore_from ORIG DEST: the fleet copied back before a run.
restore_dir() { rm -rf "$RDEST"; cp -a "$RORIG" "$RDEST"; }

# Machine and build, for the report's header.
{
	echo "date=$(date -u +%FT%TZ)"
	echo "nproc=$(nproc)"
	echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
	echo "mem_kib=$(awk '/MemTotal/{print $2}' /proc/meminfo)"
	echo "kernel=$(uname -r)"
	echo "go=$(go version | cut -d' ' -f3-)"
	echo "commit=$(git describe --always --dirty 2>/dev/null || echo unknown)"
	echo "load_start=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "quick=$QUICK"
	echo "runs=$RUNS"
	echo "scale=$scale"
	echo "root=$ROOT"
	echo "out=$OUT"
} >"$M/machine.env"

section build
go build -o "$OUT/bin/empty" ./bench/cmd/empty
go build -o "$OUT/bin/execfloor" ./bench/cmd/execfloor
go build -o "$OUT/bin/floor" ./bench/cmd/floor
go build -o "$OUT/bin/logflood" ./bench/cmd/logflood
B=$OUT/bin

# --- The exec floor: what starting a process costs, in this run. --------
if want floor; then
	section floor
	for what in true:/bin/true empty:$B/empty version:"$S version"; do
		id=${what%%:*} cmd=${what#*:}
		printf '%s\t1\t%s\n' "floor.$id" "bench/cmd/execfloor -n 200 $cmd" >>"$M/index.tsv"
		# shellcheck disable=SC2086
		"$B/execfloor" -n 200 $cmd >"$M/floor.$id.json"
	done
fi

# --- B1: fixed overhead over 500 up-to-date, clean SQLite products. -----
if want b1; then
	section b1
	n=$((500 / scale))
	$G -w "$OUT/b1" --products $n --reports 0 --version latest >/dev/null
	for c in status "migrate -y" "cleanup --checker-labels $LABELS"; do
		id=b1.${c%% *}
		for i in $(seq "$RUNS"); do
			# shellcheck disable=SC2086
			for j in 1 2; do run1 "$id.j$j" $n $S -w "$OUT/b1" $c -j $j; done
		done
		show "$id.j1" "$id.j2"
	done
	rm -rf "$OUT/b1"
fi

# --- The headline cases of issue 11 (bench/cleanup-fleet.sh, init50.sh). -
if want head; then
	section head
	n=$((200 / scale))
	$G -w "$OUT/clean" --products $n --reports 0 --version latest >/dev/null
	measure head.cleanup.clean $n $S -w "$OUT/clean" cleanup -j 2 --checker-labels "$LABELS"
	rm -rf "$OUT/clean"
	n=$((50 / scale))
	$G -w "$OUT/sample" --products $n --reports 0 --version latest >/dev/null
	for f in "$OUT"/sample/products/*.sqlite; do cp testdata/codechecker/product-sample.sqlite "$f"; done
	$S -w "$OUT/sample" migrate -y -j 2 >/dev/null 2>&1
	cp -a "$OUT/sample" "$OUT/sample.orig"
	RORIG=$OUT/sample.orig RDEST=$OUT/sample RESTORE=restore_dir \
		measure head.cleanup.sample $n $S -w "$OUT/sample" cleanup -j 2 --checker-labels "$LABELS"
	rm -rf "$OUT/sample" "$OUT/sample.orig"
	# migrate of N missing files: each worker creates and initialises one.
	$S -w "$OUT/init" init --no-default >/dev/null 2>&1
	for i in $(seq -w 1 $n); do $S -w "$OUT/init" products add "p$i" --sqlite "$OUT/init/db/p$i.sqlite" --no-check >/dev/null 2>&1; done
	mkdir -p "$OUT/init/db"
	rm_init() { rm -f "$OUT"/init/db/*; }
	RESTORE=rm_init measure head.migrate.init $n $S -w "$OUT/init" migrate -y -j 2
	rm -rf "$OUT/init"
fi

# --- B2: the table-rebuilding migration (001 -> 002), 8 x 200k reports. -
if want b2; then
	section b2
	r=$((200000 / scale))
	echo "b2_reports=$r" >>"$M/machine.env"
	$G -w "$OUT/b2" --products 8 --reports $r --version 001 >/dev/null
	cp -a "$OUT/b2" "$OUT/b2.orig"
	RORIG=$OUT/b2.orig RDEST=$OUT/b2 RESTORE=restore_dir
	for i in $(seq "$RUNS"); do
		for j in 1 2; do run1 "b2.migrate.j$j" 8 $S -w "$OUT/b2" migrate -y -j $j --report "$M/b2.migrate.j$j.@RUN@.json"; done
		SHOW="$B/floor $OUT/b2/products/*.sqlite" run1 b2.floor 8 "$B/floor" "$OUT"/b2/products/*.sqlite
	done
	show b2.migrate.j1 b2.migrate.j2 b2.floor
	RESTORE=
	rm -rf "$OUT/b2" "$OUT/b2.orig"
fi

# --- B3: 2 workers x 1M log lines through the merge. ----------------------
if want b3; then
	section b3
	measure b3.logflood 1 "$B/logflood" -workers 2 -lines $((1000000 / scale))
fi

# --- B4: the supervisor's own peak RSS, 1000 products, and at -j 64. ------
if want b4; then
	section b4
	n=$((1000 / scale))
	$G -w "$OUT/b4" --products $n --reports 0 --version latest >/dev/null
	measure_hwm b4.status.j2 $n $S -w "$OUT/b4" status -j 2
	measure_hwm b4.cleanup.j64 $n $S -w "$OUT/b4" cleanup -j 64 --checker-labels "$LABELS" --report "$M/b4.cleanup.j64.@RUN@.json"
	rm -rf "$OUT/b4"
fi

# PostgreSQL: one throwaway server for B5 and B6 (fsync off).
if want b5 || want b6 || want coop; then
	section postgres
	pg_start
	psql_() { psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@" >/dev/null; }
	echo "server=$(psql -X -At -d postgres -c 'SHOW server_version')" >>"$M/machine.env"
fi

# --- B5: cleanup of 1 product, 1M reports, 30% garbage files. -------------
if want b5; then
	section b5
	r=$((1000000 / scale))
	echo "b5_reports=$r" >>"$M/machine.env"
	$G -w "$OUT/b5" --products 1 --reports $r --garbage 0.3 --version latest >/dev/null
	cp -a "$OUT/b5" "$OUT/b5.orig"
	RORIG=$OUT/b5.orig RDEST=$OUT/b5 RESTORE=restore_dir \
		measure b5.sqlite 1 $S -w "$OUT/b5" cleanup --checker-labels "$LABELS" --report "$M/b5.sqlite.@RUN@.json"
	rm -rf "$OUT/b5" "$OUT/b5.orig"
	$G -w "$OUT/b5pg" --products 1 --reports $r --garbage 0.3 --version latest \
		--pg-host "$PGHOST" --pg-port "$PGPORT" --prefix b5p >/dev/null
	psql_ -c 'CREATE DATABASE b5t TEMPLATE b5p000 STRATEGY FILE_COPY'
	restore_b5pg() { psql_ -c 'DROP DATABASE b5p000 WITH (FORCE)' -c 'CREATE DATABASE b5p000 TEMPLATE b5t STRATEGY FILE_COPY'; }
	RESTORE=restore_b5pg measure b5.postgres 1 $S -w "$OUT/b5pg" cleanup --checker-labels "$LABELS" --report "$M/b5.postgres.@RUN@.json"
	psql_ -c 'DROP DATABASE b5p000 WITH (FORCE)' -c 'DROP DATABASE b5t'
	rm -rf "$OUT/b5pg"

	# ---- Query-plan alternatives for cleanup (issue 11 B5; branch h11b) ----
	# bench/cleanupplans.sh, when present, measures them: it gets the
	# environment below (the PostgreSQL server is up) and prints one
	# Markdown section on stdout, which the report includes as it is.
	if [ -x bench/cleanupplans.sh ]; then
		section cleanupplans
		rc=0
		# 200k reports, not B5's 1M: every variant of every sweep, 5 times,
		# at 1M takes about 7 minutes alone (run bench/cleanupplans.sh for
		# that); B5 above times production's plan at 1M.
		CLEANUPPLANS_REPORTS=$((1000000 / 5 / scale)) \
		BENCH_DIR=$OUT/plans BENCH_QUICK=$QUICK BENCH_RUNS=$RUNS SUPERVISOR=$S FLEETGEN=$G \
			bench/cleanupplans.sh >"$M/extra.cleanupplans.md" 2>"$M/extra.cleanupplans.err" || rc=$?
		echo "$rc" >"$M/extra.cleanupplans.rc"
		rm -rf "$OUT/plans"
	fi
fi

# --- B6: 50 PostgreSQL products on one server: migrate from 001, status. --
if want b6; then
	section b6
	n=$((50 / scale))
	# One product generated, the others copies of it (CREATE DATABASE ...
	# TEMPLATE) registered beside it: generating each costs far more.
	$G -w "$OUT/b6" --products 1 --reports 0 --version 001 --pg-host "$PGHOST" --pg-port "$PGPORT" --prefix b6p >/dev/null
	psql_ -c 'CREATE DATABASE b6t TEMPLATE b6p000'
	dbs=b6p000
	for i in $(seq 1 $((n - 1))); do
		d=$(printf 'b6p%03d' "$i") dbs="$dbs $d"
		psql_ -c "CREATE DATABASE $d TEMPLATE b6t"
		$S -w "$OUT/b6" products add "$d" --postgresql --db-host "$PGHOST" --db-port "$PGPORT" \
			--db-username "$PGUSER" --db-name "$d" --no-check >/dev/null 2>&1
	done
	restore_b6() {
		local d sql=()
		for d in $dbs; do sql+=(-c "DROP DATABASE $d WITH (FORCE)" -c "CREATE DATABASE $d TEMPLATE b6t"); done
		psql_ "${sql[@]}"
	}
	for i in $(seq "$RUNS"); do
		for j in 1 2; do RESTORE=restore_b6 run1 "b6.migrate.j$j" $n $S -w "$OUT/b6" migrate -y -j $j --report "$M/b6.migrate.j$j.@RUN@.json"; done
	done
	for i in $(seq "$RUNS"); do
		for j in 1 2; do run1 "b6.status.j$j" $n $S -w "$OUT/b6" status -j $j; done
	done
	show b6.migrate.j1 b6.migrate.j2 b6.status.j1 b6.status.j2
	rm -rf "$OUT/b6"
fi

# ---- Several cooperating hosts (issue 12; bench/coop.sh when present) ----
# Same contract as bench/cleanupplans.sh above.
if want coop && [ -x bench/coop.sh ]; then
	section coop
	rc=0
	BENCH_DIR=$OUT/coop BENCH_QUICK=$QUICK BENCH_RUNS=$RUNS SUPERVISOR=$S FLEETGEN=$G \
		bench/coop.sh >"$M/extra.coop.md" 2>"$M/extra.coop.err" || rc=$?
	echo "$rc" >"$M/extra.coop.rc"
	rm -rf "$OUT/coop"
fi
pg_stop

# --- Go benchmarks of the hot paths (testing.B). --------------------------
if want gobench; then
	section gobench
	pkgs="./internal/supervise/ ./internal/logging/ ./internal/job/ ./internal/migrate/ ./internal/labels/"
	printf '%s\t1\t%s\n' gobench "go test -run '^\$' -bench . -benchmem -benchtime 200ms -count $RUNS $pkgs" >>"$M/index.tsv"
	# shellcheck disable=SC2086
	go test -run '^$' -bench . -benchmem -benchtime 200ms -count "$RUNS" $pkgs >"$M/gobench.txt" 2>&1 || echo "go test -bench failed: see $M/gobench.txt"
fi

section ""
echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$M/machine.env"
awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "total_s=%.1f\n", b-a}' >>"$M/machine.env"
dest=BENCHMARKS.md
# A quick or partial run is for trying: it leaves the committed file alone.
if [ "$QUICK" = 1 ] || [ -n "${BENCH_ONLY:-}" ]; then dest=$OUT/BENCHMARKS.md; fi
python3 bench/report.py "$M" bench/NOTES.md >"$dest.tmp" && mv "$dest.tmp" "$dest"
echo "wrote $dest; measurements in $M"

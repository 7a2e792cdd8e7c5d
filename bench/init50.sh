#!/usr/bin/env bash
# Initialise-fast figure (issue 11, item 2): `supervisor migrate -y -j 2` on N products
# whose SQLite files are missing, RUNS times; prints wall, user+sys CPU (the supervisor
# and its workers, /usr/bin/time) per run and per product, then the medians.
#   bench/init50.sh BIN [N=50] [RUNS=5]
set -euo pipefail
BIN=${1:?supervisor binary}; N=${2:-50}; RUNS=${3:-5}
W=$(mktemp -d /tmp/supervisor-init50.XXXXXX)
trap 'rm -rf "$W"' EXIT
"$BIN" -w "$W" init --no-default >/dev/null 2>&1
for i in $(seq -w 1 "$N"); do
	"$BIN" -w "$W" products add "p$i" --sqlite "$W/db/p$i.sqlite" >/dev/null 2>&1
done
mkdir -p "$W/db"
for r in $(seq 1 "$RUNS"); do
	rm -f "$W"/db/*
	/usr/bin/time -f '%e %U %S' -o "$W/t" "$BIN" -w "$W" migrate -y -j 2 >/dev/null 2>&1
	read -r e u s <"$W/t"
	awk -v e="$e" -v u="$u" -v s="$s" -v n="$N" -v r="$r" \
		'BEGIN{printf "run %d: wall %.2f s cpu %.2f s  per product: wall %.1f ms cpu %.1f ms\n", r, e, u+s, 1000*e/n, 1000*(u+s)/n}'
	echo "$e $(awk -v u="$u" -v s="$s" 'BEGIN{print u+s}')" >>"$W/all"
done
sort -n -k1 "$W/all" | awk -v n="$N" '{w[NR]=$1} END{m=w[int((NR+1)/2)]; printf "median wall %.2f s = %.1f ms/product\n", m, 1000*m/n}'
sort -n -k2 "$W/all" | awk -v n="$N" '{c[NR]=$2} END{m=c[int((NR+1)/2)]; printf "median cpu  %.2f s = %.1f ms/product\n", m, 1000*m/n}'

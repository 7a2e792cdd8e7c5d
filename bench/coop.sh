#!/usr/bin/env bash
# Cooperative runs (--run-id): 3 cooperating supervisor processes against 1,
# on N (default 200) PostgreSQL products with a fixed per-product latency.
# Run from the repository root after `make build`.
#
# The latency: the products are reached through a TCP proxy (python3, below)
# that holds every new connection for COOP_LATENCY_MS (default 50) before it
# connects it to the server, as a distant database server would. Every
# product's turn in `cleanup` opens a fixed number of connections (the
# supervisor's inspection, the worker's), so its latency is fixed, and it
# costs no CPU: the speed-up shows the hosts sharing the waiting, not the
# 2 cores of one machine. The products are up to date and empty (copies of
# one database), so the cleanup itself is quick.
#
# Printed: the wall time of a plain run of one host (no --run-id), of a
# cooperative run of one host, and of three hosts on one run id, each at
# -j COOP_JOBS (default 4) per host; the speed-up of three hosts over one;
# and the coordination overhead per product, two ways: River's (the
# cooperative run of one host against the plain one) and the sharing's (the
# three hosts' wall time, times three, against one host's: what the hosts
# spend on top of the work, starting, polling, waiting for the last product).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/pgcluster.sh
S=$PWD/bin/supervisor
N=${COOP_PRODUCTS:-200}; [ "${BENCH_QUICK:-}" = 1 ] && N=${COOP_PRODUCTS:-40}
RUNS=${BENCH_RUNS:-5}
J=${COOP_JOBS:-4}
LAT=${COOP_LATENCY_MS:-50}
OUT=${BENCH_DIR:-/tmp/supervisor-bench}/coop
rm -rf "$OUT"; mkdir -p "$OUT"
pg_start
bin=$(pg_bindir)
psql() { "$bin/psql" -q -v ON_ERROR_STOP=1 -d "${DB:-postgres}" "$@"; }

proxy_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 - "$proxy_port" "$PGPORT" "$LAT" <<'EOF' &
import asyncio, sys
listen, upstream, delay = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) / 1000
async def pipe(r, w):
    try:
        while data := await r.read(65536):
            w.write(data)
            await w.drain()
    except Exception:
        pass
    finally:
        w.close()
async def handle(cr, cw):
    await asyncio.sleep(delay)
    try:
        ur, uw = await asyncio.open_connection("127.0.0.1", upstream)
    except Exception:
        cw.close()
        return
    await asyncio.gather(pipe(cr, uw), pipe(ur, cw))
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", listen, backlog=1024)
    async with server:
        await server.serve_forever()
asyncio.run(main())
EOF
proxy=$!
trap 'kill $proxy 2>/dev/null; pg_stop' EXIT

export CC_PGPASSWORD=$PGPASSWORD
config="postgres://postgres@127.0.0.1:$PGPORT/config"
psql -c 'CREATE DATABASE config' -c 'CREATE DATABASE template_product'
# The template: an empty product database at the packaged version, made by
# migrate in a scratch SQLite workspace.
$S -w "$OUT/scratch" init --no-default >/dev/null 2>&1
$S -w "$OUT/scratch" products add template_product --postgresql --db-host 127.0.0.1 --db-port "$PGPORT" \
	--db-username postgres --db-name template_product --db-password-env CC_PGPASSWORD --no-check >/dev/null 2>&1
$S -w "$OUT/scratch" migrate -y >/dev/null 2>&1
$S -w "$OUT/ws" --config-db "$config" init --no-default >/dev/null 2>&1
for i in $(seq -f '%03g' 1 "$N"); do
	psql -c "CREATE DATABASE p$i TEMPLATE template_product"
	$S -w "$OUT/ws" --config-db "$config" products add "p$i" --postgresql --db-host 127.0.0.1 --db-port "$proxy_port" \
		--db-username postgres --db-name "p$i" --db-password-env CC_PGPASSWORD --no-check >/dev/null 2>&1
done

now() { date +%s.%N; }
run() { $S -w "$OUT/ws" --config-db "$config" cleanup -j "$J" --no-progress "$@"; }
# timed NAME CMD...: appends CMD's wall time to $OUT/NAME.times.
timed() { local name=$1 t0 t1; shift; t0=$(now); "$@"; t1=$(now); python3 -c "print($t1-$t0)" >>"$OUT/$name.times"; }
three() {
	local pids=() h
	for h in 1 2 3; do run --run-id "$1" >"$OUT/coop3.$h.out" 2>"$OUT/coop3.$h.err" & pids+=($!); done
	wait "${pids[@]}" || true
}
# The three series take their runs in turns (a change of load weighs on
# each alike); every run must end with every product ok.
for i in $(seq "$RUNS"); do
	timed plain run >"$OUT/plain.out" 2>"$OUT/plain.err"
	timed coop1 run --run-id "bench-1-$i" >"$OUT/coop1.out" 2>"$OUT/coop1.err"
	timed coop3 three "bench-3-$i"
	for f in "$OUT"/plain.out "$OUT"/coop1.out "$OUT"/coop3.*.out; do
		grep -q "^Totals: $N products: $N ok" "$f" || { echo "bench: $f did not end with $N ok:" >&2; tail -3 "$f" >&2; exit 1; }
	done
	for h in 1 2 3; do grep -o 'this host ([^)]*) did [0-9]*' "$OUT/coop3.$h.out" | grep -o '[0-9]*$'; done | paste -sd/ >>"$OUT/shares"
done
python3 - "$N" "$J" "$LAT" "$OUT" "$(git rev-parse --short HEAD 2>/dev/null)" <<'EOF'
import statistics, sys
n, j, lat, out, rev = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
t = {k: [float(l) for l in open(f"{out}/{k}.times")] for k in ("plain", "coop1", "coop3")}
m = {k: statistics.median(v) for k, v in t.items()}
shares = open(f"{out}/shares").read().split()
runs = lambda k: ", ".join(f"{x:.2f}" for x in t[k])
print(f"`bench/coop.sh` at {rev}: {n} PostgreSQL products (up to date, empty) behind a proxy that holds every new")
print(f"connection {lat} ms (a distant server: fixed latency, no CPU), `cleanup -j {j} --no-progress` per host,")
print(f"median of {len(t['plain'])} runs taken in turns; every run ended with all {n} products ok.\n")
print("| What | Median wall | Per product | Runs (s) |")
print("|---|---|---|---|")
print(f"| 1 host, no `--run-id` | {m['plain']:.2f} s | {m['plain']/n*1000:.1f} ms | {runs('plain')} |")
print(f"| 1 host, `--run-id` | {m['coop1']:.2f} s | {m['coop1']/n*1000:.1f} ms | {runs('coop1')} |")
print(f"| 3 hosts, one `--run-id` | {m['coop3']:.2f} s | {m['coop3']/n*1000:.1f} ms | {runs('coop3')} (products per host: {', '.join(shares)}) |")
print(f"\n- **Speed-up, 3 hosts over 1** (both `--run-id`): **{m['coop1']/m['coop3']:.2f}x** (over the plain run: {m['plain']/m['coop3']:.2f}x).")
print(f"- **River's cost per product** (1 host with `--run-id` against none): {(m['coop1']-m['plain'])/n*1000:+.1f} ms of wall time.")
print(f"- **The sharing's cost per product** (3 hosts' wall time x 3 against 1 host's): {(3*m['coop3']-m['coop1'])/n*1000:+.1f} ms of host time.")
EOF

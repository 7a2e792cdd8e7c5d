#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster for benchmarks: source this file, then
# call pg_start; it sets PGHOST/PGPORT/PGUSER/PGPASSWORD and stops the server
# (and removes its files) when the calling shell exits.
pg_bindir() {
	if command -v pg_config >/dev/null 2>&1; then pg_config --bindir; return; fi
	dirname "$(command -v initdb)"
}

pg_start() {
	local bin dir port runas=()
	bin=$(pg_bindir)
	[ -x "$bin/initdb" ] || { echo "PostgreSQL binaries not found: apt-get install postgresql" >&2; return 1; }
	dir=$(mktemp -d /tmp/supervisor-bench-pg-XXXXXX)
	if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; runas=(runuser -u postgres --); fi
	PGPASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
	echo "$PGPASSWORD" > "$dir/pw" && chmod 600 "$dir/pw"
	[ "$(id -u)" = 0 ] && chown postgres: "$dir/pw"
	"${runas[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=scram-sha-256 --pwfile="$dir/pw" --no-sync -E UTF8 --locale=C >/dev/null
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	"${runas[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=256MB -c max_wal_size=4GB" start >/dev/null
	export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGPASSWORD
	PG_BENCH_DIR=$dir
	trap 'pg_stop' EXIT
}

pg_stop() {
	[ -n "${PG_BENCH_DIR:-}" ] || return 0
	local runas=()
	[ "$(id -u)" = 0 ] && runas=(runuser -u postgres --)
	"${runas[@]}" "$(pg_bindir)/pg_ctl" -D "$PG_BENCH_DIR/data" -m fast stop >/dev/null 2>&1 || true
	rm -rf "$PG_BENCH_DIR"
	PG_BENCH_DIR=
}

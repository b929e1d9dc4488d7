#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: initdb in a temporary
# directory, started on a free port of 127.0.0.1 (its unix socket in that
# directory too), fsync off. It prints the variables that point at it, so:
#
#   eval "$(.ci/postgres.sh)"              # exports POSTGRES_TEST_URL, POSTGRES_TEST_DIR
#   go test ./store/postgres/
#   .ci/postgres.sh stop "$POSTGRES_TEST_DIR"
#
# Subcommands: start (the default), stop DIR, restart DIR (an immediate
# shutdown, as a crash, then a start on the same port), log DIR.
# POSTGRES_OPTIONS, if set at start, adds server options, after the
# script's own (which it may override): POSTGRES_OPTIONS="-c fsync=on".
#
# PostgreSQL refuses to run as root: as root the cluster runs as the
# unprivileged user "postgres" (created if missing). The binaries are
# $POSTGRES_BIN, else Debian's newest /usr/lib/postgresql/*/bin, else those
# on PATH. The superuser "postgres" logs in over TCP with the password in
# POSTGRES_TEST_URL (scram-sha-256), over the socket without one.
set -euo pipefail

bindir() {
	if [ -n "${POSTGRES_BIN:-}" ]; then echo "$POSTGRES_BIN"; return; fi
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
	if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return; fi
	if command -v initdb >/dev/null; then dirname "$(command -v initdb)"; return; fi
	echo "postgres.sh: no PostgreSQL binaries (set POSTGRES_BIN, or apt-get install -y postgresql)" >&2
	exit 1
}

# as runs a command as the cluster's owner: this user, or "postgres" as root.
as() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

start_on() { # dir port
	as "$BIN/pg_ctl" -D "$1/data" -l "$1/log" -w -t 30 \
		-o "-p $2 -k $1 -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=300 $(cat "$1/options")" \
		start >/dev/null
}

BIN=$(bindir)
case "${1:-start}" in
start)
	if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
		useradd --system --no-create-home --shell /usr/sbin/nologin postgres
	fi
	dir=$(mktemp -d "${TMPDIR:-/tmp}/gle-pg.XXXXXX")
	chmod 755 "$dir"
	password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
	echo "$password" >"$dir/pwfile"
	if [ "$(id -u)" -eq 0 ]; then chown -R postgres "$dir"; fi
	as "$BIN/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pwfile" -E UTF8 --locale=C \
		--auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; exit 1; }
	rm "$dir/pwfile"
	echo "${POSTGRES_OPTIONS:-}" >"$dir/options"
	for _ in $(seq 20); do
		port=$((20000 + RANDOM % 40000))
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi # taken
		if start_on "$dir" "$port"; then
			echo "$port" >"$dir/port"
			echo "export POSTGRES_TEST_URL='postgres://postgres:$password@127.0.0.1:$port/postgres?sslmode=disable'"
			echo "export POSTGRES_TEST_DIR='$dir'"
			exit 0
		fi
	done
	cat "$dir/log" >&2
	echo "postgres.sh: could not start PostgreSQL on a free port" >&2
	exit 1
	;;
stop)
	dir=${2:?usage: postgres.sh stop DIR}
	as "$BIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$dir"
	;;
restart)
	dir=${2:?usage: postgres.sh restart DIR}
	as "$BIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null
	start_on "$dir" "$(cat "$dir/port")"
	;;
log)
	cat "${2:?usage: postgres.sh log DIR}/log"
	;;
*)
	echo "usage: postgres.sh [start | stop DIR | restart DIR | log DIR]" >&2
	exit 2
	;;
esac

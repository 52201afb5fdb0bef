#!/bin/sh
# cluster.sh — a throwaway PostgreSQL server for the tests and demos.
#
#   cluster.sh start        creates a cluster in a fresh temp directory, starts it
#                           on a Unix socket only, creates database "dashspec",
#                           prints the directory on line 1, the conninfo on line 2
#   cluster.sh env DIR      prints the conninfo of the cluster in DIR
#   cluster.sh stop DIR     stops the server (immediate) and removes DIR
#   cluster.sh bindir       prints the server binaries' directory, or exits 3
#
# PostgreSQL refuses to run as root, so as root the server runs as `nobody`
# (the data and socket directories are chown'ed to it). No TCP port
# (listen_addresses=''), fsync off: a test server, never a real one.
# Exit 3 when the server binaries are missing (apt-get install postgresql).
# The newest /usr/lib/postgresql/N/bin is used, else initdb/pg_ctl on PATH.
set -eu

bindir() {
  # DS_PG_BINDIR pins the binaries (an empty or missing directory simulates a
  # machine without the server: the suites then say SKIPPED).
  if [ -n "${DS_PG_BINDIR:-}" ]; then
    [ -x "$DS_PG_BINDIR/initdb" ] && [ -x "$DS_PG_BINDIR/pg_ctl" ] && { echo "$DS_PG_BINDIR"; return 0; }
    return 3
  fi
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"; return 0
  fi
  return 3
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

conninfo() {
  echo "host=$1/sock dbname=dashspec user=postgres"
}

cmd=${1:-}
case "$cmd" in
  bindir)
    bindir || exit 3 ;;
  start)
    bin=$(bindir) || { echo "cluster.sh: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 3; }
    base=${TMPDIR:-/tmp}
    # nobody must be able to reach the directory; fall back to /tmp otherwise.
    if [ "$(id -u)" = 0 ] && ! runuser -u nobody -- test -x "$base"; then base=/tmp; fi
    dir=$(mktemp -d "$base/dspg.XXXXXX")
    chmod 0755 "$dir"
    mkdir "$dir/data" "$dir/sock"
    [ "$(id -u)" = 0 ] && chown nobody "$dir/data" "$dir/sock"
    if ! as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync \
         -E UTF8 --locale=C >"$dir/initdb.log" 2>&1; then
      cat "$dir/initdb.log" >&2; rm -rf "$dir"; exit 1
    fi
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir/sock'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 40
shared_buffers = 32MB
log_min_messages = warning
CONF
    if ! as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/data/server.log" -w -t 60 start >/dev/null 2>&1; then
      cat "$dir/data/server.log" >&2 || true; rm -rf "$dir"; exit 1
    fi
    psql="$bin/psql"; [ -x "$psql" ] || psql=psql
    if ! as_owner "$psql" -X -q -h "$dir/sock" -U postgres -d postgres \
         -c 'CREATE DATABASE dashspec' >/dev/null 2>&1; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
      rm -rf "$dir"; exit 1
    fi
    echo "$dir"
    conninfo "$dir" ;;
  env)
    [ -n "${2:-}" ] || { echo "usage: cluster.sh env DIR" >&2; exit 2; }
    conninfo "$2" ;;
  stop)
    [ -n "${2:-}" ] && [ -d "$2/data" ] || { echo "usage: cluster.sh stop DIR" >&2; exit 2; }
    bin=$(bindir) || true
    if [ -n "$bin" ] && [ -f "$2/data/postmaster.pid" ]; then
      as_owner "$bin/pg_ctl" -D "$2/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$2" ;;
  *)
    echo "usage: cluster.sh start | env DIR | stop DIR | bindir" >&2; exit 2 ;;
esac

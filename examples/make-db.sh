#!/bin/sh
# make-db.sh — builds the example application's database: applies
# examples/migrations/*.sql in name order, then fills the tables with
# examples/generate.sql.
#
#   examples/make-db.sh OUT.db [SCALE]
#
# SCALE (default 1) multiplies the business rows: 1 is about 100k rows and
# takes a second or two; 0.01 is a tiny database for tests; 50 is about 4.5M
# rows for benchmarks. REF (environment, default '2026-02-12 10:00:00') is the
# reference time the data ends at: run dashspec with --now "$REF".
# The same SCALE and REF always give the same data.
#
# OUT must not exist (the data would be added twice); the database is built
# under OUT.tmp and renamed into place only when complete.
set -eu

usage() { echo "usage: examples/make-db.sh OUT.db [SCALE]   (env: REF='YYYY-MM-DD HH:MM:SS')" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
out=$1
scale=${2:-1}
ref=${REF:-2026-02-12 10:00:00}
here=$(cd "$(dirname "$0")" && pwd)

case $scale in
  ''|*[!0-9.]*|*.*.*|.) echo "make-db.sh: SCALE must be a positive number, not '$scale'" >&2; exit 2 ;;
esac
case $ref in
  [0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]\ [0-2][0-9]:[0-5][0-9]:[0-5][0-9]) ;;
  *) echo "make-db.sh: REF must be 'YYYY-MM-DD HH:MM:SS', not '$ref'" >&2; exit 2 ;;
esac
command -v sqlite3 >/dev/null 2>&1 || { echo "make-db.sh: the sqlite3 command is missing (sh scripts/deps.sh installs it)" >&2; exit 1; }
[ -e "$out" ] && { echo "make-db.sh: $out exists; remove it first" >&2; exit 1; }

tmp=$out.tmp
rm -f "$tmp" "$tmp-journal"
trap 'rm -f "$tmp" "$tmp-journal"' EXIT INT TERM
{
  # Generation only: the file is renamed into place when complete, so a
  # crash leaves nothing half-built behind and durability buys nothing.
  echo "PRAGMA synchronous = OFF;"
  echo "PRAGMA journal_mode = MEMORY;"
  echo ".bail on"
  for f in "$here"/migrations/*.sql; do cat "$f"; echo; done
  echo "CREATE TEMP TABLE gen_config AS SELECT $scale AS scale, '$ref' AS ref;"
  cat "$here/generate.sql"
} | sqlite3 -batch "$tmp" >/dev/null
# journal_mode MEMORY is per connection; the file keeps the default (delete).
mv "$tmp" "$out"
trap - EXIT INT TERM
echo "make-db.sh: $out ($(sqlite3 "$out" "SELECT (SELECT count(*) FROM sites) + (SELECT count(*) FROM excluded_sites) + (SELECT count(*) FROM messages) + (SELECT count(*) FROM conversations) + (SELECT count(*) FROM llm_usage) + (SELECT count(*) FROM errors) + (SELECT count(*) FROM cron_job_logs) + (SELECT count(*) FROM system_metrics)") rows, scale $scale, data up to $ref UTC)"

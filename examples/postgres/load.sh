#!/bin/sh
# load.sh — the example application's data in PostgreSQL: builds the SQLite
# example database with examples/make-db.sh, creates the tables of
# examples/postgres/schema.sql, and copies every table over as CSV through
# psql's \copy (in one transaction; the tables must be empty).
#
#   examples/postgres/load.sh DB [SCALE]
#
# DB is a PostgreSQL URI or conninfo string (libpq's PG* environment applies);
# SCALE and REF as for make-db.sh. Then, e.g.:
#   psql "$DB" -c "SELECT count(*) FROM sites"
set -eu
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: examples/postgres/load.sh DB [SCALE]" >&2; exit 2; }
db=$1
scale=${2:-1}
here=$(cd "$(dirname "$0")" && pwd)
command -v psql >/dev/null 2>&1 || { echo "load.sh: psql is missing (apt-get install postgresql-client)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dspg-load.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
sh "$here/../make-db.sh" "$tmp/app.db" "$scale" >/dev/null

# Parents before children (foreign keys).
tables="sites excluded_sites conversations messages llm_usage errors cron_job_logs system_metrics"
{
  printf '%s\n' '\set ON_ERROR_STOP 1'     # printf: dash's echo eats backslashes
  echo "SET TimeZone = 'UTC';"     # the SQLite timestamps are UTC text
  echo "BEGIN;"
  cat "$here/schema.sql"
  for t in $tables; do
    # NULL is an unquoted empty field, '' a quoted one: what CSV in PostgreSQL reads back.
    sqlite3 -batch -csv "$tmp/app.db" "SELECT * FROM $t ORDER BY id" > "$tmp/$t.csv"
    printf '%s\n' "\\copy $t FROM '$tmp/$t.csv' WITH (FORMAT csv)"
  done
  echo "COMMIT;"
  for t in $tables; do echo "ANALYZE $t;"; done
} > "$tmp/load.sql"
PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" \
  psql -X -q -v ON_ERROR_STOP=1 -f "$tmp/load.sql" "$db" >/dev/null
echo "load.sh: example data (scale $scale) loaded into $(echo "$db" | sed 's/:[^:@\/]*@/:***@/; s/password=[^ ]*/password=***/')"

/*
 * ds_pg.h — the PostgreSQL engine's internal modules (docs/postgres.md):
 *
 *   pg_conn.c      recognise a PostgreSQL --db string, connect, redact passwords
 *   pg_sql.c       :name -> $n rewriting, error-position mapping, read-only pre-check
 *   pg_value.c     one result value (text format + type OID) -> JSON text / key text
 *   pg_describe.c  prepare + describe a query inside a READ ONLY transaction
 *   pg_exec.c      run one query READ ONLY under a statement_timeout, rows streamed
 *   pg_schema.c    migrations under an advisory lock; the check --migrations scratch schema
 *
 * Only these files call libpq. They know nothing of specs, plans or shapes:
 * the engine interface (engine/engine.h) wires them to the compiler and the
 * runtime. All strings handed out are malloc'd and owned by the caller unless
 * a comment says otherwise.
 */
#ifndef DS_PG_H
#define DS_PG_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>
#include "pg_dl.h"
#include "ds_common.h"

/* ---------------------------------------------------------------- pg_conn.c */

/* 1 when db names a PostgreSQL database: a postgres:// or postgresql:// URI,
 * or a libpq conninfo string whose first word is a libpq keyword followed by
 * '=' ("host=/run/pg dbname=app"). Anything else (a plain path, file: URIs,
 * ":memory:") is SQLite: 0. NULL -> 0. Cannot fail. */
int ds_pg_is_uri(const char *db);

/* A copy of text with every password removed: the password of any
 * scheme://user:PASSWORD@host, and the value of every password=VALUE
 * (conninfo keyword or URI query parameter; quoted values too) become "***".
 * Meant for conninfo strings, URIs and error messages alike. NULL on OOM
 * (NULL text -> NULL). */
char *ds_pg_redact(const char *text);

/* Connects with libpq (PQconnectdbParams with expand_dbname, so the URI or
 * conninfo and libpq's environment — PGHOST, PGPASSFILE, PGSSLMODE, … — work
 * as usual; fallback_application_name "dashspec") and sets the session up:
 * TimeZone UTC, DateStyle ISO, extra_float_digits 1 (shortest exact floats),
 * client_encoding UTF8, IntervalStyle postgres. On failure returns NULL and
 * reports into d (status DS_DBERROR) a message with passwords redacted. */
PGconn *ds_pg_connect(const char *db, ds_diag *d);
void ds_pg_close(PGconn *c);                        /* NULL-safe */

/* The connection's last error message, trimmed and redacted (the password of
 * this connection, when it has one, is removed wherever it appears).
 * malloc'd; never NULL except on OOM. */
char *ds_pg_conn_error(PGconn *c);

/* The same for one failed result: the primary message (and DETAIL/HINT when
 * present, on separate "detail: " / "hint: " sentences), redacted. */
char *ds_pg_result_error(PGconn *c, const PGresult *r);

/* ---------------------------------------------------------------- pg_sql.c */

/* One :name occurrence in the original query. */
typedef struct ds_pg_ref {
    size_t off, len;            /* bytes of ":name" in the original text */
    size_t new_off, new_len;    /* bytes of "$n" in the rewritten text */
    int index;                  /* n - 1: index into ds_pg_sql.names */
} ds_pg_ref;

/* A query rewritten for PostgreSQL: every :name became $n, the same name the
 * same n, numbered in order of first appearance. */
typedef struct ds_pg_sql {
    char *text;                 /* the rewritten query, NUL-terminated */
    size_t len;
    char **names;               /* distinct parameter names, without ':' */
    size_t *first;              /* byte offset of each name's first ":name" */
    int nparams;
    ds_pg_ref *refs;            /* every occurrence, in text order */
    size_t nrefs;
} ds_pg_sql;

/* Rewrites sql[0..len). Knows '' strings (doubled quotes), E'' strings
 * (backslash escapes), U&'' / B'' / X'' strings, "" identifiers, $$ and
 * $tag$ dollar quotes, -- and nested block comments, and :: casts. A :name is
 * ':' followed by a letter or '_' that is not the second ':' of '::' (a
 * following identifier may hold letters, digits, '_'); "a[1:2]" stays as is.
 * Positional $1 parameters are refused (specs name their parameters).
 * Returns 0 and fills *out, or -1 with *err (malloc'd message) set and
 * *errpos the byte offset it concerns; *out is then empty. */
int ds_pg_sql_rewrite(const char *sql, size_t len, ds_pg_sql *out, char **err, size_t *errpos);
void ds_pg_sql_free(ds_pg_sql *q);                  /* frees the contents; NULL-safe */

/* Maps a server error position (PG_DIAG_STATEMENT_POSITION: 1-based,
 * counted in characters of the rewritten text) to a 0-based byte offset in
 * the original query, as sqlite3_error_offset gives. A position inside a $n
 * maps to the start of its :name; past the end maps to the original's end.
 * position <= 0 -> -1 (no position). */
long ds_pg_sql_map_position(const ds_pg_sql *q, long position);

/* The read-only pre-check, before any server sees the query: exactly one
 * statement (a trailing ';' followed only by blanks and comments is fine),
 * the first keyword SELECT, WITH, VALUES or TABLE (after comments and
 * opening parentheses), no INSERT/UPDATE/DELETE/MERGE opening a
 * parenthesised part (a data-modifying CTE) and no INTO (SELECT INTO creates
 * a table). 1 read-only; 0 refused with *why (malloc'd) and *pos (byte
 * offset) set; -1 on OOM. The READ ONLY transaction is the real guard; this
 * gives early, located diagnostics. */
int ds_pg_sql_readonly(const char *sql, size_t len, char **why, size_t *pos);

/* ---------------------------------------------------------------- pg_value.c */

/* Type OIDs dashspec knows (pg_type.h values; stable across versions). */
enum {
    DS_PG_BOOL = 16, DS_PG_BYTEA = 17, DS_PG_CHAR = 18, DS_PG_NAME = 19,
    DS_PG_INT8 = 20, DS_PG_INT2 = 21, DS_PG_INT4 = 23, DS_PG_TEXT = 25,
    DS_PG_OID = 26, DS_PG_JSON = 114, DS_PG_FLOAT4 = 700, DS_PG_FLOAT8 = 701,
    DS_PG_UNKNOWN = 705, DS_PG_BPCHAR = 1042, DS_PG_VARCHAR = 1043,
    DS_PG_DATE = 1082, DS_PG_TIME = 1083, DS_PG_TIMESTAMP = 1114,
    DS_PG_TIMESTAMPTZ = 1184, DS_PG_INTERVAL = 1186, DS_PG_TIMETZ = 1266,
    DS_PG_NUMERIC = 1700, DS_PG_UUID = 2950, DS_PG_JSONB = 3802
};

/* How a column's values become JSON. */
typedef enum ds_pg_class {
    DS_PGC_UNSUPPORTED = 0,     /* bytea, arrays, anything else: an error */
    DS_PGC_INT,                 /* int2/int4/int8/oid: the digits as printed */
    DS_PGC_NUMERIC,             /* numeric: as printed; NaN/±Infinity -> null */
    DS_PGC_FLOAT,               /* float4/float8: Python repr of the double */
    DS_PGC_BOOL,                /* t/f -> true/false */
    DS_PGC_STRING,              /* text types, dates and times, uuid: a JSON string */
    DS_PGC_JSON                 /* json/jsonb: embedded as is */
} ds_pg_class;

/* The class of a type OID. Cannot fail. */
ds_pg_class ds_pg_type_class(unsigned oid);

/* For an unsupported type: "column "b" has type bytea: cast it to text
 * (encode(b, 'hex'))"-style advice (malloc'd); NULL when the type is
 * supported or on OOM. typname may be NULL (then a name is guessed from the
 * OID). */
char *ds_pg_type_advice(unsigned oid, const char *typname, const char *col);

/* Appends the JSON text of one value (text-format result value, len bytes,
 * of type oid; isnull for SQL NULL). Returns 0, or -1 for an unsupported
 * type or a malformed value with *err set (malloc'd, names the column). */
int ds_pg_value_json(ds_buf *b, unsigned oid, const char *text, size_t len, int isnull,
                     const char *col, char **err);

/* Appends the text a map key or series name uses (SQLite's CAST AS TEXT
 * counterpart): strings as they are, numbers as their JSON text, booleans
 * "true"/"false", json as its text. Returns 1 when appended, 0 for NULL (no
 * key), -1 as ds_pg_value_json. */
int ds_pg_value_key(ds_buf *b, unsigned oid, const char *text, size_t len, int isnull,
                    const char *col, char **err);

/* ---------------------------------------------------------------- pg_describe.c */

/* A server error, located in the original query. */
typedef struct ds_pg_err {
    char *msg;                  /* redacted message, malloc'd */
    long offset;                /* 0-based byte offset in the original query, or -1 */
    char sqlstate[6];           /* "" when not from the server */
    int timed_out;              /* the statement_timeout ended the query */
} ds_pg_err;

void ds_pg_err_clear(ds_pg_err *e);                 /* frees msg, resets */

/* Parameter types: dashspec sends every parameter typed. */
typedef enum ds_pg_ptype {
    DS_PGP_INT = 0,             /* bigint */
    DS_PGP_REAL,                /* double precision */
    DS_PGP_TEXT,                /* text */
    DS_PGP_BOOL,                /* boolean */
    DS_PGP_TIMESTAMPTZ,         /* :now */
    DS_PGP_UNKNOWN              /* OID 0: the server infers it (describe, when the
                                   item's params are not known) */
} ds_pg_ptype;

/* The OID a ds_pg_ptype is sent as. */
unsigned ds_pg_ptype_oid(ds_pg_ptype t);

/* One result column of a described query. */
typedef struct ds_pg_col {
    char *name;
    unsigned type;              /* type OID */
    char *type_name;            /* format_type() of it, e.g. "bytea", "integer[]" */
} ds_pg_col;

typedef struct ds_pg_desc {
    ds_pg_col *cols;
    int ncols;
} ds_pg_desc;

void ds_pg_desc_free(ds_pg_desc *d);                /* frees the contents */

/* Prepares q (the unnamed statement) with the given parameter types
 * (q->nparams of them) inside BEGIN READ ONLY … ROLLBACK and describes its
 * result columns. The pre-check (ds_pg_sql_readonly) is the caller's.
 * Returns 0 and fills *out; -1 with *e set (offset mapped to the original
 * query when the server gave a position). The connection is left idle,
 * outside any transaction, either way — unless it was inside one already
 * (ds_pg_scratch_begin): then a savepoint confines the prepare and the
 * transaction stays open. */
int ds_pg_describe(PGconn *c, const ds_pg_sql *q, const ds_pg_ptype *types,
                   ds_pg_desc *out, ds_pg_err *e);

/* Helpers shared by pg_describe.c and pg_exec.c (and the engine to come).
 * ds_pg_fail fills e from a failed result r (or from the connection when r
 * is NULL): redacted message, SQLSTATE, position mapped into q (may be
 * NULL); returns -1. ds_pg_command runs a statement returning no rows: 0, or
 * -1 with e set. ds_pg_rollback ends any open transaction (after errors too). */
int ds_pg_fail(PGconn *c, const PGresult *r, const ds_pg_sql *q, ds_pg_err *e);
int ds_pg_command(PGconn *c, const char *sql, ds_pg_err *e);
void ds_pg_rollback(PGconn *c);

/* ---------------------------------------------------------------- pg_exec.c */

/* One rendered cell handed to the row callback. */
typedef struct ds_pg_cell {
    int null;                   /* SQL NULL (json is "null", key is NULL) */
    const char *json;           /* JSON text of the value */
    size_t json_len;
    const char *key;            /* map-key text, or NULL when null */
    size_t key_len;
} ds_pg_cell;

/* Called once before the first row with the column names (valid for the
 * whole run); return 0 to go on, -1 to fail (set *err). */
typedef int (*ds_pg_cols_fn)(void *ctx, int ncols, const char *const *names, char **err);
/* Called per row; cells are valid until it returns. Return 0 to go on, 1 to
 * stop early (the query is cancelled, the run still succeeds), -1 to fail
 * (set *err). Either way the query is cancelled. */
typedef int (*ds_pg_row_fn)(void *ctx, int ncols, const ds_pg_cell *cells, char **err);
/* Asked every 50 ms while the server computes: nonzero cancels the query,
 * which then fails with "interrupted" (a signal; --watch's stop). */
typedef int (*ds_pg_stop_fn)(void *ctx);

/* Runs q with parameter values (text form, one per q->nparams; NULL values
 * are SQL NULL) of the given types in BEGIN READ ONLY with SET LOCAL
 * statement_timeout = timeout_ms (0: the role's or database's setting), rows streamed in single-row mode
 * (never the whole result in memory), then ROLLBACK. keys: render key text
 * for every column (1) or never (0). Returns 0 ok; -1 with *e set (a
 * statement timeout reads "statement timeout (N ms) exceeded"; callback
 * errors keep their message, offset -1; e->timed_out is set when the
 * statement_timeout ended it: "query timed out after N ms"; stop (may be
 * NULL) saying so cancels it: "interrupted"). The connection is left idle,
 * outside any transaction; a broken connection is -1 with
 * PQstatus(c) == CONNECTION_BAD. */
int ds_pg_exec(PGconn *c, const ds_pg_sql *q, const ds_pg_ptype *types,
               const char *const *values, int64_t timeout_ms, int keys,
               ds_pg_cols_fn cols, ds_pg_row_fn row, ds_pg_stop_fn stop, void *ctx, ds_pg_err *e);

/* ---------------------------------------------------------------- pg_schema.c */

/* One SQL script: a migration, or a file of --migrations DIR. */
typedef struct ds_pg_script {
    const char *name;           /* "001-init" (migrations) or the file's path */
    const char *sql;
} ds_pg_script;

/* The advisory lock key compile and migrate serialise on: the bytes
 * "dashspec" as a bigint. */
#define DS_PG_LOCK_KEY 0x6461736873706563LL

/* Applies the scripts (in the order given) not yet recorded in
 * dashspec_migrations, in one transaction holding the advisory lock
 * DS_PG_LOCK_KEY (so concurrent migrates and compiles wait for each other),
 * recording each by name. Never drops or rewrites data. Returns the number
 * applied (0: already up to date), or -1 with *e set (e->msg names the
 * script; e->offset is the byte offset in its text); nothing is applied
 * then. The connection is left outside any transaction. */
int ds_pg_migrate(PGconn *c, const ds_pg_script *s, size_t n, ds_pg_err *e);

/* 1 when every script is recorded in dashspec_migrations, 0 when some is
 * missing (or the table is), -1 on error with *e set. */
int ds_pg_migrated(PGconn *c, const ds_pg_script *s, size_t n, ds_pg_err *e);

/* check --migrations DIR against a live server: BEGIN, a fresh schema first
 * on the search_path, and the scripts run into it, so queries can then be
 * described (ds_pg_describe) against the tables they create. Nothing
 * persists: ds_pg_scratch_end rolls all of it back. Returns 0 with the
 * transaction open; -1 with *e set (e->msg names the script, e->offset is
 * the byte offset in its text) and the transaction already rolled back. */
int ds_pg_scratch_begin(PGconn *c, const ds_pg_script *s, size_t n, ds_pg_err *e);
void ds_pg_scratch_end(PGconn *c);

/* Formats a Unix time (seconds) as the text of a timestamptz parameter:
 * "YYYY-MM-DD HH:MM:SS+00". buf holds at least 32 bytes. */
void ds_pg_format_now(int64_t t, char *buf);

#endif

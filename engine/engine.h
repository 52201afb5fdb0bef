/*
 * engine.h — the engine interface: everything dashspec asks of a database,
 * as one table of operations per engine, in the manner of SQLite's VFS
 * (sqlite3_io_methods). The compiler, the runtime and the CLI call only the
 * functions declared in common/ds_common.h (ds_db_*), compiler/ds_compiler.h
 * (ds_plan_store/load, ds_sql_*), runtime/ds_runtime.h and runtime/ds_cache.h
 * (ds_exec_*, ds_writer_*, ds_cache_*, ds_state_load) and runtime/ds_read.h;
 * engine/engine.c turns each into one indirect call through the connection's
 * ds_engine. An engine lives in engine/<name>/ and is the only code that
 * includes its client library (engine/sqlite/: <sqlite3.h>).
 *
 * Connections are opaque objects whose first member is the engine table, as
 * a sqlite3_file starts with its pMethods: an engine defines its own struct
 * with a `ds_db base;` (or ds_exec / ds_writer / ds_lock) first and casts.
 *
 *   ds_db      the store: dashspec's tables (plan, state, runs,
 *              dashboard_cache), read-only, read-write or a private
 *              in-memory one (check --schema / --migrations)
 *   ds_exec    a source: runs spec queries read-only, item after item
 *   ds_writer  writes values, failures and run records on a read-write ds_db
 *   ds_lock    the one-run-per-database lock
 *
 * Values cross the interface as ds_cell (engine/ds_cell.h): NULL, INT
 * (exact int64), REAL (double), TEXT, BLOB — engine-neutral, borrowed until
 * the next row, handed to the shaper without copies. Times cross it as
 * int64 seconds since the epoch (UTC); the engine stores them as it likes,
 * reads them back with ds_time_parse_stored (common/ds_common.h).
 *
 * Which engine: ds_engine_for(the --db string). docs/architecture.md lists
 * every operation with what the SQLite engine does for it.
 */
#ifndef DS_ENGINE_H
#define DS_ENGINE_H

#include <signal.h>
#include <stdatomic.h>
#include "ds_cache.h"
#include "ds_read.h"
#include "ds_history.h"

typedef struct ds_engine ds_engine;

/* An engine's own migrations, embedded from migrations/<engine>/NNN-name.sql
 * by scripts/embed.sh, in name order, ended by {0,0}. */
typedef struct ds_migration { const char *name; const char *sql; } ds_migration;

/* The common head of every engine's connection objects. */
struct ds_db { const ds_engine *eng; };
struct ds_exec { const ds_engine *eng; };
struct ds_writer { const ds_engine *eng; };
struct ds_lock { const ds_engine *eng; };

/* ---------------------------------------------------------------- describe */

/* What the engine learns by preparing a spec query under the read-only rules
 * (check and compile). The compiler turns it into diagnostics; nothing here
 * is phrased for the user except the engine's own messages. */
typedef enum ds_desc_status {
    DS_DESC_OK = 0,         /* prepared: the fields below are filled */
    DS_DESC_EMPTY,          /* the text holds no statement (blanks, comments) */
    DS_DESC_REFUSED,        /* the read-only rules refused it: error says why */
    DS_DESC_ERROR,          /* the query is wrong: error, error_off */
    DS_DESC_DBERROR         /* the database failed (locked, I/O, corrupt, OOM): error */
} ds_desc_status;

typedef struct ds_describe {
    ds_desc_status status;
    char *error;            /* malloc'd; the engine's message (REFUSED, ERROR, DBERROR) */
    long error_off;         /* byte offset of the error in the query, -1 unknown */
    long tail_off;          /* where the engine's statement ended when text follows it
                               (the compiler decides whether it is only blanks), -1 none */
    int is_explain;         /* the statement is EXPLAIN ... */
    int readonly;           /* the engine's read-only verdict of the prepared statement */
    char **params;          /* parameter names as written (":x"; NULL for positional),
                               nparams of them; params[i] is bound at position i + 1 */
    int nparams;
    char **cols;            /* result column names, in order */
    int ncols;
} ds_describe;

void ds_describe_free(ds_describe *x);      /* NULL-safe, leaves x zeroed */

/* ---------------------------------------------------------------- readers */

/* One dashboard_cache row, as status's scan sees it: strings as stored
 * (created/expires may be NULL), fresh is the engine's own
 * `expires_at > now` so get, status and a dashboard's SQL agree. */
typedef int (*ds_cache_row_fn)(void *ctx, const char *key, const char *created,
                               const char *expires, int fresh);

/* ---------------------------------------------------------------- the table */

struct ds_engine {
    const char *name;                       /* "sqlite" */

    /* Selection: 1 when target (the --db string) is this engine's. */
    int (*accepts)(const char *target);

    /* Process-wide settings, before the first connection (run calls both). */
    void (*configure)(void);
    void (*default_busy_timeout)(int64_t ms);

    /* Store connections (ds_db_open's contract, common/ds_common.h). */
    int (*open)(const char *target, int mode, ds_db **out, ds_diag *d);
    void (*close)(ds_db *db);
    const char *(*target)(const ds_db *db);          /* for messages: never a password */
    void (*busy_timeout)(ds_db *db, int64_t ms);

    /* The run lock: 0 with *out, -1 held elsewhere (DS_LOCKED), -2 error. */
    int (*lock)(const char *target, ds_lock **out, ds_diag *d);
    void (*unlock)(ds_lock *l);

    /* dashspec's tables and schema scripts (check --schema/--migrations). */
    int (*migrate)(ds_db *db, ds_diag *d);
    int (*migrated)(ds_db *db);
    int (*exec_script)(ds_db *db, const char *name, const char *sql, ds_diag *d);
    /* (ds_db_exec_dir is the engine-neutral walk that calls exec_script.) */

    /* check / compile: prepare one query under the read-only rules. 0 with
     * out filled (any status), -1 out of memory. */
    int (*describe)(ds_db *db, const char *query, ds_describe *out);
    /* check --explain (compiler/ds_sql_lint.c decides what to warn about):
     * the names (a table or an alias, as the plan writes them) of the
     * tables the query's plan reads in full, in plan order; a query that
     * does not prepare has none. 0, or -1 out of memory. */
    int (*full_scans)(ds_db *db, const char *query, char ***names, size_t *n);
    int (*table_exists)(ds_db *db, const char *name);           /* any case */
    int64_t (*table_rows)(ds_db *db, const char *table);        /* -1 unknown */
    int (*column_exists)(ds_db *db, const char *table, const char *column);
    /* check's "did you mean" (OPTIONAL: NULL in an engine that has none,
     * and the suggestion is skipped): with table NULL the names of the
     * tables and views; else the columns of that table. *names and each
     * name malloc'd (free with ds_names_free); 0, or -1 out of memory. */
    int (*schema_names)(ds_db *db, const char *table, char ***names, size_t *n);

    /* The stored plan (ds_plan_store / ds_plan_load, compiler/ds_compiler.h);
     * rows carry the JSON of compiler/ds_plan.c's codec. */
    int (*plan_store)(ds_db *db, const ds_plan *p, int *changed, ds_diag *d);
    int (*plan_load)(ds_db *db, ds_plan *out, ds_diag *d);
    /* Cache and state rows of every plan item (ds_state_load). */
    int (*state_load)(ds_db *db, const ds_plan *p, ds_item_state *st, ds_diag *d);

    /* Sources: execute items (runtime/ds_runtime.h, runtime/ds_cache.h). */
    ds_exec *(*source_open)(const char *target, ds_diag *d);
    /* OPTIONAL (NULL: source_open): a source whose queries run where they
     * can be killed, so an item's timeout is a hard wall and its memory is
     * not the caller's (`run` uses it; SQLite: a worker process per source,
     * sqlite_pool.c). The same operations below apply to it. It may fork:
     * call it while no other thread of the process uses the engine. */
    ds_exec *(*source_open_isolated)(const char *target, ds_diag *d);
    void (*source_close)(ds_exec *x);
    void (*source_busy_timeout)(ds_exec *x, int64_t ms);
    void (*source_cancel_on)(ds_exec *x, const volatile sig_atomic_t *sig, const atomic_int *flag);
    int (*exec_item)(ds_exec *x, const ds_item *it, int64_t now, ds_result *out, char **err);

    /* The writer (runtime/ds_cache.h: results DS_W_*). */
    ds_writer *(*writer_open)(ds_db *db, ds_diag *d);
    void (*writer_close)(ds_writer *w);
    int (*writer_concurrent)(const ds_writer *w);   /* readers never block a commit */
    int (*put)(ds_writer *w, const ds_item *it, const ds_result *r, int64_t now,
               int64_t wait_ms, char **err, ds_diag *d);
    /* failures: the new count; next_attempt: the end of its backoff (both
     * computed by engine.c, so every engine backs off alike). */
    int (*fail)(ds_writer *w, const ds_item *it, int64_t failures, const char *error,
                int64_t duration_ms, int64_t now, int64_t next_attempt, int64_t wait_ms,
                char **err, ds_diag *d);
    int (*batch_begin)(ds_writer *w, int64_t wait_ms);
    int (*batch_commit)(ds_writer *w);
    void (*batch_abort)(ds_writer *w);
    int (*record_run)(ds_writer *w, const ds_run_record *rec, int64_t wait_ms, char **err, ds_diag *d);
    int (*data_version)(ds_writer *w, int64_t *v);
    /* Several runners (runtime/ds_cache.h ds_cache_claim): 1 when this runner
     * may compute it now (st is the state it decided on; the lease lasts
     * until lease_until), 0 when another runner has it or has attempted it
     * since st was read, -1 on a database error (in d). SQLite: always 1 (the
     * whole-run lock already excludes other runners). */
    int (*claim)(ds_writer *w, const ds_item *it, const ds_item_state *st, int64_t now,
                 int64_t lease_until, ds_diag *d);
    /* Ends this runner's lease on an item it claimed and will not write (a
     * signal interrupted its query), so other runners need not wait for the
     * lease to expire. NULL when claims hold no lease (SQLite). 0, -1 on a
     * database error (in d). */
    int (*release)(ds_writer *w, const ds_item *it, ds_diag *d);
    /* 1 when runners share the database item by item (no whole-run lock):
     * run then claims each item only as a worker is about to compute it, so
     * runners started together divide the work. 0 (SQLite): claim always
     * says 1 and run claims every due item up front, at no cost. */
    int claims_each;
    int (*plan_fingerprint)(ds_writer *w, uint64_t *fp);

    /* What get, status, clear and explain read (runtime/ds_read.c builds
     * the reports). snapshot_begin/end: one consistent read (status). */
    int (*snapshot_begin)(ds_db *db, ds_diag *d);
    void (*snapshot_end)(ds_db *db);
    /* 1 found (out->found, fresh, json, len, expires_at set), 0 no row or no
     * table, -1 error (in d). */
    int (*cache_get)(ds_db *db, const char *key, int64_t now, ds_value *out, ds_diag *d);
    /* Every dashboard_cache row by key; 0, or -1 (error in d, or fn's -1). */
    int (*cache_scan)(ds_db *db, int64_t now, ds_cache_row_fn fn, void *ctx, ds_diag *d);
    /* Deletes rows whose key matches a glob (ds_glob_match; all when
     * npats == 0), one transaction; dashspec's tables exist. 0, -1 (in d). */
    int (*cache_clear)(ds_db *db, const char *const *pats, size_t npats, int64_t *cleared, ds_diag *d);
    /* For e->item (loaded from the plan): e->engine_version and compiled_at
     * from its plan row, and its query plan with params and :now (e->now)
     * bound: e->qp rows, or e->qp_error when it no longer prepares. 0, -1 on
     * a database error or OOM (in d). */
    int (*explain)(ds_db *db, ds_explain *e, ds_diag *d);
    /* The history (runtime/ds_history.h; stats, report, status --format
     * prometheus), read on a store connection; runtime/ds_stats.c does the
     * arithmetic. engine.c zeroes the output before the call and frees it
     * when the call fails, so an engine only appends. Tables written before
     * the history existed (no history tables yet) read as an empty history,
     * never as an error.
     * history_load: into h->a the attempts with from <= at <= to and the
     * successes before from whose value was live at from (expires_at >
     * from), ordered by time then insertion; into h->r the runs started in
     * [from, to], by start time. Both in one read transaction. 0, -1 (d,
     * DS_DBERROR). */
    int (*history_load)(ds_db *db, int64_t from, int64_t to, ds_history *h, ds_diag *d);
    /* history_totals: per key (sorted by strcmp: ds_hist_totals_find
     * bisects) the attempts and failures over the whole retained history;
     * the newest run's start and finish and the number of runs. 0, -1. */
    int (*history_totals)(ds_db *db, ds_hist_totals *out, ds_diag *d);
    /* The connection's last error message, for a failed migrated(). */
    const char *(*errmsg)(ds_db *db);

    /* ------------------------------------------------ issue 13 (freshness)
     * Optional: ds_engine_missing does not require it; an engine that leaves
     * it NULL never confirms (refresh_key items are recomputed when due).
     * Besides this operation an engine supports refresh_key by storing
     * r->key_value with every put (SQLite: dashspec_state.refresh_key_value,
     * NULL when r->key_value is, confirmed_at set to NULL) and reading it
     * back in state_load (ds_item_state.key_value, confirmed_at).
     * incremental (runtime/ds_incr.c) needs, besides binding :since in
     * exec_item (it->since > 0: that time as :now's text, else NULL): put
     * records last_full = now when r->full and keeps it otherwise, and
     * state_load fills last_full and, for items with inc_window > 0 and a
     * cached value, value_json/value_len (the cache_value). An engine
     * without them computes incremental items in full every time.
     *
     * confirm: the value of it is still right (its refresh_key is
     * unchanged): in one transaction, dashboard_cache.expires_at = now + ttl
     * (cache_value and created_at untouched), dashspec_state: last_attempt
     * = last_success = confirmed_at = now, last_duration_ms =
     * r->duration_ms (the key's), failures = 0, last_error = NULL,
     * next_attempt = now + refresh. Results as put (DS_W_*). */
    int (*confirm)(ds_writer *w, const ds_item *it, const ds_result *r, int64_t now,
                   int64_t wait_ms, char **err, ds_diag *d);
};

/* ---------------------------------------------------------------- selection */

/* The engine for a --db string: a PostgreSQL URI (postgres://, postgresql://)
 * or conninfo string (host=... dbname=...) selects PostgreSQL; anything else, NULL and "" included (an
 * in-memory check), is a SQLite path. NULL with the reason in d. */
const ds_engine *ds_engine_for(const char *target, ds_diag *d);
/* The name of the first operation e leaves NULL, or NULL when e is complete
 * (every operation is required; the tests check each engine with it). */
const char *ds_engine_missing(const ds_engine *e);
/* 1 when target is a PostgreSQL URI or conninfo string. */
int ds_engine_is_postgres(const char *target);
/* target as output may show it: a PostgreSQL target with its passwords
 * replaced by "***", anything else as it is. malloc'd; NULL on OOM. */
char *ds_engine_redact(const char *target);

/* ---------------------------------------------------------------- calls */

/* The operations above that have no older home header: engine.c dispatches
 * each through db's engine (compiler/ds_sql.c, compiler/ds_sql_lint.c). */
int ds_sql_describe(ds_db *db, const char *query, ds_describe *out);
int ds_db_full_scans(ds_db *db, const char *query, char ***names, size_t *n);
int ds_db_table_exists(ds_db *db, const char *name);
int64_t ds_db_table_rows(ds_db *db, const char *table);
int ds_db_column_exists(ds_db *db, const char *table, const char *column);
/* schema_names through db's engine; an engine without it has no names (0). */
int ds_db_schema_names(ds_db *db, const char *table, char ***names, size_t *n);
/* Frees n names and the array (NULL-safe). */
void ds_names_free(char **names, size_t n);

extern const ds_engine ds_sqlite_engine;     /* engine/sqlite/sqlite_engine.c */
extern const ds_engine ds_postgres_engine;   /* engine/postgres/pg_engine.c */

#endif

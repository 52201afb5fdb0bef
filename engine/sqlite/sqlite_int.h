/*
 * sqlite_int.h — internals of the SQLite engine (engine/sqlite/): its
 * connection objects and the functions its table (sqlite_engine.c) points
 * to. The only header outside tests that includes <sqlite3.h>; nothing
 * outside engine/sqlite/ includes it (tests may, to inspect a database).
 *
 *   sqlite_engine.c   the ds_engine table, and which --db strings are SQLite
 *   sqlite_open.c     hardened connections, hot-journal recovery, busy timeout
 *   sqlite_lock.c     the run lock (flock on the database file)
 *   sqlite_migrate.c  dashspec's migrations, schema scripts
 *   sqlite_auth.c     the read-only authorizer of spec queries
 *   sqlite_bind.c     binding params and :now
 *   sqlite_exec.c     sources: running items, rows -> the shaper (in-process,
 *                     and inside each query worker)
 *   sqlite_pool.c     isolated sources: each item runs in a worker process
 *   sqlite_worker.c   the spawner and the worker processes (sqlite_pool.h)
 *   sqlite_wire.c     what crosses the worker's socket
 *   sqlite_writer.c   the writer: values, failures, run records, batches
 *   sqlite_state.c    state_load: cache and state rows of the plan's items
 *   sqlite_plan.c     plan_store, plan_load
 *   sqlite_describe.c describe: prepare under the read-only rules
 *   sqlite_lint.c     full scans and schema facts for check --explain
 *   sqlite_read.c     what get, status, clear and explain read
 */
#ifndef DS_SQLITE_INT_H
#define DS_SQLITE_INT_H

#include <sqlite3.h>
#include "engine.h"

/* A store connection. */
typedef struct sq_db {
    ds_db base;                 /* base.eng == &ds_sqlite_engine */
    sqlite3 *h;
    char *path;
    int mode;
} sq_db;

/* The raw handle of a SQLite store connection (the engine's files, tests). */
sqlite3 *ds_sqlite_handle(ds_db *db);

/* Embedded copies of migrations/sqlite/NNN-name.sql (scripts/embed.sh). */
extern const ds_migration ds_sqlite_migrations[];

/* sqlite_auth.c: why the authorizer refused a statement; pass one as ctx to
 * learn it. */
typedef struct ds_sqlite_auth {
    char why[192];          /* first refusal, "" when none */
} ds_sqlite_auth;

/* The authorizer for spec queries, for sqlite3_set_authorizer(h,
 * ds_sqlite_authorizer, ctx): allows reads (SQLITE_READ, except the pragma_*
 * table-valued functions), SQLITE_SELECT, SQLITE_FUNCTION (except
 * load_extension and fts3_tokenizer) and SQLITE_RECURSIVE; denies everything
 * else (writes, ATTACH, PRAGMA, transactions, temp objects, DDL). ctx is NULL
 * or a ds_sqlite_auth that receives the first refusal as a message. */
int ds_sqlite_authorizer(void *ctx, int code, const char *a, const char *b, const char *c, const char *d);

/* sqlite_bind.c: the one parameter binder. Binds every parameter the
 * statement names (:x, @x and $x all mean params entry x, as in the
 * compiler) and :now (as now, the "YYYY-MM-DD HH:MM:SS" text); positional
 * parameters (?, ?NNN) and unknown names stay NULL. 0 ok, -1 with *err
 * (malloc'd, naming the parameter) when SQLite refuses a value. */
int ds_sqlite_bind(sqlite3_stmt *st, const ds_item *it, const char *now, char **err);

/* sqlite_open.c: engine/engine.h's open, close, target, busy_timeout. */
void ds_sqlite_default_busy_timeout(int64_t ms);
int ds_sqlite_open(const char *path, int mode, ds_db **out, ds_diag *d);
void ds_sqlite_close(ds_db *db);
/* "a FIFO", "a socket", ... for a stat mode that is not a regular file. */
const char *ds_sqlite_file_kind(unsigned mode);
const char *ds_sqlite_target(const ds_db *db);
void ds_sqlite_busy_timeout(ds_db *db, int64_t ms);

/* sqlite_lock.c */
int ds_sqlite_lock(const char *path, ds_lock **out, ds_diag *d);
void ds_sqlite_unlock(ds_lock *l);

/* sqlite_migrate.c */
int ds_sqlite_migrated(ds_db *db);
int ds_sqlite_migrate(ds_db *db, ds_diag *d);
int ds_sqlite_exec_script(ds_db *db, const char *name, const char *sql, ds_diag *d);

/* A source: both kinds start alike, so the source operations of the table
 * (sqlite_exec.c) can tell an in-process executor from a handle on a worker
 * process (sqlite_pool.c). */
typedef struct sq_source {
    ds_exec base;               /* base.eng == &ds_sqlite_engine */
    int isolated;               /* 1: sqlite_pool.c's sq_iso */
} sq_source;

/* sqlite_exec.c: the table's source operations (an isolated source is passed
 * on to sqlite_pool.c). */
void ds_sqlite_configure(void);
ds_exec *ds_sqlite_source_open(const char *db_path, ds_diag *d);
void ds_sqlite_source_close(ds_exec *x);
void ds_sqlite_source_busy_timeout(ds_exec *x, int64_t ms);
void ds_sqlite_source_cancel_on(ds_exec *x, const volatile sig_atomic_t *sig, const atomic_int *flag);
int ds_sqlite_exec_item(ds_exec *x, const ds_item *it, int64_t now, ds_result *out, char **err);

/* sqlite_pool.c: engine.h's source_open_isolated, and the source operations
 * on the handle it returns (ds_sqlite_pool_close(NULL) only drops the
 * reference an open took on the spawner). */
ds_exec *ds_sqlite_pool_open(const char *path, ds_diag *d);
void ds_sqlite_pool_close(ds_exec *x);
void ds_sqlite_pool_busy_timeout(ds_exec *x, int64_t ms);
void ds_sqlite_pool_cancel_on(ds_exec *x, const volatile sig_atomic_t *sig, const atomic_int *flag);
int ds_sqlite_pool_exec(ds_exec *x, const ds_item *it, int64_t now, ds_result *out, char **err);

/* sqlite_writer.c */
ds_writer *ds_sqlite_writer_open(ds_db *db, ds_diag *d);
void ds_sqlite_writer_close(ds_writer *w);
int ds_sqlite_writer_concurrent(const ds_writer *w);
int ds_sqlite_put(ds_writer *w, const ds_item *it, const ds_result *r, int64_t now,
                  int64_t wait_ms, char **err, ds_diag *d);
/* engine.h's confirm (issue 13): sqlite_writer.c. */
int ds_sqlite_confirm(ds_writer *w, const ds_item *it, const ds_result *r, int64_t now,
                      int64_t wait_ms, char **err, ds_diag *d);
int ds_sqlite_fail(ds_writer *w, const ds_item *it, int64_t failures, const char *error,
                   int64_t duration_ms, int64_t now, int64_t next_attempt, int64_t wait_ms,
                   char **err, ds_diag *d);
int ds_sqlite_batch_begin(ds_writer *w, int64_t wait_ms);
int ds_sqlite_batch_commit(ds_writer *w);
void ds_sqlite_batch_abort(ds_writer *w);
int ds_sqlite_record_run(ds_writer *w, const ds_run_record *rec, int64_t wait_ms, char **err, ds_diag *d);
int ds_sqlite_data_version(ds_writer *w, int64_t *v);
int ds_sqlite_plan_fingerprint(ds_writer *w, uint64_t *fp);

/* sqlite_state.c */
int ds_sqlite_state_load(ds_db *db, const ds_plan *p, ds_item_state *st, ds_diag *d);

/* sqlite_plan.c */
int ds_sqlite_plan_store(ds_db *db, const ds_plan *p, int *changed, ds_diag *d);
int ds_sqlite_plan_load(ds_db *db, ds_plan *out, ds_diag *d);

/* sqlite_describe.c */
int ds_sqlite_describe(ds_db *db, const char *query, ds_describe *out);

/* sqlite_lint.c */
int ds_sqlite_full_scans(ds_db *db, const char *query, char ***names, size_t *n);
int ds_sqlite_table_exists(ds_db *db, const char *name);
int64_t ds_sqlite_table_rows(ds_db *db, const char *table);
int ds_sqlite_column_exists(ds_db *db, const char *table, const char *column);

/* sqlite_schema.c */
int ds_sqlite_schema_names(ds_db *db, const char *table, char ***names, size_t *n);

/* sqlite_read.c */
const char *ds_sqlite_errmsg(ds_db *db);
/* sqlite_history.c: history_load, history_totals (engine/engine.h). */
int ds_sqlite_history_load(ds_db *db, int64_t from, int64_t to, ds_history *h, ds_diag *d);
int ds_sqlite_history_totals(ds_db *db, ds_hist_totals *out, ds_diag *d);
int ds_sqlite_snapshot_begin(ds_db *db, ds_diag *d);
void ds_sqlite_snapshot_end(ds_db *db);
int ds_sqlite_cache_get(ds_db *db, const char *key, int64_t now, ds_value *out, ds_diag *d);
int ds_sqlite_cache_scan(ds_db *db, int64_t now, ds_cache_row_fn fn, void *ctx, ds_diag *d);
int ds_sqlite_cache_clear(ds_db *db, const char *const *pats, size_t npats, int64_t *cleared, ds_diag *d);
int ds_sqlite_explain(ds_db *db, ds_explain *e, ds_diag *d);

#endif

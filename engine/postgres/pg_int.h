/*
 * pg_int.h — internals of the PostgreSQL engine (engine/postgres/): its
 * connection objects, the helpers its files share, and the functions its
 * table (pg_engine.c) points to. The groundwork modules (ds_pg.h) do the
 * libpq work; these files wire them to engine/engine.h.
 *
 *   pg_engine.c   the ds_engine table; open/close, lock, migrate, describe, lint
 *   pg_store.c    plan_store/plan_load, state_load, get/status/clear/explain reads
 *   pg_run.c      sources (exec_item: rows -> the shaper) and the writer
 *   pg_history.c  history_load / history_totals (stats, report, prometheus)
 */
#ifndef DS_PG_INT_H
#define DS_PG_INT_H

#include "ds_pg.h"
#include "engine.h"

/* A store connection. */
typedef struct pg_db {
    ds_db base;                 /* base.eng == &ds_postgres_engine */
    PGconn *c;
    char *target;               /* the --db string, passwords redacted */
    int mode;                   /* DS_DB_* */
    char *err;                  /* the last error message (errmsg), malloc'd */
    int fresh_cols;             /* 1: dashspec_state has migration 003's columns (pg_store.c) */
} pg_db;

/* Embedded copies of migrations/postgres/NNN-name.sql (scripts/embed.sh). */
extern const ds_migration ds_pg_migrations[];

/* Runs sql with n text parameters (NULL entries are SQL NULL) and returns
 * the result (never NULL except on OOM; the caller PQclears it). */
PGresult *ds_pgq(PGconn *c, const char *sql, int n, const char *const *vals);
/* 1 when r is a successful command or query result. */
int ds_pgq_ok(const PGresult *r);
/* 1 when r failed because a table does not exist (42P01). */
int ds_pgq_no_table(const PGresult *r);
/* Reports r's (or the connection's) error into d as DS_DBERROR: "<what> '<target>': msg";
 * records it for errmsg; returns -1. */
int ds_pgq_fail(pg_db *db, const PGresult *r, const char *what, ds_diag *d);
/* Column i of row 0..: int64 (0 for NULL). */
int64_t ds_pgq_int(const PGresult *r, int row, int col);
/* malloc'd copy of a value, NULL for SQL NULL (*oom set on failure). */
char *ds_pgq_text(const PGresult *r, int row, int col, int *oom);

/* pg_engine.c */
PGconn *ds_pg_conn_of(ds_db *db);

/* pg_lint.c: check --explain on PostgreSQL: the tables EXPLAIN (FORMAT JSON)
 * of the query's generic plan reads with a Seq Scan (alias when given), in
 * plan order; none when it does not prepare. 0, or -1 on OOM. */
int ds_pg_full_scans(PGconn *c, const char *query, char ***names, size_t *n);

/* pg_store.c */
int ds_pg_plan_store(ds_db *db, const ds_plan *p, int *changed, ds_diag *d);
int ds_pg_plan_load(ds_db *db, ds_plan *out, ds_diag *d);
int ds_pg_state_load(ds_db *db, const ds_plan *p, ds_item_state *st, ds_diag *d);
int ds_pg_snapshot_begin(ds_db *db, ds_diag *d);
void ds_pg_snapshot_end(ds_db *db);
int ds_pg_cache_get(ds_db *db, const char *key, int64_t now, ds_value *out, ds_diag *d);
int ds_pg_cache_scan(ds_db *db, int64_t now, ds_cache_row_fn fn, void *ctx, ds_diag *d);
int ds_pg_cache_clear(ds_db *db, const char *const *pats, size_t npats, int64_t *cleared, ds_diag *d);
int ds_pg_explain(ds_db *db, ds_explain *e, ds_diag *d);

/* pg_history.c: history_load, history_totals (runtime/ds_history.h) */
int ds_pg_history_load(ds_db *db, int64_t from, int64_t to, ds_history *h, ds_diag *d);
int ds_pg_history_totals(ds_db *db, ds_hist_totals *out, ds_diag *d);

/* pg_run.c */
ds_exec *ds_pg_source_open(const char *target, ds_diag *d);
void ds_pg_source_close(ds_exec *x);
void ds_pg_source_busy_timeout(ds_exec *x, int64_t ms);
void ds_pg_source_cancel_on(ds_exec *x, const volatile sig_atomic_t *sig, const atomic_int *flag);
int ds_pg_exec_item(ds_exec *x, const ds_item *it, int64_t now, ds_result *out, char **err);
/* The text values and types of it's parameters for q (:now as now, :since
 * as it->since or NULL when it is 0, both timestamptz); vals[i] points into
 * it, nowbuf (32 bytes) or nums[i]. 0, or -1 on OOM. */
int ds_pg_bind(const ds_pg_sql *q, const ds_item *it, int64_t now, char *nowbuf,
               ds_pg_ptype *types, const char **vals, char (*nums)[32]);

/* pg_writer.c */
ds_writer *ds_pg_writer_open(ds_db *db, ds_diag *d);
void ds_pg_writer_close(ds_writer *w);
int ds_pg_writer_concurrent(const ds_writer *w);
int ds_pg_put(ds_writer *w, const ds_item *it, const ds_result *r, int64_t now,
              int64_t wait_ms, char **err, ds_diag *d);
/* engine.h confirm: one statement, applied only while no other runner holds
 * a live lease, the stored refresh_key still is r->key_value and neither
 * the value nor the state is newer than now (so a late confirmation never
 * moves a newer value's expiry); otherwise it changes nothing. A second
 * statement then releases this runner's own lease either way. Results as
 * put (DS_W_OK also when refused). */
int ds_pg_confirm(ds_writer *w, const ds_item *it, const ds_result *r, int64_t now,
                  int64_t wait_ms, char **err, ds_diag *d);
int ds_pg_fail_item(ds_writer *w, const ds_item *it, int64_t failures, const char *error,
                    int64_t duration_ms, int64_t now, int64_t next_attempt, int64_t wait_ms,
                    char **err, ds_diag *d);
int ds_pg_batch_begin(ds_writer *w, int64_t wait_ms);
int ds_pg_batch_commit(ds_writer *w);
void ds_pg_batch_abort(ds_writer *w);
int ds_pg_record_run(ds_writer *w, const ds_run_record *rec, int64_t wait_ms, char **err, ds_diag *d);
int ds_pg_data_version(ds_writer *w, int64_t *v);
int ds_pg_claim(ds_writer *w, const ds_item *it, const ds_item_state *st, int64_t now,
                int64_t lease_until, ds_diag *d);
int ds_pg_release(ds_writer *w, const ds_item *it, ds_diag *d);
int ds_pg_plan_fingerprint(ds_writer *w, uint64_t *fp);

#endif

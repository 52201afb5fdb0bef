/*
 * ds_cache.h — internals of `run`: the writer (the one read-write connection
 * that writes dashboard_cache, dashspec_state and dashspec_runs) and the
 * executor's knobs. Each call goes through the connection's engine
 * (engine/engine.h; the SQLite engine's are engine/sqlite/sqlite_writer.c and
 * sqlite_exec.c).
 */
#ifndef DS_CACHE_H
#define DS_CACHE_H

#include <signal.h>
#include <stdatomic.h>
#include "ds_runtime.h"

/* ---------------------------------------------------------------- executor knobs (engine: source_*) */

/* Process-wide settings of target's engine for running queries (SQLite: the
 * sorters' memory). Call before the process opens its first connection;
 * later it does nothing. Cannot fail. */
void ds_exec_configure(const char *target);
/* How long a locked database is waited on by this connection's reads. */
void ds_exec_busy_timeout(ds_exec *x, int64_t ms);
/* While *sig or *flag (either may be NULL) is nonzero, running queries are
 * interrupted and fail with "interrupted". sig is for a signal handler's flag
 * read on the thread that runs the queries; flag for one set by another
 * thread. Both are read, never written. */
void ds_exec_cancel_on(ds_exec *x, const volatile sig_atomic_t *sig, const atomic_int *flag);

/* ---------------------------------------------------------------- the writer (engine: writer_*) */

typedef struct ds_writer ds_writer;

/* Results of a write. */
enum {
    DS_W_OK = 0,        /* committed */
    DS_W_BUSY = 1,      /* the database stayed locked: this item fails, the run goes on */
    DS_W_ITEM = 2,      /* this row cannot be written (constraint, value too big): item fails */
    DS_W_DB = -1        /* the database cannot be written (disk full, I/O, read-only): stop */
};

/* Prepares the writer's statements on db (open read-write, migrated; not
 * owned) and installs an authorizer that lets it write only dashboard_cache
 * and dashspec_* tables. Call after any compile on db: the authorizer
 * replaces whatever was there. NULL on failure, reported into d (DS_DBERROR). */
ds_writer *ds_writer_new(ds_db *db, ds_diag *d);
void ds_writer_free(ds_writer *w);     /* finalizes; the connection stays open */
/* 1 when the database is in WAL mode (readers never block a commit). */
int ds_writer_wal(const ds_writer *w);

/* Writes a computed value: dashboard_cache (created_at = now, expires_at =
 * now + ttl) and dashspec_state (success) in one IMMEDIATE transaction,
 * waiting at most wait_ms for locks. DS_W_OK; DS_W_BUSY or DS_W_ITEM with
 * *err (malloc'd) and nothing written; DS_W_DB with the error in d. */
int ds_cache_put(ds_writer *w, const ds_item *it, const ds_result *r, int64_t now,
                 int64_t wait_ms, char **err, ds_diag *d);
/* Confirms the value of it instead of writing a new one (its refresh_key is
 * unchanged, r->confirmed): the engine's confirm operation (engine/engine.h).
 * Same results as ds_cache_put. ds_cache_can_confirm: 1 when the engine
 * has the operation (else refresh_key values are always recomputed). */
int ds_cache_confirm(ds_writer *w, const ds_item *it, const ds_result *r, int64_t now,
                     int64_t wait_ms, char **err, ds_diag *d);
int ds_cache_can_confirm(const ds_writer *w);

/* Records a failed attempt in dashspec_state only (the last good value stays):
 * last_attempt = now, last_error, failures = prev_failures + 1, next_attempt =
 * the end of the backoff; last_duration_ms is left as it was. Same results
 * as ds_cache_put. */
int ds_cache_fail(ds_writer *w, const ds_item *it, int64_t prev_failures, const char *error,
                  int64_t now, int64_t wait_ms, char **err, ds_diag *d);
/* ds_cache_fail that also records the failed attempt's duration (a timeout
 * shows as its length; --jobs starts long items first). */
int ds_cache_fail_timed(ds_writer *w, const ds_item *it, int64_t prev_failures, const char *error,
                        int64_t duration_ms, int64_t now, int64_t wait_ms, char **err, ds_diag *d);

/* Batches: between ds_cache_batch_begin and ds_cache_batch_commit, puts and
 * fails go into one IMMEDIATE transaction (one commit, one set of fsyncs,
 * for results that are ready together) and report nothing: a result other
 * than DS_W_OK means "abort the batch and write the items one by one", which
 * reports each item's own error. begin waits at most wait_ms for the lock;
 * begin and commit return DS_W_OK or the kind of the failure (rolled back).
 * ds_cache_record_run must not be called inside a batch. */
int ds_cache_batch_begin(ds_writer *w, int64_t wait_ms);
int ds_cache_batch_commit(ds_writer *w);
void ds_cache_batch_abort(ds_writer *w);    /* rolls back everything since begin */

/* One dashspec_runs row. */
typedef struct ds_run_record {
    int64_t started_at, finished_at;
    const char *status;         /* "ok", "partial", "failed" */
    int64_t items_run, items_ok, items_failed, skipped, entries, duration_ms;
    const char *summary;        /* the summary JSON */
} ds_run_record;

/* Appends the run's row (and keeps only the newest DS_RUNS_KEEP rows). Same
 * results as ds_cache_put. */
#define DS_RUNS_KEEP 10000
int ds_cache_record_run(ds_writer *w, const ds_run_record *rec, int64_t wait_ms, char **err, ds_diag *d);

/* Claims a due item for this runner before it is computed (several runners
 * on one PostgreSQL database share the work; docs/postgres.md): 1 compute
 * it, 0 skip it (another runner holds its lease, or attempted it since st
 * was read), -1 database error (in d). The lease ends at now + the item's
 * timeout + DS_LEASE_MARGIN_S; writing the value or the failure releases it.
 * On SQLite always 1. */
#define DS_LEASE_MARGIN_S 60
int ds_cache_claim(ds_writer *w, const ds_item *it, const ds_item_state *st, int64_t now, ds_diag *d);
/* Gives back the lease of a claimed item this run will not write (its query
 * was interrupted by a signal): 0, -1 database error (in d). No-op on SQLite. */
int ds_cache_release(ds_writer *w, const ds_item *it, ds_diag *d);
/* 1 when w's engine wants a claim per item right before it is computed
 * (PostgreSQL: runners started together divide the work), 0 when one claim
 * of every due item up front will do (SQLite: the whole-run lock). */
int ds_cache_claims_each(const ds_writer *w);

/* PRAGMA data_version of the writer's connection: changes when another
 * connection commits. 0 ok, -1 error. */
int ds_cache_data_version(ds_writer *w, int64_t *v);
/* A 64-bit fingerprint of the stored plan's rows (every column), to notice a
 * plan replaced by `compile`. 0 ok, -1 error. */
int ds_cache_plan_fingerprint(ds_writer *w, uint64_t *fp);

#endif

/*
 * sqlite_writer.c — the SQLite engine's writer (engine/engine.h: writer_open
 * ... plan_fingerprint): the one read-write connection that writes
 * dashboard_cache, dashspec_state and dashspec_runs (sqlite_state.c reads
 * them back).
 *
 * Every value is written in its own short IMMEDIATE transaction together with
 * its state row, so a reader (or a kill -9) sees either the old value or the
 * new one, never a half. A failure touches only dashspec_state: the last good
 * value stays. Write errors are sorted into three kinds (see ds_cache.h):
 * a lock that outlasts the wait fails one item, a row that cannot be written
 * fails one item, and a database that cannot be written stops the run.
 *
 * The connection gets an authorizer that allows writes to dashboard_cache and
 * dashspec_* tables only; triggers are already off on read-write connections
 * (sqlite_open.c), so nothing the user's schema declares can widen that.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sqlite_int.h"

typedef struct sq_writer {
    ds_writer base;                         /* base.eng == &ds_sqlite_engine */
    ds_db *db;
    sqlite3 *h;
    int wal;
    sqlite3_stmt *begin, *commit, *rollback;
    sqlite3_stmt *cache_upsert;             /* or, without a unique cache_key: */
    sqlite3_stmt *cache_update, *cache_insert;
    sqlite3_stmt *state_ok, *state_fail;
    sqlite3_stmt *cache_confirm, *state_confirm;   /* refresh_key (migration 003) */
    sqlite3_stmt *run_insert, *run_trim;
    sqlite3_stmt *hist_insert, *hist_trim;  /* NULL without dashspec_history (002) */
    sqlite3_stmt *data_version, *plan_rows; /* prepared on first use */
    int batch;                              /* in batch_begin's transaction */
} sq_writer;

/* ---------------------------------------------------------------- authorizer */

static int is_ours(const char *table)
{
    return table && (strcmp(table, "dashboard_cache") == 0 || strncmp(table, "dashspec_", 9) == 0);
}

/* Reads anywhere; writes only to our tables in main; pragmas only when they
 * read (the plan loader may look at table_info); no DDL, ATTACH or the like. */
static int writer_auth(void *ctx, int code, const char *a, const char *b, const char *dbname, const char *trig)
{
    (void)ctx; (void)trig;
    switch (code) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_FUNCTION:
    case SQLITE_RECURSIVE:
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
        return SQLITE_OK;
    case SQLITE_INSERT:
    case SQLITE_UPDATE:
    case SQLITE_DELETE:
        return is_ours(a) && dbname && strcmp(dbname, "main") == 0 ? SQLITE_OK : SQLITE_DENY;
    case SQLITE_PRAGMA:
        if (!a) return SQLITE_DENY;
        if (strcmp(a, "data_version") == 0 || strcmp(a, "table_info") == 0 ||
            strcmp(a, "table_xinfo") == 0 || strcmp(a, "index_list") == 0 ||
            strcmp(a, "index_info") == 0 || strcmp(a, "index_xinfo") == 0)
            return SQLITE_OK;
        if (!b && (strcmp(a, "journal_mode") == 0 || strcmp(a, "user_version") == 0 ||
                   strcmp(a, "schema_version") == 0))
            return SQLITE_OK;
        return SQLITE_DENY;
    default:
        return SQLITE_DENY;
    }
}

/* ---------------------------------------------------------------- helpers */

/* Sorts a failed write by its primary result code (see ds_cache.h). Out of
 * memory is one item's failure: the heap is capped for the whole process,
 * and a query running beside the writer may hold most of it for a moment. */
static int classify(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return DS_W_BUSY;
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_PROTOCOL:
        return DS_W_DB;
    default:
        return DS_W_ITEM;
    }
}

/* Steps a statement that returns no rows and resets it. Returns the step's
 * result code (SQLITE_OK for DONE); the message is copied into *msg. */
static int run_stmt(sqlite3 *h, sqlite3_stmt *st, char **msg)
{
    int rc = sqlite3_step(st);
    while (rc == SQLITE_ROW) rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) rc = SQLITE_OK;
    else if (msg && !*msg) *msg = ds_strdup(sqlite3_errmsg(h));
    sqlite3_reset(st);
    return rc;
}

static int prep(sq_writer *w, const char *sql, sqlite3_stmt **st, ds_diag *d)
{
    int rc = sqlite3_prepare_v3(w->h, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
    if (rc != SQLITE_OK) {
        ds_fail(d, DS_DBERROR, "cannot write database '%s': %s", ds_db_path(w->db), sqlite3_errmsg(w->h));
        return -1;
    }
    return 0;
}

/* SQLITE_TRANSIENT copies the text, which can fail for want of memory and
 * would leave NULL bound: callers turn a nonzero result into SQLITE_NOMEM
 * rather than write a row with a missing time. */
static int bind_time(sqlite3_stmt *st, int i, int64_t t)
{
    char ts[20];
    ds_time_format(t, ts);
    return sqlite3_bind_text(st, i, ts, 19, SQLITE_TRANSIENT);
}

static int64_t add_sat(int64_t a, int64_t b)
{
    return b > 0 && a > INT64_MAX - b ? INT64_MAX : a + b;
}

/* One dashspec_history row (migration 002) inside the caller's transaction:
 * ok with duration, entries, bytes and expiry; a failure with its error and
 * duration (< 0: unknown). SQLITE_OK when the table is absent. */
static int history_add(sq_writer *w, const ds_item *it, int64_t now, int ok, int64_t duration_ms,
                       const ds_result *r, const char *error, char **msg)
{
    sqlite3_stmt *s = w->hist_insert;
    if (!s) return SQLITE_OK;
    sqlite3_bind_int64(s, 1, now);
    sqlite3_bind_text(s, 2, it->key, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, ok);
    if (duration_ms >= 0) sqlite3_bind_int64(s, 4, duration_ms); else sqlite3_bind_null(s, 4);
    if (ok) {
        sqlite3_bind_int64(s, 5, r->entries);
        sqlite3_bind_int64(s, 6, (sqlite3_int64)r->len);
        sqlite3_bind_int64(s, 7, add_sat(now, it->ttl));
        sqlite3_bind_null(s, 8);
    } else {
        for (int i = 5; i <= 7; i++) sqlite3_bind_null(s, i);
        sqlite3_bind_text(s, 8, error ? error : "unknown error", -1, SQLITE_STATIC);
    }
    int rc = run_stmt(w->h, s, msg);
    sqlite3_clear_bindings(s);
    return rc;
}

/* ---------------------------------------------------------------- the writer */

ds_writer *ds_sqlite_writer_open(ds_db *db, ds_diag *d)
{
    sq_writer *w = calloc(1, sizeof *w);
    if (!w) { ds_fail(d, DS_DBERROR, "out of memory"); return NULL; }
    w->base.eng = &ds_sqlite_engine;
    w->db = db;
    w->h = ds_sqlite_handle(db);

    /* Read the journal mode (a query, not a change) before the authorizer. */
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(w->h, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        const char *m = (const char *)sqlite3_column_text(st, 0);
        w->wal = m && strcmp(m, "wal") == 0;
    }
    sqlite3_finalize(st);
    /* The writer touches a few pages per value: a small cache will do. */
    sqlite3_exec(w->h, "PRAGMA cache_size = -512", NULL, NULL, NULL);
    sqlite3_set_authorizer(w->h, writer_auth, NULL);

    if (prep(w, "BEGIN IMMEDIATE", &w->begin, d) || prep(w, "COMMIT", &w->commit, d) ||
        prep(w, "ROLLBACK", &w->rollback, d))
        goto fail;
    /* An application's own dashboard_cache may lack the unique key an upsert
     * needs; then an UPDATE, and an INSERT when it changed nothing. */
    if (sqlite3_prepare_v3(w->h,
            "INSERT INTO dashboard_cache (cache_key, cache_value, created_at, expires_at) "
            "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (cache_key) DO UPDATE SET "
            "cache_value = excluded.cache_value, created_at = excluded.created_at, "
            "expires_at = excluded.expires_at",
            -1, SQLITE_PREPARE_PERSISTENT, &w->cache_upsert, NULL) != SQLITE_OK) {
        w->cache_upsert = NULL;
        if (prep(w, "UPDATE dashboard_cache SET cache_value = ?2, created_at = ?3, expires_at = ?4 "
                    "WHERE cache_key = ?1", &w->cache_update, d) ||
            prep(w, "INSERT INTO dashboard_cache (cache_key, cache_value, created_at, expires_at) "
                    "VALUES (?1, ?2, ?3, ?4)", &w->cache_insert, d))
            goto fail;
    }
    if (prep(w, "INSERT INTO dashspec_state (cache_key, last_attempt, last_success, last_duration_ms, "
                "entries, last_error, failures, next_attempt, spec_hash, value_bytes, refresh_key_value, "
                "confirmed_at, last_full) "
                "VALUES (?1, ?2, ?2, ?3, ?4, NULL, 0, ?5, ?6, ?7, ?8, NULL, ?9) ON CONFLICT (cache_key) DO UPDATE SET "
                "last_attempt = excluded.last_attempt, last_success = excluded.last_success, "
                "last_duration_ms = excluded.last_duration_ms, entries = excluded.entries, "
                "last_error = NULL, failures = 0, next_attempt = excluded.next_attempt, "
                "spec_hash = excluded.spec_hash, value_bytes = excluded.value_bytes, "
                "refresh_key_value = excluded.refresh_key_value, confirmed_at = NULL, "
                "last_full = coalesce(excluded.last_full, dashspec_state.last_full)",
             &w->state_ok, d) ||
        prep(w, "UPDATE dashboard_cache SET expires_at = ?2 WHERE cache_key = ?1", &w->cache_confirm, d) ||
        prep(w, "UPDATE dashspec_state SET last_attempt = ?2, last_success = ?2, confirmed_at = ?2, "
                "last_duration_ms = ?3, failures = 0, last_error = NULL, next_attempt = ?4 "
                "WHERE cache_key = ?1", &w->state_confirm, d) ||
        prep(w, "INSERT INTO dashspec_state (cache_key, last_attempt, last_error, failures, next_attempt, "
                "last_duration_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (cache_key) DO UPDATE SET "
                "last_attempt = excluded.last_attempt, last_error = excluded.last_error, "
                "failures = excluded.failures, next_attempt = excluded.next_attempt, "
                "last_duration_ms = coalesce(excluded.last_duration_ms, last_duration_ms)",
             &w->state_fail, d) ||
        prep(w, "INSERT INTO dashspec_runs (started_at, finished_at, status, items_run, items_ok, "
                "items_failed, skipped, entries, duration_ms, summary) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", &w->run_insert, d))
        goto fail;
    /* History (migration 002): one row per attempt, kept as long as the runs
     * are; keep_runs in dashspec_settings overrides DS_RUNS_KEEP. A database
     * without those tables keeps the old behaviour. */
    if (sqlite3_prepare_v3(w->h,
            "DELETE FROM dashspec_runs WHERE id <= last_insert_rowid() - coalesce((SELECT value "
            "FROM dashspec_settings WHERE name = 'keep_runs' AND value > 0), ?1)",
            -1, SQLITE_PREPARE_PERSISTENT, &w->run_trim, NULL) != SQLITE_OK &&
        prep(w, "DELETE FROM dashspec_runs WHERE id <= last_insert_rowid() - ?1", &w->run_trim, d))
        goto fail;
    if (sqlite3_prepare_v3(w->h,
            "INSERT INTO dashspec_history (at, cache_key, ok, duration_ms, entries, bytes, expires_at, "
            "error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, substr(?8, 1, 200))",
            -1, SQLITE_PREPARE_PERSISTENT, &w->hist_insert, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(w->h,
            "DELETE FROM dashspec_history WHERE at < (SELECT CAST(strftime('%s', started_at) AS INTEGER) "
            "FROM dashspec_runs ORDER BY id LIMIT 1)",
            -1, SQLITE_PREPARE_PERSISTENT, &w->hist_trim, NULL) != SQLITE_OK) {
        sqlite3_finalize(w->hist_insert);
        sqlite3_finalize(w->hist_trim);
        w->hist_insert = w->hist_trim = NULL;
    }
    return &w->base;
fail:
    ds_sqlite_writer_close(&w->base);
    return NULL;
}

void ds_sqlite_writer_close(ds_writer *base)
{
    sq_writer *w = (sq_writer *)base;
    if (!w) return;
    sqlite3_stmt *all[] = {w->begin, w->commit, w->rollback, w->cache_upsert, w->cache_update,
                           w->cache_confirm, w->state_confirm,
                           w->cache_insert, w->state_ok, w->state_fail, w->run_insert, w->run_trim,
                           w->data_version, w->plan_rows, w->hist_insert, w->hist_trim};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) sqlite3_finalize(all[i]);
    sqlite3_set_authorizer(w->h, NULL, NULL);
    free(w);
}

int ds_sqlite_writer_concurrent(const ds_writer *base) { return ((const sq_writer *)base)->wal; }

/* Ends a write: on rc != OK rolls back (if a transaction is open), sorts the
 * error and reports it. */
static int finish(sq_writer *w, int rc, char *msg, char **err, ds_diag *d)
{
    if (rc == SQLITE_OK) { free(msg); return DS_W_OK; }
    /* In a batch the caller rolls everything back and writes the items one
     * by one, and that reports the error. */
    if (w->batch) { free(msg); return classify(rc); }
    if (!sqlite3_get_autocommit(w->h)) run_stmt(w->h, w->rollback, NULL);
    int k = classify(rc);
    const char *m = msg ? msg : sqlite3_errstr(rc);
    if (k == DS_W_DB) {
        ds_fail(d, DS_DBERROR, "cannot write database '%s': %s", ds_db_path(w->db), m);
    } else if (err) {
        *err = ds_strdup(m);
    }
    free(msg);
    return k;
}

static int begin(sq_writer *w, int64_t wait_ms, char **msg)
{
    if (w->batch) return SQLITE_OK;
    ds_db_busy_timeout(w->db, wait_ms < 0 ? 0 : wait_ms);
    return run_stmt(w->h, w->begin, msg);
}

static int commit(sq_writer *w, char **msg)
{
    return w->batch ? SQLITE_OK : run_stmt(w->h, w->commit, msg);
}

int ds_sqlite_batch_begin(ds_writer *base, int64_t wait_ms)
{
    sq_writer *w = (sq_writer *)base;
    if (w->batch) return DS_W_OK;
    char *msg = NULL;
    int rc = begin(w, wait_ms, &msg);
    free(msg);
    if (rc == SQLITE_OK) { w->batch = 1; return DS_W_OK; }
    if (!sqlite3_get_autocommit(w->h)) run_stmt(w->h, w->rollback, NULL);
    return classify(rc);
}

int ds_sqlite_batch_commit(ds_writer *base)
{
    sq_writer *w = (sq_writer *)base;
    if (!w->batch) return DS_W_OK;
    w->batch = 0;
    int rc = run_stmt(w->h, w->commit, NULL);
    if (rc == SQLITE_OK) return DS_W_OK;
    if (!sqlite3_get_autocommit(w->h)) run_stmt(w->h, w->rollback, NULL);
    return classify(rc);
}

void ds_sqlite_batch_abort(ds_writer *base)
{
    sq_writer *w = (sq_writer *)base;
    w->batch = 0;
    if (!sqlite3_get_autocommit(w->h)) run_stmt(w->h, w->rollback, NULL);
}

int ds_sqlite_put(ds_writer *base, const ds_item *it, const ds_result *r, int64_t now,
                 int64_t wait_ms, char **err, ds_diag *d)
{
    sq_writer *w = (sq_writer *)base;
    char *msg = NULL;
    int rc = begin(w, wait_ms, &msg);
    if (rc == SQLITE_OK) {
        sqlite3_stmt *c = w->cache_upsert ? w->cache_upsert : w->cache_update;
        sqlite3_bind_text(c, 1, it->key, -1, SQLITE_STATIC);
        sqlite3_bind_text(c, 2, r->json, (int)r->len, SQLITE_STATIC);
        int b = bind_time(c, 3, now) | bind_time(c, 4, add_sat(now, it->ttl));
        rc = b ? SQLITE_NOMEM : run_stmt(w->h, c, &msg);
        if (rc == SQLITE_OK && !w->cache_upsert && sqlite3_changes(w->h) == 0) {
            c = w->cache_insert;
            sqlite3_bind_text(c, 1, it->key, -1, SQLITE_STATIC);
            sqlite3_bind_text(c, 2, r->json, (int)r->len, SQLITE_STATIC);
            b = bind_time(c, 3, now) | bind_time(c, 4, add_sat(now, it->ttl));
            rc = b ? SQLITE_NOMEM : run_stmt(w->h, c, &msg);
        }
    }
    if (rc == SQLITE_OK) {
        sqlite3_stmt *s = w->state_ok;
        sqlite3_bind_text(s, 1, it->key, -1, SQLITE_STATIC);
        int b = bind_time(s, 2, now);
        sqlite3_bind_int64(s, 3, r->duration_ms);
        sqlite3_bind_int64(s, 4, r->entries);
        b |= bind_time(s, 5, add_sat(now, it->refresh));
        sqlite3_bind_text(s, 6, it->hash, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 7, (sqlite3_int64)r->len);
        if (r->key_value) sqlite3_bind_text(s, 8, r->key_value, -1, SQLITE_STATIC);
        else sqlite3_bind_null(s, 8);
        if (r->full) b |= bind_time(s, 9, now);
        else sqlite3_bind_null(s, 9);
        rc = b ? SQLITE_NOMEM : run_stmt(w->h, s, &msg);
    }
    if (rc == SQLITE_OK) rc = history_add(w, it, now, 1, r->duration_ms, r, NULL, &msg);
    if (rc == SQLITE_OK) rc = commit(w, &msg);
    return finish(w, rc, msg, err, d);
}

int ds_sqlite_confirm(ds_writer *base, const ds_item *it, const ds_result *r, int64_t now,
                      int64_t wait_ms, char **err, ds_diag *d)
{
    sq_writer *w = (sq_writer *)base;
    char *msg = NULL;
    int rc = begin(w, wait_ms, &msg);
    if (rc == SQLITE_OK) {
        sqlite3_stmt *c = w->cache_confirm;
        sqlite3_bind_text(c, 1, it->key, -1, SQLITE_STATIC);
        rc = bind_time(c, 2, add_sat(now, it->ttl)) ? SQLITE_NOMEM : run_stmt(w->h, c, &msg);
    }
    if (rc == SQLITE_OK) {
        sqlite3_stmt *s = w->state_confirm;
        sqlite3_bind_text(s, 1, it->key, -1, SQLITE_STATIC);
        int b = bind_time(s, 2, now) | bind_time(s, 4, add_sat(now, it->refresh));
        sqlite3_bind_int64(s, 3, r->duration_ms);
        rc = b ? SQLITE_NOMEM : run_stmt(w->h, s, &msg);
    }
    if (rc == SQLITE_OK) rc = commit(w, &msg);
    return finish(w, rc, msg, err, d);
}

int ds_sqlite_fail(ds_writer *base, const ds_item *it, int64_t failures, const char *error,
                   int64_t duration_ms, int64_t now, int64_t next_attempt, int64_t wait_ms,
                   char **err, ds_diag *d)
{
    sq_writer *w = (sq_writer *)base;
    char *msg = NULL;
    int rc = begin(w, wait_ms, &msg);
    if (rc == SQLITE_OK) {
        sqlite3_stmt *s = w->state_fail;
        sqlite3_bind_text(s, 1, it->key, -1, SQLITE_STATIC);
        int b = bind_time(s, 2, now);
        sqlite3_bind_text(s, 3, error ? error : "unknown error", -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, failures);
        b |= bind_time(s, 5, next_attempt);
        if (duration_ms >= 0) sqlite3_bind_int64(s, 6, duration_ms);
        else sqlite3_bind_null(s, 6);
        rc = b ? SQLITE_NOMEM : run_stmt(w->h, s, &msg);
    }
    if (rc == SQLITE_OK) rc = history_add(w, it, now, 0, duration_ms, NULL, error, &msg);
    if (rc == SQLITE_OK) rc = commit(w, &msg);
    return finish(w, rc, msg, err, d);
}

int ds_sqlite_record_run(ds_writer *base, const ds_run_record *rec, int64_t wait_ms, char **err, ds_diag *d)
{
    sq_writer *w = (sq_writer *)base;
    char *msg = NULL;
    int rc = begin(w, wait_ms, &msg);
    if (rc == SQLITE_OK) {
        sqlite3_stmt *s = w->run_insert;
        int b = bind_time(s, 1, rec->started_at) | bind_time(s, 2, rec->finished_at);
        sqlite3_bind_text(s, 3, rec->status, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, rec->items_run);
        sqlite3_bind_int64(s, 5, rec->items_ok);
        sqlite3_bind_int64(s, 6, rec->items_failed);
        sqlite3_bind_int64(s, 7, rec->skipped);
        sqlite3_bind_int64(s, 8, rec->entries);
        sqlite3_bind_int64(s, 9, rec->duration_ms);
        sqlite3_bind_text(s, 10, rec->summary ? rec->summary : "{}", -1, SQLITE_STATIC);
        rc = b ? SQLITE_NOMEM : run_stmt(w->h, s, &msg);
    }
    if (rc == SQLITE_OK) {
        /* Old rows go in the same transaction: cron every minute would
         * otherwise grow the table by half a million rows a year. */
        sqlite3_bind_int64(w->run_trim, 1, DS_RUNS_KEEP);
        rc = run_stmt(w->h, w->run_trim, &msg);
    }
    /* The history lasts as long as the runs kept. */
    if (rc == SQLITE_OK && w->hist_trim) rc = run_stmt(w->h, w->hist_trim, &msg);
    if (rc == SQLITE_OK) rc = commit(w, &msg);
    return finish(w, rc, msg, err, d);
}

int ds_sqlite_data_version(ds_writer *base, int64_t *v)
{
    sq_writer *w = (sq_writer *)base;
    if (!w->data_version &&
        sqlite3_prepare_v3(w->h, "PRAGMA data_version", -1, SQLITE_PREPARE_PERSISTENT, &w->data_version, NULL) != SQLITE_OK)
        return -1;
    int rc = sqlite3_step(w->data_version);
    if (rc == SQLITE_ROW) *v = sqlite3_column_int64(w->data_version, 0);
    sqlite3_reset(w->data_version);
    return rc == SQLITE_ROW ? 0 : -1;
}

int ds_sqlite_plan_fingerprint(ds_writer *base, uint64_t *fp)
{
    sq_writer *w = (sq_writer *)base;
    if (!w->plan_rows &&
        sqlite3_prepare_v3(w->h, "SELECT * FROM dashspec_plan ORDER BY key", -1, SQLITE_PREPARE_PERSISTENT,
                           &w->plan_rows, NULL) != SQLITE_OK)
        return -1;
    uint64_t h = 14695981039346656037ULL;   /* FNV-1a */
    int rc;
    while ((rc = sqlite3_step(w->plan_rows)) == SQLITE_ROW) {
        int n = sqlite3_column_count(w->plan_rows);
        for (int i = 0; i < n; i++) {
            int t = sqlite3_column_type(w->plan_rows, i);
            const unsigned char *p = t == SQLITE_NULL ? NULL : sqlite3_column_text(w->plan_rows, i);
            int len = sqlite3_column_bytes(w->plan_rows, i);
            h = (h ^ (uint64_t)(t + 0x100)) * 1099511628211ULL;
            for (int k = 0; p && k < len; k++) h = (h ^ p[k]) * 1099511628211ULL;
        }
        h = (h ^ 0x1ff) * 1099511628211ULL;
    }
    sqlite3_reset(w->plan_rows);
    if (rc != SQLITE_DONE) return -1;
    *fp = h;
    return 0;
}

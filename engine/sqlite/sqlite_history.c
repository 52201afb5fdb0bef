/*
 * sqlite_history.c — the SQLite engine's history_load and history_totals
 * (engine/engine.h, runtime/ds_history.h): reads dashspec_history and
 * dashspec_runs back into plain C structs. The writes are in
 * sqlite_writer.c, inside each attempt's transaction.
 *
 * A database without the tables (migration 002 not applied yet) reads as
 * an empty history, never as an error.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ds_history.h"
#include "sqlite_int.h"

/* Prepares sql on h; a missing table yields *st = NULL and 0. */
static int prep(sqlite3 *h, const char *path, const char *sql, sqlite3_stmt **st, ds_diag *d)
{
    *st = NULL;
    if (sqlite3_prepare_v2(h, sql, -1, st, NULL) == SQLITE_OK) return 0;
    const char *m = sqlite3_errmsg(h);
    if (strncmp(m, "no such table", 13) == 0) return 0;
    return ds_fail(d, DS_DBERROR, "cannot read database '%s': %s", path, m);
}

static int64_t col_int(sqlite3_stmt *st, int i, int64_t null)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? null : sqlite3_column_int64(st, i);
}

static char *col_str(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL) return NULL;
    return ds_strndup((const char *)sqlite3_column_text(st, i), (size_t)sqlite3_column_bytes(st, i));
}

/* Grows *v (element size sz) so that one more fits. 0 ok, -1 OOM. */
static int grow(void **v, size_t n, size_t *cap, size_t sz)
{
    if (n < *cap) return 0;
    size_t c = *cap ? *cap * 2 : 64;
    void *p = realloc(*v, c * sz);
    if (!p) return -1;
    *v = p;
    *cap = c;
    return 0;
}

static int64_t col_time(sqlite3_stmt *st, int i)
{
    int64_t t = 0;
    const char *s = (const char *)sqlite3_column_text(st, i);
    return s && ds_time_parse(s, &t) == 0 ? t : 0;
}

static int load_attempts(sqlite3 *h, const char *path, int64_t from, int64_t to, ds_history *hi, ds_diag *d)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    if (prep(h, path, "SELECT at, cache_key, ok, duration_ms, entries, bytes, expires_at, error "
                      "FROM dashspec_history WHERE at <= ?2 AND (at >= ?1 OR (ok = 1 AND expires_at > ?1)) "
                      "ORDER BY at, id", &st, d))
        return -1;
    if (!st) return 0;
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, to);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow((void **)&hi->a, hi->na, &cap, sizeof *hi->a)) { rc = SQLITE_NOMEM; break; }
        ds_hist_attempt *a = &hi->a[hi->na];
        memset(a, 0, sizeof *a);
        a->at = sqlite3_column_int64(st, 0);
        a->key = col_str(st, 1);
        if (!a->key) { rc = SQLITE_NOMEM; break; }
        hi->na++;
        a->ok = sqlite3_column_int(st, 2) != 0;
        a->duration_ms = col_int(st, 3, -1);
        a->entries = col_int(st, 4, -1);
        a->bytes = col_int(st, 5, -1);
        a->expires_at = col_int(st, 6, 0);
        a->error = col_str(st, 7);
    }
    int bad = rc != SQLITE_DONE;
    if (bad) ds_fail(d, DS_DBERROR, "cannot read database '%s': %s", path,
                     rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(h));
    sqlite3_finalize(st);
    return bad ? -1 : 0;
}

static int load_runs(sqlite3 *h, const char *path, int64_t from, int64_t to, ds_history *hi, ds_diag *d)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    char f[20], t[20];
    if (prep(h, path, "SELECT started_at, finished_at, duration_ms, items_run, items_ok, items_failed, "
                      "skipped, status FROM dashspec_runs WHERE started_at >= ?1 AND started_at <= ?2 "
                      "ORDER BY started_at, id", &st, d))
        return -1;
    if (!st) return 0;
    ds_time_format(from, f);
    ds_time_format(to, t);
    sqlite3_bind_text(st, 1, f, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, t, -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow((void **)&hi->r, hi->nr, &cap, sizeof *hi->r)) { rc = SQLITE_NOMEM; break; }
        ds_hist_run *r = &hi->r[hi->nr++];
        memset(r, 0, sizeof *r);
        r->started_at = col_time(st, 0);
        r->finished_at = col_time(st, 1);
        r->duration_ms = col_int(st, 2, 0);
        r->items_run = col_int(st, 3, 0);
        r->items_ok = col_int(st, 4, 0);
        r->items_failed = col_int(st, 5, 0);
        r->skipped = col_int(st, 6, 0);
        const char *s = (const char *)sqlite3_column_text(st, 7);
        if (s) snprintf(r->status, sizeof r->status, "%s", s);
    }
    int bad = rc != SQLITE_DONE;
    if (bad) ds_fail(d, DS_DBERROR, "cannot read database '%s': %s", path,
                     rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(h));
    sqlite3_finalize(st);
    return bad ? -1 : 0;
}

int ds_sqlite_history_load(ds_db *db, int64_t from, int64_t to, ds_history *h, ds_diag *d)
{
    sqlite3 *sh = ds_sqlite_handle(db);
    const char *path = ds_sqlite_target(db);
    /* One read transaction: the attempts and the runs agree. Inside a
     * caller's snapshot (autocommit off) that snapshot already is one. */
    int own = sqlite3_get_autocommit(sh);
    if (own) sqlite3_exec(sh, "BEGIN", NULL, NULL, NULL);
    int rc = load_attempts(sh, path, from, to, h, d) || load_runs(sh, path, from, to, h, d) ? -1 : 0;
    if (own) sqlite3_exec(sh, "COMMIT", NULL, NULL, NULL);
    return rc;
}

static int load_totals(sqlite3 *h, const char *path, ds_hist_totals *o, ds_diag *d)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    if (prep(h, path, "SELECT cache_key, count(*), sum(ok = 0) FROM dashspec_history "
                      "GROUP BY cache_key ORDER BY cache_key", &st, d))
        return -1;
    int rc = SQLITE_DONE;
    while (st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow((void **)&o->t, o->n, &cap, sizeof *o->t)) { rc = SQLITE_NOMEM; break; }
        ds_hist_total *t = &o->t[o->n];
        if (!(t->key = col_str(st, 0))) { rc = SQLITE_NOMEM; break; }
        o->n++;
        t->attempts = sqlite3_column_int64(st, 1);
        t->failures = sqlite3_column_int64(st, 2);
    }
    if (rc == SQLITE_DONE && st) {
        sqlite3_finalize(st);
        if (prep(h, path, "SELECT started_at, finished_at, (SELECT count(*) FROM dashspec_runs) "
                          "FROM dashspec_runs ORDER BY id DESC LIMIT 1", &st, d))
            return -1;
        if (st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            o->last_run_started = col_time(st, 0);
            o->last_run_finished = col_time(st, 1);
            o->runs = sqlite3_column_int64(st, 2);
            rc = SQLITE_DONE;
        }
    }
    int bad = rc != SQLITE_DONE;
    if (bad) ds_fail(d, DS_DBERROR, "cannot read database '%s': %s", path,
                     rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(h));
    sqlite3_finalize(st);
    return bad ? -1 : 0;
}

int ds_sqlite_history_totals(ds_db *db, ds_hist_totals *out, ds_diag *d)
{
    sqlite3 *h = ds_sqlite_handle(db);
    int own = sqlite3_get_autocommit(h);
    if (own) sqlite3_exec(h, "BEGIN", NULL, NULL, NULL);
    int rc = load_totals(h, ds_sqlite_target(db), out, d);
    if (own) sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
    return rc;
}

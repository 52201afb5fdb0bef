/*
 * sqlite_read.c — what get, status, clear and explain read from a SQLite
 * database (engine/engine.h: snapshot_begin/end, cache_get, cache_scan,
 * cache_clear, explain, errmsg). runtime/ds_read.c builds the reports.
 *
 * `get` is the hot path a dashboard may call per widget: one prepared
 * SELECT by primary key, nothing else.
 */
#include <stdlib.h>
#include <string.h>
#include "sqlite_int.h"

/* Copies column i as text (NULL stays NULL); sets *oom on allocation failure. */
static char *col_text(sqlite3_stmt *st, int i, int *oom)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL) return NULL;
    const char *t = (const char *)sqlite3_column_text(st, i);
    if (!t) { *oom = 1; return NULL; }
    char *s = ds_strndup(t, (size_t)sqlite3_column_bytes(st, i));
    if (!s) *oom = 1;
    return s;
}

/* A prepare error that only means "this table is not there yet". */
static int no_such_table(sqlite3 *h)
{
    return (sqlite3_errcode(h) & 0xff) == SQLITE_ERROR && strncmp(sqlite3_errmsg(h), "no such table", 13) == 0;
}

const char *ds_sqlite_errmsg(ds_db *db)
{
    return sqlite3_errmsg(ds_sqlite_handle(db));
}

int ds_sqlite_snapshot_begin(ds_db *db, ds_diag *d)
{
    sqlite3 *h = ds_sqlite_handle(db);
    if (sqlite3_exec(h, "BEGIN", NULL, NULL, NULL) == SQLITE_OK) return 0;
    return ds_fail(d, DS_DBERROR, "cannot read database '%s': %s", ds_db_path(db), sqlite3_errmsg(h));
}

void ds_sqlite_snapshot_end(ds_db *db)
{
    sqlite3_exec(ds_sqlite_handle(db), "COMMIT", NULL, NULL, NULL);
}

int ds_sqlite_cache_get(ds_db *db, const char *key, int64_t now, ds_value *out, ds_diag *d)
{
    sqlite3 *h = ds_sqlite_handle(db);
    sqlite3_stmt *st = NULL;
    int r = -1;
    /* The freshness test is `expires_at > datetime('now')` (docs/architecture.md),
     * so get agrees with any SQL a dashboard already runs on the table. */
    enum { G_VALUE, G_EXPIRES, G_FRESH };
    int rc = sqlite3_prepare_v2(h, "SELECT cache_value, expires_at, expires_at > ?2 "
                                   "FROM dashboard_cache WHERE cache_key = ?1", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        if (no_such_table(h)) return 0;
        return ds_fail(d, DS_DBERROR, "cannot read dashboard_cache in '%s': %s", ds_db_path(db), sqlite3_errmsg(h));
    }
    char nowtxt[20];
    ds_time_format(now, nowtxt);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, nowtxt, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) { r = 0; goto out; }
    if (rc != SQLITE_ROW) {
        ds_fail(d, DS_DBERROR, "cannot read dashboard_cache in '%s': %s", ds_db_path(db), sqlite3_errmsg(h));
        goto out;
    }
    int oom = 0;
    out->found = 1;
    out->fresh = sqlite3_column_int(st, G_FRESH) == 1;
    /* An existing dashboard_cache may allow a NULL value (docs/architecture.md):
     * that is JSON null, not nothing. */
    int null = sqlite3_column_type(st, G_VALUE) == SQLITE_NULL;
    const char *v = null ? "null" : (const char *)sqlite3_column_text(st, G_VALUE);
    out->len = null ? 4 : (size_t)sqlite3_column_bytes(st, G_VALUE);
    out->json = ds_strndup(v ? v : "", out->len);
    out->expires_at = col_text(st, G_EXPIRES, &oom);
    if (!out->json || oom) {
        ds_fail(d, DS_DBERROR, "out of memory");
        goto out;
    }
    r = 1;
out:
    sqlite3_finalize(st);
    return r;
}

int ds_sqlite_cache_scan(ds_db *db, int64_t now, ds_cache_row_fn fn, void *ctx, ds_diag *d)
{
    sqlite3 *h = ds_sqlite_handle(db);
    sqlite3_stmt *st = NULL;
    char nowtxt[20];
    ds_time_format(now, nowtxt);
    enum { S_KEY, S_CREATED, S_EXPIRES, S_FRESH };
    if (sqlite3_prepare_v2(h, "SELECT cache_key, created_at, expires_at, expires_at > ?1 "
                              "FROM dashboard_cache ORDER BY cache_key", -1, &st, NULL) != SQLITE_OK) {
        if (no_such_table(h)) return 0;
        return ds_fail(d, DS_DBERROR, "cannot read dashboard_cache in '%s': %s", ds_db_path(db), sqlite3_errmsg(h));
    }
    sqlite3_bind_text(st, 1, nowtxt, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, S_KEY);
        if (!k) continue;
        if (fn(ctx, k, (const char *)sqlite3_column_text(st, S_CREATED),
               (const char *)sqlite3_column_text(st, S_EXPIRES), sqlite3_column_int(st, S_FRESH) == 1)) {
            sqlite3_finalize(st);
            return -1;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return ds_fail(d, DS_DBERROR, "cannot read dashboard_cache in '%s': %s", ds_db_path(db), sqlite3_errmsg(h));
    return 0;
}

/* ---------------------------------------------------------------- clear */

/* Keys of the cache rows matching any pattern, collected before deleting so
 * no cursor walks a table that changes under it. */
static int matching_keys(sqlite3 *h, const char *const *pats, size_t npats,
                         char ***keys, size_t *nkeys, ds_diag *d, const char *path)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc = sqlite3_prepare_v2(h, "SELECT cache_key FROM dashboard_cache", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        ds_fail(d, DS_DBERROR, "cannot read dashboard_cache in '%s': %s", path, sqlite3_errmsg(h));
        return -1;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        if (!k) continue;   /* a NULL key only goes when everything does */
        size_t i;
        for (i = 0; i < npats; i++)
            if (ds_glob_match(pats[i], k)) break;
        if (i == npats) continue;
        if (*nkeys == cap) {
            cap = cap ? cap * 2 : 16;
            char **v = realloc(*keys, cap * sizeof *v);
            if (!v) { rc = SQLITE_NOMEM; break; }
            *keys = v;
        }
        if (!((*keys)[*nkeys] = ds_strdup(k))) { rc = SQLITE_NOMEM; break; }
        (*nkeys)++;
    }
    if (rc != SQLITE_DONE) {
        ds_fail(d, DS_DBERROR, "cannot read dashboard_cache in '%s': %s", path,
                rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(h));
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

int ds_sqlite_cache_clear(ds_db *db, const char *const *pats, size_t npats, int64_t *cleared, ds_diag *d)
{
    sqlite3 *h = ds_sqlite_handle(db);
    const char *db_path = ds_db_path(db);
    sqlite3_stmt *del = NULL;
    char **keys = NULL;
    size_t nkeys = 0;
    int began = 0, rs = -1;
    *cleared = 0;
    if (sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        ds_fail(d, DS_DBERROR, "cannot write database '%s': %s", db_path, sqlite3_errmsg(h));
        goto out;
    }
    began = 1;
    if (npats == 0) {
        if (sqlite3_exec(h, "DELETE FROM dashboard_cache", NULL, NULL, NULL) != SQLITE_OK) goto werr;
        *cleared = sqlite3_changes(h);
    } else {
        if (matching_keys(h, pats, npats, &keys, &nkeys, d, db_path)) goto out;
        if (sqlite3_prepare_v2(h, "DELETE FROM dashboard_cache WHERE cache_key = ?1", -1, &del, NULL) != SQLITE_OK)
            goto werr;
        for (size_t i = 0; i < nkeys; i++) {
            sqlite3_bind_text(del, 1, keys[i], -1, SQLITE_STATIC);
            if (sqlite3_step(del) != SQLITE_DONE) goto werr;
            *cleared += sqlite3_changes(h);
            sqlite3_reset(del);
        }
    }
    if (sqlite3_exec(h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) goto werr;
    began = 0;
    rs = 0;
    goto out;
werr:
    ds_fail(d, DS_DBERROR, "cannot write database '%s': %s", db_path, sqlite3_errmsg(h));
out:
    sqlite3_finalize(del);
    if (began) sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
    if (rs) *cleared = 0;
    for (size_t i = 0; i < nkeys; i++) free(keys[i]);
    free(keys);
    return rs;
}

/* ---------------------------------------------------------------- explain */

/* EXPLAIN QUERY PLAN of the item's statement into e->qp; a statement that no
 * longer prepares leaves its error in e->qp_error. -1 only on OOM. */
static int query_plan(sqlite3 *h, ds_explain *e)
{
    sqlite3_stmt *st = NULL;
    ds_sqlite_auth auth = {{0}};
    char *berr = NULL;
    size_t cap = 0;
    int rc = -1;
    char *sql = ds_asprintf("EXPLAIN QUERY PLAN %s", e->item.query);
    if (!sql) return -1;
    /* The compiler's authorizer: what may not run may not be explained either. */
    sqlite3_set_authorizer(h, ds_sqlite_authorizer, &auth);
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK) {
        e->qp_error = ds_strdup(auth.why[0] ? auth.why : sqlite3_errmsg(h));
        rc = e->qp_error ? 0 : -1;
        goto out;
    }
    if (ds_sqlite_bind(st, &e->item, e->now, &berr)) {
        e->qp_error = berr;
        rc = berr ? 0 : -1;
        goto out;
    }
    enum { QP_ID, QP_PARENT, QP_NOTUSED, QP_DETAIL };
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (e->nqp == cap) {
            cap = cap ? cap * 2 : 8;
            ds_qp_row *v = realloc(e->qp, cap * sizeof *v);
            if (!v) goto out;
            e->qp = v;
        }
        ds_qp_row *r = &e->qp[e->nqp];
        r->id = sqlite3_column_int(st, QP_ID);
        r->parent = sqlite3_column_int(st, QP_PARENT);
        const char *det = (const char *)sqlite3_column_text(st, QP_DETAIL);
        if (!(r->detail = ds_strdup(det ? det : ""))) goto out;
        e->nqp++;
    }
    if (s != SQLITE_DONE) {
        e->qp_error = ds_strdup(sqlite3_errmsg(h));
        if (!e->qp_error) goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    sqlite3_set_authorizer(h, NULL, NULL);
    free(sql);
    return rc;
}

int ds_sqlite_explain(ds_db *db, ds_explain *e, ds_diag *d)
{
    sqlite3 *h = ds_sqlite_handle(db);
    sqlite3_stmt *st = NULL;
    int rc = -1;
    /* Not part of ds_item: which SQLite compiled the plan, and when. */
    if (sqlite3_prepare_v2(h, "SELECT sqlite_version, compiled_at FROM dashspec_plan WHERE key = ?1",
                           -1, &st, NULL) == SQLITE_OK) {
        int oom = 0;
        sqlite3_bind_text(st, 1, e->item.key, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            e->engine_version = col_text(st, 0, &oom);
            e->compiled_at = col_text(st, 1, &oom);
        }
        if (oom) { ds_fail(d, DS_DBERROR, "out of memory"); goto out; }
    }
    if (query_plan(h, e)) { ds_fail(d, DS_DBERROR, "out of memory"); goto out; }
    rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

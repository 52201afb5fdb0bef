/*
 * sqlite_state.c — the SQLite engine's state_load (engine/engine.h): the one
 * query pair that reads dashboard_cache and dashspec_state back for every
 * plan item, as run and status need them.
 */
#include <stdlib.h>
#include <string.h>
#include "sqlite_int.h"

/* Bounds for numbers read back from dashspec_state: a year of milliseconds,
 * and a failure count whose backoff is long capped at refresh. */
#define DS_MAX_DURATION_MS ((int64_t)366 * 86400 * 1000)
#define DS_MAX_FAILURES ((int64_t)1 << 30)

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* A stored time (ds_time_parse_stored); one we cannot read counts as long ago. */
static int64_t col_time(sqlite3_stmt *q, int col)
{
    int64_t t;
    const char *s = (const char *)sqlite3_column_text(q, col);
    return ds_time_parse_stored(s, s ? (size_t)sqlite3_column_bytes(q, col) : 0, &t) ? 0 : t;
}

static int cmp_key(const void *a, const void *b)
{
    const ds_item *x = *(const ds_item *const *)a, *y = *(const ds_item *const *)b;
    return strcmp(x->key, y->key);
}

/* Index range [*lo, *hi) of items whose key is k, in the sorted index. */
static int find_key(const ds_item *const *ix, size_t n, const char *k, size_t *lo, size_t *hi)
{
    size_t a = 0, b = n;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (strcmp(ix[m]->key, k) < 0) a = m + 1; else b = m;
    }
    size_t e = a;
    while (e < n && strcmp(ix[e]->key, k) == 0) e++;
    *lo = a;
    *hi = e;
    return e > a;
}

/* Prepares sql; a missing table (a database never migrated) yields *st = NULL
 * and 0. Other errors: -1, reported. */
static int prep_read(sqlite3 *h, ds_db *db, const char *sql, sqlite3_stmt **st, ds_diag *d)
{
    *st = NULL;
    if (sqlite3_prepare_v2(h, sql, -1, st, NULL) == SQLITE_OK) return 0;
    const char *m = sqlite3_errmsg(h);
    if ((sqlite3_errcode(h) & 0xff) == SQLITE_ERROR && strncmp(m, "no such table", 13) == 0) return 0;
    return ds_fail(d, DS_DBERROR, "cannot read database '%s': %s", ds_db_path(db), m);
}

/* The cached values of incremental items (runtime/ds_incr.c merges into
 * them). 0, or -1 with the error in d. */
static int load_values(sqlite3 *h, ds_db *db, const ds_plan *p, ds_item_state *st, ds_diag *d)
{
    sqlite3_stmt *q = NULL;
    int rc = 0;
    for (size_t i = 0; i < p->n && !rc; i++) {
        if (!p->items[i].inc_window || !st[i].has_value) continue;
        if (!q && (rc = prep_read(h, db, "SELECT cache_value FROM dashboard_cache WHERE cache_key = ?1", &q, d)))
            break;
        if (!q) break;
        sqlite3_reset(q);
        sqlite3_bind_text(q, 1, p->items[i].key, -1, SQLITE_STATIC);
        int s = sqlite3_step(q);
        if (s == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
            st[i].value_len = (size_t)sqlite3_column_bytes(q, 0);
            if (!(st[i].value_json = ds_strndup((const char *)sqlite3_column_text(q, 0), st[i].value_len)))
                rc = ds_fail(d, DS_DBERROR, "out of memory");
        } else if (s != SQLITE_ROW && s != SQLITE_DONE) {
            rc = ds_fail(d, DS_DBERROR, "cannot read database '%s': %s", ds_db_path(db), sqlite3_errmsg(h));
        }
    }
    sqlite3_finalize(q);
    return rc;
}

int ds_sqlite_state_load(ds_db *db, const ds_plan *p, ds_item_state *st, ds_diag *d)
{
    sqlite3 *h = ds_sqlite_handle(db);
    sqlite3_stmt *q = NULL;
    int rc = 0, src = SQLITE_DONE;
    const ds_item **ix = NULL;
    for (size_t i = 0; i < p->n; i++) memset(&st[i], 0, sizeof st[i]);
    if (p->n == 0) return 0;
    if (!(ix = malloc(p->n * sizeof *ix))) return ds_fail(d, DS_DBERROR, "out of memory");
    int sorted = 1;
    for (size_t i = 0; i < p->n; i++) {
        ix[i] = &p->items[i];
        if (i && sorted && strcmp(ix[i - 1]->key, ix[i]->key) > 0) sorted = 0;
    }
    if (!sorted) qsort(ix, p->n, sizeof *ix, cmp_key);   /* a loaded plan is already by key */

    /* One query per table, not one per key: a no-op run reads two result sets. */
    enum { C_KEY, C_CREATED, C_EXPIRES };
    if ((rc = prep_read(h, db, "SELECT cache_key, created_at, expires_at FROM dashboard_cache", &q, d)))
        goto out;
    while (q && (src = sqlite3_step(q)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(q, C_KEY);
        size_t lo, hi;
        if (!k || !find_key(ix, p->n, k, &lo, &hi)) continue;
        /* A time we cannot read counts as long ago: the value is recomputed. */
        int64_t c = col_time(q, C_CREATED), e = col_time(q, C_EXPIRES);
        for (size_t j = lo; j < hi; j++) {
            ds_item_state *s = &st[ix[j] - p->items];
            s->has_value = 1;
            s->created_at = c;
            s->expires_at = e;
        }
    }
    if (q && src != SQLITE_DONE) {
        rc = ds_fail(d, DS_DBERROR, "cannot read database '%s': %s", ds_db_path(db), sqlite3_errmsg(h));
        goto out;
    }
    sqlite3_finalize(q);
    q = NULL;

    enum { S_KEY, S_ATTEMPT, S_SUCCESS, S_DURATION, S_ENTRIES, S_ERROR, S_FAILURES, S_HASH, S_KEYV, S_CONF, S_FULL };
    /* Migration 003 adds the refresh_key columns; a database a dry run
     * reads may not have them yet (they read as NULL). */
    int fresh = ds_sqlite_column_exists(db, "dashspec_state", "refresh_key_value") == 1;
    if ((rc = prep_read(h, db, fresh
                        ? "SELECT cache_key, last_attempt, last_success, last_duration_ms, entries, "
                          "last_error, failures, spec_hash, refresh_key_value, confirmed_at, last_full FROM dashspec_state"
                        : "SELECT cache_key, last_attempt, last_success, last_duration_ms, entries, "
                          "last_error, failures, spec_hash, NULL, NULL, NULL FROM dashspec_state", &q, d)))
        goto out;
    while (q && (src = sqlite3_step(q)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(q, S_KEY);
        size_t lo, hi;
        if (!k || !find_key(ix, p->n, k, &lo, &hi)) continue;
        for (size_t j = lo; j < hi; j++) {
            ds_item_state *s = &st[ix[j] - p->items];
            s->has_state = 1;
            s->last_attempt = col_time(q, S_ATTEMPT);
            s->last_success = col_time(q, S_SUCCESS);
            /* The row may have been edited by hand: numbers are kept in a
             * range the scheduler's arithmetic cannot overflow. */
            s->last_duration_ms = sqlite3_column_type(q, S_DURATION) == SQLITE_NULL
                ? -1 : clamp(sqlite3_column_int64(q, S_DURATION), -1, DS_MAX_DURATION_MS);
            s->entries = sqlite3_column_type(q, S_ENTRIES) == SQLITE_NULL ? -1 : sqlite3_column_int64(q, S_ENTRIES);
            free(s->last_error);
            s->last_error = NULL;
            if (sqlite3_column_type(q, S_ERROR) != SQLITE_NULL) {
                s->last_error = ds_strndup((const char *)sqlite3_column_text(q, S_ERROR),
                                           (size_t)sqlite3_column_bytes(q, S_ERROR));
                if (!s->last_error) { rc = ds_fail(d, DS_DBERROR, "out of memory"); goto out; }
            }
            s->failures = clamp(sqlite3_column_int64(q, S_FAILURES), 0, DS_MAX_FAILURES);
            free(s->key_value);
            s->key_value = NULL;
            if (sqlite3_column_type(q, S_KEYV) != SQLITE_NULL &&
                !(s->key_value = ds_strndup((const char *)sqlite3_column_text(q, S_KEYV),
                                            (size_t)sqlite3_column_bytes(q, S_KEYV)))) {
                rc = ds_fail(d, DS_DBERROR, "out of memory");
                goto out;
            }
            s->confirmed_at = col_time(q, S_CONF);
            s->last_full = col_time(q, S_FULL);
            const unsigned char *hs = sqlite3_column_text(q, S_HASH);
            s->value_hash[0] = '\0';
            if (hs && sqlite3_column_bytes(q, S_HASH) < (int)sizeof s->value_hash)
                memcpy(s->value_hash, hs, (size_t)sqlite3_column_bytes(q, S_HASH) + 1);
        }
    }
    if (q && src != SQLITE_DONE)
        rc = ds_fail(d, DS_DBERROR, "cannot read database '%s': %s", ds_db_path(db), sqlite3_errmsg(h));
    if (!rc) rc = load_values(h, db, p, st, d);
out:
    sqlite3_finalize(q);
    free(ix);
    if (rc) for (size_t i = 0; i < p->n; i++) ds_item_state_clear(&st[i]);
    return rc;
}

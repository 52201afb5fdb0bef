/*
 * sqlite_plan.c — the SQLite engine's plan_store and plan_load
 * (engine/engine.h): the dashspec_plan table, stored by `compile` (and
 * `run --specs`) and read back by the runtime. The text columns hold
 * compiler/ds_plan.c's codec.
 *
 * Storing replaces the whole table in one IMMEDIATE transaction: rows of keys
 * no longer in the specs are deleted, rows that differ are upserted, rows that
 * are identical are left alone (their compiled_at too), so an unchanged plan
 * writes nothing and reports *changed = 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ds_compiler.h"
#include "ds_vec.h"
#include "sqlite_int.h"

/* ---------------------------------------------------------------- store */

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s) sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, i);
}

/* Binds ?1..?17 of the compare and upsert statements. */
static void bind_row(sqlite3_stmt *st, const ds_item *it, const ds_plan_row *r)
{
    bind_text(st, 1, it->key);
    bind_text(st, 2, ds_kind_name(it->kind));
    bind_text(st, 3, ds_shape_name(it->shape));
    bind_text(st, 4, it->query);
    bind_text(st, 5, r->params);
    sqlite3_bind_int64(st, 6, it->ttl);
    sqlite3_bind_int64(st, 7, it->refresh);
    sqlite3_bind_int64(st, 8, it->timeout);
    sqlite3_bind_int64(st, 9, it->max_rows);
    sqlite3_bind_int64(st, 10, it->max_bytes);
    bind_text(st, 11, it->group);
    bind_text(st, 12, r->tags);
    bind_text(st, 13, r->options);
    bind_text(st, 14, it->description);
    bind_text(st, 15, r->source);
    bind_text(st, 16, it->hash);
    bind_text(st, 17, sqlite3_libversion());
}

static const char sql_same[] =
    "SELECT 1 FROM dashspec_plan WHERE key = ?1 AND kind IS ?2 AND shape IS ?3 AND sql IS ?4"
    " AND params IS ?5 AND ttl IS ?6 AND refresh IS ?7 AND timeout IS ?8 AND max_rows IS ?9"
    " AND max_bytes IS ?10 AND group_name IS ?11 AND tags IS ?12 AND options IS ?13"
    " AND description IS ?14 AND source IS ?15 AND spec_hash IS ?16 AND sqlite_version IS ?17";

static const char sql_upsert[] =
    "INSERT INTO dashspec_plan (key, kind, shape, sql, params, ttl, refresh, timeout, max_rows,"
    " max_bytes, group_name, tags, options, description, source, spec_hash, sqlite_version, compiled_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"
    " ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, shape = excluded.shape, sql = excluded.sql,"
    " params = excluded.params, ttl = excluded.ttl, refresh = excluded.refresh, timeout = excluded.timeout,"
    " max_rows = excluded.max_rows, max_bytes = excluded.max_bytes, group_name = excluded.group_name,"
    " tags = excluded.tags, options = excluded.options, description = excluded.description,"
    " source = excluded.source, spec_hash = excluded.spec_hash, sqlite_version = excluded.sqlite_version,"
    " compiled_at = excluded.compiled_at";

static int has_key(const ds_plan *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->items[i].key && strcmp(p->items[i].key, key) == 0) return 1;
    return 0;
}

int ds_sqlite_plan_store(ds_db *db, const ds_plan *p, int *changed, ds_diag *d)
{
    sqlite3 *h = ds_sqlite_handle(db);
    sqlite3_stmt *same = NULL, *up = NULL, *keys = NULL, *del = NULL;
    char **gone = NULL;
    size_t ngone = 0, gone_cap = 0;
    int rc = -1, any = 0, began = 0;
    char now[20];
    char *err = NULL;
    ds_time_format(ds_time_now(), now);
    if (changed) *changed = 0;
    for (size_t i = 0; i < p->n; i++)
        if (p->items[i].bad || !p->items[i].key)
            return ds_fail(d, DS_FAILED, "the plan has items with errors; nothing was stored");
    if (sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) goto dberr;
    began = 1;
    if (sqlite3_prepare_v2(h, sql_same, -1, &same, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h, sql_upsert, -1, &up, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h, "SELECT key FROM dashspec_plan", -1, &keys, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h, "DELETE FROM dashspec_plan WHERE key = ?1", -1, &del, NULL) != SQLITE_OK)
        goto dberr;
    /* Keys that left the specs lose their row (their cache rows stay). */
    int s;
    while ((s = sqlite3_step(keys)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(keys, 0);
        if (!k || has_key(p, k)) continue;
        char **v = ds_vec_grow(gone, &gone_cap, ngone, sizeof *v);
        if (!v || !(v[ngone] = ds_strdup(k))) { if (v) gone = v; err = ds_strdup("out of memory"); goto fail; }
        gone = v;
        ngone++;
    }
    if (s != SQLITE_DONE) goto dberr;
    for (size_t i = 0; i < ngone; i++) {
        sqlite3_bind_text(del, 1, gone[i], -1, SQLITE_STATIC);
        if (sqlite3_step(del) != SQLITE_DONE) goto dberr;
        sqlite3_reset(del);
        any = 1;
    }
    for (size_t i = 0; i < p->n; i++) {
        const ds_item *it = &p->items[i];
        ds_plan_row r = {0};
        if (ds_plan_row_make(it, &r)) { ds_plan_row_free(&r); err = ds_strdup("out of memory"); goto fail; }
        bind_row(same, it, &r);
        s = sqlite3_step(same);
        sqlite3_reset(same);
        if (s == SQLITE_DONE) {
            bind_row(up, it, &r);
            sqlite3_bind_text(up, 18, now, -1, SQLITE_STATIC);
            s = sqlite3_step(up);
            sqlite3_reset(up);
            any = 1;
        }
        ds_plan_row_free(&r);
        sqlite3_clear_bindings(same);
        sqlite3_clear_bindings(up);
        if (s != SQLITE_DONE && s != SQLITE_ROW) goto dberr;
    }
    if (sqlite3_exec(h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) goto dberr;
    began = 0;
    if (changed) *changed = any;
    rc = 0;
    goto out;
dberr:
    err = ds_strdup(sqlite3_errmsg(h));
fail:
    ds_fail(d, DS_DBERROR, "cannot write the plan into '%s': %s", ds_db_path(db), err ? err : "out of memory");
out:
    sqlite3_finalize(same);
    sqlite3_finalize(up);
    sqlite3_finalize(keys);
    sqlite3_finalize(del);
    if (began) sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
    for (size_t i = 0; i < ngone; i++) free(gone[i]);
    free(gone);
    free(err);
    return rc;
}

/* ---------------------------------------------------------------- load */

static char *col_text(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL) return NULL;
    const char *t = (const char *)sqlite3_column_text(st, i);
    return ds_strdup(t ? t : "");
}

/* The columns of the load query, in order. */
enum {
    P_KEY, P_KIND, P_SHAPE, P_SQL, P_PARAMS, P_TTL, P_REFRESH, P_TIMEOUT, P_MAX_ROWS, P_MAX_BYTES,
    P_GROUP, P_TAGS, P_OPTIONS, P_DESCRIPTION, P_SOURCE, P_HASH
};

static const char *col(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* Fills it from one plan row; a short message in *why when the row is damaged. */
static int load_row(sqlite3_stmt *st, ds_item *it, const char **why)
{
    *why = "out of memory";
    if (!(it->key = col_text(st, P_KEY))) { *why = "a row without key"; return -1; }
    if (ds_plan_decode_head(it, col(st, P_KIND), col(st, P_SHAPE), why)) return -1;
    if (!(it->query = col_text(st, P_SQL))) { *why = "no sql"; return -1; }
    if (ds_plan_decode_params(it, col(st, P_PARAMS), why)) return -1;
    it->ttl = sqlite3_column_int64(st, P_TTL);
    it->refresh = sqlite3_column_int64(st, P_REFRESH);
    it->timeout = sqlite3_column_int64(st, P_TIMEOUT);
    it->max_rows = sqlite3_column_int64(st, P_MAX_ROWS);
    it->max_bytes = sqlite3_column_int64(st, P_MAX_BYTES);
    it->group = col_text(st, P_GROUP);
    if (ds_plan_decode_lists(it, col(st, P_TAGS), col(st, P_OPTIONS), why)) return -1;
    it->description = col_text(st, P_DESCRIPTION);
    if (ds_plan_decode_source(it, col(st, P_SOURCE), why)) return -1;
    const char *hash = col(st, P_HASH);
    snprintf(it->hash, sizeof it->hash, "%s", hash ? hash : "");
    return 0;
}

int ds_sqlite_plan_load(ds_db *db, ds_plan *out, ds_diag *d)
{
    sqlite3 *h = ds_sqlite_handle(db);
    sqlite3_stmt *st = NULL;
    int rc = -1, s;
    ds_plan_init(out);
    if (sqlite3_prepare_v2(h, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'dashspec_plan'",
                           -1, &st, NULL) != SQLITE_OK)
        goto dberr;
    s = sqlite3_step(st);
    sqlite3_finalize(st);
    st = NULL;
    if (s == SQLITE_DONE) return 0;        /* never compiled: an empty plan */
    if (s != SQLITE_ROW) goto dberr;
    if (sqlite3_prepare_v2(h,
            "SELECT key, kind, shape, sql, params, ttl, refresh, timeout, max_rows, max_bytes,"
            " group_name, tags, options, description, source, spec_hash"
            " FROM dashspec_plan ORDER BY key", -1, &st, NULL) != SQLITE_OK)
        goto dberr;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->n == out->cap) {
            size_t cap = out->cap ? out->cap * 2 : 16;
            ds_item *v = realloc(out->items, cap * sizeof *v);
            if (!v) { ds_fail(d, DS_DBERROR, "out of memory"); goto out; }
            out->items = v;
            out->cap = cap;
        }
        ds_item *it = &out->items[out->n++];
        memset(it, 0, sizeof *it);
        const char *why;
        if (load_row(st, it, &why)) {
            ds_fail(d, DS_DBERROR, "the plan in '%s' is damaged: %s%s%s; run dashspec compile",
                    ds_db_path(db), it->key ? it->key : "", it->key ? ": " : "", why);
            goto out;
        }
    }
    if (s != SQLITE_DONE) goto dberr;
    rc = 0;
    goto out;
dberr:
    ds_fail(d, DS_DBERROR, "cannot read the plan from '%s': %s", ds_db_path(db), sqlite3_errmsg(h));
out:
    sqlite3_finalize(st);
    if (rc) ds_plan_free(out);
    return rc;
}

/*
 * pg_store.c — the PostgreSQL engine's stored plan and reads: plan_store
 * (one transaction under the advisory lock compile and migrate share),
 * plan_load, state_load (one query per table; the refresh_key and
 * incremental columns of migration 003 too), and what get, status, clear
 * and explain read. Times are timestamptz in the tables and cross the
 * interface as int64 seconds (extract(epoch ...)); the text forms status and
 * get show are "YYYY-MM-DD HH:MM:SS" in UTC, as SQLite stores them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ds_compiler.h"
#include "pg_int.h"

#define TS_TEXT(c) "to_char(" c " AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"

/* ---------------------------------------------------------------- plan */

static const char sql_upsert[] =
    "INSERT INTO dashspec_plan (key, kind, shape, sql, params, ttl, refresh, timeout, max_rows,"
    " max_bytes, group_name, tags, options, description, source, spec_hash, engine_version, compiled_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,"
    " current_setting('server_version'), now())"
    " ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, shape = excluded.shape, sql = excluded.sql,"
    " params = excluded.params, ttl = excluded.ttl, refresh = excluded.refresh, timeout = excluded.timeout,"
    " max_rows = excluded.max_rows, max_bytes = excluded.max_bytes, group_name = excluded.group_name,"
    " tags = excluded.tags, options = excluded.options, description = excluded.description,"
    " source = excluded.source, spec_hash = excluded.spec_hash, engine_version = excluded.engine_version,"
    " compiled_at = excluded.compiled_at"
    " WHERE (dashspec_plan.kind, dashspec_plan.shape, dashspec_plan.sql, dashspec_plan.params,"
    " dashspec_plan.ttl, dashspec_plan.refresh, dashspec_plan.timeout, dashspec_plan.max_rows,"
    " dashspec_plan.max_bytes, dashspec_plan.group_name, dashspec_plan.tags, dashspec_plan.options,"
    " dashspec_plan.description, dashspec_plan.source, dashspec_plan.spec_hash,"
    " dashspec_plan.engine_version) IS DISTINCT FROM (excluded.kind, excluded.shape, excluded.sql,"
    " excluded.params, excluded.ttl, excluded.refresh, excluded.timeout, excluded.max_rows,"
    " excluded.max_bytes, excluded.group_name, excluded.tags, excluded.options, excluded.description,"
    " excluded.source, excluded.spec_hash, excluded.engine_version)";

static int has_key(const ds_plan *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->items[i].key && strcmp(p->items[i].key, key) == 0) return 1;
    return 0;
}

/* Upserts one item; 1 changed, 0 same, -1 error (r kept in *fail). */
static int store_item(PGconn *c, const ds_item *it, PGresult **fail)
{
    ds_plan_row row = {0};
    if (ds_plan_row_make(it, &row)) { ds_plan_row_free(&row); return -2; }
    char n[5][24];
    snprintf(n[0], 24, "%lld", (long long)it->ttl);
    snprintf(n[1], 24, "%lld", (long long)it->refresh);
    snprintf(n[2], 24, "%lld", (long long)it->timeout);
    snprintf(n[3], 24, "%lld", (long long)it->max_rows);
    snprintf(n[4], 24, "%lld", (long long)it->max_bytes);
    const char *v[16] = {it->key, ds_kind_name(it->kind), ds_shape_name(it->shape), it->query,
                         row.params, n[0], n[1], n[2], n[3], n[4], it->group, row.tags, row.options,
                         it->description, row.source, it->hash};
    PGresult *r = ds_pgq(c, sql_upsert, 16, v);
    ds_plan_row_free(&row);
    if (!ds_pgq_ok(r)) { *fail = r; return -1; }
    int changed = atoi(PQcmdTuples(r)) > 0;
    PQclear(r);
    return changed;
}

int ds_pg_plan_store(ds_db *b, const ds_plan *p, int *changed, ds_diag *d)
{
    pg_db *db = (pg_db *)b;
    PGresult *r = NULL;
    int any = 0;
    if (changed) *changed = 0;
    for (size_t i = 0; i < p->n; i++)
        if (p->items[i].bad || !p->items[i].key)
            return ds_fail(d, DS_FAILED, "the plan has items with errors; nothing was stored");
    char lock[64];
    snprintf(lock, sizeof lock, "SELECT pg_advisory_xact_lock(%lld)", (long long)DS_PG_LOCK_KEY);
    r = PQexec(db->c, "BEGIN");
    if (!ds_pgq_ok(r)) goto dberr;
    PQclear(r);
    r = PQexec(db->c, lock);
    if (!ds_pgq_ok(r)) goto dberr;
    PQclear(r);
    r = PQexec(db->c, "SELECT key FROM dashspec_plan");
    if (!ds_pgq_ok(r)) goto dberr;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *k = PQgetvalue(r, i, 0);
        if (has_key(p, k)) continue;
        PGresult *del = ds_pgq(db->c, "DELETE FROM dashspec_plan WHERE key = $1", 1, &k);
        int ok = ds_pgq_ok(del);
        if (!ok) { PQclear(r); r = del; goto dberr; }
        PQclear(del);
        any = 1;
    }
    PQclear(r);
    r = NULL;
    for (size_t i = 0; i < p->n; i++) {
        int c = store_item(db->c, &p->items[i], &r);
        if (c == -2) { ds_pg_rollback(db->c); return ds_fail(d, DS_DBERROR, "out of memory"); }
        if (c < 0) goto dberr;
        any |= c;
    }
    r = PQexec(db->c, "COMMIT");
    if (!ds_pgq_ok(r)) goto dberr;
    PQclear(r);
    if (changed) *changed = any;
    return 0;
dberr:
    ds_pgq_fail(db, r, "cannot write the plan into", d);
    PQclear(r);
    ds_pg_rollback(db->c);
    return -1;
}

enum {
    P_KEY, P_KIND, P_SHAPE, P_SQL, P_PARAMS, P_TTL, P_REFRESH, P_TIMEOUT, P_MAX_ROWS, P_MAX_BYTES,
    P_GROUP, P_TAGS, P_OPTIONS, P_DESCRIPTION, P_SOURCE, P_HASH
};

static const char *val(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

static int load_row(const PGresult *r, int i, ds_item *it, const char **why)
{
    int oom = 0;
    *why = "out of memory";
    if (!(it->key = ds_pgq_text(r, i, P_KEY, &oom))) { *why = oom ? *why : "a row without key"; return -1; }
    if (ds_plan_decode_head(it, val(r, i, P_KIND), val(r, i, P_SHAPE), why)) return -1;
    if (!(it->query = ds_pgq_text(r, i, P_SQL, &oom))) { *why = oom ? *why : "no sql"; return -1; }
    if (ds_plan_decode_params(it, val(r, i, P_PARAMS), why)) return -1;
    it->ttl = ds_pgq_int(r, i, P_TTL);
    it->refresh = ds_pgq_int(r, i, P_REFRESH);
    it->timeout = ds_pgq_int(r, i, P_TIMEOUT);
    it->max_rows = ds_pgq_int(r, i, P_MAX_ROWS);
    it->max_bytes = ds_pgq_int(r, i, P_MAX_BYTES);
    it->group = ds_pgq_text(r, i, P_GROUP, &oom);
    if (ds_plan_decode_lists(it, val(r, i, P_TAGS), val(r, i, P_OPTIONS), why)) return -1;
    it->description = ds_pgq_text(r, i, P_DESCRIPTION, &oom);
    if (ds_plan_decode_source(it, val(r, i, P_SOURCE), why)) return -1;
    const char *hash = val(r, i, P_HASH);
    snprintf(it->hash, sizeof it->hash, "%s", hash ? hash : "");
    return oom ? -1 : 0;
}

int ds_pg_plan_load(ds_db *b, ds_plan *out, ds_diag *d)
{
    pg_db *db = (pg_db *)b;
    ds_plan_init(out);
    PGresult *r = PQexec(db->c, "SELECT key, kind, shape, sql, params, ttl, refresh, timeout, max_rows,"
                                " max_bytes, group_name, tags, options, description, source, spec_hash"
                                " FROM dashspec_plan ORDER BY key COLLATE \"C\"");
    if (ds_pgq_no_table(r)) { PQclear(r); return 0; }     /* never compiled: an empty plan */
    if (!ds_pgq_ok(r)) {
        ds_pgq_fail(db, r, "cannot read the plan from", d);
        PQclear(r);
        return -1;
    }
    int n = PQntuples(r);
    if (n > 0 && !(out->items = calloc((size_t)n, sizeof *out->items))) {
        PQclear(r);
        return ds_fail(d, DS_DBERROR, "out of memory");
    }
    out->cap = (size_t)n;
    for (int i = 0; i < n; i++) {
        ds_item *it = &out->items[out->n++];
        const char *why;
        if (load_row(r, i, it, &why)) {
            ds_fail(d, DS_DBERROR, "the plan in '%s' is damaged: %s%s%s; run dashspec compile",
                    db->target, it->key ? it->key : "", it->key ? ": " : "", why);
            PQclear(r);
            ds_plan_free(out);
            return -1;
        }
    }
    PQclear(r);
    return 0;
}

/* ---------------------------------------------------------------- state */

/* The index of key in p (p is by key when loaded; a linear search otherwise). */
static long find_item(const ds_plan *p, const char *key)
{
    size_t a = 0, b = p->n;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        int c = strcmp(p->items[m].key, key);
        if (c == 0) return (long)m;
        if (c < 0) a = m + 1; else b = m;
    }
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->items[i].key, key) == 0) return (long)i;
    return -1;
}

/* The keys of p's incremental items as a text[] literal ({"a","b"}), whose
 * cached values state_load reads (runtime/ds_incr.c merges into them);
 * NULL when there are none. *oom on failure. */
static char *incremental_keys(const ds_plan *p, int *oom)
{
    ds_buf b;
    ds_buf_init(&b);
    for (size_t i = 0; i < p->n; i++) {
        if (!p->items[i].inc_window) continue;
        ds_buf_addc(&b, b.len ? ',' : '{');
        ds_buf_addc(&b, '"');
        for (const char *k = p->items[i].key; *k; k++) {
            if (*k == '"' || *k == '\\') ds_buf_addc(&b, '\\');
            ds_buf_addc(&b, *k);
        }
        ds_buf_addc(&b, '"');
    }
    if (b.len == 0 || b.oom) {
        *oom = b.oom;
        ds_buf_free(&b);
        return NULL;
    }
    ds_buf_addc(&b, '}');
    if (b.oom) { *oom = 1; ds_buf_free(&b); return NULL; }
    return ds_buf_steal(&b);
}

static int load_cache(pg_db *db, const ds_plan *p, ds_item_state *st, ds_diag *d)
{
    int oom = 0;
    char *keys = incremental_keys(p, &oom);
    if (oom) return ds_fail(d, DS_DBERROR, "out of memory");
    const char *v[1] = {keys};
    PGresult *r = ds_pgq(db->c, "SELECT cache_key, extract(epoch FROM created_at)::bigint,"
                                " extract(epoch FROM expires_at)::bigint,"
                                " CASE WHEN cache_key = ANY ($1::text[]) THEN cache_value END"
                                " FROM dashboard_cache", 1, v);
    free(keys);
    if (ds_pgq_no_table(r)) { PQclear(r); return 0; }
    if (!ds_pgq_ok(r)) { ds_pgq_fail(db, r, "cannot read database", d); PQclear(r); return -1; }
    for (int i = 0; i < PQntuples(r) && !oom; i++) {
        long k = find_item(p, PQgetvalue(r, i, 0));
        if (k < 0) continue;
        for (size_t j = (size_t)k; j < p->n && strcmp(p->items[j].key, p->items[k].key) == 0; j++) {
            st[j].has_value = 1;
            st[j].created_at = ds_pgq_int(r, i, 1);
            st[j].expires_at = ds_pgq_int(r, i, 2);
            if (!p->items[j].inc_window || PQgetisnull(r, i, 3)) continue;
            free(st[j].value_json);
            st[j].value_len = (size_t)PQgetlength(r, i, 3);
            if (!(st[j].value_json = ds_strndup(PQgetvalue(r, i, 3), st[j].value_len))) oom = 1;
        }
    }
    PQclear(r);
    return oom ? ds_fail(d, DS_DBERROR, "out of memory") : 0;
}

/* 1 when dashspec_state has migration 003's columns (refresh_key_value,
 * confirmed_at, last_full): a dry run reads a database a newer dashspec
 * has not migrated yet. Remembered once seen (columns are never dropped). */
static int has_fresh_columns(pg_db *db)
{
    static const char q[] = "SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = to_regclass('dashspec_state')"
                            " AND attname = 'last_full' AND NOT attisdropped";
    if (db->fresh_cols) return 1;
    PGresult *r = PQexec(db->c, q);
    db->fresh_cols = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0;
    PQclear(r);
    return db->fresh_cols;
}

static int load_states(pg_db *db, const ds_plan *p, ds_item_state *st, ds_diag *d)
{
    PGresult *r = PQexec(db->c, has_fresh_columns(db)
        ? "SELECT cache_key, extract(epoch FROM last_attempt)::bigint,"
          " extract(epoch FROM last_success)::bigint, last_duration_ms, entries,"
          " last_error, failures, spec_hash, last_runner, runner_id,"
          " extract(epoch FROM lease_until)::bigint, refresh_key_value,"
          " extract(epoch FROM confirmed_at)::bigint, extract(epoch FROM last_full)::bigint, xmin::text FROM dashspec_state"
        : "SELECT cache_key, extract(epoch FROM last_attempt)::bigint,"
          " extract(epoch FROM last_success)::bigint, last_duration_ms, entries,"
          " last_error, failures, spec_hash, last_runner, runner_id,"
          " extract(epoch FROM lease_until)::bigint, NULL, NULL, NULL, xmin::text FROM dashspec_state");
    if (ds_pgq_no_table(r)) { PQclear(r); return 0; }
    if (!ds_pgq_ok(r)) { ds_pgq_fail(db, r, "cannot read database", d); PQclear(r); return -1; }
    int oom = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        long k = find_item(p, PQgetvalue(r, i, 0));
        if (k < 0) continue;
        ds_item_state *s = &st[k];
        s->has_state = 1;
        s->last_attempt = ds_pgq_int(r, i, 1);
        s->last_success = ds_pgq_int(r, i, 2);
        s->last_duration_ms = PQgetisnull(r, i, 3) ? -1 : ds_pgq_int(r, i, 3);
        s->entries = PQgetisnull(r, i, 4) ? -1 : ds_pgq_int(r, i, 4);
        free(s->last_error);
        s->last_error = ds_pgq_text(r, i, 5, &oom);
        s->failures = ds_pgq_int(r, i, 6);
        if (s->failures < 0) s->failures = 0;
        snprintf(s->value_hash, sizeof s->value_hash, "%s", PQgetvalue(r, i, 7));
        free(s->last_runner);
        s->last_runner = ds_pgq_text(r, i, 8, &oom);
        free(s->lease_runner);
        s->lease_runner = PQgetisnull(r, i, 10) ? NULL : ds_pgq_text(r, i, 9, &oom);
        s->lease_until = s->lease_runner ? ds_pgq_int(r, i, 10) : 0;
        free(s->key_value);
        s->key_value = ds_pgq_text(r, i, 11, &oom);
        s->confirmed_at = ds_pgq_int(r, i, 12);
        s->last_full = ds_pgq_int(r, i, 13);
        s->row_version = ds_pgq_int(r, i, 14);      /* ds_pg_claim compares it */
    }
    PQclear(r);
    return oom ? ds_fail(d, DS_DBERROR, "out of memory") : 0;
}

int ds_pg_state_load(ds_db *b, const ds_plan *p, ds_item_state *st, ds_diag *d)
{
    pg_db *db = (pg_db *)b;
    for (size_t i = 0; i < p->n; i++) memset(&st[i], 0, sizeof st[i]);
    if (p->n == 0) return 0;
    /* One snapshot for both tables: a value written by another runner
     * between the two reads would otherwise look due with its new state
     * (and be computed twice). */
    int own = PQtransactionStatus(db->c) == PQTRANS_IDLE;
    if (own) PQclear(PQexec(db->c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    int rc = load_cache(db, p, st, d) || load_states(db, p, st, d) ? -1 : 0;
    if (own) ds_pg_rollback(db->c);
    if (rc) for (size_t i = 0; i < p->n; i++) ds_item_state_clear(&st[i]);
    return rc;
}

/* ---------------------------------------------------------------- get, status, clear */

int ds_pg_snapshot_begin(ds_db *b, ds_diag *d)
{
    pg_db *db = (pg_db *)b;
    PGresult *r = PQexec(db->c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    int ok = ds_pgq_ok(r);
    if (!ok) ds_pgq_fail(db, r, "cannot read database", d);
    PQclear(r);
    return ok ? 0 : -1;
}

void ds_pg_snapshot_end(ds_db *b)
{
    ds_pg_rollback(((pg_db *)b)->c);
}

int ds_pg_cache_get(ds_db *b, const char *key, int64_t now, ds_value *out, ds_diag *d)
{
    pg_db *db = (pg_db *)b;
    char t[24];
    snprintf(t, sizeof t, "%lld", (long long)now);
    const char *v[2] = {key, t};
    memset(out, 0, sizeof *out);
    PGresult *r = ds_pgq(db->c, "SELECT cache_value, expires_at > to_timestamp($2::bigint), "
                                TS_TEXT("expires_at") " FROM dashboard_cache WHERE cache_key = $1", 2, v);
    if (ds_pgq_no_table(r)) { PQclear(r); return 0; }
    if (!ds_pgq_ok(r)) { ds_pgq_fail(db, r, "cannot read database", d); PQclear(r); return -1; }
    int rc = 0, oom = 0;
    if (PQntuples(r) > 0) {
        out->found = 1;
        out->fresh = strcmp(PQgetvalue(r, 0, 1), "t") == 0;
        out->json = ds_pgq_text(r, 0, 0, &oom);
        out->len = out->json ? strlen(out->json) : 0;
        out->expires_at = ds_pgq_text(r, 0, 2, &oom);
        rc = 1;
    }
    PQclear(r);
    if (oom) return ds_fail(d, DS_DBERROR, "out of memory");
    return rc;
}

int ds_pg_cache_scan(ds_db *b, int64_t now, ds_cache_row_fn fn, void *ctx, ds_diag *d)
{
    pg_db *db = (pg_db *)b;
    char t[24];
    snprintf(t, sizeof t, "%lld", (long long)now);
    const char *v[1] = {t};
    PGresult *r = ds_pgq(db->c, "SELECT cache_key, " TS_TEXT("created_at") ", " TS_TEXT("expires_at")
                                ", expires_at > to_timestamp($1::bigint) FROM dashboard_cache"
                                " ORDER BY cache_key COLLATE \"C\"", 1, v);
    if (ds_pgq_no_table(r)) { PQclear(r); return 0; }
    if (!ds_pgq_ok(r)) { ds_pgq_fail(db, r, "cannot read database", d); PQclear(r); return -1; }
    int rc = 0;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++)
        if (fn(ctx, PQgetvalue(r, i, 0), val(r, i, 1), val(r, i, 2), strcmp(PQgetvalue(r, i, 3), "t") == 0) < 0)
            rc = -1;
    PQclear(r);
    return rc;
}

int ds_pg_cache_clear(ds_db *b, const char *const *pats, size_t npats, int64_t *cleared, ds_diag *d)
{
    pg_db *db = (pg_db *)b;
    *cleared = 0;
    PGresult *r = PQexec(db->c, "BEGIN");
    if (!ds_pgq_ok(r)) goto err;
    PQclear(r);
    r = PQexec(db->c, "SELECT cache_key FROM dashboard_cache FOR UPDATE");
    if (!ds_pgq_ok(r)) goto err;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *k = PQgetvalue(r, i, 0);
        int match = npats == 0;
        for (size_t j = 0; j < npats && !match; j++) match = ds_glob_match(pats[j], k);
        if (!match) continue;
        PGresult *del = ds_pgq(db->c, "DELETE FROM dashboard_cache WHERE cache_key = $1", 1, &k);
        if (!ds_pgq_ok(del)) { PQclear(r); r = del; goto err; }
        *cleared += atoll(PQcmdTuples(del));
        PQclear(del);
    }
    PQclear(r);
    r = PQexec(db->c, "COMMIT");
    if (!ds_pgq_ok(r)) goto err;
    PQclear(r);
    return 0;
err:
    ds_pgq_fail(db, r, "cannot write database", d);
    PQclear(r);
    ds_pg_rollback(db->c);
    return -1;
}

/* ---------------------------------------------------------------- explain */

/* EXPLAIN of the item's query with its parameters and :now bound: one qp
 * row per line of PostgreSQL's text plan (indentation kept). */
static int query_plan(pg_db *db, ds_explain *e, int64_t now)
{
    ds_pg_sql q = {0};
    char *err = NULL;
    size_t pos;
    if (ds_pg_sql_rewrite(e->item.query, strlen(e->item.query), &q, &err, &pos)) {
        e->qp_error = err;
        return err ? 0 : -1;
    }
    ds_pg_ptype *types = calloc((size_t)q.nparams + 1, sizeof *types);
    const char **vals = calloc((size_t)q.nparams + 1, sizeof *vals);
    char (*nums)[32] = calloc((size_t)q.nparams + 1, sizeof *nums);
    char nowbuf[32];
    int rc = -1;
    if (!types || !vals || !nums || ds_pg_bind(&q, &e->item, now, nowbuf, types, vals, nums)) goto out;
    ds_buf b;
    ds_buf_init(&b);
    ds_buf_printf(&b, "EXPLAIN %s", q.text);
    Oid *oids = calloc((size_t)q.nparams + 1, sizeof *oids);
    if (b.oom || !oids) { ds_buf_free(&b); free(oids); goto out; }
    for (int i = 0; i < q.nparams; i++) oids[i] = ds_pg_ptype_oid(types[i]);
    PGresult *r = PQexecParams(db->c, b.p, q.nparams, oids, vals, NULL, NULL, 0);
    ds_buf_free(&b);
    free(oids);
    rc = 0;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        if (!(e->qp_error = ds_pg_result_error(db->c, r))) rc = -1;
    } else if ((e->qp = calloc((size_t)PQntuples(r) + 1, sizeof *e->qp))) {
        for (int i = 0; i < PQntuples(r); i++, e->nqp++) {
            e->qp[i].id = i + 1;
            e->qp[i].parent = 0;
            if (!(e->qp[i].detail = ds_strdup(PQgetvalue(r, i, 0)))) { rc = -1; break; }
        }
    } else {
        rc = -1;
    }
    PQclear(r);
    ds_pg_rollback(db->c);
out:
    free(types);
    free(vals);
    free(nums);
    ds_pg_sql_free(&q);
    return rc;
}

int ds_pg_explain(ds_db *b, ds_explain *e, ds_diag *d)
{
    pg_db *db = (pg_db *)b;
    const char *v[1] = {e->item.key};
    PGresult *r = ds_pgq(db->c, "SELECT engine_version, " TS_TEXT("compiled_at")
                                " FROM dashspec_plan WHERE key = $1", 1, v);
    int oom = 0;
    if (ds_pgq_ok(r) && PQntuples(r) > 0) {
        e->engine_version = ds_pgq_text(r, 0, 0, &oom);
        e->compiled_at = ds_pgq_text(r, 0, 1, &oom);
    }
    PQclear(r);
    int64_t now = 0;
    if (ds_time_parse_stored(e->now, strlen(e->now), &now)) now = ds_time_now();
    if (oom || query_plan(db, e, now)) return ds_fail(d, DS_DBERROR, "out of memory");
    return 0;
}

/*
 * ds_read.c — the library side of the reader commands (get, status, clear,
 * explain, preview) and of migrate. See ds_read.h.
 *
 * `get` is the hot path a dashboard may call per widget: one read-only
 * connection, one prepared SELECT by primary key, nothing else (no
 * migrations, no plan). The others are rare and favour clarity.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include "ds_compiler.h"
#include "ds_read.h"

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

/* ---------------------------------------------------------------- get */

ds_status ds_read_get(const char *db_path, const char *key, int64_t now, int stale,
                      ds_value *out, ds_diag *d)
{
    memset(out, 0, sizeof *out);
    ds_db *db = NULL;
    sqlite3_stmt *st = NULL;
    ds_status rs = DS_DBERROR;
    if (ds_db_open(db_path, DS_DB_READONLY, &db, d)) return d->status ? d->status : DS_DBERROR;
    sqlite3 *h = ds_db_handle(db);
    /* The freshness test is the origin's own `expires_at > datetime('now')`,
     * so get agrees with any SQL a dashboard already runs on the table. */
    int rc = sqlite3_prepare_v2(h, "SELECT cache_value, expires_at, expires_at > ?2 "
                                   "FROM dashboard_cache WHERE cache_key = ?1", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        if (no_such_table(h)) { rs = DS_NOVALUE; goto out; }
        ds_fail(d, DS_DBERROR, "cannot read dashboard_cache in '%s': %s", db_path, sqlite3_errmsg(h));
        goto out;
    }
    char nowtxt[20];
    ds_time_format(now, nowtxt);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, nowtxt, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) { rs = DS_NOVALUE; goto out; }
    if (rc != SQLITE_ROW) {
        ds_fail(d, DS_DBERROR, "cannot read dashboard_cache in '%s': %s", db_path, sqlite3_errmsg(h));
        goto out;
    }
    int oom = 0;
    out->found = 1;
    out->fresh = sqlite3_column_int(st, 2) == 1;
    /* The origin's table allows a NULL value: that is JSON null, not nothing. */
    int null = sqlite3_column_type(st, 0) == SQLITE_NULL;
    const char *v = null ? "null" : (const char *)sqlite3_column_text(st, 0);
    out->len = null ? 4 : (size_t)sqlite3_column_bytes(st, 0);
    out->json = ds_strndup(v ? v : "", out->len);
    out->expires_at = col_text(st, 1, &oom);
    if (!out->json || oom) {
        ds_fail(d, DS_DBERROR, "out of memory");
        goto out;
    }
    rs = out->fresh || stale ? DS_OK : DS_NOVALUE;
out:
    sqlite3_finalize(st);
    ds_db_close(db);
    return rs;
}

void ds_value_free(ds_value *v)
{
    if (!v) return;
    free(v->json);
    free(v->expires_at);
    memset(v, 0, sizeof *v);
}

/* ---------------------------------------------------------------- status */

/* ORDER: follows enum ds_freshness. */
static const char *const freshness_names[] = {"fresh", "expired", "missing"};

const char *ds_freshness_name(ds_freshness f)
{
    return (unsigned)f < 3 ? freshness_names[f] : "?";
}

/* Timestamps as ds_state_load reads them: "YYYY-MM-DD HH:MM:SS", also with a
 * 'T' and a trailing fraction or 'Z'. 0 ok, -1 not a time. */
static int parse_stored_time(const char *s, int64_t *out)
{
    char b[20];
    size_t n = s ? strlen(s) : 0;
    if (n < 19 || (n > 19 && s[19] != '.' && s[19] != 'Z')) return -1;
    memcpy(b, s, 19);
    b[19] = '\0';
    if (b[10] == 'T') b[10] = ' ';
    return ds_time_parse(b, out);
}

static int cmp_item_key(const void *k, const void *it)
{
    return strcmp(k, ((const ds_item *)it)->key);
}

/* Appends an orphan, taking ownership of key and expires_at. */
static int add_orphan(ds_report *r, size_t *cap, char *key, ds_freshness f, int64_t created, char *expires)
{
    if (r->norphans == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        ds_orphan *v = realloc(r->orphans, c * sizeof *v);
        if (!v) { free(key); free(expires); return -1; }
        r->orphans = v;
        *cap = c;
    }
    r->orphans[r->norphans++] = (ds_orphan){key, f, created, expires};
    return 0;
}

/* Reads dashboard_cache once: which plan items have a value and whether it
 * is fresh (has[i]: 0 none, 1 expired, 2 fresh), and the orphans. Fresh is the
 * SQL test `expires_at > now` on the stored text, exactly what `get` and the
 * origin's monitoring queries use. */
static int scan_cache(sqlite3 *h, const char *path, const ds_plan *p, unsigned char *has,
                      ds_report *r, ds_diag *d)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    char now[20];
    ds_time_format(r->now, now);
    if (sqlite3_prepare_v2(h, "SELECT cache_key, created_at, expires_at, expires_at > ?1 "
                              "FROM dashboard_cache ORDER BY cache_key", -1, &st, NULL) != SQLITE_OK) {
        if (no_such_table(h)) return 0;
        return ds_fail(d, DS_DBERROR, "cannot read dashboard_cache in '%s': %s", path, sqlite3_errmsg(h));
    }
    sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
    int rc, oom = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        if (!k) continue;
        int fresh = sqlite3_column_int(st, 3) == 1;
        const ds_item *it = p->n ? bsearch(k, p->items, p->n, sizeof *p->items, cmp_item_key) : NULL;
        if (it) { has[it - p->items] = fresh ? 2 : 1; continue; }
        char *key = ds_strdup(k), *created = col_text(st, 1, &oom), *expires = col_text(st, 2, &oom);
        int64_t c = 0;
        if (created && parse_stored_time(created, &c)) c = 0;
        free(created);
        if (!key || oom) { free(key); free(expires); oom = 1; }
        if (oom || add_orphan(r, &cap, key, fresh ? DS_FRESH : DS_EXPIRED, c, expires)) {
            sqlite3_finalize(st);
            return ds_fail(d, DS_DBERROR, "out of memory");
        }
    }
    if (rc != SQLITE_DONE) {
        ds_fail(d, DS_DBERROR, "cannot read dashboard_cache in '%s': %s", path, sqlite3_errmsg(h));
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

/* Is the plan sorted by key with no duplicates (bsearch needs it)? */
static int plan_sorted(const ds_plan *p)
{
    for (size_t i = 1; i < p->n; i++)
        if (strcmp(p->items[i - 1].key, p->items[i].key) >= 0) return 0;
    return 1;
}

static int cmp_items(const void *a, const void *b)
{
    return strcmp(((const ds_item *)a)->key, ((const ds_item *)b)->key);
}

ds_status ds_read_status(const char *db_path, int64_t now, ds_report *out, ds_diag *d)
{
    ds_db *db = NULL;
    ds_plan p;
    ds_item_state *st = NULL;
    unsigned char *has = NULL;
    int intx = 0;
    ds_status rs = DS_DBERROR;
    ds_plan_init(&p);
    memset(out, 0, sizeof *out);
    out->now = now;
    if (ds_db_open(db_path, DS_DB_READONLY, &db, d)) return d->status ? d->status : DS_DBERROR;
    sqlite3 *h = ds_db_handle(db);
    /* One read transaction: plan, state and cache from the same snapshot even
     * while a run commits values. */
    if (sqlite3_exec(h, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        ds_fail(d, DS_DBERROR, "cannot read database '%s': %s", db_path, sqlite3_errmsg(h));
        goto out;
    }
    intx = 1;
    if (ds_plan_load(db, &p, d)) goto out;
    if (!plan_sorted(&p)) qsort(p.items, p.n, sizeof *p.items, cmp_items);
    st = calloc(p.n ? p.n : 1, sizeof *st);
    has = calloc(p.n ? p.n : 1, 1);
    out->items = calloc(p.n ? p.n : 1, sizeof *out->items);
    if (!st || !has || !out->items) { ds_fail(d, DS_DBERROR, "out of memory"); goto out; }
    if (ds_state_load(db, &p, st, d)) goto out;
    if (scan_cache(h, db_path, &p, has, out, d)) goto out;
    for (size_t i = 0; i < p.n; i++) {
        const ds_item *it = &p.items[i];
        ds_report_item *r = &out->items[out->n++];
        r->kind = it->kind;
        r->ttl = it->ttl;
        r->refresh = it->refresh;
        r->state = has[i] == 2 ? DS_FRESH : has[i] == 1 ? DS_EXPIRED : DS_MISSING;
        r->created_at = st[i].created_at;
        r->expires_at = st[i].expires_at;
        r->entries = st[i].has_state ? st[i].entries : -1;
        r->last_duration_ms = st[i].has_state ? st[i].last_duration_ms : -1;
        r->failures = st[i].failures;
        r->due = ds_due(it, &st[i], now, 0, &r->next_due);
        if (!(r->key = ds_strdup(it->key)) || (it->group && !(r->group = ds_strdup(it->group)))) {
            ds_fail(d, DS_DBERROR, "out of memory");
            goto out;
        }
        r->last_error = st[i].last_error;   /* moved */
        st[i].last_error = NULL;
        if (r->state == DS_FRESH) out->fresh++;
        else if (r->state == DS_EXPIRED) out->expired++;
        else out->missing++;
        if (r->failures > 0) out->failing++;
    }
    rs = DS_OK;
out:
    if (intx) sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
    for (size_t i = 0; st && i < p.n; i++) ds_item_state_clear(&st[i]);
    free(st);
    free(has);
    ds_plan_free(&p);
    ds_db_close(db);
    if (rs != DS_OK) {
        int64_t keep = out->now;
        ds_report_free(out);
        out->now = keep;
    }
    return rs;
}

/* ORDER: follows enum ds_due_reason. */
static const char *const due_names[] = {NULL, "missing", "expired", "refresh", "changed", "forced", "backoff",
                                        "future"};

static void json_num_or_null(ds_buf *b, int64_t v, int known)
{
    if (known) ds_json_int(b, v);
    else ds_buf_adds(b, "null");
}

static void json_str_or_null(ds_buf *b, const char *s)
{
    if (s) ds_json_string(b, s, strlen(s));
    else ds_buf_adds(b, "null");
}

void ds_report_json(const ds_report *r, ds_buf *b)
{
    char ts[20];
    ds_time_format(r->now, ts);
    ds_buf_printf(b, "{\"now\":\"%s\",\"fresh\":%zu,\"expired\":%zu,\"missing\":%zu,\"failing\":%zu,\"items\":[",
                  ts, r->fresh, r->expired, r->missing, r->failing);
    for (size_t i = 0; i < r->n; i++) {
        const ds_report_item *it = &r->items[i];
        if (i) ds_buf_addc(b, ',');
        ds_buf_adds(b, "{\"key\":");
        json_str_or_null(b, it->key);
        ds_buf_printf(b, ",\"kind\":\"%s\",\"group\":", ds_kind_name(it->kind));
        json_str_or_null(b, it->group);
        ds_buf_printf(b, ",\"state\":\"%s\",\"age_s\":", ds_freshness_name(it->state));
        json_num_or_null(b, r->now - it->created_at, it->state != DS_MISSING && it->created_at != 0);
        ds_buf_adds(b, ",\"ttl_s\":");
        ds_json_int(b, it->ttl);
        ds_buf_adds(b, ",\"refresh_s\":");
        ds_json_int(b, it->refresh);
        ds_buf_adds(b, ",\"entries\":");
        json_num_or_null(b, it->entries, it->entries >= 0);
        ds_buf_adds(b, ",\"last_duration_ms\":");
        json_num_or_null(b, it->last_duration_ms, it->last_duration_ms >= 0);
        ds_buf_adds(b, ",\"last_error\":");
        json_str_or_null(b, it->last_error);
        ds_buf_adds(b, ",\"failures\":");
        ds_json_int(b, it->failures);
        ds_time_format(it->next_due, ts);
        ds_buf_printf(b, ",\"next_due\":\"%s\",\"due\":", ts);
        json_str_or_null(b, (unsigned)it->due < sizeof due_names / sizeof *due_names ? due_names[it->due] : NULL);
        ds_buf_addc(b, '}');
    }
    ds_buf_adds(b, "],\"orphaned\":[");
    for (size_t i = 0; i < r->norphans; i++) {
        const ds_orphan *o = &r->orphans[i];
        if (i) ds_buf_addc(b, ',');
        ds_buf_adds(b, "{\"key\":");
        json_str_or_null(b, o->key);
        ds_buf_printf(b, ",\"state\":\"%s\",\"age_s\":", ds_freshness_name(o->state));
        json_num_or_null(b, r->now - o->created_at, o->created_at != 0);
        ds_buf_adds(b, ",\"expires_at\":");
        json_str_or_null(b, o->expires_at);
        ds_buf_addc(b, '}');
    }
    ds_buf_adds(b, "]}\n");
}

void ds_report_free(ds_report *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->items[i].key);
        free(r->items[i].group);
        free(r->items[i].last_error);
    }
    for (size_t i = 0; i < r->norphans; i++) {
        free(r->orphans[i].key);
        free(r->orphans[i].expires_at);
    }
    free(r->items);
    free(r->orphans);
    memset(r, 0, sizeof *r);
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

ds_status ds_read_clear(const char *db_path, const char *const *pats, size_t npats,
                        int64_t *cleared, ds_diag *d)
{
    ds_db *db = NULL;
    sqlite3_stmt *del = NULL;
    char **keys = NULL;
    size_t nkeys = 0;
    int began = 0;
    ds_status rs = DS_DBERROR;
    *cleared = 0;
    if (ds_db_open(db_path, DS_DB_READWRITE, &db, d)) return d->status ? d->status : DS_DBERROR;
    if (ds_db_migrate(db, d)) goto out;
    sqlite3 *h = ds_db_handle(db);
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
    rs = DS_OK;
    goto out;
werr:
    ds_fail(d, DS_DBERROR, "cannot write database '%s': %s", db_path, sqlite3_errmsg(h));
out:
    sqlite3_finalize(del);
    if (began) sqlite3_exec(ds_db_handle(db), "ROLLBACK", NULL, NULL, NULL);
    if (rs != DS_OK) *cleared = 0;
    for (size_t i = 0; i < nkeys; i++) free(keys[i]);
    free(keys);
    ds_db_close(db);
    return rs;
}

/* ---------------------------------------------------------------- explain / preview */

/* Moves key's plan row out of the plan of an open database into *it. Returns
 * DS_OK, DS_FAILED (not in the plan, reported with a hint), DS_DBERROR. */
static ds_status find_item(ds_db *db, const char *key, ds_item *it, ds_diag *d)
{
    ds_plan p;
    memset(it, 0, sizeof *it);
    if (ds_plan_load(db, &p, d)) return DS_DBERROR;
    ds_status rs = DS_FAILED;
    for (size_t i = 0; i < p.n; i++) {
        if (strcmp(p.items[i].key, key) != 0) continue;
        *it = p.items[i];
        memset(&p.items[i], 0, sizeof p.items[i]);
        rs = DS_OK;
        break;
    }
    if (rs != DS_OK)
        ds_error(d, NULL, 0, 0, NULL, "no item '%s' in the plan of '%s'%s", key, ds_db_path(db),
                 p.n ? "" : " (nothing is compiled: run dashspec compile)");
    ds_plan_free(&p);
    return rs;
}

/* Binds every parameter the statement names (:x, @x or $x all mean params
 * entry x, as in the compiler) and :now. Unknown names stay NULL. */
static void bind_params(sqlite3_stmt *st, const ds_item *it, const char *now)
{
    int n = sqlite3_bind_parameter_count(st);
    for (int i = 1; i <= n; i++) {
        const char *name = sqlite3_bind_parameter_name(st, i);
        if (!name || !name[0] || !name[1]) continue;
        name++;
        if (strcmp(name, "now") == 0) { sqlite3_bind_text(st, i, now, -1, SQLITE_TRANSIENT); continue; }
        for (size_t k = 0; k < it->nparams; k++) {
            const ds_param *pa = &it->params[k];
            if (strcmp(pa->name, name) != 0) continue;
            switch (pa->type) {
            case DS_PARAM_INT: case DS_PARAM_BOOL: sqlite3_bind_int64(st, i, pa->i); break;
            case DS_PARAM_REAL: sqlite3_bind_double(st, i, pa->r); break;
            case DS_PARAM_TEXT: sqlite3_bind_text(st, i, pa->s ? pa->s : "", -1, SQLITE_TRANSIENT); break;
            }
            break;
        }
    }
}

/* EXPLAIN QUERY PLAN of the item's statement into e->qp; a statement that no
 * longer prepares leaves its error in e->qp_error. -1 only on OOM. */
static int query_plan(sqlite3 *h, ds_explain *e)
{
    sqlite3_stmt *st = NULL;
    ds_sql_auth auth = {{0}};
    size_t cap = 0;
    int rc = -1;
    char *sql = ds_asprintf("EXPLAIN QUERY PLAN %s", e->item.query);
    if (!sql) return -1;
    /* The compiler's authorizer: what may not run may not be explained either. */
    sqlite3_set_authorizer(h, ds_sql_authorizer, &auth);
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK) {
        e->qp_error = ds_strdup(auth.why[0] ? auth.why : sqlite3_errmsg(h));
        rc = e->qp_error ? 0 : -1;
        goto out;
    }
    bind_params(st, &e->item, e->now);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (e->nqp == cap) {
            cap = cap ? cap * 2 : 8;
            ds_qp_row *v = realloc(e->qp, cap * sizeof *v);
            if (!v) goto out;
            e->qp = v;
        }
        ds_qp_row *r = &e->qp[e->nqp];
        r->id = sqlite3_column_int(st, 0);
        r->parent = sqlite3_column_int(st, 1);
        const char *det = (const char *)sqlite3_column_text(st, 3);
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

ds_status ds_read_explain(const char *db_path, const char *key, int64_t now,
                          ds_explain *out, ds_diag *d)
{
    ds_db *db = NULL;
    sqlite3_stmt *st = NULL;
    memset(out, 0, sizeof *out);
    ds_time_format(now, out->now);
    if (ds_db_open(db_path, DS_DB_READONLY, &db, d)) return d->status ? d->status : DS_DBERROR;
    sqlite3 *h = ds_db_handle(db);
    ds_status rs = find_item(db, key, &out->item, d);
    if (rs != DS_OK) goto out;
    rs = DS_DBERROR;
    /* Not part of ds_item: which SQLite compiled the plan, and when. */
    if (sqlite3_prepare_v2(h, "SELECT sqlite_version, compiled_at FROM dashspec_plan WHERE key = ?1",
                           -1, &st, NULL) == SQLITE_OK) {
        int oom = 0;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            out->sqlite_version = col_text(st, 0, &oom);
            out->compiled_at = col_text(st, 1, &oom);
        }
        if (oom) { ds_fail(d, DS_DBERROR, "out of memory"); goto out; }
    }
    if (query_plan(h, out)) { ds_fail(d, DS_DBERROR, "out of memory"); goto out; }
    rs = DS_OK;
out:
    sqlite3_finalize(st);
    ds_db_close(db);
    return rs;
}

void ds_explain_free(ds_explain *e)
{
    if (!e) return;
    ds_item_free(&e->item);
    free(e->sqlite_version);
    free(e->compiled_at);
    for (size_t i = 0; i < e->nqp; i++) free(e->qp[i].detail);
    free(e->qp);
    free(e->qp_error);
    memset(e, 0, sizeof *e);
}

ds_status ds_read_preview(const char *db_path, const char *key, int64_t now,
                          ds_preview *out, ds_diag *d)
{
    ds_db *db = NULL;
    ds_exec *x = NULL;
    char *err = NULL;
    memset(out, 0, sizeof *out);
    if (ds_db_open(db_path, DS_DB_READONLY, &db, d)) return d->status ? d->status : DS_DBERROR;
    ds_status rs = find_item(db, key, &out->item, d);
    ds_db_close(db);
    if (rs != DS_OK) return rs;
    /* The executor `run` uses, so preview shows what run would cache; its
     * connection is read-only, which is why preview writes nothing. */
    if (!(x = ds_exec_new(db_path, d))) return d->status ? d->status : DS_DBERROR;
    if (ds_exec_item(x, &out->item, now, &out->res, &err)) {
        ds_error(d, NULL, 0, 0, key, "%s", err ? err : "query failed");
        rs = DS_FAILED;
    }
    free(err);
    ds_exec_free(x);
    return rs;
}

void ds_preview_free(ds_preview *p)
{
    if (!p) return;
    ds_item_free(&p->item);
    ds_result_free(&p->res);
    memset(p, 0, sizeof *p);
}

/* ---------------------------------------------------------------- migrate */

ds_status ds_read_migrate(const char *db_path, int *applied, ds_diag *d)
{
    ds_db *db = NULL;
    ds_status rs = DS_DBERROR;
    *applied = 0;
    if (ds_db_open(db_path, DS_DB_READWRITE, &db, d)) return d->status ? d->status : DS_DBERROR;
    int before = ds_db_migrated(db);
    if (before < 0) {
        ds_fail(d, DS_DBERROR, "cannot read database '%s': %s", db_path, sqlite3_errmsg(ds_db_handle(db)));
        goto out;
    }
    if (before == 0) {
        if (ds_db_migrate(db, d)) goto out;
        *applied = 1;
    }
    rs = DS_OK;
out:
    ds_db_close(db);
    return rs;
}

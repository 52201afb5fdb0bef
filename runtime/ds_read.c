/*
 * ds_read.c — the library side of the reader commands (get, status, clear,
 * explain, preview) and of migrate. See ds_read.h. What they read comes from
 * the engine (engine/engine.h: cache_get, cache_scan, cache_clear, explain,
 * snapshot_begin/end; SQLite: engine/sqlite/sqlite_read.c); the reports are
 * built here.
 *
 * `get` is the hot path a dashboard may call per widget: one read-only
 * connection, one read by primary key, nothing else (no migrations, no
 * plan). The others are rare and favour clarity.
 */
#include <stdlib.h>
#include <string.h>
#include "ds_compiler.h"
#include "ds_read.h"
#include "ds_select.h"
#include "engine.h"

/* ---------------------------------------------------------------- get */

ds_status ds_read_get(const char *db_path, const char *key, int64_t now, int stale,
                      ds_value *out, ds_diag *d)
{
    memset(out, 0, sizeof *out);
    ds_db *db = NULL;
    if (ds_db_open(db_path, DS_DB_READONLY, &db, d)) return d->status ? d->status : DS_DBERROR;
    int r = db->eng->cache_get(db, key, now, out, d);
    ds_db_close(db);
    if (r < 0) return DS_DBERROR;
    return r == 1 && (out->fresh || stale) ? DS_OK : DS_NOVALUE;
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
static const char *const freshness_names[] = {
    [DS_FRESH] = "fresh", [DS_EXPIRED] = "expired", [DS_MISSING] = "missing",
};
_Static_assert(sizeof freshness_names / sizeof freshness_names[0] == DS_MISSING + 1,
               "one name per freshness");

const char *ds_freshness_name(ds_freshness f)
{
    return (unsigned)f < sizeof freshness_names / sizeof freshness_names[0] ? freshness_names[f] : "?";
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

/* What status's cache scan fills in. */
typedef struct scan_ctx {
    const ds_plan *p;
    unsigned char *has;
    ds_report *r;
    size_t cap;
    ds_diag *d;
} scan_ctx;

/* One dashboard_cache row: a plan item's value (has[i]: 1 expired, 2 fresh)
 * or an orphan. */
static int scan_row(void *ctx, const char *k, const char *created, const char *expires, int fresh)
{
    scan_ctx *c = ctx;
    const ds_plan *p = c->p;
    const ds_item *it = p->n ? bsearch(k, p->items, p->n, sizeof *p->items, cmp_item_key) : NULL;
    if (it) { c->has[it - p->items] = fresh ? 2 : 1; return 0; }
    int64_t t = 0;
    if (created && ds_time_parse_stored(created, strlen(created), &t)) t = 0;
    char *key = ds_strdup(k), *exp = NULL;
    int oom = !key || (expires && !(exp = ds_strdup(expires)));
    if (oom) { free(key); free(exp); }
    if (oom || add_orphan(c->r, &c->cap, key, fresh ? DS_FRESH : DS_EXPIRED, t, exp))
        return ds_fail(c->d, DS_DBERROR, "out of memory");
    return 0;
}

/* Reads dashboard_cache once: which plan items have a value and whether it
 * is fresh, and the orphans. Fresh is the engine's `expires_at > now` on the
 * stored value, exactly what `get` and a dashboard's own SQL use
 * (docs/architecture.md, dashboard_cache). */
static int scan_cache(ds_db *db, const ds_plan *p, unsigned char *has, ds_report *r, ds_diag *d)
{
    scan_ctx c = {p, has, r, 0, d};
    return db->eng->cache_scan(db, r->now, scan_row, &c, d);
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
    return ds_read_status_sel(db_path, now, NULL, out, d);
}

/* Keeps the orphans a key-only view of the selection takes. */
static void orphans_select(ds_report *r, const ds_select *sel)
{
    size_t k = 0;
    for (size_t i = 0; i < r->norphans; i++) {
        ds_sel_view v = {r->orphans[i].key, NULL, NULL, 0, NULL};
        if (ds_select_match(sel, &v)) { r->orphans[k++] = r->orphans[i]; continue; }
        free(r->orphans[i].key);
        free(r->orphans[i].expires_at);
    }
    r->norphans = k;
}

ds_status ds_read_status_sel(const char *db_path, int64_t now, const ds_select *sel, ds_report *out,
                             ds_diag *d)
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
    /* One read transaction: plan, state and cache from the same snapshot even
     * while a run commits values. */
    if (db->eng->snapshot_begin(db, d)) goto out;
    intx = 1;
    if (ds_plan_load(db, &p, d)) goto out;
    if (!plan_sorted(&p)) qsort(p.items, p.n, sizeof *p.items, cmp_items);
    st = calloc(p.n ? p.n : 1, sizeof *st);
    has = calloc(p.n ? p.n : 1, 1);
    out->items = calloc(p.n ? p.n : 1, sizeof *out->items);
    if (!st || !has || !out->items) { ds_fail(d, DS_DBERROR, "out of memory"); goto out; }
    if (ds_state_load(db, &p, st, d)) goto out;
    if (scan_cache(db, &p, has, out, d)) goto out;
    if (sel) orphans_select(out, sel);
    for (size_t i = 0; i < p.n; i++) {
        const ds_item *it = &p.items[i];
        if (sel && !ds_select_item(sel, it)) continue;
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
        if (it->refresh_key && st[i].has_value && st[i].confirmed_at > st[i].created_at)
            r->confirmed_at = st[i].confirmed_at;
        if (!(r->key = ds_strdup(it->key)) || (it->group && !(r->group = ds_strdup(it->group)))) {
            ds_fail(d, DS_DBERROR, "out of memory");
            goto out;
        }
        r->last_error = st[i].last_error;   /* moved */
        st[i].last_error = NULL;
        r->last_runner = st[i].last_runner;
        st[i].last_runner = NULL;
        if (st[i].lease_runner && st[i].lease_until > now) {  /* a live lease only */
            r->lease_runner = st[i].lease_runner;
            r->lease_until = st[i].lease_until;
            st[i].lease_runner = NULL;
        }
        if (r->state == DS_FRESH) out->fresh++;
        else if (r->state == DS_EXPIRED) out->expired++;
        else out->missing++;
        if (r->failures > 0) out->failing++;
    }
    rs = DS_OK;
out:
    if (intx) db->eng->snapshot_end(db);
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
/* status --json's "due" (docs/reading.md); not due is null. */
static const char *const due_names[] = {
    [DS_DUE_NOT] = NULL, [DS_DUE_MISSING] = "missing", [DS_DUE_EXPIRED] = "expired",
    [DS_DUE_REFRESH] = "refresh", [DS_DUE_CHANGED] = "changed", [DS_DUE_FORCED] = "forced",
    [DS_DUE_BACKOFF] = "backoff", [DS_DUE_FUTURE] = "future",
};
_Static_assert(sizeof due_names / sizeof due_names[0] == DS_DUE_FUTURE + 1, "one name per due reason");

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

/* Several runners (PostgreSQL): last_runner, lease_until, lease_runner,
 * present only when the engine recorded them (never on SQLite). */
static void runner_json(ds_buf *b, const ds_report_item *it)
{
    char ts[20];
    if (it->last_runner) {
        ds_buf_adds(b, ",\"last_runner\":");
        json_str_or_null(b, it->last_runner);
    }
    if (it->lease_runner) {
        ds_time_format(it->lease_until, ts);
        ds_buf_printf(b, ",\"lease_until\":\"%s\",\"lease_runner\":", ts);
        json_str_or_null(b, it->lease_runner);
    }
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
        if (it->confirmed_at) {     /* refresh_key: present only once a value was confirmed */
            ds_time_format(it->confirmed_at, ts);
            ds_buf_printf(b, ",\"confirmed_at\":\"%s\"", ts);
        }
        runner_json(b, it);
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
        free(r->items[i].last_runner);
        free(r->items[i].lease_runner);
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

ds_status ds_read_clear(const char *db_path, const char *const *pats, size_t npats,
                        int64_t *cleared, ds_diag *d)
{
    ds_db *db = NULL;
    ds_status rs = DS_DBERROR;
    *cleared = 0;
    if (ds_db_open(db_path, DS_DB_READWRITE, &db, d)) return d->status ? d->status : DS_DBERROR;
    if (ds_db_migrate(db, d) == 0 && db->eng->cache_clear(db, pats, npats, cleared, d) == 0) rs = DS_OK;
    ds_db_close(db);
    return rs;
}

/* ---------------------------------------------------------------- explain / preview */

/* The plan key nearest to key (ds_suggest), borrowed from p, or NULL. */
static const char *near_key(const ds_plan *p, const char *key)
{
    const char **names = calloc(p->n + 1, sizeof *names);
    if (!names) return NULL;
    for (size_t i = 0; i < p->n; i++) names[i] = p->items[i].key;
    const char *near = ds_suggest(key, strlen(key), names);
    free(names);
    return near;
}

char *ds_read_near_key(const char *db_path, const char *key, int *in_plan)
{
    ds_db *db = NULL;
    ds_plan p;
    ds_diag d;
    char *near = NULL;
    *in_plan = 0;
    ds_plan_init(&p);
    ds_diag_init(&d);
    if (ds_db_open(db_path, DS_DB_READONLY, &db, &d) == 0 && ds_plan_load(db, &p, &d) == 0) {
        for (size_t i = 0; i < p.n && !*in_plan; i++) *in_plan = strcmp(p.items[i].key, key) == 0;
        const char *n = *in_plan ? NULL : near_key(&p, key);
        if (n) near = ds_strdup(n);
    }
    ds_db_close(db);
    ds_plan_free(&p);
    ds_diag_free(&d);
    return near;
}

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
    const char *near = rs != DS_OK ? near_key(&p, key) : NULL;
    if (rs != DS_OK && near)
        ds_error(d, NULL, 0, 0, NULL, "no item '%s' in the plan of '%s'; did you mean '%s'?", key,
                 ds_db_path(db), near);
    else if (rs != DS_OK)
        ds_error(d, NULL, 0, 0, NULL, "no item '%s' in the plan of '%s'%s", key, ds_db_path(db),
                 p.n ? "" : " (nothing is compiled: run dashspec compile)");
    ds_plan_free(&p);
    return rs;
}

ds_status ds_read_explain(const char *db_path, const char *key, int64_t now,
                          ds_explain *out, ds_diag *d)
{
    ds_db *db = NULL;
    memset(out, 0, sizeof *out);
    ds_time_format(now, out->now);
    if (ds_db_open(db_path, DS_DB_READONLY, &db, d)) return d->status ? d->status : DS_DBERROR;
    ds_status rs = find_item(db, key, &out->item, d);
    if (rs == DS_OK && db->eng->explain(db, out, d)) rs = DS_DBERROR;
    ds_db_close(db);
    return rs;
}

void ds_explain_free(ds_explain *e)
{
    if (!e) return;
    ds_item_free(&e->item);
    free(e->engine_version);
    free(e->compiled_at);
    for (size_t i = 0; i < e->nqp; i++) free(e->qp[i].detail);
    free(e->qp);
    free(e->qp_error);
    memset(e, 0, sizeof *e);
}

ds_status ds_read_preview(const char *db_path, const char *source, const char *key, int64_t now,
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
    if (!(x = ds_exec_new(source ? source : db_path, d))) return d->status ? d->status : DS_DBERROR;
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
        ds_fail(d, DS_DBERROR, "cannot read database '%s': %s", db_path, db->eng->errmsg(db));
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

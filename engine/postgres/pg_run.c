/*
 * pg_run.c — the PostgreSQL engine's sources (engine/engine.h: source_open,
 * source_close, source_busy_timeout, source_cancel_on, exec_item): one
 * connection that runs spec queries, each in BEGIN READ ONLY with SET LOCAL
 * statement_timeout from the item's timeout, rows streamed in single-row
 * mode (ds_pg_exec) straight into the shaper as pre-rendered JSON cells
 * (DS_T_RAW: numeric exact as printed, json/jsonb embedded), so max_rows and
 * max_bytes hold while rows arrive. The :name -> $n rewrite is cached per
 * item key; every parameter is sent typed (bigint, double precision, text,
 * boolean; :now and :since as timestamptz, :since NULL unless it->since).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "pg_int.h"

typedef struct slot {
    char *key, *sql;            /* NULL key = empty */
    ds_pg_sql q;
} slot;

typedef struct pg_exec {
    ds_exec base;               /* base.eng == &ds_postgres_engine */
    PGconn *c;
    char *target;               /* redacted */
    slot *slots;
    size_t nslots;
    const volatile sig_atomic_t *cancel_sig;
    const atomic_int *cancel_flag;
    /* the running item */
    const ds_item *it;
    ds_shaper *sh;
    ds_cell *cells;
    int cap;
} pg_exec;

ds_exec *ds_pg_source_open(const char *target, ds_diag *d)
{
    pg_exec *x = calloc(1, sizeof *x);
    if (!x || !(x->target = ds_pg_redact(target))) {
        free(x);
        ds_fail(d, DS_DBERROR, "out of memory");
        return NULL;
    }
    x->base.eng = &ds_postgres_engine;
    if (!(x->c = ds_pg_connect(target, d))) {
        free(x->target);
        free(x);
        return NULL;
    }
    return &x->base;
}

void ds_pg_source_close(ds_exec *b)
{
    pg_exec *x = (pg_exec *)b;
    if (!x) return;
    for (size_t i = 0; i < x->nslots; i++) {
        free(x->slots[i].key);
        free(x->slots[i].sql);
        ds_pg_sql_free(&x->slots[i].q);
    }
    free(x->slots);
    free(x->cells);
    ds_pg_close(x->c);
    free(x->target);
    free(x);
}

void ds_pg_source_busy_timeout(ds_exec *x, int64_t ms)
{
    (void)x;
    (void)ms;           /* lock waits count against the item's statement_timeout */
}

void ds_pg_source_cancel_on(ds_exec *b, const volatile sig_atomic_t *sig, const atomic_int *flag)
{
    pg_exec *x = (pg_exec *)b;
    x->cancel_sig = sig;
    x->cancel_flag = flag;
}

/* ---------------------------------------------------------------- parameters */

static const ds_param *find_param(const ds_item *it, const char *name)
{
    for (size_t k = 0; k < it->nparams; k++)
        if (strcmp(it->params[k].name, name) == 0) return &it->params[k];
    return NULL;
}

int ds_pg_bind(const ds_pg_sql *q, const ds_item *it, int64_t now, char *nowbuf,
               ds_pg_ptype *types, const char **vals, char (*nums)[32])
{
    for (int i = 0; i < q->nparams; i++) {
        const ds_param *p;
        if (strcmp(q->names[i], "now") == 0) {
            ds_pg_format_now(now, nowbuf);
            types[i] = DS_PGP_TIMESTAMPTZ;
            vals[i] = nowbuf;
        } else if (strcmp(q->names[i], "since") == 0) {
            /* incremental (runtime/ds_incr.c): typed like :now, NULL on a
             * full compute; the compiler refuses a declared param "since" */
            types[i] = DS_PGP_TIMESTAMPTZ;
            vals[i] = NULL;
            if (it->since > 0) {
                ds_pg_format_now(it->since, nums[i]);
                vals[i] = nums[i];
            }
        } else if ((p = find_param(it, q->names[i]))) {
            switch (p->type) {
            case DS_PARAM_INT:
                types[i] = DS_PGP_INT;
                snprintf(nums[i], 32, "%lld", (long long)p->i);
                vals[i] = nums[i];
                break;
            case DS_PARAM_BOOL:
                types[i] = DS_PGP_BOOL;
                vals[i] = p->i ? "true" : "false";
                break;
            case DS_PARAM_REAL:
                types[i] = DS_PGP_REAL;
                snprintf(nums[i], 32, "%.17g", p->r);
                vals[i] = nums[i];
                break;
            default:
                types[i] = DS_PGP_TEXT;
                vals[i] = p->s ? p->s : "";
                break;
            }
        } else {
            types[i] = DS_PGP_UNKNOWN;      /* the compiler refuses unknown names */
            vals[i] = NULL;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- the rewrite cache */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int grow(pg_exec *x)
{
    size_t n = x->nslots ? x->nslots * 2 : 64;
    slot *v = calloc(n, sizeof *v);
    if (!v) return -1;
    for (size_t i = 0; i < x->nslots; i++) {
        if (!x->slots[i].key) continue;
        size_t j = hash_str(x->slots[i].key) & (n - 1);
        while (v[j].key) j = (j + 1) & (n - 1);
        v[j] = x->slots[i];
    }
    free(x->slots);
    x->slots = v;
    x->nslots = n;
    return 0;
}

/* The rewritten query of it; NULL with *err. */
static const ds_pg_sql *rewritten(pg_exec *x, const ds_item *it, char **err)
{
    size_t used = 0;
    for (size_t i = 0; i < x->nslots; i++) used += x->slots[i].key != NULL;
    if ((used + 1) * 2 >= x->nslots && grow(x)) { *err = ds_strdup("out of memory"); return NULL; }
    size_t j = hash_str(it->key) & (x->nslots - 1);
    while (x->slots[j].key && strcmp(x->slots[j].key, it->key) != 0) j = (j + 1) & (x->nslots - 1);
    slot *s = &x->slots[j];
    if (s->key && s->sql && strcmp(s->sql, it->query) == 0) return &s->q;
    ds_pg_sql_free(&s->q);
    free(s->sql);
    s->sql = NULL;
    if (!s->key && !(s->key = ds_strdup(it->key))) { *err = ds_strdup("out of memory"); return NULL; }
    char *why = NULL;
    size_t pos;
    int ro = ds_pg_sql_readonly(it->query, strlen(it->query), &why, &pos);
    if (ro <= 0) { *err = why ? why : ds_strdup("out of memory"); return NULL; }
    if (ds_pg_sql_rewrite(it->query, strlen(it->query), &s->q, &why, &pos)) {
        *err = why ? why : ds_strdup("out of memory");
        return NULL;
    }
    if (!(s->sql = ds_strdup(it->query))) { *err = ds_strdup("out of memory"); return NULL; }
    return &s->q;
}

/* ---------------------------------------------------------------- running */

static int on_cols(void *ctx, int ncols, const char *const *names, char **err)
{
    pg_exec *x = ctx;
    if (ncols > x->cap) {
        ds_cell *c = realloc(x->cells, (size_t)ncols * sizeof *c);
        if (!c) { *err = ds_strdup("out of memory"); return -1; }
        x->cells = c;
        x->cap = ncols;
    }
    if (ncols == 0) { *err = ds_strdup("the query returns no columns"); return -1; }
    x->sh = ds_shaper_new(x->it, names, ncols, err);
    if (!x->sh && !*err) *err = ds_strdup("out of memory");
    return x->sh ? 0 : -1;
}

/* A signal (plain run) or the scheduler (--watch's stop, a preemption). */
static int on_stop(void *ctx)
{
    pg_exec *x = ctx;
    return (x->cancel_sig && *x->cancel_sig) ||
           (x->cancel_flag && atomic_load_explicit(x->cancel_flag, memory_order_relaxed));
}

static int on_row(void *ctx, int ncols, const ds_pg_cell *cells, char **err)
{
    pg_exec *x = ctx;
    if (on_stop(x)) {
        *err = ds_strdup("interrupted");
        return -1;
    }
    for (int i = 0; i < ncols; i++) {
        ds_cell *c = &x->cells[i];
        if (cells[i].null) {
            c->type = DS_T_NULL;
            c->s = c->k = NULL;
            c->n = c->kn = 0;
            continue;
        }
        c->type = DS_T_RAW;
        c->s = cells[i].json;
        c->n = cells[i].json_len;
        c->k = cells[i].key;
        c->kn = cells[i].key_len;
    }
    return ds_shaper_row(x->sh, x->cells, err) ? -1 : 0;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ds_pg_exec_item(ds_exec *b, const ds_item *it, int64_t now, ds_result *out, char **err)
{
    pg_exec *x = (pg_exec *)b;
    int64_t t0 = mono_ms();
    memset(out, 0, sizeof *out);
    *err = NULL;
    if (PQstatus(x->c) == CONNECTION_BAD) PQreset(x->c);
    char *e = NULL;
    int rc = -1;
    const ds_pg_sql *q = rewritten(x, it, &e);
    ds_pg_ptype *types = NULL;
    const char **vals = NULL;
    char (*nums)[32] = NULL;
    char nowbuf[32];
    if (!q) goto out;
    types = calloc((size_t)q->nparams + 1, sizeof *types);
    vals = calloc((size_t)q->nparams + 1, sizeof *vals);
    nums = calloc((size_t)q->nparams + 1, sizeof *nums);
    if (!types || !vals || !nums || ds_pg_bind(q, it, now, nowbuf, types, vals, nums)) {
        e = ds_strdup("out of memory");
        goto out;
    }
    x->it = it;
    x->sh = NULL;
    int keys = it->shape == DS_SHAPE_MAP || (it->shape == DS_SHAPE_SERIES && it->series_by);
    int64_t tmo = it->timeout > 0 && it->timeout <= 100LL * 366 * 86400 ? it->timeout * 1000 : 0;
    ds_pg_err pe = {.offset = -1};
    if (ds_pg_exec(x->c, q, types, vals, tmo, keys, on_cols, on_row, on_stop, x, &pe)) {
        char tb[32];
        if (pe.timed_out)
            e = ds_asprintf("query timed out after %s", ds_duration_format(it->timeout, tb, sizeof tb));
        else
            e = pe.msg ? ds_strdup(pe.msg) : ds_strdup("out of memory");
        ds_pg_err_clear(&pe);
        goto out;
    }
    ds_pg_err_clear(&pe);
    if (!x->sh) { e = ds_strdup("the query returned no result"); goto out; }
    if (ds_shaper_finish(x->sh, &out->json, &out->len, &out->entries, &e)) goto out;
    rc = 0;
out:
    if (x->sh) ds_shaper_free(x->sh);
    x->sh = NULL;
    x->it = NULL;
    free(types);
    free(vals);
    free(nums);
    if (rc) {
        ds_result_free(out);
        *err = e ? e : ds_strdup("out of memory");
    }
    out->duration_ms = mono_ms() - t0;
    return rc;
}

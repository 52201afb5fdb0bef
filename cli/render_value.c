/*
 * render_value.c — a cached value shown for a terminal by shape (see
 * cli_render_value in render.h), parsed into a small tree with the one JSON
 * reader (common/ds_jread.h), which keeps every number's text so a
 * previewed value prints exactly as it is cached.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "ds_jread.h"
#include "ds_utf8.h"
#include "ds_vec.h"
#include "render.h"

#define JSON_MAX_DEPTH 64       /* deeper values are shown as raw JSON */
#define SERIES_NAME_WIDTH 24    /* series names are cut to this on a terminal */

/* ---------------------------------------------------------------- JSON values */

enum { JV_NULL, JV_BOOL, JV_NUM, JV_STR, JV_ARR, JV_OBJ };

/* A parsed JSON value. raw/rawn is its text in the input, so numbers (and
 * nested values shown in a cell) print exactly as they were written. */
typedef struct jv {
    int t;
    const char *raw;
    size_t rawn;
    char *s;                /* JV_STR: decoded (may hold NUL bytes) */
    size_t n;
    struct jv *v;           /* JV_ARR / JV_OBJ children */
    struct jv *k;           /* JV_OBJ keys (JV_STR each) */
    size_t nv, cap;
} jv;

typedef struct jparser { ds_jread r; int depth; } jparser;

static void jv_free(jv *v)
{
    if (!v) return;
    free(v->s);
    for (size_t i = 0; i < v->nv; i++) {
        jv_free(&v->v[i]);
        if (v->k) jv_free(&v->k[i]);
    }
    free(v->v);
    free(v->k);
    memset(v, 0, sizeof *v);
}

static void jws(jparser *j) { ds_jread_ws(&j->r); }

/* At a '"': the decoded string into out (ds_jread.h). */
static int jstring(jparser *j, jv *out)
{
    ds_buf b;
    ds_buf_init(&b);
    if (ds_jread_string(&j->r, &b)) goto bad;
    size_t n = b.len;
    ds_buf_adds(&b, "");
    if (b.oom) goto bad;
    out->t = JV_STR;
    out->n = n;
    out->s = ds_buf_steal(&b);
    return 0;
bad:
    ds_buf_free(&b);
    return -1;
}

static int jvalue(jparser *j, jv *out);

static int jpush(jv *parent, jv *kid, jv *key)
{
    if (parent->nv == parent->cap) {
        size_t cap = parent->cap ? parent->cap * 2 : 8;
        jv *v = realloc(parent->v, cap * sizeof *v);
        if (!v) return -1;
        parent->v = v;
        if (key) {
            jv *k = realloc(parent->k, cap * sizeof *k);
            if (!k) return -1;
            parent->k = k;
        }
        parent->cap = cap;
    }
    parent->v[parent->nv] = *kid;
    if (key) parent->k[parent->nv] = *key;
    parent->nv++;
    return 0;
}

static int jcontainer(jparser *j, jv *out, int obj)
{
    ds_jread *r = &j->r;
    char close = obj ? '}' : ']';
    out->t = obj ? JV_OBJ : JV_ARR;
    r->i++;
    if (ds_jread_eat(r, close) == 0) return 0;
    for (;;) {
        jv key = {0}, kid = {0};
        jws(j);
        if (obj) {
            if (r->i >= r->n || r->s[r->i] != '"' || jstring(j, &key)) return -1;
            if (ds_jread_eat(r, ':')) { jv_free(&key); return -1; }
        }
        if (jvalue(j, &kid) || jpush(out, &kid, obj ? &key : NULL)) { jv_free(&kid); jv_free(&key); return -1; }
        if (ds_jread_eat(r, ',') == 0) continue;
        return ds_jread_eat(r, close);
    }
}

static int jvalue(jparser *j, jv *out)
{
    ds_jread *r = &j->r;
    memset(out, 0, sizeof *out);
    jws(j);
    if (r->i >= r->n || ++j->depth > JSON_MAX_DEPTH) return -1;
    size_t start = r->i;
    int rc = 0;
    char c = r->s[r->i];
    if (c == '{' || c == '[') rc = jcontainer(j, out, c == '{');
    else if (c == '"') rc = jstring(j, out);
    else if (ds_jread_word(r, "null")) out->t = JV_NULL;
    else if (ds_jread_word(r, "true") || ds_jread_word(r, "false")) out->t = JV_BOOL;
    else if (ds_jread_number(r)) out->t = JV_NUM;
    else rc = -1;
    j->depth--;
    out->raw = r->s + start;
    out->rawn = r->i - start;
    if (rc) jv_free(out);
    return rc;
}

static int jparse(const char *s, size_t n, jv *out)
{
    jparser j = {{s, 0, n}, 0};
    if (jvalue(&j, out)) return -1;
    jws(&j);
    if (j.r.i != j.r.n) { jv_free(out); return -1; }
    return 0;
}

/* The text a value shows in a cell: strings decoded, everything else as written. */
static void jcell(cli_table *t, const jv *v)
{
    if (v->t == JV_STR) cli_table_celln(t, v->s, v->n, CLI_NONE);
    else cli_table_celln(t, v->raw, v->rawn, v->t == JV_NULL ? CLI_DIM : CLI_NONE);
}

static const jv *jget(const jv *obj, const char *key, size_t n)
{
    for (size_t i = 0; obj->t == JV_OBJ && i < obj->nv; i++)
        if (obj->k[i].n == n && memcmp(obj->k[i].s, key, n) == 0) return &obj->v[i];
    return NULL;
}

static double jnum(const jv *v)
{
    if (v->t != JV_NUM) return NAN;
    char tmp[64];
    if (v->rawn >= sizeof tmp) return NAN;
    memcpy(tmp, v->raw, v->rawn);
    tmp[v->rawn] = '\0';
    return strtod(tmp, NULL);
}

static void note(ds_buf *b, const cli_term *t, const char *s)
{
    cli_paint(b, t, CLI_DIM, s);
    ds_buf_addc(b, '\n');
}

static int render_table(ds_buf *b, const cli_term *t, cli_table *tb)
{
    int rc = tb ? cli_table_render(tb, t, b) : -1;
    cli_table_free(tb);
    return rc;
}

/* The label of an extreme: the first point equal to it, as written. */
static void extreme(ds_buf *b, const jv *arr, double x)
{
    for (size_t i = 0; i < arr->nv; i++)
        if (jnum(&arr->v[i]) == x) { ds_buf_add(b, arr->v[i].raw, arr->v[i].rawn); return; }
    ds_buf_adds(b, "-");
}

static int render_series(ds_buf *b, const cli_term *t, const jv *v)
{
    const jv *x = jget(v, "x", 1), *series = jget(v, "series", 6);
    if (!x || x->t != JV_ARR || !series || series->t != JV_OBJ) return -1;
    for (size_t i = 0; i < series->nv; i++)
        if (series->v[i].t != JV_ARR) return -1;
    ds_buf tmp;
    ds_buf_init(&tmp);
    if (x->nv == 0) {
        note(b, t, "(no points)");
        return 0;
    }
    /* x range: first and last point, cleaned like any cell. */
    ds_buf_adds(b, "x: ");
    const jv *first = &x->v[0], *last = &x->v[x->nv - 1];
    if (first->t == JV_STR) cli_clean(b, first->s, first->n); else cli_clean(b, first->raw, first->rawn);
    if (x->nv > 1) {
        ds_buf_adds(b, " \xE2\x80\xA6 ");
        if (last->t == JV_STR) cli_clean(b, last->s, last->n); else cli_clean(b, last->raw, last->rawn);
    }
    ds_buf_printf(&tmp, "  (%zu point%s)", x->nv, x->nv == 1 ? "" : "s");
    ds_buf_adds(&tmp, "");
    cli_paint(b, t, CLI_DIM, tmp.p ? tmp.p : "");
    ds_buf_addc(b, '\n');
    size_t namew = 0;
    for (size_t i = 0; i < series->nv; i++) {
        ds_buf_reset(&tmp);
        size_t w = cli_clean(&tmp, series->k[i].s, series->k[i].n);
        if (w > namew) namew = w;
    }
    if (namew > SERIES_NAME_WIDTH) namew = SERIES_NAME_WIDTH;
    /* Room for the chart: the width minus the name and about 24 for the labels. */
    size_t room = t->width > (int)namew + 34 ? (size_t)t->width - namew - 26 : 8;
    for (size_t i = 0; i < series->nv; i++) {
        const jv *arr = &series->v[i];
        double *vals = calloc(arr->nv ? arr->nv : 1, sizeof *vals);
        if (!vals) { ds_buf_free(&tmp); return -1; }
        for (size_t k = 0; k < arr->nv; k++) vals[k] = jnum(&arr->v[k]);
        ds_buf_reset(&tmp);
        size_t w = cli_clean(&tmp, series->k[i].s, series->k[i].n);
        if (w > namew) {   /* cut long names to the column */
            tmp.len = ds_utf8_skip(tmp.p, tmp.len, namew - 1);
            ds_buf_adds(&tmp, "\xE2\x80\xA6");
            w = namew;
        }
        ds_buf_adds(&tmp, "");
        cli_paint(b, t, CLI_BOLD, tmp.p ? tmp.p : "");
        cli_pad(b, namew - w + 2);
        double mn, mx;
        size_t drawn = cli_sparkline(b, vals, arr->nv, room, &mn, &mx);
        free(vals);
        if (isnan(mn)) { ds_buf_addc(b, '\n'); continue; }
        size_t col = x->nv < room ? x->nv : room;   /* every series is as long as x */
        cli_pad(b, col > drawn ? 2 + (col - drawn) : 2);
        ds_buf_reset(&tmp);
        ds_buf_adds(&tmp, "min ");
        extreme(&tmp, arr, mn);
        ds_buf_adds(&tmp, "  max ");
        extreme(&tmp, arr, mx);
        ds_buf_adds(&tmp, "");
        cli_paint(b, t, CLI_DIM, tmp.p ? tmp.p : "");
        ds_buf_addc(b, '\n');
    }
    int oom = tmp.oom;
    ds_buf_free(&tmp);
    return oom ? -1 : 0;
}

static int render_shape(ds_buf *b, const cli_term *t, ds_shape shape, const jv *v)
{
    switch (shape) {
    case DS_SHAPE_SCALAR:
        if (v->t == JV_ARR || v->t == JV_OBJ) return -1;
        if (v->t == JV_STR) cli_clean(b, v->s, v->n);
        else {
            ds_buf tmp;
            ds_buf_init(&tmp);
            ds_buf_add(&tmp, v->raw, v->rawn);
            ds_buf_adds(&tmp, "");
            cli_paint(b, t, v->t == JV_NULL ? CLI_DIM : CLI_NONE, tmp.p ? tmp.p : "");
            ds_buf_free(&tmp);
        }
        ds_buf_addc(b, '\n');
        return 0;
    case DS_SHAPE_ROW:
    case DS_SHAPE_MAP: {
        if (v->t == JV_NULL && shape == DS_SHAPE_ROW) { note(b, t, "(no row)"); return 0; }
        if (v->t != JV_OBJ) return -1;
        if (v->nv == 0) { note(b, t, "(empty)"); return 0; }
        const char *hdr[2] = {shape == DS_SHAPE_ROW ? "column" : "key", "value"};
        cli_table *tb = cli_table_new(2, hdr);
        if (!tb) return -1;
        cli_table_align(tb, 0, CLI_LEFT);
        for (size_t i = 0; i < v->nv; i++) {
            cli_table_celln(tb, v->k[i].s, v->k[i].n, shape == DS_SHAPE_ROW ? CLI_BOLD : CLI_NONE);
            jcell(tb, &v->v[i]);
        }
        return render_table(b, t, tb);
    }
    case DS_SHAPE_ROWS: {
        if (v->t != JV_ARR) return -1;
        if (v->nv == 0) { note(b, t, "(no rows)"); return 0; }
        const jv *r0 = &v->v[0];
        if (r0->t != JV_OBJ || r0->nv == 0) return -1;
        const char **hdr = calloc(r0->nv, sizeof *hdr);
        if (!hdr) return -1;
        ds_buf names;
        ds_buf_init(&names);
        /* Headers are the first row's names; cleaning happens in cli_table_new. */
        size_t *offs = calloc(r0->nv, sizeof *offs);
        for (size_t j = 0; offs && j < r0->nv; j++) {
            offs[j] = names.len;
            cli_clean(&names, r0->k[j].s, r0->k[j].n);
            ds_buf_addc(&names, '\0');
        }
        cli_table *tb = NULL;
        if (offs && !names.oom) {
            for (size_t j = 0; j < r0->nv; j++) hdr[j] = names.p + offs[j];
            tb = cli_table_new(r0->nv, hdr);
        }
        for (size_t i = 0; tb && i < v->nv; i++) {
            const jv *row = &v->v[i];
            if (row->t != JV_OBJ) { cli_table_free(tb); tb = NULL; break; }
            for (size_t j = 0; j < r0->nv; j++) {
                const jv *cv = jget(row, r0->k[j].s, r0->k[j].n);
                if (cv) jcell(tb, cv); else cli_table_cell(tb, "", CLI_NONE);
            }
        }
        free(offs);
        free(hdr);
        ds_buf_free(&names);
        if (render_table(b, t, tb)) return -1;
        char cnt[48];
        snprintf(cnt, sizeof cnt, "(%zu row%s)", v->nv, v->nv == 1 ? "" : "s");
        note(b, t, cnt);
        return 0;
    }
    case DS_SHAPE_SERIES:
        return render_series(b, t, v);
    }
    return -1;
}

int cli_render_value(ds_buf *b, const cli_term *t, ds_shape shape, const char *json, size_t len)
{
    jv v;
    if (jparse(json, len, &v)) return -1;
    ds_buf out;
    ds_buf_init(&out);
    int rc = render_shape(&out, t, shape, &v);
    jv_free(&v);
    if (rc == 0 && !out.oom) ds_buf_add(b, out.p ? out.p : "", out.len);
    else rc = -1;
    ds_buf_free(&out);
    return rc;
}

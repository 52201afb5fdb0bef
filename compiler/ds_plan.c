/*
 * ds_plan.c — the plan's row codec: what an engine stores in dashspec_plan's
 * text columns and how it reads them back (ds_plan_row_*, ds_plan_decode_*
 * in ds_compiler.h). ds_plan_store / ds_plan_load themselves are engine
 * operations (engine/engine.h; SQLite: engine/sqlite/sqlite_plan.c).
 *
 * The JSON columns are written and read here, not with cJSON: a params value
 * must come back as the very same ds_param, and cJSON keeps numbers only as
 * doubles. Encoding of one params entry:
 *   INT   42, -7              (integer text, exact over int64)
 *   REAL  0.5, 3.0, 1e+20     (shortest text that round-trips, always with
 *                              '.' or an exponent so it never reads as INT)
 *         {"real":"inf"}, {"real":"-inf"}, {"real":"nan"} (non-finite)
 *   TEXT  "x"                 (JSON string; bytes other than '"', '\\' and
 *                              controls are written as they are)
 *   BOOL  true, false
 * tags is a JSON array of strings; options is {"x":..,"y":[..],"series_by":..,
 * "fill":".."} with absent members omitted and fill kept as its JSON text in a
 * string, so "0" and "0.0" stay distinct.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ds_compiler.h"
#include "ds_jread.h"
#include "ds_vec.h"

/* ---------------------------------------------------------------- JSON out */

/* Not ds_json_string: that one repairs invalid UTF-8 (right for cache values),
 * while the plan must give back exactly the bytes it was given. */
static void jstr(ds_buf *b, const char *s)
{
    ds_buf_addc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': ds_buf_adds(b, "\\\""); break;
        case '\\': ds_buf_adds(b, "\\\\"); break;
        case '\n': ds_buf_adds(b, "\\n"); break;
        case '\t': ds_buf_adds(b, "\\t"); break;
        case '\r': ds_buf_adds(b, "\\r"); break;
        default:
            if (*p < 0x20 || *p == 0x7f) ds_buf_printf(b, "\\u%04x", *p);
            else ds_buf_addc(b, (char)*p);
        }
    }
    ds_buf_addc(b, '"');
}

/* The shortest %.Ng text that reads back as the same double, marked as a
 * real ('.0' added when it would look like an integer). */
static void jreal(ds_buf *b, double v)
{
    if (isnan(v)) { ds_buf_adds(b, "{\"real\":\"nan\"}"); return; }
    if (isinf(v)) { ds_buf_adds(b, v > 0 ? "{\"real\":\"inf\"}" : "{\"real\":\"-inf\"}"); return; }
    char t[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(t, sizeof t, "%.*g", prec, v);
        if (strtod(t, NULL) == v) break;
    }
    ds_buf_adds(b, t);
    if (!strpbrk(t, ".eEn")) ds_buf_adds(b, ".0");
}

static char *params_json(const ds_item *it)
{
    ds_buf b;
    ds_buf_init(&b);
    ds_buf_addc(&b, '{');
    for (size_t i = 0; i < it->nparams; i++) {
        const ds_param *p = &it->params[i];
        if (i) ds_buf_addc(&b, ',');
        jstr(&b, p->name);
        ds_buf_addc(&b, ':');
        switch (p->type) {
        case DS_PARAM_INT: ds_buf_printf(&b, "%lld", (long long)p->i); break;
        case DS_PARAM_REAL: jreal(&b, p->r); break;
        case DS_PARAM_TEXT: jstr(&b, p->s ? p->s : ""); break;
        case DS_PARAM_BOOL: ds_buf_adds(&b, p->i ? "true" : "false"); break;
        }
    }
    ds_buf_addc(&b, '}');
    return ds_buf_steal(&b);
}

static char *tags_json(const ds_item *it)
{
    ds_buf b;
    ds_buf_init(&b);
    ds_buf_addc(&b, '[');
    for (size_t i = 0; i < it->ntags; i++) {
        if (i) ds_buf_addc(&b, ',');
        jstr(&b, it->tags[i]);
    }
    ds_buf_addc(&b, ']');
    return ds_buf_steal(&b);
}

static char *options_json(const ds_item *it)
{
    ds_buf b;
    ds_buf_init(&b);
    int n = 0;
    ds_buf_addc(&b, '{');
    if (it->x) { ds_buf_adds(&b, "\"x\":"); jstr(&b, it->x); n++; }
    if (it->ny) {
        ds_buf_adds(&b, n++ ? ",\"y\":[" : "\"y\":[");
        for (size_t i = 0; i < it->ny; i++) {
            if (i) ds_buf_addc(&b, ',');
            jstr(&b, it->y[i]);
        }
        ds_buf_addc(&b, ']');
    }
    if (it->series_by) { ds_buf_adds(&b, n++ ? ",\"series_by\":" : "\"series_by\":"); jstr(&b, it->series_by); }
    if (it->fill) { ds_buf_adds(&b, n++ ? ",\"fill\":" : "\"fill\":"); jstr(&b, it->fill); }
    if (it->refresh_key) { ds_buf_adds(&b, n++ ? ",\"refresh_key\":" : "\"refresh_key\":"); jstr(&b, it->refresh_key); }
    if (it->inc_window) {   /* "window range full_every" in seconds, as a string like the others */
        char inc[80];
        snprintf(inc, sizeof inc, "%lld %lld %lld", (long long)it->inc_window, (long long)it->inc_range,
                 (long long)it->inc_full_every);
        ds_buf_adds(&b, n++ ? ",\"incremental\":" : "\"incremental\":");
        jstr(&b, inc);
    }
    ds_buf_addc(&b, '}');
    return ds_buf_steal(&b);
}

/* ---------------------------------------------------------------- JSON in */

/* The plan's JSON columns are read with the one JSON reader (ds_jread.h). */
typedef ds_jread jp;

static void ws(jp *p) { ds_jread_ws(p); }
static int eat(jp *p, char c) { return ds_jread_eat(p, c); }
static int word(jp *p, const char *w) { return ds_jread_word(p, w); }
static char peek(const jp *p) { return p->i < p->n ? p->s[p->i] : '\0'; }
static jp reader(const char *s) { return (jp){s, 0, strlen(s)}; }

/* A JSON string at p into *out (malloc'd). -1 when malformed, when it
 * holds U+0000 (C strings cannot) or OOM. */
static int jstring(jp *p, char **out)
{
    ds_buf b;
    *out = NULL;
    ds_buf_init(&b);
    if (ds_jread_string(p, &b) || (b.len && memchr(b.p, 0, b.len))) goto bad;
    ds_buf_adds(&b, "");
    if (b.oom) goto bad;
    *out = ds_buf_steal(&b);
    return 0;
bad:
    ds_buf_free(&b);
    return -1;
}

/* One params value into pa (name already set). */
static int jparam(jp *p, ds_param *pa)
{
    ws(p);
    char c = peek(p);
    if (c == '"') { pa->type = DS_PARAM_TEXT; return jstring(p, &pa->s); }
    if (word(p, "true")) { pa->type = DS_PARAM_BOOL; pa->i = 1; return 0; }
    if (word(p, "false")) { pa->type = DS_PARAM_BOOL; pa->i = 0; return 0; }
    if (c == '{') {
        char *k = NULL, *v = NULL;
        int rc = -1;
        p->i++;
        if (jstring(p, &k) || strcmp(k, "real") || eat(p, ':') || jstring(p, &v) || eat(p, '}')) goto out;
        pa->type = DS_PARAM_REAL;
        if (strcmp(v, "inf") == 0) pa->r = INFINITY;
        else if (strcmp(v, "-inf") == 0) pa->r = -INFINITY;
        else if (strcmp(v, "nan") == 0) pa->r = NAN;
        else goto out;
        rc = 0;
    out:
        free(k);
        free(v);
        return rc;
    }
    size_t start = p->i, n = ds_jread_number(p);
    if (n == 0 || n > 40) return -1;
    char t[48];
    memcpy(t, p->s + start, n);
    t[n] = '\0';
    char *end;
    errno = 0;
    if (strpbrk(t, ".eE")) {
        /* ERANGE on a subnormal (5e-324) still gives the exact value. */
        pa->type = DS_PARAM_REAL;
        pa->r = strtod(t, &end);
        errno = 0;
    } else {
        /* Integers by their text: a double would round above 2^53. */
        pa->type = DS_PARAM_INT;
        pa->i = strtoll(t, &end, 10);
    }
    return *end || errno ? -1 : 0;
}

static int parse_params(const char *s, ds_item *it)
{
    jp p = reader(s);
    size_t cap = 0;
    if (eat(&p, '{')) return -1;
    ws(&p);
    if (peek(&p) == '}') { p.i++; goto done; }
    for (;;) {
        ds_param *v = ds_vec_grow(it->params, &cap, it->nparams, sizeof *v);
        if (!v) return -1;
        it->params = v;
        ds_param *pa = &it->params[it->nparams];
        memset(pa, 0, sizeof *pa);
        it->nparams++;          /* counted now so ds_item_free frees a half-read entry */
        if (jstring(&p, &pa->name) || eat(&p, ':') || jparam(&p, pa)) return -1;
        ws(&p);
        if (peek(&p) == ',') { p.i++; continue; }
        if (eat(&p, '}')) return -1;
        break;
    }
done:
    ws(&p);
    return p.i < p.n ? -1 : 0;
}

/* A JSON array of strings into *v / *n (appending). */
static int jstrings(jp *p, char ***v, size_t *n)
{
    size_t cap = *n;        /* *v holds exactly *n: the first growth reallocates */
    if (eat(p, '[')) return -1;
    ws(p);
    if (peek(p) == ']') { p->i++; return 0; }
    for (;;) {
        char **nv = ds_vec_grow(*v, &cap, *n, sizeof *nv);
        if (!nv) return -1;
        *v = nv;
        if (jstring(p, &nv[*n])) return -1;
        (*n)++;
        ws(p);
        if (peek(p) == ',') { p->i++; continue; }
        return eat(p, ']');
    }
}

static int parse_tags(const char *s, ds_item *it)
{
    jp p = reader(s);
    if (jstrings(&p, &it->tags, &it->ntags)) return -1;
    ws(&p);
    return p.i < p.n ? -1 : 0;
}

static int parse_options(const char *s, ds_item *it)
{
    jp p = reader(s);
    char *k = NULL, *inc = NULL;
    int rc = -1;
    if (eat(&p, '{')) return -1;
    ws(&p);
    if (peek(&p) == '}') { p.i++; goto done; }
    for (;;) {
        char **slot = NULL;
        if (jstring(&p, &k) || eat(&p, ':')) goto out;
        if (strcmp(k, "y") == 0) {
            if (it->ny || jstrings(&p, &it->y, &it->ny)) goto out;
        } else {
            if (strcmp(k, "x") == 0) slot = &it->x;
            else if (strcmp(k, "series_by") == 0) slot = &it->series_by;
            else if (strcmp(k, "fill") == 0) slot = &it->fill;
            else if (strcmp(k, "refresh_key") == 0) slot = &it->refresh_key;
            else if (strcmp(k, "incremental") == 0) slot = &inc;
            else goto out;
            if (*slot || jstring(&p, slot)) goto out;
            if (inc && (sscanf(inc, "%" SCNd64 " %" SCNd64 " %" SCNd64, &it->inc_window, &it->inc_range,
                               &it->inc_full_every) != 3 || it->inc_window <= 0)) goto out;
        }
        free(k);
        k = NULL;
        ws(&p);
        if (peek(&p) == ',') { p.i++; continue; }
        if (eat(&p, '}')) goto out;
        break;
    }
done:
    ws(&p);
    rc = p.i < p.n ? -1 : 0;
out:
    free(k);
    free(inc);
    return rc;
}

/* ---------------------------------------------------------------- rows */

void ds_plan_row_free(ds_plan_row *r)
{
    free(r->params); free(r->tags); free(r->options); free(r->source);
    memset(r, 0, sizeof *r);
}

int ds_plan_row_make(const ds_item *it, ds_plan_row *r)
{
    r->params = params_json(it);
    r->tags = tags_json(it);
    r->options = options_json(it);
    r->source = ds_asprintf("%s:%d", it->file ? it->file : "", it->line);
    return r->params && r->tags && r->options && r->source ? 0 : -1;
}

int ds_plan_decode_head(ds_item *it, const char *kind, const char *shape, const char **why)
{
    if (kind && strcmp(kind, "chart") == 0) it->kind = DS_KIND_CHART;
    else if (kind && strcmp(kind, "metric") == 0) it->kind = DS_KIND_METRIC;
    else { *why = "unknown kind"; return -1; }
    if (!shape || ds_shape_parse(shape, &it->shape)) { *why = "unknown shape"; return -1; }
    return 0;
}

int ds_plan_decode_params(ds_item *it, const char *params, const char **why)
{
    if (parse_params(params ? params : "{}", it)) { *why = "bad params JSON"; return -1; }
    return 0;
}

int ds_plan_decode_lists(ds_item *it, const char *tags, const char *options, const char **why)
{
    if (parse_tags(tags ? tags : "[]", it)) { *why = "bad tags JSON"; return -1; }
    if (parse_options(options ? options : "{}", it)) { *why = "bad options JSON"; return -1; }
    return 0;
}

int ds_plan_decode_source(ds_item *it, const char *src, const char **why)
{
    if (!src) src = "";
    /* "file:line": the line follows the last colon; a file name may hold colons. */
    const char *colon = strrchr(src, ':');
    char *end = NULL;
    long line = colon ? strtol(colon + 1, &end, 10) : 0;
    if (colon && end && !*end && end != colon + 1 && line >= 0 && line <= 0x7fffffff) {
        it->file = ds_strndup(src, (size_t)(colon - src));
        it->line = (int)line;
    } else {
        it->file = ds_strdup(src);
    }
    if (!it->file) { *why = "out of memory"; return -1; }
    return 0;
}

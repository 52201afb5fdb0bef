/*
 * ds_incr.c — incremental series (docs/spec-reference.md, "incremental"):
 * the query runs with :since = now − window and its points replace the
 * cached points with x ≥ since; older cached points stay, points older
 * than now − range are dropped, then fill is applied. A full compute (on
 * first use, spec change, --force, every full_every) runs with :since NULL
 * and goes through the same cut, so both give the same bytes.
 *
 * Engine-neutral: it reads the cached JSON value (ds_item_state.value_json,
 * from the engine's state_load) and the query's value (the engine's
 * exec_item with it->since set), both as the shaper writes a series:
 * {"x":[...],"series":{"name":[...],...}}. The merge rebuilds the points
 * (x, series, value) in the order a query ordered by x would give them and
 * pivots them again as the shaper does: x and series names in order of
 * first appearance, JSON texts copied as they are. With series_by, the
 * cached series keep their order and new ones follow; when points of the
 * cached value fall out of the range, the order among the others is not
 * known from the value, so that step computes in full (once per bucket).
 */
#include <stdlib.h>
#include <string.h>
#include "ds_runtime.h"

typedef struct span { const char *p; size_t n; } span;

/* A parsed series value: nx x texts, nn names, v[name * nx + x]. */
typedef struct sval { span *x, *names, *v; size_t nx, nn; } sval;

static void sval_free(sval *s)
{
    free(s->x); free(s->names); free(s->v);
    memset(s, 0, sizeof *s);
}

static size_t ws(const char *j, size_t i, size_t n)
{
    while (i < n && (j[i] == ' ' || j[i] == '\n' || j[i] == '\t' || j[i] == '\r')) i++;
    return i;
}

/* The end of the JSON value at i (0 when malformed). */
static size_t skip(const char *j, size_t i, size_t n, int depth)
{
    if (i >= n || depth > 64) return 0;
    if (j[i] == '"') {
        for (i++; i < n; i++) {
            if (j[i] == '\\') i++;
            else if (j[i] == '"') return i + 1;
        }
        return 0;
    }
    if (j[i] == '[' || j[i] == '{') {
        char close = j[i] == '[' ? ']' : '}';
        i = ws(j, i + 1, n);
        if (i < n && j[i] == close) return i + 1;
        for (;;) {
            if (!(i = skip(j, i, n, depth + 1))) return 0;
            i = ws(j, i, n);
            if (close == '}') {
                if (i >= n || j[i] != ':' || !(i = skip(j, ws(j, i + 1, n), n, depth + 1))) return 0;
                i = ws(j, i, n);
            }
            if (i < n && j[i] == ',') { i = ws(j, i + 1, n); continue; }
            return i < n && j[i] == close ? i + 1 : 0;
        }
    }
    size_t s = i;
    while (i < n && !strchr(",]}: \n\t\r", j[i])) i++;
    return i > s ? i : 0;
}

static int push(span **v, size_t *n, size_t *cap, span s)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        span *w = realloc(*v, c * sizeof *w);
        if (!w) return -1;
        *v = w;
        *cap = c;
    }
    (*v)[(*n)++] = s;
    return 0;
}

/* Items of the array at i into out; returns the end, 0 when malformed or OOM. */
static size_t array(const char *j, size_t i, size_t n, span **out, size_t *cnt, size_t *cap)
{
    if (i >= n || j[i] != '[') return 0;
    i = ws(j, i + 1, n);
    if (i < n && j[i] == ']') return i + 1;
    for (;;) {
        size_t e = skip(j, i, n, 0);
        if (!e || push(out, cnt, cap, (span){j + i, e - i})) return 0;
        i = ws(j, e, n);
        if (i < n && j[i] == ',') { i = ws(j, i + 1, n); continue; }
        return i < n && j[i] == ']' ? i + 1 : 0;
    }
}

/* Parses the shaper's series value. 0, or -1 (malformed, OOM). */
static int parse(const char *j, size_t n, sval *s)
{
    size_t xcap = 0, ncap = 0, vcap = 0;
    memset(s, 0, sizeof *s);
    size_t i = ws(j, 0, n);
    if (n - i < 6 || strncmp(j + i, "{\"x\":", 5) != 0) return -1;
    if (!(i = array(j, ws(j, i + 5, n), n, &s->x, &s->nx, &xcap))) goto bad;
    i = ws(j, i, n);
    if (n - i < 11 || strncmp(j + i, ",\"series\":{", 11) != 0) goto bad;
    i = ws(j, i + 11, n);
    if (i < n && j[i] == '}') i++;
    else for (;;) {
        size_t e = skip(j, i, n, 0);
        if (!e || j[i] != '"' || push(&s->names, &s->nn, &ncap, (span){j + i, e - i})) goto bad;
        i = ws(j, e, n);
        if (i >= n || j[i] != ':') goto bad;
        size_t got = (s->nn - 1) * s->nx;
        if (!(i = array(j, ws(j, i + 1, n), n, &s->v, &got, &vcap)) || got != s->nn * s->nx) goto bad;
        i = ws(j, i, n);
        if (i < n && j[i] == ',') { i = ws(j, i + 1, n); continue; }
        if (i >= n || j[i] != '}') goto bad;
        i++;
        break;
    }
    i = ws(j, i, n);
    if (i >= n || j[i] != '}' || ws(j, i + 1, n) != n) goto bad;
    return 0;
bad:
    sval_free(s);
    return -1;
}

static int same(span a, span b) { return a.n == b.n && memcmp(a.p, b.p, a.n) == 0; }

/* An x value as a time: a JSON string "YYYY-MM-DD", "... HH:MM" or
 * "... HH:MM:SS" ('T' allowed, a Z, ±HH:MM or ±HH suffix converted: ±HH is
 * how PostgreSQL prints a timestamptz, "2026-02-12 10:00:00+00"). 0, or -1. */
static int x_time(span x, int64_t *t)
{
    char b[48];
    if (x.n < 12 || x.n > 40 || x.p[0] != '"' || x.p[x.n - 1] != '"' || memchr(x.p, '\\', x.n)) return -1;
    size_t n = x.n - 2;
    memcpy(b, x.p + 1, n);
    b[n] = '\0';
    if (n == 10) strcpy(b + 10, " 00:00:00");
    else if (n == 16) strcpy(b + 16, ":00");
    else if (n == 22 && (b[19] == '+' || b[19] == '-')) strcpy(b + 22, ":00");
    return ds_time_parse(b, t);
}

/* The merged points, pivoted again: x and names in order of first
 * appearance, pt[k] = (x index, name index, value). */
typedef struct pt { size_t xi, ni; span v; } pt;
typedef struct merged {
    span *x, *names; size_t nx, nn, xcap, ncap;
    pt *p; size_t np, pcap;
} merged;

static long find(const span *v, size_t n, span s)
{
    for (size_t i = n; i-- > 0;) if (same(v[i], s)) return (long)i;
    return -1;
}

static int add_point(merged *M, span x, span name, span v, int pivot)
{
    long xi = pivot ? find(M->x, M->nx, x) : -1, ni = find(M->names, M->nn, name);
    if (xi < 0) { if (push(&M->x, &M->nx, &M->xcap, x)) return -1; xi = (long)M->nx - 1; }
    if (ni < 0) { if (push(&M->names, &M->nn, &M->ncap, name)) return -1; ni = (long)M->nn - 1; }
    if (M->np == M->pcap) {
        size_t c = M->pcap ? M->pcap * 2 : 64;
        pt *w = realloc(M->p, c * sizeof *w);
        if (!w) return -1;
        M->p = w;
        M->pcap = c;
    }
    M->p[M->np++] = (pt){(size_t)xi, (size_t)ni, v};
    return 0;
}

/* Adds the points of s whose x time t has lo <= t < hi. -1 OOM, -2 with
 * *bad the x that is no ISO time. */
static int add_value(merged *M, const sval *s, const ds_item *it, int64_t lo, int64_t hi, span *bad)
{
    int pivot = it->series_by != NULL;
    span fill = {it->fill ? it->fill : "null", strlen(it->fill ? it->fill : "null")};
    for (size_t xi = 0; xi < s->nx; xi++) {
        int64_t t;
        if (x_time(s->x[xi], &t)) { *bad = s->x[xi]; return -2; }
        if (t < lo || t >= hi) continue;
        if (!pivot) {
            /* One row per x index: every y column, in order. */
            if (push(&M->x, &M->nx, &M->xcap, s->x[xi])) return -1;
            for (size_t ni = 0; ni < s->nn; ni++) {
                if (M->np == M->pcap) {
                    size_t c = M->pcap ? M->pcap * 2 : 64;
                    pt *w = realloc(M->p, c * sizeof *w);
                    if (!w) return -1;
                    M->p = w;
                    M->pcap = c;
                }
                M->p[M->np++] = (pt){M->nx - 1, ni, s->v[ni * s->nx + xi]};
            }
            continue;
        }
        /* Every x of a value came from a row, even when all its points
         * equal fill (a real 0 under fill: 0): the x stays. */
        if (find(M->x, M->nx, s->x[xi]) < 0 && push(&M->x, &M->nx, &M->xcap, s->x[xi])) return -1;
        for (size_t ni = 0; ni < s->nn; ni++) {
            span v = s->v[ni * s->nx + xi];
            if (same(v, fill)) continue;
            if (add_point(M, s->x[xi], s->names[ni], v, 1)) return -1;
        }
    }
    return 0;
}

static char *render(const merged *M, const ds_item *it, size_t *len)
{
    span *m = calloc(M->nx * M->nn + 1, sizeof *m);
    if (!m) return NULL;
    for (size_t k = 0; k < M->np; k++) m[M->p[k].ni * M->nx + M->p[k].xi] = M->p[k].v;
    const char *fill = it->fill ? it->fill : "null";
    ds_buf b;
    ds_buf_init(&b);
    ds_buf_adds(&b, "{\"x\":[");
    for (size_t i = 0; i < M->nx; i++) {
        if (i) ds_buf_addc(&b, ',');
        ds_buf_add(&b, M->x[i].p, M->x[i].n);
    }
    ds_buf_adds(&b, "],\"series\":{");
    for (size_t a = 0; a < M->nn; a++) {
        if (a) ds_buf_addc(&b, ',');
        ds_buf_add(&b, M->names[a].p, M->names[a].n);
        ds_buf_adds(&b, ":[");
        for (size_t i = 0; i < M->nx; i++) {
            if (i) ds_buf_addc(&b, ',');
            span v = m[a * M->nx + i];
            if (v.p) ds_buf_add(&b, v.p, v.n);
            else ds_buf_adds(&b, fill);
        }
        ds_buf_addc(&b, ']');
    }
    ds_buf_adds(&b, "}}");
    free(m);
    if (b.oom) { ds_buf_free(&b); return NULL; }
    *len = b.len;
    return ds_buf_steal(&b);
}

static void merged_free(merged *M)
{
    free(M->x); free(M->names); free(M->p);
    memset(M, 0, sizeof *M);
}

/* With series_by: the cached series that keep their place, in the cached
 * order (a full compute's order of first appearance, which rows appended
 * later cannot change), pushed into M->names; the others take the fresh
 * value's order after them. A series keeps its place when it has a point
 * before since. A point equal to fill may be a real one (a sum of 0 under
 * fill: 0) or a filled gap, so a series whose points before since all
 * equal fill is known to have one only when it is missing from the fresh
 * value (it exists, so its rows are older); in the cached order every
 * series with a point before since precedes those without, so everything
 * up to the last series known to have one keeps its place. The unknown
 * ones after it would come next in either case only if the fresh value
 * lists them first, in the same order: otherwise -3 (compute in full). */
static int kept_names(const ds_item *it, const sval *o, const sval *f, int64_t since, merged *M)
{
    span fill = {it->fill ? it->fill : "null", strlen(it->fill ? it->fill : "null")};
    size_t nkeep = 0, pre = 0;
    for (size_t k = 0; k < o->nx; k++) {
        int64_t t;
        if (!x_time(o->x[k], &t) && t < since) pre++;
    }
    if (!pre) return 0;                 /* nothing cached before since: all from fresh */
    for (size_t i = 0; i < o->nn; i++) {
        int real = 0;
        for (size_t k = 0; k < o->nx && !real; k++) {
            int64_t t;
            real = !x_time(o->x[k], &t) && t < since && !same(o->v[i * o->nx + k], fill);
        }
        if (real || find(f->names, f->nn, o->names[i]) < 0) nkeep = i + 1;
    }
    for (size_t i = 0; i < nkeep; i++)
        if (push(&M->names, &M->nn, &M->ncap, o->names[i])) return -1;
    /* The unknown ones: o->names[nkeep..], all in the fresh value. */
    size_t r = 0;
    for (size_t i = nkeep; i < o->nn; i++, r++) {
        while (r < f->nn && find(o->names, nkeep, f->names[r]) >= 0) r++;
        if (r >= f->nn || !same(f->names[r], o->names[i])) return -3;
    }
    return 0;
}

/* Merges: old's points with cut <= x < since, then fresh's with x >= since
 * and x >= cut. 0 with *out; -1 OOM; -2 with *err (fresh has a non-ISO x
 * or is no series); -3 old cannot be merged (compute in full instead). */
static int merge(const ds_item *it, const char *old, size_t oldlen, const char *fresh, size_t freshlen,
                 int64_t since, int64_t cut, char **out, size_t *outlen, int64_t *points, char **err)
{
    sval o, f;
    merged M;
    span bad = {0, 0};
    int rc = -1;
    memset(&o, 0, sizeof o);
    memset(&M, 0, sizeof M);
    if (parse(fresh, freshlen, &f)) { *err = ds_strdup("incremental: the value is not a series"); return -2; }
    if (old && parse(old, oldlen, &o)) { sval_free(&f); return -3; }
    if (!it->series_by) {
        if (old && (o.nn != f.nn)) { rc = -3; goto out; }
        for (size_t i = 0; old && i < o.nn; i++) if (!same(o.names[i], f.names[i])) { rc = -3; goto out; }
        for (size_t i = 0; i < f.nn; i++) if (push(&M.names, &M.nn, &M.ncap, f.names[i])) goto out;
    }
    if (old && it->series_by) {
        /* Series keep the cached order (a full compute's first appearance,
         * which later rows cannot change) unless points leave the range:
         * then the order among the rest is not in the value: in full. */
        for (size_t i = 0; i < o.nx; i++) {
            int64_t t;
            if (x_time(o.x[i], &t) || t < cut) { rc = -3; goto out; }
        }
        if ((rc = kept_names(it, &o, &f, since, &M)) != 0) goto out;
        rc = -1;
    }
    if (old) {
        int r = add_value(&M, &o, it, cut, since, &bad);
        if (r) { rc = r == -2 ? -3 : -1; goto out; }
    }
    /* Every series of the fresh value has a row in it, even one whose
     * points all equal fill: after the kept ones, in the fresh order. */
    for (size_t i = 0; it->series_by && i < f.nn; i++)
        if (find(M.names, M.nn, f.names[i]) < 0 && push(&M.names, &M.nn, &M.ncap, f.names[i])) goto out;
    int r = add_value(&M, &f, it, since > cut ? since : cut, INT64_MAX, &bad);
    if (r == -2) {
        *err = ds_asprintf("incremental: x value %.*s is not an ISO timestamp (x must be a time bucket "
                           "such as '2026-02-12 10:00:00')", (int)(bad.n > 60 ? 60 : bad.n), bad.p);
        rc = -2;
        goto out;
    }
    if (r) goto out;
    if (!(*out = render(&M, it, outlen))) goto out;
    *points = it->series_by ? (int64_t)M.np : (int64_t)M.nx;
    rc = 0;
out:
    if (rc == -1 && !*err) *err = ds_strdup("out of memory");
    merged_free(&M);
    sval_free(&o);
    sval_free(&f);
    return rc;
}

/* Runs it with :since bound (0: NULL) and merges. -1 with *err, 0 ok, 1 when
 * old could not be merged. */
static int run_once(ds_exec *x, const ds_item *it, const ds_item_state *st, int full, int64_t now,
                    ds_result *out, char **err)
{
    ds_item k = *it;
    int64_t cut = now - it->inc_range, since = now - it->inc_window;
    k.since = full ? 0 : since;
    if (ds_exec_item(x, &k, now, out, err)) return -1;
    char *v = NULL;
    size_t len = 0;
    int64_t points = 0;
    int r = merge(it, full ? NULL : st->value_json, full ? 0 : st->value_len, out->json, out->len,
                  full ? INT64_MIN : since, cut, &v, &len, &points, err);
    if (r == -3) { ds_result_free(out); return 1; }
    if (r) { ds_result_free(out); return -1; }
    if ((int64_t)len > it->max_bytes) {
        free(v);
        ds_result_free(out);
        *err = ds_asprintf("incremental: the value is %zu bytes, over max_bytes (%lld)", len, (long long)it->max_bytes);
        return -1;
    }
    free(out->json);
    out->json = v;
    out->len = len;
    out->full = full;
    (void)points;
    return 0;
}

/* With series_by, a cached value with points older than cut cannot be
 * merged into (merge's -3): known before the query runs, so that step runs
 * one query (in full), not two. 1 when so, or when the value is unreadable. */
static int leaves_range(const ds_item *it, const ds_item_state *st, int64_t cut)
{
    sval o;
    if (!it->series_by) return 0;
    if (parse(st->value_json, st->value_len, &o)) return 1;
    int leaves = 0;
    for (size_t i = 0; i < o.nx && !leaves; i++) {
        int64_t t;
        leaves = x_time(o.x[i], &t) || t < cut;
    }
    sval_free(&o);
    return leaves;
}

int ds_incr_exec(ds_exec *x, const ds_item *it, const ds_item_state *st, ds_due_reason why, int64_t now,
                 ds_result *out, char **err)
{
    int full = !st || !st->has_value || !st->value_json || why == DS_DUE_MISSING || why == DS_DUE_CHANGED ||
               why == DS_DUE_FORCED || why == DS_DUE_FUTURE || st->last_full <= 0 || st->last_full > now ||
               now - st->last_full >= it->inc_full_every || leaves_range(it, st, now - it->inc_range);
    int64_t t0 = 0;
    int r = run_once(x, it, st, full, now, out, err);
    if (r == 1) {                   /* the cached value cannot be merged into: in full */
        t0 = out->duration_ms;
        r = run_once(x, it, st, 1, now, out, err);
        out->duration_ms += t0;
    }
    return r < 0 ? -1 : 0;
}

/*
 * ds_plan.c — the dashspec_plan table: the compiled plan, stored by `compile`
 * (and `run --specs`) and read back by the runtime.
 *
 * Storing replaces the whole table in one IMMEDIATE transaction: rows of keys
 * no longer in the specs are deleted, rows that differ are upserted, rows that
 * are identical are left alone (their compiled_at too), so an unchanged plan
 * writes nothing and reports *changed = 0.
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
#include <math.h>
#include "sqlite/sqlite_int.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ds_compiler.h"

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
    ds_buf_addc(&b, '}');
    return ds_buf_steal(&b);
}

/* ---------------------------------------------------------------- JSON in */

typedef struct jp { const char *s; size_t i; } jp;

static void ws(jp *p)
{
    while (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r') p->i++;
}

static int eat(jp *p, char c)
{
    ws(p);
    if (p->s[p->i] != c) return -1;
    p->i++;
    return 0;
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[k];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

static void utf8(ds_buf *b, unsigned cp)
{
    if (cp < 0x80) ds_buf_addc(b, (char)cp);
    else if (cp < 0x800) { ds_buf_addc(b, (char)(0xC0 | cp >> 6)); ds_buf_addc(b, (char)(0x80 | (cp & 0x3F))); }
    else if (cp < 0x10000) {
        ds_buf_addc(b, (char)(0xE0 | cp >> 12));
        ds_buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        ds_buf_addc(b, (char)(0x80 | (cp & 0x3F)));
    } else {
        ds_buf_addc(b, (char)(0xF0 | cp >> 18));
        ds_buf_addc(b, (char)(0x80 | ((cp >> 12) & 0x3F)));
        ds_buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        ds_buf_addc(b, (char)(0x80 | (cp & 0x3F)));
    }
}

/* A JSON string at p into *out (malloc'd). -1 when malformed or OOM. */
static int jstring(jp *p, char **out)
{
    ds_buf b;
    *out = NULL;
    if (eat(p, '"')) return -1;
    ds_buf_init(&b);
    ds_buf_adds(&b, "");
    for (;;) {
        char c = p->s[p->i];
        if (!c) goto bad;
        p->i++;
        if (c == '"') break;
        if (c != '\\') { ds_buf_addc(&b, c); continue; }
        c = p->s[p->i++];
        switch (c) {
        case '"': case '\\': case '/': ds_buf_addc(&b, c); break;
        case 'n': ds_buf_addc(&b, '\n'); break;
        case 't': ds_buf_addc(&b, '\t'); break;
        case 'r': ds_buf_addc(&b, '\r'); break;
        case 'b': ds_buf_addc(&b, '\b'); break;
        case 'f': ds_buf_addc(&b, '\f'); break;
        case 'u': {
            unsigned cp, lo;
            if (hex4(p->s + p->i, &cp)) goto bad;
            p->i += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && p->s[p->i] == '\\' && p->s[p->i + 1] == 'u' &&
                hex4(p->s + p->i + 2, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                p->i += 6;
            }
            if (cp == 0) goto bad;          /* C strings cannot hold it */
            utf8(&b, cp);
            break;
        }
        default: goto bad;
        }
    }
    if (b.oom) goto bad;
    *out = ds_buf_steal(&b);
    return 0;
bad:
    ds_buf_free(&b);
    return -1;
}

static int word(jp *p, const char *w)
{
    ws(p);
    size_t n = strlen(w);
    if (strncmp(p->s + p->i, w, n) != 0) return 0;
    p->i += n;
    return 1;
}

/* One params value into pa (name already set). */
static int jparam(jp *p, ds_param *pa)
{
    ws(p);
    char c = p->s[p->i];
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
    size_t start = p->i;
    if (p->s[p->i] == '-') p->i++;
    while (strchr("0123456789.eE+-", p->s[p->i]) && p->s[p->i]) p->i++;
    size_t n = p->i - start;
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
    jp p = {s, 0};
    if (eat(&p, '{')) return -1;
    ws(&p);
    if (p.s[p.i] == '}') { p.i++; goto done; }
    for (;;) {
        ds_param *v = realloc(it->params, (it->nparams + 1) * sizeof *v);
        if (!v) return -1;
        it->params = v;
        ds_param *pa = &it->params[it->nparams];
        memset(pa, 0, sizeof *pa);
        it->nparams++;          /* counted now so ds_item_free frees a half-read entry */
        if (jstring(&p, &pa->name) || eat(&p, ':') || jparam(&p, pa)) return -1;
        ws(&p);
        if (p.s[p.i] == ',') { p.i++; continue; }
        if (eat(&p, '}')) return -1;
        break;
    }
done:
    ws(&p);
    return p.s[p.i] ? -1 : 0;
}

/* A JSON array of strings into *v / *n (appending). */
static int jstrings(jp *p, char ***v, size_t *n)
{
    if (eat(p, '[')) return -1;
    ws(p);
    if (p->s[p->i] == ']') { p->i++; return 0; }
    for (;;) {
        char **nv = realloc(*v, (*n + 1) * sizeof *nv);
        if (!nv) return -1;
        *v = nv;
        if (jstring(p, &nv[*n])) return -1;
        (*n)++;
        ws(p);
        if (p->s[p->i] == ',') { p->i++; continue; }
        return eat(p, ']');
    }
}

static int parse_tags(const char *s, ds_item *it)
{
    jp p = {s, 0};
    if (jstrings(&p, &it->tags, &it->ntags)) return -1;
    ws(&p);
    return p.s[p.i] ? -1 : 0;
}

static int parse_options(const char *s, ds_item *it)
{
    jp p = {s, 0};
    char *k = NULL;
    int rc = -1;
    if (eat(&p, '{')) return -1;
    ws(&p);
    if (p.s[p.i] == '}') { p.i++; goto done; }
    for (;;) {
        char **slot = NULL;
        if (jstring(&p, &k) || eat(&p, ':')) goto out;
        if (strcmp(k, "y") == 0) {
            if (it->ny || jstrings(&p, &it->y, &it->ny)) goto out;
        } else {
            if (strcmp(k, "x") == 0) slot = &it->x;
            else if (strcmp(k, "series_by") == 0) slot = &it->series_by;
            else if (strcmp(k, "fill") == 0) slot = &it->fill;
            else goto out;
            if (*slot || jstring(&p, slot)) goto out;
        }
        free(k);
        k = NULL;
        ws(&p);
        if (p.s[p.i] == ',') { p.i++; continue; }
        if (eat(&p, '}')) goto out;
        break;
    }
done:
    ws(&p);
    rc = p.s[p.i] ? -1 : 0;
out:
    free(k);
    return rc;
}

/* ---------------------------------------------------------------- store */

/* One row's values as they are written. */
typedef struct row {
    char *params, *tags, *options, *source;
} row;

static void row_free(row *r)
{
    free(r->params); free(r->tags); free(r->options); free(r->source);
}

static int row_make(const ds_item *it, row *r)
{
    r->params = params_json(it);
    r->tags = tags_json(it);
    r->options = options_json(it);
    r->source = ds_asprintf("%s:%d", it->file ? it->file : "", it->line);
    return r->params && r->tags && r->options && r->source ? 0 : -1;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s) sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, i);
}

/* Binds ?1..?17 of the compare and upsert statements. */
static void bind_row(sqlite3_stmt *st, const ds_item *it, const row *r)
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

int ds_plan_store(ds_db *db, const ds_plan *p, int *changed, ds_diag *d)
{
    sqlite3 *h = ds_sqlite_handle(db);
    sqlite3_stmt *same = NULL, *up = NULL, *keys = NULL, *del = NULL;
    char **gone = NULL;
    size_t ngone = 0;
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
        char **v = realloc(gone, (ngone + 1) * sizeof *v);
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
        row r = {0};
        if (row_make(it, &r)) { row_free(&r); err = ds_strdup("out of memory"); goto fail; }
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
        row_free(&r);
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

/* Fills it from one plan row; a short message in *why when the row is damaged. */
static int load_row(sqlite3_stmt *st, ds_item *it, const char **why)
{
    const char *kind = (const char *)sqlite3_column_text(st, 1);
    const char *shape = (const char *)sqlite3_column_text(st, 2);
    *why = "out of memory";
    if (!(it->key = col_text(st, 0))) { *why = "a row without key"; return -1; }
    if (kind && strcmp(kind, "chart") == 0) it->kind = DS_KIND_CHART;
    else if (kind && strcmp(kind, "metric") == 0) it->kind = DS_KIND_METRIC;
    else { *why = "unknown kind"; return -1; }
    if (!shape || ds_shape_parse(shape, &it->shape)) { *why = "unknown shape"; return -1; }
    if (!(it->query = col_text(st, 3))) { *why = "no sql"; return -1; }
    const char *params = (const char *)sqlite3_column_text(st, 4);
    if (parse_params(params ? params : "{}", it)) { *why = "bad params JSON"; return -1; }
    it->ttl = sqlite3_column_int64(st, 5);
    it->refresh = sqlite3_column_int64(st, 6);
    it->timeout = sqlite3_column_int64(st, 7);
    it->max_rows = sqlite3_column_int64(st, 8);
    it->max_bytes = sqlite3_column_int64(st, 9);
    it->group = col_text(st, 10);
    const char *tags = (const char *)sqlite3_column_text(st, 11);
    if (parse_tags(tags ? tags : "[]", it)) { *why = "bad tags JSON"; return -1; }
    const char *opts = (const char *)sqlite3_column_text(st, 12);
    if (parse_options(opts ? opts : "{}", it)) { *why = "bad options JSON"; return -1; }
    it->description = col_text(st, 13);
    const char *src = (const char *)sqlite3_column_text(st, 14);
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
    if (!it->file) return -1;
    const char *hash = (const char *)sqlite3_column_text(st, 15);
    snprintf(it->hash, sizeof it->hash, "%s", hash ? hash : "");
    return 0;
}

int ds_plan_load(ds_db *db, ds_plan *out, ds_diag *d)
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

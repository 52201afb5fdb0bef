/*
 * ds_diag.c — the diagnostics sink: the one path every error takes, and its
 * three renderings (text for people, GitHub annotations for CI, JSON for tools).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ds_common.h"
#include "ds_vec.h"

void ds_diag_init(ds_diag *d)
{
    memset(d, 0, sizeof *d);
}

void ds_diag_free(ds_diag *d)
{
    if (!d) return;
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].file);
        free(d->v[i].key);
        free(d->v[i].msg);
    }
    free(d->v);
    memset(d, 0, sizeof *d);
}

/* Appends one entry. Out of memory drops the entry but keeps the counts right,
 * so a failing check can never be mistaken for a clean one. */
static void add(ds_diag *d, ds_severity sev, const char *file, int line, int col,
                const char *key, const char *fmt, va_list ap)
{
    if (sev == DS_SEV_ERROR) d->nerrors++; else d->nwarnings++;
    ds_diag_entry *v = ds_vec_grow(d->v, &d->cap, d->n, sizeof *v);
    if (!v) return;
    d->v = v;
    ds_buf b;
    ds_buf_init(&b);
    ds_buf_vprintf(&b, fmt, ap);
    ds_diag_entry *e = &d->v[d->n];
    e->sev = sev;
    e->line = line;
    e->col = col;
    e->file = file ? ds_strdup(file) : NULL;
    e->key = key ? ds_strdup(key) : NULL;
    e->msg = ds_buf_steal(&b);
    if (!e->msg || (file && !e->file) || (key && !e->key)) {
        free(e->file); free(e->key); free(e->msg);
        return;
    }
    d->n++;
}

int ds_error(ds_diag *d, const char *file, int line, int col, const char *key,
             const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add(d, DS_SEV_ERROR, file, line, col, key, fmt, ap);
    va_end(ap);
    return -1;
}

int ds_warning(ds_diag *d, const char *file, int line, int col, const char *key,
               const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add(d, DS_SEV_WARNING, file, line, col, key, fmt, ap);
    va_end(ap);
    return 0;
}

int ds_fail(ds_diag *d, ds_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add(d, DS_SEV_ERROR, NULL, 0, 0, NULL, fmt, ap);
    va_end(ap);
    /* Keep the most specific database-level status: a lock or database error
     * outranks a plain failure, and the first one wins among equals. */
    if (d->status == DS_OK || d->status == DS_FAILED) d->status = st;
    return -1;
}

static int cmp_entry(const void *pa, const void *pb)
{
    const ds_diag_entry *a = pa, *b = pb;
    if (!a->file != !b->file) return a->file ? -1 : 1;
    if (a->file) {
        int c = strcmp(a->file, b->file);
        if (c) return c;
    }
    if (a->line != b->line) return a->line < b->line ? -1 : 1;
    if (a->col != b->col) return a->col < b->col ? -1 : 1;
    return 0;
}

void ds_diag_sort(ds_diag *d)
{
    /* qsort is not stable: sort an index-tagged copy by (entry, index). A simple
     * insertion sort keeps it stable and the lists are short (one per error). */
    for (size_t i = 1; i < d->n; i++) {
        ds_diag_entry e = d->v[i];
        size_t j = i;
        while (j > 0 && cmp_entry(&d->v[j - 1], &e) > 0) {
            d->v[j] = d->v[j - 1];
            j--;
        }
        d->v[j] = e;
    }
}

static const char *const severity_names[] = {
    [DS_SEV_ERROR] = "error",
    [DS_SEV_WARNING] = "warning",
};
_Static_assert(sizeof severity_names / sizeof severity_names[0] == DS_SEV_N, "one name per severity");

const char *const ds_diag_format_names[DS_FMT_N] = {
    [DS_FMT_TEXT] = "text",
    [DS_FMT_JSON] = "json",
    [DS_FMT_GITHUB] = "github",
};
_Static_assert(sizeof ds_diag_format_names / sizeof ds_diag_format_names[0] == DS_FMT_N,
               "one name per format");

static void json_str(ds_buf *b, const char *s)
{
    if (s) ds_json_string(b, s, strlen(s));
    else ds_buf_adds(b, "null");
}

/* GitHub workflow commands end at a newline and treat %, \r, \n specially in
 * the message; properties also reserve ':' and ','. */
static void gh_escape(ds_buf *b, const char *s, int prop)
{
    for (; *s; s++) {
        if (*s == '%') ds_buf_adds(b, "%25");
        else if (*s == '\r') ds_buf_adds(b, "%0D");
        else if (*s == '\n') ds_buf_adds(b, "%0A");
        else if (prop && *s == ':') ds_buf_adds(b, "%3A");
        else if (prop && *s == ',') ds_buf_adds(b, "%2C");
        else ds_buf_addc(b, *s);
    }
}

/* Appends s through the caller's filter when there is one. */
static void put(ds_buf *b, const char *s, ds_diag_filter filter, ds_diag_format fmt)
{
    if (filter) filter(b, s, strlen(s), fmt);
    else ds_buf_adds(b, s);
}

/* gh_escape of s after the filter (the filter keeps line breaks for it). */
static void gh_put(ds_buf *b, const char *s, int prop, ds_diag_filter filter)
{
    if (!filter) { gh_escape(b, s, prop); return; }
    ds_buf t;
    ds_buf_init(&t);
    filter(&t, s, strlen(s), DS_FMT_GITHUB);
    ds_buf_adds(&t, "");
    if (t.oom) b->oom = 1;
    else gh_escape(b, t.p, prop);
    ds_buf_free(&t);
}

char *ds_diag_render(const ds_diag *d, ds_diag_format fmt)
{
    return ds_diag_render_filtered(d, fmt, NULL);
}

char *ds_diag_render_filtered(const ds_diag *d, ds_diag_format fmt, ds_diag_filter filter)
{
    ds_buf b;
    ds_buf_init(&b);
    if (fmt == DS_FMT_JSON) ds_buf_addc(&b, '[');
    for (size_t i = 0; i < d->n; i++) {
        const ds_diag_entry *e = &d->v[i];
        const char *sev = severity_names[e->sev == DS_SEV_ERROR ? DS_SEV_ERROR : DS_SEV_WARNING];
        switch (fmt) {
        case DS_FMT_TEXT:
            if (e->file) {
                put(&b, e->file, filter, fmt);
                ds_buf_printf(&b, ":%d:%d: ", e->line, e->col);
            } else {
                ds_buf_adds(&b, "dashspec: ");
            }
            ds_buf_printf(&b, "%s: ", sev);
            put(&b, e->msg, filter, fmt);
            if (e->key) {
                ds_buf_adds(&b, " [");
                put(&b, e->key, filter, fmt);
                ds_buf_addc(&b, ']');
            }
            ds_buf_addc(&b, '\n');
            break;
        case DS_FMT_GITHUB:
            ds_buf_printf(&b, "::%s", sev);
            if (e->file) {
                ds_buf_adds(&b, " file=");
                gh_put(&b, e->file, 1, filter);
                ds_buf_printf(&b, ",line=%d,col=%d", e->line, e->col);
            }
            ds_buf_adds(&b, "::");
            gh_put(&b, e->msg, 0, filter);
            if (e->key) { ds_buf_adds(&b, " ["); gh_put(&b, e->key, 0, filter); ds_buf_addc(&b, ']'); }
            ds_buf_addc(&b, '\n');
            break;
        case DS_FMT_JSON:
            if (i) ds_buf_addc(&b, ',');
            ds_buf_adds(&b, "{\"file\":");
            json_str(&b, e->file);
            ds_buf_printf(&b, ",\"line\":%d,\"col\":%d,\"severity\":\"%s\",\"key\":", e->line, e->col, sev);
            json_str(&b, e->key);
            ds_buf_adds(&b, ",\"message\":");
            json_str(&b, e->msg);
            ds_buf_addc(&b, '}');
            break;
        }
    }
    if (fmt == DS_FMT_JSON) ds_buf_adds(&b, "]\n");
    if (!b.p && !b.oom) ds_buf_adds(&b, "");
    return ds_buf_steal(&b);
}

/*
 * ds_select.c — parsing and matching dbt-like selectors (ds_select.h). The
 * one selector module: every command that selects items goes through it.
 */
#include <stdlib.h>
#include <string.h>
#include "ds_common.h"
#include "ds_select.h"

static const struct { const char *prefix; ds_sel_kind kind; } methods[] = {
    {"tag:", DS_SEL_TAG}, {"group:", DS_SEL_GROUP}, {"file:", DS_SEL_FILE},
};

void ds_select_init(ds_select *s)
{
    memset(s, 0, sizeof *s);
}

static void sel_free(ds_sel *e)
{
    for (size_t i = 0; i < e->natoms; i++) free(e->atoms[i].pat);
    free(e->atoms);
    free(e->text);
}

void ds_select_free(ds_select *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) sel_free(&s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* One atom from a[0..n): "tag:x", "group:x", "file:x" or a key glob. */
static int parse_atom(ds_sel_atom *at, const char *a, size_t n, const char *whole, ds_diag *d)
{
    at->kind = DS_SEL_KEY;
    for (size_t m = 0; m < sizeof methods / sizeof *methods; m++) {
        size_t pl = strlen(methods[m].prefix);
        if (n >= pl && strncmp(a, methods[m].prefix, pl) == 0) {
            at->kind = methods[m].kind;
            a += pl;
            n -= pl;
            break;
        }
    }
    const char *colon = memchr(a, ':', n);
    if (at->kind == DS_SEL_KEY && colon)
        return ds_fail(d, DS_USAGE, "bad selector '%s': '%.*s:' is not one of tag:, group:, file:",
                       whole, (int)(colon - a), a);
    if (n == 0) return ds_fail(d, DS_USAGE, "bad selector '%s': empty name", whole);
    if (at->kind == DS_SEL_FILE && n > 2 && a[0] == '.' && a[1] == '/') { a += 2; n -= 2; }
    if (!(at->pat = ds_strndup(a, n))) return ds_fail(d, DS_USAGE, "out of memory");
    return 0;
}

/* One selector word w[0..n): atoms separated by commas. */
static int parse_sel(ds_sel *e, const char *w, size_t n, ds_diag *d)
{
    if (!(e->text = ds_strndup(w, n))) return ds_fail(d, DS_USAGE, "out of memory");
    size_t cap = 1;
    for (size_t i = 0; i < n; i++) cap += w[i] == ',';
    if (!(e->atoms = calloc(cap, sizeof *e->atoms))) return ds_fail(d, DS_USAGE, "out of memory");
    for (size_t i = 0; i <= n;) {
        const char *c = memchr(w + i, ',', n - i);
        size_t end = c ? (size_t)(c - w) : n;
        if (parse_atom(&e->atoms[e->natoms], w + i, end - i, e->text, d)) return -1;
        e->natoms++;
        i = end + 1;
    }
    return 0;
}

int ds_select_add(ds_select *s, const char *value, int exclude, ds_diag *d)
{
    const char *p = value;
    size_t added = 0;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n') p++;
        if (!*p) break;
        size_t n = strcspn(p, " \t\n");
        ds_sel *nv = realloc(s->v, (s->n + 1) * sizeof *nv);
        if (!nv) return ds_fail(d, DS_USAGE, "out of memory");
        s->v = nv;
        ds_sel *e = &s->v[s->n++];
        memset(e, 0, sizeof *e);
        e->exclude = exclude;
        if (parse_sel(e, p, n, d)) {
            sel_free(e);
            s->n--;
            return -1;
        }
        if (!exclude) s->nincl++;
        added++;
        p += n;
    }
    if (!added)
        return ds_fail(d, DS_USAGE, "empty %s", exclude ? "--exclude" : "--select");
    return 0;
}

int ds_select_active(const ds_select *s)
{
    return s && s->n > 0;
}

/* The file glob against the path and every tail after a '/', so that a path
 * relative to the specs directory matches "specs/sub/a.yaml". */
static int file_match(const char *pat, const char *file)
{
    if (!file) return 0;
    if (file[0] == '.' && file[1] == '/') file += 2;
    for (const char *p = file; p; p = strchr(p, '/')) {
        if (*p == '/') p++;
        if (ds_glob_match(pat, p)) return 1;
    }
    return 0;
}

static int atom_match(const ds_sel_atom *at, const ds_sel_view *v)
{
    switch (at->kind) {
    case DS_SEL_KEY: return v->key && ds_glob_match(at->pat, v->key);
    case DS_SEL_GROUP: return v->group && ds_glob_match(at->pat, v->group);
    case DS_SEL_FILE: return file_match(at->pat, v->file);
    case DS_SEL_TAG:
        for (size_t i = 0; i < v->ntags; i++)
            if (v->tags[i] && ds_glob_match(at->pat, v->tags[i])) return 1;
        return 0;
    }
    return 0;
}

int ds_sel_match(const ds_sel *e, const ds_sel_view *v)
{
    for (size_t i = 0; i < e->natoms; i++)
        if (!atom_match(&e->atoms[i], v)) return 0;
    return 1;
}

int ds_select_match(const ds_select *s, const ds_sel_view *v)
{
    if (!s) return 1;
    int in = s->nincl == 0;
    for (size_t i = 0; i < s->n && !in; i++)
        if (!s->v[i].exclude && ds_sel_match(&s->v[i], v)) in = 1;
    for (size_t i = 0; i < s->n && in; i++)
        if (s->v[i].exclude && ds_sel_match(&s->v[i], v)) in = 0;
    return in;
}

int ds_select_item(const ds_select *s, const ds_item *it)
{
    ds_sel_view v = {it->key, it->group, it->tags, it->ntags, it->file};
    return ds_select_match(s, &v);
}

size_t ds_plan_select(ds_plan *p, const ds_select *s)
{
    size_t k = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (ds_select_item(s, &p->items[i])) p->items[k++] = p->items[i];
        else ds_item_free(&p->items[i]);
    }
    p->n = k;
    return k;
}

char *ds_glob_quote(const char *s)
{
    ds_buf b;
    ds_buf_init(&b);
    ds_buf_adds(&b, "");
    for (const char *c = s; *c; c++) {
        if (strchr("*?[\\", *c)) ds_buf_addc(&b, '\\');
        ds_buf_addc(&b, *c);
    }
    return ds_buf_steal(&b);
}

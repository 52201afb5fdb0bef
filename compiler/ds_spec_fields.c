/*
 * ds_spec_fields.c — parse: one field's value into a ds_item (tags, params,
 * the query and its line marks, every scalar field), and phase 1 of an item.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ds_spec_int.h"
#include "ds_vec.h"

/* Appends a copy of s to the list *v of *n strings (*cap allocated, kept by
 * the caller beside the list while it is built). 0 ok, -1 OOM. */
int ds_spec_add_str(char ***v, size_t *n, size_t *cap, const char *s)
{
    char **nv = ds_vec_grow(*v, cap, *n, sizeof *nv);
    if (!nv) return -1;
    *v = nv;
    if (!(nv[*n] = ds_strdup(s))) return -1;
    (*n)++;
    return 0;
}

/* No setting switches a limit off: a value past its ceiling is an error at
 * the value (docs/spec-reference.md, "Limits"). */
static int ceiling(ld *L, const ynode *v, const char *field, const char *key, int64_t got, int64_t max,
                   const char *max_text)
{
    if (got <= max) return 0;
    return ds_spec_err(L, v->mark, key, "'%s' is %" PRId64 ", past its ceiling of %s", field, got, max_text);
}

static int parse_tags(ld *L, const ynode *v, ds_item *it, const char *key)
{
    int rc = 0;
    size_t cap = it->ntags;
    if (ds_spec_poisoned(v)) return -1;
    if (v->kind != YN_SEQ)
        return ds_spec_err(L, v->mark, key, "'tags' must be a list of names, found %s", ds_yaml_type_name(v));
    for (size_t i = 0; i < v->n; i++) {
        const ynode *e = v->v[i];
        const char *s = ds_spec_want_str(L, e, "each tag", key);
        if (!s) { rc = -1; continue; }
        if (!ds_spec_pattern_group(s)) {
            rc = ds_spec_err(L, e->mark, key, "invalid tag '%s': must match ^[a-z][a-z0-9_-]*$", ds_spec_shown(L, e));
            continue;
        }
        if (ds_spec_add_str(&it->tags, &it->ntags, &cap, s)) rc = ds_spec_oom(L, e->mark);
    }
    return rc;
}

static int parse_params(ld *L, const ynode *v, ds_item *it, const char *key)
{
    int rc = 0;
    size_t cap = it->nparams;
    if (ds_spec_poisoned(v)) return -1;
    if (v->kind != YN_MAP)
        return ds_spec_err(L, v->mark, key, "'params' must be a mapping of names to values, found %s",
                   ds_yaml_type_name(v));
    for (size_t i = 0; i + 1 < v->n; i += 2) {
        const ynode *k = v->v[i], *e = v->v[i + 1];
        if (!ds_spec_live_key(k)) { rc = -1; continue; }
        const char *name = ds_spec_shown(L, k);
        if (k->has_nul || !ds_spec_pattern_param(k->s)) {
            rc = ds_spec_err(L, k->mark, key, "invalid parameter name '%s': must match ^[A-Za-z_][A-Za-z0-9_]*$", name);
            continue;
        }
        if (strcmp(k->s, "now") == 0 || strcmp(k->s, "since") == 0) {
            rc = ds_spec_err(L, k->mark, key, "parameter '%s' is built in and cannot be declared", k->s);
            continue;
        }
        if (ds_spec_poisoned(e)) { rc = -1; continue; }
        ds_param pr;
        memset(&pr, 0, sizeof pr);
        pr.mark = k->mark;
        if (e->kind != YN_SCALAR) {
            rc = ds_spec_err(L, k->mark, key, "parameter '%s' must be an integer, real number, string or boolean, found %s",
                     name, ds_yaml_type_name(e));
            continue;
        }
        yval y = ds_yaml_resolve(e);
        switch (y.type) {
        case YT_NULL:
            rc = ds_spec_err(L, k->mark, key, "parameter '%s' must be an integer, real number, string or boolean, found null", name);
            continue;
        case YT_BOOL: pr.type = DS_PARAM_BOOL; pr.i = y.i; break;
        case YT_INT:
            if (y.overflow) {
                rc = ds_spec_err(L, k->mark, key, "parameter '%s' is out of range (integers are 64-bit)", name);
                continue;
            }
            pr.type = DS_PARAM_INT;
            pr.i = y.i;
            break;
        case YT_REAL:
            if (!isfinite(y.r)) {
                rc = ds_spec_err(L, k->mark, key, "parameter '%s' must be a finite number", name);
                continue;
            }
            pr.type = DS_PARAM_REAL;
            pr.r = y.r;
            break;
        case YT_STR:
            if (e->has_nul) {
                rc = ds_spec_err(L, k->mark, key, "parameter '%s' contains a NUL character", name);
                continue;
            }
            pr.type = DS_PARAM_TEXT;
            if (!(pr.s = ds_strdup(e->s))) { rc = ds_spec_oom(L, k->mark); continue; }
            break;
        }
        ds_param *np = ds_vec_grow(it->params, &cap, it->nparams, sizeof *np);
        if (!np || !(pr.name = ds_strdup(k->s))) {
            if (np) it->params = np;
            free(pr.s);
            rc = ds_spec_oom(L, k->mark);
            continue;
        }
        it->params = np;
        it->params[it->nparams++] = pr;
    }
    return rc;
}

/* Records an exact mapping from SQL bytes (a query or a refresh_key) to
 * source positions when the value's text is the source's text: literal
 * blocks line by line, and scalars on one line, in *out / *nout. Anything
 * else (folded, multi-line flow, escapes) leaves *nout = 0 and SQL errors
 * point at the start of the value. */
static void sql_lines(ld *L, const ynode *v, ds_mark **out, size_t *nout)
{
    const char *q = v->s;
    size_t qn = v->len;
    if (v->style == YS_LITERAL) {
        size_t nl = 0;
        for (size_t i = 0; i < qn; i++) if (q[i] == '\n') nl++;
        size_t nlines = qn && q[qn - 1] == '\n' ? nl : nl + 1;
        if (!qn || !nlines) return;
        ds_mark *m = calloc(nlines, sizeof *m);
        if (!m) return;
        long indent = -1;
        size_t s0 = 0;
        for (size_t i = 0; i < nlines; i++) {
            const char *e = memchr(q + s0, '\n', qn - s0);
            size_t vl = (e ? (size_t)(e - q) : qn) - s0, sl;
            const char *src = ds_yaml_line(L->doc, v->mark.line + 1 + (int)i, &sl);
            if (!src) goto fail;
            if (vl == 0) {
                for (size_t k = 0; k < sl; k++) if (src[k] != ' ') goto fail;
                if (indent >= 0 && (long)sl > indent) goto fail;
            } else {
                if (sl < vl || memcmp(src + sl - vl, q + s0, vl) != 0) goto fail;
                long ind = (long)(sl - vl);
                if (indent < 0) indent = ind;
                if (ind != indent) goto fail;
                for (long k = 0; k < ind; k++) if (src[k] != ' ') goto fail;
            }
            m[i].line = v->mark.line + 1 + (int)i;
            s0 += vl + 1;
        }
        if (indent < 0) goto fail;
        for (size_t i = 0; i < nlines; i++) m[i].col = (int)indent + 1;
        *out = m;
        *nout = nlines;
        return;
    fail:
        free(m);
        return;
    }
    if (memchr(q, '\n', qn)) return;
    size_t blen, o = ds_yaml_offset(L->doc, v->mark);
    const char *b = ds_yaml_buf(L->doc, &blen);
    int quoted = v->style == YS_SINGLE || v->style == YS_DOUBLE;
    if (v->style != YS_PLAIN && !quoted) return;
    o += (size_t)quoted;
    if (o > blen || blen - o < qn || memcmp(b + o, q, qn) != 0) return;
    if (!(*out = malloc(sizeof **out))) return;
    (*out)[0] = v->mark;
    (*out)[0].col += quoted;
    *nout = 1;
}

/* Parses one present field of an item (or of defaults) into it. Series
 * options are parsed here too; whether they are allowed is the caller's. */
int ds_spec_parse_field(ld *L, int f, const ynode *v, ds_item *it, const char *key)
{
    const char *name = ds_item_fields[f], *s;
    char subj[24];
    snprintf(subj, sizeof subj, "'%s'", name);
    switch (f) {
    case F_KEY:
        it->m_key = v->mark;
        if (!(s = ds_spec_want_str(L, v, subj, key))) return -1;
        if (!ds_spec_pattern_key(s))
            return ds_spec_err(L, v->mark, NULL, "invalid key '%s': must match ^[a-z][a-z0-9_]{0,63}$", ds_spec_shown(L, v));
        if (!(it->key = ds_strdup(s))) return ds_spec_oom(L, v->mark);
        return 0;
    case F_QUERY:
        it->m_query = v->mark;
        if (!(s = ds_spec_want_str(L, v, subj, key))) return -1;
        if (!s[strspn(s, " \t\r\n\f\v")]) return ds_spec_err(L, v->mark, key, "'query' is empty");
        if (!(it->query = ds_strdup(s))) return ds_spec_oom(L, v->mark);
        sql_lines(L, v, &it->qlines, &it->nqlines);
        return 0;
    case F_SHAPE: {
        it->m_shape = v->mark;
        if (!(s = ds_spec_want_str(L, v, subj, key))) return -1;
        ds_shape sh;
        if (ds_shape_parse(s, &sh) == 0) { it->shape = sh; return 0; }
        const char *near = ds_suggest(s, v->len, ds_shape_names);
        if (near) return ds_spec_err(L, v->mark, key, "unknown shape '%s'; did you mean '%s'?", ds_spec_shown(L, v), near);
        return ds_spec_err(L, v->mark, key, "unknown shape '%s'; expected scalar, row, rows, map or series", ds_spec_shown(L, v));
    }
    case F_TTL:
        it->m_ttl = v->mark;
        return ds_spec_want_duration(L, v, name, key, &it->ttl);
    case F_REFRESH:
        it->m_refresh = v->mark;
        return ds_spec_want_duration(L, v, name, key, &it->refresh);
    case F_TIMEOUT:
        if (ds_spec_want_duration(L, v, name, key, &it->timeout)) return -1;
        return ceiling(L, v, name, key, it->timeout, DS_TIMEOUT_CEILING, "3600 (1h)");
    case F_DESCRIPTION:
        if (!(s = ds_spec_want_str(L, v, subj, key))) return -1;
        if (!(it->description = ds_strdup(s))) return ds_spec_oom(L, v->mark);
        return 0;
    case F_GROUP:
        if (!(s = ds_spec_want_str(L, v, subj, key))) return -1;
        if (!ds_spec_pattern_group(s))
            return ds_spec_err(L, v->mark, key, "invalid group '%s': must match ^[a-z][a-z0-9_-]*$", ds_spec_shown(L, v));
        if (!(it->group = ds_strdup(s))) return ds_spec_oom(L, v->mark);
        return 0;
    case F_TAGS:
        return parse_tags(L, v, it, key);
    case F_PARAMS:
        it->m_params = v->mark;
        return parse_params(L, v, it, key);
    case F_MAX_ROWS:
        if (ds_spec_want_count(L, v, name, key, &it->max_rows)) return -1;
        return ceiling(L, v, name, key, it->max_rows, DS_MAX_ROWS_CEILING, "10000000");
    case F_MAX_BYTES:
        if (ds_spec_want_count(L, v, name, key, &it->max_bytes)) return -1;
        return ceiling(L, v, name, key, it->max_bytes, DS_MAX_BYTES_CEILING, "268435456 (256 MiB)");
    case F_X:
        it->m_x = v->mark;
        if (!(s = ds_spec_want_column(L, v, subj, key))) return -1;
        if (!(it->x = ds_strdup(s))) return ds_spec_oom(L, v->mark);
        return 0;
    case F_Y:
        return ds_spec_parse_y(L, v, it, key);
    case F_SERIES_BY:
        it->m_series_by = v->mark;
        if (!(s = ds_spec_want_column(L, v, subj, key))) return -1;
        if (!(it->series_by = ds_strdup(s))) return ds_spec_oom(L, v->mark);
        return 0;
    case F_FILL:
        return ds_spec_parse_fill(L, v, it, key);
    case F_INCREMENTAL:
        return ds_spec_parse_incremental(L, (ynode *)v, it, key);
    case F_REFRESH_KEY:
        it->m_refresh_key = v->mark;
        if (!(s = ds_spec_want_str(L, v, subj, key))) return -1;
        if (!s[strspn(s, " \t\r\n\f\v")]) return ds_spec_err(L, v->mark, key, "'refresh_key' is empty");
        if (!(it->refresh_key = ds_strdup(s))) return ds_spec_oom(L, v->mark);
        sql_lines(L, v, &it->klines, &it->nklines);
        return 0;
    }
    return -1;
}

/* Sorts a mapping's live keys into fields; unknown keys are reported with a
 * suggestion from `cands`. Returns the number of errors. */
int ds_spec_collect(ld *L, const ynode *m, fields *F, const char *key, const char *const *cands,
                   ynode **unknown_vals, size_t *nunknown)
{
    int bad = 0;
    for (size_t i = 0; i + 1 < m->n; i += 2) {
        ynode *k = m->v[i];
        if (!ds_spec_live_key(k)) continue;
        int f = k->has_nul ? -1 : ds_spec_lookup(k->s, k->len, ds_item_fields);
        if (f < 0 || ds_spec_lookup(k->s, k->len, cands) < 0) {
            if (f >= 0) {
                ds_spec_err(L, k->mark, key, "'%s' cannot be set in defaults", ds_item_fields[f]);
            } else {
                ds_spec_unknown_field(L, k, key, cands);
            }
            bad++;
            unknown_vals[(*nunknown)++] = m->v[i + 1];
            continue;
        }
        F->k[f] = k;
        F->v[f] = m->v[i + 1];
    }
    return bad;
}

/* Phase 1: the item's own fields, series options aside (their rules need
 * the shape, which may come from defaults). */
void ds_spec_item_fields(itemld *I)
{
    ld *L = I->L;
    ynode *m = I->m;
    I->bad += ds_spec_check_map(L, m, I->key);
    ynode **unk = malloc((m->n / 2 + 1) * sizeof *unk);
    size_t nunk = 0;
    if (!unk) { ds_spec_oom(L, m->mark); I->bad++; return; }
    I->bad += ds_spec_collect(L, m, &I->F, I->key, ds_item_fields, unk, &nunk);
    for (size_t i = 0; i < nunk; i++) I->bad += ds_spec_check_deep(L, unk[i], I->key);
    free(unk);
    for (int f = 0; f < F_N; f++) {
        if (!I->F.v[f]) continue;
        int b = ds_spec_check_deep(L, I->F.v[f], I->key);
        I->bad += b;
        if (f == F_X || f == F_Y || f == F_SERIES_BY || f == F_FILL) continue;
        I->F.ok[f] = ds_spec_parse_field(L, f, I->F.v[f], &I->it, I->key) == 0 && !b;
        if (!I->F.ok[f]) I->bad++;
    }
    for (int f = 0; f < F_N; f++) I->have[f] = I->F.ok[f];
}

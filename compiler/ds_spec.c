/*
 * ds_spec.c — spec files -> ds_item: every rule of docs/spec-reference.md
 * that needs no database (ds_sql.c does the rest).
 *
 * A file goes through compiler/ds_yaml.c into a node tree, then one pass over
 * the tree checks the top-level mapping, `defaults`, and each item of
 * `metrics` and `charts`, reporting every error it finds (up to a cap per
 * file) instead of stopping at the first. Items keep going after an error so
 * the next error is found too; an item with an error is kept with bad = 1
 * when its key is valid, and dropped otherwise.
 *
 * Where diagnostics point: an error about a field's value at the value, an
 * unknown or misplaced field at its key, a missing field at the start of the
 * mapping that lacks it, a params problem at the entry's name, a duplicate at
 * its second occurrence (naming the first). `defaults` is checked once, where
 * it is written; an item that inherits a broken default is bad without a
 * second message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ds_spec_int.h"

/* ORDER: enum field follows ds_item_fields[] (docs/spec-reference.md, "Items"). */
const char *const ds_item_fields[] = {
    "key", "query", "shape", "ttl", "refresh", "description", "group", "tags", "params",
    "timeout", "max_rows", "max_bytes", "x", "y", "series_by", "fill", "refresh_key", "incremental", NULL
};
_Static_assert(sizeof ds_item_fields / sizeof ds_item_fields[0] == F_N + 1,
               "ds_item_fields[] must follow enum field");

static const char *const top_fields[] = {"version", "defaults", "metrics", "charts", NULL};

/* The first `key` value of an item mapping, when it is a valid key: the
 * item's diagnostics carry it even before the field is parsed. */
static const char *peek_key(const ynode *m)
{
    for (size_t i = 0; i + 1 < m->n; i += 2) {
        const ynode *k = m->v[i], *v = m->v[i + 1];
        if (!ds_spec_live_key(k) || k->len != 3 || memcmp(k->s, "key", 3) != 0) continue;
        if (v->kind != YN_SCALAR || ds_spec_poisoned(v) || v->has_nul || ds_yaml_resolve(v).type != YT_STR) return NULL;
        return ds_spec_pattern_key(v->s) ? v->s : NULL;
    }
    return NULL;
}

/* One item of `metrics` or `charts`, phase by phase (see ds_spec_int.h). */
static void load_item(ld *L, ynode *m, ds_kind kind, const defaults *D)
{
    itemld I;
    memset(&I, 0, sizeof I);
    I.L = L;
    I.m = m;
    I.D = D;
    I.key = peek_key(m);
    I.it.kind = kind;
    I.it.m_item = m->mark;
    I.it.line = m->mark.line;
    ds_spec_item_fields(&I);
    ds_spec_item_inherit(&I);
    I.shape_known = I.have[F_SHAPE] != 0;
    I.series = I.shape_known && I.it.shape == DS_SHAPE_SERIES;
    /* Whether the SQL can still be validated when the item is bad for other
     * reasons: query, params, shape and series options all loaded cleanly.
     * This keeps "every error in one pass" true inside one item too. */
    I.sqlcheck = I.F.ok[F_QUERY] && (!I.F.v[F_PARAMS] || I.F.ok[F_PARAMS]) && I.shape_known;
    ds_spec_item_series(&I);
    ds_spec_item_required(&I);
    ds_spec_item_limits(&I);
    ds_spec_item_series_rules(&I);
    ds_spec_item_keep(&I);
}

static void load_list(ld *L, ynode *v, const char *field, ds_kind kind, const defaults *D)
{
    char what[32];
    snprintf(what, sizeof what, "'%s'", field);
    if (ds_spec_want_kind(L, v, YN_SEQ, what, "a list of items")) return;
    ds_spec_check_props(L, v, NULL);
    for (size_t i = 0; i < v->n; i++) {
        ynode *e = v->v[i];
        if (e->kind == YN_MAP) {
            load_item(L, e, kind, D);
            continue;
        }
        ds_spec_check_deep(L, e, NULL);
        if (!ds_spec_poisoned(e))
            ds_spec_err(L, e->mark, NULL, "each entry of '%s' must be a mapping (an item), found %s",
                field, ds_yaml_type_name(e));
    }
}

static void load_root(ld *L, ynode *root)
{
    if (ds_spec_want_kind(L, root, YN_MAP, "the top level", "a mapping")) return;
    ds_spec_check_map(L, root, NULL);
    ynode *top[4] = {0};
    for (size_t i = 0; i + 1 < root->n; i += 2) {
        ynode *k = root->v[i];
        if (!ds_spec_live_key(k)) continue;
        int f = k->has_nul ? -1 : ds_spec_lookup(k->s, k->len, top_fields);
        if (f < 0) {
            if (!k->has_nul && ds_spec_lookup(k->s, k->len, ds_item_fields) >= 0)
                ds_spec_err(L, k->mark, NULL, "unknown field '%s' at the top level; item fields go in 'defaults' "
                    "or in an item of 'metrics' or 'charts'", ds_spec_shown(L, k));
            else
                ds_spec_unknown_field(L, k, NULL, top_fields);
            ds_spec_check_deep(L, root->v[i + 1], NULL);
            continue;
        }
        top[f] = root->v[i + 1];
    }
    if (!top[0]) {
        ds_spec_err(L, root->mark, NULL, "missing required field 'version'");
    } else {
        ynode *v = top[0];
        int b = ds_spec_check_deep(L, v, NULL);
        if (!b && !ds_spec_poisoned(v)) {
            yval y = v->kind == YN_SCALAR ? ds_yaml_resolve(v) : (yval){YT_STR, 0, 0, 0};
            if (v->kind != YN_SCALAR || y.type != YT_INT)
                ds_spec_err(L, v->mark, NULL, "'version' must be the integer 1, found %s", ds_yaml_type_name(v));
            else if (y.overflow || y.i != 1)
                ds_spec_err(L, v->mark, NULL, "unsupported version %s; this dashspec reads version 1", ds_spec_shown(L, v));
        }
    }
    defaults D;
    memset(&D, 0, sizeof D);
    if (top[1]) ds_spec_load_defaults(L, top[1], &D);
    if (top[2]) load_list(L, top[2], "metrics", DS_KIND_METRIC, &D);
    if (top[3]) load_list(L, top[3], "charts", DS_KIND_CHART, &D);
    ds_item_free(&D.it);
}

/* Stable sort of the entries this file added, by position: the tree is
 * walked in several passes (structure, then fields), not in file order. */
static void sort_range(ds_diag *d, size_t from)
{
    for (size_t i = from + 1; i < d->n; i++) {
        ds_diag_entry e = d->v[i];
        size_t j = i;
        while (j > from && (d->v[j - 1].line > e.line ||
                            (d->v[j - 1].line == e.line && d->v[j - 1].col > e.col))) {
            d->v[j] = d->v[j - 1];
            j--;
        }
        d->v[j] = e;
    }
}

void ds_spec_load_one(const char *file, const char *buf, size_t len, ds_plan *p, keyidx *idx, ds_diag *d)
{
    ld L;
    memset(&L, 0, sizeof L);
    L.file = file;
    L.d = d;
    L.p = p;
    L.idx = idx;
    size_t from = d->n;
    if (len > DS_SPEC_MAX_FILE_BYTES) {
        ds_spec_err(&L, (ds_mark){1, 1}, NULL, "file is too large (the limit is %d bytes)", DS_SPEC_MAX_FILE_BYTES);
        return;
    }
    ynode *root = NULL;
    ds_yerr ye;
    L.doc = ds_yaml_parse(buf, len, DS_SPEC_MAX_DEPTH, &root, &ye);
    if (!L.doc) {
        ds_spec_err(&L, ye.mark, NULL, "%s", ye.msg);
        return;
    }
    load_root(&L, root);
    ds_yaml_free(L.doc);
    sort_range(d, from);
}

/* Loads one file's bytes (see dashspec.h). Items are appended to p, errors go
 * to d; keys already in p count for duplicates. Returns -1 when this call
 * reported an error, else 0. Never fails otherwise: out of memory is an error. */
int ds_spec_load_buf(const char *file, const char *buf, size_t len, ds_plan *p, ds_diag *d)
{
    keyidx idx = {0};
    size_t before = d->nerrors;
    if (!file) file = "<input>";
    if (ds_spec_idx_build(&idx, p)) {
        ds_htab_free(&idx);
        return ds_error(d, file, 1, 1, NULL, "out of memory");
    }
    ds_spec_load_one(file, buf ? buf : "", buf ? len : 0, p, &idx, d);
    ds_htab_free(&idx);
    return d->nerrors > before ? -1 : 0;
}

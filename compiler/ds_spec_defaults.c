/*
 * ds_spec_defaults.c — the `defaults` mapping, checked once where it is
 * written, and what items inherit from it (phase 2) or get when nobody sets
 * a limit (phase 5).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ds_spec_int.h"

static const char *const default_fields[] = {
    "shape", "ttl", "refresh", "description", "group", "tags",
    "timeout", "max_rows", "max_bytes", "x", "y", "series_by", "fill", "refresh_key", "incremental", NULL
};

/* Copies one parsed default into an item that lacks the field. 0 ok, -1 OOM. */
int ds_spec_copy_field(int f, const ds_item *src, ds_item *dst)
{
    size_t cap;
    switch (f) {
    case F_SHAPE: dst->shape = src->shape; dst->m_shape = src->m_shape; return 0;
    case F_TTL: dst->ttl = src->ttl; dst->m_ttl = src->m_ttl; return 0;
    case F_REFRESH: dst->refresh = src->refresh; dst->m_refresh = src->m_refresh; return 0;
    case F_TIMEOUT: dst->timeout = src->timeout; return 0;
    case F_MAX_ROWS: dst->max_rows = src->max_rows; return 0;
    case F_MAX_BYTES: dst->max_bytes = src->max_bytes; return 0;
    case F_DESCRIPTION: return (dst->description = ds_strdup(src->description)) ? 0 : -1;
    case F_GROUP: return (dst->group = ds_strdup(src->group)) ? 0 : -1;
    case F_TAGS:
        cap = dst->ntags;
        for (size_t i = 0; i < src->ntags; i++)
            if (ds_spec_add_str(&dst->tags, &dst->ntags, &cap, src->tags[i])) return -1;
        return 0;
    case F_X: dst->m_x = src->m_x; return (dst->x = ds_strdup(src->x)) ? 0 : -1;
    case F_SERIES_BY:
        dst->m_series_by = src->m_series_by;
        return (dst->series_by = ds_strdup(src->series_by)) ? 0 : -1;
    case F_FILL:
        dst->m_fill = src->m_fill;
        free(dst->fill);
        return (dst->fill = ds_strdup(src->fill)) ? 0 : -1;
    case F_INCREMENTAL:
        dst->m_incremental = src->m_incremental;
        dst->inc_window = src->inc_window;
        dst->inc_range = src->inc_range;
        dst->inc_full_every = src->inc_full_every;
        return 0;
    case F_REFRESH_KEY:
        dst->m_refresh_key = src->m_refresh_key;
        return (dst->refresh_key = ds_strdup(src->refresh_key)) ? 0 : -1;
    case F_Y:
        dst->m_y = src->m_y;
        cap = dst->ny;
        for (size_t i = 0; i < src->ny; i++)
            if (ds_spec_add_str(&dst->y, &dst->ny, &cap, src->y[i])) return -1;
        if (src->m_ys) {
            if (!(dst->m_ys = malloc(src->ny * sizeof *dst->m_ys))) return -1;
            memcpy(dst->m_ys, src->m_ys, src->ny * sizeof *dst->m_ys);
        }
        return 0;
    }
    return 0;
}

void ds_spec_load_defaults(ld *L, ynode *m, defaults *D)
{
    if (ds_spec_want_kind(L, m, YN_MAP, "'defaults'", "a mapping")) return;
    ds_spec_check_map(L, m, NULL);
    ynode **unk = malloc((m->n / 2 + 1) * sizeof *unk);
    size_t nunk = 0;
    if (!unk) { ds_spec_oom(L, m->mark); return; }
    ds_spec_collect(L, m, &D->f, NULL, default_fields, unk, &nunk);
    for (size_t i = 0; i < nunk; i++) ds_spec_check_deep(L, unk[i], NULL);
    free(unk);
    for (int f = 0; f < F_N; f++) {
        if (!D->f.v[f]) continue;
        int bad = ds_spec_check_deep(L, D->f.v[f], NULL);
        D->f.ok[f] = ds_spec_parse_field(L, f, D->f.v[f], &D->it, NULL) == 0 && !bad;
    }
    if (D->f.ok[F_TTL] && D->f.ok[F_REFRESH] && D->it.refresh >= D->it.ttl) {
        char a[32], b[32];
        ds_spec_err(L, D->it.m_refresh, NULL, "refresh (%s) must be less than ttl (%s)",
            ds_duration_format(D->it.refresh, a, sizeof a), ds_duration_format(D->it.ttl, b, sizeof b));
        D->pair_bad = 1;
    }
}

/* Phase 2: inherit what the item does not say. A broken default was
 * reported where it is written; the item that needs it is bad, silently. */
void ds_spec_item_inherit(itemld *I)
{
    static const int inherit[] = {F_SHAPE, F_TTL, F_REFRESH, F_DESCRIPTION, F_GROUP, F_TAGS,
                                  F_TIMEOUT, F_MAX_ROWS, F_MAX_BYTES, F_REFRESH_KEY, F_INCREMENTAL};
    const defaults *D = I->D;
    for (size_t i = 0; i < sizeof inherit / sizeof inherit[0]; i++) {
        int f = inherit[i];
        if (I->F.v[f] || !D->f.v[f]) continue;
        if (!D->f.ok[f]) { I->bad++; continue; }
        if (ds_spec_copy_field(f, &D->it, &I->it)) { ds_spec_oom(I->L, I->m->mark); I->bad++; continue; }
        I->have[f] = 2;
    }
}

/* Phase 5: the limits nobody set get the documented defaults
 * (docs/spec-reference.md). */
void ds_spec_item_limits(itemld *I)
{
    const fields *F = &I->F, *DF = &I->D->f;
    if (!F->v[F_TIMEOUT] && !DF->v[F_TIMEOUT]) I->it.timeout = DS_SPEC_DEFAULT_TIMEOUT;
    if (!F->v[F_MAX_ROWS] && !DF->v[F_MAX_ROWS]) I->it.max_rows = DS_SPEC_DEFAULT_MAX_ROWS;
    if (!F->v[F_MAX_BYTES] && !DF->v[F_MAX_BYTES]) I->it.max_bytes = DS_SPEC_DEFAULT_MAX_BYTES;
}

/*
 * ds_spec_incr.c — the `incremental` field of an item (docs/spec-reference.md,
 * "incremental"): {window: DUR, range: DUR, full_every: DUR}, every member
 * required, window < range. The rules that need the shape and the query
 * (a series item; the query uses :since) are compiler/ds_sql.c's.
 */
#include <stdio.h>
#include <string.h>
#include "ds_spec_int.h"

int ds_spec_parse_incremental(ld *L, ynode *v, ds_item *it, const char *key)
{
    static const char *const names[] = {"window", "range", "full_every", NULL};
    int64_t *slots[] = {&it->inc_window, &it->inc_range, &it->inc_full_every};
    const ynode *vals[3] = {NULL, NULL, NULL};
    int rc = 0;
    it->m_incremental = v->mark;
    if (v->kind != YN_MAP)
        return ds_spec_err(L, v->mark, key, "'incremental' must be a mapping {window, range, full_every}, found %s",
                           ds_yaml_type_name(v));
    for (size_t i = 0; i + 1 < v->n; i += 2) {
        const ynode *k = v->v[i];
        if (!ds_spec_live_key(k)) { rc = -1; continue; }
        int f = k->has_nul ? -1 : ds_spec_lookup(k->s, k->len, names);
        if (f < 0) {
            rc = ds_spec_err(L, k->mark, key, "unknown field '%s' in incremental; expected window, range or full_every",
                             ds_spec_shown(L, k));
            continue;
        }
        vals[f] = v->v[i + 1];
    }
    for (int f = 0; f < 3; f++) {
        if (!vals[f]) {
            rc = ds_spec_err(L, v->mark, key, "incremental needs '%s'", names[f]);
            continue;
        }
        char field[32];
        snprintf(field, sizeof field, "incremental.%s", names[f]);
        if (ds_spec_want_duration(L, vals[f], field, key, slots[f])) rc = -1;
    }
    if (rc == 0 && it->inc_window >= it->inc_range) {
        char a[32], b[32];
        rc = ds_spec_err(L, vals[0]->mark, key, "incremental.window (%s) must be less than range (%s)",
                         ds_duration_format(it->inc_window, a, sizeof a), ds_duration_format(it->inc_range, b, sizeof b));
    }
    if (rc) it->inc_window = it->inc_range = it->inc_full_every = 0;
    return rc;
}

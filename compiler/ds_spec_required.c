/*
 * ds_spec_required.c — phase 4 of an item: the required fields, and the rule
 * that ties refresh to ttl (docs/spec-reference.md, "Fields").
 */
#include "ds_spec_int.h"

/* Required fields are reported at the start of the item; key and query can
 * never come from defaults. Then refresh < ttl, or refresh defaults to two
 * thirds of ttl when nobody set it. */
void ds_spec_item_required(itemld *I)
{
    static const int req[] = {F_KEY, F_QUERY, F_SHAPE, F_TTL};
    ds_item *it = &I->it;
    const defaults *D = I->D;
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
        int f = req[i];
        if (I->F.v[f] || (f != F_KEY && f != F_QUERY && D->f.v[f])) continue;
        ds_spec_err(I->L, I->m->mark, I->key, "missing required field '%s'", ds_item_fields[f]);
        I->bad++;
    }
    if (I->have[F_TTL] && I->have[F_REFRESH]) {
        if (it->refresh < it->ttl) return;
        I->bad++;
        /* Both from defaults, already reported there. */
        if (I->have[F_TTL] == 2 && I->have[F_REFRESH] == 2 && D->pair_bad) return;
        char a[32], b[32];
        ds_spec_err(I->L, it->m_refresh, I->key, "refresh (%s) must be less than ttl (%s)",
                    ds_duration_format(it->refresh, a, sizeof a), ds_duration_format(it->ttl, b, sizeof b));
    } else if (I->have[F_TTL] && !I->F.v[F_REFRESH] && !D->f.v[F_REFRESH]) {
        it->refresh = it->ttl * DS_SPEC_REFRESH_NUM / DS_SPEC_REFRESH_DEN;
    }
}

/*
 * ds_fresh.c — refresh_key (docs/spec-reference.md, "refresh_key"): an item
 * due by age runs its key first, and when the key's one-row result equals
 * the one stored with the value, the value is confirmed (expires_at moves
 * to now + ttl, created_at stays) instead of recomputed.
 *
 * Engine-neutral: the key runs through the engine's exec_item as an item of
 * shape row whose query is the key (so it binds the item's params and :now
 * like the query, under the same read-only rules and limits), cached by the
 * engine under a key no spec can spell. Writing a confirmation is the
 * engine's confirm operation (engine/engine.h).
 */
#include <stdlib.h>
#include <string.h>
#include "ds_runtime.h"

/* Runs it's refresh_key at now. The JSON of its row (malloc'd; "null" when
 * it returned none), or NULL when it failed (*ms: its duration either way). */
static char *run_key(ds_exec *x, const ds_item *it, int64_t now, int64_t *ms)
{
    ds_item k = *it;
    char *err = NULL, *kk = ds_asprintf("%s\n refresh_key", it->key);
    ds_result r;
    memset(&r, 0, sizeof r);
    *ms = 0;
    if (!kk) return NULL;
    k.key = kk;
    k.query = it->refresh_key;
    k.shape = DS_SHAPE_ROW;
    k.x = NULL;
    k.y = NULL;
    k.ny = 0;
    k.series_by = NULL;
    k.fill = NULL;
    k.refresh_key = NULL;
    int rc = ds_exec_item(x, &k, now, &r, &err);
    free(kk);
    free(err);
    *ms = r.duration_ms;
    char *v = rc == 0 ? r.json : NULL;
    if (rc == 0) r.json = NULL;
    ds_result_free(&r);
    return v;
}

int ds_fresh_exec(ds_exec *x, const ds_item *it, const ds_item_state *st, ds_due_reason why,
                  int can_confirm, int64_t now, ds_result *out, char **err)
{
    if (!it->refresh_key)
        return it->inc_window ? ds_incr_exec(x, it, st, why, now, out, err) : ds_exec_item(x, it, now, out, err);
    int64_t kms;
    char *kv = run_key(x, it, now, &kms);
    if (kv && can_confirm && why == DS_DUE_REFRESH && st && st->has_value && st->failures == 0 &&
        st->key_value && strcmp(kv, st->key_value) == 0) {
        memset(out, 0, sizeof *out);
        out->confirmed = 1;
        out->key_value = kv;
        out->entries = st->entries > 0 ? st->entries : 0;
        out->duration_ms = kms;
        return 0;
    }
    int rc = it->inc_window ? ds_incr_exec(x, it, st, why, now, out, err) : ds_exec_item(x, it, now, out, err);
    if (rc != 0) { free(kv); return rc; }
    out->key_value = kv;
    out->duration_ms += kms;
    return 0;
}

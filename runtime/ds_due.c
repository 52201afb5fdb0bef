/*
 * ds_due.c — what is due and why (docs/run.md, step 5): pure functions of an
 * item, what is known about its key, and the time. Reading that knowledge
 * from the database is ds_state_load, an engine operation (engine/sqlite/sqlite_state.c owns the
 * cache tables' SQL).
 *
 * Due: no value; the value's age (now - created_at) >= refresh; the value
 * expired (expires_at <= now); or the spec hash differs from the value's
 * (unknown = differs); or the value was created after now (a run with a later
 * --now, a clock set back: its age would be negative). A failed last attempt holds the item back until
 * last_attempt + min(60 * 2^(failures-1), refresh) seconds. --force ignores
 * both rules. With a refresh_key, the refresh age counts from the value's
 * last confirmation when that is later than created_at (ds_fresh.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ds_run.h"

/* Seconds to wait after the failures-th consecutive failure: 1, 2, 4, 8 ...
 * minutes, capped at refresh. The shift is bounded before it could overflow:
 * 60 << 40 is already centuries, far past any refresh. */
static int64_t backoff_secs(const ds_item *it, int64_t failures)
{
    int64_t cap = it->refresh > 0 ? it->refresh : 0;
    if (failures <= 0) return 0;
    if (failures - 1 >= 40) return cap;
    int64_t d = (int64_t)60 << (failures - 1);
    return d < cap ? d : cap;
}

/* a + b without overflow past INT64_MAX (b >= 0). */
static int64_t add_sat(int64_t a, int64_t b)
{
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

/* When the value was last known good: created, or confirmed by an
 * unchanged refresh_key since (a confirmation in the future is ignored). */
static int64_t checked_at(const ds_item *it, const ds_item_state *st, int64_t now)
{
    if (it->refresh_key && st->confirmed_at > st->created_at && st->confirmed_at <= now) return st->confirmed_at;
    return st->created_at;
}

ds_due_reason ds_due(const ds_item *it, const ds_item_state *st, int64_t now, int force, int64_t *next)
{
    if (force) {
        if (next) *next = now;
        return DS_DUE_FORCED;
    }
    ds_due_reason why = DS_DUE_NOT;
    int64_t due_at = now;
    if (!st || !st->has_value) {
        why = DS_DUE_MISSING;
    } else if (st->created_at > now) {
        why = DS_DUE_FUTURE;
    } else if (st->expires_at <= now) {
        why = DS_DUE_EXPIRED;
    } else if (!st->value_hash[0] || strcmp(st->value_hash, it->hash) != 0) {
        why = DS_DUE_CHANGED;
    } else if (now - checked_at(it, st, now) >= it->refresh) {
        why = DS_DUE_REFRESH;
    } else {
        /* Fresh: due again when it reaches refresh age or expires, whichever
         * comes first (refresh < ttl, but the stored row may say otherwise). */
        int64_t r = add_sat(checked_at(it, st, now), it->refresh > 0 ? it->refresh : 0);
        due_at = r < st->expires_at ? r : st->expires_at;
    }
    if (st && st->failures > 0) {
        int64_t retry = add_sat(st->last_attempt, backoff_secs(it, st->failures));
        if (why != DS_DUE_NOT && now < retry) {
            if (next) *next = retry;
            return DS_DUE_BACKOFF;
        }
        if (why == DS_DUE_NOT && retry > due_at) due_at = retry;
    }
    if (next) *next = why == DS_DUE_NOT ? due_at : now;
    return why;
}

void ds_item_state_clear(ds_item_state *st)
{
    if (!st) return;
    free(st->last_error);
    free(st->key_value);
    free(st->value_json);
    free(st->last_runner);
    free(st->lease_runner);
    memset(st, 0, sizeof *st);
}

char *ds_due_explain(const ds_item *it, const ds_item_state *st, int64_t now,
                     ds_due_reason why, int64_t next, char *buf, size_t n)
{
    char a[32], b[32], ts[20];
    switch (why) {
    case DS_DUE_MISSING:
        snprintf(buf, n, "never computed");
        break;
    case DS_DUE_EXPIRED:
        if (st->expires_at == now) snprintf(buf, n, "expired just now");
        else snprintf(buf, n, "expired %s ago", ds_duration_format(now - st->expires_at, a, sizeof a));
        break;
    case DS_DUE_REFRESH:
        snprintf(buf, n, "older than refresh (%s >= %s)%s", ds_duration_format(now - checked_at(it, st, now), a, sizeof a),
                 ds_duration_format(it->refresh, b, sizeof b), it->refresh_key ? "; refresh_key runs first" : "");
        break;
    case DS_DUE_CHANGED:
        snprintf(buf, n, "spec changed");
        break;
    case DS_DUE_FUTURE:
        snprintf(buf, n, "created in the future");
        break;
    case DS_DUE_FORCED:
        snprintf(buf, n, "forced");
        break;
    case DS_DUE_BACKOFF:
        ds_time_format(next, ts);
        snprintf(buf, n, "backoff until %s", ts);
        break;
    case DS_DUE_NOT:
    default:
        snprintf(buf, n, "fresh for %s%s", ds_duration_format(next > now ? next - now : 0, a, sizeof a),
                 st && it->refresh_key && st->confirmed_at > st->created_at ? " (confirmed, key unchanged)" : "");
        break;
    }
    return buf;
}

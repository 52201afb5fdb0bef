/*
 * ds_stats.c — statistics over the history (runtime/ds_history.h): per item
 * computes, failures, streaks, duration percentiles, share of query time and
 * freshness as readers saw it; per run counts and durations. Pure arithmetic
 * over rows already loaded: no database, nothing printed.
 */
#include <stdlib.h>
#include <string.h>
#include "ds_history.h"

int64_t ds_percentile(const int64_t *v, size_t n, int p)
{
    if (n == 0) return -1;
    size_t rank = ((size_t)p * n + 99) / 100;    /* ceil(p/100 * n) */
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return v[rank - 1];
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int selected(const char *key, const char *const *pats, size_t npats)
{
    if (npats == 0) return 1;
    for (size_t i = 0; i < npats; i++)
        if (ds_glob_match(pats[i], key)) return 1;
    return 0;
}

/* The sorted, distinct, selected keys of the plan and the history. *out is
 * an array of borrowed pointers (malloc'd). -1 on OOM. */
static int key_list(const ds_history *h, const char *const *keys, size_t nkeys,
                    const char *const *pats, size_t npats, const char ***out, size_t *n)
{
    const char **v = malloc((nkeys + h->na + 1) * sizeof *v);
    if (!v) return -1;
    size_t k = 0;
    for (size_t i = 0; i < nkeys; i++)
        if (selected(keys[i], pats, npats)) v[k++] = keys[i];
    for (size_t i = 0; i < h->na; i++)
        if (selected(h->a[i].key, pats, npats)) v[k++] = h->a[i].key;
    qsort(v, k, sizeof *v, cmp_str);
    size_t m = 0;
    for (size_t i = 0; i < k; i++)
        if (m == 0 || strcmp(v[m - 1], v[i]) != 0) v[m++] = v[i];
    *out = v;
    *n = m;
    return 0;
}

/* Freshness over [from, to): the union of the live intervals [at,
 * expires_at) of successes (sorted by at), its share of the period and the
 * longest stretch outside it. */
static void freshness(const ds_hist_attempt *const *a, size_t n, int64_t from, int64_t to,
                      double *pct, int64_t *gap)
{
    int64_t pos = from, covered = 0, longest = 0;
    for (size_t i = 0; i < n; i++) {
        if (!a[i]->ok) continue;
        int64_t s = a[i]->at < from ? from : a[i]->at;
        int64_t e = a[i]->expires_at > to ? to : a[i]->expires_at;
        if (e <= pos || s >= to) continue;
        if (s > pos) {
            if (s - pos > longest) longest = s - pos;
            pos = s;
        }
        covered += e - pos;
        pos = e;
    }
    if (to - pos > longest) longest = to - pos;
    *pct = to > from ? 100.0 * (double)covered / (double)(to - from) : 0.0;
    *gap = to > from ? longest : 0;
}

/* Fills one item's statistics from its attempts a[0..n) (by time). dur is
 * scratch space for n values. */
static int item_stats(ds_item_stats *s, const ds_hist_attempt *const *a, size_t n, int64_t *dur,
                      int64_t from, int64_t to)
{
    size_t nd = 0;
    int64_t streak = 0;
    const ds_hist_attempt *last_ok = NULL, *last_fail = NULL;
    s->entries = s->bytes = -1;
    for (size_t i = 0; i < n; i++) {
        if (a[i]->ok) last_ok = a[i];
        if (a[i]->at < from) continue;      /* only a value still live at from */
        if (a[i]->ok) {
            s->computes++;
            streak = 0;
        } else {
            s->failures++;
            last_fail = a[i];
            if (++streak > s->longest_streak) s->longest_streak = streak;
        }
        if (a[i]->duration_ms >= 0) {
            dur[nd++] = a[i]->duration_ms;
            s->total_ms += a[i]->duration_ms;
        }
    }
    qsort(dur, nd, sizeof *dur, cmp_i64);
    s->p50_ms = ds_percentile(dur, nd, 50);
    s->p95_ms = ds_percentile(dur, nd, 95);
    s->max_ms = nd ? dur[nd - 1] : -1;
    if (last_ok) {
        s->entries = last_ok->entries;
        s->bytes = last_ok->bytes;
    }
    if (last_fail && last_fail->error && !(s->last_error = ds_strdup(last_fail->error))) return -1;
    freshness(a, n, from, to, &s->fresh_pct, &s->longest_gap_s);
    return 0;
}

static void run_stats(const ds_history *h, int64_t *dur, ds_run_stats *r)
{
    memset(r, 0, sizeof *r);
    for (size_t i = 0; i < h->nr; i++) {
        const ds_hist_run *x = &h->r[i];
        dur[r->runs++] = x->duration_ms;
        r->skipped += x->skipped;
        r->items_failed += x->items_failed;
        if (strcmp(x->status, "failed") == 0) r->failed++;
        else if (strcmp(x->status, "partial") == 0) r->partial++;
    }
    qsort(dur, (size_t)r->runs, sizeof *dur, cmp_i64);
    r->p50_ms = ds_percentile(dur, (size_t)r->runs, 50);
    r->p95_ms = ds_percentile(dur, (size_t)r->runs, 95);
    r->max_ms = r->runs ? dur[r->runs - 1] : -1;
}

/* The group of key in the plan, or NULL. */
static const char *group_of(const char *key, const char *const *keys, const char *const *groups, size_t nkeys)
{
    for (size_t i = 0; groups && i < nkeys; i++)
        if (strcmp(keys[i], key) == 0) return groups[i];
    return NULL;
}

int ds_stats_compute(const ds_history *h, const char *const *keys, const char *const *groups,
                     size_t nkeys, const char *const *pats, size_t npats, int64_t from, int64_t to,
                     ds_stats *out)
{
    memset(out, 0, sizeof *out);
    out->from = from;
    out->to = to;
    const char **kl = NULL;
    const ds_hist_attempt **mine = malloc((h->na + 1) * sizeof *mine);
    int64_t *dur = malloc((h->na + h->nr + 1) * sizeof *dur);
    size_t nk = 0;
    int rc = -1;
    if (!mine || !dur || key_list(h, keys, nkeys, pats, npats, &kl, &nk)) goto out;
    if (!(out->items = calloc(nk + 1, sizeof *out->items))) goto out;
    for (size_t k = 0; k < nk; k++) {
        ds_item_stats *s = &out->items[out->n++];
        const char *g = group_of(kl[k], keys, groups, nkeys);
        if (!(s->key = ds_strdup(kl[k])) || (g && !(s->group = ds_strdup(g)))) goto out;
        size_t m = 0;   /* one pass per key: a day of a 20-item plan is ~30k rows */
        for (size_t i = 0; i < h->na; i++)
            if (strcmp(h->a[i].key, kl[k]) == 0) mine[m++] = &h->a[i];
        if (item_stats(s, mine, m, dur, from, to)) goto out;
        out->total_ms += s->total_ms;
    }
    for (size_t k = 0; k < out->n; k++)
        out->items[k].share = out->total_ms > 0 ? (double)out->items[k].total_ms / (double)out->total_ms : 0.0;
    run_stats(h, dur, &out->runs);
    rc = 0;
out:
    free(kl);
    free(mine);
    free(dur);
    if (rc) ds_stats_free(out);
    return rc;
}

void ds_stats_free(ds_stats *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->items[i].key);
        free(s->items[i].group);
        free(s->items[i].last_error);
    }
    free(s->items);
    memset(s, 0, sizeof *s);
}

static void json_time(ds_buf *b, int64_t t)
{
    char ts[20];
    ds_time_format(t, ts);
    ds_json_string(b, ts, strlen(ts));
}

/* prefix (the field's name), then v, -1 (unknown) as null. */
static void json_opt(ds_buf *b, const char *prefix, int64_t v)
{
    ds_buf_adds(b, prefix);
    if (v < 0) ds_buf_adds(b, "null");
    else ds_json_int(b, v);
}

static void json_str(ds_buf *b, const char *s)
{
    if (s) ds_json_string(b, s, strlen(s));
    else ds_buf_adds(b, "null");
}

void ds_stats_json(const ds_stats *s, ds_buf *b)
{
    ds_buf_adds(b, "{\"from\":");
    json_time(b, s->from);
    ds_buf_adds(b, ",\"to\":");
    json_time(b, s->to);
    const ds_run_stats *r = &s->runs;
    ds_buf_printf(b, ",\"runs\":{\"count\":%lld", (long long)r->runs);
    json_opt(b, ",\"p50_ms\":", r->p50_ms);
    json_opt(b, ",\"p95_ms\":", r->p95_ms);
    json_opt(b, ",\"max_ms\":", r->max_ms);
    ds_buf_printf(b, ",\"skipped\":%lld,\"failed\":%lld,\"partial\":%lld,\"items_failed\":%lld}",
                  (long long)r->skipped, (long long)r->failed, (long long)r->partial,
                  (long long)r->items_failed);
    ds_buf_printf(b, ",\"query_ms\":%lld,\"items\":[", (long long)s->total_ms);
    for (size_t i = 0; i < s->n; i++) {
        const ds_item_stats *it = &s->items[i];
        ds_buf_adds(b, i ? ",{\"key\":" : "{\"key\":");
        json_str(b, it->key);
        ds_buf_adds(b, ",\"group\":");
        json_str(b, it->group);
        ds_buf_printf(b, ",\"computes\":%lld,\"failures\":%lld,\"longest_failure_streak\":%lld",
                      (long long)it->computes, (long long)it->failures, (long long)it->longest_streak);
        json_opt(b, ",\"p50_ms\":", it->p50_ms);
        json_opt(b, ",\"p95_ms\":", it->p95_ms);
        json_opt(b, ",\"max_ms\":", it->max_ms);
        ds_buf_printf(b, ",\"query_ms\":%lld,\"share\":", (long long)it->total_ms);
        ds_json_double(b, it->share);
        json_opt(b, ",\"entries\":", it->entries);
        json_opt(b, ",\"bytes\":", it->bytes);
        ds_buf_adds(b, ",\"fresh_pct\":");
        ds_json_double(b, it->fresh_pct);
        ds_buf_printf(b, ",\"longest_stale_s\":%lld,\"last_error\":", (long long)it->longest_gap_s);
        json_str(b, it->last_error);
        ds_buf_addc(b, '}');
    }
    ds_buf_adds(b, "]}\n");
}

/* ---------------------------------------------------------------- history frees */

void ds_history_free(ds_history *h)
{
    for (size_t i = 0; i < h->na; i++) {
        free(h->a[i].key);
        free(h->a[i].error);
    }
    free(h->a);
    free(h->r);
    memset(h, 0, sizeof *h);
}

void ds_hist_totals_free(ds_hist_totals *t)
{
    for (size_t i = 0; i < t->n; i++) free(t->t[i].key);
    free(t->t);
    memset(t, 0, sizeof *t);
}

const ds_hist_total *ds_hist_totals_find(const ds_hist_totals *t, const char *key)
{
    size_t a = 0, b = t->n;
    while (a < b) {     /* by key, strcmp order (history_totals, engine/engine.h) */
        size_t m = a + (b - a) / 2;
        int c = strcmp(t->t[m].key, key);
        if (c == 0) return &t->t[m];
        if (c < 0) a = m + 1; else b = m;
    }
    return NULL;
}

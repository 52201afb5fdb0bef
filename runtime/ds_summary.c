/*
 * ds_summary.c — the summary a run prints and records in dashspec_runs
 * (docs/run.md, "The summary"), written with common/ds_json.c's
 * writer: exact integers, every string (keys included) with invalid UTF-8
 * repaired, one line.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ds_run_int.h"

static int cmp_cfail(const void *a, const void *b)
{
    return strcmp(((const cfail *)a)->name, ((const cfail *)b)->name);
}

/* "key":  (a JSON string; invalid UTF-8 repaired, as for every string). */
static void key(ds_buf *b, const char *k)
{
    ds_json_string(b, k, strlen(k));
    ds_buf_addc(b, ':');
}

static void int_member(ds_buf *b, const char *k, int64_t v)
{
    key(b, k);
    ds_json_int(b, v);
}

/* The entries of kind's OK items as {"key":entries,...}. */
static void cached(ds_buf *b, const job *jobs, size_t n, ds_kind kind)
{
    int first = 1;
    ds_buf_addc(b, '{');
    for (size_t i = 0; i < n; i++) {
        const job *j = &jobs[i];
        if (j->state != J_OK || j->res.confirmed || (j->it->kind == DS_KIND_CHART) != (kind == DS_KIND_CHART)) continue;
        if (!first) ds_buf_addc(b, ',');
        first = 0;
        int_member(b, j->it->key, j->res.entries);
    }
    ds_buf_addc(b, '}');
}

char *ds_run_summary_json(const job *jobs, size_t n, const cfail *cf, size_t ncf, int64_t duration_ms, tally *t)
{
    memset(t, 0, sizeof *t);
    cfail *fl = calloc(n + ncf + 1, sizeof *fl);
    size_t nfl = 0;
    if (!fl) return NULL;
    for (size_t i = 0; i < n; i++) {
        const job *j = &jobs[i];
        if (j->state == J_OK && j->res.confirmed) {
            t->ok++;
            t->confirmed++;
        } else if (j->state == J_OK) {
            t->ok++;
            t->entries += j->res.entries;
            if (j->it->kind == DS_KIND_CHART) t->chart_points += j->res.entries;
            else t->metric_entries += j->res.entries;
        } else if (j->state == J_FAILED) {
            fl[nfl].name = j->it->key;
            fl[nfl++].msg = j->err ? j->err : "failed";
        } else {
            t->skipped++;
        }
    }
    for (size_t i = 0; i < ncf; i++) fl[nfl++] = cf[i];
    qsort(fl, nfl, sizeof *fl, cmp_cfail);
    t->failed = (int64_t)nfl;

    ds_buf b;
    ds_buf_init(&b);
    char head[96];
    snprintf(head, sizeof head, "Pre-computed %" PRId64 " cache entries in %" PRId64 "ms", t->entries, duration_ms);
    ds_buf_addc(&b, '{');
    key(&b, "summary");
    ds_json_string(&b, head, strlen(head));
    ds_buf_adds(&b, ",\"details\":{\"metrics_cached\":");
    cached(&b, jobs, n, DS_KIND_METRIC);
    ds_buf_adds(&b, ",\"charts_cached\":");
    cached(&b, jobs, n, DS_KIND_CHART);
    ds_buf_addc(&b, ',');
    int_member(&b, "skipped", t->skipped);
    ds_buf_adds(&b, ",\"failed\":{");
    for (size_t i = 0; i < nfl; i++) {
        if (i) ds_buf_addc(&b, ',');
        key(&b, fl[i].name);
        ds_json_string(&b, fl[i].msg, strlen(fl[i].msg));
    }
    ds_buf_adds(&b, "},");
    int_member(&b, "duration_ms", duration_ms);
    if (t->confirmed) {
        /* refresh_key: values confirmed, not recomputed (absent when none). */
        ds_buf_adds(&b, ",\"confirmed\":[");
        int first = 1;
        for (size_t i = 0; i < n; i++) {
            if (jobs[i].state != J_OK || !jobs[i].res.confirmed) continue;
            if (!first) ds_buf_addc(&b, ',');
            first = 0;
            ds_json_string(&b, jobs[i].it->key, strlen(jobs[i].it->key));
        }
        ds_buf_addc(&b, ']');
    }
    ds_buf_adds(&b, "},\"metrics\":{");
    int_member(&b, "entries_cached", t->entries);
    ds_buf_addc(&b, ',');
    int_member(&b, "metrics_entries", t->metric_entries);
    ds_buf_addc(&b, ',');
    int_member(&b, "chart_points", t->chart_points);
    ds_buf_addc(&b, ',');
    int_member(&b, "items_run", t->ok + t->failed);
    ds_buf_adds(&b, "}}");
    free(fl);
    return ds_buf_steal(&b);
}

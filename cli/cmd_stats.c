/*
 * cmd_stats.c — `dashspec stats`: the history of the cache over a period,
 * per item (computes, failures, durations, share of query time, freshness as
 * readers saw it) and per run. The numbers come from runtime/ds_stats.c over
 * the rows engine/sqlite/sqlite_history.c reads; this file parses options
 * and prints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "ds_history.h"
#include "ds_read.h"
#include "ds_select.h"
#include "render.h"

const char usage_stats[] =
    "usage: dashspec stats [--db FILE] [--since DUR] [--select SEL]... [--exclude SEL]...\n"
    "                      [--json] [--now TS]\n"
    "\n"
    "Shows what the cache did over the last DUR (default 24h), from the history\n"
    "`run` records (one dashspec_history row per item attempt, one dashspec_runs\n"
    "row per run). Per item: computes, failures, the longest failure streak,\n"
    "p50/p95/max query duration, result rows and bytes of the newest value, share\n"
    "of all query time, and freshness as readers saw it: the percentage of the\n"
    "period during which a value was fresh (the union of [created_at, expires_at)\n"
    "of its computes) and the longest stretch it was expired or missing. Per run:\n"
    "count, p50/p95/max duration, failed and partial runs, skipped items.\n"
    "\n"
    "  --db FILE      the database (default: $DASHSPEC_DB); opened read-only\n"
    "  --since DUR    the period: 90m, 24h, 7d ... back from now (default 24h)\n"
    "  --select SEL   only the selected items: a key glob, tag:NAME, group:NAME\n"
    "                 or file:PATH; repeatable (a union); keys no longer in the\n"
    "                 plan match key globs only\n"
    "  --exclude SEL  leave these out (same forms)\n"
    "  --json         one JSON object (see docs/operations.md, \"Cache statistics\")\n"
    "  --now TS       the UTC time 'YYYY-MM-DD HH:MM:SS' that ends the period\n"
    "\n"
    "The history lasts as long as the run log: the newest keep_runs runs\n"
    "(default 10000; a setting in dashspec_settings, see docs/operations.md).\n"
    "\n"
    "exit status: 0 printed; 2 usage error; 5 the database cannot be opened or read.\n";

/* With a selection: the keys the statistics cover, as exact globs for
 * ds_stats_compute: the selected plan items (sel_r), and the keys of the
 * history that are not in the plan (all_r) and that a key-only view
 * selects. One pattern that matches no key when nothing is selected. */
static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int selected_pats(const ds_select *sel, const ds_report *sel_r, const ds_report *all_r,
                         const ds_history *h, char ***pats, size_t *n)
{
    *n = 0;
    const char **hk = calloc(h->na + 1, sizeof *hk);
    if (!hk || !(*pats = calloc(sel_r->n + h->na + 1, sizeof **pats))) { free(hk); return -1; }
    size_t nh = 0;
    for (size_t i = 0; i < h->na; i++) hk[nh++] = h->a[i].key;
    qsort(hk, nh, sizeof *hk, cmp_key);
    for (size_t i = 0; i < sel_r->n; i++)
        if (!((*pats)[(*n)++] = ds_glob_quote(sel_r->items[i].key))) goto oom;
    for (size_t i = 0; i < nh; i++) {
        if (i && strcmp(hk[i - 1], hk[i]) == 0) continue;
        int planned = 0;
        for (size_t j = 0; j < all_r->n && !planned; j++) planned = strcmp(all_r->items[j].key, hk[i]) == 0;
        ds_sel_view v = {hk[i], NULL, NULL, 0, NULL};
        if (planned || !ds_select_match(sel, &v)) continue;
        if (!((*pats)[(*n)++] = ds_glob_quote(hk[i]))) goto oom;
    }
    if (*n == 0 && !((*pats)[(*n)++] = ds_strdup(""))) goto oom;
    free(hk);
    return 0;
oom:
    free(hk);
    return -1;
}

/* The plan's keys and groups (status' view of them), borrowed from r. */
static int plan_keys(const ds_report *r, const char ***keys, const char ***groups)
{
    *keys = calloc(r->n + 1, sizeof **keys);
    *groups = calloc(r->n + 1, sizeof **groups);
    if (!*keys || !*groups) return -1;
    for (size_t i = 0; i < r->n; i++) {
        (*keys)[i] = r->items[i].key;
        (*groups)[i] = r->items[i].group;
    }
    return 0;
}

static void cell_ms(cli_table *tb, int64_t ms)
{
    char b[48];
    if (ms < 0) cli_table_cell(tb, "-", CLI_DIM);
    else cli_table_cell(tb, cli_millis(ms, b, sizeof b), CLI_NONE);
}

static void cell_num(cli_table *tb, int64_t v)
{
    if (v < 0) cli_table_cell(tb, "-", CLI_DIM);
    else cli_table_cellf(tb, CLI_NONE, "%lld", (long long)v);
}

static int stats_print(const ds_stats *s, const cli_term *t, ds_buf *b)
{
    char f[20], to[20], d1[48], d2[48], d3[48];
    ds_time_format(s->from, f);
    ds_time_format(s->to, to);
    const ds_run_stats *r = &s->runs;
    ds_buf_printf(b, "%s .. %s UTC\n", f, to);
    ds_buf_printf(b, "runs: %lld (p50 %s, p95 %s, max %s), %lld failed, %lld partial, "
                     "%lld items skipped, %lld item failures\n",
                  (long long)r->runs, r->p50_ms < 0 ? "-" : cli_millis(r->p50_ms, d1, sizeof d1),
                  r->p95_ms < 0 ? "-" : cli_millis(r->p95_ms, d2, sizeof d2),
                  r->max_ms < 0 ? "-" : cli_millis(r->max_ms, d3, sizeof d3),
                  (long long)r->failed, (long long)r->partial, (long long)r->skipped,
                  (long long)r->items_failed);
    ds_buf_printf(b, "query time: %s\n\n", cli_millis(s->total_ms, d1, sizeof d1));
    if (s->n == 0) {
        ds_buf_adds(b, "no items (nothing compiled or run in the period)\n");
        return b->oom ? -1 : 0;
    }
    const char *hdr[] = {"key", "computes", "failures", "streak", "p50", "p95", "max", "share",
                         "rows", "bytes", "fresh", "longest stale"};
    cli_table *tb = cli_table_new(12, hdr);
    if (!tb) return -1;
    for (size_t j = 1; j < 12; j++) cli_table_align(tb, j, CLI_RIGHT);
    for (size_t i = 0; i < s->n; i++) {
        const ds_item_stats *it = &s->items[i];
        cli_table_cell(tb, it->key, CLI_NONE);
        cell_num(tb, it->computes);
        cli_table_cellf(tb, it->failures ? CLI_RED : CLI_NONE, "%lld", (long long)it->failures);
        cell_num(tb, it->longest_streak);
        cell_ms(tb, it->p50_ms);
        cell_ms(tb, it->p95_ms);
        cell_ms(tb, it->max_ms);
        cli_table_cellf(tb, CLI_NONE, "%.1f%%", 100.0 * it->share);
        cell_num(tb, it->entries);
        cell_num(tb, it->bytes);
        cli_table_cellf(tb, it->fresh_pct >= 99.95 ? CLI_GREEN : CLI_YELLOW, "%.1f%%", it->fresh_pct);
        cli_table_cell(tb, it->longest_gap_s ? cli_duration(it->longest_gap_s, d1, sizeof d1) : "0s", CLI_NONE);
    }
    int rc = cli_table_render(tb, t, b);
    cli_table_free(tb);
    return rc || b->oom ? -1 : 0;
}

int cmd_stats(int argc, char **argv)
{
    const char *dbopt = NULL, *nowopt = NULL, *sinceopt = NULL, *db, *why = NULL;
    const char **keys = NULL, **groups = NULL;
    char **pats = NULL;
    size_t npats = 0;
    cli_sel cs = {0};
    ds_select sel;
    ds_report all;
    memset(&all, 0, sizeof all);
    ds_select_init(&sel);
    int json = 0, rc;
    int64_t now, since = 86400;
    ds_diag d;
    ds_report r;
    ds_history h = {0};
    ds_db *conn = NULL;
    ds_stats s = {0};
    ds_buf b;
    memset(&r, 0, sizeof r);
    ds_diag_init(&d);
    ds_buf_init(&b);
    const cli_opt opts[] = {
        {"--db", &dbopt, NULL, NULL, NULL},
        {"--now", &nowopt, NULL, NULL, NULL},
        {"--since", &sinceopt, NULL, NULL, NULL},
        CLI_SEL_OPTS(cs),
        {"--json", NULL, &json, NULL, NULL},
        {NULL, NULL, NULL, NULL, NULL}
    };
    if (cli_parse("stats", argc, argv, opts, NULL, NULL) || cli_sel_build("stats", &cs, NULL, 0, &sel)) {
        rc = DS_USAGE;
        goto out;
    }
    if (!(db = cli_db(dbopt))) { rc = cli_usage_error("stats", "no database given (use --db FILE or set DASHSPEC_DB)"); goto out; }
    if (cli_now("stats", nowopt, &now)) { rc = DS_USAGE; goto out; }
    if (sinceopt && (ds_duration_parse(sinceopt, &since, &why) || since <= 0)) {
        rc = cli_usage_error("stats", "--since '%s': %s", sinceopt, why ? why : "must be more than 0s");
        goto out;
    }
    int on = ds_select_active(&sel);
    if ((rc = ds_read_status_sel(db, now, on ? &sel : NULL, &r, &d)) != DS_OK ||
        (on && (rc = ds_read_status(db, now, &all, &d)) != DS_OK)) {
        rc = cli_report(&d, rc);
        goto out;
    }
    if (ds_db_open(db, DS_DB_READONLY, &conn, &d)) { rc = cli_report(&d, DS_DBERROR); goto out; }
    if (ds_history_load(conn, now - since, now, &h, &d)) { rc = cli_report(&d, DS_DBERROR); goto out; }
    if (plan_keys(&r, &keys, &groups) || (on && selected_pats(&sel, &r, &all, &h, &pats, &npats)) ||
        ds_stats_compute(&h, keys, groups, r.n, (const char *const *)pats, npats, now - since, now, &s)) {
        fprintf(stderr, "dashspec: out of memory\n");
        rc = DS_FAILED;
        goto out;
    }
    if (json) {
        ds_stats_json(&s, &b);
    } else {
        cli_term t;
        cli_term_init(&t, stdout);
        if (stats_print(&s, &t, &b)) b.oom = 1;
    }
    if (b.oom) { fprintf(stderr, "dashspec: out of memory\n"); rc = DS_FAILED; goto out; }
    fwrite(b.p, 1, b.len, stdout);
    rc = DS_OK;
out:
    ds_stats_free(&s);
    ds_history_free(&h);
    ds_db_close(conn);
    ds_report_free(&r);
    ds_buf_free(&b);
    ds_diag_free(&d);
    free(keys);
    free(groups);
    for (size_t i = 0; pats && pats[i]; i++) free(pats[i]);
    free(pats);
    ds_report_free(&all);
    cli_sel_free(&cs);
    ds_select_free(&sel);
    return rc;
}

/*
 * report_html.c — the page of `dashspec report`: a header with the status
 * counts and the runs over the period, then one section per group with one
 * card per item (its value as a number, a small table or an SVG chart; its
 * state, age, last duration, error and statistics), then the statistics of
 * every item in one table. Inline CSS, no script, no external resource: the
 * file is the whole page.
 *
 * Every string from the database (keys, groups, values, errors) goes
 * through cli_html_esc; nothing from it is ever copied raw.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "render.h"
#include "report.h"

#define MAX_TABLE_ROWS 6    /* rows shown of a rows value; the rest is counted */

void cli_html_escn(ds_buf *b, const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        const char *e = s[i] == '&' ? "&amp;" : s[i] == '<' ? "&lt;" : s[i] == '>' ? "&gt;"
                      : s[i] == '"' ? "&quot;" : s[i] == '\'' ? "&#39;" : NULL;
        if (!e && s[i] != '\0') continue;
        ds_buf_add(b, s + run, i - run);
        if (e) ds_buf_adds(b, e);
        run = i + 1;            /* a NUL byte is dropped */
    }
    ds_buf_add(b, s + run, n - run);
}

void cli_html_esc(ds_buf *b, const char *s)
{
    if (s) cli_html_escn(b, s, strlen(s));
}

static const char css[] =
    "body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;background:#f4f5f7;color:#1d2330}"
    "header{background:#1d2330;color:#fff;padding:10px 24px}header h1{margin:0 0 4px;font-size:20px}"
    "header p{margin:0;color:#c8cdd8}main{padding:8px 24px 24px}"
    "h2{font-size:16px;margin:14px 0 6px;border-bottom:2px solid #c8cdd8;padding-bottom:4px}"
    ".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:8px}"
    ".item{background:#fff;border:1px solid #d8dbe2;border-radius:6px;padding:10px 12px;min-width:0}"
    ".item h3{margin:0;font-size:14px;font-family:ui-monospace,monospace;overflow-wrap:anywhere}"
    ".desc{color:#5a6275;margin:1px 0 4px;font-size:12px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}"
    ".stats{font-size:10.5px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}"
    ".big{font-size:30px;font-weight:600;margin:2px 0}"
    "table{border-collapse:collapse;font-size:12px;margin:4px 0}"
    "td,th{border-bottom:1px solid #e4e6eb;padding:1px 8px 1px 0;text-align:left;vertical-align:top;white-space:nowrap}"
    "td.s{white-space:normal;overflow-wrap:anywhere;min-width:8em}.tw{overflow-x:auto;max-width:100%}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".meta{font-size:11px;color:#5a6275;margin:4px 0 0}.meta b{color:#1d2330;font-weight:600}"
    ".state{display:inline-block;border-radius:3px;padding:0 6px;font-size:11px;font-weight:600;color:#fff}"
    ".fresh{background:#1a7f37}.expired{background:#b35900}.missing{background:#57606a}"
    ".error{color:#b3261e;font-size:12px;overflow-wrap:anywhere;margin:4px 0 0}"
    ".more{color:#5a6275;font-size:11px}"
    "svg{width:100%;height:auto;display:block}svg text{font-size:11px;fill:#1d2330}"
    "svg .grid{stroke:#e4e6eb}svg .axis{stroke:#5a6275}svg .line{fill:none;stroke-width:1.6}"
    "svg .title{font-size:11px;fill:#5a6275}svg .lane{font-size:10px}svg .legend{font-size:11px}"
    "figure{margin:4px 0}figure.history{max-width:560px}figcaption{font-weight:600;margin-bottom:4px}"
    ".summary{background:#fff;border:1px solid #d8dbe2;border-radius:6px;padding:10px 12px;margin-top:12px}";

/* A JSON number or scalar as text: integers without a fraction. */
static void cell_value(ds_buf *b, const cJSON *v)
{
    if (cJSON_IsString(v)) cli_html_esc(b, v->valuestring);
    else if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == floor(d) && fabs(d) < 1e15) ds_buf_printf(b, "%.0f", d);
        else ds_buf_printf(b, "%.6g", d);
    } else if (cJSON_IsBool(v)) ds_buf_adds(b, cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsNull(v) || !v) ds_buf_adds(b, "<span class=\"more\">null</span>");
    else {
        char *t = cJSON_PrintUnformatted(v);
        if (!t) { b->oom = 1; return; }
        cli_html_esc(b, t);
        cJSON_free(t);
    }
}

static void td(ds_buf *b, const cJSON *v)
{
    /* Long text wraps; the rest stays on one line (the table scrolls). */
    ds_buf_adds(b, cJSON_IsNumber(v) ? "<td class=\"n\">"
                   : cJSON_IsString(v) && strlen(v->valuestring) > 40 ? "<td class=\"s\">" : "<td>");
    cell_value(b, v);
    ds_buf_adds(b, "</td>");
}

/* An object (row, map) as a two-column table. */
static void kv_table(ds_buf *b, const cJSON *o)
{
    ds_buf_adds(b, "<table class=\"value\">");
    for (const cJSON *f = o->child; f; f = f->next) {
        ds_buf_adds(b, "<tr><th>");
        cli_html_esc(b, f->string);
        ds_buf_adds(b, "</th>");
        td(b, f);
        ds_buf_adds(b, "</tr>");
    }
    ds_buf_adds(b, "</table>");
}

/* An array of objects (rows) as a table; the first row names the columns. */
static void rows_table(ds_buf *b, const cJSON *a)
{
    const cJSON *first = a->child;
    int n = cJSON_GetArraySize(a), k = 0;
    if (!first) { ds_buf_adds(b, "<p class=\"more\">no rows</p>"); return; }
    ds_buf_adds(b, "<div class=\"tw\"><table class=\"value\"><tr>");
    for (const cJSON *f = first->child; f; f = f->next) {
        ds_buf_adds(b, "<th>");
        cli_html_esc(b, f->string);
        ds_buf_adds(b, "</th>");
    }
    ds_buf_adds(b, "</tr>");
    for (const cJSON *r = first; r && k < MAX_TABLE_ROWS; r = r->next, k++) {
        ds_buf_adds(b, "<tr>");
        for (const cJSON *f = first->child; f; f = f->next)
            td(b, f->string ? cJSON_GetObjectItemCaseSensitive(r, f->string) : NULL);
        ds_buf_adds(b, "</tr>");
    }
    ds_buf_adds(b, "</table></div>");
    if (n > k) ds_buf_printf(b, "<p class=\"more\">\xE2\x80\xA6 %d more rows (%d in all)</p>", n - k, n);
}

/* The y title of a series chart: its y column when there is one. */
static const char *y_title(const ds_item *it)
{
    if (!it) return NULL;
    if (it->ny == 1) return it->y[0];
    return NULL;
}

/* The value of one item, by shape. */
static void value_html(ds_buf *b, const cli_page_item *pi)
{
    if (!pi->json) { ds_buf_adds(b, "<p class=\"more\">no value</p>"); return; }
    cJSON *v = cJSON_ParseWithLength(pi->json, pi->len);
    if (!v) {
        ds_buf_adds(b, "<p class=\"error\">the cached value is not JSON: ");
        cli_html_escn(b, pi->json, pi->len > 200 ? 200 : pi->len);
        ds_buf_adds(b, "</p>");
        return;
    }
    const ds_item *it = pi->plan;
    int series = cJSON_IsObject(v) && cJSON_GetObjectItemCaseSensitive(v, "series");
    if (series && cli_svg_series(b, v, it && it->series_by, it ? it->x : NULL, y_title(it)) == 0) {
        /* drawn */
    } else if (pi->st->kind == DS_KIND_CHART && cJSON_IsArray(v) && cli_svg_timeline(b, v) == 0) {
        /* drawn */
    } else if (cJSON_IsArray(v)) {
        rows_table(b, v);
    } else if (cJSON_IsObject(v)) {
        kv_table(b, v);
    } else {
        ds_buf_adds(b, "<p class=\"big\">");
        cell_value(b, v);
        ds_buf_adds(b, "</p>");
    }
    cJSON_Delete(v);
}

static void millis(ds_buf *b, int64_t ms)
{
    char t[48];
    ds_buf_adds(b, ms < 0 ? "-" : cli_millis(ms, t, sizeof t));
}

/* p50, p95 and max as three numeric cells, the first one already open:
 * "P50</td><td class="n">P95</td><td class="n">MAX". */
static void percentile_cells(ds_buf *b, int64_t p50, int64_t p95, int64_t max)
{
    millis(b, p50);
    ds_buf_adds(b, "</td><td class=\"n\">");
    millis(b, p95);
    ds_buf_adds(b, "</td><td class=\"n\">");
    millis(b, max);
}

/* State, age, ttl, last duration, entries; the error when failing; stats. */
static void meta_html(ds_buf *b, const cli_page *p, const cli_page_item *pi)
{
    const ds_report_item *st = pi->st;
    char t[48];
    ds_buf_printf(b, "<p class=\"meta\"><span class=\"state %s\">%s</span>", ds_freshness_name(st->state),
                  ds_freshness_name(st->state));
    if (st->state != DS_MISSING)
        ds_buf_printf(b, " age <b>%s</b>", cli_duration(p->now - st->created_at, t, sizeof t));
    ds_buf_printf(b, " \xC2\xB7 ttl <b>%s</b> \xC2\xB7 last duration <b>", cli_duration(st->ttl, t, sizeof t));
    millis(b, st->last_duration_ms);
    ds_buf_adds(b, "</b>");
    if (st->entries >= 0) ds_buf_printf(b, " \xC2\xB7 rows <b>%lld</b>", (long long)st->entries);
    ds_buf_adds(b, "</p>");
    if (st->failures > 0) {
        ds_buf_printf(b, "<p class=\"error\">failed %lld\xC3\x97: ", (long long)st->failures);
        cli_html_esc(b, st->last_error ? st->last_error : "(no message)");
        ds_buf_adds(b, "</p>");
    }
    const ds_item_stats *s = pi->stats;
    if (s) {
        /* One line: what `stats` says of the item over the period (its title). */
        ds_buf_printf(b, "<p class=\"meta stats\" title=\"last %s\"><b>%lld</b> ok \xC2\xB7 <b>%lld</b> failed"
                         " \xC2\xB7 p50/p95 <b>", cli_duration(p->since, t, sizeof t),
                      (long long)s->computes, (long long)s->failures);
        millis(b, s->p50_ms);
        ds_buf_adds(b, "/");
        millis(b, s->p95_ms);
        ds_buf_printf(b, "</b> \xC2\xB7 fresh <b>%.0f%%</b> \xC2\xB7 max stale <b>%s</b></p>",
                      s->fresh_pct, cli_duration(s->longest_gap_s, t, sizeof t));
    }
}

static void item_html(ds_buf *b, const cli_page *p, const cli_page_item *pi)
{
    int chart = pi->st->kind == DS_KIND_CHART;
    ds_buf_printf(b, "<article class=\"item %s\" data-key=\"", chart ? "chart-item" : "metric-item");
    cli_html_esc(b, pi->st->key);
    ds_buf_printf(b, "\" data-state=\"%s\"><h3>", ds_freshness_name(pi->st->state));
    cli_html_esc(b, pi->st->key);
    ds_buf_adds(b, "</h3>");
    if (pi->plan && pi->plan->description) {
        /* One line; the whole text as its tooltip. */
        ds_buf_adds(b, "<p class=\"desc\" title=\"");
        cli_html_esc(b, pi->plan->description);
        ds_buf_adds(b, "\">");
        cli_html_esc(b, pi->plan->description);
        ds_buf_adds(b, "</p>");
    }
    value_html(b, pi);
    meta_html(b, p, pi);
    ds_buf_adds(b, "</article>");
}

static int same_group(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* One section per group, in order of first appearance; items by key inside. */
static void groups_html(ds_buf *b, const cli_page *p)
{
    char *done = calloc(p->n + 1, 1);
    if (!done) { b->oom = 1; return; }
    for (size_t i = 0; i < p->n; i++) {
        if (done[i]) continue;
        const char *g = p->items[i].st->group;
        ds_buf_adds(b, "<section class=\"group\"><h2>");
        cli_html_esc(b, g ? g : "(no group)");
        ds_buf_adds(b, "</h2><div class=\"grid\">");
        for (size_t j = i; j < p->n; j++) {
            if (done[j] || !same_group(g, p->items[j].st->group)) continue;
            done[j] = 1;
            item_html(b, p, &p->items[j]);
        }
        ds_buf_adds(b, "</div></section>");
    }
    free(done);
}

static void th(ds_buf *b, const char *const *h, size_t n)
{
    ds_buf_adds(b, "<tr>");
    for (size_t i = 0; i < n; i++) ds_buf_printf(b, "<th%s>%s</th>", i ? " class=\"n\"" : "", h[i]);
    ds_buf_adds(b, "</tr>");
}

/* The runs and every item's statistics over the period. */
static void stats_html(ds_buf *b, const cli_page *p)
{
    const ds_stats *s = p->stats;
    const ds_run_stats *r = &s->runs;
    char t[48];
    ds_buf_printf(b, "<section class=\"summary\" id=\"stats\"><h2>Last %s</h2>", cli_duration(p->since, t, sizeof t));
    static const char *const rh[] = {"runs", "p50", "p95", "max", "failed", "partial", "items skipped", "query time"};
    ds_buf_adds(b, "<table class=\"runs\">");
    th(b, rh, 8);
    ds_buf_printf(b, "<tr><td class=\"n\">%lld</td><td class=\"n\">", (long long)r->runs);
    percentile_cells(b, r->p50_ms, r->p95_ms, r->max_ms);
    ds_buf_printf(b, "</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td><td class=\"n\">",
                  (long long)r->failed, (long long)r->partial, (long long)r->skipped);
    millis(b, s->total_ms);
    ds_buf_adds(b, "</td></tr></table>");
    cli_svg_runs(b, p->hist);
    static const char *const ih[] = {"key", "computes", "failures", "streak", "p50", "p95", "max",
                                     "share", "rows", "bytes", "fresh", "longest stale"};
    ds_buf_adds(b, "<table class=\"item-stats\">");
    th(b, ih, 12);
    for (size_t i = 0; i < s->n; i++) {
        const ds_item_stats *it = &s->items[i];
        ds_buf_adds(b, "<tr><td>");
        cli_html_esc(b, it->key);
        ds_buf_printf(b, "</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td><td class=\"n\">",
                      (long long)it->computes, (long long)it->failures, (long long)it->longest_streak);
        percentile_cells(b, it->p50_ms, it->p95_ms, it->max_ms);
        ds_buf_printf(b, "</td><td class=\"n\">%.1f%%</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td>"
                         "<td class=\"n\">%.1f%%</td><td class=\"n\">%s</td></tr>",
                      100.0 * it->share, (long long)it->entries, (long long)it->bytes, it->fresh_pct,
                      cli_duration(it->longest_gap_s, t, sizeof t));
    }
    ds_buf_adds(b, "</table></section>");
}

void cli_report_html(const cli_page *p, ds_buf *b)
{
    char now[20];
    ds_time_format(p->now, now);
    const ds_report *r = p->status;
    ds_buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                   "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                   "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
                   "<title>dashspec report \xE2\x80\x94 ");
    cli_html_esc(b, p->db);
    ds_buf_printf(b, "</title><style>%s</style></head><body><header><h1>dashspec report</h1><p>", css);
    cli_html_esc(b, p->db);
    ds_buf_printf(b, " \xC2\xB7 %s UTC \xC2\xB7 %zu items: %zu fresh, %zu expired, %zu missing, %zu failing",
                  now, r->n, r->fresh, r->expired, r->missing, r->failing);
    if (r->norphans) ds_buf_printf(b, " (%zu orphaned cache rows)", r->norphans);
    ds_buf_adds(b, "</p></header><main>");
    if (r->n == 0) ds_buf_adds(b, "<p>No items in the plan (<code>dashspec compile --db FILE</code> stores one).</p>");
    groups_html(b, p);
    stats_html(b, p);
    ds_buf_adds(b, "</main></body></html>\n");
}

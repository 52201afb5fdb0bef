/*
 * report.h — `dashspec report`: one self-contained HTML page (inline CSS and
 * SVG, no script, no network) of every item of the dashboard. cmd_report.c
 * gathers the data, report_html.c writes the page, report_svg.c the charts.
 * Every string that comes from the database is escaped on the way out.
 */
#ifndef DS_REPORT_H
#define DS_REPORT_H

#include <cJSON.h>
#include "ds_common.h"
#include "ds_history.h"
#include "ds_read.h"

/* One item of the page; everything borrowed. */
typedef struct cli_page_item {
    const ds_report_item *st;   /* status of the item (never NULL) */
    const ds_item *plan;        /* its plan row (shape, description, x, y), or NULL */
    const char *json;           /* the cached value, even when expired; NULL when missing */
    size_t len;
    const ds_item_stats *stats; /* its statistics over the period, or NULL */
} cli_page_item;

typedef struct cli_page {
    const char *db;             /* the database path, as given */
    int64_t now, since;         /* the time the page describes; the stats' period (s) */
    const ds_report *status;
    const ds_stats *stats;
    const ds_history *hist;     /* the period's attempts and runs */
    cli_page_item *items;       /* in the status report's order (by key) */
    size_t n;
} cli_page;

/* Appends the whole page to b. Cannot fail (b records OOM). */
void cli_report_html(const cli_page *p, ds_buf *b);

/* Appends s[0..n) escaped for HTML text and attribute values (& < > " '). */
void cli_html_escn(ds_buf *b, const char *s, size_t n);
void cli_html_esc(ds_buf *b, const char *s);    /* NULL appends nothing */

/* ---------------------------------------------------------------- charts (report_svg.c) */

/* Appends an <svg class="chart"> of a series value {"x": [...], "series":
 * {name: [...]}} with axes, tick labels, axis titles and a legend: stacked
 * bars when stacked and no value is negative, else lines. xtitle and ytitle
 * may be NULL. Returns 0, or -1 (nothing appended) when v is not a series. */
int cli_svg_series(ds_buf *b, const cJSON *v, int stacked, const char *xtitle, const char *ytitle);
/* Appends an <svg class="chart"> timeline (a Gantt chart) of a rows value
 * whose rows have a text column (the lane) and two 'YYYY-MM-DD HH:MM:SS'
 * columns (start, end); a column "status" colours the bars. Returns 0, or -1
 * (nothing appended) when the rows do not have that form. */
int cli_svg_timeline(ds_buf *b, const cJSON *v);
/* Appends an <svg class="history-chart"> line chart of run durations
 * (ms) over time, or nothing when there are no runs. */
void cli_svg_runs(ds_buf *b, const ds_history *h);

#endif

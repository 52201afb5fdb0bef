/*
 * report_svg.c — the charts of `dashspec report`: inline SVG with axes, tick
 * labels, axis titles and a legend, drawn from a cached value. Line charts and
 * stacked bars for series, a timeline for rows of (lane, start, end), and the
 * history of run durations. No script: the picture is the markup.
 *
 * Geometry is one fixed viewBox (W x H) scaled by CSS; every text comes from
 * the database and goes through cli_html_esc.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"

#define W 420
#define H 206
#define TOP 10
#define BOTTOM 138      /* the x axis */
#define RIGHT 412
#define LEFT 42         /* the y axis (a timeline's lane labels need more) */
#define MAX_SERIES 12   /* more are drawn, but share the palette */

/* Colour-blind-safe palette (Okabe-Ito), then greys. */
static const char *const palette[] = {"#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7",
                                      "#56B4E9", "#F0E442", "#000000", "#999999", "#666666",
                                      "#BBBBBB", "#333333"};

static const char *colour(size_t i) { return palette[i % MAX_SERIES]; }

/* A round step near range/n: 1, 2 or 5 times a power of ten. */
static double nice_step(double range, int n)
{
    if (!(range > 0)) return 1;
    double raw = range / n, e = pow(10, floor(log10(raw))), f = raw / e;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * e;
}

/* A tick label: 1.5k, 2M, 0.25. */
static void num_label(char *out, size_t n, double v)
{
    double a = fabs(v);
    if (a >= 1e9) snprintf(out, n, "%.3gG", v / 1e9);
    else if (a >= 1e6) snprintf(out, n, "%.3gM", v / 1e6);
    else if (a >= 1e4) snprintf(out, n, "%.3gk", v / 1e3);
    else snprintf(out, n, "%.4g", v);
}

/* A JSON scalar as label text (strings as they are, numbers printed). */
static void json_label(ds_buf *b, const cJSON *x)
{
    char t[64];
    if (cJSON_IsString(x)) cli_html_esc(b, x->valuestring);
    else if (cJSON_IsNumber(x)) { num_label(t, sizeof t, x->valuedouble); ds_buf_adds(b, t); }
    else if (cJSON_IsBool(x)) ds_buf_adds(b, cJSON_IsTrue(x) ? "true" : "false");
    else ds_buf_adds(b, "null");
}

static void svg_open(ds_buf *b, const char *cls, const char *label)
{
    ds_buf_printf(b, "<svg class=\"%s\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", cls, W, H);
    cli_html_esc(b, label);
    ds_buf_adds(b, "\" xmlns=\"http://www.w3.org/2000/svg\">");
}

/* The y axis from lo to hi with gridlines; left is the plot's left edge. */
static void y_axis(ds_buf *b, int left, double lo, double hi, double step, const char *title)
{
    char t[32];
    for (double v = lo; v <= hi + step / 2; v += step) {
        double y = BOTTOM - (v - lo) / (hi - lo) * (BOTTOM - TOP);
        num_label(t, sizeof t, fabs(v) < step / 1e6 ? 0 : v);
        ds_buf_printf(b, "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>"
                         "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
                      left, RIGHT, y, y, left - 4, y + 3.5, t);
    }
    ds_buf_printf(b, "<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>"
                     "<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>",
                  left, left, TOP, BOTTOM, left, RIGHT, BOTTOM, BOTTOM);
    if (title) {
        ds_buf_printf(b, "<text class=\"title\" transform=\"translate(9 %d) rotate(-90)\" "
                         "text-anchor=\"middle\">", (TOP + BOTTOM) / 2);
        cli_html_esc(b, title);
        ds_buf_adds(b, "</text>");
    }
}

/* Characters of the longest x label. */
static size_t label_chars(const cJSON *x)
{
    size_t w = 4;
    for (const cJSON *e = x->child; e; e = e->next)
        if (cJSON_IsString(e) && ds_utf8_chars(e->valuestring, strlen(e->valuestring)) > w)
            w = ds_utf8_chars(e->valuestring, strlen(e->valuestring));
    return w;
}

/* As many x tick labels as fit side by side (at most 6), at the positions of
 * their points. */
static void x_axis(ds_buf *b, const cJSON *x, int n, int left, int bars, const char *title)
{
    int fit = (int)((RIGHT - left) / (6.2 * (double)label_chars(x) + 14));
    int m = n < fit ? n : fit;
    if (m > 6) m = 6;
    if (m < 2) m = n < 2 ? n : 2;
    for (int k = 0; k < m; k++) {
        int j = m == 1 ? 0 : (int)lround((double)k * (n - 1) / (m - 1));
        double px = bars ? left + (j + 0.5) * (RIGHT - left) / n
                         : n == 1 ? (left + RIGHT) / 2.0 : left + (double)j * (RIGHT - left) / (n - 1);
        /* The outermost labels grow inwards so they stay inside the chart. */
        const char *anchor = n > 1 && j == 0 ? "start" : n > 1 && j == n - 1 ? "end" : "middle";
        if (bars && n > 1 && (j == 0 || j == n - 1)) px += (j == 0 ? -0.5 : 0.5) * (RIGHT - left) / n;
        ds_buf_printf(b, "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"%s\">", px, BOTTOM + 13, anchor);
        json_label(b, cJSON_GetArrayItem(x, j));
        ds_buf_adds(b, "</text>");
    }
    if (title) {
        ds_buf_printf(b, "<text class=\"title\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">", (left + RIGHT) / 2, BOTTOM + 27);
        cli_html_esc(b, title);
        ds_buf_adds(b, "</text>");
    }
}

/* The legend: one swatch and name per series, in rows under the x title. */
static void legend(ds_buf *b, const cJSON *series, int left)
{
    int x = 4, y = BOTTOM + 44, i = 0;
    for (const cJSON *s = series->child; s; s = s->next, i++) {
        int w = 14 + 7 * (int)(s->string ? strlen(s->string) > 30 ? 30 : strlen(s->string) : 4);
        if (x + w > RIGHT && x > 4) { x = 4; y += 14; }
        if (y > H - 2) break;
        ds_buf_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                         "<text class=\"legend\" x=\"%d\" y=\"%d\">", x, y - 9, colour((size_t)i), x + 14, y);
        cli_html_esc(b, s->string);
        ds_buf_adds(b, "</text>");
        x += w + 8;
    }
}

static int value_at(const cJSON *arr, int j, double *v)
{
    const cJSON *e = cJSON_GetArrayItem(arr, j);
    if (!cJSON_IsNumber(e)) return 0;
    *v = e->valuedouble;
    return 1;
}

static void lines(ds_buf *b, const cJSON *series, int n, int left, double lo, double hi)
{
    size_t i = 0;
    for (const cJSON *s = series->child; s; s = s->next, i++) {
        ds_buf_printf(b, "<path class=\"line\" stroke=\"%s\" d=\"", colour(i));
        int pen = 0;
        for (int j = 0; j < n; j++) {
            double v;
            if (!value_at(s, j, &v)) { pen = 0; continue; }     /* a gap */
            double px = n == 1 ? (left + RIGHT) / 2.0 : left + (double)j * (RIGHT - left) / (n - 1);
            double py = BOTTOM - (v - lo) / (hi - lo) * (BOTTOM - TOP);
            ds_buf_printf(b, "%c%.1f %.1f ", pen ? 'L' : 'M', px, py);
            pen = 1;
        }
        ds_buf_adds(b, "\"/>");
        if (n == 1 && cJSON_IsNumber(cJSON_GetArrayItem(s, 0)))
            ds_buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>", (left + RIGHT) / 2.0,
                          BOTTOM - (cJSON_GetArrayItem(s, 0)->valuedouble - lo) / (hi - lo) * (BOTTOM - TOP), colour(i));
    }
}

static void bars(ds_buf *b, const cJSON *series, int n, int left, double hi)
{
    double band = (double)(RIGHT - left) / n, w = band * 0.8;
    for (int j = 0; j < n; j++) {
        double base = 0;
        size_t i = 0;
        for (const cJSON *s = series->child; s; s = s->next, i++) {
            double v;
            if (!value_at(s, j, &v) || v <= 0) continue;
            double y0 = BOTTOM - base / hi * (BOTTOM - TOP), y1 = BOTTOM - (base + v) / hi * (BOTTOM - TOP);
            ds_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>",
                          left + j * band + (band - w) / 2, y1, w, y0 - y1, colour(i));
            base += v;
        }
    }
}

/* cli_svg_series with the svg element's class. */
static int draw_series(ds_buf *b, const cJSON *v, int stacked, const char *xtitle, const char *ytitle,
                       const char *cls)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(v, "x");
    const cJSON *series = cJSON_GetObjectItemCaseSensitive(v, "series");
    if (!cJSON_IsArray(x) || !cJSON_IsObject(series)) return -1;
    int n = cJSON_GetArraySize(x);
    double lo = 0, hi = 0, top = 0;
    for (const cJSON *s = series->child; s; s = s->next) {
        if (!cJSON_IsArray(s)) return -1;
        for (int j = 0; j < n; j++) {
            double y;
            if (!value_at(s, j, &y)) continue;
            if (y < lo) lo = y;
            if (y > hi) hi = y;
        }
    }
    if (stacked && lo < 0) stacked = 0;
    if (stacked) {      /* the tallest stack */
        hi = 0;
        for (int j = 0; j < n; j++) {
            double sum = 0, y;
            for (const cJSON *s = series->child; s; s = s->next)
                if (value_at(s, j, &y) && y > 0) sum += y;
            if (sum > hi) hi = sum;
        }
    }
    double step = nice_step(hi - lo, 4);
    lo = floor(lo / step) * step;
    top = ceil(hi / step) * step;
    if (top <= lo) top = lo + step;
    int left = LEFT;
    svg_open(b, cls, stacked ? "stacked bar chart" : "line chart");
    y_axis(b, left, lo, top, step, ytitle);
    if (n > 0) {
        if (stacked) bars(b, series, n, left, top);
        else lines(b, series, n, left, lo, top);
        x_axis(b, x, n, left, stacked, xtitle);
    } else {
        ds_buf_printf(b, "<text class=\"title\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">no points</text>",
                      (left + RIGHT) / 2, (TOP + BOTTOM) / 2);
    }
    legend(b, series, left);
    ds_buf_adds(b, "</svg>");
    return 0;
}

int cli_svg_series(ds_buf *b, const cJSON *v, int stacked, const char *xtitle, const char *ytitle)
{
    return draw_series(b, v, stacked, xtitle, ytitle, "chart");
}

/* ---------------------------------------------------------------- timeline */

#define MAX_LANES 24

/* The columns of a timeline row: lane, start, end, status (may be NULL). */
typedef struct tl_cols { const char *lane, *start, *end, *status; } tl_cols;

static int is_time(const cJSON *c)
{
    int64_t t;
    return cJSON_IsString(c) && ds_time_parse(c->valuestring, &t) == 0;
}

static int tl_columns(const cJSON *row, tl_cols *c)
{
    memset(c, 0, sizeof *c);
    for (const cJSON *f = row ? row->child : NULL; f; f = f->next) {
        if (!f->string) continue;
        if (strcmp(f->string, "status") == 0) c->status = f->string;
        else if (is_time(f)) { if (!c->start) c->start = f->string; else if (!c->end) c->end = f->string; }
        else if (!c->lane && cJSON_IsString(f)) c->lane = f->string;
    }
    return c->lane && c->start && c->end ? 0 : -1;
}

static int64_t tm(const cJSON *row, const char *col)
{
    int64_t t = 0;
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(row, col);
    if (!cJSON_IsString(c) || ds_time_parse(c->valuestring, &t)) return -1;
    return t;
}

static const char *status_colour(const char *s)
{
    if (!s || strcmp(s, "success") == 0 || strcmp(s, "ok") == 0) return palette[0];
    if (strcmp(s, "running") == 0) return palette[1];
    return palette[3];
}

/* Lane index of name in lanes[0..*n), appended when new (-1 when full). */
static int lane_of(const char **lanes, int *n, const char *name)
{
    for (int i = 0; i < *n; i++)
        if (strcmp(lanes[i], name) == 0) return i;
    if (*n == MAX_LANES) return -1;
    lanes[*n] = name;
    return (*n)++;
}

int cli_svg_timeline(ds_buf *b, const cJSON *v)
{
    tl_cols c;
    if (!cJSON_IsArray(v) || !cJSON_IsObject(v->child) || tl_columns(v->child, &c)) return -1;
    const char *lanes[MAX_LANES];
    int nl = 0;
    int64_t t0 = INT64_MAX, t1 = INT64_MIN;
    for (const cJSON *r = v->child; r; r = r->next) {
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(r, c.lane);
        int64_t s = tm(r, c.start), e = tm(r, c.end);
        if (!cJSON_IsString(l) || s < 0 || e < 0) continue;
        lane_of(lanes, &nl, l->valuestring);
        if (s < t0) t0 = s;
        if (e > t1) t1 = e;
    }
    if (nl == 0) return -1;
    if (t1 <= t0) t1 = t0 + 1;
    int left = 104;
    double lh = (double)(BOTTOM - TOP) / nl;
    svg_open(b, "chart", "timeline");
    for (int i = 0; i < nl; i++) {
        ds_buf_printf(b, "<text class=\"lane\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">", left - 4, TOP + (i + 0.5) * lh + 3);
        size_t len = strlen(lanes[i]);
        if (len > 18) {     /* cut at a character boundary, marked */
            size_t k = 17;
            while (k > 0 && (lanes[i][k] & 0xC0) == 0x80) k--;
            cli_html_escn(b, lanes[i], k);
            ds_buf_adds(b, "\xE2\x80\xA6");
        } else {
            cli_html_esc(b, lanes[i]);
        }
        ds_buf_adds(b, "</text>");
    }
    for (const cJSON *r = v->child; r; r = r->next) {
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(r, c.lane);
        int64_t s = tm(r, c.start), e = tm(r, c.end);
        int nl2 = nl, li;
        if (!cJSON_IsString(l) || s < 0 || e < 0 || (li = lane_of(lanes, &nl2, l->valuestring)) < 0 || li >= nl) continue;
        const cJSON *st = c.status ? cJSON_GetObjectItemCaseSensitive(r, c.status) : NULL;
        double x0 = left + (double)(s - t0) / (double)(t1 - t0) * (RIGHT - left);
        double x1 = left + (double)(e - t0) / (double)(t1 - t0) * (RIGHT - left);
        ds_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>", x0,
                      TOP + li * lh + lh * 0.15, x1 - x0 < 1 ? 1 : x1 - x0, lh * 0.7,
                      status_colour(cJSON_IsString(st) ? st->valuestring : NULL));
    }
    ds_buf_printf(b, "<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>", left, RIGHT, BOTTOM, BOTTOM);
    for (int k = 0; k < 3; k++) {
        char ts[20];
        ds_time_format(t0 + (t1 - t0) * k / 2, ts);
        ds_buf_printf(b, "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"%s\">%.11s</text>",
                      left + (double)k / 2 * (RIGHT - left), BOTTOM + 13, k == 0 ? "start" : k == 2 ? "end" : "middle", ts + 5);
    }
    ds_buf_printf(b, "<text class=\"title\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">", (left + RIGHT) / 2, BOTTOM + 27);
    cli_html_esc(b, c.start);
    ds_buf_adds(b, " \xE2\x80\x93 ");
    cli_html_esc(b, c.end);
    ds_buf_adds(b, " (UTC)</text>");
    if (c.status)
        ds_buf_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/><text class=\"legend\" x=\"%d\" y=\"%d\">success</text>"
                         "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/><text class=\"legend\" x=\"%d\" y=\"%d\">running</text>"
                         "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/><text class=\"legend\" x=\"%d\" y=\"%d\">other status</text>",
                      4, BOTTOM + 35, palette[0], 18, BOTTOM + 44, 84, BOTTOM + 35, palette[1], 98, BOTTOM + 44,
                      164, BOTTOM + 35, palette[3], 178, BOTTOM + 44);
    ds_buf_adds(b, "</svg>");
    return 0;
}

/* ---------------------------------------------------------------- runs */

#define MAX_POINTS 600

void cli_svg_runs(ds_buf *b, const ds_history *h)
{
    if (h->nr == 0) return;
    cJSON *v = cJSON_CreateObject(), *x = cJSON_AddArrayToObject(v, "x");
    cJSON *series = cJSON_AddObjectToObject(v, "series");
    cJSON *y = cJSON_AddArrayToObject(series, "run duration, ms (max per point)");
    if (!y) { cJSON_Delete(v); b->oom = 1; return; }
    size_t per = (h->nr + MAX_POINTS - 1) / MAX_POINTS;
    for (size_t i = 0; i < h->nr; i += per) {
        int64_t m = 0;
        for (size_t k = i; k < i + per && k < h->nr; k++)
            if (h->r[k].duration_ms > m) m = h->r[k].duration_ms;
        char ts[20];
        ds_time_format(h->r[i].started_at, ts);
        ts[16] = '\0';
        cJSON_AddItemToArray(x, cJSON_CreateString(ts));
        cJSON_AddItemToArray(y, cJSON_CreateNumber((double)m));
    }
    ds_buf_adds(b, "<figure class=\"history\">");
    ds_buf_adds(b, "<figcaption>Run durations</figcaption>");
    draw_series(b, v, 0, "run started (UTC)", "ms", "history-chart");
    ds_buf_adds(b, "</figure>");
    cJSON_Delete(v);
}

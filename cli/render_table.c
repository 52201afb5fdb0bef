/*
 * render_table.c — aligned tables and sparkline charts for the reader
 * commands (see render.h). Every cell goes through cli_clean when it is
 * added, so a table never carries a control byte or a line break.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "ds_utf8.h"
#include "ds_vec.h"
#include "render.h"

#define CELL_MAX_WIDTH 48       /* default cut of a cell on a terminal (cli_table_maxwidth) */

/* ---------------------------------------------------------------- tables */

typedef struct cell {
    char *s;            /* cleaned text */
    size_t w;           /* characters */
    cli_color c;
} cell;

struct cli_table {
    size_t ncols;
    cell *hdr;
    cli_align *align;
    size_t *maxw;
    int *prio;          /* shrink order on a narrow terminal: highest first */
    cell *cells;
    size_t n, cap;
    int oom;
};

cli_table *cli_table_new(size_t ncols, const char *const *headers)
{
    cli_table *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->ncols = ncols;
    t->hdr = calloc(ncols ? ncols : 1, sizeof *t->hdr);
    t->align = calloc(ncols ? ncols : 1, sizeof *t->align);
    t->maxw = calloc(ncols ? ncols : 1, sizeof *t->maxw);
    t->prio = calloc(ncols ? ncols : 1, sizeof *t->prio);
    if (!t->hdr || !t->align || !t->maxw || !t->prio) { cli_table_free(t); return NULL; }
    for (size_t i = 0; i < ncols; i++) {
        ds_buf b;
        ds_buf_init(&b);
        t->hdr[i].w = cli_clean(&b, headers[i], strlen(headers[i]));
        ds_buf_adds(&b, "");
        if (!(t->hdr[i].s = ds_buf_steal(&b))) { cli_table_free(t); return NULL; }
        t->maxw[i] = CELL_MAX_WIDTH;
    }
    return t;
}

void cli_table_free(cli_table *t)
{
    if (!t) return;
    for (size_t i = 0; t->hdr && i < t->ncols; i++) free(t->hdr[i].s);
    for (size_t i = 0; i < t->n; i++) free(t->cells[i].s);
    free(t->hdr);
    free(t->align);
    free(t->maxw);
    free(t->prio);
    free(t->cells);
    free(t);
}

void cli_table_align(cli_table *t, size_t col, cli_align a)
{
    if (col < t->ncols) t->align[col] = a;
}

void cli_table_maxwidth(cli_table *t, size_t col, size_t w)
{
    if (col < t->ncols) t->maxw[col] = w ? w : 1;
}

void cli_table_priority(cli_table *t, size_t col, int prio)
{
    if (col < t->ncols) t->prio[col] = prio;
}

void cli_table_celln(cli_table *t, const char *s, size_t n, cli_color c)
{
    if (t->oom) return;
    cell *v = ds_vec_grow(t->cells, &t->cap, t->n, sizeof *v);
    if (!v) { t->oom = 1; return; }
    t->cells = v;
    ds_buf b;
    ds_buf_init(&b);
    size_t w = s ? cli_clean(&b, s, n) : 0;
    ds_buf_adds(&b, "");
    char *txt = ds_buf_steal(&b);
    if (!txt) { t->oom = 1; return; }
    t->cells[t->n++] = (cell){txt, w, c};
}

void cli_table_cell(cli_table *t, const char *s, cli_color c)
{
    cli_table_celln(t, s, s ? strlen(s) : 0, c);
}

void cli_table_cellf(cli_table *t, cli_color c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = ds_vasprintf(fmt, ap);
    va_end(ap);
    if (!s) { t->oom = 1; return; }
    cli_table_celln(t, s, strlen(s), c);
    free(s);
}

size_t cli_table_rows(const cli_table *t)
{
    return t->ncols ? t->n / t->ncols : 0;
}

/* A JSON-style number ("-12", "3.5", "1e+20"): what CLI_AUTO right-aligns. */
static int numeric(const char *s)
{
    if (*s == '-') s++;
    if (!(*s >= '0' && *s <= '9')) return 0;
    while (*s >= '0' && *s <= '9') s++;
    if (*s == '.') {
        s++;
        if (!(*s >= '0' && *s <= '9')) return 0;
        while (*s >= '0' && *s <= '9') s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-') s++;
        if (!(*s >= '0' && *s <= '9')) return 0;
        while (*s >= '0' && *s <= '9') s++;
    }
    return *s == '\0';
}

/* One cell padded to width w; cut with an ellipsis when longer (terminal only). */
static void put_cell(ds_buf *b, const cli_term *t, const cell *c, size_t w, int right, int last)
{
    size_t shown = c->w;
    ds_buf tmp;
    ds_buf_init(&tmp);
    if (c->w > w) {
        /* Only a terminal cuts (render() gives piped output natural widths). */
        size_t keep = w > 0 ? w - 1 : 0;
        ds_buf_add(&tmp, c->s, ds_utf8_skip(c->s, strlen(c->s), keep));
        ds_buf_adds(&tmp, "\xE2\x80\xA6");   /* … */
        shown = keep + 1;
    } else {
        ds_buf_adds(&tmp, c->s);
    }
    ds_buf_adds(&tmp, "");
    if (right) cli_pad(b, w - shown);
    cli_paint(b, t, c->c, tmp.p ? tmp.p : "");
    if (!right && !last) cli_pad(b, w - shown);
    if (tmp.oom) b->oom = 1;
    ds_buf_free(&tmp);
}

int cli_table_render(cli_table *tb, const cli_term *t, ds_buf *b)
{
    if (tb->oom) return -1;
    size_t nc = tb->ncols, nrows = cli_table_rows(tb);
    if (nc == 0) return 0;
    size_t *w = calloc(nc, sizeof *w);
    int *right = calloc(nc, sizeof *right);
    if (!w || !right) { free(w); free(right); return -1; }
    for (size_t j = 0; j < nc; j++) {
        size_t natural = tb->hdr[j].w;
        int nums = 0, others = 0;
        for (size_t r = 0; r < nrows; r++) {
            const cell *c = &tb->cells[r * nc + j];
            if (c->w > natural) natural = c->w;
            /* Empty and null cells do not decide the alignment. */
            if (c->w == 0 || strcmp(c->s, "null") == 0) continue;
            if (numeric(c->s)) nums++; else others++;
        }
        right[j] = tb->align[j] == CLI_RIGHT || (tb->align[j] == CLI_AUTO && nums > 0 && others == 0);
        w[j] = natural;
        if (t->tty) {
            size_t cap = tb->maxw[j] > tb->hdr[j].w ? tb->maxw[j] : tb->hdr[j].w;
            if (w[j] > cap) w[j] = cap;
        }
    }
    if (t->tty && t->width > 0) {
        /* Shrink one character at a time until the table fits: the widest
         * column of the highest priority that is still wider than 8. */
        size_t total = 2 * (nc - 1);
        for (size_t j = 0; j < nc; j++) total += w[j];
        while (total > (size_t)t->width) {
            size_t wi = nc;
            for (size_t j = 0; j < nc; j++) {
                if (w[j] <= 8) continue;
                if (wi == nc || tb->prio[j] > tb->prio[wi] || (tb->prio[j] == tb->prio[wi] && w[j] > w[wi])) wi = j;
            }
            if (wi == nc) break;   /* too narrow: the terminal wraps */
            w[wi]--;
            total--;
        }
    }
    for (size_t r = 0; r <= nrows; r++) {
        size_t start = b->len;
        for (size_t j = 0; j < nc; j++) {
            cell c = r == 0 ? tb->hdr[j] : tb->cells[(r - 1) * nc + j];
            if (r == 0) c.c = CLI_BOLD;
            if (j) ds_buf_adds(b, "  ");
            put_cell(b, t, &c, w[j], right[j], j == nc - 1);
        }
        /* Empty trailing cells leave only padding: no trailing blanks. */
        while (!b->oom && b->len > start && b->p[b->len - 1] == ' ') b->p[--b->len] = '\0';
        ds_buf_addc(b, '\n');
    }
    free(w);
    free(right);
    return b->oom ? -1 : 0;
}

/* ---------------------------------------------------------------- charts */

static const char *const blocks[8] = {
    "\xE2\x96\x81", "\xE2\x96\x82", "\xE2\x96\x83", "\xE2\x96\x84",
    "\xE2\x96\x85", "\xE2\x96\x86", "\xE2\x96\x87", "\xE2\x96\x88"
};

size_t cli_sparkline(ds_buf *b, const double *v, size_t n, size_t width, double *mnp, double *mxp)
{
    double mn = NAN, mx = NAN;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i])) continue;
        if (isnan(mn) || v[i] < mn) mn = v[i];
        if (isnan(mx) || v[i] > mx) mx = v[i];
    }
    if (mnp) *mnp = mn;
    if (mxp) *mxp = mx;
    size_t m = width == 0 || n <= width ? n : width;
    for (size_t k = 0; k < m; k++) {
        /* Bucket k covers points [k*n/m, (k+1)*n/m): the mean of its finite values. */
        size_t lo = k * n / m, hi = (k + 1) * n / m, cnt = 0;
        for (size_t i = lo; i < hi; i++) cnt += isfinite(v[i]) != 0;
        if (!cnt) { ds_buf_addc(b, ' '); continue; }
        /* Each term divided first, so the sum of huge values stays finite. */
        double val = 0;
        for (size_t i = lo; i < hi; i++)
            if (isfinite(v[i])) val += v[i] / (double)cnt;
        int level;
        if (!(mx > mn)) level = 3;              /* a flat series sits in the middle */
        else {
            /* Halved so that max - min cannot overflow to infinity. */
            double f = (val / 2 - mn / 2) / (mx / 2 - mn / 2);
            level = (int)lround(f * 7);
            if (level < 0) level = 0;
            if (level > 7) level = 7;
        }
        ds_buf_adds(b, blocks[level]);
    }
    return m;
}


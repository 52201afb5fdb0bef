/*
 * render.h — how the reader commands look in a terminal: aligned tables,
 * sparkline charts, compact durations and ages, and the one place that makes
 * untrusted text (cache values, error messages) safe to print.
 *
 * Decorations (colour, emoji, box characters, truncation) are decided once per
 * stream by cli_term_init: only a terminal gets them, colour only when NO_COLOR
 * is unset. Piped output stays plain ASCII words, full cells, one row a line.
 */
#ifndef DS_RENDER_H
#define DS_RENDER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "dashspec.h"
#include "ds_common.h"

/* What one output stream can take. */
typedef struct cli_term {
    int tty;        /* the stream is a terminal: emoji, truncation, charts */
    int color;      /* tty, NO_COLOR unset and TERM is not "dumb" */
    int width;      /* columns: the terminal's, else $COLUMNS, else 80 */
} cli_term;

/* Fills t for stream f. Cannot fail. */
void cli_term_init(cli_term *t, FILE *f);

/* SGR colours used by the commands; CLI_NONE prints no escape at all. */
typedef enum cli_color {
    CLI_NONE = 0, CLI_BOLD, CLI_DIM, CLI_RED, CLI_GREEN, CLI_YELLOW, CLI_BLUE
} cli_color;
#define CLI_COLOR_N (CLI_BLUE + 1)             /* number of colours */

/* Appends s[0..n) to b made safe for a terminal: valid UTF-8 is kept, except
 * control characters (C0, DEL, C1) and bidi overrides; newlines and tabs
 * become spaces, everything else unsafe (and invalid bytes) becomes '?'.
 * Returns the number of characters appended. Cannot fail (b records OOM). */
size_t cli_clean(ds_buf *b, const char *s, size_t n);
/* What cli_clean_keep passes through as it is instead of a space. */
enum { CLI_KEEP_NL = 1, CLI_KEEP_TAB = 2, CLI_KEEP_CR = 4 };
/* cli_clean that keeps the line breaks and tabs named in keep (CLI_KEEP_*),
 * for multi-line text such as diagnostics and the run summary. */
size_t cli_clean_keep(ds_buf *b, const char *s, size_t n, unsigned keep);
/* Writes s to f cleaned, newlines and tabs kept. -1 on OOM (nothing or a
 * part written), else 0. */
int cli_print(FILE *f, const char *s);
/* ds_diag_render with every file name, message and key cleaned (newlines
 * and tabs kept; JSON is escaped already). Caller frees; NULL on OOM. */
char *cli_diag_render(const ds_diag *d, ds_diag_format fmt);
/* Appends n spaces. */
void cli_pad(ds_buf *b, size_t n);
/* Appends s in colour c when t->color, plainly otherwise. */
void cli_paint(ds_buf *b, const cli_term *t, cli_color c, const char *s);

/* ---------------------------------------------------------------- tables */

typedef enum cli_align { CLI_AUTO = 0, CLI_LEFT, CLI_RIGHT } cli_align;

typedef struct cli_table cli_table;

/* A table of ncols columns with these headers (copied). NULL on OOM. */
cli_table *cli_table_new(size_t ncols, const char *const *headers);
void cli_table_free(cli_table *t);                      /* NULL-safe */
/* CLI_AUTO (the default) right-aligns a column whose cells are all numbers. */
void cli_table_align(cli_table *t, size_t col, cli_align a);
/* On a terminal, cells of that column are cut to w characters (default 48). */
void cli_table_maxwidth(cli_table *t, size_t col, size_t w);
/* On a terminal too narrow for the table, columns of higher priority are cut
 * first (default 0; the widest first among equals; none below 8 characters). */
void cli_table_priority(cli_table *t, size_t col, int prio);
/* Appends the next cell (row by row, left to right); the text is cleaned
 * (cli_clean) and copied. NULL text is an empty cell. OOM is remembered and
 * makes cli_table_print return -1. */
void cli_table_cell(cli_table *t, const char *s, cli_color c);
void cli_table_celln(cli_table *t, const char *s, size_t n, cli_color c);
void cli_table_cellf(cli_table *t, cli_color c, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
size_t cli_table_rows(const cli_table *t);
/* Renders the table into b: widths by UTF-8 character count, columns two
 * spaces apart, header bold on a colour terminal. On a terminal wide cells are
 * cut ("…") and the widest columns shrink until the table fits t->width.
 * Returns 0, or -1 on OOM. */
int cli_table_render(cli_table *tb, const cli_term *t, ds_buf *b);

/* ---------------------------------------------------------------- charts */

/* Appends one row of block characters (▁▂▃▄▅▆▇█) for v[0..n), NAN meaning no
 * point (a space). Longer inputs are averaged into at most `width` buckets.
 * *min / *max (may be NULL) receive the extremes of the finite values (NAN
 * when there are none). Returns the number of characters appended. */
size_t cli_sparkline(ds_buf *b, const double *v, size_t n, size_t width, double *min, double *max);

/* ---------------------------------------------------------------- time */

/* A compact duration with at most two units: "45s", "12m5s", "1h30m", "2d3h". */
char *cli_duration(int64_t secs, char *out, size_t n);
/* "12s ago", "in 5m", "now" for time t seen from now. */
char *cli_age(int64_t now, int64_t t, char *out, size_t n);
/* Milliseconds for humans: "850ms", "1.2s", "3m5s". */
char *cli_millis(int64_t ms, char *out, size_t n);

/* ---------------------------------------------------------------- values */

/* Renders the JSON value of one item (text as dashspec wrote it) for a
 * terminal, by shape: scalars plainly, row as a column/value table, rows and
 * map as tables, series as one sparkline per series with min/max and the x
 * range. Numbers are printed exactly as they appear in the JSON text.
 * Returns 0, or -1 when the text is not JSON of that shape (b unchanged
 * then: the caller prints the JSON itself). */
int cli_render_value(ds_buf *b, const cli_term *t, ds_shape shape, const char *json, size_t len);

#endif

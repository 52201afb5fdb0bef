/*
 * render.c — the terminal: what a stream can take, the one sanitizer every
 * printed text goes through, colours, and compact durations. Tables and
 * charts are in render_table.c, cached values in render_value.c.
 *
 * Everything builds into a ds_buf; the commands write it out once. Text that
 * came from outside (values, keys, error messages, file names, arguments)
 * always goes through cli_clean / cli_clean_keep, diagnostics included
 * (cli_diag_render), so no escape sequence can drive the terminal and a
 * newline cannot break a table (docs/security.md).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "ds_utf8.h"
#include "render.h"

#define CLI_DEFAULT_WIDTH 80    /* columns when neither the terminal nor $COLUMNS says */
#define CLI_MAX_WIDTH 10000     /* a larger $COLUMNS is ignored */

void cli_term_init(cli_term *t, FILE *f)
{
    int fd = fileno(f);
    const char *nc = getenv("NO_COLOR"), *term = getenv("TERM"), *cols = getenv("COLUMNS");
    t->tty = fd >= 0 && isatty(fd);
    /* no-color.org: present and not empty disables colour. */
    t->color = t->tty && !(nc && *nc) && !(term && strcmp(term, "dumb") == 0);
    t->width = 0;
    struct winsize ws;
    if (t->tty && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) t->width = ws.ws_col;
    if (!t->width && cols && *cols) {
        long w = strtol(cols, NULL, 10);
        if (w > 0 && w < CLI_MAX_WIDTH) t->width = (int)w;
    }
    if (!t->width) t->width = CLI_DEFAULT_WIDTH;
}

/* ---------------------------------------------------------------- safe text */

size_t cli_clean_keep(ds_buf *b, const char *s, size_t n, unsigned keep)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, chars = 0;
    while (i < n) {
        uint32_t cp = 0;
        int k = ds_utf8_next(p + i, n - i, &cp);
        chars++;
        if (k < 0) { ds_buf_addc(b, '?'); i++; continue; }   /* byte by byte */
        size_t len = (size_t)k;
        if ((cp == '\n' && (keep & CLI_KEEP_NL)) || (cp == '\t' && (keep & CLI_KEEP_TAB)) ||
            (cp == '\r' && (keep & CLI_KEEP_CR)))
            ds_buf_addc(b, (char)cp);
        else if (cp == '\n' || cp == '\t' || cp == '\r') ds_buf_addc(b, ' ');
        else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) ||
                 (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069))
            ds_buf_addc(b, '?');   /* terminal controls and bidi overrides */
        else ds_buf_add(b, s + i, len);
        i += len;
    }
    return chars;
}

size_t cli_clean(ds_buf *b, const char *s, size_t n)
{
    return cli_clean_keep(b, s, n, 0);
}

/* Diagnostics keep their line structure: text keeps newlines and tabs; the
 * GitHub format also keeps carriage returns, which it escapes itself. */
static void diag_filter(ds_buf *b, const char *s, size_t n, ds_diag_format fmt)
{
    unsigned keep = CLI_KEEP_NL | CLI_KEEP_TAB;
    if (fmt == DS_FMT_GITHUB) keep |= CLI_KEEP_CR;
    cli_clean_keep(b, s, n, keep);
}

char *cli_diag_render(const ds_diag *d, ds_diag_format fmt)
{
    return ds_diag_render_filtered(d, fmt, diag_filter);
}

int cli_print(FILE *f, const char *s)
{
    ds_buf b;
    ds_buf_init(&b);
    cli_clean_keep(&b, s, strlen(s), CLI_KEEP_NL | CLI_KEEP_TAB);
    int rc = b.oom ? -1 : 0;
    if (b.p) fputs(b.p, f);
    ds_buf_free(&b);
    return rc;
}

void cli_pad(ds_buf *b, size_t n)
{
    while (n-- > 0) ds_buf_addc(b, ' ');
}

/* SGR parameters of each colour. */
static const char *const sgr[] = {
    [CLI_NONE] = "", [CLI_BOLD] = "1", [CLI_DIM] = "2", [CLI_RED] = "31",
    [CLI_GREEN] = "32", [CLI_YELLOW] = "33", [CLI_BLUE] = "34",
};
_Static_assert(sizeof sgr / sizeof sgr[0] == CLI_COLOR_N, "one SGR code per colour");

void cli_paint(ds_buf *b, const cli_term *t, cli_color c, const char *s)
{
    if (t->color && c != CLI_NONE && (unsigned)c < CLI_COLOR_N && *s) ds_buf_printf(b, "\033[%sm%s\033[0m", sgr[c], s);
    else ds_buf_adds(b, s);
}

/* ---------------------------------------------------------------- time */

char *cli_duration(int64_t secs, char *out, size_t n)
{
    int neg = secs < 0;
    uint64_t s = neg ? (uint64_t)0 - (uint64_t)secs : (uint64_t)secs;
    /* Keep the two most significant units: "2d3h", "1h30m", "12m5s". */
    if (s >= 86400) s -= s % 3600;
    else if (s >= 3600) s -= s % 60;
    if (s > (uint64_t)INT64_MAX) s = (uint64_t)INT64_MAX - (uint64_t)INT64_MAX % 3600;
    if (!neg) return ds_duration_format((int64_t)s, out, n);
    char tmp[48];
    ds_duration_format((int64_t)s, tmp, sizeof tmp);
    snprintf(out, n, "-%s", tmp);
    return out;
}

char *cli_age(int64_t now, int64_t t, char *out, size_t n)
{
    char d[48];
    if (t == now) { snprintf(out, n, "now"); return out; }
    /* Differences of stored timestamps stay far inside int64 (years 0..9999). */
    if (t < now) snprintf(out, n, "%s ago", cli_duration(now - t, d, sizeof d));
    else snprintf(out, n, "in %s", cli_duration(t - now, d, sizeof d));
    return out;
}

char *cli_millis(int64_t ms, char *out, size_t n)
{
    if (ms < 0) ms = 0;
    if (ms < 1000) snprintf(out, n, "%lldms", (long long)ms);
    else if (ms < 10000) snprintf(out, n, "%.1fs", (double)ms / 1000);
    else cli_duration(ms / 1000, out, n);
    return out;
}


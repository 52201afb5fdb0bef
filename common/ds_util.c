/*
 * ds_util.c — small pieces every module uses: buffers, strings, globs, UTC
 * timestamps, durations, and the ds_item / ds_plan lifetimes.
 */
#include <fnmatch.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ds_common.h"

/* ---------------------------------------------------------------- buffers */

void ds_buf_init(ds_buf *b) { memset(b, 0, sizeof *b); }

void ds_buf_free(ds_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

void ds_buf_reset(ds_buf *b)
{
    b->len = 0;
    if (b->p) b->p[0] = '\0';
}

int ds_buf_reserve(ds_buf *b, size_t extra)
{
    if (b->oom) return -1;
    if (extra > SIZE_MAX / 2 - b->len) { b->oom = 1; return -1; }
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) { b->oom = 1; return -1; }
    b->p = p;
    b->cap = cap;
    return 0;
}

void ds_buf_add(ds_buf *b, const void *s, size_t n)
{
    if (ds_buf_reserve(b, n)) return;
    if (n) memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void ds_buf_adds(ds_buf *b, const char *s) { ds_buf_add(b, s, strlen(s)); }

void ds_buf_addc(ds_buf *b, char c)
{
    if (b->len + 1 < b->cap && !b->oom) {   /* the common case, kept cheap */
        b->p[b->len++] = c;
        b->p[b->len] = '\0';
        return;
    }
    ds_buf_add(b, &c, 1);
}

void ds_buf_vprintf(ds_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) { b->oom = 1; return; }
    if (ds_buf_reserve(b, (size_t)n)) return;
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void ds_buf_printf(ds_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ds_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

char *ds_buf_steal(ds_buf *b)
{
    char *p = b->oom ? NULL : b->p;
    if (b->oom) free(b->p);
    else if (!p) p = ds_strdup("");
    memset(b, 0, sizeof *b);
    return p;
}

/* ---------------------------------------------------------------- strings */

char *ds_strdup(const char *s)
{
    return s ? ds_strndup(s, strlen(s)) : NULL;
}

char *ds_strndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *ds_vasprintf(const char *fmt, va_list ap)
{
    ds_buf b;
    ds_buf_init(&b);
    ds_buf_vprintf(&b, fmt, ap);
    return ds_buf_steal(&b);
}

char *ds_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = ds_vasprintf(fmt, ap);
    va_end(ap);
    return s;
}

int ds_glob_match(const char *pattern, const char *s)
{
    return fnmatch(pattern, s, 0) == 0;
}

/* ---------------------------------------------------------------- time */

/* n decimal digits at s, or -1. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* The one time parser: "YYYY-MM-DD HH:MM:SS" at s[0..19), with 'T' instead
 * of the blank when lenient. The calendar is checked (no Feb 30, no 24:00);
 * no sscanf or timegm: a no-op run parses two stored times per item. */
static int parse_time19(const char *s, int lenient, int64_t *out)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (s[4] != '-' || s[7] != '-' || (s[10] != ' ' && !(lenient && (s[10] == 'T' || s[10] == 't'))) || s[13] != ':' ||
        s[16] != ':')
        return -1;
    int64_t y = digits(s, 4);
    int m = digits(s + 5, 2), d = digits(s + 8, 2);
    int hh = digits(s + 11, 2), mm = digits(s + 14, 2), ss = digits(s + 17, 2);
    if (y < 0 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] || hh < 0 || hh > 23 ||
        mm < 0 || mm > 59 || ss < 0 || ss > 59)
        return -1;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m == 2 && d == 29 && !leap) return -1;
    /* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
     * days_from_civil, with the floor division year 0's January needs). */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;
    *out = days * 86400 + hh * 3600 + mm * 60 + ss;
    return 0;
}

/* "+HH:MM" / "-HH:MM" at s (exactly 6 bytes) -> seconds east of UTC. */
static int utc_offset(const char *s, int64_t *off)
{
    if ((s[0] != '+' && s[0] != '-') || s[3] != ':') return -1;
    for (int i = 1; i < 6; i++)
        if (i != 3 && (s[i] < '0' || s[i] > '9')) return -1;
    int h = (s[1] - '0') * 10 + (s[2] - '0'), m = (s[4] - '0') * 10 + (s[5] - '0');
    if (h > 23 || m > 59) return -1;
    *off = (s[0] == '-' ? -1 : 1) * (int64_t)(h * 3600 + m * 60);
    return 0;
}

int ds_time_parse(const char *s, int64_t *out)
{
    size_t len = s ? strlen(s) : 0;
    int64_t off = 0, t;
    if (len == 20 && (s[19] == 'Z' || s[19] == 'z')) off = 0;
    else if (len == 25 && utc_offset(s + 19, &off) == 0) { /* off set */ }
    else if (len != 19) return -1;
    if (parse_time19(s, 1, &t)) return -1;
    /* Local time at offset +HH:MM is that much ahead of UTC. */
    *out = t - off;
    return 0;
}

int ds_time_parse_stored(const char *s, size_t n, int64_t *out)
{
    if (!s || n < 19 || (n > 19 && s[19] != '.' && s[19] != 'Z')) return -1;
    return parse_time19(s, 1, out);
}

void ds_time_format(int64_t t, char out[20])
{
    if (t < DS_TIME_MIN) t = DS_TIME_MIN;
    if (t > DS_TIME_MAX) t = DS_TIME_MAX;
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) { strcpy(out, "0000-00-00 00:00:00"); return; }
    if (tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0 ||
        strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm) != 19)
        strcpy(out, "0000-00-00 00:00:00");
}

int64_t ds_time_now(void)
{
    return (int64_t)time(NULL);
}

/* ---------------------------------------------------------------- durations */

/* Upper bound keeps every later sum (now + ttl, backoff doubling) far from
 * overflow: 100 years is longer than any cache should live. */
#define DS_DURATION_MAX (100LL * 366 * 86400)

int ds_duration_parse(const char *s, int64_t *out, const char **why)
{
    const char *w = "expected a duration like 90s, 15m, 1h30m or 7d";
    if (!s || !*s) goto bad;
    const char *p = s;
    int64_t total = 0;
    int bare = 1;
    if (*p == '-') { w = "duration must be positive"; goto bad; }
    while (*p) {
        if (*p < '0' || *p > '9') goto bad;
        int64_t n = 0;
        while (*p >= '0' && *p <= '9') {
            if (n > DS_DURATION_MAX) { w = "duration is too long (at most 100 years)"; goto bad; }
            n = n * 10 + (*p++ - '0');
        }
        int64_t unit;
        switch (*p) {
        case '\0': if (!bare) goto bad; unit = 1; break;
        case 's': unit = 1; p++; break;
        case 'm': unit = 60; p++; break;
        case 'h': unit = 3600; p++; break;
        case 'd': unit = 86400; p++; break;
        default: goto bad;
        }
        bare = 0;
        if (n > DS_DURATION_MAX / unit || total + n * unit > DS_DURATION_MAX) {
            w = "duration is too long (at most 100 years)";
            goto bad;
        }
        total += n * unit;
    }
    if (total <= 0) { w = "duration must be positive"; goto bad; }
    *out = total;
    return 0;
bad:
    if (why) *why = w;
    return -1;
}

char *ds_duration_format(int64_t secs, char *out, size_t n)
{
    static const struct { int64_t s; char u; } units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
    size_t len = 0;
    if (n == 0) return out;
    out[0] = '\0';
    if (secs < 0) { len += (size_t)snprintf(out, n, "-"); secs = -secs; }
    if (secs == 0) { snprintf(out + len, n - len, "0s"); return out; }
    for (size_t i = 0; i < 4 && len < n; i++) {
        if (secs >= units[i].s) {
            len += (size_t)snprintf(out + len, n - len, "%lld%c", (long long)(secs / units[i].s), units[i].u);
            secs %= units[i].s;
        }
    }
    return out;
}

/* ---------------------------------------------------------------- items */

const char *const ds_shape_names[DS_SHAPE_N + 1] = {
    [DS_SHAPE_SCALAR] = "scalar",
    [DS_SHAPE_ROW] = "row",
    [DS_SHAPE_ROWS] = "rows",
    [DS_SHAPE_MAP] = "map",
    [DS_SHAPE_SERIES] = "series",
    [DS_SHAPE_N] = NULL,
};
_Static_assert(sizeof ds_shape_names / sizeof ds_shape_names[0] == DS_SHAPE_N + 1,
               "one name per shape, then NULL");

static const char *const kind_names[] = {
    [DS_KIND_METRIC] = "metric",
    [DS_KIND_CHART] = "chart",
};
_Static_assert(sizeof kind_names / sizeof kind_names[0] == DS_KIND_N, "one name per kind");

const char *ds_shape_name(ds_shape s)
{
    return (unsigned)s < DS_SHAPE_N ? ds_shape_names[s] : "?";
}

int ds_shape_parse(const char *s, ds_shape *out)
{
    for (int i = 0; i < DS_SHAPE_N; i++)
        if (strcmp(s, ds_shape_names[i]) == 0) { *out = (ds_shape)i; return 0; }
    return -1;
}

const char *ds_kind_name(ds_kind k)
{
    return (unsigned)k < DS_KIND_N ? kind_names[k] : kind_names[DS_KIND_METRIC];
}

void ds_item_free(ds_item *it)
{
    if (!it) return;
    free(it->key); free(it->query); free(it->description); free(it->group);
    for (size_t i = 0; i < it->ntags; i++) free(it->tags[i]);
    free(it->tags);
    for (size_t i = 0; i < it->nparams; i++) { free(it->params[i].name); free(it->params[i].s); }
    free(it->params);
    free(it->x);
    for (size_t i = 0; i < it->ny; i++) free(it->y[i]);
    free(it->y);
    free(it->series_by); free(it->fill); free(it->file); free(it->refresh_key);
    free(it->m_ys); free(it->qlines); free(it->klines);
    memset(it, 0, sizeof *it);
}

void ds_plan_init(ds_plan *p) { memset(p, 0, sizeof *p); }

void ds_plan_free(ds_plan *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->n; i++) ds_item_free(&p->items[i]);
    free(p->items);
    memset(p, 0, sizeof *p);
}

ds_mark ds_item_query_mark(const ds_item *it, size_t off)
{
    if (!it->nqlines || !it->query) return it->m_query;
    size_t qlen = strlen(it->query);
    if (off > qlen) off = qlen;
    size_t line = 0, start = 0;
    for (size_t i = 0; i < off; i++)
        if (it->query[i] == '\n') { line++; start = i + 1; }
    if (line >= it->nqlines) return it->m_query;
    ds_mark m = it->qlines[line];
    m.col += (int)ds_utf8_chars(it->query + start, off - start);
    return m;
}

char *ds_read_file(const char *path, size_t *lenp)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    ds_buf b;
    ds_buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) ds_buf_add(&b, chunk, n);
    int err = ferror(f);
    fclose(f);
    if (err || b.oom) { ds_buf_free(&b); errno = err ? EIO : ENOMEM; return NULL; }
    if (lenp) *lenp = b.len;
    return ds_buf_steal(&b);
}

/* ---------------------------------------------------------------- did you mean */

/* Optimal string alignment distance (adjacent swaps cost 1), case folded. */
static size_t osa(const char *a, size_t na, const char *b, size_t nb)
{
    size_t d[34][34];
    for (size_t i = 0; i <= na; i++) d[i][0] = i;
    for (size_t j = 0; j <= nb; j++) d[0][j] = j;
    for (size_t i = 1; i <= na; i++) {
        for (size_t j = 1; j <= nb; j++) {
            char ca = (char)(a[i - 1] | (a[i - 1] >= 'A' && a[i - 1] <= 'Z' ? 0x20 : 0));
            char cb = (char)(b[j - 1] | (b[j - 1] >= 'A' && b[j - 1] <= 'Z' ? 0x20 : 0));
            size_t c = d[i - 1][j - 1] + (ca != cb);
            if (d[i - 1][j] + 1 < c) c = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < c) c = d[i][j - 1] + 1;
            if (i > 1 && j > 1) {
                char pa = (char)(a[i - 2] | (a[i - 2] >= 'A' && a[i - 2] <= 'Z' ? 0x20 : 0));
                char pb = (char)(b[j - 2] | (b[j - 2] >= 'A' && b[j - 2] <= 'Z' ? 0x20 : 0));
                if (ca == pb && cb == pa && d[i - 2][j - 2] + 1 < c) c = d[i - 2][j - 2] + 1;
            }
            d[i][j] = c;
        }
    }
    return d[na][nb];
}

const char *ds_suggest(const char *s, size_t n, const char *const *cands)
{
    const char *best = NULL;
    size_t bestd = (size_t)-1;
    if (n == 0 || n > 32) return NULL;
    for (; *cands; cands++) {
        size_t cn = strlen(*cands);
        if (cn > 32) continue;            /* osa's table holds 32 characters */
        size_t dd = osa(s, n, *cands, cn);
        size_t mx = n > cn ? n : cn;
        if (dd <= 2 && dd * 3 <= mx && dd < bestd) { best = *cands; bestd = dd; }
    }
    return best;
}

/*
 * ds_json.c — JSON text for SQLite values (docs/values.md).
 *
 * Integers are exact over the whole int64 range. Reals are rendered as
 * Python's repr() renders them: the shortest digit string that reads back as
 * the same double (ties broken toward the nearer string, as David Gay's dtoa
 * mode 0 does), laid out positionally when the decimal exponent is in
 * [-4, 16) and in scientific notation otherwise. Text is quoted and escaped,
 * with invalid UTF-8 replaced by U+FFFD exactly as Python's
 * bytes.decode('utf-8', 'replace') does: one replacement per maximal
 * ill-formed subpart (Unicode 3.9, table 3-7).
 *
 * It lives in common/ because the compiler (plan table), the diagnostics
 * (--format json) and the runtime (cache values) all write JSON strings, and
 * one escaper keeps them the same.
 *
 * Nothing here allocates except through ds_buf, which records OOM itself, so
 * none of these functions can fail.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ds_common.h"
#include "ds_utf8.h"

/* ---------------------------------------------------------------- integers */

/* Appends v in decimal; cannot fail (ds_buf records OOM). */
void ds_json_int(ds_buf *b, int64_t v)
{
    char tmp[24];
    char *p = tmp + sizeof tmp;
    /* Negate in unsigned arithmetic so INT64_MIN needs no special case. */
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) *--p = '-';
    ds_buf_add(b, p, (size_t)(tmp + sizeof tmp - p));
}

/* ---------------------------------------------------------------- reals */

static const uint64_t pow10u[20] = {
    1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
    100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL,
    1000000000000ULL, 10000000000000ULL, 100000000000000ULL,
    1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL,
    1000000000000000000ULL, 10000000000000000000ULL
};

/* Parses "%.*e" output ("d.ddde+XX") into an integer mantissa and the
 * exponent of its last digit: value = *m * 10^*e. */
static void parse_e(const char *s, uint64_t *m, int *e)
{
    uint64_t mm = 0;
    int nd = 0;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9') { mm = mm * 10 + (uint64_t)(*s - '0'); nd++; }
    int x = *s == 'e' ? atoi(s + 1) : 0;
    *m = mm;
    *e = x - (nd - 1);
}

/* Powers of ten that are exact doubles. */
static const double p10[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

/* The double nearest to m * 10^e, as strtod (correctly rounded) reads it. */
static double read_back(uint64_t m, int e)
{
    /* Clinger's fast path: both operands exact, so the one IEEE operation
     * rounds correctly, as strtod would. */
    if (m <= (1ULL << 53) && e >= -22 && e <= 22)
        return e >= 0 ? (double)m * p10[e] : (double)m / p10[-e];
    char tmp[48];
    snprintf(tmp, sizeof tmp, "%" PRIu64 "e%d", m, e);
    return strtod(tmp, NULL);
}

/* Is there a p-digit decimal that reads back as v (v > 0, finite)? The
 * decimals that read back as v form an interval around v, so it suffices to
 * try the two p-digit decimals bracketing v: the nearer one c first (what
 * rounding to p digits gives), then its neighbour d on the other side of v
 * (needed when v's interval is lopsided, at powers of two). m17/e17 are v
 * rounded to 17 digits, from which shorter roundings are derived exactly
 * except when the dropped digits are exactly 5000..., where double rounding
 * could go wrong and printf is asked again. On success *dm * 10^*de is the
 * chosen decimal. */
static int try_digits(double v, uint64_t m17, int e17, int p, uint64_t *dm, int *de)
{
    uint64_t c;
    int e;
    if (p >= 17) {
        c = m17; e = e17;
    } else {
        uint64_t q = pow10u[17 - p], half = q / 2;
        uint64_t tail = m17 % q;
        c = m17 / q;
        e = e17 + (17 - p);
        if (tail > half) {
            c++;
        } else if (tail == half) {
            char tmp[48];
            snprintf(tmp, sizeof tmp, "%.*e", p - 1, v);
            parse_e(tmp, &c, &e);
        }
    }
    double r = read_back(c, e);
    if (r == v) { *dm = c; *de = e; return 1; }
    uint64_t d = r < v ? c + 1 : c - 1;
    if (d > 0 && read_back(d, e) == v) { *dm = d; *de = e; return 1; }
    return 0;
}

/* The shortest digits of v > 0 when there are at most 15 of them, without
 * printf (which was most of a REAL's cost): the least k for which
 * round(v * 10^k) * 10^-k reads back as v. Exact: such a decimal D = d * 10^-k
 * is unique (15-digit decimals are 1e-14 v apart, doubles 2.2e-16 v), v is
 * within 2.2e-16 v of D, so below 10^15 the product v * 10^k is within 0.33
 * of the integer d and rounds to it; Clinger's fast path reads back exactly;
 * and no smaller k can pass, or D would not be the shortest. Returns 0 when
 * v needs 16 or 17 digits or k would pass 22: the caller's general method. */
static int shortest15(double v, uint64_t *dm, int *de)
{
    for (int k = 0; k <= 22; k++) {
        double s = v * p10[k];
        if (s >= 1e15) return 0;
        uint64_t d = (uint64_t)(s + 0.5);  /* exact: s + 0.5 < 2^52 */
        if (d && (double)d / p10[k] == v) { *dm = d; *de = -k; return 1; }
    }
    return 0;
}

/* Shortest round-tripping digits of v > 0 (finite): value = *dm * 10^*de,
 * *dm without trailing zeros. */
static void shortest(double v, uint64_t *dm, int *de)
{
    uint64_t m;
    int e;
    if (v < 9007199254740992.0 && v == floor(v)) {
        /* Integers below 2^53: every decimal with fewer significant digits is
         * at least 1 away, and the double spacing here is at most 1, so the
         * integer's own digits are the shortest. */
        m = (uint64_t)v;
        e = 0;
    } else if (shortest15(v, &m, &e)) {
        /* at most 15 digits: found */
    } else {
        char tmp[48];
        uint64_t m17;
        int e17;
        snprintf(tmp, sizeof tmp, "%.16e", v);
        parse_e(tmp, &m17, &e17);
        /* "Some p-digit decimal reads back as v" is monotone in p (p-digit
         * decimals are also (p+1)-digit ones), so binary search for the
         * least p; 17 digits always suffice. */
        int lo = 1, hi = 17;
        uint64_t bm = m17;
        int be = e17;
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            uint64_t tm;
            int te;
            if (try_digits(v, m17, e17, mid, &tm, &te)) { hi = mid; bm = tm; be = te; }
            else lo = mid + 1;
        }
        m = bm;
        e = be;
    }
    while (m % 10 == 0) { m /= 10; e++; }
    *dm = m;
    *de = e;
}

/* Appends Python's repr() of v, or null when v is NaN or infinite; cannot
 * fail (ds_buf records OOM). */
void ds_json_double(ds_buf *b, double v)
{
    if (!isfinite(v)) { ds_buf_add(b, "null", 4); return; }
    char out[64];
    size_t n = 0;
    if (signbit(v)) { out[n++] = '-'; v = -v; }
    if (v == 0) { memcpy(out + n, "0.0", 3); ds_buf_add(b, out, n + 3); return; }

    uint64_t m;
    int e;
    shortest(v, &m, &e);
    char rev[24], dig[24];
    int nd = 0;
    do {
        rev[nd++] = (char)('0' + m % 10);
        m /= 10;
    } while (m);
    for (int i = 0; i < nd; i++) dig[i] = rev[nd - 1 - i];
    /* Python's float_repr_style 'short', format code 'r': value = 0.DIGITS *
     * 10^decpt; scientific when decpt <= -4 or decpt > 16. */
    int decpt = nd + e;
    if (decpt <= -4 || decpt > 16) {
        out[n++] = dig[0];
        if (nd > 1) {
            out[n++] = '.';
            memcpy(out + n, dig + 1, (size_t)nd - 1);
            n += (size_t)nd - 1;
        }
        int x = decpt - 1;
        n += (size_t)snprintf(out + n, sizeof out - n, "e%c%02d", x < 0 ? '-' : '+', x < 0 ? -x : x);
    } else if (decpt <= 0) {
        out[n++] = '0';
        out[n++] = '.';
        for (int i = 0; i < -decpt; i++) out[n++] = '0';
        memcpy(out + n, dig, (size_t)nd);
        n += (size_t)nd;
    } else if (decpt < nd) {
        memcpy(out + n, dig, (size_t)decpt);
        n += (size_t)decpt;
        out[n++] = '.';
        memcpy(out + n, dig + decpt, (size_t)(nd - decpt));
        n += (size_t)(nd - decpt);
    } else {
        memcpy(out + n, dig, (size_t)nd);
        n += (size_t)nd;
        for (int i = nd; i < decpt; i++) out[n++] = '0';
        out[n++] = '.';
        out[n++] = '0';
    }
    ds_buf_add(b, out, n);
}

/* ---------------------------------------------------------------- strings */

/* Bytes that end a plain run: '"', '\\', controls, and every non-ASCII byte
 * (validated, then usually kept in the run). */
static const unsigned char attention[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* Appends str[0..n) (NUL bytes included) as a quoted JSON string: '"', '\\'
 * and controls escaped, valid UTF-8 kept raw, invalid UTF-8 replaced by
 * U+FFFD per maximal ill-formed subpart. str may be NULL when n is 0. Cannot
 * fail (ds_buf records OOM). */
/* Skips whole 8-byte words of s[i..n) in which no byte needs attention (the
 * same bytes as the table: controls, '"', '\\', non-ASCII), and returns
 * where the byte-by-byte scan must go on. Each test says only whether some
 * byte of the word matches (exact in that sense), so a word that needs a
 * look is always left to the caller. */
static size_t plain_words(const unsigned char *s, size_t i, size_t n)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    while (n - i >= 8) {
        uint64_t w, q, bs;
        memcpy(&w, s + i, 8);
        q = w ^ (ones * '"');
        bs = w ^ (ones * '\\');
        uint64_t hit = (w & highs)                          /* >= 0x80 */
                     | ((w - ones * 0x20) & ~w & highs)     /* < 0x20 */
                     | ((q - ones) & ~q & highs)            /* '"' */
                     | ((bs - ones) & ~bs & highs);         /* '\\' */
        if (hit) break;
        i += 8;
    }
    return i;
}

void ds_json_string(ds_buf *b, const char *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)(str ? str : "");
    if (!str) n = 0;
    /* Most text needs no escaping: one reservation, then bulk copies. */
    if (ds_buf_reserve(b, n + 2)) return;
    b->p[b->len++] = '"';
    size_t run = 0, i = 0;      /* s[run..i) is copied verbatim */
    while (i < n) {
        i = plain_words(s, i, n);
        if (i >= n) break;
        unsigned c = s[i];
        if (!attention[c]) { i++; continue; }
        if (c >= 0x80) {
            uint32_t cp = 0;
            int k = ds_utf8_next(s + i, n - i, &cp);
            if (k > 0) { i += (size_t)k; continue; }
            ds_buf_add(b, s + run, i - run);
            ds_buf_add(b, DS_UTF8_REPLACEMENT, DS_UTF8_REPLACEMENT_LEN);
            i += (size_t)-k;
            run = i;
            continue;
        }
        ds_buf_add(b, s + run, i - run);
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t el = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
            esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
            el = 6;
        }
        ds_buf_add(b, esc, el);
        run = ++i;
    }
    ds_buf_add(b, s + run, i - run);
    ds_buf_addc(b, '"');
}

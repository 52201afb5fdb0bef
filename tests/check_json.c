/*
 * check_json.c — JSON text of values: exact int64, Python-repr reals and
 * Python-compatible UTF-8 repair, checked by hand tables and against python3
 * itself over thousands of generated inputs (one python3 process per batch).
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ds_jread.h"
#include "ds_runtime.h"
#include "ds_test.h"

/* ---------------------------------------------------------------- helpers */

static char *jint(int64_t v)
{
    ds_buf b;
    ds_buf_init(&b);
    ds_json_int(&b, v);
    return ds_buf_steal(&b);
}

static char *jdbl(double v)
{
    ds_buf b;
    ds_buf_init(&b);
    ds_json_double(&b, v);
    return ds_buf_steal(&b);
}

static char *jstr(const char *s, size_t n)
{
    ds_buf b;
    ds_buf_init(&b);
    ds_json_string(&b, s, n);
    ck_assert_int_eq(b.oom, 0);
    ck_assert_uint_eq(strlen(b.p), b.len);     /* never a raw NUL in the output */
    return ds_buf_steal(&b);
}

static double bits2d(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static uint64_t d2bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd(void)      /* xorshift64*: deterministic, so failures reproduce */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

/* Runs `python3 script < input` and returns its stdout lines (n of them). */
static char **python_lines(const char *script, const char *input, size_t *n)
{
    char *dir = ds_tmpdir();
    char *sp = ds_write(dir, "t.py", script);
    char *ip = ds_write(dir, "in.txt", input);
    char *cmd = ds_asprintf("python3 '%s' < '%s'", sp, ip);
    FILE *f = popen(cmd, "r");
    ck_assert_msg(f != NULL, "cannot run python3");
    size_t cap = 1024, cnt = 0;
    char **v = malloc(cap * sizeof *v);
    char *line = NULL;
    size_t lcap = 0;
    ssize_t got;
    while ((got = getline(&line, &lcap, f)) >= 0) {
        if (got > 0 && line[got - 1] == '\n') line[got - 1] = '\0';
        if (cnt == cap) v = realloc(v, (cap *= 2) * sizeof *v);
        v[cnt++] = strdup(line);
    }
    free(line);
    int st = pclose(f);
    ck_assert_msg(st == 0, "python3 failed (status %d)", st);
    free(cmd);
    free(sp);
    free(ip);
    ds_tmp_cleanup(dir);
    *n = cnt;
    return v;
}

static void free_lines(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

/* ---------------------------------------------------------------- integers */

START_TEST(ints_exact)
{
    static const struct { int64_t v; const char *s; } t[] = {
        {0, "0"}, {1, "1"}, {-1, "-1"}, {10, "10"}, {-10, "-10"},
        {1234567890, "1234567890"},
        {9007199254740993LL, "9007199254740993"},
        {INT64_MAX, "9223372036854775807"},
        {INT64_MAX - 1, "9223372036854775806"},
        {INT64_MIN, "-9223372036854775808"},
        {INT64_MIN + 1, "-9223372036854775807"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char *s = jint(t[i].v);
        ck_assert_str_eq(s, t[i].s);
        free(s);
    }
    /* Appends, does not replace. */
    ds_buf b;
    ds_buf_init(&b);
    ds_buf_adds(&b, "[");
    ds_json_int(&b, -5);
    ds_buf_adds(&b, ",");
    ds_json_int(&b, INT64_MIN);
    ck_assert_str_eq(b.p, "[-5,-9223372036854775808");
    ds_buf_free(&b);
}
END_TEST

/* ---------------------------------------------------------------- reals */

START_TEST(doubles_table)
{
    static const struct { double v; const char *s; } t[] = {
        {0.0, "0.0"}, {-0.0, "-0.0"}, {1.0, "1.0"}, {-1.0, "-1.0"}, {3.0, "3.0"},
        {100.0, "100.0"}, {0.1, "0.1"}, {0.5, "0.5"}, {-2.5, "-2.5"},
        {1.0 / 3.0, "0.3333333333333333"}, {2.0 / 3.0, "0.6666666666666666"},
        {0.1 + 0.2, "0.30000000000000004"},
        {1e15, "1000000000000000.0"}, {1e16, "1e+16"}, {1e17, "1e+17"},
        {1.5e16, "1.5e+16"}, {9999999999999998.0, "9999999999999998.0"},
        {1234567890123456.0, "1234567890123456.0"},
        {12345678901234567.0, "1.2345678901234568e+16"},
        {9007199254740993.0, "9007199254740992.0"},
        {123456789.0, "123456789.0"}, {1e20, "1e+20"}, {1e22, "1e+22"}, {1e23, "1e+23"},
        {1e300, "1e+300"}, {-1e300, "-1e+300"},
        {1e-05, "1e-05"}, {1.5e-05, "1.5e-05"}, {0.0001, "0.0001"}, {0.00012, "0.00012"},
        {0.001, "0.001"}, {123.456, "123.456"}, {-0.000123, "-0.000123"},
        {5e-324, "5e-324"}, {-5e-324, "-5e-324"}, {1e-323, "1e-323"},
        {2.5e-310, "2.5e-310"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {2.2250738585072014e-308, "2.2250738585072014e-308"},
        {2.225073858507201e-308, "2.225073858507201e-308"},
        {4.35, "4.35"}, {0.3, "0.3"}, {2.0e-7, "2e-07"},
        {1.2676506002282294e30, "1.2676506002282294e+30"},  /* 2^100 */
        {9.5367431640625e-07, "9.5367431640625e-07"},        /* 2^-20 */
        {5.960464477539063e-08, "5.960464477539063e-08"},    /* 2^-24 */
        /* Powers of two, whose interval is lopsided: the nearest 16-digit
         * decimal misses, the one on the wide side reads back. */
        {8.98846567431158e307, "8.98846567431158e+307"},     /* 2^1023 */
        {7.120236347223045e-307, "7.120236347223045e-307"},  /* 2^-1017 */
        {5.858190679279809e-244, "5.858190679279809e-244"},  /* 2^-808 */
        {123e18, "1.23e+20"}, {1e100, "1e+100"}, {3.14159, "3.14159"},
        {2251799813685248.5, "2251799813685248.5"},
        {0.1 * 3, "0.30000000000000004"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char *s = jdbl(t[i].v);
        ck_assert_msg(strcmp(s, t[i].s) == 0, "%a: got %s, want %s", t[i].v, s, t[i].s);
        free(s);
    }
    char *s;
    s = jdbl(NAN); ck_assert_str_eq(s, "null"); free(s);
    s = jdbl(-NAN); ck_assert_str_eq(s, "null"); free(s);
    s = jdbl(INFINITY); ck_assert_str_eq(s, "null"); free(s);
    s = jdbl(-INFINITY); ck_assert_str_eq(s, "null"); free(s);
}
END_TEST

/* Compares n doubles against Python's repr (nan/inf mapped to null). */
static void compare_python_doubles(const double *v, size_t n)
{
    ds_buf in;
    ds_buf_init(&in);
    for (size_t i = 0; i < n; i++) ds_buf_printf(&in, "%" PRIu64 "\n", d2bits(v[i]));
    ck_assert_int_eq(in.oom, 0);
    size_t nl;
    char **lines = python_lines(
        "import sys, struct, math\n"
        "out = []\n"
        "for l in sys.stdin:\n"
        "    d = struct.unpack('<d', struct.pack('<Q', int(l)))[0]\n"
        "    out.append(repr(d) if math.isfinite(d) else 'null')\n"
        "print('\\n'.join(out))\n", in.p, &nl);
    ck_assert_uint_eq(nl, n);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        char *s = jdbl(v[i]);
        if (strcmp(s, lines[i]) != 0 && bad++ < 10)
            fprintf(stderr, "double %a: got %s, python %s\n", v[i], s, lines[i]);
        free(s);
    }
    ck_assert_msg(bad == 0, "%zu of %zu doubles differ from python's repr", bad, n);
    free_lines(lines, nl);
    ds_buf_free(&in);
}

START_TEST(doubles_vs_python)
{
    size_t cap = 40000, n = 0;
    double *v = malloc(cap * sizeof *v);
    static const double edge[] = {
        0.0, -0.0, 0.1, 1.0 / 3, 1e16, 1e15, 9007199254740993.0, 5e-324,
        1.7976931348623157e308, 2.2250738585072014e-308, 123456789.0, 1e-05,
        0.0001, 1e-4 * 0.99999999, 9999999999999999.0, 1e16 - 2, 1e21, 1e22,
        INFINITY, -INFINITY, NAN, 0.30000000000000004, 2.5e-310, 4.9e-324,
    };
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++) v[n++] = edge[i];
    /* Powers of two and ten and their neighbours: lopsided intervals and
     * exponent boundaries of the positional/scientific layout. */
    for (int e = -1074; e <= 1023; e += 1) {
        double p = ldexp(1.0, e);
        v[n++] = p;
        v[n++] = nextafter(p, 0);
        v[n++] = nextafter(p, INFINITY);
    }
    for (int e = -325; e <= 308; e++) {
        double p = pow(10, e);
        v[n++] = p;
        v[n++] = -nextafter(p, 0);
        v[n++] = nextafter(p, INFINITY);
        v[n++] = p * 1.5;
    }
    /* Random bit patterns (every exponent, NaNs and infinities included). */
    for (int i = 0; i < 12000; i++) v[n++] = bits2d(rnd());
    /* Random short decimals, the kind queries produce: avg(), ratios, money. */
    for (int i = 0; i < 8000; i++) {
        double m = (double)(rnd() % 2000001) - 1000000.0;
        int e = (int)(rnd() % 40) - 20;
        v[n++] = m * pow(10, e);
    }
    for (int i = 0; i < 2000; i++) v[n++] = (double)(rnd() % 1000) / (double)(rnd() % 999 + 1);
    /* Decimals of 12 to 17 significant digits read as doubles, with up to
     * 24 decimal places: the edges of the printf-free path for at most 15
     * digits (near 1e15, and 22 places), and their neighbours. */
    for (int i = 0; i < 2000; i++) {
        static const uint64_t p10[] = {1000000000000ULL, 10000000000000ULL, 100000000000000ULL,
                                       1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL};
        uint64_t m = rnd() % p10[i % 6];
        char t[48];
        snprintf(t, sizeof t, "%" PRIu64 "e-%d", m, (int)(rnd() % 25));
        double d = strtod(t, NULL);
        v[n++] = d;
        v[n++] = nextafter(d, INFINITY);
        v[n++] = nextafter(d, 0);
    }
    ck_assert_uint_le(n, cap);
    compare_python_doubles(v, n);
    free(v);
}
END_TEST

/* ---------------------------------------------------------------- strings */

START_TEST(strings_table)
{
    static const struct { const char *in; size_t n; const char *out; } t[] = {
        {"", 0, "\"\""},
        {"hello", 5, "\"hello\""},
        {"a\"b\\c", 5, "\"a\\\"b\\\\c\""},
        {"\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\""},
        {"\x01\x1f\x7f", 3, "\"\\u0001\\u001f\x7f\""},
        {"a\0b", 3, "\"a\\u0000b\""},
        {"\0", 1, "\"\\u0000\""},
        {"/", 1, "\"/\""},
        {"caf\xc3\xa9", 5, "\"caf\xc3\xa9\""},
        {"\xe2\x82\xac", 3, "\"\xe2\x82\xac\""},                 /* euro */
        {"\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\""},         /* emoji */
        {"\xe2\x80\xa8", 3, "\"\xe2\x80\xa8\""},                 /* U+2028 kept */
        {"\xef\xbf\xbf", 3, "\"\xef\xbf\xbf\""},                 /* U+FFFF */
        {"\xf4\x8f\xbf\xbf", 4, "\"\xf4\x8f\xbf\xbf\""},         /* U+10FFFF */
        {"\xe2\x82", 2, "\"\xef\xbf\xbd\""},
        {"\xe2\x82" "A", 3, "\"\xef\xbf\xbd" "A\""},
        {"\xff\xfe", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\""},
        {"\xed\xa0\x80", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
        {"\xf4\x90\x80\x80", 4, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
        {"\xc0\x80", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\""},
        {"\xc1\xbf", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\""},
        {"\xe0\x80\x80", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},   /* overlong */
        {"\xe0\xa0", 2, "\"\xef\xbf\xbd\""},
        {"\xf0\x9f\x98", 3, "\"\xef\xbf\xbd\""},                  /* truncated at end */
        {"x\xf0\x9f\x98y", 5, "\"x\xef\xbf\xbdy\""},
        {"\xf0\x80\x80\x80", 4, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
        {"\x80", 1, "\"\xef\xbf\xbd\""},
        {"\xbf\x80", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\""},
        {"\xf8\x88\x80\x80\x80", 5, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
        {"\xc3\"", 2, "\"\xef\xbf\xbd\\\"\""},
        {"\xe2\x82\n", 3, "\"\xef\xbf\xbd\\n\""},
        {"\xed\x9f\xbf", 3, "\"\xed\x9f\xbf\""},                  /* U+D7FF */
        {"\xee\x80\x80", 3, "\"\xee\x80\x80\""},                  /* U+E000 */
        {"\xc3", 1, "\"\xef\xbf\xbd\""},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char *s = jstr(t[i].in, t[i].n);
        ck_assert_msg(strcmp(s, t[i].out) == 0, "case %zu: got %s, want %s", i, s, t[i].out);
        free(s);
    }
    char *s = jstr(NULL, 0);
    ck_assert_str_eq(s, "\"\"");
    free(s);
}
END_TEST

/* One random byte string, biased toward the bytes that matter. */
static size_t random_bytes(unsigned char *p, size_t max)
{
    static const unsigned char pool[] = {
        0x00, 0x01, 0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x1f, 0x20, '"', '\\', 'a', 'Z', 0x7f,
        0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec,
        0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xf8, 0xfe, 0xff,
    };
    size_t n = rnd() % (max + 1);
    for (size_t i = 0; i < n; i++) {
        uint64_t r = rnd();
        switch (r % 4) {
        case 0: p[i] = (unsigned char)(r >> 8); break;
        case 1: p[i] = (unsigned char)(0x80 + (r >> 8) % 0x40); break;   /* continuation */
        default: p[i] = pool[(r >> 8) % sizeof pool];
        }
    }
    return n;
}

START_TEST(strings_vs_python)
{
    enum { N = 6000 };
    static const char *fixed[] = {"\xe2\x82", "\xe2\x82" "A", "\xff\xfe", "\xed\xa0\x80",
                                  "\xf4\x90\x80\x80", "\xc0\x80", "\xf0\x9f\x98"};
    unsigned char (*raw)[40] = malloc(N * sizeof *raw);
    size_t *len = malloc(N * sizeof *len);
    ds_buf in;
    ds_buf_init(&in);
    for (size_t i = 0; i < N; i++) {
        if (i < sizeof fixed / sizeof fixed[0]) {
            len[i] = strlen(fixed[i]);
            memcpy(raw[i], fixed[i], len[i]);
        } else {
            len[i] = random_bytes(raw[i], sizeof raw[i]);
        }
        for (size_t j = 0; j < len[i]; j++) ds_buf_printf(&in, "%02x", raw[i][j]);
        ds_buf_addc(&in, '\n');
    }
    size_t nl;
    char **lines = python_lines(
        "import sys, json\n"
        "out = []\n"
        "for l in sys.stdin:\n"
        "    s = bytes.fromhex(l.strip()).decode('utf-8', 'replace')\n"
        "    out.append(json.dumps(s, ensure_ascii=False).encode('utf-8').hex())\n"
        "print('\\n'.join(out))\n", in.p, &nl);
    ck_assert_uint_eq(nl, N);
    size_t bad = 0;
    for (size_t i = 0; i < N; i++) {
        char *s = jstr((const char *)raw[i], len[i]);
        ds_buf h;
        ds_buf_init(&h);
        for (size_t j = 0; s[j]; j++) ds_buf_printf(&h, "%02x", (unsigned char)s[j]);
        if (strcmp(h.p ? h.p : "", lines[i]) != 0 && bad++ < 10)
            fprintf(stderr, "string %zu: got %s, python %s\n", i, h.p ? h.p : "", lines[i]);
        ds_buf_free(&h);
        free(s);
    }
    ck_assert_msg(bad == 0, "%zu of %d strings differ from python", bad, N);
    free_lines(lines, nl);
    ds_buf_free(&in);
    free(len);
    free(raw);
}
END_TEST

START_TEST(strings_long)
{
    /* A long plain run is copied whole; a long run of bad bytes expands 3x. */
    size_t n = 1 << 20;
    char *a = malloc(n);
    for (size_t i = 0; i < n; i++) a[i] = (char)('a' + i % 26);
    a[n / 2] = '\n';
    char *s = jstr(a, n);
    ck_assert_uint_eq(strlen(s), n + 3);
    ck_assert_int_eq(s[0], '"');
    ck_assert_int_eq(s[n + 2], '"');
    ck_assert_int_eq(memcmp(s + 1, a, n / 2), 0);
    ck_assert_int_eq(memcmp(s + 1 + n / 2, "\\n", 2), 0);
    ck_assert_int_eq(memcmp(s + 3 + n / 2, a + n / 2 + 1, n - n / 2 - 1), 0);
    free(s);
    memset(a, 0xff, n);
    s = jstr(a, n);
    ck_assert_uint_eq(strlen(s), 3 * n + 2);
    free(s);
    free(a);
}
END_TEST

/* ---------------------------------------------------------------- cells */

/* The one JSON reader (common/ds_jread.h): strings decoded, surrogate
 * pairs joined, a lone surrogate as U+FFFD, raw control bytes refused,
 * numbers kept as their exact text. */
START_TEST(reader_pieces)
{
    static const struct { const char *in, *out; } ok[] = {
        {"\"a\\\"b\\/\\n\"", "a\"b/\n"},
        {" \"\\u00e9\\ud83d\\ude00\"", "\xc3\xa9\xf0\x9f\x98\x80"},
        {"\"x\\ud800y\"", "x\xef\xbf\xbdy"},
        {"\"\\udc00\"", "\xef\xbf\xbd"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ds_jread j = {ok[i].in, 0, strlen(ok[i].in)};
        ds_buf b;
        ds_buf_init(&b);
        ck_assert_msg(ds_jread_string(&j, &b) == 0, "%s", ok[i].in);
        ds_buf_adds(&b, "");
        ck_assert_str_eq(b.p, ok[i].out);
        ck_assert_uint_eq(j.i, j.n);
        ds_buf_free(&b);
    }
    static const char *const bad[] = {"\"a", "\"\\x\"", "\"\\u12\"", "\"a\tb\"", "'a'", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ds_jread j = {bad[i], 0, strlen(bad[i])};
        ds_buf b;
        ds_buf_init(&b);
        ck_assert_msg(ds_jread_string(&j, &b) == -1, "'%s' read", bad[i]);
        ds_buf_free(&b);
    }
    const char *num = " -12345678901234567890.5e-3,";
    ds_jread j = {num, 0, strlen(num)};
    size_t n = ds_jread_number(&j);
    ck_assert_uint_eq(n, strlen("-12345678901234567890.5e-3"));
    ck_assert_int_eq(memcmp(num + 1, "-12345678901234567890.5e-3", n), 0);
    ck_assert_int_eq(ds_jread_eat(&j, ','), 0);
    ds_jread w = {"  true x", 0, 8};
    ck_assert_int_eq(ds_jread_word(&w, "true"), 1);
    ck_assert_int_eq(ds_jread_word(&w, "y"), 0);
    ck_assert_uint_eq(ds_jread_number(&w), 0);
}
END_TEST

START_TEST(cells)
{
    ds_buf b;
    ds_buf_init(&b);
    ds_cell c = {0};
    c.type = DS_T_NULL;
    ck_assert_int_eq(ds_json_cell(&b, &c), 0);
    ds_buf_addc(&b, ',');
    c.type = DS_T_INT; c.i = INT64_MAX;
    ck_assert_int_eq(ds_json_cell(&b, &c), 0);
    ds_buf_addc(&b, ',');
    c.type = DS_T_REAL; c.r = 1e20;
    ck_assert_int_eq(ds_json_cell(&b, &c), 0);
    ds_buf_addc(&b, ',');
    c.type = DS_T_REAL; c.r = INFINITY;
    ck_assert_int_eq(ds_json_cell(&b, &c), 0);
    ds_buf_addc(&b, ',');
    c.type = DS_T_TEXT; c.s = "x\"y\0z"; c.n = 5;
    ck_assert_int_eq(ds_json_cell(&b, &c), 0);
    ds_buf_addc(&b, ',');
    c.type = DS_T_TEXT; c.s = NULL; c.n = 0;
    ck_assert_int_eq(ds_json_cell(&b, &c), 0);
    ck_assert_str_eq(b.p, "null,9223372036854775807,1e+20,null,\"x\\\"y\\u0000z\",\"\"");
    size_t len = b.len;
    c.type = DS_T_BLOB; c.s = "\x01\x02"; c.n = 2;
    ck_assert_int_eq(ds_json_cell(&b, &c), -1);
    ck_assert_uint_eq(b.len, len);          /* a BLOB appends nothing */
    ds_buf_free(&b);
}
END_TEST

Suite *json_suite(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("json");
    /* The whole suite takes about 1.3 s here; per test, 120 s for valgrind. */
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, ints_exact);
    tcase_add_test(tc, doubles_table);
    tcase_add_test(tc, doubles_vs_python);
    tcase_add_test(tc, strings_table);
    tcase_add_test(tc, strings_vs_python);
    tcase_add_test(tc, strings_long);
    tcase_add_test(tc, cells);
    tcase_add_test(tc, reader_pieces);
    suite_add_tcase(s, tc);
    return s;
}

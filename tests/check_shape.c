/*
 * check_shape.c — result rows -> JSON value of every shape (contract section 2):
 * 0/1/many rows, every run error, pivots with fill, map order and keys,
 * max_rows and max_bytes (exactly at the limit and one byte over), and large
 * results parsed back with cJSON.
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ds_runtime.h"
#include "ds_test.h"

#define CI(v) ((ds_cell){.type = DS_T_INT, .i = (v)})
#define CR(v) ((ds_cell){.type = DS_T_REAL, .r = (v)})
#define CT(str) ((ds_cell){.type = DS_T_TEXT, .s = (str), .n = sizeof(str) - 1})
#define CN ((ds_cell){.type = DS_T_NULL})
/* A pre-rendered JSON value with its key text (the PostgreSQL engine's cells). */
#define CJ(json, key) ((ds_cell){.type = DS_T_RAW, .s = (json), .n = sizeof(json) - 1, .k = (key), .kn = sizeof(key) - 1})
#define CB ((ds_cell){.type = DS_T_BLOB, .s = "\x01", .n = 1})
/* An INT/REAL cell with the CAST AS TEXT the executor supplies for textcols. */
#define CIT(v, str) ((ds_cell){.type = DS_T_INT, .i = (v), .s = (str), .n = sizeof(str) - 1})
#define CRT(v, str) ((ds_cell){.type = DS_T_REAL, .r = (v), .s = (str), .n = sizeof(str) - 1})

static ds_item item(ds_shape shape)
{
    ds_item it;
    memset(&it, 0, sizeof it);
    it.key = "k";
    it.shape = shape;
    it.max_rows = 1000;
    it.max_bytes = 1048576;
    return it;
}

/* Shapes nrows rows of ncols cells. Returns the JSON (caller frees) or NULL
 * with *err set (caller frees); *entries receives the rows on success. */
static char *shape(const ds_item *it, const char *const *cols, int ncols,
                   const ds_cell *cells, int nrows, char **err, int64_t *entries)
{
    *err = NULL;
    ds_shaper *s = ds_shaper_new(it, cols, ncols, err);
    if (!s) {
        ck_assert_ptr_nonnull(*err);
        return NULL;
    }
    ck_assert_ptr_null(*err);
    char *json = NULL;
    for (int r = 0; r < nrows; r++) {
        if (ds_shaper_row(s, cells + (size_t)r * (size_t)ncols, err)) {
            ck_assert_ptr_nonnull(*err);
            /* a failed shaper refuses everything after */
            char *e2 = NULL;
            ck_assert_int_eq(ds_shaper_row(s, cells, &e2), -1);
            free(e2);
            ds_shaper_free(s);
            return NULL;
        }
    }
    size_t len = 0;
    int64_t n = -1;
    if (ds_shaper_finish(s, &json, &len, &n, err) == 0) {
        ck_assert_ptr_nonnull(json);
        ck_assert_uint_eq(strlen(json), len);
        ck_assert_int_eq(n, nrows);
        if (entries) *entries = n;
    } else {
        ck_assert_ptr_nonnull(*err);
        json = NULL;
    }
    ds_shaper_free(s);
    return json;
}

/* Asserts the shape gives exactly want. */
static void expect(const ds_item *it, const char *const *cols, int ncols,
                   const ds_cell *cells, int nrows, const char *want)
{
    char *err;
    char *j = shape(it, cols, ncols, cells, nrows, &err, NULL);
    ck_assert_msg(j != NULL, "unexpected error: %s", err ? err : "(null)");
    ck_assert_str_eq(j, want);
    /* the same value with max_bytes exactly its size passes, one less fails */
    ds_item lim = *it;
    lim.max_bytes = (int64_t)strlen(want);
    char *j2 = shape(&lim, cols, ncols, cells, nrows, &err, NULL);
    ck_assert_msg(j2 != NULL, "at max_bytes = size: %s", err ? err : "(null)");
    ck_assert_str_eq(j2, want);
    free(j2);
    if (lim.max_bytes > 1) {
        lim.max_bytes--;
        j2 = shape(&lim, cols, ncols, cells, nrows, &err, NULL);
        ck_assert_ptr_null(j2);
        char msg[80];
        snprintf(msg, sizeof msg, "value is larger than max_bytes (%" PRId64 " bytes)", lim.max_bytes);
        ck_assert_str_eq(err, msg);
        free(err);
    }
    free(j);
}

/* Asserts a run (or setup) error with exactly this message. */
static void expect_err(const ds_item *it, const char *const *cols, int ncols,
                       const ds_cell *cells, int nrows, const char *msg)
{
    char *err;
    char *j = shape(it, cols, ncols, cells, nrows, &err, NULL);
    ck_assert_msg(j == NULL, "expected error '%s', got %s", msg, j);
    ck_assert_str_eq(err, msg);
    free(err);
}

/* ---------------------------------------------------------------- scalar */

START_TEST(shape_scalar)
{
    ds_item it = item(DS_SHAPE_SCALAR);
    const char *c1[] = {"n"};
    ds_cell v[] = {CI(42), CI(7)};
    expect(&it, c1, 1, v, 0, "null");
    expect(&it, c1, 1, v, 1, "42");
    ds_cell r[] = {CR(0.1)}, t[] = {CT("a\"b")}, n[] = {CN}, big[] = {CI(INT64_MIN)};
    expect(&it, c1, 1, r, 1, "0.1");
    expect(&it, c1, 1, t, 1, "\"a\\\"b\"");
    expect(&it, c1, 1, n, 1, "null");
    expect(&it, c1, 1, big, 1, "-9223372036854775808");
    ds_cell inf[] = {CR(INFINITY)};
    expect(&it, c1, 1, inf, 1, "null");
    expect_err(&it, c1, 1, v, 2, "shape scalar: the query returned more than one row");
    ds_cell b[] = {CB};
    expect_err(&it, c1, 1, b, 1, "column 'n' is a BLOB; use hex(n) in the query");
    const char *c2[] = {"a", "b"};
    ds_cell two[] = {CI(1), CI(2)};
    expect_err(&it, c2, 2, two, 1, "shape scalar needs exactly 1 column, the query returns 2");
    int64_t entries = -1;
    char *err;
    char *j = shape(&it, c1, 1, v, 0, &err, &entries);
    ck_assert_str_eq(j, "null");
    ck_assert_int_eq(entries, 0);
    free(j);
    j = shape(&it, c1, 1, v, 1, &err, &entries);
    ck_assert_int_eq(entries, 1);
    free(j);
}
END_TEST

/* ---------------------------------------------------------------- row, rows */

START_TEST(shape_row)
{
    ds_item it = item(DS_SHAPE_ROW);
    const char *c[] = {"a", "b", "c", "d", "q\"\n"};
    ds_cell v[] = {CI(1), CT("x"), CN, CR(1.5), CR(-0.0),
                   CI(2), CT("y"), CN, CR(2.5), CR(1e100)};
    expect(&it, c, 5, v, 0, "null");
    expect(&it, c, 5, v, 1, "{\"a\":1,\"b\":\"x\",\"c\":null,\"d\":1.5,\"q\\\"\\n\":-0.0}");
    expect_err(&it, c, 5, v, 2, "shape row: the query returned more than one row");
    ds_cell b[] = {CI(1), CT("x"), CN, CB, CN};
    expect_err(&it, c, 5, b, 1, "column 'd' is a BLOB; use hex(d) in the query");
    const char *dup[] = {"a", "a"};
    expect_err(&it, dup, 2, v, 0, "the result has two columns named 'a'");
}
END_TEST

START_TEST(shape_rows)
{
    ds_item it = item(DS_SHAPE_ROWS);
    const char *c[] = {"id", "name"};
    ds_cell v[] = {CI(3), CT("c"), CI(1), CT("caf\xc3\xa9"), CI(2), CN, CI(9007199254740993LL), CT("\xff")};
    expect(&it, c, 2, v, 0, "[]");
    expect(&it, c, 2, v, 1, "[{\"id\":3,\"name\":\"c\"}]");
    expect(&it, c, 2, v, 4,
           "[{\"id\":3,\"name\":\"c\"},{\"id\":1,\"name\":\"caf\xc3\xa9\"},{\"id\":2,\"name\":null},"
           "{\"id\":9007199254740993,\"name\":\"\xef\xbf\xbd\"}]");
    ds_cell b[] = {CI(1), CT("a"), CI(2), CB};
    expect_err(&it, c, 2, b, 2, "column 'name' is a BLOB; use hex(name) in the query");
    const char *dup[] = {"id", "x", "id"};
    expect_err(&it, dup, 3, v, 0, "the result has two columns named 'id'");
}
END_TEST

START_TEST(rows_large)
{
    enum { N = 100000 };
    ds_item it = item(DS_SHAPE_ROWS);
    it.max_rows = N;
    it.max_bytes = 64 << 20;
    const char *c[] = {"i", "r", "t"};
    char *err = NULL;
    ds_shaper *s = ds_shaper_new(&it, c, 3, &err);
    ck_assert_ptr_nonnull(s);
    char txt[32];
    for (int i = 0; i < N; i++) {
        int n = snprintf(txt, sizeof txt, "row %d", i);
        ds_cell row[3] = {CI(i), CR(i / 4.0), {.type = DS_T_TEXT, .s = txt, .n = (size_t)n}};
        ck_assert_int_eq(ds_shaper_row(s, row, &err), 0);
    }
    char *json;
    size_t len;
    int64_t entries;
    ck_assert_int_eq(ds_shaper_finish(s, &json, &len, &entries, &err), 0);
    ck_assert_int_eq(entries, N);
    ds_shaper_free(s);
    cJSON *root = cJSON_ParseWithLength(json, len);
    ck_assert_ptr_nonnull(root);
    ck_assert(cJSON_IsArray(root));
    ck_assert_int_eq(cJSON_GetArraySize(root), N);
    int i = 0;
    for (cJSON *o = root->child; o; o = o->next, i++) {
        ck_assert_int_eq(cJSON_GetObjectItem(o, "i")->valueint, i);
        ck_assert(cJSON_GetObjectItem(o, "r")->valuedouble == i / 4.0);
        snprintf(txt, sizeof txt, "row %d", i);
        ck_assert_str_eq(cJSON_GetObjectItem(o, "t")->valuestring, txt);
    }
    ck_assert_int_eq(i, N);
    cJSON_Delete(root);
    free(json);

    /* one row more than max_rows */
    it.max_rows = N - 1;
    s = ds_shaper_new(&it, c, 3, &err);
    int failed_at = -1;
    for (int k = 0; k < N; k++) {
        ds_cell row[3] = {CI(k), CR(0), CT("x")};
        if (ds_shaper_row(s, row, &err)) { failed_at = k; break; }
    }
    ck_assert_int_eq(failed_at, N - 1);
    ck_assert_str_eq(err, "more than max_rows (99999) rows");
    free(err);
    ds_shaper_free(s);
}
END_TEST

/* ---------------------------------------------------------------- map */

/* Pre-rendered JSON cells: embedded as they are, keyed by their key text. */
START_TEST(shape_raw)
{
    ds_item it = item(DS_SHAPE_SCALAR);
    const char *c1[] = {"v"};
    ds_cell n[] = {CJ("12345678901234567890.000000000001", "12345678901234567890.000000000001")};
    expect(&it, c1, 1, n, 1, "12345678901234567890.000000000001");
    ds_cell j[] = {CJ("{\"a\": [1, 2]}", "{\"a\": [1, 2]}")};
    expect(&it, c1, 1, j, 1, "{\"a\": [1, 2]}");
    it = item(DS_SHAPE_ROWS);
    const char *c2[] = {"k", "v"};
    ds_cell r[] = {CJ("true", "true"), CJ("1.50", "1.50"), CJ("\"x\"", "x"), CN};
    expect(&it, c2, 2, r, 2, "[{\"k\":true,\"v\":1.50},{\"k\":\"x\",\"v\":null}]");
    it = item(DS_SHAPE_MAP);
    ds_cell m[] = {CJ("\"a\\\"b\"", "a\"b"), CJ("1.0", "1.0"), CJ("2", "2"), CJ("[1]", "[1]")};
    expect(&it, c2, 2, m, 2, "{\"a\\\"b\":1.0,\"2\":[1]}");
    /* a raw key that alone exceeds max_bytes fails before it is copied */
    it.max_bytes = 3;
    expect_err(&it, c2, 2, m, 1, "value is larger than max_bytes (3 bytes)");
}
END_TEST

START_TEST(shape_map)
{
    ds_item it = item(DS_SHAPE_MAP);
    const char *c[] = {"status", "n"};
    char *err = NULL;
    ds_shaper *s = ds_shaper_new(&it, c, 2, &err);
    const unsigned char *tc = ds_shaper_textcols(s);
    ck_assert_int_eq(tc[0], 1);
    ck_assert_int_eq(tc[1], 0);
    ds_shaper_free(s);

    /* query order, not sorted */
    ds_cell v[] = {CT("pending"), CI(3), CT("done"), CI(10), CT("active"), CR(2.5)};
    expect(&it, c, 2, v, 0, "{}");
    expect(&it, c, 2, v, 3, "{\"pending\":3,\"done\":10,\"active\":2.5}");
    /* unicode kept, invalid UTF-8 repaired, escapes */
    ds_cell u[] = {CT("\xe6\x97\xa5\xe6\x9c\xac"), CI(1), CT("a\xe2\x82"), CI(2), CT("t\"\t"), CN};
    expect(&it, c, 2, u, 3,
           "{\"\xe6\x97\xa5\xe6\x9c\xac\":1,\"a\xef\xbf\xbd\":2,\"t\\\"\\t\":null}");
    /* numbers as keys: CAST AS TEXT, supplied by the executor */
    ds_cell nk[] = {CIT(1, "1"), CT("one"), CRT(2.5, "2.5"), CT("x"), CIT(-7, "-7"), CN};
    expect(&it, c, 2, nk, 3, "{\"1\":\"one\",\"2.5\":\"x\",\"-7\":null}");
    /* ... and computed here when it did not */
    ds_cell nk2[] = {CI(INT64_MAX), CI(1), CR(1.0), CI(2), CR(1e20), CI(3)};
    expect(&it, c, 2, nk2, 3, "{\"9223372036854775807\":1,\"1.0\":2,\"1.0e+20\":3}");

    expect_err(&it, c, 2, (ds_cell[]){CT("a"), CI(1), CN, CI(2)}, 2,
               "shape map: NULL key in column 'status'");
    expect_err(&it, c, 2, (ds_cell[]){CT("a"), CI(1), CT("b"), CI(2), CT("a"), CI(3)}, 3,
               "shape map: duplicate key \"a\" in column 'status'");
    /* 1 and '1' have the same text: a repeated key */
    expect_err(&it, c, 2, (ds_cell[]){CIT(1, "1"), CI(1), CT("1"), CI(2)}, 2,
               "shape map: duplicate key \"1\" in column 'status'");
    /* two invalid byte strings that repair to the same text */
    expect_err(&it, c, 2, (ds_cell[]){CT("\xff"), CI(1), CT("\xfe"), CI(2)}, 2,
               "shape map: duplicate key \"\xef\xbf\xbd\" in column 'status'");
    expect_err(&it, c, 2, (ds_cell[]){CB, CI(1)}, 1,
               "column 'status' is a BLOB; use hex(status) in the query");
    expect_err(&it, c, 2, (ds_cell[]){CT("a"), CB}, 1,
               "column 'n' is a BLOB; use hex(n) in the query");
    const char *c1[] = {"a"}, *c3[] = {"a", "b", "c"};
    expect_err(&it, c1, 1, v, 0, "shape map needs exactly 2 columns, the query returns 1");
    expect_err(&it, c3, 3, v, 0, "shape map needs exactly 2 columns, the query returns 3");
    /* a long duplicate key is shortened in the message */
    char longk[200];
    memset(longk, 'k', sizeof longk);
    ds_cell lk[] = {{.type = DS_T_TEXT, .s = longk, .n = sizeof longk}, CI(1),
                    {.type = DS_T_TEXT, .s = longk, .n = sizeof longk}, CI(2)};
    char *j = shape(&it, c, 2, lk, 2, &err, NULL);
    ck_assert_ptr_null(j);
    ck_assert_ptr_nonnull(strstr(err, "duplicate key \"kkkk"));
    ck_assert_ptr_nonnull(strstr(err, "kkk... in column 'status'"));
    ck_assert_uint_lt(strlen(err), 120);
    free(err);
}
END_TEST

START_TEST(map_many)
{
    /* 20k distinct keys: the hash table grows; then a late duplicate is found */
    enum { N = 20000 };
    ds_item it = item(DS_SHAPE_MAP);
    it.max_rows = N + 1;
    it.max_bytes = 0;           /* no limit */
    const char *c[] = {"k", "v"};
    char *err = NULL;
    ds_shaper *s = ds_shaper_new(&it, c, 2, &err);
    char key[32];
    for (int i = 0; i < N; i++) {
        int n = snprintf(key, sizeof key, "key%d", (i * 7919) % N);
        ds_cell row[2] = {{.type = DS_T_TEXT, .s = key, .n = (size_t)n}, CI(i)};
        ck_assert_int_eq(ds_shaper_row(s, row, &err), 0);
    }
    int n = snprintf(key, sizeof key, "key%d", 12345);
    ds_cell row[2] = {{.type = DS_T_TEXT, .s = key, .n = (size_t)n}, CI(0)};
    ck_assert_int_eq(ds_shaper_row(s, row, &err), -1);
    ck_assert_str_eq(err, "shape map: duplicate key \"key12345\" in column 'k'");
    free(err);
    ds_shaper_free(s);
}
END_TEST

/* ---------------------------------------------------------------- series */

START_TEST(series_plain)
{
    ds_item it = item(DS_SHAPE_SERIES);
    it.x = "day";
    const char *c[] = {"day", "a", "b"};
    ds_cell v[] = {CT("mon"), CI(1), CR(0.5),
                   CT("tue"), CN, CI(2),
                   CT("tue"), CI(3), CI(4)};      /* repeated x is kept */
    /* y defaults to every column but x */
    expect(&it, c, 3, v, 0, "{\"x\":[],\"series\":{\"a\":[],\"b\":[]}}");
    expect(&it, c, 3, v, 3,
           "{\"x\":[\"mon\",\"tue\",\"tue\"],\"series\":{\"a\":[1,null,3],\"b\":[0.5,2,4]}}");
    /* explicit y, in y's order */
    char *y[] = {"b", "a"};
    it.y = y;
    it.ny = 2;
    expect(&it, c, 3, v, 3,
           "{\"x\":[\"mon\",\"tue\",\"tue\"],\"series\":{\"b\":[0.5,2,4],\"a\":[1,null,3]}}");
    it.ny = 1;
    expect(&it, c, 3, v, 2, "{\"x\":[\"mon\",\"tue\"],\"series\":{\"b\":[0.5,2]}}");
    /* x in the middle, case-insensitive names as SQLite matches them */
    const char *c2[] = {"n", "Day"};
    char *y2[] = {"N"};
    it.y = y2;
    ds_cell v2[] = {CI(5), CI(1), CI(6), CI(2)};
    expect(&it, c2, 2, v2, 2, "{\"x\":[1,2],\"series\":{\"n\":[5,6]}}");
    it.y = NULL;
    it.ny = 0;
    expect_err(&it, c, 3, (ds_cell[]){CT("mon"), CI(1), CB}, 1,
               "column 'b' is a BLOB; use hex(b) in the query");
    expect_err(&it, c, 3, (ds_cell[]){CB, CI(1), CI(2)}, 1,
               "column 'day' is a BLOB; use hex(day) in the query");
    /* columns that are not in the result */
    it.x = "nope";
    expect_err(&it, c, 3, v, 0, "x column 'nope' is not in the result");
    it.x = "day";
    char *y3[] = {"a", "zz"};
    it.y = y3;
    it.ny = 2;
    expect_err(&it, c, 3, v, 0, "y column 'zz' is not in the result");
    char *y4[] = {"a", "a"};
    it.y = y4;
    expect_err(&it, c, 3, v, 0, "y names column 'a' twice");
    it.ny = 0;
    const char *c1[] = {"day"};
    expect_err(&it, c1, 1, v, 0, "shape series: no y column left besides x and series_by");
    it.x = NULL;
    expect_err(&it, c, 3, v, 0, "shape series needs x");
}
END_TEST

START_TEST(series_pivot)
{
    ds_item it = item(DS_SHAPE_SERIES);
    it.x = "hour";
    char *y[] = {"n"};
    it.y = y;
    it.ny = 1;
    it.series_by = "status";
    const char *c[] = {"hour", "status", "n"};
    char *err = NULL;
    ds_shaper *s = ds_shaper_new(&it, c, 3, &err);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(ds_shaper_textcols(s)[0], 0);
    ck_assert_int_eq(ds_shaper_textcols(s)[1], 1);
    ck_assert_int_eq(ds_shaper_textcols(s)[2], 0);
    ds_shaper_free(s);

    ds_cell v[] = {
        CT("10:00"), CT("ok"), CI(5),
        CT("10:00"), CT("failed"), CI(1),
        CT("11:00"), CT("ok"), CI(7),
        CT("12:00"), CT("failed"), CI(2),
        CT("09:00"), CT("new"), CR(0.5),        /* x order is first appearance, not sorted */
    };
    expect(&it, c, 3, v, 0, "{\"x\":[],\"series\":{}}");
    expect(&it, c, 3, v, 1, "{\"x\":[\"10:00\"],\"series\":{\"ok\":[5]}}");
    expect(&it, c, 3, v, 5,
           "{\"x\":[\"10:00\",\"11:00\",\"12:00\",\"09:00\"],\"series\":{"
           "\"ok\":[5,7,null,null],\"failed\":[1,null,2,null],\"new\":[null,null,null,0.5]}}");
    it.fill = "0";
    expect(&it, c, 3, v, 5,
           "{\"x\":[\"10:00\",\"11:00\",\"12:00\",\"09:00\"],\"series\":{"
           "\"ok\":[5,7,0,0],\"failed\":[1,0,2,0],\"new\":[0,0,0,0.5]}}");
    it.fill = "-1.5";
    expect(&it, c, 3, v, 3,
           "{\"x\":[\"10:00\",\"11:00\"],\"series\":{\"ok\":[5,7],\"failed\":[1,-1.5]}}");
    it.fill = NULL;

    /* x identity is the JSON value: 1 and "1" are two points; NULL is an x */
    ds_cell w[] = {CI(1), CIT(7, "7"), CI(10),
                   CT("1"), CIT(7, "7"), CI(20),
                   CN, CRT(2.5, "2.5"), CI(30),
                   CI(1), CRT(2.5, "2.5"), CI(40)};
    expect(&it, c, 3, w, 4,
           "{\"x\":[1,\"1\",null],\"series\":{\"7\":[10,20,null],\"2.5\":[40,null,30]}}");

    /* y defaults to the one column left */
    it.y = NULL;
    it.ny = 0;
    expect(&it, c, 3, v, 2, "{\"x\":[\"10:00\"],\"series\":{\"ok\":[5],\"failed\":[1]}}");
    it.y = y;
    it.ny = 1;

    /* names with invalid UTF-8 and escapes */
    ds_cell u[] = {CI(1), CT("\xc3\xa9t\xc3\xa9"), CI(1), CI(1), CT("a\xff"), CI(2), CI(2), CT("q\""), CI(3)};
    expect(&it, c, 3, u, 3,
           "{\"x\":[1,2],\"series\":{\"\xc3\xa9t\xc3\xa9\":[1,null],\"a\xef\xbf\xbd\":[2,null],"
           "\"q\\\"\":[null,3]}}");

    expect_err(&it, c, 3, (ds_cell[]){CT("10:00"), CT("ok"), CI(1), CT("11:00"), CN, CI(2)}, 2,
               "shape series: NULL in series_by column 'status'");
    expect_err(&it, c, 3, (ds_cell[]){CT("10:00"), CT("ok"), CI(1), CT("11:00"), CT("ok"), CI(2),
                                      CT("10:00"), CT("ok"), CI(3)}, 3,
               "shape series: two rows for x \"10:00\" and series \"ok\"");
    expect_err(&it, c, 3, (ds_cell[]){CT("10:00"), CB, CI(1)}, 1,
               "column 'status' is a BLOB; use hex(status) in the query");
    expect_err(&it, c, 3, (ds_cell[]){CT("10:00"), CT("ok"), CB}, 1,
               "column 'n' is a BLOB; use hex(n) in the query");

    it.series_by = "stat";
    expect_err(&it, c, 3, v, 0, "series_by column 'stat' is not in the result");
    it.series_by = "status";
    char *y2[] = {"n", "hour"};
    it.y = y2;
    it.ny = 2;
    expect_err(&it, c, 3, v, 0, "series_by needs exactly one y column, not 2");
    const char *c4[] = {"hour", "status", "n", "m"};
    it.ny = 0;
    expect_err(&it, c4, 4, v, 0, "series_by needs exactly one y column, not 2");
}
END_TEST

/* A random sparse pivot checked cell by cell against a plain matrix. */
START_TEST(series_pivot_large)
{
    enum { NX = 400, NS = 60 };
    static int64_t m[NX][NS];
    static unsigned char has[NX][NS];
    memset(has, 0, sizeof has);
    static size_t perm[NX * NS];
    size_t np = 0;
    uint64_t r = 88172645463325252ULL;
    for (int x = 0; x < NX; x++)
        for (int k = 0; k < NS; k++) {
            r ^= r << 13; r ^= r >> 7; r ^= r << 17;
            if (r % 10 < 3) {
                has[x][k] = 1;
                m[x][k] = (int64_t)(r % 100000) - 50000;
                perm[np++] = (size_t)x * NS + (size_t)k;
            }
        }
    for (size_t i = np; i > 1; i--) {          /* shuffle the row order */
        r ^= r << 13; r ^= r >> 7; r ^= r << 17;
        size_t j = r % i, t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
    ds_item it = item(DS_SHAPE_SERIES);
    it.x = "x";
    it.series_by = "s";
    it.max_rows = NX * NS;
    const char *c[] = {"x", "s", "v"};
    char *err = NULL;
    ds_shaper *sh = ds_shaper_new(&it, c, 3, &err);
    ck_assert_ptr_nonnull(sh);
    int xorder[NX], sorder[NS], nx = 0, ns = 0;
    int xseen[NX], sseen[NS];
    memset(xseen, 0, sizeof xseen);
    memset(sseen, 0, sizeof sseen);
    for (size_t i = 0; i < np; i++) {
        int x = (int)(perm[i] / NS), k = (int)(perm[i] % NS);
        if (!xseen[x]) { xseen[x] = 1; xorder[nx++] = x; }
        if (!sseen[k]) { sseen[k] = 1; sorder[ns++] = k; }
        char name[16];
        int n = snprintf(name, sizeof name, "s%d", k);
        ds_cell row[3] = {CI(x), {.type = DS_T_TEXT, .s = name, .n = (size_t)n}, CI(m[x][k])};
        ck_assert_int_eq(ds_shaper_row(sh, row, &err), 0);
    }
    char *json;
    size_t len;
    int64_t entries;
    ck_assert_int_eq(ds_shaper_finish(sh, &json, &len, &entries, &err), 0);
    ck_assert_int_eq(entries, (int64_t)np);
    ds_shaper_free(sh);
    cJSON *root = cJSON_ParseWithLength(json, len);
    ck_assert_ptr_nonnull(root);
    cJSON *xs = cJSON_GetObjectItem(root, "x"), *ser = cJSON_GetObjectItem(root, "series");
    ck_assert_int_eq(cJSON_GetArraySize(xs), nx);
    for (int i = 0; i < nx; i++) ck_assert_int_eq(cJSON_GetArrayItem(xs, i)->valueint, xorder[i]);
    ck_assert_int_eq(cJSON_GetArraySize(ser), ns);
    int si = 0;
    for (cJSON *a = ser->child; a; a = a->next, si++) {
        char name[16];
        snprintf(name, sizeof name, "s%d", sorder[si]);
        ck_assert_str_eq(a->string, name);
        ck_assert_int_eq(cJSON_GetArraySize(a), nx);
        int i = 0;
        for (cJSON *e = a->child; e; e = e->next, i++) {
            if (has[xorder[i]][sorder[si]]) ck_assert_int_eq(e->valueint, m[xorder[i]][sorder[si]]);
            else ck_assert(cJSON_IsNull(e));
        }
    }
    cJSON_Delete(root);
    free(json);
}
END_TEST

START_TEST(limits)
{
    char *err;
    const char *c1[] = {"v"}, *c2[] = {"k", "v"}, *c3[] = {"x", "s", "y"};
    ds_cell v[] = {CT("a"), CI(1), CT("b"), CI(2), CT("c"), CI(3)};
    /* max_rows for every shape: exactly max_rows rows pass, one more fails */
    ds_item it = item(DS_SHAPE_MAP);
    it.max_rows = 3;
    char *j = shape(&it, c2, 2, v, 3, &err, NULL);
    ck_assert_str_eq(j, "{\"a\":1,\"b\":2,\"c\":3}");
    free(j);
    it.max_rows = 2;
    expect_err(&it, c2, 2, v, 3, "more than max_rows (2) rows");
    it.shape = DS_SHAPE_ROWS;
    expect_err(&it, c2, 2, v, 3, "more than max_rows (2) rows");
    it.shape = DS_SHAPE_SERIES;
    it.x = "k";
    expect_err(&it, c2, 2, v, 3, "more than max_rows (2) rows");
    it.series_by = "k";
    expect_err(&it, c2, 2, v, 3, "more than max_rows (2) rows");
    /* scalar/row: the shape's own rule speaks first */
    it = item(DS_SHAPE_SCALAR);
    it.max_rows = 1;
    expect_err(&it, c1, 1, v, 2, "shape scalar: the query returned more than one row");

    /* a 16 MB text is refused before it is escaped, wherever it appears */
    size_t big = 16u << 20;
    char *t = malloc(big);
    memset(t, '\n', big);                 /* would escape to 32 MB */
    ds_cell bt = {.type = DS_T_TEXT, .s = t, .n = big};
    const char *want = "value is larger than max_bytes (1000 bytes)";
    it = item(DS_SHAPE_SCALAR);
    it.max_bytes = 1000;
    expect_err(&it, c1, 1, &bt, 1, want);
    it.shape = DS_SHAPE_ROWS;
    expect_err(&it, c1, 1, &bt, 1, want);
    it.shape = DS_SHAPE_MAP;
    expect_err(&it, c2, 2, (ds_cell[]){bt, CI(1)}, 1, want);
    expect_err(&it, c2, 2, (ds_cell[]){CT("k"), bt}, 1, want);
    it.shape = DS_SHAPE_SERIES;
    it.x = "x";
    expect_err(&it, c3, 3, (ds_cell[]){bt, CT("s"), CI(1)}, 1, want);
    expect_err(&it, c3, 3, (ds_cell[]){CI(1), CT("s"), bt}, 1, want);
    it.series_by = "s";
    expect_err(&it, c3, 3, (ds_cell[]){bt, CT("s"), CI(1)}, 1, want);
    expect_err(&it, c3, 3, (ds_cell[]){CI(1), bt, CI(1)}, 1, want);
    expect_err(&it, c3, 3, (ds_cell[]){CI(1), CT("s"), bt}, 1, want);
    free(t);

    /* many small rows stop at the limit, not at the end */
    it = item(DS_SHAPE_ROWS);
    it.max_rows = 0;            /* no row limit */
    it.max_bytes = 100;
    ds_shaper *s = ds_shaper_new(&it, c1, 1, &err);
    int stopped = -1;
    for (int i = 0; i < 1000 && stopped < 0; i++)
        if (ds_shaper_row(s, (ds_cell[]){CI(12345)}, &err)) stopped = i;
    ck_assert_int_gt(stopped, 5);
    ck_assert_int_lt(stopped, 20);
    ck_assert_str_eq(err, "value is larger than max_bytes (100 bytes)");
    free(err);
    ds_shaper_free(s);

    /* "null" of an empty scalar counts too */
    it = item(DS_SHAPE_SCALAR);
    it.max_bytes = 3;
    expect_err(&it, c1, 1, v, 0, "value is larger than max_bytes (3 bytes)");

    /* a pivot too large only because of its fill fails at finish, before
     * it is built; a shorter value replacing a fill later is not an error */
    it = item(DS_SHAPE_SERIES);
    it.x = "x";
    it.series_by = "s";
    it.fill = "123456789";
    ds_cell p[] = {CI(1), CT("a"), CI(0), CI(2), CT("b"), CI(0)};
    j = shape(&it, c3, 3, p, 2, &err, NULL);
    ck_assert_str_eq(j, "{\"x\":[1,2],\"series\":{\"a\":[0,123456789],\"b\":[123456789,0]}}");
    it.max_bytes = (int64_t)strlen(j) - 1;
    free(j);
    expect_err(&it, c3, 3, p, 2, "value is larger than max_bytes (57 bytes)");
    ds_cell q[] = {CI(1), CT("a"), CI(0), CI(2), CT("b"), CI(0), CI(2), CT("a"), CI(0), CI(1), CT("b"), CI(0)};
    it.max_bytes = (int64_t)strlen("{\"x\":[1,2],\"series\":{\"a\":[0,0],\"b\":[0,0]}}");
    expect(&it, c3, 3, q, 4, "{\"x\":[1,2],\"series\":{\"a\":[0,0],\"b\":[0,0]}}");
}
END_TEST

START_TEST(misuse)
{
    /* finish after finish, row after finish, and a failed finish */
    ds_item it = item(DS_SHAPE_ROWS);
    const char *c[] = {"a"};
    char *err, *json = (char *)"untouched";
    size_t len = 7;
    int64_t n = 7;
    ds_shaper *s = ds_shaper_new(&it, c, 1, &err);
    ck_assert_int_eq(ds_shaper_row(s, (ds_cell[]){CI(1)}, &err), 0);
    ck_assert_ptr_null(err);
    ck_assert_int_eq(ds_shaper_finish(s, &json, &len, &n, &err), 0);
    ck_assert_str_eq(json, "[{\"a\":1}]");
    free(json);
    json = (char *)"untouched";
    ck_assert_int_eq(ds_shaper_finish(s, &json, &len, &n, &err), -1);
    ck_assert_ptr_nonnull(err);
    free(err);
    ck_assert_int_eq(ds_shaper_row(s, (ds_cell[]){CI(1)}, &err), -1);
    free(err);
    ck_assert_str_eq(json, "untouched");
    ds_shaper_free(s);
    ds_shaper_free(NULL);
    /* no columns */
    it.shape = DS_SHAPE_SCALAR;
    s = ds_shaper_new(&it, c, 0, &err);
    ck_assert_ptr_null(s);
    ck_assert_str_eq(err, "the query returns no columns");
    free(err);
}
END_TEST

Suite *shape_suite(void)
{
    Suite *s = suite_create("shape");
    TCase *tc = tcase_create("shape");
    /* The whole suite takes about 1.3 s here; per test, 120 s for valgrind. */
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, shape_scalar);
    tcase_add_test(tc, shape_row);
    tcase_add_test(tc, shape_rows);
    tcase_add_test(tc, rows_large);
    tcase_add_test(tc, shape_map);
    tcase_add_test(tc, map_many);
    tcase_add_test(tc, series_plain);
    tcase_add_test(tc, series_pivot);
    tcase_add_test(tc, series_pivot_large);
    tcase_add_test(tc, limits);
    tcase_add_test(tc, misuse);
    tcase_add_test(tc, shape_raw);
    suite_add_tcase(s, tc);
    return s;
}

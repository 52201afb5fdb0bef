/*
 * check_exec.c — the executor: binding by name and :now, the statement cache,
 * the timeout, the memory limits, the authorizer, errors, and that no read
 * lock outlives an item.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ds_cache.h"
#include "ds_test.h"
#include "sqlite/sqlite_int.h"

static char *dir, path[4096];
static int64_t T0;

static void setup(void)
{
    dir = ds_tmpdir();
    snprintf(path, sizeof path, "%s/x.db", dir);
    ds_sql(path,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, v REAL);"
        "INSERT INTO t VALUES (1, 'one', 1.5), (2, 'two', 0.1), (3, NULL, 3.0);");
    ck_assert_int_eq(ds_time_parse("2026-02-12 10:00:00", &T0), 0);
}

static void teardown(void)
{
    ds_tmp_cleanup(dir);
}

static ds_item mk(ds_shape shape, const char *query)
{
    ds_item it;
    memset(&it, 0, sizeof it);
    it.key = strdup("k");
    it.shape = shape;
    it.query = strdup(query);
    it.ttl = 900;
    it.refresh = 600;
    it.timeout = 30;
    it.max_rows = 1000;
    it.max_bytes = 1048576;
    return it;
}

static void add_param(ds_item *it, const char *name, ds_param_type type, int64_t i, double r, const char *s)
{
    it->params = realloc(it->params, (it->nparams + 1) * sizeof *it->params);
    ds_param *p = &it->params[it->nparams++];
    memset(p, 0, sizeof *p);
    p->name = strdup(name);
    p->type = type;
    p->i = i;
    p->r = r;
    p->s = s ? strdup(s) : NULL;
}

static ds_exec *open_exec(void)
{
    ds_diag d;
    ds_diag_init(&d);
    ds_exec *x = ds_exec_new(path, &d);
    ck_assert_msg(x != NULL, "ds_exec_new failed");
    ds_diag_free(&d);
    return x;
}

/* Runs it and returns the JSON (malloc'd), failing the test on error. */
static char *run_ok(ds_exec *x, const ds_item *it, int64_t now, int64_t *entries)
{
    ds_result r;
    char *err = NULL;
    int rc = ds_exec_item(x, it, now, &r, &err);
    ck_assert_msg(rc == 0, "unexpected error: %s", err ? err : "?");
    ck_assert_ptr_null(err);
    ck_assert_uint_eq(strlen(r.json), r.len);
    if (entries) *entries = r.entries;
    char *j = r.json;
    r.json = NULL;
    ds_result_free(&r);
    return j;
}

/* Runs it and returns the error (malloc'd), failing the test on success. */
static char *run_err(ds_exec *x, const ds_item *it, int64_t now)
{
    ds_result r;
    char *err = NULL;
    int rc = ds_exec_item(x, it, now, &r, &err);
    ck_assert_int_eq(rc, -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_null(r.json);
    return err;
}

/* The file can be locked exclusively at once: nobody holds a read lock. */
static void assert_unlocked(void)
{
    sqlite3 *h = NULL;
    ck_assert_int_eq(sqlite3_open(path, &h), SQLITE_OK);
    char *e = NULL;
    int rc = sqlite3_exec(h, "BEGIN EXCLUSIVE; COMMIT;", NULL, NULL, &e);
    ck_assert_msg(rc == SQLITE_OK, "database still locked: %s", e ? e : "?");
    sqlite3_close(h);
}

START_TEST(binds_params_and_now)
{
    ds_exec *x = open_exec();
    ds_item it = mk(DS_SHAPE_ROW, "SELECT :i AS i, :r AS r, :s AS s, :b AS b, :now AS now, typeof(:i) AS ti");
    add_param(&it, "i", DS_PARAM_INT, 9223372036854775807LL, 0, NULL);
    add_param(&it, "r", DS_PARAM_REAL, 0, 0.1, NULL);
    add_param(&it, "s", DS_PARAM_TEXT, 0, 0, "it's \"q\"");
    add_param(&it, "b", DS_PARAM_BOOL, 1, 0, NULL);
    int64_t n;
    char *j = run_ok(x, &it, T0, &n);
    ck_assert_str_eq(j, "{\"i\":9223372036854775807,\"r\":0.1,\"s\":\"it's \\\"q\\\"\",\"b\":1,"
                        "\"now\":\"2026-02-12 10:00:00\",\"ti\":\"integer\"}");
    ck_assert_int_eq(n, 1);
    free(j);
    /* The cached statement is rebound each time: a new now shows. */
    j = run_ok(x, &it, T0 + 3661, NULL);
    ck_assert_ptr_nonnull(strstr(j, "\"now\":\"2026-02-12 11:01:01\""));
    free(j);
    ds_item_free(&it);

    /* @name and $name spellings bind the same params entry. */
    it = mk(DS_SHAPE_SCALAR, "SELECT @a * 10 + $a + :a");
    add_param(&it, "a", DS_PARAM_INT, 2, 0, NULL);
    j = run_ok(x, &it, T0, NULL);
    ck_assert_str_eq(j, "24");
    free(j);
    ds_item_free(&it);

    /* :now is usable in date arithmetic, as the contract's example does. */
    it = mk(DS_SHAPE_SCALAR, "SELECT datetime(:now, '-' || :hours || ' hours')");
    add_param(&it, "hours", DS_PARAM_INT, 48, 0, NULL);
    j = run_ok(x, &it, T0, NULL);
    ck_assert_str_eq(j, "\"2026-02-10 10:00:00\"");
    free(j);
    ds_item_free(&it);
    ds_exec_free(x);
}
END_TEST

/* The one binder (run and explain): every spelling of a name, :now, never a
 * positional parameter even when a params entry is named like its number,
 * and a value SQLite refuses is an error naming the parameter, not NULL. */
START_TEST(one_binder_for_run_and_explain)
{
    sqlite3 *h = NULL;
    ck_assert_int_eq(sqlite3_open(":memory:", &h), SQLITE_OK);
    ds_item it = mk(DS_SHAPE_ROW, "");
    add_param(&it, "a", DS_PARAM_INT, 7, 0, NULL);
    add_param(&it, "9", DS_PARAM_INT, 99, 0, NULL);
    add_param(&it, "t", DS_PARAM_TEXT, 0, 0, "0123456789abcdef");
    sqlite3_stmt *st = NULL;
    /* ?2 has a slot of its own (named "?2"); :a and the rest come after it. */
    ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT :a, @a, $a, :now, $now, ?9, :unknown", -1, &st, NULL), SQLITE_OK);
    ck_assert_str_eq(sqlite3_bind_parameter_name(st, 9), "?9");
    char *err = NULL;
    ck_assert_int_eq(ds_sqlite_bind(st, &it, "2026-02-12 10:00:00", &err), 0);
    ck_assert_ptr_null(err);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    for (int i = 0; i < 3; i++) ck_assert_int_eq(sqlite3_column_int64(st, i), 7);
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 3), "2026-02-12 10:00:00");
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 4), "2026-02-12 10:00:00");
    ck_assert_int_eq(sqlite3_column_type(st, 5), SQLITE_NULL);      /* ?9 is not params entry "9" */
    ck_assert_int_eq(sqlite3_column_type(st, 6), SQLITE_NULL);
    sqlite3_finalize(st);
    /* A text longer than the connection's length limit: refused, and said so. */
    sqlite3_limit(h, SQLITE_LIMIT_LENGTH, 8);
    ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT :t", -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(ds_sqlite_bind(st, &it, "2026-02-12 10:00:00", &err), -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, ":t"));
    free(err);
    sqlite3_finalize(st);
    sqlite3_close(h);
    ds_item_free(&it);
}
END_TEST

START_TEST(statement_cache_follows_sql)
{
    ds_exec *x = open_exec();
    ds_item it = mk(DS_SHAPE_SCALAR, "SELECT count(*) FROM t");
    char *j = run_ok(x, &it, T0, NULL);
    ck_assert_str_eq(j, "3");
    free(j);
    /* Same key, new SQL (a plan replaced under --watch): the new query runs. */
    free(it.query);
    it.query = strdup("SELECT max(id) * 100 FROM t");
    j = run_ok(x, &it, T0, NULL);
    ck_assert_str_eq(j, "300");
    free(j);
    ds_item_free(&it);
    ds_exec_free(x);
}
END_TEST

START_TEST(shapes_and_text_columns)
{
    ds_exec *x = open_exec();
    /* map keys are CAST AS TEXT of numbers; the values keep their types */
    ds_item it = mk(DS_SHAPE_MAP, "SELECT v, id FROM t ORDER BY id");
    int64_t n;
    char *j = run_ok(x, &it, T0, &n);
    ck_assert_str_eq(j, "{\"1.5\":1,\"0.1\":2,\"3.0\":3}");
    ck_assert_int_eq(n, 3);
    free(j);
    ds_item_free(&it);
    it = mk(DS_SHAPE_ROWS, "SELECT id, name FROM t WHERE id > 5");
    j = run_ok(x, &it, T0, &n);
    ck_assert_str_eq(j, "[]");
    ck_assert_int_eq(n, 0);
    free(j);
    ds_item_free(&it);
    ds_exec_free(x);
}
END_TEST

START_TEST(errors_are_copied_and_locks_released)
{
    ds_exec *x = open_exec();
    ds_item it = mk(DS_SHAPE_SCALAR, "SELECT * FROM nope");
    char *e = run_err(x, &it, T0);
    ck_assert_str_eq(e, "no such table: nope");
    free(e);
    ds_item_free(&it);
    /* A run error after rows were read still resets the statement. */
    it = mk(DS_SHAPE_SCALAR, "SELECT id FROM t");
    e = run_err(x, &it, T0);
    ck_assert_ptr_nonnull(strstr(e, "row"));
    free(e);
    assert_unlocked();
    ds_item_free(&it);
    /* BLOB values are a run error naming the column */
    it = mk(DS_SHAPE_ROW, "SELECT 1 AS a, x'00ff' AS payload");
    e = run_err(x, &it, T0);
    ck_assert_msg(strstr(e, "payload") != NULL, "error does not name the column: %s", e);
    free(e);
    ds_item_free(&it);
    /* too many rows */
    it = mk(DS_SHAPE_ROWS, "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT n FROM c");
    it.max_rows = 10;
    e = run_err(x, &it, T0);
    ck_assert_ptr_nonnull(e);
    free(e);
    assert_unlocked();
    ds_item_free(&it);
    ds_exec_free(x);
}
END_TEST

START_TEST(runaway_query_times_out)
{
    ds_exec *x = open_exec();
    ds_item it = mk(DS_SHAPE_SCALAR,
        "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT max(n) FROM c");
    it.timeout = 1;
    ds_result r;
    char *err = NULL;
    ck_assert_int_eq(ds_exec_item(x, &it, T0, &r, &err), -1);
    ck_assert_str_eq(err, "query timed out after 1s");
    ck_assert_int_ge(r.duration_ms, 900);
    free(err);
    assert_unlocked();
    /* The connection is fine afterwards. */
    free(it.query);
    it.query = strdup("SELECT 7");
    char *j = run_ok(x, &it, T0, NULL);
    ck_assert_str_eq(j, "7");
    free(j);
    ds_item_free(&it);
    ds_exec_free(x);
}
END_TEST

START_TEST(memory_bombs_fail_fast)
{
    ds_exec *x = open_exec();
    const char *bombs[] = {
        "SELECT hex(zeroblob(400000000))",
        "SELECT length(randomblob(1500000000))",
        ("SELECT length(group_concat(hex(randomblob(1000)))) FROM (WITH RECURSIVE c(n) AS"
         " (SELECT 1 UNION ALL SELECT n + 1 FROM c LIMIT 100000) SELECT n FROM c)"),
        "WITH RECURSIVE c(s) AS (SELECT 'xxxxxxxxxxxxxxxx' UNION ALL SELECT s || s FROM c) SELECT length(s) FROM c",
    };
    for (size_t i = 0; i < sizeof bombs / sizeof *bombs; i++) {
        ds_item it = mk(DS_SHAPE_ROWS, bombs[i]);
        it.timeout = 60;
        char *e = run_err(x, &it, T0);
        ck_assert_msg(strstr(e, "too big") != NULL, "%s: %s", bombs[i], e);
        free(e);
        ds_item_free(&it);
    }
    /* A big but legitimate value still works (below max_bytes) */
    ds_item it = mk(DS_SHAPE_SCALAR, "SELECT length(hex(zeroblob(4000000)))");
    char *j = run_ok(x, &it, T0, NULL);
    ck_assert_str_eq(j, "8000000");
    free(j);
    ds_item_free(&it);
    ds_exec_free(x);
}
END_TEST

START_TEST(authorizer_refuses_writes)
{
    ds_exec *x = open_exec();
    const char *bad[] = {
        "INSERT INTO t (name) VALUES ('x') RETURNING id",
        "DELETE FROM t RETURNING id",
        "UPDATE t SET name = 'x' RETURNING id",
        "WITH a AS (SELECT 1) DELETE FROM t RETURNING id",
        "SELECT 1 AS a; DELETE FROM t",
        "SELECT 1 AS a; SELECT 2",
        "ATTACH ':memory:' AS m",
        "PRAGMA writable_schema = 1",
        "SELECT * FROM pragma_table_info('t')",
        "CREATE TEMP TABLE x AS SELECT 1",
        "BEGIN",
        "SELECT load_extension('x')",
        "VACUUM INTO '/tmp/dashspec-should-not-exist.db'",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ds_item it = mk(DS_SHAPE_ROWS, bad[i]);
        char *e = run_err(x, &it, T0);
        ck_assert_msg(*e != '\0', "empty error for %s", bad[i]);
        free(e);
        ds_item_free(&it);
    }
    char *n = ds_sql_text(path, "SELECT count(*) || ':' || group_concat(name) FROM t");
    ck_assert_str_eq(n, "3:one,two");
    free(n);
    ck_assert_int_ne(access("/tmp/dashspec-should-not-exist.db", F_OK), 0);
    ds_exec_free(x);
}
END_TEST

START_TEST(cancel_flag_interrupts)
{
    ds_exec *x = open_exec();
    volatile sig_atomic_t flag = 1;
    ds_exec_cancel_on(x, &flag, NULL);
    ds_item it = mk(DS_SHAPE_SCALAR,
        "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT max(n) FROM c");
    char *e = run_err(x, &it, T0);
    ck_assert_str_eq(e, "interrupted");
    free(e);
    atomic_int af = 1;
    ds_exec_cancel_on(x, NULL, &af);
    e = run_err(x, &it, T0);
    ck_assert_str_eq(e, "interrupted");
    free(e);
    ds_exec_cancel_on(x, NULL, NULL);
    free(it.query);
    it.query = strdup("SELECT 1");
    char *j = run_ok(x, &it, T0, NULL);
    ck_assert_str_eq(j, "1");
    free(j);
    ds_item_free(&it);
    ds_exec_free(x);
}
END_TEST

START_TEST(read_only_connection)
{
    /* Even past the authorizer, the connection itself cannot write. */
    ds_exec *x = open_exec();
    ds_item it = mk(DS_SHAPE_SCALAR, "SELECT 1");
    char *j = run_ok(x, &it, T0, NULL);
    free(j);
    ds_item_free(&it);
    ds_exec_free(x);
    ds_diag d;
    ds_diag_init(&d);
    char missing[4200];
    snprintf(missing, sizeof missing, "%s/missing.db", dir);
    ck_assert_ptr_null(ds_exec_new(missing, &d));
    ck_assert_int_eq(d.status, DS_DBERROR);
    ck_assert_int_ne(access(missing, F_OK), 0);
    ds_diag_free(&d);
}
END_TEST

Suite *exec_suite(void)
{
    Suite *s = suite_create("exec");
    TCase *tc = tcase_create("exec");
    tcase_add_checked_fixture(tc, setup, teardown);
    /* The whole suite takes about 2 s here; the bound is per test, 60 s for valgrind. */
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, binds_params_and_now);
    tcase_add_test(tc, one_binder_for_run_and_explain);
    tcase_add_test(tc, statement_cache_follows_sql);
    tcase_add_test(tc, shapes_and_text_columns);
    tcase_add_test(tc, errors_are_copied_and_locks_released);
    tcase_add_test(tc, runaway_query_times_out);
    tcase_add_test(tc, memory_bombs_fail_fast);
    tcase_add_test(tc, authorizer_refuses_writes);
    tcase_add_test(tc, cancel_flag_interrupts);
    tcase_add_test(tc, read_only_connection);
    suite_add_tcase(s, tc);
    return s;
}

/*
 * check_pg_sql.c — the PostgreSQL tokenizer: :name -> $n rewriting around
 * strings, E'' strings, quoted identifiers, dollar quotes, comments and ::
 * casts; server positions mapped back to byte offsets; the read-only
 * pre-check. No server needed.
 */
#include <stdlib.h>
#include <string.h>
#include "postgres/ds_pg.h"
#include "ds_test.h"

/* Rewrites sql; fails the test on error. */
static void rw(const char *sql, ds_pg_sql *q)
{
    char *err = NULL;
    size_t pos = 0;
    int rc = ds_pg_sql_rewrite(sql, strlen(sql), q, &err, &pos);
    ck_assert_msg(rc == 0, "rewrite of [%s] failed: %s", sql, err ? err : "?");
    ck_assert_uint_eq(strlen(q->text), q->len);
}

/* Rewrites sql and compares the text and the parameter names (space-separated). */
static void expect(const char *sql, const char *want, const char *names)
{
    ds_pg_sql q;
    rw(sql, &q);
    ck_assert_str_eq(q.text, want);
    ds_buf b;
    ds_buf_init(&b);
    for (int i = 0; i < q.nparams; i++) ds_buf_printf(&b, "%s%s", i ? " " : "", q.names[i]);
    ck_assert_str_eq(b.p ? b.p : "", names);
    ds_buf_free(&b);
    ds_pg_sql_free(&q);
}

START_TEST(rewrite_basic)
{
    expect("SELECT :a, :b, :a", "SELECT $1, $2, $1", "a b");
    expect("SELECT count(*) FROM t WHERE ts > :now - interval '1 day'",
           "SELECT count(*) FROM t WHERE ts > $1 - interval '1 day'", "now");
    expect("select :x_1+:_y", "select $1+$2", "x_1 _y");
    expect("SELECT 1", "SELECT 1", "");
    expect("", "", "");
}
END_TEST

START_TEST(rewrite_casts_and_slices)
{
    expect("SELECT x::text, :p::int, (:q)::numeric(10,2)", "SELECT x::text, $1::int, ($2)::numeric(10,2)",
           "p q");
    expect("SELECT a[1:2], a[:3]", "SELECT a[1:2], a[:3]", "");
    expect("SELECT :a::text::varchar", "SELECT $1::text::varchar", "a");
    expect("SELECT x ::  text", "SELECT x ::  text", "");
}
END_TEST

START_TEST(rewrite_strings)
{
    expect("SELECT ':a', 'it''s :b', :c", "SELECT ':a', 'it''s :b', $1", "c");
    expect("SELECT E'\\' :x', :y", "SELECT E'\\' :x', $1", "y");
    expect("SELECT e'a\\\\', :y", "SELECT e'a\\\\', $1", "y");
    /* a standard string: the backslash escapes nothing */
    expect("SELECT 'a\\', :y", "SELECT 'a\\', $1", "y");
    /* E only starts an escape string alone, not at the end of a word */
    expect("SELECT somE'x', :y", "SELECT somE'x', $1", "y");
    expect("SELECT U&':a', B'01', X'ff', :z", "SELECT U&':a', B'01', X'ff', $1", "z");
}
END_TEST

START_TEST(rewrite_identifiers)
{
    expect("SELECT \":a\" FROM \"t\"\"x:b\" WHERE c = :c", "SELECT \":a\" FROM \"t\"\"x:b\" WHERE c = $1", "c");
    expect("SELECT a$b, :c", "SELECT a$b, $1", "c");
}
END_TEST

START_TEST(rewrite_dollar)
{
    expect("SELECT $$ :a $$, :b", "SELECT $$ :a $$, $1", "b");
    expect("SELECT $fn$ :a $x$ $fn$, :b", "SELECT $fn$ :a $x$ $fn$, $1", "b");
    expect("SELECT $_q1$:a$_q1$||:b", "SELECT $_q1$:a$_q1$||$1", "b");
    /* unterminated: the rest is not code (the server reports it) */
    expect("SELECT $$ :a", "SELECT $$ :a", "");
}
END_TEST

START_TEST(rewrite_comments)
{
    expect("SELECT :a -- :b\n, :c", "SELECT $1 -- :b\n, $2", "a c");
    expect("SELECT /* :a /* :b */ :c */ :d", "SELECT /* :a /* :b */ :c */ $1", "d");
    expect("SELECT 1 /* :x", "SELECT 1 /* :x", "");
    expect("SELECT 1 - -:a", "SELECT 1 - -$1", "a");
}
END_TEST

START_TEST(rewrite_offsets)
{
    ds_pg_sql q;
    rw("SELECT :alpha, 'é', :b, :alpha", &q);
    ck_assert_int_eq(q.nparams, 2);
    ck_assert_uint_eq(q.first[0], 7);
    ck_assert_uint_eq(q.first[1], 21);
    ck_assert_uint_eq(q.nrefs, 3);
    ck_assert_uint_eq(q.refs[2].off, 25);
    ck_assert_uint_eq(q.refs[2].len, 6);
    ck_assert_int_eq(q.refs[2].index, 0);
    ds_pg_sql_free(&q);
}
END_TEST

START_TEST(rewrite_positional_refused)
{
    ds_pg_sql q;
    char *err = NULL;
    size_t pos = 0;
    const char *sql = "SELECT :a, $12";
    ck_assert_int_eq(ds_pg_sql_rewrite(sql, strlen(sql), &q, &err, &pos), -1);
    ck_assert_ptr_nonnull(strstr(err, "$12"));
    ck_assert_uint_eq(pos, 11);
    ck_assert_ptr_null(q.text);
    free(err);
}
END_TEST

START_TEST(rewrite_many_params)
{
    ds_buf b;
    ds_buf_init(&b);
    ds_buf_adds(&b, "SELECT ");
    for (int i = 0; i < 40; i++) ds_buf_printf(&b, "%s:p%d", i ? "+" : "", i % 25);
    ds_pg_sql q;
    rw(b.p, &q);
    ck_assert_int_eq(q.nparams, 25);
    ck_assert_uint_eq(q.nrefs, 40);
    ck_assert_str_eq(q.names[24], "p24");
    ck_assert_ptr_nonnull(strstr(q.text, "+$25+$1+"));
    ds_pg_sql_free(&q);
    ds_buf_free(&b);
}
END_TEST

START_TEST(map_positions)
{
    ds_pg_sql q;
    /* original:  SELECT :alpha + 'é' + nope, :b
     * rewritten: SELECT $1 + 'é' + nope, $2 */
    const char *orig = "SELECT :alpha + 'é' + nope, :b";
    rw(orig, &q);
    ck_assert_str_eq(q.text, "SELECT $1 + 'é' + nope, $2");
    ck_assert_int_eq(ds_pg_sql_map_position(&q, 0), -1);
    ck_assert_int_eq(ds_pg_sql_map_position(&q, 1), 0);               /* S */
    ck_assert_int_eq(ds_pg_sql_map_position(&q, 8), 7);               /* $ of $1 -> : */
    ck_assert_int_eq(ds_pg_sql_map_position(&q, 9), 7);               /* 1 of $1 -> : */
    ck_assert_int_eq(ds_pg_sql_map_position(&q, 11), 14);             /* + */
    /* "nope": character 19 of the rewritten text (é is one character, 2 bytes) */
    long off = ds_pg_sql_map_position(&q, 19);
    ck_assert_int_eq(off, (long)(strstr(orig, "nope") - orig));
    ck_assert_int_eq(ds_pg_sql_map_position(&q, 25), (long)(strstr(orig, ":b") - orig));
    ck_assert_int_eq(ds_pg_sql_map_position(&q, 1000), (long)strlen(orig));
    ds_pg_sql_free(&q);
}
END_TEST

/* ---------------------------------------------------------------- read-only */

static int ro(const char *sql, char **why, size_t *pos)
{
    return ds_pg_sql_readonly(sql, strlen(sql), why, pos);
}

static void ok(const char *sql)
{
    char *why = NULL;
    size_t pos = 0;
    int rc = ro(sql, &why, &pos);
    ck_assert_msg(rc == 1, "[%s] refused: %s", sql, why ? why : "?");
    ck_assert_ptr_null(why);
}

static void refused(const char *sql, const char *needle, size_t want_pos)
{
    char *why = NULL;
    size_t pos = 99999;
    ck_assert_msg(ro(sql, &why, &pos) == 0, "[%s] accepted", sql);
    ck_assert_ptr_nonnull(why);
    ck_assert_msg(strstr(why, needle) != NULL, "[%s]: %s lacks %s", sql, why, needle);
    ck_assert_uint_eq(pos, want_pos);
    free(why);
}

START_TEST(readonly_accepts)
{
    ok("SELECT 1");
    ok("select 1;");
    ok("  SELECT 1 ; -- done\n /* really */  ");
    ok("-- lead\n/* c */ (SELECT 1) UNION (SELECT 2)");
    ok("((select 1))");
    ok("WITH x AS (SELECT 1) SELECT * FROM x");
    ok("WITH RECURSIVE r(n) AS (VALUES (1) UNION ALL SELECT n+1 FROM r WHERE n < 3) SELECT * FROM r");
    ok("VALUES (1, 'a'), (2, 'b')");
    ok("TABLE dashboard_cache");
    ok("SELECT 'DELETE FROM t; INSERT' AS \"update\", $$;$$");
    ok("SELECT \"delete\" FROM t");
    ok("SELECT * FROM t FOR UPDATE");   /* not a modification; READ ONLY refuses the lock */
    ok("SELECT updated_at, inserted FROM t");
}
END_TEST

START_TEST(readonly_refuses)
{
    refused("INSERT INTO t VALUES (1)", "not \"INSERT\"", 0);
    refused("  delete from t", "not \"delete\"", 2);
    refused("EXPLAIN ANALYZE DELETE FROM t", "not \"EXPLAIN\"", 0);
    refused("SELECT 1; SELECT 2", "one statement", 10);
    refused("SELECT 1;;", "one statement", 9);
    refused("SELECT 1; DROP TABLE t", "one statement", 10);
    refused("WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x", "DELETE", 11);
    refused("WITH x AS MATERIALIZED ( update t SET a = 1 RETURNING a) SELECT 1", "UPDATE", 25);
    refused("WITH a AS (SELECT 1), b AS (INSERT INTO t DEFAULT VALUES RETURNING 1) SELECT 1", "INSERT", 28);
    refused("WITH a AS (WITH b AS (MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE) SELECT 1) SELECT 1",
            "MERGE", 22);
    refused("SELECT * INTO newtab FROM t", "INTO", 9);
    refused("", "empty", 0);
    refused("-- only a comment\n", "empty", 0);
    refused("'SELECT'", "not \"'SELECT'\"", 0);
    refused("CALL p()", "not \"CALL\"", 0);
}
END_TEST

Suite *pg_sql_suite(void)
{
    Suite *s = suite_create("pg_sql");
    TCase *t = tcase_create("rewrite");
    tcase_add_test(t, rewrite_basic);
    tcase_add_test(t, rewrite_casts_and_slices);
    tcase_add_test(t, rewrite_strings);
    tcase_add_test(t, rewrite_identifiers);
    tcase_add_test(t, rewrite_dollar);
    tcase_add_test(t, rewrite_comments);
    tcase_add_test(t, rewrite_offsets);
    tcase_add_test(t, rewrite_positional_refused);
    tcase_add_test(t, rewrite_many_params);
    tcase_add_test(t, map_positions);
    suite_add_tcase(s, t);
    t = tcase_create("readonly");
    tcase_add_test(t, readonly_accepts);
    tcase_add_test(t, readonly_refuses);
    suite_add_tcase(s, t);
    return s;
}

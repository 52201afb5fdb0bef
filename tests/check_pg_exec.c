/*
 * check_pg_exec.c — describe and execute against a live throwaway
 * PostgreSQL server: typed parameters and :now, column names and types,
 * error positions mapped to the original query, streaming with early stop,
 * the statement timeout (pg_sleep(1e9) ends at 1 s), and writes refused
 * inside READ ONLY even though the test role (a superuser) could write.
 * Also the PostgreSQL migration, applied twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "postgres/ds_pg.h"
#include "ds_test.h"
#include "ds_test_pg.h"

static PGconn *session(void)
{
    ds_diag d;
    ds_diag_init(&d);
    PGconn *c = ds_pg_connect(ds_pg_test_conninfo(), &d);
    ck_assert_msg(c != NULL, "ds_pg_connect: %s", d.n ? d.v[0].msg : "?");
    ds_diag_free(&d);
    return c;
}

static void rw(const char *sql, ds_pg_sql *q)
{
    char *err = NULL;
    size_t pos;
    ck_assert_msg(ds_pg_sql_rewrite(sql, strlen(sql), q, &err, &pos) == 0, "%s", err);
}

static long count(PGconn *c, const char *table)
{
    char *sql = ds_asprintf("SELECT count(*) FROM %s", table);
    PGresult *r = PQexec(c, sql);
    ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
    long n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    free(sql);
    return n;
}

/* Collects rows as "[json,json|key,key]" lines; stops after `stop` rows. */
typedef struct sink {
    ds_buf out;
    int ncols, rows, stop, fail_at, cols_called;
} sink;

static int on_cols(void *ctx, int ncols, const char *const *names, char **err)
{
    sink *s = ctx;
    s->ncols = ncols;
    s->cols_called++;
    for (int i = 0; i < ncols; i++) ds_buf_printf(&s->out, "%s%s", i ? "," : "#", names[i]);
    ds_buf_addc(&s->out, '\n');
    return 0;
}

static int on_row(void *ctx, int ncols, const ds_pg_cell *cells, char **err)
{
    sink *s = ctx;
    ck_assert_int_eq(ncols, s->ncols);
    s->rows++;
    if (s->fail_at && s->rows == s->fail_at) {
        *err = ds_strdup("value is larger than max_bytes (10 bytes)");
        return -1;
    }
    for (int i = 0; i < ncols; i++) {
        ds_buf_adds(&s->out, i ? "," : "[");
        ds_buf_add(&s->out, cells[i].json, cells[i].json_len);
    }
    ds_buf_addc(&s->out, '|');
    for (int i = 0; i < ncols; i++) {
        if (i) ds_buf_addc(&s->out, ',');
        if (cells[i].key) ds_buf_add(&s->out, cells[i].key, cells[i].key_len);
        else ds_buf_adds(&s->out, "NULL");
    }
    ds_buf_adds(&s->out, "]\n");
    return s->stop && s->rows >= s->stop ? 1 : 0;
}

static int run(PGconn *c, const char *sql, const ds_pg_ptype *types, const char *const *vals,
               int64_t timeout_ms, sink *s, ds_pg_err *e)
{
    ds_pg_sql q;
    rw(sql, &q);
    int rc = ds_pg_exec(c, &q, types, vals, timeout_ms, 1, on_cols, on_row, NULL, s, e);
    ck_assert_int_eq(PQtransactionStatus(c), PQTRANS_IDLE);
    ds_pg_sql_free(&q);
    return rc;
}

/* ---------------------------------------------------------------- describe */

START_TEST(describe_columns)
{
    DS_PG_REQUIRE();
    PGconn *c = session();
    ds_pg_sql q;
    rw("SELECT :n + 1 AS next, :r * 2 AS dbl, :t || 'x' AS txt, NOT :b AS flag,\n"
       "       :now - interval '1 day' AS since, '\\x00'::bytea AS raw, ARRAY[1] AS arr, :n AS n2", &q);
    ck_assert_int_eq(q.nparams, 5);
    ds_pg_ptype types[] = {DS_PGP_INT, DS_PGP_REAL, DS_PGP_TEXT, DS_PGP_BOOL, DS_PGP_TIMESTAMPTZ};
    ds_pg_desc d;
    ds_pg_err e = {0};
    ck_assert_int_eq(ds_pg_describe(c, &q, types, &d, &e), 0);
    ck_assert_int_eq(d.ncols, 8);
    const char *names[] = {"next", "dbl", "txt", "flag", "since", "raw", "arr", "n2"};
    const unsigned oids[] = {DS_PG_INT8, DS_PG_FLOAT8, DS_PG_TEXT, DS_PG_BOOL, DS_PG_TIMESTAMPTZ,
                             DS_PG_BYTEA, 1007, DS_PG_INT8};
    const char *tn[] = {"bigint", "double precision", "text", "boolean", "timestamp with time zone",
                        "bytea", "integer[]", "bigint"};
    for (int i = 0; i < 8; i++) {
        ck_assert_str_eq(d.cols[i].name, names[i]);
        ck_assert_uint_eq(d.cols[i].type, oids[i]);
        ck_assert_str_eq(d.cols[i].type_name, tn[i]);
    }
    char *adv = ds_pg_type_advice(d.cols[6].type, d.cols[6].type_name, d.cols[6].name);
    ck_assert_str_eq(adv, "column \"arr\" has type integer[]: turn it into JSON (to_json(arr)) "
                          "or text (array_to_string(arr, ','))");
    free(adv);
    ck_assert_int_eq(PQtransactionStatus(c), PQTRANS_IDLE);
    ds_pg_desc_free(&d);
    ds_pg_err_clear(&e);
    ds_pg_sql_free(&q);
    PQfinish(c);
}
END_TEST

START_TEST(describe_error_position)
{
    DS_PG_REQUIRE();
    PGconn *c = session();
    const char *orig = "SELECT :alpha, 'é' AS e,\n  nope + :beta FROM pg_class";
    ds_pg_sql q;
    rw(orig, &q);
    ds_pg_ptype types[] = {DS_PGP_INT, DS_PGP_INT};
    ds_pg_desc d;
    ds_pg_err e = {0};
    ck_assert_int_eq(ds_pg_describe(c, &q, types, &d, &e), -1);
    ck_assert_str_eq(e.msg, "column \"nope\" does not exist");
    ck_assert_str_eq(e.sqlstate, "42703");
    ck_assert_int_eq(e.offset, (long)(strstr(orig, "nope") - orig));
    ck_assert_int_eq(PQtransactionStatus(c), PQTRANS_IDLE);
    ds_pg_err_clear(&e);
    ds_pg_sql_free(&q);
    /* a syntax error right after a parameter */
    orig = "SELECT :alpha FROM FROM";
    rw(orig, &q);
    ck_assert_int_eq(ds_pg_describe(c, &q, types, &d, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "syntax error"));
    ck_assert_int_eq(e.offset, 19);
    ds_pg_err_clear(&e);
    ds_pg_sql_free(&q);
    PQfinish(c);
}
END_TEST

/* ---------------------------------------------------------------- execute */

START_TEST(exec_spec_query)
{
    DS_PG_REQUIRE();
    PGconn *c = session();
    ds_pg_test_sql("CREATE TABLE orders_x (id int, amount numeric(10,2), placed timestamptz, region text);"
                   "INSERT INTO orders_x VALUES (1, 10.50, '2026-12-01 10:00Z', 'eu'),"
                   " (2, 20.25, '2026-12-02 07:00Z', 'us'), (3, 5, '2026-11-01 00:00Z', 'eu'),"
                   " (4, 1.25, '2026-12-02 08:00Z', NULL)");
    const char *sql = "-- orders by region since :days days before :now\n"
                      "SELECT region, count(*) AS n, sum(amount) AS total, avg(amount)::float8 AS mean,\n"
                      "       max(placed) AS last, bool_or(amount > :min) AS big\n"
                      "FROM orders_x WHERE placed > :now - make_interval(days => :days::int)\n"
                      "GROUP BY region ORDER BY region NULLS LAST";
    ds_pg_ptype types[] = {DS_PGP_REAL, DS_PGP_TIMESTAMPTZ, DS_PGP_INT};
    char now[32];
    ds_pg_format_now(1796199960, now);              /* 2026-12-02 08:26:00 UTC */
    ck_assert_str_eq(now, "2026-12-02 08:26:00+00");
    const char *vals[] = {"10", now, "7"};
    sink s = {0};
    ds_buf_init(&s.out);
    ds_pg_err e = {0};
    ds_pg_sql q;
    rw(sql, &q);
    /* numbered in order of first appearance in code: the comment's don't count */
    ck_assert_str_eq(q.names[0], "min");
    ck_assert_str_eq(q.names[1], "now");
    ck_assert_str_eq(q.names[2], "days");
    ds_pg_sql_free(&q);
    ck_assert_int_eq(run(c, sql, types, vals, 5000, &s, &e), 0);
    ck_assert_str_eq(s.out.p,
                     "#region,n,total,mean,last,big\n"
                     "[\"eu\",1,10.50,10.5,\"2026-12-01 10:00:00+00\",true|eu,1,10.50,10.5,2026-12-01 10:00:00+00,true]\n"
                     "[\"us\",1,20.25,20.25,\"2026-12-02 07:00:00+00\",true|us,1,20.25,20.25,2026-12-02 07:00:00+00,true]\n"
                     "[null,1,1.25,1.25,\"2026-12-02 08:00:00+00\",false|NULL,1,1.25,1.25,2026-12-02 08:00:00+00,false]\n");
    ck_assert_int_eq(s.cols_called, 1);
    ds_buf_free(&s.out);
    ds_pg_err_clear(&e);
    PQfinish(c);
}
END_TEST

START_TEST(exec_empty_and_null_params)
{
    DS_PG_REQUIRE();
    PGconn *c = session();
    sink s = {0};
    ds_buf_init(&s.out);
    ds_pg_err e = {0};
    ds_pg_ptype types[] = {DS_PGP_TEXT};
    const char *vals[] = {NULL};
    ck_assert_int_eq(run(c, "SELECT :t AS t, 1 AS one WHERE false", types, vals, 0, &s, &e), 0);
    ck_assert_str_eq(s.out.p, "#t,one\n");
    ck_assert_int_eq(s.rows, 0);
    ds_buf_reset(&s.out);
    ck_assert_int_eq(run(c, "SELECT :t IS NULL AS isnull", types, vals, 0, &s, &e), 0);
    ck_assert_str_eq(s.out.p, "#isnull\n[true|true]\n");
    ds_buf_free(&s.out);
    PQfinish(c);
}
END_TEST

START_TEST(exec_early_stop_streams)
{
    DS_PG_REQUIRE();
    PGconn *c = session();
    sink s = {.stop = 5};
    ds_buf_init(&s.out);
    ds_pg_err e = {0};
    /* a billion rows: only streaming with a cancel can stop after five */
    ck_assert_int_eq(run(c, "SELECT generate_series(1, 1000000000) AS g", NULL, NULL, 60000, &s, &e), 0);
    ck_assert_int_eq(s.rows, 5);
    ck_assert_str_eq(s.out.p, "#g\n[1|1]\n[2|2]\n[3|3]\n[4|4]\n[5|5]\n");
    ck_assert_ptr_null(e.msg);
    /* the connection is usable afterwards */
    ds_buf_reset(&s.out);
    s.rows = 0;
    ck_assert_int_eq(run(c, "SELECT 'after' AS a", NULL, NULL, 0, &s, &e), 0);
    ck_assert_str_eq(s.out.p, "#a\n[\"after\"|after]\n");
    /* a callback error (max_bytes) stops it too, with the callback's message */
    sink f = {.fail_at = 3};
    ds_buf_init(&f.out);
    ck_assert_int_eq(run(c, "SELECT generate_series(1, 1000000000) AS g", NULL, NULL, 60000, &f, &e), -1);
    ck_assert_str_eq(e.msg, "value is larger than max_bytes (10 bytes)");
    ck_assert_int_eq(e.offset, -1);
    ck_assert_int_eq(f.rows, 3);
    ds_buf_free(&f.out);
    ds_buf_free(&s.out);
    ds_pg_err_clear(&e);
    PQfinish(c);
}
END_TEST

START_TEST(exec_unsupported_type)
{
    DS_PG_REQUIRE();
    PGconn *c = session();
    sink s = {0};
    ds_buf_init(&s.out);
    ds_pg_err e = {0};
    ck_assert_int_eq(run(c, "SELECT 1 AS a, decode('00ff', 'hex') AS blob", NULL, NULL, 0, &s, &e), -1);
    ck_assert_str_eq(e.msg, "column \"blob\" has type bytea: cast it to text (encode(blob, 'hex'))");
    ck_assert_int_eq(s.rows, 0);
    ds_buf_free(&s.out);
    ds_pg_err_clear(&e);
    PQfinish(c);
}
END_TEST

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

START_TEST(exec_statement_timeout)
{
    DS_PG_REQUIRE();
    PGconn *c = session();
    sink s = {0};
    ds_buf_init(&s.out);
    ds_pg_err e = {0};
    double t0 = mono();
    ck_assert_int_eq(run(c, "SELECT pg_sleep(1e9)", NULL, NULL, 1000, &s, &e), -1);
    double took = mono() - t0;
    ck_assert_int_eq(e.timed_out, 1);
    ck_assert_str_eq(e.sqlstate, "57014");
    ck_assert_str_eq(e.msg, "query timed out after 1000 ms");
    ck_assert_msg(took >= 0.9 && took < 30, "took %.2f s", took);
    /* the timeout was LOCAL: the session has none afterwards */
    PGresult *r = PQexec(c, "SHOW statement_timeout");
    ck_assert_str_eq(PQgetvalue(r, 0, 0), "0");
    PQclear(r);
    ds_buf_free(&s.out);
    ds_pg_err_clear(&e);
    PQfinish(c);
}
END_TEST

START_TEST(exec_connection_lost)
{
    DS_PG_REQUIRE();
    PGconn *c = session();
    sink s = {0};
    ds_buf_init(&s.out);
    ds_pg_err e = {0};
    ds_pg_sql q;
    /* the server ends the session in the middle of the pipeline: no hang, an error */
    rw("SELECT pg_terminate_backend(pg_backend_pid())", &q);
    ck_assert_int_eq(ds_pg_exec(c, &q, NULL, NULL, 5000, 1, on_cols, on_row, NULL, &s, &e), -1);
    ck_assert_ptr_nonnull(e.msg);
    ck_assert_int_gt((int)strlen(e.msg), 0);
    ck_assert_int_eq(PQstatus(c), CONNECTION_BAD);
    /* and a call on the dead connection fails at once */
    ds_pg_err_clear(&e);
    ck_assert_int_eq(ds_pg_exec(c, &q, NULL, NULL, 5000, 1, on_cols, on_row, NULL, &s, &e), -1);
    ck_assert_ptr_nonnull(e.msg);
    ds_pg_desc d;
    ck_assert_int_eq(ds_pg_describe(c, &q, NULL, &d, &e), -1);
    ds_pg_sql_free(&q);
    ds_pg_err_clear(&e);
    ds_buf_free(&s.out);
    PQfinish(c);
}
END_TEST

/* Runs sql bypassing the pre-check; it must fail with a read-only error. */
static void write_refused(PGconn *c, const char *sql, const char *table, long rows)
{
    sink s = {0};
    ds_buf_init(&s.out);
    ds_pg_err e = {0};
    ck_assert_int_eq(run(c, sql, NULL, NULL, 5000, &s, &e), -1);
    ck_assert_msg(strcmp(e.sqlstate, "25006") == 0, "%s: %s %s", sql, e.sqlstate, e.msg);
    ck_assert_ptr_nonnull(strstr(e.msg, "read-only transaction"));
    ck_assert_int_eq(count(c, table), rows);
    ds_buf_free(&s.out);
    ds_pg_err_clear(&e);
}

START_TEST(exec_writes_refused)
{
    DS_PG_REQUIRE();
    PGconn *c = session();
    ds_pg_test_sql("CREATE TABLE victim (id int); INSERT INTO victim VALUES (1), (2);"
                   "CREATE SEQUENCE victim_seq;"
                   "CREATE FUNCTION victim_add() RETURNS int LANGUAGE sql VOLATILE AS "
                   "'INSERT INTO victim VALUES (99) RETURNING 1'");
    /* the role is a superuser: outside READ ONLY all of these would write */
    const char *dml = "WITH x AS (DELETE FROM victim RETURNING *) SELECT count(*) FROM x";
    char *why = NULL;
    size_t pos;
    ck_assert_int_eq(ds_pg_sql_readonly(dml, strlen(dml), &why, &pos), 0);
    ck_assert_uint_eq(pos, 11);
    free(why);
    write_refused(c, dml, "victim", 2);
    write_refused(c, "SELECT victim_add()", "victim", 2);
    write_refused(c, "SELECT nextval('victim_seq')", "victim", 2);
    write_refused(c, "SELECT * FROM victim FOR UPDATE", "victim", 2);
    write_refused(c, "SELECT * INTO victim2 FROM victim", "victim", 2);
    /* a statement smuggled after a ';' is not even sent: one statement only */
    sink s = {0};
    ds_buf_init(&s.out);
    ds_pg_err e = {0};
    ck_assert_int_eq(run(c, "SELECT 1; DELETE FROM victim", NULL, NULL, 5000, &s, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "multiple commands"));
    ck_assert_int_eq(count(c, "victim"), 2);
    ds_buf_free(&s.out);
    ds_pg_err_clear(&e);
    PQfinish(c);
}
END_TEST

/* ---------------------------------------------------------------- migration */

/* JIT is turned off for dashspec's sessions unless it was configured
 * (engine/postgres/pg_conn.c, docs/postgres.md "Connecting"). */
START_TEST(session_jit_off_unless_configured)
{
    DS_PG_REQUIRE();
    PGconn *c = session();
    PGresult *r = PQexec(c, "SHOW jit");
    ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
    ck_assert_str_eq(PQgetvalue(r, 0, 0), "off");
    PQclear(r);
    PQfinish(c);
    char *ci = ds_asprintf("%s options='-c jit=on'", ds_pg_test_conninfo());
    ds_diag d;
    ds_diag_init(&d);
    c = ds_pg_connect(ci, &d);
    ck_assert_ptr_nonnull(c);
    r = PQexec(c, "SHOW jit");
    ck_assert_str_eq(PQgetvalue(r, 0, 0), "on");
    PQclear(r);
    PQfinish(c);
    ds_diag_free(&d);
    free(ci);
}
END_TEST

START_TEST(migration_twice)
{
    DS_PG_REQUIRE();
    char *path = ds_src("migrations/postgres/001-init.sql");
    char *sql = ds_slurp(path);
    ck_assert_ptr_nonnull(sql);
    PGconn *c = session();
    for (int i = 0; i < 2; i++) {
        PGresult *r = PQexec(c, sql);
        ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "pass %d: %s", i, PQresultErrorMessage(r));
        PQclear(r);
    }
    /* and through psql -f, as the docs say */
    char *cmd = ds_asprintf("psql -X -q -v ON_ERROR_STOP=1 -f '%s' '%s' >/dev/null 2>&1", path,
                            ds_pg_test_conninfo());
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    ck_assert_int_eq(count(c, "dashspec_migrations"), 1);
    PGresult *r = PQexec(c, "SELECT count(*) FROM information_schema.columns WHERE table_name IN "
                            "('dashboard_cache', 'dashspec_plan', 'dashspec_state', 'dashspec_runs', "
                            "'dashspec_migrations')");
    ck_assert_str_eq(PQgetvalue(r, 0, 0), "49");
    PQclear(r);
    r = PQexec(c, "SELECT data_type FROM information_schema.columns WHERE table_name = 'dashboard_cache' "
                  "ORDER BY ordinal_position");
    ck_assert_int_eq(PQntuples(r), 4);
    ck_assert_str_eq(PQgetvalue(r, 0, 0), "text");
    ck_assert_str_eq(PQgetvalue(r, 2, 0), "timestamp with time zone");
    ck_assert_str_eq(PQgetvalue(r, 3, 0), "timestamp with time zone");
    PQclear(r);
    /* readers' one-SELECT read works on it */
    ds_pg_test_sql("INSERT INTO dashboard_cache VALUES ('k', '42', now(), now() + interval '1 hour')");
    r = PQexec(c, "SELECT cache_value FROM dashboard_cache WHERE cache_key = 'k' AND expires_at > now()");
    ck_assert_int_eq(PQntuples(r), 1);
    ck_assert_str_eq(PQgetvalue(r, 0, 0), "42");
    PQclear(r);
    PQfinish(c);
    free(sql);
    free(path);
}
END_TEST

/* ---------------------------------------------------------------- schema */

/* A connection to a fresh database of the test server. */
static PGconn *fresh_db(const char *name)
{
    char *sql = ds_asprintf("CREATE DATABASE %s", name);
    ds_pg_test_sql(sql);
    free(sql);
    char *ci = ds_asprintf("%s dbname=%s", ds_pg_test_conninfo(), name);
    ds_diag d;
    ds_diag_init(&d);
    PGconn *c = ds_pg_connect(ci, &d);
    ck_assert_ptr_nonnull(c);
    ds_diag_free(&d);
    free(ci);
    return c;
}

static int exists(PGconn *c, const char *table)
{
    const char *vals[1] = {table};
    PGresult *r = PQexecParams(c, "SELECT to_regclass($1) IS NOT NULL", 1, NULL, vals, NULL, NULL, 0);
    ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
    int yes = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return yes;
}

START_TEST(migrate_records_and_locks)
{
    DS_PG_REQUIRE();
    PGconn *c = fresh_db("migtest");
    char *path = ds_src("migrations/postgres/001-init.sql");
    char *init = ds_slurp(path);
    ds_pg_script s[] = {{"001-init", init}, {"002-extra", "CREATE TABLE extra (a int)"},
                        {"003-bad", "CREATE TABLE y (a int);\nCREATE TABLE oops (a nosuchtype)"}};
    ds_pg_err e = {0};
    ck_assert_int_eq(ds_pg_migrated(c, s, 1, &e), 0);
    ck_assert_int_eq(ds_pg_migrate(c, s, 1, &e), 1);
    ck_assert_int_eq(ds_pg_migrate(c, s, 1, &e), 0);
    ck_assert_int_eq(ds_pg_migrated(c, s, 1, &e), 1);
    ck_assert_int_eq(ds_pg_migrated(c, s, 2, &e), 0);
    ck_assert_int_eq(ds_pg_migrate(c, s, 2, &e), 1);
    ck_assert(exists(c, "extra"));
    ck_assert_int_eq(count(c, "dashspec_migrations"), 2);
    /* a failing script: nothing of it stays, the message names it and points into it */
    ck_assert_int_eq(ds_pg_migrate(c, s, 3, &e), -1);
    ck_assert_str_eq(e.msg, "003-bad: type \"nosuchtype\" does not exist");
    ck_assert_int_eq(e.offset, (long)(strstr(s[2].sql, "nosuchtype") - s[2].sql));
    ck_assert(!exists(c, "y"));
    ck_assert_int_eq(count(c, "dashspec_migrations"), 2);
    ck_assert_int_eq(PQtransactionStatus(c), PQTRANS_IDLE);
    /* the advisory lock (per database): while another session holds it, migrate waits */
    char *ci = ds_asprintf("%s dbname=migtest", ds_pg_test_conninfo());
    PGconn *other = PQconnectdb(ci);
    free(ci);
    ck_assert_int_eq(PQstatus(other), CONNECTION_OK);
    char *lock = ds_asprintf("SELECT pg_advisory_lock(%lld)", DS_PG_LOCK_KEY);
    PGresult *r = PQexec(other, lock);
    ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
    PQclear(r);
    r = PQexec(c, "SET lock_timeout = '200ms'");
    PQclear(r);
    ck_assert_int_eq(ds_pg_migrate(c, s, 2, &e), -1);
    ck_assert_str_eq(e.sqlstate, "55P03");
    PQfinish(other);
    ck_assert_int_eq(ds_pg_migrate(c, s, 2, &e), 0);
    ds_pg_err_clear(&e);
    free(lock);
    free(init);
    free(path);
    PQfinish(c);
}
END_TEST

START_TEST(scratch_schema_rolled_back)
{
    DS_PG_REQUIRE();
    PGconn *c = fresh_db("scratchtest");
    char *path = ds_src("examples/postgres/schema.sql");
    char *schema = ds_slurp(path);
    ds_pg_script s[] = {{path, schema}};
    ds_pg_err e = {0};
    ck_assert_int_eq(ds_pg_scratch_begin(c, s, 1, &e), 0);
    ds_pg_sql q;
    rw("SELECT stage, count(*) AS n FROM llm_usage WHERE created_at < :now GROUP BY stage", &q);
    ds_pg_ptype types[] = {DS_PGP_TIMESTAMPTZ};
    ds_pg_desc d;
    ck_assert_int_eq(ds_pg_describe(c, &q, types, &d, &e), 0);
    ck_assert_int_eq(d.ncols, 2);
    ck_assert_str_eq(d.cols[1].type_name, "bigint");
    ds_pg_desc_free(&d);
    ds_pg_sql_free(&q);
    /* an error inside the scratch transaction leaves it usable */
    rw("SELECT nope FROM sites", &q);
    ck_assert_int_eq(ds_pg_describe(c, &q, NULL, &d, &e), -1);
    ck_assert_int_eq(e.offset, 7);
    ds_pg_sql_free(&q);
    rw("SELECT domain FROM sites", &q);
    ck_assert_int_eq(ds_pg_describe(c, &q, NULL, &d, &e), 0);
    ds_pg_desc_free(&d);
    ds_pg_sql_free(&q);
    ck_assert_int_eq(PQtransactionStatus(c), PQTRANS_INTRANS);
    ds_pg_scratch_end(c);
    ck_assert_int_eq(PQtransactionStatus(c), PQTRANS_IDLE);
    ck_assert(!exists(c, "sites"));
    PGresult *r = PQexec(c, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'ds_check_%'");
    ck_assert_str_eq(PQgetvalue(r, 0, 0), "0");
    PQclear(r);
    /* a bad script: named, located, rolled back */
    ds_pg_script bad[] = {{"m/002.sql", "CREATE TABLE t (a int);\nSELECT * FROM missing_table;"}};
    ck_assert_int_eq(ds_pg_scratch_begin(c, bad, 1, &e), -1);
    ck_assert_str_eq(e.msg, "m/002.sql: relation \"missing_table\" does not exist");
    ck_assert_int_eq(e.offset, (long)(strstr(bad[0].sql, "missing_table") - bad[0].sql));
    ck_assert_int_eq(PQtransactionStatus(c), PQTRANS_IDLE);
    ck_assert(!exists(c, "t"));
    ds_pg_err_clear(&e);
    free(schema);
    free(path);
    PQfinish(c);
}
END_TEST

Suite *pg_exec_suite(void)
{
    Suite *s = suite_create("pg_exec");
    TCase *t = tcase_create("describe");
    ds_pg_test_fixture(t);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, describe_columns);
    tcase_add_test(t, describe_error_position);
    suite_add_tcase(s, t);
    t = tcase_create("exec");
    ds_pg_test_fixture(t);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, exec_spec_query);
    tcase_add_test(t, exec_empty_and_null_params);
    tcase_add_test(t, exec_early_stop_streams);
    tcase_add_test(t, exec_unsupported_type);
    tcase_add_test(t, exec_statement_timeout);
    tcase_add_test(t, exec_writes_refused);
    tcase_add_test(t, exec_connection_lost);
    tcase_add_test(t, migration_twice);
    tcase_add_test(t, session_jit_off_unless_configured);
    suite_add_tcase(s, t);
    t = tcase_create("schema");
    ds_pg_test_fixture(t);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, migrate_records_and_locks);
    tcase_add_test(t, scratch_schema_rolled_back);
    suite_add_tcase(s, t);
    return s;
}

/*
 * check_pg_engine.c — every command on PostgreSQL through the binary, with
 * its exit codes and diagnostics: check (errors located at file:line:col),
 * compile, run, get, status, explain, preview, clear, migrate; passwords
 * never shown; values by type (numeric exact, jsonb embedded, map keys); a
 * failing query keeps the last good value; a spec cannot write even when the
 * role could; pg_sleep ends at the item's timeout; --source on run,
 * preview and check (and the project file's source).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ds_test.h"
#include "ds_test_pg.h"
#include "ds_test_pgdb.h"

#define NOW "2026-02-12T10:00:00Z"

static const char specs_ok[] =
    "metrics:\n"
    "  - key: small\n"
    "    shape: scalar\n"
    "    params: {lim: 3}\n"
    "    query: SELECT count(*) AS n FROM t WHERE x < :lim AND at < :now\n"
    "  - key: exact\n"
    "    shape: row\n"
    "    query: |\n"
    "      SELECT 12345678901234567890.000000000001::numeric AS big, '{\"a\": [1, 2]}'::jsonb AS j,\n"
    "             x::text || 'k' AS s, true AS b, 0.1::float8 AS f FROM t WHERE x = 1\n"
    "  - key: bykind\n"
    "    shape: map\n"
    "    query: SELECT kind, sum(x)::numeric AS total FROM t GROUP BY kind ORDER BY kind\n";

static const char table_sql[] =
    "CREATE TABLE t (x bigint, kind text, at timestamptz);"
    "INSERT INTO t VALUES (1, 'a', '2026-02-01'), (2, 'a', '2026-02-01'), (5, 'b', '2026-02-01'),"
    " (7, 'b', '2026-03-01');"
    "CREATE SEQUENCE s;";

/* A database with table t and a specs directory; *dir receives the temp dir. */
static char *setup(const char *name, const char *specs, char **dir)
{
    char *db = ds_pgdb_new(name);
    ds_pgdb_sql(db, table_sql);
    *dir = ds_tmpdir();
    size_t n = strlen(specs) + 64;
    char *text = malloc(n);
    ck_assert_ptr_nonnull(text);
    snprintf(text, n, "version: 1\ndefaults:\n  ttl: 5m\n%s", specs);   /* 3 lines before specs */
    free(ds_write(*dir, "specs/items.yaml", text));
    free(text);
    return db;
}

static char *specs_path(const char *dir)
{
    static char p[4200];
    snprintf(p, sizeof p, "%s/specs", dir);
    return p;
}

START_TEST(every_command)
{
    DS_PG_REQUIRE();
    char *dir;
    char *db = setup("eng_cmds", specs_ok, &dir);
    const char *sp = specs_path(dir);
    ds_proc p;
    DS_RUN(&p, "check", "--db", db, "--specs", sp);
    ck_assert_msg(p.status == 0, "check: %s%s", p.out, p.err);
    ds_proc_free(&p);
    DS_RUN(&p, "compile", "--db", db, "--specs", sp);
    ck_assert_msg(p.status == 0, "compile: %s", p.err);
    ds_proc_free(&p);
    DS_RUN(&p, "run", "--db", db, "--now", NOW, "--quiet");
    ck_assert_msg(p.status == 0, "run: %s", p.err);
    ds_proc_free(&p);
    DS_RUN(&p, "get", "--db", db, "--now", NOW, "small");
    ck_assert_int_eq(p.status, 0);
    ck_assert_str_eq(p.out, "2\n");
    ds_proc_free(&p);
    DS_RUN(&p, "get", "--db", db, "--now", NOW, "exact");
    ck_assert_int_eq(p.status, 0);
    ck_assert_str_eq(p.out, "{\"big\":12345678901234567890.000000000001,\"j\":{\"a\": [1, 2]},"
                            "\"s\":\"1k\",\"b\":true,\"f\":0.1}\n");
    ds_proc_free(&p);
    DS_RUN(&p, "get", "--db", db, "--now", NOW, "bykind");
    ck_assert_int_eq(p.status, 0);
    ck_assert_str_eq(p.out, "{\"a\":3,\"b\":12}\n");
    ds_proc_free(&p);
    DS_RUN(&p, "status", "--db", db, "--now", NOW);
    ck_assert_int_eq(p.status, 0);
    ck_assert_ptr_nonnull(strstr(p.out, "3 fresh"));
    ds_proc_free(&p);
    DS_RUN(&p, "explain", "--db", db, "--now", NOW, "small");
    ck_assert_msg(p.status == 0, "explain: %s", p.err);
    ck_assert_ptr_nonnull(strstr(p.out, "Seq Scan on t"));
    ds_proc_free(&p);
    DS_RUN(&p, "preview", "--db", db, "--now", NOW, "small");
    ck_assert_msg(p.status == 0, "preview: %s", p.err);
    ck_assert_ptr_nonnull(strstr(p.out, "2"));
    ds_proc_free(&p);
    DS_RUN(&p, "clear", "--db", db, "sm*");
    ck_assert_int_eq(p.status, 0);
    ck_assert_ptr_nonnull(strstr(p.out, "cleared 1"));
    ds_proc_free(&p);
    DS_RUN(&p, "get", "--db", db, "--now", NOW, "small");
    ck_assert_int_eq(p.status, 3);
    ds_proc_free(&p);
    DS_RUN(&p, "get", "--db", db, "--now", NOW, "nosuchkey");
    ck_assert_int_eq(p.status, 3);
    ds_proc_free(&p);
    DS_RUN(&p, "migrate", "--db", db);
    ck_assert_int_eq(p.status, 0);
    ck_assert_ptr_nonnull(strstr(p.out, "up to date"));
    ds_proc_free(&p);
    /* several runners: no whole-run lock, so a second run never exits 4 */
    DS_RUN(&p, "run", "--db", db, "--now", NOW, "--quiet");
    ck_assert_int_eq(p.status, 0);
    ds_proc_free(&p);
    ds_tmp_cleanup(dir);
    free(db);
}
END_TEST

START_TEST(check_errors_located)
{
    DS_PG_REQUIRE();
    char *dir;
    char *db = setup("eng_errs", "metrics:\n"
                                 "  - key: bad\n"
                                 "    shape: scalar\n"
                                 "    query: SELECT nope FROM t\n"
                                 "  - key: cast\n"
                                 "    shape: scalar\n"
                                 "    query: SELECT x::text FROM t LIMIT 1\n"
                                 "  - key: writes\n"
                                 "    shape: scalar\n"
                                 "    query: WITH d AS (DELETE FROM t RETURNING x) SELECT 1\n", &dir);
    ds_proc p;
    DS_RUN(&p, "check", "--db", db, "--specs", specs_path(dir));
    ck_assert_int_eq(p.status, 1);
    char want[4400];
    snprintf(want, sizeof want, "%s/items.yaml:7:19: error: column \"nope\" does not exist [bad]",
             specs_path(dir));
    ck_assert_msg(strstr(p.err, want) || strstr(p.out, want), "got: %s%s", p.out, p.err);
    ck_assert_ptr_null(strstr(p.err, "[cast]"));
    ck_assert_msg(strstr(p.err, "[writes]") || strstr(p.out, "[writes]"), "got: %s%s", p.out, p.err);
    ds_proc_free(&p);
    DS_RUN(&p, "compile", "--db", db, "--specs", specs_path(dir));
    ck_assert_int_eq(p.status, 1);
    ds_proc_free(&p);
    char *np = ds_pgdb_value(db, "SELECT count(*) FROM pg_class WHERE relname = 'dashspec_plan'");
    ck_assert_str_eq(np, "0");      /* nothing was written */
    free(np);
    ds_tmp_cleanup(dir);
    free(db);
}
END_TEST

START_TEST(passwords_never_shown)
{
    DS_PG_REQUIRE();
    char *dir;
    char *db = setup("eng_pw", specs_ok, &dir);
    /* the same database as a URI with a password (the test server trusts
     * local users, so the password is never checked) */
    const char *h = strstr(db, "host=") + 5;
    char uri[4400];
    snprintf(uri, sizeof uri, "postgresql://postgres:hunter2@/eng_pw?host=%.*s", (int)strcspn(h, " "), h);
    ds_proc p;
    DS_RUN(&p, "compile", "--db", uri, "--specs", specs_path(dir));
    ck_assert_msg(p.status == 0, "compile: %s", p.err);
    ck_assert_ptr_null(strstr(p.out, "hunter2"));
    ck_assert_ptr_nonnull(strstr(p.out, "***"));
    ds_proc_free(&p);
    DS_RUN(&p, "status", "--db", uri, "--now", NOW);
    ck_assert_ptr_null(strstr(p.out, "hunter2"));
    ck_assert_ptr_null(strstr(p.err, "hunter2"));
    ds_proc_free(&p);
    snprintf(uri, sizeof uri, "postgresql://postgres:hunter2@/nosuchdb?host=%.*s", (int)strcspn(h, " "), h);
    DS_RUN(&p, "status", "--db", uri);
    ck_assert_int_eq(p.status, 5);
    ck_assert_ptr_null(strstr(p.err, "hunter2"));
    ck_assert_ptr_nonnull(strstr(p.err, "nosuchdb"));
    ds_proc_free(&p);
    ds_tmp_cleanup(dir);
    free(db);
}
END_TEST

START_TEST(failure_keeps_last_value)
{
    DS_PG_REQUIRE();
    char *dir;
    char *db = setup("eng_keep", specs_ok, &dir);
    ds_proc p;
    DS_RUN(&p, "run", "--db", db, "--specs", specs_path(dir), "--now", NOW, "--quiet");
    ck_assert_msg(p.status == 0, "run: %s", p.err);
    ds_proc_free(&p);
    ds_pgdb_sql(db, "ALTER TABLE t RENAME COLUMN kind TO kind2");
    DS_RUN(&p, "run", "--db", db, "--now", NOW, "--force", "--quiet");
    ck_assert_int_eq(p.status, 1);
    ds_proc_free(&p);
    DS_RUN(&p, "get", "--db", db, "--now", NOW, "bykind");
    ck_assert_int_eq(p.status, 0);
    ck_assert_str_eq(p.out, "{\"a\":3,\"b\":12}\n");
    ds_proc_free(&p);
    char *f = ds_pgdb_value(db, "SELECT failures || ' ' || (last_error LIKE '%kind%') FROM dashspec_state"
                                " WHERE cache_key = 'bykind'");
    ck_assert_str_eq(f, "1 true");
    free(f);
    f = ds_pgdb_value(db, "SELECT count(*) FROM dashspec_history WHERE cache_key = 'bykind' AND ok = 0");
    ck_assert_str_eq(f, "1");
    free(f);
    /* The history reads back through the engine: stats, and the Prometheus
     * counters, agree with the rows. */
    DS_RUN(&p, "stats", "--db", db, "--now", NOW, "--json");
    ck_assert_msg(p.status == 0, "stats: %s", p.err);
    ck_assert_ptr_nonnull(strstr(p.out, "\"key\":\"bykind\""));
    ds_proc_free(&p);
    f = ds_pgdb_value(db, "SELECT count(*) FROM dashspec_runs");
    ck_assert_str_eq(f, "2");
    free(f);
    DS_RUN(&p, "status", "--db", db, "--now", NOW, "--format", "prometheus");
    ck_assert_msg(p.status == 0, "prometheus: %s", p.err);
    ck_assert_ptr_nonnull(strstr(p.out, "dashspec_item_failures_total{key=\"bykind\""));
    ck_assert_ptr_nonnull(strstr(p.out, "dashspec_item_attempts_total{key=\"bykind\",group=\"\"} 2"));
    ds_proc_free(&p);
    ds_tmp_cleanup(dir);
    free(db);
}
END_TEST

START_TEST(spec_cannot_write_and_times_out)
{
    DS_PG_REQUIRE();
    char *dir;
    char *db = setup("eng_guard", "metrics:\n"
                                  "  - key: seq\n"
                                  "    shape: scalar\n"
                                  "    query: SELECT nextval('s') AS v\n"
                                  "  - key: sleepy\n"
                                  "    shape: scalar\n"
                                  "    timeout: 1s\n"
                                  "    query: SELECT 1 AS one FROM pg_sleep(1e9)\n", &dir);
    ds_proc p;
    /* the role (the superuser) could write; READ ONLY stops the query */
    DS_RUN(&p, "run", "--db", db, "--specs", specs_path(dir), "--now", NOW, "--quiet");
    ck_assert_int_eq(p.status, 1);
    ds_proc_free(&p);
    char *e = ds_pgdb_value(db, "SELECT last_error FROM dashspec_state WHERE cache_key = 'seq'");
    ck_assert_msg(e && strstr(e, "read-only transaction"), "got %s", e ? e : "(null)");
    free(e);
    e = ds_pgdb_value(db, "SELECT last_error FROM dashspec_state WHERE cache_key = 'sleepy'");
    ck_assert_str_eq(e, "query timed out after 1s");
    free(e);
    e = ds_pgdb_value(db, "SELECT last_value::text FROM s");
    ck_assert_str_eq(e, "1");   /* never advanced: nextval was refused */
    free(e);
    e = ds_pgdb_value(db, "SELECT last_duration_ms < 10000 FROM dashspec_state WHERE cache_key = 'sleepy'");
    ck_assert_str_eq(e, "t");
    free(e);
    ds_tmp_cleanup(dir);
    free(db);
}
END_TEST

START_TEST(source_replica)
{
    DS_PG_REQUIRE();
    char *dir;
    char *data = setup("eng_src_data", specs_ok, &dir);
    char *plane = ds_pgdb_new("eng_src_plane");
    /* the same tables, empty: compile checks against them */
    ds_pgdb_sql(plane, table_sql);
    ds_proc p;
    DS_RUN(&p, "compile", "--db", plane, "--specs", specs_path(dir));
    ck_assert_int_eq(p.status, 0);
    ds_proc_free(&p);
    DS_RUN(&p, "run", "--db", plane, "--source", data, "--now", NOW, "--quiet");
    ck_assert_msg(p.status == 0, "run: %s", p.err);
    ds_proc_free(&p);
    DS_RUN(&p, "get", "--db", plane, "--now", NOW, "small");
    ck_assert_str_eq(p.out, "2\n");            /* computed on the data database */
    ds_proc_free(&p);
    char *n = ds_pgdb_value(data, "SELECT count(*) FROM pg_tables WHERE tablename = 'dashboard_cache'");
    ck_assert_str_eq(n, "0");                  /* nothing written there */
    free(n);
    ds_tmp_cleanup(dir);
    free(data);
    free(plane);
}
END_TEST

/* preview and check take --source, and the project file's source, as run
 * does: preview computes on the source, check prepares there. The source
 * has rows and a column y that --db lacks. */
START_TEST(source_preview_and_check)
{
    DS_PG_REQUIRE();
    char *dir;
    char *data = setup("eng_srcpc_data", specs_ok, &dir);
    char *plane = ds_pgdb_new("eng_srcpc_plane");
    ds_pgdb_sql(plane, "CREATE TABLE t (x bigint, kind text, at timestamptz)");
    ds_pgdb_sql(data, "ALTER TABLE t ADD COLUMN y int; UPDATE t SET y = x * 10");
    free(ds_write(dir, "ys/y.yaml", "version: 1\nmetrics:\n"
                                    "  - {key: top_y, shape: scalar, ttl: 5m, query: SELECT max(y) AS m FROM t}\n"));
    char ys[4200], mig[4200];
    snprintf(ys, sizeof ys, "%s/ys", dir);
    snprintf(mig, sizeof mig, "%s/mig", dir);
    free(ds_write(dir, "mig/001-t.sql", "CREATE TABLE t (x bigint, kind text, at timestamptz, y int);\n"));
    ds_proc p;
    DS_RUN(&p, "compile", "--db", plane, "--specs", specs_path(dir));
    ck_assert_msg(p.status == 0, "compile: %s", p.err);
    ds_proc_free(&p);

    DS_RUN(&p, "preview", "--db", plane, "--now", NOW, "small");
    ck_assert_msg(p.status == 0 && strcmp(p.out, "0\n") == 0, "%d %s %s", p.status, p.out, p.err);
    ds_proc_free(&p);
    DS_RUN(&p, "preview", "--db", plane, "--source", data, "--now", NOW, "small");
    ck_assert_msg(p.status == 0 && strcmp(p.out, "2\n") == 0, "%d %s %s", p.status, p.out, p.err);
    ds_proc_free(&p);
    /* the item still comes from --db's plan: the source has none */
    DS_RUN(&p, "preview", "--db", data, "--source", plane, "--now", NOW, "small");
    ck_assert_int_eq(p.status, 1);
    ds_proc_free(&p);

    DS_RUN(&p, "check", "--db", plane, "--specs", ys);
    ck_assert_int_eq(p.status, 1);
    ck_assert_msg(strstr(p.out, "column \"y\" does not exist"), "%s", p.out);
    ds_proc_free(&p);
    DS_RUN(&p, "check", "--db", plane, "--source", data, "--specs", ys);
    ck_assert_msg(p.status == 0, "%s%s", p.out, p.err);
    ds_proc_free(&p);
    DS_RUN(&p, "check", "--source", data, "--specs", ys);
    ck_assert_msg(p.status == 0, "%s%s", p.out, p.err);
    ds_proc_free(&p);
    DS_RUN(&p, "check", "--source", data, "--migrations", mig, "--specs", ys);
    ck_assert_int_eq(p.status, 2);
    ck_assert_msg(strstr(p.err, "--source"), "%s", p.err);
    ds_proc_free(&p);

    /* dashspec.yaml: database and source, no flags */
    char yaml[9000], here[4096];
    snprintf(yaml, sizeof yaml, "version: 1\ndatabase: '%s'\nsource: '%s'\nspecs: ys\n", plane, data);
    free(ds_write(dir, "dashspec.yaml", yaml));
    ck_assert_ptr_nonnull(getcwd(here, sizeof here));
    ck_assert_int_eq(chdir(dir), 0);
    DS_RUN(&p, "preview", "--now", NOW, "small");
    ck_assert_msg(p.status == 0 && strcmp(p.out, "2\n") == 0, "%d %s %s", p.status, p.out, p.err);
    ds_proc_free(&p);
    DS_RUN(&p, "check");
    ck_assert_msg(p.status == 0, "%s%s", p.out, p.err);
    ds_proc_free(&p);
    DS_RUN(&p, "check", "--source", plane);         /* the flag wins */
    ck_assert_int_eq(p.status, 1);
    ds_proc_free(&p);
    ck_assert_int_eq(chdir(here), 0);
    ds_tmp_cleanup(dir);
    free(data);
    free(plane);
}
END_TEST

/* check --explain: a sequential scan of a large table is a warning naming
 * the column an index would need; an index scan is none; and with the
 * index in place the warning goes. ANALYZE makes reltuples exact. */
START_TEST(check_explain_seq_scan)
{
    DS_PG_REQUIRE();
    char *db = ds_pgdb_new("eng_explain");
    ds_pgdb_sql(db, "CREATE TABLE big (id bigint PRIMARY KEY, domain text);"
                    " INSERT INTO big SELECT i, 'd' || i FROM generate_series(1, 20000) i; ANALYZE big");
    char *dir = ds_tmpdir();
    char *file = ds_write(dir, "specs/s.yaml",
                          "version: 1\n"
                          "metrics:\n"
                          "  - key: by_domain\n"
                          "    ttl: 1h\n"
                          "    shape: scalar\n"
                          "    query: SELECT count(*) AS n FROM big WHERE domain = 'd5'\n"
                          "  - key: by_id\n"
                          "    ttl: 1h\n"
                          "    shape: scalar\n"
                          "    params: {id: 5}\n"
                          "    query: SELECT domain FROM big WHERE id = :id\n");
    ds_proc p;
    DS_RUN(&p, "check", "--specs", specs_path(dir), "--db", db, "--explain");
    ck_assert_msg(p.status == 0, "%s%s", p.out, p.err);
    char want[4400];
    snprintf(want, sizeof want, "%s:6:12: warning: query scans all 20000 rows of table 'big' without an index;"
                                " an index on big(domain) would help [by_domain]\n", file);
    ck_assert_str_eq(p.out, want);
    ds_proc_free(&p);
    /* without --explain, nothing */
    DS_RUN(&p, "check", "--specs", specs_path(dir), "--db", db);
    ck_assert_int_eq(p.status, 0);
    ck_assert_str_eq(p.out, "");
    ds_proc_free(&p);
    /* with the index: no warning */
    ds_pgdb_sql(db, "CREATE INDEX big_domain ON big (domain); ANALYZE big");
    DS_RUN(&p, "check", "--specs", specs_path(dir), "--db", db, "--explain");
    ck_assert_int_eq(p.status, 0);
    ck_assert_str_eq(p.out, "");
    ds_proc_free(&p);
    free(file);
    ds_tmp_cleanup(dir);
    free(db);
}
END_TEST

/* check --migrations DIR --db URI: the scripts run into a scratch schema,
 * the queries are checked there, and nothing persists. */
START_TEST(check_migrations_scratch)
{
    DS_PG_REQUIRE();
    char *dir;
    char *db = setup("eng_scratch", specs_ok, &dir);
    char *empty = ds_pgdb_new("eng_scratch_empty");
    free(ds_write(dir, "mig/001-t.sql", "CREATE TABLE t (x bigint, kind text, at timestamptz);\n"));
    char mig[4200];
    snprintf(mig, sizeof mig, "%s/mig", dir);
    ds_proc p;
    DS_RUN(&p, "check", "--db", empty, "--migrations", mig, "--specs", specs_path(dir));
    ck_assert_msg(p.status == 0, "check: %s%s", p.out, p.err);
    ds_proc_free(&p);
    char *n = ds_pgdb_value(empty, "SELECT count(*) FROM pg_tables WHERE tablename = 't'");
    ck_assert_str_eq(n, "0");
    free(n);
    free(ds_write(dir, "mig/002-bad.sql", "\nSELECT nope;\n"));
    DS_RUN(&p, "check", "--db", empty, "--migrations", mig, "--specs", specs_path(dir));
    ck_assert_int_eq(p.status, 2);
    ck_assert_msg(strstr(p.err, "002-bad.sql:2:8: error: schema: column \"nope\" does not exist"), "got %s", p.err);
    ds_proc_free(&p);
    ds_tmp_cleanup(dir);
    free(db);
    free(empty);
}
END_TEST

Suite *pg_engine_suite(void)
{
    Suite *s = suite_create("pg_engine");
    TCase *t = tcase_create("commands");
    ds_pg_test_fixture(t);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, every_command);
    tcase_add_test(t, check_errors_located);
    tcase_add_test(t, passwords_never_shown);
    tcase_add_test(t, failure_keeps_last_value);
    tcase_add_test(t, spec_cannot_write_and_times_out);
    tcase_add_test(t, source_replica);
    tcase_add_test(t, source_preview_and_check);
    tcase_add_test(t, check_explain_seq_scan);
    tcase_add_test(t, check_migrations_scratch);
    suite_add_tcase(s, t);
    return s;
}

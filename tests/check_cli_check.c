/*
 * check_cli_check.c — `check`, `compile` and `list` driven through the built
 * binary: exit codes 0/1/2/5, the three output formats, which stream gets
 * what, compile's all-or-nothing write, and never creating a database file.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ds_test.h"

static const char good_yaml[] =
    "version: 1\n"
    "defaults:\n"
    "  ttl: 15m\n"
    "  group: overview\n"
    "metrics:\n"
    "  - key: funnel\n"
    "    shape: map\n"
    "    query: SELECT status, COUNT(*) FROM sites GROUP BY status ORDER BY status\n"
    "charts:\n"
    "  - key: hourly\n"
    "    shape: series\n"
    "    x: hour\n"
    "    y: n\n"
    "    series_by: status\n"
    "    ttl: 30m\n"
    "    refresh: 10m\n"
    "    params: { hours: 48 }\n"
    "    query: |\n"
    "      SELECT strftime('%Y-%m-%d %H:00', created_at) AS hour, status, COUNT(*) AS n\n"
    "      FROM sites\n"
    "      WHERE created_at >= datetime(:now, '-' || :hours || ' hours')\n"
    "      GROUP BY hour, status ORDER BY hour\n";

/* Two errors in one file (line 8: no such column, at the token; line 13:
 * a write) and one in another file. */
static const char bad_yaml[] =
    "version: 1\n"
    "defaults:\n"
    "  ttl: 15m\n"
    "metrics:\n"
    "  - key: broken\n"
    "    shape: rows\n"
    "    query: |\n"
    "      SELECT statuz FROM sites\n"
    "  - key: fine\n"
    "    shape: scalar\n"
    "    query: SELECT count(*) FROM sites\n"
    "  - key: writer\n"
    "    shape: scalar\n"
    "    query: DELETE FROM sites\n";

static const char bad2_yaml[] =
    "version: 1\n"
    "metrics:\n"
    "  - key: scalar2\n"
    "    ttl: 1h\n"
    "    shape: scalar\n"
    "    query: SELECT 1 AS a, 2 AS b\n";

typedef struct fx {
    char *dir, *specs, *bad, *db, *schema;
} fx;

static void fx_init(fx *f)
{
    unsetenv("DASHSPEC_DB");
    f->dir = ds_tmpdir();
    free(ds_write(f->dir, "good/a.yaml", good_yaml));
    free(ds_write(f->dir, "bad/a.yaml", bad_yaml));
    free(ds_write(f->dir, "bad/b.yaml", bad2_yaml));
    f->specs = malloc(strlen(f->dir) + 8);
    sprintf(f->specs, "%s/good", f->dir);
    f->bad = malloc(strlen(f->dir) + 8);
    sprintf(f->bad, "%s/bad", f->dir);
    f->db = malloc(strlen(f->dir) + 8);
    sprintf(f->db, "%s/app.db", f->dir);
    f->schema = ds_src("tests/fixtures/schema.sql");
    char *sql = ds_slurp(f->schema);
    ck_assert_ptr_nonnull(sql);
    ds_sql(f->db, sql);
    free(sql);
}

static void fx_free(fx *f)
{
    free(f->specs); free(f->bad); free(f->db); free(f->schema);
    ds_tmp_cleanup(f->dir);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* ---------------------------------------------------------------- check */

START_TEST(check_ok_with_each_schema_source)
{
    fx f;
    ds_proc p;
    fx_init(&f);
    DS_RUN(&p, "check", "--specs", f.specs, "--schema", f.schema);
    ck_assert_msg(p.status == 0, "status %d: %s%s", p.status, p.out, p.err);
    ck_assert_str_eq(p.out, "");
    ck_assert_str_eq(p.err, "");
    ds_proc_free(&p);

    DS_RUN(&p, "check", "--specs", f.specs, "--db", f.db);
    ck_assert_int_eq(p.status, 0);
    ck_assert_str_eq(p.out, "");
    ds_proc_free(&p);
    /* Read-only: not even dashspec's tables were created. */
    char *n = ds_sql_text(f.db, "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'dashspec%'");
    ck_assert_str_eq(n, "0");
    free(n);

    char *mig = malloc(strlen(f.dir) + 8);
    sprintf(mig, "%s/mig", f.dir);
    char *sql = ds_slurp(f.schema);
    free(ds_write(mig, "002-more.sql", "CREATE INDEX sites_status ON sites (status);\n"));
    free(ds_write(mig, "001-base.sql", sql));
    free(sql);
    DS_RUN(&p, "check", "--specs", f.specs, "--migrations", mig);
    ck_assert_msg(p.status == 0, "status %d: %s%s", p.status, p.out, p.err);
    ds_proc_free(&p);
    free(mig);

    /* $DASHSPEC_DB stands in for --db when no source is given. */
    char env[4200];
    snprintf(env, sizeof env, "DASHSPEC_DB=%s", f.db);
    const char *const e[] = {env, NULL};
    ds_proc_run(&p, (const char *const[]){"check", "--specs", f.bad, NULL}, NULL, e);
    ck_assert_int_eq(p.status, 1);
    ck_assert_ptr_nonnull(strstr(p.out, "no such column: statuz"));
    ds_proc_free(&p);
    fx_free(&f);
}
END_TEST

START_TEST(check_without_schema_warns_once)
{
    fx f;
    ds_proc p;
    fx_init(&f);
    DS_RUN(&p, "check", "--specs", f.specs);
    ck_assert_int_eq(p.status, 0);
    ck_assert_str_eq(p.out, "dashspec: warning: SQL was not prepared: no --db, --schema or --migrations given\n");
    ck_assert_str_eq(p.err, "");
    ds_proc_free(&p);
    /* The warning in every format, and --strict / -W error make it an error. */
    DS_RUN(&p, "check", "--specs", f.specs, "--format", "github");
    ck_assert_int_eq(p.status, 0);
    ck_assert_str_eq(p.out, "::warning::SQL was not prepared: no --db, --schema or --migrations given\n");
    ds_proc_free(&p);
    DS_RUN(&p, "check", "--specs", f.specs, "--format", "json");
    ck_assert_int_eq(p.status, 0);
    ck_assert_ptr_nonnull(strstr(p.out, "\"severity\":\"warning\",\"key\":null,\"message\":\"SQL was not prepared"));
    ds_proc_free(&p);
    DS_RUN(&p, "check", "--specs", f.specs, "--strict");
    ck_assert_int_eq(p.status, 1);
    ck_assert_str_eq(p.out, "dashspec: error: SQL was not prepared: no --db, --schema or --migrations given\n"
                            "dashspec: 1 error\n");
    ds_proc_free(&p);
    DS_RUN(&p, "check", "--specs", f.specs, "-W", "error", "--format", "github");
    ck_assert_int_eq(p.status, 1);
    ck_assert_ptr_nonnull(strstr(p.out, "::error::SQL was not prepared"));
    ds_proc_free(&p);
    DS_RUN(&p, "check", "--specs", f.specs, "-W", "all");
    ck_assert_int_eq(p.status, 2);
    ds_proc_free(&p);
    /* The rules that need no schema still run; the column error needs one. */
    DS_RUN(&p, "check", "--specs", f.bad);
    ck_assert_int_eq(p.status, 1);
    ck_assert_ptr_null(strstr(p.out, "statuz"));
    ck_assert_ptr_nonnull(strstr(p.out, ":14:12: error: statement is not read-only: DELETE is not allowed [writer]\n"));
    ds_proc_free(&p);
    fx_free(&f);
}
END_TEST

START_TEST(check_errors_in_three_formats)
{
    fx f;
    ds_proc p;
    fx_init(&f);
    DS_RUN(&p, "check", "--specs", f.bad, "--schema", f.schema);
    ck_assert_int_eq(p.status, 1);
    char *want = NULL;
    ck_assert_int_ge(asprintf(&want,
        "%s/a.yaml:8:14: error: no such column: statuz; did you mean 'status'? [broken]\n"
        "%s/a.yaml:14:12: error: statement is not read-only: DELETE is not allowed [writer]\n"
        "%s/b.yaml:5:12: error: shape scalar needs exactly 1 column; the query returns 2 (a, b) [scalar2]\n",
        f.bad, f.bad, f.bad), 0);
    /* One ordered stream: the diagnostics, then the summary that counts them. */
    char *want2 = NULL;
    ck_assert_int_ge(asprintf(&want2, "%sdashspec: 3 errors in 2 files\n", want), 0);
    ck_assert_str_eq(p.out, want2);
    free(want2);
    free(want);
    ck_assert_str_eq(p.err, "");
    ds_proc_free(&p);

    DS_RUN(&p, "check", "--specs", f.bad, "--schema", f.schema, "--format", "github");
    ck_assert_int_eq(p.status, 1);
    ck_assert_int_ge(asprintf(&want, "::error file=%s/a.yaml,line=8,col=14::no such column: statuz; did you mean 'status'? [broken]\n", f.bad), 0);
    ck_assert_msg(strncmp(p.out, want, strlen(want)) == 0, "got %s", p.out);
    free(want);
    ck_assert_str_eq(p.err, "");
    ds_proc_free(&p);

    DS_RUN(&p, "check", "--specs", f.bad, "--schema", f.schema, "--format=json");
    ck_assert_int_eq(p.status, 1);
    cJSON *j = cJSON_Parse(p.out);
    ck_assert_ptr_nonnull(j);
    ck_assert(cJSON_IsArray(j));
    ck_assert_int_eq(cJSON_GetArraySize(j), 3);
    cJSON *e0 = cJSON_GetArrayItem(j, 0);
    char *file = NULL;
    ck_assert_int_ge(asprintf(&file, "%s/a.yaml", f.bad), 0);
    ck_assert_str_eq(cJSON_GetObjectItem(e0, "file")->valuestring, file);
    free(file);
    ck_assert_int_eq(cJSON_GetObjectItem(e0, "line")->valueint, 8);
    ck_assert_int_eq(cJSON_GetObjectItem(e0, "col")->valueint, 14);
    ck_assert_str_eq(cJSON_GetObjectItem(e0, "severity")->valuestring, "error");
    ck_assert_str_eq(cJSON_GetObjectItem(e0, "key")->valuestring, "broken");
    ck_assert_str_eq(cJSON_GetObjectItem(e0, "message")->valuestring, "no such column: statuz; did you mean 'status'?");
    cJSON_Delete(j);
    ck_assert_str_eq(p.err, "");
    ds_proc_free(&p);

    /* A clean check in JSON is an empty array. */
    DS_RUN(&p, "check", "--specs", f.specs, "--schema", f.schema, "--format", "json");
    ck_assert_int_eq(p.status, 0);
    ck_assert_str_eq(p.out, "[]\n");
    ds_proc_free(&p);
    fx_free(&f);
}
END_TEST

START_TEST(check_usage_errors)
{
    fx f;
    ds_proc p;
    fx_init(&f);
    DS_RUN(&p, "check", "--specs", f.specs, "--bogus");
    ck_assert_int_eq(p.status, 2);
    ck_assert_str_eq(p.out, "");
    ds_proc_free(&p);
    DS_RUN(&p, "check", "--specs", f.specs, "--format", "xml");
    ck_assert_int_eq(p.status, 2);
    ck_assert_ptr_nonnull(strstr(p.err, "--format"));
    ds_proc_free(&p);
    DS_RUN(&p, "check", "--specs", f.specs, "--db", f.db, "--schema", f.schema);
    ck_assert_int_eq(p.status, 2);
    ck_assert_ptr_nonnull(strstr(p.err, "only one of"));
    ds_proc_free(&p);
    DS_RUN(&p, "check", "--specs", f.specs, "--schema", f.schema, "--explain");
    ck_assert_int_eq(p.status, 2);
    ds_proc_free(&p);
    DS_RUN(&p, "check", "--specs", f.specs, "extra");
    ck_assert_int_eq(p.status, 2);
    ds_proc_free(&p);
    /* A schema that is missing or does not run is a bad argument too. */
    DS_RUN(&p, "check", "--specs", f.specs, "--schema", "/nonexistent/schema.sql");
    ck_assert_int_eq(p.status, 2);
    ck_assert_str_eq(p.out, "");
    ds_proc_free(&p);
    char *broken = ds_write(f.dir, "broken.sql", "CREATE TABLE sites (id INTEGER PRIMARY KEY);\nCREAT TABLE x (y);\n");
    DS_RUN(&p, "check", "--specs", f.specs, "--schema", broken);
    ck_assert_int_eq(p.status, 2);
    ck_assert_ptr_nonnull(strstr(p.err, "broken.sql:2:1: error: schema: near \"CREAT\": syntax error"));
    ds_proc_free(&p);
    free(broken);
    /* Missing specs directory. */
    DS_RUN(&p, "check", "--specs", "/nonexistent/specs", "--schema", f.schema);
    ck_assert_int_ne(p.status, 0);
    ck_assert_ptr_nonnull(strstr(p.err, "/nonexistent/specs"));
    ds_proc_free(&p);
    fx_free(&f);
}
END_TEST

START_TEST(check_database_errors)
{
    fx f;
    ds_proc p;
    fx_init(&f);
    char *missing = malloc(strlen(f.dir) + 16);
    sprintf(missing, "%s/missing.db", f.dir);
    DS_RUN(&p, "check", "--specs", f.specs, "--db", missing);
    ck_assert_int_eq(p.status, 5);
    ck_assert_str_eq(p.out, "");
    ck_assert_ptr_nonnull(strstr(p.err, "dashspec: error: cannot open database"));
    ck_assert(!exists(missing));
    ds_proc_free(&p);
    /* Not a database. */
    char *junk = ds_write(f.dir, "junk.db", "this is not a database, just text long enough to have a header ....\n");
    DS_RUN(&p, "check", "--specs", f.specs, "--db", junk);
    ck_assert_int_eq(p.status, 5);
    ck_assert_str_eq(p.out, "");
    ds_proc_free(&p);
    free(junk);
    free(missing);
    fx_free(&f);
}
END_TEST

START_TEST(check_explain_warns_about_scans)
{
    fx f;
    ds_proc p;
    fx_init(&f);
    ds_sql(f.db, "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 10500)"
                 " INSERT INTO sites (domain, status, created_at) SELECT 'd' || i, 'new', '2026-01-01' FROM c;");
    char *specs = malloc(strlen(f.dir) + 16);
    sprintf(specs, "%s/scan", f.dir);
    free(ds_write(specs, "s.yaml",
                  "version: 1\n"
                  "metrics:\n"
                  "  - key: by_domain\n"
                  "    ttl: 1h\n"
                  "    shape: scalar\n"
                  "    query: SELECT count(*) FROM sites WHERE domain = 'd5'\n"
                  "  - key: by_id\n"
                  "    ttl: 1h\n"
                  "    shape: scalar\n"
                  "    query: SELECT domain FROM sites WHERE id = 5\n"));
    DS_RUN(&p, "check", "--specs", specs, "--db", f.db, "--explain");
    ck_assert_int_eq(p.status, 0);
    char *want = NULL;
    ck_assert_int_ge(asprintf(&want, "%s/s.yaml:6:12: warning: query scans all 10500 rows of table 'sites' without an index;"
                                     " an index on sites(domain) would help [by_domain]\n", specs), 0);
    ck_assert_str_eq(p.out, want);
    free(want);
    ds_proc_free(&p);
    /* Without --explain, nothing. */
    DS_RUN(&p, "check", "--specs", specs, "--db", f.db);
    ck_assert_int_eq(p.status, 0);
    ck_assert_str_eq(p.out, "");
    ds_proc_free(&p);
    free(specs);
    fx_free(&f);
}
END_TEST

/* ---------------------------------------------------------------- compile */

START_TEST(compile_fills_the_plan)
{
    fx f;
    ds_proc p;
    fx_init(&f);
    DS_RUN(&p, "compile", "--db", f.db, "--specs", f.specs);
    ck_assert_msg(p.status == 0, "status %d: %s", p.status, p.err);
    char *want = NULL;
    ck_assert_int_ge(asprintf(&want, "compiled 2 items into %s\n", f.db), 0);
    ck_assert_str_eq(p.out, want);
    free(want);
    ck_assert_str_eq(p.err, "");
    ds_proc_free(&p);
    char *s = ds_sql_text(f.db, "SELECT group_concat(key || ':' || kind || ':' || shape || ':' || ttl || ':' || refresh, ' ')"
                                " FROM (SELECT * FROM dashspec_plan ORDER BY key)");
    ck_assert_str_eq(s, "funnel:metric:map:900:600 hourly:chart:series:1800:600");
    free(s);
    s = ds_sql_text(f.db, "SELECT params || ' ' || options || ' ' || source FROM dashspec_plan WHERE key = 'hourly'");
    char *src = NULL;
    ck_assert_int_ge(asprintf(&src, "{\"hours\":48} {\"x\":\"hour\",\"y\":[\"n\"],\"series_by\":\"status\",\"fill\":\"null\"} %s/a.yaml:10", f.specs), 0);
    ck_assert_str_eq(s, src);
    free(src);
    free(s);
    /* Again: nothing changed. */
    DS_RUN(&p, "compile", "--db", f.db, "--specs", f.specs);
    ck_assert_int_eq(p.status, 0);
    ck_assert_ptr_nonnull(strstr(p.out, "(plan unchanged)"));
    ds_proc_free(&p);
    /* An item removed from the specs loses its plan row. */
    free(ds_write(f.dir, "one/a.yaml", "version: 1\nmetrics:\n  - key: funnel\n    ttl: 5m\n    shape: map\n"
                                       "    query: SELECT status, COUNT(*) FROM sites GROUP BY status\n"));
    char *one = malloc(strlen(f.dir) + 8);
    sprintf(one, "%s/one", f.dir);
    char env[4200];
    snprintf(env, sizeof env, "DASHSPEC_DB=%s", f.db);
    ds_proc_run(&p, (const char *const[]){"compile", "--specs", one, NULL}, NULL, (const char *const[]){env, NULL});
    ck_assert_int_eq(p.status, 0);
    ck_assert_ptr_nonnull(strstr(p.out, "compiled 1 item into"));
    ds_proc_free(&p);
    s = ds_sql_text(f.db, "SELECT group_concat(key) FROM dashspec_plan");
    ck_assert_str_eq(s, "funnel");
    free(s);
    free(one);
    fx_free(&f);
}
END_TEST

START_TEST(compile_writes_nothing_on_error)
{
    fx f;
    ds_proc p;
    fx_init(&f);
    DS_RUN(&p, "compile", "--db", f.db, "--specs", f.bad);
    ck_assert_int_eq(p.status, 1);
    ck_assert_str_eq(p.out, "");
    ck_assert_ptr_nonnull(strstr(p.err, "a.yaml:8:14: error: no such column: statuz; did you mean 'status'? [broken]\n"));
    ck_assert_ptr_nonnull(strstr(p.err, "dashspec: 3 errors in 2 files; nothing was written\n"));
    ds_proc_free(&p);
    char *s = ds_sql_text(f.db, "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'dashspec%'");
    ck_assert_str_eq(s, "0");
    free(s);
    /* With a plan in place, a failing compile leaves it as it was. */
    DS_RUN(&p, "compile", "--db", f.db, "--specs", f.specs);
    ck_assert_int_eq(p.status, 0);
    ds_proc_free(&p);
    DS_RUN(&p, "compile", "--db", f.db, "--specs", f.bad);
    ck_assert_int_eq(p.status, 1);
    ds_proc_free(&p);
    s = ds_sql_text(f.db, "SELECT group_concat(key) FROM (SELECT key FROM dashspec_plan ORDER BY key)");
    ck_assert_str_eq(s, "funnel,hourly");
    free(s);
    fx_free(&f);
}
END_TEST

START_TEST(compile_database_problems)
{
    fx f;
    ds_proc p;
    fx_init(&f);
    char *missing = malloc(strlen(f.dir) + 16);
    sprintf(missing, "%s/missing.db", f.dir);
    DS_RUN(&p, "compile", "--db", missing, "--specs", f.specs);
    ck_assert_int_eq(p.status, 5);
    ck_assert_str_eq(p.out, "");
    ck_assert_ptr_nonnull(strstr(p.err, "dashspec: error: cannot open database"));
    ck_assert(!exists(missing));
    ds_proc_free(&p);
    free(missing);
    /* No database at all: usage. */
    DS_RUN(&p, "compile", "--specs", f.specs);
    ck_assert_int_eq(p.status, 2);
    ds_proc_free(&p);
    /* A read-only file cannot be written. */
    if (geteuid() != 0) {
        ck_assert_int_eq(chmod(f.db, 0444), 0);
        DS_RUN(&p, "compile", "--db", f.db, "--specs", f.specs);
        ck_assert_int_eq(p.status, 5);
        ds_proc_free(&p);
        chmod(f.db, 0644);
    }
    fx_free(&f);
}
END_TEST

/* ---------------------------------------------------------------- list */

START_TEST(list_specs_and_plan)
{
    fx f;
    ds_proc p;
    fx_init(&f);
    DS_RUN(&p, "list", "--specs", f.specs);
    ck_assert_int_eq(p.status, 0);
    char *want = NULL;
    ck_assert_int_ge(asprintf(&want,
        "KEY     KIND    SHAPE   TTL  REFRESH  GROUP     SOURCE\n"
        "funnel  metric  map     15m      10m  overview  %s/a.yaml:6\n"
        "hourly  chart   series  30m      10m  overview  %s/a.yaml:10\n", f.specs, f.specs), 0);
    ck_assert_str_eq(p.out, want);
    free(want);
    ds_proc_free(&p);

    DS_RUN(&p, "list", "--specs", f.specs, "--json");
    ck_assert_int_eq(p.status, 0);
    cJSON *j = cJSON_Parse(p.out);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(cJSON_GetArraySize(j), 2);
    cJSON *h = cJSON_GetArrayItem(j, 1);
    ck_assert_str_eq(cJSON_GetObjectItem(h, "key")->valuestring, "hourly");
    ck_assert_int_eq(cJSON_GetObjectItem(h, "ttl")->valueint, 1800);
    ck_assert_int_eq(cJSON_GetObjectItem(h, "refresh")->valueint, 600);
    ck_assert_str_eq(cJSON_GetObjectItem(h, "group")->valuestring, "overview");
    cJSON_Delete(j);
    ds_proc_free(&p);

    /* From the compiled plan. */
    DS_RUN(&p, "compile", "--db", f.db, "--specs", f.specs);
    ck_assert_int_eq(p.status, 0);
    ds_proc_free(&p);
    DS_RUN(&p, "list", "--db", f.db, "--json");
    ck_assert_int_eq(p.status, 0);
    j = cJSON_Parse(p.out);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(cJSON_GetArraySize(j), 2);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(j, 0), "key")->valuestring, "funnel");
    cJSON_Delete(j);
    ds_proc_free(&p);

    /* Errors in the specs: on stderr, exit 1. */
    DS_RUN(&p, "list", "--specs", f.bad);
    ck_assert_int_eq(p.status, 1);
    ck_assert_ptr_nonnull(strstr(p.err, "DELETE is not allowed"));
    ds_proc_free(&p);
    /* A missing database. */
    DS_RUN(&p, "list", "--db", "/nonexistent/x.db");
    ck_assert_int_eq(p.status, 5);
    ds_proc_free(&p);
    fx_free(&f);
}
END_TEST

START_TEST(help_texts)
{
    ds_proc p;
    const char *cmds[] = {"check", "compile", "list"};
    for (int i = 0; i < 3; i++) {
        DS_RUN(&p, "help", cmds[i]);
        ck_assert_int_eq(p.status, 0);
        ck_assert_ptr_nonnull(strstr(p.out, "usage: dashspec "));
        ck_assert_ptr_nonnull(strstr(p.out, "exit status"));
        ck_assert_ptr_nonnull(strstr(p.out, "examples:"));
        ds_proc_free(&p);
    }
}
END_TEST

/* No byte below 0x20 other than a newline, and no DEL. */
static int no_raw_controls(const char *s)
{
    for (; *s; s++)
        if (((unsigned char)*s < 0x20 && *s != '\n') || *s == 0x7F) return 0;
    return 1;
}

/* A spec file whose name is not UTF-8: --format json is still valid JSON,
 * the name repaired with U+FFFD. */
START_TEST(check_json_file_name_not_utf8)
{
    fx f;
    ds_proc p;
    fx_init(&f);
    free(ds_write(f.dir, "odd/bad\xFF\xFE.yaml", bad2_yaml));
    char *odd = NULL;
    ck_assert_int_ge(asprintf(&odd, "%s/odd", f.dir), 0);
    DS_RUN(&p, "check", "--specs", odd, "--schema", f.schema, "--format", "json");
    ck_assert_int_eq(p.status, 1);
    cJSON *j = cJSON_Parse(p.out);
    ck_assert_msg(j != NULL, "not JSON: %s", p.out);
    ck_assert_int_eq(cJSON_GetArraySize(j), 1);
    const cJSON *file = cJSON_GetObjectItem(cJSON_GetArrayItem(j, 0), "file");
    ck_assert(cJSON_IsString(file));
    char *want = NULL;
    ck_assert_int_ge(asprintf(&want, "%s/bad\xEF\xBF\xBD\xEF\xBF\xBD.yaml", odd), 0);
    ck_assert_str_eq(file->valuestring, want);
    free(want);
    cJSON_Delete(j);
    ds_proc_free(&p);
    free(odd);
    fx_free(&f);
}
END_TEST

/* A spec file name holding ESC never reaches the terminal raw: not in text,
 * not in github format, not in a usage error quoting an argument. */
START_TEST(check_escape_in_file_name)
{
    fx f;
    ds_proc p;
    fx_init(&f);
    free(ds_write(f.dir, "esc/x\x1b[2J\x07.yaml", bad2_yaml));
    char *esc = NULL;
    ck_assert_int_ge(asprintf(&esc, "%s/esc", f.dir), 0);
    static const char *const formats[] = {"text", "github"};
    for (size_t i = 0; i < 2; i++) {
        DS_RUN(&p, "check", "--specs", esc, "--schema", f.schema, "--format", formats[i]);
        ck_assert_int_eq(p.status, 1);
        ck_assert_msg(strstr(p.out, "x?[2J?.yaml") != NULL, "%s: %s", formats[i], p.out);
        ck_assert_msg(no_raw_controls(p.out), "%s: raw control in %s", formats[i], p.out);
        ck_assert(no_raw_controls(p.err));
        ds_proc_free(&p);
    }
    DS_RUN(&p, "check", "--specs", esc, "--bogus\x1b[2J");
    ck_assert_int_eq(p.status, 2);
    ck_assert_ptr_nonnull(strstr(p.err, "unknown option '--bogus?[2J'"));
    ck_assert(no_raw_controls(p.err));
    ds_proc_free(&p);
    DS_RUN(&p, "compile", "--specs", esc, "--db", f.db);
    ck_assert_int_eq(p.status, 1);
    ck_assert(no_raw_controls(p.err));
    ck_assert_ptr_nonnull(strstr(p.err, "x?[2J?.yaml"));
    ds_proc_free(&p);
    free(esc);
    fx_free(&f);
}
END_TEST

Suite *cli_check_suite(void)
{
    Suite *s = suite_create("cli_check");
    TCase *tc = tcase_create("cli_check");
    /* Each test starts the binary a few times (under 0.3 s); 120 s for valgrind,
     * which also runs every dashspec it starts. */
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, check_ok_with_each_schema_source);
    tcase_add_test(tc, check_without_schema_warns_once);
    tcase_add_test(tc, check_errors_in_three_formats);
    tcase_add_test(tc, check_usage_errors);
    tcase_add_test(tc, check_database_errors);
    tcase_add_test(tc, check_explain_warns_about_scans);
    tcase_add_test(tc, compile_fills_the_plan);
    tcase_add_test(tc, compile_writes_nothing_on_error);
    tcase_add_test(tc, compile_database_problems);
    tcase_add_test(tc, list_specs_and_plan);
    tcase_add_test(tc, help_texts);
    tcase_add_test(tc, check_json_file_name_not_utf8);
    tcase_add_test(tc, check_escape_in_file_name);
    suite_add_tcase(s, tc);
    return s;
}

/*
 * check_run_out.c — readable runs (cli/run_out.c) driven through the built
 * binary: on a pseudo-terminal one line per item and a closing summary; to a
 * pipe the summary JSON exactly as before; --results FILE (per-item status,
 * reason, duration, rows, bytes, error) written atomically.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ds_test.h"

static char *dir;
static char db[4096], specs[4096], res[4096];
#define T0 "2026-02-12 10:00:00"

static const char yaml[] =
    "version: 1\n"
    "defaults:\n"
    "  ttl: 15m\n"
    "  refresh: 10m\n"
    "metrics:\n"
    "  - key: total\n"
    "    shape: scalar\n"
    "    query: SELECT COUNT(*) FROM sites\n"
    "  - key: broken\n"
    "    shape: scalar\n"
    "    query: SELECT count(*) FROM flaky\n"
    "charts:\n"
    "  - key: by_status\n"
    "    shape: rows\n"
    "    query: SELECT status, COUNT(*) AS n FROM sites GROUP BY status ORDER BY status\n";

static void setup(void)
{
    dir = ds_tmpdir();
    snprintf(db, sizeof db, "%s/app.db", dir);
    snprintf(specs, sizeof specs, "%s/specs", dir);
    snprintf(res, sizeof res, "%s/out/results.json", dir);
    ds_sql(db, "CREATE TABLE sites (id INTEGER PRIMARY KEY, status TEXT);"
               "INSERT INTO sites VALUES (1, 'open'), (2, 'done'), (3, 'open');"
               "CREATE TABLE flaky (v INTEGER);");
    free(ds_write(dir, "specs/main.yaml", yaml));
    free(ds_write(dir, "out/.keep", ""));
}

static void teardown(void)
{
    ds_tmp_cleanup(dir);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

START_TEST(terminal_lines)
{
    ds_proc p;
    DS_RUN(&p, "compile", "--db", db, "--specs", specs);
    ck_assert_int_eq(p.status, 0);
    ds_proc_free(&p);
    ds_sql(db, "DROP TABLE flaky");
    DS_TTY(&p, 120, 0, "run", "--db", db, "--now", T0, "--jobs", "2");
    ck_assert_int_eq(p.status, 1);
    /* One line per item (as it finishes: any order), a blank, the summary. */
    ck_assert_ptr_nonnull(strstr(p.out, " ok         total "));
    ck_assert_ptr_nonnull(strstr(p.out, " scalar       1 row "));
    ck_assert_ptr_nonnull(strstr(p.out, " ok         by_status "));
    ck_assert_ptr_nonnull(strstr(p.out, " rows         2 rows "));
    ck_assert_ptr_nonnull(strstr(p.out, "(never computed)"));
    ck_assert_ptr_nonnull(strstr(p.out, " failed     broken "));
    ck_assert_ptr_nonnull(strstr(p.out, "no such table: flaky"));
    ck_assert_ptr_nonnull(strstr(p.out, "/3 "));
    ck_assert_ptr_nonnull(strstr(p.out, "Done with failures. OK=2 FAILED=1 SKIPPED=0 TOTAL=3: 3 entries in "));
    ck_assert_ptr_null(strstr(p.out, "\"summary\""));      /* no JSON on a terminal */
    ck_assert_ptr_null(strstr(p.out, "\033["));            /* NO_COLOR */
    ds_proc_free(&p);
    /* Skipped items say why; colour on a colour terminal. */
    DS_TTY(&p, 120, 1, "run", "--db", db, "--now", "2026-02-12 10:01:00", "--select", "total", "--select", "by_*");
    ck_assert_int_eq(p.status, 0);
    ck_assert_ptr_nonnull(strstr(p.out, "skipped    \033[0mtotal "));
    ck_assert_ptr_nonnull(strstr(p.out, "(fresh for 9m)"));
    ck_assert_ptr_nonnull(strstr(p.out, "Done.\033[0m OK=0 FAILED=0 SKIPPED=2 TOTAL=2: 0 entries in "));
    ds_proc_free(&p);
    /* --quiet: nothing on stdout, the error still shows (stderr, same tty). */
    ds_sql(db, "CREATE TABLE flaky (v INTEGER)");
    DS_TTY(&p, 120, 0, "run", "--db", db, "--now", "2026-02-12 10:30:00", "--quiet");
    ck_assert_int_eq(p.status, 0);
    ck_assert_str_eq(p.out, "");
    ds_proc_free(&p);
}
END_TEST

START_TEST(pipe_stays_json)
{
    ds_proc p;
    DS_RUN(&p, "run", "--db", db, "--specs", specs, "--now", T0, "--results", res);
    ck_assert_int_eq(p.status, 0);
    ck_assert_int_eq(count_lines(p.out), 1);
    cJSON *j = cJSON_Parse(p.out);
    ck_assert_ptr_nonnull(j);
    ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(j, "summary"));
    cJSON_Delete(j);
    ds_proc_free(&p);
}
END_TEST

static const cJSON *result_of(const cJSON *doc, const char *key)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc, "results"))
        if (strcmp(cJSON_GetObjectItemCaseSensitive(e, "key")->valuestring, key) == 0) return e;
    return NULL;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

START_TEST(results_file)
{
    ds_proc p;
    DS_RUN(&p, "compile", "--db", db, "--specs", specs);
    ck_assert_int_eq(p.status, 0);
    ds_proc_free(&p);
    ds_sql(db, "DROP TABLE flaky");
    DS_RUN(&p, "run", "--db", db, "--now", T0, "--results", res, "--quiet");
    ck_assert_int_eq(p.status, 1);
    ck_assert_str_eq(p.out, "");
    ds_proc_free(&p);
    char *text = ds_slurp(res);
    ck_assert_ptr_nonnull(text);
    cJSON *doc = cJSON_Parse(text);
    ck_assert_ptr_nonnull(doc);
    ck_assert_int_eq((int)jnum(doc, "ok"), 2);
    ck_assert_int_eq((int)jnum(doc, "failed"), 1);
    const cJSON *t = result_of(doc, "total");
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(jstr(t, "status"), "ok");
    ck_assert_str_eq(jstr(t, "reason"), "never computed");
    ck_assert_int_eq((int)jnum(t, "rows"), 1);
    ck_assert_int_eq((int)jnum(t, "bytes"), 1);         /* "3" */
    ck_assert_int_ge((int)jnum(t, "duration_ms"), 0);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(t, "error")));
    const cJSON *b = result_of(doc, "broken");
    ck_assert_str_eq(jstr(b, "status"), "failed");
    ck_assert_str_eq(jstr(b, "error"), "no such table: flaky");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(b, "rows")));
    cJSON_Delete(doc);
    free(text);

    /* The next run replaces the file: skipped items and why. */
    DS_RUN(&p, "run", "--db", db, "--now", "2026-02-12 10:00:10", "--results", res, "--select", "total");
    ck_assert_int_eq(p.status, 0);
    ds_proc_free(&p);
    text = ds_slurp(res);
    doc = cJSON_Parse(text);
    ck_assert_ptr_nonnull(doc);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "results")), 1);
    t = result_of(doc, "total");
    ck_assert_str_eq(jstr(t, "status"), "skipped");
    ck_assert_str_eq(jstr(t, "reason"), "fresh for 9m50s");
    cJSON_Delete(doc);
    free(text);
    /* Nothing else was left in the directory (temp + rename). */
    char lsc[4300];
    snprintf(lsc, sizeof lsc, "ls -A '%s/out'", dir);
    FILE *ls = popen(lsc, "r");
    ck_assert_ptr_nonnull(ls);
    char names[256] = "";
    size_t got = fread(names, 1, sizeof names - 1, ls);
    names[got] = '\0';
    pclose(ls);
    ck_assert_str_eq(names, ".keep\nresults.json\n");

    /* A file that cannot be written: said once, exit 1, the values written. */
    char bad[4200];
    snprintf(bad, sizeof bad, "%s/no/such/dir/r.json", dir);
    DS_RUN(&p, "run", "--db", db, "--now", "2026-02-12 10:30:00", "--results", bad, "--select", "total");
    ck_assert_int_eq(p.status, 1);
    ck_assert_ptr_nonnull(strstr(p.err, "cannot write --results"));
    ds_proc_free(&p);
    char *v = ds_sql_text(db, "SELECT created_at FROM dashboard_cache WHERE cache_key = 'total'");
    ck_assert_str_eq(v, "2026-02-12 10:30:00");
    free(v);
}
END_TEST

Suite *run_out_suite(void)
{
    Suite *s = suite_create("run_out");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, terminal_lines);
    tcase_add_test(tc, pipe_stays_json);
    tcase_add_test(tc, results_file);
    suite_add_tcase(s, tc);
    return s;
}

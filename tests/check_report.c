/*
 * check_report.c — `status --format prometheus` and `dashspec report` on a
 * simulated day of cron runs (tests/util_day.c): the exposition format
 * (checked here line by line, and by `promtool check metrics` when it is
 * installed), its figures against the database, and the HTML page: one
 * entry per item, one chart per chart item, no script, hostile values kept as
 * text, written atomically.
 *
 * Tools: promtool is used when present; DS_PROMTOOL=1 (make test-browser,
 * CI) makes its absence a failure. The real-browser test runs headless
 * Chromium only with DS_BROWSER=1 (make test-browser) and saves
 * build/report.png for a person to look at.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "ds_day.h"
#include "ds_test.h"

static const char hostile[] = "</svg><script>alert(1)</script>";
static const char hostile_esc[] = "&lt;/svg&gt;&lt;script&gt;alert(1)&lt;/script&gt;";

static int have(const char *tool)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", tool);
    return system(cmd) == 0;
}

static int env_on(const char *name)
{
    const char *v = getenv(name);
    return v && strcmp(v, "1") == 0;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

static long long sql_ll(const char *db, const char *sql)
{
    char *t = ds_sql_text(db, sql);
    ck_assert_msg(t != NULL, "no value: %s", sql);
    long long v = atoll(t);
    free(t);
    return v;
}

/* The value of the first sample line that starts with prefix. */
static double sample(const char *text, const char *prefix)
{
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, prefix, strlen(prefix)) == 0) return atof(strrchr(strndupa(p, strcspn(p, "\n")), ' ') + 1);
    ck_abort_msg("no sample %s", prefix);
    return 0;
}

/* The text format's own rules, as far as this output uses them: every
 * sample's family has HELP and TYPE lines before it, names are
 * [a-zA-Z_:][a-zA-Z0-9_:]*, values parse as numbers, lines end in \n. */
static void check_exposition(const char *text)
{
    char typed[64][96];
    size_t nt = 0;
    ck_assert(text[0] && text[strlen(text) - 1] == '\n');
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        char *line = strndup(p, n);
        ck_assert_ptr_nonnull(line);
        if (strncmp(line, "# TYPE ", 7) == 0) {
            ck_assert_uint_lt(nt, 64);
            sscanf(line + 7, "%95s", typed[nt++]);
        } else if (line[0] != '#') {
            size_t k = strcspn(line, "{ ");
            ck_assert_msg(k > 0 && (isalpha((unsigned char)line[0]) || line[0] == '_'), "bad name: %s", line);
            int known = 0;
            for (size_t i = 0; i < nt; i++)
                if (strlen(typed[i]) == k && strncmp(typed[i], line, k) == 0) known = 1;
            ck_assert_msg(known, "sample before its TYPE: %s", line);
            char *end, *v = strrchr(line, ' ');
            ck_assert_ptr_nonnull(v);
            strtod(v + 1, &end);
            ck_assert_msg(*end == '\0' && end > v + 1, "bad value: %s", line);
        }
        free(line);
        p += n + (p[n] ? 1 : 0);
    }
}

START_TEST(prometheus_on_a_day)
{
    char *dir = ds_tmpdir();
    char *db = ds_day_db(dir, 60, 1);
    /* A group name with every character the format escapes. */
    ds_sql(db, "UPDATE dashspec_plan SET group_name = 'a\"b\\c' || char(10) || 'd' WHERE key = 'excluded_sites'");
    ds_proc p;
    DS_RUN(&p, "status", "--db", db, "--now", DS_DAY_END, "--format", "prometheus");
    ck_assert_msg(p.status == 0, "%s", p.err);
    check_exposition(p.out);
    ck_assert_ptr_nonnull(strstr(p.out, "dashspec_item_fresh{key=\"excluded_sites\",group=\"a\\\"b\\\\c\\nd\"} "));
    ck_assert_uint_eq(count(p.out, "\ndashspec_item_fresh{"), 20);
    ck_assert_double_eq(sample(p.out, "dashspec_item_failures_total{key=\"flaky_metric\""),
                        sql_ll(db, "SELECT count(*) FROM dashspec_history WHERE cache_key = 'flaky_metric' AND ok = 0"));
    ck_assert_double_eq(sample(p.out, "dashspec_item_failures_total{key=\"flaky_metric\""), DS_DAY_FLAKY_FAILS(60));
    ck_assert_double_eq(sample(p.out, "dashspec_last_run_timestamp_seconds "),
                        sql_ll(db, "SELECT unixepoch(started_at) FROM dashspec_runs ORDER BY id DESC LIMIT 1"));
    ck_assert_double_eq(sample(p.out, "dashspec_item_age_seconds{key=\"pipeline_funnel\""),
                        sql_ll(db, "SELECT unixepoch('" DS_DAY_END "') - unixepoch(created_at) FROM dashboard_cache "
                                   "WHERE cache_key = 'pipeline_funnel'"));
    ck_assert_double_eq(sample(p.out, "dashspec_items{state=\"fresh\"}"),
                        sql_ll(db, "SELECT count(*) FROM dashboard_cache WHERE expires_at > '" DS_DAY_END "'"));
    char *f = ds_write(dir, "dashspec.prom", p.out);
    if (have("promtool")) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "promtool check metrics < '%s' > '%s.log' 2>&1", f, f);
        int rc = system(cmd);
        snprintf(cmd, sizeof cmd, "%s.log", f);
        char *log = ds_slurp(cmd);
        ck_assert_msg(rc == 0, "promtool check metrics failed:\n%s", log ? log : "");
        free(log);
    } else {
        ck_assert_msg(!env_on("DS_PROMTOOL"), "promtool is MISSING (apt-get install prometheus); "
                      "DS_PROMTOOL=1 requires it");
        fprintf(stderr, "\n*** check_report: promtool is MISSING: the exposition format was checked by this "
                        "test only, not by promtool (make test-browser requires it) ***\n\n");
    }
    free(f);
    ds_proc_free(&p);

    DS_RUN(&p, "status", "--db", db, "--format", "yaml");
    ck_assert_int_eq(p.status, 2);
    ds_proc_free(&p);
    free(db);
    ds_tmp_cleanup(dir);
}
END_TEST

/* Puts hostile text where the page shows database strings: a series name,
 * a table cell, an error message. */
static void poison(const char *db)
{
    char q[1024];
    snprintf(q, sizeof q, "UPDATE dashboard_cache SET cache_value = '{\"x\":[\"a\",\"b\"],\"series\":{\"%s\":[1,2]}}' "
                          "WHERE cache_key = 'hourly_status_breakdown_48h'", hostile);
    ds_sql(db, q);
    snprintf(q, sizeof q, "UPDATE dashboard_cache SET cache_value = '[{\"stage\":\"%s\",\"n\":1}]' "
                          "WHERE cache_key = 'error_breakdown'", hostile);
    ds_sql(db, q);
    snprintf(q, sizeof q, "UPDATE dashspec_state SET failures = 1, last_error = '%s' WHERE cache_key = 'excluded_sites'",
             hostile);
    ds_sql(db, q);
}

/* The page's structure: one article per plan item, one chart per chart
 * item, no script anywhere, nothing fetched from elsewhere. */
static void check_page(const char *html, const char *db)
{
    ck_assert_uint_eq(count(html, "<article class=\"item "), (size_t)sql_ll(db, "SELECT count(*) FROM dashspec_plan"));
    ck_assert_uint_eq(count(html, "<svg class=\"chart\""),
                      (size_t)sql_ll(db, "SELECT count(*) FROM dashspec_plan WHERE kind = 'chart'"));
    ck_assert_uint_eq(count(html, "<svg class=\"chart\""), 8);
    ck_assert_ptr_null(strcasestr(html, "<script"));
    ck_assert_ptr_null(strcasestr(html, " src="));
    ck_assert_ptr_null(strcasestr(html, " href="));
    ck_assert_ptr_null(strcasestr(html, "<link"));
    ck_assert_ptr_null(strcasestr(html, "url("));
    ck_assert_ptr_nonnull(strstr(html, "computes"));
}

static char *write_report(const char *dir, const char *db, const char *name)
{
    char *out = ds_write(dir, name, "old");
    ds_proc p;
    DS_RUN(&p, "report", "--db", db, "--now", DS_DAY_END, "--out", out);
    ck_assert_msg(p.status == 0, "report: %s", p.err);
    ck_assert_ptr_nonnull(strstr(p.out, "wrote "));
    ds_proc_free(&p);
    return out;
}

START_TEST(report_page_on_a_day)
{
    char *dir = ds_tmpdir();
    char *db = ds_day_db(dir, 60, 1);
    char *out = write_report(dir, db, "report.html");
    char *html = ds_slurp(out);
    ck_assert_ptr_nonnull(html);
    check_page(html, db);
    ck_assert_ptr_nonnull(strstr(html, "data-key=\"flaky_metric\""));
    free(html);
    free(out);

    poison(db);
    out = write_report(dir, db, "hostile.html");
    html = ds_slurp(out);
    check_page(html, db);
    ck_assert_ptr_null(strstr(html, hostile));
    ck_assert_uint_eq(count(html, hostile_esc), 3);
    /* Atomic: nothing but the pages (and the test's own files) in dir. */
    DIR *dd = opendir(dir);
    ck_assert_ptr_nonnull(dd);
    for (struct dirent *e; (e = readdir(dd));)
        ck_assert_msg(!strstr(e->d_name, ".tmp"), "left behind: %s", e->d_name);
    closedir(dd);
    struct stat st;
    ck_assert_int_eq(stat(out, &st), 0);
    ck_assert_msg(st.st_mode & 0044, "the page is not readable by others: %o", (unsigned)st.st_mode);
    free(html);
    free(out);

    ds_proc p;
    DS_RUN(&p, "report", "--db", db);
    ck_assert_int_eq(p.status, 2);
    ds_proc_free(&p);
    DS_RUN(&p, "report", "--db", db, "--out", "/nonexistent-dir/x.html");
    ck_assert_int_eq(p.status, 1);
    ck_assert_ptr_nonnull(strstr(p.err, "cannot write"));
    ds_proc_free(&p);
    free(db);
    ds_tmp_cleanup(dir);
}
END_TEST

/* Headless Chromium: the DOM it builds from the page (--dump-dom), and a
 * screenshot under build/. */
static char *chromium_dom(const char *dir, const char *page, const char *shot)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "chromium --headless --no-sandbox --disable-gpu --user-data-dir='%s/chrome' "
                              "--dump-dom 'file://%s' > '%s.dom' 2>/dev/null", dir, page, page);
    ck_assert_msg(system(cmd) == 0, "chromium --dump-dom failed");
    if (shot) {
        snprintf(cmd, sizeof cmd, "chromium --headless --no-sandbox --disable-gpu --user-data-dir='%s/chrome' "
                                  "--hide-scrollbars --screenshot='%s' --window-size=1280,2400 'file://%s' >/dev/null 2>&1",
                 dir, shot, page);
        ck_assert_msg(system(cmd) == 0, "chromium --screenshot failed");
        struct stat st;
        ck_assert_msg(stat(shot, &st) == 0 && st.st_size > 10000, "no screenshot at %s", shot);
    }
    snprintf(cmd, sizeof cmd, "%s.dom", page);
    char *dom = ds_slurp(cmd);
    ck_assert_ptr_nonnull(dom);
    return dom;
}

START_TEST(report_in_a_real_browser)
{
    if (!env_on("DS_BROWSER")) {
        fprintf(stderr, "check_report: report_in_a_real_browser runs under make test-browser (DS_BROWSER=1)\n");
        return;
    }
    ck_assert_msg(have("chromium"), "chromium is MISSING (apt-get install chromium)");
    char *dir = ds_tmpdir();
    char *db = ds_day_db(dir, 60, 0);
    char *out = write_report(dir, db, "report.html");
    char *shot = ds_src("build/report.png");
    char *dom = chromium_dom(dir, out, shot);
    check_page(dom, db);
    ck_assert_ptr_nonnull(strstr(dom, "</body>"));
    free(dom);
    free(out);

    poison(db);
    out = write_report(dir, db, "hostile.html");
    dom = chromium_dom(dir, out, NULL);
    check_page(dom, db);
    /* The browser parsed it as text: serialized back, it is escaped again. */
    ck_assert_ptr_null(strstr(dom, hostile));
    ck_assert_uint_ge(count(dom, "&lt;/svg&gt;&lt;script&gt;alert(1)&lt;/script&gt;"), 3);
    free(dom);
    free(out);
    free(shot);
    free(db);
    ds_tmp_cleanup(dir);
}
END_TEST

Suite *report_suite(void)
{
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("report");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, prometheus_on_a_day);
    tcase_add_test(tc, report_page_on_a_day);
    tcase_add_test(tc, report_in_a_real_browser);
    suite_add_tcase(s, tc);
    return s;
}

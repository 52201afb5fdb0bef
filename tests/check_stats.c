/*
 * check_stats.c — the history and `dashspec stats`: percentiles and
 * freshness over hand-made histories (pure), then a simulated day of cron
 * runs on the example database whose figures are checked against
 * dashspec_runs, dashspec_history and dashboard_cache computed independently
 * in SQL; retention follows keep_runs; a database without the history reads
 * as empty.
 */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ds_day.h"
#include "ds_history.h"
#include "ds_test.h"

/* ---------------------------------------------------------------- pure */

START_TEST(percentile_nearest_rank)
{
    int64_t v[20];
    for (int i = 0; i < 20; i++) v[i] = i + 1;
    ck_assert_int_eq(ds_percentile(v, 10, 50), 5);
    ck_assert_int_eq(ds_percentile(v, 10, 95), 10);
    ck_assert_int_eq(ds_percentile(v, 20, 95), 19);
    ck_assert_int_eq(ds_percentile(v, 20, 100), 20);
    ck_assert_int_eq(ds_percentile(v, 1, 50), 1);
    ck_assert_int_eq(ds_percentile(v, 0, 50), -1);
}
END_TEST

static ds_hist_attempt att(const char *key, int64_t at, int ok, int64_t dur, int64_t exp)
{
    ds_hist_attempt a = {at, (char *)key, ok, dur, ok ? 3 : -1, ok ? 100 + at : -1, ok ? exp : 0,
                         ok ? NULL : (char *)"boom"};
    return a;
}

START_TEST(freshness_and_streaks)
{
    /* Period [1000, 2000]. a: a value live from before the period, a gap,
     * two failures, two overlapping values; b: in the plan, never run. */
    ds_hist_attempt a[] = {
        att("a", 900, 1, 10, 1100), att("a", 1200, 1, 20, 1500), att("a", 1500, 0, 30, 0),
        att("a", 1600, 0, -1, 0), att("a", 1700, 1, 40, 1800), att("a", 1750, 1, 50, 1850),
        att("c", 1100, 1, 150, 3000),
    };
    ds_hist_run r[] = {{1000, 1001, 70, 2, 2, 0, 1, "ok"}, {1500, 1501, 30, 1, 0, 1, 0, "partial"},
                       {1700, 1701, 90, 2, 2, 0, 0, "ok"}};
    ds_history h = {a, sizeof a / sizeof *a, r, 3};
    const char *keys[] = {"a", "b"}, *groups[] = {"g", NULL};
    ds_stats s;
    ck_assert_int_eq(ds_stats_compute(&h, keys, groups, 2, NULL, 0, 1000, 2000, &s), 0);
    ck_assert_uint_eq(s.n, 3);
    const ds_item_stats *x = &s.items[0];
    ck_assert_str_eq(x->key, "a");
    ck_assert_str_eq(x->group, "g");
    ck_assert_int_eq(x->computes, 3);          /* 900 is before the period */
    ck_assert_int_eq(x->failures, 2);
    ck_assert_int_eq(x->longest_streak, 2);
    ck_assert_int_eq(x->p50_ms, 30);           /* of 20, 30, 40, 50 */
    ck_assert_int_eq(x->p95_ms, 50);
    ck_assert_int_eq(x->max_ms, 50);
    ck_assert_int_eq(x->total_ms, 140);
    ck_assert_int_eq(x->bytes, 1850);          /* the newest value's */
    /* [1000,1100) + [1200,1500) + [1700,1850) = 550 of 1000 */
    ck_assert_double_eq_tol(x->fresh_pct, 55.0, 1e-9);
    ck_assert_int_eq(x->longest_gap_s, 200);   /* 1500 .. 1700 */
    ck_assert_str_eq(x->last_error, "boom");
    const ds_item_stats *y = &s.items[1];
    ck_assert_str_eq(y->key, "b");
    ck_assert_ptr_null(y->group);
    ck_assert_int_eq(y->computes, 0);
    ck_assert_int_eq(y->p50_ms, -1);
    ck_assert_double_eq_tol(y->fresh_pct, 0.0, 1e-9);
    ck_assert_int_eq(y->longest_gap_s, 1000);
    ck_assert_str_eq(s.items[2].key, "c");      /* only in the history */
    ck_assert_double_eq_tol(s.items[2].fresh_pct, 90.0, 1e-9);
    ck_assert_double_eq_tol(x->share, 140.0 / 290.0, 1e-9);
    ck_assert_int_eq(s.runs.runs, 3);
    ck_assert_int_eq(s.runs.p50_ms, 70);
    ck_assert_int_eq(s.runs.partial, 1);
    ck_assert_int_eq(s.runs.skipped, 1);
    ds_stats_free(&s);

    const char *pats[] = {"[ab]"};
    ck_assert_int_eq(ds_stats_compute(&h, keys, groups, 2, pats, 1, 1000, 2000, &s), 0);
    ck_assert_uint_eq(s.n, 2);
    ck_assert_str_eq(s.items[1].key, "b");
    ds_buf b;
    ds_buf_init(&b);
    ds_stats_json(&s, &b);
    cJSON *j = cJSON_Parse(b.p);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "items")), 2);
    cJSON_Delete(j);
    ds_buf_free(&b);
    ds_stats_free(&s);
}
END_TEST

/* ---------------------------------------------------------------- the day */

static double sql_num(const char *db, const char *sql)
{
    char *t = ds_sql_text(db, sql);
    ck_assert_msg(t != NULL, "no value: %s", sql);
    double v = atof(t);
    free(t);
    return v;
}

static double jnum(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    ck_assert_msg(cJSON_IsNumber(v), "%s is not a number", name);
    return v->valuedouble;
}

#define RUNS_IN "FROM dashspec_runs WHERE started_at >= '" DS_DAY_START "' AND started_at <= '" DS_DAY_END "'"
#define P_FROM "unixepoch('" DS_DAY_START "')"
#define P_TO "unixepoch('" DS_DAY_END "')"

/* The nearest-rank percentile p of a column over rows, in SQL. */
static double sql_pct(const char *db, const char *col, const char *from_where, int p)
{
    char q[2048];
    snprintf(q, sizeof q, "SELECT %s %s AND %s IS NOT NULL ORDER BY %s LIMIT 1 OFFSET "
                          "(SELECT (count(*) * %d + 99) / 100 - 1 %s AND %s IS NOT NULL)",
             col, from_where, col, col, p, from_where, col);
    return sql_num(db, q);
}

/* One item of stats --json against the history, in SQL. */
static void check_item(const char *db, const cJSON *it)
{
    const char *key = cJSON_GetObjectItem(it, "key")->valuestring;
    char w[512], q[4096];
    snprintf(w, sizeof w, "FROM dashspec_history WHERE cache_key = '%s' AND at >= " P_FROM " AND at <= " P_TO, key);
    snprintf(q, sizeof q, "SELECT count(*) %s AND ok = 1", w);
    ck_assert_msg(jnum(it, "computes") == sql_num(db, q), "%s: computes", key);
    snprintf(q, sizeof q, "SELECT count(*) %s AND ok = 0", w);
    ck_assert_msg(jnum(it, "failures") == sql_num(db, q), "%s: failures", key);
    if (jnum(it, "computes") + jnum(it, "failures") > 0) {
        ck_assert_msg(jnum(it, "p50_ms") == sql_pct(db, "duration_ms", w, 50), "%s: p50", key);
        ck_assert_msg(jnum(it, "p95_ms") == sql_pct(db, "duration_ms", w, 95), "%s: p95", key);
    }
    /* The newest value's size is the cached row's. */
    snprintf(q, sizeof q, "SELECT length(CAST(cache_value AS BLOB)) FROM dashboard_cache WHERE cache_key = '%s'", key);
    ck_assert_msg(jnum(it, "bytes") == sql_num(db, q), "%s: bytes", key);
    /* Freshness: the union of [at, expires_at) clipped to the period, by a
     * running maximum of the ends (window function), over its length. */
    snprintf(q, sizeof q,
             "WITH iv AS (SELECT id, max(at, " P_FROM ") AS s, min(expires_at, " P_TO ") AS e "
             "  FROM dashspec_history WHERE cache_key = '%s' AND ok = 1), "
             "w AS (SELECT s, e, max(e) OVER (ORDER BY s, id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS pe "
             "  FROM iv WHERE e > s) "
             "SELECT printf('%%.9f', 100.0 * coalesce(sum(max(0, e - max(s, coalesce(pe, s)))), 0) / (" P_TO " - " P_FROM ")) FROM w",
             key);
    ck_assert_msg(fabs(jnum(it, "fresh_pct") - sql_num(db, q)) < 1e-6, "%s: fresh_pct %g, SQL %g", key,
                  jnum(it, "fresh_pct"), sql_num(db, q));
}

START_TEST(simulated_day_matches_sql)
{
    char *dir = ds_tmpdir();
    char *db = ds_day_db(dir, 30, 1);
    /* Every attempt left one history row: the runs' counts add up. */
    ck_assert_double_eq(sql_num(db, "SELECT count(*) FROM dashspec_history"),
                        sql_num(db, "SELECT sum(items_ok + items_failed) FROM dashspec_runs"));
    ds_proc p;
    DS_RUN(&p, "stats", "--db", db, "--now", DS_DAY_END, "--since", "24h", "--json");
    ck_assert_msg(p.status == 0, "stats: %s", p.err);
    cJSON *j = cJSON_Parse(p.out);
    ck_assert_msg(j != NULL, "not JSON: %s", p.out);
    const cJSON *runs = cJSON_GetObjectItem(j, "runs");
    ck_assert_double_eq(jnum(runs, "count"), ds_day_runs(30));
    ck_assert_double_eq(jnum(runs, "count"), sql_num(db, "SELECT count(*) " RUNS_IN));
    ck_assert_double_eq(jnum(runs, "p50_ms"), sql_pct(db, "duration_ms", RUNS_IN " AND 1", 50));
    ck_assert_double_eq(jnum(runs, "p95_ms"), sql_pct(db, "duration_ms", RUNS_IN " AND 1", 95));
    ck_assert_double_eq(jnum(runs, "skipped"), sql_num(db, "SELECT sum(skipped) " RUNS_IN));
    ck_assert_double_eq(jnum(runs, "partial"), sql_num(db, "SELECT count(*) " RUNS_IN " AND status = 'partial'"));
    ck_assert_double_eq(jnum(runs, "failed"), sql_num(db, "SELECT count(*) " RUNS_IN " AND status = 'failed'"));
    ck_assert_double_eq(jnum(runs, "partial"), DS_DAY_FLAKY_FAILS(30));
    const cJSON *items = cJSON_GetObjectItem(j, "items");
    ck_assert_int_eq(cJSON_GetArraySize(items), 20);    /* 19 example items + flaky */
    double share = 0;
    int flaky = 0;
    for (const cJSON *it = items->child; it; it = it->next) {
        check_item(db, it);
        share += jnum(it, "share");
        if (strcmp(cJSON_GetObjectItem(it, "key")->valuestring, "flaky_metric") == 0) {
            flaky = 1;
            ck_assert_double_eq(jnum(it, "failures"), DS_DAY_FLAKY_FAILS(30));
            ck_assert_double_eq(jnum(it, "longest_failure_streak"), DS_DAY_FLAKY_FAILS(30));
            ck_assert(cJSON_IsString(cJSON_GetObjectItem(it, "last_error")));
            ck_assert(jnum(it, "fresh_pct") < 100.0);
        }
    }
    ck_assert(flaky);
    ck_assert_double_eq_tol(share, 1.0, 1e-9);
    cJSON_Delete(j);
    ds_proc_free(&p);

    /* The text form, and --select. */
    DS_RUN(&p, "stats", "--db", db, "--now", DS_DAY_END, "--select", "flaky_*", "--select", "llm_*");
    ck_assert_int_eq(p.status, 0);
    ck_assert_ptr_nonnull(strstr(p.out, "flaky_metric"));
    ck_assert_ptr_nonnull(strstr(p.out, "llm_daily_costs_30d"));
    ck_assert_ptr_null(strstr(p.out, "pipeline_funnel"));
    char want[64];
    snprintf(want, sizeof want, "runs: %d ", ds_day_runs(30));
    ck_assert_msg(strstr(p.out, want), "no '%s' in:\n%s", want, p.out);
    ds_proc_free(&p);
    free(db);
    ds_tmp_cleanup(dir);
}
END_TEST

START_TEST(retention_follows_keep_runs)
{
    char *dir = ds_tmpdir();
    char *db = ds_day_db(dir, 120, 1);     /* 13 runs */
    ds_sql(db, "INSERT OR REPLACE INTO dashspec_settings (name, value) VALUES ('keep_runs', 5)");
    ds_proc p;
    DS_RUN(&p, "run", "--db", db, "--now", "2026-02-12 10:30:00", "--quiet");
    ck_assert_int_le(p.status, 1);
    ds_proc_free(&p);
    ck_assert_double_eq(sql_num(db, "SELECT count(*) FROM dashspec_runs"), 5);
    /* Nothing older than the oldest kept run, and every kept run's rows. */
    ck_assert_double_eq(sql_num(db, "SELECT count(*) FROM dashspec_history WHERE at < "
                                    "(SELECT strftime('%s', min(started_at)) FROM dashspec_runs)"), 0);
    ck_assert_double_eq(sql_num(db, "SELECT count(*) FROM dashspec_history"),
                        sql_num(db, "SELECT sum(items_ok + items_failed) FROM dashspec_runs"));
    free(db);
    ds_tmp_cleanup(dir);
}
END_TEST

START_TEST(without_history_and_usage)
{
    char *dir = ds_tmpdir();
    char *mig = ds_src("migrations/sqlite/001-init.sql");
    char *sql = ds_slurp(mig);
    ck_assert_ptr_nonnull(sql);
    char *db = ds_write(dir, "old.db", "");
    ds_sql(db, sql);            /* a database from before migration 002 */
    ds_proc p;
    DS_RUN(&p, "stats", "--db", db, "--json", "--now", DS_DAY_END);
    ck_assert_msg(p.status == 0, "%s", p.err);
    ck_assert_ptr_nonnull(strstr(p.out, "\"count\":0"));
    ds_proc_free(&p);
    DS_RUN(&p, "stats", "--db", db, "--since", "yesterday");
    ck_assert_int_eq(p.status, 2);
    ck_assert_ptr_nonnull(strstr(p.err, "--since"));
    ds_proc_free(&p);
    DS_RUN(&p, "stats", "--db", db, "--since", "0s");
    ck_assert_int_eq(p.status, 2);
    ds_proc_free(&p);
    free(db);
    free(sql);
    free(mig);
    ds_tmp_cleanup(dir);
}
END_TEST

Suite *stats_suite(void)
{
    Suite *s = suite_create("stats");
    TCase *tc = tcase_create("stats");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, percentile_nearest_rank);
    tcase_add_test(tc, freshness_and_streaks);
    tcase_add_test(tc, simulated_day_matches_sql);
    tcase_add_test(tc, retention_follows_keep_runs);
    tcase_add_test(tc, without_history_and_usage);
    suite_add_tcase(s, tc);
    return s;
}

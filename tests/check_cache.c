/*
 * check_cache.c — the writer (engine/sqlite/sqlite_writer.c): what a success and a failure
 * write, the writer's authorizer, the run log and its retention, and the
 * watch helpers (data_version, plan fingerprint).
 */
#include "sqlite/sqlite_int.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ds_cache.h"
#include "ds_test.h"

static char *dir, path[4096];
static ds_db *db;
static ds_writer *w;
static ds_diag d;
static int64_t T0;

static void setup(void)
{
    dir = ds_tmpdir();
    snprintf(path, sizeof path, "%s/c.db", dir);
    ds_sql(path, "CREATE TABLE app (v INTEGER); INSERT INTO app VALUES (1);");
    ck_assert_int_eq(ds_time_parse("2026-02-12 10:00:00", &T0), 0);
    ds_diag_init(&d);
    ck_assert_int_eq(ds_db_open(path, DS_DB_READWRITE, &db, &d), 0);
    ck_assert_int_eq(ds_db_migrate(db, &d), 0);
    w = ds_writer_new(db, &d);
    ck_assert_ptr_nonnull(w);
}

static void teardown(void)
{
    ds_writer_free(w);
    ds_db_close(db);
    ds_diag_free(&d);
    ds_tmp_cleanup(dir);
}

static ds_item item(const char *key)
{
    ds_item it;
    memset(&it, 0, sizeof it);
    it.key = (char *)key;
    it.ttl = 900;
    it.refresh = 300;
    strcpy(it.hash, "0123456789abcdef");
    return it;
}

static void assert_q(const char *sql, const char *want)
{
    char *v = ds_sql_text(path, sql);
    ck_assert_msg(v && strcmp(v, want) == 0, "%s: got '%s', want '%s'", sql, v ? v : "(null)", want);
    free(v);
}

START_TEST(put_writes_value_and_state)
{
    ds_item it = item("k");
    ds_result r = {.json = "[1,2]", .len = 5, .entries = 2, .duration_ms = 7};
    char *err = NULL;
    ck_assert_int_eq(ds_cache_put(w, &it, &r, T0, 1000, &err, &d), DS_W_OK);
    assert_q("SELECT cache_value || '|' || created_at || '|' || expires_at FROM dashboard_cache",
             "[1,2]|2026-02-12 10:00:00|2026-02-12 10:15:00");
    assert_q("SELECT last_attempt || '|' || last_success || '|' || last_duration_ms || '|' || entries || '|' ||"
             " failures || '|' || next_attempt || '|' || spec_hash || '|' || value_bytes || '|' || (last_error IS NULL)"
             " FROM dashspec_state",
             "2026-02-12 10:00:00|2026-02-12 10:00:00|7|2|0|2026-02-12 10:05:00|0123456789abcdef|5|1");

    /* A failure touches only the state: 1, 2, 4 minutes of backoff, capped at refresh (5m). */
    const char *next[] = {"2026-02-12 10:11:00", "2026-02-12 10:12:00", "2026-02-12 10:14:00", "2026-02-12 10:15:00"};
    for (int f = 0; f < 4; f++) {
        ck_assert_int_eq(ds_cache_fail_timed(w, &it, f, "no such table: x", 30000, T0 + 600, 1000, &err, &d), DS_W_OK);
        char want[128];
        snprintf(want, sizeof want, "%d|no such table: x|%s|2026-02-12 10:10:00|30000", f + 1, next[f]);
        assert_q("SELECT failures || '|' || last_error || '|' || next_attempt || '|' || last_attempt || '|' ||"
                 " last_duration_ms FROM dashspec_state", want);
    }
    /* without a duration, the last one stays */
    ck_assert_int_eq(ds_cache_fail(w, &it, 4, "again", T0 + 900, 1000, &err, &d), DS_W_OK);
    assert_q("SELECT failures || '|' || last_duration_ms || '|' || last_success FROM dashspec_state",
             "5|30000|2026-02-12 10:00:00");
    assert_q("SELECT cache_value || '|' || created_at FROM dashboard_cache", "[1,2]|2026-02-12 10:00:00");

    /* The next success resets the state and replaces the value. */
    ds_result r2 = {.json = "[3]", .len = 3, .entries = 1, .duration_ms = 2};
    ck_assert_int_eq(ds_cache_put(w, &it, &r2, T0 + 1000, 1000, &err, &d), DS_W_OK);
    assert_q("SELECT cache_value || '|' || count(*) FROM dashboard_cache", "[3]|1");
    assert_q("SELECT failures || '|' || (last_error IS NULL) || '|' || entries FROM dashspec_state", "0|1|1");
    ck_assert_uint_eq(d.nerrors, 0);
}
END_TEST

START_TEST(writer_may_write_only_its_tables)
{
    sqlite3 *h = ds_sqlite_handle(db);
    static const char *const refused[] = {
        "INSERT INTO app VALUES (2)", "DELETE FROM app", "UPDATE app SET v = 3",
        "CREATE TABLE x (a)", "DROP TABLE app", "ATTACH ':memory:' AS m", "PRAGMA writable_schema = 1",
        "PRAGMA journal_mode = WAL", "CREATE TEMP TABLE t (a)", "ALTER TABLE app ADD COLUMN w",
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(h, refused[i], -1, &st, NULL);
        ck_assert_msg(rc != SQLITE_OK, "the writer may run: %s", refused[i]);
        sqlite3_finalize(st);
    }
    static const char *const allowed[] = {
        "DELETE FROM dashboard_cache WHERE 0", "UPDATE dashspec_state SET failures = 0 WHERE 0",
        "SELECT count(*) FROM app", "PRAGMA data_version", "PRAGMA journal_mode",
    };
    for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(h, allowed[i], -1, &st, NULL);
        ck_assert_msg(rc == SQLITE_OK, "the writer may not run %s: %s", allowed[i], sqlite3_errmsg(h));
        sqlite3_finalize(st);
    }
    assert_q("SELECT count(*) FROM app", "1");
}
END_TEST

START_TEST(run_log_keeps_the_newest)
{
    /* A full log (DS_RUNS_KEEP rows), then one more run: the oldest goes. */
    char sql[512];
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c LIMIT %d)"
             " INSERT INTO dashspec_runs (id, started_at, finished_at, status, items_run, items_ok, items_failed,"
             " skipped, entries, duration_ms, summary) SELECT n, 'a', 'b', 'ok', 0, 0, 0, 0, 0, 0, '{}' FROM c",
             DS_RUNS_KEEP);
    ds_sql(path, sql);
    ds_run_record rec = {.started_at = T0, .finished_at = T0 + 2, .status = "partial", .items_run = 3,
                         .items_ok = 2, .items_failed = 1, .skipped = 4, .entries = 9, .duration_ms = 1500,
                         .summary = "{\"summary\":\"x\"}"};
    char *err = NULL;
    ck_assert_int_eq(ds_cache_record_run(w, &rec, 1000, &err, &d), DS_W_OK);
    snprintf(sql, sizeof sql, "%d|2", DS_RUNS_KEEP);
    assert_q("SELECT count(*) || '|' || min(id) FROM dashspec_runs", sql);
    assert_q("SELECT started_at || '|' || finished_at || '|' || status || '|' || items_run || '|' || items_ok || '|' ||"
             " items_failed || '|' || skipped || '|' || entries || '|' || duration_ms || '|' || summary"
             " FROM dashspec_runs ORDER BY id DESC LIMIT 1",
             "2026-02-12 10:00:00|2026-02-12 10:00:02|partial|3|2|1|4|9|1500|{\"summary\":\"x\"}");
}
END_TEST

START_TEST(locked_database_fails_the_item)
{
    sqlite3 *other = NULL;
    ck_assert_int_eq(sqlite3_open(path, &other), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    ds_item it = item("k");
    ds_result r = {.json = "1", .len = 1, .entries = 1};
    char *err = NULL;
    ck_assert_int_eq(ds_cache_put(w, &it, &r, T0, 50, &err, &d), DS_W_BUSY);
    ck_assert_str_eq(err, "database is locked");
    free(err);
    err = NULL;
    ck_assert_int_eq(ds_cache_fail(w, &it, 0, "x", T0, 0, &err, &d), DS_W_BUSY);
    free(err);
    ck_assert_int_eq(d.status, DS_OK);     /* an item's failure, not the database's */
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other);
    err = NULL;
    ck_assert_int_eq(ds_cache_put(w, &it, &r, T0, 50, &err, &d), DS_W_OK);
}
END_TEST

START_TEST(watch_helpers_notice_a_new_plan)
{
    int64_t v1, v2;
    uint64_t f1, f2, f3;
    ck_assert_int_eq(ds_cache_data_version(w, &v1), 0);
    ck_assert_int_eq(ds_cache_plan_fingerprint(w, &f1), 0);
    /* our own writes do not move data_version */
    ds_item it = item("k");
    ds_result r = {.json = "1", .len = 1, .entries = 1};
    char *err = NULL;
    ck_assert_int_eq(ds_cache_put(w, &it, &r, T0, 50, &err, &d), DS_W_OK);
    ck_assert_int_eq(ds_cache_data_version(w, &v2), 0);
    ck_assert_int_eq(v1, v2);
    ds_sql(path, "INSERT INTO dashspec_plan (key, kind, shape, sql, ttl, refresh, timeout, max_rows, max_bytes,"
                 " source, spec_hash, sqlite_version, compiled_at) VALUES ('a', 'metric', 'scalar', 'SELECT 1',"
                 " 60, 40, 30, 1000, 1000, 'x.yaml:1', 'h', '3', 'now')");
    ck_assert_int_eq(ds_cache_data_version(w, &v2), 0);
    ck_assert_int_ne(v1, v2);
    ck_assert_int_eq(ds_cache_plan_fingerprint(w, &f2), 0);
    ck_assert(f1 != f2);
    ds_sql(path, "UPDATE dashspec_plan SET ttl = 61");
    ck_assert_int_eq(ds_cache_plan_fingerprint(w, &f3), 0);
    ck_assert(f3 != f2);
    ds_sql(path, "UPDATE dashspec_plan SET ttl = 60");
    ck_assert_int_eq(ds_cache_plan_fingerprint(w, &f3), 0);
    ck_assert(f3 == f2);
}
END_TEST

Suite *cache_suite(void)
{
    Suite *s = suite_create("cache");
    TCase *tc = tcase_create("cache");
    tcase_add_checked_fixture(tc, setup, teardown);
    /* A few file databases per test, under 0.2 s; 60 s leaves valgrind room. */
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, put_writes_value_and_state);
    tcase_add_test(tc, writer_may_write_only_its_tables);
    tcase_add_test(tc, run_log_keeps_the_newest);
    tcase_add_test(tc, locked_database_fails_the_item);
    tcase_add_test(tc, watch_helpers_notice_a_new_plan);
    suite_add_tcase(s, tc);
    return s;
}

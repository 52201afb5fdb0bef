/*
 * check_read.c — the library side of the reader commands (runtime/ds_read.c)
 * on temporary databases built with ds_sql: get, clear, migrate, status,
 * explain, preview, and the origin's "Monitor Cache" SQL on dashspec's cache.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <sqlite3.h>
#include "ds_cache.h"
#include "ds_compiler.h"
#include "ds_read.h"
#include "ds_test.h"

/* ---------------------------------------------------------------- fixtures */

typedef struct fx {
    char *dir;
    char *db;
} fx;

/* An empty database file with dashspec's tables. */
static void fx_open(fx *f)
{
    f->dir = ds_tmpdir();
    f->db = ds_write(f->dir, "app.db", "");
    ds_diag d;
    ds_diag_init(&d);
    int applied = -1;
    ck_assert_int_eq(ds_read_migrate(f->db, &applied, &d), DS_OK);
    ck_assert_int_eq(applied, 1);
    ds_diag_free(&d);
}

static void fx_close(fx *f)
{
    free(f->db);
    ds_tmp_cleanup(f->dir);
}

static int64_t T(const char *s)
{
    int64_t t;
    ck_assert_int_eq(ds_time_parse(s, &t), 0);
    return t;
}

/* Inserts one cache row. */
static void put(const char *db, const char *key, const char *value, const char *created, const char *expires)
{
    char *sql = ds_asprintf("INSERT OR REPLACE INTO dashboard_cache(cache_key, cache_value, created_at, expires_at)"
                            " VALUES('%s', '%s', '%s', '%s')", key, value, created, expires);
    ds_sql(db, sql);
    free(sql);
}

static int count_rows(const char *db, const char *table)
{
    char *sql = ds_asprintf("SELECT count(*) FROM %s", table);
    char *v = ds_sql_text(db, sql);
    ck_assert_ptr_nonnull(v);
    int n = atoi(v);
    free(v);
    free(sql);
    return n;
}

/* ---------------------------------------------------------------- get */

START_TEST(get_fresh_expired_missing)
{
    fx f;
    fx_open(&f);
    put(f.db, "funnel", "{\"new\":4,\"done\":9223372036854775807}", "2026-02-12 10:00:00", "2026-02-12 10:15:00");
    ds_diag d;
    ds_diag_init(&d);
    ds_value v;

    ck_assert_int_eq(ds_read_get(f.db, "funnel", T("2026-02-12 10:14:59"), 0, &v, &d), DS_OK);
    ck_assert_int_eq(v.found, 1);
    ck_assert_int_eq(v.fresh, 1);
    ck_assert_str_eq(v.json, "{\"new\":4,\"done\":9223372036854775807}");
    ck_assert_uint_eq(v.len, strlen(v.json));
    ds_value_free(&v);

    /* expires_at == now is no longer fresh: fresh means expires_at > now. */
    ck_assert_int_eq(ds_read_get(f.db, "funnel", T("2026-02-12 10:15:00"), 0, &v, &d), DS_NOVALUE);
    ck_assert_int_eq(v.found, 1);
    ck_assert_int_eq(v.fresh, 0);
    ck_assert_str_eq(v.expires_at, "2026-02-12 10:15:00");
    ds_value_free(&v);

    ck_assert_int_eq(ds_read_get(f.db, "funnel", T("2026-02-12 11:00:00"), 1, &v, &d), DS_OK);
    ck_assert_int_eq(v.fresh, 0);
    ck_assert_str_eq(v.json, "{\"new\":4,\"done\":9223372036854775807}");
    ds_value_free(&v);

    ck_assert_int_eq(ds_read_get(f.db, "nope", T("2026-02-12 10:00:00"), 1, &v, &d), DS_NOVALUE);
    ck_assert_int_eq(v.found, 0);
    ck_assert_ptr_null(v.json);
    ds_value_free(&v);
    ck_assert_uint_eq(d.nerrors, 0);
    ds_diag_free(&d);
    fx_close(&f);
}
END_TEST

START_TEST(get_without_table_or_file)
{
    char *dir = ds_tmpdir();
    char *empty = ds_write(dir, "empty.db", "");
    char *junk = ds_write(dir, "junk.db", "SQLite format 2? no, this is just a text file of some length........");
    char *missing = ds_asprintf("%s/missing.db", dir);
    ds_diag d;
    ds_diag_init(&d);
    ds_value v;
    /* No dashboard_cache: no value, not an error; and get created nothing. */
    ck_assert_int_eq(ds_read_get(empty, "k", 0, 0, &v, &d), DS_NOVALUE);
    ck_assert_int_eq(v.found, 0);
    ds_value_free(&v);
    ck_assert_uint_eq(d.nerrors, 0);
    struct stat st;
    ck_assert_int_eq(stat(empty, &st), 0);
    ck_assert_int_eq(st.st_size, 0);

    ck_assert_int_eq(ds_read_get(missing, "k", 0, 0, &v, &d), DS_DBERROR);
    ck_assert_int_eq(access(missing, F_OK), -1);
    ds_value_free(&v);
    ck_assert_int_eq(ds_read_get(junk, "k", 0, 0, &v, &d), DS_DBERROR);
    ds_value_free(&v);
    ck_assert_uint_eq(d.nerrors, 2);
    ds_diag_free(&d);
    free(empty); free(junk); free(missing);
    ds_tmp_cleanup(dir);
}
END_TEST

/* The origin's own table (migration 049) may lack created_at: get reads only
 * cache_value and expires_at. */
START_TEST(get_on_origin_table)
{
    char *dir = ds_tmpdir();
    char *db = ds_write(dir, "sites.db", "");
    ds_sql(db, "CREATE TABLE dashboard_cache (cache_key TEXT PRIMARY KEY, cache_value TEXT, expires_at DATETIME);"
               "INSERT INTO dashboard_cache VALUES ('x', '[1,2,3]', '2026-02-12 10:15:00'), ('n', NULL, '2026-02-12 10:15:00');");
    ds_diag d;
    ds_diag_init(&d);
    ds_value v;
    ck_assert_int_eq(ds_read_get(db, "x", T("2026-02-12 10:00:00"), 0, &v, &d), DS_OK);
    ck_assert_str_eq(v.json, "[1,2,3]");
    ds_value_free(&v);
    ck_assert_int_eq(ds_read_get(db, "n", T("2026-02-12 10:00:00"), 0, &v, &d), DS_OK);
    ck_assert_str_eq(v.json, "null");
    ds_value_free(&v);
    ds_diag_free(&d);
    free(db);
    ds_tmp_cleanup(dir);
}
END_TEST

/* ---------------------------------------------------------------- clear */

START_TEST(clear_globs_and_all)
{
    fx f;
    fx_open(&f);
    const char *keys[] = {"chart_a", "chart_b", "metric_a", "metric_b", "llm_1_cost", "llm_22_cost"};
    for (size_t i = 0; i < 6; i++) put(f.db, keys[i], "1", "2026-02-12 10:00:00", "2026-02-12 10:15:00");
    ds_sql(f.db, "INSERT INTO dashspec_state(cache_key, failures) VALUES ('chart_a', 2)");
    ds_diag d;
    ds_diag_init(&d);
    int64_t n = -1;
    const char *p1[] = {"chart_*"};
    ck_assert_int_eq(ds_read_clear(f.db, p1, 1, &n, &d), DS_OK);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(count_rows(f.db, "dashboard_cache"), 4);
    /* State keeps its history. */
    ck_assert_int_eq(count_rows(f.db, "dashspec_state"), 1);

    /* '?' is one character; a key and a glob together; overlapping matches count once. */
    const char *p2[] = {"llm_?_cost", "metric_a", "metric_[a]"};
    ck_assert_int_eq(ds_read_clear(f.db, p2, 3, &n, &d), DS_OK);
    ck_assert_int_eq(n, 2);
    char *left = ds_sql_text(f.db, "SELECT group_concat(cache_key, ',') FROM (SELECT cache_key FROM dashboard_cache ORDER BY 1)");
    ck_assert_str_eq(left, "llm_22_cost,metric_b");
    free(left);

    const char *p3[] = {"nothing*"};
    ck_assert_int_eq(ds_read_clear(f.db, p3, 1, &n, &d), DS_OK);
    ck_assert_int_eq(n, 0);

    ck_assert_int_eq(ds_read_clear(f.db, NULL, 0, &n, &d), DS_OK);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(count_rows(f.db, "dashboard_cache"), 0);
    ck_assert_uint_eq(d.nerrors, 0);
    ds_diag_free(&d);
    fx_close(&f);
}
END_TEST

START_TEST(clear_fails_cleanly)
{
    char *dir = ds_tmpdir();
    char *missing = ds_asprintf("%s/missing.db", dir);
    char *ro = ds_write(dir, "ro.db", "");
    ds_sql(ro, "CREATE TABLE dashboard_cache(cache_key TEXT PRIMARY KEY, cache_value TEXT NOT NULL,"
               " created_at TEXT NOT NULL, expires_at TEXT NOT NULL);"
               "INSERT INTO dashboard_cache VALUES('k','1','2026-01-01 00:00:00','2026-01-01 00:15:00');");
    ck_assert_int_eq(chmod(ro, 0444), 0);
    ds_diag d;
    ds_diag_init(&d);
    int64_t n = -1;
    ck_assert_int_eq(ds_read_clear(missing, NULL, 0, &n, &d), DS_DBERROR);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(access(missing, F_OK), -1);
    if (geteuid() != 0) {   /* root writes through 0444 */
        ck_assert_int_eq(ds_read_clear(ro, NULL, 0, &n, &d), DS_DBERROR);
        ck_assert_int_eq(count_rows(ro, "dashboard_cache"), 1);
    }
    ck_assert_uint_ge(d.nerrors, 1);
    ds_diag_free(&d);
    chmod(ro, 0644);
    free(missing);
    free(ro);
    ds_tmp_cleanup(dir);
}
END_TEST

/* A writer holding the database: clear waits its busy timeout, then fails
 * with DS_DBERROR and deletes nothing (one transaction). */
START_TEST(clear_is_one_transaction)
{
    fx f;
    fx_open(&f);
    put(f.db, "a", "1", "2026-02-12 10:00:00", "2026-02-12 10:15:00");
    put(f.db, "b", "1", "2026-02-12 10:00:00", "2026-02-12 10:15:00");
    ds_diag d;
    ds_diag_init(&d);
    ds_db *other = NULL;
    ck_assert_int_eq(ds_db_open(f.db, DS_DB_READWRITE, &other, &d), 0);
    ds_db *w = other;
    /* Hold a RESERVED lock through the seam's own connection. */
    ds_diag d2;
    ds_diag_init(&d2);
    ck_assert_int_eq(ds_db_exec_script(w, "lock", "BEGIN IMMEDIATE; DELETE FROM dashboard_cache WHERE cache_key='a';", &d2), 0);
    int64_t n = -1;
    ck_assert_int_eq(ds_read_clear(f.db, NULL, 0, &n, &d), DS_DBERROR);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(ds_db_exec_script(w, "unlock", "ROLLBACK;", &d2), 0);
    ds_db_close(other);
    ck_assert_int_eq(count_rows(f.db, "dashboard_cache"), 2);
    ds_diag_free(&d2);
    ds_diag_free(&d);
    fx_close(&f);
}
END_TEST

/* ---------------------------------------------------------------- migrate */

START_TEST(migrate_idempotent_never_creates)
{
    char *dir = ds_tmpdir();
    char *missing = ds_asprintf("%s/missing.db", dir);
    char *db = ds_write(dir, "app.db", "");
    ds_sql(db, "CREATE TABLE sites(id INTEGER PRIMARY KEY, status TEXT);"
               "INSERT INTO sites(status) VALUES ('new'), ('done');");
    ds_diag d;
    ds_diag_init(&d);
    int applied = -1;
    ck_assert_int_eq(ds_read_migrate(missing, &applied, &d), DS_DBERROR);
    ck_assert_int_eq(access(missing, F_OK), -1);
    ck_assert_int_eq(applied, 0);
    ck_assert_int_eq(ds_read_migrate(db, &applied, &d), DS_OK);
    ck_assert_int_eq(applied, 1);
    ck_assert_int_eq(ds_read_migrate(db, &applied, &d), DS_OK);
    ck_assert_int_eq(applied, 0);
    ck_assert_int_eq(count_rows(db, "sites"), 2);
    ck_assert_int_eq(count_rows(db, "dashspec_plan"), 0);
    ck_assert_uint_eq(d.nerrors, 1);
    ds_diag_free(&d);
    free(missing);
    free(db);
    ds_tmp_cleanup(dir);
}
END_TEST

/* ---------------------------------------------------------------- plan fixtures */

/* An application table and a plan written the way `compile` stores it. */
static void fx_plan(fx *f)
{
    fx_open(f);
    ds_sql(f->db,
        "CREATE TABLE sites(id INTEGER PRIMARY KEY, status TEXT NOT NULL, created_at TEXT NOT NULL);"
        "CREATE INDEX sites_created ON sites(created_at);"
        "INSERT INTO sites(status, created_at) VALUES"
        " ('new', '2026-02-12 09:10:00'), ('new', '2026-02-12 08:20:00'), ('done', '2026-02-12 08:30:00'),"
        " ('done', '2026-02-11 09:00:00'), ('failed', '2026-02-01 00:00:00');"
        "INSERT INTO dashspec_plan(key, kind, shape, sql, params, ttl, refresh, timeout, max_rows, max_bytes,"
        " group_name, tags, options, description, source, spec_hash, sqlite_version, compiled_at) VALUES"
        " ('funnel', 'metric', 'map', 'SELECT status, COUNT(*) FROM sites GROUP BY status ORDER BY status',"
        "  '{}', 900, 600, 30, 1000, 1048576, 'overview', '[\"live\"]', '{}', 'Sites per status',"
        "  'specs/overview.yaml:4', '00000000000000f1', '3.40.1', '2026-02-12 09:00:00'),"
        " ('total', 'metric', 'scalar', 'SELECT COUNT(*) FROM sites WHERE created_at <= :now',"
        "  '{}', 900, 600, 30, 1000, 1048576, 'overview', '[]', '{}', NULL,"
        "  'specs/overview.yaml:9', '00000000000000f2', '3.40.1', '2026-02-12 09:00:00'),"
        " ('recent', 'metric', 'rows',"
        "  'SELECT id, status FROM sites WHERE created_at >= datetime(:now, ''-'' || :hours || '' hours'') AND status <> :skip ORDER BY id',"
        "  '{\"hours\":48,\"skip\":\"it''s\"}', 600, 300, 30, 1000, 1048576, NULL, '[]', '{}', NULL,"
        "  'specs/more.yaml:2', '00000000000000f3', '3.40.1', '2026-02-12 09:00:00'),"
        " ('hourly', 'chart', 'series',"
        "  'SELECT strftime(''%H:00'', created_at) AS hour, status, COUNT(*) AS n FROM sites"
        "   WHERE created_at >= datetime(:now, ''-1 day'') GROUP BY hour, status ORDER BY hour',"
        "  '{}', 1800, 600, 30, 1000, 1048576, 'charts', '[]',"
        "  '{\"x\":\"hour\",\"y\":[\"n\"],\"series_by\":\"status\",\"fill\":\"0\"}', NULL,"
        "  'specs/charts.yaml:3', '00000000000000f4', '3.40.1', '2026-02-12 09:00:00'),"
        " ('broken', 'metric', 'scalar', 'SELECT COUNT(*) FROM gone',"
        "  '{}', 900, 600, 30, 1000, 1048576, NULL, '[]', '{}', NULL,"
        "  'specs/more.yaml:9', '00000000000000f5', '3.40.1', '2026-02-12 09:00:00');");
}

/* The plan as the runtime loads it. */
static void load_plan(const char *db_path, ds_plan *p)
{
    ds_diag d;
    ds_diag_init(&d);
    ds_db *db = NULL;
    ck_assert_int_eq(ds_db_open(db_path, DS_DB_READONLY, &db, &d), 0);
    ck_assert_int_eq(ds_plan_load(db, p, &d), 0);
    ds_db_close(db);
    ds_diag_free(&d);
}

static const ds_item *plan_item(const ds_plan *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->items[i].key, key) == 0) return &p->items[i];
    ck_abort_msg("no item %s", key);
    return NULL;
}

/* Computes key at now and writes it the way `run` does (executor + writer). */
static void run_item(const char *db_path, const char *key, int64_t now)
{
    ds_plan p;
    load_plan(db_path, &p);
    ds_diag d;
    ds_diag_init(&d);
    ds_exec *x = ds_exec_new(db_path, &d);
    ck_assert_ptr_nonnull(x);
    ds_result r = {0};
    char *err = NULL;
    const ds_item *it = plan_item(&p, key);
    ck_assert_msg(ds_exec_item(x, it, now, &r, &err) == 0, "%s: %s", key, err ? err : "?");
    ds_exec_free(x);
    ds_db *db = NULL;
    ck_assert_int_eq(ds_db_open(db_path, DS_DB_READWRITE, &db, &d), 0);
    ds_writer *w = ds_writer_new(db, &d);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(ds_cache_put(w, it, &r, now, 5000, &err, &d), DS_W_OK);
    ds_writer_free(w);
    ds_db_close(db);
    ds_result_free(&r);
    ds_plan_free(&p);
    ds_diag_free(&d);
}

/* Records a failed attempt of key at now, as `run` does. */
static void fail_item(const char *db_path, const char *key, int64_t prev, const char *msg, int64_t now)
{
    ds_plan p;
    load_plan(db_path, &p);
    ds_diag d;
    ds_diag_init(&d);
    ds_db *db = NULL;
    char *err = NULL;
    ck_assert_int_eq(ds_db_open(db_path, DS_DB_READWRITE, &db, &d), 0);
    ds_writer *w = ds_writer_new(db, &d);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(ds_cache_fail(w, plan_item(&p, key), prev, msg, now, 5000, &err, &d), DS_W_OK);
    ds_writer_free(w);
    ds_db_close(db);
    ds_plan_free(&p);
    ds_diag_free(&d);
}

static const ds_report_item *report_item(const ds_report *r, const char *key)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->items[i].key, key) == 0) return &r->items[i];
    ck_abort_msg("no report item %s", key);
    return NULL;
}

/* ---------------------------------------------------------------- status */

START_TEST(status_counts_add_up)
{
    fx f;
    fx_plan(&f);
    int64_t t0 = T("2026-02-12 10:00:00");
    run_item(f.db, "funnel", t0);                   /* fresh */
    run_item(f.db, "total", t0 - 2000);             /* expired (ttl 900) */
    run_item(f.db, "hourly", t0 - 60);              /* fresh ... */
    fail_item(f.db, "hourly", 0, "disk I/O error", t0 - 30);   /* ... and failing */
    fail_item(f.db, "recent", 0, "first", t0 - 200);
    fail_item(f.db, "recent", 1, "no such column: x", t0 + 50);  /* missing and failing */
    put(f.db, "removed_item", "[]", "2026-02-12 09:00:00", "2026-02-12 11:00:00");

    ds_diag d;
    ds_diag_init(&d);
    ds_report r;
    ck_assert_int_eq(ds_read_status(f.db, t0 + 100, &r, &d), DS_OK);
    ck_assert_uint_eq(r.n, 5);
    ck_assert_uint_eq(r.fresh, 2);
    ck_assert_uint_eq(r.expired, 1);
    ck_assert_uint_eq(r.missing, 2);
    ck_assert_uint_eq(r.fresh + r.expired + r.missing, r.n);
    ck_assert_uint_eq(r.failing, 2);
    ck_assert_uint_eq(r.norphans, 1);
    ck_assert_str_eq(r.orphans[0].key, "removed_item");
    ck_assert_int_eq(r.orphans[0].state, DS_FRESH);

    const ds_report_item *it = report_item(&r, "funnel");
    ck_assert_int_eq(it->state, DS_FRESH);
    ck_assert_int_eq(it->created_at, t0);
    ck_assert_int_eq(it->entries, 3);
    ck_assert_int_eq(it->ttl, 900);
    ck_assert_int_eq(it->due, DS_DUE_NOT);
    ck_assert_int_eq(it->next_due, t0 + 600);     /* refresh age */
    ck_assert_int_eq(it->failures, 0);
    ck_assert_ptr_null(it->last_error);
    ck_assert_str_eq(it->group, "overview");

    it = report_item(&r, "total");
    ck_assert_int_eq(it->state, DS_EXPIRED);
    ck_assert_int_eq(it->due, DS_DUE_EXPIRED);
    ck_assert_int_eq(it->next_due, t0 + 100);

    it = report_item(&r, "recent");
    ck_assert_int_eq(it->state, DS_MISSING);
    ck_assert_int_eq(it->failures, 2);
    ck_assert_str_eq(it->last_error, "no such column: x");
    /* Second failure: backoff of 2 minutes after the last attempt. */
    ck_assert_int_eq(it->due, DS_DUE_BACKOFF);
    ck_assert_int_eq(it->next_due, t0 + 50 + 120);
    ck_assert_ptr_null(it->group);

    it = report_item(&r, "hourly");
    ck_assert_int_eq(it->state, DS_FRESH);
    ck_assert_int_eq(it->failures, 1);
    ck_assert_int_eq(it->kind, DS_KIND_CHART);

    it = report_item(&r, "broken");
    ck_assert_int_eq(it->state, DS_MISSING);
    ck_assert_int_eq(it->entries, -1);
    ck_assert_int_eq(it->due, DS_DUE_MISSING);

    /* The JSON object: counts, every item, orphans; numbers and nulls typed. */
    ds_buf b;
    ds_buf_init(&b);
    ds_report_json(&r, &b);
    ck_assert_int_eq(b.oom, 0);
    ck_assert_int_eq(b.p[b.len - 1], '\n');
    cJSON *j = cJSON_Parse(b.p);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(cJSON_GetObjectItem(j, "fresh")->valueint, 2);
    ck_assert_int_eq(cJSON_GetObjectItem(j, "expired")->valueint, 1);
    ck_assert_int_eq(cJSON_GetObjectItem(j, "missing")->valueint, 2);
    ck_assert_int_eq(cJSON_GetObjectItem(j, "failing")->valueint, 2);
    cJSON *items = cJSON_GetObjectItem(j, "items");
    ck_assert_int_eq(cJSON_GetArraySize(items), 5);
    cJSON *e;
    int seen = 0;
    cJSON_ArrayForEach(e, items) {
        const char *k = cJSON_GetObjectItem(e, "key")->valuestring;
        const char *fields[] = {"key", "kind", "group", "state", "age_s", "ttl_s", "refresh_s", "entries",
                                "last_duration_ms", "last_error", "failures", "next_due"};
        for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
            ck_assert_msg(cJSON_HasObjectItem(e, fields[i]), "%s lacks %s", k, fields[i]);
        if (strcmp(k, "funnel") == 0) {
            seen++;
            ck_assert_int_eq(cJSON_GetObjectItem(e, "age_s")->valueint, 100);
            ck_assert_int_eq(cJSON_GetObjectItem(e, "entries")->valueint, 3);
            ck_assert_str_eq(cJSON_GetObjectItem(e, "state")->valuestring, "fresh");
            ck_assert_str_eq(cJSON_GetObjectItem(e, "next_due")->valuestring, "2026-02-12 10:10:00");
            ck_assert(cJSON_IsNull(cJSON_GetObjectItem(e, "last_error")));
        } else if (strcmp(k, "recent") == 0) {
            seen++;
            ck_assert(cJSON_IsNull(cJSON_GetObjectItem(e, "age_s")));
            ck_assert(cJSON_IsNull(cJSON_GetObjectItem(e, "group")));
            ck_assert_str_eq(cJSON_GetObjectItem(e, "last_error")->valuestring, "no such column: x");
            ck_assert_int_eq(cJSON_GetObjectItem(e, "failures")->valueint, 2);
            ck_assert_str_eq(cJSON_GetObjectItem(e, "kind")->valuestring, "metric");
        }
    }
    ck_assert_int_eq(seen, 2);
    cJSON *orph = cJSON_GetObjectItem(j, "orphaned");
    ck_assert_int_eq(cJSON_GetArraySize(orph), 1);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(orph, 0), "key")->valuestring, "removed_item");
    cJSON_Delete(j);
    ds_buf_free(&b);
    ds_report_free(&r);
    ck_assert_uint_eq(d.nerrors, 0);
    ds_diag_free(&d);
    fx_close(&f);
}
END_TEST

/* A database the application owns and dashspec never touched: no plan, every
 * cache row is an orphan, nothing fails. */
START_TEST(status_without_dashspec_tables)
{
    char *dir = ds_tmpdir();
    char *db = ds_write(dir, "sites.db", "");
    ds_sql(db, "CREATE TABLE dashboard_cache (cache_key TEXT PRIMARY KEY, cache_value TEXT NOT NULL,"
               " created_at TEXT NOT NULL, expires_at TEXT NOT NULL);"
               "INSERT INTO dashboard_cache VALUES ('a', '1', '2026-02-12 10:00:00', '2026-02-12 10:15:00'),"
               " ('b', '2', '2026-02-12T09:00:00.000Z', '2026-02-12T09:15:00.000Z');");
    ds_diag d;
    ds_diag_init(&d);
    ds_report r;
    ck_assert_int_eq(ds_read_status(db, T("2026-02-12 10:05:00"), &r, &d), DS_OK);
    ck_assert_uint_eq(r.n, 0);
    ck_assert_uint_eq(r.fresh + r.expired + r.missing + r.failing, 0);
    ck_assert_uint_eq(r.norphans, 2);
    ck_assert_str_eq(r.orphans[0].key, "a");
    ck_assert_int_eq(r.orphans[0].state, DS_FRESH);
    ck_assert_int_eq(r.orphans[1].created_at, T("2026-02-12 09:00:00"));
    ds_report_free(&r);
    /* Still nothing created: status is read-only. */
    char *v = ds_sql_text(db, "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'dashspec%'");
    ck_assert_str_eq(v, "0");
    free(v);
    char *missing = ds_asprintf("%s/none.db", dir);
    ck_assert_int_eq(ds_read_status(missing, 0, &r, &d), DS_DBERROR);
    ck_assert_uint_eq(r.n, 0);
    ds_report_free(&r);
    free(missing);
    ds_diag_free(&d);
    free(db);
    ds_tmp_cleanup(dir);
}
END_TEST

/* ---------------------------------------------------------------- the origin's monitoring SQL */

typedef struct rows { int n; char cells[16][3][64]; } rows;

static int collect(void *arg, int nc, char **v, char **names)
{
    (void)names;
    rows *r = arg;
    if (r->n >= 16) return 0;
    for (int i = 0; i < nc && i < 3; i++) snprintf(r->cells[r->n][i], 64, "%s", v[i] ? v[i] : "NULL");
    r->n++;
    return 0;
}

/* The three "Monitor Cache" queries of docs/origin run unchanged on the cache
 * dashspec writes, and agree with status at the real clock. */
START_TEST(origin_monitor_queries)
{
    fx f;
    fx_plan(&f);
    int64_t now = ds_time_now();
    run_item(f.db, "funnel", now);              /* fresh for 15 minutes */
    run_item(f.db, "hourly", now);              /* fresh for 30 minutes */
    run_item(f.db, "total", now - 3600);        /* expired 45 minutes ago */
    sqlite3 *h = NULL;
    ck_assert_int_eq(sqlite3_open(f.db, &h), SQLITE_OK);
    rows r = {0};
    char *err = NULL;
    ck_assert_int_eq(sqlite3_exec(h,
        "-- View cache entries\n"
        "SELECT cache_key, length(cache_value) as size_bytes,\n"
        "datetime(expires_at) as expires\n"
        "FROM dashboard_cache;", collect, &r, &err), SQLITE_OK);
    ck_assert_int_eq(r.n, 3);
    for (int i = 0; i < r.n; i++) {
        ck_assert_int_gt(atoi(r.cells[i][1]), 0);
        int64_t t;
        /* datetime(expires_at) understood our timestamps (NULL otherwise). */
        ck_assert_int_eq(ds_time_parse(r.cells[i][2], &t), 0);
    }
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(sqlite3_exec(h,
        "-- Check cache stats\n"
        "SELECT\n"
        "COUNT(*) as total,\n"
        "SUM(CASE WHEN expires_at > datetime('now') THEN 1 ELSE 0 END) as fresh,\n"
        "SUM(CASE WHEN expires_at <= datetime('now') THEN 1 ELSE 0 END) as expired\n"
        "FROM dashboard_cache;", collect, &r, &err), SQLITE_OK);
    ck_assert_int_eq(r.n, 1);
    ck_assert_str_eq(r.cells[0][0], "3");
    ck_assert_str_eq(r.cells[0][1], "2");
    ck_assert_str_eq(r.cells[0][2], "1");
    /* status agrees with the origin's arithmetic. */
    ds_diag d;
    ds_diag_init(&d);
    ds_report rep;
    ck_assert_int_eq(ds_read_status(f.db, ds_time_now(), &rep, &d), DS_OK);
    ck_assert_uint_eq(rep.fresh, 2);
    ck_assert_uint_eq(rep.expired, 1);
    ds_report_free(&rep);
    ds_value v;
    ck_assert_int_eq(ds_read_get(f.db, "total", ds_time_now(), 0, &v, &d), DS_NOVALUE);
    ds_value_free(&v);
    ck_assert_int_eq(ds_read_get(f.db, "funnel", ds_time_now(), 0, &v, &d), DS_OK);
    ck_assert_str_eq(v.json, "{\"done\":2,\"failed\":1,\"new\":2}");
    ds_value_free(&v);
    ck_assert_int_eq(sqlite3_exec(h, "-- Clear cache manually\nDELETE FROM dashboard_cache;", NULL, NULL, &err), SQLITE_OK);
    sqlite3_close(h);
    ck_assert_int_eq(count_rows(f.db, "dashboard_cache"), 0);
    ck_assert_int_eq(ds_read_status(f.db, ds_time_now(), &rep, &d), DS_OK);
    ck_assert_uint_eq(rep.missing, 5);
    ds_report_free(&rep);
    ds_diag_free(&d);
    fx_close(&f);
}
END_TEST

/* ---------------------------------------------------------------- explain */

START_TEST(explain_item_and_plan)
{
    fx f;
    fx_plan(&f);
    ds_diag d;
    ds_diag_init(&d);
    ds_explain e;
    ck_assert_int_eq(ds_read_explain(f.db, "recent", T("2026-02-12 10:00:00"), &e, &d), DS_OK);
    ck_assert_str_eq(e.item.key, "recent");
    ck_assert_int_eq(e.item.shape, DS_SHAPE_ROWS);
    ck_assert_uint_eq(e.item.nparams, 2);
    for (size_t i = 0; i < 2; i++) {
        const ds_param *pa = &e.item.params[i];
        if (strcmp(pa->name, "hours") == 0) { ck_assert_int_eq(pa->type, DS_PARAM_INT); ck_assert_int_eq(pa->i, 48); }
        else { ck_assert_str_eq(pa->name, "skip"); ck_assert_int_eq(pa->type, DS_PARAM_TEXT); ck_assert_str_eq(pa->s, "it's"); }
    }
    ck_assert_str_eq(e.item.file, "specs/more.yaml");
    ck_assert_int_eq(e.item.line, 2);
    ck_assert_str_eq(e.item.hash, "00000000000000f3");
    ck_assert_str_eq(e.engine_version, "3.40.1");
    ck_assert_str_eq(e.now, "2026-02-12 10:00:00");
    ck_assert_ptr_null(e.qp_error);
    ck_assert_uint_ge(e.nqp, 1);
    int names_table = 0;
    for (size_t i = 0; i < e.nqp; i++)
        if (strstr(e.qp[i].detail, "sites")) names_table = 1;
    ck_assert_msg(names_table, "plan: %s", e.qp[0].detail);
    ds_explain_free(&e);

    ck_assert_int_eq(ds_read_explain(f.db, "nope", 0, &e, &d), DS_FAILED);
    ck_assert_uint_eq(d.nerrors, 1);
    ck_assert_ptr_nonnull(strstr(d.v[0].msg, "no item 'nope'"));
    ds_explain_free(&e);

    /* A table dropped since compile: the item still shows, with the error. */
    ck_assert_int_eq(ds_read_explain(f.db, "broken", 0, &e, &d), DS_OK);
    ck_assert_ptr_nonnull(e.qp_error);
    ck_assert_ptr_nonnull(strstr(e.qp_error, "no such table: gone"));
    ck_assert_uint_eq(e.nqp, 0);
    ds_explain_free(&e);

    /* A tampered plan row cannot get anything but a read explained. */
    ds_sql(f.db, "UPDATE dashspec_plan SET sql = 'DELETE FROM sites' WHERE key = 'total'");
    ck_assert_int_eq(ds_read_explain(f.db, "total", 0, &e, &d), DS_OK);
    ck_assert_ptr_nonnull(e.qp_error);
    ds_explain_free(&e);
    ck_assert_int_eq(count_rows(f.db, "sites"), 5);
    ds_diag_free(&d);
    fx_close(&f);
}
END_TEST

/* ---------------------------------------------------------------- preview */

START_TEST(preview_computes_and_writes_nothing)
{
    fx f;
    fx_plan(&f);
    char *before = ds_slurp(f.db);
    struct stat st0, st1;
    ck_assert_int_eq(stat(f.db, &st0), 0);
    ds_diag d;
    ds_diag_init(&d);
    ds_preview pv;
    ck_assert_int_eq(ds_read_preview(f.db, NULL, "funnel", T("2026-02-12 10:00:00"), &pv, &d), DS_OK);
    ck_assert_str_eq(pv.res.json, "{\"done\":2,\"failed\":1,\"new\":2}");
    ck_assert_int_eq(pv.res.entries, 3);
    ck_assert_int_eq(pv.item.shape, DS_SHAPE_MAP);
    ds_preview_free(&pv);
    ck_assert_int_eq(ds_read_preview(f.db, NULL, "recent", T("2026-02-12 10:00:00"), &pv, &d), DS_OK);
    ck_assert_str_eq(pv.res.json, "[{\"id\":1,\"status\":\"new\"},{\"id\":2,\"status\":\"new\"},"
                                  "{\"id\":3,\"status\":\"done\"},{\"id\":4,\"status\":\"done\"}]");
    ds_preview_free(&pv);
    ck_assert_int_eq(ds_read_preview(f.db, NULL, "hourly", T("2026-02-12 10:00:00"), &pv, &d), DS_OK);
    ck_assert_str_eq(pv.res.json, "{\"x\":[\"08:00\",\"09:00\"],\"series\":{\"done\":[1,0],\"new\":[1,1]}}");
    ds_preview_free(&pv);
    ck_assert_uint_eq(d.nerrors, 0);

    ck_assert_int_eq(ds_read_preview(f.db, NULL, "broken", 0, &pv, &d), DS_FAILED);
    ck_assert_uint_eq(d.nerrors, 1);
    ck_assert_str_eq(d.v[0].key, "broken");
    ck_assert_ptr_nonnull(strstr(d.v[0].msg, "no such table: gone"));
    ds_preview_free(&pv);
    ck_assert_int_eq(ds_read_preview(f.db, NULL, "nope", 0, &pv, &d), DS_FAILED);
    ds_preview_free(&pv);
    ds_diag_free(&d);

    char *after = ds_slurp(f.db);
    ck_assert_int_eq(stat(f.db, &st1), 0);
    ck_assert_int_eq(st0.st_size, st1.st_size);
    ck_assert_int_eq(memcmp(before, after, (size_t)st0.st_size), 0);
    ck_assert_int_eq(count_rows(f.db, "dashboard_cache"), 0);
    ck_assert_int_eq(count_rows(f.db, "dashspec_state"), 0);
    free(before);
    free(after);
    fx_close(&f);
}
END_TEST

Suite *read_suite(void)
{
    Suite *s = suite_create("read");
    TCase *tc = tcase_create("core");
    /* The whole suite takes about 5 s here; the bound is per test, 60 s for valgrind. */
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, get_fresh_expired_missing);
    tcase_add_test(tc, get_without_table_or_file);
    tcase_add_test(tc, get_on_origin_table);
    tcase_add_test(tc, clear_globs_and_all);
    tcase_add_test(tc, clear_fails_cleanly);
    tcase_add_test(tc, migrate_idempotent_never_creates);
    tcase_add_test(tc, status_counts_add_up);
    tcase_add_test(tc, status_without_dashspec_tables);
    tcase_add_test(tc, origin_monitor_queries);
    tcase_add_test(tc, explain_item_and_plan);
    tcase_add_test(tc, preview_computes_and_writes_nothing);
    suite_add_tcase(s, tc);
    /* Tagged "slow" (make test skips it, make test-slow runs it): 5 s on the
     * loaded 2-core machine. */
    tc = tcase_create("slow");
    tcase_set_tags(tc, "slow");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, clear_is_one_transaction);
    suite_add_tcase(s, tc);
    return s;
}

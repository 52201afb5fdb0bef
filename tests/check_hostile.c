/*
 * check_hostile.c — process-level proofs of the defences against hostile
 * specs and hostile schemas (issue #6; docs/security.md names the test for
 * each defence). Each test drives the built binary on a temp database and
 * checks what it must never do: write outside dashspec's own tables (an
 * application fingerprint before and after), run anything but a read,
 * grow by hundreds of MiB (peak RSS from wait4), or hang past a timeout.
 *
 * The hardening flags themselves (defensive mode, untrusted schema, no
 * extensions, no triggers or foreign-key actions on writing connections,
 * no ATTACH) are read back from connections ds_db_open hands out.
 */
#include <cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ds_common.h"
#include "ds_test.h"
#include "sqlite/sqlite_int.h"
#include "fault/proc.h"

static char *dir;
static char db[4096], specs[4096];

#define T0 "2026-02-12 10:00:00"

static const char app_schema[] =
    "CREATE TABLE sites (id INTEGER PRIMARY KEY, status TEXT NOT NULL, created_at TEXT NOT NULL);"
    "CREATE TABLE audit (what TEXT);"
    "CREATE TABLE secrets (k TEXT PRIMARY KEY, v TEXT);"
    "INSERT INTO secrets VALUES ('api', 'hunter2');"
    "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c LIMIT 30)"
    " INSERT INTO sites SELECT n, CASE n % 3 WHEN 0 THEN 'new' WHEN 1 THEN 'done' ELSE 'open' END,"
    " datetime('2026-02-12 10:00:00', '-' || n || ' hours') FROM c;";

static void setup(void)
{
    dir = ds_tmpdir();
    snprintf(db, sizeof db, "%s/app.db", dir);
    snprintf(specs, sizeof specs, "%s/specs", dir);
    ds_sql(db, app_schema);
}

static void teardown(void)
{
    ds_tmp_cleanup(dir);
}

static char *path_in(const char *name)
{
    return ds_asprintf("%s/%s", dir, name);
}

static void spec(const char *yaml)
{
    free(ds_write(dir, "specs/s.yaml", yaml));
}

/* The run's summary (one JSON line on stdout); caller deletes. */
static cJSON *summary(const char *out)
{
    cJSON *s = cJSON_Parse(out);
    ck_assert_msg(s != NULL, "summary is not JSON: '%s'", out);
    return s;
}

static const char *failed_msg(const cJSON *s, const char *key)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(s, "details"), "failed");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(f, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void assert_failed_with(const cJSON *s, const char *key, const char *needle)
{
    const char *m = failed_msg(s, key);
    ck_assert_msg(m != NULL, "%s did not fail", key);
    ck_assert_msg(strstr(m, needle) != NULL, "%s failed with '%s', want '%s'", key, m, needle);
}

/* The hostile queries every layer must refuse, with a word of the reason. */
static const struct { const char *sql, *why; } hostile[] = {
    {"DELETE FROM sites", "not read-only"},
    {"INSERT INTO audit VALUES (1) RETURNING 1", "not read-only"},
    {"UPDATE secrets SET v = 'x' RETURNING 1", "not read-only"},
    {"WITH x AS (SELECT 1) DELETE FROM sites RETURNING 1", "not read-only"},
    {"REPLACE INTO secrets VALUES ('api', 'x') RETURNING 1", "not read-only"},
    {"ATTACH 'ATTACHED_DB' AS x", "ATTACH"},
    {"VACUUM INTO 'VACUUMED_DB'", "not"},
    {"PRAGMA writable_schema = 1", "PRAGMA"},
    {"PRAGMA journal_mode", "PRAGMA"},
    {"SELECT * FROM pragma_table_info('sites')", "PRAGMA"},
    {"CREATE TEMP TABLE t (x)", "TEMP"},
    {"CREATE TABLE t2 (x)", "not"},
    {"DROP TABLE sites", "not"},
    {"BEGIN", "BEGIN"},
    {"SELECT 1; DELETE FROM sites", "statement"},
    {"SELECT load_extension('/nonexistent/evil.so')", "load_extension"},
    {"SELECT fts3_tokenizer('simple')", "fts3_tokenizer"},
    {"EXPLAIN SELECT 1", "EXPLAIN"},
    {"ANALYZE", "not"},
    {"REINDEX", "not"},
};
#define NHOSTILE (sizeof hostile / sizeof *hostile)

/* hostile[i].sql with its file names pointed into the temp directory. */
static char *hostile_sql(size_t i)
{
    const char *s = hostile[i].sql;
    char *a = path_in("attached.db"), *v = path_in("vacuumed.db");
    char *r;
    if (strstr(s, "ATTACHED_DB")) r = ds_asprintf("ATTACH '%s' AS x", a);
    else if (strstr(s, "VACUUMED_DB")) r = ds_asprintf("VACUUM INTO '%s'", v);
    else r = ds_strdup(s);
    free(a);
    free(v);
    return r;
}

static void assert_no_stray_files(void)
{
    char *a = path_in("attached.db"), *v = path_in("vacuumed.db");
    ck_assert_msg(access(a, F_OK) != 0, "ATTACH created %s", a);
    ck_assert_msg(access(v, F_OK) != 0, "VACUUM INTO created %s", v);
    free(a);
    free(v);
}

/* ---------------------------------------------------------------- the authorizer */

/* Specs holding each hostile statement: check and compile refuse every one
 * (exit 1, an error naming the item), and run --specs runs none of them. */
START_TEST(hostile_specs_are_refused_at_check_and_run)
{
    ds_buf y;
    ds_buf_init(&y);
    ds_buf_adds(&y, "version: 1\ndefaults: { ttl: 15m }\nmetrics:\n"
                    "  - key: good\n    shape: scalar\n    query: SELECT count(*) FROM sites\n");
    for (size_t i = 0; i < NHOSTILE; i++) {
        char *q = hostile_sql(i);
        ds_buf_printf(&y, "  - key: h_%zu\n    shape: rows\n    query: \"", i);
        for (const char *c = q; *c; c++) {
            if (*c == '"' || *c == '\\') ds_buf_addc(&y, '\\');
            ds_buf_addc(&y, *c);
        }
        ds_buf_adds(&y, "\"\n");
        free(q);
    }
    spec(y.p);
    ds_buf_free(&y);
    uint64_t fp = app_fingerprint(db);

    xproc p;
    xrun(&p, dir, XARGS("check", "--db", db, "--specs", specs), NULL);
    ck_assert_int_eq(p.status, 1);
    for (size_t i = 0; i < NHOSTILE; i++) {
        char tag[32];
        snprintf(tag, sizeof tag, "[h_%zu]", i);
        ck_assert_msg(strstr(p.out, tag) != NULL, "check did not refuse %s: %s\n%s", hostile[i].sql, tag, p.out);
    }
    ck_assert_ptr_null(strstr(p.out, "[good]"));
    xfree(&p);

    xrun(&p, dir, XARGS("compile", "--db", db, "--specs", specs), NULL);
    ck_assert_int_eq(p.status, 1);
    xfree(&p);
    /* all or nothing: not even dashspec's tables were created */
    assert_xq(db, "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'dashspec%'", "0");

    xrun(&p, dir, XARGS("run", "--db", db, "--specs", specs, "--now", T0), NULL);
    ck_assert_msg(p.status == 1, "exit %d: %s", p.status, p.err);
    cJSON *s = summary(p.out);
    for (size_t i = 0; i < NHOSTILE; i++) {
        char key[32];
        snprintf(key, sizeof key, "h_%zu", i);
        ck_assert_msg(failed_msg(s, key) != NULL, "run did not fail %s", key);
    }
    cJSON_Delete(s);
    xfree(&p);
    assert_xq(db, "SELECT cache_value FROM dashboard_cache WHERE cache_key = 'good'", "30");
    assert_xq(db, "SELECT count(*) FROM dashboard_cache WHERE cache_key LIKE 'h\\_%' ESCAPE '\\'", "0");
    ck_assert_msg(app_fingerprint(db) == fp, "a hostile spec changed the application's tables");
    assert_no_stray_files();
}
END_TEST

/* The plan table is only a cache of compiled specs: whoever can write the
 * database can put anything in it. run re-checks every statement with the
 * same authorizer, on a read-only connection. */
START_TEST(tampered_plan_rows_are_refused_at_run)
{
    spec("version: 1\ndefaults: { ttl: 15m }\nmetrics:\n"
         "  - key: good\n    shape: scalar\n    query: SELECT count(*) FROM sites\n");
    xproc p;
    xrun(&p, dir, XARGS("compile", "--db", db, "--specs", specs), NULL);
    ck_assert_msg(p.status == 0, "%s", p.err);
    xfree(&p);
    sqlite3 *h = xopen(db);
    for (size_t i = 0; i < NHOSTILE; i++) {
        char *q = hostile_sql(i);
        char *sql = sqlite3_mprintf(
            "INSERT INTO dashspec_plan (key, kind, shape, sql, params, ttl, refresh, timeout, max_rows,"
            " max_bytes, tags, options, source, spec_hash, sqlite_version, compiled_at)"
            " VALUES ('h_%d', 'metric', 'rows', %Q, '{}', 900, 600, 5, 1000, 1048576, '[]', '{}',"
            " 'x.yaml:1', '0123456789abcdef', '3.40.1', '2026-01-01 00:00:00')", (int)i, q);
        ck_assert_int_eq(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_free(sql);
        free(q);
    }
    sqlite3_close(h);
    uint64_t fp = app_fingerprint(db);

    xrun(&p, dir, XARGS("run", "--db", db, "--now", T0, "--jobs", "1"), NULL);
    ck_assert_msg(p.status == 1, "exit %d: %s", p.status, p.err);
    cJSON *s = summary(p.out);
    for (size_t i = 0; i < NHOSTILE; i++) {
        char key[32];
        snprintf(key, sizeof key, "h_%zu", i);
        assert_failed_with(s, key, hostile[i].why);
    }
    cJSON_Delete(s);
    xfree(&p);
    assert_xq(db, "SELECT cache_value FROM dashboard_cache WHERE cache_key = 'good'", "30");
    assert_xq(db, "SELECT count(*) FROM dashboard_cache WHERE cache_key LIKE 'h\\_%' ESCAPE '\\'", "0");
    ck_assert_msg(app_fingerprint(db) == fp, "a tampered plan changed the application's tables");
    assert_no_stray_files();

    /* preview runs a single item through the same executor */
    xrun(&p, dir, XARGS("preview", "--db", db, "h_0"), NULL);
    ck_assert_int_eq(p.status, 1);
    ck_assert_ptr_nonnull(strstr(p.err, "not read-only"));
    xfree(&p);
    ck_assert_msg(app_fingerprint(db) == fp, "preview changed the application's tables");
}
END_TEST

/* ---------------------------------------------------------------- hostile schema */

/* Triggers on every dashspec table that write the application's tables,
 * and a foreign key that cascades deletes of cache rows: migrate, compile,
 * run (insert, then update), clear one key and clear all write nothing
 * outside dashspec's tables. */
START_TEST(hostile_triggers_and_cascades_write_nothing)
{
    xproc p;
    xrun(&p, dir, XARGS("migrate", "--db", db), NULL);
    ck_assert_msg(p.status == 0, "%s", p.err);
    xfree(&p);
    static const char *const tables[] = {"dashboard_cache", "dashspec_plan", "dashspec_state", "dashspec_runs",
                                         "dashspec_migrations"};
    static const char *const events[] = {"INSERT", "UPDATE", "DELETE"};
    ds_buf sql;
    ds_buf_init(&sql);
    ds_buf_adds(&sql,
        "CREATE TABLE pins (k TEXT REFERENCES dashboard_cache (cache_key) ON DELETE CASCADE ON UPDATE CASCADE);"
        "INSERT INTO dashboard_cache VALUES ('good', '0', '2020-01-01 00:00:00', '2020-01-01 00:15:00');"
        "INSERT INTO dashboard_cache VALUES ('other', '\"app''s own\"', '2020-01-01 00:00:00', '2099-01-01 00:00:00');"
        "INSERT INTO pins VALUES ('good'), ('other');");
    for (size_t t = 0; t < 5; t++)
        for (size_t e = 0; e < 3; e++)
            ds_buf_printf(&sql,
                "CREATE TRIGGER evil_%zu_%zu %s %s ON %s BEGIN "
                "INSERT INTO audit VALUES ('%s %s'); UPDATE secrets SET v = 'stolen'; DELETE FROM sites; END;",
                t, e, e == 1 ? "BEFORE" : "AFTER", events[e], tables[t], events[e], tables[t]);
    ds_sql(db, sql.p);
    ds_buf_free(&sql);
    /* the application's own sqlite3 would fire them: prove they are armed */
    char *copy = path_in("armed.db");
    copy_file(db, copy);
    ds_sql(copy, "PRAGMA foreign_keys = ON; DELETE FROM dashboard_cache WHERE cache_key = 'other';");
    ck_assert_int_gt(xq_int(copy, "SELECT count(*) FROM audit"), 0);
    ck_assert_int_eq(xq_int(copy, "SELECT count(*) FROM pins"), 1);
    free(copy);

    uint64_t fp = app_fingerprint(db);
    spec("version: 1\ndefaults: { ttl: 15m }\nmetrics:\n"
         "  - key: good\n    shape: scalar\n    query: SELECT count(*) FROM sites\n"
         "  - key: second\n    shape: scalar\n    query: SELECT count(*) FROM secrets\n");
    xrun(&p, dir, XARGS("compile", "--db", db, "--specs", specs), NULL);
    ck_assert_msg(p.status == 0, "%s", p.err);
    xfree(&p);
    xrun(&p, dir, XARGS("run", "--db", db, "--now", T0), NULL);
    ck_assert_msg(p.status == 0, "%s", p.err);
    xfree(&p);
    xrun(&p, dir, XARGS("run", "--db", db, "--now", "2026-02-12 11:00:00", "--force"), NULL);
    ck_assert_msg(p.status == 0, "%s", p.err);
    xfree(&p);
    assert_xq(db, "SELECT cache_value FROM dashboard_cache WHERE cache_key = 'good'", "30");
    /* a spec change deletes a plan row */
    spec("version: 1\ndefaults: { ttl: 15m }\nmetrics:\n"
         "  - key: good\n    shape: scalar\n    query: SELECT count(*) FROM sites\n");
    xrun(&p, dir, XARGS("run", "--db", db, "--specs", specs, "--now", "2026-02-12 12:00:00", "--force"), NULL);
    ck_assert_msg(p.status == 0, "%s", p.err);
    xfree(&p);
    xrun(&p, dir, XARGS("clear", "--db", db, "good"), NULL);
    ck_assert_msg(p.status == 0, "%s", p.err);
    xfree(&p);
    xrun(&p, dir, XARGS("clear", "--db", db), NULL);
    ck_assert_msg(p.status == 0, "%s", p.err);
    xfree(&p);
    xrun(&p, dir, XARGS("migrate", "--db", db), NULL);
    ck_assert_msg(p.status == 0, "%s", p.err);
    xfree(&p);
    assert_xq(db, "SELECT count(*) FROM dashboard_cache", "0");
    assert_xq(db, "SELECT count(*) FROM audit", "0");
    assert_xq(db, "SELECT count(*) FROM pins", "2");
    assert_xq(db, "SELECT v FROM secrets", "hunter2");
    assert_xq(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'", "15");
    ck_assert_msg(app_fingerprint(db) == fp, "a hostile trigger or cascade wrote the application's tables");
}
END_TEST

/* Views in the application's schema are read with the schema untrusted:
 * a view may not smuggle in what a spec may not call. */
START_TEST(hostile_views_cannot_widen_a_query)
{
    ds_sql(db,
        "CREATE VIEW v_ok AS SELECT id, upper(status) AS s, length(randomblob(4)) AS r FROM sites;"
        "CREATE VIEW v_ext AS SELECT load_extension('/nonexistent/evil.so') AS x;"
        "CREATE VIEW v_pragma AS SELECT name FROM pragma_table_info('secrets');"
        "CREATE VIEW v_tok AS SELECT fts3_tokenizer('simple') AS x;");
    uint64_t fp = app_fingerprint(db);
    spec("version: 1\ndefaults: { ttl: 15m }\nmetrics:\n"
         "  - key: ok\n    shape: scalar\n    query: SELECT count(*) FROM v_ok WHERE r = 4\n"
         "  - key: ext\n    shape: scalar\n    query: SELECT x FROM v_ext\n"
         "  - key: prag\n    shape: scalar\n    query: SELECT count(*) FROM v_pragma\n"
         "  - key: tok\n    shape: scalar\n    query: SELECT x FROM v_tok\n");
    xproc p;
    xrun(&p, dir, XARGS("check", "--db", db, "--specs", specs), NULL);
    ck_assert_int_eq(p.status, 1);
    ck_assert_ptr_nonnull(strstr(p.out, "[ext]"));
    ck_assert_ptr_nonnull(strstr(p.out, "[prag]"));
    ck_assert_ptr_nonnull(strstr(p.out, "[tok]"));
    ck_assert_ptr_null(strstr(p.out, "[ok]"));
    xfree(&p);
    xrun(&p, dir, XARGS("run", "--db", db, "--specs", specs, "--now", T0), NULL);
    ck_assert_int_eq(p.status, 1);
    cJSON *s = summary(p.out);
    ck_assert_ptr_nonnull(failed_msg(s, "ext"));
    ck_assert_ptr_nonnull(failed_msg(s, "prag"));
    ck_assert_ptr_nonnull(failed_msg(s, "tok"));
    ck_assert_ptr_null(failed_msg(s, "ok"));
    cJSON_Delete(s);
    xfree(&p);
    assert_xq(db, "SELECT cache_value FROM dashboard_cache WHERE cache_key = 'ok'", "30");
    ck_assert_msg(app_fingerprint(db) == fp, "a view changed the application's tables");
}
END_TEST

/* A hostile --schema or --migrations script (check builds an in-memory
 * database from it) cannot reach the file system either. */
START_TEST(hostile_schema_scripts_cannot_touch_files)
{
    spec("version: 1\ndefaults: { ttl: 15m }\nmetrics:\n"
         "  - key: good\n    shape: scalar\n    query: SELECT count(*) FROM sites\n");
    char *a = path_in("attached.db"), *v = path_in("vacuumed.db");
    char *s1 = ds_asprintf("CREATE TABLE sites (id INTEGER);\nATTACH '%s' AS x;\nCREATE TABLE x.t (y);\n", a);
    char *s2 = ds_asprintf("CREATE TABLE sites (id INTEGER);\nVACUUM INTO '%s';\n", v);
    const char *s3 = "CREATE TABLE sites (id INTEGER);\nSELECT load_extension('/nonexistent/evil.so');\n";
    const char *const scripts[] = {s1, s2, s3};
    for (int i = 0; i < 3; i++) {
        char *f = ds_write(dir, "schema.sql", scripts[i]);
        xproc p;
        xrun(&p, dir, XARGS("check", "--specs", specs, "--schema", f), NULL);
        ck_assert_msg(p.status == 2, "script %d: exit %d: %s", i, p.status, p.err);
        ck_assert_ptr_nonnull(strstr(p.err, "schema.sql:"));
        xfree(&p);
        free(f);
    }
    assert_no_stray_files();
    free(s1);
    free(s2);
    free(a);
    free(v);
}
END_TEST

/* ---------------------------------------------------------------- resource bombs */

static const char bombs_yaml[] =
    "version: 1\n"
    "defaults: { ttl: 15m, timeout: 60s }\n"
    "metrics:\n"
    "  - key: a_good\n"
    "    shape: scalar\n"
    "    query: SELECT count(*) FROM sites\n"
    "  - key: b_hexzero\n"
    "    shape: scalar\n"
    "    query: SELECT hex(zeroblob(400000000))\n"
    "  - key: c_randomblob\n"
    "    shape: scalar\n"
    "    query: SELECT length(randomblob(1500000000))\n"
    "  - key: d_replace\n"
    "    shape: scalar\n"
    "    query: SELECT length(replace(hex(zeroblob(1000000)), '0', hex(zeroblob(100))))\n"
    "  - key: e_concat\n"
    "    shape: scalar\n"
    "    query: |\n"
    "      WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 400)\n"
    "      SELECT length(group_concat(printf('%0200000d', n))) FROM c\n"
    "  - key: f_json\n"
    "    shape: scalar\n"
    "    query: |\n"
    "      WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000000)\n"
    "      SELECT length(json_group_array(printf('%02000d', n))) FROM c\n"
    "  - key: g_columns\n"
    "    shape: row\n"
    "    query: SELECT COLUMNS\n"
    "  - key: h_rows\n"
    "    shape: rows\n"
    "    query: |\n"
    "      WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 900)\n"
    "      SELECT n, printf('%0100000d', n) AS pad FROM c\n"
    "  - key: i_small_cap\n"
    "    shape: scalar\n"
    "    max_bytes: 100\n"
    "    query: SELECT printf('%0200d', 1)\n";

/* Memory bombs fail their item with an error that says which limit they hit,
 * the others still run, and the process stays small: its peak RSS is within
 * a fixed margin of a run of the good item alone (the bombs would take from
 * 400 MiB to 3 GiB each). */
START_TEST(memory_bombs_fail_small)
{
    /* 60 columns of 16 MB each: every column is within the length limit,
     * the row is not; only the heap cap stops it. */
    ds_buf cols;
    ds_buf_init(&cols);
    for (int i = 0; i < 60; i++) ds_buf_printf(&cols, "%shex(zeroblob(8000000)) AS c%d", i ? ", " : "", i);
    ds_buf y;
    ds_buf_init(&y);
    const char *at = strstr(bombs_yaml, "COLUMNS");
    ds_buf_add(&y, bombs_yaml, (size_t)(at - bombs_yaml));
    ds_buf_adds(&y, cols.p);
    ds_buf_adds(&y, at + 7);
    spec(y.p);
    ds_buf_free(&y);
    ds_buf_free(&cols);
    ds_sql(db, "INSERT INTO secrets VALUES ('x', 'y');");   /* nothing else to do with it */

    xproc base;
    xrun(&base, dir, XARGS("run", "--db", db, "--specs", specs, "--now", T0, "--only", "a_good", "--jobs", "1"),
         XARGS("ASAN_OPTIONS=quarantine_size_mb=16:verify_asan_link_order=0:detect_leaks=1"));
    ck_assert_msg(base.status == 0, "%s", base.err);

    xproc p;
    /* Under AddressSanitizer (make asan) freed blocks wait in a quarantine
     * of 256 MiB: keep it small so the peak measures the heap, not ASan. */
    xrun(&p, dir, XARGS("run", "--db", db, "--specs", specs, "--now", T0, "--force", "--jobs", "1"),
         XARGS("ASAN_OPTIONS=quarantine_size_mb=16:verify_asan_link_order=0:detect_leaks=1"));
    ck_assert_msg(p.status == 1, "exit %d: %s", p.status, p.err);
    cJSON *s = summary(p.out);
    ck_assert_ptr_null(failed_msg(s, "a_good"));
    assert_failed_with(s, "b_hexzero", "string or blob too big");
    assert_failed_with(s, "b_hexzero", "max_bytes");
    assert_failed_with(s, "c_randomblob", "string or blob too big");
    assert_failed_with(s, "d_replace", "string or blob too big");
    assert_failed_with(s, "e_concat", "string or blob too big");
    assert_failed_with(s, "f_json", "out of memory");
    assert_failed_with(s, "f_json", "max_bytes");
    assert_failed_with(s, "g_columns", "out of memory");
    assert_failed_with(s, "h_rows", "max_bytes");
    assert_failed_with(s, "i_small_cap", "larger than max_bytes");
    cJSON_Delete(s);
    /* Margin: the heap cap (about 104 MiB with one connection) plus room for
     * a sanitizer's or valgrind's bookkeeping of it. */
    long margin_kb = (under_valgrind() ? 600L : 200L) * 1024;
    ck_assert_msg(p.maxrss_kb < base.maxrss_kb + margin_kb, "peak RSS %ld KiB, a plain run %ld KiB", p.maxrss_kb,
                  base.maxrss_kb);
    xfree(&p);
    xfree(&base);
    assert_xq(db, "SELECT count(*) FROM dashboard_cache", "1");
    assert_xq(db, "SELECT count(*) FROM dashspec_state WHERE failures > 0", "8");
}
END_TEST

/* Runaway queries (an endless recursive CTE, a UNION that never repeats, a
 * cross join of millions) fail at their timeout, and the run goes on. The
 * test asserts the reason, never the time. */
START_TEST(runaway_queries_time_out)
{
    spec("version: 1\n"
         "defaults: { ttl: 15m, timeout: 1s }\n"
         "metrics:\n"
         "  - key: a_cte\n    shape: scalar\n"
         "    query: WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT max(n) FROM c\n"
         "  - key: b_union\n    shape: scalar\n"
         "    query: WITH RECURSIVE c(n) AS (SELECT 1 UNION SELECT n + 1 FROM c) SELECT count(*) FROM c\n"
         "  - key: c_cross\n    shape: scalar\n"
         "    query: |\n"
         "      WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 100000)\n"
         "      SELECT count(*) FROM c AS a, c AS b, c AS d\n"
         "  - key: d_sort\n    shape: scalar\n"
         "    query: |\n"
         "      SELECT count(*) FROM (SELECT a.id FROM sites a, sites b, sites c, sites d, sites e, sites f\n"
         "      ORDER BY random())\n"
         "  - key: z_good\n    shape: scalar\n    query: SELECT count(*) FROM sites\n");
    xproc p;
    xrun(&p, dir, XARGS("run", "--db", db, "--specs", specs, "--now", T0, "--jobs", "1"), NULL);
    ck_assert_msg(p.status == 1, "exit %d: %s", p.status, p.err);
    cJSON *s = summary(p.out);
    assert_failed_with(s, "a_cte", "timed out after 1s");
    assert_failed_with(s, "b_union", "timed out after 1s");
    assert_failed_with(s, "c_cross", "timed out after 1s");
    assert_failed_with(s, "d_sort", "timed out after 1s");
    ck_assert_ptr_null(failed_msg(s, "z_good"));
    cJSON_Delete(s);
    xfree(&p);
    assert_xq(db, "SELECT cache_value FROM dashboard_cache WHERE cache_key = 'z_good'", "30");
    /* the same on parallel workers */
    xrun(&p, dir, XARGS("run", "--db", db, "--now", "2026-02-12 11:00:00", "--force", "--jobs", "3"), NULL);
    ck_assert_msg(p.status == 1, "exit %d: %s", p.status, p.err);
    s = summary(p.out);
    assert_failed_with(s, "a_cte", "timed out");
    assert_failed_with(s, "c_cross", "timed out");
    ck_assert_ptr_null(failed_msg(s, "z_good"));
    cJSON_Delete(s);
    xfree(&p);
}
END_TEST

/* Hostile values: every value written is valid JSON text whatever the data
 * holds (invalid UTF-8, NUL bytes, control characters, extreme numbers). */
START_TEST(hostile_values_stay_valid_json)
{
    ds_sql(db, "CREATE TABLE junk (k BLOB, v BLOB);"
               "INSERT INTO junk VALUES (CAST(x'fffe0041c328e282' AS TEXT), CAST(x'225c000a1b7feda080' AS TEXT));"
               "INSERT INTO junk VALUES ('\"quoted\\key', 9223372036854775807);"
               "INSERT INTO junk VALUES ('neg', -9223372036854775808);"
               "INSERT INTO junk VALUES ('inf', 1e999);"
               "INSERT INTO junk VALUES ('tiny', 4.9e-324);"
               "INSERT INTO junk VALUES (char(0x2028, 0x2029, 0xfeff, 0x10ffff), char(1, 2, 3, 31));");
    spec("version: 1\ndefaults: { ttl: 15m }\nmetrics:\n"
         "  - key: as_rows\n    shape: rows\n    query: SELECT k, v FROM junk ORDER BY rowid\n"
         "  - key: as_map\n    shape: map\n    query: SELECT k, v FROM junk ORDER BY rowid\n"
         "charts:\n"
         "  - key: as_series\n    shape: series\n    x: k\n    series_by: k2\n    y: v\n"
         "    query: SELECT rowid AS k, k AS k2, rowid AS v FROM junk ORDER BY rowid\n");
    xproc p;
    xrun(&p, dir, XARGS("run", "--db", db, "--specs", specs, "--now", T0), NULL);
    ck_assert_msg(p.status == 0, "exit %d: %s", p.status, p.err);
    xfree(&p);
    sqlite3 *h = xopen(db);
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT cache_key, cache_value, json_valid(cache_value) FROM dashboard_cache",
                                        -1, &st, NULL), SQLITE_OK);
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        const unsigned char *v = sqlite3_column_text(st, 1);
        int len = sqlite3_column_bytes(st, 1);
        ck_assert_msg(sqlite3_column_int(st, 2) == 1, "%s is not valid JSON", k);
        ck_assert_msg((int)strlen((const char *)v) == len, "%s holds a NUL byte", k);
        int ctl = 0;   /* one assertion, not one per byte (each writes to Check's pipe) */
        for (int i = 0; i < len; i++) ctl += v[i] < 0x20;
        ck_assert_msg(ctl == 0, "%s holds a raw control character", k);
        cJSON *j = cJSON_Parse((const char *)v);
        ck_assert_msg(j != NULL, "%s does not parse", k);
        cJSON_Delete(j);
        n++;
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    ck_assert_int_eq(n, 3);
    assert_xq(db, "SELECT json_extract(cache_value, '$[1].v') FROM dashboard_cache WHERE cache_key = 'as_rows'",
              "9223372036854775807");
}
END_TEST

/* Hand-edited or damaged rows in dashspec's own tables: wrong types,
 * extreme numbers, unparsable times, an orphan cache row. No command may
 * crash or trip a sanitizer (under make asan, UBSan aborts on overflow); a
 * plan row whose JSON does not parse stops the commands that need the plan
 * with 5 and "damaged"; compiling again repairs it. */
START_TEST(garbage_in_dashspec_tables)
{
    spec("version: 1\ndefaults: { ttl: 15m }\nmetrics:\n"
         "  - key: n_sites\n    shape: scalar\n    query: SELECT count(*) FROM sites\n"
         "  - key: by_status\n    shape: map\n    query: SELECT status, count(*) FROM sites GROUP BY status ORDER BY status\n"
         "  - key: one\n    shape: row\n    params: { p: 3 }\n    query: SELECT :p AS p, :now AS now\n"
         "charts:\n"
         "  - key: ser\n    shape: series\n    x: id\n    series_by: status\n    y: n\n"
         "    query: SELECT id, status, 1 AS n FROM sites ORDER BY id\n"
         "  - key: all\n    shape: rows\n    query: SELECT id, status FROM sites ORDER BY id\n");
    xproc p;
    xrun(&p, dir, XARGS("run", "--db", db, "--specs", specs, "--now", T0, "--quiet"), NULL);
    ck_assert_msg(p.status == 0, "%s", p.err);
    xfree(&p);
    static const char *const garbage[] = {
        "UPDATE dashspec_state SET failures = 'abc', last_attempt = x'00ff', last_success = 12345, next_attempt = NULL,"
        " spec_hash = 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz', value_bytes = -5, last_duration_ms = 1e300, entries = 'x'"
        " WHERE cache_key = 'n_sites'",
        "UPDATE dashspec_state SET failures = 9223372036854775807, last_error = printf('%.*c', 100000, 'e'),"
        " last_attempt = '2026-02-12 09:59:00' WHERE cache_key = 'by_status'",
        "UPDATE dashspec_state SET failures = -9223372036854775808, last_duration_ms = -9223372036854775808"
        " WHERE cache_key = 'one'",
        "UPDATE dashspec_state SET last_duration_ms = 9223372036854775807, failures = 62 WHERE cache_key = 'all'",
        "UPDATE dashboard_cache SET created_at = '9999-99-99 99:99:99', expires_at = '' WHERE cache_key = 'ser'",
        "UPDATE dashboard_cache SET created_at = '0000-01-01 00:00:00', expires_at = '9999-12-31 23:59:59' WHERE cache_key = 'all'",
        "INSERT INTO dashboard_cache VALUES ('zz_orphan', x'ff00', 'x', 'y')",
        "UPDATE dashspec_plan SET ttl = -1, refresh = 9223372036854775807, timeout = 0, max_rows = -3, max_bytes = 0"
        " WHERE key = 'n_sites'",
        "UPDATE dashspec_plan SET ttl = 'abc', refresh = 1e300 WHERE key = 'by_status'",
        "UPDATE dashspec_plan SET timeout = 9223372036854775807, max_rows = 9223372036854775807,"
        " max_bytes = 9223372036854775807, ttl = 9223372036854775807 WHERE key = 'one'",
        "INSERT INTO dashspec_runs (started_at, finished_at, status, items_run, items_ok, items_failed, skipped, entries,"
        " duration_ms, summary) VALUES ('x', 'y', 'ok', 1, 1, 1, 1, 1, 9223372036854775807, 'not json')",
    };
    for (size_t i = 0; i < sizeof garbage / sizeof *garbage; i++) ds_sql(db, garbage[i]);
    const char *const cmds[][8] = {
        {"run", "--db", db, "--now", T0, NULL},
        {"run", "--db", db, "--now", "2026-02-12 10:30:00", "--jobs", "1", NULL},
        {"run", "--db", db, "--force", "--jobs", "3", NULL},
        {"run", "--db", db, "--dry-run", NULL},
        {"status", "--db", db, NULL},
        {"status", "--db", db, "--json", NULL},
        {"get", "--db", db, "ser", "--stale", NULL},
        {"get", "--db", db, "zz_orphan", "--stale", NULL},
        {"list", "--db", db, NULL},
        {"explain", "--db", db, "one", NULL},
        {"preview", "--db", db, "one", NULL},
        {"preview", "--db", db, "n_sites", NULL},
        {"clear", "--db", db, "zz*", NULL},
    };
    for (size_t c = 0; c < sizeof cmds / sizeof *cmds; c++) {
        xrun(&p, dir, cmds[c], NULL);
        ck_assert_msg(p.status <= 5, "%s %s: exit %d\n%s", cmds[c][0], cmds[c][3], p.status, p.err);
        ck_assert_msg(!strstr(p.err, "runtime error") && !strstr(p.err, "Sanitizer"), "%s: %s", cmds[c][0], p.err);
        xfree(&p);
    }
    assert_xq(db, "PRAGMA integrity_check", "ok");
    /* a plan row whose JSON columns do not parse */
    ds_sql(db, "UPDATE dashspec_plan SET options = '{\"x\": 5, \"y\": {}', tags = 'nope' WHERE key = 'all'");
    xrun(&p, dir, XARGS("run", "--db", db, "--force"), NULL);
    ck_assert_msg(p.status == 5 && strstr(p.err, "damaged"), "exit %d: %s", p.status, p.err);
    xfree(&p);
    xrun(&p, dir, XARGS("status", "--db", db), NULL);
    ck_assert_msg(p.status == 5 && strstr(p.err, "damaged"), "exit %d: %s", p.status, p.err);
    xfree(&p);
    /* compile repairs the plan; the next run is clean */
    xrun(&p, dir, XARGS("compile", "--db", db, "--specs", specs), NULL);
    ck_assert_msg(p.status == 0, "%s", p.err);
    xfree(&p);
    xrun(&p, dir, XARGS("run", "--db", db, "--force", "--now", "2026-02-12 11:00:00"), NULL);
    ck_assert_msg(p.status == 0, "exit %d: %s", p.status, p.err);
    xfree(&p);
    assert_xq(db, "SELECT count(*) FROM dashboard_cache WHERE created_at = '2026-02-12 11:00:00'", "5");
}
END_TEST

/* ---------------------------------------------------------------- connection flags */

static int dbconfig(sqlite3 *h, int op)
{
    int v = -1;
    ck_assert_int_eq(sqlite3_db_config(h, op, -1, &v), SQLITE_OK);
    return v;
}

/* Every connection ds_db_open hands out carries the defences. */
START_TEST(connections_are_hardened)
{
    ds_sql(db, "CREATE TRIGGER t AFTER INSERT ON sites BEGIN INSERT INTO audit VALUES ('x'); END;");
    static const int modes[] = {DS_DB_READONLY, DS_DB_READWRITE, DS_DB_MEMORY};
    for (int m = 0; m < 3; m++) {
        ds_diag d;
        ds_diag_init(&d);
        ds_db *c = NULL;
        ck_assert_int_eq(ds_db_open(modes[m] == DS_DB_MEMORY ? NULL : db, modes[m], &c, &d), 0);
        sqlite3 *h = ds_sqlite_handle(c);
        ck_assert_int_eq(dbconfig(h, SQLITE_DBCONFIG_DEFENSIVE), 1);
        ck_assert_int_eq(dbconfig(h, SQLITE_DBCONFIG_TRUSTED_SCHEMA), 0);
        ck_assert_int_eq(dbconfig(h, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION), 0);
        ck_assert_int_eq(dbconfig(h, SQLITE_DBCONFIG_ENABLE_FKEY), 0);
        ck_assert_int_eq(sqlite3_limit(h, SQLITE_LIMIT_ATTACHED, -1), 0);
        if (modes[m] == DS_DB_READWRITE) {
            ck_assert_int_eq(dbconfig(h, SQLITE_DBCONFIG_ENABLE_TRIGGER), 0);
            /* and so the application's trigger does not fire */
            ck_assert_int_eq(sqlite3_exec(h, "INSERT INTO sites VALUES (999, 'x', 'y')", NULL, NULL, NULL), SQLITE_OK);
        }
        if (modes[m] == DS_DB_READONLY)
            ck_assert_int_ne(sqlite3_exec(h, "INSERT INTO audit VALUES ('ro')", NULL, NULL, NULL), SQLITE_OK);
        ck_assert_int_ne(sqlite3_exec(h, "SELECT load_extension('/nonexistent/evil.so')", NULL, NULL, NULL), SQLITE_OK);
        ck_assert_int_ne(sqlite3_exec(h, "ATTACH ':memory:' AS x", NULL, NULL, NULL), SQLITE_OK);
        ds_db_close(c);
        ds_diag_free(&d);
    }
    assert_xq(db, "SELECT count(*) FROM audit", "0");
    assert_xq(db, "SELECT count(*) FROM sites WHERE id = 999", "1");
}
END_TEST

Suite *hostile_suite(void)
{
    Suite *s = suite_create("hostile");
    TCase *tc = tcase_create("hostile");
    tcase_add_checked_fixture(tc, setup, teardown);
    /* The whole suite takes about 9 s here (memory bombs and runaway queries
     * wait out their limits); per test, 600 s for valgrind. */
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, hostile_specs_are_refused_at_check_and_run);
    tcase_add_test(tc, tampered_plan_rows_are_refused_at_run);
    tcase_add_test(tc, hostile_triggers_and_cascades_write_nothing);
    tcase_add_test(tc, hostile_views_cannot_widen_a_query);
    tcase_add_test(tc, hostile_schema_scripts_cannot_touch_files);
    tcase_add_test(tc, memory_bombs_fail_small);
    tcase_add_test(tc, hostile_values_stay_valid_json);
    tcase_add_test(tc, garbage_in_dashspec_tables);
    tcase_add_test(tc, connections_are_hardened);
    suite_add_tcase(s, tc);
    /* Tagged "slow" (make test skips them, make test-slow runs them): runaway queries
     * wait out their timeouts: 8 s on the loaded 2-core machine. */
    tc = tcase_create("slow");
    tcase_set_tags(tc, "slow");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, runaway_queries_time_out);
    suite_add_tcase(s, tc);
    return s;
}

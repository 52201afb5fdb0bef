/*
 * fuzz_run.c — libFuzzer harness over the whole path from a spec file to
 * cached values: the input is one spec file; it is loaded and validated
 * against a fixture database holding data, the good items are stored into
 * dashspec_plan and read back (the plan's round trip must keep every key
 * and spec hash), and every item read back is executed and shaped. Each
 * value must be valid JSON text: it parses, it is valid UTF-8, and it holds
 * no raw control character. Nothing may crash, leak or trip a sanitizer.
 *
 * Timeouts are capped at 1s and max_bytes at 1 MiB so a slow or huge query
 * costs the fuzzer little; the database lives in $TMPDIR (one per process).
 */
#include <cJSON.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ds_compiler.h"
#include "ds_runtime.h"

static char db_path[4096];
static ds_db *rw;

static const char data_sql[] =
    "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c LIMIT 60)"
    " INSERT INTO sites (id, domain, status, created_at, updated_at)"
    " SELECT n, 'site' || n || '.example', CASE n % 4 WHEN 0 THEN 'new' WHEN 1 THEN 'live' WHEN 2 THEN 'dead' ELSE 'live ' || char(233) END,"
    " datetime('2026-02-12 10:00:00', '-' || (n * 37) || ' minutes'), CASE WHEN n % 3 = 0 THEN NULL ELSE '2026-02-12' END FROM c;"
    "INSERT INTO messages (site_id, channel, direction, created_at, replied_at)"
    " SELECT id, CASE id % 2 WHEN 0 THEN 'email' ELSE 'sms' END, 'out', created_at,"
    " CASE WHEN id % 5 = 0 THEN datetime(created_at, '+1 hour') END FROM sites;"
    "INSERT INTO llm_usage (stage, tokens, cost_usd, created_at)"
    " SELECT CASE id % 3 WHEN 0 THEN 'draft' WHEN 1 THEN 'score' ELSE x'ff' END, id * 1000, id * 0.1, created_at FROM sites;"
    "INSERT INTO errors (site_id, kind, http_code, message, resolved, created_at)"
    " SELECT id, 'http', 400 + id % 5, 'bad \"thing\"' || char(10) || id, id % 2, created_at FROM sites;";

static void cleanup(void)
{
    ds_db_close(rw);
    rw = NULL;
    if (db_path[0]) {
        char j[4200];
        unlink(db_path);
        snprintf(j, sizeof j, "%s-journal", db_path);
        unlink(j);
    }
}

/* The fixture database: the spec fixtures' schema, some rows, dashspec's tables. */
static ds_db *fixture(void)
{
    static int tried;
    if (tried) return rw;
    tried = 1;
    const char *t = getenv("TMPDIR");
    snprintf(db_path, sizeof db_path, "%s/dashspec-fuzz-run-%ld.db", t && *t ? t : "/tmp", (long)getpid());
    unlink(db_path);
    sqlite3 *h = NULL;
    if (sqlite3_open(db_path, &h) != SQLITE_OK) { sqlite3_close(h); return NULL; }
    const char *path = getenv("DS_FUZZ_SCHEMA");
    char *sql = ds_read_file(path ? path : "tests/fixtures/schema.sql", NULL);
    int ok = sql && sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK &&
             sqlite3_exec(h, data_sql, NULL, NULL, NULL) == SQLITE_OK;
    if (!ok) { fprintf(stderr, "fuzz_run: cannot build the fixture database: %s\n", sqlite3_errmsg(h)); abort(); }
    free(sql);
    sqlite3_close(h);
    ds_diag d;
    ds_diag_init(&d);
    if (ds_db_open(db_path, DS_DB_READWRITE, &rw, &d) || ds_db_migrate(rw, &d)) {
        fprintf(stderr, "fuzz_run: cannot open the fixture database\n");
        abort();
    }
    ds_diag_free(&d);
    atexit(cleanup);
    return rw;
}

/* Valid UTF-8 with no raw control character (what a JSON value must be). */
static int clean_text(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        if (c < 0x20) return 0;
        if (c < 0x80) { i++; continue; }
        size_t k = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (!k || i + k > n) return 0;
        unsigned lo = 0x80, hi = 0xBF;
        if (c == 0xE0) lo = 0xA0;
        else if (c == 0xED) hi = 0x9F;
        else if (c == 0xF0) lo = 0x90;
        else if (c == 0xF4) hi = 0x8F;
        if (s[i + 1] < lo || s[i + 1] > hi) return 0;
        for (size_t j = 2; j < k; j++)
            if (s[i + j] < 0x80 || s[i + j] > 0xBF) return 0;
        i += k;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ds_db *db = fixture();
    ds_plan p, back;
    ds_diag d;
    ds_plan_init(&p);
    ds_plan_init(&back);
    ds_diag_init(&d);
    ds_spec_load_buf("fuzz.yaml", (const char *)data, size, &p, &d);
    ds_sql_validate(db, &p, &d);

    /* keep the good items, with cheap limits */
    size_t k = 0;
    for (size_t i = 0; i < p.n; i++) {
        ds_item *it = &p.items[i];
        if (it->bad || !it->key) { ds_item_free(it); continue; }
        for (size_t j = 0; j < k; j++)
            if (strcmp(p.items[j].key, it->key) == 0) { it->bad = 1; break; }
        if (it->bad) { ds_item_free(it); continue; }
        if (it->timeout > 1) it->timeout = 1;
        if (it->max_bytes > 1048576) it->max_bytes = 1048576;
        p.items[k++] = *it;
    }
    p.n = k;

    int changed = 0;
    if (ds_plan_store(db, &p, &changed, &d) == 0 && ds_plan_load(db, &back, &d) == 0) {
        /* the round trip keeps every item: same keys, same spec hashes */
        if (back.n != p.n) { fprintf(stderr, "plan round trip: %zu items stored, %zu read\n", p.n, back.n); abort(); }
        for (size_t i = 0; i < back.n; i++) {
            const ds_item *b = &back.items[i];
            const ds_item *a = NULL;
            for (size_t j = 0; j < p.n && !a; j++)
                if (strcmp(p.items[j].key, b->key) == 0) a = &p.items[j];
            if (!a || strcmp(a->hash, b->hash) != 0 || strcmp(a->query, b->query) != 0 || a->shape != b->shape) {
                fprintf(stderr, "plan round trip changed item '%s'\n", b->key);
                abort();
            }
        }
        ds_exec *x = ds_exec_new(db_path, &d);
        for (size_t i = 0; x && i < back.n; i++) {
            ds_result r;
            char *err = NULL;
            int64_t now = 1770890400;   /* 2026-02-12 10:00:00 */
            if (ds_exec_item(x, &back.items[i], now, &r, &err) == 0) {
                cJSON *j = cJSON_ParseWithLength(r.json, r.len);
                if (!j || !clean_text((const unsigned char *)r.json, r.len) || strlen(r.json) != r.len) {
                    fprintf(stderr, "item '%s': bad value: %.*s\n", back.items[i].key, (int)r.len, r.json);
                    abort();
                }
                cJSON_Delete(j);
                ds_result_free(&r);
            } else if (!err || !*err) {
                fprintf(stderr, "item '%s' failed without a message\n", back.items[i].key);
                abort();
            }
            free(err);
        }
        ds_exec_free(x);
    }
    ds_plan_free(&back);
    ds_plan_free(&p);
    ds_diag_free(&d);
    return 0;
}

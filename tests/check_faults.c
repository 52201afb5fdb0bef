/*
 * check_faults.c — dashspec under faults (issue #6): bad database files
 * (missing, garbage, truncated, a corrupt page, read-only, a read-only
 * directory, a directory, locked by another writer past --busy-timeout),
 * allocation failure at every point of check and run, disk full and I/O
 * errors at every write, SIGKILL/SIGTERM at random moments, and four runs
 * racing for one database.
 *
 * What every case asserts: no crash (no signal but the one sent), a clean
 * error (an exit code of the contract and a message), no leak (the fault
 * shim's count of blocks still live at exit that the C library did not
 * allocate; valgrind when DS_VALGRIND=1), nothing lost or torn (PRAGMA
 * integrity_check, and every cached value equals the reference value
 * computed for the time in its created_at), state consistent with the
 * cache, and the next run recovers.
 *
 * Sizes: the suite samples the fault points (a stride over allocation and
 * write numbers, 12 kills); `make faults` (DS_FAULT_FULL=1) tries every one
 * and `make killtest` kills 200 times (DS_KILL_ROUNDS). Under valgrind the
 * samples are smaller still. No test asserts a duration.
 */
#include <cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include "ds_common.h"
#include "ds_test.h"
#include "fault/proc.h"

static char *dir;
static char db[4096], specs[4096], base[4096];

#define T0 "2026-02-12 10:00:00"
#define T1 "2026-02-12 13:00:00"

static const char faults_yaml[] =
    "version: 1\n"
    "defaults: { ttl: 1h, refresh: 30m }\n"
    "metrics:\n"
    "  - key: m_count\n"
    "    shape: scalar\n"
    "    query: SELECT count(*) FROM sites WHERE created_at <= :now\n"
    "  - key: m_status\n"
    "    shape: map\n"
    "    query: SELECT status, count(*) FROM sites WHERE created_at <= :now GROUP BY status ORDER BY status\n"
    "  - key: m_last\n"
    "    shape: row\n"
    "    query: SELECT max(id) AS id, max(created_at) AS at, :now AS now FROM sites WHERE created_at <= :now\n"
    "  - key: m_params\n"
    "    shape: row\n"
    "    params: { hours: 6, label: \"x\", ratio: 0.5, on: true }\n"
    "    query: |\n"
    "      SELECT :label AS label, :ratio * count(*) AS r, :on AS o FROM sites\n"
    "      WHERE created_at >= datetime(:now, '-' || :hours || ' hours') AND created_at <= :now\n"
    "  - key: m_big\n"
    "    shape: rows\n"
    "    query: SELECT id, status, pad FROM sites WHERE created_at <= :now ORDER BY id\n"
    "charts:\n"
    "  - key: c_hourly\n"
    "    shape: series\n"
    "    x: hour\n"
    "    y: n\n"
    "    series_by: status\n"
    "    query: |\n"
    "      SELECT strftime('%Y-%m-%d %H:00', created_at) AS hour, status, count(*) AS n FROM sites\n"
    "      WHERE created_at <= :now AND created_at >= datetime(:now, '-48 hours')\n"
    "      GROUP BY hour, status ORDER BY hour, status\n"
    "  - key: c_points\n"
    "    shape: series\n"
    "    x: d\n"
    "    y: [a, b]\n"
    "    query: SELECT date(created_at) AS d, count(*) AS a, sum(id) AS b FROM sites WHERE created_at <= :now GROUP BY d ORDER BY d\n";

/* 600 sites, one every 10 minutes from 2026-02-10 00:00: the values depend
 * on :now, so runs at different times write different values. */
static const char app_schema[] =
    "CREATE TABLE sites (id INTEGER PRIMARY KEY, status TEXT NOT NULL, created_at TEXT NOT NULL, pad TEXT);"
    "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c LIMIT 600)"
    " INSERT INTO sites SELECT n, CASE n % 4 WHEN 0 THEN 'new' WHEN 1 THEN 'done' WHEN 2 THEN 'open' ELSE 'lost' END,"
    " datetime('2026-02-10 00:00:00', '+' || (n * 10) || ' minutes'), printf('%0200d', n) FROM c;";

static int full(void)
{
    const char *f = getenv("DS_FAULT_FULL");
    return f && strcmp(f, "1") == 0;
}

static void setup(void)
{
    dir = ds_tmpdir();
    snprintf(db, sizeof db, "%s/work.db", dir);
    snprintf(base, sizeof base, "%s/base.db", dir);
    snprintf(specs, sizeof specs, "%s/specs", dir);
    ds_sql(base, app_schema);
    free(ds_write(dir, "specs/faults.yaml", faults_yaml));
}

static void teardown(void)
{
    ds_tmp_cleanup(dir);
}

static char *path_in(const char *name)
{
    return ds_asprintf("%s/%s", dir, name);
}

/* ---------------------------------------------------------------- reference values */

/* The cache as (key, value, created_at) rows. */
typedef struct kv { char *key, *value, *created; } kv;
typedef struct snap { kv *v; size_t n; } snap;

static void snap_free(snap *s)
{
    for (size_t i = 0; i < s->n; i++) { free(s->v[i].key); free(s->v[i].value); free(s->v[i].created); }
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

static void snap_take(const char *path, snap *s)
{
    memset(s, 0, sizeof *s);
    sqlite3 *h = xopen(path);
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT cache_key, cache_value, created_at FROM dashboard_cache ORDER BY cache_key",
                                        -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        s->v = realloc(s->v, (s->n + 1) * sizeof *s->v);
        ck_assert_ptr_nonnull(s->v);
        s->v[s->n].key = strdup((const char *)sqlite3_column_text(st, 0));
        s->v[s->n].value = strdup((const char *)sqlite3_column_text(st, 1));
        s->v[s->n].created = strdup((const char *)sqlite3_column_text(st, 2));
        s->n++;
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
}

static const kv *snap_get(const snap *s, const char *key)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].key, key) == 0) return &s->v[i];
    return NULL;
}

/* Reference values: the cache after a clean forced run at each time. */
typedef struct refs { const char *const *nows; size_t n; snap *s; } refs;

static void refs_build(refs *r, const char *specs_dir, const char *const *nows, size_t n)
{
    r->nows = nows;
    r->n = n;
    r->s = calloc(n, sizeof *r->s);
    ck_assert_ptr_nonnull(r->s);
    char *scratch = path_in("ref.db");
    for (size_t i = 0; i < n; i++) {
        copy_file(base, scratch);
        xproc p;
        xrun(&p, dir, XARGS("run", "--db", scratch, "--specs", specs_dir, "--now", nows[i], "--force", "--quiet"), NULL);
        ck_assert_msg(p.status == 0 || p.status == 1, "reference run at %s: exit %d: %s", nows[i], p.status, p.err);
        xfree(&p);
        snap_take(scratch, &r->s[i]);
        ck_assert_int_gt(r->s[i].n, 0);
    }
    free(scratch);
}

static void refs_free(refs *r)
{
    for (size_t i = 0; i < r->n; i++) snap_free(&r->s[i]);
    free(r->s);
}

/* Nothing lost or torn: the database is intact, every key of `before` still
 * has a value, and every value is exactly the reference value for the time
 * it was computed at (so it is a complete old or new value, never a mix). */
static void assert_consistent(const char *path, const refs *r, const snap *before, const char *ctx)
{
    assert_xq(path, "PRAGMA integrity_check", "ok");
    snap now;
    snap_take(path, &now);
    for (size_t i = 0; before && i < before->n; i++)
        ck_assert_msg(snap_get(&now, before->v[i].key) != NULL, "%s: the value of %s was lost", ctx, before->v[i].key);
    for (size_t i = 0; i < now.n; i++) {
        const kv *e = &now.v[i];
        size_t k = 0;
        while (k < r->n && strcmp(r->nows[k], e->created) != 0) k++;
        ck_assert_msg(k < r->n, "%s: %s has created_at %s, no run was at that time", ctx, e->key, e->created);
        const kv *want = snap_get(&r->s[k], e->key);
        ck_assert_msg(want != NULL, "%s: %s has no reference value at %s", ctx, e->key, e->created);
        ck_assert_msg(strcmp(want->value, e->value) == 0, "%s: %s at %s is torn or wrong:\n got  %.200s\n want %.200s",
                      ctx, e->key, e->created, e->value, want->value);
        cJSON *j = cJSON_Parse(e->value);
        ck_assert_msg(j != NULL, "%s: %s is not JSON", ctx, e->key);
        cJSON_Delete(j);
    }
    /* dashspec_state agrees with the cache: both are written in one transaction */
    char *bad = xq(path,
        "SELECT group_concat(c.cache_key) FROM dashboard_cache c LEFT JOIN dashspec_state s USING (cache_key) "
        "WHERE s.cache_key IS NULL OR s.last_success IS NOT c.created_at OR s.value_bytes IS NOT length(CAST(c.cache_value AS BLOB)) "
        "OR s.spec_hash IS NOT (SELECT spec_hash FROM dashspec_plan p WHERE p.key = c.cache_key)");
    ck_assert_msg(bad == NULL, "%s: dashspec_state disagrees with dashboard_cache for %s", ctx, bad);
    bad = xq(path, "SELECT group_concat(cache_key) FROM dashspec_state WHERE failures < 0 "
                   "OR (failures > 0 AND last_error IS NULL) OR (failures = 0 AND last_error IS NOT NULL)");
    ck_assert_msg(bad == NULL, "%s: inconsistent failure state for %s", ctx, bad);
    bad = xq(path, "SELECT group_concat(id) FROM dashspec_runs WHERE items_run <> items_ok + items_failed "
                   "OR status NOT IN ('ok', 'partial', 'failed') OR finished_at < started_at OR json_valid(summary) = 0");
    ck_assert_msg(bad == NULL, "%s: inconsistent dashspec_runs rows %s", ctx, bad);
    snap_free(&now);
}

/* The shim's report of one child: "allocs=A failed=F live=L leaked=K io=I iofailed=J". */
typedef struct report { long allocs, failed, live, leaked, io, iofailed; char *text; } report;

static void report_read(const char *path, report *r, const xproc *p)
{
    memset(r, 0, sizeof *r);
    r->text = ds_slurp(path);
    ck_assert_msg(r->text != NULL, "the fault shim wrote no report (%s); exit %d:\n%s", path, p->status, p->err);
    int n = sscanf(r->text, "allocs=%ld failed=%ld live=%ld leaked=%ld io=%ld iofailed=%ld", &r->allocs, &r->failed,
                   &r->live, &r->leaked, &r->io, &r->iofailed);
    ck_assert_msg(n == 6, "bad shim report: %s", r->text);
    remove(path);
}

/* Runs argv with the shim preloaded and env (NULL-terminated) added; fills
 * p and rep. */
static void run_shim(xproc *p, report *rep, const char *const *argv, const char *const *env)
{
    char *so = fault_so(), *rp = path_in("shim.report");
    remove(rp);
    char *pre = ds_asprintf("LD_PRELOAD=%s", so), *rep_env = ds_asprintf("DSF_REPORT=%s", rp);
    const char *e[16];
    size_t k = 0;
    e[k++] = pre;
    e[k++] = rep_env;
    e[k++] = "DSF_ONLY=dashspec";
    for (const char *const *x = env; x && *x && k < 15; x++) e[k++] = *x;
    e[k] = NULL;
    xrun(p, dir, argv, e);
    report_read(rp, rep, p);
    free(pre);
    free(rep_env);
    free(so);
    free(rp);
}

/* The points of a loop over 1..total: all of them in full mode, else about
 * `samples` spread evenly (always including the first and the last). */
static long next_point(long n, long total, long samples)
{
    if (full() || total <= samples) return n + 1;
    long step = total / samples;
    if (step < 1) step = 1;
    if (n + step > total && n < total) return total;
    return n + step;
}

/* ---------------------------------------------------------------- files */

/* A database that is missing, not a database, a directory, truncated:
 * every command that opens it exits 5 with one clear line, never creates
 * or changes the file. */
START_TEST(bad_database_files)
{
    char *missing = path_in("missing.db"), *junk = path_in("junk.db"), *dirdb = path_in("dir.db"),
         *trunc = path_in("trunc.db");
    ck_assert_int_eq(mkdir(dirdb, 0755), 0);
    free(ds_write(dir, "junk.db", "SQLite format 2\nthis is not a database at all, just some text that is long enough to look like one"));
    xproc p;
    xrun(&p, dir, XARGS("run", "--db", base, "--specs", specs, "--now", T0, "--quiet"), NULL);
    ck_assert_msg(p.status == 0, "%s", p.err);
    xfree(&p);
    struct stat sb;
    ck_assert_int_eq(stat(base, &sb), 0);
    size_t blen;
    char *bytes = slurp_n(base, &blen);
    FILE *f = fopen(trunc, "wb");
    fwrite(bytes, 1, blen / 2, f);
    fclose(f);
    free(bytes);

    const char *const files[] = {missing, junk, dirdb, trunc};
    for (size_t i = 0; i < 4; i++) {
        size_t len0 = 0, len1 = 0;
        char *before = i == 1 || i == 3 ? slurp_n(files[i], &len0) : NULL;
        const char *const cmds[][10] = {
            {"run", "--db", files[i], "--now", T1, NULL},
            {"run", "--db", files[i], "--specs", specs, "--force", NULL},
            {"run", "--db", files[i], "--dry-run", NULL},
            {"compile", "--db", files[i], "--specs", specs, NULL},
            {"check", "--db", files[i], "--specs", specs, NULL},
            {"get", "--db", files[i], "m_count", "--stale", NULL},
            {"status", "--db", files[i], NULL},
            {"clear", "--db", files[i], NULL},
            {"migrate", "--db", files[i], NULL},
            {"preview", "--db", files[i], "m_count", NULL},
        };
        for (size_t c = 0; c < sizeof cmds / sizeof *cmds; c++) {
            xrun(&p, dir, cmds[c], NULL);
            ck_assert_msg(p.status == 5, "%s on %s: exit %d: %s", cmds[c][0], files[i], p.status, p.err);
            ck_assert_msg(strstr(p.err, "error") != NULL && strstr(p.err, files[i]) != NULL,
                          "%s on %s: unclear message: %s", cmds[c][0], files[i], p.err);
            xfree(&p);
        }
        if (i == 0) ck_assert_int_ne(access(missing, F_OK), 0);
        if (before) {
            char *after = slurp_n(files[i], &len1);
            ck_assert_msg(len0 == len1 && memcmp(before, after, len0) == 0, "%s was changed", files[i]);
            free(after);
            free(before);
        }
        char *j = ds_asprintf("%s-journal", files[i]);
        ck_assert_msg(access(j, F_OK) != 0, "%s was left behind", j);
        free(j);
    }
    free(missing);
    free(junk);
    free(dirdb);
    free(trunc);
}
END_TEST

/* A page of the database overwritten with garbage: items reading it fail
 * (exit 1), or the run stops with 5 when dashspec's own pages are hit; no
 * crash either way, and the next run on a repaired copy is clean. */
START_TEST(corrupt_pages)
{
    xproc p;
    xrun(&p, dir, XARGS("run", "--db", base, "--specs", specs, "--now", T0, "--quiet"), NULL);
    ck_assert_msg(p.status == 0, "%s", p.err);
    xfree(&p);
    struct stat sb;
    ck_assert_int_eq(stat(base, &sb), 0);
    long pages = (long)(sb.st_size / 4096);
    int saw1 = 0, saw5 = 0;
    for (long pg = 2; pg <= pages; pg += pages / 12 > 0 ? pages / 12 : 1) {
        copy_file(base, db);
        FILE *f = fopen(db, "r+b");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(fseek(f, (pg - 1) * 4096, SEEK_SET), 0);
        unsigned int x = (unsigned int)pg * 2654435761u;
        for (int i = 0; i < 4096; i++) { x = x * 1103515245u + 12345u; fputc((int)(x >> 16) & 0xff, f); }
        fclose(f);
        xrun(&p, dir, XARGS("run", "--db", db, "--now", T1, "--force", "--jobs", "1"), NULL);
        ck_assert_msg(p.status == 0 || p.status == 1 || p.status == 5, "page %ld: exit %d: %s", pg, p.status, p.err);
        if (p.status != 0) ck_assert_msg(strstr(p.err, "error") != NULL, "page %ld: no message", pg);
        saw1 |= p.status == 1;
        saw5 |= p.status == 5;
        xfree(&p);
    }
    ck_assert_msg(saw1 && saw5, "expected both item failures and a stopped run (saw1=%d saw5=%d)", saw1, saw5);
}
END_TEST

/* Read-only: a file without write permission, and a writable file in a
 * directory where no journal can be created. run exits 5 and changes
 * nothing; the readers still work. */
START_TEST(read_only_database)
{
    xproc p;
    copy_file(base, db);
    xrun(&p, dir, XARGS("run", "--db", db, "--specs", specs, "--now", T0, "--quiet"), NULL);
    ck_assert_msg(p.status == 0, "%s", p.err);
    xfree(&p);
    ck_assert_int_eq(chmod(dir, 0755), 0);
    const xopts nobody = {.nobody = 1};
    for (int variant = 0; variant < 2; variant++) {
        if (variant == 0) {
            ck_assert_int_eq(chmod(db, 0444), 0);
        } else {
            ck_assert_int_eq(chmod(db, 0666), 0);
            ck_assert_int_eq(chmod(dir, 0555), 0);
        }
        size_t l0, l1;
        char *before = slurp_n(db, &l0);
        xrun_o(&p, dir, XARGS("run", "--db", db, "--now", T1, "--force"), NULL, &nobody);
        ck_assert_msg(p.status == 5, "variant %d: exit %d: %s", variant, p.status, p.err);
        ck_assert_msg(strstr(p.err, "error") != NULL, "variant %d: %s", variant, p.err);
        xfree(&p);
        xrun_o(&p, dir, XARGS("compile", "--db", db, "--specs", specs), NULL, &nobody);
        if (variant == 0) {
            ck_assert_msg(p.status == 5, "variant %d: compile exit %d: %s", variant, p.status, p.err);
        } else {
            /* the same specs: nothing to write, so nothing fails */
            ck_assert_msg(p.status == 0 && (strstr(p.out, "unchanged") || strstr(p.err, "unchanged")),
                          "variant %d: compile exit %d: %s%s", variant, p.status, p.out, p.err);
        }
        xfree(&p);
        xrun_o(&p, dir, XARGS("clear", "--db", db), NULL, &nobody);
        ck_assert_msg(p.status == 5, "variant %d: clear exit %d: %s", variant, p.status, p.err);
        xfree(&p);
        xrun_o(&p, dir, XARGS("get", "--db", db, "--now", T0, "m_count"), NULL, &nobody);
        ck_assert_msg(p.status == 0, "variant %d: get exit %d: %s", variant, p.status, p.err);
        xfree(&p);
        xrun_o(&p, dir, XARGS("run", "--db", db, "--now", T1, "--dry-run"), NULL, &nobody);
        ck_assert_msg(p.status == 0, "variant %d: dry run exit %d: %s", variant, p.status, p.err);
        xfree(&p);
        char *after = slurp_n(db, &l1);
        ck_assert_msg(l0 == l1 && memcmp(before, after, l0) == 0, "variant %d: the database changed", variant);
        free(before);
        free(after);
    }
    chmod(dir, 0755);
    chmod(db, 0644);
}
END_TEST

/* Locked by another writer for longer than --busy-timeout: with a write
 * lock held (readers still allowed) each item fails "database is locked"
 * and the run goes on (exit 1); with an exclusive lock even the plan cannot
 * be read (exit 5). Values are kept and the next run is clean. */
START_TEST(locked_past_busy_timeout)
{
    xproc p;
    copy_file(base, db);
    xrun(&p, dir, XARGS("run", "--db", db, "--specs", specs, "--now", T0, "--quiet"), NULL);
    ck_assert_msg(p.status == 0, "%s", p.err);
    xfree(&p);
    static const char *const nows[] = {T0, T1};
    refs r;
    refs_build(&r, specs, nows, 2);
    snap before;
    snap_take(db, &before);

    sqlite3 *h = NULL;
    ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(h, "BEGIN IMMEDIATE; UPDATE sites SET pad = pad;", NULL, NULL, NULL), SQLITE_OK);
    xrun(&p, dir, XARGS("run", "--db", db, "--now", T1, "--force", "--busy-timeout", "200ms", "--jobs", "1"), NULL);
    ck_assert_msg(p.status == 1, "reserved: exit %d: %s", p.status, p.err);
    ck_assert_ptr_nonnull(strstr(p.err, "database is locked"));
    xfree(&p);
    ck_assert_int_eq(sqlite3_exec(h, "COMMIT; BEGIN EXCLUSIVE; UPDATE sites SET pad = pad;", NULL, NULL, NULL), SQLITE_OK);
    xrun(&p, dir, XARGS("run", "--db", db, "--now", T1, "--force", "--busy-timeout", "200ms", "--jobs", "1"), NULL);
    ck_assert_msg(p.status == 5, "exclusive: exit %d: %s", p.status, p.err);
    ck_assert_ptr_nonnull(strstr(p.err, "database is locked"));
    xfree(&p);
    ck_assert_int_eq(sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    assert_consistent(db, &r, &before, "after the locks");
    xrun(&p, dir, XARGS("run", "--db", db, "--now", T1, "--force"), NULL);
    ck_assert_msg(p.status == 0, "after the locks: exit %d: %s", p.status, p.err);
    xfree(&p);
    assert_consistent(db, &r, &before, "recovered");
    assert_xq(db, "SELECT count(*) FROM dashboard_cache WHERE created_at = '" T1 "'", "7");
    snap_free(&before);
    refs_free(&r);
}
END_TEST

/* ---------------------------------------------------------------- allocation failure */

/* Fails allocation N of a command for N = 1, 2, ... (a sample in the
 * suite, all of them under `make faults`): never a crash, a message when it
 * fails, no leak, and the database keeps complete values. */
START_TEST(allocation_failure_loop)
{
    static const char *const nows[] = {T0, T1};
    refs r;
    refs_build(&r, specs, nows, 2);
    copy_file(base, db);
    xproc p;
    xrun(&p, dir, XARGS("run", "--db", db, "--specs", specs, "--now", T0, "--quiet"), NULL);
    ck_assert_msg(p.status == 0, "%s", p.err);
    xfree(&p);
    char *start = path_in("start.db");
    copy_file(db, start);
    snap before;
    snap_take(start, &before);
    char *schema = ds_write(dir, "schema.sql",
                            "CREATE TABLE sites (id INTEGER PRIMARY KEY, status TEXT NOT NULL, created_at TEXT NOT NULL, pad TEXT);");

    enum { C_RUN, C_RUN2, C_CHECK, C_COMPILE, C_STATUS, C_GET, NCMD };
    const char *const cmds[NCMD][14] = {
        {"run", "--db", db, "--specs", specs, "--now", T1, "--force", "--jobs", "1", NULL},
        {"run", "--db", db, "--now", T1, "--force", "--jobs", "2", "--quiet", NULL},
        {"check", "--specs", specs, "--schema", schema, "--format", "json", NULL},
        {"compile", "--db", db, "--specs", specs, NULL},
        {"status", "--db", db, "--now", T0, "--json", NULL},
        {"get", "--db", db, "--now", T0, "c_hourly", NULL},
    };
    long samples = under_valgrind() ? 6 : 30;
    long tried = 0, failed_cmds = 0;
    for (int c = 0; c < NCMD; c++) {
        /* how many allocations the command makes when nothing fails */
        copy_file(start, db);
        report rep;
        run_shim(&p, &rep, cmds[c], NULL);
        ck_assert_msg(p.status == 0, "%s without faults: exit %d: %s", cmds[c][0], p.status, p.err);
        ck_assert_msg(rep.leaked == 0, "%s leaks without faults:\n%s", cmds[c][0], rep.text);
        long total = rep.allocs;
        ck_assert_int_gt(total, 10);
        free(rep.text);
        xfree(&p);
        for (long n = 1; n <= total; n = next_point(n, total, samples)) {
            copy_file(start, db);
            char fail[64];
            snprintf(fail, sizeof fail, "DSF_MALLOC_FAIL=%ld", n);
            run_shim(&p, &rep, cmds[c], XARGS(fail));
            tried++;
            ck_assert_msg(p.status == 0 || p.status == 1 || p.status == 2 || p.status == 5,
                          "%s, allocation %ld failed: exit %d\n%s", cmds[c][0], n, p.status, p.err);
            if (p.status != 0) {
                failed_cmds++;
                ck_assert_msg(p.err[0] || p.out[0], "%s, allocation %ld failed: exit %d and no message", cmds[c][0], n,
                              p.status);
            }
            ck_assert_msg(rep.leaked == 0, "%s, allocation %ld failed: leak\n%s", cmds[c][0], n, rep.text);
            char ctx[96];
            snprintf(ctx, sizeof ctx, "%s, allocation %ld failed", cmds[c][0], n);
            if (c != C_CHECK) assert_consistent(db, &r, &before, ctx);
            if ((c == C_RUN || c == C_RUN2) && p.status == 0 && rep.failed > 0) {
                /* absorbed (SQLite retries some allocations): then the run is complete */
                assert_xq(db, "SELECT count(*) FROM dashboard_cache WHERE created_at = '" T1 "'", "7");
            }
            free(rep.text);
            xfree(&p);
        }
    }
    fprintf(stderr, "alloc: %ld failure points tried, %ld commands failed cleanly, none crashed or leaked\n", tried,
            failed_cmds);
    ck_assert_int_gt(failed_cmds, 0);
    free(start);
    free(schema);
    snap_free(&before);
    refs_free(&r);
}
END_TEST

/* ---------------------------------------------------------------- disk full and I/O errors */

/* Writes to the database file and its journal fail from the Kth on (disk
 * full: ENOSPC on writes that grow a file; I/O error: EIO on any write,
 * on fsync, on read). run stops with 5 (or fails items with 1 when only
 * reads fail), keeps every last good value, and the next run recovers. */
START_TEST(disk_full_and_io_errors)
{
    static const char *const nows[] = {T0, T1};
    refs r;
    refs_build(&r, specs, nows, 2);
    copy_file(base, db);
    xproc p;
    xrun(&p, dir, XARGS("run", "--db", db, "--specs", specs, "--now", T0, "--quiet"), NULL);
    ck_assert_msg(p.status == 0, "%s", p.err);
    xfree(&p);
    char *start = path_in("start.db");
    copy_file(db, start);
    snap before;
    snap_take(start, &before);

    static const struct { const char *op, *err, *grow, *want; } kinds[] = {
        {"write", "ENOSPC", "1", "full"},
        {"write", "EIO", "0", "I/O"},
        {"sync", "EIO", "0", "I/O"},
        {"read", "EIO", "0", "I/O"},
    };
    const char *const cmd[] = {"run", "--db", db, "--now", T1, "--force", "--jobs", "1", "--quiet", NULL};
    long samples = under_valgrind() ? 3 : 20;
    long hits = 0;
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        char e_path[64], e_op[32], e_err[32], e_grow[32], e_after[64];
        snprintf(e_path, sizeof e_path, "DSF_IO_PATH=work.db");
        snprintf(e_op, sizeof e_op, "DSF_IO_OP=%s", kinds[k].op);
        snprintf(e_err, sizeof e_err, "DSF_IO_ERRNO=%s", kinds[k].err);
        snprintf(e_grow, sizeof e_grow, "DSF_IO_GROW=%s", kinds[k].grow);
        /* count the matching calls of a clean run */
        copy_file(start, db);
        snprintf(e_after, sizeof e_after, "DSF_IO_AFTER=%ld", 1000000000L);
        report rep;
        run_shim(&p, &rep, cmd, XARGS(e_path, e_op, e_err, e_grow, e_after));
        ck_assert_msg(p.status == 0, "%s without faults: exit %d: %s", kinds[k].op, p.status, p.err);
        long total = rep.io;
        ck_assert_msg(total > 0, "%s: no %s calls seen on the database", kinds[k].err, kinds[k].op);
        free(rep.text);
        xfree(&p);
        for (long after = 0; after < total; after = next_point(after, total - 1, samples)) {
            copy_file(start, db);
            char ctx[96];
            snprintf(ctx, sizeof ctx, "%s %s after %ld", kinds[k].err, kinds[k].op, after);
            snprintf(e_after, sizeof e_after, "DSF_IO_AFTER=%ld", after);
            run_shim(&p, &rep, cmd, XARGS(e_path, e_op, e_err, e_grow, e_after));
            ck_assert_msg(rep.leaked == 0, "%s: leak\n%s", ctx, rep.text);
            if (rep.iofailed > 0) {
                hits++;
                int ok = strcmp(kinds[k].op, "read") == 0 ? (p.status == 1 || p.status == 5) : p.status == 5;
                ck_assert_msg(ok, "%s: exit %d\n%s", ctx, p.status, p.err);
                ck_assert_msg(strstr(p.err, "error") != NULL, "%s: no message", ctx);
            } else {
                ck_assert_msg(p.status == 0, "%s (nothing failed): exit %d\n%s", ctx, p.status, p.err);
            }
            assert_consistent(db, &r, &before, ctx);
            free(rep.text);
            xfree(&p);
            /* the next run, with the disk back, recovers */
            xrun(&p, dir, cmd, NULL);
            ck_assert_msg(p.status == 0, "%s, next run: exit %d\n%s", ctx, p.status, p.err);
            xfree(&p);
            assert_consistent(db, &r, &before, ctx);
            assert_xq(db, "SELECT count(*) FROM dashboard_cache WHERE created_at = '" T1 "'", "7");
        }
    }
    fprintf(stderr, "io: %ld runs hit an injected disk-full or I/O error; every one exited cleanly and kept its values\n",
            hits);
    ck_assert_int_gt(hits, 0);
    free(start);
    snap_free(&before);
    refs_free(&r);
}
END_TEST

/* ---------------------------------------------------------------- kill tests */

static int kill_rounds(void)
{
    const char *s = getenv("DS_KILL_ROUNDS");
    if (s && atoi(s) > 0) return atoi(s);
    return under_valgrind() ? 3 : 12;
}

/* SIGKILL or SIGTERM a run at a random moment, over and over, on a
 * rollback-journal and a WAL database: after each, the database is intact,
 * every value is complete (the reference value of the run that wrote it),
 * state and runs rows are consistent, and the next run recovers (0 or 1:
 * one item always fails, never 4 or 5). */
START_TEST(kill_at_random_moments)
{
    /* heavier specs: more items and bigger values, so kills land mid-run */
    ds_buf y;
    ds_buf_init(&y);
    ds_buf_adds(&y, faults_yaml);
    for (int i = 0; i < 8; i++)
        ds_buf_printf(&y,
            "  - key: k_big%d\n    shape: rows\n    max_bytes: 4000000\n    max_rows: 5000\n"
            "    query: |\n      SELECT a.id, a.pad, b.status FROM sites a JOIN sites b ON b.id = (a.id * %d) %% 600 + 1\n"
            "      WHERE a.created_at <= :now ORDER BY a.id DESC\n", i, i + 2);
    ds_buf_adds(&y, "  - key: k_slow\n    shape: scalar\n    query: |\n"
                    "      WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 300000)\n"
                    "      SELECT count(*) + (SELECT count(*) FROM sites WHERE created_at <= :now) FROM c\n"
                    "  - key: z_broken\n    shape: scalar\n    query: SELECT id FROM sites WHERE created_at <= :now\n");
    free(ds_write(dir, "kspecs/k.yaml", y.p));
    ds_buf_free(&y);
    char *kspecs = path_in("kspecs");

    static const char *const nows[] = {"2026-02-11 06:00:00", "2026-02-11 12:00:00", "2026-02-11 18:00:00",
                                       "2026-02-12 00:00:00", "2026-02-12 06:00:00", "2026-02-12 12:00:00"};
    refs r;
    refs_build(&r, kspecs, nows, 6);

    /* how long a forced run takes here, to aim the kills inside it */
    char *dbs[2] = {path_in("kill-rollback.db"), path_in("kill-wal.db")};
    xproc p;
    long long t_ms = 0;
    for (int j = 0; j < 2; j++) {
        copy_file(base, dbs[j]);
        if (j == 1) ds_sql(dbs[j], "PRAGMA journal_mode = WAL;");
        xrun(&p, dir, XARGS("run", "--db", dbs[j], "--specs", kspecs, "--now", nows[0], "--quiet"), NULL);
        ck_assert_msg(p.status == 1, "first run: exit %d: %s", p.status, p.err);
        xfree(&p);
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        xrun(&p, dir, XARGS("run", "--db", dbs[j], "--now", nows[0], "--force", "--quiet"), NULL);
        clock_gettime(CLOCK_MONOTONIC, &b);
        ck_assert_msg(p.status == 1, "forced run: exit %d: %s", p.status, p.err);
        xfree(&p);
        t_ms += (b.tv_sec - a.tv_sec) * 1000LL + (b.tv_nsec - a.tv_nsec) / 1000000;
    }
    t_ms = t_ms / 2 * 9 / 10 + 5;

    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    const char *s = getenv("DS_KILL_SEED");
    if (s) seed = (unsigned)strtoul(s, NULL, 10);
    srand(seed);
    int rounds = kill_rounds(), killed = 0, termed = 0, partial = 0;
    char out[4200], err[4200];
    snprintf(out, sizeof out, "%s/kill.out", dir);
    snprintf(err, sizeof err, "%s/kill.err", dir);
    for (int i = 0; i < rounds; i++) {
        const char *path = dbs[i % 2];
        const char *now = nows[1 + (i / 2) % 5];
        int sig = rand() % 2 ? SIGKILL : SIGTERM;
        long delay = rand() % (t_ms + 1);
        char ctx[160];
        snprintf(ctx, sizeof ctx, "round %d (seed %u, %s, %s after %ldms, %s)", i, seed, sig == SIGKILL ? "SIGKILL" : "SIGTERM",
                 now, delay, i % 2 ? "wal" : "rollback");
        snap before;
        snap_take(path, &before);
        const char *jobs = rand() % 2 ? "1" : "3";
        pid_t pid = xspawn(XARGS("run", "--db", path, "--now", now, "--force", "--jobs", jobs, "--quiet"), NULL, out, err, NULL);
        msleep(delay);
        kill(pid, sig);
        int st = xwait(pid, NULL);
        char *e = ds_slurp(err);
        /* finished before the signal (0/1), died of it, or (SIGTERM) stopped cleanly */
        int ok = st == 0 || st == 1 || st == 128 + sig || (sig == SIGTERM && st == 128 + SIGTERM);
        ck_assert_msg(ok, "%s: exit %d\n%s", ctx, st, e ? e : "");
        if (under_valgrind()) ck_assert_msg(st != 99, "%s: valgrind:\n%s", ctx, e);
        free(e);
        killed += st == 128 + SIGKILL;
        termed += st == 128 + SIGTERM;
        assert_consistent(path, &r, &before, ctx);
        /* a kill between two commits leaves some values new, some old */
        char *cnt = sqlite3_mprintf("SELECT count(*) FROM dashboard_cache WHERE created_at = %Q", now);
        long long fresh = xq_int(path, cnt), all = xq_int(path, "SELECT count(*) FROM dashboard_cache");
        sqlite3_free(cnt);
        partial += fresh > 0 && fresh < all;
        /* the next run recovers */
        xproc q;
        xrun(&q, dir, XARGS("run", "--db", path, "--now", now, "--quiet"), NULL);
        ck_assert_msg(q.status == 0 || q.status == 1, "%s, next run: exit %d\n%s", ctx, q.status, q.err);
        xfree(&q);
        assert_consistent(path, &r, &before, ctx);
        snap_free(&before);
    }
    fprintf(stderr, "kill: %d rounds (seed %u): %d died of SIGKILL, %d stopped by SIGTERM, %d had finished; "
            "%d left some values new and some old\n", rounds, seed, killed, termed, rounds - killed - termed, partial);
    /* the signals did land mid-run at least sometimes */
    if (rounds >= 12) ck_assert_msg(killed + termed > 0, "no round was interrupted (seed %u)", seed);
    for (int j = 0; j < 2; j++) free(dbs[j]);
    free(kspecs);
    refs_free(&r);
}
END_TEST

/* ---------------------------------------------------------------- racing runs */

static int race_rounds(void)
{
    const char *s = getenv("DS_RACE_ROUNDS");
    if (s && atoi(s) > 0) return atoi(s);
    return under_valgrind() ? 2 : 5;
}

/* Four runs started together, over and over: exactly one works (exit 0),
 * the three others exit 4 at once. One item takes a while, so the winner
 * holds the lock while the others start. */
START_TEST(four_runs_one_works)
{
    free(ds_write(dir, "rspecs/r.yaml",
        "version: 1\ndefaults: { ttl: 1h }\nmetrics:\n"
        "  - key: slow\n    shape: scalar\n    query: |\n"
        "      WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 2000000) SELECT count(*) FROM c\n"
        "  - key: fast\n    shape: scalar\n    query: SELECT count(*) FROM sites\n"));
    char *rspecs = path_in("rspecs");
    copy_file(base, db);
    xproc p;
    xrun(&p, dir, XARGS("compile", "--db", db, "--specs", rspecs), NULL);
    ck_assert_msg(p.status == 0, "%s", p.err);
    xfree(&p);
    int rounds = race_rounds();
    for (int i = 0; i < rounds; i++) {
        int gate[2];
        ck_assert_int_eq(pipe(gate), 0);
        pid_t pids[4];
        for (int k = 0; k < 4; k++) {
            pids[k] = fork();
            ck_assert_int_ge(pids[k], 0);
            if (pids[k] == 0) {
                /* wait at the gate, then become the run (exec, not a
                 * grandchild: under valgrind a forked copy of the test
                 * would report the test's blocks as its leaks) */
                close(gate[1]);
                char c;
                while (read(gate[0], &c, 1) < 0 && errno == EINTR) {}
                xexec(XARGS("run", "--db", db, "--now", T0, "--force", "--quiet"), NULL, NULL, NULL, NULL);
            }
        }
        close(gate[0]);
        close(gate[1]);                 /* opens the gate for all four */
        int zero = 0, four = 0, other = 0, last_other = -1;
        for (int k = 0; k < 4; k++) {
            int st = xwait(pids[k], NULL);
            if (st == 0) zero++;
            else if (st == 4) four++;
            else { other++; last_other = st; }
        }
        ck_assert_msg(zero == 1 && four == 3, "round %d: %d exited 0, %d exited 4, %d otherwise (exit %d)", i, zero,
                      four, other, last_other);
    }
    assert_xq(db, "SELECT cache_value FROM dashboard_cache WHERE cache_key = 'slow'", "2000000");
    assert_xq(db, "PRAGMA integrity_check", "ok");
    free(rspecs);
}
END_TEST

Suite *faults_suite(void)
{
    Suite *s = suite_create("faults");
    int big = full() || getenv("DS_KILL_ROUNDS") || getenv("DS_RACE_ROUNDS");
    TCase *tc = tcase_create("files");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_tags(tc, "slow");     /* the whole suite: make test-slow */
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, bad_database_files);
    tcase_add_test(tc, corrupt_pages);
    tcase_add_test(tc, read_only_database);
    tcase_add_test(tc, locked_past_busy_timeout);
    suite_add_tcase(s, tc);
    tc = tcase_create("alloc");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_tags(tc, "slow");     /* the whole suite: make test-slow */
    tcase_set_timeout(tc, big ? 14400 : 1800);
    tcase_add_test(tc, allocation_failure_loop);
    suite_add_tcase(s, tc);
    tc = tcase_create("io");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_tags(tc, "slow");     /* the whole suite: make test-slow */
    tcase_set_timeout(tc, big ? 14400 : 1800);
    tcase_add_test(tc, disk_full_and_io_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("kill");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_tags(tc, "slow");     /* the whole suite: make test-slow */
    tcase_set_timeout(tc, big ? 14400 : 1800);
    tcase_add_test(tc, kill_at_random_moments);
    suite_add_tcase(s, tc);
    tc = tcase_create("race");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_tags(tc, "slow");     /* the whole suite: make test-slow */
    tcase_set_timeout(tc, big ? 14400 : 1800);
    tcase_add_test(tc, four_runs_one_works);
    suite_add_tcase(s, tc);
    return s;
}

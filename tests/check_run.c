/*
 * check_run.c — `dashspec run` end to end, driving the built binary with
 * --now (no sleeping, except where real time is the point: --watch, signals,
 * kill -9): what is due across successive runs (TTL, refresh, spec change,
 * backoff), failures that keep the last good value, the summary JSON,
 * selection, the run lock, kill -9 at random moments, database errors,
 * parallel runs, and a database locked by another writer.
 */
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "ds_common.h"
#include "ds_run.h"
#include "ds_test.h"

static char *dir;
static char db[4096], specs[4096];

#define T0 "2026-02-12 10:00:00"

static const char main_yaml[] =
    "version: 1\n"
    "defaults:\n"
    "  ttl: 15m\n"
    "  refresh: 10m\n"
    "metrics:\n"
    "  - key: pipeline\n"
    "    group: overview\n"
    "    shape: map\n"
    "    query: SELECT status, COUNT(*) FROM sites GROUP BY status ORDER BY status\n"
    "  - key: total\n"
    "    group: overview\n"
    "    shape: scalar\n"
    "    query: SELECT COUNT(*) FROM sites\n"
    "  - key: flaky_count\n"
    "    group: ops\n"
    "    shape: scalar\n"
    "    ttl: 10m\n"
    "    refresh: 2m\n"
    "    query: SELECT count(*) FROM flaky\n"
    "charts:\n"
    "  - key: by_hour\n"
    "    group: overview\n"
    "    shape: series\n"
    "    x: hour\n"
    "    y: n\n"
    "    query: |\n"
    "      SELECT strftime('%Y-%m-%d %H:00', created_at) AS hour, COUNT(*) AS n FROM sites\n"
    "      WHERE created_at >= datetime(:now, '-24 hours') GROUP BY hour ORDER BY hour\n";

static const char schema[] =
    "CREATE TABLE sites (id INTEGER PRIMARY KEY, status TEXT NOT NULL, created_at TEXT NOT NULL);"
    "CREATE TABLE flaky (v INTEGER);"
    "INSERT INTO flaky VALUES (1), (2);"
    "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c LIMIT 50)"
    " INSERT INTO sites SELECT n, CASE n % 3 WHEN 0 THEN 'new' WHEN 1 THEN 'done' ELSE 'open' END,"
    " datetime('2026-02-12 10:00:00', '-' || n || ' hours') FROM c;";

static void setup(void)
{
    dir = ds_tmpdir();
    snprintf(db, sizeof db, "%s/app.db", dir);
    snprintf(specs, sizeof specs, "%s/specs", dir);
    ds_sql(db, schema);
    free(ds_write(dir, "specs/main.yaml", main_yaml));
}

static void teardown(void)
{
    ds_tmp_cleanup(dir);
}

/* ---------------------------------------------------------------- helpers */

static char *q(const char *sql)
{
    return ds_sql_text(db, sql);
}

/* Like q, but NULL (no failure) while the table does not exist yet: for
 * polling a database that a background process is still setting up. */
static char *q_try(const char *sql)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    char *r = NULL;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(h, 10000);
        if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
            sqlite3_column_type(st, 0) != SQLITE_NULL)
            r = strdup((const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return r;
}

static void assert_q(const char *sql, const char *want)
{
    char *v = q(sql);
    ck_assert_msg(v ? want && strcmp(v, want) == 0 : want == NULL, "%s: got '%s', want '%s'", sql,
                  v ? v : "(null)", want ? want : "(null)");
    free(v);
}

static int64_t q_int(const char *sql)
{
    char *v = q(sql);
    ck_assert_ptr_nonnull(v);
    int64_t n = strtoll(v, NULL, 10);
    free(v);
    return n;
}

/* RUN(&p, TS, args...): `dashspec run --db DB --now TS args...`. */
#define RUN(p, ...) DS_RUN((p), "run", "--db", db, "--now", __VA_ARGS__)

static int count_keys(const cJSON *o)
{
    int n = 0;
    for (const cJSON *c = o ? o->child : NULL; c; c = c->next) n++;
    return n;
}

static int64_t num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    ck_assert_msg(cJSON_IsNumber(v), "'%s' is not a number", k);
    ck_assert_msg(v->valuedouble == (double)(int64_t)v->valuedouble, "'%s' is not an integer", k);
    return (int64_t)v->valuedouble;
}

/* Parses a run's stdout: exactly one line holding the contract's object,
 * with exactly its fields, and consistent counts. Caller deletes. */
static cJSON *summary(const char *out)
{
    size_t len = strlen(out);
    ck_assert_msg(len > 0 && out[len - 1] == '\n', "summary is not one line: '%s'", out);
    ck_assert_msg(strchr(out, '\n') == out + len - 1, "summary is not one line: '%s'", out);
    cJSON *s = cJSON_Parse(out);
    ck_assert_msg(s != NULL, "summary is not JSON: %s", out);
    ck_assert_int_eq(count_keys(s), 3);
    const cJSON *sum = cJSON_GetObjectItemCaseSensitive(s, "summary");
    const cJSON *det = cJSON_GetObjectItemCaseSensitive(s, "details");
    const cJSON *met = cJSON_GetObjectItemCaseSensitive(s, "metrics");
    ck_assert(cJSON_IsString(sum) && cJSON_IsObject(det) && cJSON_IsObject(met));
    ck_assert_int_eq(count_keys(det), 5);
    ck_assert_int_eq(count_keys(met), 4);
    const cJSON *mc = cJSON_GetObjectItemCaseSensitive(det, "metrics_cached");
    const cJSON *cc = cJSON_GetObjectItemCaseSensitive(det, "charts_cached");
    const cJSON *fl = cJSON_GetObjectItemCaseSensitive(det, "failed");
    ck_assert(cJSON_IsObject(mc) && cJSON_IsObject(cc) && cJSON_IsObject(fl));
    num(det, "skipped");
    int64_t dur = num(det, "duration_ms");
    int64_t m = 0, c = 0;
    const char *prev = "";
    for (const cJSON *e = mc->child; e; e = e->next) {
        ck_assert_msg(strcmp(prev, e->string) < 0, "metrics_cached not in key order");
        prev = e->string;
        m += num(mc, e->string);
    }
    prev = "";
    for (const cJSON *e = cc->child; e; e = e->next) {
        ck_assert_msg(strcmp(prev, e->string) < 0, "charts_cached not in key order");
        prev = e->string;
        c += num(cc, e->string);
    }
    for (const cJSON *e = fl->child; e; e = e->next) ck_assert(cJSON_IsString(e));
    ck_assert_int_eq(num(met, "metrics_entries"), m);
    ck_assert_int_eq(num(met, "chart_points"), c);
    ck_assert_int_eq(num(met, "entries_cached"), m + c);
    ck_assert_int_eq(num(met, "items_run"), count_keys(mc) + count_keys(cc) + count_keys(fl));
    char want[128];
    snprintf(want, sizeof want, "Pre-computed %lld cache entries in %lldms", (long long)(m + c), (long long)dur);
    ck_assert_str_eq(sum->valuestring, want);
    return s;
}

static const cJSON *det(const cJSON *s, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(s, "details"), k);
}

static int64_t items_run(const cJSON *s)
{
    return num(cJSON_GetObjectItemCaseSensitive(s, "metrics"), "items_run");
}

static const char *failed_msg(const cJSON *s, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(det(s, "failed"), key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int has(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key) != NULL;
}

/* Runs the binary in the background with stdout/stderr to files; as_nobody
 * drops root first (a read-only file is writable for root). */
static pid_t spawn_limited(const char *const *argv, const char *out, const char *err, int as_nobody,
                           long long fsize)
{
    const char *bin = getenv("DS_BIN");
    ck_assert_ptr_nonnull(bin);
    size_t n = 0;
    while (argv[n]) n++;
    const char **av = calloc(n + 2, sizeof *av);
    av[0] = bin;
    for (size_t i = 0; i < n; i++) av[i + 1] = argv[i];
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fi = open("/dev/null", O_RDONLY);
        if (fo < 0 || fe < 0 || fi < 0) _exit(126);
        dup2(fi, 0); dup2(fo, 1); dup2(fe, 2);
        if (as_nobody && geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(125);
        if (fsize > 0) {
            /* Files may not grow past fsize: writes fail with EFBIG, as on a
             * full disk (SIGXFSZ ignored, so the write returns an error). */
            struct rlimit rl = {(rlim_t)fsize, (rlim_t)fsize};
            signal(SIGXFSZ, SIG_IGN);
            if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(124);
        }
        execv(bin, (char *const *)av);
        _exit(127);
    }
    free(av);
    return pid;
}

static pid_t spawn(const char *const *argv, const char *out, const char *err, int as_nobody)
{
    return spawn_limited(argv, out, err, as_nobody, 0);
}

static int wait_exit(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void msleep(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* 1 when another process holds the run lock (an flock on the database). */
static int run_lock_held(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return 0;
    int held = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);
    return held;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; s && *s; s++) n += *s == '\n';
    return n;
}

static char *path_in(const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

/* ---------------------------------------------------------------- due across runs */

START_TEST(first_run_then_nothing_due)
{
    ds_proc p;
    RUN(&p, T0, "--specs", specs);
    ck_assert_msg(p.status == 0, "exit %d: %s", p.status, p.err);
    ck_assert_str_eq(p.err, "");
    cJSON *s = summary(p.out);
    ck_assert_int_eq(items_run(s), 4);
    ck_assert_int_eq(num(det(s, "metrics_cached"), "pipeline"), 3);
    ck_assert_int_eq(num(det(s, "metrics_cached"), "total"), 1);
    ck_assert_int_eq(num(det(s, "metrics_cached"), "flaky_count"), 1);
    ck_assert_int_eq(num(det(s, "charts_cached"), "by_hour"), 24);
    ck_assert_int_eq(num(cJSON_GetObjectItemCaseSensitive(s, "details"), "skipped"), 0);
    cJSON_Delete(s);
    ds_proc_free(&p);
    assert_q("SELECT cache_value FROM dashboard_cache WHERE cache_key = 'total'", "50");
    assert_q("SELECT cache_value FROM dashboard_cache WHERE cache_key = 'pipeline'", "{\"done\":17,\"new\":16,\"open\":17}");
    assert_q("SELECT created_at || '|' || expires_at FROM dashboard_cache WHERE cache_key = 'total'",
             "2026-02-12 10:00:00|2026-02-12 10:15:00");
    assert_q("SELECT expires_at FROM dashboard_cache WHERE cache_key = 'flaky_count'", "2026-02-12 10:10:00");
    assert_q("SELECT failures || '|' || entries || '|' || next_attempt || '|' || (last_error IS NULL)"
             " FROM dashspec_state WHERE cache_key = 'total'", "0|1|2026-02-12 10:10:00|1");
    assert_q("SELECT status || '|' || items_run || '|' || items_ok || '|' || items_failed || '|' || entries"
             " FROM dashspec_runs", "ok|4|4|0|29");
    assert_q("SELECT count(*) FROM dashspec_plan", "4");

    /* One minute later nothing is due: nothing runs, the run is still recorded. */
    RUN(&p, "2026-02-12 10:01:00");
    ck_assert_int_eq(p.status, 0);
    s = summary(p.out);
    ck_assert_int_eq(items_run(s), 0);
    ck_assert_int_eq(num(cJSON_GetObjectItemCaseSensitive(s, "details"), "skipped"), 4);
    cJSON_Delete(s);
    ds_proc_free(&p);
    assert_q("SELECT count(*) FROM dashspec_runs", "2");
    assert_q("SELECT created_at FROM dashboard_cache WHERE cache_key = 'total'", T0);
}
END_TEST

START_TEST(refresh_and_expiry)
{
    ds_proc p;
    RUN(&p, T0, "--specs", specs, "--quiet");
    ck_assert_int_eq(p.status, 0);
    ck_assert_str_eq(p.out, "");
    ds_proc_free(&p);

    /* Seen from before the values were computed (--now earlier, or a clock
     * set back): due, "created in the future", and status says so too. */
    RUN(&p, "2026-02-12T09:00:00Z", "--dry-run");
    ck_assert_int_eq(p.status, 0);
    ck_assert_ptr_nonnull(strstr(p.out, "total        due      created in the future\n"));
    ds_proc_free(&p);
    DS_RUN(&p, "status", "--db", db, "--now", "2026-02-12T10:00:00+01:00");
    ck_assert_int_eq(p.status, 0);
    ck_assert_ptr_nonnull(strstr(p.out, "created in the future"));
    ck_assert_ptr_null(strstr(p.out, "-1h"));
    ds_proc_free(&p);
    /* The same instant in three spellings is the same now: nothing due. */
    RUN(&p, "2026-02-12T12:00:00+02:00", "--dry-run");
    ck_assert_ptr_null(strstr(p.out, " due      "));
    ds_proc_free(&p);

    /* refresh 2m: only flaky_count at 10:02 */
    RUN(&p, "2026-02-12 10:02:00");
    ck_assert_int_eq(p.status, 0);
    cJSON *s = summary(p.out);
    ck_assert_int_eq(items_run(s), 1);
    ck_assert(has(det(s, "metrics_cached"), "flaky_count"));
    cJSON_Delete(s);
    ds_proc_free(&p);
    assert_q("SELECT created_at FROM dashboard_cache WHERE cache_key = 'flaky_count'", "2026-02-12 10:02:00");
    assert_q("SELECT created_at FROM dashboard_cache WHERE cache_key = 'total'", T0);

    /* An expired row is due even before its refresh age. */
    ds_sql(db, "UPDATE dashboard_cache SET expires_at = '2026-02-12 10:03:00' WHERE cache_key = 'total'");
    RUN(&p, "2026-02-12 10:03:00", "--dry-run");
    ck_assert_int_eq(p.status, 0);
    ck_assert_ptr_nonnull(strstr(p.out, "total        due      expired just now\n"));
    ck_assert_ptr_nonnull(strstr(p.out, "pipeline     not due  fresh for 7m\n"));
    ck_assert_ptr_nonnull(strstr(p.out, "flaky_count  not due  fresh for 1m\n"));
    ds_proc_free(&p);
    RUN(&p, "2026-02-12 10:03:00");
    s = summary(p.out);
    ck_assert_int_eq(items_run(s), 1);
    ck_assert(has(det(s, "metrics_cached"), "total"));
    cJSON_Delete(s);
    ds_proc_free(&p);

    /* refresh 10m: the rest at 10:10 (total was recomputed at 10:03) */
    RUN(&p, "2026-02-12 10:10:00", "--dry-run");
    ck_assert_ptr_nonnull(strstr(p.out, "pipeline     due      older than refresh (10m >= 10m)\n"));
    ck_assert_ptr_nonnull(strstr(p.out, "total        not due  fresh for 3m\n"));
    ds_proc_free(&p);
    RUN(&p, "2026-02-12 10:10:00");
    s = summary(p.out);
    ck_assert_int_eq(items_run(s), 3);
    ck_assert(!has(det(s, "metrics_cached"), "total"));
    cJSON_Delete(s);
    ds_proc_free(&p);
}
END_TEST

START_TEST(spec_change_reruns_that_item)
{
    ds_proc p;
    RUN(&p, T0, "--specs", specs, "--quiet");
    ck_assert_int_eq(p.status, 0);
    ds_proc_free(&p);
    const char *old = "SELECT COUNT(*) FROM sites\n";
    const char *at = strstr(main_yaml, old);
    ck_assert_ptr_nonnull(at);
    char *y = ds_asprintf("%.*sSELECT COUNT(*)+1 FROM sites\n%s", (int)(at - main_yaml), main_yaml,
                          at + strlen(old));
    free(ds_write(dir, "specs/main.yaml", y));
    free(y);
    RUN(&p, "2026-02-12 10:01:00", "--specs", specs, "--dry-run");
    ck_assert_ptr_nonnull(strstr(p.out, "total        due      spec changed\n"));
    ds_proc_free(&p);
    assert_q("SELECT count(*) FROM dashspec_plan WHERE sql LIKE '%+1%'", "0");   /* dry run stored nothing */
    RUN(&p, "2026-02-12 10:01:00", "--specs", specs);
    ck_assert_int_eq(p.status, 0);
    cJSON *s = summary(p.out);
    ck_assert_int_eq(items_run(s), 1);
    ck_assert(has(det(s, "metrics_cached"), "total"));
    cJSON_Delete(s);
    ds_proc_free(&p);
    assert_q("SELECT cache_value FROM dashboard_cache WHERE cache_key = 'total'", "51");
    assert_q("SELECT count(*) FROM dashspec_plan WHERE sql LIKE '%+1%'", "1");
}
END_TEST

START_TEST(failure_keeps_value_and_backs_off)
{
    ds_proc p;
    RUN(&p, T0, "--specs", specs, "--quiet");
    ck_assert_int_eq(p.status, 0);
    ds_proc_free(&p);
    ds_sql(db, "DROP TABLE flaky; INSERT INTO sites VALUES (100, 'new', '2026-02-12 09:30:00');");

    /* Everything runs; flaky_count fails, the others are written. */
    RUN(&p, "2026-02-12 10:02:00", "--force");
    ck_assert_int_eq(p.status, 1);
    cJSON *s = summary(p.out);
    ck_assert_int_eq(items_run(s), 4);
    ck_assert_str_eq(failed_msg(s, "flaky_count"), "no such table: flaky");
    ck_assert_int_eq(count_keys(det(s, "failed")), 1);
    cJSON_Delete(s);
    ck_assert_ptr_nonnull(strstr(p.err, "no such table: flaky [flaky_count]"));
    ds_proc_free(&p);
    assert_q("SELECT cache_value || '|' || created_at FROM dashboard_cache WHERE cache_key = 'flaky_count'",
             "2|2026-02-12 10:00:00");
    assert_q("SELECT cache_value || '|' || created_at FROM dashboard_cache WHERE cache_key = 'total'",
             "51|2026-02-12 10:02:00");
    assert_q("SELECT failures || '|' || last_error || '|' || last_attempt || '|' || next_attempt || '|' || last_success"
             " FROM dashspec_state WHERE cache_key = 'flaky_count'",
             "1|no such table: flaky|2026-02-12 10:02:00|2026-02-12 10:03:00|2026-02-12 10:00:00");
    assert_q("SELECT status FROM dashspec_runs ORDER BY id DESC LIMIT 1", "partial");

    /* 1 minute of backoff */
    RUN(&p, "2026-02-12 10:02:59", "--dry-run");
    ck_assert_ptr_nonnull(strstr(p.out, "flaky_count  not due  backoff until 2026-02-12 10:03:00\n"));
    ds_proc_free(&p);
    RUN(&p, "2026-02-12 10:02:59");
    ck_assert_int_eq(p.status, 0);
    s = summary(p.out);
    ck_assert_int_eq(items_run(s), 0);
    cJSON_Delete(s);
    ds_proc_free(&p);
    RUN(&p, "2026-02-12 10:03:00");
    ck_assert_int_eq(p.status, 1);
    s = summary(p.out);
    ck_assert_int_eq(items_run(s), 1);
    ck_assert_ptr_nonnull(failed_msg(s, "flaky_count"));
    cJSON_Delete(s);
    ds_proc_free(&p);
    assert_q("SELECT status FROM dashspec_runs ORDER BY id DESC LIMIT 1", "failed");
    assert_q("SELECT failures || '|' || next_attempt FROM dashspec_state WHERE cache_key = 'flaky_count'",
             "2|2026-02-12 10:05:00");

    /* 2 minutes, then 4 (capped at refresh: 2m for this item) */
    RUN(&p, "2026-02-12 10:04:59");
    ck_assert_int_eq(p.status, 0);
    ds_proc_free(&p);
    RUN(&p, "2026-02-12 10:05:00");
    ck_assert_int_eq(p.status, 1);
    ds_proc_free(&p);
    assert_q("SELECT failures || '|' || next_attempt FROM dashspec_state WHERE cache_key = 'flaky_count'",
             "3|2026-02-12 10:07:00");

    /* --force ignores backoff; fixed table: the value is replaced, state reset. */
    ds_sql(db, "CREATE TABLE flaky (v INTEGER); INSERT INTO flaky VALUES (7);");
    RUN(&p, "2026-02-12 10:06:00");
    ck_assert_int_eq(p.status, 0);
    s = summary(p.out);
    ck_assert_int_eq(items_run(s), 0);
    cJSON_Delete(s);
    ds_proc_free(&p);
    RUN(&p, "2026-02-12 10:06:00", "--force", "--only", "flaky_count");
    ck_assert_int_eq(p.status, 0);
    ds_proc_free(&p);
    assert_q("SELECT cache_value || '|' || created_at FROM dashboard_cache WHERE cache_key = 'flaky_count'",
             "1|2026-02-12 10:06:00");
    assert_q("SELECT failures || '|' || (last_error IS NULL) FROM dashspec_state WHERE cache_key = 'flaky_count'",
             "0|1");
}
END_TEST

START_TEST(selection_dry_run_quiet)
{
    ds_proc p;
    /* A dry run on a database never run writes nothing (no tables even). */
    RUN(&p, T0, "--specs", specs, "--dry-run");
    ck_assert_int_eq(p.status, 0);
    ck_assert_int_eq(count_lines(p.out), 4);
    ck_assert_ptr_nonnull(strstr(p.out, "by_hour      due      never computed\n"));
    ds_proc_free(&p);
    assert_q("SELECT count(*) FROM sqlite_schema WHERE name LIKE 'dashspec%' OR name = 'dashboard_cache'", "0");

    RUN(&p, T0, "--specs", specs, "--only", "p*");
    ck_assert_int_eq(p.status, 0);
    cJSON *s = summary(p.out);
    ck_assert_int_eq(items_run(s), 1);
    ck_assert(has(det(s, "metrics_cached"), "pipeline"));
    cJSON_Delete(s);
    ds_proc_free(&p);

    RUN(&p, T0, "--only", "total", "--only", "by_*", "--only", "pipeline");
    s = summary(p.out);
    ck_assert_int_eq(items_run(s), 2);
    ck_assert(has(det(s, "metrics_cached"), "total"));
    ck_assert(has(det(s, "charts_cached"), "by_hour"));
    ck_assert_int_eq(num(cJSON_GetObjectItemCaseSensitive(s, "details"), "skipped"), 1);
    cJSON_Delete(s);
    ds_proc_free(&p);

    RUN(&p, T0, "--group", "ops");
    s = summary(p.out);
    ck_assert_int_eq(items_run(s), 1);
    ck_assert(has(det(s, "metrics_cached"), "flaky_count"));
    cJSON_Delete(s);
    ds_proc_free(&p);

    /* --force runs all selected; --group and --only intersect, as before
     * --select existed; a,b says the same */
    RUN(&p, "2026-02-12 10:00:30", "--force", "--group", "overview", "--only", "t*");
    s = summary(p.out);
    ck_assert_int_eq(items_run(s), 1);
    ck_assert(has(det(s, "metrics_cached"), "total"));
    cJSON_Delete(s);
    ds_proc_free(&p);
    RUN(&p, "2026-02-12 10:00:30", "--force", "--select", "group:overview,t*");
    s = summary(p.out);
    ck_assert_int_eq(items_run(s), 1);
    ck_assert(has(det(s, "metrics_cached"), "total"));
    ck_assert_int_eq(num(cJSON_GetObjectItemCaseSensitive(s, "details"), "skipped"), 0);
    cJSON_Delete(s);
    ds_proc_free(&p);
    assert_q("SELECT created_at FROM dashboard_cache WHERE cache_key = 'total'", "2026-02-12 10:00:30");

    RUN(&p, T0, "--force", "--dry-run");
    ck_assert_int_eq(count_lines(p.out), 4);
    ck_assert_ptr_nonnull(strstr(p.out, "total        due      forced\n"));
    ds_proc_free(&p);

    /* A dry run writes nothing: no run row, no new values. */
    int64_t runs = q_int("SELECT count(*) FROM dashspec_runs");
    RUN(&p, "2026-02-12 11:00:00", "--dry-run");
    ck_assert_int_eq(p.status, 0);
    ds_proc_free(&p);
    ck_assert_int_eq(q_int("SELECT count(*) FROM dashspec_runs"), runs);
    assert_q("SELECT created_at FROM dashboard_cache WHERE cache_key = 'pipeline'", T0);

    /* --quiet: nothing on stdout, errors still on stderr */
    ds_sql(db, "DROP TABLE flaky");
    RUN(&p, "2026-02-12 11:00:00", "--quiet");
    ck_assert_int_eq(p.status, 1);
    ck_assert_str_eq(p.out, "");
    ck_assert_ptr_nonnull(strstr(p.err, "no such table: flaky"));
    ds_proc_free(&p);

    /* An --only that matches nothing is worth a warning, not a failure. */
    RUN(&p, "2026-02-12 11:00:00", "--only", "nosuch*");
    ck_assert_int_eq(p.status, 0);
    ck_assert_ptr_nonnull(strstr(p.err, "nosuch*"));
    ds_proc_free(&p);
}
END_TEST

START_TEST(usage_errors)
{
    ds_proc p;
    RUN(&p, T0, "--jobs", "0");
    ck_assert_int_eq(p.status, 2);
    ds_proc_free(&p);
    RUN(&p, T0, "--jobs", "65");
    ck_assert_int_eq(p.status, 2);
    ds_proc_free(&p);
    RUN(&p, T0, "--jobs", "two");
    ck_assert_int_eq(p.status, 2);
    ds_proc_free(&p);
    RUN(&p, T0, "--busy-timeout", "soon");
    ck_assert_int_eq(p.status, 2);
    ds_proc_free(&p);
    RUN(&p, "2026-02-30 10:00:00");
    ck_assert_int_eq(p.status, 2);
    ds_proc_free(&p);
    RUN(&p, T0, "--bogus");
    ck_assert_int_eq(p.status, 2);
    ds_proc_free(&p);
    DS_RUN(&p, "help", "run");
    ck_assert_int_eq(p.status, 0);
    ck_assert_ptr_nonnull(strstr(p.out, "--busy-timeout"));
    ck_assert_ptr_nonnull(strstr(p.out, "--watch"));
    ds_proc_free(&p);
    /* no database at all: usage; the environment variable works */
    const char *env_none[] = {"DASHSPEC_DB=", NULL};
    ds_proc_run(&p, (const char *const[]){"run", "--now", T0, NULL}, NULL, env_none);
    ck_assert_int_eq(p.status, 2);
    ds_proc_free(&p);
    char *e = malloc(strlen(db) + 16);
    sprintf(e, "DASHSPEC_DB=%s", db);
    const char *env[] = {e, NULL};
    ds_proc_run(&p, (const char *const[]){"run", "--now", T0, "--specs", specs, NULL}, NULL, env);
    ck_assert_int_eq(p.status, 0);
    ds_proc_free(&p);
    free(e);
    assert_q("SELECT count(*) FROM dashboard_cache", "4");
}
END_TEST

/* The library checks --jobs itself: a caller other than the CLI gets a
 * usage error, not 65 threads or a negative count. */
START_TEST(jobs_checked_by_the_library)
{
    const int bad[] = {-1, DS_RUN_MAX_JOBS + 1, 1000};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ds_run_opts o;
        memset(&o, 0, sizeof o);
        o.db_path = db;
        o.jobs = bad[i];
        o.busy_ms = -1;
        ds_diag d;
        ds_diag_init(&d);
        ck_assert_int_eq(ds_run(&o, &d), DS_USAGE);
        ck_assert_int_eq(d.status, DS_USAGE);
        ds_diag_free(&d);
    }
    /* Refused before anything was opened: not even migrated. */
    assert_q("SELECT count(*) FROM sqlite_schema WHERE name = 'dashspec_runs'", "0");
}
END_TEST

/* ---------------------------------------------------------------- specs, empty plans */

START_TEST(compile_failures_count_as_failed)
{
    free(ds_write(dir, "specs/more.yaml",
        "version: 1\n"
        "metrics:\n"
        "  - key: broken\n"
        "    ttl: 5m\n"
        "    shape: scalar\n"
        "    query: SELECT count(*) FROM no_such_table\n"));
    free(ds_write(dir, "specs/zz_bad.yaml", "version: 1\nmetrics: [\n"));
    ds_proc p;
    RUN(&p, T0, "--specs", specs);
    ck_assert_msg(p.status == 1, "exit %d: %s", p.status, p.err);
    cJSON *s = summary(p.out);
    ck_assert_int_eq(items_run(s), 6);
    ck_assert_int_eq(count_keys(det(s, "metrics_cached")) + count_keys(det(s, "charts_cached")), 4);
    ck_assert_ptr_nonnull(failed_msg(s, "broken"));
    char bad[4200];
    snprintf(bad, sizeof bad, "%s/zz_bad.yaml", specs);
    ck_assert_msg(failed_msg(s, bad) != NULL, "no failure under %s: %s", bad, p.out);
    cJSON_Delete(s);
    /* reported as check would: FILE:LINE:COL: error: ... */
    char want[4300];
    snprintf(want, sizeof want, "%s/more.yaml:6:", specs);
    ck_assert_msg(strstr(p.err, want) != NULL, "no diagnostic at %s in: %s", want, p.err);
    ck_assert_ptr_nonnull(strstr(p.err, "[broken]"));
    ds_proc_free(&p);
    /* nothing was stored: the specs did not compile */
    assert_q("SELECT count(*) FROM dashspec_plan", "0");
    assert_q("SELECT status FROM dashspec_runs", "partial");

    /* --only leaves out the broken item (a file without known keys still counts) */
    RUN(&p, "2026-02-12 10:00:01", "--specs", specs, "--only", "total", "--force");
    ck_assert_int_eq(p.status, 1);
    s = summary(p.out);
    ck_assert_ptr_null(failed_msg(s, "broken"));
    ck_assert_ptr_nonnull(failed_msg(s, bad));
    ck_assert_int_eq(items_run(s), 2);
    cJSON_Delete(s);
    ds_proc_free(&p);
}
END_TEST

START_TEST(empty_plan)
{
    ds_proc p;
    RUN(&p, T0);
    ck_assert_int_eq(p.status, 0);
    ck_assert_int_eq(count_lines(p.err), 1);
    ck_assert_ptr_nonnull(strstr(p.err, "empty"));
    cJSON *s = summary(p.out);
    ck_assert_int_eq(items_run(s), 0);
    cJSON_Delete(s);
    ds_proc_free(&p);
    /* the run created dashspec's tables (a writing command, first use) */
    assert_q("SELECT count(*) FROM dashspec_runs", "1");
}
END_TEST

/* An application's own dashboard_cache (here: no unique key, an extra
 * column, a trigger) is written through its four contract columns only, and
 * its trigger never fires. */
START_TEST(application_cache_table)
{
    ds_sql(db,
        "CREATE TABLE dashboard_cache (cache_key TEXT, cache_value TEXT, created_at TEXT, expires_at TEXT,"
        " note TEXT DEFAULT 'app');"
        "INSERT INTO dashboard_cache VALUES ('legacy_key', '{}', '2026-02-12 09:00:00', '2026-02-12 09:15:00', 'x');"
        "CREATE TABLE audit (what TEXT);"
        "CREATE TRIGGER cache_spy AFTER INSERT ON dashboard_cache BEGIN"
        "  INSERT INTO audit VALUES (new.cache_key); DELETE FROM sites; END;");
    ds_proc p;
    RUN(&p, T0, "--specs", specs, "--quiet");
    ck_assert_msg(p.status == 0, "%s", p.err);
    ds_proc_free(&p);
    RUN(&p, "2026-02-12 10:30:00", "--force", "--quiet");
    ck_assert_msg(p.status == 0, "%s", p.err);
    ds_proc_free(&p);
    assert_q("SELECT count(*) || '/' || count(DISTINCT cache_key) FROM dashboard_cache", "5/5");
    assert_q("SELECT created_at || '|' || note FROM dashboard_cache WHERE cache_key = 'total'",
             "2026-02-12 10:30:00|app");
    assert_q("SELECT cache_value || '|' || note FROM dashboard_cache WHERE cache_key = 'legacy_key'", "{}|x");
    assert_q("SELECT count(*) FROM audit", "0");
    assert_q("SELECT count(*) FROM sites", "50");

    /* A column the application requires makes every write fail: items
     * fail (and back off), the run goes on, the old values stay. */
    ds_sql(db, "ALTER TABLE dashboard_cache ADD COLUMN owner TEXT NOT NULL DEFAULT 'x';"
               "CREATE TABLE cache2 AS SELECT * FROM dashboard_cache; DROP TABLE dashboard_cache;"
               "CREATE TABLE dashboard_cache (cache_key TEXT PRIMARY KEY, cache_value TEXT NOT NULL,"
               " created_at TEXT NOT NULL, expires_at TEXT NOT NULL, owner TEXT NOT NULL);"
               "INSERT INTO dashboard_cache SELECT cache_key, cache_value, created_at, expires_at, owner FROM cache2;");
    RUN(&p, "2026-02-12 10:31:00", "--force", "--only", "total");
    ck_assert_int_eq(p.status, 1);
    cJSON *s = summary(p.out);
    ck_assert_ptr_nonnull(failed_msg(s, "total"));
    ck_assert_msg(strstr(failed_msg(s, "total"), "NOT NULL") != NULL, "%s", failed_msg(s, "total"));
    cJSON_Delete(s);
    ds_proc_free(&p);
    assert_q("SELECT created_at FROM dashboard_cache WHERE cache_key = 'total'", "2026-02-12 10:30:00");
    assert_q("SELECT failures FROM dashspec_state WHERE cache_key = 'total'", "1");
}
END_TEST

/* ---------------------------------------------------------------- database errors */

START_TEST(missing_database)
{
    char *missing = path_in("nope.db");
    ds_proc p;
    DS_RUN(&p, "run", "--db", missing, "--now", T0);
    ck_assert_int_eq(p.status, 5);
    ck_assert_int_eq(count_lines(p.err), 1);
    ck_assert_int_ne(access(missing, F_OK), 0);
    ds_proc_free(&p);
    /* also with --dry-run and --watch */
    DS_RUN(&p, "run", "--db", missing, "--dry-run");
    ck_assert_int_eq(p.status, 5);
    ds_proc_free(&p);
    DS_RUN(&p, "run", "--db", missing, "--watch");
    ck_assert_int_eq(p.status, 5);
    ds_proc_free(&p);
    ck_assert_int_ne(access(missing, F_OK), 0);
    /* not a database */
    char *junk = ds_write(dir, "junk.db", "this is not a database, just some text that is long enough");
    DS_RUN(&p, "run", "--db", junk, "--now", T0);
    ck_assert_int_eq(p.status, 5);
    ds_proc_free(&p);
    free(junk);
    free(missing);
}
END_TEST

START_TEST(read_only_database)
{
    ds_proc p;
    RUN(&p, T0, "--specs", specs, "--quiet");
    ck_assert_int_eq(p.status, 0);
    ds_proc_free(&p);
    ck_assert_int_eq(chmod(db, 0444), 0);
    ck_assert_int_eq(chmod(dir, 0755), 0);
    char *out = path_in("ro.out"), *err = path_in("ro.err");
    pid_t pid = spawn((const char *const[]){"run", "--db", db, "--now", "2026-02-12 11:00:00", NULL}, out, err, 1);
    int rc = wait_exit(pid);
    char *e = ds_slurp(err);
    ck_assert_msg(rc == 5, "exit %d: %s", rc, e);
    ck_assert_int_eq(count_lines(e), 1);
    free(e);
    /* a dry run only reads, so it works */
    pid = spawn((const char *const[]){"run", "--db", db, "--now", "2026-02-12 11:00:00", "--dry-run", NULL}, out, err, 1);
    ck_assert_int_eq(wait_exit(pid), 0);
    char *o = ds_slurp(out);
    ck_assert_int_eq(count_lines(o), 4);
    free(o);
    chmod(db, 0644);
    assert_q("SELECT created_at FROM dashboard_cache WHERE cache_key = 'total'", T0);
    free(out);
    free(err);
}
END_TEST

/* A database that cannot grow (a full disk) stops the run with 5; what was
 * written before stays. */
START_TEST(full_disk_stops_the_run)
{
    char *y = ds_asprintf("%s"
        "  - key: zz_big\n"
        "    shape: scalar\n"
        "    query: SELECT CASE WHEN :now > '2026-02-12 10:30:00' THEN printf('%%.300000c', 'x') ELSE 'small' END\n",
        main_yaml);
    free(ds_write(dir, "specs/main.yaml", y));
    free(y);
    ds_proc p;
    RUN(&p, T0, "--specs", specs, "--quiet");
    ck_assert_int_eq(p.status, 0);
    ds_proc_free(&p);
    struct stat sb;
    ck_assert_int_eq(stat(db, &sb), 0);
    char *out = path_in("f.out"), *err = path_in("f.err");
    pid_t pid = spawn_limited((const char *const[]){"run", "--db", db, "--now", "2026-02-12 11:00:00", "--force",
                                                    "--jobs", "1", NULL}, out, err, 0, (long long)sb.st_size);
    int rc = wait_exit(pid);
    char *e = ds_slurp(err);
    ck_assert_msg(rc == 5, "exit %d: %s", rc, e);
    ck_assert_msg(strstr(e, "cannot write database") != NULL, "%s", e);
    free(e);
    char *o = ds_slurp(out);
    ck_assert_str_eq(o, "");        /* no summary for a run that could not finish */
    free(o);
    /* items before zz_big are committed or not, depending on whether group
     * commit put them in zz_big's batch (timing): never torn, either the old
     * value or the new one; zz_big kept its value */
    assert_q("SELECT created_at IN ('2026-02-12 10:00:00', '2026-02-12 11:00:00') FROM dashboard_cache "
             "WHERE cache_key = 'total'", "1");
    assert_q("SELECT cache_value || '|' || created_at FROM dashboard_cache WHERE cache_key = 'zz_big'",
             "\"small\"|2026-02-12 10:00:00");
    assert_q("PRAGMA integrity_check", "ok");
    free(out);
    free(err);
}
END_TEST

START_TEST(locked_by_another_writer)
{
    ds_proc p;
    RUN(&p, T0, "--specs", specs, "--quiet");
    ck_assert_int_eq(p.status, 0);
    ds_proc_free(&p);
    /* Another writer holds the database (a RESERVED lock: reads still work). */
    sqlite3 *h = NULL;
    ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(h, "BEGIN IMMEDIATE; DELETE FROM flaky;", NULL, NULL, NULL), SQLITE_OK);
    RUN(&p, "2026-02-12 10:05:00", "--force", "--busy-timeout", "300ms", "--jobs", "1");
    ck_assert_int_eq(p.status, 1);
    cJSON *s = summary(p.out);
    ck_assert_int_eq(items_run(s), 4);
    ck_assert_int_eq(count_keys(det(s, "failed")), 4);
    ck_assert_str_eq(failed_msg(s, "total"), "database is locked (waited 300ms)");
    cJSON_Delete(s);
    ck_assert_ptr_nonnull(strstr(p.err, "database is locked"));
    ds_proc_free(&p);
    sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(h);
    /* the old values are intact and the next run works */
    assert_q("SELECT created_at FROM dashboard_cache WHERE cache_key = 'total'", T0);
    RUN(&p, "2026-02-12 10:05:00", "--force", "--busy-timeout", "1s");
    ck_assert_int_eq(p.status, 0);
    ds_proc_free(&p);
    assert_q("SELECT created_at FROM dashboard_cache WHERE cache_key = 'total'", "2026-02-12 10:05:00");
}
END_TEST

/* ---------------------------------------------------------------- concurrency */

START_TEST(second_run_exits_4)
{
    ds_proc p;
    RUN(&p, T0, "--specs", specs, "--quiet");
    ck_assert_int_eq(p.status, 0);
    ds_proc_free(&p);
    char *out = path_in("w.out"), *err = path_in("w.err");
    pid_t w = spawn((const char *const[]){"run", "--db", db, "--watch", "--now", T0, NULL}, out, err, 0);
    for (int i = 0; i < 200 && !run_lock_held(db); i++) msleep(25);
    ck_assert_msg(run_lock_held(db), "the --watch run never took the lock");
    RUN(&p, T0, "--force");
    ck_assert_int_eq(p.status, 4);
    ck_assert_str_eq(p.out, "");
    ck_assert_int_eq(count_lines(p.err), 1);
    ds_proc_free(&p);
    /* also --specs (which would compile): still nothing happens */
    RUN(&p, T0, "--specs", specs);
    ck_assert_int_eq(p.status, 4);
    ds_proc_free(&p);
    kill(w, SIGTERM);
    ck_assert_int_eq(wait_exit(w), 0);
    /* the lock died with the watcher */
    RUN(&p, "2026-02-12 10:00:01", "--force", "--only", "total");
    ck_assert_int_eq(p.status, 0);
    ds_proc_free(&p);
    free(out);
    free(err);
}
END_TEST

/* --watch runs items as they fall due, picks up a recompiled plan, and
 * exits 0 on SIGTERM. Real time is the point here (ttl 3s, refresh 1s). */
START_TEST(watch_cycles_and_picks_up_plan)
{
    free(ds_write(dir, "specs/main.yaml",
        "version: 1\n"
        "metrics:\n"
        "  - key: tick\n"
        "    ttl: 3s\n"
        "    refresh: 1s\n"
        "    shape: scalar\n"
        "    query: SELECT :now\n"));
    char *out = path_in("w.out"), *err = path_in("w.err");
    pid_t w = spawn((const char *const[]){"run", "--db", db, "--watch", "--specs", specs, "--now", T0, NULL},
                    out, err, 0);
    /* tick runs at start and again each second or so */
    int64_t runs = 0;
    for (int i = 0; i < 400 && runs < 3; i++) {
        msleep(25);
        char *v = q_try("SELECT count(*) FROM dashspec_runs");
        runs = v ? strtoll(v, NULL, 10) : 0;
        free(v);
    }
    ck_assert_int_ge(runs, 3);
    /* the clock started at --now and moves in real time */
    char *v = q("SELECT cache_value FROM dashboard_cache WHERE cache_key = 'tick'");
    ck_assert_msg(v && strncmp(v, "\"2026-02-12 10:00:", 18) == 0 && strcmp(v, "\"2026-02-12 10:00:00\"") != 0,
                  "tick = %s", v ? v : "(null)");
    free(v);
    /* a new plan compiled meanwhile is picked up */
    free(ds_write(dir, "specs2/main.yaml",
        "version: 1\n"
        "metrics:\n"
        "  - key: tick\n"
        "    ttl: 3s\n"
        "    refresh: 1s\n"
        "    shape: scalar\n"
        "    query: SELECT :now\n"
        "  - key: late\n"
        "    ttl: 1h\n"
        "    shape: scalar\n"
        "    query: SELECT 42\n"));
    char *specs2 = path_in("specs2");
    ds_proc p;
    DS_RUN(&p, "compile", "--db", db, "--specs", specs2);
    ck_assert_msg(p.status == 0, "compile: %d %s", p.status, p.err);
    ds_proc_free(&p);
    char *late = NULL;
    for (int i = 0; i < 400 && !late; i++) {
        msleep(25);
        late = q_try("SELECT cache_value FROM dashboard_cache WHERE cache_key = 'late'");
    }
    ck_assert_msg(late && strcmp(late, "42") == 0, "late = %s", late ? late : "(null)");
    free(late);
    kill(w, SIGTERM);
    ck_assert_int_eq(wait_exit(w), 0);
    char *o = ds_slurp(out);
    ck_assert_int_ge(count_lines(o), 3);
    /* every line is a summary */
    char *line = o;
    while (line && *line) {
        char *nl = strchr(line, '\n');
        ck_assert_ptr_nonnull(nl);
        *nl = '\0';
        cJSON *s = cJSON_Parse(line);
        ck_assert_msg(s != NULL, "not JSON: %s", line);
        cJSON_Delete(s);
        line = nl + 1;
    }
    free(o);
    char *e = ds_slurp(err);
    ck_assert_str_eq(e, "");
    free(e);
    free(specs2);
    free(out);
    free(err);
}
END_TEST

/* A plain run stops at once on SIGTERM: the query in flight is interrupted
 * and not recorded, the run is recorded, exit 128+15. */
START_TEST(sigterm_stops_a_plain_run)
{
    free(ds_write(dir, "specs/main.yaml",
        "version: 1\n"
        "metrics:\n"
        "  - key: slow\n"
        "    ttl: 1h\n"
        "    shape: scalar\n"
        "    timeout: 10m\n"
        "    query: WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT max(n) FROM c\n"
        "  - key: slow2\n"
        "    ttl: 1h\n"
        "    shape: scalar\n"
        "    timeout: 10m\n"
        "    query: WITH RECURSIVE c(n) AS (SELECT 2 UNION ALL SELECT n + 1 FROM c) SELECT max(n) FROM c\n"));
    char *out = path_in("s.out"), *err = path_in("s.err");
    /* two jobs: both queries are in flight on worker threads */
    pid_t pid = spawn((const char *const[]){"run", "--db", db, "--specs", specs, "--now", T0, "--jobs", "2", NULL},
                      out, err, 0);
    /* wait until it is running the query: it holds the lock and stored the plan */
    for (int i = 0; i < 400; i++) {
        msleep(25);
        char *n = run_lock_held(db) ? q_try("SELECT count(*) FROM dashspec_plan") : NULL;
        int ok = n && strcmp(n, "2") == 0;
        free(n);
        if (ok) break;
    }
    msleep(300);
    kill(pid, SIGTERM);
    ck_assert_int_eq(wait_exit(pid), 128 + SIGTERM);
    assert_q("SELECT count(*) FROM dashspec_state", "0");
    assert_q("SELECT count(*) FROM dashboard_cache", "0");
    assert_q("SELECT status || '|' || items_run || '|' || skipped FROM dashspec_runs", "ok|0|2");
    char *o = ds_slurp(out);
    cJSON *s = summary(o);
    cJSON_Delete(s);
    free(o);
    free(out);
    free(err);
}
END_TEST

/* With --jobs 2, finished values commit while a long query still runs, in
 * both journal modes (in rollback-journal mode SQLite cannot commit beside a
 * running read: the long query is interrupted and run again alone). */
START_TEST(values_commit_while_a_long_query_runs)
{
    free(ds_write(dir, "specs/main.yaml",
        "version: 1\n"
        "defaults:\n"
        "  ttl: 1h\n"
        "metrics:\n"
        "  - key: a_fast\n"
        "    shape: scalar\n"
        "    query: SELECT count(*) FROM sites\n"
        "  - key: b_slow\n"
        "    shape: scalar\n"
        /* Its own timeout far past any machine's speed: under ASan on a loaded
         * machine the query outlived the default 30s and the run exited 1. */
        "    timeout: 10m\n"
        "    query: WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 12000000) SELECT max(n) FROM c\n"
        "  - key: c_fast\n"
        "    shape: scalar\n"
        "    query: SELECT count(*) + 1 FROM sites\n"));
    for (int wal = 0; wal <= 1; wal++) {
        if (wal) ds_sql(db, "DELETE FROM dashboard_cache; DELETE FROM dashspec_state; PRAGMA journal_mode = WAL;");
        char *out = path_in("c.out"), *err = path_in("c.err");
        pid_t pid = spawn((const char *const[]){"run", "--db", db, "--specs", specs, "--now", T0, "--jobs", "2",
                                                "--force", NULL}, out, err, 0);
        /* Seen several polls in a row: not just the instant between two
         * commits of one batch. */
        int seen = 0, streak = 0, status = -1;
        for (int i = 0; i < 2000 && !seen; i++) {
            char *v = q_try("SELECT group_concat(cache_key) FROM (SELECT cache_key FROM dashboard_cache ORDER BY 1)");
            streak = v && strcmp(v, "a_fast,c_fast") == 0 ? streak + 1 : 0;
            seen = streak >= 3;
            free(v);
            int st;
            if (!seen && waitpid(pid, &st, WNOHANG) == pid) { status = WIFEXITED(st) ? WEXITSTATUS(st) : -1; break; }
            msleep(10);
        }
        ck_assert_msg(seen, "wal=%d: the fast values were not committed before the long query ended", wal);
        if (status < 0) status = wait_exit(pid);
        ck_assert_int_eq(status, 0);
        assert_q("SELECT cache_value FROM dashboard_cache WHERE cache_key = 'b_slow'", "12000000");
        assert_q("SELECT sum(failures) FROM dashspec_state", "0");
        free(out);
        free(err);
    }
}
END_TEST

/* Twenty items with sizeable values, in a database of a given journal mode. */
static void many_items(const char *path, int wal)
{
    ds_sql(path, schema);
    if (wal) ds_sql(path, "PRAGMA journal_mode = WAL");
    ds_buf b;
    ds_buf_init(&b);
    ds_buf_adds(&b, "version: 1\ndefaults:\n  ttl: 1h\n  max_rows: 5000\n  max_bytes: 4000000\nmetrics:\n");
    for (int i = 0; i < 20; i++)
        ds_buf_printf(&b,
            "  - key: item_%02d\n"
            "    shape: rows\n"
            "    params: { k: %d }\n"
            "    query: |\n"
            "      WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c LIMIT 1500 + :k * 50)\n"
            "      SELECT n, :now AS t, :k AS k, printf('%%.60c', 'x') AS pad,\n"
            "             (SELECT count(*) FROM sites WHERE id %% 20 = :k) AS s FROM c\n", i, i);
    char *t = ds_buf_steal(&b);
    free(ds_write(dir, "many/many.yaml", t));
    free(t);
}

static char *cache_dump(const char *path)
{
    return ds_sql_text(path, "SELECT group_concat(cache_key || '=' || cache_value || '@' || created_at || '/' || expires_at,"
                             " '|') FROM (SELECT * FROM dashboard_cache ORDER BY cache_key)");
}

START_TEST(jobs_give_the_same_cache)
{
    char *many = path_in("many");
    for (int wal = 0; wal <= 1; wal++) {
        char a[4200], b2[4200], c[4200];
        snprintf(a, sizeof a, "%s/j1-%d.db", dir, wal);
        snprintf(b2, sizeof b2, "%s/j2-%d.db", dir, wal);
        snprintf(c, sizeof c, "%s/j4-%d.db", dir, wal);
        many_items(a, wal);
        many_items(b2, wal);
        many_items(c, wal);
        ds_proc p;
        DS_RUN(&p, "run", "--db", a, "--specs", many, "--now", T0, "--jobs", "1");
        ck_assert_msg(p.status == 0, "%s", p.err);
        cJSON *s1 = summary(p.out);
        ds_proc_free(&p);
        DS_RUN(&p, "run", "--db", b2, "--specs", many, "--now", T0, "--jobs", "2");
        ck_assert_msg(p.status == 0, "%s", p.err);
        cJSON *s2 = summary(p.out);
        ds_proc_free(&p);
        DS_RUN(&p, "run", "--db", c, "--specs", many, "--now", T0, "--jobs", "4");
        ck_assert_msg(p.status == 0, "%s", p.err);
        cJSON *s4 = summary(p.out);
        ds_proc_free(&p);
        /* identical details but for the duration */
        const char *fields[] = {"metrics_cached", "charts_cached", "failed", "skipped"};
        for (int k = 0; k < 4; k++) {
            char *x = cJSON_PrintUnformatted(det(s1, fields[k]));
            char *y = cJSON_PrintUnformatted(det(s2, fields[k]));
            char *z = cJSON_PrintUnformatted(det(s4, fields[k]));
            ck_assert_str_eq(x, y);
            ck_assert_str_eq(x, z);
            free(x); free(y); free(z);
        }
        ck_assert_int_eq(items_run(s1), 20);
        cJSON_Delete(s1); cJSON_Delete(s2); cJSON_Delete(s4);
        char *d1 = cache_dump(a), *d2 = cache_dump(b2), *d4 = cache_dump(c);
        ck_assert_ptr_nonnull(d1);
        ck_assert_msg(strcmp(d1, d2) == 0, "--jobs 2 differs (wal=%d)", wal);
        ck_assert_msg(strcmp(d1, d4) == 0, "--jobs 4 differs (wal=%d)", wal);
        free(d1); free(d2); free(d4);
        char *jm = ds_sql_text(b2, "PRAGMA journal_mode");
        ck_assert_str_eq(jm, wal ? "wal" : "delete");   /* never changed */
        free(jm);
    }
    free(many);
}
END_TEST

/* kill -9 at random moments: the database stays sound and every value is a
 * complete one (old or new), consistent with its created_at. */
START_TEST(kill_9_at_random_moments)
{
    char *many = path_in("many");
    snprintf(db, sizeof db, "%s/k.db", dir);
    many_items(db, 0);
    ds_proc p;
    DS_RUN(&p, "run", "--db", db, "--specs", many, "--now", T0, "--quiet");
    ck_assert_int_eq(p.status, 0);
    ds_proc_free(&p);
    /* how long a forced run takes here, to spread the kills over it */
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    DS_RUN(&p, "run", "--db", db, "--force", "--now", "2026-02-12 10:00:01", "--quiet");
    clock_gettime(CLOCK_MONOTONIC, &b);
    ck_assert_int_eq(p.status, 0);
    ds_proc_free(&p);
    long span = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    if (span < 20) span = 20;
    if (span > 1500) span = 1500;
    char *out = path_in("k.out"), *err = path_in("k.err");
    srand(12345);
    int killed = 0;
    for (int i = 0; i < 60; i++) {
        char now[32];
        snprintf(now, sizeof now, "2026-02-12 10:%02d:%02d", 1 + i / 60, i % 60);
        const char *jobs = i % 2 ? "2" : "1";
        pid_t pid = spawn((const char *const[]){"run", "--db", db, "--force", "--now", now, "--jobs", jobs,
                                                "--quiet", NULL}, out, err, 0);
        msleep(rand() % (span + span / 4 + 1));
        kill(pid, SIGKILL);
        int rc = wait_exit(pid);
        killed += rc == 128 + SIGKILL;
        ck_assert_msg(rc == 0 || rc == 128 + SIGKILL, "exit %d", rc);
        /* Every other time the next run finds what the kill left (a hot
         * journal, maybe) and must recover it itself. */
        if (i % 2 == 0) continue;
        /* A read-write open rolls back a hot journal, as the next run does. */
        sqlite3 *h = NULL;
        ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
        sqlite3_busy_timeout(h, 5000);
        sqlite3_stmt *st = NULL;
        ck_assert_int_eq(sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
        ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
        ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
        sqlite3_finalize(st);
        ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT cache_key, cache_value, created_at FROM dashboard_cache",
                                            -1, &st, NULL), SQLITE_OK);
        int rows = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            rows++;
            const char *key = (const char *)sqlite3_column_text(st, 0);
            const char *val = (const char *)sqlite3_column_text(st, 1);
            const char *created = (const char *)sqlite3_column_text(st, 2);
            int k = atoi(key + 5);
            cJSON *v = cJSON_Parse(val);
            ck_assert_msg(v && cJSON_IsArray(v), "%s is not a complete value", key);
            ck_assert_int_eq(cJSON_GetArraySize(v), 1500 + k * 50);
            const cJSON *last = cJSON_GetArrayItem(v, 1500 + k * 50 - 1);
            ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(last, "t")->valuestring, created);
            ck_assert_int_eq((int)cJSON_GetObjectItemCaseSensitive(last, "k")->valuedouble, k);
            cJSON_Delete(v);
        }
        sqlite3_finalize(st);
        ck_assert_int_eq(rows, 20);
        sqlite3_close(h);
    }
    ck_assert_int_gt(killed, 0);
    /* and a run afterwards works */
    DS_RUN(&p, "run", "--db", db, "--force", "--now", "2026-02-12 11:00:00", "--quiet");
    ck_assert_int_eq(p.status, 0);
    ds_proc_free(&p);
    free(out);
    free(err);
    free(many);
}
END_TEST

Suite *run_suite(void)
{
    Suite *s = suite_create("run");
    TCase *tc = tcase_create("run");
    tcase_add_checked_fixture(tc, setup, teardown);
    /* The whole suite takes about 19 s here (the kill loop and --watch are the
     * slowest); per test, 300 s for valgrind, which runs every dashspec too. */
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, first_run_then_nothing_due);
    tcase_add_test(tc, refresh_and_expiry);
    tcase_add_test(tc, spec_change_reruns_that_item);
    tcase_add_test(tc, failure_keeps_value_and_backs_off);
    tcase_add_test(tc, selection_dry_run_quiet);
    tcase_add_test(tc, usage_errors);
    tcase_add_test(tc, jobs_checked_by_the_library);
    tcase_add_test(tc, compile_failures_count_as_failed);
    tcase_add_test(tc, empty_plan);
    tcase_add_test(tc, application_cache_table);
    tcase_add_test(tc, missing_database);
    tcase_add_test(tc, read_only_database);
    tcase_add_test(tc, full_disk_stops_the_run);
    tcase_add_test(tc, locked_by_another_writer);
    tcase_add_test(tc, second_run_exits_4);
    tcase_add_test(tc, sigterm_stops_a_plain_run);
    tcase_add_test(tc, jobs_give_the_same_cache);
    suite_add_tcase(s, tc);
    /* Tagged "slow" (make test skips them, make test-slow runs them): --watch waits
     * for real time to pass, the long query runs for seconds on purpose, and
     * the kill loop kills 60 runs: 4, 10 and 23 s on the loaded 2-core machine. */
    tc = tcase_create("slow");
    tcase_set_tags(tc, "slow");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, watch_cycles_and_picks_up_plan);
    tcase_add_test(tc, values_commit_while_a_long_query_runs);
    tcase_add_test(tc, kill_9_at_random_moments);
    suite_add_tcase(s, tc);
    return s;
}

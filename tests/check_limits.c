/*
 * check_limits.c — limits that always hold (issue #12): only regular files
 * are databases (a FIFO, socket or device at --db is refused at once, exit 5),
 * signals end a run in every phase, --now and the times computed from it stay
 * representable, spec limits have ceilings. Every child runs under a hang
 * guard: a bounded wait, past which it is killed and the test fails.
 */
#include <cJSON.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "dashspec.h"
#include "ds_common.h"
#include "fault/proc.h"

static char *dir;
static char db[4096], specs[4096];

#define T0 "2026-02-12 10:00:00"
/* The hang guard: far beyond what any of these commands needs. */
#define GUARD_MS 20000

static void setup(void)
{
    dir = ds_tmpdir();
    snprintf(db, sizeof db, "%s/app.db", dir);
    snprintf(specs, sizeof specs, "%s/specs", dir);
    ds_sql(db, "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3);");
    free(ds_write(dir, "specs/s.yaml",
                  "version: 1\nmetrics:\n  - key: a\n    shape: scalar\n    ttl: 1m\n"
                  "    query: SELECT count(*) FROM t\n"));
}

static void teardown(void)
{
    ds_tmp_cleanup(dir);
}

static long elapsed_ms(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000L + (t.tv_nsec - t0->tv_nsec) / 1000000L;
}

/* Runs argv under the hang guard; stderr into p->err. */
static void grun(xproc *p, const char *const *argv, const char *what)
{
    char out[4200], err[4200];
    snprintf(out, sizeof out, "%s/.g.out", dir);
    snprintf(err, sizeof err, "%s/.g.err", dir);
    pid_t pid = xspawn(argv, NULL, out, err, NULL);
    p->status = xguarded_wait(pid, GUARD_MS, what);
    p->out = ds_slurp(out);
    p->err = ds_slurp(err);
    ck_assert_ptr_nonnull(p->out);
    ck_assert_ptr_nonnull(p->err);
}

/* The number of lines of s. */
static int nlines(const char *s)
{
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

/* ---------------------------------------------------------------- only regular files */

/* A FIFO, a socket or a device at --db: every command refuses it at once,
 * exit 5 with one line naming the file. Before: most commands blocked in
 * open(2) forever. */
START_TEST(special_files_are_no_databases)
{
    char *fifo = ds_asprintf("%s/fifo.db", dir), *sock = ds_asprintf("%s/sock.db", dir);
    ck_assert_int_eq(mkfifo(fifo, 0644), 0);
    int sfd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    ck_assert_int_ge(sfd, 0);
    ck_assert_uint_lt(strlen(sock), sizeof sa.sun_path);
    strcpy(sa.sun_path, sock);
    ck_assert_int_eq(bind(sfd, (struct sockaddr *)&sa, sizeof sa), 0);
    const char *files[] = {fifo, sock, "/dev/null"};
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        const char *x = files[f];
        const char *const *cmds[] = {
            XARGS("check", "--db", x, "--specs", specs),
            XARGS("compile", "--db", x, "--specs", specs),
            XARGS("run", "--db", x, "--now", T0),
            XARGS("run", "--dry-run", "--db", x, "--now", T0),
            XARGS("run", "--db", x, "--specs", specs, "--now", T0),
            XARGS("get", "--db", x, "a"),
            XARGS("status", "--db", x),
            XARGS("clear", "--db", x),
            XARGS("migrate", "--db", x),
            XARGS("stats", "--db", x),
            XARGS("report", "--db", x, "--out", "r.html"),
            XARGS("explain", "--db", x, "a"),
            XARGS("preview", "--db", x, "a"),
        };
        for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
            xproc p;
            grun(&p, cmds[i], cmds[i][0]);
            ck_assert_msg(p.status == 5, "%s on %s: exit %d: %s", cmds[i][0], x, p.status, p.err);
            ck_assert_msg(strstr(p.err, "not a regular file") && nlines(p.err) == 1,
                          "%s on %s: want one line 'not a regular file', got '%s'", cmds[i][0], x, p.err);
            xfree(&p);
        }
    }
    close(sfd);
    free(fifo);
    free(sock);
}
END_TEST

/* A FIFO among the spec files is named and skipped, never opened. */
START_TEST(special_files_among_specs_are_refused)
{
    char *fifo = ds_asprintf("%s/b.yaml", specs);
    ck_assert_int_eq(mkfifo(fifo, 0644), 0);
    xproc p;
    grun(&p, XARGS("check", "--db", db, "--specs", specs), "check");
    ck_assert_msg(p.status != 0 && strstr(p.out, "b.yaml") && strstr(p.out, "not a regular file"),
                  "exit %d: %s%s", p.status, p.out, p.err);
    xfree(&p);
    grun(&p, XARGS("run", "--db", db, "--specs", specs, "--now", T0), "run");
    ck_assert_msg(p.status == 1 && (strstr(p.err, "not a regular file") || strstr(p.out, "not a regular file")),
                  "exit %d: %s%s", p.status, p.out, p.err);
    xfree(&p);
    free(fifo);
}
END_TEST

/* 1 if process pid has path open. */
static int has_open(pid_t pid, const char *path)
{
    char fdd[64];
    snprintf(fdd, sizeof fdd, "/proc/%d/fd", (int)pid);
    DIR *dp = opendir(fdd);
    if (!dp) return 0;
    int found = 0;
    struct dirent *de;
    while (!found && (de = readdir(dp))) {
        char l[4200], t[4200];
        snprintf(l, sizeof l, "%s/%s", fdd, de->d_name);
        ssize_t n = readlink(l, t, sizeof t - 1);
        if (n > 0) { t[n] = '\0'; found = strcmp(t, path) == 0; }
    }
    closedir(dp);
    return found;
}

/* SIGTERM and SIGINT end run and run --dry-run within a second while they
 * wait for another writer's exclusive lock (--busy-timeout 60s). Before: the
 * signal was noted and the wait went on to its end. */
START_TEST(signals_end_a_run_waiting_for_a_lock)
{
    xproc p;
    grun(&p, XARGS("compile", "--db", db, "--specs", specs), "compile");
    ck_assert_msg(p.status == 0, "compile: %d %s", p.status, p.err);
    xfree(&p);
    char real[4200];
    ck_assert_ptr_nonnull(realpath(db, real));
    sqlite3 *h = xopen(db);
    ck_assert_int_eq(sqlite3_exec(h, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    const int sigs[] = {SIGTERM, SIGINT};
    for (int dry = 0; dry < 2; dry++) {
        for (size_t k = 0; k < 2; k++) {
            pid_t pid = xspawn(dry ? XARGS("run", "--dry-run", "--db", db, "--now", T0, "--busy-timeout", "60s")
                                   : XARGS("run", "--db", db, "--now", T0, "--busy-timeout", "60s"),
                               NULL, NULL, NULL, NULL);
            struct timespec t0;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            while (!has_open(pid, real)) {
                ck_assert_msg(elapsed_ms(&t0) < GUARD_MS, "the run never opened the database");
                msleep(5);
            }
            kill(pid, sigs[k]);
            clock_gettime(CLOCK_MONOTONIC, &t0);
            int st = xguarded_wait(pid, GUARD_MS, "run after a signal");
            long ms = elapsed_ms(&t0);
            ck_assert_msg(st == 128 + sigs[k], "dry %d signal %d: exit %d", dry, sigs[k], st);
            ck_assert_msg(ms < 1000, "dry %d signal %d: took %ld ms to end", dry, sigs[k], ms);
        }
    }
    sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(h);
    assert_xq(db, "PRAGMA integrity_check", "ok");
}
END_TEST

/* ---------------------------------------------------------------- time stays representable */

/* --now outside 1970..9999, or one where now + ttl passes 9999-12-31
 * 23:59:59: a usage error naming the limit, nothing stored. Before: exit 0
 * and expires_at '0000-00-00 00:00:00'. */
START_TEST(time_stays_representable)
{
    const char *bad[] = {"9999-12-31 23:59:59", "1969-12-31 23:59:59", "0000-01-01 00:00:00",
                         "9999-12-31 23:59:30"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        xproc p;
        grun(&p, XARGS("run", "--db", db, "--specs", specs, "--now", bad[i]), "run");
        ck_assert_msg(p.status == 2, "--now %s: exit %d: %s", bad[i], p.status, p.err);
        ck_assert_msg(strstr(p.err, "9999-12-31 23:59:59") != NULL, "--now %s: %s", bad[i], p.err);
        xfree(&p);
    }
    assert_xq(db, "SELECT count(*) FROM dashboard_cache", "0");
    xproc p;
    grun(&p, XARGS("run", "--db", db, "--specs", specs, "--now", "9999-12-31 23:58:59"), "run");
    ck_assert_msg(p.status == 0, "exit %d: %s", p.status, p.err);
    xfree(&p);
    assert_xq(db, "SELECT expires_at FROM dashboard_cache WHERE cache_key = 'a'", "9999-12-31 23:59:59");
    /* the formatter never writes an invalid time */
    char ts[20];
    ds_time_format(INT64_MAX, ts);
    ck_assert_str_eq(ts, "9999-12-31 23:59:59");
    ds_time_format(-5, ts);
    ck_assert_str_eq(ts, "1970-01-01 00:00:00");
}
END_TEST

/* ---------------------------------------------------------------- ceilings */

/* max_bytes, max_rows and timeout past their ceilings: check refuses each at
 * its line:col (items and defaults); the schema states the same maxima.
 * Before: max_bytes 9223372036854775807 passed and switched off the length
 * limit and the heap cap. */
START_TEST(no_setting_switches_a_limit_off)
{
    free(ds_write(dir, "specs/s.yaml",
                  "version: 1\n"
                  "defaults: { max_rows: 10000001 }\n"
                  "metrics:\n"
                  "  - key: a\n    shape: scalar\n    ttl: 1m\n    query: SELECT 1\n"
                  "    max_bytes: 9223372036854775807\n"
                  "  - key: b\n    shape: scalar\n    ttl: 1m\n    query: SELECT 1\n"
                  "    timeout: 2h\n"
                  "  - key: c\n    shape: scalar\n    ttl: 1m\n    query: SELECT 1\n"
                  "    max_bytes: 268435456\n    max_rows: 10000000\n    timeout: 1h\n"));
    xproc p;
    grun(&p, XARGS("check", "--db", db, "--specs", specs), "check");
    ck_assert_msg(p.status == 1, "exit %d: %s%s", p.status, p.out, p.err);
    ck_assert_msg(strstr(p.out, "s.yaml:2:23:") && strstr(p.out, "'max_rows' is 10000001, past its ceiling"),
                  "%s", p.out);
    ck_assert_msg(strstr(p.out, "s.yaml:8:16:") && strstr(p.out, "past its ceiling of 268435456"), "%s", p.out);
    ck_assert_msg(strstr(p.out, "s.yaml:13:14:") && strstr(p.out, "'timeout' is 7200, past its ceiling"),
                  "%s", p.out);
    ck_assert_msg(!strstr(p.out, "[c]"), "c is within its ceilings: %s", p.out);
    xfree(&p);
    char *path = ds_src("docs/spec.schema.json"), *text = ds_slurp(path);
    cJSON *root = cJSON_Parse(text);
    ck_assert_ptr_nonnull(root);
    const cJSON *defs = cJSON_GetObjectItemCaseSensitive(root, "definitions");
    const cJSON *mr = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(defs, "f_max_rows"), "maximum");
    const cJSON *mb = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(defs, "f_max_bytes"), "maximum");
    ck_assert_msg(cJSON_IsNumber(mr) && (int64_t)mr->valuedouble == DS_MAX_ROWS_CEILING, "schema max_rows maximum");
    ck_assert_msg(cJSON_IsNumber(mb) && (int64_t)mb->valuedouble == DS_MAX_BYTES_CEILING, "schema max_bytes maximum");
    cJSON_Delete(root);
    free(text);
    free(path);
}
END_TEST

/* A hand-edited plan row with max_bytes at INT64_MAX: the executor clamps it
 * to the ceiling, so the length limit is 1 GiB and a 1.1 GB value fails at
 * once. Before: the limit was SQLite's own maximum and the heap cap followed. */
START_TEST(a_tampered_plan_row_keeps_the_limits)
{
    free(ds_write(dir, "specs/s.yaml",
                  "version: 1\nmetrics:\n  - key: bomb\n    shape: scalar\n    ttl: 1m\n    timeout: 30s\n"
                  "    query: SELECT length(zeroblob(1100000000))\n"));
    xproc p;
    grun(&p, XARGS("compile", "--db", db, "--specs", specs), "compile");
    ck_assert_msg(p.status == 0, "compile: %d %s", p.status, p.err);
    xfree(&p);
    ds_sql(db, "UPDATE dashspec_plan SET max_bytes = 9223372036854775807");
    grun(&p, XARGS("run", "--db", db, "--now", T0), "run");
    ck_assert_msg(p.status == 1, "exit %d: %s%s", p.status, p.out, p.err);
    ck_assert_msg(strstr(p.out, "exceeded 1073741824 bytes") != NULL, "%s", p.out);
    xfree(&p);
}
END_TEST

/* ---------------------------------------------------------------- check and run agree */

/* Every function SQLite lists, called with NULL arguments (OVER () for
 * window functions): either check refuses it with a located message, or run
 * executes it (it may fail on its arguments, never on authorization).
 * Before: rtreecheck('x') passed check and failed every run with a bare
 * "authorization denied". */
START_TEST(what_check_accepts_run_can_execute)
{
    sqlite3 *h = xopen(db);
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT DISTINCT name, narg, type FROM pragma_function_list ORDER BY 1, 2",
                                        -1, &st, NULL), SQLITE_OK);
    ds_buf y;
    ds_buf_init(&y);
    ds_buf_printf(&y, "version: 1\ndefaults: { ttl: 1m, timeout: 5s }\nmetrics:\n");
    int n = 0;
    char **names = NULL;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        int narg = sqlite3_column_int(st, 1), k = narg >= 0 ? narg : 1;
        const char *type = (const char *)sqlite3_column_text(st, 2);
        ds_buf_printf(&y, "  - key: f%03d\n    shape: scalar\n    query: \"SELECT %s(", n, name);
        for (int i = 0; i < k; i++) ds_buf_printf(&y, "%sNULL", i ? ", " : "");
        ds_buf_printf(&y, ")%s AS v\"\n", type && strcmp(type, "w") == 0 ? " OVER ()" : "");
        names = realloc(names, (size_t)(n + 1) * sizeof *names);
        ck_assert_ptr_nonnull(names);
        names[n++] = ds_strdup(name);
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    ck_assert_int_gt(n, 100);
    char *text = ds_buf_steal(&y);
    free(ds_write(dir, "specs/s.yaml", text));
    free(text);
    xproc c, r;
    grun(&c, XARGS("check", "--db", db, "--specs", specs), "check");
    grun(&r, XARGS("run", "--db", db, "--specs", specs, "--now", T0, "--jobs", "1"), "run");
    cJSON *s = cJSON_Parse(r.out);
    ck_assert_msg(s != NULL, "run summary: %s", r.out);
    const cJSON *failed = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(s, "details"), "failed");
    int refused = 0;
    for (int i = 0; i < n; i++) {
        char key[16], tag[24];
        snprintf(key, sizeof key, "f%03d", i);
        snprintf(tag, sizeof tag, "[%s]", key);
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(failed, key);
        const char *msg = cJSON_IsString(f) ? f->valuestring : NULL;
        int at_check = strstr(c.out, tag) != NULL;
        if (msg && (strstr(msg, "authoriz") || strstr(msg, "not allowed"))) {
            ck_assert_msg(at_check, "%s(): check accepted it, run refused it: %s", names[i], msg);
            refused++;
        }
        if (strcmp(names[i], "rtreecheck") == 0)
            ck_assert_msg(at_check && strstr(c.out, "rtreecheck() is not allowed"), "rtreecheck: %s", c.out);
        free(names[i]);
    }
    ck_assert_int_ge(refused, 3);   /* load_extension, fts3_tokenizer, rtreecheck at least */
    free(names);
    cJSON_Delete(s);
    xfree(&c);
    xfree(&r);
}
END_TEST

Suite *limits_suite(void)
{
    Suite *s = suite_create("limits");
    TCase *tc = tcase_create("limits");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, special_files_are_no_databases);
    tcase_add_test(tc, special_files_among_specs_are_refused);
    tcase_add_test(tc, signals_end_a_run_waiting_for_a_lock);
    tcase_add_test(tc, time_stays_representable);
    tcase_add_test(tc, no_setting_switches_a_limit_off);
    tcase_add_test(tc, what_check_accepts_run_can_execute);
    tcase_add_test(tc, a_tampered_plan_row_keeps_the_limits);
    suite_add_tcase(s, tc);
    return s;
}

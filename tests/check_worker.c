/*
 * check_worker.c — run's spec queries execute in worker processes (issue 12,
 * engine/sqlite/sqlite_pool.c, sqlite_worker.c): values are byte for byte
 * what the in-process executor computes; a single SQL function call past
 * its timeout is killed ("query timed out after 2s") and the run goes on; a
 * memory bomb grows a worker, never the writer; a worker killed from
 * outside fails only its item; a run with nothing due forks nothing, and no
 * query process outlives a run. Every child runs under a hang guard (a
 * bounded wait, far beyond what it needs), never a timing assertion.
 */
#include <cJSON.h>
#include <dirent.h>
#include <sys/ptrace.h>
#include "dashspec.h"
#include "ds_common.h"
#include "ds_runtime.h"
#include "fault/proc.h"

static char *dir;
static char db[4096], specs[4096];
static int64_t T0;

#define NOW "2026-02-12 10:00:00"
/* The hang guard for one run: far beyond what any of these runs needs. */
#define GUARD_MS 30000
/* A signal ends a run within a second; under AddressSanitizer (make asan)
 * tearing down its shadow memory and the leak check at exit take longer. */
#ifdef __SANITIZE_ADDRESS__
#define END_MS 5000
#else
#define END_MS 1000
#endif

static void setup(void)
{
    dir = ds_tmpdir();
    snprintf(db, sizeof db, "%s/app.db", dir);
    snprintf(specs, sizeof specs, "%s/specs", dir);
    ds_sql(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, v REAL, g TEXT);"
               "INSERT INTO t VALUES (1, 'one', 1.5, 'a'), (2, 'two', 0.1, 'b'), (3, NULL, 3.0, 'a'),"
               " (4, 'fünf\x01', -0.0, 'b'), (5, 'x', 1e300, NULL);");
    ck_assert_int_eq(ds_time_parse(NOW, &T0), 0);
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

/* Runs argv under the hang guard, output into p. */
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

/* details.failed[key] of a run's summary, or NULL. */
static const char *failed_msg(const cJSON *s, const char *key)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(s, "details"), "failed");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(f, key);
    return cJSON_IsString(m) ? m->valuestring : NULL;
}

static cJSON *summary(const char *out)
{
    cJSON *s = cJSON_Parse(out);
    ck_assert_msg(s != NULL, "no summary: %s", out);
    return s;
}

/* ---------------------------------------------------------------- same values */

static ds_item mk(const char *key, ds_shape shape, const char *query)
{
    ds_item it;
    memset(&it, 0, sizeof it);
    it.key = (char *)key;
    it.shape = shape;
    it.query = (char *)query;
    it.timeout = 30;
    it.max_rows = 1000;
    it.max_bytes = 1048576;
    return it;
}

/* One item through both executors: the same outcome, byte for byte. */
static void same(ds_exec *in, ds_exec *iso, const ds_item *it)
{
    ds_result a, b;
    char *ea = NULL, *eb = NULL;
    int ra = ds_exec_item(in, it, T0, &a, &ea), rb = ds_exec_item(iso, it, T0, &b, &eb);
    ck_assert_msg(ra == rb, "%s: in-process %d (%s), worker %d (%s)", it->key, ra, ea ? ea : "", rb, eb ? eb : "");
    if (ra == 0) {
        ck_assert_uint_eq(a.len, b.len);
        ck_assert_msg(memcmp(a.json, b.json, a.len) == 0, "%s: %s vs %s", it->key, a.json, b.json);
        ck_assert_int_eq(a.entries, b.entries);
    } else {
        ck_assert_str_eq(ea, eb);
    }
    ds_result_free(&a);
    ds_result_free(&b);
    free(ea);
    free(eb);
}

/* Every shape, params, :now and :since, and errors: a worker computes what
 * the in-process executor computes, the same bytes and the same messages. */
START_TEST(a_worker_computes_the_same_bytes)
{
    ds_diag d;
    ds_diag_init(&d);
    ds_exec *in = ds_exec_new(db, &d), *iso = ds_exec_new_isolated(db, &d);
    ck_assert_msg(in && iso, "open: %s", d.n ? d.v[0].msg : "?");
    ds_param ps[] = {{.name = "n", .type = DS_PARAM_INT, .i = 2},
                     {.name = "s", .type = DS_PARAM_TEXT, .s = "it's \"q\""},
                     {.name = "r", .type = DS_PARAM_REAL, .r = 0.1}};
    char *ys[] = {"v"};
    ds_item v[] = {
        mk("scalar", DS_SHAPE_SCALAR, "SELECT count(*) FROM t WHERE id > :n"),
        mk("row", DS_SHAPE_ROW, "SELECT :s AS s, :r AS r, :now AS now, :since AS since, 9223372036854775807 AS big"),
        mk("rows", DS_SHAPE_ROWS, "SELECT id, name, v FROM t ORDER BY id"),
        mk("map", DS_SHAPE_MAP, "SELECT name, v FROM t WHERE name IS NOT NULL ORDER BY id"),
        mk("series", DS_SHAPE_SERIES, "SELECT id AS x, g, v FROM t WHERE g IS NOT NULL ORDER BY id"),
        mk("no_column", DS_SHAPE_SCALAR, "SELECT nope FROM t"),
        mk("too_many", DS_SHAPE_ROWS, "SELECT id FROM t"),
        mk("blob", DS_SHAPE_SCALAR, "SELECT x'00ff'"),
    };
    v[0].params = ps;
    v[0].nparams = 1;
    v[1].params = ps;
    v[1].nparams = 3;
    v[1].since = T0 - 3600;
    v[4].x = "x";
    v[4].series_by = "g";
    v[4].y = ys;
    v[4].ny = 1;
    v[4].fill = "0";
    v[6].max_rows = 2;
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) same(in, iso, &v[i]);
    /* ... and again: the worker's statement cache */
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) same(in, iso, &v[i]);
    ds_exec_free(in);
    ds_exec_free(iso);
    ds_diag_free(&d);
}
END_TEST

/* ---------------------------------------------------------------- the hard wall */

/* printf('%.*c', 2000000000, 'x') is one function call that spins about a
 * minute after it hits the length limit: the progress handler never runs.
 * Its worker is killed past the 2s timeout and the next item still runs;
 * alone (the serial path) and among others (the pool's threads). Before:
 * 61.8 s, exit 0, the value null. */
START_TEST(a_function_call_past_its_timeout_is_killed)
{
    free(ds_write(dir, "specs/s.yaml",
                  "version: 1\ndefaults: { ttl: 1m, timeout: 2s }\nmetrics:\n"
                  "  - key: a_spin\n    shape: scalar\n    query: SELECT length(printf('%.*c', 2000000000, 'x'))\n"
                  "  - key: b_after\n    shape: scalar\n    query: SELECT count(*) FROM t\n"));
    const char *sel[] = {"a_spin", "*"};
    for (int k = 0; k < 2; k++) {
        xproc p;
        grun(&p, XARGS("run", "--db", db, "--specs", specs, "--now", NOW, "--force", "--jobs", "1",
                       "--select", sel[k]), "run");
        ck_assert_msg(p.status == 1, "exit %d: %s%s", p.status, p.out, p.err);
        cJSON *s = summary(p.out);
        const char *m = failed_msg(s, "a_spin");
        ck_assert_msg(m && strcmp(m, "query timed out after 2s") == 0, "a_spin: %s", m ? m : "(none)");
        if (k == 1) ck_assert_ptr_null(failed_msg(s, "b_after"));
        cJSON_Delete(s);
        xfree(&p);
    }
    assert_xq(db, "SELECT cache_value FROM dashboard_cache WHERE cache_key = 'b_after'", "5");
    assert_xq(db, "SELECT last_error FROM dashspec_state WHERE cache_key = 'a_spin'", "query timed out after 2s");
}
END_TEST

/* ---------------------------------------------------------------- tracing a run */

/* A run under ptrace: every process it forks (and they fork), the peak RSS
 * of the run's own process, and whether any of those processes was still
 * alive when the run exited. */
typedef struct traced {
    int status;             /* exit code or 128+signal */
    int forks;              /* processes forked by the run and its children */
    int alive_at_exit;      /* of those, not yet ended when the run exited */
    long hwm_kb;            /* the run's own VmHWM at its exit */
    char *out;
} traced;

static long vm_hwm(pid_t pid)
{
    char path[64], line[256];
    long kib = 0;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0) { kib = strtol(line + 6, NULL, 10); break; }
    fclose(f);
    return kib;
}

#define MAXT 256
typedef struct tracees {
    pid_t pid[MAXT];
    int fresh[MAXT];        /* its first stop (SIGSTOP of the attach) is still to come */
    int proc[MAXT];         /* a process (fork), not a thread */
    int alive[MAXT];
    int n;
} tracees;

static int tfind(tracees *t, pid_t pid)
{
    for (int i = 0; i < t->n; i++) if (t->pid[i] == pid) return i;
    ck_assert_int_lt(t->n, MAXT);
    t->pid[t->n] = pid;
    t->fresh[t->n] = 1;
    t->proc[t->n] = 0;
    t->alive[t->n] = 1;
    return t->n++;
}

/* Handles one stop of a tracee (a fork, clone, exit event or a signal). */
static void on_stop(tracees *T, traced *r, pid_t run, pid_t w, int st, int *setup)
{
    int sig = WSTOPSIG(st), ev = st >> 16, pass = 0;
    if (w == run && !*setup && sig == SIGTRAP && ev == 0) {
        *setup = 1;
        ptrace(PTRACE_SETOPTIONS, w, NULL, (void *)(long)(PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
                                                          PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXIT |
                                                          PTRACE_O_EXITKILL));
    } else if (ev == PTRACE_EVENT_FORK || ev == PTRACE_EVENT_VFORK || ev == PTRACE_EVENT_CLONE) {
        unsigned long np = 0;
        ptrace(PTRACE_GETEVENTMSG, w, NULL, &np);
        int i = tfind(T, (pid_t)np);
        if (ev != PTRACE_EVENT_CLONE) { T->proc[i] = 1; r->forks++; }
    } else if (ev == PTRACE_EVENT_EXIT) {
        if (w == run) {
            r->hwm_kb = vm_hwm(w);
            for (int i = 0; i < T->n; i++) r->alive_at_exit += T->proc[i] && T->alive[i];
        }
    } else if (sig == SIGSTOP && ev == 0) {
        int i = tfind(T, w);
        if (!T->fresh[i]) pass = sig;
        T->fresh[i] = 0;
    } else if (!(sig == SIGTRAP && ev)) {
        pass = sig;
    }
    ptrace(PTRACE_CONT, w, NULL, (void *)(long)pass);
}

static void trace_run(traced *r, const char *const *argv)
{
    memset(r, 0, sizeof *r);
    tracees *T = calloc(1, sizeof *T);
    ck_assert_ptr_nonnull(T);
    char out[4200];
    snprintf(out, sizeof out, "%s/.t.out", dir);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &old);
    pid_t run = fork();
    if (run == 0) {
        if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0) _exit(126);
        /* LeakSanitizer ptraces the process at exit: not possible under a
         * tracer (make asan); the untraced runs check leaks. */
        setenv("ASAN_OPTIONS", "verify_asan_link_order=0:detect_leaks=0", 1);
        xexec(argv, NULL, out, NULL, NULL);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    ck_assert_int_gt(run, 0);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int setup = 0;
    for (;;) {
        int st = 0;
        pid_t w = waitpid(-1, &st, __WALL | WNOHANG);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) break;                   /* every tracee and child is gone */
        if (w == 0) {
            if (elapsed_ms(&t0) > GUARD_MS) {
                kill(run, SIGKILL);
                ck_abort_msg("traced run: still running after %d ms (hangs)", GUARD_MS);
            }
            msleep(2);
            continue;
        }
        if (WIFEXITED(st) || WIFSIGNALED(st)) {
            T->alive[tfind(T, w)] = 0;
            if (w == run) r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            continue;
        }
        if (WIFSTOPPED(st)) on_stop(T, r, run, w, st, &setup);
    }
    free(T);
    r->out = ds_slurp(out);
    ck_assert_ptr_nonnull(r->out);
}

/* A run with nothing due forks nothing (it stays a few milliseconds); a
 * run that computes forks its query processes, and none of them is alive
 * any more when it exits. */
START_TEST(a_run_with_nothing_due_forks_nothing)
{
    if (under_valgrind()) return;          /* valgrind's own processes would count */
    free(ds_write(dir, "specs/s.yaml",
                  "version: 1\ndefaults: { ttl: 1h }\nmetrics:\n"
                  "  - key: a\n    shape: scalar\n    query: SELECT count(*) FROM t\n"
                  "  - key: b\n    shape: scalar\n    query: SELECT max(id) FROM t\n"));
    traced r;
    trace_run(&r, XARGS("run", "--db", db, "--specs", specs, "--now", NOW, "--jobs", "2"));
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.out);
    ck_assert_int_ge(r.forks, 3);           /* the spawner and two workers */
    ck_assert_int_eq(r.alive_at_exit, 0);
    free(r.out);
    assert_xq(db, "SELECT count(*) FROM dashboard_cache", "2");
    trace_run(&r, XARGS("run", "--db", db, "--now", NOW, "--jobs", "2"));
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.out);
    ck_assert_msg(strstr(r.out, "\"skipped\":2") != NULL, "%s", r.out);
    ck_assert_int_eq(r.forks, 0);
    free(r.out);
}
END_TEST

/* max_bytes as large as a plan row can say (the executor clamps it to the
 * 256 MiB ceiling: a length limit of 1 GiB) and hex(zeroblob(400000000)):
 * one function call that needs 1.2 GB. It ends at its 1s timeout (or a
 * memory limit, on a machine fast enough to get there first), the next
 * item runs, and the writer's own peak RSS stays that of a plain run: the
 * memory was the worker's. Before: 73 s, 1.9 GB in the one process. */
START_TEST(a_memory_bomb_grows_a_worker_not_the_writer)
{
    if (under_valgrind()) return;
    free(ds_write(dir, "specs/s.yaml",
                  "version: 1\ndefaults: { ttl: 1m, timeout: 1s }\nmetrics:\n"
                  "  - key: a_bomb\n    shape: scalar\n    query: SELECT length(hex(zeroblob(400000000)))\n"
                  "  - key: b_after\n    shape: scalar\n    query: SELECT count(*) FROM t\n"));
    xproc p;
    grun(&p, XARGS("compile", "--db", db, "--specs", specs), "compile");
    ck_assert_msg(p.status == 0, "compile: %d %s", p.status, p.err);
    xfree(&p);
    ds_sql(db, "UPDATE dashspec_plan SET max_bytes = 9223372036854775807");
    traced base, r;
    trace_run(&base, XARGS("run", "--db", db, "--now", NOW, "--force", "--jobs", "1", "--select", "b_after"));
    ck_assert_msg(base.status == 0, "exit %d: %s", base.status, base.out);
    trace_run(&r, XARGS("run", "--db", db, "--now", NOW, "--force", "--jobs", "1"));
    ck_assert_msg(r.status == 1, "exit %d: %s", r.status, r.out);
    cJSON *s = summary(r.out);
    const char *m = failed_msg(s, "a_bomb");
    ck_assert_msg(m && (strcmp(m, "query timed out after 1s") == 0 || strstr(m, "out of memory") ||
                        strstr(m, "too big")), "a_bomb: %s", m ? m : "(succeeded)");
    ck_assert_ptr_null(failed_msg(s, "b_after"));
    cJSON_Delete(s);
    ck_assert_int_gt(base.hwm_kb, 0);
    ck_assert_msg(r.hwm_kb < base.hwm_kb + 32 * 1024, "the writer's peak RSS: %ld KiB, a plain run's %ld KiB",
                  r.hwm_kb, base.hwm_kb);
    ck_assert_int_eq(r.alive_at_exit, 0);
    free(base.out);
    free(r.out);
}
END_TEST

/* ---------------------------------------------------------------- a worker killed from outside */

/* /proc/pid/stat: the command name, the parent and user + system ticks. */
static int proc_stat(pid_t pid, char comm[32], pid_t *ppid, long *ticks)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *l = strchr(buf, '('), *rp = strrchr(buf, ')');
    if (!l || !rp || rp - l - 1 >= 32) return -1;
    memcpy(comm, l + 1, (size_t)(rp - l - 1));
    comm[rp - l - 1] = '\0';
    char state;
    int pp;
    unsigned long ut, stt;
    /* fields after comm: state ppid pgrp session tty tpgid flags minflt
     * cminflt majflt cmajflt utime stime */
    if (sscanf(rp + 2, "%c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &state, &pp, &ut, &stt) != 4) return -1;
    *ppid = pp;
    *ticks = (long)(ut + stt);
    return state == 'Z' ? -1 : 0;
}

/* The query worker of run (a dashspec-query process whose parent, the
 * spawner, is run's child), or 0. */
static pid_t find_worker(pid_t run)
{
    DIR *dp = opendir("/proc");
    ck_assert_ptr_nonnull(dp);
    pid_t found = 0;
    struct dirent *e;
    while (!found && (e = readdir(dp))) {
        pid_t pid = (pid_t)atoi(e->d_name), pp, gp;
        char comm[32], pcomm[32];
        long t;
        if (pid <= 0 || proc_stat(pid, comm, &pp, &t) || strcmp(comm, "dashspec-query") != 0) continue;
        if (proc_stat(pp, pcomm, &gp, &t) == 0 && gp == run) found = pid;
    }
    closedir(dp);
    return found;
}

/* kill -9 of the worker in the middle of item b (an endless recursive CTE,
 * timeout 1h): b fails with "query worker died (signal 9)", a and c are
 * written (c by a new worker), and no read lock is left behind. The test
 * knows b is running when a is in the cache and the worker has since burnt
 * 200 ms of CPU: nothing else in this run can. */
START_TEST(a_killed_worker_fails_only_its_item)
{
    free(ds_write(dir, "specs/s.yaml",
                  "version: 1\ndefaults: { ttl: 1m, timeout: 1h }\nmetrics:\n"
                  "  - key: a\n    shape: scalar\n    query: SELECT count(*) FROM t\n"
                  "  - key: b\n    shape: scalar\n"
                  "    query: WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT max(i) FROM r\n"
                  "  - key: c\n    shape: scalar\n    query: SELECT max(id) FROM t\n"));
    char out[4200];
    snprintf(out, sizeof out, "%s/.k.out", dir);
    pid_t run = xspawn(XARGS("run", "--db", db, "--specs", specs, "--now", NOW, "--jobs", "1"), NULL, out, NULL,
                       NULL);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        ck_assert_msg(elapsed_ms(&t0) < GUARD_MS, "a was never written");
        char *v = xq(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'dashboard_cache'");
        int have = v && strcmp(v, "1") == 0;
        free(v);
        if (have && (v = xq(db, "SELECT cache_value FROM dashboard_cache WHERE cache_key = 'a'"))) {
            free(v);
            break;
        }
        msleep(20);
    }
    pid_t w = 0;
    long t_first = -1, t = 0;
    for (;;) {
        ck_assert_msg(elapsed_ms(&t0) < GUARD_MS, "no worker ran b");
        char comm[32];
        pid_t pp;
        if (!w && !(w = find_worker(run))) { msleep(10); continue; }
        if (proc_stat(w, comm, &pp, &t)) { w = 0; t_first = -1; continue; }    /* replaced meanwhile */
        if (t_first < 0) t_first = t;
        if ((t - t_first) * 1000 / sysconf(_SC_CLK_TCK) >= 200) break;
        msleep(20);
    }
    ck_assert_int_eq(kill(w, SIGKILL), 0);
    int st = xguarded_wait(run, GUARD_MS, "run after its worker was killed");
    char *o = ds_slurp(out);
    ck_assert_msg(st == 1, "exit %d: %s", st, o);
    cJSON *s = summary(o);
    const char *m = failed_msg(s, "b");
    ck_assert_msg(m && strcmp(m, "query worker died (signal 9)") == 0, "b: %s", m ? m : "(none)");
    ck_assert_ptr_null(failed_msg(s, "a"));
    ck_assert_ptr_null(failed_msg(s, "c"));
    cJSON_Delete(s);
    free(o);
    assert_xq(db, "SELECT group_concat(cache_key || '=' || cache_value, ' ') FROM "
                  "(SELECT * FROM dashboard_cache ORDER BY cache_key)", "a=5 c=5");
    sqlite3 *h = xopen(db);
    ck_assert_int_eq(sqlite3_exec(h, "BEGIN EXCLUSIVE; COMMIT;", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
}
END_TEST

/* Waits until pid has burnt ms of CPU since the first look. */
static void await_cpu(pid_t pid, long ms, const struct timespec *t0)
{
    long first = -1, t = 0;
    for (;;) {
        ck_assert_msg(elapsed_ms(t0) < GUARD_MS, "the worker never ran");
        char comm[32];
        pid_t pp;
        ck_assert_msg(proc_stat(pid, comm, &pp, &t) == 0, "the worker %d is gone", (int)pid);
        if (first < 0) first = t;
        if ((t - first) * 1000 / sysconf(_SC_CLK_TCK) >= ms) return;
        msleep(20);
    }
}

/* SIGTERM while a worker spins in one function call (printf, timeout 1h):
 * the run ends within a second (exit 143), records nothing for the item,
 * and neither the worker nor the spawner outlives it. */
START_TEST(a_signal_ends_a_run_and_its_workers)
{
    free(ds_write(dir, "specs/s.yaml",
                  "version: 1\ndefaults: { ttl: 1m, timeout: 1h }\nmetrics:\n"
                  "  - key: a_spin\n    shape: scalar\n    query: SELECT length(printf('%.*c', 2000000000, 'x'))\n"));
    xproc p;
    grun(&p, XARGS("compile", "--db", db, "--specs", specs), "compile");
    ck_assert_msg(p.status == 0, "compile: %d %s", p.status, p.err);
    xfree(&p);
    pid_t run = xspawn(XARGS("run", "--db", db, "--now", NOW), NULL, NULL, NULL, NULL);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t w;
    while (!(w = find_worker(run))) {
        ck_assert_msg(elapsed_ms(&t0) < GUARD_MS, "no worker started");
        msleep(10);
    }
    char comm[32];
    pid_t spawner;
    long t;
    ck_assert_int_eq(proc_stat(w, comm, &spawner, &t), 0);
    await_cpu(w, 200, &t0);
    kill(run, SIGTERM);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int st = xguarded_wait(run, GUARD_MS, "run after SIGTERM");
    long ms = elapsed_ms(&t0);
    ck_assert_msg(st == 128 + SIGTERM, "exit %d", st);
    ck_assert_msg(ms < END_MS, "took %ld ms to end", ms);
    const pid_t pids[] = {w, spawner};
    for (int i = 0; i < 2; i++) {
        pid_t pp;
        while (proc_stat(pids[i], comm, &pp, &t) == 0 && (strcmp(comm, "dashspec-query") == 0 ||
                                                          strcmp(comm, "dashspec-spawn") == 0)) {
            ck_assert_msg(elapsed_ms(&t0) < GUARD_MS, "%s %d outlived the run", comm, (int)pids[i]);
            msleep(10);
        }
    }
    assert_xq(db, "SELECT count(*) FROM dashspec_state WHERE cache_key = 'a_spin'", "0");
}
END_TEST

Suite *worker_suite(void)
{
    Suite *s = suite_create("worker");
    TCase *tc = tcase_create("worker");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, a_worker_computes_the_same_bytes);
    tcase_add_test(tc, a_run_with_nothing_due_forks_nothing);
    suite_add_tcase(s, tc);
    TCase *slow = tcase_create("worker_slow");
    tcase_add_checked_fixture(slow, setup, teardown);
    tcase_set_timeout(slow, 300);
    tcase_set_tags(slow, "slow");           /* each takes a timeout's seconds */
    tcase_add_test(slow, a_function_call_past_its_timeout_is_killed);
    tcase_add_test(slow, a_memory_bomb_grows_a_worker_not_the_writer);
    tcase_add_test(slow, a_killed_worker_fails_only_its_item);
    tcase_add_test(slow, a_signal_ends_a_run_and_its_workers);
    suite_add_tcase(s, slow);
    return s;
}

/*
 * proc.h — process helpers for the hardening suites (check_hostile.c,
 * check_faults.c): run the built binary with extra environment (the fault
 * shim, limits), in the background or to completion, with its peak RSS; and
 * look at a database from outside (fingerprint of the application's tables,
 * integrity, cached values). Static functions: each suite gets its own copy.
 *
 * Under DS_VALGRIND=1 children run under valgrind like ds_proc_run's, with
 * malloc left to the preloaded shim when there is one (valgrind still sees
 * every block through the C library's allocator underneath).
 */
#ifndef DS_FAULT_PROC_H
#define DS_FAULT_PROC_H

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "../ds_test.h"

/* One finished child. */
typedef struct xproc {
    int status;             /* exit code, or 128+signal */
    long maxrss_kb;         /* peak resident set size */
    char *out, *err;        /* what it printed (malloc'd) */
} xproc;

static __attribute__((unused)) int under_valgrind(void)
{
    const char *v = getenv("DS_VALGRIND");
    return v && strcmp(v, "1") == 0;
}

/* The fault shim next to the binary: $(BUILD)/fault/dsfault.so. */
static __attribute__((unused)) char *fault_so(void)
{
    const char *bin = getenv("DS_BIN");
    ck_assert_msg(bin != NULL, "DS_BIN is not set (run the tests through make)");
    const char *slash = strrchr(bin, '/');
    size_t n = slash ? (size_t)(slash - bin) : 0;
    char *p = malloc(n + 32);
    ck_assert_ptr_nonnull(p);
    snprintf(p, n + 32, "%.*s%sfault/dsfault.so", (int)n, bin, slash ? "/" : "");
    ck_assert_msg(access(p, R_OK) == 0, "the fault shim %s is missing (make builds it)", p);
    return p;
}

/* How to start a child beyond its arguments. */
typedef struct xopts {
    long long fsize;        /* > 0: files may not grow past it (EFBIG, as a full disk) */
    int nobody;             /* drop root first: a read-only file is writable for root */
} xopts;

/* In a child: becomes DS_BIN argv (under valgrind when DS_VALGRIND=1) with
 * env entries ("NAME=VALUE", may be NULL) added and stdout/stderr to the
 * files out/err (NULL: /dev/null); o may be NULL. Never returns. */
static __attribute__((unused)) void xexec(const char *const *argv, const char *const *env, const char *out,
                                          const char *err, const xopts *o)
{
    const char *bin = getenv("DS_BIN");
    if (!bin) _exit(126);
    const char *av[64];
    size_t k = 0;
    if (under_valgrind()) {
        av[k++] = "valgrind";
        av[k++] = "-q";
        av[k++] = "--error-exitcode=99";
        av[k++] = "--leak-check=full";
        av[k++] = "--errors-for-leak-kinds=definite";
        av[k++] = "--show-leak-kinds=definite";    /* as ds_proc_run: query workers */
        av[k++] = "--soname-synonyms=somalloc=nouserintercepts";
    }
    av[k++] = bin;
    for (size_t i = 0; argv[i] && k < 63; i++) av[k++] = argv[i];
    av[k] = NULL;
    /* Until exec this is a copy of the test process, with Check's SIGTERM
     * handler, which signals its whole process group: a kill test's
     * SIGTERM landing here would take the test down. So: default handlers
     * and a process group of its own first, with the signals still blocked
     * (xspawn blocked them before fork), then unblock and exec. */
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int fo = open(out ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int fe = open(err ? err : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int fi = open("/dev/null", O_RDONLY);
    if (fo < 0 || fe < 0 || fi < 0) _exit(126);
    dup2(fi, 0); dup2(fo, 1); dup2(fe, 2);
    for (const char *const *e = env; e && *e; e++) putenv((char *)*e);
    /* A preloaded shim comes before ASan's runtime in the library list;
     * ASan would refuse to start without this. */
    setenv("ASAN_OPTIONS", "verify_asan_link_order=0:detect_leaks=1", 0);
    if (o && o->nobody && geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(125);
    if (o && o->fsize > 0) {
        struct rlimit rl = {(rlim_t)o->fsize, (rlim_t)o->fsize};
        signal(SIGXFSZ, SIG_IGN);
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(124);
    }
    execvp(av[0], (char *const *)av);
    _exit(127);
}

/* Starts DS_BIN argv in the background (see xexec). */
static __attribute__((unused)) pid_t xspawn(const char *const *argv, const char *const *env, const char *out,
                                            const char *err, const xopts *o)
{
    ck_assert_msg(getenv("DS_BIN") != NULL, "DS_BIN is not set (run the tests through make)");
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &old);
    pid_t pid = fork();
    if (pid == 0) xexec(argv, env, out, err, o);
    if (pid > 0) setpgid(pid, pid);    /* also here: no window where a kill finds it in our group */
    sigprocmask(SIG_SETMASK, &old, NULL);
    ck_assert_int_ge(pid, 0);
    return pid;
}

/* Waits for pid; returns its exit code or 128+signal, *maxrss_kb its peak RSS. */
static __attribute__((unused)) int xwait(pid_t pid, long *maxrss_kb)
{
    int st = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    while (wait4(pid, &st, 0, &ru) < 0) {
        if (errno != EINTR) ck_abort_msg("wait4: %s", strerror(errno));
    }
    if (maxrss_kb) *maxrss_kb = ru.ru_maxrss;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Runs DS_BIN argv to the end with extra env, capturing its output through
 * files in tmpdir. A valgrind error (exit 99) fails the test. */
static __attribute__((unused)) void xrun_o(xproc *p, const char *tmpdir, const char *const *argv,
                                           const char *const *env, const xopts *o)
{
    char out[4200], err[4200];
    snprintf(out, sizeof out, "%s/.xproc.out", tmpdir);
    snprintf(err, sizeof err, "%s/.xproc.err", tmpdir);
    pid_t pid = xspawn(argv, env, out, err, o);
    p->status = xwait(pid, &p->maxrss_kb);
    p->out = ds_slurp(out);
    p->err = ds_slurp(err);
    ck_assert_ptr_nonnull(p->out);
    ck_assert_ptr_nonnull(p->err);
    if (under_valgrind()) ck_assert_msg(p->status != 99, "valgrind found errors:\n%s", p->err);
}

static __attribute__((unused)) void xrun(xproc *p, const char *tmpdir, const char *const *argv, const char *const *env)
{
    xrun_o(p, tmpdir, argv, env, NULL);
}

static __attribute__((unused)) void xfree(xproc *p)
{
    free(p->out);
    free(p->err);
    p->out = p->err = NULL;
}

#define XARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static __attribute__((unused)) void msleep(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* ---------------------------------------------------------------- looking at a database */

static __attribute__((unused)) sqlite3 *xopen(const char *db)
{
    sqlite3 *h = NULL;
    /* Read-write so that a hot journal a killed run left is rolled back,
     * as the next dashspec (or application) connection would. */
    ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(h, 10000);
    return h;
}

/* FNV-1a over bytes. */
static __attribute__((unused)) uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ULL;
    return h;
}

/* A fingerprint of everything in db that is not dashspec's: the schema rows
 * of other objects and every row of every other table (rowid order). Any
 * write outside dashboard_cache and dashspec_* changes it. */
static __attribute__((unused)) uint64_t app_fingerprint(const char *db)
{
    sqlite3 *h = xopen(db);
    uint64_t fp = 14695981039346656037ULL;
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(h,
        "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema "
        "WHERE name <> 'dashboard_cache' AND name NOT LIKE 'dashspec\\_%' ESCAPE '\\' "
        "AND tbl_name <> 'dashboard_cache' AND tbl_name NOT LIKE 'dashspec\\_%' ESCAPE '\\' "
        "AND name NOT LIKE 'sqlite_autoindex_dashspec%' AND name NOT LIKE 'sqlite_autoindex_dashboard_cache%' "
        "ORDER BY type, name", -1, &st, NULL), SQLITE_OK);
    char **tables = NULL;
    size_t nt = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int i = 0; i < 4; i++) {
            const unsigned char *t = sqlite3_column_text(st, i);
            fp = fnv(fp, t, (size_t)sqlite3_column_bytes(st, i) + 1);
        }
        if (strcmp((const char *)sqlite3_column_text(st, 0), "table") == 0 &&
            strncmp((const char *)sqlite3_column_text(st, 1), "sqlite_", 7) != 0) {
            tables = realloc(tables, (nt + 1) * sizeof *tables);
            ck_assert_ptr_nonnull(tables);
            tables[nt++] = strdup((const char *)sqlite3_column_text(st, 1));
        }
    }
    sqlite3_finalize(st);
    for (size_t k = 0; k < nt; k++) {
        char *sql = sqlite3_mprintf("SELECT * FROM \"%w\"", tables[k]);
        ck_assert_int_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW) {
            for (int i = 0; i < sqlite3_column_count(st); i++) {
                int t = sqlite3_column_type(st, i);
                fp = fnv(fp, &t, sizeof t);
                const void *b = sqlite3_column_blob(st, i);
                fp = fnv(fp, b ? b : "", (size_t)sqlite3_column_bytes(st, i));
            }
            fp = fnv(fp, "\n", 1);
        }
        sqlite3_finalize(st);
        sqlite3_free(sql);
        free(tables[k]);
    }
    free(tables);
    sqlite3_close(h);
    return fp;
}

/* The first column of the first row of sql as text (malloc'd), or NULL. */
static __attribute__((unused)) char *xq(const char *db, const char *sql)
{
    sqlite3 *h = xopen(db);
    sqlite3_stmt *st = NULL;
    char *r = NULL;
    int rc = sqlite3_prepare_v2(h, sql, -1, &st, NULL);
    ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(h));
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        r = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(h);
    return r;
}

static __attribute__((unused)) long long xq_int(const char *db, const char *sql)
{
    char *v = xq(db, sql);
    ck_assert_msg(v != NULL, "%s: no value", sql);
    long long n = strtoll(v, NULL, 10);
    free(v);
    return n;
}

static __attribute__((unused)) void assert_xq(const char *db, const char *sql, const char *want)
{
    char *v = xq(db, sql);
    ck_assert_msg(v ? want && strcmp(v, want) == 0 : want == NULL, "%s: got '%s', want '%s'", sql,
                  v ? v : "(null)", want ? want : "(null)");
    free(v);
}

/* Copies a file byte for byte. */
static __attribute__((unused)) void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    ck_assert_msg(in && out, "cannot copy %s to %s", from, to);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
    fclose(in);
    ck_assert_int_eq(fclose(out), 0);
}

/* Reads a whole file with its length (NUL-terminated too), or NULL. */
static __attribute__((unused)) char *slurp_n(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 65536, n = 0;
    char *b = malloc(cap + 1);
    ck_assert_ptr_nonnull(b);
    size_t r;
    while ((r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) { cap *= 2; b = realloc(b, cap + 1); ck_assert_ptr_nonnull(b); }
    }
    fclose(f);
    b[n] = '\0';
    *len = n;
    return b;
}

/* Waits for pid at most guard_ms; a child still running then is killed and
 * the test fails (it hung). Returns its exit code or 128+signal. */
static __attribute__((unused)) int xguarded_wait(pid_t pid, long guard_ms, const char *what)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        int st = 0;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        ck_assert_msg(r == 0 || errno == EINTR, "waitpid: %s", strerror(errno));
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > guard_ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            ck_abort_msg("%s: still running after %ld ms (hangs)", what, guard_ms);
        }
        nanosleep(&(struct timespec){0, 10 * 1000000L}, NULL);
    }
}

#endif

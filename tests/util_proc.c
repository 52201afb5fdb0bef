/*
 * util_proc.c — test helpers: run the binary, temp files, SQLite fixtures.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "ds_test.h"

extern char **environ;

static void drain(int fdo, int fde, char **out, char **err)
{
    size_t no = 0, ne = 0, co = 4096, ce = 4096;
    char *bo = malloc(co), *be = malloc(ce);
    ck_assert_ptr_nonnull(bo);
    ck_assert_ptr_nonnull(be);
    struct pollfd pf[2] = {{fdo, POLLIN, 0}, {fde, POLLIN, 0}};
    int open_ = 2;
    while (open_ > 0) {
        if (poll(pf, 2, -1) < 0) { if (errno == EINTR) continue; break; }
        for (int i = 0; i < 2; i++) {
            if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char **b = i ? &be : &bo;
            size_t *n = i ? &ne : &no, *c = i ? &ce : &co;
            if (*n + 4096 >= *c) { *c *= 2; *b = realloc(*b, *c); ck_assert_ptr_nonnull(*b); }
            ssize_t r = read(pf[i].fd, *b + *n, *c - *n - 1);
            if (r <= 0) { close(pf[i].fd); pf[i].fd = -1; open_--; }
            else *n += (size_t)r;
        }
    }
    bo[no] = '\0';
    be[ne] = '\0';
    *out = bo;
    *err = be;
}

void ds_proc_run(ds_proc *p, const char *const *argv, const char *in, const char *const *env)
{
    const char *bin = getenv("DS_BIN");
    ck_assert_msg(bin != NULL, "DS_BIN is not set (run the tests through make)");
    int po[2], pe[2], pi[2];
    ck_assert_int_eq(pipe(po), 0);
    ck_assert_int_eq(pipe(pe), 0);
    ck_assert_int_eq(pipe(pi), 0);
    int vg = getenv("DS_VALGRIND") && strcmp(getenv("DS_VALGRIND"), "1") == 0;
    size_t n = 0;
    while (argv[n]) n++;
    const char **av = calloc(n + 8, sizeof *av);
    ck_assert_ptr_nonnull(av);
    size_t k = 0;
    if (vg) {
        av[k++] = "valgrind";
        av[k++] = "-q";
        av[k++] = "--error-exitcode=99";
        av[k++] = "--leak-check=full";
        av[k++] = "--errors-for-leak-kinds=definite";
        /* Only definite leaks are shown: a query worker (forked, ending in
         * _exit) still holds what it inherited from the run process, which
         * valgrind calls "possibly lost" in the worker; it is not a leak. */
        av[k++] = "--show-leak-kinds=definite";
    }
    av[k++] = bin;
    for (size_t i = 0; i < n; i++) av[k++] = argv[i];
    av[k] = NULL;
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(pi[0], 0); dup2(po[1], 1); dup2(pe[1], 2);
        close(pi[0]); close(pi[1]); close(po[0]); close(po[1]); close(pe[0]); close(pe[1]);
        for (const char *const *e = env; e && *e; e++) putenv((char *)*e);
        execvp(av[0], (char *const *)av);
        _exit(127);
    }
    free(av);
    close(pi[0]); close(po[1]); close(pe[1]);
    if (in) {
        size_t len = strlen(in), off = 0;
        while (off < len) {
            ssize_t w = write(pi[1], in + off, len - off);
            if (w <= 0) break;
            off += (size_t)w;
        }
    }
    close(pi[1]);
    drain(po[0], pe[0], &p->out, &p->err);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    p->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (vg) ck_assert_msg(p->status != 99, "valgrind found errors:\n%s", p->err);
}

void ds_proc_free(ds_proc *p)
{
    free(p->out);
    free(p->err);
    p->out = p->err = NULL;
}

char *ds_tmpdir(void)
{
    const char *t = getenv("TMPDIR");
    char *tmpl = malloc(4096);
    ck_assert_ptr_nonnull(tmpl);
    snprintf(tmpl, 4096, "%s/dashspec-test-XXXXXX", t && *t ? t : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    return tmpl;
}

void ds_tmp_cleanup(char *dir)
{
    if (!dir) return;
    pid_t pid = fork();
    if (pid == 0) {
        execlp("rm", "rm", "-rf", dir, (char *)NULL);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    free(dir);
}

static void mkparents(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        mkdir(path, 0755);
        *p = '/';
    }
}

char *ds_write(const char *dir, const char *rel, const char *text)
{
    size_t n = strlen(dir) + strlen(rel) + 2;
    char *path = malloc(n);
    ck_assert_ptr_nonnull(path);
    snprintf(path, n, "%s/%s", dir, rel);
    mkparents(path);
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    fwrite(text, 1, strlen(text), f);
    fclose(f);
    return path;
}

char *ds_src(const char *rel)
{
    const char *root = getenv("DS_ROOT");
    if (!root) root = ".";
    size_t n = strlen(root) + strlen(rel) + 2;
    char *p = malloc(n);
    ck_assert_ptr_nonnull(p);
    snprintf(p, n, "%s/%s", root, rel);
    return p;
}

void ds_sql(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
    sqlite3_busy_timeout(h, 10000);
    char *err = NULL;
    int rc = sqlite3_exec(h, sql, NULL, NULL, &err);
    ck_assert_msg(rc == SQLITE_OK, "sql failed: %s: %s", err ? err : "?", sql);
    sqlite3_close(h);
}

char *ds_sql_text(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    char *r = NULL;
    ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(h, 10000);
    int rc = sqlite3_prepare_v2(h, sql, -1, &st, NULL);
    ck_assert_msg(rc == SQLITE_OK, "prepare failed: %s: %s", sqlite3_errmsg(h), sql);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        r = strdup(t ? t : "");
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return r;
}

char *ds_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    size_t r;
    while (b && (r = fread(b + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n < 2) { cap *= 2; b = realloc(b, cap); }
    }
    fclose(f);
    if (b) b[n] = '\0';
    return b;
}

void ds_proc_run_tty(ds_proc *p, const char *const *argv, int cols, int color)
{
    const char *bin = getenv("DS_BIN");
    ck_assert_ptr_nonnull(bin);
    size_t n = 0;
    while (argv[n]) n++;
    const char **av = calloc(n + 2, sizeof *av);
    ck_assert_ptr_nonnull(av);
    av[0] = bin;
    for (size_t i = 0; i < n; i++) av[i + 1] = argv[i];
    int master = -1;
    struct winsize ws = {.ws_row = 50, .ws_col = (unsigned short)cols};
    pid_t pid = forkpty(&master, NULL, NULL, &ws);
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        setenv("TERM", "xterm-256color", 1);
        unsetenv("COLUMNS");
        if (color) unsetenv("NO_COLOR"); else setenv("NO_COLOR", "1", 1);
        execv(bin, (char *const *)av);
        _exit(127);
    }
    free(av);
    size_t len = 0, cap = 8192;
    char *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    for (;;) {
        if (cap - len < 4096) { cap *= 2; buf = realloc(buf, cap); ck_assert_ptr_nonnull(buf); }
        ssize_t r = read(master, buf + len, cap - len - 1);
        if (r > 0) { len += (size_t)r; continue; }
        if (r < 0 && errno == EINTR) continue;
        break;   /* EIO: the child closed the terminal */
    }
    buf[len] = '\0';
    close(master);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    p->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    p->out = buf;
    p->err = strdup("");
}

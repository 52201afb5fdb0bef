/*
 * ds_test.h — helpers shared by the Check suites: running the built binary,
 * temporary directories and files, and small SQLite fixtures.
 */
#ifndef DS_TEST_H
#define DS_TEST_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

/* The output of one run of the dashspec binary. */
typedef struct ds_proc {
    int status;          /* exit code, or 128+signal */
    char *out, *err;     /* captured stdout / stderr, NUL-terminated */
} ds_proc;

/* Runs $DS_BIN (the built dashspec) with argv (NULL-terminated, without the
 * program name), optional stdin text and extra environment entries
 * ("NAME=value", NULL-terminated, may be NULL). Under DS_VALGRIND=1 the child
 * runs under valgrind and a valgrind error fails the test. */
void ds_proc_run(ds_proc *p, const char *const *argv, const char *in, const char *const *env);
/* Convenience: ds_proc_run with a literal list. */
#define DS_RUN(p, ...) ds_proc_run((p), (const char *const[]){__VA_ARGS__, NULL}, NULL, NULL)
void ds_proc_free(ds_proc *p);
/* Runs $DS_BIN on a pseudo-terminal of `cols` columns (forkpty, -lutil):
 * stdout and stderr both arrive in p->out (p->err is ""). color: leave
 * NO_COLOR unset (else set it). */
void ds_proc_run_tty(ds_proc *p, const char *const *argv, int cols, int color);
#define DS_TTY(p, cols, color, ...) ds_proc_run_tty((p), (const char *const[]){__VA_ARGS__, NULL}, (cols), (color))

/* A fresh directory under $TMPDIR, removed by ds_tmp_cleanup (rm -rf). */
char *ds_tmpdir(void);
void ds_tmp_cleanup(char *dir);
/* Writes text to dir/rel, creating parent directories; returns the full path (malloc'd). */
char *ds_write(const char *dir, const char *rel, const char *text);
/* Path inside the source tree ($DS_ROOT/rel), malloc'd. */
char *ds_src(const char *rel);
/* Runs SQL on a database file (created when missing) through the sqlite3
 * library; fails the test on error. */
void ds_sql(const char *db, const char *sql);
/* First column of the first row of a query, as text (malloc'd), or NULL. */
char *ds_sql_text(const char *db, const char *sql);
/* Reads a whole file (malloc'd), or NULL. */
char *ds_slurp(const char *path);

#endif

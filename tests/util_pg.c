/*
 * util_pg.c — the throwaway PostgreSQL server of a test process: started
 * once through tests/pg/cluster.sh (a temp directory, a Unix socket, run as
 * nobody when root), stopped and removed at exit by the process that
 * started it (forked test children inherit the conninfo, never the stop).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "ds_test.h"
#include "ds_test_pg.h"

static int state;                   /* 0 not tried, 1 up, 2 skipped, 3 failed */
static char dir[4096], conninfo[4200], error[512], script[4096];
static pid_t owner;

static void stop_cluster(void)
{
    if (state != 1 || getpid() != owner) return;     /* no Check calls here: at exit */
    pid_t pid = fork();
    if (pid == 0) {
        execlp("sh", "sh", script, "stop", dir, (char *)NULL);
        _exit(127);
    }
    int st;
    if (pid > 0) waitpid(pid, &st, 0);
    state = 0;
}

/* Runs cluster.sh start; fills dir and conninfo. */
static void start_cluster(void)
{
    char *src = ds_src("tests/pg/cluster.sh");
    snprintf(script, sizeof script, "%s", src);
    free(src);
    char *cmd = malloc(strlen(script) + 64);
    if (!cmd) { state = 3; snprintf(error, sizeof error, "out of memory"); return; }
    sprintf(cmd, "sh '%s' start", script);
    FILE *f = popen(cmd, "r");
    int ok = f && fgets(dir, sizeof dir, f) && fgets(conninfo, sizeof conninfo, f);
    int st = f ? pclose(f) : -1;
    free(cmd);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 3) {
        state = 2;
        fprintf(stderr, "\n*** SKIPPED: PostgreSQL server binaries not found "
                        "(apt-get install postgresql): the PostgreSQL suites did not run ***\n\n");
        return;
    }
    if (!ok || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        state = 3;
        snprintf(error, sizeof error, "tests/pg/cluster.sh start failed (status %d)", st);
        return;
    }
    dir[strcspn(dir, "\n")] = '\0';
    conninfo[strcspn(conninfo, "\n")] = '\0';
    state = 1;
    owner = getpid();
    atexit(stop_cluster);
}

const char *ds_pg_test_conninfo(void)
{
    if (state == 0) start_cluster();
    return state == 1 ? conninfo : NULL;
}

const char *ds_pg_test_error(void)
{
    return state == 3 ? error : NULL;
}

static void fixture_setup(void)
{
    (void)ds_pg_test_conninfo();
}

void ds_pg_test_fixture(TCase *tc)
{
    tcase_add_unchecked_fixture(tc, fixture_setup, NULL);
}

PGconn *ds_pg_test_connect(void)
{
    const char *ci = ds_pg_test_conninfo();
    ck_assert_ptr_nonnull(ci);
    PGconn *c = PQconnectdb(ci);
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "connect: %s", PQerrorMessage(c));
    return c;
}

void ds_pg_test_sql(const char *sql)
{
    PGconn *c = ds_pg_test_connect();
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    ck_assert_msg(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK, "%s: %s", sql,
                  PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
}

/*
 * util_pgdb.c — a fresh database per test on the suite's PostgreSQL test
 * server (util_pg.c), for the suites that run the dashspec binary against
 * PostgreSQL (check_pg_engine.c, check_pg_runners.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ds_test.h"
#include "ds_test_pg.h"
#include "ds_test_pgdb.h"

char *ds_pgdb_new(const char *name)
{
    char sql[256];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    ds_pg_test_sql(sql);
    const char *ci = ds_pg_test_conninfo();
    const char *p = strstr(ci, "dbname=dashspec");
    ck_assert_ptr_nonnull(p);
    size_t n = strlen(ci) + strlen(name) + 16;
    char *out = malloc(n);
    ck_assert_ptr_nonnull(out);
    snprintf(out, n, "%.*sdbname=%s%s", (int)(p - ci), ci, name, p + strlen("dbname=dashspec"));
    return out;
}

void ds_pgdb_sql(const char *conninfo, const char *sql)
{
    PGconn *c = PQconnectdb(conninfo);
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "connect: %s", PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK,
                  "%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
}

char *ds_pgdb_value(const char *conninfo, const char *sql)
{
    PGconn *c = PQconnectdb(conninfo);
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "connect: %s", PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql, PQresultErrorMessage(r));
    char *v = PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ? strdup(PQgetvalue(r, 0, 0)) : NULL;
    PQclear(r);
    PQfinish(c);
    return v;
}

/*
 * pg_schema.c — schemas on PostgreSQL: dashspec's own tables applied by
 * migrations under an advisory lock, and the scratch schema `check
 * --migrations DIR` validates queries in, rolled back so nothing persists
 * (docs/postgres.md, "Tables").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ds_pg.h"

/* Runs one script (several statements, simple protocol) inside the open
 * transaction. On error fills e: the script's name with the message, and the
 * server's position as a byte offset in the script. */
static int run_script(PGconn *c, const ds_pg_script *s, ds_pg_err *e)
{
    PGresult *r = PQexec(c, s->sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = 0;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
        /* the script as a query without parameters: positions map 1:1 */
        ds_pg_sql whole = {.text = (char *)s->sql, .len = strlen(s->sql)};
        ds_pg_fail(c, r, &whole, e);
        char *m = ds_asprintf("%s: %s", s->name, e->msg);
        if (m) { free(e->msg); e->msg = m; }
        rc = -1;
    }
    PQclear(r);
    return rc;
}

/* 1 when name is recorded, 0 when not, -1 with e set. The table must
 * exist: a missing table would abort the transaction. */
static int recorded(PGconn *c, const char *name, ds_pg_err *e)
{
    const char *vals[1] = {name};
    PGresult *r = PQexecParams(c, "SELECT EXISTS (SELECT 1 FROM dashspec_migrations WHERE name = $1)",
                               1, NULL, vals, NULL, NULL, 0);
    int rc = PQresultStatus(r) == PGRES_TUPLES_OK ? strcmp(PQgetvalue(r, 0, 0), "t") == 0
                                                  : ds_pg_fail(c, r, NULL, e);
    PQclear(r);
    return rc;
}

/* 1 when the dashspec_migrations table exists, 0 not, -1 with e set. */
static int have_table(PGconn *c, ds_pg_err *e)
{
    PGresult *r = PQexec(c, "SELECT to_regclass('dashspec_migrations') IS NOT NULL");
    int rc = PQresultStatus(r) == PGRES_TUPLES_OK ? strcmp(PQgetvalue(r, 0, 0), "t") == 0
                                                  : ds_pg_fail(c, r, NULL, e);
    PQclear(r);
    return rc;
}

/* Recorded-ness of one script, the table's absence meaning "not". */
static int is_applied(PGconn *c, const char *name, ds_pg_err *e)
{
    int t = have_table(c, e);
    return t <= 0 ? t : recorded(c, name, e);
}

static int record(PGconn *c, const char *name, ds_pg_err *e)
{
    const char *vals[1] = {name};
    PGresult *r = PQexecParams(c, "INSERT INTO dashspec_migrations (name, applied_at) VALUES ($1, now()) "
                                  "ON CONFLICT (name) DO NOTHING", 1, NULL, vals, NULL, NULL, 0);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : ds_pg_fail(c, r, NULL, e);
    PQclear(r);
    return rc;
}

int ds_pg_migrate(PGconn *c, const ds_pg_script *s, size_t n, ds_pg_err *e)
{
    char lock[96];
    int applied = 0;
    ds_pg_err_clear(e);
    snprintf(lock, sizeof lock, "SELECT pg_advisory_xact_lock(%lld)", DS_PG_LOCK_KEY);
    if (ds_pg_command(c, "BEGIN", e)) goto fail;
    PGresult *r = PQexec(c, lock);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) { ds_pg_fail(c, r, NULL, e); PQclear(r); goto fail; }
    PQclear(r);
    for (size_t i = 0; i < n; i++) {
        int done = is_applied(c, s[i].name, e);
        if (done < 0) goto fail;
        if (done) continue;
        if (run_script(c, &s[i], e) || record(c, s[i].name, e)) goto fail;
        applied++;
    }
    if (ds_pg_command(c, "COMMIT", e)) goto fail;
    return applied;
fail:
    ds_pg_rollback(c);
    return -1;
}

int ds_pg_migrated(PGconn *c, const ds_pg_script *s, size_t n, ds_pg_err *e)
{
    ds_pg_err_clear(e);
    for (size_t i = 0; i < n; i++) {
        int done = is_applied(c, s[i].name, e);
        if (done <= 0) return done;
    }
    return 1;
}

int ds_pg_scratch_begin(PGconn *c, const ds_pg_script *s, size_t n, ds_pg_err *e)
{
    char sql[160];
    ds_pg_err_clear(e);
    /* unique per process; the transaction makes it invisible to others anyway */
    /* public stays on the path for extensions' functions and types; new
     * tables go to the first schema, the scratch one */
    snprintf(sql, sizeof sql, "BEGIN; CREATE SCHEMA ds_check_%ld; SET LOCAL search_path = ds_check_%ld, public",
             (long)getpid(), (long)getpid());
    if (ds_pg_command(c, sql, e)) goto fail;
    for (size_t i = 0; i < n; i++)
        if (run_script(c, &s[i], e)) goto fail;
    return 0;
fail:
    ds_pg_rollback(c);
    return -1;
}

void ds_pg_scratch_end(PGconn *c)
{
    ds_pg_rollback(c);
}

/*
 * ds_check.c — `check` and `compile` orchestration: pick the schema source,
 * load the specs, validate their SQL, and (compile) store the plan.
 *
 * check never writes: a --db is opened read-only, --schema and --migrations
 * are run into a private in-memory database. compile is all or nothing: it
 * validates against the real database first and writes only when there is no
 * error at all, so a failing compile leaves the file as it was (it does not
 * even create dashspec's tables).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "ds_compiler.h"
#include "engine.h"

/* The status a finished check or compile returns. */
static ds_status outcome(const ds_diag *d, size_t errors_before)
{
    if (d->status != DS_OK && d->status != DS_FAILED) return d->status;
    return d->nerrors > errors_before ? DS_FAILED : DS_OK;
}

/* Opens the database the SQL is prepared against, or leaves *db NULL when
 * none was given. 0 ok, -1 after reporting (status DS_USAGE or DS_DBERROR). */
/* --db URI with --schema or --migrations: the scripts run into a scratch
 * schema of that PostgreSQL database, rolled back when it closes. */
static int pg_scratch(const ds_check_opts *o)
{
    return o->db_path && ds_engine_is_postgres(o->db_path) && (o->schema_path || o->migrations_dir);
}

static int schema_db(const ds_check_opts *o, ds_db **db, ds_diag *d)
{
    *db = NULL;
    if (o->db_path && !pg_scratch(o)) return ds_db_open(o->db_path, DS_DB_READONLY, db, d);
    if (!o->schema_path && !o->migrations_dir) return 0;
    if (ds_db_open(pg_scratch(o) ? o->db_path : NULL, DS_DB_MEMORY, db, d)) return -1;
    int rc;
    if (o->schema_path) {
        char *sql = ds_read_file(o->schema_path, NULL);
        if (!sql) rc = ds_fail(d, DS_USAGE, "cannot read schema '%s': %s", o->schema_path, strerror(errno));
        else rc = ds_db_exec_script(*db, o->schema_path, sql, d);
        free(sql);
    } else {
        rc = ds_db_exec_dir(*db, o->migrations_dir, d);
    }
    if (rc) {
        if (d->status == DS_OK || d->status == DS_FAILED) d->status = DS_USAGE;
        ds_db_close(*db);
        *db = NULL;
    }
    return rc;
}

ds_status ds_check(const ds_check_opts *o, ds_plan *p, ds_diag *d)
{
    const char *specs = o->specs_dir && *o->specs_dir ? o->specs_dir : "specs";
    size_t before = d->nerrors;
    ds_db *db = NULL;
    ds_plan_init(p);
    int nsrc = !!o->db_path + !!o->schema_path + !!o->migrations_dir - pg_scratch(o);
    if (nsrc > 1) {
        ds_fail(d, DS_USAGE, "give at most one of --db, --schema and --migrations");
        return DS_USAGE;
    }
    if (o->explain && (!o->db_path || pg_scratch(o))) {
        ds_fail(d, DS_USAGE, "--explain needs --db FILE: it looks at the rows of the real tables");
        return DS_USAGE;
    }
    if (schema_db(o, &db, d)) return d->status;
    ds_spec_load_dir(specs, p, d);
    if (d->status == DS_OK || d->status == DS_FAILED) {
        ds_sql_validate(db, p, d);
        if (db && o->explain && d->status != DS_DBERROR) ds_sql_explain_lint(db, p, DS_EXPLAIN_MIN_ROWS, d);
    }
    if (!db && (d->status == DS_OK || d->status == DS_FAILED))
        ds_warning(d, NULL, 0, 0, NULL, "SQL was not prepared: no --db, --schema or --migrations given");
    ds_db_close(db);
    ds_diag_sort(d);
    return outcome(d, before);
}

ds_status ds_compile_db(ds_db *db, const char *specs_dir, int store, ds_plan *out,
                        int *stored, ds_diag *d)
{
    const char *specs = specs_dir && *specs_dir ? specs_dir : "specs";
    size_t before = d->nerrors;
    ds_plan_init(out);
    if (stored) *stored = 0;
    ds_spec_load_dir(specs, out, d);
    if (d->status == DS_OK || d->status == DS_FAILED) ds_sql_validate(db, out, d);
    ds_diag_sort(d);
    ds_status st = outcome(d, before);
    if (st != DS_OK || !store) return st;
    /* Only now, with nothing wrong, is anything written. */
    if (ds_db_migrate(db, d) || ds_plan_store(db, out, stored, d)) return outcome(d, before);
    return DS_OK;
}

ds_status ds_compile_file(const char *db_path, const char *specs_dir, size_t *nitems, int *changed,
                          ds_diag *d)
{
    ds_db *db = NULL;
    ds_plan p;
    int stored = 0;
    if (nitems) *nitems = 0;
    if (changed) *changed = 0;
    if (ds_db_open(db_path, DS_DB_READWRITE, &db, d)) return d->status ? d->status : DS_DBERROR;
    ds_status st = ds_compile_db(db, specs_dir, 1, &p, &stored, d);
    if (st == DS_OK) {
        if (nitems) *nitems = p.n;
        if (changed) *changed = stored;
    }
    ds_plan_free(&p);
    ds_db_close(db);
    return st;
}

ds_status ds_compile(const char *db_path, const char *specs_dir, size_t *nitems, ds_diag *d)
{
    return ds_compile_file(db_path, specs_dir, nitems, NULL, d);
}

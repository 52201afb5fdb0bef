/*
 * pg_engine.c — the PostgreSQL engine's table of operations (engine/engine.h)
 * and the operations that need little more than the groundwork modules:
 * store connections (one libpq connection each, passwords redacted from
 * every name and message), the run lock (none: several runners share the
 * work through row locks, docs/postgres.md), dashspec's migrations under the
 * advisory lock, check --migrations' scratch schema, describe (READ ONLY
 * prepare with typed parameters) and the schema facts of check --explain.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pg_int.h"

/* ---------------------------------------------------------------- shared helpers */

PGresult *ds_pgq(PGconn *c, const char *sql, int n, const char *const *vals)
{
    return PQexecParams(c, sql, n, NULL, vals, NULL, NULL, 0);
}

int ds_pgq_ok(const PGresult *r)
{
    ExecStatusType s = PQresultStatus(r);
    return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

int ds_pgq_no_table(const PGresult *r)
{
    const char *s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    return s && strcmp(s, "42P01") == 0;
}

int ds_pgq_fail(pg_db *db, const PGresult *r, const char *what, ds_diag *d)
{
    char *m = r ? ds_pg_result_error(db->c, r) : ds_pg_conn_error(db->c);
    free(db->err);
    db->err = m;
    return ds_fail(d, DS_DBERROR, "%s '%s': %s", what, db->target, m ? m : "out of memory");
}

int64_t ds_pgq_int(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col)) return 0;
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

char *ds_pgq_text(const PGresult *r, int row, int col, int *oom)
{
    if (PQgetisnull(r, row, col)) return NULL;
    char *s = ds_strndup(PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col));
    if (!s) *oom = 1;
    return s;
}

PGconn *ds_pg_conn_of(ds_db *db)
{
    return ((pg_db *)db)->c;
}

char *ds_engine_redact(const char *target)
{
    if (!target) return NULL;
    return ds_engine_is_postgres(target) ? ds_pg_redact(target) : ds_strdup(target);
}

/* ---------------------------------------------------------------- connections */

static int pg_accepts(const char *target)
{
    return ds_engine_is_postgres(target);
}

static void pg_configure(void) {}

static void pg_default_busy_timeout(int64_t ms)
{
    (void)ms;           /* lock waits are PostgreSQL's (lock_timeout of the role) */
}

static int pg_open(const char *target, int mode, ds_db **out, ds_diag *d)
{
    *out = NULL;
    pg_db *db = calloc(1, sizeof *db);
    if (!db || !(db->target = ds_pg_redact(target))) {
        free(db);
        return ds_fail(d, DS_DBERROR, "out of memory");
    }
    db->base.eng = &ds_postgres_engine;
    db->mode = mode;
    if (!(db->c = ds_pg_connect(target, d))) {
        free(db->target);
        free(db);
        return -1;
    }
    if (mode == DS_DB_READONLY) {
        PGresult *r = PQexec(db->c, "SET default_transaction_read_only = on");
        int ok = ds_pgq_ok(r);
        if (!ok) ds_pgq_fail(db, r, "cannot open database", d);
        PQclear(r);
        if (!ok) {
            ds_db_close(&db->base);
            return -1;
        }
    }
    *out = &db->base;
    return 0;
}

static void pg_close(ds_db *b)
{
    pg_db *db = (pg_db *)b;
    if (!db) return;
    ds_pg_close(db->c);
    free(db->target);
    free(db->err);
    free(db);
}

static const char *pg_target(const ds_db *b)
{
    return ((const pg_db *)b)->target;
}

static void pg_busy_timeout(ds_db *db, int64_t ms)
{
    (void)db;
    (void)ms;
}

static const char *pg_errmsg(ds_db *b)
{
    pg_db *db = (pg_db *)b;
    return db->err ? db->err : PQerrorMessage(db->c);
}

/* No whole-run lock: runners share the work through row locks on
 * dashspec_state (docs/postgres.md); the object only satisfies the interface. */
static int pg_lock(const char *target, ds_lock **out, ds_diag *d)
{
    (void)target;
    ds_lock *l = calloc(1, sizeof *l);
    if (!l) return ds_fail(d, DS_DBERROR, "out of memory"), -2;
    l->eng = &ds_postgres_engine;
    *out = l;
    return 0;
}

static void pg_unlock(ds_lock *l)
{
    free(l);
}

/* ---------------------------------------------------------------- migrations */

static size_t scripts(ds_pg_script *s, size_t cap)
{
    size_t n = 0;
    for (const ds_migration *m = ds_pg_migrations; m->name && n < cap; m++, n++)
        s[n] = (ds_pg_script){m->name, m->sql};
    return n;
}

static int pg_migrate(ds_db *b, ds_diag *d)
{
    pg_db *db = (pg_db *)b;
    ds_pg_script s[32];
    size_t n = scripts(s, 32);
    ds_pg_err e = {.offset = -1};
    int rc = ds_pg_migrate(db->c, s, n, &e);
    if (rc < 0) {
        ds_fail(d, DS_DBERROR, "cannot migrate '%s': %s", db->target, e.msg ? e.msg : "out of memory");
        free(db->err);
        db->err = e.msg;
        return -1;
    }
    ds_pg_err_clear(&e);
    return 0;
}

static int pg_migrated(ds_db *b)
{
    pg_db *db = (pg_db *)b;
    ds_pg_script s[32];
    size_t n = scripts(s, 32);
    ds_pg_err e = {.offset = -1};
    int rc = ds_pg_migrated(db->c, s, n, &e);
    if (rc < 0) {
        free(db->err);
        db->err = e.msg;
        return 0;
    }
    ds_pg_err_clear(&e);
    return rc == 1;
}

/* Line and column (1-based) of byte off in text. */
static void locate(const char *text, long off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (long i = 0; i < off && text[i]; i++) {
        if (text[i] == '\n') { (*line)++; *col = 1; } else (*col)++;
    }
}

/* check --migrations DIR --db URI: the first script opens the scratch
 * schema's transaction, the next ones run inside it; nothing persists. */
static int pg_exec_script(ds_db *b, const char *name, const char *sql, ds_diag *d)
{
    pg_db *db = (pg_db *)b;
    ds_pg_err e = {.offset = -1};
    int rc;
    if (PQtransactionStatus(db->c) == PQTRANS_IDLE) {
        ds_pg_script s = {name, sql};
        rc = ds_pg_scratch_begin(db->c, &s, 1, &e);
    } else {
        PGresult *r = PQexec(db->c, sql);
        rc = ds_pgq_ok(r) ? 0 : ds_pg_fail(db->c, r, NULL, &e);
        if (rc && r && PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION))
            e.offset = strtol(PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION), NULL, 10) - 1;
        PQclear(r);
        if (rc) ds_pg_scratch_end(db->c);
    }
    if (rc == 0) return 0;
    int line = 0, col = 0;
    if (e.offset >= 0) locate(sql, e.offset, &line, &col);
    ds_error(d, name, line, col, NULL, "schema: %s", e.msg ? e.msg : "out of memory");
    ds_pg_err_clear(&e);
    return -1;
}

/* ---------------------------------------------------------------- describe */

static int fill_describe(const ds_pg_sql *q, const ds_pg_desc *pd, ds_describe *out)
{
    out->status = DS_DESC_OK;
    out->readonly = 1;
    out->nparams = q->nparams;
    out->params = calloc((size_t)q->nparams + 1, sizeof *out->params);
    out->ncols = pd->ncols;
    out->cols = calloc((size_t)pd->ncols + 1, sizeof *out->cols);
    if (!out->params || !out->cols) return -1;
    for (int i = 0; i < q->nparams; i++)
        if (!(out->params[i] = ds_asprintf(":%s", q->names[i]))) return -1;
    for (int i = 0; i < pd->ncols; i++)
        if (!(out->cols[i] = ds_strdup(pd->cols[i].name))) return -1;
    return 0;
}

static int pg_describe(ds_db *b, const char *query, ds_describe *out)
{
    pg_db *db = (pg_db *)b;
    ds_pg_sql q = {0};
    ds_pg_desc pd = {0};
    ds_pg_err e = {.offset = -1};
    char *why = NULL;
    size_t pos = 0;
    int r = 0;
    memset(out, 0, sizeof *out);
    out->error_off = -1;
    out->tail_off = -1;
    size_t len = strlen(query);
    int ro = ds_pg_sql_readonly(query, len, &why, &pos);
    if (ro < 0) return -1;
    if (ro == 0) {
        int empty = why && strcmp(why, "the query is empty") == 0;
        out->status = empty ? DS_DESC_EMPTY : DS_DESC_REFUSED;
        out->error = why;
        out->error_off = empty ? -1 : (long)pos;
        return 0;
    }
    if (ds_pg_sql_rewrite(query, len, &q, &why, &pos)) {
        out->status = DS_DESC_ERROR;
        out->error = why;
        out->error_off = (long)pos;
        return why ? 0 : -1;
    }
    ds_pg_ptype *types = calloc((size_t)q.nparams + 1, sizeof *types);
    if (!types) { r = -1; goto out; }
    for (int i = 0; i < q.nparams; i++)
        types[i] = strcmp(q.names[i], "now") == 0 || strcmp(q.names[i], "since") == 0
                   ? DS_PGP_TIMESTAMPTZ : DS_PGP_UNKNOWN;
    if (ds_pg_describe(db->c, &q, types, &pd, &e)) {
        int dberr = PQstatus(db->c) == CONNECTION_BAD || strncmp(e.sqlstate, "08", 2) == 0 ||
                    strncmp(e.sqlstate, "53", 2) == 0 || strncmp(e.sqlstate, "57", 2) == 0;
        out->status = dberr ? DS_DESC_DBERROR : DS_DESC_ERROR;
        out->error = e.msg;
        out->error_off = e.offset;
        e.msg = NULL;
        if (!out->error) r = -1;
    } else if (fill_describe(&q, &pd, out)) {
        r = -1;
    }
    free(types);
out:
    ds_pg_desc_free(&pd);
    ds_pg_err_clear(&e);
    ds_pg_sql_free(&q);
    return r;
}

/* ---------------------------------------------------------------- check --explain */

static int pg_full_scans(ds_db *db, const char *query, char ***names, size_t *n)
{
    return ds_pg_full_scans(ds_pg_conn_of(db), query, names, n);
}

static int pg_table_exists(ds_db *b, const char *name)
{
    pg_db *db = (pg_db *)b;
    const char *v[1] = {name};
    PGresult *r = ds_pgq(db->c, "SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
                                "ON n.oid = c.relnamespace WHERE lower(c.relname) = lower($1) "
                                "AND c.relkind IN ('r', 'v', 'm', 'p', 'f') "
                                "AND n.nspname = ANY (current_schemas(false))", 1, v);
    int found = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0;
    PQclear(r);
    return found;
}

static int64_t pg_table_rows(ds_db *b, const char *table)
{
    pg_db *db = (pg_db *)b;
    const char *v[1] = {table};
    PGresult *r = ds_pgq(db->c, "SELECT c.reltuples::bigint FROM pg_catalog.pg_class c JOIN "
                                "pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE "
                                "lower(c.relname) = lower($1) AND n.nspname = ANY (current_schemas(false)) "
                                "LIMIT 1", 1, v);
    int64_t rows = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 ? ds_pgq_int(r, 0, 0) : -1;
    PQclear(r);
    return rows < 0 ? -1 : rows;
}

static int pg_column_exists(ds_db *b, const char *table, const char *column)
{
    pg_db *db = (pg_db *)b;
    const char *v[2] = {table, column};
    PGresult *r = ds_pgq(db->c, "SELECT 1 FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c "
                                "ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = "
                                "c.relnamespace WHERE lower(c.relname) = lower($1) AND lower(a.attname) = "
                                "lower($2) AND a.attnum > 0 AND NOT a.attisdropped "
                                "AND n.nspname = ANY (current_schemas(false))", 2, v);
    int found = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0;
    PQclear(r);
    return found;
}

/* ---------------------------------------------------------------- the table */

const ds_engine ds_postgres_engine = {
    .name = "postgres",
    .accepts = pg_accepts,
    .configure = pg_configure,
    .default_busy_timeout = pg_default_busy_timeout,
    .open = pg_open,
    .close = pg_close,
    .target = pg_target,
    .busy_timeout = pg_busy_timeout,
    .lock = pg_lock,
    .unlock = pg_unlock,
    .migrate = pg_migrate,
    .migrated = pg_migrated,
    .exec_script = pg_exec_script,
    .describe = pg_describe,
    .full_scans = pg_full_scans,
    .table_exists = pg_table_exists,
    .table_rows = pg_table_rows,
    .column_exists = pg_column_exists,
    .plan_store = ds_pg_plan_store,
    .plan_load = ds_pg_plan_load,
    .state_load = ds_pg_state_load,
    .source_open = ds_pg_source_open,
    .source_close = ds_pg_source_close,
    .source_busy_timeout = ds_pg_source_busy_timeout,
    .source_cancel_on = ds_pg_source_cancel_on,
    .exec_item = ds_pg_exec_item,
    .writer_open = ds_pg_writer_open,
    .writer_close = ds_pg_writer_close,
    .writer_concurrent = ds_pg_writer_concurrent,
    .put = ds_pg_put,
    .fail = ds_pg_fail_item,
    .batch_begin = ds_pg_batch_begin,
    .batch_commit = ds_pg_batch_commit,
    .batch_abort = ds_pg_batch_abort,
    .record_run = ds_pg_record_run,
    .data_version = ds_pg_data_version,
    .claim = ds_pg_claim,
    .release = ds_pg_release,
    .claims_each = 1,
    .plan_fingerprint = ds_pg_plan_fingerprint,
    .snapshot_begin = ds_pg_snapshot_begin,
    .snapshot_end = ds_pg_snapshot_end,
    .cache_get = ds_pg_cache_get,
    .cache_scan = ds_pg_cache_scan,
    .cache_clear = ds_pg_cache_clear,
    .explain = ds_pg_explain,
    .history_load = ds_pg_history_load,
    .history_totals = ds_pg_history_totals,
    .errmsg = pg_errmsg,
    .confirm = ds_pg_confirm,
};

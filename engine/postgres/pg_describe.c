/*
 * pg_describe.c — what check and compile learn from the server about one
 * query: it is prepared (the unnamed statement, every parameter typed)
 * inside BEGIN READ ONLY … ROLLBACK, its result columns and their types come
 * from PQdescribePrepared, and an error's position is mapped back to the
 * original query text (docs/postgres.md, "Describe and execute").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ds_pg.h"

void ds_pg_err_clear(ds_pg_err *e)
{
    if (!e) return;
    free(e->msg);
    memset(e, 0, sizeof *e);
    e->offset = -1;
}

unsigned ds_pg_ptype_oid(ds_pg_ptype t)
{
    static const unsigned oids[] = {
        [DS_PGP_INT] = DS_PG_INT8, [DS_PGP_REAL] = DS_PG_FLOAT8, [DS_PGP_TEXT] = DS_PG_TEXT,
        [DS_PGP_BOOL] = DS_PG_BOOL, [DS_PGP_TIMESTAMPTZ] = DS_PG_TIMESTAMPTZ, [DS_PGP_UNKNOWN] = 0,
    };
    _Static_assert(sizeof oids / sizeof *oids == DS_PGP_UNKNOWN + 1, "one OID per ds_pg_ptype");
    return (unsigned)t < sizeof oids / sizeof *oids ? oids[t] : DS_PG_TEXT;
}

void ds_pg_desc_free(ds_pg_desc *d)
{
    if (!d) return;
    for (int i = 0; i < d->ncols; i++) {
        free(d->cols[i].name);
        free(d->cols[i].type_name);
    }
    free(d->cols);
    memset(d, 0, sizeof *d);
}

/* Fills e from a failed result (or from the connection when r is NULL):
 * message, SQLSTATE, and the position mapped into q's original text.
 * Always returns -1. */
int ds_pg_fail(PGconn *c, const PGresult *r, const ds_pg_sql *q, ds_pg_err *e)
{
    ds_pg_err_clear(e);
    e->msg = r ? ds_pg_result_error(c, r) : ds_pg_conn_error(c);
    if (!e->msg) e->msg = ds_strdup("out of memory");
    const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (st) snprintf(e->sqlstate, sizeof e->sqlstate, "%s", st);
    const char *pos = r ? PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION) : NULL;
    if (pos && q) e->offset = ds_pg_sql_map_position(q, strtol(pos, NULL, 10));
    return -1;
}

/* Runs a command that returns no rows; 0 ok, -1 with e set. */
int ds_pg_command(PGconn *c, const char *sql, ds_pg_err *e)
{
    PGresult *r = PQexec(c, sql);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : ds_pg_fail(c, r, NULL, e);
    PQclear(r);
    return rc;
}

/* Ends whatever transaction the connection is in (after an error too). */
void ds_pg_rollback(PGconn *c)
{
    if (PQtransactionStatus(c) == PQTRANS_IDLE) return;
    PGresult *r = PQexec(c, "ROLLBACK");
    PQclear(r);
}

/* format_type() of each column's type, in one round trip. */
static int type_names(PGconn *c, ds_pg_desc *d, ds_pg_err *e)
{
    ds_buf b;
    ds_buf_init(&b);
    ds_buf_addc(&b, '{');
    for (int i = 0; i < d->ncols; i++) ds_buf_printf(&b, "%s%u", i ? "," : "", d->cols[i].type);
    ds_buf_addc(&b, '}');
    if (b.oom) { ds_buf_free(&b); return ds_pg_fail(c, NULL, NULL, e); }
    const char *vals[1] = {b.p};
    PGresult *r = PQexecParams(c, "SELECT format_type(t, NULL) FROM unnest($1::oid[]) "
                                  "WITH ORDINALITY AS u(t, i) ORDER BY i", 1, NULL, vals, NULL, NULL, 0);
    ds_buf_free(&b);
    int rc = 0;
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != d->ncols) rc = ds_pg_fail(c, r, NULL, e);
    for (int i = 0; rc == 0 && i < d->ncols; i++)
        if (!(d->cols[i].type_name = ds_strdup(PQgetvalue(r, i, 0)))) rc = ds_pg_fail(c, NULL, NULL, e);
    PQclear(r);
    return rc;
}

int ds_pg_describe(PGconn *c, const ds_pg_sql *q, const ds_pg_ptype *types, ds_pg_desc *out,
                   ds_pg_err *e)
{
    PGresult *r = NULL;
    int rc = -1, nested = 0;
    Oid *oids = calloc((size_t)q->nparams + 1, sizeof *oids);
    memset(out, 0, sizeof *out);
    ds_pg_err_clear(e);
    if (!oids) goto oom;
    for (int i = 0; i < q->nparams; i++) oids[i] = ds_pg_ptype_oid(types[i]);
    /* Inside a transaction already (check --migrations: a scratch schema),
     * a savepoint confines the prepare instead. */
    nested = PQtransactionStatus(c) == PQTRANS_INTRANS;
    if (ds_pg_command(c, nested ? "SAVEPOINT ds_describe" : "BEGIN READ ONLY", e)) goto out;
    r = PQprepare(c, "", q->text, q->nparams, oids);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) { ds_pg_fail(c, r, q, e); goto out; }
    PQclear(r);
    r = PQdescribePrepared(c, "");
    if (PQresultStatus(r) != PGRES_COMMAND_OK) { ds_pg_fail(c, r, q, e); goto out; }
    int n = PQnfields(r);
    if (!(out->cols = calloc((size_t)n + 1, sizeof *out->cols))) goto oom;
    for (; out->ncols < n; out->ncols++) {
        ds_pg_col *col = &out->cols[out->ncols];
        col->type = PQftype(r, out->ncols);
        if (!(col->name = ds_strdup(PQfname(r, out->ncols)))) goto oom;
    }
    if (n > 0 && type_names(c, out, e)) goto out;
    rc = 0;
    goto out;
oom:
    ds_pg_err_clear(e);
    e->msg = ds_strdup("out of memory");
out:
    PQclear(r);
    if (nested) {
        PGresult *rb = PQexec(c, "ROLLBACK TO SAVEPOINT ds_describe; RELEASE SAVEPOINT ds_describe");
        PQclear(rb);
    } else {
        ds_pg_rollback(c);
    }
    free(oids);
    if (rc) ds_pg_desc_free(out);
    return rc;
}

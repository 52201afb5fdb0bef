/*
 * pg_exec.c — runs one spec query on PostgreSQL: BEGIN READ ONLY, SET LOCAL
 * statement_timeout, the query with typed parameters in single-row mode (a
 * row at a time, never the whole result in memory), each row rendered by
 * pg_value.c and handed to a callback that may stop early, then ROLLBACK
 * (docs/postgres.md, "Describe and execute").
 *
 * Stopping early cancels the query on the server (PQcancel) and drains what
 * is already in flight, so max_rows / max_bytes cost no more than the rows
 * actually read.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ds_pg.h"

void ds_pg_format_now(int64_t t, char *buf)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) memset(&tm, 0, sizeof tm);
    if (!strftime(buf, 32, "%Y-%m-%d %H:%M:%S+00", &tm)) snprintf(buf, 32, "1970-01-01 00:00:00+00");
}

/* The state of one execution. */
typedef struct run {
    PGconn *c;
    const ds_pg_sql *q;
    int keys;
    ds_pg_cols_fn cols;
    ds_pg_row_fn row;
    ds_pg_stop_fn stop;
    void *ctx;
    int ncols;
    const char **names;         /* column names (pointers into the first result) */
    unsigned *types;
    ds_pg_cell *cells;
    size_t *off;                /* per column: json offset, json len, key offset, key len */
    ds_buf json, key;           /* one row's rendered values */
    int started, stopped;       /* cols called; the query was cancelled by us */
} run;

/* Column names and types from the first result, and the cols callback. */
static int start(run *x, const PGresult *r, ds_pg_err *e)
{
    char *err = NULL;
    x->started = 1;
    x->ncols = PQnfields(r);
    size_t n = (size_t)x->ncols + 1;
    x->names = calloc(n, sizeof *x->names);
    x->types = calloc(n, sizeof *x->types);
    x->cells = calloc(n, sizeof *x->cells);
    x->off = calloc(n * 4, sizeof *x->off);
    if (!x->names || !x->types || !x->cells || !x->off) return ds_pg_fail(x->c, NULL, NULL, e);
    for (int i = 0; i < x->ncols; i++) {
        x->names[i] = PQfname(r, i);
        x->types[i] = PQftype(r, i);
    }
    if (x->cols && x->cols(x->ctx, x->ncols, x->names, &err)) {
        e->msg = err ? err : ds_strdup("out of memory");
        return -1;
    }
    return 0;
}

/* Renders row 0 of r and calls the row callback: 0 go on, 1 stop, -1 error. */
static int one_row(run *x, const PGresult *r, ds_pg_err *e)
{
    char *err = NULL;
    ds_buf_reset(&x->json);
    ds_buf_reset(&x->key);
    for (int i = 0; i < x->ncols; i++) {
        const char *v = PQgetvalue(r, 0, i);
        size_t n = (size_t)PQgetlength(r, 0, i);
        int null = PQgetisnull(r, 0, i);
        size_t *o = &x->off[4 * i];
        o[0] = x->json.len;
        if (ds_pg_value_json(&x->json, x->types[i], v, n, null, x->names[i], &err)) goto fail;
        o[1] = x->json.len - o[0];
        o[2] = x->key.len;
        int k = x->keys ? ds_pg_value_key(&x->key, x->types[i], v, n, null, x->names[i], &err) : 0;
        if (k < 0) goto fail;
        o[3] = k ? x->key.len - o[2] : (size_t)-1;
        x->cells[i].null = null;
    }
    if (x->json.oom || x->key.oom) { err = ds_strdup("out of memory"); goto fail; }
    for (int i = 0; i < x->ncols; i++) {
        size_t *o = &x->off[4 * i];
        x->cells[i].json = x->json.p + o[0];
        x->cells[i].json_len = o[1];
        x->cells[i].key = o[3] == (size_t)-1 ? NULL : (x->key.p ? x->key.p : "") + o[2];
        x->cells[i].key_len = o[3] == (size_t)-1 ? 0 : o[3];
    }
    int rc = x->row(x->ctx, x->ncols, x->cells, &err);
    if (rc >= 0) return rc;
fail:
    e->msg = err ? err : ds_strdup("out of memory");
    return -1;
}

/* Asks the server to cancel the running query (best effort). */
static void cancel(run *x)
{
    PGcancel *k = PQgetCancel(x->c);
    char buf[256];
    if (k) {
        PQcancel(k, buf, sizeof buf);
        PQfreeCancel(k);
    }
    x->stopped = 1;
}

/* Waits until PQgetResult will not block, asking x->stop every 50 ms:
 * 1 when it says stop, else 0 (also on a socket error, which PQgetResult
 * then reports). Without a stop function PQgetResult simply blocks. */
static int stop_requested(run *x)
{
    if (!x->stop) return 0;
    while (PQisBusy(x->c)) {
        if (x->stop(x->ctx)) return 1;
        struct pollfd p = {.fd = PQsocket(x->c), .events = POLLIN};
        int k = poll(&p, 1, 50);
        if (k < 0 && errno != EINTR) return 0;
        if (k > 0 && !PQconsumeInput(x->c)) return 0;
    }
    return 0;
}

/* Cancels the query for a stop request; e says "interrupted" unless an
 * earlier error is already there. Returns 1. */
static int interrupt(run *x, ds_pg_err *e)
{
    cancel(x);
    if (!e->msg) e->msg = ds_strdup("interrupted");
    return 1;
}

/* Reads every result of the sent query. 0 ok, -1 with e set (the first
 * error wins; the rest is drained either way). */
static int consume(run *x, int64_t timeout_ms, ds_pg_err *e)
{
    PGresult *r;
    int rc = 0;
    for (;;) {
        if (!x->stopped && stop_requested(x) && interrupt(x, e) && rc == 0) rc = -1;
        if (!(r = PQgetResult(x->c))) break;
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_SINGLE_TUPLE || st == PGRES_TUPLES_OK) {
            if (!x->started && !x->stopped && start(x, r, e)) { rc = -1; cancel(x); }
            if (st == PGRES_SINGLE_TUPLE && !x->stopped) {
                int k = one_row(x, r, e);
                if (k) cancel(x);
                if (k < 0) rc = -1;
            }
        } else if (rc == 0) {
            const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            int qc = state && strcmp(state, "57014") == 0;
            if (qc && x->stopped) {
                /* our own cancel after an early stop: not an error */
            } else if (qc) {
                ds_pg_fail(x->c, r, NULL, e);
                free(e->msg);
                e->msg = ds_asprintf("query timed out after %" PRId64 " ms", timeout_ms);
                e->timed_out = 1;
                rc = -1;
            } else {
                rc = ds_pg_fail(x->c, r, x->q, e);
            }
        }
        PQclear(r);
    }
    return rc;
}

/* Sends BEGIN READ ONLY, the statement_timeout, the query and ROLLBACK in
 * one flight (pipeline mode): one round trip per item instead of three. */
static int send_all(PGconn *c, const ds_pg_sql *q, const Oid *oids, const char *const *values,
                    int64_t timeout_ms)
{
    char set[80];
    /* no timeout of its own: the role's or database's setting stays */
    if (timeout_ms > 0) snprintf(set, sizeof set, "SET LOCAL statement_timeout = %" PRId64, timeout_ms);
    else snprintf(set, sizeof set, "SET LOCAL statement_timeout = DEFAULT");
    return PQenterPipelineMode(c) &&
           PQsendQueryParams(c, "BEGIN READ ONLY", 0, NULL, NULL, NULL, NULL, 0) &&
           PQsendQueryParams(c, set, 0, NULL, NULL, NULL, NULL, 0) &&
           PQsendQueryParams(c, q->text, q->nparams, oids, values, NULL, NULL, 0) &&
           PQsendQueryParams(c, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0) &&
           PQpipelineSync(c) ? 0 : -1;
}

/* Reads the result of one pipelined command that returns no rows (and the
 * NULL that ends it). 0 ok, -1 with e set. The server flushes results at
 * the pipeline's sync, so this is where a long query keeps us waiting. */
static int command_result(run *x, ds_pg_err *e)
{
    PGconn *c = x->c;
    if (stop_requested(x)) return interrupt(x, e), -1;
    PGresult *r = PQgetResult(c);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : ds_pg_fail(c, r, NULL, e);
    PQclear(r);
    if (r) while ((r = PQgetResult(c))) PQclear(r);
    return rc;
}

/* Reads everything up to the pipeline's sync point and leaves pipeline mode. */
static void finish_pipeline(PGconn *c)
{
    int nulls = 0;
    while (PQpipelineStatus(c) != PQ_PIPELINE_OFF && PQstatus(c) == CONNECTION_OK) {
        PGresult *r = PQgetResult(c);
        if (!r) {
            if (++nulls > 2) break;             /* nothing more will come */
            continue;
        }
        nulls = 0;
        int sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
        PQclear(r);
        if (sync) break;
    }
    PQexitPipelineMode(c);
}

int ds_pg_exec(PGconn *c, const ds_pg_sql *q, const ds_pg_ptype *types,
               const char *const *values, int64_t timeout_ms, int keys,
               ds_pg_cols_fn cols, ds_pg_row_fn row, ds_pg_stop_fn stop, void *ctx, ds_pg_err *e)
{
    run x = {.c = c, .q = q, .keys = keys, .cols = cols, .row = row, .stop = stop, .ctx = ctx};
    int rc = -1;
    Oid *oids = calloc((size_t)q->nparams + 1, sizeof *oids);
    ds_buf_init(&x.json);
    ds_buf_init(&x.key);
    ds_pg_err_clear(e);
    if (!oids) { ds_pg_fail(c, NULL, NULL, e); goto out; }
    for (int i = 0; i < q->nparams; i++) oids[i] = ds_pg_ptype_oid(types[i]);
    if (send_all(c, q, oids, values, timeout_ms)) { ds_pg_fail(c, NULL, NULL, e); goto out; }
    if (command_result(&x, e) || command_result(&x, e)) goto out;
    if (!PQsetSingleRowMode(c)) { ds_pg_fail(c, NULL, NULL, e); goto out; }
    rc = consume(&x, timeout_ms, e);
out:
    finish_pipeline(c);
    ds_pg_rollback(c);      /* after an error or a cancel: the ROLLBACK sent was skipped */
    free(oids);
    free(x.names);
    free(x.types);
    free(x.cells);
    free(x.off);
    ds_buf_free(&x.json);
    ds_buf_free(&x.key);
    return rc;
}

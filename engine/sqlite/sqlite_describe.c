/*
 * sqlite_describe.c — the SQLite engine's describe (engine/engine.h): one
 * spec query prepared under the read-only authorizer (sqlite_auth.c), and
 * what SQLite then knows of it: the refusal or error with its offset, where
 * the statement ended, EXPLAIN, read-only, parameter names and result
 * columns. The compiler (compiler/ds_sql.c) turns that into diagnostics.
 */
#include <stdlib.h>
#include <string.h>
#include "sqlite_int.h"

/* Errors of the database rather than of the query: reported once as a
 * database failure. */
static int db_level(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY: case SQLITE_LOCKED: case SQLITE_IOERR: case SQLITE_CORRUPT:
    case SQLITE_NOTADB: case SQLITE_CANTOPEN: case SQLITE_NOMEM: case SQLITE_FULL:
        return 1;
    default:
        return 0;
    }
}

/* Copies the names SQLite gives (NULL stays NULL). 0 ok, -1 OOM. */
static int copy_names(sqlite3_stmt *st, int n, int params, char ***out)
{
    *out = calloc(n > 0 ? (size_t)n : 1, sizeof **out);
    if (!*out) return -1;
    for (int i = 0; i < n; i++) {
        const char *s = params ? sqlite3_bind_parameter_name(st, i + 1) : sqlite3_column_name(st, i);
        if (s && !((*out)[i] = ds_strdup(s))) return -1;
    }
    return 0;
}

int ds_sqlite_describe(ds_db *db, const char *query, ds_describe *out)
{
    sqlite3 *h = ds_sqlite_handle(db);
    ds_sqlite_auth au;
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    int r = 0;
    memset(out, 0, sizeof *out);
    out->error_off = -1;
    out->tail_off = -1;
    au.why[0] = '\0';
    sqlite3_set_authorizer(h, ds_sqlite_authorizer, &au);
    int rc = sqlite3_prepare_v3(h, query, -1, 0, &st, &tail);
    /* errmsg and the offset belong to this call: read both before anything else. */
    if (rc != SQLITE_OK) {
        out->error = ds_strdup(sqlite3_errmsg(h));
        out->error_off = sqlite3_error_offset(h);
    }
    sqlite3_set_authorizer(h, NULL, NULL);
    if (au.why[0]) {
        out->status = DS_DESC_REFUSED;
        free(out->error);
        if (!(out->error = ds_strdup(au.why))) r = -1;
        goto out;
    }
    if (rc != SQLITE_OK) {
        out->status = db_level(rc) ? DS_DESC_DBERROR : DS_DESC_ERROR;
        goto out;
    }
    if (!st) { out->status = DS_DESC_EMPTY; goto out; }
    out->status = DS_DESC_OK;
    if (tail) out->tail_off = (long)(tail - query);
    out->is_explain = sqlite3_stmt_isexplain(st) != 0;
    out->readonly = sqlite3_stmt_readonly(st) != 0;
    out->nparams = sqlite3_bind_parameter_count(st);
    out->ncols = sqlite3_column_count(st);
    if (copy_names(st, out->nparams, 1, &out->params) || copy_names(st, out->ncols, 0, &out->cols)) r = -1;
out:
    sqlite3_finalize(st);
    if (r) ds_describe_free(out);
    return r;
}

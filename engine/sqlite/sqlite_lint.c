/*
 * sqlite_lint.c — what check --explain asks of the SQLite engine
 * (engine/engine.h: full_scans, table_exists, table_rows, column_exists):
 * the tables EXPLAIN QUERY PLAN reads in full ("SCAN name"), and the schema
 * facts compiler/ds_sql_lint.c needs to decide whether that is worth a warning.
 */
#include <stdlib.h>
#include <string.h>
#include "ds_vec.h"
#include "sqlite_int.h"

int ds_sqlite_full_scans(ds_db *db, const char *query, char ***names, size_t *n)
{
    sqlite3 *h = ds_sqlite_handle(db);
    sqlite3_stmt *st = NULL;
    int r = 0;
    *names = NULL;
    *n = 0;
    size_t cap = 0;
    char *sql = ds_asprintf("EXPLAIN QUERY PLAN %s", query);
    if (!sql) return -1;
    sqlite3_set_authorizer(h, ds_sqlite_authorizer, NULL);
    int rc = sqlite3_prepare_v2(h, sql, -1, &st, NULL);
    sqlite3_set_authorizer(h, NULL, NULL);
    if (rc != SQLITE_OK) goto out;          /* validation reported it */
    enum { QP_ID, QP_PARENT, QP_NOTUSED, QP_DETAIL };
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *detail = (const char *)sqlite3_column_text(st, QP_DETAIL);
        if (!detail || strncmp(detail, "SCAN ", 5) != 0) continue;
        const char *name = detail + 5;
        if (strstr(name, " USING ") || strstr(name, "VIRTUAL TABLE") || strchr(name, ' ')) continue;
        char **v = ds_vec_grow(*names, &cap, *n, sizeof *v);
        if (!v || !(v[*n] = ds_strdup(name))) { if (v) *names = v; r = -1; break; }
        *names = v;
        (*n)++;
    }
out:
    sqlite3_finalize(st);
    free(sql);
    if (r) {
        for (size_t i = 0; i < *n; i++) free((*names)[i]);
        free(*names);
        *names = NULL;
        *n = 0;
    }
    return r;
}

int ds_sqlite_table_exists(ds_db *db, const char *name)
{
    sqlite3_stmt *st = NULL;
    int r = 0;
    if (sqlite3_prepare_v2(ds_sqlite_handle(db),
                           "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        r = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return r;
}

/* sqlite_stat1's estimate when ANALYZE was run, else count(*). Each stat1 row
 * starts with the rows its index covers: a partial index covers fewer than
 * the table, so the largest is taken. */
int64_t ds_sqlite_table_rows(ds_db *db, const char *table)
{
    sqlite3 *h = ds_sqlite_handle(db);
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(h, "SELECT stat FROM sqlite_stat1 WHERE tbl = ?1", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *stat = (const char *)sqlite3_column_text(st, 0);
            int64_t k = stat ? strtoll(stat, NULL, 10) : -1;
            if (k > n) n = k;
        }
    }
    sqlite3_finalize(st);
    if (n >= 0) return n;
    char *sql = sqlite3_mprintf("SELECT count(*) FROM main.\"%w\"", table);
    if (!sql) return -1;
    st = NULL;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_free(sql);
    return n;
}

int ds_sqlite_column_exists(ds_db *db, const char *table, const char *column)
{
    return sqlite3_table_column_metadata(ds_sqlite_handle(db), "main", table, column,
                                         NULL, NULL, NULL, NULL, NULL) == SQLITE_OK;
}

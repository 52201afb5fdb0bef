/*
 * sqlite_schema.c — the names in the schema, for check's "did you mean"
 * (engine/engine.h: schema_names): the tables and views of the main
 * database, or the columns of one of them.
 */
#include <stdlib.h>
#include <string.h>
#include "sqlite_int.h"

int ds_sqlite_schema_names(ds_db *db, const char *table, char ***names, size_t *n)
{
    sqlite3_stmt *st = NULL;
    const char *sql = table
        ? "SELECT name FROM pragma_table_info(?1)"
        : "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'";
    int r = 0;
    size_t cap = 0;
    *names = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(ds_sqlite_handle(db), sql, -1, &st, NULL) != SQLITE_OK) goto out;   /* no names */
    if (table) sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (!name) continue;
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **nv = realloc(*names, nc * sizeof *nv);
            if (!nv) { r = -1; break; }
            *names = nv;
            cap = nc;
        }
        if (!((*names)[*n] = ds_strdup(name))) { r = -1; break; }
        (*n)++;
    }
out:
    sqlite3_finalize(st);
    if (r) {
        ds_names_free(*names, *n);
        *names = NULL;
        *n = 0;
    }
    return r;
}

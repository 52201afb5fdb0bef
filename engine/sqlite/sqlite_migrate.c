/*
 * sqlite_migrate.c — the SQLite engine's schema work: dashspec's embedded
 * migrations (migrations/sqlite/, applied in one IMMEDIATE transaction) and
 * schema scripts for check --schema / --migrations. See engine/engine.h.
 */
#include <string.h>
#include "sqlite_int.h"

/* 1 if a migration of that name is recorded, 0 if not, -1 on error. */
static int applied(sqlite3 *h, const char *name)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(h, "SELECT 1 FROM dashspec_migrations WHERE name = ?1", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        /* No table yet: nothing is applied. */
        return sqlite3_errcode(h) == SQLITE_ERROR ? 0 : -1;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    int r = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return r;
}

int ds_sqlite_migrated(ds_db *base)
{
    sq_db *db = (sq_db *)base;
    for (const ds_migration *m = ds_sqlite_migrations; m->name; m++) {
        int r = applied(db->h, m->name);
        if (r != 1) return r;
    }
    return 1;
}

int ds_sqlite_migrate(ds_db *base, ds_diag *d)
{
    sq_db *db = (sq_db *)base;
    int r = ds_sqlite_migrated(base);
    if (r == 1) return 0;
    sqlite3 *h = db->h;
    if (sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return ds_fail(d, DS_DBERROR, "cannot write database '%s': %s", db->path, sqlite3_errmsg(h));
    for (const ds_migration *m = ds_sqlite_migrations; m->name; m++) {
        if ((r = applied(h, m->name)) == 1) continue;
        char *err = NULL;
        if (r < 0 || sqlite3_exec(h, m->sql, NULL, NULL, &err) != SQLITE_OK) {
            ds_fail(d, DS_DBERROR, "cannot apply migration %s to '%s': %s", m->name, db->path,
                    err ? err : sqlite3_errmsg(h));
            sqlite3_free(err);
            sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
    }
    if (sqlite3_exec(h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        ds_fail(d, DS_DBERROR, "cannot write database '%s': %s", db->path, sqlite3_errmsg(h));
        sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

/* Byte offset -> 1-based line and column (characters) inside a script. */
static void offset_pos(const char *s, size_t off, int *line, int *col)
{
    int l = 1;
    size_t start = 0;
    for (size_t i = 0; i < off && s[i]; i++)
        if (s[i] == '\n') { l++; start = i + 1; }
    *line = l;
    *col = (int)ds_utf8_chars(s + start, off - start) + 1;
}

int ds_sqlite_exec_script(ds_db *base, const char *name, const char *sql, ds_diag *d)
{
    sq_db *db = (sq_db *)base;
    const char *tail = sql;
    while (tail && *tail) {
        sqlite3_stmt *st = NULL;
        const char *next = NULL;
        int rc = sqlite3_prepare_v2(db->h, tail, -1, &st, &next);
        if (rc == SQLITE_OK && st) {
            while ((rc = sqlite3_step(st)) == SQLITE_ROW) {}
            if (rc == SQLITE_DONE) rc = SQLITE_OK;
        }
        if (rc != SQLITE_OK) {
            int off = sqlite3_error_offset(db->h);
            int line, col;
            offset_pos(sql, off >= 0 ? (size_t)(tail - sql) + (size_t)off : (size_t)(tail - sql), &line, &col);
            ds_error(d, name, line, col, NULL, "schema: %s", sqlite3_errmsg(db->h));
            if (d->status == DS_OK) d->status = DS_USAGE;
            sqlite3_finalize(st);
            return -1;
        }
        sqlite3_finalize(st);
        if (!next || next == tail) break;
        tail = next;
    }
    return 0;
}

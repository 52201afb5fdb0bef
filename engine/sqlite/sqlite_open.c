/*
 * sqlite_open.c — the SQLite engine's store connections: opening a hardened
 * connection (read-only, read-write or in memory), hot-journal recovery,
 * busy timeouts. See engine/engine.h (open, close, target, busy_timeout).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "sqlite_int.h"

static int64_t default_busy_ms = DS_BUSY_TIMEOUT_MS;

void ds_sqlite_default_busy_timeout(int64_t ms)
{
    default_busy_ms = ms < 0 ? 0 : ms;
}

/* Defences applied to every connection: see docs/security.md. */
static void harden(sqlite3 *h, int mode)
{
    sqlite3_extended_result_codes(h, 1);
    sqlite3_db_config(h, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)0);
    sqlite3_db_config(h, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)0);
    sqlite3_db_config(h, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, (int *)0);
    if (mode == DS_DB_READWRITE)
        sqlite3_db_config(h, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, (int *)0);
    /* Off whatever the build's default: an application table referencing
     * dashboard_cache ON DELETE CASCADE would make `clear` write it. */
    sqlite3_db_config(h, SQLITE_DBCONFIG_ENABLE_FKEY, 0, (int *)0);
    sqlite3_limit(h, SQLITE_LIMIT_ATTACHED, 0);
    sqlite3_busy_timeout(h, default_busy_ms > INT32_MAX ? INT32_MAX : (int)default_busy_ms);
}

/* Rolls back a hot journal left by a killed writer: opening read-write and
 * reading once is all SQLite needs. Never creates the file. 0 ok, -1 not possible
 * (read-only file or directory, still locked by a live writer, ...). */
static int recover_hot_journal(const char *path)
{
    sqlite3 *h = NULL;
    int rc = sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(h, DS_BUSY_TIMEOUT_MS);
        rc = sqlite3_exec(h, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL);
    }
    sqlite3_close(h);
    return rc == SQLITE_OK ? 0 : -1;
}

int ds_sqlite_open(const char *path, int mode, ds_db **out, ds_diag *d)
{
    *out = NULL;
    sqlite3 *h = NULL;
    int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    const char *name = path;
    if (mode == DS_DB_MEMORY) {
        flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_MEMORY;
        name = ":memory:";
    } else {
        if (!path || !*path)
            return ds_fail(d, DS_USAGE, "no database given (use --db FILE or set DASHSPEC_DB)");
        struct stat st;
        /* SQLite would happily open a directory or create a missing file;
         * both are mistakes here, reported before SQLite sees the path. */
        if (stat(path, &st) != 0)
            return ds_fail(d, DS_DBERROR, "cannot open database '%s': %s", path, strerror(errno));
        if (S_ISDIR(st.st_mode))
            return ds_fail(d, DS_DBERROR, "cannot open database '%s': is a directory", path);
        /* A FIFO would block open(2) forever (SQLite retries on EINTR, so
         * not even a signal ends it); sockets and devices are no databases. */
        if (!S_ISREG(st.st_mode))
            return ds_fail(d, DS_DBERROR, "cannot open database '%s': not a regular file (%s)", path,
                           ds_sqlite_file_kind(st.st_mode));
        flags |= mode == DS_DB_READONLY ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    }
    int rc = sqlite3_open_v2(name, &h, flags, NULL);
    if (rc != SQLITE_OK) {
        ds_fail(d, DS_DBERROR, "cannot open database '%s': %s", name, h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
        sqlite3_close(h);
        return -1;
    }
    harden(h, mode);
    /* Probe: a file that is not a database only fails at its first read. */
    rc = sqlite3_exec(h, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL);
    if (rc == SQLITE_READONLY_ROLLBACK && mode == DS_DB_READONLY && recover_hot_journal(path) == 0) {
        /* A writer killed mid-transaction left a hot journal, which a
         * read-only connection cannot roll back; one read-write open does
         * (as any sqlite3 reader would) and the read-only probe then works. */
        rc = sqlite3_exec(h, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        ds_fail(d, DS_DBERROR, "cannot open database '%s': %s", name, sqlite3_errmsg(h));
        sqlite3_close(h);
        return -1;
    }
    if (mode == DS_DB_READWRITE && sqlite3_db_readonly(h, "main") == 1) {
        ds_fail(d, DS_DBERROR, "cannot write database '%s': it is read-only", name);
        sqlite3_close(h);
        return -1;
    }
    sq_db *db = calloc(1, sizeof *db);
    if (!db || !(db->path = ds_strdup(name))) {
        free(db);
        sqlite3_close(h);
        return ds_fail(d, DS_DBERROR, "out of memory");
    }
    db->base.eng = &ds_sqlite_engine;
    db->h = h;
    db->mode = mode;
    *out = &db->base;
    return 0;
}

const char *ds_sqlite_file_kind(unsigned mode)
{
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISDIR(mode)) return "a directory";
    return "not a file";
}

void ds_sqlite_close(ds_db *base)
{
    sq_db *db = (sq_db *)base;
    if (!db) return;
    /* close_v2 defers until every statement is finalized, so a forgotten
     * statement leaks memory rather than leaving the file half-closed. */
    sqlite3_close_v2(db->h);
    free(db->path);
    free(db);
}

const char *ds_sqlite_target(const ds_db *db) { return ((const sq_db *)db)->path; }

sqlite3 *ds_sqlite_handle(ds_db *db) { return ((sq_db *)db)->h; }

void ds_sqlite_busy_timeout(ds_db *db, int64_t ms)
{
    sqlite3_busy_timeout(ds_sqlite_handle(db), ms > INT32_MAX ? INT32_MAX : (int)ms);
}


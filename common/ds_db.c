/*
 * ds_db.c — the database seam: opening hardened connections, dashspec's own
 * migrations, running schema scripts, and the one-run-per-database lock.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ds_common.h"

struct ds_db {
    sqlite3 *h;
    char *path;
    int mode;
};

static int64_t default_busy_ms = 5000;

void ds_db_default_busy_timeout(int64_t ms)
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
        sqlite3_busy_timeout(h, 5000);
        rc = sqlite3_exec(h, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL);
    }
    sqlite3_close(h);
    return rc == SQLITE_OK ? 0 : -1;
}

int ds_db_open(const char *path, int mode, ds_db **out, ds_diag *d)
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
    ds_db *db = calloc(1, sizeof *db);
    if (!db || !(db->path = ds_strdup(name))) {
        free(db);
        sqlite3_close(h);
        return ds_fail(d, DS_DBERROR, "out of memory");
    }
    db->h = h;
    db->mode = mode;
    *out = db;
    return 0;
}

void ds_db_close(ds_db *db)
{
    if (!db) return;
    /* close_v2 defers until every statement is finalized, so a forgotten
     * statement leaks memory rather than leaving the file half-closed. */
    sqlite3_close_v2(db->h);
    free(db->path);
    free(db);
}

const char *ds_db_path(const ds_db *db) { return db->path; }

struct sqlite3 *ds_db_handle(ds_db *db) { return db->h; }

void ds_db_busy_timeout(ds_db *db, int64_t ms)
{
    sqlite3_busy_timeout(db->h, ms > INT32_MAX ? INT32_MAX : (int)ms);
}

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

int ds_db_migrated(ds_db *db)
{
    for (const ds_migration *m = ds_migrations; m->name; m++) {
        int r = applied(db->h, m->name);
        if (r != 1) return r;
    }
    return 1;
}

int ds_db_migrate(ds_db *db, ds_diag *d)
{
    int r = ds_db_migrated(db);
    if (r == 1) return 0;
    sqlite3 *h = db->h;
    if (sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return ds_fail(d, DS_DBERROR, "cannot write database '%s': %s", db->path, sqlite3_errmsg(h));
    for (const ds_migration *m = ds_migrations; m->name; m++) {
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

int ds_db_exec_script(ds_db *db, const char *name, const char *sql, ds_diag *d)
{
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

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int ds_db_exec_dir(ds_db *db, const char *dir, ds_diag *d)
{
    DIR *dp = opendir(dir);
    if (!dp) {
        ds_fail(d, DS_USAGE, "cannot read migrations directory '%s': %s", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(dp))) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len < 5 || strcmp(e->d_name + len - 4, ".sql") != 0) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **v = realloc(names, cap * sizeof *v);
            if (!v) { rc = ds_fail(d, DS_DBERROR, "out of memory"); goto out; }
            names = v;
        }
        if (!(names[n] = ds_asprintf("%s/%s", dir, e->d_name))) { rc = ds_fail(d, DS_DBERROR, "out of memory"); goto out; }
        n++;
    }
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t len;
        char *sql = ds_read_file(names[i], &len);
        if (!sql) {
            rc = ds_fail(d, DS_USAGE, "cannot read '%s': %s", names[i], strerror(errno));
            break;
        }
        rc = ds_db_exec_script(db, names[i], sql, d);
        free(sql);
    }
out:
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    closedir(dp);
    return rc;
}

char *ds_read_file(const char *path, size_t *lenp)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    ds_buf b;
    ds_buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) ds_buf_add(&b, chunk, n);
    int err = ferror(f);
    fclose(f);
    if (err || b.oom) { ds_buf_free(&b); errno = err ? EIO : ENOMEM; return NULL; }
    if (lenp) *lenp = b.len;
    return ds_buf_steal(&b);
}

int ds_db_lock(const char *path, ds_diag *d)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ds_fail(d, DS_DBERROR, "cannot open database '%s': %s", path, strerror(errno));
        return -2;
    }
    /* flock(2) locks are separate from the POSIX locks SQLite takes on the same
     * file, belong to this open file description only, and die with the process. */
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK) {
            ds_fail(d, DS_LOCKED, "another dashspec run holds '%s'", path);
            return -1;
        }
        ds_fail(d, DS_DBERROR, "cannot lock database '%s': %s", path, strerror(e));
        return -2;
    }
    return fd;
}

void ds_db_unlock(int fd)
{
    if (fd >= 0) close(fd);
}

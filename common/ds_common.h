/*
 * ds_common.h — internals shared by the compiler, the runtime and the CLI:
 * growable buffers, small string helpers, globs, and the database seam.
 *
 * The database seam: SQLite is called only from common/ds_db.c (open, migrate,
 * lock), compiler/ds_sql.c and compiler/ds_plan.c (prepare, plan table) and
 * runtime/ds_exec.c, runtime/ds_cache.c (execute, cache tables), runtime/ds_read.c
 * (get's one-row read, status/clear/explain queries). Everything else
 * goes through these functions, so a second backend replaces only those files.
 */
#ifndef DS_COMMON_H
#define DS_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include "dashspec.h"

/* ---------------------------------------------------------------- buffers */

/* A growable byte buffer, always NUL-terminated when p != NULL. On allocation
 * failure `oom` is set and further appends are ignored, so callers check once
 * at the end instead of after every append. */
typedef struct ds_buf {
    char *p;
    size_t len, cap;
    int oom;
} ds_buf;

void ds_buf_init(ds_buf *b);
void ds_buf_free(ds_buf *b);
void ds_buf_reset(ds_buf *b);                    /* len = 0, keeps memory */
int ds_buf_reserve(ds_buf *b, size_t extra);     /* 0 ok, -1 OOM */
void ds_buf_add(ds_buf *b, const void *s, size_t n);
void ds_buf_adds(ds_buf *b, const char *s);
void ds_buf_addc(ds_buf *b, char c);
void ds_buf_printf(ds_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ds_buf_vprintf(ds_buf *b, const char *fmt, va_list ap);
/* Hands the string to the caller (NULL if oom) and resets b. */
char *ds_buf_steal(ds_buf *b);

/* ---------------------------------------------------------------- JSON text (ds_json.c) */

/* Appends JSON text. Used by the plan table, the diagnostics and the cache values alike. Cannot fail (ds_buf records OOM). */
void ds_json_int(ds_buf *b, int64_t v);
void ds_json_double(ds_buf *b, double v);              /* Python repr; non-finite -> null */
void ds_json_string(ds_buf *b, const char *s, size_t n); /* quoted; invalid UTF-8 -> U+FFFD */

/* ---------------------------------------------------------------- strings */

char *ds_strdup(const char *s);                  /* NULL-safe; NULL on OOM */
char *ds_strndup(const char *s, size_t n);
char *ds_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Shell-style glob (fnmatch without flags): 1 match, 0 no. */
int ds_glob_match(const char *pattern, const char *s);
/* The one "did you mean": the candidate (NULL-terminated list) nearest to the
 * n bytes at s when it is close — at most 2 edits (adjacent swaps count 1,
 * case folded) and at most a third of the longer name, so `z` does not
 * suggest `x` — else NULL. Names longer than 32 bytes get no suggestion.
 * Used for spec fields and shapes, commands, options and project-file keys. */
const char *ds_suggest(const char *s, size_t n, const char *const *cands);
/* Number of UTF-8 characters in s[0..n) (bytes 0x80..0xBF not counted). */
size_t ds_utf8_chars(const char *s, size_t n);

/* ---------------------------------------------------------------- database seam */

typedef struct ds_db ds_db;

enum ds_db_mode {
    DS_DB_READONLY = 1,     /* existing file, read-only; never created */
    DS_DB_READWRITE = 2,    /* existing file, read-write; never created */
    DS_DB_MEMORY = 3        /* a private in-memory database */
};

/* Opens a connection hardened for dashspec: defensive mode, untrusted schema,
 * no triggers on read-write connections (so a hostile trigger on the cache
 * table cannot write application tables), extended result codes. The file is
 * probed so "not a database" fails here. On failure returns -1, reports into d
 * with status DS_DBERROR, and *out is NULL. */
int ds_db_open(const char *path, int mode, ds_db **out, ds_diag *d);
void ds_db_close(ds_db *db);                     /* NULL-safe */
const char *ds_db_path(const ds_db *db);
/* The raw handle, for the files that own SQLite calls (see the top of this file). */
struct sqlite3 *ds_db_handle(ds_db *db);
/* Sets how long a locked database is waited on, in milliseconds. */
void ds_db_busy_timeout(ds_db *db, int64_t ms);
/* The wait for connections opened from now on, ds_db_open's own first read
 * included (run sets it to --busy-timeout before it opens). Default 5000. */
void ds_db_default_busy_timeout(int64_t ms);

/* Embedded copies of migrations/NNN-name.sql, in name order, ended by {0,0}. */
typedef struct ds_migration { const char *name; const char *sql; } ds_migration;
extern const ds_migration ds_migrations[];

/* Creates dashspec's tables when missing (applies each migration not yet
 * recorded in dashspec_migrations, in one IMMEDIATE transaction). Never drops
 * or rewrites user data. 0 ok, -1 error (status DS_DBERROR). */
int ds_db_migrate(ds_db *db, ds_diag *d);
/* 1 when every migration is applied, 0 when some is missing, -1 on error. */
int ds_db_migrated(ds_db *db);
/* Runs a script of SQL statements (for --schema / --migrations); `name` is used
 * in diagnostics. 0 ok, -1 error (status DS_USAGE: the schema source is bad). */
int ds_db_exec_script(ds_db *db, const char *name, const char *sql, ds_diag *d);
/* Runs every *.sql file of dir in name order through ds_db_exec_script. */
int ds_db_exec_dir(ds_db *db, const char *dir, ds_diag *d);
/* Reads a whole file; NULL on error with errno set. *len may be NULL. */
char *ds_read_file(const char *path, size_t *len);

/* The one-run-per-database lock: an flock(2) on the database file itself, so
 * it needs no extra file and vanishes with the process even on kill -9.
 * Returns an fd >= 0 holding the lock, -1 when another process holds it
 * (status DS_LOCKED), -2 on any other error (status DS_DBERROR). */
int ds_db_lock(const char *path, ds_diag *d);
void ds_db_unlock(int fd);

#endif

/*
 * ds_common.h — internals shared by the compiler, the runtime and the CLI:
 * growable buffers, small string helpers, globs, and the database calls.
 *
 * The database: every database operation goes through the engine interface
 * (engine/engine.h). The functions below, and those of compiler/ds_compiler.h,
 * runtime/ds_cache.h and runtime/ds_read.h that touch a database, dispatch to
 * the engine the --db string selects; only engine/<name>/ calls a database
 * library (engine/sqlite/ for SQLite). See docs/architecture.md.
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

/* ---------------------------------------------------------------- names (ds_util.c, ds_diag.c) */

/* Indexed by enum ds_shape, then NULL (for lookups and suggestions). */
extern const char *const ds_shape_names[DS_SHAPE_N + 1];
/* Indexed by ds_diag_format: "text", "json", "github". */
extern const char *const ds_diag_format_names[DS_FMT_N];

/* ---------------------------------------------------------------- diagnostics (ds_diag.c) */

/* Makes text safe for where it goes: appends s[0..n) to b for format fmt.
 * The CLI passes its terminal sanitizer (cli/render.h) so that no file name,
 * message or key reaches a terminal raw. Must not fail (b records OOM). */
typedef void (*ds_diag_filter)(ds_buf *b, const char *s, size_t n, ds_diag_format fmt);
/* ds_diag_render with the file, message and key of TEXT and GITHUB entries
 * passed through filter (NULL: as they are); JSON is escaped already. Caller
 * frees; NULL on OOM. */
char *ds_diag_render_filtered(const ds_diag *d, ds_diag_format fmt, ds_diag_filter filter);

/* ---------------------------------------------------------------- strings */

char *ds_strdup(const char *s);                  /* NULL-safe; NULL on OOM */
char *ds_strndup(const char *s, size_t n);
char *ds_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *ds_vasprintf(const char *fmt, va_list ap);  /* malloc'd; NULL on OOM */
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

/* ---------------------------------------------------------------- time */

/* A time as stored in a table (n bytes at s, not necessarily NUL-ended):
 * "YYYY-MM-DD HH:MM:SS", also with a 'T' for the blank and a trailing
 * fraction or 'Z' (an application's own rows may come from another
 * language). ds_time_parse (include/dashspec.h) is the strict form of the
 * same parser. 0 ok, -1 not a time we understand. */
int ds_time_parse_stored(const char *s, size_t n, int64_t *out);

/* ---------------------------------------------------------------- the database */

/* Every call below goes through the engine chosen by the --db string
 * (engine/engine.h, engine/engine.c): a SQLite path today. */
typedef struct ds_db ds_db;
typedef struct ds_lock ds_lock;

/* How long a locked database is waited on unless --busy-timeout says otherwise. */
#define DS_BUSY_TIMEOUT_MS 5000

enum ds_db_mode {
    DS_DB_READONLY = 1,     /* existing database, read-only; never created */
    DS_DB_READWRITE = 2,    /* existing database, read-write; never created */
    DS_DB_MEMORY = 3        /* a private scratch database (check --schema / --migrations) */
};

/* Opens a connection hardened for dashspec (SQLite: defensive mode, untrusted
 * schema, no triggers on read-write connections, so a hostile trigger on the
 * cache table cannot write application tables; see docs/security.md). A file
 * that is not a database fails here. On failure returns -1, reports into d
 * with status DS_DBERROR (DS_USAGE when target names no usable engine), and
 * *out is NULL. */
int ds_db_open(const char *target, int mode, ds_db **out, ds_diag *d);
void ds_db_close(ds_db *db);                     /* NULL-safe */
/* The --db string as messages show it (never a password). */
const char *ds_db_path(const ds_db *db);
/* Sets how long a locked database is waited on, in milliseconds. */
void ds_db_busy_timeout(ds_db *db, int64_t ms);
/* The wait for connections opened from now on, ds_db_open's own first read
 * included (run sets it to --busy-timeout before it opens), for target's
 * engine. Default DS_BUSY_TIMEOUT_MS. */
void ds_db_default_busy_timeout(const char *target, int64_t ms);

/* Creates dashspec's tables when missing (applies each migration not yet
 * recorded in dashspec_migrations, in one transaction). Never drops or
 * rewrites user data. 0 ok, -1 error (status DS_DBERROR). */
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

/* The one-run-per-database lock (SQLite: an flock(2) on the database file,
 * gone with the process even on kill -9). Returns 0 with *out holding the
 * lock, -1 when another process holds it (status DS_LOCKED), -2 on any
 * other error (status DS_DBERROR). */
int ds_db_lock(const char *target, ds_lock **out, ds_diag *d);
void ds_db_unlock(ds_lock *l);                   /* NULL-safe */

#endif

/*
 * dashspec.h — the public API of libdashspec.
 *
 * dashspec turns YAML specs of dashboard metrics into a prepared-statement table
 * (the compiler: spec files -> ds_plan -> dashspec_plan) and keeps a cache table
 * fresh from it (the runtime: dashspec_plan -> statements -> JSON -> cache rows).
 * The CLI in cli/ parses arguments and prints; everything else is here. The
 * library never prints and never exits: it reports through a ds_diag sink and
 * returns a ds_status, which the CLI turns into an exit code.
 *
 * Ownership: every *_new / *_load has a matching *_free that accepts NULL.
 * Strings returned through char ** are malloc'd and owned by the caller.
 */
#ifndef DASHSPEC_H
#define DASHSPEC_H

#include <stddef.h>
#include <stdint.h>

#define DS_VERSION "0.1.0"

/* Results of commands; the CLI exits with these values (docs/operations.md, "Exit codes"). */
typedef enum ds_status {
    DS_OK = 0,          /* success */
    DS_FAILED = 1,      /* check found errors, or some item failed in run */
    DS_USAGE = 2,       /* usage error */
    DS_NOVALUE = 3,     /* get: no fresh value */
    DS_LOCKED = 4,      /* another run holds the database */
    DS_DBERROR = 5      /* database cannot be opened or written */
} ds_status;

/* ---------------------------------------------------------------- diagnostics */

typedef enum ds_severity { DS_SEV_ERROR = 0, DS_SEV_WARNING = 1 } ds_severity;
#define DS_SEV_N (DS_SEV_WARNING + 1)          /* number of severities */

typedef struct ds_diag_entry {
    char *file;             /* path as the user gave it, or NULL (not about a file) */
    int line, col;          /* 1-based; 0 when unknown; col counts characters */
    ds_severity sev;
    char *key;              /* item key, or NULL */
    char *msg;              /* the message, no trailing newline */
} ds_diag_entry;

/* The one error-reporting path: every library error ends here. */
typedef struct ds_diag {
    ds_diag_entry *v;
    size_t n, cap;
    size_t nerrors, nwarnings;
    ds_status status;       /* worst non-check status seen (DS_DBERROR, DS_LOCKED, ...) */
} ds_diag;

typedef enum ds_diag_format { DS_FMT_TEXT, DS_FMT_JSON, DS_FMT_GITHUB } ds_diag_format;
#define DS_FMT_N (DS_FMT_GITHUB + 1)           /* number of formats */

void ds_diag_init(ds_diag *d);
void ds_diag_free(ds_diag *d);            /* frees entries; d itself is the caller's */
/* Adds an error; always returns -1 so callers can write `return ds_error(...)`.
 * file/key may be NULL. Out of memory is absorbed (the count still moves). */
int ds_error(ds_diag *d, const char *file, int line, int col, const char *key,
             const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Adds a warning; returns 0. */
int ds_warning(ds_diag *d, const char *file, int line, int col, const char *key,
               const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Records a database-level failure: an error entry (no file) and status. Returns -1. */
int ds_fail(ds_diag *d, ds_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Stable sort by file (byte order), line, col. Entries without a file go last. */
void ds_diag_sort(ds_diag *d);
/* Renders all entries in the given format; caller frees. NULL on OOM.
 * TEXT: "FILE:LINE:COL: error: MSG [key]\n" per entry ("dashspec: error: MSG" without file);
 * GITHUB: "::error file=F,line=L,col=C::MSG\n"; JSON: one array of
 * {file,line,col,severity,key,message}. */
char *ds_diag_render(const ds_diag *d, ds_diag_format fmt);

/* ---------------------------------------------------------------- specs and plan */

typedef enum ds_kind { DS_KIND_METRIC = 0, DS_KIND_CHART = 1 } ds_kind;
#define DS_KIND_N (DS_KIND_CHART + 1)          /* number of kinds */

/* ds_shape_names[] in common/ds_util.c is indexed by this enum. */
typedef enum ds_shape {
    DS_SHAPE_SCALAR = 0, DS_SHAPE_ROW, DS_SHAPE_ROWS, DS_SHAPE_MAP, DS_SHAPE_SERIES
} ds_shape;
#define DS_SHAPE_N (DS_SHAPE_SERIES + 1)       /* number of shapes */

typedef struct ds_mark { int line, col; } ds_mark;   /* 1-based; line 0 = unknown */

typedef enum ds_param_type { DS_PARAM_INT, DS_PARAM_REAL, DS_PARAM_TEXT, DS_PARAM_BOOL } ds_param_type;

typedef struct ds_param {
    char *name;             /* without the ':' */
    ds_param_type type;
    int64_t i;              /* INT, and BOOL as 1/0 */
    double r;               /* REAL */
    char *s;                /* TEXT */
    ds_mark mark;           /* the entry's key inside `params` (compile time only) */
} ds_param;

/* One metric or chart. Loaded from YAML by the compiler (marks set) or from
 * dashspec_plan by the runtime (marks zero). All strings owned by the item. */
typedef struct ds_item {
    char *key;
    ds_kind kind;
    ds_shape shape;
    char *query;
    char *description;      /* or NULL */
    char *group;            /* or NULL */
    char **tags; size_t ntags;
    ds_param *params; size_t nparams;
    int64_t ttl, refresh, timeout;   /* seconds */
    int64_t max_rows, max_bytes;    /* at most DS_MAX_ROWS_CEILING, DS_MAX_BYTES_CEILING */
    char *x;                /* series only, else NULL */
    char **y; size_t ny;    /* series only; ny == 0 means "every other column" */
    char *series_by;        /* series only, or NULL */
    char *fill;             /* series only: JSON text of the fill value ("null" default) */
    char *refresh_key;      /* or NULL: the query whose unchanged result confirms the value */
    int64_t inc_window, inc_range, inc_full_every;  /* incremental (seconds); inc_window 0 = not */
    int64_t since;          /* run time only: > 0 binds :since to this time, else NULL (ds_incr.c) */
    char *file;             /* spec file as diagnostics name it: "<specs dir>/<relative path>" */
    int line;               /* line of the item in that file */
    char hash[17];          /* spec hash: 16 hex digits over query, params, shape, options */
    int bad;                /* compile time: this item has errors and must not run */
    int sqlcheck;           /* compile time: query, params, shape and options loaded
                               cleanly, so the SQL is validated even when bad */

    /* compile-time positions (all zero for items loaded from the plan) */
    ds_mark m_item, m_key, m_query, m_shape, m_ttl, m_refresh, m_x, m_y, m_series_by, m_fill, m_params, m_refresh_key, m_incremental;
    ds_mark *m_ys;          /* one per y entry when y was given as a list, else NULL */
    ds_mark *qlines;        /* exact query mapping: value line i starts at qlines[i]; */
    size_t nqlines;         /* 0 = not exact: point at m_query */
    ds_mark *klines;        /* the same for refresh_key (0 = point at m_refresh_key) */
    size_t nklines;
} ds_item;

/* A set of items: the result of loading specs, or the plan read back. */
typedef struct ds_plan {
    ds_item *items;
    size_t n, cap;
} ds_plan;

void ds_plan_init(ds_plan *p);
void ds_plan_free(ds_plan *p);            /* frees items; p itself is the caller's */
void ds_item_free(ds_item *it);           /* frees the item's members */
const char *ds_shape_name(ds_shape s);
int ds_shape_parse(const char *s, ds_shape *out);   /* 0 ok, -1 unknown */
const char *ds_kind_name(ds_kind k);
/* Maps a byte offset inside it->query to a position in its spec file: exact
 * when the loader recorded qlines, else m_query. */
ds_mark ds_item_query_mark(const ds_item *it, size_t byte_offset);

/* ---------------------------------------------------------------- time and durations */

/* The one time parser: "YYYY-MM-DD HH:MM:SS" (UTC), also with 'T' for the
 * space, and with a "Z" or "+HH:MM" / "-HH:MM" suffix (converted to UTC)
 * -> seconds since the epoch. 0 ok, -1 bad (bad calendar dates included).
 * format: always "YYYY-MM-DD HH:MM:SS" UTC. */
int ds_time_parse(const char *s, int64_t *out);
/* The ceilings of an item's limits (docs/spec-reference.md): no setting
 * switches a limit off. check refuses larger values; the executor clamps a
 * tampered plan row to them. */
#define DS_MAX_BYTES_CEILING INT64_C(268435456)   /* 256 MiB */
#define DS_MAX_ROWS_CEILING INT64_C(10000000)
#define DS_TIMEOUT_CEILING INT64_C(3600)          /* seconds: 1h */

/* Clamped into DS_TIME_MIN..DS_TIME_MAX: what it writes is always a valid time. */
void ds_time_format(int64_t t, char out[20]);
/* The times dashspec stores and accepts as --now: 1970-01-01 00:00:00 ..
 * 9999-12-31 23:59:59 UTC (now + ttl, a backoff must stay inside too). */
#define DS_TIME_MIN INT64_C(0)
#define DS_TIME_MAX INT64_C(253402300799)
#define DS_TIME_MIN_TEXT "1970-01-01 00:00:00"
#define DS_TIME_MAX_TEXT "9999-12-31 23:59:59"
int64_t ds_time_now(void);
/* A duration: "1800", "90s", "15m", "1h30m", "7d". Zero, negatives, overflow and
 * anything else are errors. 0 ok, -1 bad (with *why set to a static message). */
int ds_duration_parse(const char *s, int64_t *out, const char **why);
/* Renders seconds compactly ("1h30m", "45s", "0s"); returns out. */
char *ds_duration_format(int64_t secs, char *out, size_t n);

/* ---------------------------------------------------------------- compiler (compiler/) */
/* Section owned by the compiler; see compiler/ds_compiler.h for internals. */

/* Loads every *.yaml and *.yml file under dir (recursively, byte order of the relative
 * path, dot-names skipped) into p. Diagnostics name files "<dir>/<relative path>"
 * (dir without trailing slashes).
 * Items with errors are kept with bad=1 when their key is known. Returns 0 when
 * no error was reported, -1 otherwise (p holds what could be loaded). */
int ds_spec_load_dir(const char *dir, ds_plan *p, ds_diag *d);
/* Loads one file's bytes; `file` is the name used in diagnostics and item->file. */
int ds_spec_load_buf(const char *file, const char *buf, size_t len, ds_plan *p, ds_diag *d);

typedef struct ds_check_opts {
    const char *specs_dir;      /* default "specs" */
    const char *db_path;        /* --db: prepared against it, opened read-only */
    const char *schema_path;    /* --schema FILE.sql into :memory: */
    const char *migrations_dir; /* --migrations DIR into :memory: */
    int explain;                /* --explain: query-plan lint (needs db_path) */
} ds_check_opts;

/* check: load + validate. Fills p (caller frees) and d. Returns DS_OK, DS_FAILED
 * (errors in specs), DS_USAGE or DS_DBERROR. */
ds_status ds_check(const ds_check_opts *o, ds_plan *p, ds_diag *d);
/* compile: check against db_path, then replace dashspec_plan in one transaction.
 * All or nothing. *nitems receives the number of plan rows written. */
ds_status ds_compile(const char *db_path, const char *specs_dir, size_t *nitems, ds_diag *d);

/* ---------------------------------------------------------------- runtime (runtime/) */
/* Section owned by the runtime; see runtime/ds_runtime.h for internals. */

#endif

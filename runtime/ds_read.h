/*
 * ds_read.h — the library side of the reader commands: get, status, clear,
 * explain, preview, and migrate. Each function opens its own connection with
 * the least it needs (read-only for everything but clear and migrate), never
 * creates a database file, prints nothing, and reports into a ds_diag.
 *
 * Return values are ds_status codes the CLI exits with: DS_OK, DS_NOVALUE
 * (get: no fresh value), DS_FAILED (unknown key, query error), DS_DBERROR
 * (the database cannot be opened, read or written).
 */
#ifndef DS_READ_H
#define DS_READ_H

#include "ds_runtime.h"

/* ---------------------------------------------------------------- get */

/* One cache row as stored. */
typedef struct ds_value {
    int found;              /* a dashboard_cache row exists for the key */
    int fresh;              /* its expires_at > now (compared as text, like the SQL) */
    char *json;             /* cache_value, malloc'd; NULL when not found */
    size_t len;
    char *expires_at;       /* as stored, malloc'd; NULL when not found or NULL */
} ds_value;

/* Reads the value of key at time now: one prepared SELECT by primary key on a
 * read-only connection (no migrations, no plan). Returns DS_OK when a fresh
 * value was found (or any value, with stale), DS_NOVALUE when there is none
 * (found/fresh say which; a database without dashboard_cache has no values),
 * DS_DBERROR when the database cannot be opened or read. out is filled in
 * every case; free it with ds_value_free. */
ds_status ds_read_get(const char *db_path, const char *key, int64_t now, int stale,
                      ds_value *out, ds_diag *d);
void ds_value_free(ds_value *v);
/* For "did you mean": whether key is an item of db_path's plan (*in_plan),
 * and when it is not, the nearest plan key (ds_suggest's rule), malloc'd;
 * NULL when none is near or the plan cannot be read (no error reported). */
char *ds_read_near_key(const char *db_path, const char *key, int *in_plan);

/* ---------------------------------------------------------------- status */

typedef enum ds_freshness { DS_FRESH = 0, DS_EXPIRED, DS_MISSING } ds_freshness;
const char *ds_freshness_name(ds_freshness f);     /* "fresh", "expired", "missing" */

/* One plan item as status shows it. */
typedef struct ds_report_item {
    char *key;              /* malloc'd */
    ds_kind kind;
    char *group;            /* malloc'd or NULL */
    ds_freshness state;
    int64_t created_at;     /* when computed; valid unless state == DS_MISSING */
    int64_t expires_at;
    int64_t ttl, refresh;   /* seconds */
    int64_t entries;        /* from dashspec_state; -1 unknown */
    int64_t last_duration_ms; /* -1 unknown */
    int64_t failures;       /* consecutive; > 0 means the last attempt failed */
    char *last_error;       /* of the last failed attempt while failing, malloc'd or NULL */
    ds_due_reason due;      /* DS_DUE_NOT when not due now */
    int64_t next_due;       /* when it is next due (== now when due) */
    int64_t confirmed_at;   /* refresh_key: the value's last confirmation after created_at, else 0 */
    /* Several runners (PostgreSQL engine; always NULL/0 on SQLite, whose
     * whole-run lock makes leases meaningless): */
    char *last_runner;      /* the runner that computed the cached value, malloc'd or NULL */
    char *lease_runner;     /* the runner holding a live lease (lease_until > now), malloc'd or NULL */
    int64_t lease_until;    /* when that lease ends; 0 when there is none */
} ds_report_item;

/* A cache row whose key is not in the plan (an item removed from the specs). */
typedef struct ds_orphan {
    char *key;              /* malloc'd */
    ds_freshness state;     /* DS_FRESH or DS_EXPIRED */
    int64_t created_at;     /* 0 when it does not parse */
    char *expires_at;       /* as stored, malloc'd or NULL */
} ds_orphan;

typedef struct ds_report {
    int64_t now;
    size_t fresh, expired, missing;  /* plan items: these add up to n */
    size_t failing;                  /* plan items whose last attempt failed */
    ds_report_item *items;           /* by key */
    size_t n;
    ds_orphan *orphans;              /* by key; counted in none of the above */
    size_t norphans;
} ds_report;

/* Builds the status report at time now from the plan, dashspec_state and
 * dashboard_cache, on a read-only connection (a database without dashspec's
 * tables reports an empty plan). Returns DS_OK or DS_DBERROR; out is always
 * initialized; free it with ds_report_free. */
ds_status ds_read_status(const char *db_path, int64_t now, ds_report *out, ds_diag *d);
/* The same for the items sel selects (ds_select.h; NULL: all): rows and
 * counts of those items only; orphans whose key a key-only view selects. */
struct ds_select;
ds_status ds_read_status_sel(const char *db_path, int64_t now, const struct ds_select *sel, ds_report *out,
                             ds_diag *d);
void ds_report_free(ds_report *r);
/* Appends the report as one JSON object (status --json, documented in
 * docs/reading.md) and a newline. Cannot fail (b records OOM). */
void ds_report_json(const ds_report *r, ds_buf *b);

/* ---------------------------------------------------------------- clear */

/* Deletes the cache rows whose key matches one of pats[0..npats) (shell
 * globs, ds_glob_match; all rows when npats == 0) in one IMMEDIATE
 * transaction; dashspec_state is left alone. Creates dashspec's tables first
 * when missing (clear is a writing command). *cleared receives the number of
 * rows deleted. Returns DS_OK or DS_DBERROR (nothing deleted then). */
ds_status ds_read_clear(const char *db_path, const char *const *pats, size_t npats,
                        int64_t *cleared, ds_diag *d);

/* ---------------------------------------------------------------- explain */

/* One row of the engine's query plan (SQLite: EXPLAIN QUERY PLAN). */
typedef struct ds_qp_row {
    int id, parent;
    char *detail;           /* malloc'd */
} ds_qp_row;

typedef struct ds_explain {
    ds_item item;           /* the plan row (owned) */
    char *engine_version;   /* the database library that compiled it (SQLite's
                               version), malloc'd or NULL */
    char *compiled_at;      /* malloc'd or NULL */
    char now[20];           /* the value bound to :now */
    ds_qp_row *qp;          /* the query plan, in SQLite's order */
    size_t nqp;
    char *qp_error;         /* why there is no query plan (e.g. a table dropped
                               since compile), malloc'd, or NULL */
} ds_explain;

/* Loads key's plan row and the EXPLAIN QUERY PLAN of its statement, prepared
 * on a read-only connection with its parameters and :now bound. Returns DS_OK
 * (qp_error may still be set: then the CLI exits 1), DS_FAILED when the key is
 * not in the plan, DS_DBERROR. Free out with ds_explain_free. */
ds_status ds_read_explain(const char *db_path, const char *key, int64_t now,
                          ds_explain *out, ds_diag *d);
void ds_explain_free(ds_explain *e);

/* ---------------------------------------------------------------- preview */

typedef struct ds_preview {
    ds_item item;           /* the plan row (owned) */
    ds_result res;          /* the computed value */
} ds_preview;

/* Computes key's value at time now through the runtime's executor, on a
 * read-only connection: writes nothing. The item comes from db_path's plan;
 * its query runs on source (--source: a read replica, as `run --source`
 * sends it there), or on db_path when source is NULL. Returns DS_OK,
 * DS_FAILED (key not in the plan, or the query failed: the error is in d,
 * naming the key), DS_DBERROR. Free out with ds_preview_free. */
ds_status ds_read_preview(const char *db_path, const char *source, const char *key, int64_t now,
                          ds_preview *out, ds_diag *d);
void ds_preview_free(ds_preview *p);

/* ---------------------------------------------------------------- migrate */

/* Applies dashspec's missing migrations to an existing database (never
 * creates the file). *applied is set to 1 when something was created, 0 when
 * everything was up to date. Returns DS_OK or DS_DBERROR. */
ds_status ds_read_migrate(const char *db_path, int *applied, ds_diag *d);

#endif

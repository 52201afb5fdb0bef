/*
 * ds_runtime.h — internals of the runtime: dashspec_plan -> statements -> JSON
 * -> dashboard_cache.
 *
 *   ../common/ds_json.c  JSON text for values (exact int64, Python-repr reals,
 *                invalid UTF-8 repaired as Python does), shared with the compiler
 *   ds_shape.c   result rows -> the JSON value of each shape (docs/values.md)
 *   ds_sched.c   executing the due items (serial, or worker threads), writing each
 *   ds_summary.c the summary JSON of a run
 *   (executing an item, the writer and state loading are engine operations:
 *   engine/engine.h; SQLite's are engine/sqlite/sqlite_exec.c, sqlite_writer.c,
 *   sqlite_state.c)
 *   ds_due.c     what is due and why (pure functions of state and time)
 *   ds_run.c     `run`: lock, select, one cycle, watch
 *   ds_read.c    get, status, clear, explain, preview
 */
#ifndef DS_RUNTIME_H
#define DS_RUNTIME_H

#include "ds_cell.h"
#include "ds_common.h"

/* ---------------------------------------------------------------- values (ds_json.c) */

/* ds_type and ds_cell, the values an engine hands over: engine/ds_cell.h. */

/* ds_json_int, ds_json_double, ds_json_string: common/ds_common.h.
 * A cell as a JSON value (ds_shape.c); BLOB is the caller's error (appends nothing, returns -1). */
int ds_json_cell(ds_buf *b, const ds_cell *c);

/* ---------------------------------------------------------------- shaping (ds_shape.c) */

typedef struct ds_shaper ds_shaper;

/* Prepares shaping of one result for it (shape, x/y/series_by/fill, max_rows,
 * max_bytes) over the given column names. NULL with *err (malloc'd) when the
 * columns do not fit the shape, or on OOM. */
ds_shaper *ds_shaper_new(const ds_item *it, const char *const *cols, int ncols, char **err);
/* ncols flags: nonzero where the executor must also fill cell.s/n with the
 * value's CAST AS TEXT for INT/REAL cells (map keys, series names). */
const unsigned char *ds_shaper_textcols(const ds_shaper *s);
/* Consumes one row. -1 with *err (malloc'd) on a run error (BLOB, too many
 * rows, NULL map key, duplicate point, value too large). */
int ds_shaper_row(ds_shaper *s, const ds_cell *cells, char **err);
/* The finished value: *json malloc'd (caller frees), *entries = rows seen. */
int ds_shaper_finish(ds_shaper *s, char **json, size_t *len, int64_t *entries, char **err);
void ds_shaper_free(ds_shaper *s);

/* ---------------------------------------------------------------- execution (engine: exec_item) */

typedef struct ds_result {
    char *json;             /* the value, malloc'd */
    size_t len;
    int64_t entries;        /* result rows */
    int64_t duration_ms;
    char *key_value;        /* malloc'd or NULL: the refresh_key's result, taken before the
                               value (ds_fresh.c); put stores it with the value */
    int confirmed;          /* the key was unchanged: json is NULL, the value is confirmed */
    int full;               /* incremental: computed in full (put records last_full = now) */
} ds_result;

void ds_result_free(ds_result *r);

typedef struct ds_exec ds_exec;  /* one read-only connection and its prepared statements */

/* Opens db_path read-only for running spec queries (authorizer: reads and
 * functions only). NULL on failure, reported into d (DS_DBERROR). */
ds_exec *ds_exec_new(const char *db_path, ds_diag *d);
/* The same, but its queries run where they can be killed (SQLite: in a
 * worker process, engine/sqlite/sqlite_pool.c): the item's timeout is a
 * hard wall, a crash or a memory bomb fails only the item, and the caller's
 * process never runs spec SQL. `run` uses it; preview, the tests and the
 * fuzz harness use ds_exec_new. It may fork: call it while no other thread
 * uses the engine (ds_run opens its sources before its threads start). */
ds_exec *ds_exec_new_isolated(const char *db_path, ds_diag *d);
void ds_exec_free(ds_exec *x);
/* Runs one item at time `now`: binds params and :now, enforces timeout and
 * limits, shapes the rows. 0 ok (out filled), -1 with *err (malloc'd). */
int ds_exec_item(ds_exec *x, const ds_item *it, int64_t now, ds_result *out, char **err);

/* ---------------------------------------------------------------- due (ds_due.c) */

/* What the runtime knows about one key before deciding to run it. */
typedef struct ds_item_state {
    int has_value;              /* a dashboard_cache row exists */
    int64_t created_at, expires_at;
    int has_state;              /* a dashspec_state row exists */
    int64_t last_attempt;       /* 0 = never */
    int64_t last_success;       /* 0 = never */
    int64_t failures;           /* consecutive failures; > 0 means the last attempt failed */
    char value_hash[17];        /* spec hash of the value in the cache ("" = unknown) */
    char *last_error;           /* malloc'd or NULL */
    int64_t last_duration_ms, entries;
    char *key_value;            /* malloc'd or NULL: the refresh_key result stored with the value */
    int64_t confirmed_at;       /* 0 = never: last confirmation of the value (refresh_key) */
    int64_t last_full;          /* 0 = never: the value's last full compute (incremental) */
    char *value_json;           /* incremental items only: the cached value, malloc'd or NULL */
    size_t value_len;
    /* Several runners (PostgreSQL engine; NULL/0 on SQLite): */
    char *last_runner;          /* malloc'd or NULL: the runner that computed the cached value */
    char *lease_runner;         /* malloc'd or NULL: the runner holding the item's lease */
    int64_t lease_until;        /* 0 = no lease: when that lease ends */
    int64_t row_version;        /* 0 = unknown: the state row's version as read (PostgreSQL:
                                   its xmin), so a claim sees any write made since */
} ds_item_state;

typedef enum ds_due_reason {
    DS_DUE_NOT = 0,             /* fresh enough */
    DS_DUE_MISSING,             /* never computed (no value) */
    DS_DUE_EXPIRED,             /* expires_at <= now */
    DS_DUE_REFRESH,             /* age >= refresh */
    DS_DUE_CHANGED,             /* spec hash differs from the value's */
    DS_DUE_FORCED,              /* --force */
    DS_DUE_BACKOFF,             /* would be due, but the last failure's backoff has not passed */
    DS_DUE_FUTURE               /* created_at > now: computed "in the future" (a run with a
                                   later --now, a clock set back); due, never trusted as fresh */
} ds_due_reason;

/* Runs one due item (ds_fresh.c): with a refresh_key, the key first; when
 * the item is due by age only (why == DS_DUE_REFRESH, no failure pending),
 * can_confirm is set and the key's result equals st->key_value, out is a
 * confirmation (out->confirmed, no json, entries as stored) and the query
 * does not run. Otherwise ds_exec_item, with out->key_value set (NULL when
 * the key failed: the value is still computed). Same results as ds_exec_item. */
int ds_fresh_exec(ds_exec *x, const ds_item *it, const ds_item_state *st, ds_due_reason why,
                  int can_confirm, int64_t now, ds_result *out, char **err);

/* Runs an incremental series item (ds_incr.c): in full (:since NULL) on
 * first use, spec change, --force, every full_every or when the cached
 * value cannot be merged; else with :since = now - window, merged into
 * st->value_json. Points older than now - range are dropped either way;
 * out->full tells which. Same results as ds_exec_item. */
int ds_incr_exec(ds_exec *x, const ds_item *it, const ds_item_state *st, ds_due_reason why, int64_t now,
                 ds_result *out, char **err);

/* Decides whether it is due at now (docs/run.md, step 5). *next (may be NULL)
 * receives when it will next be due (== now when due). Pure function. */
ds_due_reason ds_due(const ds_item *it, const ds_item_state *st, int64_t now, int force, int64_t *next);
/* Reads cache and state rows for every item of p into st[0..p->n). 0 ok, -1 error. */
int ds_state_load(ds_db *db, const ds_plan *p, ds_item_state *st, ds_diag *d);
void ds_item_state_clear(ds_item_state *st);   /* frees last_error */

#endif

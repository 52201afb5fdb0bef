/*
 * ds_history.h — the history of attempts and runs, and the statistics over
 * it: what `dashspec stats`, `dashspec report` and `status --format
 * prometheus` show.
 *
 * The rows are written by the writer (the engine's put / fail / record_run,
 * one history row per attempt in the attempt's own transaction) and read
 * back through two engine operations (history_load, history_totals:
 * engine/engine.h, docs/architecture.md) into the plain C structs below;
 * engine/sqlite/sqlite_history.c is the SQLite side. runtime/ds_stats.c owns
 * the arithmetic (pure functions, no database) and the frees.
 *
 * Times are Unix seconds (UTC). A period is [from, to]: attempts and runs
 * with from <= time <= to count; freshness is measured over [from, to).
 */
#ifndef DS_HISTORY_H
#define DS_HISTORY_H

#include "ds_common.h"

/* ---------------------------------------------------------------- rows (engine) */

/* One attempt of one item (a dashspec_history row). */
typedef struct ds_hist_attempt {
    int64_t at;             /* attempt time; a success's created_at */
    char *key;              /* malloc'd */
    int ok;                 /* 1 computed and cached, 0 failed */
    int64_t duration_ms;    /* -1 unknown */
    int64_t entries, bytes; /* success: rows and JSON bytes of the value; -1 on failure */
    int64_t expires_at;     /* success: when the value expires; 0 on failure */
    char *error;            /* failure: message (at most 200 characters), malloc'd; else NULL */
} ds_hist_attempt;

/* One run (a dashspec_runs row). */
typedef struct ds_hist_run {
    int64_t started_at, finished_at, duration_ms;
    int64_t items_run, items_ok, items_failed, skipped;
    char status[8];         /* "ok", "partial", "failed" */
} ds_hist_run;

typedef struct ds_history {
    ds_hist_attempt *a;     /* by time, then insertion order */
    size_t na;
    ds_hist_run *r;         /* by start time */
    size_t nr;
} ds_history;

/* Loads, on db (a store connection the caller opened, read-only is
 * enough; one engine call, engine/engine.c), the attempts that matter for
 * the period [from, to]: those made in it, and the successes before it whose
 * value was still live at `from` (they make the period's start fresh); and
 * the runs started in it. A database without the history tables (never run
 * since migration 002) has an empty history. Returns 0, or -1 with the error
 * in d (DS_DBERROR); h is always initialized: free it with ds_history_free. */
int ds_history_load(ds_db *db, int64_t from, int64_t to, ds_history *h, ds_diag *d);
void ds_history_free(ds_history *h);

/* Per key totals over the whole retained history. */
typedef struct ds_hist_total {
    char *key;              /* malloc'd */
    int64_t attempts, failures;
} ds_hist_total;

typedef struct ds_hist_totals {
    ds_hist_total *t;       /* by key */
    size_t n;
    int64_t last_run_started, last_run_finished;   /* 0: no run recorded */
    int64_t runs;           /* rows in dashspec_runs */
} ds_hist_totals;

/* Reads the totals (per key over the whole history, the newest run and the
 * number of runs) on db (one engine call). Returns 0, or -1 (d,
 * DS_DBERROR); out is always initialized: free with ds_hist_totals_free. */
int ds_history_totals(ds_db *db, ds_hist_totals *out, ds_diag *d);
void ds_hist_totals_free(ds_hist_totals *t);
/* The totals of key, or NULL. */
const ds_hist_total *ds_hist_totals_find(const ds_hist_totals *t, const char *key);

/* ---------------------------------------------------------------- statistics (ds_stats.c) */

/* One item over the period. Durations are of attempts with a known
 * duration (successes and failures). Percentiles are nearest-rank: the
 * smallest value with at least p% of the values at or below it. */
typedef struct ds_item_stats {
    char *key;                  /* malloc'd */
    char *group;                /* malloc'd or NULL (not in the plan, or no group) */
    int64_t computes, failures; /* attempts in the period that succeeded / failed */
    int64_t longest_streak;     /* most consecutive failures in the period */
    int64_t p50_ms, p95_ms, max_ms;   /* -1 when no duration is known */
    int64_t total_ms;           /* sum of the known durations */
    double share;               /* total_ms / all items' total_ms; 0 when none */
    int64_t entries, bytes;     /* of the newest value computed up to `to`; -1 none */
    double fresh_pct;           /* % of [from, to) covered by a live value */
    int64_t longest_gap_s;      /* longest stretch of [from, to) without one */
    char *last_error;           /* of the newest failure in the period, malloc'd or NULL */
} ds_item_stats;

/* The runs over the period. */
typedef struct ds_run_stats {
    int64_t runs;               /* started in the period */
    int64_t p50_ms, p95_ms, max_ms;  /* -1 when no run */
    int64_t skipped;            /* items skipped, summed over the runs */
    int64_t failed, partial;    /* runs with that status */
    int64_t items_failed;       /* item failures, summed */
} ds_run_stats;

typedef struct ds_stats {
    int64_t from, to;
    ds_item_stats *items;       /* by key */
    size_t n;
    ds_run_stats runs;
    int64_t total_ms;           /* all items' query time */
} ds_stats;

/* Computes the statistics of [from, to] from h. Items: the plan's keys
 * (keys[0..nkeys), with groups[i] or NULL; groups may be NULL) and every key
 * seen in h, each once; when npats > 0, only keys matching one of the shell
 * globs pats. Returns 0, or -1 on OOM (out is then empty). Free with
 * ds_stats_free. */
int ds_stats_compute(const ds_history *h, const char *const *keys, const char *const *groups,
                     size_t nkeys, const char *const *pats, size_t npats, int64_t from, int64_t to,
                     ds_stats *out);
void ds_stats_free(ds_stats *s);
/* Nearest-rank percentile p (0 < p <= 100) of v[0..n) sorted ascending; -1
 * when n == 0. Pure. */
int64_t ds_percentile(const int64_t *v, size_t n, int p);
/* Appends s as one JSON object (stats --json; docs/operations.md). */
void ds_stats_json(const ds_stats *s, ds_buf *b);

#endif

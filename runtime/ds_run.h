/*
 * ds_run.h — the public API of `dashspec run`: one function and its options.
 *
 * ds_run takes the run lock, brings the tables up to date, loads (or, with
 * specs_dir, compiles) the plan, decides what is due at a fixed `now`, runs
 * the due items on read-only connections (in threads when jobs > 1), writes
 * each result as soon as it is computed, records one dashspec_runs row and
 * hands the summary JSON to the caller. It never prints: every line meant for
 * stdout or stderr goes through the emit callback, and errors go into the
 * ds_diag (the CLI prints them at the end, or ds_run flushes them through
 * emit after each --watch cycle).
 *
 * Exit statuses (docs/operations.md, "Exit codes"): DS_OK; DS_FAILED when some item failed
 * (the others were written); DS_USAGE (no database given, bad specs dir);
 * DS_LOCKED when another run holds the database; DS_DBERROR when it cannot be
 * opened or written (missing, not a database, read-only, disk full).
 */
#ifndef DS_RUN_H
#define DS_RUN_H

#include <signal.h>
#include "ds_runtime.h"

/* The most items a run computes at once (--jobs). */
#define DS_RUN_MAX_JOBS 64

/* Where an emitted text belongs. */
typedef enum ds_run_out {
    DS_RUN_STDOUT,      /* a summary JSON line or a --dry-run line, ends with '\n' */
    DS_RUN_STDERR,      /* diagnostics flushed during --watch, ends with '\n' */
    DS_RUN_PROGRESS     /* "3/12 key": a transient progress note, no newline;
                           "" means clear it (only sent when `progress` is set) */
} ds_run_out;

/* One item's outcome in a run (ds_run_opts.on_item). */
typedef enum ds_run_item_status {
    DS_ITEM_OK = 0,         /* computed and written */
    DS_ITEM_FAILED,         /* the query or the write failed, or it does not compile */
    DS_ITEM_SKIPPED,        /* not due (fresh, or backing off) */
    DS_ITEM_INTERRUPTED     /* stopped by a signal, not recorded */
} ds_run_item_status;

/* What on_item is told: an item finished (or was skipped), or, with key
 * NULL, a cycle ended (its summary JSON was made and recorded). Everything
 * is borrowed for the duration of the call. */
typedef struct ds_run_event {
    const char *key;                /* NULL: the end of a cycle */
    ds_kind kind;
    ds_shape shape;                 /* DS_SHAPE_N for a compile failure (not known) */
    ds_run_item_status status;
    const char *reason;             /* why it was due ("expired 3m ago") or skipped
                                       ("fresh for 7m", "backoff until ..."); "does
                                       not compile" for a compile failure */
    const char *error;              /* DS_ITEM_FAILED: the message; else NULL */
    int64_t rows;                   /* result rows; -1 unknown (not computed) */
    int64_t bytes;                  /* the value's JSON bytes; -1 unknown */
    int64_t duration_ms;            /* query time; at a cycle's end, the cycle's; -1 unknown */
    size_t index, total;            /* k-th of the cycle's total due items; 0, 0 for skipped */
} ds_run_event;

typedef struct ds_run_opts {
    const char *db_path;            /* required; never created */
    const char *specs_dir;          /* compile these first, or NULL: the stored plan */
    const struct ds_select *select; /* --select/--exclude (common/ds_select.h), or NULL: all */
    int force;                      /* run every selected item */
    int dry_run;                    /* say what is due and why; run and write nothing */
    int quiet;                      /* emit nothing for DS_RUN_STDOUT */
    int watch;                      /* stay up; run items as they fall due */
    int progress;                   /* emit DS_RUN_PROGRESS notes */
    int jobs;                       /* items at once, 1..DS_RUN_MAX_JOBS; 0 = online cores,
                                       at most 8; others: DS_USAGE */
    int64_t now;                    /* the run's time (--now or the clock) */
    int now_fixed;                  /* now came from --now: --watch advances it in real time */
    int64_t busy_ms;                /* how long a locked database is waited on; < 0 = DS_BUSY_TIMEOUT_MS */
    /* Set (to the signal number) by the caller's SIGINT/SIGTERM handler. A run
     * stops at once: queries in flight are interrupted and not recorded,
     * what was committed stays. --watch finishes the items in flight first. */
    const volatile sig_atomic_t *stop;
    void (*emit)(void *ctx, ds_run_out where, const char *text);
    /* Called, when set, as each item finishes, for each item skipped, and at
     * each cycle's end (not for --dry-run); always from the calling thread
     * and one at a time, so lines never interleave with --jobs N. */
    void (*on_item)(void *ctx, const ds_run_event *ev);
    void *ctx;
    const char *source;             /* --source: the spec queries run there (a read
                                       replica); NULL: on db_path */
} ds_run_opts;

/* Runs `dashspec run` as described above. Returns the status the CLI exits
 * with; every error is in d (which the caller initialized and frees). */
ds_status ds_run(const ds_run_opts *o, ds_diag *d);

/* The one-line reason a --dry-run shows for an item: "never computed",
 * "expired 3m ago", "older than refresh (12m >= 10m)", "spec changed",
 * "backoff until 2026-02-12 10:04:00", "fresh for 7m", "forced". Writes into
 * buf (n bytes, 96 is plenty) and returns it. Cannot fail. */
char *ds_due_explain(const ds_item *it, const ds_item_state *st, int64_t now,
                     ds_due_reason why, int64_t next, char *buf, size_t n);

#endif

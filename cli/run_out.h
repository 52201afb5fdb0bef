/*
 * run_out.h — what `run` shows on a terminal (one line per item as it
 * finishes, a closing summary per cycle, like `dbt run`) and the --results
 * file (per-item outcomes as JSON, like dbt's run_results.json). Fed by
 * ds_run's on_item events (runtime/ds_run.h).
 */
#ifndef DS_RUN_OUT_H
#define DS_RUN_OUT_H

#include <stdio.h>
#include "ds_run.h"
#include "render.h"

/* One item's outcome kept for --results (strings malloc'd). */
typedef struct run_out_item {
    char *key, *reason, *error;
    ds_run_item_status status;
    int64_t rows, bytes, duration_ms;
} run_out_item;

typedef struct run_out {
    int lines;                  /* print item lines and summaries on out */
    FILE *out;
    cli_term t;
    const char *results;        /* --results FILE, or NULL */
    run_out_item *v;            /* this cycle's items (for --results) */
    size_t n, cap;
    size_t ok, failed, skipped, interrupted;
    int failed_write;           /* --results could not be written */
} run_out;

/* Prepares r: lines on out when `lines`, results into path when not NULL.
 * Cannot fail. */
void run_out_init(run_out *r, FILE *out, int lines, const char *results);
/* The on_item callback of ds_run_opts (ctx: the run_out). Writes --results
 * at each cycle's end (a temporary file renamed over FILE); a failure is
 * reported on stderr once and remembered in failed_write. */
void run_out_event(run_out *r, const ds_run_event *ev);
void run_out_free(run_out *r);

#endif

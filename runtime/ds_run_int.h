/*
 * ds_run_int.h — internals of `run` shared by ds_run.c (the run: lock, plan,
 * cycles, --watch), ds_sched.c (executing the due items, serially or in
 * parallel, and writing each result) and ds_summary.c (the summary JSON).
 */
#ifndef DS_RUN_INT_H
#define DS_RUN_INT_H

#include "ds_cache.h"
#include "ds_run.h"

/* What happened to one selected item in this cycle. */
enum { J_SKIP = 0, J_DUE, J_OK, J_FAILED, J_INTERRUPTED };

typedef struct job {
    ds_item *it;
    ds_item_state *st;
    ds_due_reason why;
    int64_t next;           /* when it is next due (ds_due) */
    int state;              /* J_* */
    int rc;                 /* ds_exec_item's result */
    ds_result res;
    char *err;              /* malloc'd */
    int64_t ready_ms;       /* monotonic time its result was known */
    int exclusive;          /* runs with no other query beside it (see ds_sched.c) */
    int claimed;            /* this runner holds its claim (ds_cache_claim said 1) */
} job;

/* An item (or file) that failed to compile under --specs. */
typedef struct cfail {
    char *name;             /* key, or the file's path when no key is known */
    char *msg;
} cfail;

typedef struct runner {
    const ds_run_opts *o;
    ds_diag *d;
    ds_lock *lock;
    ds_db *db;
    ds_writer *w;
    ds_plan plan;
    ds_item_state *st;      /* one per plan item */
    ds_exec **ex;           /* jobs of them, opened on first use */
    int jobs;
    int64_t busy_ms;
    cfail *cf;
    size_t ncf, cf_cap;     /* ds_vec */
    int reported_cf;        /* compile failures go into the first cycle only */
    int dbfail;             /* the database cannot be written: stop */
    int64_t mono0;          /* monotonic ms at the start */
    int can_confirm;        /* the writer's engine confirms refresh_key values */
    int claim_each;         /* claim each item as it is about to run (ds_cache_claims_each) */
    size_t nlost;           /* this cycle's items another runner claimed first */
} runner;

/* Counts of one cycle, from the summary. */
typedef struct tally {
    int64_t ok, failed, skipped, entries, metric_entries, chart_points;
    int64_t confirmed;      /* of ok: confirmed by an unchanged refresh_key, not recomputed */
} tally;

/* ds_run.c: monotonic milliseconds; 1 when a stop signal arrived; emits
 * text through the caller's callback (honouring quiet and progress). */
int64_t ds_run_mono_ms(void);
int ds_run_stopping(const runner *R);
void ds_run_emit(const runner *R, ds_run_out where, const char *text);
/* ds_sched.c: tells on_item (when set) about job j, the k-th of n due (0, 0
 * when skipped), at now. Main thread only. */
void ds_run_item_event(const runner *R, const job *j, size_t k, size_t n, int64_t now);

/* ds_sched.c: runs due[0..n) at now on R->ex[0] (serial) or on nthreads
 * workers (parallel), writing each result as it comes (main thread). */
void ds_run_serial(runner *R, job **due, size_t n, int64_t now);
void ds_run_parallel(runner *R, job **due, size_t n, int nthreads, int64_t now);

/* ds_summary.c: the run's summary object (docs/run.md) on one line (malloc'd), or
 * NULL on OOM; fills *t. Keys are in plan (key) order whatever order the
 * items finished in. */
char *ds_run_summary_json(const job *jobs, size_t n, const cfail *cf, size_t ncf, int64_t duration_ms, tally *t);

#endif

/*
 * ds_run.c — `dashspec run`: lock, plan, what is due, execute (in parallel),
 * write, summary, and --watch.
 *
 * The shape of a run:
 *
 *   ds_db_lock           the one-run-per-database flock, taken first
 *   ds_db_open (rw)      the writer's connection; it also rolls back a hot
 *                        journal a killed run left, before any reader looks
 *   ds_db_migrate, then ds_compile_db (--specs) or ds_plan_load
 *   ds_writer_new        write statements + the writer's authorizer
 *   cycle:  ds_state_load (two queries) -> ds_due per selected item ->
 *           execute the due ones on ds_exec read-only connections ->
 *           ds_cache_put / ds_cache_fail each result as soon as it is known ->
 *           summary JSON -> one dashspec_runs row
 *
 * Parallel runs (--jobs N > 1) use N worker threads, each with its own
 * read-only connection; only the main thread touches the writer. In a
 * rollback-journal database a COMMIT cannot finish while any connection holds
 * a read lock, including our own readers, and while the writer waits for
 * them it blocks new readers. So the threads share a gate: a worker holds it
 * (shared) while its query runs, and the main thread takes it (exclusive)
 * to write: at once when no query is running. A worker starts a query only
 * when, by the items' last durations, everything running ends within
 * PLAN_MS of the oldest result waiting (pick: longest first, short items fill
 * the gaps), so both workers stay busy and the writer still gets its turn.
 * When predictions fail, new queries stop FLUSH_MS after a result was ready,
 * and a query still running PREEMPT_MS after it is interrupted and queued
 * again to run alone (as are queries known to be very long), so no result
 * waits uncommitted for a second. In WAL mode readers never block a commit
 * and the gate is off.
 *
 * Signals (the CLI's handler sets o->stop): --watch finishes the items in
 * flight, writes them and returns DS_OK. A plain run stops at once: running
 * queries are interrupted and their items not recorded (neither success nor
 * failure), what was committed stays, and the summary and dashspec_runs row
 * cover what ran. Every value is its own transaction, so the database is
 * consistent whichever way a run ends, kill -9 included.
 */
#include <cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "ds_cache.h"
#include "ds_compiler.h"
#include "ds_run.h"

/* --watch looks for a plan replaced by `compile` this often. */
#define PLAN_CHECK_MS 2000
/* --watch starts cycles that run something at most this often. */
#define CYCLE_MIN_MS 1000

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
    int exclusive;          /* runs with no other query beside it (see run_parallel) */
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
    size_t ncf;
    int reported_cf;        /* compile failures go into the first cycle only */
    int dbfail;             /* the database cannot be written: stop */
    int64_t mono0;          /* monotonic ms at the start */
} runner;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int stopping(const runner *R)
{
    return R->o->stop && *R->o->stop;
}

/* The run's clock in milliseconds: --now advances in real time under --watch. */
static int64_t clock_ms(const runner *R)
{
    if (R->o->now_fixed || !R->o->watch) return R->o->now * 1000 + (R->o->watch ? mono_ms() - R->mono0 : 0);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void emit(const runner *R, ds_run_out where, const char *text)
{
    if (!R->o->emit) return;
    if (where == DS_RUN_STDOUT && R->o->quiet) return;
    if (where == DS_RUN_PROGRESS && !R->o->progress) return;
    R->o->emit(R->o->ctx, where, text);
}

/* ---------------------------------------------------------------- selection */

static int only_match(const ds_run_opts *o, const char *key)
{
    if (!o->nonly) return 1;
    for (size_t i = 0; i < o->nonly; i++)
        if (ds_glob_match(o->only[i], key)) return 1;
    return 0;
}

static int selected(const ds_run_opts *o, const ds_item *it)
{
    if (o->group && (!it->group || strcmp(o->group, it->group) != 0)) return 0;
    return only_match(o, it->key);
}

static int cmp_job(const void *a, const void *b)
{
    return strcmp(((const job *)a)->it->key, ((const job *)b)->it->key);
}

/* Longest last duration first; never run (unknown) counts as long. Ties by key. */
static int cmp_longest(const void *a, const void *b)
{
    const job *x = *(const job *const *)a, *y = *(const job *const *)b;
    int64_t dx = x->st->has_state && x->st->last_duration_ms >= 0 ? x->st->last_duration_ms : INT64_MAX;
    int64_t dy = y->st->has_state && y->st->last_duration_ms >= 0 ? y->st->last_duration_ms : INT64_MAX;
    if (dx != dy) return dx > dy ? -1 : 1;
    return strcmp(x->it->key, y->it->key);
}

/* ---------------------------------------------------------------- compile failures */

static int add_cfail(runner *R, const char *name, const char *msg)
{
    for (size_t i = 0; i < R->ncf; i++)
        if (strcmp(R->cf[i].name, name) == 0) return 0;   /* the first error wins */
    cfail *v = realloc(R->cf, (R->ncf + 1) * sizeof *v);
    if (!v) return -1;
    R->cf = v;
    v[R->ncf].name = ds_strdup(name);
    v[R->ncf].msg = ds_strdup(msg);
    if (!v[R->ncf].name || !v[R->ncf].msg) { free(v[R->ncf].name); free(v[R->ncf].msg); return -1; }
    R->ncf++;
    return 0;
}

static const ds_item *plan_find(const ds_plan *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->items[i].key && strcmp(p->items[i].key, key) == 0) return &p->items[i];
    return NULL;
}

/* Turns the compiler's errors into "failed" entries: under the item's key
 * when the item is known and will not run (filtered by the selection), under
 * the file's path otherwise. Then drops the bad items from the plan. */
static int collect_cfails(runner *R, const ds_diag *cd)
{
    for (size_t i = 0; i < cd->n; i++) {
        const ds_diag_entry *e = &cd->v[i];
        if (e->sev != DS_SEV_ERROR) continue;
        const ds_item *it = e->key ? plan_find(&R->plan, e->key) : NULL;
        if (e->key && (!it || it->bad)) {
            /* An item the selection leaves out is not reported; one whose
             * group is unknown cannot match --group. */
            if (it ? !selected(R->o, it) : (R->o->group != NULL || !only_match(R->o, e->key)))
                continue;
            if (add_cfail(R, e->key, e->msg)) return -1;
        } else if (e->file) {
            if (add_cfail(R, e->file, e->msg)) return -1;
        } else if (add_cfail(R, R->o->specs_dir, e->msg)) {
            /* Neither file nor key: the specs as a whole could not be read
             * (out of memory walking the directory); counted under its path
             * so the run does not look like an empty, successful one. */
            return -1;
        }
    }
    /* A bad item with no error naming it still failed. */
    for (size_t i = 0; i < R->plan.n; i++) {
        const ds_item *it = &R->plan.items[i];
        if (it->bad && it->key && selected(R->o, it) && add_cfail(R, it->key, "the item does not compile"))
            return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < R->plan.n; i++) {
        if (R->plan.items[i].bad) { ds_item_free(&R->plan.items[i]); continue; }
        R->plan.items[k++] = R->plan.items[i];
    }
    R->plan.n = k;
    return 0;
}

static void free_cfails(runner *R)
{
    for (size_t i = 0; i < R->ncf; i++) { free(R->cf[i].name); free(R->cf[i].msg); }
    free(R->cf);
    R->cf = NULL;
    R->ncf = 0;
}

/* ---------------------------------------------------------------- connections */

static int open_execs(runner *R, int n)
{
    for (int i = 0; i < n; i++) {
        if (R->ex[i]) continue;
        if (!(R->ex[i] = ds_exec_new(ds_db_path(R->db), R->d))) return -1;
        ds_exec_busy_timeout(R->ex[i], R->busy_ms);
    }
    return 0;
}

/* ---------------------------------------------------------------- writing */

/* Records one job's outcome (main thread only). */
static void write_job(runner *R, job *j, int64_t now)
{
    int64_t wait = R->busy_ms - (mono_ms() - j->ready_ms);
    if (wait < 0) wait = 0;
    char *werr = NULL;
    if (j->rc == 0) {
        int r = ds_cache_put(R->w, j->it, &j->res, now, wait, &werr, R->d);
        free(j->res.json);          /* only the entries are needed from here on */
        j->res.json = NULL;
        if (r == DS_W_OK) { j->state = J_OK; return; }
        j->state = J_FAILED;
        if (r == DS_W_DB) { R->dbfail = 1; j->err = ds_strdup("cannot write the database"); return; }
        if (r == DS_W_BUSY) {
            /* Say how long was waited: the --busy-timeout, not SQLite's default. */
            char b[32];
            if (R->busy_ms > 0 && R->busy_ms % 1000 == 0) ds_duration_format(R->busy_ms / 1000, b, sizeof b);
            else snprintf(b, sizeof b, "%lldms", (long long)R->busy_ms);
            j->err = ds_asprintf("%s (waited %s)", werr ? werr : "database is locked", b);
            free(werr);
        } else {
            j->err = werr ? werr : ds_strdup("cannot write the value");
        }
        werr = NULL;
        /* A row that cannot be written is a failure worth backing off from;
         * a lock is not (and writing the failure would wait on it again). */
        if (r == DS_W_ITEM &&
            ds_cache_fail_timed(R->w, j->it, j->st->failures, j->err, j->res.duration_ms, now, wait, &werr, R->d) == DS_W_DB)
            R->dbfail = 1;
    } else if (stopping(R) && !R->o->watch && j->err && strcmp(j->err, "interrupted") == 0) {
        j->state = J_INTERRUPTED;
        return;
    } else {
        j->state = J_FAILED;
        if (ds_cache_fail_timed(R->w, j->it, j->st->failures, j->err, j->res.duration_ms, now, wait, &werr, R->d) == DS_W_DB)
            R->dbfail = 1;
    }
    free(werr);
    if (!R->dbfail) ds_error(R->d, NULL, 0, 0, j->it->key, "%s", j->err ? j->err : "failed");
}

/* A failed query that a plain run's signal interrupted: not recorded. */
static int interrupted(const runner *R, const job *j)
{
    return j->rc != 0 && stopping(R) && !R->o->watch && j->err && strcmp(j->err, "interrupted") == 0;
}

/* Writes v[0..n) (results that are ready together) in one transaction: one
 * commit instead of n, and with a rollback journal the commit's fsyncs are
 * most of a write's cost. Returns 1 when they were committed, their outcome
 * recorded as write_job would; 0 when anything went wrong, with nothing
 * written: the caller then writes them one by one, which reports each
 * item's own error. Main thread only. */
static int write_batch(runner *R, job **v, size_t n, int64_t now)
{
    int64_t wait = R->busy_ms - (mono_ms() - v[n - 1]->ready_ms);
    if (ds_cache_batch_begin(R->w, wait < 0 ? 0 : wait) != DS_W_OK) return 0;
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) {
        job *j = v[i];
        char *werr = NULL;
        if (j->rc == 0)
            ok = ds_cache_put(R->w, j->it, &j->res, now, 0, &werr, R->d) == DS_W_OK;
        else if (interrupted(R, j))
            j->state = J_INTERRUPTED;   /* decided once: the flag may change meanwhile */
        else
            ok = ds_cache_fail_timed(R->w, j->it, j->st->failures, j->err, j->res.duration_ms, now, 0,
                                     &werr, R->d) == DS_W_OK;
        free(werr);
    }
    if (!ok) {
        ds_cache_batch_abort(R->w);
        return 0;
    }
    if (ds_cache_batch_commit(R->w) != DS_W_OK) return 0;
    for (size_t i = 0; i < n; i++) {
        job *j = v[i];
        if (j->rc == 0) {
            free(j->res.json);
            j->res.json = NULL;
            j->state = J_OK;
        } else if (j->state != J_INTERRUPTED) {
            j->state = J_FAILED;
            ds_error(R->d, NULL, 0, 0, j->it->key, "%s", j->err ? j->err : "failed");
        }
    }
    return 1;
}

static void progress_note(const runner *R, size_t k, size_t n, const job *j)
{
    if (!R->o->progress) return;
    char *s = ds_asprintf("%zu/%zu %s", k, n, j->it->key);
    if (s) emit(R, DS_RUN_PROGRESS, s);
    free(s);
}

/* ---------------------------------------------------------------- serial */

static void run_serial(runner *R, job **due, size_t n, int64_t now)
{
    ds_exec *x = R->ex[0];
    ds_exec_cancel_on(x, R->o->watch ? NULL : R->o->stop, NULL);
    for (size_t i = 0; i < n && !R->dbfail && !stopping(R); i++) {
        job *j = due[i];
        j->rc = ds_exec_item(x, j->it, now, &j->res, &j->err);
        j->ready_ms = mono_ms();
        write_job(R, j, now);
        progress_note(R, i + 1, n, j);
    }
    ds_exec_cancel_on(x, NULL, NULL);
}

/* ---------------------------------------------------------------- parallel */

typedef struct worker worker;

typedef struct pool {
    runner *R;
    pthread_mutex_t m;          /* guards everything below but q's jobs while they run */
    pthread_cond_t c_main;      /* for the main thread: a result, a worker's end, a query's end */
    pthread_cond_t c_gate;      /* for the gate's waiters: it changed */
    worker *wk;
    int nwk;
    job **q;                    /* jobs to run, in order; room for each to come back once */
    size_t nq, next;
    job **done;                 /* finished jobs in completion order */
    size_t ndone, taken;        /* ... and how many the main thread has taken */
    size_t npend;               /* taken, not yet written */
    int64_t pend_ready;         /* ready_ms of the oldest of those (when npend) */
    size_t pend_bytes;          /* bytes of the values done and not yet written */
    int gated;                  /* rollback journal: readers and the writer take turns */
    int readers;                /* queries running (gated only) */
    int writer_wants, writing;  /* the main thread waits to write / writes */
    int excl_wants, excl;       /* a long query waits to run alone / runs alone */
    int halt;                   /* start nothing more */
    int exited;                 /* workers that ended */
    int64_t now;
} pool;

struct worker {
    pool *P;
    ds_exec *x;
    pthread_t t;
    atomic_int stop;            /* interrupts this worker's query (ds_exec_cancel_on) */
    job *running;               /* under P->m */
    int64_t end_ms;             /* under P->m: when the running query should end */
    int preempted;              /* under P->m: stopped to let a result commit */
};

/* Gated dispatch (pick): a query starts only when, by the items' last
 * durations, every query running beside it ends within PLAN_MS of the oldest
 * result that will wait for them; shorter items fill the gaps. */
#define PLAN_MS 600
/* The guess for an item never run (it sorts first, as the longest). */
#define UNKNOWN_MS 100
/* A result waits at most this long for readers to pause before the writer
 * stops new queries to commit it (gated only): predictions were off. */
#define FLUSH_MS 700
/* ... and this long before queries still running are interrupted and queued
 * again, to run alone: so no result waits uncommitted for a second. */
#define PREEMPT_MS 800
/* A query that took this long last time runs alone from the start (gated):
 * a misprediction beside it would throw away too much work. */
#define LONG_MS 2000
/* Values waiting to be written hold at most about this much memory (gated). */
#define PEND_BYTES ((size_t)1 << 20)

static int64_t predict_ms(const job *j)
{
    return j->st->has_state && j->st->last_duration_ms >= 0 ? j->st->last_duration_ms : UNKNOWN_MS;
}

/* Gated only, with P->m held: takes from the queue (longest first) the first
 * job that may start now, or returns NULL (wait for the gate to change).
 * Starting j must keep max(end) - min(ready) <= PLAN_MS over the results
 * waiting to be written and the queries running (at their predicted ends; a
 * query past its prediction ends "now"), so the writer can commit them all
 * soon after the last ends. An exclusive job starts only when nothing runs
 * and nothing waits. */
static job *pick(pool *P)
{
    /* Values wait in memory: past PEND_BYTES the writer goes first. */
    int waiting = P->ndone > P->taken || P->npend > 0;
    if (waiting && P->pend_bytes >= PEND_BYTES) return NULL;
    int64_t t = mono_ms(), lo = INT64_MAX, hi = INT64_MIN;
    if (P->ndone > P->taken) lo = P->done[P->taken]->ready_ms;
    if (P->npend && P->pend_ready < lo) lo = P->pend_ready;
    for (int i = 0; i < P->nwk; i++) {
        if (!P->wk[i].running) continue;
        int64_t e = P->wk[i].end_ms > t ? P->wk[i].end_ms : t;
        if (e < lo) lo = e;
        if (e > hi) hi = e;
    }
    for (size_t k = P->next; k < P->nq; k++) {
        job *j = P->q[k];
        int ok;
        if (j->exclusive) {
            ok = P->readers == 0 && !waiting;
        } else {
            int64_t e = t + predict_ms(j);
            ok = (e > hi ? e : hi) - (e < lo ? e : lo) <= PLAN_MS;
        }
        if (!ok) continue;
        memmove(&P->q[P->next + 1], &P->q[P->next], (k - P->next) * sizeof *P->q);
        P->q[P->next++] = j;
        return j;
    }
    return NULL;
}

static void *work(void *arg)
{
    worker *wk = arg;
    pool *P = wk->P;
    pthread_mutex_lock(&P->m);
    for (;;) {
        if (P->halt) break;
        if (P->next >= P->nq) {
            /* A running query may be interrupted and come back: wait for it. */
            if (P->gated && P->readers > 0) { pthread_cond_wait(&P->c_gate, &P->m); continue; }
            break;
        }
        if (P->gated && (P->writer_wants || P->writing || P->excl || P->excl_wants)) {
            pthread_cond_wait(&P->c_gate, &P->m);
            continue;
        }
        job *j = P->gated ? pick(P) : P->q[P->next++];
        if (!j) {
            pthread_cond_wait(&P->c_gate, &P->m);
            continue;
        }
        if (P->gated && j->exclusive) {
            /* Alone: no other query, and every result written first (none
             * may wait for this one). */
            P->excl_wants = 1;
            pthread_cond_signal(&P->c_main);
            while (!P->halt && (P->readers > 0 || P->writer_wants || P->writing ||
                                P->ndone > P->taken || P->npend > 0))
                pthread_cond_wait(&P->c_gate, &P->m);
            P->excl_wants = 0;
            pthread_cond_broadcast(&P->c_gate);
            if (P->halt) break;         /* not run: counted as skipped */
            P->excl = 1;
        }
        if (P->gated) P->readers++;
        wk->running = j;
        wk->end_ms = mono_ms() + predict_ms(j);
        wk->preempted = 0;
        atomic_store(&wk->stop, 0);
        pthread_mutex_unlock(&P->m);
        int rc = ds_exec_item(wk->x, j->it, P->now, &j->res, &j->err);
        pthread_mutex_lock(&P->m);
        wk->running = NULL;
        if (P->gated) {
            P->readers--;
            if (j->exclusive) P->excl = 0;
            pthread_cond_broadcast(&P->c_gate);
        }
        pthread_cond_signal(&P->c_main);
        if (wk->preempted) {
            /* Stopped so that finished results could commit: if it did not
             * finish anyway, it runs again later, alone. */
            wk->preempted = 0;
            atomic_store(&wk->stop, 0);
            if (rc != 0) {
                free(j->err);
                j->err = NULL;
                ds_result_free(&j->res);
                j->exclusive = 1;
                if (!P->halt) P->q[P->nq++] = j;
                continue;
            }
        }
        j->rc = rc;
        j->ready_ms = mono_ms();
        P->done[P->ndone++] = j;
        P->pend_bytes += j->res.len;
    }
    P->exited++;
    pthread_cond_signal(&P->c_main);
    pthread_cond_broadcast(&P->c_gate);
    pthread_mutex_unlock(&P->m);
    return NULL;
}

static void deadline_in(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) { ts->tv_sec++; ts->tv_nsec -= 1000000000; }
}

/* A signal or a database error stops dispatch; a plain run (or a database
 * error) also interrupts the running queries. Called with P->m held. */
static void check_stop(pool *P)
{
    if (P->halt || !(stopping(P->R) || P->R->dbfail)) return;
    P->halt = 1;
    if (!P->R->o->watch || P->R->dbfail)
        for (int i = 0; i < P->nwk; i++) atomic_store(&P->wk[i].stop, 1);
    pthread_cond_broadcast(&P->c_gate);
}

/* Interrupts the queries that keep an old result from committing; they run
 * again alone. Called with P->m held. */
static void preempt(pool *P)
{
    for (int i = 0; i < P->nwk; i++) {
        worker *w = &P->wk[i];
        if (w->running && !w->running->exclusive && !w->preempted) {
            w->preempted = 1;
            atomic_store(&w->stop, 1);
        }
    }
}

/* Runs due[0..n) on nthreads workers. Results are written by this (the
 * main) thread as they come. */
static void run_parallel(runner *R, job **due, size_t n, int nthreads, int64_t now)
{
    pool P;
    memset(&P, 0, sizeof P);
    P.R = R;
    P.now = now;
    P.gated = !ds_writer_wal(R->w);
    P.wk = calloc((size_t)nthreads, sizeof *P.wk);
    P.q = calloc(2 * n, sizeof *P.q);
    P.done = calloc(n, sizeof *P.done);
    job **pend = calloc(n, sizeof *pend);
    if (!P.wk || !P.q || !P.done || !pend) {
        free(P.wk); free(P.q); free(P.done); free(pend);
        ds_fail(R->d, DS_DBERROR, "out of memory");
        R->dbfail = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        job *j = due[i];
        j->exclusive = P.gated && j->st->has_state && j->st->last_duration_ms >= LONG_MS;
        P.q[P.nq++] = j;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&P.m, NULL);
    pthread_cond_init(&P.c_main, &ca);
    pthread_cond_init(&P.c_gate, &ca);
    pthread_condattr_destroy(&ca);

    /* Workers block the signals, so SIGINT/SIGTERM reach the main thread. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int started = 0;
    pthread_mutex_lock(&P.m);
    for (int i = 0; i < nthreads; i++) {
        worker *w = &P.wk[i];
        w->P = &P;
        w->x = R->ex[i];
        atomic_init(&w->stop, 0);
        ds_exec_cancel_on(w->x, NULL, &w->stop);
        P.nwk = i + 1;
        if (pthread_create(&w->t, NULL, work, w) != 0) { P.nwk = i; break; }
        started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (started == 0) {
        P.halt = 1;
        ds_fail(R->d, DS_DBERROR, "cannot start worker threads: %s", strerror(errno));
        R->dbfail = 1;
    }

    size_t npend = 0, written = 0, pbytes = 0;
    for (;;) {
        int finished;
        /* Take the new results; wait until they can be written, or more come. */
        for (;;) {
            check_stop(&P);
            while (P.taken < P.ndone) {
                pbytes += P.done[P.taken]->res.len;
                pend[npend++] = P.done[P.taken++];
            }
            P.npend = npend;
            if (npend) P.pend_ready = pend[0]->ready_ms;
            finished = P.exited == started;
            if (finished || (npend && (!P.gated || P.readers == 0 || P.halt))) break;
            int64_t wait = 100;
            if (npend) {
                int64_t left = pend[0]->ready_ms + FLUSH_MS - mono_ms();
                if (left <= 0) break;
                if (left < wait) wait = left;
            }
            struct timespec ts;
            deadline_in(&ts, wait);
            pthread_cond_timedwait(&P.c_main, &P.m, &ts);
        }
        if (!npend) {
            if (finished) break;
            continue;
        }
        if (P.gated) {
            /* Stop new queries; wait for the running ones (interrupting them
             * when the oldest result has waited too long). */
            P.writer_wants = 1;
            while (P.readers > 0) {
                check_stop(&P);
                if (mono_ms() - pend[0]->ready_ms >= PREEMPT_MS) preempt(&P);
                struct timespec ts;
                deadline_in(&ts, 50);
                pthread_cond_timedwait(&P.c_gate, &P.m, &ts);
            }
            P.writer_wants = 0;
            P.writing = 1;
        }
        pthread_mutex_unlock(&P.m);
        if (!R->dbfail && npend > 1 && write_batch(R, pend, npend, now)) {
            for (size_t i = 0; i < npend; i++) progress_note(R, ++written, n, pend[i]);
            npend = 0;
        }
        for (size_t i = 0; i < npend; i++) {
            if (R->dbfail) {
                /* Computed but not written: counted as not run. */
                ds_result_free(&pend[i]->res);
                pend[i]->state = J_DUE;
                continue;
            }
            write_job(R, pend[i], now);
            progress_note(R, ++written, n, pend[i]);
        }
        npend = 0;
        pthread_mutex_lock(&P.m);
        P.npend = 0;
        P.pend_bytes -= pbytes;
        pbytes = 0;
        if (P.gated) {
            P.writing = 0;
            pthread_cond_broadcast(&P.c_gate);
        }
    }
    pthread_mutex_unlock(&P.m);
    for (int i = 0; i < started; i++) pthread_join(P.wk[i].t, NULL);
    for (int i = 0; i < nthreads; i++) ds_exec_cancel_on(R->ex[i], NULL, NULL);
    pthread_mutex_destroy(&P.m);
    pthread_cond_destroy(&P.c_main);
    pthread_cond_destroy(&P.c_gate);
    free(P.wk);
    free(P.q);
    free(P.done);
    free(pend);
}

/* ---------------------------------------------------------------- summary */

/* s with invalid UTF-8 replaced by U+FFFD (malloc'd): cJSON copies bytes as
 * they are, and a file path may be anything. */
static char *utf8_clean(const char *s)
{
    ds_buf b;
    ds_buf_init(&b);
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t n = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3
                 : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
        size_t ok = n ? 1 : 0;
        for (size_t k = 1; k < n; k++) {
            unsigned lo = 0x80, hi = 0xBF;
            if (k == 1) {
                if (c == 0xE0) lo = 0xA0;
                else if (c == 0xED) hi = 0x9F;
                else if (c == 0xF0) lo = 0x90;
                else if (c == 0xF4) hi = 0x8F;
            }
            if (p[k] < lo || p[k] > hi) break;
            ok++;
        }
        if (n && ok == n) ds_buf_add(&b, p, n);
        else ds_buf_adds(&b, "\xEF\xBF\xBD");
        p += n && ok ? ok : 1;
    }
    if (!b.p && !b.oom) ds_buf_adds(&b, "");
    return ds_buf_steal(&b);
}

static cJSON *raw_int(int64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "%" PRId64, v);
    return cJSON_CreateRaw(b);
}

/* Adds a child; on OOM the child is freed and -1 returned. */
static int add(cJSON *obj, const char *key, cJSON *child)
{
    if (!child) return -1;
    char *k = utf8_clean(key);
    if (!k || !cJSON_AddItemToObject(obj, k, child)) { free(k); cJSON_Delete(child); return -1; }
    free(k);
    return 0;
}

static int add_string(cJSON *obj, const char *key, const char *s)
{
    ds_buf b;
    ds_buf_init(&b);
    ds_json_string(&b, s, strlen(s));
    char *t = ds_buf_steal(&b);
    if (!t) return -1;
    int r = add(obj, key, cJSON_CreateRaw(t));
    free(t);
    return r;
}

typedef struct tally {
    int64_t ok, failed, skipped, entries, metric_entries, chart_points;
} tally;

static int cmp_cfail(const void *a, const void *b)
{
    return strcmp(((const cfail *)a)->name, ((const cfail *)b)->name);
}

/* The contract's summary object on one line (malloc'd), or NULL on OOM. Keys
 * are in plan (key) order whatever order the items finished in. Every child
 * is attached to its parent as it is made, so only the root is ever freed. */
static char *summary_json(const job *jobs, size_t n, const cfail *cf, size_t ncf, int64_t duration_ms, tally *t)
{
    memset(t, 0, sizeof *t);
    char *out = NULL;
    cJSON *root = NULL;
    cfail *fl = calloc(n + ncf + 1, sizeof *fl);
    size_t nfl = 0;
    if (!fl) return NULL;
    for (size_t i = 0; i < n; i++) {
        const job *j = &jobs[i];
        if (j->state == J_OK) {
            t->ok++;
            t->entries += j->res.entries;
            if (j->it->kind == DS_KIND_CHART) t->chart_points += j->res.entries;
            else t->metric_entries += j->res.entries;
        } else if (j->state == J_FAILED) {
            fl[nfl].name = j->it->key;
            fl[nfl++].msg = j->err ? j->err : "failed";
        } else {
            t->skipped++;
        }
    }
    for (size_t i = 0; i < ncf; i++) fl[nfl++] = cf[i];
    qsort(fl, nfl, sizeof *fl, cmp_cfail);
    t->failed = (int64_t)nfl;

    char head[96];
    snprintf(head, sizeof head, "Pre-computed %" PRId64 " cache entries in %" PRId64 "ms", t->entries, duration_ms);
    cJSON *det, *mc, *cc, *fo, *met;
    if (!(root = cJSON_CreateObject()) || add(root, "summary", cJSON_CreateString(head)) ||
        !(det = cJSON_AddObjectToObject(root, "details")) ||
        !(mc = cJSON_AddObjectToObject(det, "metrics_cached")) ||
        !(cc = cJSON_AddObjectToObject(det, "charts_cached")) ||
        add(det, "skipped", raw_int(t->skipped)) ||
        !(fo = cJSON_AddObjectToObject(det, "failed")) ||
        add(det, "duration_ms", raw_int(duration_ms)) ||
        !(met = cJSON_AddObjectToObject(root, "metrics")) ||
        add(met, "entries_cached", raw_int(t->entries)) ||
        add(met, "metrics_entries", raw_int(t->metric_entries)) ||
        add(met, "chart_points", raw_int(t->chart_points)) ||
        add(met, "items_run", raw_int(t->ok + t->failed)))
        goto out;
    for (size_t i = 0; i < n; i++) {
        const job *j = &jobs[i];
        if (j->state == J_OK && add(j->it->kind == DS_KIND_CHART ? cc : mc, j->it->key, raw_int(j->res.entries)))
            goto out;
    }
    for (size_t i = 0; i < nfl; i++)
        if (add_string(fo, fl[i].name, fl[i].msg)) goto out;
    out = cJSON_PrintUnformatted(root);
out:
    free(fl);
    cJSON_Delete(root);
    return out;
}

/* ---------------------------------------------------------------- one cycle */

/* Flushes the diagnostics gathered so far through emit (used by --watch,
 * which would otherwise hold them until it exits). */
static void flush_diag(runner *R)
{
    if (!R->o->emit || R->d->n == 0) return;
    char *s = ds_diag_render(R->d, DS_FMT_TEXT);
    if (s) R->o->emit(R->o->ctx, DS_RUN_STDERR, s);
    free(s);
    ds_status st = R->d->status;
    ds_diag_free(R->d);
    ds_diag_init(R->d);
    R->d->status = st;
}

static void dry_run_lines(runner *R, job *jobs, size_t n, int64_t now)
{
    int w = 8;
    for (size_t i = 0; i < n; i++) if ((int)strlen(jobs[i].it->key) > w) w = (int)strlen(jobs[i].it->key);
    for (size_t i = 0; i < R->ncf; i++) if ((int)strlen(R->cf[i].name) > w) w = (int)strlen(R->cf[i].name);
    ds_buf b;
    ds_buf_init(&b);
    for (size_t i = 0; i < n; i++) {
        char why[128];
        job *j = &jobs[i];
        ds_due_explain(j->it, j->st, now, j->why, j->next, why, sizeof why);
        int due = j->why != DS_DUE_NOT && j->why != DS_DUE_BACKOFF;
        ds_buf_printf(&b, "%-*s  %-7s  %s\n", w, j->it->key, due ? "due" : "not due", why);
    }
    for (size_t i = 0; i < R->ncf; i++)
        ds_buf_printf(&b, "%-*s  %-7s  does not compile\n", w, R->cf[i].name, "failed");
    if (b.p && !b.oom) emit(R, DS_RUN_STDOUT, b.p);
    ds_buf_free(&b);
}

/* Runs one cycle at time now. *ran: something was attempted (or failed to
 * compile), so a summary was printed and a dashspec_runs row written. *next:
 * the earliest time a selected item falls due (INT64_MAX when none). In a
 * --watch cycle with nothing due, nothing is printed or written. Returns 0
 * (nothing failed), 1 (some item failed), -1 when the database cannot be
 * written (stop), -2 when it could not be read this time (--watch tries
 * again later). Errors are in R->d. */
static int cycle(runner *R, int64_t now, int64_t t0_ms, int *ran, int64_t *next)
{
    const ds_run_opts *o = R->o;
    job *jobs = NULL;
    job **due = NULL;
    size_t n = 0, ndue = 0;
    int rc = -2;
    char *sum = NULL;
    *ran = 0;
    *next = INT64_MAX;
    if (R->plan.n && !(R->st = calloc(R->plan.n, sizeof *R->st))) { ds_fail(R->d, DS_DBERROR, "out of memory"); goto out; }
    if (ds_state_load(R->db, &R->plan, R->st, R->d)) goto out;
    if (R->plan.n && !(jobs = calloc(R->plan.n, sizeof *jobs))) { ds_fail(R->d, DS_DBERROR, "out of memory"); goto out; }
    for (size_t i = 0; i < R->plan.n; i++) {
        if (!selected(o, &R->plan.items[i])) continue;
        job *j = &jobs[n++];
        j->it = &R->plan.items[i];
        j->st = &R->st[i];
    }
    for (size_t i = 1; i < n; i++)
        if (cmp_job(&jobs[i - 1], &jobs[i]) > 0) { qsort(jobs, n, sizeof *jobs, cmp_job); break; }
    if (n && !(due = calloc(n, sizeof *due))) { ds_fail(R->d, DS_DBERROR, "out of memory"); goto out; }
    for (size_t i = 0; i < n; i++) {
        job *j = &jobs[i];
        j->why = ds_due(j->it, j->st, now, o->force, &j->next);
        if (j->why != DS_DUE_NOT && j->why != DS_DUE_BACKOFF) {
            j->state = J_DUE;
            due[ndue++] = j;
        } else if (j->next < *next) {
            *next = j->next;
        }
    }
    size_t ncf = R->reported_cf ? 0 : R->ncf;
    if (o->dry_run) {
        dry_run_lines(R, jobs, n, now);
        rc = 0;
        goto out;
    }
    if (o->watch && ndue == 0 && ncf == 0) { rc = 0; goto out; }
    *ran = 1;
    R->reported_cf = 1;

    if (ndue) {
        int nthreads = R->jobs < (int)ndue ? R->jobs : (int)ndue;
        if (open_execs(R, nthreads)) goto out;
        /* Even --jobs 1 runs through the pool (one worker thread) when
         * there is more than one item: the main thread then commits results
         * ready together in one transaction (with a rollback journal, while
         * the worker waits; in WAL mode, while it runs the next query). */
        if (ndue == 1) {
            run_serial(R, due, ndue, now);
        } else {
            /* Longest first (by the last run's duration) keeps the workers
             * busy to the end; results do not depend on the order. */
            qsort(due, ndue, sizeof *due, cmp_longest);
            run_parallel(R, due, ndue, nthreads, now);
        }
        if (o->progress) emit(R, DS_RUN_PROGRESS, "");
    }
    if (R->dbfail) goto out;

    int64_t dur = mono_ms() - t0_ms;
    tally t;
    if (!(sum = summary_json(jobs, n, R->cf, ncf, dur, &t))) { ds_fail(R->d, DS_DBERROR, "out of memory"); goto out; }
    ds_run_record rec = {
        .started_at = now, .finished_at = now + dur / 1000,
        .status = t.failed == 0 ? "ok" : t.ok > 0 ? "partial" : "failed",
        .items_run = t.ok + t.failed, .items_ok = t.ok, .items_failed = t.failed,
        .skipped = t.skipped, .entries = t.entries, .duration_ms = dur, .summary = sum,
    };
    char *werr = NULL;
    int r = ds_cache_record_run(R->w, &rec, R->busy_ms, &werr, R->d);
    if (r == DS_W_DB) { R->dbfail = 1; goto out; }
    if (r != DS_W_OK) ds_warning(R->d, NULL, 0, 0, NULL, "the run was not recorded in dashspec_runs: %s", werr);
    free(werr);
    ds_buf b;
    ds_buf_init(&b);
    ds_buf_adds(&b, sum);
    ds_buf_addc(&b, '\n');
    if (b.p && !b.oom) emit(R, DS_RUN_STDOUT, b.p);
    ds_buf_free(&b);
    rc = t.failed ? 1 : 0;
out:
    free(sum);
    for (size_t i = 0; i < n; i++) {
        ds_result_free(&jobs[i].res);
        free(jobs[i].err);
    }
    free(jobs);
    free(due);
    if (R->st) for (size_t i = 0; i < R->plan.n; i++) ds_item_state_clear(&R->st[i]);
    free(R->st);
    R->st = NULL;
    return R->dbfail ? -1 : rc;
}

/* ---------------------------------------------------------------- watch */

/* Sleeps up to ms, waking early on a signal. */
static void nap(int64_t ms)
{
    if (ms <= 0) return;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);   /* EINTR: a signal; the caller looks at the flag */
}

/* Reloads the plan when `compile` replaced it: another connection committed
 * (data_version moved) and the plan's rows differ. A failed look is tried
 * again at the next check; the old plan stays meanwhile. */
static void maybe_reload(runner *R, int64_t *dv, uint64_t *fp)
{
    int64_t v;
    uint64_t f;
    if (ds_cache_data_version(R->w, &v) || v == *dv) return;
    if (ds_cache_plan_fingerprint(R->w, &f)) return;
    if (f != *fp) {
        ds_plan np;
        if (ds_plan_load(R->db, &np, R->d)) return;
        ds_plan_free(&R->plan);
        R->plan = np;
        *fp = f;
    }
    *dv = v;
}

static int watch(runner *R)
{
    int64_t dv = 0;
    uint64_t fp = 0;
    ds_cache_data_version(R->w, &dv);
    ds_cache_plan_fingerprint(R->w, &fp);
    int64_t last_ran = INT64_MIN / 2, last_check = mono_ms();
    for (;;) {
        if (stopping(R)) return 0;
        if (mono_ms() - last_check >= PLAN_CHECK_MS) {
            last_check = mono_ms();
            maybe_reload(R, &dv, &fp);
        }
        int64_t cm = clock_ms(R), now = cm / 1000, next, t0 = mono_ms();
        int ran = 0;
        int64_t wake;
        if (t0 - last_ran >= CYCLE_MIN_MS) {
            int c = cycle(R, now, t0, &ran, &next);
            flush_diag(R);
            if (c == -1) return -1;
            if (c == -2) {
                /* The database could not be read (locked for long, say):
                 * the error was printed; try again later. */
                last_ran = t0;
                wake = PLAN_CHECK_MS;
            } else if (ran) {
                last_ran = t0;
                continue;                       /* look again with the new state */
            } else {
                wake = next - now > PLAN_CHECK_MS ? PLAN_CHECK_MS : next * 1000 - clock_ms(R);
            }
        } else {
            wake = last_ran + CYCLE_MIN_MS - t0;
        }
        int64_t to_check = last_check + PLAN_CHECK_MS - mono_ms();
        if (wake > to_check) wake = to_check;
        if (wake < 10) wake = 10;
        int64_t until = mono_ms() + wake;
        while (!stopping(R) && mono_ms() < until) nap(until - mono_ms() < 500 ? until - mono_ms() : 500);
    }
}

/* ---------------------------------------------------------------- ds_run */

/* Copies the compiler's diagnostics into d (they are printed with the rest). */
static void copy_diag(ds_diag *d, const ds_diag *cd)
{
    for (size_t i = 0; i < cd->n; i++) {
        const ds_diag_entry *e = &cd->v[i];
        if (e->sev == DS_SEV_ERROR) ds_error(d, e->file, e->line, e->col, e->key, "%s", e->msg);
        else ds_warning(d, e->file, e->line, e->col, e->key, "%s", e->msg);
    }
}

static int default_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 8 ? 8 : (int)n;
}

ds_status ds_run(const ds_run_opts *o, ds_diag *d)
{
    runner R;
    memset(&R, 0, sizeof R);
    R.o = o;
    R.d = d;
    R.mono0 = mono_ms();
    R.busy_ms = o->busy_ms < 0 ? DS_BUSY_TIMEOUT_MS : o->busy_ms;
    R.jobs = o->jobs > 0 ? o->jobs : default_jobs();
    ds_plan_init(&R.plan);
    ds_status st = DS_OK;
    int rc = 0;

    if (!o->db_path || !*o->db_path) {
        ds_fail(d, DS_USAGE, "no database given (use --db FILE or set DASHSPEC_DB)");
        return DS_USAGE;
    }
    ds_exec_configure(o->db_path);
    /* The lock first: a second run must not even migrate. A dry run writes
     * nothing and takes no lock. */
    if (!o->dry_run && ds_db_lock(o->db_path, &R.lock, d) < 0) return d->status;
    /* --busy-timeout bounds the wait of the open's first read too (an
     * exclusive lock held by another writer). */
    ds_db_default_busy_timeout(o->db_path, R.busy_ms);
    if (ds_db_open(o->db_path, o->dry_run ? DS_DB_READONLY : DS_DB_READWRITE, &R.db, d)) goto out;
    ds_db_busy_timeout(R.db, R.busy_ms);
    if (!o->dry_run && ds_db_migrate(R.db, d)) goto out;

    if (o->specs_dir) {
        ds_diag cd;
        ds_diag_init(&cd);
        int stored = 0;
        ds_status cs = ds_compile_db(R.db, o->specs_dir, !o->dry_run, &R.plan, &stored, &cd);
        copy_diag(d, &cd);
        int bad = cs == DS_DBERROR || cs == DS_USAGE || cs == DS_LOCKED;
        if (bad) {
            if (d->status == DS_OK || d->status == DS_FAILED) d->status = cs;
        } else if (collect_cfails(&R, &cd)) {
            ds_fail(d, DS_DBERROR, "out of memory");
            bad = 1;
        }
        ds_diag_free(&cd);
        if (bad) { st = cs == DS_OK ? DS_DBERROR : cs; goto done; }
    } else if (ds_plan_load(R.db, &R.plan, d)) {
        goto out;
    }
    if (R.plan.n == 0 && R.ncf == 0) {
        if (o->specs_dir)
            ds_warning(d, NULL, 0, 0, NULL, "'%s' holds no items: nothing to run", o->specs_dir);
        else
            ds_warning(d, NULL, 0, 0, NULL, "the plan in '%s' is empty: nothing to run (compile specs first: "
                       "dashspec compile --db FILE --specs DIR, or pass --specs DIR)", o->db_path);
    }
    if (o->nonly || o->group) {
        for (size_t k = 0; k < o->nonly; k++) {
            int hit = 0;
            for (size_t i = 0; i < R.plan.n && !hit; i++) hit = ds_glob_match(o->only[k], R.plan.items[i].key);
            for (size_t i = 0; i < R.ncf && !hit; i++) hit = ds_glob_match(o->only[k], R.cf[i].name);
            if (!hit) ds_warning(d, NULL, 0, 0, NULL, "--only '%s' matches no item of the plan", o->only[k]);
        }
        int any = 0;
        for (size_t i = 0; i < R.plan.n && !any; i++) any = o->group && selected(o, &R.plan.items[i]);
        if (o->group && !any && R.plan.n)
            ds_warning(d, NULL, 0, 0, NULL, "--group '%s' selects no item of the plan", o->group);
    }
    if (!o->dry_run && !(R.w = ds_writer_new(R.db, d))) goto out;
    if (!o->dry_run) {
        if (!(R.ex = calloc((size_t)R.jobs, sizeof *R.ex))) { ds_fail(d, DS_DBERROR, "out of memory"); goto out; }
    }

    if (o->watch && !o->dry_run) {
        rc = watch(&R);
        st = rc < 0 ? (d->status != DS_OK ? d->status : DS_DBERROR) : DS_OK;
    } else {
        int ran;
        int64_t next;
        rc = cycle(&R, o->now, R.mono0, &ran, &next);
        st = rc < 0 ? (d->status != DS_OK ? d->status : DS_DBERROR) : rc > 0 ? DS_FAILED : DS_OK;
    }
    goto done;
out:
    st = d->status != DS_OK ? d->status : DS_DBERROR;
done:
    if (R.ex) for (int i = 0; i < R.jobs; i++) ds_exec_free(R.ex[i]);
    free(R.ex);
    ds_writer_free(R.w);
    ds_plan_free(&R.plan);
    free_cfails(&R);
    /* Every SQLite connection to the file is closed before the lock's fd:
     * closing any descriptor of a file drops the process's POSIX locks on it. */
    ds_db_close(R.db);
    ds_db_unlock(R.lock);
    return st;
}

/*
 * ds_sched.c — executing a cycle's due items and writing each result as soon
 * as it is known: serially on one read-only connection, or in parallel.
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
 * Only the main thread writes: one result at a time, or several ready
 * together in one transaction (write_batch).
 *
 * Claims (PostgreSQL, ds_cache_claims_each): an item is claimed only when a
 * worker is about to compute it, so runners started together divide the
 * work instead of the first taking everything. A claim writes, and the
 * writer's connection belongs to the main thread alone (one owner per
 * connection: libpq connections are not shared between threads, and a
 * write connection per worker would double the connections of every run).
 * So a worker that takes a job asks the main thread to claim it and waits:
 * one round trip, answered between writes. A job another runner has is
 * skipped (reported at once); ours goes back to the head of the queue and
 * the worker runs it. On SQLite every due item was claimed up front
 * (always 1, ds_run.c) and none of this runs.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ds_run_int.h"

/* ---------------------------------------------------------------- writing */

/* Writes a computed value, or confirms the stored one (refresh_key). */
static int store(runner *R, job *j, int64_t now, int64_t wait, char **werr)
{
    if (j->res.confirmed) return ds_cache_confirm(R->w, j->it, &j->res, now, wait, werr, R->d);
    return ds_cache_put(R->w, j->it, &j->res, now, wait, werr, R->d);
}

/* An interrupted item is not recorded, but its claim (a PostgreSQL lease)
 * ends now: another runner need not wait timeout + DS_LEASE_MARGIN_S for
 * it. A failed release is reported; the lease then expires on its own. */
static void give_back(runner *R, job *j)
{
    if (j->claimed && ds_cache_release(R->w, j->it, R->d) == 0) j->claimed = 0;
}

/* Records one job's outcome (main thread only). */
static void write_job(runner *R, job *j, int64_t now)
{
    int64_t wait = R->busy_ms - (ds_run_mono_ms() - j->ready_ms);
    if (wait < 0) wait = 0;
    char *werr = NULL;
    if (j->rc == 0) {
        int r = store(R, j, now, wait, &werr);
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
    } else if (ds_run_stopping(R) && !R->o->watch && j->err && strcmp(j->err, "interrupted") == 0) {
        j->state = J_INTERRUPTED;
        give_back(R, j);
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
    return j->rc != 0 && ds_run_stopping(R) && !R->o->watch && j->err && strcmp(j->err, "interrupted") == 0;
}

/* Writes v[0..n) (results that are ready together) in one transaction: one
 * commit instead of n, and with a rollback journal the commit's fsyncs are
 * most of a write's cost. Returns 1 when they were committed, their outcome
 * recorded as write_job would; 0 when anything went wrong, with nothing
 * written: the caller then writes them one by one, which reports each
 * item's own error. Main thread only. */
static int write_batch(runner *R, job **v, size_t n, int64_t now)
{
    int64_t wait = R->busy_ms - (ds_run_mono_ms() - v[n - 1]->ready_ms);
    if (ds_cache_batch_begin(R->w, wait < 0 ? 0 : wait) != DS_W_OK) return 0;
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) {
        job *j = v[i];
        char *werr = NULL;
        if (j->rc == 0)
            ok = store(R, j, now, 0, &werr) == DS_W_OK;
        else if (interrupted(R, j)) {
            j->state = J_INTERRUPTED;   /* decided once: the flag may change meanwhile */
            give_back(R, j);
        }
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

/* ---------------------------------------------------------------- claims */

/* Claims j for this runner right before it is computed (main thread: the
 * writer's connection is its alone). 1: compute it; 0: another runner
 * holds it or attempted it since the state was read: skipped, its event
 * sent at once; -1: the database cannot be written (R->dbfail set). */
static int claim_job(runner *R, job *j, int64_t now)
{
    if (j->claimed) return 1;
    int c = ds_cache_claim(R->w, j->it, j->st, now, R->d);
    if (c < 0) {
        R->dbfail = 1;
        return -1;
    }
    if (c == 0) {
        j->state = J_SKIP;
        R->nlost++;
        ds_run_item_event(R, j, 0, 0, now);
        return 0;
    }
    j->claimed = 1;
    return 1;
}

void ds_run_item_event(const runner *R, const job *j, size_t k, size_t n, int64_t now)
{
    if (!R->o->on_item) return;
    char why[128];
    ds_due_explain(j->it, j->st, now, j->why, j->next, why, sizeof why);
    int done = j->state == J_OK;
    ds_run_event ev = {
        .key = j->it->key, .kind = j->it->kind, .shape = j->it->shape, .reason = why,
        .status = j->state == J_OK ? DS_ITEM_OK : j->state == J_FAILED ? DS_ITEM_FAILED
                : j->state == J_INTERRUPTED ? DS_ITEM_INTERRUPTED : DS_ITEM_SKIPPED,
        .error = j->state == J_FAILED ? (j->err ? j->err : "failed") : NULL,
        .rows = done ? j->res.entries : -1, .bytes = done ? (int64_t)j->res.len : -1,
        .duration_ms = k ? j->res.duration_ms : -1, .index = k, .total = n,
    };
    R->o->on_item(R->o->ctx, &ev);
}

static void progress_note(const runner *R, size_t k, size_t n, const job *j, int64_t now)
{
    ds_run_item_event(R, j, k, n, now);
    if (!R->o->progress) return;
    char *s = ds_asprintf("%zu/%zu %s", k, n, j->it->key);
    if (s) ds_run_emit(R, DS_RUN_PROGRESS, s);
    free(s);
}

/* ---------------------------------------------------------------- serial */

void ds_run_serial(runner *R, job **due, size_t n, int64_t now)
{
    ds_exec *x = R->ex[0];
    ds_exec_cancel_on(x, R->o->watch ? NULL : R->o->stop, NULL);
    size_t k = 0;
    for (size_t i = 0; i < n && !R->dbfail && !ds_run_stopping(R); i++) {
        job *j = due[i];
        if (R->claim_each && claim_job(R, j, now) <= 0) continue;
        j->rc = ds_fresh_exec(x, j->it, j->st, j->why, R->can_confirm, now, &j->res, &j->err);
        j->ready_ms = ds_run_mono_ms();
        write_job(R, j, now);
        progress_note(R, ++k, n - R->nlost, j, now);
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
    int claims;                 /* workers ask the main thread to claim each job */
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
    job *ask;                   /* under P->m: the job this worker waits to have claimed */
    int answer;                 /* under P->m: claim_job's result, -2 until answered */
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
    int64_t t = ds_run_mono_ms(), lo = INT64_MAX, hi = INT64_MIN;
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

/* Puts j, taken from the queue, back at its head (P->m held). */
static void unget(pool *P, job *j)
{
    size_t k = 0;
    while (P->q[k] != j) k++;
    memmove(&P->q[k], &P->q[k + 1], (P->next - 1 - k) * sizeof *P->q);
    P->q[--P->next] = j;
}

/* A worker's side of a claim (P->m held): asks the main thread, which owns
 * the writer, and waits for its answer (claim_job's). */
static int ask_claim(pool *P, worker *wk, job *j)
{
    wk->ask = j;
    wk->answer = -2;
    pthread_cond_signal(&P->c_main);
    while (wk->answer == -2) pthread_cond_wait(&P->c_gate, &P->m);
    return wk->answer;
}

/* The main thread's side (P->m held, released during each claim's round
 * trip): answers every worker waiting. After a stop or a database error
 * nothing more is claimed (answer 0: the job stays not run). */
static void serve_claims(pool *P)
{
    for (int i = 0; i < P->nwk; i++) {
        worker *w = &P->wk[i];
        job *j = w->ask;
        if (!j) continue;
        w->ask = NULL;
        int c = 0;
        if (!P->halt && !P->R->dbfail) {
            pthread_mutex_unlock(&P->m);
            c = claim_job(P->R, j, P->now);
            pthread_mutex_lock(&P->m);
        }
        w->answer = c;
        pthread_cond_broadcast(&P->c_gate);
    }
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
        if (P->claims && !j->claimed) {
            /* Claimed now, not before: ours goes back to the head of the
             * queue and is taken again (the gate may have changed while we
             * waited); another runner's is skipped. */
            if (ask_claim(P, wk, j) == 1) unget(P, j);
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
        wk->end_ms = ds_run_mono_ms() + predict_ms(j);
        wk->preempted = 0;
        atomic_store(&wk->stop, 0);
        pthread_mutex_unlock(&P->m);
        int rc = ds_fresh_exec(wk->x, j->it, j->st, j->why, P->R->can_confirm, P->now, &j->res, &j->err);
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
        j->ready_ms = ds_run_mono_ms();
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
    if (P->halt || !(ds_run_stopping(P->R) || P->R->dbfail)) return;
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

/* Sets up P for due[0..n) and starts nthreads workers (signals blocked in
 * them, so SIGINT/SIGTERM reach the main thread). Returns with P->m held and
 * the number of workers started; -1 (nothing to undo) on OOM. */
static int pool_start(pool *P, runner *R, job **due, size_t n, int nthreads, int64_t now)
{
    memset(P, 0, sizeof *P);
    P->R = R;
    P->now = now;
    P->gated = !ds_writer_wal(R->w);
    P->claims = R->claim_each;
    P->wk = calloc((size_t)nthreads, sizeof *P->wk);
    P->q = calloc(2 * n, sizeof *P->q);
    P->done = calloc(n, sizeof *P->done);
    if (!P->wk || !P->q || !P->done) {
        free(P->wk); free(P->q); free(P->done);
        ds_fail(R->d, DS_DBERROR, "out of memory");
        R->dbfail = 1;
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        job *j = due[i];
        j->exclusive = P->gated && j->st->has_state && j->st->last_duration_ms >= LONG_MS;
        P->q[P->nq++] = j;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&P->m, NULL);
    pthread_cond_init(&P->c_main, &ca);
    pthread_cond_init(&P->c_gate, &ca);
    pthread_condattr_destroy(&ca);

    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int started = 0;
    pthread_mutex_lock(&P->m);
    for (int i = 0; i < nthreads; i++) {
        worker *w = &P->wk[i];
        w->P = P;
        w->x = R->ex[i];
        atomic_init(&w->stop, 0);
        ds_exec_cancel_on(w->x, NULL, &w->stop);
        P->nwk = i + 1;
        if (pthread_create(&w->t, NULL, work, w) != 0) { P->nwk = i; break; }
        started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (started == 0) {
        P->halt = 1;
        ds_fail(R->d, DS_DBERROR, "cannot start worker threads: %s", strerror(errno));
        R->dbfail = 1;
    }
    return started;
}

/* Takes the new results into pend, waiting (P->m held) until they can be
 * written or more come. Returns 1 when every worker has ended. */
static int collect(pool *P, job **pend, size_t *npend, size_t *pbytes, int started)
{
    int finished;
    for (;;) {
        check_stop(P);
        serve_claims(P);
        check_stop(P);
        while (P->taken < P->ndone) {
            *pbytes += P->done[P->taken]->res.len;
            pend[(*npend)++] = P->done[P->taken++];
        }
        P->npend = *npend;
        if (*npend) P->pend_ready = pend[0]->ready_ms;
        finished = P->exited == started;
        if (finished || (*npend && (!P->gated || P->readers == 0 || P->halt))) break;
        int64_t wait = 100;
        if (*npend) {
            int64_t left = pend[0]->ready_ms + FLUSH_MS - ds_run_mono_ms();
            if (left <= 0) break;
            if (left < wait) wait = left;
        }
        struct timespec ts;
        deadline_in(&ts, wait);
        pthread_cond_timedwait(&P->c_main, &P->m, &ts);
    }
    return finished;
}

/* Writes pend[0..npend) (P->m not held): as one batch when possible, else
 * one by one. *written counts them for the progress notes. */
static void write_pending(runner *R, job **pend, size_t npend, size_t n, size_t *written, int64_t now)
{
    if (!R->dbfail && npend > 1 && write_batch(R, pend, npend, now)) {
        for (size_t i = 0; i < npend; i++) progress_note(R, ++*written, n - R->nlost, pend[i], now);
        return;
    }
    for (size_t i = 0; i < npend; i++) {
        if (R->dbfail) {
            /* Computed but not written: counted as not run. */
            ds_result_free(&pend[i]->res);
            pend[i]->state = J_DUE;
            continue;
        }
        write_job(R, pend[i], now);
        progress_note(R, ++*written, n - R->nlost, pend[i], now);
    }
}

void ds_run_parallel(runner *R, job **due, size_t n, int nthreads, int64_t now)
{
    pool P;
    job **pend = calloc(n, sizeof *pend);
    if (!pend) {
        ds_fail(R->d, DS_DBERROR, "out of memory");
        R->dbfail = 1;
        return;
    }
    int started = pool_start(&P, R, due, n, nthreads, now);
    if (started < 0) { free(pend); return; }
    size_t npend = 0, written = 0, pbytes = 0;
    for (;;) {
        int finished = collect(&P, pend, &npend, &pbytes, started);
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
                if (ds_run_mono_ms() - pend[0]->ready_ms >= PREEMPT_MS) preempt(&P);
                struct timespec ts;
                deadline_in(&ts, 50);
                pthread_cond_timedwait(&P.c_gate, &P.m, &ts);
            }
            P.writer_wants = 0;
            P.writing = 1;
        }
        pthread_mutex_unlock(&P.m);
        write_pending(R, pend, npend, n, &written, now);
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

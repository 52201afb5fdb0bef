/*
 * ds_run.c — `dashspec run`: lock, plan, what is due, one cycle, and --watch.
 *
 * The shape of a run:
 *
 *   ds_db_lock           the one-run-per-database flock, taken first
 *   ds_db_open (rw)      the writer's connection; it also rolls back a hot
 *                        journal a killed run left, before any reader looks
 *   ds_db_migrate, then ds_compile_db (--specs) or ds_plan_load
 *   ds_writer_new        write statements + the writer's authorizer
 *   cycle:  ds_state_load (two queries) -> ds_due per selected item ->
 *           claim (SQLite: all up front; PostgreSQL: each as it is about
 *           to run, ds_sched.c) -> execute the due ones on ds_exec
 *           read-only connections ->
 *           ds_cache_put / ds_cache_fail each result as soon as it is known ->
 *           summary JSON -> one dashspec_runs row
 *
 * Executing the due items (serially, or on --jobs worker threads that share
 * a gate with the writer) is ds_sched.c; the summary JSON is ds_summary.c.
 *
 * Signals (the CLI's handler sets o->stop): --watch finishes the items in
 * flight, writes them and returns DS_OK. A plain run stops at once: running
 * queries are interrupted and their items not recorded (neither success nor
 * failure), what was committed stays, and the summary and dashspec_runs row
 * cover what ran. Every value is its own transaction, so the database is
 * consistent whichever way a run ends, kill -9 included.
 */
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
#include "ds_compiler.h"
#include "ds_run_int.h"
#include "ds_vec.h"
#include "ds_select.h"
#include "engine.h"

/* --watch looks for a plan replaced by `compile` this often. */
#define PLAN_CHECK_MS 2000
/* --watch starts cycles that run something at most this often. */
#define CYCLE_MIN_MS 1000

int64_t ds_run_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ds_run_stopping(const runner *R)
{
    return R->o->stop && *R->o->stop;
}

/* The run's clock in milliseconds: --now advances in real time under --watch. */
static int64_t clock_ms(const runner *R)
{
    if (R->o->now_fixed || !R->o->watch) return R->o->now * 1000 + (R->o->watch ? ds_run_mono_ms() - R->mono0 : 0);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ds_run_emit(const runner *R, ds_run_out where, const char *text)
{
    if (!R->o->emit) return;
    if (where == DS_RUN_STDOUT && R->o->quiet) return;
    if (where == DS_RUN_PROGRESS && !R->o->progress) return;
    R->o->emit(R->o->ctx, where, text);
}

/* ---------------------------------------------------------------- selection */

static int selected(const ds_run_opts *o, const ds_item *it)
{
    return ds_select_item(o->select, it);
}

/* A key whose item is unknown (a compile failure): matches key globs only. */
static int key_selected(const ds_run_opts *o, const char *key)
{
    ds_sel_view v = {key, NULL, NULL, 0, NULL};
    return ds_select_match(o->select, &v);
}

/* "--select 'x' matches no item of the plan": one warning per selector. */
static void warn_unmatched(const runner *R, ds_diag *d)
{
    const ds_select *s = R->o->select;
    for (size_t k = 0; k < s->n; k++) {
        if (s->v[k].exclude) continue;
        int hit = 0;
        for (size_t i = 0; i < R->plan.n && !hit; i++) {
            const ds_item *it = &R->plan.items[i];
            ds_sel_view v = {it->key, it->group, it->tags, it->ntags, it->file};
            hit = ds_sel_match(&s->v[k], &v);
        }
        for (size_t i = 0; i < R->ncf && !hit; i++) {
            ds_sel_view v = {R->cf[i].name, NULL, NULL, 0, NULL};
            hit = ds_sel_match(&s->v[k], &v);
        }
        if (!hit) ds_warning(d, NULL, 0, 0, NULL, "--select '%s' matches no item of the plan", s->v[k].text);
    }
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
    cfail *v = ds_vec_grow(R->cf, &R->cf_cap, R->ncf, sizeof *v);
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
            /* An item the selection leaves out is not reported; one known
             * only by its key matches key globs only. */
            if (it ? !selected(R->o, it) : !key_selected(R->o, e->key))
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
    R->ncf = R->cf_cap = 0;
}

/* ---------------------------------------------------------------- connections */

static int open_execs(runner *R, int n)
{
    /* A PostgreSQL target is passed as given: ds_db_path has its password redacted. */
    const char *src = R->o->source ? R->o->source
                    : ds_engine_is_postgres(R->o->db_path) ? R->o->db_path : ds_db_path(R->db);
    for (int i = 0; i < n; i++) {
        if (R->ex[i]) continue;
        /* The writer never runs spec SQL: each source is a worker process. */
        if (!(R->ex[i] = ds_exec_new_isolated(src, R->d))) return -1;
        ds_exec_busy_timeout(R->ex[i], R->busy_ms);
    }
    return 0;
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
    if (b.p && !b.oom) ds_run_emit(R, DS_RUN_STDOUT, b.p);
    ds_buf_free(&b);
}

/* on_item for what will not run: the compile failures, then the selected
 * items that are not due. */
static void skipped_events(runner *R, job *jobs, size_t n, size_t ncf, int64_t now)
{
    for (size_t i = 0; i < ncf; i++) {
        ds_run_event ev = {.key = R->cf[i].name, .kind = DS_KIND_METRIC, .shape = DS_SHAPE_N, .status = DS_ITEM_FAILED,
                           .reason = "does not compile", .error = R->cf[i].msg,
                           .rows = -1, .bytes = -1, .duration_ms = -1};
        R->o->on_item(R->o->ctx, &ev);
    }
    for (size_t i = 0; i < n; i++)
        if (jobs[i].state == J_SKIP) ds_run_item_event(R, &jobs[i], 0, 0, now);
}

/* Claims every due job up front, for an engine whose claim always says 1
 * (SQLite: the whole-run lock; one cheap call per item). An engine shared
 * item by item (PostgreSQL, R->claim_each) is claimed in ds_sched.c as each
 * item is about to run instead: claimed all at once here, the first of two
 * runners started together would take everything and the other skip it
 * all. Keeps the jobs claimed; the others are skipped. 0, or -1 on a
 * database error (R->dbfail). */
static int claim_due(runner *R, job **due, size_t *ndue, int64_t now)
{
    size_t k = 0;
    for (size_t i = 0; i < *ndue; i++) {
        int c = ds_cache_claim(R->w, due[i]->it, due[i]->st, now, R->d);
        if (c < 0) { R->dbfail = 1; return -1; }
        if (c) due[k++] = due[i];
        else due[i]->state = J_SKIP;
    }
    *ndue = k;
    return 0;
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
    R->nlost = 0;
    if (ndue && !R->claim_each && claim_due(R, due, &ndue, now)) goto out;
    if (o->on_item) skipped_events(R, jobs, n, ncf, now);
    if (ndue) {
        int nthreads = R->jobs < (int)ndue ? R->jobs : (int)ndue;
        if (open_execs(R, nthreads)) goto out;
        /* Even --jobs 1 runs through the pool (one worker thread) when
         * there is more than one item: the main thread then commits results
         * ready together in one transaction (with a rollback journal, while
         * the worker waits; in WAL mode, while it runs the next query). */
        if (ndue == 1) {
            ds_run_serial(R, due, ndue, now);
        } else {
            /* Longest first (by the last run's duration) keeps the workers
             * busy to the end; results do not depend on the order. */
            qsort(due, ndue, sizeof *due, cmp_longest);
            ds_run_parallel(R, due, ndue, nthreads, now);
        }
        if (o->progress) ds_run_emit(R, DS_RUN_PROGRESS, "");
    }
    if (R->dbfail) goto out;

    int64_t dur = ds_run_mono_ms() - t0_ms;
    tally t;
    if (!(sum = ds_run_summary_json(jobs, n, R->cf, ncf, dur, &t))) { ds_fail(R->d, DS_DBERROR, "out of memory"); goto out; }
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
    if (b.p && !b.oom) ds_run_emit(R, DS_RUN_STDOUT, b.p);
    ds_buf_free(&b);
    if (o->on_item) {
        ds_run_event end = {.key = NULL, .rows = t.entries, .bytes = -1, .duration_ms = dur};
        o->on_item(o->ctx, &end);
    }
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

/* now + ttl (and a backoff, at most refresh <= ttl) must stay a time that can
 * be stored: a usage error naming the limit and the item otherwise. */
static int time_range_check(runner *R, int64_t now, ds_diag *d)
{
    for (size_t i = 0; i < R->plan.n; i++) {
        const ds_item *it = &R->plan.items[i];
        int64_t span = it->ttl > it->refresh ? it->ttl : it->refresh;
        if (span > 0 && now > DS_TIME_MAX - span) {
            char ts[20];
            ds_time_format(now, ts);
            ds_fail(d, DS_USAGE, "--now %s plus the ttl of '%s' (%" PRId64 "s) passes " DS_TIME_MAX_TEXT
                    " UTC, the last time dashspec can store", ts, it->key, span);
            return -1;
        }
    }
    return 0;
}

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
    int64_t last_ran = INT64_MIN / 2, last_check = ds_run_mono_ms();
    for (;;) {
        if (ds_run_stopping(R)) return 0;
        if (ds_run_mono_ms() - last_check >= PLAN_CHECK_MS) {
            last_check = ds_run_mono_ms();
            maybe_reload(R, &dv, &fp);
        }
        int64_t cm = clock_ms(R), now = cm / 1000, next, t0 = ds_run_mono_ms();
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
        int64_t to_check = last_check + PLAN_CHECK_MS - ds_run_mono_ms();
        if (wake > to_check) wake = to_check;
        if (wake < 10) wake = 10;
        int64_t until = ds_run_mono_ms() + wake;
        while (!ds_run_stopping(R) && ds_run_mono_ms() < until) nap(until - ds_run_mono_ms() < 500 ? until - ds_run_mono_ms() : 500);
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
    R.mono0 = ds_run_mono_ms();
    R.busy_ms = o->busy_ms < 0 ? DS_BUSY_TIMEOUT_MS : o->busy_ms;
    R.jobs = o->jobs > 0 ? o->jobs : default_jobs();
    ds_plan_init(&R.plan);
    ds_status st = DS_OK;
    int rc = 0;

    if (!o->db_path || !*o->db_path) {
        ds_fail(d, DS_USAGE, "no database given (use --db FILE or set DASHSPEC_DB)");
        return DS_USAGE;
    }
    /* The CLI checks --jobs too; a library caller gets the same answer. */
    if (o->jobs < 0 || o->jobs > DS_RUN_MAX_JOBS) {
        ds_fail(d, DS_USAGE, "--jobs wants a number from 1 to %d, not '%d'", DS_RUN_MAX_JOBS, o->jobs);
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
    if (ds_select_active(o->select)) warn_unmatched(&R, d);
    if (time_range_check(&R, o->now, d)) goto out;
    if (!o->dry_run && !(R.w = ds_writer_new(R.db, d))) goto out;
    R.can_confirm = R.w && ds_cache_can_confirm(R.w);
    R.claim_each = R.w && ds_cache_claims_each(R.w);
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

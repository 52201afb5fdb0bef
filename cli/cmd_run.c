/*
 * cmd_run.c — `dashspec run`: parses the options, installs the SIGINT/SIGTERM
 * handlers, and prints what ds_run hands back (summary JSON and --dry-run
 * lines on stdout; diagnostics and a terminal-only progress line on stderr).
 */
#include <errno.h>
#include <signal.h>
#include <sys/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "ds_project.h"
#include "ds_run.h"
#include "ds_select.h"
#include "render.h"
#include "run_out.h"

const char usage_run[] =
    "usage: dashspec run [--db FILE] [--specs DIR] [--select SEL]... [--exclude SEL]...\n"
    "                    [--force] [--dry-run] [--jobs N] [--now TS] [--quiet]\n"
    "                    [--busy-timeout DUR] [--watch] [--results FILE] [--source URI]\n"
    "\n"
    "Computes the items of the plan that are due and writes each value into\n"
    "dashboard_cache as soon as it is computed (one transaction per value).\n"
    "An item is due when it has no value, its value is at least `refresh` old,\n"
    "its value expired, its spec changed since the value was computed, or the\n"
    "value was created after now (\"created in the future\"); an item\n"
    "whose last attempt failed waits 1, 2, 4, 8 ... minutes (at most `refresh`)\n"
    "before it is tried again.\n"
    "\n"
    "options:\n"
    "  --db FILE            the database (else $DASHSPEC_DB, else the project file\n"
    "                       dashspec.yaml's database); never created\n"
    "  --specs DIR          compile DIR first and store the plan when it compiled\n"
    "                       without error; items that fail to compile are reported\n"
    "                       and count as failed, the others still run\n"
    "  --select SEL         run only the selected items; SEL is a key glob,\n"
    "                       tag:NAME, group:NAME or file:PATH (relative to the\n"
    "                       specs directory, a glob), A,B for both; repeatable,\n"
    "                       and several are a union ('a b' in one value too)\n"
    "  --exclude SEL        leave out what SEL selects (same forms)\n"
    "  --only SEL, --group G  aliases of --select SEL and --select group:G\n"
    "  --force              run every selected item, due or not (ignores backoff)\n"
    "  --dry-run            print each selected item, whether it is due and why;\n"
    "                       run nothing, write nothing (takes no lock)\n"
    "  --jobs N             run up to N items at once, 1..64 (default: the number\n"
    "                       of online CPUs, at most 8, or dashspec.yaml's jobs);\n"
    "                       1 runs them one by one\n"
    "  --now TS             the time that stands for now: :now, created_at,\n"
    "                       expires_at and what is due; UTC 'YYYY-MM-DD HH:MM:SS',\n"
    "                       also 2026-12-02T08:26:00, with Z or +01:00 (to UTC)\n"
    "  --quiet              print nothing on stdout (errors still go to stderr)\n"
    "  --source URI         run the spec queries on another database (a read\n"
    "                       replica); plan, state and cache stay on --db\n"
    "  --busy-timeout DUR   how long to wait for a database locked by another\n"
    "                       writer before that item fails (default 5s, or\n"
    "                       dashspec.yaml's busy_timeout); a duration\n"
    "                       (90s, 1m) or milliseconds (500ms, 0ms = do not wait)\n"
    "  --results FILE       write each item's outcome as JSON (status, reason due,\n"
    "                       duration, rows, bytes, error), like dbt's\n"
    "                       run_results.json; replaced atomically after each run\n"
    "                       (each --watch cycle); a failure to write it: exit 1\n"
    "  --watch              stay up holding the lock and run items as they fall\n"
    "                       due; picks up a plan replaced by `dashspec compile`;\n"
    "                       with --now the clock starts there and runs in real time;\n"
    "                       SIGINT/SIGTERM finish the items in flight, then exit 0\n"
    "\n"
    "output: on a terminal, one line per item as it finishes (key, shape, rows,\n"
    "duration; ok, failed or skipped and why) and a closing summary line, like\n"
    "`dbt run`. Otherwise (a pipe, a file, cron) one JSON object per run on\n"
    "stdout (with --watch, one per cycle that ran something):\n"
    "  {\"summary\": \"Pre-computed N cache entries in Xms\", \"details\": {\n"
    "   \"metrics_cached\": {KEY: ENTRIES...}, \"charts_cached\": {...}, \"skipped\": S,\n"
    "   \"failed\": {KEY: ERROR...}, \"duration_ms\": D}, \"metrics\": {\"entries_cached\": N,\n"
    "   \"metrics_entries\": M, \"chart_points\": C, \"items_run\": R}}\n"
    "Each run is also recorded in dashspec_runs. An empty plan is not an error:\n"
    "a warning says so and the run exits 0.\n"
    "\n"
    "signals: without --watch, SIGINT/SIGTERM interrupt the queries in flight (their\n"
    "items are not recorded), keep every value already written, print the summary\n"
    "of what ran and exit 128+signal; a run still busy 0.8 s later (waiting for a\n"
    "lock, say) or a second signal ends it at once (the values stay consistent).\n"
    "\n"
    "exit status: 0 all due items written; 1 some item failed (the others were\n"
    "written); 2 usage error; 4 another run holds the database; 5 the database\n"
    "cannot be opened or written (missing, not a database, read-only, disk full).\n";

static volatile sig_atomic_t got_signal, watching;

/* The backstop of a plain run: a run that has not ended DS_SIGNAL_GRACE_MS
 * after SIGINT/SIGTERM (a wait for another writer's lock, a long call inside
 * SQLite) dies of that signal. Every value is its own transaction, so this
 * is as safe as a kill. */
#define DS_SIGNAL_GRACE_MS 800

static void on_signal(int sig)
{
    if (got_signal && !watching) {
        signal(sig, SIG_DFL);          /* a second signal ends it at once */
        raise(sig);
    }
    got_signal = sig;
    if (!watching) {
        struct itimerval it = {{0, 0}, {0, DS_SIGNAL_GRACE_MS * 1000}};
        setitimer(ITIMER_REAL, &it, NULL);
    }
}

static void on_grace_over(int sig)
{
    (void)sig;
    int s = got_signal ? got_signal : SIGTERM;
    signal(s, SIG_DFL);
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, s);
    sigprocmask(SIG_UNBLOCK, &m, NULL);
    raise(s);
}

typedef struct out_ctx {
    int watch;
    int progress_shown;
    run_out ro;             /* item lines on a terminal, --results */
} out_ctx;

static void on_item(void *ctx, const ds_run_event *ev)
{
    out_ctx *c = ctx;
    if (c->progress_shown) { fputs("\r\033[K", stderr); c->progress_shown = 0; }
    run_out_event(&c->ro, ev);
}

static void emit(void *ctx, ds_run_out where, const char *text)
{
    out_ctx *c = ctx;
    switch (where) {
    case DS_RUN_STDOUT:
        if (c->progress_shown) { fputs("\r\033[K", stderr); c->progress_shown = 0; }
        /* JSON (control characters escaped, docs/reading.md: JSON output is
         * not touched) or --dry-run lines of validated keys: printed as is. */
        fputs(text, stdout);
        /* A --watch cycle's line must reach a pipe or log now, not at exit. */
        if (c->watch) fflush(stdout);
        break;
    case DS_RUN_STDERR:
        if (c->progress_shown) { fputs("\r\033[K", stderr); c->progress_shown = 0; }
        cli_print(stderr, text);
        break;
    case DS_RUN_PROGRESS:
        if (!*text) {
            if (c->progress_shown) fputs("\r\033[K", stderr);
            c->progress_shown = 0;
        } else {
            ds_buf b;
            ds_buf_init(&b);
            cli_clean(&b, text, strlen(text));
            fprintf(stderr, "\r\033[Kdashspec run: %s", b.p ? b.p : "");
            ds_buf_free(&b);
            c->progress_shown = 1;
        }
        fflush(stderr);
        break;
    }
}

/* "500ms" (0 allowed: do not wait) or a spec duration ("5s", "1m";
 * docs/spec-reference.md). */
static int parse_busy(const char *s, int64_t *ms)
{
    size_t n = strlen(s);
    if (n > 2 && strcmp(s + n - 2, "ms") == 0) {
        int64_t v = 0;
        for (size_t i = 0; i < n - 2; i++) {
            if (s[i] < '0' || s[i] > '9' || v > 1000000000000LL) return -1;
            v = v * 10 + (s[i] - '0');
        }
        *ms = v;
        return 0;
    }
    int64_t secs;
    const char *why;
    if (ds_duration_parse(s, &secs, &why)) return -1;
    *ms = secs * 1000;
    return 0;
}

int cmd_run(int argc, char **argv)
{
    const char *db = NULL, *specs = NULL, *jobs = NULL, *now = NULL, *busy = NULL, *results = NULL;
    cli_sel cs = {0};
    ds_select sel;
    ds_select_init(&sel);
    const char *source = NULL;
    int force = 0, dry = 0, quiet = 0, watch = 0;
    const cli_opt opts[] = {
        {"--db", &db, NULL, NULL, NULL},
        {"--specs", &specs, NULL, NULL, NULL},
        CLI_SEL_OPTS(cs),
        {"--force", NULL, &force, NULL, NULL},
        {"--dry-run", NULL, &dry, NULL, NULL},
        {"--jobs", &jobs, NULL, NULL, NULL},
        {"--now", &now, NULL, NULL, NULL},
        {"--quiet", NULL, &quiet, NULL, NULL},
        {"--busy-timeout", &busy, NULL, NULL, NULL},
        {"--watch", NULL, &watch, NULL, NULL},
        {"--results", &results, NULL, NULL, NULL},
        {"--source", &source, NULL, NULL, NULL},
        {NULL, NULL, NULL, NULL, NULL}
    };
    int rc = DS_USAGE;
    if (cli_parse("run", argc, argv, opts, NULL, NULL) || cli_sel_build("run", &cs, NULL, 0, &sel)) goto out;

    ds_run_opts o;
    memset(&o, 0, sizeof o);
    o.db_path = cli_db(db);
    if (!o.db_path) { cli_usage_error("run", "no database given (use --db FILE or set DASHSPEC_DB)"); goto out; }
    o.specs_dir = specs;
    const ds_project *pr = cli_project();
    o.select = &sel;
    o.source = source && *source ? source : pr && pr->source && *pr->source ? pr->source : NULL;
    o.force = force;
    o.dry_run = dry;
    o.quiet = quiet;
    o.watch = watch;
    if (jobs) {
        char *end = NULL;
        errno = 0;
        long j = strtol(jobs, &end, 10);
        if (errno || !end || *end || end == jobs || j < 1 || j > DS_RUN_MAX_JOBS) {
            cli_usage_error("run", "--jobs wants a number from 1 to %d, not '%s'", DS_RUN_MAX_JOBS, jobs);
            goto out;
        }
        o.jobs = (int)j;
    } else if (pr && pr->jobs) {
        o.jobs = pr->jobs;
    }
    if (cli_now("run", now, &o.now)) goto out;
    o.now_fixed = now != NULL;
    o.busy_ms = pr && pr->busy_ms >= 0 ? pr->busy_ms : DS_BUSY_TIMEOUT_MS;
    if (busy && parse_busy(busy, &o.busy_ms)) {
        cli_usage_error("run", "--busy-timeout wants a duration like 5s, 1m or 500ms, not '%s'", busy);
        goto out;
    }
    if (dry && watch) { cli_usage_error("run", "--dry-run and --watch do not go together"); goto out; }
    if (results && !*results) { cli_usage_error("run", "--results needs a file name"); goto out; }
    out_ctx oc = {watch, 0, {0}};
    /* On a terminal: a line per item and a closing summary instead of the
     * JSON (which a pipe, a file or cron still gets). */
    int lines = !quiet && !dry && isatty(1);
    run_out_init(&oc.ro, stdout, lines, dry ? NULL : results);
    o.quiet = quiet || lines;
    o.progress = !quiet && !lines && isatty(2);
    if (lines || (results && !dry)) o.on_item = on_item;
    o.emit = emit;
    o.ctx = &oc;
    o.stop = &got_signal;

    /* No SA_RESTART: a signal must cut --watch's sleep short. */
    struct sigaction sa, old_int, old_term, old_alrm;
    memset(&sa, 0, sizeof sa);
    watching = watch;
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sa.sa_handler = on_grace_over;
    sigaction(SIGALRM, &sa, &old_alrm);

    ds_diag d;
    ds_diag_init(&d);
    ds_status st = ds_run(&o, &d);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGALRM, &old_alrm, NULL);
    cli_report(&d, st);
    if (oc.ro.failed_write && st == DS_OK) st = DS_FAILED;
    run_out_free(&oc.ro);
    ds_diag_free(&d);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    rc = (int)st;
    if (got_signal && !watch && st != DS_DBERROR) rc = 128 + got_signal;
out:
    cli_sel_free(&cs);
    ds_select_free(&sel);
    return rc;
}

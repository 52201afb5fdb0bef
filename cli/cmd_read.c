/*
 * cmd_read.c — the reader commands: get, status, clear, explain, preview,
 * and migrate. Each parses its options, calls ds_read.c, and prints: values
 * exactly as cached when piped, tables and charts on a terminal (render.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "ds_project.h"
#include "ds_read.h"
#include "ds_select.h"
#include "render.h"
#include "prom.h"
#include "cmd_read.h"

/* Prints a formatted message to f through the sanitizer (cli_print): keys,
 * paths and database messages may hold anything. */
__attribute__((format(printf, 2, 3)))
void cli_say(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = ds_vasprintf(fmt, ap);
    va_end(ap);
    if (!s || cli_print(f, s)) fputs("dashspec: out of memory\n", stderr);
    free(s);
}

const char usage_get[] =
    "usage: dashspec get [--db FILE] [--stale] [--now TS] KEY\n"
    "\n"
    "Prints the cached JSON value of KEY, followed by a newline, when it is fresh\n"
    "(its expires_at is later than now).\n"
    "\n"
    "  --db FILE   the database (default: $DASHSPEC_DB); opened read-only, never created\n"
    "  --stale     also print a value that has expired\n"
    "  --now TS    the UTC time 'YYYY-MM-DD HH:MM:SS' that stands for now\n"
    "\n"
    "get reads one row of dashboard_cache by key and nothing else (no plan, no\n"
    "migrations), so it is cheap enough to call per dashboard widget. A key that\n"
    "is no longer in the plan is still printed while its row lasts.\n"
    "\n"
    "exit status: 0 value printed; 2 usage error; 3 no fresh value (one line on\n"
    "stderr says whether it is missing or how long ago it expired; a database\n"
    "without dashboard_cache has no values); 5 the database cannot be opened.\n";

const char usage_status[] =
    "usage: dashspec status [--db FILE] [--json | --format text|json|prometheus] [--now TS]\n"
    "                       [--select SEL]... [--exclude SEL]...\n"
    "\n"
    "Shows what the cache holds for each item of the compiled plan: counts of\n"
    "fresh, expired and missing values (they add up to the plan's items) and of\n"
    "failing items (whose last attempt failed, whatever value they still have),\n"
    "then one line per key: state, age, ttl, entries, last duration, next due,\n"
    "last error. Cache rows whose key is not in the plan (items removed from the\n"
    "specs) are listed apart as orphaned and counted in none of the above.\n"
    "\n"
    "  --db FILE   the database (default: $DASHSPEC_DB); opened read-only, never created\n"
    "  --json      one JSON object: {\"fresh\":N, \"expired\":N, \"missing\":N, \"failing\":N,\n"
    "              \"items\":[{key, kind, group, state, age_s, ttl_s, refresh_s, entries,\n"
    "              last_duration_ms, last_error, failures, next_due}], \"orphaned\":[{key,\n"
    "              state, age_s, expires_at}], \"now\":TS}; unknown values are null,\n"
    "              times are UTC 'YYYY-MM-DD HH:MM:SS'\n"
    "  --now TS    the UTC time 'YYYY-MM-DD HH:MM:SS' that stands for now\n"
    "  --format prometheus  the Prometheus text format for node_exporter's textfile\n"
    "              collector: dashspec_item_age_seconds{key,group}, _fresh,\n"
    "              _last_duration_seconds, _failures_total ..., and\n"
    "              dashspec_last_run_timestamp_seconds (docs/operations.md)\n"
    "  --select SEL  only the selected items (rows and counts): a key glob,\n"
    "              tag:NAME, group:NAME or file:PATH; repeatable, a union;\n"
    "              orphaned rows match key globs only\n"
    "  --exclude SEL leave these out (--only and --group: aliases)\n"
    "\n"
    "exit status: 0 the report was printed (failing items do not change it);\n"
    "2 usage error; 5 the database cannot be opened or read.\n";

const char usage_clear[] =
    "usage: dashspec clear [--db FILE] [KEY|GLOB...] [--select SEL]... [--exclude SEL]...\n"
    "\n"
    "Deletes the dashboard_cache rows of the given keys, or of every key matching\n"
    "a shell glob ('chart_*', 'llm_?_cost', '[a-c]*'); all rows when none is\n"
    "given. One transaction: all of them go, or none. Prints \"cleared N cache rows\".\n"
    "The next run computes the cleared items again (they are missing, so due).\n"
    "dashspec_state keeps its history (last attempt, errors, durations).\n"
    "\n"
    "  --db FILE   the database (default: $DASHSPEC_DB); opened read-write, never\n"
    "              created; dashspec's tables are created first when missing\n"
    "  --select SEL  the rows of the selected plan items: a key glob, tag:NAME,\n"
    "              group:NAME or file:PATH; repeatable, a union with the KEYs;\n"
    "              orphaned rows match key globs only; none selected: none cleared\n"
    "  --exclude SEL keep these (--only and --group: aliases)\n"
    "\n"
    "Quote globs so the shell does not expand them. A key that matches nothing\n"
    "is not an error.\n"
    "\n"
    "exit status: 0 done (also when nothing matched); 2 usage error; 5 the database\n"
    "cannot be opened or written (missing, read-only, locked by a writer for longer\n"
    "than 5s).\n";

const char usage_preview[] =
    "usage: dashspec preview [--db FILE] [--source URI] [--now TS] [--json] KEY\n"
    "\n"
    "Computes one item of the compiled plan now and prints its value, exactly as\n"
    "run would cache it. Writes nothing: the query runs on a read-only connection\n"
    "and the cache and state tables are left as they are.\n"
    "\n"
    "On a terminal the value is drawn: scalars plainly, row as a column/value\n"
    "table, rows and map as tables (wide cells cut), series as one sparkline per\n"
    "series with its min and max and the x range. Piped, or with --json, the\n"
    "exact JSON value is printed followed by a newline.\n"
    "\n"
    "  --db FILE      the database (default: $DASHSPEC_DB); opened read-only, never\n"
    "                 created\n"
    "  --source URI   run the query on another database (a read replica), as run\n"
    "                 --source does (default: dashspec.yaml's source); the item\n"
    "                 still comes from --db's plan\n"
    "  --now TS       the UTC time 'YYYY-MM-DD HH:MM:SS' bound to :now\n"
    "  --json         print the JSON value even on a terminal\n"
    "\n"
    "exit status: 0 printed; 1 KEY is not in the plan, or the query failed (the\n"
    "error is on stderr); 2 usage error; 5 the database cannot be opened.\n";

const char usage_migrate[] =
    "usage: dashspec migrate [--db FILE]\n"
    "\n"
    "Creates dashspec's tables (dashboard_cache, dashspec_plan, dashspec_state,\n"
    "dashspec_runs, dashspec_migrations) when they are missing. Idempotent; never\n"
    "drops or rewrites data, and keeps an existing dashboard_cache as it is.\n"
    "Prints \"created dashspec tables in FILE\" or \"dashspec tables are up to date\".\n"
    "\n"
    "  --db FILE   the database (default: $DASHSPEC_DB); opened read-write\n"
    "\n"
    "The database file must exist: dashspec never creates one (a typo in --db would\n"
    "otherwise leave an empty database behind). Point --db at the application's\n"
    "database, or create an empty one first (an empty file is an empty SQLite\n"
    "database: `touch FILE`). The same SQL is in migrations/sqlite/*.sql for\n"
    "`sqlite3 FILE < migrations/sqlite/001-init.sql`.\n"
    "\n"
    "exit status: 0 done; 2 usage error; 5 the database cannot be opened or\n"
    "written (missing, not a database, read-only).\n";

/* The database option, or a usage error. */
static const char *need_db(const char *cmd, const char *opt)
{
    const char *db = cli_db(opt);
    if (!db) cli_usage_error(cmd, "no database given (use --db FILE or set DASHSPEC_DB)");
    return db;
}

int cli_read_setup(const char *cmd, int argc, char **argv, unsigned flags, read_args *a)
{
    const char *dbopt = NULL, *nowopt = NULL, *srcopt = NULL;
    cli_opt opts[11];
    int k = 0;
    memset(a, 0, sizeof *a);
    ds_select_init(&a->sel);
    if (flags & RA_SEL) {
        const cli_opt so[] = {CLI_SEL_OPTS(a->cs)};
        for (size_t i = 0; i < sizeof so / sizeof *so; i++) opts[k++] = so[i];
    }
    opts[k++] = (cli_opt){"--db", &dbopt, NULL, NULL, NULL};
    if (flags & RA_NOW) opts[k++] = (cli_opt){"--now", &nowopt, NULL, NULL, NULL};
    if (flags & RA_JSON) opts[k++] = (cli_opt){"--json", NULL, &a->json, NULL, NULL};
    if (flags & RA_STALE) opts[k++] = (cli_opt){"--stale", NULL, &a->stale, NULL, NULL};
    if (flags & RA_FORMAT) opts[k++] = (cli_opt){"--format", &a->format, NULL, NULL, NULL};
    if (flags & RA_SOURCE) opts[k++] = (cli_opt){"--source", &srcopt, NULL, NULL, NULL};
    opts[k] = (cli_opt){NULL, NULL, NULL, NULL, NULL};
    int keys = (flags & (RA_ONE_KEY | RA_KEYS)) != 0;
    if (cli_parse(cmd, argc, argv, opts, keys ? &a->pos : NULL, keys ? &a->npos : NULL)) return DS_USAGE;
    if ((flags & RA_SEL) && cli_sel_build(cmd, &a->cs, NULL, 0, &a->sel)) return DS_USAGE;
    if ((flags & RA_ONE_KEY) && a->npos != 1)
        return cli_usage_error(cmd, a->npos ? "one KEY at a time" : "which KEY?");
    if (!(a->db = need_db(cmd, dbopt))) return DS_USAGE;
    if ((flags & RA_NOW) && cli_now(cmd, nowopt, &a->now)) return DS_USAGE;
    if (flags & RA_SOURCE) {
        /* As run: the flag, else the project file's source. */
        const ds_project *pr = cli_project();
        a->source = srcopt && *srcopt ? srcopt : pr && pr->source && *pr->source ? pr->source : NULL;
    }
    return 0;
}

void cli_read_free(read_args *a)
{
    free(a->pos);
    cli_sel_free(&a->cs);
    ds_select_free(&a->sel);
}

int cli_read_emit(ds_buf *b)
{
    if (b->oom) {
        fprintf(stderr, "dashspec: out of memory\n");
        return DS_FAILED;
    }
    if (b->len) fwrite(b->p, 1, b->len, stdout);
    return DS_OK;
}

/* ---------------------------------------------------------------- get */

int cmd_get(int argc, char **argv)
{
    read_args a;
    int rc;
    ds_diag d;
    ds_value v = {0};
    ds_diag_init(&d);
    if ((rc = cli_read_setup("get", argc, argv, RA_NOW | RA_STALE | RA_ONE_KEY, &a))) goto out;
    const char **pos = a.pos;
    int64_t now = a.now;
    rc = ds_read_get(a.db, pos[0], now, a.stale, &v, &d);
    if (rc == DS_OK) {
        fwrite(v.json, 1, v.len, stdout);
        fputc('\n', stdout);
    } else if (rc == DS_NOVALUE) {
        int64_t exp;
        char ago[64];
        int in_plan = 0;
        char *near = v.found ? NULL : ds_read_near_key(a.db, pos[0], &in_plan);
        if (near)
            cli_say(stderr, "dashspec get: no value for '%s' (not an item of the plan); did you mean '%s'?\n",
                    pos[0], near);
        else if (!v.found)
            cli_say(stderr, "dashspec get: no value for '%s' (missing)\n", pos[0]);
        else if (v.expires_at && ds_time_parse(v.expires_at, &exp) == 0)
            cli_say(stderr, "dashspec get: no fresh value for '%s' (expired %s, at %s; --stale prints it)\n",
                    pos[0], cli_age(now, exp, ago, sizeof ago), v.expires_at);
        else
            cli_say(stderr, "dashspec get: no fresh value for '%s' (expired: expires_at is %s%s%s)\n",
                    pos[0], v.expires_at ? "'" : "", v.expires_at ? v.expires_at : "NULL",
                    v.expires_at ? "'" : "");
        free(near);
    } else {
        rc = cli_report(&d, rc);
    }
out:
    ds_value_free(&v);
    ds_diag_free(&d);
    free(a.pos);
    return rc;
}

/* ---------------------------------------------------------------- status */

static cli_color state_color(ds_freshness f)
{
    return f == DS_FRESH ? CLI_GREEN : f == DS_EXPIRED ? CLI_YELLOW : CLI_BLUE;
}

/* "now", "now (refresh)", "in 5m", "in 2m (backoff)". A missing or expired
 * value is due now for the reason the state column already shows. */
static void next_due(cli_table *tb, const ds_report *r, const ds_report_item *it)
{
    char ago[64];
    switch (it->due) {
    case DS_DUE_NOT:
        if (it->confirmed_at)       /* refresh_key (docs/spec-reference.md) */
            cli_table_cellf(tb, CLI_NONE, "%s (confirmed, key unchanged)", cli_age(r->now, it->next_due, ago, sizeof ago));
        else
            cli_table_cell(tb, cli_age(r->now, it->next_due, ago, sizeof ago), CLI_NONE);
        break;
    case DS_DUE_BACKOFF:
        cli_table_cellf(tb, CLI_YELLOW, "%s (backoff)", cli_age(r->now, it->next_due, ago, sizeof ago));
        break;
    case DS_DUE_REFRESH: cli_table_cell(tb, "now (refresh)", CLI_NONE); break;
    case DS_DUE_CHANGED: cli_table_cell(tb, "now (spec changed)", CLI_NONE); break;
    case DS_DUE_FUTURE: cli_table_cell(tb, "now (created in the future)", CLI_YELLOW); break;
    default: cli_table_cell(tb, "now", CLI_NONE); break;
    }
}

/* The last cell: the last failure, and a live lease (PostgreSQL: "leased by
 * RUNNER until TS"); empty when neither. */
static void note_cell(cli_table *tb, const ds_report_item *it)
{
    char ts[20];
    if (it->lease_runner) ds_time_format(it->lease_until, ts);
    if (it->failures > 0 && it->lease_runner)
        cli_table_cellf(tb, CLI_RED, "failed %lldx: %s; leased by %s until %s", (long long)it->failures,
                        it->last_error ? it->last_error : "(no message)", it->lease_runner, ts);
    else if (it->failures > 0)
        cli_table_cellf(tb, CLI_RED, "failed %lldx: %s", (long long)it->failures,
                        it->last_error ? it->last_error : "(no message)");
    else if (it->lease_runner)
        cli_table_cellf(tb, CLI_NONE, "leased by %s until %s", it->lease_runner, ts);
    else
        cli_table_cell(tb, "", CLI_NONE);
}

/* The items table; a runner column (who computed the value) only when some
 * item has one (PostgreSQL), so SQLite's table is unchanged. */
static int items_print(const ds_report *r, const cli_term *t, ds_buf *b)
{
    char d1[48], d2[48];
    int runners = 0;
    for (size_t i = 0; i < r->n; i++) runners |= r->items[i].last_runner != NULL;
    const char *hdr[] = {"key", "state", "age", "ttl", "refresh", "entries", "duration", "next due",
                         runners ? "runner" : "error", "error"};
    size_t nc = runners ? 10 : 9, last = nc - 1;
    cli_table *tb = cli_table_new(nc, hdr);
    if (!tb) return -1;
    for (size_t j = 2; j <= 6; j++) cli_table_align(tb, j, CLI_RIGHT);
    for (size_t j = 7; j < nc; j++) cli_table_align(tb, j, CLI_LEFT);
    /* Narrow terminal: cut the error first, the key (what one types next) last. */
    for (size_t j = 1; j < nc; j++) cli_table_priority(tb, j, 1);
    cli_table_priority(tb, 7, 2);
    if (runners) cli_table_priority(tb, 8, 2);
    cli_table_priority(tb, last, 3);
    for (size_t i = 0; i < r->n; i++) {
        const ds_report_item *it = &r->items[i];
        cli_table_cell(tb, it->key, CLI_NONE);
        cli_table_cell(tb, ds_freshness_name(it->state), state_color(it->state));
        if (it->state != DS_MISSING && it->created_at > r->now)
            cli_table_cell(tb, "created in the future", CLI_YELLOW);
        else if (it->state != DS_MISSING && it->created_at)
            cli_table_cell(tb, cli_duration(r->now - it->created_at, d1, sizeof d1), CLI_NONE);
        else
            cli_table_cell(tb, "-", CLI_DIM);
        cli_table_cell(tb, ds_duration_format(it->ttl, d2, sizeof d2), CLI_NONE);
        cli_table_cell(tb, ds_duration_format(it->refresh, d2, sizeof d2), CLI_NONE);
        if (it->entries >= 0) cli_table_cellf(tb, CLI_NONE, "%lld", (long long)it->entries);
        else cli_table_cell(tb, "-", CLI_DIM);
        if (it->last_duration_ms >= 0) cli_table_cell(tb, cli_millis(it->last_duration_ms, d1, sizeof d1), CLI_NONE);
        else cli_table_cell(tb, "-", CLI_DIM);
        next_due(tb, r, it);
        if (runners) cli_table_cell(tb, it->last_runner ? it->last_runner : "-", it->last_runner ? CLI_NONE : CLI_DIM);
        note_cell(tb, it);
    }
    ds_buf_addc(b, '\n');
    int rc = cli_table_render(tb, t, b);
    cli_table_free(tb);
    return rc ? -1 : 0;
}

static int status_print(const ds_report *r, const cli_term *t, ds_buf *b)
{
    char d1[48];
    /* The cache status indicator (docs/reading.md, status); plain words when piped. */
    if (t->tty)
        ds_buf_printf(b, "\xE2\x9C\x85 %zu fresh  \xE2\x9A\xA0\xEF\xB8\x8F %zu expired  "
                         "\xF0\x9F\x92\xA4 %zu missing  \xE2\x9D\x8C %zu failing",
                      r->fresh, r->expired, r->missing, r->failing);
    else
        ds_buf_printf(b, "%zu fresh  %zu expired  %zu missing  %zu failing",
                      r->fresh, r->expired, r->missing, r->failing);
    if (r->norphans) ds_buf_printf(b, "  (%zu orphaned)", r->norphans);
    ds_buf_addc(b, '\n');
    if (r->n == 0) {
        ds_buf_adds(b, "no items in the plan (`dashspec compile --db FILE` stores one)\n");
    } else if (items_print(r, t, b)) {
        return -1;
    }
    if (r->norphans) {
        ds_buf_addc(b, '\n');
        ds_buf_adds(b, "orphaned: cache rows of keys not in the plan (`dashspec clear KEY` removes them)\n");
        const char *hdr[] = {"key", "state", "age", "expires at"};
        cli_table *tb = cli_table_new(4, hdr);
        if (!tb) return -1;
        cli_table_align(tb, 2, CLI_RIGHT);
        for (size_t i = 0; i < r->norphans; i++) {
            const ds_orphan *o = &r->orphans[i];
            cli_table_cell(tb, o->key, CLI_NONE);
            cli_table_cell(tb, ds_freshness_name(o->state), state_color(o->state));
            if (o->created_at) cli_table_cell(tb, cli_duration(r->now - o->created_at, d1, sizeof d1), CLI_NONE);
            else cli_table_cell(tb, "-", CLI_DIM);
            cli_table_cell(tb, o->expires_at ? o->expires_at : "NULL", CLI_NONE);
        }
        int rc = cli_table_render(tb, t, b);
        cli_table_free(tb);
        if (rc) return -1;
    }
    return b->oom ? -1 : 0;
}

int cmd_status(int argc, char **argv)
{
    read_args a;
    int rc;
    ds_diag d;
    ds_report r;
    ds_hist_totals ht = {0};
    ds_buf b;
    memset(&r, 0, sizeof r);
    ds_diag_init(&d);
    ds_buf_init(&b);
    if ((rc = cli_read_setup("status", argc, argv, RA_NOW | RA_JSON | RA_FORMAT | RA_SEL, &a))) goto out;
    int prom = a.format && strcmp(a.format, "prometheus") == 0;
    if (a.format && !prom && strcmp(a.format, "json") != 0 && strcmp(a.format, "text") != 0) {
        rc = cli_usage_error("status", "--format '%s': expected text, json or prometheus", a.format);
        goto out;
    }
    a.json |= a.format && strcmp(a.format, "json") == 0;
    rc = ds_read_status_sel(a.db, a.now, ds_select_active(&a.sel) ? &a.sel : NULL, &r, &d);
    if (rc != DS_OK) { rc = cli_report(&d, rc); goto out; }
    if (prom) {     /* cli/prom.c; the failure counters come from the history */
        ds_db *conn = NULL;
        if (ds_db_open(a.db, DS_DB_READONLY, &conn, &d) || ds_history_totals(conn, &ht, &d)) {
            ds_db_close(conn);
            rc = cli_report(&d, DS_DBERROR);
            goto out;
        }
        ds_db_close(conn);
        cli_prom_status(&r, &ht, &b);
    } else if (a.json) {
        ds_report_json(&r, &b);
    } else {
        cli_term t;
        cli_term_init(&t, stdout);
        if (status_print(&r, &t, &b)) b.oom = 1;
    }
    rc = cli_read_emit(&b);
out:
    cli_read_free(&a);
    ds_buf_free(&b);
    ds_report_free(&r);
    ds_hist_totals_free(&ht);
    ds_diag_free(&d);
    return rc;
}

/* ---------------------------------------------------------------- clear */

/* clear with selectors: the KEY|GLOB arguments join --select; the rows
 * cleared are those of the selected plan items and of the orphaned rows a
 * key-only view selects, each named exactly. */
static int clear_selected(read_args *a, int64_t *n, ds_diag *d)
{
    ds_report r;
    char **keys = NULL;
    size_t nk = 0;
    int rc = DS_FAILED;
    for (size_t i = 0; i < a->npos; i++)
        if (ds_select_add(&a->sel, a->pos[i], 0, d)) return cli_usage_error("clear", "%s", d->v[d->n - 1].msg);
    if ((rc = ds_read_status_sel(a->db, ds_time_now(), &a->sel, &r, d)) != DS_OK) return rc;
    keys = calloc(r.n + r.norphans + 1, sizeof *keys);
    for (size_t i = 0; keys && i < r.n + r.norphans; i++) {
        const char *k = i < r.n ? r.items[i].key : r.orphans[i - r.n].key;
        if (!(keys[nk] = ds_glob_quote(k))) break;
        nk++;
    }
    if (!keys || nk < r.n + r.norphans) { ds_fail(d, DS_FAILED, "out of memory"); rc = DS_FAILED; }
    else if (nk) rc = ds_read_clear(a->db, (const char *const *)keys, nk, n, d);
    for (size_t i = 0; i < nk; i++) free(keys[i]);
    free(keys);
    ds_report_free(&r);
    return rc;
}

int cmd_clear(int argc, char **argv)
{
    read_args a;
    int64_t n = 0;
    int rc;
    ds_diag d;
    ds_diag_init(&d);
    if ((rc = cli_read_setup("clear", argc, argv, RA_KEYS | RA_SEL, &a))) goto out;
    for (size_t i = 0; i < a.npos; i++)
        if (!*a.pos[i]) { rc = cli_usage_error("clear", "empty KEY"); goto out; }
    if (ds_select_active(&a.sel)) rc = clear_selected(&a, &n, &d);
    else rc = ds_read_clear(a.db, a.pos, a.npos, &n, &d);
    if (rc == DS_OK) printf("cleared %lld cache rows\n", (long long)n);
    else if (rc != DS_USAGE) rc = cli_report(&d, rc);
out:
    ds_diag_free(&d);
    cli_read_free(&a);
    return rc;
}

/* ---------------------------------------------------------------- preview */

int cmd_preview(int argc, char **argv)
{
    read_args a;
    int rc;
    ds_diag d;
    ds_preview pv;
    ds_buf b;
    memset(&pv, 0, sizeof pv);
    ds_diag_init(&d);
    ds_buf_init(&b);
    if ((rc = cli_read_setup("preview", argc, argv, RA_NOW | RA_JSON | RA_ONE_KEY | RA_SOURCE, &a))) goto out;
    int json = a.json;
    rc = ds_read_preview(a.db, a.source, a.pos[0], a.now, &pv, &d);
    if (rc != DS_OK) { rc = cli_report(&d, rc); goto out; }
    cli_term t;
    cli_term_init(&t, stdout);
    if (!json && t.tty) {
        char ms[48], line[160];
        snprintf(line, sizeof line, "%s, %lld entr%s, %s", ds_shape_name(pv.item.shape),
                 (long long)pv.res.entries, pv.res.entries == 1 ? "y" : "ies",
                 cli_millis(pv.res.duration_ms, ms, sizeof ms));
        cli_paint(&b, &t, CLI_BOLD, pv.item.key);
        ds_buf_adds(&b, "  ");
        cli_paint(&b, &t, CLI_DIM, line);
        ds_buf_addc(&b, '\n');
        if (cli_render_value(&b, &t, pv.item.shape, pv.res.json, pv.res.len) == 0) {
            rc = cli_read_emit(&b);
            goto out;
        }
        ds_buf_reset(&b);   /* not drawable: the JSON itself, below */
    }
    ds_buf_add(&b, pv.res.json, pv.res.len);
    ds_buf_addc(&b, '\n');
    rc = cli_read_emit(&b);
out:
    ds_buf_free(&b);
    ds_preview_free(&pv);
    ds_diag_free(&d);
    free(a.pos);
    return rc;
}

/* ---------------------------------------------------------------- migrate */

int cmd_migrate(int argc, char **argv)
{
    read_args a;
    int applied = 0, rc;
    ds_diag d;
    ds_diag_init(&d);
    if ((rc = cli_read_setup("migrate", argc, argv, 0, &a))) goto out;
    const char *db = a.db;
    rc = ds_read_migrate(db, &applied, &d);
    if (rc == DS_OK) {
        if (applied) cli_say(stdout, "created dashspec tables in %s\n", db);
        else printf("dashspec tables are up to date\n");
    } else {
        rc = cli_report(&d, rc);
    }
out:
    ds_diag_free(&d);
    return rc;
}

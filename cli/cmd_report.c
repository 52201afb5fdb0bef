/*
 * cmd_report.c — `dashspec report --out FILE.html`: gathers the status, the
 * plan, every cached value and the statistics of the period, has
 * report_html.c render them, and writes the page atomically (a temporary
 * file next to FILE, then rename), so a web server never serves half a page.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "ds_compiler.h"
#include "report.h"

const char usage_report[] =
    "usage: dashspec report [--db FILE] --out FILE.html [--since DUR] [--now TS]\n"
    "\n"
    "Writes one self-contained HTML page of the dashboard: every item of the plan,\n"
    "grouped by its group, with its cached value (metrics as a number or a small\n"
    "table, series as an SVG line or stacked-bar chart with axes, labels and a\n"
    "legend, a rows chart of (lane, start, end) as a timeline), its state, age, last\n"
    "duration and last error, and its statistics over the period (as `dashspec\n"
    "stats`), then the runs of the period and every item's statistics in one table.\n"
    "No script, no network, no external file: open it anywhere, mail it, serve it.\n"
    "Expired values are shown (marked expired); missing ones say so.\n"
    "\n"
    "  --db FILE     the database (default: $DASHSPEC_DB); opened read-only\n"
    "  --out FILE    the page to write; written to a temporary file beside it and\n"
    "                renamed into place\n"
    "  --since DUR   the statistics' period: 24h (default), 7d, 90m ...\n"
    "  --now TS      the UTC time 'YYYY-MM-DD HH:MM:SS' the page describes\n"
    "\n"
    "exit status: 0 written; 1 FILE cannot be written; 2 usage error; 5 the database\n"
    "cannot be opened or read.\n";

/* Writes b to path through a temporary file in the same directory and a
 * rename. 0, or -1 with errno set (the temporary file is removed). */
static int write_atomic(const char *path, const ds_buf *b)
{
    char *tmp = ds_asprintf("%s.tmp.XXXXXX", path);
    if (!tmp) { errno = ENOMEM; return -1; }
    int fd = mkstemp(tmp), rc = -1, e = 0;
    if (fd < 0) { e = errno; goto out; }
    for (size_t off = 0; off < b->len;) {
        ssize_t n = write(fd, b->p + off, b->len - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) { e = n < 0 ? errno : EIO; break; }
        off += (size_t)n;
    }
    /* mkstemp makes it 0600; a page is for reading (the umask applies). */
    mode_t um = umask(0);
    umask(um);
    if (!e && fchmod(fd, 0666 & ~um) != 0) e = errno;
    if (!e && fsync(fd) != 0) e = errno;
    if (close(fd) != 0 && !e) e = errno;
    if (!e && rename(tmp, path) != 0) e = errno;
    if (e) unlink(tmp);
    else rc = 0;
out:
    free(tmp);
    errno = e;
    return rc;
}

/* The plan row of key in p (ordered by key), or NULL. */
static const ds_item *plan_item(const ds_plan *p, const char *key)
{
    size_t a = 0, b = p->n;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        int c = strcmp(p->items[m].key, key);
        if (c == 0) return &p->items[m];
        if (c < 0) a = m + 1; else b = m;
    }
    for (size_t i = 0; i < p->n; i++)       /* not sorted after all */
        if (strcmp(p->items[i].key, key) == 0) return &p->items[i];
    return NULL;
}

static const ds_item_stats *item_stats(const ds_stats *s, const char *key)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->items[i].key, key) == 0) return &s->items[i];
    return NULL;
}

/* Everything the page shows (gathered_free releases it). */
typedef struct gathered {
    ds_report status;
    ds_plan plan;
    ds_history hist;
    ds_stats stats;
    ds_value *values;
    cli_page_item *items;
} gathered;

/* Reads everything the page shows from db at now into g (zeroed by the
 * caller). Returns DS_OK or the status to exit with (reported into d). */
static int gather(const char *db, int64_t now, int64_t since, gathered *g, ds_diag *d)
{
    int rc = ds_read_status(db, now, &g->status, d);
    if (rc != DS_OK) return rc;
    ds_db *h = NULL;
    if (ds_db_open(db, DS_DB_READONLY, &h, d)) return DS_DBERROR;
    rc = ds_plan_load(h, &g->plan, d) || ds_history_load(h, now - since, now, &g->hist, d)
         ? DS_DBERROR : DS_OK;
    ds_db_close(h);
    if (rc != DS_OK) return rc;
    size_t n = g->status.n;
    const char **keys = calloc(n + 1, sizeof *keys), **groups = calloc(n + 1, sizeof *groups);
    g->values = calloc(n + 1, sizeof *g->values);
    g->items = calloc(n + 1, sizeof *g->items);
    int oom = !keys || !groups || !g->values || !g->items;
    for (size_t i = 0; !oom && i < n; i++) {
        keys[i] = g->status.items[i].key;
        groups[i] = g->status.items[i].group;
    }
    oom = oom || ds_stats_compute(&g->hist, keys, groups, n, NULL, 0, now - since, now, &g->stats);
    free(keys);
    free(groups);
    if (oom) {
        ds_fail(d, DS_FAILED, "out of memory");
        return DS_FAILED;
    }
    for (size_t i = 0; i < n; i++) {
        const ds_report_item *st = &g->status.items[i];
        cli_page_item *pi = &g->items[i];
        pi->st = st;
        pi->plan = plan_item(&g->plan, st->key);
        pi->stats = item_stats(&g->stats, st->key);
        rc = ds_read_get(db, st->key, now, 1, &g->values[i], d);
        if (rc != DS_OK && rc != DS_NOVALUE) return rc;
        pi->json = g->values[i].json;
        pi->len = g->values[i].len;
    }
    return DS_OK;
}

static void gathered_free(gathered *g)
{
    for (size_t i = 0; g->values && i < g->status.n; i++) ds_value_free(&g->values[i]);
    free(g->values);
    free(g->items);
    ds_stats_free(&g->stats);
    ds_history_free(&g->hist);
    ds_plan_free(&g->plan);
    ds_report_free(&g->status);
}

int cmd_report(int argc, char **argv)
{
    const char *dbopt = NULL, *nowopt = NULL, *sinceopt = NULL, *out = NULL, *db, *why = NULL;
    int64_t now, since = 86400;
    int rc;
    ds_diag d;
    ds_buf b;
    gathered g;
    memset(&g, 0, sizeof g);
    ds_plan_init(&g.plan);
    ds_diag_init(&d);
    ds_buf_init(&b);
    const cli_opt opts[] = {
        {"--db", &dbopt, NULL, NULL, NULL},
        {"--now", &nowopt, NULL, NULL, NULL},
        {"--since", &sinceopt, NULL, NULL, NULL},
        {"--out", &out, NULL, NULL, NULL},
        {NULL, NULL, NULL, NULL, NULL}
    };
    if (cli_parse("report", argc, argv, opts, NULL, NULL)) { rc = DS_USAGE; goto done; }
    if (!(db = cli_db(dbopt))) { rc = cli_usage_error("report", "no database given (use --db FILE or set DASHSPEC_DB)"); goto done; }
    if (!out || !*out) { rc = cli_usage_error("report", "where to? (--out FILE.html)"); goto done; }
    if (cli_now("report", nowopt, &now)) { rc = DS_USAGE; goto done; }
    if (sinceopt && (ds_duration_parse(sinceopt, &since, &why) || since <= 0)) {
        rc = cli_usage_error("report", "--since '%s': %s", sinceopt, why ? why : "must be more than 0s");
        goto done;
    }
    if ((rc = gather(db, now, since, &g, &d)) != DS_OK) { rc = cli_report(&d, rc); goto done; }
    cli_page p = {db, now, since, &g.status, &g.stats, &g.hist, g.items, g.status.n};
    cli_report_html(&p, &b);
    if (b.oom) { fprintf(stderr, "dashspec: out of memory\n"); rc = DS_FAILED; goto done; }
    if (write_atomic(out, &b)) {
        fprintf(stderr, "dashspec report: cannot write '%s': %s\n", out, strerror(errno));
        rc = DS_FAILED;
        goto done;
    }
    printf("wrote %s (%zu items, %zu bytes)\n", out, g.status.n, b.len);
    rc = DS_OK;
done:
    gathered_free(&g);
    ds_buf_free(&b);
    ds_diag_free(&d);
    return rc;
}

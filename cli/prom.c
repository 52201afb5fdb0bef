/*
 * prom.c — the Prometheus text exposition format for `status --format
 * prometheus`: one gauge or counter family per fact status knows, each with
 * its HELP and TYPE lines, one sample per plan item labelled {key, group}.
 * No timestamps (the textfile collector refuses them); the file's mtime is
 * node_exporter's own node_textfile_mtime_seconds.
 */
#include <string.h>
#include "prom.h"
#include "render.h"

void cli_prom_label(ds_buf *b, const char *s)
{
    ds_buf e;
    ds_buf_init(&e);
    for (const char *p = s ? s : ""; *p; p++) {
        if (*p == '\\') ds_buf_adds(&e, "\\\\");
        else if (*p == '"') ds_buf_adds(&e, "\\\"");
        else if (*p == '\n') ds_buf_adds(&e, "\\n");
        else ds_buf_addc(&e, *p);
    }
    /* The escapes are printable ASCII and survive the one sanitizer, which
     * makes the rest valid UTF-8 without control characters. */
    if (e.oom) b->oom = 1;
    else if (e.len) cli_clean(b, e.p, e.len);
    ds_buf_free(&e);
}

/* One family's header. */
static void family(ds_buf *b, const char *name, const char *type, const char *help)
{
    ds_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample_start(ds_buf *b, const char *name, const ds_report_item *it)
{
    ds_buf_printf(b, "%s{key=\"", name);
    cli_prom_label(b, it->key);
    ds_buf_adds(b, "\",group=\"");
    cli_prom_label(b, it->group);
    ds_buf_adds(b, "\"} ");
}

/* The families, in output order. ORDER RESERVED: the switch in item_value. */
enum { F_AGE, F_FRESH, F_EXPIRES, F_DURATION, F_ENTRIES, F_CONSEC, F_FAILURES, F_ATTEMPTS, F_N };

static const struct { const char *name, *type, *help; } fam[F_N] = {
    {"dashspec_item_age_seconds", "gauge", "Seconds since the cached value was computed (absent: no value)."},
    {"dashspec_item_fresh", "gauge", "1 when the cached value has not expired, else 0."},
    {"dashspec_item_expires_in_seconds", "gauge", "Seconds until the cached value expires (negative: expired)."},
    {"dashspec_item_last_duration_seconds", "gauge", "Duration of the item's last query."},
    {"dashspec_item_entries", "gauge", "Result rows of the last computed value."},
    {"dashspec_item_consecutive_failures", "gauge", "Failed attempts since the last success."},
    {"dashspec_item_failures_total", "counter", "Failed attempts in the retained history."},
    {"dashspec_item_attempts_total", "counter", "Attempts in the retained history."},
};

/* Appends one item's sample of family f, or nothing when it has none. */
static void item_value(ds_buf *b, int f, const ds_report *r, const ds_report_item *it, const ds_hist_totals *t)
{
    const ds_hist_total *h = t ? ds_hist_totals_find(t, it->key) : NULL;
    int has = it->state != DS_MISSING;
    switch (f) {
    case F_AGE:
        if (has) { sample_start(b, fam[f].name, it); ds_buf_printf(b, "%lld\n", (long long)(r->now - it->created_at)); }
        break;
    case F_FRESH:
        sample_start(b, fam[f].name, it);
        ds_buf_adds(b, it->state == DS_FRESH ? "1\n" : "0\n");
        break;
    case F_EXPIRES:
        if (has) { sample_start(b, fam[f].name, it); ds_buf_printf(b, "%lld\n", (long long)(it->expires_at - r->now)); }
        break;
    case F_DURATION:
        if (it->last_duration_ms >= 0) {
            sample_start(b, fam[f].name, it);
            ds_buf_printf(b, "%lld.%03lld\n", (long long)(it->last_duration_ms / 1000),
                          (long long)(it->last_duration_ms % 1000));
        }
        break;
    case F_ENTRIES:
        if (it->entries >= 0) { sample_start(b, fam[f].name, it); ds_buf_printf(b, "%lld\n", (long long)it->entries); }
        break;
    case F_CONSEC:
        sample_start(b, fam[f].name, it);
        ds_buf_printf(b, "%lld\n", (long long)it->failures);
        break;
    case F_FAILURES:
        if (t) { sample_start(b, fam[f].name, it); ds_buf_printf(b, "%lld\n", (long long)(h ? h->failures : 0)); }
        break;
    case F_ATTEMPTS:
        if (t) { sample_start(b, fam[f].name, it); ds_buf_printf(b, "%lld\n", (long long)(h ? h->attempts : 0)); }
        break;
    default:
        break;
    }
}

void cli_prom_status(const ds_report *r, const ds_hist_totals *t, ds_buf *b)
{
    for (int f = 0; f < F_N; f++) {
        if (!t && (f == F_FAILURES || f == F_ATTEMPTS)) continue;
        family(b, fam[f].name, fam[f].type, fam[f].help);
        for (size_t i = 0; i < r->n; i++) item_value(b, f, r, &r->items[i], t);
    }
    family(b, "dashspec_items", "gauge", "Plan items by the state of their cached value.");
    ds_buf_printf(b, "dashspec_items{state=\"fresh\"} %zu\ndashspec_items{state=\"expired\"} %zu\n"
                     "dashspec_items{state=\"missing\"} %zu\n", r->fresh, r->expired, r->missing);
    family(b, "dashspec_items_failing", "gauge", "Plan items whose last attempt failed.");
    ds_buf_printf(b, "dashspec_items_failing %zu\n", r->failing);
    if (t && t->last_run_started) {
        family(b, "dashspec_last_run_timestamp_seconds", "gauge", "Unix time the newest recorded run started.");
        ds_buf_printf(b, "dashspec_last_run_timestamp_seconds %lld\n", (long long)t->last_run_started);
        family(b, "dashspec_last_run_finished_timestamp_seconds", "gauge", "Unix time the newest recorded run finished.");
        ds_buf_printf(b, "dashspec_last_run_finished_timestamp_seconds %lld\n", (long long)t->last_run_finished);
    }
    family(b, "dashspec_status_timestamp_seconds", "gauge", "Unix time these metrics describe (--now).");
    ds_buf_printf(b, "dashspec_status_timestamp_seconds %lld\n", (long long)r->now);
}

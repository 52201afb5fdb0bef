/*
 * run_out.c — readable `run` lines on a terminal and the --results file
 * (run_out.h). Everything printed goes through the terminal sanitizer:
 * keys are validated, but error messages may quote anything.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "run_out.h"

void run_out_init(run_out *r, FILE *out, int lines, const char *results)
{
    memset(r, 0, sizeof *r);
    r->out = out;
    r->lines = lines;
    r->results = results;
    cli_term_init(&r->t, out);
}

static void item_clear(run_out_item *it)
{
    free(it->key);
    free(it->reason);
    free(it->error);
}

void run_out_free(run_out *r)
{
    for (size_t i = 0; i < r->n; i++) item_clear(&r->v[i]);
    free(r->v);
    r->v = NULL;
    r->n = r->cap = 0;
}

static const char *const status_names[] = {"ok", "failed", "skipped", "interrupted"};  /* ORDER: ds_run_item_status */

/* "  3/12  ok       by_hour        series   24 rows  12ms  (expired 3m ago)" */
static void item_line(run_out *r, const ds_run_event *ev)
{
    static const cli_color colors[] = {CLI_GREEN, CLI_RED, CLI_DIM, CLI_YELLOW};
    ds_buf b;
    char ms[48], word[16];
    ds_buf_init(&b);
    if (ev->index) ds_buf_printf(&b, "%3zu/%-3zu ", ev->index, ev->total);
    else ds_buf_adds(&b, "        ");
    snprintf(word, sizeof word, "%-11s", status_names[ev->status]);
    cli_paint(&b, &r->t, colors[ev->status], word);
    size_t w = cli_clean(&b, ev->key, strlen(ev->key));
    cli_pad(&b, w < 28 ? 28 - w : 1);
    ds_buf_printf(&b, " %-7s", ev->shape < DS_SHAPE_N ? ds_shape_name(ev->shape) : "-");
    if (ev->status == DS_ITEM_OK)
        ds_buf_printf(&b, " %6lld row%s %8s", (long long)ev->rows, ev->rows == 1 ? " " : "s",
                      cli_millis(ev->duration_ms, ms, sizeof ms));
    else if (ev->duration_ms >= 0)
        ds_buf_printf(&b, " %20s", cli_millis(ev->duration_ms, ms, sizeof ms));
    if (ev->status == DS_ITEM_FAILED) {
        ds_buf_adds(&b, "  ");
        cli_clean(&b, ev->error, strlen(ev->error));
        if (ev->reason && strcmp(ev->reason, "does not compile") == 0) ds_buf_adds(&b, " (does not compile)");
    } else if (ev->reason) {
        ds_buf_adds(&b, "  (");
        cli_clean(&b, ev->reason, strlen(ev->reason));
        ds_buf_addc(&b, ')');
    }
    ds_buf_addc(&b, '\n');
    if (b.p && !b.oom) fputs(b.p, r->out);
    fflush(r->out);
    ds_buf_free(&b);
}

/* "Done. OK=3 FAILED=1 SKIPPED=15 TOTAL=19: 42 entries in 0.84s" */
static void summary_line(run_out *r, const ds_run_event *ev)
{
    char ms[48];
    ds_buf b;
    ds_buf_init(&b);
    ds_buf_adds(&b, "\n");
    cli_paint(&b, &r->t, r->failed ? CLI_RED : CLI_GREEN, r->failed ? "Done with failures." : "Done.");
    ds_buf_printf(&b, " OK=%zu FAILED=%zu SKIPPED=%zu", r->ok, r->failed, r->skipped);
    if (r->interrupted) ds_buf_printf(&b, " INTERRUPTED=%zu", r->interrupted);
    ds_buf_printf(&b, " TOTAL=%zu: %lld entr%s in %s\n", r->ok + r->failed + r->skipped + r->interrupted,
                  (long long)ev->rows, ev->rows == 1 ? "y" : "ies", cli_millis(ev->duration_ms, ms, sizeof ms));
    if (b.p && !b.oom) fputs(b.p, r->out);
    fflush(r->out);
    ds_buf_free(&b);
}

static void json_str(ds_buf *b, const char *s)
{
    if (s) ds_json_string(b, s, strlen(s));
    else ds_buf_adds(b, "null");
}

static void json_num(ds_buf *b, int64_t v)
{
    if (v >= 0) ds_json_int(b, v);
    else ds_buf_adds(b, "null");
}

/* The --results document of one cycle. */
static void results_json(const run_out *r, int64_t elapsed_ms, ds_buf *b)
{
    char ts[20];
    ds_time_format(ds_time_now(), ts);
    ds_buf_printf(b, "{\"generated_at\":\"%s\",\"elapsed_ms\":", ts);
    ds_json_int(b, elapsed_ms);
    ds_buf_printf(b, ",\"ok\":%zu,\"failed\":%zu,\"skipped\":%zu,\"interrupted\":%zu,\"results\":[",
                  r->ok, r->failed, r->skipped, r->interrupted);
    for (size_t i = 0; i < r->n; i++) {
        const run_out_item *it = &r->v[i];
        ds_buf_adds(b, i ? ",\n{\"key\":" : "\n{\"key\":");
        json_str(b, it->key);
        ds_buf_printf(b, ",\"status\":\"%s\",\"reason\":", status_names[it->status]);
        json_str(b, it->reason);
        ds_buf_adds(b, ",\"duration_ms\":");
        json_num(b, it->duration_ms);
        ds_buf_adds(b, ",\"rows\":");
        json_num(b, it->rows);
        ds_buf_adds(b, ",\"bytes\":");
        json_num(b, it->bytes);
        ds_buf_adds(b, ",\"error\":");
        json_str(b, it->error);
        ds_buf_addc(b, '}');
    }
    ds_buf_adds(b, "\n]}\n");
}

/* Writes the document next to FILE, then renames it over FILE: a reader
 * sees the old file or the new one, never half of one. */
static int results_write(run_out *r, int64_t elapsed_ms)
{
    ds_buf b;
    ds_buf_init(&b);
    results_json(r, elapsed_ms, &b);
    char *tmp = ds_asprintf("%s.tmp.%ld", r->results, (long)getpid());
    int rc = -1, err = ENOMEM;
    FILE *f = tmp && !b.oom ? fopen(tmp, "w") : NULL;
    if (!f && tmp && !b.oom) err = errno;
    if (f) {
        int bad = fwrite(b.p, 1, b.len, f) != b.len;
        bad |= fflush(f) != 0 || fsync(fileno(f)) != 0;
        if (bad) err = errno;
        bad |= fclose(f) != 0;
        if (!bad && rename(tmp, r->results) == 0) rc = 0;
        else { if (!bad) err = errno; unlink(tmp); }
    }
    if (rc && !r->failed_write) {
        ds_buf m;
        ds_buf_init(&m);
        ds_buf_printf(&m, "dashspec run: cannot write --results '%s': %s\n", r->results, strerror(err));
        if (m.p) cli_print(stderr, m.p);
        ds_buf_free(&m);
    }
    if (rc) r->failed_write = 1;
    free(tmp);
    ds_buf_free(&b);
    return rc;
}

static void keep(run_out *r, const ds_run_event *ev)
{
    if (r->n == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 32;
        run_out_item *nv = realloc(r->v, nc * sizeof *nv);
        if (!nv) return;          /* the file lacks the item; the run goes on */
        r->v = nv;
        r->cap = nc;
    }
    run_out_item *it = &r->v[r->n++];
    it->key = ds_strdup(ev->key);
    it->reason = ev->reason ? ds_strdup(ev->reason) : NULL;
    it->error = ev->error ? ds_strdup(ev->error) : NULL;
    it->status = ev->status;
    it->rows = ev->rows;
    it->bytes = ev->bytes;
    it->duration_ms = ev->duration_ms;
}

void run_out_event(run_out *r, const ds_run_event *ev)
{
    if (!ev->key) {
        if (r->lines) summary_line(r, ev);
        if (r->results) results_write(r, ev->duration_ms);
        run_out_free(r);
        r->ok = r->failed = r->skipped = r->interrupted = 0;
        return;
    }
    if (ev->status == DS_ITEM_OK) r->ok++;
    else if (ev->status == DS_ITEM_FAILED) r->failed++;
    else if (ev->status == DS_ITEM_SKIPPED) r->skipped++;
    else r->interrupted++;
    if (r->lines) item_line(r, ev);
    if (r->results) keep(r, ev);
}

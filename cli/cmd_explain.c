/*
 * cmd_explain.c — `explain KEY`: one item's compiled SQL, its parameters and
 * the engine's query plan (as a tree for SQLite's EXPLAIN QUERY PLAN).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd_read.h"
#include "ds_read.h"
#include "render.h"

const char usage_explain[] =
    "usage: dashspec explain [--db FILE] [--now TS] KEY\n"
    "\n"
    "Shows one item of the compiled plan: its SQL, parameters (name, type, value,\n"
    "and :now), shape and shape options, ttl, refresh, timeout, limits, source\n"
    "file:line, spec hash, and SQLite's EXPLAIN QUERY PLAN of the statement with\n"
    "its parameters bound, as a tree. Nothing is executed and nothing is written.\n"
    "\n"
    "  --db FILE   the database (default: $DASHSPEC_DB); opened read-only, never created\n"
    "  --now TS    the UTC time bound to :now (default: the clock)\n"
    "\n"
    "exit status: 0 shown; 1 KEY is not in the plan (compile first), or the\n"
    "statement no longer prepares (the error is printed after the item); 2 usage\n"
    "error; 5 the database cannot be opened.\n";

/* ---------------------------------------------------------------- explain */

/* Does row k of the query plan have a later sibling? */
static int qp_next_sibling(const ds_explain *e, size_t k)
{
    for (size_t j = k + 1; j < e->nqp; j++)
        if (e->qp[j].parent == e->qp[k].parent) return 1;
    return 0;
}

/* The nearest earlier row with that id (ids are unique in practice). */
static long qp_find(const ds_explain *e, size_t before, int id)
{
    for (size_t j = before; j-- > 0;)
        if (e->qp[j].id == id) return (long)j;
    return -1;
}

/* EXPLAIN QUERY PLAN as the sqlite3 shell draws it:
 *   QUERY PLAN
 *   |--SCAN sites
 *   `--USE TEMP B-TREE FOR ORDER BY */
static void qp_tree(ds_buf *b, const ds_explain *e, const char *indent)
{
    ds_buf_printf(b, "%sQUERY PLAN\n", indent);
    for (size_t i = 0; i < e->nqp; i++) {
        long chain[64];
        size_t n = 0;
        long a = qp_find(e, i, e->qp[i].parent);
        while (a >= 0 && n < 64) {
            chain[n++] = a;
            a = qp_find(e, (size_t)a, e->qp[a].parent);
        }
        ds_buf_adds(b, indent);
        while (n-- > 0) ds_buf_adds(b, qp_next_sibling(e, (size_t)chain[n]) ? "|  " : "   ");
        ds_buf_adds(b, qp_next_sibling(e, i) ? "|--" : "`--");
        cli_clean(b, e->qp[i].detail, strlen(e->qp[i].detail));
        ds_buf_addc(b, '\n');
    }
}

/* A label in the left column, coloured on a terminal. */
static void label(ds_buf *b, const cli_term *t, const char *l)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%-10s", l);
    cli_paint(b, t, CLI_BOLD, tmp);
}

/* Multi-line text (SQL) with every line indented and cleaned. */
static void block(ds_buf *b, const char *s, const char *indent)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ')) n--;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '\n') j++;
        ds_buf_adds(b, indent);
        cli_clean(b, s + i, j - i);
        ds_buf_addc(b, '\n');
        i = j + 1;
    }
}

static void param_value(ds_buf *v, const ds_param *pa)
{
    switch (pa->type) {
    case DS_PARAM_INT: ds_buf_printf(v, "%lld", (long long)pa->i); break;
    case DS_PARAM_BOOL: ds_buf_printf(v, "%s (bound as %lld)", pa->i ? "true" : "false", (long long)pa->i); break;
    case DS_PARAM_REAL: ds_json_double(v, pa->r); break;
    case DS_PARAM_TEXT:
        ds_buf_addc(v, '\'');
        for (const char *c = pa->s ? pa->s : ""; *c; c++) {
            if (*c == '\'') ds_buf_addc(v, '\'');   /* as an SQL literal */
            ds_buf_addc(v, *c);
        }
        ds_buf_addc(v, '\'');
        break;
    }
}

static const char *param_type(ds_param_type t)
{
    return t == DS_PARAM_INT ? "integer" : t == DS_PARAM_REAL ? "real" : t == DS_PARAM_BOOL ? "boolean" : "text";
}

static int explain_print(const ds_explain *e, const cli_term *t, ds_buf *b)
{
    const ds_item *it = &e->item;
    char d1[48], d2[48], d3[48];
    cli_paint(b, t, CLI_BOLD, it->key);
    ds_buf_printf(b, "  (%s, shape %s", ds_kind_name(it->kind), ds_shape_name(it->shape));
    if (it->group) { ds_buf_adds(b, ", group "); cli_clean(b, it->group, strlen(it->group)); }
    ds_buf_adds(b, ")\n");
    if (it->description) {
        label(b, t, "about");
        cli_clean(b, it->description, strlen(it->description));
        ds_buf_addc(b, '\n');
    }
    label(b, t, "source");
    cli_clean(b, it->file ? it->file : "?", strlen(it->file ? it->file : "?"));
    ds_buf_printf(b, ":%d\n", it->line);
    label(b, t, "hash");
    ds_buf_adds(b, it->hash);
    if (e->compiled_at) { ds_buf_adds(b, ", compiled "); cli_clean(b, e->compiled_at, strlen(e->compiled_at)); }
    if (e->engine_version) { ds_buf_adds(b, strchr(e->engine_version, ' ') || strncmp(e->engine_version, "3.", 2) != 0 ? " with PostgreSQL " : " with SQLite "); cli_clean(b, e->engine_version, strlen(e->engine_version)); }
    ds_buf_addc(b, '\n');
    label(b, t, "timing");
    ds_buf_printf(b, "ttl %s, refresh %s, timeout %s\n", ds_duration_format(it->ttl, d1, sizeof d1),
                  ds_duration_format(it->refresh, d2, sizeof d2), ds_duration_format(it->timeout, d3, sizeof d3));
    label(b, t, "limits");
    ds_buf_printf(b, "max_rows %lld, max_bytes %lld\n", (long long)it->max_rows, (long long)it->max_bytes);
    if (it->ntags) {
        label(b, t, "tags");
        for (size_t i = 0; i < it->ntags; i++) {
            if (i) ds_buf_adds(b, ", ");
            cli_clean(b, it->tags[i], strlen(it->tags[i]));
        }
        ds_buf_addc(b, '\n');
    }
    if (it->shape == DS_SHAPE_SERIES) {
        label(b, t, "series");
        ds_buf_adds(b, "x ");
        cli_clean(b, it->x ? it->x : "?", strlen(it->x ? it->x : "?"));
        ds_buf_adds(b, ", y ");
        if (!it->ny) ds_buf_adds(b, "(every other column)");
        for (size_t i = 0; i < it->ny; i++) {
            if (i) ds_buf_adds(b, ", ");
            cli_clean(b, it->y[i], strlen(it->y[i]));
        }
        if (it->series_by) { ds_buf_adds(b, ", series_by "); cli_clean(b, it->series_by, strlen(it->series_by)); }
        ds_buf_adds(b, ", fill ");
        cli_clean(b, it->fill ? it->fill : "null", strlen(it->fill ? it->fill : "null"));
        ds_buf_addc(b, '\n');
    }

    ds_buf_addc(b, '\n');
    cli_paint(b, t, CLI_BOLD, "parameters");
    ds_buf_addc(b, '\n');
    const char *hdr[] = {"name", "type", "value"};
    cli_table *tb = cli_table_new(3, hdr);
    if (!tb) return -1;
    cli_table_align(tb, 2, CLI_LEFT);
    for (size_t i = 0; i < it->nparams; i++) {
        ds_buf v;
        ds_buf_init(&v);
        param_value(&v, &it->params[i]);
        cli_table_cellf(tb, CLI_NONE, ":%s", it->params[i].name);
        cli_table_cell(tb, param_type(it->params[i].type), CLI_NONE);
        cli_table_celln(tb, v.p ? v.p : "", v.len, CLI_NONE);
        if (v.oom) b->oom = 1;
        ds_buf_free(&v);
    }
    cli_table_cell(tb, ":now", CLI_NONE);
    cli_table_cell(tb, "text", CLI_NONE);
    cli_table_cellf(tb, CLI_NONE, "'%s' (built in)", e->now);
    ds_buf tbl;
    ds_buf_init(&tbl);
    int rc = cli_table_render(tb, t, &tbl);
    cli_table_free(tb);
    if (rc == 0) block(b, tbl.p ? tbl.p : "", "  ");
    ds_buf_free(&tbl);
    if (rc) return -1;

    ds_buf_addc(b, '\n');
    cli_paint(b, t, CLI_BOLD, "sql");
    ds_buf_addc(b, '\n');
    block(b, it->query, "  ");
    if (!e->qp_error) {
        ds_buf_addc(b, '\n');
        cli_paint(b, t, CLI_BOLD, "query plan");
        ds_buf_addc(b, '\n');
        qp_tree(b, e, "  ");
    }
    return b->oom ? -1 : 0;
}

int cmd_explain(int argc, char **argv)
{
    read_args a;
    int rc;
    ds_diag d;
    ds_explain e;
    ds_buf b;
    memset(&e, 0, sizeof e);
    ds_diag_init(&d);
    ds_buf_init(&b);
    if ((rc = cli_read_setup("explain", argc, argv, RA_NOW | RA_ONE_KEY, &a))) goto out;
    const char **pos = a.pos;
    rc = ds_read_explain(a.db, pos[0], a.now, &e, &d);
    if (rc != DS_OK) { rc = cli_report(&d, rc); goto out; }
    cli_term t;
    cli_term_init(&t, stdout);
    if (explain_print(&e, &t, &b)) { b.oom = 1; }
    if ((rc = cli_read_emit(&b)) != DS_OK) goto out;
    if (e.qp_error) {
        fflush(stdout);
        cli_say(stderr, "dashspec explain: the statement of '%s' no longer prepares: %s\n", pos[0], e.qp_error);
        rc = DS_FAILED;
    }
out:
    ds_buf_free(&b);
    ds_explain_free(&e);
    ds_diag_free(&d);
    free(a.pos);
    return rc;
}


/*
 * cmd_check.c — `check`, `compile` and `list`: the commands that read specs.
 *
 * Output rules (docs/checking.md): check prints every diagnostic (errors
 * and warnings, about a file or not, such as "SQL was not prepared") and then
 * its summary line on stdout, one ordered stream whatever the redirection:
 * its findings are its output, as `--format json | jq` and GitHub annotations
 * expect. Only when the check could not run at all (the database cannot be
 * opened, a bad --schema) does the reason go to stderr. compile prints
 * diagnostics on stderr and one line of result on stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "ds_compiler.h"
#include "ds_runtime.h"
#include "ds_project.h"
#include "ds_select.h"
#include "render.h"
#include "engine.h"

const char usage_check[] =
    "usage: dashspec check [--specs DIR] [--db FILE | --schema FILE.sql | --migrations DIR]\n"
    "                      [--source URI] [--format text|json|github] [--explain]\n"
    "                      [--strict | -W error] [--select SEL]... [--exclude SEL]...\n"
    "                      [FILE...]\n"
    "\n"
    "Validates every spec file under DIR (default: specs): YAML, fields, durations,\n"
    "keys, parameters, and the SQL of every item. Writes nothing.\n"
    "\n"
    "The SQL is prepared against a schema, from one of:\n"
    "  --db FILE          an existing database, opened read-only (never created);\n"
    "                     without any of the three, $DASHSPEC_DB when it is set\n"
    "  --schema FILE.sql  a script of CREATE statements, run into a private\n"
    "                     in-memory database\n"
    "  --migrations DIR   every DIR/*.sql, applied in name order into memory\n"
    "  --source URI       the database the queries will run on (a read replica,\n"
    "                     as for run --source), opened read-only: prepared there\n"
    "                     instead of --db (default: dashspec.yaml's source, when\n"
    "                     the SQL is prepared against a database)\n"
    "With none of them the SQL is not prepared (one warning says so): the rules\n"
    "that need no schema still run (one statement, read-only verb, parameters).\n"
    "\n"
    "options:\n"
    "  --specs DIR        the specs directory (default: specs)\n"
    "  --format FMT       text (default): FILE:LINE:COL: error: MESSAGE [key]\n"
    "                     github: ::error file=F,line=L,col=C::MESSAGE\n"
    "                     json: one array of {file, line, col, severity, key, message}\n"
    "  --explain          with --db: run EXPLAIN QUERY PLAN for every item and warn\n"
    "                     about full scans of tables with more than 10000 rows,\n"
    "                     naming the columns an index would need\n"
    "  --strict, -W error treat warnings as errors (exit 1), for CI\n"
    "  --select SEL       report only the selected items: a key glob, tag:NAME,\n"
    "                     group:NAME or file:PATH (relative to DIR); repeatable\n"
    "  --exclude SEL      leave these out (--only and --group: aliases)\n"
    "  FILE...            report only these spec files; keys are still checked for\n"
    "                     duplicates against the whole specs directory\n"
    "\n"
    "Diagnostics go to stdout, one line each, ordered by file and line, then (text\n"
    "and github formats) one summary line: everything in one ordered stream.\n"
    "Warnings appear in every format and do not change the exit status unless\n"
    "--strict is given. When the check cannot run (database, --schema) the reason\n"
    "goes to stderr.\n"
    "\n"
    "exit status: 0 no errors, 1 errors in the specs, 2 usage error (or a bad\n"
    "--schema / --migrations), 5 the database cannot be opened\n"
    "\n"
    "examples:\n"
    "  dashspec check --schema db/schema.sql\n"
    "  dashspec check --db app.db --explain\n"
    "  dashspec check --migrations db/migrations --format github --strict   # in CI\n";

const char usage_compile[] =
    "usage: dashspec compile --db FILE [--specs DIR]\n"
    "\n"
    "Checks the specs against the database, then writes the compiled plan into\n"
    "its dashspec_plan table in one transaction (creating dashspec's tables on\n"
    "first use). All or nothing: with any error nothing is written. Items removed\n"
    "from the specs lose their plan row; their cache rows stay until `clear` or\n"
    "expiry. An unchanged plan is left as it is.\n"
    "\n"
    "options:\n"
    "  --db FILE      the database (else $DASHSPEC_DB); it must exist and be writable\n"
    "  --specs DIR    the specs directory (default: specs)\n"
    "\n"
    "Diagnostics go to stderr as FILE:LINE:COL: error: MESSAGE [key]; on success\n"
    "one line on stdout: compiled N items into FILE.\n"
    "\n"
    "exit status: 0 compiled, 1 errors in the specs (nothing written), 2 usage\n"
    "error, 5 the database cannot be opened or written\n"
    "\n"
    "examples:\n"
    "  dashspec compile --db app.db\n"
    "  DASHSPEC_DB=app.db dashspec compile --specs dashboards/\n";

const char usage_list[] =
    "usage: dashspec list [--specs DIR] [--db FILE] [--json] [--select SEL]... [--exclude SEL]...\n"
    "\n"
    "Lists the items: key, kind, shape, ttl, refresh, group and source (file:line).\n"
    "Read from the specs (DIR, default specs); with --db (or $DASHSPEC_DB) and no\n"
    "--specs, from the plan compiled into that database.\n"
    "\n"
    "options:\n"
    "  --specs DIR    list the specs in DIR\n"
    "  --db FILE      list the compiled plan of FILE (opened read-only)\n"
    "  --json         one JSON array of {key, kind, shape, ttl, refresh, timeout,\n"
    "                 max_rows, max_bytes, group, tags, description, source};\n"
    "                 durations in seconds\n"
    "  --select SEL   only the selected items: a key glob, tag:NAME, group:NAME or\n"
    "                 file:PATH; repeatable, a union (--only, --group: aliases)\n"
    "  --exclude SEL  leave these out\n"
    "\n"
    "Errors in the specs are printed on stderr (the SQL is not prepared: use\n"
    "`dashspec check` for that).\n"
    "\n"
    "exit status: 0 ok, 1 the specs have errors, 2 usage error, 5 the database\n"
    "cannot be opened\n"
    "\n"
    "examples:\n"
    "  dashspec list\n"
    "  dashspec list --db app.db --json\n";

/* ---------------------------------------------------------------- output */

static int parse_format(const char *s, ds_diag_format *f)
{
    for (int i = 0; i < DS_FMT_N; i++)
        if (strcmp(s, ds_diag_format_names[i]) == 0) { *f = (ds_diag_format)i; return 0; }
    return -1;
}

/* Renders the entries of d that are (want_file) or are not about a file, in
 * fmt, to f. The view borrows d's entries. */
static void print_some(const ds_diag *d, int want_file, ds_diag_format fmt, FILE *f)
{
    ds_diag view = *d;
    view.n = view.cap = 0;
    view.v = malloc((d->n ? d->n : 1) * sizeof *view.v);
    if (!view.v) { fputs("dashspec: out of memory\n", stderr); return; }
    for (size_t i = 0; i < d->n; i++)
        if (!d->v[i].file == !want_file) view.v[view.n++] = d->v[i];
    if (view.n || fmt == DS_FMT_JSON) {
        char *s = cli_diag_render(&view, fmt);
        if (s) fputs(s, f);
        else fputs("dashspec: out of memory\n", stderr);
        free(s);
    }
    free(view.v);
}

/* "dashspec: 3 errors in 2 files" on f, when there are errors. */
static void summary(const ds_diag *d, const char *tail, FILE *f)
{
    size_t nerr = 0, nfiles = 0;
    for (size_t i = 0; i < d->n; i++) {
        const ds_diag_entry *e = &d->v[i];
        if (e->sev != DS_SEV_ERROR) continue;
        nerr++;
        if (!e->file) continue;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            if (d->v[j].sev == DS_SEV_ERROR && d->v[j].file && strcmp(d->v[j].file, e->file) == 0) seen = 1;
        if (!seen) nfiles++;
    }
    if (nerr && nfiles)
        fprintf(f, "dashspec: %zu error%s in %zu file%s%s\n", nerr, nerr == 1 ? "" : "s",
                nfiles, nfiles == 1 ? "" : "s", tail);
    else if (nerr)
        fprintf(f, "dashspec: %zu error%s%s\n", nerr, nerr == 1 ? "" : "s", tail);
}

/* ---------------------------------------------------------------- check */

/* The check's selection: --select/--exclude and the FILE arguments (their
 * real paths; a file that does not exist was a usage error already). */
typedef struct check_sel {
    const ds_select *sel;
    char **files;
    size_t nfiles;
} check_sel;

static int file_chosen(const check_sel *c, const char *file)
{
    if (!c->nfiles) return 1;
    if (!file) return 0;
    char *rp = realpath(file, NULL);
    int hit = 0;
    for (size_t i = 0; rp && i < c->nfiles && !hit; i++) hit = strcmp(rp, c->files[i]) == 0;
    free(rp);
    return hit;
}

/* Whether a diagnostic concerns the selection: an item's (by its key) when
 * the item is selected and lives in a chosen file; a file's when the file is
 * chosen and a key-only view of it passes the selectors; always when it is
 * about neither (no schema, the database). */
static int diag_chosen(const check_sel *c, const ds_plan *p, const ds_diag_entry *e)
{
    if (!e->file && !e->key) return 1;
    for (size_t i = 0; e->key && i < p->n; i++) {
        const ds_item *it = &p->items[i];
        if (it->key && strcmp(it->key, e->key) == 0 && ds_select_item(c->sel, it) && file_chosen(c, it->file))
            return 1;
    }
    ds_sel_view v = {e->key, NULL, NULL, 0, e->file};
    return file_chosen(c, e->file) && ds_select_match(c->sel, &v);
}

/* Drops the diagnostics outside the selection; the counts follow. */
static void diag_select(const check_sel *c, const ds_plan *p, ds_diag *d)
{
    size_t k = 0;
    for (size_t i = 0; i < d->n; i++) {
        ds_diag_entry *e = &d->v[i];
        if (diag_chosen(c, p, e)) { d->v[k++] = *e; continue; }
        if (e->sev == DS_SEV_ERROR && d->nerrors) d->nerrors--;
        else if (e->sev == DS_SEV_WARNING && d->nwarnings) d->nwarnings--;
        free(e->file);
        free(e->key);
        free(e->msg);
    }
    d->n = k;
}

/* Resolves the FILE arguments of check; DS_USAGE after a message. */
static int check_files(const char *const *pos, size_t npos, check_sel *c)
{
    if (npos && !(c->files = calloc(npos, sizeof *c->files))) return cli_usage_error("check", "out of memory");
    for (size_t i = 0; i < npos; i++) {
        if (!(c->files[i] = realpath(pos[i], NULL)))
            return cli_usage_error("check", "cannot read '%s': no such file", pos[i]);
        c->nfiles++;
    }
    return 0;
}

/* Where check prepares the SQL: the flags as given in *db, schema,
 * *migrations and source, and the defaults (docs/project.md). A live
 * database is replaced by the source the queries will run on (--source,
 * else the project file's source: as for run), so a replica's schema is
 * what the queries are checked against. 0, or DS_USAGE (reported). */
static int pick_schema(const char **db, const char *schema, const char **migrations, const char *source)
{
    /* --db URI with --schema/--migrations: a scratch schema there (PostgreSQL) */
    int pg_scratch = *db && ds_engine_is_postgres(*db) && !!schema + !!*migrations == 1;
    if (!!*db + !!schema + !!*migrations - pg_scratch > 1)
        return cli_usage_error("check", "give only one of --db, --schema and --migrations"
                                        " (a PostgreSQL --db takes one of the other two)");
    if (source && (schema || *migrations))
        return cli_usage_error("check", "--source is a live database the queries run on: give it alone"
                                        " or with --db, not with --schema or --migrations");
    if (!*db && !schema && !*migrations && !source) {
        /* $DASHSPEC_DB, else the project file's migrations, else its database. */
        const ds_project *pr = cli_project();
        const char *env = getenv("DASHSPEC_DB");
        if (env && *env) *db = env;
        else if (pr && pr->migrations) *migrations = pr->migrations;
        else *db = cli_db(NULL);
    }
    if (!source && *db && !schema && !*migrations) {
        const ds_project *pr = cli_project();
        if (pr && pr->source && *pr->source) source = pr->source;
    }
    if (source) *db = source;
    return 0;
}

static int check_run(const char *specs, const char *db, const char *schema, const char *migrations,
                     const char *format, const char *wopt, int explain, int strict, const check_sel *c);

int cmd_check(int argc, char **argv)
{
    const char *specs = NULL, *db = NULL, *schema = NULL, *migrations = NULL, *format = NULL;
    const char *wopt = NULL, *source = NULL;
    int explain = 0, strict = 0;
    cli_sel cs = {0};
    const char **pos = NULL;
    size_t npos = 0;
    ds_select sel;
    check_sel c = {&sel, NULL, 0};
    ds_select_init(&sel);
    cli_opt opts[] = {
        CLI_SEL_OPTS(cs),
        {"--strict", NULL, &strict, NULL, NULL},
        {"-W", &wopt, NULL, NULL, NULL},
        {"--specs", &specs, NULL, NULL, NULL},
        {"--db", &db, NULL, NULL, NULL},
        {"--schema", &schema, NULL, NULL, NULL},
        {"--migrations", &migrations, NULL, NULL, NULL},
        {"--format", &format, NULL, NULL, NULL},
        {"--explain", NULL, &explain, NULL, NULL},
        {"--source", &source, NULL, NULL, NULL},
        {NULL, NULL, NULL, NULL, NULL}
    };
    int rc = DS_USAGE;
    if (cli_parse("check", argc, argv, opts, &pos, &npos) || cli_sel_build("check", &cs, NULL, 0, &sel) ||
        check_files(pos, npos, &c) || pick_schema(&db, schema, &migrations, source && *source ? source : NULL))
        goto out;
    rc = check_run(specs, db, schema, migrations, format, wopt, explain, strict, &c);
out:
    for (size_t i = 0; i < c.nfiles; i++) free(c.files[i]);
    free(c.files);
    free(pos);
    cli_sel_free(&cs);
    ds_select_free(&sel);
    return rc;
}

static int check_run(const char *specs, const char *db, const char *schema, const char *migrations,
                     const char *format, const char *wopt, int explain, int strict, const check_sel *c)
{
    if (wopt && strcmp(wopt, "error") != 0)
        return cli_usage_error("check", "-W takes 'error' (warnings become errors), not '%s'", wopt);
    strict |= wopt != NULL;
    ds_diag_format fmt = DS_FMT_TEXT;
    if (format && parse_format(format, &fmt))
        return cli_usage_error("check", "--format must be text, json or github, not '%s'", format);
    specs = cli_specs(specs);
    if (explain && !db)
        return cli_usage_error("check", "--explain needs --db FILE (it looks at the rows of the real tables)");

    ds_check_opts o = {specs, db, schema, migrations, explain};
    ds_plan p;
    ds_diag d;
    ds_diag_init(&d);
    ds_status st = ds_check(&o, &p, &d);
    if ((st == DS_OK || st == DS_FAILED) && (c->nfiles || ds_select_active(c->sel))) {
        diag_select(c, &p, &d);
        if (st == DS_FAILED && !d.nerrors) st = DS_OK;
    }
    if ((st == DS_OK || st == DS_FAILED) && strict && d.nwarnings) {
        /* --strict: every warning is reported, and counted, as an error. */
        for (size_t i = 0; i < d.n; i++) d.v[i].sev = DS_SEV_ERROR;
        d.nerrors += d.nwarnings;
        d.nwarnings = 0;
        st = DS_FAILED;
    }
    if (st == DS_OK || st == DS_FAILED) {
        char *s = cli_diag_render(&d, fmt);
        if (s) fputs(s, stdout);
        else fputs("dashspec: out of memory\n", stderr);
        free(s);
        if (fmt != DS_FMT_JSON) summary(&d, "", stdout);
    } else {
        /* The check did not run (bad schema, database): say why on stderr. */
        print_some(&d, 0, DS_FMT_TEXT, stderr);
        print_some(&d, 1, DS_FMT_TEXT, stderr);
    }
    ds_plan_free(&p);
    ds_diag_free(&d);
    return st;
}

/* ---------------------------------------------------------------- compile */

int cmd_compile(int argc, char **argv)
{
    const char *dbo = NULL, *specs = NULL;
    cli_opt opts[] = {
        {"--db", &dbo, NULL, NULL, NULL},
        {"--specs", &specs, NULL, NULL, NULL},
        {NULL, NULL, NULL, NULL, NULL}
    };
    if (cli_parse("compile", argc, argv, opts, NULL, NULL)) return DS_USAGE;
    const char *db = cli_db(dbo);
    if (!db) return cli_usage_error("compile", "no database given (use --db FILE or set DASHSPEC_DB)");
    specs = cli_specs(specs);
    ds_diag d;
    size_t n = 0;
    int changed = 0;
    ds_diag_init(&d);
    ds_status st = ds_compile_file(db, specs, &n, &changed, &d);
    print_some(&d, 1, DS_FMT_TEXT, stderr);
    print_some(&d, 0, DS_FMT_TEXT, stderr);
    if (st == DS_OK) {
        char *shown = ds_engine_redact(db);     /* never a password */
        char *line = shown ? ds_asprintf("compiled %zu item%s into %s%s\n", n, n == 1 ? "" : "s", shown,
                                         changed ? "" : " (plan unchanged)") : NULL;
        free(shown);
        if (!line || cli_print(stdout, line)) fputs("dashspec: out of memory\n", stderr);
        free(line);
    } else if (st == DS_FAILED)
        summary(&d, "; nothing was written", stderr);
    ds_diag_free(&d);
    return st;
}

/* ---------------------------------------------------------------- list */

static void list_json(const ds_plan *p)
{
    ds_buf b;
    ds_buf_init(&b);
    ds_buf_addc(&b, '[');
    for (size_t i = 0; i < p->n; i++) {
        const ds_item *it = &p->items[i];
        const char *key = it->key ? it->key : "";
        if (i) ds_buf_addc(&b, ',');
        ds_buf_adds(&b, "{\"key\":");
        ds_json_string(&b, key, strlen(key));
        ds_buf_printf(&b, ",\"kind\":\"%s\",\"shape\":\"%s\"", ds_kind_name(it->kind), ds_shape_name(it->shape));
        ds_buf_printf(&b, ",\"ttl\":%lld,\"refresh\":%lld,\"timeout\":%lld,\"max_rows\":%lld,\"max_bytes\":%lld",
                      (long long)it->ttl, (long long)it->refresh, (long long)it->timeout,
                      (long long)it->max_rows, (long long)it->max_bytes);
        ds_buf_adds(&b, ",\"group\":");
        if (it->group) ds_json_string(&b, it->group, strlen(it->group));
        else ds_buf_adds(&b, "null");
        ds_buf_adds(&b, ",\"tags\":[");
        for (size_t k = 0; k < it->ntags; k++) {
            if (k) ds_buf_addc(&b, ',');
            ds_json_string(&b, it->tags[k], strlen(it->tags[k]));
        }
        ds_buf_adds(&b, "],\"description\":");
        if (it->description) ds_json_string(&b, it->description, strlen(it->description));
        else ds_buf_adds(&b, "null");
        char *src = ds_asprintf("%s:%d", it->file ? it->file : "", it->line);
        ds_buf_adds(&b, ",\"source\":");
        if (src) ds_json_string(&b, src, strlen(src));
        free(src);
        ds_buf_addc(&b, '}');
    }
    ds_buf_adds(&b, "]\n");
    if (b.oom) fputs("dashspec: out of memory\n", stderr);
    else fputs(b.p, stdout);
    ds_buf_free(&b);
}

static int list_table(const ds_plan *p)
{
    static const char *const hdr[] = {"KEY", "KIND", "SHAPE", "TTL", "REFRESH", "GROUP", "SOURCE"};
    cli_term t;
    cli_term_init(&t, stdout);
    cli_table *tb = cli_table_new(7, hdr);
    if (!tb) return -1;
    cli_table_align(tb, 3, CLI_RIGHT);
    cli_table_align(tb, 4, CLI_RIGHT);
    for (size_t i = 0; i < p->n; i++) {
        const ds_item *it = &p->items[i];
        char ttl[32], refresh[32];
        cli_table_cell(tb, it->key, CLI_NONE);
        cli_table_cell(tb, ds_kind_name(it->kind), CLI_NONE);
        cli_table_cell(tb, ds_shape_name(it->shape), CLI_NONE);
        cli_table_cell(tb, ds_duration_format(it->ttl, ttl, sizeof ttl), CLI_NONE);
        cli_table_cell(tb, ds_duration_format(it->refresh, refresh, sizeof refresh), CLI_NONE);
        cli_table_cell(tb, it->group ? it->group : "-", CLI_NONE);
        cli_table_cellf(tb, CLI_NONE, "%s:%d", it->file ? it->file : "", it->line);
    }
    ds_buf b;
    ds_buf_init(&b);
    int rc = cli_table_render(tb, &t, &b);
    if (rc == 0 && b.p) fputs(b.p, stdout);
    ds_buf_free(&b);
    cli_table_free(tb);
    return rc;
}

int cmd_list(int argc, char **argv)
{
    const char *specs = NULL, *dbo = NULL;
    int json = 0;
    cli_sel cs = {0};
    ds_select sel;
    cli_opt opts[] = {
        CLI_SEL_OPTS(cs),
        {"--specs", &specs, NULL, NULL, NULL},
        {"--db", &dbo, NULL, NULL, NULL},
        {"--json", NULL, &json, NULL, NULL},
        {NULL, NULL, NULL, NULL, NULL}
    };
    if (cli_parse("list", argc, argv, opts, NULL, NULL) || cli_sel_build("list", &cs, NULL, 0, &sel)) {
        cli_sel_free(&cs);
        return DS_USAGE;
    }
    cli_sel_free(&cs);
    const char *db = cli_db(dbo);
    /* A project file's specs are listed unless --db alone asks for the plan. */
    if (!specs && !dbo) specs = cli_specs(NULL);
    ds_plan p;
    ds_diag d;
    ds_plan_init(&p);
    ds_diag_init(&d);
    if (specs || !db) {
        ds_spec_load_dir(specs ? specs : "specs", &p, &d);
        if (d.status == DS_OK || d.status == DS_FAILED) ds_sql_validate(NULL, &p, &d);
        ds_diag_sort(&d);
    } else {
        ds_db *h = NULL;
        if (ds_db_open(db, DS_DB_READONLY, &h, &d) == 0) ds_plan_load(h, &p, &d);
        ds_db_close(h);
    }
    ds_plan_select(&p, &sel);
    ds_select_free(&sel);
    int rc = d.nerrors ? (d.status != DS_OK ? (int)d.status : DS_FAILED) : DS_OK;
    print_some(&d, 1, DS_FMT_TEXT, stderr);
    print_some(&d, 0, DS_FMT_TEXT, stderr);
    if (rc == DS_OK || rc == DS_FAILED) {
        if (json) list_json(&p);
        else if (list_table(&p)) { fputs("dashspec: out of memory\n", stderr); rc = DS_FAILED; }
    }
    ds_plan_free(&p);
    ds_diag_free(&d);
    return rc;
}

/*
 * check_examples.c — the bundled example and the user documentation.
 *
 * - The example specs (specs/) pass `check --migrations examples/migrations`.
 * - The example database, generated tiny into a temp dir, compiles and runs
 *   at the reference time with every item computed, and a second run finds
 *   nothing due; a few values are recomputed here with plain SQL.
 * - examples/make-db.sh is deterministic and honours REF.
 * - The docs cannot rot: every command in a ```sh block of README.md,
 *   docs/cookbook.md and docs/operations.md is run, in document order, in a
 *   fresh directory holding a copy of specs/, examples/migrations/ and a tiny
 *   examples/demo.db (see "Running the docs" below for the rules).
 * - The man page names every command, option and exit code of the contract.
 */
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "dashspec.h"
#include "ds_test.h"

#define REF "2026-02-12 10:00:00"     /* examples/make-db.sh's default reference time */
#define TINY "0.01"                   /* scale of the test databases: ~30k rows, fast */

/* The items of a specs directory, counted by the loader (not by a constant:
 * a user who adds a spec under specs/, as docs/cookbook.md says, must not
 * break these tests). */
typedef struct { long long metrics, charts; } spec_count;

static spec_count count_items(const char *specs)
{
    ds_plan pl;
    ds_diag d;
    ds_plan_init(&pl);
    ds_diag_init(&d);
    ck_assert_msg(ds_spec_load_dir(specs, &pl, &d) == 0, "specs in %s do not load", specs);
    spec_count c = {0, 0};
    for (size_t i = 0; i < pl.n; i++) {
        if (pl.items[i].kind == DS_KIND_METRIC) c.metrics++;
        else c.charts++;
    }
    ds_plan_free(&pl);
    ds_diag_free(&d);
    ck_assert_int_gt(c.metrics, 0);
    ck_assert_int_gt(c.charts, 0);
    return c;
}

/* A user's own spec, as the cookbook adds one: one metric, one chart. */
static const char user_spec[] =
    "version: 1\n"
    "defaults: { ttl: 1h, group: mine }\n"
    "metrics:\n"
    "  - key: zz_user_sites_today\n"
    "    shape: scalar\n"
    "    query: SELECT COUNT(*) FROM sites WHERE created_at >= date(:now)\n"
    "charts:\n"
    "  - key: zz_user_statuses\n"
    "    shape: rows\n"
    "    query: SELECT status, COUNT(*) AS n FROM sites GROUP BY status ORDER BY status\n";

/* ---------------------------------------------------------------- helpers */

/* Prepares a scratch directory: bin/dashspec (a wrapper that runs $DS_BIN,
 * under valgrind when DS_VALGRIND=1), copies of specs/ and
 * examples/migrations/. Returns the directory (ds_tmp_cleanup it). */
static char *scratch(void)
{
    char *t = ds_tmpdir();
    const char *bin = getenv("DS_BIN");
    ck_assert_msg(bin != NULL, "DS_BIN is not set (run the tests through make)");
    int vg = getenv("DS_VALGRIND") && strcmp(getenv("DS_VALGRIND"), "1") == 0;
    char wrapper[8192];
    snprintf(wrapper, sizeof wrapper, "#!/bin/sh\nexec %s'%s' \"$@\"\n",
             vg ? "valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite " : "",
             bin);
    free(ds_write(t, "bin/dashspec", wrapper));
    char path[4096];
    snprintf(path, sizeof path, "%s/bin/dashspec", t);
    ck_assert_int_eq(chmod(path, 0755), 0);
    char *specs = ds_src("specs"), *mig = ds_src("examples/migrations");
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/examples' && cp -R '%s' '%s/specs' && cp -R '%s' '%s/examples/migrations'",
             t, specs, t, mig, t);
    ck_assert_msg(system(cmd) == 0, "cannot copy the example into %s", t);
    free(specs);
    free(mig);
    return t;
}

/* Runs a shell script (text) with cwd = dir and a cron-like environment:
 * PATH=dir/bin:/usr/bin:/bin, HOME=dir. stdout and stderr go to *log
 * (malloc'd, caller frees; may be NULL to discard). Returns the exit status. */
static int sh_run(const char *dir, const char *script, char **log)
{
    static int seq;
    char spath[4096], lpath[4096];
    snprintf(spath, sizeof spath, "ds-script-%d.sh", ++seq);
    free(ds_write(dir, spath, script));
    snprintf(lpath, sizeof lpath, "%s/ds-script-%d.log", dir, seq);
    char env_path[4200], env_home[4200];
    snprintf(env_path, sizeof env_path, "PATH=%s/bin:/usr/bin:/bin", dir);
    snprintf(env_home, sizeof env_home, "HOME=%s", dir);
    char *const envp[] = {env_path, env_home, "LANG=C.UTF-8", NULL};
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(lpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int in = open("/dev/null", O_RDONLY);
        if (fd < 0 || in < 0 || chdir(dir) != 0) _exit(126);
        dup2(in, 0); dup2(fd, 1); dup2(fd, 2);
        close(in); close(fd);
        execle("/bin/sh", "sh", spath, (char *)NULL, envp);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    if (log) {
        *log = ds_slurp(lpath);
        if (!*log) *log = strdup("");
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Generates the example database at rel (relative to dir) at the given scale
 * with examples/make-db.sh; env is extra "NAME=value " text or "". */
static void make_db(const char *dir, const char *rel, const char *scale, const char *env)
{
    char *mk = ds_src("examples/make-db.sh");
    char script[8192];
    snprintf(script, sizeof script, "mkdir -p \"$(dirname '%s')\" && %ssh '%s' '%s' '%s'\n",
             rel, env, mk, rel, scale);
    char *log = NULL;
    int rc = sh_run(dir, script, &log);
    ck_assert_msg(rc == 0, "make-db.sh %s %s failed (%d):\n%s", rel, scale, rc, log);
    free(log);
    free(mk);
}

static char *path2(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    ck_assert_ptr_nonnull(p);
    snprintf(p, n, "%s/%s", a, b);
    return p;
}

static long long sql_int(const char *db, const char *sql)
{
    char *t = ds_sql_text(db, sql);
    ck_assert_msg(t != NULL, "no value: %s", sql);
    long long v = atoll(t);
    free(t);
    return v;
}

static cJSON *parse_json(const char *text, const char *what)
{
    cJSON *j = cJSON_Parse(text);
    ck_assert_msg(j != NULL, "%s is not JSON: %s", what, text);
    return j;
}

/* A number member of a JSON object, as an integer; fails when missing. */
static long long jnum(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    ck_assert_msg(cJSON_IsNumber(v), "no number '%s'", name);
    return (long long)v->valuedouble;
}

/* ---------------------------------------------------------------- the specs */

START_TEST(specs_check_against_migrations)
{
    char *specs = ds_src("specs"), *mig = ds_src("examples/migrations");
    ds_proc p;
    DS_RUN(&p, "check", "--specs", specs, "--migrations", mig);
    ck_assert_msg(p.status == 0, "check failed (%d):\n%s%s", p.status, p.out, p.err);
    /* Diagnostics go to stdout (about spec files) or stderr (the rest). */
    ck_assert_msg(!strstr(p.out, "error:") && !strstr(p.out, "warning:") &&
                  !strstr(p.err, "error:") && !strstr(p.err, "warning:"),
                  "check reported something:\n%s%s", p.out, p.err);
    ds_proc_free(&p);

    /* The same through the JSON format: nothing to report. */
    DS_RUN(&p, "check", "--specs", specs, "--migrations", mig, "--format", "json");
    ck_assert_int_eq(p.status, 0);
    cJSON *j = parse_json(p.out, "check --format json");
    ck_assert(cJSON_IsArray(j));
    ck_assert_int_eq(cJSON_GetArraySize(j), 0);
    cJSON_Delete(j);
    ds_proc_free(&p);
    free(specs);
    free(mig);
}
END_TEST

/* Every shape and the series options appear in the bundled specs, so the
 * example shows each of them (the plan is what the compiler understood). */
START_TEST(specs_cover_every_shape)
{
    char *t = scratch();
    make_db(t, "app.db", TINY, "");
    char *db = path2(t, "app.db"), *specs = path2(t, "specs");
    spec_count n = count_items(specs);
    ds_proc p;
    DS_RUN(&p, "compile", "--db", db, "--specs", specs);
    ck_assert_msg(p.status == 0, "compile failed (%d):\n%s%s", p.status, p.out, p.err);
    ds_proc_free(&p);
    ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM dashspec_plan WHERE kind = 'metric'"), n.metrics);
    ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM dashspec_plan WHERE kind = 'chart'"), n.charts);
    const char *shapes[] = {"scalar", "row", "rows", "map", "series"};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        char q[200];
        snprintf(q, sizeof q, "SELECT count(*) FROM dashspec_plan WHERE shape = '%s'", shapes[i]);
        ck_assert_msg(sql_int(db, q) >= 1, "no %s item in specs/", shapes[i]);
    }
    /* More than one page, :now everywhere time matters, params beyond :now. */
    ck_assert_int_ge(sql_int(db, "SELECT count(DISTINCT group_name) FROM dashspec_plan"), 4);
    /* Of the bundled items (a user's own files aside) at most two do without :now. */
    ck_assert_int_le(sql_int(db, "SELECT count(*) FROM dashspec_plan WHERE sql NOT LIKE '%:now%' AND ("
                                 " source LIKE '%/specs/errors.yaml:%' OR source LIKE '%/specs/llm.yaml:%' OR"
                                 " source LIKE '%/specs/outreach.yaml:%' OR source LIKE '%/specs/overview.yaml:%' OR"
                                 " source LIKE '%/specs/operations/cron.yaml:%' OR"
                                 " source LIKE '%/specs/operations/system.yaml:%')"), 2);
    ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM dashspec_plan WHERE sql LIKE '%''now''%'"), 0);
    ck_assert_int_ge(sql_int(db, "SELECT count(*) FROM dashspec_plan WHERE params LIKE '%\"%'"), 10);
    /* Live counts short, 30-day charts long. */
    ck_assert_int_le(sql_int(db, "SELECT ttl FROM dashspec_plan WHERE key = 'active_errors'"), 300);
    ck_assert_int_ge(sql_int(db, "SELECT ttl FROM dashspec_plan WHERE key = 'llm_daily_costs_30d'"), 3600);
    ds_tmp_cleanup(t);
    free(db);
    free(specs);
}
END_TEST

/* ---------------------------------------------------------------- the example database */

START_TEST(make_db_is_deterministic)
{
    char *t = scratch();
    make_db(t, "a.db", TINY, "");
    make_db(t, "b.db", TINY, "");
    make_db(t, "c.db", TINY, "REF='2026-03-01 00:00:00' ");
    char *log = NULL;
    int rc = sh_run(t, "sqlite3 a.db .dump > a.sql && sqlite3 b.db .dump > b.sql && cmp a.sql b.sql\n", &log);
    ck_assert_msg(rc == 0, "two generations differ:\n%s", log);
    free(log);
    char *a = path2(t, "a.db"), *c = path2(t, "c.db");
    /* Nothing after the reference time, and data right up to it. */
    const char *tables[] = {"sites", "messages", "llm_usage", "errors"};
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
        char q[300];
        snprintf(q, sizeof q, "SELECT max(created_at) FROM %s", tables[i]);
        char *ma = ds_sql_text(a, q), *mc = ds_sql_text(c, q);
        ck_assert_ptr_nonnull(ma);
        ck_assert_ptr_nonnull(mc);
        ck_assert_msg(strcmp(ma, REF) <= 0 && strcmp(ma, "2026-02-11 10:00:00") > 0, "%s: %s", tables[i], ma);
        ck_assert_msg(strcmp(mc, "2026-03-01 00:00:00") <= 0 && strcmp(mc, "2026-02-28 00:00:00") > 0, "%s: %s", tables[i], mc);
        free(ma);
        free(mc);
    }
    ck_assert_int_eq(sql_int(a, "SELECT count(*) FROM sites"), 250);
    ck_assert_int_eq(sql_int(a, "SELECT count(*) FROM system_metrics WHERE sampled_at > '" REF "'"), 0);
    /* An existing file is never appended to. */
    char *mk = ds_src("examples/make-db.sh");
    char script[4096];
    snprintf(script, sizeof script, "sh '%s' a.db " TINY "\n", mk);
    rc = sh_run(t, script, NULL);
    ck_assert_int_ne(rc, 0);
    ck_assert_int_eq(sql_int(a, "SELECT count(*) FROM sites"), 250);
    free(mk);
    free(a);
    free(c);
    ds_tmp_cleanup(t);
}
END_TEST

/* compile + run at the reference time: every item computed, values that
 * plain SQL agrees with, and a second run with nothing due. EXTRA: a user's
 * spec file added under specs/ first (or NULL). */
static void demo_run(const char *extra)
{
    char *t = scratch();
    if (extra) free(ds_write(t, "specs/zz_user.yaml", extra));
    make_db(t, "examples/demo.db", TINY, "");
    char *db = path2(t, "examples/demo.db"), *specs = path2(t, "specs");
    spec_count n = count_items(specs);
    long long total = n.metrics + n.charts;
    ds_proc p;
    DS_RUN(&p, "compile", "--db", db, "--specs", specs);
    ck_assert_msg(p.status == 0, "compile failed (%d):\n%s%s", p.status, p.out, p.err);
    ds_proc_free(&p);

    DS_RUN(&p, "run", "--db", db, "--now", REF);
    ck_assert_msg(p.status == 0, "run failed (%d):\n%s%s", p.status, p.out, p.err);
    cJSON *j = parse_json(p.out, "run summary");
    const cJSON *details = cJSON_GetObjectItemCaseSensitive(j, "details");
    const cJSON *metrics = cJSON_GetObjectItemCaseSensitive(j, "metrics");
    ck_assert(cJSON_IsObject(details) && cJSON_IsObject(metrics));
    const cJSON *failed = cJSON_GetObjectItemCaseSensitive(details, "failed");
    ck_assert_msg(!failed || cJSON_GetArraySize(failed) == 0, "items failed: %s", p.out);
    ck_assert_int_eq(jnum(metrics, "items_run"), total);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(details, "metrics_cached")), n.metrics);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(details, "charts_cached")), n.charts);
    ck_assert_int_eq(jnum(metrics, "entries_cached"), jnum(metrics, "metrics_entries") + jnum(metrics, "chart_points"));
    cJSON_Delete(j);
    ds_proc_free(&p);

    /* One cache row per item, computed "at" the reference time. */
    ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM dashboard_cache JOIN dashspec_plan ON key = cache_key"
                                 " WHERE created_at = '" REF "' AND expires_at > '" REF "'"), total);

    /* Again at the same time: nothing is due. */
    DS_RUN(&p, "run", "--db", db, "--now", REF);
    ck_assert_msg(p.status == 0, "second run failed (%d):\n%s%s", p.status, p.out, p.err);
    j = parse_json(p.out, "second run summary");
    ck_assert_int_eq(jnum(cJSON_GetObjectItemCaseSensitive(j, "metrics"), "items_run"), 0);
    ck_assert_int_eq(jnum(cJSON_GetObjectItemCaseSensitive(j, "details"), "skipped"), total);
    cJSON_Delete(j);
    ds_proc_free(&p);

    /* pipeline_funnel: the four stages, in order, counted here directly. */
    DS_RUN(&p, "get", "--db", db, "--now", REF, "pipeline_funnel");
    ck_assert_msg(p.status == 0, "get failed (%d):\n%s", p.status, p.err);
    j = parse_json(p.out, "pipeline_funnel");
    const char *stages[] = {"discovered", "analyzed", "contacted", "converted"};
    const cJSON *e = j->child;
    for (size_t i = 0; i < 4; i++, e = e->next) {
        ck_assert_ptr_nonnull(e);
        ck_assert_str_eq(e->string, stages[i]);
        char q[200];
        snprintf(q, sizeof q, "SELECT count(*) FROM sites WHERE status = '%s'", stages[i]);
        ck_assert_int_eq((long long)e->valuedouble, sql_int(db, q));
    }
    ck_assert_ptr_null(e);
    cJSON_Delete(j);
    ds_proc_free(&p);

    /* hourly_throughput_48h: 48 hours, three series of 48 points, and the
     * sites series adds up to the sites created in those hours. */
    DS_RUN(&p, "get", "--db", db, "--now", REF, "hourly_throughput_48h");
    ck_assert_int_eq(p.status, 0);
    j = parse_json(p.out, "hourly_throughput_48h");
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, "x");
    const cJSON *series = cJSON_GetObjectItemCaseSensitive(j, "series");
    ck_assert_int_eq(cJSON_GetArraySize(x), 48);
    ck_assert_str_eq(cJSON_GetArrayItem(x, 0)->valuestring, "2026-02-10 10:00");
    ck_assert_str_eq(cJSON_GetArrayItem(x, 47)->valuestring, "2026-02-12 09:00");
    ck_assert_int_eq(cJSON_GetArraySize(series), 3);
    long long sum = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(series, "sites_discovered")) sum += (long long)v->valuedouble;
    ck_assert_int_eq(sum, sql_int(db, "SELECT count(*) FROM sites WHERE created_at >= '2026-02-10 10:00:00'"
                                      " AND created_at < '" REF "'"));
    cJSON_Delete(j);
    ds_proc_free(&p);

    /* hourly_status_breakdown_48h pivots with fill 0: no nulls anywhere. */
    DS_RUN(&p, "get", "--db", db, "--now", REF, "hourly_status_breakdown_48h");
    ck_assert_int_eq(p.status, 0);
    ck_assert_msg(strstr(p.out, "null") == NULL, "fill 0 left a null: %s", p.out);
    ds_proc_free(&p);

    DS_RUN(&p, "status", "--db", db, "--now", REF);
    ck_assert_msg(p.status == 0, "status failed (%d):\n%s", p.status, p.err);
    ds_proc_free(&p);
    free(db);
    free(specs);
    ds_tmp_cleanup(t);
}

START_TEST(demo_runs_every_item)
{
    demo_run(NULL);
}
END_TEST

/* The cookbook's "add a spec under specs/", followed literally: the same
 * checks hold with the user's file counted in. */
START_TEST(demo_runs_with_a_users_spec)
{
    demo_run(user_spec);
}
END_TEST

/* ---------------------------------------------------------------- running the docs */

/* The rules (also stated at the top of docs/cookbook.md):
 *  - ```sh blocks: every command whose first word is `dashspec` or `sqlite3`,
 *    and `export DASHSPEC_...` lines, run in document order in one shell
 *    (lines ending in a backslash continue). Each must exit 0, or N when the
 *    line carries a comment with "exit N". Lines with --watch (they never
 *    end) and every other command (make, crontab, sudo, ...) are skipped.
 *  - ```yaml blocks whose first line is exactly "# specs/NAME.yaml" are
 *    written to that file first: a metric the docs add must compile.
 *  - ```sql blocks run through `sqlite3 -bail examples/demo.db`.
 *  - ```python blocks run through python3 (those that use streamlit are
 *    skipped: it is not a dependency).
 * The directory holds specs/, examples/migrations/ and a tiny
 * examples/demo.db; PATH is its bin/ (dashspec) then /usr/bin:/bin, as cron
 * would have it. */

typedef struct doc_block {
    char lang[32];
    int line;            /* of the first content line */
    char *text;
    size_t len, cap;
} doc_block;

static void block_add(doc_block *b, const char *s, size_t n)
{
    if (b->len + n + 2 > b->cap) {
        b->cap = (b->len + n + 2) * 2;
        b->text = realloc(b->text, b->cap);
        ck_assert_ptr_nonnull(b->text);
    }
    memcpy(b->text + b->len, s, n);
    b->len += n;
    b->text[b->len++] = '\n';
    b->text[b->len] = '\0';
}

static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The exit code a command line documents ("... # exit 3"), else 0. */
static int expected_exit(const char *cmd)
{
    const char *h = strchr(cmd, '#');
    while (h) {
        const char *e = strstr(h, "exit ");
        if (e && e[5] >= '0' && e[5] <= '9') return e[5] - '0';
        h = strchr(h + 1, '#');
    }
    return 0;
}

static void emit_check(FILE *out, const char *doc, int line, int want)
{
    fprintf(out, "ds_rc=$?; if [ \"$ds_rc\" -ne %d ]; then "
                 "echo \"ds-doc: %s:%d: exit $ds_rc, expected %d\"; exit 1; fi\n", want, doc, line, want);
}

/* Appends the script of one fenced block; counts dashspec commands. */
static void emit_block(FILE *out, const char *doc, const doc_block *b, int *ncmds)
{
    if (strcmp(b->lang, "sh") == 0 || strcmp(b->lang, "bash") == 0 || strcmp(b->lang, "console") == 0) {
        const char *p = b->text;
        int line = b->line;
        while (*p) {
            /* One logical line: physical lines joined by trailing backslashes. */
            const char *start = p;
            int first = line;
            for (;;) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t)(nl - p) : strlen(p);
                int more = n > 0 && p[n - 1] == '\\';
                p += n + (nl ? 1 : 0);
                line++;
                if (!more || !*p) break;
            }
            char *cmd = strndup(start, (size_t)(p - start));
            ck_assert_ptr_nonnull(cmd);
            const char *c = cmd;
            while (*c == ' ' || *c == '\t') c++;
            int run = starts(c, "dashspec ") || starts(c, "sqlite3 ") || starts(c, "export DASHSPEC_");
            if (run && !strstr(c, "--watch")) {
                if (starts(c, "dashspec ")) (*ncmds)++;
                fprintf(out, "# %s:%d\n%s", doc, first, c);
                if (c[strlen(c) - 1] != '\n') fputc('\n', out);
                emit_check(out, doc, first, expected_exit(c));
            }
            free(cmd);
        }
    } else if (strcmp(b->lang, "yaml") == 0 || strcmp(b->lang, "yml") == 0) {
        /* "# specs/NAME.yaml" alone on the first line: a file to create. */
        const char *nl = strchr(b->text, '\n');
        size_t n = nl ? (size_t)(nl - b->text) : 0;
        if (n > 9 && starts(b->text, "# specs/")) {
            char *path = strndup(b->text + 2, n - 2);
            ck_assert_ptr_nonnull(path);
            int ok = strstr(path, "..") == NULL && (strstr(path, ".yaml") || strstr(path, ".yml"));
            for (const char *q = path; *q; q++)
                if (!(*q == '/' || *q == '.' || *q == '_' || *q == '-' || (*q >= 'a' && *q <= 'z') ||
                      (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9'))) ok = 0;
            if (ok) {
                fprintf(out, "# %s:%d\nmkdir -p \"$(dirname '%s')\" && cat > '%s' <<'DS_DOC_EOF'\n%sDS_DOC_EOF\n",
                        doc, b->line, path, path, b->text);
                emit_check(out, doc, b->line, 0);
            }
            free(path);
        }
    } else if (strcmp(b->lang, "sql") == 0) {
        fprintf(out, "# %s:%d\nsqlite3 -bail examples/demo.db <<'DS_DOC_EOF'\n%sDS_DOC_EOF\n", doc, b->line, b->text);
        emit_check(out, doc, b->line, 0);
    } else if (strcmp(b->lang, "python") == 0 && !strstr(b->text, "streamlit")) {
        fprintf(out, "# %s:%d\npython3 - <<'DS_DOC_EOF'\n%sDS_DOC_EOF\n", doc, b->line, b->text);
        emit_check(out, doc, b->line, 0);
    }
}

/* Turns a Markdown file into a shell script that runs its examples. */
static char *doc_script(const char *doc, const char *md, int *ncmds)
{
    char *script = NULL;
    size_t slen = 0;
    FILE *out = open_memstream(&script, &slen);
    ck_assert_ptr_nonnull(out);
    fputs("# generated by tests/check_examples.c\n", out);
    doc_block b = {0};
    int in = 0, indent = 0, lineno = 0;
    const char *p = md;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        lineno++;
        size_t sp = 0;
        while (sp < n && p[sp] == ' ') sp++;
        int fence = n - sp >= 3 && strncmp(p + sp, "```", 3) == 0;
        if (!in && fence) {
            in = 1;
            indent = (int)sp;
            size_t k = 0;
            const char *l = p + sp + 3;
            while (k + 1 < sizeof b.lang && l + k < p + n && l[k] != ' ' && l[k] != '{') {
                b.lang[k] = l[k];
                k++;
            }
            b.lang[k] = '\0';
            b.len = 0;
            if (b.text) b.text[0] = '\0';
            b.line = lineno + 1;
        } else if (in && fence) {
            in = 0;
            if (b.text) emit_block(out, doc, &b, ncmds);
        } else if (in) {
            size_t cut = 0;
            while ((int)cut < indent && cut < n && p[cut] == ' ') cut++;
            block_add(&b, p + cut, n - cut);
        }
        p += n + (nl ? 1 : 0);
    }
    ck_assert_msg(!in, "%s: unterminated code block", doc);
    fputs("echo 'ds-doc: done'\n", out);
    fclose(out);
    free(b.text);
    return script;
}

/* Runs the examples of one document; returns the number of dashspec commands. */
static int run_doc(const char *doc)
{
    char *path = ds_src(doc);
    char *md = ds_slurp(path);
    ck_assert_msg(md != NULL, "cannot read %s", path);
    int ncmds = 0;
    char *script = doc_script(doc, md, &ncmds);
    char *t = scratch();
    make_db(t, "examples/demo.db", TINY, "");
    char *log = NULL;
    int rc = sh_run(t, script, &log);
    /* On failure the directory is left in place: its ds-script-*.sh is the
     * script that ran, its ds-script-*.log the whole output. Check's
     * messages are short, so only the end of the output is quoted here. */
    size_t ll = strlen(log);
    ck_assert_msg(rc == 0 && strstr(log, "ds-doc: done"),
                  "%s: an example failed (see %s); output ends:\n%s",
                  doc, t, ll > 1500 ? log + ll - 1500 : log);
    free(log);
    free(script);
    free(md);
    free(path);
    ds_tmp_cleanup(t);
    return ncmds;
}

START_TEST(readme_examples_run)
{
    ck_assert_int_ge(run_doc("README.md"), 6);
}
END_TEST

START_TEST(cookbook_examples_run)
{
    ck_assert_int_ge(run_doc("docs/cookbook.md"), 6);
}
END_TEST

START_TEST(project_examples_run)
{
    ck_assert_int_ge(run_doc("docs/project.md"), 8);
}
END_TEST

START_TEST(operations_examples_run)
{
    ck_assert_int_ge(run_doc("docs/operations.md"), 6);
}
END_TEST

/* The extractor itself: commands found, continuation lines joined, exit
 * codes read, --watch and other commands skipped, files and SQL taken. */
START_TEST(doc_extractor)
{
    const char *md =
        "text\n"
        "```sh\n"
        "make demo\n"
        "dashspec run --db x.db \\\n"
        "  --now '2026-02-12 10:00:00'\n"
        "dashspec get --db x.db k   # exit 3: not fresh\n"
        "dashspec run --db x.db --watch\n"
        "```\n"
        "  ```yaml\n"
        "  # specs/new.yaml\n"
        "  version: 1\n"
        "  ```\n"
        "```yaml\n"
        "# specs/overview.yaml (excerpt)\n"
        "```\n"
        "```sql\n"
        "SELECT 1;\n"
        "```\n";
    int n = 0;
    char *s = doc_script("t.md", md, &n);
    ck_assert_int_eq(n, 2);
    ck_assert_ptr_null(strstr(s, "make demo"));
    ck_assert_ptr_null(strstr(s, "--watch"));
    ck_assert_ptr_nonnull(strstr(s, "dashspec run --db x.db \\\n  --now '2026-02-12 10:00:00'\nds_rc=$?; if [ \"$ds_rc\" -ne 0 ]"));
    ck_assert_ptr_nonnull(strstr(s, "# t.md:6\ndashspec get --db x.db k   # exit 3: not fresh\nds_rc=$?; if [ \"$ds_rc\" -ne 3 ]"));
    ck_assert_ptr_nonnull(strstr(s, "cat > 'specs/new.yaml' <<'DS_DOC_EOF'\n# specs/new.yaml\nversion: 1\nDS_DOC_EOF\n"));
    ck_assert_ptr_null(strstr(s, "overview.yaml"));
    ck_assert_ptr_nonnull(strstr(s, "sqlite3 -bail examples/demo.db <<'DS_DOC_EOF'\nSELECT 1;\nDS_DOC_EOF\n"));
    free(s);
}
END_TEST

/* The README shows what check prints for two typical mistakes; make them
 * in a copy of the specs and compare, so that example stays true. */
static void replace_once(char *text, const char *from, const char *to)
{
    char *at = strstr(text, from);
    ck_assert_msg(at != NULL, "specs/overview.yaml no longer contains: %s", from);
    ck_assert_uint_eq(strlen(from), strlen(to));
    memcpy(at, to, strlen(to));
}

START_TEST(readme_check_output_is_real)
{
    char *t = scratch();
    char *spec = path2(t, "specs/overview.yaml");
    char *text = ds_slurp(spec);
    ck_assert_ptr_nonnull(text);
    replace_once(text, "    ttl: 5m\n    refresh: 2m\n", "    tll: 5m\n    refresh: 2m\n");
    replace_once(text, "hour, status, COUNT(*) AS sites", "hour, stauts, COUNT(*) AS sites");
    free(ds_write(t, "specs/overview.yaml", text));
    char *log = NULL;
    int rc = sh_run(t, "dashspec check --migrations examples/migrations 2>/dev/null\n", &log);
    ck_assert_int_eq(rc, 1);
    char *rpath = ds_src("README.md");
    char *readme = ds_slurp(rpath);
    ck_assert_ptr_nonnull(readme);
    int n = 0;
    for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n")) {
        ck_assert_msg(strstr(readme, line) != NULL, "README.md does not show check's line: %s", line);
        n++;
    }
    /* Two diagnostics and the summary that counts them, all on stdout. */
    ck_assert_int_eq(n, 3);
    free(readme);
    free(rpath);
    free(log);
    free(text);
    free(spec);
    ds_tmp_cleanup(t);
}
END_TEST

/* ---------------------------------------------------------------- reference docs */

static int mentions(const char *text, const char *opt)
{
    if (strstr(text, opt)) return 1;
    /* roff writes "--db" as "\-\-db" */
    char esc[128];
    size_t k = 0;
    for (const char *q = opt; *q && k + 3 < sizeof esc; q++) {
        if (*q == '-') esc[k++] = '\\';
        esc[k++] = *q;
    }
    esc[k] = '\0';
    return strstr(text, esc) != NULL;
}

START_TEST(man_page_covers_the_contract)
{
    char *path = ds_src("docs/dashspec.1");
    char *man = ds_slurp(path);
    ck_assert_msg(man != NULL, "docs/dashspec.1 is missing");
    const char *words[] = {
        /* commands */
        ".SS check", ".SS compile", ".SS list", ".SS run", ".SS get", ".SS status", ".SS clear",
        ".SS explain", ".SS preview", ".SS migrate", ".SS help", ".SS init", ".SS completion",
        /* options */
        "--db", "--specs", "--now", "--schema", "--migrations", "--format", "--only", "--group",
        "--select", "--exclude", ".SH SELECTORS", "--results",
        "--force", "--dry-run", "--jobs", "--quiet", "--busy-timeout", "--watch", "--stale",
        "--json", "--help", "--version", "DASHSPEC_DB", "--strict", "dashspec.yaml",
        /* sections */
        ".SH EXIT STATUS", ".SH FILES", ".SH EXAMPLES", ".SH SEE ALSO"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        ck_assert_msg(mentions(man, words[i]), "docs/dashspec.1 does not mention %s", words[i]);
    /* Each exit code has its own tagged paragraph. */
    for (int c = 0; c <= 5; c++) {
        char tag[32];
        snprintf(tag, sizeof tag, ".TP\n.B %d\n", c);
        ck_assert_msg(strstr(man, tag), "docs/dashspec.1: exit code %d undocumented", c);
    }
    free(man);
    free(path);
}
END_TEST

START_TEST(readme_names_the_make_targets)
{
    char *path = ds_src("README.md");
    char *md = ds_slurp(path);
    ck_assert_ptr_nonnull(md);
    const char *targets[] = {"make demo", "make test", "make asan", "make valgrind", "make install",
                             "make bench", "make fuzz", "make deps", "make test-all", "make test-slow", "docs/cookbook.md", "docs/operations.md",
                             "docs/architecture.md", "docs/spec-reference.md"};
    for (size_t i = 0; i < sizeof targets / sizeof *targets; i++)
        ck_assert_msg(strstr(md, targets[i]), "README.md does not mention %s", targets[i]);
    free(md);
    free(path);
}
END_TEST

/* The suite `examples` (make unit SUITE=examples); cannot fail. */
Suite *examples_suite(void)
{
    Suite *s = suite_create("examples");
    TCase *tc = tcase_create("examples");
    /* Generation and whole runs of the binary; generous for valgrind. */
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, doc_extractor);
    tcase_add_test(tc, specs_check_against_migrations);
    tcase_add_test(tc, specs_cover_every_shape);
    tcase_add_test(tc, make_db_is_deterministic);
    tcase_add_test(tc, demo_runs_every_item);
    tcase_add_test(tc, demo_runs_with_a_users_spec);
    tcase_add_test(tc, readme_examples_run);
    tcase_add_test(tc, cookbook_examples_run);
    tcase_add_test(tc, operations_examples_run);
    tcase_add_test(tc, project_examples_run);
    tcase_add_test(tc, readme_check_output_is_real);
    tcase_add_test(tc, man_page_covers_the_contract);
    tcase_add_test(tc, readme_names_the_make_targets);
    suite_add_tcase(s, tc);
    return s;
}

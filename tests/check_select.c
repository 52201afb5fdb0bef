/*
 * check_select.c — selectors (common/ds_select.c): parsing and matching as
 * a unit, then --select/--exclude (and the --only/--group aliases) through
 * the built binary for run, check (with FILE arguments), list, status,
 * clear and stats.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ds_common.h"
#include "ds_select.h"
#include "ds_test.h"

/* ---------------------------------------------------------------- unit */

static int pick(const char *const *sel, const char *const *excl, const ds_sel_view *v)
{
    ds_select s;
    ds_diag d;
    ds_select_init(&s);
    ds_diag_init(&d);
    for (; sel && *sel; sel++) ck_assert_int_eq(ds_select_add(&s, *sel, 0, &d), 0);
    for (; excl && *excl; excl++) ck_assert_int_eq(ds_select_add(&s, *excl, 1, &d), 0);
    int r = ds_select_match(&s, v);
    ds_select_free(&s);
    ds_diag_free(&d);
    return r;
}

#define SEL(...) ((const char *const[]){__VA_ARGS__, NULL})

START_TEST(unit_match)
{
    char *tags[] = {"costs", "live"};
    ds_sel_view v = {"llm_cost", "llm", tags, 2, "specs/sub/llm.yaml"};
    ds_sel_view bare = {"llm_cost", NULL, NULL, 0, NULL};
    ck_assert(pick(NULL, NULL, &v));                        /* nothing given: all */
    ck_assert(pick(SEL("llm_*"), NULL, &v));
    ck_assert(!pick(SEL("x*"), NULL, &v));
    ck_assert(pick(SEL("x*", "tag:live"), NULL, &v));       /* a union */
    ck_assert(pick(SEL("x* tag:live"), NULL, &v));          /* blanks separate too */
    ck_assert(pick(SEL("group:llm"), NULL, &v));
    ck_assert(!pick(SEL("group:ops"), NULL, &v));
    ck_assert(pick(SEL("file:llm.yaml"), NULL, &v));        /* relative to the specs dir */
    ck_assert(pick(SEL("file:sub/*.yaml"), NULL, &v));
    ck_assert(pick(SEL("file:./sub/llm.yaml"), NULL, &v));
    ck_assert(!pick(SEL("file:other.yaml"), NULL, &v));
    ck_assert(pick(SEL("group:llm,tag:costs"), NULL, &v));  /* a,b: both */
    ck_assert(!pick(SEL("group:llm,tag:nope"), NULL, &v));
    ck_assert(!pick(NULL, SEL("tag:costs"), &v));           /* --exclude removes */
    ck_assert(!pick(SEL("llm_*"), SEL("group:llm"), &v));
    ck_assert(pick(SEL("llm_*"), SEL("group:ops"), &v));
    ck_assert(pick(SEL("llm_*"), NULL, &bare));             /* known by key only */
    ck_assert(!pick(SEL("group:llm"), NULL, &bare));
}
END_TEST

START_TEST(unit_errors)
{
    ds_select s;
    ds_diag d;
    ds_select_init(&s);
    ds_diag_init(&d);
    ck_assert_int_eq(ds_select_add(&s, "owner:me", 0, &d), -1);
    ck_assert_ptr_nonnull(strstr(d.v[d.n - 1].msg, "'owner:' is not one of tag:, group:, file:"));
    ck_assert_int_eq(ds_select_add(&s, "tag:", 0, &d), -1);
    ck_assert_ptr_nonnull(strstr(d.v[d.n - 1].msg, "empty name"));
    ck_assert_int_eq(ds_select_add(&s, "  ", 1, &d), -1);
    ck_assert_int_eq(ds_select_add(&s, "a,", 0, &d), -1);
    ck_assert_int_eq(ds_select_active(&s), 0);
    ck_assert_int_eq(d.status, DS_USAGE);
    char *q = ds_glob_quote("a*b?[c]\\");
    ck_assert_str_eq(q, "a\\*b\\?\\[c]\\\\");
    ck_assert(ds_glob_match(q, "a*b?[c]\\"));
    ck_assert(!ds_glob_match(q, "axb?[c]\\"));
    free(q);
    ds_select_free(&s);
    ds_diag_free(&d);
}
END_TEST

/* ---------------------------------------------------------------- the binary */

static char *dir;
static char db[4096], specs[4096];
#define T0 "2026-02-12 10:00:00"

static const char a_yaml[] =
    "version: 1\n"
    "defaults:\n"
    "  ttl: 15m\n"
    "  refresh: 10m\n"
    "metrics:\n"
    "  - key: total\n"
    "    group: overview\n"
    "    tags: [core]\n"
    "    shape: scalar\n"
    "    query: SELECT COUNT(*) FROM sites\n"
    "  - key: open_sites\n"
    "    group: overview\n"
    "    shape: scalar\n"
    "    query: SELECT COUNT(*) FROM sites WHERE status = 'open'\n";

static const char b_yaml[] =
    "version: 1\n"
    "metrics:\n"
    "  - key: ops_count\n"
    "    group: ops\n"
    "    tags: [core, live]\n"
    "    ttl: 15m\n"
    "    shape: scalar\n"
    "    query: SELECT 1\n"
    "  - key: ops_bad\n"
    "    group: ops\n"
    "    ttl: 15m\n"
    "    shape: scalar\n"
    "    query: SELECT nope FROM sites\n";

static void setup(void)
{
    dir = ds_tmpdir();
    snprintf(db, sizeof db, "%s/app.db", dir);
    snprintf(specs, sizeof specs, "%s/specs", dir);
    ds_sql(db, "CREATE TABLE sites (id INTEGER PRIMARY KEY, status TEXT);"
               "INSERT INTO sites VALUES (1, 'open'), (2, 'done'), (3, 'open');");
    free(ds_write(dir, "specs/a.yaml", a_yaml));
    free(ds_write(dir, "specs/sub/b.yaml", b_yaml));
}

static void teardown(void)
{
    ds_tmp_cleanup(dir);
}

/* The keys of a `list --json` output, joined by blanks. */
static char *list_keys(const char *out)
{
    static char buf[512];
    buf[0] = '\0';
    cJSON *a = cJSON_Parse(out);
    ck_assert_ptr_nonnull(a);
    const cJSON *e;
    cJSON_ArrayForEach(e, a) {
        if (buf[0]) strcat(buf, " ");
        strcat(buf, cJSON_GetObjectItemCaseSensitive(e, "key")->valuestring);
    }
    cJSON_Delete(a);
    return buf;
}

#define LIST(p, ...) DS_RUN((p), "list", "--specs", specs, "--json", __VA_ARGS__)

START_TEST(cli_list)
{
    ds_proc p;
    LIST(&p, "--select", "tag:core");
    ck_assert_int_eq(p.status, 0);
    ck_assert_str_eq(list_keys(p.out), "total ops_count");
    ds_proc_free(&p);
    LIST(&p, "--select", "group:ops", "--exclude", "*_bad");
    ck_assert_str_eq(list_keys(p.out), "ops_count");
    ds_proc_free(&p);
    LIST(&p, "--select", "file:sub/*", "--select", "open_*");
    ck_assert_str_eq(list_keys(p.out), "open_sites ops_count ops_bad");
    ds_proc_free(&p);
    LIST(&p, "--group", "overview", "--only", "ops_c*");  /* --group filters --only */
    ck_assert_str_eq(list_keys(p.out), "");
    ds_proc_free(&p);
    LIST(&p, "--group", "overview", "--only", "t*", "--only", "open_*");
    ck_assert_str_eq(list_keys(p.out), "total open_sites");
    ds_proc_free(&p);
    LIST(&p, "--group", "overview");                      /* alone: the group */
    ck_assert_str_eq(list_keys(p.out), "total open_sites");
    ds_proc_free(&p);
    LIST(&p, "--select", "group:overview,t*");             /* a,b: both */
    ck_assert_str_eq(list_keys(p.out), "total");
    ds_proc_free(&p);
    LIST(&p, "--select", "colour:red");
    ck_assert_int_eq(p.status, 2);
    ck_assert_ptr_nonnull(strstr(p.err, "bad selector 'colour:red'"));
    ds_proc_free(&p);
}
END_TEST

START_TEST(cli_check)
{
    ds_proc p;
    /* The whole directory: the error of ops_bad. */
    DS_RUN(&p, "check", "--specs", specs, "--db", db);
    ck_assert_int_eq(p.status, 1);
    ck_assert_ptr_nonnull(strstr(p.out, "no such column: nope"));
    ds_proc_free(&p);
    /* Selected away: clean. */
    DS_RUN(&p, "check", "--specs", specs, "--db", db, "--exclude", "ops_bad");
    ck_assert_int_eq(p.status, 0);
    ck_assert_ptr_null(strstr(p.out, "nope"));
    ds_proc_free(&p);
    DS_RUN(&p, "check", "--specs", specs, "--db", db, "--select", "group:overview");
    ck_assert_int_eq(p.status, 0);
    ds_proc_free(&p);
    /* FILE arguments: only those files. */
    char *fa = ds_write(dir, "specs/a.yaml", a_yaml);
    DS_RUN(&p, "check", "--specs", specs, "--db", db, fa);
    ck_assert_int_eq(p.status, 0);
    ds_proc_free(&p);
    /* ... but a key of the file duplicated elsewhere is still an error. */
    free(ds_write(dir, "specs/sub/c.yaml",
                  "version: 1\nmetrics:\n  - key: total\n    ttl: 15m\n    shape: scalar\n    query: SELECT 2\n"));
    DS_RUN(&p, "check", "--specs", specs, "--db", db, fa);
    ck_assert_int_eq(p.status, 1);
    ck_assert_ptr_nonnull(strstr(p.out, "total"));
    ck_assert_ptr_null(strstr(p.out, "nope"));
    ds_proc_free(&p);
    char *missing = ds_src("no/such/file.yaml");
    DS_RUN(&p, "check", "--specs", specs, "--db", db, missing);
    ck_assert_int_eq(p.status, 2);
    ck_assert_ptr_nonnull(strstr(p.err, "no such file"));
    ds_proc_free(&p);
    free(missing);
    free(fa);
}
END_TEST

static cJSON *status_json(const char *sel1, const char *sel2)
{
    ds_proc p;
    DS_RUN(&p, "status", "--db", db, "--now", T0, "--json", sel1, sel2);
    ck_assert_int_eq(p.status, 0);
    cJSON *j = cJSON_Parse(p.out);
    ck_assert_ptr_nonnull(j);
    ds_proc_free(&p);
    return j;
}

static int jnum(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k)->valueint;
}

START_TEST(cli_run_status_clear)
{
    ds_proc p;
    free(ds_write(dir, "specs/sub/b.yaml", "version: 1\nmetrics:\n  - key: ops_count\n    group: ops\n"
                  "    tags: [core, live]\n    ttl: 15m\n    shape: scalar\n    query: SELECT 1\n"));
    DS_RUN(&p, "compile", "--db", db, "--specs", specs);
    ck_assert_int_eq(p.status, 0);
    ds_proc_free(&p);
    DS_RUN(&p, "run", "--db", db, "--now", T0, "--select", "tag:live", "--select", "open_*");
    ck_assert_int_eq(p.status, 0);
    ck_assert_ptr_nonnull(strstr(p.out, "\"Pre-computed 2 cache entries"));
    ds_proc_free(&p);
    char *v = ds_sql_text(db, "SELECT group_concat(cache_key, ' ') FROM (SELECT cache_key FROM dashboard_cache"
                              " ORDER BY cache_key)");
    ck_assert_str_eq(v, "open_sites ops_count");
    free(v);
    /* A selector that matches nothing: a warning naming it, exit 0. */
    DS_RUN(&p, "run", "--db", db, "--now", T0, "--select", "tag:nosuch");
    ck_assert_int_eq(p.status, 0);
    ck_assert_ptr_nonnull(strstr(p.err, "--select 'tag:nosuch' matches no item of the plan"));
    ds_proc_free(&p);

    /* status: the rows and counts of the selected items only */
    cJSON *j = status_json("--select", "group:overview");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "items")), 2);
    ck_assert_int_eq(jnum(j, "fresh"), 1);
    ck_assert_int_eq(jnum(j, "missing"), 1);
    cJSON_Delete(j);
    j = status_json("--exclude", "tag:core");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "items")), 1);
    ck_assert_int_eq(jnum(j, "fresh"), 1);
    cJSON_Delete(j);

    /* clear: the rows of the selected keys; an orphan by its key */
    ds_sql(db, "INSERT INTO dashboard_cache VALUES ('old_*x', '1', '2026-02-12 09:00:00', '2026-02-12 11:00:00');");
    DS_RUN(&p, "clear", "--db", db, "--select", "group:ops");
    ck_assert_int_eq(p.status, 0);
    ck_assert_str_eq(p.out, "cleared 1 cache rows\n");
    ds_proc_free(&p);
    DS_RUN(&p, "clear", "--db", db, "--select", "tag:nosuch");
    ck_assert_str_eq(p.out, "cleared 0 cache rows\n");
    ds_proc_free(&p);
    DS_RUN(&p, "clear", "--db", db, "old_*", "--exclude", "open_*");   /* positional globs join --select */
    ck_assert_str_eq(p.out, "cleared 1 cache rows\n");
    ds_proc_free(&p);
    v = ds_sql_text(db, "SELECT group_concat(cache_key, ' ') FROM dashboard_cache");
    ck_assert_str_eq(v, "open_sites");
    free(v);

    /* stats takes the same selectors */
    DS_RUN(&p, "stats", "--db", db, "--now", T0, "--json", "--select", "tag:live");
    ck_assert_int_eq(p.status, 0);
    j = cJSON_Parse(p.out);
    ck_assert_ptr_nonnull(j);
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(j, "items");
    ck_assert_int_eq(cJSON_GetArraySize(items), 1);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(items, 0), "key")->valuestring,
                     "ops_count");
    cJSON_Delete(j);
    ds_proc_free(&p);
}
END_TEST

Suite *select_suite(void)
{
    Suite *s = suite_create("select");
    TCase *tc = tcase_create("unit");
    tcase_add_test(tc, unit_match);
    tcase_add_test(tc, unit_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("cli");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, cli_list);
    tcase_add_test(tc, cli_check);
    tcase_add_test(tc, cli_run_status_clear);
    suite_add_tcase(s, tc);
    return s;
}

/*
 * check_cli_read.c — the reader commands as users run them: get, status,
 * clear, explain, preview and migrate through the built binary (every exit
 * code, stdout and stderr), their look on a real terminal (a pty), and the
 * terminal renderer of cli/render*.c, compiled in here because the CLI's
 * objects are not part of the library the tests link.
 */
#include <errno.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <math.h>
#include <cjson/cJSON.h>
#include <sqlite3.h>
#include "../cli/render.c"
#include "../cli/render_table.c"
#include "../cli/render_value.c"
#include "ds_test.h"

/* ---------------------------------------------------------------- fixtures */

typedef struct fx {
    char *dir;
    char *db;
} fx;

static void fx_open(fx *f)
{
    f->dir = ds_tmpdir();
    f->db = ds_write(f->dir, "app.db", "");
    ds_proc p;
    DS_RUN(&p, "migrate", "--db", f->db);
    ck_assert_msg(p.status == 0, "migrate: %s", p.err);
    ds_proc_free(&p);
    ds_sql(f->db,
        "CREATE TABLE sites(id INTEGER PRIMARY KEY, status TEXT NOT NULL, created_at TEXT NOT NULL);"
        "INSERT INTO sites(status, created_at) VALUES"
        " ('new', '2026-02-12 09:10:00'), ('new', '2026-02-12 08:20:00'), ('done', '2026-02-12 08:30:00'),"
        " ('done', '2026-02-11 09:00:00'), ('failed', '2026-02-01 00:00:00');"
        "INSERT INTO dashspec_plan(key, kind, shape, sql, params, ttl, refresh, timeout, max_rows, max_bytes,"
        " group_name, tags, options, description, source, spec_hash, sqlite_version, compiled_at) VALUES"
        " ('funnel', 'metric', 'map', 'SELECT status, COUNT(*) FROM sites GROUP BY status ORDER BY status',"
        "  '{}', 900, 600, 30, 1000, 1048576, 'overview', '[]', '{}', 'Sites per status',"
        "  'specs/overview.yaml:4', '00000000000000f1', '3.40.1', '2026-02-12 09:00:00'),"
        " ('total', 'metric', 'scalar', 'SELECT COUNT(*) FROM sites WHERE created_at <= :now',"
        "  '{}', 900, 600, 30, 1000, 1048576, 'overview', '[]', '{}', NULL,"
        "  'specs/overview.yaml:9', '00000000000000f2', '3.40.1', '2026-02-12 09:00:00'),"
        " ('recent', 'metric', 'rows',"
        "  'SELECT id, status FROM sites WHERE created_at >= datetime(:now, ''-'' || :hours || '' hours'') ORDER BY id',"
        "  '{\"hours\":48}', 600, 300, 30, 1000, 1048576, NULL, '[]', '{}', NULL,"
        "  'specs/more.yaml:2', '00000000000000f3', '3.40.1', '2026-02-12 09:00:00'),"
        " ('hourly', 'chart', 'series',"
        "  'SELECT strftime(''%H:00'', created_at) AS hour, status, COUNT(*) AS n FROM sites"
        "   WHERE created_at >= datetime(:now, ''-1 day'') GROUP BY hour, status ORDER BY hour',"
        "  '{}', 1800, 600, 30, 1000, 1048576, 'charts', '[]',"
        "  '{\"x\":\"hour\",\"y\":[\"n\"],\"series_by\":\"status\",\"fill\":\"0\"}', NULL,"
        "  'specs/charts.yaml:3', '00000000000000f4', '3.40.1', '2026-02-12 09:00:00'),"
        " ('broken', 'metric', 'scalar', 'SELECT COUNT(*) FROM gone',"
        "  '{}', 900, 600, 30, 1000, 1048576, NULL, '[]', '{}', NULL,"
        "  'specs/more.yaml:9', '00000000000000f5', '3.40.1', '2026-02-12 09:00:00');");
}

static void fx_close(fx *f)
{
    free(f->db);
    ds_tmp_cleanup(f->dir);
}

/* Cache rows as a run at 10:00 would leave them, plus a failure and an orphan. */
static void fx_values(fx *f)
{
    ds_sql(f->db,
        "INSERT INTO dashboard_cache(cache_key, cache_value, created_at, expires_at) VALUES"
        " ('funnel', '{\"done\":2,\"failed\":1,\"new\":2}', '2026-02-12 10:00:00', '2026-02-12 10:15:00'),"
        " ('total', '9223372036854775807', '2026-02-12 09:00:00', '2026-02-12 09:15:00'),"
        " ('gone_item', '[]', '2026-02-12 10:00:00', '2026-02-12 11:00:00');"
        "INSERT INTO dashspec_state(cache_key, last_attempt, last_success, last_duration_ms, entries,"
        " last_error, failures, spec_hash) VALUES"
        " ('funnel', '2026-02-12 10:00:00', '2026-02-12 10:00:00', 12, 3, NULL, 0, '00000000000000f1'),"
        " ('total', '2026-02-12 09:00:00', '2026-02-12 09:00:00', 2, 1, NULL, 0, '00000000000000f2'),"
        " ('broken', '2026-02-12 09:59:00', NULL, NULL, NULL, 'no such table: gone', 4, NULL);");
}

static int count_rows(const char *db)
{
    char *v = ds_sql_text(db, "SELECT count(*) FROM dashboard_cache");
    ck_assert_ptr_nonnull(v);
    int n = atoi(v);
    free(v);
    return n;
}

static int lines(const char *s)
{
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

static int ascii_only(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80 || *s == '\033') return 0;
    return 1;
}


/* ---------------------------------------------------------------- render.c */

static char *clean(const char *s, size_t n, size_t *chars)
{
    ds_buf b;
    ds_buf_init(&b);
    size_t c = cli_clean(&b, s, n);
    if (chars) *chars = c;
    ds_buf_adds(&b, "");
    return ds_buf_steal(&b);
}

START_TEST(render_clean_text)
{
    size_t c;
    char *s = clean("ok \xC3\xA9t\xC3\xA9 \xE2\x9C\x85", 12, &c);
    ck_assert_str_eq(s, "ok \xC3\xA9t\xC3\xA9 \xE2\x9C\x85");
    ck_assert_uint_eq(c, 8);
    free(s);
    /* ESC, BEL, a C1 CSI, DEL, invalid bytes, an RLO override, and a NUL. */
    s = clean("a\033[31mb\x07" "c\xC2\x9B" "d\x7F" "e\xFF\xC3" "f\xE2\x80\xAE" "g\0h\nI\tJ", 27, &c);
    ck_assert_str_eq(s, "a?[31mb?c?d?e??f?g?h I J");
    ck_assert_uint_eq(c, 24);
    free(s);
    /* Overlong and surrogate encodings are invalid. */
    s = clean("\xC0\xAF\xED\xA0\x80", 5, &c);
    ck_assert_str_eq(s, "?????");
    free(s);
}
END_TEST

START_TEST(render_table_layout)
{
    cli_term plain = {0, 0, 80}, tty = {1, 0, 30}, color = {1, 1, 200};
    const char *hdr[] = {"key", "n", "note"};
    cli_table *t = cli_table_new(3, hdr);
    ck_assert_ptr_nonnull(t);
    cli_table_cell(t, "\xC3\xA9t\xC3\xA9", CLI_NONE);   /* 3 characters, 5 bytes */
    cli_table_cell(t, "7", CLI_NONE);
    cli_table_cell(t, "", CLI_NONE);
    cli_table_cell(t, "abcdef", CLI_NONE);
    cli_table_cellf(t, CLI_RED, "%d", 1234);
    cli_table_cell(t, "a long note that will not fit in thirty columns", CLI_NONE);
    ck_assert_uint_eq(cli_table_rows(t), 2);
    ds_buf b;
    ds_buf_init(&b);
    ck_assert_int_eq(cli_table_render(t, &plain, &b), 0);
    /* Widths by characters; numbers right-aligned; no trailing blanks; full cells. */
    ck_assert_str_eq(b.p, "key        n  note\n"
                          "\xC3\xA9t\xC3\xA9        7\n"
                          "abcdef  1234  a long note that will not fit in thirty columns\n");
    ds_buf_reset(&b);
    ck_assert_int_eq(cli_table_render(t, &tty, &b), 0);
    /* On a 30-column terminal the widest column shrinks and is cut with an ellipsis. */
    char *nl = strchr(b.p, '\n');
    nl = strchr(nl + 1, '\n');
    ck_assert_str_eq(nl + 1, "abcdef  1234  a long note tha\xE2\x80\xA6\n");
    ck_assert_uint_eq(ds_utf8_chars(nl + 1, strlen(nl + 1) - 1), 30);
    ds_buf_reset(&b);
    ck_assert_int_eq(cli_table_render(t, &color, &b), 0);
    ck_assert_ptr_nonnull(strstr(b.p, "\033[1mkey\033[0m"));
    ck_assert_ptr_nonnull(strstr(b.p, "\033[31m1234\033[0m"));
    ds_buf_free(&b);
    cli_table_free(t);

    /* Priorities: the note goes first, the key keeps its width while it can. */
    const char *h3[] = {"key", "note"};
    t = cli_table_new(2, h3);
    cli_table_priority(t, 1, 3);
    cli_table_cell(t, "a_rather_long_key_name", CLI_NONE);
    cli_table_cell(t, "an error message that is long", CLI_NONE);
    cli_term narrow = {1, 0, 40};
    ds_buf_init(&b);
    ck_assert_int_eq(cli_table_render(t, &narrow, &b), 0);
    ck_assert_str_eq(strchr(b.p, '\n') + 1, "a_rather_long_key_name  an error messag\xE2\x80\xA6\n");
    ds_buf_free(&b);
    cli_table_free(t);

    /* A value with a newline or an escape cannot break the table or the terminal. */
    const char *h2[] = {"v"};
    t = cli_table_new(1, h2);
    cli_table_cell(t, "line1\nline2\033]0;title\007", CLI_NONE);
    ds_buf_init(&b);
    ck_assert_int_eq(cli_table_render(t, &plain, &b), 0);
    ck_assert_str_eq(b.p, "v\nline1 line2?]0;title?\n");
    ds_buf_free(&b);
    cli_table_free(t);
}
END_TEST

START_TEST(render_sparkline)
{
    ds_buf b;
    ds_buf_init(&b);
    double v[] = {0, 1, 2, 3, 4, 5, 6, 7};
    double mn, mx;
    ck_assert_uint_eq(cli_sparkline(&b, v, 8, 80, &mn, &mx), 8);
    ck_assert_str_eq(b.p, "\xE2\x96\x81\xE2\x96\x82\xE2\x96\x83\xE2\x96\x84\xE2\x96\x85\xE2\x96\x86\xE2\x96\x87\xE2\x96\x88");
    ck_assert(mn == 0 && mx == 7);
    ds_buf_reset(&b);
    /* Missing points are blanks; a flat series sits in the middle. */
    double w[] = {5, NAN, 5};
    ck_assert_uint_eq(cli_sparkline(&b, w, 3, 80, &mn, &mx), 3);
    ck_assert_str_eq(b.p, "\xE2\x96\x84 \xE2\x96\x84");
    ds_buf_reset(&b);
    /* 100 points into 10 buckets, extremes far apart without overflow. */
    double big[100];
    for (int i = 0; i < 100; i++) big[i] = i < 50 ? -1e308 : 1e308;
    ck_assert_uint_eq(cli_sparkline(&b, big, 100, 10, &mn, &mx), 10);
    ck_assert_str_eq(b.p, "\xE2\x96\x81\xE2\x96\x81\xE2\x96\x81\xE2\x96\x81\xE2\x96\x81"
                          "\xE2\x96\x88\xE2\x96\x88\xE2\x96\x88\xE2\x96\x88\xE2\x96\x88");
    ds_buf_reset(&b);
    double none[] = {NAN, NAN};
    cli_sparkline(&b, none, 2, 10, &mn, &mx);
    ck_assert(isnan(mn) && isnan(mx));
    ds_buf_free(&b);
}
END_TEST

START_TEST(render_times)
{
    char s[64];
    ck_assert_str_eq(cli_duration(45, s, sizeof s), "45s");
    ck_assert_str_eq(cli_duration(725, s, sizeof s), "12m5s");
    ck_assert_str_eq(cli_duration(5412, s, sizeof s), "1h30m");
    ck_assert_str_eq(cli_duration(2 * 86400 + 3 * 3600 + 59, s, sizeof s), "2d3h");
    ck_assert_str_eq(cli_duration(-90, s, sizeof s), "-1m30s");
    ck_assert_str_eq(cli_age(100, 88, s, sizeof s), "12s ago");
    ck_assert_str_eq(cli_age(100, 400, s, sizeof s), "in 5m");
    ck_assert_str_eq(cli_age(100, 100, s, sizeof s), "now");
    ck_assert_str_eq(cli_millis(850, s, sizeof s), "850ms");
    ck_assert_str_eq(cli_millis(1234, s, sizeof s), "1.2s");
    ck_assert_str_eq(cli_millis(185000, s, sizeof s), "3m5s");
}
END_TEST

static char *value(ds_shape shape, const char *json, int width)
{
    cli_term t = {1, 0, width};
    ds_buf b;
    ds_buf_init(&b);
    if (cli_render_value(&b, &t, shape, json, strlen(json))) { ds_buf_free(&b); return NULL; }
    ds_buf_adds(&b, "");
    return ds_buf_steal(&b);
}

START_TEST(render_values_by_shape)
{
    char *s = value(DS_SHAPE_SCALAR, "9223372036854775807", 80);
    ck_assert_str_eq(s, "9223372036854775807\n");       /* exact, not a double */
    free(s);
    s = value(DS_SHAPE_SCALAR, "\"caf\\u00e9 \\ud83d\\ude00 \\u001b\"", 80);
    ck_assert_str_eq(s, "caf\xC3\xA9 \xF0\x9F\x98\x80 ?\n");
    free(s);
    s = value(DS_SHAPE_ROW, "{\"sites\":1250,\"name\":\"x\",\"pct\":1e+20}", 80);
    ck_assert_str_eq(s, "column  value\nsites   1250\nname    x\npct     1e+20\n");
    free(s);
    s = value(DS_SHAPE_ROW, "null", 80);
    ck_assert_str_eq(s, "(no row)\n");
    free(s);
    s = value(DS_SHAPE_MAP, "{\"new\":4,\"done\":12}", 80);
    ck_assert_str_eq(s, "key   value\nnew       4\ndone     12\n");
    free(s);
    s = value(DS_SHAPE_ROWS, "[{\"id\":1,\"s\":\"a\",\"v\":null},{\"id\":22,\"s\":\"bb\",\"v\":0.5}]", 80);
    ck_assert_str_eq(s, "id  s      v\n 1  a   null\n22  bb   0.5\n(2 rows)\n");
    free(s);
    s = value(DS_SHAPE_ROWS, "[]", 80);
    ck_assert_str_eq(s, "(no rows)\n");
    free(s);
    s = value(DS_SHAPE_SERIES, "{\"x\":[\"a\",\"b\",\"c\"],\"series\":{\"ok\":[1,null,3],\"failed\":[0,0,0]}}", 80);
    ck_assert_str_eq(s, "x: a \xE2\x80\xA6 c  (3 points)\n"
                        "ok      \xE2\x96\x81 \xE2\x96\x88  min 1  max 3\n"
                        "failed  \xE2\x96\x84\xE2\x96\x84\xE2\x96\x84  min 0  max 0\n");
    free(s);
    /* Wider than the terminal: averaged into buckets that fit. */
    ds_buf big;
    ds_buf_init(&big);
    ds_buf_adds(&big, "{\"x\":[");
    for (int i = 0; i < 500; i++) ds_buf_printf(&big, "%s%d", i ? "," : "", i);
    ds_buf_adds(&big, "],\"series\":{\"n\":[");
    for (int i = 0; i < 500; i++) ds_buf_printf(&big, "%s%d", i ? "," : "", i % 7);
    ds_buf_adds(&big, "]}}");
    s = value(DS_SHAPE_SERIES, big.p, 60);
    ds_buf_free(&big);
    ck_assert_ptr_nonnull(s);
    char *l2 = strchr(s, '\n') + 1;
    *strchr(l2, '\n') = '\0';
    ck_assert_uint_le(ds_utf8_chars(l2, strlen(l2)), 60);
    free(s);
    /* Not JSON of the shape: the caller prints the JSON itself. */
    ck_assert_ptr_null(value(DS_SHAPE_MAP, "[1,2]", 80));
    ck_assert_ptr_null(value(DS_SHAPE_SERIES, "{\"x\":1}", 80));
    ck_assert_ptr_null(value(DS_SHAPE_SCALAR, "{\"a\":", 80));
    ck_assert_ptr_null(value(DS_SHAPE_SCALAR, "1 2", 80));
    /* Deep nesting is refused, not recursed into without end. */
    ds_buf deep;
    ds_buf_init(&deep);
    for (int i = 0; i < 10000; i++) ds_buf_addc(&deep, '[');
    ck_assert_ptr_null(value(DS_SHAPE_ROWS, deep.p, 80));
    ds_buf_free(&deep);
}
END_TEST

/* ---------------------------------------------------------------- get */

START_TEST(cli_get)
{
    fx f;
    fx_open(&f);
    fx_values(&f);
    ds_proc p;
    DS_RUN(&p, "get", "--db", f.db, "funnel", "--now", "2026-02-12 10:05:00");
    ck_assert_int_eq(p.status, 0);
    ck_assert_str_eq(p.out, "{\"done\":2,\"failed\":1,\"new\":2}\n");
    ck_assert_str_eq(p.err, "");
    ds_proc_free(&p);

    /* Expired: 3, one line on stderr that says how long ago. */
    DS_RUN(&p, "get", "--db", f.db, "funnel", "--now", "2026-02-12 10:20:00");
    ck_assert_int_eq(p.status, 3);
    ck_assert_str_eq(p.out, "");
    ck_assert_int_eq(lines(p.err), 1);
    ck_assert_ptr_nonnull(strstr(p.err, "expired 5m ago"));
    ds_proc_free(&p);
    /* expires_at == now is expired. */
    DS_RUN(&p, "get", "--db", f.db, "funnel", "--now", "2026-02-12 10:15:00");
    ck_assert_int_eq(p.status, 3);
    ds_proc_free(&p);

    /* --stale prints it anyway, exactly (an int64 stays exact). */
    DS_RUN(&p, "get", "--db", f.db, "--stale", "total", "--now", "2026-02-12 10:20:00");
    ck_assert_int_eq(p.status, 0);
    ck_assert_str_eq(p.out, "9223372036854775807\n");
    ds_proc_free(&p);

    DS_RUN(&p, "get", "--db", f.db, "nothing_here");
    ck_assert_int_eq(p.status, 3);
    ck_assert_int_eq(lines(p.err), 1);
    ck_assert_ptr_nonnull(strstr(p.err, "missing"));
    ds_proc_free(&p);
    DS_RUN(&p, "get", "--db", f.db, "--stale", "nothing_here");
    ck_assert_int_eq(p.status, 3);
    ds_proc_free(&p);
    /* The user's key reaches the terminal through the sanitizer. */
    DS_RUN(&p, "get", "--db", f.db, "no\033[2Jthing");
    ck_assert_int_eq(p.status, 3);
    ck_assert_ptr_null(strchr(p.err, '\033'));
    ck_assert_ptr_nonnull(strstr(p.err, "missing"));
    ds_proc_free(&p);

    /* A key no longer in the plan is still served while its row lasts. */
    DS_RUN(&p, "get", "--db", f.db, "gone_item", "--now", "2026-02-12 10:05:00");
    ck_assert_int_eq(p.status, 0);
    ck_assert_str_eq(p.out, "[]\n");
    ds_proc_free(&p);

    /* $DASHSPEC_DB stands in for --db. */
    char *env = ds_asprintf("DASHSPEC_DB=%s", f.db);
    const char *envs[] = {env, NULL};
    ds_proc_run(&p, (const char *const[]){"get", "funnel", "--now", "2026-02-12 10:05:00", NULL}, NULL, envs);
    ck_assert_int_eq(p.status, 0);
    ck_assert_str_eq(p.out, "{\"done\":2,\"failed\":1,\"new\":2}\n");
    ds_proc_free(&p);
    free(env);

    /* Usage errors: 2. */
    const char *const bad[][6] = {
        {"get", "funnel", NULL},                                   /* no database */
        {"get", "--db", "x.db", NULL},                              /* no key */
        {"get", "--db", "x.db", "a", "b", NULL},                    /* two keys */
        {"get", "--db", "x.db", "a", "--now", "yesterday"},         /* bad time */
        {"get", "--db", "x.db", "a", "--frob", NULL},               /* unknown option */
    };
    const char *const clean_env[] = {"DASHSPEC_DB=", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ds_proc_run(&p, bad[i], NULL, clean_env);
        ck_assert_msg(p.status == 2, "case %zu: status %d: %s", i, p.status, p.err);
        ds_proc_free(&p);
    }

    /* The database: missing -> 5 and not created; not a database -> 5;
     * without dashboard_cache -> 3. */
    char *missing = ds_asprintf("%s/missing.db", f.dir);
    DS_RUN(&p, "get", "--db", missing, "funnel");
    ck_assert_int_eq(p.status, 5);
    ck_assert_int_eq(access(missing, F_OK), -1);
    ds_proc_free(&p);
    char *junk = ds_write(f.dir, "junk.db", "just some text, and not a database file at all, really......");
    DS_RUN(&p, "get", "--db", junk, "funnel");
    ck_assert_int_eq(p.status, 5);
    ds_proc_free(&p);
    char *empty = ds_write(f.dir, "empty.db", "");
    DS_RUN(&p, "get", "--db", empty, "funnel");
    ck_assert_int_eq(p.status, 3);
    ds_proc_free(&p);
    struct stat st;
    ck_assert_int_eq(stat(empty, &st), 0);
    ck_assert_int_eq(st.st_size, 0);       /* read-only: no tables created */
    free(missing); free(junk); free(empty);
    fx_close(&f);
}
END_TEST

/* ---------------------------------------------------------------- status */

START_TEST(cli_status)
{
    fx f;
    fx_open(&f);
    fx_values(&f);
    ds_proc p;
    DS_RUN(&p, "status", "--db", f.db, "--json", "--now", "2026-02-12 10:05:00");
    ck_assert_msg(p.status == 0, "%s", p.err);     /* a failing item does not fail status */
    cJSON *j = cJSON_Parse(p.out);
    ck_assert_ptr_nonnull(j);
    int fresh = cJSON_GetObjectItem(j, "fresh")->valueint;
    int expired = cJSON_GetObjectItem(j, "expired")->valueint;
    int missing = cJSON_GetObjectItem(j, "missing")->valueint;
    int failing = cJSON_GetObjectItem(j, "failing")->valueint;
    cJSON *items = cJSON_GetObjectItem(j, "items");
    ck_assert_int_eq(fresh, 1);
    ck_assert_int_eq(expired, 1);
    ck_assert_int_eq(missing, 3);
    ck_assert_int_eq(failing, 1);
    ck_assert_int_eq(fresh + expired + missing, cJSON_GetArraySize(items));
    cJSON *it;
    cJSON_ArrayForEach(it, items) {
        const char *k = cJSON_GetObjectItem(it, "key")->valuestring;
        const char *state = cJSON_GetObjectItem(it, "state")->valuestring;
        if (strcmp(k, "funnel") == 0) {
            ck_assert_str_eq(state, "fresh");
            ck_assert_int_eq(cJSON_GetObjectItem(it, "age_s")->valueint, 300);
            ck_assert_int_eq(cJSON_GetObjectItem(it, "ttl_s")->valueint, 900);
            ck_assert_int_eq(cJSON_GetObjectItem(it, "refresh_s")->valueint, 600);
            ck_assert_int_eq(cJSON_GetObjectItem(it, "entries")->valueint, 3);
            ck_assert_int_eq(cJSON_GetObjectItem(it, "last_duration_ms")->valueint, 12);
            ck_assert_str_eq(cJSON_GetObjectItem(it, "next_due")->valuestring, "2026-02-12 10:10:00");
            ck_assert_str_eq(cJSON_GetObjectItem(it, "group")->valuestring, "overview");
        } else if (strcmp(k, "broken") == 0) {
            ck_assert_str_eq(state, "missing");
            ck_assert_int_eq(cJSON_GetObjectItem(it, "failures")->valueint, 4);
            ck_assert_str_eq(cJSON_GetObjectItem(it, "last_error")->valuestring, "no such table: gone");
        } else if (strcmp(k, "hourly") == 0) {
            ck_assert_str_eq(cJSON_GetObjectItem(it, "kind")->valuestring, "chart");
            ck_assert(cJSON_IsNull(cJSON_GetObjectItem(it, "entries")));
        }
    }
    cJSON *orph = cJSON_GetObjectItem(j, "orphaned");
    ck_assert_int_eq(cJSON_GetArraySize(orph), 1);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(orph, 0), "key")->valuestring, "gone_item");
    cJSON_Delete(j);
    ds_proc_free(&p);

    /* Piped human output: plain ASCII words, one header, one line per item. */
    DS_RUN(&p, "status", "--db", f.db, "--now", "2026-02-12 10:05:00");
    ck_assert_int_eq(p.status, 0);
    ck_assert_msg(ascii_only(p.out), "%s", p.out);
    ck_assert_ptr_nonnull(strstr(p.out, "1 fresh  1 expired  3 missing  1 failing"));
    ck_assert_ptr_nonnull(strstr(p.out, "gone_item"));
    ck_assert_ptr_nonnull(strstr(p.out, "failed 4x: no such table: gone"));
    char *row = strstr(p.out, "\nfunnel ");
    ck_assert_ptr_nonnull(row);
    ck_assert_ptr_nonnull(strstr(row, "fresh"));
    /* ttl and refresh side by side (refresh defaults to two thirds of ttl) */
    ck_assert_ptr_nonnull(strstr(p.out, " ttl  refresh "));
    ds_proc_free(&p);

    /* Usage and database errors. */
    DS_RUN(&p, "status", "--db", f.db, "extra");
    ck_assert_int_eq(p.status, 2);
    ds_proc_free(&p);
    DS_RUN(&p, "status", "--db", f.db, "--now", "2026-13-01 00:00:00");
    ck_assert_int_eq(p.status, 2);
    ds_proc_free(&p);
    char *missing_db = ds_asprintf("%s/missing.db", f.dir);
    DS_RUN(&p, "status", "--db", missing_db);
    ck_assert_int_eq(p.status, 5);
    ck_assert_int_eq(access(missing_db, F_OK), -1);
    ds_proc_free(&p);
    free(missing_db);
    fx_close(&f);
}
END_TEST

/* ---------------------------------------------------------------- clear */

START_TEST(cli_clear)
{
    fx f;
    fx_open(&f);
    ds_sql(f.db, "INSERT INTO dashboard_cache VALUES"
                 " ('chart_a', '1', '2026-02-12 10:00:00', '2026-02-12 10:15:00'),"
                 " ('chart_b', '1', '2026-02-12 10:00:00', '2026-02-12 10:15:00'),"
                 " ('metric_a', '1', '2026-02-12 10:00:00', '2026-02-12 10:15:00'),"
                 " ('metric_b', '1', '2026-02-12 10:00:00', '2026-02-12 10:15:00'),"
                 " ('other', '1', '2026-02-12 10:00:00', '2026-02-12 10:15:00');"
                 "INSERT INTO dashspec_state(cache_key, failures) VALUES ('chart_a', 0);");
    ds_proc p;
    DS_RUN(&p, "clear", "--db", f.db, "chart_*");
    ck_assert_int_eq(p.status, 0);
    ck_assert_str_eq(p.out, "cleared 2 cache rows\n");
    ds_proc_free(&p);
    ck_assert_int_eq(count_rows(f.db), 3);
    DS_RUN(&p, "clear", "--db", f.db, "metric_?", "other", "nothing*");
    ck_assert_int_eq(p.status, 0);
    ck_assert_str_eq(p.out, "cleared 3 cache rows\n");
    ds_proc_free(&p);
    ck_assert_int_eq(count_rows(f.db), 0);
    DS_RUN(&p, "clear", "--db", f.db);
    ck_assert_int_eq(p.status, 0);
    ck_assert_str_eq(p.out, "cleared 0 cache rows\n");
    ds_proc_free(&p);
    char *v = ds_sql_text(f.db, "SELECT count(*) FROM dashspec_state");
    ck_assert_str_eq(v, "1");                     /* state keeps its history */
    free(v);

    ds_sql(f.db, "INSERT INTO dashboard_cache VALUES ('x', '1', '2026-02-12 10:00:00', '2026-02-12 10:15:00'),"
                 " ('y', '1', '2026-02-12 10:00:00', '2026-02-12 10:15:00')");
    DS_RUN(&p, "clear", "--db", f.db);
    ck_assert_int_eq(p.status, 0);
    ck_assert_str_eq(p.out, "cleared 2 cache rows\n");
    ds_proc_free(&p);

    /* A database the application made: clear creates dashspec's tables (it writes). */
    char *app = ds_write(f.dir, "fresh.db", "");
    DS_RUN(&p, "clear", "--db", app);
    ck_assert_int_eq(p.status, 0);
    ck_assert_str_eq(p.out, "cleared 0 cache rows\n");
    ds_proc_free(&p);
    ck_assert_int_eq(count_rows(app), 0);
    char *missing = ds_asprintf("%s/missing.db", f.dir);
    DS_RUN(&p, "clear", "--db", missing);
    ck_assert_int_eq(p.status, 5);
    ck_assert_int_eq(access(missing, F_OK), -1);
    ds_proc_free(&p);
    const char *const clean_env[] = {"DASHSPEC_DB=", NULL};
    ds_proc_run(&p, (const char *const[]){"clear", NULL}, NULL, clean_env);
    ck_assert_int_eq(p.status, 2);
    ds_proc_free(&p);
    DS_RUN(&p, "clear", "--db", f.db, "");
    ck_assert_int_eq(p.status, 2);
    ds_proc_free(&p);
    free(app);
    free(missing);
    fx_close(&f);
}
END_TEST

/* ---------------------------------------------------------------- explain */

/* An unknown key: get, explain and preview suggest the nearest plan key. */
START_TEST(cli_key_suggestions)
{
    fx f;
    fx_open(&f);
    ds_proc p;
    DS_RUN(&p, "get", "--db", f.db, "funel");
    ck_assert_int_eq(p.status, 3);
    ck_assert_str_eq(p.err, "dashspec get: no value for 'funel' (not an item of the plan); did you mean 'funnel'?\n");
    ds_proc_free(&p);
    DS_RUN(&p, "explain", "--db", f.db, "recnet");
    ck_assert_int_eq(p.status, 1);
    ck_assert_ptr_nonnull(strstr(p.err, "no item 'recnet' in the plan of"));
    ck_assert_ptr_nonnull(strstr(p.err, "; did you mean 'recent'?"));
    ds_proc_free(&p);
    DS_RUN(&p, "preview", "--db", f.db, "hourlyy");
    ck_assert_int_eq(p.status, 1);
    ck_assert_ptr_nonnull(strstr(p.err, "did you mean 'hourly'?"));
    ds_proc_free(&p);
    DS_RUN(&p, "get", "--db", f.db, "zzzzzz");      /* nothing near: no suggestion */
    ck_assert_ptr_null(strstr(p.err, "did you mean"));
    ds_proc_free(&p);
    fx_close(&f);
}
END_TEST

START_TEST(cli_explain)
{
    fx f;
    fx_open(&f);
    ds_proc p;
    DS_RUN(&p, "explain", "--db", f.db, "recent", "--now", "2026-02-12 10:00:00");
    ck_assert_msg(p.status == 0, "%s", p.err);
    const char *want[] = {"recent", "shape rows", "specs/more.yaml:2", "00000000000000f3", "ttl 10m, refresh 5m, timeout 30s",
                          ":hours", "integer", "48", ":now", "'2026-02-12 10:00:00'",
                          "SELECT id, status FROM sites", "QUERY PLAN", "`--", "sites"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        ck_assert_msg(strstr(p.out, want[i]) != NULL, "no '%s' in:\n%s", want[i], p.out);
    ck_assert(ascii_only(p.out));
    ds_proc_free(&p);

    DS_RUN(&p, "explain", "--db", f.db, "hourly");
    ck_assert_int_eq(p.status, 0);
    ck_assert_ptr_nonnull(strstr(p.out, "series_by status"));
    ck_assert_ptr_nonnull(strstr(p.out, "fill 0"));
    ds_proc_free(&p);

    DS_RUN(&p, "explain", "--db", f.db, "nope");
    ck_assert_int_eq(p.status, 1);
    ck_assert_ptr_nonnull(strstr(p.err, "no item 'nope'"));
    ds_proc_free(&p);
    /* The table is gone since compile: the item is shown, the error said, exit 1. */
    DS_RUN(&p, "explain", "--db", f.db, "broken");
    ck_assert_int_eq(p.status, 1);
    ck_assert_ptr_nonnull(strstr(p.out, "SELECT COUNT(*) FROM gone"));
    ck_assert_ptr_nonnull(strstr(p.err, "no such table: gone"));
    ds_proc_free(&p);
    DS_RUN(&p, "explain", "--db", f.db);
    ck_assert_int_eq(p.status, 2);
    ds_proc_free(&p);
    char *missing = ds_asprintf("%s/missing.db", f.dir);
    DS_RUN(&p, "explain", "--db", missing, "recent");
    ck_assert_int_eq(p.status, 5);
    ds_proc_free(&p);
    free(missing);
    fx_close(&f);
}
END_TEST

/* ---------------------------------------------------------------- preview */

START_TEST(cli_preview)
{
    fx f;
    fx_open(&f);
    fx_values(&f);
    char *before = ds_slurp(f.db);
    struct stat st0, st1;
    ck_assert_int_eq(stat(f.db, &st0), 0);
    ds_proc p;
    DS_RUN(&p, "preview", "--db", f.db, "funnel", "--now", "2026-02-12 10:00:00");
    ck_assert_msg(p.status == 0, "%s", p.err);
    ck_assert_str_eq(p.out, "{\"done\":2,\"failed\":1,\"new\":2}\n");
    ds_proc_free(&p);
    DS_RUN(&p, "preview", "--db", f.db, "--json", "hourly", "--now", "2026-02-12 10:00:00");
    ck_assert_int_eq(p.status, 0);
    ck_assert_str_eq(p.out, "{\"x\":[\"08:00\",\"09:00\"],\"series\":{\"done\":[1,0],\"new\":[1,1]}}\n");
    ds_proc_free(&p);
    /* :now is bound: the scalar counts rows created up to then. */
    DS_RUN(&p, "preview", "--db", f.db, "total", "--now", "2026-02-12 08:25:00");
    ck_assert_int_eq(p.status, 0);
    ck_assert_str_eq(p.out, "3\n");
    ds_proc_free(&p);

    DS_RUN(&p, "preview", "--db", f.db, "broken");
    ck_assert_int_eq(p.status, 1);
    ck_assert_str_eq(p.out, "");
    ck_assert_ptr_nonnull(strstr(p.err, "no such table: gone"));
    ds_proc_free(&p);
    DS_RUN(&p, "preview", "--db", f.db, "nope");
    ck_assert_int_eq(p.status, 1);
    ds_proc_free(&p);
    DS_RUN(&p, "preview", "--db", f.db);
    ck_assert_int_eq(p.status, 2);
    ds_proc_free(&p);
    DS_RUN(&p, "preview", "--db", f.db, "funnel", "--now", "noon");
    ck_assert_int_eq(p.status, 2);
    ds_proc_free(&p);
    char *missing = ds_asprintf("%s/missing.db", f.dir);
    DS_RUN(&p, "preview", "--db", missing, "funnel");
    ck_assert_int_eq(p.status, 5);
    ck_assert_int_eq(access(missing, F_OK), -1);
    ds_proc_free(&p);
    free(missing);

    /* Writes nothing: the file is byte for byte what it was, mtime too. */
    char *after = ds_slurp(f.db);
    ck_assert_int_eq(stat(f.db, &st1), 0);
    ck_assert_int_eq(st0.st_size, st1.st_size);
    ck_assert_int_eq(memcmp(before, after, (size_t)st0.st_size), 0);
    ck_assert(st0.st_mtim.tv_sec == st1.st_mtim.tv_sec && st0.st_mtim.tv_nsec == st1.st_mtim.tv_nsec);
    free(before);
    free(after);
    fx_close(&f);
}
END_TEST

/* ---------------------------------------------------------------- migrate */

START_TEST(cli_migrate)
{
    char *dir = ds_tmpdir();
    char *db = ds_write(dir, "app\033]0;t\a.db", "");
    char *missing = ds_asprintf("%s/missing.db", dir);
    ds_proc p;
    DS_RUN(&p, "migrate", "--db", missing);
    ck_assert_int_eq(p.status, 5);
    ck_assert_int_eq(access(missing, F_OK), -1);    /* never creates the file */
    ds_proc_free(&p);
    DS_RUN(&p, "migrate", "--db", db);
    ck_assert_int_eq(p.status, 0);
    ck_assert_ptr_nonnull(strstr(p.out, "created dashspec tables in "));
    ck_assert_ptr_null(strchr(p.out, '\033'));     /* the path went through the sanitizer */
    ck_assert_ptr_null(strchr(p.out, '\a'));
    ds_proc_free(&p);
    DS_RUN(&p, "migrate", "--db", db);
    ck_assert_int_eq(p.status, 0);
    ck_assert_str_eq(p.out, "dashspec tables are up to date\n");
    ds_proc_free(&p);
    char *v = ds_sql_text(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND"
                              " name IN ('dashboard_cache', 'dashspec_plan', 'dashspec_state', 'dashspec_runs', 'dashspec_migrations')");
    ck_assert_str_eq(v, "5");
    free(v);
    DS_RUN(&p, "migrate", "--db", db, "extra");
    ck_assert_int_eq(p.status, 2);
    ds_proc_free(&p);
    char *junk = ds_write(dir, "junk.db", "this is certainly not an SQLite database, just words and words");
    DS_RUN(&p, "migrate", "--db", junk);
    ck_assert_int_eq(p.status, 5);
    ds_proc_free(&p);
    char *after = ds_slurp(junk);
    ck_assert_str_eq(after, "this is certainly not an SQLite database, just words and words");
    free(after);
    free(junk);
    free(db);
    free(missing);
    ds_tmp_cleanup(dir);
}
END_TEST

START_TEST(cli_help_texts)
{
    const char *cmds[] = {"get", "status", "clear", "explain", "preview", "migrate"};
    for (size_t i = 0; i < 6; i++) {
        ds_proc p;
        DS_RUN(&p, "help", cmds[i]);
        ck_assert_int_eq(p.status, 0);
        char *want = ds_asprintf("usage: dashspec %s ", cmds[i]);
        ck_assert_msg(strncmp(p.out, want, strlen(want)) == 0, "%s", p.out);
        ck_assert_ptr_nonnull(strstr(p.out, "exit status"));
        free(want);
        ds_proc_free(&p);
        DS_RUN(&p, cmds[i], "--help");
        ck_assert_int_eq(p.status, 0);
        ds_proc_free(&p);
    }
}
END_TEST

/* ---------------------------------------------------------------- on a terminal */

START_TEST(tty_status_and_preview)
{
    fx f;
    fx_open(&f);
    fx_values(&f);
    ds_proc p;
    DS_TTY(&p, 100, 1, "status", "--db", f.db, "--now", "2026-02-12 10:05:00");
    ck_assert_int_eq(p.status, 0);
    ck_assert_msg(strstr(p.out, "\xE2\x9C\x85 1 fresh") != NULL, "%s", p.out);
    ck_assert_ptr_nonnull(strstr(p.out, "\xF0\x9F\x92\xA4 3 missing"));
    ck_assert_ptr_nonnull(strstr(p.out, "\033[32mfresh\033[0m"));    /* colour on a terminal */
    ds_proc_free(&p);
    DS_TTY(&p, 100, 0, "status", "--db", f.db, "--now", "2026-02-12 10:05:00");
    ck_assert_int_eq(p.status, 0);
    ck_assert_ptr_nonnull(strstr(p.out, "\xE2\x9C\x85 1 fresh"));
    ck_assert_ptr_null(strstr(p.out, "\033["));                       /* NO_COLOR */
    ds_proc_free(&p);

    DS_TTY(&p, 80, 0, "preview", "--db", f.db, "hourly", "--now", "2026-02-12 10:00:00");
    ck_assert_int_eq(p.status, 0);
    ck_assert_msg(strstr(p.out, "x: 08:00 \xE2\x80\xA6 09:00  (2 points)") != NULL, "%s", p.out);
    ck_assert_ptr_nonnull(strstr(p.out, "done  \xE2\x96\x88\xE2\x96\x81  min 0  max 1"));
    ds_proc_free(&p);
    DS_TTY(&p, 80, 0, "preview", "--db", f.db, "recent", "--now", "2026-02-12 10:00:00");
    ck_assert_int_eq(p.status, 0);
    ck_assert_msg(strstr(p.out, "id  status") != NULL, "%s", p.out);
    ck_assert_ptr_nonnull(strstr(p.out, "(4 rows)"));
    ds_proc_free(&p);
    /* --json on a terminal: the exact value. */
    DS_TTY(&p, 80, 0, "preview", "--db", f.db, "--json", "funnel");
    ck_assert_int_eq(p.status, 0);
    ck_assert_str_eq(p.out, "{\"done\":2,\"failed\":1,\"new\":2}\r\n");
    ds_proc_free(&p);
    fx_close(&f);
}
END_TEST

/* ---------------------------------------------------------------- end to end */

static const char spec_yaml[] =
    "version: 1\n"
    "defaults:\n"
    "  ttl: 15m\n"
    "metrics:\n"
    "  - key: funnel\n"
    "    shape: map\n"
    "    query: SELECT status, COUNT(*) FROM sites GROUP BY status ORDER BY status\n"
    "  - key: total\n"
    "    shape: scalar\n"
    "    ttl: 2h\n"
    "    query: SELECT COUNT(*) FROM sites WHERE created_at <= :now\n"
    "charts:\n"
    "  - key: hourly\n"
    "    shape: series\n"
    "    x: hour\n"
    "    y: n\n"
    "    series_by: status\n"
    "    fill: 0\n"
    "    query: |\n"
    "      SELECT strftime('%H:00', created_at) AS hour, status, COUNT(*) AS n\n"
    "      FROM sites WHERE created_at >= datetime(:now, '-1 day') GROUP BY hour, status ORDER BY hour\n";

typedef struct mrows { int n; char v[8][3][64]; } mrows;

static int mcollect(void *arg, int nc, char **v, char **names)
{
    (void)names;
    mrows *r = arg;
    if (r->n >= 8) return 0;
    for (int i = 0; i < nc && i < 3; i++) snprintf(r->v[r->n][i], 64, "%s", v[i] ? v[i] : "NULL");
    r->n++;
    return 0;
}

static int status_count(const char *db, const char *field)
{
    ds_proc p;
    DS_RUN(&p, "status", "--db", db, "--json");
    ck_assert_msg(p.status == 0, "%s", p.err);
    cJSON *j = cJSON_Parse(p.out);
    ck_assert_ptr_nonnull(j);
    int n = cJSON_GetObjectItem(j, field)->valueint;
    cJSON_Delete(j);
    ds_proc_free(&p);
    return n;
}

/* compile and run write the cache; the reader commands and the origin's three
 * "Monitor Cache" queries (unchanged, on the real clock) agree on it. */
START_TEST(e2e_written_by_run)
{
    char *dir = ds_tmpdir();
    char *db = ds_write(dir, "app.db", "");
    char *specs = ds_asprintf("%s/specs", dir);
    free(ds_write(dir, "specs/app.yaml", spec_yaml));
    ds_sql(db, "CREATE TABLE sites(id INTEGER PRIMARY KEY, status TEXT NOT NULL, created_at TEXT NOT NULL);"
               "INSERT INTO sites(status, created_at) VALUES ('new', datetime('now', '-2 hours')),"
               " ('new', datetime('now', '-3 hours')), ('done', datetime('now', '-2 hours')), ('done', '2020-01-01 00:00:00');");
    ds_proc p;
    DS_RUN(&p, "compile", "--db", db, "--specs", specs);
    ck_assert_msg(p.status == 0, "compile: %s", p.err);
    ds_proc_free(&p);
    /* Computed half an hour ago: the 15m items have expired, the 2h one is fresh. */
    char then[20];
    ds_time_format(ds_time_now() - 1800, then);
    DS_RUN(&p, "run", "--db", db, "--now", then, "--quiet");
    ck_assert_msg(p.status == 0, "run: %s", p.err);
    ds_proc_free(&p);

    sqlite3 *h = NULL;
    ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
    mrows r = {0};
    ck_assert_int_eq(sqlite3_exec(h,
        "SELECT cache_key, length(cache_value) as size_bytes,\n"
        "datetime(expires_at) as expires\n"
        "FROM dashboard_cache;", mcollect, &r, NULL), SQLITE_OK);
    ck_assert_int_eq(r.n, 3);
    for (int i = 0; i < 3; i++) ck_assert_str_ne(r.v[i][2], "NULL");
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(sqlite3_exec(h,
        "SELECT\n"
        "COUNT(*) as total,\n"
        "SUM(CASE WHEN expires_at > datetime('now') THEN 1 ELSE 0 END) as fresh,\n"
        "SUM(CASE WHEN expires_at <= datetime('now') THEN 1 ELSE 0 END) as expired\n"
        "FROM dashboard_cache;", mcollect, &r, NULL), SQLITE_OK);
    ck_assert_str_eq(r.v[0][0], "3");
    ck_assert_str_eq(r.v[0][1], "1");
    ck_assert_str_eq(r.v[0][2], "2");
    ck_assert_int_eq(status_count(db, "fresh"), 1);
    ck_assert_int_eq(status_count(db, "expired"), 2);
    ck_assert_int_eq(status_count(db, "missing"), 0);

    DS_RUN(&p, "get", "--db", db, "total");
    ck_assert_int_eq(p.status, 0);
    ck_assert_str_eq(p.out, "4\n");
    ds_proc_free(&p);
    DS_RUN(&p, "get", "--db", db, "funnel");
    ck_assert_int_eq(p.status, 3);
    ck_assert_ptr_nonnull(strstr(p.err, "expired 15m"));
    ds_proc_free(&p);
    /* preview computes what run cached. */
    DS_RUN(&p, "get", "--db", db, "--stale", "hourly");
    ck_assert_int_eq(p.status, 0);
    char *cached = strdup(p.out);
    ds_proc_free(&p);
    DS_RUN(&p, "preview", "--db", db, "hourly", "--now", then);
    ck_assert_int_eq(p.status, 0);
    ck_assert_str_eq(p.out, cached);
    ds_proc_free(&p);
    free(cached);

    /* An item removed from the specs: its row stays, as an orphan. */
    char *cut = strdup(spec_yaml);
    *strstr(cut, "charts:") = '\0';
    free(ds_write(dir, "specs/app.yaml", cut));
    free(cut);
    DS_RUN(&p, "compile", "--db", db, "--specs", specs);
    ck_assert_msg(p.status == 0, "compile: %s", p.err);
    ds_proc_free(&p);
    DS_RUN(&p, "status", "--db", db, "--json");
    cJSON *j = cJSON_Parse(p.out);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "items")), 2);
    cJSON *orph = cJSON_GetObjectItem(j, "orphaned");
    ck_assert_int_eq(cJSON_GetArraySize(orph), 1);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(orph, 0), "key")->valuestring, "hourly");
    cJSON_Delete(j);
    ds_proc_free(&p);

    ck_assert_int_eq(sqlite3_exec(h, "DELETE FROM dashboard_cache;", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    ck_assert_int_eq(status_count(db, "missing"), 2);
    free(specs);
    free(db);
    ds_tmp_cleanup(dir);
}
END_TEST

Suite *cli_read_suite(void)
{
    Suite *s = suite_create("cli_read");
    TCase *tc = tcase_create("render");
    /* In-memory work only, every test well under 0.1 s here; 30 s is a hang
     * detector with room for valgrind (about 50 times slower). */
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, render_clean_text);
    tcase_add_test(tc, render_table_layout);
    tcase_add_test(tc, render_sparkline);
    tcase_add_test(tc, render_times);
    tcase_add_test(tc, render_values_by_shape);
    suite_add_tcase(s, tc);
    tc = tcase_create("commands");
    /* Each test starts the binary 5-20 times (under 0.5 s); 120 s for valgrind. */
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, cli_get);
    tcase_add_test(tc, cli_status);
    tcase_add_test(tc, cli_clear);
    tcase_add_test(tc, cli_explain);
    tcase_add_test(tc, cli_key_suggestions);
    tcase_add_test(tc, cli_preview);
    tcase_add_test(tc, cli_migrate);
    tcase_add_test(tc, cli_help_texts);
    tcase_add_test(tc, tty_status_and_preview);
    tcase_add_test(tc, e2e_written_by_run);
    suite_add_tcase(s, tc);
    return s;
}

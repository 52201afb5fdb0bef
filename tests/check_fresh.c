/*
 * check_fresh.c — refresh_key (issue 13) end to end, driving the built
 * binary with --now stepped a minute at a time: a confirmed value equals
 * what a recompute gives whenever the key's tables did not change (a
 * property test over random appends, deterministic seed), and the rules
 * around it: --force, a changed spec and an expired value recompute; check
 * warns about :now; key errors point into the key; status and --dry-run
 * say "confirmed, key unchanged".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ds_test.h"

static char *dir;
static char db[4096];

/* Two items with the same query: "keyed" has a refresh_key over the table
 * the query reads, "plain" is recomputed at every step (refresh 1m). The
 * application also writes to a table neither reads. */
static const char specs_yaml[] =
    "version: 1\n"
    "defaults:\n"
    "  ttl: 1h\n"
    "  refresh: 1m\n"
    "charts:\n"
    "  - key: keyed\n"
    "    shape: map\n"
    "    query: SELECT kind, sum(amount) AS total FROM orders GROUP BY kind ORDER BY kind\n"
    "    refresh_key: SELECT max(id) AS last_id, count(*) AS n FROM orders\n"
    "  - key: plain\n"
    "    shape: map\n"
    "    query: SELECT kind, sum(amount) AS total FROM orders GROUP BY kind ORDER BY kind\n";

static const char schema[] =
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, amount INTEGER NOT NULL);"
    "CREATE TABLE audit (id INTEGER PRIMARY KEY, note TEXT);"
    "INSERT INTO orders (kind, amount) VALUES ('a', 1), ('b', 2);";

static void setup(void)
{
    dir = ds_tmpdir();
    snprintf(db, sizeof db, "%s/app.db", dir);
    ds_sql(db, schema);
    free(ds_write(dir, "specs/main.yaml", specs_yaml));
}

static void teardown(void)
{
    ds_tmp_cleanup(dir);
}

static char *specs_dir(void)
{
    static char s[4200];
    snprintf(s, sizeof s, "%s/specs", dir);
    return s;
}

/* "2026-02-12 HH:MM:00" for minute m after 10:00. */
static const char *at(int m, char buf[32])
{
    snprintf(buf, 32, "2026-02-12 %02d:%02d:00", 10 + m / 60, m % 60);
    return buf;
}

static char *value(const char *key)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT cache_value FROM dashboard_cache WHERE cache_key = '%s'", key);
    return ds_sql_text(db, sql);
}

static int run_at(int m, const char *extra, char **out)
{
    char ts[32];
    ds_proc p;
    if (extra)
        DS_RUN(&p, "run", "--db", db, "--specs", specs_dir(), "--now", at(m, ts), extra);
    else
        DS_RUN(&p, "run", "--db", db, "--specs", specs_dir(), "--now", at(m, ts));
    int st = p.status;
    if (out) *out = strdup(p.out ? p.out : "");
    ds_proc_free(&p);
    return st;
}

static int confirmed_in(const char *summary, const char *key)
{
    char want[64];
    snprintf(want, sizeof want, "\"confirmed\":[\"%s\"", key);
    return strstr(summary, want) != NULL;
}

/* The property: at every step the keyed value equals the recomputed one,
 * and both confirmations and recomputes happen. */
START_TEST(confirmed_equals_recompute)
{
    unsigned seed = 13;
    int confirmed = 0, recomputed = 0;
    char *out = NULL;
    ck_assert_int_eq(run_at(0, NULL, &out), 0);
    free(out);
    for (int m = 1; m <= 40; m++) {
        int r = rand_r(&seed) % 4;
        char sql[256];
        if (r == 0) {           /* a new order: the key changes */
            snprintf(sql, sizeof sql, "INSERT INTO orders (kind, amount) VALUES ('%c', %d)",
                     'a' + rand_r(&seed) % 3, rand_r(&seed) % 100);
            ds_sql(db, sql);
        } else if (r == 1) {    /* a late order with a low id: count changes */
            snprintf(sql, sizeof sql, "INSERT INTO orders (id, kind, amount) VALUES (-%d, 'c', %d)", m,
                     rand_r(&seed) % 100);
            ds_sql(db, sql);
        } else {                /* a table neither query reads */
            ds_sql(db, "INSERT INTO audit (note) VALUES ('x')");
        }
        ck_assert_int_eq(run_at(m, NULL, &out), 0);
        if (confirmed_in(out, "keyed")) confirmed++;
        else if (strstr(out, "\"keyed\":")) recomputed++;
        free(out);
        char *a = value("keyed"), *b = value("plain");
        ck_assert_ptr_nonnull(a);
        ck_assert_ptr_nonnull(b);
        ck_assert_msg(strcmp(a, b) == 0, "minute %d: keyed %s, recompute %s", m, a, b);
        free(a);
        free(b);
    }
    ck_assert_int_gt(confirmed, 5);
    ck_assert_int_gt(recomputed, 5);
    char *k = ds_sql_text(db, "SELECT count(*) FROM dashspec_state WHERE refresh_key_value IS NOT NULL");
    ck_assert_ptr_nonnull(k);
    ck_assert_str_eq(k, "1");
    free(k);
}
END_TEST

START_TEST(force_and_spec_change_recompute)
{
    char *out = NULL;
    ck_assert_int_eq(run_at(0, NULL, &out), 0);
    free(out);
    ck_assert_int_eq(run_at(2, NULL, &out), 0);
    ck_assert(confirmed_in(out, "keyed"));
    free(out);
    /* status and --dry-run say so */
    char ts[32];
    ds_proc p;
    DS_RUN(&p, "status", "--db", db, "--now", at(2, ts));
    ck_assert_ptr_nonnull(strstr(p.out, "confirmed, key unchanged"));
    ds_proc_free(&p);
    DS_RUN(&p, "run", "--dry-run", "--db", db, "--now", at(2, ts));
    ck_assert_ptr_nonnull(strstr(p.out, "confirmed, key unchanged"));
    ds_proc_free(&p);
    ck_assert_int_eq(run_at(4, "--force", &out), 0);
    ck_assert(!confirmed_in(out, "keyed"));
    ck_assert_ptr_nonnull(strstr(out, "\"keyed\":"));
    free(out);
    char *c = ds_sql_text(db, "SELECT created_at FROM dashboard_cache WHERE cache_key = 'keyed'");
    ck_assert_str_eq(c, "2026-02-12 10:04:00");
    free(c);
    /* a changed key changes the spec hash: recomputed */
    char *y = strdup(specs_yaml);
    char *pos = strstr(y, "count(*) AS n");
    memcpy(pos, "count(1) AS n", 13);
    free(ds_write(dir, "specs/main.yaml", y));
    free(y);
    ck_assert_int_eq(run_at(6, NULL, &out), 0);
    ck_assert(!confirmed_in(out, "keyed"));
    ck_assert_ptr_nonnull(strstr(out, "\"keyed\":"));
    free(out);
}
END_TEST

START_TEST(check_rules)
{
    free(ds_write(dir, "specs/main.yaml",
                  "version: 1\n"
                  "defaults:\n"
                  "  ttl: 1h\n"
                  "  refresh: 5m\n"
                  "metrics:\n"
                  "  - key: recent\n"
                  "    shape: scalar\n"
                  "    query: SELECT count(*) FROM orders WHERE id > :now\n"
                  "    refresh_key: SELECT max(id) FROM orders\n"
                  "  - key: bad\n"
                  "    shape: scalar\n"
                  "    query: SELECT 1\n"
                  "    refresh_key: SELECT nope FROM orders WHERE id = :x\n"));
    ds_proc p;
    DS_RUN(&p, "check", "--db", db, "--specs", specs_dir());
    ck_assert_int_ne(p.status, 0);
    char *all = malloc(strlen(p.out) + strlen(p.err) + 1);
    strcpy(all, p.out);
    strcat(all, p.err);
    ck_assert_ptr_nonnull(strstr(all, "main.yaml:9:18: warning: the query binds :now but refresh_key does not"));
    ck_assert_ptr_nonnull(strstr(all, "parameter ':x' is not declared in params"));
    ck_assert_ptr_nonnull(strstr(all, "no such column: nope"));
    free(all);
    ds_proc_free(&p);
}
END_TEST

Suite *fresh_suite(void)
{
    Suite *s = suite_create("fresh");
    TCase *tc = tcase_create("refresh_key");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, confirmed_equals_recompute);
    tcase_add_test(tc, force_and_spec_change_recompute);
    tcase_add_test(tc, check_rules);
    suite_add_tcase(s, tc);
    return s;
}

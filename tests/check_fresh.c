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
#include "ds_common.h"
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
        /* The key's table did not change: confirmed, never recomputed; it
         * did: recomputed (both keys differ after each kind of insert). */
        if (r >= 2) ck_assert_msg(confirmed_in(out, "keyed"), "minute %d: not confirmed: %s", m, out);
        else ck_assert_msg(!confirmed_in(out, "keyed"), "minute %d: confirmed after a change: %s", m, out);
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
                  "    refresh_key: SELECT nope FROM orders WHERE id = :x\n"
                  "  - key: windowed\n"
                  "    shape: scalar\n"
                  "    query: SELECT count(*) FROM orders WHERE id > :now\n"
                  "    refresh_key: SELECT max(id), :now > '2026' FROM orders\n"));
    ds_proc p;
    DS_RUN(&p, "check", "--db", db, "--specs", specs_dir());
    ck_assert_int_ne(p.status, 0);
    char *all = malloc(strlen(p.out) + strlen(p.err) + 1);
    strcpy(all, p.out);
    strcat(all, p.err);
    const char *w = strstr(all, "main.yaml:9:18: warning: the query binds :now but refresh_key does not");
    ck_assert_ptr_nonnull(w);
    /* only there: a key that binds :now too is fine */
    int nwarn = 0;
    for (const char *q = all; (q = strstr(q, "binds :now")) != NULL; q++) nwarn++;
    ck_assert_int_eq(nwarn, 1);
    /* located inside the key, as a query's errors are (13:18 is where it starts) */
    ck_assert_msg(strstr(all, "main.yaml:13:53: error: parameter ':x' is not declared in params"), "%s", all);
    ck_assert_msg(strstr(all, "main.yaml:13:25: error: no such column: nope"), "%s", all);
    free(all);
    ds_proc_free(&p);
}
END_TEST


/* ---------------------------------------------------------------- incremental */

/* Four incremental items, one per variant the merge handles differently,
 * each over its own copy of the events (ev_a .. ev_d) and each with a twin
 * "ref_" item that computes the same query in full at every step. Hour
 * buckets, window 2h, range 6h, full every 30m.
 *   inc_a  series_by, no fill (missing points null)
 *   inc_b  series_by with fill: 0 (a sum of 0 is a real point)
 *   inc_c  plain series, two y columns, one point per hour
 *   inc_d  plain series, one point per row (repeated x values kept)
 * The ref queries skip the rows marked hidden: a late row outside the
 * window (its bucket older than now - window) reaches an incremental
 * value only at the next full compute, as documented; the test marks such
 * rows hidden when it inserts them and unhides a table's rows when its
 * item computed in full, so ref is at every step exactly what the
 * incremental item must hold. */
#define INCR_ITEM(v, sby, fill, y, sel, grp, since)                                      \
    "  - key: " v "\n"                                                                   \
    "    shape: series\n"                                                                \
    "    x: hour\n" sby fill y                                                            \
    "    query: |\n"                                                                     \
    "      SELECT strftime('%Y-%m-%d %H:00:00', at) AS hour, " sel "\n"                    \
    "      FROM ev_" v " WHERE strftime('%Y-%m-%d %H:00:00', at) >= datetime(:now, '-6 hours')\n" \
    "        AND at < :now" since "\n"                                                   \
    "      " grp "\n"
#define INCR_SINCE "\n        AND (:since IS NULL OR strftime('%Y-%m-%d %H:00:00', at) >= :since)"
#define INCR_PAIR(v, sby, fill, y, sel, grp)                                             \
    INCR_ITEM("inc_" v, sby, fill, y, sel, grp, INCR_SINCE)                              \
    "    incremental: {window: 2h, range: 6h, full_every: 30m}\n"                        \
    INCR_ITEM("ref_" v, sby, fill, y, sel, grp, " AND hidden = 0")

/* The ref query reads its twin's table: "ev_ref_x" is a view of "ev_inc_x". */
static const char incr_yaml[] =
    "version: 1\n"
    "defaults:\n"
    "  ttl: 1h\n"
    "  refresh: 1m\n"
    "charts:\n"
    INCR_PAIR("a", "    series_by: s\n", "", "", "s, sum(v) AS v", "GROUP BY hour, s ORDER BY hour, s")
    INCR_PAIR("b", "    series_by: s\n", "    fill: 0\n", "", "s, sum(v) AS v",
              "GROUP BY hour, s ORDER BY hour, s")
    INCR_PAIR("c", "", "", "    y: [total, n]\n", "sum(v) AS total, count(*) AS n", "GROUP BY hour ORDER BY hour")
    INCR_PAIR("d", "", "", "    y: v\n", "v", "ORDER BY hour, rowid");

#define NVAR 4
static const char *const vars[NVAR] = {"a", "b", "c", "d"};

/* Appends one random row to every variant's table at now (t0 + m minutes):
 * new, late inside the window, late outside it, or older than the range.
 * Returns the kind (0..3). */
static int append_event(unsigned *seed, int64_t now, int first)
{
    int kind = rand_r(seed) % 20;
    int64_t at;
    int k;
    if (kind < 10) { at = now - 1 - rand_r(seed) % 60; k = 0; }                      /* new */
    else if (kind < 15) { at = now - 1 - rand_r(seed) % 3600; k = 1; }               /* late, inside */
    else if (kind < 19) { at = now - 3 * 3600 - rand_r(seed) % (3 * 3600); k = 2; }  /* late, outside */
    else { at = now - 7 * 3600 - rand_r(seed) % 3600; k = 3; }                        /* older than range */
    int64_t bucket = at - at % 3600;
    /* outside: its bucket is older than since = now - window */
    int hidden = !first && bucket < now - 2 * 3600;
    char ts[20], sql[512];
    ds_time_format(at, ts);
    int v = rand_r(seed) % 7 - 3;           /* small: sums of 0 happen */
    char s = (char)('a' + rand_r(seed) % 4);
    for (int i = 0; i < NVAR; i++) {
        snprintf(sql, sizeof sql, "INSERT INTO ev_inc_%s (at, s, v, hidden) VALUES ('%s', '%c', %d, %d)",
                 vars[i], ts, s, v, hidden);
        ds_sql(db, sql);
    }
    return k;
}

/* Runs at minute m; extra: NULL, or "--force" with the ref keys in only[]
 * (the twins of the items that just computed in full). */
static int run_step(int m, const char *const *only, int nonly)
{
    char ts[32];
    const char *argv[32] = {"run", "--db", db, "--specs", specs_dir(), "--now", at(m, ts), "--quiet"};
    int n = 8;
    if (nonly) argv[n++] = "--force";
    for (int i = 0; i < nonly; i++) { argv[n++] = "--only"; argv[n++] = only[i]; }
    argv[n] = NULL;
    ds_proc p;
    ds_proc_run(&p, argv, NULL, NULL);
    int st = p.status;
    ds_proc_free(&p);
    return st;
}

/* The property: random appends minute after minute for 100 minutes (full
 * computes at 0, 30, 60 and 90, and whenever the merge cannot tell); at
 * every step every incremental value equals its full recompute byte for
 * byte. One run a step computes both twins (ref sees the rows not hidden);
 * when an item computed in full, it saw the hidden rows too: they are
 * unhidden and its twin recomputed before the comparison. */
START_TEST(incremental_equals_full)
{
    unsigned seed = 42;
    char sql[512];
    for (int i = 0; i < NVAR; i++) {
        snprintf(sql, sizeof sql,
                 "CREATE TABLE ev_inc_%s (at TEXT NOT NULL, s TEXT NOT NULL, v INTEGER NOT NULL,"
                 " hidden INTEGER NOT NULL); CREATE VIEW ev_ref_%s AS SELECT * FROM ev_inc_%s",
                 vars[i], vars[i], vars[i]);
        ds_sql(db, sql);
    }
    free(ds_write(dir, "specs/main.yaml", incr_yaml));
    const int64_t t0 = 1770890400;      /* 2026-02-12 10:00:00 */
    int kinds[4] = {0, 0, 0, 0}, fulls[NVAR] = {0}, incr[NVAR] = {0}, zero_points = 0;
    static const char *const refs[NVAR] = {"ref_a", "ref_b", "ref_c", "ref_d"};
    for (int m = 0; m <= 100; m++) {
        int64_t now = t0 + m * 60;
        int nrows = rand_r(&seed) % 4;
        for (int r = 0; r < nrows; r++) kinds[append_event(&seed, now, m == 0)]++;
        ck_assert_int_eq(run_step(m, NULL, 0), 0);
        char ts[20];
        ds_time_format(now, ts);
        const char *again[NVAR];
        int nagain = 0;
        for (int i = 0; i < NVAR; i++) {
            snprintf(sql, sizeof sql, "SELECT last_full FROM dashspec_state WHERE cache_key = 'inc_%s'", vars[i]);
            char *lf = ds_sql_text(db, sql);
            ck_assert_ptr_nonnull(lf);
            if (strcmp(lf, ts) == 0) {      /* a full compute saw every row */
                fulls[i]++;
                snprintf(sql, sizeof sql, "UPDATE ev_inc_%s SET hidden = 0 WHERE hidden = 1", vars[i]);
                ds_sql(db, sql);
                if (m > 0) again[nagain++] = refs[i];
            } else {
                incr[i]++;
            }
            free(lf);
        }
        if (nagain) ck_assert_int_eq(run_step(m, again, nagain), 0);
        for (int i = 0; i < NVAR; i++) {
            char ka[16], kb[16];
            snprintf(ka, sizeof ka, "inc_%s", vars[i]);
            snprintf(kb, sizeof kb, "ref_%s", vars[i]);
            char *a = value(ka), *b = value(kb);
            ck_assert_ptr_nonnull(a);
            ck_assert_ptr_nonnull(b);
            ck_assert_msg(strcmp(a, b) == 0, "minute %d, %s: incremental %s, full %s", m, ka, a, b);
            if (i == 1 && strstr(a, ",0,")) zero_points++;
            free(a);
            free(b);
        }
    }
    /* The scenario happened: every kind of row, several full computes and
     * many incremental steps per variant, and zero-valued points under fill. */
    for (int k = 0; k < 4; k++) ck_assert_int_gt(kinds[k], 5);
    for (int i = 0; i < NVAR; i++) {
        ck_assert_int_ge(fulls[i], 4);
        ck_assert_int_gt(incr[i], 60);
    }
    ck_assert_int_gt(zero_points, 0);
}
END_TEST

START_TEST(incremental_rules)
{
    free(ds_write(dir, "specs/main.yaml",
                  "version: 1\n"
                  "defaults:\n"
                  "  ttl: 1h\n"
                  "charts:\n"
                  "  - key: nosince\n"
                  "    shape: series\n"
                  "    x: kind\n"
                  "    query: SELECT kind, amount FROM orders\n"
                  "    incremental: {window: 2h, range: 1d, full_every: 6h}\n"
                  "  - key: notseries\n"
                  "    shape: map\n"
                  "    query: SELECT kind, amount FROM orders WHERE :since IS NULL\n"
                  "    incremental: {window: 2h, range: 1d, full_every: 6h}\n"
                  "  - key: declared\n"
                  "    shape: scalar\n"
                  "    query: SELECT :since\n"
                  "    params: {since: 1}\n"
                  "  - key: badwindow\n"
                  "    shape: series\n"
                  "    x: kind\n"
                  "    query: SELECT kind, amount FROM orders WHERE :since IS NULL\n"
                  "    incremental: {window: 2d, range: 1d}\n"));
    ds_proc p;
    DS_RUN(&p, "check", "--db", db, "--specs", specs_dir());
    ck_assert_int_ne(p.status, 0);
    char *all = malloc(strlen(p.out) + strlen(p.err) + 1);
    strcpy(all, p.out);
    strcat(all, p.err);
    ck_assert_ptr_nonnull(strstr(all, "an incremental query must use :since"));
    ck_assert_ptr_nonnull(strstr(all, "incremental needs shape series"));
    ck_assert_ptr_nonnull(strstr(all, "parameter 'since' is built in and cannot be declared"));
    ck_assert_ptr_nonnull(strstr(all, "incremental needs 'full_every'"));
    free(all);
    ds_proc_free(&p);
    /* a non-ISO x fails the item at run time */
    free(ds_write(dir, "specs/main.yaml",
                  "version: 1\n"
                  "charts:\n"
                  "  - key: kinds\n"
                  "    shape: series\n"
                  "    ttl: 1h\n"
                  "    x: kind\n"
                  "    query: SELECT kind, amount FROM orders WHERE :since IS NULL OR kind >= :since\n"
                  "    incremental: {window: 2h, range: 1d, full_every: 6h}\n"));
    char *out = NULL;
    ck_assert_int_ne(run_at(0, NULL, &out), 0);
    ck_assert_ptr_nonnull(strstr(out, "is not an ISO timestamp"));
    free(out);
}
END_TEST

START_TEST(explain_lints_the_key)
{
    ds_sql(db, "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 10500)"
               " INSERT INTO orders (kind, amount) SELECT 'k' || i, i FROM c;");
    free(ds_write(dir, "specs/main.yaml",
                  "version: 1\n"
                  "metrics:\n"
                  "  - key: one\n"
                  "    shape: scalar\n"
                  "    ttl: 1h\n"
                  "    query: SELECT amount FROM orders WHERE id = 5\n"
                  "    refresh_key: SELECT count(*) FROM orders WHERE kind = 'k5'\n"));
    ds_proc p;
    DS_RUN(&p, "check", "--db", db, "--specs", specs_dir(), "--explain");
    ck_assert_int_eq(p.status, 0);
    ck_assert_ptr_nonnull(strstr(p.out, "main.yaml:7:18: warning: refresh_key scans all"));
    ck_assert_ptr_null(strstr(p.out, "warning: query scans"));
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
    tcase_add_test(tc, incremental_equals_full);
    tcase_add_test(tc, incremental_rules);
    tcase_add_test(tc, explain_lints_the_key);
    suite_add_tcase(s, tc);
    return s;
}

/*
 * check_pg_fresh.c — refresh_key and incremental (issue 13) on PostgreSQL,
 * the PostgreSQL twins of check_fresh.c's cases, driving the built binary
 * with --now stepped a minute at a time on the suite's throwaway server:
 * a confirmed value equals what a recompute gives at every step (random
 * appends, deterministic seed); an unchanged key confirms, a changed key,
 * an expired value, --force and a changed spec recompute; check's rules;
 * an incremental series equals a full recompute byte for byte at every
 * step, keeps only its range and computes in full every full_every; a
 * non-ISO x fails the item. The writer's confirm guards for several
 * runners (a live lease of another runner, a changed key, a newer value)
 * are checked through the engine interface.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ds_cache.h"
#include "ds_common.h"
#include "ds_test.h"
#include "ds_test_pg.h"
#include "ds_test_pgdb.h"

#define T0 1770890400       /* 2026-02-12 10:00:00 UTC */

/* As check_fresh.c: "keyed" has a refresh_key over the table its query
 * reads, "plain" (the same query) is recomputed at every step. The
 * application also writes to a table neither reads. */
static const char keyed_yaml[] =
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
    "CREATE TABLE orders (id bigint PRIMARY KEY, kind text NOT NULL, amount integer NOT NULL);"
    "CREATE TABLE audit (id bigserial PRIMARY KEY, note text);"
    "CREATE TABLE ev (at timestamptz NOT NULL, s text NOT NULL, v integer NOT NULL);"
    "INSERT INTO orders VALUES (1, 'a', 1), (2, 'b', 2);";

typedef struct fx {
    char *db;       /* conninfo, malloc'd */
    PGconn *c;      /* the test's own connection to it (one per test: a step
                       of the property tests makes several reads) */
    char *dir;      /* temp dir with specs/main.yaml */
    char specs[4200];
} fx;

/* Runs sql on f's connection; the first value of its first row (malloc'd),
 * NULL when there is none or it is NULL. Fails the test on an error. */
static char *sql(const fx *f, const char *q)
{
    PGresult *r = PQexec(f->c, q);
    ExecStatusType st = PQresultStatus(r);
    ck_assert_msg(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK, "%s: %s", q, PQresultErrorMessage(r));
    char *v = st == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ? strdup(PQgetvalue(r, 0, 0)) : NULL;
    PQclear(r);
    return v;
}

static void fx_open(fx *f, const char *name, const char *yaml)
{
    f->db = ds_pgdb_new(name);
    f->c = PQconnectdb(f->db);
    ck_assert_msg(PQstatus(f->c) == CONNECTION_OK, "connect: %s", PQerrorMessage(f->c));
    free(sql(f, schema));
    f->dir = ds_tmpdir();
    snprintf(f->specs, sizeof f->specs, "%s/specs", f->dir);
    free(ds_write(f->dir, "specs/main.yaml", yaml));
}

static void fx_close(fx *f)
{
    PQfinish(f->c);
    ds_tmp_cleanup(f->dir);
    free(f->db);
}


/* "2026-02-12T10:00:00Z" plus m minutes. */
static const char *at(int m, char buf[32])
{
    snprintf(buf, 32, "2026-02-12T%02d:%02d:00Z", 10 + m / 60, m % 60);
    return buf;
}

static char *value(const fx *f, const char *key)
{
    char q[128];
    snprintf(q, sizeof q, "SELECT cache_value FROM dashboard_cache WHERE cache_key = '%s'", key);
    return sql(f, q);
}

/* `dashspec run` at minute m (extra: one more option or NULL); its exit
 * status, its stdout in *out (malloc'd) when out is given. */
static int run_at(const fx *f, int m, const char *extra, char **out)
{
    char ts[32];
    ds_proc p;
    if (extra)
        DS_RUN(&p, "run", "--db", f->db, "--specs", f->specs, "--now", at(m, ts), extra);
    else
        DS_RUN(&p, "run", "--db", f->db, "--specs", f->specs, "--now", at(m, ts));
    int st = p.status;
    ck_assert_msg(st == 0 || !out || p.out, "run: %s", p.err);
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

/* ---------------------------------------------------------------- refresh_key */

/* The property: at every step the keyed value equals the recomputed one,
 * and both confirmations and recomputes happen. */
START_TEST(confirmed_equals_recompute)
{
    DS_PG_REQUIRE();
    fx f;
    fx_open(&f, "fr_property", keyed_yaml);
    unsigned seed = 13;
    int confirmed = 0, recomputed = 0, next_id = 3;
    char *out = NULL;
    ck_assert_int_eq(run_at(&f, 0, NULL, &out), 0);
    free(out);
    for (int m = 1; m <= 40; m++) {
        int r = rand_r(&seed) % 4;
        char q[256];
        if (r == 0) {           /* a new order: the key changes */
            snprintf(q, sizeof q, "INSERT INTO orders VALUES (%d, '%c', %d)", next_id++,
                     'a' + rand_r(&seed) % 3, rand_r(&seed) % 100);
        } else if (r == 1) {    /* a late order with a low id: count changes */
            snprintf(q, sizeof q, "INSERT INTO orders VALUES (-%d, 'c', %d)", m, rand_r(&seed) % 100);
        } else {                /* a table neither query reads */
            snprintf(q, sizeof q, "INSERT INTO audit (note) VALUES ('x')");
        }
        free(sql(&f, q));
        ck_assert_int_eq(run_at(&f, m, NULL, &out), 0);
        if (confirmed_in(out, "keyed")) confirmed++;
        else if (strstr(out, "\"keyed\":")) recomputed++;
        free(out);
        char *a = value(&f, "keyed"), *b = value(&f, "plain");
        ck_assert_ptr_nonnull(a);
        ck_assert_ptr_nonnull(b);
        ck_assert_msg(strcmp(a, b) == 0, "minute %d: keyed %s, recompute %s", m, a, b);
        free(a);
        free(b);
    }
    ck_assert_int_gt(confirmed, 5);
    ck_assert_int_gt(recomputed, 5);
    char *k = sql(&f, "SELECT count(*) FROM dashspec_state WHERE refresh_key_value IS NOT NULL");
    ck_assert_str_eq(k, "1");
    free(k);
    fx_close(&f);
}
END_TEST

static char *created(const fx *f)
{
    return sql(f, "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"
                                " FROM dashboard_cache WHERE cache_key = 'keyed'");
}

START_TEST(unchanged_confirms_others_recompute)
{
    DS_PG_REQUIRE();
    fx f;
    fx_open(&f, "fr_rules", keyed_yaml);
    char *out = NULL, *c;
    ck_assert_int_eq(run_at(&f, 0, NULL, &out), 0);
    free(out);
    ck_assert_int_eq(run_at(&f, 2, NULL, &out), 0);
    ck_assert(confirmed_in(out, "keyed"));
    free(out);
    /* a confirmation moves the expiry only, and says so in the state */
    c = created(&f);
    ck_assert_str_eq(c, "2026-02-12 10:00:00");
    free(c);
    c = sql(&f, "SELECT extract(epoch FROM expires_at)::bigint - extract(epoch FROM"
                            " confirmed_at)::bigint FROM dashboard_cache JOIN dashspec_state USING (cache_key)"
                            " WHERE cache_key = 'keyed'");
    ck_assert_str_eq(c, "3600");
    free(c);
    /* status and --dry-run say so */
    char ts[32];
    ds_proc p;
    DS_RUN(&p, "status", "--db", f.db, "--now", at(2, ts));
    ck_assert_ptr_nonnull(strstr(p.out, "confirmed, key unchanged"));
    ds_proc_free(&p);
    DS_RUN(&p, "run", "--dry-run", "--db", f.db, "--now", at(2, ts));
    ck_assert_ptr_nonnull(strstr(p.out, "confirmed, key unchanged"));
    ds_proc_free(&p);
    /* --force recomputes */
    ck_assert_int_eq(run_at(&f, 4, "--force", &out), 0);
    ck_assert(!confirmed_in(out, "keyed"));
    ck_assert_ptr_nonnull(strstr(out, "\"keyed\":"));
    free(out);
    c = created(&f);
    ck_assert_str_eq(c, "2026-02-12 10:04:00");
    free(c);
    c = sql(&f, "SELECT confirmed_at FROM dashspec_state WHERE cache_key = 'keyed'");
    ck_assert_ptr_null(c);
    /* an expired value is recomputed even when the key is unchanged */
    ck_assert_int_eq(run_at(&f, 4 + 61, NULL, &out), 0);
    ck_assert(!confirmed_in(out, "keyed"));
    ck_assert_ptr_nonnull(strstr(out, "\"keyed\":"));
    free(out);
    c = created(&f);
    ck_assert_str_eq(c, "2026-02-12 11:05:00");
    free(c);
    /* a changed key recomputes */
    free(sql(&f, "INSERT INTO orders VALUES (3, 'a', 5)"));
    ck_assert_int_eq(run_at(&f, 67, NULL, &out), 0);
    ck_assert(!confirmed_in(out, "keyed"));
    free(out);
    c = value(&f, "keyed");
    ck_assert_str_eq(c, "{\"a\":6,\"b\":2}");
    free(c);
    /* a changed key query changes the spec hash: recomputed */
    char *y = strdup(keyed_yaml);
    char *pos = strstr(y, "count(*) AS n");
    memcpy(pos, "count(1) AS n", 13);
    free(ds_write(f.dir, "specs/main.yaml", y));
    free(y);
    ck_assert_int_eq(run_at(&f, 69, NULL, &out), 0);
    ck_assert(!confirmed_in(out, "keyed"));
    ck_assert_ptr_nonnull(strstr(out, "\"keyed\":"));
    free(out);
    /* and then confirmed again */
    ck_assert_int_eq(run_at(&f, 71, NULL, &out), 0);
    ck_assert(confirmed_in(out, "keyed"));
    free(out);
    fx_close(&f);
}
END_TEST

START_TEST(check_rules)
{
    DS_PG_REQUIRE();
    fx f;
    fx_open(&f, "fr_check",
            "version: 1\n"
            "defaults:\n"
            "  ttl: 1h\n"
            "  refresh: 5m\n"
            "metrics:\n"
            "  - key: recent\n"
            "    shape: scalar\n"
            "    query: SELECT count(*) FROM orders WHERE :now > '2026-01-01'\n"
            "    refresh_key: SELECT max(id) FROM orders\n"
            "  - key: bad\n"
            "    shape: scalar\n"
            "    query: SELECT 1\n"
            "    refresh_key: SELECT nope FROM orders WHERE id = :x\n"
            "  - key: badkey\n"
            "    shape: scalar\n"
            "    query: SELECT 1\n"
            "    refresh_key: SELECT nope FROM orders\n");
    ds_proc p;
    DS_RUN(&p, "check", "--db", f.db, "--specs", f.specs);
    ck_assert_int_ne(p.status, 0);
    char *all = malloc(strlen(p.out) + strlen(p.err) + 1);
    strcpy(all, p.out);
    strcat(all, p.err);
    ck_assert_msg(strstr(all, "main.yaml:9:18: warning: the query binds :now but refresh_key does not"), "%s", all);
    ck_assert_ptr_nonnull(strstr(all, "parameter ':x' is not declared in params"));
    /* the server's error points at the token inside the key (as SQLite's does) */
    ck_assert_msg(strstr(all, "main.yaml:17:25: error: column \"nope\" does not exist"), "%s", all);
    ck_assert_msg(strstr(all, "main.yaml:13:53: error: parameter ':x' is not declared in params"), "%s", all);
    free(all);
    ds_proc_free(&p);
    fx_close(&f);
}
END_TEST

/* The writer's confirm with several runners (engine/engine.h confirm,
 * engine/postgres/pg_writer.c): it applies only while the stored key is
 * the one confirmed, no other runner holds a live lease and nothing newer
 * was written; otherwise it changes nothing. */
START_TEST(confirm_guards)
{
    DS_PG_REQUIRE();
    char *db = ds_pgdb_new("fr_guards");
    ds_diag d;
    ds_diag_init(&d);
    ds_db *h = NULL;
    ck_assert_int_eq(ds_db_open(db, DS_DB_READWRITE, &h, &d), 0);
    ck_assert_int_eq(ds_db_migrate(h, &d), 0);
    ds_writer *w = ds_writer_new(h, &d);
    ck_assert_ptr_nonnull(w);
    ck_assert(ds_cache_can_confirm(w));
    ds_item it = {.key = "k", .ttl = 3600, .refresh = 60, .timeout = 10};
    strcpy(it.hash, "0123456789abcdef");
    ds_result r = {.json = "7", .len = 1, .entries = 1, .key_value = "{\"n\":1}", .full = 1};
    char *err = NULL;
    const char *exp_sql = "SELECT extract(epoch FROM expires_at)::bigint - 1770890400 FROM dashboard_cache";
    ck_assert_int_eq(ds_cache_put(w, &it, &r, T0, 1000, &err, &d), DS_W_OK);
    char *v = ds_pgdb_value(db, "SELECT refresh_key_value || ' ' || (last_full = to_timestamp(1770890400))"
                                " FROM dashspec_state");
    ck_assert_str_eq(v, "{\"n\":1} true");
    free(v);

    /* the stored key confirms */
    ds_result c = {.confirmed = 1, .key_value = "{\"n\":1}", .entries = 1, .duration_ms = 3};
    ck_assert_int_eq(ds_cache_confirm(w, &it, &c, T0 + 60, 1000, &err, &d), DS_W_OK);
    v = ds_pgdb_value(db, exp_sql);
    ck_assert_str_eq(v, "3660");
    free(v);
    /* another key does not (a value of another key was written meanwhile) */
    ds_result c2 = {.confirmed = 1, .key_value = "{\"n\":2}", .duration_ms = 3};
    ck_assert_int_eq(ds_cache_confirm(w, &it, &c2, T0 + 120, 1000, &err, &d), DS_W_OK);
    v = ds_pgdb_value(db, exp_sql);
    ck_assert_str_eq(v, "3660");
    free(v);
    /* another runner's live lease: nothing changes */
    ds_pgdb_sql(db, "UPDATE dashspec_state SET runner_id = 'other', lease_until = to_timestamp(1770890400 + 600)");
    ck_assert_int_eq(ds_cache_confirm(w, &it, &c, T0 + 180, 1000, &err, &d), DS_W_OK);
    v = ds_pgdb_value(db, exp_sql);
    ck_assert_str_eq(v, "3660");
    free(v);
    v = ds_pgdb_value(db, "SELECT runner_id FROM dashspec_state");
    ck_assert_str_eq(v, "other");
    free(v);
    /* ... until it expires */
    ck_assert_int_eq(ds_cache_confirm(w, &it, &c, T0 + 600, 1000, &err, &d), DS_W_OK);
    v = ds_pgdb_value(db, exp_sql);
    ck_assert_str_eq(v, "4200");
    free(v);
    /* a refused confirmation (the key changed meanwhile) still ends this
     * runner's own lease */
    ds_pgdb_sql(db, "UPDATE dashspec_state SET runner_id = last_runner,"    /* the put's runner: this writer */
                    " lease_until = to_timestamp(1770890400 + 900)");
    ck_assert_int_eq(ds_cache_confirm(w, &it, &c2, T0 + 660, 1000, &err, &d), DS_W_OK);
    v = ds_pgdb_value(db, "SELECT (runner_id IS NULL) || ' ' || (extract(epoch FROM expires_at)::bigint - 1770890400)"
                          " FROM dashspec_state JOIN dashboard_cache USING (cache_key)");
    ck_assert_str_eq(v, "true 4200");
    free(v);
    /* a newer value, then a late confirmation from an older run: the newer
     * value keeps its expiry and its state */
    ds_result r2 = {.json = "8", .len = 1, .entries = 1, .key_value = "{\"n\":1}"};
    ck_assert_int_eq(ds_cache_put(w, &it, &r2, T0 + 900, 1000, &err, &d), DS_W_OK);
    ck_assert_int_eq(ds_cache_confirm(w, &it, &c, T0 + 800, 1000, &err, &d), DS_W_OK);
    v = ds_pgdb_value(db, exp_sql);
    ck_assert_str_eq(v, "4500");
    free(v);
    v = ds_pgdb_value(db, "SELECT (confirmed_at IS NULL) || ' ' || (last_full = to_timestamp(1770890400))"
                          " FROM dashspec_state");
    ck_assert_str_eq(v, "true true");       /* not a full compute: last_full kept */
    free(v);
    /* no key: never confirmed blindly */
    ds_result c3 = {.confirmed = 1};
    ck_assert_int_eq(ds_cache_confirm(w, &it, &c3, T0 + 1000, 1000, &err, &d), DS_W_ITEM);
    ck_assert_ptr_nonnull(err);
    free(err);
    ds_writer_free(w);
    ds_db_close(h);
    ds_diag_free(&d);
    free(db);
}
END_TEST

/* ---------------------------------------------------------------- incremental */

static const char incr_yaml[] =
    "version: 1\n"
    "defaults:\n"
    "  ttl: 1h\n"
    "  refresh: 1m\n"
    "charts:\n"
    "  - key: inc\n"
    "    shape: series\n"
    "    x: hour\n"
    "    series_by: s\n"
    "    query: |\n"
    "      SELECT to_char(date_trunc('hour', at), 'YYYY-MM-DD HH24:MI:SS') AS hour, s, sum(v) AS v FROM ev\n"
    "      WHERE date_trunc('hour', at) >= :now - interval '6 hours'\n"
    "        AND (:since IS NULL OR date_trunc('hour', at) >= :since)\n"
    "      GROUP BY 1, s ORDER BY 1, s\n"
    "    incremental: {window: 2h, range: 6h, full_every: 30m}\n"
    "  - key: ref\n"
    "    shape: series\n"
    "    x: hour\n"
    "    series_by: s\n"
    "    query: |\n"
    "      SELECT to_char(date_trunc('hour', at), 'YYYY-MM-DD HH24:MI:SS') AS hour, s, sum(v) AS v FROM ev\n"
    "      WHERE date_trunc('hour', at) >= :now - interval '6 hours'\n"
    "      GROUP BY 1, s ORDER BY 1, s\n";

/* The first x of a series value ({"x":["...",...) as seconds, 0 when none. */
static int64_t first_x(const char *v)
{
    const char *p = strstr(v, "{\"x\":[\"");
    int64_t t = 0;
    char b[20];
    if (!p || strlen(p + 7) < 19) return 0;
    memcpy(b, p + 7, 19);
    b[19] = '\0';
    return ds_time_parse(b, &t) ? -1 : t;
}

/* The property (check_fresh.c's, on PostgreSQL): random appends (new rows,
 * late rows inside the window, late rows outside it) minute after minute;
 * the incremental value equals the full recompute byte for byte at every
 * step, except that a late row outside the window shows only after the
 * next full compute (full_every), as documented; the value never holds a
 * point older than now - range; a full compute at least every full_every.
 * min_equal: how many steps at least compare equal (with seed 42 a late
 * row outside the window comes at minute 10, so most of the first half
 * hour waits for the next full compute). */
static void incremental_steps(int steps, int min_equal)
{
    fx f;
    fx_open(&f, steps > 100 ? "fr_incr_long" : "fr_incr", incr_yaml);
    unsigned seed = 42;
    int dirty = 0, equal_steps = 0, incr_steps = 0, since_full = 0;
    for (int m = 0; m <= steps; m++) {
        int64_t now = T0 + m * 60;
        int nrows = rand_r(&seed) % 3;
        for (int r = 0; r < nrows; r++) {
            int kind = rand_r(&seed) % 40;
            int64_t t = kind < 25 ? now - rand_r(&seed) % 60                /* new */
                      : kind < 39 ? now - rand_r(&seed) % 3600               /* late, inside */
                                 : now - 3 * 3600 - rand_r(&seed) % 7200;   /* late, outside */
            if ((t - t % 3600) < now - 2 * 3600 && m > 0) dirty = 1;
            char ts[20], q[200];
            ds_time_format(t, ts);
            snprintf(q, sizeof q, "INSERT INTO ev VALUES ('%s+00', '%c', %d)", ts, 'a' + rand_r(&seed) % 4,
                     rand_r(&seed) % 50 - 10);
            free(sql(&f, q));
        }
        ck_assert_int_eq(run_at(&f, m, NULL, NULL), 0);
        char q[96];
        snprintf(q, sizeof q, "SELECT last_full = to_timestamp(%lld) FROM dashspec_state WHERE cache_key = 'inc'",
                 (long long)now);
        char *lf = sql(&f, q);
        int was_full = lf && strcmp(lf, "t") == 0;
        free(lf);
        if (was_full) { dirty = 0; since_full = 0; }
        else { incr_steps++; since_full++; }
        ck_assert_int_le(since_full, 30);
        char *a = value(&f, "inc"), *b = value(&f, "ref");
        ck_assert_ptr_nonnull(a);
        ck_assert_ptr_nonnull(b);
        int64_t x0 = first_x(a);
        ck_assert_int_ge(x0, 0);
        ck_assert_msg(x0 == 0 || x0 >= now - 6 * 3600 - 3599, "minute %d: %s older than the range", m, a);
        if (!dirty) {
            ck_assert_msg(strcmp(a, b) == 0, "minute %d: incremental %s, full %s", m, a, b);
            equal_steps++;
        }
        free(a);
        free(b);
    }
    ck_assert_int_gt(incr_steps, steps * 2 / 3);
    ck_assert_int_gt(equal_steps, min_equal);
    fx_close(&f);
}

START_TEST(incremental_equals_full)
{
    DS_PG_REQUIRE();
    incremental_steps(45, 8);
}
END_TEST

START_TEST(incremental_equals_full_long)
{
    DS_PG_REQUIRE();
    incremental_steps(150, 50);
}
END_TEST

START_TEST(incremental_rules)
{
    DS_PG_REQUIRE();
    fx f;
    fx_open(&f, "fr_incr_rules",
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
            "    incremental: {window: 2d, range: 1d}\n");
    ds_proc p;
    DS_RUN(&p, "check", "--db", f.db, "--specs", f.specs);
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
    /* :since is typed like :now, so this prepares; a non-ISO x fails the item at run time */
    free(ds_write(f.dir, "specs/main.yaml",
                  "version: 1\n"
                  "charts:\n"
                  "  - key: kinds\n"
                  "    shape: series\n"
                  "    ttl: 1h\n"
                  "    x: kind\n"
                  "    query: SELECT kind, amount FROM orders WHERE :since IS NULL OR :since < now()\n"
                  "    incremental: {window: 2h, range: 1d, full_every: 6h}\n"));
    DS_RUN(&p, "check", "--db", f.db, "--specs", f.specs);
    ck_assert_msg(p.status == 0, "%s%s", p.out, p.err);
    ds_proc_free(&p);
    char *out = NULL;
    ck_assert_int_ne(run_at(&f, 0, NULL, &out), 0);
    ck_assert_msg(strstr(out, "is not an ISO timestamp"), "%s", out);
    free(out);
    fx_close(&f);
}
END_TEST

/* x as a timestamptz ("2026-02-12 10:00:00+00", PostgreSQL's form) is an
 * ISO time bucket: merged like text buckets, equal to a full recompute. */
START_TEST(timestamptz_x)
{
    DS_PG_REQUIRE();
    fx f;
    fx_open(&f, "fr_tstz",
            "version: 1\n"
            "defaults:\n"
            "  ttl: 1h\n"
            "  refresh: 1m\n"
            "charts:\n"
            "  - key: inc\n"
            "    shape: series\n"
            "    x: hour\n"
            "    query: |\n"
            "      SELECT date_trunc('hour', at) AS hour, sum(v) AS v FROM ev\n"
            "      WHERE date_trunc('hour', at) >= :now - interval '6 hours'\n"
            "        AND (:since IS NULL OR date_trunc('hour', at) >= :since) GROUP BY 1 ORDER BY 1\n"
            "    incremental: {window: 2h, range: 6h, full_every: 30m}\n"
            "  - key: ref\n"
            "    shape: series\n"
            "    x: hour\n"
            "    query: |\n"
            "      SELECT date_trunc('hour', at) AS hour, sum(v) AS v FROM ev\n"
            "      WHERE date_trunc('hour', at) >= :now - interval '6 hours' GROUP BY 1 ORDER BY 1\n");
    free(sql(&f, "INSERT INTO ev VALUES ('2026-02-12 06:10+00', 'a', 1), ('2026-02-12 09:59+00', 'a', 2)"));
    for (int m = 0; m <= 3; m++) {
        char q[96];
        snprintf(q, sizeof q, "INSERT INTO ev VALUES (to_timestamp(%d), 'a', %d)", T0 + m * 60, m + 10);
        free(sql(&f, q));
        ck_assert_int_eq(run_at(&f, m, NULL, NULL), 0);
        char *a = value(&f, "inc"), *b = value(&f, "ref");
        ck_assert_ptr_nonnull(a);
        ck_assert_msg(strcmp(a, b) == 0, "minute %d: incremental %s, full %s", m, a, b);
        free(a);
        free(b);
    }
    char *lf = sql(&f, "SELECT last_full = to_timestamp(1770890400) FROM dashspec_state WHERE cache_key = 'inc'");
    ck_assert_str_eq(lf, "t");      /* minutes 1-3 were incremental */
    free(lf);
    char *v = value(&f, "inc");
    ck_assert_str_eq(v, "{\"x\":[\"2026-02-12 06:00:00+00\",\"2026-02-12 09:00:00+00\",\"2026-02-12 10:00:00+00\"],"
                        "\"series\":{\"v\":[1,2,46]}}");
    free(v);
    fx_close(&f);
}
END_TEST

/* migrations/postgres/003-fresh.sql runs twice by hand (psql -f, after 001
 * and 002) without harm, and a database so migrated runs. */
START_TEST(migration_003_twice)
{
    DS_PG_REQUIRE();
    fx f;
    fx_open(&f, "fr_mig", keyed_yaml);
    const char *names[] = {"001-init", "002-history", "003-fresh", "003-fresh"};
    for (int i = 0; i < 4; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "migrations/postgres/%s.sql", names[i]);
        char *path = ds_src(rel);
        char *cmd = ds_asprintf("psql -X -q -v ON_ERROR_STOP=1 -f '%s' '%s' >/dev/null 2>&1", path, f.db);
        ck_assert_msg(system(cmd) == 0, "%s", cmd);
        free(cmd);
        free(path);
    }
    char *v = sql(&f, "SELECT string_agg(name, ',' ORDER BY name) FROM dashspec_migrations");
    ck_assert_str_eq(v, "001-init,002-history,003-fresh");
    free(v);
    v = sql(&f, "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY column_name)"
                " FROM information_schema.columns WHERE table_name = 'dashspec_state' AND column_name IN"
                " ('refresh_key_value', 'confirmed_at', 'last_full')");
    ck_assert_str_eq(v, "confirmed_at timestamp with time zone, last_full timestamp with time zone, "
                        "refresh_key_value text");
    free(v);
    ck_assert_int_eq(run_at(&f, 0, NULL, NULL), 0);
    ck_assert_int_eq(run_at(&f, 1, NULL, NULL), 0);
    v = sql(&f, "SELECT confirmed_at IS NOT NULL FROM dashspec_state WHERE cache_key = 'keyed'");
    ck_assert_str_eq(v, "t");
    free(v);
    fx_close(&f);
}
END_TEST

Suite *pg_fresh_suite(void)
{
    Suite *s = suite_create("pg_fresh");
    TCase *t = tcase_create("fresh");
    ds_pg_test_fixture(t);
    tcase_set_timeout(t, 300);
    tcase_add_test(t, confirmed_equals_recompute);
    tcase_add_test(t, unchanged_confirms_others_recompute);
    tcase_add_test(t, check_rules);
    tcase_add_test(t, confirm_guards);
    tcase_add_test(t, incremental_equals_full);
    tcase_add_test(t, incremental_rules);
    tcase_add_test(t, timestamptz_x);
    tcase_add_test(t, migration_003_twice);
    suite_add_tcase(s, t);
    t = tcase_create("fresh_long");
    ds_pg_test_fixture(t);
    tcase_set_tags(t, "slow");
    tcase_set_timeout(t, 900);
    tcase_add_test(t, incremental_equals_full_long);
    suite_add_tcase(s, t);
    return s;
}

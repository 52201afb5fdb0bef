/*
 * check_pg_runners.c — several `dashspec run` processes on one PostgreSQL
 * database: with --now stepped minute by minute, 4 runners at once compute
 * every due item exactly once per due period (as many computations as one
 * runner alone makes, and never two for the same key and time); a runner
 * killed mid-item holds its lease until it expires, then another runner
 * computes the item; a value is never replaced by an older one; status
 * names the runner of each value and a live lease. The long
 * versions (60 simulated minutes, repeated kills) carry the `slow` tag.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "ds_test.h"
#include "ds_test_pg.h"
#include "ds_test_pgdb.h"

#define T0 1770890400       /* 2026-02-12 10:00:00 UTC */

static const char specs[] =
    "version: 1\n"
    "metrics:\n"
    "  - {key: every1, shape: scalar, ttl: 2m, refresh: 1m, query: SELECT count(*) AS n FROM t}\n"
    "  - {key: every2, shape: scalar, ttl: 4m, refresh: 2m, query: SELECT sum(x) AS n FROM t}\n"
    "  - {key: every3, shape: scalar, ttl: 6m, refresh: 3m, query: SELECT max(x) AS n FROM t}\n"
    "  - {key: every5, shape: scalar, ttl: 10m, refresh: 5m, query: SELECT min(x) AS n FROM t}\n"
    "  - {key: every10, shape: scalar, ttl: 20m, refresh: 10m, query: SELECT avg(x) AS n FROM t}\n"
    "  - key: slow\n"
    "    shape: scalar\n"
    "    ttl: 1h\n"
    "    timeout: 40s\n"
    "    query: SELECT 1 AS v FROM pg_sleep(CASE WHEN (SELECT count(*) FROM gate) > 0 THEN 30 ELSE 0 END)\n";

/* A fresh database with the tables t and gate and `text` compiled. */
static char *setup_with(const char *name, const char *text, char **dir)
{
    char *db = ds_pgdb_new(name);
    ds_pgdb_sql(db, "CREATE TABLE t (x bigint); INSERT INTO t VALUES (1), (2), (3); CREATE TABLE gate (g int)");
    *dir = ds_tmpdir();
    free(ds_write(*dir, "specs/items.yaml", text));
    char sp[4200];
    snprintf(sp, sizeof sp, "%s/specs", *dir);
    ds_proc p;
    DS_RUN(&p, "compile", "--db", db, "--specs", sp);
    ck_assert_msg(p.status == 0, "compile: %s", p.err);
    ds_proc_free(&p);
    return db;
}

static char *setup(const char *name, char **dir)
{
    return setup_with(name, specs, dir);
}

static void iso(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Starts `dashspec run --db db --now t --quiet [--only only] [--jobs jobs]
 * [--force]`, output discarded. */
static pid_t spawn_run_jobs(const char *db, int64_t t, const char *only, const char *jobs, int force)
{
    char now[32];
    iso(t, now);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        FILE *n = freopen("/dev/null", "w", stdout);
        FILE *e = freopen("/dev/null", "w", stderr);
        (void)n;
        (void)e;
        const char *bin = getenv("DS_BIN");
        const char *argv[12] = {bin, "run", "--db", db, "--now", now, "--quiet"};
        int k = 7;
        if (only) { argv[k++] = "--only"; argv[k++] = only; }
        if (jobs) { argv[k++] = "--jobs"; argv[k++] = jobs; }
        if (force) argv[k++] = "--force";
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static pid_t spawn_run(const char *db, int64_t t, const char *only)
{
    return spawn_run_jobs(db, t, only, NULL, 0);
}

static int wait_exit(pid_t pid)
{
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int64_t count(const char *db, const char *sql)
{
    char *v = ds_pgdb_value(db, sql);
    int64_t n = v ? strtoll(v, NULL, 10) : -1;
    free(v);
    return n;
}

/* nrunners processes per simulated minute for minutes minutes. */
static void simulate(const char *db, int nrunners, int minutes)
{
    for (int m = 0; m < minutes; m++) {
        pid_t pid[8];
        for (int r = 0; r < nrunners; r++) pid[r] = spawn_run(db, T0 + 60LL * m, NULL);
        for (int r = 0; r < nrunners; r++) ck_assert_int_eq(wait_exit(pid[r]), 0);
    }
}

static void exactly_once(int minutes)
{
    char *d1, *d4;
    char *one = setup(minutes > 10 ? "run_one_long" : "run_one", &d1);
    char *four = setup(minutes > 10 ? "run_four_long" : "run_four", &d4);
    simulate(one, 1, minutes);
    simulate(four, 4, minutes);
    /* never two computations of one key at one time */
    ck_assert_int_eq(count(four, "SELECT count(*) FROM (SELECT cache_key, at FROM dashspec_history"
                                 " GROUP BY 1, 2 HAVING count(*) > 1) d"), 0);
    /* and exactly the computations one runner makes: once per due period */
    const char *per_key = "SELECT string_agg(cache_key || '=' || n, ',' ORDER BY cache_key) FROM"
                          " (SELECT cache_key, count(*) AS n FROM dashspec_history WHERE ok = 1 GROUP BY 1) c";
    char *a = ds_pgdb_value(one, per_key), *b = ds_pgdb_value(four, per_key);
    ck_assert_str_eq(a, b);
    char want[64];
    snprintf(want, sizeof want, "every1=%d", minutes);
    ck_assert_ptr_nonnull(strstr(a, want));
    free(a);
    free(b);
    ck_assert_int_eq(count(four, "SELECT count(*) FROM dashspec_history WHERE ok = 0"), 0);
    ck_assert_int_eq(count(four, "SELECT count(*) FROM dashspec_state WHERE runner_id IS NOT NULL"), 0);
    ds_tmp_cleanup(d1);
    ds_tmp_cleanup(d4);
    free(one);
    free(four);
}

START_TEST(four_runners_six_minutes)
{
    DS_PG_REQUIRE();
    exactly_once(6);
}
END_TEST

START_TEST(four_runners_sixty_minutes)
{
    DS_PG_REQUIRE();
    exactly_once(60);
}
END_TEST

/* Waits (polling the database: no timing margin, the poll only looks)
 * until sql's value is at least want; returns it. */
static int64_t await_value(const char *db, const char *sql, int64_t want)
{
    struct timespec ts = {0, 10 * 1000 * 1000};
    int64_t v = -1;
    for (int i = 0; i < 6000; i++) {     /* 60 s: a loaded machine */
        if ((v = count(db, sql)) >= want) return v;
        nanosleep(&ts, NULL);
    }
    ck_abort_msg("%s: %lld, not %lld", sql, (long long)v, (long long)want);
    return v;
}

/* Items claimed per runner: `jobs` workers, 8 items that each read the
 * table block. The test holds an exclusive lock on it, so every item a
 * runner starts waits, leased, until the test lets go. */
static const char share_specs[] =
    "version: 1\n"
    "defaults: {shape: scalar, ttl: 1h, timeout: 5m}\n"
    "metrics:\n"
    "  - {key: share0, query: SELECT count(*) + 0 AS n FROM block}\n"
    "  - {key: share1, query: SELECT count(*) + 1 AS n FROM block}\n"
    "  - {key: share2, query: SELECT count(*) + 2 AS n FROM block}\n"
    "  - {key: share3, query: SELECT count(*) + 3 AS n FROM block}\n"
    "  - {key: share4, query: SELECT count(*) + 4 AS n FROM block}\n"
    "  - {key: share5, query: SELECT count(*) + 5 AS n FROM block}\n"
    "  - {key: share6, query: SELECT count(*) + 6 AS n FROM block}\n"
    "  - {key: share7, query: SELECT count(*) + 7 AS n FROM block}\n";

/* "How many rows of table has runner pid written" (dashspec_state: leases
 * it holds; dashspec_history: items it attempted). */
static const char *by_runner(char sql[200], const char *table, pid_t pid)
{
    snprintf(sql, 200, "SELECT count(*) FROM %s WHERE runner_id LIKE '%%:%ld:%%'", table, (long)pid);
    return sql;
}

/* One round: runner A starts and claims `jobs` items, each blocked on the
 * lock; runner B, started while A is stuck, must claim `jobs` others
 * (claimed all up front, A would hold all 8 and B skip them all). Then the
 * lock goes: both finish, and every item was computed exactly once more
 * (round `round`), by one of the two. With force, both runners see every
 * item due at the same --now as the round before: only the row version
 * read tells a runner that the other has computed an item meanwhile. */
static void share_round(const char *db, int jobs, int force, int round)
{
    char nj[8], sql[200];
    snprintf(nj, sizeof nj, "%d", jobs);
    PGconn *hold = PQconnectdb(db);
    ck_assert_int_eq(PQstatus(hold), CONNECTION_OK);
    PGresult *r = PQexec(hold, "BEGIN; LOCK TABLE block IN ACCESS EXCLUSIVE MODE");
    ck_assert_int_eq(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    pid_t a = spawn_run_jobs(db, T0, NULL, nj, force);
    ck_assert_int_eq(await_value(db, by_runner(sql, "dashspec_state", a), jobs), jobs);
    /* A's queries wait on the lock: it can take nothing more */
    await_value(db, "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                    " WHERE c.relname = 'block' AND NOT l.granted", jobs);
    pid_t b = spawn_run_jobs(db, T0, NULL, nj, force);
    /* B claims others; a B that ends first skipped everything */
    struct timespec ts = {0, 10 * 1000 * 1000};
    int st, i;
    for (i = 0; i < 6000 && count(db, by_runner(sql, "dashspec_state", b)) != jobs; i++) {
        ck_assert_msg(waitpid(b, &st, WNOHANG) == 0, "runner B ended without computing anything");
        nanosleep(&ts, NULL);
    }
    ck_assert_int_lt(i, 6000);
    ck_assert_int_eq(count(db, by_runner(sql, "dashspec_state", a)), jobs);
    r = PQexec(hold, "COMMIT");
    ck_assert_int_eq(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(hold);
    ck_assert_int_eq(wait_exit(a), 0);
    ck_assert_int_eq(wait_exit(b), 0);

    /* each of the 8 exactly once more, its right value, no failure, no lease left */
    ck_assert_int_eq(count(db, "SELECT count(*) FROM dashspec_history"), 8 * round);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM (SELECT cache_key FROM dashspec_history WHERE ok = 1"
                              " GROUP BY 1 HAVING count(*) = %d) k", round);
    ck_assert_int_eq(count(db, sql), 8);
    ck_assert_int_eq(count(db, "SELECT count(*) FROM dashboard_cache"
                               " WHERE cache_value::int = 1 + substr(cache_key, 6)::int"), 8);
    ck_assert_int_eq(count(db, "SELECT count(*) FROM dashspec_state WHERE runner_id IS NOT NULL"), 0);
    /* both computed some: at least the items each held while blocked */
    int64_t na = count(db, by_runner(sql, "dashspec_history", a));
    int64_t nb = count(db, by_runner(sql, "dashspec_history", b));
    ck_assert_int_ge(na, jobs);
    ck_assert_int_ge(nb, jobs);
    ck_assert_int_eq(na + nb, 8);
    /* each run's summary skips what the other computed */
    const char *last2 = "FROM (SELECT * FROM dashspec_runs ORDER BY id DESC LIMIT 2) r";
    snprintf(sql, sizeof sql, "SELECT sum(items_ok) %s", last2);
    ck_assert_int_eq(count(db, sql), 8);
    snprintf(sql, sizeof sql, "SELECT sum(skipped) %s", last2);
    ck_assert_int_eq(count(db, sql), 8);
}

static void two_runners_share(const char *name, int jobs)
{
    char *db = ds_pgdb_new(name);
    ds_pgdb_sql(db, "CREATE TABLE block (x int); INSERT INTO block VALUES (1)");
    char *dir = ds_tmpdir();
    free(ds_write(dir, "specs/share.yaml", share_specs));
    char sp[4200];
    snprintf(sp, sizeof sp, "%s/specs", dir);
    ds_proc p;
    DS_RUN(&p, "compile", "--db", db, "--specs", sp);
    ck_assert_msg(p.status == 0, "compile: %s", p.err);
    ds_proc_free(&p);
    share_round(db, jobs, 0, 1);        /* new keys: no state rows yet */
    share_round(db, jobs, 1, 2);        /* --force, the same --now */
    ds_tmp_cleanup(dir);
    free(db);
}

START_TEST(two_runners_share_the_items)
{
    DS_PG_REQUIRE();
    two_runners_share("share_serial", 1);
    two_runners_share("share_two", 2);
}
END_TEST

/* Waits (polling the database) until a runner holds slow's lease. */
static void await_claim(const char *db)
{
    struct timespec ts = {0, 10 * 1000 * 1000};
    for (int i = 0; i < 6000; i++) {     /* 60 s: a loaded machine */
        if (count(db, "SELECT count(*) FROM dashspec_state WHERE cache_key = 'slow' AND runner_id IS NOT NULL"))
            return;
        nanosleep(&ts, NULL);
    }
    ck_abort_msg("no runner claimed 'slow'");
}

/* One kill: a runner killed mid-item keeps the item leased (others skip
 * it) until timeout + margin, then another computes it; an older --now
 * never replaces the value. */
static void kill_once(const char *db, int64_t t)
{
    ds_pgdb_sql(db, "INSERT INTO gate VALUES (1)");
    pid_t a = spawn_run(db, t, "slow");
    await_claim(db);
    kill(a, SIGKILL);
    ck_assert_int_eq(wait_exit(a), 128 + SIGKILL);
    ds_pgdb_sql(db, "DELETE FROM gate");
    int64_t before = count(db, "SELECT count(*) FROM dashspec_history WHERE cache_key = 'slow'");
    /* within the lease: skipped */
    ck_assert_int_eq(wait_exit(spawn_run(db, t + 30, "slow")), 0);
    ck_assert_int_eq(count(db, "SELECT count(*) FROM dashspec_history WHERE cache_key = 'slow'"), before);
    /* after it (timeout 40 s + margin 60 s): computed, the lease released */
    ck_assert_int_eq(wait_exit(spawn_run(db, t + 101, "slow")), 0);
    ck_assert_int_eq(count(db, "SELECT count(*) FROM dashspec_history WHERE cache_key = 'slow' AND ok = 1"),
                     before + 1);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM dashboard_cache WHERE cache_key = 'slow' AND"
                              " extract(epoch FROM created_at)::bigint = %lld AND cache_value = '1'",
             (long long)(t + 101));
    ck_assert_int_eq(count(db, sql), 1);
    ck_assert_int_eq(count(db, "SELECT count(*) FROM dashspec_state WHERE runner_id IS NOT NULL"), 0);
}

START_TEST(killed_runner_lease_expires)
{
    DS_PG_REQUIRE();
    char *dir;
    char *db = setup("run_kill", &dir);
    kill_once(db, T0);
    /* a runner with an older --now computes, but never replaces the newer value */
    char now[32];
    iso(T0 + 50, now);
    ds_proc p;
    DS_RUN(&p, "run", "--db", db, "--now", now, "--only", "slow", "--force", "--quiet");
    ck_assert_int_eq(p.status, 0);
    ds_proc_free(&p);
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT extract(epoch FROM created_at)::bigint FROM dashboard_cache"
                              " WHERE cache_key = 'slow'");
    ck_assert_int_eq(count(db, sql), T0 + 101);
    ds_tmp_cleanup(dir);
    free(db);
}
END_TEST

/* A runner stopped by SIGTERM mid-item records nothing for it but gives
 * its lease back: the next runner, well inside the old lease, computes the
 * item instead of skipping it. */
START_TEST(stopped_runner_releases_its_lease)
{
    DS_PG_REQUIRE();
    char *dir;
    char *db = setup("run_stop", &dir);
    ds_pgdb_sql(db, "INSERT INTO gate VALUES (1)");
    pid_t a = spawn_run(db, T0, "slow");
    await_claim(db);
    kill(a, SIGTERM);
    ck_assert_int_eq(wait_exit(a), 128 + SIGTERM);
    ck_assert_int_eq(count(db, "SELECT count(*) FROM dashspec_state WHERE runner_id IS NOT NULL"
                               " OR lease_until IS NOT NULL"), 0);
    ck_assert_int_eq(count(db, "SELECT count(*) FROM dashspec_history WHERE cache_key = 'slow'"), 0);
    ds_pgdb_sql(db, "DELETE FROM gate");
    ck_assert_int_eq(wait_exit(spawn_run(db, T0 + 30, "slow")), 0);
    ck_assert_int_eq(count(db, "SELECT count(*) FROM dashspec_history WHERE cache_key = 'slow' AND ok = 1"), 1);
    ck_assert_int_eq(count(db, "SELECT count(*) FROM dashboard_cache WHERE cache_key = 'slow'"), 1);
    ds_tmp_cleanup(dir);
    free(db);
}
END_TEST

/* status names the runner that computed each value (host:pid:nonce) and a
 * killed runner's lease until it expires. */
static char *status_of(const char *db, int64_t t, int json)
{
    char now[32];
    iso(t, now);
    ds_proc p;
    if (json) DS_RUN(&p, "status", "--db", db, "--now", now, "--json");
    else DS_RUN(&p, "status", "--db", db, "--now", now);
    ck_assert_msg(p.status == 0, "status: %s", p.err);
    char *out = p.out;
    p.out = NULL;
    ds_proc_free(&p);
    return out;
}

START_TEST(status_shows_runners_and_leases)
{
    DS_PG_REQUIRE();
    char *dir;
    char *db = setup("run_status", &dir);
    ck_assert_int_eq(wait_exit(spawn_run(db, T0, NULL)), 0);
    char host[256] = {0}, want[300];
    gethostname(host, sizeof host - 1);
    snprintf(want, sizeof want, "\"last_runner\":\"%s:", host);
    char *js = status_of(db, T0, 1);
    ck_assert_msg(strstr(js, "{\"key\":\"every1\"") && strstr(js, want), "%s", js);
    ck_assert_ptr_null(strstr(js, "lease_runner"));
    free(js);
    char *txt = status_of(db, T0, 0);
    ck_assert_msg(strstr(txt, "runner") && strstr(txt, host) && !strstr(txt, "leased by"), "%s", txt);
    free(txt);
    /* a runner killed mid-item: its lease shows until it expires */
    ds_pgdb_sql(db, "INSERT INTO gate VALUES (1)");
    pid_t a = spawn_run(db, T0 + 7200, "slow");
    await_claim(db);
    kill(a, SIGKILL);
    ck_assert_int_eq(wait_exit(a), 128 + SIGKILL);
    snprintf(want, sizeof want, "\"lease_runner\":\"%s:%ld:", host, (long)a);
    js = status_of(db, T0 + 7230, 1);
    ck_assert_msg(strstr(js, want) && strstr(js, "\"lease_until\":\"2026-02-12 12:01:40\""), "%s", js);
    free(js);
    snprintf(want, sizeof want, "leased by %s:%ld:", host, (long)a);
    txt = status_of(db, T0 + 7230, 0);
    ck_assert_msg(strstr(txt, want) && strstr(txt, "until 2026-02-12 12:01:40"), "%s", txt);
    free(txt);
    js = status_of(db, T0 + 7200 + 101, 1);
    ck_assert_msg(!strstr(js, "lease_runner") && !strstr(js, "lease_until"), "%s", js);
    free(js);
    ds_pgdb_sql(db, "DELETE FROM gate");
    ds_tmp_cleanup(dir);
    free(db);
}
END_TEST

/* Ten items like slow: while the gate has a row each sleeps 30 s. */
static const char kill_specs[] =
    "version: 1\n"
    "defaults: {shape: scalar, ttl: 1h, timeout: 40s}\n"
    "metrics:\n"
    "  - {key: kill0, query: SELECT 1 AS v FROM pg_sleep(CASE WHEN (SELECT count(*) FROM gate) > 0 THEN 30 ELSE 0 END)}\n"
    "  - {key: kill1, query: SELECT 2 AS v FROM pg_sleep(CASE WHEN (SELECT count(*) FROM gate) > 0 THEN 30 ELSE 0 END)}\n"
    "  - {key: kill2, query: SELECT 3 AS v FROM pg_sleep(CASE WHEN (SELECT count(*) FROM gate) > 0 THEN 30 ELSE 0 END)}\n"
    "  - {key: kill3, query: SELECT 4 AS v FROM pg_sleep(CASE WHEN (SELECT count(*) FROM gate) > 0 THEN 30 ELSE 0 END)}\n"
    "  - {key: kill4, query: SELECT 5 AS v FROM pg_sleep(CASE WHEN (SELECT count(*) FROM gate) > 0 THEN 30 ELSE 0 END)}\n"
    "  - {key: kill5, query: SELECT 6 AS v FROM pg_sleep(CASE WHEN (SELECT count(*) FROM gate) > 0 THEN 30 ELSE 0 END)}\n"
    "  - {key: kill6, query: SELECT 7 AS v FROM pg_sleep(CASE WHEN (SELECT count(*) FROM gate) > 0 THEN 30 ELSE 0 END)}\n"
    "  - {key: kill7, query: SELECT 8 AS v FROM pg_sleep(CASE WHEN (SELECT count(*) FROM gate) > 0 THEN 30 ELSE 0 END)}\n"
    "  - {key: kill8, query: SELECT 9 AS v FROM pg_sleep(CASE WHEN (SELECT count(*) FROM gate) > 0 THEN 30 ELSE 0 END)}\n"
    "  - {key: kill9, query: SELECT 10 AS v FROM pg_sleep(CASE WHEN (SELECT count(*) FROM gate) > 0 THEN 30 ELSE 0 END)}\n";

#define NKILL 10            /* runners killed per round */

/* "Every kill item holds the value computed at t" (and nothing else). */
static void values_at(const char *db, int64_t t)
{
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM dashboard_cache WHERE cache_key LIKE 'kill%%' AND"
                              " extract(epoch FROM created_at)::bigint = %lld AND"
                              " cache_value = (substr(cache_key, 5)::int + 1)::text", (long long)t);
    ck_assert_int_eq(count(db, sql), NKILL);
    ck_assert_int_eq(count(db, "SELECT count(*) FROM dashboard_cache WHERE cache_key LIKE 'kill%'"), NKILL);
}

/* One round at t: NKILL runners, one per item, each killed with SIGKILL
 * while its query runs. The values of the round before (prev, 0 for none)
 * stay, neither lost nor replaced; within the leases (timeout 40 s +
 * margin 60 s) a runner skips every item; at t + 100, when they expire,
 * the next runner computes them all; a runner with an older --now
 * computes but replaces nothing. */
static void kill_round(const char *db, int64_t t, int64_t prev)
{
    ds_pgdb_sql(db, "INSERT INTO gate VALUES (1)");
    pid_t pid[NKILL];
    for (int i = 0; i < NKILL; i++) {
        char only[24];
        snprintf(only, sizeof only, "kill%d", i);
        pid[i] = spawn_run(db, t, only);
    }
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM dashspec_state WHERE runner_id IS NOT NULL"
                              " AND extract(epoch FROM lease_until)::bigint = %lld", (long long)(t + 100));
    ck_assert_int_eq(await_value(db, sql, NKILL), NKILL);
    for (int i = 0; i < NKILL; i++) kill(pid[i], SIGKILL);
    for (int i = 0; i < NKILL; i++) ck_assert_int_eq(wait_exit(pid[i]), 128 + SIGKILL);
    /* The killed runners' queries would sleep on at the server (it notices
     * a gone client only when it next talks to it): end them, or 50 kills
     * would fill max_connections. */
    ds_pgdb_sql(db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid() AND query LIKE '%pg_sleep%'");
    ds_pgdb_sql(db, "DELETE FROM gate");
    if (prev) values_at(db, prev);
    else ck_assert_int_eq(count(db, "SELECT count(*) FROM dashboard_cache"), 0);
    int64_t before = count(db, "SELECT count(*) FROM dashspec_history");
    ck_assert_int_eq(wait_exit(spawn_run(db, t + 99, "kill*")), 0);
    ck_assert_int_eq(count(db, "SELECT count(*) FROM dashspec_history"), before);
    ck_assert_int_eq(count(db, "SELECT count(*) FROM dashspec_state WHERE runner_id IS NOT NULL"), NKILL);
    if (prev) values_at(db, prev);
    ck_assert_int_eq(wait_exit(spawn_run(db, t + 100, "kill*")), 0);
    ck_assert_int_eq(count(db, "SELECT count(*) FROM dashspec_history WHERE ok = 1"), before + NKILL);
    ck_assert_int_eq(count(db, "SELECT count(*) FROM dashspec_state WHERE runner_id IS NOT NULL"), 0);
    values_at(db, t + 100);
    char now[32];
    iso(t + 50, now);
    ds_proc p;
    DS_RUN(&p, "run", "--db", db, "--now", now, "--only", "kill*", "--force", "--quiet");
    ck_assert_int_eq(p.status, 0);
    ds_proc_free(&p);
    ck_assert_int_eq(count(db, "SELECT count(*) FROM dashspec_history WHERE ok = 1"), before + 2 * NKILL);
    values_at(db, t + 100);
    /* the older values were not kept, yet their runner's leases went */
    ck_assert_int_eq(count(db, "SELECT count(*) FROM dashspec_state WHERE runner_id IS NOT NULL"), 0);
}

/* 50 SIGKILLs of runners mid-item: 5 rounds of NKILL. */
START_TEST(killed_runners_repeatedly)
{
    DS_PG_REQUIRE();
    char *dir;
    char *db = setup_with("run_kills", kill_specs, &dir);
    int64_t prev = 0;
    for (int k = 0; k < 50 / NKILL; k++) {
        int64_t t = T0 + 7200LL * (k + 1);      /* each past the 1h ttl */
        kill_round(db, t, prev);
        prev = t + 100;
    }
    ck_assert_int_eq(count(db, "SELECT count(*) FROM dashspec_history WHERE ok = 0"), 0);
    ds_tmp_cleanup(dir);
    free(db);
}
END_TEST

Suite *pg_runners_suite(void)
{
    Suite *s = suite_create("pg_runners");
    TCase *t = tcase_create("runners");
    ds_pg_test_fixture(t);
    tcase_set_timeout(t, 120);
    tcase_add_test(t, four_runners_six_minutes);
    tcase_add_test(t, two_runners_share_the_items);
    tcase_add_test(t, killed_runner_lease_expires);
    tcase_add_test(t, stopped_runner_releases_its_lease);
    tcase_add_test(t, status_shows_runners_and_leases);
    suite_add_tcase(s, t);
    t = tcase_create("runners_long");
    ds_pg_test_fixture(t);
    tcase_set_tags(t, "slow");
    tcase_set_timeout(t, 900);
    tcase_add_test(t, four_runners_sixty_minutes);
    suite_add_tcase(s, t);
    t = tcase_create("kills_long");
    ds_pg_test_fixture(t);
    tcase_set_tags(t, "slow");
    tcase_set_timeout(t, 600);
    tcase_add_test(t, killed_runners_repeatedly);
    suite_add_tcase(s, t);
    return s;
}

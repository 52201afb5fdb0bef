/*
 * check_common.c — diagnostics, buffers, time, durations, the engine
 * interface's connections and its choice of engine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <string.h>
#include "ds_common.h"
#include "ds_test.h"
#include "engine.h"

START_TEST(diag_sorts_and_renders)
{
    ds_diag d;
    ds_diag_init(&d);
    ck_assert_int_eq(ds_error(&d, "b.yaml", 3, 1, "k2", "second %d", 2), -1);
    ck_assert_int_eq(ds_error(&d, "a.yaml", 9, 4, NULL, "first"), -1);
    ck_assert_int_eq(ds_warning(&d, "a.yaml", 2, 7, "k1", "warn"), 0);
    ds_diag_sort(&d);
    char *t = ds_diag_render(&d, DS_FMT_TEXT);
    ck_assert_str_eq(t, "a.yaml:2:7: warning: warn [k1]\n"
                        "a.yaml:9:4: error: first\n"
                        "b.yaml:3:1: error: second 2 [k2]\n");
    free(t);
    t = ds_diag_render(&d, DS_FMT_GITHUB);
    ck_assert_str_eq(t, "::warning file=a.yaml,line=2,col=7::warn [k1]\n"
                        "::error file=a.yaml,line=9,col=4::first\n"
                        "::error file=b.yaml,line=3,col=1::second 2 [k2]\n");
    free(t);
    t = ds_diag_render(&d, DS_FMT_JSON);
    ck_assert_ptr_nonnull(strstr(t, "{\"file\":\"a.yaml\",\"line\":9,\"col\":4,\"severity\":\"error\",\"key\":null,\"message\":\"first\"}"));
    free(t);
    ck_assert_uint_eq(d.nerrors, 2);
    ck_assert_uint_eq(d.nwarnings, 1);
    ds_diag_free(&d);
}
END_TEST

START_TEST(durations)
{
    int64_t v;
    const char *why;
    ck_assert_int_eq(ds_duration_parse("1800", &v, &why), 0); ck_assert_int_eq(v, 1800);
    ck_assert_int_eq(ds_duration_parse("90s", &v, &why), 0); ck_assert_int_eq(v, 90);
    ck_assert_int_eq(ds_duration_parse("15m", &v, &why), 0); ck_assert_int_eq(v, 900);
    ck_assert_int_eq(ds_duration_parse("1h30m", &v, &why), 0); ck_assert_int_eq(v, 5400);
    ck_assert_int_eq(ds_duration_parse("7d", &v, &why), 0); ck_assert_int_eq(v, 604800);
    ck_assert_int_eq(ds_duration_parse("0", &v, &why), -1);
    ck_assert_int_eq(ds_duration_parse("0s", &v, &why), -1);
    ck_assert_int_eq(ds_duration_parse("-5m", &v, &why), -1);
    ck_assert_int_eq(ds_duration_parse("5x", &v, &why), -1);
    ck_assert_int_eq(ds_duration_parse("1h30", &v, &why), -1);
    ck_assert_int_eq(ds_duration_parse("", &v, &why), -1);
    ck_assert_int_eq(ds_duration_parse("99999999999999999999999d", &v, &why), -1);
    char b[32];
    ck_assert_str_eq(ds_duration_format(5400, b, sizeof b), "1h30m");
    ck_assert_str_eq(ds_duration_format(0, b, sizeof b), "0s");
}
END_TEST

START_TEST(times)
{
    int64_t t;
    ck_assert_int_eq(ds_time_parse("2026-02-12 10:00:00", &t), 0);
    char out[20];
    ds_time_format(t + 61, out);
    ck_assert_str_eq(out, "2026-02-12 10:01:01");
    ck_assert_int_eq(ds_time_parse("2026-02-30 10:00:00", &t), -1);
    /* Time as people write it: the T form, Z, and offsets converted to UTC. */
    int64_t u;
    ck_assert_int_eq(ds_time_parse("2026-02-12T10:00:00", &u), 0);
    ck_assert_int_eq(u, t);
    ck_assert_int_eq(ds_time_parse("2026-02-12T10:00:00Z", &u), 0);
    ck_assert_int_eq(u, t);
    ck_assert_int_eq(ds_time_parse("2026-02-12 10:00:00Z", &u), 0);
    ck_assert_int_eq(u, t);
    ck_assert_int_eq(ds_time_parse("2026-02-12T11:30:00+01:30", &u), 0);
    ck_assert_int_eq(u, t);
    ck_assert_int_eq(ds_time_parse("2026-02-12T05:00:00-05:00", &u), 0);
    ck_assert_int_eq(u, t);
    ck_assert_int_eq(ds_time_parse("2026-02-12T00:30:00-09:30", &u), 0);
    ck_assert_int_eq(u, t);
    ck_assert_int_eq(ds_time_parse("2026-02-13T01:00:00+15:00", &u), 0);
    ck_assert_int_eq(u, t);
    ck_assert_int_eq(ds_time_parse("2026-02-12T10:00:00+0100", &t), -1);
    ck_assert_int_eq(ds_time_parse("2026-02-12T10:00:00+24:00", &t), -1);
    ck_assert_int_eq(ds_time_parse("2026-02-12T10:00:00+01:60", &t), -1);
    ck_assert_int_eq(ds_time_parse("2026-02-12T10:00:00ZZ", &t), -1);
    ck_assert_int_eq(ds_time_parse("2026-02-12X10:00:00", &t), -1);
    ck_assert_int_eq(ds_time_parse("2026-02-12 10:00", &t), -1);
    /* The stored form: 'T', a fraction or 'Z' after the seconds; the same
     * calendar, the same seconds. */
    ck_assert_int_eq(ds_time_parse("2026-02-12 10:00:00", &t), 0);
    const char *ok[] = {"2026-02-12 10:00:00", "2026-02-12T10:00:00", "2026-02-12 10:00:00.123",
                        "2026-02-12T10:00:00Z"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        ck_assert_int_eq(ds_time_parse_stored(ok[i], strlen(ok[i]), &u), 0);
        ck_assert_int_eq(u, t);
    }
    const char *bad[] = {"2026-02-12 10:00", "2026-02-12 10:00:00+01", "2026-02-29 10:00:00",
                         "2026-13-01 10:00:00", "2026-02-12 24:00:00", "2026-02-12x10:00:00"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_int_eq(ds_time_parse_stored(bad[i], strlen(bad[i]), &u), -1);
    /* Only n bytes are read: a NUL inside ends nothing. */
    ck_assert_int_eq(ds_time_parse_stored("2026-02-12 10:00:00\0x", 21, &u), -1);
    /* Year 0's January (floor division) and a leap day, as timegm has them. */
    ck_assert_int_eq(ds_time_parse("0000-01-01 00:00:00", &t), 0);
    ck_assert_int_eq(t, -62167219200LL);
    ck_assert_int_eq(ds_time_parse("2024-02-29 00:00:00", &t), 0);
    ck_assert_int_eq(t, 1709164800LL);
}
END_TEST

/* The engine comes from the --db string: PostgreSQL URIs and conninfo
 * strings are recognised (and refused until that engine exists); anything
 * else is a SQLite path. */
/* libpq is loaded on first use (engine/postgres/pg_dl.h), not linked: a
 * process that never meets PostgreSQL does not pay for loading it. */
START_TEST(libpq_not_linked)
{
    const char *bin = getenv("DS_BIN");
    ck_assert_ptr_nonnull(bin);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "ldd '%s'", bin);
    FILE *f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    char line[1024];
    int libs = 0, pq = 0;
    while (fgets(line, sizeof line, f)) {
        libs++;
        if (strstr(line, "libpq")) pq = 1;
    }
    ck_assert_int_eq(pclose(f), 0);
    ck_assert_int_gt(libs, 2);          /* ldd did list the libraries */
    ck_assert_msg(!pq, "%s links libpq", bin);
}
END_TEST

START_TEST(engine_from_db_string)
{
    ck_assert(ds_engine_is_postgres("postgres://u@h/db"));
    ck_assert(ds_engine_is_postgres("postgresql:///db?host=/tmp"));
    ck_assert(ds_engine_is_postgres("host=/tmp dbname=x"));
    ck_assert(ds_engine_is_postgres("  dbname = app"));
    ck_assert(!ds_engine_is_postgres("app.db"));
    ck_assert(!ds_engine_is_postgres("./host=x.db"));
    ck_assert(!ds_engine_is_postgres("weird=name.db"));
    ck_assert(!ds_engine_is_postgres(NULL));
    ck_assert_ptr_null(ds_engine_missing(&ds_sqlite_engine));
    ck_assert_ptr_null(ds_engine_missing(&ds_postgres_engine));
    ck_assert_str_eq(ds_sqlite_engine.name, "sqlite");
    ds_diag d;
    ds_diag_init(&d);
    ck_assert_ptr_eq(ds_engine_for("x.db", &d), &ds_sqlite_engine);
    ck_assert_ptr_eq(ds_engine_for(NULL, &d), &ds_sqlite_engine);
    ck_assert_int_eq(d.status, DS_OK);
    ck_assert_ptr_eq(ds_engine_for("postgres://u@h/db", &d), &ds_postgres_engine);
    ck_assert_ptr_eq(ds_engine_for("host=/tmp dbname=x", &d), &ds_postgres_engine);
    /* a server that is not there: a database error, the password redacted */
    ds_db *db = NULL;
    ck_assert_int_eq(ds_db_open("postgresql://u:secret@/db?host=/nonexistent-ds-dir", DS_DB_READONLY, &db, &d), -1);
    ck_assert_ptr_null(db);
    ck_assert_int_eq(d.status, DS_DBERROR);
    char *s = ds_diag_render(&d, DS_FMT_TEXT);
    ck_assert_ptr_null(strstr(s, "secret"));
    free(s);
    ds_diag_free(&d);
}
END_TEST

START_TEST(db_open_never_creates)
{
    char *dir = ds_tmpdir();
    char *path = malloc(strlen(dir) + 16);
    sprintf(path, "%s/missing.db", dir);
    ds_diag d;
    ds_diag_init(&d);
    ds_db *db = NULL;
    ck_assert_int_eq(ds_db_open(path, DS_DB_READWRITE, &db, &d), -1);
    ck_assert_ptr_null(db);
    ck_assert_int_eq(d.status, DS_DBERROR);
    ck_assert_int_eq(access(path, F_OK), -1);
    ds_diag_free(&d);
    ds_diag_init(&d);
    char *junk = ds_write(dir, "junk.db", "this is not a database, not at all, no no no no no no no no no no no no no no no no no no");
    ck_assert_int_eq(ds_db_open(junk, DS_DB_READONLY, &db, &d), -1);
    ck_assert_int_eq(d.status, DS_DBERROR);
    ds_diag_free(&d);
    free(junk);
    free(path);
    ds_tmp_cleanup(dir);
}
END_TEST

START_TEST(db_migrate_idempotent)
{
    char *dir = ds_tmpdir();
    char *path = malloc(strlen(dir) + 16);
    sprintf(path, "%s/app.db", dir);
    ds_sql(path, "CREATE TABLE dashboard_cache(cache_key TEXT PRIMARY KEY, cache_value TEXT NOT NULL,"
                 " created_at TEXT NOT NULL, expires_at TEXT NOT NULL);"
                 "INSERT INTO dashboard_cache VALUES('old','1','2026-01-01 00:00:00','2026-01-01 00:15:00');");
    ds_diag d;
    ds_diag_init(&d);
    ds_db *db = NULL;
    ck_assert_int_eq(ds_db_open(path, DS_DB_READWRITE, &db, &d), 0);
    ck_assert_int_eq(ds_db_migrated(db), 0);
    ck_assert_int_eq(ds_db_migrate(db, &d), 0);
    ck_assert_int_eq(ds_db_migrated(db), 1);
    ck_assert_int_eq(ds_db_migrate(db, &d), 0);
    ds_db_close(db);
    char *v = ds_sql_text(path, "SELECT cache_value FROM dashboard_cache WHERE cache_key='old'");
    ck_assert_str_eq(v, "1");
    free(v);
    v = ds_sql_text(path, "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'dashspec_%' AND type='table'");
    ck_assert_str_eq(v, "6");    /* plan, state, runs, migrations; history, settings (002) */
    free(v);
    ck_assert_uint_eq(d.nerrors, 0);
    ds_diag_free(&d);
    free(path);
    ds_tmp_cleanup(dir);
}
END_TEST

START_TEST(lock_is_exclusive)
{
    char *dir = ds_tmpdir();
    char *path = ds_write(dir, "x.db", "");
    ds_diag d;
    ds_diag_init(&d);
    ds_lock *l = NULL, *l2 = NULL;
    ck_assert_int_eq(ds_db_lock(path, &l, &d), 0);
    ck_assert_ptr_nonnull(l);
    /* A second open file description cannot take it, even in this process. */
    ck_assert_int_eq(ds_db_lock(path, &l2, &d), -1);
    ck_assert_ptr_null(l2);
    ck_assert_int_eq(d.status, DS_LOCKED);
    ds_db_unlock(l);
    ds_diag_free(&d);
    ds_diag_init(&d);
    ck_assert_int_eq(ds_db_lock(path, &l, &d), 0);
    ck_assert_ptr_nonnull(l);
    ds_db_unlock(l);
    ds_diag_free(&d);
    free(path);
    ds_tmp_cleanup(dir);
}
END_TEST

START_TEST(cli_version_and_help)
{
    ds_proc p;
    DS_RUN(&p, "--version");
    ck_assert_int_eq(p.status, 0);
    ck_assert_ptr_nonnull(strstr(p.out, "dashspec " DS_VERSION));
    ds_proc_free(&p);
    DS_RUN(&p, "frobnicate");
    ck_assert_int_eq(p.status, 2);
    ck_assert_ptr_nonnull(strstr(p.err, "unknown command 'frobnicate'"));
    ds_proc_free(&p);
    /* did you mean, for commands and options; usage errors stay short:
     * the error, a hint, where the help is (cron mails all of it). */
    DS_RUN(&p, "stauts");
    ck_assert_int_eq(p.status, 2);
    ck_assert_str_eq(p.err, "dashspec: unknown command 'stauts'\ndid you mean 'status'?\nsee 'dashspec --help'\n");
    ds_proc_free(&p);
    DS_RUN(&p, "run", "--onyl", "x");
    ck_assert_int_eq(p.status, 2);
    ck_assert_str_eq(p.err, "dashspec run: unknown option '--onyl'\ndid you mean '--only'?\nsee 'dashspec run --help'\n");
    ds_proc_free(&p);
    const char *no_db[] = {"DASHSPEC_DB=", NULL};
    ds_proc_run(&p, (const char *const[]){"run", NULL}, NULL, no_db);
    ck_assert_int_eq(p.status, 2);
    ck_assert_str_eq(p.err, "dashspec run: no database given (use --db FILE or set DASHSPEC_DB)\n"
                            "see 'dashspec run --help'\n");
    ck_assert_str_eq(p.out, "");
    ds_proc_free(&p);
    DS_RUN(&p, "--help");
    ck_assert_int_eq(p.status, 0);
    ck_assert_ptr_nonnull(strstr(p.out, "preview"));
    ds_proc_free(&p);
}
END_TEST


/* A writer killed mid-transaction leaves a hot journal; read-only commands
 * (get, status) must still open the database, with the old contents.
 * 200 rows of 1000 bytes are ~50 pages: ten times the child's 5-page cache, so
 * its UPDATE spills into the file and the journal is hot (asserted below),
 * while the whole test writes well under 1 MB (it wrote 3 MB with fsyncs and
 * took 5.8 s on a loaded ext4 /tmp). Nothing waits on a clock: the child is
 * reaped before the open, so no lock is held when the recovery runs. */
START_TEST(db_open_recovers_hot_journal)
{
    char *dir = ds_tmpdir();
    char *path = ds_asprintf("%s/hot.db", dir);
    ds_sql(path, "CREATE TABLE t(x); INSERT INTO t VALUES ('old');"
                 "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 200)"
                 " INSERT INTO t SELECT randomblob(1000) FROM c;");
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        sqlite3 *h = NULL;
        sqlite3_open(path, &h);
        sqlite3_exec(h, "PRAGMA cache_size = 5; BEGIN; UPDATE t SET x = 'new';", NULL, NULL, NULL);
        raise(SIGKILL);
        _exit(1);
    }
    int st;
    waitpid(pid, &st, 0);
    char *journal = ds_asprintf("%s-journal", path);
    ck_assert_int_eq(access(journal, F_OK), 0);      /* the test really left one */
    ds_diag d;
    ds_diag_init(&d);
    ds_db *db = NULL;
    ck_assert_int_eq(ds_db_open(path, DS_DB_READONLY, &db, &d), 0);
    ds_db_close(db);
    ds_diag_free(&d);
    char *v = ds_sql_text(path, "SELECT x FROM t WHERE rowid = 1");
    ck_assert_str_eq(v, "old");
    free(v);
    free(journal);
    free(path);
    ds_tmp_cleanup(dir);
}
END_TEST

Suite *common_suite(void)
{
    Suite *s = suite_create("common");
    TCase *tc = tcase_create("core");
    /* The slowest case (the hot journal, fsyncs on a loaded disk) takes
     * under 1 s; 30 s is a generous bound that still catches a hang. */
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, diag_sorts_and_renders);
    tcase_add_test(tc, durations);
    tcase_add_test(tc, times);
    tcase_add_test(tc, libpq_not_linked);
    tcase_add_test(tc, engine_from_db_string);
    tcase_add_test(tc, db_open_never_creates);
    tcase_add_test(tc, db_migrate_idempotent);
    tcase_add_test(tc, lock_is_exclusive);
    tcase_add_test(tc, db_open_recovers_hot_journal);
    tcase_add_test(tc, cli_version_and_help);
    suite_add_tcase(s, tc);
    return s;
}

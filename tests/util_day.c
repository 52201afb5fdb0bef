/*
 * util_day.c — a simulated day of cron runs (tests/ds_day.h): the example
 * application's database, its specs plus one flaky item, and `dashspec run`
 * with --now stepped through 24 hours, all through the built binary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dashspec.h"
#include "ds_day.h"
#include "ds_test.h"

/* Fails at 03:00-05:59: too many rows for max_rows then (a run error). */
static const char flaky_yaml[] =
    "version: 1\n"
    "defaults:\n"
    "  group: flaky\n"
    "metrics:\n"
    "  - key: flaky_metric\n"
    "    description: Fails every night between 03:00 and 06:00\n"
    "    shape: rows\n"
    "    ttl: 20m\n"
    "    refresh: 10m\n"
    "    max_rows: 5\n"
    "    query: |\n"
    "      WITH RECURSIVE n(i) AS (\n"
    "        SELECT 1 UNION ALL SELECT i + 1 FROM n\n"
    "         WHERE i < CASE WHEN strftime('%H', :now) IN ('03', '04', '05') THEN 10 ELSE 2 END)\n"
    "      SELECT i FROM n\n";

int ds_day_runs(int step_min)
{
    return 24 * 60 / step_min + 1;
}

char *ds_day_db(const char *dir, int step_min, int flaky)
{
    char *mk = ds_src("examples/make-db.sh"), *specs = ds_src("specs");
    size_t n = strlen(dir) + 32;
    char *db = malloc(n);
    ck_assert_ptr_nonnull(db);
    snprintf(db, n, "%s/demo.db", dir);
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "REF='" DS_DAY_END "' sh '%s' '%s' 0.01 >/dev/null && cp -R '%s' '%s/specs'",
             mk, db, specs, dir);
    ck_assert_msg(system(cmd) == 0, "cannot build the example database in %s", dir);
    if (flaky) free(ds_write(dir, "specs/flaky.yaml", flaky_yaml));
    snprintf(cmd, sizeof cmd, "%s/specs", dir);
    ds_proc p;
    DS_RUN(&p, "compile", "--db", db, "--specs", cmd);
    ck_assert_msg(p.status == 0, "compile failed: %s", p.err);
    ds_proc_free(&p);
    int64_t t0;
    ck_assert_int_eq(ds_time_parse(DS_DAY_START, &t0), 0);
    for (int i = 0; i < ds_day_runs(step_min); i++) {
        char ts[20];
        ds_time_format(t0 + (int64_t)i * step_min * 60, ts);
        DS_RUN(&p, "run", "--db", db, "--now", ts, "--quiet");
        /* 1: some item failed (the flaky one at night); anything else is wrong. */
        ck_assert_msg(p.status == 0 || p.status == 1, "run --now '%s' exited %d: %s", ts, p.status, p.err);
        ds_proc_free(&p);
    }
    free(mk);
    free(specs);
    return db;
}

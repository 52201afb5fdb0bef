/*
 * ds_day.h — a simulated day of cron runs on the example database, shared by
 * the stats and report suites (tests/util_day.c).
 */
#ifndef DS_DAY_H
#define DS_DAY_H

#define DS_DAY_START "2026-02-11 10:00:00"   /* the first run */
#define DS_DAY_END   "2026-02-12 10:00:00"   /* the last run: examples/make-db.sh's REF */
/* flaky_metric fails in every run from 03:00 to 05:59: 180 / step_min runs */
#define DS_DAY_FLAKY_FAILS(step_min) (180 / (step_min))

/* In dir: a tiny example database (examples/make-db.sh, scale 0.01), specs/
 * copied from the source tree, with flaky also specs/flaky.yaml (an item
 * that fails between 03:00 and 05:59), compiled, then `dashspec run --now T` for T from
 * DS_DAY_START to DS_DAY_END every step_min minutes, through the built
 * binary. Returns the database path (malloc'd). Fails the test on error. */
char *ds_day_db(const char *dir, int step_min, int flaky);
/* Number of runs ds_day_db makes with that step. */
int ds_day_runs(int step_min);

#endif

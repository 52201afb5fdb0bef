/*
 * ds_test_pgdb.h — one fresh database per test on the PostgreSQL test server
 * (tests/util_pgdb.c).
 */
#ifndef DS_TEST_PGDB_H
#define DS_TEST_PGDB_H

/* Creates database name (new: each test process has its own server) and
 * returns its conninfo (malloc'd). Call after DS_PG_REQUIRE(). */
char *ds_pgdb_new(const char *name);
/* Runs sql there (fails the test on error). */
void ds_pgdb_sql(const char *conninfo, const char *sql);
/* The first value of sql's first row (malloc'd), NULL when none or NULL. */
char *ds_pgdb_value(const char *conninfo, const char *sql);

#endif

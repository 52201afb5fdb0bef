/*
 * ds_test_pg.h — a throwaway PostgreSQL server for the Check suites
 * (tests/util_pg.c over tests/pg/cluster.sh).
 */
#ifndef DS_TEST_PG_H
#define DS_TEST_PG_H

#include <check.h>
#include <libpq-fe.h>

/* The conninfo of this test process's server, started on the first call (in
 * the runner process when called from the fixture below) and stopped and
 * removed when that process exits. NULL when the server binaries are
 * missing: a loud "SKIPPED: ..." line is printed once. A failed start is
 * remembered and reported by DS_PG_REQUIRE. */
const char *ds_pg_test_conninfo(void);
/* Why the server could not start (NULL when it did or when skipped). */
const char *ds_pg_test_error(void);
/* Adds an unchecked fixture to tc that starts the server once, before the
 * forked tests, so every test of every suite shares it. */
void ds_pg_test_fixture(TCase *tc);
/* A connection to the test database (fails the test when impossible). */
PGconn *ds_pg_test_connect(void);
/* Runs SQL on the test database (fails the test on error). */
void ds_pg_test_sql(const char *sql);

/* At the top of a test: returns (passes) when the server was skipped —
 * unless DS_PG_REQUIRED=1 (CI), which makes a skip a failure — and fails
 * when it did not start. */
#define DS_PG_REQUIRE()                                                              \
    do {                                                                             \
        if (!ds_pg_test_conninfo()) {                                                \
            ck_assert_msg(ds_pg_test_error() == NULL, "PostgreSQL test server: %s",  \
                          ds_pg_test_error());                                       \
            const char *req_ = getenv("DS_PG_REQUIRED");                             \
            ck_assert_msg(!req_ || strcmp(req_, "1") != 0,                           \
                          "DS_PG_REQUIRED=1 but the server binaries are missing");   \
            return;                                                                  \
        }                                                                            \
    } while (0)

#endif

/*
 * check_due.c — what is due and why (ds_due, ds_due_explain) and reading the
 * state it decides from (ds_state_load).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ds_common.h"
#include "ds_run.h"
#include "ds_test.h"

static int64_t T0;     /* 2026-02-12 10:00:00 */

static void setup(void)
{
    ck_assert_int_eq(ds_time_parse("2026-02-12 10:00:00", &T0), 0);
}

/* An item with ttl 15m, refresh 10m and hash "aaaa...". */
static ds_item item(void)
{
    ds_item it;
    memset(&it, 0, sizeof it);
    it.key = "k";
    it.ttl = 900;
    it.refresh = 600;
    strcpy(it.hash, "aaaaaaaaaaaaaaaa");
    return it;
}

/* A value computed at `at` with the item's ttl and hash. */
static ds_item_state value_at(const ds_item *it, int64_t at)
{
    ds_item_state st;
    memset(&st, 0, sizeof st);
    st.has_value = 1;
    st.created_at = at;
    st.expires_at = at + it->ttl;
    st.has_state = 1;
    st.last_attempt = st.last_success = at;
    strcpy(st.value_hash, it->hash);
    return st;
}

START_TEST(missing_value_is_due)
{
    ds_item it = item();
    ds_item_state st;
    memset(&st, 0, sizeof st);
    int64_t next = 0;
    ck_assert_int_eq(ds_due(&it, &st, T0, 0, &next), DS_DUE_MISSING);
    ck_assert_int_eq(next, T0);
    ck_assert_int_eq(ds_due(&it, NULL, T0, 0, NULL), DS_DUE_MISSING);
}
END_TEST

/* A value created after now (a run with a later --now, a clock set back) is
 * due, and says why; at its own time and later the usual rules hold. */
START_TEST(value_from_the_future_is_due)
{
    ds_item it = item();
    ds_item_state st = value_at(&it, T0 + 3600);
    int64_t next = 0;
    ck_assert_int_eq(ds_due(&it, &st, T0, 0, &next), DS_DUE_FUTURE);
    ck_assert_int_eq(next, T0);
    char buf[128];
    ck_assert_str_eq(ds_due_explain(&it, &st, T0, DS_DUE_FUTURE, next, buf, sizeof buf), "created in the future");
    ck_assert_int_eq(ds_due(&it, &st, T0 + 3599, 0, NULL), DS_DUE_FUTURE);
    ck_assert_int_eq(ds_due(&it, &st, T0 + 3600, 0, NULL), DS_DUE_NOT);
}
END_TEST

START_TEST(fresh_value_until_refresh_age)
{
    ds_item it = item();
    ds_item_state st = value_at(&it, T0);
    int64_t next = 0;
    ck_assert_int_eq(ds_due(&it, &st, T0, 0, &next), DS_DUE_NOT);
    ck_assert_int_eq(next, T0 + 600);
    ck_assert_int_eq(ds_due(&it, &st, T0 + 599, 0, &next), DS_DUE_NOT);
    ck_assert_int_eq(next, T0 + 600);
    /* age >= refresh: exactly at refresh it is due */
    ck_assert_int_eq(ds_due(&it, &st, T0 + 600, 0, &next), DS_DUE_REFRESH);
    ck_assert_int_eq(next, T0 + 600);
    ck_assert_int_eq(ds_due(&it, &st, T0 + 601, 0, &next), DS_DUE_REFRESH);
}
END_TEST

START_TEST(expired_value_is_due)
{
    ds_item it = item();
    ds_item_state st = value_at(&it, T0);
    st.expires_at = T0 + 60;            /* a row whose expiry says otherwise */
    int64_t next = 0;
    ck_assert_int_eq(ds_due(&it, &st, T0 + 59, 0, &next), DS_DUE_NOT);
    ck_assert_int_eq(next, T0 + 60);    /* the earlier of refresh age and expiry */
    ck_assert_int_eq(ds_due(&it, &st, T0 + 60, 0, &next), DS_DUE_EXPIRED);   /* expires_at <= now */
    ck_assert_int_eq(ds_due(&it, &st, T0 + 61, 0, NULL), DS_DUE_EXPIRED);
}
END_TEST

START_TEST(changed_or_unknown_hash_is_due)
{
    ds_item it = item();
    ds_item_state st = value_at(&it, T0);
    strcpy(st.value_hash, "bbbbbbbbbbbbbbbb");
    int64_t next = 0;
    ck_assert_int_eq(ds_due(&it, &st, T0 + 1, 0, &next), DS_DUE_CHANGED);
    ck_assert_int_eq(next, T0 + 1);
    st.value_hash[0] = '\0';            /* a value dashspec did not write */
    ck_assert_int_eq(ds_due(&it, &st, T0 + 1, 0, NULL), DS_DUE_CHANGED);
}
END_TEST

START_TEST(backoff_doubles_and_caps_at_refresh)
{
    ds_item it = item();
    it.refresh = 600;
    ds_item_state st = value_at(&it, T0 - 3600);   /* long expired: due but for backoff */
    int64_t expect[] = {60, 120, 240, 480, 600, 600, 600};
    for (int f = 1; f <= 7; f++) {
        st.failures = f;
        st.last_attempt = T0;
        int64_t next = 0;
        int64_t wait = expect[f - 1];
        ck_assert_int_eq(ds_due(&it, &st, T0, 0, &next), DS_DUE_BACKOFF);
        ck_assert_int_eq(next, T0 + wait);
        ck_assert_int_eq(ds_due(&it, &st, T0 + wait - 1, 0, &next), DS_DUE_BACKOFF);
        ck_assert_int_eq(ds_due(&it, &st, T0 + wait, 0, &next), DS_DUE_EXPIRED);
        ck_assert_int_eq(next, T0 + wait);
    }
    /* Huge failure counts cannot overflow the doubling. */
    int64_t big[] = {40, 62, 63, 64, 1000, INT64_MAX};
    for (size_t i = 0; i < sizeof big / sizeof *big; i++) {
        st.failures = big[i];
        int64_t next = 0;
        ck_assert_int_eq(ds_due(&it, &st, T0, 0, &next), DS_DUE_BACKOFF);
        ck_assert_int_eq(next, T0 + 600);
    }
}
END_TEST

START_TEST(backoff_applies_without_a_value)
{
    ds_item it = item();
    ds_item_state st;
    memset(&st, 0, sizeof st);
    st.has_state = 1;
    st.failures = 1;
    st.last_attempt = T0;
    int64_t next = 0;
    ck_assert_int_eq(ds_due(&it, &st, T0 + 30, 0, &next), DS_DUE_BACKOFF);
    ck_assert_int_eq(next, T0 + 60);
    ck_assert_int_eq(ds_due(&it, &st, T0 + 60, 0, &next), DS_DUE_MISSING);
}
END_TEST

START_TEST(backoff_pushes_next_of_a_fresh_value)
{
    ds_item it = item();
    it.refresh = 600;
    ds_item_state st = value_at(&it, T0);
    st.failures = 4;                        /* retry after 480s ... */
    st.last_attempt = T0 + 590;             /* ... counted from the last attempt */
    int64_t next = 0;
    ck_assert_int_eq(ds_due(&it, &st, T0 + 100, 0, &next), DS_DUE_NOT);
    ck_assert_int_eq(next, T0 + 590 + 480);
}
END_TEST

START_TEST(force_ignores_both_rules)
{
    ds_item it = item();
    ds_item_state st = value_at(&it, T0);
    int64_t next = 0;
    ck_assert_int_eq(ds_due(&it, &st, T0 + 1, 1, &next), DS_DUE_FORCED);
    ck_assert_int_eq(next, T0 + 1);
    st.failures = 3;
    st.last_attempt = T0;
    st.expires_at = T0;
    ck_assert_int_eq(ds_due(&it, &st, T0 + 1, 0, NULL), DS_DUE_BACKOFF);
    ck_assert_int_eq(ds_due(&it, &st, T0 + 1, 1, NULL), DS_DUE_FORCED);
}
END_TEST

START_TEST(explanations)
{
    ds_item it = item();
    ds_item_state st = value_at(&it, T0);
    char b[128];
    int64_t next;
    ds_due_reason r = ds_due(&it, &st, T0 + 180, 0, &next);
    ck_assert_str_eq(ds_due_explain(&it, &st, T0 + 180, r, next, b, sizeof b), "fresh for 7m");
    r = ds_due(&it, &st, T0 + 720, 0, &next);
    ck_assert_str_eq(ds_due_explain(&it, &st, T0 + 720, r, next, b, sizeof b), "older than refresh (12m >= 10m)");
    r = ds_due(&it, &st, T0 + 1080, 0, &next);
    ck_assert_str_eq(ds_due_explain(&it, &st, T0 + 1080, r, next, b, sizeof b), "expired 3m ago");
    r = ds_due(&it, NULL, T0, 0, &next);
    ck_assert_str_eq(ds_due_explain(&it, NULL, T0, r, next, b, sizeof b), "never computed");
    r = ds_due(&it, &st, T0, 1, &next);
    ck_assert_str_eq(ds_due_explain(&it, &st, T0, r, next, b, sizeof b), "forced");
    strcpy(st.value_hash, "cccccccccccccccc");
    r = ds_due(&it, &st, T0 + 1, 0, &next);
    ck_assert_str_eq(ds_due_explain(&it, &st, T0 + 1, r, next, b, sizeof b), "spec changed");
    st.failures = 3;
    st.last_attempt = T0 + 1;
    r = ds_due(&it, &st, T0 + 2, 0, &next);
    ck_assert_str_eq(ds_due_explain(&it, &st, T0 + 2, r, next, b, sizeof b), "backoff until 2026-02-12 10:04:01");
}
END_TEST

/* ds_state_load: one pass over each table, matched by key; an application's
 * four-column dashboard_cache; times in other spellings; unknown rows. */
START_TEST(state_load_reads_cache_and_state)
{
    char *dir = ds_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/s.db", dir);
    ds_sql(path,
        "CREATE TABLE dashboard_cache (cache_key TEXT PRIMARY KEY, cache_value TEXT NOT NULL,"
        " created_at TEXT NOT NULL, expires_at TEXT NOT NULL);"
        "INSERT INTO dashboard_cache VALUES ('a', '1', '2026-02-12 09:00:00', '2026-02-12 09:15:00'),"
        " ('b', '2', '2026-02-12T09:30:00.000Z', '2026-02-12T09:45:00Z'),"
        " ('c', '3', 'yesterday', 'tomorrow'), ('zz', '4', '2026-02-12 09:00:00', '2026-02-12 09:15:00');");
    ds_diag d;
    ds_diag_init(&d);
    ds_db *db = NULL;
    ck_assert_int_eq(ds_db_open(path, DS_DB_READWRITE, &db, &d), 0);

    ds_plan p;
    ds_plan_init(&p);
    const char *keys[] = {"c", "a", "missing", "b"};
    p.items = calloc(4, sizeof *p.items);
    p.n = p.cap = 4;
    for (int i = 0; i < 4; i++) p.items[i].key = strdup(keys[i]);
    ds_item_state st[4];

    /* Without dashspec_state (never migrated) the cache rows still count. */
    ck_assert_int_eq(ds_state_load(db, &p, st, &d), 0);
    ck_assert_int_eq(st[1].has_value, 1);
    ck_assert_int_eq(st[1].has_state, 0);
    ck_assert_str_eq(st[1].value_hash, "");
    for (int i = 0; i < 4; i++) ds_item_state_clear(&st[i]);

    ck_assert_int_eq(ds_db_migrate(db, &d), 0);
    ds_sql(path,
        "INSERT INTO dashspec_state (cache_key, last_attempt, last_success, last_duration_ms, entries,"
        " last_error, failures, next_attempt, spec_hash, value_bytes) VALUES"
        " ('a', '2026-02-12 09:05:00', '2026-02-12 09:00:00', 12, 4, 'no such table: x', 2,"
        "  '2026-02-12 09:07:00', '0123456789abcdef', 10),"
        " ('other', '2026-02-12 09:05:00', NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL);");
    ck_assert_int_eq(ds_state_load(db, &p, st, &d), 0);
    int64_t t;
    /* a */
    ck_assert_int_eq(st[1].has_value, 1);
    ds_time_parse("2026-02-12 09:00:00", &t);
    ck_assert_int_eq(st[1].created_at, t);
    ck_assert_int_eq(st[1].expires_at, t + 900);
    ck_assert_int_eq(st[1].has_state, 1);
    ck_assert_int_eq(st[1].failures, 2);
    ck_assert_int_eq(st[1].last_attempt, t + 300);
    ck_assert_int_eq(st[1].last_success, t);
    ck_assert_int_eq(st[1].last_duration_ms, 12);
    ck_assert_int_eq(st[1].entries, 4);
    ck_assert_str_eq(st[1].last_error, "no such table: x");
    ck_assert_str_eq(st[1].value_hash, "0123456789abcdef");
    /* b: ISO spelling */
    ds_time_parse("2026-02-12 09:30:00", &t);
    ck_assert_int_eq(st[3].created_at, t);
    ck_assert_int_eq(st[3].expires_at, t + 900);
    ck_assert_int_eq(st[3].has_state, 0);
    /* c: unreadable times count as long ago, so it is due */
    ck_assert_int_eq(st[0].has_value, 1);
    ck_assert_int_eq(st[0].created_at, 0);
    ck_assert_int_eq(st[0].expires_at, 0);
    ck_assert_int_eq(ds_due(&p.items[0], &st[0], T0, 0, NULL), DS_DUE_EXPIRED);
    /* missing */
    ck_assert_int_eq(st[2].has_value, 0);
    ck_assert_int_eq(st[2].has_state, 0);
    for (int i = 0; i < 4; i++) ds_item_state_clear(&st[i]);
    ck_assert_ptr_null(st[1].last_error);

    ds_plan_free(&p);
    ds_db_close(db);
    ds_diag_free(&d);
    ds_tmp_cleanup(dir);
}
END_TEST

/* The state loader's own time parser agrees with ds_time_parse. */
START_TEST(state_load_times_match_ds_time_parse)
{
    static const char *const times[] = {
        "1970-01-01 00:00:01", "1999-12-31 23:59:59", "2000-02-29 12:00:00", "2024-02-29 00:00:00",
        "2026-02-12 10:00:00", "2026-03-01 00:00:00", "2100-03-01 00:00:00", "9999-12-31 23:59:59",
        "2026-02-29 10:00:00", "2026-13-01 10:00:00", "2026-02-12 24:00:00", "2026-02-12 10:60:00",
        "2026-02-12 10:00:60", "2026-02-12 10:00", "2026-02-12x10:00:00", "2026-02-00 10:00:00",
        "1900-02-29 10:00:00", "+026-02-12 10:00:00",
    };
    enum { N = sizeof times / sizeof *times };
    char *dir = ds_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/t.db", dir);
    ds_sql(path, "CREATE TABLE dashboard_cache (cache_key TEXT PRIMARY KEY, cache_value TEXT NOT NULL,"
                 " created_at TEXT NOT NULL, expires_at TEXT NOT NULL)");
    ds_plan p;
    ds_plan_init(&p);
    p.items = calloc(N, sizeof *p.items);
    p.n = p.cap = N;
    for (int i = 0; i < N; i++) {
        char sql[256];
        p.items[i].key = ds_asprintf("k%02d", i);
        snprintf(sql, sizeof sql, "INSERT INTO dashboard_cache VALUES ('k%02d', '1', '%s', '%s')", i, times[i], times[i]);
        ds_sql(path, sql);
    }
    ds_diag d;
    ds_diag_init(&d);
    ds_db *db = NULL;
    ck_assert_int_eq(ds_db_open(path, DS_DB_READONLY, &db, &d), 0);
    ds_item_state st[N];
    ck_assert_int_eq(ds_state_load(db, &p, st, &d), 0);
    for (int i = 0; i < N; i++) {
        int64_t want = 0;
        if (ds_time_parse(times[i], &want)) want = 0;   /* unreadable: long ago */
        ck_assert_msg(st[i].created_at == want, "%s: %lld != %lld", times[i], (long long)st[i].created_at,
                      (long long)want);
        ck_assert_int_eq(st[i].expires_at, want);
        ds_item_state_clear(&st[i]);
    }
    ds_db_close(db);
    ds_plan_free(&p);
    ds_diag_free(&d);
    ds_tmp_cleanup(dir);
}
END_TEST

Suite *due_suite(void)
{
    Suite *s = suite_create("due");
    TCase *tc = tcase_create("due");
    tcase_add_checked_fixture(tc, setup, NULL);
    /* In-memory work only, every test well under 0.1 s here; 30 s is a hang
     * detector with room for valgrind (about 50 times slower). */
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, missing_value_is_due);
    tcase_add_test(tc, value_from_the_future_is_due);
    tcase_add_test(tc, fresh_value_until_refresh_age);
    tcase_add_test(tc, expired_value_is_due);
    tcase_add_test(tc, changed_or_unknown_hash_is_due);
    tcase_add_test(tc, backoff_doubles_and_caps_at_refresh);
    tcase_add_test(tc, backoff_applies_without_a_value);
    tcase_add_test(tc, backoff_pushes_next_of_a_fresh_value);
    tcase_add_test(tc, force_ignores_both_rules);
    tcase_add_test(tc, explanations);
    tcase_add_test(tc, state_load_reads_cache_and_state);
    tcase_add_test(tc, state_load_times_match_ds_time_parse);
    suite_add_tcase(s, tc);
    return s;
}

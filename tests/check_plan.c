/*
 * check_plan.c — dashspec_plan: every field round-trips exactly through
 * ds_plan_store / ds_plan_load, the changed flag, removal of old keys, and
 * that a failing store leaves the table as it was (one transaction).
 */
#include <math.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ds_compiler.h"
#include "ds_test.h"
#include "ds_vec.h"
#include "sqlite/sqlite_int.h"

static ds_item *push(ds_plan *p, const char *key)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 8;
        p->items = realloc(p->items, p->cap * sizeof *p->items);
        ck_assert_ptr_nonnull(p->items);
    }
    ds_item *it = &p->items[p->n++];
    memset(it, 0, sizeof *it);
    it->key = strdup(key);
    it->kind = DS_KIND_METRIC;
    it->shape = DS_SHAPE_SCALAR;
    it->query = strdup("SELECT 1");
    it->ttl = 900;
    it->refresh = 600;
    it->timeout = 30;
    it->max_rows = 1000;
    it->max_bytes = 1048576;
    it->file = strdup("specs/a.yaml");
    it->line = 4;
    snprintf(it->hash, sizeof it->hash, "%016x", (unsigned)strlen(key) * 7919u);
    it->m_query = (ds_mark){5, 12};     /* compile-time only: not stored */
    return it;
}

static void param(ds_item *it, const char *name, ds_param_type t, int64_t i, double r, const char *s)
{
    it->params = realloc(it->params, (it->nparams + 1) * sizeof *it->params);
    ds_param *p = &it->params[it->nparams++];
    memset(p, 0, sizeof *p);
    p->name = strdup(name);
    p->type = t;
    p->i = i;
    p->r = r;
    p->s = s ? strdup(s) : NULL;
    p->mark = (ds_mark){9, 9};
}

static char **strs(size_t n, ...)
{
    va_list ap;
    char **v = calloc(n, sizeof *v);
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) v[i] = strdup(va_arg(ap, const char *));
    va_end(ap);
    return v;
}

static ds_db *migrated(void)
{
    ds_db *db = NULL;
    ds_diag d;
    ds_diag_init(&d);
    ck_assert_int_eq(ds_db_open(NULL, DS_DB_MEMORY, &db, &d), 0);
    ck_assert_int_eq(ds_db_migrate(db, &d), 0);
    ds_diag_free(&d);
    return db;
}

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Everything the plan stores must come back identical; marks come back zero. */
static void assert_same_item(const ds_item *a, const ds_item *b)
{
    ck_assert_str_eq(a->key, b->key);
    ck_assert_int_eq(a->kind, b->kind);
    ck_assert_int_eq(a->shape, b->shape);
    ck_assert_str_eq(a->query, b->query);
    ck_assert(same_str(a->description, b->description));
    ck_assert(same_str(a->group, b->group));
    ck_assert_uint_eq(a->ntags, b->ntags);
    for (size_t i = 0; i < a->ntags; i++) ck_assert_str_eq(a->tags[i], b->tags[i]);
    ck_assert_uint_eq(a->nparams, b->nparams);
    for (size_t i = 0; i < a->nparams; i++) {
        const ds_param *x = &a->params[i], *y = &b->params[i];
        ck_assert_str_eq(x->name, y->name);
        ck_assert_int_eq(x->type, y->type);
        switch (x->type) {
        case DS_PARAM_INT: case DS_PARAM_BOOL: ck_assert(x->i == y->i); break;
        case DS_PARAM_REAL:
            if (isnan(x->r)) ck_assert(isnan(y->r));
            else ck_assert(memcmp(&x->r, &y->r, sizeof x->r) == 0);   /* bit-exact, -0.0 too */
            break;
        case DS_PARAM_TEXT: ck_assert_str_eq(x->s, y->s); break;
        }
        ck_assert_int_eq(y->mark.line, 0);
    }
    ck_assert(a->ttl == b->ttl && a->refresh == b->refresh && a->timeout == b->timeout);
    ck_assert(a->max_rows == b->max_rows && a->max_bytes == b->max_bytes);
    ck_assert(same_str(a->x, b->x));
    ck_assert_uint_eq(a->ny, b->ny);
    for (size_t i = 0; i < a->ny; i++) ck_assert_str_eq(a->y[i], b->y[i]);
    ck_assert(same_str(a->series_by, b->series_by));
    ck_assert(same_str(a->fill, b->fill));
    ck_assert_str_eq(a->file, b->file);
    ck_assert_int_eq(a->line, b->line);
    ck_assert_str_eq(a->hash, b->hash);
    ck_assert_int_eq(b->bad, 0);
    ck_assert_int_eq(b->m_query.line, 0);
    ck_assert_uint_eq(b->nqlines, 0);
}

START_TEST(round_trip_every_field)
{
    ds_db *db = migrated();
    ds_plan p, back;
    ds_diag d;
    ds_plan_init(&p);
    ds_diag_init(&d);

    ds_item *a = push(&p, "hourly_status");
    a->kind = DS_KIND_CHART;
    a->shape = DS_SHAPE_SERIES;
    free(a->query);
    a->query = strdup("SELECT strftime('%Y-%m-%d %H:00', created_at) AS hour, status, COUNT(*) AS n\n"
                      "FROM sites WHERE created_at >= datetime(:now, '-' || :hours || ' hours')\n"
                      "GROUP BY hour, status ORDER BY hour\n");
    a->description = strdup("Sites per status, \"hourly\"\n\tüñí \x01 end");
    a->group = strdup("overview");
    a->tags = strs(3, "ops", "sales-2", "a_b");
    a->ntags = 3;
    param(a, "hours", DS_PARAM_INT, 48, 0, NULL);
    param(a, "max", DS_PARAM_INT, INT64_MAX, 0, NULL);
    param(a, "min", DS_PARAM_INT, INT64_MIN, 0, NULL);
    param(a, "big", DS_PARAM_INT, 9007199254740993LL, 0, NULL);     /* 2^53 + 1: not a double */
    param(a, "ratio", DS_PARAM_REAL, 0, 0.1, NULL);
    param(a, "three", DS_PARAM_REAL, 0, 3.0, NULL);                /* must stay REAL */
    param(a, "huge", DS_PARAM_REAL, 0, 1e300, NULL);
    param(a, "tiny", DS_PARAM_REAL, 0, 5e-324, NULL);
    param(a, "third", DS_PARAM_REAL, 0, 1.0 / 3.0, NULL);
    param(a, "negzero", DS_PARAM_REAL, 0, -0.0, NULL);
    param(a, "inf", DS_PARAM_REAL, 0, INFINITY, NULL);
    param(a, "ninf", DS_PARAM_REAL, 0, -INFINITY, NULL);
    param(a, "nan", DS_PARAM_REAL, 0, NAN, NULL);
    param(a, "on", DS_PARAM_BOOL, 1, 0, NULL);                     /* not INT 1 */
    param(a, "off", DS_PARAM_BOOL, 0, 0, NULL);
    param(a, "s", DS_PARAM_TEXT, 0, 0, "x \"q\" \\ / \n\r\t\x7f é 😀 \xff\xfe");
    param(a, "empty", DS_PARAM_TEXT, 0, 0, "");
    param(a, "numtext", DS_PARAM_TEXT, 0, 0, "42");
    a->ttl = 1800;
    a->refresh = 1200;
    a->timeout = 5;
    a->max_rows = 1;
    a->max_bytes = INT64_MAX;
    a->x = strdup("hour");
    a->y = strs(1, "n");
    a->ny = 1;
    a->series_by = strdup("status");
    a->fill = strdup("0.0");
    free(a->file);
    a->file = strdup("specs/c:o:lon/x.yaml");
    a->line = 123;

    ds_item *b = push(&p, "funnel");                /* the sparse end: nothing optional */
    b->shape = DS_SHAPE_MAP;
    ds_item *c = push(&p, "points");                /* series with y of two, no series_by */
    c->kind = DS_KIND_CHART;
    c->shape = DS_SHAPE_SERIES;
    c->x = strdup("day");
    c->y = strs(2, "a", "b");
    c->ny = 2;
    c->fill = strdup("null");
    ds_item *e = push(&p, "every_col");             /* series, y defaulted */
    e->shape = DS_SHAPE_SERIES;
    e->x = strdup("day");
    e->fill = strdup("-1");
    e->description = strdup("");

    int changed = -1;
    ck_assert_int_eq(ds_plan_store(db, &p, &changed, &d), 0);
    ck_assert_int_eq(changed, 1);
    ck_assert_uint_eq(d.n, 0);
    int lr = ds_plan_load(db, &back, &d);
    ck_assert_msg(lr == 0, "load: %s", d.n ? d.v[0].msg : "?");
    ck_assert_uint_eq(back.n, 4);
    /* Ordered by key. */
    ck_assert_str_eq(back.items[0].key, "every_col");
    ck_assert_str_eq(back.items[1].key, "funnel");
    ck_assert_str_eq(back.items[2].key, "hourly_status");
    ck_assert_str_eq(back.items[3].key, "points");
    assert_same_item(e, &back.items[0]);
    assert_same_item(b, &back.items[1]);
    assert_same_item(a, &back.items[2]);
    assert_same_item(c, &back.items[3]);

    /* Storing what was loaded changes nothing. */
    ck_assert_int_eq(ds_plan_store(db, &back, &changed, &d), 0);
    ck_assert_int_eq(changed, 0);

    /* The row itself: source, version, JSON encodings a person can read. */
    sqlite3 *h = ds_sqlite_handle(db);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT source, sqlite_version, params, tags, options, group_name,"
                                           " length(compiled_at) FROM dashspec_plan WHERE key = 'hourly_status'",
                                        -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "specs/c:o:lon/x.yaml:123");
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 1), sqlite3_libversion());
    ck_assert_ptr_nonnull(strstr((const char *)sqlite3_column_text(st, 2),
                                 "{\"hours\":48,\"max\":9223372036854775807,\"min\":-9223372036854775808,"
                                 "\"big\":9007199254740993,\"ratio\":0.1,\"three\":3.0,"));
    ck_assert_ptr_nonnull(strstr((const char *)sqlite3_column_text(st, 2), "\"on\":true,\"off\":false,"));
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 3), "[\"ops\",\"sales-2\",\"a_b\"]");
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 4),
                     "{\"x\":\"hour\",\"y\":[\"n\"],\"series_by\":\"status\",\"fill\":\"0.0\"}");
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 5), "overview");
    ck_assert_int_eq(sqlite3_column_int(st, 6), 19);
    sqlite3_finalize(st);
    /* Valid JSON for SQLite's own parser too. */
    char *bad = NULL;
    ck_assert_int_eq(sqlite3_exec(h, "SELECT json(params), json(tags), json(options) FROM dashspec_plan",
                                  NULL, NULL, &bad), SQLITE_OK);
    sqlite3_free(bad);

    ds_plan_free(&back);
    ds_plan_free(&p);
    ds_diag_free(&d);
    ds_db_close(db);
}
END_TEST

static char *q1(ds_db *db, const char *sql)
{
    sqlite3_stmt *st;
    char *r = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(ds_sqlite_handle(db), sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        r = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return r;
}

START_TEST(changed_flag_and_old_keys)
{
    ds_db *db = migrated();
    ds_plan p;
    ds_diag d;
    int changed = -1;
    ds_plan_init(&p);
    ds_diag_init(&d);
    push(&p, "a");
    push(&p, "b");
    push(&p, "c");
    ck_assert_int_eq(ds_plan_store(db, &p, &changed, &d), 0);
    ck_assert_int_eq(changed, 1);
    /* Mark every row; an unchanged store must not touch them. */
    ck_assert_int_eq(sqlite3_exec(ds_sqlite_handle(db), "UPDATE dashspec_plan SET compiled_at = 'old'", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(ds_plan_store(db, &p, &changed, &d), 0);
    ck_assert_int_eq(changed, 0);
    char *s = q1(db, "SELECT group_concat(compiled_at) FROM dashspec_plan");
    ck_assert_str_eq(s, "old,old,old");
    free(s);
    /* One field of one item differs: that row is rewritten, the others stay. */
    p.items[1].ttl = 901;
    ck_assert_int_eq(ds_plan_store(db, &p, &changed, &d), 0);
    ck_assert_int_eq(changed, 1);
    s = q1(db, "SELECT group_concat(key) FROM dashspec_plan WHERE compiled_at = 'old' ORDER BY key");
    ck_assert_str_eq(s, "a,c");
    free(s);
    s = q1(db, "SELECT ttl FROM dashspec_plan WHERE key = 'b'");
    ck_assert_str_eq(s, "901");
    free(s);
    /* A key gone from the specs loses its row; that counts as a change. */
    ds_item_free(&p.items[0]);
    memmove(&p.items[0], &p.items[1], 2 * sizeof p.items[0]);
    p.n = 2;
    ck_assert_int_eq(ds_plan_store(db, &p, &changed, &d), 0);
    ck_assert_int_eq(changed, 1);
    s = q1(db, "SELECT group_concat(key) FROM (SELECT key FROM dashspec_plan ORDER BY key)");
    ck_assert_str_eq(s, "b,c");
    free(s);
    /* Params changing type only (3 vs 3.0) is a change. */
    param(&p.items[0], "v", DS_PARAM_INT, 3, 0, NULL);
    ck_assert_int_eq(ds_plan_store(db, &p, &changed, &d), 0);
    ck_assert_int_eq(changed, 1);
    p.items[0].params[0].type = DS_PARAM_REAL;
    p.items[0].params[0].r = 3.0;
    ck_assert_int_eq(ds_plan_store(db, &p, &changed, &d), 0);
    ck_assert_int_eq(changed, 1);
    ds_plan back;
    ck_assert_int_eq(ds_plan_load(db, &back, &d), 0);
    ck_assert_int_eq(back.items[0].params[0].type, DS_PARAM_REAL);
    ds_plan_free(&back);
    /* An empty plan empties the table. */
    ds_plan empty;
    ds_plan_init(&empty);
    ck_assert_int_eq(ds_plan_store(db, &empty, &changed, &d), 0);
    ck_assert_int_eq(changed, 1);
    s = q1(db, "SELECT count(*) FROM dashspec_plan");
    ck_assert_str_eq(s, "0");
    free(s);
    ck_assert_uint_eq(d.n, 0);
    ds_plan_free(&p);
    ds_diag_free(&d);
    ds_db_close(db);
}
END_TEST

START_TEST(store_is_one_transaction)
{
    ds_db *db = migrated();
    ds_plan p;
    ds_diag d;
    int changed = -1;
    ds_plan_init(&p);
    ds_diag_init(&d);
    push(&p, "old");
    ck_assert_int_eq(ds_plan_store(db, &p, &changed, &d), 0);
    ds_plan_free(&p);
    /* In-memory connections keep triggers: make the last insert fail after
     * the delete of 'old' and the insert of 'a' already happened. */
    ck_assert_int_eq(sqlite3_exec(ds_sqlite_handle(db),
        "CREATE TRIGGER boom BEFORE INSERT ON dashspec_plan WHEN NEW.key = 'z'"
        " BEGIN SELECT RAISE(ABORT, 'boom'); END", NULL, NULL, NULL), SQLITE_OK);
    ds_plan_init(&p);
    push(&p, "a");
    push(&p, "z");
    ck_assert_int_eq(ds_plan_store(db, &p, &changed, &d), -1);
    ck_assert_int_eq(changed, 0);
    ck_assert_int_eq(d.status, DS_DBERROR);
    ck_assert_ptr_nonnull(strstr(d.v[0].msg, "boom"));
    char *s = q1(db, "SELECT group_concat(key) FROM dashspec_plan");
    ck_assert_str_eq(s, "old");
    free(s);
    /* And the connection is usable: no transaction left open. */
    ck_assert_int_eq(sqlite3_get_autocommit(ds_sqlite_handle(db)), 1);
    ds_plan_free(&p);
    ds_diag_free(&d);
    ds_db_close(db);
}
END_TEST

START_TEST(bad_items_are_never_stored)
{
    ds_db *db = migrated();
    ds_plan p;
    ds_diag d;
    int changed = -1;
    ds_plan_init(&p);
    ds_diag_init(&d);
    push(&p, "a");
    push(&p, "b")->bad = 1;
    ck_assert_int_eq(ds_plan_store(db, &p, &changed, &d), -1);
    ck_assert_uint_eq(d.nerrors, 1);
    char *s = q1(db, "SELECT count(*) FROM dashspec_plan");
    ck_assert_str_eq(s, "0");
    free(s);
    ds_plan_free(&p);
    ds_diag_free(&d);
    ds_db_close(db);
}
END_TEST

START_TEST(load_without_table_and_damaged_rows)
{
    ds_db *db = NULL;
    ds_plan p;
    ds_diag d;
    ds_diag_init(&d);
    ck_assert_int_eq(ds_db_open(NULL, DS_DB_MEMORY, &db, &d), 0);
    /* Never migrated: an empty plan, not an error. */
    ck_assert_int_eq(ds_plan_load(db, &p, &d), 0);
    ck_assert_uint_eq(p.n, 0);
    ck_assert_uint_eq(d.n, 0);
    ds_plan_free(&p);
    ck_assert_int_eq(ds_db_migrate(db, &d), 0);
    const char *bad[] = {
        "'{\"a\":}'", "'{\"a\":1'", "'{\"a\":1e}'", "'{\"a\":99999999999999999999}'", "'[1]'",
        "'{\"a\":{\"real\":\"zero\"}}'", "'{\"a\":nul}'", NULL
    };
    for (size_t i = 0; bad[i]; i++) {
        char sql[512];
        snprintf(sql, sizeof sql,
                 "DELETE FROM dashspec_plan; INSERT INTO dashspec_plan (key, kind, shape, sql, params, ttl, refresh,"
                 " timeout, max_rows, max_bytes, source, spec_hash, sqlite_version, compiled_at)"
                 " VALUES ('k', 'metric', 'rows', 'SELECT 1', %s, 1, 1, 1, 1, 1, 'f:1', 'h', 'v', 't')", bad[i]);
        ck_assert_int_eq(sqlite3_exec(ds_sqlite_handle(db), sql, NULL, NULL, NULL), SQLITE_OK);
        ds_diag_init(&d);
        ck_assert_msg(ds_plan_load(db, &p, &d) == -1, "params %s loaded", bad[i]);
        ck_assert_uint_eq(p.n, 0);
        ck_assert_int_eq(d.status, DS_DBERROR);
        ck_assert_ptr_nonnull(strstr(d.v[0].msg, "damaged"));
        ds_diag_free(&d);
    }
    /* A hand-written row with extra spaces and escapes still loads. */
    ck_assert_int_eq(sqlite3_exec(ds_sqlite_handle(db),
        "UPDATE dashspec_plan SET params = ' { \"a\" : \"\\u00e9\\ud83d\\ude00\" , \"b\" : -5 } ',"
        " tags = ' [ ] ', options = ' { } ', source = 'nocolon'", NULL, NULL, NULL), SQLITE_OK);
    ds_diag_init(&d);
    ck_assert_int_eq(ds_plan_load(db, &p, &d), 0);
    ck_assert_uint_eq(p.n, 1);
    ck_assert_str_eq(p.items[0].params[0].s, "é😀");
    ck_assert(p.items[0].params[1].i == -5);
    ck_assert_str_eq(p.items[0].file, "nocolon");
    ck_assert_int_eq(p.items[0].line, 0);
    ds_plan_free(&p);
    ds_diag_free(&d);
    ds_db_close(db);
}
END_TEST

/* Loading a plan grows tags and params geometrically (ds_vec): 100k tags
 * and 2k params take a logarithmic number of reallocations, not one each
 * (one each was quadratic: over 30 s under ASan). */
START_TEST(load_many_tags_grows_geometrically)
{
    enum { NTAGS = 100000, NPARAMS = 2000 };
    ds_db *db = migrated();
    ds_plan p, back;
    ds_diag d;
    int changed = -1;
    ds_plan_init(&p);
    ds_diag_init(&d);
    ds_item *it = push(&p, "many");
    it->tags = calloc(NTAGS, sizeof *it->tags);
    ck_assert_ptr_nonnull(it->tags);
    for (size_t i = 0; i < NTAGS; i++) {
        char t[16];
        snprintf(t, sizeof t, "t%06zu", i);
        it->tags[it->ntags++] = strdup(t);
    }
    for (int i = 0; i < NPARAMS; i++) {
        char n[16];
        snprintf(n, sizeof n, ":p%d", i);
        param(it, n, DS_PARAM_INT, i, 0, NULL);
    }
    ck_assert_int_eq(ds_plan_store(db, &p, &changed, &d), 0);
    unsigned long before = ds_vec_growths();
    ck_assert_int_eq(ds_plan_load(db, &back, &d), 0);
    unsigned long growths = ds_vec_growths() - before;
    ck_assert_uint_eq(back.n, 1);
    ck_assert_uint_eq(back.items[0].ntags, NTAGS);
    ck_assert_str_eq(back.items[0].tags[NTAGS - 1], "t099999");
    ck_assert_uint_eq(back.items[0].nparams, NPARAMS);
    ck_assert(back.items[0].params[NPARAMS - 1].i == NPARAMS - 1);
    /* log2(100000 / 16) + log2(2000 / 16) is about 20; one per element is 102000. */
    ck_assert_msg(growths > 0 && growths <= 40, "%lu reallocations", growths);
    ds_plan_free(&back);
    ds_plan_free(&p);
    ds_diag_free(&d);
    ds_db_close(db);
}
END_TEST

Suite *plan_suite(void)
{
    Suite *s = suite_create("plan");
    TCase *tc = tcase_create("plan");
    /* In-memory work only, every test well under 0.1 s here; 30 s is a hang
     * detector with room for valgrind (about 50 times slower). */
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, round_trip_every_field);
    tcase_add_test(tc, changed_flag_and_old_keys);
    tcase_add_test(tc, store_is_one_transaction);
    tcase_add_test(tc, bad_items_are_never_stored);
    tcase_add_test(tc, load_without_table_and_damaged_rows);
    tcase_add_test(tc, load_many_tags_grows_geometrically);
    suite_add_tcase(s, tc);
    return s;
}

/*
 * check_pg_examples.c — the example dashboard on both engines: the example
 * data (examples/make-db.sh, scale 0.01) in SQLite and, through
 * examples/postgres/load.sh, in a live throwaway PostgreSQL; every item of
 * examples/postgres/specs passes the read-only pre-check, is described and
 * run through the PostgreSQL modules, and gives row for row the same JSON
 * cells as its original in specs/ gives on SQLite.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "postgres/ds_pg.h"
#include "ds_test.h"
#include "ds_test_pg.h"

#define REF "2026-02-12 10:00:00"

/* Appends one SQLite row as JSON cells, the way the runtime renders them. */
static void sqlite_row(sqlite3_stmt *st, ds_buf *out)
{
    int n = sqlite3_column_count(st);
    for (int i = 0; i < n; i++) {
        ds_buf_adds(out, i ? "," : "[");
        switch (sqlite3_column_type(st, i)) {
        case SQLITE_INTEGER: ds_json_int(out, sqlite3_column_int64(st, i)); break;
        case SQLITE_FLOAT: ds_json_double(out, sqlite3_column_double(st, i)); break;
        case SQLITE_TEXT:
            ds_json_string(out, (const char *)sqlite3_column_text(st, i), (size_t)sqlite3_column_bytes(st, i));
            break;
        case SQLITE_NULL: ds_buf_adds(out, "null"); break;
        default: ck_abort_msg("blob in the example");
        }
    }
    ds_buf_adds(out, "]\n");
}

/* The rows of item key (from specs/) on the SQLite example database. */
static void sqlite_rows(sqlite3 *db, const ds_item *it, ds_buf *out)
{
    sqlite3_stmt *st = NULL;
    ck_assert_msg(sqlite3_prepare_v2(db, it->query, -1, &st, NULL) == SQLITE_OK, "%s: %s", it->key,
                  sqlite3_errmsg(db));
    for (size_t k = 0; k < it->nparams; k++) {
        const ds_param *p = &it->params[k];
        char name[128];
        snprintf(name, sizeof name, ":%s", p->name);
        int ix = sqlite3_bind_parameter_index(st, name);
        if (!ix) continue;
        if (p->type == DS_PARAM_REAL) sqlite3_bind_double(st, ix, p->r);
        else if (p->type == DS_PARAM_TEXT) sqlite3_bind_text(st, ix, p->s, -1, SQLITE_STATIC);
        else sqlite3_bind_int64(st, ix, p->i);
    }
    int ix = sqlite3_bind_parameter_index(st, ":now");
    if (ix) sqlite3_bind_text(st, ix, REF, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) sqlite_row(st, out);
    sqlite3_finalize(st);
}

static int on_row(void *ctx, int ncols, const ds_pg_cell *cells, char **err)
{
    ds_buf *out = ctx;
    for (int i = 0; i < ncols; i++) {
        ds_buf_adds(out, i ? "," : "[");
        ds_buf_add(out, cells[i].json, cells[i].json_len);
    }
    ds_buf_adds(out, "]\n");
    return 0;
}

/* Checks, describes and runs one PostgreSQL item; appends its rows. */
static void pg_rows(PGconn *c, const ds_item *it, ds_buf *out)
{
    char *why = NULL;
    size_t pos = 0;
    ck_assert_msg(ds_pg_sql_readonly(it->query, strlen(it->query), &why, &pos) == 1, "%s: %s", it->key, why);
    ds_pg_sql q;
    ck_assert_msg(ds_pg_sql_rewrite(it->query, strlen(it->query), &q, &why, &pos) == 0, "%s: %s", it->key, why);
    ds_pg_ptype *types = calloc((size_t)q.nparams + 1, sizeof *types);
    const char **vals = calloc((size_t)q.nparams + 1, sizeof *vals);
    char **own = calloc((size_t)q.nparams + 1, sizeof *own);
    char now[32];
    ds_pg_format_now(1770890400, now);              /* REF */
    ck_assert_str_eq(now, REF "+00");
    for (int i = 0; i < q.nparams; i++) {
        const ds_param *p = NULL;
        for (size_t k = 0; k < it->nparams; k++)
            if (strcmp(it->params[k].name, q.names[i]) == 0) p = &it->params[k];
        if (!p) {
            ck_assert_msg(strcmp(q.names[i], "now") == 0, "%s: no value for :%s", it->key, q.names[i]);
            types[i] = DS_PGP_TIMESTAMPTZ;
            vals[i] = now;
            continue;
        }
        switch (p->type) {
        case DS_PARAM_INT: types[i] = DS_PGP_INT; own[i] = ds_asprintf("%lld", (long long)p->i); break;
        case DS_PARAM_REAL: types[i] = DS_PGP_REAL; own[i] = ds_asprintf("%.17g", p->r); break;
        case DS_PARAM_BOOL: types[i] = DS_PGP_BOOL; own[i] = ds_strdup(p->i ? "t" : "f"); break;
        default: types[i] = DS_PGP_TEXT; own[i] = ds_strdup(p->s); break;
        }
        vals[i] = own[i];
    }
    ds_pg_desc d;
    ds_pg_err e = {0};
    ck_assert_msg(ds_pg_describe(c, &q, types, &d, &e) == 0, "%s: describe: %s (at %ld)", it->key, e.msg, e.offset);
    for (int i = 0; i < d.ncols; i++)
        ck_assert_msg(ds_pg_type_class(d.cols[i].type) != DS_PGC_UNSUPPORTED, "%s: %s", it->key,
                      ds_pg_type_advice(d.cols[i].type, d.cols[i].type_name, d.cols[i].name));
    ck_assert_msg(ds_pg_exec(c, &q, types, vals, 10000, 0, NULL, on_row, NULL, out, &e) == 0, "%s: run: %s (at %ld)",
                  it->key, e.msg, e.offset);
    ds_pg_desc_free(&d);
    for (int i = 0; i < q.nparams; i++) free(own[i]);
    free(own);
    free(vals);
    free(types);
    ds_pg_sql_free(&q);
}

/* Index of key in p, or -1. */
static long find(const ds_plan *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->items[i].key, key) == 0) return (long)i;
    return -1;
}

START_TEST(example_dashboard_same_rows)
{
    DS_PG_REQUIRE();
    /* DS_PG_EXAMPLE_SCALE=1 compares at full example size (slower) */
    const char *scale = getenv("DS_PG_EXAMPLE_SCALE") ? getenv("DS_PG_EXAMPLE_SCALE") : "0.01";
    char *tmp = ds_tmpdir();
    char *dbpath = ds_asprintf("%s/app.db", tmp);
    char *cmd = ds_asprintf("sh '%s/examples/make-db.sh' '%s' '%s' >/dev/null", getenv("DS_ROOT"), dbpath, scale);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    ds_pg_test_sql("CREATE DATABASE examples");
    char *ci = ds_asprintf("%s dbname=examples", ds_pg_test_conninfo());
    cmd = ds_asprintf("sh '%s/examples/postgres/load.sh' '%s' '%s' >/dev/null", getenv("DS_ROOT"), ci, scale);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);

    ds_plan lite, pg;
    ds_diag d;
    ds_plan_init(&lite);
    ds_plan_init(&pg);
    ds_diag_init(&d);
    char *dir = ds_src("specs");
    ck_assert_int_eq(ds_spec_load_dir(dir, &lite, &d), 0);
    free(dir);
    dir = ds_src("examples/postgres/specs");
    ck_assert_int_eq(ds_spec_load_dir(dir, &pg, &d), 0);
    free(dir);
    ck_assert_uint_eq(pg.n, lite.n);
    ck_assert_uint_ge(pg.n, 18);

    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    ds_diag_free(&d);
    ds_diag_init(&d);
    PGconn *c = ds_pg_connect(ci, &d);
    ck_assert_ptr_nonnull(c);
    size_t nonempty = 0;
    for (size_t i = 0; i < pg.n; i++) {
        const ds_item *it = &pg.items[i];
        long j = find(&lite, it->key);
        ck_assert_msg(j >= 0, "%s is not in specs/", it->key);
        ck_assert_int_eq(it->shape, lite.items[j].shape);
        ds_buf a, b;
        ds_buf_init(&a);
        ds_buf_init(&b);
        sqlite_rows(db, &lite.items[j], &a);
        pg_rows(c, it, &b);
        ck_assert_msg(strcmp(a.p ? a.p : "", b.p ? b.p : "") == 0, "%s differs:\nsqlite:\n%s\npostgres:\n%s",
                      it->key, a.p ? a.p : "", b.p ? b.p : "");
        nonempty += a.len > 0;
        ds_buf_free(&a);
        ds_buf_free(&b);
    }
    ck_assert_uint_eq(nonempty, pg.n);
    PQfinish(c);
    sqlite3_close(db);
    ds_diag_free(&d);
    ds_plan_free(&lite);
    ds_plan_free(&pg);
    free(ci);
    free(dbpath);
    ds_tmp_cleanup(tmp);
}
END_TEST

Suite *pg_examples_suite(void)
{
    Suite *s = suite_create("pg_examples");
    TCase *t = tcase_create("examples");
    ds_pg_test_fixture(t);
    tcase_set_timeout(t, 300);
    tcase_add_test(t, example_dashboard_same_rows);
    suite_add_tcase(s, t);
    return s;
}

/*
 * check_sql.c — the SQL half of the compiler: the scanner, every rule of
 * ds_sql_validate with and without a schema, where each error points, the
 * authorizer, and the query-plan lint.
 *
 * Items are built by hand here (file "t.yaml", the query as a `|` block
 * starting on line 6, column 7) so these tests do not depend on the loader;
 * tests/check_fixtures.c covers the same rules end to end through YAML.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ds_compiler.h"
#include "ds_test.h"
#include "sqlite/sqlite_int.h"

/* ---------------------------------------------------------------- helpers */

#define QLINE 6     /* first line of the query's `|` block */
#define QCOL 7      /* its indentation + 1 */

/* Appends an item whose query sits in a `|` block: line i of the query starts
 * at (QLINE + i, QCOL). Shape at 4:12, x/y/series_by at 7..9, params at 10. */
static ds_item *add(ds_plan *p, const char *key, ds_shape shape, const char *query)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 8;
        p->items = realloc(p->items, p->cap * sizeof *p->items);
        ck_assert_ptr_nonnull(p->items);
    }
    ds_item *it = &p->items[p->n++];
    memset(it, 0, sizeof *it);
    it->key = strdup(key);
    it->shape = shape;
    it->query = strdup(query);
    it->file = strdup("t.yaml");
    it->line = 3;
    it->ttl = 600;
    it->refresh = 400;
    it->m_item = (ds_mark){3, 5};
    it->m_key = (ds_mark){3, 10};
    it->m_shape = (ds_mark){4, 12};
    it->m_query = (ds_mark){5, 12};
    it->m_x = (ds_mark){20, 8};
    it->m_y = (ds_mark){21, 8};
    it->m_series_by = (ds_mark){22, 16};
    it->m_params = (ds_mark){23, 13};
    size_t lines = 1;
    for (const char *c = query; *c; c++) if (*c == '\n' && c[1]) lines++;
    it->qlines = calloc(lines, sizeof *it->qlines);
    for (size_t i = 0; i < lines; i++) it->qlines[i] = (ds_mark){QLINE + (int)i, QCOL};
    it->nqlines = lines;
    return it;
}

static void add_param(ds_item *it, const char *name, int64_t v, int line)
{
    it->params = realloc(it->params, (it->nparams + 1) * sizeof *it->params);
    ds_param *pa = &it->params[it->nparams++];
    memset(pa, 0, sizeof *pa);
    pa->name = strdup(name);
    pa->type = DS_PARAM_INT;
    pa->i = v;
    pa->mark = (ds_mark){line, 7};
}

static void set_series(ds_item *it, const char *x, const char *y1, const char *y2, const char *by)
{
    it->x = x ? strdup(x) : NULL;
    it->series_by = by ? strdup(by) : NULL;
    it->fill = strdup("null");
    if (y1) {
        it->ny = y2 ? 2 : 1;
        it->y = calloc(it->ny, sizeof *it->y);
        it->m_ys = calloc(it->ny, sizeof *it->m_ys);
        it->y[0] = strdup(y1);
        it->m_ys[0] = (ds_mark){21, 10};
        if (y2) { it->y[1] = strdup(y2); it->m_ys[1] = (ds_mark){21, 15}; }
    }
}

static ds_db *schema(void)
{
    ds_diag d;
    ds_db *db = NULL;
    ds_diag_init(&d);
    ck_assert_int_eq(ds_db_open(NULL, DS_DB_MEMORY, &db, &d), 0);
    char *path = ds_src("tests/fixtures/schema.sql");
    char *sql = ds_read_file(path, NULL);
    ck_assert_ptr_nonnull(sql);
    ck_assert_int_eq(ds_db_exec_script(db, "schema.sql", sql, &d), 0);
    free(sql);
    free(path);
    ds_diag_free(&d);
    return db;
}

/* Validates one query as a rows item (with db or without) and returns the
 * diagnostics; *bad receives the item's flag. */
static void one(ds_db *db, ds_shape shape, const char *query, ds_diag *d, int *bad)
{
    ds_plan p;
    ds_plan_init(&p);
    add(&p, "k", shape, query);
    ds_diag_init(d);
    int rc = ds_sql_validate(db, &p, d);
    ck_assert_int_eq(rc, d->nerrors ? -1 : 0);
    *bad = p.items[0].bad;
    ds_plan_free(&p);
}

/* Asserts there is an error containing `msg` at line:col, and returns how
 * many errors there are in all. */
static void has(const ds_diag *d, int line, int col, const char *msg)
{
    for (size_t i = 0; i < d->n; i++) {
        const ds_diag_entry *e = &d->v[i];
        if (strstr(e->msg, msg) && e->line == line && e->col == col) {
            ck_assert_str_eq(e->file, "t.yaml");
            ck_assert_str_eq(e->key, "k");
            return;
        }
    }
    char *all = ds_diag_render(d, DS_FMT_TEXT);
    ck_abort_msg("no diagnostic '%s' at %d:%d; got:\n%s", msg, line, col, all);
    free(all);
}

/* Exactly one error: msg at line:col. */
static void only(ds_db *db, ds_shape shape, const char *query, int line, int col, const char *msg)
{
    ds_diag d;
    int bad;
    one(db, shape, query, &d, &bad);
    has(&d, line, col, msg);
    char *all = ds_diag_render(&d, DS_FMT_TEXT);
    ck_assert_msg(d.nerrors == 1, "expected one error for %s, got:\n%s", query, all);
    free(all);
    ck_assert_int_eq(bad, 1);
    ds_diag_free(&d);
}

static void clean(ds_db *db, ds_shape shape, const char *query)
{
    ds_diag d;
    int bad;
    one(db, shape, query, &d, &bad);
    char *all = ds_diag_render(&d, DS_FMT_TEXT);
    ck_assert_msg(d.nerrors == 0, "unexpected errors for %s:\n%s", query, all);
    free(all);
    ck_assert_int_eq(bad, 0);
    ds_diag_free(&d);
}

/* ---------------------------------------------------------------- scanner */

START_TEST(scan_skips_strings_comments_identifiers)
{
    ds_sql_scan s;
    const char *q = "SELECT ':no', \":no\", `:no`, [:no] -- :no ?\n"
                    "/* :no ; ? */ , :yes, @at, $dollar, $a::b, x'3a6e6f'\n";
    ck_assert_int_eq(ds_sql_scan_query(q, &s), 0);
    ck_assert_str_eq(s.verb, "SELECT");
    ck_assert_int_eq(s.second, -1);
    ck_assert_int_eq(s.unterminated, -1);
    ck_assert_uint_eq(s.nparams, 4);
    ck_assert_str_eq(s.params[0].text, ":yes");
    ck_assert_uint_eq(s.params[0].off, (size_t)(strstr(q, ":yes") - q));
    ck_assert_str_eq(s.params[1].text, "@at");
    ck_assert_str_eq(s.params[2].text, "$dollar");
    ck_assert_str_eq(s.params[3].text, "$a::b");
    ck_assert_int_eq(s.params[0].positional, 0);
    ds_sql_scan_free(&s);
}
END_TEST

START_TEST(scan_statements_and_verbs)
{
    ds_sql_scan s;
    const char *q = "  -- lead\n SELECT 1; -- trailing\n /* c */ ;; ";
    ck_assert_int_eq(ds_sql_scan_query(q, &s), 0);
    ck_assert_int_eq(s.second, -1);
    ck_assert_uint_eq(s.start, (size_t)(strstr(q, "SELECT") - q));
    ds_sql_scan_free(&s);

    q = "SELECT 1;\n  select 2";
    ck_assert_int_eq(ds_sql_scan_query(q, &s), 0);
    ck_assert_int_eq(s.second, (long)(strstr(q, "select 2") - q));
    ds_sql_scan_free(&s);

    q = "SELECT ';' AS semi, \"a;b\" FROM t -- ;x\n";
    ck_assert_int_eq(ds_sql_scan_query(q, &s), 0);
    ck_assert_int_eq(s.second, -1);
    ds_sql_scan_free(&s);

    q = "with recursive c(x) as (select 1 union all select x + 1 from c) delete from sites";
    ck_assert_int_eq(ds_sql_scan_query(q, &s), 0);
    ck_assert_str_eq(s.verb, "DELETE");
    ds_sql_scan_free(&s);

    q = "WITH a AS (VALUES (1)) SELECT * FROM a";
    ck_assert_int_eq(ds_sql_scan_query(q, &s), 0);
    ck_assert_str_eq(s.verb, "SELECT");
    ds_sql_scan_free(&s);

    q = "pragma table_info(sites)";
    ck_assert_int_eq(ds_sql_scan_query(q, &s), 0);
    ck_assert_str_eq(s.verb, "PRAGMA");
    ds_sql_scan_free(&s);

    q = "-- only a comment";
    ck_assert_int_eq(ds_sql_scan_query(q, &s), 0);
    ck_assert_uint_eq(s.start, strlen(q));
    ck_assert_str_eq(s.verb, "");
    ds_sql_scan_free(&s);

    q = "SELECT 'open";
    ck_assert_int_eq(ds_sql_scan_query(q, &s), 0);
    ck_assert_int_eq(s.unterminated, 7);
    ds_sql_scan_free(&s);

    q = "SELECT ?, ?12, 1.5e+3, .5, 0x1F /* open";
    ck_assert_int_eq(ds_sql_scan_query(q, &s), 0);
    ck_assert_uint_eq(s.nparams, 2);
    ck_assert_str_eq(s.params[0].text, "?");
    ck_assert_str_eq(s.params[1].text, "?12");
    ck_assert_int_eq(s.params[1].positional, 1);
    ck_assert_int_eq(s.unterminated, -1);
    ds_sql_scan_free(&s);
}
END_TEST

/* ---------------------------------------------------------------- rules without a schema */

START_TEST(text_rules_without_db)
{
    /* A second statement points at its own start: line 2 of the block. */
    only(NULL, DS_SHAPE_ROWS, "SELECT 1;\n  SELECT 2\n", QLINE + 1, QCOL + 2, "a second SQL statement");
    only(NULL, DS_SHAPE_ROWS, "INSERT INTO sites (domain) VALUES ('x')\n", 5, 12,
         "statement is not read-only: INSERT is not allowed");
    only(NULL, DS_SHAPE_ROWS, "PRAGMA table_info(sites)", 5, 12, "PRAGMA is not allowed");
    only(NULL, DS_SHAPE_ROWS, "explain select 1", 5, 12, "EXPLAIN is not allowed");
    only(NULL, DS_SHAPE_ROWS, "WITH a AS (SELECT 1) UPDATE sites SET status = 'x'", 5, 12, "UPDATE is not allowed");
    only(NULL, DS_SHAPE_ROWS, "SELEC 1", 5, 12, "must start with SELECT, WITH or VALUES");
    only(NULL, DS_SHAPE_ROWS, "SELECT id FROM sites WHERE id = ?", 5, 12, "positional parameter '?'");
    only(NULL, DS_SHAPE_ROWS, "SELECT id FROM sites WHERE id = ?1 OR id = ?2", 5, 12, "positional parameter '?1'");
    only(NULL, DS_SHAPE_ROWS, "  -- nothing\n", 5, 12, "no SQL statement");
    only(NULL, DS_SHAPE_ROWS, "SELECT 'abc", QLINE, QCOL + 7, "unterminated string");
    clean(NULL, DS_SHAPE_ROWS, "SELECT :now AS t, 'a;b' AS s; -- done\n");
    clean(NULL, DS_SHAPE_ROWS, "VALUES (1, 2)");
}
END_TEST

START_TEST(params_without_db)
{
    ds_plan p;
    ds_diag d;
    ds_plan_init(&p);
    ds_diag_init(&d);
    /* :hours used on the third line and declared; :days used, not declared;
     * "unused" declared, not used; :now is built in. */
    ds_item *it = add(&p, "k", DS_SHAPE_ROWS,
                      "SELECT count(*) AS n\n"
                      "FROM sites\n"
                      "WHERE created_at >= datetime(:now, '-' || :hours || ' hours')\n"
                      "  AND updated_at >= datetime(:now, '-' || @days || ' days')\n"
                      "  OR created_at > $days\n");
    add_param(it, "hours", 48, 24);
    add_param(it, "unused", 1, 25);
    ck_assert_int_eq(ds_sql_validate(NULL, &p, &d), -1);
    ck_assert_int_eq(p.items[0].bad, 1);
    ck_assert_uint_eq(d.nerrors, 2);
    /* "  AND updated_at >= datetime(:now, '-' || @days" — @days at byte 42 of line 4. */
    has(&d, QLINE + 3, QCOL + 42, "parameter '@days' is not declared in params");
    has(&d, 25, 7, "parameter 'unused' is declared in params but not used");
    ds_diag_free(&d);
    ds_plan_free(&p);

    /* A declared parameter used as @name or $name counts as used. */
    ds_plan_init(&p);
    ds_diag_init(&d);
    it = add(&p, "k", DS_SHAPE_ROWS, "SELECT @a AS a, $b AS b");
    add_param(it, "a", 1, 24);
    add_param(it, "b", 2, 25);
    ck_assert_int_eq(ds_sql_validate(NULL, &p, &d), 0);
    ck_assert_uint_eq(d.nerrors, 0);
    ds_diag_free(&d);
    ds_plan_free(&p);
}
END_TEST

START_TEST(items_already_bad_are_skipped)
{
    ds_plan p;
    ds_diag d;
    ds_plan_init(&p);
    ds_diag_init(&d);
    add(&p, "k", DS_SHAPE_ROWS, "DELETE FROM sites")->bad = 1;
    add(&p, "k", DS_SHAPE_ROWS, "SELECT 1 AS one");
    ck_assert_int_eq(ds_sql_validate(NULL, &p, &d), 0);
    ck_assert_uint_eq(d.n, 0);
    ck_assert_int_eq(p.items[1].bad, 0);
    ds_diag_free(&d);
    ds_plan_free(&p);
}
END_TEST

/* ---------------------------------------------------------------- rules with a schema */

START_TEST(prepare_errors_point_at_the_token)
{
    ds_db *db = schema();
    /* Misspelt column on the third line of the block, after two spaces. */
    only(db, DS_SHAPE_ROWS, "SELECT id,\n  domain,\n  statuz\nFROM sites\n", QLINE + 2, QCOL + 2,
         "no such column: statuz");
    /* SQLite gives no offset for a missing table: the name is searched in
     * the query (nothing in the schema is near 'nosuch': no suggestion). */
    only(db, DS_SHAPE_ROWS, "SELECT id FROM nosuch", QLINE, QCOL + 15, "no such table: nosuch");
    only(db, DS_SHAPE_ROWS, "SELECT 'sitez' FROM sitez", QLINE, QCOL + 20,
         "no such table: sitez; did you mean 'sites'?");
    only(db, DS_SHAPE_ROWS, "SELECT id\nFORM sites", QLINE + 1, QCOL + 5, "near \"sites\": syntax error");
    /* No offset: at the start of the query's value. */
    only(db, DS_SHAPE_ROWS, "SELECT id FROM", 5, 12, "incomplete input");
    /* Multi-byte characters count once in the column. */
    only(db, DS_SHAPE_ROWS, "SELECT 'héé' AS s, nope FROM sites", QLINE, QCOL + 19, "no such column: nope");
    ds_db_close(db);
}
END_TEST

START_TEST(authorizer_refusals)
{
    ds_db *db = schema();
    only(db, DS_SHAPE_ROWS, "PRAGMA table_info(sites)", 5, 12, "PRAGMA is not allowed");
    only(db, DS_SHAPE_ROWS, "ATTACH 'x.db' AS x", 5, 12, "ATTACH is not allowed");
    only(db, DS_SHAPE_ROWS, "BEGIN", 5, 12, "BEGIN is not allowed");
    only(db, DS_SHAPE_ROWS, "EXPLAIN SELECT 1", 5, 12, "EXPLAIN is not allowed");
    only(db, DS_SHAPE_ROWS, "CREATE TEMP TABLE t AS SELECT 1", 5, 12, "statement is not read-only: CREATE TEMP TABLE is not allowed");
    only(db, DS_SHAPE_ROWS, "DELETE FROM sites", 5, 12, "DELETE is not allowed");
    only(db, DS_SHAPE_ROWS, "VACUUM", 5, 12, "VACUUM is not allowed");
    /* Refused by the authorizer itself, not by the verb. */
    only(db, DS_SHAPE_ROWS, "SELECT load_extension('x') AS x", 5, 12, "function load_extension() is not allowed");
    only(db, DS_SHAPE_ROWS, "SELECT name FROM pragma_table_info('sites')", 5, 12, "PRAGMA (pragma_table_info) is not allowed");
    /* Reads, functions, table-valued JSON functions and recursive CTEs are fine. */
    clean(db, DS_SHAPE_ROWS, "SELECT value FROM json_each('[1,2]')");
    clean(db, DS_SHAPE_ROWS, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3) SELECT x FROM c");
    clean(db, DS_SHAPE_ROWS, "SELECT s.status, count(*) AS n FROM sites s JOIN messages m ON m.site_id = s.id GROUP BY 1");
    ds_db_close(db);
}
END_TEST

START_TEST(authorizer_direct)
{
    ds_sqlite_auth au = {""};
    ck_assert_int_eq(ds_sqlite_authorizer(&au, SQLITE_SELECT, NULL, NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(ds_sqlite_authorizer(&au, SQLITE_READ, "sites", "id", "main", NULL), SQLITE_OK);
    ck_assert_int_eq(ds_sqlite_authorizer(&au, SQLITE_FUNCTION, NULL, "count", NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(ds_sqlite_authorizer(&au, SQLITE_RECURSIVE, NULL, NULL, NULL, NULL), SQLITE_OK);
    ck_assert_str_eq(au.why, "");
    ck_assert_int_eq(ds_sqlite_authorizer(&au, SQLITE_INSERT, "sites", NULL, "main", NULL), SQLITE_DENY);
    ck_assert_str_eq(au.why, "statement is not read-only: INSERT into sites is not allowed");
    /* The first refusal is kept. */
    ck_assert_int_eq(ds_sqlite_authorizer(&au, SQLITE_ATTACH, "x", NULL, NULL, NULL), SQLITE_DENY);
    ck_assert_str_eq(au.why, "statement is not read-only: INSERT into sites is not allowed");
    /* A NULL context is allowed (the runtime needs no message). */
    ck_assert_int_eq(ds_sqlite_authorizer(NULL, SQLITE_PRAGMA, "journal_mode", NULL, NULL, NULL), SQLITE_DENY);
    ck_assert_int_eq(ds_sqlite_authorizer(NULL, SQLITE_TRANSACTION, "BEGIN", NULL, NULL, NULL), SQLITE_DENY);
    ck_assert_int_eq(ds_sqlite_authorizer(NULL, SQLITE_UPDATE, "sites", "status", "main", NULL), SQLITE_DENY);
    ck_assert_int_eq(ds_sqlite_authorizer(NULL, SQLITE_CREATE_TEMP_TABLE, "t", NULL, "temp", NULL), SQLITE_DENY);
}
END_TEST

START_TEST(statement_tail_and_columns)
{
    ds_db *db = schema();
    only(db, DS_SHAPE_ROWS, "SELECT id FROM sites;\nSELECT 2", QLINE + 1, QCOL, "a second SQL statement");
    clean(db, DS_SHAPE_ROWS, "SELECT id FROM sites; -- the end\n/* really */\n");
    only(db, DS_SHAPE_ROWS, "-- nothing here\n", 5, 12, "no SQL statement");
    only(db, DS_SHAPE_ROWS, "SELECT id, domain AS id FROM sites", 5, 12, "duplicate result column name 'id' (columns 1 and 2)");
    /* Names compare exactly: ID and id are two keys. */
    clean(db, DS_SHAPE_ROWS, "SELECT id, domain AS ID FROM sites");
    ds_db_close(db);
}
END_TEST

START_TEST(parameters_with_db)
{
    ds_db *db = schema();
    ds_plan p;
    ds_diag d;
    ds_plan_init(&p);
    ds_diag_init(&d);
    ds_item *it = add(&p, "k", DS_SHAPE_SCALAR,
                      "SELECT count(*)\nFROM sites\nWHERE created_at >= datetime(:now, '-' || :hours || ' hours')\n");
    add_param(it, "hours", 48, 24);
    ck_assert_int_eq(ds_sql_validate(db, &p, &d), 0);
    ck_assert_int_eq(it->bad, 0);
    ds_diag_free(&d);
    ds_plan_free(&p);

    only(db, DS_SHAPE_SCALAR, "SELECT count(*) FROM sites\nWHERE id > :min", QLINE + 1, QCOL + 11,
         "parameter ':min' is not declared");
    only(db, DS_SHAPE_SCALAR, "SELECT count(*) FROM sites WHERE id > ?", 5, 12, "positional parameter");
    ds_db_close(db);
}
END_TEST

START_TEST(shapes_against_columns)
{
    ds_db *db = schema();
    only(db, DS_SHAPE_SCALAR, "SELECT id, domain FROM sites", 4, 12, "shape scalar needs exactly 1 column; the query returns 2 (id, domain)");
    clean(db, DS_SHAPE_SCALAR, "SELECT count(*) FROM sites");
    only(db, DS_SHAPE_MAP, "SELECT status, count(*), max(id) FROM sites GROUP BY status", 4, 12,
         "shape map needs exactly 2 columns");
    clean(db, DS_SHAPE_MAP, "SELECT status, count(*) FROM sites GROUP BY status");
    clean(db, DS_SHAPE_ROW, "SELECT 1 AS a, 2 AS b, 3 AS c");
    ds_db_close(db);
}
END_TEST

/* One series item: x, y (0, 1 or 2 names), series_by over query. */
static void series(ds_db *db, const char *query, const char *x, const char *y1, const char *y2,
                   const char *by, int line, int col, const char *msg)
{
    ds_plan p;
    ds_diag d;
    ds_plan_init(&p);
    ds_diag_init(&d);
    ds_item *it = add(&p, "k", DS_SHAPE_SERIES, query);
    set_series(it, x, y1, y2, by);
    int rc = ds_sql_validate(db, &p, &d);
    if (msg) {
        ck_assert_int_eq(rc, -1);
        has(&d, line, col, msg);
        ck_assert_uint_eq(d.nerrors, 1);
        ck_assert_int_eq(p.items[0].bad, 1);
    } else {
        char *all = ds_diag_render(&d, DS_FMT_TEXT);
        ck_assert_msg(rc == 0 && d.nerrors == 0, "unexpected: %s", all);
        free(all);
        ck_assert_int_eq(p.items[0].bad, 0);
    }
    ds_diag_free(&d);
    ds_plan_free(&p);
}

START_TEST(series_columns)
{
    ds_db *db = schema();
    const char *q = "SELECT substr(created_at, 1, 10) AS day, status, count(*) AS n, max(id) AS top\n"
                    "FROM sites GROUP BY day, status";
    series(db, q, "day", "n", NULL, NULL, 0, 0, NULL);
    series(db, q, "day", NULL, NULL, NULL, 0, 0, NULL);            /* y = status, n, top */
    series(db, q, "day", "n", NULL, "status", 0, 0, NULL);
    series(db, q, "hour", "n", NULL, NULL, 20, 8, "x: no column 'hour' in the query's result (columns: day, status, n, top)");
    series(db, q, "day", "n", "nn", NULL, 21, 15, "y: no column 'nn'");
    series(db, q, "day", "n", NULL, "state", 22, 16, "series_by: no column 'state'");
    series(db, q, "day", NULL, NULL, "status", 4, 12, "series_by needs exactly one y column; the query has 2");
    series(db, "SELECT status AS day, status FROM sites", "day", NULL, NULL, "status", 4, 12,
           "shape series has no value column");
    /* Several y with series_by needs no schema. */
    series(NULL, q, "day", "n", "top", "status", 21, 8, "series_by needs exactly one y column; y names 2");
    series(db, q, "day", "n", "top", "status", 21, 8, "series_by needs exactly one y column; y names 2");
    ds_db_close(db);
}
END_TEST

START_TEST(several_items_one_pass)
{
    ds_db *db = schema();
    ds_plan p;
    ds_diag d;
    ds_plan_init(&p);
    ds_diag_init(&d);
    add(&p, "a", DS_SHAPE_ROWS, "SELECT nope FROM sites");
    add(&p, "b", DS_SHAPE_ROWS, "SELECT id FROM sites");
    add(&p, "c", DS_SHAPE_SCALAR, "SELECT 1, 2");
    ck_assert_int_eq(ds_sql_validate(db, &p, &d), -1);
    ck_assert_uint_eq(d.nerrors, 2);
    ck_assert_int_eq(p.items[0].bad, 1);
    ck_assert_int_eq(p.items[1].bad, 0);
    ck_assert_int_eq(p.items[2].bad, 1);
    /* The authorizer is gone afterwards: the connection can write again. */
    ck_assert_int_eq(sqlite3_exec(ds_sqlite_handle(db), "CREATE TABLE later (x); INSERT INTO later VALUES (1)", NULL, NULL, NULL), SQLITE_OK);
    ds_diag_free(&d);
    ds_plan_free(&p);
    ds_db_close(db);
}
END_TEST

/* ---------------------------------------------------------------- --explain */

START_TEST(explain_lint)
{
    ds_db *db = schema();
    ds_diag d;
    ds_diag_init(&d);
    ck_assert_int_eq(ds_db_exec_script(db, "rows",
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 300)"
        " INSERT INTO sites (domain, status, created_at) SELECT 'd' || i, 'new', '2026-01-01' FROM c;"
        "INSERT INTO errors (kind, created_at) VALUES ('x', '2026-01-01');"
        "CREATE INDEX messages_site ON messages (site_id);", &d), 0);
    ds_plan p;
    ds_plan_init(&p);
    add(&p, "k", DS_SHAPE_ROWS, "SELECT s.domain FROM sites AS s WHERE s.status = :st AND created_at > '2026'");
    add(&p, "k", DS_SHAPE_SCALAR, "SELECT count(*) FROM errors WHERE kind = 'x'");     /* 1 row: below */
    add(&p, "k", DS_SHAPE_SCALAR, "SELECT count(*) FROM messages WHERE site_id = 3");   /* index */
    ck_assert_int_eq(ds_sql_explain_lint(db, &p, 100, &d), 0);
    ck_assert_uint_eq(d.nerrors, 0);
    ck_assert_uint_eq(d.nwarnings, 1);
    ck_assert_int_eq(d.v[0].sev, DS_SEV_WARNING);
    ck_assert_int_eq(d.v[0].line, 5);
    ck_assert_str_eq(d.v[0].msg, "query scans all 300 rows of table 'sites' without an index; "
                                 "an index on sites(status, created_at) would help");
    ds_diag_free(&d);
    /* Above the default threshold nothing is said about 300 rows. */
    ds_diag_init(&d);
    ck_assert_int_eq(ds_sql_explain_lint(db, &p, DS_EXPLAIN_MIN_ROWS, &d), 0);
    ck_assert_uint_eq(d.n, 0);
    ds_diag_free(&d);
    ds_plan_free(&p);
    ds_db_close(db);
}
END_TEST

/* With ANALYZE statistics the table's rows come from sqlite_stat1, which
 * has one row per index (and none for the table when a full index exists);
 * a partial index's row counts only the rows it covers: the warning names
 * the table's 300 rows, not the partial index's 10. */
START_TEST(explain_lint_rows_from_stat1)
{
    ds_db *db = schema();
    ds_diag d;
    ds_diag_init(&d);
    ck_assert_int_eq(ds_db_exec_script(db, "rows",
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 300)"
        " INSERT INTO messages (site_id, channel, direction, created_at, replied_at)"
        " SELECT i, 'email', 'outbound', '2026-01-01', CASE WHEN i <= 10 THEN '2026-01-02' END FROM c;"
        "CREATE INDEX messages_created ON messages (created_at);"
        "CREATE INDEX messages_replied ON messages (replied_at) WHERE replied_at IS NOT NULL;"
        "ANALYZE;", &d), 0);
    /* The case at hand: no row for the table, the partial index's first. */
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(ds_sqlite_handle(db), "SELECT group_concat(stat, '|') FROM sqlite_stat1"
                                        " WHERE tbl = 'messages'", -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "10 10|300 300");
    sqlite3_finalize(st);
    ds_plan p;
    ds_plan_init(&p);
    add(&p, "k", DS_SHAPE_SCALAR, "SELECT count(*) FROM messages WHERE channel = 'sms'");
    ck_assert_int_eq(ds_sql_explain_lint(db, &p, 100, &d), 0);
    ck_assert_uint_eq(d.nerrors, 0);
    ck_assert_uint_eq(d.nwarnings, 1);
    ck_assert_str_eq(d.v[0].msg, "query scans all 300 rows of table 'messages' without an index; "
                                 "an index on messages(channel) would help");
    ds_diag_free(&d);
    ds_plan_free(&p);
    ds_db_close(db);
}
END_TEST

/* ---------------------------------------------------------------- through the loader */

START_TEST(offsets_through_the_loader)
{
    static const char yaml[] =
        "version: 1\n"
        "defaults:\n"
        "  ttl: 15m\n"
        "metrics:\n"
        "  - key: block\n"
        "    shape: rows\n"
        "    query: |\n"
        "      SELECT id,\n"
        "        domain,\n"
        "        statuz\n"
        "      FROM sites\n"
        "  - key: plain\n"
        "    shape: rows\n"
        "    query: SELECT id, statuz FROM sites\n"
        "  - key: quoted\n"
        "    shape: rows\n"
        "    query: \"SELECT 'é', statuz FROM sites\"\n"
        "  - key: params\n"
        "    shape: rows\n"
        "    params: { hours: 4, spare: 1 }\n"
        "    query: |\n"
        "      SELECT id FROM sites\n"
        "      WHERE created_at > datetime(:now, '-' || :hours || ' hours') AND id > :min\n";
    ds_db *db = schema();
    ds_plan p;
    ds_diag d;
    ds_plan_init(&p);
    ds_diag_init(&d);
    ck_assert_int_eq(ds_spec_load_buf("s.yaml", yaml, strlen(yaml), &p, &d), 0);
    ck_assert_uint_eq(p.n, 4);
    ck_assert_int_eq(ds_sql_validate(db, &p, &d), -1);
    ds_diag_sort(&d);
    char *got = ds_diag_render(&d, DS_FMT_TEXT);
    ck_assert_str_eq(got,
        "s.yaml:10:9: error: no such column: statuz; did you mean 'status'? [block]\n"
        "s.yaml:14:23: error: no such column: statuz; did you mean 'status'? [plain]\n"
        "s.yaml:17:25: error: no such column: statuz; did you mean 'status'? [quoted]\n"
        "s.yaml:20:25: error: parameter 'spare' is declared in params but not used in the query [params]\n"
        "s.yaml:23:77: error: parameter ':min' is not declared in params [params]\n");
    free(got);
    for (size_t i = 0; i < p.n; i++) ck_assert_int_eq(p.items[i].bad, 1);
    ds_diag_free(&d);
    ds_plan_free(&p);
    ds_db_close(db);
}
END_TEST

Suite *sql_suite(void)
{
    Suite *s = suite_create("sql");
    TCase *tc = tcase_create("sql");
    /* In-memory work only, every test well under 0.1 s here; 30 s is a hang
     * detector with room for valgrind (about 50 times slower). */
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, scan_skips_strings_comments_identifiers);
    tcase_add_test(tc, scan_statements_and_verbs);
    tcase_add_test(tc, text_rules_without_db);
    tcase_add_test(tc, params_without_db);
    tcase_add_test(tc, items_already_bad_are_skipped);
    tcase_add_test(tc, prepare_errors_point_at_the_token);
    tcase_add_test(tc, authorizer_refusals);
    tcase_add_test(tc, authorizer_direct);
    tcase_add_test(tc, statement_tail_and_columns);
    tcase_add_test(tc, parameters_with_db);
    tcase_add_test(tc, shapes_against_columns);
    tcase_add_test(tc, series_columns);
    tcase_add_test(tc, several_items_one_pass);
    tcase_add_test(tc, explain_lint);
    tcase_add_test(tc, explain_lint_rows_from_stat1);
    tcase_add_test(tc, offsets_through_the_loader);
    suite_add_tcase(s, tc);
    return s;
}

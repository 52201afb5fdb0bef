/*
 * check_spec.c — the spec loader (compiler/ds_spec.c, ds_yaml.c, ds_hash.c):
 * every rule of contract section 1 that needs no database, where each
 * diagnostic points, defaults merging, the YAML 1.2 core schema, hostile
 * input, directory walking, the query position mapping, the spec hash, and
 * the JSON Schema in docs/ against ds_item_fields.
 *
 * Most tests load a string as file "t.yaml" and compare the rendered
 * diagnostics (text format) exactly, so a wrong line, column, message or key
 * fails the test.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ds_compiler.h"
#include "ds_vec.h"
#include "ds_test.h"

/* ---------------------------------------------------------------- helpers */

/* Loads text (len bytes) as "t.yaml" into p (initialised by the caller) and
 * returns the sorted diagnostics as text (malloc'd). */
static char *loadn(ds_plan *p, const char *text, size_t len, int *rc)
{
    ds_diag d;
    ds_diag_init(&d);
    int r = ds_spec_load_buf("t.yaml", text, len, p, &d);
    ds_diag_sort(&d);
    char *out = ds_diag_render(&d, DS_FMT_TEXT);
    ck_assert_ptr_nonnull(out);
    /* the return value and the error count must agree */
    ck_assert_int_eq(r, d.nerrors ? -1 : 0);
    if (rc) *rc = r;
    ds_diag_free(&d);
    return out;
}

/* A literal that may hold NUL bytes, with its exact length. */
#define LIT(p, lit) loadn((p), (lit), sizeof(lit) - 1, NULL)

static char *load(ds_plan *p, const char *text)
{
    return loadn(p, text, strlen(text), NULL);
}

/* Asserts that text loads with exactly the diagnostics `want`. */
static void expect(const char *text, const char *want)
{
    ds_plan p;
    ds_plan_init(&p);
    char *got = load(&p, text);
    ck_assert_msg(strcmp(got, want) == 0, "for input:\n%s\nwant:\n%sgot:\n%s", text, want, got);
    free(got);
    ds_plan_free(&p);
}

/* Loads text that must be clean and returns its one item's copy in p. */
static ds_item *load_ok(ds_plan *p, const char *text)
{
    ds_plan_init(p);
    char *got = load(p, text);
    ck_assert_msg(strcmp(got, "") == 0, "unexpected diagnostics:\n%s", got);
    free(got);
    ck_assert_uint_ge(p->n, 1);
    return &p->items[0];
}

static ds_item *find(ds_plan *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->items[i].key, key) == 0) return &p->items[i];
    ck_abort_msg("no item %s", key);
    return NULL;
}

#define HEAD "version: 1\nmetrics:\n"
/* An item whose first line is `  - key: k` (line 3), then its fields. */
#define ITEM(fields) HEAD "  - key: k\n" fields

/* ---------------------------------------------------------------- the basics */

static const char contract_example[] =
    "version: 1                     # required, must be 1\n"
    "defaults:                      # optional\n"
    "  ttl: 15m\n"
    "  group: overview\n"
    "metrics:\n"
    "  - key: pipeline_funnel\n"
    "    description: Sites per pipeline stage\n"
    "    shape: map\n"
    "    query: |\n"
    "      SELECT status, COUNT(*) FROM sites GROUP BY status ORDER BY status\n"
    "charts:\n"
    "  - key: hourly_status_48h\n"
    "    shape: series\n"
    "    x: hour\n"
    "    y: n\n"
    "    series_by: status\n"
    "    ttl: 30m\n"
    "    refresh: 10m\n"
    "    params: { hours: 48 }\n"
    "    query: |\n"
    "      SELECT strftime('%Y-%m-%d %H:00', created_at) AS hour, status, COUNT(*) AS n\n"
    "      FROM sites\n"
    "      WHERE created_at >= datetime(:now, '-' || :hours || ' hours')\n"
    "      GROUP BY hour, status ORDER BY hour\n";

START_TEST(contract_example_loads)
{
    ds_plan p;
    load_ok(&p, contract_example);
    ck_assert_uint_eq(p.n, 2);
    ds_item *m = &p.items[0], *c = &p.items[1];

    ck_assert_str_eq(m->key, "pipeline_funnel");
    ck_assert_int_eq(m->kind, DS_KIND_METRIC);
    ck_assert_int_eq(m->shape, DS_SHAPE_MAP);
    ck_assert_str_eq(m->description, "Sites per pipeline stage");
    ck_assert_str_eq(m->group, "overview");
    ck_assert_str_eq(m->query, "SELECT status, COUNT(*) FROM sites GROUP BY status ORDER BY status\n");
    ck_assert_int_eq(m->ttl, 900);
    ck_assert_int_eq(m->refresh, 600);
    ck_assert_int_eq(m->timeout, 30);
    ck_assert_int_eq(m->max_rows, 1000);
    ck_assert_int_eq(m->max_bytes, 1048576);
    ck_assert_ptr_null(m->x);
    ck_assert_ptr_null(m->fill);
    ck_assert_uint_eq(m->ny, 0);
    ck_assert_str_eq(m->file, "t.yaml");
    ck_assert_int_eq(m->line, 6);
    ck_assert_int_eq(m->m_item.line, 6);
    ck_assert_int_eq(m->m_item.col, 5);
    ck_assert_int_eq(m->m_key.line, 6);
    ck_assert_int_eq(m->m_key.col, 10);
    ck_assert_int_eq(m->m_shape.line, 8);
    ck_assert_int_eq(m->m_shape.col, 12);
    ck_assert_int_eq(m->m_query.line, 9);
    ck_assert_int_eq(m->m_query.col, 12);
    ck_assert_int_eq(m->m_ttl.line, 3);       /* inherited: points into defaults */
    ck_assert_int_eq(m->m_ttl.col, 8);
    ck_assert_int_eq(m->bad, 0);
    ck_assert_int_eq((int)strlen(m->hash), 16);
    ck_assert_uint_eq(strspn(m->hash, "0123456789abcdef"), 16);

    ck_assert_str_eq(c->key, "hourly_status_48h");
    ck_assert_int_eq(c->kind, DS_KIND_CHART);
    ck_assert_int_eq(c->shape, DS_SHAPE_SERIES);
    ck_assert_str_eq(c->x, "hour");
    ck_assert_uint_eq(c->ny, 1);
    ck_assert_str_eq(c->y[0], "n");
    ck_assert_ptr_null(c->m_ys);              /* y given as a scalar */
    ck_assert_str_eq(c->series_by, "status");
    ck_assert_str_eq(c->fill, "null");
    ck_assert_int_eq(c->ttl, 1800);
    ck_assert_int_eq(c->refresh, 600);
    ck_assert_str_eq(c->group, "overview");
    ck_assert_uint_eq(c->nparams, 1);
    ck_assert_str_eq(c->params[0].name, "hours");
    ck_assert_int_eq(c->params[0].type, DS_PARAM_INT);
    ck_assert_int_eq(c->params[0].i, 48);
    ck_assert_int_eq(c->params[0].mark.line, 19);
    ck_assert_int_eq(c->params[0].mark.col, 15);
    ck_assert_int_eq(c->m_params.line, 19);
    ck_assert_int_eq(c->m_params.col, 13);
    ck_assert_int_eq(c->m_x.line, 14);
    ck_assert_int_eq(c->m_x.col, 8);
    ck_assert_int_eq(c->m_y.line, 15);
    ck_assert_int_eq(c->m_series_by.line, 16);
    ck_assert_int_eq(c->m_series_by.col, 16);
    ck_assert_int_eq(c->m_refresh.line, 18);
    ck_assert_int_eq(c->m_refresh.col, 14);
    ck_assert_int_eq(c->line, 12);
    ck_assert_uint_eq(c->nqlines, 4);
    ds_plan_free(&p);
}
END_TEST

START_TEST(item_fields_table)
{
    static const char *const want[] = {
        "key", "query", "shape", "ttl", "refresh", "description", "group", "tags", "params",
        "timeout", "max_rows", "max_bytes", "x", "y", "series_by", "fill", "refresh_key", "incremental"
    };
    size_t n = 0;
    while (ds_item_fields[n]) n++;
    ck_assert_uint_eq(n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < n; i++) ck_assert_str_eq(ds_item_fields[i], want[i]);
}
END_TEST

/* ---------------------------------------------------------------- defaults */

START_TEST(defaults_merge)
{
    ds_plan p;
    load_ok(&p,
        "version: 1\n"
        "defaults:\n"
        "  shape: rows\n"
        "  ttl: 1h\n"
        "  timeout: 5s\n"
        "  max_rows: 7\n"
        "  max_bytes: 9000\n"
        "  description: shared\n"
        "  group: ops\n"
        "  tags: [a, b]\n"
        "  x: hour\n"
        "  y: [n, m]\n"
        "  fill: 0\n"
        "metrics:\n"
        "  - key: plain\n"
        "    query: SELECT 1\n"
        "  - key: own\n"
        "    query: SELECT 1\n"
        "    shape: scalar\n"
        "    ttl: 90s\n"
        "    tags: [c]\n"
        "    group: other\n"
        "    max_rows: 1\n"
        "charts:\n"
        "  - key: s\n"
        "    shape: series\n"
        "    query: SELECT 1 AS hour, 2 AS n, 3 AS m\n");
    ds_item *a = find(&p, "plain"), *b = find(&p, "own"), *s = find(&p, "s");
    ck_assert_int_eq(a->shape, DS_SHAPE_ROWS);
    ck_assert_int_eq(a->ttl, 3600);
    ck_assert_int_eq(a->refresh, 2400);
    ck_assert_int_eq(a->timeout, 5);
    ck_assert_int_eq(a->max_rows, 7);
    ck_assert_int_eq(a->max_bytes, 9000);
    ck_assert_str_eq(a->description, "shared");
    ck_assert_str_eq(a->group, "ops");
    ck_assert_uint_eq(a->ntags, 2);
    ck_assert_str_eq(a->tags[1], "b");
    /* series defaults do not reach other shapes */
    ck_assert_ptr_null(a->x);
    ck_assert_uint_eq(a->ny, 0);
    ck_assert_ptr_null(a->fill);

    ck_assert_int_eq(b->shape, DS_SHAPE_SCALAR);
    ck_assert_int_eq(b->ttl, 90);
    ck_assert_int_eq(b->refresh, 60);
    ck_assert_int_eq(b->max_rows, 1);
    ck_assert_str_eq(b->group, "other");
    ck_assert_uint_eq(b->ntags, 1);              /* replaces, does not add */
    ck_assert_str_eq(b->tags[0], "c");

    ck_assert_str_eq(s->x, "hour");
    ck_assert_uint_eq(s->ny, 2);
    ck_assert_str_eq(s->y[0], "n");
    ck_assert_str_eq(s->y[1], "m");
    ck_assert_ptr_nonnull(s->m_ys);
    ck_assert_int_eq(s->m_ys[1].line, 12);
    ck_assert_str_eq(s->fill, "0");
    ck_assert_int_eq(s->m_x.line, 11);           /* inherited marks point into defaults */
    ck_assert_int_eq(s->kind, DS_KIND_CHART);
    ds_plan_free(&p);
}
END_TEST

START_TEST(defaults_errors)
{
    expect("version: 1\n"
           "defaults:\n"
           "  key: a\n"
           "  query: SELECT 1\n"
           "  params: {a: 1}\n"
           "  tll: 5m\n"
           "  ttl: soon\n"
           "metrics:\n"
           "  - key: k\n"
           "    query: SELECT 1\n"
           "    shape: scalar\n",
           "t.yaml:3:3: error: 'key' cannot be set in defaults\n"
           "t.yaml:4:3: error: 'query' cannot be set in defaults\n"
           "t.yaml:5:3: error: 'params' cannot be set in defaults\n"
           "t.yaml:6:3: error: unknown field 'tll'; did you mean 'ttl'?\n"
           "t.yaml:7:8: error: invalid ttl 'soon': expected a duration like 90s, 15m, 1h30m or 7d\n");
    /* the item that inherits the broken ttl is bad, without a second message */
    ds_plan p;
    ds_plan_init(&p);
    free(load(&p, "version: 1\ndefaults:\n  ttl: soon\nmetrics:\n"
                  "  - {key: k, query: SELECT 1, shape: row}\n"
                  "  - {key: j, query: SELECT 1, shape: row, ttl: 5m}\n"));
    ck_assert_uint_eq(p.n, 2);
    ck_assert_int_eq(find(&p, "k")->bad, 1);
    ck_assert_int_eq(find(&p, "j")->bad, 0);
    ds_plan_free(&p);
    expect("version: 1\ndefaults: [ttl]\n",
           "t.yaml:2:11: error: 'defaults' must be a mapping, found a list\n");
}
END_TEST

START_TEST(refresh_rules)
{
    ds_plan p;
    ds_item *it = load_ok(&p, ITEM("    query: SELECT 1\n    shape: scalar\n    ttl: 1\n"));
    ck_assert_int_eq(it->ttl, 1);
    ck_assert_int_eq(it->refresh, 0);            /* 1 * 2 / 3: due at every run */
    ds_plan_free(&p);
    it = load_ok(&p, ITEM("    query: SELECT 1\n    shape: scalar\n    ttl: 100\n"));
    ck_assert_int_eq(it->refresh, 66);           /* whole seconds, rounded down */
    ds_plan_free(&p);
    it = load_ok(&p, ITEM("    query: SELECT 1\n    shape: scalar\n    ttl: 1h\n    refresh: 59m59s\n"));
    ck_assert_int_eq(it->refresh, 3599);
    ds_plan_free(&p);

    expect(ITEM("    query: SELECT 1\n    shape: scalar\n    ttl: 30m\n    refresh: 30m\n"),
           "t.yaml:7:14: error: refresh (30m) must be less than ttl (30m) [k]\n");
    expect(ITEM("    query: SELECT 1\n    shape: scalar\n    refresh: 2h\n    ttl: 1h\n"),
           "t.yaml:6:14: error: refresh (2h) must be less than ttl (1h) [k]\n");
    /* refresh from defaults against the item's ttl: at the default, per item */
    expect("version: 1\ndefaults:\n  refresh: 1h\nmetrics:\n"
           "  - {key: a, query: SELECT 1, shape: row, ttl: 2h}\n"
           "  - {key: b, query: SELECT 1, shape: row, ttl: 1h}\n",
           "t.yaml:3:12: error: refresh (1h) must be less than ttl (1h) [b]\n");
    /* both from defaults: one message at the default, items silently bad */
    ds_plan_init(&p);
    char *got = load(&p, "version: 1\ndefaults:\n  refresh: 1h\n  ttl: 1h\nmetrics:\n"
                         "  - {key: a, query: SELECT 1, shape: row}\n"
                         "  - {key: b, query: SELECT 1, shape: row}\n"
                         "  - {key: c, query: SELECT 1, shape: row, ttl: 2h}\n");
    ck_assert_str_eq(got, "t.yaml:3:12: error: refresh (1h) must be less than ttl (1h)\n");
    free(got);
    ck_assert_int_eq(find(&p, "a")->bad, 1);
    ck_assert_int_eq(find(&p, "b")->bad, 1);
    ck_assert_int_eq(find(&p, "c")->bad, 0);
    ds_plan_free(&p);
}
END_TEST

/* ---------------------------------------------------------------- structure */

START_TEST(required_fields)
{
    expect(HEAD "  - description: nothing else\n",
           "t.yaml:3:5: error: missing required field 'key'\n"
           "t.yaml:3:5: error: missing required field 'query'\n"
           "t.yaml:3:5: error: missing required field 'shape'\n"
           "t.yaml:3:5: error: missing required field 'ttl'\n");
    expect(HEAD "  -\n    key: k\n    query: SELECT 1\n",
           "t.yaml:4:5: error: missing required field 'shape' [k]\n"
           "t.yaml:4:5: error: missing required field 'ttl' [k]\n");
    expect("metrics: []\n", "t.yaml:1:1: error: missing required field 'version'\n");
    expect("# a comment\n\nfoo: 1\n",
           "t.yaml:3:1: error: unknown field 'foo'\n"
           "t.yaml:3:1: error: missing required field 'version'\n");
    /* a bad item with a known key is kept; an unknown key drops the item */
    ds_plan p;
    ds_plan_init(&p);
    free(load(&p, HEAD "  - {key: k, query: SELECT 1}\n  - {key: Bad, query: SELECT 1}\n"));
    ck_assert_uint_eq(p.n, 1);
    ck_assert_str_eq(p.items[0].key, "k");
    ck_assert_int_eq(p.items[0].bad, 1);
    ck_assert_str_eq(p.items[0].file, "t.yaml");
    ds_plan_free(&p);
}
END_TEST

START_TEST(version_rules)
{
    expect("version: \"1\"\n", "t.yaml:1:10: error: 'version' must be the integer 1, found a string\n");
    expect("version: 1.0\n", "t.yaml:1:10: error: 'version' must be the integer 1, found a real number\n");
    expect("version: 2\n", "t.yaml:1:10: error: unsupported version 2; this dashspec reads version 1\n");
    expect("version:\n", "t.yaml:1:9: error: 'version' must be the integer 1, found null\n");
    expect("version: 0x1\n", "");
    expect("version: 1\nmetrics: []\ncharts: []\n", "");
}
END_TEST

START_TEST(top_level)
{
    expect("version: 1\nmetric: []\nttl: 5m\n",
           "t.yaml:2:1: error: unknown field 'metric'; did you mean 'metrics'?\n"
           "t.yaml:3:1: error: unknown field 'ttl' at the top level; item fields go in 'defaults' "
           "or in an item of 'metrics' or 'charts'\n");
    expect("version: 1\nmetrics: {key: a}\ncharts: 3\n",
           "t.yaml:2:10: error: 'metrics' must be a list of items, found a mapping\n"
           "t.yaml:3:9: error: 'charts' must be a list of items, found an integer\n");
    expect("version: 1\nmetrics:\n  - just text\n  - [1]\n",
           "t.yaml:3:5: error: each entry of 'metrics' must be a mapping (an item), found a string\n"
           "t.yaml:4:5: error: each entry of 'metrics' must be a mapping (an item), found a list\n");
    expect("- version: 1\n", "t.yaml:1:1: error: the top level must be a mapping, found a list\n");
    expect("just text\n", "t.yaml:1:1: error: the top level must be a mapping, found a string\n");
    expect("---\n", "t.yaml:2:1: error: the top level must be a mapping, found null\n");
}
END_TEST

START_TEST(unknown_fields_suggest)
{
    expect(ITEM("    query: SELECT 1\n    shape: scalar\n    tll: 5m\n    ttl: 5m\n"
                "    shpae: row\n    Query: x\n    colour: red\n    z: 1\n    seriesby: a\n"),
           "t.yaml:6:5: error: unknown field 'tll'; did you mean 'ttl'? [k]\n"
           "t.yaml:8:5: error: unknown field 'shpae'; did you mean 'shape'? [k]\n"
           "t.yaml:9:5: error: unknown field 'Query'; did you mean 'query'? [k]\n"
           "t.yaml:10:5: error: unknown field 'colour' [k]\n"
           "t.yaml:11:5: error: unknown field 'z' [k]\n"
           "t.yaml:12:5: error: unknown field 'seriesby'; did you mean 'series_by'? [k]\n");
}
END_TEST

START_TEST(duplicate_mapping_keys)
{
    expect(ITEM("    query: SELECT 1\n    shape: scalar\n    ttl: 5m\n    ttl: 6m\n"),
           "t.yaml:7:5: error: duplicate mapping key 'ttl'; first at line 6 [k]\n");
    expect("version: 1\nversion: 1\n",
           "t.yaml:2:1: error: duplicate mapping key 'version'; first at line 1\n");
    expect(ITEM("    query: SELECT :a\n    shape: scalar\n    ttl: 5m\n    params:\n      a: 1\n      a: 2\n"),
           "t.yaml:9:7: error: duplicate mapping key 'a'; first at line 8 [k]\n");
    /* quoting does not make a different key; nested anywhere counts */
    expect("version: 1\n\"version\": 1\nx: {a: 1, 'a': 2}\n",
           "t.yaml:2:1: error: duplicate mapping key 'version'; first at line 1\n"
           "t.yaml:3:1: error: unknown field 'x' at the top level; item fields go in 'defaults' "
           "or in an item of 'metrics' or 'charts'\n"
           "t.yaml:3:11: error: duplicate mapping key 'a'; first at line 3\n");
    /* a big mapping takes the sorted path; every repeat is reported once */
    ds_buf b;
    ds_buf_init(&b);
    ds_buf_adds(&b, "version: 1\nx:\n");
    for (int i = 0; i < 40; i++) ds_buf_printf(&b, "  k%d: 1\n", i);
    ds_buf_adds(&b, "  k7: 2\n  k30: 2\n  k7: 3\n");
    expect(b.p, "t.yaml:2:1: error: unknown field 'x' at the top level; item fields go in 'defaults' "
                "or in an item of 'metrics' or 'charts'\n"
                "t.yaml:43:3: error: duplicate mapping key 'k7'; first at line 10\n"
                "t.yaml:44:3: error: duplicate mapping key 'k30'; first at line 33\n"
                "t.yaml:45:3: error: duplicate mapping key 'k7'; first at line 10\n");
    ds_buf_free(&b);
    expect("version: 1\n? [a]\n: 1\n", "t.yaml:2:3: error: a mapping key must be a scalar, found a list\n");
}
END_TEST

START_TEST(duplicate_item_keys)
{
    ds_plan p;
    ds_plan_init(&p);
    char *got = load(&p, HEAD "  - {key: a, query: SELECT 1, shape: row, ttl: 1m}\n"
                              "  - {key: a, query: SELECT 2, shape: row, ttl: 1m}\n"
                              "charts:\n"
                              "  - key: a\n    query: SELECT 3\n    shape: row\n    ttl: 1m\n");
    ck_assert_str_eq(got, "t.yaml:4:11: error: duplicate key 'a'; first defined at t.yaml:3 [a]\n"
                          "t.yaml:6:10: error: duplicate key 'a'; first defined at t.yaml:3 [a]\n");
    free(got);
    ck_assert_uint_eq(p.n, 3);
    ck_assert_int_eq(p.items[0].bad, 0);
    ck_assert_int_eq(p.items[1].bad, 1);
    ck_assert_int_eq(p.items[2].bad, 1);
    /* across calls: the plan already holds the first */
    ds_diag d;
    ds_diag_init(&d);
    const char *two = "version: 1\nmetrics:\n\n  - key: a\n    query: SELECT 1\n    shape: row\n    ttl: 1m\n";
    ck_assert_int_eq(ds_spec_load_buf("u.yaml", two, strlen(two), &p, &d), -1);
    got = ds_diag_render(&d, DS_FMT_TEXT);
    ck_assert_str_eq(got, "u.yaml:4:10: error: duplicate key 'a'; first defined at t.yaml:3 [a]\n");
    free(got);
    ds_diag_free(&d);
    ds_plan_free(&p);
}
END_TEST

START_TEST(anchors_aliases_tags)
{
    expect("version: 1\ndefaults: &d\n  ttl: 5m\nmetrics:\n"
           "  - key: k\n    query: !!str SELECT 1\n    shape: &s scalar\n    ttl: *t\n"
           "    description: &a !x text\n",
           "t.yaml:2:11: error: YAML anchors are not allowed (&d)\n"
           "t.yaml:6:12: error: YAML tags are not allowed (!!str) [k]\n"
           "t.yaml:7:12: error: YAML anchors are not allowed (&s) [k]\n"
           "t.yaml:8:10: error: YAML aliases are not allowed (*t) [k]\n"
           "t.yaml:9:18: error: YAML anchors are not allowed (&a) [k]\n"
           "t.yaml:9:21: error: YAML tags are not allowed (!x) [k]\n");
    /* billion laughs: refused at each alias, never expanded */
    ds_buf b;
    ds_buf_init(&b);
    ds_buf_adds(&b, "version: 1\nx:\n  a: &a [lol, lol, lol]\n");
    for (char c = 'b'; c <= 'i'; c++)
        ds_buf_printf(&b, "  %c: &%c [*%c, *%c, *%c]\n", c, c, c - 1, c - 1, c - 1);
    ds_plan p;
    ds_plan_init(&p);
    char *got = load(&p, b.p);
    size_t lines = 0;
    for (char *c = got; *c; c++) lines += *c == '\n';
    ck_assert_uint_eq(lines, 1 + 9 + 8 * 3);   /* unknown x, 9 anchors, 24 aliases */
    ck_assert_ptr_nonnull(strstr(got, "t.yaml:11:10: error: YAML aliases are not allowed (*h)\n"));
    free(got);
    ds_plan_free(&p);
    ds_buf_free(&b);
}
END_TEST

/* ---------------------------------------------------------------- types */

START_TEST(core_schema_params)
{
    ds_plan p;
    ds_item *it = load_ok(&p, ITEM(
        "    query: SELECT 1\n    shape: scalar\n    ttl: 5m\n"
        "    params:\n"
        "      b1: true\n      b2: False\n      s1: yes\n      s2: on\n      s3: \"12\"\n"
        "      i1: 0o17\n      i2: 0x1F\n      i3: -42\n      i4: +7\n      i5: 9223372036854775807\n"
        "      i6: -9223372036854775808\n      r1: 1.5\n      r2: .5\n      r3: 1e3\n      r4: -2.5E-1\n"
        "      s4: 0x\n      s5: 1_000\n      s6: |\n        text\n      s7: 'null'\n      i7: 007\n"));
    struct { const char *name; ds_param_type t; int64_t i; double r; const char *s; } want[] = {
        {"b1", DS_PARAM_BOOL, 1, 0, NULL}, {"b2", DS_PARAM_BOOL, 0, 0, NULL},
        {"s1", DS_PARAM_TEXT, 0, 0, "yes"}, {"s2", DS_PARAM_TEXT, 0, 0, "on"},
        {"s3", DS_PARAM_TEXT, 0, 0, "12"}, {"i1", DS_PARAM_INT, 15, 0, NULL},
        {"i2", DS_PARAM_INT, 31, 0, NULL}, {"i3", DS_PARAM_INT, -42, 0, NULL},
        {"i4", DS_PARAM_INT, 7, 0, NULL}, {"i5", DS_PARAM_INT, INT64_MAX, 0, NULL},
        {"i6", DS_PARAM_INT, INT64_MIN, 0, NULL}, {"r1", DS_PARAM_REAL, 0, 1.5, NULL},
        {"r2", DS_PARAM_REAL, 0, 0.5, NULL}, {"r3", DS_PARAM_REAL, 0, 1000, NULL},
        {"r4", DS_PARAM_REAL, 0, -0.25, NULL}, {"s4", DS_PARAM_TEXT, 0, 0, "0x"},
        {"s5", DS_PARAM_TEXT, 0, 0, "1_000"}, {"s6", DS_PARAM_TEXT, 0, 0, "text\n"},
        {"s7", DS_PARAM_TEXT, 0, 0, "null"}, {"i7", DS_PARAM_INT, 7, 0, NULL},
    };
    ck_assert_uint_eq(it->nparams, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < it->nparams; i++) {
        ds_param *pr = &it->params[i];
        ck_assert_str_eq(pr->name, want[i].name);
        ck_assert_msg(pr->type == want[i].t, "param %s type %d", pr->name, pr->type);
        if (want[i].t == DS_PARAM_INT || want[i].t == DS_PARAM_BOOL) ck_assert_int_eq(pr->i, want[i].i);
        if (want[i].t == DS_PARAM_REAL) ck_assert_double_eq(pr->r, want[i].r);
        if (want[i].t == DS_PARAM_TEXT) ck_assert_str_eq(pr->s, want[i].s);
        ck_assert_int_eq(pr->mark.line, 8 + (int)i + (i > 17 ? 1 : 0));
        ck_assert_int_eq(pr->mark.col, 7);
    }
    ds_plan_free(&p);
}
END_TEST

START_TEST(params_errors)
{
    expect(ITEM("    query: SELECT 1\n    shape: scalar\n    ttl: 5m\n"
                "    params:\n      now: 1\n      a-b: 2\n      c: null\n      d: [1]\n"
                "      e: .inf\n      f: 9223372036854775808\n      g:\n      1x: 3\n      h: {a: 1}\n"
                "      i: .nan\n      j: \"a\\0b\"\n"),
           "t.yaml:8:7: error: parameter 'now' is built in and cannot be declared [k]\n"
           "t.yaml:9:7: error: invalid parameter name 'a-b': must match ^[A-Za-z_][A-Za-z0-9_]*$ [k]\n"
           "t.yaml:10:7: error: parameter 'c' must be an integer, real number, string or boolean, found null [k]\n"
           "t.yaml:11:7: error: parameter 'd' must be an integer, real number, string or boolean, found a list [k]\n"
           "t.yaml:12:7: error: parameter 'e' must be a finite number [k]\n"
           "t.yaml:13:7: error: parameter 'f' is out of range (integers are 64-bit) [k]\n"
           "t.yaml:14:7: error: parameter 'g' must be an integer, real number, string or boolean, found null [k]\n"
           "t.yaml:15:7: error: invalid parameter name '1x': must match ^[A-Za-z_][A-Za-z0-9_]*$ [k]\n"
           "t.yaml:16:7: error: parameter 'h' must be an integer, real number, string or boolean, found a mapping [k]\n"
           "t.yaml:17:7: error: parameter 'i' must be a finite number [k]\n"
           "t.yaml:18:7: error: parameter 'j' contains a NUL character [k]\n");
    expect(ITEM("    query: SELECT 1\n    shape: scalar\n    ttl: 5m\n    params: [a]\n"),
           "t.yaml:7:13: error: 'params' must be a mapping of names to values, found a list [k]\n");
}
END_TEST

START_TEST(wrong_types)
{
    expect(HEAD "  - key: 12\n    query: 42\n    shape: true\n    ttl: 1.5\n    refresh: [1]\n"
           "    description: 12\n    group: 3\n    tags: x\n    timeout: {a: 1}\n    max_rows: \"5\"\n"
           "    max_bytes: 1.0\n",
           "t.yaml:3:10: error: 'key' must be a string, found an integer\n"
           "t.yaml:4:12: error: 'query' must be a string, found an integer\n"
           "t.yaml:5:12: error: 'shape' must be a string, found a boolean\n"
           "t.yaml:6:10: error: 'ttl' must be a duration like 90s, 15m, 1h30m or 1800, found a real number\n"
           "t.yaml:7:14: error: 'refresh' must be a duration like 90s, 15m, 1h30m or 1800, found a list\n"
           "t.yaml:8:18: error: 'description' must be a string, found an integer\n"
           "t.yaml:9:12: error: 'group' must be a string, found an integer\n"
           "t.yaml:10:11: error: 'tags' must be a list of names, found a string\n"
           "t.yaml:11:14: error: 'timeout' must be a duration like 90s, 15m, 1h30m or 1800, found a mapping\n"
           "t.yaml:12:15: error: 'max_rows' must be an integer, found a string\n"
           "t.yaml:13:16: error: 'max_bytes' must be an integer, found a real number\n");
    expect(ITEM("    query:\n    shape: ~\n    ttl: null\n    description:\n"),
           "t.yaml:4:11: error: 'query' must be a string, found null [k]\n"
           "t.yaml:5:12: error: 'shape' must be a string, found null [k]\n"
           "t.yaml:6:10: error: 'ttl' must be a duration like 90s, 15m, 1h30m or 1800, found null [k]\n"
           "t.yaml:7:17: error: 'description' must be a string, found null [k]\n");
}
END_TEST

START_TEST(value_rules)
{
    expect(HEAD "  - key: k\n    query: \"  \\n \"\n    shape: table\n    ttl: 5m\n    group: Ops\n"
           "    tags: [ok, Bad, 3, a_b-c]\n    max_rows: 0\n    max_bytes: 99999999999999999999\n"
           "  - key: serie\n    query: SELECT 1\n    shape: serie\n    ttl: 5m\n",
           "t.yaml:4:12: error: 'query' is empty [k]\n"
           "t.yaml:5:12: error: unknown shape 'table'; expected scalar, row, rows, map or series [k]\n"
           "t.yaml:7:12: error: invalid group 'Ops': must match ^[a-z][a-z0-9_-]*$ [k]\n"
           "t.yaml:8:16: error: invalid tag 'Bad': must match ^[a-z][a-z0-9_-]*$ [k]\n"
           "t.yaml:8:21: error: each tag must be a string, found an integer [k]\n"
           "t.yaml:9:15: error: 'max_rows' must be at least 1, found 0 [k]\n"
           "t.yaml:10:16: error: 'max_bytes' is out of range (at most 9223372036854775807) [k]\n"
           "t.yaml:13:12: error: unknown shape 'serie'; did you mean 'series'? [serie]\n");
    /* key pattern: at most 64 characters, lowercase, digits, underscores */
    expect(HEAD "  - key: a2345678901234567890123456789012345678901234567890123456789012345\n",
           "t.yaml:3:5: error: missing required field 'query'\n"
           "t.yaml:3:5: error: missing required field 'shape'\n"
           "t.yaml:3:5: error: missing required field 'ttl'\n"
           "t.yaml:3:10: error: invalid key 'a23456789012345678901234567890123456789012345678901234567890...': "
           "must match ^[a-z][a-z0-9_]{0,63}$\n");
    ds_plan p;
    ds_item *it = load_ok(&p, HEAD "  - key: a234567890123456789012345678901234567890123456789012345678901234\n"
                                   "    query: SELECT 1\n    shape: row\n    ttl: 1\n"
                                   "    group: a-b_c9\n    description: \"\"\n");
    ck_assert_uint_eq(strlen(it->key), 64);
    ck_assert_str_eq(it->group, "a-b_c9");
    ck_assert_str_eq(it->description, "");
    ds_plan_free(&p);
    expect(HEAD "  - key: a_B\n", "t.yaml:3:5: error: missing required field 'query'\n"
           "t.yaml:3:5: error: missing required field 'shape'\n"
           "t.yaml:3:5: error: missing required field 'ttl'\n"
           "t.yaml:3:10: error: invalid key 'a_B': must match ^[a-z][a-z0-9_]{0,63}$\n");
}
END_TEST

START_TEST(durations)
{
    ds_plan p;
    ds_item *it = load_ok(&p, ITEM("    query: SELECT 1\n    shape: row\n    ttl: 1h30m\n    timeout: 90s\n"));
    ck_assert_int_eq(it->ttl, 5400);
    ck_assert_int_eq(it->timeout, 90);
    ds_plan_free(&p);
    it = load_ok(&p, ITEM("    query: SELECT 1\n    shape: row\n    ttl: \"7d\"\n    timeout: 1800\n"));
    ck_assert_int_eq(it->ttl, 604800);
    ck_assert_int_eq(it->timeout, 1800);
    ds_plan_free(&p);
    expect(ITEM("    query: SELECT 1\n    shape: row\n    ttl: 0\n    refresh: -5\n    timeout: 5x\n"),
           "t.yaml:6:10: error: invalid ttl '0': duration must be positive [k]\n"
           "t.yaml:7:14: error: invalid refresh '-5': duration must be positive [k]\n"
           "t.yaml:8:14: error: invalid timeout '5x': expected a duration like 90s, 15m, 1h30m or 7d [k]\n");
    expect(ITEM("    query: SELECT 1\n    shape: row\n    ttl: 0s\n    timeout: 99999999999999999999\n"),
           "t.yaml:6:10: error: invalid ttl '0s': duration must be positive [k]\n"
           "t.yaml:7:14: error: invalid timeout '99999999999999999999': duration is too long (at most 100 years) [k]\n");
    expect(ITEM("    query: SELECT 1\n    shape: row\n    ttl: 15 m\n"),
           "t.yaml:6:10: error: invalid ttl '15 m': expected a duration like 90s, 15m, 1h30m or 7d [k]\n");
}
END_TEST

/* ---------------------------------------------------------------- series */

START_TEST(series_rules)
{
    expect(HEAD "  - key: k\n    query: SELECT 1\n    shape: rows\n    ttl: 5m\n"
           "    x: a\n    y: b\n    series_by: c\n    fill: 0\n",
           "t.yaml:7:8: error: 'x' is only allowed for shape series, not rows [k]\n"
           "t.yaml:8:8: error: 'y' is only allowed for shape series, not rows [k]\n"
           "t.yaml:9:16: error: 'series_by' is only allowed for shape series, not rows [k]\n"
           "t.yaml:10:11: error: 'fill' is only allowed for shape series, not rows [k]\n");
    expect("version: 1\ncharts:\n  - key: k\n    query: SELECT 1\n    shape: series\n    ttl: 5m\n"
           "    y: [a, b]\n    series_by: c\n",
           "t.yaml:3:5: error: missing required field 'x' (shape series needs it) [k]\n"
           "t.yaml:7:8: error: 'y' must name exactly one column when 'series_by' is set (found 2) [k]\n");
    expect("version: 1\ncharts:\n  - key: k\n    query: SELECT 1\n    shape: series\n    ttl: 5m\n"
           "    x: \"\"\n    y: [a, 7, a, \"\"]\n    series_by: [c]\n    fill: \"0\"\n",
           "t.yaml:7:8: error: 'x' must not be empty [k]\n"
           "t.yaml:8:12: error: each column in 'y' must be a string, found an integer [k]\n"
           "t.yaml:8:15: error: duplicate column 'a' in 'y'; first at line 8 [k]\n"
           "t.yaml:8:18: error: each column in 'y' must not be empty [k]\n"
           "t.yaml:9:16: error: 'series_by' must be a string, found a list [k]\n"
           "t.yaml:10:11: error: 'fill' must be a number or null, found a string [k]\n");
    expect("version: 1\ncharts:\n  - key: k\n    query: SELECT 1\n    shape: series\n    ttl: 5m\n"
           "    x: a\n    y: []\n    fill: .inf\n",
           "t.yaml:8:8: error: 'y' must name at least one column [k]\n"
           "t.yaml:9:11: error: 'fill' must be a finite number or null [k]\n");
    /* defaults' series fields are ignored for other shapes, used by series */
    ds_plan p;
    load_ok(&p, "version: 1\ndefaults:\n  x: t\n  series_by: s\n  y: [v, w]\n  ttl: 1m\n"
                "metrics:\n  - {key: a, query: SELECT 1, shape: map}\n"
                "charts:\n  - {key: b, query: SELECT 1, shape: series, y: v}\n");
    ck_assert_ptr_null(find(&p, "a")->series_by);
    ck_assert_str_eq(find(&p, "b")->series_by, "s");
    ck_assert_str_eq(find(&p, "b")->x, "t");
    ck_assert_uint_eq(find(&p, "b")->ny, 1);
    ds_plan_free(&p);
}
END_TEST

START_TEST(fill_text)
{
    static const struct { const char *yaml, *json; } cases[] = {
        {"0", "0"}, {"-3", "-3"}, {"+5", "5"}, {"0x10", "16"}, {"~", "null"}, {"null", "null"},
        {"1.5", "1.5"}, {".5", "0.5"}, {"1e3", "1e3"}, {"1.", "1.0"}, {"-0.25", "-0.25"},
        {"+1.5", "1.5"}, {"1.50", "1.50"}, {"007.5", "7.5"}, {"9223372036854775807", "9223372036854775807"},
        {"1E+2", "1E+2"}, {"0.1", "0.1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "version: 1\ncharts:\n  - key: k\n    query: SELECT 1\n"
                 "    shape: series\n    ttl: 5m\n    x: a\n    fill: %s\n", cases[i].yaml);
        ds_plan p;
        ds_item *it = load_ok(&p, text);
        ck_assert_msg(strcmp(it->fill, cases[i].json) == 0, "fill %s -> %s, want %s",
                      cases[i].yaml, it->fill, cases[i].json);
        ds_plan_free(&p);
    }
    ds_plan p;
    ds_item *it = load_ok(&p, "version: 1\ncharts:\n  - key: k\n    query: SELECT 1\n"
                              "    shape: series\n    ttl: 5m\n    x: a\n");
    ck_assert_str_eq(it->fill, "null");
    ck_assert_uint_eq(it->ny, 0);
    ck_assert_ptr_null(it->series_by);
    ds_plan_free(&p);
}
END_TEST

/* ---------------------------------------------------------------- file level */

START_TEST(file_level_errors)
{
    expect("", "t.yaml:1:1: error: empty file: expected a mapping starting with 'version: 1'\n");
    expect("# just a comment\n\n", "t.yaml:1:1: error: empty file: expected a mapping starting with 'version: 1'\n");
    expect("version: 1\n---\nversion: 1\n",
           "t.yaml:2:1: error: a second YAML document is not allowed; a spec file holds one mapping\n");
    expect("version: 1\n...\n--- x\n",
           "t.yaml:3:1: error: a second YAML document is not allowed; a spec file holds one mapping\n");
    expect("version: 1\nmetrics:\n\t- key: a\n",
           "t.yaml:3:1: error: YAML syntax error: tabs cannot be used for indentation\n");
    expect("version: 1\nmetrics: [a, b\n",
           "t.yaml:3:1: error: YAML syntax error: did not find expected ',' or ']' "
           "(while parsing a flow sequence at line 2)\n");
    expect("version: 1\nmetrics:\n  - a\n  b: c\n",
           "t.yaml:4:3: error: YAML syntax error: did not find expected '-' indicator "
           "(while parsing a block collection at line 3)\n");
    expect("version: 1\nfoo: \"abc\n",
           "t.yaml:3:1: error: YAML syntax error: found unexpected end of stream "
           "(while scanning a quoted scalar at line 2)\n");
    /* Indentation in dashspec's words, at the line to blame (libyaml: "mapping
     * values are not allowed in this context" at the colon). */
    expect("version: 1\n  bad: indent\n",
           "t.yaml:2:3: error: YAML indentation: this line is indented deeper than the field above "
           "('version:' at line 1), so it reads as part of that field's value; line it up with the "
           "fields beside it\n");
}
END_TEST

START_TEST(bytes_and_encodings)
{
    /* positions count characters: é is one column */
    ds_plan p;
    ds_plan_init(&p);
    char *got = LIT(&p, "version: 1\ndescription: \xc3\xa9t\xc3\xa9\xff\n");
    ck_assert_str_eq(got, "t.yaml:2:17: error: invalid UTF-8 byte 0xFF\n");
    free(got);
    got = LIT(&p, "version: 1\nx: \xe2\x28\xa1\n");
    ck_assert_str_eq(got, "t.yaml:2:4: error: invalid UTF-8 byte 0xE2\n");
    free(got);
    got = LIT(&p, "version: 1\nx: \xc0\xaf\n");       /* overlong '/' */
    ck_assert_str_eq(got, "t.yaml:2:4: error: invalid UTF-8 byte 0xC0\n");
    free(got);
    got = LIT(&p, "version: 1\nx: \xed\xa0\x80\n");   /* a surrogate */
    ck_assert_str_eq(got, "t.yaml:2:4: error: invalid UTF-8 byte 0xED\n");
    free(got);
    got = LIT(&p, "version: 1\nx: ab\xe2\x82");       /* truncated at the end */
    ck_assert_str_eq(got, "t.yaml:2:6: error: invalid UTF-8 byte 0xE2\n");
    free(got);
    got = LIT(&p, "version: 1\nkey: a\0b\n");
    ck_assert_str_eq(got, "t.yaml:2:7: error: control character U+0000 is not allowed\n");
    free(got);
    got = LIT(&p, "version: 1\nx: \x1b[31m\n");
    ck_assert_str_eq(got, "t.yaml:2:4: error: control character U+001B is not allowed\n");
    free(got);
    got = LIT(&p, "version: 1\nx: \xc2\x9b\n");      /* C1 control */
    ck_assert_str_eq(got, "t.yaml:2:4: error: control character U+009B is not allowed\n");
    free(got);
    got = LIT(&p, "\xff\xfev\0e\0r\0");
    ck_assert_str_eq(got, "t.yaml:1:1: error: file is UTF-16; spec files must be UTF-8\n");
    free(got);
    /* a UTF-8 BOM is fine and takes no column */
    got = load(&p, "\xef\xbb\xbfversion: 1\nfoo: 1\n");
    ck_assert_str_eq(got, "t.yaml:2:1: error: unknown field 'foo'\n");
    free(got);
    got = load(&p, "\xef\xbb\xbf" "foo: 1\nversion: 1\n");
    ck_assert_str_eq(got, "t.yaml:1:1: error: unknown field 'foo'\n");
    free(got);
    /* CR LF and lone CR line ends count as one line each, like libyaml's marks */
    got = load(&p, "version: 1\r\nfoo: 1\r\nbar: 2\rbaz: 3\n");
    ck_assert_str_eq(got, "t.yaml:2:1: error: unknown field 'foo'\n"
                          "t.yaml:3:1: error: unknown field 'bar'\n"
                          "t.yaml:4:1: error: unknown field 'baz'\n");
    free(got);
    /* a NUL from an escape is caught where a string is needed */
    got = load(&p, ITEM("    query: \"SELECT 1\\0; DROP\"\n    shape: row\n    ttl: 1m\n"));
    ck_assert_str_eq(got, "t.yaml:4:12: error: 'query' must not contain a NUL character [k]\n");
    free(got);
    /* control characters reach messages escaped */
    got = load(&p, "version: 1\n\"a\\tb\\u0007\": 1\n");
    ck_assert_str_eq(got, "t.yaml:2:1: error: unknown field 'a\\tb\\x07'\n");
    free(got);
    /* long names are cut after 60 characters, never inside one */
    ds_buf in, want;
    ds_buf_init(&in);
    ds_buf_init(&want);
    ds_buf_adds(&in, "version: 1\n");
    ds_buf_adds(&want, "t.yaml:2:1: error: unknown field '");
    for (int i = 0; i < 70; i++) ds_buf_adds(&in, "\xc3\xa9");
    for (int i = 0; i < 60; i++) ds_buf_adds(&want, "\xc3\xa9");
    ds_buf_adds(&in, ": 1\n");
    ds_buf_adds(&want, "...'\n");
    got = load(&p, in.p);
    ck_assert_str_eq(got, want.p);
    free(got);
    ds_buf_free(&in);
    ds_buf_free(&want);
    ds_plan_free(&p);
}
END_TEST

START_TEST(limits)
{
    /* nesting: 32 levels are fine, the 33rd is refused where it opens */
    ds_buf b;
    ds_buf_init(&b);
    ds_buf_adds(&b, "version: 1\nx: ");
    for (int i = 0; i < 31; i++) ds_buf_addc(&b, '[');
    for (int i = 0; i < 31; i++) ds_buf_addc(&b, ']');
    ds_buf_addc(&b, '\n');
    expect(b.p, "t.yaml:2:1: error: unknown field 'x' at the top level; item fields go in 'defaults' "
                "or in an item of 'metrics' or 'charts'\n");
    ds_buf_reset(&b);
    ds_buf_adds(&b, "version: 1\nx: ");
    for (int i = 0; i < 100000; i++) ds_buf_addc(&b, '[');
    expect(b.p, "t.yaml:2:35: error: nesting is too deep (more than 32 levels)\n");
    ds_buf_reset(&b);
    ds_buf_adds(&b, "version: 1\nx:\n");
    for (int i = 1; i < 40; i++) ds_buf_printf(&b, "%*sa:\n", 2 * i, "");
    expect(b.p, "t.yaml:34:65: error: nesting is too deep (more than 32 levels)\n");

    /* size: the limit itself loads, one byte more does not */
    ds_buf_reset(&b);
    ds_buf_adds(&b, "version: 1\ndescription: ");
    while (b.len < DS_SPEC_MAX_FILE_BYTES - 1) ds_buf_addc(&b, 'x');
    ds_buf_addc(&b, '\n');
    ck_assert_uint_eq(b.len, DS_SPEC_MAX_FILE_BYTES);
    expect(b.p, "t.yaml:2:1: error: unknown field 'description' at the top level; item fields go in "
                "'defaults' or in an item of 'metrics' or 'charts'\n");
    ds_buf_addc(&b, '\n');
    expect(b.p, "t.yaml:1:1: error: file is too large (the limit is 1048576 bytes)\n");

    /* one long line: a 500 kB query on one line maps exactly */
    ds_buf_reset(&b);
    ds_buf_adds(&b, ITEM("    shape: row\n    ttl: 1m\n    query: SELECT "));
    for (int i = 0; i < 100000; i++) ds_buf_adds(&b, "1 + ");
    ds_buf_adds(&b, "1\n");
    ds_plan p;
    ds_item *it = load_ok(&p, b.p);
    ck_assert_uint_eq(it->nqlines, 1);
    ds_mark m = ds_item_query_mark(it, 400004);
    ck_assert_int_eq(m.line, 6);
    ck_assert_int_eq(m.col, 12 + 400004);
    ds_plan_free(&p);

    /* the error cap: a flood of aliases stops at 100 messages and says so */
    ds_buf_reset(&b);
    ds_buf_adds(&b, "version: 1\nx: [");
    for (int i = 0; i < 5000; i++) ds_buf_adds(&b, "*a, ");
    ds_buf_adds(&b, "]\n");
    ds_plan_init(&p);
    char *got = load(&p, b.p);
    size_t lines = 0;
    for (char *c = got; *c; c++) lines += *c == '\n';
    ck_assert_uint_eq(lines, 101);
    ck_assert_ptr_nonnull(strstr(got, "error: too many errors in this file (more than 100); the rest are not reported\n"));
    free(got);
    ds_plan_free(&p);
    ds_buf_free(&b);
}
END_TEST

/* ---------------------------------------------------------------- query positions */

START_TEST(query_mark_literal)
{
    /* a misspelt column on the third line of a | block */
    ds_plan p;
    ds_item *it = load_ok(&p, ITEM(
        "    shape: rows\n    ttl: 1m\n"
        "    query: |\n"
        "      SELECT id,\n"
        "             domain,\n"
        "             statuz\n"
        "      FROM sites\n"));
    ck_assert_int_eq(it->m_query.line, 6);
    ck_assert_int_eq(it->m_query.col, 12);
    ck_assert_uint_eq(it->nqlines, 4);
    const char *off = strstr(it->query, "statuz");
    ds_mark m = ds_item_query_mark(it, (size_t)(off - it->query));
    ck_assert_int_eq(m.line, 9);
    ck_assert_int_eq(m.col, 14);
    m = ds_item_query_mark(it, 0);
    ck_assert_int_eq(m.line, 7);
    ck_assert_int_eq(m.col, 7);
    ds_plan_free(&p);

    /* chomping and indentation indicators, blank lines inside, non-ASCII */
    it = load_ok(&p, ITEM(
        "    shape: rows\n    ttl: 1m\n"
        "    query: |-2\n"
        "        SELECT 'é',\n"
        "\n"
        "          x\n"
        "    description: d\n"));
    ck_assert_str_eq(it->query, "  SELECT 'é',\n\n    x");
    ck_assert_uint_eq(it->nqlines, 3);
    m = ds_item_query_mark(it, (size_t)(strchr(it->query, 'x') - it->query));
    ck_assert_int_eq(m.line, 9);
    ck_assert_int_eq(m.col, 11);
    m = ds_item_query_mark(it, (size_t)(strchr(it->query, ',') - it->query));
    ck_assert_int_eq(m.line, 7);
    ck_assert_int_eq(m.col, 19);                 /* é counts as one column */
    ds_plan_free(&p);

    it = load_ok(&p, ITEM("    shape: rows\n    ttl: 1m\n    query: |+\n      SELECT 1\n\n\n"));
    ck_assert_str_eq(it->query, "SELECT 1\n\n\n");
    ck_assert_uint_eq(it->nqlines, 3);
    ds_plan_free(&p);

    /* CR LF files map too (libyaml turns the breaks into \n) */
    it = load_ok(&p, "version: 1\r\nmetrics:\r\n  - key: k\r\n    shape: rows\r\n    ttl: 1m\r\n"
                     "    query: |\r\n      SELECT a,\r\n        b\r\n");
    ck_assert_uint_eq(it->nqlines, 2);
    m = ds_item_query_mark(it, (size_t)(strchr(it->query, 'b') - it->query));
    ck_assert_int_eq(m.line, 8);
    ck_assert_int_eq(m.col, 9);
    ds_plan_free(&p);
}
END_TEST

START_TEST(query_mark_inline)
{
    ds_plan p;
    ds_item *it = load_ok(&p, ITEM("    shape: rows\n    ttl: 1m\n    query: SELECT a FROM t\n"));
    ck_assert_uint_eq(it->nqlines, 1);
    ds_mark m = ds_item_query_mark(it, 7);
    ck_assert_int_eq(m.line, 6);
    ck_assert_int_eq(m.col, 19);
    ds_plan_free(&p);

    it = load_ok(&p, ITEM("    shape: rows\n    ttl: 1m\n    query: \"SELECT a FROM t\"\n"));
    ck_assert_uint_eq(it->nqlines, 1);
    m = ds_item_query_mark(it, 7);
    ck_assert_int_eq(m.col, 20);
    ds_plan_free(&p);

    it = load_ok(&p, HEAD "  - {key: k, shape: rows, ttl: 1m, query: 'SELECT b'}\n");
    ck_assert_uint_eq(it->nqlines, 1);
    m = ds_item_query_mark(it, 7);
    ck_assert_int_eq(m.line, 3);
    ck_assert_int_eq(m.col, 51);
    ds_plan_free(&p);

    /* not exact: escapes, doubled quotes, folded and multi-line scalars */
    static const char *const inexact[] = {
        "    query: \"SELECT \\\"a\\\" FROM t\"\n",
        "    query: 'SELECT ''a'' FROM t'\n",
        "    query: >\n      SELECT a\n      FROM t\n",
        "    query: SELECT a\n      FROM t\n",
        "    query: \"SELECT a\n      FROM t\"\n",
    };
    for (size_t i = 0; i < sizeof inexact / sizeof inexact[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, ITEM("    shape: rows\n    ttl: 1m\n%s"), inexact[i]);
        it = load_ok(&p, text);
        ck_assert_msg(it->nqlines == 0, "case %zu claims an exact mapping", i);
        m = ds_item_query_mark(it, 9);
        ck_assert_int_eq(m.line, 6);
        ck_assert_int_eq(m.col, 12);
        ds_plan_free(&p);
    }
}
END_TEST

/* ---------------------------------------------------------------- hash */

static void hash_of(const char *text, char out[17])
{
    ds_plan p;
    ds_item *it = load_ok(&p, text);
    memcpy(out, it->hash, 17);
    ds_plan_free(&p);
}

#define SER(q, rest) "version: 1\ncharts:\n  - key: k\n    shape: series\n    query: " q "\n" rest

START_TEST(hash_stability)
{
    char base[17], h[17];
    hash_of(SER("SELECT 1", "    ttl: 1h\n    x: a\n    y: [b, c]\n    params: {p: 1, q: two}\n"), base);
    /* the same spec, differently written or differently tuned: same hash */
    static const char *const same[] = {
        SER("SELECT 1", "    ttl: 1h\n    x: a\n    y: [b, c]\n    params: {p: 1, q: two}\n"),
        SER("\"SELECT 1\"", "    ttl: 2h\n    x: a\n    y: [b, c]\n    params: {q: two, p: 1}\n"),
        SER("SELECT 1", "    ttl: 1h\n    refresh: 1m\n    timeout: 5s\n    max_rows: 5\n    max_bytes: 9\n"
            "    description: other\n    group: g\n    tags: [t]\n    x: a\n    y: [b, c]\n"
            "    params: {p: 0x1, q: \"two\"}\n"),
        "version: 1\ndefaults:\n  ttl: 3m\n  x: a\ncharts:\n  - key: k\n    shape: series\n"
        "    query: SELECT 1\n    y: [b, c]\n    params: {p: 1, q: two}\n    fill: null\n",
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        hash_of(same[i], h);
        ck_assert_msg(strcmp(h, base) == 0, "variant %zu changed the hash", i);
    }
    /* anything that changes the value: a different hash */
    static const char *const differ[] = {
        SER("SELECT 2", "    ttl: 1h\n    x: a\n    y: [b, c]\n    params: {p: 1, q: two}\n"),
        SER("\"SELECT 1 \"", "    ttl: 1h\n    x: a\n    y: [b, c]\n    params: {p: 1, q: two}\n"),
        SER("SELECT 1", "    ttl: 1h\n    x: a\n    y: [b, c]\n    params: {p: 2, q: two}\n"),
        SER("SELECT 1", "    ttl: 1h\n    x: a\n    y: [b, c]\n    params: {p: \"1\", q: two}\n"),
        SER("SELECT 1", "    ttl: 1h\n    x: a\n    y: [b, c]\n    params: {p: 1.0, q: two}\n"),
        SER("SELECT 1", "    ttl: 1h\n    x: a\n    y: [b, c]\n    params: {p: true, q: two}\n"),
        SER("SELECT 1", "    ttl: 1h\n    x: a\n    y: [b, c]\n    params: {pp: 1, q: two}\n"),
        SER("SELECT 1", "    ttl: 1h\n    x: a\n    y: [b, c]\n    params: {p: 1}\n"),
        SER("SELECT 1", "    ttl: 1h\n    x: z\n    y: [b, c]\n    params: {p: 1, q: two}\n"),
        SER("SELECT 1", "    ttl: 1h\n    x: a\n    y: [c, b]\n    params: {p: 1, q: two}\n"),
        SER("SELECT 1", "    ttl: 1h\n    x: a\n    y: [b]\n    params: {p: 1, q: two}\n"),
        SER("SELECT 1", "    ttl: 1h\n    x: a\n    params: {p: 1, q: two}\n"),
        SER("SELECT 1", "    ttl: 1h\n    x: a\n    y: b\n    series_by: c\n    params: {p: 1, q: two}\n"),
        SER("SELECT 1", "    ttl: 1h\n    x: a\n    y: [b, c]\n    fill: 0\n    params: {p: 1, q: two}\n"),
    };
    for (size_t i = 0; i < sizeof differ / sizeof differ[0]; i++) {
        hash_of(differ[i], h);
        ck_assert_msg(strcmp(h, base) != 0, "variant %zu kept the hash", i);
    }
    /* shape alone */
    char a[17], b[17];
    hash_of(ITEM("    query: SELECT 1\n    shape: row\n    ttl: 1m\n"), a);
    hash_of(ITEM("    query: SELECT 1\n    shape: rows\n    ttl: 1m\n"), b);
    ck_assert_str_ne(a, b);
    /* a known value, so a change of the serialization is noticed */
    ds_item it;
    memset(&it, 0, sizeof it);
    it.query = "SELECT 1";
    it.shape = DS_SHAPE_SCALAR;
    ds_item_hash(&it);
    ck_assert_uint_eq(strlen(it.hash), 16);
    char again[17];
    memcpy(again, it.hash, 17);
    ds_item_hash(&it);
    ck_assert_str_eq(it.hash, again);
}
END_TEST

/* ---------------------------------------------------------------- directories */

static char *load_dir_text(const char *dir, ds_plan *p, int *rc, ds_status *st)
{
    ds_diag d;
    ds_diag_init(&d);
    ds_plan_init(p);
    *rc = ds_spec_load_dir(dir, p, &d);
    ds_diag_sort(&d);
    if (st) *st = d.status;
    char *out = ds_diag_render(&d, DS_FMT_TEXT);
    ds_diag_free(&d);
    return out;
}

#define ONE(key) "version: 1\nmetrics:\n  - key: " key "\n    query: SELECT 1\n    shape: row\n    ttl: 1m\n"

START_TEST(dir_order_and_names)
{
    char *dir = ds_tmpdir();
    free(ds_write(dir, "a/x.yaml", ONE("ax")));
    free(ds_write(dir, "a.yaml", ONE("a_dot")));
    free(ds_write(dir, "a-b.yml", ONE("a_dash")));
    free(ds_write(dir, "b.yaml", ONE("b")));
    free(ds_write(dir, "B.yaml", ONE("upper_b")));
    free(ds_write(dir, ".hidden.yaml", ONE("hidden")));
    free(ds_write(dir, ".git/c.yaml", ONE("in_dot_dir")));
    free(ds_write(dir, "notes.txt", "not yaml: ["));
    free(ds_write(dir, "x.yaml.bak", "not yaml: ["));
    free(ds_write(dir, "c.YAML", "not yaml: ["));
    free(ds_write(dir, "deep/er/still/z.yaml", ONE("deep")));
    ds_plan p;
    int rc;
    size_t n = strlen(dir);
    char *withslash = malloc(n + 3);
    snprintf(withslash, n + 3, "%s//", dir);
    char *got = load_dir_text(withslash, &p, &rc, NULL);
    ck_assert_str_eq(got, "");
    ck_assert_int_eq(rc, 0);
    /* byte order of the relative path: B < a-b.yml < a.yaml < a/x.yaml < b < deep/... */
    static const char *const order[] = {"upper_b", "a_dash", "a_dot", "ax", "b", "deep"};
    ck_assert_uint_eq(p.n, 6);
    for (size_t i = 0; i < 6; i++) ck_assert_str_eq(p.items[i].key, order[i]);
    char want[4096];
    snprintf(want, sizeof want, "%s/a/x.yaml", dir);
    ck_assert_str_eq(p.items[3].file, want);      /* trailing slashes stripped */
    snprintf(want, sizeof want, "%s/deep/er/still/z.yaml", dir);
    ck_assert_str_eq(p.items[5].file, want);
    free(got);
    free(withslash);
    ds_plan_free(&p);
    ds_tmp_cleanup(dir);
}
END_TEST

START_TEST(dir_duplicates_across_files)
{
    char *dir = ds_tmpdir();
    free(ds_write(dir, "one.yaml", ONE("same")));
    free(ds_write(dir, "two.yaml", "version: 1\ncharts:\n  - shape: row\n    key: same\n    query: SELECT 2\n    ttl: 1m\n"));
    ds_plan p;
    int rc;
    char *got = load_dir_text(dir, &p, &rc, NULL);
    char want[4096];
    snprintf(want, sizeof want, "%s/two.yaml:4:10: error: duplicate key 'same'; first defined at %s/one.yaml:3 [same]\n",
             dir, dir);
    ck_assert_str_eq(got, want);
    ck_assert_int_eq(rc, -1);
    ck_assert_uint_eq(p.n, 2);
    ck_assert_int_eq(p.items[0].bad, 0);
    ck_assert_int_eq(p.items[1].bad, 1);
    ck_assert_int_eq(p.items[1].line, 3);
    free(got);
    ds_plan_free(&p);
    ds_tmp_cleanup(dir);
}
END_TEST

START_TEST(dir_hostile)
{
    char *dir = ds_tmpdir();
    char path[4096], target[4096];
    free(ds_write(dir, "a/ok.yaml", ONE("ok")));
    /* symlink loops: to itself, to an ancestor, to a sibling that links back */
    snprintf(path, sizeof path, "%s/a/loop", dir);
    ck_assert_int_eq(symlink("..", path), 0);
    snprintf(path, sizeof path, "%s/a/self", dir);
    ck_assert_int_eq(symlink(".", path), 0);
    snprintf(path, sizeof path, "%s/ring.yaml", dir);
    ck_assert_int_eq(symlink("ring.yaml", path), 0);
    /* a dangling link with a spec name is an error; a FIFO must not hang */
    snprintf(path, sizeof path, "%s/gone.yaml", dir);
    ck_assert_int_eq(symlink("nowhere.yaml", path), 0);
    snprintf(path, sizeof path, "%s/pipe.yaml", dir);
    ck_assert_int_eq(mkfifo(path, 0644), 0);
    /* a link to a file loads under its own name */
    snprintf(path, sizeof path, "%s/link.yaml", dir);
    snprintf(target, sizeof target, "%s/real.txt", dir);
    free(ds_write(dir, "real.txt", ONE("linked")));
    ck_assert_int_eq(symlink(target, path), 0);
    ds_plan p;
    int rc;
    char *got = load_dir_text(dir, &p, &rc, NULL);
    char want[8192];
    snprintf(want, sizeof want,
             "%s/gone.yaml:1:1: error: cannot read file: No such file or directory\n"
             "%s/pipe.yaml:1:1: error: cannot read file: not a regular file\n"
             "%s/ring.yaml:1:1: error: cannot read file: Too many levels of symbolic links\n",
             dir, dir, dir);
    ck_assert_str_eq(got, want);
    ck_assert_int_eq(rc, -1);
    ck_assert_uint_eq(p.n, 2);
    ck_assert_str_eq(p.items[0].key, "ok");
    ck_assert_str_eq(p.items[1].key, "linked");
    free(got);
    ds_plan_free(&p);
    ds_tmp_cleanup(dir);
}
END_TEST

START_TEST(dir_missing_and_big)
{
    ds_plan p;
    int rc;
    ds_status st;
    char *got = load_dir_text("/nonexistent/specs", &p, &rc, &st);
    ck_assert_str_eq(got, "dashspec: error: cannot open specs directory '/nonexistent/specs': No such file or directory\n");
    ck_assert_int_eq(rc, -1);
    ck_assert_int_eq(st, DS_USAGE);
    free(got);
    ds_plan_free(&p);

    char *dir = ds_tmpdir();
    char *file = ds_write(dir, "f.yaml", ONE("f"));
    got = load_dir_text(file, &p, &rc, &st);
    ck_assert_int_eq(st, DS_USAGE);
    ck_assert_ptr_nonnull(strstr(got, "is not a directory"));
    free(got);
    ds_plan_free(&p);
    free(file);

    /* a file far over the limit is refused without reading it all */
    char *big = ds_write(dir, "big.yaml", "version: 1\n");
    FILE *f = fopen(big, "r+b");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 64L * 1024 * 1024, SEEK_SET), 0);
    fputc('\n', f);
    fclose(f);
    got = load_dir_text(dir, &p, &rc, &st);
    char want[4096];
    snprintf(want, sizeof want, "%s/big.yaml:1:1: error: file is too large (the limit is 1048576 bytes)\n", dir);
    ck_assert_str_eq(got, want);
    ck_assert_int_eq(st, DS_OK);
    ck_assert_uint_eq(p.n, 1);
    free(got);
    free(big);
    ds_plan_free(&p);

    /* an empty directory is not an error */
    char *empty = ds_tmpdir();
    got = load_dir_text(empty, &p, &rc, &st);
    ck_assert_str_eq(got, "");
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(p.n, 0);
    free(got);
    ds_plan_free(&p);
    ds_tmp_cleanup(empty);
    ds_tmp_cleanup(dir);
}
END_TEST

START_TEST(dir_many_files)
{
    /* 1000 files load, in order, every key indexed once */
    char *dir = ds_tmpdir();
    for (int i = 0; i < 1000; i++) {
        char rel[64], text[512];
        snprintf(rel, sizeof rel, "g%02d/f%04d.yaml", i % 10, i);
        snprintf(text, sizeof text, "version: 1\nmetrics:\n  - key: k%04d\n    query: SELECT %d\n"
                 "    shape: scalar\n    ttl: 5m\n", i, i);
        free(ds_write(dir, rel, text));
    }
    free(ds_write(dir, "g99/dup.yaml", ONE("k0500")));
    ds_plan p;
    int rc;
    char *got = load_dir_text(dir, &p, &rc, NULL);
    char want[4096];
    snprintf(want, sizeof want, "%s/g99/dup.yaml:3:10: error: duplicate key 'k0500'; first defined at %s/g00/f0500.yaml:3 [k0500]\n", dir, dir);
    ck_assert_str_eq(got, want);
    ck_assert_uint_eq(p.n, 1001);
    ck_assert_str_eq(p.items[0].key, "k0000");
    ck_assert_str_eq(p.items[1].key, "k0010");
    free(got);
    ds_plan_free(&p);
    ds_tmp_cleanup(dir);
}
END_TEST

/* ---------------------------------------------------------------- valid fixtures */

START_TEST(valid_fixtures_fields)
{
    ds_plan p;
    int rc;
    char *root = ds_src("tests/fixtures/valid/all-fields/specs");
    char *got = load_dir_text(root, &p, &rc, NULL);
    ck_assert_str_eq(got, "");
    ck_assert_int_eq(rc, 0);
    free(got);

    ds_item *it = find(&p, "every_field");
    ck_assert_int_eq(it->kind, DS_KIND_CHART);
    ck_assert_int_eq(it->shape, DS_SHAPE_SERIES);
    ck_assert_str_eq(it->description, "Messages per channel and hour");
    ck_assert_str_eq(it->group, "outreach");
    ck_assert_uint_eq(it->ntags, 2);
    ck_assert_str_eq(it->tags[0], "messages");
    ck_assert_str_eq(it->tags[1], "hourly");
    ck_assert_int_eq(it->ttl, 3600);
    ck_assert_int_eq(it->refresh, 900);
    ck_assert_int_eq(it->timeout, 10);
    ck_assert_int_eq(it->max_rows, 5000);
    ck_assert_int_eq(it->max_bytes, 262144);
    ck_assert_str_eq(it->x, "hour");
    ck_assert_uint_eq(it->ny, 1);
    ck_assert_str_eq(it->y[0], "n");
    ck_assert_str_eq(it->series_by, "channel");
    ck_assert_str_eq(it->fill, "0");
    ck_assert_uint_eq(it->nparams, 4);
    ck_assert_str_eq(it->params[0].name, "hours");
    ck_assert_int_eq(it->params[0].type, DS_PARAM_INT);
    ck_assert_int_eq(it->params[0].i, 48);
    ck_assert_str_eq(it->params[1].name, "direction");
    ck_assert_str_eq(it->params[1].s, "out");
    ck_assert_int_eq(it->params[2].type, DS_PARAM_REAL);
    ck_assert_double_eq(it->params[2].r, 0.5);
    ck_assert_int_eq(it->params[3].type, DS_PARAM_BOOL);
    ck_assert_int_eq(it->params[3].i, 1);
    ck_assert_uint_ge(it->nqlines, 1);

    /* one item of every shape, both kinds, from defaults */
    static const struct { const char *key; ds_shape s; ds_kind k; } shapes[] = {
        {"sites_total", DS_SHAPE_SCALAR, DS_KIND_METRIC}, {"latest_site", DS_SHAPE_ROW, DS_KIND_METRIC},
        {"recent_errors", DS_SHAPE_ROWS, DS_KIND_METRIC}, {"sites_by_status", DS_SHAPE_MAP, DS_KIND_METRIC},
        {"llm_cost_daily", DS_SHAPE_SERIES, DS_KIND_CHART},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        ds_item *s = find(&p, shapes[i].key);
        ck_assert_int_eq(s->shape, shapes[i].s);
        ck_assert_int_eq(s->kind, shapes[i].k);
        ck_assert_int_eq(s->bad, 0);
        ck_assert_str_eq(s->group, "overview");
        ck_assert_int_eq(s->ttl, 900);
    }
    ds_item *c = find(&p, "llm_cost_daily");
    ck_assert_uint_eq(c->ny, 2);
    ck_assert_str_eq(c->y[1], "tokens");
    ck_assert_ptr_nonnull(c->m_ys);
    ck_assert_str_eq(c->fill, "null");
    ds_plan_free(&p);
    free(root);

    /* defaults: what reaches which item */
    root = ds_src("tests/fixtures/valid/defaults/specs");
    got = load_dir_text(root, &p, &rc, NULL);
    ck_assert_str_eq(got, "");
    free(got);
    free(root);
    ck_assert_uint_eq(p.n, 3);
    it = find(&p, "uses_all_defaults");
    ck_assert_int_eq(it->shape, DS_SHAPE_ROWS);
    ck_assert_int_eq(it->ttl, 2700);
    ck_assert_int_eq(it->refresh, 1800);
    ck_assert_int_eq(it->timeout, 5);
    ck_assert_int_eq(it->max_rows, 50);
    ck_assert_int_eq(it->max_bytes, 65536);
    ck_assert_str_eq(it->description, "from defaults");
    ck_assert_str_eq(it->group, "ops");
    ck_assert_uint_eq(it->ntags, 1);
    ck_assert_str_eq(it->tags[0], "shared");
    ck_assert_ptr_null(it->x);
    ck_assert_ptr_null(it->fill);
    it = find(&p, "overrides_some");
    ck_assert_int_eq(it->ttl, 1);
    ck_assert_int_eq(it->refresh, 0);
    ck_assert_uint_eq(it->ntags, 0);             /* tags: [] clears the default */
    ck_assert_str_eq(it->group, "other");
    it = find(&p, "series_from_defaults");
    ck_assert_int_eq(it->kind, DS_KIND_CHART);
    ck_assert_str_eq(it->x, "day");
    ck_assert_uint_eq(it->ny, 1);
    ck_assert_str_eq(it->y[0], "n");
    ck_assert_str_eq(it->fill, "0");
    ds_plan_free(&p);

    /* YAML styles: BOM + CR LF, flow, folded, plain multi-line, unicode;
     * hidden files and folders are skipped (they are broken on purpose) */
    root = ds_src("tests/fixtures/valid/yaml-styles/specs");
    got = load_dir_text(root, &p, &rc, NULL);
    ck_assert_str_eq(got, "");
    free(got);
    free(root);
    ck_assert_uint_eq(p.n, 6);
    it = find(&p, "crlf_count");
    ck_assert_str_eq(it->query, "SELECT COUNT(*)\nFROM messages\n");
    ck_assert_uint_eq(it->nqlines, 2);
    ck_assert_int_eq(it->line, 5);
    ck_assert_int_eq(find(&p, "flow_one")->refresh, 60);
    ck_assert_int_eq(find(&p, "flow_two")->ttl, 5400);
    ck_assert_int_eq(find(&p, "flow_two")->shape, DS_SHAPE_ROWS);
    it = find(&p, "folded_query");
    ck_assert_str_eq(it->query, "SELECT stage, SUM(tokens) FROM llm_usage GROUP BY stage ORDER BY stage");
    ck_assert_uint_eq(it->nqlines, 0);
    ck_assert_int_eq(it->timeout, 60);
    ck_assert_str_eq(find(&p, "plain_multiline")->query, "SELECT MAX(created_at) FROM sites");
    it = find(&p, "unicode_text");
    ck_assert_str_eq(it->description, "Größe — 統計 ✓");
    ck_assert_uint_eq(it->nparams, 4);
    ck_assert_str_eq(it->params[0].s, "éé");
    ck_assert_int_eq(it->params[1].i, -1);
    ck_assert_double_eq(it->params[2].r, 1e-3);
    ck_assert_int_eq(it->params[3].type, DS_PARAM_BOOL);
    ck_assert_int_eq(it->params[3].i, 0);
    ds_plan_free(&p);
}
END_TEST

/* ---------------------------------------------------------------- JSON Schema */

static int in_list(const char *s, const char *const *v)
{
    for (; *v; v++) if (strcmp(*v, s) == 0) return 1;
    return 0;
}

START_TEST(json_schema_matches_fields)
{
    char *path = ds_src("docs/spec.schema.json");
    char *text = ds_slurp(path);
    ck_assert_msg(text != NULL, "cannot read %s", path);
    cJSON *root = cJSON_Parse(text);
    ck_assert_msg(root != NULL, "docs/spec.schema.json is not valid JSON");
    cJSON *defs = cJSON_GetObjectItemCaseSensitive(root, "definitions");
    cJSON *item = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(defs, "item"), "properties");
    cJSON *dflt = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(defs, "defaults"), "properties");
    cJSON *top = cJSON_GetObjectItemCaseSensitive(root, "properties");
    ck_assert_ptr_nonnull(item);
    ck_assert_ptr_nonnull(dflt);
    ck_assert_ptr_nonnull(top);

    /* item properties == ds_item_fields, both ways */
    size_t n = 0;
    cJSON *e;
    cJSON_ArrayForEach(e, item) {
        ck_assert_msg(in_list(e->string, ds_item_fields), "schema item field '%s' unknown to the loader", e->string);
        n++;
    }
    for (size_t i = 0; ds_item_fields[i]; i++)
        ck_assert_msg(cJSON_GetObjectItemCaseSensitive(item, ds_item_fields[i]) != NULL,
                      "schema lacks item field '%s'", ds_item_fields[i]);
    size_t nf = 0;
    while (ds_item_fields[nf]) nf++;
    ck_assert_uint_eq(n, nf);

    /* defaults: every item field but key, query and params */
    cJSON_ArrayForEach(e, dflt) {
        ck_assert_msg(in_list(e->string, ds_item_fields), "schema defaults field '%s' unknown", e->string);
        ck_assert_msg(strcmp(e->string, "key") && strcmp(e->string, "query") && strcmp(e->string, "params"),
                      "schema allows '%s' in defaults", e->string);
    }
    for (size_t i = 0; ds_item_fields[i]; i++) {
        const char *f = ds_item_fields[i];
        int excluded = !strcmp(f, "key") || !strcmp(f, "query") || !strcmp(f, "params");
        ck_assert_msg(excluded || cJSON_GetObjectItemCaseSensitive(dflt, f) != NULL,
                      "schema defaults lacks '%s'", f);
    }
    static const char *const tops[] = {"version", "defaults", "metrics", "charts", NULL};
    n = 0;
    cJSON_ArrayForEach(e, top) {
        ck_assert_msg(in_list(e->string, tops), "schema top-level field '%s' unknown", e->string);
        n++;
    }
    ck_assert_uint_eq(n, 4);
    /* unknown fields are errors for the loader: the schema must say so too */
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(root, "additionalProperties")));
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(defs, "item"),
                                                             "additionalProperties")));
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(defs, "defaults"),
                                                             "additionalProperties")));
    cJSON_Delete(root);
    free(text);
    free(path);
}
END_TEST

/* ---------------------------------------------------------------- one pass */

START_TEST(every_error_in_one_pass)
{
    /* errors in several items, defaults and the top level all come out */
    ds_plan p;
    ds_plan_init(&p);
    char *got = load(&p, "version: 3\nfoo: 1\ndefaults:\n  ttl: x\nmetrics:\n"
                         "  - {key: a, query: 1, shape: row}\n"
                         "  - {key: b, query: SELECT 1, shape: bad}\n"
                         "charts:\n"
                         "  - {key: c, query: SELECT 1, shape: series, ttl: 1m, refresh: 2m}\n");
    ck_assert_str_eq(got,
        "t.yaml:1:10: error: unsupported version 3; this dashspec reads version 1\n"
        "t.yaml:2:1: error: unknown field 'foo'\n"
        "t.yaml:4:8: error: invalid ttl 'x': expected a duration like 90s, 15m, 1h30m or 7d\n"
        "t.yaml:6:21: error: 'query' must be a string, found an integer [a]\n"
        "t.yaml:7:38: error: unknown shape 'bad'; expected scalar, row, rows, map or series [b]\n"
        "t.yaml:9:5: error: missing required field 'x' (shape series needs it) [c]\n"
        "t.yaml:9:64: error: refresh (2m) must be less than ttl (1m) [c]\n");
    free(got);
    ck_assert_uint_eq(p.n, 3);
    for (size_t i = 0; i < p.n; i++) ck_assert_int_eq(p.items[i].bad, 1);
    ds_plan_free(&p);
}
END_TEST

/* 100k tags and 20k params load with geometric growth: the reallocations of
 * the growable arrays stay logarithmic (a per-element realloc made this
 * quadratic: over 30 s under ASan). Counts, not clocks. */
START_TEST(many_tags_linear)
{
    enum { NTAGS = 100000, NPARAMS = 20000 };
    ds_buf b;
    ds_buf_init(&b);
    ds_buf_adds(&b, HEAD "  - key: many\n    query: SELECT 1\n    shape: scalar\n    ttl: 1h\n    tags: [");
    for (int i = 0; i < NTAGS; i++) ds_buf_adds(&b, i ? ",t" : "t");
    ds_buf_adds(&b, "]\n    params: {");
    for (int i = 0; i < NPARAMS; i++) ds_buf_printf(&b, "%sp%d: %d", i ? ", " : "", i, i);
    ds_buf_adds(&b, "}\n");
    ck_assert(!b.oom);
    ds_plan p;
    ds_plan_init(&p);
    unsigned long before = ds_vec_growths();
    int rc;
    char *out = loadn(&p, b.p, b.len, &rc);
    unsigned long growths = ds_vec_growths() - before;
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(p.n, 1);
    ck_assert_uint_eq(p.items[0].ntags, NTAGS);
    ck_assert_uint_eq(p.items[0].nparams, NPARAMS);
    /* log2(100k) is 17: a few dozen across every array, never thousands. */
    ck_assert_msg(growths < 200, "%lu reallocations", growths);
    free(out);
    ds_plan_free(&p);
    ds_buf_free(&b);
}
END_TEST

Suite *spec_suite(void)
{
    Suite *s = suite_create("spec");
    TCase *t = tcase_create("loader");
    /* Loader only, in memory, well under 0.1 s a test; 60 s for valgrind. */
    tcase_set_timeout(t, 60);
    tcase_add_test(t, contract_example_loads);
    tcase_add_test(t, item_fields_table);
    tcase_add_test(t, defaults_merge);
    tcase_add_test(t, defaults_errors);
    tcase_add_test(t, refresh_rules);
    tcase_add_test(t, required_fields);
    tcase_add_test(t, version_rules);
    tcase_add_test(t, top_level);
    tcase_add_test(t, unknown_fields_suggest);
    tcase_add_test(t, duplicate_mapping_keys);
    tcase_add_test(t, duplicate_item_keys);
    tcase_add_test(t, anchors_aliases_tags);
    tcase_add_test(t, core_schema_params);
    tcase_add_test(t, params_errors);
    tcase_add_test(t, wrong_types);
    tcase_add_test(t, value_rules);
    tcase_add_test(t, durations);
    tcase_add_test(t, series_rules);
    tcase_add_test(t, fill_text);
    tcase_add_test(t, file_level_errors);
    tcase_add_test(t, bytes_and_encodings);
    tcase_add_test(t, limits);
    tcase_add_test(t, query_mark_literal);
    tcase_add_test(t, query_mark_inline);
    tcase_add_test(t, hash_stability);
    tcase_add_test(t, every_error_in_one_pass);
    tcase_add_test(t, many_tags_linear);
    suite_add_tcase(s, t);
    TCase *dirs = tcase_create("dirs");
    tcase_set_timeout(dirs, 120);
    tcase_add_test(dirs, dir_order_and_names);
    tcase_add_test(dirs, dir_duplicates_across_files);
    tcase_add_test(dirs, dir_hostile);
    tcase_add_test(dirs, dir_missing_and_big);
    tcase_add_test(dirs, dir_many_files);
    tcase_add_test(dirs, valid_fixtures_fields);
    tcase_add_test(dirs, json_schema_matches_fields);
    suite_add_tcase(s, dirs);
    return s;
}

/*
 * check_pg_value.c — PostgreSQL values to JSON against a live throwaway
 * server: literals of every supported type selected through a session set
 * up by ds_pg_connect, rendered, compared with the expected JSON text; the
 * refused types name the column and what to cast to. Also connecting and
 * password redaction.
 */
#include <stdlib.h>
#include <string.h>
#include "postgres/ds_pg.h"
#include "ds_test.h"
#include "ds_test_pg.h"

static PGconn *session(void)
{
    ds_diag d;
    ds_diag_init(&d);
    PGconn *c = ds_pg_connect(ds_pg_test_conninfo(), &d);
    ck_assert_msg(c != NULL, "ds_pg_connect: %s", d.n ? d.v[0].msg : "?");
    ds_diag_free(&d);
    return c;
}

/* Selects expr (one column named v) and returns its JSON text, or the
 * error message prefixed with "ERR:". *key gets the key text (or NULL). */
static char *render(PGconn *c, const char *expr, char **key)
{
    char *sql = ds_asprintf("SELECT %s AS v", expr);
    PGresult *r = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql, PQresultErrorMessage(r));
    ck_assert_int_eq(PQntuples(r), 1);
    ds_buf b, k;
    ds_buf_init(&b);
    ds_buf_init(&k);
    char *err = NULL;
    unsigned oid = PQftype(r, 0);
    const char *v = PQgetvalue(r, 0, 0);
    size_t n = (size_t)PQgetlength(r, 0, 0);
    int null = PQgetisnull(r, 0, 0);
    char *out;
    if (ds_pg_value_json(&b, oid, v, n, null, "v", &err)) {
        out = ds_asprintf("ERR:%s", err);
        free(err);
        ds_buf_free(&b);
        if (key) *key = NULL;
    } else {
        out = ds_buf_steal(&b);
        if (key) {
            int kr = ds_pg_value_key(&k, oid, v, n, null, "v", &err);
            ck_assert_int_ge(kr, 0);
            *key = kr ? ds_buf_steal(&k) : NULL;
        }
    }
    ds_buf_free(&k);
    PQclear(r);
    free(sql);
    return out;
}

static void expect(PGconn *c, const char *expr, const char *json, const char *key)
{
    char *k = NULL;
    char *got = render(c, expr, &k);
    ck_assert_msg(strcmp(got, json) == 0, "%s: got %s, want %s", expr, got, json);
    if (key) ck_assert_msg(k && strcmp(k, key) == 0, "%s: key %s, want %s", expr, k ? k : "NULL", key);
    else ck_assert_msg(k == NULL, "%s: key %s, want none", expr, k);
    free(got);
    free(k);
}

START_TEST(integers_and_numeric)
{
    DS_PG_REQUIRE();
    PGconn *c = session();
    expect(c, "1::int2", "1", "1");
    expect(c, "(-32768)::int2", "-32768", "-32768");
    expect(c, "2147483647", "2147483647", "2147483647");
    expect(c, "9223372036854775807::int8", "9223372036854775807", "9223372036854775807");
    expect(c, "(-9223372036854775807 - 1)::int8", "-9223372036854775808", "-9223372036854775808");
    expect(c, "12345678901234567890.000100::numeric", "12345678901234567890.000100",
           "12345678901234567890.000100");
    expect(c, "0.1 + 0.2", "0.3", "0.3");
    expect(c, "(-0.5)::numeric", "-0.5", "-0.5");
    expect(c, "1e-20::numeric", "0.00000000000000000001", "0.00000000000000000001");
    expect(c, "'NaN'::numeric", "null", "null");
    expect(c, "'Infinity'::numeric", "null", "null");
    expect(c, "'-Infinity'::numeric", "null", "null");
    expect(c, "42::oid", "42", "42");
    PQfinish(c);
}
END_TEST

START_TEST(floats)
{
    DS_PG_REQUIRE();
    PGconn *c = session();
    expect(c, "0.1::float8", "0.1", "0.1");
    expect(c, "(0.1::float8 + 0.2::float8)", "0.30000000000000004", "0.30000000000000004");
    expect(c, "1::float8", "1.0", "1.0");
    expect(c, "100::float8", "100.0", "100.0");
    expect(c, "1e16::float8", "1e+16", "1e+16");
    expect(c, "1.5e300::float8", "1.5e+300", "1.5e+300");
    expect(c, "5e-324::float8", "5e-324", "5e-324");
    expect(c, "'-0'::float8", "-0.0", "-0.0");
    expect(c, "0.0001::float8", "0.0001", "0.0001");
    expect(c, "0.00001::float8", "1e-05", "1e-05");
    expect(c, "'NaN'::float8", "null", "null");
    expect(c, "'Infinity'::float8", "null", "null");
    expect(c, "'-Infinity'::float8", "null", "null");
    /* float4: the server's shortest float4 text, read as a double */
    expect(c, "0.1::float4", "0.1", "0.1");
    expect(c, "16777217::float4", "16777216.0", "16777216.0");
    expect(c, "3.4028235e38::float4", "3.4028235e+38", "3.4028235e+38");
    PQfinish(c);
}
END_TEST

START_TEST(bools_strings_json)
{
    DS_PG_REQUIRE();
    PGconn *c = session();
    expect(c, "true", "true", "true");
    expect(c, "1 > 2", "false", "false");
    expect(c, "'héllo \"q\" \\ x'::text", "\"héllo \\\"q\\\" \\\\ x\"", "héllo \"q\" \\ x");
    expect(c, "'ab'::varchar(5)", "\"ab\"", "ab");
    expect(c, "'ab'::char(4)", "\"ab  \"", "ab  ");
    expect(c, "'pg_class'::name", "\"pg_class\"", "pg_class");
    expect(c, "'a'::\"char\"", "\"a\"", "a");
    expect(c, "'tab\tnl\n'::text", "\"tab\\tnl\\n\"", "tab\tnl\n");
    expect(c, "''::text", "\"\"", "");
    expect(c, "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid", "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"",
           "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    expect(c, "'{\"a\": [1, 2.50, null]}'::json", "{\"a\": [1, 2.50, null]}", "{\"a\": [1, 2.50, null]}");
    expect(c, "'{\"b\":1, \"a\": [1, 2.50]}'::jsonb", "{\"a\": [1, 2.50], \"b\": 1}",
           "{\"a\": [1, 2.50], \"b\": 1}");
    expect(c, "'\"s\"'::jsonb", "\"s\"", "\"s\"");
    expect(c, "json_build_object('n', 12345678901234567890)", "{\"n\" : 12345678901234567890}",
           "{\"n\" : 12345678901234567890}");
    expect(c, "NULL::text", "null", NULL);
    expect(c, "NULL::int", "null", NULL);
    expect(c, "NULL::bytea", "null", NULL);
    PQfinish(c);
}
END_TEST

START_TEST(dates_and_times)
{
    DS_PG_REQUIRE();
    PGconn *c = session();
    expect(c, "'2026-12-02'::date", "\"2026-12-02\"", "2026-12-02");
    expect(c, "'2026-12-02 08:26:00'::timestamp", "\"2026-12-02 08:26:00\"", "2026-12-02 08:26:00");
    expect(c, "'2026-12-02 08:26:00.25'::timestamp", "\"2026-12-02 08:26:00.25\"", "2026-12-02 08:26:00.25");
    /* timestamptz prints in the session's UTC, whatever zone the input had */
    expect(c, "'2026-12-02 09:26:00+01'::timestamptz", "\"2026-12-02 08:26:00+00\"", "2026-12-02 08:26:00+00");
    expect(c, "'2026-12-02 08:26:00.5Z'::timestamptz", "\"2026-12-02 08:26:00.5+00\"",
           "2026-12-02 08:26:00.5+00");
    expect(c, "'08:26'::time", "\"08:26:00\"", "08:26:00");
    expect(c, "'08:26+02'::timetz", "\"08:26:00+02\"", "08:26:00+02");
    expect(c, "'infinity'::timestamptz", "\"infinity\"", "infinity");
    expect(c, "'0044-03-15 BC'::date", "\"0044-03-15 BC\"", "0044-03-15 BC");
    PQfinish(c);
}
END_TEST

START_TEST(refused_types)
{
    DS_PG_REQUIRE();
    PGconn *c = session();
    expect(c, "'\\x00ff'::bytea", "ERR:column \"v\" has type bytea: cast it to text (encode(v, 'hex'))", NULL);
    expect(c, "ARRAY[1,2]", "ERR:column \"v\" has type integer[]: turn it into JSON (to_json(v)) "
           "or text (array_to_string(v, ','))", NULL);
    expect(c, "interval '1 day'", "ERR:column \"v\" has type interval: cast it to a number "
           "(extract(epoch FROM v)) or to text (v::text)", NULL);
    expect(c, "'1.2.3.4'::inet", "ERR:column \"v\" has type inet: cast it to text (v::text) or to a number",
           NULL);
    expect(c, "point(1,2)", "ERR:column \"v\" has type point: cast it to text (v::text) or to a number",
           NULL);
    /* the advice for a type without a known name, and with a name looked up */
    char *a = ds_pg_type_advice(600001, NULL, "x");
    ck_assert_str_eq(a, "column \"x\" has type OID 600001: cast it to text (x::text) or to a number");
    free(a);
    a = ds_pg_type_advice(600001, "my_enum", "x");
    ck_assert_str_eq(a, "column \"x\" has type my_enum: cast it to text (x::text) or to a number");
    free(a);
    ck_assert_ptr_null(ds_pg_type_advice(DS_PG_INT4, NULL, "x"));
    PQfinish(c);
}
END_TEST

/* ---------------------------------------------------------------- connecting */

START_TEST(is_uri)
{
    ck_assert_int_eq(ds_pg_is_uri("postgres://u@h/db"), 1);
    ck_assert_int_eq(ds_pg_is_uri("postgresql:///db?host=/tmp"), 1);
    ck_assert_int_eq(ds_pg_is_uri("PostgreSQL://h"), 1);
    ck_assert_int_eq(ds_pg_is_uri("host=/run/pg dbname=app"), 1);
    ck_assert_int_eq(ds_pg_is_uri("  dbname = app"), 1);
    ck_assert_int_eq(ds_pg_is_uri("sslmode=require"), 1);
    ck_assert_int_eq(ds_pg_is_uri("app.db"), 0);
    ck_assert_int_eq(ds_pg_is_uri("/var/lib/app.db"), 0);
    ck_assert_int_eq(ds_pg_is_uri("./host=x.db"), 0);
    ck_assert_int_eq(ds_pg_is_uri("colour=red.db"), 0);     /* not a libpq keyword */
    ck_assert_int_eq(ds_pg_is_uri("file:app.db?mode=ro"), 0);
    ck_assert_int_eq(ds_pg_is_uri(":memory:"), 0);
    ck_assert_int_eq(ds_pg_is_uri(""), 0);
    ck_assert_int_eq(ds_pg_is_uri(NULL), 0);
}
END_TEST

static void redacts(const char *in, const char *want)
{
    char *got = ds_pg_redact(in);
    ck_assert_msg(got && strcmp(got, want) == 0, "redact(%s) = %s, want %s", in, got ? got : "NULL", want);
    free(got);
}

START_TEST(redaction)
{
    redacts("postgres://app:s3cret@db.example/app", "postgres://app:***@db.example/app");
    redacts("postgresql://app:p%40ss:w@db/app?sslmode=require", "postgresql://app:***@db/app?sslmode=require");
    redacts("postgres://app@db/app", "postgres://app@db/app");
    redacts("postgres://db:5432/app", "postgres://db:5432/app");
    redacts("postgres:///app?host=/tmp&password=hunter22&user=a", "postgres:///app?host=/tmp&password=***&user=a");
    redacts("host=h password=hunter22 dbname=x", "host=h password=*** dbname=x");
    redacts("host=h PASSWORD = 'two words\\' here' dbname=x", "host=h PASSWORD = *** dbname=x");
    redacts("password=abc", "password=***");
    redacts("error near \"postgres://u:pw@h/d\": bad", "error near \"postgres://u:***@h/d\": bad");
    redacts("old_password=x", "old_password=x");
    redacts("no secrets here: password is wrong", "no secrets here: password is wrong");
    redacts("", "");
    ck_assert_ptr_null(ds_pg_redact(NULL));
}
END_TEST

START_TEST(connect_session)
{
    DS_PG_REQUIRE();
    PGconn *c = session();
    PGresult *r = PQexec(c, "SELECT current_setting('TimeZone'), current_setting('DateStyle'), "
                            "current_setting('extra_float_digits'), current_setting('client_encoding'), "
                            "current_setting('application_name')");
    ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
    ck_assert_str_eq(PQgetvalue(r, 0, 0), "UTC");
    ck_assert_str_eq(PQgetvalue(r, 0, 1), "ISO, YMD");
    ck_assert_str_eq(PQgetvalue(r, 0, 2), "1");
    ck_assert_str_eq(PQgetvalue(r, 0, 3), "UTF8");
    ck_assert_str_eq(PQgetvalue(r, 0, 4), "dashspec");
    PQclear(r);
    ds_pg_close(c);
    ds_pg_close(NULL);
}
END_TEST

START_TEST(connect_failure_redacted)
{
    DS_PG_REQUIRE();
    ds_diag d;
    ds_diag_init(&d);
    char *tmp = ds_tmpdir();
    char *uri = ds_asprintf("postgresql://nobody:topsecret77@/nodb?host=%s&connect_timeout=5", tmp);
    ck_assert_ptr_null(ds_pg_connect(uri, &d));
    ck_assert_int_eq(d.status, DS_DBERROR);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_ptr_null(strstr(d.v[0].msg, "topsecret77"));
    ck_assert_ptr_nonnull(strstr(d.v[0].msg, "postgresql://nobody:***@/nodb"));
    ck_assert_ptr_null(strchr(d.v[0].msg, '\n'));     /* libpq's lines joined */
    ds_diag_free(&d);
    free(uri);
    /* a wrong database on the live server: the message is libpq's, redacted */
    ds_diag_init(&d);
    char *ci = ds_asprintf("%s password=topsecret77 dbname=nosuchdb", ds_pg_test_conninfo());
    ck_assert_ptr_null(ds_pg_connect(ci, &d));
    ck_assert_ptr_nonnull(strstr(d.v[0].msg, "nosuchdb"));
    ck_assert_ptr_null(strstr(d.v[0].msg, "topsecret77"));
    ds_diag_free(&d);
    free(ci);
    ds_tmp_cleanup(tmp);
}
END_TEST

Suite *pg_value_suite(void)
{
    Suite *s = suite_create("pg_value");
    TCase *t = tcase_create("values");
    ds_pg_test_fixture(t);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, integers_and_numeric);
    tcase_add_test(t, floats);
    tcase_add_test(t, bools_strings_json);
    tcase_add_test(t, dates_and_times);
    tcase_add_test(t, refused_types);
    suite_add_tcase(s, t);
    t = tcase_create("connect");
    ds_pg_test_fixture(t);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, is_uri);
    tcase_add_test(t, redaction);
    tcase_add_test(t, connect_session);
    tcase_add_test(t, connect_failure_redacted);
    suite_add_tcase(s, t);
    return s;
}

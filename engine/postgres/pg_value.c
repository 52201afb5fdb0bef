/*
 * pg_value.c — one PostgreSQL result value (text format, as the session set
 * up by pg_conn.c prints it) to the JSON text of the cached value and to the
 * text a map key or series name uses. The table is in docs/postgres.md,
 * "Values".
 *
 * Numbers keep the server's digits where JSON can hold them exactly
 * (integers, numeric); floats go through strtod and ds_json_double so a
 * double prints the same as on SQLite (Python repr). Types with no faithful
 * JSON form (bytea, arrays, geometric, ...) are refused with advice on what
 * to cast to, rather than guessed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ds_pg.h"

ds_pg_class ds_pg_type_class(unsigned oid)
{
    switch (oid) {
    case DS_PG_INT2: case DS_PG_INT4: case DS_PG_INT8: case DS_PG_OID:
        return DS_PGC_INT;
    case DS_PG_NUMERIC:
        return DS_PGC_NUMERIC;
    case DS_PG_FLOAT4: case DS_PG_FLOAT8:
        return DS_PGC_FLOAT;
    case DS_PG_BOOL:
        return DS_PGC_BOOL;
    case DS_PG_TEXT: case DS_PG_VARCHAR: case DS_PG_BPCHAR: case DS_PG_NAME: case DS_PG_CHAR:
    case DS_PG_UNKNOWN: case DS_PG_DATE: case DS_PG_TIME: case DS_PG_TIMETZ:
    case DS_PG_TIMESTAMP: case DS_PG_TIMESTAMPTZ: case DS_PG_UUID:
        return DS_PGC_STRING;
    case DS_PG_JSON: case DS_PG_JSONB:
        return DS_PGC_JSON;
    default:
        return DS_PGC_UNSUPPORTED;
    }
}

/* Names of common unsupported types, for advice without a catalog lookup. */
static const struct { unsigned oid; const char *name; } known[] = {
    {DS_PG_BYTEA, "bytea"}, {DS_PG_INTERVAL, "interval"}, {142, "xml"}, {650, "cidr"},
    {869, "inet"}, {829, "macaddr"}, {790, "money"}, {1560, "bit"}, {1562, "bit varying"},
    {600, "point"}, {3614, "tsvector"}, {1000, "boolean[]"}, {1005, "smallint[]"},
    {1007, "integer[]"}, {1009, "text[]"}, {1015, "character varying[]"},
    {1016, "bigint[]"}, {1021, "real[]"}, {1022, "double precision[]"},
    {1231, "numeric[]"}, {1182, "date[]"}, {1115, "timestamp without time zone[]"},
    {1185, "timestamp with time zone[]"}, {2951, "uuid[]"}, {199, "json[]"},
    {3807, "jsonb[]"}, {1001, "bytea[]"},
};

char *ds_pg_type_advice(unsigned oid, const char *typname, const char *col)
{
    if (ds_pg_type_class(oid) != DS_PGC_UNSUPPORTED) return NULL;
    char guess[32];
    if (!typname) {
        for (size_t i = 0; i < sizeof known / sizeof *known && !typname; i++)
            if (known[i].oid == oid) typname = known[i].name;
        if (!typname) {
            snprintf(guess, sizeof guess, "OID %u", oid);
            typname = guess;
        }
    }
    if (!col) col = "?";
    size_t tl = strlen(typname);
    if (oid == DS_PG_BYTEA)
        return ds_asprintf("column \"%s\" has type bytea: cast it to text (encode(%s, 'hex'))",
                           col, col);
    if (tl > 2 && strcmp(typname + tl - 2, "[]") == 0)
        return ds_asprintf("column \"%s\" has type %s: turn it into JSON (to_json(%s)) "
                           "or text (array_to_string(%s, ','))", col, typname, col, col);
    if (oid == DS_PG_INTERVAL)
        return ds_asprintf("column \"%s\" has type interval: cast it to a number "
                           "(extract(epoch FROM %s)) or to text (%s::text)", col, col, col);
    return ds_asprintf("column \"%s\" has type %s: cast it to text (%s::text) or to a number",
                       col, typname, col);
}

/* 1 when the numeric text is NaN or ±Infinity (no JSON number). */
static int numeric_special(const char *s, size_t n)
{
    if (n && (*s == '-' || *s == '+')) { s++; n--; }
    return n && (s[0] == 'N' || s[0] == 'I' || s[0] == 'n' || s[0] == 'i');
}

/* Parses a float8/float4 text; 0 ok. "NaN", "Infinity", "-Infinity" parse
 * to non-finite doubles. */
static int parse_float(const char *s, size_t n, double *v)
{
    char tmp[64], *end;
    if (n == 0 || n >= sizeof tmp) return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    *v = strtod(tmp, &end);
    return *end ? -1 : 0;
}

static int bad_value(char **err, const char *col, const char *what, const char *s, size_t n)
{
    *err = ds_asprintf("column \"%s\": malformed %s value \"%.*s\"", col ? col : "?", what,
                       (int)(n > 40 ? 40 : n), s);
    return -1;
}

int ds_pg_value_json(ds_buf *b, unsigned oid, const char *s, size_t n, int isnull,
                     const char *col, char **err)
{
    double v;
    if (isnull) { ds_buf_add(b, "null", 4); return 0; }
    switch (ds_pg_type_class(oid)) {
    case DS_PGC_INT:
        if (n == 0) return bad_value(err, col, "integer", s, n);
        ds_buf_add(b, s, n);
        return 0;
    case DS_PGC_NUMERIC:
        if (n == 0) return bad_value(err, col, "numeric", s, n);
        if (numeric_special(s, n)) ds_buf_add(b, "null", 4);
        else ds_buf_add(b, s, n);
        return 0;
    case DS_PGC_FLOAT:
        if (parse_float(s, n, &v)) return bad_value(err, col, "float", s, n);
        ds_json_double(b, v);
        return 0;
    case DS_PGC_BOOL:
        if (n == 1 && (*s == 't' || *s == 'f')) {
            ds_buf_adds(b, *s == 't' ? "true" : "false");
            return 0;
        }
        return bad_value(err, col, "boolean", s, n);
    case DS_PGC_STRING:
        ds_json_string(b, s, n);
        return 0;
    case DS_PGC_JSON:
        if (n == 0) return bad_value(err, col, "json", s, n);
        ds_buf_add(b, s, n);
        return 0;
    default:
        *err = ds_pg_type_advice(oid, NULL, col);
        if (!*err) *err = ds_strdup("out of memory");
        return -1;
    }
}

int ds_pg_value_key(ds_buf *b, unsigned oid, const char *s, size_t n, int isnull,
                    const char *col, char **err)
{
    if (isnull) return 0;
    switch (ds_pg_type_class(oid)) {
    case DS_PGC_FLOAT:
    case DS_PGC_BOOL:
    case DS_PGC_NUMERIC:
        return ds_pg_value_json(b, oid, s, n, 0, col, err) ? -1 : 1;
    case DS_PGC_UNSUPPORTED:
        return ds_pg_value_json(b, oid, s, n, 0, col, err) ? -1 : 1;
    default:
        ds_buf_add(b, s, n);    /* integers, strings, dates, json: as printed */
        return 1;
    }
}

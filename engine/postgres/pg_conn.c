/*
 * pg_conn.c — which --db strings are PostgreSQL, connecting through libpq,
 * the session settings every value rendering relies on, and password
 * redaction for everything that reaches output (docs/postgres.md).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "ds_pg.h"

/* Session settings the value rendering (pg_value.c) and the tokenizer
 * (pg_sql.c: '' strings without backslash escapes) depend on. PostgreSQL 12+
 * prints the shortest exact text of a float when extra_float_digits > 0;
 * 1 is the default, set anyway so a server configured with 0 (15 rounded
 * digits) cannot lose precision.
 *
 * JIT is turned off unless someone chose it (postgresql.conf, ALTER
 * ROLE/DATABASE, PGOPTIONS: pg_settings.source is then not 'default'):
 * measured on the example at scale 12 (docs/postgres.md, "Benchmark"), it
 * made hourly_throughput_48h 1.2 s instead of 0.1 s, and every parallel
 * query after it in the same session ~2.5x slower (most likely each
 * parallel worker then loads the leader's LLVM library). A dashboard's queries are
 * recomputed every few minutes: JIT code is compiled again every time.
 * The SELECT comes first so the last result is a SET's (COMMAND_OK). */
static const char session_setup[] =
    "SELECT set_config('jit', 'off', false) FROM pg_settings WHERE name = 'jit' AND source = 'default';"
    " SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres';"
    " SET extra_float_digits = 1; SET client_encoding = 'UTF8';"
    " SET standard_conforming_strings = on";

/* Server notices (NOTICE, WARNING) would go to stderr by default: the
 * library never prints. */
static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* 1 when s[0..n) is a libpq connection keyword. */
static int is_keyword(const char *s, size_t n)
{
    /* Without libpq (not installed) the common keywords still select the
     * engine, whose connect then says what is missing. */
    PQconninfoOption *opts = ds_pq_available(NULL) ? PQconndefaults() : NULL;
    int found = 0;
    if (!opts) {
        static const char *const common[] = {"host", "hostaddr", "port", "dbname", "user",
                                             "password", "passfile", "service", "sslmode",
                                             "application_name", "options", "connect_timeout"};
        for (size_t i = 0; i < sizeof common / sizeof *common; i++)
            if (strlen(common[i]) == n && strncmp(common[i], s, n) == 0) return 1;
        return 0;
    }
    for (PQconninfoOption *o = opts; o->keyword && !found; o++)
        found = strlen(o->keyword) == n && strncmp(o->keyword, s, n) == 0;
    PQconninfoFree(opts);
    return found;
}

int ds_pg_is_uri(const char *db)
{
    if (!db) return 0;
    if (strncasecmp(db, "postgres://", 11) == 0 || strncasecmp(db, "postgresql://", 13) == 0)
        return 1;
    const char *p = db;
    while (isspace((unsigned char)*p)) p++;
    const char *k = p;
    while (isalnum((unsigned char)*p) || *p == '_') p++;
    size_t n = (size_t)(p - k);
    while (isspace((unsigned char)*p)) p++;
    return n > 0 && *p == '=' && is_keyword(k, n);
}

/* ---------------------------------------------------------------- redaction */

/* The end of a conninfo/URI value starting at s[i]: a '...' quoted value
 * (backslash escapes), else up to a blank, '&', '#' or the end. */
static size_t value_end(const char *s, size_t i)
{
    if (s[i] == '\'') {
        for (i++; s[i] && s[i] != '\''; i++)
            if (s[i] == '\\' && s[i + 1]) i++;
        return s[i] ? i + 1 : i;
    }
    while (s[i] && !isspace((unsigned char)s[i]) && s[i] != '&' && s[i] != '#' && s[i] != '"')
        i++;
    return i;
}

/* When s[i] starts "scheme://" returns the index after "//", else 0. */
static size_t uri_authority(const char *s, size_t i)
{
    size_t j = i;
    if (i > 0 && (isalnum((unsigned char)s[i - 1]) || s[i - 1] == '+')) return 0;
    while (isalnum((unsigned char)s[j]) || s[j] == '+' || s[j] == '-' || s[j] == '.') j++;
    if (j == i || strncmp(s + j, "://", 3) != 0) return 0;
    return j + 3;
}

char *ds_pg_redact(const char *s)
{
    if (!s) return NULL;
    ds_buf b;
    ds_buf_init(&b);
    ds_buf_add(&b, "", 0);
    size_t i = 0;
    while (s[i]) {
        size_t a = uri_authority(s, i);
        if (a) {
            /* userinfo ends at '@' before any '/', '?', '#' or blank */
            size_t j = a, colon = 0;
            while (s[j] && s[j] != '@' && s[j] != '/' && s[j] != '?' && s[j] != '#' &&
                   !isspace((unsigned char)s[j])) {
                if (s[j] == ':' && !colon) colon = j;
                j++;
            }
            if (s[j] == '@' && colon) {
                ds_buf_add(&b, s + i, colon + 1 - i);
                ds_buf_adds(&b, "***");
                i = j;
            } else {
                ds_buf_add(&b, s + i, a - i);
                i = a;
            }
            continue;
        }
        if (strncasecmp(s + i, "password", 8) == 0 &&
            (i == 0 || !(isalnum((unsigned char)s[i - 1]) || s[i - 1] == '_'))) {
            size_t j = i + 8;
            while (s[j] == ' ' || s[j] == '\t') j++;
            if (s[j] == '=') {
                j++;
                while (s[j] == ' ' || s[j] == '\t') j++;
                ds_buf_add(&b, s + i, j - i);
                ds_buf_adds(&b, "***");
                i = value_end(s, j);
                continue;
            }
        }
        ds_buf_addc(&b, s[i]);
        i++;
    }
    return ds_buf_steal(&b);
}

/* Replaces every occurrence of secret (when at least 4 bytes: shorter ones
 * would blank out ordinary words) in a malloc'd string; frees the input. */
static char *redact_secret(char *s, const char *secret)
{
    size_t n = secret ? strlen(secret) : 0;
    if (!s || n < 4 || !strstr(s, secret)) return s;
    ds_buf b;
    ds_buf_init(&b);
    const char *p = s, *q;
    while ((q = strstr(p, secret))) {
        ds_buf_add(&b, p, (size_t)(q - p));
        ds_buf_adds(&b, "***");
        p = q + n;
    }
    ds_buf_adds(&b, p);
    free(s);
    return ds_buf_steal(&b);
}

/* Makes a libpq message one line, in place: trailing blanks go, and each
 * inner line break (with the indentation after it) becomes "; ". */
static char *trim(char *s)
{
    if (!s) return s;
    size_t n = strlen(s), j = 0;
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\n' && s[i] != '\r') { s[j++] = s[i]; continue; }
        while (i + 1 < n && isspace((unsigned char)s[i + 1])) i++;
        while (j && s[j - 1] == ' ') j--;
        if (j < i) { s[j++] = ';'; s[j++] = ' '; }
        else s[j++] = ' ';
    }
    s[j] = '\0';
    return s;
}

char *ds_pg_conn_error(PGconn *c)
{
    const char *m = c ? PQerrorMessage(c) : NULL;
    if (!m || !*m) m = c ? "connection failed" : "out of memory";
    char *r = trim(ds_pg_redact(m));
    return c ? redact_secret(r, PQpass(c)) : r;
}

char *ds_pg_result_error(PGconn *c, const PGresult *r)
{
    const char *prim = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!prim) {
        const char *m = r ? PQresultErrorMessage(r) : NULL;
        if (!m || !*m) return ds_pg_conn_error(c);
        return redact_secret(trim(ds_pg_redact(m)), c ? PQpass(c) : NULL);
    }
    const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
    const char *hint = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT);
    ds_buf b;
    ds_buf_init(&b);
    ds_buf_adds(&b, prim);
    if (detail) ds_buf_printf(&b, " (detail: %s)", detail);
    if (hint) ds_buf_printf(&b, " (hint: %s)", hint);
    char *s = ds_buf_steal(&b);
    char *red = trim(ds_pg_redact(s));
    free(s);
    return redact_secret(red, c ? PQpass(c) : NULL);
}

/* ---------------------------------------------------------------- connecting */

PGconn *ds_pg_connect(const char *db, ds_diag *d)
{
    const char *const keys[] = {"dbname", "fallback_application_name", NULL};
    const char *const vals[] = {db, "dashspec", NULL};
    const char *why;
    if (!ds_pq_available(&why)) {
        char *where = ds_pg_redact(db);
        ds_fail(d, DS_DBERROR, "cannot connect to %s: %s", where ? where : "the database", why);
        free(where);
        return NULL;
    }
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        char *m = ds_pg_conn_error(c);
        char *where = ds_pg_redact(db);
        ds_fail(d, DS_DBERROR, "cannot connect to %s: %s", where ? where : "the database",
                m ? m : "out of memory");
        free(where);
        free(m);
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, quiet, NULL);
    PGresult *r = PQexec(c, session_setup);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        char *m = ds_pg_result_error(c, r);
        ds_fail(d, DS_DBERROR, "cannot set up the session: %s", m ? m : "out of memory");
        free(m);
        PQclear(r);
        PQfinish(c);
        return NULL;
    }
    PQclear(r);
    return c;
}

void ds_pg_close(PGconn *c)
{
    if (c) PQfinish(c);
}

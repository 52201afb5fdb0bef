/*
 * ds_sql_scan.c — the compiler's own SQL scanner (compiler/ds_sql.c uses it):
 * strings, quoted identifiers, comments, parameters and statement ends, so
 * that `check` without a schema still finds a second statement, a write, a
 * positional or undeclared parameter. It follows SQLite's lexical rules, with
 * `::` read as an operator (PostgreSQL's cast), so `x::text` is no parameter.
 * Pure functions over the query text; nothing here touches a database.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "ds_compiler.h"
#include "ds_vec.h"

/* ---------------------------------------------------------------- tokens */

/* SQLite's IdChar: letters, digits, '_', '$' and every byte >= 0x80. */
static int idchar(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

static int idstart(unsigned char c)
{
    return isalpha(c) || c == '_' || c >= 0x80;
}

/* Skips blanks and comments from q[i]; returns the next offset. An unclosed
 * block comment runs to the end of the input, as in SQLite. */
size_t ds_sql_skip_blank(const char *q, size_t i)
{
    for (;;) {
        unsigned char c = (unsigned char)q[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') { i++; continue; }
        if (c == '-' && q[i + 1] == '-') {
            while (q[i] && q[i] != '\n') i++;
            continue;
        }
        if (c == '/' && q[i + 1] == '*') {
            i += 2;
            while (q[i] && !(q[i] == '*' && q[i + 1] == '/')) i++;
            if (q[i]) i += 2;
            continue;
        }
        return i;
    }
}

/* A quoted run starting at q[i] (the opening quote) closed by `close`, where a
 * doubled close quote is an escape (except for [...]). Returns the length,
 * and sets *bad when the input ends first. */
static size_t quoted(const char *q, size_t i, char close, int doubling, int *bad)
{
    size_t j = i + 1;
    for (;;) {
        if (!q[j]) { *bad = 1; return j - i; }
        if (q[j] == close) {
            if (doubling && q[j + 1] == close) { j += 2; continue; }
            return j + 1 - i;
        }
        j++;
    }
}

/* Reads the token at q[i] (after blanks). Returns 0 at the end of input. */
static int lex(const char *q, size_t i, ds_sql_tok *out)
{
    unsigned char c = (unsigned char)q[i];
    size_t j = i;
    int bad = 0;
    if (!c) return 0;
    out->off = i;
    if ((c == 'x' || c == 'X') && q[i + 1] == '\'') {
        out->len = 1 + quoted(q, i + 1, '\'', 1, &bad);
        out->t = bad ? DS_TK_BAD : DS_TK_STR;
        return 1;
    }
    if (idstart(c)) {
        while (idchar((unsigned char)q[j])) j++;
        out->t = DS_TK_WORD;
        out->len = j - i;
        return 1;
    }
    if (isdigit(c) || (c == '.' && isdigit((unsigned char)q[i + 1]))) {
        int hex = c == '0' && (q[i + 1] == 'x' || q[i + 1] == 'X');
        j++;
        for (;;) {
            unsigned char d = (unsigned char)q[j];
            if (isalnum(d) || d == '_' || d == '.') { j++; continue; }
            if (!hex && (d == '+' || d == '-') && (q[j - 1] == 'e' || q[j - 1] == 'E')) { j++; continue; }
            break;
        }
        out->t = DS_TK_NUM;
        out->len = j - i;
        return 1;
    }
    switch (c) {
    case '\'': out->len = quoted(q, i, '\'', 1, &bad); out->t = bad ? DS_TK_BAD : DS_TK_STR; return 1;
    case '"':  out->len = quoted(q, i, '"', 1, &bad); out->t = bad ? DS_TK_BAD : DS_TK_QID; return 1;
    case '`':  out->len = quoted(q, i, '`', 1, &bad); out->t = bad ? DS_TK_BAD : DS_TK_QID; return 1;
    case '[':  out->len = quoted(q, i, ']', 0, &bad); out->t = bad ? DS_TK_BAD : DS_TK_QID; return 1;
    case ';': out->t = DS_TK_SEMI; out->len = 1; return 1;
    case '(': out->t = DS_TK_LP; out->len = 1; return 1;
    case ')': out->t = DS_TK_RP; out->len = 1; return 1;
    case ',': out->t = DS_TK_COMMA; out->len = 1; return 1;
    case '.': out->t = DS_TK_DOT; out->len = 1; return 1;
    case '?':
        j++;
        while (isdigit((unsigned char)q[j])) j++;
        out->t = DS_TK_PARAM;
        out->len = j - i;
        return 1;
    case ':': case '@':
        if (q[i] == ':' && q[i + 1] == ':') {
            /* PostgreSQL's cast (x::text): an operator, never a parameter
             * (SQLite has no '::' and rejects it when it prepares). */
            out->t = DS_TK_OP;
            out->len = 2;
            return 1;
        }
        j++;
        while (idchar((unsigned char)q[j])) j++;
        out->t = j > i + 1 ? DS_TK_PARAM : DS_TK_OP;
        out->len = j - i;
        return 1;
    case '$':
        /* SQLite also reads Tcl-style names: $a::b and $a(index). */
        j++;
        for (;;) {
            if (idchar((unsigned char)q[j])) { j++; continue; }
            if (q[j] == ':' && q[j + 1] == ':') { j += 2; continue; }
            if (q[j] == '(' && j > i + 1) {
                size_t k = j + 1;
                while (q[k] && q[k] != ')' && !isspace((unsigned char)q[k])) k++;
                if (q[k] == ')') j = k + 1;
            }
            break;
        }
        out->t = j > i + 1 ? DS_TK_PARAM : DS_TK_OP;
        out->len = j - i;
        return 1;
    default:
        out->t = DS_TK_OP;
        out->len = 1;
        return 1;
    }
}

/* Splits q into tokens. 0 ok, -1 out of memory. */
int ds_sql_tokenize(const char *q, ds_sql_toks *ts)
{
    size_t i = 0;
    ds_sql_tok t;
    ts->v = NULL;
    ts->n = ts->cap = 0;
    for (;;) {
        i = ds_sql_skip_blank(q, i);
        if (!lex(q, i, &t)) return 0;
        if (ts->n == ts->cap) {
            size_t cap = ts->cap ? ts->cap * 2 : 32;
            ds_sql_tok *v = realloc(ts->v, cap * sizeof *v);
            if (!v) { free(ts->v); ts->v = NULL; ts->n = ts->cap = 0; return -1; }
            ts->v = v;
            ts->cap = cap;
        }
        ts->v[ts->n++] = t;
        i = t.off + t.len;
    }
}

int ds_sql_tok_is(const char *q, const ds_sql_tok *t, const char *word)
{
    return t->t == DS_TK_WORD && strlen(word) == t->len && strncasecmp(q + t->off, word, t->len) == 0;
}

/* The text of an identifier token without its quotes (malloc'd). */
char *ds_sql_ident_text(const char *q, const ds_sql_tok *t)
{
    if (t->t != DS_TK_QID) return ds_strndup(q + t->off, t->len);
    char close = q[t->off] == '[' ? ']' : q[t->off];
    ds_buf b;
    ds_buf_init(&b);
    for (size_t k = t->off + 1; k + 1 < t->off + t->len; k++) {
        ds_buf_addc(&b, q[k]);
        if (close != ']' && q[k] == close) k++;     /* "" -> " */
    }
    return ds_buf_steal(&b);
}

/* ---------------------------------------------------------------- the scanner */

/* Statement words that are never a query; named in "X is not allowed". */
const char *const ds_sql_write_verbs[] = {
    "INSERT", "UPDATE", "DELETE", "REPLACE", "UPSERT", "CREATE", "DROP", "ALTER",
    "PRAGMA", "ATTACH", "DETACH", "BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT",
    "RELEASE", "VACUUM", "ANALYZE", "REINDEX", "EXPLAIN", NULL
};

int ds_sql_in_list(const char *const *list, const char *q, const ds_sql_tok *t)
{
    for (size_t i = 0; list[i]; i++)
        if (ds_sql_tok_is(q, t, list[i])) return 1;
    return 0;
}

static void set_verb(ds_sql_scan *s, const char *q, const ds_sql_tok *t)
{
    size_t n = t->len < sizeof s->verb - 1 ? t->len : sizeof s->verb - 1;
    for (size_t k = 0; k < n; k++) s->verb[k] = (char)toupper((unsigned char)q[t->off + k]);
    s->verb[n] = '\0';
    s->verb_off = t->off;
}

int ds_sql_scan_query(const char *q, ds_sql_scan *s)
{
    static const char *const main_verbs[] = {"SELECT", "VALUES", "INSERT", "UPDATE", "DELETE", "REPLACE", NULL};
    ds_sql_toks ts;
    memset(s, 0, sizeof *s);
    s->second = -1;
    s->unterminated = -1;
    if (!q) q = "";
    s->start = strlen(q);
    if (ds_sql_tokenize(q, &ts)) return -1;
    int rc = 0;
    size_t i = 0;
    while (i < ts.n && ts.v[i].t == DS_TK_SEMI) i++;      /* leading empty statements */
    if (i < ts.n) s->start = ts.v[i].off;
    size_t first = i;
    /* The first statement runs to the first ';'; anything but further ';'
     * after it is a second statement. */
    size_t end = first;
    while (end < ts.n && ts.v[end].t != DS_TK_SEMI) end++;
    for (size_t k = end; k < ts.n; k++)
        if (ts.v[k].t != DS_TK_SEMI) { s->second = (long)ts.v[k].off; break; }
    if (first < end && ts.v[first].t == DS_TK_WORD) {
        set_verb(s, q, &ts.v[first]);
        if (ds_sql_tok_is(q, &ts.v[first], "CREATE") || ds_sql_tok_is(q, &ts.v[first], "DROP")) {
            /* Name what is created: "CREATE TEMP TABLE is not allowed". */
            static const char *const objs[] = {"TEMP", "TEMPORARY", "UNIQUE", "VIRTUAL", "TABLE", "VIEW",
                                               "INDEX", "TRIGGER", NULL};
            for (size_t k = first + 1; k < end && ds_sql_in_list(objs, q, &ts.v[k]); k++) {
                size_t n = strlen(s->verb);
                if (n + 1 + ts.v[k].len >= sizeof s->verb) break;
                s->verb[n] = ' ';
                for (size_t c = 0; c < ts.v[k].len; c++)
                    s->verb[n + 1 + c] = (char)toupper((unsigned char)q[ts.v[k].off + c]);
                s->verb[n + 1 + ts.v[k].len] = '\0';
            }
        }
        if (ds_sql_tok_is(q, &ts.v[first], "WITH")) {
            /* WITH may front SELECT or a write: the main statement's verb is the
             * first of those words outside every parenthesis. */
            int depth = 0;
            for (size_t k = first + 1; k < end; k++) {
                if (ts.v[k].t == DS_TK_LP) depth++;
                else if (ts.v[k].t == DS_TK_RP) depth--;
                else if (depth == 0 && ds_sql_in_list(main_verbs, q, &ts.v[k])) { set_verb(s, q, &ts.v[k]); break; }
            }
        }
    }
    size_t pcap = 0;
    for (size_t k = 0; k < ts.n; k++) {
        const ds_sql_tok *t = &ts.v[k];
        if (t->t == DS_TK_BAD && s->unterminated < 0) s->unterminated = (long)t->off;
        if (t->t != DS_TK_PARAM) continue;
        ds_sql_param_use *v = ds_vec_grow(s->params, &pcap, s->nparams, sizeof *v);
        if (!v) { rc = -1; goto out; }
        s->params = v;
        ds_sql_param_use *u = &s->params[s->nparams];
        u->off = t->off;
        u->positional = q[t->off] == '?';
        if (!(u->text = ds_strndup(q + t->off, t->len))) { rc = -1; goto out; }
        s->nparams++;
    }
out:
    free(ts.v);
    if (rc) ds_sql_scan_free(s);
    return rc;
}

void ds_sql_scan_free(ds_sql_scan *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->nparams; i++) free(s->params[i].text);
    free(s->params);
    s->params = NULL;
    s->nparams = 0;
}


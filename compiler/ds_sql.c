/*
 * ds_sql.c — the SQL half of the compiler: every rule about an item's query.
 *
 * Two layers. A small SQL scanner of our own (strings, quoted identifiers,
 * comments, parameters, statement ends) runs on every query, with or without a
 * database, so `check` without a schema still finds a second statement, a
 * write, a positional or undeclared parameter. With a database the query is
 * then prepared under an authorizer that allows only reads, functions and
 * recursive CTEs, and its result columns are checked against the item's shape.
 * The same authorizer guards the runtime's prepares (ds_sqlite_authorizer).
 *
 * Positions follow the contract: an SQLite error with an offset points at that
 * token inside the YAML file, an undeclared parameter at its use, a second
 * statement at its start, shape-vs-columns at `shape`, a missing x/y/series_by
 * column at that field, an unused parameter at its params entry, anything else
 * at the start of the query's value.
 */
#include <ctype.h>
#include "sqlite/sqlite_int.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "ds_compiler.h"

/* ---------------------------------------------------------------- tokens */

enum tok_type {
    T_WORD,     /* bare identifier or keyword */
    T_QID,      /* "quoted", `quoted` or [quoted] identifier */
    T_STR,      /* 'string' or X'blob' */
    T_NUM,      /* numeric literal */
    T_PARAM,    /* ?, ?NNN, :name, @name, $name */
    T_SEMI,     /* ; */
    T_LP,       /* ( */
    T_RP,       /* ) */
    T_COMMA,    /* , */
    T_DOT,      /* . */
    T_OP,       /* any other punctuation */
    T_BAD       /* unterminated string or quoted identifier (runs to the end) */
};

typedef struct tok { int t; size_t off, len; } tok;
typedef struct toks { tok *v; size_t n, cap; } toks;

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
static size_t skip_blank(const char *q, size_t i)
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
static int lex(const char *q, size_t i, tok *out)
{
    unsigned char c = (unsigned char)q[i];
    size_t j = i;
    int bad = 0;
    if (!c) return 0;
    out->off = i;
    if ((c == 'x' || c == 'X') && q[i + 1] == '\'') {
        out->len = 1 + quoted(q, i + 1, '\'', 1, &bad);
        out->t = bad ? T_BAD : T_STR;
        return 1;
    }
    if (idstart(c)) {
        while (idchar((unsigned char)q[j])) j++;
        out->t = T_WORD;
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
        out->t = T_NUM;
        out->len = j - i;
        return 1;
    }
    switch (c) {
    case '\'': out->len = quoted(q, i, '\'', 1, &bad); out->t = bad ? T_BAD : T_STR; return 1;
    case '"':  out->len = quoted(q, i, '"', 1, &bad); out->t = bad ? T_BAD : T_QID; return 1;
    case '`':  out->len = quoted(q, i, '`', 1, &bad); out->t = bad ? T_BAD : T_QID; return 1;
    case '[':  out->len = quoted(q, i, ']', 0, &bad); out->t = bad ? T_BAD : T_QID; return 1;
    case ';': out->t = T_SEMI; out->len = 1; return 1;
    case '(': out->t = T_LP; out->len = 1; return 1;
    case ')': out->t = T_RP; out->len = 1; return 1;
    case ',': out->t = T_COMMA; out->len = 1; return 1;
    case '.': out->t = T_DOT; out->len = 1; return 1;
    case '?':
        j++;
        while (isdigit((unsigned char)q[j])) j++;
        out->t = T_PARAM;
        out->len = j - i;
        return 1;
    case ':': case '@':
        j++;
        while (idchar((unsigned char)q[j])) j++;
        out->t = j > i + 1 ? T_PARAM : T_OP;
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
        out->t = j > i + 1 ? T_PARAM : T_OP;
        out->len = j - i;
        return 1;
    default:
        out->t = T_OP;
        out->len = 1;
        return 1;
    }
}

/* Splits q into tokens. 0 ok, -1 out of memory. */
static int tokenize(const char *q, toks *ts)
{
    size_t i = 0;
    tok t;
    ts->v = NULL;
    ts->n = ts->cap = 0;
    for (;;) {
        i = skip_blank(q, i);
        if (!lex(q, i, &t)) return 0;
        if (ts->n == ts->cap) {
            size_t cap = ts->cap ? ts->cap * 2 : 32;
            tok *v = realloc(ts->v, cap * sizeof *v);
            if (!v) { free(ts->v); ts->v = NULL; ts->n = ts->cap = 0; return -1; }
            ts->v = v;
            ts->cap = cap;
        }
        ts->v[ts->n++] = t;
        i = t.off + t.len;
    }
}

static int tok_is(const char *q, const tok *t, const char *word)
{
    return t->t == T_WORD && strlen(word) == t->len && strncasecmp(q + t->off, word, t->len) == 0;
}

/* The text of an identifier token without its quotes (malloc'd). */
static char *ident_text(const char *q, const tok *t)
{
    if (t->t != T_QID) return ds_strndup(q + t->off, t->len);
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
static const char *const write_verbs[] = {
    "INSERT", "UPDATE", "DELETE", "REPLACE", "UPSERT", "CREATE", "DROP", "ALTER",
    "PRAGMA", "ATTACH", "DETACH", "BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT",
    "RELEASE", "VACUUM", "ANALYZE", "REINDEX", "EXPLAIN", NULL
};

static int in_list(const char *const *list, const char *q, const tok *t)
{
    for (size_t i = 0; list[i]; i++)
        if (tok_is(q, t, list[i])) return 1;
    return 0;
}

static void set_verb(ds_sql_scan *s, const char *q, const tok *t)
{
    size_t n = t->len < sizeof s->verb - 1 ? t->len : sizeof s->verb - 1;
    for (size_t k = 0; k < n; k++) s->verb[k] = (char)toupper((unsigned char)q[t->off + k]);
    s->verb[n] = '\0';
    s->verb_off = t->off;
}

int ds_sql_scan_query(const char *q, ds_sql_scan *s)
{
    static const char *const main_verbs[] = {"SELECT", "VALUES", "INSERT", "UPDATE", "DELETE", "REPLACE", NULL};
    toks ts;
    memset(s, 0, sizeof *s);
    s->second = -1;
    s->unterminated = -1;
    if (!q) q = "";
    s->start = strlen(q);
    if (tokenize(q, &ts)) return -1;
    int rc = 0;
    size_t i = 0;
    while (i < ts.n && ts.v[i].t == T_SEMI) i++;      /* leading empty statements */
    if (i < ts.n) s->start = ts.v[i].off;
    size_t first = i;
    /* The first statement runs to the first ';'; anything but further ';'
     * after it is a second statement. */
    size_t end = first;
    while (end < ts.n && ts.v[end].t != T_SEMI) end++;
    for (size_t k = end; k < ts.n; k++)
        if (ts.v[k].t != T_SEMI) { s->second = (long)ts.v[k].off; break; }
    if (first < end && ts.v[first].t == T_WORD) {
        set_verb(s, q, &ts.v[first]);
        if (tok_is(q, &ts.v[first], "CREATE") || tok_is(q, &ts.v[first], "DROP")) {
            /* Name what is created: "CREATE TEMP TABLE is not allowed". */
            static const char *const objs[] = {"TEMP", "TEMPORARY", "UNIQUE", "VIRTUAL", "TABLE", "VIEW",
                                               "INDEX", "TRIGGER", NULL};
            for (size_t k = first + 1; k < end && in_list(objs, q, &ts.v[k]); k++) {
                size_t n = strlen(s->verb);
                if (n + 1 + ts.v[k].len >= sizeof s->verb) break;
                s->verb[n] = ' ';
                for (size_t c = 0; c < ts.v[k].len; c++)
                    s->verb[n + 1 + c] = (char)toupper((unsigned char)q[ts.v[k].off + c]);
                s->verb[n + 1 + ts.v[k].len] = '\0';
            }
        }
        if (tok_is(q, &ts.v[first], "WITH")) {
            /* WITH may front SELECT or a write: the main statement's verb is the
             * first of those words outside every parenthesis. */
            int depth = 0;
            for (size_t k = first + 1; k < end; k++) {
                if (ts.v[k].t == T_LP) depth++;
                else if (ts.v[k].t == T_RP) depth--;
                else if (depth == 0 && in_list(main_verbs, q, &ts.v[k])) { set_verb(s, q, &ts.v[k]); break; }
            }
        }
    }
    for (size_t k = 0; k < ts.n; k++) {
        const tok *t = &ts.v[k];
        if (t->t == T_BAD && s->unterminated < 0) s->unterminated = (long)t->off;
        if (t->t != T_PARAM) continue;
        if (s->nparams % 8 == 0) {
            ds_sql_param_use *v = realloc(s->params, (s->nparams + 8) * sizeof *v);
            if (!v) { rc = -1; goto out; }
            s->params = v;
        }
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

/* ---------------------------------------------------------------- validation */

static ds_mark qmark(const ds_item *it, size_t off)
{
    return ds_item_query_mark(it, off);
}

/* An error about the item at m; marks the item bad. Returns -1. */
static int item_error(ds_item *it, ds_diag *d, ds_mark m, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int item_error(ds_item *it, ds_diag *d, ds_mark m, const char *fmt, ...)
{
    ds_buf b;
    va_list ap;
    ds_buf_init(&b);
    va_start(ap, fmt);
    ds_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    ds_error(d, it->file, m.line, m.col, it->key, "%s", b.p ? b.p : "out of memory");
    ds_buf_free(&b);
    it->bad = 1;
    return -1;
}

static int is_read_verb(const char *v)
{
    return strcmp(v, "SELECT") == 0 || strcmp(v, "VALUES") == 0 || strcmp(v, "WITH") == 0;
}

/* Past this many undeclared (or unused) parameters in one item the rest are
 * counted, not listed: each position costs a walk over the query, and a
 * hostile query may name thousands. */
#define MAX_PARAM_ERRORS 50

/* Named parameter uses by name (without the prefix), then by offset. */
static int cmp_use(const void *a, const void *b)
{
    const ds_sql_param_use *x = *(const ds_sql_param_use *const *)a, *y = *(const ds_sql_param_use *const *)b;
    int c = strcmp(x->text + 1, y->text + 1);
    if (c) return c;
    return x->off < y->off ? -1 : x->off > y->off;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_key_use(const void *key, const void *elem)
{
    return strcmp((const char *)key, (*(const ds_sql_param_use *const *)elem)->text + 1);
}

static int cmp_key_name(const void *key, const void *elem)
{
    return strcmp((const char *)key, *(const char *const *)elem);
}

/* The rules that need no schema: statement count, verb, parameters. Sets
 * *prepare to 0 when preparing would only repeat an error found here. */
static int check_text(ds_item *it, const ds_sql_scan *s, int have_db, int *prepare, ds_diag *d)
{
    int rc = 0;
    const char *q = it->query;
    *prepare = 1;
    if (s->start >= strlen(q)) {
        *prepare = 0;
        return item_error(it, d, it->m_query, "query holds no SQL statement, so it returns no columns");
    }
    if (s->second >= 0)
        rc = item_error(it, d, qmark(it, (size_t)s->second),
                        "a second SQL statement after the first; a query is exactly one statement");
    if (s->unterminated >= 0 && !have_db) {
        char c = q[s->unterminated];
        rc = item_error(it, d, qmark(it, (size_t)s->unterminated), "unterminated %s",
                        c == '\'' || c == 'x' || c == 'X' ? "string" : "quoted identifier");
    }
    /* Verb: a known write or other statement is refused by name, before
     * SQLite reports something less useful ("no such table" for an INSERT). */
    int known_bad = 0;
    size_t vlen = strcspn(s->verb, " ");
    for (size_t i = 0; write_verbs[i]; i++)
        if (strlen(write_verbs[i]) == vlen && strncmp(s->verb, write_verbs[i], vlen) == 0) known_bad = 1;
    if (known_bad) {
        *prepare = 0;
        if (strcmp(s->verb, "EXPLAIN") == 0)
            rc = item_error(it, d, it->m_query, "EXPLAIN is not allowed: a query is one SELECT, WITH ... SELECT or VALUES statement");
        else
            rc = item_error(it, d, it->m_query, "statement is not read-only: %s is not allowed", s->verb);
    } else if (!is_read_verb(s->verb) && !have_db) {
        /* With a database, SQLite names the bad token itself. */
        rc = item_error(it, d, it->m_query, "not a query: it must start with SELECT, WITH or VALUES");
    }
    /* Parameters: every positional one, every undeclared name (at its first
     * use), every declared name never used. Sorted lists keep this
     * O(n log n): a hostile query may hold a hundred thousand uses. */
    const ds_sql_param_use **uses = malloc((s->nparams ? s->nparams : 1) * sizeof *uses);
    const char **names = malloc((it->nparams ? it->nparams : 1) * sizeof *names);
    size_t nu = 0, nundecl = 0, nunused = 0;
    int positional = 0;
    if (!uses || !names) {
        free(uses);
        free(names);
        it->bad = 1;
        return ds_fail(d, DS_DBERROR, "out of memory");
    }
    for (size_t i = 0; i < s->nparams; i++) {
        const ds_sql_param_use *u = &s->params[i];
        if (!u->positional) { uses[nu++] = u; continue; }
        if (!positional++)
            rc = item_error(it, d, it->m_query,
                            "positional parameter '%s' is not allowed; use a named parameter like :name declared in params",
                            u->text);
    }
    for (size_t j = 0; j < it->nparams; j++) names[j] = it->params[j].name;
    qsort(uses, nu, sizeof *uses, cmp_use);
    qsort(names, it->nparams, sizeof *names, cmp_name);
    for (size_t i = 0; i < nu; i++) {
        const char *name = uses[i]->text + 1;
        if (i > 0 && strcmp(uses[i - 1]->text + 1, name) == 0) continue;   /* not its first use */
        if (strcmp(name, "now") == 0) continue;
        if (bsearch(name, names, it->nparams, sizeof *names, cmp_key_name)) continue;
        if (nundecl++ < MAX_PARAM_ERRORS)
            rc = item_error(it, d, qmark(it, uses[i]->off), "parameter '%s' is not declared in params", uses[i]->text);
    }
    if (nundecl > MAX_PARAM_ERRORS)
        rc = item_error(it, d, it->m_query, "%zu more undeclared parameters not shown", nundecl - MAX_PARAM_ERRORS);
    for (size_t j = 0; j < it->nparams; j++) {
        const ds_param *pa = &it->params[j];
        if (strcmp(pa->name, "now") == 0) continue;     /* the loader reports that one */
        if (bsearch(pa->name, uses, nu, sizeof *uses, cmp_key_use)) continue;
        if (nunused++ >= MAX_PARAM_ERRORS) continue;
        ds_mark m = pa->mark.line ? pa->mark : it->m_params.line ? it->m_params : it->m_query;
        rc = item_error(it, d, m, "parameter '%s' is declared in params but not used in the query", pa->name);
    }
    if (nunused > MAX_PARAM_ERRORS)
        rc = item_error(it, d, it->m_params.line ? it->m_params : it->m_query,
                        "%zu more unused parameters not shown", nunused - MAX_PARAM_ERRORS);
    free(uses);
    free(names);
    if (it->shape == DS_SHAPE_SERIES && it->series_by && it->ny > 1)
        rc = item_error(it, d, it->m_y.line ? it->m_y : it->m_shape,
                        "series_by needs exactly one y column; y names %zu", it->ny);
    return rc;
}

/* "a, b, c" of the result columns, shortened past a dozen. */
static void column_list(ds_buf *b, sqlite3_stmt *st)
{
    int n = sqlite3_column_count(st);
    for (int i = 0; i < n; i++) {
        if (i == 12) { ds_buf_printf(b, ", ... (%d in all)", n); break; }
        const char *name = sqlite3_column_name(st, i);
        ds_buf_printf(b, "%s%s", i ? ", " : "", name ? name : "?");
    }
}

static int has_column(sqlite3_stmt *st, const char *name)
{
    int n = sqlite3_column_count(st);
    for (int i = 0; i < n; i++) {
        const char *c = sqlite3_column_name(st, i);
        if (c && strcmp(c, name) == 0) return 1;
    }
    return 0;
}

static ds_mark field_mark(const ds_item *it, ds_mark m)
{
    return m.line ? m : it->m_shape.line ? it->m_shape : it->m_query;
}

/* Result columns against the item's shape (contract section 2). */
static int check_columns(ds_item *it, sqlite3_stmt *st, ds_diag *d)
{
    int rc = 0, n = sqlite3_column_count(st);
    ds_buf cols;
    ds_buf_init(&cols);
    column_list(&cols, st);
    const char *cl = cols.p ? cols.p : "";
    /* Duplicate names collide as JSON keys. */
    for (int i = 0; i < n; i++) {
        const char *a = sqlite3_column_name(st, i);
        int first = 1;
        for (int j = 0; j < i && first; j++) {
            const char *b = sqlite3_column_name(st, j);
            if (a && b && strcmp(a, b) == 0) first = 0;
        }
        if (!first) continue;
        for (int j = i + 1; j < n; j++) {
            const char *b = sqlite3_column_name(st, j);
            if (a && b && strcmp(a, b) == 0) {
                rc = item_error(it, d, it->m_query,
                                "duplicate result column name '%s' (columns %d and %d); rename one with AS", a, i + 1, j + 1);
                break;
            }
        }
    }
    ds_mark ms = field_mark(it, it->m_shape);
    switch (it->shape) {
    case DS_SHAPE_SCALAR:
        if (n != 1)
            rc = item_error(it, d, ms, "shape scalar needs exactly 1 column; the query returns %d (%s)", n, cl);
        break;
    case DS_SHAPE_MAP:
        if (n != 2)
            rc = item_error(it, d, ms, "shape map needs exactly 2 columns (key, value); the query returns %d (%s)", n, cl);
        break;
    case DS_SHAPE_SERIES: {
        int xok = 1, byok = 1;
        if (it->x && !has_column(st, it->x)) {
            xok = 0;
            rc = item_error(it, d, field_mark(it, it->m_x), "x: no column '%s' in the query's result (columns: %s)", it->x, cl);
        }
        if (it->series_by && !has_column(st, it->series_by)) {
            byok = 0;
            rc = item_error(it, d, field_mark(it, it->m_series_by),
                            "series_by: no column '%s' in the query's result (columns: %s)", it->series_by, cl);
        }
        for (size_t i = 0; i < it->ny; i++) {
            if (has_column(st, it->y[i])) continue;
            ds_mark m = it->m_ys && it->m_ys[i].line ? it->m_ys[i] : field_mark(it, it->m_y);
            rc = item_error(it, d, m, "y: no column '%s' in the query's result (columns: %s)", it->y[i], cl);
        }
        if (it->ny == 0 && xok && byok) {
            int left = 0;
            for (int i = 0; i < n; i++) {
                const char *c = sqlite3_column_name(st, i);
                if (!c) continue;
                if (it->x && strcmp(c, it->x) == 0) continue;
                if (it->series_by && strcmp(c, it->series_by) == 0) continue;
                left++;
            }
            if (left == 0)
                rc = item_error(it, d, ms, "shape series has no value column: every column is x%s (columns: %s)",
                                it->series_by ? " or series_by" : "", cl);
            else if (it->series_by && left > 1)
                rc = item_error(it, d, ms,
                                "series_by needs exactly one y column; the query has %d besides x and series_by "
                                "(columns: %s); name one with y", left, cl);
        }
        break;
    }
    default:
        break;
    }
    ds_buf_free(&cols);
    return rc;
}

/* Errors of the database rather than of the query: reported once as a
 * database failure. */
static int db_level(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY: case SQLITE_LOCKED: case SQLITE_IOERR: case SQLITE_CORRUPT:
    case SQLITE_NOTADB: case SQLITE_CANTOPEN: case SQLITE_NOMEM: case SQLITE_FULL:
        return 1;
    default:
        return 0;
    }
}

/* Prepares it->query under the authorizer and checks what SQLite knows.
 * Returns 0, -1 for an error in the item, -2 for a database failure. */
static int check_prepared(ds_db *db, ds_item *it, const ds_sql_scan *s, ds_diag *d)
{
    sqlite3 *h = ds_sqlite_handle(db);
    ds_sqlite_auth au;
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    int r = 0;
    au.why[0] = '\0';
    sqlite3_set_authorizer(h, ds_sqlite_authorizer, &au);
    int rc = sqlite3_prepare_v3(h, it->query, -1, 0, &st, &tail);
    /* errmsg and the offset belong to this call: read both before anything else. */
    char *msg = rc != SQLITE_OK ? ds_strdup(sqlite3_errmsg(h)) : NULL;
    int eoff = rc != SQLITE_OK ? sqlite3_error_offset(h) : -1;
    sqlite3_set_authorizer(h, NULL, NULL);
    if (au.why[0]) {
        r = item_error(it, d, it->m_query, "%s", au.why);
        goto out;
    }
    if (rc != SQLITE_OK) {
        if (db_level(rc)) {
            it->bad = 1;
            ds_fail(d, DS_DBERROR, "cannot read the schema of '%s': %s", ds_db_path(db), msg ? msg : "out of memory");
            r = -2;
            goto out;
        }
        ds_mark m = eoff >= 0 && (size_t)eoff <= strlen(it->query) ? qmark(it, (size_t)eoff) : it->m_query;
        r = item_error(it, d, m, "%s", msg ? msg : "out of memory");
        goto out;
    }
    if (!st) {          /* only blanks and comments: the scanner said so already */
        if (s->start < strlen(it->query))
            r = item_error(it, d, it->m_query, "query holds no SQL statement, so it returns no columns");
        goto out;
    }
    /* SQLite's end of statement must agree with the scanner's. */
    if (s->second < 0 && tail) {
        size_t t = skip_blank(tail, 0);
        while (tail[t] == ';') t = skip_blank(tail, t + 1);
        if (tail[t])
            r = item_error(it, d, qmark(it, (size_t)(tail + t - it->query)),
                           "a second SQL statement after the first; a query is exactly one statement");
    }
    if (sqlite3_stmt_isexplain(st)) {
        r = item_error(it, d, it->m_query, "EXPLAIN is not allowed: a query is one SELECT, WITH ... SELECT or VALUES statement");
        goto out;
    }
    if (!sqlite3_stmt_readonly(st)) {
        r = item_error(it, d, it->m_query, "statement is not read-only");
        goto out;
    }
    if (sqlite3_column_count(st) == 0) {
        r = item_error(it, d, it->m_query, "statement returns no columns");
        goto out;
    }
    /* Every parameter SQLite sees must be one the scanner found, or the
     * parameter rules above were checked against the wrong names. */
    int np = sqlite3_bind_parameter_count(st);
    if (np > 0) {
        const char **texts = malloc((s->nparams ? s->nparams : 1) * sizeof *texts);
        if (!texts) { r = ds_fail(d, DS_DBERROR, "out of memory"); goto out; }
        for (size_t k = 0; k < s->nparams; k++) texts[k] = s->params[k].text;
        qsort(texts, s->nparams, sizeof *texts, cmp_name);
        for (int i = 1; i <= np; i++) {
            const char *pn = sqlite3_bind_parameter_name(st, i);
            if (!pn || pn[0] == '?') continue;          /* positional: reported by the scanner */
            if (!bsearch(pn, texts, s->nparams, sizeof *texts, cmp_key_name)) {
                r = item_error(it, d, it->m_query, "parameter '%s' is not understood; use :name", pn);
                break;
            }
        }
        free(texts);
    }
    if (check_columns(it, st, d)) r = -1;
out:
    sqlite3_finalize(st);
    free(msg);
    return r;
}

int ds_sql_validate(ds_db *db, ds_plan *p, ds_diag *d)
{
    size_t before = d->nerrors;
    for (size_t i = 0; i < p->n; i++) {
        ds_item *it = &p->items[i];
        if (!it->query || (it->bad && !it->sqlcheck)) continue;
        ds_sql_scan s;
        if (ds_sql_scan_query(it->query, &s)) {
            it->bad = 1;
            ds_fail(d, DS_DBERROR, "out of memory");
            break;
        }
        int prepare;
        check_text(it, &s, db != NULL, &prepare, d);
        int r = 0;
        if (db && prepare) r = check_prepared(db, it, &s, d);
        ds_sql_scan_free(&s);
        if (r == -2) break;         /* the database itself failed: stop */
    }
    return d->nerrors > before ? -1 : 0;
}

/* ---------------------------------------------------------------- query-plan lint */

/* Rows of a table: sqlite_stat1's estimate when ANALYZE was run, else count(*).
 * -1 when unknown. Each stat1 row starts with the rows its index covers: a
 * partial index covers fewer than the table, so the largest is taken. */
static int64_t table_rows(sqlite3 *h, const char *table)
{
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(h, "SELECT stat FROM sqlite_stat1 WHERE tbl = ?1", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *stat = (const char *)sqlite3_column_text(st, 0);
            int64_t k = stat ? strtoll(stat, NULL, 10) : -1;
            if (k > n) n = k;
        }
    }
    sqlite3_finalize(st);
    if (n >= 0) return n;
    char *sql = sqlite3_mprintf("SELECT count(*) FROM main.\"%w\"", table);
    if (!sql) return -1;
    st = NULL;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_free(sql);
    return n;
}

static int is_table(sqlite3 *h, const char *name)
{
    sqlite3_stmt *st = NULL;
    int r = 0;
    if (sqlite3_prepare_v2(h, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        r = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return r;
}

/* Words that end a table reference, so they are never taken for an alias. */
static const char *const not_alias[] = {
    "WHERE", "JOIN", "LEFT", "RIGHT", "FULL", "INNER", "CROSS", "NATURAL", "OUTER", "ON",
    "USING", "GROUP", "ORDER", "LIMIT", "HAVING", "WINDOW", "UNION", "EXCEPT", "INTERSECT",
    "INDEXED", "NOT", "AS", NULL
};

/* The table the name in "SCAN name" stands for: a table, or an alias of one
 * found after FROM/JOIN/',' in the query. NULL when neither (CTE, subquery). */
static char *resolve_scan(sqlite3 *h, const char *q, const toks *ts, const char *name)
{
    if (is_table(h, name)) return ds_strdup(name);
    for (size_t i = 1; i < ts->n; i++) {
        const tok *t = &ts->v[i];
        if (t->t != T_WORD && t->t != T_QID) continue;
        const tok *prev = &ts->v[i - 1];
        if (!(tok_is(q, prev, "FROM") || tok_is(q, prev, "JOIN") || prev->t == T_COMMA)) continue;
        size_t a = i + 1;
        if (a < ts->n && tok_is(q, &ts->v[a], "AS")) a++;
        if (a >= ts->n || (ts->v[a].t != T_WORD && ts->v[a].t != T_QID) ||
            (ts->v[a].t == T_WORD && in_list(not_alias, q, &ts->v[a])))
            continue;
        char *alias = ident_text(q, &ts->v[a]);
        int hit = alias && strcasecmp(alias, name) == 0;
        free(alias);
        if (!hit) continue;
        char *table = ident_text(q, t);
        if (table && is_table(h, table)) return table;
        free(table);
    }
    return NULL;
}

/* Columns of `table` (known as itself or `alias`) that the query filters,
 * joins or groups on: identifiers after WHERE, ON, USING, GROUP BY that name
 * a column of the table. Appended to b as "a, b". */
static void filter_columns(sqlite3 *h, const char *q, const toks *ts, const char *table,
                           const char *alias, ds_buf *b)
{
    static const char *const starts[] = {"WHERE", "ON", "USING", "GROUP", NULL};
    static const char *const stops[] = {
        "SELECT", "FROM", "JOIN", "ORDER", "LIMIT", "HAVING", "WINDOW", "UNION", "EXCEPT",
        "INTERSECT", "VALUES", "LEFT", "RIGHT", "INNER", "CROSS", "NATURAL", NULL
    };
    char **seen = NULL;
    size_t nseen = 0;
    int in = 0;
    for (size_t i = 0; i < ts->n; i++) {
        const tok *t = &ts->v[i];
        if (t->t == T_WORD && in_list(starts, q, t)) { in = 1; continue; }
        if (t->t == T_WORD && in_list(stops, q, t)) { in = 0; continue; }
        if (!in || (t->t != T_WORD && t->t != T_QID)) continue;
        const tok *col = t;
        char *qual = NULL;
        if (i + 2 < ts->n && ts->v[i + 1].t == T_DOT &&
            (ts->v[i + 2].t == T_WORD || ts->v[i + 2].t == T_QID)) {
            qual = ident_text(q, t);
            col = &ts->v[i + 2];
            i += 2;
        } else if (i + 1 < ts->n && ts->v[i + 1].t == T_LP) {
            continue;                                   /* a function call */
        }
        char *name = ident_text(q, col);
        int ok = name && (!qual || strcasecmp(qual, table) == 0 || (alias && strcasecmp(qual, alias) == 0));
        if (ok)
            ok = sqlite3_table_column_metadata(h, "main", table, name, NULL, NULL, NULL, NULL, NULL) == SQLITE_OK;
        for (size_t k = 0; ok && k < nseen; k++)
            if (strcasecmp(seen[k], name) == 0) ok = 0;
        if (ok) {
            char **v = realloc(seen, (nseen + 1) * sizeof *v);
            if (v) {
                seen = v;
                seen[nseen++] = name;
                ds_buf_printf(b, "%s%s", nseen > 1 ? ", " : "", name);
                name = NULL;
            }
        }
        free(name);
        free(qual);
    }
    for (size_t k = 0; k < nseen; k++) free(seen[k]);
    free(seen);
}

/* Looks through one item's query plan; warnings only. -1 on OOM. */
static int lint_item(sqlite3 *h, const ds_item *it, int64_t min_rows, ds_diag *d)
{
    sqlite3_stmt *st = NULL;
    toks ts = {0};
    char **warned = NULL;
    size_t nwarned = 0;
    int r = 0;
    char *sql = ds_asprintf("EXPLAIN QUERY PLAN %s", it->query);
    if (!sql || tokenize(it->query, &ts)) { r = -1; goto out; }
    sqlite3_set_authorizer(h, ds_sqlite_authorizer, NULL);
    int rc = sqlite3_prepare_v2(h, sql, -1, &st, NULL);
    sqlite3_set_authorizer(h, NULL, NULL);
    if (rc != SQLITE_OK) goto out;          /* validation reported it */
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *detail = (const char *)sqlite3_column_text(st, 3);
        if (!detail || strncmp(detail, "SCAN ", 5) != 0) continue;
        const char *name = detail + 5;
        if (strstr(name, " USING ") || strstr(name, "VIRTUAL TABLE") || strchr(name, ' ')) continue;
        char *table = resolve_scan(h, it->query, &ts, name);
        if (!table) continue;
        int dup = 0;
        for (size_t k = 0; k < nwarned; k++)
            if (strcmp(warned[k], table) == 0) dup = 1;
        int64_t rows = dup ? -1 : table_rows(h, table);
        if (rows <= min_rows) { free(table); continue; }
        ds_buf cols;
        ds_buf_init(&cols);
        filter_columns(h, it->query, &ts, table, strcasecmp(name, table) ? name : NULL, &cols);
        if (cols.len)
            ds_warning(d, it->file, it->m_query.line, it->m_query.col, it->key,
                       "query scans all %lld rows of table '%s' without an index; an index on %s(%s) would help",
                       (long long)rows, table, table, cols.p);
        else
            ds_warning(d, it->file, it->m_query.line, it->m_query.col, it->key,
                       "query scans all %lld rows of table '%s' without an index", (long long)rows, table);
        ds_buf_free(&cols);
        char **v = realloc(warned, (nwarned + 1) * sizeof *v);
        if (!v) { free(table); r = -1; goto out; }
        warned = v;
        warned[nwarned++] = table;
    }
out:
    sqlite3_finalize(st);
    for (size_t k = 0; k < nwarned; k++) free(warned[k]);
    free(warned);
    free(ts.v);
    free(sql);
    return r;
}

int ds_sql_explain_lint(ds_db *db, const ds_plan *p, int64_t min_rows, ds_diag *d)
{
    sqlite3 *h = ds_sqlite_handle(db);
    for (size_t i = 0; i < p->n; i++) {
        const ds_item *it = &p->items[i];
        if (it->bad || !it->query) continue;
        if (lint_item(h, it, min_rows, d)) return ds_fail(d, DS_DBERROR, "out of memory");
    }
    return 0;
}

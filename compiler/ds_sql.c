/*
 * ds_sql.c — the SQL half of the compiler: every rule about an item's query.
 *
 * Two layers. A small SQL scanner of our own (compiler/ds_sql_scan.c: strings,
 * quoted identifiers, comments, parameters, statement ends) runs on every query, with or without a
 * database, so `check` without a schema still finds a second statement, a
 * write, a positional or undeclared parameter. With a database the query is
 * then described by the engine (engine/engine.h: prepared under read-only
 * rules, for SQLite an authorizer that allows only reads, functions and
 * recursive CTEs), and its result columns are checked against the item's shape.
 * The engine's describe does the prepare (SQLite: under the authorizer that
 * also guards the runtime's prepares, engine/sqlite/sqlite_auth.c).
 *
 * Positions (docs/checking.md, the error/position table): an SQLite error with an offset points at that
 * token inside the YAML file, an undeclared parameter at its use, a second
 * statement at its start, shape-vs-columns at `shape`, a missing x/y/series_by
 * column at that field, an unused parameter at its params entry, anything else
 * at the start of the query's value.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "ds_compiler.h"
#include "ds_vec.h"
#include "engine.h"

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

static int check_text_as(ds_item *it, const ds_sql_scan *s, int have_db, int is_key, int *prepare, ds_diag *d);

/* The rules that need no schema: statement count, verb, parameters. Sets
 * *prepare to 0 when preparing would only repeat an error found here. */
static int check_text(ds_item *it, const ds_sql_scan *s, int have_db, int *prepare, ds_diag *d)
{
    return check_text_as(it, s, have_db, 0, prepare, d);
}

/* check_text; a refresh_key (is_key) may leave declared params unused. */
static int check_text_as(ds_item *it, const ds_sql_scan *s, int have_db, int is_key, int *prepare, ds_diag *d)
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
    for (size_t i = 0; ds_sql_write_verbs[i]; i++)
        if (strlen(ds_sql_write_verbs[i]) == vlen && strncmp(s->verb, ds_sql_write_verbs[i], vlen) == 0) known_bad = 1;
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
        if (strcmp(name, "since") == 0 && it->inc_window && !is_key) continue;   /* incremental */
        if (bsearch(name, names, it->nparams, sizeof *names, cmp_key_name)) continue;
        if (nundecl++ < MAX_PARAM_ERRORS)
            rc = item_error(it, d, qmark(it, uses[i]->off), "parameter '%s' is not declared in params", uses[i]->text);
    }
    if (nundecl > MAX_PARAM_ERRORS)
        rc = item_error(it, d, it->m_query, "%zu more undeclared parameters not shown", nundecl - MAX_PARAM_ERRORS);
    for (size_t j = 0; j < it->nparams; j++) {
        const ds_param *pa = &it->params[j];
        if (strcmp(pa->name, "now") == 0) continue;     /* the loader reports that one */
        if (is_key) break;                              /* a key uses what it needs */
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
    if (it->inc_window && !is_key) {
        int since = 0;
        for (size_t i = 0; i < s->nparams && !since; i++)
            since = !s->params[i].positional && strcmp(s->params[i].text + 1, "since") == 0;
        if (it->shape != DS_SHAPE_SERIES)
            rc = item_error(it, d, it->m_incremental.line ? it->m_incremental : it->m_shape,
                            "incremental needs shape series (its x an ISO time bucket), not %s", ds_shape_name(it->shape));
        else if (!since)
            rc = item_error(it, d, it->m_query,
                            "an incremental query must use :since (NULL on a full compute) to limit itself, "
                            "e.g. WHERE :since IS NULL OR day >= :since");
    }
    if (it->shape == DS_SHAPE_SERIES && it->series_by && it->ny > 1)
        rc = item_error(it, d, it->m_y.line ? it->m_y : it->m_shape,
                        "series_by needs exactly one y column; y names %zu", it->ny);
    return rc;
}

/* "a, b, c" of the result columns, shortened past a dozen. */
static void column_list(ds_buf *b, const ds_describe *x)
{
    int n = x->ncols;
    for (int i = 0; i < n; i++) {
        if (i == 12) { ds_buf_printf(b, ", ... (%d in all)", n); break; }
        const char *name = x->cols[i];
        ds_buf_printf(b, "%s%s", i ? ", " : "", name ? name : "?");
    }
}

static int has_column(const ds_describe *x, const char *name)
{
    for (int i = 0; i < x->ncols; i++) {
        const char *c = x->cols[i];
        if (c && strcmp(c, name) == 0) return 1;
    }
    return 0;
}

static ds_mark field_mark(const ds_item *it, ds_mark m)
{
    return m.line ? m : it->m_shape.line ? it->m_shape : it->m_query;
}

/* Result columns against the item's shape (docs/spec-reference.md, docs/checking.md). */
static int check_columns(ds_item *it, const ds_describe *st, ds_diag *d)
{
    int rc = 0, n = st->ncols;
    ds_buf cols;
    ds_buf_init(&cols);
    column_list(&cols, st);
    const char *cl = cols.p ? cols.p : "";
    /* Duplicate names collide as JSON keys. */
    for (int i = 0; i < n; i++) {
        const char *a = st->cols[i];
        int first = 1;
        for (int j = 0; j < i && first; j++) {
            const char *b = st->cols[j];
            if (a && b && strcmp(a, b) == 0) first = 0;
        }
        if (!first) continue;
        for (int j = i + 1; j < n; j++) {
            const char *b = st->cols[j];
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
                const char *c = st->cols[i];
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

/* Prepares it->query through the engine (describe) and checks what the
 * database knows. Returns 0, -1 for an error in the item, -2 for a database
 * failure. */
static int check_prepared(ds_db *db, ds_item *it, const ds_sql_scan *s, ds_diag *d)
{
    ds_describe x;
    int r = 0;
    if (ds_sql_describe(db, it->query, &x)) {
        it->bad = 1;
        ds_fail(d, DS_DBERROR, "out of memory");
        return -2;
    }
    const char *msg = x.error ? x.error : "out of memory";
    switch (x.status) {
    case DS_DESC_REFUSED:
        r = item_error(it, d, it->m_query, "%s", msg);
        goto out;
    case DS_DESC_DBERROR:
        it->bad = 1;
        ds_fail(d, DS_DBERROR, "cannot read the schema of '%s': %s", ds_db_path(db), msg);
        r = -2;
        goto out;
    case DS_DESC_ERROR: {
        char *near = NULL;
        long off = x.error_off;
        ds_sql_hint(db, it->query, msg, &off, &near);
        ds_mark m = off >= 0 && (size_t)off <= strlen(it->query) ? qmark(it, (size_t)off) : it->m_query;
        if (near) r = item_error(it, d, m, "%s; did you mean '%s'?", msg, near);
        else r = item_error(it, d, m, "%s", msg);
        free(near);
        goto out;
    }
    case DS_DESC_EMPTY:     /* only blanks and comments: the scanner said so already */
        if (s->start < strlen(it->query))
            r = item_error(it, d, it->m_query, "query holds no SQL statement, so it returns no columns");
        goto out;
    case DS_DESC_OK:
        break;
    }
    /* The engine's end of statement must agree with the scanner's. */
    if (s->second < 0 && x.tail_off >= 0) {
        const char *tail = it->query + x.tail_off;
        size_t t = ds_sql_skip_blank(tail, 0);
        while (tail[t] == ';') t = ds_sql_skip_blank(tail, t + 1);
        if (tail[t])
            r = item_error(it, d, qmark(it, (size_t)(tail + t - it->query)),
                           "a second SQL statement after the first; a query is exactly one statement");
    }
    if (x.is_explain) {
        r = item_error(it, d, it->m_query, "EXPLAIN is not allowed: a query is one SELECT, WITH ... SELECT or VALUES statement");
        goto out;
    }
    if (!x.readonly) {
        r = item_error(it, d, it->m_query, "statement is not read-only");
        goto out;
    }
    if (x.ncols == 0) {
        r = item_error(it, d, it->m_query, "statement returns no columns");
        goto out;
    }
    /* Every parameter the engine sees must be one the scanner found, or the
     * parameter rules above were checked against the wrong names. */
    if (x.nparams > 0) {
        const char **texts = malloc((s->nparams ? s->nparams : 1) * sizeof *texts);
        if (!texts) { r = ds_fail(d, DS_DBERROR, "out of memory"); goto out; }
        for (size_t k = 0; k < s->nparams; k++) texts[k] = s->params[k].text;
        qsort(texts, s->nparams, sizeof *texts, cmp_name);
        for (int i = 0; i < x.nparams; i++) {
            const char *pn = x.params[i];
            if (!pn || pn[0] == '?') continue;          /* positional: reported by the scanner */
            if (!bsearch(pn, texts, s->nparams, sizeof *texts, cmp_key_name)) {
                r = item_error(it, d, it->m_query, "parameter '%s' is not understood; use :name", pn);
                break;
            }
        }
        free(texts);
    }
    if (check_columns(it, &x, d)) r = -1;
out:
    ds_describe_free(&x);
    return r;
}

/* 1 when the scan uses :now (or @now, $now). */
static int uses_now(const ds_sql_scan *s)
{
    for (size_t i = 0; i < s->nparams; i++)
        if (!s->params[i].positional && strcmp(s->params[i].text + 1, "now") == 0) return 1;
    return 0;
}

/* The item's refresh_key under the query's rules (docs/spec-reference.md,
 * "refresh_key"), as an item of shape row whose query is the key; errors
 * point into the key and make the item bad. Warns when the query binds
 * :now but the key does not. Returns -2 on a database failure, else 0. */
static int check_key(ds_db *db, ds_item *it, int query_uses_now, ds_diag *d)
{
    ds_item k = *it;
    k.query = it->refresh_key;
    k.shape = DS_SHAPE_ROW;
    k.m_query = it->m_refresh_key.line ? it->m_refresh_key : it->m_query;
    k.qlines = it->klines;          /* exact positions when the loader found them */
    k.nqlines = it->nklines;
    k.bad = 0;
    ds_sql_scan s;
    if (ds_sql_scan_query(k.query, &s)) {
        it->bad = 1;
        ds_fail(d, DS_DBERROR, "out of memory");
        return -2;
    }
    int prepare, r = 0;
    check_text_as(&k, &s, db != NULL, 1, &prepare, d);
    if (db && prepare) r = check_prepared(db, &k, &s, d);
    if (query_uses_now && !uses_now(&s))
        ds_warning(d, it->file, k.m_query.line, k.m_query.col, it->key,
                   "the query binds :now but refresh_key does not: a sliding window changes without new data, "
                   "so an unchanged key may confirm a stale value");
    ds_sql_scan_free(&s);
    if (k.bad) it->bad = 1;
    return r == -2 ? -2 : 0;
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
        int now_used = uses_now(&s);
        ds_sql_scan_free(&s);
        if (r == -2) break;         /* the database itself failed: stop */
        if (it->refresh_key && check_key(db, it, now_used, d) == -2) break;
    }
    return d->nerrors > before ? -1 : 0;
}

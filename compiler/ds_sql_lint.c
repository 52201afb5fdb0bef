/*
 * ds_sql_lint.c — check --explain: a warning for each full scan of a large
 * table, naming the columns an index would need. The engine says which
 * tables the query plan reads in full and what the schema holds
 * (engine/engine.h: full_scans, table_exists, table_rows, column_exists);
 * the query's tokens (ds_sql.c) say which name is an alias of which table
 * and which columns the query filters, joins or groups on.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "ds_compiler.h"
#include "ds_vec.h"
#include "engine.h"

/* Words that end a table reference, so they are never taken for an alias. */
static const char *const not_alias[] = {
    "WHERE", "JOIN", "LEFT", "RIGHT", "FULL", "INNER", "CROSS", "NATURAL", "OUTER", "ON",
    "USING", "GROUP", "ORDER", "LIMIT", "HAVING", "WINDOW", "UNION", "EXCEPT", "INTERSECT",
    "INDEXED", "NOT", "AS", NULL
};

/* The table the name in "SCAN name" stands for: a table, or an alias of one
 * found after FROM/JOIN/',' in the query. NULL when neither (CTE, subquery). */
static char *resolve_scan(ds_db *db, const char *q, const ds_sql_toks *ts, const char *name)
{
    if (ds_db_table_exists(db, name)) return ds_strdup(name);
    for (size_t i = 1; i < ts->n; i++) {
        const ds_sql_tok *t = &ts->v[i];
        if (t->t != DS_TK_WORD && t->t != DS_TK_QID) continue;
        const ds_sql_tok *prev = &ts->v[i - 1];
        if (!(ds_sql_tok_is(q, prev, "FROM") || ds_sql_tok_is(q, prev, "JOIN") || prev->t == DS_TK_COMMA)) continue;
        size_t a = i + 1;
        if (a < ts->n && ds_sql_tok_is(q, &ts->v[a], "AS")) a++;
        if (a >= ts->n || (ts->v[a].t != DS_TK_WORD && ts->v[a].t != DS_TK_QID) ||
            (ts->v[a].t == DS_TK_WORD && ds_sql_in_list(not_alias, q, &ts->v[a])))
            continue;
        char *alias = ds_sql_ident_text(q, &ts->v[a]);
        int hit = alias && strcasecmp(alias, name) == 0;
        free(alias);
        if (!hit) continue;
        char *table = ds_sql_ident_text(q, t);
        if (table && ds_db_table_exists(db, table)) return table;
        free(table);
    }
    return NULL;
}

/* Columns of `table` (known as itself or `alias`) that the query filters,
 * joins or groups on: identifiers after WHERE, ON, USING, GROUP BY that name
 * a column of the table. Appended to b as "a, b". */
static void filter_columns(ds_db *db, const char *q, const ds_sql_toks *ts, const char *table,
                           const char *alias, ds_buf *b)
{
    static const char *const starts[] = {"WHERE", "ON", "USING", "GROUP", NULL};
    static const char *const stops[] = {
        "SELECT", "FROM", "JOIN", "ORDER", "LIMIT", "HAVING", "WINDOW", "UNION", "EXCEPT",
        "INTERSECT", "VALUES", "LEFT", "RIGHT", "INNER", "CROSS", "NATURAL", NULL
    };
    char **seen = NULL;
    size_t nseen = 0, seen_cap = 0;
    int in = 0;
    for (size_t i = 0; i < ts->n; i++) {
        const ds_sql_tok *t = &ts->v[i];
        if (t->t == DS_TK_WORD && ds_sql_in_list(starts, q, t)) { in = 1; continue; }
        if (t->t == DS_TK_WORD && ds_sql_in_list(stops, q, t)) { in = 0; continue; }
        if (!in || (t->t != DS_TK_WORD && t->t != DS_TK_QID)) continue;
        const ds_sql_tok *col = t;
        char *qual = NULL;
        if (i + 2 < ts->n && ts->v[i + 1].t == DS_TK_DOT &&
            (ts->v[i + 2].t == DS_TK_WORD || ts->v[i + 2].t == DS_TK_QID)) {
            qual = ds_sql_ident_text(q, t);
            col = &ts->v[i + 2];
            i += 2;
        } else if (i + 1 < ts->n && ts->v[i + 1].t == DS_TK_LP) {
            continue;                                   /* a function call */
        }
        char *name = ds_sql_ident_text(q, col);
        int ok = name && (!qual || strcasecmp(qual, table) == 0 || (alias && strcasecmp(qual, alias) == 0));
        if (ok)
            ok = ds_db_column_exists(db, table, name);
        for (size_t k = 0; ok && k < nseen; k++)
            if (strcasecmp(seen[k], name) == 0) ok = 0;
        if (ok) {
            char **v = ds_vec_grow(seen, &seen_cap, nseen, sizeof *v);
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

/* Looks through one item's query plan (is_key: its refresh_key's); warnings only. -1 on OOM. */
static int lint_item(ds_db *db, const ds_item *it, int is_key, int64_t min_rows, ds_diag *d)
{
    const char *q = is_key ? it->refresh_key : it->query, *what = is_key ? "refresh_key" : "query";
    ds_mark m = is_key && it->m_refresh_key.line ? it->m_refresh_key : it->m_query;
    ds_sql_toks ts = {0};
    char **scans = NULL, **warned = NULL;
    size_t nscans = 0, nwarned = 0, warned_cap = 0;
    int r = 0;
    if (ds_sql_tokenize(q, &ts) || ds_db_full_scans(db, q, &scans, &nscans)) { r = -1; goto out; }
    for (size_t s = 0; s < nscans; s++) {
        const char *name = scans[s];
        char *table = resolve_scan(db, q, &ts, name);
        if (!table) continue;
        int dup = 0;
        for (size_t k = 0; k < nwarned; k++)
            if (strcmp(warned[k], table) == 0) dup = 1;
        int64_t rows = dup ? -1 : ds_db_table_rows(db, table);
        if (rows <= min_rows) { free(table); continue; }
        ds_buf cols;
        ds_buf_init(&cols);
        filter_columns(db, q, &ts, table, strcasecmp(name, table) ? name : NULL, &cols);
        if (cols.len)
            ds_warning(d, it->file, m.line, m.col, it->key,
                       "%s scans all %lld rows of table '%s' without an index; an index on %s(%s) would help",
                       what, (long long)rows, table, table, cols.p);
        else
            ds_warning(d, it->file, m.line, m.col, it->key,
                       "%s scans all %lld rows of table '%s' without an index", what, (long long)rows, table);
        ds_buf_free(&cols);
        char **v = ds_vec_grow(warned, &warned_cap, nwarned, sizeof *v);
        if (!v) { free(table); r = -1; goto out; }
        warned = v;
        warned[nwarned++] = table;
    }
out:
    for (size_t k = 0; k < nscans; k++) free(scans[k]);
    free(scans);
    for (size_t k = 0; k < nwarned; k++) free(warned[k]);
    free(warned);
    free(ts.v);
    return r;
}

int ds_sql_explain_lint(ds_db *db, const ds_plan *p, int64_t min_rows, ds_diag *d)
{
    for (size_t i = 0; i < p->n; i++) {
        const ds_item *it = &p->items[i];
        if (it->bad || !it->query) continue;
        if (lint_item(db, it, 0, min_rows, d) || (it->refresh_key && lint_item(db, it, 1, min_rows, d)))
            return ds_fail(d, DS_DBERROR, "out of memory");
    }
    return 0;
}

/*
 * ds_sql_hint.c — making "no such table: X" and "no such column: X" useful
 * in check: where the name is in the query (searched as an identifier token
 * when the engine gives no offset) and the nearest name of the schema
 * (ds_suggest over the engine's schema_names; an engine without that
 * operation gives no suggestion).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "ds_compiler.h"
#include "engine.h"

static int id_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

/* Byte offset of the first use of name[0..n) in q as a whole identifier
 * (any case; quoted as "name", `name` or [name] too), outside string
 * literals and comments; -1 when not found. */
static long find_token(const char *q, const char *name, size_t n)
{
    for (size_t i = 0; q[i];) {
        char c = q[i];
        if (c == '\'') {                                /* 'it''s' */
            for (i++; q[i] && !(q[i] == '\'' && q[i + 1] != '\''); i += q[i] == '\'' ? 2 : 1) {}
            if (q[i]) i++;
            continue;
        }
        if (c == '-' && q[i + 1] == '-') { while (q[i] && q[i] != '\n') i++; continue; }
        if (c == '/' && q[i + 1] == '*') {
            const char *e = strstr(q + i + 2, "*/");
            i = e ? (size_t)(e - q) + 2 : strlen(q);
            continue;
        }
        int quoted = c == '"' || c == '`' || c == '[';
        size_t s = i + (size_t)quoted;
        if ((quoted || id_char((unsigned char)c)) && (i == 0 || !id_char((unsigned char)q[i - 1])) &&
            strncasecmp(q + s, name, n) == 0 && !id_char((unsigned char)q[s + n]))
            return (long)s;
        i++;
    }
    return -1;
}

/* The nearest of the schema's names to name: tables (table_level) or the
 * columns of every table. malloc'd, or NULL. */
static char *nearest(ds_db *db, const char *name, size_t n, int table_level)
{
    char **tables = NULL, **all = NULL, *near = NULL;
    size_t nt = 0, na = 0, cap = 0;
    if (ds_db_schema_names(db, NULL, &tables, &nt)) return NULL;
    if (table_level) {
        all = tables;
        na = nt;
        tables = NULL;
        nt = 0;
    } else {
        for (size_t t = 0; t < nt; t++) {
            char **cols = NULL;
            size_t nc = 0;
            if (ds_db_schema_names(db, tables[t], &cols, &nc)) break;
            if (na + nc + 1 > cap) {
                size_t ncap = (na + nc + 1) * 2;
                char **v = realloc(all, ncap * sizeof *v);
                if (!v) { ds_names_free(cols, nc); break; }
                all = v;
                cap = ncap;
            }
            memcpy(all + na, cols, nc * sizeof *cols);
            na += nc;
            free(cols);
        }
    }
    const char **cands = calloc(na + 1, sizeof *cands);
    if (cands) {
        for (size_t i = 0; i < na; i++) cands[i] = all[i];
        const char *s = ds_suggest(name, n, cands);
        /* The same name in another case is no typo: the engine would have found it. */
        if (s && !(strlen(s) == n && strncasecmp(s, name, n) == 0)) near = ds_strdup(s);
        free(cands);
    }
    ds_names_free(all, na);
    ds_names_free(tables, nt);
    return near;
}

int ds_sql_hint(ds_db *db, const char *query, const char *msg, long *off, char **near)
{
    static const char *const kinds[] = {"no such table: ", "no such column: "};
    *near = NULL;
    for (int k = 0; k < 2; k++) {
        size_t pl = strlen(kinds[k]);
        if (strncmp(msg, kinds[k], pl) != 0) continue;
        const char *name = msg + pl;
        const char *dot = strrchr(name, '.');       /* s.statuz, main.site: the last part */
        if (dot) name = dot + 1;
        size_t n = strcspn(name, " \t\n");
        if (n == 0) return 0;
        if (*off < 0) *off = find_token(query, name, n);
        *near = nearest(db, name, n, k == 0);
        return 0;
    }
    return 0;
}

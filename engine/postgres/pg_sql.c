/*
 * pg_sql.c — spec queries in PostgreSQL SQL: :name parameters rewritten to
 * $n, server error positions mapped back to the original text, and the
 * read-only pre-check (docs/postgres.md, "The tokenizer").
 *
 * One small lexer serves both: it knows exactly the parts of PostgreSQL's
 * lexical grammar in which a ':' or a keyword is not code — string constants
 * ('' with doubled quotes, E'' with backslash escapes), quoted identifiers,
 * dollar-quoted strings, and comments (-- and nested block comments). It does
 * not parse SQL: the server does that, inside a READ ONLY transaction.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "ds_pg.h"

static int ident_start(unsigned char c)
{
    return isalpha(c) || c == '_' || c >= 0x80;
}

static int ident_char(unsigned char c)
{
    return ident_start(c) || isdigit(c) || c == '$';
}

/* The end of a quoted run opened at s[i] (a quote q), where q is escaped by
 * doubling and, when bs, any byte by a backslash. Unterminated: n. */
static size_t quoted_end(const char *s, size_t n, size_t i, char q, int bs)
{
    for (i++; i < n; i++) {
        if (bs && s[i] == '\\') { i++; continue; }
        if (s[i] != q) continue;
        if (i + 1 < n && s[i + 1] == q) { i++; continue; }
        return i + 1;
    }
    return n;
}

/* The length of a dollar-quote delimiter ($$ or $tag$) at s[i], or 0. */
static size_t dollar_tag(const char *s, size_t n, size_t i)
{
    size_t j = i + 1;
    if (j < n && s[j] != '$') {
        if (!ident_start((unsigned char)s[j])) return 0;
        while (j < n && ident_char((unsigned char)s[j]) && s[j] != '$') j++;
    }
    return j < n && s[j] == '$' ? j + 1 - i : 0;
}

/* When s[i] opens a part that is not code (string, quoted identifier, dollar
 * quote, comment) returns its end (n when unterminated: the server reports
 * that), else i. *comment is set for comments. */
static size_t skip_special(const char *s, size_t n, size_t i, int *comment)
{
    char c = s[i], d = i + 1 < n ? s[i + 1] : '\0';
    *comment = 0;
    if (c == '-' && d == '-') {
        *comment = 1;
        while (i < n && s[i] != '\n') i++;
        return i;
    }
    if (c == '/' && d == '*') {
        *comment = 1;
        int depth = 1;
        for (i += 2; i < n && depth > 0; i++) {
            if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') { depth++; i++; }
            else if (s[i] == '*' && i + 1 < n && s[i + 1] == '/') { depth--; i++; }
        }
        return i;
    }
    if (c == '\'') return quoted_end(s, n, i, '\'', 0);
    if (c == '"') return quoted_end(s, n, i, '"', 0);
    if ((c == 'E' || c == 'e') && d == '\'' && (i == 0 || !ident_char((unsigned char)s[i - 1])))
        return quoted_end(s, n, i + 1, '\'', 1);
    if (c == '$' && (i == 0 || !ident_char((unsigned char)s[i - 1]))) {
        size_t t = dollar_tag(s, n, i);
        if (!t) return i;
        for (size_t j = i + t; j + t <= n; j++)
            if (s[j] == '$' && memcmp(s + j, s + i, t) == 0) return j + t;
        return n;
    }
    return i;
}

/* The end of a plain word (identifier, keyword or number) at s[i]. */
static size_t word_end(const char *s, size_t n, size_t i)
{
    if (isdigit((unsigned char)s[i])) {
        while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '.')) i++;
        return i;
    }
    while (i < n && ident_char((unsigned char)s[i])) i++;
    return i;
}

/* ---------------------------------------------------------------- rewriting */

void ds_pg_sql_free(ds_pg_sql *q)
{
    if (!q) return;
    for (int i = 0; i < q->nparams; i++) free(q->names[i]);
    free(q->names);
    free(q->first);
    free(q->refs);
    free(q->text);
    memset(q, 0, sizeof *q);
}

/* The index of name (n bytes) among q's names, added when new; -1 on OOM. */
static int param_index(ds_pg_sql *q, const char *name, size_t n, size_t off)
{
    for (int i = 0; i < q->nparams; i++)
        if (strlen(q->names[i]) == n && memcmp(q->names[i], name, n) == 0) return i;
    int np = q->nparams;
    if (np == 0 || (np >= 4 && (np & (np - 1)) == 0)) {   /* capacity 4, 8, 16, ... */
        size_t cap = np ? (size_t)np * 2 : 4;
        char **nn = realloc(q->names, cap * sizeof *nn);
        if (!nn) return -1;
        q->names = nn;
        size_t *nf = realloc(q->first, cap * sizeof *nf);
        if (!nf) return -1;
        q->first = nf;
    }
    if (!(q->names[q->nparams] = ds_strndup(name, n))) return -1;
    q->first[q->nparams] = off;
    return q->nparams++;
}

static int add_ref(ds_pg_sql *q, size_t *cap, const ds_pg_ref *r)
{
    if (q->nrefs == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        ds_pg_ref *nr = realloc(q->refs, nc * sizeof *nr);
        if (!nr) return -1;
        q->refs = nr;
        *cap = nc;
    }
    q->refs[q->nrefs++] = *r;
    return 0;
}

int ds_pg_sql_rewrite(const char *s, size_t n, ds_pg_sql *q, char **err, size_t *errpos)
{
    ds_buf b;
    size_t refcap = 0, i = 0;
    int comment;
    memset(q, 0, sizeof *q);
    ds_buf_init(&b);
    *err = NULL;
    *errpos = 0;
    ds_buf_reserve(&b, n + 16);
    ds_buf_add(&b, "", 0);                          /* NUL-terminated even when empty */
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t e = skip_special(s, n, i, &comment);
        if (e == i && (ident_start(c) || isdigit(c))) e = word_end(s, n, i);
        if (e > i) {
            ds_buf_add(&b, s + i, e - i);
            i = e;
            continue;
        }
        if (c == ':' && i + 1 < n && s[i + 1] == ':') {
            ds_buf_add(&b, "::", 2);
            i += 2;
            continue;
        }
        if (c == ':' && i + 1 < n && ident_start((unsigned char)s[i + 1])) {
            size_t j = i + 1;
            while (j < n && (ident_start((unsigned char)s[j]) || isdigit((unsigned char)s[j]))) j++;
            int k = param_index(q, s + i + 1, j - i - 1, i);
            if (k < 0) goto oom;
            ds_pg_ref r = {i, j - i, b.len, 0, k};
            ds_buf_printf(&b, "$%d", k + 1);
            r.new_len = b.len - r.new_off;
            if (add_ref(q, &refcap, &r)) goto oom;
            i = j;
            continue;
        }
        if (c == '$' && i + 1 < n && isdigit((unsigned char)s[i + 1])) {
            size_t j = i + 1;
            while (j < n && isdigit((unsigned char)s[j])) j++;
            *err = ds_asprintf("positional parameter %.*s: name the parameter (:name) instead",
                               (int)(j - i), s + i);
            *errpos = i;
            goto fail;
        }
        ds_buf_addc(&b, (char)c);
        i++;
    }
    if (b.oom) goto oom;
    q->len = b.len;
    q->text = ds_buf_steal(&b);
    if (!q->text) goto oom;
    return 0;
oom:
    *err = ds_strdup("out of memory");
fail:
    ds_buf_free(&b);
    ds_pg_sql_free(q);
    return -1;
}

long ds_pg_sql_map_position(const ds_pg_sql *q, long position)
{
    if (!q || position <= 0) return -1;
    /* character position -> byte offset in the rewritten text */
    size_t r = 0;
    long chars = 0;
    while (r < q->len) {
        if (((unsigned char)q->text[r] & 0xC0) != 0x80) {
            if (chars == position - 1) break;
            chars++;
        }
        r++;
    }
    /* rewritten -> original: shift by the size differences of earlier refs */
    long delta = 0;
    for (size_t k = 0; k < q->nrefs; k++) {
        const ds_pg_ref *f = &q->refs[k];
        if (r < f->new_off) break;
        if (r < f->new_off + f->new_len) return (long)f->off;
        delta += (long)f->len - (long)f->new_len;
    }
    return (long)r + delta;
}

/* ---------------------------------------------------------------- read-only pre-check */

typedef struct tok {
    size_t off, len;
    int word;                   /* an unquoted word (identifier or keyword) */
} tok;

/* The next token after blanks and comments; len 0 at the end. Strings,
 * quoted identifiers and dollar quotes are single non-word tokens. */
static tok next_tok(const char *s, size_t n, size_t *i)
{
    int comment;
    for (;;) {
        while (*i < n && isspace((unsigned char)s[*i])) (*i)++;
        if (*i >= n) return (tok){n, 0, 0};
        size_t e = skip_special(s, n, *i, &comment);
        if (e > *i && comment) { *i = e; continue; }
        tok t = {*i, 0, 0};
        if (e == *i && (ident_start((unsigned char)s[*i]) || isdigit((unsigned char)s[*i]))) {
            e = word_end(s, n, *i);
            t.word = !isdigit((unsigned char)s[*i]);
        }
        if (e == *i) e = *i + 1;
        t.len = e - *i;
        *i = e;
        return t;
    }
}

static int is_kw(const char *s, tok t, const char *kw)
{
    return t.word && t.len == strlen(kw) && strncasecmp(s + t.off, kw, t.len) == 0;
}

static int refuse(char **why, size_t *pos, size_t at, char *msg)
{
    *why = msg;
    *pos = at;
    return msg ? 0 : -1;
}

int ds_pg_sql_readonly(const char *s, size_t n, char **why, size_t *pos)
{
    static const char *const dml[] = {"INSERT", "UPDATE", "DELETE", "MERGE"};
    size_t i = 0;
    int first = 1, after_open = 0;
    *why = NULL;
    *pos = 0;
    for (;;) {
        tok t = next_tok(s, n, &i);
        if (!t.len) break;
        if (s[t.off] == ';' && t.len == 1) {
            tok u = next_tok(s, n, &i);
            if (u.len)
                return refuse(why, pos, u.off, ds_strdup("a spec query is one statement: "
                                                         "nothing may follow the ';'"));
            break;
        }
        if (first && !(s[t.off] == '(' && t.len == 1)) {
            if (!is_kw(s, t, "SELECT") && !is_kw(s, t, "WITH") && !is_kw(s, t, "VALUES") &&
                !is_kw(s, t, "TABLE"))
                return refuse(why, pos, t.off,
                              ds_asprintf("a spec query must be read-only: SELECT, WITH, VALUES or "
                                          "TABLE, not \"%.*s\"", (int)(t.len > 40 ? 40 : t.len),
                                          s + t.off));
            first = 0;
        }
        for (size_t k = 0; k < sizeof dml / sizeof *dml; k++)
            if (after_open && is_kw(s, t, dml[k]))
                return refuse(why, pos, t.off,
                              ds_asprintf("a spec query must be read-only: %s inside the query "
                                          "(a data-modifying WITH) is not allowed", dml[k]));
        if (is_kw(s, t, "INTO"))
            return refuse(why, pos, t.off, ds_strdup("a spec query must be read-only: "
                                                     "SELECT ... INTO creates a table"));
        after_open = s[t.off] == '(' && t.len == 1;
    }
    if (first) return refuse(why, pos, 0, ds_strdup("the query is empty"));
    return 1;
}

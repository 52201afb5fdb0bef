/*
 * ds_spec.c — spec files -> ds_item: every rule of contract section 1 that
 * needs no database (ds_sql.c does the rest).
 *
 * A file goes through compiler/ds_yaml.c into a node tree, then one pass over
 * the tree checks the top-level mapping, `defaults`, and each item of
 * `metrics` and `charts`, reporting every error it finds (up to a cap per
 * file) instead of stopping at the first. Items keep going after an error so
 * the next error is found too; an item with an error is kept with bad = 1
 * when its key is valid, and dropped otherwise.
 *
 * Where diagnostics point: an error about a field's value at the value, an
 * unknown or misplaced field at its key, a missing field at the start of the
 * mapping that lacks it, a params problem at the entry's name, a duplicate at
 * its second occurrence (naming the first). `defaults` is checked once, where
 * it is written; an item that inherits a broken default is bad without a
 * second message.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ds_compiler.h"
#include "ds_yaml.h"

/* Past this many errors in one file the rest are not reported: a hostile
 * file (a megabyte of aliases) must not turn into a million lines of output. */
#define SPEC_MAX_ERRORS 100

/* ORDER: enum field follows ds_item_fields[] (the contract's table). */
const char *const ds_item_fields[] = {
    "key", "query", "shape", "ttl", "refresh", "description", "group", "tags", "params",
    "timeout", "max_rows", "max_bytes", "x", "y", "series_by", "fill", NULL
};

enum field {
    F_KEY, F_QUERY, F_SHAPE, F_TTL, F_REFRESH, F_DESCRIPTION, F_GROUP, F_TAGS, F_PARAMS,
    F_TIMEOUT, F_MAX_ROWS, F_MAX_BYTES, F_X, F_Y, F_SERIES_BY, F_FILL, F_N
};

static const char *const top_fields[] = {"version", "defaults", "metrics", "charts", NULL};
static const char *const default_fields[] = {
    "shape", "ttl", "refresh", "description", "group", "tags",
    "timeout", "max_rows", "max_bytes", "x", "y", "series_by", "fill", NULL
};
static const char *const shape_names[] = {"scalar", "row", "rows", "map", "series", NULL};

#define DEFAULT_TIMEOUT 30
#define DEFAULT_MAX_ROWS 1000
#define DEFAULT_MAX_BYTES 1048576

/* ---------------------------------------------------------------- key index */

/* Item keys already in the plan -> their index, so a duplicate across a
 * thousand files costs one lookup, not a scan. Open addressing; slot holds
 * index + 1, 0 = empty. */
typedef struct keyidx {
    size_t *slot;
    size_t cap, n;
} keyidx;

static uint64_t strhash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) { h ^= (unsigned char)*s; h *= 0x100000001b3ULL; }
    return h;
}

static long idx_find(const keyidx *x, const ds_plan *p, const char *key)
{
    if (!x->cap) return -1;
    for (size_t i = strhash(key) & (x->cap - 1); x->slot[i]; i = (i + 1) & (x->cap - 1))
        if (strcmp(p->items[x->slot[i] - 1].key, key) == 0) return (long)(x->slot[i] - 1);
    return -1;
}

static int idx_add(keyidx *x, const ds_plan *p, size_t item)
{
    if ((x->n + 1) * 2 > x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 64;
        size_t *s = calloc(cap, sizeof *s);
        if (!s) return -1;
        for (size_t i = 0; i < x->cap; i++) {
            if (!x->slot[i]) continue;
            size_t j = strhash(p->items[x->slot[i] - 1].key) & (cap - 1);
            while (s[j]) j = (j + 1) & (cap - 1);
            s[j] = x->slot[i];
        }
        free(x->slot);
        x->slot = s;
        x->cap = cap;
    }
    size_t j = strhash(p->items[item].key) & (x->cap - 1);
    while (x->slot[j]) j = (j + 1) & (x->cap - 1);
    x->slot[j] = item + 1;
    x->n++;
    return 0;
}

/* Indexes the items already in p (the first of equal keys wins). */
static int idx_build(keyidx *x, const ds_plan *p)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->items[i].key && idx_find(x, p, p->items[i].key) < 0 && idx_add(x, p, i)) return -1;
    return 0;
}

/* ---------------------------------------------------------------- context */

typedef struct ld {
    const char *file;
    ds_diag *d;
    ds_ydoc *doc;
    ds_plan *p;
    keyidx *idx;
    int nerr;
    int oom;
    char show[4][320];       /* rotating buffers for quoted user text (60 characters) */
    int showi;
} ld;

static int err(ld *L, ds_mark m, const char *key, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int err(ld *L, ds_mark m, const char *key, const char *fmt, ...)
{
    if (L->nerr > SPEC_MAX_ERRORS) return -1;
    if (L->nerr++ == SPEC_MAX_ERRORS) {
        ds_error(L->d, L->file, m.line, m.col, NULL,
                 "too many errors in this file (more than %d); the rest are not reported",
                 SPEC_MAX_ERRORS);
        return -1;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ds_error(L->d, L->file, m.line, m.col, key, "%s", msg);
    return -1;
}

static int oom(ld *L, ds_mark m)
{
    if (L->oom++) return -1;
    return err(L, m, NULL, "out of memory");
}

/* User text for a message: control characters escaped, long text cut, so a
 * diagnostic stays one line whatever the spec holds. */
static const char *show(ld *L, const char *s, size_t n)
{
    char *b = L->show[L->showi++ & 3];
    size_t o = 0, chars = 0, cap = sizeof L->show[0];
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) != 0x80 && (chars++ == 60 || o + 16 >= cap)) {
            memcpy(b + o, "...", 3);     /* cut at a character boundary */
            o += 3;
            break;
        }
        if (c == '\n') { b[o++] = '\\'; b[o++] = 'n'; }
        else if (c == '\t') { b[o++] = '\\'; b[o++] = 't'; }
        else if (c == '\r') { b[o++] = '\\'; b[o++] = 'r'; }
        else if (c < 0x20 || c == 0x7F) o += (size_t)snprintf(b + o, cap - o, "\\x%02X", c);
        else b[o++] = (char)c;
    }
    b[o] = '\0';
    return b;
}

static const char *shown(ld *L, const ynode *n) { return show(L, n->s, n->len); }

/* ---------------------------------------------------------------- suggestions */

static int unknown_field(ld *L, const ynode *k, const char *key, const char *const *cands)
{
    const char *s = ds_suggest(k->s, k->len, cands);
    if (s) return err(L, k->mark, key, "unknown field '%s'; did you mean '%s'?", shown(L, k), s);
    return err(L, k->mark, key, "unknown field '%s'", shown(L, k));
}

/* ---------------------------------------------------------------- node checks */

/* A node whose meaning we refuse (alias, tag): reported once, then skipped
 * silently by every field parser. */
static int poisoned(const ynode *n) { return n->alias || n->tagged; }

/* Position of a node property ('&' anchor or '!' tag) in the source: the
 * node's mark is at its first property, the other may follow it. */
static ds_mark prop_mark(ld *L, const ynode *n, char which, const char **text, size_t *tlen)
{
    size_t len, o = ds_yaml_offset(L->doc, n->mark);
    const char *b = ds_yaml_buf(L->doc, &len);
    for (int k = 0; k < 2 && o < len; k++) {
        size_t e = o;
        while (e < len && b[e] != ' ' && b[e] != '\t' && b[e] != '\n' && b[e] != '\r' &&
               b[e] != ',' && b[e] != '[' && b[e] != ']' && b[e] != '{' && b[e] != '}')
            e++;
        if (b[o] == which) {
            *text = b + o;
            *tlen = e - o;
            return ds_yaml_mark(L->doc, o);
        }
        o = e;
        while (o < len && (b[o] == ' ' || b[o] == '\t' || b[o] == '\n' || b[o] == '\r')) o++;
    }
    *text = which == '&' ? "&" : "!";
    *tlen = 1;
    return n->mark;
}

/* Reports the properties of one node. Returns the number of errors. */
static int check_props(ld *L, const ynode *n, const char *key)
{
    int bad = 0;
    const char *t;
    size_t tl;
    if (n->alias) {
        err(L, n->mark, key, "YAML aliases are not allowed (*%s)", show(L, n->anchor, strlen(n->anchor)));
        return 1;
    }
    if (n->anchor) {
        ds_mark m = prop_mark(L, n, '&', &t, &tl);
        err(L, m, key, "YAML anchors are not allowed (&%s)", show(L, n->anchor, strlen(n->anchor)));
        bad++;
    }
    if (n->tagged) {
        ds_mark m = prop_mark(L, n, '!', &t, &tl);
        err(L, m, key, "YAML tags are not allowed (%s)", show(L, t, tl));
        bad++;
    }
    return bad;
}

static int cmp_key(const ynode *a, const ynode *b)
{
    if (a->len != b->len) return a->len < b->len ? -1 : 1;
    return memcmp(a->s, b->s, a->len);
}

static int cmp_keyp(const void *pa, const void *pb)
{
    const ynode *a = *(ynode *const *)pa, *b = *(ynode *const *)pb;
    int c = cmp_key(a, b);
    if (c) return c;
    /* equal text: keep document order (first occurrence first) */
    if (a->mark.line != b->mark.line) return a->mark.line < b->mark.line ? -1 : 1;
    return a->mark.col < b->mark.col ? -1 : a->mark.col > b->mark.col;
}

static int usable_key(const ynode *k) { return k->kind == YN_SCALAR && !poisoned(k); }

static int report_dup(ld *L, ynode *k, const ynode *first, const char *key)
{
    k->dup = 1;
    return err(L, k->mark, key, "duplicate mapping key '%s'; first at line %d", shown(L, k), first->mark.line);
}

/* Flags and reports repeated keys of one mapping. Returns the number of errors. */
static int check_dups(ld *L, ynode *m, const char *key)
{
    size_t np = m->n / 2;
    int bad = 0;
    if (np <= 16) {
        for (size_t i = 1; i < np; i++) {
            ynode *k = m->v[2 * i];
            if (!usable_key(k)) continue;
            for (size_t j = 0; j < i; j++) {
                ynode *f = m->v[2 * j];
                if (usable_key(f) && !f->dup && cmp_key(f, k) == 0) {
                    report_dup(L, k, f, key);
                    bad++;
                    break;
                }
            }
        }
        return bad;
    }
    /* Large mappings: sort the keys so this stays O(n log n). */
    ynode **ks = malloc(np * sizeof *ks);
    size_t nk = 0;
    if (!ks) return oom(L, m->mark), 1;
    for (size_t i = 0; i < np; i++)
        if (usable_key(m->v[2 * i])) ks[nk++] = m->v[2 * i];
    qsort(ks, nk, sizeof *ks, cmp_keyp);
    for (size_t i = 1, first = 0; i < nk; i++) {
        if (cmp_key(ks[first], ks[i]) == 0) { report_dup(L, ks[i], ks[first], key); bad++; }
        else first = i;
    }
    free(ks);
    return bad;
}

static int check_deep(ld *L, ynode *n, const char *key);

/* One mapping's own problems: its properties, keys that are not scalars,
 * duplicate keys. Values of refused keys are checked deeply here because
 * nothing else will look at them. Returns the number of errors. */
static int check_map(ld *L, ynode *m, const char *key)
{
    int bad = check_props(L, m, key);
    for (size_t i = 0; i + 1 < m->n; i += 2) {
        ynode *k = m->v[i];
        if (k->kind != YN_SCALAR) {
            bad += err(L, k->mark, key, "a mapping key must be a scalar, found %s", ds_yaml_type_name(k)) ? 1 : 0;
            bad += check_deep(L, k, key);
            bad += check_deep(L, m->v[i + 1], key);
        } else {
            bad += check_props(L, k, key);
        }
    }
    bad += check_dups(L, m, key);
    for (size_t i = 0; i + 1 < m->n; i += 2)
        if (m->v[i]->kind == YN_SCALAR && m->v[i]->dup) bad += check_deep(L, m->v[i + 1], key);
    return bad;
}

/* A whole subtree: properties everywhere, keys and duplicates in every
 * mapping. Returns the number of errors. */
static int check_deep(ld *L, ynode *n, const char *key)
{
    if (n->kind == YN_MAP) {
        int bad = check_map(L, n, key);
        for (size_t i = 0; i + 1 < n->n; i += 2)
            if (n->v[i]->kind == YN_SCALAR && !n->v[i]->dup) bad += check_deep(L, n->v[i + 1], key);
        return bad;
    }
    int bad = check_props(L, n, key);
    if (n->kind == YN_SEQ)
        for (size_t i = 0; i < n->n; i++) bad += check_deep(L, n->v[i], key);
    return bad;
}

/* Whether pair i of m is one the spec layer should read. */
static int live_key(const ynode *k) { return k->kind == YN_SCALAR && !poisoned(k) && !k->dup; }

static int lookup(const char *s, size_t n, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0) return i;
    return -1;
}

/* ---------------------------------------------------------------- scalars */

static int pattern_key(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64 || !(s[0] >= 'a' && s[0] <= 'z')) return 0;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_')) return 0;
    return 1;
}

static int pattern_group(const char *s)
{
    if (!(s[0] >= 'a' && s[0] <= 'z')) return 0;
    for (size_t i = 1; s[i]; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
            return 0;
    return 1;
}

static int pattern_param(const char *s)
{
    int alpha = (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_';
    if (!alpha) return 0;
    for (size_t i = 1; s[i]; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

/* A string field's value, or NULL after reporting why it is not one. */
/* `subject` names the value in messages: "'query'", "each tag". */
static const char *want_str(ld *L, const ynode *v, const char *subject, const char *key)
{
    if (poisoned(v)) return NULL;
    if (v->kind != YN_SCALAR || ds_yaml_resolve(v).type != YT_STR) {
        err(L, v->mark, key, "%s must be a string, found %s", subject, ds_yaml_type_name(v));
        return NULL;
    }
    if (v->has_nul) {
        err(L, v->mark, key, "%s must not contain a NUL character", subject);
        return NULL;
    }
    return v->s;
}

/* A column name: a non-empty string. */
static const char *want_column(ld *L, const ynode *v, const char *subject, const char *key)
{
    const char *s = want_str(L, v, subject, key);
    if (s && !*s) {
        err(L, v->mark, key, "%s must not be empty", subject);
        return NULL;
    }
    return s;
}

static int want_duration(ld *L, const ynode *v, const char *field, const char *key, int64_t *out)
{
    if (poisoned(v)) return -1;
    const char *why = NULL;
    if (v->kind == YN_SCALAR) {
        yval y = ds_yaml_resolve(v);
        if (y.type == YT_INT) {
            char num[32];
            if (y.overflow) why = "duration is too long (at most 100 years)";
            else if (y.i <= 0) why = "duration must be positive";
            else {
                snprintf(num, sizeof num, "%" PRId64, y.i);
                if (ds_duration_parse(num, out, &why) == 0) return 0;
            }
            return err(L, v->mark, key, "invalid %s '%s': %s", field, shown(L, v), why);
        }
        if (y.type == YT_STR && !v->has_nul) {
            if (ds_duration_parse(v->s, out, &why) == 0) return 0;
            return err(L, v->mark, key, "invalid %s '%s': %s", field, shown(L, v), why);
        }
    }
    return err(L, v->mark, key, "'%s' must be a duration like 90s, 15m, 1h30m or 1800, found %s",
               field, ds_yaml_type_name(v));
}

static int want_count(ld *L, const ynode *v, const char *field, const char *key, int64_t *out)
{
    if (poisoned(v)) return -1;
    yval y = v->kind == YN_SCALAR ? ds_yaml_resolve(v) : (yval){YT_STR, 0, 0, 0};
    if (v->kind != YN_SCALAR || y.type != YT_INT)
        return err(L, v->mark, key, "'%s' must be an integer, found %s", field, ds_yaml_type_name(v));
    if (y.overflow)
        return err(L, v->mark, key, "'%s' is out of range (at most %" PRId64 ")", field, INT64_MAX);
    if (y.i < 1)
        return err(L, v->mark, key, "'%s' must be at least 1, found %" PRId64, field, y.i);
    *out = y.i;
    return 0;
}

static int json_number(const char *s)
{
    size_t i = 0;
    if (s[i] == '-') i++;
    if (s[i] == '0') i++;
    else if (s[i] >= '1' && s[i] <= '9') while (s[i] >= '0' && s[i] <= '9') i++;
    else return 0;
    if (s[i] == '.') {
        i++;
        if (!(s[i] >= '0' && s[i] <= '9')) return 0;
        while (s[i] >= '0' && s[i] <= '9') i++;
    }
    if (s[i] == 'e' || s[i] == 'E') {
        i++;
        if (s[i] == '+' || s[i] == '-') i++;
        if (!(s[i] >= '0' && s[i] <= '9')) return 0;
        while (s[i] >= '0' && s[i] <= '9') i++;
    }
    return s[i] == '\0';
}

/* The shortest text that reads back as r, in the style of Python's repr
 * (a real always shows a '.' or an exponent). */
static void real_text(double r, char *out, size_t n)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, n, "%.*g", prec, r);
        if (strtod(out, NULL) == r) break;
    }
    if (!strpbrk(out, ".eEn")) {
        size_t l = strlen(out);
        if (l + 2 < n) memcpy(out + l, ".0", 3);
    }
}

/* ---------------------------------------------------------------- fields */

typedef struct fields {
    ynode *k[F_N], *v[F_N];     /* key and value node of each field present */
    int ok[F_N];             /* parsed without error */
} fields;

typedef struct defaults {
    ds_item it;              /* the values (marks point into defaults) */
    fields f;
    int pair_bad;            /* its own refresh >= its own ttl, already reported */
} defaults;

static int add_str(char ***v, size_t *n, const char *s)
{
    char **nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv) return -1;
    *v = nv;
    if (!(nv[*n] = ds_strdup(s))) return -1;
    (*n)++;
    return 0;
}

static int parse_tags(ld *L, const ynode *v, ds_item *it, const char *key)
{
    int rc = 0;
    if (poisoned(v)) return -1;
    if (v->kind != YN_SEQ)
        return err(L, v->mark, key, "'tags' must be a list of names, found %s", ds_yaml_type_name(v));
    for (size_t i = 0; i < v->n; i++) {
        const ynode *e = v->v[i];
        const char *s = want_str(L, e, "each tag", key);
        if (!s) { rc = -1; continue; }
        if (!pattern_group(s)) {
            rc = err(L, e->mark, key, "invalid tag '%s': must match ^[a-z][a-z0-9_-]*$", shown(L, e));
            continue;
        }
        if (add_str(&it->tags, &it->ntags, s)) rc = oom(L, e->mark);
    }
    return rc;
}

static int parse_params(ld *L, const ynode *v, ds_item *it, const char *key)
{
    int rc = 0;
    if (poisoned(v)) return -1;
    if (v->kind != YN_MAP)
        return err(L, v->mark, key, "'params' must be a mapping of names to values, found %s",
                   ds_yaml_type_name(v));
    for (size_t i = 0; i + 1 < v->n; i += 2) {
        const ynode *k = v->v[i], *e = v->v[i + 1];
        if (!live_key(k)) { rc = -1; continue; }
        const char *name = shown(L, k);
        if (k->has_nul || !pattern_param(k->s)) {
            rc = err(L, k->mark, key, "invalid parameter name '%s': must match ^[A-Za-z_][A-Za-z0-9_]*$", name);
            continue;
        }
        if (strcmp(k->s, "now") == 0) {
            rc = err(L, k->mark, key, "parameter 'now' is built in and cannot be declared");
            continue;
        }
        if (poisoned(e)) { rc = -1; continue; }
        ds_param pr;
        memset(&pr, 0, sizeof pr);
        pr.mark = k->mark;
        if (e->kind != YN_SCALAR) {
            rc = err(L, k->mark, key, "parameter '%s' must be an integer, real number, string or boolean, found %s",
                     name, ds_yaml_type_name(e));
            continue;
        }
        yval y = ds_yaml_resolve(e);
        switch (y.type) {
        case YT_NULL:
            rc = err(L, k->mark, key, "parameter '%s' must be an integer, real number, string or boolean, found null", name);
            continue;
        case YT_BOOL: pr.type = DS_PARAM_BOOL; pr.i = y.i; break;
        case YT_INT:
            if (y.overflow) {
                rc = err(L, k->mark, key, "parameter '%s' is out of range (integers are 64-bit)", name);
                continue;
            }
            pr.type = DS_PARAM_INT;
            pr.i = y.i;
            break;
        case YT_REAL:
            if (!isfinite(y.r)) {
                rc = err(L, k->mark, key, "parameter '%s' must be a finite number", name);
                continue;
            }
            pr.type = DS_PARAM_REAL;
            pr.r = y.r;
            break;
        case YT_STR:
            if (e->has_nul) {
                rc = err(L, k->mark, key, "parameter '%s' contains a NUL character", name);
                continue;
            }
            pr.type = DS_PARAM_TEXT;
            if (!(pr.s = ds_strdup(e->s))) { rc = oom(L, k->mark); continue; }
            break;
        }
        ds_param *np = realloc(it->params, (it->nparams + 1) * sizeof *np);
        if (!np || !(pr.name = ds_strdup(k->s))) {
            if (np) it->params = np;
            free(pr.s);
            rc = oom(L, k->mark);
            continue;
        }
        it->params = np;
        it->params[it->nparams++] = pr;
    }
    return rc;
}

static int parse_y(ld *L, const ynode *v, ds_item *it, const char *key)
{
    int rc = 0;
    if (poisoned(v)) return -1;
    it->m_y = v->mark;
    if (v->kind == YN_SCALAR) {
        const char *s = want_column(L, v, "'y'", key);
        if (!s) return -1;
        if (add_str(&it->y, &it->ny, s)) return oom(L, v->mark);
        return 0;
    }
    if (v->kind != YN_SEQ)
        return err(L, v->mark, key, "'y' must be a column name or a list of them, found %s", ds_yaml_type_name(v));
    if (v->n == 0) return err(L, v->mark, key, "'y' must name at least one column");
    it->m_ys = calloc(v->n, sizeof *it->m_ys);
    if (!it->m_ys) return oom(L, v->mark);
    for (size_t i = 0; i < v->n; i++) {
        const ynode *e = v->v[i];
        const char *s = want_column(L, e, "each column in 'y'", key);
        if (!s) { rc = -1; continue; }
        size_t j;
        for (j = 0; j < it->ny; j++)
            if (strcmp(it->y[j], s) == 0) break;
        if (j < it->ny) {
            rc = err(L, e->mark, key, "duplicate column '%s' in 'y'; first at line %d",
                     shown(L, e), it->m_ys[j].line);
            continue;
        }
        if (add_str(&it->y, &it->ny, s)) { rc = oom(L, e->mark); continue; }
        it->m_ys[it->ny - 1] = e->mark;
    }
    return rc;
}

static int parse_fill(ld *L, const ynode *v, ds_item *it, const char *key)
{
    char num[64];
    if (poisoned(v)) return -1;
    it->m_fill = v->mark;
    yval y = v->kind == YN_SCALAR ? ds_yaml_resolve(v) : (yval){YT_STR, 0, 0, 0};
    if (v->kind != YN_SCALAR || (y.type != YT_NULL && y.type != YT_INT && y.type != YT_REAL))
        return err(L, v->mark, key, "'fill' must be a number or null, found %s", ds_yaml_type_name(v));
    if (y.type == YT_NULL) strcpy(num, "null");
    else if (y.type == YT_INT) {
        if (y.overflow)
            return err(L, v->mark, key, "'fill' is out of range (integers are 64-bit)");
        snprintf(num, sizeof num, "%" PRId64, y.i);
    } else {
        if (!isfinite(y.r)) return err(L, v->mark, key, "'fill' must be a finite number or null");
        if (json_number(v->s) && v->len < sizeof num) memcpy(num, v->s, v->len + 1);
        else real_text(y.r, num, sizeof num);
    }
    free(it->fill);
    if (!(it->fill = ds_strdup(num))) return oom(L, v->mark);
    return 0;
}

/* Records an exact mapping from query bytes to source positions when the
 * value's text is the source's text: literal blocks line by line, and
 * scalars on one line. Anything else (folded, multi-line flow, escapes)
 * leaves nqlines = 0 and SQL errors point at the start of the value. */
static void query_lines(ld *L, const ynode *v, ds_item *it)
{
    const char *q = v->s;
    size_t qn = v->len;
    if (v->style == YS_LITERAL) {
        size_t nl = 0;
        for (size_t i = 0; i < qn; i++) if (q[i] == '\n') nl++;
        size_t nlines = qn && q[qn - 1] == '\n' ? nl : nl + 1;
        if (!qn || !nlines) return;
        ds_mark *m = calloc(nlines, sizeof *m);
        if (!m) return;
        long indent = -1;
        size_t s0 = 0;
        for (size_t i = 0; i < nlines; i++) {
            const char *e = memchr(q + s0, '\n', qn - s0);
            size_t vl = (e ? (size_t)(e - q) : qn) - s0, sl;
            const char *src = ds_yaml_line(L->doc, v->mark.line + 1 + (int)i, &sl);
            if (!src) goto fail;
            if (vl == 0) {
                for (size_t k = 0; k < sl; k++) if (src[k] != ' ') goto fail;
                if (indent >= 0 && (long)sl > indent) goto fail;
            } else {
                if (sl < vl || memcmp(src + sl - vl, q + s0, vl) != 0) goto fail;
                long ind = (long)(sl - vl);
                if (indent < 0) indent = ind;
                if (ind != indent) goto fail;
                for (long k = 0; k < ind; k++) if (src[k] != ' ') goto fail;
            }
            m[i].line = v->mark.line + 1 + (int)i;
            s0 += vl + 1;
        }
        if (indent < 0) goto fail;
        for (size_t i = 0; i < nlines; i++) m[i].col = (int)indent + 1;
        it->qlines = m;
        it->nqlines = nlines;
        return;
    fail:
        free(m);
        return;
    }
    if (memchr(q, '\n', qn)) return;
    size_t blen, o = ds_yaml_offset(L->doc, v->mark);
    const char *b = ds_yaml_buf(L->doc, &blen);
    int quoted = v->style == YS_SINGLE || v->style == YS_DOUBLE;
    if (v->style != YS_PLAIN && !quoted) return;
    o += (size_t)quoted;
    if (o > blen || blen - o < qn || memcmp(b + o, q, qn) != 0) return;
    it->qlines = malloc(sizeof *it->qlines);
    if (!it->qlines) return;
    it->qlines[0] = v->mark;
    it->qlines[0].col += quoted;
    it->nqlines = 1;
}

/* Parses one present field of an item (or of defaults) into it. Series
 * options are parsed here too; whether they are allowed is the caller's. */
static int parse_field(ld *L, int f, const ynode *v, ds_item *it, const char *key)
{
    const char *name = ds_item_fields[f], *s;
    char subj[24];
    snprintf(subj, sizeof subj, "'%s'", name);
    switch (f) {
    case F_KEY:
        it->m_key = v->mark;
        if (!(s = want_str(L, v, subj, key))) return -1;
        if (!pattern_key(s))
            return err(L, v->mark, NULL, "invalid key '%s': must match ^[a-z][a-z0-9_]{0,63}$", shown(L, v));
        if (!(it->key = ds_strdup(s))) return oom(L, v->mark);
        return 0;
    case F_QUERY:
        it->m_query = v->mark;
        if (!(s = want_str(L, v, subj, key))) return -1;
        if (!s[strspn(s, " \t\r\n\f\v")]) return err(L, v->mark, key, "'query' is empty");
        if (!(it->query = ds_strdup(s))) return oom(L, v->mark);
        query_lines(L, v, it);
        return 0;
    case F_SHAPE: {
        it->m_shape = v->mark;
        if (!(s = want_str(L, v, subj, key))) return -1;
        ds_shape sh;
        if (ds_shape_parse(s, &sh) == 0) { it->shape = sh; return 0; }
        const char *near = ds_suggest(s, v->len, shape_names);
        if (near) return err(L, v->mark, key, "unknown shape '%s'; did you mean '%s'?", shown(L, v), near);
        return err(L, v->mark, key, "unknown shape '%s'; expected scalar, row, rows, map or series", shown(L, v));
    }
    case F_TTL:
        it->m_ttl = v->mark;
        return want_duration(L, v, name, key, &it->ttl);
    case F_REFRESH:
        it->m_refresh = v->mark;
        return want_duration(L, v, name, key, &it->refresh);
    case F_TIMEOUT:
        return want_duration(L, v, name, key, &it->timeout);
    case F_DESCRIPTION:
        if (!(s = want_str(L, v, subj, key))) return -1;
        if (!(it->description = ds_strdup(s))) return oom(L, v->mark);
        return 0;
    case F_GROUP:
        if (!(s = want_str(L, v, subj, key))) return -1;
        if (!pattern_group(s))
            return err(L, v->mark, key, "invalid group '%s': must match ^[a-z][a-z0-9_-]*$", shown(L, v));
        if (!(it->group = ds_strdup(s))) return oom(L, v->mark);
        return 0;
    case F_TAGS:
        return parse_tags(L, v, it, key);
    case F_PARAMS:
        it->m_params = v->mark;
        return parse_params(L, v, it, key);
    case F_MAX_ROWS:
        return want_count(L, v, name, key, &it->max_rows);
    case F_MAX_BYTES:
        return want_count(L, v, name, key, &it->max_bytes);
    case F_X:
        it->m_x = v->mark;
        if (!(s = want_column(L, v, subj, key))) return -1;
        if (!(it->x = ds_strdup(s))) return oom(L, v->mark);
        return 0;
    case F_Y:
        return parse_y(L, v, it, key);
    case F_SERIES_BY:
        it->m_series_by = v->mark;
        if (!(s = want_column(L, v, subj, key))) return -1;
        if (!(it->series_by = ds_strdup(s))) return oom(L, v->mark);
        return 0;
    case F_FILL:
        return parse_fill(L, v, it, key);
    }
    return -1;
}

/* Copies one parsed default into an item that lacks the field. 0 ok, -1 OOM. */
static int copy_field(int f, const ds_item *src, ds_item *dst)
{
    switch (f) {
    case F_SHAPE: dst->shape = src->shape; dst->m_shape = src->m_shape; return 0;
    case F_TTL: dst->ttl = src->ttl; dst->m_ttl = src->m_ttl; return 0;
    case F_REFRESH: dst->refresh = src->refresh; dst->m_refresh = src->m_refresh; return 0;
    case F_TIMEOUT: dst->timeout = src->timeout; return 0;
    case F_MAX_ROWS: dst->max_rows = src->max_rows; return 0;
    case F_MAX_BYTES: dst->max_bytes = src->max_bytes; return 0;
    case F_DESCRIPTION: return (dst->description = ds_strdup(src->description)) ? 0 : -1;
    case F_GROUP: return (dst->group = ds_strdup(src->group)) ? 0 : -1;
    case F_TAGS:
        for (size_t i = 0; i < src->ntags; i++)
            if (add_str(&dst->tags, &dst->ntags, src->tags[i])) return -1;
        return 0;
    case F_X: dst->m_x = src->m_x; return (dst->x = ds_strdup(src->x)) ? 0 : -1;
    case F_SERIES_BY:
        dst->m_series_by = src->m_series_by;
        return (dst->series_by = ds_strdup(src->series_by)) ? 0 : -1;
    case F_FILL:
        dst->m_fill = src->m_fill;
        free(dst->fill);
        return (dst->fill = ds_strdup(src->fill)) ? 0 : -1;
    case F_Y:
        dst->m_y = src->m_y;
        for (size_t i = 0; i < src->ny; i++)
            if (add_str(&dst->y, &dst->ny, src->y[i])) return -1;
        if (src->m_ys) {
            if (!(dst->m_ys = malloc(src->ny * sizeof *dst->m_ys))) return -1;
            memcpy(dst->m_ys, src->m_ys, src->ny * sizeof *dst->m_ys);
        }
        return 0;
    }
    return 0;
}

/* Sorts a mapping's live keys into fields; unknown keys are reported with a
 * suggestion from `cands`. Returns the number of errors. */
static int collect(ld *L, const ynode *m, fields *F, const char *key, const char *const *cands,
                   ynode **unknown_vals, size_t *nunknown)
{
    int bad = 0;
    for (size_t i = 0; i + 1 < m->n; i += 2) {
        ynode *k = m->v[i];
        if (!live_key(k)) continue;
        int f = k->has_nul ? -1 : lookup(k->s, k->len, ds_item_fields);
        if (f < 0 || lookup(k->s, k->len, cands) < 0) {
            if (f >= 0) {
                err(L, k->mark, key, "'%s' cannot be set in defaults", ds_item_fields[f]);
            } else {
                unknown_field(L, k, key, cands);
            }
            bad++;
            unknown_vals[(*nunknown)++] = m->v[i + 1];
            continue;
        }
        F->k[f] = k;
        F->v[f] = m->v[i + 1];
    }
    return bad;
}

static void load_defaults(ld *L, ynode *m, defaults *D)
{
    if (m->kind != YN_MAP) {
        check_deep(L, m, NULL);
        if (!poisoned(m))
            err(L, m->mark, NULL, "'defaults' must be a mapping, found %s", ds_yaml_type_name(m));
        return;
    }
    check_map(L, m, NULL);
    ynode **unk = malloc((m->n / 2 + 1) * sizeof *unk);
    size_t nunk = 0;
    if (!unk) { oom(L, m->mark); return; }
    collect(L, m, &D->f, NULL, default_fields, unk, &nunk);
    for (size_t i = 0; i < nunk; i++) check_deep(L, unk[i], NULL);
    free(unk);
    for (int f = 0; f < F_N; f++) {
        if (!D->f.v[f]) continue;
        int bad = check_deep(L, D->f.v[f], NULL);
        D->f.ok[f] = parse_field(L, f, D->f.v[f], &D->it, NULL) == 0 && !bad;
    }
    if (D->f.ok[F_TTL] && D->f.ok[F_REFRESH] && D->it.refresh >= D->it.ttl) {
        char a[32], b[32];
        err(L, D->it.m_refresh, NULL, "refresh (%s) must be less than ttl (%s)",
            ds_duration_format(D->it.refresh, a, sizeof a), ds_duration_format(D->it.ttl, b, sizeof b));
        D->pair_bad = 1;
    }
}

/* The first `key` value of an item mapping, when it is a valid key: the
 * item's diagnostics carry it even before the field is parsed. */
static const char *peek_key(const ynode *m)
{
    for (size_t i = 0; i + 1 < m->n; i += 2) {
        const ynode *k = m->v[i], *v = m->v[i + 1];
        if (!live_key(k) || k->len != 3 || memcmp(k->s, "key", 3) != 0) continue;
        if (v->kind != YN_SCALAR || poisoned(v) || v->has_nul || ds_yaml_resolve(v).type != YT_STR) return NULL;
        return pattern_key(v->s) ? v->s : NULL;
    }
    return NULL;
}

static void load_item(ld *L, ynode *m, ds_kind kind, const defaults *D)
{
    ds_item it;
    fields F;
    int bad = 0;
    memset(&it, 0, sizeof it);
    memset(&F, 0, sizeof F);
    it.kind = kind;
    it.m_item = m->mark;
    it.line = m->mark.line;
    const char *key = peek_key(m);

    bad += check_map(L, m, key);
    ynode **unk = malloc((m->n / 2 + 1) * sizeof *unk);
    size_t nunk = 0;
    if (!unk) { oom(L, m->mark); return; }
    bad += collect(L, m, &F, key, ds_item_fields, unk, &nunk);
    for (size_t i = 0; i < nunk; i++) bad += check_deep(L, unk[i], key);
    free(unk);

    for (int f = 0; f < F_N; f++) {
        if (!F.v[f]) continue;
        int b = check_deep(L, F.v[f], key);
        bad += b;
        if (f == F_X || f == F_Y || f == F_SERIES_BY || f == F_FILL) continue;
        F.ok[f] = parse_field(L, f, F.v[f], &it, key) == 0 && !b;
        if (!F.ok[f]) bad++;
    }

    /* Inherit what the item does not say. A broken default was reported
     * where it is written; the item that needs it is bad, silently. */
    int have[F_N];
    static const int inherit[] = {F_SHAPE, F_TTL, F_REFRESH, F_DESCRIPTION, F_GROUP, F_TAGS,
                                  F_TIMEOUT, F_MAX_ROWS, F_MAX_BYTES};
    for (int f = 0; f < F_N; f++) have[f] = F.ok[f];
    for (size_t i = 0; i < sizeof inherit / sizeof inherit[0]; i++) {
        int f = inherit[i];
        if (F.v[f] || !D->f.v[f]) continue;
        if (!D->f.ok[f]) { bad++; continue; }
        if (copy_field(f, &D->it, &it)) { oom(L, m->mark); bad++; continue; }
        have[f] = 2;                      /* 2: from defaults */
    }

    /* Series options: the item's own only on series items, the defaults'
     * only reach series items. */
    int shape_known = have[F_SHAPE] != 0;
    int series = shape_known && it.shape == DS_SHAPE_SERIES;
    /* Whether the SQL can still be validated when the item is bad for other
     * reasons: query, params, shape and series options all loaded cleanly.
     * This keeps "every error in one pass" true inside one item too. */
    int sqlcheck = F.ok[F_QUERY] && (!F.v[F_PARAMS] || F.ok[F_PARAMS]) && shape_known;
    for (int f = F_X; f <= F_FILL; f++) {
        if (F.v[f]) {
            if (shape_known && !series) {
                if (!poisoned(F.v[f]))
                    err(L, F.v[f]->mark, key, "'%s' is only allowed for shape series, not %s",
                        ds_item_fields[f], ds_shape_name(it.shape));
                bad++;
                continue;
            }
            F.ok[f] = parse_field(L, f, F.v[f], &it, key) == 0;
            if (!F.ok[f]) { bad++; sqlcheck = 0; }
            have[f] = F.ok[f];
        } else if (series && D->f.v[f]) {
            if (!D->f.ok[f]) { bad++; sqlcheck = 0; continue; }
            if (copy_field(f, &D->it, &it)) { oom(L, m->mark); bad++; continue; }
            have[f] = 2;
        }
    }
    if (!series) {
        /* Values parsed only to report their errors; they have no meaning. */
        free(it.x); it.x = NULL;
        for (size_t i = 0; i < it.ny; i++) free(it.y[i]);
        free(it.y); it.y = NULL; it.ny = 0;
        free(it.m_ys); it.m_ys = NULL;
        free(it.series_by); it.series_by = NULL;
        free(it.fill); it.fill = NULL;
        it.m_x = it.m_y = it.m_series_by = it.m_fill = (ds_mark){0, 0};
    }

    /* Required fields, at the start of the item. */
    static const int req[] = {F_KEY, F_QUERY, F_SHAPE, F_TTL};
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
        int f = req[i];
        if (F.v[f] || (f != F_KEY && f != F_QUERY && D->f.v[f])) continue;
        err(L, m->mark, key, "missing required field '%s'", ds_item_fields[f]);
        bad++;
    }

    if (have[F_TTL] && have[F_REFRESH]) {
        if (it.refresh >= it.ttl) {
            if (have[F_TTL] == 2 && have[F_REFRESH] == 2 && D->pair_bad) {
                bad++;
            } else {
                char a[32], b[32];
                err(L, it.m_refresh, key, "refresh (%s) must be less than ttl (%s)",
                    ds_duration_format(it.refresh, a, sizeof a), ds_duration_format(it.ttl, b, sizeof b));
                bad++;
            }
        }
    } else if (have[F_TTL] && !F.v[F_REFRESH] && !D->f.v[F_REFRESH]) {
        it.refresh = it.ttl * 2 / 3;
    }
    if (!F.v[F_TIMEOUT] && !D->f.v[F_TIMEOUT]) it.timeout = DEFAULT_TIMEOUT;
    if (!F.v[F_MAX_ROWS] && !D->f.v[F_MAX_ROWS]) it.max_rows = DEFAULT_MAX_ROWS;
    if (!F.v[F_MAX_BYTES] && !D->f.v[F_MAX_BYTES]) it.max_bytes = DEFAULT_MAX_BYTES;

    if (series) {
        if (!F.v[F_X] && !D->f.v[F_X]) {
            err(L, m->mark, key, "missing required field 'x' (shape series needs it)");
            bad++;
            sqlcheck = 0;
        }
        if (it.series_by && it.ny > 1) {
            err(L, it.m_y, key, "'y' must name exactly one column when 'series_by' is set (found %zu)", it.ny);
            bad++;
            sqlcheck = 0;
        }
        if (!it.fill && !(it.fill = ds_strdup("null"))) { oom(L, m->mark); bad++; }
    }

    if (!it.key) {                       /* unknown key: nothing to keep */
        ds_item_free(&it);
        return;
    }
    long first = idx_find(L->idx, L->p, it.key);
    if (first >= 0) {
        const ds_item *o = &L->p->items[first];
        err(L, it.m_key, key, "duplicate key '%s'; first defined at %s:%d", it.key,
            o->file ? o->file : "?", o->m_key.line ? o->m_key.line : o->line);
        bad++;
    }
    it.bad = bad > 0;
    it.sqlcheck = sqlcheck;
    ds_item_hash(&it);
    if (!(it.file = ds_strdup(L->file))) { oom(L, m->mark); ds_item_free(&it); return; }
    if (L->p->n == L->p->cap) {
        size_t cap = L->p->cap ? L->p->cap * 2 : 16;
        ds_item *v = realloc(L->p->items, cap * sizeof *v);
        if (!v) { oom(L, m->mark); ds_item_free(&it); return; }
        L->p->items = v;
        L->p->cap = cap;
    }
    L->p->items[L->p->n++] = it;
    if (first < 0 && idx_add(L->idx, L->p, L->p->n - 1)) oom(L, m->mark);
}

static void load_list(ld *L, ynode *v, const char *field, ds_kind kind, const defaults *D)
{
    if (v->kind != YN_SEQ) {
        check_deep(L, v, NULL);
        if (!poisoned(v))
            err(L, v->mark, NULL, "'%s' must be a list of items, found %s", field, ds_yaml_type_name(v));
        return;
    }
    check_props(L, v, NULL);
    for (size_t i = 0; i < v->n; i++) {
        ynode *e = v->v[i];
        if (e->kind == YN_MAP) {
            load_item(L, e, kind, D);
            continue;
        }
        check_deep(L, e, NULL);
        if (!poisoned(e))
            err(L, e->mark, NULL, "each entry of '%s' must be a mapping (an item), found %s",
                field, ds_yaml_type_name(e));
    }
}

static void load_root(ld *L, ynode *root)
{
    if (root->kind != YN_MAP) {
        check_deep(L, root, NULL);
        if (!poisoned(root))
            err(L, root->mark, NULL, "the top level must be a mapping, found %s", ds_yaml_type_name(root));
        return;
    }
    check_map(L, root, NULL);
    ynode *top[4] = {0};
    for (size_t i = 0; i + 1 < root->n; i += 2) {
        ynode *k = root->v[i];
        if (!live_key(k)) continue;
        int f = k->has_nul ? -1 : lookup(k->s, k->len, top_fields);
        if (f < 0) {
            if (!k->has_nul && lookup(k->s, k->len, ds_item_fields) >= 0)
                err(L, k->mark, NULL, "unknown field '%s' at the top level; item fields go in 'defaults' "
                    "or in an item of 'metrics' or 'charts'", shown(L, k));
            else
                unknown_field(L, k, NULL, top_fields);
            check_deep(L, root->v[i + 1], NULL);
            continue;
        }
        top[f] = root->v[i + 1];
    }
    if (!top[0]) {
        err(L, root->mark, NULL, "missing required field 'version'");
    } else {
        ynode *v = top[0];
        int b = check_deep(L, v, NULL);
        if (!b && !poisoned(v)) {
            yval y = v->kind == YN_SCALAR ? ds_yaml_resolve(v) : (yval){YT_STR, 0, 0, 0};
            if (v->kind != YN_SCALAR || y.type != YT_INT)
                err(L, v->mark, NULL, "'version' must be the integer 1, found %s", ds_yaml_type_name(v));
            else if (y.overflow || y.i != 1)
                err(L, v->mark, NULL, "unsupported version %s; this dashspec reads version 1", shown(L, v));
        }
    }
    defaults D;
    memset(&D, 0, sizeof D);
    if (top[1]) load_defaults(L, top[1], &D);
    if (top[2]) load_list(L, top[2], "metrics", DS_KIND_METRIC, &D);
    if (top[3]) load_list(L, top[3], "charts", DS_KIND_CHART, &D);
    ds_item_free(&D.it);
}

/* Stable sort of the entries this file added, by position: the tree is
 * walked in several passes (structure, then fields), not in file order. */
static void sort_range(ds_diag *d, size_t from)
{
    for (size_t i = from + 1; i < d->n; i++) {
        ds_diag_entry e = d->v[i];
        size_t j = i;
        while (j > from && (d->v[j - 1].line > e.line ||
                            (d->v[j - 1].line == e.line && d->v[j - 1].col > e.col))) {
            d->v[j] = d->v[j - 1];
            j--;
        }
        d->v[j] = e;
    }
}

static void load_one(const char *file, const char *buf, size_t len, ds_plan *p, keyidx *idx, ds_diag *d)
{
    ld L;
    memset(&L, 0, sizeof L);
    L.file = file;
    L.d = d;
    L.p = p;
    L.idx = idx;
    size_t from = d->n;
    if (len > DS_SPEC_MAX_FILE_BYTES) {
        err(&L, (ds_mark){1, 1}, NULL, "file is too large (the limit is %d bytes)", DS_SPEC_MAX_FILE_BYTES);
        return;
    }
    ynode *root = NULL;
    ds_yerr ye;
    L.doc = ds_yaml_parse(buf, len, DS_SPEC_MAX_DEPTH, &root, &ye);
    if (!L.doc) {
        err(&L, ye.mark, NULL, "%s", ye.msg);
        return;
    }
    load_root(&L, root);
    ds_yaml_free(L.doc);
    sort_range(d, from);
}

/* Loads one file's bytes (see dashspec.h). Items are appended to p, errors go
 * to d; keys already in p count for duplicates. Returns -1 when this call
 * reported an error, else 0. Never fails otherwise: out of memory is an error. */
int ds_spec_load_buf(const char *file, const char *buf, size_t len, ds_plan *p, ds_diag *d)
{
    keyidx idx = {0};
    size_t before = d->nerrors;
    if (!file) file = "<input>";
    if (idx_build(&idx, p)) {
        free(idx.slot);
        return ds_error(d, file, 1, 1, NULL, "out of memory");
    }
    load_one(file, buf ? buf : "", buf ? len : 0, p, &idx, d);
    free(idx.slot);
    return d->nerrors > before ? -1 : 0;
}

/* ---------------------------------------------------------------- directories */

typedef struct walker {
    const char *base;        /* the specs dir, without trailing slashes */
    char **rel;              /* spec files found, relative to base */
    size_t nrel, caprel;
    struct { dev_t dev; ino_t ino; } *seen;   /* directories entered */
    size_t nseen, capseen;
    ds_diag *d;
    int oom;
} walker;

static int spec_name(const char *name)
{
    size_t n = strlen(name);
    return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) || (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

static char *join(const char *a, const char *b)
{
    if (!a) return ds_strdup(b);
    return ds_asprintf("%s%s%s", a, a[0] && a[strlen(a) - 1] == '/' ? "" : "/", b);
}

/* 1 if the directory was entered before (a symlink loop or a second link to
 * it), else records it and returns 0. -1 on OOM. */
static int seen_dir(walker *w, const struct stat *st)
{
    for (size_t i = 0; i < w->nseen; i++)
        if (w->seen[i].dev == st->st_dev && w->seen[i].ino == st->st_ino) return 1;
    if (w->nseen == w->capseen) {
        size_t cap = w->capseen ? w->capseen * 2 : 16;
        void *v = realloc(w->seen, cap * sizeof *w->seen);
        if (!v) return -1;
        w->seen = v;
        w->capseen = cap;
    }
    w->seen[w->nseen].dev = st->st_dev;
    w->seen[w->nseen].ino = st->st_ino;
    w->nseen++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk(walker *w, const char *rel)
{
    char *path = rel ? join(w->base, rel) : ds_strdup(w->base);
    DIR *dp = path ? opendir(path) : NULL;
    if (!path) { w->oom = 1; return; }
    if (!dp) {
        ds_error(w->d, NULL, 0, 0, NULL, "cannot read directory '%s': %s", path, strerror(errno));
        free(path);
        return;
    }
    struct dirent *de;
    while ((de = readdir(dp))) {
        if (de->d_name[0] == '.') continue;
        char *crel = join(rel, de->d_name), *cpath = crel ? join(w->base, crel) : NULL;
        struct stat st;
        if (!crel || !cpath) { w->oom = 1; free(crel); free(cpath); break; }
        if (stat(cpath, &st) != 0) {
            if (spec_name(de->d_name))
                ds_error(w->d, cpath, 1, 1, NULL, "cannot read file: %s", strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            int s = seen_dir(w, &st);
            if (s < 0) w->oom = 1;
            else if (s == 0) walk(w, crel);
        } else if (spec_name(de->d_name)) {
            if (!S_ISREG(st.st_mode)) {
                ds_error(w->d, cpath, 1, 1, NULL, "cannot read file: not a regular file");
            } else {
                if (w->nrel == w->caprel) {
                    size_t cap = w->caprel ? w->caprel * 2 : 64;
                    char **v = realloc(w->rel, cap * sizeof *v);
                    if (!v) { w->oom = 1; free(crel); free(cpath); break; }
                    w->rel = v;
                    w->caprel = cap;
                }
                w->rel[w->nrel++] = crel;
                crel = NULL;
            }
        }
        free(crel);
        free(cpath);
    }
    closedir(dp);
    free(path);
}

/* Reads at most DS_SPEC_MAX_FILE_BYTES + 1 bytes of a regular file, without
 * blocking on a FIFO that replaced it since the walk. NULL with errno set. */
static char *read_spec(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0) { int e = errno; close(fd); errno = e; return NULL; }
    if (!S_ISREG(st.st_mode)) { close(fd); errno = EINVAL; return NULL; }
    size_t cap = (size_t)DS_SPEC_MAX_FILE_BYTES + 1, n = 0;
    if (st.st_size >= 0 && (uint64_t)st.st_size < cap) cap = (size_t)st.st_size + 1;
    char *b = malloc(cap + 1);
    if (!b) { close(fd); errno = ENOMEM; return NULL; }
    for (;;) {
        if (n == cap) {
            if (cap > (size_t)DS_SPEC_MAX_FILE_BYTES) break;   /* one byte past the limit is enough */
            size_t nc = cap * 2 > (size_t)DS_SPEC_MAX_FILE_BYTES + 1 ? (size_t)DS_SPEC_MAX_FILE_BYTES + 1 : cap * 2;
            char *nb = realloc(b, nc + 1);
            if (!nb) { free(b); close(fd); errno = ENOMEM; return NULL; }
            b = nb;
            cap = nc;
        }
        ssize_t r = read(fd, b + n, cap - n);
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            free(b);
            close(fd);
            errno = e;
            return NULL;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    b[n] = '\0';
    *len = n;
    return b;
}

/* Loads every spec file under dir (see dashspec.h). A missing or unreadable
 * dir is ds_fail(DS_USAGE); problems with single files are errors on that file
 * and the others still load. Returns -1 when this call reported an error. */
int ds_spec_load_dir(const char *dir, ds_plan *p, ds_diag *d)
{
    walker w;
    keyidx idx = {0};
    size_t before = d->nerrors;
    int rc = -1;
    memset(&w, 0, sizeof w);
    w.d = d;
    char *base = ds_strdup(dir ? dir : "");
    if (!base) return ds_fail(d, DS_FAILED, "out of memory");
    for (size_t n = strlen(base); n > 1 && base[n - 1] == '/'; n--) base[n - 1] = '\0';
    w.base = base;
    struct stat st;
    if (!*base || stat(base, &st) != 0) {
        ds_fail(d, DS_USAGE, "cannot open specs directory '%s': %s", dir ? dir : "", *base ? strerror(errno) : "empty path");
        goto out;
    }
    if (!S_ISDIR(st.st_mode)) {
        ds_fail(d, DS_USAGE, "specs directory '%s' is not a directory", dir);
        goto out;
    }
    DIR *probe = opendir(base);
    if (!probe) {
        ds_fail(d, DS_USAGE, "cannot open specs directory '%s': %s", dir, strerror(errno));
        goto out;
    }
    closedir(probe);
    if (seen_dir(&w, &st) < 0) { ds_fail(d, DS_FAILED, "out of memory"); goto out; }
    walk(&w, NULL);
    if (w.oom || idx_build(&idx, p)) { ds_fail(d, DS_FAILED, "out of memory"); goto out; }
    if (w.nrel) qsort(w.rel, w.nrel, sizeof *w.rel, cmp_str);
    for (size_t i = 0; i < w.nrel; i++) {
        char *path = join(base, w.rel[i]);
        size_t len = 0;
        char *buf = path ? read_spec(path, &len) : NULL;
        if (!path) { ds_fail(d, DS_FAILED, "out of memory"); goto out; }
        if (!buf) ds_error(d, path, 1, 1, NULL, "cannot read file: %s", strerror(errno));
        else load_one(path, buf, len, p, &idx, d);
        free(buf);
        free(path);
    }
    rc = d->nerrors > before ? -1 : 0;
out:
    for (size_t i = 0; i < w.nrel; i++) free(w.rel[i]);
    free(w.rel);
    free(w.seen);
    free(idx.slot);
    free(base);
    return rc;
}

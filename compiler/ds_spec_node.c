/*
 * ds_spec_node.c — the spec loader's checks of YAML nodes (aliases, anchors,
 * tags, duplicate keys), its one error path with the per-file cap, and the
 * readers of scalar values (strings, column names, durations, counts).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ds_spec_int.h"

#define SHOW_MAX_CHARS 60       /* user text quoted in a message is cut here */
#define SHOW_MAX_ESCAPE 16      /* room kept for one escaped byte and "..." */

int ds_spec_err(ld *L, ds_mark m, const char *key, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int ds_spec_err(ld *L, ds_mark m, const char *key, const char *fmt, ...)
{
    if (L->nerr > DS_SPEC_MAX_ERRORS) return -1;
    if (L->nerr++ == DS_SPEC_MAX_ERRORS) {
        ds_error(L->d, L->file, m.line, m.col, NULL,
                 "too many errors in this file (more than %d); the rest are not reported",
                 DS_SPEC_MAX_ERRORS);
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

int ds_spec_oom(ld *L, ds_mark m)
{
    if (L->oom++) return -1;
    return ds_spec_err(L, m, NULL, "out of memory");
}

/* User text for a message: control characters escaped, long text cut, so a
 * diagnostic stays one line whatever the spec holds. */
const char *ds_spec_show(ld *L, const char *s, size_t n)
{
    char *b = L->show[L->showi++ & 3];
    size_t o = 0, chars = 0, cap = sizeof L->show[0];
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) != 0x80 && (chars++ == SHOW_MAX_CHARS || o + SHOW_MAX_ESCAPE >= cap)) {
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

const char *ds_spec_shown(ld *L, const ynode *n) { return ds_spec_show(L, n->s, n->len); }

int ds_spec_unknown_field(ld *L, const ynode *k, const char *key, const char *const *cands)
{
    const char *s = ds_suggest(k->s, k->len, cands);
    if (s) return ds_spec_err(L, k->mark, key, "unknown field '%s'; did you mean '%s'?", ds_spec_shown(L, k), s);
    return ds_spec_err(L, k->mark, key, "unknown field '%s'", ds_spec_shown(L, k));
}

/* A node whose meaning we refuse (alias, tag): reported once, then skipped
 * silently by every field parser. */
int ds_spec_poisoned(const ynode *n) { return n->alias || n->tagged; }

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
int ds_spec_check_props(ld *L, const ynode *n, const char *key)
{
    int bad = 0;
    const char *t;
    size_t tl;
    if (n->alias) {
        ds_spec_err(L, n->mark, key, "YAML aliases are not allowed (*%s)", ds_spec_show(L, n->anchor, strlen(n->anchor)));
        return 1;
    }
    if (n->anchor) {
        ds_mark m = prop_mark(L, n, '&', &t, &tl);
        ds_spec_err(L, m, key, "YAML anchors are not allowed (&%s)", ds_spec_show(L, n->anchor, strlen(n->anchor)));
        bad++;
    }
    if (n->tagged) {
        ds_mark m = prop_mark(L, n, '!', &t, &tl);
        ds_spec_err(L, m, key, "YAML tags are not allowed (%s)", ds_spec_show(L, t, tl));
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

static int usable_key(const ynode *k) { return k->kind == YN_SCALAR && !ds_spec_poisoned(k); }

static int report_dup(ld *L, ynode *k, const ynode *first, const char *key)
{
    k->dup = 1;
    return ds_spec_err(L, k->mark, key, "duplicate mapping key '%s'; first at line %d", ds_spec_shown(L, k), first->mark.line);
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
    if (!ks) return ds_spec_oom(L, m->mark), 1;
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

int ds_spec_check_deep(ld *L, ynode *n, const char *key);

/* One mapping's own problems: its properties, keys that are not scalars,
 * duplicate keys. Values of refused keys are checked deeply here because
 * nothing else will look at them. Returns the number of errors. */
int ds_spec_check_map(ld *L, ynode *m, const char *key)
{
    int bad = ds_spec_check_props(L, m, key);
    for (size_t i = 0; i + 1 < m->n; i += 2) {
        ynode *k = m->v[i];
        if (k->kind != YN_SCALAR) {
            bad += ds_spec_err(L, k->mark, key, "a mapping key must be a scalar, found %s", ds_yaml_type_name(k)) ? 1 : 0;
            bad += ds_spec_check_deep(L, k, key);
            bad += ds_spec_check_deep(L, m->v[i + 1], key);
        } else {
            bad += ds_spec_check_props(L, k, key);
        }
    }
    bad += check_dups(L, m, key);
    for (size_t i = 0; i + 1 < m->n; i += 2)
        if (m->v[i]->kind == YN_SCALAR && m->v[i]->dup) bad += ds_spec_check_deep(L, m->v[i + 1], key);
    return bad;
}

/* A whole subtree: properties everywhere, keys and duplicates in every
 * mapping. Returns the number of errors. */
int ds_spec_check_deep(ld *L, ynode *n, const char *key)
{
    if (n->kind == YN_MAP) {
        int bad = ds_spec_check_map(L, n, key);
        for (size_t i = 0; i + 1 < n->n; i += 2)
            if (n->v[i]->kind == YN_SCALAR && !n->v[i]->dup) bad += ds_spec_check_deep(L, n->v[i + 1], key);
        return bad;
    }
    int bad = ds_spec_check_props(L, n, key);
    if (n->kind == YN_SEQ)
        for (size_t i = 0; i < n->n; i++) bad += ds_spec_check_deep(L, n->v[i], key);
    return bad;
}

/* Whether pair i of m is one the spec layer should read. */
int ds_spec_want_kind(ld *L, ynode *n, int kind, const char *what, const char *a)
{
    if ((int)n->kind == kind) return 0;
    ds_spec_check_deep(L, n, NULL);
    if (!ds_spec_poisoned(n))
        ds_spec_err(L, n->mark, NULL, "%s must be %s, found %s", what, a, ds_yaml_type_name(n));
    return -1;
}

int ds_spec_live_key(const ynode *k) { return k->kind == YN_SCALAR && !ds_spec_poisoned(k) && !k->dup; }

int ds_spec_lookup(const char *s, size_t n, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0) return i;
    return -1;
}

int ds_spec_pattern_key(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64 || !(s[0] >= 'a' && s[0] <= 'z')) return 0;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_')) return 0;
    return 1;
}

int ds_spec_pattern_group(const char *s)
{
    if (!(s[0] >= 'a' && s[0] <= 'z')) return 0;
    for (size_t i = 1; s[i]; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
            return 0;
    return 1;
}

int ds_spec_pattern_param(const char *s)
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
const char *ds_spec_want_str(ld *L, const ynode *v, const char *subject, const char *key)
{
    if (ds_spec_poisoned(v)) return NULL;
    if (v->kind != YN_SCALAR || ds_yaml_resolve(v).type != YT_STR) {
        ds_spec_err(L, v->mark, key, "%s must be a string, found %s", subject, ds_yaml_type_name(v));
        return NULL;
    }
    if (v->has_nul) {
        ds_spec_err(L, v->mark, key, "%s must not contain a NUL character", subject);
        return NULL;
    }
    return v->s;
}

/* A column name: a non-empty string. */
const char *ds_spec_want_column(ld *L, const ynode *v, const char *subject, const char *key)
{
    const char *s = ds_spec_want_str(L, v, subject, key);
    if (s && !*s) {
        ds_spec_err(L, v->mark, key, "%s must not be empty", subject);
        return NULL;
    }
    return s;
}

int ds_spec_want_duration(ld *L, const ynode *v, const char *field, const char *key, int64_t *out)
{
    if (ds_spec_poisoned(v)) return -1;
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
            return ds_spec_err(L, v->mark, key, "invalid %s '%s': %s", field, ds_spec_shown(L, v), why);
        }
        if (y.type == YT_STR && !v->has_nul) {
            if (ds_duration_parse(v->s, out, &why) == 0) return 0;
            return ds_spec_err(L, v->mark, key, "invalid %s '%s': %s", field, ds_spec_shown(L, v), why);
        }
    }
    return ds_spec_err(L, v->mark, key, "'%s' must be a duration like 90s, 15m, 1h30m or 1800, found %s",
               field, ds_yaml_type_name(v));
}

int ds_spec_want_count(ld *L, const ynode *v, const char *field, const char *key, int64_t *out)
{
    if (ds_spec_poisoned(v)) return -1;
    yval y = v->kind == YN_SCALAR ? ds_yaml_resolve(v) : (yval){YT_STR, 0, 0, 0};
    if (v->kind != YN_SCALAR || y.type != YT_INT)
        return ds_spec_err(L, v->mark, key, "'%s' must be an integer, found %s", field, ds_yaml_type_name(v));
    if (y.overflow)
        return ds_spec_err(L, v->mark, key, "'%s' is out of range (at most %" PRId64 ")", field, INT64_MAX);
    if (y.i < 1)
        return ds_spec_err(L, v->mark, key, "'%s' must be at least 1, found %" PRId64, field, y.i);
    *out = y.i;
    return 0;
}

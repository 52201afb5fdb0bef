/*
 * ds_yaml_hint.c — indentation mistakes in dashspec's own words. libyaml
 * reports them as "mapping values are not allowed in this context" or "did
 * not find expected '-' indicator", sometimes a line late; this walks the
 * lines up to the one libyaml names, with the levels of indentation open at
 * each point (as Python's tokenizer does), and names the first line that
 * does not fit: deeper than a field that has a value, between two levels,
 * or ending a `query: |` block too early.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "ds_yaml.h"

#define MAX_LEVELS 64

typedef struct walk {
    int lv[MAX_LEVELS];     /* open indentation levels, increasing */
    int nlv;
    int opens;              /* the previous line ends with "key:" (or "-"): a deeper line is its value */
    int prev_line, prev_col;    /* the previous significant line and its key's column (1-based) */
    char prev_key[40];
    int blk_key, blk_line;  /* in a block scalar: the column of its key (0: none) and line */
    int blk_indent;         /* the block's indentation; -1 until its first line */
    char blk_name[40];
} walk;

/* The "key:" at s[0..n): its length (without the colon), or 0. */
static size_t key_len(const char *s, size_t n)
{
    size_t k = 0;
    while (k < n && (s[k] == '_' || s[k] == '-' || (s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z') ||
                     (s[k] >= '0' && s[k] <= '9')))
        k++;
    return k > 0 && k < n && s[k] == ':' && (k + 1 == n || s[k + 1] == ' ') ? k : 0;
}

static int hint(ds_yerr *err, int line, int col, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int hint(ds_yerr *err, int line, int col, const char *fmt, ...)
{
    char msg[220];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(err->msg, sizeof err->msg, "YAML indentation: %s", msg);
    err->mark = (ds_mark){line, col};
    return 1;
}

/* A line inside (or ending) a block scalar. 1: it belongs to the block. */
static int in_block(walk *w, int line, int ind, const char *c, size_t n, ds_yerr *err, int *found)
{
    if (w->blk_indent < 0) {
        if (ind + 1 <= w->blk_key) { w->blk_key = 0; return 0; }     /* an empty block */
        w->blk_indent = ind;
        return 1;
    }
    if (ind >= w->blk_indent) return 1;
    if (ind + 1 > w->blk_key)
        *found = hint(err, line, ind + 1, "the '%s' block ended here because this line is indented less than "
                      "the block's first line (line %d); indent every line of the block alike", w->blk_name,
                      w->blk_line + 1);
    else if (!key_len(c, n) && c[0] != '-' && c[0] != '#')
        *found = hint(err, line, ind + 1, "the '%s' block ended here because this line is not indented more than "
                      "'%s:' (line %d); indent every line of the block more than its key", w->blk_name,
                      w->blk_name, w->blk_line);
    w->blk_key = 0;
    return *found;
}

/* One significant line outside blocks; 1 when it is the culprit. -1: stop
 * (flow collections, quoted text over several lines: not ours to judge). */
static int fit(walk *w, int line, int ind, const char *c, size_t n, ds_yerr *err)
{
    int top = w->lv[w->nlv - 1];
    if (ind > top && !w->opens) {
        if (!w->prev_key[0]) return -1;
        return hint(err, line, ind + 1, "this line is indented deeper than the field above ('%s:' at line %d), "
                    "so it reads as part of that field's value; line it up with the fields beside it",
                    w->prev_key, w->prev_line);
    }
    if (ind > top && w->nlv < MAX_LEVELS) w->lv[w->nlv++] = ind;
    while (w->nlv > 1 && w->lv[w->nlv - 1] > ind) w->nlv--;
    if (w->lv[w->nlv - 1] != ind)
        return hint(err, line, ind + 1, "this line is indented less than the field above ('%s:' at line %d) "
                    "but more than the level around it; line it up with the fields of its mapping",
                    w->prev_key, w->prev_line);
    /* "- key: v": the item's fields line up with its first key. */
    size_t k = 0;
    while (k + 1 < n && c[k] == '-' && c[k + 1] == ' ') {
        k += 2;
        while (k < n && c[k] == ' ') k++;
        if (w->nlv < MAX_LEVELS) w->lv[w->nlv++] = ind + (int)k;
    }
    size_t kl = key_len(c + k, n - k);
    const char *v = c + k + kl + 1;
    size_t vn = kl ? n - k - kl - 1 : 0;
    while (vn && *v == ' ') { v++; vn--; }
    if (vn && (v[0] == '[' || v[0] == '{' || v[0] == '"' || v[0] == '\'')) {
        char close = v[0] == '[' ? ']' : v[0] == '{' ? '}' : v[0];
        if (vn < 2 || !memchr(v + 1, close, vn - 1)) return -1;
    }
    w->opens = (kl && (vn == 0 || v[0] == '#')) || (k && k == n) || (k == n);
    w->prev_line = line;
    snprintf(w->prev_key, sizeof w->prev_key, "%.*s", (int)kl, c + k);
    if (kl && vn && (v[0] == '|' || v[0] == '>')) {
        w->blk_key = ind + (int)k + 1;
        w->blk_line = line;
        w->blk_indent = -1;
        snprintf(w->blk_name, sizeof w->blk_name, "%.*s", (int)kl, c + k);
        w->opens = 0;
    }
    return 0;
}

int ds_yaml_indent_hint(const ds_ydoc *doc, int upto, ds_yerr *err)
{
    walk w;
    memset(&w, 0, sizeof w);
    w.nlv = 1;
    w.opens = 1;
    for (int line = 1; line <= upto; line++) {
        size_t n;
        const char *s = ds_yaml_line(doc, line, &n);
        if (!s) break;
        if (n && s[n - 1] == '\r') n--;
        int ind = 0;
        while ((size_t)ind < n && s[ind] == ' ') ind++;
        const char *c = s + ind;
        size_t cn = n - (size_t)ind;
        if (cn == 0 || (c[0] == '#' && !w.blk_key)) continue;
        if (line == 1 && cn >= 3 && strncmp(c, "---", 3) == 0) continue;
        int found = 0;
        if (w.blk_key && in_block(&w, line, ind, c, cn, err, &found)) {
            if (found) return 1;
            continue;
        }
        int r = fit(&w, line, ind, c, cn, err);
        if (r) return r > 0;
    }
    return 0;
}

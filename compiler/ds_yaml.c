/*
 * ds_yaml.c — one YAML file -> a node tree with 1-based source marks.
 *
 * The bytes are checked before libyaml sees them: libyaml's reader decodes
 * 16 KiB at a time and reports a bad byte only by its offset, before any
 * token near it, so invalid UTF-8, control characters and UTF-16 are found
 * here with a line and column. Then libyaml's event parser drives a stack of
 * open collections (no recursion, so the depth limit is the only bound that
 * matters); nodes live in one arena freed at once.
 *
 * Line breaks are counted the way libyaml counts them in its marks (CR LF,
 * CR, LF, NEL, LS, PS), so positions computed here agree with libyaml's.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "ds_common.h"
#include "ds_utf8.h"
#include "ds_vec.h"
#include "ds_yaml.h"

/* ---------------------------------------------------------------- arena */

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    _Alignas(16) char data[];
} chunk;

#define CHUNK_SIZE (64 * 1024)

struct ds_ydoc {
    chunk *arena;
    const char *buf;
    size_t len;
    size_t bom;              /* 3 when the buffer starts with a UTF-8 BOM */
    size_t *starts, *ends;   /* per line: first byte, and the byte of its break (or len) */
    unsigned char *ascii;    /* per line: 1 when the line is pure ASCII */
    size_t nlines;
};

/* Returns zeroed memory owned by the document, or NULL when out of memory. */
static void *alloc(ds_ydoc *doc, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    chunk *c = doc->arena;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > CHUNK_SIZE / 4 ? n : CHUNK_SIZE;
        chunk *nc = malloc(sizeof *nc + cap);
        if (!nc) return NULL;
        nc->used = 0;
        nc->cap = cap;
        if (c && n > CHUNK_SIZE / 4) {
            /* A big block goes behind the current chunk so the rest of the
             * current chunk stays usable. */
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            doc->arena = nc;
        }
        c = nc;
    }
    void *p = c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

/* Frees the document and every node of it; NULL is fine. */
void ds_yaml_free(ds_ydoc *doc)
{
    if (!doc) return;
    for (chunk *c = doc->arena, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(doc->starts);
    free(doc->ends);
    free(doc->ascii);
    free(doc);
}

/* ---------------------------------------------------------------- lines */

/* Length of the line break at s[i], 0 when there is none (libyaml's set). */
static size_t brk(const unsigned char *s, size_t i, size_t len)
{
    if (s[i] == '\n') return 1;
    if (s[i] == '\r') return i + 1 < len && s[i + 1] == '\n' ? 2 : 1;
    if (s[i] == 0xC2 && i + 1 < len && s[i + 1] == 0x85) return 2;
    if (s[i] == 0xE2 && i + 2 < len && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9))
        return 3;
    return 0;
}

static int build_lines(ds_ydoc *doc)
{
    const unsigned char *s = (const unsigned char *)doc->buf;
    size_t cap = 64, n = 0, start = doc->bom;
    int ascii = 1;
    doc->starts = malloc(cap * sizeof *doc->starts);
    doc->ends = malloc(cap * sizeof *doc->ends);
    doc->ascii = malloc(cap);
    if (!doc->starts || !doc->ends || !doc->ascii) return -1;
    for (size_t i = start; ; ) {
        size_t b = i < doc->len ? brk(s, i, doc->len) : 0;
        if (i < doc->len && !b) {
            if (s[i] >= 0x80) ascii = 0;
            i++;
            continue;
        }
        if (n == cap) {
            cap *= 2;
            size_t *a = realloc(doc->starts, cap * sizeof *a);
            if (!a) return -1;
            doc->starts = a;
            a = realloc(doc->ends, cap * sizeof *a);
            if (!a) return -1;
            doc->ends = a;
            unsigned char *c = realloc(doc->ascii, cap);
            if (!c) return -1;
            doc->ascii = c;
        }
        doc->starts[n] = start;
        doc->ends[n] = i;
        doc->ascii[n] = (unsigned char)ascii;
        n++;
        if (i >= doc->len) break;
        i += b;
        start = i;
        ascii = 1;
    }
    doc->nlines = n;
    return 0;
}

/* Byte offset of a 1-based mark; marks past a line end clamp to it, marks
 * past the last line give the buffer length. */
size_t ds_yaml_offset(const ds_ydoc *doc, ds_mark m)
{
    if (m.line < 1 || (size_t)m.line > doc->nlines) return doc->len;
    size_t l = (size_t)m.line - 1, o = doc->starts[l], end = doc->ends[l];
    size_t col = m.col > 1 ? (size_t)m.col - 1 : 0;
    if (doc->ascii[l]) return o + col < end ? o + col : end;
    return o + ds_utf8_skip(doc->buf + o, end - o, col);
}

/* 1-based mark of a byte offset (O(log lines) + the bytes of its line). */
ds_mark ds_yaml_mark(const ds_ydoc *doc, size_t off)
{
    ds_mark m = {1, 1};
    if (!doc->nlines) return m;
    size_t lo = 0, hi = doc->nlines - 1;
    while (lo < hi) {                 /* last line whose start is <= off */
        size_t mid = lo + (hi - lo + 1) / 2;
        if (doc->starts[mid] <= off) lo = mid; else hi = mid - 1;
    }
    size_t st = doc->starts[lo];
    m.line = (int)lo + 1;
    m.col = off > st ? (int)ds_utf8_chars(doc->buf + st, off - st) + 1 : 1;
    return m;
}

/* Source line without its break, pointing into the buffer; NULL past the end. */
const char *ds_yaml_line(const ds_ydoc *doc, int line, size_t *len)
{
    if (line < 1 || (size_t)line > doc->nlines) return NULL;
    *len = doc->ends[line - 1] - doc->starts[line - 1];
    return doc->buf + doc->starts[line - 1];
}

/* The parsed buffer (owned by the caller of ds_yaml_parse). */
const char *ds_yaml_buf(const ds_ydoc *doc, size_t *len)
{
    *len = doc->len;
    return doc->buf;
}

/* ---------------------------------------------------------------- bytes */

/* Finds the first byte sequence libyaml would refuse (or misplace): invalid
 * UTF-8, or a character outside YAML's printable set. Returns its offset, or
 * len when the buffer is clean; *why receives the message. */
static size_t bad_bytes(const unsigned char *s, size_t len, char *why, size_t n)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        if (c < 0x80) {
            if (c == 0x09 || c == 0x0A || c == 0x0D || (c >= 0x20 && c <= 0x7E)) { i++; continue; }
            snprintf(why, n, "control character U+%04X is not allowed", c);
            return i;
        }
        uint32_t cp = 0;
        int k = ds_utf8_next(s + i, len - i, &cp);
        if (k < 0) {
            snprintf(why, n, "invalid UTF-8 byte 0x%02X", c);
            return i;
        }
        if (cp >= 0x80 && cp <= 0x9F && cp != 0x85) {
            snprintf(why, n, "control character U+%04X is not allowed", (unsigned)cp);
            return i;
        }
        if (cp == 0xFFFE || cp == 0xFFFF) {
            snprintf(why, n, "character U+%04X is not allowed", (unsigned)cp);
            return i;
        }
        i += (size_t)k;
    }
    return len;
}

/* ---------------------------------------------------------------- events */

static ds_mark mk(yaml_mark_t m)
{
    ds_mark r = {(int)m.line + 1, (int)m.column + 1};
    return r;
}

static int set_err(ds_yerr *err, ds_mark m, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int set_err(ds_yerr *err, ds_mark m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->mark = m;
    return -1;
}

static ynode *new_node(ds_ydoc *doc, int kind, const yaml_event_t *e)
{
    ynode *n = alloc(doc, sizeof *n);
    if (!n) return NULL;
    n->kind = (unsigned char)kind;
    n->mark = mk(e->start_mark);
    n->end = mk(e->end_mark);
    n->s = "";
    const yaml_char_t *anchor = NULL, *tag = NULL;
    switch (e->type) {
    case YAML_SCALAR_EVENT:
        anchor = e->data.scalar.anchor;
        tag = e->data.scalar.tag;
        n->style = (unsigned char)e->data.scalar.style;
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = e->data.sequence_start.anchor;
        tag = e->data.sequence_start.tag;
        n->style = e->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE ? 2 : 1;
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = e->data.mapping_start.anchor;
        tag = e->data.mapping_start.tag;
        n->style = e->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE ? 2 : 1;
        break;
    case YAML_ALIAS_EVENT:
        anchor = e->data.alias.anchor;
        n->alias = 1;
        n->style = YS_PLAIN;
        break;
    default:
        break;
    }
    n->tagged = tag != NULL;
    if (anchor) {
        size_t al = strlen((const char *)anchor);
        char *a = alloc(doc, al + 1);
        if (!a) return NULL;
        memcpy(a, anchor, al);
        n->anchor = a;
    }
    if (e->type == YAML_SCALAR_EVENT) {
        size_t l = e->data.scalar.length;
        char *s = alloc(doc, l + 1);
        if (!s) return NULL;
        memcpy(s, e->data.scalar.value, l);
        n->s = s;
        n->len = l;
        n->has_nul = memchr(s, '\0', l) != NULL;
    }
    return n;
}

/* Children of the open collections, stacked: a collection's children are
 * pending[frame start .. top) until it closes. */
typedef struct pend {
    ynode **v;
    size_t n, cap;
} pend;

static int push(pend *p, ynode *n)
{
    ynode **v = ds_vec_grow(p->v, &p->cap, p->n, sizeof *v);
    if (!v) return -1;
    p->v = v;
    p->v[p->n++] = n;
    return 0;
}

static void parser_error(const yaml_parser_t *ps, ds_ydoc *doc, ds_yerr *err)
{
    if (ps->error == YAML_MEMORY_ERROR) {
        set_err(err, (ds_mark){1, 1}, "out of memory");
        return;
    }
    if (ps->error == YAML_READER_ERROR) {
        /* Only a byte offset is known; bad_bytes() should have caught it. */
        set_err(err, ds_yaml_mark(doc, ps->problem_offset), "invalid input: %s",
                ps->problem ? ps->problem : "unreadable");
        return;
    }
    const char *prob = ps->problem ? ps->problem : "syntax error";
    /* libyaml words a tab in the indentation two ways, neither says "tab"
     * plainly when it is the tab that cannot start a token. */
    ds_mark pm = mk(ps->problem_mark);
    size_t po = ds_yaml_offset(doc, pm);
    if (strstr(prob, "tab") || (po < doc->len && doc->buf[po] == '\t')) {
        set_err(err, pm, "YAML syntax error: tabs cannot be used for indentation");
        return;
    }
    if (ds_yaml_indent_hint(doc, pm.line, err)) return;
    if (ps->context)
        set_err(err, mk(ps->problem_mark), "YAML syntax error: %s (%s at line %d)", prob,
                ps->context, (int)ps->context_mark.line + 1);
    else
        set_err(err, mk(ps->problem_mark), "YAML syntax error: %s", prob);
}

/* The tree under construction: open collections and their pending children. */
typedef struct builder {
    ds_ydoc *doc;
    ds_yerr *err;
    ynode **root;
    int max_depth, depth, ndocs;
    pend pd;
    size_t *frames;             /* per open collection: its pending start */
    ynode **open;               /* per open collection: its node */
} builder;

/* Closes the innermost open collection: its pending children become its own. */
static int close_node(builder *B, const yaml_event_t *e)
{
    ynode *c = B->open[--B->depth];
    size_t st = B->frames[B->depth], cnt = B->pd.n - st;
    if (cnt) {
        c->v = alloc(B->doc, cnt * sizeof *c->v);
        if (!c->v) return set_err(B->err, (ds_mark){1, 1}, "out of memory");
        memcpy(c->v, B->pd.v + st, cnt * sizeof *c->v);
    }
    c->n = cnt;
    c->end = mk(e->end_mark);
    B->pd.n = st;
    return 0;
}

/* Applies one event to the tree; *done at the stream's end. Returns nonzero
 * after filling B->err. */
static int on_event(builder *B, const yaml_event_t *e, int *done)
{
    ynode *n = NULL;
    switch (e->type) {
    case YAML_STREAM_END_EVENT:
        *done = 1;
        return 0;
    case YAML_DOCUMENT_START_EVENT:
        if (++B->ndocs > 1)
            return set_err(B->err, mk(e->start_mark),
                           "a second YAML document is not allowed; a spec file holds one mapping");
        return 0;
    case YAML_SCALAR_EVENT:
    case YAML_ALIAS_EVENT:
        n = new_node(B->doc, YN_SCALAR, e);
        break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        if (B->depth >= B->max_depth)
            return set_err(B->err, mk(e->start_mark), "nesting is too deep (more than %d levels)",
                           B->max_depth);
        n = new_node(B->doc, e->type == YAML_SEQUENCE_START_EVENT ? YN_SEQ : YN_MAP, e);
        break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return close_node(B, e);
    default:
        return 0;
    }
    if (!n) return set_err(B->err, (ds_mark){1, 1}, "out of memory");
    if (B->depth == 0) *B->root = n;
    else if (push(&B->pd, n)) return set_err(B->err, (ds_mark){1, 1}, "out of memory");
    if (n->kind != YN_SCALAR) {
        B->frames[B->depth] = B->pd.n;
        B->open[B->depth++] = n;
    }
    return 0;
}

/* Refuses what libyaml would misread (UTF-16, bad bytes) and indexes the
 * lines. 0 ok, else nonzero with *err filled. */
static int check_input(ds_ydoc *doc, const unsigned char *s, size_t len, ds_yerr *err)
{
    if (len >= 2 && ((s[0] == 0xFF && s[1] == 0xFE) || (s[0] == 0xFE && s[1] == 0xFF)))
        return set_err(err, (ds_mark){1, 1}, "file is UTF-16; spec files must be UTF-8");
    if (len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) doc->bom = 3;
    if (build_lines(doc)) return set_err(err, (ds_mark){1, 1}, "out of memory");
    char why[96];
    size_t bad = bad_bytes(s, len, why, sizeof why);
    if (bad < len) return set_err(err, ds_yaml_mark(doc, bad), "%s", why);
    return 0;
}

/* See ds_yaml.h. buf must outlive the document: nodes do not copy the
 * source, only scalar values. On failure returns NULL, *err filled. */
ds_ydoc *ds_yaml_parse(const char *buf, size_t len, int max_depth, ynode **root, ds_yerr *err)
{
    ds_ydoc *doc = calloc(1, sizeof *doc);
    yaml_parser_t ps;
    int ps_ok = 0, ok = 0, done = 0;
    const unsigned char *s = (const unsigned char *)buf;
    builder B = {doc, err, root, max_depth, 0, 0, {0}, NULL, NULL};

    *root = NULL;
    memset(err, 0, sizeof *err);
    if (!doc) { set_err(err, (ds_mark){1, 1}, "out of memory"); goto out; }
    doc->buf = buf;
    doc->len = len;
    if (check_input(doc, s, len, err)) goto out;
    B.frames = malloc(((size_t)max_depth + 1) * sizeof *B.frames);
    B.open = malloc(((size_t)max_depth + 1) * sizeof *B.open);
    if (!B.frames || !B.open || !yaml_parser_initialize(&ps)) {
        set_err(err, (ds_mark){1, 1}, "out of memory");
        goto out;
    }
    ps_ok = 1;
    yaml_parser_set_input_string(&ps, s, len);
    while (!done) {
        yaml_event_t e;
        if (!yaml_parser_parse(&ps, &e)) {
            parser_error(&ps, doc, err);
            goto out;
        }
        int fail = on_event(&B, &e, &done);
        yaml_event_delete(&e);
        if (fail) goto out;
    }
    if (B.ndocs == 0) {
        set_err(err, (ds_mark){1, 1}, "empty file: expected a mapping starting with 'version: 1'");
        goto out;
    }
    ok = 1;
out:
    if (ps_ok) yaml_parser_delete(&ps);
    free(B.pd.v);
    free(B.frames);
    free(B.open);
    if (!ok) {
        ds_yaml_free(doc);
        *root = NULL;
        return NULL;
    }
    return doc;
}

/* ---------------------------------------------------------------- core schema */

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
static int is_float(const char *s, size_t n)
{
    size_t i = 0, d = 0;
    if (i < n && (s[i] == '-' || s[i] == '+')) i++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && is_digit(s[i])) { i++; d++; }
        if (!d) return 0;
    } else {
        while (i < n && is_digit(s[i])) { i++; d++; }
        if (!d) return 0;
        if (i < n && s[i] == '.') {
            i++;
            while (i < n && is_digit(s[i])) i++;
        }
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+')) i++;
        d = 0;
        while (i < n && is_digit(s[i])) { i++; d++; }
        if (!d) return 0;
    }
    return i == n;
}

static int eq_any(const char *s, size_t n, const char *const *words)
{
    for (; *words; words++)
        if (strlen(*words) == n && memcmp(s, *words, n) == 0) return 1;
    return 0;
}

/* Accumulates digits of base b into an unsigned 64-bit value; 1 on overflow
 * beyond `max`, 0 on success, -1 when a character is not a digit of base b. */
static int digits(const char *s, size_t n, unsigned b, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    int over = 0;
    if (!n) return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned c = (unsigned char)s[i], dv;
        if (c >= '0' && c <= '9') dv = c - '0';
        else if (c >= 'a' && c <= 'f') dv = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') dv = c - 'A' + 10;
        else return -1;
        if (dv >= b) return -1;
        if (!over && (v > (max - dv) / b)) over = 1;
        if (!over) v = v * b + dv;
    }
    *out = v;
    return over;
}

/* Core-schema type and value of a scalar; cannot fail. */
yval ds_yaml_resolve(const ynode *n)
{
    static const char *const nulls[] = {"~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"true", "True", "TRUE", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", NULL};
    static const char *const infs[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", NULL};
    static const char *const ninfs[] = {"-.inf", "-.Inf", "-.INF", NULL};
    static const char *const nans[] = {".nan", ".NaN", ".NAN", NULL};
    yval v;
    memset(&v, 0, sizeof v);
    v.type = YT_STR;
    if (n->alias) { v.type = YT_NULL; return v; }
    if (n->kind != YN_SCALAR || n->style != YS_PLAIN) return v;
    const char *s = n->s;
    size_t len = n->len;
    if (len == 0 || eq_any(s, len, nulls)) { v.type = YT_NULL; return v; }
    if (eq_any(s, len, trues)) { v.type = YT_BOOL; v.i = 1; return v; }
    if (eq_any(s, len, falses)) { v.type = YT_BOOL; v.i = 0; return v; }
    uint64_t u;
    int r;
    if (len > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
        r = digits(s + 2, len - 2, s[1] == 'o' ? 8 : 16, (uint64_t)INT64_MAX, &u);
        if (r >= 0) {
            v.type = YT_INT;
            v.overflow = r;
            v.i = r ? 0 : (int64_t)u;
            return v;
        }
    }
    size_t sg = (s[0] == '-' || s[0] == '+') ? 1 : 0;
    int neg = s[0] == '-';
    r = digits(s + sg, len - sg, 10, neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, &u);
    if (r >= 0 && len > sg) {
        int only_dec = 1;
        for (size_t i = sg; i < len; i++) if (!is_digit(s[i])) only_dec = 0;
        if (only_dec) {
            v.type = YT_INT;
            v.overflow = r;
            if (!r) v.i = neg ? (u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u) : (int64_t)u;
            return v;
        }
    }
    if (eq_any(s, len, infs)) { v.type = YT_REAL; v.r = INFINITY; return v; }
    if (eq_any(s, len, ninfs)) { v.type = YT_REAL; v.r = -INFINITY; return v; }
    if (eq_any(s, len, nans)) { v.type = YT_REAL; v.r = NAN; return v; }
    if (is_float(s, len)) {
        v.type = YT_REAL;
        errno = 0;
        v.r = strtod(s, NULL);     /* s is NUL-terminated and matched the grammar */
        return v;
    }
    return v;
}

/* A static type name for messages; cannot fail. */
const char *ds_yaml_type_name(const ynode *n)
{
    if (n->kind == YN_SEQ) return "a list";
    if (n->kind == YN_MAP) return "a mapping";
    if (n->alias) return "an alias";
    switch (ds_yaml_resolve(n).type) {
    case YT_NULL: return "null";
    case YT_BOOL: return "a boolean";
    case YT_INT: return "an integer";
    case YT_REAL: return "a real number";
    default: return "a string";
    }
}

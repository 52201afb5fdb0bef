/*
 * ds_yaml.h — the loader's view of one YAML file: a small node tree with
 * source positions, built from libyaml events (compiler/ds_yaml.c), and the
 * YAML 1.2 core-schema resolution of plain scalars. Private to the compiler:
 * only compiler/ds_spec.c uses it.
 *
 * libyaml is a YAML 1.1 parser with neither a nesting limit nor a check for
 * duplicate keys, and it resolves nothing. This layer adds what the loader
 * needs on top: UTF-8 and control-character checks with line:col, a depth
 * limit, 1-based marks, byte offsets of marks (to compare a scalar's value
 * with its source text), and the node properties (anchors, tags, aliases)
 * kept so the spec layer can reject them with their positions.
 */
#ifndef DS_YAML_H
#define DS_YAML_H

#include <stddef.h>
#include <stdint.h>
#include "dashspec.h"

enum { YN_SCALAR = 0, YN_SEQ = 1, YN_MAP = 2 };

/* Scalar styles, as libyaml reports them (yaml_scalar_style_t). */
enum { YS_PLAIN = 1, YS_SINGLE = 2, YS_DOUBLE = 3, YS_LITERAL = 4, YS_FOLDED = 5 };

typedef struct ynode ynode;
struct ynode {
    unsigned char kind;      /* YN_SCALAR, YN_SEQ or YN_MAP */
    unsigned char style;     /* scalars: YS_*; collections: 1 block, 2 flow */
    unsigned char alias;     /* an alias (*name): a null scalar with no content */
    unsigned char tagged;    /* carried an explicit tag (!x, !!str, ...) */
    unsigned char dup;       /* mapping key repeating an earlier key (set by the spec layer) */
    unsigned char has_nul;   /* scalar value contains a NUL (from a "\0" escape) */
    const char *anchor;      /* &name (alias: the name referred to), or NULL */
    ds_mark mark;            /* start: first property, indicator or character; 1-based */
    ds_mark end;             /* just past the node */
    const char *s;           /* scalar value, NUL-terminated (also for alias: "") */
    size_t len;
    ynode **v;                  /* children; mappings hold key, value, key, value, ... */
    size_t n;                /* number of children (2 per mapping pair) */
};

typedef struct ds_ydoc ds_ydoc;

/* Why a file could not be turned into a tree. The message is static text or
 * text in `msg`; mark is 1-based (1:1 when the problem is the whole file). */
typedef struct ds_yerr {
    ds_mark mark;
    char msg[256];
} ds_yerr;

/* Parses buf[0..len) into a tree. Returns the document (caller frees with
 * ds_yaml_free) with *root set to the top node, or NULL after filling *err:
 * invalid UTF-8, a control character, UTF-16, a YAML syntax error, nesting
 * deeper than max_depth, an empty file, or a second document. Out of memory
 * is reported through *err as well. */
ds_ydoc *ds_yaml_parse(const char *buf, size_t len, int max_depth, ynode **root, ds_yerr *err);
void ds_yaml_free(ds_ydoc *doc);

/* Byte offset in the buffer of a (1-based) mark of this document. */
size_t ds_yaml_offset(const ds_ydoc *doc, ds_mark m);
/* The 1-based mark of a byte offset. */
ds_mark ds_yaml_mark(const ds_ydoc *doc, size_t off);
/* The bytes of source line `line` (1-based) without its line break, or NULL
 * when there is no such line. */
const char *ds_yaml_line(const ds_ydoc *doc, int line, size_t *len);
/* compiler/ds_yaml_hint.c: after a libyaml syntax error at line `upto`, the
 * first line up to it whose indentation does not fit (deeper than a field
 * with a value, between two levels, ending a `key: |` block early): fills
 * err with dashspec's words and that line, and returns 1; 0 when no line is
 * to blame (err untouched). Cannot fail. */
int ds_yaml_indent_hint(const ds_ydoc *doc, int upto, ds_yerr *err);
/* The buffer the document was parsed from. */
const char *ds_yaml_buf(const ds_ydoc *doc, size_t *len);

/* Core-schema types of a scalar. Only plain scalars resolve to anything but
 * a string: quoted and block scalars are always strings. */
typedef enum yt { YT_NULL, YT_BOOL, YT_INT, YT_REAL, YT_STR } yt;

typedef struct yval {
    yt type;
    int overflow;            /* YT_INT outside int64 */
    int64_t i;               /* YT_INT, YT_BOOL (1/0) */
    double r;                /* YT_REAL */
} yval;

/* Resolves a scalar node (alias nodes resolve to YT_NULL). */
yval ds_yaml_resolve(const ynode *n);
/* "a string", "an integer", "a list", ... for messages. */
const char *ds_yaml_type_name(const ynode *n);

#endif

/*
 * ds_spec_int.h — internals of the spec loader, shared by its phases:
 *
 *   ds_spec.c           a file: the top-level mapping, the item lists, and
 *                       each item run through the phases below, in order
 *   ds_spec_node.c      node checks (aliases, tags, duplicate keys), the one
 *                       error path with its per-file cap, scalar readers
 *   ds_spec_fields.c    parse: one field's value into a ds_item (phase 1)
 *   ds_spec_defaults.c  `defaults`, and what items inherit from it (phases 2, 5)
 *   ds_spec_series.c    series options x, y, series_by, fill (phases 3, 6)
 *   ds_spec_required.c  required fields, refresh against ttl (phase 4)
 *   ds_spec_dir.c       the key index, keeping an item (phase 7), and the
 *                       directory walk
 *
 * The rules themselves are docs/spec-reference.md; where diagnostics point is
 * described at the top of ds_spec.c.
 */
#ifndef DS_SPEC_INT_H
#define DS_SPEC_INT_H

#include "ds_compiler.h"
#include "ds_htab.h"
#include "ds_yaml.h"

/* Past this many errors in one file the rest are not reported: a hostile
 * file (a megabyte of aliases) must not turn into a million lines of output. */
#define DS_SPEC_MAX_ERRORS 100

/* Limits an item gets when neither it nor defaults sets them
 * (docs/spec-reference.md). */
#define DS_SPEC_DEFAULT_TIMEOUT 30              /* seconds */
#define DS_SPEC_DEFAULT_MAX_ROWS 1000
#define DS_SPEC_DEFAULT_MAX_BYTES 1048576
/* refresh defaults to ttl * NUM / DEN when nobody sets it. */
#define DS_SPEC_REFRESH_NUM 2
#define DS_SPEC_REFRESH_DEN 3

/* ORDER: follows ds_item_fields[] (docs/spec-reference.md, "Items"), checked in ds_spec.c. */
enum field {
    F_KEY, F_QUERY, F_SHAPE, F_TTL, F_REFRESH, F_DESCRIPTION, F_GROUP, F_TAGS, F_PARAMS,
    F_TIMEOUT, F_MAX_ROWS, F_MAX_BYTES, F_X, F_Y, F_SERIES_BY, F_FILL, F_REFRESH_KEY, F_INCREMENTAL, F_N
};

/* Item keys already in the plan -> their index (ds_spec_dir.c), so a
 * duplicate across a thousand files costs one lookup, not a scan. The plan's
 * items hold the keys; the table holds their indexes. */
typedef ds_htab keyidx;

/* The loader's state for one file. */
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

typedef struct fields {
    ynode *k[F_N], *v[F_N];  /* key and value node of each field present */
    int ok[F_N];             /* parsed without error */
} fields;

typedef struct defaults {
    ds_item it;              /* the values (marks point into defaults) */
    fields f;
    int pair_bad;            /* its own refresh >= its own ttl, already reported */
} defaults;

/* One item while it loads: its value, its fields, and what the phases learnt. */
typedef struct itemld {
    ld *L;
    ynode *m;                /* the item's mapping */
    const char *key;         /* its key when valid (for diagnostics), else NULL */
    const defaults *D;
    ds_item it;
    fields F;
    int have[F_N];           /* 0 absent or bad, 1 the item's own, 2 from defaults */
    int bad;                 /* errors found (the item is kept with bad = 1) */
    int sqlcheck;            /* the SQL can still be validated */
    int shape_known, series;
} itemld;

/* ---------------------------------------------------------------- ds_spec_node.c */

/* Reports an error at m (key may be NULL) unless the file's cap is reached;
 * always returns -1. */
int ds_spec_err(ld *L, ds_mark m, const char *key, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Reports "out of memory" once per file; returns -1. */
int ds_spec_oom(ld *L, ds_mark m);
/* User text for a message: escaped, cut at 60 characters. The result lives
 * in one of four rotating buffers of L. */
const char *ds_spec_show(ld *L, const char *s, size_t n);
const char *ds_spec_shown(ld *L, const ynode *n);
/* Reports an unknown field k, with a suggestion from cands; returns -1. */
int ds_spec_unknown_field(ld *L, const ynode *k, const char *key, const char *const *cands);
/* 1 for a node whose meaning is refused (alias, tag), reported once. */
int ds_spec_poisoned(const ynode *n);
/* These report problems of a node (properties; a mapping's duplicate keys;
 * a whole subtree) and return the number of errors. */
int ds_spec_check_props(ld *L, const ynode *n, const char *key);
int ds_spec_check_map(ld *L, ynode *m, const char *key);
int ds_spec_check_deep(ld *L, ynode *n, const char *key);
/* 0 when n is of that kind (YN_MAP, YN_SEQ); else checks its subtree,
 * reports "WHAT must be A, found ..." (unless poisoned) and returns -1. */
int ds_spec_want_kind(ld *L, ynode *n, int kind, const char *what, const char *a);
/* 1 for a usable mapping key that is not a duplicate. */
int ds_spec_live_key(const ynode *k);
/* Index of s[0..n) in the NULL-terminated names, or -1. */
int ds_spec_lookup(const char *s, size_t n, const char *const *names);
/* 1 when s matches the pattern of an item key, a group or tag, a parameter name. */
int ds_spec_pattern_key(const char *s);
int ds_spec_pattern_group(const char *s);
int ds_spec_pattern_param(const char *s);
/* Scalar readers: the value, or NULL / -1 after reporting why not. */
const char *ds_spec_want_str(ld *L, const ynode *v, const char *subject, const char *key);
const char *ds_spec_want_column(ld *L, const ynode *v, const char *subject, const char *key);
int ds_spec_want_duration(ld *L, const ynode *v, const char *field, const char *key, int64_t *out);
/* incremental: {window, range, full_every} (ds_spec_incr.c). */
int ds_spec_parse_incremental(ld *L, ynode *v, ds_item *it, const char *key);
int ds_spec_want_count(ld *L, const ynode *v, const char *field, const char *key, int64_t *out);

/* ---------------------------------------------------------------- ds_spec_fields.c */

/* Appends a copy of s to the list *v of *n strings (*cap allocated, kept by
 * the caller beside the list while it is built). 0 ok, -1 OOM. */
int ds_spec_add_str(char ***v, size_t *n, size_t *cap, const char *s);
/* Parses one present field of an item (or of defaults) into it; 0 or -1
 * after reporting. Series options too; whether they are allowed is the caller's. */
int ds_spec_parse_field(ld *L, int f, const ynode *v, ds_item *it, const char *key);
/* Sorts a mapping's live keys into F; unknown keys are reported (with a
 * suggestion from cands) and their values listed in unknown_vals. Returns
 * the number of errors. */
int ds_spec_collect(ld *L, const ynode *m, fields *F, const char *key, const char *const *cands,
                    ynode **unknown_vals, size_t *nunknown);
/* Phase 1: the item's own fields, series options aside. */
void ds_spec_item_fields(itemld *I);

/* ---------------------------------------------------------------- ds_spec_series.c */

/* Parse y (a column or a list of them) and fill (a JSON scalar). */
int ds_spec_parse_y(ld *L, const ynode *v, ds_item *it, const char *key);
int ds_spec_parse_fill(ld *L, const ynode *v, ds_item *it, const char *key);
/* Phase 3: series options, allowed only on series. */
void ds_spec_item_series(itemld *I);
/* Phase 6: x present, one y with series_by, fill defaults to null. */
void ds_spec_item_series_rules(itemld *I);

/* ---------------------------------------------------------------- ds_spec_defaults.c */

/* Checks and parses the `defaults` mapping m into D. */
void ds_spec_load_defaults(ld *L, ynode *m, defaults *D);
/* Copies one parsed default into an item that lacks the field. 0 ok, -1 OOM. */
int ds_spec_copy_field(int f, const ds_item *src, ds_item *dst);
/* Phase 2: inherit what the item does not say. */
void ds_spec_item_inherit(itemld *I);
/* Phase 5: limits nobody set get their defaults. */
void ds_spec_item_limits(itemld *I);

/* ---------------------------------------------------------------- ds_spec_required.c */

/* Phase 4: required fields; refresh < ttl, or refresh's default. */
void ds_spec_item_required(itemld *I);

/* ---------------------------------------------------------------- ds_spec_dir.c */

/* Indexes the items already in p (the first of equal keys wins). 0 ok, -1 OOM. */
int ds_spec_idx_build(keyidx *x, const ds_plan *p);
/* Phase 7: keeps the item in the plan (when its key is valid). */
void ds_spec_item_keep(itemld *I);

/* ---------------------------------------------------------------- ds_spec.c */

/* Loads one file's bytes into p (see ds_spec_load_buf), using idx for keys. */
void ds_spec_load_one(const char *file, const char *buf, size_t len, ds_plan *p, keyidx *idx, ds_diag *d);

#endif

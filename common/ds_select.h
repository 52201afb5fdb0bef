/*
 * ds_select.h — item selection shared by every command (run, check, list,
 * status, clear, stats): dbt-like selectors parsed once, matched against an
 * item's key, group, tags and source file. Engine-neutral, never prints.
 *
 *   SEL      = ATOM[,ATOM...]       every atom must match (intersection)
 *   ATOM     = GLOB                 the key (shell glob)
 *            | tag:NAME             one of the item's tags (a glob too)
 *            | group:NAME           the item's group (a glob too)
 *            | file:PATH            the spec file, relative to the specs
 *                                   directory (a glob; any trailing part of
 *                                   the path counts: file:metrics.yaml)
 * Several --select are a union (none: every item); any --exclude that
 * matches removes the item.
 */
#ifndef DS_SELECT_H
#define DS_SELECT_H

#include <stddef.h>
#include "dashspec.h"

typedef enum ds_sel_kind { DS_SEL_KEY = 0, DS_SEL_TAG, DS_SEL_GROUP, DS_SEL_FILE } ds_sel_kind;

typedef struct ds_sel_atom {
    ds_sel_kind kind;
    char *pat;              /* malloc'd glob */
} ds_sel_atom;

typedef struct ds_sel {
    char *text;             /* as given, malloc'd (for messages) */
    int exclude;            /* from --exclude */
    ds_sel_atom *atoms;
    size_t natoms;
} ds_sel;

typedef struct ds_select {
    ds_sel *v;
    size_t n;
    size_t nincl;           /* how many are --select (not --exclude) */
} ds_select;

/* What a selector looks at; any field may be NULL / 0 (an item known only by
 * its key matches key globs and nothing else). */
typedef struct ds_sel_view {
    const char *key;
    const char *group;
    char *const *tags;
    size_t ntags;
    const char *file;       /* as the loader or the plan names it */
} ds_sel_view;

void ds_select_init(ds_select *s);
void ds_select_free(ds_select *s);
/* Parses the selectors of one option value: blank-separated, so both
 * `--select a --select b` and `--select 'a b'` work. An empty NAME or an
 * unknown METHOD: ("owner:x") is an error in d (DS_USAGE) and returns -1;
 * s keeps what was added before. */
int ds_select_add(ds_select *s, const char *value, int exclude, ds_diag *d);
/* 1 when any selector was given. */
int ds_select_active(const ds_select *s);
/* 1 when the item is selected: some --select matches (or none was given) and
 * no --exclude matches. Cannot fail. */
int ds_select_match(const ds_select *s, const ds_sel_view *v);
/* The same for a plan item. */
int ds_select_item(const ds_select *s, const ds_item *it);
/* 1 when the one selector e matches v (for "matches no item" warnings). */
int ds_sel_match(const ds_sel *e, const ds_sel_view *v);
/* Keeps only the selected items of p (in order), freeing the others; returns
 * how many are left. Cannot fail. */
size_t ds_plan_select(ds_plan *p, const ds_select *s);
/* s as a glob that matches only s (`*?[\` escaped), malloc'd; NULL on OOM. */
char *ds_glob_quote(const char *s);

#endif

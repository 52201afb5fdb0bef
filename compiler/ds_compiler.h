/*
 * ds_compiler.h — internals of the compiler: spec files -> ds_plan -> dashspec_plan.
 *
 *   ds_spec.c / ds_yaml.c  YAML -> ds_item with source marks (every rule of
 *                          contract section 1 that needs no database)
 *   ds_sql.c               prepare each query against a schema: one statement,
 *                          read-only (authorizer), parameters, columns vs shape
 *   ds_plan.c              dashspec_plan: store (one transaction) and load
 *   ds_check.c             check / compile orchestration
 */
#ifndef DS_COMPILER_H
#define DS_COMPILER_H

#include "ds_common.h"

/* Limits of the loader (documented in docs/spec-reference.md). */
#define DS_SPEC_MAX_FILE_BYTES (1024 * 1024)   /* one spec file */
#define DS_SPEC_MAX_DEPTH 32                    /* YAML nesting */

/* The item fields the loader knows, in the order of the contract's table; the
 * JSON Schema in docs/ is tested against this list. NULL-terminated. */
extern const char *const ds_item_fields[];

/* Fills it->hash from query, params, shape and shape options (x, y,
 * series_by, fill): the contract's "spec hash". Cannot fail. */
void ds_item_hash(ds_item *it);

/* Prepares every item of p that is not bad against db (which may be an
 * in-memory schema). Items with errors get bad = 1. Returns 0 when no error
 * was added, -1 otherwise. */
int ds_sql_validate(ds_db *db, ds_plan *p, ds_diag *d);

/* Replaces dashspec_plan with the items of p (none may be bad) in one
 * IMMEDIATE transaction. *changed (may be NULL) is set to 1 when the stored
 * plan differed. 0 ok, -1 error (nothing written, status DS_DBERROR). */
int ds_plan_store(ds_db *db, const ds_plan *p, int *changed, ds_diag *d);
/* Reads dashspec_plan into out (ordered by key); marks are zero. 0 ok, -1 error.
 * A database without the plan table yields an empty plan, not an error. */
int ds_plan_load(ds_db *db, ds_plan *out, ds_diag *d);

/* Loads specs_dir, validates against db (open read-write), and fills out with
 * every item (bad ones flagged). When store is set and there was no error, the
 * plan is stored (*stored = 1 if it changed). Used by `compile` and `run --specs`.
 * Returns DS_OK, DS_FAILED (spec errors) or DS_DBERROR. */
ds_status ds_compile_db(ds_db *db, const char *specs_dir, int store, ds_plan *out,
                        int *stored, ds_diag *d);

#endif

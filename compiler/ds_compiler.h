/*
 * ds_compiler.h — internals of the compiler: spec files -> ds_plan -> dashspec_plan.
 *
 *   ds_spec.c / ds_yaml.c  YAML -> ds_item with source marks (every rule of
 *                          docs/spec-reference.md that needs no database)
 *   ds_sql.c               every rule about a query: the scanner, then the
 *                          engine's describe (one statement, read-only,
 *                          parameters), columns vs shape
 *   ds_sql_lint.c          check --explain: full scans of large tables
 *   ds_plan.c              the plan's row codec (store and load are engine
 *                          operations: engine/engine.h)
 *   ds_check.c             check / compile orchestration
 */
#ifndef DS_COMPILER_H
#define DS_COMPILER_H

#include "ds_common.h"

/* Limits of the loader (documented in docs/spec-reference.md). */
#define DS_SPEC_MAX_FILE_BYTES (1024 * 1024)   /* one spec file */
#define DS_SPEC_MAX_DEPTH 32                    /* YAML nesting */

/* The item fields the loader knows, in the order of docs/spec-reference.md; the
 * JSON Schema in docs/ is tested against this list. NULL-terminated. */
extern const char *const ds_item_fields[];

/* Fills it->hash from query, params, shape and shape options (x, y,
 * series_by, fill): docs/spec-reference.md, "The spec hash". Cannot fail. */
void ds_item_hash(ds_item *it);

/* Prepares every item of p that is not bad against db (which may be an
 * in-memory schema). Items with errors get bad = 1. Returns 0 when no error
 * was added, -1 otherwise. */
int ds_sql_validate(ds_db *db, ds_plan *p, ds_diag *d);
/* For an engine error msg about query (compiler/ds_sql_hint.c): when it is
 * "no such table: X" or "no such column: X", sets *off (when < 0) to where
 * X is in the query, and *near to the schema's nearest name (malloc'd; NULL
 * when none, or the engine lists no names). Returns 0; cannot fail (out of
 * memory only loses the hint). */
int ds_sql_hint(ds_db *db, const char *query, const char *msg, long *off, char **near);

/* The plan's row codec (ds_plan.c): the text columns every engine stores
 * for an item. JSON that gives back exactly the ds_param (exact int64,
 * round-trip reals, the very bytes of strings). */
typedef struct ds_plan_row {
    char *params, *tags, *options;  /* JSON */
    char *source;                   /* "file:line" */
} ds_plan_row;

/* Encodes it's params, tags, options and source. 0 ok, -1 out of memory
 * (free r with ds_plan_row_free in both cases). */
int ds_plan_row_make(const ds_item *it, ds_plan_row *r);
void ds_plan_row_free(ds_plan_row *r);
/* Decoders of a stored row, in the order an engine reads its columns; any
 * text may be NULL (stored NULL). 0 ok, -1 with *why a short static message
 * ("unknown kind", "bad params JSON", ...): the row is damaged. */
int ds_plan_decode_head(ds_item *it, const char *kind, const char *shape, const char **why);
int ds_plan_decode_params(ds_item *it, const char *params, const char **why);
int ds_plan_decode_lists(ds_item *it, const char *tags, const char *options, const char **why);
int ds_plan_decode_source(ds_item *it, const char *source, const char **why);

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

/* ---------------------------------------------------------------- SQL (ds_sql.c) */

/* One parameter in a query, as the scanner found it. */
typedef struct ds_sql_param_use {
    char *text;             /* as written: "?", "?2", ":name", "@name", "$name" */
    size_t off;             /* byte offset in the query */
    int positional;         /* "?" or "?NNN" */
} ds_sql_param_use;

/* What the SQL scanner learns about a query without any database. Named
 * parameters are matched to `params` by their name without the prefix
 * character, so :x, @x and $x all mean params entry x. */
typedef struct ds_sql_scan {
    size_t start;           /* offset of the first token; strlen(q) when there is none */
    char verb[32];          /* the statement's verb, upper case ("SELECT", "INSERT", "CREATE
                               TEMP TABLE"; after WITH the main statement's when found,
                               else "WITH"); "" when the query does not start with a word */
    size_t verb_off;
    long second;            /* offset of a second statement's first token, or -1 */
    long unterminated;      /* offset of an unterminated string/quoted name, or -1 */
    ds_sql_param_use *params; size_t nparams;   /* every use, in query order */
} ds_sql_scan;

/* Scans q (strings, "identifiers", `identifiers`, [identifiers], -- and block
 * comments are skipped). 0 ok, -1 out of memory (s is left empty). Free s
 * with ds_sql_scan_free. */
int ds_sql_scan_query(const char *q, ds_sql_scan *s);
void ds_sql_scan_free(ds_sql_scan *s);

/* The scanner's tokens (ds_sql.c), for ds_sql_lint.c. SQLite's lexical rules
 * (identifier characters, [brackets], `backticks`, X'blobs', ?NNN / @x / $x
 * parameters); a second engine's dialect brings its own scanner. */
enum ds_sql_tok_type {
    DS_TK_WORD,     /* bare identifier or keyword */
    DS_TK_QID,      /* "quoted", `quoted` or [quoted] identifier */
    DS_TK_STR,      /* 'string' or X'blob' */
    DS_TK_NUM,      /* numeric literal */
    DS_TK_PARAM,    /* ?, ?NNN, :name, @name, $name */
    DS_TK_SEMI,     /* ; */
    DS_TK_LP,       /* ( */
    DS_TK_RP,       /* ) */
    DS_TK_COMMA,    /* , */
    DS_TK_DOT,      /* . */
    DS_TK_OP,       /* any other punctuation */
    DS_TK_BAD       /* unterminated string or quoted identifier (runs to the end) */
};

typedef struct ds_sql_tok { int t; size_t off, len; } ds_sql_tok;
typedef struct ds_sql_toks { ds_sql_tok *v; size_t n, cap; } ds_sql_toks;


/* Tokens of q into ts (free ts->v). 0 ok, -1 out of memory. */
int ds_sql_tokenize(const char *q, ds_sql_toks *ts);
/* The index of the first character at or after i that is no blank and no
 * comment (compiler/ds_sql_scan.c). */
size_t ds_sql_skip_blank(const char *q, size_t i);
/* Statement verbs that write or change the connection, NULL-terminated. */
extern const char *const ds_sql_write_verbs[];
/* 1 when t is the keyword `word` (any case). */
int ds_sql_tok_is(const char *q, const ds_sql_tok *t, const char *word);
/* 1 when t is one of the NULL-terminated keywords. */
int ds_sql_in_list(const char *const *list, const char *q, const ds_sql_tok *t);
/* An identifier's name, unquoted, malloc'd; NULL on OOM. */
char *ds_sql_ident_text(const char *q, const ds_sql_tok *t);

/* --explain: rows above which a full table scan is worth a warning. */
#define DS_EXPLAIN_MIN_ROWS 10000

/* Query-plan lint: runs EXPLAIN QUERY PLAN for every good item of p and adds
 * a warning (at the query) for each full scan of a table with more than
 * min_rows rows, naming the columns an index would need when the query shows
 * them. Adds no errors; returns 0, or -1 on OOM (status DS_DBERROR). */
int ds_sql_explain_lint(ds_db *db, const ds_plan *p, int64_t min_rows, ds_diag *d);

/* ---------------------------------------------------------------- check / compile (ds_check.c) */

/* ds_compile that also tells whether the stored plan changed (*changed may be
 * NULL). Same contract as ds_compile otherwise. */
ds_status ds_compile_file(const char *db_path, const char *specs_dir, size_t *nitems, int *changed, ds_diag *d);

#endif

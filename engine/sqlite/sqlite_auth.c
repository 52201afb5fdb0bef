/*
 * sqlite_auth.c — the SQLite engine's read-only rules: the authorizer every
 * spec query is prepared under, by check and compile (sqlite_describe.c),
 * run (sqlite_exec.c) and explain (sqlite_read.c) alike, so they agree on
 * what may run. See docs/security.md.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "sqlite_int.h"

static void why(void *ctx, const char *fmt, const char *a)
{
    ds_sqlite_auth *au = ctx;
    if (!au || au->why[0]) return;       /* the first refusal is the one to report */
    snprintf(au->why, sizeof au->why, fmt, a ? a : "?");
}

int ds_sqlite_authorizer(void *ctx, int code, const char *a, const char *b, const char *c, const char *d)
{
    (void)d;
    switch (code) {
    case SQLITE_SELECT:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
    case SQLITE_READ:
        /* pragma_* table-valued functions are PRAGMA by another name. */
        if (a && strncasecmp(a, "pragma_", 7) == 0) {
            why(ctx, "PRAGMA (%s) is not allowed", a);
            return SQLITE_DENY;
        }
        return SQLITE_OK;
    case SQLITE_FUNCTION:
        /* rtreecheck() runs SQL of its own (BEGIN, reads of shadow tables)
         * while the query steps: refused here, so check says so at the
         * query instead of every run failing. */
        if (b && (strcasecmp(b, "load_extension") == 0 || strcasecmp(b, "fts3_tokenizer") == 0 ||
                  strcasecmp(b, "rtreecheck") == 0)) {
            why(ctx, "function %s() is not allowed", b);
            return SQLITE_DENY;
        }
        return SQLITE_OK;
    case SQLITE_UPDATE:
        /* Connecting an eponymous virtual table (json_each, json_tree) reports
         * an update of sqlite_master's columns in main; nothing is written. A
         * real UPDATE statement is refused by its verb and by readonly. */
        if (a && c && strcmp(a, "sqlite_master") == 0 && strcmp(c, "main") == 0 && !d)
            return SQLITE_OK;
        why(ctx, "statement is not read-only: UPDATE of %s is not allowed", a);
        return SQLITE_DENY;
    case SQLITE_INSERT:
        if (a && strcmp(a, "sqlite_temp_master") == 0) why(ctx, "statement is not read-only: %s is not allowed", "CREATE TEMP");
        else if (a && strcmp(a, "sqlite_master") == 0) why(ctx, "statement is not read-only: %s is not allowed", "CREATE");
        else why(ctx, "statement is not read-only: INSERT into %s is not allowed", a);
        return SQLITE_DENY;
    case SQLITE_DELETE:
        why(ctx, "statement is not read-only: DELETE from %s is not allowed", a);
        return SQLITE_DENY;
    case SQLITE_PRAGMA: why(ctx, "statement is not read-only: PRAGMA %s is not allowed", a); return SQLITE_DENY;
    case SQLITE_ATTACH: why(ctx, "statement is not read-only: %s is not allowed", "ATTACH"); return SQLITE_DENY;
    case SQLITE_DETACH: why(ctx, "statement is not read-only: %s is not allowed", "DETACH"); return SQLITE_DENY;
    case SQLITE_TRANSACTION: why(ctx, "statement is not read-only: %s is not allowed", a); return SQLITE_DENY;
    case SQLITE_SAVEPOINT: why(ctx, "statement is not read-only: %s is not allowed", "SAVEPOINT"); return SQLITE_DENY;
    case SQLITE_ANALYZE: why(ctx, "statement is not read-only: %s is not allowed", "ANALYZE"); return SQLITE_DENY;
    case SQLITE_REINDEX: why(ctx, "statement is not read-only: %s is not allowed", "REINDEX"); return SQLITE_DENY;
    case SQLITE_ALTER_TABLE: why(ctx, "statement is not read-only: %s is not allowed", "ALTER TABLE"); return SQLITE_DENY;
    case SQLITE_CREATE_TEMP_INDEX: case SQLITE_CREATE_TEMP_TABLE: case SQLITE_CREATE_TEMP_TRIGGER:
    case SQLITE_CREATE_TEMP_VIEW:
        why(ctx, "statement is not read-only: %s is not allowed", "CREATE TEMP");
        return SQLITE_DENY;
    default:
        /* CREATE, DROP, virtual-table DDL, and codes newer than this list. */
        why(ctx, "statement is not read-only: this statement (authorizer action %s) is not allowed",
            code == SQLITE_CREATE_TABLE || code == SQLITE_CREATE_INDEX || code == SQLITE_CREATE_VIEW ||
            code == SQLITE_CREATE_TRIGGER || code == SQLITE_CREATE_VTABLE ? "CREATE" : "DDL");
        return SQLITE_DENY;
    }
}

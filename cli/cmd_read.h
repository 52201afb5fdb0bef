/*
 * cmd_read.h — what the reader commands of cli/ share (cmd_read.c: get,
 * status, clear, preview, migrate; cmd_explain.c): the one option/db/now
 * setup, output and sanitized messages.
 */
#ifndef DS_CMD_READ_H
#define DS_CMD_READ_H

#include <stdio.h>
#include "cli.h"
#include "ds_common.h"
#include "ds_select.h"

/* What a reader command takes besides its own work. */
enum {
    RA_NOW = 1,         /* --now TS */
    RA_JSON = 2,        /* --json */
    RA_STALE = 4,       /* --stale */
    RA_ONE_KEY = 8,     /* exactly one KEY */
    RA_KEYS = 16,       /* any number of KEYs */
    RA_FORMAT = 32,     /* --format NAME */
    RA_SEL = 64,        /* --select/--exclude/--only/--group into sel */
    RA_SOURCE = 128     /* --source URI, else the project file's source */
};

typedef struct read_args {
    const char *db;     /* --db or DASHSPEC_DB */
    int64_t now;        /* --now or the clock (RA_NOW) */
    int json, stale;
    const char *format; /* --format (RA_FORMAT), NULL when not given */
    const char *source; /* RA_SOURCE: where the query runs, NULL: on db */
    const char **pos;   /* the KEYs (malloc'd array; free it) */
    size_t npos;
    cli_sel cs;         /* RA_SEL: the options as given */
    ds_select sel;      /* RA_SEL: built from cs (and not the KEYs) */
} read_args;

/* The one option/db/now setup of the reader commands: parses argv with --db
 * and the options flags asks for, checks the KEYs, the database and --now.
 * 0, or DS_USAGE (reported). Free a with cli_read_free whatever it returns. */
int cli_read_setup(const char *cmd, int argc, char **argv, unsigned flags, read_args *a);
/* Frees what cli_read_setup allocated. */
void cli_read_free(read_args *a);
/* Writes b to stdout; on OOM reports and returns DS_FAILED, else DS_OK. */
int cli_read_emit(ds_buf *b);
/* printf to f through the terminal sanitizer (cli_print): for messages
 * quoting keys, paths and database text. */
void cli_say(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

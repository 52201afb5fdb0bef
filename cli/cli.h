/*
 * cli.h — the command-line layer: argument parsing and printing only. Each
 * command lives in cli/cmd_<name>.c and is listed in the table in cli/main.c.
 */
#ifndef DS_CLI_H
#define DS_CLI_H

#include <stddef.h>
#include "dashspec.h"

/* One option of a command. Exactly one of the targets is set:
 *   str   — takes a value ("--db FILE" or "--db=FILE"); the last one wins;
 *   flag  — no value; set to 1;
 *   list  — takes a value; repeatable; appended to *list (*nlist entries).
 * The list array is malloc'd by the parser; free it with free(). */
typedef struct cli_opt {
    const char *name;        /* "--db" */
    const char **str;
    int *flag;
    const char ***list;
    size_t *nlist;
} cli_opt;

/* Parses argv[1..] (argv[0] is the command name). Positional arguments are
 * collected into *pos (malloc'd, caller frees) unless pos is NULL, in which
 * case any positional is a usage error. Returns 0, or -1 after printing a usage
 * error for `cmd` on stderr. "--" ends the options. */
int cli_parse(const char *cmd, int argc, char **argv, const cli_opt *opts,
              const char ***pos, size_t *npos);

/* Prints "dashspec CMD: MESSAGE" and "see 'dashspec CMD --help'" on stderr
 * (never the whole usage: cron mails it); returns DS_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with a hint line (no newline in it) between the two; DS_USAGE. */
int cli_usage_hint(const char *cmd, const char *hint, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Finds and loads dashspec.yaml (walking up from the working directory) for
 * the helpers below. 0 (found or not), or DS_USAGE after printing its errors. */
int cli_project_init(void);
/* The loaded project file, or NULL when there is none. */
const struct ds_project *cli_project(void);
/* The --db value, else $DASHSPEC_DB, else the project file's database; NULL
 * when none of them. */
const char *cli_db(const char *opt);
/* The --specs value, else the project file's specs; NULL (the command's
 * default) when neither. */
const char *cli_specs(const char *opt);
/* Parses --now (NULL: the real clock). Returns 0, or -1 after a usage error. */
int cli_now(const char *cmd, const char *opt, int64_t *now);
/* Prints every diagnostic of d on stderr (text format) and returns the status
 * a command should exit with when it failed: d->status, else `otherwise`. */
int cli_report(const ds_diag *d, int otherwise);

/* The selection options every selecting command takes (common/ds_select.h):
 * --select SEL and its alias --only share one list, --group G is
 * `--select group:G`, --exclude SEL removes. Zero-initialize; free with
 * cli_sel_free. */
typedef struct cli_sel {
    const char **sel; size_t nsel;
    const char **grp; size_t ngrp;
    const char **excl; size_t nexcl;
} cli_sel;
/* The four cli_opt entries of a cli_sel, for an options array. */
#define CLI_SEL_OPTS(cs) \
    {"--select", NULL, NULL, &(cs).sel, &(cs).nsel}, \
    {"--only", NULL, NULL, &(cs).sel, &(cs).nsel}, \
    {"--group", NULL, NULL, &(cs).grp, &(cs).ngrp}, \
    {"--exclude", NULL, NULL, &(cs).excl, &(cs).nexcl}
/* Builds *out (ds_select_init'ed here) from what cli_parse collected, plus
 * `extra` selectors (positional globs; NULL for none). Returns 0, or DS_USAGE
 * after printing a usage error for cmd. */
struct ds_select;
int cli_sel_build(const char *cmd, const cli_sel *cs, const char *const *extra, size_t nextra,
                  struct ds_select *out);
void cli_sel_free(cli_sel *cs);

/* One line of `dashspec --help` and the text of `dashspec help CMD`. */
typedef struct cli_command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;     /* one line */
    const char *usage;       /* full help text, ends with a newline */
} cli_command;

const cli_command *cli_find(const char *name);

/* The commands (cli/cmd_*.c). */
int cmd_check(int argc, char **argv);
int cmd_compile(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_clear(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_preview(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_completion(int argc, char **argv);
/* The i-th entry of the command table, or NULL past the end. */
const cli_command *cli_command_at(size_t i);
int cmd_stats(int argc, char **argv);     /* cmd_stats.c */
int cmd_report(int argc, char **argv);    /* cmd_report.c */

#endif

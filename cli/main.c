/*
 * main.c — dashspec's entry point: the command table, --help, --version and
 * `help CMD`. Only this file exits; commands return their status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "ds_common.h"
#include "render.h"

extern const char usage_check[], usage_compile[], usage_list[], usage_run[], usage_get[],
    usage_status[], usage_clear[], usage_explain[], usage_preview[], usage_migrate[], usage_init[],
    usage_completion[], usage_stats[], usage_report[];

/* The command table: name, function, one-line summary, full usage text. */
static const cli_command commands[] = {
    {"check",   cmd_check,   "validate specs (YAML, fields, SQL, shapes)", usage_check},
    {"compile", cmd_compile, "check, then write the plan into the database", usage_compile},
    {"list",    cmd_list,    "list the items of the specs", usage_list},
    {"run",     cmd_run,     "compute the items that are due into dashboard_cache", usage_run},
    {"get",     cmd_get,     "print one cached value", usage_get},
    {"status",  cmd_status,  "what is fresh, expired, missing and failing", usage_status},
    {"clear",   cmd_clear,   "delete cache rows", usage_clear},
    {"explain", cmd_explain, "one item's compiled SQL, parameters and query plan", usage_explain},
    {"preview", cmd_preview, "compute one item now and print it; writes nothing", usage_preview},
    {"migrate", cmd_migrate, "create dashspec's tables", usage_migrate},
    {"stats",   cmd_stats,   "history: computes, failures, durations, freshness", usage_stats},
    {"report",  cmd_report,  "write one self-contained HTML page of the dashboard", usage_report},
    {"init",    cmd_init,    "start a project: dashspec.yaml, an example spec, a crontab line", usage_init},
    {"completion", cmd_completion, "print the bash or zsh completion script", usage_completion},
    {NULL, NULL, NULL, NULL}
};

const cli_command *cli_find(const char *name)
{
    for (const cli_command *c = commands; c->name; c++)
        if (strcmp(c->name, name) == 0) return c;
    return NULL;
}

/* "dashspec: WHAT 'NAME'" on stderr, the name (an argument) cleaned. */
static void say_unknown(const char *what, const char *name)
{
    char *line = ds_asprintf("dashspec: %s '%s'\n", what, name);
    if (!line || cli_print(stderr, line)) fputs("dashspec: out of memory\n", stderr);
    free(line);
}

const cli_command *cli_command_at(size_t i)
{
    return i < sizeof commands / sizeof *commands - 1 ? &commands[i] : NULL;
}

static void help(FILE *f)
{
    fprintf(f,
        "usage: dashspec COMMAND [OPTIONS]\n"
        "\n"
        "Pre-computes dashboard queries declared in YAML specs into dashboard_cache.\n"
        "\n"
        "commands:\n");
    for (const cli_command *c = commands; c->name; c++)
        fprintf(f, "  %-10s  %s\n", c->name, c->summary);
    fprintf(f,
        "\n"
        "common options: --db FILE (else $DASHSPEC_DB, else dashspec.yaml), --specs DIR,\n"
        "                --now 'YYYY-MM-DD HH:MM:SS' (UTC; also 2026-12-02T08:26:00Z, +01:00)\n"
        "project file:   dashspec.yaml in this or a parent directory (dashspec init)\n"
        "exit codes: 0 ok, 1 errors or failed items, 2 usage, 3 no fresh value,\n"
        "            4 another run holds the database, 5 database cannot be opened or written\n"
        "\n"
        "`dashspec help COMMAND` describes one command; `man dashspec` all of them.\n");
}

/* An unknown command: three lines at most, with the nearest command name. */
static int unknown_command(const char *name)
{
    const char *names[sizeof commands / sizeof *commands + 1];
    size_t n = 0;
    for (const cli_command *c = commands; c->name; c++) names[n++] = c->name;
    names[n] = NULL;
    say_unknown("unknown command", name);
    const char *near = ds_suggest(name, strlen(name), names);
    if (near) fprintf(stderr, "did you mean '%s'?\n", near);
    fprintf(stderr, "see 'dashspec --help'\n");
    return DS_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "dashspec: no command given\n"
                        "usage: dashspec COMMAND [OPTIONS]\n"
                        "see 'dashspec --help'\n");
        return DS_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) { help(stdout); return DS_OK; }
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("dashspec %s\n", DS_VERSION);
        return DS_OK;
    }
    if (strcmp(name, "help") == 0) {
        if (argc < 3) { help(stdout); return DS_OK; }
        const cli_command *c = cli_find(argv[2]);
        if (!c) return unknown_command(argv[2]);
        fputs(c->usage, stdout);
        return DS_OK;
    }
    const cli_command *c = cli_find(name);
    if (!c) return unknown_command(name);
    /* `init` writes the project file; every other command reads it. */
    int help_asked = 0;
    for (int i = 2; i < argc && strcmp(argv[i], "--") != 0; i++)
        help_asked |= strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0;
    if (!help_asked && c->fn != cmd_init && c->fn != cmd_completion && cli_project_init()) return DS_USAGE;
    /* `dashspec CMD --help` prints the command's usage. */
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) { fputs(c->usage, stdout); return DS_OK; }
    }
    int rc = c->fn(argc - 1, argv + 1);
    if (fflush(stdout) != 0 && rc == DS_OK) {
        perror("dashspec: stdout");
        return DS_FAILED;
    }
    return rc;
}

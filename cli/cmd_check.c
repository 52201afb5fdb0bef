/* cmd_check.c — placeholder until its owner lands it. */
#include <stdio.h>
#include "cli.h"
const char usage_check[] = "usage: dashspec check\n";
int cmd_check(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "dashspec check: not built yet\n"); return DS_USAGE; }
const char usage_compile[] = "usage: dashspec compile\n";
int cmd_compile(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "dashspec compile: not built yet\n"); return DS_USAGE; }
const char usage_list[] = "usage: dashspec list\n";
int cmd_list(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "dashspec list: not built yet\n"); return DS_USAGE; }

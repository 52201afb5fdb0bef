/* cmd_run.c — placeholder until its owner lands it. */
#include <stdio.h>
#include "cli.h"
const char usage_run[] = "usage: dashspec run\n";
int cmd_run(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "dashspec run: not built yet\n"); return DS_USAGE; }

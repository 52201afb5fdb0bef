/* cmd_read.c — placeholder until its owner lands it. */
#include <stdio.h>
#include "cli.h"
const char usage_get[] = "usage: dashspec get\n";
int cmd_get(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "dashspec get: not built yet\n"); return DS_USAGE; }
const char usage_status[] = "usage: dashspec status\n";
int cmd_status(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "dashspec status: not built yet\n"); return DS_USAGE; }
const char usage_clear[] = "usage: dashspec clear\n";
int cmd_clear(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "dashspec clear: not built yet\n"); return DS_USAGE; }
const char usage_explain[] = "usage: dashspec explain\n";
int cmd_explain(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "dashspec explain: not built yet\n"); return DS_USAGE; }
const char usage_preview[] = "usage: dashspec preview\n";
int cmd_preview(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "dashspec preview: not built yet\n"); return DS_USAGE; }
const char usage_migrate[] = "usage: dashspec migrate\n";
int cmd_migrate(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "dashspec migrate: not built yet\n"); return DS_USAGE; }

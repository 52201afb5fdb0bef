#include "cli.h"
const char usage_report[] = "x\n";
int cmd_report(int argc, char **argv) { return 0; }

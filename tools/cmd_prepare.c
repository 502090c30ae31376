/* cmd_prepare.c — `muon prepare` (stub: being implemented). */
#include <stdio.h>

#include "cli.h"

int cmd_prepare(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "muon prepare: not implemented yet\n");
    return 1;
}

/* cmd_info.c — `muon info` (stub: being implemented). */
#include <stdio.h>

#include "cli.h"

int cmd_info(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "muon info: not implemented yet\n");
    return 1;
}

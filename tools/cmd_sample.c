/* cmd_sample.c — `muon sample` (stub: being implemented). */
#include <stdio.h>

#include "cli.h"

int cmd_sample(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "muon sample: not implemented yet\n");
    return 1;
}

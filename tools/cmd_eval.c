/* cmd_eval.c — `muon eval` (stub: being implemented). */
#include <stdio.h>

#include "cli.h"

int cmd_eval(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "muon eval: not implemented yet\n");
    return 1;
}

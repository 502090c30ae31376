/* cmd_train.c — `muon train` (stub: being implemented). */
#include <stdio.h>

#include "cli.h"

int cmd_train(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "muon train: not implemented yet\n");
    return 1;
}

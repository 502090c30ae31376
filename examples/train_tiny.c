/* train_tiny.c — smallest use of libmuon (placeholder until the API is complete). */
#include <stdio.h>

#include "muon/base.h"

int main(void) {
    printf("libmuon %s\n", MU_VERSION_STRING);
    return 0;
}

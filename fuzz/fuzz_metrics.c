/* fuzz_metrics.c — libFuzzer target for the metrics.jsonl readers of the report layer
 * (src/report/metrics.c), which `muon report` runs on whatever a run left on disk: a crashed
 * run's truncated last line, a hand-edited file, a foreign JSON file. Each input is written to
 * a temp file and read as series (top-level keys and a '/'-path into nested diagnostics) and
 * as key listings. Nothing may crash, leak or read out of bounds; errors are fine. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "muon/report.h"

static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!path[0]) snprintf(path, sizeof path, "/tmp/muon-fuzz-metrics.%ld", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    if (size) fwrite(data, 1, size, f);
    fclose(f);

    static const char *const pairs[][2] = {
        {"step", "loss"}, {"step", "val_loss"}, {"tokens", "diag/mats/h.0.attn/r_w"}, {"step", "diag/a/b/c/d"}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        double *x = NULL, *y = NULL;
        int64_t n = 0;
        if (mu_metrics_series(path, pairs[i][0], pairs[i][1], &x, &y, &n) == 0) free(x), free(y);
    }
    static const char *const keys[] = {"diag/mats", "diag", "loss", "a/b"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char **names = NULL;
        int32_t n = 0;
        if (mu_metrics_keys(path, keys[i], &names, &n) == 0) mu_metrics_keys_free(names, n);
    }
    return 0;
}

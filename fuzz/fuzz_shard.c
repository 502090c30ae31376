/* fuzz_shard.c — libFuzzer target for the llm.c shard reader and the dataset sniffing.
 * Each input is checked as an in-memory header, then written to a temp file and opened
 * as a shard (mmap path) and as a dataset (shard or text fallback); every token is read,
 * and a few windows are sampled. Nothing may crash, leak or read out of bounds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/data_internal.h"
#include "muon/data.h"

static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int32_t tb;
    int64_t n;
    /* in-memory header check: hdr must hold min(size, 1024) bytes */
    (void)mu_shard_check_header(data, size, "fuzz", &tb, &n);

    if (!path[0]) snprintf(path, sizeof path, "/tmp/muon-fuzz-shard.%ld", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    if (size) fwrite(data, 1, size, f);
    fclose(f);

    mu_shard_t *s = NULL;
    if (mu_shard_open(&s, path) == 0) {
        int64_t nt = mu_shard_n_tokens(s);
        int32_t buf[256];
        for (int64_t pos = 0; pos < nt; pos += 256) {
            int64_t m = nt - pos < 256 ? nt - pos : 256;
            if (mu_shard_read(s, pos, m, buf) != 0) break;
        }
        (void)mu_shard_max_token(s);
        (void)mu_shard_read(s, nt, 1, buf); /* out of range: must fail cleanly */
        mu_shard_free(s);
    }

    mu_dataset_t *d = NULL;
    if (mu_dataset_open(&d, path) == 0) {
        int32_t x[2 * 8], y[2 * 8];
        for (uint64_t step = 0; step < 4; step++) (void)mu_dataset_sample(d, 1, step, 0, 2, 8, x, y);
        int64_t w = mu_dataset_val_windows(d, 8);
        for (int64_t i = 0; i < w && i < 4; i++) (void)mu_dataset_val_window(d, 8, i, x, y);
        (void)mu_dataset_val_window(d, 8, w, x, y);
        mu_dataset_free(d);
    }
    return 0;
}

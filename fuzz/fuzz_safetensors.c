/* fuzz_safetensors.c — libFuzzer target for the safetensors parser: any byte
 * string must either parse into a handle whose every tensor reads back, or
 * fail with a negative code; never crash, leak or read out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "train/safetensors_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mu_safetensors_t *s = NULL;
    if (mu_st_parse(&s, data, size, "fuzz") < 0) return 0;
    /* a valid handle: every accessor must behave on every tensor */
    for (int32_t i = 0; i < mu_safetensors_count(s); i++) {
        const char *name = mu_safetensors_name(s, i);
        int32_t ndim;
        int64_t shape[4];
        const char *dtype;
        if (!name || mu_safetensors_info(s, name, &ndim, shape, &dtype) != 0) abort();
        int64_t n = s->t[i].numel;  /* bounded by the input size once validated */
        float *buf = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
        if (!buf) continue;
        int rc = mu_safetensors_read_f32(s, name, buf, n);
        if (rc != 0 && s->t[i].readable) abort();
        free(buf);
        if (s->t[i].readable && mu_st_read_range(s, i, n, 0, NULL) != 0) abort(); /* empty read at the end */
    }
    mu_safetensors_meta(s, "config");
    mu_safetensors_free(s);
    return 0;
}

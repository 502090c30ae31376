/* tokenizer_byte.c — the byte tokenizer: vocab 256, token id = byte value.
 * Lossless for any input (UTF-8 or not); decode(id) writes exactly one byte. */
#include "muon/data.h"

static int64_t byte_encode(const mu_tokenizer_t *t, const char *text, size_t len, int32_t *ids, int64_t cap) {
    (void)t;
    if (!text && len) return mu_set_error(MU_EINVAL, "byte tokenizer: NULL text");
    if (cap < 0 || (!ids && cap > 0)) return mu_set_error(MU_EINVAL, "byte tokenizer: bad output buffer");
    if ((uint64_t)len > (uint64_t)cap)
        return mu_set_error(MU_EINVAL, "byte tokenizer: %zu bytes need %zu ids but the buffer holds %lld", len, len,
                            (long long)cap);
    const unsigned char *p = (const unsigned char *)text;
    for (size_t i = 0; i < len; i++) ids[i] = (int32_t)p[i];
    return (int64_t)len;
}

static int32_t byte_decode(const mu_tokenizer_t *t, int32_t id, char *out, int32_t cap) {
    (void)t;
    if (id < 0 || id > 255) return mu_set_error(MU_EINVAL, "byte tokenizer: id %d outside [0, 256)", (int)id);
    if (!out || cap < 1) return mu_set_error(MU_EINVAL, "byte tokenizer: output buffer too small");
    out[0] = (char)(unsigned char)id;
    return 1;
}

static void byte_free(mu_tokenizer_t *t) { (void)t; /* static instance */ }

static const mu_tokenizer_t byte_tokenizer = {
    .name = "byte",
    .vocab = 256,
    .encode = byte_encode,
    .decode = byte_decode,
    .free = byte_free,
    .impl = NULL,
};

const mu_tokenizer_t *mu_tokenizer_byte(void) { return &byte_tokenizer; }

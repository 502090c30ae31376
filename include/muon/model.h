/* muon/model.h — a GPT-2 model with hand-written fp32 forward and backward.
 *
 * Intended usage:
 *   1. mu_gpt_config_t c = mu_gpt_config_default(); set n_layer, n_head, ...
 *   2. mu_gpt_init(&m, &c, max_batch, gemm): lays out three arenas once
 *      (parameters, gradients, activations for max_batch x seq_len); no
 *      allocation happens after this call.
 *   3. mu_gpt_init_weights(m, seed): GPT-2 init (normal 0.02, residual
 *      projections 0.02/sqrt(2L), zero biases, unit gains), or the μP init of
 *      cfg.mup_init when cfg.param == MU_PARAM_MUP.
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
    /* parametrization (docs/model.md "μP"; spec mup-and-muonpp.md §1-§2). With param = SP
     * the fields below are ignored: GPT-2's recipe, bit-identical to a config without them. */
    int32_t param;       /* MU_PARAM_SP (0) or MU_PARAM_MUP (1) */
    int32_t base_width;  /* μP base width d_base; width_mult m = d_model / d_base (0: 128) */
    int32_t mup_init;    /* mu_mup_init_t: hidden-matrix init under μP (default gauss) */
    float alpha_in;      /* μP multiplier on wte[x] + wpe[t] (0: 1) */
    float alpha_out;     /* μP: logits = (alpha_out / m) ln_f(x) W_head^T (0: 1) */
    float alpha_attn;    /* μP: scores scaled by alpha_attn / d_head (0: sqrt(d_head), see mu_gpt_attn_scale) */
    int32_t zero_query;  /* μP: 1 zero-initialises the query rows of c_attn */
    int32_t zero_readout;/* μP: 1 zero-initialises lm_head (needs tie = 0) */
} mu_gpt_config_t;

enum { MU_PARAM_SP = 0, MU_PARAM_MUP = 1 };
/* μP hidden-matrix init, s = sqrt(d_out/d_in) per logical matrix (qkv as three (C,C)):
 * gauss: N(0, (min(1,s)/sqrt(d_in))^2); orthogonal: s * orthogonal (all singular values s);
 * table: 0.02/sqrt(m), c_proj also /sqrt(2L) (microsoft/mup's sigma/sqrt(m) rule). */
typedef enum { MU_MUP_INIT_GAUSS = 0, MU_MUP_INIT_ORTHOGONAL = 1, MU_MUP_INIT_TABLE = 2 } mu_mup_init_t;
/* "sp" | "mup" and "gauss" | "orthogonal" | "table" (MU_EINVAL naming the valid values). */
MU_API int mu_gpt_param_parse(const char *s, int32_t *out);
MU_API int mu_gpt_mup_init_parse(const char *s, int32_t *out);
MU_API const char *mu_gpt_param_name(int32_t param);
MU_API const char *mu_gpt_mup_init_name(int32_t init);
/* width_mult m = d_model / base_width (1 under SP). */
MU_API float mu_gpt_width_mult(const mu_gpt_config_t *c);
/* Attention score multiplier: SP 1/sqrt(d_head); μP alpha_attn/d_head, alpha_attn defaulting
 * to sqrt(d_head_base) with d_head_base = d_head (the base model has the same head size: the
 * transfer protocol grows n_head), so μP equals SP unless alpha_attn is set. */
MU_API float mu_gpt_attn_scale(const mu_gpt_config_t *c);
/* μP logits multiplier alpha_out / m (1 under SP). */
MU_API float mu_gpt_out_mult(const mu_gpt_config_t *c);

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

/* ---- module activation statistics (coordinate checks: spec mup-and-muonpp.md §5) ----
 * Read from the activations the last mu_gpt_forward kept (its B, T; no recomputation except
 * the attention scores, which the forward does not keep). Valid after a forward and before
 * its backward (the backward turns the logits into their gradient). Modules, in forward order:
 *   "emb"             x0 = alpha_in (wte[x] + wpe[t]) after dropout            (B,T,C)
 *   "h{l}.attn_logits" scaled pre-softmax scores a_attn q.k, causal j <= t only (B,H,T(T+1)/2)
 *   "h{l}.attn"       drop(attn.c_proj(y) + b) as added to the residual stream (B,T,C)
 *   "h{l}.mlp"        drop(mlp.c_proj(gelu) + b) as added to the residual      (B,T,C)
 *   "h{l}.resid"      the residual stream after block l                        (B,T,C)
 *   "ln_f"            final LayerNorm output                                   (B,T,C)
 *   "logits"          logits after the alpha_out/m multiplier                  (B,T,V)
 * attn and mlp are read as the residual's increment (res_after - res_before), exact up to one
 * fp32 rounding of the add. */
#define MU_GPT_STAT_NAME_MAX 32
typedef struct {
    char name[MU_GPT_STAT_NAME_MAX];
    int32_t layer;   /* block index, -1 for emb, ln_f, logits */
    int64_t count;   /* elements summarized */
    double l1;       /* mean |x| */
    double rms;      /* sqrt(mean x^2) */
    double max;      /* largest value (attn_logits: the layer's max attention logit) */
    double max_abs;  /* largest |x| */
} mu_gpt_module_stat_t;
/* Number of modules: 3 + 4 n_layer. */
MU_API int32_t mu_gpt_n_module_stats(const mu_gpt_t *m);
/* Fill out[0 .. *n) (cap >= mu_gpt_n_module_stats, else MU_EINVAL); MU_EINVAL when no forward
 * ran or its backward already did. */
MU_API int mu_gpt_module_stats(const mu_gpt_t *m, mu_gpt_module_stat_t *out, int32_t cap, int32_t *n);
/* on = 1: later forwards also record the attention-logit statistics per score row (one pass
 * over the scores before the softmax overwrites them; 32 bytes per row, allocated here), so
 * mu_gpt_module_stats reads them instead of recomputing every q·k. Off (default): it recomputes.
 * Either way the same statistics, up to the order of the dot products' sums. */
MU_API int mu_gpt_record_module_stats(mu_gpt_t *m, int32_t on);

#ifdef __cplusplus
}
#endif
#endif

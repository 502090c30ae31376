/* ops.h — the GPT kernels (internal to src/model): forward and backward of each op.
 *
 * Shapes use N = B*T rows. Every matrix product goes through mu_gemm (the compute
 * layer); the elementwise kernels are plain loops vectorized by the compiler and
 * threaded with OpenMP over rows (or over column chunks for reductions over rows),
 * each output summed in a fixed order, so results are bitwise reproducible for any
 * thread count. Backward kernels ADD into parameter gradients; activation gradients
 * are written unless a kernel says it accumulates.
 */
#ifndef MU_MODEL_OPS_H
#define MU_MODEL_OPS_H

#include <stdint.h>

#include "muon/gemm.h"

/* Inverted dropout on rows of width C: keep with prob 1-p, scale kept values by 1/(1-p).
 * The mask of row r at site s is drawn from mu_rng_at(seed, step, micro, s<<32 | r), so
 * forward and backward regenerate the same mask without storing it. p == 0: identity. */
typedef struct {
    float p;
    uint64_t seed, step, micro;
    uint32_t site;
} mu_dropout_t;

/* exp(x) with ~1 ulp error, vectorizable (Cephes polynomial, range-reduced by ln 2). */
float mu_op_expf(float x);

/* out (N,C) = wte[x[b,t]] + wpe[t], then dropout; x (B,T), wte (V,C), wpe (>=T,C). */
void mu_op_encoder_fwd(float *out, const int32_t *x, const float *wte, const float *wpe, int64_t B, int64_t T,
                       int64_t C, const mu_dropout_t *dr);
/* dwte[x[b,t]] += dout[b,t]; dwpe[t] += sum_b dout[b,t]. dout (N,C) is the post-dropout gradient
 * with the mask already applied (see mu_op_dropout). */
void mu_op_encoder_bwd(float *dwte, float *dwpe, const float *dout, const int32_t *x, int64_t B, int64_t T,
                       int64_t C);

/* In place: x (N,C) = dropout(x). Forward and backward are the same map. */
void mu_op_dropout(float *x, int64_t N, int64_t C, const mu_dropout_t *dr);
/* out (N,C) = dropout(x) without touching x. */
void mu_op_dropout_copy(float *out, const float *x, int64_t N, int64_t C, const mu_dropout_t *dr);

/* LayerNorm over the last dim (eps 1e-5): out = (x - mean) * rstd * w + b.
 * x (N,C), w (C), b (C) or NULL, out (N,C), mean (N), rstd (N). */
void mu_op_layernorm_fwd(float *out, float *mean, float *rstd, const float *x, const float *w, const float *b,
                         int64_t N, int64_t C);
/* dx (N,C) += dL/dx; dw (C) += sum_rows dout*xhat; db (C) += sum_rows dout (db may be NULL). */
void mu_op_layernorm_bwd(float *dx, float *dw, float *db, const float *dout, const float *x, const float *w,
                         const float *mean, const float *rstd, int64_t N, int64_t C);

/* out (N,OC) = inp (N,C) w^T, w (OC,C) in PyTorch layout; no bias (fused in the next op). */
int mu_op_linear_fwd(mu_gemm_ctx_t *g, float *out, const float *inp, const float *w, int64_t N, int64_t C,
                     int64_t OC);
/* dinp (N,C) = dout w (written, or added if dinp_beta == 1); dw (OC,C) += dout^T inp;
 * db (OC) += sum_rows dout (db may be NULL). dinp may be NULL (not needed). */
int mu_op_linear_bwd(mu_gemm_ctx_t *g, float *dinp, float *dw, float *db, const float *dout, const float *inp,
                     const float *w, int64_t N, int64_t C, int64_t OC, float dinp_beta);
/* out (N,C) += b (C). */
void mu_op_bias_add(float *out, const float *b, int64_t N, int64_t C);
/* db (C) += sum over rows of d (N,C). */
void mu_op_colsum_add(float *db, const float *d, int64_t N, int64_t C);

/* h (N,C) += b (b may be NULL), then g = gelu(h) with the tanh approximation:
 * gelu(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
void mu_op_gelu_fwd(float *g, float *h, const float *b, int64_t N, int64_t C);
/* dh (N*C) = dg * gelu'(h); dh may alias dg. */
void mu_op_gelu_bwd(float *dh, const float *dg, const float *h, int64_t n);

/* res_out (N,C) = res_in + dropout(x + b); b may be NULL; res_out may alias res_in. */
void mu_op_residual_fwd(float *res_out, const float *res_in, const float *x, const float *b, int64_t N, int64_t C,
                        const mu_dropout_t *dr);

/* Causal multi-head self-attention on a fused qkv (B,T,3C) (q | k | v, head h at columns
 * h*hs..h*hs+hs-1 of each): att (B,H,T,T) = softmax(q k^T / sqrt(hs)) with j > t masked
 * (stored as exact zeros), out (B,T,C) = att v, heads side by side. Strided batched gemms
 * per sequence and block of tb query rows (batch over heads, no permute copies), skipping
 * the masked upper triangle block-wise; tb = 0 picks the block size (T < 128: one block). */
int mu_op_attention_fwd(mu_gemm_ctx_t *g, float *out, float *att, const float *qkv, int64_t B, int64_t T,
                        int64_t C, int64_t H, int64_t tb);
/* dqkv (B,T,3C) written from dout (B,T,C); datt (B,H,T,T) is scratch; tb as in forward. */
int mu_op_attention_bwd(mu_gemm_ctx_t *g, float *dqkv, float *datt, const float *dout, const float *qkv,
                        const float *att, int64_t B, int64_t T, int64_t C, int64_t H, int64_t tb);
/* The same with an explicit score multiplier: softmax(scale q k^T) (μP: alpha_attn/d_head).
 * row_stats (B·H·T rows of 4 doubles, or NULL): per score row over its causal entries
 * sum |s|, sum s², max s, max |s|, taken before the softmax (module statistics). */
int mu_op_attention_fwd_s(mu_gemm_ctx_t *g, float *out, float *att, const float *qkv, int64_t B, int64_t T,
                          int64_t C, int64_t H, int64_t tb, float scale, double *row_stats);
int mu_op_attention_bwd_s(mu_gemm_ctx_t *g, float *dqkv, float *datt, const float *dout, const float *qkv,
                          const float *att, int64_t B, int64_t T, int64_t C, int64_t H, int64_t tb, float scale);

/* Softmax cross-entropy: logits (N,V), y (N) in [0,V). lse (N) = logsumexp per row,
 * losses (N) = lse - logits[y]. Returns the mean loss (summed in double, fixed order). */
double mu_op_xent_fwd(float *lse, float *losses, const float *logits, const int32_t *y, int64_t N, int64_t V);
/* dlogits (N,V) = scale * (softmax(logits) - onehot(y)); dlogits may alias logits. */
void mu_op_xent_bwd(float *dlogits, const float *logits, const float *lse, const int32_t *y, int64_t N, int64_t V,
                    float scale);

#endif

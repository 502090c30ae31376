/* muon/gemm.h — the compute layer: every matrix product in muon goes through here.
 *
 * Intended usage:
 *   1. mu_gemm_ctx_init(&g, MU_ENGINE_AUTO) once per model/optimizer.
 *   2. Describe a product with mu_gemm_desc_t (row-major, like cblas with
 *      CblasRowMajor):  C[b] = alpha * op(A[b]) * op(B[b]) + beta * C[b],
 *      op(A) is (m, k), op(B) is (k, n), C is (m, n), b = 0..batch-1, A[b] = A + b*stride_a.
 *   3. Optionally mu_gemm_plan(g, &d) for every shape at start-up: with
 *      MU_ENGINE_AUTO it times both engines (a few ms) and keeps the faster one
 *      for that shape; oneDNN primitives are created once per shape and cached.
 *      mu_gemm() plans on first sight of an unplanned shape.
 *   4. mu_gemm_plan_string / mu_gemm_plan_load save and restore the choice per
 *      shape (checkpoints store it so a resume is bit-identical).
 *   5. prec = MU_PREC_BF16: inputs rounded to bf16, fp32 accumulation and
 *      output; only the oneDNN engine, and only on CPUs with AVX512-BF16 or AMX
 *      (MU_EUNSUPPORTED otherwise, never a silent fallback).
 * Thread-safety: a context is used by one thread at a time (products themselves
 * run multi-threaded on the global pool set by mu_threads_set).
 */
#ifndef MUON_GEMM_H
#define MUON_GEMM_H

#include "muon/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    MU_ENGINE_AUTO = 0,
    MU_ENGINE_OPENBLAS = 1,
    MU_ENGINE_ONEDNN = 2
} mu_engine_t;

typedef enum {
    MU_PREC_F32 = 0,   /* fp32 in, fp32 accumulate, fp32 out */
    MU_PREC_BF16 = 1   /* bf16 in (rounded from fp32), fp32 accumulate, fp32 out */
} mu_prec_t;

typedef struct {
    int32_t trans_a, trans_b;             /* 0/1: op(X) = X or X^T */
    int64_t m, n, k;
    int64_t lda, ldb, ldc;                /* row strides of the stored A, B, C */
    int64_t batch;                        /* >= 1 */
    int64_t stride_a, stride_b, stride_c; /* elements between batch items */
    float alpha, beta;
    mu_prec_t prec;
} mu_gemm_desc_t;

/* Plain non-batched fp32 descriptor with tight leading dimensions. */
MU_API mu_gemm_desc_t mu_gemm_desc(int32_t trans_a, int32_t trans_b, int64_t m, int64_t n, int64_t k,
                                   float alpha, float beta);

typedef struct mu_gemm_ctx mu_gemm_ctx_t;

MU_API int mu_gemm_ctx_init(mu_gemm_ctx_t **out, /* new context */
                            mu_engine_t engine);   /* AUTO, OPENBLAS or ONEDNN */
MU_API void mu_gemm_ctx_free(mu_gemm_ctx_t *g);
MU_API mu_engine_t mu_gemm_ctx_engine(const mu_gemm_ctx_t *g);

MU_API int mu_gemm(mu_gemm_ctx_t *g, const mu_gemm_desc_t *d, const float *A, const float *B, float *C);
/* Decide (and under AUTO, time) the engine for this shape now. */
MU_API int mu_gemm_plan(mu_gemm_ctx_t *g, const mu_gemm_desc_t *d);
/* Engine used for a shape (plans it if needed). */
MU_API mu_engine_t mu_gemm_engine_for(mu_gemm_ctx_t *g, const mu_gemm_desc_t *d);
/* Human and machine readable plan: one "m,n,k,ta,tb,batch,prec=engine" entry per shape, ';'-separated. */
MU_API int mu_gemm_plan_string(const mu_gemm_ctx_t *g, char *buf, size_t cap);  /* MU_EINVAL if cap < mu_gemm_plan_size */
MU_API size_t mu_gemm_plan_size(const mu_gemm_ctx_t *g); /* bytes plan_string needs, NUL included */
MU_API int mu_gemm_plan_load(mu_gemm_ctx_t *g, const char *plan); /* entries override earlier choices */
MU_API const char *mu_engine_name(mu_engine_t e);
MU_API int mu_engine_parse(const char *s, mu_engine_t *out);
/* Symmetric rank-k product, both triangles written: C (n,n) = alpha·A·Aᵀ + beta·C with A
 * stored (n,k) (trans = 0), or alpha·Aᵀ·A + beta·C with A stored (k,n) (trans = 1).
 * fp32 on an OpenBLAS/AUTO context uses cblas_ssyrk (half the flops of a gemm) and
 * mirrors the triangle (so with beta != 0, C must already be symmetric); bf16 or a
 * oneDNN context runs the full product via mu_gemm. */
MU_API int mu_gemm_syrk(mu_gemm_ctx_t *g, int32_t trans, int64_t n, int64_t k, float alpha, const float *A,
                        int64_t lda, float beta, float *C, int64_t ldc, mu_prec_t prec);
/* Whether this CPU/build can run bf16 products (AVX512-BF16 or AMX through oneDNN). */
MU_API int mu_gemm_bf16_available(void);
/* dst[i] = src[i] rounded to bf16 (round to nearest even; NaN stays NaN, ±Inf stays ±Inf),
 * as bit patterns, n >= 0 elements; the rounding every bf16 product applies to its inputs. */
MU_API int mu_gemm_to_bf16(uint16_t *dst, const float *src, int64_t n);
/* A bf16 product whose operands are already rounded (mu_gemm_to_bf16), so a caller that
 * feeds one matrix to several products rounds it once (Newton–Schulz: X_k in X·Xᵀ and in
 * B·X). d->prec must be MU_PREC_BF16, and A and B tight: lda (ldb) = the stored operand's
 * column count, batch items back to back (stride = rows·cols) or repeated (stride 0).
 * Same result, bit for bit, as mu_gemm on the fp32 operands; same engine rules. */
MU_API int mu_gemm_bf16_operands(mu_gemm_ctx_t *g, const mu_gemm_desc_t *d, const uint16_t *A, const uint16_t *B,
                                 float *C);

#ifdef __cplusplus
}
#endif
#endif

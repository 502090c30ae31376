/* engine.h — internal interface between the gemm planner (gemm.c) and the two
 * engines that compute products (engine_openblas.c, engine_onednn.c).
 *
 * Every engine computes, for b = 0..batch-1 (row-major, like cblas RowMajor):
 *   C[b] = alpha * op(A[b]) * op(B[b]) + beta * C[b]
 *   op(A) (m,k) stored as A (m,lda) or A^T (k,lda); op(B) (k,n) likewise; C (m,ldc).
 * The descriptor has already been validated by gemm.c when these are called. */
#ifndef MU_TENSOR_ENGINE_H
#define MU_TENSOR_ENGINE_H

#include <string.h>

#include "muon/gemm.h"

/* ---- OpenBLAS: stateless, cblas_sgemm per batch item ---- */
void mu_blas_run(const mu_gemm_desc_t *d, const float *A, const float *B, float *C);

/* ---- oneDNN: one matmul primitive per full descriptor ---- */
typedef struct mu_dnnl_prim mu_dnnl_prim_t;

/* Create the primitive for d (fp32 or bf16 inputs). *scratch_bytes receives the
 * size of the caller-owned workspace mu_dnnl_run needs (oneDNN scratchpad plus
 * bf16 copies of A and B), 64-byte aligned sections. */
int mu_dnnl_create(const mu_gemm_desc_t *d, mu_dnnl_prim_t **out, size_t *scratch_bytes);
/* Run it; no allocation. scratch must hold *scratch_bytes from create. */
int mu_dnnl_run(mu_dnnl_prim_t *p, const float *A, const float *B, float *C, void *scratch);
/* Run a bf16 primitive on operands already rounded to bf16, stored tight (see gemm.h). */
int mu_dnnl_run_bf16(mu_dnnl_prim_t *p, const uint16_t *A, const uint16_t *B, float *C, void *scratch);
void mu_dnnl_free(mu_dnnl_prim_t *p);
/* 1 when oneDNN can run bf16 matmuls here (effective ISA >= avx512_core_bf16). */
int mu_dnnl_bf16_ok(void);

/* fp32 -> bf16, round to nearest even: add 0x7FFF plus the lowest kept bit, keep the top
 * 16 bits. NaN stays a (quiet) NaN instead of rounding into Inf. */
static inline uint16_t mu_f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x40);
    u += 0x7FFFu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

/* Rows/cols of the stored (not transposed) operand and the span of memory,
 * in elements, one operand touches over all batch items. */
static inline int64_t mu_span(int64_t rows, int64_t cols, int64_t ld, int64_t batch, int64_t stride) {
    return (batch - 1) * stride + (rows - 1) * ld + cols;
}

#endif

/* engine_openblas.c — the OpenBLAS engine: cblas_sgemm once per batch item.
 * A (m,k) or A^T stored (k,m) with row stride lda; B (k,n) or B^T (n,k) with ldb;
 * C (m,n) with ldc; batch items at A + b*stride_a etc. fp32 only. */
#include <cblas.h>

#include "tensor/engine.h"

void mu_blas_run(const mu_gemm_desc_t *d, const float *A, const float *B, float *C) {
    const enum CBLAS_TRANSPOSE ta = d->trans_a ? CblasTrans : CblasNoTrans;
    const enum CBLAS_TRANSPOSE tb = d->trans_b ? CblasTrans : CblasNoTrans;
    for (int64_t b = 0; b < d->batch; b++)
        cblas_sgemm(CblasRowMajor, ta, tb, (blasint)d->m, (blasint)d->n, (blasint)d->k, d->alpha,
                    A + b * d->stride_a, (blasint)d->lda, B + b * d->stride_b, (blasint)d->ldb, d->beta,
                    C + b * d->stride_c, (blasint)d->ldc);
}

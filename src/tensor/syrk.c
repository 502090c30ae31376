/* syrk.c — symmetric rank-k product C = alpha·op(A)·op(A)ᵀ + beta·C, both triangles.
 *
 * Shapes (row-major): trans = 0: A stored (n, k), C = A·Aᵀ (n, n);
 *                     trans = 1: A stored (k, n), C = Aᵀ·A (n, n).  lda, ldc row strides.
 * fp32 on an OpenBLAS or AUTO context: cblas_ssyrk computes the upper triangle only
 * (n²k flops instead of 2n²k), then the lower triangle is mirrored from it.
 * bf16, or a context forced to oneDNN: the full product through mu_gemm (same engine
 * rules as any product: bf16 only on CPUs with AVX512-BF16/AMX). */
#include <cblas.h>
#include <math.h>

#include "base/util.h"
#include "muon/gemm.h"

/* Copy the upper triangle of C (n, n) into its lower one, in cache-sized tiles:
 * C[i][j] = C[j][i] for i > j. */
static void mirror_upper(float *C, int64_t n, int64_t ldc) {
    const int64_t bs = 64;
#pragma omp parallel for schedule(dynamic, 1) if (n >= 256)
    for (int64_t ib = 0; ib < n; ib += bs) {
        int64_t ie = ib + bs < n ? ib + bs : n;
        for (int64_t jb = 0; jb <= ib; jb += bs) {
            int64_t je = jb + bs < n ? jb + bs : n;
            for (int64_t i = ib; i < ie; i++)
                for (int64_t j = jb; j < je && j < i; j++) C[i * ldc + j] = C[j * ldc + i];
        }
    }
}

int mu_gemm_syrk(mu_gemm_ctx_t *g, int32_t trans, int64_t n, int64_t k, float alpha, const float *A, int64_t lda,
                 float beta, float *C, int64_t ldc, mu_prec_t prec) {
    MU_REQUIRE(g && A && C, "mu_gemm_syrk: NULL argument (ctx %p, A %p, C %p)", (void *)g, (const void *)A,
               (void *)C);
    MU_REQUIRE(trans == 0 || trans == 1, "mu_gemm_syrk: trans is %d, expected 0 (A·Aᵀ) or 1 (Aᵀ·A)", (int)trans);
    MU_REQUIRE(n > 0 && k > 0, "mu_gemm_syrk: sizes n=%lld k=%lld must be positive", (long long)n, (long long)k);
    MU_REQUIRE(lda >= (trans ? n : k), "mu_gemm_syrk: lda %lld too small for A stored as (%lld,%lld)",
               (long long)lda, (long long)(trans ? k : n), (long long)(trans ? n : k));
    MU_REQUIRE(ldc >= n, "mu_gemm_syrk: ldc %lld too small for C (%lld,%lld)", (long long)ldc, (long long)n,
               (long long)n);
    MU_REQUIRE(prec == MU_PREC_F32 || prec == MU_PREC_BF16, "mu_gemm_syrk: prec %d unknown (0 = f32, 1 = bf16)",
               (int)prec);
    MU_REQUIRE(isfinite(alpha) && isfinite(beta), "mu_gemm_syrk: alpha %g and beta %g must be finite",
               (double)alpha, (double)beta);
    const int64_t imax = 2147483647;
    MU_REQUIRE(n <= imax && k <= imax && lda <= imax && ldc <= imax,
               "mu_gemm_syrk: sizes and leading dimensions must fit in 32 bits");
    if (prec == MU_PREC_BF16 || mu_gemm_ctx_engine(g) == MU_ENGINE_ONEDNN) {
        /* full product: op(A) (n,k) times op(A)ᵀ (k,n) */
        mu_gemm_desc_t d = mu_gemm_desc(trans, !trans, n, n, k, alpha, beta);
        d.lda = d.ldb = lda;
        d.ldc = ldc;
        d.prec = prec;
        return mu_gemm(g, &d, A, A, C);
    }
    cblas_ssyrk(CblasRowMajor, CblasUpper, trans ? CblasTrans : CblasNoTrans, (blasint)n, (blasint)k, alpha, A,
                (blasint)lda, beta, C, (blasint)ldc);
    mirror_upper(C, n, ldc);
    return MU_OK;
}

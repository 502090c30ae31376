/* qr.c — orthonormal basis of the columns of a tall matrix X (n, k), n >= k, row-major: the
 * Q of its thin QR, column by column the same nested spans as Householder's Q (columns may
 * differ in sign, which no caller depends on).
 *
 * CholeskyQR2 (Fukaya, Nakatsukasa, Yanagisawa, Yamamoto 2014): A = XᵀX, A = RᵀR (Cholesky),
 * Q = X·R⁻¹, done twice. One pass leaves ‖QᵀQ − I‖ ≈ eps·κ(X)²; the second pass starts
 * from κ ≈ 1 and ends at rounding level. Its products are a rank-k update and a triangular
 * solve (BLAS-3, threaded), where Householder QR of a narrow matrix spends its time in
 * BLAS-2 panels (measured 3-4x slower at 1024×64 on 2 threads).
 *
 * Stability guards: the columns are scaled to unit norm first (span-preserving; a basis
 * of eigen-directions with graded eigenvalues is then well conditioned), the Cholesky
 * factorization runs in double, and the second pass requires max|Q₁ᵀQ₁ − I| <= 0.5 (so
 * κ(Q₁)² <= 3). If any of that fails (κ of the scaled X beyond ≈ 1e3, a zero column), the
 * basis comes from LAPACK's Householder QR of the saved input instead. A non-finite entry is
 * an error (MU_ENONFINITE). */
#include "orth/qr.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

#include "base/util.h"

size_t mu_qr_workspace_floats(int64_t n, int64_t k) { return (size_t)(n * k + 3 * k * k + 2 * k + 1); }

static int householder(float *X, int64_t n, int64_t k, float *tau) {
    lapack_int info = LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, (lapack_int)n, (lapack_int)k, X, (lapack_int)k, tau);
    if (info == 0)
        info = LAPACKE_sorgqr(LAPACK_ROW_MAJOR, (lapack_int)n, (lapack_int)k, (lapack_int)k, X, (lapack_int)k, tau);
    return info == 0 ? MU_OK : mu_set_error(MU_ENONFINITE, "thin QR of a %lldx%lld basis failed (LAPACK info %d)",
                                           (long long)n, (long long)k, (int)info);
}

/* One CholeskyQR pass: X <- X·R⁻¹ with RᵀR = XᵀX. A (k×k floats), Ad (k×k doubles).
 * Returns 0 on success, 1 when the Gram matrix is not numerically positive definite or
 * (check) deviates from I by more than 0.5 anywhere. */
static int chol_pass(float *X, int64_t n, int64_t k, float *A, double *Ad, int check) {
    // A (k×k, upper) = XᵀX
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, (blasint)k, (blasint)n, 1.0f, X, (blasint)k, 0.0f, A,
                (blasint)k);
    for (int64_t i = 0; i < k; i++)
        for (int64_t j = i; j < k; j++) {
            const double a = A[i * k + j];
            if (!isfinite(a) || (check && fabs(a - (i == j)) > 0.5)) return 1;
            Ad[i * k + j] = a;
        }
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', (lapack_int)k, Ad, (lapack_int)k) != 0) return 1;
    for (int64_t i = 0; i < k; i++)
        for (int64_t j = i; j < k; j++) A[i * k + j] = (float)Ad[i * k + j];
    // X <- X·R⁻¹ (R upper, k×k)
    cblas_strsm(CblasRowMajor, CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit, (blasint)n, (blasint)k, 1.0f, A,
                (blasint)k, X, (blasint)k);
    return 0;
}

int mu_qr_thin(float *X, int64_t n, int64_t k, float *ws, int32_t *fell_back) {
    MU_REQUIRE(X && ws, "mu_qr_thin: NULL argument (X %p, ws %p)", (void *)X, (void *)ws);
    MU_REQUIRE(k > 0 && n >= k, "mu_qr_thin: shape %lldx%lld, need n >= k > 0", (long long)n, (long long)k);
    float *X0 = ws, *A = X0 + n * k, *tau = A + k * k;
    double *Ad = (double *)(void *)(tau + k + ((uintptr_t)(tau + k) % sizeof(double) ? 1 : 0));  // k² doubles
    if (fell_back) *fell_back = 0;
    memcpy(X0, X, sizeof(float) * (size_t)(n * k));
    // unit columns: x_j <- x_j/‖x_j‖ (norms in double: no overflow, a non-finite one means a non-finite entry)
    double *nrm = Ad;
    for (int64_t j = 0; j < k; j++) nrm[j] = 0.0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < k; j++) nrm[j] += (double)X[i * k + j] * X[i * k + j];
    int bad = 0;
    for (int64_t j = 0; j < k; j++) {
        if (!isfinite(nrm[j]))
            return mu_set_error(MU_ENONFINITE, "thin QR: column %lld of the %lldx%lld input is not finite",
                                (long long)j, (long long)n, (long long)k);
        bad |= !(nrm[j] > 0.0);
        tau[j] = (float)(1.0 / sqrt(nrm[j]));
    }
    if (!bad) {
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < k; j++) X[i * k + j] *= tau[j];
        bad = chol_pass(X, n, k, A, Ad, 0) || chol_pass(X, n, k, A, Ad, 1);
    }
    if (!bad) return MU_OK;
    if (fell_back) *fell_back = 1;
    memcpy(X, X0, sizeof(float) * (size_t)(n * k));
    return householder(X, n, k, tau);
}

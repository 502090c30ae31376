/* lanczos.c — σ_max(X) by Lanczos on the short-side Gram matrix, warm-started.
 *
 * Shapes: X (m, n) row-major, v (n) the caller-kept start vector (the same slot
 * mu_spectral_norm uses), work: mu_lanczos_workspace_floats(m, n, steps) floats.
 *
 * Gram matrix G on the short side, d = min(m, n): G = XᵀX (n, n) when n <= m, else
 * G = XXᵀ (m, m); both have eigenvalues σ_i². One step costs two matvecs (4mn
 * flops) plus the reorthogonalization (<= 4·k·d), so k steps cost about what k power
 * iterations cost. Lanczos with start q₀ builds an orthonormal basis Q_k of the Krylov
 * space span{q₀, Gq₀, …, G^(k-1)q₀} and the tridiagonal T_k = Q_kᵀ G Q_k:
 *
 *   w = G q_j ;  α_j = q_jᵀw ;  w -= α_j q_j + β_{j-1} q_{j-1}
 *   w -= Q (Qᵀw)  twice (full reorthogonalization, classical Gram–Schmidt x2)
 *   β_j = ‖w‖ ;  q_{j+1} = w / β_j
 *
 * θ = λ_max(T_k) (LAPACKE_dstev, double) is the best estimate of λ_max(G) over the
 * whole Krylov space, so it converges like a Chebyshev polynomial in the gap:
 * error ~ T_k(1 + 2γ)^-2 with γ = (λ₁-λ₂)/(λ₂-λ_min) — for clustered tops far faster
 * than power iteration's (λ₂/λ₁)^k. θ ≤ λ_max (Rayleigh quotient), so σ̂ = sqrt(θ)
 * undershoots σ_max (up to rounding), like mu_spectral_norm.
 * Breakdown: β_j ≈ 0 (≤ 1e-6·‖T‖) means the Krylov space is invariant under G; T's
 * eigenvalues are then exact eigenvalues of G and the loop stops early (rank-1, zero X).
 * Warm start: the Ritz vector y = Q_k z (z the top eigenvector of T_k) is written back
 * to v as a unit right singular vector estimate (n floats): directly when n <= m, else
 * v = Xᵀy / ‖Xᵀy‖; with m < n the start is q₀ = Xv / ‖Xv‖. A zero v (or a start in the
 * null space) starts from a fixed pseudo-random vector (seed 0x6f727468), so results
 * are deterministic. X = 0 gives σ = 0 and v = 0 (cold start next call); non-finite X
 * or v returns MU_ENONFINITE (sigma untouched). Sums run in double. */
#include <lapacke.h>
#include <math.h>
#include <string.h>

#include "base/util.h"
#include "orth/orth_impl.h"

static double dot(const float *a, const float *b, int64_t n) {
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < n; i++) s += (double)a[i] * (double)b[i];
    return s;
}

/* y (d) = G x: XᵀX x (d = n, tmp m floats) or XXᵀ x (d = m, tmp n floats). */
static void gram_apply(const float *X, int64_t m, int64_t n, int right, const float *x, float *tmp, float *y) {
    if (right) {
        mu_orth_matvec(X, m, n, x, tmp);
        mu_orth_matvec_t(X, m, n, tmp, y);
    } else {
        mu_orth_matvec_t(X, m, n, x, tmp);
        mu_orth_matvec(X, m, n, tmp, y);
    }
}

static void cold_start(float *q, int64_t d) {
    mu_rng_t rng;
    mu_rng_seed(&rng, 0x6f727468);
    for (int64_t j = 0; j < d; j++) q[j] = mu_rng_normal(&rng);
}

size_t mu_lanczos_workspace_floats(int64_t m, int64_t n, int32_t steps) {
    if (m <= 0 || n <= 0 || steps < 1) return 0;
    const int64_t d = m < n ? m : n, l = m < n ? n : m;
    const int64_t k = steps < MU_LANCZOS_MAX_STEPS ? steps : MU_LANCZOS_MAX_STEPS;
    return (size_t)((k + 1) * d + l);  // basis Q (k·d), w (d), tmp (max(m, n))
}

int mu_spectral_norm_lanczos(const float *X, int64_t m, int64_t n, int32_t steps, float *v, float *work,
                             float *sigma) {
    MU_REQUIRE(X && v && work && sigma,
               "mu_spectral_norm_lanczos: NULL argument (X %p, v %p, work %p, sigma %p)", (const void *)X,
               (void *)v, (void *)work, (void *)sigma);
    MU_REQUIRE(m > 0 && n > 0, "mu_spectral_norm_lanczos: matrix is (%lld, %lld): both sides must be positive",
               (long long)m, (long long)n);
    MU_REQUIRE(steps >= 1 && steps <= MU_LANCZOS_MAX_STEPS,
               "mu_spectral_norm_lanczos: steps is %d, must be in [1, %d] (>= 8 recommended)", (int)steps,
               MU_LANCZOS_MAX_STEPS);
    const int right = n <= m;  // Gram side: XᵀX (vectors of n) or XXᵀ (vectors of m)
    const int64_t d = right ? n : m;
    const int32_t k = steps < d ? steps : (int32_t)d;  // the Krylov space has at most d dimensions
    float *Q = work, *w = work + (int64_t)k * d, *tmp = w + d;

    const double vn = sqrt(dot(v, v, n));
    if (!isfinite(vn))
        return mu_set_error(MU_ENONFINITE, "mu_spectral_norm_lanczos: warm-start vector v (%lld) holds NaN or Inf",
                            (long long)n);
    /* q₀: v itself (right side) or Xv (left side); cold start when zero */
    if (right) memcpy(Q, v, sizeof(float) * (size_t)n);
    else if (vn > 0) mu_orth_matvec(X, m, n, v, Q);
    double qn = vn > 0 ? sqrt(dot(Q, Q, d)) : 0;
    if (!isfinite(qn))
        return mu_set_error(MU_ENONFINITE, "mu_spectral_norm_lanczos: matrix (%lld, %lld) holds NaN or Inf",
                            (long long)m, (long long)n);
    if (qn == 0) {
        cold_start(Q, d);
        qn = sqrt(dot(Q, Q, d));
    }
    for (int64_t i = 0; i < d; i++) Q[i] = (float)(Q[i] / qn);

    double alpha[MU_LANCZOS_MAX_STEPS], beta[MU_LANCZOS_MAX_STEPS], anorm = 0;
    int32_t kk = k;  // steps actually taken (< k on breakdown)
    for (int32_t j = 0; j < k; j++) {
        const float *q = Q + (int64_t)j * d;
        gram_apply(X, m, n, right, q, tmp, w);
        const double wn = sqrt(dot(w, w, d));
        if (!isfinite(wn))
            return mu_set_error(MU_ENONFINITE,
                                "mu_spectral_norm_lanczos: matrix (%lld, %lld) overflows or holds NaN/Inf",
                                (long long)m, (long long)n);
        const double a = dot(q, w, d);
        for (int64_t i = 0; i < d; i++)
            w[i] = (float)((double)w[i] - a * q[i] - (j > 0 ? beta[j - 1] * Q[(int64_t)(j - 1) * d + i] : 0.0));
        /* full reorthogonalization against q₀..q_j, twice ("twice is enough") */
        for (int pass = 0; pass < 2; pass++)
            for (int32_t l = 0; l <= j; l++) {
                const float *ql = Q + (int64_t)l * d;
                const double c = dot(ql, w, d);
                for (int64_t i = 0; i < d; i++) w[i] = (float)((double)w[i] - c * ql[i]);
            }
        alpha[j] = a;
        const double b = sqrt(dot(w, w, d));
        anorm = fmax(anorm, fabs(a) + b + (j > 0 ? beta[j - 1] : 0.0));
        if (j == k - 1) break;
        if (b <= 1e-6 * anorm) {  // breakdown: invariant subspace, T's eigenvalues are exact (X = 0 included)
            kk = j + 1;
            break;
        }
        beta[j] = b;
        float *qn1 = Q + (int64_t)(j + 1) * d;
        for (int64_t i = 0; i < d; i++) qn1[i] = (float)(w[i] / b);
    }
    if (anorm == 0) {  // X = 0: σ = 0, restart cold next call
        memset(v, 0, sizeof(float) * (size_t)n);
        *sigma = 0.0f;
        return MU_OK;
    }

    /* top eigenpair of T (kk, kk): diagonal alpha, off-diagonal beta; ascending order */
    double z[MU_LANCZOS_MAX_STEPS * MU_LANCZOS_MAX_STEPS];
    lapack_int info = LAPACKE_dstev(LAPACK_COL_MAJOR, 'V', (lapack_int)kk, alpha, beta, z, (lapack_int)kk);
    if (info != 0)
        return mu_set_error(MU_EINVAL, "mu_spectral_norm_lanczos: LAPACKE_dstev failed (info %d, %d steps)", (int)info,
                            (int)kk);
    const double theta = alpha[kk - 1];
    const double *zt = z + (int64_t)(kk - 1) * kk;

    /* Ritz vector y = Q z (into w), then the right singular vector estimate into v */
    for (int64_t i = 0; i < d; i++) {
        double s = 0;
        for (int32_t l = 0; l < kk; l++) s += zt[l] * Q[(int64_t)l * d + i];
        w[i] = (float)s;
    }
    if (right) memcpy(v, w, sizeof(float) * (size_t)n);
    else mu_orth_matvec_t(X, m, n, w, v);
    const double yn = sqrt(dot(v, v, n));
    if (yn > 0 && isfinite(yn))
        for (int64_t i = 0; i < n; i++) v[i] = (float)(v[i] / yn);
    else memset(v, 0, sizeof(float) * (size_t)n);
    *sigma = (float)sqrt(theta > 0 ? theta : 0.0);
    return MU_OK;
}

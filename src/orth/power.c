/* power.c — σ_max(X) by power iteration on XᵀX, warm-started.
 *
 * Shapes: X (m, n) row-major, v (n) the caller-kept start vector, tmp (m).
 * One iteration with unit v:  u = X·v (m),  w = Xᵀ·u = XᵀX·v (n),  v ← w/‖w‖.
 * Estimate σ = sqrt(‖XᵀX·v‖) for the last unit v: ‖XᵀXv‖ ≤ σ_max², so the estimate
 * never exceeds σ_max (up to rounding), and it is ≥ ‖Xv‖ (Cauchy–Schwarz:
 * ‖Xv‖² = vᵀw ≤ ‖w‖), i.e. tighter than the Rayleigh quotient. It converges like
 * (σ₂/σ₁)^(2k). Sums run in double; a zero v starts from a fixed pseudo-random
 * vector (seed 0x6f727468), so results are deterministic. */
#include <math.h>
#include <omp.h>

#include "base/util.h"
#include "orth/orth_impl.h"

/* u (m) = X (m, n) · v (n), double accumulation */
void mu_orth_matvec(const float *X, int64_t m, int64_t n, const float *v, float *u) {
#pragma omp parallel for schedule(static) if (m * n >= 65536)
    for (int64_t i = 0; i < m; i++) {
        const float *row = X + i * n;
        double s = 0;
#pragma omp simd reduction(+ : s) /* fixed lane order: the same sum at any thread count */
        for (int64_t j = 0; j < n; j++) s += (double)row[j] * (double)v[j];
        u[i] = (float)s;
    }
}

/* w (n) = Xᵀ (n, m) · u (m): threads own column blocks and sweep all rows. Blocks are
 * n / threads wide (a multiple of 16 floats, one cache line per row, at most 256), so a
 * 256-wide matrix still spreads over 16 threads; every w[j] sums over i in the same
 * order whatever the block width, so the result does not depend on the thread count. */
void mu_orth_matvec_t(const float *X, int64_t m, int64_t n, const float *u, float *w) {
    enum { BS_MAX = 256 };
    const int64_t nt = m * n >= 65536 ? omp_get_max_threads() : 1;
    int64_t bs = (n + nt - 1) / nt;
    bs = bs < 16 ? 16 : bs > BS_MAX ? BS_MAX : (bs + 15) / 16 * 16;
#pragma omp parallel for schedule(static) if (nt > 1)
    for (int64_t jb = 0; jb < n; jb += bs) {
        double acc[BS_MAX] = {0};
        int64_t je = jb + bs < n ? jb + bs : n;
        for (int64_t i = 0; i < m; i++) {
            const float *row = X + i * n;
            const double ui = u[i];
            for (int64_t j = jb; j < je; j++) acc[j - jb] += (double)row[j] * ui;
        }
        for (int64_t j = jb; j < je; j++) w[j] = (float)acc[j - jb];
    }
}

static double norm2(const float *x, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)x[i] * (double)x[i];
    return sqrt(s);
}

int mu_spectral_norm(const float *X, int64_t m, int64_t n, int32_t iters, float *v, float *tmp, float *sigma) {
    MU_REQUIRE(X && v && tmp && sigma, "mu_spectral_norm: NULL argument (X %p, v %p, tmp %p, sigma %p)",
               (const void *)X, (void *)v, (void *)tmp, (void *)sigma);
    MU_REQUIRE(m > 0 && n > 0, "mu_spectral_norm: matrix is (%lld, %lld): both sides must be positive",
               (long long)m, (long long)n);
    MU_REQUIRE(iters >= 1, "mu_spectral_norm: iters is %d, must be >= 1 (>= 8 recommended)", (int)iters);
    double vn = norm2(v, n);
    if (!isfinite(vn))
        return mu_set_error(MU_ENONFINITE, "mu_spectral_norm: warm-start vector v (%lld) holds NaN or Inf",
                            (long long)n);
    if (vn == 0) { /* deterministic cold start */
        mu_rng_t rng;
        mu_rng_seed(&rng, 0x6f727468);
        for (int64_t j = 0; j < n; j++) v[j] = mu_rng_normal(&rng);
        vn = norm2(v, n);
    }
    for (int64_t j = 0; j < n; j++) v[j] = (float)(v[j] / vn);
    double est = 0;
    for (int32_t it = 0; it < iters; it++) {
        mu_orth_matvec(X, m, n, v, tmp);
        if (!isfinite(norm2(tmp, m)))
            return mu_set_error(MU_ENONFINITE, "mu_spectral_norm: matrix (%lld, %lld) holds NaN or Inf",
                                (long long)m, (long long)n);
        /* reuse v as w: v is not needed once u = Xv is formed */
        mu_orth_matvec_t(X, m, n, tmp, v);
        double wn = norm2(v, n);
        if (!isfinite(wn))
            return mu_set_error(MU_ENONFINITE, "mu_spectral_norm: matrix (%lld, %lld) overflows or holds NaN/Inf",
                                (long long)m, (long long)n);
        if (wn == 0) { /* v in the null space (or X = 0): σ estimate 0, restart next call */
            est = 0;
            break;
        }
        est = sqrt(wn);
        for (int64_t j = 0; j < n; j++) v[j] = (float)(v[j] / wn);
    }
    *sigma = (float)est;
    return MU_OK;
}

/* spectral_renorm.c — `spectral_renorm(iters)`: U <- U / σ_max(U) per logical matrix
 * (Muon++ as reconstructed in mup-and-muonpp.md §4: unit spectral norm before the
 * spectral shape scale, so ‖ΔW‖₂ = η·sqrt(m/n)).
 *
 *   σ̂ = power iteration on UᵀU, `iters` steps, warm-started from last step's vector
 *        (mu_spectral_norm; the estimate never exceeds σ_max, so use >= 8 iterations;
 *        the first, cold step runs 4·iters). NS5 outputs have clustered top singular
 *        values, so convergence is slow: 8 warm iterations undershot by up to 7% on
 *        independent gradients in tests/test_presets.c, 16 by 6%, 24 by <= 2% (default 24)
 *   exact = 1: σ_max from the singular values of a double copy (LAPACKE_dgesdd),
 *        for tests and studies (the warm-start vector is left untouched)
 *   U <- U / σ̂  (a zero matrix stays zero)
 *
 * U views (m, n) under split (views.c, logical level); state: one warm-start
 * vector of n floats per logical matrix. Scratch: m floats, or the double copy.
 */
#include <lapacke.h>
#include <stdio.h>

#include "base/util.h"
#include "muon/orth.h"
#include "optim/transform.h"

enum { K_ITERS = 0, K_EXACT = 1, K_SPLIT = 2 };

static const mu_hp_desc_t keys[] = {
    {.key = "iters", .type = MU_HP_INT, .def = 24.0f, .lo = 1.0f, .hi = 10000.0f},
    {.key = "exact", .type = MU_HP_INT, .def = 0.0f, .lo = 0.0f, .hi = 1.0f},
    MU_HP_SPLIT_KEY,
};

static size_t renorm_state(const mu_tstep_t *s, const mu_param_t *p) {
    if (p->ndim != 2) return 0;
    int64_t m, n;
    const int64_t nv = mu_param_views(p, (int32_t)s->hp[K_SPLIT], MU_VIEW_LOGICAL, &m, &n);
    return (size_t)(nv * n);
}

/* Sized for both paths, since `exact` may be switched after init. */
static size_t renorm_scratch(const mu_tstep_t *s, const mu_param_t *p) {
    if (p->ndim != 2) return 0;
    int64_t m, n;
    mu_param_views(p, (int32_t)s->hp[K_SPLIT], MU_VIEW_LOGICAL, &m, &n);
    const int64_t r = m < n ? m : n;
    const size_t exact = 2 * (size_t)(m * n + r);  // doubles: the copy and the singular values
    return exact > (size_t)m ? exact : (size_t)m;
}

/* σ_max of X (m, n) in double through the singular values only. */
static int sigma_exact(const float *X, int64_t m, int64_t n, double *work, float *sigma) {
    const int64_t r = m < n ? m : n;
    double *A = work, *sv = work + m * n;
    for (int64_t i = 0; i < m * n; i++) A[i] = (double)X[i];
    // no vectors: LAPACKE's row-major checks still want ldu >= 1 and ldvt >= n
    lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'N', (lapack_int)m, (lapack_int)n, A, (lapack_int)n, sv,
                                     NULL, (lapack_int)m, NULL, (lapack_int)n);
    if (info != 0) return mu_set_error(MU_EINVAL, "spectral_renorm: LAPACKE_dgesdd failed (info %d)", (int)info);
    (void)r;
    *sigma = (float)sv[0];
    return MU_OK;
}

static int renorm_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *state, mu_param_t *p) {
    int64_t m, n;
    const int64_t nv = mu_param_views(p, (int32_t)s->hp[K_SPLIT], MU_VIEW_LOGICAL, &m, &n);
    for (int64_t v = 0; v < nv; v++) {
        float *X = U + v * m * n, sigma = 0.0f;
        if (s->hp[K_EXACT] != 0.0f)
            MU_TRY(sigma_exact(X, m, n, (double *)ctx->scratch, &sigma));
        else {
            // a zero vector is a cold start (first step): give it 4x the iterations
            float *vec = state + v * n;
            int32_t iters = (int32_t)s->hp[K_ITERS];
            if (mu_dot_f64(vec, vec, n) == 0.0) iters *= 4;
            MU_TRY(mu_spectral_norm(X, m, n, iters, vec, ctx->scratch, &sigma));
        }
        if (sigma > 0.0f) mu_vec_scale(X, m * n, 1.0f / sigma);  // a zero matrix stays zero
    }
    return MU_OK;
}

const mu_transform_t mu_tr_spectral_renorm = {
    .name = "spectral_renorm", .keys = keys, .n_keys = 3, .state_size = renorm_state,
    .scratch_size = renorm_scratch, .update = renorm_update, .check = mu_views_check_link,
};

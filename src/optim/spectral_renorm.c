/* spectral_renorm.c — `spectral_renorm(iters)`: U <- U / σ_max(U) per logical matrix
 * (Muon++ as reconstructed in mup-and-muonpp.md §4: unit spectral norm before the
 * spectral shape scale, so ‖ΔW‖₂ = η·sqrt(m/n)).
 *
 *   σ̂ = estimate of σ_max(U), warm-started from last step's vector, `iters` steps; the
 *        first, cold step runs 4·iters. Both methods undershoot σ_max (steps come out
 *        slightly too large), so use >= 8 steps. `method`:
 *     lanczos (1, default): k-step Lanczos with full reorthogonalization on the
 *        short-side Gram matrix (mu_spectral_norm_lanczos; k = min(iters, 64)). NS5
 *        outputs have clustered top singular values, where Lanczos (Chebyshev-like
 *        convergence in the gap) beats power iteration 10-50x at equal cost: on NS5 of
 *        Gaussian (256,128) / (128,384) matrices 16 cold steps undershoot by 4e-4 / 9e-4,
 *        16 power iterations by 7e-3 / 1.4e-2 (tests/test_orth.c); Muon++ default 16
 *        (warm; the cold first step runs 64), ‖ΔW‖₂/(η s) ≤ 1.002 in test_presets.c.
 *     power (0): power iteration on UᵀU (mu_spectral_norm). Converges like
 *        (σ₂/σ₁)^(2k): 8 warm iterations undershot by up to 7% on independent
 *        gradients in tests/test_presets.c, 16 by 6%, 24 by <= 2%.
 *     `method` is quiet (describe/signature show it only as method=power) and not
 *     structural: both keep the same state, so checkpoints resume across it.
 *   exact = 1: σ_max from the singular values of a double copy (LAPACKE_dgesdd),
 *        for tests and studies (the warm-start vector is left untouched)
 *   U <- U / σ̂  (a zero matrix stays zero)
 *
 * U views (m, n) under split (views.c, logical level); state: one warm-start
 * vector of n floats per logical matrix (both methods). Scratch: the largest of
 * m floats (power), the Lanczos workspace for 64 steps, or the double copy.
 */
#include <lapacke.h>
#include <stdio.h>

#include "base/util.h"
#include "muon/orth.h"
#include "optim/transform.h"

enum { K_ITERS = 0, K_EXACT = 1, K_SPLIT = 2, K_METHOD = 3 };
enum { METHOD_POWER = 0, METHOD_LANCZOS = 1 };

static const char *const method_names[] = {"power", "lanczos", NULL};

static const mu_hp_desc_t keys[] = {
    {.key = "iters", .type = MU_HP_INT, .def = 16.0f, .lo = 1.0f, .hi = 10000.0f},
    {.key = "exact", .type = MU_HP_INT, .def = 0.0f, .lo = 0.0f, .hi = 1.0f},
    MU_HP_SPLIT_KEY,
    /* σ̂ estimator; quiet (added after checkpoints existed), not structural (same state) */
    {.key = "method", .type = MU_HP_ENUM, .def = 1.0f, .lo = 0.0f, .hi = 1.0f, .quiet_default = 1,
     .names = method_names},
};

static size_t renorm_state(const mu_tstep_t *s, const mu_param_t *p) {
    if (p->ndim != 2) return 0;
    int64_t m, n;
    const int64_t nv = mu_param_views(p, (int32_t)s->hp[K_SPLIT], MU_VIEW_LOGICAL, &m, &n);
    return (size_t)(nv * n);
}

/* Sized for every path, since `exact`, `method` and `iters` may be switched after init. */
static size_t renorm_scratch(const mu_tstep_t *s, const mu_param_t *p) {
    if (p->ndim != 2) return 0;
    int64_t m, n;
    mu_param_views(p, (int32_t)s->hp[K_SPLIT], MU_VIEW_LOGICAL, &m, &n);
    const int64_t r = m < n ? m : n;
    const size_t exact = 2 * (size_t)(m * n + r);  // doubles: the copy and the singular values
    const size_t lz = mu_lanczos_workspace_floats(m, n, MU_LANCZOS_MAX_STEPS);
    const size_t big = exact > lz ? exact : lz;
    return big > (size_t)m ? big : (size_t)m;
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
            if (s->hp[K_METHOD] == (float)METHOD_LANCZOS) {
                // the Krylov basis is capped at 64 vectors (far past convergence for NS5 outputs)
                if (iters > MU_LANCZOS_MAX_STEPS) iters = MU_LANCZOS_MAX_STEPS;
                MU_TRY(mu_spectral_norm_lanczos(X, m, n, iters, vec, ctx->scratch, &sigma));
            } else
                MU_TRY(mu_spectral_norm(X, m, n, iters, vec, ctx->scratch, &sigma));
        }
        if (sigma > 0.0f) mu_vec_scale(X, m * n, 1.0f / sigma);  // a zero matrix stays zero
    }
    return MU_OK;
}

const mu_transform_t mu_tr_spectral_renorm = {
    .name = "spectral_renorm", .keys = keys, .n_keys = 4, .state_size = renorm_state,
    .scratch_size = renorm_scratch, .update = renorm_update, .check = mu_views_check_link,
};

/* adaptive.c — `adaptive(on, kappa)`: the Muon++ adaptive factor A_t, OUR RECONSTRUCTION
 * (arXiv 2601.01306 gives only the principle: an adaptive spectral condition that
 * includes data-dependent effects; mup-and-muonpp.md §4). Off (default): A_t = 1, no state.
 *
 * On, per logical matrix O (m, n) with r = min(m, n), c = max(m, n), after
 * spectral_renorm (σ_max(O) = 1), λ = weight decay, η = scheduled LR:
 *   a_t  = ⟨O_t, O_{t-1}⟩_F / r                 alignment of successive updates (t >= 2)
 *   ā    <- β ā + (1-β) a_t ;   â = ā / (1 - β^(t-1))   (bias-corrected EMA)
 *   E(â) = â/λ + (1-â)·(1 + sqrt(r/c))·sqrt(η/(2λ))    predicted equilibrium ‖W‖₂/(s·A):
 *          aligned updates give s·A/λ, independent ones ≈ (1+sqrt(r/c)) s A sqrt(η/(2λ))
 *          (â clamped to [0, 1]; a heuristic interpolation, not a bound)
 *   A_t  = clamp(κ / E(â), 1/amax, amax)        targets ‖W‖₂ ≈ κ·s;  A_1 = 1
 *   U <- A_t · O ;  O_prev <- O
 * λ is the decay per unit LR, ρ = 1 - ηλ: with wd_mode independent (ρ = 1 - f·wd, f = η_t/η_0)
 * the formula uses λ = f·wd/η, the same ρ written in the decoupled form.
 * State (on): O_prev (numel) then ā (one float per logical matrix).
 */
#include <math.h>
#include <string.h>

#include "base/util.h"
#include "optim/transform.h"

enum { K_ON = 0, K_KAPPA = 1, K_BETA = 2, K_WD = 3, K_AMAX = 4, K_SPLIT = 5, K_WD_MODE = 6 };

static const mu_hp_desc_t keys[] = {
    {.key = "on", .type = MU_HP_INT, .def = 0.0f, .lo = 0.0f, .hi = 1.0f, .structural = 1},
    {.key = "kappa", .type = MU_HP_FLOAT, .def = 1.0f, .lo = 0.0f, .hi = 1e6f},
    MU_HP_BETA_KEY("beta", 0.9f),
    {.key = "wd", .type = MU_HP_FLOAT, .def = 0.0f, .lo = 0.0f, .hi = 1e6f},
    {.key = "amax", .type = MU_HP_FLOAT, .def = 10.0f, .lo = 1.0f, .hi = 1e6f},
    MU_HP_SPLIT_KEY,
    /* the decay link's wd_mode, so that λ means the decay actually applied (quiet: old describes) */
    {.key = "wd_mode", .type = MU_HP_ENUM, .def = 0.0f, .lo = 0.0f, .hi = 1.0f, .quiet_default = 1,
     .names = mu_wd_mode_names},
};

static size_t adaptive_state(const mu_tstep_t *s, const mu_param_t *p) {
    if (s->hp[K_ON] == 0.0f || p->ndim != 2) return 0;
    int64_t m, n;
    const int64_t nv = mu_param_views(p, (int32_t)s->hp[K_SPLIT], MU_VIEW_LOGICAL, &m, &n);
    return (size_t)(p->numel + nv);
}

static int adaptive_check(const mu_tstep_t *s, const mu_param_t *p, const mu_gemm_ctx_t *gemm, const char *who) {
    (void)gemm;
    if (s->hp[K_ON] == 0.0f) return MU_OK;
    if (!(s->hp[K_WD] > 0.0f))
        return mu_set_error(MU_EINVAL,
                            "%s: the adaptive factor targets the weight-decay equilibrium and needs "
                            "weight_decay > 0 (got %g)",
                            who, (double)s->hp[K_WD]);
    return mu_views_check(p, (int32_t)s->hp[K_SPLIT], who);
}

/* A_t from the bias-corrected alignment (see the header comment). */
static float factor(const mu_tstep_t *s, double abar, double eta, double f, double r, double c) {
    // λ per unit LR: wd (decoupled), or f·wd/η so that ηλ = f·wd (independent)
    const double lam = (int)s->hp[K_WD_MODE] == MU_WD_INDEPENDENT ? (eta > 0.0 ? f * s->hp[K_WD] / eta : 0.0)
                                                                 : (double)s->hp[K_WD];
    const double amax = s->hp[K_AMAX];
    if (!(lam > 0.0) || !(eta > 0.0)) return 1.0f;
    const double a = abar < 0.0 ? 0.0 : abar > 1.0 ? 1.0 : abar;
    const double E = a / lam + (1.0 - a) * (1.0 + sqrt(r / c)) * sqrt(eta / (2.0 * lam));
    double A = (double)s->hp[K_KAPPA] / E;
    if (A > amax) A = amax;
    if (A < 1.0 / amax) A = 1.0 / amax;
    return (float)A;
}

static int adaptive_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *state, mu_param_t *p) {
    if (s->hp[K_ON] == 0.0f) return MU_OK;
    int64_t m, n;
    const int64_t nv = mu_param_views(p, (int32_t)s->hp[K_SPLIT], MU_VIEW_LOGICAL, &m, &n);
    const int64_t N = m * n;
    const double r = (double)(m < n ? m : n), c = (double)(m < n ? n : m), b = s->hp[K_BETA];
    float *prev = state, *ema = state + p->numel;
    for (int64_t v = 0; v < nv; v++) {
        float *O = U + v * N, *Op = prev + v * N;
        float A = 1.0f;
        if (ctx->t >= 2) {
            const double at = mu_dot_f64(O, Op, N) / r;
            ema[v] = (float)(b * (double)ema[v] + (1.0 - b) * at);
            const double abar = (double)ema[v] / (1.0 - pow(b, (double)(ctx->t - 1)));
            A = factor(s, abar, (double)ctx->lr, (double)ctx->lr_factor, r, c);
        }
        memcpy(Op, O, sizeof(float) * (size_t)N);
        if (A != 1.0f) mu_vec_scale(O, N, A);
    }
    return MU_OK;
}

const mu_transform_t mu_tr_adaptive = {
    .name = "adaptive", .keys = keys, .n_keys = 7, .state_size = adaptive_state, .update = adaptive_update,
    .check = adaptive_check,
};

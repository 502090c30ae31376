/* grad_diff.c — MARS's variance-reduced gradient estimate (approximate form).
 * arXiv 2411.10438 eq. for c_t; AGI-Arena/MARS mars.py (optimizers-lmo.md §3 (1)):
 *
 *   U' = G + gamma * beta/(1-beta) * (G - G_prev)     then G_prev <- G
 *
 * G = the link's input U (numel), G_prev (numel) = the input of the previous step,
 * zero at t = 1 (so c_1 = (1 + gamma*beta/(1-beta)) G = 1.475 G at the defaults).
 * beta is MARS's beta1 (bound to the config's beta1 in the presets). The exact form
 * (gradient at W_{t-1} on the current batch) needs a second backward: not offered.
 */
#include "base/util.h"
#include "optim/transform.h"

enum { K_GAMMA = 0, K_BETA = 1 };

static const mu_hp_desc_t keys[] = {
    {.key = "gamma", .type = MU_HP_FLOAT, .def = 0.025f, .lo = 0.0f, .hi = 1e3f},
    MU_HP_BETA_KEY("beta", 0.95f),
};

static int grad_diff_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *prev, mu_param_t *p) {
    (void)ctx;
    const double b = s->hp[K_BETA];
    const float k = (float)((double)s->hp[K_GAMMA] * b / (1.0 - b));  // correction multiplier (0.475)
    const int64_t n = p->numel;
#pragma omp parallel for schedule(static) if (n >= MU_OPTIM_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        const float g = U[i];
        U[i] = g + k * (g - prev[i]);
        prev[i] = g;
    }
    return MU_OK;
}

const mu_transform_t mu_tr_grad_diff = {
    .name = "grad_diff", .keys = keys, .n_keys = 2, .state_size = mu_state_numel, .update = grad_diff_update,
};

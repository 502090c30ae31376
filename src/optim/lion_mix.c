/* lion_mix.c — Lion's interpolated momentum (Chen et al. 2023, arXiv 2302.06675 Alg. 2;
 * google/automl lion_pytorch.py; optimizers-lmo.md §14):
 *
 *   U' = b1*m + (1-b1)*U        (the direction Lion takes the sign of)
 *   m  <- b2*m + (1-b2)*U       (the stored momentum is the b2-EMA of the gradients)
 *
 * U, m (numel); m starts at zero.
 */
#include "base/util.h"
#include "optim/transform.h"

enum { K_B1 = 0, K_B2 = 1 };

static const mu_hp_desc_t keys[] = {
    MU_HP_BETA_KEY("b1", 0.9f),
    MU_HP_BETA_KEY("b2", 0.99f),
};

static int lion_mix_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *m, mu_param_t *p) {
    (void)ctx;
    const float b1 = s->hp[K_B1], b2 = s->hp[K_B2];
    const int64_t n = p->numel;
#pragma omp parallel for schedule(static) if (n >= MU_OPTIM_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        const float g = U[i];
        U[i] = b1 * m[i] + (1.0f - b1) * g;
        m[i] = b2 * m[i] + (1.0f - b2) * g;
    }
    return MU_OK;
}

const mu_transform_t mu_tr_lion_mix = {
    .name = "lion_mix", .keys = keys, .n_keys = 2, .state_size = mu_state_numel, .update = lion_mix_update,
};

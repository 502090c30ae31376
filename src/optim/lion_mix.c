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
    {.key = "b1", .type = MU_HP_FLOAT, .def = 0.9f, .lo = 0.0f, .hi = 1.0f, .hi_open = 1},
    {.key = "b2", .type = MU_HP_FLOAT, .def = 0.99f, .lo = 0.0f, .hi = 1.0f, .hi_open = 1},
};

static size_t lion_mix_state(const mu_tstep_t *s, const mu_param_t *p) {
    (void)s;
    return (size_t)p->numel;
}

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
    .name = "lion_mix", .keys = keys, .n_keys = 2, .state_size = lion_mix_state, .update = lion_mix_update,
};

/* scale.c — constant rescaling of the update: U' = a*U (U numel).
 * The building block of shape_scale (optimizers-lmo.md §1) once a later
 * transform computes a from the shape; here a is a plain hyperparameter. */
#include "base/util.h"
#include "optim/transform.h"

enum { K_A = 0 };

static const mu_hp_desc_t keys[] = {
    {.key = "a", .type = MU_HP_FLOAT, .def = 1.0f, .lo = -1e9f, .hi = 1e9f},
};

static int scale_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *state, mu_param_t *p) {
    (void)ctx;
    (void)state;
    const float a = s->hp[K_A];
    if (a == 1.0f) return MU_OK;
    mu_vec_scale(U, p->numel, a);
    return MU_OK;
}

const mu_transform_t mu_tr_scale = {
    .name = "scale", .keys = keys, .n_keys = 1, .update = scale_update,
};

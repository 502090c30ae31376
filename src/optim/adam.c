/* adam.c — Adam's normalized update (Kingma & Ba 2015, Alg. 1; AdamW: Loshchilov & Hutter 2019).
 *
 *   m <- b1*m + (1-b1)*U
 *   v <- b2*v + (1-b2)*U*U
 *   U' = (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)       t = 1-based step
 *
 * U, m, v (numel); state = [m | v]. Weight decay and the step are separate links.
 */
#include <math.h>

/* sqrtf of v >= 0 never sets errno; telling GCC so lets it vectorize the loop. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-math-errno")
#endif

#include "base/util.h"
#include "optim/transform.h"

enum { K_B1 = 0, K_B2 = 1, K_EPS = 2 };

static const mu_hp_desc_t keys[] = {
    {.key = "b1", .type = MU_HP_FLOAT, .def = 0.9f, .lo = 0.0f, .hi = 1.0f, .hi_open = 1},
    {.key = "b2", .type = MU_HP_FLOAT, .def = 0.95f, .lo = 0.0f, .hi = 1.0f, .hi_open = 1},
    {.key = "eps", .type = MU_HP_FLOAT, .def = 1e-8f, .lo = 0.0f, .hi = 1.0f},
};

static size_t adam_state(const mu_tstep_t *s, const mu_param_t *p) {
    (void)s;
    return 2 * (size_t)p->numel;
}

static int adam_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *state, mu_param_t *p) {
    const float b1 = s->hp[K_B1], b2 = s->hp[K_B2], eps = s->hp[K_EPS];
    const int64_t n = p->numel;
    float *m = state, *v = state + n;
    // bias corrections in double, once per tensor: 1/(1-b1^t), 1/(1-b2^t)
    const float c1 = (float)(1.0 / (1.0 - pow((double)b1, (double)ctx->t)));
    const float c2 = (float)(1.0 / (1.0 - pow((double)b2, (double)ctx->t)));
#pragma omp parallel for schedule(static) if (n >= MU_OPTIM_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        float g = U[i];
        float mi = b1 * m[i] + (1.0f - b1) * g;
        float vi = b2 * v[i] + (1.0f - b2) * g * g;
        m[i] = mi;
        v[i] = vi;
        U[i] = (mi * c1) / (sqrtf(vi * c2) + eps);
    }
    return MU_OK;
}

const mu_transform_t mu_tr_adam = {
    .name = "adam", .keys = keys, .n_keys = 3, .state_size = adam_state, .update = adam_update,
};

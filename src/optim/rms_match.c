/* rms_match.c — `rms_match(rho)`: U <- rho·sqrt(mn)·U / (‖U‖_F + eps) per logical matrix
 * (optimizers-lmo.md §1), so that RMS(U) = rho (NorMuon/AdaMuon paper forms use 0.2).
 * U views (m, n) (views.c, logical level). ‖U‖_F summed in double, fixed order.
 */
#include <math.h>

#include "base/util.h"
#include "optim/transform.h"

enum { K_RHO = 0, K_EPS = 1, K_SPLIT = 2 };

static const mu_hp_desc_t keys[] = {
    {.key = "rho", .type = MU_HP_FLOAT, .def = 0.2f, .lo = 0.0f, .hi = 1e6f},
    MU_HP_EPS_KEY(1e-7f),
    MU_HP_SPLIT_KEY,
};

static int rms_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *state, mu_param_t *p) {
    (void)ctx;
    (void)state;
    int64_t m, n;
    const int64_t nv = mu_param_views(p, (int32_t)s->hp[K_SPLIT], MU_VIEW_LOGICAL, &m, &n);
    const int64_t N = m * n;
    const double target = (double)s->hp[K_RHO] * sqrt((double)N);  // ‖U‖_F of RMS rho
    for (int64_t v = 0; v < nv; v++) mu_vec_set_norm(U + v * N, N, target, (double)s->hp[K_EPS]);
    return MU_OK;
}

const mu_transform_t mu_tr_rms_match = {
    .name = "rms_match", .keys = keys, .n_keys = 3, .update = rms_update, .check = mu_views_check_link,
};

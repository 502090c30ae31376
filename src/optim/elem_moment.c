/* elem_moment.c — `elem_moment(b2, eps)`: AdaMuon's element-wise second moment on the
 * orthogonalized direction (arXiv 2507.11005; Chongjie-Si/AdaMuon; optimizers-lmo.md §1, §7).
 *
 *   V <- b2·V + (1-b2)·U⊙U          V_0 = 0, no bias correction
 *   U' = U / (sqrt(V) + eps)
 *
 * First step: V = (1-b2)·U², so |U'| = 1/sqrt(1-b2) wherever |U| >> eps (rms_match after it
 * fixes the scale). U, V (numel).
 */
#include <math.h>

#include "base/util.h"
#include "optim/transform.h"

enum { K_B2 = 0, K_EPS = 1 };

static const mu_hp_desc_t keys[] = {
    MU_HP_BETA_KEY("b2", 0.95f),
    MU_HP_EPS_KEY(1e-8f),
};

static int em_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *V, mu_param_t *p) {
    (void)ctx;
    const float b2 = s->hp[K_B2], a2 = 1.0f - b2, eps = s->hp[K_EPS];
    const int64_t n = p->numel;
#pragma omp parallel for schedule(static) if (n >= MU_OPTIM_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        const float u = U[i], vi = b2 * V[i] + a2 * u * u;
        V[i] = vi;
        const float den = sqrtf(vi) + eps;
        U[i] = den > 0.0f ? u / den : 0.0f;
    }
    return MU_OK;
}

const mu_transform_t mu_tr_elem_moment = {
    .name = "elem_moment", .keys = keys, .n_keys = 2, .state_size = mu_state_numel, .update = em_update,
};

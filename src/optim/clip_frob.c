/* clip_frob.c — per-tensor Frobenius clipping (MARS, optimizers-lmo.md §3 (2)):
 *
 *   U' = U / max(1, ‖U‖_F / tau)        U (numel), whole tensor (not per view)
 *
 * When ‖U‖_F <= tau, U is left bitwise unchanged. The norm is a fixed-order double
 * sum (mu_dot_f64): the same for any thread count. No state.
 */
#include <math.h>

#include "base/util.h"
#include "optim/transform.h"

enum { K_TAU = 0 };

static const mu_hp_desc_t keys[] = {
    {.key = "tau", .type = MU_HP_FLOAT, .def = 1.0f, .lo = 1e-30f, .hi = 1e30f},
};

static int clip_frob_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *state, mu_param_t *p) {
    (void)ctx;
    (void)state;
    const int64_t n = p->numel;
    const double norm = sqrt(mu_dot_f64(U, U, n)), tau = s->hp[K_TAU];
    if (!(norm > tau)) return MU_OK;  // within the ball (or NaN: left for the loss check to see)
    mu_vec_scale(U, n, (float)(tau / norm));
    return MU_OK;
}

const mu_transform_t mu_tr_clip_frob = {
    .name = "clip_frob", .keys = keys, .n_keys = 1, .update = clip_frob_update,
};

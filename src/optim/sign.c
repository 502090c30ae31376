/* sign.c — element-wise sign: U' = sign(U), sign(0) = 0 (optimizers-lmo.md §0, §1).
 * Lion's and MARS-Lion's update direction; AdaMuon's pre-orth sign. U (numel), no state. */
#include "base/util.h"
#include "optim/transform.h"

static int sign_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *state, mu_param_t *p) {
    (void)s;
    (void)ctx;
    (void)state;
    mu_vec_sign(U, p->numel, 1.0f);
    return MU_OK;
}

const mu_transform_t mu_tr_sign = {
    .name = "sign", .update = sign_update,
};

/* apply.c — the step: W <- W - lr*U. W, U (numel); lr = the group's scheduled LR. */
#include <stdio.h>

#include "base/util.h"
#include "optim/transform.h"

static int apply_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *state, mu_param_t *p) {
    (void)s;
    (void)state;
    const float lr = ctx->lr;
    float *W = p->data;
    const int64_t n = p->numel;
#pragma omp parallel for schedule(static) if (n >= MU_OPTIM_PAR_MIN)
    for (int64_t i = 0; i < n; i++) W[i] -= lr * U[i];
    return MU_OK;
}

/* Prints the group's base LR: "apply(lr=0.001)". */
static int apply_describe(const mu_tstep_t *s, float lr, char *buf, size_t cap) {
    (void)s;
    snprintf(buf, cap, "apply(lr=%g)", (double)lr);
    return MU_OK;
}

const mu_transform_t mu_tr_apply = {
    .name = "apply", .update = apply_update, .describe = apply_describe,
};

/* decay.c — decoupled weight decay (Loshchilov & Hutter 2019), placed in the chain.
 *
 *   mode lr:    W <- (1 - lr*wd) W     placed before apply (AdamW, PyTorch order)
 *   mode post:  W <- W - lr*wd*W       placed after apply (decays the updated W)
 *   mode scion: W <- (1 - lr) W        Scion's constrained step (wd unused)
 *
 * lr is the group's scheduled LR (not any shape-scaled one). U is untouched.
 */
#include "base/util.h"
#include "optim/transform.h"

enum { K_WD = 0, K_MODE = 1 };
enum { MODE_LR = 0, MODE_POST = 1, MODE_SCION = 2 };

static const char *const mode_names[] = {"lr", "post", "scion", NULL};

static const mu_hp_desc_t keys[] = {
    {.key = "wd", .type = MU_HP_FLOAT, .def = 0.0f, .lo = 0.0f, .hi = 1e6f},
    {.key = "mode", .type = MU_HP_ENUM, .def = 0.0f, .lo = 0.0f, .hi = 2.0f, .structural = 1,
     .names = mode_names},
};

static int decay_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *state, mu_param_t *p) {
    (void)U;
    (void)state;
    const int mode = (int)s->hp[K_MODE];
    // multiplicative factor on W; the lr and post forms are the same map on their input
    const float f = mode == MODE_SCION ? 1.0f - ctx->lr : 1.0f - ctx->lr * s->hp[K_WD];
    if (f == 1.0f) return MU_OK;
    mu_vec_scale(p->data, p->numel, f);
    return MU_OK;
}

const mu_transform_t mu_tr_decay = {
    .name = "decay", .keys = keys, .n_keys = 2, .update = decay_update,
};

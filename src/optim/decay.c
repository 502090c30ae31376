/* decay.c — decoupled weight decay (Loshchilov & Hutter 2019), placed in the chain.
 *
 *   mode lr:    W <- (1 - r*wd) W      placed before apply (AdamW, PyTorch order)
 *   mode post:  W <- W - r*wd*W        placed after apply (decays the updated W)
 *   mode scion: W <- (1 - lr) W        Scion's constrained step (wd and wd_mode unused)
 *
 * with the rate r chosen by wd_mode (config wd_mode, `--wd-mode`; spec mup-and-muonpp.md §2):
 *   decoupled   (default) r = η_g, the member's scheduled LR (base x schedule x μP multiplier):
 *               PyTorch's convention; under μP+AdamW the hidden shrink follows η/m
 *   independent r = f = η_t/η_0, the schedule factor only: the shrink per step is f·λ whatever
 *               the LR's magnitude or its μP scaling (Loshchilov & Hutter's "normalized" form)
 * U is untouched.
 */
#include "base/util.h"
#include "optim/transform.h"

enum { K_WD = 0, K_MODE = 1, K_WD_MODE = 2 };
enum { MODE_LR = 0, MODE_POST = 1, MODE_SCION = 2 };

static const char *const mode_names[] = {"lr", "post", "scion", NULL};

static const mu_hp_desc_t keys[] = {
    {.key = "wd", .type = MU_HP_FLOAT, .def = 0.0f, .lo = 0.0f, .hi = 1e6f},
    {.key = "mode", .type = MU_HP_ENUM, .def = 0.0f, .lo = 0.0f, .hi = 2.0f, .structural = 1,
     .names = mode_names},
    /* quiet: decoupled checkpoints written before this key existed keep their signature */
    {.key = "wd_mode", .type = MU_HP_ENUM, .def = 0.0f, .lo = 0.0f, .hi = 1.0f, .structural = 1,
     .quiet_default = 1, .names = mu_wd_mode_names},
};

float mu_decay_factor(const mu_tstep_t *s, float lr, float lr_factor) {
    if ((int)s->hp[K_MODE] == MODE_SCION) return 1.0f - lr;  // Scion: W <- (1 - γ) W
    // decoupled: rate = the scheduled LR; independent: the schedule factor η_t/η_0 alone
    const float rate = (int)s->hp[K_WD_MODE] == MU_WD_INDEPENDENT ? lr_factor : lr;
    return 1.0f - rate * s->hp[K_WD];
}

static int decay_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *state, mu_param_t *p) {
    (void)U;
    (void)state;
    // multiplicative factor on W; the lr and post forms are the same map on their input
    const float f = mu_decay_factor(s, ctx->lr, ctx->lr_factor);
    if (f == 1.0f) return MU_OK;
    mu_vec_scale(p->data, p->numel, f);
    return MU_OK;
}

const mu_transform_t mu_tr_decay = {
    .name = "decay", .keys = keys, .n_keys = 3, .update = decay_update,
};

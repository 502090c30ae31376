/* layer_lr.c — `layer_lr(rule)`: a per-layer LR factor from a statistic of the whole group
 * (optimizers-lmo.md §1 `layer_lr`, §10). The group link of transform.h: the optimizer runs a
 * chain holding it in two passes (step.c), so the factor of step t uses every member's
 * statistic of step t.
 *
 * rule noise — our reconstruction of LANTON (arXiv 2510.14009, abstract only), §10:
 *   pass 1 (update):  n_l <- b2·n_l + (1 − b2)·D_l(G_l − M_l)²
 *                     D_l = the dual norm ⟨X, lmo(X)⟩ of X = G_l − M_l in the norm of the lmo link
 *                     that follows (lmo.h; the same kind/layout/tied_rho/split/orth keys, checked
 *                     at init); G_l the member's gradient, M_l this link's input (the momentum)
 *   reduce:           f_l = sqrt(min_j n_j / n_l),  j over the members measured in the same oracle
 *                     (a tied table takes the sign rule while wpe takes colnorm: not comparable);
 *                     members with n = 0 (no gradient noise yet) are left out and get f = 1
 *   lr_scale:         η_l = η · f_l for the links after it (lmo, decay, apply): the noisiest layers
 *                     of a group get the smallest LR, the least noisy one the full LR
 * No bias correction: n_j and n_l share t, so the ratio does not need it.
 * State: [n_l, f_l] per member (f_l = 1 until the first reduce). Scratch: 2·numel + the oracle's
 * workspace. U passes through unchanged (its pass-1 output is not used).
 */
#include <math.h>
#include <stdio.h>

#include "base/util.h"
#include "optim/lmo.h"

enum { K_RULE = 0, K_B2, K_KIND, K_LAYOUT, K_TIED_RHO, K_SPLIT, K_ORTH };
enum { RULE_NOISE = 0 };
enum { S_N = 0, S_F = 1 };

static const char *const rule_names[] = {"noise", NULL};

static const mu_hp_desc_t keys[] = {
    {.key = "rule", .type = MU_HP_ENUM, .def = 0.0f, .lo = 0.0f, .hi = 0.0f, .structural = 1, .names = rule_names},
    MU_HP_BETA_KEY("b2", 0.99f),
    MU_LMO_KIND_KEY,
    MU_LMO_LAYOUT_KEY,
    MU_LMO_TIED_RHO_KEY,
    MU_HP_SPLIT_KEY,
    MU_LMO_ORTH_KEY,
};

static size_t ll_state(const mu_tstep_t *s, const mu_param_t *p) {
    (void)s, (void)p;
    return 2;
}

static void ll_init(const mu_tstep_t *s, float *state, const mu_param_t *p) {
    (void)s, (void)p;
    state[S_F] = 1.0f;  // full LR until the first reduce
}

static size_t ll_scratch(const mu_tstep_t *s, const mu_param_t *p) {
    const mu_lmo_norm_t nm = mu_lmo_norm_of(s);
    return 2 * (size_t)p->numel + mu_lmo_ws_floats(&nm, p);
}

static int ll_check(const mu_tstep_t *s, const mu_param_t *p, const mu_gemm_ctx_t *gemm, const char *who) {
    const mu_lmo_norm_t nm = mu_lmo_norm_of(s);
    return mu_lmo_check(&nm, p, gemm, who);
}

/* The noise is measured in the norm of the lmo link right after this one. */
static int ll_check_chain(const mu_tstep_t *links, int32_t n, int32_t i, const char *who) {
    if (i + 1 >= n || links[i + 1].tr != &mu_tr_lmo)
        return mu_set_error(MU_EINVAL, "%s: layer_lr measures in the norm of an lmo link, which must follow it", who);
    const mu_lmo_norm_t a = mu_lmo_norm_of(&links[i]), b = mu_lmo_norm_of(&links[i + 1]);
    if (!mu_lmo_norm_equal(&a, &b))
        return mu_set_error(MU_EINVAL,
                            "%s: layer_lr (kind=%s, layout=%s, tied=%d, split=%s, orth=%s) and the lmo after it "
                            "(kind=%s, layout=%s, tied=%d, split=%s, orth=%s) must measure in the same norm: set "
                            "the key on both links",
                            who, mu_lmo_kind_names[a.kind], mu_lmo_layout_names[a.layout], a.tied_head,
                            mu_split_names[a.split], mu_lmo_orth_names[a.orth], mu_lmo_kind_names[b.kind],
                            mu_lmo_layout_names[b.layout], b.tied_head, mu_split_names[b.split],
                            mu_lmo_orth_names[b.orth]);
    return MU_OK;
}

/* pass 1: the member's noise statistic; U unchanged */
static int ll_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *state, mu_param_t *p) {
    const mu_lmo_norm_t nm = mu_lmo_norm_of(s);
    const int64_t N = p->numel;
    float *X = ctx->scratch, *tmp = X + N, *ws = tmp + N;
#pragma omp parallel for schedule(static) if (N >= MU_OPTIM_PAR_MIN)
    for (int64_t i = 0; i < N; i++) X[i] = p->grad[i] - U[i];  // G − M
    double d;
    MU_TRY(mu_lmo_dual(&nm, ctx, X, p, tmp, ws, &d));
    const double b2 = s->hp[K_B2];
    state[S_N] = (float)(b2 * state[S_N] + (1.0 - b2) * d * d);
    return MU_OK;
}

static int ll_reduce(const mu_tstep_t *s, float *const *states, const mu_param_t *const *ps, int32_t n) {
    const mu_lmo_norm_t nm = mu_lmo_norm_of(s);
    for (int32_t l = 0; l < n; l++) {
        const int kind = mu_lmo_kind_for(&nm, ps[l]);
        const double nl = states[l][S_N];
        double mn = INFINITY;
        for (int32_t j = 0; j < n; j++)  // min over the members of the same oracle with an estimate
            if (mu_lmo_kind_for(&nm, ps[j]) == kind && states[j][S_N] > 0 && states[j][S_N] < mn) mn = states[j][S_N];
        states[l][S_F] = nl > 0 ? (float)sqrt(mn / nl) : 1.0f;  // f_l = sqrt(min_j n_j / n_l)
    }
    return MU_OK;
}

static float ll_lr_scale(const mu_tstep_t *s, const float *state, const mu_param_t *p) {
    (void)s, (void)p;
    return state[S_F];
}

static int ll_describe(const mu_tstep_t *s, float lr, char *buf, size_t cap) {
    (void)lr;
    snprintf(buf, cap, "layer_lr(rule=%s,b2=%g)", rule_names[(int)s->hp[K_RULE]], (double)s->hp[K_B2]);
    return MU_OK;
}

const mu_transform_t mu_tr_layer_lr = {
    .name = "layer_lr", .keys = keys, .n_keys = 7, .state_size = ll_state, .scratch_size = ll_scratch,
    .init = ll_init, .update = ll_update, .describe = ll_describe, .check = ll_check,
    .check_chain = ll_check_chain, .reduce = ll_reduce, .lr_scale = ll_lr_scale,
};

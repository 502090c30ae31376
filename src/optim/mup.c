/* mup.c — μP per-group LR scaling (spec mup-and-muonpp.md §2), applied at mu_optim_init.
 *
 * Each member of a group gets an LR multiplier from its role and the group's family, with
 * m = width_mult = d_model / base_width:
 *
 *   role      Adam-like (adam, sign, ...)   SGD (momentum only)   orthogonalized / LMO
 *   embed     1                             m                     1
 *   hidden    1/m                           1                     1  (update scaled by s in the chain)
 *   head      1 (the α_out/m multiplier)    1/m                   1
 *   gain/bias 1                             m                     1
 *
 * The group's family comes from its chain: any orthogonalizing or norm-constrained link
 * (orth, lmo, spectral_renorm, shape_scale, cosmos) makes it ORTH, else an entry-wise
 * normalising link (adam, sign, elem_moment, row_moment, conda) makes it ADAM, else SGD.
 * Decoupled weight decay uses the same scaled LR (W <- (1 - η_g λ) W, PyTorch convention),
 * so under μP+AdamW the hidden shrink follows η/m; wd_mode independent (decay.c) uses the
 * schedule factor alone and ignores these multipliers. A tied wte/head takes the embed row. */
#include <math.h>

#include "base/util.h"
#include "optim/optim_impl.h"

float mu_mup_lr_mult(int32_t family, int32_t role, float m) {
    if (!(m > 0.0f) || !isfinite(m)) return 1.0f;
    switch (family) {
    case MU_MUP_FAMILY_ADAM: return role == MU_ROLE_HIDDEN ? 1.0f / m : 1.0f;
    case MU_MUP_FAMILY_SGD:
        if (role == MU_ROLE_HIDDEN) return 1.0f;
        if (role == MU_ROLE_HEAD) return 1.0f / m;
        return m;  // embed, gain, bias: vector-like
    default: return 1.0f;
    }
}

int32_t mu_mup_group_family(const mu_group_t *G) {
    const mu_transform_t *orth[] = {&mu_tr_orth, &mu_tr_lmo, &mu_tr_spectral_renorm, &mu_tr_shape_scale,
                                    &mu_tr_subspace_cosmos, &mu_tr_row_normalize, &mu_tr_nuclear_scale};
    const mu_transform_t *adam[] = {&mu_tr_adam, &mu_tr_sign, &mu_tr_elem_moment, &mu_tr_row_moment,
                                    &mu_tr_subspace_conda};
    int32_t fam = MU_MUP_FAMILY_SGD;
    for (int32_t i = 0; i < G->n_links; i++) {
        for (size_t k = 0; k < sizeof orth / sizeof orth[0]; k++)
            if (G->links[i].tr == orth[k]) return MU_MUP_FAMILY_ORTH;
        for (size_t k = 0; k < sizeof adam / sizeof adam[0]; k++)
            if (G->links[i].tr == adam[k]) fam = MU_MUP_FAMILY_ADAM;
    }
    return fam;
}

int mu_mup_apply(mu_group_t *groups, int32_t n_groups, const mu_param_t *params, const mu_optim_config_t *cfg) {
    if (cfg->param != 1) return MU_OK;  // SP: no multipliers at all (bit-identical steps)
    for (int32_t g = 0; g < n_groups; g++) {
        mu_group_t *G = &groups[g];
        free(G->lr_mult);
        G->lr_mult = malloc(sizeof(float) * (size_t)(G->n_members > 0 ? G->n_members : 1));
        if (!G->lr_mult) return mu_set_error(MU_ENOMEM, "optim: out of memory for μP multipliers of '%s'", G->name);
        int32_t fam = mu_mup_group_family(G);
        for (int32_t j = 0; j < G->n_members; j++)
            G->lr_mult[j] = mu_mup_lr_mult(fam, (int32_t)params[G->members[j]].role, cfg->width_mult);
    }
    return MU_OK;
}

float mu_optim_param_lr_mult(const mu_optim_t *o, int32_t index) {
    if (!o) return 1.0f;
    for (int32_t g = 0; g < o->n_groups; g++) {
        const mu_group_t *G = &o->groups[g];
        for (int32_t j = 0; j < G->n_members; j++)
            if (G->members[j] == index) return G->lr_mult ? G->lr_mult[j] : 1.0f;
    }
    return 1.0f;
}

/* group.c — parameter groups: select registry records by role (and weight-decay
 * eligibility) and build each group's concrete chain from the preset row. */
#include <math.h>
#include <stdio.h>

#include "base/util.h"
#include "optim/optim_impl.h"

/* Local copy of the role names so the optimizer does not depend on the model layer. */
const char *mu_role_str(int32_t role) {
    static const char *const names[] = {"embed", "hidden", "head", "gain", "bias"};
    return role >= 0 && role <= MU_ROLE_BIAS ? names[role] : "invalid";
}

/* Which records take weight decay (nanoGPT: every 2-D tensor; gains/biases never). */
int mu_param_decayed(const mu_param_t *p, const mu_optim_config_t *cfg) {
    switch (p->role) {
    case MU_ROLE_HIDDEN:
    case MU_ROLE_HEAD: return 1;
    case MU_ROLE_EMBED: return cfg->decay_embed != 0;
    case MU_ROLE_GAIN:
    case MU_ROLE_BIAS: return cfg->decay_gains != 0;
    default: return 0;
    }
}

int mu_group_matches(const mu_group_spec_t *gs, const mu_param_t *p, const mu_optim_config_t *cfg) {
    int32_t r = (int32_t)p->role;
    if (r < 0 || r > MU_ROLE_BIAS) return 0;  // an invalid role matches nothing
    if (!(gs->roles & MU_ROLEBIT(r))) return 0;
    if (gs->decay == MU_SEL_DECAYED) return mu_param_decayed(p, cfg);
    if (gs->decay == MU_SEL_UNDECAYED) return !mu_param_decayed(p, cfg);
    return 1;
}

float mu_src_value(mu_src_t src, const mu_optim_config_t *cfg, const mu_preset_t *pr) {
    switch (src) {
    case MU_SRC_LR: return cfg->lr;
    case MU_SRC_AUX_LR:
        if (cfg->aux_lr > 0) return cfg->aux_lr;
        return pr->aux_lr > 0 ? pr->aux_lr : cfg->lr;
    case MU_SRC_WD: return cfg->weight_decay;
    case MU_SRC_BETA1: return cfg->beta1;
    case MU_SRC_BETA2: return cfg->beta2;
    case MU_SRC_EPS: return cfg->eps;
    case MU_SRC_MOMENTUM: return cfg->momentum;
    case MU_SRC_NESTEROV: return (float)cfg->nesterov;
    case MU_SRC_QKV_SPLIT: return (float)cfg->qkv_split;
    case MU_SRC_ORTH_KIND: return cfg->orth_kind >= 0 ? (float)cfg->orth_kind : NAN;
    case MU_SRC_ORTH_STEPS: return cfg->orth_steps > 0 ? (float)cfg->orth_steps : NAN;
    case MU_SRC_ORTH_PREC: return (float)cfg->orth_prec;
    case MU_SRC_SCALE: return cfg->scale_mode >= 0 ? (float)cfg->scale_mode : NAN;
    case MU_SRC_POWER_ITERS: return cfg->power_iters > 0 ? (float)cfg->power_iters : NAN;
    case MU_SRC_ADAPTIVE: return (float)cfg->adaptive;
    case MU_SRC_KAPPA: return cfg->kappa > 0 ? cfg->kappa : NAN;
    case MU_SRC_WD_MODE: return (float)cfg->wd_mode;
    default: return 0.0f;
    }
}

/* Concrete chain of one group: defaults of each transform, then the row's bindings. */
static int build_chain(mu_group_t *g, const mu_group_spec_t *gs, const mu_preset_t *pr,
                       const mu_optim_config_t *cfg) {
    g->n_links = 0;
    for (int i = 0; i < MU_CHAIN_MAX && gs->chain[i].tr; i++) {
        const mu_link_spec_t *ls = &gs->chain[i];
        mu_tstep_t *s = &g->links[g->n_links++];
        mu_tstep_defaults(s, ls->tr);
        char ctx[96];
        snprintf(ctx, sizeof ctx, "optim preset '%s': %s.%s", pr->name, gs->name, ls->tr->name);
        for (int k = 0; k < MU_TR_MAX_KEYS && ls->bind[k].key; k++) {
            const mu_bind_t *b = &ls->bind[k];
            float v = b->src == MU_SRC_CONST ? b->value : mu_src_value(b->src, cfg, pr);
            if (isnan(v)) v = b->value;  // config field unset: the preset's value
            MU_TRY(mu_tstep_set(s, b->key, v, ctx));
        }
    }
    return MU_OK;
}

int mu_groups_build(mu_group_t *groups, const mu_preset_t *pr, const mu_optim_config_t *cfg,
                    const mu_param_t *params, int32_t n_params) {
    int32_t ng = 0;
    while (ng < MU_PRESET_MAX_GROUPS && pr->groups[ng].name) ng++;
    // which group takes each record (first match wins)
    int32_t *owner = malloc(sizeof(int32_t) * (size_t)(n_params > 0 ? n_params : 1));
    if (!owner) return mu_set_error(MU_ENOMEM, "optim: out of memory for %d group owners", n_params);
    int rc = MU_OK;
    for (int32_t i = 0; i < n_params; i++) {
        owner[i] = -1;
        for (int32_t g = 0; g < ng && owner[i] < 0; g++)
            if (mu_group_matches(&pr->groups[g], &params[i], cfg)) owner[i] = g;
        if (owner[i] < 0) {
            rc = mu_set_error(MU_EINVAL,
                              "optim preset '%s': parameter '%s' (role %d = %s) belongs to no group",
                              pr->name, params[i].name, (int)params[i].role,
                              mu_role_str((int32_t)params[i].role));
            goto done;
        }
    }
    for (int32_t g = 0; g < ng; g++) {
        const mu_group_spec_t *gs = &pr->groups[g];
        mu_group_t *G = &groups[g];
        snprintf(G->name, sizeof G->name, "%s", gs->name);
        float base = mu_src_value(gs->lr_src, cfg, pr);
        G->lr = base * gs->lr_mult;
        if ((rc = build_chain(G, gs, pr, cfg)) < 0) goto done;
        int32_t cnt = 0;
        for (int32_t i = 0; i < n_params; i++) cnt += owner[i] == g;
        G->n_members = cnt;
        G->members = malloc(sizeof(int32_t) * (size_t)(cnt > 0 ? cnt : 1));
        G->state_off = malloc(sizeof(size_t) * (size_t)(cnt > 0 ? cnt : 1));
        if (!G->members || !G->state_off) {
            rc = mu_set_error(MU_ENOMEM, "optim: out of memory for group '%s'", gs->name);
            goto done;
        }
        cnt = 0;
        for (int32_t i = 0; i < n_params; i++)
            if (owner[i] == g) G->members[cnt++] = i;
    }
done:
    free(owner);
    return rc;
}

void mu_groups_free(mu_group_t *groups, int32_t n_groups) {
    for (int32_t g = 0; g < n_groups; g++) {
        free(groups[g].members);
        free(groups[g].state_off);
        free(groups[g].lr_mult);
        groups[g].lr_mult = NULL;
        groups[g].members = NULL;
        groups[g].state_off = NULL;
    }
}

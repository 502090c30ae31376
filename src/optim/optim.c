/* optim.c — the optimizer object: config defaults and checks, groups, the state
 * arena (one allocation sized by the chains' state sizes), the step, describe.
 *
 * Arena layout: group by group, member by member (registry order), and for each
 * member its links' states in chain order. mu_optim_step copies each gradient
 * into the working buffer U and runs the group's chain on it.
 */
#include <math.h>
#include <stdio.h>

#include "base/util.h"
#include "optim/optim_impl.h"
#include "optim/probe.h"

mu_optim_config_t mu_optim_config_default(void) {
    mu_optim_config_t c = {
        .preset = "adamw",
        .lr = 1e-3f,
        .aux_lr = 0.0f,
        .weight_decay = 0.1f,
        .wd_mode = MU_WD_DECOUPLED,
        .beta1 = 0.9f,
        .beta2 = 0.95f,
        .eps = 1e-8f,
        .momentum = 0.9f,
        .nesterov = 0,
        .decay_gains = 0,
        .decay_embed = 1,
        .qkv_split = MU_QKV_SPLIT,
        .orth_kind = -1,
        .orth_steps = 0,
        .orth_prec = MU_PREC_F32,
        .scale_mode = -1,
        .power_iters = 0,
        .adaptive = 0,
        .kappa = 0.0f,
        .param = 0,
        .width_mult = 1.0f,
    };
    return c;
}

/* Index of s in a NULL-terminated name list, or MU_EINVAL listing the names. */
static int parse_name(const char *s, const char *const *names, const char *what, int32_t *out) {
    MU_REQUIRE(out, "%s: out is NULL", what);
    char valid[128] = "";
    size_t len = 0;
    for (int32_t i = 0; names[i]; i++) {
        if (s && strcmp(s, names[i]) == 0) {
            *out = i;
            return MU_OK;
        }
        len = mu_str_append(valid, sizeof valid, len, "%s%s", i ? ", " : "", names[i]);
    }
    return mu_set_error(MU_EINVAL, "%s '%s': unknown (valid: %s)", what, s ? s : "(null)", valid);
}

int mu_optim_qkv_split_parse(const char *s, int32_t *out) {
    return parse_name(s, mu_split_names, "optim.qkv_split", out);
}

int mu_optim_scale_parse(const char *s, int32_t *out) {
    static const char *const names[] = {"keller", "moonlight", "spectral", "none", "pion", NULL};
    return parse_name(s, names, "optim.scale_mode", out);
}

const char *const mu_wd_mode_names[] = {"decoupled", "independent", NULL};

int mu_optim_wd_mode_parse(const char *s, int32_t *out) { return parse_name(s, mu_wd_mode_names, "optim.wd_mode", out); }

const char *mu_optim_wd_mode_name(int32_t mode) {
    return mode >= MU_WD_DECOUPLED && mode <= MU_WD_INDEPENDENT ? mu_wd_mode_names[mode] : "invalid";
}

int mu_optim_presets(char *buf, size_t cap) { return mu_preset_list(buf, cap); }

int mu_optim_config_for_preset(const char *preset, mu_optim_config_t *out) {
    MU_REQUIRE(out, "mu_optim_config_for_preset: out is NULL");
    const mu_preset_t *pr = mu_preset_find(preset);
    if (!pr) {
        char names[2048];
        mu_preset_list(names, sizeof names);
        return mu_set_error(MU_EINVAL, "optim.preset '%s': unknown preset (valid: %s)", preset ? preset : "(null)",
                            names);
    }
    mu_optim_config_t c = mu_optim_config_default();
    c.preset = pr->name;  // static storage
    for (int i = 0; i < MU_PRESET_MAX_DEFAULTS && pr->defaults[i].field != MU_SRC_CONST; i++) {
        const float v = pr->defaults[i].value;
        switch (pr->defaults[i].field) {
        case MU_SRC_LR: c.lr = v; break;
        case MU_SRC_AUX_LR: c.aux_lr = v; break;
        case MU_SRC_WD: c.weight_decay = v; break;
        case MU_SRC_BETA1: c.beta1 = v; break;
        case MU_SRC_BETA2: c.beta2 = v; break;
        case MU_SRC_EPS: c.eps = v; break;
        case MU_SRC_MOMENTUM: c.momentum = v; break;
        case MU_SRC_NESTEROV: c.nesterov = (int32_t)v; break;
        case MU_SRC_QKV_SPLIT: c.qkv_split = (int32_t)v; break;
        case MU_SRC_ORTH_KIND: c.orth_kind = (int32_t)v; break;
        case MU_SRC_ORTH_STEPS: c.orth_steps = (int32_t)v; break;
        case MU_SRC_ORTH_PREC: c.orth_prec = (int32_t)v; break;
        case MU_SRC_SCALE: c.scale_mode = (int32_t)v; break;
        case MU_SRC_POWER_ITERS: c.power_iters = (int32_t)v; break;
        case MU_SRC_ADAPTIVE: c.adaptive = (int32_t)v; break;
        case MU_SRC_KAPPA: c.kappa = v; break;
        case MU_SRC_WD_MODE: c.wd_mode = (int32_t)v; break;
        default: break;
        }
    }
    *out = c;
    return MU_OK;
}

/* Field checks with the config's own names (transform checks come after). */
static int check_config(const mu_optim_config_t *c) {
    MU_REQUIRE(isfinite(c->lr) && c->lr > 0, "optim.lr = %g: must be finite and > 0", (double)c->lr);
    MU_REQUIRE(isfinite(c->aux_lr), "optim.aux_lr = %g: must be finite", (double)c->aux_lr);
    MU_REQUIRE(isfinite(c->weight_decay) && c->weight_decay >= 0,
               "optim.weight_decay = %g: must be finite and >= 0", (double)c->weight_decay);
    MU_REQUIRE(c->wd_mode == MU_WD_DECOUPLED || c->wd_mode == MU_WD_INDEPENDENT,
               "optim.wd_mode = %d: must be 0 (decoupled) or 1 (independent)", c->wd_mode);
    MU_REQUIRE(c->beta1 >= 0 && c->beta1 < 1, "optim.beta1 = %g: must be in [0, 1)", (double)c->beta1);
    MU_REQUIRE(c->beta2 >= 0 && c->beta2 < 1, "optim.beta2 = %g: must be in [0, 1)", (double)c->beta2);
    MU_REQUIRE(isfinite(c->eps) && c->eps >= 0, "optim.eps = %g: must be finite and >= 0", (double)c->eps);
    MU_REQUIRE(c->momentum >= 0 && c->momentum < 1, "optim.momentum = %g: must be in [0, 1)",
               (double)c->momentum);
    MU_REQUIRE(c->nesterov == 0 || c->nesterov == 1, "optim.nesterov = %d: must be 0 or 1", c->nesterov);
    MU_REQUIRE(c->decay_gains == 0 || c->decay_gains == 1, "optim.decay_gains = %d: must be 0 or 1",
               c->decay_gains);
    MU_REQUIRE(c->decay_embed == 0 || c->decay_embed == 1, "optim.decay_embed = %d: must be 0 or 1",
               c->decay_embed);
    MU_REQUIRE(c->qkv_split >= MU_QKV_FUSED && c->qkv_split <= MU_QKV_HEAD,
               "optim.qkv_split = %d: must be 0 (fused), 1 (qkv) or 2 (head)", c->qkv_split);
    MU_REQUIRE(c->orth_kind >= -1 && c->orth_kind <= 4,
               "optim.orth_kind = %d: must be -1 (preset) or 0..4 (ns5, pe, cubic, quintic, exact)", c->orth_kind);
    MU_REQUIRE(c->orth_steps >= 0 && c->orth_steps <= 100, "optim.orth_steps = %d: must be in [0, 100] (0: preset)",
               c->orth_steps);
    MU_REQUIRE(c->orth_prec == MU_PREC_F32 || c->orth_prec == MU_PREC_BF16,
               "optim.orth_prec = %d: must be 0 (f32) or 1 (bf16)", c->orth_prec);
    MU_REQUIRE(c->scale_mode >= -1 && c->scale_mode <= MU_SCALE_PION,
               "optim.scale_mode = %d: must be -1 (preset) or 0..4 (keller, moonlight, spectral, none, pion)",
               c->scale_mode);
    MU_REQUIRE(c->power_iters >= 0 && c->power_iters <= 10000,
               "optim.power_iters = %d: must be in [0, 10000] (0: preset)", c->power_iters);
    MU_REQUIRE(c->adaptive == 0 || c->adaptive == 1, "optim.adaptive = %d: must be 0 or 1", c->adaptive);
    MU_REQUIRE(c->param == 0 || c->param == 1, "optim.param = %d: must be 0 (sp) or 1 (mup)", c->param);
    MU_REQUIRE(c->momentum_in_grad == 0 || c->momentum_in_grad == 1, "optim.momentum_in_grad = %d: must be 0 or 1",
               c->momentum_in_grad);
    MU_REQUIRE(c->param == 0 || (isfinite(c->width_mult) && c->width_mult > 0),
               "optim.width_mult = %g: must be finite and > 0 (d_model / base_width)", (double)c->width_mult);
    MU_REQUIRE(isfinite(c->kappa) && c->kappa >= 0, "optim.kappa = %g: must be finite and >= 0 (0: preset)",
               (double)c->kappa);
    return MU_OK;
}

static int check_params(const mu_param_t *params, int32_t n) {
    for (int32_t i = 0; i < n; i++) {
        const mu_param_t *p = &params[i];
        MU_REQUIRE(p->data && p->grad, "optim: parameter '%s' has no data or grad buffer", p->name);
        MU_REQUIRE(p->numel > 0 && p->numel == p->shape[0] * (p->ndim == 2 ? p->shape[1] : 1),
                   "optim: parameter '%s': numel %lld does not match its shape", p->name,
                   (long long)p->numel);
    }
    return MU_OK;
}

/* The links' `prime` hooks, once per member, after the state exists (Scion boundary init). */
static int prime_weights(mu_optim_t *o) {
    mu_tctx_t ctx = {.t = 0, .lr_factor = 1.0f, .scratch = o->scratch, .scratch_floats = o->scratch_floats,
                     .gemm = o->gemm};
    for (int32_t g = 0; g < o->n_groups; g++) {
        const mu_group_t *G = &o->groups[g];
        for (int32_t i = 0; i < G->n_links; i++) {
            const mu_tstep_t *s = &G->links[i];
            if (!s->tr->prime || mu_chain_fused(G->links, G->n_links, i)) continue;
            for (int32_t j = 0; j < G->n_members; j++) {
                ctx.lr = G->lr_mult ? G->lr * G->lr_mult[j] : G->lr;
                MU_TRY(s->tr->prime(s, &ctx, &o->params[G->members[j]]));
            }
        }
    }
    return MU_OK;
}

/* Batched chains (step.c runs them window by window): the window buffer holds members' U back
 * to back, up to MU_BATCH_FLOATS unless one member alone is larger; the batched link's scratch
 * for all of a group's members at once is granted up to the same cap (it chunks to fit). */
#define MU_BATCH_FLOATS ((size_t)16 << 20) /* 64 MiB */
static int batch_layout(mu_optim_t *o, mu_param_t *params, size_t *max_scratch) {
    size_t window = 0;
    int32_t members = 0;
    for (int32_t g = 0; g < o->n_groups; g++) {
        const mu_group_t *G = &o->groups[g];
        const int32_t bl = mu_chain_batch_link(G->links, G->n_links);
        if (bl < 0 || G->n_members == 0) continue;
        const mu_param_t **ps = calloc((size_t)G->n_members, sizeof *ps);
        if (!ps) return mu_set_error(MU_ENOMEM, "optim: out of memory");
        size_t total = 0, big = 0;
        for (int32_t j = 0; j < G->n_members; j++) {
            ps[j] = &params[G->members[j]];
            total += (size_t)ps[j]->numel;
            if ((size_t)ps[j]->numel > big) big = (size_t)ps[j]->numel;
        }
        size_t want = total < MU_BATCH_FLOATS ? total : MU_BATCH_FLOATS;
        if (want < big) want = big;
        if (want > window) window = want;
        if (G->n_members > members) members = G->n_members;
        const mu_tstep_t *s = &G->links[bl];
        size_t sc = s->tr->batch_scratch_size ? s->tr->batch_scratch_size(s, ps, G->n_members) : 0;
        free(ps);
        if (sc > MU_BATCH_FLOATS) sc = MU_BATCH_FLOATS;
        if (sc > *max_scratch) *max_scratch = sc;
    }
    if (!window) return MU_OK;
    o->ubatch = mu_alloc(window * sizeof(float));
    o->bU = calloc((size_t)members, sizeof *o->bU);
    o->bparams = calloc((size_t)members, sizeof *o->bparams);
    o->bctx = calloc((size_t)members, sizeof *o->bctx);
    if (!o->ubatch || !o->bU || !o->bparams || !o->bctx)
        return mu_set_error(MU_ENOMEM, "optim: out of memory for a %zu-float batch window", window);
    o->ubatch_floats = window;
    return MU_OK;
}

static int optim_setup(mu_optim_t *o, const mu_optim_config_t *cfg, mu_param_t *params, int32_t n_params) {
    MU_TRY(check_config(cfg));
    MU_TRY(check_params(params, n_params));
    const mu_preset_t *pr = mu_preset_find(cfg->preset);
    if (!pr) {
        char names[2048];
        mu_preset_list(names, sizeof names);
        return mu_set_error(MU_EINVAL, "optim.preset '%s': unknown preset (valid: %s)",
                            cfg->preset ? cfg->preset : "(null)", names);
    }
    o->preset = pr;
    snprintf(o->preset_name, sizeof o->preset_name, "%s", pr->name);
    o->cfg.preset = o->preset_name;  // the copy owns its name
    while (o->n_groups < MU_PRESET_MAX_GROUPS && pr->groups[o->n_groups].name) o->n_groups++;
    MU_TRY(mu_groups_build(o->groups, pr, cfg, params, n_params));
    MU_TRY(mu_optim_apply_config_hparams(o, cfg));  // --opt overrides, before checks and layout
    if (cfg->momentum_in_grad) MU_TRY(mu_grad_carry_setup(o));  // drops the ema links: after --opt
    MU_TRY(mu_mup_apply(o->groups, o->n_groups, params, cfg));  // μP per-member LR multipliers
    o->cfg.hparams = NULL;  // borrowed during init only
    o->cfg.n_hparams = 0;
    // every link may refuse a member (a 1-D tensor routed to orth, bf16 without hardware)
    int32_t max_group = 0;  // members of the largest group with a group link (step.c)
    for (int32_t g = 0; g < o->n_groups; g++) {
        const mu_group_t *G = &o->groups[g];
        char chain_who[128];
        snprintf(chain_who, sizeof chain_who, "optim preset '%s': %s", pr->name, G->name);
        MU_TRY(mu_chain_check(G->links, G->n_links, chain_who));  // fusion, group link, replay
        if (mu_chain_group_link(G->links, G->n_links) >= 0 && G->n_members > max_group) max_group = G->n_members;
        for (int32_t i = 0; i < G->n_links; i++) {
            const mu_tstep_t *s = &G->links[i];
            if (!s->tr->check || mu_chain_fused(G->links, G->n_links, i)) continue;
            char who[128];
            snprintf(who, sizeof who, "optim preset '%s': %s.%s", pr->name, G->name, s->tr->name);
            for (int32_t j = 0; j < G->n_members; j++) MU_TRY(s->tr->check(s, &params[G->members[j]], o->gemm, who));
        }
    }

    // lay out the state arena; size U and scratch by the largest tensor
    size_t off = 0, max_numel = 1, max_scratch = 0;
    for (int32_t g = 0; g < o->n_groups; g++) {
        mu_group_t *G = &o->groups[g];
        for (int32_t j = 0; j < G->n_members; j++) {
            const mu_param_t *p = &params[G->members[j]];
            G->state_off[j] = off;
            off += mu_chain_state_size(G->links, G->n_links, p);
            size_t sc = mu_chain_scratch_size(G->links, G->n_links, p);
            if (sc > max_scratch) max_scratch = sc;
            if ((size_t)p->numel > max_numel) max_numel = (size_t)p->numel;
        }
    }
    MU_TRY(batch_layout(o, params, &max_scratch));
    o->state_floats = off;
    o->state = mu_alloc(off * sizeof(float));
    o->U = mu_alloc(max_numel * sizeof(float));
    if (max_scratch) o->scratch = mu_alloc(max_scratch * sizeof(float));
    o->scratch_floats = max_scratch;
    if (max_group) {
        o->gstates = calloc((size_t)max_group, sizeof *o->gstates);
        o->gparams = calloc((size_t)max_group, sizeof *o->gparams);
    }
    if (!o->state || !o->U || (max_scratch && !o->scratch) || (max_group && (!o->gstates || !o->gparams)))
        return mu_set_error(MU_ENOMEM, "optim: out of memory for %zu floats of optimizer state", off);
    for (int32_t g = 0; g < o->n_groups; g++) {
        mu_group_t *G = &o->groups[g];
        for (int32_t j = 0; j < G->n_members; j++)
            mu_chain_init(G->links, G->n_links, o->state + G->state_off[j], &params[G->members[j]]);
    }
    return prime_weights(o);
}

int mu_optim_init(mu_optim_t **out, const mu_optim_config_t *cfg, mu_param_t *params, int32_t n_params,
                  mu_gemm_ctx_t *gemm) {
    MU_REQUIRE(out && cfg, "mu_optim_init: out and cfg must not be NULL");
    *out = NULL;
    MU_REQUIRE(n_params >= 0 && (params || n_params == 0), "mu_optim_init: bad parameter array (n = %d)",
               n_params);
    mu_optim_t *o = calloc(1, sizeof *o);
    if (!o) return mu_set_error(MU_ENOMEM, "optim: out of memory");
    o->cfg = *cfg;
    o->params = params;
    o->n_params = n_params;
    o->gemm = gemm;
    int rc = optim_setup(o, cfg, params, n_params);
    if (rc < 0) {
        mu_optim_free(o);
        return rc;
    }
    *out = o;
    return MU_OK;
}

void mu_optim_free(mu_optim_t *o) {
    if (!o) return;
    mu_groups_free(o->groups, o->n_groups);
    free(o->state);
    free(o->U);
    free(o->scratch);
    free(o->gstates);
    free(o->gparams);
    free(o->ubatch);
    free(o->bU);
    free(o->bparams);
    free(o->bctx);
    mu_probe_free(o->probe);
    free(o);
}

int64_t mu_optim_steps_done(const mu_optim_t *o) { return o ? o->steps : 0; }

int mu_optim_describe(const mu_optim_t *o, char *buf, size_t cap) {
    MU_REQUIRE(o && buf && cap > 0, "mu_optim_describe: NULL optimizer or empty buffer");
    size_t len = 0;
    buf[0] = 0;
    for (int32_t g = 0; g < o->n_groups; g++) {
        const mu_group_t *G = &o->groups[g];
        char chain[1024];
        mu_chain_describe(G->links, G->n_links, G->lr, chain, sizeof chain);
        char carry[64] = "";
        if (G->grad_carry)
            snprintf(carry, sizeof carry, "grad_ema(beta=%g, in the gradients) -> ", (double)G->grad_beta);
        len = mu_str_append(buf, cap, len, "%s%s[%d]: %s%s", g ? "\n" : "", G->name, G->n_members, carry, chain);
        if (G->lr_mult) {  // μP: the LR multiplier of each role present ("mup(hidden=0.25)")
            len = mu_str_append(buf, cap, len, " -> mup(");
            int first = 1;
            for (int32_t r = 0; r <= MU_ROLE_BIAS; r++)
                for (int32_t j = 0; j < G->n_members; j++)
                    if ((int32_t)o->params[G->members[j]].role == r) {
                        len = mu_str_append(buf, cap, len, "%s%s=%g", first ? "" : ",", mu_role_str(r),
                                            (double)G->lr_mult[j]);
                        first = 0;
                        break;
                    }
            len = mu_str_append(buf, cap, len, ")");
        }
    }
    return MU_OK;
}

int mu_optim_param_rates(const mu_optim_t *o, float lr_factor, float *lr, float *decay) {
    MU_REQUIRE(o && lr && decay, "mu_optim_param_rates: NULL argument");
    for (int32_t i = 0; i < o->n_params; i++) lr[i] = 0.0f, decay[i] = 1.0f;
    for (int32_t g = 0; g < o->n_groups; g++) {
        const mu_group_t *G = &o->groups[g];
        for (int32_t j = 0; j < G->n_members; j++) {
            float l = G->lr * lr_factor * (G->lr_mult ? G->lr_mult[j] : 1.0f);
            int32_t i = G->members[j];
            const mu_param_t *p = &o->params[i];
            float *st = o->state + G->state_off[j];
            // the LR each link sees: scaled by the lr_scale of the links before it (layer_lr)
            for (int32_t k = 0; k < G->n_links; k++) {
                const mu_tstep_t *s = &G->links[k];
                if (mu_chain_fused(G->links, G->n_links, k)) continue;
                if (s->tr == &mu_tr_decay) decay[i] = mu_decay_factor(s, l, lr_factor);  // the factor decay.c applies
                if (s->tr->lr_scale) l *= s->tr->lr_scale(s, mu_chain_link_state(G->links, G->n_links, k, st, p), p);
            }
            lr[i] = l;
        }
    }
    return MU_OK;
}

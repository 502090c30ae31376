/* introspect.c — what the diagnostics read from an optimizer: its groups and their gradient
 * norms, a record's momentum buffer, and the orthogonality residuals of a probed step.
 *
 *   group grad norm  ‖G_g‖_F = sqrt(Σ_{p ∈ g} Σ_i grad_i²)   (double, fixed order); the groups
 *                    partition the registry, so Σ_g ‖G_g‖² is the global norm² of
 *                    mu_optim_clip_grad (a tied wte/head is one record, counted once)
 *   momentum         the state of the first ema/sum link of the record's chain, else Adam's m
 *   orth residual    ‖O Oᵀ − I‖_F / sqrt(r) of the step's orthogonalized update (probe.c)
 *   link state       the live state of a named link of a record's chain (estimates, statistics) */
#include <math.h>

#include "base/util.h"
#include "optim/optim_impl.h"
#include "optim/probe.h"

int32_t mu_optim_n_groups(const mu_optim_t *o) { return o ? o->n_groups : 0; }

const char *mu_optim_group_name(const mu_optim_t *o, int32_t g) {
    return o && g >= 0 && g < o->n_groups ? o->groups[g].name : NULL;
}

int mu_optim_group_grad_norms(const mu_optim_t *o, double *norms) {
    MU_REQUIRE(o && norms, "mu_optim_group_grad_norms: NULL argument");
    for (int32_t g = 0; g < o->n_groups; g++) {
        const mu_group_t *G = &o->groups[g];
        double ss = 0;
        for (int32_t j = 0; j < G->n_members; j++) {
            const mu_param_t *p = &o->params[G->members[j]];
            ss += mu_dot_f64(p->grad, p->grad, p->numel);
        }
        norms[g] = sqrt(ss);
    }
    return MU_OK;
}

/* The group holding record `index` and its member slot (MU_EINVAL naming the caller when none). */
static int find_member(const mu_optim_t *o, int32_t index, const char *who, const mu_group_t **grp, int32_t *slot) {
    MU_REQUIRE(index >= 0 && index < o->n_params, "%s: index %d out of range [0, %d)", who, (int)index,
               (int)o->n_params);
    for (int32_t g = 0; g < o->n_groups; g++)
        for (int32_t j = 0; j < o->groups[g].n_members; j++)
            if (o->groups[g].members[j] == index) {
                *grp = &o->groups[g];
                *slot = j;
                return MU_OK;
            }
    return mu_set_error(MU_EINVAL, "%s: record %d is in no group", who, (int)index);
}

int mu_optim_momentum(const mu_optim_t *o, int32_t index, const float **out) {
    MU_REQUIRE(o && out, "mu_optim_momentum: NULL argument");
    *out = NULL;
    const mu_group_t *G = NULL;
    int32_t j = 0;
    MU_TRY(find_member(o, index, "mu_optim_momentum", &G, &j));
    const mu_param_t *p = &o->params[index];
    const float *st = o->state + G->state_off[j];  // this member's links, in chain order
    for (int32_t k = 0; k < G->n_links; k++) {
        const mu_tstep_t *s = &G->links[k];
        const size_t sz = mu_chain_link_state_size(G->links, G->n_links, k, p);  // 0 when fused
        // ema/sum keep M (numel); adam keeps [m | v]: m comes first
        if ((s->tr == &mu_tr_ema || s->tr == &mu_tr_sum || s->tr == &mu_tr_adam) && sz >= (size_t)p->numel) {
            *out = st;
            return MU_OK;
        }
        st += sz;
    }
    return mu_set_error(MU_EINVAL, "mu_optim_momentum: the chain of '%s' (group %s) keeps no momentum", p->name,
                        G->name);
}

int mu_optim_link_state(const mu_optim_t *o, int32_t index, const char *transform, const float **out, size_t *n) {
    MU_REQUIRE(o && transform && out && n, "mu_optim_link_state: NULL argument");
    const mu_group_t *G = NULL;
    int32_t j = 0;
    MU_TRY(find_member(o, index, "mu_optim_link_state", &G, &j));
    const mu_param_t *p = &o->params[index];
    for (int32_t k = 0; k < G->n_links; k++) {
        if (strcmp(G->links[k].tr->name, transform) != 0 || mu_chain_fused(G->links, G->n_links, k)) continue;
        *out = mu_chain_link_state(G->links, G->n_links, k, o->state + G->state_off[j], p);
        *n = mu_chain_link_state_size(G->links, G->n_links, k, p);
        return MU_OK;
    }
    return mu_set_error(MU_EINVAL, "mu_optim_link_state: the chain of '%s' (group %s) has no link '%s'", p->name,
                        G->name, transform);
}

int mu_optim_probe(mu_optim_t *o, int32_t on) {
    MU_REQUIRE(o, "mu_optim_probe: optimizer is NULL");
    MU_REQUIRE(on == 0 || on == 1, "mu_optim_probe: on = %d: must be 0 or 1", (int)on);
    if (on && !o->probe) MU_TRY(mu_probe_create(&o->probe, o->params, o->n_params));
    o->probe_on = on;
    return MU_OK;
}

double mu_optim_orth_residual(const mu_optim_t *o, int32_t index, int64_t row0, int64_t rows) {
    return o ? mu_probe_orth_residual(o->probe, index, row0, rows) : NAN;
}

/* introspect.c — what the diagnostics read from an optimizer: its groups and their gradient
 * norms, a record's momentum buffer, and the orthogonality residuals of a probed step.
 *
 *   group grad norm  ‖G_g‖_F = sqrt(Σ_{p ∈ g} Σ_i grad_i²)   (double, fixed order); the groups
 *                    partition the registry, so Σ_g ‖G_g‖² is the global norm² of
 *                    mu_optim_clip_grad (a tied wte/head is one record, counted once)
 *   momentum         the state of the first ema/sum link of the record's chain, else Adam's m
 *   orth residual    ‖O Oᵀ − I‖_F / sqrt(r) of the step's orthogonalized update (probe.c) */
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

int mu_optim_momentum(const mu_optim_t *o, int32_t index, const float **out) {
    MU_REQUIRE(o && out, "mu_optim_momentum: NULL argument");
    MU_REQUIRE(index >= 0 && index < o->n_params, "mu_optim_momentum: index %d out of range [0, %d)", (int)index,
               (int)o->n_params);
    *out = NULL;
    for (int32_t g = 0; g < o->n_groups; g++) {
        const mu_group_t *G = &o->groups[g];
        for (int32_t j = 0; j < G->n_members; j++) {
            if (G->members[j] != index) continue;
            const mu_param_t *p = &o->params[index];
            const float *st = o->state + G->state_off[j];  // this member's links, in chain order
            for (int32_t k = 0; k < G->n_links; k++) {
                const mu_tstep_t *s = &G->links[k];
                const size_t sz = s->tr->state_size ? s->tr->state_size(s, p) : 0;
                // ema/sum keep M (numel); adam keeps [m | v]: m comes first
                if ((s->tr == &mu_tr_ema || s->tr == &mu_tr_sum || s->tr == &mu_tr_adam) && sz >= (size_t)p->numel) {
                    *out = st;
                    return MU_OK;
                }
                st += sz;
            }
            return mu_set_error(MU_EINVAL, "mu_optim_momentum: the chain of '%s' (group %s) keeps no momentum",
                                p->name, G->name);
        }
    }
    return mu_set_error(MU_EINVAL, "mu_optim_momentum: record %d is in no group", (int)index);
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

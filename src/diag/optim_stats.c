/* optim_stats.c — diagnostics read from the optimizer: per-group gradient norms (before
 * clipping) and the orthogonality residual of each logical matrix's orthogonalized update
 * (recorded by a probed mu_optim_step; include/muon/optim.h). */
#include <math.h>
#include <stdio.h>

#include "base/util.h"
#include "diag/diag_impl.h"

int mu_diag_group_norms(mu_diag_t *d, const mu_optim_t *o) {
    MU_REQUIRE(d && o, "mu_diag_group_norms: NULL argument");
    const int32_t ng = mu_optim_n_groups(o);
    double norms[64];
    MU_REQUIRE(ng <= 64, "mu_diag_group_norms: %d groups, at most 64 supported", (int)ng);
    if (ng > d->groups_cap) {
        mu_diag_group_t *g = realloc(d->groups, sizeof *g * (size_t)ng);
        if (!g) return mu_set_error(MU_ENOMEM, "mu_diag_group_norms: out of memory for %d groups", (int)ng);
        d->groups = g, d->groups_cap = ng;
    }
    MU_TRY(mu_optim_group_grad_norms(o, norms));  // ‖G_g‖_F = sqrt(Σ_{p∈g} Σ grad²)
    for (int32_t g = 0; g < ng; g++) {
        snprintf(d->groups[g].name, sizeof d->groups[g].name, "%s", mu_optim_group_name(o, g));
        d->groups[g].grad_norm = norms[g];
    }
    d->n_groups = ng;
    return MU_OK;
}

int mu_diag_orth(mu_diag_t *d, const mu_optim_t *o) {
    MU_REQUIRE(d && o, "mu_diag_orth: NULL argument");
    for (int32_t i = 0; i < d->n_rec; i++) {
        mu_diag_record_t *r = &d->rec[i];
        // the logical matrix is rows [view·d_out, (view+1)·d_out) of its parameter
        r->orth_resid = mu_optim_orth_residual(o, r->param, (int64_t)r->view * r->d_out, r->d_out);
    }
    return MU_OK;
}

int32_t mu_diag_n_groups(const mu_diag_t *d) { return d ? d->n_groups : 0; }
const mu_diag_group_t *mu_diag_groups(const mu_diag_t *d) { return d ? d->groups : NULL; }

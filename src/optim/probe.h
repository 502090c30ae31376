/* probe.h — diagnostics taps inside an optimizer step (armed by mu_optim_probe).
 *
 * While armed, the optimizer passes a probe in mu_tctx_t.probe; links that orthogonalize
 * (orth, lmo's spectral kinds) hand each orthogonalized view O (rows, cols) to mu_probe_orth,
 * which records ‖O Oᵀ − I‖²_F (the Gram on the short side, r = min(rows, cols)). Unarmed,
 * ctx.probe is NULL and nothing is computed. Results live until the next armed step. */
#ifndef MU_OPTIM_PROBE_H
#define MU_OPTIM_PROBE_H

#include "muon/gemm.h"
#include "muon/param.h"

typedef struct mu_probe mu_probe_t;

/* A probe for the registry params[0 .. n) (borrowed). */
int mu_probe_create(mu_probe_t **out, const mu_param_t *params, int32_t n_params);
void mu_probe_free(mu_probe_t *pr);
/* Forget every record (start of an armed step). */
void mu_probe_clear(mu_probe_t *pr);
/* Record the orthogonality residual of X (rows, cols), the view starting at row row0 of p;
 * p outside the registry is ignored. Products through g (syrk: no plan entry is made). */
int mu_probe_orth(mu_probe_t *pr, mu_gemm_ctx_t *g, const mu_param_t *p, int64_t row0, const float *X, int64_t rows,
                  int64_t cols);
/* sqrt(Σ‖O_v O_vᵀ − I‖²_F / Σ r_v) over the recorded views of record `index` that overlap
 * rows [row0, row0 + rows); NaN when none was recorded. */
double mu_probe_orth_residual(const mu_probe_t *pr, int32_t index, int64_t row0, int64_t rows);

#endif

/* nuclear_scale.c — `nuclear_scale`: U' = ⟨ref, U⟩·U per matrix, ref = the tensor stored by
 * `capture(what=tensor)` earlier in the chain (PolarGrad, arXiv 2505.21799;
 * timlautk/polargrad; optimizers-lmo.md §1, §11). After orth(exact) of ref, U = P·Qᵀ and
 * ν = ⟨ref, P·Qᵀ⟩ = Σσ = ‖ref‖_*: a polar step with the nuclear-norm size. A polynomial orth
 * gives a smaller ν (ns5: 0.856·‖ref‖_* on spec(256,256,1e3)).
 *
 * Matrices: the orth-level views of the capture's split (views.c), the same ones orth
 * factored, so each view gets its own ν. ⟨·,·⟩ in double, fixed order. U (numel), no state.
 */
#include "base/util.h"
#include "optim/capture.h"
#include "optim/transform.h"

static int ns_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *state, mu_param_t *p) {
    (void)s;
    (void)state;
    mu_capture_ref_t c;
    MU_TRY(mu_capture_get(ctx, p, MU_CAPTURE_TENSOR, MU_VIEW_ORTH, "nuclear_scale", &c));
    const int64_t N = c.m * c.n;
    for (int64_t v = 0; v < c.nv; v++) {
        float *X = U + v * N;
        mu_vec_scale(X, N, (float)mu_dot_f64(c.ref + v * N, X, N));  // ν = ⟨ref, O⟩
    }
    return MU_OK;
}

const mu_transform_t mu_tr_nuclear_scale = {
    .name = "nuclear_scale", .update = ns_update,
};

/* frob_match.c — `frob_match(eps)`: U' = U·‖ref‖_F/(‖U‖_F + eps) per logical view, ref =
 * the Frobenius norms stored by `capture(what=fro)` earlier in the chain, with its split
 * (optimizers-lmo.md §1; NorMuon code §6 step (5), eps 1e-10: the row normalization keeps
 * the norm of the orthogonalized momentum). A zero U stays zero. U (numel), no state.
 */
#include <math.h>

#include "base/util.h"
#include "optim/capture.h"
#include "optim/transform.h"

enum { K_EPS = 0 };

static const mu_hp_desc_t keys[] = {
    {.key = "eps", .type = MU_HP_FLOAT, .def = 1e-10f, .lo = 0.0f, .hi = 1.0f},
};

static int fm_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *state, mu_param_t *p) {
    (void)state;
    const float *ref;
    int32_t split;
    MU_TRY(mu_capture_get(p, ctx->t, MU_CAPTURE_FRO, "frob_match", &ref, &split));
    int64_t m, n;
    const int64_t nv = mu_param_views(p, split, MU_VIEW_LOGICAL, &m, &n), N = m * n;
    for (int64_t v = 0; v < nv; v++) {
        float *X = U + v * N;
        const double fro = sqrt(mu_dot_f64(X, X, N));
        if (!(fro > 0.0)) continue;
        const float a = (float)((double)ref[v] / (fro + (double)s->hp[K_EPS]));
#pragma omp parallel for schedule(static) if (N >= MU_OPTIM_PAR_MIN)
        for (int64_t i = 0; i < N; i++) X[i] *= a;
    }
    return MU_OK;
}

const mu_transform_t mu_tr_frob_match = {
    .name = "frob_match", .keys = keys, .n_keys = 1, .update = fm_update,
};

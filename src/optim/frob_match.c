/* frob_match.c — `frob_match(eps)`: U' = U·‖ref‖_F/(‖U‖_F + eps) per logical view, ref =
 * the Frobenius norms stored by `capture(what=fro)` earlier in the chain, with its split
 * (optimizers-lmo.md §1; NorMuon code §6 step (5), eps 1e-10: the row normalization keeps
 * the norm of the orthogonalized momentum). A zero U stays zero. U (numel), no state.
 */
#include "base/util.h"
#include "optim/capture.h"
#include "optim/transform.h"

enum { K_EPS = 0 };

static const mu_hp_desc_t keys[] = {
    MU_HP_EPS_KEY(1e-10f),
};

static int fm_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *state, mu_param_t *p) {
    (void)state;
    mu_capture_ref_t c;
    MU_TRY(mu_capture_get(ctx, p, MU_CAPTURE_FRO, MU_VIEW_LOGICAL, "frob_match", &c));
    const int64_t N = c.m * c.n;
    for (int64_t v = 0; v < c.nv; v++) mu_vec_set_norm(U + v * N, N, (double)c.ref[v], (double)s->hp[K_EPS]);
    return MU_OK;
}

const mu_transform_t mu_tr_frob_match = {
    .name = "frob_match", .keys = keys, .n_keys = 1, .update = fm_update,
};

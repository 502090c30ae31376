/* capture.c — `capture(what)`: remember a reference of the current update U for a later
 * link of the same chain (optimizers-lmo.md §1; NorMuon code §6: ‖O‖_F before the row
 * normalization; NAMO §8: ‖U‖_F or the column norms ‖U_:j‖ of the Nesterov momentum before
 * orth; PolarGrad §11: M itself, for ν = ⟨M, O⟩). U is left unchanged.
 *
 *   fro     ref[v]       = ‖U_v‖_F                 per logical view v (views.c)
 *   cols    ref[v·n + j] = ‖U_v[:, j]‖             per column of each logical view (m, n)
 *   tensor  ref          = U                        (numel floats)
 *
 * The reference lives in this link's state (overwritten every step, so a resume needs
 * none of it; it is saved with the rest of the arena). The consumers find it there: the
 * nearest capture(what) before them in the chain, in the member's arena (capture.h).
 */
#include <math.h>
#include <string.h>

#include "base/util.h"
#include "optim/capture.h"
#include "optim/lines.h"

enum { K_WHAT = 0, K_SPLIT = 1 };

const char *const mu_capture_names[] = {"fro", "cols", "tensor", NULL};

static const mu_hp_desc_t keys[] = {
    {.key = "what", .type = MU_HP_ENUM, .def = 0.0f, .lo = 0.0f, .hi = 2.0f, .structural = 1,
     .names = mu_capture_names},
    MU_HP_SPLIT_KEY,
};

static size_t capture_state(const mu_tstep_t *s, const mu_param_t *p) {
    if (p->ndim != 2) return 0;
    const int32_t split = (int32_t)s->hp[K_SPLIT];
    int64_t m, n;
    const int64_t nv = mu_param_views(p, split, MU_VIEW_LOGICAL, &m, &n);
    switch ((int)s->hp[K_WHAT]) {
    case MU_CAPTURE_FRO: return (size_t)nv;
    case MU_CAPTURE_COLS: return (size_t)(nv * n);
    default: return (size_t)p->numel;
    }
}

/* cols needs a double per column of one parameter. */
static size_t capture_scratch(const mu_tstep_t *s, const mu_param_t *p) {
    if (p->ndim != 2 || (int)s->hp[K_WHAT] != MU_CAPTURE_COLS) return 0;
    return 2 * (size_t)mu_lines_count(p, MU_AXIS_COL, (int32_t)s->hp[K_SPLIT]);
}

static int capture_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *ref, mu_param_t *p) {
    const int32_t what = (int32_t)s->hp[K_WHAT], split = (int32_t)s->hp[K_SPLIT];
    if (what == MU_CAPTURE_TENSOR) {
        memcpy(ref, U, sizeof(float) * (size_t)p->numel);
    } else if (what == MU_CAPTURE_FRO) {
        int64_t m, n;
        const int64_t nv = mu_param_views(p, split, MU_VIEW_LOGICAL, &m, &n);
        for (int64_t v = 0; v < nv; v++) ref[v] = (float)sqrt(mu_dot_f64(U + v * m * n, U + v * m * n, m * n));
    } else {
        double *ss = (double *)ctx->scratch;
        mu_lines_sumsq(U, p, MU_AXIS_COL, split, ss);
        const int64_t nl = mu_lines_count(p, MU_AXIS_COL, split);
        for (int64_t l = 0; l < nl; l++) ref[l] = (float)sqrt(ss[l]);
    }
    return MU_OK;
}

int mu_capture_get(const mu_tctx_t *ctx, const mu_param_t *p, int32_t what, int32_t level, const char *who,
                   mu_capture_ref_t *out) {
    for (int32_t j = (ctx->links ? ctx->link : 0) - 1; j >= 0; j--) {
        const mu_tstep_t *s = &ctx->links[j];
        if (s->tr != &mu_tr_capture || (int32_t)s->hp[K_WHAT] != what || mu_chain_fused(ctx->links, ctx->n_links, j))
            continue;
        out->ref = mu_chain_link_state(ctx->links, ctx->n_links, j, ctx->member_state, p);
        out->split = (int32_t)s->hp[K_SPLIT];
        out->nv = mu_param_views(p, out->split, level, &out->m, &out->n);
        return MU_OK;
    }
    return mu_set_error(MU_EINVAL, "%s: parameter '%s': needs capture(what=%s) earlier in the same chain", who,
                        p->name, mu_capture_names[what]);
}

const mu_transform_t mu_tr_capture = {
    .name = "capture", .keys = keys, .n_keys = 2, .state_size = capture_state, .scratch_size = capture_scratch,
    .update = capture_update, .check = mu_views_check_link,
};

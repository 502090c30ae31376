/* row_moment.c — `row_moment(b2, eps, eps_mode, axis)`: NorMuon's per-neuron second moment
 * (arXiv 2510.05491; zichongli5/NorMuon; optimizers-lmo.md §1, §6).
 *
 *   v_l <- b2·v_l + (1-b2)·mean_k(U_lk²)          one v per line l (lines.h: rows by default)
 *   U'_lk = U_lk / (sqrt(v_l) + eps)              eps_mode outside (NorMuon code, eps 1e-10)
 *   U'_lk = U_lk / sqrt(v_l + eps)                eps_mode inside  (paper / optax, eps 1e-8)
 *
 * v_0 = 0 and no bias correction (first step: v = (1-b2)·mean(U²), rows come out ×≈4.5 for
 * b2 = 0.95; NorMuon's frob_match / rms_match after it removes that). A zero denominator
 * (zero line, eps = 0) leaves the line at 0. U (numel), state v (lines floats).
 */
#include <math.h>

#include "base/util.h"
#include "optim/lines.h"
#include "optim/transform.h"

enum { K_B2 = 0, K_EPS = 1, K_EPS_MODE = 2, K_AXIS = 3, K_SPLIT = 4 };
enum { EPS_OUTSIDE = 0, EPS_INSIDE = 1 };

static const char *const eps_mode_names[] = {"outside", "inside", NULL};

static const mu_hp_desc_t keys[] = {
    MU_HP_BETA_KEY("b2", 0.95f),
    MU_HP_EPS_KEY(1e-10f),
    {.key = "eps_mode", .type = MU_HP_ENUM, .def = 0.0f, .lo = 0.0f, .hi = 1.0f, .names = eps_mode_names},
    MU_HP_AXIS_KEY,
    MU_HP_SPLIT_KEY,
};

static size_t rm_state(const mu_tstep_t *s, const mu_param_t *p) {
    if (p->ndim != 2) return 0;
    return (size_t)mu_lines_count(p, (int32_t)s->hp[K_AXIS], (int32_t)s->hp[K_SPLIT]);
}

static size_t rm_scratch(const mu_tstep_t *s, const mu_param_t *p) {
    return mu_lines_scratch(p, (int32_t)s->hp[K_AXIS], (int32_t)s->hp[K_SPLIT]);
}

static int rm_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *v, mu_param_t *p) {
    const int32_t axis = (int32_t)s->hp[K_AXIS], split = (int32_t)s->hp[K_SPLIT];
    const double b2 = s->hp[K_B2], eps = s->hp[K_EPS];
    const int inside = (int)s->hp[K_EPS_MODE] == EPS_INSIDE;
    const int64_t nl = mu_lines_count(p, axis, split), len = mu_lines_len(p, axis, split);
    double *ss = (double *)ctx->scratch;
    float *f = ctx->scratch + 2 * nl;
    mu_lines_sumsq(U, p, axis, split, ss);
    for (int64_t l = 0; l < nl; l++) {
        const double vl = b2 * (double)v[l] + (1.0 - b2) * ss[l] / (double)len;
        v[l] = (float)vl;
        const double den = inside ? sqrt((double)v[l] + eps) : sqrt((double)v[l]) + eps;
        f[l] = den > 0.0 ? (float)(1.0 / den) : 0.0f;
    }
    mu_lines_scale(U, p, axis, split, f);
    return MU_OK;
}

const mu_transform_t mu_tr_row_moment = {
    .name = "row_moment", .keys = keys, .n_keys = 5, .state_size = rm_state, .scratch_size = rm_scratch,
    .update = rm_update, .check = mu_views_check_link,
};

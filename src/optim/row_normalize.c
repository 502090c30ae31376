/* row_normalize.c — `row_normalize(eps, mode, axis)`: each line (lines.h: output rows by
 * default, columns with axis = col) scaled to unit ℓ2 norm (optimizers-lmo.md §1; RMNP §9).
 *
 *   mode max:  U'_l = U_l / max(‖U_l‖, eps)       RMNP code (eps 1e-12)
 *   mode add:  U'_l = U_l / (‖U_l‖ + eps)         RMNP README
 *
 * Tall matrices are not transposed (RMNP code). A zero line stays zero. U (numel), no state.
 */
#include <math.h>

#include "base/util.h"
#include "optim/lines.h"
#include "optim/transform.h"

enum { K_EPS = 0, K_MODE = 1, K_AXIS = 2, K_SPLIT = 3 };
enum { MODE_MAX = 0, MODE_ADD = 1 };

static const char *const mode_names[] = {"max", "add", NULL};

static const mu_hp_desc_t keys[] = {
    MU_HP_EPS_KEY(1e-12f),
    {.key = "mode", .type = MU_HP_ENUM, .def = 0.0f, .lo = 0.0f, .hi = 1.0f, .names = mode_names},
    MU_HP_AXIS_KEY,
    MU_HP_SPLIT_KEY,
};

static size_t rn_scratch(const mu_tstep_t *s, const mu_param_t *p) {
    return mu_lines_scratch(p, (int32_t)s->hp[K_AXIS], (int32_t)s->hp[K_SPLIT]);
}

static int rn_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *state, mu_param_t *p) {
    (void)state;
    const int32_t axis = (int32_t)s->hp[K_AXIS], split = (int32_t)s->hp[K_SPLIT];
    const double eps = s->hp[K_EPS];
    const int add = (int)s->hp[K_MODE] == MODE_ADD;
    const int64_t nl = mu_lines_count(p, axis, split);
    double *ss = (double *)ctx->scratch;
    float *f = ctx->scratch + 2 * nl;
    mu_lines_sumsq(U, p, axis, split, ss);
    for (int64_t l = 0; l < nl; l++) {
        const double norm = sqrt(ss[l]);
        const double den = add ? norm + eps : (norm > eps ? norm : eps);
        f[l] = norm > 0.0 && den > 0.0 ? (float)(1.0 / den) : 0.0f;
    }
    mu_lines_scale(U, p, axis, split, f);
    return MU_OK;
}

const mu_transform_t mu_tr_row_normalize = {
    .name = "row_normalize", .keys = keys, .n_keys = 4, .scratch_size = rn_scratch, .update = rn_update,
    .check = mu_views_check_link,
};

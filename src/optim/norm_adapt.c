/* norm_adapt.c — `norm_adapt(kind, b1, b2, eps, c, wd)`: NAMO / NAMO-D adaptive step size on
 * an orthogonalized update (arXiv 2602.17080; minxin-zhg/namo src/namo.py;
 * optimizers-lmo.md §8). Input U = O = orth(Nesterov momentum); the momentum's norms come
 * from capture (fro for scalar, cols for col) placed before orth; G = p->grad.
 * Per logical view (m, n) of the capture's split, c_mn = max(m, n), η = ctx->lr:
 *
 *   b = η·sqrt(1 - b2^t) / (1 - b1^t + 1e-12)                    (b1 = the momentum's β)
 *   scalar:  v <- b2·v + (1-b2)·‖G‖_F²            α = b·‖U_mom‖_F / (sqrt(v) + eps)
 *            W <- W·(1 - wd·min(α, 1))            step = min(α·0.2·sqrt(c_mn), 1)
 *   col:     v_j <- b2·v_j + (1-b2)·‖G_:j‖²       s_j = ‖U_mom,:j‖ / (sqrt(v_j) + eps)
 *            s̄ = mean_j s_j,  s_j <- clamp(s_j, c·s̄, s̄/c)         (input columns)
 *            W_:j <- W_:j·max(0, 1 - wd·min(b·s_j, 1))    step_j = min(b·s_j·0.2·sqrt(c_mn), 1)
 *   U' = (step/η)·O, so that the `apply` link after it takes W <- W - step·O (NAMO's own
 *   step: the scheduled η enters through α only; η = 0 gives U' = 0 and no decay).
 *
 * The spec's decay(adaptive) is done here, before apply, because its factor is α: the chain
 * is `... orth -> norm_adapt -> apply` with no decay link. Momentum convention: ema (the
 * bias correction assumes it). State: v, n_split floats (scalar) or n_split·n (col), enough
 * for any split; the first n_views (·n) are used.
 */
#include <math.h>

#include "base/util.h"
#include "optim/capture.h"
#include "optim/lines.h"
#include "optim/transform.h"

enum { K_KIND = 0, K_B1 = 1, K_B2 = 2, K_EPS = 3, K_C = 4, K_WD = 5 };
enum { KIND_SCALAR = 0, KIND_COL = 1 };

static const char *const kind_names[] = {"scalar", "col", NULL};

static const mu_hp_desc_t keys[] = {
    {.key = "kind", .type = MU_HP_ENUM, .def = 0.0f, .lo = 0.0f, .hi = 1.0f, .structural = 1, .names = kind_names},
    MU_HP_BETA_KEY("b1", 0.95f),
    MU_HP_BETA_KEY("b2", 0.99f),
    MU_HP_EPS_KEY(1e-8f),
    {.key = "c", .type = MU_HP_FLOAT, .def = 0.75f, .lo = 1e-6f, .hi = 1.0f},
    {.key = "wd", .type = MU_HP_FLOAT, .def = 0.0f, .lo = 0.0f, .hi = 1.0f},
};

static int64_t max_views(const mu_param_t *p) { return p->n_split > 1 ? p->n_split : 1; }

static size_t na_state(const mu_tstep_t *s, const mu_param_t *p) {
    if (p->ndim != 2) return 0;
    return (size_t)(max_views(p) * ((int)s->hp[K_KIND] == KIND_COL ? p->shape[1] : 1));
}

/* col: double column sums of G, then float factors for the step and the decay */
static size_t na_scratch(const mu_tstep_t *s, const mu_param_t *p) {
    if (p->ndim != 2 || (int)s->hp[K_KIND] != KIND_COL) return 0;
    return 4 * (size_t)(max_views(p) * p->shape[1]);
}

static int na_check(const mu_tstep_t *s, const mu_param_t *p, const mu_gemm_ctx_t *gemm, const char *who) {
    (void)s;
    (void)gemm;
    return mu_views_check(p, MU_SPLIT_FUSED, who);
}

/* W <- W·d, U <- U·f, both per column j of each view (factors nv·n). */
static void scale_cols(mu_param_t *p, float *U, int32_t split, const float *d, const float *f) {
    mu_lines_scale(p->data, p, MU_AXIS_COL, split, d);
    mu_lines_scale(U, p, MU_AXIS_COL, split, f);
}

static int na_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *v, mu_param_t *p) {
    const int col = (int)s->hp[K_KIND] == KIND_COL;
    const double b1 = s->hp[K_B1], b2 = s->hp[K_B2], eps = s->hp[K_EPS], c = s->hp[K_C], wd = s->hp[K_WD];
    const double eta = ctx->lr, t = (double)ctx->t;
    mu_capture_ref_t c_ref;
    MU_TRY(mu_capture_get(ctx, p, col ? MU_CAPTURE_COLS : MU_CAPTURE_FRO, MU_VIEW_LOGICAL, "norm_adapt", &c_ref));
    const float *ref = c_ref.ref;
    const int32_t split = c_ref.split;
    const int64_t nv = c_ref.nv, m = c_ref.m, n = c_ref.n, N = m * n;
    const double b = eta * sqrt(1.0 - pow(b2, t)) / (1.0 - pow(b1, t) + 1e-12);
    const double cs = 0.2 * sqrt((double)(m > n ? m : n));
    const float *G = p->grad;
    float *W = p->data;
    if (!col) {
        for (int64_t k = 0; k < nv; k++) {
            const double g2 = mu_dot_f64(G + k * N, G + k * N, N);
            v[k] = (float)(b2 * (double)v[k] + (1.0 - b2) * g2);
            const double alpha = b * (double)ref[k] / (sqrt((double)v[k]) + eps);
            const double step = fmin(alpha * cs, 1.0);
            const float d = (float)(1.0 - wd * fmin(alpha, 1.0));
            const float f = eta > 0.0 ? (float)(step / eta) : 0.0f;
            float *X = U + k * N, *Wk = W + k * N;
#pragma omp parallel for schedule(static) if (N >= MU_OPTIM_PAR_MIN)
            for (int64_t i = 0; i < N; i++) {
                Wk[i] *= d;
                X[i] *= f;
            }
        }
        return MU_OK;
    }
    const int64_t nl = nv * n;
    double *ss = (double *)ctx->scratch;
    float *d = ctx->scratch + 2 * nl, *f = d + nl;
    mu_lines_sumsq(G, p, MU_AXIS_COL, split, ss);  // ‖G_:j‖² per column of each view
    for (int64_t k = 0; k < nv; k++) {
        double *sj = ss + k * n;  // reused: s_j after the v update
        double mean = 0.0;
        for (int64_t j = 0; j < n; j++) {
            float *vj = v + k * n + j;
            *vj = (float)(b2 * (double)*vj + (1.0 - b2) * sj[j]);
            sj[j] = (double)ref[k * n + j] / (sqrt((double)*vj) + eps);
            mean += sj[j];
        }
        mean /= (double)n;
        for (int64_t j = 0; j < n; j++) {
            const double sc = fmin(fmax(sj[j], c * mean), mean / c);  // clamp(s_j, c·s̄, s̄/c)
            const double a = b * sc;
            d[k * n + j] = (float)fmax(0.0, 1.0 - wd * fmin(a, 1.0));
            f[k * n + j] = eta > 0.0 ? (float)(fmin(a * cs, 1.0) / eta) : 0.0f;
        }
    }
    scale_cols(p, U, split, d, f);
    return MU_OK;
}

const mu_transform_t mu_tr_norm_adapt = {
    .name = "norm_adapt", .keys = keys, .n_keys = 6, .state_size = na_state, .scratch_size = na_scratch,
    .update = na_update, .check = na_check,
};

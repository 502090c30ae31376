/* subspace_conda.c — `subspace_conda(b1, b2, eps, scale, period)`: Conda's rotated-basis Adam
 * (optimizers-lmo.md §12; arXiv 2509.24218, jie040109/Conda). Placed after ema(b1), so
 * U = m (the momentum, stored unprojected); the raw gradient G is p->grad. Per logical
 * matrix view X (rows m, cols n):
 *
 *   every `period` steps from t = 1: thin SVD m = P_L Σ P_Rᵀ (LAPACKE_dgesdd, fp64)
 *       m >= n: P = P_R (n×n), proj(X) = X·P,   back(Y) = Y·Pᵀ
 *       m <  n: P = P_L (m×m), proj(X) = Pᵀ·X,  back(Y) = P·Y
 *   g̃ = proj(G), m̃ = proj(m)
 *   v <- b2·v + (1-b2)·g̃⊙g̃                    second moment of the projected GRADIENT
 *   U' = sqrt(1-b2^t)/(1-b1^t) · scale · back(m̃ / (sqrt(v) + eps))
 *
 * v (m×n per view) is kept unchanged across a refresh (GaLore-family convention; our
 * source does not say whether the authors reset or rotate it). b1 must equal the ema's
 * beta (the presets bind both to beta1): it only enters the bias correction.
 * State per view: [v (m·n)] then [P (k·k)], k = min(m, n). Scratch: 2·m·n floats.
 */
#include <lapacke.h>
#include <math.h>

#include "base/util.h"
#include "optim/transform.h"

enum { K_B1 = 0, K_B2 = 1, K_EPS = 2, K_SCALE = 3, K_PERIOD = 4, K_SPLIT = 5 };

static const mu_hp_desc_t keys[] = {
    MU_HP_BETA_KEY("b1", 0.9f),
    MU_HP_BETA_KEY("b2", 0.999f),
    MU_HP_EPS_KEY(1e-8f),
    {.key = "scale", .type = MU_HP_FLOAT, .def = 0.25f, .lo = 0.0f, .hi = 1e6f},
    {.key = "period", .type = MU_HP_INT, .def = 2000.0f, .lo = 1.0f, .hi = 1e9f},
    MU_HP_SPLIT_KEY,
};

static int64_t views(const mu_tstep_t *s, const mu_param_t *p, int64_t *r, int64_t *c) {
    return mu_param_views(p, (int32_t)s->hp[K_SPLIT], MU_VIEW_LOGICAL, r, c);
}

static size_t conda_state(const mu_tstep_t *s, const mu_param_t *p) {
    if (p->ndim != 2) return 0;
    int64_t r, c;
    const int64_t nv = views(s, p, &r, &c), k = r < c ? r : c;
    return (size_t)(p->numel + nv * k * k);
}

static size_t conda_scratch(const mu_tstep_t *s, const mu_param_t *p) {
    if (p->ndim != 2) return 0;
    int64_t r, c;
    views(s, p, &r, &c);
    return (size_t)(2 * r * c);
}

static int conda_check(const mu_tstep_t *s, const mu_param_t *p, const mu_gemm_ctx_t *gemm, const char *who) {
    MU_TRY(mu_views_check(p, (int32_t)s->hp[K_SPLIT], who));
    if (!gemm) return mu_set_error(MU_EINVAL, "%s: Conda's projections need a compute context (gemm = NULL)", who);
    return MU_OK;
}

/* P (k×k) from the thin SVD of the momentum view M (r×c) in double. */
static int refresh(const float *M, int64_t r, int64_t c, float *P, const char *name) {
    const int64_t k = r < c ? r : c;
    double *A = malloc(sizeof(double) * (size_t)(r * c + k + r * k + k * c));
    if (!A) return mu_set_error(MU_ENOMEM, "optim subspace_conda on '%s': out of memory for the SVD", name);
    double *S = A + r * c, *L = S + k, *RT = L + r * k;
    for (int64_t i = 0; i < r * c; i++) A[i] = M[i];
    lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', (lapack_int)r, (lapack_int)c, A, (lapack_int)c, S, L,
                                     (lapack_int)k, RT, (lapack_int)c);
    if (info == 0) {
        if (r >= c) {  // P = P_R = RTᵀ (c×c)
            for (int64_t i = 0; i < c; i++)
                for (int64_t j = 0; j < c; j++) P[i * c + j] = (float)RT[j * c + i];
        } else {  // P = P_L (r×r)
            for (int64_t i = 0; i < r * r; i++) P[i] = (float)L[i];
        }
    }
    free(A);
    if (info != 0)
        return mu_set_error(MU_ENONFINITE, "optim subspace_conda on '%s': SVD of the momentum failed (dgesdd info %d)",
                            name, (int)info);
    return MU_OK;
}

/* Y (r×c) = proj(X) (back = 0) or back(X) (back = 1) with P (k×k). */
static int rotate(mu_gemm_ctx_t *g, const float *P, const float *X, float *Y, int64_t r, int64_t c, int back) {
    mu_gemm_desc_t d;
    if (r >= c) {  // X·P or X·Pᵀ
        d = mu_gemm_desc(0, back, r, c, c, 1.0f, 0.0f);
        return mu_gemm(g, &d, X, P, Y);
    }
    d = mu_gemm_desc(!back, 0, r, c, r, 1.0f, 0.0f);  // Pᵀ·X or P·X
    return mu_gemm(g, &d, P, X, Y);
}

static int conda_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *state, mu_param_t *p) {
    const float b1 = s->hp[K_B1], b2 = s->hp[K_B2], eps = s->hp[K_EPS];
    const int64_t period = (int64_t)s->hp[K_PERIOD];
    // bias corrections on the step scalar: sqrt(1-b2^t)/(1-b1^t), in double
    const double t = (double)ctx->t;
    const float step = (float)(sqrt(1.0 - pow((double)b2, t)) / (1.0 - pow((double)b1, t)) * (double)s->hp[K_SCALE]);
    const int do_refresh = (ctx->t - 1) % period == 0;
    int64_t r, c;
    const int64_t nv = views(s, p, &r, &c), k = r < c ? r : c, n = r * c;
    float *V = state, *Pall = state + p->numel;
    float *gt = ctx->scratch, *mt = ctx->scratch + n;
    for (int64_t v = 0; v < nv; v++) {
        float *M = U + v * n, *Vv = V + v * n, *P = Pall + v * k * k;
        const float *G = p->grad + v * n;
        if (do_refresh) MU_TRY(refresh(M, r, c, P, p->name));
        MU_TRY(rotate(ctx->gemm, P, G, gt, r, c, 0));
        MU_TRY(rotate(ctx->gemm, P, M, mt, r, c, 0));
#pragma omp parallel for schedule(static) if (n >= MU_OPTIM_PAR_MIN)
        for (int64_t i = 0; i < n; i++) {
            const float vi = b2 * Vv[i] + (1.0f - b2) * gt[i] * gt[i];
            Vv[i] = vi;
            mt[i] = step * mt[i] / (sqrtf(vi) + eps);
        }
        MU_TRY(rotate(ctx->gemm, P, mt, M, r, c, 1));  // U' = back(...), written in place
    }
    return MU_OK;
}

const mu_transform_t mu_tr_subspace_conda = {
    .name = "subspace_conda", .keys = keys, .n_keys = 6, .state_size = conda_state,
    .scratch_size = conda_scratch, .update = conda_update, .check = conda_check,
};

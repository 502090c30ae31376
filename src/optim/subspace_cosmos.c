/* subspace_cosmos.c — `subspace_cosmos(b1, b2, eps, rank, gamma)`: COSMOS's hybrid update
 * (optimizers-lmo.md §13; arXiv 2502.17410, lliu606/COSMOS): SOAP-like Adam on the leading
 * k-dimensional eigen-subspace of GᵀG plus Muon on the residual. Placed after sum(b1), so
 * U = M (M <- b1·M + G); the raw gradient G is p->grad. Per logical matrix view (m×n),
 * k = min(rank, n); state P (n×k), S (k×k), V (m×k):
 *
 *   t = 1: P = top-k eigenvectors of GᵀG (LAPACKE_dsyevd, fp64);  S = (1-b2)·PᵀGᵀGP
 *   t > 1: P̃ = b2·P_old·S + (1-b2)·Gᵀ(G·P_old);  P = Q of thin QR(P̃) (CholeskyQR2, orth/qr.c)
 *          J = P_oldᵀ·P;  S = b2·Jᵀ·S·J + (1-b2)·(GP)ᵀ(GP)
 *   V <- b2·V + (1-b2)·(GP)⊙(GP)
 *   bc1 = (1-b1^t)/(1-b1), bc2 = 1-b2^t;  Ĝ = (G + b1·M)/(1 + b1·bc1)      (Nesterov form)
 *   A = ((ĜP) / (sqrt(V)/sqrt(bc2) + eps))·Pᵀ
 *   R = Ĝ - (ĜP)Pᵀ;  B = orth(ns5,5)(R);  B <- sqrt(mn)·B/(‖B‖_F + eps)    (B = 0 when k = n)
 *   U' = A + gamma·B                          (rms_match(ratio) follows in the chain)
 *
 * With k = n the residual is round-off that orth would blow up to full size, so B is set
 * to 0 exactly (the authors' code does not guard this). Scratch: 2mn + 2mk + nk + 2k² floats
 * plus the larger of the QR and ns5 workspaces of one view (used one after the other).
 */
#include <cblas.h>
#include <lapacke.h>
#include <stdio.h>
#include <string.h>
#include <math.h>

#include "base/util.h"
#include "muon/orth.h"
#include "orth/qr.h"
#include "optim/transform.h"

enum { K_B1 = 0, K_B2 = 1, K_EPS = 2, K_RANK = 3, K_GAMMA = 4, K_SPLIT = 5 };

static const mu_hp_desc_t keys[] = {
    MU_HP_BETA_KEY("b1", 0.9f),
    MU_HP_BETA_KEY("b2", 0.999f),
    MU_HP_EPS_KEY(1e-8f),
    {.key = "rank", .type = MU_HP_INT, .def = 64.0f, .lo = 1.0f, .hi = 1e6f, .structural = 1},
    {.key = "gamma", .type = MU_HP_FLOAT, .def = 0.2f, .lo = 0.0f, .hi = 1e6f},
    MU_HP_SPLIT_KEY,
};

typedef struct {
    int64_t nv, m, n, k;
} dims_t;

static dims_t dims(const mu_tstep_t *s, const mu_param_t *p) {
    dims_t d;
    d.nv = mu_param_views(p, (int32_t)s->hp[K_SPLIT], MU_VIEW_LOGICAL, &d.m, &d.n);
    d.k = (int64_t)s->hp[K_RANK] < d.n ? (int64_t)s->hp[K_RANK] : d.n;
    return d;
}

static mu_orth_config_t ns5(void) {
    mu_orth_config_t oc = mu_orth_config_default();
    oc.kind = MU_ORTH_NS5;
    oc.steps = 5;
    oc.prec = MU_PREC_F32;
    return oc;
}

static size_t cosmos_state(const mu_tstep_t *s, const mu_param_t *p) {
    if (p->ndim != 2) return 0;
    const dims_t d = dims(s, p);
    return (size_t)(d.nv * (d.n * d.k + d.k * d.k + d.m * d.k));
}

static size_t cosmos_scratch(const mu_tstep_t *s, const mu_param_t *p) {
    if (p->ndim != 2) return 0;
    const dims_t d = dims(s, p);
    mu_orth_config_t oc = ns5();
    const size_t qr = mu_qr_workspace_floats(d.n, d.k), orth = mu_orth_workspace_floats(d.m, d.n, &oc);
    return (size_t)(2 * d.m * d.n + 2 * d.m * d.k + d.n * d.k + 2 * d.k * d.k) + (qr > orth ? qr : orth);
}

static int cosmos_check(const mu_tstep_t *s, const mu_param_t *p, const mu_gemm_ctx_t *gemm, const char *who) {
    MU_TRY(mu_views_check(p, (int32_t)s->hp[K_SPLIT], who));
    if (!gemm) return mu_set_error(MU_EINVAL, "%s: COSMOS needs a compute context (gemm = NULL)", who);
    return MU_OK;
}

/* C = op(A)·op(B) (+ beta C) with tight strides. */
static int mm(mu_gemm_ctx_t *g, int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *A,
              const float *B, float beta, float *C) {
    mu_gemm_desc_t d = mu_gemm_desc(ta, tb, m, n, k, alpha, beta);
    return mu_gemm(g, &d, A, B, C);
}

/* t = 1: P = top-k eigenvectors of GᵀG (descending), S = (1-b2)·diag(top-k eigenvalues). */
static int first_basis(const float *G, int64_t m, int64_t n, int64_t k, float b2, float *P, float *S,
                       const char *name) {
    double *Gd = malloc(sizeof(double) * (size_t)(m * n + n * n + n));
    if (!Gd) return mu_set_error(MU_ENOMEM, "optim subspace_cosmos on '%s': out of memory", name);
    double *C = Gd + m * n, *w = C + n * n;
    for (int64_t i = 0; i < m * n; i++) Gd[i] = G[i];
    // C (n×n) = GᵀG, upper triangle
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (blasint)n, (blasint)m, 1.0, Gd, (blasint)n, 0.0, C, (blasint)n);
    lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', (lapack_int)n, C, (lapack_int)n, w);
    if (info == 0) {
        memset(S, 0, sizeof(float) * (size_t)(k * k));
        for (int64_t j = 0; j < k; j++) {  // eigenvalues ascend: column n-1-j is the j-th largest
            for (int64_t i = 0; i < n; i++) P[i * k + j] = (float)C[i * n + (n - 1 - j)];
            S[j * k + j] = (float)((1.0 - (double)b2) * w[n - 1 - j]);
        }
    }
    free(Gd);
    if (info != 0)
        return mu_set_error(MU_ENONFINITE, "optim subspace_cosmos on '%s': eigensolve of GᵀG failed (dsyevd info %d)",
                            name, (int)info);
    return MU_OK;
}

static int cosmos_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *state, mu_param_t *p) {
    const float b1 = s->hp[K_B1], b2 = s->hp[K_B2], eps = s->hp[K_EPS], gamma = s->hp[K_GAMMA];
    const dims_t d = dims(s, p);
    const int64_t m = d.m, n = d.n, k = d.k, mn = m * n;
    const double t = (double)ctx->t;
    const double bc1 = (1.0 - pow((double)b1, t)) / (1.0 - (double)b1);
    const float inv_nest = (float)(1.0 / (1.0 + (double)b1 * bc1));
    const float rbc2 = (float)sqrt(1.0 - pow((double)b2, t));  // sqrt(bc2)
    mu_gemm_ctx_t *g = ctx->gemm;
    float *Gh = ctx->scratch, *R = Gh + mn, *GP = R + mn, *Y = GP + m * k, *Pt = Y + m * k, *J = Pt + n * k,
          *T1 = J + k * k, *ws = T1 + k * k;
    for (int64_t v = 0; v < d.nv; v++) {
        float *P = state + v * (n * k + k * k + m * k), *S = P + n * k, *V = S + k * k;
        float *M = U + v * mn;
        const float *G = p->grad + v * mn;
        if (ctx->t == 1) {
            MU_TRY(first_basis(G, m, n, k, b2, P, S, p->name));
        } else {
            // P̃ (n×k) = b2·P_old·S + (1-b2)·Gᵀ(G·P_old)
            MU_TRY(mm(g, 0, 0, m, k, n, 1.0f, G, P, 0.0f, GP));
            MU_TRY(mm(g, 0, 0, n, k, k, b2, P, S, 0.0f, Pt));
            MU_TRY(mm(g, 1, 0, n, k, m, 1.0f - b2, G, GP, 1.0f, Pt));
            if (mu_qr_thin(Pt, n, k, ws, NULL) != MU_OK) {
                char why[256];
                snprintf(why, sizeof why, "%s", mu_last_error());  // copy: set_error rewrites the message
                return mu_set_error(MU_ENONFINITE, "optim subspace_cosmos on '%s': %s", p->name, why);
            }
            // J = P_oldᵀ·P_new;  S <- b2·Jᵀ·S·J (the (GP)ᵀ(GP) term follows with the new GP)
            MU_TRY(mm(g, 1, 0, k, k, n, 1.0f, P, Pt, 0.0f, J));
            MU_TRY(mm(g, 0, 0, k, k, k, 1.0f, S, J, 0.0f, T1));
            MU_TRY(mm(g, 1, 0, k, k, k, b2, J, T1, 0.0f, S));
            memcpy(P, Pt, sizeof(float) * (size_t)(n * k));
        }
        MU_TRY(mm(g, 0, 0, m, k, n, 1.0f, G, P, 0.0f, GP));  // GP with the new basis
        if (ctx->t > 1) MU_TRY(mm(g, 1, 0, k, k, m, 1.0f - b2, GP, GP, 1.0f, S));
#pragma omp parallel for schedule(static) if (m * k >= 65536)
        for (int64_t i = 0; i < m * k; i++) V[i] = b2 * V[i] + (1.0f - b2) * GP[i] * GP[i];
        // Ĝ = (G + b1·M)/(1 + b1·bc1)
#pragma omp parallel for schedule(static) if (mn >= 65536)
        for (int64_t i = 0; i < mn; i++) Gh[i] = (G[i] + b1 * M[i]) * inv_nest;
        // A = (ĜP / (sqrt(V)/sqrt(bc2) + eps))·Pᵀ, written into U's view
        MU_TRY(mm(g, 0, 0, m, k, n, 1.0f, Gh, P, 0.0f, GP));  // GP now holds ĜP
#pragma omp parallel for schedule(static) if (m * k >= 65536)
        for (int64_t i = 0; i < m * k; i++) Y[i] = GP[i] / (sqrtf(V[i]) / rbc2 + eps);
        MU_TRY(mm(g, 0, 1, m, n, k, 1.0f, Y, P, 0.0f, M));
        if (k == n) continue;  // empty residual: B = 0 exactly
        // R = Ĝ - (ĜP)Pᵀ;  B = ns5(R) scaled to RMS 1;  U' = A + gamma·B
        memcpy(R, Gh, sizeof(float) * (size_t)mn);
        MU_TRY(mm(g, 0, 1, m, n, k, -1.0f, GP, P, 1.0f, R));
        mu_orth_config_t oc = ns5();
        MU_TRY(mu_orth(g, &oc, R, m, n, R, ws));
        const double fn = sqrt(mu_dot_f64(R, R, mn));
        const float a = (float)((double)gamma * sqrt((double)mn) / (fn + (double)eps));
#pragma omp parallel for schedule(static) if (mn >= 65536)
        for (int64_t i = 0; i < mn; i++) M[i] += a * R[i];
    }
    return MU_OK;
}

const mu_transform_t mu_tr_subspace_cosmos = {
    .name = "subspace_cosmos", .keys = keys, .n_keys = 6, .state_size = cosmos_state,
    .scratch_size = cosmos_scratch, .update = cosmos_update, .check = cosmos_check,
};

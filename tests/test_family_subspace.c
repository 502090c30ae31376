/* test_family_subspace.c — Conda and COSMOS (optimizers-lmo.md §12, §13) against references
 * computed here in double through LAPACKE_dgesdd:
 *   conda:  first step ΔW/η = -s·sign(P_L)·P_Rᵀ (m >= n) or -s·P_L·sign(P_Rᵀ) (m < n), rel 1e-4;
 *           first-step RMS(ΔW)/η = s; P bitwise constant between refreshes, new at a refresh;
 *           seven steps by hand (moments, bias corrections, v carried across refreshes), rel 1e-4.
 *   cosmos: RMS(ΔW + ηλW)/η = ratio every step; ‖PᵀP - I‖max < 1e-5 after every step;
 *           rank = n: B = 0 and the first step is U = sign(G·P_R)·P_Rᵀ exactly (Ĝ = G at t = 1);
 *           rank 4 < n: three steps by hand (basis update, S, V, Nesterov Ĝ, ns5 residual), rel 1e-4.
 *   errors: out-of-range rank/period, structural rank after init.
 * Parameters are built by hand (no model). */
#include "testutil.h"

#include "muon/optim.h"
#include "optim/transform.h"
#include "optim_ref.h"

/* One hidden matrix (m, n) owning its data and grad (free_param). */
static mu_param_t make_param(const char *name, int64_t m, int64_t n) {
    reg_t r = {0};
    mu_param_t p = *reg_add(&r, name, MU_ROLE_HIDDEN, 2, m, n);
    p.layer = 0;
    return p;
}

static void free_param(mu_param_t *p) {
    free(p->data);
    free(p->grad);
}

/* uniform(-1, 1), seeded */
static void fill(float *x, int64_t n, uint64_t seed) { fill_lcg(x, n, seed, 1, 1.0f); }

/* Thin SVD of G (m×n) in double: L (m×k), RT (k×n), k = min(m, n); the singular values
 * (descending) into sv when not NULL. */
static void svd(const float *G, int64_t m, int64_t n, double *L, double *RT, double *sv) {
    const int64_t k = m < n ? m : n;
    double *A = malloc(sizeof(double) * (size_t)(m * n)), *S = malloc(sizeof(double) * (size_t)k);
    for (int64_t i = 0; i < m * n; i++) A[i] = G[i];
    assert_int_equal(LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', (lapack_int)m, (lapack_int)n, A, (lapack_int)n, S, L,
                                    (lapack_int)k, RT, (lapack_int)n),
                     0);
    if (sv) memcpy(sv, S, sizeof(double) * (size_t)k);
    free(A);
    free(S);
}

/* One optimizer step of preset `name` on a single hidden matrix; returns ΔW in dw. */
static void preset_first_step(const char *name, int64_t m, int64_t n, const char *const *hp, int32_t nhp, double *dw,
                              double *eta) {
    mu_gemm_ctx_t *g = gemm_ctx();
    mu_param_t p = make_param("h", m, n);
    fill(p.data, p.numel, 3);
    fill(p.grad, p.numel, 4);
    mu_optim_config_t c;
    assert_int_equal(mu_optim_config_for_preset(name, &c), 0);
    c.weight_decay = 0.0f;
    c.hparams = hp;
    c.n_hparams = nhp;
    mu_optim_t *o = NULL;
    assert_int_equal(mu_optim_init(&o, &c, &p, 1, g), 0);
    float *w0 = malloc(sizeof(float) * (size_t)p.numel);
    memcpy(w0, p.data, sizeof(float) * (size_t)p.numel);
    assert_int_equal(mu_optim_step(o, 1.0f), 0);
    for (int64_t i = 0; i < p.numel; i++) dw[i] = (double)p.data[i] - (double)w0[i];
    *eta = c.lr;
    free(w0);
    mu_optim_free(o);
    free_param(&p);
    mu_gemm_ctx_free(g);
}

/* conda §12 tests (1), (2): first step from zero state, both orientations. */
static void test_conda_first_step(void **st) {
    (void)st;
    const int64_t shapes[2][2] = {{12, 8}, {8, 12}};
    for (int sh = 0; sh < 2; sh++) {
        const int64_t m = shapes[sh][0], n = shapes[sh][1], k = m < n ? m : n;
        double dw[96], eta, L[96], RT[96];
        preset_first_step("conda", m, n, NULL, 0, dw, &eta);
        float G[96];
        fill(G, m * n, 4);
        svd(G, m, n, L, RT, NULL);
        const double s = 0.25;
        double ss = 0;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                double e = 0;  // m >= n: sign(P_L)·P_Rᵀ;  m < n: P_L·sign(P_Rᵀ)
                for (int64_t l = 0; l < k; l++)
                    e += m >= n ? sgn(L[i * k + l]) * RT[l * n + j] : L[i * k + l] * sgn(RT[l * n + j]);
                assert_close(dw[i * n + j] / eta, -s * e, 1e-4 * s, 1e-4);
                ss += dw[i * n + j] * dw[i * n + j];
            }
        assert_close(sqrt(ss / (double)(m * n)) / eta, s, 0, 1e-4);  // RMS(ΔW)/η = s
    }
}

/* A bare link of a transform with its state, scratch and context. */
typedef struct {
    mu_tstep_t s;
    float *state, *scratch, *U;
    mu_tctx_t ctx;
} link_t;

static void link_open(link_t *l, const mu_transform_t *tr, mu_param_t *p, mu_gemm_ctx_t *g) {
    mu_tstep_defaults(&l->s, tr);
    l->state = calloc(tr->state_size(&l->s, p), sizeof(float));
    l->scratch = calloc(tr->scratch_size(&l->s, p), sizeof(float));
    l->U = calloc((size_t)p->numel, sizeof(float));
    memset(&l->ctx, 0, sizeof l->ctx);
    l->ctx.lr = 1.0f;
    l->ctx.scratch = l->scratch;
    l->ctx.gemm = g;
}

static void link_close(link_t *l) {
    free(l->state);
    free(l->scratch);
    free(l->U);
}

/* A COSMOS link of the given rank (the state and scratch sized for it). */
static void cosmos_open(link_t *l, mu_param_t *p, mu_gemm_ctx_t *g, int rank) {
    link_open(l, &mu_tr_subspace_cosmos, p, g);
    mu_tstep_t s = l->s;
    assert_int_equal(mu_tstep_set(&s, "rank", (float)rank, "test"), 0);
    link_close(l);
    l->s = s;
    l->state = calloc(mu_tr_subspace_cosmos.state_size(&s, p), sizeof(float));
    l->scratch = calloc(mu_tr_subspace_cosmos.scratch_size(&s, p), sizeof(float));
    l->U = calloc((size_t)p->numel, sizeof(float));
    l->ctx.scratch = l->scratch;
}

/* Conda by hand in double for one view (m×n), k = min(m, n), from the momentum M and gradient G:
 *   refresh: P from the thin SVD M = P_L Σ P_Rᵀ (m >= n: P = P_R; m < n: P = P_L), else P kept
 *   g̃ = proj(G), m̃ = proj(M)   (m >= n: X·P; m < n: Pᵀ·X);  v <- b2·v + (1-b2)·g̃²
 *   U' = sqrt(1-b2^t)/(1-b1^t) · s · back(m̃/(sqrt(v) + eps))   (back: Y·Pᵀ or P·Y)
 * P (k×k), v (m×n) carry between calls; out (m×n). */
static void conda_ref(const float *M, const float *G, int64_t m, int64_t n, int t, int refresh, double *P, double *v,
                      double *out) {
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8, s = 0.25;
    const int64_t k = m < n ? m : n, tall = m >= n;
    if (refresh) {
        double L[100], RT[100];
        svd(M, m, n, L, RT, NULL);
        for (int64_t i = 0; i < k; i++)
            for (int64_t j = 0; j < k; j++) P[i * k + j] = tall ? RT[j * n + i] : L[i * k + j];
    }
    double gt[100], mt[100];
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double g = 0, mm = 0;
            for (int64_t l = 0; l < k; l++) {
                const double w = tall ? P[l * k + j] : P[l * k + i];  // X·P: P_lj over X_il; Pᵀ·X: P_li over X_lj
                g += w * G[tall ? i * n + l : l * n + j];
                mm += w * M[tall ? i * n + l : l * n + j];
            }
            gt[i * n + j] = g, mt[i * n + j] = mm;
        }
    const double step = sqrt(1 - pow(b2, t)) / (1 - pow(b1, t)) * s;  // bias corrections, scale
    for (int64_t i = 0; i < m * n; i++) {
        v[i] = b2 * v[i] + (1 - b2) * gt[i] * gt[i];
        mt[i] = step * mt[i] / (sqrt(v[i]) + eps);
    }
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double e = 0;  // Y·Pᵀ: Y_il P_jl;  P·Y: P_il Y_lj
            for (int64_t l = 0; l < k; l++) e += tall ? mt[i * n + l] * P[j * k + l] : P[i * k + l] * mt[l * n + j];
            out[i * n + j] = e;
        }
}

/* conda §12 test (3) and the Adam algebra past t = 1: P (the tail of the state) is bitwise
 * constant between refreshes (period 3: t = 1, 4, 7) and new at one; every step's U' equals
 * conda_ref elementwise (rel 1e-4): t = 2, 3 check b1, b2, the bias corrections and the
 * accumulated v in a fixed basis, t = 4, 7 the new P with v carried over from the old basis.
 * M is the ema(b1) momentum the chain would feed; both orientations. */
static void test_conda_refresh(void **st) {
    (void)st;
    mu_gemm_ctx_t *g = gemm_ctx();
    const int64_t shapes[2][2] = {{10, 6}, {6, 10}};
    for (int sh = 0; sh < 2; sh++) {
        const int64_t m = shapes[sh][0], n = shapes[sh][1];
        mu_param_t p = make_param("h", m, n);
        link_t l;
        link_open(&l, &mu_tr_subspace_conda, &p, g);
        assert_int_equal(mu_tstep_set(&l.s, "period", 3, "test"), 0);
        float Pprev[36], M[60] = {0};
        double Pd[36], v[60] = {0}, e[60];
        const float *P = l.state + p.numel;  // [v | P]
        for (int t = 1; t <= 7; t++) {
            fill(p.grad, p.numel, 100 + (uint64_t)t);
            for (int64_t i = 0; i < p.numel; i++) l.U[i] = M[i] = 0.9f * M[i] + 0.1f * p.grad[i];  // ema(b1)
            const int refreshed = (t - 1) % 3 == 0;
            conda_ref(M, p.grad, m, n, t, refreshed, Pd, v, e);
            l.ctx.t = t;
            assert_int_equal(mu_tr_subspace_conda.update(&l.s, &l.ctx, l.U, l.state, &p), 0);
            if (t > 1) assert_int_equal(memcmp(P, Pprev, sizeof Pprev) != 0, refreshed);
            memcpy(Pprev, P, sizeof Pprev);
            double ss = 0;
            for (int64_t i = 0; i < p.numel; i++) ss += e[i] * e[i];
            const double rms = sqrt(ss / (double)p.numel);
            for (int64_t i = 0; i < p.numel; i++) assert_close(l.U[i], e[i], 1e-4 * rms, 1e-4);
        }
        link_close(&l);
        free_param(&p);
    }
    mu_gemm_ctx_free(g);
}

/* cosmos §13 test (1): RMS(ΔW + ηλW)/η = ratio (0.2) every step, rank 4 < n. */
static void test_cosmos_rms(void **st) {
    (void)st;
    mu_gemm_ctx_t *g = gemm_ctx();
    const int64_t m = 16, n = 24;
    mu_param_t p = make_param("h", m, n);
    fill(p.data, p.numel, 9);
    mu_optim_config_t c;
    assert_int_equal(mu_optim_config_for_preset("cosmos", &c), 0);
    const char *hp[] = {"matrix.subspace_cosmos.rank=4"};
    c.hparams = hp;
    c.n_hparams = 1;
    mu_optim_t *o = NULL;
    assert_int_equal(mu_optim_init(&o, &c, &p, 1, g), 0);
    const double eta = c.lr, lam = c.weight_decay;
    for (int t = 1; t <= 4; t++) {
        fill(p.grad, p.numel, 20 + (uint64_t)t);
        float w0[384];
        memcpy(w0, p.data, sizeof w0);
        assert_int_equal(mu_optim_step(o, 1.0f), 0);
        double ss = 0;
        for (int64_t i = 0; i < p.numel; i++) {
            const double d = (double)p.data[i] - (1.0 - eta * lam) * (double)w0[i];  // -η·U
            ss += d * d;
        }
        assert_close(sqrt(ss / (double)p.numel) / eta, 0.2, 0, 1e-5);
    }
    mu_optim_free(o);
    free_param(&p);
    mu_gemm_ctx_free(g);
}

/* cosmos §13 test (2): P stays orthonormal. */
static void test_cosmos_orthonormal(void **st) {
    (void)st;
    mu_gemm_ctx_t *g = gemm_ctx();
    const int64_t m = 20, n = 16, k = 5;
    mu_param_t p = make_param("h", m, n);
    link_t l;
    cosmos_open(&l, &p, g, k);
    float *M = calloc((size_t)p.numel, sizeof(float));
    for (int t = 1; t <= 6; t++) {
        fill(p.grad, p.numel, 40 + (uint64_t)t);
        for (int64_t i = 0; i < p.numel; i++) l.U[i] = M[i] = 0.9f * M[i] + p.grad[i];  // sum momentum
        l.ctx.t = t;
        assert_int_equal(mu_tr_subspace_cosmos.update(&l.s, &l.ctx, l.U, l.state, &p), 0);
        const float *P = l.state;  // [P (n×k) | S | V]
        double worst = 0;
        for (int64_t a = 0; a < k; a++)
            for (int64_t b = 0; b < k; b++) {
                double d = 0;
                for (int64_t i = 0; i < n; i++) d += (double)P[i * k + a] * P[i * k + b];
                d -= a == b;
                if (fabs(d) > worst) worst = fabs(d);
            }
        assert_true(worst < 1e-5);
    }
    free(M);
    link_close(&l);
    free_param(&p);
    mu_gemm_ctx_free(g);
}

/* cosmos §13 test (3): rank = n: B = 0 and the first step is sign(G·P_R)·P_Rᵀ (M = G, Ĝ = G). */
static void test_cosmos_full_rank(void **st) {
    (void)st;
    mu_gemm_ctx_t *g = gemm_ctx();
    const int64_t m = 12, n = 8;
    mu_param_t p = make_param("h", m, n);
    link_t l;
    link_open(&l, &mu_tr_subspace_cosmos, &p, g);  // rank 64 >= n: k = n
    fill(p.grad, p.numel, 77);
    memcpy(l.U, p.grad, sizeof(float) * (size_t)p.numel);
    l.ctx.t = 1;
    assert_int_equal(mu_tr_subspace_cosmos.update(&l.s, &l.ctx, l.U, l.state, &p), 0);
    double L[96], RT[64], GP[96];
    svd(p.grad, m, n, L, RT, NULL);
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double sum = 0;
            for (int64_t l2 = 0; l2 < n; l2++) sum += (double)p.grad[i * n + l2] * RT[j * n + l2];
            GP[i * n + j] = sum;
        }
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double e = 0;
            for (int64_t l2 = 0; l2 < n; l2++) e += sgn(GP[i * n + l2]) * RT[l2 * n + j];
            assert_close(l.U[i * n + j], e, 1e-4, 1e-4);
        }
    link_close(&l);
    free_param(&p);
    mu_gemm_ctx_free(g);
}

/* Q of the thin QR of X (n×k) in double, modified Gram-Schmidt run twice (column signs may
 * differ from CholeskyQR's: the update is invariant under P -> P·diag(±1)). */
static void ref_qr(double *X, int64_t n, int64_t k) {
    for (int pass = 0; pass < 2; pass++)
        for (int64_t j = 0; j < k; j++) {
            for (int64_t a = 0; a < j; a++) {
                double d = 0;
                for (int64_t i = 0; i < n; i++) d += X[i * k + a] * X[i * k + j];
                for (int64_t i = 0; i < n; i++) X[i * k + j] -= d * X[i * k + a];
            }
            double nn = 0;
            for (int64_t i = 0; i < n; i++) nn += X[i * k + j] * X[i * k + j];
            for (int64_t i = 0; i < n; i++) X[i * k + j] /= sqrt(nn);
        }
}

/* cosmos §13 past t = 1, rank k = 4 < n with the residual term, by hand in double (b1 0.9,
 * b2 0.999, eps 1e-8, gamma 0.2), M <- 0.9·M + G (the chain's sum):
 *   t = 1: P = top-k right singular vectors of G (eigenvectors of GᵀG), S = (1-b2)·diag(σ²)
 *   t > 1: P = Q(b2·P_old·S + (1-b2)·GᵀG·P_old), J = P_oldᵀP, S = b2·JᵀSJ + (1-b2)·(GP)ᵀ(GP)
 *   V <- b2·V + (1-b2)·(GP)²;  Ĝ = (G + b1·M)/(1 + b1·(1-b1^t)/(1-b1))
 *   U' = (ĜP/(sqrt(V)/sqrt(1-b2^t) + eps))·Pᵀ + gamma·sqrt(mn)·B/(‖B‖_F + eps),
 *        B = ns5(Ĝ − ĜPPᵀ) (ref_poly, Keller's coefficients)
 * compared elementwise at t = 1, 2, 3 (rel 1e-4). */
static void test_cosmos_by_hand(void **st) {
    (void)st;
    enum { Mr = 12, Nc = 10, K = 4 };
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8, gamma = 0.2;
    mu_gemm_ctx_t *g = gemm_ctx();
    mu_param_t p = make_param("h", Mr, Nc);
    link_t l;
    cosmos_open(&l, &p, g, K);
    float M[Mr * Nc] = {0};
    double P[Nc * K], S[K * K], V[Mr * K] = {0}, G[Mr * Nc], Gh[Mr * Nc], GP[Mr * K], HP[Mr * K], Y[Mr * K];
    double A[Mr * Nc], R[Mr * Nc], B[Mr * Nc], HPP[Mr * Nc], Pt[Nc * K], J[K * K], T1[K * K];
    for (int t = 1; t <= 3; t++) {
        fill(p.grad, p.numel, 60 + (uint64_t)t);
        for (int64_t i = 0; i < p.numel; i++) l.U[i] = M[i] = 0.9f * M[i] + p.grad[i];  // sum(b1), float like the chain
        for (int64_t i = 0; i < p.numel; i++) G[i] = p.grad[i];
        if (t == 1) {
            double L[Mr * Nc], RT[Nc * Nc], sv[Nc];
            svd(p.grad, Mr, Nc, L, RT, sv);
            memset(S, 0, sizeof S);
            for (int64_t j = 0; j < K; j++) {
                for (int64_t i = 0; i < Nc; i++) P[i * K + j] = RT[j * Nc + i];
                S[j * K + j] = (1 - b2) * sv[j] * sv[j];  // eigenvalue of GᵀG = σ²
            }
        } else {
            dmm(G, P, GP, Mr, Nc, K, 0);  // G·P_old
            dmm(P, S, Pt, Nc, K, K, 0);
            for (int64_t a = 0; a < Nc; a++)
                for (int64_t j = 0; j < K; j++) {
                    double gg = 0;  // (Gᵀ·G·P_old)_aj
                    for (int64_t i = 0; i < Mr; i++) gg += G[i * Nc + a] * GP[i * K + j];
                    Pt[a * K + j] = b2 * Pt[a * K + j] + (1 - b2) * gg;
                }
            ref_qr(Pt, Nc, K);
            for (int64_t a = 0; a < K; a++)  // J = P_oldᵀ·P_new
                for (int64_t b = 0; b < K; b++) {
                    double d = 0;
                    for (int64_t i = 0; i < Nc; i++) d += P[i * K + a] * Pt[i * K + b];
                    J[a * K + b] = d;
                }
            dmm(S, J, T1, K, K, K, 0);  // S·J
            for (int64_t a = 0; a < K; a++)
                for (int64_t b = 0; b < K; b++) {
                    double d = 0;  // (Jᵀ·S·J)_ab
                    for (int64_t c = 0; c < K; c++) d += J[c * K + a] * T1[c * K + b];
                    S[a * K + b] = b2 * d;
                }
            memcpy(P, Pt, sizeof P);
        }
        dmm(G, P, GP, Mr, Nc, K, 0);  // GP in the new basis
        if (t > 1)
            for (int64_t a = 0; a < K; a++)
                for (int64_t b = 0; b < K; b++) {
                    double d = 0;
                    for (int64_t i = 0; i < Mr; i++) d += GP[i * K + a] * GP[i * K + b];
                    S[a * K + b] += (1 - b2) * d;
                }
        for (int64_t i = 0; i < Mr * K; i++) V[i] = b2 * V[i] + (1 - b2) * GP[i] * GP[i];
        const double bc1 = (1 - pow(b1, t)) / (1 - b1), rbc2 = sqrt(1 - pow(b2, t));
        for (int64_t i = 0; i < p.numel; i++) Gh[i] = (G[i] + b1 * M[i]) / (1 + b1 * bc1);  // Nesterov form
        dmm(Gh, P, HP, Mr, Nc, K, 0);
        for (int64_t i = 0; i < Mr * K; i++) Y[i] = HP[i] / (sqrt(V[i]) / rbc2 + eps);
        dmm(Y, P, A, Mr, K, Nc, 1);  // Adam part in the subspace, back: ·Pᵀ
        dmm(HP, P, HPP, Mr, K, Nc, 1);  // ĜPPᵀ: Ĝ's part in the subspace
        for (int64_t i = 0; i < p.numel; i++) R[i] = Gh[i] - HPP[i];
        ref_poly(R, Mr, Nc, 0, 5, B);  // Muon on the residual
        double fb = 0;
        for (int64_t i = 0; i < p.numel; i++) fb += B[i] * B[i];
        const double a = gamma * sqrt((double)(Mr * Nc)) / (sqrt(fb) + eps);
        l.ctx.t = t;
        assert_int_equal(mu_tr_subspace_cosmos.update(&l.s, &l.ctx, l.U, l.state, &p), 0);
        double ss = 0, e[Mr * Nc];
        for (int64_t i = 0; i < p.numel; i++) e[i] = A[i] + a * B[i], ss += e[i] * e[i];
        const double rms = sqrt(ss / (double)p.numel);
        for (int64_t i = 0; i < p.numel; i++) assert_close(l.U[i], e[i], 1e-4 * rms, 1e-4);
    }
    link_close(&l);
    free_param(&p);
    mu_gemm_ctx_free(g);
}

static void test_errors(void **st) {
    (void)st;
    mu_gemm_ctx_t *g = gemm_ctx();
    mu_param_t p = make_param("h", 8, 8);
    mu_optim_config_t c;
    mu_optim_t *o = NULL;
    assert_int_equal(mu_optim_config_for_preset("cosmos", &c), 0);
    const char *bad_rank[] = {"matrix.subspace_cosmos.rank=0"};
    c.hparams = bad_rank;
    c.n_hparams = 1;
    assert_int_equal(mu_optim_init(&o, &c, &p, 1, g), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "rank"));
    c.n_hparams = 0;
    assert_int_equal(mu_optim_init(&o, &c, &p, 1, g), 0);
    assert_int_equal(mu_optim_set_hparam(o, "matrix.subspace_cosmos.rank", 4), MU_EINVAL);  // structural
    assert_non_null(strstr(mu_last_error(), "structural"));
    assert_int_equal(mu_optim_set_hparam(o, "matrix.subspace_cosmos.gamma", 0.5f), 0);
    assert_int_equal(mu_optim_set_hparam_str(o, "matrix.subspace_cosmos.gamma=-1"), MU_EINVAL);
    mu_optim_free(o);
    o = NULL;
    assert_int_equal(mu_optim_config_for_preset("conda", &c), 0);
    const char *bad_period[] = {"matrix.subspace_conda.period=0"};
    c.hparams = bad_period;
    c.n_hparams = 1;
    assert_int_equal(mu_optim_init(&o, &c, &p, 1, g), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "period"));
    assert_null(o);
    free_param(&p);
    mu_gemm_ctx_free(g);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_conda_first_step),  cmocka_unit_test(test_conda_refresh),
    cmocka_unit_test(test_cosmos_rms),        cmocka_unit_test(test_cosmos_orthonormal),
    cmocka_unit_test(test_cosmos_full_rank),  cmocka_unit_test(test_cosmos_by_hand),
    cmocka_unit_test(test_errors),
};

MU_TEST_MAIN(tests)

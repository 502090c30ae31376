/* test_family_subspace.c — Conda and COSMOS (optimizers-lmo.md §12, §13) against references
 * computed here in double through LAPACKE_dgesdd:
 *   conda:  first step ΔW/η = -s·sign(P_L)·P_Rᵀ (m >= n) or -s·P_L·sign(P_Rᵀ) (m < n), rel 1e-4;
 *           first-step RMS(ΔW)/η = s; P bitwise constant between refreshes, new at a refresh.
 *   cosmos: RMS(ΔW + ηλW)/η = ratio every step; ‖PᵀP - I‖max < 1e-5 after every step;
 *           rank = n: B = 0 and the first step is U = sign(G·P_R)·P_Rᵀ exactly (Ĝ = G at t = 1).
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

/* Thin SVD of G (m×n) in double: L (m×k), RT (k×n), k = min(m, n). */
static void svd(const float *G, int64_t m, int64_t n, double *L, double *RT) {
    const int64_t k = m < n ? m : n;
    double *A = malloc(sizeof(double) * (size_t)(m * n)), *S = malloc(sizeof(double) * (size_t)k);
    for (int64_t i = 0; i < m * n; i++) A[i] = G[i];
    assert_int_equal(LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', (lapack_int)m, (lapack_int)n, A, (lapack_int)n, S, L,
                                    (lapack_int)k, RT, (lapack_int)n),
                     0);
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
        svd(G, m, n, L, RT);
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

/* conda §12 test (3): P (the tail of the state) is bitwise constant between refreshes. */
static void test_conda_refresh(void **st) {
    (void)st;
    mu_gemm_ctx_t *g = gemm_ctx();
    const int64_t m = 10, n = 6;
    mu_param_t p = make_param("h", m, n);
    link_t l;
    link_open(&l, &mu_tr_subspace_conda, &p, g);
    assert_int_equal(mu_tstep_set(&l.s, "period", 3, "test"), 0);
    float Pprev[36];
    const float *P = l.state + p.numel;  // [v | P]
    for (int t = 1; t <= 7; t++) {
        fill(p.grad, p.numel, 100 + (uint64_t)t);
        for (int64_t i = 0; i < p.numel; i++) l.U[i] = 0.1f * p.grad[i] + l.U[i];  // some momentum-like U
        l.ctx.t = t;
        assert_int_equal(mu_tr_subspace_conda.update(&l.s, &l.ctx, l.U, l.state, &p), 0);
        if (t > 1) {
            const int refreshed = (t - 1) % 3 == 0;
            assert_int_equal(memcmp(P, Pprev, sizeof Pprev) != 0, refreshed);
        }
        memcpy(Pprev, P, sizeof Pprev);
        for (int64_t i = 0; i < p.numel; i++) assert_true(isfinite(l.U[i]));
    }
    link_close(&l);
    free_param(&p);
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
    link_open(&l, &mu_tr_subspace_cosmos, &p, g);
    mu_tstep_t s = l.s;
    assert_int_equal(mu_tstep_set(&s, "rank", (float)k, "test"), 0);
    link_close(&l);
    l.s = s;
    l.state = calloc(mu_tr_subspace_cosmos.state_size(&s, &p), sizeof(float));
    l.scratch = calloc(mu_tr_subspace_cosmos.scratch_size(&s, &p), sizeof(float));
    l.U = calloc((size_t)p.numel, sizeof(float));
    l.ctx.scratch = l.scratch;
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
    svd(p.grad, m, n, L, RT);
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
    cmocka_unit_test(test_cosmos_full_rank),  cmocka_unit_test(test_errors),
};

MU_TEST_MAIN(tests)

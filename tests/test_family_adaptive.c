/* test_family_adaptive.c — the adaptive Muons (optimizers-lmo.md §6-§9, §11): the transforms
 * they introduce (row_moment, elem_moment, row_normalize, capture, frob_match, norm_adapt,
 * nuclear_scale) against hand-computed numbers, one step of every preset (normuon,
 * normuon-paper, adamuon, adamuon-paper, namo, namo-d, rmnp, rmnp-readme, polargrad) against
 * a double-precision computation (here and tests/optim_ref.h), the spec's testable properties with their
 * numbers, state round trips and hyperparameter errors. Parameters are built by hand. */
#include "testutil.h"

#include "muon/optim.h"
#include "muon/orth.h"
#include "optim/capture.h"
#include "optim/lines.h"
#include "optim/transform.h"
#include "optim_ref.h"

/* uniform(-scale, scale), xorshift64* */
static void fill(float *x, int64_t n, uint64_t seed, float scale) {
    uint64_t s = seed * 2654435761ULL + 88172645463325252ULL;
    for (int64_t i = 0; i < n; i++) {
        s ^= s >> 12, s ^= s << 25, s ^= s >> 27;
        x[i] = scale * (float)((double)((s * 2685821657736338717ULL) >> 11) / 4503599627370496.0 - 1.0);
    }
}

/* A link with its transform's defaults, then key = value pairs (NULL-terminated). */
static mu_tstep_t link_of(const mu_transform_t *tr, ...) {
    mu_tstep_t s;
    mu_tstep_defaults(&s, tr);
    va_list ap;
    va_start(ap, tr);
    for (const char *k = va_arg(ap, const char *); k; k = va_arg(ap, const char *))
        assert_int_equal(mu_tstep_set(&s, k, (float)va_arg(ap, double), "test"), 0);
    va_end(ap);
    return s;
}

/* Run links[0..n) once on U for p at step t with a fresh-enough scratch. */
static int run(const mu_tstep_t *links, int32_t n, float *U, float *state, mu_param_t *p, int64_t t, float lr,
               mu_gemm_ctx_t *g) {
    size_t sc = mu_chain_scratch_size(links, n, p);
    float *scratch = calloc(sc + 1, sizeof(float));
    mu_tctx_t ctx = {.lr = lr, .t = t, .scratch = scratch, .gemm = g};
    int rc = mu_chain_run(links, n, &ctx, U, state, p);
    free(scratch);
    return rc;
}

/* ---- double references ---- */
static double dnorm(const double *x, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += x[i] * x[i];
    return sqrt(s);
}

/* Random orthonormal columns: Q (n, k) from the QR of a random matrix. */
static void rand_orthonormal(double *Q, int64_t n, int64_t k, uint64_t seed) {
    float *tmp = malloc(sizeof(float) * (size_t)(n * k));
    double *tau = malloc(sizeof(double) * (size_t)k);
    fill(tmp, n * k, seed, 1.0f);
    for (int64_t i = 0; i < n * k; i++) Q[i] = tmp[i];
    assert_int_equal(LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (lapack_int)n, (lapack_int)k, Q, (lapack_int)k, tau), 0);
    assert_int_equal(LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (lapack_int)n, (lapack_int)k, (lapack_int)k, Q, (lapack_int)k, tau),
                     0);
    free(tmp), free(tau);
}

/* ==================== 1. transforms against hand-computed numbers ==================== */

/* row_moment on a (2, 2): rows (3, 4) and (0, 2), b2 = 0.5, two steps, both eps modes. */
static void test_row_moment_hand(void **st) {
    (void)st;
    reg_t r = {0};
    mu_param_t *p = reg_add(&r, "w", MU_ROLE_HIDDEN, 2, 2, 2);
    for (int inside = 0; inside <= 1; inside++) {
        mu_tstep_t s = link_of(&mu_tr_row_moment, "b2", 0.5, "eps", 0.01, "eps_mode", (double)inside, NULL);
        assert_int_equal(mu_chain_state_size(&s, 1, p), 2);  // one v per output row
        float v[2] = {0, 0}, U[4] = {3, 4, 0, 2};
        assert_int_equal(run(&s, 1, U, v, p, 1, 1.0f, NULL), 0);
        // v = 0.5·mean(U²): row 0 (9+16)/2·0.5 = 6.25, row 1 4/2·0.5 = 1
        assert_close(v[0], 6.25, 0, 1e-7);
        assert_close(v[1], 1.0, 0, 1e-7);
        const double d0 = inside ? sqrt(6.25 + 0.01) : 2.5 + 0.01, d1 = inside ? sqrt(1.01) : 1.01;
        assert_close(U[0], 3 / d0, 0, 1e-6);
        assert_close(U[1], 4 / d0, 0, 1e-6);
        assert_close(U[2], 0, 0, 0);
        assert_close(U[3], 2 / d1, 0, 1e-6);
        // step 2 on U = (1, 1; 2, 0): v = 0.5·v + 0.5·mean
        float U2[4] = {1, 1, 2, 0};
        assert_int_equal(run(&s, 1, U2, v, p, 2, 1.0f, NULL), 0);
        assert_close(v[0], 0.5 * 6.25 + 0.5 * 1.0, 0, 1e-7);
        assert_close(v[1], 0.5 * 1.0 + 0.5 * 2.0, 0, 1e-7);
        const double e0 = inside ? sqrt(3.625 + 0.01) : sqrt(3.625) + 0.01;
        assert_close(U2[0], 1 / e0, 0, 1e-6);
    }
    reg_free(&r);
}

/* Axis: neuron = rows of a Linear (d_out, d_in) in either orientation (spec §6 test 3), columns
 * of an untied embedding table (V, d); col under split = qkv counts each view's columns. */
static void test_row_moment_axis(void **st) {
    (void)st;
    reg_t r = {0};
    mu_param_t *a = reg_add(&r, "wide", MU_ROLE_HIDDEN, 2, 64, 128);
    mu_param_t *b = reg_add(&r, "tall", MU_ROLE_HIDDEN, 2, 128, 64);
    mu_param_t *e = reg_add(&r, "wte", MU_ROLE_EMBED, 2, 10, 4);
    mu_param_t *q = reg_add(&r, "qkv", MU_ROLE_HIDDEN, 2, 12, 4);
    q->n_split = 3;
    mu_tstep_t s = link_of(&mu_tr_row_moment, NULL);  // axis = neuron by default
    assert_int_equal(mu_chain_state_size(&s, 1, a), 64);
    assert_int_equal(mu_chain_state_size(&s, 1, b), 128);
    assert_int_equal(mu_chain_state_size(&s, 1, e), 4);
    e->tied = 1;  // tied token table = the head: rows
    assert_int_equal(mu_chain_state_size(&s, 1, e), 10);
    mu_tstep_t c = link_of(&mu_tr_row_moment, "axis", 1.0, NULL);
    assert_int_equal(mu_chain_state_size(&c, 1, q), 12);  // 3 views x 4 columns
    mu_tstep_t cf = link_of(&mu_tr_row_moment, "axis", 1.0, "split", 0.0, NULL);
    assert_int_equal(mu_chain_state_size(&cf, 1, q), 4);
    // col axis on the (12, 4) qkv: column j of view k holds rows 4k..4k+3
    for (int64_t i = 0; i < 48; i++) q->grad[i] = (float)(i / 16 + 1);  // view k is all k+1
    float v[12] = {0}, U[48];
    memcpy(U, q->grad, sizeof U);
    mu_tstep_t c1 = link_of(&mu_tr_row_moment, "axis", 1.0, "b2", 0.0, "eps", 0.0, NULL);
    assert_int_equal(run(&c1, 1, U, v, q, 1, 1.0f, NULL), 0);
    for (int k = 0; k < 3; k++) assert_close(v[k * 4 + 1], (k + 1) * (k + 1), 0, 1e-7);
    for (int64_t i = 0; i < 48; i++) assert_close(U[i], 1.0, 0, 1e-7);  // b2 = 0: U/RMS(col) = ±1
    reg_free(&r);
}

/* elem_moment: V <- b2 V + (1-b2) U², U/(sqrt V + eps), two steps. */
static void test_elem_moment_hand(void **st) {
    (void)st;
    reg_t r = {0};
    mu_param_t *p = reg_add(&r, "w", MU_ROLE_HIDDEN, 2, 1, 3);
    mu_tstep_t s = link_of(&mu_tr_elem_moment, "b2", 0.75, "eps", 0.5, NULL);
    float V[3] = {0}, U[3] = {2, -4, 0};
    assert_int_equal(run(&s, 1, U, V, p, 1, 1.0f, NULL), 0);
    assert_close(V[0], 1.0, 0, 1e-7);   // 0.25·4
    assert_close(V[1], 4.0, 0, 1e-7);   // 0.25·16
    assert_close(U[0], 2 / 1.5, 0, 1e-6);
    assert_close(U[1], -4 / 2.5, 0, 1e-6);
    assert_close(U[2], 0, 0, 0);
    float U2[3] = {0, 2, 1};
    assert_int_equal(run(&s, 1, U2, V, p, 2, 1.0f, NULL), 0);
    assert_close(V[1], 0.75 * 4 + 0.25 * 4, 0, 1e-7);
    assert_close(U2[1], 2 / (2.0 + 0.5), 0, 1e-6);
    assert_close(U2[2], 1 / (0.5 + 0.5), 0, 1e-6);
    assert_close(U2[0], 0, 0, 0);
    reg_free(&r);
}

/* row_normalize: max and add modes, zero rows stay 0, tiny rows hit eps. */
static void test_row_normalize_hand(void **st) {
    (void)st;
    reg_t r = {0};
    mu_param_t *p = reg_add(&r, "w", MU_ROLE_HIDDEN, 2, 3, 2);
    mu_tstep_t mx = link_of(&mu_tr_row_normalize, "eps", 0.1, NULL);
    float U[6] = {3, 4, 0, 0, 0.03f, 0.04f};
    assert_int_equal(run(&mx, 1, U, NULL, p, 1, 1.0f, NULL), 0);
    assert_close(U[0], 0.6, 0, 1e-7);
    assert_close(U[1], 0.8, 0, 1e-7);
    assert_close(U[2], 0, 0, 0);
    assert_close(U[4], 0.3, 0, 1e-6);  // ‖row‖ = 0.05 < eps: / 0.1
    mu_tstep_t ad = link_of(&mu_tr_row_normalize, "eps", 0.1, "mode", 1.0, NULL);
    float V[6] = {3, 4, 0, 0, 0.03f, 0.04f};
    assert_int_equal(run(&ad, 1, V, NULL, p, 1, 1.0f, NULL), 0);
    assert_close(V[0], 3 / 5.1, 0, 1e-6);
    assert_close(V[5], 0.04 / 0.15, 0, 1e-6);
    assert_close(V[3], 0, 0, 0);
    reg_free(&r);
}

/* capture(fro) -> scale by 3 -> frob_match restores the norm; no capture is an error. */
static void test_capture_frob_match(void **st) {
    (void)st;
    reg_t r = {0};
    mu_param_t *p = reg_add(&r, "w", MU_ROLE_HIDDEN, 2, 2, 2);
    mu_tstep_t links[3] = {link_of(&mu_tr_capture, NULL), link_of(&mu_tr_scale, "a", 3.0, NULL),
                           link_of(&mu_tr_frob_match, "eps", 0.0, NULL)};
    assert_int_equal(mu_chain_state_size(links, 3, p), 1);  // one norm per matrix
    float U[4] = {1, 2, 2, 4}, state[1];
    assert_int_equal(run(links, 3, U, state, p, 7, 1.0f, NULL), 0);
    assert_close(state[0], 5.0, 0, 1e-7);
    assert_close(U[0], 1, 0, 1e-6);
    assert_close(U[3], 4, 0, 1e-6);
    // frob_match alone at another step: no capture ran for it
    assert_int_equal(run(&links[2], 1, U, NULL, p, 8, 1.0f, NULL), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "capture"));
    // capture(cols) stores the column norms
    mu_tstep_t cc = link_of(&mu_tr_capture, "what", 1.0, NULL);
    float ref[2], V[4] = {3, 1, 4, 0};
    assert_int_equal(mu_chain_state_size(&cc, 1, p), 2);
    assert_int_equal(run(&cc, 1, V, ref, p, 1, 1.0f, NULL), 0);
    assert_close(ref[0], 5.0, 0, 1e-7);
    assert_close(ref[1], 1.0, 0, 1e-7);
    assert_close(V[0], 3, 0, 0);  // U untouched
    reg_free(&r);
}

/* capture -> orth(exact) -> consumer, once on U at step t: a consumer reads the capture of its
 * own chain, and orth(exact) turns the diagonal test matrices into I (the consumer's input).
 * *cons_state: the consumer's state in the chain's arena (kept between calls of one test). */
static int run_captured(mu_tstep_t cap, mu_tstep_t cons, float *U, float **arena, float **cons_state, mu_param_t *p,
                        int64_t t, float lr) {
    mu_tstep_t links[3] = {cap, link_of(&mu_tr_orth, "kind", 4.0, NULL), cons};
    if (!*arena) *arena = calloc(mu_chain_state_size(links, 3, p) + 1, sizeof(float));
    *cons_state = mu_chain_link_state(links, 3, 2, *arena, p);
    mu_gemm_ctx_t *g = gemm_ctx();
    int rc = run(links, 3, U, *arena, p, t, lr, g);
    mu_gemm_ctx_free(g);
    return rc;
}

/* nuclear_scale after capture(tensor): ref = diag(3, 2, 1), U = orth(ref) = I -> 6·I. */
static void test_nuclear_scale_hand(void **st) {
    (void)st;
    reg_t r = {0};
    mu_param_t *p = reg_add(&r, "w", MU_ROLE_HIDDEN, 2, 3, 3);
    mu_tstep_t cap = link_of(&mu_tr_capture, "what", 2.0, NULL), ns = link_of(&mu_tr_nuclear_scale, NULL);
    float U[9] = {3, 0, 0, 0, 2, 0, 0, 0, 1}, *arena = NULL, *unused;
    assert_int_equal(run_captured(cap, ns, U, &arena, &unused, p, 1, 1.0f), 0);
    for (int i = 0; i < 9; i++) assert_close(U[i], i % 4 == 0 ? 6.0 : 0.0, 0, 1e-5);
    /* without the capture in its chain the consumer refuses */
    float Id[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    assert_int_equal(run(&ns, 1, Id, NULL, p, 1, 1.0f, NULL), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "needs capture(what=tensor) earlier in the same chain"));
    free(arena);
    reg_free(&r);
}

/* norm_adapt by hand: U_mom norms captured, then the orth output O = orth(U_mom) = I. */
static void test_norm_adapt_hand(void **st) {
    (void)st;
    reg_t r = {0};
    mu_param_t *p = reg_add(&r, "w", MU_ROLE_HIDDEN, 2, 2, 2);
    // scalar: G = (1,2;2,4) ‖G‖² = 25; U_mom = (0.3, 0, 0, 0.4) ‖U_mom‖ = 0.5; t = 1
    const float G[4] = {1, 2, 2, 4}, W0[4] = {1, 1, 1, 1};
    memcpy(p->grad, G, sizeof G);
    memcpy(p->data, W0, sizeof W0);
    mu_tstep_t cap = link_of(&mu_tr_capture, NULL);
    mu_tstep_t na = link_of(&mu_tr_norm_adapt, "b1", 0.5, "b2", 0.75, "eps", 0.0, "wd", 0.5, NULL);
    float *arena = NULL, *v, O[4] = {0.3f, 0, 0, 0.4f};
    assert_int_equal(run_captured(cap, na, O, &arena, &v, p, 1, 0.2f), 0);
    // v = 0.25·25; b = 0.2·sqrt(0.25)/0.5 = 0.2; α = 0.2·0.5/2.5 = 0.04
    assert_close(v[0], 6.25, 0, 1e-7);
    const double alpha = 0.04, step = alpha * 0.2 * sqrt(2.0);
    for (int i = 0; i < 4; i++) assert_close(p->data[i], 1.0 * (1 - 0.5 * alpha), 0, 1e-6);
    assert_close(0.2 * O[0], step, 0, 1e-6);  // apply multiplies by η = 0.2
    assert_close(O[1], 0, 0, 0);
    // col: G columns (1,2) and (2,4): ‖G_:0‖² = 5, ‖G_:1‖² = 20; U_mom columns norms 1 and 4
    mu_tstep_t capc = link_of(&mu_tr_capture, "what", 1.0, NULL);
    mu_tstep_t nd = link_of(&mu_tr_norm_adapt, "kind", 1.0, "b1", 0.5, "b2", 0.75, "eps", 0.0, "wd", 0.5, "c",
                            0.9, NULL);
    memcpy(p->data, W0, sizeof W0);
    float *arena_c = NULL, *vd, Od[4] = {1, 0, 0, 4}; /* orth: I */
    assert_int_equal(run_captured(capc, nd, Od, &arena_c, &vd, p, 1, 0.2f), 0);
    // v = (1.25, 5); s = (1/sqrt 1.25, 4/sqrt 5) = (0.894427, 1.788854); mean 1.341641;
    // clamp to [0.9·mean, mean/0.9] = [1.207477, 1.490712]; b = 0.2
    const double mean = (1 / sqrt(1.25) + 4 / sqrt(5.0)) / 2, s0 = 0.9 * mean, s1 = mean / 0.9;
    assert_close(vd[0], 1.25, 0, 1e-7);
    assert_close(vd[1], 5.0, 0, 1e-7);
    assert_close(p->data[0], 1 - 0.5 * 0.2 * s0, 0, 1e-6);
    assert_close(p->data[3], 1 - 0.5 * 0.2 * s1, 0, 1e-6);
    assert_close(0.2 * Od[0], 0.2 * s0 * 0.2 * sqrt(2.0), 0, 1e-6); /* column 0 scaled by s0 */
    assert_close(0.2 * Od[3], 0.2 * s1 * 0.2 * sqrt(2.0), 0, 1e-6); /* column 1 by s1 */
    assert_close(Od[1], 0, 0, 1e-6);
    // η = 0: no step, no decay
    memcpy(p->data, W0, sizeof W0);
    float O0[4] = {0.3f, 0, 0, 0.4f};
    assert_int_equal(run_captured(cap, na, O0, &arena, &v, p, 2, 0.0f), 0);
    for (int i = 0; i < 4; i++) {
        assert_close(O0[i], 0, 0, 0);
        assert_close(p->data[i], 1, 0, 0);
    }
    // wrong capture kind for col: the chain's capture keeps fro, nd needs cols
    float *arena_w = NULL, *unused;
    assert_int_equal(run_captured(cap, nd, O0, &arena_w, &unused, p, 2, 0.2f), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "needs capture(what=cols)"));
    free(arena), free(arena_c), free(arena_w);
    reg_free(&r);
}

/* ==================== 2. one step of every preset vs double ==================== */

enum { M_ = 6, N_ = 4 };

/* Expected hidden W after one step of `preset` from W0 with gradient G (double). */
static void expect_hidden(const char *preset, const mu_optim_config_t *c, const float *W0, const float *Gf,
                          double *Wexp) {
    const int64_t m = M_, n = N_, N = m * n;
    const double b = c->momentum, eta = c->lr, wd = c->weight_decay;
    double G[M_ * N_], U[M_ * N_], O[M_ * N_], X[M_ * N_];
    for (int64_t i = 0; i < N; i++) G[i] = Gf[i];
    const double keller = sqrt(fmax(1.0, (double)m / n));
    for (int64_t i = 0; i < N; i++) Wexp[i] = (1 - eta * wd) * W0[i];  // default: decay(lr)
    if (!strcmp(preset, "normuon") || !strcmp(preset, "normuon-paper")) {
        const int paper = !strcmp(preset, "normuon-paper");
        for (int64_t i = 0; i < N; i++) U[i] = paper ? (1 - b) * G[i] : (1 - b) * (1 + b) * G[i];
        ref_poly(U, m, n, 0, 5, O);  // Keller's ns5
        for (int64_t i = 0; i < m; i++) {
            double ms = 0;
            for (int64_t j = 0; j < n; j++) ms += O[i * n + j] * O[i * n + j] / n;
            const double v = 0.05 * ms, den = paper ? sqrt(v + 1e-8) : sqrt(v) + 1e-10;
            for (int64_t j = 0; j < n; j++) X[i * n + j] = O[i * n + j] / den;
        }
        const double f = paper ? 0.2 * sqrt((double)N) / dnorm(X, N) : keller * dnorm(O, N) / (dnorm(X, N) + 1e-10);
        for (int64_t i = 0; i < N; i++) Wexp[i] -= eta * f * X[i];
    } else if (!strncmp(preset, "adamuon", 7)) {
        // both forms: sign of a positive multiple of G at t = 1
        for (int64_t i = 0; i < N; i++) U[i] = (G[i] > 0) - (G[i] < 0);
        ref_poly(U, m, n, 0, 5, O);  // Keller's ns5
        for (int64_t i = 0; i < N; i++) X[i] = O[i] / (sqrt((1 - b) * O[i] * O[i]) + 1e-8);
        const double f = 0.2 * sqrt((double)N) / (dnorm(X, N) + 1e-8);
        for (int64_t i = 0; i < N; i++) Wexp[i] -= eta * f * X[i];
    } else if (!strncmp(preset, "namo", 4)) {
        const int d = !strcmp(preset, "namo-d");
        for (int64_t i = 0; i < N; i++) U[i] = (1 - b) * (1 + b) * G[i];
        ref_poly(U, m, n, 0, 5, O);  // Keller's ns5
        const double bb = eta * sqrt(1 - 0.99) / (1 - b + 1e-12), cs = 0.2 * sqrt(6.0), cc = d ? 0.01 : 0;
        double s[N_], mean = 0;
        for (int64_t j = 0; j < n; j++) {
            double g2 = 0, u2 = 0;
            for (int64_t i = 0; i < m; i++) g2 += G[i * n + j] * G[i * n + j], u2 += U[i * n + j] * U[i * n + j];
            s[j] = sqrt(u2) / (sqrt(0.01 * g2) + 1e-8);
            mean += s[j] / n;
        }
        const double alpha = bb * dnorm(U, N) / (sqrt(0.01) * dnorm(G, N) + 1e-8);
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                const double a = d ? bb * fmin(fmax(s[j], cc * mean), mean / cc) : alpha;
                Wexp[i * n + j] = W0[i * n + j] * fmax(0.0, 1 - wd * fmin(a, 1)) - fmin(a * cs, 1) * O[i * n + j];
            }
    } else if (!strncmp(preset, "rmnp", 4)) {
        const int readme = !strcmp(preset, "rmnp-readme");
        for (int64_t i = 0; i < N; i++) U[i] = readme ? (1 - b) * G[i] : (1 + b) * G[i];
        for (int64_t i = 0; i < m; i++) {
            const double nr = dnorm(U + i * n, n), den = readme ? nr + 1e-8 : fmax(nr, 1e-12);
            for (int64_t j = 0; j < n; j++) Wexp[i * n + j] -= eta * (readme ? 1.0 : keller) * U[i * n + j] / den;
        }
    } else if (!strcmp(preset, "polargrad")) {
        for (int64_t i = 0; i < N; i++) U[i] = (1 - b) * G[i];
        ref_polar(U, m, n, O);
        double nu = 0;
        for (int64_t i = 0; i < N; i++) nu += U[i] * O[i];
        for (int64_t i = 0; i < N; i++) Wexp[i] -= eta * nu * O[i];
    } else {
        fail_msg("no reference for %s", preset);
    }
}

static const char *const presets[] = {"normuon", "normuon-paper", "adamuon", "adamuon-paper", "namo",
                                      "namo-d",  "rmnp",          "rmnp-readme", "polargrad"};
#define N_PRESETS ((int)(sizeof presets / sizeof presets[0]))

static void test_one_step_every_preset(void **st) {
    (void)st;
    mu_gemm_ctx_t *g = gemm_ctx();
    for (int k = 0; k < N_PRESETS; k++) {
        reg_t r = {0};
        mu_param_t *E = reg_add(&r, "wte", MU_ROLE_EMBED, 2, 5, 4);
        mu_param_t *H = reg_add(&r, "h.0.mlp.c_fc.weight", MU_ROLE_HIDDEN, 2, M_, N_);
        reg_add(&r, "h.0.ln_1.weight", MU_ROLE_GAIN, 1, 4, 1);
        for (int32_t i = 0; i < r.n; i++) {
            fill(r.p[i].data, r.p[i].numel, 100 + (uint64_t)i, 0.5f);
            fill(r.p[i].grad, r.p[i].numel, 200 + (uint64_t)i, 1.0f);
        }
        float W0[M_ * N_], E0[20];
        memcpy(W0, H->data, sizeof W0);
        memcpy(E0, E->data, sizeof E0);
        mu_optim_config_t c = cfg_of(presets[k]);
        mu_optim_t *o = NULL;
        assert_int_equal(mu_optim_init(&o, &c, r.p, r.n, g), 0);
        assert_int_equal(mu_optim_step(o, 1.0f), 0);
        double Wexp[M_ * N_];
        expect_hidden(presets[k], &c, W0, H->grad, Wexp);
        for (int i = 0; i < M_ * N_; i++) assert_close(H->data[i], Wexp[i], 3e-6, 1e-5);
        // aux AdamW at t = 1: W <- (1 - η λ) W - η g/(|g| + ε); NAMO: same η, no WD; RMNP: 3e-3, λ 0.1
        const int namo = !strncmp(presets[k], "namo", 4), rmnp = !strncmp(presets[k], "rmnp", 4);
        const double lr = namo ? c.lr : rmnp ? 3e-3 : (!strcmp(presets[k], "normuon") || !strcmp(presets[k], "polargrad")) ? 3e-4 : c.lr;
        const double wd = namo ? 0.0 : rmnp ? 0.1 : c.weight_decay;
        for (int i = 0; i < 20; i++) {
            const double gi = E->grad[i];
            assert_close(E->data[i], (1 - lr * wd) * E0[i] - lr * gi / (fabs(gi) + c.eps), 1e-7, 1e-6);
        }
        mu_optim_free(o);
        reg_free(&r);
    }
    mu_gemm_ctx_free(g);
}

/* ==================== 3. the spec's properties ==================== */

/* Run one step of a preset on a single hidden (m, n) matrix; returns ΔW in dW (caller frees).
 * W starts at 0 when wd = 0 (ΔW = W' then, free of cancellation), else uniform(-0.5, 0.5). */
static float *first_step(mu_gemm_ctx_t *g, mu_optim_config_t c, int64_t m, int64_t n, float **Wout, reg_t *r,
                         uint64_t seed) {
    mu_param_t *H = reg_add(r, "h.0.attn.c_proj.weight", MU_ROLE_HIDDEN, 2, m, n);
    if (c.weight_decay > 0) fill(H->data, H->numel, seed, 0.5f);
    fill(H->grad, H->numel, seed + 1, 1.0f);
    float *W0 = malloc(sizeof(float) * (size_t)H->numel), *dW = malloc(sizeof(float) * (size_t)H->numel);
    memcpy(W0, H->data, sizeof(float) * (size_t)H->numel);
    mu_optim_t *o = NULL;
    assert_int_equal(mu_optim_init(&o, &c, r->p, r->n, g), 0);
    assert_int_equal(mu_optim_step(o, 1.0f), 0);
    for (int64_t i = 0; i < H->numel; i++) dW[i] = H->data[i] - W0[i];
    mu_optim_free(o);
    *Wout = W0;
    return dW;
}

static double rowsq(const float *X, int64_t i, int64_t n) {
    double s = 0;
    for (int64_t j = 0; j < n; j++) s += (double)X[i * n + j] * X[i * n + j];
    return s;
}

/* NorMuon §6 tests (1) code and (2) paper, first step on 96×64. */
static void test_normuon_row_norms(void **st) {
    (void)st;
    mu_gemm_ctx_t *g = gemm_ctx();
    const int64_t m = 96, n = 64;
    for (int paper = 0; paper <= 1; paper++) {
        reg_t r = {0};
        mu_optim_config_t c = cfg_of(paper ? "normuon-paper" : "normuon");
        c.weight_decay = 0;
        float *W0, *dW = first_step(g, c, m, n, &W0, &r, 5);
        // ‖O‖_F: recompute O = ns5 of the Nesterov momentum with the library kernel
        const float *G = r.p[0].grad;
        float *O = malloc(sizeof(float) * (size_t)(m * n));
        for (int64_t i = 0; i < m * n; i++) O[i] = G[i];
        mu_orth_config_t oc = mu_orth_config_default();
        float *work = malloc(sizeof(float) * mu_orth_workspace_floats(m, n, &oc));
        assert_int_equal(mu_orth(g, &oc, O, m, n, O, work), 0);
        double fo = 0, tot = 0;
        for (int64_t i = 0; i < m; i++) fo += rowsq(O, i, n);
        const double want = paper ? 0.2 * sqrt((double)n) : sqrt(1.5) * sqrt(fo) / sqrt((double)m);
        for (int64_t i = 0; i < m; i++) {
            const double rn = sqrt(rowsq(dW, i, n)) / c.lr;
            // paper: eps = 1e-8 inside the sqrt with v_i ≈ 4e-4 makes rows differ by ~1e-5 (real math)
            assert_close(rn, want, 0, paper ? 2e-5 : 2e-6);
            tot += rowsq(dW, i, n);
        }
        if (paper) assert_close(sqrt(tot / (m * n)) / c.lr, 0.2, 0, 2e-6);  // RMS(ΔW)/η = 0.2
        free(O), free(work), free(W0), free(dW);
        reg_free(&r);
    }
    mu_gemm_ctx_free(g);
}

/* AdaMuon §7 (1): first step λ = 0, RMS(ΔW)/η = 0.2 and |ΔW_ij|/η = 0.2 (1e-3) where |O_ij| >= 1e-4;
 * (2) RMS(ΔW + ηλW)/η = 0.2 at every step with λ = 0.1. */
static void test_adamuon_rms(void **st) {
    (void)st;
    mu_gemm_ctx_t *g = gemm_ctx();
    const int64_t m = 64, n = 96, N = m * n;
    for (int paper = 0; paper <= 1; paper++) {
        reg_t r = {0};
        mu_optim_config_t c = cfg_of(paper ? "adamuon-paper" : "adamuon");
        c.weight_decay = 0;
        float *W0, *dW = first_step(g, c, m, n, &W0, &r, 9);
        float *O = malloc(sizeof(float) * (size_t)N);
        for (int64_t i = 0; i < N; i++) O[i] = (float)((r.p[0].grad[i] > 0) - (r.p[0].grad[i] < 0));
        mu_orth_config_t oc = mu_orth_config_default();
        float *work = malloc(sizeof(float) * mu_orth_workspace_floats(m, n, &oc));
        assert_int_equal(mu_orth(g, &oc, O, m, n, O, work), 0);
        double tot = 0;
        int checked = 0;
        for (int64_t i = 0; i < N; i++) {
            tot += (double)dW[i] * dW[i];
            if (fabsf(O[i]) < 1e-4f) continue;
            assert_close(fabs(dW[i]) / c.lr, 0.2, 0, 1e-3);
            checked++;
        }
        assert_true(checked > N / 2);
        assert_close(sqrt(tot / N) / c.lr, 0.2, 0, 2e-6);
        free(O), free(work), free(W0), free(dW);
        reg_free(&r);
        // (2) several steps with weight decay
        reg_t r2 = {0};
        mu_param_t *H = reg_add(&r2, "h", MU_ROLE_HIDDEN, 2, m, n);
        fill(H->data, N, 3, 0.5f);
        mu_optim_config_t c2 = cfg_of(paper ? "adamuon-paper" : "adamuon");
        mu_optim_t *o = NULL;
        assert_int_equal(mu_optim_init(&o, &c2, r2.p, r2.n, g), 0);
        float *Wp = malloc(sizeof(float) * (size_t)N);
        for (int t = 0; t < 4; t++) {
            fill(H->grad, N, 40 + (uint64_t)t, 1.0f);
            memcpy(Wp, H->data, sizeof(float) * (size_t)N);
            assert_int_equal(mu_optim_step(o, 1.0f), 0);
            double s = 0;
            for (int64_t i = 0; i < N; i++) {
                const double u = (double)H->data[i] - (1.0 - (double)(c2.lr * c2.weight_decay)) * Wp[i];
                s += u * u;
            }
            assert_close(sqrt(s / N) / c2.lr, 0.2, 0, 1e-4);
        }
        free(Wp);
        mu_optim_free(o);
        reg_free(&r2);
    }
    mu_gemm_ctx_free(g);
}

/* ‖O‖_F of ns5(X) for the matrix in grad (library kernel). */
static double orth_fro(mu_gemm_ctx_t *g, const float *X, int64_t m, int64_t n, float *O) {
    mu_orth_config_t oc = mu_orth_config_default();
    float *work = malloc(sizeof(float) * mu_orth_workspace_floats(m, n, &oc));
    assert_int_equal(mu_orth(g, &oc, X, m, n, O, work), 0);
    free(work);
    double s = 0;
    for (int64_t i = 0; i < m * n; i++) s += (double)O[i] * O[i];
    return sqrt(s);
}

/* NAMO §8 (1) first step with Nesterov α = 1.95η, without Nesterov α = η; (2) NAMO-D: every
 * b·s_j = 1.95η; (3) η = 10: the step is exactly -O after W <- (1-λ)W. */
static void test_namo_properties(void **st) {
    (void)st;
    mu_gemm_ctx_t *g = gemm_ctx();
    const int64_t m = 48, n = 32, N = m * n;
    const double cs = 0.2 * sqrt(48.0);
    float *O = malloc(sizeof(float) * (size_t)N);
    for (int d = 0; d <= 1; d++) {
        reg_t r = {0};
        mu_optim_config_t c = cfg_of(d ? "namo-d" : "namo");
        c.weight_decay = 0;
        float *W0, *dW = first_step(g, c, m, n, &W0, &r, 11);
        orth_fro(g, r.p[0].grad, m, n, O);  // ns5 is scale-free: O of the momentum = O of G
        // ΔW = -α·0.2·sqrt(c)·O with α = 1.95η, per column for NAMO-D (column norms: robust to the
        // fp32 noise between two ns5 runs); and the direction is -O entry-wise
        for (int64_t j = 0; j < n; j++) {
            double dn = 0, on = 0;
            for (int64_t i = 0; i < m; i++) dn += pow(dW[i * n + j], 2), on += pow(O[i * n + j], 2);
            assert_close(sqrt(dn) / (cs * sqrt(on)), 1.95 * c.lr, 0, 2e-6);
        }
        for (int64_t i = 0; i < N; i++) assert_close(dW[i], -1.95 * c.lr * cs * O[i], 2e-6 * c.lr * cs, 0);  // |O_ij| noise ~2e-7
        free(W0), free(dW);
        reg_free(&r);
        // (3) η = 10, λ = 0.1: W' = 0.9·W - O
        reg_t r3 = {0};
        mu_optim_config_t c3 = cfg_of(d ? "namo-d" : "namo");
        c3.lr = 10.0f;
        float *W3, *dW3 = first_step(g, c3, m, n, &W3, &r3, 13);
        orth_fro(g, r3.p[0].grad, m, n, O);
        for (int64_t i = 0; i < N; i++) assert_close(r3.p[0].data[i], 0.9 * W3[i] - O[i], 1e-6, 1e-6);
        free(W3), free(dW3);
        reg_free(&r3);
    }
    // (1) without Nesterov: a hand chain ema(nesterov 0) -> capture -> orth -> norm_adapt -> apply
    reg_t r = {0};
    mu_param_t *H = reg_add(&r, "h", MU_ROLE_HIDDEN, 2, m, n);
    fill(H->grad, N, 17, 1.0f);
    mu_tstep_t links[5] = {link_of(&mu_tr_ema, "beta", 0.95, NULL), link_of(&mu_tr_capture, NULL),
                           link_of(&mu_tr_orth, NULL), link_of(&mu_tr_norm_adapt, NULL), link_of(&mu_tr_apply, NULL)};
    const size_t ns = mu_chain_state_size(links, 5, H);
    float *state = calloc(ns, sizeof(float)), *U = malloc(sizeof(float) * (size_t)N);
    memcpy(U, H->grad, sizeof(float) * (size_t)N);
    assert_int_equal(run(links, 5, U, state, H, 1, 0.01f, g), 0);
    orth_fro(g, H->grad, m, n, O);
    double dn = 0, on = 0;
    for (int64_t i = 0; i < N; i++) dn += pow(H->data[i], 2), on += pow(O[i], 2);
    assert_close(sqrt(dn) / (cs * sqrt(on)), 0.01, 0, 2e-6);  // α = η
    for (int64_t i = 0; i < N; i++) assert_close(H->data[i], -0.01 * cs * O[i], 2e-6 * 0.01 * cs, 0);
    free(state), free(U), free(O);
    reg_free(&r);
    mu_gemm_ctx_free(g);
}

/* RMNP §9 (1): non-zero rows of ΔW/η have norm sqrt(max(1, m/n)), zero rows stay 0;
 * (2) U = D·Q (orthonormal rows, D > 0 diagonal): row_normalize(U) = orth(exact)(U). */
static void test_rmnp_properties(void **st) {
    (void)st;
    mu_gemm_ctx_t *g = gemm_ctx();
    const int64_t shapes[2][2] = {{48, 16}, {16, 48}};
    for (int k = 0; k < 2; k++) {
        const int64_t m = shapes[k][0], n = shapes[k][1];
        reg_t r = {0};
        mu_param_t *H = reg_add(&r, "h", MU_ROLE_HIDDEN, 2, m, n);
        fill(H->grad, H->numel, 2, 1.0f);  // W = 0: ΔW = W' exactly
        for (int64_t j = 0; j < n; j++) H->grad[3 * n + j] = 0;  // row 3 has no gradient
        float *W0 = malloc(sizeof(float) * (size_t)H->numel);
        memcpy(W0, H->data, sizeof(float) * (size_t)H->numel);
        mu_optim_config_t c = cfg_of("rmnp");
        mu_optim_t *o = NULL;
        assert_int_equal(mu_optim_init(&o, &c, r.p, r.n, g), 0);
        assert_int_equal(mu_optim_step(o, 1.0f), 0);
        for (int64_t i = 0; i < m; i++) {
            double s = 0;
            for (int64_t j = 0; j < n; j++) s += pow((H->data[i * n + j] - W0[i * n + j]) / c.lr, 2);
            assert_close(sqrt(s), i == 3 ? 0.0 : sqrt(fmax(1.0, (double)m / n)), 0, 2e-6);
        }
        mu_optim_free(o);
        free(W0);
        reg_free(&r);
    }
    // (2) 16×48: Q = rows of a random orthonormal basis, D = diag(1..16)
    const int64_t m = 16, n = 48;
    double *Qc = malloc(sizeof(double) * (size_t)(n * m));
    rand_orthonormal(Qc, n, m, 77);  // (n, m) orthonormal columns; Q = Qcᵀ
    reg_t r = {0};
    mu_param_t *P = reg_add(&r, "h", MU_ROLE_HIDDEN, 2, m, n);
    float *U = malloc(sizeof(float) * (size_t)(m * n)), *R = malloc(sizeof(float) * (size_t)(m * n));
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) U[i * n + j] = (float)((double)(i + 1) * Qc[j * m + i]);
    mu_orth_config_t oc = mu_orth_config_default();
    oc.kind = MU_ORTH_EXACT;
    oc.exact_double = 1;
    float *work = malloc(sizeof(float) * mu_orth_workspace_floats(m, n, &oc));
    assert_int_equal(mu_orth(g, &oc, U, m, n, R, work), 0);
    mu_tstep_t rn = link_of(&mu_tr_row_normalize, NULL);
    assert_int_equal(run(&rn, 1, U, NULL, P, 1, 1.0f, NULL), 0);
    for (int64_t i = 0; i < m * n; i++) assert_close(U[i], R[i], 1e-6, 0);
    free(Qc), free(U), free(R), free(work);
    reg_free(&r);
    mu_gemm_ctx_free(g);
}

/* PolarGrad §11 (1) β = 0, G = diag(3,2,1): ΔW = -6η·I; (2) doubling G doubles ΔW. */
static void test_polargrad_diag_and_scale(void **st) {
    (void)st;
    mu_gemm_ctx_t *g = gemm_ctx();
    float dW[2][9];
    for (int k = 0; k < 2; k++) {
        reg_t r = {0};
        mu_param_t *H = reg_add(&r, "h", MU_ROLE_HIDDEN, 2, 3, 3);
        for (int i = 0; i < 3; i++) H->grad[i * 4] = (float)((3 - i) * (k + 1));
        mu_optim_config_t c = cfg_of("polargrad");
        c.momentum = 0;
        mu_optim_t *o = NULL;
        assert_int_equal(mu_optim_init(&o, &c, r.p, r.n, g), 0);
        assert_int_equal(mu_optim_step(o, 1.0f), 0);
        for (int i = 0; i < 9; i++) dW[k][i] = H->data[i];
        if (k == 0)
            for (int i = 0; i < 9; i++) assert_close(dW[0][i], i % 4 == 0 ? -6.0 * c.lr : 0.0, 1e-7, 1e-6);
        mu_optim_free(o);
        reg_free(&r);
    }
    for (int i = 0; i < 9; i++) assert_close(dW[1][i], 2.0 * dW[0][i], 0, 1e-6);
    mu_gemm_ctx_free(g);
}

/* PolarGrad §11 (3): on spec(256,256,1e3), ν/‖M‖_* = 0.8563 (ns5), 0.9917 (pe, 5), 1.0000 (pe, 8). */
static void test_polargrad_nu_ratio(void **st) {
    (void)st;
    mu_gemm_ctx_t *g = gemm_ctx();
    const int64_t d = 256, N = d * d;
    double *P = malloc(sizeof(double) * (size_t)N), *Q = malloc(sizeof(double) * (size_t)N);
    rand_orthonormal(P, d, d, 1);
    rand_orthonormal(Q, d, d, 2);
    double nuc = 0, *sig = malloc(sizeof(double) * (size_t)d);
    for (int64_t i = 0; i < d; i++) sig[i] = pow(1e3, -(double)i / (double)(d - 1)), nuc += sig[i];
    reg_t r = {0};
    mu_param_t *H = reg_add(&r, "h", MU_ROLE_HIDDEN, 2, d, d);
    float *M = malloc(sizeof(float) * (size_t)N), *U = malloc(sizeof(float) * (size_t)N);
    for (int64_t i = 0; i < d; i++)  // M = P diag(σ) Qᵀ
        for (int64_t j = 0; j < d; j++) {
            double s = 0;
            for (int64_t l = 0; l < d; l++) s += P[i * d + l] * sig[l] * Q[j * d + l];
            M[i * d + j] = (float)s;
        }
    const double kinds[3][3] = {{0, 5, 0.8563}, {1, 5, 0.9917}, {1, 8, 1.0000}};
    for (int k = 0; k < 3; k++) {
        mu_tstep_t links[3] = {link_of(&mu_tr_capture, "what", 2.0, NULL),
                               link_of(&mu_tr_orth, "kind", kinds[k][0], "steps", kinds[k][1], NULL),
                               link_of(&mu_tr_nuclear_scale, NULL)};
        float *state = calloc(mu_chain_state_size(links, 3, H), sizeof(float));
        memcpy(U, M, sizeof(float) * (size_t)N);
        assert_int_equal(run(links, 3, U, state, H, 1, 1.0f, g), 0);
        // U = ν·O, so ⟨M, U⟩ = ν·⟨M, O⟩ = ν²
        double mu_ = 0;
        for (int64_t i = 0; i < N; i++) mu_ += (double)M[i] * U[i];
        assert_close(sqrt(mu_) / nuc, kinds[k][2], 1e-4, 0);
        free(state);
    }
    free(P), free(Q), free(sig), free(M), free(U);
    reg_free(&r);
    mu_gemm_ctx_free(g);
}

/* ==================== 4. state round trip, errors ==================== */

/* A small model-like registry: embed, fused qkv (n_split 3), mlp matrix, gain, bias. */
static void model_reg(reg_t *r) {
    reg_add(r, "wte", MU_ROLE_EMBED, 2, 10, 8);
    mu_param_t *q = reg_add(r, "h.0.attn.c_attn.weight", MU_ROLE_HIDDEN, 2, 24, 8);
    q->n_split = 3;
    q->n_head = 2;
    reg_add(r, "h.0.mlp.c_fc.weight", MU_ROLE_HIDDEN, 2, 16, 8);
    reg_add(r, "h.0.ln_1.weight", MU_ROLE_GAIN, 1, 8, 1);
    reg_add(r, "h.0.mlp.c_fc.bias", MU_ROLE_BIAS, 1, 16, 1);
    for (int32_t i = 0; i < r->n; i++) fill(r->p[i].data, r->p[i].numel, 300 + (uint64_t)i, 0.3f);
}

static void grads(reg_t *r, int t) {
    for (int32_t i = 0; i < r->n; i++) fill(r->p[i].grad, r->p[i].numel, 1000 + (uint64_t)(t * 10 + i), 1.0f);
}

static void test_state_roundtrip(void **st) {
    (void)st;
    mu_gemm_ctx_t *g = gemm_ctx();
    for (int k = 0; k < N_PRESETS; k++) {
        reg_t a = {0}, b = {0};
        model_reg(&a);
        mu_optim_config_t c = cfg_of(presets[k]);
        mu_optim_t *oa = NULL, *ob = NULL;
        assert_int_equal(mu_optim_init(&oa, &c, a.p, a.n, g), 0);
        for (int t = 0; t < 3; t++) {
            grads(&a, t);
            assert_int_equal(mu_optim_step(oa, 1.0f), 0);
        }
        const size_t nb = mu_optim_state_bytes(oa);
        char *buf = malloc(nb), *buf2 = malloc(nb), *buf3 = malloc(nb);
        assert_int_equal(mu_optim_state_save(oa, buf, nb), 0);
        model_reg(&b);
        for (int32_t i = 0; i < a.n; i++) memcpy(b.p[i].data, a.p[i].data, sizeof(float) * (size_t)a.p[i].numel);
        assert_int_equal(mu_optim_init(&ob, &c, b.p, b.n, g), 0);
        assert_int_equal(mu_optim_state_load(ob, buf, nb), 0);
        for (int t = 3; t < 6; t++) {
            grads(&a, t);
            grads(&b, t);
            assert_int_equal(mu_optim_step(oa, 0.5f), 0);
            assert_int_equal(mu_optim_step(ob, 0.5f), 0);
        }
        for (int32_t i = 0; i < a.n; i++)
            assert_memory_equal(a.p[i].data, b.p[i].data, sizeof(float) * (size_t)a.p[i].numel);
        assert_int_equal(mu_optim_state_save(oa, buf2, nb), 0);
        assert_int_equal(mu_optim_state_save(ob, buf3, nb), 0);
        assert_memory_equal(buf2, buf3, nb);
        for (int32_t i = 0; i < a.n; i++)
            for (int64_t j = 0; j < a.p[i].numel; j++) assert_true(isfinite(a.p[i].data[j]));
        free(buf), free(buf2), free(buf3);
        mu_optim_free(oa), mu_optim_free(ob);
        reg_free(&a), reg_free(&b);
    }
    mu_gemm_ctx_free(g);
}

/* Bad hyperparameters and keys: clear errors naming the key. */
static void test_bad_hparams(void **st) {
    (void)st;
    mu_gemm_ctx_t *g = gemm_ctx();
    reg_t r = {0};
    model_reg(&r);
    struct {
        const char *preset, *path;
        float v;
        const char *msg;
    } cases[] = {
        {"normuon", "matrix.row_moment.b2", 1.0f, "b2"},
        {"normuon", "matrix.row_moment.eps", -1.0f, "eps"},
        {"normuon", "matrix.row_moment.axis", 1.0f, "structural"},
        {"normuon", "matrix.row_moment.beta", 0.5f, "unknown key"},
        {"normuon-paper", "matrix.row_moment.eps_mode", 2.0f, "eps_mode"},
        {"adamuon", "matrix.elem_moment.b2", 1.5f, "b2"},
        {"namo", "matrix.norm_adapt.b2", 1.0f, "b2"},
        {"namo-d", "matrix.norm_adapt.c", 0.0f, "c"},
        {"namo-d", "matrix.norm_adapt.c", 1.5f, "c"},
        {"namo", "matrix.norm_adapt.kind", 1.0f, "structural"},
        {"rmnp", "matrix.row_normalize.mode", 0.5f, "whole number"},
        {"rmnp", "matrix.row_normalize.eps", NAN, "finite"},
        {"polargrad", "matrix.capture.what", 0.0f, "structural"},
        {"polargrad", "matrix.nuclear_scale.x", 1.0f, "unknown key"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        mu_optim_config_t c = cfg_of(cases[k].preset);
        mu_optim_t *o = NULL;
        assert_int_equal(mu_optim_init(&o, &c, r.p, r.n, g), 0);
        assert_int_equal(mu_optim_set_hparam(o, cases[k].path, cases[k].v), MU_EINVAL);
        if (!strstr(mu_last_error(), cases[k].msg)) fail_msg("%s: '%s' lacks '%s'", cases[k].path, mu_last_error(), cases[k].msg);
        mu_optim_free(o);
    }
    // valid overrides are taken: b2 = 0 makes NorMuon-paper's v the current row mean square
    mu_optim_config_t c = cfg_of("normuon");
    mu_optim_t *o = NULL;
    assert_int_equal(mu_optim_init(&o, &c, r.p, r.n, g), 0);
    assert_int_equal(mu_optim_set_hparam(o, "matrix.row_moment.b2", 0.5f), 0);
    assert_int_equal(mu_optim_set_hparam(o, "matrix.row_moment.eps_mode", 1.0f), 0);
    char desc[2048];
    assert_int_equal(mu_optim_describe(o, desc, sizeof desc), 0);
    assert_non_null(strstr(desc, "row_moment(b2=0.5,eps=1e-10,eps_mode=inside,axis=neuron,split=qkv)"));
    assert_non_null(strstr(desc, "capture(what=fro,split=qkv)"));
    mu_optim_free(o);
    // a 1-D parameter routed to a matrix transform is refused at init
    reg_t b = {0};
    reg_add(&b, "odd", MU_ROLE_HIDDEN, 1, 8, 1);
    for (int k = 0; k < N_PRESETS; k++) {
        mu_optim_config_t ck = cfg_of(presets[k]);
        assert_int_equal(mu_optim_init(&o, &ck, b.p, b.n, g), MU_EINVAL);
        assert_null(o);
    }
    reg_free(&b);
    reg_free(&r);
    mu_gemm_ctx_free(g);
}

static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_row_moment_hand),       cmocka_unit_test(test_row_moment_axis),
        cmocka_unit_test(test_elem_moment_hand),      cmocka_unit_test(test_row_normalize_hand),
        cmocka_unit_test(test_capture_frob_match),    cmocka_unit_test(test_nuclear_scale_hand),
        cmocka_unit_test(test_norm_adapt_hand),       cmocka_unit_test(test_one_step_every_preset),
        cmocka_unit_test(test_normuon_row_norms),     cmocka_unit_test(test_adamuon_rms),
        cmocka_unit_test(test_namo_properties),       cmocka_unit_test(test_rmnp_properties),
        cmocka_unit_test(test_polargrad_diag_and_scale), cmocka_unit_test(test_polargrad_nu_ratio),
        cmocka_unit_test(test_state_roundtrip),       cmocka_unit_test(test_bad_hparams),
};

MU_TEST_MAIN(tests)

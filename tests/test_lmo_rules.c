/* test_lmo_rules.c — the chain-level additions of issue 9 against hand or double-precision
 * computations (optimizers-lmo.md §3, §4, §5, §10):
 *   noise-adaptive-lmo   layer_lr(noise), the group link: two steps by hand, the spec's tests
 *                        (n_2 = 4·n_1 gives η/2; one member gives η), oracle classes, zero noise,
 *                        replay, the chain checks;
 *   MARS exact           grad_diff(mode=exact) + mu_optim_lookahead on a quadratic, its identity
 *                        with approx, the missing look-ahead error;
 *   MARS-M efficient     grad_diff(mode=efficient) fusing clip_frob -> ema: two steps by hand,
 *                        its identity with approx without clipping, one buffer, the errors;
 *   Scion boundary init  lmo(init=1): every role on its ball's boundary, the constrained bound;
 *   Gluon estimation     mu_hinge_fit by hand, the logged pair, the fitted step rule;
 *   Scion light          momentum in the gradient buffer: Scion's steps, its state, the refusals;
 *   every variant        a bit-exact state round trip. */
#include "testutil.h"

#include "muon/model.h"
#include "muon/optim.h"
#include "optim/lmo.h"
#include "optim/transform.h"
#include "optim_ref.h"

static void fill(float *x, int64_t n, uint64_t seed, float scale) { fill_lcg(x, n, seed, 11, scale); }

static double norm2(const float *x, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return sqrt(s);
}

/* The preset's defaults, `hp` overrides (NULL-terminated), the registry; fails the test on error. */
static mu_optim_t *open_opt(const char *preset, mu_optim_config_t *c, const char *const *hp, reg_t *r,
                            mu_gemm_ctx_t *g) {
    mu_optim_config_t cc = c ? *c : cfg_of(preset);
    int n = 0;
    while (hp && hp[n]) n++;
    cc.hparams = hp;
    cc.n_hparams = n;
    mu_optim_t *o = NULL;
    int rc = mu_optim_init(&o, &cc, r->p, r->n, g);
    if (rc) print_error("init %s: %s\n", preset, mu_last_error());
    assert_int_equal(rc, 0);
    return o;
}

static const float *link_state(mu_optim_t *o, int32_t idx, const char *tr, size_t want) {
    const float *s = NULL;
    size_t n = 0;
    assert_int_equal(mu_optim_link_state(o, idx, tr, &s, &n), 0);
    assert_int_equal(n, want);
    return s;
}

/* ======================= noise-adaptive-lmo (layer_lr) ======================= */

/* Two gains in the vector group (bias_rms: dual norm ‖X‖²/(RMS(X) + 1e-8)), two steps by hand:
 *   M <- 0.95 M + 0.05 G ; n <- 0.99 n + 0.01 D(G − M)² ; f = sqrt(min n / n) ;
 *   W <- W − lr·f·M/(RMS(M) + 1e-8)          (rho 1, wd 0) */
static double rms_dual(const double *x, int n) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    return ss / (sqrt(ss / n) + 1e-8);
}

static void test_noise_two_steps_by_hand(void **st) {
    (void)st;
    reg_t r = {0};
    const int len[2] = {4, 6};
    reg_add(&r, "ln_1.weight", MU_ROLE_GAIN, 1, 4, 1);
    reg_add(&r, "ln_2.weight", MU_ROLE_GAIN, 1, 6, 1);
    double W[2][6], M[2][6] = {{0}}, n[2] = {0};
    for (int l = 0; l < 2; l++) {
        fill(r.p[l].data, len[l], 1 + (uint64_t)l, 1.0f);
        for (int i = 0; i < len[l]; i++) W[l][i] = r.p[l].data[i];
    }
    mu_optim_t *o = open_opt("noise-adaptive-lmo", NULL, NULL, &r, NULL);  // no spectral member: no gemm
    const double lr = 3.6e-4;
    for (int t = 1; t <= 2; t++) {
        double f[2], X[6];
        for (int l = 0; l < 2; l++) {
            fill(r.p[l].grad, len[l], 10 * (uint64_t)t + (uint64_t)l, l ? 3.0f : 1.0f);  // layer 2 noisier
            for (int i = 0; i < len[l]; i++) {
                M[l][i] = 0.95 * M[l][i] + 0.05 * r.p[l].grad[i];
                X[i] = r.p[l].grad[i] - M[l][i];
            }
            const double d = rms_dual(X, len[l]);
            n[l] = 0.99 * n[l] + 0.01 * d * d;
        }
        const double mn = n[0] < n[1] ? n[0] : n[1];
        for (int l = 0; l < 2; l++) {
            f[l] = sqrt(mn / n[l]);
            double ss = 0;
            for (int i = 0; i < len[l]; i++) ss += M[l][i] * M[l][i];
            const double rms = sqrt(ss / len[l]);
            for (int i = 0; i < len[l]; i++) W[l][i] -= lr * f[l] * M[l][i] / (rms + 1e-8);
        }
        assert_true(f[1] < 1.0 && f[0] == 1.0);
        assert_int_equal(mu_optim_step(o, 1.0f), 0);
        for (int l = 0; l < 2; l++) {
            const float *s = link_state(o, l, "layer_lr", 2);  // [n_l, f_l]
            assert_close(s[0], n[l], 0, 1e-5);
            assert_close(s[1], f[l], 0, 1e-5);
            for (int i = 0; i < len[l]; i++) assert_close(r.p[l].data[i], W[l][i], 1e-9, 1e-6);
        }
    }
    // the LR the step applied, as the diagnostics read it: η·f_l
    float lrs[2], dec[2];
    assert_int_equal(mu_optim_param_rates(o, 1.0f, lrs, dec), 0);
    assert_close(lrs[0], 3.6e-4, 0, 1e-6);
    assert_close(lrs[1], 3.6e-4 * link_state(o, 1, "layer_lr", 2)[1], 0, 1e-6);
    assert_true(dec[0] == 1.0f && dec[1] == 1.0f);
    mu_optim_free(o);
    reg_free(&r);
}

/* Spec §10 test 1: constant noise ratio, n_2 = 4·n_1 in one group: η_2 = η/2, η_1 = η (exactly:
 * G_2 = 2·G_1 keeps every float a power-of-two multiple). Test 2: a group of one layer: η. */
static void test_noise_spec_properties(void **st) {
    (void)st;
    reg_t r = {0};
    reg_add(&r, "lm_head.weight", MU_ROLE_HEAD, 2, 5, 8);
    reg_add(&r, "lm_head2.weight", MU_ROLE_HEAD, 2, 5, 8);
    reg_add(&r, "ln_f.weight", MU_ROLE_GAIN, 1, 8, 1);
    mu_optim_t *o = open_opt("noise-adaptive-lmo", NULL, NULL, &r, NULL);
    for (int t = 1; t <= 5; t++) {
        fill(r.p[0].grad, 40, 100 + (uint64_t)t, 1.0f);
        for (int i = 0; i < 40; i++) r.p[1].grad[i] = 2.0f * r.p[0].grad[i];
        fill(r.p[2].grad, 8, 200 + (uint64_t)t, 1.0f);
        assert_int_equal(mu_optim_step(o, 0.5f), 0);
        const float *s1 = link_state(o, 0, "layer_lr", 2), *s2 = link_state(o, 1, "layer_lr", 2);
        assert_true(s2[0] == 4.0f * s1[0]);
        assert_true(s1[1] == 1.0f && s2[1] == 0.5f);
        assert_true(link_state(o, 2, "layer_lr", 2)[1] == 1.0f);  // alone in its group
        float lrs[3], dec[3];
        assert_int_equal(mu_optim_param_rates(o, 0.5f, lrs, dec), 0);
        assert_true(lrs[0] == 3.6e-4f * 0.5f && lrs[1] == 3.6e-4f * 0.5f * 0.5f && lrs[2] == 3.6e-4f * 0.5f);
        for (int i = 0; i < 40; i++) assert_true(r.p[1].data[i] == 0.5f * r.p[0].data[i]);  // ΔW_2 = ΔW_1 / 2
    }
    assert_true(r.p[0].data[0] != 0.0f);
    mu_optim_free(o);
    reg_free(&r);
}

/* The minimum runs over members measured in the same oracle (a tied wte takes sign, wpe colnorm),
 * and a member without noise (zero gradient) keeps f = 1 and does not freeze the others. */
static void test_noise_classes_and_zero_noise(void **st) {
    (void)st;
    reg_t r = {0};
    mu_param_t *wte = reg_add(&r, "wte", MU_ROLE_EMBED, 2, 6, 4);
    wte->tied = 1;
    reg_add(&r, "wpe", MU_ROLE_EMBED, 2, 4, 4);
    reg_add(&r, "ln_1.weight", MU_ROLE_GAIN, 1, 4, 1);
    reg_add(&r, "ln_2.weight", MU_ROLE_GAIN, 1, 4, 1);
    mu_optim_t *o = open_opt("noise-adaptive-lmo", NULL, NULL, &r, NULL);
    for (int t = 1; t <= 3; t++) {
        fill(wte->grad, 24, 30 + (uint64_t)t, 5.0f);  // far noisier than wpe: still f = 1 (own class)
        fill(r.p[1].grad, 16, 40 + (uint64_t)t, 0.1f);
        fill(r.p[3].grad, 4, 50 + (uint64_t)t, 1.0f);  // ln_1 keeps a zero gradient
        assert_int_equal(mu_optim_step(o, 1.0f), 0);
    }
    for (int i = 0; i < 4; i++) assert_true(link_state(o, i, "layer_lr", 2)[1] == 1.0f);
    assert_true(link_state(o, 2, "layer_lr", 2)[0] == 0.0f);
    assert_true(link_state(o, 3, "layer_lr", 2)[0] > 0.0f);
    // the tied table stepped with the head rule at its radius 3000: sign(M)/d
    assert_close(fabs(wte->data[0]), 3.6e-4 * 3000 / 4.0 * 3, 0, 1e-5);
    mu_optim_free(o);
    reg_free(&r);
}

/* Pass 2 replays ema/sum from their state: the same bits as the update's output, state kept. */
static void test_replay_bit_identical(void **st) {
    (void)st;
    reg_t r = {0};
    mu_param_t *p = reg_add(&r, "h.w", MU_ROLE_HIDDEN, 2, 9, 7);
    const mu_transform_t *trs[2] = {&mu_tr_ema, &mu_tr_sum};
    for (int k = 0; k < 2; k++)
        for (int nest = 0; nest < 2; nest++) {
            mu_tstep_t s;
            mu_tstep_defaults(&s, trs[k]);
            assert_int_equal(mu_tstep_set(&s, "beta", 0.93f, "test"), 0);
            assert_int_equal(mu_tstep_set(&s, "nesterov", (float)nest, "test"), 0);
            float U[63], U2[63], M[63], M2[63];
            fill(U, 63, 7, 1.0f), fill(M, 63, 8, 1.0f);
            memcpy(U2, U, sizeof U);
            mu_tctx_t ctx = {.lr = 0.1f, .t = 3};
            assert_int_equal(trs[k]->update(&s, &ctx, U, M, p), 0);
            memcpy(M2, M, sizeof M);
            assert_int_equal(trs[k]->replay(&s, &ctx, U2, M, p), 0);
            assert_memory_equal(U, U2, sizeof U);
            assert_memory_equal(M, M2, sizeof M);
        }
    reg_free(&r);
}

/* Init-time refusals: a link that cannot replay before the group link, two group links, and a
 * layer_lr measuring in another norm than its lmo. */
static void test_group_chain_checks(void **st) {
    (void)st;
    mu_tstep_t links[4];
    mu_tstep_defaults(&links[0], &mu_tr_scale);
    mu_tstep_defaults(&links[1], &mu_tr_layer_lr);
    mu_tstep_defaults(&links[2], &mu_tr_lmo);
    mu_tstep_defaults(&links[3], &mu_tr_apply);
    assert_int_equal(mu_chain_check(links, 4, "t"), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "'scale' precedes the group link 'layer_lr'"));
    mu_tstep_defaults(&links[0], &mu_tr_ema);
    assert_int_equal(mu_chain_check(links, 4, "t"), MU_OK);
    assert_int_equal(mu_chain_group_link(links, 4), 1);
    links[3] = links[1];  // a second group link (and no lmo after it)
    assert_int_equal(mu_chain_check(links, 4, "t"), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "lmo link"));

    reg_t r = {0};
    reg_add(&r, "h.w", MU_ROLE_HIDDEN, 2, 6, 4);
    mu_gemm_ctx_t *g = gemm_ctx();
    mu_optim_config_t c = cfg_of("noise-adaptive-lmo");
    const char *hp[] = {"hidden.lmo.orth=exact"};
    c.hparams = hp, c.n_hparams = 1;
    mu_optim_t *o = NULL;
    assert_int_equal(mu_optim_init(&o, &c, r.p, r.n, g), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "same norm"));
    assert_null(o);
    c.orth_kind = 4;  // --orth exact reaches both links
    c.n_hparams = 0;
    assert_int_equal(mu_optim_init(&o, &c, r.p, r.n, g), MU_OK);
    char d[1024];
    assert_int_equal(mu_optim_describe(o, d, sizeof d), 0);
    assert_non_null(strstr(d, "hidden[1]: ema(beta=0.95,nesterov=0) -> layer_lr(rule=noise,b2=0.99) -> lmo("));
    mu_optim_free(o);
    mu_gemm_ctx_free(g);
    reg_free(&r);
}

/* ======================= MARS exact (grad_diff mode=exact) ======================= */

/* f(W; ξ_s) = ½‖W − T_s‖²: ∇f(W; ξ_s) = W − T_s. Exact MARS at step s uses
 * c_s = G_s + k(G_s − ∇f(W_{s−1}; ξ_s)) = G_s + k(W_s − W_{s−1}) (s >= 2), c_1 = (1 + k)G_1. */
static void target(float *T, int s) { fill(T, 12, 500 + (uint64_t)s, 1.0f); }

static void test_mars_exact_quadratic(void **st) {
    (void)st;
    reg_t r = {0};
    mu_param_t *w = reg_add(&r, "h.w", MU_ROLE_HIDDEN, 2, 4, 3);
    fill(w->data, 12, 3, 0.5f);
    mu_optim_config_t c = cfg_of("mars-adamw");
    c.weight_decay = 0.05f;
    const char *hp[] = {"matrix.grad_diff.mode=exact", NULL};
    mu_optim_t *o = open_opt("mars-adamw", &c, hp, &r, NULL);
    assert_int_equal(mu_optim_wants_lookahead(o), 1);
    const double lr = 3e-3, b1 = 0.95, b2 = 0.99, eps = 1e-8, k = 0.025 * b1 / (1 - b1), wd = 0.05;
    double W[12], Wprev[12], m[12] = {0}, v[12] = {0};
    for (int i = 0; i < 12; i++) W[i] = Wprev[i] = w->data[i];
    float T[12], Tn[12];
    for (int s = 1; s <= 4; s++) {
        target(T, s), target(Tn, s + 1);
        for (int i = 0; i < 12; i++) w->grad[i] = w->data[i] - Tn[i];  // look-ahead: next batch, current W
        assert_int_equal(mu_optim_lookahead(o), 0);
        for (int i = 0; i < 12; i++) w->grad[i] = w->data[i] - T[i];
        double cv[12], nrm = 0;
        for (int i = 0; i < 12; i++) {
            const double G = W[i] - T[i], P = s == 1 ? 0.0 : Wprev[i] - T[i];  // P = ∇f(W_{s−1}; ξ_s)
            cv[i] = G + k * (G - P);
            nrm += cv[i] * cv[i];
        }
        nrm = sqrt(nrm);
        for (int i = 0; i < 12; i++) {
            const double ci = nrm > 1 ? cv[i] / nrm : cv[i];
            m[i] = b1 * m[i] + (1 - b1) * ci;
            v[i] = b2 * v[i] + (1 - b2) * ci * ci;
            const double u = (m[i] / (1 - pow(b1, s))) / (sqrt(v[i] / (1 - pow(b2, s))) + eps);
            Wprev[i] = W[i];
            W[i] = (1 - lr * wd) * W[i] - lr * u;
        }
        assert_int_equal(mu_optim_step(o, 1.0f), 0);
        for (int i = 0; i < 12; i++) assert_close(w->data[i], W[i], 1e-6, 1e-5);
    }
    // a step without its look-ahead is refused, naming the call to make
    for (int i = 0; i < 12; i++) w->grad[i] = 0.1f;
    assert_int_equal(mu_optim_step(o, 1.0f), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "mu_optim_lookahead"));
    assert_int_equal(mu_optim_steps_done(o), 4);
    mu_optim_free(o);
    reg_free(&r);
}

/* Handing the current gradient as the look-ahead makes exact equal approx, bit for bit; approx
 * wants no look-ahead. */
static void test_mars_exact_is_approx_with_current_grad(void **st) {
    (void)st;
    reg_t a = {0}, b = {0};
    reg_add(&a, "h.w", MU_ROLE_HIDDEN, 2, 6, 5);
    reg_add(&b, "h.w", MU_ROLE_HIDDEN, 2, 6, 5);
    fill(a.p[0].data, 30, 4, 0.5f);
    memcpy(b.p[0].data, a.p[0].data, sizeof(float) * 30);
    const char *hp[] = {"matrix.grad_diff.mode=exact", NULL};
    mu_optim_t *oa = open_opt("mars-lion", NULL, NULL, &a, NULL), *ob = open_opt("mars-lion", NULL, hp, &b, NULL);
    assert_int_equal(mu_optim_wants_lookahead(oa), 0);
    for (int t = 1; t <= 4; t++) {
        fill(a.p[0].grad, 30, 60 + (uint64_t)t, t == 2 ? 2.0f : 0.1f);
        memcpy(b.p[0].grad, a.p[0].grad, sizeof(float) * 30);
        assert_int_equal(mu_optim_lookahead(ob), 0);
        assert_int_equal(mu_optim_step(oa, 1.0f), 0);
        assert_int_equal(mu_optim_step(ob, 1.0f), 0);
        assert_memory_equal(a.p[0].data, b.p[0].data, sizeof(float) * 30);
    }
    assert_int_equal(mu_optim_state_floats(ob), 2 * mu_optim_state_floats(oa) - 30);  // + G_next
    mu_optim_free(oa), mu_optim_free(ob);
    reg_free(&a), reg_free(&b);
}

/* The caller's side of exact mode on a real model (the block of docs/optimizers-lmo.md): each step
 * first evaluates the NEXT batch at the current weights (clipped) and hands it over. A small GPT on
 * a repeated 48-token phrase trains: finite losses, the last 10 below the first 10. */
enum { GL = 2, GH = 2, GD = 32, GT = 32, GV = 64, GB = 4, STREAM = 4096, PHRASE = 48 };

static void gpt_batch(const int32_t *stream, int64_t t, int32_t *x, int32_t *y) {
    for (int b = 0; b < GB; b++) {
        const int64_t off = (t * 131 + b * 977) % (STREAM - GT - 1);
        for (int i = 0; i < GT; i++) x[b * GT + i] = stream[off + i], y[b * GT + i] = stream[off + i + 1];
    }
}

static float gpt_grad(mu_gpt_t *m, const int32_t *stream, int64_t t) {
    int32_t x[GB * GT], y[GB * GT];
    float loss = NAN, gn;
    gpt_batch(stream, t, x, y);
    mu_gpt_zero_grad(m);
    assert_int_equal(mu_gpt_forward(m, x, y, GB, GT, &loss), 0);
    assert_int_equal(mu_gpt_backward(m, 1.0f), 0);
    assert_int_equal(mu_optim_clip_grad(mu_gpt_params(m), mu_gpt_n_params(m), 1.0f, &gn), 0);
    return loss;
}

static void test_mars_exact_trains_gpt(void **st) {
    (void)st;
    static int32_t stream[STREAM];
    int32_t phrase[PHRASE];
    uint64_t z = 12345;
    for (int i = 0; i < PHRASE; i++) {
        z = z * 6364136223846793005ULL + 1442695040888963407ULL;
        phrase[i] = (int32_t)((z >> 33) % GV);
    }
    for (int i = 0; i < STREAM; i++) stream[i] = phrase[i % PHRASE];
    mu_gpt_config_t mc = mu_gpt_config_default();
    mc.n_layer = GL, mc.n_head = GH, mc.d_model = GD, mc.seq_len = GT, mc.vocab = GV, mc.dropout = 0.0f;
    mu_gemm_ctx_t *g = gemm_ctx();
    mu_gpt_t *m = NULL;
    assert_int_equal(mu_gpt_init(&m, &mc, GB, g), 0);
    assert_int_equal(mu_gpt_init_weights(m, 7), 0);
    mu_optim_config_t c = cfg_of("mars-adamw");
    const char *hp[] = {"matrix*.grad_diff.mode=exact"};
    c.hparams = hp, c.n_hparams = 1;
    mu_optim_t *o = NULL;
    assert_int_equal(mu_optim_init(&o, &c, mu_gpt_params(m), mu_gpt_n_params(m), g), 0);
    assert_int_equal(mu_optim_wants_lookahead(o), 1);
    double first = 0, last = 0;
    for (int t = 0; t < 40; t++) {
        gpt_grad(m, stream, t + 1);  // ∇f(W_t; ξ_{t+1})
        assert_int_equal(mu_optim_lookahead(o), 0);
        const float loss = gpt_grad(m, stream, t);
        assert_true(isfinite(loss));
        assert_int_equal(mu_optim_step(o, 1.0f), 0);
        if (t < 10) first += loss / 10.0;
        if (t >= 30) last += loss / 10.0;
    }
    print_message("mars-adamw exact: first/last 10 mean %.4f -> %.4f\n", first, last);
    assert_true(last < first);
    mu_optim_free(o);
    mu_gpt_free(m);
    mu_gemm_ctx_free(g);
}

/* ======================= MARS-M efficient (grad_diff mode=efficient) ======================= */

/* mars-m, exact polar factor, two steps by hand:
 *   U_1 = (γ + (1−γ)(1−β))·G_1 ;  U_2 = γ·G_2 + β(1−γ)(1−β)·G_1 + (1−γ)(1−β)·G_2
 *   W <- (1 − lr·wd)·W − lr·0.2·sqrt(max(m, n))·polar(U)        (no clipping) */
static void test_mars_m_efficient_by_hand(void **st) {
    (void)st;
    mu_gemm_ctx_t *g = gemm_ctx();
    reg_t r = {0};
    mu_param_t *w = reg_add(&r, "h.w", MU_ROLE_HIDDEN, 2, 6, 4);
    fill(w->data, 24, 5, 0.5f);
    mu_optim_config_t c = cfg_of("mars-m");
    c.orth_kind = 4;
    const char *hp[] = {"matrix.grad_diff.mode=efficient", NULL};
    mu_optim_t *o = open_opt("mars-m", &c, hp, &r, g);
    assert_int_equal(mu_optim_state_floats(o), 24);  // one buffer (approx: G_prev + m)
    char d[1024];
    assert_int_equal(mu_optim_describe(o, d, sizeof d), 0);
    assert_non_null(strstr(d, "matrix[1]: grad_diff(gamma=0.025,beta=0.95,mode=efficient) -> orth("));
    assert_null(strstr(d, "clip_frob"));
    assert_int_equal(mu_optim_explain(o, 1, d, sizeof d), 0);
    assert_non_null(strstr(d, "2. clip_frob (fused into an earlier link"));
    const double lr = 6e-3, wd = 0.01, gm = 0.025, be = 0.95, a = (1 - gm) * (1 - be), sc = 0.2 * sqrt(6.0);
    double G1[24], G2[24], U[24], P[24], W[24];
    for (int i = 0; i < 24; i++) W[i] = w->data[i];
    for (int t = 1; t <= 2; t++) {
        fill(w->grad, 24, 70 + (uint64_t)t, 3.0f);  // large: approx would clip, efficient does not
        for (int i = 0; i < 24; i++) {
            (t == 1 ? G1 : G2)[i] = w->grad[i];
            U[i] = t == 1 ? (gm + a) * G1[i] : gm * G2[i] + be * a * G1[i] + a * G2[i];
        }
        ref_polar(U, 6, 4, P);
        for (int i = 0; i < 24; i++) W[i] = (1 - lr * wd) * W[i] - lr * sc * P[i];
        assert_int_equal(mu_optim_step(o, 1.0f), 0);
        for (int i = 0; i < 24; i++) assert_close(w->data[i], W[i], 1e-6, 1e-5);
    }
    mu_optim_free(o);
    reg_free(&r);
    mu_gemm_ctx_free(g);
}

/* The identity behind the fusion: efficient = approx without clipping (tau = 1e30), up to rounding,
 * for mars-m (Muon) and mars-lion (sign: the very same signs). */
static void test_mars_efficient_equals_unclipped_approx(void **st) {
    (void)st;
    mu_gemm_ctx_t *g = gemm_ctx();
    const char *presets[2] = {"mars-m", "mars-lion"};
    for (int k = 0; k < 2; k++) {
        reg_t a = {0}, b = {0};
        reg_add(&a, "h.w", MU_ROLE_HIDDEN, 2, 8, 6);
        reg_add(&b, "h.w", MU_ROLE_HIDDEN, 2, 8, 6);
        fill(a.p[0].data, 48, 6, 0.5f);
        memcpy(b.p[0].data, a.p[0].data, sizeof(float) * 48);
        mu_optim_config_t c = cfg_of(presets[k]);
        c.orth_kind = 4;
        const char *ha[] = {"*.clip_frob.tau=1e30", NULL}, *hb[] = {"matrix.grad_diff.mode=efficient", NULL};
        mu_optim_t *oa = open_opt(presets[k], &c, ha, &a, g), *ob = open_opt(presets[k], &c, hb, &b, g);
        for (int t = 1; t <= 6; t++) {
            fill(a.p[0].grad, 48, 80 + (uint64_t)t, 2.0f);
            memcpy(b.p[0].grad, a.p[0].grad, sizeof(float) * 48);
            assert_int_equal(mu_optim_step(oa, 1.0f), 0);
            assert_int_equal(mu_optim_step(ob, 1.0f), 0);
        }
        for (int i = 0; i < 48; i++) assert_close(b.p[0].data[i], a.p[0].data[i], 1e-7, 1e-5);
        mu_optim_free(oa), mu_optim_free(ob);
        reg_free(&a), reg_free(&b);
    }
    mu_gemm_ctx_free(g);
}

static void test_mars_efficient_errors(void **st) {
    (void)st;
    reg_t r = {0};
    reg_add(&r, "h.w", MU_ROLE_HIDDEN, 2, 6, 4);
    mu_gemm_ctx_t *g = gemm_ctx();
    mu_optim_t *o = NULL;
    mu_optim_config_t c = cfg_of("mars-adamw");  // clip_frob -> adam: nothing to fuse
    const char *hp[] = {"matrix.grad_diff.mode=efficient"};
    c.hparams = hp, c.n_hparams = 1;
    assert_int_equal(mu_optim_init(&o, &c, r.p, r.n, NULL), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "matrix.grad_diff: mode=efficient fuses"));
    c = cfg_of("mars-m");
    const char *hp2[] = {"matrix.grad_diff.mode=efficient", "matrix.ema.beta=0.9"};
    c.hparams = hp2, c.n_hparams = 2;
    assert_int_equal(mu_optim_init(&o, &c, r.p, r.n, g), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "must be equal"));
    c.n_hparams = 1;
    assert_int_equal(mu_optim_init(&o, &c, r.p, r.n, g), MU_OK);
    assert_int_equal(mu_optim_set_hparam(o, "matrix.grad_diff.mode", 0.0f), MU_EINVAL);  // structural
    assert_int_equal(mu_optim_wants_lookahead(o), 0);
    mu_optim_free(o);
    mu_gemm_ctx_free(g);
    reg_free(&r);
}

/* ======================= Scion boundary init (lmo init=1) ======================= */

/* At mu_optim_init: hidden = rho·sqrt(m/n)·polar(W0) (every singular value rho·sqrt(m/n)), an untied
 * (V, d) table gets token rows of norm sqrt(d) in W0's directions, the head rho·sign(W0)/n, a tied
 * table the head rule at tied_rho; gains keep the model's init. */
static void test_scion_boundary_init(void **st) {
    (void)st;
    mu_gemm_ctx_t *g = gemm_ctx();
    for (int tied = 0; tied < 2; tied++) {
        reg_t r = {0};
        mu_param_t *h = reg_add(&r, "h.w", MU_ROLE_HIDDEN, 2, 6, 4), *e = reg_add(&r, "wte", MU_ROLE_EMBED, 2, 5, 8);
        mu_param_t *hd = reg_add(&r, "lm_head", MU_ROLE_HEAD, 2, 5, 8), *gn = reg_add(&r, "ln.w", MU_ROLE_GAIN, 1, 8, 1);
        e->tied = tied;
        for (int32_t i = 0; i < r.n; i++) fill(r.p[i].data, r.p[i].numel, 20 + (uint64_t)i, 0.02f);
        double H0[24], P[24];
        float E0[40], D0[40], N0[8];
        for (int i = 0; i < 24; i++) H0[i] = h->data[i];
        memcpy(E0, e->data, sizeof E0), memcpy(D0, hd->data, sizeof D0), memcpy(N0, gn->data, sizeof N0);
        ref_polar(H0, 6, 4, P);
        const char *hp[] = {"*.lmo.init=1", NULL};
        mu_optim_t *o = open_opt("scion", NULL, hp, &r, g);
        const double s = 50 * sqrt(6.0 / 4.0);
        for (int i = 0; i < 24; i++) assert_close(h->data[i], s * P[i], 1e-6, 1e-5);
        assert_close(sigma_max_f(h->data, 6, 4), s, 0, 1e-5);
        for (int v = 0; v < 5; v++) {
            const double n0 = norm2(E0 + v * 8, 8);
            for (int j = 0; j < 8; j++) {
                const int i = v * 8 + j;
                const double want = tied ? 3000.0 * sgn(E0[i]) / 8.0 : sqrt(8.0) * E0[i] / (n0 + 1e-8);
                assert_close(e->data[i], want, 1e-6, 1e-5);
            }
        }
        for (int i = 0; i < 40; i++) assert_true(hd->data[i] == (float)(3000.0 * sgn(D0[i]) / 8.0));
        assert_memory_equal(gn->data, N0, sizeof N0);
        mu_optim_free(o);
        reg_free(&r);
    }
    mu_gemm_ctx_free(g);
}

/* §4 test 3 started on the boundary: constrained scion with exact orth keeps ‖W‖₂ <= rho·sqrt(m/n). */
static void test_scion_boundary_constrained(void **st) {
    (void)st;
    mu_gemm_ctx_t *g = gemm_ctx();
    reg_t r = {0};
    mu_param_t *h = reg_add(&r, "h.w", MU_ROLE_HIDDEN, 2, 8, 6);
    fill(h->data, 48, 12, 0.02f);
    mu_optim_config_t c = cfg_of("scion");
    c.orth_kind = 4;
    c.lr = 0.05f;
    const char *hp[] = {"*.lmo.init=1", NULL};
    mu_optim_t *o = open_opt("scion", &c, hp, &r, g);
    const double bound = 50 * sqrt(8.0 / 6.0);
    assert_close(sigma_max_f(h->data, 8, 6), bound, 0, 1e-5);
    for (int t = 0; t < 50; t++) {
        fill(h->grad, 48, 100 + (uint64_t)t, 1.0f);
        assert_int_equal(mu_optim_step(o, 1.0f), 0);
        assert_true(sigma_max_f(h->data, 8, 6) <= bound * (1 + 1e-6) + 1e-4);
    }
    mu_optim_free(o);
    reg_free(&r);
    mu_gemm_ctx_free(g);
}

/* ======================= Gluon (L0, L1) estimation ======================= */

static void test_hinge_fit_by_hand(void **st) {
    (void)st;
    double a, b;
    const float x1[3] = {1, 2, 3}, y1[3] = {5, 7, 9};  // on y = 3 + 2x: recovered exactly
    mu_hinge_fit(x1, y1, 3, 0.9, &a, &b);
    assert_close(a, 3.0, 1e-12, 0);
    assert_close(b, 2.0, 1e-12, 0);
    const float x2[3] = {1, 2, 4}, y2[3] = {5, 10, 20};  // on y = 5x: L0 = 0
    mu_hinge_fit(x2, y2, 3, 0.9, &a, &b);
    assert_close(a, 0.0, 1e-12, 0);
    assert_close(b, 5.0, 1e-12, 0);
    // (1,2), (2,2), (3,5), q = 0.9: losses 0.3 (0, 2), 2.7 (0, 1), 0.433 (0, 5/3), 2.7 (2, 0),
    // 0.6 (5, 0), 0.15 (0.5, 1.5) through (1,2)-(3,5); (2,2)-(3,5) has a < 0
    const float x3[3] = {1, 2, 3}, y3[3] = {2, 2, 5};
    mu_hinge_fit(x3, y3, 3, 0.9, &a, &b);
    assert_close(a, 0.5, 1e-12, 0);
    assert_close(b, 1.5, 1e-12, 0);
    // one x: the q-quantile of the y through the origin; q = 0.9 of {1,2,3,4} is 4 (loss 0.6 vs
    // 1.2 at 3); q = 0.5 ties 2 and 3 (loss 2.0): the first candidate, b = 2
    const float x4[4] = {1, 1, 1, 1}, y4[4] = {1, 2, 3, 4};
    mu_hinge_fit(x4, y4, 4, 0.9, &a, &b);
    assert_close(a, 0.0, 1e-12, 0);
    assert_close(b, 4.0, 1e-12, 0);
    mu_hinge_fit(x4, y4, 4, 0.5, &a, &b);
    assert_close(a, 0.0, 1e-12, 0);
    assert_close(b, 2.0, 1e-12, 0);
    mu_hinge_fit(x4, y4, 0, 0.9, &a, &b);
    assert_true(a == 0.0 && b == 0.0);
}

/* gluon head (sign, d_in 4, L0 0, L1 1.3, lr 1, no momentum), est = log: step 1 moves by
 * s_1 = 1/1.3; step 2 logs x = Σ|G_2|/4, y = (Σ|G_2 − G_1|/4)/s_1 and fits (0, y/x) from the one
 * pair; the step itself keeps t = 1/L1. State: [G_prev | s_prev, pairs, next, L0, L1 | x | y]. */
static void test_gluon_estimation_logged(void **st) {
    (void)st;
    reg_t r = {0};
    mu_param_t *hd = reg_add(&r, "lm_head", MU_ROLE_HEAD, 2, 6, 4);
    mu_optim_config_t c = cfg_of("gluon");
    c.momentum = 0.0f;
    const char *hp[] = {"head.lmo.est=log", NULL};
    mu_optim_t *o = open_opt("gluon", &c, hp, &r, NULL);
    float G1[24];
    fill(G1, 24, 90, 1.0f);
    memcpy(hd->grad, G1, sizeof G1);
    assert_int_equal(mu_optim_step(o, 1.0f), 0);
    const float *s = link_state(o, 0, "lmo", 24 + 5 + 64);
    assert_close(s[24], 1.0 / 1.3, 0, 1e-6);
    assert_true(s[25] == 0.0f);
    fill(hd->grad, 24, 91, 1.0f);
    float W1[24];
    memcpy(W1, hd->data, sizeof W1);
    assert_int_equal(mu_optim_step(o, 1.0f), 0);
    double x = 0, dd = 0;
    for (int i = 0; i < 24; i++) x += fabs(hd->grad[i]) / 4, dd += fabs((double)hd->grad[i] - G1[i]) / 4;
    const double y = dd / (1.0 / 1.3);
    assert_true(s[25] == 1.0f && s[26] == 1.0f);        // one pair, next slot 1
    assert_close(s[29], x, 0, 1e-6);                    // x_0
    assert_close(s[29 + 32], y, 0, 1e-5);               // y_0
    assert_true(s[27] == 0.0f);                         // L0 = 0
    assert_close(s[28], y / x, 0, 1e-5);                // L1 = y/x
    assert_memory_equal(s, hd->grad, sizeof(float) * 24);  // G_prev <- G_2
    for (int i = 0; i < 24; i++) assert_close(hd->data[i], W1[i] - sgn(hd->grad[i]) / 4.0 / 1.3, 1e-7, 1e-6);
    mu_optim_free(o);
    reg_free(&r);
}

/* est = use, window 4 over 7 pairs (the ring wraps): every pair by hand in double from the fed
 * gradients (sign oracle, n = d_in = 4: ‖X‖_* = Σ|X|/4), x_k = ‖G_{k+1}‖_*,
 * y_k = ‖G_{k+1} − G_k‖_* / s_k with s_k = lr·t_k from the hand-computed previous step, the last 4
 * pairs oldest first through mu_hinge_fit -> (L0h, L1h); the state's L0, L1 must equal them. The
 * step takes t = 1/1.3 (the preset's L1) until 2 pairs exist, then t = D/(L0h + L1h·D) (1/L1h when
 * L0h = 0), D = Σ|G|/4 (momentum 0: D = G), and W <- W − lr·t·sign(G)/4. */
static void test_gluon_estimation_used(void **st) {
    (void)st;
    enum { N = 24, WIN = 4, T = 8 };
    reg_t r = {0};
    mu_param_t *hd = reg_add(&r, "lm_head", MU_ROLE_HEAD, 2, 6, 4);
    mu_optim_config_t c = cfg_of("gluon");
    c.momentum = 0.0f;
    const char *hp[] = {"head.lmo.est=use", "head.lmo.window=4", NULL};
    mu_optim_t *o = open_opt("gluon", &c, hp, &r, NULL);
    const float *s = link_state(o, 0, "lmo", N + 5 + 2 * WIN);
    const double lr = 0.5;
    const float scale[T] = {4.0f, 3.0f, 2.0f, 1.0f, 0.5f, 1.0f, 2.0f, 3.0f};  // fits (L0h, L1h) > 0 at t = 3
    double xs[T], ys[T], Gp[N], s_prev = 0.0;  // all pairs so far, the previous G and step length
    int np = 0, full = 0;
    for (int t = 1; t <= T; t++) {
        fill(hd->grad, N, 120 + (uint64_t)t, scale[t - 1]);
        double D = 0.0;  // ‖G‖_* = Σ|G|/n
        for (int i = 0; i < N; i++) D += fabs((double)hd->grad[i]) / 4.0;
        if (t > 1) {  // the pair of this step: y = ‖G − G_prev‖_* / s_prev
            double d = 0.0;
            for (int i = 0; i < N; i++) d += fabs((double)hd->grad[i] - Gp[i]) / 4.0;
            xs[np] = D, ys[np] = d / s_prev, np++;
        }
        for (int i = 0; i < N; i++) Gp[i] = hd->grad[i];
        // the last `window` pairs, oldest first, fitted at the default q = 0.9
        const int nw = np < WIN ? np : WIN;
        float wx[WIN], wy[WIN];
        for (int k = 0; k < nw; k++) wx[k] = (float)xs[np - nw + k], wy[k] = (float)ys[np - nw + k];
        double L0h = 0.0, L1h = 0.0;
        if (nw > 0) mu_hinge_fit(wx, wy, nw, 0.9, &L0h, &L1h);
        const double tt = nw < 2 ? 1.0 / 1.3 : L0h == 0.0 ? 1.0 / L1h : D / (L0h + L1h * D);
        full += nw >= 2 && L0h > 0.0 && L1h > 0.0;
        float W0[N];
        memcpy(W0, hd->data, sizeof W0);
        assert_int_equal(mu_optim_step(o, (float)lr), 0);
        assert_true(s[N + 1] == (float)nw);                  // pairs kept
        assert_true(s[N + 2] == (float)(np % WIN));          // next ring slot
        if (nw > 0) {
            assert_close(s[N + 3], L0h, 1e-5 * L1h * D, 1e-5);  // L0 (atol at the fit's scale: L0h may be 0)
            assert_close(s[N + 4], L1h, 0, 1e-5);
        }
        assert_close(s[N], lr * tt, 0, 1e-5);  // s_prev = lr·t
        for (int i = 0; i < N; i++) assert_close(hd->data[i], W0[i] - lr * tt * sgn(hd->grad[i]) / 4.0, 1e-7, 1e-5);
        s_prev = lr * tt;
    }
    assert_true(full > 0);  // t = D/(L0 + L1·D) with both constants was exercised
    mu_optim_free(o);
    reg_free(&r);
}

/* ======================= every variant: bit-exact state round trip ======================= */

static void build_small(reg_t *r) { reg_small_gpt(r, 11); }
static void grads(reg_t *r, int t) { reg_grads(r, t, 11); }

/* One step; a look-ahead (the next step's gradients) first when the optimizer wants one. */
static void step(mu_optim_t *o, reg_t *r, int t) {
    if (mu_optim_wants_lookahead(o)) {
        grads(r, t + 1);
        assert_int_equal(mu_optim_lookahead(o), 0);
    }
    grads(r, t);
    int rc = mu_optim_step(o, 0.7f);
    if (rc) print_error("step %d: %s\n", t, mu_last_error());
    assert_int_equal(rc, 0);
}

static void test_state_roundtrip_variants(void **st) {
    (void)st;
    static const struct {
        const char *preset, *hp[3];
    } v[] = {
        {"noise-adaptive-lmo", {NULL}},
        {"mars-adamw", {"matrix*.grad_diff.mode=exact", NULL}},
        {"mars-m", {"matrix.grad_diff.mode=efficient", NULL}},
        {"mars-lion", {"matrix*.grad_diff.mode=efficient", NULL}},
        {"gluon", {"*.lmo.est=use", "*.lmo.window=3", NULL}},
        {"scion", {"*.lmo.init=1", "*.lmo.est=log", NULL}},
    };
    mu_gemm_ctx_t *g = gemm_ctx();
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
        reg_t a = {0}, b = {0};
        build_small(&a), build_small(&b);
        mu_optim_t *oa = open_opt(v[k].preset, NULL, v[k].hp, &a, g);
        for (int t = 1; t <= 4; t++) step(oa, &a, t);
        size_t nb;
        mu_optim_t *ob = open_opt(v[k].preset, NULL, v[k].hp, &b, g);
        void *buf = state_handoff(oa, &a, ob, &b, &nb);
        for (int t = 5; t <= 7; t++) step(oa, &a, t), step(ob, &b, t);
        assert_same_weights(&a, &b, v[k].preset);
        // the saved convention is checked: approx state does not load into exact / efficient
        if (k == 1 || k == 2) {
            reg_t c = {0};
            build_small(&c);
            mu_optim_t *oc = open_opt(v[k].preset, NULL, NULL, &c, g);
            assert_int_equal(mu_optim_state_load(oc, buf, nb), MU_EMISMATCH);
            assert_non_null(strstr(mu_last_error(), "mode="));
            mu_optim_free(oc);
            reg_free(&c);
        }
        free(buf);
        mu_optim_free(oa), mu_optim_free(ob);
        reg_free(&a), reg_free(&b);
    }
    mu_gemm_ctx_free(g);
}

/* Momentum in the gradient buffer (--scion-light, grad_carry.c). The light optimizer sees
 * B_t = βB_{t−1} + G_t (the caller adds G_t; the step leaves β·B_t behind) where Scion sees
 * G_t and keeps D_t = (1−β)B_t: weights agree to rounding at every step, for both presets and
 * every role. No ema link or state; the state file carries B bit-exactly and names the form;
 * presets whose chains are not ema -> scale-invariant lmo are refused with the group's name. */
static void test_scion_light(void **st) {
    (void)st;
    mu_gemm_ctx_t *g = gemm_ctx();
    const char *presets[] = {"scion", "scion-unconstrained"};
    for (int k = 0; k < 2; k++) {
        reg_t a = {0}, b = {0}, c = {0}, gt = {0};
        build_small(&a), build_small(&b), build_small(&c), build_small(&gt);
        mu_optim_config_t cl = cfg_of(presets[k]);
        cl.momentum_in_grad = 1;
        mu_optim_t *oa = open_opt(presets[k], NULL, NULL, &a, g), *ob = open_opt(presets[k], &cl, NULL, &b, g);
        assert_int_equal(mu_optim_keeps_grad(oa), 0);
        assert_int_equal(mu_optim_keeps_grad(ob), 1);
        const float *s;
        size_t n;
        assert_int_equal(mu_optim_link_state(ob, 0, "ema", &s, &n), MU_EINVAL);  // the ema link is gone
        mu_optim_t *oc = NULL;
        void *buf = NULL;
        size_t nb = 0;
        for (int t = 1; t <= 6; t++) {
            grads(&gt, t);
            for (int32_t i = 0; i < gt.n; i++)
                for (int64_t j = 0; j < gt.p[i].numel; j++) {
                    a.p[i].grad[j] = gt.p[i].grad[j];
                    b.p[i].grad[j] += gt.p[i].grad[j];
                    if (oc) c.p[i].grad[j] += gt.p[i].grad[j];
                }
            assert_int_equal(mu_optim_step(oa, 0.7f), 0);
            assert_int_equal(mu_optim_step(ob, 0.7f), 0);
            if (oc) assert_int_equal(mu_optim_step(oc, 0.7f), 0);
            for (int32_t i = 0; i < a.n; i++)
                for (int64_t j = 0; j < a.p[i].numel; j++) assert_close(b.p[i].data[j], a.p[i].data[j], 1e-6, 1e-5);
            if (t == 3) {  // hand the light state to a fresh light optimizer over c (zero gradients)
                oc = open_opt(presets[k], &cl, NULL, &c, g);
                buf = state_handoff(ob, &b, oc, &c, &nb);
                assert_non_null(memmem(buf, nb, "grad_ema>", 9));
            }
        }
        assert_same_weights(&b, &c, "--scion-light state round trip");
        mu_optim_t *od = open_opt(presets[k], NULL, NULL, &c, g);  // plain Scion: a different state
        assert_int_equal(mu_optim_state_load(od, buf, nb), MU_EMISMATCH);
        free(buf);
        mu_optim_free(oa), mu_optim_free(ob), mu_optim_free(oc), mu_optim_free(od);
        reg_free(&a), reg_free(&b), reg_free(&c), reg_free(&gt);
    }
    static const struct {
        const char *preset, *why;
    } bad[] = {{"adamw", "does not start with ema"},
               {"muon", "Nesterov"},
               {"conda", "no lmo right after"},
               {"gluon", "step rule"}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        reg_t r = {0};
        build_small(&r);
        mu_optim_config_t cc = cfg_of(bad[k].preset);
        cc.momentum_in_grad = 1;
        mu_optim_t *o = NULL;
        assert_int_equal(mu_optim_init(&o, &cc, r.p, r.n, g), MU_EINVAL);
        if (!strstr(mu_last_error(), bad[k].why)) fail_msg("%s: '%s'", bad[k].preset, mu_last_error());
        assert_non_null(strstr(mu_last_error(), "--scion-light"));
        reg_free(&r);
    }
    mu_gemm_ctx_free(g);
}

static void test_link_state_errors(void **st) {
    (void)st;
    reg_t r = {0};
    build_small(&r);
    mu_optim_t *o = open_opt("lion", NULL, NULL, &r, NULL);
    const float *s;
    size_t n;
    assert_int_equal(mu_optim_link_state(o, 0, "lmo", &s, &n), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "no link 'lmo'"));
    assert_int_equal(mu_optim_link_state(o, 99, "lion_mix", &s, &n), MU_EINVAL);
    assert_int_equal(mu_optim_link_state(o, 0, "lion_mix", &s, &n), MU_OK);
    assert_int_equal(n, 80);
    mu_optim_free(o);
    reg_free(&r);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_noise_two_steps_by_hand),
    cmocka_unit_test(test_noise_spec_properties),
    cmocka_unit_test(test_noise_classes_and_zero_noise),
    cmocka_unit_test(test_replay_bit_identical),
    cmocka_unit_test(test_group_chain_checks),
    cmocka_unit_test(test_mars_exact_quadratic),
    cmocka_unit_test(test_mars_exact_is_approx_with_current_grad),
    cmocka_unit_test(test_mars_exact_trains_gpt),
    cmocka_unit_test(test_mars_m_efficient_by_hand),
    cmocka_unit_test(test_mars_efficient_equals_unclipped_approx),
    cmocka_unit_test(test_mars_efficient_errors),
    cmocka_unit_test(test_scion_boundary_init),
    cmocka_unit_test(test_scion_boundary_constrained),
    cmocka_unit_test(test_hinge_fit_by_hand),
    cmocka_unit_test(test_gluon_estimation_logged),
    cmocka_unit_test(test_gluon_estimation_used),
    cmocka_unit_test(test_state_roundtrip_variants),
    cmocka_unit_test(test_link_state_errors),
    cmocka_unit_test(test_scion_light),
};

MU_TEST_MAIN(tests)

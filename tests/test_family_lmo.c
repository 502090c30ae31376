/* test_family_lmo.c — the lmo family (MARS, Lion, Scion, Gluon) against references computed
 * in double (here and in tests/optim_ref.h): the new transforms (grad_diff, clip_frob, sign,
 * lion_mix, lmo), one step of every preset on small hand-built registries, the spec's
 * testable properties (optimizers-lmo.md §3, §4, §5, §14), bit-exact state round trips and
 * hyperparameter errors. */
#include "testutil.h"

#include "muon/optim.h"
#include "optim_ref.h"

/* uniform(-scale, scale), seeded */
static void fill(float *x, int64_t n, uint64_t seed, float scale) { fill_lcg(x, n, seed, 7, scale); }

static double fro(const float *x, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return sqrt(s);
}

static mu_optim_t *make(const mu_optim_config_t *c, reg_t *r, mu_gemm_ctx_t *g) {
    mu_optim_t *o = NULL;
    int rc = mu_optim_init(&o, c, r->p, r->n, g);
    if (rc) print_error("init %s: %s\n", c->preset, mu_last_error());
    assert_int_equal(rc, 0);
    return o;
}

/* ---- grad_diff and clip_frob (§3 tests 1, 2) ---- */

/* mars-lion state after one step: [G_prev | m], m = (1-b1)·clip(c). */
static void lion_m_after_step(const float *G, int n, float tau, float *m) {
    reg_t r = {0};
    mu_param_t *w = reg_add(&r, "h.w", MU_ROLE_HIDDEN, 2, 5, 4);
    memcpy(w->grad, G, sizeof(float) * (size_t)n);
    mu_optim_config_t c = cfg_of("mars-lion");
    mu_optim_t *o = make(&c, &r, NULL);
    assert_int_equal(mu_optim_set_hparam(o, "*.clip_frob.tau", tau), 0);
    assert_int_equal(mu_optim_step(o, 1.0f), 0);
    size_t nb = mu_optim_state_bytes(o);
    unsigned char *buf = malloc(nb);
    assert_int_equal(mu_optim_state_save(o, buf, nb), 0);
    memcpy(m, buf + nb - sizeof(float) * (size_t)n, sizeof(float) * (size_t)n);
    free(buf);
    mu_optim_free(o);
    reg_free(&r);
}

static void test_clip_frob_bound(void **st) {
    (void)st;
    float G[20], m[20], m_free[20], cvec[20];
    // ‖c‖ > 1: clipped onto the unit sphere, direction kept
    fill(G, 20, 2, 3.0f);
    assert_true(1.475 * fro(G, 20) > 1.0);
    lion_m_after_step(G, 20, 1.0f, m);
    for (int i = 0; i < 20; i++) cvec[i] = m[i] / 0.05f;
    assert_true(fro(cvec, 20) <= 1.0 + 1e-5);
    assert_close(fro(cvec, 20), 1.0, 1e-5, 0);
    for (int i = 0; i < 20; i++) assert_close(cvec[i], 1.475 * G[i] / (1.475 * fro(G, 20)), 1e-6, 1e-5);
    // ‖c‖ <= 1: bitwise unchanged (same state as with the clip disabled)
    fill(G, 20, 3, 0.05f);
    assert_true(1.475 * fro(G, 20) < 1.0);
    lion_m_after_step(G, 20, 1.0f, m);
    lion_m_after_step(G, 20, 1e30f, m_free);
    assert_memory_equal(m, m_free, sizeof m);
    for (int i = 0; i < 20; i++) assert_close(m[i], 0.05 * 1.475 * G[i], 1e-10, 1e-6);
}

/* §3 test 1: t = 1, ‖G‖_F < 0.5: c = 1.475·G, read back from adam's moments m = (1-b1)c, v = (1-b2)c². */
static void test_mars_first_step_c(void **st) {
    (void)st;
    reg_t r = {0};
    mu_param_t *w = reg_add(&r, "h.w", MU_ROLE_HIDDEN, 2, 4, 3);
    fill(w->grad, 12, 1, 0.1f);
    assert_true(fro(w->grad, 12) < 0.5);
    mu_optim_config_t c = cfg_of("mars-adamw");
    mu_optim_t *o = make(&c, &r, NULL);
    assert_int_equal(mu_optim_step(o, 1.0f), 0);
    size_t nb = mu_optim_state_bytes(o);  // arena of the one member: [G_prev | m | v]
    unsigned char *buf = malloc(nb);
    assert_int_equal(mu_optim_state_save(o, buf, nb), 0);
    const float *arena = (const float *)(buf + nb - sizeof(float) * 36);
    for (int i = 0; i < 12; i++) {
        const double cc = 1.475 * w->grad[i];
        assert_true(arena[i] == w->grad[i]);  // G_prev <- G
        assert_close(arena[12 + i], 0.05 * cc, 1e-10, 1e-6);
        assert_close(arena[24 + i], 0.01 * cc * cc, 1e-12, 1e-5);
    }
    free(buf);
    mu_optim_free(o);
    reg_free(&r);
}

/* §3 test 3: gamma = 0, tau = 1e30: mars-adamw is AdamW bit for bit. */
static void test_mars_adamw_equals_adamw(void **st) {
    (void)st;
    reg_t a = {0}, b = {0};
    mu_param_t *pa = reg_add(&a, "h.w", MU_ROLE_HIDDEN, 2, 6, 5), *pb = reg_add(&b, "h.w", MU_ROLE_HIDDEN, 2, 6, 5);
    fill(pa->data, 30, 3, 0.5f);
    memcpy(pb->data, pa->data, sizeof(float) * 30);
    mu_optim_config_t ca = cfg_of("mars-adamw");
    ca.weight_decay = 0.1f;
    mu_optim_config_t cb = ca;
    cb.preset = "adamw";
    mu_optim_t *oa = make(&ca, &a, NULL), *ob = make(&cb, &b, NULL);
    assert_int_equal(mu_optim_set_hparam(oa, "matrix.grad_diff.gamma", 0.0f), 0);
    assert_int_equal(mu_optim_set_hparam(oa, "matrix.clip_frob.tau", 1e30f), 0);
    for (int t = 0; t < 4; t++) {
        fill(pa->grad, 30, 10 + t, 2.0f);
        memcpy(pb->grad, pa->grad, sizeof(float) * 30);
        assert_int_equal(mu_optim_step(oa, 0.7f), 0);
        assert_int_equal(mu_optim_step(ob, 0.7f), 0);
    }
    assert_memory_equal(pa->data, pb->data, sizeof(float) * 30);
    mu_optim_free(oa), mu_optim_free(ob);
    reg_free(&a), reg_free(&b);
}

/* mars-adamw over 3 steps against a double reference of (1)-(5), plus the 1-D AdamW group. */
static void test_mars_adamw_steps(void **st) {
    (void)st;
    reg_t r = {0};
    mu_param_t *w = reg_add(&r, "h.w", MU_ROLE_HIDDEN, 2, 4, 3), *gn = reg_add(&r, "ln.w", MU_ROLE_GAIN, 1, 3, 1);
    fill(w->data, 12, 4, 0.5f);
    for (int i = 0; i < 3; i++) gn->data[i] = 1.0f;
    mu_optim_config_t c = cfg_of("mars-adamw");
    c.weight_decay = 0.05f;
    mu_optim_t *o = make(&c, &r, NULL);
    const double lr = 3e-3, b1 = 0.95, b2 = 0.99, eps = 1e-8, k = 0.025 * b1 / (1 - b1), wd = 0.05;
    double W[12], prev[12] = {0}, m[12] = {0}, v[12] = {0}, G1[3], M1[3] = {0}, V1[3] = {0}, g1[3];
    for (int i = 0; i < 12; i++) W[i] = w->data[i];
    for (int i = 0; i < 3; i++) g1[i] = 1.0;
    for (int t = 1; t <= 3; t++) {
        fill(w->grad, 12, 20 + t, t == 2 ? 0.6f : 0.2f);  // step 2 clips
        fill(gn->grad, 3, 30 + t, 0.3f);
        double cv[12], nrm = 0;
        for (int i = 0; i < 12; i++) cv[i] = w->grad[i] + k * (w->grad[i] - prev[i]), prev[i] = w->grad[i];
        for (int i = 0; i < 12; i++) nrm += cv[i] * cv[i];
        nrm = sqrt(nrm);
        if (t == 2) assert_true(nrm > 1.0);
        for (int i = 0; i < 12; i++) {
            const double ci = nrm > 1 ? cv[i] / nrm : cv[i];
            m[i] = b1 * m[i] + (1 - b1) * ci;
            v[i] = b2 * v[i] + (1 - b2) * ci * ci;
            const double u = (m[i] / (1 - pow(b1, t))) / (sqrt(v[i] / (1 - pow(b2, t))) + eps);
            W[i] = (1 - lr * wd) * W[i] - lr * u;
        }
        for (int i = 0; i < 3; i++) {  // gains: AdamW(0.9, 0.95) at aux lr 3e-3, no decay
            G1[i] = gn->grad[i];
            M1[i] = 0.9 * M1[i] + 0.1 * G1[i];
            V1[i] = 0.95 * V1[i] + 0.05 * G1[i] * G1[i];
            g1[i] -= 3e-3 * (M1[i] / (1 - pow(0.9, t))) / (sqrt(V1[i] / (1 - pow(0.95, t))) + eps);
        }
        assert_int_equal(mu_optim_step(o, 1.0f), 0);
    }
    for (int i = 0; i < 12; i++) assert_close(w->data[i], W[i], 1e-6, 1e-5);
    for (int i = 0; i < 3; i++) assert_close(gn->data[i], g1[i], 1e-6, 1e-5);
    mu_optim_free(o);
    reg_free(&r);
}

/* mars-lion, one step: m = (1-b1)c, ΔW = -lr(sign(c) + wd W); embed and head are in the 2-D group. */
static void test_mars_lion_step(void **st) {
    (void)st;
    reg_t r = {0};
    mu_param_t *e = reg_add(&r, "wte", MU_ROLE_EMBED, 2, 5, 3);
    fill(e->data, 15, 5, 0.3f);
    fill(e->grad, 15, 6, 0.5f);
    e->grad[4] = 0.0f;
    mu_optim_config_t c = cfg_of("mars-lion");
    c.weight_decay = 0.2f;
    float W0[15];
    memcpy(W0, e->data, sizeof W0);
    mu_optim_t *o = make(&c, &r, NULL);
    assert_int_equal(mu_optim_step(o, 1.0f), 0);
    for (int i = 0; i < 15; i++)
        assert_close(e->data[i], (1 - 3e-4 * 0.2) * W0[i] - 3e-4 * sgn(e->grad[i]), 1e-8, 1e-6);
    assert_true(e->data[4] == (float)((1 - 3e-4f * 0.2f) * W0[4]));  // sign(0) = 0
    mu_optim_free(o);
    reg_free(&r);
}

/* mars-shampoo / mars-m with the exact polar factor: one step against the double SVD. */
static void shampoo_case(const char *preset, double lr, double wd, int moonlight, mu_gemm_ctx_t *g) {
    reg_t r = {0};
    mu_param_t *w = reg_add(&r, "h.w", MU_ROLE_HIDDEN, 2, 6, 4);
    fill(w->data, 24, 7, 0.5f);
    fill(w->grad, 24, 8, 0.5f);  // ‖c‖ > 1: clipped, direction unchanged
    mu_optim_config_t c = cfg_of(preset);
    c.orth_kind = 4;
    c.weight_decay = (float)wd;
    if (!moonlight) {  // mars-shampoo owns every 2-D tensor: add an embedding too
        mu_param_t *e = reg_add(&r, "wte", MU_ROLE_EMBED, 2, 3, 4);
        fill(e->grad, 12, 9, 1.0f);
        w = &r.p[0];
    }
    double G[24], P[24], W0[24];
    for (int i = 0; i < 24; i++) G[i] = w->grad[i], W0[i] = w->data[i];
    ref_polar(G, 6, 4, P);
    mu_optim_t *o = make(&c, &r, g);
    assert_int_equal(mu_optim_step(o, 1.0f), 0);
    const double a = moonlight ? 0.2 * sqrt(6.0) : sqrt(6.0 / 4.0);
    for (int i = 0; i < 24; i++) assert_close(w->data[i], (1 - lr * wd) * W0[i] - lr * a * P[i], 1e-5, 1e-4);
    mu_optim_free(o);
    reg_free(&r);
}

static void test_mars_shampoo_and_m_step(void **st) {
    (void)st;
    mu_gemm_ctx_t *g = gemm_ctx();
    shampoo_case("mars-shampoo", 3e-3, 0.1, 0, g);
    shampoo_case("mars-m", 6e-3, 0.01, 1, g);
    mu_gemm_ctx_free(g);
}

/* ---- Lion (§14 tests 1, 2) ---- */
static void test_lion(void **st) {
    (void)st;
    reg_t r = {0};
    mu_param_t *w = reg_add(&r, "h.w", MU_ROLE_HIDDEN, 2, 4, 4);
    fill(w->data, 16, 11, 0.5f);
    mu_optim_config_t c = cfg_of("lion");
    c.weight_decay = 0.1f;
    mu_optim_t *o = make(&c, &r, NULL);
    const double lr = 1e-4, wd = 0.1, b1 = 0.9, b2 = 0.99;
    double m[16] = {0};
    for (int t = 1; t <= 3; t++) {
        fill(w->grad, 16, 40 + t, 1.0f);
        if (t == 1) w->grad[3] = 0.0f;
        float W0[16];
        memcpy(W0, w->data, sizeof W0);
        assert_int_equal(mu_optim_step(o, 1.0f), 0);
        for (int i = 0; i < 16; i++) {
            const double cc = b1 * m[i] + (1 - b1) * w->grad[i];
            m[i] = b2 * m[i] + (1 - b2) * w->grad[i];
            // (1) ΔW + lr·wd·W ∈ {-lr, 0, +lr}
            const double d = ((double)w->data[i] - W0[i] + lr * wd * W0[i]) / lr;
            assert_true(fabs(d - sgn(cc) * -1.0) < 1e-3);
            assert_true(fabs(fabs(d) - 1.0) < 1e-3 || fabs(d) < 1e-3);
        }
    }
    // (2) the stored momentum is the b2-EMA of the gradients (the update used b1)
    size_t nb = mu_optim_state_bytes(o);
    unsigned char *buf = malloc(nb);
    assert_int_equal(mu_optim_state_save(o, buf, nb), 0);
    const float *ms = (const float *)(buf + nb - sizeof(float) * 16);
    for (int i = 0; i < 16; i++) assert_close(ms[i], m[i], 1e-8, 1e-5);
    free(buf);
    mu_optim_free(o);
    reg_free(&r);
}

/* ---- Scion (§4) ---- */

/* One step of scion on every role: hidden spectral (exact), untied embedding colnorm on the
 * (V, d) table (tokens absent from the batch keep a zero row), head sign, gains bias_rms. */
static void test_scion_one_step(void **st) {
    (void)st;
    mu_gemm_ctx_t *g = gemm_ctx();
    for (int constrained = 0; constrained < 2; constrained++) {
        reg_t r = {0};
        mu_param_t *h = reg_add(&r, "h.w", MU_ROLE_HIDDEN, 2, 3, 5), *e = reg_add(&r, "wte", MU_ROLE_EMBED, 2, 6, 4);
        mu_param_t *hd = reg_add(&r, "lm_head", MU_ROLE_HEAD, 2, 6, 4), *gn = reg_add(&r, "ln.w", MU_ROLE_GAIN, 1, 4, 1);
        for (int i = 0; i < 4; i++) r.p[i].layer = 0;
        fill(h->data, 15, 1, 0.3f), fill(e->data, 24, 2, 0.3f), fill(hd->data, 24, 3, 0.3f);
        for (int i = 0; i < 4; i++) gn->data[i] = 1.0f;
        fill(h->grad, 15, 4, 1.0f), fill(e->grad, 24, 5, 1.0f), fill(hd->grad, 24, 6, 1.0f), fill(gn->grad, 4, 7, 1.0f);
        memset(e->grad + 8, 0, sizeof(float) * 8);  // tokens 2 and 3 absent
        hd->grad[5] = 0.0f;
        float H0[15], E0[24], D0[24], N0[4];
        memcpy(H0, h->data, sizeof H0), memcpy(E0, e->data, sizeof E0), memcpy(D0, hd->data, sizeof D0);
        memcpy(N0, gn->data, sizeof N0);
        mu_optim_config_t c = cfg_of(constrained ? "scion" : "scion-unconstrained");
        c.orth_kind = 4;
        mu_optim_t *o = make(&c, &r, g);
        assert_int_equal(mu_optim_step(o, 1.0f), 0);
        const double lr = 3.6e-4, keep = constrained ? 1 - lr : 1.0;
        // hidden: rho 50 · sqrt(m/n) · polar(G)   (ema of zero state = 0.1 G: same polar factor)
        double G[15], P[15];
        for (int i = 0; i < 15; i++) G[i] = h->grad[i];
        ref_polar(G, 3, 5, P);
        for (int i = 0; i < 15; i++) assert_close(h->data[i], keep * H0[i] - lr * 50 * sqrt(3.0 / 5.0) * P[i], 1e-6, 1e-5);
        // embedding: each token row of U/rho has norm sqrt(d) = 2 (test 1); absent rows exactly 0
        for (int v = 0; v < 6; v++) {
            double rn = 0;
            for (int j = 0; j < 4; j++) rn += (double)e->grad[v * 4 + j] * e->grad[v * 4 + j];
            rn = sqrt(rn);
            double un = 0;
            for (int j = 0; j < 4; j++) {
                const int i = v * 4 + j;
                const double u = ((double)keep * E0[i] - e->data[i]) / (lr * 1.0);
                const double want = rn > 0 ? 2.0 * e->grad[i] / (rn + 1e-8) : 0.0;
                assert_close(u, want, 2e-3, 1e-3);
                un += u * u;
                if (rn == 0 && !constrained) assert_true(e->data[i] == E0[i]);
            }
            if (rn > 0) assert_close(sqrt(un), 2.0, 0, 2e-3);
        }
        // head: sign(G)/n · 3000, n = d = 4 (test 2: entries of U/rho in {-1/n, 0, 1/n})
        for (int i = 0; i < 24; i++)
            assert_close(hd->data[i], keep * D0[i] - lr * 3000 * sgn(hd->grad[i]) / 4.0, 1e-6, 1e-5);
        // gains: G / (RMS(G) + eps)
        double rms = 0;
        for (int i = 0; i < 4; i++) rms += (double)gn->grad[i] * gn->grad[i];
        rms = sqrt(rms / 4);
        for (int i = 0; i < 4; i++) assert_close(gn->data[i], keep * N0[i] - lr * gn->grad[i] / (rms + 1e-8), 1e-6, 1e-5);
        mu_optim_free(o);
        reg_free(&r);
    }
    mu_gemm_ctx_free(g);
}

/* Exact unit-LMO properties at full precision: colnorm rows = sqrt(d) to 1e-6, sign entries. */
static void test_scion_lmo_properties(void **st) {
    (void)st;
    reg_t r = {0};
    mu_param_t *e = reg_add(&r, "wte", MU_ROLE_EMBED, 2, 7, 16), *hd = reg_add(&r, "lm_head", MU_ROLE_HEAD, 2, 7, 16);
    fill(e->grad, 112, 8, 1.0f), fill(hd->grad, 112, 9, 1.0f);
    memset(e->grad + 32, 0, sizeof(float) * 16);
    hd->grad[0] = 0.0f;
    mu_optim_config_t c = cfg_of("scion-unconstrained");
    mu_optim_t *o = make(&c, &r, NULL);  // no spectral group member: no gemm needed
    // read U/rho with lr = 1, rho = 1 (set through the generic hyperparameter path)
    assert_int_equal(mu_optim_set_hparam(o, "embed.lr", 1.0f), 0);
    assert_int_equal(mu_optim_set_hparam(o, "head.lr", 1.0f), 0);
    assert_int_equal(mu_optim_set_hparam(o, "head.lmo.rho", 1.0f), 0);
    assert_int_equal(mu_optim_step(o, 1.0f), 0);
    for (int v = 0; v < 7; v++) {
        const double n = fro(e->data + v * 16, 16);  // W0 = 0: W1 = -U
        if (v == 2) assert_true(n == 0.0);
        else assert_close(n, 4.0, 0, 1e-6);
    }
    for (int i = 0; i < 112; i++) {
        const float u = -hd->data[i];
        assert_true(u == 1.0f / 16 || u == -1.0f / 16 || (u == 0.0f && hd->grad[i] == 0.0f));
    }
    mu_optim_free(o);
    reg_free(&r);
}

/* §4 test 3: constrained, exact orth, ‖W0‖₂ <= rho·sqrt(m/n): after 50 random steps the bound holds. */
static void test_scion_constrained_bound(void **st) {
    (void)st;
    mu_gemm_ctx_t *g = gemm_ctx();
    reg_t r = {0};
    mu_param_t *h = reg_add(&r, "h.w", MU_ROLE_HIDDEN, 2, 8, 6);
    fill(h->data, 48, 12, 1.0f);
    const double rho = 50, bound = rho * sqrt(8.0 / 6.0);
    double s0 = sigma_max_f(h->data, 8, 6);
    for (int i = 0; i < 48; i++) h->data[i] = (float)(h->data[i] * 0.9 * bound / s0);
    mu_optim_config_t c = cfg_of("scion");
    c.orth_kind = 4;
    c.lr = 0.05f;  // big steps so the ball is reached
    mu_optim_t *o = make(&c, &r, g);
    for (int t = 0; t < 50; t++) {
        fill(h->grad, 48, 100 + t, 1.0f);
        assert_int_equal(mu_optim_step(o, 1.0f), 0);
    }
    const double s = sigma_max_f(h->data, 8, 6);
    assert_true(s <= bound * (1 + 1e-6) + 1e-4);  // fp32 steps: 1e-4 absolute slack on 57.7
    assert_true(s > 0.5 * bound);
    mu_optim_free(o);
    reg_free(&r);
    mu_gemm_ctx_free(g);
}

/* A tied table takes the head rule: sign/d with radius tied_rho (3000 for scion). */
static void test_scion_tied_table(void **st) {
    (void)st;
    reg_t r = {0};
    mu_param_t *e = reg_add(&r, "wte", MU_ROLE_EMBED, 2, 5, 8);
    e->tied = 1;
    fill(e->grad, 40, 13, 1.0f);
    mu_optim_config_t c = cfg_of("scion-unconstrained");
    mu_optim_t *o = make(&c, &r, NULL);
    assert_int_equal(mu_optim_step(o, 1.0f), 0);
    for (int i = 0; i < 40; i++) assert_close(e->data[i], -3.6e-4 * 3000 * sgn(e->grad[i]) / 8.0, 1e-7, 1e-5);
    mu_optim_free(o);
    reg_free(&r);
}

/* ---- Gluon (§5) ---- */
static void test_gluon(void **st) {
    (void)st;
    mu_gemm_ctx_t *g = gemm_ctx();
    // (2) m = n = 3, beta = 0, G = diag(3,2,1), L0 = 1, L1 = 0, exact, s_t = 1: ΔW = -6 I
    {
        reg_t r = {0};
        mu_param_t *h = reg_add(&r, "h.w", MU_ROLE_HIDDEN, 2, 3, 3);
        h->grad[0] = 3, h->grad[4] = 2, h->grad[8] = 1;
        mu_optim_config_t c = cfg_of("gluon");
        c.momentum = 0.0f;
        c.orth_kind = 4;
        mu_optim_t *o = make(&c, &r, g);
        assert_int_equal(mu_optim_set_hparam(o, "hidden.lmo.l0", 1.0f), 0);
        assert_int_equal(mu_optim_set_hparam(o, "hidden.lmo.l1", 0.0f), 0);
        assert_int_equal(mu_optim_step(o, 1.0f), 0);
        for (int i = 0; i < 9; i++) assert_close(h->data[i], i % 4 == 0 ? -6.0 : 0.0, 1e-5, 1e-6);
        mu_optim_free(o);
        reg_free(&r);
    }
    // (1) L0 = 0 (default): t = 1/L1 whatever M; head sign layer: ΔW = -(1/1.3)·sign(M)/d
    // (3) sign layer with M = all ones (V, d): D = V, so with L0 = 1, L1 = 0: t = V
    for (int rule = 0; rule < 2; rule++) {
        reg_t r = {0};
        mu_param_t *hd = reg_add(&r, "lm_head", MU_ROLE_HEAD, 2, 6, 4);
        if (rule) for (int i = 0; i < 24; i++) hd->grad[i] = 1.0f;
        else fill(hd->grad, 24, 14, 5.0f);
        mu_optim_config_t c = cfg_of("gluon");
        c.momentum = 0.0f;
        mu_optim_t *o = make(&c, &r, NULL);
        if (rule) {
            assert_int_equal(mu_optim_set_hparam(o, "head.lmo.l0", 1.0f), 0);
            assert_int_equal(mu_optim_set_hparam(o, "head.lmo.l1", 0.0f), 0);
        }
        assert_int_equal(mu_optim_step(o, 1.0f), 0);
        const double t = rule ? 6.0 : 1.0 / 1.3;
        for (int i = 0; i < 24; i++) assert_close(hd->data[i], -t * sgn(hd->grad[i]) / 4.0, 1e-7, 1e-6);
        mu_optim_free(o);
        reg_free(&r);
    }
    mu_gemm_ctx_free(g);
}

/* ---- every preset: state round trip (bit-exact resume) ---- */
static const char *const family[] = {"mars-adamw", "mars-lion", "mars-shampoo", "mars-m", "lion",
                                     "scion",      "scion-unconstrained", "gluon"};

static void test_state_roundtrip(void **st) {
    (void)st;
    mu_gemm_ctx_t *g = gemm_ctx();
    for (size_t k = 0; k < sizeof family / sizeof family[0]; k++) {
        reg_t a = {0}, b = {0};
        reg_small_gpt(&a, 7), reg_small_gpt(&b, 7);
        mu_optim_config_t c = cfg_of(family[k]);
        mu_optim_t *oa = make(&c, &a, g);
        for (int t = 1; t <= 3; t++) reg_grads(&a, t, 7), assert_int_equal(mu_optim_step(oa, 1.0f), 0);
        size_t nb;
        mu_optim_t *ob = make(&c, &b, g);
        void *buf = state_handoff(oa, &a, ob, &b, &nb);
        for (int t = 4; t <= 5; t++) {
            reg_grads(&a, t, 7), reg_grads(&b, t, 7);
            assert_int_equal(mu_optim_step(oa, 0.5f), 0);
            assert_int_equal(mu_optim_step(ob, 0.5f), 0);
        }
        assert_same_weights(&a, &b, family[k]);
        free(buf);
        mu_optim_free(oa), mu_optim_free(ob);
        reg_free(&a), reg_free(&b);
    }
    mu_gemm_ctx_free(g);
}

/* ---- errors ---- */
static void test_errors(void **st) {
    (void)st;
    reg_t r = {0};
    reg_small_gpt(&r, 7);
    mu_optim_config_t c = cfg_of("mars-adamw");
    mu_optim_t *o = make(&c, &r, NULL);
    assert_int_equal(mu_optim_set_hparam(o, "matrix.grad_diff.beta", 1.0f), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "grad_diff.beta"));
    assert_int_equal(mu_optim_set_hparam(o, "matrix.grad_diff.gamma", -1.0f), MU_EINVAL);
    assert_int_equal(mu_optim_set_hparam(o, "matrix.clip_frob.tau", 0.0f), MU_EINVAL);
    assert_int_equal(mu_optim_set_hparam(o, "matrix.clip_frob.nope", 1.0f), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "tau"));
    mu_optim_free(o);

    c = cfg_of("lion");
    o = make(&c, &r, NULL);
    assert_int_equal(mu_optim_set_hparam(o, "decay.lion_mix.b1", 1.5f), MU_EINVAL);
    assert_int_equal(mu_optim_set_hparam(o, "decay.lion_mix.b2", 0.5f), 0);
    mu_optim_free(o);

    c = cfg_of("scion");
    o = NULL;  // the spectral LMO needs a compute context
    assert_int_equal(mu_optim_init(&o, &c, r.p, r.n, NULL), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "hidden.lmo"));
    mu_gemm_ctx_t *g = gemm_ctx();
    o = make(&c, &r, g);
    assert_int_equal(mu_optim_set_hparam(o, "hidden.lmo.kind", 2.0f), MU_EINVAL);  // structural
    assert_int_equal(mu_optim_set_hparam(o, "hidden.lmo.rho", -1.0f), MU_EINVAL);
    assert_int_equal(mu_optim_set_hparam(o, "hidden.lmo.l1", NAN), MU_EINVAL);
    assert_int_equal(mu_optim_set_hparam(o, "hidden.lmo.rho", 10.0f), 0);
    mu_optim_free(o);
    mu_gemm_ctx_free(g);
    reg_free(&r);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_mars_first_step_c),   cmocka_unit_test(test_clip_frob_bound),
    cmocka_unit_test(test_mars_adamw_equals_adamw), cmocka_unit_test(test_mars_adamw_steps),
    cmocka_unit_test(test_mars_lion_step),      cmocka_unit_test(test_mars_shampoo_and_m_step),
    cmocka_unit_test(test_lion),                cmocka_unit_test(test_scion_one_step),
    cmocka_unit_test(test_scion_lmo_properties), cmocka_unit_test(test_scion_constrained_bound),
    cmocka_unit_test(test_scion_tied_table),    cmocka_unit_test(test_gluon),
    cmocka_unit_test(test_state_roundtrip),     cmocka_unit_test(test_errors),
};

MU_TEST_MAIN(tests)

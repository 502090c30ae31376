/* test_optim.c — optimizer chains against hand computations: AdamW (1 and 3 steps),
 * weight-decay groups, SGD momentum and Nesterov, clipping, state save/load,
 * configuration errors. Parameters are built by hand (no model). */
#include "testutil.h"

#include <omp.h>

#include "muon/optim.h"
#include "optim/optim_impl.h"
#include "optim/transform.h"
#include "optim_ref.h"

/* ---- hand-built registry (optim_ref.h) ----
 * A record whose weights start at a fixed pattern; 2-D for matrices (or any cols > 1). */
static void reg_put(reg_t *r, const char *name, mu_role_t role, int64_t rows, int64_t cols) {
    const int32_t ndim = cols > 1 || role == MU_ROLE_HIDDEN || role == MU_ROLE_EMBED || role == MU_ROLE_HEAD ? 2 : 1;
    mu_param_t *p = reg_add(r, name, role, ndim, rows, cols);
    for (int64_t i = 0; i < p->numel; i++) p->data[i] = 0.5f - 0.1f * (float)((i * 7 + r->n) % 11);
}

/* A small model-like registry: embedding, hidden matrix, gain, bias. */
static void reg_small(reg_t *r) {
    r->n = 0;
    reg_put(r, "wte", MU_ROLE_EMBED, 3, 2);
    reg_put(r, "h.0.attn.c_proj.weight", MU_ROLE_HIDDEN, 2, 3);
    reg_put(r, "h.0.ln_1.weight", MU_ROLE_GAIN, 2, 1);
    reg_put(r, "h.0.ln_1.bias", MU_ROLE_BIAS, 2, 1);
}

/* Deterministic gradient of element i at step t (1-based). */
static float grad_at(int32_t pi, int64_t i, int64_t t) {
    return 0.3f * sinf(1.7f * (float)(i + 1) + 0.9f * (float)t + (float)pi) + 0.05f * (float)(pi - 1);
}

static void fill_grads(reg_t *r, int64_t t) {
    for (int32_t k = 0; k < r->n; k++)
        for (int64_t i = 0; i < r->p[k].numel; i++) r->p[k].grad[i] = grad_at(k, i, t);
}

/* ---- AdamW ---- */

/* One step by hand: m̂ = g, v̂ = g², U = g/(|g|+eps); W <- W(1 - lr wd) - lr U. */
static void test_adamw_one_step_hand(void **st) {
    reg_t r = {0};
    reg_put(&r, "w", MU_ROLE_HIDDEN, 1, 2);
    r.p[0].data[0] = 1.0f;
    r.p[0].data[1] = -2.0f;
    r.p[0].grad[0] = 0.5f;
    r.p[0].grad[1] = -0.25f;
    mu_optim_config_t c = mu_optim_config_default();
    mu_optim_t *o = NULL;
    assert_int_equal(mu_optim_init(&o, &c, r.p, r.n, NULL), 0);
    assert_int_equal(mu_optim_steps_done(o), 0);
    assert_int_equal(mu_optim_step(o, 1.0f), 0);
    assert_int_equal(mu_optim_steps_done(o), 1);
    // 1 * 0.9999 - 0.001 = 0.9989;  -2 * 0.9999 + 0.001 = -1.9988
    assert_close(r.p[0].data[0], 0.9989, 1e-6, 0);
    assert_close(r.p[0].data[1], -1.9988, 1e-6, 0);
    // second step with lr_factor 0.5, same gradient: m̂ = g, v̂ = g² again (bias-corrected EMAs of a
    // constant): W <- W (1 - 0.5e-4) - 0.5e-3 sign(g)
    assert_int_equal(mu_optim_step(o, 0.5f), 0);
    assert_close(r.p[0].data[0], 0.9989 * (1 - 0.5e-4) - 0.5e-3, 1e-6, 0);
    assert_close(r.p[0].data[1], -1.9988 * (1 - 0.5e-4) + 0.5e-3, 1e-6, 0);
    mu_optim_free(o);
    reg_free(&r);
}

/* Reference AdamW in double, per element, for steps 1..T; decays[k] says whether record k decays. */
static void adamw_reference(reg_t *r0, double *Wref[], const int decays[], int T, double lr, double wd,
                            double b1, double b2, double eps) {
    for (int32_t k = 0; k < r0->n; k++) {
        for (int64_t i = 0; i < r0->p[k].numel; i++) {
            double w = r0->p[k].data[i], m = 0, v = 0;
            for (int t = 1; t <= T; t++) {
                double g = (double)grad_at(k, i, t);
                m = b1 * m + (1 - b1) * g;
                v = b2 * v + (1 - b2) * g * g;
                double mh = m / (1 - pow(b1, t)), vh = v / (1 - pow(b2, t));
                if (decays[k]) w *= 1 - lr * wd;
                w -= lr * mh / (sqrt(vh) + eps);
            }
            Wref[k][i] = w;
        }
    }
}

static void run_adamw_vs_reference(int decay_gains, int decay_embed, const int decays[4]) {
    reg_t r = {0};
    reg_small(&r);
    double *Wref[4];
    for (int k = 0; k < 4; k++) Wref[k] = calloc((size_t)r.p[k].numel, sizeof(double));
    mu_optim_config_t c = mu_optim_config_default();
    c.lr = 0.01f;
    c.weight_decay = 0.5f;
    c.beta1 = 0.8f;
    c.beta2 = 0.9f;
    c.eps = 1e-6f;
    c.decay_gains = decay_gains;
    c.decay_embed = decay_embed;
    adamw_reference(&r, Wref, decays, 3, 0.01, 0.5, (double)0.8f, (double)0.9f, (double)1e-6f);
    mu_optim_t *o = NULL;
    assert_int_equal(mu_optim_init(&o, &c, r.p, r.n, NULL), 0);
    for (int t = 1; t <= 3; t++) {
        fill_grads(&r, t);
        assert_int_equal(mu_optim_step(o, 1.0f), 0);
    }
    for (int k = 0; k < 4; k++)
        for (int64_t i = 0; i < r.p[k].numel; i++) assert_close(r.p[k].data[i], Wref[k][i], 2e-7, 2e-6);
    mu_optim_free(o);
    for (int k = 0; k < 4; k++) free(Wref[k]);
    reg_free(&r);
}

static void test_adamw_three_steps(void **st) {
    const int def[4] = {1, 1, 0, 0};       // embed, hidden decay; gain, bias not
    run_adamw_vs_reference(0, 1, def);
    const int gains[4] = {1, 1, 1, 1};     // decay_gains = 1
    run_adamw_vs_reference(1, 1, gains);
    const int noemb[4] = {0, 1, 0, 0};     // decay_embed = 0
    run_adamw_vs_reference(0, 0, noemb);
}

/* Three steps of a single element, every number written out.
 * lr 0.1, wd 0, b1 0.5, b2 0.5, eps 0; g = 1, 2, -1; w0 = 0.
 * t1: m .5 v .5  m̂ 1  v̂ 1  U 1            w = -0.1
 * t2: m 1.25 v 2.25  m̂ 1.25/.75 = 5/3  v̂ 2.25/.75 = 3  U = 5/(3 sqrt 3) = 0.962250449  w = -0.196225045
 * t3: m .125 v 1.625  m̂ .125/.875 = 1/7  v̂ 1.625/.875 = 13/7  U = (1/7)/sqrt(13/7) = 0.104828483
 *     w = -0.206707893 */
/* A tensor long enough for the vector path (35 = 4 x 8 + 3): the reference in double
 * matches, and equal gradients give bit-identical weights in vector and scalar lanes. */
static void test_adamw_vector_path(void **st) {
    reg_t r = {0};
    reg_put(&r, "w", MU_ROLE_HIDDEN, 5, 7);
    double *Wref[1] = {calloc(35, sizeof(double))};
    const int dec[1] = {1};
    adamw_reference(&r, Wref, dec, 3, 1e-3, 0.1, (double)0.9f, (double)0.95f, (double)1e-8f);
    mu_optim_config_t c = mu_optim_config_default();
    mu_optim_t *o = NULL;
    assert_int_equal(mu_optim_init(&o, &c, r.p, r.n, NULL), 0);
    for (int t = 1; t <= 3; t++) {
        fill_grads(&r, t);
        assert_int_equal(mu_optim_step(o, 1.0f), 0);
    }
    for (int64_t i = 0; i < 35; i++) assert_close(r.p[0].data[i], Wref[0][i], 1e-7, 1e-6);
    mu_optim_free(o);
    for (int64_t i = 0; i < 35; i++) r.p[0].data[i] = 0.25f;
    assert_int_equal(mu_optim_init(&o, &c, r.p, r.n, NULL), 0);
    for (int t = 1; t <= 3; t++) {
        for (int64_t i = 0; i < 35; i++) r.p[0].grad[i] = 0.1f * (float)t - 0.37f;
        assert_int_equal(mu_optim_step(o, 1.0f), 0);
    }
    for (int64_t i = 1; i < 35; i++) assert_memory_equal(&r.p[0].data[i], &r.p[0].data[0], sizeof(float));
    mu_optim_free(o);
    free(Wref[0]);
    reg_free(&r);
}

static void test_adam_hand_written(void **st) {
    reg_t r = {0};
    reg_put(&r, "w", MU_ROLE_HIDDEN, 1, 1);
    r.p[0].data[0] = 0.0f;
    mu_optim_config_t c = mu_optim_config_default();
    c.lr = 0.1f;
    c.weight_decay = 0.0f;
    c.beta1 = 0.5f;
    c.beta2 = 0.5f;
    c.eps = 0.0f;
    mu_optim_t *o = NULL;
    assert_int_equal(mu_optim_init(&o, &c, r.p, r.n, NULL), 0);
    const float g[3] = {1.0f, 2.0f, -1.0f};
    const double w[3] = {-0.1, -0.196225045, -0.206707893};
    for (int t = 0; t < 3; t++) {
        r.p[0].grad[0] = g[t];
        assert_int_equal(mu_optim_step(o, 1.0f), 0);
        assert_close(r.p[0].data[0], w[t], 1e-7, 0);
    }
    mu_optim_free(o);
    reg_free(&r);
}

/* The small registry in r and an optimizer for it under config c. */
static mu_optim_t *open_small(reg_t *r, const mu_optim_config_t *c) {
    mu_optim_t *o = NULL;
    reg_small(r);
    assert_int_equal(mu_optim_init(&o, c, r->p, r->n, NULL), 0);
    return o;
}

static void test_describe_groups(void **st) {
    reg_t r = {0};
    mu_optim_config_t c = mu_optim_config_default();
    mu_optim_t *o = open_small(&r, &c);
    char buf[1024];
    assert_int_equal(mu_optim_describe(o, buf, sizeof buf), 0);
    assert_string_equal(buf,
                        "decay[2]: adam(b1=0.9,b2=0.95,eps=1e-08) -> decay(wd=0.1,mode=lr) -> apply(lr=0.001)\n"
                        "no_decay[2]: adam(b1=0.9,b2=0.95,eps=1e-08) -> apply(lr=0.001)");
    mu_optim_free(o);
    c.decay_gains = 1;
    assert_int_equal(mu_optim_init(&o, &c, r.p, r.n, NULL), 0);
    mu_optim_describe(o, buf, sizeof buf);
    assert_non_null(strstr(buf, "decay[4]"));
    assert_non_null(strstr(buf, "no_decay[0]"));
    mu_optim_free(o);
    c = mu_optim_config_default();
    c.preset = "sgd";
    c.nesterov = 1;
    assert_int_equal(mu_optim_init(&o, &c, r.p, r.n, NULL), 0);
    mu_optim_describe(o, buf, sizeof buf);
    assert_non_null(strstr(buf, "decay[2]: sum(beta=0.9,nesterov=1) -> decay(wd=0.1,mode=lr) -> apply(lr=0.001)"));
    mu_optim_free(o);
    reg_free(&r);
}

/* ---- SGD ---- */

static void sgd_run(int nesterov, float wd, const double expect[2]) {
    reg_t r = {0};
    reg_put(&r, "w", MU_ROLE_HIDDEN, 1, 1);
    r.p[0].data[0] = 1.0f;
    mu_optim_config_t c = mu_optim_config_default();
    c.preset = "sgd";
    c.lr = 0.1f;
    c.momentum = 0.9f;
    c.nesterov = nesterov;
    c.weight_decay = wd;
    mu_optim_t *o = NULL;
    assert_int_equal(mu_optim_init(&o, &c, r.p, r.n, NULL), 0);
    for (int t = 0; t < 2; t++) {
        r.p[0].grad[0] = (float)(t + 1);  // g = 1, 2
        assert_int_equal(mu_optim_step(o, 1.0f), 0);
        assert_close(r.p[0].data[0], expect[t], 1e-6, 0);
    }
    mu_optim_free(o);
    reg_free(&r);
}

static void test_sgd_momentum(void **st) {
    // buf = 1, W = 1 - 0.1 = 0.9;  buf = 0.9 + 2 = 2.9, W = 0.9 - 0.29 = 0.61
    const double plain[2] = {0.9, 0.61};
    sgd_run(0, 0.0f, plain);
    // nesterov: U = g + 0.9 buf: 1.9 -> W 0.81;  2 + 0.9 * 2.9 = 4.61 -> W 0.349
    const double nest[2] = {0.81, 0.349};
    sgd_run(1, 0.0f, nest);
    // wd 0.1: W = 1 (1 - 0.01) - 0.1 = 0.89;  0.89 * 0.99 - 0.29 = 0.5911
    const double dec[2] = {0.89, 0.5911};
    sgd_run(0, 0.1f, dec);
}

/* ema and sum momentum give the same direction from zero state: ema = (1-b) sum. */
static void test_ema_vs_sum(void **st) {
    reg_t r = {0};
    reg_put(&r, "w", MU_ROLE_HIDDEN, 2, 3);
    float Me[6] = {0}, Ms[6] = {0}, Ue[6], Us[6];
    for (int nest = 0; nest <= 1; nest++) {
        mu_tstep_t e, s;
        mu_tstep_defaults(&e, &mu_tr_ema);
        mu_tstep_defaults(&s, &mu_tr_sum);
        assert_int_equal(mu_tstep_set(&e, "beta", 0.95f, "test"), 0);
        assert_int_equal(mu_tstep_set(&s, "beta", 0.95f, "test"), 0);
        assert_int_equal(mu_tstep_set(&e, "nesterov", (float)nest, "test"), 0);
        assert_int_equal(mu_tstep_set(&s, "nesterov", (float)nest, "test"), 0);
        memset(Me, 0, sizeof Me);
        memset(Ms, 0, sizeof Ms);
        mu_tctx_t ctx = {.lr = 1.0f, .t = 1};
        for (int t = 1; t <= 4; t++) {
            for (int i = 0; i < 6; i++) Ue[i] = Us[i] = grad_at(0, i, t);
            assert_int_equal(mu_chain_run(&e, 1, &ctx, Ue, Me, &r.p[0]), 0);
            assert_int_equal(mu_chain_run(&s, 1, &ctx, Us, Ms, &r.p[0]), 0);
            for (int i = 0; i < 6; i++) assert_close(Ue[i], 0.05 * Us[i], 1e-7, 1e-5);
        }
    }
    // scale: U' = a U
    mu_tstep_t sc;
    mu_tstep_defaults(&sc, &mu_tr_scale);
    assert_int_equal(mu_tstep_set(&sc, "a", 2.5f, "test"), 0);
    float U[6] = {1, -2, 3, 0, 0.5f, -1};
    mu_tctx_t ctx = {.lr = 1.0f, .t = 1};
    assert_int_equal(mu_chain_run(&sc, 1, &ctx, U, NULL, &r.p[0]), 0);
    assert_close(U[2], 7.5, 0, 0);
    assert_close(U[5], -2.5, 0, 0);
    // unknown key and out-of-range value are rejected with the key named
    assert_int_equal(mu_tstep_set(&sc, "b", 1.0f, "g.scale"), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "g.scale.b"));
    mu_tstep_t e;
    mu_tstep_defaults(&e, &mu_tr_ema);
    assert_int_equal(mu_tstep_set(&e, "beta", 1.0f, "g.ema"), MU_EINVAL);
    reg_free(&r);
}

/* ---- clipping ---- */

static void test_clip(void **st) {
    reg_t r = {0};
    reg_put(&r, "a", MU_ROLE_HIDDEN, 1, 2);
    reg_put(&r, "b", MU_ROLE_BIAS, 1, 1);
    r.p[0].grad[0] = 3;
    r.p[0].grad[1] = 4;
    r.p[1].grad[0] = 12;
    float norm = 0;
    assert_int_equal(mu_optim_clip_grad(r.p, r.n, 26.0f, &norm), 0);  // 13 < 26: untouched
    assert_close(norm, 13.0, 1e-6, 0);
    assert_true(r.p[0].grad[0] == 3 && r.p[0].grad[1] == 4 && r.p[1].grad[0] == 12);
    assert_int_equal(mu_optim_clip_grad(r.p, r.n, 0.0f, &norm), 0);   // off: norm only
    assert_true(r.p[1].grad[0] == 12);
    assert_int_equal(mu_optim_clip_grad(r.p, r.n, 6.5f, &norm), 0);   // scale 6.5 / (13 + 1e-6)
    assert_close(norm, 13.0, 1e-6, 0);
    assert_close(r.p[0].grad[0], 1.5, 1e-6, 0);
    assert_close(r.p[0].grad[1], 2.0, 1e-6, 0);
    assert_close(r.p[1].grad[0], 6.0, 1e-6, 0);
    assert_int_equal(mu_optim_clip_grad(r.p, r.n, 0.0f, &norm), 0);
    assert_close(norm, 6.5, 1e-5, 0);
    // NaN or Inf: MU_ENONFINITE and gradients untouched
    r.p[1].grad[0] = NAN;
    float before[2] = {r.p[0].grad[0], r.p[0].grad[1]};
    assert_int_equal(mu_optim_clip_grad(r.p, r.n, 1.0f, &norm), MU_ENONFINITE);
    assert_true(isnan(norm));
    assert_memory_equal(before, r.p[0].grad, sizeof before);
    r.p[1].grad[0] = INFINITY;
    assert_int_equal(mu_optim_clip_grad(r.p, r.n, 1.0f, &norm), MU_ENONFINITE);
    assert_memory_equal(before, r.p[0].grad, sizeof before);
    reg_free(&r);
}

/* Big tensors (parallel path): the norm is bit-identical for 1 and 2 threads. */
static void test_clip_large_deterministic(void **st) {
    reg_t r = {0};
    reg_put(&r, "big", MU_ROLE_HIDDEN, 300, 1001);
    reg_put(&r, "small", MU_ROLE_BIAS, 7, 1);
    for (int32_t k = 0; k < 2; k++)
        for (int64_t i = 0; i < r.p[k].numel; i++) r.p[k].grad[i] = grad_at(k, i, 1);
    double ref = 0;
    for (int32_t k = 0; k < 2; k++)
        for (int64_t i = 0; i < r.p[k].numel; i++) ref += (double)r.p[k].grad[i] * r.p[k].grad[i];
    ref = sqrt(ref);
    float n1 = 0, n2 = 0;
    int nt = omp_get_max_threads();
    omp_set_num_threads(1);
    assert_int_equal(mu_optim_clip_grad(r.p, r.n, 0.0f, &n1), 0);
    omp_set_num_threads(2);
    assert_int_equal(mu_optim_clip_grad(r.p, r.n, 0.0f, &n2), 0);
    omp_set_num_threads(nt);
    assert_close(n1, ref, 0, 1e-6);
    assert_true(memcmp(&n1, &n2, sizeof n1) == 0);
    assert_int_equal(mu_optim_clip_grad(r.p, r.n, 1.0f, &n1), 0);
    assert_int_equal(mu_optim_clip_grad(r.p, r.n, 0.0f, &n2), 0);
    assert_close(n2, 1.0, 1e-5, 0);
    reg_free(&r);
}

/* ---- state save / load ---- */

static mu_optim_t *make_opt(reg_t *r, const char *preset, int nesterov) {
    mu_optim_config_t c = mu_optim_config_default();
    c.preset = preset;
    c.nesterov = nesterov;
    c.lr = 0.01f;
    mu_optim_t *o = NULL;
    assert_int_equal(mu_optim_init(&o, &c, r->p, r->n, NULL), 0);
    return o;
}

static void copy_weights(reg_t *dst, const reg_t *src) {
    for (int32_t k = 0; k < src->n; k++)
        memcpy(dst->p[k].data, src->p[k].data, sizeof(float) * (size_t)src->p[k].numel);
}

static void resume_case(const char *preset) {
    reg_t a = {0}, b = {0};
    reg_small(&a);
    reg_small(&b);
    mu_optim_t *oa = make_opt(&a, preset, 0), *ob = make_opt(&b, preset, 0);
    // a: 2 steps, save, 3 more; b: load after copying weights, 3 steps
    for (int t = 1; t <= 2; t++) {
        fill_grads(&a, t);
        assert_int_equal(mu_optim_step(oa, 0.7f), 0);
    }
    size_t n = mu_optim_state_bytes(oa);
    assert_true(n > 80);
    unsigned char *buf = malloc(n), *buf2 = malloc(n);
    assert_int_equal(mu_optim_state_save(oa, buf, n), 0);
    assert_int_equal(mu_optim_state_save(oa, buf, n - 1), MU_EINVAL);  // too small
    assert_int_equal(mu_optim_state_save(oa, buf, n), 0);
    copy_weights(&b, &a);
    assert_int_equal(mu_optim_state_load(ob, buf, n), 0);
    assert_int_equal(mu_optim_steps_done(ob), 2);
    assert_int_equal(mu_optim_state_save(ob, buf2, n), 0);
    assert_memory_equal(buf, buf2, n);  // bit-exact round trip
    for (int t = 3; t <= 5; t++) {
        fill_grads(&a, t);
        fill_grads(&b, t);
        assert_int_equal(mu_optim_step(oa, 0.7f), 0);
        assert_int_equal(mu_optim_step(ob, 0.7f), 0);
    }
    for (int32_t k = 0; k < a.n; k++)
        assert_memory_equal(a.p[k].data, b.p[k].data, sizeof(float) * (size_t)a.p[k].numel);
    assert_int_equal(mu_optim_steps_done(oa), 5);
    assert_int_equal(mu_optim_steps_done(ob), 5);
    free(buf);
    free(buf2);
    mu_optim_free(oa);
    mu_optim_free(ob);
    reg_free(&a);
    reg_free(&b);
}

static void test_state_resume_bit_exact(void **st) {
    resume_case("adamw");
    resume_case("sgd");
}

static void test_state_errors(void **st) {
    reg_t r = {0};
    reg_small(&r);
    mu_optim_t *oa = make_opt(&r, "adamw", 0);
    fill_grads(&r, 1);
    assert_int_equal(mu_optim_step(oa, 1.0f), 0);
    size_t n = mu_optim_state_bytes(oa);
    unsigned char *buf = malloc(n);
    assert_int_equal(mu_optim_state_save(oa, buf, n), 0);

    mu_optim_t *os = make_opt(&r, "sgd", 0);  // other preset
    assert_int_equal(mu_optim_state_load(os, buf, n), MU_EMISMATCH);
    assert_non_null(strstr(mu_last_error(), "adamw"));
    assert_non_null(strstr(mu_last_error(), "sgd"));
    assert_int_equal(mu_optim_steps_done(os), 0);
    // sgd saved with nesterov = 0, loaded with nesterov = 1: convention differs
    size_t ns = mu_optim_state_bytes(os);
    unsigned char *bs = malloc(ns);
    assert_int_equal(mu_optim_state_save(os, bs, ns), 0);
    mu_optim_t *on = make_opt(&r, "sgd", 1);
    assert_int_equal(mu_optim_state_load(on, bs, ns), MU_EMISMATCH);
    assert_non_null(strstr(mu_last_error(), "nesterov"));
    free(bs);
    mu_optim_free(on);
    mu_optim_free(os);

    // same preset, different parameter set (decay_gains moves records between groups)
    mu_optim_config_t c = mu_optim_config_default();
    c.lr = 0.01f;
    c.decay_gains = 1;
    mu_optim_t *og = NULL;
    assert_int_equal(mu_optim_init(&og, &c, r.p, r.n, NULL), 0);
    assert_int_equal(mu_optim_state_load(og, buf, n), MU_EMISMATCH);
    mu_optim_free(og);

    mu_optim_t *ob = make_opt(&r, "adamw", 0);
    assert_int_equal(mu_optim_state_load(ob, buf, n - 4), MU_EFORMAT);   // truncated arena
    assert_int_equal(mu_optim_state_load(ob, buf, 40), MU_EFORMAT);      // truncated header
    buf[0] = 'X';
    assert_int_equal(mu_optim_state_load(ob, buf, n), MU_EFORMAT);       // magic
    buf[0] = 'M';
    buf[20] ^= 1;                                                        // step count corrupted
    assert_int_equal(mu_optim_state_load(ob, buf, n), MU_EFORMAT);       // header checksum
    buf[20] ^= 1;
    assert_int_equal(mu_optim_state_load(ob, buf, n), 0);
    assert_int_equal(mu_optim_steps_done(ob), 1);
    mu_optim_free(ob);
    free(buf);
    mu_optim_free(oa);
    reg_free(&r);
}

/* ---- configuration errors ---- */

static void test_config_errors(void **st) {
    reg_t r = {0};
    reg_small(&r);
    mu_optim_t *o = (mu_optim_t *)0x1;
    mu_optim_config_t c = mu_optim_config_default();
    c.preset = "adamq";
    assert_int_equal(mu_optim_init(&o, &c, r.p, r.n, NULL), MU_EINVAL);
    assert_null(o);
    assert_non_null(strstr(mu_last_error(), "adamq"));
    assert_non_null(strstr(mu_last_error(), "adamw"));
    assert_non_null(strstr(mu_last_error(), "sgd"));
    c = mu_optim_config_default();
    c.beta1 = 1.0f;
    assert_int_equal(mu_optim_init(&o, &c, r.p, r.n, NULL), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "optim.beta1"));
    c = mu_optim_config_default();
    c.lr = NAN;
    assert_int_equal(mu_optim_init(&o, &c, r.p, r.n, NULL), MU_EINVAL);
    // a record with an invalid role is in no group
    c = mu_optim_config_default();
    r.p[2].role = (mu_role_t)7;
    assert_int_equal(mu_optim_init(&o, &c, r.p, r.n, NULL), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "h.0.ln_1.weight"));
    assert_non_null(strstr(mu_last_error(), "no group"));
    r.p[2].role = MU_ROLE_GAIN;
    // lr_factor must be finite and >= 0
    assert_int_equal(mu_optim_init(&o, &c, r.p, r.n, NULL), 0);
    assert_int_equal(mu_optim_step(o, NAN), MU_EINVAL);
    assert_int_equal(mu_optim_steps_done(o), 0);
    mu_optim_free(o);
    char names[2048];
    mu_optim_presets(names, sizeof names);
    /* the core family comes first; other families follow in families.c order */
    assert_int_equal(strncmp(names, "adamw, sgd, muon, muon-moonlight, muon-pe, muon-exact, muonpp", 61), 0);
    mu_optim_config_t pc;
    assert_int_equal(mu_optim_config_for_preset("sgd", &pc), 0);
    assert_string_equal(pc.preset, "sgd");
    assert_close(pc.momentum, 0.9, 1e-7, 0);
    assert_int_equal(mu_optim_config_for_preset("nope", &pc), MU_EINVAL);
    reg_free(&r);
}

static void test_set_hparam(void **st) {
    reg_t r = {0};
    mu_optim_config_t c = mu_optim_config_default();
    mu_optim_t *o = open_small(&r, &c);
    char buf[1024];
    assert_int_equal(mu_optim_set_hparam(o, "decay.adam.b1", 0.8f), 0);
    assert_int_equal(mu_optim_set_hparam(o, "no_decay.lr", 0.002f), 0);
    assert_int_equal(mu_optim_set_hparam(o, "*.adam.eps", 1e-10f), 0);
    mu_optim_describe(o, buf, sizeof buf);
    assert_non_null(strstr(buf, "decay[2]: adam(b1=0.8,b2=0.95,eps=1e-10) -> decay(wd=0.1,mode=lr) -> apply(lr=0.001)"));
    assert_non_null(strstr(buf, "no_decay[2]: adam(b1=0.9,b2=0.95,eps=1e-10) -> apply(lr=0.002)"));
    assert_int_equal(mu_optim_set_hparam(o, "decay.decay.mode", 1.0f), MU_EINVAL);  // structural
    assert_int_equal(mu_optim_set_hparam(o, "decay.adam.b1", 1.5f), MU_EINVAL);     // range
    assert_non_null(strstr(mu_last_error(), "b1"));
    assert_int_equal(mu_optim_set_hparam(o, "bogus.adam.b1", 0.5f), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "no_decay"));
    assert_int_equal(mu_optim_set_hparam(o, "decay.adam.zeta", 0.5f), MU_EINVAL);
    assert_int_equal(mu_optim_set_hparam(o, "decay", 0.5f), MU_EINVAL);
    mu_optim_free(o);
    reg_free(&r);
}

/* ---- batched orthogonalization (orth key batch, step.c windows) ---- */

/* Two layers' hidden matrices: 2 fused qkv (3 views of 8×8 each), 2 MLP up (32×8), 2 MLP
 * down (8×32), beside an embedding and a gain. */
static void reg_two_layers(reg_t *r) {
    reg_add(r, "wte", MU_ROLE_EMBED, 2, 12, 8);
    for (int l = 0; l < 2; l++) {
        char nm[64];
        snprintf(nm, sizeof nm, "h.%d.attn.c_attn.weight", l);
        mu_param_t *q = reg_add(r, nm, MU_ROLE_HIDDEN, 2, 24, 8);
        q->n_split = 3, q->n_head = 2, q->layer = l;
        snprintf(nm, sizeof nm, "h.%d.mlp.c_fc.weight", l);
        reg_add(r, nm, MU_ROLE_HIDDEN, 2, 32, 8)->layer = l;
        snprintf(nm, sizeof nm, "h.%d.mlp.c_proj.weight", l);
        reg_add(r, nm, MU_ROLE_HIDDEN, 2, 8, 32)->layer = l;
    }
    reg_add(r, "ln_f.weight", MU_ROLE_GAIN, 1, 8, 1);
    for (int32_t i = 0; i < r->n; i++) fill_lcg(r->p[i].data, r->p[i].numel, 70 + (uint64_t)i, 3, 0.2f);
}

/* Largest batch count in the context's plan ("m,n,k,ta,tb,batch,prec=engine;..."). */
static long long plan_max_batch(const mu_gemm_ctx_t *g) {
    char plan[8192];
    assert_int_equal(mu_gemm_plan_string(g, plan, sizeof plan), MU_OK);
    long long most = 0, m, n, k, ta, tb, b;
    for (const char *e = plan; *e; e = strchr(e, ';') ? strchr(e, ';') + 1 : e + strlen(e))
        if (sscanf(e, "%lld,%lld,%lld,%lld,%lld,%lld", &m, &n, &k, &ta, &tb, &b) == 6 && b > most) most = b;
    return most;
}

/* muon, muonpp, namo (orth link) and scion, scion-unconstrained, gluon (spectral lmo link)
 * with the same-shape views orthogonalized as batches give the weights of the one-by-one path
 * (to round-off: batched products may sum in another order), also when the window holds a
 * single member at a time; the batched run really batched (its plan has products of batch 6 =
 * the six 8×8 attention views), the other did not. gluon with l0 > 0 reads the rule's copies
 * of D; with est=use (state per step) the lmo link never batches. */
static void test_orth_batch_step(void **st) {
    (void)st;
    static const struct {
        const char *preset, *off, *extra; /* extra: an hparam of every variant, or NULL */
        long long most;                   /* the batched run's largest product batch */
    } cases[] = {
        {"muon", "matrix.orth.batch=0", NULL, 6},
        {"muonpp", "matrix.orth.batch=0", NULL, 6},
        {"namo", "matrix.orth.batch=0", NULL, 6}, /* a capture before orth, its consumer after */
        {"scion", "hidden.lmo.batch=0", NULL, 6},
        {"scion-unconstrained", "hidden.lmo.batch=0", NULL, 6},
        {"gluon", "hidden.lmo.batch=0", "*.lmo.l0=0.5", 6}, /* t = D/(l0 + l1·D) needs D's copy */
        {"gluon", "hidden.lmo.batch=0", "*.lmo.est=use", 1},
    };
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        reg_t r[3] = {0};
        mu_optim_t *o[3];
        mu_gemm_ctx_t *g[3];
        for (int v = 0; v < 3; v++) {
            reg_two_layers(&r[v]);
            mu_optim_config_t c = cfg_of(cases[ci].preset);
            const char *hp[2];
            int nh = 0;
            if (cases[ci].extra) hp[nh++] = cases[ci].extra;
            if (v == 1) hp[nh++] = cases[ci].off;
            c.hparams = hp, c.n_hparams = nh;
            assert_int_equal(mu_gemm_ctx_init(&g[v], MU_ENGINE_ONEDNN), MU_OK);
            assert_int_equal(mu_optim_init(&o[v], &c, r[v].p, r[v].n, g[v]), MU_OK);
        }
        o[2]->ubatch_floats = 24 * 8; /* windows of one member: batches of that member's views only */
        for (int t = 1; t <= 4; t++)
            for (int v = 0; v < 3; v++) {
                reg_grads(&r[v], t, 9);
                assert_int_equal(mu_optim_step(o[v], 1.0f), MU_OK);
            }
        assert_int_equal(plan_max_batch(g[0]), cases[ci].most);
        assert_int_equal(plan_max_batch(g[1]), 1);                               /* one by one */
        assert_int_equal(plan_max_batch(g[2]), cases[ci].most > 1 ? 3 : 1); /* one qkv at a time */
        for (int v = 0; v < 3; v += 2)
            for (int32_t i = 0; i < r[1].n; i++)
                for (int64_t j = 0; j < r[1].p[i].numel; j++) {
                    double a = r[v].p[i].data[j], b = r[1].p[i].data[j];
                    if (fabs(a - b) > 1e-6 + 1e-5 * fabs(b)) {
                        print_error("%s variant %d: '%s'[%lld] %.9g vs one by one %.9g\n", cases[ci].preset, v,
                                    r[1].p[i].name, (long long)j, a, b);
                        fail();
                    }
                }
        /* and the weights moved: the test compares steps, not untouched copies */
        reg_t fresh = {0};
        reg_two_layers(&fresh);
        assert_true(fabs(fresh.p[1].data[0] - r[0].p[1].data[0]) > 1e-4);
        reg_free(&fresh);
        for (int v = 0; v < 3; v++) {
            mu_optim_free(o[v]);
            mu_gemm_ctx_free(g[v]);
            reg_free(&r[v]);
        }
    }
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_adamw_one_step_hand),
    cmocka_unit_test(test_adamw_three_steps),
    cmocka_unit_test(test_adamw_vector_path),
    cmocka_unit_test(test_adam_hand_written),
    cmocka_unit_test(test_describe_groups),
    cmocka_unit_test(test_sgd_momentum),
    cmocka_unit_test(test_ema_vs_sum),
    cmocka_unit_test(test_clip),
    cmocka_unit_test(test_clip_large_deterministic),
    cmocka_unit_test(test_state_resume_bit_exact),
    cmocka_unit_test(test_state_errors),
    cmocka_unit_test(test_config_errors),
    cmocka_unit_test(test_set_hparam),
    cmocka_unit_test(test_orth_batch_step),
};

MU_TEST_MAIN(tests)

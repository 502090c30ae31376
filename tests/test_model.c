/* test_model.c — the GPT model: each kernel's backward against finite differences or exact
 * references, whole-model gradient checks, the registry, config checks, init loss, overfitting,
 * gradient accumulation, determinism and dropout. Everything is tiny and runs in seconds. */
#include "testutil.h"

#include "model/ops.h"
#include "muon/model.h"

/* ---- helpers ------------------------------------------------------------------------ */

static void fill_normal(float *x, int64_t n, float std, uint64_t seed) {
    mu_rng_t r;
    mu_rng_seed(&r, seed);
    for (int64_t i = 0; i < n; i++) x[i] = std * mu_rng_normal(&r);
}

static void fill_tokens(int32_t *x, int64_t n, int32_t V, uint64_t seed) {
    mu_rng_t r;
    mu_rng_seed(&r, seed);
    for (int64_t i = 0; i < n; i++) x[i] = (int32_t)mu_rng_below(&r, (uint64_t)V);
}

static double dot_d(const float *a, const float *b, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

static mu_gemm_ctx_t *gemm_ctx(void) {
    mu_gemm_ctx_t *g = NULL;
    assert_int_equal(mu_gemm_ctx_init(&g, MU_ENGINE_OPENBLAS), 0);
    return g;
}

static mu_gpt_config_t tiny_cfg(int bias, int tie) {
    mu_gpt_config_t c = mu_gpt_config_default();
    c.n_layer = 2;
    c.n_head = 2;
    c.d_model = 8;
    c.seq_len = 5;
    c.vocab = 11;
    c.bias = bias;
    c.tie = tie;
    c.dropout = 0.0f;
    return c;
}

/* ---- kernels -------------------------------------------------------------------------- */

/* L = sum(out * R) for layernorm; checks dx, dw, db by central differences */
static double ln_loss(const float *x, const float *w, const float *b, const float *R, int64_t N, int64_t C) {
    float out[64], mean[8], rstd[8];
    mu_op_layernorm_fwd(out, mean, rstd, x, w, b, N, C);
    return dot_d(out, R, N * C);
}

static void test_layernorm_grad(void **state) {
    enum { N = 3, C = 7 };
    float x[N * C], w[C], b[C], R[N * C], dx[N * C] = {0}, dw[C] = {0}, db[C] = {0};
    float out[N * C], mean[N], rstd[N];
    fill_normal(x, N * C, 1.0f, 1);
    fill_normal(w, C, 0.5f, 2);
    fill_normal(b, C, 0.5f, 3);
    fill_normal(R, N * C, 1.0f, 4);
    for (int j = 0; j < C; j++) w[j] += 1.0f;
    mu_op_layernorm_fwd(out, mean, rstd, x, w, b, N, C);
    /* forward: each row of (out - b)/w has mean 0 and variance 1 - eps-ish */
    for (int r = 0; r < N; r++) {
        double s = 0, s2 = 0;
        for (int j = 0; j < C; j++) {
            double z = (out[r * C + j] - b[j]) / w[j];
            s += z;
            s2 += z * z;
        }
        assert_close(s / C, 0.0, 1e-5, 0);
        assert_close(s2 / C, 1.0, 1e-3, 0);
    }
    mu_op_layernorm_bwd(dx, dw, db, R, x, w, mean, rstd, N, C);
    const float eps = 1e-2f;
    float *ps[3] = {x, w, b}, *gs[3] = {dx, dw, db};
    int ns[3] = {N * C, C, C};
    for (int t = 0; t < 3; t++)
        for (int i = 0; i < ns[t]; i++) {
            float keep = ps[t][i];
            ps[t][i] = keep + eps;
            double lp = ln_loss(x, w, b, R, N, C);
            ps[t][i] = keep - eps;
            double lm = ln_loss(x, w, b, R, N, C);
            ps[t][i] = keep;
            assert_close(gs[t][i], (lp - lm) / (2 * eps), 2e-3, 2e-2);
        }
}

static double gelu_ref(double x) { return 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x))); }

static void test_gelu_grad(void **state) {
    enum { N = 201 };
    float h[N], g[N], dg[N], dh[N];
    for (int i = 0; i < N; i++) {
        h[i] = -10.0f + 0.1f * (float)i;
        dg[i] = 1.0f;
    }
    float hcopy[N];
    memcpy(hcopy, h, sizeof h);
    mu_op_gelu_fwd(g, h, NULL, 1, N);
    assert_memory_equal(h, hcopy, sizeof h); /* no bias: h unchanged */
    mu_op_gelu_bwd(dh, dg, h, N);
    for (int i = 0; i < N; i++) {
        double x = h[i];
        assert_close(g[i], gelu_ref(x), 1e-6, 1e-5);
        double fd = (gelu_ref(x + 1e-4) - gelu_ref(x - 1e-4)) / 2e-4;
        assert_close(dh[i], fd, 1e-5, 1e-4);
    }
    /* bias is added into h */
    float b[3] = {1, 2, 3}, h2[6] = {0, 0, 0, 1, 1, 1}, g2[6];
    mu_op_gelu_fwd(g2, h2, b, 2, 3);
    assert_close(h2[5], 4.0, 0, 0);
    assert_close(g2[4], gelu_ref(3.0), 1e-6, 1e-5);
}

/* naive causal attention in double, for the forward check */
static void attention_ref(double *out, const float *qkv, int B, int T, int C, int H) {
    int hs = C / H;
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int t = 0; t < T; t++) {
                double s[64], mx = -1e300, sum = 0;
                const float *q = qkv + (b * T + t) * 3 * C + h * hs;
                for (int j = 0; j <= t; j++) {
                    const float *k = qkv + (b * T + j) * 3 * C + C + h * hs;
                    double d = 0;
                    for (int e = 0; e < hs; e++) d += (double)q[e] * k[e];
                    s[j] = d / sqrt(hs);
                    mx = s[j] > mx ? s[j] : mx;
                }
                for (int j = 0; j <= t; j++) sum += s[j] = exp(s[j] - mx);
                for (int e = 0; e < hs; e++) {
                    double y = 0;
                    for (int j = 0; j <= t; j++) y += s[j] / sum * qkv[(b * T + j) * 3 * C + 2 * C + h * hs + e];
                    out[(b * T + t) * C + h * hs + e] = y;
                }
            }
}

static double attn_loss(mu_gemm_ctx_t *g, const float *qkv, const float *R, int B, int T, int C, int H, int tb) {
    float out[2 * 5 * 8], att[2 * 2 * 5 * 5];
    assert_int_equal(mu_op_attention_fwd(g, out, att, qkv, B, T, C, H, tb), 0);
    return dot_d(out, R, B * T * C);
}

/* tb: causal row-block size (0 = default, one block at this T; 2 and 3 cut T = 5 unevenly) */
static void check_attention(int tb) {
    enum { B = 2, T = 5, C = 8, H = 2 };
    mu_gemm_ctx_t *g = gemm_ctx();
    float qkv[B * T * 3 * C], R[B * T * C], out[B * T * C], att[B * H * T * T], dqkv[B * T * 3 * C],
        datt[B * H * T * T];
    double ref[B * T * C];
    fill_normal(qkv, B * T * 3 * C, 1.0f, 5);
    fill_normal(R, B * T * C, 1.0f, 6);
    memset(att, 0x7f, sizeof att); /* garbage where the blocked products never write */
    memset(datt, 0x7f, sizeof datt);
    assert_int_equal(mu_op_attention_fwd(g, out, att, qkv, B, T, C, H, tb), 0);
    attention_ref(ref, qkv, B, T, C, H);
    for (int i = 0; i < B * T * C; i++) assert_close(out[i], ref[i], 1e-5, 1e-4);
    /* probabilities: causal zeros, rows sum to one */
    for (int row = 0; row < B * H * T; row++) {
        int t = row % T;
        double s = 0;
        for (int j = 0; j < T; j++) {
            if (j > t) assert_true(att[row * T + j] == 0.0f);
            s += att[row * T + j];
        }
        assert_close(s, 1.0, 1e-5, 0);
    }
    assert_int_equal(mu_op_attention_bwd(g, dqkv, datt, R, qkv, att, B, T, C, H, tb), 0);
    const float eps = 1e-2f;
    for (int i = 0; i < B * T * 3 * C; i++) {
        float keep = qkv[i];
        qkv[i] = keep + eps;
        double lp = attn_loss(g, qkv, R, B, T, C, H, tb);
        qkv[i] = keep - eps;
        double lm = attn_loss(g, qkv, R, B, T, C, H, tb);
        qkv[i] = keep;
        assert_close(dqkv[i], (lp - lm) / (2 * eps), 2e-3, 2e-2);
    }
    mu_gemm_ctx_free(g);
}

static void test_attention_grad(void **state) {
    check_attention(0);
    check_attention(2);
    check_attention(3);
}

/* The blocked (causal-skipping) products give the same numbers as one block at T = 256. */
static void test_attention_blocked(void **state) {
    enum { B = 1, T = 200, C = 16, H = 2 };
    mu_gemm_ctx_t *g = gemm_ctx();
    size_t nq = B * T * 3 * C, no = B * T * C, na = B * H * T * T;
    float *qkv = malloc(nq * 4), *R = malloc(no * 4), *o1 = malloc(no * 4), *o2 = malloc(no * 4);
    float *a1 = malloc(na * 4), *a2 = malloc(na * 4), *d1 = malloc(nq * 4), *d2 = malloc(nq * 4), *dt = malloc(na * 4);
    fill_normal(qkv, nq, 1.0f, 31);
    fill_normal(R, no, 1.0f, 32);
    assert_int_equal(mu_op_attention_fwd(g, o1, a1, qkv, B, T, C, H, T), 0);
    assert_int_equal(mu_op_attention_bwd(g, d1, dt, R, qkv, a1, B, T, C, H, T), 0);
    assert_int_equal(mu_op_attention_fwd(g, o2, a2, qkv, B, T, C, H, 0), 0); /* default: 64-row blocks */
    assert_int_equal(mu_op_attention_bwd(g, d2, dt, R, qkv, a2, B, T, C, H, 0), 0);
    for (size_t i = 0; i < no; i++) assert_close(o2[i], o1[i], 1e-5, 1e-4);
    for (size_t i = 0; i < na; i++) assert_close(a2[i], a1[i], 1e-6, 1e-4);
    for (size_t i = 0; i < nq; i++) assert_close(d2[i], d1[i], 1e-5, 1e-4);
    free(qkv), free(R), free(o1), free(o2), free(a1), free(a2), free(d1), free(d2), free(dt);
    mu_gemm_ctx_free(g);
}

static void test_xent_grad(void **state) {
    enum { N = 4, V = 11 };
    float logits[N * V], lse[N], losses[N], d[N * V];
    int32_t y[N] = {0, 3, 10, 3};
    fill_normal(logits, N * V, 2.0f, 7);
    double loss = mu_op_xent_fwd(lse, losses, logits, y, N, V);
    /* reference in double */
    double ref = 0;
    for (int r = 0; r < N; r++) {
        double s = 0;
        for (int j = 0; j < V; j++) s += exp(logits[r * V + j]);
        ref += log(s) - logits[r * V + y[r]];
    }
    assert_close(loss, ref / N, 1e-6, 1e-6);
    mu_op_xent_bwd(d, logits, lse, y, N, V, 1.0f / N);
    const float eps = 1e-2f;
    for (int i = 0; i < N * V; i++) {
        float keep = logits[i];
        logits[i] = keep + eps;
        double lp = mu_op_xent_fwd(lse, losses, logits, y, N, V);
        logits[i] = keep - eps;
        double lm = mu_op_xent_fwd(lse, losses, logits, y, N, V);
        logits[i] = keep;
        assert_close(d[i], (lp - lm) / (2 * eps), 1e-4, 1e-2);
    }
    /* in place (dlogits aliasing logits) gives the same numbers */
    mu_op_xent_fwd(lse, losses, logits, y, N, V);
    mu_op_xent_bwd(logits, logits, lse, y, N, V, 1.0f / N);
    assert_memory_equal(logits, d, sizeof d);
}

static void test_encoder_grad(void **state) {
    enum { B = 2, T = 3, C = 4, V = 5 };
    int32_t x[B * T] = {1, 4, 1, 1, 0, 4}; /* repeated tokens */
    float wte[V * C], wpe[T * C], out[B * T * C], R[B * T * C], dwte[V * C] = {0}, dwpe[T * C] = {0};
    fill_normal(wte, V * C, 1.0f, 8);
    fill_normal(wpe, T * C, 1.0f, 9);
    fill_normal(R, B * T * C, 1.0f, 10);
    mu_op_encoder_fwd(out, x, wte, wpe, B, T, C, NULL);
    for (int r = 0; r < B * T; r++)
        for (int j = 0; j < C; j++) assert_true(out[r * C + j] == wte[x[r] * C + j] + wpe[(r % T) * C + j]);
    mu_op_encoder_bwd(dwte, dwpe, R, x, B, T, C);
    /* the op is linear: gradients are exact sums of R */
    for (int v = 0; v < V; v++)
        for (int j = 0; j < C; j++) {
            double s = 0;
            for (int r = 0; r < B * T; r++)
                if (x[r] == v) s += R[r * C + j];
            assert_close(dwte[v * C + j], s, 1e-6, 1e-6);
        }
    for (int t = 0; t < T; t++)
        for (int j = 0; j < C; j++) assert_close(dwpe[t * C + j], R[t * C + j] + R[(T + t) * C + j], 1e-6, 1e-6);
}

static void test_linear_grad(void **state) {
    enum { N = 3, C = 4, OC = 5 };
    mu_gemm_ctx_t *g = gemm_ctx();
    float inp[N * C], w[OC * C], out[N * OC], R[N * OC], dinp[N * C], dw[OC * C], db[OC];
    fill_normal(inp, N * C, 1.0f, 11);
    fill_normal(w, OC * C, 1.0f, 12);
    fill_normal(R, N * OC, 1.0f, 13);
    for (int i = 0; i < OC * C; i++) dw[i] = 0.5f; /* accumulation onto existing values */
    for (int i = 0; i < OC; i++) db[i] = 0.25f;
    assert_int_equal(mu_op_linear_fwd(g, out, inp, w, N, C, OC), 0);
    assert_int_equal(mu_op_linear_bwd(g, dinp, dw, db, R, inp, w, N, C, OC, 0.0f), 0);
    for (int r = 0; r < N; r++)
        for (int o = 0; o < OC; o++) {
            double s = 0;
            for (int j = 0; j < C; j++) s += (double)inp[r * C + j] * w[o * C + j];
            assert_close(out[r * OC + o], s, 1e-5, 1e-5);
        }
    for (int r = 0; r < N; r++)
        for (int j = 0; j < C; j++) {
            double s = 0;
            for (int o = 0; o < OC; o++) s += (double)R[r * OC + o] * w[o * C + j];
            assert_close(dinp[r * C + j], s, 1e-5, 1e-5);
        }
    for (int o = 0; o < OC; o++) {
        double sb = 0.25;
        for (int r = 0; r < N; r++) sb += R[r * OC + o];
        assert_close(db[o], sb, 1e-5, 1e-5);
        for (int j = 0; j < C; j++) {
            double s = 0.5;
            for (int r = 0; r < N; r++) s += (double)R[r * OC + o] * inp[r * C + j];
            assert_close(dw[o * C + j], s, 1e-5, 1e-5);
        }
    }
    mu_gemm_ctx_free(g);
}

static void test_dropout_kernel(void **state) {
    enum { N = 64, C = 50 };
    static float x[N * C], y[N * C], y2[N * C], z[N * C], zero[N * C];
    for (int i = 0; i < N * C; i++) x[i] = 1.0f + (float)(i % 7);
    mu_dropout_t d = {.p = 0.25f, .seed = 42, .step = 3, .micro = 1, .site = 2};
    mu_op_dropout_copy(y, x, N, C, &d);
    mu_op_dropout_copy(y2, x, N, C, &d);
    assert_memory_equal(y, y2, sizeof y); /* regenerated mask is identical */
    int dropped = 0;
    for (int i = 0; i < N * C; i++) {
        if (y[i] == 0.0f)
            dropped++;
        else
            assert_close(y[i], x[i] / 0.75f, 1e-6, 1e-6);
    }
    double rate = (double)dropped / (N * C);
    assert_true(rate > 0.2 && rate < 0.3);
    /* residual with dropout uses the same mask: res + drop(x) */
    mu_op_residual_fwd(z, zero, x, NULL, N, C, &d);
    assert_memory_equal(z, y, sizeof y);
    /* another step gives another mask */
    d.step = 4;
    mu_op_dropout_copy(y2, x, N, C, &d);
    assert_true(memcmp(y, y2, sizeof y) != 0);
    /* p = 0 is the identity */
    d.p = 0.0f;
    mu_op_dropout_copy(y2, x, N, C, &d);
    assert_memory_equal(y2, x, sizeof x);
}

static void test_expf_accuracy(void **state) {
    for (float x = -80.0f; x < 80.0f; x += 0.37f) {
        double e = exp((double)x);
        assert_close(mu_op_expf(x), e, 0, 3e-7);
    }
    assert_true(mu_op_expf(-1000.0f) < 1e-37f);
    assert_true(isfinite(mu_op_expf(1000.0f)));
}

/* ---- registry and config ------------------------------------------------------------------ */

static void test_role_names(void **state) {
    const char *names[] = {"embed", "hidden", "head", "gain", "bias"};
    for (int i = 0; i < 5; i++) {
        mu_role_t r;
        assert_string_equal(mu_role_name((mu_role_t)i), names[i]);
        assert_int_equal(mu_role_parse(names[i], &r), 0);
        assert_int_equal(r, i);
    }
    mu_role_t r;
    assert_int_equal(mu_role_parse("HIDDEN", &r), 0);
    assert_int_equal(r, MU_ROLE_HIDDEN);
    assert_int_equal(mu_role_parse("matrix", &r), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "matrix"));
}

typedef struct {
    const char *name;
    int64_t rows, cols;
    int ndim;
    mu_role_t role;
    int64_t fan_in, fan_out;
    int layer, n_split, n_head;
} expect_t;

static void check_registry(int bias, int tie) {
    mu_gpt_config_t c = tiny_cfg(bias, tie);
    mu_gemm_ctx_t *g = gemm_ctx();
    mu_gpt_t *m = NULL;
    assert_int_equal(mu_gpt_init(&m, &c, 2, g), 0);
    expect_t e[64];
    int n = 0;
    const int64_t C = 8, V = 11, T = 5;
    e[n++] = (expect_t){"transformer.wte.weight", V, C, 2, MU_ROLE_EMBED, V, C, -1, 1, 0};
    e[n++] = (expect_t){"transformer.wpe.weight", T, C, 2, MU_ROLE_EMBED, T, C, -1, 1, 0};
    static char names[2][12][64];
    for (int i = 0; i < 2; i++) {
        int k = 0;
#define E(suffix, r, cl, nd, role, fi, fo, sp, hd)                                               \
    do {                                                                                       \
        snprintf(names[i][k], 64, "transformer.h.%d.%s", i, suffix);                            \
        e[n++] = (expect_t){names[i][k++], r, cl, nd, role, fi, fo, i, sp, hd};                  \
    } while (0)
        E("ln_1.weight", C, 1, 1, MU_ROLE_GAIN, C, C, 1, 0);
        if (bias) E("ln_1.bias", C, 1, 1, MU_ROLE_BIAS, C, C, 1, 0);
        E("attn.c_attn.weight", 3 * C, C, 2, MU_ROLE_HIDDEN, C, 3 * C, 3, 2);
        if (bias) E("attn.c_attn.bias", 3 * C, 1, 1, MU_ROLE_BIAS, C, 3 * C, 3, 2);
        E("attn.c_proj.weight", C, C, 2, MU_ROLE_HIDDEN, C, C, 1, 2);
        if (bias) E("attn.c_proj.bias", C, 1, 1, MU_ROLE_BIAS, C, C, 1, 0);
        E("ln_2.weight", C, 1, 1, MU_ROLE_GAIN, C, C, 1, 0);
        if (bias) E("ln_2.bias", C, 1, 1, MU_ROLE_BIAS, C, C, 1, 0);
        E("mlp.c_fc.weight", 4 * C, C, 2, MU_ROLE_HIDDEN, C, 4 * C, 1, 0);
        if (bias) E("mlp.c_fc.bias", 4 * C, 1, 1, MU_ROLE_BIAS, C, 4 * C, 1, 0);
        E("mlp.c_proj.weight", C, 4 * C, 2, MU_ROLE_HIDDEN, 4 * C, C, 1, 0);
        if (bias) E("mlp.c_proj.bias", C, 1, 1, MU_ROLE_BIAS, 4 * C, C, 1, 0);
#undef E
    }
    e[n++] = (expect_t){"transformer.ln_f.weight", C, 1, 1, MU_ROLE_GAIN, C, C, -1, 1, 0};
    if (bias) e[n++] = (expect_t){"transformer.ln_f.bias", C, 1, 1, MU_ROLE_BIAS, C, C, -1, 1, 0};
    if (!tie) e[n++] = (expect_t){"lm_head.weight", V, C, 2, MU_ROLE_HEAD, C, V, -1, 1, 0};

    assert_int_equal(mu_gpt_n_params(m), n);
    mu_param_t *p = mu_gpt_params(m);
    int64_t total = 0;
    float *expect_data = p[0].data;
    for (int i = 0; i < n; i++) {
        assert_string_equal(p[i].name, e[i].name);
        assert_int_equal(p[i].ndim, e[i].ndim);
        assert_int_equal(p[i].shape[0], e[i].rows);
        assert_int_equal(p[i].shape[1], e[i].cols);
        assert_int_equal(p[i].numel, e[i].rows * e[i].cols);
        assert_int_equal(p[i].role, e[i].role);
        assert_int_equal(p[i].fan_in, e[i].fan_in);
        assert_int_equal(p[i].fan_out, e[i].fan_out);
        assert_int_equal(p[i].layer, e[i].layer);
        assert_int_equal(p[i].n_split, e[i].n_split);
        assert_int_equal(p[i].n_head, e[i].n_head);
        assert_int_equal(p[i].tied, (i == 0 && tie) ? 1 : 0);
        assert_ptr_equal(p[i].data, expect_data); /* one contiguous arena, registry order */
        assert_ptr_equal(p[i].grad - p[0].grad, p[i].data - p[0].data);
        expect_data += p[i].numel;
        total += p[i].numel;
        assert_ptr_equal(mu_gpt_param_by_name(m, e[i].name), &p[i]);
    }
    assert_null(mu_gpt_param_by_name(m, "nope"));
    assert_int_equal(total, mu_gpt_numel(m));
    assert_int_equal(total, mu_gpt_config_n_params(&c, 0));
    assert_int_equal(total - T * C, mu_gpt_config_n_params(&c, 1));
    assert_true(mu_gpt_activation_bytes(m) > 0);
    mu_gpt_free(m);
    mu_gemm_ctx_free(g);
}

static void test_registry(void **state) {
    check_registry(1, 0);
    check_registry(0, 0);
    check_registry(1, 1);
    check_registry(0, 1);
}

static void expect_bad(mu_gpt_config_t c, const char *field) {
    assert_int_equal(mu_gpt_config_check(&c), MU_EINVAL);
    if (!strstr(mu_last_error(), field)) fail_msg("message '%s' does not name '%s'", mu_last_error(), field);
}

static void test_config_check(void **state) {
    mu_gpt_config_t c = mu_gpt_config_default();
    assert_int_equal(mu_gpt_config_check(&c), 0);
    mu_gpt_config_t b;
    b = c, b.n_head = 3, expect_bad(b, "not divisible by n_head");
    b = c, b.n_layer = 0, expect_bad(b, "n_layer");
    b = c, b.n_head = 0, expect_bad(b, "n_head");
    b = c, b.d_model = 0, expect_bad(b, "d_model");
    b = c, b.seq_len = 0, expect_bad(b, "seq_len");
    b = c, b.vocab = 1, expect_bad(b, "vocab");
    b = c, b.dropout = 1.0f, expect_bad(b, "dropout");
    b = c, b.dropout = -0.1f, expect_bad(b, "dropout");
    b = c, b.bias = 2, expect_bad(b, "bias");
    b = c, b.d_model = 65536, b.n_layer = 1024, expect_bad(b, "model too large");
    b = c, b.vocab = 2147483647, b.d_model = 4096, expect_bad(b, "model too large");
    /* init refuses a bad config and a bad max_batch */
    mu_gemm_ctx_t *g = gemm_ctx();
    mu_gpt_t *m = (mu_gpt_t *)1;
    b = c, b.n_head = 3;
    assert_int_equal(mu_gpt_init(&m, &b, 1, g), MU_EINVAL);
    assert_null(m);
    assert_int_equal(mu_gpt_init(&m, &c, 0, g), MU_EINVAL);
    mu_gemm_ctx_free(g);
}

static void test_counts(void **state) {
    /* the timing config: d=256, L=6, H=8, T=256, V=256, biases, untied */
    mu_gpt_config_t c = mu_gpt_config_default();
    c.n_layer = 6, c.n_head = 8, c.d_model = 256, c.seq_len = 256, c.vocab = 256, c.bias = 1, c.tie = 0;
    int64_t C = 256, per_layer = 12 * C * C + 13 * C;
    int64_t n = 256 * C + 256 * C + 6 * per_layer + 2 * C + 256 * C;
    assert_int_equal(mu_gpt_config_n_params(&c, 0), n);
    assert_int_equal(mu_gpt_config_n_params(&c, 1), n - 256 * C);
    assert_close(mu_gpt_config_flops_per_token(&c, 256), 6.0 * (n - 256 * C) + 12.0 * 6 * 256 * 256, 0, 1e-12);
    c.tie = 1, c.bias = 0;
    assert_int_equal(mu_gpt_config_n_params(&c, 1), 256 * C + 6 * (12 * C * C + 2 * C) + C);
}

/* ---- whole model ------------------------------------------------------------------------- */

typedef struct {
    mu_gemm_ctx_t *g;
    mu_gpt_t *m;
} model_t;

static model_t make_model(mu_gpt_config_t c, int32_t max_batch, uint64_t seed) {
    model_t r = {gemm_ctx(), NULL};
    assert_int_equal(mu_gpt_init(&r.m, &c, max_batch, r.g), 0);
    assert_int_equal(mu_gpt_init_weights(r.m, seed), 0);
    return r;
}

static void free_model(model_t *r) {
    mu_gpt_free(r->m);
    mu_gemm_ctx_free(r->g);
}

static float fwd_loss(mu_gpt_t *m, const int32_t *x, const int32_t *y, int B, int T) {
    float loss = 0;
    int rc = mu_gpt_forward(m, x, y, B, T, &loss);
    if (rc) fail_msg("forward: %s", mu_last_error());
    return loss;
}

/* Random weights large enough that every path is non-linear: matrices N(0, 0.3^2),
 * gains 1 + N(0, 0.2^2), biases N(0, 0.1^2). */
static void randomize(mu_gpt_t *m, uint64_t seed) {
    mu_param_t *p = mu_gpt_params(m);
    for (int i = 0; i < mu_gpt_n_params(m); i++) {
        float sd = p[i].role == MU_ROLE_GAIN ? 0.2f : p[i].role == MU_ROLE_BIAS ? 0.1f : 0.3f;
        fill_normal(p[i].data, p[i].numel, sd, seed + (uint64_t)i);
        if (p[i].role == MU_ROLE_GAIN)
            for (int64_t j = 0; j < p[i].numel; j++) p[i].data[j] += 1.0f;
    }
}

/* Central differences for a sample of every tensor plus a directional derivative per tensor. */
static void grad_check(mu_gpt_config_t c, int train) {
    enum { B = 2, T = 5 };
    model_t r = make_model(c, B, 1);
    mu_gpt_t *m = r.m;
    randomize(m, 100);
    mu_gpt_set_train(m, train, 7, 3, 0);
    int32_t x[B * T], y[B * T];
    fill_tokens(x, B * T, c.vocab, 21);
    fill_tokens(y, B * T, c.vocab, 22);
    mu_gpt_zero_grad(m);
    fwd_loss(m, x, y, B, T);
    assert_int_equal(mu_gpt_backward(m, 1.0f), 0);
    mu_param_t *p = mu_gpt_params(m);
    const float eps = 3e-3f;
    int checked = 0;
    for (int i = 0; i < mu_gpt_n_params(m); i++) {
        int64_t n = p[i].numel, step = n / 7 + 1;
        for (int64_t j = (i * 3) % step; j < n; j += step) { /* ~7 elements spread over the tensor */
            float keep = p[i].data[j];
            p[i].data[j] = keep + eps;
            double lp = fwd_loss(m, x, y, B, T);
            p[i].data[j] = keep - eps;
            double lm = fwd_loss(m, x, y, B, T);
            p[i].data[j] = keep;
            double fd = (lp - lm) / (2 * eps);
            if (!(fabs(p[i].grad[j] - fd) <= 2e-4 + 3e-2 * fabs(fd)))
                fail_msg("%s[%lld]: backward %.7g, finite difference %.7g", p[i].name, (long long)j,
                         (double)p[i].grad[j], fd);
            checked++;
        }
        /* directional derivative along a random +-1 direction d: (L(w+e d) - L(w-e d)) / 2e = g . d */
        float *w0 = malloc((size_t)n * sizeof(float)), *d = malloc((size_t)n * sizeof(float));
        memcpy(w0, p[i].data, (size_t)n * sizeof(float));
        mu_rng_t rng;
        mu_rng_seed(&rng, 500 + (uint64_t)i);
        for (int64_t j = 0; j < n; j++) d[j] = (mu_rng_u64(&rng) & 1) ? 1.0f : -1.0f;
        const float e2 = 1e-3f;
        for (int64_t j = 0; j < n; j++) p[i].data[j] = w0[j] + e2 * d[j];
        double lp = fwd_loss(m, x, y, B, T);
        for (int64_t j = 0; j < n; j++) p[i].data[j] = w0[j] - e2 * d[j];
        double lm = fwd_loss(m, x, y, B, T);
        memcpy(p[i].data, w0, (size_t)n * sizeof(float));
        double gd = dot_d(p[i].grad, d, n), fd = (lp - lm) / (2 * e2);
        if (!(fabs(gd - fd) <= 5e-4 + 2e-2 * fabs(fd)))
            fail_msg("%s: directional derivative backward %.7g, finite difference %.7g", p[i].name, gd, fd);
        free(w0);
        free(d);
    }
    assert_true(checked > 5 * mu_gpt_n_params(m));
    free_model(&r);
}

static void test_grad_model_bias_untied(void **state) { grad_check(tiny_cfg(1, 0), 0); }
static void test_grad_model_nobias_untied(void **state) { grad_check(tiny_cfg(0, 0), 0); }
static void test_grad_model_bias_tied(void **state) { grad_check(tiny_cfg(1, 1), 0); }
static void test_grad_model_nobias_tied(void **state) { grad_check(tiny_cfg(0, 1), 0); }
static void test_grad_model_dropout(void **state) {
    /* the masks are pure functions of (seed, step, micro, site, row), so L stays differentiable */
    mu_gpt_config_t c = tiny_cfg(1, 0);
    c.dropout = 0.2f;
    grad_check(c, 1);
}


/* ---- μP (docs/model.md "Parametrization") ------------------------------------------------ */

/* a μP config with every multiplier away from 1: m = 8/4 = 2, alpha_attn 3 (scores x 3/d_head) */
static mu_gpt_config_t mup_cfg(int bias, int tie) {
    mu_gpt_config_t c = tiny_cfg(bias, tie);
    c.param = MU_PARAM_MUP;
    c.base_width = 4;
    c.alpha_in = 1.7f;
    c.alpha_out = 2.5f;
    c.alpha_attn = 3.0f;
    return c;
}

static void test_grad_model_mup(void **state) {
    grad_check(mup_cfg(1, 0), 0);
    grad_check(mup_cfg(0, 1), 0);
    mu_gpt_config_t c = mup_cfg(1, 0);
    c.dropout = 0.2f;
    grad_check(c, 1);
}

static void test_mup_scalars(void **state) {
    mu_gpt_config_t c = tiny_cfg(1, 0); /* d_head 4 */
    assert_true(mu_gpt_attn_scale(&c) == 0.5f);
    assert_true(mu_gpt_out_mult(&c) == 1.0f && mu_gpt_width_mult(&c) == 1.0f);
    c.alpha_out = 5.0f, c.alpha_attn = 7.0f, c.base_width = 2; /* ignored under SP */
    assert_true(mu_gpt_attn_scale(&c) == 0.5f && mu_gpt_out_mult(&c) == 1.0f);
    c.param = MU_PARAM_MUP;
    assert_true(mu_gpt_width_mult(&c) == 4.0f);
    assert_true(mu_gpt_out_mult(&c) == 1.25f);     /* 5 / 4 */
    assert_true(mu_gpt_attn_scale(&c) == 1.75f);   /* 7 / 4 */
    c.alpha_attn = 0.0f;                           /* default sqrt(d_head_base) = sqrt(4): equals SP */
    assert_true(mu_gpt_attn_scale(&c) == 0.5f);
    c.base_width = 0;                              /* 0: the default base width 128 */
    assert_true(mu_gpt_width_mult(&c) == 8.0f / 128.0f);
    int32_t v = -1;
    assert_int_equal(mu_gpt_param_parse("mup", &v), 0);
    assert_int_equal(v, MU_PARAM_MUP);
    assert_int_equal(mu_gpt_mup_init_parse("orthogonal", &v), 0);
    assert_int_equal(v, MU_MUP_INIT_ORTHOGONAL);
    assert_int_equal(mu_gpt_param_parse("ntk", &v), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "sp, mup"));
    assert_string_equal(mu_gpt_mup_init_name(MU_MUP_INIT_TABLE), "table");
    /* config checks */
    c = mup_cfg(1, 1);
    c.zero_readout = 1;
    assert_int_equal(mu_gpt_config_check(&c), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "zero_readout"));
    c = mup_cfg(1, 0);
    c.param = 2;
    assert_int_equal(mu_gpt_config_check(&c), MU_EINVAL);
    c = mup_cfg(1, 0);
    c.alpha_out = -1.0f;
    assert_int_equal(mu_gpt_config_check(&c), MU_EINVAL);
    c = mup_cfg(1, 0);
    c.mup_init = 3;
    assert_int_equal(mu_gpt_config_check(&c), MU_EINVAL);
}

/* copy every weight of a into b (same registry layout) */
static void copy_weights(mu_gpt_t *b, mu_gpt_t *a) {
    for (int i = 0; i < mu_gpt_n_params(a); i++)
        memcpy(mu_gpt_params(b)[i].data, mu_gpt_params(a)[i].data, (size_t)mu_gpt_params(a)[i].numel * 4);
}

/* The multipliers against SP with the same weights: alpha_out/m scales the logits exactly;
 * alpha_in = 2 equals SP with wte, wpe doubled (exact: powers of two); alpha_attn equals SP with
 * the query rows scaled by alpha_attn/sqrt(d_head) (up to rounding). */
static void test_mup_multipliers(void **state) {
    enum { B = 2, T = 5 };
    mu_gpt_config_t cs = tiny_cfg(1, 0), cm = cs;
    cm.param = MU_PARAM_MUP, cm.base_width = 4, cm.alpha_out = 3.0f; /* logits x 1.5 */
    model_t s = make_model(cs, B, 3), m = make_model(cm, B, 3);
    randomize(s.m, 11);
    copy_weights(m.m, s.m);
    int32_t x[B * T], y[B * T];
    fill_tokens(x, B * T, cs.vocab, 5);
    fill_tokens(y, B * T, cs.vocab, 6);
    fwd_loss(s.m, x, y, B, T);
    fwd_loss(m.m, x, y, B, T);
    const float *ls = mu_gpt_logits(s.m), *lm = mu_gpt_logits(m.m);
    for (int i = 0; i < B * T * cs.vocab; i++) assert_true(lm[i] == 1.5f * ls[i]);
    free_model(&m);
    /* alpha_in = 2 */
    cm = cs;
    cm.param = MU_PARAM_MUP, cm.base_width = 8, cm.alpha_in = 2.0f;
    m = make_model(cm, B, 3);
    copy_weights(m.m, s.m);
    for (int i = 0; i < 2; i++) {
        mu_param_t *p = &mu_gpt_params(s.m)[i]; /* wte, wpe */
        for (int64_t j = 0; j < p->numel; j++) p->data[j] *= 2.0f;
    }
    float a = fwd_loss(s.m, x, y, B, T), b = fwd_loss(m.m, x, y, B, T);
    assert_true(a == b);
    free_model(&m);
    /* alpha_attn = 3, d_head 4: scores x 3/4 = SP (x 1/2) with q x 1.5 */
    cm = cs;
    cm.param = MU_PARAM_MUP, cm.base_width = 8, cm.alpha_attn = 3.0f;
    m = make_model(cm, B, 3);
    copy_weights(m.m, s.m);
    for (int l = 0; l < cs.n_layer; l++) {
        char nm[96];
        snprintf(nm, sizeof nm, "transformer.h.%d.attn.c_attn.weight", l);
        mu_param_t *w = mu_gpt_param_by_name(s.m, nm);
        for (int64_t j = 0; j < cs.d_model * cs.d_model; j++) w->data[j] *= 1.5f;
        snprintf(nm, sizeof nm, "transformer.h.%d.attn.c_attn.bias", l);
        w = mu_gpt_param_by_name(s.m, nm);
        for (int64_t j = 0; j < cs.d_model; j++) w->data[j] *= 1.5f;
    }
    a = fwd_loss(s.m, x, y, B, T), b = fwd_loss(m.m, x, y, B, T);
    assert_close(a, b, 1e-5, 1e-5);
    assert_close(fwd_loss(s.m, x, y, 1, T), fwd_loss(m.m, x, y, 1, T), 1e-5, 1e-5); /* and at batch 1 */
    free_model(&m);
    free_model(&s);
}

/* param = sp ignores every μP field: init, loss and gradients bit-identical to the plain config */
static void test_mup_sp_identical(void **state) {
    enum { B = 2, T = 5 };
    mu_gpt_config_t c0 = tiny_cfg(1, 0), c1 = c0;
    c1.base_width = 2, c1.mup_init = MU_MUP_INIT_ORTHOGONAL, c1.alpha_in = 3.0f, c1.alpha_out = 5.0f;
    c1.alpha_attn = 7.0f, c1.zero_query = 1, c1.zero_readout = 1;
    model_t a = make_model(c0, B, 77), b = make_model(c1, B, 77);
    int32_t x[B * T], y[B * T];
    fill_tokens(x, B * T, c0.vocab, 8);
    fill_tokens(y, B * T, c0.vocab, 9);
    assert_memory_equal(mu_gpt_params(a.m)[0].data, mu_gpt_params(b.m)[0].data, (size_t)mu_gpt_numel(a.m) * 4);
    mu_gpt_zero_grad(a.m);
    mu_gpt_zero_grad(b.m);
    float la = fwd_loss(a.m, x, y, B, T), lb = fwd_loss(b.m, x, y, B, T);
    assert_true(la == lb);
    assert_int_equal(mu_gpt_backward(a.m, 1.0f), 0);
    assert_int_equal(mu_gpt_backward(b.m, 1.0f), 0);
    assert_memory_equal(mu_gpt_params(a.m)[0].grad, mu_gpt_params(b.m)[0].grad, (size_t)mu_gpt_numel(a.m) * 4);
    /* and the SP init is still GPT-2's: at init the loss is close to log V */
    assert_close(la, log(c0.vocab), 0, 0.05);
    free_model(&a);
    free_model(&b);
}

static double rms_of(const float *w, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)w[i] * w[i];
    return sqrt(s / (double)n);
}

/* max |W W^T - s^2 I| (wide/square) or |W^T W - s^2 I| (tall) for W (r, c) */
static double orth_err(const float *w, int64_t r, int64_t c, double s2) {
    int tall = r > c;
    int64_t k = tall ? c : r, len = tall ? r : c;
    double e = 0;
    for (int64_t i = 0; i < k; i++)
        for (int64_t j = 0; j < k; j++) {
            double d = 0;
            for (int64_t t = 0; t < len; t++)
                d += tall ? (double)w[t * c + i] * w[t * c + j] : (double)w[i * c + t] * w[j * c + t];
            e = fmax(e, fabs(d - (i == j ? s2 : 0.0)));
        }
    return e;
}

static void test_mup_init(void **state) {
    mu_gpt_config_t c = mu_gpt_config_default();
    c.n_layer = 2, c.n_head = 4, c.d_model = 64, c.seq_len = 32, c.vocab = 256;
    c.param = MU_PARAM_MUP, c.base_width = 16; /* m = 4 */
    model_t r = make_model(c, 1, 5);
    mu_gpt_t *m = r.m;
    /* gauss: std min(1,s)/sqrt(d_in): qkv, attn proj and fc 1/8; mlp proj (s = 1/2) 0.5/16 */
    assert_close(rms_of(mu_gpt_param_by_name(m, "transformer.h.0.attn.c_attn.weight")->data, 3 * 64 * 64), 0.125, 0,
                 0.03);
    assert_close(rms_of(mu_gpt_param_by_name(m, "transformer.h.1.attn.c_proj.weight")->data, 64 * 64), 0.125, 0,
                 0.03);
    assert_close(rms_of(mu_gpt_param_by_name(m, "transformer.h.0.mlp.c_fc.weight")->data, 256 * 64), 0.125, 0, 0.03);
    assert_close(rms_of(mu_gpt_param_by_name(m, "transformer.h.0.mlp.c_proj.weight")->data, 256 * 64), 1.0 / 32, 0,
                 0.03);
    assert_close(rms_of(mu_gpt_param_by_name(m, "transformer.wte.weight")->data, 256 * 64), 0.02, 0, 0.03);
    assert_close(rms_of(mu_gpt_param_by_name(m, "lm_head.weight")->data, 256 * 64), 0.02, 0, 0.03);
    assert_true(mu_gpt_param_by_name(m, "transformer.h.0.ln_1.weight")->data[5] == 1.0f);
    free_model(&r);
    /* table: 0.02/sqrt(m) = 0.01, both c_proj also /sqrt(2L) = /2 */
    c.mup_init = MU_MUP_INIT_TABLE;
    r = make_model(c, 1, 5);
    assert_close(rms_of(mu_gpt_param_by_name(r.m, "transformer.h.0.mlp.c_fc.weight")->data, 256 * 64), 0.01, 0, 0.03);
    assert_close(rms_of(mu_gpt_param_by_name(r.m, "transformer.h.0.mlp.c_proj.weight")->data, 256 * 64), 0.005, 0,
                 0.03);
    free_model(&r);
    /* orthogonal: every singular value s (qkv per (C,C) block), zero query and readout */
    c.mup_init = MU_MUP_INIT_ORTHOGONAL, c.zero_query = 1, c.zero_readout = 1;
    r = make_model(c, 1, 5);
    const float *qkv = mu_gpt_param_by_name(r.m, "transformer.h.1.attn.c_attn.weight")->data;
    assert_true(rms_of(qkv, 64 * 64) == 0.0);                        /* q zeroed */
    assert_true(orth_err(qkv + 64 * 64, 64, 64, 1.0) < 1e-5);       /* k */
    assert_true(orth_err(qkv + 2 * 64 * 64, 64, 64, 1.0) < 1e-5);   /* v */
    assert_true(orth_err(mu_gpt_param_by_name(r.m, "transformer.h.0.mlp.c_fc.weight")->data, 256, 64, 4.0) < 1e-5);
    assert_true(orth_err(mu_gpt_param_by_name(r.m, "transformer.h.0.mlp.c_proj.weight")->data, 64, 256, 0.25) <
                1e-5);
    assert_true(rms_of(mu_gpt_param_by_name(r.m, "lm_head.weight")->data, 256 * 64) == 0.0);
    /* zero readout: uniform prediction, loss exactly log V */
    int32_t x[4] = {1, 2, 3, 4}, y[4] = {5, 6, 7, 8};
    assert_close(fwd_loss(r.m, x, y, 1, 4), log(256.0), 1e-5, 0);
    free_model(&r);
}

static void test_init(void **state) {
    mu_gpt_config_t c = mu_gpt_config_default();
    c.n_layer = 2, c.n_head = 4, c.d_model = 64, c.seq_len = 32, c.vocab = 256;
    model_t r = make_model(c, 4, 1234);
    mu_param_t *p = mu_gpt_params(r.m);
    /* statistics of the init */
    for (int i = 0; i < mu_gpt_n_params(r.m); i++) {
        double s = 0, s2 = 0;
        for (int64_t j = 0; j < p[i].numel; j++) s += p[i].data[j], s2 += (double)p[i].data[j] * p[i].data[j];
        double mean = s / p[i].numel, sd = sqrt(s2 / p[i].numel - mean * mean);
        if (p[i].role == MU_ROLE_GAIN) {
            assert_close(mean, 1.0, 0, 0);
            assert_close(sd, 0.0, 1e-7, 0);
        } else if (p[i].role == MU_ROLE_BIAS) {
            assert_close(s2, 0.0, 0, 0);
        } else {
            double want = strstr(p[i].name, "c_proj.weight") ? 0.02 / sqrt(4.0) : 0.02;
            assert_close(sd, want, 0, 0.1);
            assert_close(mean, 0.0, 3 * want / sqrt((double)p[i].numel) + 1e-6, 0);
        }
    }
    int32_t x[4 * 32], y[4 * 32];
    fill_tokens(x, 4 * 32, 256, 1);
    fill_tokens(y, 4 * 32, 256, 2);
    float loss = fwd_loss(r.m, x, y, 4, 32);
    assert_close(loss, log(256.0), 0.1, 0);
    free_model(&r);
}

static void test_forward_errors(void **state) {
    mu_gpt_config_t c = tiny_cfg(1, 0);
    model_t r = make_model(c, 2, 1);
    int32_t x[10], y[10];
    fill_tokens(x, 10, 11, 3);
    fill_tokens(y, 10, 11, 4);
    float loss;
    assert_int_equal(mu_gpt_forward(r.m, x, y, 3, 5, &loss), MU_EINVAL); /* B > max_batch */
    assert_non_null(strstr(mu_last_error(), "max_batch"));
    assert_int_equal(mu_gpt_forward(r.m, x, y, 2, 6, &loss), MU_EINVAL); /* T > seq_len */
    assert_non_null(strstr(mu_last_error(), "seq_len"));
    x[7] = 11;
    assert_int_equal(mu_gpt_forward(r.m, x, y, 2, 5, &loss), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "id 11 at position 7"));
    x[7] = 0;
    y[3] = -1;
    assert_int_equal(mu_gpt_forward(r.m, x, y, 2, 5, &loss), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "target token id -1 at position 3"));
    y[3] = 1;
    /* logits only: same logits as with targets; backward refuses */
    assert_int_equal(mu_gpt_forward(r.m, x, y, 2, 5, &loss), 0);
    float *l1 = malloc(10 * 11 * sizeof(float));
    memcpy(l1, mu_gpt_logits(r.m), 10 * 11 * sizeof(float));
    assert_int_equal(mu_gpt_forward(r.m, x, NULL, 2, 5, &loss), 0);
    assert_true(isnan(loss));
    assert_memory_equal(mu_gpt_logits(r.m), l1, 10 * 11 * sizeof(float));
    assert_int_equal(mu_gpt_backward(r.m, 1.0f), MU_EINVAL);
    /* loss equals the mean cross-entropy of the returned logits */
    double ref = 0;
    for (int i = 0; i < 10; i++) {
        double s = 0;
        for (int j = 0; j < 11; j++) s += exp(l1[i * 11 + j]);
        ref += log(s) - l1[i * 11 + y[i]];
    }
    assert_int_equal(mu_gpt_forward(r.m, x, y, 2, 5, &loss), 0);
    assert_close(loss, ref / 10, 1e-6, 1e-5);
    /* a second backward after one forward is refused */
    assert_int_equal(mu_gpt_backward(r.m, 1.0f), 0);
    assert_int_equal(mu_gpt_backward(r.m, 1.0f), MU_EINVAL);
    /* shorter sequences work (T < seq_len) */
    assert_int_equal(mu_gpt_forward(r.m, x, y, 2, 3, &loss), 0);
    assert_true(isfinite(loss));
    free(l1);
    free_model(&r);
}

static void test_grad_accumulation(void **state) {
    mu_gpt_config_t c = tiny_cfg(1, 0);
    enum { B = 4, T = 5 };
    model_t r = make_model(c, B, 9);
    randomize(r.m, 200);
    int32_t x[B * T], y[B * T];
    fill_tokens(x, B * T, 11, 5);
    fill_tokens(y, B * T, 11, 6);
    int64_t n = mu_gpt_numel(r.m);
    float *full = malloc((size_t)n * sizeof(float));
    float *g = mu_gpt_params(r.m)[0].grad;
    mu_gpt_zero_grad(r.m);
    fwd_loss(r.m, x, y, B, T);
    assert_int_equal(mu_gpt_backward(r.m, 1.0f), 0);
    memcpy(full, g, (size_t)n * sizeof(float));
    mu_gpt_zero_grad(r.m);
    for (int h = 0; h < 2; h++) {
        fwd_loss(r.m, x + h * 2 * T, y + h * 2 * T, 2, T);
        assert_int_equal(mu_gpt_backward(r.m, 0.5f), 0);
    }
    double maxg = 0;
    for (int64_t i = 0; i < n; i++) maxg = fmax(maxg, fabs(full[i]));
    assert_true(maxg > 1e-3);
    for (int64_t i = 0; i < n; i++) assert_close(g[i], full[i], 1e-6 * maxg, 1e-4);
    free(full);
    free_model(&r);
}

static void test_determinism(void **state) {
    mu_gpt_config_t c = tiny_cfg(1, 0);
    c.d_model = 32, c.n_head = 4, c.seq_len = 16, c.vocab = 64;
    model_t a = make_model(c, 4, 77), b = make_model(c, 4, 77), d = make_model(c, 4, 78);
    int32_t x[64], y[64];
    fill_tokens(x, 64, 64, 1);
    fill_tokens(y, 64, 64, 2);
    float la = fwd_loss(a.m, x, y, 4, 16), lb = fwd_loss(b.m, x, y, 4, 16), ld = fwd_loss(d.m, x, y, 4, 16);
    assert_memory_equal(&la, &lb, sizeof la);
    assert_true(la != ld);
    mu_gpt_zero_grad(a.m);
    mu_gpt_zero_grad(b.m);
    assert_int_equal(mu_gpt_backward(a.m, 1.0f), 0);
    assert_int_equal(mu_gpt_backward(b.m, 1.0f), 0);
    assert_memory_equal(mu_gpt_params(a.m)[0].grad, mu_gpt_params(b.m)[0].grad,
                        (size_t)mu_gpt_numel(a.m) * sizeof(float));
    assert_memory_equal(mu_gpt_params(a.m)[0].data, mu_gpt_params(b.m)[0].data,
                        (size_t)mu_gpt_numel(a.m) * sizeof(float));
    free_model(&a);
    free_model(&b);
    free_model(&d);
}

/* The model's own kernels reduce in a fixed order: 1 and 2 threads give the same bits
 * (with the OpenBLAS engine, which splits products over rows/columns, not over k). */
static void test_thread_count_invariance(void **state) {
    mu_gpt_config_t c = tiny_cfg(1, 0);
    c.d_model = 32, c.n_head = 4, c.seq_len = 16, c.vocab = 64, c.dropout = 0.1f;
    int32_t x[64], y[64];
    fill_tokens(x, 64, 64, 1);
    fill_tokens(y, 64, 64, 2);
    float loss[2];
    float *grads[2];
    int32_t keep = mu_threads_get();
    for (int k = 0; k < 2; k++) {
        mu_threads_set(k + 1);
        model_t r = make_model(c, 4, 77);
        mu_gpt_set_train(r.m, 1, 3, 4, 5);
        mu_gpt_zero_grad(r.m);
        loss[k] = fwd_loss(r.m, x, y, 4, 16);
        assert_int_equal(mu_gpt_backward(r.m, 1.0f), 0);
        size_t bytes = (size_t)mu_gpt_numel(r.m) * sizeof(float);
        grads[k] = malloc(bytes);
        memcpy(grads[k], mu_gpt_params(r.m)[0].grad, bytes);
        if (k == 1) assert_memory_equal(grads[0], grads[1], bytes);
        free_model(&r);
    }
    mu_threads_set(keep);
    assert_memory_equal(&loss[0], &loss[1], sizeof loss[0]);
    free(grads[0]);
    free(grads[1]);
}

static void test_dropout_model(void **state) {
    mu_gpt_config_t c = tiny_cfg(1, 0);
    c.d_model = 32, c.n_head = 4, c.seq_len = 16, c.vocab = 64;
    mu_gpt_config_t c0 = c;
    c.dropout = 0.2f;
    model_t r = make_model(c, 4, 5), r0 = make_model(c0, 4, 5);
    int32_t x[64], y[64];
    fill_tokens(x, 64, 64, 1);
    fill_tokens(y, 64, 64, 2);
    float eval = fwd_loss(r.m, x, y, 4, 16), eval0 = fwd_loss(r0.m, x, y, 4, 16);
    assert_memory_equal(&eval, &eval0, sizeof eval); /* eval mode never drops */
    mu_gpt_set_train(r0.m, 1, 1, 2, 3);
    float train0 = fwd_loss(r0.m, x, y, 4, 16);
    assert_memory_equal(&train0, &eval0, sizeof eval); /* dropout 0: train == eval */
    mu_gpt_set_train(r.m, 1, 1, 2, 3);
    float t1 = fwd_loss(r.m, x, y, 4, 16), t2 = fwd_loss(r.m, x, y, 4, 16);
    assert_true(t1 != eval);
    assert_memory_equal(&t1, &t2, sizeof t1); /* same (seed, step, micro): same masks */
    mu_gpt_set_train(r.m, 1, 1, 2, 4);
    float t3 = fwd_loss(r.m, x, y, 4, 16);
    assert_true(t3 != t1);
    mu_gpt_set_train(r.m, 0, 1, 2, 4);
    float e2 = fwd_loss(r.m, x, y, 4, 16);
    assert_memory_equal(&e2, &eval, sizeof eval);
    free_model(&r);
    free_model(&r0);
}

/* Overfit one batch with a tiny inline Adam (beta 0.9/0.999, lr 1e-2, no weight decay). */
static void test_overfit(void **state) {
    mu_gpt_config_t c = mu_gpt_config_default();
    c.n_layer = 2, c.n_head = 2, c.d_model = 32, c.seq_len = 16, c.vocab = 32, c.bias = 1, c.tie = 0;
    enum { B = 4, T = 16 };
    model_t r = make_model(c, B, 3);
    int32_t x[B * T], y[B * T];
    fill_tokens(x, B * T, 32, 11);
    fill_tokens(y, B * T, 32, 12);
    int64_t n = mu_gpt_numel(r.m);
    float *w = mu_gpt_params(r.m)[0].data, *g = mu_gpt_params(r.m)[0].grad;
    float *m1 = calloc((size_t)n, sizeof(float)), *m2 = calloc((size_t)n, sizeof(float));
    float first = 0, loss = 0;
    int steps = 0;
    for (int s = 1; s <= 400; s++) {
        mu_gpt_zero_grad(r.m);
        loss = fwd_loss(r.m, x, y, B, T);
        if (s == 1) first = loss;
        if (loss < 0.05f) break;
        assert_int_equal(mu_gpt_backward(r.m, 1.0f), 0);
        const float lr = 1e-2f, b1 = 0.9f, b2 = 0.999f;
        float c1 = 1.0f - powf(b1, (float)s), c2 = 1.0f - powf(b2, (float)s);
        for (int64_t i = 0; i < n; i++) {
            m1[i] = b1 * m1[i] + (1 - b1) * g[i];
            m2[i] = b2 * m2[i] + (1 - b2) * g[i] * g[i];
            w[i] -= lr * (m1[i] / c1) / (sqrtf(m2[i] / c2) + 1e-8f);
        }
        steps = s;
    }
    if (getenv("MU_TEST_VERBOSE")) print_message("overfit: loss %.4f after %d steps\n", (double)loss, steps);
    if (!(loss < 0.05f)) fail_msg("loss %.4f after %d Adam steps (start %.4f)", (double)loss, steps, (double)first);
    free(m1);
    free(m2);
    free_model(&r);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_expf_accuracy),
    cmocka_unit_test(test_layernorm_grad),
    cmocka_unit_test(test_gelu_grad),
    cmocka_unit_test(test_attention_grad),
    cmocka_unit_test(test_attention_blocked),
    cmocka_unit_test(test_xent_grad),
    cmocka_unit_test(test_encoder_grad),
    cmocka_unit_test(test_linear_grad),
    cmocka_unit_test(test_dropout_kernel),
    cmocka_unit_test(test_role_names),
    cmocka_unit_test(test_registry),
    cmocka_unit_test(test_config_check),
    cmocka_unit_test(test_counts),
    cmocka_unit_test(test_grad_model_bias_untied),
    cmocka_unit_test(test_grad_model_nobias_untied),
    cmocka_unit_test(test_grad_model_bias_tied),
    cmocka_unit_test(test_grad_model_nobias_tied),
    cmocka_unit_test(test_grad_model_dropout),
    cmocka_unit_test(test_init),
    cmocka_unit_test(test_forward_errors),
    cmocka_unit_test(test_grad_accumulation),
    cmocka_unit_test(test_determinism),
    cmocka_unit_test(test_dropout_model),
    cmocka_unit_test(test_thread_count_invariance),
    cmocka_unit_test(test_overfit),
    cmocka_unit_test(test_grad_model_mup),
    cmocka_unit_test(test_mup_scalars),
    cmocka_unit_test(test_mup_multipliers),
    cmocka_unit_test(test_mup_sp_identical),
    cmocka_unit_test(test_mup_init),
};

MU_TEST_MAIN(tests)

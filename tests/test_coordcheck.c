/* test_coordcheck.c — module activation statistics (mu_gpt_module_stats) against a
 * double-precision reference forward written here, the coordinate-check pass rule on synthetic
 * series, a tiny end-to-end coordinate check through the library, and `muon coordcheck` on the
 * command line (needs MUON_BIN; those cases skip without it). */
#include <sys/wait.h>
#include <unistd.h>

#include "model/gpt_impl.h" /* att_valid: which path the logit stats take */
#include "testutil.h"

#include "muon/coordcheck.h"
#include "muon/model.h"

/* ---- a reference forward in double ----------------------------------------------------- */

typedef struct {
    mu_gemm_ctx_t *g;
    mu_gpt_t *m;
} model_t;

static model_t make(const mu_gpt_config_t *c, int32_t max_batch, uint64_t seed) {
    model_t r = {NULL, NULL};
    assert_int_equal(mu_gemm_ctx_init(&r.g, MU_ENGINE_OPENBLAS), 0);
    if (mu_gpt_init(&r.m, c, max_batch, r.g) != 0) fail_msg("mu_gpt_init: %s", mu_last_error());
    assert_int_equal(mu_gpt_init_weights(r.m, seed), 0);
    return r;
}

static void drop(model_t *r) {
    mu_gpt_free(r->m);
    mu_gemm_ctx_free(r->g);
}

/* Overwrite every parameter (gains and biases too) with N(0, 0.3^2) + 1 for gains, so that
 * no term of the forward is trivially zero or one. */
static void randomize(mu_gpt_t *m, uint64_t seed) {
    mu_param_t *p = mu_gpt_params(m);
    for (int32_t i = 0; i < mu_gpt_n_params(m); i++) {
        mu_rng_t r;
        mu_rng_at(&r, seed, (uint64_t)i, 7, 0);
        for (int64_t j = 0; j < p[i].numel; j++)
            p[i].data[j] = (p[i].role == MU_ROLE_GAIN ? 1.0f : 0.0f) + 0.3f * mu_rng_normal(&r);
    }
}

static const float *P(mu_gpt_t *m, const char *fmt, int l) {
    char nm[128];
    snprintf(nm, sizeof nm, fmt, l);
    mu_param_t *p = mu_gpt_param_by_name(m, nm);
    if (!p) fail_msg("no parameter %s", nm);
    return p->data;
}

/* y (n, out) = x (n, in) W^T + b, W (out, in) fp32, b may be NULL */
static void ref_linear(double *y, const double *x, const float *W, const float *b, int64_t n, int64_t in,
                       int64_t out) {
    for (int64_t r = 0; r < n; r++)
        for (int64_t o = 0; o < out; o++) {
            double s = b ? b[o] : 0.0;
            for (int64_t i = 0; i < in; i++) s += x[r * in + i] * (double)W[o * in + i];
            y[r * out + o] = s;
        }
}

/* LayerNorm over rows of width C (eps 1e-5, biased variance) */
static void ref_ln(double *y, const double *x, const float *w, const float *b, int64_t n, int64_t C) {
    for (int64_t r = 0; r < n; r++) {
        double mu = 0.0, var = 0.0;
        for (int64_t c = 0; c < C; c++) mu += x[r * C + c];
        mu /= (double)C;
        for (int64_t c = 0; c < C; c++) var += (x[r * C + c] - mu) * (x[r * C + c] - mu);
        var /= (double)C;
        for (int64_t c = 0; c < C; c++)
            y[r * C + c] = (x[r * C + c] - mu) / sqrt(var + 1e-5) * w[c] + (b ? b[c] : 0.0);
    }
}

/* l1, rms, max, max |x| of n values */
typedef struct {
    double l1, rms, max, max_abs;
    int64_t n;
} ref_stat_t;

static ref_stat_t summarize(const double *x, int64_t n) {
    ref_stat_t s = {0.0, 0.0, -INFINITY, 0.0, n};
    for (int64_t i = 0; i < n; i++) {
        s.l1 += fabs(x[i]);
        s.rms += x[i] * x[i];
        if (x[i] > s.max) s.max = x[i];
        if (fabs(x[i]) > s.max_abs) s.max_abs = fabs(x[i]);
    }
    s.l1 /= (double)n;
    s.rms = sqrt(s.rms / (double)n);
    return s;
}

/* The whole forward of the model's config in double; fills the reference stats in the order of
 * mu_gpt_module_stats. Bias pointers are looked up only when cfg.bias. */
static int32_t ref_forward(mu_gpt_t *m, const int32_t *x, int64_t B, int64_t T, ref_stat_t *out) {
    const mu_gpt_config_t *c = mu_gpt_config(m);
    int64_t C = c->d_model, V = c->vocab, H = c->n_head, hs = C / H, N = B * T, L = c->n_layer;
    double a_in = c->param == MU_PARAM_MUP ? c->alpha_in : 1.0, k_out = mu_gpt_out_mult(c);
    double scale = mu_gpt_attn_scale(c);
    double *res = calloc((size_t)(N * C), sizeof(double)), *ln = calloc((size_t)(N * C), sizeof(double));
    double *qkv = calloc((size_t)(N * 3 * C), sizeof(double)), *yat = calloc((size_t)(N * C), sizeof(double));
    double *tmp = calloc((size_t)(N * C), sizeof(double)), *fc = calloc((size_t)(N * 4 * C), sizeof(double));
    double *sc = calloc((size_t)(B * H * T * T), sizeof(double)), *lg = calloc((size_t)(N * V), sizeof(double));
    assert_true(res && ln && qkv && yat && tmp && fc && sc && lg);
    const float *wte = P(m, "transformer.wte.weight", 0), *wpe = P(m, "transformer.wpe.weight", 0);
    int32_t k = 0;
    /* x0 = alpha_in (wte[x] + wpe[t]) */
    for (int64_t n = 0; n < N; n++)
        for (int64_t j = 0; j < C; j++)
            res[n * C + j] = a_in * ((double)wte[x[n] * C + j] + (double)wpe[(n % T) * C + j]);
    out[k++] = summarize(res, N * C);
    for (int l = 0; l < L; l++) {
        const float *bias_qkv = c->bias ? P(m, "transformer.h.%d.attn.c_attn.bias", l) : NULL;
        ref_ln(ln, res, P(m, "transformer.h.%d.ln_1.weight", l), c->bias ? P(m, "transformer.h.%d.ln_1.bias", l) : NULL,
               N, C);
        ref_linear(qkv, ln, P(m, "transformer.h.%d.attn.c_attn.weight", l), bias_qkv, N, C, 3 * C);
        /* causal scores s_tj = scale q_t . k_j (j <= t), softmax, y_t = sum_j p_tj v_j */
        int64_t ns = 0;
        for (int64_t b = 0; b < B; b++)
            for (int64_t h = 0; h < H; h++)
                for (int64_t t = 0; t < T; t++) {
                    double s[64], mx = -INFINITY, z = 0.0;
                    assert_true(T <= 64);
                    for (int64_t j = 0; j <= t; j++) {
                        double d = 0.0;
                        for (int64_t i = 0; i < hs; i++)
                            d += qkv[(b * T + t) * 3 * C + h * hs + i] * qkv[(b * T + j) * 3 * C + C + h * hs + i];
                        s[j] = scale * d;
                        sc[ns++] = s[j];
                        if (s[j] > mx) mx = s[j];
                    }
                    for (int64_t j = 0; j <= t; j++) z += exp(s[j] - mx);
                    for (int64_t i = 0; i < hs; i++) {
                        double acc = 0.0;
                        for (int64_t j = 0; j <= t; j++)
                            acc += exp(s[j] - mx) / z * qkv[(b * T + j) * 3 * C + 2 * C + h * hs + i];
                        yat[(b * T + t) * C + h * hs + i] = acc;
                    }
                }
        out[k++] = summarize(sc, ns);
        ref_linear(tmp, yat, P(m, "transformer.h.%d.attn.c_proj.weight", l),
                   c->bias ? P(m, "transformer.h.%d.attn.c_proj.bias", l) : NULL, N, C, C);
        out[k++] = summarize(tmp, N * C);
        for (int64_t i = 0; i < N * C; i++) res[i] += tmp[i];
        ref_ln(ln, res, P(m, "transformer.h.%d.ln_2.weight", l), c->bias ? P(m, "transformer.h.%d.ln_2.bias", l) : NULL,
               N, C);
        ref_linear(fc, ln, P(m, "transformer.h.%d.mlp.c_fc.weight", l),
                   c->bias ? P(m, "transformer.h.%d.mlp.c_fc.bias", l) : NULL, N, C, 4 * C);
        for (int64_t i = 0; i < N * 4 * C; i++) { /* GELU, tanh approximation */
            double u = fc[i];
            fc[i] = 0.5 * u * (1.0 + tanh(sqrt(2.0 / M_PI) * (u + 0.044715 * u * u * u)));
        }
        ref_linear(tmp, fc, P(m, "transformer.h.%d.mlp.c_proj.weight", l),
                   c->bias ? P(m, "transformer.h.%d.mlp.c_proj.bias", l) : NULL, N, 4 * C, C);
        out[k++] = summarize(tmp, N * C);
        for (int64_t i = 0; i < N * C; i++) res[i] += tmp[i];
        out[k++] = summarize(res, N * C);
    }
    ref_ln(ln, res, P(m, "transformer.ln_f.weight", 0), c->bias ? P(m, "transformer.ln_f.bias", 0) : NULL, N, C);
    out[k++] = summarize(ln, N * C);
    const float *head = c->tie ? wte : P(m, "lm_head.weight", 0);
    ref_linear(lg, ln, head, NULL, N, C, V);
    for (int64_t i = 0; i < N * V; i++) lg[i] *= k_out;
    out[k++] = summarize(lg, N * V);
    free(res), free(ln), free(qkv), free(yat), free(tmp), free(fc), free(sc), free(lg);
    return k;
}

static mu_gpt_config_t tiny_cfg(void) {
    mu_gpt_config_t c = mu_gpt_config_default();
    c.n_layer = 2, c.n_head = 3, c.d_model = 12, c.seq_len = 9, c.vocab = 17, c.bias = 1, c.tie = 0;
    c.param = MU_PARAM_MUP, c.base_width = 4; /* m = 3 */
    c.alpha_in = 1.7f, c.alpha_out = 2.3f, c.alpha_attn = 3.1f;
    return c;
}

static void random_tokens(int32_t *x, int64_t n, int32_t V, uint64_t seed) {
    mu_rng_t r;
    mu_rng_seed(&r, seed);
    for (int64_t i = 0; i < n; i++) x[i] = (int32_t)mu_rng_below(&r, (uint64_t)V);
}

static void check_stats_vs_reference(int32_t record);

/* Every module of a μP model with all multipliers != 1, at B < max_batch and T < seq_len;
 * attention logits recomputed from qkv (record 0) and recorded by the forward (record 1). */
static void test_stats_match_reference_forward(void **state) {
    check_stats_vs_reference(0);
    check_stats_vs_reference(1);
}

static void check_stats_vs_reference(int32_t record) {
    mu_gpt_config_t c = tiny_cfg();
    model_t r = make(&c, 4, 3);
    randomize(r.m, 11);
    const int64_t B = 3, T = 7;
    int32_t x[21], y[21];
    random_tokens(x, B * T, c.vocab, 5);
    random_tokens(y, B * T, c.vocab, 6);
    assert_int_equal(mu_gpt_record_module_stats(r.m, record), 0);
    assert_int_equal(mu_gpt_forward(r.m, x, y, (int32_t)B, (int32_t)T, NULL), 0);
    assert_int_equal(r.m->att_valid, record); /* which path mu_gpt_module_stats takes */
    mu_gpt_module_stat_t st[16];
    int32_t n = 0;
    assert_int_equal(mu_gpt_n_module_stats(r.m), 11);
    if (mu_gpt_module_stats(r.m, st, 16, &n) != 0) fail_msg("%s", mu_last_error());
    assert_int_equal(n, 11);
    ref_stat_t ref[16];
    assert_int_equal(ref_forward(r.m, x, B, T, ref), 11);
    const char *names[] = {"emb", "h0.attn_logits", "h0.attn", "h0.mlp", "h0.resid", "h1.attn_logits",
                           "h1.attn", "h1.mlp", "h1.resid", "ln_f", "logits"};
    const int32_t layers[] = {-1, 0, 0, 0, 0, 1, 1, 1, 1, -1, -1};
    for (int32_t k = 0; k < n; k++) {
        assert_string_equal(st[k].name, names[k]);
        assert_int_equal(st[k].layer, layers[k]);
        assert_int_equal(st[k].count, ref[k].n);
        assert_true(st[k].l1 > 1e-3); /* nothing trivially zero */
        assert_close(st[k].l1, ref[k].l1, 0, 2e-5);
        assert_close(st[k].rms, ref[k].rms, 0, 2e-5);
        assert_close(st[k].max, ref[k].max, 1e-6, 2e-5);
        assert_close(st[k].max_abs, ref[k].max_abs, 0, 2e-5);
    }
    /* counts: (B,T,C) for dense modules, B H T(T+1)/2 causal scores, (B,T,V) logits */
    assert_int_equal(st[0].count, B * T * 12);
    assert_int_equal(st[1].count, B * 3 * (T * (T + 1) / 2));
    assert_int_equal(st[10].count, B * T * 17);
    drop(&r);
}

/* The embedding by hand (SP, no multipliers) and the logits as mean |mu_gpt_logits|. */
static void test_stats_emb_and_logits_by_hand(void **state) {
    mu_gpt_config_t c = tiny_cfg();
    c.param = MU_PARAM_SP;
    c.n_layer = 1;
    model_t r = make(&c, 2, 9);
    const int32_t B = 2, T = 5;
    int32_t x[10];
    random_tokens(x, B * T, c.vocab, 1);
    assert_int_equal(mu_gpt_forward(r.m, x, NULL, B, T, NULL), 0);
    mu_gpt_module_stat_t st[8];
    int32_t n = 0;
    assert_int_equal(mu_gpt_module_stats(r.m, st, 8, &n), 0);
    assert_int_equal(n, 7);
    const float *wte = P(r.m, "transformer.wte.weight", 0), *wpe = P(r.m, "transformer.wpe.weight", 0);
    double l1 = 0.0, mx = -INFINITY;
    for (int32_t i = 0; i < B * T; i++)
        for (int32_t j = 0; j < c.d_model; j++) {
            double v = (double)(wte[x[i] * c.d_model + j] + wpe[(i % T) * c.d_model + j]);
            l1 += fabs(v);
            mx = v > mx ? v : mx;
        }
    assert_close(st[0].l1, l1 / (B * T * c.d_model), 0, 1e-12);
    assert_close(st[0].max, mx, 0, 1e-12);
    const float *lg = mu_gpt_logits(r.m);
    double la = 0.0;
    for (int32_t i = 0; i < B * T * c.vocab; i++) la += fabs((double)lg[i]);
    assert_string_equal(st[6].name, "logits");
    assert_close(st[6].l1, la / (B * T * c.vocab), 0, 1e-12);
    drop(&r);
}

/* The max attention logit of a one-layer model equals the largest a_attn q.k from q, k computed
 * here from ln_1(x0) and c_attn's rows (no softmax involved). */
static void test_stats_max_attention_logit(void **state) {
    mu_gpt_config_t c = tiny_cfg();
    c.n_layer = 1;
    model_t r = make(&c, 2, 4);
    randomize(r.m, 21);
    const int32_t B = 2, T = 8;
    int32_t x[16];
    random_tokens(x, B * T, c.vocab, 2);
    assert_int_equal(mu_gpt_forward(r.m, x, NULL, B, T, NULL), 0);
    mu_gpt_module_stat_t st[8];
    int32_t n = 0;
    assert_int_equal(mu_gpt_module_stats(r.m, st, 8, &n), 0);
    ref_stat_t ref[8];
    ref_forward(r.m, x, B, T, ref);
    assert_string_equal(st[1].name, "h0.attn_logits");
    assert_close(st[1].max, ref[1].max, 1e-6, 1e-5);
    assert_true(st[1].max > 0.1); /* a real maximum, not the empty -inf or 0 */
    drop(&r);
}

/* Refusals: no forward yet, after the backward, cap too small, NULL arguments. */
static void test_stats_refusals(void **state) {
    mu_gpt_config_t c = tiny_cfg();
    model_t r = make(&c, 2, 1);
    mu_gpt_module_stat_t st[16];
    int32_t n = 5;
    assert_int_equal(mu_gpt_module_stats(r.m, st, 16, &n), MU_EINVAL);
    assert_int_equal(n, 0);
    assert_non_null(strstr(mu_last_error(), "mu_gpt_forward"));
    int32_t x[6] = {1, 2, 3, 4, 5, 6}, y[6] = {2, 3, 4, 5, 6, 7};
    assert_int_equal(mu_gpt_forward(r.m, x, y, 2, 3, NULL), 0);
    assert_int_equal(mu_gpt_module_stats(r.m, st, 10, &n), MU_EINVAL); /* needs 11 */
    assert_non_null(strstr(mu_last_error(), "11"));
    assert_int_equal(mu_gpt_record_module_stats(r.m, 2), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "expected 0 or 1"));
    assert_int_equal(mu_gpt_record_module_stats(NULL, 1), MU_EINVAL);
    assert_int_equal(mu_gpt_module_stats(r.m, NULL, 16, &n), MU_EINVAL);
    assert_int_equal(mu_gpt_module_stats(r.m, st, 16, &n), 0);
    assert_int_equal(mu_gpt_backward(r.m, 1.0f), 0);
    assert_int_equal(mu_gpt_module_stats(r.m, st, 16, &n), MU_EINVAL); /* logits are dlogits now */
    assert_non_null(strstr(mu_last_error(), "backward"));
    assert_int_equal(mu_gpt_forward(r.m, x, NULL, 2, 3, NULL), 0);
    assert_int_equal(mu_gpt_module_stats(r.m, st, 16, &n), 0);
    assert_int_equal(mu_gpt_n_module_stats(NULL), 0);
    drop(&r);
}

/* The same forward summarized with 1 and 2 threads: bitwise equal (fixed reduction order). */
static void test_stats_thread_independent(void **state) {
    mu_gpt_config_t c = tiny_cfg();
    c.d_model = 48, c.n_head = 4, c.seq_len = 32;
    model_t r = make(&c, 4, 2);
    int32_t x[128];
    random_tokens(x, 128, c.vocab, 8);
    assert_int_equal(mu_gpt_forward(r.m, x, NULL, 4, 32, NULL), 0);
    int32_t keep = mu_threads_get(), n1 = 0, n2 = 0;
    mu_gpt_module_stat_t a[16], b[16];
    mu_threads_set(1);
    assert_int_equal(mu_gpt_module_stats(r.m, a, 16, &n1), 0);
    mu_threads_set(2);
    assert_int_equal(mu_gpt_module_stats(r.m, b, 16, &n2), 0);
    mu_threads_set(keep);
    assert_int_equal(n1, n2);
    for (int32_t k = 0; k < n1; k++) {
        assert_true(a[k].l1 == b[k].l1 && a[k].rms == b[k].rms && a[k].max == b[k].max);
        assert_true(a[k].l1 > 0.0);
    }
    drop(&r);
}

/* ---- the pass rule --------------------------------------------------------------------- */

static const int32_t W5[5] = {64, 128, 256, 512, 1024};

static void test_judge_flat_passes(void **state) {
    const double l1[5] = {0.9, 1.0, 1.05, 0.97, 1.1};
    mu_cc_verdict_t v;
    assert_int_equal(mu_coordcheck_judge(W5, l1, 5, 128, MU_CC_RULE_RATIO, &v), 0);
    assert_int_equal(v.n_pairs, 2); /* (128, 512), (256, 1024); 64 is below min_width */
    assert_int_equal(v.w[0], 128);
    assert_int_equal(v.w[1], 256);
    assert_close(v.ratio[0], 0.97, 0, 1e-12);
    assert_close(v.ratio[1], 1.1 / 1.05, 0, 1e-12);
    assert_close(v.worst, 1.1 / 1.05, 0, 1e-12); /* |log 1.0476| > |log 0.97| */
    assert_true(v.pass && v.ok[0] && v.ok[1]);
    /* with min_width 64 the pair (64, 256) joins: 1.05 / 0.9 = 1.167 still passes */
    assert_int_equal(mu_coordcheck_judge(W5, l1, 5, 64, MU_CC_RULE_RATIO, &v), 0);
    assert_int_equal(v.n_pairs, 3);
    assert_true(v.pass);
}

/* l1 ∝ sqrt(width): ratio 2 per 4x, failed by the ratio rule and by the slope rule (log2 2 = 1). */
static void test_judge_sqrt_growth_fails(void **state) {
    double l1[5];
    for (int i = 0; i < 5; i++) l1[i] = 0.01 * sqrt((double)W5[i]);
    mu_cc_verdict_t v;
    assert_int_equal(mu_coordcheck_judge(W5, l1, 5, 128, MU_CC_RULE_RATIO, &v), 0);
    assert_false(v.pass);
    assert_int_equal(v.n_pairs, 2);
    assert_close(v.ratio[0], 2.0, 0, 1e-12);
    assert_close(v.ratio[1], 2.0, 0, 1e-12);
    assert_close(v.worst, 2.0, 0, 1e-12);
    assert_false(v.ok[0] || v.ok[1]);
    assert_int_equal(mu_coordcheck_judge(W5, l1, 5, 128, MU_CC_RULE_SLOPE, &v), 0);
    assert_false(v.pass);
}

/* width^0.2: ratio 4^0.2 = 1.32 fails the ratio rule, passes the slope rule (log2 = 0.4). */
static void test_judge_slope_rule(void **state) {
    double l1[5];
    for (int i = 0; i < 5; i++) l1[i] = pow((double)W5[i], 0.2);
    mu_cc_verdict_t v;
    assert_int_equal(mu_coordcheck_judge(W5, l1, 5, 128, MU_CC_RULE_RATIO, &v), 0);
    assert_false(v.pass);
    assert_close(v.ratio[0], pow(4.0, 0.2), 0, 1e-12);
    assert_int_equal(mu_coordcheck_judge(W5, l1, 5, 128, MU_CC_RULE_SLOPE, &v), 0);
    assert_true(v.pass);
    /* width^-0.3: log2 ratio = -0.6 fails the slope rule */
    for (int i = 0; i < 5; i++) l1[i] = pow((double)W5[i], -0.3);
    assert_int_equal(mu_coordcheck_judge(W5, l1, 5, 128, MU_CC_RULE_SLOPE, &v), 0);
    assert_false(v.pass);
    assert_close(v.worst, pow(4.0, -0.3), 0, 1e-12);
    assert_int_equal(mu_coordcheck_module_rule("h3.attn_logits"), MU_CC_RULE_SLOPE);
    assert_int_equal(mu_coordcheck_module_rule("h3.attn"), MU_CC_RULE_RATIO);
    assert_int_equal(mu_coordcheck_module_rule("logits"), MU_CC_RULE_RATIO);
}

/* Bounds are strict (1.2 fails), zeros, non-finite values, no pair at all. */
static void test_judge_edges(void **state) {
    const int32_t w[3] = {128, 256, 512};
    mu_cc_verdict_t v;
    double l1[3] = {1.0, 5.0, 1.2};
    assert_int_equal(mu_coordcheck_judge(w, l1, 3, 128, MU_CC_RULE_RATIO, &v), 0);
    assert_int_equal(v.n_pairs, 1);
    assert_false(v.pass); /* exactly 1.2 */
    l1[2] = 1.1999;
    assert_int_equal(mu_coordcheck_judge(w, l1, 3, 128, MU_CC_RULE_RATIO, &v), 0);
    assert_true(v.pass); /* 256 has no 4x partner: its 5.0 is never judged */
    double z[3] = {0.0, 0.0, 0.0};
    assert_int_equal(mu_coordcheck_judge(w, z, 3, 128, MU_CC_RULE_RATIO, &v), 0);
    assert_true(v.pass); /* identically zero at both widths */
    assert_close(v.ratio[0], 1.0, 0, 0);
    z[2] = 0.3;
    assert_int_equal(mu_coordcheck_judge(w, z, 3, 128, MU_CC_RULE_RATIO, &v), 0);
    assert_false(v.pass); /* zero against non-zero */
    double bad[3] = {1.0, 1.0, NAN};
    assert_int_equal(mu_coordcheck_judge(w, bad, 3, 128, MU_CC_RULE_SLOPE, &v), 0);
    assert_false(v.pass);
    assert_int_equal(mu_coordcheck_judge(w, l1, 3, 256, MU_CC_RULE_RATIO, &v), MU_EINVAL);
    assert_false(v.pass);
    assert_int_equal(mu_coordcheck_judge(w, l1, 3, 128, 7, &v), MU_EINVAL);
}

/* ---- end to end (library) -------------------------------------------------------------- */

static double at(const mu_coordcheck_result_t *r, int p, int wi, int t, const char *module) {
    for (int32_t k = 0; k < r->n_modules; k++)
        if (!strcmp(r->module[k], module)) return r->l1[mu_coordcheck_at(r, p, wi, t, k)];
    fail_msg("no module %s", module);
    return NAN;
}

/* Widths 32, 64, 128 (d_head 32: 1, 2, 4 heads), T 16, B 4, 2 seeds, random tokens: SP's
 * hidden outputs grow with width at init, μP's do not; embeddings are the same under both. */
static void test_coordcheck_tiny_end_to_end(void **state) {
    const int32_t widths[3] = {32, 64, 128};
    mu_coordcheck_config_t c = mu_coordcheck_config_default();
    c.widths = widths, c.n_widths = 3, c.seq_len = 16, c.batch = 4, c.n_seeds = 2, c.vocab = 64;
    int32_t x[64], y[64];
    random_tokens(x, 64, 64, 3);
    random_tokens(y, 64, 64, 4);
    mu_gemm_ctx_t *g = NULL;
    assert_int_equal(mu_gemm_ctx_init(&g, MU_ENGINE_OPENBLAS), 0);
    mu_coordcheck_result_t r;
    if (mu_coordcheck_run(&c, x, y, g, NULL, NULL, &r) != 0) fail_msg("%s", mu_last_error());
    assert_int_equal(r.n_widths, 3);
    assert_int_equal(r.n_steps, 3);
    assert_int_equal(r.n_modules, 11);
    assert_string_equal(r.module[0], "emb");
    assert_string_equal(r.module[10], "logits");
    for (int wi = 0; wi < 3; wi++) {
        /* the same init of wte/wpe under both: identical embedding statistics at t = 1 */
        assert_close(at(&r, MU_CC_SP, wi, 1, "emb"), at(&r, MU_CC_MUP, wi, 1, "emb"), 0, 1e-12);
        /* zero readout under both: the logits at init are exactly zero */
        assert_true(at(&r, MU_CC_SP, wi, 1, "logits") == 0.0 && at(&r, MU_CC_MUP, wi, 1, "logits") == 0.0);
        /* the loss at init is ln V exactly (uniform softmax) and falls after the updates */
        double l0 = r.loss[((size_t)MU_CC_MUP * 3 + (size_t)wi) * 3];
        assert_close(l0, log(64.0), 1e-5, 0);
        assert_true(r.loss[((size_t)MU_CC_MUP * 3 + (size_t)wi) * 3 + 2] < l0);
    }
    assert_true(r.l1_sd[mu_coordcheck_at(&r, MU_CC_MUP, 0, 1, 0)] > 0.0); /* two different seeds */
    const char *hidden[] = {"h0.attn", "h0.mlp", "h0.resid", "h1.attn", "h1.mlp", "h1.resid"};
    for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++) {
        double sp = at(&r, MU_CC_SP, 2, 1, hidden[i]) / at(&r, MU_CC_SP, 0, 1, hidden[i]);
        double mup = at(&r, MU_CC_MUP, 2, 1, hidden[i]) / at(&r, MU_CC_MUP, 0, 1, hidden[i]);
        if (!(fabs(log(mup)) < fabs(log(sp))))
            fail_msg("%s: μP ratio %g not closer to 1 than SP's %g", hidden[i], mup, sp);
        /* SP: attn and mlp outputs about ∝ width at init (3.5 and 4.2 measured per 4x); the
         * residual less, the width-independent embedding is part of it (1.38 measured) */
        assert_true(sp > (strstr(hidden[i], "resid") ? 1.2 : 2.5));
        assert_true(mup > 0.8 && mup < 1.25);    /* μP about flat */
    }
    mu_coordcheck_result_free(&r);
    assert_null(r.l1);
    /* config errors name the problem */
    const int32_t bad[2] = {48, 64};
    c.widths = bad, c.n_widths = 2;
    assert_int_equal(mu_coordcheck_run(&c, x, y, g, NULL, NULL, &r), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "48"));
    mu_gemm_ctx_free(g);
}

/* ---- the command line ------------------------------------------------------------------ */

static char dir[256];

static int run(const char *args, char *out, size_t cap) { return mu_test_run_muon(dir, 120, args, out, cap); }

static int cli_setup(void **state) {
    if (!getenv("MUON_BIN")) return 0;
    mu_test_tmpdir(dir, sizeof dir, "coordcheck");
    char p[512];
    snprintf(p, sizeof p, "%s/corpus.txt", dir);
    FILE *f = fopen(p, "w");
    if (!f) return -1;
    for (int i = 0; i < 20000; i++) fputc("the quick brown fox jumps over a lazy dog\n"[(i * 7 + i / 11) % 42], f);
    fclose(f);
    return 0;
}

static void test_cli_coordcheck(void **state) {
    if (!getenv("MUON_BIN")) skip();
    static char out[1 << 16];
    assert_int_equal(run("coordcheck --help", out, sizeof out), 0);
    assert_non_null(strstr(out, "--widths"));
    assert_int_equal(run("coordcheck --widths 64,abc", out, sizeof out), 2);
    assert_non_null(strstr(out, "--widths"));
    assert_int_equal(run("coordcheck --widths 64,128 --data corpus.txt", out, sizeof out), 2); /* no 4x pair */
    assert_non_null(strstr(out, "no pair"));
    /* the scratch directory has no ../shared/data/tinyshakespeare.txt */
    assert_int_equal(run("coordcheck --widths 32,128 --min-width 32", out, sizeof out), 2);
    assert_non_null(strstr(out, "no --data given"));
    assert_int_equal(run("coordcheck --data nonexistent.txt --widths 32,128 --min-width 32", out, sizeof out), 1);
    assert_non_null(strstr(out, "nonexistent.txt"));
    int rc = run("coordcheck --data corpus.txt --widths 32,64,128 --min-width 32 --seq-len 16 --batch 4 --seeds 2 "
                 "--n-layer 1 --threads 1 --out cc",
                 out, sizeof out);
    if (rc != 0 && rc != 1) fail_msg("exit %d:\n%s", rc, out);
    assert_non_null(strstr(out, "μP: "));
    assert_non_null(strstr(out, "SP: FAIL")); /* SP visibly fails even at tiny widths */
    /* the exit status is μP's verdict */
    assert_int_equal(rc, strstr(out, "μP: PASS") ? 0 : 1);
    /* CSV: header + 2 params x 3 widths x 3 steps x 7 modules (1 layer) */
    char p[512];
    snprintf(p, sizeof p, "%s/cc/coordcheck.csv", dir);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    char line[512];
    int lines = 0, mup_emb_128_t2 = 0;
    while (fgets(line, sizeof line, f)) {
        if (lines == 0) assert_string_equal(line, "param,width,t,module,l1,l1_sd,rms,max\n");
        if (!strncmp(line, "mup,128,2,emb,", 14)) mup_emb_128_t2 = atof(line + 14) > 0.0;
        lines++;
    }
    fclose(f);
    assert_int_equal(lines, 1 + 2 * 3 * 3 * 7);
    assert_true(mup_emb_128_t2);
    snprintf(p, sizeof p, "%s/cc/coordcheck.svg", dir);
    f = fopen(p, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = 0;
    fclose(f);
    assert_non_null(strstr(out, "<svg"));
    assert_non_null(strstr(out, "μP, t = 3"));
    assert_non_null(strstr(out, "h0.attn_logits"));
}

int main(int argc, char **argv) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_match_reference_forward),
        cmocka_unit_test(test_stats_emb_and_logits_by_hand),
        cmocka_unit_test(test_stats_max_attention_logit),
        cmocka_unit_test(test_stats_refusals),
        cmocka_unit_test(test_stats_thread_independent),
        cmocka_unit_test(test_judge_flat_passes),
        cmocka_unit_test(test_judge_sqrt_growth_fails),
        cmocka_unit_test(test_judge_slope_rule),
        cmocka_unit_test(test_judge_edges),
        cmocka_unit_test(test_coordcheck_tiny_end_to_end),
        cmocka_unit_test_setup(test_cli_coordcheck, cli_setup),
    };
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name(__FILE__, tests, NULL, NULL);
}

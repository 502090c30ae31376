/* test_diag.c — spectral diagnostics: power-iteration ‖W‖₂ against LAPACK's σ_max on random
 * matrices, a hand-built ΔW with known singular values (r_ΔW = 1 exactly), the fused qkv split
 * into three logical matrices, and the JSON object written to metrics.jsonl. */
#include <lapacke.h>

#include "cJSON.h"
#include "muon/diag.h"
#include "testutil.h"

/* σ_max of X (m, n) row-major by LAPACK (double SVD). */
static double sigma_max_ref(const float *X, int64_t m, int64_t n) {
    double *a = malloc((size_t)(m * n) * sizeof(double)), *s = malloc((size_t)(m < n ? m : n) * sizeof(double));
    for (int64_t i = 0; i < m * n; i++) a[i] = X[i];
    assert_int_equal(LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'N', (lapack_int)m, (lapack_int)n, a, (lapack_int)n, s, NULL,
                                    (lapack_int)m, NULL, (lapack_int)n),
                     0);
    double r = s[0];
    free(a), free(s);
    return r;
}

static mu_param_t hidden(const char *name, float *data, int64_t rows, int64_t cols, int32_t n_split) {
    mu_param_t p;
    memset(&p, 0, sizeof p);
    snprintf(p.name, sizeof p.name, "%s", name);
    p.ndim = 2, p.shape[0] = rows, p.shape[1] = cols, p.numel = rows * cols;
    p.role = MU_ROLE_HIDDEN, p.fan_in = cols, p.fan_out = rows, p.n_split = n_split, p.data = data;
    return p;
}

static float *randn(int64_t n, uint64_t seed, float std) {
    float *x = malloc((size_t)n * sizeof(float));
    mu_rng_t r;
    mu_rng_seed(&r, seed);
    for (int64_t i = 0; i < n; i++) x[i] = std * mu_rng_normal(&r);
    return x;
}

/* Gaussian matrices of three aspect ratios, plus a gain that must be ignored: 10 iterations
 * (40 on the cold start) within 1% of LAPACK (and never above it), warm start on a perturbed matrix
 * closer still; RMS and r_W = σ/s exact by definition. */
static void test_sigma_vs_lapack(void **s) {
    const int64_t shp[3][2] = {{64, 64}, {192, 48}, {40, 160}};
    float *w[3];
    mu_param_t p[4];
    for (int i = 0; i < 3; i++) {
        w[i] = randn(shp[i][0] * shp[i][1], 11 + i, 1.0f / sqrtf((float)shp[i][1]));
        p[i] = hidden("h", w[i], shp[i][0], shp[i][1], 1);
    }
    float g[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    p[3] = hidden("ln", g, 8, 1, 1);
    p[3].role = MU_ROLE_GAIN, p[3].ndim = 1;
    mu_diag_t *d;
    assert_int_equal(mu_diag_init(&d, p, 4, 10), MU_OK);
    assert_int_equal(mu_diag_n_records(d), 3);
    assert_int_equal(mu_diag_measure(d, NULL, NULL), MU_OK);
    const mu_diag_record_t *r = mu_diag_records(d);
    for (int i = 0; i < 3; i++) {
        double ref = sigma_max_ref(w[i], shp[i][0], shp[i][1]);
        assert_true(r[i].sigma_w <= ref * (1 + 1e-5));
        assert_close(r[i].sigma_w, ref, 0, 0.01);
        assert_close(r[i].s, sqrt((double)shp[i][0] / shp[i][1]), 0, 1e-12);
        assert_close(r[i].r_w, r[i].sigma_w / r[i].s, 0, 1e-12);
        double ss = 0;
        for (int64_t j = 0; j < shp[i][0] * shp[i][1]; j++) ss += (double)w[i][j] * w[i][j];
        assert_close(r[i].rms_w, sqrt(ss / (double)(shp[i][0] * shp[i][1])), 0, 1e-9);
        assert_true(isnan(r[i].sigma_dw) && isnan(r[i].r_dw));
    }
    /* a small perturbation: the warm start is already near the top singular vector */
    for (int i = 0; i < 3; i++) {
        float *e = randn(shp[i][0] * shp[i][1], 99 + i, 0.01f / sqrtf((float)shp[i][1]));
        for (int64_t j = 0; j < shp[i][0] * shp[i][1]; j++) w[i][j] += e[j];
        free(e);
    }
    assert_int_equal(mu_diag_measure(d, NULL, NULL), MU_OK);
    for (int i = 0; i < 3; i++) assert_close(r[i].sigma_w, sigma_max_ref(w[i], shp[i][0], shp[i][1]), 0, 0.003);
    mu_diag_free(d);
    for (int i = 0; i < 3; i++) free(w[i]);
}

/* W_after = ρ W_before + ΔW with ΔW = η s (u1 v1ᵀ + 0.5 u2 v2ᵀ), u, v orthonormal:
 * ‖ΔW‖₂ = η s exactly, so r_ΔW = 1 and rms_ΔW = η s sqrt(1.25 / (d_out d_in)). */
static void test_hand_built_update(void **s) {
    const int64_t m = 96, n = 24;
    const float eta = 0.02f, lambda = 0.1f, rho = 1 - eta * lambda;
    float *w = randn(m * n, 5, 0.2f), *w0 = malloc(m * n * sizeof(float));
    memcpy(w0, w, m * n * sizeof(float));
    mu_param_t p = hidden("transformer.h.0.mlp.c_proj.weight", w, m, n, 1);
    mu_diag_t *d;
    assert_int_equal(mu_diag_init(&d, &p, 1, 0), MU_OK); /* 0: default iterations */
    assert_int_equal(mu_diag_snapshot(d), MU_OK);
    double sc = eta * sqrt((double)m / n);
    /* u1 = e_0, u2 = e_3 (rows); v1 = (e_1 + e_2)/√2, v2 = (e_1 − e_2)/√2 (cols) */
    for (int64_t i = 0; i < m * n; i++) w[i] = rho * w0[i];
    const float h = (float)(1 / sqrt(2.0));
    w[0 * n + 1] += (float)sc * h, w[0 * n + 2] += (float)sc * h;
    w[3 * n + 1] += (float)(0.5 * sc) * h, w[3 * n + 2] -= (float)(0.5 * sc) * h;
    float lr = eta, decay = rho;
    assert_int_equal(mu_diag_measure(d, &lr, &decay), MU_OK);
    const mu_diag_record_t *r = mu_diag_records(d);
    assert_close(r->sigma_dw, sc, 0, 1e-3);
    assert_close(r->r_dw, 1.0, 0, 1e-3);
    assert_close(r->rms_dw, sc * sqrt(1.25 / (double)(m * n)), 0, 1e-3);
    /* without the decay factor the shrink −ηλW would count as update: r_ΔW far from 1 */
    assert_int_equal(mu_diag_snapshot(d), MU_OK);
    for (int64_t i = 0; i < m * n; i++) w[i] = rho * w[i];
    assert_int_equal(mu_diag_measure(d, &lr, NULL), MU_OK);
    double ref = (1 - rho) * sigma_max_ref(w, m, n) / rho; /* warm start from an unrelated ΔW */
    assert_true(r->sigma_dw <= ref * (1 + 1e-5));
    assert_close(r->sigma_dw, ref, 0, 0.03);
    assert_true(r->r_dw < 0.5);
    /* measure without a fresh snapshot: weights only */
    assert_int_equal(mu_diag_measure(d, &lr, &decay), MU_OK);
    assert_true(isnan(r->sigma_dw));
    /* no update at all: σ = 0 exactly */
    assert_int_equal(mu_diag_snapshot(d), MU_OK);
    decay = 1;
    assert_int_equal(mu_diag_measure(d, &lr, &decay), MU_OK);
    assert_close(r->sigma_dw, 0, 0, 0);
    assert_close(r->r_dw, 0, 0, 0);
    mu_diag_free(d);
    free(w), free(w0);
}

/* fused qkv (3C, C) = [A; 2A; 3A]: three records with σ in ratio 1:2:3, s = 1 each; the JSON
 * object parses and holds the three keys. */
static void test_qkv_split_and_json(void **s) {
    const int64_t C = 32;
    float *a = randn(C * C, 21, 1.0f / sqrtf((float)C)), *w = malloc(3 * C * C * sizeof(float));
    for (int k = 0; k < 3; k++)
        for (int64_t i = 0; i < C * C; i++) w[k * C * C + i] = (float)(k + 1) * a[i];
    float *fc = randn(4 * C * C, 22, 0.1f);
    mu_param_t p[2] = {hidden("transformer.h.0.attn.c_attn.weight", w, 3 * C, C, 3),
                       hidden("transformer.h.0.mlp.c_fc.weight", fc, 4 * C, C, 1)};
    mu_diag_t *d;
    assert_int_equal(mu_diag_init(&d, p, 2, 12), MU_OK);
    assert_int_equal(mu_diag_n_records(d), 4);
    assert_int_equal(mu_diag_snapshot(d), MU_OK);
    for (int64_t i = 0; i < 4 * C * C; i++) fc[i] *= 1.5f; /* ΔW = 0.5 W_before */
    float lr[2] = {0.01f, 0.01f};
    assert_int_equal(mu_diag_measure(d, lr, NULL), MU_OK);
    const mu_diag_record_t *r = mu_diag_records(d);
    double ref = sigma_max_ref(a, C, C);
    for (int k = 0; k < 3; k++) {
        char nm[128];
        snprintf(nm, sizeof nm, "transformer.h.0.attn.c_attn.weight[%d]", k);
        assert_string_equal(r[k].name, nm);
        assert_int_equal(r[k].view, k);
        assert_int_equal(r[k].d_out, C);
        assert_close(r[k].s, 1.0, 0, 0);
        assert_close(r[k].sigma_w, (k + 1) * ref, 0, 0.01);
        assert_close(r[k].sigma_dw, 0, 0, 0); /* qkv did not move */
    }
    assert_string_equal(r[3].name, "transformer.h.0.mlp.c_fc.weight");
    assert_close(r[3].s, 2.0, 0, 0);
    const double fc_ref = sigma_max_ref(fc, 4 * C, C); /* LAPACK, on the weights after the step */
    assert_close(r[3].sigma_w, fc_ref, 0, 0.01);
    assert_close(r[3].sigma_dw, fc_ref / 3, 0, 0.01); /* ΔW = W_after/3 */
    assert_close(r[3].r_dw, r[3].sigma_dw / (0.01 * 2.0), 0, 1e-6);

    char buf[4096];
    assert_int_equal(mu_diag_json(d, buf, sizeof buf), MU_OK);
    cJSON *o = cJSON_Parse(buf);
    assert_non_null(o);
    assert_int_equal(cJSON_GetObjectItem(o, "iters")->valueint, 12);
    cJSON *mats = cJSON_GetObjectItem(o, "mats");
    assert_int_equal(cJSON_GetArraySize(mats), 4);
    cJSON *v = cJSON_GetObjectItem(mats, "transformer.h.0.attn.c_attn.weight[1]");
    assert_non_null(v);
    assert_close(cJSON_GetObjectItem(v, "sigma_w")->valuedouble, r[1].sigma_w, 0, 1e-5);
    assert_close(cJSON_GetObjectItem(v, "r_dw")->valuedouble, 0, 0, 0);
    cJSON_Delete(o);
    /* weights only: ΔW fields are null */
    assert_int_equal(mu_diag_measure(d, NULL, NULL), MU_OK);
    assert_int_equal(mu_diag_json(d, buf, sizeof buf), MU_OK);
    o = cJSON_Parse(buf);
    assert_non_null(o);
    v = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "mats"), "transformer.h.0.mlp.c_fc.weight");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(v, "sigma_dw")));
    cJSON_Delete(o);
    assert_int_equal(mu_diag_json(d, buf, 40), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "bytes needed"));
    mu_diag_free(d);
    /* rows not divisible by n_split */
    p[0].shape[0] = 3 * C - 1;
    assert_int_equal(mu_diag_init(&d, p, 2, 8), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "c_attn"));
    free(a), free(w), free(fc);
}

/* Matrices are measured in parallel: σ's and ratios are bit-identical at 1, 2 and 3 threads
 * (4 init threads sized the scratch), and a NaN in one matrix is reported with its message. */
static void test_threads_and_errors(void **s) {
    enum { N = 5 };
    float *w[N];
    mu_param_t p[N];
    for (int i = 0; i < N; i++) {
        w[i] = randn(96 * (32 + 16 * i), 50 + i, 0.1f);
        p[i] = hidden("h", w[i], 96, 32 + 16 * i, 1);
    }
    const int32_t saved = mu_threads_get(), thr[3] = {1, 2, 3};
    double sig[3][N];
    assert_int_equal(mu_threads_set(4), MU_OK);
    mu_diag_t *d[3];
    for (int k = 0; k < 3; k++) assert_int_equal(mu_diag_init(&d[k], p, N, 8), MU_OK);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(mu_threads_set(thr[k]), MU_OK);
        assert_int_equal(mu_diag_measure(d[k], NULL, NULL), MU_OK);
        assert_int_equal(mu_diag_measure(d[k], NULL, NULL), MU_OK); /* warm */
        for (int i = 0; i < N; i++) sig[k][i] = mu_diag_records(d[k])[i].sigma_w;
    }
    for (int k = 1; k < 3; k++) assert_memory_equal(sig[0], sig[k], sizeof sig[0]);
    for (int i = 0; i < N; i++) assert_close(sig[0][i], sigma_max_ref(w[i], 96, 32 + 16 * i), 0, 0.01);
    w[3][7] = NAN;
    assert_int_equal(mu_threads_set(3), MU_OK);
    assert_int_not_equal(mu_diag_measure(d[2], NULL, NULL), MU_OK);
    assert_non_null(strstr(mu_last_error(), "NaN"));
    mu_threads_set(saved);
    for (int k = 0; k < 3; k++) mu_diag_free(d[k]);
    for (int i = 0; i < N; i++) free(w[i]);
}

int main(int argc, char **argv) {
    const struct CMUnitTest group[] = {
        cmocka_unit_test(test_sigma_vs_lapack),
        cmocka_unit_test(test_hand_built_update),
        cmocka_unit_test(test_qkv_split_and_json),
        cmocka_unit_test(test_threads_and_errors),
    };
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name(__FILE__, group, NULL, NULL);
}

/* test_diag_optim.c — the diagnostics read from the optimizer and the model (--diag-every):
 * the orthogonality residual ‖O Oᵀ − I‖_F / sqrt(r) of a hand-built matrix and of real Muon
 * steps (ns5 against a double Newton–Schulz reference, exact polar ≈ 0), per-group gradient
 * norms by hand, singular-value quantiles of momentum buffers by hand (SGD, AdamW, Muon
 * conventions), the optional JSON parts, and the training loop's metrics lines. */
#include "testutil.h"

#include "cJSON.h"
#include "muon/diag.h"
#include "muon/optim.h"
#include "muon/train.h"
#include "optim/probe.h"
#include "train/state.h"
#include "optim_ref.h"

/* ‖X Xᵀ − I‖_F / sqrt(r) in double, X (m, n) row-major, Gram on the short side. */
static double resid_ref(const double *X, int64_t m, int64_t n) {
    const int64_t r = m < n ? m : n;
    double e = 0;
    for (int64_t a = 0; a < r; a++)
        for (int64_t b = 0; b < r; b++) {
            double g = 0;
            if (m <= n)
                for (int64_t k = 0; k < n; k++) g += X[a * n + k] * X[b * n + k];
            else
                for (int64_t k = 0; k < m; k++) g += X[k * n + a] * X[k * n + b];
            g -= a == b;
            e += g * g;
        }
    return sqrt(e / (double)r);
}

/* X = [diag(1, 0.5, 2) | 0] (3, 5): X Xᵀ = diag(1, 0.25, 4), ‖· − I‖²_F = 0 + 0.5625 + 9 = 9.5625,
 * residual sqrt(9.5625/3) = 1.7853571; its transpose (5, 3) the same. A record with two views
 * (that one and an exact orthogonal one) combines as sqrt(Σe / Σr) = sqrt(9.5625/6). */
static void test_probe_by_hand(void **st) {
    reg_t r = {0};
    reg_add(&r, "h.0.attn.c_attn.weight", MU_ROLE_HIDDEN, 2, 6, 5);
    float X[15] = {0}, T[15] = {0}, Q[15] = {0};
    X[0 * 5 + 0] = 1, X[1 * 5 + 1] = 0.5f, X[2 * 5 + 2] = 2;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 5; j++) T[j * 3 + i] = X[i * 5 + j];
    Q[0 * 5 + 4] = 1, Q[1 * 5 + 2] = -1, Q[2 * 5 + 0] = 1; /* orthonormal rows */
    mu_gemm_ctx_t *g = gemm_ctx();
    mu_probe_t *pr;
    assert_int_equal(mu_probe_create(&pr, r.p, r.n), MU_OK);
    assert_true(isnan(mu_probe_orth_residual(pr, 0, 0, 6)));
    assert_int_equal(mu_probe_orth(pr, g, &r.p[0], 0, X, 3, 5), MU_OK);
    assert_int_equal(mu_probe_orth(pr, g, &r.p[0], 3, Q, 3, 5), MU_OK);
    mu_param_t stranger = r.p[0]; /* not a registry record: ignored */
    assert_int_equal(mu_probe_orth(pr, g, &stranger, 0, X, 3, 5), MU_OK);
    assert_close(mu_probe_orth_residual(pr, 0, 0, 3), 1.7853571, 1e-6, 0);
    assert_close(mu_probe_orth_residual(pr, 0, 3, 3), 0.0, 1e-7, 0);
    assert_close(mu_probe_orth_residual(pr, 0, 0, 6), sqrt(9.5625 / 6), 1e-6, 0);
    assert_close(mu_probe_orth_residual(pr, 0, 2, 2), sqrt(9.5625 / 6), 1e-6, 0); /* overlaps both */
    assert_true(isnan(mu_probe_orth_residual(pr, 1, 0, 3)));
    mu_probe_clear(pr);
    assert_true(isnan(mu_probe_orth_residual(pr, 0, 0, 6)));
    assert_int_equal(mu_probe_orth(pr, g, &r.p[0], 0, T, 5, 3), MU_OK); /* tall: Gram Xᵀ X */
    assert_close(mu_probe_orth_residual(pr, 0, 0, 5), 1.7853571, 1e-6, 0);
    mu_probe_free(pr);
    mu_gemm_ctx_free(g);
    reg_free(&r);
}

/* Muon's first step from zero state orthogonalizes U = (1−β)(1+β) G (Nesterov ema); ns5
 * normalizes by ‖U‖_F, so O = ns5(G) per logical matrix (three (8, 8) of a fused qkv, and a
 * (16, 8) matrix). The probed residuals match the double reference; the exact polar factor
 * gives ≈ 0; probing does not change the step (weights bit-identical to an unprobed run). */
static void test_orth_residual_muon(void **st) {
    const int64_t C = 8;
    mu_gemm_ctx_t *g = gemm_ctx();
    const char *presets[2] = {"muon", "muon-exact"};
    for (int k = 0; k < 2; k++) {
        reg_t r[2];
        memset(r, 0, sizeof r);
        mu_optim_t *o[2];
        for (int q = 0; q < 2; q++) {
            mu_param_t *p = reg_add(&r[q], "h.0.attn.c_attn.weight", MU_ROLE_HIDDEN, 2, 3 * C, C);
            p->n_split = 3;
            reg_add(&r[q], "h.0.mlp.c_proj.weight", MU_ROLE_HIDDEN, 2, 2 * C, C);
            for (int32_t i = 0; i < 2; i++) {
                fill_lcg(r[q].p[i].data, r[q].p[i].numel, 3, (uint64_t)i, 0.2f);
                fill_lcg(r[q].p[i].grad, r[q].p[i].numel, 4, (uint64_t)i, 1.0f);
            }
            mu_optim_config_t c = cfg_of(presets[k]);
            assert_int_equal(mu_optim_init(&o[q], &c, r[q].p, r[q].n, g), MU_OK);
        }
        assert_int_equal(mu_optim_probe(o[0], 1), MU_OK);
        for (int q = 0; q < 2; q++) assert_int_equal(mu_optim_step(o[q], 1.0f), MU_OK);
        for (int32_t i = 0; i < 2; i++)
            assert_memory_equal(r[0].p[i].data, r[1].p[i].data, sizeof(float) * (size_t)r[0].p[i].numel);
        assert_true(isnan(mu_optim_orth_residual(o[1], 0, 0, C))); /* never probed */
        /* references per logical matrix */
        const int64_t views[4][3] = {{0, 0, C}, {0, C, C}, {0, 2 * C, C}, {1, 0, 2 * C}}; /* param, row0, rows */
        for (int v = 0; v < 4; v++) {
            const mu_param_t *p = &r[0].p[views[v][0]];
            const int64_t m = views[v][2], n = C;
            double *X = malloc(sizeof(double) * (size_t)(m * n)), *O = malloc(sizeof(double) * (size_t)(m * n));
            for (int64_t j = 0; j < m * n; j++) X[j] = p->grad[views[v][1] * n + j];
            if (k == 0) ref_poly(X, m, n, 0, 5, O);
            else ref_polar(X, m, n, O);
            const double want = resid_ref(O, m, n), got = mu_optim_orth_residual(o[0], (int32_t)views[v][0], views[v][1], m);
            if (k == 0) {
                assert_true(want > 0.05); /* ns5 is far from orthogonal: a real signal */
                assert_close(got, want, 2e-4, 1e-3);
            } else {
                assert_close(got, 0.0, 2e-5, 0);
            }
            free(X), free(O);
        }
        /* the diag object maps logical matrices onto them */
        mu_diag_t *d;
        assert_int_equal(mu_diag_init(&d, r[0].p, 2, 8), MU_OK);
        assert_int_equal(mu_diag_n_records(d), 4);
        assert_int_equal(mu_diag_orth(d, o[0]), MU_OK);
        for (int v = 0; v < 4; v++)
            assert_close(mu_diag_records(d)[v].orth_resid,
                         mu_optim_orth_residual(o[0], (int32_t)views[v][0], views[v][1], views[v][2]), 0, 0);
        mu_diag_reset(d);
        assert_true(isnan(mu_diag_records(d)[0].orth_resid));
        mu_diag_free(d);
        for (int q = 0; q < 2; q++) mu_optim_free(o[q]), reg_free(&r[q]);
    }
    assert_int_equal(mu_optim_probe(NULL, 1), MU_EINVAL);
    mu_gemm_ctx_free(g);
}

/* Gradients 1 (embed 3x2), 2 (hidden 2x3), 3 (gain 2), 4 (bias 2): sums of squares 6, 24, 18, 32.
 * adamw groups: decay {embed, hidden} sqrt(30), no_decay {gain, bias} sqrt(50); muon: matrix
 * sqrt(24), aux_decay sqrt(6), aux_no_decay sqrt(50). Σ norms² = the clip norm² = 80. */
static void test_group_norms_by_hand(void **st) {
    reg_t r = {0};
    reg_add(&r, "wte", MU_ROLE_EMBED, 2, 3, 2);
    reg_add(&r, "h.0.mlp.c_fc.weight", MU_ROLE_HIDDEN, 2, 2, 3);
    reg_add(&r, "h.0.ln_1.weight", MU_ROLE_GAIN, 1, 2, 1);
    reg_add(&r, "h.0.ln_1.bias", MU_ROLE_BIAS, 1, 2, 1);
    for (int32_t k = 0; k < r.n; k++)
        for (int64_t i = 0; i < r.p[k].numel; i++) r.p[k].grad[i] = (float)(k + 1);
    mu_gemm_ctx_t *g = gemm_ctx();
    const char *presets[2] = {"adamw", "muon"};
    const char *names[2][3] = {{"decay", "no_decay", NULL}, {"matrix", "aux_decay", "aux_no_decay"}};
    const double want[2][3] = {{sqrt(30.0), sqrt(50.0), 0}, {sqrt(24.0), sqrt(6.0), sqrt(50.0)}};
    for (int k = 0; k < 2; k++) {
        mu_optim_config_t c = cfg_of(presets[k]);
        mu_optim_t *o;
        assert_int_equal(mu_optim_init(&o, &c, r.p, r.n, g), MU_OK);
        mu_diag_t *d;
        assert_int_equal(mu_diag_init(&d, r.p, r.n, 0), MU_OK);
        assert_int_equal(mu_diag_n_groups(d), 0);
        assert_int_equal(mu_diag_group_norms(d, o), MU_OK);
        const int32_t ng = mu_diag_n_groups(d);
        assert_int_equal(ng, k == 0 ? 2 : 3);
        double sum = 0;
        for (int32_t j = 0; j < ng; j++) {
            assert_string_equal(mu_diag_groups(d)[j].name, names[k][j]);
            assert_close(mu_diag_groups(d)[j].grad_norm, want[k][j], 1e-12, 0);
            sum += mu_diag_groups(d)[j].grad_norm * mu_diag_groups(d)[j].grad_norm;
        }
        float norm;
        assert_int_equal(mu_optim_clip_grad(r.p, r.n, 0, &norm), MU_OK);
        assert_close(sum, 80.0, 1e-9, 0);
        assert_close((double)norm * norm, sum, 0, 1e-6);
        char buf[2048];
        assert_int_equal(mu_diag_json(d, buf, sizeof buf), MU_OK);
        cJSON *j = cJSON_Parse(buf);
        assert_non_null(j);
        cJSON *gj = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "groups"), names[k][0]);
        assert_close(cJSON_GetObjectItem(gj, "grad_norm")->valuedouble, want[k][0], 1e-5, 0);
        cJSON_Delete(j);
        mu_diag_reset(d);
        assert_int_equal(mu_diag_n_groups(d), 0);
        assert_int_equal(mu_diag_json(d, buf, sizeof buf), MU_OK);
        assert_null(strstr(buf, "groups"));
        mu_diag_free(d);
        mu_optim_free(o);
    }
    assert_null(mu_optim_group_name(NULL, 0));
    assert_int_equal(mu_optim_n_groups(NULL), 0);
    mu_gemm_ctx_free(g);
    reg_free(&r);
}

/* G (5, 4) = [diag(4, 3, 2, 1); 0]: singular values 1..4; quantile positions q·3: min 1, p10
 * 1.3, p50 2.5, p90 3.7, max 4. After one step the momentum is G (sgd: M = βM + G), 0.1 G
 * (adamw: m = (1−β1) G) or 0.05 G (muon: ema with β = 0.95). */
static void test_quantiles_by_hand(void **st) {
    const char *presets[3] = {"sgd", "adamw", "muon"};
    const double scale[3] = {1.0, 0.1, 0.05}, q[5] = {1.0, 1.3, 2.5, 3.7, 4.0};
    mu_gemm_ctx_t *g = gemm_ctx();
    for (int k = 0; k < 3; k++) {
        reg_t r = {0};
        mu_param_t *p = reg_add(&r, "h.0.mlp.c_proj.weight", MU_ROLE_HIDDEN, 2, 5, 4);
        for (int i = 0; i < 4; i++) p->grad[i * 4 + i] = (float)(4 - i);
        mu_optim_config_t c = cfg_of(presets[k]);
        mu_optim_t *o;
        assert_int_equal(mu_optim_init(&o, &c, r.p, r.n, g), MU_OK);
        assert_int_equal(mu_optim_step(o, 1.0f), MU_OK);
        const float *M;
        assert_int_equal(mu_optim_momentum(o, 0, &M), MU_OK);
        assert_close(M[0], 4.0 * scale[k], 1e-7, 1e-6);
        mu_diag_t *d;
        assert_int_equal(mu_diag_init(&d, r.p, 1, 0), MU_OK);
        assert_true(isnan(mu_diag_records(d)[0].sv_q[2]));
        assert_int_equal(mu_diag_quantiles(d, o), MU_OK);
        for (int j = 0; j < 5; j++) assert_close(mu_diag_records(d)[0].sv_q[j], q[j] * scale[k], 1e-6, 1e-5);
        char buf[2048];
        assert_int_equal(mu_diag_json(d, buf, sizeof buf), MU_OK);
        cJSON *j = cJSON_Parse(buf);
        cJSON *sv = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "mats"), p->name), "sv_q");
        assert_int_equal(cJSON_GetArraySize(sv), 5);
        assert_close(cJSON_GetArrayItem(sv, 3)->valuedouble, 3.7 * scale[k], 1e-5, 1e-5);
        cJSON_Delete(j);
        assert_int_equal(mu_optim_momentum(o, 1, &M), MU_EINVAL);
        mu_diag_free(d);
        mu_optim_free(o);
        reg_free(&r);
    }
    mu_gemm_ctx_free(g);
}

/* Module statistics of a tiny model's forward land in the JSON: one entry per module, "max" on
 * the attention logits (the layer's largest score), the values of mu_gpt_module_stats. */
static void test_modules_json(void **st) {
    mu_gpt_config_t c = mu_gpt_config_default();
    c.n_layer = 2, c.n_head = 2, c.d_model = 16, c.seq_len = 8, c.vocab = 11;
    mu_gemm_ctx_t *g = gemm_ctx();
    mu_gpt_t *m;
    assert_int_equal(mu_gpt_init(&m, &c, 2, g), MU_OK);
    assert_int_equal(mu_gpt_init_weights(m, 5), MU_OK);
    int32_t x[16], y[16];
    for (int i = 0; i < 16; i++) x[i] = (i * 3) % 11, y[i] = (i * 5 + 1) % 11;
    float loss;
    assert_int_equal(mu_gpt_forward(m, x, y, 2, 8, &loss), MU_OK);
    mu_diag_t *d;
    assert_int_equal(mu_diag_init(&d, mu_gpt_params(m), mu_gpt_n_params(m), 0), MU_OK);
    assert_int_equal(mu_diag_module_stats(d, m), MU_OK);
    assert_int_equal(mu_diag_n_modules(d), 3 + 4 * 2);
    mu_gpt_module_stat_t ref[16];
    int32_t n = 0;
    assert_int_equal(mu_gpt_module_stats(m, ref, 16, &n), MU_OK);
    size_t cap = 1 << 16;
    char *buf = malloc(cap);
    assert_int_equal(mu_diag_json(d, buf, cap), MU_OK);
    cJSON *j = cJSON_Parse(buf);
    assert_non_null(j);
    cJSON *mods = cJSON_GetObjectItem(j, "modules");
    assert_int_equal(cJSON_GetArraySize(mods), n);
    int logits = 0;
    for (int32_t k = 0; k < n; k++) {
        cJSON *e = cJSON_GetObjectItem(mods, ref[k].name);
        assert_non_null(e);
        assert_close(cJSON_GetObjectItem(e, "rms")->valuedouble, ref[k].rms, 0, 1e-5);
        if (strstr(ref[k].name, "attn_logits")) {
            assert_close(cJSON_GetObjectItem(e, "max")->valuedouble, ref[k].max, 1e-6, 1e-5);
            logits++;
        } else {
            assert_null(cJSON_GetObjectItem(e, "max"));
        }
    }
    assert_int_equal(logits, 2);
    cJSON_Delete(j);
    free(buf);
    mu_diag_free(d);
    mu_gpt_free(m);
    mu_gemm_ctx_free(g);
}

/* The loop: muon with --diag-every 2 --diag-quantiles on a tiny run. Each diag line has the
 * groups (Σ grad_norm² = the line's pre-clip grad_norm²), an orth residual in (0, 1) for every
 * hidden matrix (ns5's singular values lie in about [0.7, 1.2]), ascending quantiles and the
 * module statistics. The diagnostics do not change the run: the final weights file is the same
 * bytes as a run without them. */
static void test_loop_metrics(void **st) {
    char dir[256], data[512], out[512];
    mu_test_tmpdir(dir, sizeof dir, "diagopt");
    assert_true(dir[0]);
    snprintf(data, sizeof data, "%s/corpus.txt", dir);
    snprintf(out, sizeof out, "%s/run", dir);
    FILE *f = fopen(data, "w");
    assert_non_null(f);
    for (int i = 0; i < 3000; i++) fputs(i % 5 ? "the red cat sat " : "on the mat.\n", f);
    fclose(f);
    mu_train_config_t c = mu_train_config_default();
    c.data = data, c.out = out;
    c.model.n_layer = 2, c.model.n_head = 2, c.model.d_model = 16, c.model.seq_len = 16, c.model.vocab = 256;
    c.batch = 4, c.steps = 4, c.threads = 2, c.gemm = MU_ENGINE_OPENBLAS;
    c.eval_every = 0, c.ckpt_mode = 0, c.log_every = 100;
    assert_int_equal(mu_optim_config_for_preset("muon", &c.optim), MU_OK);
    c.diag_every = 2, c.diag_quantiles = 1;
    mu_train_result_t res;
    assert_int_equal(mu_train_run(&c, NULL, NULL, &res), MU_OK);
    char p[600], *buf;
    size_t len;
    snprintf(p, sizeof p, "%s/metrics.jsonl", out);
    assert_int_equal(mu_file_read_all(p, (void **)&buf, &len), MU_OK);
    int lines = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *j = cJSON_Parse(line);
        assert_non_null(j);
        cJSON *dg = cJSON_GetObjectItem(j, "diag");
        if (!dg) {
            cJSON_Delete(j);
            continue;
        }
        lines++;
        double gn = cJSON_GetObjectItem(j, "grad_norm")->valuedouble, sum = 0;
        cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItem(dg, "groups")) {
            double v = cJSON_GetObjectItem(e, "grad_norm")->valuedouble;
            sum += v * v;
        }
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(dg, "groups")), 3);
        assert_close(sqrt(sum), gn, 0, 2e-5);
        int mats = 0;
        cJSON_ArrayForEach(e, cJSON_GetObjectItem(dg, "mats")) {
            double res_o = cJSON_GetObjectItem(e, "orth_resid")->valuedouble;
            assert_true(res_o > 0 && res_o < 1);
            cJSON *sv = cJSON_GetObjectItem(e, "sv_q");
            assert_int_equal(cJSON_GetArraySize(sv), 5);
            for (int q = 1; q < 5; q++)
                assert_true(cJSON_GetArrayItem(sv, q)->valuedouble >= cJSON_GetArrayItem(sv, q - 1)->valuedouble);
            assert_true(cJSON_GetArrayItem(sv, 0)->valuedouble > 0);
            mats++;
        }
        assert_int_equal(mats, 2 * 6);
        cJSON *mods = cJSON_GetObjectItem(dg, "modules");
        assert_int_equal(cJSON_GetArraySize(mods), 3 + 4 * 2);
        assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(mods, "h1.attn_logits"), "max"));
        assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(mods, "emb"), "rms")->valuedouble > 0);
        cJSON_Delete(j);
    }
    assert_int_equal(lines, 2);
    free(buf);
    char out2[600], w1[700], w2[700];
    snprintf(out2, sizeof out2, "%s/run-nodiag", dir);
    c.out = out2, c.diag_every = 0;
    assert_int_equal(mu_train_run(&c, NULL, NULL, &res), MU_OK);
    snprintf(w1, sizeof w1, "%s/model.safetensors", out);
    snprintf(w2, sizeof w2, "%s/model.safetensors", out2);
    uint64_t s1, s2;
    assert_int_equal(mu_file_checksum(w1, &s1), MU_OK);
    assert_int_equal(mu_file_checksum(w2, &s2), MU_OK);
    assert_true(s1 == s2);
    c.diag_every = 2, c.diag_quantiles = 2;
    assert_int_equal(mu_train_run(&c, NULL, NULL, &res), MU_EINVAL);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_probe_by_hand),       cmocka_unit_test(test_orth_residual_muon),
    cmocka_unit_test(test_group_norms_by_hand), cmocka_unit_test(test_quantiles_by_hand),
    cmocka_unit_test(test_modules_json),        cmocka_unit_test(test_loop_metrics),
};

MU_TEST_MAIN(tests)

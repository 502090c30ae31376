/* test_mup.c — μP on the optimizer and checkpoint side: the per-role LR table for every
 * optimizer family (Adam-like, SGD, orthogonalized), the multipliers a real optimizer applies
 * to each registry record, the effective first-step LR, and a μP checkpoint that evaluates
 * bit-identically after reload (multipliers stored in the __metadata__ config). */
#include <unistd.h>

#include "testutil.h"

#include "muon/model.h"
#include "muon/optim.h"
#include "muon/train.h"

static mu_gpt_config_t mup_cfg(void) {
    mu_gpt_config_t c = mu_gpt_config_default();
    c.n_layer = 2, c.n_head = 2, c.d_model = 16, c.seq_len = 6, c.vocab = 13, c.bias = 1, c.tie = 0;
    c.param = MU_PARAM_MUP, c.base_width = 4; /* m = 4 */
    c.alpha_in = 1.5f, c.alpha_out = 3.0f, c.alpha_attn = 2.5f;
    return c;
}

typedef struct {
    mu_gemm_ctx_t *g;
    mu_gpt_t *m;
} model_t;

static model_t make(mu_gpt_config_t c, uint64_t seed) {
    model_t r = {NULL, NULL};
    assert_int_equal(mu_gemm_ctx_init(&r.g, MU_ENGINE_OPENBLAS), 0);
    assert_int_equal(mu_gpt_init(&r.m, &c, 2, r.g), 0);
    assert_int_equal(mu_gpt_init_weights(r.m, seed), 0);
    return r;
}

static void drop(model_t *r) {
    mu_gpt_free(r->m);
    mu_gemm_ctx_free(r->g);
}

/* The table of spec §2 at m = 4, every role and family. */
static void test_lr_table(void **state) {
    const float m = 4.0f;
    /* roles: embed, hidden, head, gain, bias */
    const float adam[5] = {1, 0.25f, 1, 1, 1}, sgd[5] = {4, 1, 0.25f, 4, 4}, orth[5] = {1, 1, 1, 1, 1};
    for (int r = 0; r <= MU_ROLE_BIAS; r++) {
        assert_true(mu_mup_lr_mult(MU_MUP_FAMILY_ADAM, r, m) == adam[r]);
        assert_true(mu_mup_lr_mult(MU_MUP_FAMILY_SGD, r, m) == sgd[r]);
        assert_true(mu_mup_lr_mult(MU_MUP_FAMILY_ORTH, r, m) == orth[r]);
        /* at the base width μP changes nothing */
        assert_true(mu_mup_lr_mult(MU_MUP_FAMILY_ADAM, r, 1.0f) == 1.0f);
        assert_true(mu_mup_lr_mult(MU_MUP_FAMILY_SGD, r, 1.0f) == 1.0f);
    }
}

/* expected multiplier of a record for a preset at m = 4 */
static float expect_mult(const char *preset, const mu_param_t *p) {
    if (!strcmp(preset, "adamw") || !strcmp(preset, "lion")) return p->role == MU_ROLE_HIDDEN ? 0.25f : 1.0f;
    if (!strcmp(preset, "sgd")) return p->role == MU_ROLE_HIDDEN ? 1.0f : p->role == MU_ROLE_HEAD ? 0.25f : 4.0f;
    return 1.0f; /* muon, muonpp, scion: hidden orthogonalized (update scaled by s), the rest AdamW const */
}

static void test_optim_multipliers(void **state) {
    model_t r = make(mup_cfg(), 1);
    mu_param_t *p = mu_gpt_params(r.m);
    int32_t n = mu_gpt_n_params(r.m);
    const char *presets[] = {"adamw", "sgd", "muon", "muonpp", "lion", "scion"};
    for (size_t k = 0; k < sizeof presets / sizeof presets[0]; k++) {
        for (int param = 0; param <= 1; param++) {
            mu_optim_config_t oc;
            assert_int_equal(mu_optim_config_for_preset(presets[k], &oc), 0);
            oc.param = param;
            oc.width_mult = mu_gpt_width_mult(mu_gpt_config(r.m));
            assert_true(oc.width_mult == 4.0f);
            mu_optim_t *o = NULL;
            if (mu_optim_init(&o, &oc, p, n, r.g) != 0) fail_msg("%s: %s", presets[k], mu_last_error());
            for (int32_t i = 0; i < n; i++) {
                float want = param ? expect_mult(presets[k], &p[i]) : 1.0f;
                if (mu_optim_param_lr_mult(o, i) != want)
                    fail_msg("%s param=%d %s: multiplier %g, expected %g", presets[k], param, p[i].name,
                             (double)mu_optim_param_lr_mult(o, i), (double)want);
            }
            mu_optim_free(o);
        }
    }
    /* bad width_mult under μP is refused with the field's name */
    mu_optim_config_t oc = mu_optim_config_default();
    oc.param = 1, oc.width_mult = 0.0f;
    mu_optim_t *o = NULL;
    assert_int_equal(mu_optim_init(&o, &oc, p, n, r.g), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "width_mult"));
    drop(&r);
}

/* One SGD step without momentum history and without WD: W1 = W0 - lr*mult*g exactly, with
 * mult from the table; one AdamW step: |ΔW| = lr*mult (Adam's first step is ±1 per entry). */
static void test_effective_lr(void **state) {
    model_t r = make(mup_cfg(), 2);
    mu_param_t *p = mu_gpt_params(r.m);
    int32_t n = mu_gpt_n_params(r.m);
    int32_t x[12], y[12];
    for (int i = 0; i < 12; i++) x[i] = (i * 5) % 13, y[i] = (i * 7 + 3) % 13;
    const char *presets[] = {"sgd", "adamw"};
    for (int k = 0; k < 2; k++) {
        mu_optim_config_t oc;
        assert_int_equal(mu_optim_config_for_preset(presets[k], &oc), 0);
        oc.param = 1, oc.width_mult = 4.0f, oc.weight_decay = 0.0f, oc.lr = 0.01f, oc.eps = 0.0f;
        mu_optim_t *o = NULL;
        assert_int_equal(mu_optim_init(&o, &oc, p, n, r.g), 0);
        mu_gpt_zero_grad(r.m);
        float loss;
        assert_int_equal(mu_gpt_forward(r.m, x, y, 2, 6, &loss), 0);
        assert_int_equal(mu_gpt_backward(r.m, 1.0f), 0);
        int64_t tot = mu_gpt_numel(r.m);
        float *w0 = malloc((size_t)tot * 4);
        memcpy(w0, p[0].data, (size_t)tot * 4);
        assert_int_equal(mu_optim_step(o, 1.0f), 0);
        int checked = 0;
        for (int32_t i = 0; i < n; i++) {
            float mult = expect_mult(presets[k], &p[i]);
            const float *a = w0 + (p[i].data - p[0].data);
            for (int64_t j = 0; j < p[i].numel; j++) {
                float g = p[i].grad[j];
                if (g == 0.0f) continue;
                double dw = (double)p[i].data[j] - a[j];
                double want = k == 0 ? -(double)oc.lr * mult * g : -(double)oc.lr * mult * (g > 0 ? 1 : -1);
                if (fabs(dw - want) > 1e-6 * fabs(want) + 2e-7 * fabs(a[j]) + 1e-9)
                    fail_msg("%s %s[%lld]: dW %.9g, expected %.9g", presets[k], p[i].name, (long long)j, dw, want);
                checked++;
            }
        }
        assert_true(checked > 1000);
        free(w0);
        mu_optim_free(o);
    }
    drop(&r);
}

/* A μP checkpoint: every config field survives, and the reloaded model's loss is the same bits. */
static void test_ckpt_roundtrip(void **state) {
    char dir[256], path[320];
    mu_test_tmpdir(dir, sizeof dir, "mup");
    assert_true(dir[0]);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    mu_gpt_config_t c = mup_cfg();
    c.mup_init = MU_MUP_INIT_ORTHOGONAL, c.zero_query = 1;
    model_t a = make(c, 9);
    /* move the weights away from the zero query so the attention multiplier matters */
    mu_param_t *p = mu_gpt_params(a.m);
    for (int32_t i = 0; i < mu_gpt_n_params(a.m); i++)
        for (int64_t j = 0; j < p[i].numel; j++) p[i].data[j] += 0.05f * (float)((j * 7 + i) % 5 - 2);
    int32_t x[12], y[12];
    for (int i = 0; i < 12; i++) x[i] = (i * 3) % 13, y[i] = (i * 11 + 1) % 13;
    float l0, l1;
    assert_int_equal(mu_gpt_forward(a.m, x, y, 2, 6, &l0), 0);
    assert_int_equal(mu_ckpt_save_weights(path, a.m, NULL, NULL, 0), 0);
    mu_gpt_config_t rc;
    assert_int_equal(mu_ckpt_read_config(path, &rc), 0);
    assert_int_equal(rc.param, MU_PARAM_MUP);
    assert_int_equal(rc.base_width, 4);
    assert_int_equal(rc.mup_init, MU_MUP_INIT_ORTHOGONAL);
    assert_true(rc.alpha_in == 1.5f && rc.alpha_out == 3.0f && rc.alpha_attn == 2.5f);
    assert_int_equal(rc.zero_query, 1);
    assert_int_equal(rc.zero_readout, 0);
    model_t b = {NULL, NULL};
    assert_int_equal(mu_gemm_ctx_init(&b.g, MU_ENGINE_OPENBLAS), 0);
    assert_int_equal(mu_gpt_init(&b.m, &rc, 2, b.g), 0);
    assert_int_equal(mu_ckpt_load_weights(path, b.m), 0);
    assert_int_equal(mu_gpt_forward(b.m, x, y, 2, 6, &l1), 0);
    assert_true(l0 == l1);
    /* the multipliers are part of the model: read as SP, the same weights give another loss */
    mu_gpt_config_t sp = rc;
    sp.param = MU_PARAM_SP;
    model_t s = {NULL, NULL};
    assert_int_equal(mu_gemm_ctx_init(&s.g, MU_ENGINE_OPENBLAS), 0);
    assert_int_equal(mu_gpt_init(&s.m, &sp, 2, s.g), 0);
    assert_int_equal(mu_ckpt_load_weights(path, s.m), 0);
    float l2;
    assert_int_equal(mu_gpt_forward(s.m, x, y, 2, 6, &l2), 0);
    assert_true(fabsf(l2 - l0) > 1e-3f);
    /* an SP checkpoint reads back as SP */
    char p2[320];
    snprintf(p2, sizeof p2, "%s/sp.safetensors", dir);
    assert_int_equal(mu_ckpt_save_weights(p2, s.m, NULL, NULL, 0), 0);
    assert_int_equal(mu_ckpt_read_config(p2, &rc), 0);
    assert_int_equal(rc.param, MU_PARAM_SP);
    drop(&a);
    drop(&b);
    drop(&s);
    remove(path);
    remove(p2);
    rmdir(dir);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_lr_table),
    cmocka_unit_test(test_optim_multipliers),
    cmocka_unit_test(test_effective_lr),
    cmocka_unit_test(test_ckpt_roundtrip),
};

MU_TEST_MAIN(tests)

/* test_all_presets.c — every registered optimizer preset (all families, found through the
 * public listing) on a small GPT: L 2, H 2, d 32, T 32, V 64, B 4, on a generated
 * repetitive token stream (a random 48-token phrase repeated, so the loss can fall fast).
 *
 *   train_<preset>:  50 steps at the preset's default config (LR included), grad clip 1,
 *                    constant LR; every loss finite, mean of the last 10 < mean of the first 10.
 *   resume_<preset>: run A trains 20 steps; its weights and optimizer state go into a fresh
 *                    model and a fresh optimizer (B); both continue 10 steps on the same
 *                    batches; weights must be bit-identical, step counts equal.
 *   hparam_<preset>: `GROUP.lr` override through the config reaches every group; an unknown
 *                    group is refused.
 * Presets added by later families appear here without edits. One thread: the model is tiny. */
#include "testutil.h"

#include "muon/model.h"
#include "muon/optim.h"

enum { L_ = 2, H_ = 2, D_ = 32, T_ = 32, V_ = 64, B_ = 4, STREAM = 4096, PHRASE = 48 };

static int32_t stream[STREAM];

static void make_stream(void) {
    uint64_t s = 12345;
    int32_t phrase[PHRASE];
    for (int i = 0; i < PHRASE; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        phrase[i] = (int32_t)((s >> 33) % V_);
    }
    for (int i = 0; i < STREAM; i++) stream[i] = phrase[i % PHRASE];
}

/* Batch of step t: B windows at offsets fixed by t (same for every run). */
static void batch(int64_t t, int32_t *x, int32_t *y) {
    for (int b = 0; b < B_; b++) {
        int64_t off = (t * 131 + b * 977) % (STREAM - T_ - 1);
        for (int i = 0; i < T_; i++) {
            x[b * T_ + i] = stream[off + i];
            y[b * T_ + i] = stream[off + i + 1];
        }
    }
}

typedef struct {
    mu_gemm_ctx_t *gemm;
    mu_gpt_t *model;
    mu_optim_t *opt;
} run_t;

static mu_gpt_config_t model_cfg(void) {
    mu_gpt_config_t mc = mu_gpt_config_default();
    mc.n_layer = L_;
    mc.n_head = H_;
    mc.d_model = D_;
    mc.seq_len = T_;
    mc.vocab = V_;
    mc.dropout = 0.0f;
    return mc;
}

static const char *preset_name(int32_t i) {
    mu_optim_preset_info_t pi;
    assert_int_equal(mu_optim_preset_info(i, &pi), 0);
    return pi.name;
}

static void run_open(run_t *r, const char *preset, const mu_optim_config_t *override) {
    memset(r, 0, sizeof *r);
    mu_gpt_config_t mc = model_cfg();
    assert_int_equal(mu_gemm_ctx_init(&r->gemm, MU_ENGINE_OPENBLAS), 0);
    assert_int_equal(mu_gpt_init(&r->model, &mc, B_, r->gemm), 0);
    assert_int_equal(mu_gpt_init_weights(r->model, 7), 0);
    mu_optim_config_t c;
    if (override) c = *override;
    else assert_int_equal(mu_optim_config_for_preset(preset, &c), 0);
    int rc = mu_optim_init(&r->opt, &c, mu_gpt_params(r->model), mu_gpt_n_params(r->model), r->gemm);
    if (rc != 0) print_error("preset %s: init: %s\n", preset, mu_last_error());
    assert_int_equal(rc, 0);
}

static void run_close(run_t *r) {
    mu_optim_free(r->opt);
    mu_gpt_free(r->model);
    mu_gemm_ctx_free(r->gemm);
}

/* One training step (step index t picks the batch); returns the loss. */
static float step(run_t *r, int64_t t, const char *preset) {
    int32_t x[B_ * T_], y[B_ * T_];
    batch(t, x, y);
    float loss = NAN, gn;
    mu_gpt_zero_grad(r->model);
    assert_int_equal(mu_gpt_forward(r->model, x, y, B_, T_, &loss), 0);
    assert_int_equal(mu_gpt_backward(r->model, 1.0f), 0);
    assert_int_equal(mu_optim_clip_grad(mu_gpt_params(r->model), mu_gpt_n_params(r->model), 1.0f, &gn), 0);
    int rc = mu_optim_step(r->opt, 1.0f);
    if (rc != 0) print_error("preset %s: step %lld: %s\n", preset, (long long)t, mu_last_error());
    assert_int_equal(rc, 0);
    return loss;
}

static void test_train(void **state) {
    const char *name = preset_name((int32_t)(intptr_t)*state);
    run_t r;
    run_open(&r, name, NULL);
    float loss[50];
    double first = 0, last = 0;
    for (int t = 0; t < 50; t++) {
        loss[t] = step(&r, t, name);
        if (!isfinite(loss[t])) {
            print_error("preset %s: loss %g at step %d\n", name, (double)loss[t], t);
            fail();
        }
        if (t < 10) first += loss[t] / 10.0;
        if (t >= 40) last += loss[t] / 10.0;
    }
    print_message("%-22s loss %.4f -> %.4f (first/last 10 mean %.4f -> %.4f)\n", name, (double)loss[0],
                  (double)loss[49], first, last);
    if (!(last < first)) {
        print_error("preset %s: loss did not decrease: mean of the first 10 %.5f, of the last 10 %.5f\n", name, first,
                    last);
        fail();
    }
    run_close(&r);
}

static void copy_weights(run_t *dst, run_t *src) {
    mu_param_t *a = mu_gpt_params(dst->model), *b = mu_gpt_params(src->model);
    for (int32_t i = 0; i < mu_gpt_n_params(src->model); i++)
        memcpy(a[i].data, b[i].data, sizeof(float) * (size_t)b[i].numel);
}

static void test_resume(void **state) {
    const char *name = preset_name((int32_t)(intptr_t)*state);
    run_t a, b;
    run_open(&a, name, NULL);
    for (int t = 0; t < 20; t++) step(&a, t, name);
    // checkpoint: weights + optimizer state into a fresh model and optimizer
    size_t n = mu_optim_state_bytes(a.opt);
    void *buf = malloc(n);
    assert_non_null(buf);
    assert_int_equal(mu_optim_state_save(a.opt, buf, n), 0);
    run_open(&b, name, NULL);
    copy_weights(&b, &a);
    int rc = mu_optim_state_load(b.opt, buf, n);
    if (rc != 0) print_error("preset %s: state load: %s\n", name, mu_last_error());
    assert_int_equal(rc, 0);
    free(buf);
    assert_int_equal(mu_optim_steps_done(b.opt), 20);
    for (int t = 20; t < 30; t++) {
        step(&a, t, name);
        step(&b, t, name);
    }
    assert_int_equal(mu_optim_steps_done(a.opt), mu_optim_steps_done(b.opt));
    mu_param_t *pa = mu_gpt_params(a.model), *pb = mu_gpt_params(b.model);
    for (int32_t i = 0; i < mu_gpt_n_params(a.model); i++) {
        if (memcmp(pa[i].data, pb[i].data, sizeof(float) * (size_t)pa[i].numel) != 0) {
            print_error("preset %s: '%s' differs after resume\n", name, pa[i].name);
            fail();
        }
    }
    run_close(&a);
    run_close(&b);
}

/* "*.lr=0" through the config freezes every weight; a bad group name is refused at init. */
static void test_hparam(void **state) {
    const char *name = preset_name((int32_t)(intptr_t)*state);
    mu_optim_config_t c;
    assert_int_equal(mu_optim_config_for_preset(name, &c), 0);
    const char *hp[] = {"*.lr=0"};
    c.hparams = hp;
    c.n_hparams = 1;
    run_t r;
    run_open(&r, name, &c);
    mu_gpt_t *fresh = NULL;
    mu_gpt_config_t mc = model_cfg();
    assert_int_equal(mu_gpt_init(&fresh, &mc, 1, r.gemm), 0);
    assert_int_equal(mu_gpt_init_weights(fresh, 7), 0);
    for (int t = 0; t < 3; t++) step(&r, t, name);
    mu_param_t *pa = mu_gpt_params(r.model), *pb = mu_gpt_params(fresh);
    for (int32_t i = 0; i < mu_gpt_n_params(fresh); i++)
        if (memcmp(pa[i].data, pb[i].data, sizeof(float) * (size_t)pa[i].numel) != 0) {
            print_error("preset %s: '%s' moved with every group lr = 0\n", name, pa[i].name);
            fail();
        }
    mu_gpt_free(fresh);
    run_close(&r);
    const char *bad[] = {"no-such-group.lr=0.1"};
    c.hparams = bad;
    mu_optim_t *o = NULL;
    run_open(&r, name, NULL);
    assert_int_equal(mu_optim_init(&o, &c, mu_gpt_params(r.model), mu_gpt_n_params(r.model), r.gemm), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "no group 'no-such-group'"));
    assert_null(o);
    run_close(&r);
}

int main(int argc, char **argv) {
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    make_stream();
    mu_threads_set(1);  // a model this small runs fastest on one thread (and the result is the same)
    const int32_t n = mu_optim_preset_count();
    struct CMUnitTest *tests = calloc((size_t)(3 * n), sizeof *tests);
    char(*names)[64] = calloc((size_t)(3 * n), sizeof *names);
    for (int32_t i = 0; i < n; i++) {
        static void (*const fns[3])(void **) = {test_train, test_resume, test_hparam};
        static const char *const kinds[3] = {"train", "resume", "hparam"};
        for (int k = 0; k < 3; k++) {
            struct CMUnitTest *t = &tests[3 * i + k];
            snprintf(names[3 * i + k], 64, "%s_%s", kinds[k], preset_name(i));
            t->name = names[3 * i + k];
            t->test_func = fns[k];
            t->initial_state = (void *)(intptr_t)i;
        }
    }
    int rc = _cmocka_run_group_tests(__FILE__, tests, (size_t)(3 * n), NULL, NULL);
    free(tests);
    free(names);
    return rc;
}

/* train_tiny.c — the smallest complete use of libmuon: a tiny GPT learns a repetitive text.
 * Shows the intended call sequence of the public API (docs/api.md) without the trainer:
 * dataset → compute context → model → optimizer → forward/backward/clip/step.
 *   build/bin/example            prints the loss every 20 steps */
#include <stdio.h>
#include <stdlib.h>

#include "muon/train.h"

#define CHECK(call)                                                                \
    do {                                                                           \
        int rc_ = (call);                                                          \
        if (rc_ != MU_OK) {                                                        \
            fprintf(stderr, "%s: %s (%s)\n", #call, mu_last_error(), mu_strerror(rc_)); \
            return 1;                                                              \
        }                                                                          \
    } while (0)

int main(void) {
    /* 1. data: any text file works; here a generated one */
    const char *path = "/tmp/muon-example.txt";
    FILE *f = fopen(path, "w");
    if (!f) return 1;
    for (int i = 0; i < 2000; i++) fprintf(f, "the quick brown fox jumps over the lazy dog %d. ", i % 10);
    fclose(f);
    mu_dataset_t *data;
    CHECK(mu_dataset_open(&data, path));

    /* 2. compute layer and model */
    CHECK(mu_threads_set(0));
    mu_gemm_ctx_t *gemm;
    CHECK(mu_gemm_ctx_init(&gemm, MU_ENGINE_AUTO));
    mu_gpt_config_t cfg = mu_gpt_config_default();
    cfg.n_layer = 2;
    cfg.n_head = 2;
    cfg.d_model = 32;
    cfg.seq_len = 32;
    cfg.vocab = mu_dataset_vocab(data);
    enum { B = 8 };
    mu_gpt_t *model;
    CHECK(mu_gpt_init(&model, &cfg, B, gemm));
    CHECK(mu_gpt_init_weights(model, 42));

    /* 3. optimizer over the model's parameter registry */
    mu_optim_config_t oc = mu_optim_config_default();
    oc.preset = "adamw";
    oc.lr = 3e-3f;
    mu_optim_t *opt;
    CHECK(mu_optim_init(&opt, &oc, mu_gpt_params(model), mu_gpt_n_params(model), gemm));

    /* 4. the loop */
    int32_t x[B * 32], y[B * 32];
    for (int step = 0; step < 100; step++) {
        float loss, norm;
        CHECK(mu_dataset_sample(data, 1, (uint64_t)step, 0, B, cfg.seq_len, x, y));
        mu_gpt_zero_grad(model);
        CHECK(mu_gpt_forward(model, x, y, B, cfg.seq_len, &loss));
        CHECK(mu_gpt_backward(model, 1.0f));
        CHECK(mu_optim_clip_grad(mu_gpt_params(model), mu_gpt_n_params(model), 1.0f, &norm));
        CHECK(mu_optim_step(opt, 1.0f));
        if (step % 20 == 0 || step == 99) printf("step %3d  loss %.4f  grad-norm %.3f\n", step, loss, norm);
    }
    double val;
    CHECK(mu_eval_loss(model, data, B, 0, &val, NULL));
    printf("val loss %.4f nats\n", val);
    mu_optim_free(opt);
    mu_gpt_free(model);
    mu_gemm_ctx_free(gemm);
    mu_dataset_free(data);
    return 0;
}

/* cmd_train.c — `muon train`: resolve the config (defaults < --resume's config <
 * --config FILE < flags), print it, train with a progress display, handle signals. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "muon/orth.h"
#include "options.h"
#include "progress.h"

typedef struct {
    mu_train_config_t c;
    const char *optim, *schedule, *gemm, *ckpt, *config, *resume;
    const char *qkv_split, *orth, *orth_prec, *scale;
    const char *wd_mode; /* --wd-mode decoupled|independent */
    const char *param, *mup_init; /* --param sp|mup, --mup-init gauss|orthogonal|table */
    int32_t dry_run, help, vocab;
    int32_t gluon_log, mars_m_eff; /* spec switches, expanded to --opt lines */
    float warmup_f;
    opt_list_t hparams; /* --opt GROUP.TRANSFORM.KEY=VALUE, repeatable */
} train_args_t;

#define N_OPTS (sizeof opts / sizeof opts[0])

/* Apply, in order of precedence: the resumed run's config.txt, --config FILE, flags. */
static int parse_all(const opt_t *opts, size_t n, int argc, char **argv, char *err, size_t cap) {
    const char *resume = opt_peek(argc, argv, "resume");
    if (resume) {
        char p[4096];
        snprintf(p, sizeof p, "%s/config.txt", resume);
        if (access(p, R_OK) != 0) {
            snprintf(err, cap, "--resume %s: no config.txt there (is it a run directory?)", resume);
            return -1;
        }
        if (opt_parse_file(opts, n, p, err, cap) != 0) return -1;
    }
    const char *cfg = opt_peek(argc, argv, "config");
    if (cfg && opt_parse_file(opts, n, cfg, err, cap) != 0) return -1;
    const char *pos[1];
    int n_pos;
    return opt_parse_argv(opts, n, argc, argv, pos, &n_pos, 0, err, cap);
}

static void on_signal(int sig) {
    (void)sig;
    mu_train_request_stop();
    signal(SIGINT, SIG_DFL); /* a second Ctrl-C kills at once */
}

static int resolve_enums(train_args_t *a, char *err, size_t cap) {
    mu_train_config_t *c = &a->c;
    c->optim.preset = a->optim;
    if (mu_schedule_parse(a->schedule, &c->sched.kind) != MU_OK) {
        snprintf(err, cap, "--schedule: '%s' is not constant, cosine or wsd", a->schedule);
        return -1;
    }
    if (mu_engine_parse(a->gemm, &c->gemm) != MU_OK) {
        snprintf(err, cap, "--gemm: '%s' is not auto, openblas or onednn", a->gemm);
        return -1;
    }
    if (!strcmp(a->ckpt, "last")) c->ckpt_mode = 0;
    else if (!strcmp(a->ckpt, "all")) c->ckpt_mode = 1;
    else if (!strcmp(a->ckpt, "none")) c->ckpt_mode = 2;
    else {
        snprintf(err, cap, "--ckpt: '%s' is not last, all or none", a->ckpt);
        return -1;
    }
    c->sched.min_factor = c->optim.lr > 0 ? c->min_lr / c->optim.lr : 0;
    if (mu_optim_qkv_split_parse(a->qkv_split, &c->optim.qkv_split) != MU_OK) {
        snprintf(err, cap, "--qkv-split: '%s' is not fused, qkv or head", a->qkv_split);
        return -1;
    }
    mu_orth_kind_t k;
    if (strcmp(a->orth, "preset") != 0) {
        if (mu_orth_kind_parse(a->orth, &k) != MU_OK) {
            snprintf(err, cap, "--orth: '%s' is not preset, ns5, pe, cubic, quintic or exact", a->orth);
            return -1;
        }
        c->optim.orth_kind = (int32_t)k;
    }
    if (!strcmp(a->orth_prec, "f32") || !strcmp(a->orth_prec, "fp32")) c->optim.orth_prec = MU_PREC_F32;
    else if (!strcmp(a->orth_prec, "bf16")) c->optim.orth_prec = MU_PREC_BF16;
    else {
        snprintf(err, cap, "--orth-precision: '%s' is not f32 or bf16", a->orth_prec);
        return -1;
    }
    if (strcmp(a->scale, "preset") != 0 && mu_optim_scale_parse(a->scale, &c->optim.scale_mode) != MU_OK) {
        snprintf(err, cap, "--scale: '%s' is not preset, keller, moonlight, spectral or none", a->scale);
        return -1;
    }
    if (mu_optim_wd_mode_parse(a->wd_mode, &c->optim.wd_mode) != MU_OK) {
        snprintf(err, cap, "--wd-mode: '%s' is not decoupled or independent", a->wd_mode);
        return -1;
    }
    if (mu_gpt_param_parse(a->param, &c->model.param) != MU_OK) {
        snprintf(err, cap, "--param: '%s' is not sp or mup", a->param);
        return -1;
    }
    if (mu_gpt_mup_init_parse(a->mup_init, &c->model.mup_init) != MU_OK) {
        snprintf(err, cap, "--mup-init: '%s' is not gauss, orthogonal or table", a->mup_init);
        return -1;
    }
    /* μP: the optimizer scales each group's LR by role with m = d_model / base_width */
    c->optim.param = c->model.param;
    c->optim.width_mult = mu_gpt_width_mult(&c->model);
    return 0;
}

static void print_dry_run(const mu_train_config_t *c, const mu_dataset_t *d) {
    const mu_gpt_config_t *m = &c->model;
    int64_t n = mu_gpt_config_n_params(m, 0), n_nowpe = mu_gpt_config_n_params(m, 1);
    double fpt = mu_gpt_config_flops_per_token(m, m->seq_len);
    double tok_step = (double)c->batch * m->seq_len * c->grad_accum;
    printf("parameters        %lld (%.3f M), %lld without wpe\n", (long long)n, n / 1e6, (long long)n_nowpe);
    printf("FLOPs per token   %.4g (6N + 12*L*d*T)\n", fpt);
    printf("FLOPs per step    %.4g (%.0f tokens per step)\n", fpt * tok_step, tok_step);
    printf("weights memory    %.1f MiB (params + grads + AdamW moments = %.1f MiB)\n", n * 4 / 1048576.0,
           n * 16 / 1048576.0);
    if (d) {
        double tr = (double)mu_dataset_train_tokens(d);
        printf("train tokens      %.0f (one epoch = %.1f steps; this run = %.3f epochs)\n", tr, tr / tok_step,
               tok_step * c->steps / tr);
        printf("val tokens        %lld\n", (long long)mu_dataset_val_tokens(d));
    }
}

int cmd_train(int argc, char **argv) {
    train_args_t a = {.c = mu_train_config_default()};
    mu_train_config_t *c = &a.c;
    a.optim = "adamw";
    a.schedule = "cosine";
    a.gemm = "auto";
    a.ckpt = "last";
    a.qkv_split = "qkv";
    a.orth = "preset";
    a.orth_prec = "f32";
    a.scale = "preset";
    a.wd_mode = "decoupled";
    a.param = "sp";
    a.mup_init = "gauss";
    c->model.vocab = 0; /* 0: from the data */
    const opt_t opts[] = {
        {"data", OPT_STR, &c->data, "training data: text file, llm.c shard, or `muon prepare` directory", 0},
        {"out", OPT_STR, &c->out, "run directory (metrics.jsonl, checkpoints)", 1},
        {"resume", OPT_STR, &a.resume, "continue the run in this directory (bit-identical)", 1},
        {"init", OPT_STR, &c->init, "start from the weights of a safetensors file (fresh optimizer)", 0},
        {"config", OPT_STR, &a.config, "read options from a key = value file", 1},
        {"steps", OPT_I64, &c->steps, "optimizer steps", 0},
        {"batch", OPT_I32, &c->batch, "sequences per micro-batch", 0},
        {"grad-accum", OPT_I32, &c->grad_accum, "micro-batches per step", 0},
        {"seq-len", OPT_I32, &c->model.seq_len, "context length T", 0},
        {"n-layer", OPT_I32, &c->model.n_layer, "transformer blocks", 0},
        {"n-head", OPT_I32, &c->model.n_head, "attention heads", 0},
        {"d-model", OPT_I32, &c->model.d_model, "embedding width", 0},
        {"vocab", OPT_I32, &a.vocab, "vocabulary size (0: from the data)", 0},
        {"bias", OPT_BOOL, &c->model.bias, "biases in Linear and LayerNorm layers", 0},
        {"tie", OPT_BOOL, &c->model.tie, "tie the LM head to the token embedding", 0},
        {"dropout", OPT_F32, &c->model.dropout, "dropout probability", 0},
        {"param", OPT_STR, &a.param, "parametrization: sp (GPT-2) or mup (docs/model.md)", 0},
        {"base-width", OPT_I32, &c->model.base_width, "mup: base width; width_mult = d_model / base_width", 0},
        {"mup-init", OPT_STR, &a.mup_init, "mup: hidden init gauss, orthogonal or table", 0},
        {"alpha-in", OPT_F32, &c->model.alpha_in, "mup: multiplier on the embedding sum", 0},
        {"alpha-out", OPT_F32, &c->model.alpha_out, "mup: logits multiplier alpha_out / width_mult", 0},
        {"alpha-attn", OPT_F32, &c->model.alpha_attn, "mup: attention scores x alpha_attn / d_head (0: sqrt(d_head))",
         0},
        {"zero-query", OPT_BOOL, &c->model.zero_query, "mup: zero-init the query weights", 0},
        {"zero-readout", OPT_BOOL, &c->model.zero_readout, "mup: zero-init lm_head (needs --tie 0)", 0},
        {"optim", OPT_STR, &a.optim, "optimizer preset (adamw, sgd; see docs/optimizers.md)", 0},
        {"lr", OPT_F32, &c->optim.lr, "peak learning rate (matrix group for Muon-type presets)", 0},
        {"aux-lr", OPT_F32, &c->optim.aux_lr, "LR of the AdamW groups of Muon-type presets (0: preset default)", 0},
        {"min-lr", OPT_F32, &c->min_lr, "LR floor of cosine and wsd schedules", 0},
        {"weight-decay", OPT_F32, &c->optim.weight_decay, "weight decay lambda (no decay on gains and biases)", 0},
        {"wd-mode", OPT_STR, &a.wd_mode,
         "weight decay: decoupled W <- (1 - lr*wd) W (group's LR, muP-scaled), independent (1 - f*wd) W "
         "(f = schedule factor only)",
         0},
        {"beta1", OPT_F32, &c->optim.beta1, "AdamW beta1", 0},
        {"beta2", OPT_F32, &c->optim.beta2, "AdamW beta2", 0},
        {"eps", OPT_F32, &c->optim.eps, "AdamW epsilon", 0},
        {"momentum", OPT_F32, &c->optim.momentum, "momentum (sgd; Muon presets: their beta)", 0},
        {"nesterov", OPT_BOOL, &c->optim.nesterov, "Nesterov momentum (sgd)", 0},
        {"qkv-split", OPT_STR, &a.qkv_split, "fused qkv as: fused, qkv (three matrices), head (per head)", 0},
        {"orth", OPT_STR, &a.orth, "orthogonalization: preset, ns5, pe, cubic, quintic, exact", 0},
        {"orth-steps", OPT_I32, &c->optim.orth_steps, "iterations of polynomial orth kinds (0: preset's)", 0},
        {"orth-precision", OPT_STR, &a.orth_prec, "products inside orth: f32, bf16 (needs AVX512-BF16/AMX)", 0},
        {"scale", OPT_STR, &a.scale, "update scale: preset, keller, moonlight, spectral, none", 0},
        {"power-iters", OPT_I32, &c->optim.power_iters, "muonpp: Lanczos (or power-iteration) steps for sigma_max (0: preset's 16)", 0},
        {"adaptive", OPT_BOOL, &c->optim.adaptive, "muonpp: adaptive factor A_t (our reconstruction)", 0},
        {"opt", OPT_LIST, &a.hparams,
         "optimizer hyperparameter GROUP.TRANSFORM.KEY=VALUE or GROUP.lr=VALUE, GROUP may be * (muon optim show)", 0},
        {"gluon-log", OPT_FLAG, &a.gluon_log, "gluon: estimate (L0, L1) online and log them (= --opt *.lmo.est=log)", 1},
        {"scion-light", OPT_BOOL, &c->optim.momentum_in_grad,
         "scion: keep the momentum in the gradient buffer, no optimizer state (needs --grad-clip 0)", 0},
        {"mars-m-efficient", OPT_FLAG, &a.mars_m_eff,
         "MARS: one-buffer efficient form (= --opt matrix*.grad_diff.mode=efficient)", 1},
        {"schedule", OPT_STR, &a.schedule, "LR schedule: constant, cosine, wsd", 0},
        {"warmup", OPT_I64, &c->sched.warmup, "linear warmup steps", 0},
        {"decay-frac", OPT_F32, &c->sched.decay_frac, "wsd: fraction of steps in the final decay", 0},
        {"grad-clip", OPT_F32, &c->grad_clip, "global gradient-norm clip (0: off)", 0},
        {"seed", OPT_U64, &c->seed, "seed of init, data order and dropout", 0},
        {"threads", OPT_I32, &c->threads, "threads for OpenBLAS, oneDNN and muon's loops (0: all cores)", 0},
        {"gemm", OPT_STR, &a.gemm, "matrix-product engine: auto, openblas, onednn", 0},
        {"eval-every", OPT_I64, &c->eval_every, "val loss every N steps (0: only at the end)", 0},
        {"eval-windows", OPT_I64, &c->eval_windows, "val windows per periodic eval (0: all; the final eval uses all)",
         0},
        {"ckpt-every", OPT_I64, &c->ckpt_every, "checkpoint every N steps (0: only at the end)", 0},
        {"ckpt", OPT_STR, &a.ckpt, "which checkpoints to keep: last, all, none", 0},
        {"max-time", OPT_F64, &c->max_time_s, "stop (with a checkpoint) after this many seconds", 1},
        {"stop-after", OPT_I64, &c->stop_after, "stop (with a checkpoint) after N steps of this process", 1},
        {"log-every", OPT_I64, &c->log_every, "metrics.jsonl line every N steps", 0},
        {"diag-every", OPT_I64, &c->diag_every,
         "diagnostics every N steps (0: off): r_W, r_dW, orth residual per matrix, grad norm per group, "
         "activation RMS, max attention logit",
         0},
        {"diag-iters", OPT_I32, &c->diag_iters, "Lanczos steps per spectral norm (0: default 10, at most 64)", 0},
        {"diag-quantiles", OPT_BOOL, &c->diag_quantiles,
         "with --diag-every: also min/p10/p50/p90/max singular values of momentum buffers (one SVD each: slow)", 0},
        {"dry-run", OPT_FLAG, &a.dry_run, "print parameters, FLOPs, memory and tokens per epoch, then exit", 1},
        {"help", OPT_FLAG, &a.help, "this help", 1},
    };
    char err[1024];
    /* Two passes: the first finds the final --optim (flags > --config > resumed config), whose
     * preset then supplies the optimizer defaults; the second applies every option on top. */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1 && mu_optim_config_for_preset(a.optim, &c->optim) != MU_OK) {
            snprintf(err, sizeof err, "--optim: %s", mu_last_error());
            goto usage_err;
        }
        opt_lists_clear(opts, N_OPTS);
        if (parse_all(opts, N_OPTS, argc, argv, err, sizeof err) != 0) goto usage_err;
    }
    /* the spec's named switches are --opt lines: stored (and resumed) as such */
    if ((a.gluon_log && opt_set(opts, N_OPTS, "opt", "*.lmo.est=log", err, sizeof err) != 0) ||
        (a.mars_m_eff && opt_set(opts, N_OPTS, "opt", "matrix*.grad_diff.mode=efficient", err, sizeof err) != 0))
        goto usage_err;
    c->optim.hparams = a.hparams.v; /* applied by mu_optim_init, errors name the key */
    c->optim.n_hparams = a.hparams.n;
    const char *resume = opt_peek(argc, argv, "resume");
    if (a.help) {
        printf("usage: muon train --data PATH --out RUN_DIR [options]\n"
               "       muon train --resume RUN_DIR [--steps N ...]\n\n"
               "Trains a GPT-2 style model. Prints the resolved config, a progress line and the final val loss;\n"
               "writes RUN_DIR/{config.txt,metrics.jsonl,model.safetensors,state.bin,provenance.txt}.\n"
               "Ctrl-C (SIGINT) or SIGTERM saves a checkpoint and stops; --resume continues bit-identically.\n\n"
               "options (flags or `key = value` lines in --config FILE):\n");
        opt_usage(opts, N_OPTS, stdout);
        return 0;
    }
    if (resume) c->resume = resume;
    if (resume && !c->out) c->out = resume;
    if (resolve_enums(&a, err, sizeof err) != 0) goto usage_err;
    if (!c->data) {
        snprintf(err, sizeof err, "--data is required (a text file, an llm.c shard or a `muon prepare` directory)");
        goto usage_err;
    }

    mu_dataset_t *d = NULL;
    if (mu_dataset_open(&d, c->data) != MU_OK) return cli_fail("train", -1);
    c->model.vocab = a.vocab > 0 ? a.vocab : mu_dataset_vocab(d);
    a.vocab = c->model.vocab; /* printed resolved */
    if (mu_gpt_config_check(&c->model) != MU_OK) {
        mu_dataset_free(d);
        return cli_fail("train", -1);
    }
    char *text = opt_to_string(opts, N_OPTS);
    c->config_text = text;
    printf("# muon train — resolved config\n%s", text ? text : "");
    if (a.dry_run) {
        print_dry_run(c, d);
        mu_dataset_free(d);
        free(text);
        return 0;
    }
    double entropy = NAN;
    mu_dataset_unigram_entropy(d, 1, &entropy);
    mu_dataset_free(d);
    if (!c->out) {
        snprintf(err, sizeof err, "--out RUN_DIR is required");
        free(text);
        goto usage_err;
    }
    if (!resume) { /* the config a later --resume starts from */
        char p[4096];
        if (mu_mkdir_p(c->out) != MU_OK) {
            free(text);
            return cli_fail("train", -1);
        }
        snprintf(p, sizeof p, "%s/state.bin", c->out);
        if (access(p, F_OK) == 0) {
            fprintf(stderr, "muon train: %s already holds a run: resume it with --resume %s, or choose another --out\n",
                    c->out, c->out);
            free(text);
            return 1;
        }
        snprintf(p, sizeof p, "%s/config.txt", c->out);
        FILE *f = fopen(p, "w");
        if (!f) {
            fprintf(stderr, "muon train: cannot write %s\n", p);
            free(text);
            return 1;
        }
        fputs(text, f);
        fclose(f);
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    progress_t pr;
    progress_init(&pr, stdout);
    mu_train_result_t res;
    int rc = mu_train_run(c, progress_cb, &pr, &res);
    progress_finish(&pr);
    free(text);
    if (rc == MU_ENONFINITE) {
        fprintf(stderr, "muon train: %s\nmuon train: the last good checkpoint (if any) in %s is intact\n",
                mu_last_error(), c->out);
        return 3;
    }
    if (rc != MU_OK) return cli_fail("train", rc);
    if (res.interrupted) {
        printf("stopped at step %lld; continue with: muon train --resume %s\n", (long long)res.steps_done, c->out);
        return 0;
    }
    printf("done: %lld steps, final train loss %.4f, %.0f tokens/s\n", (long long)res.steps_done, res.final_loss,
           res.tokens_per_s);
    printf("val loss %.4f nats (unigram entropy of the val split: %.4f nats)\n", res.final_val_loss, entropy);
    return 0;
usage_err:
    fprintf(stderr, "muon train: %s\n", err);
    return 2;
}

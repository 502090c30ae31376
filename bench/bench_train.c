/* bench_train.c — training throughput of the GPT (forward + backward + clip + AdamW) as
 * tokens/s and achieved GFLOP/s (FLOPs/token = 6N + 12·L·d·T, nanoGPT's estimate_mfu),
 * next to the same run's best GEMM rate at 2048³ per engine (MFU on CPU), and — when
 * /usr/bin/python3 has torch — the same model trained by PyTorch in the same run.
 *   build/bin/bench_train [seconds-per-config]   (MUON_BENCH_NO_TORCH=1 skips PyTorch) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muon/orth.h"
#include "muon/train.h"

static double gemm_rate(mu_engine_t e, int64_t n) {
    mu_gemm_ctx_t *g;
    if (mu_gemm_ctx_init(&g, e) != MU_OK) return 0;
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n), *c = malloc(sizeof(float) * n * n);
    for (int64_t i = 0; i < n * n; i++) a[i] = b[i] = (float)((i % 13) - 6) / 7.0f;
    mu_gemm_desc_t d = mu_gemm_desc(0, 0, n, n, n, 1.0f, 0.0f);
    double best = 0;
    if (mu_gemm(g, &d, a, b, c) == MU_OK) /* warm-up, planning */
        for (int r = 0; r < 5; r++) {
            double t = mu_time_s();
            mu_gemm(g, &d, a, b, c);
            double rate = 2.0 * n * n * n / (mu_time_s() - t) / 1e9;
            if (rate > best) best = rate;
        }
    free(a);
    free(b);
    free(c);
    mu_gemm_ctx_free(g);
    return best;
}

static double torch_rate(const mu_gpt_config_t *c, int32_t B, int32_t threads, double seconds) {
    if (getenv("MUON_BENCH_NO_TORCH")) return 0;
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 bench/torch_gpt.py --d %d --L %d --H %d --T %d --B %d --V %d --threads %d "
             "--seconds %.1f 2>/dev/null",
             c->d_model, c->n_layer, c->n_head, c->seq_len, B, c->vocab, threads, seconds);
    FILE *p = popen(cmd, "r");
    if (!p) return 0;
    char line[1024] = {0};
    double r = 0;
    if (fgets(line, sizeof line, p)) {
        char *q = strstr(line, "\"tokens_per_s\":");
        if (q) r = atof(q + 15);
    }
    pclose(p);
    return r;
}

typedef struct {
    mu_gpt_config_t c;
    int32_t B;
    mu_gemm_ctx_t *g;
    mu_gpt_t *m;
    mu_optim_t *o;
    int32_t *x, *y;
} bench_model_t;

/* Model (d, L, H, T; V = 256), random tokens for a (B, T) batch, and the preset's optimizer
 * with its orthogonalization products at precision prec (mu_prec_t); hp: one --opt override
 * (NULL: none). */
static int bench_model_init(bench_model_t *b, const char *preset, int32_t prec, const char *hp, int32_t d, int32_t L,
                            int32_t H, int32_t T, int32_t B) {
    memset(b, 0, sizeof *b);
    b->c = mu_gpt_config_default();
    b->c.d_model = d, b->c.n_layer = L, b->c.n_head = H, b->c.seq_len = T, b->c.vocab = 256;
    b->B = B;
    mu_optim_config_t oc;
    if (mu_optim_config_for_preset(preset, &oc)) {
        fprintf(stderr, "bench_train: %s\n", mu_last_error());
        return 1;
    }
    oc.orth_prec = prec; /* MU_PREC_BF16: NS products in bf16 (oneDNN), refused without hardware */
    if (hp) oc.hparams = &hp, oc.n_hparams = 1;
    if (mu_gemm_ctx_init(&b->g, MU_ENGINE_AUTO) ||
        mu_gpt_init(&b->m, &b->c, B, b->g) || mu_gpt_init_weights(b->m, 1) ||
        mu_optim_init(&b->o, &oc, mu_gpt_params(b->m), mu_gpt_n_params(b->m), b->g)) {
        fprintf(stderr, "bench_train: %s\n", mu_last_error());
        return 1;
    }
    b->x = malloc(sizeof(int32_t) * B * T), b->y = malloc(sizeof(int32_t) * B * T);
    mu_rng_t r;
    mu_rng_seed(&r, 3);
    for (int32_t k = 0; k < B * T; k++) b->x[k] = (int32_t)mu_rng_below(&r, 256), b->y[k] = (int32_t)mu_rng_below(&r, 256);
    return 0;
}

static void bench_model_free(bench_model_t *b) {
    free(b->x);
    free(b->y);
    mu_optim_free(b->o);
    mu_gpt_free(b->m);
    mu_gemm_ctx_free(b->g);
}

/* NS FLOPs of one muon step: every hidden matrix as its logical matrices (qkv split). */
static double ns_flops(mu_gpt_t *m) {
    mu_orth_config_t oc = mu_orth_config_default();
    double f = 0;
    mu_param_t *p = mu_gpt_params(m);
    for (int32_t i = 0; i < mu_gpt_n_params(m); i++) {
        if (p[i].role != MU_ROLE_HIDDEN) continue;
        int64_t rows = p[i].shape[0] / p[i].n_split;
        f += p[i].n_split * mu_orth_flops(rows, p[i].shape[1], &oc);
    }
    return f;
}

/* Share of the step spent in the optimizer for a preset, next to its FLOP lower bound
 * NS / (model + NS): the share if orthogonalization ran as efficiently as the model. */
/* Train steps for about `seconds` after two warm-up steps (they plan every shape); returns the
 * time in forward+backward+clip and in the optimizer step, summed, and the step count. */
static int time_steps(bench_model_t *b, double seconds, double *t_model, double *t_opt) {
    int32_t T = b->c.seq_len;
    double t0 = mu_time_s();
    int steps = 0;
    *t_model = *t_opt = 0;
    for (int k = 0;; k++) {
        float loss, norm;
        double a = mu_time_s();
        mu_gpt_zero_grad(b->m);
        mu_gpt_forward(b->m, b->x, b->y, b->B, T, &loss);
        mu_gpt_backward(b->m, 1.0f);
        mu_optim_clip_grad(mu_gpt_params(b->m), mu_gpt_n_params(b->m), 1.0f, &norm);
        double mid = mu_time_s();
        mu_optim_step(b->o, 1.0f);
        double e = mu_time_s();
        if (k < 2) t0 = e;
        else *t_model += mid - a, *t_opt += e - mid, steps++;
        if (k >= 2 && e - t0 > seconds) break;
    }
    return steps;
}

static int step_share(const char *preset, int32_t prec, int32_t batch, int32_t d, int32_t L, int32_t H, int32_t T,
                      int32_t B, double seconds) {
    bench_model_t b;
    if (bench_model_init(&b, preset, prec, batch ? NULL : "matrix.orth.batch=0", d, L, H, T, B)) return 1;
    double t_model, t_opt;
    int steps = time_steps(&b, seconds, &t_model, &t_opt);
    double f_model = mu_gpt_config_flops_per_token(&b.c, T) * B * T, f_ns = ns_flops(b.m);
    double share = t_opt / (t_model + t_opt), bound = f_ns / (f_model + f_ns);
    char p[32];
    snprintf(p, sizeof p, "%s%s", prec == MU_PREC_BF16 ? " bf16" : "", batch ? "" : " one by one");
    if (strncmp(preset, "muon", 4) != 0) /* no orthogonalization: the NS bound does not apply */
        printf("| %s%s | (%d,%d,%d,%d,%d) | %.1f ms | %.1f ms | %.1f%% | - | - |\n", preset, p, d, L, H, T, B,
               1e3 * t_model / steps, 1e3 * t_opt / steps, 100 * share);
    else /* the bound counts fp32 FLOPs: with bf16 products it is a reference, not a floor */
        printf("| %s%s | (%d,%d,%d,%d,%d) | %.1f ms | %.1f ms | %.1f%% | %.1f%% | %.2fx |\n", preset, p, d, L, H, T,
               B, 1e3 * t_model / steps, 1e3 * t_opt / steps, 100 * share, 100 * bound, share / bound);
    fflush(stdout);
    bench_model_free(&b);
    return 0;
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 8.0;
    mu_threads_set(0);
    char machine[512];
    mu_machine_line(machine, sizeof machine);
    printf("machine: %s\n", machine);
    double r_blas = gemm_rate(MU_ENGINE_OPENBLAS, 2048), r_dnnl = gemm_rate(MU_ENGINE_ONEDNN, 2048);
    double best = r_blas > r_dnnl ? r_blas : r_dnnl;
    printf("sgemm 2048^3: openblas %.1f GFLOP/s, onednn %.1f GFLOP/s (best %.1f)\n\n", r_blas, r_dnnl, best);
    struct {
        int32_t d, L, H, T, B;
    } cfgs[] = {{128, 4, 4, 128, 32}, {256, 6, 8, 256, 16}};
    printf("| model (d,L,H,T,B) | params | muon tok/s | GFLOP/s | MFU vs best sgemm | torch tok/s | muon/torch |\n");
    printf("|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < sizeof cfgs / sizeof cfgs[0]; i++) {
        bench_model_t b;
        if (bench_model_init(&b, "adamw", MU_PREC_F32, NULL, cfgs[i].d, cfgs[i].L, cfgs[i].H, cfgs[i].T, cfgs[i].B))
            return 1;
        const mu_gpt_config_t *c = &b.c;
        int32_t B = b.B, T = c->seq_len;
        double t_model, t_opt;
        int steps = time_steps(&b, seconds, &t_model, &t_opt);
        double tps = (double)steps * B * T / (t_model + t_opt);
        double gf = tps * mu_gpt_config_flops_per_token(c, T) / 1e9;
        double tr = torch_rate(c, B, mu_threads_get(), seconds);
        char tcol[32] = "n/a", rcol[32] = "n/a";
        if (tr > 0) snprintf(tcol, sizeof tcol, "%.0f", tr), snprintf(rcol, sizeof rcol, "%.2fx", tps / tr);
        printf("| (%d,%d,%d,%d,%d) | %.2fM | %.0f | %.1f | %.0f%% | %s | %s |\n", c->d_model, c->n_layer, c->n_head, T,
               B, mu_gpt_config_n_params(c, 0) / 1e6, tps, gf, 100 * gf / best, tcol, rcol);
        fflush(stdout);
        bench_model_free(&b);
    }
    printf("\n| preset | model (d,L,H,T,B) | fwd+bwd+clip | optimizer step | optimizer share | FLOP lower bound "
           "(NS / all) | share / bound |\n|---|---|---|---|---|---|---|\n");
    /* muon twice per model: same-shape matrices orthogonalized as batches (the default) and
     * one by one (matrix.orth.batch=0), side by side */
    const int32_t F = MU_PREC_F32, BF = MU_PREC_BF16;
    if (step_share("adamw", F, 1, 256, 6, 8, 256, 16, seconds)) return 1;
    for (int32_t prec = F; prec <= BF; prec++) {
        if (prec == BF && !mu_gemm_bf16_available()) {
            printf("| muon bf16 | - | n/a: this CPU has no AVX512-BF16/AMX | | | | |\n");
            break;
        }
        for (int32_t batch = 1; batch >= 0; batch--)
            if (step_share("muon", prec, batch, 256, 6, 8, 256, 16, seconds) ||
                step_share("muon", prec, batch, 128, 4, 4, 128, 32, seconds))
                return 1;
    }
    return 0;
}

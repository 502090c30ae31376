/* bench_gemm.c — GFLOP/s of each engine (fp32, and bf16 where the CPU has it)
 * at 2048^3 and at the products a GPT step runs (B*T = 4096 rows, C = 256),
 * forward and backward, plus the batched attention product. Prints the
 * machine line first; every number is measured in this run, and each row
 * gives the ratio of each engine to the best one for that shape.
 *   usage: bench_gemm [--quick]      (total runtime well under 60 s) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muon/gemm.h"

typedef struct {
    const char *name;
    int ta, tb;
    int64_t m, n, k, batch;
} shape_t;

/* GPT block with C = 256, 4C = 1024, B*T = 4096 (the bench models' width):
 * forward  out (BT,OC) = inp (BT,C) W^T,   W stored (OC,C)
 * backward dinp (BT,C) = dout (BT,OC) W;   dW (OC,C) = dout^T inp */
static const shape_t shapes[] = {
    {"square 2048^3", 0, 0, 2048, 2048, 2048, 1},
    {"qkv fwd", 0, 1, 4096, 768, 256, 1},
    {"qkv bwd dinp", 0, 0, 4096, 256, 768, 1},
    {"qkv bwd dW", 1, 0, 768, 256, 4096, 1},
    {"fc fwd", 0, 1, 4096, 1024, 256, 1},
    {"fc bwd dinp", 0, 0, 4096, 256, 1024, 1},
    {"fc bwd dW", 1, 0, 1024, 256, 4096, 1},
    {"proj fwd", 0, 1, 4096, 256, 1024, 1},
    {"proj bwd dinp", 0, 0, 4096, 1024, 256, 1},
    {"proj bwd dW", 1, 0, 256, 1024, 4096, 1},
    {"att q.k^T (64 heads)", 0, 1, 256, 256, 64, 64},
};

/* Best-of GFLOP/s: one warm-up call (primitive creation, thread start), then
 * repetitions until min_s seconds have passed (at least 3). */
static double gflops(mu_gemm_ctx_t *g, const mu_gemm_desc_t *d, const float *A, const float *B, float *C,
                     double min_s) {
    if (mu_gemm(g, d, A, B, C) != MU_OK) return -1;
    double best = 1e30, total = 0;
    for (int r = 0; r < 3 || total < min_s; r++) {
        double t0 = mu_time_s();
        if (mu_gemm(g, d, A, B, C) != MU_OK) return -1;
        double dt = mu_time_s() - t0;
        total += dt;
        if (dt < best) best = dt;
    }
    return 2.0 * (double)d->m * (double)d->n * (double)d->k * (double)d->batch / best * 1e-9;
}

int main(int argc, char **argv) {
    double min_s = (argc > 1 && !strcmp(argv[1], "--quick")) ? 0.05 : 0.3;
    char line[512];
    mu_machine_line(line, sizeof line);
    printf("%s\n", line);
    double t_start = mu_time_s();
    int n_prec = mu_gemm_bf16_available() ? 2 : 1;
    if (n_prec == 1) printf("(bf16: not available on this CPU, fp32 only)\n");
    mu_gemm_ctx_t *eng[2], *autoc;
    if (mu_gemm_ctx_init(&eng[0], MU_ENGINE_OPENBLAS) || mu_gemm_ctx_init(&eng[1], MU_ENGINE_ONEDNN) ||
        mu_gemm_ctx_init(&autoc, MU_ENGINE_AUTO)) {
        fprintf(stderr, "bench_gemm: %s\n", mu_last_error());
        return 1;
    }
    /* one set of buffers big enough for every shape, filled once */
    size_t cap = (size_t)4096 * 4096;
    float *A = malloc(cap * 4), *B = malloc(cap * 4), *C = malloc(cap * 4);
    if (!A || !B || !C) return 1;
    mu_rng_t r;
    mu_rng_seed(&r, 1);
    for (size_t i = 0; i < cap; i++) A[i] = mu_rng_uniform(&r) - 0.5f, B[i] = mu_rng_uniform(&r) - 0.5f, C[i] = 0;

    printf("%-22s %-16s %-5s %10s %10s %16s %8s\n", "shape", "m x n x k", "prec", "openblas", "onednn",
           "ratio ob/dnn", "auto");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const shape_t *sh = &shapes[s];
        for (int p = 0; p < n_prec; p++) {
            mu_gemm_desc_t d = mu_gemm_desc(sh->ta, sh->tb, sh->m, sh->n, sh->k, 1.0f, 0.0f);
            d.prec = p ? MU_PREC_BF16 : MU_PREC_F32;
            if (sh->batch > 1) {
                d.batch = sh->batch;
                d.stride_a = sh->m * sh->k, d.stride_b = sh->k * sh->n, d.stride_c = sh->m * sh->n;
            }
            double gf[2];
            for (int e = 0; e < 2; e++) gf[e] = (p && e == 0) ? -1 : gflops(eng[e], &d, A, B, C, min_s);
            double best = gf[0] > gf[1] ? gf[0] : gf[1];
            char dims[48], ratio[32];
            snprintf(dims, sizeof dims, "%lldx%lldx%lld%s", (long long)sh->m, (long long)sh->n, (long long)sh->k,
                     sh->batch > 1 ? "xB" : "");
            if (gf[0] > 0)
                snprintf(ratio, sizeof ratio, "%.2f / %.2f", gf[0] / best, gf[1] / best);
            else
                snprintf(ratio, sizeof ratio, "- / %.2f", gf[1] / best);
            char ob[16];
            if (gf[0] > 0) snprintf(ob, sizeof ob, "%10.1f", gf[0]);
            else snprintf(ob, sizeof ob, "%10s", "-");
            printf("%-22s %-16s %-5s %s %10.1f %16s %8s\n", sh->name, dims, p ? "bf16" : "f32", ob, gf[1], ratio,
                   mu_engine_name(mu_gemm_engine_for(autoc, &d)));
            fflush(stdout);
        }
    }
    char plan[2048];
    if (mu_gemm_plan_string(autoc, plan, sizeof plan) == MU_OK) printf("auto plan: %s\n", plan);
    printf("GFLOP/s = 2mnk*batch / best time; total %.1f s\n", mu_time_s() - t_start);
    mu_gemm_ctx_free(eng[0]);
    mu_gemm_ctx_free(eng[1]);
    mu_gemm_ctx_free(autoc);
    free(A), free(B), free(C);
    return 0;
}

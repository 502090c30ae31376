/* cmd_info.c — `muon info`: what this machine gives muon. CPU features, the
 * OpenBLAS core and build config (with the core suggestion when OpenBLAS runs
 * kernels older than the CPU), oneDNN version and ISA, threads, and a short
 * GFLOP/s table per engine (fp32, bf16 when available) at 256^3, 1024^3, 2048^3. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "options.h"

/* Best-of GFLOP/s for an n^3 product: one warm-up call, then repetitions
 * until budget_s (at least 2). Returns -1 when the engine refuses the product. */
static double cube_gflops(mu_gemm_ctx_t *g, int64_t n, mu_prec_t prec, const float *A, const float *B, float *C,
                          double budget_s) {
    mu_gemm_desc_t d = mu_gemm_desc(0, 0, n, n, n, 1.0f, 0.0f);
    d.prec = prec;
    if (mu_gemm(g, &d, A, B, C) != MU_OK) return -1;
    double best = 1e30, total = 0;
    for (int r = 0; r < 2 || (total < budget_s && r < 50); r++) {
        double t0 = mu_time_s();
        if (mu_gemm(g, &d, A, B, C) != MU_OK) return -1;
        double dt = mu_time_s() - t0;
        total += dt;
        if (dt < best) best = dt;
    }
    return 2.0 * (double)n * (double)n * (double)n / best * 1e-9;
}

static int gemm_table(void) {
    static const int64_t sizes[] = {256, 1024, 2048};
    const int64_t nmax = 2048;
    float *A = malloc((size_t)nmax * nmax * sizeof(float)), *B = malloc((size_t)nmax * nmax * sizeof(float));
    float *C = malloc((size_t)nmax * nmax * sizeof(float));
    mu_gemm_ctx_t *g[2] = {NULL, NULL};
    int rc = 0;
    if (!A || !B || !C) {
        fprintf(stderr, "muon info: out of memory for the GEMM table\n");
        rc = 1;
        goto done;
    }
    mu_rng_t r;
    mu_rng_seed(&r, 1);
    for (int64_t i = 0; i < nmax * nmax; i++) A[i] = mu_rng_uniform(&r) - 0.5f, B[i] = mu_rng_uniform(&r) - 0.5f;
    if (mu_gemm_ctx_init(&g[0], MU_ENGINE_OPENBLAS) || mu_gemm_ctx_init(&g[1], MU_ENGINE_ONEDNN)) {
        rc = cli_fail("info", -1);
        goto done;
    }
    int bf16 = mu_gemm_bf16_available();
    printf("\nGEMM GFLOP/s (C = A B, row-major, best of a few runs):\n");
    printf("  %-8s %10s %10s%s\n", "size", "openblas", "onednn", bf16 ? "  onednn-bf16" : "");
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int64_t n = sizes[s];
        double budget = n >= 2048 ? 0.0 : 0.15; /* the 2048^3 rows: warm-up + 2 runs */
        double ob = cube_gflops(g[0], n, MU_PREC_F32, A, B, C, budget);
        double dn = cube_gflops(g[1], n, MU_PREC_F32, A, B, C, budget);
        char label[16];
        snprintf(label, sizeof label, "%lld^3", (long long)n);
        printf("  %-8s %10.1f %10.1f", label, ob, dn);
        if (bf16) printf("  %12.1f", cube_gflops(g[1], n, MU_PREC_BF16, A, B, C, budget));
        printf("\n");
        fflush(stdout);
    }
    if (!bf16) printf("  (bf16 needs AVX512-BF16 or AMX: not available here)\n");
done:
    mu_gemm_ctx_free(g[0]);
    mu_gemm_ctx_free(g[1]);
    free(A), free(B), free(C);
    return rc;
}

int cmd_info(int argc, char **argv) {
    int32_t threads = 0, help = 0, no_bench = 0;
    const opt_t opts[] = {
        {"threads", OPT_I32, &threads, "threads for OpenMP, OpenBLAS and oneDNN (0: all cores)", 0},
        {"no-bench", OPT_FLAG, &no_bench, "skip the GEMM speed table", 0},
        {"help", OPT_FLAG, &help, "this help", 1},
    };
    size_t n_opts = sizeof opts / sizeof opts[0];
    char err[512];
    int n_pos = 0;
    if (opt_parse_argv(opts, n_opts, argc, argv, NULL, &n_pos, 0, err, sizeof err) != 0) {
        fprintf(stderr, "muon info: %s\n", err);
        return 2;
    }
    if (help) {
        printf("usage: muon info [--threads N] [--no-bench]\n\n"
               "CPU features, the OpenBLAS core and config, oneDNN version and ISA, threads,\n"
               "and GEMM GFLOP/s per engine at 256^3, 1024^3, 2048^3 (a few seconds).\n\n");
        opt_usage(opts, n_opts, stdout);
        return 0;
    }
    if (threads < 0) {
        fprintf(stderr, "muon info: --threads must be >= 0 (0: all cores)\n");
        return 2;
    }
    if (mu_threads_set(threads) != MU_OK) return cli_fail("info", -1);

    mu_cpu_info_t ci;
    mu_cpu_detect(&ci);
    printf("cpu:       %s (%s), %d online cpus\n", ci.model[0] ? ci.model : "?", ci.vendor, (int)ci.n_cores);
    printf("features: %s%s%s%s%s%s%s%s\n", ci.avx2 ? " avx2" : "", ci.fma ? " fma" : "",
           ci.avx512f ? " avx512f" : "", ci.avx512bw ? " avx512bw" : "", ci.avx512vl ? " avx512vl" : "",
           ci.avx512_bf16 ? " avx512_bf16" : "", ci.amx_bf16 ? " amx_bf16" : "", ci.amx_tile ? " amx_tile" : "");
    const char *env = getenv("OPENBLAS_CORETYPE");
    printf("openblas:  core %s%s%s%s\n", mu_openblas_core(), env && *env ? " (OPENBLAS_CORETYPE=" : "",
           env && *env ? env : "", env && *env ? ")" : "");
    printf("           %s\n", mu_openblas_config());
    const char *sug = mu_openblas_core_suggest();
    if (sug)
        printf("           suggestion: this CPU has AVX-512 but OpenBLAS runs %s kernels; "
               "OPENBLAS_CORETYPE=%s is faster (muon re-runs itself with it unless MUON_NO_REEXEC is set)\n",
               mu_openblas_core(), sug);
    else
        printf("           core matches the CPU (no OPENBLAS_CORETYPE needed)\n");
    printf("onednn:    isa %s, bf16 %s\n", mu_onednn_isa(),
           mu_gemm_bf16_available() ? "yes" : "no (needs AVX512-BF16 or AMX)");
    printf("threads:   %d (one libgomp pool shared by OpenMP, OpenBLAS, oneDNN)\n", (int)mu_threads_get());
    char line[512];
    mu_machine_line(line, sizeof line);
    printf("machine:   %s\n", line);
    if (no_bench) return 0;
    return gemm_table();
}

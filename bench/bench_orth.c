/* bench_orth.c — orthogonalization speed: ns5 (T = 5) fp32 (and bf16 where the CPU
 * has it) at the matrix shapes of GPT-2 small/medium layers, next to the same-run
 * sgemm rate of a comparable square product (d = cbrt(r²c), per engine) and the
 * exact polar factor through LAPACK sgesdd.
 *   ns5 GFLOP/s = mu_orth_flops / time, counting the work done on the path AUTO takes
 *   (iterate: T·(3r²c + 2r³); Gram when c > 1.25r: 3r²c + 25r³; syrk products at half
 *   a gemm's flops). "spec" divides the spec §1.1 count T·(4r²c + 2r³) by the same time.
 *   ratios: ns5 rate / best engine's square-gemm rate; sgesdd time / ns5 time.
 * Then the thin QR of n×64 subspace bases (COSMOS's basis update): LAPACK Householder
 * (sgeqrf + sorgqr) against orth/qr.c's CholeskyQR2, same input, best-of times.
 * Prints the machine line first. Usage: bench_orth [--quick] (well under 90 s). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lapacke.h>

#include "muon/orth.h"
#include "orth/qr.h"

static double g_min_s = 0.5;

/* Best-of seconds of one thin QR of X (n, k): Householder (cholqr 0) or CholeskyQR2 (1). */
static double time_qr(const float *X, int64_t n, int64_t k, int cholqr, float *Y, float *ws) {
    double best = 1e30, total = 0;
    for (int r = 0; r < 5 || total < g_min_s / 4; r++) {
        memcpy(Y, X, sizeof(float) * (size_t)(n * k));
        double t0 = mu_time_s();
        if (cholqr) {
            if (mu_qr_thin(Y, n, k, ws, NULL) != MU_OK) return -1;
        } else if (LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, (lapack_int)n, (lapack_int)k, Y, (lapack_int)k, ws) != 0 ||
                   LAPACKE_sorgqr(LAPACK_ROW_MAJOR, (lapack_int)n, (lapack_int)k, (lapack_int)k, Y, (lapack_int)k, ws))
            return -1;
        double dt = mu_time_s() - t0;
        total += dt;
        if (dt < best) best = dt;
    }
    return best;
}

/* The QR table: graded columns (scales 1 .. 1e-6, neighbours mixed), as COSMOS's P·S is. */
static int bench_qr(void) {
    const int64_t k = 64, ns[] = {128, 256, 512, 1024, 4096};
    printf("\nthin QR of n x %lld (COSMOS basis): Householder sgeqrf+sorgqr vs CholeskyQR2 (orth/qr.c)\n",
           (long long)k);
    printf("%-10s %12s %14s %8s\n", "shape", "householder", "cholesky-qr2", "speedup");
    for (size_t c = 0; c < sizeof ns / sizeof ns[0]; c++) {
        const int64_t n = ns[c];
        float *X = malloc(sizeof(float) * (size_t)(n * k)), *Y = malloc(sizeof(float) * (size_t)(n * k));
        float *ws = malloc(sizeof(float) * mu_qr_workspace_floats(n, k));
        if (!X || !Y || !ws) return 1;
        mu_rng_t r;
        mu_rng_seed(&r, 9);
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < k; j++) X[i * k + j] = mu_rng_normal(&r) * (float)pow(1e6, -(double)j / (double)k);
        for (int64_t j = k - 1; j > 0; j--)
            for (int64_t i = 0; i < n; i++) X[i * k + j] += 0.5f * X[i * k + j - 1];
        const double th = time_qr(X, n, k, 0, Y, ws), tc = time_qr(X, n, k, 1, Y, ws);
        free(X), free(Y), free(ws);
        if (th < 0 || tc < 0) return 1;
        char shp[24];
        snprintf(shp, sizeof shp, "%lldx%lld", (long long)n, (long long)k);
        printf("%-10s %9.3f ms %11.3f ms %7.2fx\n", shp, th * 1e3, tc * 1e3, th / tc);
        fflush(stdout);
    }
    return 0;
}

/* best-of seconds per mu_orth call: one warm-up (planning, thread start), then
 * repetitions until min_s has passed (at least 3, at most 1 when one call is > 2 s) */
static double time_orth(mu_gemm_ctx_t *g, const mu_orth_config_t *c, const float *X, int64_t m, int64_t n, float *out,
                        float *work, double min_s) {
    double t0 = mu_time_s();
    if (mu_orth(g, c, X, m, n, out, work) != MU_OK) return -1;
    double first = mu_time_s() - t0, best = 1e30, total = 0;
    if (first > 2.0) return first;
    for (int r = 0; r < 3 || total < min_s; r++) {
        t0 = mu_time_s();
        if (mu_orth(g, c, X, m, n, out, work) != MU_OK) return -1;
        double dt = mu_time_s() - t0;
        total += dt;
        if (dt < best) best = dt;
    }
    return best;
}

static double gemm_rate(mu_gemm_ctx_t *g, int64_t d, const float *A, const float *B, float *C, double min_s) {
    mu_gemm_desc_t desc = mu_gemm_desc(0, 0, d, d, d, 1.0f, 0.0f);
    if (mu_gemm(g, &desc, A, B, C) != MU_OK) return -1;
    double best = 1e30, total = 0;
    for (int r = 0; r < 3 || total < min_s; r++) {
        double t0 = mu_time_s();
        if (mu_gemm(g, &desc, A, B, C) != MU_OK) return -1;
        double dt = mu_time_s() - t0;
        total += dt;
        if (dt < best) best = dt;
    }
    return 2.0 * (double)d * d * d / best * 1e-9;
}

/* ---- batches: nb same-shape matrices as one mu_orth_batch vs nb mu_orth calls ---- */

static double time_batch(mu_gemm_ctx_t *g, const mu_orth_config_t *c, int64_t nb, int64_t chunk, const float *const *X,
                         int64_t m, int64_t n, float *const *out, float *work) {
    double best = 1e30, total = 0;
    for (int r = 0; r < 4 || total < g_min_s / 2; r++) {
        double t0 = mu_time_s();
        for (int64_t i = 0; i < nb; i += chunk) {
            int64_t k = nb - i < chunk ? nb - i : chunk;
            if (mu_orth_batch(g, c, k, X + i, m, n, out + i, work) != MU_OK) return -1;
        }
        double dt = mu_time_s() - t0;
        if (r > 0) total += dt, best = dt < best ? dt : best; /* r = 0: warm-up, planning */
    }
    return best;
}

/* The shape classes of a Muon step on the two bench models (d = 128, L = 4 and d = 256, L = 6:
 * 4L square attention views, L MLP up and L MLP down matrices), ns5 T = 5 at each precision. */
static int bench_batches(mu_gemm_ctx_t *g, int bf16) {
    static const int64_t cls[][3] = {{128, 128, 16}, {512, 128, 4}, {128, 512, 4},
                                     {256, 256, 24}, {1024, 256, 6}, {256, 1024, 6}};
    printf("\nbatched ns5 (mu_orth_batch): nb same-shape matrices one by one vs in batches of 4, 8 and all nb\n"
           "(ms for all nb; x = one-by-one time / batched time)\n");
    printf("%-6s %-10s %4s %10s %15s %15s %15s\n", "prec", "shape", "nb", "1 by 1", "batch 4", "batch 8", "batch nb");
    for (int pr = 0; pr < 1 + bf16; pr++)
        for (int s = 0; s < 6; s++) {
            const int64_t m = cls[s][0], n = cls[s][1], nb = cls[s][2];
            mu_orth_config_t c = mu_orth_config_default();
            c.prec = pr ? MU_PREC_BF16 : MU_PREC_F32;
            float *X = malloc((size_t)(nb * m * n) * sizeof *X), *Y = malloc((size_t)(nb * m * n) * sizeof *Y);
            float *work = malloc(mu_orth_batch_workspace_floats(nb, m, n, &c) * sizeof *work);
            const float *in[32];
            float *out[32];
            mu_rng_t r;
            mu_rng_seed(&r, 11);
            for (int64_t i = 0; i < nb * m * n; i++) X[i] = mu_rng_normal(&r);
            for (int64_t i = 0; i < nb; i++) in[i] = X + i * m * n, out[i] = Y + i * m * n;
            double t1 = time_batch(g, &c, nb, 1, in, m, n, out, work);
            double t4 = time_batch(g, &c, nb, 4, in, m, n, out, work);
            double t8 = time_batch(g, &c, nb, 8, in, m, n, out, work);
            double ta = time_batch(g, &c, nb, nb, in, m, n, out, work);
            free(X), free(Y), free(work);
            if (t1 < 0 || t4 < 0 || t8 < 0 || ta < 0) return -1;
            char shp[24];
            snprintf(shp, sizeof shp, "%lldx%lld", (long long)m, (long long)n);
            printf("%-6s %-10s %4lld %7.2f ms %7.2f ms %5.2fx %7.2f ms %5.2fx %7.2f ms %5.2fx\n",
                   pr ? "bf16" : "f32", shp,
                   (long long)nb, t1 * 1e3, t4 * 1e3, t1 / t4, t8 * 1e3, t1 / t8, ta * 1e3, t1 / ta);
            fflush(stdout);
        }
    return 0;
}

/* ---- bf16 ns5, part by part: where one iteration's time goes ---- */

typedef struct {
    mu_gemm_ctx_t *g;
    mu_gemm_desc_t d;
    const float *A, *B;
    const uint16_t *Ah, *Bh;
    float *C;
    uint16_t *round_dst; /* non-NULL: time mu_gemm_to_bf16(round_dst, A, round_n) instead */
    int64_t round_n;
} part_t;

static int part_run(const part_t *p) {
    if (p->round_dst) return mu_gemm_to_bf16(p->round_dst, p->A, p->round_n);
    if (p->Ah) return mu_gemm_bf16_operands(p->g, &p->d, p->Ah, p->Bh, p->C);
    return mu_gemm(p->g, &p->d, p->A, p->B, p->C);
}

static double part_time(const part_t *p) { /* best of >= 5 calls and >= g_min_s / 4 after a warm-up */
    if (part_run(p) != MU_OK) return -1;
    double best = 1e30, total = 0;
    for (int r = 0; r < 5 || total < g_min_s / 4; r++) {
        double t0 = mu_time_s();
        if (part_run(p) != MU_OK) return -1;
        double dt = mu_time_s() - t0;
        total += dt;
        if (dt < best) best = dt;
    }
    return best;
}

/* One ns5 iteration on X (r, cc) split into its parts: rounding X, A, B to bf16 and the three
 * products in bf16 (pre-rounded operands, as poly.c runs them) and in fp32 on oneDNN. */
static int bench_bf16_parts(mu_gemm_ctx_t *dnn, const float *X, float *work) {
    static const int64_t shapes[][2] = {{256, 1024}, {768, 768}, {768, 3072}, {1024, 4096}};
    printf("\nbf16 ns5, one iteration by part (ms, best of repeats; oneDNN): round = fp32 -> bf16 copy;\n"
           "products with pre-rounded bf16 operands, and the same product in fp32 (x32 = fp32 / bf16 time)\n");
    printf("%-10s %8s %8s %8s %8s %13s %13s %13s %8s %9s\n", "shape", "round X", "round A", "round B", "rounds",
           "X.Xt bf16 x32", "A.A bf16 x32", "B.X bf16 x32", "sum", "bf16 GF/s");
    for (int s = 0; s < 4; s++) {
        int64_t r = shapes[s][0], cc = shapes[s][1], rr = r * r;
        float *A = work, *B = A + rr, *nxt = B + rr; /* X itself is the iterate (already normalized) */
        uint16_t *Xh = (uint16_t *)(nxt + r * cc), *Ah = Xh + r * cc, *Bh = Ah + rr;
        mu_gemm_desc_t dxx = mu_gemm_desc(0, 1, r, r, cc, 1.0f, 0.0f), daa = mu_gemm_desc(0, 0, r, r, r, 2.0f, 0.5f),
                       dbx = mu_gemm_desc(0, 0, r, cc, r, 1.0f, 0.0f);
        mu_gemm_desc_t bxx = dxx, baa = daa, bbx = dbx;
        bxx.prec = baa.prec = bbx.prec = MU_PREC_BF16;
        if (mu_gemm_to_bf16(Xh, X, r * cc) || mu_gemm(dnn, &dxx, X, X, A)) return -1;
        for (int64_t i = 0; i < rr; i++) B[i] = A[i] * 0.5f;
        if (mu_gemm_to_bf16(Ah, A, rr) || mu_gemm_to_bf16(Bh, B, rr)) return -1;
        part_t parts[9] = {
            {.A = X, .round_dst = Xh, .round_n = r * cc},
            {.A = A, .round_dst = Ah, .round_n = rr},
            {.A = B, .round_dst = Bh, .round_n = rr},
            {dnn, bxx, NULL, NULL, Xh, Xh, A, NULL, 0}, {dnn, dxx, X, X, NULL, NULL, A, NULL, 0},
            {dnn, baa, NULL, NULL, Ah, Ah, B, NULL, 0}, {dnn, daa, A, A, NULL, NULL, B, NULL, 0},
            {dnn, bbx, NULL, NULL, Bh, Xh, nxt, NULL, 0}, {dnn, dbx, B, X, NULL, NULL, nxt, NULL, 0},
        };
        double t[9], sum = 0;
        for (int i = 0; i < 9; i++) {
            t[i] = part_time(&parts[i]);
            if (t[i] < 0) return -1;
            if (i < 3 || i % 2 == 1) sum += t[i];
        }
        double gf = (4.0 * rr * cc + 2.0 * rr * r) / (t[3] + t[5] + t[7]) * 1e-9;
        char shp[24];
        snprintf(shp, sizeof shp, "%lldx%lld", (long long)r, (long long)cc);
        printf("%-10s %8.3f %8.3f %8.3f %7.0f%% %7.3f %4.2fx %7.3f %4.2fx %7.3f %4.2fx %8.3f %9.1f\n", shp, t[0] * 1e3,
               t[1] * 1e3, t[2] * 1e3, 100.0 * (t[0] + t[1] + t[2]) / sum, t[3] * 1e3, t[4] / t[3], t[5] * 1e3,
               t[6] / t[5], t[7] * 1e3, t[8] / t[7], sum * 1e3, gf);
        fflush(stdout);
    }
    return 0;
}

int main(int argc, char **argv) {
    int quick = argc > 1 && !strcmp(argv[1], "--quick");
    g_min_s = quick ? 0.1 : 0.5;
    char line[512];
    mu_machine_line(line, sizeof line);
    printf("%s\n", line);
    const int64_t shapes[][2] = {{256, 256}, {256, 1024}, {768, 768}, {768, 3072}, {1024, 4096}};
    const int n_shapes = sizeof shapes / sizeof shapes[0];
    int bf16 = mu_gemm_bf16_available();
    mu_gemm_ctx_t *autoc, *eng[2];
    if (mu_gemm_ctx_init(&autoc, MU_ENGINE_AUTO) || mu_gemm_ctx_init(&eng[0], MU_ENGINE_OPENBLAS) ||
        mu_gemm_ctx_init(&eng[1], MU_ENGINE_ONEDNN)) {
        fprintf(stderr, "bench_orth: %s\n", mu_last_error());
        return 1;
    }
    size_t cap = (size_t)1024 * 4096;
    mu_orth_config_t cf = mu_orth_config_default(), cb = cf, ce = cf;
    cb.prec = MU_PREC_BF16;
    ce.kind = MU_ORTH_EXACT;
    size_t ws = mu_orth_workspace_floats(1024, 4096, &cf), wse = mu_orth_workspace_floats(1024, 4096, &ce);
    size_t wsb = mu_orth_workspace_floats(1024, 4096, &cb);
    if (wse > ws) ws = wse;
    if (wsb > ws) ws = wsb;
    float *X = malloc(cap * 4), *out = malloc(cap * 4), *work = malloc(ws * 4);
    float *A = malloc(cap * 4), *B = malloc(cap * 4), *C = malloc(cap * 4);
    if (!X || !out || !work || !A || !B || !C) return 1;
    mu_rng_t r;
    mu_rng_seed(&r, 7);
    for (size_t i = 0; i < cap; i++) X[i] = mu_rng_normal(&r), A[i] = mu_rng_uniform(&r) - 0.5f, B[i] = A[i] * 0.5f;

    printf("ns5 T=5 fp32. GF/s: work done (syrk counted r²c, Gram path where AUTO takes it); spec: §1.1 count\n"
           "T·(4r²c + 2r³) over the same time.\n"
           "gemm: square d×d×d, d = cbrt(r²c), GF/s per engine; ns5/gemm = work GF/s over the faster engine;\n"
           "speedup = sgesdd polar-factor time / ns5 time\n"
           "bf16: ns5 with bf16 products (always the iterate path), its time, fp32 (AUTO path) time / bf16 time,\n"
           "fp32 iterate-path time / bf16 time\n");
    printf("%-10s %8s %7s %7s %-25s %5s %8s %8s %8s %9s %8s\n", "shape", "ns5 ms", "GF/s", "spec", "bf16 ms  x32  x32it", "d",
           "openblas", "onednn", "ns5/gemm", "sgesdd ms", "speedup");
    double t_start = mu_time_s();
    for (int s = 0; s < n_shapes; s++) {
        int64_t m = shapes[s][0], n = shapes[s][1];
        int64_t rr = m < n ? m : n, cc = m < n ? n : m;
        double t32 = time_orth(autoc, &cf, X, m, n, out, work, g_min_s);
        double rate32 = mu_orth_flops(m, n, &cf) / t32 * 1e-9;
        mu_orth_config_t cg = cf; /* spec §1.1 count: 4r²c + 2r³ per iteration (iterate path, gemm X·Xᵀ) */
        cg.use_syrk = 0;
        cg.path = MU_ORTH_PATH_ITERATE;
        double rate_spec = mu_orth_flops(m, n, &cg) / t32 * 1e-9;
        char bf[48] = "n/a (no bf16 on this CPU)";
        if (bf16) { /* bf16 always iterates (docs/orth.md): also time fp32 on that path */
            mu_orth_config_t ci = cf;
            ci.path = MU_ORTH_PATH_ITERATE;
            double tb = time_orth(autoc, &cb, X, m, n, out, work, g_min_s);
            double ti = time_orth(autoc, &ci, X, m, n, out, work, g_min_s);
            snprintf(bf, sizeof bf, "%.1f ms %.2fx %.2fx", tb * 1e3, t32 / tb, ti / tb);
        }
        int64_t d = (int64_t)llround(cbrt((double)rr * rr * cc) / 16.0) * 16;
        double g0 = gemm_rate(eng[0], d, A, B, C, g_min_s), g1 = gemm_rate(eng[1], d, A, B, C, g_min_s);
        double te = time_orth(autoc, &ce, X, m, n, out, work, quick ? 0.0 : 0.3);
        if (t32 < 0 || te < 0 || g0 < 0 || g1 < 0) {
            fprintf(stderr, "bench_orth: %s\n", mu_last_error());
            return 1;
        }
        char shp[24];
        snprintf(shp, sizeof shp, "%lldx%lld", (long long)m, (long long)n);
        printf("%-10s %8.1f %7.1f %7.1f %-25s %5lld %8.1f %8.1f %7.0f%% %9.1f %7.1fx\n", shp, t32 * 1e3, rate32,
               rate_spec, bf, (long long)d, g0, g1, 100.0 * rate32 / (g0 > g1 ? g0 : g1), te * 1e3, te / t32);
        fflush(stdout);
    }
    if (bench_batches(autoc, bf16) != 0) {
        fprintf(stderr, "bench_orth: batches failed: %s\n", mu_last_error());
        return 1;
    }
    if (bf16 && bench_bf16_parts(eng[1], X, work) != 0) {
        fprintf(stderr, "bench_orth: bf16 parts failed: %s\n", mu_last_error());
        return 1;
    }
    if (bench_qr() != 0) {
        fprintf(stderr, "bench_orth: thin QR failed: %s\n", mu_last_error());
        return 1;
    }
    printf("total %.1f s\n", mu_time_s() - t_start);
    mu_gemm_ctx_free(autoc);
    mu_gemm_ctx_free(eng[0]);
    mu_gemm_ctx_free(eng[1]);
    free(X), free(out), free(work), free(A), free(B), free(C);
    return 0;
}

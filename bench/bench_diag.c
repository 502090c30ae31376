/* bench_diag.c — the cost of --diag-every K: diagnostics overhead at K = 10 as a fraction of
 * the training step, on the standard bench model (d 256, L 6, H 8, T 256, B 16, V 256; as
 * bench_train), for muon (orth residuals measured) and adamw.
 *
 * Method: one process, one model per preset; steps alternate plain / diagnosed (the order
 * flips every pair to cancel drift), each timed whole (forward + backward + clip + optimizer
 * step, plus on a diagnosed step everything src/train/loop.c does on a diag step: module
 * statistics, group gradient norms, weight snapshot, probed step, spectral norms, orth
 * residuals, JSON). Overhead at K = (t_diag − t_plain) / (K · t_plain) per pair; the table
 * gives the median over pairs and the min..max. The quantiles (--diag-quantiles: one SVD per
 * matrix) are timed the same way in separate pairs. The first diagnosed step (cold power
 * iteration, 4x the iterations) is not counted.
 *   build/bin/bench_diag [pairs [threads]]   (default 10 pairs, all cores; about 1.5 minutes on
 *   2 idle cores) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muon/diag.h"
#include "muon/train.h"

enum { K = 10, JSON_CAP = 1 << 20 };

typedef struct {
    mu_gpt_config_t c;
    int32_t B;
    mu_gemm_ctx_t *g;
    mu_gpt_t *m;
    mu_optim_t *o;
    mu_diag_t *d;
    int32_t *x, *y;
    float *lr, *decay;
    char *json;
    double t[7]; /* diag parts of the last step: modules, groups, snapshot, measure, orth+json, quantiles, probed opt */
} bench_t;

static int fail(const char *what) {
    fprintf(stderr, "bench_diag: %s: %s\n", what, mu_last_error());
    return 1;
}

static int bench_init(bench_t *b, const char *preset) {
    memset(b, 0, sizeof *b);
    b->c = mu_gpt_config_default(); /* L6 H8 C256 T256 V256, bias, untied */
    b->B = 16;
    mu_optim_config_t oc;
    if (mu_optim_config_for_preset(preset, &oc) || mu_gemm_ctx_init(&b->g, MU_ENGINE_AUTO) ||
        mu_gpt_init(&b->m, &b->c, b->B, b->g) || mu_gpt_init_weights(b->m, 1) ||
        mu_optim_init(&b->o, &oc, mu_gpt_params(b->m), mu_gpt_n_params(b->m), b->g) ||
        mu_diag_init(&b->d, mu_gpt_params(b->m), mu_gpt_n_params(b->m), 0))
        return fail(preset);
    const int32_t n = mu_gpt_n_params(b->m), BT = b->B * b->c.seq_len;
    b->x = malloc(sizeof(int32_t) * (size_t)BT), b->y = malloc(sizeof(int32_t) * (size_t)BT);
    b->lr = malloc(sizeof(float) * (size_t)n), b->decay = malloc(sizeof(float) * (size_t)n);
    b->json = malloc(JSON_CAP);
    if (!b->x || !b->y || !b->lr || !b->decay || !b->json) return fail("out of memory");
    mu_rng_t r;
    mu_rng_seed(&r, 3);
    for (int32_t k = 0; k < BT; k++) b->x[k] = (int32_t)mu_rng_below(&r, 256), b->y[k] = (int32_t)mu_rng_below(&r, 256);
    return 0;
}

static void bench_free(bench_t *b) {
    free(b->x), free(b->y), free(b->lr), free(b->decay), free(b->json);
    mu_diag_free(b->d);
    mu_optim_free(b->o);
    mu_gpt_free(b->m);
    mu_gemm_ctx_free(b->g);
}

/* One training step; diag 1: with the diagnostics of a diag step, 2: and the quantiles.
 * The diag step's forward also records the attention-logit rows (its cost is in the total,
 * not in the "modules" column).
 * Returns its wall time (< 0 on error). */
static double step(bench_t *b, int diag) {
    double t0 = mu_time_s(), a;
    float loss, norm;
    memset(b->t, 0, sizeof b->t);
    if (diag) mu_diag_reset(b->d);
    mu_gpt_zero_grad(b->m);
    if (mu_gpt_record_module_stats(b->m, diag != 0)) return -1; /* as the loop: the diag forward records */
    if (mu_gpt_forward(b->m, b->x, b->y, b->B, b->c.seq_len, &loss)) return -1;
    if (diag) {
        a = mu_time_s();
        if (mu_diag_module_stats(b->d, b->m)) return -1;
        b->t[0] = mu_time_s() - a;
    }
    if (mu_gpt_backward(b->m, 1.0f)) return -1;
    if (diag) {
        a = mu_time_s();
        if (mu_diag_group_norms(b->d, b->o)) return -1;
        b->t[1] = mu_time_s() - a;
    }
    if (mu_optim_clip_grad(mu_gpt_params(b->m), mu_gpt_n_params(b->m), 1.0f, &norm)) return -1;
    if (diag) {
        a = mu_time_s();
        if (mu_diag_snapshot(b->d) || mu_optim_probe(b->o, 1)) return -1;
        b->t[2] = mu_time_s() - a;
    }
    a = mu_time_s();
    if (mu_optim_step(b->o, 1.0f)) return -1;
    b->t[6] = mu_time_s() - a;
    if (diag) {
        mu_optim_probe(b->o, 0);
        a = mu_time_s();
        if (mu_optim_param_rates(b->o, 1.0f, b->lr, b->decay) || mu_diag_measure(b->d, b->lr, b->decay)) return -1;
        b->t[3] = mu_time_s() - a;
        a = mu_time_s();
        if (mu_diag_orth(b->d, b->o) || mu_diag_json(b->d, b->json, JSON_CAP)) return -1;
        b->t[4] = mu_time_s() - a;
        if (diag == 2) {
            a = mu_time_s();
            if (mu_diag_quantiles(b->d, b->o)) return -1;
            b->t[5] = mu_time_s() - a;
        }
    }
    return mu_time_s() - t0;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* `pairs` alternating (plain, diag-level) pairs; prints one table row. */
static int measure(bench_t *b, const char *preset, int level, int pairs) {
    double ratio[64], plain[64], extra[64], parts[7] = {0}, opt_plain = 0, opt_diag = 0;
    if (pairs > 64) pairs = 64;
    for (int i = 0; i < pairs; i++) {
        double tp = 0, td = 0;
        for (int k = 0; k < 2; k++) {
            const int d = (k ^ (i & 1)) ? level : 0; /* flip the order every pair */
            const double t = step(b, d);
            if (t < 0) return fail("step");
            if (d) {
                td = t, opt_diag += b->t[6];
                for (int q = 0; q < 6; q++) parts[q] += b->t[q];
            } else {
                tp = t, opt_plain += b->t[6];
            }
        }
        plain[i] = tp, extra[i] = td - tp, ratio[i] = (td - tp) / (K * tp);
    }
    double r_min = ratio[0], r_max = ratio[0];
    for (int i = 1; i < pairs; i++) r_min = ratio[i] < r_min ? ratio[i] : r_min, r_max = ratio[i] > r_max ? ratio[i] : r_max;
    const double tp = median(plain, pairs), te = median(extra, pairs), r = median(ratio, pairs);
    printf("| %s | %s | %.0f ms | %.0f ms | **%.2f%%** (%.2f..%.2f) |", preset, level == 2 ? "+ quantiles" : "diag",
           1e3 * tp, 1e3 * te, 100 * r, 100 * r_min, 100 * r_max);
    /* mean time of each part on a diagnosed step; probe = the optimizer step's extra time */
    const double n = pairs;
    printf(" %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.0f |\n", 1e3 * parts[0] / n, 1e3 * parts[1] / n,
           1e3 * parts[2] / n, 1e3 * (opt_diag - opt_plain) / n, 1e3 * parts[3] / n, 1e3 * parts[4] / n,
           1e3 * parts[5] / n);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv) {
    const int pairs = argc > 1 ? atoi(argv[1]) : 10, threads = argc > 2 ? atoi(argv[2]) : 0;
    if (pairs < 1 || threads < 0) {
        fprintf(stderr, "usage: bench_diag [pairs >= 1 [threads >= 0 (0: all cores)]]\n");
        return 2;
    }
    if (mu_threads_set(threads) != MU_OK) return fail("threads");
    char machine[512];
    mu_machine_line(machine, sizeof machine);
    printf("machine: %s\n", machine);
    printf("model (d,L,H,T,B) = (256,6,8,256,16), V 256; overhead at K = %d: (t_diag - t_plain) / (K t_plain),\n"
           "median over %d alternating pairs (min..max); parts: mean ms per diagnosed step\n\n",
           K, pairs);
    printf("| preset | diagnostics | step | diag step extra | overhead at K=%d | modules | group norms | snapshot | "
           "probe (orth resid) | spectral norms | orth+json | quantiles |\n",
           K);
    printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    const char *presets[2] = {"muon", "adamw"};
    for (int p = 0; p < 2; p++) {
        bench_t b;
        if (bench_init(&b, presets[p])) return 1;
        for (int w = 0; w < 3; w++) /* plan every shape; the first diag step is the cold one */
            if (step(&b, w == 2 ? 2 : 0) < 0) return fail("warm-up");
        if (measure(&b, presets[p], 1, pairs)) return 1;
        if (p == 0 && measure(&b, presets[p], 2, pairs / 3 > 2 ? pairs / 3 : 2)) return 1;
        bench_free(&b);
    }
    return 0;
}

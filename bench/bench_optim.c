/* bench_optim.c — optimizer cost per preset: state bytes per parameter and the time of one
 * optimizer step, for every registered preset (found through the public listing) at the
 * two bench models (d,L,H,T,B,V) = (128,4,4,128,32,256) and (256,6,8,256,16,256).
 *   state B/param = mu_optim_state_bytes / floats in the model's parameter arena (tied
 *                   wte counted once; the checkpoint header and signature are included).
 *   step ms       = median of N mu_optim_step calls after 2 warm-up steps; the gradients
 *                   come from one real forward/backward on random tokens, done before the
 *                   timed loop (forward/backward is never timed). N adapts: at least 3 steps
 *                   and about 1 s per preset per model (at most 200); past 180 s of total
 *                   wall time every further preset gets 3 (the run stays near 4 min on 2 cores).
 *   x adamw       = step time / adamw's step time measured in this run;
 *   x muon        = step time / muon's, measured side by side: every timed step of the preset
 *                   is followed by one step of a muon optimizer over the same model, and the
 *                   ratio is of the two medians (a 2-core VM drifts by 1.5x within minutes; the
 *                   pairing keeps the ratio honest where a muon time taken once at the start
 *                   would not);
 *   "<= 1.3x muon" is the acceptance check of issue 9 (methods the spec states as costlier
 *   are judged against that stated cost by the reader).
 * Prints the machine line first, then one markdown table per model.
 *   build/bin/bench_optim [SUBSTRING]   only presets whose name contains SUBSTRING
 *                                       (adamw and muon are always measured for the ratios) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muon/model.h"
#include "muon/optim.h"

enum { WARMUP = 2, MIN_STEPS = 3, MAX_STEPS = 200 };
static const double TARGET_S = 1.0;    // timed seconds per preset per model
static const double BUDGET_S = 180.0;  // after this much wall time, every preset gets MIN_STEPS only
static double g_start;
static int g_over_budget;

typedef struct {
    int32_t d, L, H, T, B, V;
} bench_model_t;

typedef struct {
    double bytes_per_param;
    double step_ms;  // median
    double pair_ms;  // median of the muon steps interleaved with it (0 without a pair)
    int steps;
} cost_t;


static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *t, int n) {
    qsort(t, (size_t)n, sizeof t[0], cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

/* A model with gradients from one forward/backward on random tokens (seeded: the same
 * gradients for every preset). */
static int model_open(const bench_model_t *bm, mu_gemm_ctx_t *g, mu_gpt_t **out) {
    mu_gpt_config_t c = mu_gpt_config_default();
    c.d_model = bm->d, c.n_layer = bm->L, c.n_head = bm->H, c.seq_len = bm->T, c.vocab = bm->V;
    c.dropout = 0.0f;
    mu_gpt_t *m = NULL;
    int rc = mu_gpt_init(&m, &c, bm->B, g);
    if (rc == MU_OK) rc = mu_gpt_init_weights(m, 1);
    int32_t n = bm->B * bm->T;
    int32_t *x = malloc(sizeof(int32_t) * (size_t)n), *y = malloc(sizeof(int32_t) * (size_t)n);
    if (rc == MU_OK && (!x || !y)) rc = mu_set_error(MU_ENOMEM, "bench_optim: out of memory for tokens");
    if (rc == MU_OK) {
        mu_rng_t r;
        mu_rng_seed(&r, 3);
        for (int32_t k = 0; k < n; k++)
            x[k] = (int32_t)mu_rng_below(&r, (uint64_t)bm->V), y[k] = (int32_t)mu_rng_below(&r, (uint64_t)bm->V);
        float loss;
        mu_gpt_zero_grad(m);
        rc = mu_gpt_forward(m, x, y, bm->B, bm->T, &loss);
        if (rc == MU_OK) rc = mu_gpt_backward(m, 1.0f);
    }
    free(x);
    free(y);
    if (rc != MU_OK) {
        mu_gpt_free(m);
        return rc;
    }
    *out = m;
    return MU_OK;
}

/* Cost of one preset at its default config on model m. The optimizer never writes the
 * gradients (each step copies them into its update buffer), so every step sees the same G.
 * With pair (a muon optimizer over m), each timed step is followed by a timed step of pair. */
static int measure(const char *preset, mu_gpt_t *m, mu_gemm_ctx_t *g, mu_optim_t *pair, cost_t *out) {
    mu_optim_config_t oc;
    mu_optim_t *o = NULL;
    int rc = mu_optim_config_for_preset(preset, &oc);
    if (rc == MU_OK) rc = mu_optim_init(&o, &oc, mu_gpt_params(m), mu_gpt_n_params(m), g);
    if (rc != MU_OK) return rc;
    for (int k = 0; k < WARMUP && rc == MU_OK; k++) rc = mu_optim_step(o, 1.0f);  // plans shapes, touches state
    double times[MAX_STEPS], ptimes[MAX_STEPS], total = 0;
    int n = 0;
    const double target = mu_time_s() - g_start > BUDGET_S ? 0.0 : TARGET_S;  // keeps the table in ~4 min
    if (target == 0.0) g_over_budget = 1;
    while (rc == MU_OK && n < MAX_STEPS && (n < MIN_STEPS || total < target)) {
        double t0 = mu_time_s();
        rc = mu_optim_step(o, 1.0f);
        times[n] = mu_time_s() - t0;
        total += times[n];
        if (pair && rc == MU_OK) {
            t0 = mu_time_s();
            rc = mu_optim_step(pair, 1.0f);
            ptimes[n] = mu_time_s() - t0;
        }
        n++;
    }
    if (rc == MU_OK) {
        out->step_ms = 1e3 * median(times, n);
        out->pair_ms = pair ? 1e3 * median(ptimes, n) : 0.0;
        out->steps = n;
        out->bytes_per_param = (double)mu_optim_state_bytes(o) / (double)mu_gpt_numel(m);
    }
    mu_optim_free(o);
    return rc;
}

static int bench_model(const bench_model_t *bm, const char *filter, int32_t *n_over) {
    mu_gemm_ctx_t *g = NULL;
    mu_gpt_t *m = NULL;
    mu_optim_t *pair = NULL;
    mu_optim_config_t pc;
    cost_t ref_adamw, ref_muon;
    if (mu_gemm_ctx_init(&g, MU_ENGINE_AUTO) != MU_OK || model_open(bm, g, &m) != MU_OK ||
        measure("adamw", m, g, NULL, &ref_adamw) != MU_OK || measure("muon", m, g, NULL, &ref_muon) != MU_OK ||
        mu_optim_config_for_preset("muon", &pc) != MU_OK ||
        mu_optim_init(&pair, &pc, mu_gpt_params(m), mu_gpt_n_params(m), g) != MU_OK) {
        fprintf(stderr, "bench_optim: model (d=%d,L=%d): %s\n", bm->d, bm->L, mu_last_error());
        mu_gpt_free(m);
        mu_gemm_ctx_free(g);
        return 1;
    }
    printf("\nmodel (d,L,H,T,B,V) = (%d,%d,%d,%d,%d,%d), %lld parameters; adamw %.3f ms, muon %.3f ms per step\n\n",
           bm->d, bm->L, bm->H, bm->T, bm->B, bm->V, (long long)mu_gpt_numel(m), ref_adamw.step_ms, ref_muon.step_ms);
    printf("| preset | state B/param | step ms (median) | steps | muon ms (paired) | x adamw | x muon "
           "| <= 1.3x muon |\n");
    printf("|---|---|---|---|---|---|---|---|\n");
    fflush(stdout);
    int rc = 0;
    for (int32_t i = 0; i < mu_optim_preset_count(); i++) {
        mu_optim_preset_info_t pi;
        if (mu_optim_preset_info(i, &pi) != MU_OK) continue;
        if (filter && !strstr(pi.name, filter)) continue;
        cost_t c;
        if (!strcmp(pi.name, "adamw")) c = ref_adamw;  // the reference runs are the rows
        else if (!strcmp(pi.name, "muon")) c = ref_muon;
        else if (measure(pi.name, m, g, pair, &c) != MU_OK) {
            printf("| %s | - | - | - | - | - | - | error: %s |\n", pi.name, mu_last_error());
            rc = 1;
            continue;
        }
        double rm = c.step_ms / (c.pair_ms > 0 ? c.pair_ms : ref_muon.step_ms);
        if (rm > 1.3) (*n_over)++;
        printf("| %s | %.2f | %.3f | %d | %.3f | %.2f | %.2f | %s |\n", pi.name, c.bytes_per_param, c.step_ms,
               c.steps, c.pair_ms > 0 ? c.pair_ms : ref_muon.step_ms, c.step_ms / ref_adamw.step_ms, rm,
               rm <= 1.3 ? "yes" : "NO");
        fflush(stdout);
    }
    mu_optim_free(pair);
    mu_gpt_free(m);
    mu_gemm_ctx_free(g);
    return rc;
}

int main(int argc, char **argv) {
    const char *filter = argc > 1 ? argv[1] : NULL;
    mu_threads_set(0);
    char machine[512];
    mu_machine_line(machine, sizeof machine);
    printf("%s\n", machine);
    printf("optimizer step cost per preset (default config of each preset); threads %d%s%s\n", mu_threads_get(),
           filter ? "; filter: " : "", filter ? filter : "");
    double load[1];
    if (getloadavg(load, 1) == 1 && load[0] > 0.5)  // other processes would stall the OpenMP barriers
        printf("warning: load average %.2f before the run: step times (and ratios) are unreliable on a busy "
               "machine\n", load[0]);
    static const bench_model_t models[] = {{128, 4, 4, 128, 32, 256}, {256, 6, 8, 256, 16, 256}};
    int rc = 0;
    int32_t n_over = 0;
    double t0 = g_start = mu_time_s();
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) rc |= bench_model(&models[i], filter, &n_over);
    printf("\n%d preset/model pairs over 1.3x muon's step time; total %.1f s%s\n", n_over, mu_time_s() - t0,
           g_over_budget ? " (time budget reached: later presets timed over 3 steps only)" : "");
    return rc;
}

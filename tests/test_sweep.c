/* test_sweep.c — the μTransfer summary math (parabola vertex, optimum per width, drift,
 * slope, seed bootstrap; +inf and missing runs) against hand-computed numbers, and
 * `muon sweep` end to end on a generated corpus: run directories, summary files, skipping
 * finished runs, resuming an interrupted one, diverged/failed runs, usage errors, and
 * bit-identical results for --jobs 1 and --jobs 2 at equal per-run threads, and `muon report
 * transfer` on hand-written sweeps of exact parabolas (the CLI parts need MUON_BIN). */
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "muon/report.h"
#include "muon/train.h"
#include "testutil.h"

/* ---- math ---- */

/* loss(x) = a (x − v)² + c: an exact parabola in x = log2 LR */
static double parab(double x, double a, double v, double c) { return a * (x - v) * (x - v) + c; }

static void test_parabola_vertex_exact(void **s) {
    double x[3] = {-8, -7, -6}, y[3], xv, yv;
    for (int i = 0; i < 3; i++) y[i] = parab(x[i], 0.4, -7.3, 1.5);
    assert_int_equal(mu_parabola_vertex(x, y, &xv, &yv), MU_OK);
    assert_close(xv, -7.3, 1e-12, 0);
    assert_close(yv, 1.5, 1e-12, 0);
    /* uneven spacing, points in any order */
    double x2[3] = {-6, -9, -7.5}, y2[3];
    for (int i = 0; i < 3; i++) y2[i] = parab(x2[i], 2.0, -8.25, 3.0);
    assert_int_equal(mu_parabola_vertex(x2, y2, &xv, &yv), MU_OK);
    assert_close(xv, -8.25, 1e-12, 0);
    assert_close(yv, 3.0, 1e-12, 0);
    /* hand-computed: (0,1), (1,0), (2,2): a = ((2−0) − (0−1))/2 = 1.5, d1 = −1,
     * xv = 0.5 + 1/3 = 5/6, yv = 1 − 5/6 + 1.5·(5/6)(−1/6) = −1/24 */
    double x3[3] = {0, 1, 2}, y3[3] = {1, 0, 2};
    assert_int_equal(mu_parabola_vertex(x3, y3, &xv, &yv), MU_OK);
    assert_close(xv, 5.0 / 6.0, 1e-15, 0);
    assert_close(yv, -1.0 / 24.0, 1e-15, 0);
}

static void test_parabola_vertex_rejects(void **s) {
    double xv, yv;
    double x[3] = {0, 1, 2}, line[3] = {1, 2, 3}, cap[3] = {0, 1, 0}, dup[3] = {0, 0, 2};
    assert_int_equal(mu_parabola_vertex(x, line, &xv, &yv), MU_EINVAL); /* collinear */
    assert_int_equal(mu_parabola_vertex(x, cap, &xv, &yv), MU_EINVAL);  /* a maximum */
    assert_non_null(strstr(mu_last_error(), "no minimum"));
    assert_int_equal(mu_parabola_vertex(dup, line, &xv, &yv), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "distinct"));
    assert_int_equal(mu_parabola_vertex(NULL, line, &xv, &yv), MU_EINVAL);
}

static void test_lr_optimum_refined(void **s) {
    /* 7-point factor-2 grid 2^-10 .. 2^-4; the exact parabola's vertex -7.3 is off the grid */
    double lx[7], loss[7];
    for (int j = 0; j < 7; j++) lx[j] = -10 + j, loss[j] = parab(lx[j], 0.3, -7.3, 2.0);
    mu_lr_optimum_t o;
    assert_int_equal(mu_lr_optimum(lx, loss, 7, &o), MU_OK);
    assert_int_equal(o.index, 3); /* -7 */
    assert_int_equal(o.edge, 0);
    assert_int_equal(o.refined, 1);
    assert_close(o.log2_lr, -7.3, 1e-12, 0);
    assert_close(o.loss, parab(-7, 0.3, -7.3, 2.0), 1e-15, 0);
    assert_close(o.vertex_loss, 2.0, 1e-12, 0);
    /* a missing point (NaN) next to the argmin: the next present point is the neighbour, and
     * an exact parabola still gives its exact vertex */
    loss[2] = NAN;
    assert_int_equal(mu_lr_optimum(lx, loss, 7, &o), MU_OK);
    assert_int_equal(o.index, 3);
    assert_int_equal(o.refined, 1);
    assert_close(o.log2_lr, -7.3, 1e-12, 0);
}

static void test_lr_optimum_edge_not_extrapolated(void **s) {
    double lx[5] = {-9, -8, -7, -6, -5}, down[5] = {3.0, 2.5, 2.2, 2.1, 2.05}, up[5] = {1.0, 1.1, 1.3, 1.6, 2.0};
    mu_lr_optimum_t o;
    assert_int_equal(mu_lr_optimum(lx, down, 5, &o), MU_OK);
    assert_int_equal(o.index, 4);
    assert_int_equal(o.edge, 1);
    assert_int_equal(o.refined, 0);
    assert_close(o.log2_lr, -5, 0, 0);
    assert_close(o.vertex_loss, 2.05, 0, 0);
    assert_int_equal(mu_lr_optimum(lx, up, 5, &o), MU_OK);
    assert_int_equal(o.index, 0);
    assert_int_equal(o.edge, 1);
    assert_close(o.log2_lr, -9, 0, 0);
    /* the edge is the last point that has a result: NaN beyond it does not count */
    double tail[5] = {3.0, 2.5, 2.2, NAN, NAN};
    assert_int_equal(mu_lr_optimum(lx, tail, 5, &o), MU_OK);
    assert_int_equal(o.index, 2);
    assert_int_equal(o.edge, 1);
    /* ties go to the smaller LR */
    double tie[5] = {3.0, 2.0, 2.0, 2.5, 3.0};
    assert_int_equal(mu_lr_optimum(lx, tie, 5, &o), MU_OK);
    assert_int_equal(o.index, 1);
    /* bad input */
    double desc[3] = {-5, -6, -7};
    assert_int_equal(mu_lr_optimum(desc, up, 3, &o), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "ascending"));
    assert_int_equal(mu_lr_optimum(lx, up, 0, &o), MU_EINVAL);
}

static void test_lr_optimum_infinite(void **s) {
    double lx[5] = {-9, -8, -7, -6, -5};
    mu_lr_optimum_t o;
    /* the right neighbour diverged: the grid point, not a parabola through +inf */
    double div[5] = {2.6, 2.3, 2.1, INFINITY, INFINITY};
    assert_int_equal(mu_lr_optimum(lx, div, 5, &o), MU_OK);
    assert_int_equal(o.index, 2);
    assert_int_equal(o.edge, 0);
    assert_int_equal(o.refined, 0);
    assert_close(o.log2_lr, -7, 0, 0);
    assert_close(o.vertex_loss, 2.1, 0, 0);
    /* +inf is never the argmin */
    double first_inf[5] = {INFINITY, 2.3, 2.1, 2.2, 2.6};
    assert_int_equal(mu_lr_optimum(lx, first_inf, 5, &o), MU_OK);
    assert_int_equal(o.index, 2);
    assert_int_equal(o.refined, 1);
    /* every run diverged: no optimum */
    double all[5] = {INFINITY, INFINITY, INFINITY, INFINITY, INFINITY};
    assert_int_equal(mu_lr_optimum(lx, all, 5, &o), MU_OK);
    assert_int_equal(o.index, -1);
    assert_true(isnan(o.log2_lr));
    double neg[5] = {1, 2, -INFINITY, 3, 4};
    assert_int_equal(mu_lr_optimum(lx, neg, 5, &o), MU_EINVAL);
}

static void test_lsq_slope_and_quantile(void **s) {
    double x[4] = {6, 7, 8, 9}, y[4] = {-1, 1, 3, 5}, slope;
    assert_int_equal(mu_lsq_slope(x, y, 4, &slope), MU_OK);
    assert_close(slope, 2.0, 1e-15, 0);
    /* hand-computed: x = 0,1,2, y = 0,2,1: Sxy = (−1)(−1) + 0 + (1)(0) = 1, Sxx = 2 */
    double x2[3] = {0, 1, 2}, y2[3] = {0, 2, 1};
    assert_int_equal(mu_lsq_slope(x2, y2, 3, &slope), MU_OK);
    assert_close(slope, 0.5, 1e-15, 0);
    double same[2] = {3, 3};
    assert_int_equal(mu_lsq_slope(same, y, 2, &slope), MU_EINVAL);
    assert_int_equal(mu_lsq_slope(x, y, 1, &slope), MU_EINVAL);
    /* type-7 quantiles of {4, 1, 3, 2}: h = 3q, interpolated between order statistics */
    double v[4] = {4, 1, 3, 2}, q;
    assert_int_equal(mu_quantile(v, 4, 0.05, &q), MU_OK);
    assert_close(q, 1.15, 1e-15, 0);
    assert_int_equal(mu_quantile(v, 4, 0.95, &q), MU_OK);
    assert_close(q, 3.85, 1e-15, 0);
    assert_int_equal(mu_quantile(v, 4, 0.5, &q), MU_OK);
    assert_close(q, 2.5, 1e-15, 0);
    assert_int_equal(mu_quantile(v, 4, 1.0, &q), MU_OK);
    assert_close(q, 4, 0, 0);
    assert_int_equal(mu_quantile(v, 4, 1.5, &q), MU_EINVAL);
}

static void test_seed_mean_rules(void **s) {
    /* 3 seeds × 4 LRs: a diverged seed makes the mean +inf, missing runs are left out */
    double lx[4] = {-8, -7, -6, -5};
    double loss[12] = {2.0, 1.8, 1.9, INFINITY, /* seed 0 */
                       2.2, NAN, 1.7, 2.5,      /* seed 1 */
                       2.4, 1.6, NAN, 2.6};     /* seed 2 */
    mu_transfer_width_t w = {.log2_width = 6, .n_lr = 4, .log2_lr = lx, .n_seeds = 3, .loss = loss};
    double m[4];
    assert_int_equal(mu_transfer_seed_mean(&w, m), MU_OK);
    assert_close(m[0], 2.2, 1e-15, 0);
    assert_close(m[1], 1.7, 1e-15, 0);
    assert_close(m[2], 1.8, 1e-15, 0);
    assert_true(isinf(m[3]) && m[3] > 0);
    double none[4] = {NAN, NAN, NAN, NAN};
    mu_transfer_width_t w1 = {.log2_width = 6, .n_lr = 4, .log2_lr = lx, .n_seeds = 1, .loss = none};
    assert_int_equal(mu_transfer_seed_mean(&w1, m), MU_OK);
    assert_true(isnan(m[0]) && isnan(m[3]));
}

/* Widths 64..512, grid 2^-12..2^-2, seeds whose loss curves are exact parabolas with vertex
 * log2 η*(w) + off[s]: η* = c · w^p. */
#define NW 4
#define NL 11
#define NS 3
typedef struct {
    double lx[NL], loss[NW][NS * NL];
    mu_transfer_width_t w[NW];
} synth_t;

static void synth(synth_t *t, double c, double p, const double off[NW][NS]) {
    for (int j = 0; j < NL; j++) t->lx[j] = -12 + j;
    for (int i = 0; i < NW; i++) {
        double lw = 6 + i, v = log2(c) + p * lw;
        for (int sd = 0; sd < NS; sd++)
            for (int j = 0; j < NL; j++) t->loss[i][sd * NL + j] = parab(t->lx[j], 0.25, v + off[i][sd], 1.0 + 0.1 * i);
        t->w[i] = (mu_transfer_width_t){.log2_width = lw, .n_lr = NL, .log2_lr = t->lx, .n_seeds = NS,
                                        .loss = t->loss[i]};
    }
}

static void test_transfer_slope_minus_one(void **s) {
    /* η* = 0.3 · w^-1: log2 η* = log2 0.3 − log2 w, slope exactly −1; seeds agree, so the
     * bootstrap interval collapses onto the point estimate */
    static synth_t t;
    const double zero[NW][NS] = {{0}};
    synth(&t, 0.3, -1.0, zero);
    mu_lr_optimum_t opt[NW];
    mu_transfer_t r;
    assert_int_equal(mu_transfer_analyze(t.w, NW, 1000, 1, opt, &r), MU_OK);
    for (int i = 0; i < NW; i++) {
        assert_int_equal(opt[i].refined, 1);
        assert_int_equal(opt[i].edge, 0);
        assert_close(opt[i].log2_lr, log2(0.3) - (6 + i), 1e-9, 0);
    }
    assert_int_equal(r.n_opt, NW);
    assert_int_equal(r.n_edge, 0);
    assert_close(r.grid_step, 1.0, 0, 0);
    assert_close(r.drift, 3.0, 1e-9, 0); /* log2 512 − log2 64 */
    assert_close(r.drift_steps, 3.0, 1e-9, 0);
    assert_close(r.slope, -1.0, 1e-9, 0);
    assert_int_equal(r.n_boot, 1000);
    assert_close(r.slope_lo, -1.0, 1e-9, 0);
    assert_close(r.slope_hi, -1.0, 1e-9, 0);
    /* μP-like transfer: η* constant in width, slope 0 and no drift */
    synth(&t, 0.01, 0.0, zero);
    assert_int_equal(mu_transfer_analyze(t.w, NW, 100, 1, opt, &r), MU_OK);
    assert_close(r.slope, 0.0, 1e-9, 0);
    assert_close(r.drift, 0.0, 1e-9, 0);
}

static void test_transfer_bootstrap_interval(void **s) {
    /* seeds disagree: the mean of parabolas a(x − v_s)² is a parabola with vertex mean(v_s),
     * so the point estimate is still exact (offsets sum to zero per width) while resampled
     * seed sets move the optima: an interval of positive width that holds the estimate */
    static synth_t t;
    const double off[NW][NS] = {{-0.4, 0.1, 0.3}, {0.5, -0.2, -0.3}, {-0.1, -0.3, 0.4}, {0.2, 0.2, -0.4}};
    synth(&t, 0.3, -0.5, off);
    mu_lr_optimum_t opt[NW];
    mu_transfer_t r, r2;
    assert_int_equal(mu_transfer_analyze(t.w, NW, 1000, 7, opt, &r), MU_OK);
    assert_close(r.slope, -0.5, 1e-9, 0);
    assert_true(r.slope_lo < r.slope - 0.01);
    assert_true(r.slope_hi > r.slope + 0.01);
    assert_true(r.slope_hi - r.slope_lo < 1.0);
    assert_int_equal(r.n_boot, 1000);
    /* fixed RNG seed: the same interval again; another seed: a different one */
    assert_int_equal(mu_transfer_analyze(t.w, NW, 1000, 7, opt, &r2), MU_OK);
    assert_true(r2.slope_lo == r.slope_lo && r2.slope_hi == r.slope_hi);
    assert_int_equal(mu_transfer_analyze(t.w, NW, 1000, 8, opt, &r2), MU_OK);
    assert_true(r2.slope_lo != r.slope_lo || r2.slope_hi != r.slope_hi);
}

static void test_transfer_infinite_and_edges(void **s) {
    static synth_t t;
    const double zero[NW][NS] = {{0}};
    synth(&t, 0.3, -1.0, zero);
    /* width 512 (i = 3): every LR diverged for every seed -> no optimum, left out */
    for (int k = 0; k < NS * NL; k++) t.loss[3][k] = INFINITY;
    /* width 256 (i = 2): seed 1 diverged at the LR just above the optimum -> mean +inf there,
     * the optimum falls back to the grid point (log2 0.3 − 8 = −9.74: argmin −10) */
    t.loss[2][1 * NL + 3] = INFINITY; /* x = −9 */
    mu_lr_optimum_t opt[NW];
    mu_transfer_t r;
    assert_int_equal(mu_transfer_analyze(t.w, NW, 200, 1, opt, &r), MU_OK);
    assert_int_equal(opt[3].index, -1);
    assert_int_equal(opt[2].index, 2);
    assert_int_equal(opt[2].refined, 0);
    assert_close(opt[2].log2_lr, -10, 0, 0);
    assert_int_equal(r.n_opt, 3);
    /* drift over widths 64..256: (log2 0.3 − 6) − (−10) */
    assert_close(r.drift, log2(0.3) - 6 + 10, 1e-9, 0);
    /* slope through (6, log2 .3 − 6), (7, log2 .3 − 7), (8, −10) */
    double xs[3] = {6, 7, 8}, ys[3] = {log2(0.3) - 6, log2(0.3) - 7, -10}, want;
    assert_int_equal(mu_lsq_slope(xs, ys, 3, &want), MU_OK);
    assert_close(r.slope, want, 1e-9, 0);
    /* an edge optimum: the grid value, flagged and counted */
    static synth_t e;
    synth(&e, 1.0, 0.0, zero); /* vertex log2 1 = 0 is beyond the grid's −2 */
    assert_int_equal(mu_transfer_analyze(e.w, NW, 0, 1, opt, &r), MU_OK);
    for (int i = 0; i < NW; i++) {
        assert_int_equal(opt[i].edge, 1);
        assert_close(opt[i].log2_lr, -2, 0, 0);
    }
    assert_int_equal(r.n_edge, NW);
    assert_int_equal(r.n_boot, 0);
    assert_true(isnan(r.slope_lo));
    /* one width: no slope */
    assert_int_equal(mu_transfer_analyze(t.w, 1, 100, 1, opt, &r), MU_OK);
    assert_true(isnan(r.slope));
    assert_close(r.drift, 0, 0, 0);
    assert_int_equal(mu_transfer_analyze(t.w, 0, 100, 1, opt, &r), MU_EINVAL);
    assert_int_equal(mu_transfer_analyze(NULL, 1, 100, 1, opt, &r), MU_EINVAL);
}

/* ---- the CLI ---- */

static char dir[256];

#define NEED_BIN()                                           \
    do {                                                     \
        const char *b_ = getenv("MUON_BIN");                 \
        if (!b_ || access(b_, X_OK) != 0) skip();            \
    } while (0)

/* `muon ARGS` in the scratch directory with a timeout; stdout+stderr into out. */
static int run(const char *args, char *out, size_t cap) { return mu_test_run_muon(dir, 300, args, out, cap); }

static int count(const char *s, const char *needle) {
    int n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

static char *slurp(const char *rel) {
    char p[700];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    char *buf = NULL;
    size_t len;
    if (mu_file_read_all(p, (void **)&buf, &len) != MU_OK) return NULL;
    return buf;
}

static int exists(const char *rel) {
    char p[700];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    return access(p, F_OK) == 0;
}

static int setup(void **s) {
    if (!getenv("MUON_BIN")) return 0;
    mu_test_tmpdir(dir, sizeof dir, "sweep");
    char p[400];
    snprintf(p, sizeof p, "%s/corpus.txt", dir);
    FILE *f = fopen(p, "w");
    if (!f) return -1;
    static const char *words[] = {"the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", ".", "\n"};
    mu_rng_t r;
    mu_rng_seed(&r, 3);
    for (int i = 0; i < 6000; i++) fprintf(f, "%s ", words[mu_rng_below(&r, 11)]);
    fclose(f);
    return 0;
}

/* the tiny model every CLI test trains */
#define TINY "--data corpus.txt --steps 3 --n-layer 1 --n-head 2 --seq-len 16 --batch 4 --gemm openblas --eval-windows 2"

static void test_cli_sweep_runs_skips_and_summarizes(void **s) {
    NEED_BIN();
    static char out[65536];
    const char *cmd = "sweep --out sw1 --grid d-model=16,32 --grid lr=2^-7:2^-6 --threads 1 -- " TINY;
    int rc = run(cmd, out, sizeof out);
    if (rc != 0) fail_msg("exit %d:\n%s", rc, out);
    assert_non_null(strstr(out, "0 finished (skipped), 0 to resume, 4 to run"));
    assert_non_null(strstr(out, "[1/4] d-model=16,lr=0.0078125 ... val "));
    assert_non_null(strstr(out, "[4/4] d-model=32,lr=0.015625 ... val "));
    const char *names[4] = {"d-model=16,lr=0.0078125", "d-model=16,lr=0.015625", "d-model=32,lr=0.0078125",
                            "d-model=32,lr=0.015625"};
    for (int i = 0; i < 4; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "sw1/runs/%s/result.json", names[i]);
        char *res = slurp(rel);
        assert_non_null(res);
        assert_non_null(strstr(res, "\"status\":\t\"done\""));
        free(res);
        snprintf(rel, sizeof rel, "sw1/runs/%s/log.txt", names[i]);
        char *log = slurp(rel);
        assert_non_null(log);
        assert_non_null(strstr(log, "val loss")); /* muon train's own output */
        free(log);
        snprintf(rel, sizeof rel, "sw1/runs/%s/config.txt", names[i]);
        char *cfg = slurp(rel);
        assert_non_null(cfg);
        assert_non_null(strstr(cfg, "threads = 1\n"));
        assert_non_null(strstr(cfg, "ckpt = none\n"));
        free(cfg);
    }
    assert_false(exists("sw1/runs/d-model=16,lr=0.0078125/model.safetensors")); /* --ckpt none */
    char *csv = slurp("sw1/summary.csv");
    assert_non_null(csv);
    assert_int_equal(count(csv, "\n"), 5);
    assert_non_null(strstr(csv, "name,d-model,lr,seed,val_loss,tokens,train_s,wall_s,status\n"));
    assert_non_null(strstr(csv, "\"d-model=32,lr=0.015625\",32,0.015625,1337,"));
    assert_int_equal(count(csv, ",192,"), 4); /* 3 steps × 4 × 16 tokens */
    assert_int_equal(count(csv, ",done\n"), 4);
    char *md = slurp("sw1/summary.md");
    assert_non_null(md);
    assert_non_null(strstr(md, "runs: 4 (4 done, 0 diverged"));
    assert_non_null(strstr(md, "| 16 | 1 | 2 |"));
    assert_non_null(strstr(md, "| 32 | 1 | 2 |"));
    assert_non_null(strstr(out, "drift: ")); /* the tables go to stdout too */
    assert_true(exists("sw1/summary.svg"));
    char *svg = slurp("sw1/summary.svg");
    assert_non_null(strstr(svg, ">d-model=16</text>"));
    assert_non_null(strstr(svg, ">d-model=32</text>"));
    free(svg);

    /* again: everything is finished, nothing runs, same summary */
    rc = run(cmd, out, sizeof out);
    if (rc != 0) fail_msg("rerun: exit %d:\n%s", rc, out);
    assert_non_null(strstr(out, "4 finished (skipped), 0 to resume, 0 to run"));
    assert_null(strstr(out, "[1/"));
    char *csv2 = slurp("sw1/summary.csv");
    /* wall times are the same numbers (read back), so the whole file is */
    assert_string_equal(csv, csv2);
    free(csv2);

    /* --summary-only rebuilds the files from the run directories alone */
    char p[400];
    snprintf(p, sizeof p, "%s/sw1/summary.csv", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/sw1/summary.md", dir);
    unlink(p);
    rc = run("sweep --out sw1 --summary-only", out, sizeof out);
    if (rc != 0) fail_msg("summary-only: exit %d:\n%s", rc, out);
    csv2 = slurp("sw1/summary.csv");
    assert_non_null(csv2);
    assert_string_equal(csv, csv2);
    char *md2 = slurp("sw1/summary.md");
    assert_non_null(md2);
    assert_string_equal(md, md2);
    free(csv), free(csv2), free(md), free(md2);

    /* a run whose final eval line is gone (as if killed) is run again from scratch */
    snprintf(p, sizeof p, "%s/sw1/runs/d-model=32,lr=0.015625/result.json", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/sw1/runs/d-model=32,lr=0.015625/metrics.jsonl", dir);
    FILE *f = fopen(p, "w");
    fputs("{\"step\":1,\"loss\":5.5,\"lr\":0.01,\"grad_norm\":1,\"tokens\":64,\"elapsed_s\":0.01}\n", f);
    fclose(f);
    rc = run(cmd, out, sizeof out);
    if (rc != 0) fail_msg("after a kill: exit %d:\n%s", rc, out);
    assert_non_null(strstr(out, "3 finished (skipped), 0 to resume, 1 to run"));
    assert_non_null(strstr(out, "[1/1] d-model=32,lr=0.015625 ... val "));
    char *m = slurp("sw1/runs/d-model=32,lr=0.015625/metrics.jsonl");
    assert_non_null(m);
    assert_null(strstr(m, "\"loss\":5.5,")); /* the stale file was removed, not appended to */
    free(m);
}

static void test_cli_sweep_diverged_and_failed(void **s) {
    NEED_BIN();
    static char out[65536];
    /* lr 1e30 with SGD diverges (exit 3: a result, loss +inf); n-head 3 does not divide
     * d-model 16 (exit 1: a failure, reported, the sweep goes on and exits 1) */
    int rc = run("sweep --out sw2 --grid lr=1e-3,1e30 --grid n-head=2,3 --set optim=sgd --set grad-clip=0 "
                 "--threads 1 -- --data corpus.txt --steps 4 --n-layer 1 --d-model 16 --seq-len 16 --batch 4 "
                 "--gemm openblas --eval-windows 2 --schedule constant --warmup 0",
                 out, sizeof out);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "lr=1e30,n-head=2 ... diverged (loss +inf)"));
    assert_non_null(strstr(out, "lr=1e-3,n-head=3 ... FAILED, exit 1: muon train: "));
    assert_non_null(strstr(out, "not divisible"));
    assert_non_null(strstr(out, "1 done, 1 diverged, 2 failed"));
    char *csv = slurp("sw2/summary.csv");
    assert_non_null(csv);
    assert_non_null(strstr(csv, "\"lr=1e30,n-head=2\",1e30,2,1337,inf,"));
    assert_non_null(strstr(csv, ",diverged\n"));
    assert_int_equal(count(csv, ",failed\n"), 2);
    free(csv);
    char *res = slurp("sw2/runs/lr=1e30,n-head=2/result.json");
    assert_non_null(strstr(res, "\"exit\":\t3"));
    assert_non_null(strstr(res, "\"val_loss\":\tnull"));
    free(res);
    /* rerun: the diverged run is a finished result, the failed ones are retried */
    rc = run("sweep --out sw2 --grid lr=1e-3,1e30 --grid n-head=2,3 --set optim=sgd --set grad-clip=0 "
             "--threads 1 -- --data corpus.txt --steps 4 --n-layer 1 --d-model 16 --seq-len 16 --batch 4 "
             "--gemm openblas --eval-windows 2 --schedule constant --warmup 0",
             out, sizeof out);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "2 finished (skipped), 0 to resume, 2 to run"));
}

/* Every tensor of a/model.safetensors equals b's bit for bit. */
static void assert_same_weights(const char *a, const char *b) {
    mu_safetensors_t *sa, *sb;
    char pa[700], pb[700];
    snprintf(pa, sizeof pa, "%s/%s/model.safetensors", dir, a);
    snprintf(pb, sizeof pb, "%s/%s/model.safetensors", dir, b);
    assert_int_equal(mu_safetensors_open(&sa, pa), MU_OK);
    assert_int_equal(mu_safetensors_open(&sb, pb), MU_OK);
    assert_int_equal(mu_safetensors_count(sa), mu_safetensors_count(sb));
    for (int32_t i = 0; i < mu_safetensors_count(sa); i++) {
        const char *name = mu_safetensors_name(sa, i);
        int32_t nd;
        int64_t sh[4], n = 1;
        const char *dt;
        assert_int_equal(mu_safetensors_info(sa, name, &nd, sh, &dt), MU_OK);
        for (int k = 0; k < nd; k++) n *= sh[k];
        float *x = malloc(sizeof(float) * (size_t)n), *y = malloc(sizeof(float) * (size_t)n);
        assert_int_equal(mu_safetensors_read_f32(sa, name, x, n), MU_OK);
        assert_int_equal(mu_safetensors_read_f32(sb, name, y, n), MU_OK);
        if (memcmp(x, y, sizeof(float) * (size_t)n)) fail_msg("%s: tensor %s differs between %s and %s", a, name, a, b);
        free(x), free(y);
    }
    mu_safetensors_free(sa);
    mu_safetensors_free(sb);
}

/* The "val_loss" field of a result.json as text (bit-level comparison of what was stored). */
static void val_text(const char *rel, char *buf, size_t cap) {
    char *r = slurp(rel);
    assert_non_null(r);
    const char *v = strstr(r, "\"val_loss\":");
    assert_non_null(v);
    snprintf(buf, cap, "%.*s", (int)strcspn(v, ",\n"), v);
    free(r);
}

static void test_cli_sweep_jobs_bit_identical(void **s) {
    NEED_BIN();
    static char out[65536];
    /* --jobs 1 --threads 1 and --jobs 2 --threads 2 both give every run 1 thread */
    const char *grid = "--grid lr=2^-8,2^-6 --grid seed=1,2 --ckpt last -- " TINY " --d-model 16 --steps 5";
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "sweep --out seq --jobs 1 --threads 1 %s", grid);
    int rc = run(cmd, out, sizeof out);
    if (rc != 0) fail_msg("jobs 1: exit %d:\n%s", rc, out);
    assert_non_null(strstr(out, "1 at a time with 1 thread each"));
    snprintf(cmd, sizeof cmd, "sweep --out par --jobs 2 --threads 2 %s", grid);
    rc = run(cmd, out, sizeof out);
    if (rc != 0) fail_msg("jobs 2: exit %d:\n%s", rc, out);
    assert_non_null(strstr(out, "2 at a time with 1 thread each"));
    const char *names[4] = {"lr=0.00390625,seed=1", "lr=0.00390625,seed=2", "lr=0.015625,seed=1",
                            "lr=0.015625,seed=2"};
    char a[300], b[300], va[128], vb[128];
    for (int i = 0; i < 4; i++) {
        snprintf(a, sizeof a, "seq/runs/%s", names[i]);
        snprintf(b, sizeof b, "par/runs/%s", names[i]);
        assert_same_weights(a, b);
        snprintf(a, sizeof a, "seq/runs/%s/result.json", names[i]);
        snprintf(b, sizeof b, "par/runs/%s/result.json", names[i]);
        val_text(a, va, sizeof va);
        val_text(b, vb, sizeof vb);
        assert_string_equal(va, vb);
    }
    /* and the seeds really differ (the comparison is not vacuous) */
    val_text("seq/runs/lr=0.00390625,seed=1/result.json", va, sizeof va);
    val_text("seq/runs/lr=0.00390625,seed=2/result.json", vb, sizeof vb);
    assert_string_not_equal(va, vb);
}

/* SIGINT to the sweep: the running `muon train` checkpoints and stops, the sweep exits 1;
 * the same command then resumes that run (--ckpt last) and finishes it. */
static void test_cli_sweep_interrupt_and_resume(void **s) {
    NEED_BIN();
    char log[400], cmd[2048];
    snprintf(log, sizeof log, "%s/int.log", dir);
    /* about 2 s of training: the interrupt lands within the first steps */
    const char *args = "sweep --out sw3 --grid lr=2^-7 --ckpt last --threads 1 -- --data corpus.txt "
                       "--steps 3000 --n-layer 1 --n-head 2 --d-model 16 --seq-len 16 --batch 4 --gemm openblas "
                       "--eval-windows 2 --eval-every 0 --log-every 1";
    snprintf(cmd, sizeof cmd, "cd %s && exec %s %s > %s 2>&1", dir, getenv("MUON_BIN"), args, log);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    char metrics[400];
    snprintf(metrics, sizeof metrics, "%s/sw3/runs/lr=0.0078125/metrics.jsonl", dir);
    struct stat sb;
    for (int i = 0; i < 6000 && !(stat(metrics, &sb) == 0 && sb.st_size > 300); i++) usleep(5000);
    assert_true(stat(metrics, &sb) == 0 && sb.st_size > 300);
    kill(pid, SIGINT);
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st));
    char *o = slurp("int.log");
    assert_non_null(o);
    if (WEXITSTATUS(st) != 1) fail_msg("exit %d:\n%s", WEXITSTATUS(st), o);
    assert_non_null(strstr(o, "[1/1] lr=0.0078125 ... interrupted"));
    assert_non_null(strstr(o, "0 done, 0 diverged, 0 failed, 1 interrupted"));
    assert_non_null(strstr(o, "interrupted; run the same command again"));
    free(o);
    assert_true(exists("sw3/runs/lr=0.0078125/state.bin"));
    assert_false(exists("sw3/runs/lr=0.0078125/result.json"));
    char *m = slurp("sw3/runs/lr=0.0078125/metrics.jsonl");
    assert_non_null(strstr(m, "\"event\":\"stopped\""));
    free(m);

    static char out[65536];
    int rc = run(args, out, sizeof out);
    if (rc != 0) fail_msg("resume: exit %d:\n%s", rc, out);
    assert_non_null(strstr(out, "0 finished (skipped), 1 to resume, 0 to run"));
    assert_non_null(strstr(out, "[1/1] lr=0.0078125 ... val "));
    char *lg = slurp("sw3/runs/lr=0.0078125/log.txt");
    assert_non_null(strstr(lg, "$ muon train --resume sw3/runs/lr=0.0078125\n"));
    assert_non_null(strstr(lg, "done: 3000 steps"));
    free(lg);
    m = slurp("sw3/runs/lr=0.0078125/metrics.jsonl");
    assert_non_null(strstr(m, "\"event\":\"resumed\""));
    free(m);
    char *res = slurp("sw3/runs/lr=0.0078125/result.json");
    assert_non_null(strstr(res, "\"status\":\t\"done\""));
    assert_non_null(strstr(res, "\"tokens\":\t192000"));
    free(res);
}

/* `muon ARGS` exits with code and prints needle on a line that starts with prefix. */
typedef struct {
    const char *args;
    int code;
    const char *needle;
} cli_case_t;

static void check_cases(const cli_case_t *cases, size_t n, const char *prefix) {
    static char out[65536];
    for (size_t i = 0; i < n; i++) {
        int rc = run(cases[i].args, out, sizeof out);
        if (rc != cases[i].code || !strstr(out, cases[i].needle) || !strstr(out, prefix))
            fail_msg("muon %s: exit %d (want %d), output lacks '%s' or '%s':\n%s", cases[i].args, rc, cases[i].code,
                     cases[i].needle, prefix, out);
    }
}

static void test_cli_sweep_usage_errors(void **s) {
    NEED_BIN();
    static char out[65536];
    static const cli_case_t cases[] = {
        {"sweep --grid lr=1,2", 2, "--out DIR is required"},
        {"sweep --out u", 2, "no --grid axis"},
        {"sweep --out u --grid lr", 2, "expected KEY=V1,V2"},
        {"sweep --out u --grid lr=1,,2", 2, "empty value"},
        {"sweep --out u --grid lr=3:5", 2, "power of two"},
        {"sweep --out u --grid lr=geom:1e-3:0", 2, "geom:CENTER:N"},
        {"sweep --out u --grid d-model/n-head=16/2,32", 2, "expected 2"},
        {"sweep --out u --grid threads=1,2", 2, "set by the sweep"},
        {"sweep --out u --grid lr=1,2 --grid lr=3", 2, "on two axes"},
        {"sweep --out u --grid lr=1,2 --set lr=3", 2, "both a --grid axis and --set"},
        {"sweep --out u --grid lr=1,2 -- --out x", 2, "set by the sweep"},
        {"sweep --out u --grid lr=1,2 -- --lr 3", 2, "is a --grid axis"},
        {"sweep --out u --grid lr=1,2 --jobs 0", 2, "--jobs 0"},
        {"sweep --out u --grid lr=1,2 --ckpt all", 2, "expected none or last"},
        {"sweep --out u --grid lr=1,1", 2, "appears twice"},
        {"sweep --out u --grid lr=a/b,a_b", 2, "expected 1"},
        {"sweep --out u --grid data=a:b,a_b", 2, "same run name"},
        {"sweep --out u --grid no-such-option=1,2 -- --data corpus.txt", 2, "unknown option"},
        {"sweep --out u --grid lr=1,2 --no-such 3", 2, "unknown option"},
        {"sweep --out nowhere --summary-only", 1, "cannot read the run directories"},
    };
    check_cases(cases, sizeof cases / sizeof cases[0], "muon sweep: ");
    assert_int_equal(run("sweep --help", out, sizeof out), 0);
    assert_non_null(strstr(out, "usage: muon sweep"));
    /* the grid syntaxes, seen through --dry-run (nothing runs, nothing is written) */
    assert_int_equal(run("sweep --out v --grid lr=geom:2^-7:3 --grid d-model/n-head=16/2,32/4 --grid seed=1..2 "
                         "--grid opt.*.adam.beta2=0.95 --dry-run -- --data corpus.txt",
                         out, sizeof out),
                     0);
    assert_non_null(strstr(out, "run      lr=0.00390625,d-model=16,n-head=2,seed=1,all.adam.beta2=0.95\n"));
    assert_non_null(strstr(out, "run      lr=0.015625,d-model=32,n-head=4,seed=2,all.adam.beta2=0.95\n"));
    assert_non_null(strstr(out, "12 points: 0 finished, 0 to resume, 12 to run"));
    assert_non_null(strstr(out, "--lr=0.00390625 --d-model=16 --n-head=2 --seed=1 --opt=*.adam.beta2=0.95 --out "
                                "v/runs/lr=0.00390625,d-model=16,n-head=2,seed=1,all.adam.beta2=0.95"));
    assert_false(exists("v"));
}

/* dir/SWEEP/runs/NAME, made new (the sweep and runs directories may exist), into p. */
static void make_run_dir(const char *sweep, const char *name, char *p, size_t cap) {
    snprintf(p, cap, "%s/%s", dir, sweep);
    mkdir(p, 0755);
    snprintf(p, cap, "%s/%s/runs", dir, sweep);
    mkdir(p, 0755);
    snprintf(p, cap, "%s/%s/runs/%s", dir, sweep, name);
    assert_int_equal(mkdir(p, 0755), 0);
}

/* One finished run of a fake sweep written by hand: point.json (axes and values) and
 * result.json (the loss; +inf: diverged). */
static void fake_run(const char *sweep, const char *group, int width, int seed, int log2_lr, double loss) {
    char p[700], name[200], grp[64] = "";
    if (group) snprintf(grp, sizeof grp, "optim=%s,", group);
    snprintf(name, sizeof name, "d-model=%d,%sseed=%d,lr=%.10g", width, grp, seed, exp2(log2_lr));
    make_run_dir(sweep, name, p, sizeof p);
    snprintf(p, sizeof p, "%s/%s/runs/%s/point.json", dir, sweep, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fprintf(f, "{\"axes\": [[\"d-model\"], %s[\"seed\"], [\"lr\"]], \"point\": {\"d-model\": \"%d\", ",
            group ? "[\"optim\"], " : "", width);
    if (group) fprintf(f, "\"optim\": \"%s\", ", group);
    fprintf(f, "\"seed\": \"%d\", \"lr\": \"%.10g\"}}\n", seed, exp2(log2_lr));
    fclose(f);
    snprintf(p, sizeof p, "%s/%s/runs/%s/result.json", dir, sweep, name);
    f = fopen(p, "w");
    assert_non_null(f);
    if (isinf(loss)) fprintf(f, "{\"status\": \"diverged\", \"val_loss\": null, \"exit\": 3}\n");
    else fprintf(f, "{\"status\": \"done\", \"val_loss\": %.17g, \"exit\": 0}\n", loss);
    fclose(f);
}

/* Exact parabolas in log2 lr with the vertex v0 + slope·log2(width/64), on the grid
 * 2^-9 .. 2^-3: the report must find those vertices, their drift and slope. */
static void fake_sweep(const char *sweep, const char *group, int n_seeds, double v0, double slope) {
    for (int w = 64; w <= 256; w *= 2)
        for (int seed = 1; seed <= n_seeds; seed++)
            for (int x = -9; x <= -3; x++) {
                double v = v0 + slope * log2(w / 64.0);
                fake_run(sweep, group, w, seed, x, 0.3 * (x - v) * (x - v) + 2.0 + 0.01 * seed);
            }
}

/* A finished run outside any grid, as an earlier invocation leaves it: result.json with its
 * wall time, config.txt with its width and threads (SWEEP/runs/NAME). */
static void timed_run(const char *sweep, const char *name, int width, int threads, double wall) {
    char p[700], q[800];
    make_run_dir(sweep, name, p, sizeof p);
    snprintf(q, sizeof q, "%s/result.json", p);
    FILE *f = fopen(q, "w");
    assert_non_null(f);
    fprintf(f, "{\"status\": \"done\", \"val_loss\": 2.5, \"wall_s\": %g, \"exit\": 0}\n", wall);
    fclose(f);
    snprintf(q, sizeof q, "%s/config.txt", p);
    f = fopen(q, "w");
    assert_non_null(f);
    fprintf(f, "d-model = %d\nthreads = %d\n", width, threads);
    fclose(f);
}

/* The time estimate of a resumed sweep: finished runs of widths 64 (10 s) and 128 (40 s) give
 * the exponent 2, so 256 and 512 are predicted at 160 s and 640 s: 800 s at one job. */
static void test_cli_sweep_estimate(void **s) {
    NEED_BIN();
    static char out[65536];
    const double wall[2] = {10, 40};
    for (int i = 0; i < 2; i++) {
        char p[700];
        snprintf(p, sizeof p, "%s/est", dir);
        mkdir(p, 0755);
        snprintf(p, sizeof p, "%s/est/runs", dir);
        mkdir(p, 0755);
        snprintf(p, sizeof p, "%s/est/runs/d-model=%d,lr=0.0078125", dir, 64 << i);
        assert_int_equal(mkdir(p, 0755), 0);
        strcat(p, "/result.json");
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fprintf(f, "{\"status\": \"done\", \"val_loss\": 2.5, \"wall_s\": %g, \"exit\": 0}\n", wall[i]);
        fclose(f);
    }
    const char *cmd = "sweep --out est --grid d-model=64,128,256,512 --grid lr=2^-7 --threads 1 --dry-run -- "
                      "--data corpus.txt";
    assert_int_equal(run(cmd, out, sizeof out), 0);
    if (!strstr(out, "2 finished, 0 to resume, 2 to run; 1 at a time, 1 thread each (about 13m20s, from the "
                     "finished runs' times)"))
        fail_msg("no estimate of 800 s:\n%s", out);
    assert_int_equal(run("sweep --out est --grid d-model=64,128,256,512 --grid lr=2^-7 --dry-run --jobs 2 "
                         "--threads 2 -- --data corpus.txt",
                         out, sizeof out),
                     0);
    if (!strstr(out, "(about 6m40s, from")) fail_msg("no estimate of 400 s at 2 jobs:\n%s", out);
    /* runs of the same sweep directory outside the grid (another LR) count when they ran
     * with the same threads: width 256 took 100 s at 1 thread (a 2-thread run of 300 s is
     * not read), so 256 is predicted at 100 s and 512 at 100·2^e, e = log2(100/40): 350 s */
    const struct { int width, threads; double wall; } other[2] = {{256, 1, 100}, {256, 2, 300}};
    for (int i = 0; i < 2; i++) {
        char name[64];
        snprintf(name, sizeof name, "d-model=256,lr=0.00390625,t%d", other[i].threads);
        timed_run("est", name, other[i].width, other[i].threads, other[i].wall);
    }
    assert_int_equal(run(cmd, out, sizeof out), 0);
    if (!strstr(out, "2 finished, 0 to resume, 2 to run; 1 at a time, 1 thread each (about 5m50s, from"))
        fail_msg("no estimate of 350 s from the runs outside the grid:\n%s", out);
    /* once a run of a width finishes, the times of this invocation stand alone: a stale run of
     * the same width that took 10 h (a busy machine) no longer predicts the next one */
    timed_run("est2", "d-model=16,lr=1", 16, 1, 36000);
    assert_int_equal(run("sweep --out est2 --grid d-model=16 --grid lr=2^-7:2^-6 --threads 1 -- " TINY, out, sizeof out),
                     0);
    assert_non_null(strstr(out, "2 to run; 1 at a time with 1 thread each (--threads 1 in all"));
    assert_non_null(strstr(out, "(about 20h00m, from the finished runs' times)")); /* before: the stale run */
    const char *line = strstr(out, "[1/2] d-model=16,lr=0.0078125 ... val ");
    assert_non_null(line);
    const char *eta = strstr(line, ", ETA ");
    assert_non_null(eta);
    if (strchr(eta, 'h') && strchr(eta, 'h') < strchr(eta, '\n')) fail_msg("stale time in the ETA:\n%s", out);
}

static void test_cli_report_transfer(void **s) {
    NEED_BIN();
    static char out[65536];
    fake_sweep("ta", "muon", 2, -5.0, -0.5);   /* optima -5, -5.5, -6 */
    fake_sweep("ta", "adamw", 1, -7.0, 0.25);  /* -7, -6.75, -6.5 */
    fake_sweep("tb", NULL, 1, -4.6, 1.0);      /* -4.6, -3.6, and -2.6 past the grid: edge at -3 */
    int rc = run("report transfer ta tb --out t.svg", out, sizeof out);
    if (rc != 0) fail_msg("exit %d:\n%s", rc, out);
    static const char *rows[] = {
        "| ta: optim=muon | 64-256 | 2 | -5.00, -5.50, -6.00 | 1.00 | -0.500 [-0.500, -0.500] |",
        "| ta: optim=adamw | 64-256 | 1 | -7.00, -6.75, -6.50 | 0.50 | 0.250 (no interval: one seed) |",
        "| tb | 64-256 | 1 | -4.60, -3.60, -3.00 (edge) | 1.60 | 0.800 (no interval: one seed) |",
    };
    for (int i = 0; i < 3; i++)
        if (!strstr(out, rows[i])) fail_msg("no row '%s' in:\n%s", rows[i], out);
    char *svg = slurp("t.svg");
    assert_non_null(svg);
    assert_non_null(strstr(svg, ">ta: optim=muon</text>"));
    assert_non_null(strstr(svg, ">tb</text>"));
    assert_non_null(strstr(svg, ">perfect transfer</text>"));
    free(svg);
    assert_false(exists("ta/summary.md")); /* a report writes nothing into the sweeps */
    assert_false(exists("tb/summary.csv"));
    /* the sweep's own summary adds each seed's optima and slope (groups with two seeds or more) */
    assert_int_equal(run("sweep --out ta --summary-only", out, sizeof out), 0);
    assert_int_equal(count(out, "| seed | log2 lr* per d-model | slope |"), 1);
    assert_non_null(strstr(out, "| 1 | -5.000, -5.500, -6.000 | -0.500 |\n| 2 | -5.000, -5.500, -6.000 | -0.500 |"));
    assert_null(strstr(out, "missing"));
    assert_null(strstr(out, "provisional"));
    /* the seed-mean loss table: every LR of the group, "-" where a width has no run, "inf" where
     * one diverged, the best grid point in bold */
    assert_non_null(strstr(out, "| d-model | 2^-9 | 2^-8 | 2^-7 | 2^-6 | 2^-5 | 2^-4 | 2^-3 |\n"));
    assert_non_null(strstr(out, "| 64 | 6.8150 | 4.7150 | 3.2150 | 2.3150 | **2.0150** | 2.3150 | 3.2150 |\n"));
    for (int x = -9; x <= -3; x++) {
        fake_run("tc", NULL, 64, 1, x, 0.3 * (x + 6) * (x + 6) + 2.01);
        if (x > -9) fake_run("tc", NULL, 128, 1, x, x == -3 ? INFINITY : 0.3 * (x + 6) * (x + 6) + 2.01);
    }
    assert_int_equal(run("sweep --out tc --summary-only", out, sizeof out), 0);
    assert_non_null(strstr(out, "| 64 | 4.7100 | 3.2100 | 2.3100 | **2.0100** | 2.3100 | 3.2100 | 4.7100 |\n"
                                "| 128 | - | 3.2100 | 2.3100 | **2.0100** | 2.3100 | 3.2100 | inf |\n"));
    /* a grid not finished yet: seed 2 lacks one LR at width 128. The row counts the missing
     * run, the optima are called provisional, and seed 2 has no optimum of its own there */
    for (int seed = 1; seed <= 2; seed++)
        for (int x = -9; x <= -3; x++) {
            fake_run("td", NULL, 64, seed, x, 0.3 * (x + 5) * (x + 5) + 2.0);
            if (seed == 1 || x > -9) fake_run("td", NULL, 128, seed, x, 0.3 * (x + 5) * (x + 5) + 1.9);
        }
    assert_int_equal(run("sweep --out td --summary-only", out, sizeof out), 0);
    assert_non_null(strstr(out, "| parabola vertex |\n| 128 | 2 | 7 | 0.03125 | 1.9000 | 0.03125 | -5.000 | "
                                "parabola vertex; 1 of 14 runs missing |\n"));
    assert_non_null(strstr(out, "note: 1 (d-model, lr, seed) cells have no finished run: their seed means average "
                                "fewer seeds, so these optima are provisional\n"));
    assert_non_null(strstr(out, "| 1 | -5.000, -5.000 | 0.000 |\n| 2 | -5.000, - | - |\n"));
    /* an LR read back from 10 significant digits (2^-13 = 0.0001220703) is still a power of two */
    for (int w = 64; w <= 128; w *= 2)
        for (int x = -13; x <= -11; x++) fake_run("te", NULL, w, 1, x, 2.0 + 0.1 * (x + 12) * (x + 12));
    assert_int_equal(run("sweep --out te --summary-only", out, sizeof out), 0);
    if (!strstr(out, "| d-model | 2^-13 | 2^-12 | 2^-11 |\n")) fail_msg("LR headers not 2^k:\n%s", out);
    /* a base width no curve has: each is drawn relative to its smallest width, and says so */
    assert_int_equal(run("report transfer tb --base-width 100 --out t2.svg", out, sizeof out), 0);
    assert_non_null(strstr(out, "note: tb has no optimum at width 100; drawn relative to width 64"));
    assert_int_equal(run("report transfer tb --absolute --out t3.svg", out, sizeof out), 0);
    svg = slurp("t3.svg");
    assert_non_null(svg);
    assert_null(strstr(svg, "perfect transfer"));
    free(svg);
    /* --widths: the same curves over the widths 64 and 128 only (drift and slope over those) */
    assert_int_equal(run("report transfer ta tb --widths 64,128 --out t4.svg", out, sizeof out), 0);
    static const char *rows2[] = {
        "| ta: optim=muon | 64-128 | 2 | -5.00, -5.50 | 0.50 | -0.500 [-0.500, -0.500] |",
        "| tb | 64-128 | 1 | -4.60, -3.60 | 1.00 | 1.000 (no interval: one seed) |",
    };
    for (int i = 0; i < 2; i++)
        if (!strstr(out, rows2[i])) fail_msg("no row '%s' in:\n%s", rows2[i], out);
    /* --seeds: seed 2 alone of the two-seed group (one seed: no interval); the adamw group has
     * no seed 2 and drops out */
    assert_int_equal(run("report transfer ta --seeds 2 --out t5.svg", out, sizeof out), 0);
    if (!strstr(out, "| ta: optim=muon | 64-256 | 1 | -5.00, -5.50, -6.00 | 1.00 | -0.500 (no interval: one seed) |"))
        fail_msg("no seed-2 row in:\n%s", out);
    assert_null(strstr(out, "optim=adamw"));
    /* DIR:seeds= selects for one sweep and overrides --seeds there: ta keeps seed 2, tb its
     * seed 1 (under --seeds 2 alone, tb would have no run) */
    assert_int_equal(run("report transfer ta:seeds=2 tb:seeds=1 --seeds 2 --out t6.svg", out, sizeof out), 0);
    if (!strstr(out, "| ta: optim=muon | 64-256 | 1 | -5.00, -5.50, -6.00 | 1.00 | -0.500 (no interval: one seed) |\n"
                     "| tb | 64-256 | 1 | -4.60, -3.60, -3.00 (edge) | 1.60 | 0.800 (no interval: one seed) |"))
        fail_msg("no per-sweep seed rows in:\n%s", out);
    /* DIR:widths= likewise, combined with seeds: ta's seed 2 over 64-128, tb over 64-256 */
    assert_int_equal(run("report transfer ta:widths=64,128:seeds=2 tb --out t7.svg", out, sizeof out), 0);
    if (!strstr(out, "| ta: optim=muon | 64-128 | 1 | -5.00, -5.50 | 0.50 | -0.500 (no interval: one seed) |\n"
                     "| tb | 64-256 | 1 | -4.60, -3.60, -3.00 (edge) | 1.60 | 0.800 (no interval: one seed) |"))
        fail_msg("no per-sweep width rows in:\n%s", out);
    static const cli_case_t cases[] = {
        {"report transfer tb:seeds=", 2, "'tb:seeds=': want DIR[:seeds=S1,S2,...][:widths=W1,W2,...]"},
        {"report transfer tb:widths=64,x", 2, "'tb:widths=64,x': want DIR[:seeds="},
        {"report transfer tb:seeds=1:colour=red", 2, "want DIR[:seeds="},
        {"report transfer tb:seeds=2", 1, "no run at the widths and seeds asked for"},
        {"report transfer tb --seeds 1,", 2, "--seeds '1,': want up to 64 seed values"},
        {"report transfer tb --seeds 7", 1, "no run at the widths and seeds asked for"},
        {"report transfer tb --widths 64,,128", 2, "--widths '64,,128': want up to 32 positive numbers"},
        {"report transfer tb --widths 0", 2, "want up to 32 positive numbers"},
        {"report transfer tb --widths 1024", 1, "no run at the widths and seeds asked for"},
        {"report transfer", 2, "no run directory given"},
        {"report transfer nowhere", 1, "cannot read the run directories"},
        {"report transfer tb --base-width 0", 2, "must be a positive width"},
        {"report transfer tb --boot -1", 2, "must be >= 0"},
        {"report transfer tb --lr-key no-such", 1, "no finished run has both d-model and no-such"},
    };
    check_cases(cases, sizeof cases / sizeof cases[0], "muon report transfer: ");
    assert_int_equal(run("report transfer --help", out, sizeof out), 0);
    assert_non_null(strstr(out, "usage: muon report transfer"));
}

int main(int argc, char **argv) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parabola_vertex_exact),
        cmocka_unit_test(test_parabola_vertex_rejects),
        cmocka_unit_test(test_lr_optimum_refined),
        cmocka_unit_test(test_lr_optimum_edge_not_extrapolated),
        cmocka_unit_test(test_lr_optimum_infinite),
        cmocka_unit_test(test_lsq_slope_and_quantile),
        cmocka_unit_test(test_seed_mean_rules),
        cmocka_unit_test(test_transfer_slope_minus_one),
        cmocka_unit_test(test_transfer_bootstrap_interval),
        cmocka_unit_test(test_transfer_infinite_and_edges),
        cmocka_unit_test(test_cli_sweep_runs_skips_and_summarizes),
        cmocka_unit_test(test_cli_sweep_diverged_and_failed),
        cmocka_unit_test(test_cli_sweep_jobs_bit_identical),
        cmocka_unit_test(test_cli_sweep_interrupt_and_resume),
        cmocka_unit_test(test_cli_sweep_usage_errors),
        cmocka_unit_test(test_cli_sweep_estimate),
        cmocka_unit_test(test_cli_report_transfer),
    };
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name(__FILE__, tests, setup, NULL);
}

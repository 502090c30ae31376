/* report_spectral.c — `muon report spectral RUN_DIR...`: the μP spectral condition over whole
 * runs, from the diagnostics that `muon train --diag-every K` left in metrics.jsonl.
 *
 * Per hidden matrix (diag/mats/NAME) and run: r_W = ‖W‖₂/s and r_ΔW = ‖ΔW‖₂/(η s) vs step
 * (specs/mup-and-muonpp.md §4). The table gives each run's range of r_W, the largest
 * |r_ΔW − 1|, and per matrix the overlay of runs (the largest max/min of r_W across runs at
 * any step logged by all of them: runs of different widths overlay when this stays small).
 * --check turns the acceptance bounds into the exit status. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "muon/report.h"
#include "options.h"

#define MAX_RUNS 16

typedef struct {
    double *step, *rw, *rdw_step, *rdw;
    int64_t n, n_dw;
} mat_series_t;

static const char *usage_text =
    "usage: muon report spectral RUN_DIR... [--out FILE.svg] [--csv FILE] [--check]\n\n"
    "r_W = |W|_2/s and r_dW = |dW|_2/(lr s) of every hidden matrix vs step, one curve per run\n"
    "(runs trained with --diag-every K). Prints per run and matrix the range of r_W and the\n"
    "largest |r_dW - 1|, and per matrix how far the runs' r_W curves are apart (max/min across\n"
    "runs at a common step). --check: exit 1 unless rw-lo <= r_W <= rw-hi everywhere,\n"
    "|r_dW - 1| <= rdw-tol everywhere and the overlay ratio <= overlay at every common step.\n";

/* "transformer.h.0.mlp.c_fc.weight" -> "h.0.mlp.c_fc" (panel titles, table rows). */
static void short_name(const char *name, char *out, size_t cap) {
    const char *p = strncmp(name, "transformer.", 12) ? name : name + 12;
    snprintf(out, cap, "%s", p);
    char *w = strstr(out, ".weight");
    if (w) memmove(w, w + 7, strlen(w + 7) + 1);
}

/* Largest max/min of r_W across runs at the steps every run logged (NaN: no common step). */
static double overlay_ratio(const mat_series_t *s, int n_runs) {
    double worst = NAN;
    for (int64_t i = 0; i < s[0].n; i++) {
        double step = s[0].step[i], lo = s[0].rw[i], hi = lo;
        int all = 1;
        for (int r = 1; r < n_runs && all; r++) {
            all = 0;
            for (int64_t j = 0; j < s[r].n; j++)
                if (s[r].step[j] == step) {
                    lo = fmin(lo, s[r].rw[j]), hi = fmax(hi, s[r].rw[j]);
                    all = 1;
                    break;
                }
        }
        if (all && lo > 0 && (isnan(worst) || hi / lo > worst)) worst = hi / lo;
    }
    return worst;
}

static int read_run(const char *dir, char **names, int32_t n_mats, mat_series_t *out) {
    char path[4096], key[1024];
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    for (int32_t m = 0; m < n_mats; m++) {
        snprintf(key, sizeof key, "diag/mats/%s/r_w", names[m]);
        if (mu_metrics_series(path, "step", key, &out[m].step, &out[m].rw, &out[m].n) != MU_OK) return -1;
        snprintf(key, sizeof key, "diag/mats/%s/r_dw", names[m]);
        if (mu_metrics_series(path, "step", key, &out[m].rdw_step, &out[m].rdw, &out[m].n_dw) != MU_OK) return -1;
    }
    return 0;
}

int cmd_report_spectral(int argc, char **argv) {
    const char *out = "spectral.svg", *csv = NULL;
    double rw_lo = 0.5, rw_hi = 5, rdw_tol = 0.05, overlay_max = 2;
    int32_t check = 0, help = 0;
    const opt_t opts[] = {
        {"out", OPT_STR, &out, "output SVG file", 0},
        {"csv", OPT_STR, &csv, "also write run,matrix,rw_min,rw_max,rdw_maxdev rows to this CSV file", 0},
        {"check", OPT_FLAG, &check, "exit 1 when a bound below is violated", 0},
        {"rw-lo", OPT_F64, &rw_lo, "--check: lowest allowed r_W", 0},
        {"rw-hi", OPT_F64, &rw_hi, "--check: highest allowed r_W", 0},
        {"rdw-tol", OPT_F64, &rdw_tol, "--check: largest allowed |r_dW - 1|", 0},
        {"overlay", OPT_F64, &overlay_max, "--check: largest allowed max/min of r_W across runs", 0},
        {"help", OPT_FLAG, &help, "this help", 1},
    };
    size_t n_opts = sizeof opts / sizeof opts[0];
    const char *dirs[MAX_RUNS];
    int n_dirs = 0;
    int rc_args = cli_report_args("spectral", opts, n_opts, argc, argv, usage_text, &help, dirs, &n_dirs, MAX_RUNS);
    if (rc_args >= 0) return rc_args;
    char path[4096];
    snprintf(path, sizeof path, "%s/metrics.jsonl", dirs[0]);
    char **names = NULL;
    int32_t n_mats = 0;
    if (mu_metrics_keys(path, "diag/mats", &names, &n_mats) != MU_OK) return cli_fail("report spectral", -1);
    if (n_mats == 0) {
        fprintf(stderr, "muon report spectral: %s has no diagnostics (train with --diag-every K)\n", path);
        mu_metrics_keys_free(names, n_mats);
        return 1;
    }
    mat_series_t *s = calloc((size_t)n_dirs * (size_t)n_mats, sizeof *s); /* s[r * n_mats + m] */
    mu_plot_panel_t *panels = calloc(2 * (size_t)n_mats, sizeof *panels);
    mu_plot_series_t *se = calloc(2 * (size_t)n_mats * (size_t)n_dirs, sizeof *se);
    char(*titles)[160] = calloc(2 * (size_t)n_mats, sizeof *titles);
    char labels[MAX_RUNS][128];
    FILE *fc = NULL;
    int rc = 0, bad = 0;
    if (!s || !panels || !se || !titles) {
        fprintf(stderr, "muon report spectral: out of memory\n");
        rc = 1;
        goto done;
    }
    for (int r = 0; r < n_dirs; r++) {
        cli_base_name(dirs[r], labels[r], sizeof labels[r]);
        if (read_run(dirs[r], names, n_mats, s + (size_t)r * n_mats) != 0) {
            rc = cli_fail("report spectral", -1);
            goto done;
        }
    }
    if (csv && !(fc = fopen(csv, "w"))) {
        fprintf(stderr, "muon report spectral: cannot write %s\n", csv);
        rc = 1;
        goto done;
    }
    if (fc) fprintf(fc, "run,matrix,rw_min,rw_max,rdw_maxdev\n");
    printf("%-28s %-28s %17s %14s\n", "matrix", "run", "r_W min..max", "max|r_dW-1|");
    double worst_lo = INFINITY, worst_hi = -INFINITY, worst_dev = 0, worst_overlay = 1;
    for (int32_t m = 0; m < n_mats; m++) {
        char sn[128];
        short_name(names[m], sn, sizeof sn);
        mat_series_t col[MAX_RUNS];
        for (int r = 0; r < n_dirs; r++) {
            const mat_series_t *x = &s[(size_t)r * n_mats + m];
            col[r] = *x;
            double lo = INFINITY, hi = -INFINITY, dev = 0;
            for (int64_t i = 0; i < x->n; i++) lo = fmin(lo, x->rw[i]), hi = fmax(hi, x->rw[i]);
            for (int64_t i = 0; i < x->n_dw; i++) dev = fmax(dev, fabs(x->rdw[i] - 1));
            printf("%-28s %-28s %8.3f..%-8.3f %14.4f\n", r ? "" : sn, labels[r], lo, hi, dev);
            if (fc) fprintf(fc, "\"%s\",\"%s\",%.6g,%.6g,%.6g\n", labels[r], names[m], lo, hi, dev); /* names may hold commas */
            worst_lo = fmin(worst_lo, lo), worst_hi = fmax(worst_hi, hi), worst_dev = fmax(worst_dev, dev);
            se[(2 * (size_t)m) * n_dirs + r] =
                (mu_plot_series_t){.label = labels[r], .x = x->step, .y = x->rw, .n = x->n};
            se[(2 * (size_t)m + 1) * n_dirs + r] =
                (mu_plot_series_t){.label = labels[r], .x = x->rdw_step, .y = x->rdw, .n = x->n_dw};
        }
        double ov = n_dirs > 1 ? overlay_ratio(col, n_dirs) : 1;
        if (n_dirs > 1) printf("%-28s %-28s max/min of r_W across runs: %.3f\n", "", "(overlay)", ov);
        if (!isnan(ov)) worst_overlay = fmax(worst_overlay, ov);
        for (int k = 0; k < 2; k++) {
            mu_plot_panel_t *p = &panels[2 * m + k];
            *p = mu_plot_panel_default();
            snprintf(titles[2 * m + k], sizeof titles[0], "%s: %s", sn, k ? "r_dW = |dW|/(lr s)" : "r_W = |W|/s");
            p->title = titles[2 * m + k];
            p->xlabel = "step";
            p->ylabel = k ? "r_dW" : "r_W";
            p->series = &se[(2 * (size_t)m + k) * n_dirs];
            p->n_series = n_dirs;
            p->legend = m == 0;
        }
    }
    bad = !(worst_lo >= rw_lo && worst_hi <= rw_hi && worst_dev <= rdw_tol && worst_overlay <= overlay_max);
    printf("\nall matrices and runs: r_W in [%.3f, %.3f] (bounds [%g, %g]), max |r_dW - 1| = %.4f (<= %g), "
           "overlay max/min = %.3f (<= %g): %s\n",
           worst_lo, worst_hi, rw_lo, rw_hi, worst_dev, rdw_tol, worst_overlay, overlay_max,
           bad ? "OUTSIDE the bounds" : "within the bounds");
    mu_plot_figure_t f = {.title = "spectral condition: r_W and r_dW per hidden matrix vs step",
                          .panels = panels, .n_panels = 2 * n_mats, .cols = 4, .panel_w = 400, .panel_h = 260};
    if (mu_plot_svg_write(&f, out) != MU_OK) rc = cli_fail("report spectral", -1);
    else printf("wrote %s\n", out);
    if (rc == 0 && check && bad) rc = 1;
done:
    if (fc && fclose(fc) != 0 && rc == 0) {
        fprintf(stderr, "muon report spectral: writing %s failed\n", csv);
        rc = 1;
    }
    if (s)
        for (size_t i = 0; i < (size_t)n_dirs * (size_t)n_mats; i++)
            free(s[i].step), free(s[i].rw), free(s[i].rdw_step), free(s[i].rdw);
    free(s), free(panels), free(se), free(titles);
    mu_metrics_keys_free(names, n_mats);
    return rc;
}

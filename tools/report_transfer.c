/* report_transfer.c — `muon report transfer SWEEP_DIR...`: the μTransfer comparison of several
 * sweeps (e.g. SP+AdamW against μP+Muon++): the optimal LR per width of every sweep and group,
 * its drift and slope with the seed-bootstrap interval (specs/mup-and-muonpp.md §6), as one
 * table and one figure of log2 η* vs width. The optima are the ones `muon sweep` computes
 * (sweep_summary.c), read from the run directories alone; nothing is written into the sweeps.
 *
 * By default each curve is drawn relative to its own optimum at the base width, so the figure
 * compares drifts (0 everywhere = perfect transfer) whatever the optimizer's LR scale;
 * --absolute draws log2 η* itself. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "options.h"
#include "sweep.h"

#define MAX_SWEEPS 16
#define MAX_CURVES 64

static const char *usage_text =
    "usage: muon report transfer SWEEP_DIR[:seeds=S1,...][:widths=W1,...]... [--out FILE.svg]\n"
    "                            [--base-width W] [--absolute] [--widths W1,...] [--seeds S1,...]\n\n"
    "The optimal LR per width of each sweep directory (and of each group inside one, e.g. an\n"
    "optim axis), as `muon sweep --summary-only` computes it: a table with drift and slope\n"
    "(90% seed-bootstrap interval) per curve, and an SVG of log2 lr* vs width. Curves are drawn\n"
    "relative to their own optimum at --base-width (0 = perfect transfer) unless --absolute.\n"
    "--widths compares sweeps over the widths they share (drift and slope over those only);\n"
    "--seeds keeps the runs of those seeds (e.g. a protocol's seeds in a sweep that has more);\n"
    "DIR:seeds=1,2 and DIR:widths=64,128 select for one sweep (overriding --seeds, --widths).\n"
    "Reads the run directories only; the sweeps' summary files are not touched.\n";

static void print_curve(const char *label, const sweep_optima_t *c) {
    int smin = c->seeds[0], smax = c->seeds[0];
    for (int i = 1; i < c->n; i++) {
        if (c->seeds[i] < smin) smin = c->seeds[i];
        if (c->seeds[i] > smax) smax = c->seeds[i];
    }
    printf("| %s | %g-%g | ", label, c->width[0], c->width[c->n - 1]);
    if (smin == smax) printf("%d | ", smin);
    else printf("%d-%d | ", smin, smax);
    for (int i = 0; i < c->n; i++) {
        if (isnan(c->log2_lr[i])) printf("%sn/a", i ? ", " : "");
        else printf("%s%.2f%s", i ? ", " : "", c->log2_lr[i], c->edge[i] ? " (edge)" : "");
    }
    if (c->t.n_opt > 0) printf(" | %.2f | ", c->t.drift_steps);
    else printf(" | n/a | ");
    if (!isfinite(c->t.slope)) printf("n/a |\n");
    else if (c->t.n_boot > 0 && smax > 1) printf("%.3f [%.3f, %.3f] |\n", c->t.slope, c->t.slope_lo, c->t.slope_hi);
    else printf("%.3f (no interval: one seed) |\n", c->t.slope);
}

/* The curve's log2 η* at the base width, else at its smallest width with an optimum (*used
 * says which). NaN when it has no optimum at all. */
static double reference(const sweep_optima_t *c, double base, double *used) {
    for (int i = 0; i < c->n; i++)
        if (c->width[i] == base && !isnan(c->log2_lr[i])) return *used = base, c->log2_lr[i];
    for (int i = 0; i < c->n; i++)
        if (!isnan(c->log2_lr[i])) return *used = c->width[i], c->log2_lr[i];
    return *used = NAN, NAN;
}

/* "64,128,256" -> w[] (at most SWEEP_MAX_WIDTHS, each > 0); the count, or -1. */
static int parse_widths(const char *s, double *w) {
    int n = 0;
    for (;;) {
        char *e;
        const double v = strtod(s, &e);
        if (e == s || !(v > 0) || !isfinite(v) || n == SWEEP_MAX_WIDTHS || (*e && *e != ',')) return -1;
        w[n++] = v;
        if (!*e) return n;
        s = e + 1;
    }
}

/* "1,2,3" -> seeds[] (at most 64), split in buf (cap bytes); the count, or -1 when a value is
 * empty, there are too many or the text does not fit. */
static int split_seeds(const char *arg, char *buf, size_t cap, const char **seeds) {
    if (strlen(arg) >= cap) return -1;
    snprintf(buf, cap, "%s", arg);
    int n = 0;
    for (char *t = buf, *e; t; t = e) {
        if ((e = strchr(t, ','))) *e++ = 0;
        if (!*t || n == 64) return -1;
        seeds[n++] = t;
    }
    return n;
}

int cmd_report_transfer(int argc, char **argv) {
    const char *out = "transfer.svg", *wkey = "d-model", *lrkey = "lr", *skey = "seed", *title = NULL,
               *widths_arg = NULL, *seeds_arg = NULL;
    int32_t absolute = 0, n_boot = 1000, help = 0;
    double base = 128;
    const opt_t opts[] = {
        {"out", OPT_STR, &out, "output SVG file (default transfer.svg)", 0},
        {"base-width", OPT_F64, &base, "width each curve is drawn relative to (default 128)", 0},
        {"absolute", OPT_FLAG, &absolute, "draw log2 lr* itself, not relative to the base width", 0},
        {"width-key", OPT_STR, &wkey, "the width option (default d-model)", 0},
        {"lr-key", OPT_STR, &lrkey, "the learning-rate option (default lr)", 0},
        {"seed-key", OPT_STR, &skey, "the seed option, the bootstrap unit (default seed)", 0},
        {"boot", OPT_I32, &n_boot, "bootstrap resamples for the slope interval (default 1000)", 0},
        {"widths", OPT_STR, &widths_arg, "only these widths, e.g. 64,128,256 (default: every width)", 0},
        {"seeds", OPT_STR, &seeds_arg, "only these seed values, e.g. 1,2,3 (default: every seed)", 0},
        {"title", OPT_STR, &title, "figure title", 0},
        {"help", OPT_FLAG, &help, "this help", 1},
    };
    const size_t n_opts = sizeof opts / sizeof opts[0];
    const char *dirs[MAX_SWEEPS];
    int n_dirs = 0;
    int rc_args = cli_report_args("transfer", opts, n_opts, argc, argv, usage_text, &help, dirs, &n_dirs, MAX_SWEEPS);
    if (rc_args >= 0) return rc_args;
    if (!(base > 0) || !isfinite(base)) {
        fprintf(stderr, "muon report transfer: --base-width %g must be a positive width\n", base);
        return 2;
    }
    if (n_boot < 0) {
        fprintf(stderr, "muon report transfer: --boot %d must be >= 0\n", (int)n_boot);
        return 2;
    }
    double widths[SWEEP_MAX_WIDTHS];
    int n_widths = 0;
    if (widths_arg && (n_widths = parse_widths(widths_arg, widths)) < 0) {
        fprintf(stderr, "muon report transfer: --widths '%s': want up to %d positive numbers separated by commas\n",
                widths_arg, SWEEP_MAX_WIDTHS);
        return 2;
    }
    /* --seeds, and DIR:seeds=... for one sweep: the comma-separated values, split in copies */
    static char seed_buf[MAX_SWEEPS + 1][1024], path[MAX_SWEEPS][4096];
    static const char *seeds[MAX_SWEEPS + 1][64];
    int n_seeds[MAX_SWEEPS + 1] = {0};
    const int all = MAX_SWEEPS; /* the --seeds entry, beside one per sweep */
    if (seeds_arg && (n_seeds[all] = split_seeds(seeds_arg, seed_buf[all], 1024, seeds[all])) < 0) {
        fprintf(stderr, "muon report transfer: --seeds '%s': want up to 64 seed values separated by commas\n",
                seeds_arg);
        return 2;
    }
    /* DIR:seeds=...:widths=... : the selections of one sweep, which override the options there */
    static double dir_widths[MAX_SWEEPS][SWEEP_MAX_WIDTHS];
    int n_dir_widths[MAX_SWEEPS] = {0};
    for (int d = 0; d < n_dirs; d++) {
        const char *sel = strstr(dirs[d], ":seeds="), *w = strstr(dirs[d], ":widths=");
        if (!sel || (w && w < sel)) sel = w;
        snprintf(path[d], sizeof path[d], "%.*s", sel ? (int)(sel - dirs[d]) : (int)strlen(dirs[d]), dirs[d]);
        memcpy(seeds[d], seeds[all], sizeof seeds[d]), n_seeds[d] = n_seeds[all];
        memcpy(dir_widths[d], widths, sizeof widths), n_dir_widths[d] = n_widths;
        char item[1100];
        for (const char *t = sel; t; t = strchr(t + 1, ':')) {
            const char *e = strchr(t + 1, ':');
            snprintf(item, sizeof item, "%.*s", e ? (int)(e - t - 1) : (int)strlen(t + 1), t + 1);
            int ok = 0;
            if (!strncmp(item, "seeds=", 6)) ok = (n_seeds[d] = split_seeds(item + 6, seed_buf[d], 1024, seeds[d])) > 0;
            else if (!strncmp(item, "widths=", 7)) ok = (n_dir_widths[d] = parse_widths(item + 7, dir_widths[d])) > 0;
            if (!ok) {
                fprintf(stderr,
                        "muon report transfer: '%s': want DIR[:seeds=S1,S2,...][:widths=W1,W2,...] (up to 64 seeds, "
                        "%d widths)\n",
                        dirs[d], SWEEP_MAX_WIDTHS);
                return 2;
            }
        }
        dirs[d] = path[d];
    }
    static sweep_optima_t curves[MAX_CURVES];
    sweep_collect_t col = {.items = curves, .cap = MAX_CURVES, .n = 0};
    int owner[MAX_CURVES]; /* the sweep directory of each curve */
    for (int d = 0; d < n_dirs; d++) {
        const int n0 = col.n;
        sweep_summary_opts_t so = {.dir = dirs[d], .width_key = wkey, .lr_key = lrkey, .seed_key = skey,
                                   .n_boot = n_boot, .boot_seed = 1, .no_files = 1, .collect = &col,
                                   .widths = dir_widths[d], .n_widths = n_dir_widths[d], .seeds = seeds[d],
                                   .n_seeds = n_seeds[d]};
        if (sweep_summary(&so, NULL) != MU_OK) return cli_fail("report transfer", -1);
        if (col.n == n0) {
            fprintf(stderr, "muon report transfer: %s: no finished run has both %s and %s to analyse\n", dirs[d], wkey,
                    lrkey);
            return 1;
        }
        for (int k = n0; k < col.n; k++) owner[k] = d;
    }

    if (col.dropped)
        printf("note: %d curve(s) left out or cut (at most %d curves of %d widths each)\n", col.dropped, MAX_CURVES,
               SWEEP_MAX_WIDTHS);
    char labels[MAX_CURVES][520];
    printf("| sweep | widths | seeds | log2 %s* per width | drift (grid steps) | slope, 90%% interval |\n", lrkey);
    printf("|---|---|---|---|---|---|\n");
    for (int k = 0; k < col.n; k++) {
        char name[256];
        cli_base_name(dirs[owner[k]], name, sizeof name);
        if (curves[k].group[0]) snprintf(labels[k], sizeof labels[k], "%.255s: %.255s", name, curves[k].group);
        else snprintf(labels[k], sizeof labels[k], "%s", name);
        print_curve(labels[k], &curves[k]);
    }

    /* the figure: one curve per (sweep, group); relative mode adds the y = 0 line */
    static double ys[MAX_CURVES][SWEEP_MAX_WIDTHS];
    mu_plot_series_t se[MAX_CURVES + 1];
    memset(se, 0, sizeof se);
    int n_se = 0;
    double xlo = INFINITY, xhi = -INFINITY;
    for (int k = 0; k < col.n; k++) {
        const sweep_optima_t *c = &curves[k];
        double used, ref = absolute ? 0 : reference(c, base, &used);
        if (!absolute && !isnan(used) && used != base)
            printf("note: %s has no optimum at width %g; drawn relative to width %g\n", labels[k], base, used);
        for (int i = 0; i < c->n; i++) {
            ys[k][i] = c->log2_lr[i] - ref;
            xlo = fmin(xlo, c->width[i]), xhi = fmax(xhi, c->width[i]);
        }
        se[n_se++] = (mu_plot_series_t){.label = labels[k], .x = c->width, .y = ys[k], .n = c->n, .markers = 1};
    }
    double zx[2] = {xlo, xhi}, zy[2] = {0, 0};
    if (!absolute) se[n_se++] = (mu_plot_series_t){.label = "perfect transfer", .x = zx, .y = zy, .n = 2,
                                                   .dashed = 1, .color = "#7f7f7f"};
    char ylabel[128], ttl[160];
    if (absolute) snprintf(ylabel, sizeof ylabel, "log2 %s*", lrkey);
    else snprintf(ylabel, sizeof ylabel, "log2 %s* - log2 %s*(base)", lrkey, lrkey);
    snprintf(ttl, sizeof ttl, "optimal %s vs %s", lrkey, wkey);
    mu_plot_panel_t p = mu_plot_panel_default();
    p.xlabel = wkey;
    p.ylabel = ylabel;
    p.xscale = MU_AXIS_LOG2;
    p.xmin = xlo / 1.19, p.xmax = xhi * 1.19; /* a quarter octave of room on both sides */
    /* headroom above the data for the legend box (16 px a line + 12 px, of a 368 px high plot
     * area), so no point hides under it */
    double ylo = absolute ? INFINITY : 0, yhi = absolute ? -INFINITY : 0;
    for (int k = 0; k < col.n; k++)
        for (int i = 0; i < curves[k].n; i++)
            if (isfinite(ys[k][i])) ylo = fmin(ylo, ys[k][i]), yhi = fmax(yhi, ys[k][i]);
    const double room = (16.0 * n_se + 12) / 368;
    if (yhi > ylo && room < 0.6) p.ymax = yhi + (yhi - ylo) * room / (1 - room);
    p.series = se;
    p.n_series = n_se;
    mu_plot_figure_t f = {.title = title ? title : ttl, .panels = &p, .n_panels = 1, .panel_w = 720, .panel_h = 440};
    if (mu_plot_svg_write(&f, out) != MU_OK) return cli_fail("report transfer", -1);
    fprintf(stderr, "muon report transfer: wrote %s (%d curve%s)\n", out, col.n, col.n == 1 ? "" : "s");
    return 0;
}

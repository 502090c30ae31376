/* cmd_report.c — `muon report curves RUN_DIR...`: loss curves of finished or running runs
 * as one SVG, read from each run's metrics.jsonl (files only, never a live run); dispatches
 * `report spectral` and `report transfer`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "muon/report.h"
#include "options.h"

#define MAX_RUNS 64

static const char *usage_text =
    "usage: muon report curves RUN_DIR... [--out FILE.svg] [--x step|elapsed_s|tokens]\n"
    "                          [--y loss|val_loss|KEY] [--logy] [--logx] [--title TEXT]\n\n"
    "One SVG with a curve per run directory (legend = the directory name), read from\n"
    "RUN_DIR/metrics.jsonl: every line holding both the x and the y field is a point.\n";

void cli_base_name(const char *path, char *out, size_t cap) {
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    size_t b = n;
    while (b > 0 && path[b - 1] != '/') b--;
    size_t l = n - b < cap - 1 ? n - b : cap - 1;
    memcpy(out, path + b, l);
    out[l] = 0;
}

/* Flags and RUN_DIR... of a `muon report WHAT` command: returns -1 to go on, else the exit
 * code (usage error 2, --help 0) after printing what the user needs. */
int cli_report_args(const char *what, const opt_t *opts, size_t n_opts, int argc, char **argv, const char *usage,
                    const int32_t *help, const char **dirs, int *n_dirs, int max_dirs) {
    char err[1024];
    *n_dirs = 0;
    if (opt_parse_argv(opts, n_opts, argc, argv, dirs, n_dirs, max_dirs, err, sizeof err) != 0) {
        fprintf(stderr, "muon report %s: %s\n", what, err);
        return 2;
    }
    if (*help) {
        printf("%s\n", usage);
        opt_usage(opts, n_opts, stdout);
        return 0;
    }
    if (*n_dirs == 0) {
        fprintf(stderr, "muon report %s: no run directory given (usage: muon report %s RUN_DIR...)\n", what, what);
        return 2;
    }
    return -1;
}

static int curves(int argc, char **argv) {
    const char *out = "curves.svg", *xkey = "step", *ykey = "loss", *title = NULL;
    int32_t logy = 0, logx = 0, help = 0;
    const opt_t opts[] = {
        {"out", OPT_STR, &out, "output SVG file (default curves.svg)", 0},
        {"x", OPT_STR, &xkey, "x field: step, elapsed_s, tokens (any numeric metrics key)", 0},
        {"y", OPT_STR, &ykey, "y field: loss, val_loss (any numeric metrics key)", 0},
        {"logy", OPT_FLAG, &logy, "log10 y axis", 0},
        {"logx", OPT_FLAG, &logx, "log10 x axis", 0},
        {"title", OPT_STR, &title, "figure title (default: \"<y> vs <x>\")", 0},
        {"help", OPT_FLAG, &help, "this help", 1},
    };
    size_t n_opts = sizeof opts / sizeof opts[0];
    const char *dirs[MAX_RUNS];
    int n_dirs = 0;
    int rc_args = cli_report_args("curves", opts, n_opts, argc, argv, usage_text, &help, dirs, &n_dirs, MAX_RUNS);
    if (rc_args >= 0) return rc_args;
    mu_plot_series_t se[MAX_RUNS];
    char names[MAX_RUNS][128];
    memset(se, 0, sizeof se);
    int rc = 0, n_se = 0;
    for (int i = 0; i < n_dirs && rc == 0; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/metrics.jsonl", dirs[i]);
        double *x, *y;
        int64_t n;
        if (mu_metrics_series(path, xkey, ykey, &x, &y, &n) != MU_OK) {
            rc = cli_fail("report curves", -1);
            break;
        }
        if (n == 0) fprintf(stderr, "muon report curves: %s: no line holds both '%s' and '%s'\n", path, xkey, ykey);
        cli_base_name(dirs[i], names[i], sizeof names[i]);
        se[n_se++] = (mu_plot_series_t){.label = names[i], .x = x, .y = y, .n = n};
    }
    if (rc == 0) {
        char ttl[256];
        snprintf(ttl, sizeof ttl, "%s vs %s", ykey, xkey);
        mu_plot_panel_t p = mu_plot_panel_default();
        p.xlabel = xkey;
        p.ylabel = ykey;
        p.xscale = logx ? MU_AXIS_LOG10 : MU_AXIS_LINEAR;
        p.yscale = logy ? MU_AXIS_LOG10 : MU_AXIS_LINEAR;
        p.series = se;
        p.n_series = n_se;
        mu_plot_figure_t f = {.title = title ? title : ttl, .panels = &p, .n_panels = 1, .panel_w = 720,
                              .panel_h = 440};
        if (mu_plot_svg_write(&f, out) != MU_OK) rc = cli_fail("report curves", -1);
        else printf("wrote %s (%d runs)\n", out, n_se);
    }
    for (int i = 0; i < n_se; i++) free((void *)se[i].x), free((void *)se[i].y);
    return rc;
}

int cmd_report(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        printf("usage: muon report <what> [options]\n\n  curves     loss curves of run directories as SVG\n"
               "  spectral   r_W and r_dW of every hidden matrix vs step (runs with --diag-every)\n"
               "  transfer   optimal LR vs width of several sweeps: drift, slope, one figure\n");
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "curves")) return curves(argc - 1, argv + 1);
    if (!strcmp(argv[1], "spectral")) return cmd_report_spectral(argc - 1, argv + 1);
    if (!strcmp(argv[1], "transfer")) return cmd_report_transfer(argc - 1, argv + 1);
    fprintf(stderr, "muon report: unknown report '%s' (known: curves, spectral, transfer)\n", argv[1]);
    return 2;
}

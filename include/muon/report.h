/* muon/report.h — plots and summaries written from files: SVG line plots, metrics readers.
 *
 * The report layer reads what runs left on disk (metrics.jsonl, CSV) and writes
 * self-contained SVG a browser opens directly; it never looks at a live model.
 *
 * Intended usage:
 *   1. Fill mu_plot_series_t records (x, y arrays of n doubles, a label). Non-finite points
 *      and, on a log axis, points <= 0 break the line instead of failing (diverged runs).
 *   2. Put series into mu_plot_panel_t panels (title, axis labels, axis scales; limits NaN =
 *      automatic), panels into a mu_plot_figure_t (title, columns, panel size in pixels).
 *   3. mu_plot_svg(&fig, &s, &len) returns a malloc'd NUL-terminated SVG document;
 *      mu_plot_svg_write(&fig, path) writes it atomically.
 *   4. mu_metrics_series(path, xkey, ykey, ...) reads two numeric fields of every
 *      metrics.jsonl line holding both (event lines and lines without ykey are skipped).
 * Layout: each panel is panel_w × panel_h pixels with the plot area inset by
 * MU_PLOT_MARGIN_{LEFT,RIGHT,TOP,BOTTOM}; a figure title adds MU_PLOT_TITLE_H on top.
 */
#ifndef MUON_REPORT_H
#define MUON_REPORT_H

#include "muon/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    MU_AXIS_LINEAR = 0,
    MU_AXIS_LOG2 = 1,  /* ticks at powers of two */
    MU_AXIS_LOG10 = 2  /* ticks at powers of ten (1-2-5 inside a single decade) */
} mu_axis_scale_t;

MU_API int mu_axis_scale_parse(const char *s, mu_axis_scale_t *out); /* linear|log2|log10 */

enum { MU_PLOT_MARGIN_LEFT = 64, MU_PLOT_MARGIN_RIGHT = 16, MU_PLOT_MARGIN_TOP = 28, MU_PLOT_MARGIN_BOTTOM = 44,
       MU_PLOT_TITLE_H = 30 };

typedef struct {
    const char *label;   /* legend text (NULL or "": not in the legend) */
    const double *x;     /* n values */
    const double *y;     /* n values */
    int64_t n;
    int32_t dashed;      /* 1: dashed stroke */
    int32_t markers;     /* 1: a small circle at every finite point */
    const char *color;   /* CSS colour, NULL: the palette colour of the series index */
} mu_plot_series_t;

typedef struct {
    const char *title;
    const char *xlabel, *ylabel;
    mu_axis_scale_t xscale, yscale;
    double xmin, xmax, ymin, ymax; /* NaN: from the data (log axes widen to whole powers) */
    const mu_plot_series_t *series;
    int32_t n_series;
    int32_t legend;      /* 1: legend in the panel's upper right corner */
} mu_plot_panel_t;

typedef struct {
    const char *title;   /* NULL: no figure title */
    const mu_plot_panel_t *panels;
    int32_t n_panels;
    int32_t cols;        /* panels per row (<= 0: all in one row) */
    int32_t panel_w, panel_h; /* pixels (<= 0: 480 × 320) */
} mu_plot_figure_t;

MU_API mu_plot_panel_t mu_plot_panel_default(void); /* linear axes, NaN limits, legend on */

MU_API int mu_plot_svg(const mu_plot_figure_t *f, /* figure to draw */
                       char **out,                /* malloc'd SVG text (caller frees) */
                       size_t *len);              /* strlen of *out (may be NULL) */
MU_API int mu_plot_svg_write(const mu_plot_figure_t *f, /* figure to draw */
                             const char *path);         /* written atomically */

/* Read (xkey, ykey) pairs from a metrics.jsonl file: *x and *y are malloc'd arrays of *n
 * values (caller frees both). A line whose ykey or xkey is missing or not a number is skipped;
 * a line that is not JSON fails with MU_EFORMAT naming file and line. */
MU_API int mu_metrics_series(const char *path, /* metrics.jsonl (keys: see mu_metrics_keys) */
                             const char *xkey, /* "step", "elapsed_s", "tokens", ... */
                             const char *ykey, /* "loss", "val_loss", ... */
                             double **x, double **y, int64_t *n);
/* A key is a member name ("loss") or a '/'-separated path into nested objects
 * ("diag/mats/transformer.h.0.mlp.c_fc.weight/r_w"). mu_metrics_keys lists the member names
 * of the object at KEY in the first line that holds one (*names malloc'd, *n = 0 when no
 * line does); free them with mu_metrics_keys_free. */
MU_API int mu_metrics_keys(const char *path, const char *key, char ***names, int32_t *n);
MU_API void mu_metrics_keys_free(char **names, int32_t n);

/* ---- μTransfer summaries (transfer.c): optimal LR per width, drift, slope, bootstrap ----
 *
 * Spec §6. Per width, the loss of every (seed, LR) run goes into a mu_transfer_width_t
 * (+INFINITY = the run diverged, NaN = no result). The optimum is the argmin of the
 * seed-mean loss over the LR grid, refined by the vertex of the parabola through the argmin
 * and its two neighbours in log2 LR; an argmin on the grid edge is flagged and kept as the
 * grid value (never extrapolated), and so is one whose neighbour is +∞. Over widths:
 * drift = max − min of log2 η*, slope = least-squares slope of log2 η* vs log2 width, with
 * a seed-bootstrap interval (seeds resampled with replacement per width).
 */

/* Vertex (xv, yv) of the parabola through three points with distinct x. MU_EINVAL when the
 * x are not distinct or the parabola has no minimum (collinear or opening downwards). */
MU_API int mu_parabola_vertex(const double x[3], const double y[3], double *xv, double *yv);

/* Least-squares slope of y on x (n >= 2 points, x not all equal). */
MU_API int mu_lsq_slope(const double *x, const double *y, int32_t n, double *slope);

/* The q-quantile (0 <= q <= 1) of v[0..n) by linear interpolation between order statistics
 * (numpy's default, "type 7"). Sorts v in place; NaN entries are not allowed. */
MU_API int mu_quantile(double *v, int32_t n, double q, double *out);

typedef struct {
    int32_t index;      /* grid index of the argmin of the loss; -1: no finite loss at any LR */
    int32_t edge;       /* 1: the argmin is the first or last grid point that has a result */
    int32_t refined;    /* 1: log2_lr is the parabola vertex; 0: the argmin's grid value */
    double log2_lr;     /* log2 η* (NaN when index = -1) */
    double loss;        /* loss at the argmin grid point */
    double vertex_loss; /* the parabola's value at its vertex (= loss when not refined) */
} mu_lr_optimum_t;

/* Optimum of one loss-vs-LR curve: log2_lr[0..n) strictly ascending, loss[j] finite,
 * +INFINITY (diverged, never the argmin, no parabola through it) or NaN (no result: the
 * point is skipped, its neighbours close up). Ties go to the smaller LR. */
MU_API int mu_lr_optimum(const double *log2_lr, const double *loss, int32_t n, mu_lr_optimum_t *out);

typedef struct {
    double log2_width;     /* log2 of the width (d_model) */
    int32_t n_lr;          /* LR grid points */
    const double *log2_lr; /* n_lr values, strictly ascending */
    int32_t n_seeds;       /* rows of loss */
    const double *loss;    /* n_seeds × n_lr, loss[s * n_lr + j] = seed s at LR j; +INFINITY: diverged,
                              NaN: no result */
} mu_transfer_width_t;

/* Seed mean per LR: mean[j] over the seeds with a result at LR j; +INFINITY when any of them
 * diverged; NaN when none has a result. mean holds w->n_lr values. */
MU_API int mu_transfer_seed_mean(const mu_transfer_width_t *w, double *mean);

typedef struct {
    int32_t n_opt;       /* widths with an optimum (index >= 0): drift and slope use these */
    int32_t n_edge;      /* of those, optima on the grid edge */
    double grid_step;    /* smallest spacing of log2 LR in any width's grid (NaN: single points) */
    double drift;        /* max − min of log2 η* over widths (NaN: no optimum) */
    double drift_steps;  /* drift / grid_step */
    double slope;        /* d log2 η* / d log2 width (NaN: fewer than 2 distinct widths) */
    double slope_lo;     /* 5th percentile of the bootstrap slopes (NaN: no bootstrap) */
    double slope_hi;     /* 95th percentile */
    int32_t n_boot;      /* resamples that gave a slope */
} mu_transfer_t;

/* The whole §6 summary over n widths. opt receives n optima (the point estimates).
 * n_boot resamples (0: none; 1000 in the protocol) from an RNG seeded with boot_seed: each
 * resample draws, per width, n_seeds seed rows with replacement, recomputes every optimum
 * and the slope; a resample with fewer than 2 widths having an optimum is dropped. */
MU_API int mu_transfer_analyze(const mu_transfer_width_t *w, int32_t n, int32_t n_boot, uint64_t boot_seed,
                               mu_lr_optimum_t *opt, mu_transfer_t *out);

#ifdef __cplusplus
}
#endif
#endif

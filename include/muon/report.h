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
MU_API int mu_metrics_series(const char *path, /* metrics.jsonl */
                             const char *xkey, /* "step", "elapsed_s", "tokens", ... */
                             const char *ykey, /* "loss", "val_loss", ... */
                             double **x, double **y, int64_t *n);

#ifdef __cplusplus
}
#endif
#endif

/* svg.c — line plots as self-contained SVG: panels, linear/log2/log10 axes, ticks, legends.
 *
 * One figure = a grid of panels; one panel = axes + series drawn as polylines.
 * Coordinates: an axis maps t = f(v) (f = identity, log2 or log10) linearly from
 * [lo, hi] (in t space) onto the plot area's pixels; y grows downwards in SVG, so
 * py = bottom − (t − lo)/(hi − lo)·height. A point that is not finite, or ≤ 0 on a log
 * axis, ends the current polyline (a diverged run shows as a line that stops).
 * Everything outside the plot area is clipped (clipPath per panel). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "muon/report.h"

/* ---- growable string ---- */

typedef struct {
    char *p;
    size_t n, cap;
    int oom;
} sb_t;

static void sb_printf(sb_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sb_t *s, const char *fmt, ...) {
    if (s->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(s->p ? s->p + s->n : NULL, s->p ? s->cap - s->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            s->oom = 1;
            return;
        }
        if (s->p && s->n + (size_t)k < s->cap) {
            s->n += (size_t)k;
            return;
        }
        size_t nc = s->cap ? s->cap * 2 : 4096;
        while (nc < s->n + (size_t)k + 1) nc *= 2;
        char *np = realloc(s->p, nc);
        if (!np) {
            s->oom = 1;
            return;
        }
        s->p = np;
        s->cap = nc;
    }
}

/* Text content or attribute value with &, <, >, " escaped. */
static void sb_text(sb_t *s, const char *t) {
    for (; t && *t; t++) {
        switch (*t) {
        case '&': sb_printf(s, "&amp;"); break;
        case '<': sb_printf(s, "&lt;"); break;
        case '>': sb_printf(s, "&gt;"); break;
        case '"': sb_printf(s, "&quot;"); break;
        default: sb_printf(s, "%c", *t);
        }
    }
}

/* ---- axes ---- */

typedef struct {
    mu_axis_scale_t scale;
    double lo, hi; /* in transformed space */
    double p0, p1; /* pixels of lo and hi */
} axis_t;

static double fwd(mu_axis_scale_t sc, double v) {
    if (!isfinite(v)) return NAN;
    if (sc == MU_AXIS_LINEAR) return v;
    if (v <= 0) return NAN;
    return sc == MU_AXIS_LOG2 ? log2(v) : log10(v);
}

static double inv(mu_axis_scale_t sc, double t) {
    return sc == MU_AXIS_LINEAR ? t : sc == MU_AXIS_LOG2 ? exp2(t) : pow(10.0, t);
}

static double ax_px(const axis_t *a, double t) { return a->p0 + (t - a->lo) / (a->hi - a->lo) * (a->p1 - a->p0); }

/* A "nice" step (1, 2 or 5 × 10^k) near range/target. */
static double nice_step(double range, int target) {
    double raw = range / target, e = pow(10.0, floor(log10(raw))), f = raw / e;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * e;
}

/* Range of one axis from the data (t space) unless the caller fixed the limits. */
static void ax_range(axis_t *a, double dlo, double dhi, double ulo, double uhi) {
    double lo = isnan(ulo) ? dlo : fwd(a->scale, ulo), hi = isnan(uhi) ? dhi : fwd(a->scale, uhi);
    if (!isfinite(lo) || !isfinite(hi)) lo = 0, hi = 1;
    if (hi < lo) {
        double t = lo;
        lo = hi, hi = t;
    }
    if (hi == lo) {
        double w = a->scale == MU_AXIS_LINEAR ? (fabs(lo) > 0 ? 0.1 * fabs(lo) : 1) : 0.5;
        lo -= w, hi += w;
    }
    if (a->scale == MU_AXIS_LINEAR) { /* widen automatic ends to the tick grid */
        double st = nice_step(hi - lo, 5);
        if (isnan(ulo)) lo = floor(lo / st + 1e-9) * st;
        if (isnan(uhi)) hi = ceil(hi / st - 1e-9) * st;
    } else { /* whole powers when the data span at least one */
        if (isnan(ulo) && hi - lo >= 1) lo = floor(lo + 1e-9);
        if (isnan(uhi) && hi - lo >= 1) hi = ceil(hi - 1e-9);
    }
    a->lo = lo, a->hi = hi;
}

typedef struct {
    double t[64];
    char label[64][24];
    int n;
} ticks_t;

static void tick_add(ticks_t *tk, double t, const char *fmt, double v) {
    if (tk->n >= 64) return;
    tk->t[tk->n] = t;
    snprintf(tk->label[tk->n], sizeof tk->label[0], fmt, v);
    tk->n++;
}

/* Ticks: linear at 1-2-5 steps; log at whole powers (thinned to <= 8), with 2·10^k and
 * 5·10^k added (log10) or the axis ends labelled (log2) when fewer than 2 powers fit. */
static void ax_ticks(const axis_t *a, ticks_t *tk) {
    tk->n = 0;
    double lo = a->lo, hi = a->hi, eps = (hi - lo) * 1e-9;
    if (a->scale == MU_AXIS_LINEAR) {
        double st = nice_step(hi - lo, 5);
        for (double k = ceil((lo - eps) / st); k * st <= hi + eps && tk->n < 64; k++) {
            double v = k * st;
            if (fabs(v) < st * 1e-6) v = 0;
            tick_add(tk, v, "%g", v);
        }
        return;
    }
    double k0 = ceil(lo - 1e-9), k1 = floor(hi + 1e-9);
    int count = (int)(k1 - k0) + 1;
    if (count >= 2) {
        int stride = (count + 7) / 8;
        for (double k = k0; k <= k1; k += stride) {
            if (a->scale == MU_AXIS_LOG10) {
                if (fabs(k) <= 4) tick_add(tk, k, "%g", pow(10.0, k));
                else tick_add(tk, k, "1e%.0f", k);
            } else {
                if (k >= 0 && k <= 20) tick_add(tk, k, "%.0f", exp2(k));
                else tick_add(tk, k, "2^%.0f", k);
            }
        }
        return;
    }
    if (a->scale == MU_AXIS_LOG10) { /* less than a decade: m × 10^k, m in 1-2-5, then 1..9 */
        static const double m[2][9] = {{1, 2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9}};
        static const int nm[2] = {3, 9};
        for (int set = 0; set < 2 && tk->n < 3; set++) {
            tk->n = 0;
            for (double k = floor(lo) - 1; k <= ceil(hi); k++)
                for (int i = 0; i < nm[set]; i++) {
                    double v = m[set][i] * pow(10.0, k), t = log10(v);
                    if (t >= lo - 1e-9 && t <= hi + 1e-9) tick_add(tk, t, "%g", v);
                }
        }
    }
    if (tk->n < 2) { /* a narrow log range: 1-2-5 steps of the values themselves */
        tk->n = 0;
        double vlo = inv(a->scale, lo), vhi = inv(a->scale, hi), st = nice_step(vhi - vlo, 4);
        for (double k = ceil(vlo / st - 1e-9); k * st <= vhi * (1 + 1e-9) && tk->n < 64; k++)
            if (k * st > 0) tick_add(tk, fwd(a->scale, k * st), "%g", k * st);
    }
    if (tk->n < 2) { /* still too few: label the ends */
        tk->n = 0;
        tick_add(tk, lo, "%.3g", inv(a->scale, lo));
        tick_add(tk, hi, "%.3g", inv(a->scale, hi));
    }
}

/* ---- drawing ---- */

static const char *const palette[10] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

static void data_range(const mu_plot_panel_t *p, int yaxis, double *lo, double *hi) {
    *lo = INFINITY, *hi = -INFINITY;
    for (int32_t s = 0; s < p->n_series; s++) {
        const mu_plot_series_t *se = &p->series[s];
        for (int64_t i = 0; i < se->n; i++) {
            double tx = fwd(p->xscale, se->x[i]), ty = fwd(p->yscale, se->y[i]);
            if (isnan(tx) || isnan(ty)) continue; /* only points that are drawn count */
            double t = yaxis ? ty : tx;
            if (t < *lo) *lo = t;
            if (t > *hi) *hi = t;
        }
    }
    if (*lo > *hi) *lo = *hi = NAN;
}

static void draw_series(sb_t *s, const mu_plot_series_t *se, int idx, const axis_t *ax, const axis_t *ay) {
    const char *col = se->color ? se->color : palette[idx % 10];
    sb_printf(s, "<g class=\"series\" stroke=\"%s\" fill=\"none\" stroke-width=\"1.6\"%s>\n", col,
              se->dashed ? " stroke-dasharray=\"6,3\"" : "");
    int open = 0;
    for (int64_t i = 0; i < se->n; i++) {
        double tx = fwd(ax->scale, se->x[i]), ty = fwd(ay->scale, se->y[i]);
        if (isnan(tx) || isnan(ty)) {
            if (open) sb_printf(s, "\"/>\n");
            open = 0;
            continue;
        }
        sb_printf(s, "%s%.2f,%.2f", open ? " " : "<polyline points=\"", ax_px(ax, tx), ax_px(ay, ty));
        open = 1;
    }
    if (open) sb_printf(s, "\"/>\n");
    if (se->markers)
        for (int64_t i = 0; i < se->n; i++) {
            double tx = fwd(ax->scale, se->x[i]), ty = fwd(ay->scale, se->y[i]);
            if (!isnan(tx) && !isnan(ty))
                sb_printf(s, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"2.5\" fill=\"%s\"/>\n", ax_px(ax, tx),
                          ax_px(ay, ty), col);
        }
    sb_printf(s, "</g>\n");
}

static void draw_panel(sb_t *s, const mu_plot_panel_t *p, int idx, double ox, double oy, double pw, double ph) {
    double x0 = ox + MU_PLOT_MARGIN_LEFT, x1 = ox + pw - MU_PLOT_MARGIN_RIGHT;
    double y0 = oy + MU_PLOT_MARGIN_TOP, y1 = oy + ph - MU_PLOT_MARGIN_BOTTOM;
    axis_t ax = {.scale = p->xscale, .p0 = x0, .p1 = x1}, ay = {.scale = p->yscale, .p0 = y1, .p1 = y0};
    double lo, hi;
    data_range(p, 0, &lo, &hi);
    ax_range(&ax, lo, hi, p->xmin, p->xmax);
    data_range(p, 1, &lo, &hi);
    ax_range(&ay, lo, hi, p->ymin, p->ymax);

    sb_printf(s, "<g class=\"panel\">\n<clipPath id=\"clip%d\"><rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
                 "height=\"%.2f\"/></clipPath>\n",
              idx, x0, y0, x1 - x0, y1 - y0);
    if (p->title && *p->title) {
        sb_printf(s, "<text class=\"panel-title\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"14\">",
                  (x0 + x1) / 2, oy + 18);
        sb_text(s, p->title);
        sb_printf(s, "</text>\n");
    }
    /* grid and tick labels */
    ticks_t tk;
    ax_ticks(&ax, &tk);
    for (int i = 0; i < tk.n; i++) {
        double px = ax_px(&ax, tk.t[i]);
        sb_printf(s, "<line class=\"grid\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#e0e0e0\"/>\n", px,
                  y0, px, y1);
        sb_printf(s, "<text class=\"xtick\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"11\">", px,
                  y1 + 15);
        sb_text(s, tk.label[i]);
        sb_printf(s, "</text>\n");
    }
    ax_ticks(&ay, &tk);
    for (int i = 0; i < tk.n; i++) {
        double py = ax_px(&ay, tk.t[i]);
        sb_printf(s, "<line class=\"grid\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#e0e0e0\"/>\n", x0,
                  py, x1, py);
        sb_printf(s, "<text class=\"ytick\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\" font-size=\"11\">", x0 - 5,
                  py + 4);
        sb_text(s, tk.label[i]);
        sb_printf(s, "</text>\n");
    }
    sb_printf(s, "<rect class=\"frame\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" "
                 "stroke=\"#333\"/>\n",
              x0, y0, x1 - x0, y1 - y0);
    if (p->xlabel && *p->xlabel) {
        sb_printf(s, "<text class=\"xlabel\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"12\">",
                  (x0 + x1) / 2, y1 + 34);
        sb_text(s, p->xlabel);
        sb_printf(s, "</text>\n");
    }
    if (p->ylabel && *p->ylabel) {
        double cx = ox + 14, cy = (y0 + y1) / 2;
        sb_printf(s, "<text class=\"ylabel\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"12\" "
                     "transform=\"rotate(-90 %.2f %.2f)\">",
                  cx, cy, cx, cy);
        sb_text(s, p->ylabel);
        sb_printf(s, "</text>\n");
    }
    sb_printf(s, "<g clip-path=\"url(#clip%d)\">\n", idx);
    for (int32_t i = 0; i < p->n_series; i++) draw_series(s, &p->series[i], i, &ax, &ay);
    sb_printf(s, "</g>\n");
    if (p->legend) {
        int n = 0;
        size_t wmax = 0;
        for (int32_t i = 0; i < p->n_series; i++)
            if (p->series[i].label && *p->series[i].label) {
                n++;
                size_t l = strlen(p->series[i].label);
                if (l > wmax) wmax = l;
            }
        if (n > 0) {
            double lw = 34 + 6.5 * (double)wmax, lx = x1 - lw - 6, ly = y0 + 6;
            sb_printf(s, "<g class=\"legend\">\n<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                         "fill=\"white\" fill-opacity=\"0.85\" stroke=\"#999\"/>\n",
                      lx, ly, lw, 16.0 * n + 6);
            int k = 0;
            for (int32_t i = 0; i < p->n_series; i++) {
                const mu_plot_series_t *se = &p->series[i];
                if (!se->label || !*se->label) continue;
                double yy = ly + 13 + 16.0 * k++;
                sb_printf(s, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
                             "stroke-width=\"2\"%s/>\n",
                          lx + 5, yy - 4, lx + 25, yy - 4, se->color ? se->color : palette[i % 10],
                          se->dashed ? " stroke-dasharray=\"6,3\"" : "");
                sb_printf(s, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"11\">", lx + 29, yy);
                sb_text(s, se->label);
                sb_printf(s, "</text>\n");
            }
            sb_printf(s, "</g>\n");
        }
    }
    sb_printf(s, "</g>\n");
}

/* ---- public ---- */

int mu_axis_scale_parse(const char *s, mu_axis_scale_t *out) {
    MU_REQUIRE(s && out, "mu_axis_scale_parse: NULL argument");
    if (!strcmp(s, "linear")) *out = MU_AXIS_LINEAR;
    else if (!strcmp(s, "log2")) *out = MU_AXIS_LOG2;
    else if (!strcmp(s, "log10") || !strcmp(s, "log")) *out = MU_AXIS_LOG10;
    else return mu_set_error(MU_EINVAL, "axis scale '%s': expected linear, log2 or log10", s);
    return MU_OK;
}

mu_plot_panel_t mu_plot_panel_default(void) {
    mu_plot_panel_t p;
    memset(&p, 0, sizeof p);
    p.xmin = p.xmax = p.ymin = p.ymax = NAN;
    p.legend = 1;
    return p;
}

int mu_plot_svg(const mu_plot_figure_t *f, char **out, size_t *len) {
    MU_REQUIRE(f && out, "mu_plot_svg: NULL argument (figure %p, out %p)", (const void *)f, (void *)out);
    MU_REQUIRE(f->n_panels >= 1 && f->panels, "mu_plot_svg: figure has %d panels, need at least 1",
               (int)f->n_panels);
    for (int32_t i = 0; i < f->n_panels; i++)
        for (int32_t j = 0; j < f->panels[i].n_series; j++) {
            const mu_plot_series_t *se = &f->panels[i].series[j];
            MU_REQUIRE(se->n >= 0 && (se->n == 0 || (se->x && se->y)),
                       "mu_plot_svg: panel %d series %d ('%s'): %lld points but x or y is NULL", (int)i, (int)j,
                       se->label ? se->label : "", (long long)se->n);
        }
    int cols = f->cols > 0 ? f->cols : f->n_panels;
    int rows = (f->n_panels + cols - 1) / cols;
    double pw = f->panel_w > 0 ? f->panel_w : 480, ph = f->panel_h > 0 ? f->panel_h : 320;
    double th = f->title && *f->title ? MU_PLOT_TITLE_H : 0;
    double W = cols * pw, H = th + rows * ph;
    sb_t s = {0};
    sb_printf(&s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f "
                  "%.0f\" font-family=\"sans-serif\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
              W, H, W, H);
    if (th > 0) {
        sb_printf(&s, "<text class=\"title\" x=\"%.2f\" y=\"21\" text-anchor=\"middle\" font-size=\"16\" "
                      "font-weight=\"bold\">",
                  W / 2);
        sb_text(&s, f->title);
        sb_printf(&s, "</text>\n");
    }
    for (int32_t i = 0; i < f->n_panels; i++)
        draw_panel(&s, &f->panels[i], (int)i, (i % cols) * pw, th + (double)(i / cols) * ph, pw, ph);
    sb_printf(&s, "</svg>\n");
    if (s.oom) {
        free(s.p);
        return mu_set_error(MU_ENOMEM, "mu_plot_svg: out of memory building the SVG text");
    }
    *out = s.p;
    if (len) *len = s.n;
    return MU_OK;
}

int mu_plot_svg_write(const mu_plot_figure_t *f, const char *path) {
    MU_REQUIRE(path && *path, "mu_plot_svg_write: empty output path");
    char *s = NULL;
    size_t n = 0;
    MU_TRY(mu_plot_svg(f, &s, &n));
    int rc = mu_file_write_atomic(path, s, n);
    free(s);
    return rc;
}

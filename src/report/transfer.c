/* transfer.c — the μTransfer summary (spec §6): optimal LR per width from a loss-vs-LR grid,
 * its drift and slope over widths, and a seed-bootstrap interval for the slope.
 *
 * Conventions: LR and width enter as log2 values; a diverged run is +INFINITY (a result that
 * is never the argmin and never lies on a fitted parabola), a missing run is NaN (absent). */
#include <math.h>
#include <stdlib.h>

#include "base/util.h"
#include "muon/report.h"

int mu_parabola_vertex(const double x[3], const double y[3], double *xv, double *yv) {
    MU_REQUIRE(x && y && xv && yv, "mu_parabola_vertex: NULL argument");
    MU_REQUIRE(x[0] != x[1] && x[1] != x[2] && x[0] != x[2], "mu_parabola_vertex: x values %g, %g, %g not distinct",
               x[0], x[1], x[2]);
    /* Newton form p(x) = y0 + d1 (x − x0) + a (x − x0)(x − x1), with the divided differences
     * d1 = [x0,x1]y and a = [x0,x1,x2]y (a = half the second derivative). p'(xv) = 0 gives
     * xv = (x0 + x1)/2 − d1 / (2a); a minimum needs a > 0. */
    double d1 = (y[1] - y[0]) / (x[1] - x[0]), d2 = (y[2] - y[1]) / (x[2] - x[1]);
    double a = (d2 - d1) / (x[2] - x[0]);
    if (!(a > 0) || !isfinite(a) || !isfinite(d1))
        return mu_set_error(MU_EINVAL, "mu_parabola_vertex: no minimum (second divided difference %g)", a);
    double v = 0.5 * (x[0] + x[1]) - d1 / (2 * a);
    *xv = v;
    *yv = y[0] + d1 * (v - x[0]) + a * (v - x[0]) * (v - x[1]);
    return MU_OK;
}

int mu_lsq_slope(const double *x, const double *y, int32_t n, double *slope) {
    MU_REQUIRE(x && y && slope, "mu_lsq_slope: NULL argument");
    MU_REQUIRE(n >= 2, "mu_lsq_slope: %d points, need at least 2", (int)n);
    /* slope = Σ (x − x̄)(y − ȳ) / Σ (x − x̄)² (centred sums: no cancellation for large x) */
    double mx = 0, my = 0;
    for (int32_t i = 0; i < n; i++) mx += x[i], my += y[i];
    mx /= n, my /= n;
    double sxy = 0, sxx = 0;
    for (int32_t i = 0; i < n; i++) sxy += (x[i] - mx) * (y[i] - my), sxx += (x[i] - mx) * (x[i] - mx);
    MU_REQUIRE(sxx > 0 && isfinite(sxx) && isfinite(sxy), "mu_lsq_slope: x values are all equal or not finite");
    *slope = sxy / sxx;
    return MU_OK;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int mu_quantile(double *v, int32_t n, double q, double *out) {
    MU_REQUIRE(v && out, "mu_quantile: NULL argument");
    MU_REQUIRE(n >= 1, "mu_quantile: no values");
    MU_REQUIRE(q >= 0 && q <= 1, "mu_quantile: q = %g is outside [0, 1]", q);
    for (int32_t i = 0; i < n; i++) MU_REQUIRE(!isnan(v[i]), "mu_quantile: value %d is NaN", (int)i);
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    /* h = (n − 1) q; interpolate between the order statistics around h */
    double h = (n - 1) * q;
    int32_t lo = (int32_t)floor(h);
    if (lo >= n - 1) {
        *out = v[n - 1];
        return MU_OK;
    }
    *out = v[lo] + (h - lo) * (v[lo + 1] - v[lo]);
    return MU_OK;
}

int mu_lr_optimum(const double *log2_lr, const double *loss, int32_t n, mu_lr_optimum_t *out) {
    MU_REQUIRE(log2_lr && loss && out, "mu_lr_optimum: NULL argument");
    MU_REQUIRE(n >= 1, "mu_lr_optimum: empty LR grid");
    for (int32_t j = 0; j < n; j++) {
        MU_REQUIRE(isfinite(log2_lr[j]), "mu_lr_optimum: log2 LR %d is not finite", (int)j);
        MU_REQUIRE(j == 0 || log2_lr[j] > log2_lr[j - 1], "mu_lr_optimum: log2 LR not strictly ascending at %d",
                   (int)j);
        MU_REQUIRE(!(loss[j] == -INFINITY), "mu_lr_optimum: loss %d is -inf", (int)j);
    }
    *out = (mu_lr_optimum_t){.index = -1, .log2_lr = NAN, .loss = NAN, .vertex_loss = NAN};
    /* the grid points that have a result (NaN = none), in order */
    int32_t first = -1, last = -1, best = -1;
    for (int32_t j = 0; j < n; j++) {
        if (isnan(loss[j])) continue;
        if (first < 0) first = j;
        last = j;
        if (isfinite(loss[j]) && (best < 0 || loss[j] < loss[best])) best = j; /* ties: smaller LR */
    }
    if (best < 0) return MU_OK; /* every LR diverged or is missing */
    out->index = best;
    out->log2_lr = log2_lr[best];
    out->loss = out->vertex_loss = loss[best];
    if (best == first || best == last) { /* edge: reported as such, never extrapolated */
        out->edge = 1;
        return MU_OK;
    }
    int32_t l = best - 1, r = best + 1;
    while (isnan(loss[l])) l--; /* stops at first at the latest */
    while (isnan(loss[r])) r++;
    if (!isfinite(loss[l]) || !isfinite(loss[r])) return MU_OK; /* a diverged neighbour: the grid point */
    double x[3] = {log2_lr[l], log2_lr[best], log2_lr[r]}, y[3] = {loss[l], loss[best], loss[r]}, xv, yv;
    if (mu_parabola_vertex(x, y, &xv, &yv) != MU_OK) { /* flat (all three equal): the grid point */
        mu_clear_error();
        return MU_OK;
    }
    out->refined = 1;
    out->log2_lr = xv;
    out->vertex_loss = yv;
    return MU_OK;
}

static int check_width(const mu_transfer_width_t *w, int32_t i) {
    MU_REQUIRE(w->n_lr >= 1 && w->log2_lr, "mu_transfer: width %d has no LR grid", (int)i);
    MU_REQUIRE(w->n_seeds >= 1 && w->loss, "mu_transfer: width %d has no seeds", (int)i);
    MU_REQUIRE(isfinite(w->log2_width), "mu_transfer: width %d: log2 width is not finite", (int)i);
    for (int32_t j = 0; j < w->n_lr; j++) {
        MU_REQUIRE(isfinite(w->log2_lr[j]) && (j == 0 || w->log2_lr[j] > w->log2_lr[j - 1]),
                   "mu_transfer: width %d: log2 LR grid not finite and strictly ascending at %d", (int)i, (int)j);
    }
    for (int64_t k = 0; k < (int64_t)w->n_seeds * w->n_lr; k++)
        MU_REQUIRE(w->loss[k] != -INFINITY, "mu_transfer: width %d: a loss is -inf", (int)i);
    return MU_OK;
}

/* Mean over the seed rows pick[0..n_pick) (with repetition) at each LR; see
 * mu_transfer_seed_mean for the +inf / NaN rules. */
static void seed_mean(const mu_transfer_width_t *w, const int32_t *pick, int32_t n_pick, double *mean) {
    for (int32_t j = 0; j < w->n_lr; j++) {
        double sum = 0;
        int32_t cnt = 0, inf = 0;
        for (int32_t s = 0; s < n_pick; s++) {
            double v = w->loss[(int64_t)(pick ? pick[s] : s) * w->n_lr + j];
            if (isnan(v)) continue;
            if (isinf(v)) inf = 1;
            else sum += v;
            cnt++;
        }
        mean[j] = cnt == 0 ? NAN : inf ? INFINITY : sum / cnt;
    }
}

int mu_transfer_seed_mean(const mu_transfer_width_t *w, double *mean) {
    MU_REQUIRE(w && mean, "mu_transfer_seed_mean: NULL argument");
    MU_TRY(check_width(w, 0));
    seed_mean(w, NULL, w->n_seeds, mean);
    return MU_OK;
}

/* Slope over the widths whose optimum exists; MU_EINVAL (no message needed) when < 2. */
static int slope_of(const mu_transfer_width_t *w, const mu_lr_optimum_t *opt, int32_t n, double *xs, double *ys,
                    double *slope) {
    int32_t m = 0;
    for (int32_t i = 0; i < n; i++)
        if (opt[i].index >= 0) xs[m] = w[i].log2_width, ys[m] = opt[i].log2_lr, m++;
    if (m < 2) return MU_EINVAL;
    int rc = mu_lsq_slope(xs, ys, m, slope);
    if (rc != MU_OK) mu_clear_error();
    return rc;
}

int mu_transfer_analyze(const mu_transfer_width_t *w, int32_t n, int32_t n_boot, uint64_t boot_seed,
                        mu_lr_optimum_t *opt, mu_transfer_t *out) {
    MU_REQUIRE(w && opt && out, "mu_transfer_analyze: NULL argument");
    MU_REQUIRE(n >= 1, "mu_transfer_analyze: no widths");
    MU_REQUIRE(n_boot >= 0, "mu_transfer_analyze: n_boot = %d is negative", (int)n_boot);
    int32_t max_lr = 0, max_seeds = 0;
    for (int32_t i = 0; i < n; i++) {
        MU_TRY(check_width(&w[i], i));
        if (w[i].n_lr > max_lr) max_lr = w[i].n_lr;
        if (w[i].n_seeds > max_seeds) max_seeds = w[i].n_seeds;
    }
    *out = (mu_transfer_t){.grid_step = NAN, .drift = NAN, .drift_steps = NAN, .slope = NAN, .slope_lo = NAN,
                           .slope_hi = NAN};
    double *mean = malloc(sizeof(double) * (size_t)max_lr), *xs = malloc(sizeof(double) * (size_t)n);
    double *ys = malloc(sizeof(double) * (size_t)n), *boot = malloc(sizeof(double) * (size_t)(n_boot + 1));
    int32_t *pick = malloc(sizeof(int32_t) * (size_t)max_seeds);
    mu_lr_optimum_t *bo = malloc(sizeof *bo * (size_t)n);
    int rc = MU_OK;
    if (!mean || !xs || !ys || !boot || !pick || !bo) {
        rc = mu_set_error(MU_ENOMEM, "mu_transfer_analyze: out of memory");
        goto done;
    }
    /* point estimates: the optimum of every width's seed-mean curve */
    double lo = INFINITY, hi = -INFINITY;
    for (int32_t i = 0; i < n; i++) {
        seed_mean(&w[i], NULL, w[i].n_seeds, mean);
        if ((rc = mu_lr_optimum(w[i].log2_lr, mean, w[i].n_lr, &opt[i])) != MU_OK) goto done;
        for (int32_t j = 1; j < w[i].n_lr; j++) {
            double d = w[i].log2_lr[j] - w[i].log2_lr[j - 1];
            if (isnan(out->grid_step) || d < out->grid_step) out->grid_step = d;
        }
        if (opt[i].index < 0) continue;
        out->n_opt++;
        out->n_edge += opt[i].edge;
        if (opt[i].log2_lr < lo) lo = opt[i].log2_lr;
        if (opt[i].log2_lr > hi) hi = opt[i].log2_lr;
    }
    if (out->n_opt > 0) {
        out->drift = hi - lo;
        out->drift_steps = out->drift / out->grid_step; /* NaN when every grid is one point */
    }
    double s;
    if (slope_of(w, opt, n, xs, ys, &s) != MU_OK) goto done; /* no slope: no interval either */
    out->slope = s;
    /* seed bootstrap: resample each width's seeds with replacement, redo optima and slope */
    mu_rng_t r;
    mu_rng_seed(&r, boot_seed);
    for (int32_t b = 0; b < n_boot; b++) {
        for (int32_t i = 0; i < n; i++) {
            for (int32_t k = 0; k < w[i].n_seeds; k++) pick[k] = (int32_t)mu_rng_below(&r, (uint64_t)w[i].n_seeds);
            seed_mean(&w[i], pick, w[i].n_seeds, mean);
            if ((rc = mu_lr_optimum(w[i].log2_lr, mean, w[i].n_lr, &bo[i])) != MU_OK) goto done;
        }
        if (slope_of(w, bo, n, xs, ys, &s) == MU_OK) boot[out->n_boot++] = s;
    }
    if (out->n_boot > 0) {
        if ((rc = mu_quantile(boot, out->n_boot, 0.05, &out->slope_lo)) != MU_OK) goto done;
        rc = mu_quantile(boot, out->n_boot, 0.95, &out->slope_hi);
    }
done:
    free(mean), free(xs), free(ys), free(boot), free(pick), free(bo);
    return rc;
}

/* hinge_fit.c — Gluon's smoothness constants from measured pairs (optimizers-lmo.md §5).
 *
 * Gluon (arXiv 2505.13416) models layer i as (L0, L1)-smooth: ‖∇f(X) − ∇f(Y)‖_* <=
 * (L0 + L1‖∇f(X)‖_*)·‖X − Y‖, and estimates the constants along the trajectory by regressing
 * L̂_k = ‖G_{k+1} − G_k‖_* / ‖W_{k+1} − W_k‖ on L0 + L1·‖G_{k+1}‖_* "with a hinge penalty"
 * (the exact procedure is not published; spec: "unspecified"). Our fit, a reconstruction:
 *
 *   (a, b) = argmin_{a, b >= 0} Σ_k ρ_q(y_k − a − b·x_k),   ρ_q(r) = q·r (r >= 0), (q − 1)·r (r < 0)
 *
 * i.e. the hinge loss on under-estimates weighted q and on over-estimates 1 − q: the q-quantile
 * line, an upper envelope of the pairs as q -> 1. It is a linear program in (a, b); its optimum is
 * attained at a vertex where two of {r_k = 0, a = 0, b = 0} hold, so trying every candidate
 *   a = 0, b = y_i/x_i (x_i > 0);   b = 0, a = y_i;   the line through (x_i, y_i), (x_j, y_j) (x_i ≠ x_j)
 * with a, b >= 0 finds it exactly. Objective in double; the first best candidate in that order wins,
 * losses within 1e-12·Σ|y_k| counting as ties (so L0 = 0 is preferred on ties, as the paper's fits
 * found L0 ≈ 0). O(n³) for n pairs.
 */
#include <math.h>

#include "optim/lmo.h"

static double loss(const float *x, const float *y, int32_t n, double q, double a, double b) {
    double s = 0.0;
    for (int32_t k = 0; k < n; k++) {
        const double r = (double)y[k] - a - b * (double)x[k];
        s += r >= 0 ? q * r : (q - 1.0) * r;  // ρ_q(r)
    }
    return s;
}

/* Keep (a, b) when it is feasible and better than the best so far by more than tol (round-off of
 * a line through a point is not a reason to prefer a later candidate). */
static void try_line(const float *x, const float *y, int32_t n, double q, double a, double b, double tol,
                     double *best, double *ba, double *bb) {
    if (!(a >= 0.0 && b >= 0.0) || !isfinite(a) || !isfinite(b)) return;
    const double l = loss(x, y, n, q, a, b);
    if (l < *best - tol) *best = l, *ba = a, *bb = b;
}

void mu_hinge_fit(const float *x, const float *y, int32_t n, double q, double *a, double *b) {
    double best = INFINITY, ba = 0.0, bb = 0.0, tol = 0.0;
    for (int32_t i = 0; i < n; i++) tol += fabs((double)y[i]);
    tol *= 1e-12;  // losses closer than this are ties
    for (int32_t i = 0; i < n; i++)  // through the origin: L0 = 0
        if (x[i] > 0) try_line(x, y, n, q, 0.0, (double)y[i] / (double)x[i], tol, &best, &ba, &bb);
    for (int32_t i = 0; i < n; i++) try_line(x, y, n, q, (double)y[i], 0.0, tol, &best, &ba, &bb);  // L1 = 0
    for (int32_t i = 0; i < n; i++)
        for (int32_t j = i + 1; j < n; j++) {
            const double dx = (double)x[j] - (double)x[i];
            if (dx == 0.0) continue;
            const double sl = ((double)y[j] - (double)y[i]) / dx;
            try_line(x, y, n, q, (double)y[i] - sl * (double)x[i], sl, tol, &best, &ba, &bb);
        }
    *a = ba;
    *b = bb;
}

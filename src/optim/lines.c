/* lines.c — rows or columns of a matrix parameter as "lines": counts, squared norms and
 * per-line scaling (see lines.h for the axis conventions). Row-major storage: a row is
 * contiguous; a column of view v is view_rows floats with stride cols, so column sums are
 * accumulated row by row (contiguous inner loop, fixed order). */
#include "base/util.h"
#include "optim/lines.h"

const char *const mu_axis_names[] = {"row", "col", "neuron", NULL};

int32_t mu_axis_resolve(int32_t axis, const mu_param_t *p) {
    // a tied token table is also the head (Linear layout (V, d)): the head rule wins (spec §0)
    if (axis == MU_AXIS_NEURON) return p->role == MU_ROLE_EMBED && !p->tied ? MU_AXIS_COL : MU_AXIS_ROW;
    return axis;
}

int64_t mu_lines_count(const mu_param_t *p, int32_t axis, int32_t split) {
    if (mu_axis_resolve(axis, p) == MU_AXIS_ROW) return p->shape[0];
    int64_t m, n;
    return mu_param_views(p, split, MU_VIEW_LOGICAL, &m, &n) * n;
}

int64_t mu_lines_len(const mu_param_t *p, int32_t axis, int32_t split) {
    if (mu_axis_resolve(axis, p) == MU_AXIS_ROW) return p->shape[1];
    int64_t m, n;
    mu_param_views(p, split, MU_VIEW_LOGICAL, &m, &n);
    return m;
}

size_t mu_lines_scratch(const mu_param_t *p, int32_t axis, int32_t split) {
    return p->ndim == 2 ? 3 * (size_t)mu_lines_count(p, axis, split) : 0;
}

void mu_lines_sumsq(const float *X, const mu_param_t *p, int32_t axis, int32_t split, double *ss) {
    const int64_t rows = p->shape[0], cols = p->shape[1];
    if (mu_axis_resolve(axis, p) == MU_AXIS_ROW) {
#pragma omp parallel for schedule(static) if (p->numel >= MU_OPTIM_PAR_MIN)
        for (int64_t i = 0; i < rows; i++) ss[i] = mu_dot_f64(X + i * cols, X + i * cols, cols);
        return;
    }
    int64_t m, n;
    const int64_t nv = mu_param_views(p, split, MU_VIEW_LOGICAL, &m, &n);
    for (int64_t l = 0; l < nv * n; l++) ss[l] = 0.0;
    // views in parallel would be too coarse (1 or 3); columns of one view: rows in order
    for (int64_t v = 0; v < nv; v++) {
        double *s = ss + v * n;
        const float *V = X + v * m * n;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) s[j] += (double)V[i * n + j] * (double)V[i * n + j];
    }
}

void mu_lines_scale(float *X, const mu_param_t *p, int32_t axis, int32_t split, const float *f) {
    const int64_t rows = p->shape[0], cols = p->shape[1];
    if (mu_axis_resolve(axis, p) == MU_AXIS_ROW) {
#pragma omp parallel for schedule(static) if (p->numel >= MU_OPTIM_PAR_MIN)
        for (int64_t i = 0; i < rows; i++)
            for (int64_t j = 0; j < cols; j++) X[i * cols + j] *= f[i];
        return;
    }
    int64_t m, n;
    mu_param_views(p, split, MU_VIEW_LOGICAL, &m, &n);
    // row r of the tensor lies in view r/m; its columns use that view's factors
#pragma omp parallel for schedule(static) if (p->numel >= MU_OPTIM_PAR_MIN)
    for (int64_t i = 0; i < rows; i++) {
        const float *fv = f + (i / m) * n;
        for (int64_t j = 0; j < cols; j++) X[i * cols + j] *= fv[j];
    }
}

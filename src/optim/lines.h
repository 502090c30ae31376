/* lines.h — per-neuron "lines" of a matrix parameter: its rows or its columns, with the
 * axis an explicit choice (optimizers-lmo.md §0). Used by the per-row / per-column
 * transforms (row_moment, row_normalize, capture(cols), norm_adapt(col)).
 *
 *   row     line i = row i of the whole (rows, cols) tensor: shape[0] lines of cols floats
 *           (rows of a fused qkv are rows of q, k or v, so the split does not matter)
 *   col     line = one column of one logical view (views.c, MU_VIEW_LOGICAL):
 *           n_views·cols lines of view_rows floats; line v·cols + j = column j of view v
 *   neuron  output neurons: col for an embedding table (stored (V, d), the transpose of its
 *           Linear view), row for everything else (Linear layout (d_out, d_in), head (V, d),
 *           a token table tied to the head)
 */
#ifndef MU_OPTIM_LINES_H
#define MU_OPTIM_LINES_H

#include "optim/transform.h"

enum { MU_AXIS_ROW = 0, MU_AXIS_COL = 1, MU_AXIS_NEURON = 2 };
extern const char *const mu_axis_names[];   /* "row", "col", "neuron", NULL */
/* The `axis` key of a per-line transform (default neuron). */
#define MU_HP_AXIS_KEY \
    {.key = "axis", .type = MU_HP_ENUM, .def = 2.0f, .lo = 0.0f, .hi = 2.0f, .structural = 1, .names = mu_axis_names}

/* MU_AXIS_ROW or MU_AXIS_COL for parameter p (resolves neuron by the role). */
int32_t mu_axis_resolve(int32_t axis, const mu_param_t *p);
/* Number of lines and their length for a (2-D) parameter; axis resolved or not. */
int64_t mu_lines_count(const mu_param_t *p, int32_t axis, int32_t split);
int64_t mu_lines_len(const mu_param_t *p, int32_t axis, int32_t split);
/* ss[l] = Σ_k X_lk² in double, fixed order (thread-count independent). X numel floats. */
void mu_lines_sumsq(const float *X, const mu_param_t *p, int32_t axis, int32_t split, double *ss);
/* Scratch of a per-line rescaling: nl double sums of squares (2 floats each), then nl float
 * factors; 0 for a tensor that is not 2-D. */
size_t mu_lines_scratch(const mu_param_t *p, int32_t axis, int32_t split);
/* X_lk *= f[l] for every line l. */
void mu_lines_scale(float *X, const mu_param_t *p, int32_t axis, int32_t split, const float *f);

#endif

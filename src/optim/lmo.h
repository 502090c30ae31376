/* lmo.h — the linear minimization oracles of Scion (optimizers-lmo.md §4), shared by every link
 * that steps or measures in an LMO's norm: `lmo` itself (lmo.c), layer_lr's noise statistic
 * (layer_lr.c) and Gluon's (L0, L1) estimation (lmo.c, hinge_fit.c). Oracles: lmo_oracle.c.
 *
 * On the Linear view (m, n) = (d_out, d_in) of the tensor, eps = 1e-8, unit radius:
 *   spectral      sqrt(m/n) · orth(X)                 RMS -> RMS
 *   spectral_max  sqrt(max(1, m/n)) · orth(X)
 *   colnorm       column j: sqrt(m) · X_:j / (‖X_:j‖ + eps)      1 -> RMS
 *   rownorm       row i: X_i: / ((‖X_i:‖ + eps) · sqrt(n))       RMS -> ∞
 *   sign          sign(X) / n                         1 -> ∞
 *   bias_rms      X / (RMS(X) + eps)                  RMS (any shape)
 * The dual norm of X in the oracle's norm is ⟨X, lmo(X)⟩: spectral sqrt(m/n)·‖X‖_* (exact polar
 * factor; ns5 approximates it), colnorm sqrt(m)·Σ_j ‖X_:j‖, rownorm Σ_i ‖X_i:‖ / sqrt(n),
 * sign Σ|X| / n, bias_rms sqrt(N)·‖X‖_F (up to eps).
 */
#ifndef MU_OPTIM_LMO_H
#define MU_OPTIM_LMO_H

#include "optim/orth_views.h"

enum { MU_LMO_SPECTRAL = 0, MU_LMO_SPECTRAL_MAX, MU_LMO_COLNORM, MU_LMO_ROWNORM, MU_LMO_SIGN, MU_LMO_BIAS_RMS };
enum { MU_LMO_LINEAR = 0, MU_LMO_TABLE = 1 };

extern const char *const mu_lmo_kind_names[];    /* "spectral", ..., "bias_rms", NULL */
extern const char *const mu_lmo_layout_names[];  /* "linear", "table", NULL */
extern const char *const mu_lmo_orth_names[];    /* "ns5", "pe", "cubic", "quintic", "exact", NULL */

/* The keys that name a norm, shared by lmo and layer_lr (same names, ranges and defaults). */
#define MU_LMO_KIND_KEY                                                                              \
    {.key = "kind", .type = MU_HP_ENUM, .def = 0.0f, .lo = 0.0f, .hi = 5.0f, .structural = 1, \
     .names = mu_lmo_kind_names}
#define MU_LMO_LAYOUT_KEY                                                                              \
    {.key = "layout", .type = MU_HP_ENUM, .def = 0.0f, .lo = 0.0f, .hi = 1.0f, .structural = 1, \
     .names = mu_lmo_layout_names}
#define MU_LMO_TIED_RHO_KEY {.key = "tied_rho", .type = MU_HP_FLOAT, .def = 0.0f, .lo = 0.0f, .hi = 1e9f}
#define MU_LMO_ORTH_KEY                                                                              \
    {.key = "orth", .type = MU_HP_ENUM, .def = 0.0f, .lo = 0.0f, .hi = 4.0f, .structural = 1, \
     .names = mu_lmo_orth_names}

/* A norm: the oracle kind, the storage layout (an embedding table is the transpose of its Linear
 * view), whether a tied table takes the head rule (tied_rho > 0: sign on the linear view), the
 * qkv split of matrix kinds and the polar approximation of the spectral kinds. */
typedef struct {
    int32_t kind, layout, tied_head, split, orth;
} mu_lmo_norm_t;

/* The norm of a link with the keys kind, layout, tied_rho, split, orth (read by name). */
mu_lmo_norm_t mu_lmo_norm_of(const mu_tstep_t *s);
/* 1 when both links measure in the same norm (every field equal). */
int mu_lmo_norm_equal(const mu_lmo_norm_t *a, const mu_lmo_norm_t *b);
/* The oracle p gets under nm (a tied table with tied_head: sign on the linear view). */
int mu_lmo_kind_for(const mu_lmo_norm_t *nm, const mu_param_t *p);
int mu_lmo_layout_for(const mu_lmo_norm_t *nm, const mu_param_t *p);
/* 1 for the spectral kinds (a polar factor per view), 0 for the vector oracles. */
int mu_lmo_is_spectral(int kind);
/* The views engine of a spectral oracle on p (its polar approximation and split), `batch`
 * matrices per batched call: lmo.c batches a window's members with it. */
mu_orth_views_t mu_lmo_views(const mu_lmo_norm_t *nm, const mu_param_t *p, int64_t batch);
/* The spectral oracle's shape factor a in lmo(X) = a·orth(X) on p: sqrt(m/n), spectral_max
 * sqrt(max(1, m/n)), (m, n) of the logical matrix's Linear view. */
double mu_lmo_spectral_factor(const mu_lmo_norm_t *nm, const mu_param_t *p);
/* Workspace floats of mu_lmo_unit on p (the polar workspace of the spectral kinds, else 0). */
size_t mu_lmo_ws_floats(const mu_lmo_norm_t *nm, const mu_param_t *p);
/* Init-time: the spectral kinds need a 2-D tensor that splits and a compute context. */
int mu_lmo_check(const mu_lmo_norm_t *nm, const mu_param_t *p, const mu_gemm_ctx_t *gemm, const char *who);
/* X <- lmo(X) at unit radius, in place (X: numel floats laid out as p). */
int mu_lmo_unit(const mu_lmo_norm_t *nm, const mu_tctx_t *ctx, float *X, mu_param_t *p, float *ws);
/* The dual norm ⟨X, lmo(X)⟩ of X (numel floats, unchanged) into *out; tmp: numel floats
 * (holds lmo(X) afterwards); no diagnostics probe. */
int mu_lmo_dual(const mu_lmo_norm_t *nm, const mu_tctx_t *ctx, const float *X, mu_param_t *p, float *tmp, float *ws,
                double *out);

/* hinge_fit.c — Gluon's (L0, L1) from measured pairs (x_k, y_k): the (a, b) >= 0 minimizing the
 * hinge (pinball) loss Σ_k ρ_q(y_k − a − b·x_k), ρ_q(r) = q·r for r >= 0, (q − 1)·r for r < 0;
 * exact (the optimum of this 2-variable LP is a line through two points or through one point
 * with a = 0 or b = 0); O(n³); ties (within 1e-12·Σ|y|) keep the first candidate (origin lines,
 * horizontal lines, two-point lines, in index order). n = 0: a = b = 0. */
void mu_hinge_fit(const float *x, const float *y, int32_t n, double q, double *a, double *b);

#endif

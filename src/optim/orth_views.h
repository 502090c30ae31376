/* orth_views.h — the polar factor of every matrix view of several members, same-shape views
 * batched: the engine shared by the `orth` link (orthogonalize.c) and the spectral LMOs
 * (lmo_oracle.c, lmo.c).
 *
 *   for each member j, each view X (r, c) of U[j] (views.c, MU_VIEW_ORTH):  X <- orth(X)
 *
 * Views of one shape (the 3·L attention (C, C) blocks, the L MLP matrices) go through
 * mu_orth_batch together, every product of the iteration once for up to `batch` of them, in
 * chunks that also fit the workspace; member order, then view order. batch < 2, kind exact, or
 * a workspace for fewer than two items: one view at a time through mu_orth. Results equal the
 * one-by-one path up to the summation order of batched products. A diagnostics probe
 * (ctx->probe) records each view's residual.
 */
#ifndef MU_OPTIM_ORTH_VIEWS_H
#define MU_OPTIM_ORTH_VIEWS_H

#include "muon/orth.h"
#include "optim/transform.h"

typedef struct {
    mu_orth_config_t oc;
    int32_t split;   /* qkv split of the views (MU_SPLIT_*) */
    int64_t batch;   /* most matrices per mu_orth_batch call; < 2: one by one */
    const char *who; /* the link in error messages: "orth(ns5)", "lmo(spectral)" */
} mu_orth_views_t;

/* U[j] <- the polar factor of each of its views, j in [0, n), in place. ws: ws_floats floats,
 * at least one view's mu_orth_workspace_floats. Errors name the member, view and shape. */
int mu_orth_views(const mu_orth_views_t *ov, const mu_tctx_t *ctx, float *const *U, mu_param_t *const *ps, int32_t n,
                  float *ws, size_t ws_floats);
/* The workspace mu_orth_views would use on ps[0..n) at once: the largest shape class's batch
 * (at most `batch` items), at least one view's. Members that are not 2-D are skipped. */
size_t mu_orth_views_scratch(const mu_orth_views_t *ov, const mu_param_t *const *ps, int32_t n);

#endif

/* orthogonalize.c — the `orth(kind, steps)` link: U <- orth(U) on every matrix view.
 *
 *   for each view X (rows, cols) of U (see views.c; fused qkv = three (C, C) by default):
 *       X <- orth(X) ≈ P·Qᵀ of the thin SVD X = P Σ Qᵀ   (mu_orth, include/muon/orth.h)
 *
 * Kinds: ns5 (Keller), pe (Polar Express), cubic, quintic, exact (LAPACK SVD);
 * optimizers-lmo.md §1.1. The polynomial kinds normalize by ‖X‖_F themselves, so
 * the scale of U does not matter. Products go through ctx->gemm; the workspace is
 * ctx->scratch (scratch_size = mu_orth_workspace_floats of one view). No state.
 * prec = bf16 needs a CPU with bf16 products: checked at init, never a fallback.
 *
 * Batched (key batch = the most matrices per batch, default 8): the optimizer hands the link
 * a window of members (step.c) and their same-shape views go through mu_orth_batch together
 * (orth_views.h), in chunks that also fit the scratch the optimizer granted. Small matrices are
 * bound by per-product overhead; larger batches trade it for cache (8 was the best of 4 / 8 /
 * all on the bench models' shapes: BENCHMARKS.md). batch = 0 or 1: one by one.
 */
#include "base/util.h"
#include "muon/orth.h"
#include "optim/orth_views.h"

enum { K_KIND = 0, K_STEPS = 1, K_PREC = 2, K_SPLIT = 3, K_BATCH = 4 };

static const char *const kind_names[] = {"ns5", "pe", "cubic", "quintic", "exact", NULL};
static const char *const prec_names[] = {"f32", "bf16", NULL};

static const mu_hp_desc_t keys[] = {
    {.key = "kind", .type = MU_HP_ENUM, .def = 0.0f, .lo = 0.0f, .hi = 4.0f, .structural = 1, .names = kind_names},
    {.key = "steps", .type = MU_HP_INT, .def = 5.0f, .lo = 1.0f, .hi = 100.0f},
    {.key = "prec", .type = MU_HP_ENUM, .def = 0.0f, .lo = 0.0f, .hi = 1.0f, .structural = 1, .names = prec_names},
    MU_HP_SPLIT_KEY,
    {.key = "batch", .type = MU_HP_INT, .def = 8.0f, .lo = 0.0f, .hi = 64.0f, .quiet_default = 1},
};

static mu_orth_config_t orth_config(const mu_tstep_t *s) {
    mu_orth_config_t oc = mu_orth_config_default();
    oc.kind = (mu_orth_kind_t)(int)s->hp[K_KIND];
    oc.steps = (int32_t)s->hp[K_STEPS];
    oc.prec = s->hp[K_PREC] != 0.0f ? MU_PREC_BF16 : MU_PREC_F32;
    return oc;
}

static size_t orth_scratch(const mu_tstep_t *s, const mu_param_t *p) {
    if (p->ndim != 2) return 0;
    int64_t r, c;
    mu_param_views(p, (int32_t)s->hp[K_SPLIT], MU_VIEW_ORTH, &r, &c);
    mu_orth_config_t oc = orth_config(s);
    return mu_orth_workspace_floats(r, c, &oc);
}

static int orth_check(const mu_tstep_t *s, const mu_param_t *p, const mu_gemm_ctx_t *gemm, const char *who) {
    MU_TRY(mu_views_check(p, (int32_t)s->hp[K_SPLIT], who));
    if (!gemm)
        return mu_set_error(MU_EINVAL, "%s: orthogonalization needs a compute context (mu_optim_init got gemm = NULL)",
                            who);
    if (s->hp[K_PREC] != 0.0f && !mu_gemm_bf16_available())
        return mu_set_error(MU_EUNSUPPORTED,
                            "%s: orth_prec = bf16 needs a CPU with AVX512-BF16 or AMX (oneDNN); this CPU has "
                            "neither: use --orth-precision f32",
                            who);
    return MU_OK;
}

/* The views engine (orth_views.h) for this link: its kind, split and batch size. */
static mu_orth_views_t views_of(const mu_tstep_t *s, int64_t batch) {
    static const char *const who[] = {"orth(ns5)", "orth(pe)", "orth(cubic)", "orth(quintic)", "orth(exact)"};
    const mu_orth_config_t oc = orth_config(s);
    mu_orth_views_t ov = {.oc = oc, .split = (int32_t)s->hp[K_SPLIT], .batch = batch, .who = who[oc.kind]};
    return ov;
}

static int orth_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *state, mu_param_t *p) {
    (void)state;
    const mu_orth_views_t ov = views_of(s, 1);  // one member: its views one by one
    return mu_orth_views(&ov, ctx, &U, &p, 1, ctx->scratch, ctx->scratch_floats);
}

static int orth_update_batch(const mu_tstep_t *s, const mu_tctx_t *ctx, float *const *U, mu_param_t *const *ps,
                             int32_t n) {
    const mu_orth_views_t ov = views_of(s, (int64_t)s->hp[K_BATCH]);
    return mu_orth_views(&ov, ctx, U, ps, n, ctx->scratch, ctx->scratch_floats);
}

/* Scratch for every member's views at once: the largest shape class's batch workspace. */
static size_t orth_batch_scratch(const mu_tstep_t *s, const mu_param_t *const *ps, int32_t n) {
    const mu_orth_views_t ov = views_of(s, (int64_t)s->hp[K_BATCH]);
    return mu_orth_views_scratch(&ov, ps, n);
}

const mu_transform_t mu_tr_orth = {
    .name = "orth", .keys = keys, .n_keys = 5, .scratch_size = orth_scratch, .update = orth_update,
    .check = orth_check, .update_batch = orth_update_batch, .batch_scratch_size = orth_batch_scratch,
};

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
 */
#include <stdio.h>

#include "base/util.h"
#include "muon/orth.h"
#include "optim/probe.h"
#include "optim/transform.h"

enum { K_KIND = 0, K_STEPS = 1, K_PREC = 2, K_SPLIT = 3 };

static const char *const kind_names[] = {"ns5", "pe", "cubic", "quintic", "exact", NULL};
static const char *const prec_names[] = {"f32", "bf16", NULL};

static const mu_hp_desc_t keys[] = {
    {.key = "kind", .type = MU_HP_ENUM, .def = 0.0f, .lo = 0.0f, .hi = 4.0f, .structural = 1, .names = kind_names},
    {.key = "steps", .type = MU_HP_INT, .def = 5.0f, .lo = 1.0f, .hi = 100.0f},
    {.key = "prec", .type = MU_HP_ENUM, .def = 0.0f, .lo = 0.0f, .hi = 1.0f, .structural = 1, .names = prec_names},
    MU_HP_SPLIT_KEY,
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

static int orth_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *state, mu_param_t *p) {
    (void)state;
    int64_t r, c;
    const int64_t nv = mu_param_views(p, (int32_t)s->hp[K_SPLIT], MU_VIEW_ORTH, &r, &c);
    mu_orth_config_t oc = orth_config(s);
    for (int64_t v = 0; v < nv; v++) {
        float *X = U + v * r * c;
        int rc = mu_orth(ctx->gemm, &oc, X, r, c, X, ctx->scratch);
        if (rc < 0) {
            char why[256];
            snprintf(why, sizeof why, "%s", mu_last_error());  // copy: set_error rewrites the message
            return mu_set_error(rc, "optim orth(%s) on '%s' view %lld (%lld x %lld): %s", kind_names[oc.kind],
                                p->name, (long long)v, (long long)r, (long long)c, why);
        }
        if (ctx->probe) MU_TRY(mu_probe_orth(ctx->probe, ctx->gemm, p, v * r, X, r, c));  // diag steps only
    }
    return MU_OK;
}

const mu_transform_t mu_tr_orth = {
    .name = "orth", .keys = keys, .n_keys = 4, .scratch_size = orth_scratch, .update = orth_update,
    .check = orth_check,
};

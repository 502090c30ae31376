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
 * a window of members (step.c) and the views of one shape — the 3·L attention (C, C) blocks,
 * the L MLP matrices — go through mu_orth_batch together, every product of the iteration once
 * for up to `batch` of them, in chunks that also fit the scratch the optimizer granted. Small
 * matrices are bound by per-product overhead; larger batches trade it for cache (8 was the
 * best of 4 / 8 / all on the bench models' shapes: BENCHMARKS.md). Results equal the one-by-
 * one path up to the summation order of batched products. batch = 0 or 1: one by one.
 */
#include <stdio.h>

#include "base/util.h"
#include "muon/orth.h"
#include "optim/probe.h"
#include "optim/transform.h"

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

/* Record an orth failure with the matrix it happened on. */
static int orth_error(int rc, const mu_orth_config_t *oc, const mu_param_t *p, int64_t v, int64_t r, int64_t c) {
    char why[256];
    snprintf(why, sizeof why, "%s", mu_last_error());  // copy: set_error rewrites the message
    return mu_set_error(rc, "optim orth(%s) on '%s' view %lld (%lld x %lld): %s", kind_names[oc->kind], p->name,
                        (long long)v, (long long)r, (long long)c, why);
}

static int orth_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *state, mu_param_t *p) {
    (void)state;
    int64_t r, c;
    const int64_t nv = mu_param_views(p, (int32_t)s->hp[K_SPLIT], MU_VIEW_ORTH, &r, &c);
    mu_orth_config_t oc = orth_config(s);
    for (int64_t v = 0; v < nv; v++) {
        float *X = U + v * r * c;
        int rc = mu_orth(ctx->gemm, &oc, X, r, c, X, ctx->scratch);
        if (rc < 0) return orth_error(rc, &oc, p, v, r, c);
        if (ctx->probe) MU_TRY(mu_probe_orth(ctx->probe, ctx->gemm, p, v * r, X, r, c));  // diag steps only
    }
    return MU_OK;
}

/* A batch of k same-shape views, in place; then the diagnostics probe of each (diag steps). */
#define MU_ORTH_CHUNK 64
typedef struct {
    const float *in[MU_ORTH_CHUNK];
    float *out[MU_ORTH_CHUNK];
    mu_param_t *p[MU_ORTH_CHUNK];
    int64_t view[MU_ORTH_CHUNK];
    int64_t k;
} orth_chunk_t;

static int orth_flush(const mu_tctx_t *ctx, const mu_orth_config_t *oc, orth_chunk_t *b, int64_t r, int64_t c) {
    if (b->k == 0) return MU_OK;
    int rc = mu_orth_batch(ctx->gemm, oc, b->k, b->in, r, c, b->out, ctx->scratch);
    if (rc < 0) return orth_error(rc, oc, b->p[0], b->view[0], r, c);
    for (int64_t i = 0; ctx->probe && i < b->k; i++)
        MU_TRY(mu_probe_orth(ctx->probe, ctx->gemm, b->p[i], b->view[i] * r, b->out[i], r, c));
    b->k = 0;
    return MU_OK;
}

/* The views of members [j0, n) of shape (r, c), in member and view order, as batches of at
 * most cap items. */
static int orth_shape_class(const mu_tstep_t *s, const mu_tctx_t *ctx, float *const *U, mu_param_t *const *ps,
                            int32_t j0, int32_t n, int64_t r, int64_t c, int64_t cap) {
    const int32_t split = (int32_t)s->hp[K_SPLIT];
    const mu_orth_config_t oc = orth_config(s);
    orth_chunk_t b;
    b.k = 0;
    for (int32_t j = j0; j < n; j++) {
        int64_t rj, cj;
        const int64_t nv = mu_param_views(ps[j], split, MU_VIEW_ORTH, &rj, &cj);
        if (rj != r || cj != c) continue;
        for (int64_t v = 0; v < nv; v++) {
            b.in[b.k] = b.out[b.k] = U[j] + v * r * c;
            b.p[b.k] = ps[j], b.view[b.k] = v;
            if (++b.k == cap) MU_TRY(orth_flush(ctx, &oc, &b, r, c));
        }
    }
    return orth_flush(ctx, &oc, &b, r, c);
}

/* Whether an earlier member of [0, j) has member j's view shape (its class is done). */
static int shape_seen(const mu_tstep_t *s, mu_param_t *const *ps, int32_t j) {
    const int32_t split = (int32_t)s->hp[K_SPLIT];
    int64_t r, c, ri, ci;
    mu_param_views(ps[j], split, MU_VIEW_ORTH, &r, &c);
    for (int32_t i = 0; i < j; i++) {
        mu_param_views(ps[i], split, MU_VIEW_ORTH, &ri, &ci);
        if (ri == r && ci == c) return 1;
    }
    return 0;
}

static int orth_update_batch(const mu_tstep_t *s, const mu_tctx_t *ctx, float *const *U, mu_param_t *const *ps,
                             int32_t n) {
    mu_orth_config_t oc = orth_config(s);
    for (int32_t j = 0; j < n; j++) {
        int64_t r, c;
        mu_param_views(ps[j], (int32_t)s->hp[K_SPLIT], MU_VIEW_ORTH, &r, &c);
        /* items per batch: as many as the granted scratch holds (a batch of k needs at most
         * k times one item's workspace) */
        const size_t one = mu_orth_workspace_floats(r, c, &oc);
        int64_t cap = (int64_t)(ctx->scratch_floats / (one ? one : 1));
        if (cap > (int64_t)s->hp[K_BATCH]) cap = (int64_t)s->hp[K_BATCH];
        if (cap < 2 || oc.kind == MU_ORTH_EXACT) {
            MU_TRY(orth_update(s, ctx, U[j], NULL, ps[j]));
            continue;
        }
        if (!shape_seen(s, ps, j)) MU_TRY(orth_shape_class(s, ctx, U, ps, j, n, r, c, cap));
    }
    return MU_OK;
}

/* Scratch for every member's views at once: the largest shape class's batch workspace. */
static size_t orth_batch_scratch(const mu_tstep_t *s, const mu_param_t *const *ps, int32_t n) {
    const int32_t split = (int32_t)s->hp[K_SPLIT];
    mu_orth_config_t oc = orth_config(s);
    size_t most = 0;
    for (int32_t j = 0; j < n; j++) {
        if (ps[j]->ndim != 2) continue;
        int64_t r, c, ri, ci, items = 0;
        mu_param_views(ps[j], split, MU_VIEW_ORTH, &r, &c);
        for (int32_t i = 0; i < n; i++) {
            if (ps[i]->ndim != 2) continue;
            const int64_t nv = mu_param_views(ps[i], split, MU_VIEW_ORTH, &ri, &ci);
            if (ri == r && ci == c) items += nv;
        }
        if (items > (int64_t)s->hp[K_BATCH]) items = (int64_t)s->hp[K_BATCH];
        if (items < 1) items = 1;
        size_t w = mu_orth_batch_workspace_floats(items, r, c, &oc);
        if (w > most) most = w;
    }
    return most;
}

const mu_transform_t mu_tr_orth = {
    .name = "orth", .keys = keys, .n_keys = 5, .scratch_size = orth_scratch, .update = orth_update,
    .check = orth_check, .update_batch = orth_update_batch, .batch_scratch_size = orth_batch_scratch,
};

/* orth_views.c — polar factors of members' matrix views, same-shape views batched (orth_views.h). */
#include <stdio.h>

#include "base/util.h"
#include "optim/orth_views.h"
#include "optim/probe.h"

#define CHUNK_MAX 64 /* the largest batch a link may ask for (orth's key `batch` <= 64) */

/* Record a failure with the matrix it happened on. */
static int view_error(const mu_orth_views_t *ov, int rc, const mu_param_t *p, int64_t v, int64_t r, int64_t c) {
    char why[256];
    snprintf(why, sizeof why, "%s", mu_last_error());  // copy: set_error rewrites the message
    return mu_set_error(rc, "optim %s on '%s' view %lld (%lld x %lld): %s", ov->who, p->name, (long long)v,
                        (long long)r, (long long)c, why);
}

/* Every view of one member, one at a time (mu_orth writes into the view directly). */
static int one_by_one(const mu_orth_views_t *ov, const mu_tctx_t *ctx, float *U, mu_param_t *p, float *ws) {
    int64_t r, c;
    const int64_t nv = mu_param_views(p, ov->split, MU_VIEW_ORTH, &r, &c);
    for (int64_t v = 0; v < nv; v++) {
        float *X = U + v * r * c;
        const int rc = mu_orth(ctx->gemm, &ov->oc, X, r, c, X, ws);
        if (rc < 0) return view_error(ov, rc, p, v, r, c);
        if (ctx->probe) MU_TRY(mu_probe_orth(ctx->probe, ctx->gemm, p, v * r, X, r, c));  // diag steps only
    }
    return MU_OK;
}

/* A chunk of k same-shape views, orthogonalized in place by one mu_orth_batch call. */
typedef struct {
    const float *in[CHUNK_MAX];
    float *out[CHUNK_MAX];
    mu_param_t *p[CHUNK_MAX];
    int64_t view[CHUNK_MAX];
    int64_t k;
} chunk_t;

static int flush(const mu_orth_views_t *ov, const mu_tctx_t *ctx, chunk_t *b, int64_t r, int64_t c, float *ws) {
    if (b->k == 0) return MU_OK;
    const int rc = mu_orth_batch(ctx->gemm, &ov->oc, b->k, b->in, r, c, b->out, ws);
    if (rc < 0) return view_error(ov, rc, b->p[0], b->view[0], r, c);
    for (int64_t i = 0; ctx->probe && i < b->k; i++)
        MU_TRY(mu_probe_orth(ctx->probe, ctx->gemm, b->p[i], b->view[i] * r, b->out[i], r, c));
    b->k = 0;
    return MU_OK;
}

/* The views of shape (r, c) of members [j0, n), in member and view order, in chunks of cap. */
static int shape_class(const mu_orth_views_t *ov, const mu_tctx_t *ctx, float *const *U, mu_param_t *const *ps,
                       int32_t j0, int32_t n, int64_t r, int64_t c, int64_t cap, float *ws) {
    chunk_t b;
    b.k = 0;
    for (int32_t j = j0; j < n; j++) {
        int64_t rj, cj;
        const int64_t nv = mu_param_views(ps[j], ov->split, MU_VIEW_ORTH, &rj, &cj);
        if (rj != r || cj != c) continue;
        for (int64_t v = 0; v < nv; v++) {
            b.in[b.k] = b.out[b.k] = U[j] + v * r * c;
            b.p[b.k] = ps[j], b.view[b.k] = v;
            if (++b.k == cap) MU_TRY(flush(ov, ctx, &b, r, c, ws));
        }
    }
    return flush(ov, ctx, &b, r, c, ws);
}

/* Whether a member of [0, j) has member j's view shape (that class is done). O(n²) in the
 * members of a window: dozens, against O(r·c·min(r, c)) products per view. */
static int shape_seen(const mu_orth_views_t *ov, mu_param_t *const *ps, int32_t j) {
    int64_t r, c, ri, ci;
    mu_param_views(ps[j], ov->split, MU_VIEW_ORTH, &r, &c);
    for (int32_t i = 0; i < j; i++) {
        mu_param_views(ps[i], ov->split, MU_VIEW_ORTH, &ri, &ci);
        if (ri == r && ci == c) return 1;
    }
    return 0;
}

int mu_orth_views(const mu_orth_views_t *ov, const mu_tctx_t *ctx, float *const *U, mu_param_t *const *ps, int32_t n,
                  float *ws, size_t ws_floats) {
    for (int32_t j = 0; j < n; j++) {
        int64_t r, c;
        mu_param_views(ps[j], ov->split, MU_VIEW_ORTH, &r, &c);
        // items per chunk: as many as the workspace holds (k items need at most k times one's)
        const size_t one = mu_orth_workspace_floats(r, c, &ov->oc);
        int64_t cap = (int64_t)(ws_floats / (one ? one : 1));
        if (cap > ov->batch) cap = ov->batch;
        if (cap > CHUNK_MAX) cap = CHUNK_MAX;
        if (cap < 2 || ov->oc.kind == MU_ORTH_EXACT) MU_TRY(one_by_one(ov, ctx, U[j], ps[j], ws));
        else if (!shape_seen(ov, ps, j)) MU_TRY(shape_class(ov, ctx, U, ps, j, n, r, c, cap, ws));
    }
    return MU_OK;
}

size_t mu_orth_views_scratch(const mu_orth_views_t *ov, const mu_param_t *const *ps, int32_t n) {
    size_t most = 0;
    for (int32_t j = 0; j < n; j++) {
        if (ps[j]->ndim != 2) continue;
        int64_t r, c, ri, ci, items = 0;
        mu_param_views(ps[j], ov->split, MU_VIEW_ORTH, &r, &c);
        for (int32_t i = 0; i < n; i++) {
            if (ps[i]->ndim != 2) continue;
            const int64_t nv = mu_param_views(ps[i], ov->split, MU_VIEW_ORTH, &ri, &ci);
            if (ri == r && ci == c) items += nv;
        }
        if (items > ov->batch) items = ov->batch;
        if (items < 1) items = 1;
        const size_t w = mu_orth_batch_workspace_floats(items, r, c, &ov->oc);
        const size_t one = mu_orth_workspace_floats(r, c, &ov->oc);
        if (w > most) most = w;
        if (one > most) most = one;
    }
    return most;
}

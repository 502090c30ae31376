/* views.c — matrix views of a parameter for matrix transforms (orth, shape_scale,
 * spectral_renorm, rms_match, adaptive, ...) and the shared init-time view check.
 *
 * A fused qkv weight (3C, C) with n_split = 3 is, under split = qkv, three (C, C)
 * matrices; under split = head each of them is further cut into n_head blocks of
 * (C/n_head, C) rows for orth. All views are contiguous row blocks of the
 * row-major tensor, so view i of shape (r, c) starts at element i*r*c.
 */
#include "base/util.h"
#include "optim/transform.h"

const char *const mu_split_names[] = {"fused", "qkv", "head", NULL};

int mu_views_check(const mu_param_t *p, int32_t split, const char *who) {
    if (p->ndim != 2 || p->shape[0] < 1 || p->shape[1] < 1)
        return mu_set_error(MU_EINVAL,
                            "%s: parameter '%s' is %d-D (role %d): only 2-D matrices can go through a "
                            "matrix transform; route it to an AdamW group",
                            who, p->name, (int)p->ndim, (int)p->role);
    const int64_t ns = p->n_split > 1 ? p->n_split : 1;
    if (split != MU_SPLIT_FUSED && p->shape[0] % ns != 0)
        return mu_set_error(MU_EINVAL, "%s: parameter '%s': %lld rows do not split into n_split = %lld matrices",
                            who, p->name, (long long)p->shape[0], (long long)ns);
    if (split == MU_SPLIT_HEAD && p->n_head > 0 && (p->shape[0] / ns) % p->n_head != 0)
        return mu_set_error(MU_EINVAL, "%s: parameter '%s': %lld rows per matrix do not split into %d heads "
                            "(qkv_split = head)", who, p->name, (long long)(p->shape[0] / ns), (int)p->n_head);
    return MU_OK;
}

int64_t mu_param_views(const mu_param_t *p, int32_t split, int32_t level, int64_t *rows, int64_t *cols) {
    int64_t nv = 1;
    if (split != MU_SPLIT_FUSED && p->n_split > 1) nv = p->n_split;
    if (split == MU_SPLIT_HEAD && level == MU_VIEW_ORTH && p->n_head > 1) nv *= p->n_head;
    *rows = p->shape[0] / nv;
    *cols = p->shape[1];
    return nv;
}

int mu_views_check_link(const mu_tstep_t *s, const mu_param_t *p, const mu_gemm_ctx_t *gemm, const char *who) {
    (void)gemm;
    const int k = mu_tstep_key(s, "split");
    return mu_views_check(p, k >= 0 ? (int32_t)s->hp[k] : MU_SPLIT_FUSED, who);
}

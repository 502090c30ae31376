/* lmo_oracle.c — the unit-radius LMOs of lmo.h and their dual norms (Scion, arXiv 2502.07529,
 * LIONS-EPFL/scion; optimizers-lmo.md §4). On the Linear view (m, n) = (d_out, d_in):
 *
 *   spectral      sqrt(m/n) · orth(X)          per logical matrix of views.c (qkv = 3 matrices)
 *   spectral_max  sqrt(max(1, m/n)) · orth(X)
 *   colnorm       column j -> sqrt(m) · X_:j / (‖X_:j‖ + eps)
 *   rownorm       row i -> X_i: / ((‖X_i:‖ + eps) · sqrt(n))
 *   sign          sign(X) / n
 *   bias_rms      X / (RMS(X) + eps)            eps = 1e-8
 *   dual norm     ⟨X, lmo(X)⟩                   (double, fixed order: mu_dot_f64)
 *
 * Axis: layout `table` = an embedding stored (V, d), the transpose of its Linear view (d, V):
 * colnorm then normalizes each stored (token) row to sqrt(d), sign divides by V. A tied table
 * (p->tied) takes the head rule when the norm says so (tied_head): sign / d on the linear view.
 */
#include <math.h>

#include "base/util.h"
#include "muon/orth.h"
#include "optim/lmo.h"

#define LMO_EPS 1e-8

const char *const mu_lmo_kind_names[] = {"spectral", "spectral_max", "colnorm", "rownorm", "sign", "bias_rms", NULL};
const char *const mu_lmo_layout_names[] = {"linear", "table", NULL};
const char *const mu_lmo_orth_names[] = {"ns5", "pe", "cubic", "quintic", "exact", NULL};

static int32_t key_or(const mu_tstep_t *s, const char *key, int32_t def) {
    const int k = mu_tstep_key(s, key);
    return k >= 0 ? (int32_t)s->hp[k] : def;
}

mu_lmo_norm_t mu_lmo_norm_of(const mu_tstep_t *s) {
    const int kt = mu_tstep_key(s, "tied_rho");
    mu_lmo_norm_t nm = {.kind = key_or(s, "kind", MU_LMO_SPECTRAL),
                        .layout = key_or(s, "layout", MU_LMO_LINEAR),
                        .tied_head = kt >= 0 && s->hp[kt] > 0,
                        .split = key_or(s, "split", MU_SPLIT_QKV),
                        .orth = key_or(s, "orth", MU_ORTH_NS5)};
    return nm;
}

int mu_lmo_norm_equal(const mu_lmo_norm_t *a, const mu_lmo_norm_t *b) {
    return a->kind == b->kind && a->layout == b->layout && a->tied_head == b->tied_head && a->split == b->split &&
           a->orth == b->orth;
}

int mu_lmo_kind_for(const mu_lmo_norm_t *nm, const mu_param_t *p) {
    return p->tied && nm->tied_head ? MU_LMO_SIGN : nm->kind;
}

int mu_lmo_layout_for(const mu_lmo_norm_t *nm, const mu_param_t *p) {
    return p->tied && nm->tied_head ? MU_LMO_LINEAR : nm->layout;
}

int mu_lmo_is_spectral(int kind) { return kind == MU_LMO_SPECTRAL || kind == MU_LMO_SPECTRAL_MAX; }

static mu_orth_config_t orth_config(const mu_lmo_norm_t *nm) {
    mu_orth_config_t oc = mu_orth_config_default();
    oc.kind = (mu_orth_kind_t)nm->orth;
    return oc;
}

mu_orth_views_t mu_lmo_views(const mu_lmo_norm_t *nm, const mu_param_t *p, int64_t batch) {
    mu_orth_views_t ov = {.oc = orth_config(nm), .split = nm->split, .batch = batch};
    ov.who = mu_lmo_kind_for(nm, p) == MU_LMO_SPECTRAL_MAX ? "lmo(spectral_max)" : "lmo(spectral)";
    return ov;
}

/* sqrt(m/n) (spectral) or sqrt(max(1, m/n)) (spectral_max) of the logical matrix in its Linear
 * view (a table is stored transposed) */
double mu_lmo_spectral_factor(const mu_lmo_norm_t *nm, const mu_param_t *p) {
    int64_t lm, ln;
    mu_param_views(p, nm->split, MU_VIEW_LOGICAL, &lm, &ln);
    const int table = mu_lmo_layout_for(nm, p) == MU_LMO_TABLE;
    const double m = (double)(table ? ln : lm), n = (double)(table ? lm : ln);
    return mu_lmo_kind_for(nm, p) == MU_LMO_SPECTRAL ? sqrt(m / n) : sqrt(m / n > 1.0 ? m / n : 1.0);
}

size_t mu_lmo_ws_floats(const mu_lmo_norm_t *nm, const mu_param_t *p) {
    if (!mu_lmo_is_spectral(mu_lmo_kind_for(nm, p)) || p->ndim != 2) return 0;
    int64_t r, c;
    mu_param_views(p, nm->split, MU_VIEW_ORTH, &r, &c);
    mu_orth_config_t oc = orth_config(nm);
    return mu_orth_workspace_floats(r, c, &oc);
}

int mu_lmo_check(const mu_lmo_norm_t *nm, const mu_param_t *p, const mu_gemm_ctx_t *gemm, const char *who) {
    if (!mu_lmo_is_spectral(mu_lmo_kind_for(nm, p))) return MU_OK;  // the vector oracles take any shape
    MU_TRY(mu_views_check(p, nm->split, who));
    if (!gemm)
        return mu_set_error(MU_EINVAL, "%s: the spectral LMO needs a compute context (mu_optim_init got gemm = NULL)",
                            who);
    return MU_OK;
}

/* Normalize each of `count` vectors of `len` floats (element k of vector v at
 * U[v*vs + k*ks]) to Euclidean norm `target`: x <- target·x/(‖x‖ + eps). */
static void normalize_vectors(float *U, int64_t count, int64_t len, int64_t vs, int64_t ks, double target) {
#pragma omp parallel for schedule(static) if (count * len >= MU_OPTIM_PAR_MIN)
    for (int64_t v = 0; v < count; v++) {
        float *x = U + v * vs;
        double ss = 0.0;
        for (int64_t k = 0; k < len; k++) ss += (double)x[k * ks] * (double)x[k * ks];
        const float f = (float)(target / (sqrt(ss) + LMO_EPS));
        for (int64_t k = 0; k < len; k++) x[k * ks] *= f;
    }
}

/* X <- lmo(X) at unit radius. (R, C) = stored shape (C = 1 for 1-D tensors). */
int mu_lmo_unit(const mu_lmo_norm_t *nm, const mu_tctx_t *ctx, float *U, mu_param_t *p, float *ws) {
    const int kind = mu_lmo_kind_for(nm, p), table = mu_lmo_layout_for(nm, p) == MU_LMO_TABLE;
    const int64_t R = p->shape[0], C = p->ndim == 2 ? p->shape[1] : 1, N = p->numel;
    switch (kind) {
    case MU_LMO_SPECTRAL:
    case MU_LMO_SPECTRAL_MAX: {
        const mu_orth_views_t ov = mu_lmo_views(nm, p, 1);  // one member: its views one by one
        MU_TRY(mu_orth_views(&ov, ctx, &U, &p, 1, ws, mu_lmo_ws_floats(nm, p)));
        const double a = mu_lmo_spectral_factor(nm, p);
        if (a != 1.0) mu_vec_scale(U, N, (float)a);
        return MU_OK;
    }
    case MU_LMO_COLNORM:
    case MU_LMO_ROWNORM: {
        // Linear columns are stored columns (linear) or stored rows (table); rows the reverse
        const int per_stored_row = (kind == MU_LMO_COLNORM) == table;
        const int64_t len = per_stored_row ? C : R;
        const double target = kind == MU_LMO_COLNORM ? sqrt((double)len) : 1.0 / sqrt((double)len);
        if (per_stored_row) normalize_vectors(U, R, C, C, 1, target);
        else normalize_vectors(U, C, R, 1, C, target);
        return MU_OK;
    }
    case MU_LMO_SIGN: {
        mu_vec_sign(U, N, (float)(1.0 / (double)(table ? R : C)));  // sign / d_in of the Linear view
        return MU_OK;
    }
    default: {  // bias_rms
        const double rms = sqrt(mu_dot_f64(U, U, N) / (double)N);
        mu_vec_scale(U, N, (float)(1.0 / (rms + LMO_EPS)));
        return MU_OK;
    }
    }
}

int mu_lmo_dual(const mu_lmo_norm_t *nm, const mu_tctx_t *ctx, const float *X, mu_param_t *p, float *tmp, float *ws,
                double *out) {
    mu_tctx_t quiet = *ctx;
    quiet.probe = NULL;  // a measurement, not the step's update
    memcpy(tmp, X, sizeof(float) * (size_t)p->numel);
    MU_TRY(mu_lmo_unit(nm, &quiet, tmp, p, ws));
    *out = mu_dot_f64(X, tmp, p->numel);  // ⟨X, lmo(X)⟩
    return MU_OK;
}

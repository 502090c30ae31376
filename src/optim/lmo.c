/* lmo.c — `lmo(kind, rho)`: Scion's per-group linear minimization oracle, with Gluon's
 * per-layer step rule (arXiv 2502.07529, LIONS-EPFL/scion; arXiv 2505.13416;
 * optimizers-lmo.md §4, §5). On the input D (the momentum), with the Linear view
 * (m, n) = (d_out, d_in) and eps = 1e-8:
 *
 *   spectral      sqrt(m/n) · orth(D)                 RMS -> RMS  (hidden)
 *   spectral_max  sqrt(max(1, m/n)) · orth(D)
 *   colnorm       column j: sqrt(m) · D_:j / (‖D_:j‖ + eps)     1 -> RMS  (untied embedding)
 *   rownorm       row i: D_i: / ((‖D_i:‖ + eps) · sqrt(n))      RMS -> ∞
 *   sign          sign(D) / n                         1 -> ∞  (head, tied embedding)
 *   bias_rms      D / (RMS(D) + eps)                  RMS  (gains, biases; any shape)
 *
 *   U' = rho · t · lmo(D)      t = 1, or with the Gluon rule (l0 + l1 > 0):
 *        t = Dn / (l0 + l1·Dn),   Dn = ⟨D, lmo(D)⟩ = dual norm of D  (t = 1/l1 when l0 = 0)
 *
 * The dual norm is the LMO's own by-product (⟨D, sqrt(m/n)·orth(D)⟩ = sqrt(m/n)‖D‖_* for
 * an exact polar factor; Σ|D|/n for sign), so Gluon's layer_lr costs O(mn), no extra orth.
 *
 * Axis: `layout` says how the tensor is stored. linear: (d_out, d_in) rows = output
 * neurons (Linear, head). table: an embedding stored (V, d), the transpose of its Linear
 * view (d, V) — colnorm then normalizes each token row to sqrt(d), sign divides by V.
 * A tied table (p->tied: the head reads it) takes the head rule when tied_rho > 0:
 * sign/d with radius tied_rho (§0: "the method's head rule wins").
 * Matrix kinds walk the views of views.c (fused qkv = three matrices under split = qkv).
 * U (numel); scratch: orth workspace (+ numel floats for the copy of D under the rule).
 */
#include <math.h>
#include <stdio.h>

#include "base/util.h"
#include "muon/orth.h"
#include "optim/probe.h"
#include "optim/transform.h"

enum { K_KIND = 0, K_RHO, K_LAYOUT, K_TIED_RHO, K_SPLIT, K_ORTH, K_L0, K_L1 };
enum { L_SPECTRAL = 0, L_SPECTRAL_MAX, L_COLNORM, L_ROWNORM, L_SIGN, L_BIAS_RMS };
enum { LAYOUT_LINEAR = 0, LAYOUT_TABLE = 1 };

#define LMO_EPS 1e-8

static const char *const kind_names[] = {"spectral", "spectral_max", "colnorm", "rownorm", "sign", "bias_rms", NULL};
static const char *const layout_names[] = {"linear", "table", NULL};
static const char *const orth_names[] = {"ns5", "pe", "cubic", "quintic", "exact", NULL};

static const mu_hp_desc_t keys[] = {
    {.key = "kind", .type = MU_HP_ENUM, .def = 0.0f, .lo = 0.0f, .hi = 5.0f, .structural = 1, .names = kind_names},
    {.key = "rho", .type = MU_HP_FLOAT, .def = 1.0f, .lo = 0.0f, .hi = 1e9f},
    {.key = "layout", .type = MU_HP_ENUM, .def = 0.0f, .lo = 0.0f, .hi = 1.0f, .structural = 1, .names = layout_names},
    {.key = "tied_rho", .type = MU_HP_FLOAT, .def = 0.0f, .lo = 0.0f, .hi = 1e9f},
    MU_HP_SPLIT_KEY,
    {.key = "orth", .type = MU_HP_ENUM, .def = 0.0f, .lo = 0.0f, .hi = 4.0f, .structural = 1, .names = orth_names},
    {.key = "l0", .type = MU_HP_FLOAT, .def = 0.0f, .lo = 0.0f, .hi = 1e9f},
    {.key = "l1", .type = MU_HP_FLOAT, .def = 0.0f, .lo = 0.0f, .hi = 1e9f},
};

/* The oracle this parameter gets: a tied table takes the head rule (sign, linear view). */
static int eff_kind(const mu_tstep_t *s, const mu_param_t *p) {
    return p->tied && s->hp[K_TIED_RHO] > 0 ? L_SIGN : (int)s->hp[K_KIND];
}
static int eff_layout(const mu_tstep_t *s, const mu_param_t *p) {
    return p->tied && s->hp[K_TIED_RHO] > 0 ? LAYOUT_LINEAR : (int)s->hp[K_LAYOUT];
}
static int is_spectral(int kind) { return kind == L_SPECTRAL || kind == L_SPECTRAL_MAX; }
static int has_rule(const mu_tstep_t *s) { return s->hp[K_L0] + s->hp[K_L1] > 0; }

static mu_orth_config_t orth_config(const mu_tstep_t *s) {
    mu_orth_config_t oc = mu_orth_config_default();
    oc.kind = (mu_orth_kind_t)(int)s->hp[K_ORTH];
    return oc;
}

static size_t lmo_scratch(const mu_tstep_t *s, const mu_param_t *p) {
    size_t ws = 0;
    if (is_spectral(eff_kind(s, p)) && p->ndim == 2) {
        int64_t r, c;
        mu_param_views(p, (int32_t)s->hp[K_SPLIT], MU_VIEW_ORTH, &r, &c);
        mu_orth_config_t oc = orth_config(s);
        ws = mu_orth_workspace_floats(r, c, &oc);
    }
    return ws + (has_rule(s) ? (size_t)p->numel : 0);
}

static int lmo_check(const mu_tstep_t *s, const mu_param_t *p, const mu_gemm_ctx_t *gemm, const char *who) {
    if (!is_spectral(eff_kind(s, p))) return MU_OK;  // the vector oracles take any shape
    MU_TRY(mu_views_check(p, (int32_t)s->hp[K_SPLIT], who));
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

/* U <- lmo(U) at unit radius. (R, C) = stored shape (C = 1 for 1-D tensors). */
static int lmo_unit(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, mu_param_t *p, float *ws) {
    const int kind = eff_kind(s, p), table = eff_layout(s, p) == LAYOUT_TABLE;
    const int64_t R = p->shape[0], C = p->ndim == 2 ? p->shape[1] : 1, N = p->numel;
    switch (kind) {
    case L_SPECTRAL:
    case L_SPECTRAL_MAX: {
        int64_t r, c, lm, ln;
        const int32_t split = (int32_t)s->hp[K_SPLIT];
        const int64_t nv = mu_param_views(p, split, MU_VIEW_ORTH, &r, &c);
        mu_orth_config_t oc = orth_config(s);
        for (int64_t v = 0; v < nv; v++) {
            float *X = U + v * r * c;
            int rc = mu_orth(ctx->gemm, &oc, X, r, c, X, ws);
            if (rc < 0) {
                char why[256];
                snprintf(why, sizeof why, "%s", mu_last_error());
                return mu_set_error(rc, "optim lmo(%s) on '%s' view %lld: %s", kind_names[kind], p->name,
                                    (long long)v, why);
            }
            if (ctx->probe) MU_TRY(mu_probe_orth(ctx->probe, ctx->gemm, p, v * r, X, r, c));  // diag steps only
        }
        // shape factor from the logical matrix in its Linear view (a table is transposed)
        mu_param_views(p, split, MU_VIEW_LOGICAL, &lm, &ln);
        double m = (double)(table ? ln : lm), n = (double)(table ? lm : ln);
        double a = kind == L_SPECTRAL ? sqrt(m / n) : sqrt(m / n > 1.0 ? m / n : 1.0);
        if (a != 1.0) mu_vec_scale(U, N, (float)a);
        return MU_OK;
    }
    case L_COLNORM:
    case L_ROWNORM: {
        // Linear columns are stored columns (linear) or stored rows (table); rows the reverse
        const int per_stored_row = (kind == L_COLNORM) == table;
        const int64_t len = per_stored_row ? C : R;
        const double target = kind == L_COLNORM ? sqrt((double)len) : 1.0 / sqrt((double)len);
        if (per_stored_row) normalize_vectors(U, R, C, C, 1, target);
        else normalize_vectors(U, C, R, 1, C, target);
        return MU_OK;
    }
    case L_SIGN: {
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

static int lmo_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *state, mu_param_t *p) {
    (void)state;
    const int64_t N = p->numel;
    const int rule = has_rule(s);
    float *copy = rule ? ctx->scratch : NULL, *ws = rule ? ctx->scratch + N : ctx->scratch;
    if (rule) memcpy(copy, U, sizeof(float) * (size_t)N);
    MU_TRY(lmo_unit(s, ctx, U, p, ws));
    double t = 1.0;
    if (rule) {
        const double l0 = s->hp[K_L0], l1 = s->hp[K_L1];
        const double dual = mu_dot_f64(copy, U, N);  // ⟨D, lmo(D)⟩
        t = l0 == 0.0 ? 1.0 / l1 : dual / (l0 + l1 * dual);
    }
    const double rho = p->tied && s->hp[K_TIED_RHO] > 0 ? s->hp[K_TIED_RHO] : s->hp[K_RHO];
    const float a = (float)(rho * t);
    if (a != 1.0f) mu_vec_scale(U, N, a);
    return MU_OK;
}

const mu_transform_t mu_tr_lmo = {
    .name = "lmo", .keys = keys, .n_keys = 8, .scratch_size = lmo_scratch, .update = lmo_update,
    .check = lmo_check,
};

/* lmo.c — `lmo(kind, rho)`: Scion's per-group linear minimization oracle, with Gluon's per-layer
 * step rule, Gluon's online (L0, L1) estimation and Scion's boundary initialization
 * (arXiv 2502.07529, LIONS-EPFL/scion; arXiv 2505.13416; optimizers-lmo.md §4, §5). The
 * oracles themselves (kinds, axes, dual norms) are in lmo_oracle.c (lmo.h).
 *
 *   U' = rho · t · lmo(D)      D = the input (the momentum), rho = radius (tied_rho for a tied table)
 *   t = 1, or with the Gluon rule (l0 + l1 > 0):
 *        t = Dn / (l0 + l1·Dn),   Dn = ⟨D, lmo(D)⟩ = dual norm of D  (t = 1/l1 when l0 = 0)
 *   The dual norm is the LMO's own by-product (⟨D, sqrt(m/n)·orth(D)⟩ = sqrt(m/n)‖D‖_* for an
 *   exact polar factor; Σ|D|/n for sign), so the rule costs O(mn), no extra orth.
 *
 * est (Gluon's estimation, our reconstruction of its unspecified fit): per member and step k+1,
 *   x = ‖G_{k+1}‖_*,  y = ‖G_{k+1} − G_k‖_* / ‖W_{k+1} − W_k‖     (dual norms in this link's norm)
 *   with ‖W_{k+1} − W_k‖ = the previous step's length s_k = lr_k·rho·t_k (the primal norm of
 *   rho·t·lmo(D) is rho·t for an exact oracle: no W_prev buffer), then (L0, L1) = mu_hinge_fit over
 *   the last `window` pairs at quantile q. est = log keeps them in the state only; est = use steps
 *   with them (t above) once 2 pairs exist (before: l0, l1). Costs two more oracle calls per step.
 *   State (est != off): [G_prev (numel) | s_prev, pairs, next, L0, L1 | x (window) | y (window)].
 *
 * init (Scion boundary init, `Scion.init()` of scion.py): at mu_optim_init, W <- rho · lmo(W) with
 * the exact polar factor: W0 random (the model's init) gives a random semi-orthogonal matrix
 * x rho·sqrt(m/n) (spectral), column-normalized Gaussian x rho (colnorm), random signs x rho/n
 * (sign) — each on its ball's boundary. bias_rms keeps the model's init (the reference zeroes it).
 *
 * U (numel); scratch: oracle workspace (the exact one under init) + numel for the copy of D under
 * a rule (2·numel with est).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "base/util.h"
#include "muon/orth.h"
#include "optim/lmo.h"

enum { K_KIND = 0, K_RHO, K_LAYOUT, K_TIED_RHO, K_SPLIT, K_ORTH, K_L0, K_L1, K_INIT, K_EST, K_Q, K_WINDOW, K_BATCH };
enum { EST_OFF = 0, EST_LOG = 1, EST_USE = 2 };
enum { E_SPREV = 0, E_PAIRS, E_NEXT, E_L0, E_L1, E_HEAD };  // estimator scalars after G_prev

static const char *const est_names[] = {"off", "log", "use", NULL};

/* keys added after checkpoints existed are quiet: old signatures and describe lines are unchanged */
static const mu_hp_desc_t keys[] = {
    MU_LMO_KIND_KEY,
    {.key = "rho", .type = MU_HP_FLOAT, .def = 1.0f, .lo = 0.0f, .hi = 1e9f},
    MU_LMO_LAYOUT_KEY,
    MU_LMO_TIED_RHO_KEY,
    MU_HP_SPLIT_KEY,
    MU_LMO_ORTH_KEY,
    {.key = "l0", .type = MU_HP_FLOAT, .def = 0.0f, .lo = 0.0f, .hi = 1e9f},
    {.key = "l1", .type = MU_HP_FLOAT, .def = 0.0f, .lo = 0.0f, .hi = 1e9f},
    {.key = "init", .type = MU_HP_INT, .def = 0.0f, .lo = 0.0f, .hi = 1.0f, .quiet_default = 1},
    {.key = "est", .type = MU_HP_ENUM, .def = 0.0f, .lo = 0.0f, .hi = 2.0f, .structural = 1, .quiet_default = 1,
     .names = est_names},
    {.key = "q", .type = MU_HP_FLOAT, .def = 0.9f, .lo = 0.5f, .hi = 1.0f, .hi_open = 1, .quiet_default = 1},
    {.key = "window", .type = MU_HP_INT, .def = 32.0f, .lo = 2.0f, .hi = 256.0f, .structural = 1, .quiet_default = 1},
    {.key = "batch", .type = MU_HP_INT, .def = 8.0f, .lo = 0.0f, .hi = 64.0f, .quiet_default = 1},
};

static int est_mode(const mu_tstep_t *s) { return (int)s->hp[K_EST]; }
static int32_t window(const mu_tstep_t *s) { return (int32_t)s->hp[K_WINDOW]; }
/* the input D must be kept for its dual norm */
static int keeps_copy(const mu_tstep_t *s) { return s->hp[K_L0] + s->hp[K_L1] > 0 || est_mode(s) == EST_USE; }
static double radius(const mu_tstep_t *s, const mu_param_t *p) {
    return p->tied && s->hp[K_TIED_RHO] > 0 ? s->hp[K_TIED_RHO] : s->hp[K_RHO];
}

static size_t lmo_state(const mu_tstep_t *s, const mu_param_t *p) {
    return est_mode(s) == EST_OFF ? 0 : (size_t)p->numel + E_HEAD + 2 * (size_t)window(s);
}

static size_t lmo_scratch(const mu_tstep_t *s, const mu_param_t *p) {
    const mu_lmo_norm_t nm = mu_lmo_norm_of(s);
    size_t ws = mu_lmo_ws_floats(&nm, p);
    if (s->hp[K_INIT] != 0) {  // the boundary init takes the exact polar factor
        mu_lmo_norm_t ex = nm;
        ex.orth = MU_ORTH_EXACT;
        const size_t we = mu_lmo_ws_floats(&ex, p);
        if (we > ws) ws = we;
    }
    const size_t copies = est_mode(s) != EST_OFF ? 2 : keeps_copy(s) ? 1 : 0;
    return ws + copies * (size_t)p->numel;
}

static int lmo_check(const mu_tstep_t *s, const mu_param_t *p, const mu_gemm_ctx_t *gemm, const char *who) {
    const mu_lmo_norm_t nm = mu_lmo_norm_of(s);
    return mu_lmo_check(&nm, p, gemm, who);
}

/* Gluon's pair of this step and the fit over the window; *l0, *l1 replaced under est = use.
 * A, B: numel floats each; ws: the oracle workspace. */
static int estimate(const mu_tstep_t *s, const mu_lmo_norm_t *nm, const mu_tctx_t *ctx, float *st, mu_param_t *p,
                    float *A, float *B, float *ws, double *l0, double *l1) {
    const int64_t N = p->numel;
    const int32_t K = window(s);
    float *Gp = st, *e = st + N, *xs = e + E_HEAD, *ys = xs + K;
    const float *G = p->grad;
    if (e[E_SPREV] > 0) {  // a previous step of known length: one pair
        double x, d;
        MU_TRY(mu_lmo_dual(nm, ctx, G, p, B, ws, &x));  // x = ‖G_{k+1}‖_*
#pragma omp parallel for schedule(static) if (N >= MU_OPTIM_PAR_MIN)
        for (int64_t i = 0; i < N; i++) A[i] = G[i] - Gp[i];
        MU_TRY(mu_lmo_dual(nm, ctx, A, p, B, ws, &d));  // ‖G_{k+1} − G_k‖_*
        const int32_t at = (int32_t)e[E_NEXT];
        xs[at] = (float)x;
        ys[at] = (float)(d / (double)e[E_SPREV]);  // L̂ = ‖ΔG‖_* / ‖ΔW‖
        e[E_NEXT] = (float)((at + 1) % K);
        if (e[E_PAIRS] < (float)K) e[E_PAIRS] += 1.0f;
        // the window oldest first (deterministic ties whatever the ring position)
        const int32_t np = (int32_t)e[E_PAIRS], first = (((int32_t)e[E_NEXT] - np) % K + K) % K;
        float wx[256], wy[256];
        for (int32_t k = 0; k < np; k++) wx[k] = xs[(first + k) % K], wy[k] = ys[(first + k) % K];
        double a, b;
        mu_hinge_fit(wx, wy, np, s->hp[K_Q], &a, &b);
        e[E_L0] = (float)a;
        e[E_L1] = (float)b;
    }
    memcpy(Gp, G, sizeof(float) * (size_t)N);  // G_k for the next step
    if (est_mode(s) == EST_USE && e[E_PAIRS] >= 2 && e[E_L0] + e[E_L1] > 0) *l0 = e[E_L0], *l1 = e[E_L1];
    return MU_OK;
}

/* U <- rho·t·U once U holds lmo(D) (A: the copy of D under a rule); est: the step length. */
static void lmo_finish(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, const float *A, float *state,
                       const mu_param_t *p, double l0, double l1) {
    const int64_t N = p->numel;
    double t = 1.0;
    if (l0 + l1 > 0) {
        const double dual = mu_dot_f64(A, U, N);  // ⟨D, lmo(D)⟩
        t = l0 == 0.0 ? 1.0 / l1 : dual / (l0 + l1 * dual);
    }
    const float a = (float)(radius(s, p) * t);
    if (a != 1.0f) mu_vec_scale(U, N, a);
    if (est_mode(s) != EST_OFF) state[N + E_SPREV] = ctx->lr * a;  // ‖W_{k+1} − W_k‖ in the norm: lr·rho·t
}

static int lmo_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *state, mu_param_t *p) {
    const mu_lmo_norm_t nm = mu_lmo_norm_of(s);
    const int64_t N = p->numel;
    const int est = est_mode(s) != EST_OFF, copy = keeps_copy(s);
    float *A = ctx->scratch, *ws = ctx->scratch + (est ? 2 * N : copy ? N : 0);
    double l0 = s->hp[K_L0], l1 = s->hp[K_L1];
    if (est) MU_TRY(estimate(s, &nm, ctx, state, p, A, A + N, ws, &l0, &l1));
    if (copy) memcpy(A, U, sizeof(float) * (size_t)N);
    MU_TRY(mu_lmo_unit(&nm, ctx, U, p, ws));
    lmo_finish(s, ctx, U, A, state, p, l0, l1);
    return MU_OK;
}

/* Batched (stateless: est = off): a window of members whose oracle is spectral (Scion's and
 * Gluon's hidden matrices) takes its polar factors through the shared views engine, same-shape
 * views as one mu_orth_batch (orth_views.h); the shape factor, the rule and the radius per
 * member as in lmo_update. Scratch: the copies of D under a rule (Σ numel), then the batch
 * workspace. Any other member, too little scratch for the copies, or batch < 2: member by member
 * through lmo_update. */
static int lmo_batchable(const mu_tstep_t *s) { return est_mode(s) == EST_OFF; }

/* Σ numel of the copies of D the rule keeps (0 without a rule), or SIZE_MAX when a member's
 * oracle is not spectral (the window then runs member by member). */
static size_t batch_copies(const mu_tstep_t *s, const mu_lmo_norm_t *nm, const mu_param_t *const *ps, int32_t n) {
    size_t sum = 0;
    for (int32_t j = 0; j < n; j++) {
        if (ps[j]->ndim != 2 || !mu_lmo_is_spectral(mu_lmo_kind_for(nm, ps[j]))) return SIZE_MAX;
        sum += (size_t)ps[j]->numel;
    }
    return keeps_copy(s) ? sum : 0;
}

static int lmo_update_batch(const mu_tstep_t *s, const mu_tctx_t *ctx, float *const *U, mu_param_t *const *ps,
                            int32_t n) {
    const mu_lmo_norm_t nm = mu_lmo_norm_of(s);
    const size_t copies = batch_copies(s, &nm, (const mu_param_t *const *)ps, n);
    size_t one = 0;  // the largest single view's workspace: what the one-by-one fallback needs
    for (int32_t j = 0; copies != SIZE_MAX && j < n; j++) {
        const size_t w = mu_lmo_ws_floats(&nm, ps[j]);
        if (w > one) one = w;
    }
    if (copies == SIZE_MAX || copies + one > ctx->scratch_floats || s->hp[K_BATCH] < 2) {
        for (int32_t j = 0; j < n; j++) MU_TRY(lmo_update(s, ctx, U[j], NULL, ps[j]));
        return MU_OK;
    }
    float *A = ctx->scratch;
    for (size_t j = 0, off = 0; copies && j < (size_t)n; off += (size_t)ps[j++]->numel)
        memcpy(A + off, U[j], sizeof(float) * (size_t)ps[j]->numel);
    const mu_orth_views_t ov = mu_lmo_views(&nm, ps[0], (int64_t)s->hp[K_BATCH]);
    MU_TRY(mu_orth_views(&ov, ctx, U, ps, n, ctx->scratch + copies, ctx->scratch_floats - copies));
    for (size_t j = 0, off = 0; j < (size_t)n; off += (size_t)ps[j++]->numel) {
        const double a = mu_lmo_spectral_factor(&nm, ps[j]);
        if (a != 1.0) mu_vec_scale(U[j], ps[j]->numel, (float)a);
        lmo_finish(s, ctx, U[j], copies ? A + off : NULL, NULL, ps[j], s->hp[K_L0], s->hp[K_L1]);
    }
    return MU_OK;
}

static size_t lmo_batch_scratch(const mu_tstep_t *s, const mu_param_t *const *ps, int32_t n) {
    const mu_lmo_norm_t nm = mu_lmo_norm_of(s);
    const size_t copies = batch_copies(s, &nm, ps, n);
    if (copies == SIZE_MAX) return 0;  // member by member: the per-member scratch serves
    const mu_orth_views_t ov = mu_lmo_views(&nm, ps[0], (int64_t)s->hp[K_BATCH]);
    return copies + mu_orth_views_scratch(&ov, ps, n);
}

/* Scion's boundary initialization (key init): W <- rho · lmo(W), exact polar factor. */
static int lmo_prime(const mu_tstep_t *s, const mu_tctx_t *ctx, mu_param_t *p) {
    if (s->hp[K_INIT] == 0) return MU_OK;
    mu_lmo_norm_t nm = mu_lmo_norm_of(s);
    if (mu_lmo_kind_for(&nm, p) == MU_LMO_BIAS_RMS) return MU_OK;  // gains/biases: the model's init
    nm.orth = MU_ORTH_EXACT;
    MU_TRY(mu_lmo_unit(&nm, ctx, p->data, p, ctx->scratch));
    mu_vec_scale(p->data, p->numel, (float)radius(s, p));
    return MU_OK;
}

const mu_transform_t mu_tr_lmo = {
    .name = "lmo", .keys = keys, .n_keys = 13, .state_size = lmo_state, .scratch_size = lmo_scratch,
    .update = lmo_update, .check = lmo_check, .prime = lmo_prime, .update_batch = lmo_update_batch,
    .batch_scratch_size = lmo_batch_scratch, .batchable = lmo_batchable,
};

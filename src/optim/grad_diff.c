/* grad_diff.c — MARS's variance-reduced gradient estimate (arXiv 2411.10438; AGI-Arena/MARS
 * MARS/optimizers/mars.py, MARS_M/optimizers/mars_m_efficient.py; optimizers-lmo.md §3 (1)),
 * in three modes (key `mode`, structural):
 *
 *   approx     U' = G + k·(G − G_prev),  k = gamma·beta/(1−beta);  then G_prev <- G
 *              G_prev = last step's gradient (another batch); zero at t = 1 (c_1 = 1.475·G)
 *   exact      U' = G + k·(G − G_prev),  G_prev = ∇f(W_{t−1}; ξ_t): the gradient of THIS step's
 *              batch at the previous weights, handed in by the caller one step ahead through
 *              mu_optim_lookahead (the reference's `update_previous_grad`), then G_prev <- G_next.
 *              State [G_prev | G_next]; a step without its look-ahead fails (MU_EINVAL).
 *   efficient  MARS-M's one-buffer form (mars_m_efficient.py, no clip, no G_prev), stored as
 *              B = beta·buf:   B <- beta·B + (1−gamma)(1−beta)·G ;  U' = gamma·G + B
 *              Unrolled, U'_t = (1−β)(1+k)G_t + (1−γ)(1−β)Σ_{s<t} β^{t−s} G_s, which is exactly the
 *              ema(beta) of the approx c_t: this link then FUSES the `clip_frob -> ema` after it
 *              (transform.h `fuses`): they hold no state and do not run (so: no clipping).
 *
 * G = the link's input U (numel). beta is MARS's beta1 (bound like the ema's in the presets).
 */
#include "base/util.h"
#include "optim/transform.h"

enum { K_GAMMA = 0, K_BETA = 1, K_MODE = 2 };
enum { MODE_APPROX = 0, MODE_EXACT = 1, MODE_EFFICIENT = 2 };

static const char *const mode_names[] = {"approx", "exact", "efficient", NULL};

static const mu_hp_desc_t keys[] = {
    {.key = "gamma", .type = MU_HP_FLOAT, .def = 0.025f, .lo = 0.0f, .hi = 1e3f},
    MU_HP_BETA_KEY("beta", 0.95f),
    /* quiet: approx checkpoints written before this key existed keep their signature */
    {.key = "mode", .type = MU_HP_ENUM, .def = 0.0f, .lo = 0.0f, .hi = 2.0f, .structural = 1, .quiet_default = 1,
     .names = mode_names},
};

static int mode(const mu_tstep_t *s) { return (int)s->hp[K_MODE]; }

static size_t gd_state(const mu_tstep_t *s, const mu_param_t *p) {
    return (size_t)p->numel * (mode(s) == MODE_EXACT ? 2 : 1);
}

static int grad_diff_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *st, mu_param_t *p) {
    const double b = s->hp[K_BETA], g = s->hp[K_GAMMA];
    const int64_t n = p->numel;
    if (mode(s) == MODE_EFFICIENT) {
        const float keep = (float)b, in = (float)((1.0 - g) * (1.0 - b)), gf = (float)g;
#pragma omp parallel for schedule(static) if (n >= MU_OPTIM_PAR_MIN)
        for (int64_t i = 0; i < n; i++) {
            const float B = keep * st[i] + in * U[i];  // B <- β·B + (1−γ)(1−β)·G
            st[i] = B;
            U[i] = gf * U[i] + B;  // U' = γ·G + B
        }
        return MU_OK;
    }
    if (mode(s) == MODE_EXACT && !ctx->lookahead)
        return mu_set_error(MU_EINVAL,
                            "optim grad_diff(mode=exact) on '%s': no look-ahead gradient for step %lld: before each "
                            "step compute the NEXT batch's gradient at the current weights and call "
                            "mu_optim_lookahead (docs/optimizers-lmo.md, MARS exact mode)",
                            p->name, (long long)ctx->t);
    const float k = (float)(g * b / (1.0 - b));  // correction multiplier (0.475)
    float *prev = st;
#pragma omp parallel for schedule(static) if (n >= MU_OPTIM_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        const float gi = U[i];
        U[i] = gi + k * (gi - prev[i]);
        prev[i] = gi;  // approx: G_prev <- G (exact overwrites it below)
    }
    if (mode(s) == MODE_EXACT) memcpy(prev, st + n, sizeof(float) * (size_t)n);  // G_prev <- G_next
    return MU_OK;
}

/* efficient stands in for `clip_frob -> ema(beta, nesterov = 0)`: both must follow it. */
static int32_t gd_fuses(const mu_tstep_t *s) { return mode(s) == MODE_EFFICIENT ? 2 : 0; }

static int gd_check_chain(const mu_tstep_t *links, int32_t n, int32_t i, const char *who) {
    const mu_tstep_t *s = &links[i];
    if (mode(s) != MODE_EFFICIENT) return MU_OK;
    if (i + 2 >= n || links[i + 1].tr != &mu_tr_clip_frob || links[i + 2].tr != &mu_tr_ema ||
        links[i + 2].hp[mu_tstep_key(&links[i + 2], "nesterov")] != 0.0f)
        return mu_set_error(MU_EINVAL,
                            "%s: mode=efficient fuses the `clip_frob -> ema` (no Nesterov) that must follow it "
                            "(mars-m, mars-lion, mars-shampoo); this chain has none",
                            who);
    const float eb = links[i + 2].hp[mu_tstep_key(&links[i + 2], "beta")];
    if (eb != s->hp[K_BETA])
        return mu_set_error(MU_EINVAL, "%s: mode=efficient fuses the ema after it: grad_diff.beta = %g and ema.beta = %g "
                                       "must be equal",
                            who, (double)s->hp[K_BETA], (double)eb);
    return MU_OK;
}

static int gd_wants_lookahead(const mu_tstep_t *s) { return mode(s) == MODE_EXACT; }

static void gd_lookahead(const mu_tstep_t *s, float *st, const mu_param_t *p) {
    (void)s;
    memcpy(st + p->numel, p->grad, sizeof(float) * (size_t)p->numel);  // G_next = ∇f(W_t; ξ_{t+1})
}

const mu_transform_t mu_tr_grad_diff = {
    .name = "grad_diff", .keys = keys, .n_keys = 3, .state_size = gd_state, .update = grad_diff_update,
    .check_chain = gd_check_chain, .fuses = gd_fuses, .wants_lookahead = gd_wants_lookahead,
    .lookahead = gd_lookahead,
};

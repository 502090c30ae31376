/* transform.h — the internal optimizer vocabulary (optax style).
 *
 * A transform kind (mu_transform_t) is a static table of function pointers plus
 * the description of its hyperparameters; a link (mu_tstep_t) is a kind with
 * concrete hyperparameter values. A chain is an array of links run in order on
 * one parameter tensor:
 *
 *   U = copy(G);  for each link: link.update(ctx, U, state_of_link, param)
 *
 * U is the working update buffer (numel floats, owned by the optimizer); links
 * either rewrite U (momentum, adam, scale, ...) or write the weights (decay,
 * apply). Each link owns state_size(param) floats of the optimizer-state arena,
 * laid out consecutively per parameter in chain order.
 *
 * Adding a transform: one new file defining `const mu_transform_t mu_tr_<name>`,
 * one line in its family's `transforms` array (family_*.c), its own test. See
 * docs/add-an-optimizer.md (§2b for the optional chain-level callbacks below).
 */
#ifndef MU_OPTIM_TRANSFORM_H
#define MU_OPTIM_TRANSFORM_H

#include <stddef.h>
#include <stdint.h>

#include "muon/gemm.h"
#include "muon/optim.h"
#include "muon/param.h"

#define MU_TR_MAX_KEYS 16   /* hyperparameters per transform */
#define MU_CHAIN_MAX 12     /* links per chain */
#define MU_OPTIM_PAR_MIN 32768 /* elementwise loops go parallel above this many elements */

/* Hyperparameter description: everything is stored as float; ints and enums are
 * whole numbers (enum value i prints as names[i]). Structural keys (enums and
 * flags that change the meaning of the state, e.g. a momentum convention) enter
 * the checkpoint signature; numeric ones (beta, lr) may change across a resume. */
typedef enum { MU_HP_FLOAT = 0, MU_HP_INT = 1, MU_HP_ENUM = 2 } mu_hp_type_t;

typedef struct {
    const char *key;             /* "b1", "wd", "mode" */
    mu_hp_type_t type;
    float def;                   /* default value */
    float lo, hi;                /* valid range, lo <= x <= hi (x < hi when hi_open) */
    int32_t hi_open;
    int32_t structural;          /* part of the chain signature */
    int32_t quiet_default;       /* printed (describe, signature) only when not at its default:
                                    keys added after checkpoints existed keep old signatures valid */
    const char *const *names;    /* MU_HP_ENUM: NULL-terminated value names */
} mu_hp_desc_t;

/* The two most common key kinds: a decay rate beta in [0, 1) and a small eps in [0, 1]. */
#define MU_HP_BETA_KEY(name, d) {.key = name, .type = MU_HP_FLOAT, .def = d, .lo = 0.0f, .hi = 1.0f, .hi_open = 1}
#define MU_HP_EPS_KEY(d) {.key = "eps", .type = MU_HP_FLOAT, .def = d, .lo = 0.0f, .hi = 1.0f}

typedef struct mu_tstep mu_tstep_t;

/* Per-call context shared by every link of a chain. */
typedef struct {
    float lr;                    /* scheduled LR of the member: base lr x lr_factor (x μP multiplier) */
    float lr_factor;             /* the schedule factor η_t/η_0 of this step (mu_optim_step's lr_factor) */
    int64_t t;                   /* 1-based step count of the optimizer */
    float *scratch;              /* >= max scratch_size floats, free for any link */
    size_t scratch_floats;       /* its size (a batched link chunks its work to fit) */
    mu_gemm_ctx_t *gemm;         /* may be NULL (elementwise presets) */
    struct mu_probe *probe;      /* diagnostics tap (optim/probe.h) on probed steps, else NULL */
    int32_t lookahead;           /* 1 when mu_optim_lookahead ran before this step (MARS exact) */
    /* set by mu_chain_run_links for the link it runs: the chain, that link's index and the
     * member's state base, so a link can read an earlier link's state (capture.h) */
    const mu_tstep_t *links;
    int32_t n_links, link;
    float *member_state;
} mu_tctx_t;

typedef struct {
    const char *name;                         /* "adam" */
    const mu_hp_desc_t *keys;
    int32_t n_keys;
    /* floats of optimizer state this link needs for parameter p (NULL: none) */
    size_t (*state_size)(const mu_tstep_t *s, const mu_param_t *p);
    /* floats of scratch needed during update (NULL: none) */
    size_t (*scratch_size)(const mu_tstep_t *s, const mu_param_t *p);
    /* initialize state (arena starts zeroed; NULL: keep zeros) */
    void (*init)(const mu_tstep_t *s, float *state, const mu_param_t *p);
    /* one step: U (numel floats) in, U' out; may write p->data */
    int (*update)(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *state, mu_param_t *p);
    /* custom printing (NULL: generic "name(key=value,...)"); lr = the group's base LR */
    int (*describe)(const mu_tstep_t *s, float lr, char *buf, size_t cap);
    /* init-time check of parameter p for this link (NULL: any tensor); who names the link
     * for messages ("optim preset 'muon': matrix.orth"); gemm may be NULL */
    int (*check)(const mu_tstep_t *s, const mu_param_t *p, const mu_gemm_ctx_t *gemm, const char *who);

    /* ---- optional chain-level behaviour (NULL: none); docs/add-an-optimizer.md §2b ---- */
    /* init-time check against the rest of the chain: links[i] is this link (layer_lr needs the
     * lmo after it to measure in the same norm; grad_diff(mode=efficient) the links it fuses) */
    int (*check_chain)(const mu_tstep_t *links, int32_t n, int32_t i, const char *who);
    /* Fusion: how many of the links right after this one it stands in for in its current mode
     * (an algebraic identity lets one buffer do their work: grad_diff(mode=efficient)). Fused
     * links hold no state, never run, and are left out of describe and the signature. */
    int32_t (*fuses)(const mu_tstep_t *s);
    /* Group link: a chain holding a link with `reduce` runs in two passes over the group's
     * members (step.c). Pass 1 runs the links before it and its `update`, which records the
     * member's statistic in its own state; then reduce() sees that state of every member
     * (states[j] for ps[j], group order); pass 2 `replay`s the links before it and runs the
     * links after it. The statistic of a step can thus depend on the whole group. */
    int (*reduce)(const mu_tstep_t *s, float *const *states, const mu_param_t *const *ps, int32_t n);
    /* Recompute this link's output U' from its input U and its current state without changing
     * the state (ema, sum): every link before a group link needs one. */
    int (*replay)(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *state, mu_param_t *p);
    /* Per-member LR factor for the links after this one (layer_lr): the runner multiplies
     * ctx.lr by it once this link has run; mu_optim_param_rates reports it. */
    float (*lr_scale)(const mu_tstep_t *s, const float *state, const mu_param_t *p);
    /* Once per member at the end of mu_optim_init (ctx.t = 0, ctx.lr = the member's base LR):
     * may rewrite the weights (Scion's boundary initialization, lmo.c key `init`). */
    int (*prime)(const mu_tstep_t *s, const mu_tctx_t *ctx, mu_param_t *p);
    /* Look-ahead gradients (MARS exact): wants_lookahead(s) says whether the link needs one
     * each step in its current mode; lookahead() stores p->grad (= ∇f(W_t; ξ_{t+1})) in its
     * state when the caller runs mu_optim_lookahead. */
    int (*wants_lookahead)(const mu_tstep_t *s);
    void (*lookahead)(const mu_tstep_t *s, float *state, const mu_param_t *p);
    /* Batched link (stateless, see batchable): the work of `update` for n members at once, U[j] of ps[j].
     * A chain holding one and no group link runs window by window (step.c): the links
     * before it member by member, this once for the window's members, the links after it
     * member by member — so orth runs the same-shape matrices of a step as one batch
     * (mu_orth_batch). batch_scratch_size: the scratch floats it would use for all n
     * members at once; the optimizer caps what it grants (ctx.scratch_floats). */
    int (*update_batch)(const mu_tstep_t *s, const mu_tctx_t *ctx, float *const *U, mu_param_t *const *ps,
                        int32_t n);
    size_t (*batch_scratch_size)(const mu_tstep_t *s, const mu_param_t *const *ps, int32_t n);
    /* Whether this link's hyperparameters allow update_batch (NULL: always); a link whose
     * update keeps state in some modes (lmo's est) batches only in the stateless ones. */
    int (*batchable)(const mu_tstep_t *s);
} mu_transform_t;

struct mu_tstep {
    const mu_transform_t *tr;
    float hp[MU_TR_MAX_KEYS];    /* in the order of tr->keys */
};

/* ---- the transforms (one file each) ---- */
extern const mu_transform_t mu_tr_ema;    /* momentum.c: M <- bM + (1-b)U          */
extern const mu_transform_t mu_tr_sum;    /* momentum.c: M <- bM + U               */
extern const mu_transform_t mu_tr_adam;   /* adam.c: bias-corrected m/(sqrt(v)+eps) */
extern const mu_transform_t mu_tr_decay;  /* decay.c: W <- (1 - lr*wd) W (or f*wd)  */
extern const mu_transform_t mu_tr_apply;  /* apply.c: W <- W - lr*U                */
extern const mu_transform_t mu_tr_scale;  /* scale.c: U <- a*U                     */
extern const mu_transform_t mu_tr_orth;   /* orthogonalize.c: U <- orth(U) per view */
extern const mu_transform_t mu_tr_shape_scale;     /* shape_scale.c: U <- a(m,n)*U  */
extern const mu_transform_t mu_tr_spectral_renorm; /* spectral_renorm.c: U <- U/σmax */
extern const mu_transform_t mu_tr_rms_match;       /* rms_match.c: RMS(U) <- rho    */
extern const mu_transform_t mu_tr_adaptive;        /* adaptive.c: Muon++ factor A_t */
extern const mu_transform_t mu_tr_grad_diff;  /* grad_diff.c: MARS U + g*b/(1-b)(U - U_prev) */
extern const mu_transform_t mu_tr_clip_frob;  /* clip_frob.c: U / max(1, |U|_F/tau) */
extern const mu_transform_t mu_tr_sign;       /* sign.c: U <- sign(U), sign(0) = 0 */
extern const mu_transform_t mu_tr_lion_mix;   /* lion_mix.c: Lion b1/b2 interpolation */
extern const mu_transform_t mu_tr_lmo;        /* lmo.c: Scion per-group LMO, radius rho */
extern const mu_transform_t mu_tr_layer_lr;   /* layer_lr.c: per-layer LR from a group statistic */
extern const mu_transform_t mu_tr_capture;       /* capture.c: keep ‖U‖_F, column norms or U */
extern const mu_transform_t mu_tr_row_moment;    /* row_moment.c: NorMuon per-row 2nd moment */
extern const mu_transform_t mu_tr_frob_match;    /* frob_match.c: ‖U‖_F <- captured ‖ref‖_F */
extern const mu_transform_t mu_tr_elem_moment;   /* elem_moment.c: U/(sqrt(V)+eps), no bias corr. */
extern const mu_transform_t mu_tr_norm_adapt;    /* norm_adapt.c: NAMO / NAMO-D step size */
extern const mu_transform_t mu_tr_row_normalize; /* row_normalize.c: unit-norm rows (or cols) */
extern const mu_transform_t mu_tr_nuclear_scale; /* nuclear_scale.c: U <- <ref,U> U (PolarGrad) */
extern const mu_transform_t mu_tr_subspace_conda;  /* subspace_conda.c: Conda rotated-basis Adam */
extern const mu_transform_t mu_tr_subspace_cosmos; /* subspace_cosmos.c: COSMOS subspace Adam + residual ns5 */

/* ---- decay.c: the weight-decay factor, shared with mu_optim_param_rates ---- */
extern const char *const mu_wd_mode_names[];  /* "decoupled", "independent", NULL (optim.c) */
/* ρ of a decay link for a member with scheduled LR lr at schedule factor lr_factor:
 * 1 - lr·wd (decoupled), 1 - lr_factor·wd (independent), 1 - lr (mode scion). */
float mu_decay_factor(const mu_tstep_t *s, float lr, float lr_factor);

/* ---- views.c: how a matrix transform cuts a parameter into matrices ----
 * split (the `split` key of matrix transforms, config qkv_split):
 *   fused: the whole (rows, cols) tensor is one matrix;
 *   qkv:   n_split row blocks (fused qkv = three (C, C) matrices), the default;
 *   head:  qkv, then each logical matrix cut into n_head row blocks (n_head > 0).
 * Level MU_VIEW_ORTH is what orth sees (heads under `head`); MU_VIEW_LOGICAL is
 * the logical matrix (q, k, v) that shapes, norms and scales refer to. Views are
 * contiguous row blocks: view i starts at i*rows*cols. */
enum { MU_SPLIT_FUSED = 0, MU_SPLIT_QKV = 1, MU_SPLIT_HEAD = 2 };
enum { MU_VIEW_ORTH = 0, MU_VIEW_LOGICAL = 1 };
extern const char *const mu_split_names[];   /* "fused", "qkv", "head", NULL */
/* Number of views (>= 1) and the shape of each. Call mu_views_check first. */
int64_t mu_param_views(const mu_param_t *p, int32_t split, int32_t level, int64_t *rows, int64_t *cols);
/* 2-D and evenly divisible under split, else MU_EINVAL naming who and the parameter. */
int mu_views_check(const mu_param_t *p, int32_t split, const char *who);
/* The `split` key of a matrix transform, one description for all of them. */
#define MU_HP_SPLIT_KEY                                                                              \
    {.key = "split", .type = MU_HP_ENUM, .def = 1.0f, .lo = 0.0f, .hi = 2.0f, .structural = 1, \
     .names = mu_split_names}
/* mu_views_check under the link's own `split` key (fused when it has none): the `check` of
 * every matrix transform without further requirements. */
int mu_views_check_link(const mu_tstep_t *s, const mu_param_t *p, const mu_gemm_ctx_t *gemm, const char *who);

/* ---- vec.c: the elementwise helpers every transform shares ---- */
/* Σ a_i b_i in double, fixed order (deterministic for any thread count). */
double mu_dot_f64(const float *a, const float *b, int64_t n);
/* x_i *= a for i < n (parallel from MU_OPTIM_PAR_MIN elements). */
void mu_vec_scale(float *x, int64_t n, float a);
/* x <- x·target/(‖x‖_F + eps), ‖x‖_F in double (mu_dot_f64); a zero (or NaN) x is left as is. */
void mu_vec_set_norm(float *x, int64_t n, double target, double eps);
/* x_i <- sign(x_i)·a, sign(0) = sign(NaN) = 0. */
void mu_vec_sign(float *x, int64_t n, float a);
/* state_size of a link keeping one float per element (momentum buffers, previous inputs). */
size_t mu_state_numel(const mu_tstep_t *s, const mu_param_t *p);

/* ---- chain.c ---- */
const mu_transform_t *mu_transform_find(const char *name);  /* NULL if unknown */
int mu_transform_list(char *buf, size_t cap);              /* "ema, sum, adam, ..." */
int mu_tstep_key(const mu_tstep_t *s, const char *key);     /* index or -1 */
/* Set a key with validation; ctx names the caller for the message ("decay.adam"). */
int mu_tstep_set(mu_tstep_t *s, const char *key, float v, const char *ctx);
void mu_tstep_defaults(mu_tstep_t *s, const mu_transform_t *tr);
size_t mu_chain_state_size(const mu_tstep_t *links, int32_t n, const mu_param_t *p);
size_t mu_chain_scratch_size(const mu_tstep_t *links, int32_t n, const mu_param_t *p);
void mu_chain_init(const mu_tstep_t *links, int32_t n, float *state, const mu_param_t *p);
int mu_chain_run(const mu_tstep_t *links, int32_t n, const mu_tctx_t *ctx, float *U, float *state,
                 mu_param_t *p);
/* 1 when link i is stood in for by an earlier link of the chain (transform `fuses`). */
int mu_chain_fused(const mu_tstep_t *links, int32_t n, int32_t i);
/* State floats of link i for p (0 when fused) and where they start in the member's block. */
size_t mu_chain_link_state_size(const mu_tstep_t *links, int32_t n, int32_t i, const mu_param_t *p);
float *mu_chain_link_state(const mu_tstep_t *links, int32_t n, int32_t i, float *state, const mu_param_t *p);
/* Run links [from, to) of one member (state = the member's whole block), skipping fused links;
 * replay = 1 runs each link's `replay` instead of `update`. ctx->lr is multiplied by the
 * lr_scale of every link that runs, so it carries over to a following call. */
int mu_chain_run_links(const mu_tstep_t *links, int32_t n, int32_t from, int32_t to, mu_tctx_t *ctx, float *U,
                       float *state, mu_param_t *p, int replay);
/* Index of the chain's group link (transform `reduce`), -1 when it has none. */
int32_t mu_chain_group_link(const mu_tstep_t *links, int32_t n);
/* Index of the batched link (transform `update_batch`) step.c runs in windows: the first
 * unfused one, in a chain without a group link; -1 if none. */
int32_t mu_chain_batch_link(const mu_tstep_t *links, int32_t n);
/* Init-time checks of a chain's structure: every check_chain, at most one group link, a
 * `replay` for every link before it; who = "optim preset 'x': group". */
int mu_chain_check(const mu_tstep_t *links, int32_t n, const char *who);
/* "adam(b1=0.9,b2=0.95,eps=1e-08) -> decay(wd=0.1,mode=lr) -> apply(lr=0.001)" */
int mu_chain_describe(const mu_tstep_t *links, int32_t n, float lr, char *buf, size_t cap);
/* structural signature: "adam>decay(mode=lr)>apply" */
int mu_chain_signature(const mu_tstep_t *links, int32_t n, char *buf, size_t cap);

/* Append to a fixed buffer: returns the new length (clamped), never overflows. */
size_t mu_str_append(char *buf, size_t cap, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif

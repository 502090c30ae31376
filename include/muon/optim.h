/* muon/optim.h — optimizers as chains of small gradient transforms over parameter groups.
 *
 * Intended usage:
 *   1. mu_optim_config_t oc = mu_optim_config_default(); oc.preset = "adamw"; set lr...
 *   2. mu_optim_init(&o, &oc, params, n_params, gemm): groups the parameters by
 *      role (registry), builds each group's chain (see docs/optimizers.md) and
 *      lays out the optimizer-state arena once. A parameter in no group is an error.
 *   3. Each step: mu_optim_clip_grad(...) (optional), then mu_optim_step(o, f)
 *      where f is the schedule's LR factor in [0, 1] (each group's lr is
 *      multiplied by it).
 *   4. mu_optim_state_bytes / _save / _load round-trip every state buffer and
 *      the step count bit-exactly (checkpoints).
 *   5. mu_optim_describe prints the groups and chains, e.g.
 *      "matrix[12]: adam(0.9,0.95,1e-8) -> decay(0.1,lr) -> apply(lr=1e-3)".
 * Presets are table rows (src/optim/presets.c); transforms live one per file
 * in src/optim/ and share the mu_transform_t interface of src/optim/transform.h.
 */
#ifndef MUON_OPTIM_H
#define MUON_OPTIM_H

#include "muon/gemm.h"
#include "muon/param.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Matrix views of a fused qkv weight for orthogonalizing presets (config qkv_split). */
typedef enum {
    MU_QKV_FUSED = 0,     /* the (3C, C) tensor is one matrix */
    MU_QKV_SPLIT = 1,     /* three (C, C) matrices (default) */
    MU_QKV_HEAD = 2       /* each of them cut into n_head row blocks for orth */
} mu_qkv_split_t;

/* Update scale after orth (config scale_mode; -1 = the preset's). */
typedef enum {
    MU_SCALE_KELLER = 0,    /* sqrt(max(1, m/n)) */
    MU_SCALE_MOONLIGHT = 1, /* 0.2 sqrt(max(m, n)) */
    MU_SCALE_SPECTRAL = 2,  /* sqrt(m/n) */
    MU_SCALE_NONE = 3,      /* 1 */
    MU_SCALE_PION = 4       /* 2 sqrt(max(m, n)) */
} mu_scale_mode_t;

/* How weight decay is scaled (config wd_mode; spec mup-and-muonpp.md §2). */
typedef enum {
    MU_WD_DECOUPLED = 0,   /* W <- (1 - η_g λ) W, η_g the member's scheduled LR incl. μP (PyTorch) */
    MU_WD_INDEPENDENT = 1  /* W <- (1 - (η_t/η_0) λ) W: the schedule factor only (Loshchilov-Hutter) */
} mu_wd_mode_t;

typedef struct {
    const char *preset;   /* adamw | sgd | muon | muon-moonlight | muon-pe | muon-exact | muonpp */
    float lr;             /* main LR: matrix group of orthogonalizing presets, all groups for adamw */
    float aux_lr;         /* LR of the AdamW groups of orthogonalizing presets; <= 0: preset default */
    float weight_decay;   /* λ: W <- (1 - lr*wd) W (decoupled), or (1 - f*wd) W (wd_mode independent) */
    int32_t wd_mode;      /* mu_wd_mode_t (default MU_WD_DECOUPLED); every preset's decay links. Not
                           * used by Scion's constrained step (1 - lr) nor NAMO's own decay. */
    float beta1, beta2, eps;
    float momentum;       /* sgd momentum */
    int32_t nesterov;
    int32_t decay_gains;  /* 1: apply weight decay to gains and biases too (default 0) */
    int32_t decay_embed;  /* 1: apply weight decay to embeddings (default 1, as nanoGPT: all 2-D) */
    /* orthogonalizing presets (ignored by adamw/sgd) */
    int32_t qkv_split;    /* mu_qkv_split_t (default MU_QKV_SPLIT) */
    int32_t orth_kind;    /* mu_orth_kind_t (muon/orth.h); -1 (default): the preset's */
    int32_t orth_steps;   /* iterations of polynomial kinds; 0 (default): the preset's (5) */
    int32_t orth_prec;    /* mu_prec_t: MU_PREC_F32 (default) | MU_PREC_BF16 (init fails without bf16) */
    int32_t scale_mode;   /* mu_scale_mode_t; -1 (default): the preset's */
    int32_t power_iters;  /* muonpp spectral_renorm steps for σ_max (Lanczos by default; power iteration with
                           * --opt matrix.spectral_renorm.method=power); 0 (default): the preset's (16) */
    int32_t adaptive;     /* muonpp adaptive factor A_t (our reconstruction): 0 off (default), 1 on */
    float kappa;          /* muonpp adaptive target ‖W‖₂ ≈ kappa·s; <= 0: the preset's (1) */
    /* generic overrides "GROUP.TRANSFORM.KEY=VALUE" / "GROUP.lr=VALUE" (GROUP may be a glob,
     * "*" = all), applied in order by mu_optim_init after the preset's chains are built and
     * before the state is laid out (structural keys allowed); borrowed during init only */
    const char *const *hparams;
    int32_t n_hparams;
    /* μP per-group LR scaling (spec mup-and-muonpp.md §2; src/optim/mup.c): param 0 (SP,
     * default) leaves every LR alone; 1 (μP) multiplies each member's LR by its role's entry
     * for the group's family (Adam-like: hidden 1/m; SGD: embed/gain/bias x m, head 1/m;
     * orthogonalized/LMO chains: 1). width_mult m = d_model / base_width (default 1). */
    int32_t param;
    float width_mult;
    /* 1: Scion's light form (optimizers-lmo.md §4, `--scion-light`): every group's chain must
     * start ema(β) → lmo with a scale-invariant lmo (scion, scion-unconstrained). The ema link is
     * dropped and its buffer lives in the gradients: the caller no longer zeroes them between
     * steps (mu_optim_keeps_grad), backward adds G_t, and mu_optim_step multiplies them by β
     * after use. Then grad_t = D_t/(1−β) for Scion's D_t = βD_{t−1} + (1−β)G_t, and
     * lmo(grad_t) = lmo(D_t). No optimizer state; the state file carries the gradients. */
    int32_t momentum_in_grad;
} mu_optim_config_t;

/* μP LR multiplier of a role (mu_role_t) in an optimizer family (mu_mup_family_t) at width
 * multiplier m; 1 for every role under SP. */
typedef enum { MU_MUP_FAMILY_ADAM = 0, MU_MUP_FAMILY_SGD = 1, MU_MUP_FAMILY_ORTH = 2 } mu_mup_family_t;
MU_API float mu_mup_lr_mult(int32_t family, int32_t role, float width_mult);
/* The LR multiplier applied to registry record `index` (1 when SP or not in any group). */


/* "fused" | "qkv" | "head" and "keller" | "moonlight" | "spectral" | "none" | "pion". */
MU_API int mu_optim_qkv_split_parse(const char *s, int32_t *out);
MU_API int mu_optim_scale_parse(const char *s, int32_t *out);
/* "decoupled" | "independent" (mu_wd_mode_t); the name of a mode ("invalid" out of range). */
MU_API int mu_optim_wd_mode_parse(const char *s, int32_t *out);
MU_API const char *mu_optim_wd_mode_name(int32_t mode);

MU_API mu_optim_config_t mu_optim_config_default(void);
/* The defaults with a preset's recommended values applied (its "defaults" row). */
MU_API int mu_optim_config_for_preset(const char *preset, mu_optim_config_t *out);

typedef struct mu_optim mu_optim_t;

MU_API int mu_optim_init(mu_optim_t **out,
                         const mu_optim_config_t *cfg,  /* copied (preset name too) */
                         mu_param_t *params,            /* registry, borrowed */
                         int32_t n_params,
                         mu_gemm_ctx_t *gemm);          /* borrowed, may be NULL for adamw/sgd */
MU_API void mu_optim_free(mu_optim_t *o);
/* The μP LR multiplier applied to registry record `index` (1 under SP). */
MU_API float mu_optim_param_lr_mult(const mu_optim_t *o, int32_t index);
MU_API int mu_optim_step(mu_optim_t *o, float lr_factor);
/* Look-ahead gradients (MARS exact mode, `--opt GROUP.grad_diff.mode=exact`; docs/optimizers-lmo.md):
 * mu_optim_wants_lookahead is 1 when some link needs one every step. Then, before each
 * mu_optim_step, the caller computes ∇f(W; ξ_next) — the NEXT step's batch at the CURRENT weights —
 * into the registry's gradients (clipped like any gradient), calls mu_optim_lookahead (which copies
 * them), zeroes the gradients and computes the current step's own gradient as usual. A step of
 * such an optimizer without its look-ahead fails with MU_EINVAL. */
MU_API int mu_optim_wants_lookahead(const mu_optim_t *o);
/* 1 when the optimizer keeps its momentum in the registry's gradients (cfg.momentum_in_grad):
 * the caller must not zero them before a step's backward (the backward adds into them), and a
 * global gradient clip would clip the momentum. */
MU_API int mu_optim_keeps_grad(const mu_optim_t *o);
MU_API int mu_optim_lookahead(mu_optim_t *o);
MU_API int64_t mu_optim_steps_done(const mu_optim_t *o);
MU_API int mu_optim_describe(const mu_optim_t *o, char *buf, size_t cap);
/* Comma-separated preset names ("adamw, sgd"). */
MU_API int mu_optim_presets(char *buf, size_t cap);
/* Set one numeric hyperparameter after init: "group.transform.key" (e.g.
 * "decay.adam.b2") or "group.lr"; group "*" means every group. Structural keys
 * (momentum convention, decay mode) are rejected: they come from the config. */
MU_API int mu_optim_set_hparam(mu_optim_t *o, const char *path, float value);
/* The same from text "PATH=VALUE"; VALUE may name an enum value ("matrix.orth.kind=exact"). */
MU_API int mu_optim_set_hparam_str(mu_optim_t *o, const char *assignment);
/* Every group (roles, members, state floats per element, LR) and every link with each
 * hyperparameter and its source ([--beta1], [preset], [default], [--opt]); detail 0:
 * one line per group with the chain's transform names. */
MU_API int mu_optim_explain(const mu_optim_t *o, int32_t detail, char *buf, size_t cap);
MU_API size_t mu_optim_state_floats(const mu_optim_t *o);  /* floats in the state arena */

/* The registered presets (every family), for listings. Strings are static. */
typedef struct {
    const char *name, *summary, *source, *confidence;
    float lr, aux_lr;     /* the preset's default LR and aux-group LR */
} mu_optim_preset_info_t;
MU_API int32_t mu_optim_preset_count(void);
MU_API int mu_optim_preset_info(int32_t i, mu_optim_preset_info_t *out);

/* Per parameter (n_params entries, registry order): the LR the next mu_optim_step(o, lr_factor)
 * applies to it (group LR x factor x μP multiplier) and its multiplicative weight-decay factor
 * ρ (1 − lr·wd for decay mode lr/post, 1 − lr_factor·wd with wd_mode independent, 1 − lr for
 * scion, 1 without a decay link). For the spectral diagnostics: ΔW = W_after − ρ·W_before is
 * the pre-decay update. */
MU_API int mu_optim_param_rates(const mu_optim_t *o, float lr_factor, float *lr, float *decay);

/* ---- introspection for diagnostics (src/optim/introspect.c, probe.c) ---- */
MU_API int32_t mu_optim_n_groups(const mu_optim_t *o);
MU_API const char *mu_optim_group_name(const mu_optim_t *o, int32_t g); /* NULL when out of range */
/* ‖G_g‖_F of each group's gradients as they are now (n_groups entries; call before
 * mu_optim_clip_grad for the raw norms). The groups partition the registry: Σ_g norms² is the
 * global norm² (a tied wte/head counted once). */
MU_API int mu_optim_group_grad_norms(const mu_optim_t *o, double *norms);
/* The momentum buffer of registry record `index` (numel floats inside the state arena, live):
 * the state of the first ema/sum link of its chain, else Adam's first moment m. MU_EINVAL when
 * its chain keeps none (sign-only, LMO without momentum...). */
MU_API int mu_optim_momentum(const mu_optim_t *o, int32_t index, const float **out);
/* The live state of the first link named `transform` in the chain of registry record `index`
 * (*out, *n floats; *n may be 0). Layouts are documented per transform (docs/optimizers*.md),
 * e.g. Gluon's (L0, L1) estimates in lmo's state, the noise statistic of layer_lr. MU_EINVAL
 * when the chain has no such (unfused) link. */
MU_API int mu_optim_link_state(const mu_optim_t *o, int32_t index, const char *transform, const float **out,
                               size_t *n);
/* Probe on (1) / off (0): while on, every mu_optim_step records, for each view an orth link
 * (or a spectral LMO) orthogonalizes, e = ‖O Oᵀ − I‖²_F with the Gram on the short side r
 * (one syrk per view: about r²·max(d_out, d_in) flops; nothing at all while off). */
MU_API int mu_optim_probe(mu_optim_t *o, int32_t on);
/* After a probed step: the orthogonalization residual of rows [row0, row0 + rows) of record
 * `index`, sqrt(Σ e_v / Σ r_v) over the views overlapping them = ‖O Oᵀ − I‖_F / sqrt(r) for
 * one view (0 for an exact polar factor); NaN when no orth ran on them. */
MU_API double mu_optim_orth_residual(const mu_optim_t *o, int32_t index, int64_t row0, int64_t rows);

MU_API size_t mu_optim_state_bytes(const mu_optim_t *o);
MU_API int mu_optim_state_save(const mu_optim_t *o, void *buf, size_t cap);
MU_API int mu_optim_state_load(mu_optim_t *o, const void *buf, size_t len);

/* Global L2 norm of all gradients (tied storage counted once); if max_norm > 0
 * and norm > max_norm, gradients are scaled by max_norm/norm. Returns
 * MU_ENONFINITE (gradients untouched) when the norm is NaN/Inf. */
MU_API int mu_optim_clip_grad(mu_param_t *params, int32_t n, float max_norm, float *norm_out);

#ifdef __cplusplus
}
#endif
#endif

/* muon/diag.h — training diagnostics: spectral norms of hidden matrices and their updates
 * (‖W‖₂, ‖ΔW‖₂ and their μP ratios), the orthogonality residual of orthogonalized updates,
 * singular-value quantiles of momentum buffers, per-group gradient norms and per-module
 * activation statistics; one JSON object per measured step for metrics.jsonl.
 *
 * For every hidden matrix W (d_out, d_in) — a fused qkv counts as its n_split logical
 * matrices — with s = sqrt(d_out/d_in) (docs: specs/mup-and-muonpp.md §1, §4):
 *   r_W  = ‖W‖₂ / s
 *   r_ΔW = ‖ΔW‖₂ / (η s),  ΔW = W_after − ρ·W_before  (the pre-decay update)
 * where η is the matrix group's scheduled LR of the step and ρ the multiplicative weight
 * decay applied in that step (ρ = 1 − η λ in the default decoupled mode, 1 − (η_t/η_0) λ with
 * wd_mode independent, 1 without WD).
 * Norms come from warm-started Lanczos (mu_spectral_norm_lanczos, at most
 * MU_LANCZOS_MAX_STEPS steps); the diag object keeps one start vector per logical matrix for W
 * and one for ΔW, so measurements every K steps converge further each time; the first (cold)
 * measurement runs MU_DIAG_COLD_MULT × iters. Krylov estimates undershoot σ_max slightly
 * (< 1e-3 at 16 steps on orthogonalized updates): the default 10 warm steps suit K ≈ 10.
 *
 * Intended usage (src/train/loop.c does exactly this every K steps):
 *   1. mu_diag_init(&d, params, n_params, iters) once (params borrowed, must outlive d).
 *   2. mu_diag_reset(d) at the start of a measured step (forgets the optional parts below).
 *   3. Optional, before the backward of the step's last micro-batch: mu_diag_module_stats(d, model).
 *      Before clipping: mu_diag_group_norms(d, optim). Then mu_optim_probe(optim, 1).
 *   4. mu_diag_snapshot(d) right before the optimizer step (copies the hidden weights), then
 *      after the step mu_diag_measure(d, lr, decay) with per-parameter arrays indexed like
 *      params (lr NULL: weights only, the ΔW fields become NaN), mu_diag_orth(d, optim) and
 *      mu_optim_probe(optim, 0); optional mu_diag_quantiles(d, optim).
 *   5. mu_diag_records(d) / mu_diag_n_records(d) for the numbers, mu_diag_json(d, buf, cap)
 *      for a compact JSON object (one key per logical matrix) to put in metrics.jsonl.
 * Thread-safety: one diag object per thread.
 */
#ifndef MUON_DIAG_H
#define MUON_DIAG_H

#include "muon/model.h"
#include "muon/optim.h"
#include "muon/param.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The first measurement of a matrix (no warm start yet) runs this many times the iterations. */
#define MU_DIAG_COLD_MULT 4

typedef struct {
    char name[MU_PARAM_NAME_MAX + 8]; /* parameter name, "[v]" appended when n_split > 1 */
    int32_t param;       /* index into the params array */
    int32_t view;        /* logical matrix index inside the parameter (0 .. n_split-1) */
    int64_t d_out, d_in; /* logical shape */
    double s;            /* sqrt(d_out / d_in) */
    double sigma_w;      /* ‖W‖₂ estimate */
    double r_w;          /* sigma_w / s */
    double rms_w;        /* sqrt(mean W²) */
    double sigma_dw;     /* ‖ΔW‖₂ estimate (NaN without a snapshot or lr) */
    double r_dw;         /* sigma_dw / (lr s) (NaN when lr is 0) */
    double rms_dw;       /* sqrt(mean ΔW²) */
    double orth_resid;   /* ‖O Oᵀ − I‖_F / sqrt(min(d_out, d_in)) of the step's orthogonalized
                          * update (mu_diag_orth); NaN when none was orthogonalized or not measured */
    double sv_q[5];      /* singular values of the momentum buffer (mu_diag_quantiles): min, p10,
                          * p50, p90, max (linear interpolation between order statistics); NaN if not */
} mu_diag_record_t;

/* Gradient norm of one optimizer group (mu_diag_group_norms). */
typedef struct {
    char name[32];
    double grad_norm;
} mu_diag_group_t;

typedef struct mu_diag mu_diag_t;

MU_API int mu_diag_init(mu_diag_t **out,            /* new diag object */
                        const mu_param_t *params,   /* borrowed registry */
                        int32_t n_params,
                        int32_t iters);             /* Lanczos steps per norm (>= 1; 0: 10; capped at 64) */
MU_API void mu_diag_free(mu_diag_t *d);
/* Copy the current hidden weights (call right before the optimizer step). */
MU_API int mu_diag_snapshot(mu_diag_t *d);
/* Measure after the step. lr, decay: n_params entries each (decay NULL: ρ = 1 everywhere);
 * lr NULL: weights only. ΔW needs a snapshot taken since the last measure. */
MU_API int mu_diag_measure(mu_diag_t *d, const float *lr, const float *decay);
/* Forget the optional per-step parts (group norms, module statistics, orth residuals,
 * quantiles); the spectral fields stay until the next mu_diag_measure. */
MU_API void mu_diag_reset(mu_diag_t *d);
/* ‖G_g‖_F per optimizer group from the gradients as they are now (call before clipping). */
MU_API int mu_diag_group_norms(mu_diag_t *d, const mu_optim_t *o);
/* The orthogonalization residual of every record from a step run with mu_optim_probe(o, 1)
 * (records of groups without orth stay NaN). */
MU_API int mu_diag_orth(mu_diag_t *d, const mu_optim_t *o);
/* Exact singular values (LAPACK sgesdd, values only) of every record's momentum buffer
 * (mu_optim_momentum; records without one stay NaN): min, p10, p50, p90, max. Costs one SVD
 * per logical matrix: far more than the rest of the diagnostics (bench/bench_diag.c). */
MU_API int mu_diag_quantiles(mu_diag_t *d, const mu_optim_t *o);
/* Module activation statistics of the model's last forward (mu_gpt_module_stats: call after a
 * forward, before its backward). */
MU_API int mu_diag_module_stats(mu_diag_t *d, const mu_gpt_t *m);
MU_API int32_t mu_diag_n_records(const mu_diag_t *d);
MU_API const mu_diag_record_t *mu_diag_records(const mu_diag_t *d);
MU_API int32_t mu_diag_n_groups(const mu_diag_t *d);  /* 0 unless mu_diag_group_norms ran since the reset */
MU_API const mu_diag_group_t *mu_diag_groups(const mu_diag_t *d);
MU_API int32_t mu_diag_n_modules(const mu_diag_t *d); /* 0 unless mu_diag_module_stats ran since the reset */
MU_API const mu_gpt_module_stat_t *mu_diag_modules(const mu_diag_t *d);
/* {"iters":N,"mats":{"NAME":{"sigma_w":..,"r_w":..,"rms_w":..,"sigma_dw":..,"r_dw":..,"rms_dw":..
 *  [,"orth_resid":..][,"sv_q":[min,p10,p50,p90,max]]},..}
 *  [,"groups":{"GROUP":{"grad_norm":..},..}][,"modules":{"MODULE":{"rms":..[,"max":..]},..}]}
 * (non-finite values as null; the optional parts only when measured since the reset; "max"
 * only for attention logits: the layer's largest pre-softmax score). MU_EINVAL when cap is too
 * small (message gives the size). */
MU_API int mu_diag_json(const mu_diag_t *d, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif

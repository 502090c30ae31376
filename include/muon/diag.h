/* muon/diag.h — spectral diagnostics of hidden matrices: ‖W‖₂, ‖ΔW‖₂ and their μP ratios.
 *
 * For every hidden matrix W (d_out, d_in) — a fused qkv counts as its n_split logical
 * matrices — with s = sqrt(d_out/d_in) (docs: specs/mup-and-muonpp.md §1, §4):
 *   r_W  = ‖W‖₂ / s
 *   r_ΔW = ‖ΔW‖₂ / (η s),  ΔW = W_after − ρ·W_before  (the pre-decay update)
 * where η is the matrix group's scheduled LR of the step and ρ the multiplicative weight
 * decay applied in that step (ρ = 1 − η λ in the default decoupled mode, 1 without WD).
 * Norms come from warm-started power iteration (mu_spectral_norm); the diag object keeps one
 * start vector per logical matrix for W and one for ΔW, so measurements every K steps converge
 * further each time; the first (cold) measurement runs MU_DIAG_COLD_MULT × iters. Power
 * iteration undershoots σ_max: use >= 8 iterations (default 10).
 *
 * Intended usage:
 *   1. mu_diag_init(&d, params, n_params, iters) once (params borrowed, must outlive d).
 *   2. Every K steps: mu_diag_snapshot(d) before the optimizer step (copies the hidden
 *      weights), then after the step mu_diag_measure(d, lr, decay) with per-parameter
 *      arrays indexed like params (lr NULL: weights only, the ΔW fields become NaN).
 *   3. mu_diag_records(d) / mu_diag_n_records(d) for the numbers, mu_diag_json(d, buf, cap)
 *      for a compact JSON object (one key per logical matrix) to put in metrics.jsonl.
 * Thread-safety: one diag object per thread.
 */
#ifndef MUON_DIAG_H
#define MUON_DIAG_H

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
} mu_diag_record_t;

typedef struct mu_diag mu_diag_t;

MU_API int mu_diag_init(mu_diag_t **out,            /* new diag object */
                        const mu_param_t *params,   /* borrowed registry */
                        int32_t n_params,
                        int32_t iters);             /* power iterations per norm (>= 1; 0: 10) */
MU_API void mu_diag_free(mu_diag_t *d);
/* Copy the current hidden weights (call right before the optimizer step). */
MU_API int mu_diag_snapshot(mu_diag_t *d);
/* Measure after the step. lr, decay: n_params entries each (decay NULL: ρ = 1 everywhere);
 * lr NULL: weights only. ΔW needs a snapshot taken since the last measure. */
MU_API int mu_diag_measure(mu_diag_t *d, const float *lr, const float *decay);
MU_API int32_t mu_diag_n_records(const mu_diag_t *d);
MU_API const mu_diag_record_t *mu_diag_records(const mu_diag_t *d);
/* {"iters":N,"mats":{"NAME":{"sigma_w":..,"r_w":..,"rms_w":..,"sigma_dw":..,"r_dw":..,"rms_dw":..},..}}
 * (non-finite values as null). MU_EINVAL when cap is too small (message gives the size). */
MU_API int mu_diag_json(const mu_diag_t *d, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif

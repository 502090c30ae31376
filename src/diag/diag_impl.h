/* diag_impl.h — the diagnostics object shared by the files of src/diag (spectral.c: init,
 * snapshot, ‖W‖₂/‖ΔW‖₂; optim_stats.c: group norms and orth residuals; quantiles.c: momentum
 * singular values; modules.c: activation statistics; json.c: the metrics object). */
#ifndef MU_DIAG_IMPL_H
#define MU_DIAG_IMPL_H

#include "muon/diag.h"

struct mu_diag {
    const mu_param_t *params;
    int32_t n_params, iters, n_rec, have_snap;
    mu_diag_record_t *rec;
    float **vw, **vdw;   /* per record: warm-start vectors (d_in floats) */
    float **snap;        /* per record: weights before the step (d_out·d_in floats) */
    float *tmp, *dw;     /* scratch per thread: n_thr blocks of tmp_len and dw_len floats */
    int64_t tmp_len, dw_len;
    int32_t n_thr;       /* threads the scratch was sized for (omp_get_max_threads at init, capped: spectral.c) */
    /* optional per-step parts, forgotten by mu_diag_reset */
    int32_t n_groups;                 /* group norms measured (0: none) */
    mu_diag_group_t *groups;          /* capacity groups_cap */
    int32_t groups_cap;
    int32_t n_mod;                    /* module statistics (0: none) */
    mu_gpt_module_stat_t *mod;        /* capacity mod_cap */
    int32_t mod_cap;
    float *svd_a, *svd_s;             /* quantiles: a copy of one matrix, its singular values */
};

/* Rows [view·d_out, (view+1)·d_out) of the record's parameter. */
static inline const float *mu_diag_rec_data(const mu_diag_t *d, const mu_diag_record_t *r) {
    return d->params[r->param].data + (int64_t)r->view * r->d_out * r->d_in;
}

#endif

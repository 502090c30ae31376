/* spectral.c — per hidden matrix ‖W‖₂, ‖ΔW‖₂, RMS and the μP ratios r_W, r_ΔW.
 *
 * Logical matrices: a parameter (rows, cols) with n_split = k is k row blocks of
 * (rows/k, cols), each contiguous in memory (fused qkv: q, k, v of (C, C)).
 * ΔW = W_after − ρ W_before (pre-decay update, ρ the step's decay factor); it is formed
 * in a scratch buffer of the largest logical matrix. σ's are Lanczos estimates (orth layer,
 * mu_spectral_norm_lanczos: far closer than power iteration with the same matrix-vector
 * work when the top singular values cluster, as in orthogonalized updates), warm-started
 * from the vectors kept here: one for W, one for ΔW per matrix.
 * Threads: matrices are measured in parallel, one per thread with its own scratch (the
 * Lanczos matvecs then run single-threaded); each matrix's result does not depend on the
 * thread that measured it (mu_spectral_norm_lanczos is thread-count independent). The
 * per-thread scratch is bounded: at most SCRATCH_CAP floats of ΔW buffers in all (64 MiB),
 * so many threads over wide matrices measure with fewer threads rather than allocate
 * threads × the largest matrix (16 × 4096×1024 would be 256 MiB). */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "diag/diag_impl.h"
#include "muon/orth.h"

enum { SCRATCH_CAP = 1 << 24 };  // floats of ΔW scratch over all measuring threads


void mu_diag_free(mu_diag_t *d) {
    if (!d) return;
    for (int32_t i = 0; i < d->n_rec; i++) {
        if (d->vw) free(d->vw[i]);
        if (d->vdw) free(d->vdw[i]);
        if (d->snap) free(d->snap[i]);
    }
    free(d->vw), free(d->vdw), free(d->snap), free(d->rec), free(d->tmp), free(d->dw);
    free(d->groups), free(d->mod), free(d->svd_a), free(d->svd_s);
    free(d);
}

int mu_diag_init(mu_diag_t **out, const mu_param_t *params, int32_t n_params, int32_t iters) {
    MU_REQUIRE(out && (params || n_params == 0), "mu_diag_init: NULL argument");
    MU_REQUIRE(n_params >= 0 && iters >= 0, "mu_diag_init: n_params %d and iters %d must be >= 0", (int)n_params,
               (int)iters);
    *out = NULL;
    int32_t n_rec = 0;
    for (int32_t i = 0; i < n_params; i++) {
        const mu_param_t *p = &params[i];
        if (p->role != MU_ROLE_HIDDEN || p->ndim != 2) continue;
        int32_t k = p->n_split > 0 ? p->n_split : 1;
        if (p->shape[0] % k)
            return mu_set_error(MU_EINVAL, "mu_diag_init: %s has %lld rows, not divisible by n_split %d", p->name,
                                (long long)p->shape[0], (int)k);
        n_rec += k;
    }
    mu_diag_t *d = calloc(1, sizeof *d);
    if (!d) return mu_set_error(MU_ENOMEM, "mu_diag_init: out of memory");
    d->params = params, d->n_params = n_params, d->iters = iters ? iters : 10, d->n_rec = n_rec;
    size_t nr = n_rec ? (size_t)n_rec : 1;
    d->rec = calloc(nr, sizeof *d->rec);
    d->vw = calloc(nr, sizeof *d->vw), d->vdw = calloc(nr, sizeof *d->vdw), d->snap = calloc(nr, sizeof *d->snap);
    int ok = d->rec && d->vw && d->vdw && d->snap;
    int64_t max_out = 1, max_el = 1;
    int32_t r = 0;
    for (int32_t i = 0; ok && i < n_params; i++) {
        const mu_param_t *p = &params[i];
        if (p->role != MU_ROLE_HIDDEN || p->ndim != 2) continue;
        int32_t k = p->n_split > 0 ? p->n_split : 1;
        for (int32_t v = 0; v < k && ok; v++, r++) {
            mu_diag_record_t *rc = &d->rec[r];
            /* names are at most MU_PARAM_NAME_MAX − 1 chars; "[v]" fits in the 8 extra */
            size_t l = strnlen(p->name, MU_PARAM_NAME_MAX - 1);
            memcpy(rc->name, p->name, l);
            rc->name[l] = 0;
            if (k > 1) snprintf(rc->name + l, 8, "[%u]", (unsigned)v % 10000u);
            rc->param = i, rc->view = v, rc->d_out = p->shape[0] / k, rc->d_in = p->shape[1];
            rc->s = sqrt((double)rc->d_out / (double)rc->d_in);
            rc->sigma_w = rc->r_w = rc->rms_w = rc->sigma_dw = rc->r_dw = rc->rms_dw = NAN;
            rc->orth_resid = NAN;
            for (int q = 0; q < 5; q++) rc->sv_q[q] = NAN;
            d->vw[r] = calloc((size_t)rc->d_in, sizeof(float)); /* zero: cold start on first use */
            d->vdw[r] = calloc((size_t)rc->d_in, sizeof(float));
            ok = d->vw[r] && d->vdw[r];
            size_t ws = mu_lanczos_workspace_floats(rc->d_out, rc->d_in, MU_LANCZOS_MAX_STEPS);
            if ((int64_t)ws > max_out) max_out = (int64_t)ws; /* tmp: the Lanczos workspace */
            if (rc->d_out * rc->d_in > max_el) max_el = rc->d_out * rc->d_in;
        }
    }
    if (ok) {
        d->n_thr = omp_get_max_threads() < n_rec ? omp_get_max_threads() : (n_rec > 0 ? n_rec : 1);
        if ((int64_t)d->n_thr * max_el > SCRATCH_CAP)
            d->n_thr = max_el >= SCRATCH_CAP ? 1 : (int32_t)(SCRATCH_CAP / max_el);
        d->tmp_len = max_out, d->dw_len = max_el;
        d->tmp = malloc((size_t)d->n_thr * (size_t)max_out * sizeof(float));
        d->dw = malloc((size_t)d->n_thr * (size_t)max_el * sizeof(float));
        ok = d->tmp && d->dw;
    }
    if (!ok) {
        mu_diag_free(d);
        return mu_set_error(MU_ENOMEM, "mu_diag_init: out of memory for %d matrices", (int)n_rec);
    }
    *out = d;
    return MU_OK;
}

int mu_diag_snapshot(mu_diag_t *d) {
    MU_REQUIRE(d, "mu_diag_snapshot: NULL diag");
    for (int32_t i = 0; i < d->n_rec; i++) {
        const mu_diag_record_t *r = &d->rec[i];
        size_t n = (size_t)(r->d_out * r->d_in);
        if (!d->snap[i] && !(d->snap[i] = malloc(n * sizeof(float))))
            return mu_set_error(MU_ENOMEM, "mu_diag_snapshot: out of memory copying %s", r->name);
        memcpy(d->snap[i], mu_diag_rec_data(d, r), n * sizeof(float));
    }
    d->have_snap = 1;
    return MU_OK;
}

static double rms(const float *x, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)x[i] * (double)x[i];
    return sqrt(s / (double)n);
}

/* A start vector still zero means a cold start: Gaussian matrices (every init) have
 * σ₁/σ₂ ≈ 1.01–1.05, where 10 cold iterations undershoot by up to 4% but 40 by < 0.3%
 * (measured on 48…512 sides), so the first measurement of a matrix runs MU_DIAG_COLD_MULT×
 * the iterations; later ones start from the previous top vector. */
static int32_t iters_for(const mu_diag_t *d, const float *v, int64_t n) {
    int32_t k = d->iters * MU_DIAG_COLD_MULT;
    for (int64_t j = 0; j < n; j++)
        if (v[j] != 0) {
            k = d->iters;
            break;
        }
    return k < MU_LANCZOS_MAX_STEPS ? k : MU_LANCZOS_MAX_STEPS;
}

/* ‖X‖₂ of a logical matrix (m, n), warm-started from and updating v (n floats). */
static int sigma_max(const mu_diag_t *d, const float *X, int64_t m, int64_t n, float *v, float *tmp, float *out) {
    return mu_spectral_norm_lanczos(X, m, n, iters_for(d, v, n), v, tmp, out);
}

/* Record i: σ, ratio and RMS of W, and of ΔW when with_dw; scratch tmp and dw. */
static int measure_one(mu_diag_t *d, int32_t i, int with_dw, const float *lr, const float *decay, float *tmp,
                       float *dw) {
    mu_diag_record_t *r = &d->rec[i];
    const float *W = mu_diag_rec_data(d, r);
    int64_t n = r->d_out * r->d_in;
    float sw;
    MU_TRY(sigma_max(d, W, r->d_out, r->d_in, d->vw[i], tmp, &sw));
    r->sigma_w = sw, r->r_w = sw / r->s, r->rms_w = rms(W, n);
    r->sigma_dw = r->r_dw = r->rms_dw = NAN;
    if (!with_dw) return MU_OK;
    /* ΔW = W_after − ρ W_before: the update before decoupled decay */
    float rho = decay ? decay[r->param] : 1.0f, eta = lr[r->param];
    const float *W0 = d->snap[i];
    for (int64_t j = 0; j < n; j++) dw[j] = W[j] - rho * W0[j];
    r->rms_dw = rms(dw, n);
    if (r->rms_dw == 0) { /* no update (frozen group): σ is exactly 0 */
        r->sigma_dw = 0;
    } else {
        float sdw;
        MU_TRY(sigma_max(d, dw, r->d_out, r->d_in, d->vdw[i], tmp, &sdw));
        r->sigma_dw = sdw;
    }
    r->r_dw = eta != 0 ? r->sigma_dw / ((double)eta * r->s) : NAN;
    return MU_OK;
}

int mu_diag_measure(mu_diag_t *d, const float *lr, const float *decay) {
    MU_REQUIRE(d, "mu_diag_measure: NULL diag");
    const int with_dw = lr && d->have_snap;
    int32_t nt = omp_get_max_threads(), failed = d->n_rec;
    if (nt > d->n_thr) nt = d->n_thr;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (nt > 1 && d->n_rec > 1)
    for (int32_t i = 0; i < d->n_rec; i++) {
        const int t = omp_get_thread_num();
        if (measure_one(d, i, with_dw, lr, decay, d->tmp + t * d->tmp_len, d->dw + t * d->dw_len) != MU_OK) {
#pragma omp critical(mu_diag_measure_failed)
            failed = i < failed ? i : failed;
        }
    }
    /* the error message is thread-local: reproduce the first failure here (deterministic) */
    if (failed < d->n_rec) return measure_one(d, failed, with_dw, lr, decay, d->tmp, d->dw);
    d->have_snap = 0;
    return MU_OK;
}

void mu_diag_reset(mu_diag_t *d) {
    if (!d) return;
    d->n_groups = 0, d->n_mod = 0;
    for (int32_t i = 0; i < d->n_rec; i++) {
        d->rec[i].orth_resid = NAN;
        for (int q = 0; q < 5; q++) d->rec[i].sv_q[q] = NAN;
    }
}

int32_t mu_diag_n_records(const mu_diag_t *d) { return d ? d->n_rec : 0; }
const mu_diag_record_t *mu_diag_records(const mu_diag_t *d) { return d ? d->rec : NULL; }

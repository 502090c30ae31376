/* quantiles.c — exact singular values of each hidden matrix's momentum buffer, summarized as
 * min, p10, p50, p90, max.
 *
 *   σ_1 >= ... >= σ_r from LAPACK sgesdd (jobz 'N': values only) of the logical matrix M
 *   sorted ascending s_0 <= ... <= s_{r-1}; quantile q at position x = q (r − 1):
 *   s_⌊x⌋ + (x − ⌊x⌋)(s_⌊x⌋+1 − s_⌊x⌋)   (linear interpolation, numpy's default)
 * sgesdd destroys its input, so each matrix is copied into a buffer of the largest one. */
#include <lapacke.h>
#include <math.h>

#include "base/util.h"
#include "diag/diag_impl.h"

/* Quantile q of ascending s[0 .. n). */
static double quantile(const float *s, int64_t n, double q) {
    const double x = q * (double)(n - 1);
    const int64_t k = (int64_t)floor(x);
    if (k >= n - 1) return s[n - 1];
    return (double)s[k] + (x - (double)k) * ((double)s[k + 1] - (double)s[k]);
}

int mu_diag_quantiles(mu_diag_t *d, const mu_optim_t *o) {
    MU_REQUIRE(d && o, "mu_diag_quantiles: NULL argument");
    if (!d->svd_a) {  // buffers for the largest logical matrix
        int64_t max_el = 1, max_r = 1;
        for (int32_t i = 0; i < d->n_rec; i++) {
            const mu_diag_record_t *r = &d->rec[i];
            if (r->d_out * r->d_in > max_el) max_el = r->d_out * r->d_in;
            const int64_t mn = r->d_out < r->d_in ? r->d_out : r->d_in;
            if (mn > max_r) max_r = mn;
        }
        d->svd_a = malloc(sizeof(float) * (size_t)max_el);
        d->svd_s = malloc(sizeof(float) * (size_t)max_r);
        if (!d->svd_a || !d->svd_s) {
            free(d->svd_a), free(d->svd_s);
            d->svd_a = d->svd_s = NULL;
            return mu_set_error(MU_ENOMEM, "mu_diag_quantiles: out of memory");
        }
    }
    static const double qs[5] = {0.0, 0.1, 0.5, 0.9, 1.0};
    for (int32_t i = 0; i < d->n_rec; i++) {
        mu_diag_record_t *r = &d->rec[i];
        const float *M;
        if (mu_optim_momentum(o, r->param, &M) != MU_OK) continue;  // no momentum: stays NaN
        const int64_t m = r->d_out, n = r->d_in, k = m < n ? m : n;
        memcpy(d->svd_a, M + (int64_t)r->view * m * n, sizeof(float) * (size_t)(m * n));
        lapack_int info = LAPACKE_sgesdd(LAPACK_ROW_MAJOR, 'N', (lapack_int)m, (lapack_int)n, d->svd_a, (lapack_int)n,
                                         d->svd_s, NULL, (lapack_int)m, NULL, (lapack_int)n);
        if (info != 0)
            return mu_set_error(info > 0 ? MU_ENONFINITE : MU_EINVAL,
                                "mu_diag_quantiles: sgesdd failed on the momentum of %s (info %d%s)", r->name, (int)info,
                                info > 0 ? ": no convergence, non-finite entries?" : "");
        // LAPACK returns σ descending: reverse to ascending
        for (int64_t a = 0, b = k - 1; a < b; a++, b--) {
            const float t = d->svd_s[a];
            d->svd_s[a] = d->svd_s[b], d->svd_s[b] = t;
        }
        for (int q = 0; q < 5; q++) r->sv_q[q] = quantile(d->svd_s, k, qs[q]);
    }
    return MU_OK;
}

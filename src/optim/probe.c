/* probe.c — the orthogonality residual of the update an orth link produced.
 *
 * For a view O (rows, cols) with r = min(rows, cols):
 *   G = O Oᵀ (rows <= cols) or Oᵀ O (rows > cols)      (r, r), one syrk
 *   e = ‖G − I‖²_F = Σ_ij (G_ij − δ_ij)²                 summed in double
 * stored per view with (row0, rows, r); a logical matrix's residual is sqrt(Σ e / Σ r) over
 * its views, i.e. ‖O Oᵀ − I‖_F / sqrt(r) for a single view: 0 for an exact polar factor,
 * RMS of σ_i² − 1 over the singular values otherwise. */
#include <math.h>

#include "base/util.h"
#include "optim/probe.h"

typedef struct {
    int64_t row0, rows, r;
    double e;  /* ‖G − I‖²_F */
} view_rec_t;

struct mu_probe {
    const mu_param_t *params;
    int32_t n_params;
    int32_t *count, *cap;  /* per record: views recorded, capacity */
    view_rec_t **views;
    float *gram;           /* r² floats, grown on demand */
    int64_t gram_cap;
};

int mu_probe_create(mu_probe_t **out, const mu_param_t *params, int32_t n_params) {
    MU_REQUIRE(out && n_params >= 0 && (params || !n_params), "mu_probe_create: bad argument");
    *out = NULL;
    mu_probe_t *pr = calloc(1, sizeof *pr);
    size_t n = n_params > 0 ? (size_t)n_params : 1;
    if (pr) {
        pr->params = params, pr->n_params = n_params;
        pr->count = calloc(n, sizeof *pr->count);
        pr->cap = calloc(n, sizeof *pr->cap);
        pr->views = calloc(n, sizeof *pr->views);
    }
    if (!pr || !pr->count || !pr->cap || !pr->views) {
        mu_probe_free(pr);
        return mu_set_error(MU_ENOMEM, "optim probe: out of memory for %d records", (int)n_params);
    }
    *out = pr;
    return MU_OK;
}

void mu_probe_free(mu_probe_t *pr) {
    if (!pr) return;
    if (pr->views)
        for (int32_t i = 0; i < pr->n_params; i++) free(pr->views[i]);
    free(pr->views), free(pr->count), free(pr->cap), free(pr->gram);
    free(pr);
}

void mu_probe_clear(mu_probe_t *pr) {
    if (pr) memset(pr->count, 0, sizeof *pr->count * (size_t)(pr->n_params > 0 ? pr->n_params : 1));
}

int mu_probe_orth(mu_probe_t *pr, mu_gemm_ctx_t *g, const mu_param_t *p, int64_t row0, const float *X, int64_t rows,
                  int64_t cols) {
    if (!pr || !p || p < pr->params || p >= pr->params + pr->n_params) return MU_OK;  // not a registry record
    const int32_t i = (int32_t)(p - pr->params);
    const int64_t r = rows < cols ? rows : cols, k = rows < cols ? cols : rows;
    if (r * r > pr->gram_cap) {
        float *gnew = realloc(pr->gram, sizeof(float) * (size_t)(r * r));
        if (!gnew) return mu_set_error(MU_ENOMEM, "optim probe: out of memory for a %lld^2 Gram", (long long)r);
        pr->gram = gnew, pr->gram_cap = r * r;
    }
    if (pr->count[i] == pr->cap[i]) {
        const int32_t nc = pr->cap[i] ? 2 * pr->cap[i] : 4;
        view_rec_t *v = realloc(pr->views[i], sizeof *v * (size_t)nc);
        if (!v) return mu_set_error(MU_ENOMEM, "optim probe: out of memory for the views of %s", p->name);
        pr->views[i] = v, pr->cap[i] = nc;
    }
    // G = O Oᵀ (short side rows) or Oᵀ O (short side cols): (r, r), k the long side
    MU_TRY(mu_gemm_syrk(g, rows <= cols ? 0 : 1, r, k, 1.0f, X, cols, 0.0f, pr->gram, r, MU_PREC_F32));
    double e = 0;
    for (int64_t a = 0; a < r; a++)
        for (int64_t b = 0; b < r; b++) {
            const double d = (double)pr->gram[a * r + b] - (a == b ? 1.0 : 0.0);
            e += d * d;
        }
    pr->views[i][pr->count[i]++] = (view_rec_t){.row0 = row0, .rows = rows, .r = r, .e = e};
    return MU_OK;
}

double mu_probe_orth_residual(const mu_probe_t *pr, int32_t index, int64_t row0, int64_t rows) {
    if (!pr || index < 0 || index >= pr->n_params) return NAN;
    double e = 0, r = 0;
    for (int32_t v = 0; v < pr->count[index]; v++) {
        const view_rec_t *w = &pr->views[index][v];
        if (w->row0 >= row0 + rows || w->row0 + w->rows <= row0) continue;  // no overlap
        e += w->e, r += (double)w->r;
    }
    return r > 0 ? sqrt(e / r) : NAN;
}

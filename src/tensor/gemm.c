/* gemm.c — TEMPORARY minimal OpenBLAS-only implementation of muon/gemm.h.
 * The compute-layer work replaces this with the two-engine planner. */
#include <cblas.h>

#include "base/util.h"
#include "muon/gemm.h"

struct mu_gemm_ctx {
    mu_engine_t engine;
};

mu_gemm_desc_t mu_gemm_desc(int32_t ta, int32_t tb, int64_t m, int64_t n, int64_t k, float alpha, float beta) {
    mu_gemm_desc_t d = {0};
    d.trans_a = ta;
    d.trans_b = tb;
    d.m = m;
    d.n = n;
    d.k = k;
    d.lda = ta ? m : k;
    d.ldb = tb ? k : n;
    d.ldc = n;
    d.batch = 1;
    d.alpha = alpha;
    d.beta = beta;
    d.prec = MU_PREC_F32;
    return d;
}

int mu_gemm_ctx_init(mu_gemm_ctx_t **out, mu_engine_t engine) {
    MU_REQUIRE(out, "mu_gemm_ctx_init: out is NULL");
    *out = calloc(1, sizeof **out);
    if (!*out) return mu_set_error(MU_ENOMEM, "mu_gemm_ctx_init: out of memory");
    (*out)->engine = engine;
    return MU_OK;
}
void mu_gemm_ctx_free(mu_gemm_ctx_t *g) { free(g); }
mu_engine_t mu_gemm_ctx_engine(const mu_gemm_ctx_t *g) { return g->engine; }

int mu_gemm(mu_gemm_ctx_t *g, const mu_gemm_desc_t *d, const float *A, const float *B, float *C) {
    (void)g;
    for (int64_t b = 0; b < d->batch; b++)
        cblas_sgemm(CblasRowMajor, d->trans_a ? CblasTrans : CblasNoTrans, d->trans_b ? CblasTrans : CblasNoTrans,
                    (int)d->m, (int)d->n, (int)d->k, d->alpha, A + b * d->stride_a, (int)d->lda, B + b * d->stride_b,
                    (int)d->ldb, d->beta, C + b * d->stride_c, (int)d->ldc);
    return MU_OK;
}
int mu_gemm_plan(mu_gemm_ctx_t *g, const mu_gemm_desc_t *d) { (void)g; (void)d; return MU_OK; }
mu_engine_t mu_gemm_engine_for(mu_gemm_ctx_t *g, const mu_gemm_desc_t *d) { (void)g; (void)d; return MU_ENGINE_OPENBLAS; }
int mu_gemm_plan_string(const mu_gemm_ctx_t *g, char *buf, size_t cap) { (void)g; if (cap) buf[0] = 0; return MU_OK; }
int mu_gemm_plan_load(mu_gemm_ctx_t *g, const char *plan) { (void)g; (void)plan; return MU_OK; }
const char *mu_engine_name(mu_engine_t e) { return e == MU_ENGINE_ONEDNN ? "onednn" : e == MU_ENGINE_OPENBLAS ? "openblas" : "auto"; }
int mu_gemm_bf16_available(void) { return 0; }

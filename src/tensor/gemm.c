/* gemm.c — the one interface for matrix products: validation, the per-shape
 * plan (which engine runs a shape), the oneDNN primitive cache and auto-timing.
 *
 * Two tables live in a context:
 *   choices: coarse shape (m,n,k,ta,tb,batch,prec) -> engine. This is what
 *            mu_gemm_plan_string prints and mu_gemm_plan_load restores, so a
 *            resumed run makes the same engine choice for every shape.
 *   prims:   full descriptor (also lds, batch strides, alpha, beta) -> oneDNN
 *            primitive, created once and reused; its workspace is the
 *            context's scratch, grown only when a new primitive is created.
 * A steady-state mu_gemm() is: validate, two table look-ups (last hit first),
 * one engine call. No allocation, no planning. */
#include <math.h>
#include <omp.h>
#include <stdio.h>

#include "base/util.h"
#include "tensor/engine.h"

#define MU_KEY_LEN 15

typedef struct {
    int64_t m, n, k, batch;
    int32_t ta, tb;
    mu_prec_t prec;
    mu_engine_t engine;
} choice_t;

typedef struct {
    int64_t key[MU_KEY_LEN];
    mu_dnnl_prim_t *prim;
    int32_t nthreads;   /* oneDNN fixes its thread split when a primitive is created */
} prim_entry_t;

struct mu_gemm_ctx {
    mu_engine_t engine;
    choice_t *ch;
    int32_t n_ch, cap_ch, last_ch;
    prim_entry_t *pr;
    int32_t n_pr, cap_pr, last_pr;
    void *scratch;      /* oneDNN scratchpad + bf16 copies, shared by all primitives */
    size_t scratch_cap;
};

mu_gemm_desc_t mu_gemm_desc(int32_t ta, int32_t tb, int64_t m, int64_t n, int64_t k, float alpha, float beta) {
    mu_gemm_desc_t d;
    memset(&d, 0, sizeof d);
    d.trans_a = ta;
    d.trans_b = tb;
    d.m = m;
    d.n = n;
    d.k = k;
    d.lda = ta ? m : k;  /* stored A is (m,k) or, transposed, (k,m) */
    d.ldb = tb ? k : n;  /* stored B is (k,n) or, transposed, (n,k) */
    d.ldc = n;
    d.batch = 1;
    d.alpha = alpha;
    d.beta = beta;
    d.prec = MU_PREC_F32;
    return d;
}

const char *mu_engine_name(mu_engine_t e) {
    switch (e) {
    case MU_ENGINE_AUTO: return "auto";
    case MU_ENGINE_OPENBLAS: return "openblas";
    case MU_ENGINE_ONEDNN: return "onednn";
    default: return "unknown";
    }
}

int mu_engine_parse(const char *s, mu_engine_t *out) {
    MU_REQUIRE(s && out, "mu_engine_parse: NULL argument");
    if (!strcmp(s, "auto")) *out = MU_ENGINE_AUTO;
    else if (!strcmp(s, "openblas")) *out = MU_ENGINE_OPENBLAS;
    else if (!strcmp(s, "onednn")) *out = MU_ENGINE_ONEDNN;
    else return mu_set_error(MU_EINVAL, "engine '%s' unknown: expected auto, openblas or onednn", s);
    return MU_OK;
}

int mu_gemm_bf16_available(void) { return mu_dnnl_bf16_ok(); }

int mu_gemm_ctx_init(mu_gemm_ctx_t **out, mu_engine_t engine) {
    MU_REQUIRE(out, "mu_gemm_ctx_init: out is NULL");
    *out = NULL;
    MU_REQUIRE(engine == MU_ENGINE_AUTO || engine == MU_ENGINE_OPENBLAS || engine == MU_ENGINE_ONEDNN,
               "mu_gemm_ctx_init: engine %d unknown: expected auto (0), openblas (1) or onednn (2)", (int)engine);
    mu_gemm_ctx_t *g = calloc(1, sizeof *g);
    if (!g) return mu_set_error(MU_ENOMEM, "mu_gemm_ctx_init: out of memory");
    g->engine = engine;
    *out = g;
    return MU_OK;
}

void mu_gemm_ctx_free(mu_gemm_ctx_t *g) {
    if (!g) return;
    for (int32_t i = 0; i < g->n_pr; i++) mu_dnnl_free(g->pr[i].prim);
    free(g->pr);
    free(g->ch);
    free(g->scratch);
    free(g);
}

mu_engine_t mu_gemm_ctx_engine(const mu_gemm_ctx_t *g) { return g ? g->engine : MU_ENGINE_AUTO; }

/* ---- validation ---- */

static int validate(const mu_gemm_desc_t *d) {
    const char *w = "mu_gemm";
    MU_REQUIRE(d->trans_a == 0 || d->trans_a == 1, "%s: trans_a is %d, expected 0 or 1", w, (int)d->trans_a);
    MU_REQUIRE(d->trans_b == 0 || d->trans_b == 1, "%s: trans_b is %d, expected 0 or 1", w, (int)d->trans_b);
    MU_REQUIRE(d->m > 0 && d->n > 0 && d->k > 0, "%s: sizes m=%lld n=%lld k=%lld must all be positive", w,
               (long long)d->m, (long long)d->n, (long long)d->k);
    MU_REQUIRE(d->batch > 0, "%s: batch is %lld, must be >= 1", w, (long long)d->batch);
    MU_REQUIRE(d->prec == MU_PREC_F32 || d->prec == MU_PREC_BF16, "%s: prec %d unknown (0 = f32, 1 = bf16)", w,
               (int)d->prec);
    MU_REQUIRE(isfinite(d->alpha) && isfinite(d->beta), "%s: alpha %g and beta %g must be finite", w,
               (double)d->alpha, (double)d->beta);
    /* stored A is (m,k), or (k,m) when transposed: its row stride covers its columns */
    int64_t ca = d->trans_a ? d->m : d->k, cb = d->trans_b ? d->k : d->n;
    MU_REQUIRE(d->lda >= ca, "%s: lda %lld too small for A stored as (%lld,%lld)%s: need >= %lld", w,
               (long long)d->lda, (long long)(d->trans_a ? d->k : d->m), (long long)ca,
               d->trans_a ? " (transposed)" : "", (long long)ca);
    MU_REQUIRE(d->ldb >= cb, "%s: ldb %lld too small for B stored as (%lld,%lld)%s: need >= %lld", w,
               (long long)d->ldb, (long long)(d->trans_b ? d->n : d->k), (long long)cb,
               d->trans_b ? " (transposed)" : "", (long long)cb);
    MU_REQUIRE(d->ldc >= d->n, "%s: ldc %lld too small for C (%lld,%lld): need >= %lld", w, (long long)d->ldc,
               (long long)d->m, (long long)d->n, (long long)d->n);
    const int64_t imax = 2147483647;  /* OpenBLAS takes 32-bit sizes */
    MU_REQUIRE(d->m <= imax && d->n <= imax && d->k <= imax && d->lda <= imax && d->ldb <= imax && d->ldc <= imax,
               "%s: sizes and leading dimensions must fit in 32 bits", w);
    if (d->batch > 1) {
        MU_REQUIRE(d->stride_a >= 0 && d->stride_b >= 0,
                   "%s: batch strides stride_a %lld and stride_b %lld must be >= 0 (0 repeats one matrix)", w,
                   (long long)d->stride_a, (long long)d->stride_b);
        /* outputs may be stacked (stride_c >= one whole item) or interleaved by columns
         * inside wider rows (heads of attention: stride_c >= n and all items fit in ldc) */
        int64_t c_item = (d->m - 1) * d->ldc + d->n;
        int interleaved = d->stride_c >= d->n && (d->batch - 1) * d->stride_c + d->n <= d->ldc;
        MU_REQUIRE(d->stride_c >= c_item || interleaved,
                   "%s: stride_c %lld lets batch outputs overlap: C items are (%lld,%lld) with ldc %lld; need "
                   "stride_c >= %lld (stacked) or stride_c >= n with (batch-1)*stride_c + n <= ldc (side by side)",
                   w, (long long)d->stride_c, (long long)d->m, (long long)d->n, (long long)d->ldc, (long long)c_item);
    }
    return MU_OK;
}

/* ---- tables ---- */

static int find_choice(mu_gemm_ctx_t *g, const mu_gemm_desc_t *d) {
    int32_t l = g->last_ch;
#define MATCH(c) ((c).m == d->m && (c).n == d->n && (c).k == d->k && (c).batch == d->batch && \
                  (c).ta == d->trans_a && (c).tb == d->trans_b && (c).prec == d->prec)
    if (l < g->n_ch && MATCH(g->ch[l])) return l;
    for (int32_t i = 0; i < g->n_ch; i++)
        if (MATCH(g->ch[i])) return g->last_ch = i;
#undef MATCH
    return -1;
}

static int set_choice(mu_gemm_ctx_t *g, const choice_t *c) {
    for (int32_t i = 0; i < g->n_ch; i++) {
        choice_t *o = &g->ch[i];
        if (o->m == c->m && o->n == c->n && o->k == c->k && o->batch == c->batch && o->ta == c->ta &&
            o->tb == c->tb && o->prec == c->prec) {
            o->engine = c->engine;
            return MU_OK;
        }
    }
    if (g->n_ch == g->cap_ch) {
        int32_t cap = g->cap_ch ? 2 * g->cap_ch : 16;
        choice_t *n = realloc(g->ch, (size_t)cap * sizeof *n);
        if (!n) return mu_set_error(MU_ENOMEM, "mu_gemm: out of memory for the plan");
        g->ch = n;
        g->cap_ch = cap;
    }
    g->ch[g->n_ch++] = *c;
    return MU_OK;
}

static void make_key(const mu_gemm_desc_t *d, int64_t key[MU_KEY_LEN]) {
    uint32_t ab, bb;
    memcpy(&ab, &d->alpha, 4);
    memcpy(&bb, &d->beta, 4);
    int64_t k[MU_KEY_LEN] = {d->trans_a, d->trans_b, d->m, d->n, d->k, d->lda, d->ldb, d->ldc, d->batch,
                             d->batch > 1 ? d->stride_a : 0, d->batch > 1 ? d->stride_b : 0,
                             d->batch > 1 ? d->stride_c : 0, ab, bb, d->prec};
    memcpy(key, k, sizeof k);
}

/* The oneDNN primitive for d: cached, created (and the scratch grown) on first use
 * or when the thread count changed since it was created. */
static int get_prim(mu_gemm_ctx_t *g, const mu_gemm_desc_t *d, mu_dnnl_prim_t **out) {
    int64_t key[MU_KEY_LEN];
    make_key(d, key);
    int32_t nthr = omp_get_max_threads();
    int32_t idx = -1, l = g->last_pr;
    if (l < g->n_pr && !memcmp(g->pr[l].key, key, sizeof key)) idx = l;
    for (int32_t i = 0; idx < 0 && i < g->n_pr; i++)
        if (!memcmp(g->pr[i].key, key, sizeof key)) idx = i;
    if (idx >= 0 && g->pr[idx].nthreads == nthr) {
        g->last_pr = idx;
        *out = g->pr[idx].prim;
        return MU_OK;
    }
    mu_dnnl_prim_t *p = NULL;
    size_t need = 0;
    MU_TRY(mu_dnnl_create(d, &p, &need));
    if (need > g->scratch_cap) {
        void *s = mu_alloc(need);
        if (!s) {
            mu_dnnl_free(p);
            return mu_set_error(MU_ENOMEM, "mu_gemm: cannot allocate %zu bytes of oneDNN workspace", need);
        }
        free(g->scratch);
        g->scratch = s;
        g->scratch_cap = need;
    }
    if (idx >= 0) { /* thread count changed: replace */
        mu_dnnl_free(g->pr[idx].prim);
    } else {
        if (g->n_pr == g->cap_pr) {
            int32_t cap = g->cap_pr ? 2 * g->cap_pr : 16;
            prim_entry_t *n = realloc(g->pr, (size_t)cap * sizeof *n);
            if (!n) {
                mu_dnnl_free(p);
                return mu_set_error(MU_ENOMEM, "mu_gemm: out of memory for the primitive cache");
            }
            g->pr = n;
            g->cap_pr = cap;
        }
        idx = g->n_pr++;
        memcpy(g->pr[idx].key, key, sizeof key);
    }
    g->pr[idx].prim = p;
    g->pr[idx].nthreads = nthr;
    g->last_pr = idx;
    *out = p;
    return MU_OK;
}

static int run_engine(mu_gemm_ctx_t *g, mu_engine_t e, const mu_gemm_desc_t *d, const float *A, const float *B,
                      float *C) {
    if (e == MU_ENGINE_OPENBLAS) {
        mu_blas_run(d, A, B, C);
        return MU_OK;
    }
    mu_dnnl_prim_t *p;
    MU_TRY(get_prim(g, d, &p));
    return mu_dnnl_run(p, A, B, C, g->scratch);
}

/* ---- planning ---- */

/* Wall time of one call of engine e on d (rc receives the call's status). */
static double time_once(mu_gemm_ctx_t *g, mu_engine_t e, const mu_gemm_desc_t *d, const float *A, const float *B,
                        float *C, int *rc) {
    double t0 = mu_time_s();
    *rc = run_engine(g, e, d, A, B, C);
    return mu_time_s() - t0;
}

/* Best-of timing of both engines: one warm-up call each (thread start, first
 * touch, oneDNN's first execution), then a few timed repetitions. */
static int time_and_choose(mu_gemm_ctx_t *g, const mu_gemm_desc_t *d, const float *A, const float *B, float *C,
                           mu_engine_t *out) {
    int rc;
    double best[2];
    best[0] = time_once(g, MU_ENGINE_OPENBLAS, d, A, B, C, &rc);
    best[1] = time_once(g, MU_ENGINE_ONEDNN, d, A, B, C, &rc);
    if (rc < 0) { /* oneDNN cannot do this shape: OpenBLAS it is */
        mu_clear_error();
        *out = MU_ENGINE_OPENBLAS;
        return MU_OK;
    }
    /* Big products (an LM head: seconds each) are decided on the warm-up calls,
     * whose only extra cost is negligible next to them. Otherwise alternate the
     * engines so clock drift hits both; stop after ~10 ms or 5 rounds (min 3). */
    double total = best[0] + best[1];
    if (total > 0.2) {
        *out = best[1] < best[0] ? MU_ENGINE_ONEDNN : MU_ENGINE_OPENBLAS;
        return MU_OK;
    }
    best[0] = best[1] = 1e30;
    total = 0;
    for (int r = 0; r < 5 && (r < 3 || total < 10e-3); r++) {
        double tb = time_once(g, MU_ENGINE_OPENBLAS, d, A, B, C, &rc);
        double td = time_once(g, MU_ENGINE_ONEDNN, d, A, B, C, &rc);
        MU_TRY(rc);
        if (tb < best[0]) best[0] = tb;
        if (td < best[1]) best[1] = td;
        total += tb + td;
    }
    *out = best[1] < best[0] ? MU_ENGINE_ONEDNN : MU_ENGINE_OPENBLAS;
    return MU_OK;
}

/* Decide the engine for d's coarse shape. A/B/C may be the caller's buffers
 * (mu_gemm) or NULL (mu_gemm_plan): missing ones, and C when beta != 0 (timing
 * must not change the caller's C), are replaced by zeroed temporaries. */
static int plan_shape(mu_gemm_ctx_t *g, const mu_gemm_desc_t *d, const float *A, const float *B, float *C) {
    choice_t c = {d->m, d->n, d->k, d->batch, d->trans_a, d->trans_b, d->prec, g->engine};
    if (d->prec == MU_PREC_BF16) {
        if (g->engine == MU_ENGINE_OPENBLAS)
            return mu_set_error(MU_EUNSUPPORTED, "mu_gemm: bf16 products need the oneDNN engine; this context "
                                "was created for openblas (use auto or onednn, or prec f32)");
        if (!mu_dnnl_bf16_ok())
            return mu_set_error(MU_EUNSUPPORTED, "mu_gemm: bf16 products need a CPU with AVX512-BF16 or AMX; "
                                "oneDNN reports ISA %s here (use prec f32)", mu_onednn_isa());
        c.engine = MU_ENGINE_ONEDNN;
    } else if (g->engine == MU_ENGINE_AUTO) {
        double flops = (double)d->m * (double)d->n * (double)d->k * (double)d->batch;
        if (flops < 32.0 * 32.0 * 32.0) {
            c.engine = MU_ENGINE_OPENBLAS; /* tiny: not worth timing, OpenBLAS has no setup cost */
        } else {
            int64_t ra = d->trans_a ? d->k : d->m, ca = d->trans_a ? d->m : d->k;
            int64_t rb = d->trans_b ? d->n : d->k, cb = d->trans_b ? d->k : d->n;
            size_t na = (size_t)mu_span(ra, ca, d->lda, d->batch, d->stride_a);
            size_t nb = (size_t)mu_span(rb, cb, d->ldb, d->batch, d->stride_b);
            size_t nc = (size_t)mu_span(d->m, d->n, d->ldc, d->batch, d->stride_c);
            float *ta = A ? NULL : mu_alloc(na * sizeof(float));
            float *tb = B ? NULL : mu_alloc(nb * sizeof(float));
            float *tc = (C && d->beta == 0.0f) ? NULL : mu_alloc(nc * sizeof(float));
            int rc = MU_OK;
            if ((!A && !ta) || (!B && !tb) || (!(C && d->beta == 0.0f) && !tc))
                rc = mu_set_error(MU_ENOMEM, "mu_gemm_plan: cannot allocate timing buffers for %lldx%lldx%lld",
                                  (long long)d->m, (long long)d->n, (long long)d->k);
            if (rc == MU_OK) rc = time_and_choose(g, d, A ? A : ta, B ? B : tb, tc ? tc : C, &c.engine);
            free(ta);
            free(tb);
            free(tc);
            MU_TRY(rc);
        }
    }
    MU_TRY(set_choice(g, &c));
    g->last_ch = g->n_ch - 1;
    return MU_OK;
}

static int engine_for(mu_gemm_ctx_t *g, const mu_gemm_desc_t *d, const float *A, const float *B, float *C,
                      mu_engine_t *e) {
    int i = find_choice(g, d);
    if (i < 0) {
        MU_TRY(plan_shape(g, d, A, B, C));
        i = find_choice(g, d);
    }
    *e = g->ch[i].engine;
    return MU_OK;
}

int mu_gemm(mu_gemm_ctx_t *g, const mu_gemm_desc_t *d, const float *A, const float *B, float *C) {
    MU_REQUIRE(g && d && A && B && C, "mu_gemm: NULL argument (ctx %p, desc %p, A %p, B %p, C %p)", (void *)g,
               (const void *)d, (const void *)A, (const void *)B, (void *)C);
    MU_TRY(validate(d));
    mu_engine_t e;
    MU_TRY(engine_for(g, d, A, B, C, &e));
    return run_engine(g, e, d, A, B, C);
}

int mu_gemm_to_bf16(uint16_t *dst, const float *src, int64_t n) {
    MU_REQUIRE(dst && src, "mu_gemm_to_bf16: NULL argument (dst %p, src %p)", (void *)dst, (const void *)src);
    MU_REQUIRE(n >= 0, "mu_gemm_to_bf16: element count %lld must be >= 0", (long long)n);
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++) dst[i] = mu_f32_to_bf16(src[i]);
    return MU_OK;
}

/* A stored operand of (rows, cols) with row stride ld is tight: ld = cols, and batch items
 * back to back or one repeated item. */
static int require_tight(const char *name, int64_t rows, int64_t cols, int64_t ld, int64_t batch, int64_t stride) {
    MU_REQUIRE(ld == cols, "mu_gemm_bf16_operands: %s is stored (%lld,%lld) with row stride %lld; bf16 operands must "
               "be tight (row stride %lld)", name, (long long)rows, (long long)cols, (long long)ld, (long long)cols);
    MU_REQUIRE(batch == 1 || stride == 0 || stride == rows * cols,
               "mu_gemm_bf16_operands: %s batch stride %lld: bf16 operands must be back to back (stride %lld) or "
               "repeated (0)", name, (long long)stride, (long long)(rows * cols));
    return MU_OK;
}

int mu_gemm_bf16_operands(mu_gemm_ctx_t *g, const mu_gemm_desc_t *d, const uint16_t *A, const uint16_t *B,
                          float *C) {
    MU_REQUIRE(g && d && A && B && C, "mu_gemm_bf16_operands: NULL argument (ctx %p, desc %p, A %p, B %p, C %p)",
               (void *)g, (const void *)d, (const void *)A, (const void *)B, (void *)C);
    MU_TRY(validate(d));
    MU_REQUIRE(d->prec == MU_PREC_BF16, "mu_gemm_bf16_operands: the descriptor's prec is %d; bf16 operands need "
               "prec MU_PREC_BF16 (1)", (int)d->prec);
    MU_TRY(require_tight("A", d->trans_a ? d->k : d->m, d->trans_a ? d->m : d->k, d->lda, d->batch, d->stride_a));
    MU_TRY(require_tight("B", d->trans_b ? d->n : d->k, d->trans_b ? d->k : d->n, d->ldb, d->batch, d->stride_b));
    mu_engine_t e;
    MU_TRY(engine_for(g, d, NULL, NULL, NULL, &e)); /* bf16: oneDNN, or the error that says why not */
    mu_dnnl_prim_t *p;
    MU_TRY(get_prim(g, d, &p));
    return mu_dnnl_run_bf16(p, A, B, C, g->scratch);
}

int mu_gemm_plan(mu_gemm_ctx_t *g, const mu_gemm_desc_t *d) {
    MU_REQUIRE(g && d, "mu_gemm_plan: NULL argument");
    MU_TRY(validate(d));
    mu_engine_t e;
    MU_TRY(engine_for(g, d, NULL, NULL, NULL, &e));
    if (e == MU_ENGINE_ONEDNN) { /* create the primitive now, not in the first step */
        mu_dnnl_prim_t *p;
        MU_TRY(get_prim(g, d, &p));
    }
    return MU_OK;
}

mu_engine_t mu_gemm_engine_for(mu_gemm_ctx_t *g, const mu_gemm_desc_t *d) {
    mu_engine_t e;
    if (!g || !d || validate(d) < 0 || engine_for(g, d, NULL, NULL, NULL, &e) < 0) return MU_ENGINE_AUTO;
    return e;
}

/* ---- plan text: "m,n,k,ta,tb,batch,prec=engine;..." ---- */

static int entry_text(const choice_t *c, char *buf, size_t cap) {
    return snprintf(buf, cap, "%lld,%lld,%lld,%d,%d,%lld,%s=%s", (long long)c->m, (long long)c->n, (long long)c->k,
                    (int)c->ta, (int)c->tb, (long long)c->batch, c->prec == MU_PREC_BF16 ? "bf16" : "f32",
                    mu_engine_name(c->engine));
}

size_t mu_gemm_plan_size(const mu_gemm_ctx_t *g) {
    size_t n = 1;
    if (!g) return n;
    for (int32_t i = 0; i < g->n_ch; i++) n += (size_t)entry_text(&g->ch[i], NULL, 0) + (i > 0);
    return n;
}

int mu_gemm_plan_string(const mu_gemm_ctx_t *g, char *buf, size_t cap) {
    MU_REQUIRE(g && buf && cap > 0, "mu_gemm_plan_string: NULL argument or zero capacity");
    size_t need = mu_gemm_plan_size(g);
    buf[0] = 0;
    if (need > cap)
        return mu_set_error(MU_EINVAL, "mu_gemm_plan_string: buffer of %zu bytes too small, plan needs %zu", cap,
                            need);
    size_t off = 0;
    for (int32_t i = 0; i < g->n_ch; i++) {
        if (i) buf[off++] = ';';
        off += (size_t)entry_text(&g->ch[i], buf + off, cap - off);
    }
    buf[off] = 0;
    return MU_OK;
}

static const char *skip_ws(const char *s) {
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
    return s;
}

int mu_gemm_plan_load(mu_gemm_ctx_t *g, const char *plan) {
    MU_REQUIRE(g && plan, "mu_gemm_plan_load: NULL argument");
    /* parse everything first so a bad plan changes nothing */
    size_t n_max = 1;
    for (const char *s = plan; *s; s++) n_max += *s == ';';
    choice_t *tmp = calloc(n_max, sizeof *tmp);
    if (!tmp) return mu_set_error(MU_ENOMEM, "mu_gemm_plan_load: out of memory");
    size_t n = 0;
    int rc = MU_OK;
    const char *s = plan;
    for (int entry = 1; rc == MU_OK; entry++) {
        s = skip_ws(s);
        if (!*s) break;
        const char *end = strchr(s, ';');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        char text[256];
        if (len >= sizeof text) {
            rc = mu_set_error(MU_EINVAL, "gemm plan entry %d: longer than %zu characters", entry, sizeof text - 1);
            break;
        }
        memcpy(text, s, len);
        text[len] = 0;
        while (len && (text[len - 1] == ' ' || text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == '\t'))
            text[--len] = 0;
        s = end ? end + 1 : s + len;
        if (!len) continue; /* empty entry, e.g. a trailing ';' */
        long long m, nn, k, batch;
        int ta, tb, used = 0;
        char prec[8], eng[16];
        if (sscanf(text, "%lld,%lld,%lld,%d,%d,%lld,%7[a-z0-9]=%15[a-z]%n", &m, &nn, &k, &ta, &tb, &batch, prec, eng,
                   &used) != 8 ||
            text[used] != 0) {
            rc = mu_set_error(MU_EINVAL, "gemm plan entry %d '%s': expected m,n,k,ta,tb,batch,prec=engine "
                              "(e.g. 4096,768,256,0,1,1,f32=onednn)", entry, text);
            break;
        }
        choice_t *c = &tmp[n];
        c->m = m, c->n = nn, c->k = k, c->batch = batch, c->ta = ta, c->tb = tb;
        if (m <= 0 || nn <= 0 || k <= 0 || batch <= 0 || (ta != 0 && ta != 1) || (tb != 0 && tb != 1)) {
            rc = mu_set_error(MU_EINVAL, "gemm plan entry %d '%s': sizes must be positive and ta/tb 0 or 1", entry,
                              text);
            break;
        }
        if (!strcmp(prec, "f32") || !strcmp(prec, "0")) c->prec = MU_PREC_F32;
        else if (!strcmp(prec, "bf16") || !strcmp(prec, "1")) c->prec = MU_PREC_BF16;
        else {
            rc = mu_set_error(MU_EINVAL, "gemm plan entry %d '%s': precision '%s' unknown (f32 or bf16)", entry,
                              text, prec);
            break;
        }
        if (!strcmp(eng, "openblas")) c->engine = MU_ENGINE_OPENBLAS;
        else if (!strcmp(eng, "onednn")) c->engine = MU_ENGINE_ONEDNN;
        else {
            rc = mu_set_error(MU_EINVAL, "gemm plan entry %d '%s': engine '%s' unknown (openblas or onednn)", entry,
                              text, eng);
            break;
        }
        if (c->prec == MU_PREC_BF16 && c->engine != MU_ENGINE_ONEDNN) {
            rc = mu_set_error(MU_EINVAL, "gemm plan entry %d '%s': bf16 products run only on onednn", entry, text);
            break;
        }
        n++;
    }
    for (size_t i = 0; rc == MU_OK && i < n; i++) rc = set_choice(g, &tmp[i]);
    free(tmp);
    return rc;
}

/* engine_onednn.c — the oneDNN engine: one matmul primitive per descriptor.
 *
 * Shapes (row-major, logical dims in oneDNN's "abc" order):
 *   src     op(A) (batch, m, k)   strides (stride_a, lda, 1) or, transposed, (stride_a, 1, lda)
 *   weights op(B) (batch, k, n)   strides (stride_b, ldb, 1) or, transposed, (stride_b, 1, ldb)
 *   dst     C     (batch, m, n)   strides (stride_c, ldc, 1)
 * batch == 1 uses 2-D descriptors; a batch stride of 0 becomes a broadcast dim of 1.
 * Transposes and leading dimensions are expressed as strides, so fp32 products
 * run on the caller's memory with no reorder. alpha is the output scale
 * attribute, beta a sum post-op (dst = beta*dst + alpha*A*B); beta == 0 has no
 * post-op so C is never read. bf16: A and B are rounded to bf16
 * (round-to-nearest-even) into tight copies in the caller's scratch; the
 * primitive reads bf16, accumulates and writes fp32.
 * Everything that allocates happens in mu_dnnl_create; mu_dnnl_run only sets
 * data handles and executes (scratchpad mode "user": the workspace is ours). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <dnnl.h>

#include "base/util.h"
#include "tensor/engine.h"

struct mu_dnnl_prim {
    mu_gemm_desc_t d;
    dnnl_primitive_t prim;
    dnnl_stream_t stream;
    dnnl_memory_t mem[4];       /* src, weights, dst, scratchpad */
    dnnl_exec_arg_t args[4];
    size_t scratch_off_a;       /* bf16 copies of A and B inside the workspace */
    size_t scratch_off_b;
    size_t scratch_off_pad;     /* oneDNN scratchpad */
    int has_pad;
};

/* ---- process-wide CPU engine, created once ---- */
static dnnl_engine_t g_engine;
static dnnl_status_t g_engine_status = dnnl_runtime_error;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static void engine_init(void) { g_engine_status = dnnl_engine_create(&g_engine, dnnl_cpu, 0); }

static int get_engine(dnnl_engine_t *e) {
    pthread_once(&g_once, engine_init);
    if (g_engine_status != dnnl_success)
        return mu_set_error(MU_EUNSUPPORTED, "oneDNN: cannot create the CPU engine (status %d)", (int)g_engine_status);
    *e = g_engine;
    return MU_OK;
}

int mu_dnnl_bf16_ok(void) {
    /* ISA values are bit sets: bf16 support means all avx512_core_bf16 bits (AMX includes them). */
    unsigned isa = (unsigned)dnnl_get_effective_cpu_isa();
    return (isa & (unsigned)dnnl_cpu_isa_avx512_core_bf16) == (unsigned)dnnl_cpu_isa_avx512_core_bf16;
}

/* Memory descriptor for one operand: logical (batch,rows,cols) with row stride ld,
 * column stride 1, or the transpose of a stored (cols,rows) matrix. */
static dnnl_status_t operand_md(dnnl_memory_desc_t *md, int64_t batch, int64_t stride, int64_t rows, int64_t cols,
                                int64_t ld, int trans, dnnl_data_type_t dt) {
    int64_t rs = trans ? 1 : ld, cs = trans ? ld : 1;
    if (batch == 1) {
        dnnl_dims_t dims = {rows, cols}, strides = {rs, cs};
        return dnnl_memory_desc_init_by_strides(md, 2, dims, dt, strides);
    }
    int64_t bdim = stride == 0 ? 1 : batch;                 /* broadcast the one item */
    int64_t bstr = stride == 0 ? (rows - 1) * rs + (cols - 1) * cs + 1 : stride;
    dnnl_dims_t dims = {bdim, rows, cols}, strides = {bstr, rs, cs};
    return dnnl_memory_desc_init_by_strides(md, 3, dims, dt, strides);
}

static size_t align64(size_t x) { return (x + 63) & ~(size_t)63; }

#define DNNL_CHECK(call, what)                                                                             \
    do {                                                                                                   \
        dnnl_status_t st_ = (call);                                                                        \
        if (st_ != dnnl_success) {                                                                         \
            rc = mu_set_error(st_ == dnnl_unimplemented ? MU_EUNSUPPORTED : MU_EINVAL,                     \
                              "oneDNN matmul %lldx%lldx%lld (batch %lld): %s failed (status %d)",          \
                              (long long)d->m, (long long)d->n, (long long)d->k, (long long)d->batch, what, \
                              (int)st_);                                                                   \
            goto fail;                                                                                     \
        }                                                                                                  \
    } while (0)

int mu_dnnl_create(const mu_gemm_desc_t *d, mu_dnnl_prim_t **out, size_t *scratch_bytes) {
    int rc = MU_OK;
    dnnl_engine_t eng = NULL;
    MU_TRY(get_engine(&eng));
    const int bf16 = d->prec == MU_PREC_BF16;
    if (bf16 && !mu_dnnl_bf16_ok())
        return mu_set_error(MU_EUNSUPPORTED, "oneDNN: bf16 matmul needs AVX512-BF16 or AMX; this CPU's ISA is %s",
                            mu_onednn_isa());
    mu_dnnl_prim_t *p = calloc(1, sizeof *p);
    if (!p) return mu_set_error(MU_ENOMEM, "oneDNN: out of memory");
    p->d = *d;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    dnnl_primitive_desc_t pd = NULL;

    dnnl_memory_desc_t a_md, b_md, c_md;
    if (bf16) {
        /* tight bf16 copies: stored A is (rows_a, cols_a) per item, batch items back to back */
        int64_t ra = d->trans_a ? d->k : d->m, ca = d->trans_a ? d->m : d->k;
        int64_t rb = d->trans_b ? d->n : d->k, cb = d->trans_b ? d->k : d->n;
        int64_t na = d->stride_a == 0 ? 1 : d->batch, nb = d->stride_b == 0 ? 1 : d->batch;
        DNNL_CHECK(operand_md(&a_md, d->batch, d->stride_a ? ra * ca : 0, d->m, d->k, ca, d->trans_a, dnnl_bf16),
                   "src memory desc");
        DNNL_CHECK(operand_md(&b_md, d->batch, d->stride_b ? rb * cb : 0, d->k, d->n, cb, d->trans_b, dnnl_bf16),
                   "weights memory desc");
        p->scratch_off_a = 0;
        p->scratch_off_b = align64((size_t)(na * ra * ca) * 2);
        p->scratch_off_pad = p->scratch_off_b + align64((size_t)(nb * rb * cb) * 2);
    } else {
        DNNL_CHECK(operand_md(&a_md, d->batch, d->stride_a, d->m, d->k, d->lda, d->trans_a, dnnl_f32),
                   "src memory desc");
        DNNL_CHECK(operand_md(&b_md, d->batch, d->stride_b, d->k, d->n, d->ldb, d->trans_b, dnnl_f32),
                   "weights memory desc");
        p->scratch_off_pad = 0;
    }
    DNNL_CHECK(operand_md(&c_md, d->batch, d->stride_c, d->m, d->n, d->ldc, 0, dnnl_f32), "dst memory desc");

    dnnl_matmul_desc_t md;
    DNNL_CHECK(dnnl_matmul_desc_init(&md, &a_md, &b_md, NULL, &c_md), "matmul desc");
    DNNL_CHECK(dnnl_primitive_attr_create(&attr), "attr create");
    DNNL_CHECK(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "scratchpad mode");
    if (d->alpha != 1.0f) DNNL_CHECK(dnnl_primitive_attr_set_output_scales(attr, 1, 0, &d->alpha), "output scales");
    if (d->beta != 0.0f) {
        DNNL_CHECK(dnnl_post_ops_create(&po), "post-ops create");
        DNNL_CHECK(dnnl_post_ops_append_sum(po, d->beta), "sum post-op");
        DNNL_CHECK(dnnl_primitive_attr_set_post_ops(attr, po), "post-ops");
    }
    DNNL_CHECK(dnnl_primitive_desc_create(&pd, &md, attr, eng, NULL), "primitive desc");
    DNNL_CHECK(dnnl_primitive_create(&p->prim, pd), "primitive create");

    const dnnl_memory_desc_t *pad_md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t pad = pad_md ? dnnl_memory_desc_get_size(pad_md) : 0;
    DNNL_CHECK(dnnl_stream_create(&p->stream, eng, dnnl_stream_default_flags), "stream create");
    DNNL_CHECK(dnnl_memory_create(&p->mem[0], &a_md, eng, DNNL_MEMORY_NONE), "src memory");
    DNNL_CHECK(dnnl_memory_create(&p->mem[1], &b_md, eng, DNNL_MEMORY_NONE), "weights memory");
    DNNL_CHECK(dnnl_memory_create(&p->mem[2], &c_md, eng, DNNL_MEMORY_NONE), "dst memory");
    p->args[0] = (dnnl_exec_arg_t){DNNL_ARG_SRC, p->mem[0]};
    p->args[1] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, p->mem[1]};
    p->args[2] = (dnnl_exec_arg_t){DNNL_ARG_DST, p->mem[2]};
    if (pad > 0) {
        DNNL_CHECK(dnnl_memory_create(&p->mem[3], pad_md, eng, DNNL_MEMORY_NONE), "scratchpad memory");
        p->args[3] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, p->mem[3]};
        p->has_pad = 1;
    }
    *scratch_bytes = p->scratch_off_pad + align64(pad);
    dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_attr_destroy(attr);
    if (po) dnnl_post_ops_destroy(po);
    *out = p;
    return MU_OK;
fail:
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (po) dnnl_post_ops_destroy(po);
    mu_dnnl_free(p);
    return rc;
}

/* Copy the stored (rows, cols) matrices with row stride ld into tight bf16. */
static void to_bf16(uint16_t *dst, const float *src, int64_t n_items, int64_t stride, int64_t rows, int64_t cols,
                    int64_t ld) {
#pragma omp parallel for collapse(2) schedule(static) if (n_items * rows * cols > 65536)
    for (int64_t b = 0; b < n_items; b++)
        for (int64_t r = 0; r < rows; r++) {
            const float *s = src + b * stride + r * ld;
            uint16_t *o = dst + (b * rows + r) * cols;
            for (int64_t c = 0; c < cols; c++) o[c] = mu_f32_to_bf16(s[c]);
        }
}

/* Execute on src a and weights b (fp32 or tight bf16, as the primitive was created). */
static int execute(mu_dnnl_prim_t *p, void *a, void *b, float *C, char *ws) {
    const mu_gemm_desc_t *d = &p->d;
    dnnl_status_t st = dnnl_memory_set_data_handle(p->mem[0], a);
    if (st == dnnl_success) st = dnnl_memory_set_data_handle(p->mem[1], b);
    if (st == dnnl_success) st = dnnl_memory_set_data_handle(p->mem[2], C);
    if (st == dnnl_success && p->has_pad) st = dnnl_memory_set_data_handle(p->mem[3], ws + p->scratch_off_pad);
    if (st == dnnl_success) st = dnnl_primitive_execute(p->prim, p->stream, 3 + p->has_pad, p->args);
    if (st == dnnl_success) st = dnnl_stream_wait(p->stream);
    if (st != dnnl_success)
        return mu_set_error(MU_EINVAL, "oneDNN matmul %lldx%lldx%lld (batch %lld): execute failed (status %d)",
                            (long long)d->m, (long long)d->n, (long long)d->k, (long long)d->batch, (int)st);
    return MU_OK;
}

int mu_dnnl_run(mu_dnnl_prim_t *p, const float *A, const float *B, float *C, void *scratch) {
    const mu_gemm_desc_t *d = &p->d;
    char *ws = scratch;
    void *a = (void *)A, *b = (void *)B; /* oneDNN only reads src and weights */
    if (d->prec == MU_PREC_BF16) {
        int64_t ra = d->trans_a ? d->k : d->m, ca = d->trans_a ? d->m : d->k;
        int64_t rb = d->trans_b ? d->n : d->k, cb = d->trans_b ? d->k : d->n;
        a = ws + p->scratch_off_a;
        b = ws + p->scratch_off_b;
        to_bf16(a, A, d->stride_a == 0 ? 1 : d->batch, d->stride_a, ra, ca, d->lda);
        to_bf16(b, B, d->stride_b == 0 ? 1 : d->batch, d->stride_b, rb, cb, d->ldb);
    }
    return execute(p, a, b, C, ws);
}

int mu_dnnl_run_bf16(mu_dnnl_prim_t *p, const uint16_t *A, const uint16_t *B, float *C, void *scratch) {
    return execute(p, (void *)A, (void *)B, C, scratch); /* oneDNN only reads src and weights */
}

void mu_dnnl_free(mu_dnnl_prim_t *p) {
    if (!p) return;
    for (int i = 0; i < 4; i++)
        if (p->mem[i]) dnnl_memory_destroy(p->mem[i]);
    if (p->prim) dnnl_primitive_destroy(p->prim);
    if (p->stream) dnnl_stream_destroy(p->stream);
    free(p);
}

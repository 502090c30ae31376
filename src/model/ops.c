/* ops.c — forward and backward kernels of the GPT (see ops.h for shapes and contracts).
 * Elementwise loops are written so that GCC vectorizes them at -O3 -march=native
 * (`omp simd` where a reduction or an inlined exp is involved); every reduction runs in a
 * fixed order, so results do not depend on the OpenMP thread count. */
#include <math.h>
#include <string.h>

/* Without this GCC refuses to if-convert the clamps and float->int conversion of fexp (they
 * could raise FP exceptions) and leaves the exp/tanh loops scalar; muon never reads the FP
 * exception flags. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif

#include "base/util.h"
#include "model/ops.h"

#define LN_EPS 1e-5f
#define COL_CHUNK 16 /* columns per task in reductions over rows (one cache line) */

/* ---- exp ----------------------------------------------------------------------------- */

/* exp(x) = 2^n * exp(r), n = round(x / ln2), r = x - n ln2 (ln2 split in two for exactness),
 * exp(r) by the Cephes expf minimax polynomial. x is clamped to [-87, 88]: the result stays
 * a normal float (exp(-87) ~ 1.6e-38 stands in for 0, which is harmless in softmax sums). */
static inline float fexp(float x) {
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round-to-nearest trick */
    float r = x - n * 0.693359375f;
    r = r + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    uint32_t e = (uint32_t)((int32_t)n + 127) << 23; /* 2^n as float bits (unsigned: NaN input must not be UB) */
    float s;
    memcpy(&s, &e, sizeof s);
    return p * s;
}

float mu_op_expf(float x) { return fexp(x); }

/* ---- dropout ------------------------------------------------------------------------- */

static inline int dropout_on(const mu_dropout_t *dr) { return dr && dr->p > 0.0f; }

/* Fill mask m (C) with 0 or 1/(1-p) for row r: 32 random bits per element, keep iff u >= p*2^32. */
static void dropout_row_mask(float *m, int64_t C, const mu_dropout_t *dr, int64_t r) {
    mu_rng_t rng;
    mu_rng_at(&rng, dr->seed, dr->step, dr->micro, ((uint64_t)dr->site << 32) | (uint64_t)r);
    uint32_t thr = (uint32_t)fmin((double)dr->p * 4294967296.0, 4294967295.0);
    float keep = 1.0f / (1.0f - dr->p);
    for (int64_t j = 0; j < C; j += 2) {
        uint64_t u = mu_rng_u64(&rng);
        m[j] = (uint32_t)u >= thr ? keep : 0.0f;
        if (j + 1 < C) m[j + 1] = (uint32_t)(u >> 32) >= thr ? keep : 0.0f;
    }
}

/* Rows are processed in blocks so one mask buffer on the stack serves a block. */
#define MASK_MAX 4096

void mu_op_dropout_copy(float *out, const float *x, int64_t N, int64_t C, const mu_dropout_t *dr) {
    if (!dropout_on(dr)) {
        if (out != x) memcpy(out, x, (size_t)(N * C) * sizeof(float));
        return;
    }
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < N; r++) {
        float m[MASK_MAX];
        for (int64_t j0 = 0; j0 < C; j0 += MASK_MAX) {
            int64_t w = C - j0 < MASK_MAX ? C - j0 : MASK_MAX;
            /* columns beyond MASK_MAX use a derived site so every element has its own bits */
            mu_dropout_t d2 = *dr;
            d2.site = dr->site + (uint32_t)(j0 / MASK_MAX) * 0x10000u;
            dropout_row_mask(m, w, &d2, r);
            const float *xr = x + r * C + j0;
            float *o = out + r * C + j0;
            for (int64_t j = 0; j < w; j++) o[j] = xr[j] * m[j];
        }
    }
}

void mu_op_dropout(float *x, int64_t N, int64_t C, const mu_dropout_t *dr) { mu_op_dropout_copy(x, x, N, C, dr); }

/* ---- encoder ------------------------------------------------------------------------- */

void mu_op_encoder_fwd(float *out, const int32_t *x, const float *wte, const float *wpe, int64_t B, int64_t T,
                       int64_t C, const mu_dropout_t *dr) {
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < B * T; r++) {
        const float *te = wte + (int64_t)x[r] * C, *pe = wpe + (r % T) * C;
        float *o = out + r * C;
        for (int64_t j = 0; j < C; j++) o[j] = te[j] + pe[j];
    }
    mu_op_dropout(out, B * T, C, dr);
}

void mu_op_encoder_bwd(float *dwte, float *dwpe, const float *dout, const int32_t *x, int64_t B, int64_t T,
                       int64_t C) {
    /* Scatter-add into wte: tokens repeat, so split the work by column chunks, each chunk
     * walking all rows in order (no races, fixed summation order). */
    int64_t nch = (C + COL_CHUNK - 1) / COL_CHUNK;
#pragma omp parallel for schedule(static)
    for (int64_t ch = 0; ch < nch; ch++) {
        int64_t j0 = ch * COL_CHUNK, j1 = j0 + COL_CHUNK < C ? j0 + COL_CHUNK : C;
        for (int64_t r = 0; r < B * T; r++) {
            float *dt = dwte + (int64_t)x[r] * C;
            const float *d = dout + r * C;
            for (int64_t j = j0; j < j1; j++) dt[j] += d[j];
        }
    }
    /* wpe row t gets the sum over the batch, b in order */
#pragma omp parallel for schedule(static)
    for (int64_t t = 0; t < T; t++) {
        float *dp = dwpe + t * C;
        for (int64_t b = 0; b < B; b++) {
            const float *d = dout + (b * T + t) * C;
            for (int64_t j = 0; j < C; j++) dp[j] += d[j];
        }
    }
}

/* ---- layernorm ----------------------------------------------------------------------- */

void mu_op_layernorm_fwd(float *out, float *mean, float *rstd, const float *x, const float *w, const float *b,
                         int64_t N, int64_t C) {
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < N; r++) {
        const float *xr = x + r * C;
        float *o = out + r * C;
        float s = 0.0f;
#pragma omp simd reduction(+ : s)
        for (int64_t j = 0; j < C; j++) s += xr[j];
        float mu = s / (float)C;
        float v = 0.0f; /* two-pass variance: sum (x - mean)^2 / C (biased, as PyTorch) */
#pragma omp simd reduction(+ : v)
        for (int64_t j = 0; j < C; j++) v += (xr[j] - mu) * (xr[j] - mu);
        float rs = 1.0f / sqrtf(v / (float)C + LN_EPS);
        if (b)
            for (int64_t j = 0; j < C; j++) o[j] = (xr[j] - mu) * rs * w[j] + b[j];
        else
            for (int64_t j = 0; j < C; j++) o[j] = (xr[j] - mu) * rs * w[j];
        mean[r] = mu;
        rstd[r] = rs;
    }
}

void mu_op_layernorm_bwd(float *dx, float *dw, float *db, const float *dout, const float *x, const float *w,
                         const float *mean, const float *rstd, int64_t N, int64_t C) {
    /* xhat = (x - mean) rstd, dnorm = dout * w:
     * dx = rstd * (dnorm - mean(dnorm) - xhat * mean(dnorm * xhat)) */
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < N; r++) {
        const float *xr = x + r * C, *d = dout + r * C;
        float mu = mean[r], rs = rstd[r];
        float s1 = 0.0f, s2 = 0.0f;
#pragma omp simd reduction(+ : s1, s2)
        for (int64_t j = 0; j < C; j++) {
            float dn = d[j] * w[j];
            s1 += dn;
            s2 += dn * (xr[j] - mu) * rs;
        }
        s1 /= (float)C;
        s2 /= (float)C;
        float *o = dx + r * C;
        for (int64_t j = 0; j < C; j++) o[j] += rs * (d[j] * w[j] - s1 - (xr[j] - mu) * rs * s2);
    }
    /* dw, db: sums over rows, one column chunk per task */
    int64_t nch = (C + COL_CHUNK - 1) / COL_CHUNK;
#pragma omp parallel for schedule(static)
    for (int64_t ch = 0; ch < nch; ch++) {
        int64_t j0 = ch * COL_CHUNK, n = C - j0 < COL_CHUNK ? C - j0 : COL_CHUNK;
        float aw[COL_CHUNK] = {0}, ab[COL_CHUNK] = {0};
        for (int64_t r = 0; r < N; r++) {
            const float *xr = x + r * C + j0, *d = dout + r * C + j0;
            float mu = mean[r], rs = rstd[r];
            for (int64_t j = 0; j < n; j++) {
                aw[j] += d[j] * ((xr[j] - mu) * rs);
                ab[j] += d[j];
            }
        }
        for (int64_t j = 0; j < n; j++) {
            dw[j0 + j] += aw[j];
            if (db) db[j0 + j] += ab[j];
        }
    }
}

/* ---- linear -------------------------------------------------------------------------- */

int mu_op_linear_fwd(mu_gemm_ctx_t *g, float *out, const float *inp, const float *w, int64_t N, int64_t C,
                     int64_t OC) {
    /* out (N,OC) = inp (N,C) @ w^T, w stored (OC,C) */
    mu_gemm_desc_t d = mu_gemm_desc(0, 1, N, OC, C, 1.0f, 0.0f);
    return mu_gemm(g, &d, inp, w, out);
}

int mu_op_linear_bwd(mu_gemm_ctx_t *g, float *dinp, float *dw, float *db, const float *dout, const float *inp,
                     const float *w, int64_t N, int64_t C, int64_t OC, float dinp_beta) {
    if (dinp) { /* dinp (N,C) = dout (N,OC) @ w (OC,C) */
        mu_gemm_desc_t d = mu_gemm_desc(0, 0, N, C, OC, 1.0f, dinp_beta);
        MU_TRY(mu_gemm(g, &d, dout, w, dinp));
    }
    /* dw (OC,C) += dout^T (OC,N) @ inp (N,C) */
    mu_gemm_desc_t d = mu_gemm_desc(1, 0, OC, C, N, 1.0f, 1.0f);
    MU_TRY(mu_gemm(g, &d, dout, inp, dw));
    if (db) mu_op_colsum_add(db, dout, N, OC);
    return MU_OK;
}

void mu_op_bias_add(float *out, const float *b, int64_t N, int64_t C) {
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < N; r++) {
        float *o = out + r * C;
        for (int64_t j = 0; j < C; j++) o[j] += b[j];
    }
}

void mu_op_colsum_add(float *db, const float *d, int64_t N, int64_t C) {
    int64_t nch = (C + COL_CHUNK - 1) / COL_CHUNK;
#pragma omp parallel for schedule(static)
    for (int64_t ch = 0; ch < nch; ch++) {
        int64_t j0 = ch * COL_CHUNK, n = C - j0 < COL_CHUNK ? C - j0 : COL_CHUNK;
        float a[COL_CHUNK] = {0};
        for (int64_t r = 0; r < N; r++) {
            const float *dr = d + r * C + j0;
            for (int64_t j = 0; j < n; j++) a[j] += dr[j];
        }
        for (int64_t j = 0; j < n; j++) db[j0 + j] += a[j];
    }
}

/* ---- GELU (tanh approximation, as GPT-2 and llm.c) ----------------------------------- */

#define GELU_K 0.7978845608028654f /* sqrt(2/pi) */
#define GELU_A 0.044715f

/* tanh(u) = 1 - 2 / (exp(2u) + 1): saturates cleanly to +-1 with the clamped exp */
static inline float ftanh(float u) { return 1.0f - 2.0f / (fexp(2.0f * u) + 1.0f); }

void mu_op_gelu_fwd(float *g, float *h, const float *b, int64_t N, int64_t C) {
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < N; r++) {
        float *hr = h + r * C, *gr = g + r * C;
#pragma omp simd
        for (int64_t j = 0; j < C; j++) {
            float x = b ? hr[j] + b[j] : hr[j];
            hr[j] = x;
            float t = ftanh(GELU_K * (x + GELU_A * x * x * x));
            gr[j] = 0.5f * x * (1.0f + t);
        }
    }
}

void mu_op_gelu_bwd(float *dh, const float *dg, const float *h, int64_t n) {
    /* d/dx 0.5 x (1 + t) = 0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 a x^2), t = tanh(k (x + a x^3)) */
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; i++) {
        float x = h[i];
        float t = ftanh(GELU_K * (x + GELU_A * x * x * x));
        float dx = 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * GELU_K * (1.0f + 3.0f * GELU_A * x * x);
        dh[i] = dg[i] * dx;
    }
}

/* ---- residual ------------------------------------------------------------------------ */

void mu_op_residual_fwd(float *res_out, const float *res_in, const float *x, const float *b, int64_t N, int64_t C,
                        const mu_dropout_t *dr) {
    int drop = dropout_on(dr);
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < N; r++) {
        float m[MASK_MAX];
        for (int64_t j0 = 0; j0 < C; j0 += MASK_MAX) {
            int64_t w = C - j0 < MASK_MAX ? C - j0 : MASK_MAX;
            const float *xr = x + r * C + j0, *ri = res_in + r * C + j0;
            const float *br = b ? b + j0 : NULL;
            float *o = res_out + r * C + j0;
            if (drop) {
                mu_dropout_t d2 = *dr; /* same per-row streams as mu_op_dropout_copy */
                d2.site = dr->site + (uint32_t)(j0 / MASK_MAX) * 0x10000u;
                dropout_row_mask(m, w, &d2, r);
                if (br)
                    for (int64_t j = 0; j < w; j++) o[j] = ri[j] + (xr[j] + br[j]) * m[j];
                else
                    for (int64_t j = 0; j < w; j++) o[j] = ri[j] + xr[j] * m[j];
            } else if (br) {
                for (int64_t j = 0; j < w; j++) o[j] = ri[j] + (xr[j] + br[j]);
            } else {
                for (int64_t j = 0; j < w; j++) o[j] = ri[j] + xr[j];
            }
        }
    }
}

/* ---- attention ----------------------------------------------------------------------- */

/* A strided batched gemm over the H heads of one sequence. */
static int head_gemm(mu_gemm_ctx_t *g, int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha,
                     const float *A, int64_t lda, int64_t sa, const float *Bm, int64_t ldb, int64_t sb, float *Cm,
                     int64_t ldc, int64_t sc, int64_t H) {
    mu_gemm_desc_t d = mu_gemm_desc(ta, tb, m, n, k, alpha, 0.0f);
    d.lda = lda;
    d.ldb = ldb;
    d.ldc = ldc;
    d.batch = H;
    d.stride_a = sa;
    d.stride_b = sb;
    d.stride_c = sc;
    return mu_gemm(g, &d, A, Bm, Cm);
}

/* Causal blocking: query rows are cut into blocks of tb rows; row block [r0, r1) only
 * needs keys [0, r1), and key block [c0, c1) only receives gradient from queries [c0, T).
 * With nb blocks the products cost (nb + 1) / (2 nb) of the full T x T ones. */
static int64_t attn_block(int64_t T, int64_t tb) {
    if (tb > 0) return tb < T ? tb : T;
    if (T < 128) return T;             /* one block: small T gains nothing */
    int64_t b = (T + 15) / 16;         /* at most 16 blocks ... */
    b = b < 64 ? 64 : b;               /* ... of at least 64 rows */
    return (b + 15) / 16 * 16;
}

int mu_op_attention_fwd(mu_gemm_ctx_t *g, float *out, float *att, const float *qkv, int64_t B, int64_t T,
                        int64_t C, int64_t H, int64_t tb) {
    return mu_op_attention_fwd_s(g, out, att, qkv, B, T, C, H, tb, 1.0f / sqrtf((float)(C / H)), NULL);
}

int mu_op_attention_fwd_s(mu_gemm_ctx_t *g, float *out, float *att, const float *qkv, int64_t B, int64_t T,
                          int64_t C, int64_t H, int64_t tb, float scale, double *row_stats) {
    int64_t hs = C / H, C3 = 3 * C, TT = T * T;
    tb = attn_block(T, tb);
    /* scores S[b,h][r0:r1, 0:r1] = scale * q[r0:r1] k[0:r1]^T; q, k (T,hs) read in place, row stride 3C */
    for (int64_t b = 0; b < B; b++)
        for (int64_t r0 = 0; r0 < T; r0 += tb) {
            int64_t r1 = r0 + tb < T ? r0 + tb : T;
            const float *q = qkv + (b * T + r0) * C3, *k = qkv + b * T * C3 + C;
            MU_TRY(head_gemm(g, 0, 1, r1 - r0, r1, hs, scale, q, C3, hs, k, C3, hs, att + b * H * TT + r0 * T, T,
                             TT, H));
        }
    /* causal softmax per row t over j <= t (max-subtracted); masked entries become exact 0 */
#pragma omp parallel for schedule(static)
    for (int64_t row = 0; row < B * H * T; row++) {
        int64_t t = row % T, n = t + 1;
        float *s = att + row * T;
        if (row_stats) { /* the raw scores, before the softmax overwrites them (stats.c) */
            double s1 = 0.0, s2 = 0.0, vmx = -INFINITY, vmxa = 0.0;
            for (int64_t j = 0; j < n; j++) {
                double v = (double)s[j], av = fabs(v);
                s1 += av;
                s2 += v * v;
                if (v > vmx || isnan(v)) vmx = v;
                if (av > vmxa || isnan(v)) vmxa = av;
            }
            double *o = row_stats + 4 * row;
            o[0] = s1, o[1] = s2, o[2] = vmx, o[3] = vmxa;
        }
        float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
        for (int64_t j = 0; j < n; j++) mx = s[j] > mx ? s[j] : mx;
        float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
        for (int64_t j = 0; j < n; j++) {
            float e = fexp(s[j] - mx);
            s[j] = e;
            sum += e;
        }
        float inv = 1.0f / sum;
        for (int64_t j = 0; j < n; j++) s[j] *= inv;
        for (int64_t j = n; j < T; j++) s[j] = 0.0f;
    }
    /* out[b, r0:r1, h] = P[r0:r1, 0:r1] v[0:r1], written with row stride C (heads side by side) */
    for (int64_t b = 0; b < B; b++)
        for (int64_t r0 = 0; r0 < T; r0 += tb) {
            int64_t r1 = r0 + tb < T ? r0 + tb : T;
            const float *v = qkv + b * T * C3 + 2 * C;
            MU_TRY(head_gemm(g, 0, 0, r1 - r0, hs, r1, 1.0f, att + b * H * TT + r0 * T, T, TT, v, C3, hs,
                             out + (b * T + r0) * C, C, hs, H));
        }
    return MU_OK;
}

int mu_op_attention_bwd(mu_gemm_ctx_t *g, float *dqkv, float *datt, const float *dout, const float *qkv,
                        const float *att, int64_t B, int64_t T, int64_t C, int64_t H, int64_t tb) {
    return mu_op_attention_bwd_s(g, dqkv, datt, dout, qkv, att, B, T, C, H, tb, 1.0f / sqrtf((float)(C / H)));
}

int mu_op_attention_bwd_s(mu_gemm_ctx_t *g, float *dqkv, float *datt, const float *dout, const float *qkv,
                          const float *att, int64_t B, int64_t T, int64_t C, int64_t H, int64_t tb, float scale) {
    int64_t hs = C / H, C3 = 3 * C, TT = T * T;
    tb = attn_block(T, tb);
    for (int64_t b = 0; b < B; b++) {
        const float *v = qkv + b * T * C3 + 2 * C, *dy = dout + b * T * C, *P = att + b * H * TT;
        float *dv = dqkv + b * T * C3 + 2 * C;
        for (int64_t r0 = 0; r0 < T; r0 += tb) {
            int64_t r1 = r0 + tb < T ? r0 + tb : T;
            /* dP[r0:r1, 0:r1] = dY[r0:r1] v[0:r1]^T */
            MU_TRY(head_gemm(g, 0, 1, r1 - r0, r1, hs, 1.0f, dy + r0 * C, C, hs, v, C3, hs,
                             datt + b * H * TT + r0 * T, T, TT, H));
            /* dv[c0:c1] = P[c0:T, c0:c1]^T dY[c0:T]  (key block c0 = r0) */
            MU_TRY(head_gemm(g, 1, 0, r1 - r0, hs, T - r0, 1.0f, P + r0 * T + r0, T, TT, dy + r0 * C, C, hs,
                             dv + r0 * C3, C3, hs, H));
        }
    }
    /* softmax backward per row: dS_j = P_j (dP_j - sum_i P_i dP_i), j <= t; 0 beyond */
#pragma omp parallel for schedule(static)
    for (int64_t row = 0; row < B * H * T; row++) {
        int64_t t = row % T, n = t + 1;
        const float *p = att + row * T;
        float *d = datt + row * T;
        float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
        for (int64_t j = 0; j < n; j++) dot += p[j] * d[j];
        for (int64_t j = 0; j < n; j++) d[j] = p[j] * (d[j] - dot);
        for (int64_t j = n; j < T; j++) d[j] = 0.0f;
    }
    for (int64_t b = 0; b < B; b++) {
        const float *q = qkv + b * T * C3, *k = q + C, *dS = datt + b * H * TT;
        float *dq = dqkv + b * T * C3, *dk = dq + C;
        for (int64_t r0 = 0; r0 < T; r0 += tb) {
            int64_t r1 = r0 + tb < T ? r0 + tb : T;
            /* dq[r0:r1] = scale dS[r0:r1, 0:r1] k[0:r1] */
            MU_TRY(head_gemm(g, 0, 0, r1 - r0, hs, r1, scale, dS + r0 * T, T, TT, k, C3, hs, dq + r0 * C3, C3, hs,
                             H));
            /* dk[c0:c1] = scale dS[c0:T, c0:c1]^T q[c0:T] */
            MU_TRY(head_gemm(g, 1, 0, r1 - r0, hs, T - r0, scale, dS + r0 * T + r0, T, TT, q + r0 * C3, C3, hs,
                             dk + r0 * C3, C3, hs, H));
        }
    }
    return MU_OK;
}

/* ---- softmax cross-entropy ----------------------------------------------------------- */

double mu_op_xent_fwd(float *lse, float *losses, const float *logits, const int32_t *y, int64_t N, int64_t V) {
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < N; r++) {
        const float *l = logits + r * V;
        float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
        for (int64_t j = 0; j < V; j++) mx = l[j] > mx ? l[j] : mx;
        float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
        for (int64_t j = 0; j < V; j++) sum += fexp(l[j] - mx);
        lse[r] = mx + logf(sum);
        losses[r] = lse[r] - l[y[r]];
    }
    double tot = 0.0;
    for (int64_t r = 0; r < N; r++) tot += losses[r];
    return tot / (double)N;
}

void mu_op_xent_bwd(float *dlogits, const float *logits, const float *lse, const int32_t *y, int64_t N, int64_t V,
                    float scale) {
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < N; r++) {
        const float *l = logits + r * V;
        float *d = dlogits + r * V, ls = lse[r];
#pragma omp simd
        for (int64_t j = 0; j < V; j++) d[j] = scale * fexp(l[j] - ls);
        d[y[r]] -= scale;
    }
}

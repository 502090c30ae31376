/* poly.c — odd matrix polynomials that push every singular value towards 1.
 *
 * One iteration with coefficients (a, b, c) on X (r, cc), r <= cc, row-major:
 *   A = X·Xᵀ                  (r, r)   symmetric rank-cc product (syrk) or gemm
 *   B = a·I + b·A + c·A·A     (r, r)   = p(XXᵀ) with p(y) = a + b·y + c·y²
 *   X ← B·X                   (r, cc)  = a·X + b·(XXᵀ)X + c·(XXᵀ)²X
 * On a singular value σ this is σ ← σ·(a + bσ² + cσ⁴), so singular vectors are kept
 * and the null space (σ = 0) stays exactly 0. Folding a·X into B's diagonal saves a
 * pass over X; X·Xᵀ through syrk costs r²cc flops instead of 2r²cc.
 *
 * Gram path (same polynomial, other association): with B_k = p_k(A_k) a polynomial in
 * A_k, X_{k+1} = B_k X_k gives A_{k+1} = B_k A_k B_k = B_k²·A_k (they commute), so
 *   A_0 = X_0X_0ᵀ;  B_k = p_k(A_k);  A_{k+1} = (B_k·B_kᵀ)·A_k;  Q = B_{T−1}···B_0;  X_T = Q·X_0
 * runs on r×r matrices only and touches X twice: 3r²cc + (6T−5)r³ flops (syrk for the
 * symmetric squares A·A and B·B) against T·(3r²cc + 2r³): cheaper once cc > 1.25r
 * (a 1:4 MLP matrix: 37r³ vs 70r³ at T = 5). Round-off in A compounds over the
 * iterations instead of being refreshed from X; in fp32 the ns5/cubic/quintic spec
 * figures still hold to 1e-4 (tests/test_orth.c runs both paths). pe always takes the
 * iterate path (see mu_orth_use_gram).
 *
 * Coefficient sources:
 *   ns5      Keller Jordan's Muon (3.4445, −4.7750, 2.0315) every iteration.
 *   pe       Polar Express (Amsel et al. 2025, arXiv 2505.16932; NoahAmsel/PolarExpress):
 *            optimal_composition(l=1e-3, 8 iterations, safety 1e-2, cushion 0.02). Rows 1–7 are
 *            stored already divided by the safety factor, p(x) ← p(x/1.01):
 *            (a, b, c) ← (a/1.01, b/1.01³, c/1.01⁵); row 8 = (15/8, −10/8, 3/8) unchanged and reused
 *            for every later iteration.
 *   cubic    Newton–Schulz (1.5, −0.5, 0): converges to the exact polar factor.
 *   quintic  (1.875, −1.25, 0.375) = (15/8, −10/8, 3/8): quintic Newton–Schulz, the second-order
 *            Taylor expansion of (XXᵀ)^(−1/2) around I. */
#include "base/util.h"
#include "orth/orth_impl.h"

/* Polar Express, adjusted rows (full precision from the raw rows of the released
 * generator output; tests/test_orth.c recomputes them from the raw rows). */
static const double pe_table[8][3] = {
    {8.2051604140055741, -22.901934987056048, 16.460724910180314},
    {4.0663951599427746, -2.8611540867551426, 0.51839952266947409},
    {3.9095949044379155, -2.8233517350395161, 0.52503697693900253},
    {3.2855640171986153, -2.4153019596359449, 0.48529406552790866},
    {2.2778732870839771, -1.619821765265441, 0.39848078704168355},
    {1.8725756512746514, -1.2307042574884297, 0.35851616209511666},
    {1.8564371097558889, -1.2132392819185351, 0.35679978941375945},
    {1.875, -1.25, 0.375},
};

int mu_orth_coeffs(mu_orth_kind_t kind, int32_t k, double *a, double *b, double *c) {
    MU_REQUIRE(a && b && c, "mu_orth_coeffs: NULL output");
    MU_REQUIRE(k >= 0, "mu_orth_coeffs: iteration %d must be >= 0", (int)k);
    switch (kind) {
    case MU_ORTH_NS5: *a = 3.4445, *b = -4.7750, *c = 2.0315; return MU_OK;
    case MU_ORTH_PE: {
        const double *row = pe_table[k < 8 ? k : 7];
        *a = row[0], *b = row[1], *c = row[2];
        return MU_OK;
    }
    case MU_ORTH_CUBIC: *a = 1.5, *b = -0.5, *c = 0.0; return MU_OK;
    case MU_ORTH_QUINTIC: *a = 1.875, *b = -1.25, *c = 0.375; return MU_OK;
    case MU_ORTH_EXACT:
        return mu_set_error(MU_EINVAL, "mu_orth_coeffs: kind exact is not a polynomial iteration");
    default:
        return mu_set_error(MU_EINVAL, "mu_orth_coeffs: kind %d unknown", (int)kind);
    }
}

/* bf16 scratch of the iterate path for nb items: X_k, A and B rounded, each 64-byte aligned. */
static int64_t align32(int64_t n) { return (n + 31) & ~(int64_t)31; }
size_t mu_orth_bf16_floats(int64_t nb, int64_t r, int64_t cc) {
    return (size_t)(align32(nb * r * cc) + 2 * align32(nb * r * r)) / 2 + 16; /* + 16: aligning the start */
}

/* nb products of one shape, items back to back (strides sa, sb, sc); nb = 1 is the plain
 * descriptor, so a single orthogonalization runs exactly the products it always ran. */
static mu_gemm_desc_t bdesc(const mu_orth_config_t *c, int64_t nb, int32_t ta, int32_t tb, int64_t m, int64_t n,
                            int64_t k, float alpha, float beta, int64_t sa, int64_t sb, int64_t sc) {
    mu_gemm_desc_t d = mu_gemm_desc(ta, tb, m, n, k, alpha, beta);
    d.prec = c->prec;
    if (nb > 1) d.batch = nb, d.stride_a = sa, d.stride_b = sb, d.stride_c = sc;
    return d;
}

/* One product of the iteration: on the fp32 operands, or (bf16) on their rounded copies. */
static int product(mu_gemm_ctx_t *g, const mu_gemm_desc_t *d, const float *A, const float *B, const uint16_t *Ah,
                   const uint16_t *Bh, float *C) {
    return Ah ? mu_gemm_bf16_operands(g, d, Ah, Bh, C) : mu_gemm(g, d, A, B, C);
}

/* A_i (r, r) = X_i·X_iᵀ for every item: syrk one by one (half the flops; OpenBLAS has no
 * batched syrk), else one batched gemm (on the bf16 copies Xh when given). */
static int gram_of_rows(mu_gemm_ctx_t *g, const mu_orth_config_t *c, int64_t nb, int64_t r, int64_t cc,
                        const float *X, const uint16_t *Xh, float *A) {
    const int64_t rc = r * cc, rr = r * r;
    if (c->use_syrk && !Xh) {
        for (int64_t i = 0; i < nb; i++)
            MU_TRY(mu_gemm_syrk(g, 0, r, cc, 1.0f, X + i * rc, cc, 0.0f, A + i * rr, r, c->prec));
        return MU_OK;
    }
    mu_gemm_desc_t d = bdesc(c, nb, 0, 1, r, r, cc, 1.0f, 0.0f, rc, rc, rr);
    return product(g, &d, X, X, Xh, Xh, A);
}

/* B_i += a·I for every item */
static void add_identity(float *B, int64_t nb, int64_t r, double a) {
    for (int64_t i = 0; i < nb; i++)
        for (int64_t j = 0; j < r; j++) B[i * r * r + j * r + j] += (float)a;
}

int mu_orth_poly_run(mu_gemm_ctx_t *g, const mu_orth_config_t *c, int64_t nb, int64_t r, int64_t cc, float *X0,
                     float *X1, float *A, float *B, float *H) {
    float *cur = (c->steps % 2 == 0) ? X0 : X1, *nxt = (cur == X0) ? X1 : X0;
    const int64_t rc = r * cc, rr = r * r;
    /* bf16: each operand is rounded once per iteration, where it is made — X_k feeds both
     * X·Xᵀ and B·X, A both sides of A·A — not once per product (X_k three times before).
     * The products see the same bf16 values either way, so the result is unchanged. */
    uint16_t *Xh = NULL, *Ah = NULL, *Bh = NULL;
    if (c->prec == MU_PREC_BF16) {
        MU_REQUIRE(H, "mu_orth: bf16 iteration without its bf16 workspace");
        Xh = (uint16_t *)(((uintptr_t)H + 63) & ~(uintptr_t)63);
        Ah = Xh + align32(nb * rc);
        Bh = Ah + align32(nb * rr);
    }
    for (int32_t k = 0; k < c->steps; k++) {
        double a, b, q;
        MU_TRY(mu_orth_coeffs(c->kind, k, &a, &b, &q));
        if (Xh) MU_TRY(mu_gemm_to_bf16(Xh, cur, nb * rc));
        /* A (r, r) = cur·curᵀ */
        MU_TRY(gram_of_rows(g, c, nb, r, cc, cur, Xh, A));
        /* B = b·A + q·A·A (A symmetric, so A·A needs no transpose), then + a·I */
        if (q != 0) {
            memcpy(B, A, (size_t)(nb * rr) * sizeof *B);
            if (Ah) MU_TRY(mu_gemm_to_bf16(Ah, A, nb * rr));
            mu_gemm_desc_t d = bdesc(c, nb, 0, 0, r, r, r, (float)q, (float)b, rr, rr, rr);
            MU_TRY(product(g, &d, A, A, Ah, Ah, B));
        } else {
            const float bf = (float)b;
            for (int64_t i = 0; i < nb * rr; i++) B[i] = bf * A[i];
        }
        add_identity(B, nb, r, a);
        /* nxt (r, cc) = B (r, r) · cur (r, cc) */
        if (Bh) MU_TRY(mu_gemm_to_bf16(Bh, B, nb * rr));
        mu_gemm_desc_t d = bdesc(c, nb, 0, 0, r, cc, r, 1.0f, 0.0f, rr, rc, rc);
        MU_TRY(product(g, &d, B, cur, Bh, Xh, nxt));
        float *t = cur;
        cur = nxt;
        nxt = t;
    }
    return MU_OK;
}

double mu_orth_poly_flops(int64_t r_, int64_t cc_, const mu_orth_config_t *c) {
    double r = (double)r_, cc = (double)cc_;
    int syrk = c->use_syrk && c->prec == MU_PREC_F32;
    double sq_big = syrk ? r * r * cc : 2 * r * r * cc; /* X·Xᵀ */
    double sq_small = syrk ? r * r * r : 2 * r * r * r; /* A·A or B·B */
    int gram = mu_orth_use_gram(r_, cc_, c);
    double total = (gram && c->steps > 0) ? sq_big + 2 * r * r * cc : 0;
    for (int32_t k = 0; k < c->steps; k++) {
        double a, b, q;
        if (mu_orth_coeffs(c->kind, k, &a, &b, &q) < 0) return 0;
        if (!gram) {
            total += sq_big + 2 * r * r * cc + (q != 0 ? 2 * r * r * r : 0);
            continue;
        }
        total += (q != 0 ? sq_small : 0)                       /* A·A */
                 + (k + 1 < c->steps ? sq_small + 2 * r * r * r : 0) /* B·Bᵀ, then ·A */
                 + (k > 0 ? 2 * r * r * r : 0);                /* Q ← B·Q */
    }
    return total;
}

int mu_orth_use_gram(int64_t r, int64_t cc, const mu_orth_config_t *c) {
    /* pe always iterates: its large early polynomials (row 1: 8.2, −22.9, 16.5) amplify
     * the round-off the Gram recursion carries in A — measured on spec(256,256,1e3):
     * T = 6 top singular value 1.0071 instead of 1.0012 (ns5 stays within 2e-5) */
    if (c->kind == MU_ORTH_PE || c->path == MU_ORTH_PATH_ITERATE || c->steps == 0) return 0;
    /* bf16 products never take it: Q = Π B_k grows to ~a^T (3.44^5 ≈ 490 on the small
     * singular directions) and rounding Q to 8 bits before Q·X adds errors of order
     * 490·2^-9·σ_max — measured on an AMX CPU: spec(256,512,1e3) gave σ ∈ [0.07, 216]
     * (fp32 Gram and bf16 iterate both stay in the ns5 band [0.111, 1.202]) */
    if (c->prec == MU_PREC_BF16) return 0;
    if (c->path == MU_ORTH_PATH_GRAM) return 1;
    mu_orth_config_t t = *c;
    t.path = MU_ORTH_PATH_ITERATE;
    double it = mu_orth_poly_flops(r, cc, &t);
    t.path = MU_ORTH_PATH_GRAM;
    return mu_orth_poly_flops(r, cc, &t) < 0.9 * it; /* a clear saving, not a tie */
}

/* C_i (r, r) = S_i·S_iᵀ of symmetric S_i (= S_i²) for every item, through syrk or gemm */
static int sym_square(mu_gemm_ctx_t *g, const mu_orth_config_t *c, int64_t nb, int64_t r, const float *S, float alpha,
                      float beta, float *C) {
    const int64_t rr = r * r;
    if (c->use_syrk) {
        for (int64_t i = 0; i < nb; i++)
            MU_TRY(mu_gemm_syrk(g, 0, r, r, alpha, S + i * rr, r, beta, C + i * rr, r, c->prec));
        return MU_OK;
    }
    mu_gemm_desc_t d = bdesc(c, nb, 0, 0, r, r, r, alpha, beta, rr, rr, rr);
    return mu_gemm(g, &d, S, S, C);
}

int mu_orth_gram_run(mu_gemm_ctx_t *g, const mu_orth_config_t *c, int64_t nb, int64_t r, int64_t cc, const float *X,
                     float *Xout, float *R) {
    const int64_t rc = r * cc, rr = r * r, all = nb * rr;
    float *A = R, *An = R + all, *B = R + 2 * all, *S = R + 3 * all, *Q = R + 4 * all, *Qn = R + 5 * all;
    if (c->steps == 0) {
        memcpy(Xout, X, (size_t)(nb * rc) * sizeof *Xout);
        return MU_OK;
    }
    /* A (r, r) = X·Xᵀ */
    MU_TRY(gram_of_rows(g, c, nb, r, cc, X, NULL, A));
    for (int32_t k = 0; k < c->steps; k++) {
        double a, b, q;
        MU_TRY(mu_orth_coeffs(c->kind, k, &a, &b, &q));
        /* B = a·I + b·A + q·A² */
        if (q != 0) {
            memcpy(B, A, (size_t)all * sizeof *B);
            MU_TRY(sym_square(g, c, nb, r, A, (float)q, (float)b, B));
        } else {
            const float bf = (float)b;
            for (int64_t i = 0; i < all; i++) B[i] = bf * A[i];
        }
        add_identity(B, nb, r, a);
        /* Q ← B·Q (Q_0 = I) */
        if (k == 0) {
            memcpy(Q, B, (size_t)all * sizeof *Q);
        } else {
            mu_gemm_desc_t d = bdesc(c, nb, 0, 0, r, r, r, 1.0f, 0.0f, rr, rr, rr);
            MU_TRY(mu_gemm(g, &d, B, Q, Qn));
            float *t = Q;
            Q = Qn;
            Qn = t;
        }
        /* A ← (B·Bᵀ)·A, not needed after the last step */
        if (k + 1 < c->steps) {
            MU_TRY(sym_square(g, c, nb, r, B, 1.0f, 0.0f, S));
            mu_gemm_desc_t d = bdesc(c, nb, 0, 0, r, r, r, 1.0f, 0.0f, rr, rr, rr);
            MU_TRY(mu_gemm(g, &d, S, A, An));
            float *t = A;
            A = An;
            An = t;
        }
    }
    /* Xout (r, cc) = Q (r, r) · X (r, cc) */
    mu_gemm_desc_t d = bdesc(c, nb, 0, 0, r, cc, r, 1.0f, 0.0f, rr, rc, rc);
    return mu_gemm(g, &d, Q, X, Xout);
}

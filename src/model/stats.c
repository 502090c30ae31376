/* stats.c — per-module activation statistics of the last forward (coordinate checks, spec
 * mup-and-muonpp.md §5): l1 = mean |x|, rms = sqrt(mean x²), max and max |x| of each module's
 * output, read from the activation arena the forward keeps for the backward.
 *
 * Two outputs are not kept as such and are derived:
 *   attn / mlp output   the residual's increment: res_mid - res_in = drop(c_proj(.) + b), and
 *                       res_out - res_mid; exact up to the one fp32 rounding of the add.
 *   attention logits    s_tj = a_attn q_t . k_j for j <= t: per-row sums recorded by the forward
 *                       when mu_gpt_record_module_stats is on, else recomputed from the stored
 *                       qkv (the forward overwrites the scores with softmax probabilities).
 * Determinism: every row is summarized by one thread in index order into its own partial sums,
 * which are then combined in row order, so the result does not depend on the thread count. */
#include <math.h>
#include <stdio.h>

#include "base/util.h"
#include "model/gpt_impl.h"

/* per-row partials: sum |x|, sum x², max x, max |x| */
typedef struct {
    double s1, s2, mx, mxa;
} part_t;

/* Combine rows [0, n) of partials in order into one record over `count` elements. */
static void finish(mu_gpt_module_stat_t *o, const part_t *p, int64_t n, int64_t count, const char *name,
                   int32_t layer) {
    double s1 = 0.0, s2 = 0.0, mx = -INFINITY, mxa = 0.0;
    for (int64_t r = 0; r < n; r++) {
        s1 += p[r].s1;
        s2 += p[r].s2;
        mx = p[r].mx > mx || isnan(p[r].mx) ? p[r].mx : mx;
        mxa = p[r].mxa > mxa || isnan(p[r].mxa) ? p[r].mxa : mxa;
    }
    memset(o, 0, sizeof *o);
    snprintf(o->name, sizeof o->name, "%s", name);
    o->layer = layer;
    o->count = count;
    o->l1 = s1 / (double)count;
    o->rms = sqrt(s2 / (double)count);
    o->max = mx;
    o->max_abs = mxa;
}

/* Rows of x (rows, cols), or of x - sub when sub != NULL (a residual increment). */
static void stat_dense(mu_gpt_module_stat_t *o, part_t *p, const float *x, const float *sub, int64_t rows,
                       int64_t cols, const char *name, int32_t layer) {
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        const float *a = x + r * cols, *b = sub ? sub + r * cols : NULL;
        double s1 = 0.0, s2 = 0.0, mx = -INFINITY, mxa = 0.0;
        for (int64_t j = 0; j < cols; j++) {
            double v = b ? (double)(a[j] - b[j]) : (double)a[j];
            double av = fabs(v);
            s1 += av;
            s2 += v * v;
            if (v > mx || isnan(v)) mx = v;
            if (av > mxa || isnan(v)) mxa = av;
        }
        p[r] = (part_t){s1, s2, mx, mxa};
    }
    finish(o, p, rows, rows * cols, name, layer);
}

/* Scaled causal scores of one block: row (b, h, t) holds s_tj = scale * q_t . k_j, j <= t,
 * with q_t, k_j the hs-wide slices of head h in the fused qkv (B,T,3C) rows. */
static void stat_scores(mu_gpt_module_stat_t *o, part_t *p, const float *qkv, int64_t B, int64_t T, int64_t C,
                        int64_t H, float scale, const char *name, int32_t layer) {
    int64_t hs = C / H, C3 = 3 * C, rows = B * H * T;
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        int64_t b = r / (H * T), h = (r / T) % H, t = r % T;
        const float *q = qkv + (b * T + t) * C3 + h * hs;
        double s1 = 0.0, s2 = 0.0, mx = -INFINITY, mxa = 0.0;
        for (int64_t j = 0; j <= t; j++) {
            const float *k = qkv + (b * T + j) * C3 + C + h * hs;
            float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
            for (int64_t i = 0; i < hs; i++) dot += q[i] * k[i];
            double v = (double)(scale * dot), av = fabs(v);
            s1 += av;
            s2 += v * v;
            if (v > mx || isnan(v)) mx = v;
            if (av > mxa || isnan(v)) mxa = av;
        }
        p[r] = (part_t){s1, s2, mx, mxa};
    }
    /* causal pairs per (b, h): T (T + 1) / 2 */
    finish(o, p, rows, B * H * (T * (T + 1) / 2), name, layer);
}

/* Rows recorded by the forward (ops.c: sum |s|, sum s², max s, max |s| per row). */
static void stat_recorded(mu_gpt_module_stat_t *o, part_t *p, const double *rows, int64_t n, int64_t count,
                          const char *name, int32_t layer) {
    for (int64_t r = 0; r < n; r++) p[r] = (part_t){rows[4 * r], rows[4 * r + 1], rows[4 * r + 2], rows[4 * r + 3]};
    finish(o, p, n, count, name, layer);
}

int32_t mu_gpt_n_module_stats(const mu_gpt_t *m) { return m ? 3 + 4 * m->cfg.n_layer : 0; }

int mu_gpt_module_stats(const mu_gpt_t *m, mu_gpt_module_stat_t *out, int32_t cap, int32_t *n) {
    MU_REQUIRE(m && out && n, "mu_gpt_module_stats: model, out or n is NULL");
    *n = 0;
    int32_t need = mu_gpt_n_module_stats(m);
    MU_REQUIRE(cap >= need, "mu_gpt_module_stats: cap = %d, the model has %d modules (3 + 4 n_layer)", cap, need);
    MU_REQUIRE(m->acts_valid, "mu_gpt_module_stats: no activations to read (call mu_gpt_forward first; its "
                              "mu_gpt_backward overwrites the logits)");
    const mu_gpt_config_t *c = &m->cfg;
    int64_t B = m->B, T = m->T, N = B * T, C = c->d_model, V = c->vocab, H = c->n_head;
    int64_t rows_max = N > B * H * T ? N : B * H * T;
    part_t *p = malloc((size_t)rows_max * sizeof *p);
    if (!p) return mu_set_error(MU_ENOMEM, "mu_gpt_module_stats: out of memory for %lld row sums", (long long)rows_max);
    const float scale = mu_gpt_attn_scale(c);
    int32_t k = 0;
    char nm[MU_GPT_STAT_NAME_MAX];
    stat_dense(&out[k++], p, m->enc, NULL, N, C, "emb", -1);
    const float *res = m->enc;
    for (int32_t l = 0; l < c->n_layer; l++) {
        const acts_t *a = &m->la[l];
        snprintf(nm, sizeof nm, "h%d.attn_logits", l);
        if (m->att_valid)
            stat_recorded(&out[k++], p, mu_gpt_att_rows(m, l), B * H * T, B * H * (T * (T + 1) / 2), nm, l);
        else
            stat_scores(&out[k++], p, a->qkv, B, T, C, H, scale, nm, l);
        snprintf(nm, sizeof nm, "h%d.attn", l);
        stat_dense(&out[k++], p, a->res_mid, res, N, C, nm, l); /* x + attn - x */
        snprintf(nm, sizeof nm, "h%d.mlp", l);
        stat_dense(&out[k++], p, a->res_out, a->res_mid, N, C, nm, l);
        snprintf(nm, sizeof nm, "h%d.resid", l);
        stat_dense(&out[k++], p, a->res_out, NULL, N, C, nm, l);
        res = a->res_out;
    }
    stat_dense(&out[k++], p, m->lnf, NULL, N, C, "ln_f", -1);
    stat_dense(&out[k++], p, m->logits, NULL, N, V, "logits", -1);
    free(p);
    *n = k;
    return MU_OK;
}

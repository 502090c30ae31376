/* muon/coordcheck.h — the coordinate check of microsoft/mup (spec mup-and-muonpp.md §5).
 *
 * For each parametrization (SP, μP), width and seed, a fresh 2-layer GPT with a fixed head size
 * takes a few optimizer steps on one fixed batch; the forward of step t (t = 1 is at init) records
 * l1 = mean |x| of every module output (mu_gpt_module_stats). Under μP, l1 must not depend on
 * the width: microsoft/mup's rule 1/1.2 < l1(4w)/l1(w) < 1.2 for every t and module over pairs
 * with w >= min_width; attention logits are judged by their slope, |log2 ratio| <= 0.5 per 4x.
 *
 * Intended usage:
 *   1. mu_coordcheck_config_t c = mu_coordcheck_config_default(); set widths, vocab, ...
 *   2. mu_coordcheck_run(&c, x, y, gemm, progress, user, &res) with one (batch, seq_len) batch.
 *   3. For each (param, t, module): gather res.l1 over widths (mu_coordcheck_at) and pass it to
 *      mu_coordcheck_judge with mu_coordcheck_module_rule(name).
 *   4. mu_coordcheck_result_free(&res).
 */
#ifndef MUON_COORDCHECK_H
#define MUON_COORDCHECK_H

#include "muon/model.h"
#include "muon/optim.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MU_CC_MAX_WIDTHS 16

typedef struct {
    const int32_t *widths;  /* ascending, distinct, each a multiple of d_head; borrowed */
    int32_t n_widths;       /* 2 .. MU_CC_MAX_WIDTHS */
    int32_t d_head;         /* fixed head size; n_head = width / d_head (default 32) */
    int32_t n_layer;        /* default 2 */
    int32_t seq_len;        /* T of the batch (default 128) */
    int32_t batch;          /* B of the batch (default 16) */
    int32_t vocab;          /* V (default 256, byte level) */
    int32_t bias;           /* Linear and LayerNorm biases (default 1) */
    int32_t base_width;     /* μP base width, m = width / base_width (default 128) */
    int32_t zero_readout;   /* 1 (default): lm_head starts at zero under both parametrizations */
    int32_t n_seeds;        /* seeds seed, seed+1, ... averaged (default 5) */
    uint64_t seed;          /* default 1 */
    int32_t n_steps;        /* t = 1 .. n_steps recorded, n_steps - 1 updates (default 3) */
    mu_optim_config_t optim;/* the run's optimizer (default AdamW, lr 1e-2); param and
                               width_mult are set per run; hparams borrowed */
} mu_coordcheck_config_t;

/* widths 64,128,256,512,1024 (static), d_head 32, 2 layers, T 128, B 16, V 256, bias, base 128,
 * zero readout, 5 seeds from 1, 3 steps, AdamW preset with lr 1e-2. */
MU_API mu_coordcheck_config_t mu_coordcheck_config_default(void);
MU_API int mu_coordcheck_config_check(const mu_coordcheck_config_t *c);

enum { MU_CC_SP = 0, MU_CC_MUP = 1 };

typedef struct {
    int32_t n_widths, n_steps, n_modules, n_seeds;
    int32_t widths[MU_CC_MAX_WIDTHS];
    char (*module)[MU_GPT_STAT_NAME_MAX]; /* n_modules names, forward order */
    /* [param][width][t - 1][module], mu_coordcheck_at: seed means (and the l1 seed sd) */
    double *l1, *l1_sd, *rms, *max;
    double *loss;                          /* [param][width][t - 1], seed mean */
    double elapsed_s;
} mu_coordcheck_result_t;

/* Flat index of (param, width index, t in 1..n_steps, module) into l1/l1_sd/rms/max. */
MU_API size_t mu_coordcheck_at(const mu_coordcheck_result_t *r, int32_t param, int32_t wi, int32_t t, int32_t mod);

/* One line per finished (param, width, seed) run, for progress display. */
typedef void (*mu_coordcheck_progress_fn)(const char *line, void *user);

MU_API int mu_coordcheck_run(const mu_coordcheck_config_t *c,
                             const int32_t *x, const int32_t *y, /* (batch, seq_len) tokens, targets */
                             mu_gemm_ctx_t *gemm,                 /* borrowed */
                             mu_coordcheck_progress_fn cb, void *user, /* cb may be NULL */
                             mu_coordcheck_result_t *out);        /* free with mu_coordcheck_result_free */
MU_API void mu_coordcheck_result_free(mu_coordcheck_result_t *r);

/* ---- the pass rule ---- */
typedef enum {
    MU_CC_RULE_RATIO = 0, /* 1/1.2 < l1(4w)/l1(w) < 1.2 */
    MU_CC_RULE_SLOPE = 1  /* |log2(l1(4w)/l1(w))| <= 0.5 (attention logits) */
} mu_cc_rule_t;

typedef struct {
    int32_t n_pairs;
    int32_t w[MU_CC_MAX_WIDTHS];       /* pair i is (w[i], 4 w[i]) */
    double ratio[MU_CC_MAX_WIDTHS];    /* l1(4w) / l1(w); 1 when both are exactly 0 */
    int32_t ok[MU_CC_MAX_WIDTHS];
    double worst;                      /* the ratio farthest from 1 on a log scale */
    int32_t pass;                      /* every pair ok */
} mu_cc_verdict_t;

/* Judge one series l1[i] at widths[i] (ascending): every pair (w, 4w) of listed widths with
 * w >= min_width. Non-finite values or a zero against a non-zero fail; MU_EINVAL when no pair
 * qualifies. */
MU_API int mu_coordcheck_judge(const int32_t *widths, const double *l1, int32_t n, int32_t min_width,
                               int32_t rule, mu_cc_verdict_t *out);
/* MU_CC_RULE_SLOPE for "*attn_logits" modules, else MU_CC_RULE_RATIO. */
MU_API int32_t mu_coordcheck_module_rule(const char *module);

#ifdef __cplusplus
}
#endif
#endif

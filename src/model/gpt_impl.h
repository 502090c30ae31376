/* gpt_impl.h — the GPT model's internal layout (src/model only): parameter views, the
 * activation arena and the state of the last forward. gpt.c owns it; stats.c reads the
 * activations the forward kept for the backward. Not installed. */
#ifndef MU_MODEL_GPT_IMPL_H
#define MU_MODEL_GPT_IMPL_H

#include "muon/model.h"

/* pointers to one block's tensors (bias pointers NULL when cfg.bias == 0) */
typedef struct {
    float *ln1w, *ln1b, *qkvw, *qkvb, *attpw, *attpb, *ln2w, *ln2b, *fcw, *fcb, *fcpw, *fcpb;
} layer_t;

/* per-block activations kept for the backward pass */
typedef struct {
    float *ln1, *ln1_mean, *ln1_rstd; /* (N,C), (N), (N) */
    float *qkv;                       /* (N,3C) */
    float *att;                       /* (B,H,T,T) softmax probabilities */
    float *atty;                      /* (N,C) heads concatenated, input of attn.c_proj */
    float *res_mid;                   /* (N,C) residual after the attention half */
    float *ln2, *ln2_mean, *ln2_rstd; /* (N,C), (N), (N) */
    float *fch, *fchg;                /* (N,4C) pre-activation (bias added) and gelu output */
    float *res_out;                   /* (N,C) block output */
} acts_t;

struct mu_gpt {
    mu_gpt_config_t cfg;
    int32_t max_batch;
    mu_gemm_ctx_t *gemm;
    int32_t n_params;
    mu_param_t *params;
    float *pdata, *pgrad; /* arenas */
    int64_t numel;
    float *adata; /* activation arena */
    size_t abytes;
    /* parameter views */
    float *wte, *wpe, *lnfw, *lnfb, *head;
    layer_t *lw;
    /* activations */
    acts_t *la;
    float *enc;                      /* (N,C) x0 */
    float *lnf, *lnf_mean, *lnf_rstd; /* (N,C), (N), (N) */
    float *logits, *lse, *losses;    /* (N,V), (N), (N) */
    float *tmp_a, *tmp_b;            /* (N,C) scratch */
    float *dres, *dqkv, *dbig, *datt; /* backward scratch: (N,C), (N,3C), (N,4C), (B,H,T,T) */
    int32_t *targets;                /* (N) copy of y */
    int32_t *inputs;                 /* (N) copy of x */
    /* mode and last forward */
    int32_t training;
    uint64_t seed, step, micro;
    int32_t B, T, have_targets;
    int32_t acts_valid; /* 1: activations and logits hold the last forward (cleared by backward) */
    double *att_rows;   /* (L, max_batch·H·T, 4) attention-logit row statistics, when recording */
    int32_t record_att; /* mu_gpt_record_module_stats */
    int32_t att_valid;  /* 1: att_rows hold the last forward */
};

/* Layer l's block of att_rows: rows (b, h, t) of the last forward, 4 doubles each. */
static inline double *mu_gpt_att_rows(const mu_gpt_t *m, int32_t l) {
    return m->att_rows + (size_t)l * (size_t)m->max_batch * (size_t)m->cfg.n_head * (size_t)m->cfg.seq_len * 4;
}

#endif

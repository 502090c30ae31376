/* muon/param.h — parameter records: the registry that optimizers, μP and checkpoints walk.
 *
 * A parameter is a name (nanoGPT state-dict key), a shape in PyTorch layout
 * (Linear: (out, in); embeddings: (V, d)), a role, fan_in/fan_out and pointers to
 * its weights and gradient inside the model's arenas. Views describe how a
 * matrix splits into logical matrices (fused qkv = 3 row blocks of (C, C)) and
 * heads (each logical matrix = n_head row blocks of d_head rows).
 *
 * This header lives below both the model and the optimizers: optimizers see
 * arrays of mu_param_t, never the model.
 */
#ifndef MUON_PARAM_H
#define MUON_PARAM_H

#include "muon/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    MU_ROLE_EMBED = 0,   /* token or position embedding table (V, d) */
    MU_ROLE_HIDDEN = 1,  /* 2-D matrix inside a block */
    MU_ROLE_HEAD = 2,    /* output head (V, d) */
    MU_ROLE_GAIN = 3,    /* LayerNorm weight */
    MU_ROLE_BIAS = 4     /* any bias, incl. LayerNorm bias */
} mu_role_t;

#define MU_PARAM_NAME_MAX 96

typedef struct {
    char name[MU_PARAM_NAME_MAX]; /* "transformer.h.0.attn.c_attn.weight" */
    int32_t ndim;                 /* 1 or 2 */
    int64_t shape[2];             /* (rows, cols); shape[1] = 1 when ndim == 1 */
    int64_t numel;
    mu_role_t role;
    int64_t fan_in, fan_out;
    int32_t layer;                /* block index, -1 outside blocks */
    int32_t n_split;              /* logical matrices stacked by rows (3 for fused qkv, else 1) */
    int32_t n_head;               /* heads per logical matrix (rows split evenly), 0 if n/a */
    int32_t tied;                 /* 1 on wte when the head is tied to it (no lm_head record then) */
    float *data;                  /* weights (inside the parameter arena) */
    float *grad;                  /* gradient (inside the gradient arena) */
} mu_param_t;

MU_API const char *mu_role_name(mu_role_t r);
MU_API int mu_role_parse(const char *s, mu_role_t *out);

#ifdef __cplusplus
}
#endif
#endif

/* load.h — open a model from --ckpt (run directory or safetensors file) for sample/eval. */
#ifndef MUON_LOAD_H
#define MUON_LOAD_H

#include "muon/train.h"

/* Option rows that describe a model when a weights file has no __metadata__
 * (shared by sample and eval; `over` is a mu_gpt_config_t with bias = tie = -1). */
#define CLI_MODEL_OVERRIDE_OPTS(over)                                                        \
    {"n-layer", OPT_I32, &(over).n_layer, "model config when the file has no __metadata__", 0}, \
        {"n-head", OPT_I32, &(over).n_head, "(same)", 0},                                    \
        {"d-model", OPT_I32, &(over).d_model, "(same)", 0},                                  \
        {"seq-len", OPT_I32, &(over).seq_len, "(same)", 0},                                  \
        {"vocab", OPT_I32, &(over).vocab, "(same)", 0},                                      \
        {"bias", OPT_I32, &(over).bias, "(same) 0/1", 0},                                    \
        {"tie", OPT_I32, &(over).tie, "(same) 0/1", 0}

/* Config comes from the file's __metadata__; fields of `over` that are > 0 replace it
 * (needed for a weights-only PyTorch file without metadata). */
int cli_load_model(const char *ckpt, const mu_gpt_config_t *over, int32_t max_batch, mu_gemm_ctx_t **gemm,
                   mu_gpt_t **model);

#endif

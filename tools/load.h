/* load.h — open a model from --ckpt (run directory or safetensors file) for sample/eval. */
#ifndef MUON_LOAD_H
#define MUON_LOAD_H

#include "muon/train.h"

/* Config comes from the file's __metadata__; fields of `over` that are > 0 replace it
 * (needed for a weights-only PyTorch file without metadata). */
int cli_load_model(const char *ckpt, const mu_gpt_config_t *over, int32_t max_batch, mu_gemm_ctx_t **gemm,
                   mu_gpt_t **model);

#endif

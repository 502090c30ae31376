/* load.c — model loading shared by `muon sample` and `muon eval`. */
#include "load.h"

int cli_load_model(const char *ckpt, const mu_gpt_config_t *over, int32_t max_batch, mu_gemm_ctx_t **gemm,
                   mu_gpt_t **model) {
    char path[4096];
    int rc = mu_ckpt_resolve(ckpt, path, sizeof path);
    if (rc != MU_OK) return rc;
    mu_gpt_config_t cfg = mu_gpt_config_default();
    int have = mu_ckpt_read_config(path, &cfg) == MU_OK;
    if (over->n_layer > 0) cfg.n_layer = over->n_layer, have = 1;
    if (over->n_head > 0) cfg.n_head = over->n_head;
    if (over->d_model > 0) cfg.d_model = over->d_model;
    if (over->seq_len > 0) cfg.seq_len = over->seq_len;
    if (over->vocab > 0) cfg.vocab = over->vocab;
    if (over->bias >= 0) cfg.bias = over->bias;
    if (over->tie >= 0) cfg.tie = over->tie;
    if (!have)
        return mu_set_error(MU_EFORMAT, "%s: no model config in __metadata__; pass --n-layer, --n-head, --d-model, "
                                        "--seq-len and --vocab",
                            path);
    cfg.dropout = 0;
    if ((rc = mu_gpt_config_check(&cfg)) != MU_OK) return rc;
    if ((rc = mu_gemm_ctx_init(gemm, MU_ENGINE_AUTO)) != MU_OK) return rc;
    if ((rc = mu_gpt_init(model, &cfg, max_batch, *gemm)) != MU_OK ||
        (rc = mu_ckpt_load_weights(path, *model)) != MU_OK) {
        mu_gpt_free(*model);
        *model = NULL;
        mu_gemm_ctx_free(*gemm);
        *gemm = NULL;
        return rc;
    }
    return MU_OK;
}

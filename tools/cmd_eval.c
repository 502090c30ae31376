/* cmd_eval.c — `muon eval`: val loss of a checkpoint.
 * Definition (docs/cli.md): the val split is cut into consecutive non-overlapping windows of
 * seq_len tokens (x = val[wT..wT+T), y = val[wT+1..wT+T+1)); val_loss is the mean over all
 * positions of all windows of -log p(y | context within the window), in nats. */
#include <string.h>

#include "cli.h"
#include "load.h"
#include "options.h"

int cmd_eval(int argc, char **argv) {
    const char *ckpt = NULL, *data = NULL;
    int32_t batch = 8, json = 0, help = 0;
    int64_t windows = 0;
    int32_t threads = 0;
    mu_gpt_config_t over = {0};
    over.bias = over.tie = -1;
    const opt_t opts[] = {
        {"ckpt", OPT_STR, &ckpt, "run directory or safetensors file", 0},
        {"data", OPT_STR, &data, "dataset (its val split is used)", 0},
        {"batch", OPT_I32, &batch, "windows per forward pass", 0},
        {"windows", OPT_I64, &windows, "evaluate only the first N windows (0: all)", 0},
        {"json", OPT_FLAG, &json, "print a JSON object", 0},
        {"threads", OPT_I32, &threads, "compute threads (0: all cores)", 0},
        CLI_MODEL_OVERRIDE_OPTS(over),
        {"help", OPT_FLAG, &help, "this help", 1},
    };
    int rc_cli = opt_cli("eval", opts, sizeof opts / sizeof opts[0], argc, argv, &help,
                         "usage: muon eval --ckpt RUN_DIR|FILE --data PATH [options]\n\n"
                         "Prints `val_loss <x>`: mean cross-entropy (nats) over consecutive non-overlapping\n"
                         "seq_len windows of the val split.\n");
    if (rc_cli >= 0) return rc_cli;
    if (!ckpt || !data) {
        fprintf(stderr, "muon eval: --ckpt and --data are required\n");
        return 2;
    }
    if (batch <= 0) {
        fprintf(stderr, "muon eval: --batch must be positive\n");
        return 2;
    }
    mu_dataset_t *d = NULL;
    if (mu_threads_set(threads) != MU_OK) return cli_fail("eval", -1);
    mu_gemm_ctx_t *gemm = NULL;
    mu_gpt_t *m = NULL;
    int rc = 0;
    if (mu_dataset_open(&d, data) != MU_OK) return cli_fail("eval", -1);
    /* A --seq-len other than the trained one is refused by the wpe shape check. */
    if (cli_load_model(ckpt, &over, batch, &gemm, &m) != MU_OK) {
        rc = cli_fail("eval", -1);
        goto out;
    }
    if (mu_dataset_vocab(d) > mu_gpt_config(m)->vocab) {
        rc = cli_fail("eval", mu_set_error(MU_EMISMATCH, "%s: data vocab %d exceeds the model's vocab %d", data,
                                           mu_dataset_vocab(d), mu_gpt_config(m)->vocab));
        goto out;
    }
    double loss;
    int64_t ntok;
    if (mu_eval_loss(m, d, batch, windows, &loss, &ntok) != MU_OK) {
        rc = cli_fail("eval", -1);
        goto out;
    }
    if (json)
        printf("{\"val_loss\": %.6f, \"tokens\": %lld, \"seq_len\": %d}\n", loss, (long long)ntok,
               mu_gpt_config(m)->seq_len);
    else
        printf("val_loss %.6f\n", loss);
out:
    mu_gpt_free(m);
    mu_gemm_ctx_free(gemm);
    mu_dataset_free(d);
    return rc;
}

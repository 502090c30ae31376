/* cmd_sample.c — `muon sample`: text from a checkpoint (temperature, top-k, seed).
 * Generation recomputes the full window each token (at most seq_len tokens of context):
 * simple, exact, and fast enough for the small models muon trains on a CPU. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "load.h"
#include "options.h"

/* Draw a token from softmax(logits / temp) restricted to the top_k largest. */
static int32_t draw(const float *logits, int32_t V, float temp, int32_t top_k, mu_rng_t *rng, float *probs) {
    if (temp <= 0) { /* greedy */
        int32_t best = 0;
        for (int32_t v = 1; v < V; v++)
            if (logits[v] > logits[best]) best = v;
        return best;
    }
    float kth = -INFINITY;
    if (top_k > 0 && top_k < V) { /* k-th largest by repeated max (V is small) */
        memcpy(probs, logits, sizeof(float) * (size_t)V);
        for (int32_t i = 0; i < top_k; i++) {
            int32_t b = 0;
            for (int32_t v = 1; v < V; v++)
                if (probs[v] > probs[b]) b = v;
            kth = probs[b];
            probs[b] = -INFINITY;
        }
    }
    float mx = -INFINITY;
    for (int32_t v = 0; v < V; v++)
        if (logits[v] >= kth && logits[v] > mx) mx = logits[v];
    double sum = 0;
    for (int32_t v = 0; v < V; v++) {
        probs[v] = logits[v] >= kth ? expf((logits[v] - mx) / temp) : 0.0f;
        sum += probs[v];
    }
    double u = mu_rng_uniform(rng) * sum, acc = 0;
    for (int32_t v = 0; v < V; v++) {
        acc += probs[v];
        if (u < acc && probs[v] > 0) return v;
    }
    for (int32_t v = V - 1; v >= 0; v--)
        if (probs[v] > 0) return v;
    return 0;
}

int cmd_sample(int argc, char **argv) {
    const char *ckpt = NULL, *prompt = "\n";
    float temp = 0.8f;
    int32_t top_k = 40, len = 300, help = 0;
    uint64_t seed = 1;
    int32_t threads = 0;
    mu_gpt_config_t over = {0};
    over.bias = over.tie = -1;
    const opt_t opts[] = {
        {"ckpt", OPT_STR, &ckpt, "run directory or safetensors file", 0},
        {"prompt", OPT_STR, &prompt, "text to continue", 0},
        {"length", OPT_I32, &len, "tokens to generate", 0},
        {"temperature", OPT_F32, &temp, "softmax temperature (0: greedy)", 0},
        {"top-k", OPT_I32, &top_k, "sample among the k most likely tokens (0: all)", 0},
        {"seed", OPT_U64, &seed, "sampling seed", 0},
        {"threads", OPT_I32, &threads, "compute threads (0: all cores)", 0},
        CLI_MODEL_OVERRIDE_OPTS(over),
        {"help", OPT_FLAG, &help, "this help", 1},
    };
    int rc_cli = opt_cli("sample", opts, sizeof opts / sizeof opts[0], argc, argv, &help,
                         "usage: muon sample --ckpt RUN_DIR|FILE [--prompt TEXT] [options]\n");
    if (rc_cli >= 0) return rc_cli;
    if (!ckpt) {
        fprintf(stderr, "muon sample: --ckpt RUN_DIR|FILE is required\n");
        return 2;
    }
    if (len < 0 || top_k < 0 || !(temp >= 0)) {
        fprintf(stderr, "muon sample: --length, --top-k and --temperature must be >= 0\n");
        return 2;
    }
    if (mu_threads_set(threads) != MU_OK) return cli_fail("sample", -1);
    mu_gemm_ctx_t *gemm = NULL;
    mu_gpt_t *m = NULL;
    if (cli_load_model(ckpt, &over, 1, &gemm, &m) != MU_OK) return cli_fail("sample", -1);
    const mu_gpt_config_t *cfg = mu_gpt_config(m);
    const mu_tokenizer_t *tok = mu_tokenizer_byte();
    if (cfg->vocab != tok->vocab)
        fprintf(stderr, "muon sample: note: model vocab %d, decoding ids < 256 as bytes\n", cfg->vocab);
    size_t plen = strlen(prompt);
    int64_t cap = (int64_t)plen + len + 1;
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)cap);
    float *probs = malloc(sizeof(float) * (size_t)cfg->vocab);
    int rc = 0;
    if (!ids || !probs) {
        rc = cli_fail("sample", mu_set_error(MU_ENOMEM, "out of memory"));
        goto out;
    }
    int64_t n = tok->encode(tok, prompt, plen, ids, cap);
    if (n <= 0) {
        ids[0] = '\n';
        n = 1;
    }
    fwrite(prompt, 1, plen, stdout);
    mu_rng_t rng;
    mu_rng_seed(&rng, seed);
    mu_gpt_set_train(m, 0, 0, 0, 0);
    for (int32_t i = 0; i < len; i++) {
        int32_t T = (int32_t)(n < cfg->seq_len ? n : cfg->seq_len);
        if (mu_gpt_forward(m, ids + n - T, NULL, 1, T, NULL) != MU_OK) {
            rc = cli_fail("sample", -1);
            goto out;
        }
        const float *lg = mu_gpt_logits(m) + (size_t)(T - 1) * cfg->vocab;
        int32_t next = draw(lg, cfg->vocab, temp, top_k, &rng, probs);
        ids[n++] = next;
        char buf[16];
        int32_t k = tok->decode(tok, next, buf, sizeof buf);
        if (k > 0) fwrite(buf, 1, (size_t)k, stdout);
        fflush(stdout);
    }
    fputc('\n', stdout);
out:
    free(ids);
    free(probs);
    mu_gpt_free(m);
    mu_gemm_ctx_free(gemm);
    return rc;
}

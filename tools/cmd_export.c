/* cmd_export.c — `muon export --fold IN --out FILE.safetensors`: a μP checkpoint rewritten as
 * an equivalent plain GPT-2 (param sp) with the multipliers folded into the weights
 * (mu_gpt_fold_mup, src/train/fold.c), loadable by nanoGPT / scripts/load_in_pytorch.py. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "options.h"

int cmd_export(int argc, char **argv) {
    const char *in = NULL, *out = NULL;
    int32_t help = 0, threads = 0;
    const opt_t opts[] = {
        {"fold", OPT_STR, &in, "fold the μP multipliers of this run directory or safetensors file", 0},
        {"out", OPT_STR, &out, "the SP safetensors file to write", 0},
        {"threads", OPT_I32, &threads, "compute threads (0: all cores)", 0},
        {"help", OPT_FLAG, &help, "this help", 1},
    };
    int rc_cli = opt_cli("export", opts, sizeof opts / sizeof opts[0], argc, argv, &help,
                         "usage: muon export --fold RUN_DIR|FILE --out FILE.safetensors\n\n"
                         "Writes an equivalent checkpoint with the μP multipliers folded into the weights, so that\n"
                         "a plain GPT-2 forward (nanoGPT; scripts/load_in_pytorch.py) gives the same logits:\n"
                         "wte, wpe x alpha_in; lm_head x alpha_out/m; the query rows of c_attn x\n"
                         "attn_scale*sqrt(d_head). The written config is param = sp. A tied model whose alpha_in\n"
                         "differs from alpha_out/m is written untied (lm_head = alpha_out/m * wte).\n"
                         "An SP input is written unchanged.\n");
    if (rc_cli >= 0) return rc_cli;
    if (!in || !out) {
        fprintf(stderr, "muon export: --fold IN and --out FILE are required\n");
        return 2;
    }
    if (mu_threads_set(threads) != MU_OK) return cli_fail("export", -1);
    char path[4096];
    mu_gpt_config_t sc, dc;
    if (mu_ckpt_resolve(in, path, sizeof path) != MU_OK || mu_ckpt_read_config(path, &sc) != MU_OK)
        return cli_fail("export", -1);
    sc.dropout = 0;
    if (mu_gpt_fold_config(&sc, &dc) != MU_OK) return cli_fail("export", -1);
    mu_gemm_ctx_t *g = NULL;
    mu_gpt_t *src = NULL, *dst = NULL;
    int rc = 0;
    if (mu_gemm_ctx_init(&g, MU_ENGINE_OPENBLAS) != MU_OK || mu_gpt_init(&src, &sc, 1, g) != MU_OK ||
        mu_ckpt_load_weights(path, src) != MU_OK || mu_gpt_init(&dst, &dc, 1, g) != MU_OK ||
        mu_gpt_fold_mup(src, dst) != MU_OK) {
        rc = cli_fail("export", -1);
        goto done;
    }
    /* provenance: where it came from and what was folded */
    char fold[512];
    snprintf(fold, sizeof fold,
             "{\"param\":\"%s\",\"alpha_in\":%.9g,\"out_mult\":%.9g,\"attn_scale\":%.9g,\"width_mult\":%.9g,"
             "\"untied\":%s}",
             mu_gpt_param_name(sc.param), sc.param == MU_PARAM_MUP && sc.alpha_in > 0 ? (double)sc.alpha_in : 1.0,
             (double)mu_gpt_out_mult(&sc), (double)mu_gpt_attn_scale(&sc), (double)mu_gpt_width_mult(&sc),
             sc.tie && !dc.tie ? "true" : "false");
    const char *keys[] = {"folded_from", "fold"}, *vals[] = {path, fold};
    if (mu_ckpt_save_weights(out, dst, keys, vals, 2) != MU_OK) {
        rc = cli_fail("export", -1);
        goto done;
    }
    if (sc.param != MU_PARAM_MUP) printf("note: %s is already SP: written unchanged\n", path);
    else if (sc.tie && !dc.tie)
        printf("note: tied model with alpha_in %g != alpha_out/m %g: written untied (separate lm_head.weight)\n",
               sc.alpha_in > 0 ? (double)sc.alpha_in : 1.0, (double)mu_gpt_out_mult(&sc));
    printf("wrote %s (param sp, tie %s): alpha_in %g, alpha_out/m %g, query x %g folded in\n", out,
           dc.tie ? "true" : "false", sc.param == MU_PARAM_MUP && sc.alpha_in > 0 ? (double)sc.alpha_in : 1.0,
           (double)mu_gpt_out_mult(&sc), (double)(mu_gpt_attn_scale(&sc) * sqrtf((float)(sc.d_model / sc.n_head))));
done:
    mu_gpt_free(dst);
    mu_gpt_free(src);
    mu_gemm_ctx_free(g);
    return rc;
}

/* cmd_coordcheck.c — `muon coordcheck`: the coordinate check of spec mup-and-muonpp.md §5 for SP
 * and μP in one invocation (library: muon/coordcheck.h). Prints a table (module × t × param with
 * l1 per width, the 4x ratios and the verdict), writes coordcheck.csv and coordcheck.svg with
 * --out; exit 0 when μP passes, 1 when it fails (SP failing is expected), 2 on usage errors. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "muon/coordcheck.h"
#include "muon/report.h"
#include "options.h"

#define DEFAULT_DATA "../shared/data/tinyshakespeare.txt"

static const char *usage_text =
    "usage: muon coordcheck [--data PATH] [--out DIR] [--widths 64,128,256,512,1024] [options]\n\n"
    "Coordinate check (microsoft/mup; spec mup-and-muonpp.md §5), SP and μP side by side: per width,\n"
    "a 2-layer GPT with head size --d-head (n_head = width / d_head, untied, zero-initialised readout\n"
    "under both) takes --steps - 1 optimizer steps on one fixed batch (B x T from --data, drawn with\n"
    "--seed); the forward of step t (t = 1 at init) records l1 = mean |x| of every module output,\n"
    "averaged over --seeds seeds. Pass rule: 1/1.2 < l1(4w)/l1(w) < 1.2 for every t and module over\n"
    "pairs w >= --min-width; attention logits by slope, |log2 ratio| <= 0.5 per 4x.\n"
    "LR factor 1 (no warmup, no schedule), no gradient clipping. Default LR: 1e-2 for adamw (10x its\n"
    "preset default), the preset's own default for other presets.\n"
    "Exit status: 0 μP passes, 1 μP fails (or a runtime error), 2 usage error. SP is expected to fail.\n";

/* "64,128,256" -> ascending ints; returns count or -1. */
static int parse_widths(const char *s, int32_t *w, int cap) {
    int n = 0;
    const char *p = s;
    while (p && *p) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 1 || v > 65536 || n == cap) return -1;
        w[n++] = (int32_t)v;
        if (*end == ',') end++;
        else if (*end) return -1;
        p = end;
    }
    return n;
}

static void progress_line(const char *line, void *user) {
    (void)user;
    fprintf(stderr, "coordcheck: %s\n", line);
}

/* The pairs (w, 4w) judged: from the verdict of any series (they depend on the widths only). */
static void print_table(const mu_coordcheck_result_t *r, int32_t min_width, int *fails) {
    const int32_t W = r->n_widths;
    double l1[MU_CC_MAX_WIDTHS];
    mu_cc_verdict_t v;
    for (int32_t i = 0; i < W; i++) l1[i] = 1.0;
    mu_coordcheck_judge(r->widths, l1, W, min_width, MU_CC_RULE_RATIO, &v);
    printf("%-5s %2s %-16s", "param", "t", "module");
    for (int32_t i = 0; i < W; i++) {
        char h[24];
        snprintf(h, sizeof h, "l1@%d", r->widths[i]);
        printf(" %10s", h);
    }
    for (int32_t q = 0; q < v.n_pairs; q++) {
        char h[24];
        snprintf(h, sizeof h, "4x@%d", v.w[q]);
        printf(" %8s", h);
    }
    printf("  rule   verdict\n");
    for (int32_t p = 0; p < 2; p++) {
        fails[p] = 0;
        for (int32_t t = 1; t <= r->n_steps; t++)
            for (int32_t k = 0; k < r->n_modules; k++) {
                for (int32_t i = 0; i < W; i++) l1[i] = r->l1[mu_coordcheck_at(r, p, i, t, k)];
                int32_t rule = mu_coordcheck_module_rule(r->module[k]);
                mu_coordcheck_judge(r->widths, l1, W, min_width, rule, &v);
                fails[p] += !v.pass;
                printf("%-5s %2d %-16s", p == MU_CC_MUP ? "mup" : "sp", t, r->module[k]);
                for (int32_t i = 0; i < W; i++) printf(" %10.4g", l1[i]);
                for (int32_t q = 0; q < v.n_pairs; q++) printf(" %8.3f", v.ratio[q]);
                printf("  %-6s %s\n", rule == MU_CC_RULE_SLOPE ? "slope" : "ratio", v.pass ? "ok" : "FAIL");
            }
    }
}

/* Seed-mean max attention logit per layer, and the loss, per width. */
static void print_extras(const mu_coordcheck_result_t *r) {
    printf("\nmax attention logit (seed mean of the per-forward max) and loss (seed mean):\n");
    for (int32_t p = 0; p < 2; p++)
        for (int32_t t = 1; t <= r->n_steps; t++) {
            for (int32_t k = 0; k < r->n_modules; k++) {
                if (mu_coordcheck_module_rule(r->module[k]) != MU_CC_RULE_SLOPE) continue;
                printf("%-5s %2d %-16s", p == MU_CC_MUP ? "mup" : "sp", t, r->module[k]);
                for (int32_t i = 0; i < r->n_widths; i++) printf(" %10.4g", r->max[mu_coordcheck_at(r, p, i, t, k)]);
                printf("\n");
            }
            printf("%-5s %2d %-16s", p == MU_CC_MUP ? "mup" : "sp", t, "loss");
            for (int32_t i = 0; i < r->n_widths; i++)
                printf(" %10.4f", r->loss[((size_t)p * (size_t)r->n_widths + (size_t)i) * (size_t)r->n_steps +
                                          (size_t)(t - 1)]);
            printf("\n");
        }
}

static int write_csv(const mu_coordcheck_result_t *r, const char *path) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return mu_set_error(MU_ENOMEM, "%s: cannot build the CSV in memory", path);
    fprintf(f, "param,width,t,module,l1,l1_sd,rms,max\n");
    for (int32_t p = 0; p < 2; p++)
        for (int32_t i = 0; i < r->n_widths; i++)
            for (int32_t t = 1; t <= r->n_steps; t++)
                for (int32_t k = 0; k < r->n_modules; k++) {
                    size_t o = mu_coordcheck_at(r, p, i, t, k);
                    fprintf(f, "%s,%d,%d,%s,%.9g,%.9g,%.9g,%.9g\n", p == MU_CC_MUP ? "mup" : "sp", r->widths[i], t,
                            r->module[k], r->l1[o], r->l1_sd[o], r->rms[o], r->max[o]);
                }
    fclose(f);
    int rc = mu_file_write_atomic(path, buf, len);
    free(buf);
    return rc;
}

/* Two rows of panels (SP, μP), one column per t: log-log l1 vs width, one line per module. */
static int write_svg(const mu_coordcheck_result_t *r, const char *path, const char *title) {
    int32_t W = r->n_widths, S = r->n_steps, M = r->n_modules, n_pan = 2 * S;
    double *xs = malloc((size_t)W * sizeof(double));
    double *ys = malloc((size_t)n_pan * (size_t)M * (size_t)W * sizeof(double));
    mu_plot_series_t *se = calloc((size_t)n_pan * (size_t)M, sizeof *se);
    mu_plot_panel_t *pan = calloc((size_t)n_pan, sizeof *pan);
    char(*ttl)[64] = calloc((size_t)n_pan, sizeof *ttl);
    int rc = MU_OK;
    if (!xs || !ys || !se || !pan || !ttl) {
        rc = mu_set_error(MU_ENOMEM, "%s: out of memory for the plot", path);
        goto out;
    }
    for (int32_t i = 0; i < W; i++) xs[i] = r->widths[i];
    for (int32_t p = 0; p < 2; p++)
        for (int32_t t = 1; t <= S; t++) {
            int32_t pi = p * S + (t - 1);
            for (int32_t k = 0; k < M; k++) {
                double *y = ys + ((size_t)pi * (size_t)M + (size_t)k) * (size_t)W;
                for (int32_t i = 0; i < W; i++) y[i] = r->l1[mu_coordcheck_at(r, p, i, t, k)];
                /* palette colours for the first 10 modules, then dashed ones */
                se[pi * M + k] = (mu_plot_series_t){.label = r->module[k], .x = xs, .y = y, .n = W,
                                                    .markers = 1, .dashed = k >= 10};
            }
            snprintf(ttl[pi], sizeof ttl[pi], "%s, t = %d", p == MU_CC_MUP ? "μP" : "SP", t);
            pan[pi] = mu_plot_panel_default();
            pan[pi].title = ttl[pi];
            pan[pi].xlabel = "width";
            pan[pi].ylabel = "l1 = mean |x|";
            pan[pi].xscale = MU_AXIS_LOG2;
            pan[pi].yscale = MU_AXIS_LOG10;
            pan[pi].series = se + (size_t)pi * (size_t)M;
            pan[pi].n_series = M;
            pan[pi].legend = t == 1; /* one legend per row */
        }
    mu_plot_figure_t fig = {.title = title, .panels = pan, .n_panels = n_pan, .cols = S, .panel_w = 420,
                            .panel_h = 360};
    rc = mu_plot_svg_write(&fig, path);
out:
    free(xs);
    free(ys);
    free(se);
    free(pan);
    free(ttl);
    return rc;
}

int cmd_coordcheck(int argc, char **argv) {
    mu_coordcheck_config_t c = mu_coordcheck_config_default();
    const char *data = NULL, *out = NULL, *widths_s = "64,128,256,512,1024", *optim = "adamw", *gemm_s = "auto";
    int32_t min_width = 128, threads = 0, help = 0;
    uint64_t seed = 1;
    float lr = 0.0f, aux_lr = 0.0f, wd = -1.0f;
    opt_list_t hparams = {0};
    const opt_t opts[] = {
        {"data", OPT_STR, &data, "text file, llm.c shard or `muon prepare` directory [" DEFAULT_DATA "]", 0},
        {"out", OPT_STR, &out, "write DIR/coordcheck.csv and DIR/coordcheck.svg", 0},
        {"widths", OPT_STR, &widths_s, "comma-separated widths, ascending, multiples of --d-head", 0},
        {"min-width", OPT_I32, &min_width, "judge pairs (w, 4w) with w >= this", 0},
        {"d-head", OPT_I32, &c.d_head, "head size (fixed; n_head = width / d_head)", 0},
        {"n-layer", OPT_I32, &c.n_layer, "transformer blocks", 0},
        {"seq-len", OPT_I32, &c.seq_len, "T of the batch", 0},
        {"batch", OPT_I32, &c.batch, "B of the batch", 0},
        {"bias", OPT_BOOL, &c.bias, "biases in Linear and LayerNorm layers", 0},
        {"base-width", OPT_I32, &c.base_width, "mup base width (width_mult = width / base_width)", 0},
        {"zero-readout", OPT_BOOL, &c.zero_readout, "zero-init lm_head under both parametrizations", 0},
        {"seeds", OPT_I32, &c.n_seeds, "seeds averaged", 0},
        {"seed", OPT_U64, &seed, "first seed (init seeds seed..seed+seeds-1; the batch is drawn with it)", 0},
        {"steps", OPT_I32, &c.n_steps, "steps t = 1..steps recorded (steps - 1 updates)", 0},
        {"optim", OPT_STR, &optim, "optimizer preset (muon optim list)", 0},
        {"lr", OPT_F32, &lr, "LR (0: 1e-2 for adamw, the preset's default otherwise)", 0},
        {"aux-lr", OPT_F32, &aux_lr, "LR of the AdamW groups of Muon-type presets (0: preset default)", 0},
        {"weight-decay", OPT_F32, &wd, "decoupled weight decay (< 0: preset default)", 0},
        {"opt", OPT_LIST, &hparams, "optimizer hyperparameter GROUP.TRANSFORM.KEY=VALUE (as muon train)", 0},
        {"threads", OPT_I32, &threads, "threads for OpenBLAS, oneDNN and muon's loops (0: all cores)", 0},
        {"gemm", OPT_STR, &gemm_s, "matrix-product engine: auto, openblas, onednn", 0},
        {"help", OPT_FLAG, &help, "this help", 1},
    };
    int rc_cli = opt_cli("coordcheck", opts, sizeof opts / sizeof opts[0], argc, argv, &help, usage_text);
    if (rc_cli >= 0) return rc_cli;

    int32_t widths[MU_CC_MAX_WIDTHS];
    int nw = parse_widths(widths_s, widths, MU_CC_MAX_WIDTHS);
    if (nw < 2) {
        fprintf(stderr, "muon coordcheck: --widths '%s': need 2 to %d comma-separated positive integers\n", widths_s,
                MU_CC_MAX_WIDTHS);
        return 2;
    }
    mu_optim_config_t oc;
    if (mu_optim_config_for_preset(optim, &oc) != MU_OK) {
        fprintf(stderr, "muon coordcheck: --optim: %s\n", mu_last_error());
        return 2;
    }
    if (lr > 0.0f) oc.lr = lr;
    else if (!strcmp(optim, "adamw")) oc.lr = 1e-2f;
    if (aux_lr > 0.0f) oc.aux_lr = aux_lr;
    if (wd >= 0.0f) oc.weight_decay = wd;
    oc.hparams = hparams.v;
    oc.n_hparams = hparams.n;
    c.optim = oc;
    c.widths = widths;
    c.n_widths = nw;
    c.seed = seed;
    mu_engine_t eng;
    if (mu_engine_parse(gemm_s, &eng) != MU_OK) {
        fprintf(stderr, "muon coordcheck: --gemm: '%s' is not auto, openblas or onednn\n", gemm_s);
        return 2;
    }
    if (mu_coordcheck_config_check(&c) != MU_OK) {
        fprintf(stderr, "muon coordcheck: %s\n", mu_last_error());
        return 2;
    }
    {   /* the pairs must exist before any work is done */
        double ones[MU_CC_MAX_WIDTHS];
        mu_cc_verdict_t v;
        for (int i = 0; i < nw; i++) ones[i] = 1.0;
        if (mu_coordcheck_judge(widths, ones, nw, min_width, MU_CC_RULE_RATIO, &v) != MU_OK) {
            fprintf(stderr, "muon coordcheck: --widths %s --min-width %d: no pair (w, 4w) to judge\n", widths_s,
                    min_width);
            return 2;
        }
    }
    if (!data) {
        if (access(DEFAULT_DATA, R_OK) != 0) {
            fprintf(stderr, "muon coordcheck: no --data given and the default %s is not readable from here; pass "
                            "--data PATH (a text file, an llm.c shard or a `muon prepare` directory)\n",
                    DEFAULT_DATA);
            return 2;
        }
        data = DEFAULT_DATA;
    }
    if (mu_threads_set(threads) != MU_OK) return cli_fail("coordcheck", -1);
    mu_dataset_t *d = NULL;
    if (mu_dataset_open(&d, data) != MU_OK) return cli_fail("coordcheck", -1);
    c.vocab = mu_dataset_vocab(d);
    size_t nt = (size_t)c.batch * (size_t)c.seq_len;
    int32_t *x = malloc(nt * sizeof(int32_t)), *y = malloc(nt * sizeof(int32_t));
    mu_gemm_ctx_t *gemm = NULL;
    mu_coordcheck_result_t res = {0};
    int rc = 0;
    if (!x || !y) {
        rc = cli_fail("coordcheck", mu_set_error(MU_ENOMEM, "out of memory for the batch"));
        goto done;
    }
    /* the fixed batch: the train split's windows for (seed, step 0, micro 0) */
    if (mu_dataset_sample(d, seed, 0, 0, c.batch, c.seq_len, x, y) != MU_OK || mu_gemm_ctx_init(&gemm, eng) != MU_OK) {
        rc = cli_fail("coordcheck", -1);
        goto done;
    }
    printf("# muon coordcheck: data %s, widths %s, d_head %d, n_layer %d, T %d, B %d, V %d, %d seeds from %llu,\n"
           "#   t = 1..%d, optim %s lr %g (aux_lr %g, wd %g), base width %d, zero readout %s, threads %d\n"
           "# l1 = mean |x| (seed mean); 4x@w = l1(4w)/l1(w); pass: 1/1.2 < ratio < 1.2, attn_logits "
           "|log2 ratio| <= 0.5\n",
           data, widths_s, c.d_head, c.n_layer, c.seq_len, c.batch, c.vocab, c.n_seeds, (unsigned long long)seed,
           c.n_steps, optim, (double)oc.lr, (double)oc.aux_lr, (double)oc.weight_decay, c.base_width,
           c.zero_readout ? "yes" : "no", mu_threads_get());
    fflush(stdout);
    if (mu_coordcheck_run(&c, x, y, gemm, progress_line, NULL, &res) != MU_OK) {
        rc = cli_fail("coordcheck", -1);
        goto done;
    }
    int fails[2];
    print_table(&res, min_width, fails);
    print_extras(&res);
    int n_series = res.n_steps * res.n_modules;
    printf("\nSP: %s (%d of %d series fail%s)\n", fails[MU_CC_SP] ? "FAIL" : "pass", fails[MU_CC_SP], n_series,
           fails[MU_CC_SP] ? "; expected" : "");
    printf("μP: %s (%d of %d series fail)\n", fails[MU_CC_MUP] ? "FAIL" : "PASS", fails[MU_CC_MUP], n_series);
    printf("time: %.1f s\n", res.elapsed_s);
    if (out) {
        char p[4096], title[256];
        if (mu_mkdir_p(out) != MU_OK) {
            rc = cli_fail("coordcheck", -1);
            goto done;
        }
        snprintf(p, sizeof p, "%s/coordcheck.csv", out);
        if (write_csv(&res, p) != MU_OK) {
            rc = cli_fail("coordcheck", -1);
            goto done;
        }
        printf("wrote %s\n", p);
        snprintf(p, sizeof p, "%s/coordcheck.svg", out);
        snprintf(title, sizeof title, "coordinate check: %s lr %g, d_head %d, %d layers, T %d, B %d, %d seeds", optim,
                 (double)oc.lr, c.d_head, c.n_layer, c.seq_len, c.batch, c.n_seeds);
        if (write_svg(&res, p, title) != MU_OK) {
            rc = cli_fail("coordcheck", -1);
            goto done;
        }
        printf("wrote %s\n", p);
    }
    rc = fails[MU_CC_MUP] ? 1 : 0;
done:
    mu_coordcheck_result_free(&res);
    mu_gemm_ctx_free(gemm);
    mu_dataset_free(d);
    free(x);
    free(y);
    return rc;
}

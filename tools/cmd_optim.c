/* cmd_optim.c — `muon optim list` and `muon optim show NAME`: the registered optimizer
 * presets, their groups and chains, every hyperparameter with its source, and the state
 * they keep. State sizes are measured by building each preset on a reference model
 * (the first-look bench model: byte vocab 256, d 128, 4 layers, 4 heads, T 256). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "options.h"

typedef struct {
    mu_gemm_ctx_t *gemm;
    mu_gpt_t *model;
} ref_model_t;

static int ref_open(ref_model_t *r, const mu_gpt_config_t *mc) {
    memset(r, 0, sizeof *r);
    int rc = mu_gemm_ctx_init(&r->gemm, MU_ENGINE_OPENBLAS);
    if (rc == MU_OK) rc = mu_gpt_init(&r->model, mc, 1, r->gemm);
    return rc;
}

static void ref_close(ref_model_t *r) {
    mu_gpt_free(r->model);
    mu_gemm_ctx_free(r->gemm);
}

/* A preset built on the reference model with its defaults plus the overrides. */
static int build(ref_model_t *r, const char *name, const opt_list_t *hp, mu_optim_t **o) {
    mu_optim_config_t c;
    int rc = mu_optim_config_for_preset(name, &c);
    if (rc != MU_OK) return rc;
    if (hp) {
        c.hparams = hp->v;
        c.n_hparams = hp->n;
    }
    return mu_optim_init(o, &c, mu_gpt_params(r->model), mu_gpt_n_params(r->model), r->gemm);
}

static double floats_per_elem(const mu_optim_t *o, mu_gpt_t *m) {
    const int64_t n = mu_gpt_numel(m);
    return n ? (double)mu_optim_state_floats(o) / (double)n : 0.0;
}

static mu_gpt_config_t ref_config(void) {
    mu_gpt_config_t mc = mu_gpt_config_default();
    mc.vocab = 256;
    mc.d_model = 128;
    mc.n_layer = 4;
    mc.n_head = 4;
    mc.seq_len = 256;
    return mc;
}

static void print_ref(const mu_gpt_config_t *mc) {
    printf("# state sizes on the reference model: V %d, d %d, L %d, H %d, T %d, tied %s (%lld parameters)\n",
           mc->vocab, mc->d_model, mc->n_layer, mc->n_head, mc->seq_len, mc->tie ? "yes" : "no",
           (long long)mu_gpt_config_n_params(mc, 0));
}

static int optim_list(void) {
    mu_gpt_config_t mc = ref_config();
    ref_model_t r;
    if (ref_open(&r, &mc) != MU_OK) {
        ref_close(&r);
        return cli_fail("optim list", -1);
    }
    print_ref(&mc);
    static char buf[16384];
    int rc = 0;
    for (int32_t i = 0; i < mu_optim_preset_count(); i++) {
        mu_optim_preset_info_t pi;
        mu_optim_t *o = NULL;
        if (mu_optim_preset_info(i, &pi) != MU_OK || build(&r, pi.name, NULL, &o) != MU_OK) {
            rc = cli_fail("optim list", -1);
            break;
        }
        printf("\n%-20s lr %-8g aux lr %-8g state %.2f floats/param  [%s]\n  %s\n", pi.name, (double)pi.lr,
               (double)pi.aux_lr, floats_per_elem(o, r.model), pi.confidence, pi.summary);
        mu_optim_explain(o, 0, buf, sizeof buf);
        printf("%s\n", buf);
        mu_optim_free(o);
    }
    ref_close(&r);
    return rc;
}

static int optim_show(const char *name, const opt_list_t *hp) {
    mu_gpt_config_t mc = ref_config();
    ref_model_t r;
    mu_optim_t *o = NULL;
    if (ref_open(&r, &mc) != MU_OK || build(&r, name, hp, &o) != MU_OK) {
        ref_close(&r);
        return cli_fail("optim show", -1);
    }
    int32_t idx = 0;
    mu_optim_preset_info_t pi = {0};
    for (; idx < mu_optim_preset_count(); idx++)
        if (mu_optim_preset_info(idx, &pi) == MU_OK && !strcmp(pi.name, name)) break;
    static char buf[32768];
    printf("preset      %s\nsummary     %s\nsource      %s\nconfidence  %s\n", pi.name, pi.summary, pi.source,
           pi.confidence);
    printf("default lr  %g (aux %g)\n", (double)pi.lr, (double)pi.aux_lr);
    print_ref(&mc);
    printf("state       %.3f floats per parameter element (%zu floats)\n", floats_per_elem(o, r.model),
           mu_optim_state_floats(o));
    printf("# [source]: --flag (config field, preset default unless given), preset (row constant),\n"
           "# default (transform default), --opt (override). Set any key with --opt GROUP.TRANSFORM.KEY=VALUE\n"
           "# (structural keys fix the state layout: a resumed run must use the same values)\n\n");
    mu_optim_explain(o, 1, buf, sizeof buf);
    printf("%s", buf);
    mu_optim_free(o);
    ref_close(&r);
    return 0;
}

static void usage(FILE *f) {
    fprintf(f, "usage: muon optim list\n"
               "       muon optim show NAME [--opt GROUP.TRANSFORM.KEY=VALUE ...]\n\n"
               "list: every optimizer preset with its default LR, confidence label, state floats per\n"
               "      parameter and each group's roles and chain.\n"
               "show: one preset's full chain: every hyperparameter of every link, its value and where\n"
               "      it comes from; --opt previews overrides exactly as `muon train --opt` applies them.\n"
               "State sizes are measured on a reference model (V 256, d 128, L 4, H 4, T 256).\n");
}

int cmd_optim(int argc, char **argv) {
    int32_t help = 0;
    opt_list_t hp = {0};
    const opt_t opts[] = {
        {"opt", OPT_LIST, &hp, "hyperparameter override GROUP.TRANSFORM.KEY=VALUE (show)", 0},
        {"help", OPT_FLAG, &help, "this help", 1},
    };
    const char *pos[2];
    int n_pos = 0;
    char err[512];
    if (opt_parse_argv(opts, 2, argc, argv, pos, &n_pos, 2, err, sizeof err) != 0) {
        fprintf(stderr, "muon optim: %s\n", err);
        return 2;
    }
    if (help) {
        usage(stdout);
        opt_usage(opts, 2, stdout);
        return 0;
    }
    if (n_pos == 1 && !strcmp(pos[0], "list") && hp.n == 0) return optim_list();
    if (n_pos == 2 && !strcmp(pos[0], "show")) return optim_show(pos[1], &hp);
    if (n_pos >= 1 && !strcmp(pos[0], "show")) fprintf(stderr, "muon optim: show needs a preset NAME\n");
    else if (n_pos >= 1 && strcmp(pos[0], "list") != 0) fprintf(stderr, "muon optim: unknown subcommand '%s'\n", pos[0]);
    usage(stderr);
    return 2;
}

/* muon.c — entry point of the `muon` command: dispatches to cmd_<name>(). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "coretype.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    {"prepare", cmd_prepare, "turn text files into token shards (llm.c format)"},
    {"train", cmd_train, "train a GPT with AdamW or a Muon-family optimizer"},
    {"sample", cmd_sample, "generate text from a checkpoint"},
    {"eval", cmd_eval, "val loss of a checkpoint on a dataset"},
    {"export", cmd_export, "export --fold: a μP checkpoint as plain GPT-2 weights (multipliers folded in)"},
    {"optim", cmd_optim, "optimizer presets: list, show NAME (chains, hyperparameters, state)"},
    {"sweep", cmd_sweep, "run `muon train` over a grid; optimal LR per width (muTransfer)"},
    {"report", cmd_report, "SVG reports: curves|spectral RUN_DIR..., transfer SWEEP_DIR..."},
    {"coordcheck", cmd_coordcheck, "coordinate check: module l1 vs width under SP and μP (exit 0: μP passes)"},
    {"info", cmd_info, "CPU features, BLAS/oneDNN setup and GEMM speed"},
};

static void usage(FILE *f) {
    fprintf(f, "usage: muon <command> [options]   (muon <command> --help for details)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].help);
}

int cli_fail(const char *cmd, int rc) {
    fprintf(stderr, "muon %s: %s\n", cmd, rc < 0 ? mu_last_error() : "failed");
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("muon %s\n", MU_VERSION_STRING);
        return 0;
    }
    /* An OpenBLAS that misdetects this CPU runs generic kernels 3-4x slower: re-exec once
     * with the right OPENBLAS_CORETYPE (docs/compute.md). */
    cli_openblas_reexec(argv);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "muon: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}

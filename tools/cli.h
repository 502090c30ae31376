/* cli.h — the muon command-line tool: one cmd_<name>() per subcommand file.
 * Each returns the process exit code (0 ok, 1 runtime failure, 2 usage error)
 * and handles --help itself. Errors print one line: "muon <cmd>: <message>". */
#ifndef MUON_CLI_H
#define MUON_CLI_H

#include "muon/train.h"
#include "options.h"

int cmd_info(int argc, char **argv);
int cmd_prepare(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_optim(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_coordcheck(int argc, char **argv);

/* `muon report spectral` (report_spectral.c) and `muon report transfer` (report_transfer.c),
 * dispatched by cmd_report. */
int cmd_report_spectral(int argc, char **argv);
int cmd_report_transfer(int argc, char **argv);
/* Flags and RUN_DIR... of `muon report WHAT` (cmd_report.c): returns -1 to go on, else the exit
 * code (2 usage error, 0 after --help). */
int cli_report_args(const char *what, const opt_t *opts, size_t n_opts, int argc, char **argv, const char *usage,
                    const int32_t *help, const char **dirs, int *n_dirs, int max_dirs);
/* Last path component without trailing slashes ("runs/a/" -> "a"). */
void cli_base_name(const char *path, char *out, size_t cap);

/* Print "muon <cmd>: <mu_last_error()>" to stderr and return 1. */
int cli_fail(const char *cmd, int rc);

#endif

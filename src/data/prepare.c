/* prepare.c — text -> out_dir/{train,val}_000000.bin (llm.c shards) + meta.json. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cJSON.h>

#include "base/util.h"
#include "data/data_internal.h"

mu_prepare_config_t mu_prepare_config_default(void) {
    return (mu_prepare_config_t){.tokenizer = "byte", .val_fraction = 0.1, .source = NULL};
}

/* Tokenize text and write one shard; *n_out gets the token count. */
static int tokenize_write(const mu_tokenizer_t *tok, const char *path, const char *text, size_t len, int64_t *n_out) {
    int32_t *ids = malloc((len ? len : 1) * sizeof *ids); /* every tokenizer emits <= 1 id per byte */
    if (!ids) return mu_set_error(MU_ENOMEM, "%s: cannot allocate %zu token ids", path, len);
    int64_t n = tok->encode(tok, text, len, ids, (int64_t)len);
    int rc = n < 0 ? (int)n : mu_shard_write(path, ids, n, tok->vocab);
    free(ids);
    *n_out = n < 0 ? 0 : n;
    return rc;
}

int mu_prepare_text(const char *out_dir, const char *train_text, size_t train_len, const char *val_text,
                    size_t val_len, const mu_prepare_config_t *cfg) {
    if (!out_dir || (!train_text && train_len) || (!val_text && val_len))
        return mu_set_error(MU_EINVAL, "mu_prepare_text: NULL argument");
    mu_prepare_config_t c = cfg ? *cfg : mu_prepare_config_default();
    MU_REQUIRE(c.val_fraction >= 0 && c.val_fraction < 1, "prepare: val_fraction %g must be in [0, 1)",
               c.val_fraction);
    const mu_tokenizer_t *tok;
    MU_TRY(mu_tokenizer_by_name(c.tokenizer, &tok));
    char split[160];
    if (!val_text) {
        /* nanoGPT's rule: the first int(n * (1 - f)) bytes train, the rest val */
        size_t nt = (size_t)((double)train_len * (1.0 - c.val_fraction));
        val_text = train_text + nt;
        val_len = train_len - nt;
        train_len = nt;
        snprintf(split, sizeof split, "last %g of the input bytes is val", c.val_fraction);
    } else {
        snprintf(split, sizeof split, "separate val text");
    }
    MU_REQUIRE(train_len > 0, "prepare: the train text is empty");
    MU_TRY(mu_mkdir_p(out_dir));

    char path[4096];
    int64_t n_train = 0, n_val = 0;
    snprintf(path, sizeof path, "%s/train_000000.bin", out_dir);
    MU_TRY(tokenize_write(tok, path, train_text, train_len, &n_train));
    snprintf(path, sizeof path, "%s/val_000000.bin", out_dir);
    MU_TRY(tokenize_write(tok, path, val_text, val_len, &n_val));

    cJSON *j = cJSON_CreateObject();
    if (!j) return mu_set_error(MU_ENOMEM, "prepare: out of memory");
    cJSON_AddStringToObject(j, "format", "llm.c token shards (muon prepare)");
    cJSON_AddNumberToObject(j, "format_version", 1);
    cJSON_AddStringToObject(j, "tokenizer", tok->name);
    cJSON_AddNumberToObject(j, "vocab_size", tok->vocab);
    cJSON_AddNumberToObject(j, "token_bytes", tok->vocab <= 65536 ? 2 : 4);
    cJSON_AddStringToObject(j, "source", c.source ? c.source : "");
    cJSON_AddStringToObject(j, "split", split);
    cJSON_AddNumberToObject(j, "n_train_tokens", (double)n_train);
    cJSON_AddNumberToObject(j, "n_val_tokens", (double)n_val);
    const char *tr[] = {"train_000000.bin"}, *va[] = {"val_000000.bin"};
    cJSON_AddItemToObject(j, "train_files", cJSON_CreateStringArray(tr, 1));
    cJSON_AddItemToObject(j, "val_files", cJSON_CreateStringArray(va, 1));
    char *s = cJSON_Print(j);
    cJSON_Delete(j);
    if (!s) return mu_set_error(MU_ENOMEM, "prepare: out of memory");
    snprintf(path, sizeof path, "%s/meta.json", out_dir);
    size_t sl = strlen(s);
    s[sl] = '\n'; /* replace the terminator: the file ends with a newline */
    int rc = mu_file_write_atomic(path, s, sl + 1);
    free(s);
    return rc;
}

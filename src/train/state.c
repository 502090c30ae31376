/* state.c — read and write RUN_DIR/state.bin (see state.h for the layout). */
#include <cJSON.h>
#include <inttypes.h>
#include <stdio.h>

#include "base/util.h"
#include "train/state.h"

static void put_u64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint64_t get_u64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

int mu_file_checksum(const char *path, uint64_t *sum) {
    void *buf;
    size_t len;
    MU_TRY(mu_file_read_all(path, &buf, &len));
    *sum = mu_checksum64(buf, len, 0);
    free(buf);
    return MU_OK;
}

int mu_state_write(const char *path, const mu_state_t *s) {
    MU_REQUIRE(path && s, "mu_state_write: NULL argument");
    cJSON *j = cJSON_CreateObject();
    char hex[32];
    cJSON_AddNumberToObject(j, "step", (double)s->step);
    snprintf(hex, sizeof hex, "%016" PRIx64, s->seed);
    cJSON_AddStringToObject(j, "seed", hex);
    snprintf(hex, sizeof hex, "%016" PRIx64, s->weights_sum);
    cJSON_AddStringToObject(j, "weights_checksum", hex);
    cJSON_AddNumberToObject(j, "tokens", s->tokens);
    cJSON_AddNumberToObject(j, "elapsed_s", s->elapsed_s);
    cJSON_AddNumberToObject(j, "threads", s->threads);
    cJSON_AddStringToObject(j, "gemm_plan", s->plan ? s->plan : "");
    cJSON_AddStringToObject(j, "config", s->config_text ? s->config_text : "");
    cJSON_AddStringToObject(j, "optimizer", s->optim_desc ? s->optim_desc : "");
    char *js = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!js) return mu_set_error(MU_ENOMEM, "%s: cannot format state JSON", path);
    size_t jl = strlen(js);
    size_t plen = 8 + jl + 8 + s->optim_len;
    size_t total = 32 + plen;
    unsigned char *buf = malloc(total);
    if (!buf) {
        free(js);
        return mu_set_error(MU_ENOMEM, "%s: cannot allocate %zu bytes", path, total);
    }
    memcpy(buf, MU_STATE_MAGIC, 8);
    uint32_t ver = MU_STATE_VERSION, zero = 0;
    memcpy(buf + 8, &ver, 4);
    memcpy(buf + 12, &zero, 4);
    unsigned char *p = buf + 32;
    put_u64(p, jl);
    memcpy(p + 8, js, jl);
    put_u64(p + 8 + jl, s->optim_len);
    if (s->optim_len) memcpy(p + 16 + jl, s->optim_state, s->optim_len);
    put_u64(buf + 16, plen);
    put_u64(buf + 24, mu_checksum64(p, plen, 0));
    free(js);
    int rc = mu_file_write_atomic(path, buf, total);
    free(buf);
    return rc;
}

static char *dup_json_str(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return strdup(cJSON_IsString(v) ? v->valuestring : "");
}

int mu_state_read(const char *path, mu_state_t *s) {
    MU_REQUIRE(path && s, "mu_state_read: NULL argument");
    memset(s, 0, sizeof *s);
    unsigned char *buf;
    size_t len;
    MU_TRY(mu_file_read_all(path, (void **)&buf, &len));
    int rc = MU_EFORMAT;
    cJSON *j = NULL;
    if (len < 32 || memcmp(buf, MU_STATE_MAGIC, 8) != 0) {
        mu_set_error(MU_EFORMAT, "%s: not a muon state file (bad magic or shorter than 32 bytes)", path);
        goto out;
    }
    uint32_t ver;
    memcpy(&ver, buf + 8, 4);
    if (ver != MU_STATE_VERSION) {
        mu_set_error(MU_EFORMAT, "%s: state version %u, this build reads %d", path, ver, MU_STATE_VERSION);
        goto out;
    }
    uint64_t plen = get_u64(buf + 16);
    if (plen != len - 32) {
        mu_set_error(MU_EFORMAT, "%s: payload length %" PRIu64 " but file holds %zu bytes after the header", path,
                     plen, len - 32);
        goto out;
    }
    unsigned char *p = buf + 32;
    if (get_u64(buf + 24) != mu_checksum64(p, plen, 0)) {
        mu_set_error(MU_EFORMAT, "%s: checksum mismatch (torn or corrupted write)", path);
        goto out;
    }
    uint64_t jl = plen >= 8 ? get_u64(p) : UINT64_MAX;
    if (jl > plen - 8 || plen - 8 - jl < 8) {
        mu_set_error(MU_EFORMAT, "%s: JSON length %" PRIu64 " exceeds payload", path, jl);
        goto out;
    }
    uint64_t ol = get_u64(p + 8 + jl);
    if (ol != plen - 16 - jl) {
        mu_set_error(MU_EFORMAT, "%s: optimizer state length %" PRIu64 " does not fit the payload", path, ol);
        goto out;
    }
    j = cJSON_ParseWithLength((const char *)p + 8, jl);
    if (!cJSON_IsObject(j)) {
        mu_set_error(MU_EFORMAT, "%s: state JSON does not parse", path);
        goto out;
    }
    const cJSON *step = cJSON_GetObjectItemCaseSensitive(j, "step");
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(j, "seed");
    const cJSON *ws = cJSON_GetObjectItemCaseSensitive(j, "weights_checksum");
    if (!cJSON_IsNumber(step) || !cJSON_IsString(seed) || !cJSON_IsString(ws)) {
        mu_set_error(MU_EFORMAT, "%s: state JSON lacks step, seed or weights_checksum", path);
        goto out;
    }
    s->step = (int64_t)step->valuedouble;
    s->seed = strtoull(seed->valuestring, NULL, 16);
    s->weights_sum = strtoull(ws->valuestring, NULL, 16);
    const cJSON *v;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(j, "tokens"))) s->tokens = v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(j, "elapsed_s"))) s->elapsed_s = v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(j, "threads"))) s->threads = v->valueint;
    s->plan = dup_json_str(j, "gemm_plan");
    s->config_text = dup_json_str(j, "config");
    s->optim_desc = dup_json_str(j, "optimizer");
    s->optim_len = ol;
    s->optim_state = malloc(ol ? ol : 1);
    if (!s->plan || !s->config_text || !s->optim_desc || !s->optim_state) {
        mu_state_free(s);
        rc = mu_set_error(MU_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    memcpy(s->optim_state, p + 16 + jl, ol);
    rc = MU_OK;
out:
    cJSON_Delete(j);
    free(buf);
    return rc;
}

void mu_state_free(mu_state_t *s) {
    if (!s) return;
    free(s->plan);
    free(s->config_text);
    free(s->optim_desc);
    free(s->optim_state);
    memset(s, 0, sizeof *s);
}

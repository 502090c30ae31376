/* safetensors.c — the project's one safetensors reader and writer.
 *
 * File layout (https://github.com/huggingface/safetensors, "format"):
 *   u64 N (little-endian) | N bytes of JSON header | data area
 *   header = {"__metadata__": {str: str}, NAME: {"dtype": "F32", "shape": [..],
 *             "data_offsets": [begin, end]}, ...}
 * Offsets are relative to the data area; tensors are packed with no holes or
 * overlaps and together cover the data area exactly. The writer pads the header
 * with spaces to a multiple of 8 so the data area is 8-byte aligned.
 *
 * The reader maps the file and validates every rule before returning a handle;
 * any violation is MU_EFORMAT with a message naming the file, tensor and field.
 * Values are little-endian; this file assumes a little-endian host. */
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "train/safetensors_internal.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c assumes a little-endian host"
#endif

/* ---- dtypes ---- */

typedef struct {
    const char *name;
    int32_t size;
    int32_t readable;
} st_dtype_t;

/* Every dtype the safetensors spec names; only the first three convert to fp32. */
static const st_dtype_t DTYPES[] = {
    {"F32", 4, 1},  {"F16", 2, 1},  {"BF16", 2, 1}, {"F64", 8, 0},     {"I64", 8, 0},
    {"I32", 4, 0},  {"I16", 2, 0},  {"I8", 1, 0},   {"U64", 8, 0},     {"U32", 4, 0},
    {"U16", 2, 0},  {"U8", 1, 0},   {"BOOL", 1, 0}, {"F8_E4M3", 1, 0}, {"F8_E5M2", 1, 0},
};

static const st_dtype_t *dtype_find(const char *s) {
    for (size_t i = 0; i < sizeof DTYPES / sizeof DTYPES[0]; i++)
        if (strcmp(DTYPES[i].name, s) == 0) return &DTYPES[i];
    return NULL;
}

/* IEEE half: 1 sign, 5 exponent (bias 15), 10 mantissa bits. */
float mu_st_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0x1f) {                  /* inf / nan: keep the payload */
        bits = sign | 0x7f800000u | (man << 13);
    } else if (exp != 0) {              /* normal: rebias 15 -> 127 */
        bits = sign | ((exp + 112) << 23) | (man << 13);
    } else if (man == 0) {              /* signed zero */
        bits = sign;
    } else {                            /* subnormal: man * 2^-24, exact in fp32 */
        float f = (float)man * 0x1p-24f;
        return sign ? -f : f;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* bfloat16 is the top half of an fp32. */
float mu_st_bf16_to_f32(uint16_t b) {
    uint32_t bits = (uint32_t)b << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* ---- parsing ---- */

static int cmp_name_idx(const void *a, const void *b, void *ctx) {
    const mu_st_entry_t *t = ctx;
    return strcmp(t[*(const int32_t *)a].name, t[*(const int32_t *)b].name);
}

static int cmp_offset_idx(const void *a, const void *b, void *ctx) {
    const mu_st_entry_t *t = ctx, *x = &t[*(const int32_t *)a], *y = &t[*(const int32_t *)b];
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

/* A JSON number that is an exact non-negative integer below 2^53. */
static int json_uint(const cJSON *j, uint64_t *out) {
    if (!cJSON_IsNumber(j)) return 0;
    double d = j->valuedouble;
    if (!(d >= 0.0) || d > 9007199254740992.0 || d != floor(d)) return 0;
    *out = (uint64_t)d;
    return 1;
}

static void fmt_shape(char *buf, size_t cap, const int64_t *shape, int32_t ndim) {
    size_t k = (size_t)snprintf(buf, cap, "[");
    for (int32_t d = 0; d < ndim && k < cap; d++)
        k += (size_t)snprintf(buf + k, cap - k, d ? ", %" PRId64 : "%" PRId64, shape[d]);
    if (k < cap) snprintf(buf + k, cap - k, "]");
}

/* Parse one tensor entry {"dtype", "shape", "data_offsets"} into e. */
static int parse_entry(const char *label, const char *name, const cJSON *v, uint64_t data_len,
                       mu_st_entry_t *e) {
    if (!cJSON_IsObject(v))
        return mu_set_error(MU_EFORMAT, "%s: tensor '%s': header entry is not an object", label, name);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(v, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(v, "shape");
    const cJSON *of = cJSON_GetObjectItemCaseSensitive(v, "data_offsets");
    if (!cJSON_IsString(dt))
        return mu_set_error(MU_EFORMAT, "%s: tensor '%s': missing or non-string 'dtype'", label, name);
    const st_dtype_t *d = dtype_find(dt->valuestring);
    if (!d)
        return mu_set_error(MU_EFORMAT, "%s: tensor '%s': unknown dtype '%.32s'", label, name,
                            dt->valuestring);
    e->dtype = d->name;
    e->elsize = d->size;
    e->readable = d->readable;

    if (!cJSON_IsArray(sh))
        return mu_set_error(MU_EFORMAT, "%s: tensor '%s': 'shape' is missing or not an array", label, name);
    int nd = cJSON_GetArraySize(sh);
    if (nd > MU_ST_MAX_DIM)
        return mu_set_error(MU_EUNSUPPORTED, "%s: tensor '%s': %d dimensions, at most %d are supported",
                            label, name, nd, MU_ST_MAX_DIM);
    e->ndim = nd;
    /* numel = prod(shape); every factor is checked so the product cannot overflow */
    uint64_t numel = 1;
    int overflow = 0, k = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, sh) {
        uint64_t dim;
        if (!json_uint(it, &dim))
            return mu_set_error(MU_EFORMAT, "%s: tensor '%s': shape[%d] is not a non-negative integer", label,
                                name, k);
        e->shape[k++] = (int64_t)dim;
        if (__builtin_mul_overflow(numel, dim, &numel)) overflow = 1;
    }
    uint64_t bytes = 0;
    if (!overflow && __builtin_mul_overflow(numel, (uint64_t)d->size, &bytes)) overflow = 1;

    if (!cJSON_IsArray(of) || cJSON_GetArraySize(of) != 2 || !json_uint(cJSON_GetArrayItem(of, 0), &e->begin) ||
        !json_uint(cJSON_GetArrayItem(of, 1), &e->end))
        return mu_set_error(MU_EFORMAT, "%s: tensor '%s': 'data_offsets' must be [begin, end] of non-negative integers",
                            label, name);
    if (e->begin > e->end)
        return mu_set_error(MU_EFORMAT, "%s: tensor '%s': data_offsets [%" PRIu64 ",%" PRIu64 "] end before begin",
                            label, name, e->begin, e->end);
    if (e->end > data_len)
        return mu_set_error(MU_EFORMAT, "%s: tensor '%s': data_offsets [%" PRIu64 ",%" PRIu64 "] exceed data size %" PRIu64,
                            label, name, e->begin, e->end, data_len);
    if (overflow || bytes != e->end - e->begin) {
        char sbuf[128];
        fmt_shape(sbuf, sizeof sbuf, e->shape, e->ndim);
        return mu_set_error(MU_EFORMAT, "%s: tensor '%s': shape %s of %s needs %s%" PRIu64 " bytes but data_offsets [%" PRIu64
                            ",%" PRIu64 "] span %" PRIu64, label, name, sbuf, d->name, overflow ? "more than " : "",
                            overflow ? UINT64_MAX : bytes, e->begin, e->end, e->end - e->begin);
    }
    e->numel = (int64_t)numel;
    return MU_OK;
}

static int parse_meta(const char *label, const cJSON *v, mu_safetensors_t *s) {
    if (!cJSON_IsObject(v))
        return mu_set_error(MU_EFORMAT, "%s: '__metadata__' is not an object", label);
    int n = cJSON_GetArraySize(v);
    s->meta_k = calloc((size_t)n + 1, sizeof(char *));
    s->meta_v = calloc((size_t)n + 1, sizeof(char *));
    if (!s->meta_k || !s->meta_v) return mu_set_error(MU_ENOMEM, "%s: out of memory", label);
    const cJSON *it;
    cJSON_ArrayForEach(it, v) {
        if (!cJSON_IsString(it))
            return mu_set_error(MU_EFORMAT, "%s: __metadata__ '%.64s': value is not a string", label,
                                it->string ? it->string : "");
        for (int32_t i = 0; i < s->n_meta; i++)
            if (strcmp(s->meta_k[i], it->string) == 0)
                return mu_set_error(MU_EFORMAT, "%s: __metadata__ '%.64s': duplicate key", label, it->string);
        s->meta_k[s->n_meta] = strdup(it->string);
        s->meta_v[s->n_meta] = strdup(it->valuestring);
        if (!s->meta_k[s->n_meta] || !s->meta_v[s->n_meta]) {
            s->n_meta++;
            return mu_set_error(MU_ENOMEM, "%s: out of memory", label);
        }
        s->n_meta++;
    }
    return MU_OK;
}

/* Everything after the JSON parse: entries, names, the coverage of the data area. */
static int parse_root(const char *label, const cJSON *root, mu_safetensors_t *s) {
    if (!cJSON_IsObject(root)) return mu_set_error(MU_EFORMAT, "%s: header is not a JSON object", label);
    int n = cJSON_GetArraySize(root);
    s->t = calloc((size_t)n + 1, sizeof *s->t);
    s->by_name = calloc((size_t)n + 1, sizeof *s->by_name);
    if (!s->t || !s->by_name) return mu_set_error(MU_ENOMEM, "%s: out of memory", label);
    int have_meta = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, root) {
        const char *name = it->string ? it->string : "";
        if (strcmp(name, "__metadata__") == 0) {
            if (have_meta) return mu_set_error(MU_EFORMAT, "%s: '__metadata__' appears twice", label);
            have_meta = 1;
            MU_TRY(parse_meta(label, it, s));
            continue;
        }
        if (!name[0]) return mu_set_error(MU_EFORMAT, "%s: a tensor has an empty name", label);
        mu_st_entry_t *e = &s->t[s->n];
        e->name = strdup(name);
        if (!e->name) return mu_set_error(MU_ENOMEM, "%s: out of memory", label);
        s->by_name[s->n] = s->n;
        s->n++;
        MU_TRY(parse_entry(label, name, it, s->data_len, e));
    }
    /* names must be unique */
    qsort_r(s->by_name, (size_t)s->n, sizeof *s->by_name, cmp_name_idx, s->t);
    for (int32_t i = 1; i < s->n; i++)
        if (strcmp(s->t[s->by_name[i]].name, s->t[s->by_name[i - 1]].name) == 0)
            return mu_set_error(MU_EFORMAT, "%s: tensor '%s' appears twice in the header", label,
                                s->t[s->by_name[i]].name);
    /* sorted by offset, each tensor must start where the previous one ended,
     * and the last must end at the end of the data area (no holes, no overlap) */
    int32_t *ord = malloc(((size_t)s->n + 1) * sizeof *ord);
    if (!ord) return mu_set_error(MU_ENOMEM, "%s: out of memory", label);
    for (int32_t i = 0; i < s->n; i++) ord[i] = i;
    qsort_r(ord, (size_t)s->n, sizeof *ord, cmp_offset_idx, s->t);
    uint64_t pos = 0;
    int rc = MU_OK;
    for (int32_t i = 0; i < s->n && rc == MU_OK; i++) {
        const mu_st_entry_t *e = &s->t[ord[i]];
        if (e->begin < pos)
            rc = mu_set_error(MU_EFORMAT, "%s: tensor '%s': data_offsets [%" PRIu64 ",%" PRIu64
                              "] overlap tensor '%s' (which ends at %" PRIu64 ")",
                              label, e->name, e->begin, e->end, s->t[ord[i - 1]].name, pos);
        else if (e->begin > pos)
            rc = mu_set_error(MU_EFORMAT, "%s: tensor '%s': data_offsets [%" PRIu64 ",%" PRIu64
                              "] leave a hole of %" PRIu64 " bytes before it",
                              label, e->name, e->begin, e->end, e->begin - pos);
        pos = e->end;
    }
    free(ord);
    MU_TRY(rc);
    if (pos != s->data_len)
        return mu_set_error(MU_EFORMAT, "%s: tensors cover %" PRIu64 " bytes but the data area holds %" PRIu64
                            " (trailing bytes or truncated file?)", label, pos, s->data_len);
    return MU_OK;
}

static uint64_t get_u64le(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

int mu_st_parse(mu_safetensors_t **out, const void *buf, size_t len, const char *label) {
    MU_REQUIRE(out && (buf || !len), "mu_st_parse: NULL argument");
    *out = NULL;
    if (!label) label = "<memory>";
    const uint8_t *b = buf;
    if (len < 8)
        return mu_set_error(MU_EFORMAT, "%s: file is %zu bytes, too short for the 8-byte header length", label, len);
    uint64_t hlen = get_u64le(b);
    if (hlen > MU_ST_MAX_HEADER)
        return mu_set_error(MU_EFORMAT, "%s: header length %" PRIu64 " is absurd (limit %" PRIu64 " bytes); not a safetensors file?",
                            label, hlen, MU_ST_MAX_HEADER);
    if (hlen > len - 8)
        return mu_set_error(MU_EFORMAT, "%s: header length %" PRIu64 " exceeds the %zu bytes after it (truncated file?)",
                            label, hlen, len - 8);
    if (hlen < 2) return mu_set_error(MU_EFORMAT, "%s: header length %" PRIu64 " is too short for a JSON object", label, hlen);

    mu_safetensors_t *s = calloc(1, sizeof *s);
    if (!s) return mu_set_error(MU_ENOMEM, "%s: out of memory", label);
    s->label = strdup(label);
    s->data = b + 8 + hlen;
    s->data_len = (uint64_t)(len - 8 - hlen);
    /* cJSON gets its own NUL-terminated copy: the header bytes may contain anything */
    char *hj = malloc((size_t)hlen + 1);
    if (!s->label || !hj) {
        free(hj);
        mu_safetensors_free(s);
        return mu_set_error(MU_ENOMEM, "%s: out of memory", label);
    }
    memcpy(hj, b + 8, (size_t)hlen);
    hj[hlen] = 0;
    int rc = MU_OK;
    if (hj[0] != '{') {
        rc = mu_set_error(MU_EFORMAT, "%s: header does not start with '{' (not a safetensors file?)", label);
    } else if (memchr(hj, 0, (size_t)hlen)) {
        rc = mu_set_error(MU_EFORMAT, "%s: header contains a NUL byte", label);
    } else {
        const char *end = NULL;
        cJSON *root = cJSON_ParseWithLengthOpts(hj, (size_t)hlen, &end, 0);
        if (!root) {
            const char *at = cJSON_GetErrorPtr();
            long off = at && at >= hj && at <= hj + hlen ? (long)(at - hj) : -1;
            rc = mu_set_error(MU_EFORMAT, "%s: header is not valid JSON (error near byte %ld)", label, off);
        } else {
            /* only whitespace (the writer's space padding) may follow the object */
            for (const char *p = end; p && p < hj + hlen && rc == MU_OK; p++)
                if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
                    rc = mu_set_error(MU_EFORMAT, "%s: header has trailing bytes after the JSON object (byte %ld)",
                                      label, (long)(p - hj));
            if (rc == MU_OK) rc = parse_root(label, root, s);
            cJSON_Delete(root);
        }
    }
    free(hj);
    if (rc < 0) {
        mu_safetensors_free(s);
        return rc;
    }
    *out = s;
    return MU_OK;
}

int mu_safetensors_open(mu_safetensors_t **out, const char *path) {
    MU_REQUIRE(out && path, "mu_safetensors_open: NULL argument");
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return mu_set_error(MU_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return mu_set_error(MU_EIO, "%s: not a regular file", path);
    }
    size_t len = (size_t)st.st_size;
    void *map = NULL;
    uint8_t small[8];
    const void *buf = small;
    if (len >= 8) {
        map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            int e = errno;
            close(fd);
            return mu_set_error(MU_EIO, "%s: mmap of %zu bytes failed: %s", path, len, strerror(e));
        }
        buf = map;
    } else if (len > 0 && read(fd, small, len) != (ssize_t)len) {
        close(fd);
        return mu_set_error(MU_EIO, "%s: read failed", path);
    }
    close(fd);
    int rc = mu_st_parse(out, buf, len, path);
    if (rc < 0) {
        if (map) munmap(map, len);
        return rc;
    }
    (*out)->map = map;
    (*out)->map_len = len;
    return MU_OK;
}

void mu_safetensors_free(mu_safetensors_t *s) {
    if (!s) return;
    if (s->map) munmap(s->map, s->map_len);
    free(s->owned);
    for (int32_t i = 0; i < s->n; i++) free(s->t[i].name);
    free(s->t);
    free(s->by_name);
    for (int32_t i = 0; i < s->n_meta; i++) {
        free(s->meta_k[i]);
        free(s->meta_v[i]);
    }
    free(s->meta_k);
    free(s->meta_v);
    free(s->label);
    free(s);
}

int32_t mu_safetensors_count(const mu_safetensors_t *s) { return s ? s->n : 0; }

const char *mu_safetensors_name(const mu_safetensors_t *s, int32_t i) {
    return s && i >= 0 && i < s->n ? s->t[i].name : NULL;
}

int32_t mu_st_find(const mu_safetensors_t *s, const char *name) {
    if (!s || !name) return -1;
    int32_t lo = 0, hi = s->n - 1;
    while (lo <= hi) {
        int32_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->t[s->by_name[mid]].name, name);
        if (c == 0) return s->by_name[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

int mu_safetensors_info(const mu_safetensors_t *s, const char *name, int32_t *ndim, int64_t shape[4],
                        const char **dtype) {
    MU_REQUIRE(s && name, "mu_safetensors_info: NULL argument");
    int32_t i = mu_st_find(s, name);
    if (i < 0) return mu_set_error(MU_EINVAL, "%s: no tensor '%s'", s->label, name);
    const mu_st_entry_t *e = &s->t[i];
    if (ndim) *ndim = e->ndim;
    if (shape)
        for (int d = 0; d < 4; d++) shape[d] = d < e->ndim ? e->shape[d] : 1;
    if (dtype) *dtype = e->dtype;
    return MU_OK;
}

int mu_st_read_range(const mu_safetensors_t *s, int32_t i, int64_t start, int64_t n, float *out) {
    MU_REQUIRE(s && i >= 0 && i < s->n && (out || n == 0), "mu_st_read_range: bad argument");
    const mu_st_entry_t *e = &s->t[i];
    MU_REQUIRE(start >= 0 && n >= 0 && start <= e->numel && n <= e->numel - start,
               "%s: tensor '%s': range [%" PRId64 ", +%" PRId64 ") outside its %" PRId64 " elements", s->label,
               e->name, start, n, e->numel);
    if (!e->readable)
        return mu_set_error(MU_EUNSUPPORTED, "%s: tensor '%s' has dtype %s; only F32, F16 and BF16 can be read",
                            s->label, e->name, e->dtype);
    if (n == 0) return MU_OK;
    const uint8_t *p = s->data + e->begin + (uint64_t)start * (uint64_t)e->elsize;
    if (e->elsize == 4) {
        memcpy(out, p, (size_t)n * 4); /* F32, little-endian host */
    } else {
        int bf = e->dtype[0] == 'B';
        for (int64_t k = 0; k < n; k++) {
            uint16_t h = (uint16_t)(p[2 * k] | (p[2 * k + 1] << 8));
            out[k] = bf ? mu_st_bf16_to_f32(h) : mu_st_f16_to_f32(h);
        }
    }
    return MU_OK;
}

int mu_safetensors_read_f32(const mu_safetensors_t *s, const char *name, float *out, int64_t n) {
    MU_REQUIRE(s && name, "mu_safetensors_read_f32: NULL argument");
    int32_t i = mu_st_find(s, name);
    if (i < 0) return mu_set_error(MU_EINVAL, "%s: no tensor '%s'", s->label, name);
    MU_REQUIRE(n == s->t[i].numel, "%s: tensor '%s' has %" PRId64 " elements, caller asked for %" PRId64, s->label,
               name, s->t[i].numel, n);
    return mu_st_read_range(s, i, 0, n, out);
}

const char *mu_safetensors_meta(const mu_safetensors_t *s, const char *key) {
    if (!s || !key) return NULL;
    for (int32_t i = 0; i < s->n_meta; i++)
        if (strcmp(s->meta_k[i], key) == 0) return s->meta_v[i];
    return NULL;
}

/* ---- writing ---- */

/* Build the header JSON (padded with spaces to a multiple of 8); tensors are
 * packed in the caller's order, metadata keys keep the caller's order. */
static int build_header(const char *path, const mu_st_tensor_t *t, int32_t n, const char *const *mk,
                        const char *const *mv, int32_t n_meta, char **out, size_t *out_len) {
    cJSON *root = cJSON_CreateObject();
    if (!root) return mu_set_error(MU_ENOMEM, "%s: out of memory", path);
    int rc = MU_OK;
    if (n_meta > 0) {
        cJSON *m = cJSON_AddObjectToObject(root, "__metadata__");
        for (int32_t i = 0; m && i < n_meta; i++)
            if (!cJSON_AddStringToObject(m, mk[i], mv[i])) m = NULL;
        if (!m) rc = mu_set_error(MU_ENOMEM, "%s: out of memory", path);
    }
    uint64_t off = 0;
    for (int32_t i = 0; i < n && rc == MU_OK; i++) {
        cJSON *e = cJSON_AddObjectToObject(root, t[i].name);
        cJSON *shape = e ? cJSON_AddArrayToObject(e, "shape") : NULL;
        cJSON *offs = shape ? cJSON_AddArrayToObject(e, "data_offsets") : NULL;
        uint64_t numel = 1;
        for (int32_t d = 0; d < t[i].ndim; d++) numel *= (uint64_t)t[i].shape[d];
        uint64_t end = off + 4 * numel;
        if (!offs || !cJSON_AddStringToObject(e, "dtype", "F32")) {
            rc = mu_set_error(MU_ENOMEM, "%s: out of memory", path);
            break;
        }
        for (int32_t d = 0; d < t[i].ndim; d++)
            cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t[i].shape[d]));
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)off));
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)end));
        off = end;
    }
    char *js = rc == MU_OK ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (rc < 0) return rc;
    if (!js) return mu_set_error(MU_ENOMEM, "%s: cannot format the header", path);
    size_t jl = strlen(js), padded = (jl + 7) & ~(size_t)7;
    char *h = malloc(padded + 1);
    if (!h) {
        free(js);
        return mu_set_error(MU_ENOMEM, "%s: out of memory", path);
    }
    memcpy(h, js, jl);
    memset(h + jl, ' ', padded - jl);
    h[padded] = 0;
    free(js);
    *out = h;
    *out_len = padded;
    return MU_OK;
}

int mu_safetensors_write(const char *path, const mu_st_tensor_t *t, int32_t n, const char *const *meta_keys,
                         const char *const *meta_vals, int32_t n_meta) {
    MU_REQUIRE(path && (t || n == 0) && n >= 0 && n_meta >= 0 && (n_meta == 0 || (meta_keys && meta_vals)),
               "mu_safetensors_write: bad argument");
    /* validate everything before touching the disk */
    for (int32_t i = 0; i < n; i++) {
        MU_REQUIRE(t[i].name && t[i].name[0] && strcmp(t[i].name, "__metadata__") != 0,
                   "%s: tensor %d: empty or reserved name", path, i);
        MU_REQUIRE(t[i].ndim >= 0 && t[i].ndim <= 4, "%s: tensor '%s': ndim %d not in 0..4", path, t[i].name,
                   t[i].ndim);
        int64_t numel = 1;
        for (int32_t d = 0; d < t[i].ndim; d++) {
            MU_REQUIRE(t[i].shape[d] >= 0 && t[i].shape[d] < ((int64_t)1 << 40),
                       "%s: tensor '%s': shape[%d] = %" PRId64 " out of range", path, t[i].name, d, t[i].shape[d]);
            numel *= t[i].shape[d];
            MU_REQUIRE(numel < ((int64_t)1 << 48), "%s: tensor '%s': too many elements", path, t[i].name);
        }
        MU_REQUIRE(t[i].data || numel == 0, "%s: tensor '%s': NULL data", path, t[i].name);
        for (int32_t j = 0; j < i; j++)
            MU_REQUIRE(strcmp(t[i].name, t[j].name) != 0, "%s: tensor '%s' given twice", path, t[i].name);
    }
    for (int32_t i = 0; i < n_meta; i++) {
        MU_REQUIRE(meta_keys[i] && meta_vals[i], "%s: metadata %d: NULL key or value", path, i);
        for (int32_t j = 0; j < i; j++)
            MU_REQUIRE(strcmp(meta_keys[i], meta_keys[j]) != 0, "%s: metadata key '%s' given twice", path,
                       meta_keys[i]);
    }
    char *hdr = NULL;
    size_t hlen = 0;
    MU_TRY(build_header(path, t, n, meta_keys, meta_vals, n_meta, &hdr, &hlen));

    /* atomic replace (base/file.c): a crash never leaves a half-written checkpoint */
    mu_atomic_file_t f;
    int rc = mu_atomic_open(&f, path);
    if (rc != MU_OK) {
        free(hdr);
        return rc;
    }
    uint8_t lenbuf[8];
    for (int i = 0; i < 8; i++) lenbuf[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
    mu_atomic_write(&f, lenbuf, 8);
    mu_atomic_write(&f, hdr, hlen);
    free(hdr);
    for (int32_t i = 0; i < n && !f.err; i++) {
        size_t numel = 1;
        for (int32_t d = 0; d < t[i].ndim; d++) numel *= (size_t)t[i].shape[d];
        mu_atomic_write(&f, t[i].data, numel * 4); /* fp32, little-endian host */
    }
    return mu_atomic_commit(&f);
}

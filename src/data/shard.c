/* shard.c — llm.c token shards: write (atomic), open (mmap + validation), read.
 *
 * File layout (all little-endian):
 *   int32 header[256] = {magic, version, n_tokens, 0, ...}   (1024 bytes)
 *   tokens[n_tokens]  uint16 (magic 20240520, version 1: GPT-2 style)
 *                     uint32 (magic 20240801, version 1, 2 or 7; llm.c's llama-3
 *                             writer uses 7, which is what we write)
 * The file size must be exactly 1024 + n_tokens * token_bytes. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "data/data_internal.h"

#define U32_VERSION_WRITTEN 7

struct mu_shard {
    char *path;
    const unsigned char *map; /* whole file, read-only */
    size_t map_len;
    const unsigned char *tok; /* map + 1024 */
    int64_t n;
    int32_t tokbytes;
    uint64_t max_cache; /* bit 32 set once computed; low 32 bits = max token */
};

int mu_shard_check_header(const void *hdr, uint64_t file_size, const char *path, int32_t *token_bytes,
                          int64_t *n_tokens) {
    if (!path) path = "(shard)";
    if (file_size == 0)
        return mu_set_error(MU_EFORMAT, "%s: empty file (expected an llm.c token shard: 1024-byte header + tokens)",
                            path);
    if (file_size < MU_SHARD_HEADER_BYTES)
        return mu_set_error(MU_EFORMAT, "%s: file is %" PRIu64 " bytes, shorter than the 1024-byte shard header", path,
                            file_size);
    const unsigned char *h = hdr;
    int32_t magic = mu_le_i32(h), version = mu_le_i32(h + 4), n = mu_le_i32(h + 8);
    int32_t tb;
    if (magic == MU_SHARD_MAGIC_U16) {
        if (version != 1)
            return mu_set_error(MU_EFORMAT, "%s: header version %d with magic %d (uint16 shards must be version 1)",
                                path, (int)version, (int)magic);
        tb = 2;
    } else if (magic == MU_SHARD_MAGIC_U32) {
        if (version != 1 && version != 2 && version != 7)
            return mu_set_error(MU_EFORMAT, "%s: header version %d with magic %d (uint32 shards: version 1, 2 or 7)",
                                path, (int)version, (int)magic);
        tb = 4;
    } else {
        return mu_set_error(MU_EFORMAT, "%s: header magic %d is not an llm.c shard (%d: uint16, %d: uint32)", path,
                            (int)magic, MU_SHARD_MAGIC_U16, MU_SHARD_MAGIC_U32);
    }
    if (n < 0) return mu_set_error(MU_EFORMAT, "%s: header n_tokens is negative (%d)", path, (int)n);
    uint64_t want = MU_SHARD_HEADER_BYTES + (uint64_t)n * (uint64_t)tb;
    uint64_t have = (file_size - MU_SHARD_HEADER_BYTES) / (uint64_t)tb;
    if (file_size < want)
        return mu_set_error(MU_EFORMAT, "%s: header says %d tokens but file holds %" PRIu64 " (truncated?)", path,
                            (int)n, have);
    if (file_size > want)
        return mu_set_error(MU_EFORMAT,
                            "%s: header says %d tokens (%" PRIu64 " bytes) but file is %" PRIu64
                            " bytes: %" PRIu64 " extra trailing bytes",
                            path, (int)n, want, file_size, file_size - want);
    *token_bytes = tb;
    *n_tokens = n;
    return MU_OK;
}

int mu_shard_open(mu_shard_t **out, const char *path) {
    if (!out || !path) return mu_set_error(MU_EINVAL, "mu_shard_open: NULL argument");
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* never block on a FIFO */
    if (fd < 0) return mu_set_error(MU_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return mu_set_error(MU_EIO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return mu_set_error(MU_EINVAL, "%s: is a directory, not a shard file", path);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return mu_set_error(MU_EINVAL, "%s: not a regular file", path);
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size < MU_SHARD_HEADER_BYTES) {
        close(fd);
        int32_t tb;
        int64_t n;
        return mu_shard_check_header(NULL, size, path, &tb, &n); /* reports empty / too short */
    }
    void *map = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
    int e = errno;
    close(fd); /* the mapping stays valid */
    if (map == MAP_FAILED) return mu_set_error(MU_EIO, "%s: mmap of %" PRIu64 " bytes failed: %s", path, size, strerror(e));
    int32_t tb = 0;
    int64_t n = 0;
    int rc = mu_shard_check_header(map, size, path, &tb, &n);
    if (rc < 0) {
        munmap(map, (size_t)size);
        return rc;
    }
    mu_shard_t *s = calloc(1, sizeof *s);
    char *p = strdup(path);
    if (!s || !p) {
        free(s);
        free(p);
        munmap(map, (size_t)size);
        return mu_set_error(MU_ENOMEM, "%s: out of memory", path);
    }
    s->path = p;
    s->map = map;
    s->map_len = (size_t)size;
    s->tok = (const unsigned char *)map + MU_SHARD_HEADER_BYTES;
    s->n = n;
    s->tokbytes = tb;
    *out = s;
    return MU_OK;
}

void mu_shard_free(mu_shard_t *s) {
    if (!s) return;
    if (s->map) munmap((void *)s->map, s->map_len);
    free(s->path);
    free(s);
}

int64_t mu_shard_n_tokens(const mu_shard_t *s) { return s ? s->n : 0; }
int32_t mu_shard_token_bytes(const mu_shard_t *s) { return s ? s->tokbytes : 0; }

static inline uint32_t tok_at(const mu_shard_t *s, int64_t i) {
    const unsigned char *p = s->tok + i * s->tokbytes;
    if (s->tokbytes == 2) return (uint32_t)p[0] | (uint32_t)p[1] << 8;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint32_t mu_shard_max_token(const mu_shard_t *s) {
    if (!s) return 0;
    mu_shard_t *m = (mu_shard_t *)s; /* the cache is the only mutable part */
    uint64_t c = __atomic_load_n(&m->max_cache, __ATOMIC_ACQUIRE);
    if (c >> 32) return (uint32_t)c;
    uint32_t mx = 0;
    for (int64_t i = 0; i < s->n; i++) {
        uint32_t t = tok_at(s, i);
        mx = t > mx ? t : mx;
    }
    __atomic_store_n(&m->max_cache, (1ull << 32) | mx, __ATOMIC_RELEASE);
    return mx;
}

int mu_shard_read(const mu_shard_t *s, int64_t pos, int64_t n, int32_t *out) {
    if (!s || (!out && n > 0)) return mu_set_error(MU_EINVAL, "mu_shard_read: NULL argument");
    if (pos < 0 || n < 0 || pos > s->n || n > s->n - pos)
        return mu_set_error(MU_EINVAL, "%s: read of %lld tokens at %lld outside [0, %lld)", s->path, (long long)n,
                            (long long)pos, (long long)s->n);
    if (s->tokbytes == 2) {
        const unsigned char *p = s->tok + pos * 2;
        for (int64_t i = 0; i < n; i++) out[i] = (int32_t)((uint32_t)p[2 * i] | (uint32_t)p[2 * i + 1] << 8);
    } else {
        for (int64_t i = 0; i < n; i++) {
            uint32_t t = tok_at(s, pos + i);
            if (t > INT32_MAX)
                return mu_set_error(MU_EFORMAT, "%s: token %lld is %u, above INT32_MAX", s->path, (long long)(pos + i),
                                    t);
            out[i] = (int32_t)t;
        }
    }
    return MU_OK;
}

/* ---- writing ---- */

enum { CHUNK = 1 << 16 }; /* tokens converted per write */

int mu_shard_write(const char *path, const int32_t *tokens, int64_t n, int32_t vocab) {
    if (!path || (!tokens && n > 0)) return mu_set_error(MU_EINVAL, "mu_shard_write: NULL argument");
    MU_REQUIRE(n >= 0 && n <= INT32_MAX, "%s: token count %lld outside [0, 2^31) (the header stores int32)", path,
               (long long)n);
    MU_REQUIRE(vocab > 0, "%s: vocab %d must be positive", path, (int)vocab);
    for (int64_t i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= vocab)
            return mu_set_error(MU_EINVAL, "%s: token %lld is %d, outside the vocab [0, %d)", path, (long long)i,
                                (int)tokens[i], (int)vocab);
    const int tb = vocab <= 65536 ? 2 : 4;
    /* header: 256 little-endian int32 */
    unsigned char hdr[MU_SHARD_HEADER_BYTES];
    memset(hdr, 0, sizeof hdr);
    int32_t fields[3] = {tb == 2 ? MU_SHARD_MAGIC_U16 : MU_SHARD_MAGIC_U32, tb == 2 ? 1 : U32_VERSION_WRITTEN,
                         (int32_t)n};
    for (int f = 0; f < 3; f++)
        for (int k = 0; k < 4; k++) hdr[4 * f + k] = (unsigned char)((uint32_t)fields[f] >> (8 * k));

    unsigned char *buf = malloc((size_t)CHUNK * 4);
    if (!buf) return mu_set_error(MU_ENOMEM, "%s: out of memory", path);
    mu_atomic_file_t f;
    int rc = mu_atomic_open(&f, path);
    if (rc != MU_OK) {
        free(buf);
        return rc;
    }
    mu_atomic_write(&f, hdr, sizeof hdr);
    for (int64_t i = 0; !f.err && i < n; i += CHUNK) {
        int64_t m = n - i < CHUNK ? n - i : CHUNK;
        for (int64_t j = 0; j < m; j++) {
            uint32_t t = (uint32_t)tokens[i + j];
            for (int k = 0; k < tb; k++) buf[j * tb + k] = (unsigned char)(t >> (8 * k));
        }
        mu_atomic_write(&f, buf, (size_t)(m * tb));
    }
    free(buf);
    return mu_atomic_commit(&f);
}

/* file.c — whole-file reads, atomic replace (temp, fsync, rename, fsync dir), checksum. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "muon/base.h"

double mu_time_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int fsync_dir_of(const char *path) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    int fd = open(dirname(tmp), O_RDONLY | O_DIRECTORY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int mu_atomic_open(mu_atomic_file_t *f, const char *path) {
    if (!f || !path) return mu_set_error(MU_EINVAL, "mu_atomic_open: NULL argument");
    f->fd = -1;
    f->err = 0;
    if (snprintf(f->path, sizeof f->path, "%s", path) >= (int)sizeof f->path ||
        snprintf(f->tmp, sizeof f->tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof f->tmp)
        return mu_set_error(MU_EINVAL, "%s: path too long", path);
    f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (f->fd < 0) return mu_set_error(MU_EIO, "%s: cannot create: %s", f->tmp, strerror(errno));
    return MU_OK;
}

void mu_atomic_write(mu_atomic_file_t *f, const void *data, size_t len) {
    const char *p = data;
    while (len && !f->err) {
        ssize_t w = write(f->fd, p, len > ((size_t)1 << 30) ? ((size_t)1 << 30) : len);
        if (w < 0) {
            if (errno != EINTR) f->err = errno;
            continue;
        }
        p += w;
        len -= (size_t)w;
    }
}

void mu_atomic_abort(mu_atomic_file_t *f) {
    if (f->fd >= 0) close(f->fd);
    f->fd = -1;
    unlink(f->tmp);
}

int mu_atomic_commit(mu_atomic_file_t *f) {
    if (!f->err && fsync(f->fd) != 0) f->err = errno;
    if (close(f->fd) != 0 && !f->err) f->err = errno;
    f->fd = -1;
    if (f->err) {
        unlink(f->tmp);
        return mu_set_error(MU_EIO, "%s: write failed: %s", f->tmp, strerror(f->err));
    }
    if (rename(f->tmp, f->path) != 0) {
        int e = errno;
        unlink(f->tmp);
        return mu_set_error(MU_EIO, "%s: rename failed: %s", f->path, strerror(e));
    }
    fsync_dir_of(f->path); /* make the rename durable */
    return MU_OK;
}

int mu_file_write_atomic(const char *path, const void *data, size_t len) {
    if (!path || (!data && len)) return mu_set_error(MU_EINVAL, "mu_file_write_atomic: NULL argument");
    mu_atomic_file_t f;
    int rc = mu_atomic_open(&f, path);
    if (rc != MU_OK) return rc;
    mu_atomic_write(&f, data, len);
    return mu_atomic_commit(&f);
}

int mu_mkdir_p(const char *dir) {
    if (!dir || !*dir) return mu_set_error(MU_EINVAL, "mu_mkdir_p: empty path");
    char p[4096];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) return mu_set_error(MU_EINVAL, "%s: path too long", dir);
    for (char *s = p + 1;; s++) {
        int end = *s == 0;
        if (*s == '/' || end) {
            *s = 0;
            if (mkdir(p, 0755) != 0 && errno != EEXIST)
                return mu_set_error(MU_EIO, "%s: cannot create directory: %s", p, strerror(errno));
            if (end) break;
            *s = '/';
        }
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) return mu_set_error(MU_EIO, "%s: not a directory", dir);
    return MU_OK;
}

int mu_file_read_all(const char *path, void **data, size_t *len) {
    if (!path || !data || !len) return mu_set_error(MU_EINVAL, "mu_file_read_all: NULL argument");
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return mu_set_error(MU_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return mu_set_error(MU_EIO, "%s: not a regular file", path);
    }
    size_t n = (size_t)st.st_size;
    char *buf = malloc(n + 1);
    if (!buf) {
        fclose(f);
        return mu_set_error(MU_ENOMEM, "%s: cannot allocate %zu bytes", path, n);
    }
    if (n && fread(buf, 1, n, f) != n) {
        fclose(f);
        free(buf);
        return mu_set_error(MU_EIO, "%s: short read", path);
    }
    fclose(f);
    buf[n] = 0; /* text callers may treat it as a C string */
    *data = buf;
    *len = n;
    return MU_OK;
}

/* FNV-1a, 64-bit: simple, byte-order free, good enough to detect torn writes. */
uint64_t mu_checksum64(const void *data, size_t len, uint64_t seed) {
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ull ^ seed;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

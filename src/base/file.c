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

int mu_file_write_atomic(const char *path, const void *data, size_t len) {
    if (!path || (!data && len)) return mu_set_error(MU_EINVAL, "mu_file_write_atomic: NULL argument");
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return mu_set_error(MU_EINVAL, "%s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return mu_set_error(MU_EIO, "%s: cannot create: %s", tmp, strerror(errno));
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            unlink(tmp);
            return mu_set_error(MU_EIO, "%s: write failed: %s", tmp, strerror(e));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return mu_set_error(MU_EIO, "%s: fsync/close failed: %s", tmp, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return mu_set_error(MU_EIO, "%s: rename failed: %s", path, strerror(e));
    }
    fsync_dir_of(path);
    return MU_OK;
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

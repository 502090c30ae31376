/* util.h — small internal helpers shared by every layer (not installed). */
#ifndef MU_UTIL_H
#define MU_UTIL_H

#include <stdlib.h>
#include <string.h>

#include "muon/base.h"

/* Return MU_EINVAL with a message when a precondition on an argument fails. */
#define MU_REQUIRE(cond, ...)                                    \
    do {                                                         \
        if (!(cond)) return mu_set_error(MU_EINVAL, __VA_ARGS__); \
    } while (0)

/* Propagate a negative return code. */
#define MU_TRY(expr)              \
    do {                          \
        int mu_rc_ = (expr);      \
        if (mu_rc_ < 0) return mu_rc_; \
    } while (0)

/* 64-byte aligned, zeroed allocation (NULL on failure); free with free(). */
static inline void *mu_alloc(size_t bytes) {
    size_t n = (bytes + 63) & ~(size_t)63;
    if (n == 0) n = 64;
    void *p = aligned_alloc(64, n);
    if (p) memset(p, 0, n);
    return p;
}

#endif

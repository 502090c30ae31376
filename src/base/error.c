/* error.c — error codes, their text, and the per-thread last-error message. */
#include <stdarg.h>
#include <stdio.h>

#include "muon/base.h"

static _Thread_local char last_msg[1024];

const char *mu_strerror(int code) {
    switch (code) {
    case MU_OK: return "success";
    case MU_EINVAL: return "invalid argument";
    case MU_ENOMEM: return "out of memory";
    case MU_EIO: return "input/output error";
    case MU_EFORMAT: return "bad file format";
    case MU_EUNSUPPORTED: return "not supported on this CPU or build";
    case MU_ENONFINITE: return "non-finite value";
    case MU_EMISMATCH: return "file does not match the configuration";
    case MU_EINTERRUPTED: return "interrupted";
    default: return "unknown error";
    }
}

const char *mu_last_error(void) { return last_msg[0] ? last_msg : "no error recorded"; }

void mu_clear_error(void) { last_msg[0] = 0; }

int mu_set_error(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_msg, sizeof last_msg, fmt, ap);
    va_end(ap);
    return code;
}

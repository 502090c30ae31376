/* data_internal.h — helpers shared inside src/data (and by fuzz/fuzz_shard.c), not installed. */
#ifndef MU_DATA_INTERNAL_H
#define MU_DATA_INTERNAL_H

#include <stdint.h>

#include "muon/data.h"

#define MU_SHARD_HEADER_BYTES (MU_SHARD_HEADER_INTS * 4)

/* Validate an llm.c shard header against the size of the file that holds it.
 * hdr points at the first min(file_size, 1024) bytes; path only names the file in
 * messages. On success sets *token_bytes (2 or 4) and *n_tokens. */
int mu_shard_check_header(const void *hdr, uint64_t file_size, const char *path, int32_t *token_bytes,
                          int64_t *n_tokens);

/* Little-endian int32 at p (the shard format is little-endian on every host). */
static inline int32_t mu_le_i32(const void *p) {
    const unsigned char *b = p;
    return (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
}

#endif

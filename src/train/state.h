/* state.h — the training-state file (RUN_DIR/state.bin), internal to src/train.
 *
 * Layout (little-endian):
 *   0   char[8]  magic "MUONSTAT"
 *   8   u32      version (1)
 *   12  u32      reserved (0)
 *   16  u64      payload length P
 *   24  u64      checksum of the payload (mu_checksum64)
 *   32  payload: u64 J, J bytes of JSON (step, seed, weights checksum, plan,
 *       config, optimizer description, ...), u64 S, S bytes of optimizer state.
 * A state file pairs with the weights file whose checksum it records. */
#ifndef MU_TRAIN_STATE_H
#define MU_TRAIN_STATE_H

#include "muon/train.h"

#define MU_STATE_MAGIC "MUONSTAT"
#define MU_STATE_VERSION 1

typedef struct {
    int64_t step;            /* optimizer steps completed */
    uint64_t seed;
    uint64_t weights_sum;    /* mu_checksum64 of the paired weights file */
    double tokens;           /* tokens trained on so far */
    double elapsed_s;        /* training wall time so far */
    int32_t threads;
    char *plan;              /* gemm plan string */
    char *config_text;       /* resolved config, key = value lines */
    char *optim_desc;        /* mu_optim_describe output */
    void *optim_state;       /* mu_optim_state_save bytes */
    size_t optim_len;
} mu_state_t;

int mu_state_write(const char *path, const mu_state_t *s);
int mu_state_read(const char *path, mu_state_t *s);  /* allocates strings/buffers */
void mu_state_free(mu_state_t *s);
/* Checksum of a whole file's bytes. */
int mu_file_checksum(const char *path, uint64_t *sum);

/* Newest complete (weights, state) pair in a run directory (see loop.c). */
int mu_ckpt_find_complete(const char *dir, char *wpath, size_t wcap, mu_state_t *best);

#endif

/* state.c — optimizer state save/load: a small header, then the state arena bytes.
 *
 * Layout (little-endian):
 *   0  magic "MUOPTST1"         8 bytes
 *   8  version (1)              u32
 *  12  n_groups                 u32
 *  16  steps done               i64
 *  24  preset name              32 bytes, NUL padded
 *  56  arena bytes              u64
 *  64  signature bytes          u32  (NUL-terminated "group[count]:chain-signature" strings)
 *  68  reserved (0)             u32
 *  72  header checksum          u64  mu_checksum64 over bytes 0..71 and the signatures
 *  80  signatures, then the arena (the checkpoint file's own checksum covers it): the state,
 *      then, under momentum_in_grad, the gradients that hold the momentum (grad_carry.c)
 *
 * The signatures carry the transform names and structural keys (momentum
 * convention, decay mode), so loading into another preset or convention fails
 * with both sides printed. Numeric hyperparameters (lr, betas) may change.
 */
#include <stdio.h>

#include "base/util.h"
#include "optim/optim_impl.h"

#define ST_MAGIC "MUOPTST1"
#define ST_VERSION 1u
#define ST_HEADER 80
#define SIG_MAX 4096

static void put_u32(unsigned char *b, uint32_t v) { memcpy(b, &v, 4); }
static void put_u64(unsigned char *b, uint64_t v) { memcpy(b, &v, 8); }
static uint32_t get_u32(const unsigned char *b) {
    uint32_t v;
    memcpy(&v, b, 4);
    return v;
}
static uint64_t get_u64(const unsigned char *b) {
    uint64_t v;
    memcpy(&v, b, 8);
    return v;
}

/* Per-group signature strings, each followed by a NUL; returns the total length. */
static size_t signatures(const mu_optim_t *o, char *buf, size_t cap) {
    size_t len = 0;
    for (int32_t g = 0; g < o->n_groups; g++) {
        const mu_group_t *G = &o->groups[g];
        char sig[512];
        mu_chain_signature(G->links, G->n_links, sig, sizeof sig);
        len = mu_str_append(buf, cap, len, "%s[%d]:%s%s", G->name, G->n_members, G->grad_carry ? "grad_ema>" : "",
                            sig);
        if (len + 1 < cap) buf[len++] = 0;  // keep the terminator inside the blob
    }
    return len;
}

/* The saved arena: the state, then the gradients that hold momentum (grad_carry.c). */
static size_t arena_floats(const mu_optim_t *o) { return o->state_floats + mu_grad_carry_floats(o); }

size_t mu_optim_state_bytes(const mu_optim_t *o) {
    if (!o) return 0;
    char sig[SIG_MAX];
    return ST_HEADER + signatures(o, sig, sizeof sig) + arena_floats(o) * sizeof(float);
}

int mu_optim_state_save(const mu_optim_t *o, void *buf, size_t cap) {
    MU_REQUIRE(o && buf, "mu_optim_state_save: NULL argument");
    char sig[SIG_MAX];
    size_t sig_len = signatures(o, sig, sizeof sig);
    size_t arena = arena_floats(o) * sizeof(float);
    size_t need = ST_HEADER + sig_len + arena;
    MU_REQUIRE(cap >= need, "mu_optim_state_save: buffer holds %zu bytes, need %zu", cap, need);
    unsigned char *b = buf;
    memset(b, 0, ST_HEADER);
    memcpy(b, ST_MAGIC, 8);
    put_u32(b + 8, ST_VERSION);
    put_u32(b + 12, (uint32_t)o->n_groups);
    put_u64(b + 16, (uint64_t)o->steps);
    memcpy(b + 24, o->preset_name, strnlen(o->preset_name, 31));
    put_u64(b + 56, (uint64_t)arena);
    put_u32(b + 64, (uint32_t)sig_len);
    memcpy(b + ST_HEADER, sig, sig_len);
    uint64_t ck = mu_checksum64(b, 72, 0);
    ck = mu_checksum64(sig, sig_len, ck);
    put_u64(b + 72, ck);
    memcpy(b + ST_HEADER + sig_len, o->state, o->state_floats * sizeof(float));
    mu_grad_carry_save(o, b + ST_HEADER + sig_len + o->state_floats * sizeof(float));
    return MU_OK;
}

int mu_optim_state_load(mu_optim_t *o, const void *buf, size_t len) {
    MU_REQUIRE(o && buf, "mu_optim_state_load: NULL argument");
    const unsigned char *b = buf;
    if (len < ST_HEADER)
        return mu_set_error(MU_EFORMAT, "optimizer state: truncated header (%zu bytes, need %d)", len, ST_HEADER);
    if (memcmp(b, ST_MAGIC, 8) != 0)
        return mu_set_error(MU_EFORMAT, "optimizer state: bad magic (expected %s)", ST_MAGIC);
    uint32_t version = get_u32(b + 8);
    if (version != ST_VERSION)
        return mu_set_error(MU_EFORMAT, "optimizer state: version %u, this build reads %u", version, ST_VERSION);
    uint32_t n_groups = get_u32(b + 12);
    int64_t steps = (int64_t)get_u64(b + 16);
    char preset[33] = {0};
    memcpy(preset, b + 24, 32);
    uint64_t arena = get_u64(b + 56);
    uint32_t sig_len = get_u32(b + 64);
    if (sig_len > SIG_MAX || len < ST_HEADER + (size_t)sig_len)
        return mu_set_error(MU_EFORMAT, "optimizer state: signature length %u exceeds the %zu bytes given", sig_len,
                            len);
    uint64_t ck = mu_checksum64(b, 72, 0);
    ck = mu_checksum64(b + ST_HEADER, sig_len, ck);
    if (ck != get_u64(b + 72)) return mu_set_error(MU_EFORMAT, "optimizer state: header checksum mismatch (corrupt)");
    if (steps < 0) return mu_set_error(MU_EFORMAT, "optimizer state: negative step count %lld", (long long)steps);
    if ((uint64_t)(len - ST_HEADER - sig_len) != arena)
        return mu_set_error(MU_EFORMAT, "optimizer state: arena of %llu bytes announced, %zu present (truncated?)",
                            (unsigned long long)arena, len - ST_HEADER - sig_len);
    // the saved optimizer must be this one: preset, groups, chain conventions, sizes
    if (strcmp(preset, o->preset_name) != 0)
        return mu_set_error(MU_EMISMATCH, "optimizer state: saved by preset '%s', this run uses preset '%s'", preset,
                            o->preset_name);
    if (n_groups != (uint32_t)o->n_groups)
        return mu_set_error(MU_EMISMATCH, "optimizer state: %u groups saved, preset '%s' has %d", n_groups,
                            o->preset_name, o->n_groups);
    char sig[SIG_MAX];
    size_t my_len = signatures(o, sig, sizeof sig);
    const char *saved = (const char *)b + ST_HEADER, *mine = sig;
    for (int32_t g = 0; g < o->n_groups; g++) {
        size_t left = (size_t)(b + ST_HEADER + sig_len - (const unsigned char *)saved);
        size_t sl = strnlen(saved, left);
        if (sl == left) return mu_set_error(MU_EFORMAT, "optimizer state: group %d signature not terminated", g);
        if (strcmp(saved, mine) != 0)
            return mu_set_error(MU_EMISMATCH,
                                "optimizer state: group %d was '%s' when saved, is '%s' now (different preset, "
                                "parameter set or momentum convention)",
                                g, saved, mine);
        saved += sl + 1;
        mine += strlen(mine) + 1;
    }
    if (my_len != sig_len) return mu_set_error(MU_EFORMAT, "optimizer state: trailing signature bytes");
    if (arena != arena_floats(o) * sizeof(float))
        return mu_set_error(MU_EMISMATCH, "optimizer state: arena of %llu bytes, this optimizer needs %zu",
                            (unsigned long long)arena, arena_floats(o) * sizeof(float));
    memcpy(o->state, b + ST_HEADER + sig_len, o->state_floats * sizeof(float));
    mu_grad_carry_load(o, b + ST_HEADER + sig_len + o->state_floats * sizeof(float));
    o->steps = steps;
    return MU_OK;
}

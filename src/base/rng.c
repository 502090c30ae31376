/* rng.c — xoshiro256** (Blackman & Vigna 2018) seeded by splitmix64.
 * mu_rng_at hashes (seed, a, b, c) into a fresh state: a counter-based stream,
 * so data order and dropout masks are pure functions of (seed, step, micro, row). */
#include <math.h>

#include "muon/base.h"

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void mu_rng_seed(mu_rng_t *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

void mu_rng_at(mu_rng_t *r, uint64_t seed, uint64_t a, uint64_t b, uint64_t c) {
    uint64_t x = seed;
    uint64_t h = splitmix64(&x);
    x = h ^ (a * 0xD6E8FEB86659FD93ull);
    h = splitmix64(&x);
    x = h ^ (b * 0xA0761D6478BD642Full);
    h = splitmix64(&x);
    x = h ^ (c * 0xE7037ED1A0B428DBull);
    mu_rng_seed(r, splitmix64(&x));
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t mu_rng_u64(mu_rng_t *r) {
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

uint64_t mu_rng_below(mu_rng_t *r, uint64_t n) {
    if (n <= 1) return 0;
    /* rejection sampling removes modulo bias */
    uint64_t lim = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = mu_rng_u64(r);
    while (x >= lim);
    return x % n;
}

float mu_rng_uniform(mu_rng_t *r) { return (float)(mu_rng_u64(r) >> 40) * (1.0f / 16777216.0f); }

float mu_rng_normal(mu_rng_t *r) {
    /* Box–Muller on (0,1] x [0,1): one normal per call, the pair's cosine branch */
    double u1 = ((double)(mu_rng_u64(r) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    double u2 = (double)(mu_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

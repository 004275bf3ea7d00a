/* rng.c — the documented generator: xoshiro256** (Blackman & Vigna) seeded
 * through splitmix64, plus a counter-based uniform for per-element draws. */
#include <math.h>

#include "src/base/base.h"

uint64_t emgmm_splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

void emgmm_rng_seed(emgmm_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ emgmm_splitmix64(stream + 0x632BE59BD9B4E019ull);
    for (int i = 0; i < 4; i++) {
        x += 0x9E3779B97F4A7C15ull;
        r->s[i] = emgmm_splitmix64(x);
    }
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t emgmm_rng_next(emgmm_rng *r)
{
    uint64_t *s = r->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double emgmm_rng_uniform(emgmm_rng *r) { return (double)(emgmm_rng_next(r) >> 11) * 0x1.0p-53; }

double emgmm_rng_normal(emgmm_rng *r)
{
    /* Box–Muller; u1 in (0,1] so the log is finite. */
    double u1 = 1.0 - emgmm_rng_uniform(r);
    double u2 = emgmm_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925286766559 * u2);
}

double emgmm_hash_uniform(uint64_t seed, uint64_t i, uint64_t j)
{
    uint64_t h = emgmm_splitmix64(seed ^ emgmm_splitmix64(i ^ emgmm_splitmix64(j + 0x1234567ull)));
    return (double)(h >> 11) * 0x1.0p-53;
}

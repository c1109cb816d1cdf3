#include "al_rng.h"

#include <math.h>

static uint64_t s_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline uint64_t s_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void al_rng_seed(al_rng_t *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = s_splitmix64(&x);
    /* splitmix64 is a bijection of its counter, so four consecutive outputs
     * cannot all be zero; the check documents the invariant. */
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
        r->s[0] = 1;
    r->has_spare = 0;
    r->spare = 0.0;
}

void al_rng_seed_stream(al_rng_t *r, uint64_t seed, uint64_t stream)
{
    /* Hash the stream index before combining so that neighbouring seqs give
     * unrelated seeds rather than neighbouring splitmix counters. */
    uint64_t h = stream;
    uint64_t mixed = s_splitmix64(&h);
    al_rng_seed(r, seed ^ mixed ^ 0x6a09e667f3bcc909ull);
}

uint64_t al_rng_u64(al_rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = s_rotl(s[0] + s[3], 23) + s[0];
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s_rotl(s[3], 45);
    return result;
}

uint32_t al_rng_u32(al_rng_t *r)
{
    return (uint32_t)(al_rng_u64(r) >> 32);
}

uint32_t al_rng_below(al_rng_t *r, uint32_t n)
{
    /* Lemire, "Fast random integer generation in an interval" (2019):
     * multiply-shift, rejecting the few low products that would bias. */
    uint64_t m = (uint64_t)al_rng_u32(r) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)(-n) % n;
        while (low < threshold) {
            m = (uint64_t)al_rng_u32(r) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

double al_rng_uniform(al_rng_t *r)
{
    return (double)(al_rng_u64(r) >> 11) * 0x1.0p-53;
}

float al_rng_uniformf(al_rng_t *r)
{
    return (float)(al_rng_u64(r) >> 40) * 0x1.0p-24f;
}

double al_rng_normal(al_rng_t *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    /* Box-Muller; 1 - u keeps the log argument in (0, 1]. */
    double u1 = 1.0 - al_rng_uniform(r);
    double u2 = al_rng_uniform(r);
    double rad = sqrt(-2.0 * log(u1));
    double ang = 2.0 * M_PI * u2;
    r->spare = rad * sin(ang);
    r->has_spare = 1;
    return rad * cos(ang);
}

void al_rng_cnormal(al_rng_t *r, double var, float *re, float *im)
{
    double s = sqrt(0.5 * var);
    *re = (float)(s * al_rng_normal(r));
    *im = (float)(s * al_rng_normal(r));
}

void al_rng_fill_normalf(al_rng_t *r, float *x, unsigned n, float stddev)
{
    for (unsigned i = 0; i < n; i++)
        x[i] = (float)(stddev * al_rng_normal(r));
}

void al_rng_add_normalf(al_rng_t *r, float *x, unsigned n, float stddev)
{
    /* Box-Muller in float, both outputs used: the simulated radio adds
     * noise to every sample, tens of millions per second. */
    const float scale = 1.0f / 16777216.0f;
    unsigned i = 0;
    for (; i + 1 < n; i += 2) {
        uint64_t bits = al_rng_u64(r);
        float u1 = (float)((bits >> 40) + 1) * scale;          /* (0, 1] */
        float u2 = (float)((bits >> 16) & 0xffffff) * scale;   /* [0, 1) */
        float rad = stddev * sqrtf(-2.0f * logf(u1));
        float s, c;
        sincosf(6.28318530718f * u2, &s, &c);
        x[i] += rad * c;
        x[i + 1] += rad * s;
    }
    if (i < n)
        x[i] += stddev * (float)al_rng_normal(r);
}

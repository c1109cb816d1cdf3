/* airlearn — seeded pseudo-random numbers (xoshiro256++).
 *
 * al_rng_t is a plain value (32 bytes of state plus a cached normal), so it
 * can live inside other objects or on the stack: no create/destroy, no
 * allocation. Not thread-safe: give each thread its own generator.
 *
 * The same seed gives the same sequence on every run and every machine
 * (integers exactly; floating-point draws up to the C library's log/sin/cos,
 * which are deterministic for a given libm).
 */
#ifndef AL_RNG_H
#define AL_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];       /* xoshiro256++ state, never all zero */
    double spare;        /* second normal of the last Box-Muller pair */
    int has_spare;       /* spare is valid */
} al_rng_t;

/* Seed from one 64-bit value (expanded with splitmix64). */
void al_rng_seed(al_rng_t *r, uint64_t seed);

/* Seed an independent stream from (seed, stream): used to regenerate the
 * labels of frame `seq` from the session seed on both sides of the link. */
void al_rng_seed_stream(al_rng_t *r, uint64_t seed, uint64_t stream);

uint64_t al_rng_u64(al_rng_t *r);
uint32_t al_rng_u32(al_rng_t *r);

/* Uniform integer in [0, n), n >= 1, without modulo bias (Lemire). */
uint32_t al_rng_below(al_rng_t *r, uint32_t n);

/* Uniform in [0, 1) with 53 (double) or 24 (float) random bits. */
double al_rng_uniform(al_rng_t *r);
float al_rng_uniformf(al_rng_t *r);

/* Standard normal N(0, 1). */
double al_rng_normal(al_rng_t *r);

/* Circular complex normal CN(0, var): real and imaginary parts each
 * N(0, var/2), independent. */
void al_rng_cnormal(al_rng_t *r, double var, float *re, float *im);

/* x[i] = N(0, stddev^2) for i < n. */
void al_rng_fill_normalf(al_rng_t *r, float *x, unsigned n, float stddev);

/* x[i] += N(0, stddev^2) for i < n: a faster float generator for bulk
 * noise (not the same sequence as al_rng_normal). */
void al_rng_add_normalf(al_rng_t *r, float *x, unsigned n, float stddev);

#endif

/* airlearn tests — a known unit-power complex Gaussian signal, shared by
 * the airsim tests (a burst to send, a signal to impair): the same seed
 * gives the same samples in both processes of a two-process test. The
 * caller frees the result. */
#ifndef UNIT_NOISE_H
#define UNIT_NOISE_H

#include "al_rng.h"

#include <complex.h>
#include <stdint.h>
#include <stdlib.h>

static inline float complex *unit_noise(uint64_t seed, size_t n)
{
    float complex *x = malloc(n * sizeof *x);
    if (x == NULL)
        return NULL;
    al_rng_t r;
    al_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) {
        float re, im;
        al_rng_cnormal(&r, 1.0, &re, &im);
        x[i] = re + I * im;
    }
    return x;
}

#endif

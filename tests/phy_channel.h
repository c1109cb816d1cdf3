/* Test helper: a sample-level channel for the PHY tests. Fractional delay
 * (windowed sinc), gain, carrier offset and phase, then AWGN at a given
 * Es/N0 for a signal of known per-sample power. Deterministic (al_rng). */
#ifndef PHY_CHANNEL_H
#define PHY_CHANNEL_H

#include <complex.h>
#include <math.h>
#include <stddef.h>

#include "al_rng.h"

/* y[n] = gain * e^{j(phase + cfo n)} * x(n - delay) + noise, for
 * n < len_y; x is zero outside [0, len_x). delay >= 0 in samples. */
static inline void phy_channel(const float complex *x, size_t len_x, float complex *y,
                               size_t len_y, double delay, double gain, double cfo,
                               double phase, double noise_var, al_rng_t *rng)
{
    enum { HALF = 16 };
    const long di = (long)floor(delay);
    const double frac = delay - (double)di;
    for (size_t n = 0; n < len_y; n++) {
        double complex acc = 0.0;
        for (long t = -HALF; t <= HALF; t++) {
            long src = (long)n - di - t;
            if (src < 0 || src >= (long)len_x)
                continue;
            double arg = (double)t - frac;
            double sinc = fabs(arg) < 1e-12 ? 1.0 : sin(M_PI * arg) / (M_PI * arg);
            double w = 0.54 + 0.46 * cos(M_PI * arg / (HALF + 1));
            acc += x[src] * sinc * w;
        }
        float nr = 0, ni = 0;
        if (noise_var > 0)
            al_rng_cnormal(rng, noise_var, &nr, &ni);
        y[n] = (float complex)(gain * cexp(I * (phase + cfo * (double)n)) * acc) + nr + ni * I;
    }
}

#endif

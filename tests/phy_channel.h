/* Test helper: a sample-level channel for the PHY tests. Fractional delay
 * (windowed sinc), sample-clock offset, gain, carrier offset and phase,
 * then AWGN at a given Es/N0 for a signal of known per-sample power.
 * Deterministic (al_rng). */
#ifndef PHY_CHANNEL_H
#define PHY_CHANNEL_H

#include <complex.h>
#include <math.h>
#include <stddef.h>

#include "al_rng.h"

/* y[n] = gain * e^{j(phase + cfo n)} * x(n / (1 + sco) - delay) + noise,
 * for n < len_y; x is zero outside [0, len_x). delay >= 0 in samples;
 * sco > 0: the receiver's sample clock runs fast by that fraction (a
 * symbol spans sps (1 + sco) received samples). */
static inline void phy_channel_sco(const float complex *x, size_t len_x, float complex *y,
                                   size_t len_y, double delay, double sco, double gain,
                                   double cfo, double phase, double noise_var, al_rng_t *rng)
{
    enum { HALF = 16 };
    for (size_t n = 0; n < len_y; n++) {
        /* The delay grows along the stream by what the clocks disagree. */
        const double d = delay + (double)n * sco / (1.0 + sco);
        const long di = (long)floor(d);
        const double frac = d - (double)di;
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

/* The same without a sample-clock offset. */
static inline void phy_channel(const float complex *x, size_t len_x, float complex *y,
                               size_t len_y, double delay, double gain, double cfo,
                               double phase, double noise_var, al_rng_t *rng)
{
    phy_channel_sco(x, len_x, y, len_y, delay, 0.0, gain, cfo, phase, noise_var, rng);
}

#endif

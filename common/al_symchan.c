#include "al_symchan.h"

#include "al_names.h"

#include <math.h>
#include <string.h>

const char *const al_chan_kind_names[] = {"awgn", "rayleigh", NULL};

const char *al_chan_name(al_chan_kind kind)
{
    return al_name_of(al_chan_kind_names,
                      sizeof al_chan_kind_names / sizeof al_chan_kind_names[0] - 1, (int)kind);
}

double al_snr_db_to_noise_var(double snr_db)
{
    return pow(10.0, -snr_db / 10.0);
}

void al_symchan_apply(al_chan_kind kind, const float *x, unsigned B, unsigned N,
                      double noise_var, al_rng_t *rng, float *y, float *h)
{
    const size_t two_n = 2 * (size_t)N;
    for (unsigned i = 0; i < B; i++) {
        float hr = 1.0f, hi = 0.0f;
        if (kind == AL_CHAN_RAYLEIGH_BLOCK) {
            al_rng_cnormal(rng, 1.0, &hr, &hi);
            if (h != NULL) {
                h[2 * i] = hr;
                h[2 * i + 1] = hi;
            }
        }
        const float *xi = x + i * two_n;
        float *yi = y + i * two_n;
        for (unsigned k = 0; k < N; k++) {
            const float a = xi[2 * k], b = xi[2 * k + 1];
            float nr, ni;
            al_rng_cnormal(rng, noise_var, &nr, &ni);
            yi[2 * k] = hr * a - hi * b + nr;
            yi[2 * k + 1] = hr * b + hi * a + ni;
        }
    }
}

void al_symchan_backward(al_chan_kind kind, const float *dy, const float *h, unsigned B,
                         unsigned N, float *dx)
{
    const size_t total = (size_t)B * 2 * N;
    if (kind == AL_CHAN_AWGN) {
        if (dx != dy)
            memmove(dx, dy, sizeof(float) * total);
        return;
    }
    for (unsigned i = 0; i < B; i++) {
        const float hr = h[2 * i], hi = h[2 * i + 1];
        for (unsigned k = 0; k < N; k++) {
            const size_t o = ((size_t)i * N + k) * 2;
            const float gr = dy[o], gi = dy[o + 1];
            dx[o] = hr * gr + hi * gi;
            dx[o + 1] = hr * gi - hi * gr;
        }
    }
}

/* airlearn — symbol-level channels for simulation (no DSP).
 *
 * Used by `airlearn sim` and the tests: the channel between TX symbols and
 * RX input when there is no radio. Symbols are interleaved I/Q floats,
 * B messages of N complex symbols. Noise variance per complex symbol is
 * 10^(-snr_db/10) for unit average symbol energy (SPEC §1).
 *  AWGN           : y = x + n
 *  Rayleigh block : y = h x + n, h ~ CN(0, 1) drawn once per message and
 *                   constant over its N symbols
 * Stateless functions; the caller's al_rng_t carries the randomness.
 */
#ifndef AL_SYMCHAN_H
#define AL_SYMCHAN_H

#include "al_rng.h"

typedef enum {
    AL_CHAN_AWGN = 0,
    AL_CHAN_RAYLEIGH_BLOCK = 1,
} al_chan_kind;

/* "awgn", "rayleigh". The names, index = al_chan_kind, NULL-terminated
 * (for option tables). */
extern const char *const al_chan_kind_names[];
const char *al_chan_name(al_chan_kind kind);

/* Noise variance per complex symbol for an Es/N0 in dB. */
double al_snr_db_to_noise_var(double snr_db);

/*  x : [size: B*2N] channel input; y : [size: B*2N] output (may alias x)
 *  h : [size: B*2] the fading gain of each message (Rayleigh), or NULL */
void al_symchan_apply(al_chan_kind kind, const float *x, unsigned B, unsigned N,
                      double noise_var, al_rng_t *rng, float *y, float *h);

/* dL/dx from dL/dy, for training through a known channel (supervised
 * reference only): AWGN dx = dy; Rayleigh dx = conj(h) dy per message.
 * dx may alias dy. h as returned by al_symchan_apply. */
void al_symchan_backward(al_chan_kind kind, const float *dy, const float *h, unsigned B,
                         unsigned N, float *dx);

#endif

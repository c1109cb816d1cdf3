/* airlearn — the simulated radio channel applied by an airsim RX device.
 *
 * Two stages, because a burst and the continuous stream are different
 * things:
 *
 *   airsim_chan_burst()  on the samples of one TX burst, where it lands on
 *                        the RX timeline: path gain and fading (block
 *                        fading needs to know where bursts start);
 *   airsim_chan_stream() on the continuous RX stream (bursts and the
 *                        silence between them): multipath and carrier
 *                        offset (liquid channel_cccf), fractional delay
 *                        (liquid fdelay_crcf), then AWGN from the project's
 *                        seeded RNG (channel_cccf's noise uses the C
 *                        library's rand(), which no seed of ours controls),
 *                        then the RX front end: its oscillator (carrier
 *                        offset -ppm x frequency, Wiener phase noise), IQ
 *                        imbalance, DC offset.
 *
 * The oscillators of the two boards (`ppm`): a TX at e_tx = ppm_tx 1e-6
 * tuned to f_tx puts its carrier e_tx f_tx off and its samples 1/(1+e_tx)
 * of a nominal sample apart. airsim_chan_tx_carrier() rotates a burst by
 * the TX's part (as a function of TX time, so bursts stay phase-coherent),
 * airsim_chan_scatter() places it on the RX timeline through a windowed-
 * sinc interpolator at (1+e_rx)/(1+e_tx) RX samples per TX sample
 * (airsim_chan_clock_ratio). The interpolator is written in its transposed
 * form: each TX sample adds its kernel into the RX buffer around its
 * position, so the sum over messages, bursts and the silence between them
 * is one continuous resampled stream, with no state carried between calls.
 *
 * The stream stage delays by airsim_chan_latency() + the fractional part
 * of `delay`; the caller places bursts airsim_chan_int_delay() samples late
 * and labels stream sample k with time k - latency, so that a burst sent
 * at time t is received at exactly t + delay.
 *
 * Owns its liquid objects; one thread at a time.
 */
#ifndef AIRSIM_CHAN_H
#define AIRSIM_CHAN_H

#include "airsim_config.h"

#include <complex.h>
#include <stdint.h>

typedef struct airsim_chan_s airsim_chan_t;

/* rate: samples per second (for cfo and doppler). NULL and an
 * al_error_message() on a bad configuration (|cfo| >= rate/2, ...). */
airsim_chan_t *airsim_chan_create(const airsim_config *cfg, double rate);
void airsim_chan_destroy(airsim_chan_t **self_p);

/* Back to the state right after create (same seed, same output). */
void airsim_chan_reset(airsim_chan_t *q);

unsigned airsim_chan_latency(const airsim_chan_t *q);
int64_t airsim_chan_int_delay(const airsim_chan_t *q);

/* Gain and fading, in place, on n samples of a burst whose first sample
 * lands at stream index t0; first_of_burst starts a new fading block. */
void airsim_chan_burst(airsim_chan_t *q, float complex *x, unsigned n, int64_t t0,
                       int first_of_burst);

/* Half-length of the resampling kernel, in samples. */
enum { AIRSIM_CHAN_RESAMP_M = 8 };

/* The RX's tuned frequency (Hz): with `ppm`, its carrier offset. */
void airsim_chan_set_frequency(airsim_chan_t *q, double freq);

/* RX samples per TX sample for a TX with this ppm: (1+e_rx)/(1+e_tx). */
double airsim_chan_clock_ratio(const airsim_chan_t *q, double ppm_tx);

/* The TX oscillator's carrier offset, in place, on n samples of a burst
 * from a TX at (ppm_tx, freq_tx) whose first sample has TX time t. */
void airsim_chan_tx_carrier(const airsim_chan_t *q, float complex *x, unsigned n, int64_t t,
                            double ppm_tx, double freq_tx);

/* Adds x[i], at stream position k0 + frac + i ratio (0 <= frac < 1), into
 * ring (mask + 1 samples, a power of two): each sample reaches indices
 * (u - M, u + M], M = AIRSIM_CHAN_RESAMP_M; indices below k_min (already
 * delivered) are left alone. Nothing allocated. */
void airsim_chan_scatter(const airsim_chan_t *q, const float complex *x, unsigned n, int64_t k0,
                         double frac, double ratio, float complex *ring, int64_t mask,
                         int64_t k_min);

/* The stream stage, y may equal x. Nothing allocated. */
void airsim_chan_stream(airsim_chan_t *q, const float complex *x, float complex *y, unsigned n);

#endif

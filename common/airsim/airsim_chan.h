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
 *                        library's rand(), which no seed of ours controls).
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

/* The stream stage, y may equal x. Nothing allocated. */
void airsim_chan_stream(airsim_chan_t *q, const float complex *x, float complex *y, unsigned n);

#endif

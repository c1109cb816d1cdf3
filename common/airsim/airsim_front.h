/* airlearn — the radio front ends of airsim's profiles: how samples are
 * converted between the stream formats and the channel, and the receiver
 * model of the hackrf and b2x0 profiles.
 *
 * Receiver (hackrf, b2x0): the channel output x is in units of the TX
 * signal (|x|^2 = 1: a unit-power signal sent at maximum TX gain, tx_dbm
 * at the antenna when the path gain is 0 dB). The receiver adds thermal
 * noise of its noise figure at the antenna, kTBF = -174 dBm/Hz +
 * 10 log10(rate) + nf_db, amplifies signal and noise alike by the RX gain
 * G, and the ADC sees
 *
 *     y = (x + n) * 10^((tx_dbm - fs_dbm + G) / 20),   E|n|^2 = kTBF / tx_dbm
 *
 * full scale (|y| = 1) being fs_dbm at the antenna at G = 0 dB. Then
 * adc_bits quantize: q = clamp(round(y L), -L - 1, L), L = 2^(bits-1) - 1,
 * delivered as q / L (SoapyHackRF converts its int8 samples to float as
 * value / 127). At low gain the noise floor is far below one LSB and the
 * samples are 0, as on a real board; at high gain the noise fills LSBs and
 * strong signals clip.
 * ideal: y = x * 10^(G / 20) (G: the PATH gain, digital), then adc_bits if
 * given; no thermal noise.
 *
 * Transmitter: the TX gain scales the signal by 10^((G - Gmax) / 20) (the
 * caller's business); hackrf converts every written sample to the board's
 * int8 as SoapyHackRF 0.3.x writebuf() does: CF32 (int8_t)(x * 127.0),
 * truncated toward zero and, outside the int8 range, wrapped modulo 256
 * (what that conversion compiles to on x86-64 and ARM), CS16 s >> 8, CS8
 * as is; the DAC sends q / 127.
 *
 * One object per RX stream, one thread at a time; owns nothing but itself.
 */
#ifndef AIRSIM_FRONT_H
#define AIRSIM_FRONT_H

#include "airsim_config.h"

#include <stdint.h>
#ifndef __cplusplus
#include <complex.h>
#endif

typedef enum { AIRSIM_CF32 = 0, AIRSIM_CS16 = 1, AIRSIM_CS8 = 2 } airsim_format;

typedef struct airsim_front_s airsim_front_t;

/* NULL and al_error_message() on failure. */
airsim_front_t *airsim_front_create(const airsim_config *cfg, double rate);
void airsim_front_destroy(airsim_front_t **self_p);
/* Same seed, same noise again. */
void airsim_front_reset(airsim_front_t *q);

/* RX gain, dB (the sum of the gain elements). */
void airsim_front_set_gain(airsim_front_t *q, double db);

#ifndef __cplusplus   /* C99 complex; the C++ module glue needs none of these */
/* Receives n channel samples x (modified: scratch) into out in format
 * fmt. Nothing allocated. */
void airsim_front_rx(airsim_front_t *q, float complex *x, void *out, airsim_format fmt,
                     unsigned n);

/* Converts n written samples in format fmt into channel samples out, as
 * the profile's driver and DAC do (no gain). */
void airsim_front_tx(int profile, const void *in, airsim_format fmt, float complex *out,
                     unsigned n);
#endif

#endif

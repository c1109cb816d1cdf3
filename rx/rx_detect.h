/* airlearn — preamble detector by differential correlation.
 *
 * A coherent correlator must search over carrier offsets: a frequency
 * error turns the preamble's phase through several radians and the
 * correlation collapses. liquid's qdetector_cccf does that search with one
 * inverse FFT per frequency bin, which made detection most of the
 * receiver's time. This detector correlates the lag-k products
 * z[n] = x[n] conj(x[n-k]) (k = samples per symbol) with the same products
 * of the shaped preamble: a carrier offset w only turns every product by
 * the same angle w k, so one correlation per block finds the preamble at
 * any offset |w| < pi/k, and that angle is the offset's estimate. The
 * price is a few dB of detection SNR, which a 64-symbol preamble has to
 * spare at the SNRs the link trains at.
 *
 * The statistic is the correlation normalised by both energies (in
 * [0, 1], Cauchy-Schwarz), so the threshold does not depend on the
 * signal level. A window counts only with real energy: exact zeros
 * (8-bit samples at low gain) and windows at the level of the block's
 * rounding, 120 dB below it in product energy, never trigger. Correlation is by overlap-save FFT with FFTW (liquid's
 * own FFT took a third of the receiver's time). The peak is the largest statistic within 2k samples after
 * the first crossing; a parabola through it and its neighbours gives the
 * fractional timing.
 *
 * Buffers are sized at create; execute allocates nothing. One thread at a
 * time per object; create and destroy call FFTW's planner, which is not
 * thread-safe: create detectors from one thread.
 */
#ifndef RX_DETECT_H
#define RX_DETECT_H

#include <complex.h>
#include <stddef.h>

typedef struct {
    const float complex *buf;  /* samples from the preamble's first one on [len];
                                  valid until the next call on the detector */
    unsigned len;              /* ends with the last sample consumed */
    float tau;                 /* fractional timing: the preamble starts at buf + tau */
    float dphi;                /* carrier offset, radians per sample */
    float phi;                 /* carrier phase at buf[0], radians */
    float rho;                 /* normalised correlation at the peak, (0, 1] */
} rx_detect_result;

typedef struct rx_detect rx_detect_t;

/* preamble [size: L] symbols, shaped by an RRC of k samples per symbol,
 * delay m symbols and roll-off beta, as the transmitter does.
 * threshold in (0, 1). NULL on bad arguments or no memory (al_error). */
rx_detect_t *rx_detect_create(const float complex *preamble, unsigned L, unsigned k, unsigned m,
                              float beta, float threshold);
void rx_detect_destroy(rx_detect_t **self_p);

/* Forgets every buffered sample (after a frame, which never overlaps the
 * next one). */
void rx_detect_reset(rx_detect_t *q);

/* Consumes samples of x [size: n] until a preamble is found or x ends.
 * Returns the number consumed; *found is 1 with *res filled when a
 * preamble was found, the detector then holds nothing (as after reset). */
size_t rx_detect_execute(rx_detect_t *q, const float complex *x, size_t n, int *found,
                         rx_detect_result *res);

/* The most samples a result can hold (res->len): the window and its
 * history. */
unsigned rx_detect_max_result(const rx_detect_t *q);

#endif

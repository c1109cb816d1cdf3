/* airlearn — the conventional scheme of a learned system's rate: uncoded
 * QAM, mapped and detected symbol by symbol.
 *
 * A message of M = 2^(bits N) is sent as N symbols of `bits` bits each,
 * symbol s carrying bits [s bits, (s+1) bits) of the message (symbol 0
 * first in time). Within a symbol the low ceil(bits/2) bits pick the
 * in-phase level and the rest the quadrature level, each in natural
 * binary order (level j of L at (2j - (L-1)) d): an even `bits` is the
 * square QAM (2: QPSK, 4: 16-QAM, ...), an odd one the rectangular QAM
 * with twice as many in-phase as quadrature levels (1: BPSK, 3: 4x2
 * 8-QAM), not the cross constellations, whose minimum-distance detector
 * is not a pair of slicers. The labels are not Gray coded: only message
 * errors are counted here, and those do not depend on the labelling.
 * d makes the average energy per symbol 1 over uniformly drawn messages,
 * as the learned constellation's (AL_POWER_AVERAGE).
 * Detection is minimum distance (maximum likelihood over AWGN): each
 * dimension sliced to its nearest level.
 *
 * The object is immutable after create: any number of threads may use
 * one at once. Nothing allocates after create.
 */
#ifndef AL_QAM_H
#define AL_QAM_H

#include <stdint.h>

enum {
    AL_QAM_MAX_BITS = 16,        /* bits per symbol: 256 levels per dimension */
    AL_QAM_MAX_MESSAGE_BITS = 31 /* bits N: messages are uint32_t */
};

typedef struct al_qam al_qam_t;

/* Bits per symbol of the same-rate scheme for M messages on N symbols:
 * log2(M) / N when M is a power of two and N divides log2(M) (and it
 * stays within AL_QAM_MAX_BITS); 0 when there is no such scheme (then
 * no baseline is sent, e.g. M=8, N=2: 1.5 bits per symbol). */
unsigned al_qam_bits_for_rate(unsigned M, unsigned N);

/* bits in 1..AL_QAM_MAX_BITS, N >= 1, bits N <= AL_QAM_MAX_MESSAGE_BITS;
 * NULL (AL_EINVAL message) otherwise. */
al_qam_t *al_qam_create(unsigned bits, unsigned N);
void al_qam_destroy(al_qam_t **self_p);

unsigned al_qam_bits(const al_qam_t *q);
unsigned al_qam_N(const al_qam_t *q);
/* "bpsk", "qpsk", "8qam" (4x2), "16qam", "32qam" (8x4), ... */
const char *al_qam_name(const al_qam_t *q);

/* The point of symbol value v (its low `bits` bits). */
void al_qam_point(const al_qam_t *q, uint32_t v, float *re, float *im);
/* The symbol value of the nearest point to (re, im). */
uint32_t al_qam_slice(const al_qam_t *q, float re, float im);

/*  msgs : [size: count] messages < 2^(bits N)
 *  x    : [size: count * 2N] interleaved I, Q, one row per message */
void al_qam_encode(const al_qam_t *q, const uint32_t *msgs, unsigned count, float *x);
/*  y : [size: count * 2N]; dec : [size: count] minimum-distance decisions */
void al_qam_decide(const al_qam_t *q, const float *y, unsigned count, uint32_t *dec);

/* Closed-form message error rate over AWGN at Es/N0 = snr_db (noise
 * variance 10^(-snr_db/10) per complex symbol): each dimension of L
 * levels errs with 2 (1 - 1/L) Q(d / sigma), independently. */
double al_qam_ser_awgn(const al_qam_t *q, double snr_db);

#endif

/* airlearn — the payload of an EVAL frame: learned messages and the
 * conventional scheme of the same rate (al_qam) interleaved, so that both
 * are measured on the same frames, after the same synchronisation, at the
 * same power.
 *
 * Of the P message slots of a frame, the even ones (0, 2, ...) carry
 * learned messages and the odd ones baseline messages: ceil(P/2) learned
 * and floor(P/2) baseline messages per frame. Every slot's label is the
 * frame's label draw from (session seed, seq), as in every other frame.
 * Both kinds have unit average energy per symbol (the learned
 * constellation by its AL_POWER_AVERAGE normalisation, the QAM by its
 * scale), so the frame's level and the receiver's gain are shared fairly.
 * When (M, N) has no same-rate QAM (al_qam_bits_for_rate() is 0) every
 * slot is learned, as in the other phases.
 *
 * Buffers are sized at create; nothing allocates after it. One thread at
 * a time per object.
 */
#ifndef AL_EVALMIX_H
#define AL_EVALMIX_H

#include <stdint.h>

#include "al_qam.h"

typedef struct al_evalmix al_evalmix_t;

/* M >= 2, N >= 1, P >= 1. */
al_evalmix_t *al_evalmix_create(unsigned M, unsigned N, unsigned P);
void al_evalmix_destroy(al_evalmix_t **self_p);

/* The baseline, NULL when there is none. */
const al_qam_t *al_evalmix_baseline(const al_evalmix_t *q);
unsigned al_evalmix_learned_count(const al_evalmix_t *q);   /* per frame */
unsigned al_evalmix_baseline_count(const al_evalmix_t *q);  /* per frame, 0 without one */

/* The learned slots' labels, in order, from the frame's labels [P].
 * Returns [learned_count], owned by q, valid until the next call. */
const uint32_t *al_evalmix_learned_labels(al_evalmix_t *q, const uint32_t *labels);

/* Transmitter. On entry payload [2PN] holds the learned messages'
 * symbols, learned_count rows of 2N floats from its start (what the TX
 * network encodes from al_evalmix_learned_labels); on return it is the
 * frame's payload, with the baseline messages of labels [P] in the odd
 * slots. */
void al_evalmix_compose(const al_evalmix_t *q, const uint32_t *labels, float *payload);

/* Receiver. The learned slots' symbols of a received payload [2PN], in
 * order: [learned_count * 2N], owned by q, valid until the next call. */
const float *al_evalmix_learned_symbols(al_evalmix_t *q, const float *payload);

/* Receiver. Message errors of the baseline slots of payload [2PN] against
 * labels [P], by minimum-distance detection. */
unsigned al_evalmix_baseline_errors(const al_evalmix_t *q, const float *payload,
                                    const uint32_t *labels);

#endif

/* airlearn — builds the IQ samples of one frame (layout in al_frame.h).
 *
 * Preamble, coded header and the learned payload symbols are shaped with
 * a root-raised-cosine interpolator and scaled so that the frame's RMS
 * level is level_dbfs (relative to full scale 1.0): with the default
 * -12 dBFS the peaks of a unit-energy constellation stay below full scale
 * (tx_frame_papr_db reports the last frame's peak-to-average ratio).
 * Buffers are sized at create; execute allocates nothing.
 * One thread at a time per object.
 */
#ifndef TX_FRAME_H
#define TX_FRAME_H

#include <complex.h>

#include "al_frame.h"

typedef struct {
    al_frame_config frame;
    float level_dbfs;   /* RMS level of the frame, -60..0 dBFS */
} tx_frame_config;

typedef struct tx_frame tx_frame_t;

tx_frame_t *tx_frame_create(const tx_frame_config *cfg);
void tx_frame_destroy(tx_frame_t **self_p);

/* Samples in every frame (al_frame_samples). */
unsigned tx_frame_length(const tx_frame_t *q);

/*  h       : header; messages must equal the configured P (AL_EINVAL)
 *  payload : P*N symbols as interleaved I, Q floats [size: 2*P*N]
 *  out     : [size: tx_frame_length(q)] */
int tx_frame_execute(tx_frame_t *q, const al_frame_header *h, const float *payload,
                     float complex *out);

/* Shifts the frames up by if_offset cycles/sample (offset tuning: with
 * the radio's LO tuned that much below the carrier, its leakage lies
 * outside the frame's band; the receiver shifts down by the same,
 * rx_frame_set_if_offset). |if_offset| + (1 + rolloff) / (2 sps) <= 0.5,
 * else AL_EINVAL. 0 (the default): no shift. */
int tx_frame_set_if_offset(tx_frame_t *q, float if_offset);

/* Changes the RMS level from the next frame on (the SER-against-SNR
 * sweep steps it); same range as level_dbfs, else AL_EINVAL. */
int tx_frame_set_level(tx_frame_t *q, float level_dbfs);

/* Peak-to-average power ratio of the last frame, dB. */
float tx_frame_papr_db(const tx_frame_t *q);

#endif

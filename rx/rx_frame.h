/* airlearn — streaming frame receiver: samples in, payload symbols out.
 *
 * Fed sample blocks of any size (a frame may straddle blocks; the output
 * does not depend on how the stream is cut). While searching, rx_detect
 * finds the preamble and estimates timing (to about a sample), carrier
 * frequency offset and phase; the frame is then mixed down and stored.
 * Ahead of detection, a DC blocker removes the stream's mean (the LO
 * leakage at the centre of the band: SoapyHackRF has no DC correction)
 * and an optional IF shift brings a frame sent off centre (offset
 * tuning) down to baseband.
 * At its end, the preamble's fit through a 256-phase polyphase RRC bank
 * gives the symbol alignment and then the fractional timing; the matched
 * filter runs once per symbol at that timing. The preamble's phase slope
 * refines the frequency, and its least-squares fit gives the complex
 * gain and an SNR estimate. Along the frame, the symbol energy at a
 * quarter symbol either side of the timing tracks how the timing drifts
 * (sample-clock offset); a long frame is resampled by it.
 * The header is decoded (CRC-32) and validated; a least-squares phase
 * line through preamble, header and the payload's pilots removes what
 * the payload still turns by; then the payload is delivered through the
 * callback as P*N symbols (pilots removed) with unit average energy:
 *   equalise = 1 (AWGN receiver): divided by the complex gain (phase
 *     corrected);
 *   equalise = 0 (fading receiver): divided by its magnitude only and
 *     rotated by the detector's coarse carrier phase; what the channel
 *     does to the phase beyond that is left to the receiver network.
 * Every detection ends in one outcome counted per reason (rtl_433 style).
 * Buffers are sized at create; execute allocates nothing.
 * One thread at a time per object.
 */
#ifndef RX_FRAME_H
#define RX_FRAME_H

#include <complex.h>
#include <stddef.h>
#include <stdint.h>

#include "al_frame.h"

#define RX_FRAME_OUTCOMES(X)                                       \
    X(RXF_OK, "frame delivered")                                   \
    X(RXF_HEADER_CRC, "header CRC failed (noise or lost header)")  \
    X(RXF_VERSION, "unknown frame format version")                 \
    X(RXF_PHASE, "unknown phase")                                  \
    X(RXF_COUNT, "message count differs from the configuration")

typedef enum {
#define RXF_ENUM(name, text) name,
    RX_FRAME_OUTCOMES(RXF_ENUM)
#undef RXF_ENUM
    RXF_OUTCOME_COUNT
} rx_frame_outcome;

const char *rx_frame_outcome_text(int outcome);

typedef struct {
    al_frame_config frame;
    int equalise;         /* 1: correct phase (AWGN RX); 0: gain only (fading RX) */
    float threshold;      /* detector threshold in (0, 1) (rx_detect); 0: 0.5 */
} rx_frame_config;

typedef struct {
    al_frame_header header;
    const float *symbols;   /* [size: 2*P*N] interleaved I, Q; valid during the callback */
    float snr_db;           /* symbol SNR from the fit of preamble and header */
    double es, n0;          /* the same fit's symbol energy and noise variance per symbol,
                               each unbiased (for Es/N0 over many frames: sum each, divide) */
    float cfo;              /* carrier offset, radians per sample (after the IF shift) */
    float gain_db;          /* received amplitude relative to the TX symbols */
    uint64_t sample;        /* stream index where the frame was detected */
    float sco_ppm;          /* sample-clock offset along the frame, ppm: the receiver's
                               clock fast (+) or slow (-) against the transmitter's */
    float sco_sd_ppm;       /* its standard error (about 65 ppm for 256 payload symbols,
                               1 ppm for 8192): average over frames */
    float level_dbfs;       /* RMS of the frame's samples (signal and noise), dBFS */
    float noise_dbfs;       /* noise per sample over the whole sampled band, dBFS */
    float dc_dbfs;          /* the stream's DC when the frame was detected, dBFS */
} rx_frame_result;

typedef void (*rx_frame_callback)(void *user, const rx_frame_result *r);

typedef struct rx_frame rx_frame_t;

rx_frame_t *rx_frame_create(const rx_frame_config *cfg, rx_frame_callback cb, void *user);
void rx_frame_destroy(rx_frame_t **self_p);
void rx_frame_reset(rx_frame_t *q);

/* Where the frames sit in the received band, cycles/sample: the
 * transmitter's tx_frame_set_if_offset (offset tuning: the LO leakage
 * then lies outside the frame's band); the receiver shifts them down
 * before detection. |if_offset| + (1 + rolloff) / (2 sps) <= 0.5, else
 * AL_EINVAL. 0 (the default): at the centre, no shift. Takes effect from
 * the next sample; call it before the first or after a reset. */
int rx_frame_set_if_offset(rx_frame_t *q, float if_offset);

/* remove = 1 (the default): subtract the stream's DC (the LO leakage at
 * the centre of the band) before detection; 0: leave it. The DC is
 * measured either way (rx_frame_result.dc_dbfs). */
void rx_frame_set_dc_removal(rx_frame_t *q, int remove);

/*  x : samples [size: n]; calls cb for every frame completed in them. */
int rx_frame_execute(rx_frame_t *q, const float complex *x, size_t n);

typedef struct {
    uint64_t detected;                    /* preamble detections */
    uint64_t outcome[RXF_OUTCOME_COUNT];  /* what became of them */
} rx_frame_counters;

const rx_frame_counters *rx_frame_get_counters(const rx_frame_t *q);

#endif

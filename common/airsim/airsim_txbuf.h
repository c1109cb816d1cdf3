/* airlearn — the TX path of a HackRF (profile=hackrf), on top of an
 * airsim_tx_t: SoapyHackRF 0.3.x HackRF_Streaming.cpp keeps `buffers`
 * (stream argument, default 15) buffers of 131072 samples (BUF_LEN 262144
 * bytes of int8 I/Q); writeStream fills the current one, which goes to
 * the queue only once full; libhackrf's USB callback takes one queued
 * buffer per 131072 samples of air time, or sends zeros and sets the
 * underflow flag when none is queued. END_BURST and timestamps are
 * ignored.
 *
 * Air time ("ticks" of AIRSIM_HACKRF_BUFLEN samples from activation):
 *   realtime  a thread plays libhackrf's callback: tick k is on the air
 *             k * 131072 / rate seconds after activation; AIRSIM_TXBUF_AHEAD_S
 *             before that, the callback takes the oldest queued buffer (a
 *             slot is free again) and sends it as TX samples
 *             [k * 131072, (k + 1) * 131072), or sets the underflow flag.
 *             A buffer completed at time c airs within
 *             [c + AHEAD, c + AHEAD + 131072 / rate] when the queue is
 *             empty; a writer that keeps the queue full waits in
 *             writeStream, and a buffer it queues airs
 *             buffers * 131072 / rate + AHEAD after that write returns.
 *   fast      no wall time: a buffer is aired as soon as it is full, at
 *             the next tick, back to back (the j-th full buffer since
 *             activation is TX samples [j * 131072, (j + 1) * 131072)).
 *             The latency is the partial buffer's: a short burst is held
 *             until 131072 samples have been written after its start.
 *             No underflows (time does not pass between writes).
 * Deactivation stops the ticks (queued buffers wait); destroy discards
 * queued and partial buffers, as hackrf_stop_tx and closeStream do.
 *
 * One writer thread at a time; the realtime thread is internal.
 */
#ifndef AIRSIM_TXBUF_H
#define AIRSIM_TXBUF_H

#include "airsim_link.h"

/* realtime: the callback for a tick runs this long before the tick's air
 * time, as libhackrf fills USB transfers that reach the air later; it
 * also keeps the simulation on time when the thread is scheduled late. */
#define AIRSIM_TXBUF_AHEAD_S 0.100

enum {
    AIRSIM_HACKRF_BUFLEN = 131072,   /* samples: BUF_LEN / BYTES_PER_SAMPLE */
    AIRSIM_HACKRF_BUFFERS = 15,      /* BUF_NUM */
};

typedef struct airsim_txbuf_s airsim_txbuf_t;

/* buffers > 0. Connects to cfg->link. NULL and al_error_message(). */
airsim_txbuf_t *airsim_txbuf_create(const airsim_config *cfg, double rate, unsigned buffers);
void airsim_txbuf_destroy(airsim_txbuf_t **self_p);

/* Starts the ticks from now (a new timeline); no-op when running. */
int airsim_txbuf_activate(airsim_txbuf_t *q);
void airsim_txbuf_deactivate(airsim_txbuf_t *q);

/* Takes min(n, 131072) samples as SoapyHackRF's writeStream: into the
 * current buffer, then a new one, waiting up to timeout_us for a free
 * buffer; SOAPY_SDR_TIMEOUT when none frees (even if some samples went
 * into the current buffer, as 0.3.3 does). */
int airsim_txbuf_write(airsim_txbuf_t *q, const void *buf, airsim_format fmt, unsigned n,
                       long timeout_us);

/* SOAPY_SDR_UNDERFLOW once per raised flag, else SOAPY_SDR_TIMEOUT after
 * timeout_us (readStreamStatus of 0.3.x). */
int airsim_txbuf_status(airsim_txbuf_t *q, long timeout_us);

/* Waits until no full buffer is queued: 0, or SOAPY_SDR_TIMEOUT. */
int airsim_txbuf_wait_empty(airsim_txbuf_t *q, long timeout_us);

void airsim_txbuf_set_gain(airsim_txbuf_t *q, double db);
int airsim_txbuf_link_up(airsim_txbuf_t *q);

#endif

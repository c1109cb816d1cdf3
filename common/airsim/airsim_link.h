/* airlearn — the two ends of an airsim link: the TX stream pushes
 * timestamped bursts over ZeroMQ; the RX stream places them on its own
 * timeline, applies the channel and delivers a continuous stream.
 *
 * Sockets: the RX binds a PULL socket at `link`, the TX connects a PUSH
 * socket to it; either may start first, either may restart. One TX per
 * link: a second TX's bursts are dropped (counted) while the first one
 * is talking.
 *
 * Clocks (`clock=`):
 *   realtime  both ends count samples of CLOCK_MONOTONIC since activation;
 *             the TX blocks to keep at most AIRSIM_TX_LEAD_S of samples
 *             ahead of its clock (a hardware buffer), the RX hands out
 *             samples no faster than they "arrive". A new TX timeline is
 *             anchored AIRSIM_AIR_LATENCY_S after the RX's present.
 *   fast      the TX's sample count is the clock: the RX hands out every
 *             sample up to the end of the last burst received (silence
 *             between bursts included) at once and waits only for the TX.
 *             Backpressure (ZeroMQ high-water marks) keeps the TX from
 *             running ahead, so nothing is ever dropped.
 *
 * Return values follow SoapySDR (the module forwards them): a count of
 * samples, or SOAPY_SDR_TIMEOUT, SOAPY_SDR_STREAM_ERROR (peer gone: the
 * call can simply be repeated and succeeds again once the peer is back),
 * SOAPY_SDR_OVERFLOW, SOAPY_SDR_UNDERFLOW, SOAPY_SDR_TIME_ERROR.
 *
 * Each object is used by one thread at a time (its owner's stream
 * thread); it owns its ZeroMQ context, sockets and buffers.
 */
#ifndef AIRSIM_LINK_H
#define AIRSIM_LINK_H

#include "airsim_config.h"
#include "airsim_front.h"

#include <complex.h>
#include <stdint.h>

#define AIRSIM_TX_LEAD_S 0.02
#define AIRSIM_AIR_LATENCY_S 0.005

typedef struct {
    uint64_t messages;         /* burst messages sent / placed */
    uint64_t samples;          /* samples sent / delivered to the reader */
    uint64_t underflows;       /* TX: late writes inside a burst */
    uint64_t time_errors;      /* TX: timestamps in the past */
    uint64_t overflows;        /* RX: reader too slow, samples skipped */
    uint64_t dropped;          /* TX: fault injection; RX: foreign TX */
    uint64_t lost;             /* RX: gaps in a TX's message seq */
    uint64_t malformed;        /* RX: messages failing airsim_wire_parse */
    uint64_t late;             /* RX: samples that arrived after their time */
    uint64_t link_lost;        /* peer disconnections seen */
} airsim_counters;

/* ---- TX ---- */

typedef struct airsim_tx_s airsim_tx_t;

/* Connects to cfg->link. NULL and al_error_message() on failure. */
airsim_tx_t *airsim_tx_create(const airsim_config *cfg, double rate);
void airsim_tx_destroy(airsim_tx_t **self_p);

/* Starts the clock (realtime) and a new timeline (instance). */
void airsim_tx_activate(airsim_tx_t *q);

/* Sends up to AIRSIM_WIRE_MAX_SAMPLES samples of buf (format fmt) as one
 * message. has_time: `time` (ticks) is when the first sample goes out;
 * otherwise right after the previous samples (or now, between bursts).
 * end_burst closes the burst. Returns samples consumed or a SoapySDR
 * error code. */
int airsim_tx_write(airsim_tx_t *q, const void *buf, airsim_format fmt, unsigned n,
                    int has_time, int64_t time, int end_burst, long timeout_us);

/* The next TX event: SOAPY_SDR_UNDERFLOW, SOAPY_SDR_TIME_ERROR, or 0 with
 * *end_burst set for a completed burst; SOAPY_SDR_TIMEOUT if none arrives
 * within timeout_us. */
int airsim_tx_status(airsim_tx_t *q, int *end_burst, int64_t *time, long timeout_us);

int64_t airsim_tx_time(const airsim_tx_t *q);
void airsim_tx_set_time(airsim_tx_t *q, int64_t ticks);
/* Amplitude gain in dB applied to every sample written (the device's
 * TX gain); 0 dB by default. */
void airsim_tx_set_gain(airsim_tx_t *q, double db);
/* realtime: how far ahead of its clock the TX may send (default
 * AIRSIM_TX_LEAD_S); a device that decides early (airsim_txbuf) needs
 * more. */
void airsim_tx_set_lead(airsim_tx_t *q, double seconds);
int airsim_tx_link_up(airsim_tx_t *q);
const airsim_counters *airsim_tx_counters(const airsim_tx_t *q);

/* ---- RX ---- */

typedef struct airsim_rx_s airsim_rx_t;

/* Binds cfg->link and builds the channel. NULL and al_error_message() on
 * failure (endpoint in use, bad impairments for this rate). */
airsim_rx_t *airsim_rx_create(const airsim_config *cfg, double rate);
void airsim_rx_destroy(airsim_rx_t **self_p);

void airsim_rx_activate(airsim_rx_t *q);

/* Reads up to n samples into buf; *time gets the ticks of the first.
 * Returns the count or a SoapySDR error code. */
int airsim_rx_read(airsim_rx_t *q, void *buf, airsim_format fmt, unsigned n, int64_t *time,
                   long timeout_us);

int64_t airsim_rx_time(const airsim_rx_t *q);
void airsim_rx_set_time(airsim_rx_t *q, int64_t ticks);
/* The device's RX gain in dB: ideal, on everything delivered, signal
 * and noise alike (it moves the level, not the SNR); hackrf and b2x0,
 * through the receiver model of airsim_front.h. */
void airsim_rx_set_gain(airsim_rx_t *q, double db);
int airsim_rx_link_up(airsim_rx_t *q);
const airsim_counters *airsim_rx_counters(const airsim_rx_t *q);

#endif

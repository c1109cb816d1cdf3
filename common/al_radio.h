/* airlearn — one stream of one SoapySDR radio (USRP, HackRF, airsim).
 *
 * al_radio_create() makes the device, applies the settings, sets up and
 * activates a CF32 stream in one direction. Reads and writes return a
 * sample count or a negative SoapySDR error code (SOAPY_SDR_TIMEOUT,
 * SOAPY_SDR_OVERFLOW, SOAPY_SDR_STREAM_ERROR, ...; al_radio_strerror()
 * names them): a radio's hiccups are events to count, not failures.
 *
 * Two ways to transmit: bursts (al_radio_write_burst: one burst per
 * frame, for devices that honour END_BURST) and a continuous stream
 * (al_radio_stream_append / al_radio_stream_flush: frames packed back to
 * back into MTU-sized buffers, each handed to the driver whole), for
 * drivers that send only full buffers (SoapyHackRF).
 *
 * Owns the device handle, the stream and the TX staging buffer; one
 * thread at a time, except al_radio_last_progress_ms(), which any thread
 * may call.
 */
#ifndef AL_RADIO_H
#define AL_RADIO_H

#include <complex.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { AL_RADIO_TX = 0, AL_RADIO_RX = 1 } al_radio_direction;  /* as SoapySDR */

typedef struct {
    const char *args;        /* SoapySDR device string, e.g. "driver=hackrf" */
    int direction;           /* al_radio_direction */
    double rate;             /* samples/s */
    double frequency;        /* Hz; 0 leaves the device's */
    double gain;             /* dB, overall; NAN leaves the device's */
    double bandwidth;        /* Hz; 0 leaves the device's */
    const char *antenna;     /* NULL or "" leaves the device's */
    const char *stream_args; /* NULL or "": none; "buffers=4" (SoapySDR markup) */
} al_radio_config;

typedef struct al_radio_s al_radio_t;

/* Route SoapySDR's log (its own and its drivers' messages) through
 * al_log: one line format, the process's log level and tag, and none of
 * the terminal colour codes SoapySDR's default handler writes into files
 * and the journal. Streaming status characters ("O", "U") are dropped:
 * the daemons count overflows and underflows themselves. Process-wide;
 * call once at start, before threads exist. */
void al_radio_route_logs(void);

/* NULL and al_error_message() (AL_EDEVICE) when the device is missing or
 * refuses a setting. */
al_radio_t *al_radio_create(const al_radio_config *c);
void al_radio_destroy(al_radio_t **self_p);

/* One named gain stage (HackRF: LNA, VGA, AMP; USRP: PGA), dB. */
int al_radio_set_gain_element(al_radio_t *q, const char *name, double db);

/* Largest block one read or write moves. */
size_t al_radio_mtu(const al_radio_t *q);

/* The device keeps hardware time (timed bursts, timestamps); devices
 * without it (HackRF) cannot schedule a burst either. */
int al_radio_has_time(const al_radio_t *q);

/* Buffers the driver queues for this stream (SoapySDR's direct-access
 * buffer count), 0 when the driver does not say. */
size_t al_radio_driver_buffers(const al_radio_t *q);

/* al_now_ms() of the last read or write that moved samples (create
 * counts as one). Any thread. */
uint64_t al_radio_last_progress_ms(const al_radio_t *q);

int al_radio_read(al_radio_t *q, float complex *buf, size_t n, int64_t *time_ns, long timeout_us);

/* One writeStream call; may consume fewer than n samples. */
int al_radio_write(al_radio_t *q, const float complex *buf, size_t n, int has_time,
                   int64_t time_ns, int end_burst, long timeout_us);

/* Writes all n samples as one burst (the first at time_ns if has_time),
 * retrying timeouts and stream errors until timeout_us passes in all.
 * n on success. */
int al_radio_write_burst(al_radio_t *q, const float complex *x, size_t n, int has_time,
                         int64_t time_ns, long timeout_us);

/* TX, continuous stream: appends n samples to the staging buffer and
 * writes every buffer that fills, exactly one MTU per call (SoapyHackRF
 * can time out after copying part of a call that spans two of its
 * buffers). Retries timeouts until timeout_us passes per buffer; on
 * failure the staged samples are dropped. The number of samples handed
 * to the driver (0: all staged), or a negative code. */
int al_radio_stream_append(al_radio_t *q, const float complex *x, size_t n, long timeout_us);
/* Pads the staged samples with zeros to a full MTU and writes them: the
 * frames staged so far go to the air now. The samples handed to the
 * driver (one MTU, 0 when nothing was staged) or a negative code. */
int al_radio_stream_flush(al_radio_t *q, long timeout_us);

/* TX: drains the stream's asynchronous events (readStreamStatus) without
 * waiting and adds them up; devices without the call report nothing. */
typedef struct {
    unsigned long long underflows, time_errors, other_errors, bursts;
} al_radio_tx_events;
void al_radio_tx_events_poll(al_radio_t *q, al_radio_tx_events *ev);

const char *al_radio_strerror(int code);

#endif

#include "al_radio.h"

#include "al_error.h"
#include "al_log.h"

#include <SoapySDR/Device.h>
#include <SoapySDR/Errors.h>
#include <SoapySDR/Formats.h>
#include <SoapySDR/Logger.h>
#include <SoapySDR/Types.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct al_radio_s {
    SoapySDRDevice *dev;
    SoapySDRStream *stream;
    int direction;
    size_t mtu;
    int has_time;
    size_t driver_buffers;
    float complex *stage;      /* TX: [mtu], the continuous stream's next buffer */
    size_t staged;
    _Atomic uint64_t progress_ms;
};

static int s_check(int rc, const char *what, const char *args)
{
    if (rc != 0)
        return AL_FAIL(AL_EDEVICE, "%s on '%s': %s", what, args, SoapySDRDevice_lastError());
    return AL_OK;
}

static void s_soapy_log(const SoapySDRLogLevel level, const char *message)
{
    if (level >= SOAPY_SDR_SSI)
        return;
    const al_log_level l = level <= SOAPY_SDR_ERROR     ? AL_LOG_ERROR
                           : level == SOAPY_SDR_WARNING ? AL_LOG_WARN
                           : level <= SOAPY_SDR_INFO    ? AL_LOG_INFO
                                                        : AL_LOG_DEBUG;
    al_log(l, "%s", message);
}

void al_radio_route_logs(void)
{
    SoapySDR_registerLogHandler(s_soapy_log);
}

al_radio_t *al_radio_create(const al_radio_config *c)
{
    al_radio_t *q = calloc(1, sizeof *q);
    if (q == NULL) {
        AL_FAIL(AL_ENOMEM, "out of memory");
        return NULL;
    }
    q->direction = c->direction == AL_RADIO_TX ? SOAPY_SDR_TX : SOAPY_SDR_RX;
    q->dev = SoapySDRDevice_makeStrArgs(c->args);
    if (q->dev == NULL) {
        AL_FAIL(AL_EDEVICE, "no radio matches '%s': %s", c->args, SoapySDRDevice_lastError());
        free(q);
        return NULL;
    }
    int d = q->direction;
    if (s_check(SoapySDRDevice_setSampleRate(q->dev, d, 0, c->rate), "setting the sample rate",
                c->args) != 0 ||
        (c->frequency > 0 &&
         s_check(SoapySDRDevice_setFrequency(q->dev, d, 0, c->frequency, NULL),
                 "setting the frequency", c->args) != 0) ||
        (!isnan(c->gain) &&
         s_check(SoapySDRDevice_setGain(q->dev, d, 0, c->gain), "setting the gain", c->args) != 0) ||
        (c->bandwidth > 0 &&
         s_check(SoapySDRDevice_setBandwidth(q->dev, d, 0, c->bandwidth), "setting the bandwidth",
                 c->args) != 0) ||
        (c->antenna && c->antenna[0] &&
         s_check(SoapySDRDevice_setAntenna(q->dev, d, 0, c->antenna), "setting the antenna",
                 c->args) != 0)) {
        al_radio_destroy(&q);
        return NULL;
    }
    size_t ch = 0;
    SoapySDRKwargs sargs = SoapySDRKwargs_fromString(c->stream_args ? c->stream_args : "");
    q->stream = SoapySDRDevice_setupStream(q->dev, d, SOAPY_SDR_CF32, &ch, 1, &sargs);
    SoapySDRKwargs_clear(&sargs);
    if (q->stream == NULL) {
        AL_FAIL(AL_EDEVICE, "cannot set up a stream on '%s': %s", c->args,
                SoapySDRDevice_lastError());
        al_radio_destroy(&q);
        return NULL;
    }
    q->mtu = SoapySDRDevice_getStreamMTU(q->dev, q->stream);
    if (q->mtu == 0)
        q->mtu = 4096;
    q->has_time = SoapySDRDevice_hasHardwareTime(q->dev, "");
    q->driver_buffers = SoapySDRDevice_getNumDirectAccessBuffers(q->dev, q->stream);
    if (d == SOAPY_SDR_TX && (q->stage = calloc(q->mtu, sizeof *q->stage)) == NULL) {
        AL_FAIL(AL_ENOMEM, "out of memory for a %zu-sample TX buffer", q->mtu);
        al_radio_destroy(&q);
        return NULL;
    }
    if (SoapySDRDevice_activateStream(q->dev, q->stream, 0, 0, 0) != 0) {
        AL_FAIL(AL_EDEVICE, "cannot start the stream on '%s': %s", c->args,
                SoapySDRDevice_lastError());
        al_radio_destroy(&q);
        return NULL;
    }
    atomic_store(&q->progress_ms, al_now_ms());
    return q;
}

void al_radio_destroy(al_radio_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    al_radio_t *q = *self_p;
    *self_p = NULL;
    if (q->stream) {
        SoapySDRDevice_deactivateStream(q->dev, q->stream, 0, 0);
        SoapySDRDevice_closeStream(q->dev, q->stream);
    }
    if (q->dev)
        SoapySDRDevice_unmake(q->dev);
    free(q->stage);
    free(q);
}

int al_radio_set_gain_element(al_radio_t *q, const char *name, double db)
{
    if (SoapySDRDevice_setGainElement(q->dev, q->direction, 0, name, db) != 0)
        return AL_FAIL(AL_EDEVICE, "cannot set gain %s to %g dB: %s", name, db,
                       SoapySDRDevice_lastError());
    return AL_OK;
}

size_t al_radio_mtu(const al_radio_t *q)
{
    return q->mtu;
}

int al_radio_has_time(const al_radio_t *q)
{
    return q->has_time;
}

size_t al_radio_driver_buffers(const al_radio_t *q)
{
    return q->driver_buffers;
}

uint64_t al_radio_last_progress_ms(const al_radio_t *q)
{
    return atomic_load_explicit(&((al_radio_t *)q)->progress_ms, memory_order_relaxed);
}

static void s_progress(al_radio_t *q, int rc)
{
    if (rc > 0)
        atomic_store_explicit(&q->progress_ms, al_now_ms(), memory_order_relaxed);
}

int al_radio_read(al_radio_t *q, float complex *buf, size_t n, int64_t *time_ns, long timeout_us)
{
    void *buffs[1] = {buf};
    int flags = 0;
    long long t = 0;
    int rc = SoapySDRDevice_readStream(q->dev, q->stream, buffs, n, &flags, &t, timeout_us);
    s_progress(q, rc);
    if (time_ns)
        *time_ns = (flags & SOAPY_SDR_HAS_TIME) ? t : 0;
    return rc;
}

int al_radio_write(al_radio_t *q, const float complex *buf, size_t n, int has_time,
                   int64_t time_ns, int end_burst, long timeout_us)
{
    const void *buffs[1] = {buf};
    int flags = (has_time ? SOAPY_SDR_HAS_TIME : 0) | (end_burst ? SOAPY_SDR_END_BURST : 0);
    int rc = SoapySDRDevice_writeStream(q->dev, q->stream, buffs, n, &flags, time_ns, timeout_us);
    s_progress(q, rc);
    return rc;
}

int al_radio_write_burst(al_radio_t *q, const float complex *x, size_t n, int has_time,
                         int64_t time_ns, long timeout_us)
{
    uint64_t deadline = al_now_ms() + (uint64_t)(timeout_us / 1000);
    size_t done = 0;
    while (done < n) {
        size_t chunk = n - done > q->mtu ? q->mtu : n - done;
        int last = done + chunk == n;
        int rc = al_radio_write(q, x + done, chunk, has_time && done == 0, time_ns, last, 100000);
        /* A link that is down (airsim peer not there yet) may come up. */
        if ((rc == SOAPY_SDR_TIMEOUT || rc == SOAPY_SDR_STREAM_ERROR) && al_now_ms() < deadline)
            continue;
        if (rc < 0)
            return rc;
        done += (size_t)rc;
    }
    return (int)n;
}

/* Writes the full staging buffer; it is empty afterwards, sent or not. */
static int s_write_stage(al_radio_t *q, long timeout_us)
{
    uint64_t deadline = al_now_ms() + (uint64_t)(timeout_us / 1000);
    size_t done = 0;
    int rc = 0;
    while (done < q->mtu) {
        /* No END_BURST: the stream goes on, and HackRF ignores it anyway. */
        rc = al_radio_write(q, q->stage + done, q->mtu - done, 0, 0, 0, 100000);
        if (rc == 0)
            rc = SOAPY_SDR_TIMEOUT;
        if ((rc == SOAPY_SDR_TIMEOUT || rc == SOAPY_SDR_STREAM_ERROR) && al_now_ms() < deadline)
            continue;
        if (rc < 0)
            break;
        done += (size_t)rc;
    }
    q->staged = 0;
    return rc < 0 ? rc : (int)q->mtu;
}

int al_radio_stream_append(al_radio_t *q, const float complex *x, size_t n, long timeout_us)
{
    if (q->stage == NULL)
        return AL_FAIL(AL_EINVAL, "a continuous stream is for transmitting");
    int written = 0;
    while (n > 0) {
        size_t k = q->mtu - q->staged < n ? q->mtu - q->staged : n;
        memcpy(q->stage + q->staged, x, k * sizeof *x);
        q->staged += k;
        x += k;
        n -= k;
        if (q->staged == q->mtu) {
            int rc = s_write_stage(q, timeout_us);
            if (rc < 0)
                return rc;
            written += rc;
        }
    }
    return written;
}

int al_radio_stream_flush(al_radio_t *q, long timeout_us)
{
    if (q->stage == NULL || q->staged == 0)
        return 0;
    memset(q->stage + q->staged, 0, (q->mtu - q->staged) * sizeof *q->stage);
    return s_write_stage(q, timeout_us);
}

void al_radio_tx_events_poll(al_radio_t *q, al_radio_tx_events *ev)
{
    for (int i = 0; i < 64; i++) {
        size_t mask = 0;
        int flags = 0;
        long long t = 0;
        int rc = SoapySDRDevice_readStreamStatus(q->dev, q->stream, &mask, &flags, &t, 0);
        if (rc == SOAPY_SDR_TIMEOUT || rc == SOAPY_SDR_NOT_SUPPORTED)
            return;
        if (rc == SOAPY_SDR_UNDERFLOW)
            ev->underflows++;
        else if (rc == SOAPY_SDR_TIME_ERROR)
            ev->time_errors++;
        else if (rc == 0 && (flags & SOAPY_SDR_END_BURST))
            ev->bursts++;
        else if (rc < 0)
            ev->other_errors++;
    }
}

const char *al_radio_strerror(int code)
{
    return SoapySDR_errToStr(code);
}

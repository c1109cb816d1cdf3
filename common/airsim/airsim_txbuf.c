#include "airsim_txbuf.h"

#include "airsim_wire.h"
#include "al_error.h"

#include <SoapySDR/Errors.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct airsim_txbuf_s {
    airsim_config cfg;
    double rate;
    airsim_tx_t *tx;
    float complex *slots;      /* nbuf x AIRSIM_HACKRF_BUFLEN air samples */
    float complex *xfer;       /* realtime: the buffer being aired (a USB transfer) */
    unsigned nbuf;
    unsigned tail;             /* oldest queued buffer */
    unsigned count;            /* full buffers queued */
    int have_partial;          /* the buffer at (tail + count) % nbuf is being filled */
    unsigned fill;             /* samples in it */
    int underflow;
    /* fast: the next buffer's tick and how much of it was sent */
    int64_t next_tick;
    unsigned sent;
    /* realtime: the callback thread */
    pthread_mutex_t mu;        /* the fields above */
    pthread_cond_t cv;         /* count or stop changed */
    pthread_mutex_t send_mu;   /* the airsim_tx_t */
    pthread_t thread;
    int running, stop;
    struct timespec t0;
};

static struct timespec s_add_ns(struct timespec t, int64_t ns)
{
    int64_t total = (int64_t)t.tv_nsec + ns % 1000000000;
    t.tv_sec += (time_t)(ns / 1000000000 + total / 1000000000);
    t.tv_nsec = (long)(total % 1000000000);
    if (t.tv_nsec < 0) {
        t.tv_nsec += 1000000000;
        t.tv_sec--;
    }
    return t;
}

static struct timespec s_deadline(long timeout_us)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return s_add_ns(t, (int64_t)timeout_us * 1000);
}

airsim_txbuf_t *airsim_txbuf_create(const airsim_config *cfg, double rate, unsigned buffers)
{
    if (buffers == 0 || buffers > 4096) {
        AL_FAIL(AL_EINVAL, "hackrf TX buffers %u out of range", buffers);
        return NULL;
    }
    airsim_txbuf_t *q = calloc(1, sizeof *q);
    if (q == NULL) {
        AL_FAIL(AL_ENOMEM, "out of memory");
        return NULL;
    }
    q->cfg = *cfg;
    q->rate = rate;
    q->nbuf = buffers;
    q->slots = malloc((size_t)buffers * AIRSIM_HACKRF_BUFLEN * sizeof *q->slots);
    q->xfer = malloc(AIRSIM_HACKRF_BUFLEN * sizeof *q->xfer);
    if (q->slots == NULL || q->xfer == NULL) {
        free(q->slots);
        free(q->xfer);
        free(q);
        AL_FAIL(AL_ENOMEM, "out of memory for %u hackrf TX buffers", buffers);
        return NULL;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&q->mu, NULL);
    pthread_mutex_init(&q->send_mu, NULL);
    q->tx = airsim_tx_create(cfg, rate);
    if (q->tx == NULL) {
        airsim_txbuf_destroy(&q);
        return NULL;
    }
    /* A whole buffer goes out at once, AHEAD before its air time. */
    airsim_tx_set_lead(q->tx, AIRSIM_TXBUF_AHEAD_S + 2.0 * AIRSIM_HACKRF_BUFLEN / rate);
    return q;
}

void airsim_txbuf_destroy(airsim_txbuf_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    airsim_txbuf_t *q = *self_p;
    *self_p = NULL;
    airsim_txbuf_deactivate(q);
    airsim_tx_destroy(&q->tx);
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
    pthread_mutex_destroy(&q->send_mu);
    free(q->slots);
    free(q->xfer);
    free(q);
}

/* Sends samples [from, AIRSIM_HACKRF_BUFLEN) of buffer x as air time
 * tick * BUFLEN + from..., in link messages, within timeout_us in all.
 * Returns how far it got. Caller holds send_mu. */
static unsigned s_send(airsim_txbuf_t *q, const float complex *x, int64_t tick, unsigned from,
                       long timeout_us)
{
    struct timespec deadline = s_deadline(timeout_us);
    while (from < AIRSIM_HACKRF_BUFLEN) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t left_ns = (int64_t)(deadline.tv_sec - now.tv_sec) * 1000000000 +
                          (deadline.tv_nsec - now.tv_nsec);
        timeout_us = left_ns > 0 ? (long)(left_ns / 1000) : 0;
        unsigned n = AIRSIM_HACKRF_BUFLEN - from;
        if (n > AIRSIM_WIRE_MAX_SAMPLES)
            n = AIRSIM_WIRE_MAX_SAMPLES;
        int last = from + n == AIRSIM_HACKRF_BUFLEN;
        int rc = airsim_tx_write(q->tx, x + from, AIRSIM_CF32, n, 1,
                                 tick * AIRSIM_HACKRF_BUFLEN + from, last, timeout_us);
        if (rc <= 0)
            return from;
        from += (unsigned)rc;
    }
    return from;
}

/* Frees the oldest queued buffer's slot (it is aired, or copied for airing). */
static void s_pop(airsim_txbuf_t *q)
{
    q->tail = (q->tail + 1) % q->nbuf;
    q->count--;
    pthread_cond_broadcast(&q->cv);
}

/* libhackrf's transfer callback, once per BUFLEN samples of air time. */
static void *s_thread(void *arg)
{
    airsim_txbuf_t *q = arg;
    const double tick_s = AIRSIM_HACKRF_BUFLEN / q->rate;
    pthread_mutex_lock(&q->mu);
    for (int64_t k = 0;; k++) {
        struct timespec at = s_add_ns(q->t0, (int64_t)((k * tick_s - AIRSIM_TXBUF_AHEAD_S) * 1e9));
        while (!q->stop && pthread_cond_timedwait(&q->cv, &q->mu, &at) != ETIMEDOUT) {
        }
        if (q->stop)
            break;
        if (q->count == 0) {
            q->underflow = 1;   /* the board sends zeros: nothing on the link */
            continue;
        }
        /* The callback copies the buffer into a USB transfer and frees it. */
        memcpy(q->xfer, q->slots + (size_t)q->tail * AIRSIM_HACKRF_BUFLEN,
               AIRSIM_HACKRF_BUFLEN * sizeof *q->xfer);
        s_pop(q);
        pthread_mutex_unlock(&q->mu);
        pthread_mutex_lock(&q->send_mu);
        /* The air does not wait for a receiver: what cannot be sent
         * within the tick is lost. */
        if (airsim_tx_link_up(q->tx))
            s_send(q, q->xfer, k, 0, (long)(tick_s * 0.5e6));
        pthread_mutex_unlock(&q->send_mu);
        pthread_mutex_lock(&q->mu);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

int airsim_txbuf_activate(airsim_txbuf_t *q)
{
    if (q->running)
        return 0;
    airsim_tx_activate(q->tx);
    q->next_tick = 0;
    q->sent = 0;
    if (q->cfg.clock == AIRSIM_CLOCK_FAST) {
        q->running = 1;
        return 0;
    }
    clock_gettime(CLOCK_MONOTONIC, &q->t0);
    q->stop = 0;
    if (pthread_create(&q->thread, NULL, s_thread, q) != 0)
        return SOAPY_SDR_STREAM_ERROR;
    q->running = 1;
    return 0;
}

void airsim_txbuf_deactivate(airsim_txbuf_t *q)
{
    if (!q->running)
        return;
    q->running = 0;
    if (q->cfg.clock == AIRSIM_CLOCK_FAST)
        return;
    pthread_mutex_lock(&q->mu);
    q->stop = 1;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    pthread_join(q->thread, NULL);
}

/* fast: airs the queued buffers back to back, as far as the link takes
 * them within timeout_us. */
static void s_pump(airsim_txbuf_t *q, long timeout_us)
{
    while (q->count > 0) {
        pthread_mutex_lock(&q->send_mu);
        q->sent = s_send(q, q->slots + (size_t)q->tail * AIRSIM_HACKRF_BUFLEN, q->next_tick,
                         q->sent, timeout_us);
        pthread_mutex_unlock(&q->send_mu);
        if (q->sent < AIRSIM_HACKRF_BUFLEN)
            return;
        q->sent = 0;
        q->next_tick++;
        s_pop(q);
    }
}

/* A free buffer to fill, waiting up to the deadline: 0 or TIMEOUT. */
static int s_acquire(airsim_txbuf_t *q, const struct timespec *deadline, long timeout_us)
{
    if (q->cfg.clock == AIRSIM_CLOCK_FAST) {
        if (q->count == q->nbuf)
            s_pump(q, timeout_us);
    } else {
        while (q->count == q->nbuf)
            if (pthread_cond_timedwait(&q->cv, &q->mu, deadline) == ETIMEDOUT)
                break;
    }
    if (q->count == q->nbuf)
        return SOAPY_SDR_TIMEOUT;
    q->have_partial = 1;
    q->fill = 0;
    return 0;
}

int airsim_txbuf_write(airsim_txbuf_t *q, const void *buf, airsim_format fmt, unsigned n,
                       long timeout_us)
{
    static const size_t sample_bytes[] = {[AIRSIM_CF32] = 8, [AIRSIM_CS16] = 4, [AIRSIM_CS8] = 2};
    if (n > AIRSIM_HACKRF_BUFLEN)
        n = AIRSIM_HACKRF_BUFLEN;
    struct timespec deadline = s_deadline(timeout_us);
    const uint8_t *in = buf;
    unsigned done = 0;
    pthread_mutex_lock(&q->mu);
    int rc = 0;
    while (done < n) {
        if (!q->have_partial && (rc = s_acquire(q, &deadline, timeout_us)) != 0)
            break;
        unsigned slot = (q->tail + q->count) % q->nbuf;
        unsigned m = AIRSIM_HACKRF_BUFLEN - q->fill;
        if (m > n - done)
            m = n - done;
        float complex *dst = q->slots + (size_t)slot * AIRSIM_HACKRF_BUFLEN + q->fill;
        airsim_front_tx(AIRSIM_PROFILE_HACKRF, in + sample_bytes[fmt] * done, fmt, dst, m);
        q->fill += m;
        done += m;
        if (q->fill == AIRSIM_HACKRF_BUFLEN) {
            q->have_partial = 0;
            q->count++;
        }
    }
    if (q->cfg.clock == AIRSIM_CLOCK_FAST && q->running)
        s_pump(q, timeout_us);
    pthread_mutex_unlock(&q->mu);
    return rc != 0 ? rc : (int)n;
}

int airsim_txbuf_status(airsim_txbuf_t *q, long timeout_us)
{
    struct timespec deadline = s_deadline(timeout_us);
    pthread_mutex_lock(&q->mu);
    for (;;) {
        if (q->underflow) {
            q->underflow = 0;
            pthread_mutex_unlock(&q->mu);
            return SOAPY_SDR_UNDERFLOW;
        }
        if (pthread_cond_timedwait(&q->cv, &q->mu, &deadline) == ETIMEDOUT && !q->underflow)
            break;
    }
    pthread_mutex_unlock(&q->mu);
    return SOAPY_SDR_TIMEOUT;
}

int airsim_txbuf_wait_empty(airsim_txbuf_t *q, long timeout_us)
{
    struct timespec deadline = s_deadline(timeout_us);
    pthread_mutex_lock(&q->mu);
    if (q->cfg.clock == AIRSIM_CLOCK_FAST && q->running)
        s_pump(q, timeout_us);
    while (q->count > 0 && q->running && q->cfg.clock == AIRSIM_CLOCK_REALTIME)
        if (pthread_cond_timedwait(&q->cv, &q->mu, &deadline) == ETIMEDOUT)
            break;
    int rc = q->count > 0 ? SOAPY_SDR_TIMEOUT : 0;
    pthread_mutex_unlock(&q->mu);
    return rc;
}

void airsim_txbuf_set_gain(airsim_txbuf_t *q, double db)
{
    pthread_mutex_lock(&q->send_mu);
    airsim_tx_set_gain(q->tx, db);
    pthread_mutex_unlock(&q->send_mu);
}

int airsim_txbuf_link_up(airsim_txbuf_t *q)
{
    pthread_mutex_lock(&q->send_mu);
    int up = airsim_tx_link_up(q->tx);
    pthread_mutex_unlock(&q->send_mu);
    return up;
}

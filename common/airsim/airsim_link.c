#include "airsim_link.h"

#include "airsim_chan.h"
#include "airsim_wire.h"
#include "al_error.h"
#include "al_log.h"
#include "al_rng.h"

#include <SoapySDR/Errors.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the airsim wire format carries host float32 samples: little-endian hosts only"
#endif

enum {
    HWM_MESSAGES = 8,          /* per side: with 128 KiB messages, ~2 MiB in flight */
    EVENT_QUEUE = 16,
    FOREIGN_QUIET_MS = 1000,   /* a second TX is accepted once the first is quiet */
};

static int64_t s_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t s_ticks(double rate, int64_t ns)
{
    return (int64_t)floor((double)ns * rate / 1e9);
}

/* ZeroMQ's ipc bind first unlinks whatever socket file is at the path
 * (libzmq ipc_listener.cpp), a live listener's too: a second RX device on
 * ipc:///path would silently take the link from the first, where a radio
 * in use refuses a second open (an abstract ipc://@name or a tcp:// port
 * is refused by the kernel). True when a socket listens at the path, from
 * /proc/net/unix (flag __SO_ACCEPTCON, 0x10000) rather than by connecting,
 * which the listener would see as a peer coming and going. */
static int s_ipc_path_listened(const char *endpoint)
{
    if (strncmp(endpoint, "ipc://", 6) != 0 || endpoint[6] == '@')
        return 0;
    const char *path = endpoint + 6;
    FILE *f = fopen("/proc/net/unix", "r");
    if (f == NULL)
        return 0;
    char line[4096 + 128];
    int found = 0;
    while (!found && fgets(line, sizeof line, f) != NULL) {
        unsigned long flags;
        int at = -1;
        if (sscanf(line, "%*s %*s %*s %lx %*s %*s %*s %n", &flags, &at) != 1 || at < 0)
            continue;
        line[strcspn(line, "\n")] = '\0';
        found = (flags & 0x10000) && strcmp(line + at, path) == 0;
    }
    fclose(f);
    return found;
}

/* ---- peer tracking through a socket monitor ---- */

typedef struct {
    void *pair;
    int peers;
    int lost;        /* a disconnection not yet reported to the caller */
} s_monitor;

static int s_monitor_open(s_monitor *m, void *ctx, void *sock, const void *owner)
{
    char name[64];
    snprintf(name, sizeof name, "inproc://airsim-monitor-%p", owner);
    if (zmq_socket_monitor(sock, name,
                           ZMQ_EVENT_CONNECTED | ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) != 0)
        return AL_FAIL(AL_ENET, "cannot monitor the airsim link: %s", zmq_strerror(errno));
    m->pair = zmq_socket(ctx, ZMQ_PAIR);
    int zero = 0;
    if (m->pair == NULL || zmq_setsockopt(m->pair, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_connect(m->pair, name) != 0)
        return AL_FAIL(AL_ENET, "cannot monitor the airsim link: %s", zmq_strerror(errno));
    return AL_OK;
}

static void s_monitor_close(s_monitor *m, void *sock)
{
    if (m->pair) {
        zmq_socket_monitor(sock, NULL, 0);
        zmq_close(m->pair);
        m->pair = NULL;
    }
}

/* Reads every pending event; returns 1 if the last peer went away. */
static int s_monitor_poll(s_monitor *m, airsim_counters *cnt, const char *link)
{
    int went = 0;
    for (;;) {
        zmq_msg_t ev;
        zmq_msg_init(&ev);
        if (zmq_msg_recv(&ev, m->pair, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&ev);
            return went;
        }
        uint16_t id = 0;
        if (zmq_msg_size(&ev) >= 2)
            memcpy(&id, zmq_msg_data(&ev), 2);
        int more = zmq_msg_more(&ev);
        zmq_msg_close(&ev);
        if (more) {   /* second frame: the endpoint address */
            zmq_msg_init(&ev);
            zmq_msg_recv(&ev, m->pair, 0);
            zmq_msg_close(&ev);
        }
        if (id == ZMQ_EVENT_CONNECTED || id == ZMQ_EVENT_ACCEPTED) {
            if (m->peers++ == 0)
                al_info("airsim %s: peer connected", link);
        } else if (id == ZMQ_EVENT_DISCONNECTED && m->peers > 0) {
            if (--m->peers == 0) {
                al_warn("airsim %s: peer gone", link);
                cnt->link_lost++;
                m->lost = 1;
                went = 1;
            }
        }
    }
}

/* linger_ms: how long closing may wait to flush what was sent.
 * ZMTP heartbeats only on tcp:// links, where they tell a vanished host
 * from a quiet one; on ipc:// the kernel reports a dead peer at once.
 * libzmq 4.3.4 (Debian 12) aborts with "Assertion failed: !_io_error
 * (stream_engine_base.cpp:331)" when a heartbeat times out on a
 * connection whose reader stopped at its high-water mark (libzmq issues
 * 4364, 4767): a slow test process under load hit it twice. */
static int s_socket_options(void *sock, const char *link, int hwm_option, int linger_ms)
{
    int hwm = HWM_MESSAGES, hb = 1000, hbt = 3000;
    int64_t max_msg = AIRSIM_WIRE_HEADER + (int64_t)AIRSIM_WIRE_MAX_SAMPLES * 8;
    int tcp = strncmp(link, "tcp://", 6) == 0;
    if (zmq_setsockopt(sock, ZMQ_LINGER, &linger_ms, sizeof linger_ms) != 0 ||
        zmq_setsockopt(sock, hwm_option, &hwm, sizeof hwm) != 0 ||
        zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max_msg, sizeof max_msg) != 0 ||
        (tcp && (zmq_setsockopt(sock, ZMQ_HEARTBEAT_IVL, &hb, sizeof hb) != 0 ||
                 zmq_setsockopt(sock, ZMQ_HEARTBEAT_TIMEOUT, &hbt, sizeof hbt) != 0)))
        return AL_FAIL(AL_ENET, "airsim socket options: %s", zmq_strerror(errno));
    return AL_OK;
}

/* ====================================================================
 * TX
 * ==================================================================== */

typedef struct {
    int code;
    int end_burst;
    int64_t time;
} s_event;

struct airsim_tx_s {
    airsim_config cfg;
    double rate;
    void *ctx, *sock;
    s_monitor mon;
    uint64_t instance, seq;
    int64_t cursor;            /* ticks: end of the last sample sent */
    int in_burst;
    int64_t t0_ns;             /* realtime clock origin */
    int64_t time_offset;       /* setHardwareTime */
    int64_t lead;              /* realtime: samples allowed ahead of the clock */
    float gain;
    double tick_rate;          /* realtime: the sample clock, rate (1 + ppm 1e-6) */
    double freq;               /* tuned frequency, sent with the samples */
    s_event events[EVENT_QUEUE];
    unsigned ev_head, ev_count;
    airsim_counters cnt;
    uint8_t *buf;              /* header + MTU samples */
};

static int64_t s_tx_now(const airsim_tx_t *q)
{
    if (q->cfg.clock == AIRSIM_CLOCK_FAST)
        return q->cursor;
    return s_ticks(q->tick_rate, s_mono_ns() - q->t0_ns) + q->time_offset;
}

static void s_tx_event(airsim_tx_t *q, int code, int end_burst, int64_t time)
{
    if (q->ev_count == EVENT_QUEUE) {   /* nobody reads them: keep the newest */
        q->ev_head = (q->ev_head + 1) % EVENT_QUEUE;
        q->ev_count--;
    }
    s_event *e = &q->events[(q->ev_head + q->ev_count++) % EVENT_QUEUE];
    e->code = code;
    e->end_burst = end_burst;
    e->time = time;
}

airsim_tx_t *airsim_tx_create(const airsim_config *cfg, double rate)
{
    if (!(rate > 0.0) || !isfinite(rate)) {
        AL_FAIL(AL_EINVAL, "sample rate %g is not positive", rate);
        return NULL;
    }
    airsim_tx_t *q = calloc(1, sizeof *q);
    if (q == NULL || (q->buf = malloc(AIRSIM_WIRE_HEADER + AIRSIM_WIRE_MAX_SAMPLES * 8)) == NULL) {
        airsim_tx_destroy(&q);
        AL_FAIL(AL_ENOMEM, "out of memory");
        return NULL;
    }
    q->cfg = *cfg;
    q->rate = rate;
    q->lead = (int64_t)(AIRSIM_TX_LEAD_S * rate) + 1;
    q->gain = 1.0f;
    q->tick_rate = rate * (1.0 + cfg->ppm * 1e-6);
    q->ctx = zmq_ctx_new();
    q->sock = q->ctx ? zmq_socket(q->ctx, ZMQ_PUSH) : NULL;
    if (q->sock == NULL) {
        AL_FAIL(AL_ENET, "cannot create the airsim socket: %s", zmq_strerror(errno));
        airsim_tx_destroy(&q);
        return NULL;
    }
    /* Closing flushes what was written, as a radio transmits its buffer. */
    int one = 1;
    if (s_socket_options(q->sock, cfg->link, ZMQ_SNDHWM, 500) != 0 ||
        s_monitor_open(&q->mon, q->ctx, q->sock, q) != 0) {
        airsim_tx_destroy(&q);
        return NULL;
    }
    if (zmq_setsockopt(q->sock, ZMQ_IMMEDIATE, &one, sizeof one) != 0 ||
        zmq_connect(q->sock, cfg->link) != 0) {
        AL_FAIL(AL_ENET, "cannot connect the airsim link %s: %s", cfg->link, zmq_strerror(errno));
        airsim_tx_destroy(&q);
        return NULL;
    }
    airsim_tx_activate(q);
    return q;
}

void airsim_tx_destroy(airsim_tx_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    airsim_tx_t *q = *self_p;
    *self_p = NULL;
    if (q->sock) {
        s_monitor_close(&q->mon, q->sock);
        zmq_close(q->sock);
    }
    if (q->ctx)
        zmq_ctx_term(q->ctx);
    free(q->buf);
    free(q);
}

void airsim_tx_activate(airsim_tx_t *q)
{
    al_rng_t r;
    al_rng_seed(&r, (uint64_t)s_mono_ns() ^ ((uint64_t)(uintptr_t)q << 17));
    q->instance = al_rng_u64(&r);
    q->seq = 0;
    q->in_burst = 0;
    q->t0_ns = s_mono_ns();
    if (q->cfg.clock == AIRSIM_CLOCK_REALTIME)
        q->cursor = q->time_offset;
}

int airsim_tx_write(airsim_tx_t *q, const void *buf, airsim_format fmt, unsigned n,
                    int has_time, int64_t time, int end_burst, long timeout_us)
{
    int64_t deadline = s_mono_ns() + (int64_t)timeout_us * 1000;
    s_monitor_poll(&q->mon, &q->cnt, q->cfg.link);
    if (n > AIRSIM_WIRE_MAX_SAMPLES)
        n = AIRSIM_WIRE_MAX_SAMPLES;
    if (n == 0 && !end_burst)
        return 0;

    /* Where the samples go on the TX timeline. */
    int64_t now = s_tx_now(q);
    int64_t floor_t = q->cursor > now ? q->cursor : now;
    int64_t t;
    int underflow = 0, late = 0;
    if (has_time) {
        t = time;
        if (t < floor_t) {
            late = 1;
            t = floor_t;
        }
    } else if (q->in_burst) {
        t = q->cursor;
        if (now > q->cursor) {
            underflow = 1;
            t = now;
        }
    } else {
        t = floor_t;
    }

    /* Realtime: a hardware buffer holds `lead` samples; wait for room. */
    if (q->cfg.clock == AIRSIM_CLOCK_REALTIME) {
        int64_t wait_ticks = t + n - q->lead - now;
        if (wait_ticks > 0) {
            int64_t wait_ns = (int64_t)ceil((double)wait_ticks * 1e9 / q->rate);
            if (s_mono_ns() + wait_ns > deadline) {
                int64_t left = deadline - s_mono_ns();
                if (left > 0)
                    nanosleep(&(struct timespec){left / 1000000000, left % 1000000000}, NULL);
                return SOAPY_SDR_TIMEOUT;
            }
            nanosleep(&(struct timespec){wait_ns / 1000000000, wait_ns % 1000000000}, NULL);
        }
    }

    airsim_wire_header h = {
        .flags = (uint8_t)((q->in_burst ? 0 : AIRSIM_FLAG_START) | (end_burst ? AIRSIM_FLAG_END : 0)),
        .instance = q->instance,
        .seq = q->seq,
        .time = t,
        .tx_now = s_tx_now(q),
        .count = n,
        .ppm = q->cfg.ppm,
        .freq = q->freq,
    };
    int send = n > 0;
    if (send && q->cfg.drop_every > 0 && (q->seq + 1) % q->cfg.drop_every == 0) {
        send = 0;
        q->cnt.dropped++;
    }
    if (send) {
        airsim_wire_pack(&h, q->buf);
        float complex *out = (float complex *)(q->buf + AIRSIM_WIRE_HEADER);
        /* Profiles convert as their drivers do before this (txbuf). */
        airsim_front_tx(AIRSIM_PROFILE_IDEAL, buf, fmt, out, n);
        if (q->gain != 1.0f)
            for (unsigned i = 0; i < n; i++)
                out[i] *= q->gain;
        size_t len = AIRSIM_WIRE_HEADER + (size_t)n * 8;
        while (zmq_send(q->sock, q->buf, len, ZMQ_DONTWAIT) < 0) {
            if (errno != EAGAIN)
                return SOAPY_SDR_STREAM_ERROR;
            int64_t left = deadline - s_mono_ns();
            if (left <= 0) {
                s_monitor_poll(&q->mon, &q->cnt, q->cfg.link);
                if (q->mon.peers == 0) {
                    al_error_set(AL_ENET, __func__, "no receiver on airsim link %s",
                                 q->cfg.link);
                    return SOAPY_SDR_STREAM_ERROR;
                }
                return SOAPY_SDR_TIMEOUT;
            }
            zmq_pollitem_t it[2] = {{q->sock, 0, ZMQ_POLLOUT, 0}, {q->mon.pair, 0, ZMQ_POLLIN, 0}};
            long ms = (long)(left / 1000000) + 1;
            zmq_poll(it, 2, ms > 50 ? 50 : ms);
            if (it[1].revents)
                s_monitor_poll(&q->mon, &q->cnt, q->cfg.link);
        }
        q->cnt.messages++;
        q->cnt.samples += n;
    }
    if (q->cfg.underflow_every > 0 && (q->seq + 1) % q->cfg.underflow_every == 0)
        underflow = 1;   /* fault injection: as if this write came late */
    if (underflow) {
        q->cnt.underflows++;
        s_tx_event(q, SOAPY_SDR_UNDERFLOW, 0, q->cursor);
    }
    if (late) {
        q->cnt.time_errors++;
        s_tx_event(q, SOAPY_SDR_TIME_ERROR, 0, time);
    }
    q->seq++;
    q->cursor = t + n;
    q->in_burst = !end_burst;
    if (end_burst)
        s_tx_event(q, 0, 1, q->cursor);
    return (int)n;
}

int airsim_tx_status(airsim_tx_t *q, int *end_burst, int64_t *time, long timeout_us)
{
    if (q->ev_count == 0) {
        /* Events are made by writes on the same thread, so none can come
         * while we wait; waiting keeps callers' status loops from spinning. */
        if (timeout_us > 0)
            nanosleep(&(struct timespec){timeout_us / 1000000, (timeout_us % 1000000) * 1000},
                      NULL);
        return SOAPY_SDR_TIMEOUT;
    }
    s_event e = q->events[q->ev_head];
    q->ev_head = (q->ev_head + 1) % EVENT_QUEUE;
    q->ev_count--;
    *end_burst = e.end_burst;
    *time = e.time;
    return e.code;
}

int64_t airsim_tx_time(const airsim_tx_t *q)
{
    return s_tx_now(q);
}

void airsim_tx_set_time(airsim_tx_t *q, int64_t ticks)
{
    if (q->cfg.clock == AIRSIM_CLOCK_FAST) {
        q->cursor = ticks;
    } else {
        q->time_offset = ticks - s_ticks(q->tick_rate, s_mono_ns() - q->t0_ns);
        q->cursor = ticks;
    }
}

void airsim_tx_set_gain(airsim_tx_t *q, double db)
{
    q->gain = (float)pow(10.0, db / 20.0);
}

static int s_check_frequency(double freq)
{
    if (!(freq >= 0.0 && freq <= AIRSIM_FREQ_MAX))
        return AL_FAIL(AL_EINVAL, "airsim frequency %g Hz outside 0 .. %g", freq, AIRSIM_FREQ_MAX);
    return AL_OK;
}

int airsim_tx_set_frequency(airsim_tx_t *q, double freq)
{
    int rc = s_check_frequency(freq);
    if (rc == AL_OK)
        q->freq = freq;
    return rc;
}

void airsim_tx_set_lead(airsim_tx_t *q, double seconds)
{
    q->lead = (int64_t)(seconds * q->rate) + 1;
}

int airsim_tx_link_up(airsim_tx_t *q)
{
    s_monitor_poll(&q->mon, &q->cnt, q->cfg.link);
    return q->mon.peers > 0;
}

const airsim_counters *airsim_tx_counters(const airsim_tx_t *q)
{
    return &q->cnt;
}

/* ====================================================================
 * RX
 * ==================================================================== */

struct airsim_rx_s {
    airsim_config cfg;
    double rate;
    void *ctx, *sock;
    s_monitor mon;
    airsim_chan_t *chan;
    airsim_front_t *front;
    float complex *ring;       /* channel input, indexed by stream index & mask */
    int64_t size, mask;
    int64_t pos;               /* next stream index handed to the reader */
    int64_t in_end;            /* fast: input complete below this index */
    int64_t t0_ns;
    int64_t time_offset;       /* label of stream index k: k - latency + time_offset
                                * (the first `latency` labels are negative) */
    unsigned latency;
    double tick_rate;          /* realtime: the sample clock, rate (1 + ppm 1e-6) */
    /* the TX timeline being received */
    int have_instance;
    uint64_t instance, next_seq;
    int64_t offset;            /* stream index = TX time + offset (+ integer delay) */
    int64_t anchor_t;          /* TX time where the clock drift starts counting */
    uint64_t last_msg_ms;
    /* one received message waiting for room in the ring */
    zmq_msg_t pending;
    int has_pending;
    airsim_wire_header ph;
    int64_t pp;                /* its stream index */
    double pfrac, pratio;      /* clocks apart: its position is pp + pfrac, then
                                * pratio RX samples per TX sample */
    float complex *scratch;    /* MTU samples */
    uint64_t reads;
    long outage_seen;
    airsim_counters cnt;
};

airsim_rx_t *airsim_rx_create(const airsim_config *cfg, double rate)
{
    airsim_rx_t *q = calloc(1, sizeof *q);
    if (q == NULL) {
        AL_FAIL(AL_ENOMEM, "out of memory");
        return NULL;
    }
    q->cfg = *cfg;
    if (!cfg->ppm_given)
        q->cfg.ppm = -cfg->ppm;   /* a profile's typical pair: see airsim_config.h */
    q->rate = rate;
    q->chan = airsim_chan_create(&q->cfg, rate);
    if (q->chan == NULL) {
        free(q);
        return NULL;
    }
    q->latency = airsim_chan_latency(q->chan);
    q->tick_rate = rate * (1.0 + q->cfg.ppm * 1e-6);
    q->front = airsim_front_create(cfg, rate);
    if (q->front == NULL) {
        airsim_chan_destroy(&q->chan);
        free(q);
        return NULL;
    }
    /* Room for the realtime TX lead and air latency four times over. */
    double need = 4.0 * (AIRSIM_TX_LEAD_S + AIRSIM_AIR_LATENCY_S) * rate;
    q->size = 1 << 20;
    while ((double)q->size < need || q->size < 4 * AIRSIM_WIRE_MAX_SAMPLES)
        q->size <<= 1;
    q->mask = q->size - 1;
    q->ring = calloc((size_t)q->size, sizeof *q->ring);
    if (q->ring) {
        /* Resident from the start, not page by page as it fills (volatile:
         * the compiler may not drop stores into calloc'd memory). */
        volatile unsigned char *page = (volatile unsigned char *)q->ring;
        for (size_t off = 0; off < (size_t)q->size * sizeof *q->ring; off += 4096)
            page[off] = 0;
    }
    q->scratch = malloc(AIRSIM_WIRE_MAX_SAMPLES * sizeof *q->scratch);
    zmq_msg_init(&q->pending);
    if (q->ring == NULL || q->scratch == NULL) {
        airsim_rx_destroy(&q);
        AL_FAIL(AL_ENOMEM, "out of memory for the airsim receive buffer");
        return NULL;
    }
    q->ctx = zmq_ctx_new();
    q->sock = q->ctx ? zmq_socket(q->ctx, ZMQ_PULL) : NULL;
    if (q->sock == NULL || s_socket_options(q->sock, cfg->link, ZMQ_RCVHWM, 0) != 0 ||
        s_monitor_open(&q->mon, q->ctx, q->sock, q) != 0) {
        airsim_rx_destroy(&q);
        return NULL;
    }
    int in_use = s_ipc_path_listened(cfg->link);
    if (in_use || zmq_bind(q->sock, cfg->link) != 0) {
        AL_FAIL(AL_ENET, "cannot bind the airsim link %s: %s (is another RX device using it?)",
                cfg->link, in_use ? "a socket listens at that path" : zmq_strerror(errno));
        airsim_rx_destroy(&q);
        return NULL;
    }
    airsim_rx_activate(q);
    return q;
}

void airsim_rx_destroy(airsim_rx_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    airsim_rx_t *q = *self_p;
    *self_p = NULL;
    zmq_msg_close(&q->pending);
    if (q->sock) {
        s_monitor_close(&q->mon, q->sock);
        zmq_close(q->sock);
    }
    if (q->ctx)
        zmq_ctx_term(q->ctx);
    airsim_chan_destroy(&q->chan);
    airsim_front_destroy(&q->front);
    free(q->ring);
    free(q->scratch);
    free(q);
}

void airsim_rx_activate(airsim_rx_t *q)
{
    q->t0_ns = s_mono_ns();
    q->pos = 0;
    q->in_end = 0;
    q->have_instance = 0;
    memset(q->ring, 0, (size_t)q->size * sizeof *q->ring);
    airsim_chan_reset(q->chan);
    airsim_front_reset(q->front);
}

static int64_t s_rx_now(const airsim_rx_t *q)
{
    return s_ticks(q->tick_rate, s_mono_ns() - q->t0_ns);
}

/* Decides where a freshly received message lands; 0 to place it, -1 to
 * drop it. */
static int s_rx_anchor(airsim_rx_t *q)
{
    const airsim_wire_header *h = &q->ph;
    int64_t idelay = airsim_chan_int_delay(q->chan);
    uint64_t now_ms = al_now_ms();
    int fast = q->cfg.clock == AIRSIM_CLOCK_FAST;
    if (!q->have_instance || h->instance != q->instance) {
        if (q->have_instance && q->mon.peers > 1 && now_ms - q->last_msg_ms < FOREIGN_QUIET_MS) {
            q->cnt.dropped++;
            return -1;
        }
        if (q->have_instance)
            al_info("airsim %s: new transmitter timeline", q->cfg.link);
        q->have_instance = 1;
        q->instance = h->instance;
        q->next_seq = h->seq;
        q->anchor_t = h->time;
        if (fast) {
            /* Keep the TX's times when they are ahead of us (a fresh pair
             * starts both at 0); otherwise continue from our present. */
            int64_t ahead = h->time + idelay - q->in_end;
            q->offset = (ahead >= 0 && ahead < (int64_t)(10.0 * q->rate)) ? 0 : -ahead;
        } else {
            q->offset = s_rx_now(q) + (int64_t)(AIRSIM_AIR_LATENCY_S * q->rate) - h->tx_now;
        }
    }
    if (h->seq > q->next_seq)
        q->cnt.lost += h->seq - q->next_seq;
    else if (h->seq < q->next_seq) {
        q->cnt.dropped++;   /* a replay or reordering: never place twice */
        return -1;
    }
    q->next_seq = h->seq + 1;
    q->last_msg_ms = now_ms;
    q->pp = h->time + q->offset + idelay;
    q->pfrac = 0.0;
    q->pratio = airsim_chan_clock_ratio(q->chan, h->ppm);
    if (q->pratio != 1.0) {
        /* The two sample clocks drift apart from the timeline's start. */
        double drift = (double)(h->time - q->anchor_t) * (q->pratio - 1.0);
        q->pp += (int64_t)floor(drift);
        q->pfrac = drift - floor(drift);
    }
    int64_t floor_k = fast ? q->in_end : q->pos;
    if (q->pp < floor_k) {
        /* The TX clock stepped back (setHardwareTime) or the message is
         * late: shift the timeline (fast) or lose what already went by. */
        int64_t behind = floor_k - q->pp;
        q->cnt.late += (uint64_t)behind;
        if (fast) {
            q->offset += behind;
            q->pp = floor_k;
        }
    }
    return 0;
}

/* Puts the pending message on the ring; 0 if it does not fit yet. */
static int s_rx_place(airsim_rx_t *q)
{
    const airsim_wire_header *h = &q->ph;
    /* Touches [lo, end); complete below `done` once this is placed. */
    int64_t lo = q->pp, end = q->pp + h->count, done = end;
    if (q->pratio != 1.0) {
        const int64_t m = AIRSIM_CHAN_RESAMP_M;
        double next = q->pfrac + h->count * q->pratio;   /* where the next sample would go */
        lo = q->pp - m + 1;
        end = q->pp + (int64_t)floor(next - q->pratio) + m + 1;
        done = q->pp + (int64_t)floor(next) - m + 1;
    }
    if (end > q->pos + q->size) {
        if (q->cfg.clock == AIRSIM_CLOCK_FAST && lo > q->in_end)
            q->in_end = lo > q->pos + q->size ? q->pos + q->size : lo;
        return 0;
    }
    memcpy(q->scratch, (const uint8_t *)zmq_msg_data(&q->pending) + AIRSIM_WIRE_HEADER,
           (size_t)h->count * 8);
    airsim_chan_burst(q->chan, q->scratch, h->count, q->pp, (h->flags & AIRSIM_FLAG_START) != 0);
    airsim_chan_tx_carrier(q->chan, q->scratch, h->count, h->time, h->ppm, h->freq);
    if (q->pratio != 1.0) {
        airsim_chan_scatter(q->chan, q->scratch, h->count, q->pp, q->pfrac, q->pratio, q->ring,
                            q->mask, q->pos);
    } else {
        unsigned skip = q->pp < q->pos ? (unsigned)(q->pos - q->pp) : 0;   /* realtime, late */
        for (unsigned i = skip; i < h->count; i++)
            q->ring[(q->pp + i) & q->mask] += q->scratch[i];
    }
    if (done > q->in_end)
        q->in_end = done;
    q->cnt.messages++;
    return 1;
}

/* Fault injection: is the link down right now? Reports the start of each
 * outage once, as a lost peer. */
static int s_rx_in_outage(airsim_rx_t *q)
{
    if (q->cfg.outage_every <= 0)
        return 0;
    double t = (double)(s_mono_ns() - q->t0_ns) / 1e9;
    long k = (long)(t / q->cfg.outage_every);
    int down = k > 0 && t - (double)k * q->cfg.outage_every < q->cfg.outage_for;
    if (down && k != q->outage_seen) {
        q->outage_seen = k;
        q->mon.lost = 1;
        q->cnt.link_lost++;
        al_warn("airsim %s: link outage (fault injection) for %.1f s", q->cfg.link,
                q->cfg.outage_for);
    }
    return down;
}

static void s_rx_drain(airsim_rx_t *q)
{
    for (;;) {
        if (!q->has_pending) {
            if (zmq_msg_recv(&q->pending, q->sock, ZMQ_DONTWAIT) < 0)
                return;
            if (airsim_wire_parse(zmq_msg_data(&q->pending), zmq_msg_size(&q->pending), &q->ph) != 0) {
                q->cnt.malformed++;
                static __thread uint64_t last;
                al_log_ratelimited(AL_LOG_WARN, &last, 5000, "airsim %s: %s", q->cfg.link,
                                   al_error_message());
                continue;
            }
            if (s_rx_in_outage(q)) {
                q->cnt.dropped++;
                continue;
            }
            if (s_rx_anchor(q) != 0)
                continue;
            q->has_pending = 1;
        }
        if (!s_rx_place(q))
            return;
        q->has_pending = 0;
    }
}

/* Hands out stream [pos, pos+m) through the channel. */
static void s_rx_deliver(airsim_rx_t *q, void *buf, airsim_format fmt, unsigned m)
{
    unsigned done = 0;
    while (done < m) {
        int64_t k = q->pos + done;
        unsigned idx = (unsigned)(k & q->mask);
        unsigned seg = m - done;
        if ((int64_t)idx + seg > q->size)
            seg = (unsigned)(q->size - idx);
        float complex *src = &q->ring[idx];
        static const size_t sample_bytes[] = {[AIRSIM_CF32] = 8, [AIRSIM_CS16] = 4, [AIRSIM_CS8] = 2};
        airsim_chan_stream(q->chan, src, src, seg);
        airsim_front_rx(q->front, src, (uint8_t *)buf + sample_bytes[fmt] * done, fmt, seg);
        memset(src, 0, seg * sizeof *src);
        done += seg;
    }
    q->pos += m;
    q->cnt.samples += m;
}

/* Realtime reader too slow: jump to the present, like hardware whose
 * buffer overflowed. */
static void s_rx_overflow(airsim_rx_t *q, int64_t now)
{
    int64_t to = now - q->size / 8;
    for (int64_t k = q->pos; k < to && k < q->pos + q->size; k++)
        q->ring[k & q->mask] = 0.0f;
    q->pos = to;
    airsim_chan_reset(q->chan);
    q->cnt.overflows++;
}

int airsim_rx_read(airsim_rx_t *q, void *buf, airsim_format fmt, unsigned n, int64_t *time,
                   long timeout_us)
{
    int64_t deadline = s_mono_ns() + (int64_t)timeout_us * 1000;
    int fast = q->cfg.clock == AIRSIM_CLOCK_FAST;
    if (n > AIRSIM_WIRE_MAX_SAMPLES)
        n = AIRSIM_WIRE_MAX_SAMPLES;
    if (q->cfg.overflow_every > 0 && ++q->reads % q->cfg.overflow_every == 0) {
        q->cnt.overflows++;
        if (!fast)
            s_rx_overflow(q, s_rx_now(q));
        return SOAPY_SDR_OVERFLOW;
    }
    for (;;) {
        s_monitor_poll(&q->mon, &q->cnt, q->cfg.link);
        s_rx_drain(q);
        int64_t now = fast ? q->in_end : s_rx_now(q);
        if (!fast && now - q->pos > q->size / 2) {
            s_rx_overflow(q, now);
            return SOAPY_SDR_OVERFLOW;
        }
        int64_t avail = now - q->pos;
        int64_t left = deadline - s_mono_ns();
        if (avail >= n || (avail > 0 && (fast || left <= 0))) {
            unsigned m = avail >= n ? n : (unsigned)avail;
            *time = q->pos - q->latency + q->time_offset;
            s_rx_deliver(q, buf, fmt, m);
            return (int)m;
        }
        /* What the TX sent before it went away is delivered first. */
        if (q->mon.lost) {
            q->mon.lost = 0;
            al_error_set(AL_ENET, __func__, "transmitter on airsim link %s is gone",
                         q->cfg.link);
            return SOAPY_SDR_STREAM_ERROR;
        }
        if (left <= 0)
            return SOAPY_SDR_TIMEOUT;
        long ms = (long)(left / 1000000) + 1;
        if (!fast) {
            long need_ms = (long)ceil((double)(n - avail) * 1000.0 / q->rate);
            if (need_ms < ms)
                ms = need_ms > 0 ? need_ms : 1;
        }
        zmq_pollitem_t it[2] = {{q->sock, 0, ZMQ_POLLIN, 0}, {q->mon.pair, 0, ZMQ_POLLIN, 0}};
        /* With a message waiting for room the socket is always readable:
         * then only the monitor and the clock can change anything. */
        if (q->has_pending)
            zmq_poll(&it[1], 1, ms);
        else
            zmq_poll(it, 2, ms);
    }
}

int64_t airsim_rx_time(const airsim_rx_t *q)
{
    int64_t k = q->cfg.clock == AIRSIM_CLOCK_FAST ? q->pos : s_rx_now(q);
    return k - q->latency + q->time_offset;
}

void airsim_rx_set_time(airsim_rx_t *q, int64_t ticks)
{
    q->time_offset = ticks - (airsim_rx_time(q) - q->time_offset);
}

void airsim_rx_set_gain(airsim_rx_t *q, double db)
{
    airsim_front_set_gain(q->front, db);
}

int airsim_rx_set_frequency(airsim_rx_t *q, double freq)
{
    int rc = s_check_frequency(freq);
    if (rc == AL_OK)
        airsim_chan_set_frequency(q->chan, freq);
    return rc;
}

int airsim_rx_link_up(airsim_rx_t *q)
{
    s_monitor_poll(&q->mon, &q->cnt, q->cfg.link);
    return q->mon.peers > 0;
}

const airsim_counters *airsim_rx_counters(const airsim_rx_t *q)
{
    return &q->cnt;
}

#include "fb_session.h"

#include "al_error.h"
#include "al_rng.h"
#include "al_log.h"
#include "fb_keys.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

enum { MAX_IDENTITY = 256 };

/* What both ends share: the socket, timers, buffers, counters. */
typedef struct {
    fb_session_config cfg;
    char endpoint[512];
    void *ctx;
    void *sock;
    uint64_t last_rx_ms;     /* last valid message from the peer */
    uint64_t last_tx_ms;     /* last HEARTBEAT or HELLO sent */
    uint64_t log_ms;         /* rate limit for rejection logs */
    fb_counters counters;
    fb_msg msg;              /* the decoded message handed out in events */
    fb_msg out;              /* scratch for encoding */
    uint8_t buf[FB_MAX_MESSAGE + 1];
    al_rng_t fault_rng;
} s_end;

struct fb_server {
    s_end e;
    void *zap;                   /* ZAP handler (REP), CURVE only */
    void *monitor;               /* handshake failures (PAIR), CURVE only */
    uint8_t (*allowed)[32];      /* allowed client public keys */
    unsigned n_allowed;
    int has_peer;
    uint8_t peer[MAX_IDENTITY];  /* ROUTER identity of the current peer */
    size_t peer_len;
};

struct fb_client {
    s_end e;
    int ready;               /* WELCOME received, peer alive */
    uint32_t session_id;
    uint64_t session_seed;
    uint64_t dropped;
};

static int s_check_config(const fb_session_config *c, int server)
{
    if (c == NULL || c->endpoint == NULL || strlen(c->endpoint) >= 512)
        return AL_FAIL(AL_EINVAL, "an endpoint (tcp:// or ipc://) is required");
    if (strncmp(c->endpoint, "tcp://", 6) != 0 && strncmp(c->endpoint, "ipc://", 6) != 0)
        return AL_FAIL(AL_EINVAL, "endpoint '%s' is neither tcp:// nor ipc://", c->endpoint);
    if (c->heartbeat_ms < 10 || c->heartbeat_ms > 60000 || c->peer_timeout_ms <= c->heartbeat_ms)
        return AL_FAIL(AL_EINVAL, "heartbeat_ms=%u not in 10..60000 or peer_timeout_ms=%u "
                       "not above it", c->heartbeat_ms, c->peer_timeout_ms);
    if (!(c->fault_drop >= 0 && c->fault_drop <= 1 && c->fault_corrupt >= 0 && c->fault_corrupt <= 1))
        return AL_FAIL(AL_EINVAL, "fault_drop and fault_corrupt are probabilities in [0, 1]");
    if (server && c->session_id == 0)
        return AL_FAIL(AL_EINVAL, "session id 0 is reserved for 'no session'");
    return AL_OK;
}

/* zmq_setsockopt, its failure an error naming the option. */
static int s_setopt(void *sock, int option, const void *value, size_t len, const char *name)
{
    if (zmq_setsockopt(sock, option, value, len) != 0)
        return AL_FAIL(AL_ENET, "feedback: cannot set %s: %s", name, zmq_strerror(errno));
    return AL_OK;
}

/* Keys were configured: without CURVE in this libzmq they would not
 * apply and the link would run unauthenticated and in clear. */
static int s_check_curve(void)
{
    if (!zmq_has("curve"))
        return AL_FAIL(AL_ENET, "feedback: CURVE keys are configured but this libzmq %d.%d.%d has "
                       "no CURVE security: refusing to run unauthenticated", ZMQ_VERSION_MAJOR,
                       ZMQ_VERSION_MINOR, ZMQ_VERSION_PATCH);
    return AL_OK;
}

/* Creates the context and socket with the options both ends use. */
static int s_socket(s_end *e, const fb_session_config *cfg, int type)
{
    e->cfg = *cfg;
    snprintf(e->endpoint, sizeof e->endpoint, "%s", cfg->endpoint);
    e->cfg.endpoint = e->endpoint;
    e->ctx = zmq_ctx_new();
    e->sock = e->ctx ? zmq_socket(e->ctx, type) : NULL;
    if (e->sock == NULL)
        return AL_FAIL(AL_ENET, "cannot create a ZeroMQ socket: %s", zmq_strerror(errno));
    const int zero = 0, one = 1, hwm = 1000, ivl = 100, ivl_max = 1000;
    int rc = s_setopt(e->sock, ZMQ_LINGER, &zero, sizeof zero, "ZMQ_LINGER");
    if (rc == AL_OK)
        rc = s_setopt(e->sock, ZMQ_SNDHWM, &hwm, sizeof hwm, "ZMQ_SNDHWM");
    if (rc == AL_OK)
        rc = s_setopt(e->sock, ZMQ_RCVHWM, &hwm, sizeof hwm, "ZMQ_RCVHWM");
    if (rc == AL_OK)
        rc = s_setopt(e->sock, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl, "ZMQ_RECONNECT_IVL");
    if (rc == AL_OK)
        rc = s_setopt(e->sock, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof ivl_max,
                      "ZMQ_RECONNECT_IVL_MAX");
    if (rc == AL_OK && type == ZMQ_ROUTER)
        /* Sends to a vanished peer fail instead of disappearing. */
        rc = s_setopt(e->sock, ZMQ_ROUTER_MANDATORY, &one, sizeof one, "ZMQ_ROUTER_MANDATORY");
    else if (rc == AL_OK)
        /* Queue nothing towards a TX that is not there. */
        rc = s_setopt(e->sock, ZMQ_IMMEDIATE, &one, sizeof one, "ZMQ_IMMEDIATE");
    if (rc < 0)
        return rc;
    e->last_rx_ms = e->last_tx_ms = 0;
    al_rng_seed(&e->fault_rng, cfg->fault_seed);
    return AL_OK;
}

/* Binds (server) or connects (client), after any security options. */
static int s_attach(s_end *e, int server)
{
    const fb_session_config *cfg = &e->cfg;
    if (server) {
        if (zmq_bind(e->sock, cfg->endpoint) != 0)
            return AL_FAIL(AL_ENET, "cannot bind %s: %s", cfg->endpoint, zmq_strerror(errno));
        /* With "tcp://HOST:*" the system picked the port: keep the real one. */
        size_t len = sizeof e->endpoint;
        zmq_getsockopt(e->sock, ZMQ_LAST_ENDPOINT, e->endpoint, &len);
    } else if (zmq_connect(e->sock, cfg->endpoint) != 0) {
        return AL_FAIL(AL_ENET, "cannot connect to %s: %s", cfg->endpoint, zmq_strerror(errno));
    }
    return AL_OK;
}

static void s_close(s_end *e)
{
    if (e->sock)
        zmq_close(e->sock);
    if (e->ctx)
        zmq_ctx_term(e->ctx);
    e->sock = e->ctx = NULL;
}

/* Encodes e->out and sends it, to `identity` first when given (ROUTER). */
static int s_send(s_end *e, const uint8_t *identity, size_t id_len)
{
    int len = fb_encode(&e->out, e->buf, sizeof e->buf);
    if (len < 0)
        return len;
    if (e->cfg.fault_drop > 0 && al_rng_uniform(&e->fault_rng) < e->cfg.fault_drop) {
        e->counters.fault_dropped++;
        return AL_OK;
    }
    if (e->cfg.fault_corrupt > 0 && al_rng_uniform(&e->fault_rng) < e->cfg.fault_corrupt) {
        e->counters.fault_corrupted++;
        e->buf[al_rng_below(&e->fault_rng, (uint32_t)len)] ^=
            (uint8_t)(1u << al_rng_below(&e->fault_rng, 8));
    }
    if (identity != NULL && zmq_send(e->sock, identity, id_len, ZMQ_DONTWAIT | ZMQ_SNDMORE) < 0)
        return AL_EAGAIN;
    if (zmq_send(e->sock, e->buf, (size_t)len, ZMQ_DONTWAIT) < 0)
        return AL_EAGAIN;
    return AL_OK;
}

/* Waits up to wait_ms for a message; returns its length, 0 if none,
 * or -1 if it was larger than any valid message (then dropped). */
static int s_recv(s_end *e, int wait_ms, uint8_t *identity, size_t *id_len)
{
    zmq_pollitem_t item = {e->sock, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, wait_ms) <= 0 || !(item.revents & ZMQ_POLLIN))
        return 0;
    if (identity != NULL) {
        int n = zmq_recv(e->sock, identity, MAX_IDENTITY, ZMQ_DONTWAIT);
        if (n < 0)
            return 0;
        *id_len = n > MAX_IDENTITY ? MAX_IDENTITY : (size_t)n;
    }
    int n = zmq_recv(e->sock, e->buf, sizeof e->buf, ZMQ_DONTWAIT);
    /* Drain frames a well-behaved peer never sends. */
    int more = 0;
    size_t more_len = sizeof more;
    while (zmq_getsockopt(e->sock, ZMQ_RCVMORE, &more, &more_len) == 0 && more) {
        uint8_t junk[64];
        zmq_recv(e->sock, junk, sizeof junk, ZMQ_DONTWAIT);
        n = -1;
    }
    if (n < 0 || (size_t)n > FB_MAX_MESSAGE)
        return -1;
    return n;
}

static void s_reject(s_end *e, int type, fb_reason r, const char *who)
{
    fb_counters_add(&e->counters, type, r);
    al_log_ratelimited(AL_LOG_WARN, &e->log_ms, 1000, "feedback %s: dropped a %s message: %s",
                       who, fb_type_name(type), fb_reason_text(r));
}

/* One end's work for one pass: send what is due at `now`, wait up to
 * wait_ms for a message and handle it; 1 if that produced an event. */
typedef int (*s_step_fn)(void *self, uint64_t now, int wait_ms, fb_event *ev);

static int s_wait_ms(const s_end *e, uint64_t now, uint64_t deadline);

/* The poll loop both ends share: peer time-out, then steps until an event
 * or the deadline. *alive is the end's "peer is there" flag. */
static int s_poll(s_end *e, int *alive, const char *lost_text, int timeout_ms, fb_event *ev,
                  s_step_fn step, void *self)
{
    ev->type = FB_EV_NONE;
    ev->msg = NULL;
    const uint64_t deadline = al_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        const uint64_t now = al_now_ms();
        if (*alive && now - e->last_rx_ms > e->cfg.peer_timeout_ms) {
            *alive = 0;
            al_warn("feedback: %s silent for %u ms, declared lost", lost_text,
                    e->cfg.peer_timeout_ms);
            ev->type = FB_EV_PEER_LOST;
            return 1;
        }
        if (step(self, now, s_wait_ms(e, now, deadline), ev))
            return 1;
        if (al_now_ms() >= deadline)
            return 0;
    }
}

static int s_wait_ms(const s_end *e, uint64_t now, uint64_t deadline)
{
    uint64_t next_tx = e->last_tx_ms + e->cfg.heartbeat_ms;
    uint64_t until = deadline < next_tx ? deadline : next_tx;
    return until > now ? (int)(until - now) : 0;
}

/* ---- server ---------------------------------------------------------- */

static int s_is_loopback(const char *endpoint)
{
    if (strncmp(endpoint, "tcp://", 6) != 0)
        return 1; /* ipc:// stays on this host */
    const char *h = endpoint + 6;
    return strncmp(h, "127.", 4) == 0 || strncmp(h, "localhost:", 10) == 0 ||
           strncmp(h, "[::1]:", 6) == 0 || strncmp(h, "lo:", 3) == 0;
}

/* CURVE server: secret key, allow-list, ZAP handler and a monitor that
 * reports clients failing the handshake (no key, wrong server key). */
static int s_server_curve(fb_server_t *q)
{
    s_end *e = &q->e;
    char secret[FB_KEY_Z85 + 1];
    int rc = s_check_curve();
    if (rc == AL_OK)
        rc = fb_key_read(e->cfg.curve_secret_file, secret);
    if (rc < 0)
        return rc;
    if (e->cfg.curve_allow_dir == NULL)
        return AL_FAIL(AL_EINVAL, "CURVE needs a directory of allowed receiver keys");
    q->allowed = calloc(FB_MAX_ALLOWED_KEYS, sizeof *q->allowed);
    if (q->allowed == NULL)
        return AL_FAIL(AL_ENOMEM, "no memory");
    rc = fb_keys_load_dir(e->cfg.curve_allow_dir, q->allowed, FB_MAX_ALLOWED_KEYS, &q->n_allowed);
    if (rc < 0)
        return rc;
    if (q->n_allowed == 0)
        al_warn("feedback: no receiver keys (*.pub) in %s: every receiver will be refused",
                e->cfg.curve_allow_dir);
    /* The ZAP handler must exist in this context before the first
     * handshake, so it is bound before the ROUTER. */
    q->zap = zmq_socket(e->ctx, ZMQ_REP);
    if (q->zap == NULL || zmq_bind(q->zap, "inproc://zeromq.zap.01") != 0)
        return AL_FAIL(AL_ENET, "cannot start the ZAP handler: %s", zmq_strerror(errno));
    const int one = 1, zero = 0;
    rc = s_setopt(q->zap, ZMQ_LINGER, &zero, sizeof zero, "ZMQ_LINGER");
    if (rc == AL_OK)
        rc = s_setopt(e->sock, ZMQ_CURVE_SERVER, &one, sizeof one, "ZMQ_CURVE_SERVER");
    if (rc == AL_OK)
        rc = s_setopt(e->sock, ZMQ_CURVE_SECRETKEY, secret, FB_KEY_Z85, "ZMQ_CURVE_SECRETKEY");
    if (rc == AL_OK)
        rc = s_setopt(e->sock, ZMQ_ZAP_DOMAIN, "airlearn", 8, "ZMQ_ZAP_DOMAIN");
    memset(secret, 0, sizeof secret);
    if (rc < 0)
        return rc;
    char mon[64];
    snprintf(mon, sizeof mon, "inproc://fb-monitor-%p", (void *)q);
    if (zmq_socket_monitor(e->sock, mon, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                                             ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) != 0)
        return AL_FAIL(AL_ENET, "cannot monitor the feedback socket: %s", zmq_strerror(errno));
    q->monitor = zmq_socket(e->ctx, ZMQ_PAIR);
    if (q->monitor == NULL || zmq_connect(q->monitor, mon) != 0)
        return AL_FAIL(AL_ENET, "cannot monitor the feedback socket: %s", zmq_strerror(errno));
    return s_setopt(q->monitor, ZMQ_LINGER, &zero, sizeof zero, "ZMQ_LINGER");
}

static int s_recv_frame(void *sock, uint8_t *buf, size_t cap, int *more)
{
    int n = zmq_recv(sock, buf, cap, ZMQ_DONTWAIT);
    size_t len = sizeof *more;
    *more = 0;
    zmq_getsockopt(sock, ZMQ_RCVMORE, more, &len);
    return n;
}

/* Answers one ZAP request: 200 for an allowed CURVE key, 400 otherwise. */
static void s_serve_zap(fb_server_t *q)
{
    uint8_t f[8][64];
    int len[8], more = 1, n = 0;
    while (more && n < 8) {
        len[n] = s_recv_frame(q->zap, f[n], sizeof f[n], &more);
        if (len[n] < 0)
            return;
        n++;
    }
    while (more) { /* an oversize request: drain it */
        uint8_t junk[64];
        s_recv_frame(q->zap, junk, sizeof junk, &more);
    }
    /* version, request id, domain, address, identity, mechanism, key */
    int ok = 0;
    if (n >= 7 && len[5] == 5 && memcmp(f[5], "CURVE", 5) == 0 && len[6] == 32)
        for (unsigned i = 0; i < q->n_allowed && !ok; i++)
            ok = memcmp(q->allowed[i], f[6], 32) == 0;
    if (!ok) {
        char z85[FB_KEY_Z85 + 1] = "(none)";
        if (n >= 7 && len[6] == 32)
            zmq_z85_encode(z85, f[6], 32);
        fb_counters_add(&q->e.counters, -1, FB_R_AUTH);
        al_log_ratelimited(AL_LOG_WARN, &q->e.log_ms, 1000,
                           "feedback: refused a receiver with key %s: not in %s", z85,
                           q->e.cfg.curve_allow_dir);
    }
    zmq_send(q->zap, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(q->zap, f[1], n > 1 && len[1] > 0 ? (size_t)len[1] : 0, ZMQ_SNDMORE);
    zmq_send(q->zap, ok ? "200" : "400", 3, ZMQ_SNDMORE);
    zmq_send(q->zap, ok ? "OK" : "key not allowed", ok ? 2 : 15, ZMQ_SNDMORE);
    zmq_send(q->zap, "", 0, ZMQ_SNDMORE);
    zmq_send(q->zap, "", 0, 0);
}

/* A client that failed the handshake before ZAP (no key, wrong server key). */
static void s_serve_monitor(fb_server_t *q)
{
    uint8_t ev[64];
    int more;
    int n = s_recv_frame(q->monitor, ev, sizeof ev, &more);
    while (more) {
        uint8_t junk[256];
        s_recv_frame(q->monitor, junk, sizeof junk, &more);
    }
    if (n < 6)
        return;
    fb_counters_add(&q->e.counters, -1, FB_R_AUTH);
    al_log_ratelimited(AL_LOG_WARN, &q->e.log_ms, 1000,
                       "feedback: a receiver failed the CURVE handshake (no key, or not this "
                       "transmitter's public key)");
}

fb_server_t *fb_server_create(const fb_session_config *cfg)
{
    if (s_check_config(cfg, 1) < 0)
        return NULL;
    fb_server_t *q = calloc(1, sizeof *q);
    if (q == NULL) {
        AL_FAIL(AL_ENOMEM, "no memory");
        return NULL;
    }
    if (s_socket(&q->e, cfg, ZMQ_ROUTER) < 0 || (cfg->curve_secret_file && s_server_curve(q) < 0) ||
        s_attach(&q->e, 1) < 0) {
        fb_server_destroy(&q);
        return NULL;
    }
    if (cfg->curve_secret_file == NULL && !s_is_loopback(cfg->endpoint))
        al_warn("feedback: %s is reachable from other hosts and CURVE is off: anyone who can "
                "reach it can send losses into the training (see airlearn keygen)", cfg->endpoint);
    return q;
}

void fb_server_destroy(fb_server_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    fb_server_t *q = *self_p;
    if (q->zap)
        zmq_close(q->zap);
    if (q->monitor) {
        zmq_socket_monitor(q->e.sock, NULL, 0);
        zmq_close(q->monitor);
    }
    free(q->allowed);
    s_close(&q->e);
    free(*self_p);
    *self_p = NULL;
}

static int s_server_handle(fb_server_t *q, const uint8_t *id, size_t id_len, int n, fb_event *ev)
{
    s_end *e = &q->e;
    if (n < 0) {
        s_reject(e, -1, FB_R_LENGTH, "server");
        return 0;
    }
    fb_reason r = fb_decode(e->buf, (size_t)n, 0, &e->msg);
    if (r != FB_OK) {
        s_reject(e, n > 5 ? e->buf[5] : -1, r, "server");
        return 0;
    }
    const fb_msg *m = &e->msg;
    if (m->type == FB_HELLO) {
        if (m->u.hello.version != FB_PROTOCOL_VERSION || m->u.hello.config_hash != e->cfg.config_hash) {
            memset(&e->out, 0, sizeof e->out);
            e->out.type = FB_REJECT;
            e->out.u.reject.reason = FB_R_CONFIG;
            int len = snprintf(e->out.u.reject.text, sizeof e->out.u.reject.text,
                               "configuration differs: TX hash %016" PRIx64 ", RX hash %016" PRIx64
                               " (M, N, architecture or frame settings)",
                               e->cfg.config_hash, m->u.hello.config_hash);
            e->out.u.reject.len = (uint16_t)(len < FB_MAX_TEXT ? len : FB_MAX_TEXT);
            s_send(e, id, id_len);
            fb_counters_add(&e->counters, FB_HELLO, FB_R_CONFIG);
            al_log_ratelimited(AL_LOG_ERROR, &e->log_ms, 1000,
                               "feedback: refused a receiver whose configuration hash %016" PRIx64
                               " differs from ours (%016" PRIx64 ")",
                               m->u.hello.config_hash, e->cfg.config_hash);
            return 0;
        }
        /* A new HELLO replaces the peer: a restarted RX comes back with a
         * new identity. */
        memcpy(q->peer, id, id_len);
        q->peer_len = id_len;
        q->has_peer = 1;
        e->last_rx_ms = al_now_ms();
        memset(&e->out, 0, sizeof e->out);
        e->out.type = FB_WELCOME;
        e->out.session = e->cfg.session_id;
        e->out.u.welcome.session_id = e->cfg.session_id;
        e->out.u.welcome.session_seed = e->cfg.session_seed;
        s_send(e, id, id_len);
        fb_counters_add(&e->counters, FB_HELLO, FB_OK);
        ev->type = FB_EV_PEER_READY;
        ev->msg = m;
        return 1;
    }
    if (!q->has_peer || id_len != q->peer_len || memcmp(id, q->peer, id_len) != 0 ||
        m->session != e->cfg.session_id) {
        s_reject(e, m->type, FB_R_SESSION, "server");
        return 0;
    }
    e->last_rx_ms = al_now_ms();
    switch (m->type) {
    case FB_HEARTBEAT:
        fb_counters_add(&e->counters, m->type, FB_OK);
        return 0;
    case FB_BYE:
        fb_counters_add(&e->counters, m->type, FB_OK);
        q->has_peer = 0;
        ev->type = FB_EV_PEER_LOST;
        ev->msg = m;
        return 1;
    case FB_LOSSES:
    case FB_STATS:
    case FB_XFER_STATUS:
        fb_counters_add(&e->counters, m->type, FB_OK);
        ev->type = FB_EV_MESSAGE;
        ev->msg = m;
        return 1;
    default:
        s_reject(e, m->type, FB_R_UNEXPECTED, "server");
        return 0;
    }
}

static int s_server_step(void *self, uint64_t now, int wait, fb_event *ev)
{
    fb_server_t *q = self;
    s_end *e = &q->e;
    if (q->has_peer && now - e->last_tx_ms >= e->cfg.heartbeat_ms) {
        memset(&e->out, 0, sizeof e->out);
        e->out.type = FB_HEARTBEAT;
        e->out.session = e->cfg.session_id;
        e->out.u.heartbeat.time_ms = now;
        s_send(e, q->peer, q->peer_len);
        e->last_tx_ms = now;
    }
    if (q->zap != NULL) {
        /* Security sockets first: a handshake waits on the ZAP answer. */
        zmq_pollitem_t items[3] = {{e->sock, 0, ZMQ_POLLIN, 0}, {q->zap, 0, ZMQ_POLLIN, 0},
                                   {q->monitor, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 3, wait) > 0) {
            if (items[1].revents & ZMQ_POLLIN)
                s_serve_zap(q);
            if (items[2].revents & ZMQ_POLLIN)
                s_serve_monitor(q);
        }
        wait = 0;
    }
    uint8_t id[MAX_IDENTITY];
    size_t id_len = 0;
    int n = s_recv(e, wait, id, &id_len);
    return n != 0 && s_server_handle(q, id, id_len, n, ev);
}

int fb_server_poll(fb_server_t *q, int timeout_ms, fb_event *ev)
{
    return s_poll(&q->e, &q->has_peer, "receiver", timeout_ms, ev, s_server_step, q);
}

int fb_server_ack(fb_server_t *q, uint32_t seq, fb_reason status, uint32_t model_version)
{
    if (!q->has_peer)
        return AL_EAGAIN;
    s_end *e = &q->e;
    memset(&e->out, 0, sizeof e->out);
    e->out.type = FB_LOSSES_ACK;
    e->out.session = e->cfg.session_id;
    e->out.u.ack.seq = seq;
    e->out.u.ack.status = (uint8_t)status;
    e->out.u.ack.model_version = model_version;
    return s_send(e, q->peer, q->peer_len);
}

int fb_server_send_offer(fb_server_t *q, const fb_xfer_offer *offer)
{
    if (!q->has_peer)
        return AL_EAGAIN;
    s_end *e = &q->e;
    e->out.type = FB_XFER_OFFER;
    e->out.session = e->cfg.session_id;
    e->out.u.offer = *offer;
    return s_send(e, q->peer, q->peer_len);
}

int fb_server_has_peer(const fb_server_t *q) { return q->has_peer; }
const char *fb_server_endpoint(const fb_server_t *q) { return q->e.endpoint; }
const fb_counters *fb_server_counters(const fb_server_t *q) { return &q->e.counters; }

/* ---- client ---------------------------------------------------------- */

static int s_client_curve(fb_client_t *q)
{
    s_end *e = &q->e;
    char secret[FB_KEY_Z85 + 1], public[FB_KEY_Z85 + 1], server[FB_KEY_Z85 + 1];
    if (e->cfg.curve_server_public_file == NULL)
        return AL_FAIL(AL_EINVAL, "CURVE needs the transmitter's public key file");
    int rc = s_check_curve();
    if (rc == AL_OK)
        rc = fb_key_read(e->cfg.curve_secret_file, secret);
    if (rc == AL_OK)
        rc = fb_key_public(secret, public);
    if (rc == AL_OK)
        rc = fb_key_read(e->cfg.curve_server_public_file, server);
    if (rc == AL_OK)
        rc = s_setopt(e->sock, ZMQ_CURVE_SERVERKEY, server, FB_KEY_Z85, "ZMQ_CURVE_SERVERKEY");
    if (rc == AL_OK)
        rc = s_setopt(e->sock, ZMQ_CURVE_PUBLICKEY, public, FB_KEY_Z85, "ZMQ_CURVE_PUBLICKEY");
    if (rc == AL_OK)
        rc = s_setopt(e->sock, ZMQ_CURVE_SECRETKEY, secret, FB_KEY_Z85, "ZMQ_CURVE_SECRETKEY");
    memset(secret, 0, sizeof secret);
    return rc;
}

fb_client_t *fb_client_create(const fb_session_config *cfg)
{
    if (s_check_config(cfg, 0) < 0)
        return NULL;
    fb_client_t *q = calloc(1, sizeof *q);
    if (q == NULL) {
        AL_FAIL(AL_ENOMEM, "no memory");
        return NULL;
    }
    if (s_socket(&q->e, cfg, ZMQ_DEALER) < 0 || (cfg->curve_secret_file && s_client_curve(q) < 0) ||
        s_attach(&q->e, 0) < 0) {
        fb_client_destroy(&q);
        return NULL;
    }
    return q;
}

void fb_client_destroy(fb_client_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    fb_client_t *q = *self_p;
    if (q->ready) {
        memset(&q->e.out, 0, sizeof q->e.out);
        q->e.out.type = FB_BYE;
        q->e.out.session = q->session_id;
        s_send(&q->e, NULL, 0);
    }
    s_close(&q->e);
    free(q);
    *self_p = NULL;
}

static int s_client_handle(fb_client_t *q, int n, fb_event *ev)
{
    s_end *e = &q->e;
    if (n < 0) {
        s_reject(e, -1, FB_R_LENGTH, "client");
        return 0;
    }
    fb_reason r = fb_decode(e->buf, (size_t)n, q->ready ? q->session_id : 0, &e->msg);
    if (r != FB_OK) {
        s_reject(e, n > 5 ? e->buf[5] : -1, r, "client");
        return 0;
    }
    const fb_msg *m = &e->msg;
    switch (m->type) {
    case FB_WELCOME:
        fb_counters_add(&e->counters, m->type, FB_OK);
        e->last_rx_ms = al_now_ms();
        if (q->ready && m->u.welcome.session_id == q->session_id)
            return 0; /* an answer to a HELLO sent twice */
        q->ready = 1;
        q->session_id = m->u.welcome.session_id;
        q->session_seed = m->u.welcome.session_seed;
        ev->type = FB_EV_PEER_READY;
        ev->msg = m;
        return 1;
    case FB_REJECT:
        fb_counters_add(&e->counters, m->type, FB_OK);
        q->ready = 0;
        al_error("feedback: the transmitter refused this receiver: %s", m->u.reject.text);
        ev->type = FB_EV_REJECTED;
        ev->msg = m;
        return 1;
    case FB_LOSSES_ACK:
    case FB_XFER_OFFER:
        if (!q->ready)
            break;
        fb_counters_add(&e->counters, m->type, FB_OK);
        e->last_rx_ms = al_now_ms();
        ev->type = FB_EV_MESSAGE;
        ev->msg = m;
        return 1;
    case FB_HEARTBEAT:
        if (!q->ready)
            break;
        fb_counters_add(&e->counters, m->type, FB_OK);
        e->last_rx_ms = al_now_ms();
        return 0;
    case FB_BYE:
        if (!q->ready)
            break;
        q->ready = 0;
        ev->type = FB_EV_PEER_LOST;
        return 1;
    default:
        break;
    }
    s_reject(e, m->type, FB_R_UNEXPECTED, "client");
    return 0;
}

static int s_client_step(void *self, uint64_t now, int wait, fb_event *ev)
{
    fb_client_t *q = self;
    s_end *e = &q->e;
    if (now - e->last_tx_ms >= e->cfg.heartbeat_ms) {
        memset(&e->out, 0, sizeof e->out);
        if (q->ready) {
            e->out.type = FB_HEARTBEAT;
            e->out.session = q->session_id;
            e->out.u.heartbeat.time_ms = now;
        } else {
            e->out.type = FB_HELLO;
            e->out.u.hello.version = FB_PROTOCOL_VERSION;
            e->out.u.hello.config_hash = e->cfg.config_hash;
        }
        s_send(e, NULL, 0); /* AL_EAGAIN while no TX is there: retried */
        e->last_tx_ms = now;
    }
    int n = s_recv(e, wait, NULL, NULL);
    return n != 0 && s_client_handle(q, n, ev);
}

int fb_client_poll(fb_client_t *q, int timeout_ms, fb_event *ev)
{
    return s_poll(&q->e, &q->ready, "transmitter", timeout_ms, ev, s_client_step, q);
}

int fb_client_send_losses(fb_client_t *q, uint32_t seq, uint32_t model_version,
                          const float *losses, uint16_t count)
{
    if (count > FB_MAX_LOSSES)
        return AL_FAIL(AL_EINVAL, "%u losses (max %d)", count, FB_MAX_LOSSES);
    if (!q->ready) {
        q->dropped++;
        return AL_EAGAIN;
    }
    s_end *e = &q->e;
    e->out.type = FB_LOSSES;
    e->out.session = q->session_id;
    e->out.u.losses.seq = seq;
    e->out.u.losses.model_version = model_version;
    e->out.u.losses.count = count;
    memcpy(e->out.u.losses.values, losses, sizeof(float) * count);
    int rc = s_send(e, NULL, 0);
    if (rc < 0)
        q->dropped++;
    return rc;
}

int fb_client_send_stats(fb_client_t *q, const fb_stats *stats)
{
    if (!q->ready)
        return AL_EAGAIN;
    s_end *e = &q->e;
    memset(&e->out, 0, sizeof e->out);
    e->out.type = FB_STATS;
    e->out.session = q->session_id;
    e->out.u.stats = *stats;
    return s_send(e, NULL, 0);
}

int fb_client_send_xfer_status(fb_client_t *q, const fb_xfer_status *status)
{
    if (!q->ready)
        return AL_EAGAIN;
    s_end *e = &q->e;
    e->out.type = FB_XFER_STATUS;
    e->out.session = q->session_id;
    e->out.u.xstatus = *status;
    return s_send(e, NULL, 0);
}

int fb_client_ready(const fb_client_t *q) { return q->ready; }
uint32_t fb_client_session_id(const fb_client_t *q) { return q->session_id; }
uint64_t fb_client_session_seed(const fb_client_t *q) { return q->session_seed; }
const fb_counters *fb_client_counters(const fb_client_t *q) { return &q->e.counters; }
uint64_t fb_client_dropped(const fb_client_t *q) { return q->dropped; }

/* airlearn — the feedback link's two ends over ZeroMQ.
 *
 * fb_server (TX): binds a ROUTER. A HELLO with the right protocol version
 * and configuration hash makes its sender the current peer and is answered
 * with WELCOME (session id, session seed); a wrong hash is answered with
 * REJECT and logged. Only the current peer's messages of the current
 * session are used.
 * fb_client (RX): connects a DEALER and says HELLO until WELCOME arrives,
 * then sends loss reports and statistics.
 * Both send HEARTBEAT every heartbeat_ms and declare the peer lost after
 * peer_timeout_ms of silence; the client then says HELLO again, so either
 * side may start first and either may restart.
 *
 * With CURVE the server accepts only clients whose public key is in its
 * allow-list; a client with another key or none never completes the
 * handshake, and the server logs and counts it (FB_R_AUTH). A server on a
 * non-loopback tcp:// endpoint without CURVE warns at create. Keys that
 * cannot be applied (a libzmq without CURVE, a socket option refused)
 * fail create: configured keys never leave the link unauthenticated.
 * Both are non-blocking: *_poll(timeout_ms) waits at most that long,
 * handles what arrived and due heartbeats, and returns at most one event.
 * Sending never blocks (ZMQ_DONTWAIT; a full queue drops and counts).
 * Each object owns its ZeroMQ context and socket; one thread at a time.
 */
#ifndef FB_SESSION_H
#define FB_SESSION_H

#include <stdint.h>

#include "fb_proto.h"

typedef struct {
    const char *endpoint;      /* tcp://HOST:PORT or ipc://PATH */
    uint64_t config_hash;      /* fb_config_hash() of the shared settings */
    unsigned heartbeat_ms;     /* 10..60000 */
    unsigned peer_timeout_ms;  /* > heartbeat_ms */
    uint32_t session_id;       /* server: != 0 */
    uint64_t session_seed;     /* server: labels are drawn from it */
    /* CURVE (all NULL: plain text). Server: its secret key file and the
     * directory of allowed RX public keys (*.pub), checked through ZAP.
     * Client: its own secret key file and the server's public key file. */
    const char *curve_secret_file;
    const char *curve_allow_dir;
    const char *curve_server_public_file;
    /* Fault injection for reliability tests: each message this end sends
     * is lost with probability fault_drop, or else has one random bit
     * flipped with probability fault_corrupt (counted in fb_counters). */
    double fault_drop, fault_corrupt;
    uint64_t fault_seed;
} fb_session_config;

typedef enum {
    FB_EV_NONE = 0,
    FB_EV_PEER_READY,   /* server: a peer joined; client: WELCOME received */
    FB_EV_PEER_LOST,    /* silence for peer_timeout_ms */
    FB_EV_REJECTED,     /* client: the server refused us (msg has the text) */
    FB_EV_MESSAGE,      /* a valid LOSSES / LOSSES_ACK / STATS / XFER_* in msg */
} fb_event_type;

typedef struct {
    fb_event_type type;
    const fb_msg *msg;  /* valid until the next call on the object */
} fb_event;

typedef struct fb_server fb_server_t;
typedef struct fb_client fb_client_t;

fb_server_t *fb_server_create(const fb_session_config *cfg);
void fb_server_destroy(fb_server_t **self_p);
/* Returns 1 and fills ev when something happened, 0 when nothing did,
 * < 0 on a socket error (message set). */
int fb_server_poll(fb_server_t *q, int timeout_ms, fb_event *ev);
/* Answers a loss report. Returns 0, or AL_EAGAIN if no peer / queue full. */
int fb_server_ack(fb_server_t *q, uint32_t seq, fb_reason status, uint32_t model_version);
/* Offers a file (XFER_OFFER). 0, or AL_EAGAIN if no peer / queue full. */
int fb_server_send_offer(fb_server_t *q, const fb_xfer_offer *offer);
int fb_server_has_peer(const fb_server_t *q);
/* The bound endpoint, with the port the system chose for "tcp://HOST:*". */
const char *fb_server_endpoint(const fb_server_t *q);
const fb_counters *fb_server_counters(const fb_server_t *q);

fb_client_t *fb_client_create(const fb_session_config *cfg);
void fb_client_destroy(fb_client_t **self_p);
int fb_client_poll(fb_client_t *q, int timeout_ms, fb_event *ev);
/* Sends a loss report [size: count]; AL_EAGAIN when no session or the
 * queue is full (the report is dropped and counted). */
int fb_client_send_losses(fb_client_t *q, uint32_t seq, uint32_t model_version,
                          const float *losses, uint16_t count);
int fb_client_send_stats(fb_client_t *q, const fb_stats *stats);
/* Acknowledges segments of an offered file (XFER_STATUS); AL_EAGAIN when
 * no session or the queue is full. */
int fb_client_send_xfer_status(fb_client_t *q, const fb_xfer_status *status);
int fb_client_ready(const fb_client_t *q);
uint32_t fb_client_session_id(const fb_client_t *q);
uint64_t fb_client_session_seed(const fb_client_t *q);
const fb_counters *fb_client_counters(const fb_client_t *q);
/* Reports dropped at the sender (no session or full queue). */
uint64_t fb_client_dropped(const fb_client_t *q);

#endif

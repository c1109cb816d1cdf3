/* One end of the feedback link, for the two-process tests.
 *   fb_peer tx ENDPOINT HASH SESSION SECONDS
 *       serves for SECONDS, acknowledges every loss report, prints events
 *   fb_peer rx ENDPOINT HASH REPORTS SECONDS
 *       sends REPORTS loss reports one at a time (re-sending after a lost
 *       session), exits 0 when all were acknowledged, 3 if refused, 1 on
 *       time-out
 * Events go to stdout, one line each, flushed. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "al_log.h"
#include "fb_session.h"

static int s_tx(fb_session_config *c, double seconds)
{
    fb_server_t *s = fb_server_create(c);
    if (s == NULL)
        return 2;
    printf("listening\n");
    fflush(stdout);
    const double end = al_now_s() + seconds;
    while (al_now_s() < end) {
        fb_event ev;
        if (fb_server_poll(s, 50, &ev) <= 0)
            continue;
        if (ev.type == FB_EV_PEER_READY)
            printf("peer ready\n");
        else if (ev.type == FB_EV_PEER_LOST)
            printf("peer lost\n");
        else if (ev.type == FB_EV_MESSAGE && ev.msg->type == FB_LOSSES) {
            printf("losses %u\n", ev.msg->u.losses.seq);
            fb_server_ack(s, ev.msg->u.losses.seq, FB_OK, 1);
        }
        fflush(stdout);
    }
    printf("refused %" PRIu64 "\n", fb_server_counters(s)->rejected[FB_R_CONFIG]);
    fb_server_destroy(&s);
    return 0;
}

static int s_rx(fb_session_config *c, unsigned reports, double seconds)
{
    fb_client_t *cl = fb_client_create(c);
    if (cl == NULL)
        return 2;
    printf("connecting\n");
    fflush(stdout);
    float losses[256];
    for (int i = 0; i < 256; i++)
        losses[i] = 0.5f;
    unsigned acked = 0, seq = 1;
    double sent_at = 0;
    int waiting = 0;
    const double end = al_now_s() + seconds;
    int rc = 1;
    while (al_now_s() < end && acked < reports) {
        /* One report per 50 ms; an unanswered one is sent again after
         * 200 ms (its ack may have been lost with a restarting TX). */
        if (fb_client_ready(cl) && al_now_s() - sent_at > (waiting ? 0.2 : 0.05)) {
            fb_client_send_losses(cl, seq, 1, losses, 256);
            sent_at = al_now_s();
            waiting = 1;
        }
        fb_event ev;
        if (fb_client_poll(cl, 20, &ev) <= 0)
            continue;
        if (ev.type == FB_EV_PEER_READY) {
            printf("ready session %u\n", fb_client_session_id(cl));
            sent_at = 0;
            waiting = 0;
        } else if (ev.type == FB_EV_PEER_LOST) {
            printf("session lost\n");
        } else if (ev.type == FB_EV_REJECTED) {
            printf("rejected: %s\n", ev.msg->u.reject.text);
            rc = 3;
            break;
        } else if (ev.type == FB_EV_MESSAGE && ev.msg->u.ack.seq == seq) {
            acked++;
            seq++;
            waiting = 0;
        }
        fflush(stdout);
    }
    if (acked == reports)
        rc = 0;
    printf("acked %u\n", acked);
    fb_client_destroy(&cl);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: fb_peer tx|rx ENDPOINT HASH SESSION|REPORTS SECONDS\n");
        return 2;
    }
    al_log_set_tag(argv[1]);
    fb_session_config c = {
        .endpoint = argv[2], .config_hash = strtoull(argv[3], NULL, 0),
        .heartbeat_ms = 50, .peer_timeout_ms = 300,
    };
    const unsigned n = (unsigned)strtoul(argv[4], NULL, 0);
    const double seconds = strtod(argv[5], NULL);
    if (strcmp(argv[1], "tx") == 0) {
        c.session_id = n;
        c.session_seed = 1000 + n;
        return s_tx(&c, seconds);
    }
    return s_rx(&c, n, seconds);
}

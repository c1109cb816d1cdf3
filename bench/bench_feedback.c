/* `airlearn bench feedback`: the feedback link on this machine.
 *
 * A server thread acknowledges every loss report; the client measures the
 * round trip of one LOSSES report of 256 losses until its LOSSES_ACK
 * (p50, p99, max in microseconds, one report in flight), then the
 * sustained rate with up to 64 reports in flight. Over ipc:// and
 * tcp://127.0.0.1. */
#include "bench.h"

#include "al_error.h"
#include "al_log.h"
#include "fb_session.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    fb_server_t *server;
    atomic_int stop;
} server_ctx;

static void *s_serve(void *arg)
{
    server_ctx *c = arg;
    while (!atomic_load(&c->stop)) {
        fb_event ev;
        if (fb_server_poll(c->server, 20, &ev) > 0 && ev.type == FB_EV_MESSAGE &&
            ev.msg->type == FB_LOSSES)
            fb_server_ack(c->server, ev.msg->u.losses.seq, FB_OK, 1);
    }
    return NULL;
}

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Polls until the ack of seq arrives or timeout; returns 0 on success. */
static int s_wait_ack(fb_client_t *cl, uint32_t *acked_upto, uint32_t seq, double timeout_s)
{
    const double end = al_now_s() + timeout_s;
    while (*acked_upto < seq && al_now_s() < end) {
        fb_event ev;
        if (fb_client_poll(cl, 1, &ev) > 0 && ev.type == FB_EV_MESSAGE &&
            ev.msg->type == FB_LOSSES_ACK && ev.msg->u.ack.seq > *acked_upto)
            *acked_upto = ev.msg->u.ack.seq;
    }
    return *acked_upto >= seq ? 0 : AL_ETIMEOUT;
}

static int s_bench_one(const bench_opts *opts, FILE *out, const char *transport, const char *endpoint)
{
    fb_session_config cfg = {.endpoint = endpoint, .config_hash = 42, .heartbeat_ms = 200,
                             .peer_timeout_ms = 5000, .session_id = 1, .session_seed = 2};
    server_ctx sc = {.server = fb_server_create(&cfg)};
    if (sc.server == NULL)
        return AL_ENET;
    atomic_init(&sc.stop, 0);
    cfg.endpoint = fb_server_endpoint(sc.server);
    fb_client_t *cl = fb_client_create(&cfg);
    pthread_t th;
    int rc = AL_OK;
    if (cl == NULL || pthread_create(&th, NULL, s_serve, &sc) != 0) {
        fb_client_destroy(&cl);
        fb_server_destroy(&sc.server);
        return AL_FAIL(AL_ENET, "cannot start the %s benchmark", transport);
    }
    const unsigned n = opts->quick ? 500 : 5000;
    double *lat_us = malloc(sizeof(double) * n);
    float losses[256];
    for (int i = 0; i < 256; i++)
        losses[i] = 0.1f * (float)i;
    const double ready_by = al_now_s() + 5.0;
    while (!fb_client_ready(cl) && al_now_s() < ready_by) {
        fb_event ev;
        fb_client_poll(cl, 10, &ev);
    }
    if (lat_us == NULL || !fb_client_ready(cl)) {
        rc = AL_FAIL(AL_ETIMEOUT, "no session over %s within 5 s", transport);
        goto out;
    }
    uint32_t seq = 0, acked = 0;
    for (unsigned i = 0; i < n; i++) {
        const double t0 = al_now_s();
        fb_client_send_losses(cl, ++seq, 1, losses, 256);
        if (s_wait_ack(cl, &acked, seq, 1.0) < 0) {
            rc = AL_FAIL(AL_ETIMEOUT, "report %u over %s not acknowledged within 1 s", seq, transport);
            goto out;
        }
        lat_us[i] = (al_now_s() - t0) * 1e6;
    }
    qsort(lat_us, n, sizeof(double), s_cmp_double);
    fprintf(out, "{\"bench\":\"feedback_rtt\",\"transport\":\"%s\",\"losses\":256,\"reports\":%u,"
                 "\"p50_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f}\n",
            transport, n, lat_us[n / 2], lat_us[(size_t)(0.99 * n)], lat_us[n - 1]);
    /* Sustained: keep up to 64 reports in flight for opts->seconds. */
    const uint32_t base = seq;
    const double t0 = al_now_s();
    while (al_now_s() - t0 < opts->seconds) {
        while (seq - acked < 64)
            fb_client_send_losses(cl, ++seq, 1, losses, 256);
        s_wait_ack(cl, &acked, acked + 1, 1.0);
    }
    s_wait_ack(cl, &acked, seq, 2.0);
    const double dt = al_now_s() - t0;
    fprintf(out, "{\"bench\":\"feedback_rate\",\"transport\":\"%s\",\"losses\":256,"
                 "\"in_flight\":64,\"reports_per_s\":%.0f,\"dropped\":%llu}\n",
            transport, (acked - base) / dt, (unsigned long long)fb_client_dropped(cl));
out:
    atomic_store(&sc.stop, 1);
    pthread_join(th, NULL);
    free(lat_us);
    fb_client_destroy(&cl);
    fb_server_destroy(&sc.server);
    return rc;
}

int bench_feedback(const bench_opts *opts, FILE *out)
{
    char dir[] = "/tmp/airlearn-bench.XXXXXX", ipc[128];
    if (mkdtemp(dir) == NULL)
        return AL_FAIL(AL_EIO, "cannot create a temporary directory");
    snprintf(ipc, sizeof ipc, "ipc://%s/fb", dir);
    int rc = s_bench_one(opts, out, "ipc", ipc);
    char path[128];
    snprintf(path, sizeof path, "%s/fb", dir);
    unlink(path);
    rmdir(dir);
    if (rc == AL_OK)
        rc = s_bench_one(opts, out, "tcp", "tcp://127.0.0.1:*");
    return rc;
}

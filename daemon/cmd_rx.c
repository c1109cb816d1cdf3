/* `airlearn rx`: the receiver daemon.
 *
 * Two threads. The radio thread only reads: readStream into a queue of
 * sample blocks, never waiting on anything else; when the queue is full
 * it drops the block (counted) and the frames that straddle the hole are
 * lost whole. The main thread runs the PHY receiver on the queued blocks
 * and, for every frame of the current session, regenerates its labels
 * from (session seed, seq) and obeys the header's phase:
 *   RX_TRAIN  supervised steps on the receiver network;
 *   TX_TRAIN  per-message losses with the network frozen, sent as LOSSES;
 *   EVAL      decisions, error counts sent in STATS.
 * Frames of another session (a TX restarted, the handshake not done yet)
 * are counted and dropped.
 */
#include "commands.h"

#include "al_adam.h"
#include "al_error.h"
#include "al_log.h"
#include "al_rng.h"
#include "al_sampleq.h"
#include "daemon_config.h"
#include "daemon_util.h"
#include "fb_session.h"
#include "rx_frame.h"
#include "rx_net.h"

#include <SoapySDR/Errors.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

/* 256 blocks of one MTU each: at 16384 samples (airsim) 32 MiB, some
 * seconds of samples at the rates the receiver handles. */
enum { QUEUE_BLOCKS = 256, RTT_SLOTS = 64 };

typedef struct {
    daemon_config cfg;
    al_radio_t *radio;
    al_sampleq_t *queue;
    pthread_t reader;
    int reader_started;
    atomic_int reader_stop;
    atomic_ullong overflows, radio_errors;
    fb_client_t *fb;
    rx_net_t *net;
    rx_frame_t *phy;
    unsigned M, N, P;
    uint32_t *labels, *decisions;
    float *losses, *dy;
    fb_stats stats;
    uint64_t frames_no_session, losses_sent, train_steps;
    uint64_t stream_gaps;       /* samples lost (queue full, radio overflow): receiver reset */
    double last_train_loss;
    double snr_db;              /* preamble estimate, smoothed over frames */
    uint32_t rtt_seq[RTT_SLOTS];  /* LOSSES sent, by seq % RTT_SLOTS: when */
    double rtt_sent[RTT_SLOTS];
    double rtt_ms;              /* LOSSES -> LOSSES_ACK, smoothed */
    double t_start, last_ckpt, last_status, last_stats;
    char ckpt_path[512];
} rx_t;

static void *s_reader(void *arg)
{
    rx_t *r = arg;
    uint64_t last_log = 0;
    size_t len = al_sampleq_block_len(r->queue);
    float complex *spill = malloc(len * sizeof *spill);
    while (!atomic_load(&r->reader_stop)) {
        al_sampleq_block *b = al_sampleq_write_begin(r->queue);
        float complex *dst = b ? b->samples : spill;
        int64_t t;
        int n = al_radio_read(r->radio, dst, len, &t, 100000);
        if (n > 0) {
            if (b) {
                b->count = (size_t)n;
                al_sampleq_write_end(r->queue);
            } else {
                al_sampleq_drop(r->queue, (size_t)n);
            }
        } else if (n == SOAPY_SDR_OVERFLOW) {
            atomic_fetch_add(&r->overflows, 1);
            al_sampleq_drop(r->queue, 0);   /* the receiver must resynchronise */
        } else if (n != SOAPY_SDR_TIMEOUT) {
            atomic_fetch_add(&r->radio_errors, 1);
            al_log_ratelimited(AL_LOG_WARN, &last_log, 5000,
                               "radio read: %s (device unplugged, or with driver=airsim the "
                               "transmitting side stopped); retrying", al_radio_strerror(n));
        }
    }
    free(spill);
    return NULL;
}

static void s_frame(void *user, const rx_frame_result *res)
{
    rx_t *r = user;
    const al_frame_header *h = &res->header;
    if (!fb_client_ready(r->fb) || h->session != fb_client_session_id(r->fb)) {
        r->frames_no_session++;
        return;
    }
    r->stats.frames_decoded++;
    r->snr_db = r->stats.frames_decoded == 1 ? res->snr_db : 0.95 * r->snr_db + 0.05 * res->snr_db;
    al_rng_t g;
    al_rng_seed_stream(&g, fb_client_session_seed(r->fb), h->seq);
    for (unsigned i = 0; i < r->P; i++)
        r->labels[i] = al_rng_below(&g, r->M);
    switch (h->phase) {
    case AL_PHASE_RX_TRAIN:
        if (r->cfg.lr_decay < 1.0 && r->cfg.rounds > 1) {
            /* The TX's round, as far as the RX can tell: its training frames. */
            double expected = (double)r->cfg.rounds * r->cfg.rx_frames * r->cfg.rx_steps;
            double done = (double)r->train_steps < expected ? (double)r->train_steps : expected;
            al_adam_set_lr(al_model_adam(rx_net_model(r->net)),
                           (float)(r->cfg.lr_rx * pow(r->cfg.lr_decay, done / expected)));
        }
        for (unsigned s = 0; s < r->cfg.rx_steps; s++) {
            float loss = 0;
            if (rx_net_train_step(r->net, res->symbols, r->labels, r->P, r->dy, &loss) == 0) {
                r->last_train_loss = loss;
                r->train_steps++;
            }
        }
        break;
    case AL_PHASE_TX_TRAIN:
        if (rx_net_losses(r->net, res->symbols, r->labels, r->P, r->losses, r->decisions) == 0 &&
            fb_client_send_losses(r->fb, h->seq, h->model_version, r->losses, (uint16_t)r->P) == 0) {
            r->losses_sent++;
            r->rtt_seq[h->seq % RTT_SLOTS] = h->seq;
            r->rtt_sent[h->seq % RTT_SLOTS] = al_now_s();
        }
        break;
    case AL_PHASE_EVAL:
        if (rx_net_decide(r->net, res->symbols, r->P, r->decisions) == 0) {
            for (unsigned i = 0; i < r->P; i++)
                r->stats.eval_errors += r->decisions[i] != r->labels[i];
            r->stats.eval_messages += r->P;
            r->last_stats = 0;   /* report at once: the TX is waiting */
        }
        break;
    default:
        break;
    }
}

static void s_send_stats(rx_t *r)
{
    const rx_frame_counters *pc = rx_frame_get_counters(r->phy);
    r->stats.frames_detected = pc->detected;
    r->stats.header_failures = pc->outcome[RXF_HEADER_CRC];
    /* Each gap in the stream costs at least the frame it cut; overflows
     * are gaps too (the radio thread marks them). */
    r->stats.frames_dropped = r->frames_no_session + r->stream_gaps;
    if (fb_client_ready(r->fb))
        fb_client_send_stats(r->fb, &r->stats);
    r->last_stats = al_now_s();
}

static int s_checkpoint(rx_t *r)
{
    int rc = al_model_save(rx_net_model(r->net), r->ckpt_path, NULL, 0);
    if (rc < 0)
        al_error("checkpoint: %s", al_error_message());
    r->last_ckpt = al_now_s();
    return rc;
}

static void s_status(rx_t *r, const char *phase)
{
    const rx_frame_counters *pc = rx_frame_get_counters(r->phy);
    double ser = r->stats.eval_messages ? (double)r->stats.eval_errors / r->stats.eval_messages : -1;
    char fb[256], text[1400];
    daemon_fb_json(fb_client_counters(r->fb), fb, sizeof fb);
    snprintf(text, sizeof text,
             "{\"role\":\"rx\",\"pid\":%d,\"phase\":\"%s\",\"session\":%u,\"peer\":%s,"
             "\"frames_detected\":%llu,\"frames_decoded\":%llu,\"header_failures\":%llu,"
             "\"frames_no_session\":%llu,\"samples_dropped\":%llu,\"overflows\":%llu,"
             "\"radio_errors\":%llu,\"train_steps\":%llu,\"loss\":%.5f,\"losses_sent\":%llu,"
             "\"losses_dropped_by_tx\":%llu,\"eval_messages\":%llu,\"ser\":%.6g,\"snr_db\":%.2f,"
             "\"feedback_rtt_ms\":%.3f,%s,\"heap_bytes\":%zu,\"uptime_s\":%.1f}\n",
             (int)getpid(), phase, fb_client_session_id(r->fb),
             fb_client_ready(r->fb) ? "true" : "false", (unsigned long long)pc->detected,
             (unsigned long long)r->stats.frames_decoded,
             (unsigned long long)pc->outcome[RXF_HEADER_CRC],
             (unsigned long long)r->frames_no_session,
             (unsigned long long)al_sampleq_dropped(r->queue),
             (unsigned long long)atomic_load(&r->overflows),
             (unsigned long long)atomic_load(&r->radio_errors),
             (unsigned long long)r->train_steps, r->last_train_loss,
             (unsigned long long)r->losses_sent, (unsigned long long)fb_client_dropped(r->fb),
             (unsigned long long)r->stats.eval_messages, ser, r->snr_db, r->rtt_ms, fb, mallinfo2().uordblks, al_now_s() - r->t_start);
    daemon_write_state(r->cfg.state_dir, "status.json", text);
    char line[160];
    snprintf(line, sizeof line, "%s frames %llu loss %.4f", phase,
             (unsigned long long)r->stats.frames_decoded, r->last_train_loss);
    daemon_notify_status(line);
    r->last_status = al_now_s();
}

static int s_setup(rx_t *r)
{
    const daemon_config *c = &r->cfg;
    r->M = c->M;
    r->N = c->N;
    r->P = c->messages;
    if (daemon_mkdir_p(c->state_dir) < 0)
        return AL_EIO;
    snprintf(r->ckpt_path, sizeof r->ckpt_path, "%s/rx.ckpt", c->state_dir);

    rx_net_config nc = rx_net_config_default(c->M, c->N, (rx_kind)c->receiver);
    nc.hidden = c->rx_hidden ? c->rx_hidden : c->M;
    nc.lr = (float)c->lr_rx;
    nc.max_batch = c->messages;
    r->net = rx_net_create(&nc);
    if (r->net == NULL || rx_net_init(r->net, c->seed ^ 0x5bd1e995u) < 0)
        return AL_EINVAL;
    if (access(r->ckpt_path, F_OK) == 0) {
        if (al_model_load(rx_net_model(r->net), r->ckpt_path, NULL, 0, NULL) < 0)
            return AL_FAIL(AL_EMISMATCH, "cannot resume from %s: %s (move it away to start afresh)",
                           r->ckpt_path, al_error_message());
        al_info("resumed the receiver network from %s", r->ckpt_path);
    }

    rx_frame_config pc = {{c->sps, (float)c->rolloff, c->messages, c->N},
                          c->receiver == RX_KIND_AWGN, (float)c->threshold};
    r->phy = rx_frame_create(&pc, s_frame, r);
    if (r->phy == NULL)
        return AL_EINVAL;
    r->labels = malloc(sizeof(uint32_t) * r->P);
    r->decisions = malloc(sizeof(uint32_t) * r->P);
    r->losses = malloc(sizeof(float) * r->P);
    r->dy = malloc(sizeof(float) * 2 * r->P * r->N);
    if (!r->labels || !r->decisions || !r->losses || !r->dy)
        return AL_FAIL(AL_ENOMEM, "out of memory");

    fb_session_config fc = daemon_fb_config(c, 0, 0, 0);
    r->fb = fb_client_create(&fc);
    if (r->fb == NULL)
        return AL_ENET;

    r->radio = daemon_radio_open(c, AL_RADIO_RX);
    if (r->radio == NULL)
        return AL_EDEVICE;
    r->queue = al_sampleq_create(QUEUE_BLOCKS, al_radio_mtu(r->radio));
    if (r->queue == NULL)
        return AL_FAIL(AL_ENOMEM, "out of memory for the sample queue");
    if (pthread_create(&r->reader, NULL, s_reader, r) != 0)
        return AL_FAIL(AL_ENOMEM, "cannot start the radio thread");
    r->reader_started = 1;
    char path[600];
    /* The settings in force, for the record; a run does not depend on it. */
    snprintf(path, sizeof path, "%s/rx.conf", c->state_dir);
    (void)daemon_config_write(path, c);
    return AL_OK;
}

static void s_teardown(rx_t *r)
{
    if (r->reader_started) {
        atomic_store(&r->reader_stop, 1);
        pthread_join(r->reader, NULL);
    }
    al_radio_destroy(&r->radio);
    al_sampleq_destroy(&r->queue);
    fb_client_destroy(&r->fb);
    rx_net_destroy(&r->net);
    rx_frame_destroy(&r->phy);
    free(r->labels);
    free(r->decisions);
    free(r->losses);
    free(r->dy);
}

static void s_poll_feedback(rx_t *r)
{
    fb_event ev;
    while (fb_client_poll(r->fb, 0, &ev) > 0) {
        if (ev.type == FB_EV_PEER_READY)
            al_info("joined session %u", fb_client_session_id(r->fb));
        else if (ev.type == FB_EV_PEER_LOST)
            al_warn("transmitter lost (no feedback for %u ms)", r->cfg.peer_timeout_ms);
        else if (ev.type == FB_EV_MESSAGE && ev.msg->type == FB_LOSSES_ACK) {
            uint32_t seq = ev.msg->u.ack.seq;
            if (r->rtt_seq[seq % RTT_SLOTS] == seq && r->rtt_sent[seq % RTT_SLOTS] > 0) {
                double ms = 1e3 * (al_now_s() - r->rtt_sent[seq % RTT_SLOTS]);
                r->rtt_ms = r->rtt_ms > 0 ? 0.9 * r->rtt_ms + 0.1 * ms : ms;
                r->rtt_sent[seq % RTT_SLOTS] = 0;
            }
        } else if (ev.type == FB_EV_REJECTED)
            al_error("the transmitter refused us: %s", ev.msg ? ev.msg->u.reject.text : "");
    }
}

static void s_run(rx_t *r)
{
    r->t_start = al_now_s();
    r->last_ckpt = r->t_start;
    daemon_notify_ready("receiver ready");
    s_status(r, "waiting");
    al_info("receiving on '%s' at %.3f Msps, feedback %s", r->cfg.device, r->cfg.rate / 1e6,
            r->cfg.endpoint);
    while (!daemon_stop_requested()) {
        s_poll_feedback(r);
        al_sampleq_block *b = al_sampleq_read_begin(r->queue, 20);
        if (b) {
            if (b->gap) {
                r->stream_gaps++;
                rx_frame_reset(r->phy);
            }
            rx_frame_execute(r->phy, b->samples, b->count);
            al_sampleq_read_end(r->queue);
        }
        double now = al_now_s();
        if (r->last_stats == 0 || now - r->last_stats > 1.0)
            s_send_stats(r);
        if (now - r->last_status > 1.0)
            s_status(r, fb_client_ready(r->fb) ? "running" : "waiting");
        if (now - r->last_ckpt > r->cfg.checkpoint_interval)
            s_checkpoint(r);
    }
    s_checkpoint(r);
    s_status(r, "stopped");
}

int cmd_rx(int argc, char **argv)
{
    rx_t *r = calloc(1, sizeof *r);
    if (r == NULL)
        return EX_OSERR;
    r->last_train_loss = -1;
    int help = 0;
    int status = daemon_config_load(&r->cfg, "rx", argc, argv, &help);
    if (status == 0 && !help)
        status = daemon_apply_common(&r->cfg, "rx");
    if (status != 0 || help) {
        free(r);
        return status;
    }
    daemon_signals_install();
    int rc = s_setup(r);
    if (rc < 0) {
        fprintf(stderr, "airlearn rx: %s\n", al_error_message());
        s_teardown(r);
        free(r);
        return rc == AL_EDEVICE || rc == AL_ENET ? EX_UNAVAILABLE
               : rc == AL_EIO                   ? EX_CANTCREAT
                                                : EX_CONFIG;
    }
    s_run(r);
    s_teardown(r);
    free(r);
    return 0;
}

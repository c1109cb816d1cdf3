/* `airlearn tx`: the transmitter daemon and the training scheduler.
 *
 * One thread. Each round sends rx_frames RX_TRAIN frames (the current
 * symbols, for the receiver to learn from), then tx_frames TX_TRAIN frames
 * (symbols perturbed by the Gaussian policy; the perturbations are kept
 * per frame seq in the pending table), then waits until the receiver's
 * losses for those frames are back or timed out and makes one
 * policy-gradient step from them (with max_staleness >= 1, for the
 * frames of the rounds before: this round's stay in flight while the next
 * is sent, and go into the next step). Every eval_interval rounds, EVAL frames
 * measure the SER through the receiver's error counts, of the learned
 * messages and of the same-rate QAM interleaved with them (al_evalmix). Nothing about the
 * channel is known here: the losses are all the TX learns from.
 *
 * Frames reach the radio as bursts (one per frame, END_BURST) or, on a
 * device without hardware time (HackRF: it sends only full 131072-sample
 * buffers and ignores END_BURST), as a continuous stream: frames packed
 * back to back into MTU buffers, the last one padded with zeros and
 * flushed before every wait for the receiver. The loss timeout follows
 * the measured round trip of the frames (hand-off to losses back).
 * A radio that accepts no write for stall_timeout_s is closed and
 * reopened; if it stays away for reopen_timeout_s the daemon exits 69
 * (EX_UNAVAILABLE) and systemd restarts it.
 *
 * Labels of frame seq are drawn from (session seed, seq) on both sides, so
 * they never travel. The TX owns the session: a restart starts a new one
 * (the receiver re-handshakes), and resumes the model, optimiser and
 * schedule from the checkpoint.
 */
#include "commands.h"

#include "al_bytes.h"
#include "al_adam.h"
#include "al_error.h"
#include "al_evalmix.h"
#include "al_log.h"
#include "al_rng.h"
#include "daemon_config.h"
#include "daemon_util.h"
#include "fb_pending.h"
#include "fb_session.h"
#include "phase_clock.h"
#include "plot.h"
#include "sweep.h"
#include "tx_frame.h"
#include "tx_net.h"
#include "xfer_send.h"

#include <SoapySDR/Errors.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

enum { CKPT_EXTRA_VERSION = 1, CKPT_EXTRA_BYTES = 48 };
/* Frame round trips remembered by seq % RTT_SLOTS; the timeout follows
 * the longest of the last RTT_WINDOW. */
enum { RTT_SLOTS = 256, RTT_WINDOW = 64 };
/* One frame's write may wait this long for the radio (back-pressure). */
#define WRITE_TIMEOUT_US 2000000L

/* Where the loop's time goes (status.json "phase_s"): building frames
 * (labels, encoder, pulse shaping), handing them to the radio, waiting
 * for the losses of a round, the policy-gradient step, waiting for the
 * receiver's evaluation counts, and the rest (feedback, status,
 * checkpoints, no receiver). */
enum { TXP_OTHER, TXP_BUILD, TXP_RADIO, TXP_WAIT_LOSSES, TXP_STEP, TXP_WAIT_EVAL, TXP_COUNT };
static const char *const s_phase_names[TXP_COUNT] = {"other",       "build",   "radio",
                                                     "wait_losses", "pg_step", "wait_eval"};

typedef struct {
    daemon_config cfg;
    al_radio_t *radio;
    fb_server_t *fb;
    fb_pending_t *pending;
    tx_net_t *net;
    tx_frame_t *frame;
    al_evalmix_t *eval;
    unsigned M, N, P;
    size_t frame_len, burst_len;
    uint32_t session_id;
    uint64_t session_seed;
    al_rng_t perturb_rng;
    /* buffers, sized at start */
    float complex *samples;     /* [burst_len] */
    float *payload;             /* [2PN] */
    uint32_t *msgs;             /* [P] */
    float *w_store;             /* [capacity * 2PN] perturbations by pending slot */
    uint32_t *slot_seq;         /* [capacity] */
    uint32_t *b_msgs;           /* policy-gradient batch [tx_frames * P] */
    float *b_w, *b_loss;
    unsigned b_count, b_cap;
    /* schedule */
    uint32_t seq;
    uint64_t round, updates;
    int training_done;
    double train_seconds;       /* accumulated over restarts */
    double t_start;
    /* receiver's reports */
    fb_stats stats;
    int have_stats;
    fb_stats eval_delta;        /* what the receiver counted over the last s_evaluate */
    sweep_t *sweep;             /* SER against measured SNR, after training */
    int swept;
    double last_loss, last_ser, last_ser_baseline;
    uint64_t final_msgs, final_errs, final_bmsgs, final_berrs;
    /* counters */
    uint64_t frames_sent, radio_errors, losses_accepted, losses_dropped;
    al_radio_tx_events radio_events;   /* underflows, late bursts, ... */
    uint64_t last_radio_log;
    int continuous;             /* frames go out as one continuous stream */
    uint64_t full_scale;        /* samples with I or Q at or beyond full scale */
    /* frame round trip: TX_TRAIN hand-off to its losses back */
    uint32_t rtt_seq[RTT_SLOTS];
    uint64_t rtt_sent[RTT_SLOTS];
    double rtt_win[RTT_WINDOW];
    unsigned rtt_count;
    double rtt_ms, rtt_max_ms;
    unsigned loss_timeout_ms;   /* in force: max(floor, 2 x rtt_max_ms) */
    /* radio stalls: writes refused since fail_since (0: they are not);
     * the radio away since outage_start (0: it is not) */
    uint64_t fail_since, outage_start;
    uint64_t radio_stalls, radio_reopens;
    double radio_outage_s;
    FILE *training_csv;
    xfer_tx_t *xfer;            /* the file being sent (--send), else NULL */
    double last_ckpt, last_status;
    char ckpt_path[512];
    phase_clock clock;
} tx_t;

static void s_labels(uint64_t seed, uint32_t seq, uint32_t *msgs, unsigned P, unsigned M)
{
    al_rng_t r;
    al_rng_seed_stream(&r, seed, seq);
    for (unsigned i = 0; i < P; i++)
        msgs[i] = al_rng_below(&r, M);
}

/* A frame's round trip, also from losses that came too late to be used:
 * they are what the timeout must learn from. */
static void s_note_rtt(tx_t *t, uint32_t seq)
{
    unsigned k = seq % RTT_SLOTS;
    if (t->rtt_seq[k] != seq || t->rtt_sent[k] == 0)
        return;
    double ms = (double)(al_now_ms() - t->rtt_sent[k]);
    t->rtt_sent[k] = 0;
    t->rtt_ms = t->rtt_count ? 0.9 * t->rtt_ms + 0.1 * ms : ms;
    t->rtt_win[t->rtt_count++ % RTT_WINDOW] = ms;
    unsigned n = t->rtt_count < RTT_WINDOW ? t->rtt_count : RTT_WINDOW;
    double max = 0;
    for (unsigned i = 0; i < n; i++)
        max = t->rtt_win[i] > max ? t->rtt_win[i] : max;
    t->rtt_max_ms = max;
    /* Twice the longest recent round trip: room for jitter without
     * waiting long for a frame the channel really lost. */
    double want = 2.0 * max;
    unsigned timeout =
        want > t->cfg.loss_timeout_ms ? (unsigned)ceil(want) : t->cfg.loss_timeout_ms;
    if (timeout != t->loss_timeout_ms) {
        if (timeout > t->loss_timeout_ms * 1.2 || timeout < t->loss_timeout_ms / 1.2)
            al_info("frame round trip %.0f ms (longest of the last %u: %.0f ms): loss timeout "
                    "%u ms", ms, n, max, timeout);
        t->loss_timeout_ms = timeout;
        fb_pending_set_timeout(t->pending, timeout);
    }
}

static void s_handle_losses(tx_t *t, const fb_losses *l)
{
    s_note_rtt(t, l->seq);
    unsigned slot = 0;
    fb_reason why = fb_pending_match(t->pending, l, tx_net_version(t->net), al_now_ms(), &slot);
    fb_server_ack(t->fb, l->seq, why, tx_net_version(t->net));
    if (why != FB_OK || t->b_count + t->P > t->b_cap) {
        t->losses_dropped++;
        al_debug("losses of frame %u dropped: %s", l->seq, fb_reason_text(why));
        return;
    }
    s_labels(t->session_seed, t->slot_seq[slot], t->b_msgs + t->b_count, t->P, t->M);
    memcpy(t->b_w + (size_t)t->b_count * 2 * t->N, t->w_store + (size_t)slot * 2 * t->P * t->N,
           sizeof(float) * 2 * t->P * t->N);
    memcpy(t->b_loss + t->b_count, l->values, sizeof(float) * t->P);
    t->b_count += t->P;
    t->losses_accepted++;
}

/* Handles feedback events for up to timeout_ms (0: only what is there). */
static void s_poll_feedback(tx_t *t, int timeout_ms)
{
    for (int first = 1;; first = 0) {
        fb_event ev;
        int rc = fb_server_poll(t->fb, first ? timeout_ms : 0, &ev);
        if (rc <= 0)
            return;
        if (ev.type == FB_EV_PEER_READY) {
            al_info("receiver joined session %u", t->session_id);
        } else if (ev.type == FB_EV_PEER_LOST) {
            al_warn("receiver lost (no feedback for %u ms)", t->cfg.peer_timeout_ms);
            t->fail_since = 0;   /* nothing is sent without a receiver */
        } else if (ev.type == FB_EV_MESSAGE && ev.msg->type == FB_LOSSES) {
            s_handle_losses(t, &ev.msg->u.losses);
        } else if (ev.type == FB_EV_MESSAGE && ev.msg->type == FB_STATS) {
            t->stats = ev.msg->u.stats;
            t->have_stats = 1;
        } else if (ev.type == FB_EV_MESSAGE && ev.msg->type == FB_XFER_STATUS && t->xfer) {
            xfer_tx_on_status(t->xfer, &ev.msg->u.xstatus, al_now_ms());
        }
    }
}

/* n: samples the driver took (0: only staged), or an error, counted;
 * notes since when writes fail. -1 if n is an error. */
static int s_radio_result(tx_t *t, int n)
{
    if (n == 0)
        return 0;
    if (n > 0) {
        if (t->outage_start) {
            double s = (double)(al_now_ms() - t->outage_start) / 1e3;
            t->radio_outage_s += s;
            al_info("radio: writes accepted again after %.1f s", s);
        }
        t->fail_since = t->outage_start = 0;
        return 0;
    }
    t->radio_errors++;
    if (t->fail_since == 0) {
        /* Writes stopped being accepted when this one began, or at the
         * last accepted one if that was later. */
        uint64_t began = al_now_ms() - WRITE_TIMEOUT_US / 1000;
        uint64_t last = al_radio_last_progress_ms(t->radio);
        t->fail_since = last > began ? last : began;
    }
    al_log_ratelimited(AL_LOG_WARN, &t->last_radio_log, 5000, "radio write: %s (%s)",
                       al_radio_strerror(n), al_error_message());
    return -1;
}

/* Continuous stream: the frames staged so far go to the air now, before
 * the scheduler waits for what they bring back. */
static void s_flush(tx_t *t)
{
    if (t->continuous)
        s_radio_result(t, al_radio_stream_flush(t->radio, WRITE_TIMEOUT_US));
}

static int s_stalled(const tx_t *t)
{
    return t->fail_since && t->cfg.stall_timeout_s > 0 &&
           (double)(al_now_ms() - t->fail_since) >= 1e3 * t->cfg.stall_timeout_s;
}

static int s_send_frame(tx_t *t, al_phase phase)
{
    if (s_stalled(t))
        return AL_OK;   /* the radio is about to be reopened */
    phase_clock_enter(&t->clock, TXP_BUILD);
    if (phase != AL_PHASE_DATA)   /* DATA: the caller filled t->msgs */
        s_labels(t->session_seed, t->seq, t->msgs, t->P, t->M);
    int rc;
    if (phase == AL_PHASE_TX_TRAIN) {
        uint64_t now = al_now_ms();
        unsigned slot = fb_pending_add(t->pending, t->seq, tx_net_version(t->net), (uint16_t)t->P,
                                       now);
        t->slot_seq[slot] = t->seq;
        t->rtt_seq[t->seq % RTT_SLOTS] = t->seq;
        t->rtt_sent[t->seq % RTT_SLOTS] = now;
        rc = tx_net_perturb(t->net, t->msgs, t->P, &t->perturb_rng, t->payload,
                            t->w_store + (size_t)slot * 2 * t->P * t->N);
    } else if (phase == AL_PHASE_EVAL) {
        rc = tx_net_encode(t->net, al_evalmix_learned_labels(t->eval, t->msgs),
                           al_evalmix_learned_count(t->eval), t->payload);
        al_evalmix_compose(t->eval, t->msgs, t->payload);
    } else {
        rc = tx_net_encode(t->net, t->msgs, t->P, t->payload);
    }
    if (rc < 0)
        return rc;
    al_frame_header h = {AL_FRAME_VERSION, t->session_id, t->seq, (uint8_t)phase,
                         tx_net_version(t->net), (uint16_t)t->P};
    rc = tx_frame_execute(t->frame, &h, t->payload, t->samples);
    if (rc < 0)
        return rc;
    t->seq++;
    /* SoapyHackRF converts with an unclipped (int8_t)(x * 127): beyond
     * full scale a sample wraps to the other side (HackRF_Streaming.cpp
     * writebuf). Count them: level_dbfs must leave room for the peaks. */
    for (size_t i = 0; i < t->frame_len; i++)
        t->full_scale +=
            fabsf(crealf(t->samples[i])) >= 1.0f || fabsf(cimagf(t->samples[i])) >= 1.0f;
    phase_clock_enter(&t->clock, TXP_RADIO);
    int n = t->continuous
                ? al_radio_stream_append(t->radio, t->samples, t->burst_len, WRITE_TIMEOUT_US)
                : al_radio_write_burst(t->radio, t->samples, t->burst_len, 0, 0, WRITE_TIMEOUT_US);
    if (s_radio_result(t, n) < 0)
        return AL_OK;   /* a radio hiccup costs a frame, not the run */
    t->frames_sent++;
    unsigned long long before = t->radio_events.underflows;
    al_radio_tx_events_poll(t->radio, &t->radio_events);
    if (t->radio_events.underflows != before)
        al_log_ratelimited(AL_LOG_WARN, &t->last_radio_log, 5000, "radio underflow (%llu so far)",
                           t->radio_events.underflows);
    return AL_OK;
}

static int s_update(tx_t *t)
{
    if (t->b_count == 0)
        return AL_OK;
    phase_clock_enter(&t->clock, TXP_STEP);
    double sum = 0;
    for (unsigned i = 0; i < t->b_count; i++)
        sum += t->b_loss[i];
    int rc = tx_net_pg_step(t->net, t->b_msgs, t->b_w, t->b_loss, t->b_count);
    if (rc < 0)
        return rc;
    t->last_loss = sum / t->b_count;
    t->updates++;
    t->b_count = 0;
    return AL_OK;
}

/* Sends EVAL frames for `frames` x P learned messages (more frames than
 * that when the baseline takes its share of the slots, so that an
 * evaluation measures as many learned messages as before it) and waits
 * for the receiver's counts: learned messages and errors, and the
 * baseline's (*bmsgs, *berrs) from the same frames. */
static void s_evaluate(tx_t *t, unsigned frames, uint64_t *msgs, uint64_t *errs, uint64_t *bmsgs,
                       uint64_t *berrs)
{
    const unsigned learned = al_evalmix_learned_count(t->eval);
    frames = (unsigned)(((uint64_t)frames * t->P + learned - 1) / learned);
    s_poll_feedback(t, 0);
    fb_stats base = t->stats;
    for (unsigned i = 0; i < frames && !daemon_stop_requested(); i++) {
        s_send_frame(t, AL_PHASE_EVAL);
        s_poll_feedback(t, 0);
    }
    s_flush(t);
    phase_clock_enter(&t->clock, TXP_WAIT_EVAL);
    uint64_t want = (uint64_t)frames * learned, deadline = al_now_ms() + t->loss_timeout_ms;
    for (;;) {
        if (t->stats.eval_messages < base.eval_messages)   /* receiver restarted */
            memset(&base, 0, sizeof base);
        if (t->stats.eval_messages - base.eval_messages >= want || al_now_ms() > deadline ||
            daemon_stop_requested())
            break;
        s_poll_feedback(t, 5);
    }
    *msgs = t->stats.eval_messages - base.eval_messages;
    *errs = t->stats.eval_errors - base.eval_errors;
    *bmsgs = t->stats.baseline_messages - base.baseline_messages;
    *berrs = t->stats.baseline_errors - base.baseline_errors;
    t->eval_delta = (fb_stats){.eval_messages = *msgs, .eval_errors = *errs,
                               .baseline_messages = *bmsgs, .baseline_errors = *berrs,
                               .eval_frames = t->stats.eval_frames - base.eval_frames,
                               .eval_signal = t->stats.eval_signal - base.eval_signal,
                               .eval_noise = t->stats.eval_noise - base.eval_noise};
    phase_clock_enter(&t->clock, TXP_OTHER);
}

static void s_extra_pack(const tx_t *t, uint8_t *b)
{
    memset(b, 0, CKPT_EXTRA_BYTES);
    al_put_le32(b, CKPT_EXTRA_VERSION);
    al_put_le32(b + 4, t->seq);
    al_put_le64(b + 8, t->round);
    al_put_le64(b + 16, t->updates);
    double secs = t->train_seconds + (t->training_done ? 0 : al_now_s() - t->t_start);
    uint64_t bits;
    memcpy(&bits, &secs, 8);
    al_put_le64(b + 24, bits);
    b[32] = (uint8_t)t->training_done;
    al_put_le32(b + 36, tx_net_version(t->net));
}

static int s_checkpoint(tx_t *t)
{
    uint8_t extra[CKPT_EXTRA_BYTES];
    s_extra_pack(t, extra);
    int rc = al_model_save(tx_net_model(t->net), t->ckpt_path, extra, sizeof extra);
    if (rc < 0) {
        al_error("checkpoint: %s", al_error_message());
        return rc;
    }
    /* The learned constellation, for people and plots. */
    char path[600];
    snprintf(path, sizeof path, "%s/constellation.csv", t->cfg.state_dir);
    const float *table = tx_net_table(t->net);
    if (plot_constellation_csv(path, NULL, &table, 1, t->M, t->N) < 0)
        al_warn("checkpoint: %s", al_error_message());
    snprintf(path, sizeof path, "%s/constellation.svg", t->cfg.state_dir);
    plot_constellation(path, "learned constellation (airlearn tx)", tx_net_table(t->net), t->M,
                       t->N);
    t->last_ckpt = al_now_s();
    return AL_OK;
}

static int s_resume(tx_t *t)
{
    if (access(t->ckpt_path, F_OK) != 0)
        return AL_OK;
    uint8_t extra[CKPT_EXTRA_BYTES];
    uint32_t len = 0;
    if (al_model_load(tx_net_model(t->net), t->ckpt_path, extra, sizeof extra, &len) < 0)
        return AL_FAIL(AL_EMISMATCH, "cannot resume from %s: %s (move it away to start afresh)",
                       t->ckpt_path, al_error_message());
    if (len != CKPT_EXTRA_BYTES || al_get_le32(extra) != CKPT_EXTRA_VERSION)
        return AL_FAIL(AL_EFORMAT, "checkpoint %s has no TX schedule state", t->ckpt_path);
    t->seq = al_get_le32(extra + 4);
    t->round = al_get_le64(extra + 8);
    t->updates = al_get_le64(extra + 16);
    uint64_t bits = al_get_le64(extra + 24);
    memcpy(&t->train_seconds, &bits, 8);
    t->training_done = extra[32];
    tx_net_set_version(t->net, al_get_le32(extra + 36));
    int rc = tx_net_rebuild(t->net);
    if (rc < 0)
        return rc;
    al_info("resumed from %s: round %llu, model version %u%s", t->ckpt_path,
            (unsigned long long)t->round, tx_net_version(t->net),
            t->training_done ? ", training done" : "");
    return AL_OK;
}

static void s_status(tx_t *t, const char *phase)
{
    state_json_t *j = state_json_create();
    if (j == NULL) {
        al_warn("status: %s", al_error_message());
        return;
    }
    double outage =
        t->radio_outage_s + (t->outage_start ? (al_now_ms() - t->outage_start) / 1e3 : 0);
    state_json_str(j, "role", "tx");
    state_json_int(j, "pid", getpid());
    state_json_str(j, "phase", phase);
    state_json_uint(j, "round", t->round);
    state_json_uint(j, "model_version", tx_net_version(t->net));
    state_json_uint(j, "session", t->session_id);
    state_json_bool(j, "peer", fb_server_has_peer(t->fb));
    state_json_uint(j, "frames_sent", t->frames_sent);
    state_json_uint(j, "radio_errors", t->radio_errors);
    state_json_uint(j, "underflows", t->radio_events.underflows);
    state_json_uint(j, "late_bursts", t->radio_events.time_errors);
    state_json_str(j, "tx_stream", t->continuous ? "continuous" : "burst");
    state_json_fixed(j, "frame_rtt_ms", 1, t->rtt_ms);
    state_json_fixed(j, "frame_rtt_max_ms", 1, t->rtt_max_ms);
    state_json_uint(j, "loss_timeout_ms", t->loss_timeout_ms);
    state_json_uint(j, "radio_stalls", t->radio_stalls);
    state_json_uint(j, "radio_reopens", t->radio_reopens);
    state_json_fixed(j, "radio_outage_s", 1, outage);
    state_json_uint(j, "tx_full_scale_samples", t->full_scale);
    state_json_uint(j, "losses_accepted", t->losses_accepted);
    state_json_uint(j, "losses_dropped", t->losses_dropped);
    /* Before the first update and evaluation there is no figure: NaN,
     * written as null. */
    state_json_fixed(j, "loss", 5, t->last_loss);
    state_json_sig(j, "ser", 6, t->last_ser);
    state_json_sig(j, "ser_baseline", 6, t->last_ser_baseline);
    state_json_uint(j, "rx_frames_detected", t->stats.frames_detected);
    state_json_uint(j, "rx_frames_decoded", t->stats.frames_decoded);
    state_json_uint(j, "rx_frames_dropped", t->stats.frames_dropped);
    daemon_fb_status(j, fb_server_counters(t->fb));
    phase_clock_add_json(&t->clock, j, "phase_s");
    state_json_uint(j, "heap_bytes", mallinfo2().uordblks);
    state_json_fixed(j, "uptime_s", 1, al_now_s() - t->t_start);
    if (state_json_write(j, t->cfg.state_dir, "status.json") < 0)
        al_warn("status: %s", al_error_message());
    state_json_destroy(&j);
    char line[200];
    snprintf(line, sizeof line, "%s round %llu v%u loss %.4f ser %.4g", phase,
             (unsigned long long)t->round, tx_net_version(t->net), t->last_loss, t->last_ser);
    daemon_notify_status(line, t->fail_since == 0);
    t->last_status = al_now_s();
}

static int s_setup(tx_t *t)
{
    const daemon_config *c = &t->cfg;
    t->M = c->M;
    t->N = c->N;
    t->P = c->messages;
    if (daemon_mkdir_p(c->state_dir) < 0)
        return AL_EIO;
    if (c->send[0] && access(c->send, R_OK) != 0)   /* not only after the training */
        return AL_FAIL(AL_EINVAL, "[xfer] send: cannot read %s", c->send);
    snprintf(t->ckpt_path, sizeof t->ckpt_path, "%s/tx.ckpt", c->state_dir);

    tx_net_config nc = tx_net_config_default(c->M, c->N);
    nc.hidden = c->tx_hidden ? c->tx_hidden : c->M;
    nc.sigma2 = (float)c->sigma2;
    nc.baseline = (tx_baseline)c->baseline;
    nc.lr = (float)c->lr_tx;
    /* In flight (max_staleness >= 1), a step may also find some of the
     * next round's losses back. */
    const unsigned rounds_per_batch = c->max_staleness > 0 ? 2 : 1;
    nc.max_batch = rounds_per_batch * c->tx_frames * c->messages;
    t->net = tx_net_create(&nc);
    if (t->net == NULL || tx_net_init(t->net, c->seed) < 0)
        return AL_EINVAL;
    int rc = s_resume(t);
    if (rc < 0)
        return rc;

    tx_frame_config fc = {{c->sps, (float)c->rolloff, c->messages, c->N}, (float)c->level_dbfs};
    t->frame = tx_frame_create(&fc);
    if (t->frame == NULL)
        return AL_EINVAL;
    if (tx_frame_set_if_offset(t->frame, (float)(c->if_offset / c->rate)) < 0)
        return daemon_fail_if_offset(c);
    t->frame_len = tx_frame_length(t->frame);
    if ((t->eval = al_evalmix_create(c->M, c->N, c->messages)) == NULL)
        return AL_EINVAL;
    const al_qam_t *qam = al_evalmix_baseline(t->eval);
    if (qam != NULL)
        al_info("EVAL frames: %u learned and %u baseline messages (%u x %s) each",
                al_evalmix_learned_count(t->eval), al_evalmix_baseline_count(t->eval), t->N,
                al_qam_name(qam));
    else
        al_info("EVAL frames: no baseline (no QAM carries log2(M)/N = %g bits per symbol)",
                log2((double)c->M) / c->N);
    t->burst_len = t->frame_len + c->guard;

    unsigned cap = 4 * c->tx_frames + 16;
    t->pending = fb_pending_create(cap, c->max_staleness, c->loss_timeout_ms);
    t->samples = calloc(t->burst_len, sizeof *t->samples);
    t->payload = malloc(sizeof(float) * 2 * t->P * t->N);
    t->msgs = malloc(sizeof(uint32_t) * t->P);
    t->w_store = malloc(sizeof(float) * 2 * t->P * t->N * cap);
    t->slot_seq = calloc(cap, sizeof(uint32_t));
    t->b_cap = rounds_per_batch * c->tx_frames * t->P;
    t->b_msgs = malloc(sizeof(uint32_t) * t->b_cap);
    t->b_w = malloc(sizeof(float) * 2 * t->N * t->b_cap);
    t->b_loss = malloc(sizeof(float) * t->b_cap);
    if (!t->pending || !t->samples || !t->payload || !t->msgs || !t->w_store || !t->slot_seq ||
        !t->b_msgs || !t->b_w || !t->b_loss)
        return AL_FAIL(AL_ENOMEM, "out of memory");

    /* A fresh session each start: the receiver must learn the new seed. */
    al_rng_t r;
    al_rng_seed(&r, (uint64_t)getpid() * 0x9e3779b97f4a7c15ull ^ (uint64_t)(al_now_s() * 1e6));
    t->session_id = al_rng_u32(&r) | 1u;
    t->session_seed = al_rng_u64(&r);
    al_rng_seed_stream(&t->perturb_rng, c->seed ^ t->session_seed, 7);

    fb_session_config fc2 = daemon_fb_config(c, 1, t->session_id, t->session_seed);
    t->fb = fb_server_create(&fc2);
    if (t->fb == NULL)
        return AL_ENET;

    t->radio = daemon_radio_open(c, AL_RADIO_TX);
    if (t->radio == NULL)
        return AL_EDEVICE;
    t->loss_timeout_ms = c->loss_timeout_ms;
    t->continuous = c->tx_stream == TX_STREAM_CONTINUOUS ||
                    (c->tx_stream == TX_STREAM_AUTO && !al_radio_has_time(t->radio));
    if (t->continuous) {
        size_t mtu = al_radio_mtu(t->radio), nbuf = al_radio_driver_buffers(t->radio);
        al_info("streaming continuously in %zu-sample buffers of %.1f ms, %zu of them queued in "
                "the driver at most (0: it does not say)",
                mtu, 1e3 * (double)mtu / c->rate, nbuf);
    }

    char path[600];
    snprintf(path, sizeof path, "%s/training.csv", c->state_dir);
    int fresh = access(path, F_OK) != 0;
    t->training_csv = fopen(path, "a");
    if (t->training_csv == NULL)
        return AL_FAIL(AL_EIO, "cannot write %s", path);
    if (fresh)
        fprintf(t->training_csv,
                "round,model_version,loss,ser,eval_messages,wall_s,ser_baseline,baseline_messages\n");
    /* The settings in force, for the record; a run does not depend on it. */
    snprintf(path, sizeof path, "%s/tx.conf", c->state_dir);
    (void)daemon_config_write(path, c);
    return AL_OK;
}

static void s_teardown(tx_t *t)
{
    al_radio_destroy(&t->radio);
    fb_server_destroy(&t->fb);
    fb_pending_destroy(&t->pending);
    tx_net_destroy(&t->net);
    tx_frame_destroy(&t->frame);
    sweep_destroy(&t->sweep);
    al_evalmix_destroy(&t->eval);
    free(t->samples);
    free(t->payload);
    free(t->msgs);
    free(t->w_store);
    free(t->slot_seq);
    free(t->b_msgs);
    free(t->b_w);
    free(t->b_loss);
    if (t->training_csv)
        fclose(t->training_csv);
}

static void s_record(tx_t *t, double ser, uint64_t eval_msgs, double ser_baseline,
                     uint64_t baseline_msgs)
{
    fprintf(t->training_csv, "%llu,%u,%.6f,%.6g,%llu,%.3f,%.6g,%llu\n", (unsigned long long)t->round,
            tx_net_version(t->net), t->last_loss, ser, (unsigned long long)eval_msgs,
            t->train_seconds + (t->training_done ? 0 : al_now_s() - t->t_start), ser_baseline,
            (unsigned long long)baseline_msgs);
    fflush(t->training_csv);
}

static int s_training_round(tx_t *t)
{
    const daemon_config *c = &t->cfg;
    if (c->lr_decay < 1.0 && c->rounds > 1) {
        double f = pow(c->lr_decay, (double)(t->round < c->rounds ? t->round : c->rounds) / c->rounds);
        al_adam_set_lr(al_model_adam(tx_net_model(t->net)), (float)(c->lr_tx * f));
    }
    for (unsigned i = 0; i < c->rx_frames && !daemon_stop_requested(); i++) {
        int rc = s_send_frame(t, AL_PHASE_RX_TRAIN);
        if (rc < 0)
            return rc;
        s_poll_feedback(t, 0);
    }
    for (unsigned i = 0; i < c->tx_frames && !daemon_stop_requested(); i++) {
        int rc = s_send_frame(t, AL_PHASE_TX_TRAIN);
        if (rc < 0)
            return rc;
        s_poll_feedback(t, 0);
    }
    s_flush(t);
    /* Wait for the losses of this round (or their timeout). With
     * max_staleness >= 1 only for those of the rounds before: this round's
     * frames stay in flight while the next round is built and sent, so
     * that the receiver computes while the transmitter does, and their
     * losses, one model version old, go into the next step. */
    const unsigned in_flight = c->max_staleness > 0 ? c->tx_frames : 0;
    phase_clock_enter(&t->clock, TXP_WAIT_LOSSES);
    while (fb_pending_open_count(t->pending) > in_flight && !daemon_stop_requested()) {
        s_poll_feedback(t, 5);
        fb_pending_expire(t->pending, al_now_ms());
    }
    int rc = s_update(t);
    phase_clock_enter(&t->clock, TXP_OTHER);
    if (rc < 0)
        return rc;
    t->round++;
    double ser = NAN, ser_baseline = NAN;
    uint64_t msgs = 0, errs = 0, bmsgs = 0, berrs = 0;
    if (t->round % c->eval_interval == 0) {
        s_evaluate(t, c->eval_frames, &msgs, &errs, &bmsgs, &berrs);
        if (msgs > 0)
            t->last_ser = ser = (double)errs / (double)msgs;
        if (bmsgs > 0)
            t->last_ser_baseline = ser_baseline = (double)berrs / (double)bmsgs;
        al_info("round %llu: loss %.4f, SER %.4g over %llu messages (baseline %.4g over %llu)",
                (unsigned long long)t->round, t->last_loss, ser, (unsigned long long)msgs,
                ser_baseline, (unsigned long long)bmsgs);
    }
    s_record(t, ser, msgs, ser_baseline, bmsgs);
    double elapsed = t->train_seconds + al_now_s() - t->t_start;
    if ((c->rounds > 0 && t->round >= c->rounds) ||
        (c->max_seconds > 0 && elapsed >= c->max_seconds) ||
        (c->target_ser > 0 && msgs > 0 && ser <= c->target_ser)) {
        t->training_done = 1;
        t->train_seconds = elapsed;
        al_info("training done after %llu rounds, %.1f s", (unsigned long long)t->round, elapsed);
        s_checkpoint(t);
    }
    return AL_OK;
}

/* After training, with [training] sweep: one batch of EVAL frames at the
 * sweep's current level (sweep.h); at its end, ser-ota.csv and .svg in
 * the state directory and the configured level back. */
static int s_sweep_round(tx_t *t)
{
    const daemon_config *c = &t->cfg;
    if (t->sweep == NULL) {
        sweep_config sc = {c->sweep_from_dbfs, c->sweep_to_dbfs, c->sweep_step_db,
                           c->sweep_max_messages, c->sweep_min_errors};
        t->sweep = sweep_create(&sc);
        if (t->sweep == NULL)
            return AL_EINVAL;
        al_info("sweep: level %g to %g dBFS in steps of %g dB", sc.from_dbfs, sc.to_dbfs,
                sc.step_db);
    }
    int rc = tx_frame_set_level(t->frame, (float)sweep_level(t->sweep));
    if (rc < 0)
        return rc;
    uint64_t msgs, errs, bmsgs, berrs;
    s_evaluate(t, c->eval_frames, &msgs, &errs, &bmsgs, &berrs);
    unsigned n;
    const sweep_point *p;
    if (sweep_add(t->sweep, &t->eval_delta)) {
        p = sweep_points(t->sweep, &n);
        const sweep_point *e = &p[n - 1];
        al_info("sweep: level %.1f dBFS: Es/N0 %.2f dB at the receiver, SER %.4g (%llu errors "
                "in %llu messages)", e->level_dbfs, e->snr_db,
                e->messages ? (double)e->errors / (double)e->messages : NAN,
                (unsigned long long)e->errors, (unsigned long long)e->messages);
        if (sweep_write_csv(c->state_dir, p, n) < 0)
            al_warn("sweep: %s", al_error_message());
    }
    if (!sweep_done(t->sweep))
        return AL_OK;
    p = sweep_points(t->sweep, &n);
    char title[128];
    snprintf(title, sizeof title, "airlearn tx: SER against Es/N0 at the receiver, M=%u N=%u",
             t->M, t->N);
    sweep_gap gap;   /* the baseline's to its closed form; in the log */
    rc = sweep_report(c->state_dir, title, p, n, t->net, NULL, 0, c->sweep_min_errors, 0, &gap);
    if (rc < 0)
        al_warn("sweep: %s", al_error_message());
    else if (gap.baseline_compared > 0)
        al_info("sweep: the baseline over the air %.2f dB from its closed form at equal SER "
                "(mean over %u levels; at most %.2f dB)", gap.baseline_mean_gap_db,
                gap.baseline_compared, gap.baseline_max_gap_db);
    sweep_destroy(&t->sweep);
    t->swept = 1;
    return tx_frame_set_level(t->frame, (float)c->level_dbfs);
}

/* After training: evaluate on and on; the first final_eval_messages make
 * the summary. Returns 1 when the daemon should exit. */
static int s_eval_round(tx_t *t)
{
    const daemon_config *c = &t->cfg;
    uint64_t msgs = 0, errs = 0, bmsgs = 0, berrs = 0;
    s_evaluate(t, c->eval_frames, &msgs, &errs, &bmsgs, &berrs);
    if (msgs > 0)
        t->last_ser = (double)errs / (double)msgs;
    if (bmsgs > 0)
        t->last_ser_baseline = (double)berrs / (double)bmsgs;
    int was_short = t->final_msgs < c->final_eval_messages;
    t->final_msgs += msgs;
    t->final_errs += errs;
    t->final_bmsgs += bmsgs;
    t->final_berrs += berrs;
    if (was_short && t->final_msgs >= c->final_eval_messages) {
        double ser = t->final_msgs ? (double)t->final_errs / (double)t->final_msgs : NAN;
        /* The baseline from the same frames; null when there is none. */
        const al_qam_t *qam = al_evalmix_baseline(t->eval);
        const int has_baseline = qam != NULL && t->final_bmsgs > 0;
        char baseline[64];
        snprintf(baseline, sizeof baseline, "%ux%s", t->N, qam ? al_qam_name(qam) : "");
        state_json_t *j = state_json_create();
        if (j != NULL) {
            state_json_sig(j, "ser", 6, ser);
            state_json_uint(j, "messages", t->final_msgs);
            state_json_uint(j, "errors", t->final_errs);
            state_json_str(j, "baseline", has_baseline ? baseline : NULL);
            state_json_sig(j, "ser_baseline", 6,
                           has_baseline ? (double)t->final_berrs / (double)t->final_bmsgs : NAN);
            if (has_baseline) {
                state_json_uint(j, "baseline_messages", t->final_bmsgs);
                state_json_uint(j, "baseline_errors", t->final_berrs);
            }
            state_json_uint(j, "rounds", t->round);
            state_json_uint(j, "model_version", tx_net_version(t->net));
            state_json_fixed(j, "train_s", 2, t->train_seconds);
        }
        if (j == NULL || state_json_write(j, c->state_dir, "summary.json") < 0)
            al_warn("summary: %s", al_error_message());
        state_json_destroy(&j);
        al_info("final SER %.4g over %llu messages; baseline %s SER %.4g over %llu from the same "
                "frames", ser, (unsigned long long)t->final_msgs, qam ? al_qam_name(qam) : "none",
                t->final_bmsgs ? (double)t->final_berrs / (double)t->final_bmsgs : NAN,
                (unsigned long long)t->final_bmsgs);
        return c->exit_when_done || c->send[0];
    }
    return 0;
}

static uint32_t s_io_next_seq(void *user) { return ((tx_t *)user)->seq; }
static void s_io_flush(void *user) { s_flush(user); }
static void s_io_poll(void *user, int timeout_ms)
{
    tx_t *t = user;
    s_poll_feedback(t, timeout_ms);
    /* status.json and the watchdog go on during a long transfer */
    if (al_now_s() - t->last_status > 1.0)
        s_status(t, "sending");
}
static int s_io_has_peer(void *user) { return fb_server_has_peer(((tx_t *)user)->fb); }

static void s_io_send_frame(void *user, const uint32_t *msgs)
{
    tx_t *t = user;
    memcpy(t->msgs, msgs, sizeof(uint32_t) * t->P);
    if (s_send_frame(t, AL_PHASE_DATA) < 0)
        al_warn("DATA frame: %s", al_error_message());
}

static int s_io_send_offer(void *user, const fb_xfer_offer *offer)
{
    return fb_server_send_offer(((tx_t *)user)->fb, offer);
}

/* --send: the file over the learned link, after the final evaluation. */
static int s_send_file(tx_t *t)
{
    s_status(t, "sending");
    xfer_send_io io = {t, s_io_next_seq, s_io_send_frame, s_io_flush, s_io_poll,
                       s_io_has_peer, s_io_send_offer, &t->xfer};
    return xfer_send_run(&t->cfg, tx_net_table(t->net), t->session_seed, &io);
}

static void s_reopen_wait(void *user)
{
    tx_t *t = user;
    if (al_now_s() - t->last_status > 1.0)
        s_status(t, "reopening");
    s_poll_feedback(t, 500);
}

/* The radio accepted no write for stall_timeout_s: a HackRF whose USB
 * transfer failed returns TIMEOUT for ever (SoapyHackRF), so close it and
 * open it again, keeping the feedback session alive meanwhile. AL_EDEVICE
 * when it stays away for reopen_timeout_s (counted from the first stall
 * of this outage). */
static int s_reopen(tx_t *t)
{
    uint64_t now = al_now_ms();
    if (t->outage_start == 0)
        t->outage_start = t->fail_since;
    t->radio_stalls++;
    al_warn("radio: no write accepted for %.1f s (unplugged, or its driver stopped streaming); "
            "closing and reopening '%s'",
            (double)(now - t->fail_since) / 1e3, t->cfg.device);
    al_radio_destroy(&t->radio);
    int gone = 0;
    t->radio = daemon_radio_reopen(&t->cfg, AL_RADIO_TX, t->outage_start, s_reopen_wait, t, &gone);
    if (gone) {
        t->radio_outage_s += (double)(al_now_ms() - t->outage_start) / 1e3;
        t->outage_start = 0;
        return AL_EDEVICE;
    }
    if (t->radio != NULL)
        t->radio_reopens++;
    /* Writes prove it works; until then the outage goes on. */
    t->fail_since = 0;
    return AL_OK;
}

static int s_run(tx_t *t)
{
    t->t_start = al_now_s();
    t->last_ckpt = t->t_start;
    phase_clock_init(&t->clock, s_phase_names, TXP_COUNT);   /* as uptime_s: from here */
    daemon_notify_ready("transmitter ready");
    s_status(t, t->training_done ? "eval" : "waiting");
    al_info("transmitting on '%s' at %.3f Msps, feedback %s, session %u", t->cfg.device,
            t->cfg.rate / 1e6, fb_server_endpoint(t->fb), t->session_id);
    int rc = AL_OK;
    while (!daemon_stop_requested()) {
        if (!fb_server_has_peer(t->fb)) {
            /* No receiver: nobody would learn from the frames. */
            s_poll_feedback(t, 100);
            if (al_now_s() - t->last_status > 1.0)
                s_status(t, "waiting");
            continue;
        }
        if (!t->training_done) {
            rc = s_training_round(t);
        } else if (t->cfg.sweep && !t->swept) {
            rc = s_sweep_round(t);
        } else if (s_eval_round(t)) {
            if (t->cfg.send[0])
                rc = s_send_file(t);
            break;
        }
        if (rc == AL_OK && s_stalled(t))
            rc = s_reopen(t);
        if (rc < 0)
            break;
        if (al_now_s() - t->last_status > 1.0)
            s_status(t, t->sweep       ? "sweep"
                        : t->training_done ? "eval"
                                           : "training");
        if (al_now_s() - t->last_ckpt > t->cfg.checkpoint_interval)
            s_checkpoint(t);
    }
    s_checkpoint(t);
    s_status(t, "stopped");
    return rc;
}

int cmd_tx(int argc, char **argv)
{
    tx_t t;
    memset(&t, 0, sizeof t);
    t.last_ser = NAN;
    t.last_ser_baseline = NAN;
    t.last_loss = NAN;
    int help = 0;
    opt_origin origin;
    if (daemon_config_load(&t.cfg, "tx", argc, argv, &help, &origin) < 0)
        return daemon_settings_failed("tx", origin, EX_CONFIG);
    if (help)
        return 0;
    if (daemon_apply_common(&t.cfg, "tx") < 0)
        return daemon_settings_failed("tx", OPT_FROM_FILE, EX_CONFIG);
    daemon_signals_install();
    int rc = s_setup(&t);
    if (rc < 0) {
        fprintf(stderr, "airlearn tx: %s\n", al_error_message());
        s_teardown(&t);
        return rc == AL_EDEVICE ? EX_UNAVAILABLE
               : rc == AL_EIO   ? EX_CANTCREAT
               : rc == AL_ENET  ? EX_UNAVAILABLE
                                : EX_CONFIG;
    }
    rc = s_run(&t);
    s_teardown(&t);
    if (rc < 0) {
        fprintf(stderr, "airlearn tx: %s\n", al_error_message());
        return rc == AL_EDEVICE ? EX_UNAVAILABLE : EX_SOFTWARE;
    }
    return 0;
}

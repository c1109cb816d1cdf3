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
 *   EVAL      decisions, error counts sent in STATS; the odd message
 *             slots carry the same-rate QAM baseline (al_evalmix), detected
 *             by minimum distance and counted apart.
 * Frames of another session (a TX restarted, the handshake not done yet)
 * are counted and dropped.
 *
 * The queue holds rx_queue_s seconds of samples (not a count of MTUs: a
 * HackRF's MTU is 131072 samples). A radio that delivers nothing for
 * stall_timeout_s while the transmitter is there (a HackRF whose USB
 * transfer failed returns TIMEOUT for ever) is closed and reopened; away
 * for reopen_timeout_s, the daemon exits 69 (EX_UNAVAILABLE) for systemd
 * to restart it, and the watchdog is pinged only while samples flow.
 * The main thread meters the raw blocks (level, noise floor, DC, clipped
 * samples) for the status file and the log.
 *
 * `airlearn linkcheck` is this receiver in check mode: it joins the
 * transmitter's session (so that a normal `airlearn tx` sends frames),
 * neither trains nor answers, touches no state, and after --seconds
 * prints the levels, offsets and frame counts with plain advice; exit 0
 * when the link is fit to train.
 */
#include "commands.h"

#include "al_adam.h"
#include "al_error.h"
#include "al_evalmix.h"
#include "al_log.h"
#include "al_rng.h"
#include "al_sampleq.h"
#include "daemon_config.h"
#include "daemon_util.h"
#include "fb_session.h"
#include "phase_clock.h"
#include "rx_frame.h"
#include "rx_net.h"
#include "xfer_receive.h"

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

/* Metering: power in chunks of METER_CHUNK samples (shorter than a
 * frame, so the loudest chunk of a second is signal and the quietest is
 * the noise floor); a sample component at CLIP_LEVEL of full scale or
 * beyond counts as clipped (HackRF's CS8: -128/127 .. 1). */
enum { RTT_SLOTS = 64, METER_CHUNK = 256, QUEUE_MIN_BLOCKS = 4 };
#define CLIP_LEVEL 0.99f
#define READ_MAX_S 0.02

/* Where the processing thread's time goes (status.json "phase_s"):
 * waiting for samples, the PHY receiver (detection, synchronisation,
 * matched filter, header, pilots) and metering, the supervised steps,
 * the forward pass for losses, sending them, the forward pass for
 * evaluation, and the rest (feedback, status, checkpoints). */
enum { RXP_OTHER, RXP_WAIT, RXP_FRONTEND, RXP_TRAIN, RXP_LOSSES, RXP_SEND, RXP_EVAL, RXP_COUNT };
static const char *const s_phase_names[RXP_COUNT] = {
    "other", "wait_frames", "frontend", "train", "losses", "loss_send", "eval"};

typedef struct {
    double sum_pow;             /* this window: */
    double complex sum_x;
    uint64_t n;
    double chunk_pow;           /* the chunk being summed */
    unsigned chunk_n;
    double min_chunk, max_chunk;
    uint64_t clipped;           /* since start */
    uint64_t total;             /* samples since start */
    double sum_signal, sum_noise, sum_dc;   /* of the windows, dBFS */
    unsigned windows, signal_windows;
    /* the last complete window, dBFS */
    double level_dbfs, signal_dbfs, noise_dbfs, dc_dbfs;
    uint64_t clipped_window;
    uint64_t window_clip_start;
} rx_meter;

typedef struct {
    daemon_config cfg;
    al_radio_t *radio;
    al_sampleq_t *queue;
    pthread_t reader;
    int reader_started;
    atomic_int reader_stop;
    atomic_ullong overflows, radio_errors;
    rx_meter meter;
    double cfo_hz;              /* detector's carrier offset, smoothed */
    uint64_t cfo_frames;
    /* the PHY's per-frame figures, smoothed like cfo_hz */
    double sco_ppm, frame_level_dbfs, frame_noise_dbfs;
    size_t queue_bytes;
    uint64_t expect_since;      /* ms: samples are due from here on (peer there) */
    uint64_t outage_start;      /* ms: the radio has been away since (0: it is not) */
    uint64_t radio_stalls, radio_reopens;
    double radio_outage_s;
    double check_s;             /* linkcheck: seconds to listen (0: the daemon) */
    uint64_t check_decoded;
    double check_snr_sum;
    fb_client_t *fb;
    rx_net_t *net;
    rx_frame_t *phy;
    al_evalmix_t *eval;
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
    xfer_rx_t *xfer;            /* --receive: files over the learned link */
    double last_xfer_status;
    uint64_t xfer_log_ms;
    char ckpt_path[512];
    phase_clock clock;
} rx_t;

/* Tells the transmitter what is held of the file on offer, if any. */
static void s_xfer_status(rx_t *r)
{
    fb_xfer_status st;
    if (r->xfer && xfer_rx_status(r->xfer, &st))
        fb_client_send_xfer_status(r->fb, &st);
    r->last_xfer_status = al_now_s();
}

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

static double s_db(double power)
{
    return power > 1e-20 ? 10.0 * log10(power) : -200.0;
}

static void s_meter_reset_window(rx_meter *m)
{
    m->sum_pow = 0;
    m->sum_x = 0;
    m->n = 0;
    m->min_chunk = -1;
    m->max_chunk = 0;
}

/* Raw samples as the radio gave them, before any receiver processing. */
static void s_meter_block(rx_meter *m, const float complex *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float re = crealf(x[i]), im = cimagf(x[i]);
        double p = (double)re * re + (double)im * im;
        m->sum_pow += p;
        m->sum_x += x[i];
        m->clipped += fabsf(re) >= CLIP_LEVEL || fabsf(im) >= CLIP_LEVEL;
        m->chunk_pow += p;
        if (++m->chunk_n == METER_CHUNK) {
            double c = m->chunk_pow / METER_CHUNK;
            if (m->min_chunk < 0 || c < m->min_chunk)
                m->min_chunk = c;
            if (c > m->max_chunk)
                m->max_chunk = c;
            m->chunk_pow = 0;
            m->chunk_n = 0;
        }
    }
    m->n += n;
    m->total += n;
}

/* Closes a window: signal is the loudest chunk above the noise floor
 * (the quietest chunk), kept from the last window where it stood 3 dB
 * above the floor (a frame was there); DC the magnitude of the mean. */
static void s_meter_window(rx_meter *m)
{
    if (m->n == 0 || m->min_chunk < 0)
        return;
    double complex mean = m->sum_x / (double)m->n;
    m->level_dbfs = s_db(m->sum_pow / (double)m->n);
    m->dc_dbfs = s_db(creal(mean) * creal(mean) + cimag(mean) * cimag(mean));
    m->noise_dbfs = s_db(m->min_chunk);
    if (m->max_chunk > 2 * m->min_chunk) {
        m->signal_dbfs = s_db(m->max_chunk - m->min_chunk);
        m->sum_signal += m->signal_dbfs;
        m->signal_windows++;
    }
    m->clipped_window = m->clipped - m->window_clip_start;
    m->window_clip_start = m->clipped;
    m->sum_noise += m->noise_dbfs;
    m->sum_dc += m->dc_dbfs;
    m->windows++;
    s_meter_reset_window(m);
}

static void s_frame(void *user, const rx_frame_result *res)
{
    rx_t *r = user;
    const al_frame_header *h = &res->header;
    /* Any decoded frame tells the offset, of this session or not. */
    double cfo_hz = res->cfo * r->cfg.rate / (2.0 * M_PI);
    int first = r->cfo_frames++ == 0;
    r->cfo_hz = first ? cfo_hz : 0.9 * r->cfo_hz + 0.1 * cfo_hz;
    r->sco_ppm = first ? res->sco_ppm : 0.9 * r->sco_ppm + 0.1 * res->sco_ppm;
    r->frame_level_dbfs =
        first ? res->level_dbfs : 0.9 * r->frame_level_dbfs + 0.1 * res->level_dbfs;
    r->frame_noise_dbfs =
        first ? res->noise_dbfs : 0.9 * r->frame_noise_dbfs + 0.1 * res->noise_dbfs;
    if (r->check_s > 0) {
        /* A decoded header is all a check needs, whichever session. */
        r->check_decoded++;
        r->check_snr_sum += res->snr_db;
        return;
    }
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
    unsigned outer = r->clock.current;
    switch (h->phase) {
    case AL_PHASE_RX_TRAIN:
        phase_clock_enter(&r->clock, RXP_TRAIN);
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
        phase_clock_enter(&r->clock, RXP_LOSSES);
        if (rx_net_losses(r->net, res->symbols, r->labels, r->P, r->losses, r->decisions) != 0)
            break;
        phase_clock_enter(&r->clock, RXP_SEND);
        if (fb_client_send_losses(r->fb, h->seq, h->model_version, r->losses, (uint16_t)r->P) == 0) {
            r->losses_sent++;
            r->rtt_seq[h->seq % RTT_SLOTS] = h->seq;
            r->rtt_sent[h->seq % RTT_SLOTS] = al_now_s();
        }
        break;
    case AL_PHASE_EVAL: {
        phase_clock_enter(&r->clock, RXP_EVAL);
        const unsigned n = al_evalmix_learned_count(r->eval);
        const uint32_t *want = al_evalmix_learned_labels(r->eval, r->labels);
        if (rx_net_decide(r->net, al_evalmix_learned_symbols(r->eval, res->symbols), n,
                          r->decisions) == 0) {
            xfer_rx_note_eval(r->xfer, h->model_version, want, r->decisions, n);
            for (unsigned i = 0; i < n; i++)
                r->stats.eval_errors += r->decisions[i] != want[i];
            r->stats.eval_messages += n;
            r->stats.baseline_errors += al_evalmix_baseline_errors(r->eval, res->symbols, r->labels);
            r->stats.baseline_messages += al_evalmix_baseline_count(r->eval);
            /* The preamble fit's Es/N0 of these very frames: the TX's
             * SER-against-SNR sweep (sweep.h) reads it from STATS. */
            r->stats.eval_frames++;
            r->stats.eval_signal += res->es;
            r->stats.eval_noise += res->n0;
            r->last_stats = 0;   /* report at once: the TX is waiting */
        }
        break;
    }
    case AL_PHASE_DATA:
        if (r->xfer && rx_net_decide(r->net, res->symbols, r->P, r->decisions) == 0) {
            xfer_receive_frame(r->xfer, &r->cfg, fb_client_session_seed(r->fb), h->seq,
                               r->decisions);
            s_xfer_status(r);
        }
        break;
    default:
        break;
    }
    phase_clock_enter(&r->clock, outer);
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
    if (r->check_s > 0)
        return AL_OK;
    int rc = al_model_save(rx_net_model(r->net), r->ckpt_path, NULL, 0);
    if (rc < 0)
        al_error("checkpoint: %s", al_error_message());
    r->last_ckpt = al_now_s();
    return rc;
}

/* How long the radio has delivered nothing while samples were due (the
 * transmitter there: with driver=airsim,clock=fast the link is silent
 * without one, where a real radio always delivers noise). */
static double s_silent_ms(const rx_t *r)
{
    if (r->radio == NULL)
        return 1e12;   /* being reopened */
    if (!fb_client_ready(r->fb))
        return 0;
    uint64_t last = al_radio_last_progress_ms(r->radio);
    if (r->expect_since > last)
        last = r->expect_since;
    uint64_t now = al_now_ms();
    return now > last ? (double)(now - last) : 0;
}

static void s_status(rx_t *r, const char *phase)
{
    if (r->check_s > 0)
        return;   /* a check leaves the daemon's state alone */
    state_json_t *j = state_json_create();
    if (j == NULL) {
        al_warn("status: %s", al_error_message());
        return;
    }
    const rx_frame_counters *pc = rx_frame_get_counters(r->phy);
    double ser = r->stats.eval_messages ? (double)r->stats.eval_errors / r->stats.eval_messages : -1;
    const rx_meter *m = &r->meter;
    double outage =
        r->radio_outage_s + (r->outage_start ? (al_now_ms() - r->outage_start) / 1e3 : 0);
    state_json_str(j, "role", "rx");
    state_json_int(j, "pid", getpid());
    state_json_str(j, "phase", phase);
    state_json_uint(j, "session", fb_client_session_id(r->fb));
    state_json_bool(j, "peer", fb_client_ready(r->fb));
    state_json_uint(j, "frames_detected", pc->detected);
    state_json_uint(j, "frames_decoded", r->stats.frames_decoded);
    state_json_uint(j, "header_failures", pc->outcome[RXF_HEADER_CRC]);
    state_json_uint(j, "frames_no_session", r->frames_no_session);
    state_json_uint(j, "samples_dropped", al_sampleq_dropped(r->queue));
    state_json_uint(j, "overflows", atomic_load(&r->overflows));
    state_json_uint(j, "radio_errors", atomic_load(&r->radio_errors));
    state_json_uint(j, "train_steps", r->train_steps);
    state_json_fixed(j, "loss", 5, r->last_train_loss);
    state_json_uint(j, "losses_sent", r->losses_sent);
    state_json_uint(j, "losses_dropped_by_tx", fb_client_dropped(r->fb));
    state_json_uint(j, "eval_messages", r->stats.eval_messages);
    state_json_sig(j, "ser", 6, ser);
    state_json_uint(j, "baseline_messages", r->stats.baseline_messages);
    state_json_sig(j, "ser_baseline", 6,
                   r->stats.baseline_messages
                       ? (double)r->stats.baseline_errors / r->stats.baseline_messages
                       : NAN);
    state_json_fixed(j, "snr_db", 2, r->snr_db);
    state_json_fixed(j, "feedback_rtt_ms", 3, r->rtt_ms);
    state_json_fixed(j, "level_dbfs", 1, m->level_dbfs);
    state_json_fixed(j, "signal_dbfs", 1, m->signal_dbfs);
    state_json_fixed(j, "noise_dbfs", 1, m->noise_dbfs);
    state_json_fixed(j, "dc_dbfs", 1, m->dc_dbfs);
    state_json_uint(j, "clipped_samples", m->clipped);
    state_json_fixed(j, "cfo_hz", 1, r->cfo_hz);
    state_json_fixed(j, "cfo_ppm", 3,
                     r->cfg.frequency > 0 ? 1e6 * r->cfo_hz / r->cfg.frequency : 0.0);
    state_json_fixed(j, "sco_ppm", 2, r->sco_ppm);
    state_json_fixed(j, "frame_level_dbfs", 1, r->cfo_frames ? r->frame_level_dbfs : -200.0);
    state_json_fixed(j, "frame_noise_dbfs", 1, r->cfo_frames ? r->frame_noise_dbfs : -200.0);
    state_json_uint(j, "rx_queue_bytes", r->queue_bytes);
    state_json_uint(j, "radio_stalls", r->radio_stalls);
    state_json_uint(j, "radio_reopens", r->radio_reopens);
    state_json_fixed(j, "radio_outage_s", 1, outage);
    daemon_fb_status(j, fb_client_counters(r->fb));
    phase_clock_add_json(&r->clock, j, "phase_s");
    state_json_uint(j, "heap_bytes", mallinfo2().uordblks);
    state_json_fixed(j, "uptime_s", 1, al_now_s() - r->t_start);
    if (state_json_write(j, r->cfg.state_dir, "status.json") < 0)
        al_warn("status: %s", al_error_message());
    state_json_destroy(&j);
    char line[160];
    snprintf(line, sizeof line, "%s frames %llu loss %.4f", phase,
             (unsigned long long)r->stats.frames_decoded, r->last_train_loss);
    daemon_notify_status(line, r->cfg.stall_timeout_s == 0 ||
                                   s_silent_ms(r) < 1e3 * r->cfg.stall_timeout_s);
    r->last_status = al_now_s();
}

static int s_reader_start(rx_t *r)
{
    atomic_store(&r->reader_stop, 0);
    if (pthread_create(&r->reader, NULL, s_reader, r) != 0)
        return AL_FAIL(AL_ENOMEM, "cannot start the radio thread");
    r->reader_started = 1;
    return AL_OK;
}

static void s_reader_stop(rx_t *r)
{
    if (r->reader_started) {
        atomic_store(&r->reader_stop, 1);
        pthread_join(r->reader, NULL);
        r->reader_started = 0;
    }
}

static int s_setup(rx_t *r)
{
    const daemon_config *c = &r->cfg;
    r->M = c->M;
    r->N = c->N;
    r->P = c->messages;
    if (r->check_s == 0 && daemon_mkdir_p(c->state_dir) < 0)
        return AL_EIO;
    snprintf(r->ckpt_path, sizeof r->ckpt_path, "%s/rx.ckpt", c->state_dir);

    rx_net_config nc = rx_net_config_default(c->M, c->N, (rx_kind)c->receiver);
    nc.hidden = c->rx_hidden ? c->rx_hidden : c->M;
    nc.lr = (float)c->lr_rx;
    nc.max_batch = c->messages;
    r->net = rx_net_create(&nc);
    if (r->net == NULL || rx_net_init(r->net, c->seed ^ 0x5bd1e995u) < 0)
        return AL_EINVAL;
    if (r->check_s == 0 && access(r->ckpt_path, F_OK) == 0) {
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
    if (rx_frame_set_if_offset(r->phy, (float)(c->if_offset / c->rate)) < 0)
        return daemon_fail_if_offset(c);
    r->labels = malloc(sizeof(uint32_t) * r->P);
    r->decisions = malloc(sizeof(uint32_t) * r->P);
    r->losses = malloc(sizeof(float) * r->P);
    r->dy = malloc(sizeof(float) * 2 * r->P * r->N);
    if (!r->labels || !r->decisions || !r->losses || !r->dy)
        return AL_FAIL(AL_ENOMEM, "out of memory");
    if ((r->eval = al_evalmix_create(c->M, c->N, c->messages)) == NULL)
        return AL_EINVAL;

    fb_session_config fc = daemon_fb_config(c, 0, 0, 0);
    r->fb = fb_client_create(&fc);
    if (r->fb == NULL)
        return AL_ENET;
    int xfer_rc = AL_OK;
    if (r->check_s == 0 && (r->xfer = xfer_receive_create(c, &xfer_rc)) == NULL && xfer_rc < 0)
        return xfer_rc;

    r->radio = daemon_radio_open(c, AL_RADIO_RX);
    if (r->radio == NULL)
        return AL_EDEVICE;
    /* rx_queue_s of samples in blocks of at most one MTU and at most
     * READ_MAX_S of samples (a read waits for its whole block: on a
     * HackRF at 2 Msps an MTU is 65 ms more latency for every frame), at
     * least QUEUE_MIN_BLOCKS of them. */
    double want = c->rate * c->rx_queue_s;
    size_t block = al_radio_mtu(r->radio);
    if ((double)block > c->rate * READ_MAX_S)
        block = (size_t)(c->rate * READ_MAX_S);
    if ((double)block * QUEUE_MIN_BLOCKS > want)
        block = (size_t)ceil(want / QUEUE_MIN_BLOCKS);
    if (block < METER_CHUNK)
        block = METER_CHUNK;
    unsigned blocks = (unsigned)ceil(want / (double)block);
    if (blocks < QUEUE_MIN_BLOCKS)
        blocks = QUEUE_MIN_BLOCKS;
    r->queue = al_sampleq_create(blocks, block);
    if (r->queue == NULL)
        return AL_FAIL(AL_ENOMEM, "out of memory for the sample queue");
    r->queue_bytes = (size_t)blocks * block * sizeof(float complex);
    al_debug("sample queue: %u blocks of %zu samples (%.2f s, %.1f MiB)", blocks, block,
             (double)blocks * (double)block / c->rate, (double)r->queue_bytes / 1048576.0);
    s_meter_reset_window(&r->meter);
    /* -200 dBFS: nothing measured yet */
    r->meter.level_dbfs = r->meter.signal_dbfs = r->meter.noise_dbfs = r->meter.dc_dbfs = -200;
    int rc = s_reader_start(r);
    if (rc < 0)
        return rc;
    char path[600];
    /* The settings in force, for the record; a run does not depend on it. */
    snprintf(path, sizeof path, "%s/rx.conf", c->state_dir);
    if (r->check_s == 0)
        (void)daemon_config_write(path, c);
    return AL_OK;
}

static void s_teardown(rx_t *r)
{
    s_reader_stop(r);
    al_radio_destroy(&r->radio);
    al_sampleq_destroy(&r->queue);
    fb_client_destroy(&r->fb);
    rx_net_destroy(&r->net);
    rx_frame_destroy(&r->phy);
    al_evalmix_destroy(&r->eval);
    xfer_rx_destroy(&r->xfer);
    free(r->labels);
    free(r->decisions);
    free(r->losses);
    free(r->dy);
}

static void s_poll_feedback(rx_t *r)
{
    fb_event ev;
    while (fb_client_poll(r->fb, 0, &ev) > 0) {
        if (ev.type == FB_EV_PEER_READY) {
            al_info("joined session %u", fb_client_session_id(r->fb));
            r->expect_since = al_now_ms();
        }
        else if (ev.type == FB_EV_PEER_LOST)
            al_warn("transmitter lost (no feedback for %u ms)", r->cfg.peer_timeout_ms);
        else if (ev.type == FB_EV_MESSAGE && ev.msg->type == FB_LOSSES_ACK) {
            uint32_t seq = ev.msg->u.ack.seq;
            if (r->rtt_seq[seq % RTT_SLOTS] == seq && r->rtt_sent[seq % RTT_SLOTS] > 0) {
                double ms = 1e3 * (al_now_s() - r->rtt_sent[seq % RTT_SLOTS]);
                r->rtt_ms = r->rtt_ms > 0 ? 0.9 * r->rtt_ms + 0.1 * ms : ms;
                r->rtt_sent[seq % RTT_SLOTS] = 0;
            }
        } else if (ev.type == FB_EV_MESSAGE && ev.msg->type == FB_XFER_OFFER && r->xfer) {
            xfer_receive_offer(r->xfer, &r->cfg, &ev.msg->u.offer, &r->xfer_log_ms);
            s_xfer_status(r);
        } else if (ev.type == FB_EV_REJECTED)
            al_error("the transmitter refused us: %s", ev.msg ? ev.msg->u.reject.text : "");
    }
}

static void s_reopen_wait(void *user)
{
    rx_t *r = user;
    s_poll_feedback(r);
    if (al_now_s() - r->last_status > 1.0)
        s_status(r, "reopening");
    nanosleep(&(struct timespec){0, 200000000}, NULL);
}

/* Samples were due and none came for stall_timeout_s: close the radio and
 * open it again, the feedback session kept alive meanwhile. AL_EDEVICE
 * when it stays away for reopen_timeout_s (counted from the start of
 * this outage, across reopens that did not bring samples back). */
static int s_reopen(rx_t *r)
{
    double silent = s_silent_ms(r);
    uint64_t now = al_now_ms();
    if (r->outage_start == 0)
        r->outage_start = now - (uint64_t)silent;
    r->radio_stalls++;
    al_warn("radio: no samples for %.1f s (unplugged, or its driver stopped streaming); closing "
            "and reopening '%s'",
            silent / 1e3, r->cfg.device);
    s_reader_stop(r);
    al_radio_destroy(&r->radio);
    int gone = 0;
    r->radio =
        daemon_radio_reopen(&r->cfg, AL_RADIO_RX, r->outage_start, s_reopen_wait, r, &gone);
    if (gone)
        return AL_EDEVICE;
    if (r->radio == NULL)
        return AL_OK;   /* stopping */
    r->radio_reopens++;
    /* The frames that straddled the hole are lost whole. */
    al_sampleq_drop(r->queue, 0);
    r->expect_since = al_now_ms();
    return s_reader_start(r);
}

static void s_log_levels(rx_t *r)
{
    const rx_meter *m = &r->meter;
    const rx_frame_counters *pc = rx_frame_get_counters(r->phy);
    al_info("levels: signal %.1f dBFS, noise %.1f dBFS, DC %.1f dBFS, %llu samples clipped in "
            "the last second; CFO %.0f Hz (%.2f ppm), sample clock %+.1f ppm; frames detected "
            "%llu, decoded %llu",
            m->signal_dbfs, m->noise_dbfs, m->dc_dbfs, (unsigned long long)m->clipped_window,
            r->cfo_hz, r->cfg.frequency > 0 ? 1e6 * r->cfo_hz / r->cfg.frequency : 0.0, r->sco_ppm,
            (unsigned long long)pc->detected, (unsigned long long)r->stats.frames_decoded);
}

static int s_run(rx_t *r)
{
    r->t_start = al_now_s();
    r->last_ckpt = r->t_start;
    phase_clock_init(&r->clock, s_phase_names, RXP_COUNT);   /* as uptime_s: from here */
    daemon_notify_ready("receiver ready");
    s_status(r, "waiting");
    al_info("receiving on '%s' at %.3f Msps, feedback %s", r->cfg.device, r->cfg.rate / 1e6,
            r->cfg.endpoint);
    double last_meter = r->t_start, last_level_log = r->t_start;
    while (!daemon_stop_requested() && (r->check_s == 0 || al_now_s() - r->t_start < r->check_s)) {
        s_poll_feedback(r);
        phase_clock_enter(&r->clock, RXP_WAIT);
        al_sampleq_block *b = al_sampleq_read_begin(r->queue, 20);
        phase_clock_enter(&r->clock, RXP_OTHER);
        if (b) {
            if (b->gap) {
                r->stream_gaps++;
                rx_frame_reset(r->phy);
            }
            if (r->outage_start) {
                double away = (double)(al_now_ms() - r->outage_start) / 1e3;
                r->radio_outage_s += away;
                r->outage_start = 0;
                al_info("radio: samples again after %.1f s without", away);
            }
            phase_clock_enter(&r->clock, RXP_FRONTEND);
            s_meter_block(&r->meter, b->samples, b->count);
            rx_frame_execute(r->phy, b->samples, b->count);
            phase_clock_enter(&r->clock, RXP_OTHER);
            al_sampleq_read_end(r->queue);
        }
        if (r->cfg.stall_timeout_s > 0 && s_silent_ms(r) >= 1e3 * r->cfg.stall_timeout_s) {
            int rc = s_reopen(r);
            if (rc < 0) {
                s_checkpoint(r);
                s_status(r, "stopped");
                return rc;
            }
        }
        double now = al_now_s();
        if (now - last_meter >= 1.0) {
            s_meter_window(&r->meter);
            last_meter = now;
        }
        if (now - last_level_log >= 10.0) {
            s_log_levels(r);
            last_level_log = now;
        }
        if (r->last_stats == 0 || now - r->last_stats > 1.0)
            s_send_stats(r);
        if (r->xfer && now - r->last_xfer_status > 0.25)
            s_xfer_status(r);
        if (now - r->last_status > 1.0)
            s_status(r, fb_client_ready(r->fb) ? "running" : "waiting");
        if (now - r->last_ckpt > r->cfg.checkpoint_interval)
            s_checkpoint(r);
    }
    s_checkpoint(r);
    s_status(r, "stopped");
    return AL_OK;
}

/* The check's findings and advice on stdout; 0 when the link is fit to
 * train, 1 when not. */
static int s_check_report(rx_t *r)
{
    const rx_meter *m = &r->meter;
    const rx_frame_counters *pc = rx_frame_get_counters(r->phy);
    const daemon_config *c = &r->cfg;
    double w = m->windows ? (double)m->windows : 1;
    double signal = m->signal_windows ? m->sum_signal / m->signal_windows : -200.0;
    double noise = m->sum_noise / w, dc = m->sum_dc / w;
    double snr = r->check_decoded ? r->check_snr_sum / (double)r->check_decoded : NAN;
    double ppm = c->frequency > 0 ? 1e6 * r->cfo_hz / c->frequency : NAN;
    double clip_fraction = m->total ? (double)m->clipped / (double)m->total : 0;
    /* Shannon's Es/N0 for log2(M)/N bits per channel use, plus 5 dB for
     * a short uncoded block: 9.8 dB for M=16, N=2 and for M=256, N=4
     * (the paper trains the latter at 10 dB). */
    double need = 10.0 * log10(pow(2.0, log2((double)c->M) / c->N) - 1.0) + 5.0;
    double decoded_ratio = pc->detected ? (double)r->check_decoded / (double)pc->detected : 0;
    printf("linkcheck: %.0f s on '%s' at %.3f Msps, %.3f MHz\n", al_now_s() - r->t_start,
           c->device, c->rate / 1e6, c->frequency / 1e6);
    printf("  signal %.1f dBFS, noise %.1f dBFS, DC %.1f dBFS, %llu of %llu samples clipped\n",
           signal, noise, dc, (unsigned long long)m->clipped, (unsigned long long)m->total);
    printf("  SNR %.1f dB (M=%u, N=%u needs about %.1f dB)\n", snr, c->M, c->N, need);
    printf("  CFO %.0f Hz (%.2f ppm); sample clock %+.1f ppm\n", r->cfo_hz, ppm, r->sco_ppm);
    printf("  frames detected %llu, decoded %llu\n", (unsigned long long)pc->detected,
           (unsigned long long)r->check_decoded);
    int fit = 1;
    printf("advice:\n");
    if (clip_fraction > 1e-5) {
        fit = 0;
        if (strstr(c->gains, "LNA") != NULL)
            printf("  RX clipping: lower gains LNA by 8 dB\n");
        else
            printf("  RX clipping: lower the RX gain by 6 dB\n");
    }
    if (pc->detected == 0) {
        fit = 0;
        printf("  no frames: is the transmitter running (airlearn tx with the same [phy] and "
               "frequency), and the antennas or the cable connected?\n");
        if (m->signal_windows == 0)
            printf("  nothing above the noise: raise the TX gain (HackRF: VGA) or the RX "
                   "gain\n");
    } else if (decoded_ratio < 0.9) {
        fit = 0;
        printf("  %.0f %% of the detections decode: check the levels and the carrier offset\n",
               100 * decoded_ratio);
    }
    if (r->check_decoded > 0 && snr < need) {
        fit = 0;
        printf("  SNR %.0f dB: too low for M=%u; raise the TX gain (HackRF: VGA), the RX gain, or "
               "shorten the path\n",
               snr, c->M);
    }
    if (dc > noise + 10)
        printf("  DC %.0f dBFS stands %.0f dB above the noise: LO leakage; keep the frames off "
               "the centre of the band\n",
               dc, dc - noise);
    if (isfinite(ppm) && fabs(ppm) > 25)
        printf("  carrier offset %.1f ppm is beyond two 20 ppm crystals: check both [radio] "
               "frequency settings\n",
               ppm);
    if (r->check_decoded > 0 && fabs(r->sco_ppm) > 45)
        printf("  sample-clock offset %.0f ppm is beyond two 20 ppm crystals: check both [radio] "
               "rate settings\n",
               r->sco_ppm);
    printf("%s\n", fit ? "  none: the link is fit to train" : "the link is not fit to train yet");
    return fit ? 0 : 1;
}

/* The receiver daemon (check_s 0) or the link check. */
static int s_main(const char *role, double check_s, int argc, char **argv)
{
    rx_t *r = calloc(1, sizeof *r);
    if (r == NULL)
        return EX_OSERR;
    r->last_train_loss = -1;
    r->check_s = check_s;
    int help = 0, status = 0;
    opt_origin origin;
    if (daemon_config_load(&r->cfg, role, argc, argv, &help, &origin) < 0)
        status = daemon_settings_failed(role, origin, EX_CONFIG);
    if (help && check_s > 0)
        printf("\n--seconds=S: how long to listen (default 60). Run it on the receiver's host\n"
               "with the receiver's configuration, the receiver daemon stopped and the\n"
               "transmitter running; it prints levels, offsets, frame counts and advice,\n"
               "and exits 0 when the link is fit to train.\n");
    if (status == 0 && !help && daemon_apply_common(&r->cfg, role) < 0)
        status = daemon_settings_failed(role, OPT_FROM_FILE, EX_CONFIG);
    if (status != 0 || help) {
        free(r);
        return status;
    }
    daemon_signals_install();
    int rc = s_setup(r);
    if (rc < 0) {
        fprintf(stderr, "airlearn %s: %s\n", role, al_error_message());
        s_teardown(r);
        free(r);
        return rc == AL_EDEVICE || rc == AL_ENET ? EX_UNAVAILABLE
               : rc == AL_EIO                   ? EX_CANTCREAT
                                                : EX_CONFIG;
    }
    rc = s_run(r);
    if (rc == AL_OK && check_s > 0) {
        s_meter_window(&r->meter);
        rc = s_check_report(r);
    }
    s_teardown(r);
    free(r);
    return rc == AL_EDEVICE ? EX_UNAVAILABLE : rc < 0 ? EX_SOFTWARE : rc;
}

int cmd_linkcheck(int argc, char **argv)
{
    double seconds = 60;
    /* --seconds=S is the check's own; everything else is the receiver's. */
    int n = 0;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "--seconds=", 10) == 0) {
            char *end = NULL;
            seconds = strtod(argv[i] + 10, &end);
            if (end == argv[i] + 10 || *end != '\0' || !(seconds >= 1 && seconds <= 3600)) {
                fprintf(stderr, "airlearn linkcheck: --seconds must be 1..3600\n");
                return EX_USAGE;
            }
        } else {
            argv[n++] = argv[i];
        }
    }
    return s_main("linkcheck", seconds, n, argv);
}

int cmd_rx(int argc, char **argv)
{
    return s_main("rx", 0, argc, argv);
}

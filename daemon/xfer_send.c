#include "xfer_send.h"

#include "al_error.h"
#include "al_log.h"
#include "al_rng.h"
#include "daemon_util.h"
#include "state_json.h"
#include "xfer_frame.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Noise per complex sample the labelling weighs pairs at: 10 dB, where
 * the paper trains (the weights only rank neighbours). */
#define LABEL_N0 0.1f
/* DATA frames sent between looks at the feedback. */
enum { SEND_BURST = 8, OFFER_REPEAT_MS = 500, PROGRESS_LOG_MS = 5000 };

static int s_read_file(const char *path, uint8_t **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return AL_FAIL(AL_EIO, "cannot open %s", path);
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? 2 * cap : 1 << 16;
            uint8_t *b = cap <= XFER_MAX_FILE + 1 ? realloc(buf, cap) : NULL;
            if (b == NULL) {
                free(buf);
                fclose(f);
                return AL_FAIL(AL_ERANGE, "%s: larger than %llu MiB, or out of memory", path,
                               XFER_MAX_FILE >> 20);
            }
            buf = b;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int err = ferror(f);
    fclose(f);
    if (err || n > XFER_MAX_FILE) {
        free(buf);
        return AL_FAIL(AL_EIO, "%s: %s", path, err ? "read error" : "too large");
    }
    *data = buf;
    *size = n;
    return AL_OK;
}

static void s_report(const daemon_config *c, const xfer_tx_t *x, size_t size, double seconds,
                     xfer_outcome outcome)
{
    const xfer_tx_stats *st = xfer_tx_get_stats(x);
    const fb_xfer_offer *o = xfer_tx_offer(x);
    double goodput = outcome == XFER_DONE && seconds > 0 ? 8.0 * (double)size / seconds : 0;
    double fer = st->frames_sent ? 1.0 - (double)st->rx_frames_ok / (double)st->frames_sent : 0;
    fer = fer < 0 ? 0 : fer;
    state_json_t *j = state_json_create();
    if (j != NULL) {
        state_json_str(j, "file", o->name);
        state_json_uint(j, "bytes", size);
        state_json_str(j, "outcome", outcome == XFER_DONE ? "complete" : "failed");
        state_json_fixed(j, "seconds", 3, seconds);
        state_json_fixed(j, "goodput_bps", 1, goodput);
        state_json_uint(j, "segments", o->segments);
        state_json_uint(j, "segment_bytes", o->segment_bytes);
        state_json_uint(j, "frames_sent", st->frames_sent);
        state_json_uint(j, "retransmissions", st->retransmissions);
        state_json_fixed(j, "frame_error_rate", 5, fer);
        state_json_uint(j, "rx_frames_ok", st->rx_frames_ok);
        state_json_uint(j, "rx_frames_bad_crc", st->rx_frames_bad);
        state_json_fixed(j, "rtt_ms", 1, st->rtt_ms);
        state_json_str(j, "labelling", o->labels ? "gray-like" : "identity");
    }
    if (j == NULL || state_json_write(j, c->state_dir, "xfer.json") < 0)
        al_warn("xfer.json: %s", al_error_message());
    state_json_destroy(&j);
    if (outcome == XFER_DONE)
        al_info("sent '%s': %zu bytes in %.2f s, goodput %.0f bit/s; %llu DATA frames, %llu "
                "retransmissions, frame error rate %.4f (%u frames with a bad CRC)",
                o->name, size, seconds, goodput, (unsigned long long)st->frames_sent,
                (unsigned long long)st->retransmissions, fer, st->rx_frames_bad);
}

int xfer_send_run(const daemon_config *c, const float *table, uint64_t session_seed,
                  const xfer_send_io *io)
{
    uint8_t *data = NULL;
    size_t size = 0;
    int rc = s_read_file(c->send, &data, &size);
    if (rc < 0)
        return rc;
    uint16_t *label = NULL;
    if (c->M <= FB_MAX_LABELS) {
        label = malloc(sizeof(uint16_t) * c->M);
        if (label == NULL || xfer_labelling(table, c->M, c->N, LABEL_N0, label) < 0) {
            al_warn("labelling: %s; sending with the identity mapping", al_error_message());
            free(label);
            label = NULL;
        }
    }
    const char *name = strrchr(c->send, '/');
    name = name ? name + 1 : c->send;
    al_rng_t r;
    al_rng_seed(&r, session_seed ^ al_now_ms());
    xfer_tx_config xc = {c->messages, c->M, c->xfer_window, c->xfer_rto_ms, c->xfer_max_sends,
                         (unsigned)(1e3 * c->xfer_idle_s)};
    uint64_t t0 = al_now_ms();
    xfer_tx_t *x = xfer_tx_create(&xc, al_rng_u32(&r) | 1u, name, data, size, label, t0);
    free(label);
    if (x == NULL) {
        free(data);
        return AL_EINVAL;
    }
    *io->active = x;
    const fb_xfer_offer *offer = xfer_tx_offer(x);
    al_info("sending '%s': %zu bytes in %u segments of %u bytes (%u bytes per frame), %s "
            "labelling",
            name, size, offer->segments, offer->segment_bytes, xfer_frame_bytes(c->messages, c->M),
            offer->labels ? "Gray-like" : "identity");
    uint32_t *msgs = malloc(sizeof(uint32_t) * c->messages);
    uint64_t last_offer = 0, last_log = t0;
    xfer_outcome outcome = XFER_SENDING;
    while (msgs != NULL && !daemon_stop_requested()) {
        uint64_t now = al_now_ms();
        const xfer_tx_stats *st = xfer_tx_get_stats(x);
        /* Until the receiver reports on the file, and again when it falls
         * silent (a restarted receiver must hear of it anew). */
        if ((!st->status_seen || now - st->status_ms >= 2 * OFFER_REPEAT_MS) &&
            now - last_offer >= OFFER_REPEAT_MS && io->has_peer(io->user)) {
            io->send_offer(io->user, offer);
            last_offer = now;
        }
        if ((outcome = xfer_tx_check(x, now)) != XFER_SENDING)
            break;
        unsigned sent = 0;
        uint32_t seg;
        while (sent < SEND_BURST && st->status_seen && io->has_peer(io->user) &&
               xfer_tx_next(x, al_now_ms(), &seg)) {
            xfer_tx_pack(x, session_seed, io->next_seq(io->user), seg, msgs);
            io->send_frame(io->user, msgs);
            io->poll(io->user, 0);
            sent++;
        }
        if (sent == 0) {
            io->flush(io->user);
            io->poll(io->user, 5);
        }
        if (now - last_log >= PROGRESS_LOG_MS) {
            al_info("sending '%s': %u of %u segments acknowledged, %llu frames sent, %llu "
                    "retransmissions, timeout %u ms",
                    name, st->acked, st->segments, (unsigned long long)st->frames_sent,
                    (unsigned long long)st->retransmissions, st->rto_ms);
            last_log = now;
        }
    }
    if (msgs == NULL)
        rc = AL_FAIL(AL_ENOMEM, "out of memory");
    else if (outcome == XFER_FAILED) {
        char why[400];
        snprintf(why, sizeof why, "%s", al_error_message());
        rc = AL_FAIL(AL_EIO, "file transfer failed: %s; no complete file at the receiver", why);
    }
    else if (outcome != XFER_DONE)
        rc = AL_FAIL(AL_ESTATE, "file transfer of '%s' interrupted", name);
    s_report(c, x, size, (al_now_ms() - t0) / 1e3, outcome);
    *io->active = NULL;
    xfer_tx_destroy(&x);
    free(msgs);
    free(data);
    return rc;
}

#include "xfer_tx.h"

#include "al_bytes.h"
#include "al_error.h"
#include "xfer_frame.h"

#include <stdlib.h>
#include <string.h>

enum { RTT_WINDOW = 32 };

struct xfer_tx {
    xfer_tx_config cfg;
    const uint8_t *data;
    size_t size;
    unsigned seg_bytes;
    fb_xfer_offer offer;
    uint16_t inverse[FB_MAX_LABELS];
    int labelled;
    uint8_t *acked;          /* [segments] */
    uint64_t *sent_ms;       /* [segments] last send */
    uint16_t *sends;         /* [segments] */
    uint32_t base, next;     /* first unacknowledged; first never sent */
    uint64_t last_progress;
    double rtt_win[RTT_WINDOW];
    unsigned rtt_count;
    int rx_failed, rx_done;
    xfer_outcome outcome;
    xfer_tx_stats st;
};

xfer_tx_t *xfer_tx_create(const xfer_tx_config *c, uint32_t file_id, const char *name,
                          const uint8_t *data, size_t size, const uint16_t *label,
                          uint64_t now_ms)
{
    unsigned sb = c ? xfer_segment_bytes(c->P, c->M) : 0;
    if (c == NULL || sb == 0) {
        AL_FAIL(AL_EINVAL, "a frame of %u messages of M=%u carries no segment (at least %d "
                "bits: P x log2(M))", c ? c->P : 0, c ? c->M : 0, 8 * (XFER_SEGMENT_OVERHEAD + 1));
        return NULL;
    }
    if (c->window < 1 || c->window > FB_XFER_WINDOW || c->rto_ms < 1 || c->max_sends < 1 ||
        c->idle_ms < 1 || file_id == 0 || name == NULL || (data == NULL && size > 0) ||
        (label != NULL && c->M > FB_MAX_LABELS)) {
        AL_FAIL(AL_EINVAL, "transfer settings out of range (window 1..%d)", FB_XFER_WINDOW);
        return NULL;
    }
    size_t name_len = strlen(name);
    if (name_len == 0 || name_len > FB_MAX_NAME || name[0] == '.' || strchr(name, '/')) {
        AL_FAIL(AL_EINVAL, "file name '%s' cannot be offered (1..%d bytes, no '/', not "
                "starting with '.')", name, FB_MAX_NAME);
        return NULL;
    }
    uint64_t segments = (size + sb - 1) / sb;
    if (segments > UINT32_MAX / 2) {
        AL_FAIL(AL_ERANGE, "file of %zu bytes is too large", size);
        return NULL;
    }
    xfer_tx_t *q = calloc(1, sizeof *q);
    if (q == NULL) {
        AL_FAIL(AL_ENOMEM, "out of memory");
        return NULL;
    }
    q->cfg = *c;
    q->data = data;
    q->size = size;
    q->seg_bytes = sb;
    size_t n = segments ? segments : 1;
    q->acked = calloc(n, 1);
    q->sent_ms = calloc(n, sizeof *q->sent_ms);
    q->sends = calloc(n, sizeof *q->sends);
    if (!q->acked || !q->sent_ms || !q->sends) {
        xfer_tx_destroy(&q);
        AL_FAIL(AL_ENOMEM, "out of memory");
        return NULL;
    }
    fb_xfer_offer *o = &q->offer;
    o->file_id = file_id;
    o->crc = al_crc32(0, data, size);
    o->size = size;
    o->segment_bytes = sb;
    o->segments = (uint32_t)segments;
    o->name_len = (uint16_t)name_len;
    memcpy(o->name, name, name_len);
    if (label != NULL) {
        o->labels = (uint16_t)c->M;
        memcpy(o->label, label, sizeof(uint16_t) * c->M);
        xfer_label_inverse(label, c->M, q->inverse);
        q->labelled = 1;
    }
    q->st.segments = (uint32_t)segments;
    q->st.rto_ms = c->rto_ms;
    q->last_progress = now_ms;
    return q;
}

void xfer_tx_destroy(xfer_tx_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    xfer_tx_t *q = *self_p;
    free(q->acked);
    free(q->sent_ms);
    free(q->sends);
    free(q);
    *self_p = NULL;
}

const fb_xfer_offer *xfer_tx_offer(const xfer_tx_t *q) { return &q->offer; }
const xfer_tx_stats *xfer_tx_get_stats(const xfer_tx_t *q) { return &q->st; }

static void s_send(xfer_tx_t *q, uint32_t s, uint64_t now)
{
    if (q->sends[s] > 0)
        q->st.retransmissions++;
    if (q->sends[s] < UINT16_MAX)
        q->sends[s]++;
    q->sent_ms[s] = now;
    q->st.frames_sent++;
}

int xfer_tx_next(xfer_tx_t *q, uint64_t now_ms, uint32_t *segment)
{
    if (q->outcome != XFER_SENDING)
        return 0;
    for (uint32_t s = q->base; s < q->next; s++) {
        if (!q->acked[s] && now_ms >= q->sent_ms[s] + q->st.rto_ms &&
            q->sends[s] < q->cfg.max_sends) {
            s_send(q, s, now_ms);
            *segment = s;
            return 1;
        }
    }
    if (q->next < q->offer.segments && q->next < q->base + q->cfg.window) {
        *segment = q->next++;
        s_send(q, *segment, now_ms);
        return 1;
    }
    return 0;
}

void xfer_tx_pack(const xfer_tx_t *q, uint64_t whiten_seed, uint32_t seq, uint32_t segment,
                  uint32_t *msgs)
{
    size_t off = (size_t)segment * q->seg_bytes;
    unsigned len = q->size - off < q->seg_bytes ? (unsigned)(q->size - off) : q->seg_bytes;
    xfer_frame_pack(q->cfg.P, q->cfg.M, whiten_seed, seq, q->offer.file_id, segment,
                    q->data + off, len, q->labelled ? q->inverse : NULL, msgs);
}

static void s_ack(xfer_tx_t *q, uint32_t s, uint64_t now)
{
    if (s >= q->offer.segments || q->acked[s] || q->sends[s] == 0)
        return;   /* never sent: a status cannot vouch for it */
    q->acked[s] = 1;
    q->st.acked++;
    q->last_progress = now;
    if (q->sends[s] != 1)
        return;   /* which send arrived is unknown: no round-trip sample */
    double ms = (double)(now - q->sent_ms[s]);
    q->st.rtt_ms = q->rtt_count ? 0.9 * q->st.rtt_ms + 0.1 * ms : ms;
    q->rtt_win[q->rtt_count++ % RTT_WINDOW] = ms;
    unsigned n = q->rtt_count < RTT_WINDOW ? q->rtt_count : RTT_WINDOW;
    double max = 0;
    for (unsigned i = 0; i < n; i++)
        max = q->rtt_win[i] > max ? q->rtt_win[i] : max;
    /* Twice the longest recent round trip: room for jitter without
     * waiting long for a frame the channel lost. */
    q->st.rto_ms = 2 * max > q->cfg.rto_ms ? (unsigned)(2 * max) : q->cfg.rto_ms;
}

void xfer_tx_on_status(xfer_tx_t *q, const fb_xfer_status *s, uint64_t now_ms)
{
    if (s->file_id != q->offer.file_id)
        return;
    q->st.status_seen = 1;
    q->st.status_ms = now_ms;
    q->st.rx_frames_ok = s->frames_ok;
    q->st.rx_frames_bad = s->frames_bad;
    if (s->state == FB_XFER_COMPLETE) {
        for (uint32_t i = q->base; i < q->offer.segments; i++)
            s_ack(q, i, now_ms);
        q->rx_done = 1;
    } else if (s->state == FB_XFER_FAILED) {
        q->rx_failed = 1;
    }
    uint32_t base = s->base < q->offer.segments ? s->base : q->offer.segments;
    if (s->state == FB_XFER_RECEIVING && base < q->base) {
        /* The receiver lacks what it had acknowledged (it restarted and
         * took the offer afresh): those segments go out again, with
         * their send counts reset. */
        for (uint32_t i = base; i < q->next; i++) {
            q->st.acked -= q->acked[i];
            q->acked[i] = 0;
            q->sends[i] = 0;
            q->sent_ms[i] = 0;
        }
        q->base = base;
        q->last_progress = now_ms;
    }
    for (uint32_t i = q->base; i < base; i++)
        s_ack(q, i, now_ms);
    for (unsigned i = 0; i < s->bits; i++)
        if ((s->bitmap[i / 8] >> (i % 8)) & 1)
            s_ack(q, base + i, now_ms);
    while (q->base < q->offer.segments && q->acked[q->base])
        q->base++;
}

xfer_outcome xfer_tx_check(xfer_tx_t *q, uint64_t now_ms)
{
    if (q->outcome != XFER_SENDING)
        return q->outcome;
    if (q->rx_failed) {
        AL_FAIL(AL_ECRC, "the receiver holds every segment of '%s' but its whole-file CRC "
                "differs: nothing was written", q->offer.name);
        return q->outcome = XFER_FAILED;
    }
    if (q->rx_done)
        return q->outcome = XFER_DONE;
    for (uint32_t s = q->base; s < q->next; s++) {
        if (!q->acked[s] && q->sends[s] >= q->cfg.max_sends &&
            now_ms >= q->sent_ms[s] + q->st.rto_ms) {
            AL_FAIL(AL_ETIMEOUT, "segment %u of '%s' sent %u times without an acknowledgement "
                    "(%u of %u segments acknowledged): the link does not carry it",
                    s, q->offer.name, q->sends[s], q->st.acked, q->offer.segments);
            return q->outcome = XFER_FAILED;
        }
    }
    if (now_ms - q->last_progress >= q->cfg.idle_ms) {
        AL_FAIL(AL_ETIMEOUT, "no segment of '%s' acknowledged for %.1f s (%u of %u "
                "acknowledged): the link or the receiver is gone", q->offer.name,
                (now_ms - q->last_progress) / 1e3, q->st.acked, q->offer.segments);
        return q->outcome = XFER_FAILED;
    }
    return XFER_SENDING;
}

#include "xfer_rx.h"

#include "al_bytes.h"
#include "al_error.h"
#include "xfer_frame.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct xfer_rx {
    xfer_rx_config cfg;
    char dir[512];
    unsigned seg_bytes;
    fb_xfer_offer offer;
    int have_offer;
    uint8_t *data;           /* [segments * seg_bytes] */
    uint8_t *held;           /* [segments] */
    uint8_t *scratch;        /* [seg_bytes] */
    uint32_t base;
    double t_offer;
    uint32_t *confusion;     /* [M*M] or NULL */
    uint32_t conf_version;
    xfer_rx_result res;
};

xfer_rx_t *xfer_rx_create(const xfer_rx_config *c)
{
    unsigned sb = c ? xfer_segment_bytes(c->P, c->M) : 0;
    if (c == NULL || sb == 0 || c->dir == NULL || c->dir[0] == '\0' ||
        strlen(c->dir) >= 400) {
        AL_FAIL(AL_EINVAL, "receiving files needs a directory and frames of at least %d bits "
                "(P x log2(M))", 8 * (XFER_SEGMENT_OVERHEAD + 1));
        return NULL;
    }
    if (access(c->dir, W_OK) != 0) {
        AL_FAIL(AL_EIO, "cannot write received files into %s: %s", c->dir, strerror(errno));
        return NULL;
    }
    xfer_rx_t *q = calloc(1, sizeof *q);
    if (q == NULL) {
        AL_FAIL(AL_ENOMEM, "out of memory");
        return NULL;
    }
    q->cfg = *c;
    snprintf(q->dir, sizeof q->dir, "%s", c->dir);
    q->cfg.dir = q->dir;
    q->seg_bytes = sb;
    q->scratch = malloc(sb);
    if (c->M <= XFER_CONFUSION_MAX_M)
        q->confusion = calloc((size_t)c->M * c->M, sizeof(uint32_t));
    if (q->scratch == NULL || (c->M <= XFER_CONFUSION_MAX_M && q->confusion == NULL)) {
        xfer_rx_destroy(&q);
        AL_FAIL(AL_ENOMEM, "out of memory");
        return NULL;
    }
    return q;
}

void xfer_rx_destroy(xfer_rx_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    xfer_rx_t *q = *self_p;
    free(q->data);
    free(q->held);
    free(q->scratch);
    free(q->confusion);
    free(q);
    *self_p = NULL;
}

/* Writes the checked file: temporary name, fsync, rename. */
static int s_write(xfer_rx_t *q)
{
    char tmp[800], path[800];
    snprintf(tmp, sizeof tmp, "%s/.%s.part", q->dir, q->offer.name);
    snprintf(path, sizeof path, "%s/%s", q->dir, q->offer.name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return AL_FAIL(AL_EIO, "cannot create %s: %s", tmp, strerror(errno));
    size_t done = 0;
    while (done < q->offer.size) {
        ssize_t n = write(fd, q->data + done, q->offer.size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return AL_FAIL(AL_EIO, "cannot write %s: %s", tmp, strerror(e));
        }
        done += (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        unlink(tmp);
        return AL_FAIL(AL_EIO, "cannot sync %s: %s", tmp, strerror(errno));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return AL_FAIL(AL_EIO, "cannot rename %s to %s: %s", tmp, path, strerror(e));
    }
    return AL_OK;
}

/* Every segment held: the whole-file check decides. */
static int s_finish(xfer_rx_t *q, double now_s)
{
    q->res.seconds = now_s - q->t_offer;
    uint32_t crc = al_crc32(0, q->data, q->offer.size);
    if (crc != q->offer.crc) {
        q->res.state = FB_XFER_FAILED;
        AL_FAIL(AL_ECRC, "every segment of '%s' arrived but the whole file's CRC-32 is %08x, "
                "the offer's %08x", q->offer.name, crc, q->offer.crc);
        return 1;
    }
    int rc = s_write(q);
    q->res.state = rc < 0 ? FB_XFER_FAILED : FB_XFER_COMPLETE;
    return rc < 0 ? rc : 1;
}

int xfer_rx_offer(xfer_rx_t *q, const fb_xfer_offer *o, double now_s)
{
    if (q->have_offer && o->file_id == q->offer.file_id)
        return 0;
    if (o->size > q->cfg.max_size)
        return AL_FAIL(AL_ERANGE, "offered file '%s' of %llu bytes is above the limit of %llu",
                       o->name, (unsigned long long)o->size, (unsigned long long)q->cfg.max_size);
    if (o->segment_bytes != q->seg_bytes)
        return AL_FAIL(AL_EMISMATCH, "offered segments of %u bytes, frames here carry %u",
                       o->segment_bytes, q->seg_bytes);
    if (o->labels != 0 && o->labels != q->cfg.M)
        return AL_FAIL(AL_EMISMATCH, "offered %u labels for M=%u", o->labels, q->cfg.M);
    size_t n = o->segments ? o->segments : 1;
    uint8_t *data = calloc(n, q->seg_bytes), *held = calloc(n, 1);
    if (data == NULL || held == NULL) {
        free(data);
        free(held);
        return AL_FAIL(AL_ENOMEM, "out of memory for a file of %llu bytes",
                       (unsigned long long)o->size);
    }
    free(q->data);
    free(q->held);
    q->data = data;
    q->held = held;
    q->offer = *o;
    q->have_offer = 1;
    q->base = 0;
    q->t_offer = now_s;
    xfer_rx_result r = {0};
    r.file_id = o->file_id;
    memcpy(r.name, o->name, sizeof r.name);
    r.size = o->size;
    r.segments = o->segments;
    r.state = FB_XFER_RECEIVING;
    r.labelled = o->labels != 0;
    if (q->confusion != NULL) {
        uint32_t total = 0;
        for (size_t i = 0; i < (size_t)q->cfg.M * q->cfg.M; i++)
            total += q->confusion[i];
        unsigned k = 0;
        while ((1u << k) < q->cfg.M)
            k++;
        r.eval_bits = (uint64_t)total * k;
        r.bit_errors_identity = xfer_bit_errors(q->confusion, q->cfg.M, NULL);
        r.bit_errors_labelled =
            xfer_bit_errors(q->confusion, q->cfg.M, o->labels ? o->label : NULL);
    }
    q->res = r;
    if (o->segments == 0) {
        int rc = s_finish(q, now_s);
        return rc < 0 ? rc : 1;
    }
    return 1;
}

int xfer_rx_frame(xfer_rx_t *q, uint64_t whiten_seed, uint32_t seq, const uint32_t *decisions,
                  double now_s)
{
    if (!q->have_offer || q->res.state != FB_XFER_RECEIVING)
        return 0;
    uint32_t s = 0;
    if (xfer_frame_unpack(q->cfg.P, q->cfg.M, whiten_seed, seq, q->offer.file_id, decisions,
                          q->offer.labels ? q->offer.label : NULL, &s, q->scratch) != AL_OK ||
        s >= q->offer.segments) {
        q->res.frames_bad++;
        return 0;
    }
    q->res.frames_ok++;
    if (q->held[s]) {
        q->res.duplicates++;
        return 0;
    }
    memcpy(q->data + (size_t)s * q->seg_bytes, q->scratch, q->seg_bytes);
    q->held[s] = 1;
    q->res.held++;
    while (q->base < q->offer.segments && q->held[q->base])
        q->base++;
    return q->res.held == q->offer.segments ? s_finish(q, now_s) : 0;
}

int xfer_rx_status(const xfer_rx_t *q, fb_xfer_status *out)
{
    if (!q->have_offer)
        return 0;
    memset(out, 0, sizeof *out);
    out->file_id = q->offer.file_id;
    out->state = (uint8_t)q->res.state;
    out->base = q->base;
    out->frames_ok = q->res.frames_ok;
    out->frames_bad = q->res.frames_bad;
    if (q->res.state == FB_XFER_RECEIVING) {
        uint32_t left = q->offer.segments - q->base;
        out->bits = (uint16_t)(left < FB_XFER_WINDOW ? left : FB_XFER_WINDOW);
        for (unsigned i = 1; i < out->bits; i++)
            if (q->held[q->base + i])
                out->bitmap[i / 8] |= (uint8_t)(1u << (i % 8));
    }
    return 1;
}

void xfer_rx_note_eval(xfer_rx_t *q, uint32_t model_version, const uint32_t *labels,
                       const uint32_t *decisions, unsigned P)
{
    if (q == NULL || q->confusion == NULL)
        return;
    /* Only the latest model counts: earlier evaluations measured another
     * constellation. */
    if (model_version != q->conf_version) {
        memset(q->confusion, 0, sizeof(uint32_t) * q->cfg.M * q->cfg.M);
        q->conf_version = model_version;
    }
    for (unsigned i = 0; i < P; i++)
        if (labels[i] < q->cfg.M && decisions[i] < q->cfg.M)
            q->confusion[(size_t)labels[i] * q->cfg.M + decisions[i]]++;
}

const xfer_rx_result *xfer_rx_get_result(const xfer_rx_t *q) { return &q->res; }

/* airlearn — the receiving end of a file transfer.
 *
 * An offer (XFER_OFFER, from the feedback link) announces a file: its
 * name, size, whole-file CRC-32, segment size and the labelling of
 * messages with bits. Each DATA frame's decisions are unpacked
 * (xfer_frame) and, when the segment's CRC holds, stored in memory; the
 * status (XFER_STATUS) acknowledges what is held. When every segment is
 * there the whole file's CRC-32 is checked; only if it holds is the file
 * written, to ".NAME.part" in the directory, synced, and renamed to NAME:
 * a file under its own name is always complete and checked. A file whose
 * check fails is not written (FB_XFER_FAILED). A new offer abandons a
 * file not yet complete.
 * For the bit error rate of a labelling against the identity, the
 * receiver counts (sent, decided) pairs of the EVAL frames of the latest
 * model version (M <= XFER_CONFUSION_MAX_M).
 * Buffers: the file at the offer (at most max_size bytes); frames
 * allocate nothing. One thread at a time per object.
 */
#ifndef XFER_RX_H
#define XFER_RX_H

#include <stddef.h>
#include <stdint.h>

#include "fb_proto.h"

enum { XFER_CONFUSION_MAX_M = 256 };

typedef struct {
    unsigned P, M;           /* as the frames and the model */
    const char *dir;         /* where received files go (must exist) */
    uint64_t max_size;       /* largest file accepted, bytes */
} xfer_rx_config;

typedef struct {
    uint32_t file_id;
    char name[FB_MAX_NAME + 1];
    uint64_t size;
    uint32_t segments, held;
    uint32_t frames_ok;          /* DATA frames with a good CRC, of this file */
    uint32_t frames_bad;         /* DATA frames with a bad CRC (since the offer) */
    uint32_t duplicates;         /* good frames of a segment already held */
    fb_xfer_state state;
    double seconds;              /* offer to the file in place */
    int labelled;
    uint64_t eval_bits;          /* bits of the EVAL messages counted */
    uint64_t bit_errors_identity, bit_errors_labelled;
} xfer_rx_result;

typedef struct xfer_rx xfer_rx_t;

xfer_rx_t *xfer_rx_create(const xfer_rx_config *c);
void xfer_rx_destroy(xfer_rx_t **self_p);

/* 1: a new file accepted; 0: the offer of the current file again; < 0:
 * refused (message set: size, labels or segment size do not fit). */
int xfer_rx_offer(xfer_rx_t *q, const fb_xfer_offer *o, double now_s);

/* A DATA frame's decisions [size: P]. 1 when it completed the file
 * (written, or failed its check: see the result; the message says why),
 * 0 otherwise, < 0 when the file could not be written (message set; the
 * state is FAILED). */
int xfer_rx_frame(xfer_rx_t *q, uint64_t whiten_seed, uint32_t seq, const uint32_t *decisions,
                  double now_s);

/* The status to send; 0 when there is no file, 1 when *out is filled. */
int xfer_rx_status(const xfer_rx_t *q, fb_xfer_status *out);

/* EVAL frame: sent labels and decisions [size: P]. */
void xfer_rx_note_eval(xfer_rx_t *q, uint32_t model_version, const uint32_t *labels,
                       const uint32_t *decisions, unsigned P);

const xfer_rx_result *xfer_rx_get_result(const xfer_rx_t *q);

#endif

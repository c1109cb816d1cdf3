/* airlearn — the sending end of a file transfer (selective repeat).
 *
 * The file is cut into segments of xfer_segment_bytes(P, M), one per
 * DATA frame. Segments go out in order while fewer than `window` of them
 * beyond the first unacknowledged one are open; a segment that the
 * receiver's XFER_STATUS does not acknowledge within the retransmission
 * timeout is sent again (lowest first, before anything new). The timeout
 * follows the measured round trip (twice the longest of the last 32
 * segments acknowledged on their first send, at least rto_ms).
 * The transfer fails, with a message, when a segment has been sent
 * max_sends times unacknowledged, when no segment has been acknowledged
 * for idle_ms, or when the receiver reports its whole-file check failed;
 * it is complete only when the receiver reports the file checked and in
 * place (FB_XFER_COMPLETE). A status whose first missing segment lies
 * below what the receiver had acknowledged (it restarted) puts those
 * segments back in the queue.
 * The caller owns the file data and keeps it alive while the object
 * lives. Buffers sized at create; nothing allocated afterwards.
 * One thread at a time per object.
 */
#ifndef XFER_TX_H
#define XFER_TX_H

#include <stddef.h>
#include <stdint.h>

#include "fb_proto.h"

typedef struct {
    unsigned P, M;           /* messages per frame, messages (a power of two) */
    unsigned window;         /* segments open at most, 1..FB_XFER_WINDOW */
    unsigned rto_ms;         /* floor of the retransmission timeout, >= 1 */
    unsigned max_sends;      /* >= 1 */
    unsigned idle_ms;        /* >= 1 */
} xfer_tx_config;

typedef enum { XFER_SENDING = 0, XFER_DONE = 1, XFER_FAILED = 2 } xfer_outcome;

typedef struct {
    uint64_t frames_sent;        /* DATA frames, first sends and repeats */
    uint64_t retransmissions;    /* repeats */
    uint32_t segments, acked;
    uint32_t rx_frames_ok;       /* the receiver's counts of DATA frames */
    uint32_t rx_frames_bad;      /* with a bad CRC */
    double rtt_ms;               /* smoothed, first sends only */
    unsigned rto_ms;             /* in force */
    int status_seen;             /* the receiver has reported on this file */
    uint64_t status_ms;          /* when it last did */
} xfer_tx_stats;

typedef struct xfer_tx xfer_tx_t;

/*  data [size: size], name (the offer's file name), label [size: M] or
 *  NULL (identity; M must be <= FB_MAX_LABELS for a labelling). */
xfer_tx_t *xfer_tx_create(const xfer_tx_config *c, uint32_t file_id, const char *name,
                          const uint8_t *data, size_t size, const uint16_t *label,
                          uint64_t now_ms);
void xfer_tx_destroy(xfer_tx_t **self_p);

const fb_xfer_offer *xfer_tx_offer(const xfer_tx_t *q);

/* 1 and *segment: send it now (counted as sent at now_ms); 0: nothing
 * to send before the next status or timeout. */
int xfer_tx_next(xfer_tx_t *q, uint64_t now_ms, uint32_t *segment);

/* The messages of segment's DATA frame with header seq; msgs [size: P]. */
void xfer_tx_pack(const xfer_tx_t *q, uint64_t whiten_seed, uint32_t seq, uint32_t segment,
                  uint32_t *msgs);

/* A status from the receiver (of another file: ignored). */
void xfer_tx_on_status(xfer_tx_t *q, const fb_xfer_status *s, uint64_t now_ms);

/* Where the transfer stands; XFER_FAILED sets the error message (why). */
xfer_outcome xfer_tx_check(xfer_tx_t *q, uint64_t now_ms);

const xfer_tx_stats *xfer_tx_get_stats(const xfer_tx_t *q);

#endif

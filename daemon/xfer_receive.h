/* airlearn — `airlearn rx --receive DIR`: the receiver daemon's side of
 * a file transfer over the learned link (xfer_rx does the work).
 *
 * Takes offers from the feedback link and the decisions of DATA frames,
 * logs what happens, and when a file is complete (written, or refused by
 * its whole-file check) writes xfer.json into the state directory:
 * file, bytes, outcome, seconds, goodput, frames with good and bad CRC,
 * duplicates, and the bit error rate of the last evaluation under the
 * identity and under the offered labelling. The daemon sends the status
 * (xfer_rx_status) after each call and every quarter second.
 * Runs on the receiver's processing thread.
 */
#ifndef XFER_RECEIVE_H
#define XFER_RECEIVE_H

#include <stdint.h>

#include "daemon_config.h"
#include "xfer_rx.h"

/* NULL when c has no [xfer] receive directory, or on failure (then *rc
 * is set, with the message). */
xfer_rx_t *xfer_receive_create(const daemon_config *c, int *rc);

/* An XFER_OFFER. log_ms: rate limit of the refusal messages. */
void xfer_receive_offer(xfer_rx_t *x, const daemon_config *c, const fb_xfer_offer *o,
                        uint64_t *log_ms);

/* A DATA frame's decisions [size: P]. */
void xfer_receive_frame(xfer_rx_t *x, const daemon_config *c, uint64_t session_seed,
                        uint32_t seq, const uint32_t *decisions);

#endif

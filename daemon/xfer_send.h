/* airlearn — `airlearn tx --send FILE`: the file over the learned link
 * once training and the final evaluation are done.
 *
 * Reads the file (at most XFER_MAX_FILE bytes), labels the learned
 * constellation with bits (xfer_labelling, for M <= FB_MAX_LABELS; the
 * identity above), offers it on the feedback link (repeated every 0.5 s
 * until the receiver reports on it, and whenever it has been silent for
 * a second: a restarted receiver takes the offer afresh) and sends its segments as DATA
 * frames under selective repeat (xfer_tx) until the receiver reports the
 * file checked and in place, or the transfer fails (bounded by
 * [xfer] max_sends and idle_s). Logs progress; writes xfer.json (file,
 * bytes, seconds, goodput, frames, retransmissions, frame error rate,
 * outcome) into the state directory either way.
 * The transmitter daemon provides the radio and the feedback link through
 * xfer_send_io and hands every XFER_STATUS to *active while it runs.
 * Runs on the daemon's thread.
 */
#ifndef XFER_SEND_H
#define XFER_SEND_H

#include <stdint.h>

#include "daemon_config.h"
#include "xfer_frame.h"
#include "xfer_tx.h"


typedef struct {
    void *user;
    uint32_t (*next_seq)(void *user);                   /* seq of the next frame */
    void (*send_frame)(void *user, const uint32_t *msgs);  /* one DATA frame [P] */
    void (*flush)(void *user);                          /* staged frames to the air */
    void (*poll)(void *user, int timeout_ms);           /* feedback */
    int (*has_peer)(void *user);
    int (*send_offer)(void *user, const fb_xfer_offer *offer);
    xfer_tx_t **active;                                 /* set while running */
} xfer_send_io;

/* table [size: M*2N] the learned constellation. 0 when the receiver has
 * the file, checked; < 0 with the message set otherwise. */
int xfer_send_run(const daemon_config *c, const float *table, uint64_t session_seed,
                  const xfer_send_io *io);

#endif

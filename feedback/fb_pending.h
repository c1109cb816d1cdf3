/* airlearn — the TX's table of frames waiting for their losses.
 *
 * The TX registers every TX_TRAIN frame it sends (seq, model version,
 * message count) and keeps that frame's perturbations in the slot the
 * table returns. A loss report is used only if it matches an open slot:
 * same seq, same model version, same count, before the deadline, and no
 * more than max_staleness model updates old. A matched slot is closed (a
 * second report for it is a duplicate); a slot past its deadline is closed
 * by fb_pending_expire; registering into a full table evicts the oldest
 * open frame. Fixed capacity, no allocation after create. Socket-free.
 * One thread at a time.
 */
#ifndef FB_PENDING_H
#define FB_PENDING_H

#include <stdint.h>

#include "fb_proto.h"

typedef struct fb_pending fb_pending_t;

/* capacity 1..65536 frames; timeout_ms >= 1. */
fb_pending_t *fb_pending_create(unsigned capacity, uint32_t max_staleness, uint64_t timeout_ms);
void fb_pending_destroy(fb_pending_t **self_p);

/* Deadline of the frames registered from now on; timeout_ms >= 1. */
void fb_pending_set_timeout(fb_pending_t *q, uint64_t timeout_ms);

/* Registers a frame sent at now_ms; returns its slot (0..capacity-1). */
unsigned fb_pending_add(fb_pending_t *q, uint32_t seq, uint32_t model_version, uint16_t count,
                        uint64_t now_ms);

/* Matches a decoded loss report against the open frames. FB_OK with
 * *slot set (the slot is closed), or why it was dropped:
 * FB_R_DUPLICATE, FB_R_UNKNOWN_FRAME, FB_R_STALE, FB_R_TIMEOUT,
 * FB_R_MODEL_VERSION, FB_R_COUNT. */
fb_reason fb_pending_match(fb_pending_t *q, const fb_losses *l, uint32_t current_version,
                           uint64_t now_ms, unsigned *slot);

/* Closes open frames past their deadline; returns how many it closed. */
unsigned fb_pending_expire(fb_pending_t *q, uint64_t now_ms);

unsigned fb_pending_open_count(const fb_pending_t *q);
/* Frames closed without losses: evicted from a full table or expired. */
uint64_t fb_pending_lost(const fb_pending_t *q);
unsigned fb_pending_capacity(const fb_pending_t *q);

/* Forget every frame (a new session). */
void fb_pending_reset(fb_pending_t *q);

#endif

#include "fb_pending.h"

#include "al_error.h"

#include <stdlib.h>
#include <string.h>

typedef enum { SLOT_FREE = 0, SLOT_OPEN, SLOT_DONE } s_state;

typedef struct {
    s_state state;
    uint32_t seq;
    uint32_t model_version;
    uint16_t count;
    uint64_t deadline_ms;
} s_slot;

struct fb_pending {
    unsigned capacity;
    uint32_t max_staleness;   /* model updates a frame may lag */
    uint64_t timeout_ms;      /* from sending to the last useful report */
    unsigned next;            /* slot the next frame goes into (ring) */
    uint64_t lost;            /* closed without losses */
    s_slot *slots;            /* [capacity] */
};

fb_pending_t *fb_pending_create(unsigned capacity, uint32_t max_staleness, uint64_t timeout_ms)
{
    if (capacity == 0 || capacity > 65536 || timeout_ms == 0) {
        AL_FAIL(AL_EINVAL, "capacity=%u not in 1..65536 or timeout_ms=0", capacity);
        return NULL;
    }
    fb_pending_t *q = calloc(1, sizeof *q);
    if (q == NULL || (q->slots = calloc(capacity, sizeof *q->slots)) == NULL) {
        free(q);
        AL_FAIL(AL_ENOMEM, "no memory for %u pending frames", capacity);
        return NULL;
    }
    q->capacity = capacity;
    q->max_staleness = max_staleness;
    q->timeout_ms = timeout_ms;
    return q;
}

void fb_pending_destroy(fb_pending_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    free((*self_p)->slots);
    free(*self_p);
    *self_p = NULL;
}

void fb_pending_set_timeout(fb_pending_t *q, uint64_t timeout_ms)
{
    q->timeout_ms = timeout_ms ? timeout_ms : 1;
}

unsigned fb_pending_add(fb_pending_t *q, uint32_t seq, uint32_t model_version, uint16_t count,
                        uint64_t now_ms)
{
    /* Slots are used in sending order, so the ring position holds the
     * oldest frame: evicting it is evicting the oldest. */
    const unsigned slot = q->next;
    q->next = (q->next + 1) % q->capacity;
    if (q->slots[slot].state == SLOT_OPEN)
        q->lost++;
    q->slots[slot] = (s_slot){SLOT_OPEN, seq, model_version, count, now_ms + q->timeout_ms};
    return slot;
}

fb_reason fb_pending_match(fb_pending_t *q, const fb_losses *l, uint32_t current_version,
                           uint64_t now_ms, unsigned *slot)
{
    int done = 0;
    for (unsigned i = 0; i < q->capacity; i++) {
        s_slot *s = &q->slots[i];
        if (s->state == SLOT_FREE || s->seq != l->seq)
            continue;
        if (s->state == SLOT_DONE) {
            done = 1;
            continue;
        }
        if (l->model_version != s->model_version)
            return FB_R_MODEL_VERSION;
        if (l->count != s->count)
            return FB_R_COUNT;
        if (now_ms > s->deadline_ms) {
            s->state = SLOT_DONE;
            q->lost++;
            return FB_R_TIMEOUT;
        }
        if (current_version - s->model_version > q->max_staleness) {
            s->state = SLOT_DONE;
            q->lost++;
            return FB_R_STALE;
        }
        s->state = SLOT_DONE;
        *slot = i;
        return FB_OK;
    }
    return done ? FB_R_DUPLICATE : FB_R_UNKNOWN_FRAME;
}

unsigned fb_pending_expire(fb_pending_t *q, uint64_t now_ms)
{
    unsigned n = 0;
    for (unsigned i = 0; i < q->capacity; i++) {
        if (q->slots[i].state == SLOT_OPEN && now_ms > q->slots[i].deadline_ms) {
            q->slots[i].state = SLOT_DONE;
            n++;
        }
    }
    q->lost += n;
    return n;
}

unsigned fb_pending_open_count(const fb_pending_t *q)
{
    unsigned n = 0;
    for (unsigned i = 0; i < q->capacity; i++)
        n += q->slots[i].state == SLOT_OPEN;
    return n;
}

uint64_t fb_pending_lost(const fb_pending_t *q) { return q->lost; }
unsigned fb_pending_capacity(const fb_pending_t *q) { return q->capacity; }

void fb_pending_reset(fb_pending_t *q)
{
    memset(q->slots, 0, sizeof *q->slots * q->capacity);
    q->next = 0;
}

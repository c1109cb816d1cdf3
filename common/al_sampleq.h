/* airlearn — a queue of sample blocks from a radio-reading thread to a
 * processing thread (single producer, single consumer, lock-free).
 *
 * The reader never waits: when the queue is full it drops the block and
 * marks the next one it queues with `gap`, so the consumer resets its
 * receiver (the frames that straddled the hole are lost whole) and the
 * radio is never blocked by slow processing. All blocks are allocated and
 * touched at create.
 */
#ifndef AL_SAMPLEQ_H
#define AL_SAMPLEQ_H

#include <complex.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    float complex *samples;   /* [capacity of a block] */
    size_t count;
    int gap;                  /* samples were lost before this block */
} al_sampleq_block;

typedef struct al_sampleq_s al_sampleq_t;

al_sampleq_t *al_sampleq_create(unsigned blocks, size_t block_len);
void al_sampleq_destroy(al_sampleq_t **self_p);

/* Producer: a free block to fill, or NULL when full (then call
 * al_sampleq_drop()). */
al_sampleq_block *al_sampleq_write_begin(al_sampleq_t *q);
void al_sampleq_write_end(al_sampleq_t *q);
void al_sampleq_drop(al_sampleq_t *q, size_t samples);

/* Consumer: the oldest filled block or NULL if none within timeout_ms. */
al_sampleq_block *al_sampleq_read_begin(al_sampleq_t *q, int timeout_ms);
void al_sampleq_read_end(al_sampleq_t *q);

size_t al_sampleq_block_len(const al_sampleq_t *q);
uint64_t al_sampleq_dropped(const al_sampleq_t *q);   /* samples */

#endif

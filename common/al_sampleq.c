#include "al_sampleq.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

struct al_sampleq_s {
    al_sampleq_block *blocks;
    unsigned n;
    size_t block_len;
    _Atomic unsigned head;    /* next block to read */
    _Atomic unsigned tail;    /* next block to write */
    int pending_gap;          /* producer only */
    _Atomic uint64_t dropped;
};

al_sampleq_t *al_sampleq_create(unsigned blocks, size_t block_len)
{
    if (blocks < 2 || block_len == 0)
        return NULL;
    al_sampleq_t *q = calloc(1, sizeof *q);
    if (q == NULL)
        return NULL;
    q->n = blocks;
    q->block_len = block_len;
    q->blocks = calloc(blocks, sizeof *q->blocks);
    if (q->blocks == NULL) {
        free(q);
        return NULL;
    }
    for (unsigned i = 0; i < blocks; i++) {
        q->blocks[i].samples = malloc(block_len * sizeof(float complex));
        if (q->blocks[i].samples == NULL) {
            al_sampleq_destroy(&q);
            return NULL;
        }
        /* Touch every page now: no page faults on the radio thread, and a
         * resident size that does not creep up as blocks fill further.
         * Volatile stores: a plain memset after malloc becomes calloc,
         * which touches nothing. */
        volatile unsigned char *page = (volatile unsigned char *)q->blocks[i].samples;
        for (size_t off = 0; off < block_len * sizeof(float complex); off += 4096)
            page[off] = 0;
    }
    return q;
}

void al_sampleq_destroy(al_sampleq_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    al_sampleq_t *q = *self_p;
    *self_p = NULL;
    if (q->blocks)
        for (unsigned i = 0; i < q->n; i++)
            free(q->blocks[i].samples);
    free(q->blocks);
    free(q);
}

al_sampleq_block *al_sampleq_write_begin(al_sampleq_t *q)
{
    unsigned tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    unsigned head = atomic_load_explicit(&q->head, memory_order_acquire);
    if (tail - head >= q->n)
        return NULL;
    al_sampleq_block *b = &q->blocks[tail % q->n];
    b->count = 0;
    b->gap = q->pending_gap;
    return b;
}

void al_sampleq_write_end(al_sampleq_t *q)
{
    q->pending_gap = 0;
    atomic_fetch_add_explicit(&q->tail, 1, memory_order_release);
}

void al_sampleq_drop(al_sampleq_t *q, size_t samples)
{
    q->pending_gap = 1;
    atomic_fetch_add_explicit(&q->dropped, samples, memory_order_relaxed);
}

al_sampleq_block *al_sampleq_read_begin(al_sampleq_t *q, int timeout_ms)
{
    for (int waited = 0;; waited++) {
        unsigned head = atomic_load_explicit(&q->head, memory_order_relaxed);
        unsigned tail = atomic_load_explicit(&q->tail, memory_order_acquire);
        if (tail != head)
            return &q->blocks[head % q->n];
        if (waited >= timeout_ms)
            return NULL;
        /* A millisecond of latency is nothing next to a frame. */
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
}

void al_sampleq_read_end(al_sampleq_t *q)
{
    atomic_fetch_add_explicit(&q->head, 1, memory_order_release);
}

size_t al_sampleq_block_len(const al_sampleq_t *q)
{
    return q->block_len;
}

uint64_t al_sampleq_dropped(const al_sampleq_t *q)
{
    return atomic_load_explicit(&((al_sampleq_t *)q)->dropped, memory_order_relaxed);
}

#include "al_evalmix.h"

#include "al_error.h"

#include <stdlib.h>
#include <string.h>

struct al_evalmix {
    unsigned M, N, P;
    al_qam_t *qam;           /* NULL: no baseline, every slot learned */
    unsigned learned;
    uint32_t *labels;        /* [learned] */
    float *symbols;          /* [learned * 2N] */
};

al_evalmix_t *al_evalmix_create(unsigned M, unsigned N, unsigned P)
{
    if (M < 2 || N == 0 || P == 0) {
        AL_FAIL(AL_EINVAL, "M=%u, N=%u, P=%u: need M >= 2, N >= 1, P >= 1", M, N, P);
        return NULL;
    }
    al_evalmix_t *q = calloc(1, sizeof *q);
    if (q == NULL) {
        AL_FAIL(AL_ENOMEM, "no memory for the EVAL payload");
        return NULL;
    }
    q->M = M;
    q->N = N;
    q->P = P;
    const unsigned bits = al_qam_bits_for_rate(M, N);
    if (bits > 0 && (q->qam = al_qam_create(bits, N)) == NULL) {
        al_evalmix_destroy(&q);
        return NULL;
    }
    q->learned = q->qam ? (P + 1) / 2 : P;
    q->labels = malloc(sizeof(uint32_t) * q->learned);
    q->symbols = malloc(sizeof(float) * 2 * N * q->learned);
    if (q->labels == NULL || q->symbols == NULL) {
        AL_FAIL(AL_ENOMEM, "no memory for %u learned messages", q->learned);
        al_evalmix_destroy(&q);
    }
    return q;
}

void al_evalmix_destroy(al_evalmix_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    al_evalmix_t *q = *self_p;
    al_qam_destroy(&q->qam);
    free(q->labels);
    free(q->symbols);
    free(q);
    *self_p = NULL;
}

const al_qam_t *al_evalmix_baseline(const al_evalmix_t *q) { return q->qam; }
unsigned al_evalmix_learned_count(const al_evalmix_t *q) { return q->learned; }
unsigned al_evalmix_baseline_count(const al_evalmix_t *q) { return q->P - q->learned; }

/* Slot of learned message i. */
static unsigned s_learned_slot(const al_evalmix_t *q, unsigned i)
{
    return q->qam ? 2 * i : i;
}

const uint32_t *al_evalmix_learned_labels(al_evalmix_t *q, const uint32_t *labels)
{
    for (unsigned i = 0; i < q->learned; i++)
        q->labels[i] = labels[s_learned_slot(q, i)];
    return q->labels;
}

void al_evalmix_compose(const al_evalmix_t *q, const uint32_t *labels, float *payload)
{
    if (q->qam == NULL)
        return;
    const size_t row = 2 * (size_t)q->N;
    /* From the last learned message down: slot 2i >= i, so a row moves
     * only onto rows already moved. */
    for (unsigned i = q->learned; i-- > 1;)
        memmove(payload + 2 * i * row, payload + i * row, sizeof(float) * row);
    for (unsigned s = 1; s < q->P; s += 2)
        al_qam_encode(q->qam, &labels[s], 1, payload + s * row);
}

const float *al_evalmix_learned_symbols(al_evalmix_t *q, const float *payload)
{
    const size_t row = 2 * (size_t)q->N;
    for (unsigned i = 0; i < q->learned; i++)
        memcpy(q->symbols + i * row, payload + s_learned_slot(q, i) * row, sizeof(float) * row);
    return q->symbols;
}

unsigned al_evalmix_baseline_errors(const al_evalmix_t *q, const float *payload,
                                    const uint32_t *labels)
{
    if (q->qam == NULL)
        return 0;
    const size_t row = 2 * (size_t)q->N;
    unsigned errors = 0;
    for (unsigned s = 1; s < q->P; s += 2) {
        uint32_t d;
        al_qam_decide(q->qam, payload + s * row, 1, &d);
        errors += d != labels[s];
    }
    return errors;
}

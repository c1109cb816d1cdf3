#include "al_embedding.h"
#include "al_error.h"

#include <stdlib.h>
#include <string.h>

struct al_embedding {
    unsigned rows;        /* number of table rows (M) */
    unsigned d;           /* row width */
    al_act act;           /* activation after the bias */
    unsigned max_batch;   /* largest batch the scratch holds */
    al_dense_params p;    /* parameter views, owned by the caller */
    float *dz;            /* activation gradient scratch [max_batch*d] */
};

al_embedding_t *al_embedding_create(unsigned rows, unsigned d, al_act act,
                                    unsigned max_batch, al_dense_params params)
{
    if (rows == 0 || d == 0 || max_batch == 0) {
        AL_FAIL(AL_EINVAL, "rows=%u, d=%u, max_batch=%u must all be >= 1", rows, d, max_batch);
        return NULL;
    }
    if (act != AL_ACT_LINEAR && act != AL_ACT_RELU && act != AL_ACT_TANH) {
        AL_FAIL(AL_EINVAL, "unknown activation %d", (int)act);
        return NULL;
    }
    if (!params.W || !params.b || !params.dW || !params.db) {
        AL_FAIL(AL_EINVAL, "parameter views W, b, dW, db must all be given");
        return NULL;
    }
    al_embedding_t *q = calloc(1, sizeof *q);
    if (q == NULL) {
        AL_FAIL(AL_ENOMEM, "no memory for the layer");
        return NULL;
    }
    q->dz = malloc(sizeof(float) * (size_t)max_batch * d);
    if (q->dz == NULL) {
        free(q);
        AL_FAIL(AL_ENOMEM, "no memory for a %u x %u scratch buffer", max_batch, d);
        return NULL;
    }
    q->rows = rows;
    q->d = d;
    q->act = act;
    q->max_batch = max_batch;
    q->p = params;
    return q;
}

void al_embedding_destroy(al_embedding_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    free((*self_p)->dz);
    free(*self_p);
    *self_p = NULL;
}

static int s_check(const al_embedding_t *q, const uint32_t *idx, unsigned B,
                   const char *where)
{
    if (B == 0 || B > q->max_batch)
        return al_error_set(AL_EINVAL, where, "batch %u not in 1..%u", B, q->max_batch);
    for (unsigned r = 0; r < B; r++)
        if (idx[r] >= q->rows)
            return al_error_set(AL_ERANGE, where, "index %u at row %u >= %u rows",
                                idx[r], r, q->rows);
    return AL_OK;
}

int al_embedding_forward(al_embedding_t *q, const uint32_t *idx, unsigned B, float *y)
{
    int rc = s_check(q, idx, B, __func__);
    if (rc < 0)
        return rc;
    const unsigned d = q->d;
    for (unsigned r = 0; r < B; r++) {
        const float *w = q->p.W + (size_t)idx[r] * d;
        float *out = y + (size_t)r * d;
        for (unsigned j = 0; j < d; j++)
            out[j] = w[j] + q->p.b[j];
    }
    al_act_forward(q->act, y, (size_t)B * d);
    return AL_OK;
}

int al_embedding_backward(al_embedding_t *q, const uint32_t *idx, const float *y,
                          const float *dy, unsigned B)
{
    int rc = s_check(q, idx, B, __func__);
    if (rc < 0)
        return rc;
    const unsigned d = q->d;
    const float *dz = al_act_backward(q->act, y, dy, q->dz, (size_t)B * d);
    for (unsigned r = 0; r < B; r++) {
        const float *g = dz + (size_t)r * d;
        float *dw = q->p.dW + (size_t)idx[r] * d;
        for (unsigned j = 0; j < d; j++) {
            dw[j] += g[j];
            q->p.db[j] += g[j];
        }
    }
    return AL_OK;
}

unsigned al_embedding_rows(const al_embedding_t *q) { return q->rows; }
unsigned al_embedding_dim(const al_embedding_t *q) { return q->d; }

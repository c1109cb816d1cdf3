#include "al_embedding.h"
#include "al_error.h"
#include "al_layer_core.h"

#include <stdlib.h>
#include <string.h>

struct al_embedding {
    al_layer_core c;  /* n_in = table rows, n_out = row width */
};

al_embedding_t *al_embedding_create(unsigned rows, unsigned d, al_act act,
                                    unsigned max_batch, al_dense_params params)
{
    al_embedding_t *q = calloc(1, sizeof *q);
    if (q == NULL) {
        AL_FAIL(AL_ENOMEM, "no memory for the layer");
        return NULL;
    }
    if (al_layer_core_init(&q->c, __func__, rows, d, act, max_batch, params) < 0) {
        free(q);
        return NULL;
    }
    return q;
}

void al_embedding_destroy(al_embedding_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    al_layer_core_free(&(*self_p)->c);
    free(*self_p);
    *self_p = NULL;
}

static int s_check(const al_embedding_t *q, const uint32_t *idx, unsigned B,
                   const char *where)
{
    int rc = al_layer_core_check_batch(&q->c, B, where);
    if (rc < 0)
        return rc;
    for (unsigned r = 0; r < B; r++)
        if (idx[r] >= q->c.n_in)
            return al_error_set(AL_ERANGE, where, "index %u at row %u >= %u rows",
                                idx[r], r, q->c.n_in);
    return AL_OK;
}

int al_embedding_forward(al_embedding_t *q, const uint32_t *idx, unsigned B, float *y)
{
    int rc = s_check(q, idx, B, __func__);
    if (rc < 0)
        return rc;
    const unsigned d = q->c.n_out;
    for (unsigned r = 0; r < B; r++) {
        const float *w = q->c.p.W + (size_t)idx[r] * d;
        float *out = y + (size_t)r * d;
        for (unsigned j = 0; j < d; j++)
            out[j] = w[j] + q->c.p.b[j];
    }
    al_act_forward(q->c.act, y, (size_t)B * d);
    return AL_OK;
}

int al_embedding_backward(al_embedding_t *q, const uint32_t *idx, const float *y,
                          const float *dy, unsigned B)
{
    int rc = s_check(q, idx, B, __func__);
    if (rc < 0)
        return rc;
    const unsigned d = q->c.n_out;
    const float *dz = al_act_backward(q->c.act, y, dy, q->c.dz, (size_t)B * d);
    for (unsigned r = 0; r < B; r++) {
        const float *g = dz + (size_t)r * d;
        float *dw = q->c.p.dW + (size_t)idx[r] * d;
        for (unsigned j = 0; j < d; j++) {
            dw[j] += g[j];
            q->c.p.db[j] += g[j];
        }
    }
    return AL_OK;
}

unsigned al_embedding_rows(const al_embedding_t *q) { return q->c.n_in; }
unsigned al_embedding_dim(const al_embedding_t *q) { return q->c.n_out; }

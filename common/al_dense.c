#include "al_dense.h"
#include "al_error.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct al_dense {
    unsigned n_in;         /* input width */
    unsigned n_out;        /* output width */
    al_act act;            /* activation applied after the bias */
    unsigned max_batch;    /* largest batch the scratch buffer holds */
    al_dense_params p;     /* parameter views, owned by the caller */
    float *dz;             /* pre-activation gradient [max_batch*n_out] */
};

const char *al_act_name(al_act act)
{
    switch (act) {
    case AL_ACT_LINEAR: return "linear";
    case AL_ACT_RELU: return "relu";
    case AL_ACT_TANH: return "tanh";
    }
    return "unknown";
}

void al_act_forward(al_act act, float *y, size_t n)
{
    switch (act) {
    case AL_ACT_RELU:
        /* Written as a select (not fmaxf, a libm call with NaN rules) so
         * that -O3 emits a vector max instead of a mispredicted branch. */
        for (size_t i = 0; i < n; i++) {
            const float v = y[i];
            y[i] = v > 0.0f ? v : 0.0f;
        }
        break;
    case AL_ACT_TANH:
        for (size_t i = 0; i < n; i++)
            y[i] = tanhf(y[i]);
        break;
    case AL_ACT_LINEAR:
        break;
    }
}

const float *al_act_backward(al_act act, const float *y, const float *dy,
                             float *dz, size_t n)
{
    switch (act) {
    case AL_ACT_RELU:
        for (size_t i = 0; i < n; i++)
            dz[i] = y[i] > 0.0f ? dy[i] : 0.0f;
        return dz;
    case AL_ACT_TANH:
        for (size_t i = 0; i < n; i++)
            dz[i] = dy[i] * (1.0f - y[i] * y[i]);
        return dz;
    case AL_ACT_LINEAR:
        break;
    }
    return dy;
}

al_dense_t *al_dense_create(unsigned n_in, unsigned n_out, al_act act,
                            unsigned max_batch, al_dense_params params)
{
    if (n_in == 0 || n_out == 0 || max_batch == 0) {
        AL_FAIL(AL_EINVAL, "n_in=%u, n_out=%u, max_batch=%u must all be >= 1",
                n_in, n_out, max_batch);
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
    if ((size_t)max_batch * n_out > ((size_t)1 << 31)) {
        AL_FAIL(AL_EINVAL, "max_batch*n_out = %zu is too large",
                (size_t)max_batch * n_out);
        return NULL;
    }
    al_dense_t *q = calloc(1, sizeof *q);
    if (q == NULL) {
        AL_FAIL(AL_ENOMEM, "no memory for the layer");
        return NULL;
    }
    q->dz = malloc(sizeof(float) * max_batch * n_out);
    if (q->dz == NULL) {
        free(q);
        AL_FAIL(AL_ENOMEM, "no memory for a %u x %u scratch buffer", max_batch, n_out);
        return NULL;
    }
    q->n_in = n_in;
    q->n_out = n_out;
    q->act = act;
    q->max_batch = max_batch;
    q->p = params;
    return q;
}

void al_dense_destroy(al_dense_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    free((*self_p)->dz);
    free(*self_p);
    *self_p = NULL;
}

static int s_check_batch(const al_dense_t *q, unsigned B, const char *where)
{
    if (B == 0 || B > q->max_batch)
        return al_error_set(AL_EINVAL, where, "batch %u not in 1..%u", B, q->max_batch);
    return AL_OK;
}

int al_dense_forward(al_dense_t *q, const float *x, unsigned B, float *y)
{
    int rc = s_check_batch(q, B, __func__);
    if (rc < 0)
        return rc;
    const unsigned n = q->n_out;
    /* Bias first, then accumulate X W on top (beta = 1): one pass less
     * than adding the bias afterwards. */
    for (unsigned r = 0; r < B; r++)
        memcpy(y + (size_t)r * n, q->p.b, sizeof(float) * n);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)n,
                (int)q->n_in, 1.0f, x, (int)q->n_in, q->p.W, (int)n, 1.0f, y, (int)n);
    al_act_forward(q->act, y, (size_t)B * n);
    return AL_OK;
}

int al_dense_backward(al_dense_t *q, const float *x, const float *y,
                      const float *dy, unsigned B, float *dx)
{
    int rc = s_check_batch(q, B, __func__);
    if (rc < 0)
        return rc;
    const unsigned n = q->n_out;
    const float *dz = al_act_backward(q->act, y, dy, q->dz, (size_t)B * n);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)q->n_in, (int)n,
                (int)B, 1.0f, x, (int)q->n_in, dz, (int)n, 1.0f, q->p.dW, (int)n);
    for (unsigned r = 0; r < B; r++) {
        const float *row = dz + (size_t)r * n;
        for (unsigned j = 0; j < n; j++)
            q->p.db[j] += row[j];
    }
    if (dx != NULL)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)q->n_in,
                    (int)n, 1.0f, dz, (int)n, q->p.W, (int)n, 0.0f, dx, (int)q->n_in);
    return AL_OK;
}

unsigned al_dense_n_in(const al_dense_t *q) { return q->n_in; }
unsigned al_dense_n_out(const al_dense_t *q) { return q->n_out; }
al_act al_dense_act(const al_dense_t *q) { return q->act; }
al_dense_params al_dense_get_params(const al_dense_t *q) { return q->p; }

double al_dense_forward_flops(const al_dense_t *q, unsigned B)
{
    return 2.0 * B * q->n_in * q->n_out;
}

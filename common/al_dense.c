#include "al_dense.h"
#include "al_error.h"
#include "al_layer_core.h"
#include "al_simd.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct al_dense {
    al_layer_core c;
};

/* Layers with at most this many inputs skip sgemm (s_forward_narrow). */
static const unsigned s_narrow_max = 16;

const char *al_act_name(al_act act)
{
    switch (act) {
    case AL_ACT_LINEAR: return "linear";
    case AL_ACT_RELU: return "relu";
    case AL_ACT_TANH: return "tanh";
    }
    return "unknown";
}

AL_VECTOR_CLONES
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

/* dz = dy * act'(y) for one row, also added into db when db is not NULL.
 * Both loads unconditional, so that the ReLU's select vectorises (a
 * load under the condition kept it a mispredicted branch, 18 % of a
 * training step). */
AL_SIMD_INLINE void
s_act_backward_row(al_act act, const float *restrict y, const float *restrict dy,
                   float *restrict dz, float *restrict db, size_t n)
{
    switch (act) {
    case AL_ACT_RELU:
        for (size_t i = 0; i < n; i++) {
            const float g = dy[i];
            dz[i] = y[i] > 0.0f ? g : 0.0f;
        }
        break;
    case AL_ACT_TANH:
        for (size_t i = 0; i < n; i++)
            dz[i] = dy[i] * (1.0f - y[i] * y[i]);
        break;
    case AL_ACT_LINEAR:
        break;
    }
    if (db != NULL) {
        const float *restrict d = act == AL_ACT_LINEAR ? dy : dz;
        for (size_t i = 0; i < n; i++)
            db[i] += d[i];
    }
}

AL_VECTOR_CLONES
const float *al_act_backward(al_act act, const float *y, const float *dy,
                             float *dz, size_t n)
{
    if (act == AL_ACT_LINEAR)
        return dy;
    s_act_backward_row(act, y, dy, dz, NULL, n);
    return dz;
}

/* The activation gradient and the bias gradient in one pass over the rows
 * (db [size: n], accumulated): returns dz, or dy for a linear layer. */
AL_VECTOR_CLONES
static const float *s_act_backward_bias(al_act act, const float *y, const float *dy, float *dz,
                                        unsigned B, unsigned n, float *db)
{
    for (unsigned r = 0; r < B; r++) {
        const size_t o = (size_t)r * n;
        s_act_backward_row(act, y + o, dy + o, dz + o, db, n);
    }
    return act == AL_ACT_LINEAR ? dy : dz;
}

/* Y = act(X W + b) without sgemm, for few inputs (the receiver's first
 * layer has 2N = 8): per output row, 16 columns at a time in a register,
 * bias, the n_in multiply-adds and ReLU in one pass, the row written
 * once. sgemm at such a K reads and writes each output several times
 * (bias copy, product, activation) for a handful of multiply-adds. */
AL_VECTOR_CLONES
static void s_forward_narrow(const al_layer_core *c, const float *x, unsigned B, float *y)
{
    const unsigned n_in = c->n_in, n = c->n_out;
    const unsigned full = n / AL_VF_LANES * AL_VF_LANES;
    const float *W = c->p.W, *b = c->p.b;
    const int relu = c->act == AL_ACT_RELU;
    const al_vf zero = {0};
    for (unsigned r = 0; r < B; r++) {
        const float *xr = x + (size_t)r * n_in;
        float *yr = y + (size_t)r * n;
        for (unsigned j = 0; j < full; j += AL_VF_LANES) {
            al_vf acc, w;
            al_vf_load(&acc, b + j);
            for (unsigned k = 0; k < n_in; k++) {
                al_vf_load(&w, W + (size_t)k * n + j);
                acc += xr[k] * w;
            }
            if (relu)
                al_vf_max(&acc, &zero);
            al_vf_store(yr + j, &acc);
        }
        for (unsigned j = full; j < n; j++) {
            float acc = b[j];
            for (unsigned k = 0; k < n_in; k++)
                acc += xr[k] * W[(size_t)k * n + j];
            yr[j] = relu && !(acc > 0.0f) ? 0.0f : acc;
        }
    }
    if (c->act == AL_ACT_TANH)
        al_act_forward(c->act, y, (size_t)B * n);
}

int al_layer_core_init(al_layer_core *c, const char *where, unsigned n_in, unsigned n_out,
                       al_act act, unsigned max_batch, al_dense_params params)
{
    if (n_in == 0 || n_out == 0 || max_batch == 0)
        return al_error_set(AL_EINVAL, where, "n_in=%u, n_out=%u, max_batch=%u must all be >= 1",
                            n_in, n_out, max_batch);
    if (act != AL_ACT_LINEAR && act != AL_ACT_RELU && act != AL_ACT_TANH)
        return al_error_set(AL_EINVAL, where, "unknown activation %d", (int)act);
    if (!params.W || !params.b || !params.dW || !params.db)
        return al_error_set(AL_EINVAL, where, "parameter views W, b, dW, db must all be given");
    if ((size_t)max_batch * n_out > ((size_t)1 << 31))
        return al_error_set(AL_EINVAL, where, "max_batch*n_out = %zu is too large",
                            (size_t)max_batch * n_out);
    c->dz = malloc(sizeof(float) * (size_t)max_batch * n_out);
    if (c->dz == NULL)
        return al_error_set(AL_ENOMEM, where, "no memory for a %u x %u scratch buffer",
                            max_batch, n_out);
    c->n_in = n_in;
    c->n_out = n_out;
    c->act = act;
    c->max_batch = max_batch;
    c->p = params;
    return AL_OK;
}

void al_layer_core_free(al_layer_core *c)
{
    free(c->dz);
    c->dz = NULL;
}

int al_layer_core_check_batch(const al_layer_core *c, unsigned B, const char *where)
{
    if (B == 0 || B > c->max_batch)
        return al_error_set(AL_EINVAL, where, "batch %u not in 1..%u", B, c->max_batch);
    return AL_OK;
}

al_dense_t *al_dense_create(unsigned n_in, unsigned n_out, al_act act,
                            unsigned max_batch, al_dense_params params)
{
    al_dense_t *q = calloc(1, sizeof *q);
    if (q == NULL) {
        AL_FAIL(AL_ENOMEM, "no memory for the layer");
        return NULL;
    }
    if (al_layer_core_init(&q->c, __func__, n_in, n_out, act, max_batch, params) < 0) {
        free(q);
        return NULL;
    }
    return q;
}

void al_dense_destroy(al_dense_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    al_layer_core_free(&(*self_p)->c);
    free(*self_p);
    *self_p = NULL;
}

int al_dense_forward(al_dense_t *q, const float *x, unsigned B, float *y)
{
    int rc = al_layer_core_check_batch(&q->c, B, __func__);
    if (rc < 0)
        return rc;
    const unsigned n = q->c.n_out;
    if (q->c.n_in <= s_narrow_max) {
        s_forward_narrow(&q->c, x, B, y);
        return AL_OK;
    }
    /* Bias first, then accumulate X W on top (beta = 1): one pass less
     * than adding the bias afterwards. */
    for (unsigned r = 0; r < B; r++)
        memcpy(y + (size_t)r * n, q->c.p.b, sizeof(float) * n);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)n,
                (int)q->c.n_in, 1.0f, x, (int)q->c.n_in, q->c.p.W, (int)n, 1.0f, y, (int)n);
    al_act_forward(q->c.act, y, (size_t)B * n);
    return AL_OK;
}

int al_dense_backward(al_dense_t *q, const float *x, const float *y,
                      const float *dy, unsigned B, float *dx)
{
    int rc = al_layer_core_check_batch(&q->c, B, __func__);
    if (rc < 0)
        return rc;
    const unsigned n = q->c.n_out;
    const float *dz = s_act_backward_bias(q->c.act, y, dy, q->c.dz, B, n, q->c.p.db);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)q->c.n_in, (int)n,
                (int)B, 1.0f, x, (int)q->c.n_in, dz, (int)n, 1.0f, q->c.p.dW, (int)n);
    if (dx != NULL)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)q->c.n_in,
                    (int)n, 1.0f, dz, (int)n, q->c.p.W, (int)n, 0.0f, dx, (int)q->c.n_in);
    return AL_OK;
}

unsigned al_dense_n_in(const al_dense_t *q) { return q->c.n_in; }
unsigned al_dense_n_out(const al_dense_t *q) { return q->c.n_out; }
al_act al_dense_act(const al_dense_t *q) { return q->c.act; }
al_dense_params al_dense_get_params(const al_dense_t *q) { return q->c.p; }

double al_dense_forward_flops(const al_dense_t *q, unsigned B)
{
    return 2.0 * B * q->c.n_in * q->c.n_out;
}

double al_dense_backward_flops(const al_dense_t *q, unsigned B, int with_dx)
{
    return (with_dx ? 2 : 1) * al_dense_forward_flops(q, B);
}

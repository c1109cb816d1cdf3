#include "tx_net.h"
#include "al_error.h"
#include "al_names.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tx_net {
    tx_net_config cfg;
    al_model_t *model;      /* [embedding M->H relu, dense H->2N linear] */
    al_powernorm_t *norm;   /* over the whole table */
    uint32_t *iota;         /* 0..M-1, the embedding's row indices [M] */
    float *hidden;          /* embedding output [M*H] */
    float *raw;             /* dense output before normalisation [M*2N] */
    float *table;           /* normalised symbol table [M*2N] */
    float *dtable;          /* dL/dtable [M*2N] */
    float *dhidden;         /* dL/dhidden [M*H] */
    uint32_t version;       /* updates since init */
};

const char *const tx_baseline_names[] = {"none", "mean", NULL};
enum { S_BASELINES = sizeof tx_baseline_names / sizeof tx_baseline_names[0] - 1 };

const char *tx_baseline_name(tx_baseline b)
{
    return al_name_of(tx_baseline_names, S_BASELINES, (int)b);
}

int tx_baseline_parse(const char *text, tx_baseline *b)
{
    int i = al_name_lookup(tx_baseline_names, S_BASELINES, text, "baseline");
    if (i < 0)
        return i;
    *b = (tx_baseline)i;
    return AL_OK;
}

tx_net_config tx_net_config_default(unsigned M, unsigned N)
{
    return (tx_net_config){
        .M = M, .N = N, .hidden = M, .power = AL_POWER_AVERAGE, .sigma2 = 0.02f,
        .baseline = TX_BASELINE_MEAN, .lr = 1e-3f, .max_batch = 1024,
    };
}

void tx_net_destroy(tx_net_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    tx_net_t *q = *self_p;
    al_model_destroy(&q->model);
    al_powernorm_destroy(&q->norm);
    free(q->iota);
    free(q->hidden);
    free(q->raw);
    free(q->table);
    free(q->dtable);
    free(q->dhidden);
    free(q);
    *self_p = NULL;
}

tx_net_t *tx_net_create(const tx_net_config *cfg)
{
    if (cfg == NULL) {
        AL_FAIL(AL_EINVAL, "no configuration");
        return NULL;
    }
    tx_net_config c = *cfg;
    if (c.hidden == 0)
        c.hidden = c.M;
    if (c.M < 2 || c.M > 65536 || c.N < 1 || c.N > 64 || c.hidden > 65536) {
        AL_FAIL(AL_EINVAL, "M=%u not in 2..65536, N=%u not in 1..64 or hidden=%u > 65536",
                c.M, c.N, c.hidden);
        return NULL;
    }
    if (!(c.sigma2 > 0.0f && c.sigma2 < 1.0f)) {
        AL_FAIL(AL_EINVAL, "sigma2=%g not in (0, 1)", c.sigma2);
        return NULL;
    }
    if (c.max_batch == 0 || c.max_batch > (1u << 20)) {
        AL_FAIL(AL_EINVAL, "max_batch=%u not in 1..2^20", c.max_batch);
        return NULL;
    }
    tx_net_t *q = calloc(1, sizeof *q);
    if (q == NULL) {
        AL_FAIL(AL_ENOMEM, "no memory");
        return NULL;
    }
    q->cfg = c;
    char arch[128];
    snprintf(arch, sizeof arch, "tx M=%u N=%u hidden=%u power=%s", c.M, c.N, c.hidden,
             al_power_mode_name(c.power));
    const al_layer_spec layers[] = {
        {AL_LAYER_EMBEDDING, c.M, c.hidden, AL_ACT_RELU},
        {AL_LAYER_DENSE, c.hidden, 2 * c.N, AL_ACT_LINEAR},
    };
    const size_t two_n = 2 * (size_t)c.N;
    q->model = al_model_create(arch, layers, 2, c.M, al_adam_defaults(c.lr));
    if (q->model == NULL)
        goto fail;
    q->norm = al_powernorm_create(c.power, c.M, c.N);
    if (q->norm == NULL)
        goto fail;
    q->iota = malloc(sizeof(uint32_t) * c.M);
    q->hidden = malloc(sizeof(float) * c.M * c.hidden);
    q->raw = malloc(sizeof(float) * c.M * two_n);
    q->table = malloc(sizeof(float) * c.M * two_n);
    q->dtable = malloc(sizeof(float) * c.M * two_n);
    q->dhidden = malloc(sizeof(float) * c.M * c.hidden);
    if (!q->iota || !q->hidden || !q->raw || !q->table || !q->dtable || !q->dhidden) {
        AL_FAIL(AL_ENOMEM, "no memory for M=%u, N=%u buffers", c.M, c.N);
        goto fail;
    }
    for (unsigned m = 0; m < c.M; m++)
        q->iota[m] = m;
    if (tx_net_init(q, 1) < 0)
        goto fail;
    return q;
fail:
    tx_net_destroy(&q);
    return NULL;
}

int tx_net_rebuild(tx_net_t *q)
{
    int rc = al_embedding_forward(al_model_embedding(q->model, 0), q->iota, q->cfg.M, q->hidden);
    if (rc == AL_OK)
        rc = al_dense_forward(al_model_dense(q->model, 1), q->hidden, q->cfg.M, q->raw);
    if (rc == AL_OK)
        rc = al_powernorm_forward(q->norm, q->raw, q->table);
    return rc;
}

int tx_net_init(tx_net_t *q, uint64_t seed)
{
    al_model_init(q->model, seed);
    q->version = 0;
    return tx_net_rebuild(q);
}

const float *tx_net_table(const tx_net_t *q) { return q->table; }

static int s_check_msgs(const tx_net_t *q, const uint32_t *msgs, unsigned B, const char *where)
{
    for (unsigned i = 0; i < B; i++)
        if (msgs[i] >= q->cfg.M)
            return al_error_set(AL_ERANGE, where, "message %u at %u >= M=%u", msgs[i], i, q->cfg.M);
    return AL_OK;
}

int tx_net_encode(const tx_net_t *q, const uint32_t *msgs, unsigned B, float *x)
{
    int rc = s_check_msgs(q, msgs, B, __func__);
    if (rc < 0)
        return rc;
    const size_t two_n = 2 * (size_t)q->cfg.N;
    for (unsigned i = 0; i < B; i++)
        memcpy(x + i * two_n, q->table + msgs[i] * two_n, sizeof(float) * two_n);
    return AL_OK;
}

int tx_net_perturb(const tx_net_t *q, const uint32_t *msgs, unsigned B, al_rng_t *rng,
                   float *x_p, float *w)
{
    int rc = s_check_msgs(q, msgs, B, __func__);
    if (rc < 0)
        return rc;
    const size_t two_n = 2 * (size_t)q->cfg.N;
    const float a = sqrtf(1.0f - q->cfg.sigma2);
    for (unsigned i = 0; i < B; i++) {
        const float *x = q->table + msgs[i] * two_n;
        for (size_t k = 0; k < two_n; k += 2) {
            float wr, wi;
            al_rng_cnormal(rng, q->cfg.sigma2, &wr, &wi);
            w[i * two_n + k] = wr;
            w[i * two_n + k + 1] = wi;
            x_p[i * two_n + k] = a * x[k] + wr;
            x_p[i * two_n + k + 1] = a * x[k + 1] + wi;
        }
    }
    return AL_OK;
}

/* Backpropagates q->dtable through normalisation, dense and embedding into
 * the (zeroed) parameter gradients. */
static int s_backprop_table(tx_net_t *q)
{
    al_model_zero_grad(q->model);
    int rc = al_powernorm_backward(q->norm, q->table, q->dtable, q->dtable);
    if (rc == AL_OK)
        rc = al_dense_backward(al_model_dense(q->model, 1), q->hidden, q->raw, q->dtable,
                               q->cfg.M, q->dhidden);
    if (rc == AL_OK)
        rc = al_embedding_backward(al_model_embedding(q->model, 0), q->iota, q->hidden,
                                   q->dhidden, q->cfg.M);
    return rc;
}

static int s_step(tx_net_t *q)
{
    int rc = al_model_step(q->model);
    if (rc == AL_OK)
        rc = tx_net_rebuild(q);
    if (rc == AL_OK)
        q->version++;
    return rc;
}

int tx_net_gradient(tx_net_t *q, const uint32_t *msgs, const float *dx, unsigned B)
{
    int rc = s_check_msgs(q, msgs, B, __func__);
    if (rc < 0)
        return rc;
    const size_t two_n = 2 * (size_t)q->cfg.N;
    memset(q->dtable, 0, sizeof(float) * q->cfg.M * two_n);
    for (unsigned i = 0; i < B; i++) {
        float *d = q->dtable + msgs[i] * two_n;
        for (size_t k = 0; k < two_n; k++)
            d[k] += dx[i * two_n + k];
    }
    return s_backprop_table(q);
}

int tx_net_grad_step(tx_net_t *q, const uint32_t *msgs, const float *dx, unsigned B)
{
    int rc = tx_net_gradient(q, msgs, dx, B);
    return rc < 0 ? rc : s_step(q);
}

int tx_net_pg_gradient(tx_net_t *q, const uint32_t *msgs, const float *w,
                       const float *losses, unsigned B)
{
    if (B == 0 || B > q->cfg.max_batch)
        return AL_FAIL(AL_EINVAL, "batch %u not in 1..%u", B, q->cfg.max_batch);
    int rc = s_check_msgs(q, msgs, B, __func__);
    if (rc < 0)
        return rc;
    double mean = 0.0;
    for (unsigned i = 0; i < B; i++) {
        if (!isfinite(losses[i]) || losses[i] < 0.0f)
            return AL_FAIL(AL_ERANGE, "loss %u is %g: must be finite and >= 0", i, losses[i]);
        mean += losses[i];
    }
    mean /= B;
    const float b = q->cfg.baseline == TX_BASELINE_MEAN ? (float)mean : 0.0f;
    const float s2 = q->cfg.sigma2;
    /* d log pi / d x = (2 sqrt(1-s2) / s2) * w; the estimator averages
     * (l - b) times that over the batch. */
    const float k = 2.0f * sqrtf(1.0f - s2) / s2 / (float)B;
    const size_t two_n = 2 * (size_t)q->cfg.N;
    memset(q->dtable, 0, sizeof(float) * q->cfg.M * two_n);
    for (unsigned i = 0; i < B; i++) {
        const float c = k * (losses[i] - b);
        float *d = q->dtable + msgs[i] * two_n;
        for (size_t j = 0; j < two_n; j++)
            d[j] += c * w[i * two_n + j];
    }
    return s_backprop_table(q);
}

int tx_net_pg_step(tx_net_t *q, const uint32_t *msgs, const float *w,
                   const float *losses, unsigned B)
{
    int rc = tx_net_pg_gradient(q, msgs, w, losses, B);
    return rc < 0 ? rc : s_step(q);
}

uint32_t tx_net_version(const tx_net_t *q) { return q->version; }
void tx_net_set_version(tx_net_t *q, uint32_t version) { q->version = version; }
const tx_net_config *tx_net_get_config(const tx_net_t *q) { return &q->cfg; }
al_model_t *tx_net_model(tx_net_t *q) { return q->model; }

double tx_net_step_flops(const tx_net_t *q)
{
    const al_dense_t *d = al_model_dense(q->model, 1);
    return al_dense_backward_flops(d, q->cfg.M, 1) + al_dense_forward_flops(d, q->cfg.M);
}

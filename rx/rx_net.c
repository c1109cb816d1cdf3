#include "rx_net.h"
#include "al_error.h"
#include "al_names.h"
#include "al_softmax_ce.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keeps z = y conj(h)/(|h|^2 + eps) finite while the estimator is poor. */
static const float s_eq_eps = 1e-4f;

const char *const rx_kind_names[] = {"awgn", "fading", NULL};
enum { S_KINDS = sizeof rx_kind_names / sizeof rx_kind_names[0] - 1 };

enum { L_DENSE1 = 0, L_DENSE2 = 1, L_EST1 = 2, L_EST2 = 3 };

struct rx_net {
    rx_net_config cfg;
    al_model_t *model;   /* dense1, dense2 [, est1, est2] */
    float *z;            /* equalised input (fading) [B*2N] */
    float *h1;           /* dense1 output [B*H] */
    float *logits;       /* [B*M] */
    float *dlogits;      /* [B*M] */
    float *dh1;          /* [B*H] */
    float *dz;           /* [B*2N] */
    float *e1;           /* estimator hidden [B*E] */
    float *hh;           /* h_hat [B*2] */
    float *de1;          /* [B*E] */
    float *dhh;          /* [B*2] */
    float *dy_branch;    /* dL/du through the estimator [B*2N] */
    float *u;            /* y scaled to unit RMS per message [B*2N] */
    float *du;           /* dL/du [B*2N] */
    float *inv_rms;      /* 1 / RMS of each received message [B] */
    float *losses;       /* [B] */
};

const char *rx_kind_name(rx_kind kind)
{
    return al_name_of(rx_kind_names, S_KINDS, (int)kind);
}

int rx_kind_parse(const char *text, rx_kind *kind)
{
    int i = al_name_lookup(rx_kind_names, S_KINDS, text, "receiver kind");
    if (i < 0)
        return i;
    *kind = (rx_kind)i;
    return AL_OK;
}

rx_net_config rx_net_config_default(unsigned M, unsigned N, rx_kind kind)
{
    return (rx_net_config){.M = M, .N = N, .hidden = M, .est_hidden = 20, .kind = kind,
                           .lr = 1e-3f, .max_batch = 1024};
}

void rx_net_destroy(rx_net_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    rx_net_t *q = *self_p;
    al_model_destroy(&q->model);
    float *bufs[] = {q->z, q->h1, q->logits, q->dlogits, q->dh1, q->dz, q->e1,
                     q->hh, q->de1, q->dhh, q->dy_branch, q->losses, q->u, q->du,
                     q->inv_rms};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        free(bufs[i]);
    free(q);
    *self_p = NULL;
}

rx_net_t *rx_net_create(const rx_net_config *cfg)
{
    if (cfg == NULL) {
        AL_FAIL(AL_EINVAL, "no configuration");
        return NULL;
    }
    rx_net_config c = *cfg;
    if (c.hidden == 0)
        c.hidden = c.M;
    if (c.est_hidden == 0)
        c.est_hidden = 20;
    if (c.M < 2 || c.M > 65536 || c.N < 1 || c.N > 64 || c.hidden > 65536 || c.est_hidden > 4096) {
        AL_FAIL(AL_EINVAL, "M=%u not in 2..65536, N=%u not in 1..64, or hidden sizes too large",
                c.M, c.N);
        return NULL;
    }
    if (c.kind != RX_KIND_AWGN && c.kind != RX_KIND_FADING) {
        AL_FAIL(AL_EINVAL, "unknown receiver kind %d", (int)c.kind);
        return NULL;
    }
    if (c.max_batch == 0 || c.max_batch > (1u << 20)) {
        AL_FAIL(AL_EINVAL, "max_batch=%u not in 1..2^20", c.max_batch);
        return NULL;
    }
    rx_net_t *q = calloc(1, sizeof *q);
    if (q == NULL) {
        AL_FAIL(AL_ENOMEM, "no memory");
        return NULL;
    }
    q->cfg = c;
    const unsigned two_n = 2 * c.N, B = c.max_batch;
    const al_layer_spec layers[] = {
        {AL_LAYER_DENSE, two_n, c.hidden, AL_ACT_RELU},
        {AL_LAYER_DENSE, c.hidden, c.M, AL_ACT_LINEAR},
        {AL_LAYER_DENSE, two_n, c.est_hidden, AL_ACT_TANH},
        {AL_LAYER_DENSE, c.est_hidden, 2, AL_ACT_LINEAR},
    };
    const unsigned n_layers = c.kind == RX_KIND_FADING ? 4 : 2;
    char arch[128];
    if (c.kind == RX_KIND_FADING)
        snprintf(arch, sizeof arch, "rx fading M=%u N=%u hidden=%u est=%u%s", c.M, c.N,
                 c.hidden, c.est_hidden, c.unscaled ? " unscaled" : "");
    else
        snprintf(arch, sizeof arch, "rx awgn M=%u N=%u hidden=%u", c.M, c.N, c.hidden);
    q->model = al_model_create(arch, layers, n_layers, B, al_adam_defaults(c.lr));
    if (q->model == NULL)
        goto fail;
    q->h1 = malloc(sizeof(float) * B * c.hidden);
    q->logits = malloc(sizeof(float) * B * c.M);
    q->dlogits = malloc(sizeof(float) * B * c.M);
    q->dh1 = malloc(sizeof(float) * B * c.hidden);
    q->dz = malloc(sizeof(float) * B * two_n);
    q->losses = malloc(sizeof(float) * B);
    if (!q->h1 || !q->logits || !q->dlogits || !q->dh1 || !q->dz || !q->losses)
        goto nomem;
    if (c.kind == RX_KIND_FADING) {
        q->z = malloc(sizeof(float) * B * two_n);
        q->e1 = malloc(sizeof(float) * B * c.est_hidden);
        q->hh = malloc(sizeof(float) * B * 2);
        q->de1 = malloc(sizeof(float) * B * c.est_hidden);
        q->dhh = malloc(sizeof(float) * B * 2);
        q->dy_branch = malloc(sizeof(float) * B * two_n);
        q->u = malloc(sizeof(float) * B * two_n);
        q->du = malloc(sizeof(float) * B * two_n);
        q->inv_rms = malloc(sizeof(float) * B);
        if (!q->z || !q->e1 || !q->hh || !q->de1 || !q->dhh || !q->dy_branch || !q->u ||
            !q->du || !q->inv_rms)
            goto nomem;
    }
    if (rx_net_init(q, 2) < 0)
        goto fail;
    return q;
nomem:
    AL_FAIL(AL_ENOMEM, "no memory for M=%u, N=%u, max_batch=%u buffers", c.M, c.N, B);
fail:
    rx_net_destroy(&q);
    return NULL;
}

int rx_net_init(rx_net_t *q, uint64_t seed)
{
    al_model_init(q->model, seed);
    if (q->cfg.kind == RX_KIND_FADING) {
        /* Start the estimator at h_hat ~ 1 so the first equalisations do
         * not divide by a random near-zero value. */
        al_dense_params p = al_dense_get_params(al_model_dense(q->model, L_EST2));
        p.b[0] = 1.0f;
        p.b[1] = 0.0f;
    }
    return AL_OK;
}

static int s_check_batch(const rx_net_t *q, unsigned B, const char *where)
{
    if (B == 0 || B > q->cfg.max_batch)
        return al_error_set(AL_EINVAL, where, "batch %u not in 1..%u", B, q->cfg.max_batch);
    return AL_OK;
}

static void s_equalise(const rx_net_t *q, const float *y, unsigned B)
{
    const unsigned N = q->cfg.N;
    for (unsigned i = 0; i < B; i++) {
        const float a = q->hh[2 * i], b = q->hh[2 * i + 1];
        const float inv = 1.0f / (a * a + b * b + s_eq_eps);
        const float *yi = y + (size_t)i * 2 * N;
        float *zi = q->z + (size_t)i * 2 * N;
        for (unsigned k = 0; k < N; k++) {
            const float p = yi[2 * k], s = yi[2 * k + 1];
            zi[2 * k] = (p * a + s * b) * inv;
            zi[2 * k + 1] = (s * a - p * b) * inv;
        }
    }
}

/* u = y / rms(y) per message (u = y when unscaled). Under fading the
 * received scale |h| spans orders of magnitude, which a tanh estimator
 * cannot follow; on u it only has to find the phase and relative gain, and
 * u / h_hat(u) equals y / h_hat for an estimator that scales with y. */
static void s_normalise(rx_net_t *q, const float *y, unsigned B)
{
    const unsigned two_n = 2 * q->cfg.N;
    if (q->cfg.unscaled) {
        memcpy(q->u, y, sizeof(float) * B * two_n);
        return;
    }
    for (unsigned i = 0; i < B; i++) {
        const float *yi = y + (size_t)i * two_n;
        double e = 0.0;
        for (unsigned k = 0; k < two_n; k++)
            e += (double)yi[k] * yi[k];
        /* The floor keeps an all-zero input finite. */
        const float inv = (float)(1.0 / sqrt(e / q->cfg.N + 1e-12));
        q->inv_rms[i] = inv;
        float *ui = q->u + (size_t)i * two_n;
        for (unsigned k = 0; k < two_n; k++)
            ui[k] = yi[k] * inv;
    }
}

/* dy = (du - u <du, u> / N) / rms, the gradient of s_normalise. */
static void s_normalise_backward(const rx_net_t *q, const float *du, unsigned B, float *dy)
{
    const unsigned two_n = 2 * q->cfg.N;
    if (q->cfg.unscaled) {
        memcpy(dy, du, sizeof(float) * B * two_n);
        return;
    }
    for (unsigned i = 0; i < B; i++) {
        const float *ui = q->u + (size_t)i * two_n, *gi = du + (size_t)i * two_n;
        double dot = 0.0;
        for (unsigned k = 0; k < two_n; k++)
            dot += (double)gi[k] * ui[k];
        const float c = (float)(dot / q->cfg.N);
        float *dyi = dy + (size_t)i * two_n;
        for (unsigned k = 0; k < two_n; k++)
            dyi[k] = (gi[k] - ui[k] * c) * q->inv_rms[i];
    }
}

/* Forward pass; returns the input of dense1 (y or the equalised z). */
static const float *s_forward(rx_net_t *q, const float *y, unsigned B, int *rc)
{
    const float *in = y;
    *rc = AL_OK;
    if (q->cfg.kind == RX_KIND_FADING) {
        s_normalise(q, y, B);
        *rc = al_dense_forward(al_model_dense(q->model, L_EST1), q->u, B, q->e1);
        if (*rc == AL_OK)
            *rc = al_dense_forward(al_model_dense(q->model, L_EST2), q->e1, B, q->hh);
        if (*rc < 0)
            return NULL;
        s_equalise(q, q->u, B);
        in = q->z;
    }
    *rc = al_dense_forward(al_model_dense(q->model, L_DENSE1), in, B, q->h1);
    if (*rc == AL_OK)
        *rc = al_dense_forward(al_model_dense(q->model, L_DENSE2), q->h1, B, q->logits);
    return *rc == AL_OK ? in : NULL;
}

const float *rx_net_forward(rx_net_t *q, const float *y, unsigned B)
{
    int rc = s_check_batch(q, B, __func__);
    if (rc < 0)
        return NULL;
    s_forward(q, y, B, &rc);
    return rc == AL_OK ? q->logits : NULL;
}

int rx_net_decide(rx_net_t *q, const float *y, unsigned B, uint32_t *decisions)
{
    const float *logits = rx_net_forward(q, y, B);
    if (logits == NULL)
        return AL_EINVAL;
    al_argmax_rows(logits, B, q->cfg.M, decisions);
    return AL_OK;
}

int rx_net_losses(rx_net_t *q, const float *y, const uint32_t *labels, unsigned B,
                  float *losses, uint32_t *decisions)
{
    const float *logits = rx_net_forward(q, y, B);
    if (logits == NULL)
        return AL_EINVAL;
    /* Decisions from the same pass over the logits as the losses. */
    return al_softmax_ce_decide(logits, labels, B, q->cfg.M, losses, NULL, 0.0f, decisions);
}

/* Backward through z = y conj(h) / d, d = |h|^2 + eps, per message (y is
 * the normalised input u here): writes dL/dy and dL/dh from dL/dz. */
static void s_equalise_backward(rx_net_t *q, const float *y, unsigned B, float *dy)
{
    const unsigned N = q->cfg.N;
    for (unsigned i = 0; i < B; i++) {
        const float a = q->hh[2 * i], b = q->hh[2 * i + 1];
        const float inv = 1.0f / (a * a + b * b + s_eq_eps);
        const float *yi = y + (size_t)i * 2 * N, *zi = q->z + (size_t)i * 2 * N;
        const float *gi = q->dz + (size_t)i * 2 * N;
        float *dyi = dy + (size_t)i * 2 * N;
        float da = 0.0f, db = 0.0f;
        for (unsigned k = 0; k < N; k++) {
            const float p = yi[2 * k], s = yi[2 * k + 1];
            const float zr = zi[2 * k], zim = zi[2 * k + 1];
            const float gr = gi[2 * k], gim = gi[2 * k + 1];
            dyi[2 * k] = (gr * a - gim * b) * inv;
            dyi[2 * k + 1] = (gr * b + gim * a) * inv;
            da += (gr * (p - 2.0f * a * zr) + gim * (s - 2.0f * a * zim)) * inv;
            db += (gr * (s - 2.0f * b * zr) + gim * (-p - 2.0f * b * zim)) * inv;
        }
        q->dhh[2 * i] = da;
        q->dhh[2 * i + 1] = db;
    }
}

int rx_net_gradient(rx_net_t *q, const float *y, const uint32_t *labels, unsigned B,
                    float *dy, float *mean_loss)
{
    int rc = s_check_batch(q, B, __func__);
    if (rc < 0)
        return rc;
    const float *in = s_forward(q, y, B, &rc);
    if (in == NULL)
        return rc;
    rc = al_softmax_ce(q->logits, labels, B, q->cfg.M, q->losses, q->dlogits, 1.0f / (float)B);
    if (rc < 0)
        return rc;
    al_model_zero_grad(q->model);
    const int fading = q->cfg.kind == RX_KIND_FADING;
    /* dz is needed whenever something sits below dense1. */
    float *din = (fading || dy != NULL) ? q->dz : NULL;
    rc = al_dense_backward(al_model_dense(q->model, L_DENSE2), q->h1, q->logits, q->dlogits,
                           B, q->dh1);
    if (rc == AL_OK)
        rc = al_dense_backward(al_model_dense(q->model, L_DENSE1), in, q->h1, q->dh1, B, din);
    if (rc < 0)
        return rc;
    const size_t n_in = (size_t)B * 2 * q->cfg.N;
    if (fading) {
        s_equalise_backward(q, q->u, B, q->du);
        rc = al_dense_backward(al_model_dense(q->model, L_EST2), q->e1, q->hh, q->dhh, B, q->de1);
        if (rc == AL_OK)
            rc = al_dense_backward(al_model_dense(q->model, L_EST1), q->u, q->e1, q->de1, B,
                                   dy != NULL ? q->dy_branch : NULL);
        if (rc < 0)
            return rc;
        if (dy != NULL) {
            for (size_t k = 0; k < n_in; k++)
                q->du[k] += q->dy_branch[k];
            s_normalise_backward(q, q->du, B, dy);
        }
    } else if (dy != NULL) {
        memcpy(dy, q->dz, sizeof(float) * n_in);
    }
    if (mean_loss != NULL) {
        double s = 0.0;
        for (unsigned i = 0; i < B; i++)
            s += q->losses[i];
        *mean_loss = (float)(s / B);
    }
    return AL_OK;
}

int rx_net_train_step(rx_net_t *q, const float *y, const uint32_t *labels, unsigned B,
                      float *dy, float *mean_loss)
{
    int rc = rx_net_gradient(q, y, labels, B, dy, mean_loss);
    return rc < 0 ? rc : al_model_step(q->model);
}

const rx_net_config *rx_net_get_config(const rx_net_t *q) { return &q->cfg; }
al_model_t *rx_net_model(rx_net_t *q) { return q->model; }

double rx_net_forward_flops(const rx_net_t *q, unsigned B)
{
    const rx_net_config *c = &q->cfg;
    double f = 2.0 * B * (2.0 * c->N * c->hidden + (double)c->hidden * c->M);
    if (c->kind == RX_KIND_FADING)
        f += 2.0 * B * (2.0 * c->N * c->est_hidden + 2.0 * c->est_hidden);
    return f;
}

double rx_net_train_flops(const rx_net_t *q, unsigned B, int with_dy)
{
    const int fading = q->cfg.kind == RX_KIND_FADING;
    double f = rx_net_forward_flops(q, B);
    /* The same dX choices as rx_net_gradient. */
    f += al_dense_backward_flops(al_model_dense(q->model, L_DENSE2), B, 1);
    f += al_dense_backward_flops(al_model_dense(q->model, L_DENSE1), B, fading || with_dy);
    if (fading) {
        f += al_dense_backward_flops(al_model_dense(q->model, L_EST2), B, 1);
        f += al_dense_backward_flops(al_model_dense(q->model, L_EST1), B, with_dy);
    }
    return f;
}

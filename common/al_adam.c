#include "al_adam.h"
#include "al_error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct al_adam {
    size_t n;           /* parameters */
    al_adam_config cfg; /* hyper-parameters */
    uint64_t t;         /* steps taken */
    float *m;           /* first moment [n] */
    float *v;           /* second moment [n] */
};

al_adam_config al_adam_defaults(float lr)
{
    return (al_adam_config){.lr = lr, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f};
}

static int s_check_config(al_adam_config c)
{
    if (!(c.lr > 0.0f) || !isfinite(c.lr))
        return AL_FAIL(AL_EINVAL, "learning rate %g must be > 0", c.lr);
    if (!(c.beta1 >= 0.0f && c.beta1 < 1.0f) || !(c.beta2 >= 0.0f && c.beta2 < 1.0f))
        return AL_FAIL(AL_EINVAL, "beta1=%g and beta2=%g must be in [0, 1)", c.beta1, c.beta2);
    if (!(c.eps > 0.0f))
        return AL_FAIL(AL_EINVAL, "eps %g must be > 0", c.eps);
    return AL_OK;
}

al_adam_t *al_adam_create(size_t n, al_adam_config cfg)
{
    if (n == 0) {
        AL_FAIL(AL_EINVAL, "n must be >= 1");
        return NULL;
    }
    if (s_check_config(cfg) < 0)
        return NULL;
    al_adam_t *q = calloc(1, sizeof *q);
    if (q == NULL) {
        AL_FAIL(AL_ENOMEM, "no memory");
        return NULL;
    }
    q->m = calloc(n, sizeof(float));
    q->v = calloc(n, sizeof(float));
    if (q->m == NULL || q->v == NULL) {
        al_adam_destroy(&q);
        AL_FAIL(AL_ENOMEM, "no memory for %zu moments", n);
        return NULL;
    }
    q->n = n;
    q->cfg = cfg;
    return q;
}

void al_adam_destroy(al_adam_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    free((*self_p)->m);
    free((*self_p)->v);
    free(*self_p);
    *self_p = NULL;
}

int al_adam_step(al_adam_t *q, float *params, const float *grads)
{
    for (size_t i = 0; i < q->n; i++)
        if (!isfinite(grads[i]))
            return AL_FAIL(AL_ERANGE, "gradient %zu is not finite", i);
    q->t++;
    const float b1 = q->cfg.beta1, b2 = q->cfg.beta2;
    /* Fold both bias corrections into the step size (as in the paper's
     * efficient form) but keep eps on the corrected second moment. */
    const double c1 = 1.0 - pow(b1, (double)q->t);
    const double c2 = 1.0 - pow(b2, (double)q->t);
    const float step = (float)(q->cfg.lr / c1);
    const float inv_c2 = (float)(1.0 / c2);
    for (size_t i = 0; i < q->n; i++) {
        const float g = grads[i];
        q->m[i] = b1 * q->m[i] + (1.0f - b1) * g;
        q->v[i] = b2 * q->v[i] + (1.0f - b2) * g * g;
        params[i] -= step * q->m[i] / (sqrtf(q->v[i] * inv_c2) + q->cfg.eps);
    }
    return AL_OK;
}

void al_adam_reset(al_adam_t *q)
{
    memset(q->m, 0, sizeof(float) * q->n);
    memset(q->v, 0, sizeof(float) * q->n);
    q->t = 0;
}

int al_adam_set_lr(al_adam_t *q, float lr)
{
    al_adam_config c = q->cfg;
    c.lr = lr;
    int rc = s_check_config(c);
    if (rc == AL_OK)
        q->cfg = c;
    return rc;
}

al_adam_config al_adam_get_config(const al_adam_t *q) { return q->cfg; }
float *al_adam_m(al_adam_t *q) { return q->m; }
float *al_adam_v(al_adam_t *q) { return q->v; }
uint64_t al_adam_steps(const al_adam_t *q) { return q->t; }
void al_adam_set_steps(al_adam_t *q, uint64_t t) { q->t = t; }
size_t al_adam_size(const al_adam_t *q) { return q->n; }

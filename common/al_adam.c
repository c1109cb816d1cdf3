#include "al_adam.h"
#include "al_error.h"
#include "al_simd.h"

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

/* 1 if every g[i] is finite: a reduction without an early exit, so that
 * it vectorises. */
AL_VECTOR_CLONES
static int s_all_finite(const float *g, size_t n)
{
    int ok = 1;
    for (size_t i = 0; i < n; i++)
        ok &= isfinite(g[i]) != 0;
    return ok;
}

/* The update, vectorised: restrict tells the compiler the four arrays are
 * distinct, and -fno-math-errno (meson.build) lets sqrtf be the vector
 * instruction instead of a call that may set errno. */
AL_VECTOR_CLONES
static void s_update(size_t n, float *restrict params, const float *restrict grads,
                     float *restrict m, float *restrict v, float b1, float b2, float step,
                     float inv_c2, float eps)
{
    for (size_t i = 0; i < n; i++) {
        const float g = grads[i];
        m[i] = b1 * m[i] + (1.0f - b1) * g;
        v[i] = b2 * v[i] + (1.0f - b2) * g * g;
        params[i] -= step * m[i] / (sqrtf(v[i] * inv_c2) + eps);
    }
}

int al_adam_step(al_adam_t *q, float *params, const float *grads)
{
    if (!s_all_finite(grads, q->n)) {
        size_t i = 0;
        while (isfinite(grads[i]))
            i++;
        return AL_FAIL(AL_ERANGE, "gradient %zu is not finite", i);
    }
    q->t++;
    /* Fold both bias corrections into the step size (as in the paper's
     * efficient form) but keep eps on the corrected second moment. */
    const double c1 = 1.0 - pow(q->cfg.beta1, (double)q->t);
    const double c2 = 1.0 - pow(q->cfg.beta2, (double)q->t);
    s_update(q->n, params, grads, q->m, q->v, q->cfg.beta1, q->cfg.beta2,
             (float)(q->cfg.lr / c1), (float)(1.0 / c2), q->cfg.eps);
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

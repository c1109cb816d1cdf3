/* airlearn — Adam optimiser with bias correction (Kingma & Ba 2015).
 *
 * Works on one contiguous parameter array and its gradient (an
 * al_model_t keeps all of a network's parameters in one block). Moment
 * buffers are allocated at create; al_adam_step allocates nothing.
 * One thread at a time per object.
 */
#ifndef AL_ADAM_H
#define AL_ADAM_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    float lr;     /* step size, > 0 */
    float beta1;  /* first-moment decay, in [0, 1) (0.9) */
    float beta2;  /* second-moment decay, in [0, 1) (0.999) */
    float eps;    /* denominator guard, > 0 (1e-8) */
} al_adam_config;

/* The usual defaults with the given learning rate. */
al_adam_config al_adam_defaults(float lr);

typedef struct al_adam al_adam_t;

al_adam_t *al_adam_create(size_t n, al_adam_config cfg);
void al_adam_destroy(al_adam_t **self_p);

/* params -= lr * mhat / (sqrt(vhat) + eps), after updating the moments
 * with grads. params, grads : [size: n]. Returns AL_ERANGE, without
 * touching anything, if a gradient is NaN or infinite. */
int al_adam_step(al_adam_t *q, float *params, const float *grads);

/* Zero the moments and the step count. */
void al_adam_reset(al_adam_t *q);

int al_adam_set_lr(al_adam_t *q, float lr);
al_adam_config al_adam_get_config(const al_adam_t *q);

/* Direct access for checkpoints: moment arrays [size: n] and step count. */
float *al_adam_m(al_adam_t *q);
float *al_adam_v(al_adam_t *q);
uint64_t al_adam_steps(const al_adam_t *q);
void al_adam_set_steps(al_adam_t *q, uint64_t t);
size_t al_adam_size(const al_adam_t *q);

#endif

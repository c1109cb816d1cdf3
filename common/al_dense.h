/* airlearn — fully connected layer on OpenBLAS: Y = act(X W + b).
 *
 * Row-major, batch-major: X is [B x n_in], W is [n_in x n_out], Y is
 * [B x n_out]. The layer does not own its parameters: W, b and their
 * gradient accumulators dW, db are views into storage owned by the caller
 * (normally an al_model_t, which keeps all parameters of a network in one
 * block so the optimiser and checkpoints see one array). The layer owns a
 * scratch buffer for the pre-activation gradient, sized for max_batch at
 * create time, so forward and backward allocate nothing.
 *
 * Threading: an object is used by one thread at a time; OpenBLAS may use
 * its own threads inside (see al_threads.h).
 */
#ifndef AL_DENSE_H
#define AL_DENSE_H

#include <stddef.h>

typedef enum {
    AL_ACT_LINEAR = 0,
    AL_ACT_RELU = 1,
    AL_ACT_TANH = 2,
} al_act;

/* "linear", "relu", "tanh" */
const char *al_act_name(al_act act);

/* y[i] = act(y[i]) in place, i < n. */
void al_act_forward(al_act act, float *y, size_t n);

/* dz[i] = dy[i] * act'(.), with the derivative taken from the activation's
 * output y [size: n]. For AL_ACT_LINEAR returns dy itself (no copy);
 * otherwise fills dz and returns it. */
const float *al_act_backward(al_act act, const float *y, const float *dy,
                             float *dz, size_t n);

typedef struct al_dense al_dense_t;

/* Parameter views of a dense layer; all four must stay valid for the life
 * of the layer. */
typedef struct {
    float *W;   /* weights [size: n_in*n_out], W[i*n_out + j] */
    float *b;   /* bias [size: n_out] */
    float *dW;  /* gradient of W, accumulated by backward [size: n_in*n_out] */
    float *db;  /* gradient of b, accumulated by backward [size: n_out] */
} al_dense_params;

/* n_in, n_out >= 1; max_batch >= 1 is the largest B passed later.
 * Returns NULL (message set) on invalid arguments or no memory. */
al_dense_t *al_dense_create(unsigned n_in, unsigned n_out, al_act act,
                            unsigned max_batch, al_dense_params params);

/* Frees the layer (not the parameters) and sets *self_p = NULL. */
void al_dense_destroy(al_dense_t **self_p);

/* Y = act(X W + b).
 *  x : input  [size: B*n_in]
 *  y : output [size: B*n_out], must not alias x
 * Returns 0, or AL_EINVAL if B is 0 or above max_batch. */
int al_dense_forward(al_dense_t *q, const float *x, unsigned B, float *y);

/* Accumulates dW += X^T dZ and db += sum_rows dZ, where dZ = dY * act'(Y),
 * and writes dX = dZ W^T when dx is not NULL.
 *  x  : the forward input [size: B*n_in]
 *  y  : the forward output [size: B*n_out] (activation derivatives are
 *       taken from the output: ReLU y > 0, tanh 1 - y^2)
 *  dy : gradient of the loss with respect to y [size: B*n_out]
 *  dx : gradient with respect to x [size: B*n_in], or NULL */
int al_dense_backward(al_dense_t *q, const float *x, const float *y,
                      const float *dy, unsigned B, float *dx);

unsigned al_dense_n_in(const al_dense_t *q);
unsigned al_dense_n_out(const al_dense_t *q);
al_act al_dense_act(const al_dense_t *q);
al_dense_params al_dense_get_params(const al_dense_t *q);

/* Floating-point operations of one forward pass of B rows (for benchmarks):
 * the multiply-adds of X W, 2 B n_in n_out. */
double al_dense_forward_flops(const al_dense_t *q, unsigned B);

/* Of one backward pass: 2 B n_in n_out for dW, as many again for dX when
 * with_dx (the elementwise passes are not counted: benchmarks measure
 * them as overhead against the products). */
double al_dense_backward_flops(const al_dense_t *q, unsigned B, int with_dx);

#endif

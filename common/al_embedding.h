/* airlearn — embedding layer: Y[r] = act(W[idx[r]] + b).
 *
 * The row gather is exactly a dense layer applied to one-hot inputs (the
 * TX's first layer, Dense(M -> d) on one-hot(m)), without the M-fold
 * wasted multiply. Its gradient is a scatter-add into the rows of dW.
 * Parameters are views (see al_dense.h): W [size: rows*d], b [size: d],
 * dW, db alike. Scratch for the activation gradient is sized at create.
 *
 * Threading: one thread at a time per object.
 */
#ifndef AL_EMBEDDING_H
#define AL_EMBEDDING_H

#include <stdint.h>

#include "al_dense.h"

typedef struct al_embedding al_embedding_t;

/* rows >= 1 (M), d >= 1, max_batch >= 1. NULL on error (message set). */
al_embedding_t *al_embedding_create(unsigned rows, unsigned d, al_act act,
                                    unsigned max_batch, al_dense_params params);
void al_embedding_destroy(al_embedding_t **self_p);

/*  idx : row indices [size: B], each < rows (checked: AL_ERANGE)
 *  y   : output [size: B*d] */
int al_embedding_forward(al_embedding_t *q, const uint32_t *idx, unsigned B, float *y);

/* dW[idx[r]] += dZ[r], db += sum_r dZ[r], with dZ = dY * act'(Y).
 *  y  : the forward output [size: B*d]
 *  dy : gradient with respect to y [size: B*d] */
int al_embedding_backward(al_embedding_t *q, const uint32_t *idx, const float *y,
                          const float *dy, unsigned B);

unsigned al_embedding_rows(const al_embedding_t *q);
unsigned al_embedding_dim(const al_embedding_t *q);

#endif

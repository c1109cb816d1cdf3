/* airlearn — what the dense and embedding layers share (private to
 * common/): sizes, activation, parameter views and the activation-gradient
 * scratch buffer sized at create time. */
#ifndef AL_LAYER_CORE_H
#define AL_LAYER_CORE_H

#include "al_dense.h"

typedef struct {
    unsigned n_in;        /* input width (embedding: table rows) */
    unsigned n_out;       /* output width */
    al_act act;           /* activation after the bias */
    unsigned max_batch;   /* largest batch the scratch holds */
    al_dense_params p;    /* parameter views, owned by the caller */
    float *dz;            /* activation gradient scratch [max_batch*n_out] */
} al_layer_core;

/* Validates the arguments (message names `where`) and allocates dz. */
int al_layer_core_init(al_layer_core *c, const char *where, unsigned n_in, unsigned n_out,
                       al_act act, unsigned max_batch, al_dense_params params);
void al_layer_core_free(al_layer_core *c);
int al_layer_core_check_batch(const al_layer_core *c, unsigned B, const char *where);

#endif

/* airlearn — a small network's parameters, optimiser and checkpoint.
 *
 * A model is an ordered list of parametric layers (dense or embedding)
 * whose parameters, gradients and Adam moments live in three contiguous
 * blocks owned by the model. The network code (tx/, rx/) wires the layers
 * together; the model gives it the layer objects, zeroes gradients, takes
 * optimiser steps, and saves or loads everything as one checkpoint.
 *
 * Checkpoint file (all integers and floats little-endian):
 *   "AIRLCKPT" | u32 format version (1) | u32 L | L bytes architecture
 *   string | u32 layers | per layer u32 kind, n_in, n_out, act |
 *   u64 n_params | f32 params[n] | Adam: f32 lr, beta1, beta2, eps,
 *   u64 steps, f32 m[n], f32 v[n] | u32 extra_len | extra bytes |
 *   u32 CRC-32 of everything before it.
 * Written to "PATH.tmp", fsync'ed, renamed over PATH, directory fsync'ed:
 * a crash leaves either the old or the new file, never a mix. Loading
 * validates size, magic, version, CRC and architecture before it changes
 * anything, so a bad file leaves the model as it was.
 *
 * Threading: one thread at a time per model.
 */
#ifndef AL_MODEL_H
#define AL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "al_adam.h"
#include "al_dense.h"
#include "al_embedding.h"

typedef enum {
    AL_LAYER_DENSE = 1,      /* n_in -> n_out on real vectors */
    AL_LAYER_EMBEDDING = 2,  /* n_in rows (index < n_in) -> n_out */
} al_layer_kind;

typedef struct {
    al_layer_kind kind;
    unsigned n_in;
    unsigned n_out;
    al_act act;
} al_layer_spec;

enum {
    AL_MODEL_MAX_LAYERS = 16,
    AL_MODEL_MAX_ARCH = 512,        /* bytes of the architecture string */
    AL_MODEL_MAX_EXTRA = 1u << 20,  /* bytes of caller state in a checkpoint */
};

typedef struct al_model al_model_t;

/*  arch       : free-form description the checkpoint must match on load
 *               (e.g. "tx M=256 N=4 power=average"), < AL_MODEL_MAX_ARCH
 *  layers     : [size: n_layers], 1 <= n_layers <= AL_MODEL_MAX_LAYERS
 *  max_batch  : largest batch any layer sees
 *  adam       : optimiser settings */
al_model_t *al_model_create(const char *arch, const al_layer_spec *layers,
                            unsigned n_layers, unsigned max_batch, al_adam_config adam);
void al_model_destroy(al_model_t **self_p);

/* Fresh random weights from seed: He-normal for ReLU layers, Glorot-uniform
 * otherwise; biases zero. Also resets Adam and zeroes gradients. */
void al_model_init(al_model_t *m, uint64_t seed);

unsigned al_model_num_layers(const al_model_t *m);
/* The i-th layer, or NULL if it is of the other kind or i is out of range. */
al_dense_t *al_model_dense(al_model_t *m, unsigned i);
al_embedding_t *al_model_embedding(al_model_t *m, unsigned i);

void al_model_zero_grad(al_model_t *m);
/* One Adam step on all parameters with the accumulated gradients. */
int al_model_step(al_model_t *m);
al_adam_t *al_model_adam(al_model_t *m);

size_t al_model_num_params(const al_model_t *m);
float *al_model_params(al_model_t *m);
float *al_model_grads(al_model_t *m);
const char *al_model_arch(const al_model_t *m);

/* Save atomically. extra [size: extra_len] is opaque caller state
 * (schedule position, session, ...), extra_len <= AL_MODEL_MAX_EXTRA. */
int al_model_save(al_model_t *m, const char *path, const void *extra, uint32_t extra_len);

/* Load into m. On success copies the caller state into extra (capacity
 * extra_cap) and its size into *extra_len (either may be NULL/0 if the
 * caller keeps none; a larger stored blob is an error). Errors: AL_EIO
 * (cannot read), AL_EFORMAT (truncated, bad magic or version), AL_ECRC,
 * AL_EMISMATCH (another architecture); m is unchanged on any error. */
int al_model_load(al_model_t *m, const char *path, void *extra, uint32_t extra_cap,
                  uint32_t *extra_len);

/* Write buf [size: len] to path atomically (temp file, fsync, rename,
 * directory fsync). Shared by everything that persists state. */
int al_write_file_atomic(const char *path, const void *buf, size_t len);

#endif

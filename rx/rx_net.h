/* airlearn — the receiver network f_R: N received symbols -> p(m).
 *
 * Two kinds (SPEC §1), one descriptor table drives parsing and --help:
 *  awgn   : y (2N reals, interleaved I/Q) -> Dense(2N -> H, ReLU)
 *           -> Dense(H -> M) -> softmax.
 *  fading : y is first scaled to unit RMS per message (u = y / rms(y):
 *           the fading gain's magnitude carries no information about the
 *           message, and a tanh estimator cannot follow it over the
 *           orders of magnitude Rayleigh fading spans); an estimator
 *           branch Dense(2N -> E, tanh) -> Dense(E -> 2) gives a complex
 *           h_hat from u; u is equalised, z = u / h_hat (computed as
 *           u conj(h) / (|h|^2 + eps)), and z goes through the same two
 *           layers. Trained jointly; h_hat has no label.
 *
 * Per-message loss l_i = -log p_{m_i}(y_i); decision argmax.
 * Threading: one thread at a time per object. Buffers for max_batch
 * messages are allocated at create; no call allocates afterwards.
 */
#ifndef RX_NET_H
#define RX_NET_H

#include <stdint.h>

#include "al_model.h"

typedef enum {
    RX_KIND_AWGN = 0,
    RX_KIND_FADING = 1,
} rx_kind;

/* "awgn", "fading"; parse returns 0 or AL_EINVAL. The names, index =
 * rx_kind, NULL-terminated (for option tables). */
extern const char *const rx_kind_names[];
const char *rx_kind_name(rx_kind kind);
int rx_kind_parse(const char *text, rx_kind *kind);

typedef struct {
    unsigned M;          /* messages, 2..65536 */
    unsigned N;          /* complex symbols per message, 1..64 */
    unsigned hidden;     /* width of the first dense layer (0: M) */
    unsigned est_hidden; /* width of the estimator branch (0: 20) */
    rx_kind kind;
    int unscaled;        /* fading: 0 (default) scales y to unit RMS first;
                            1 feeds y as received, the SPEC's literal
                            y / h_hat (an ablation: lower loss, see README) */
    float lr;            /* Adam learning rate */
    unsigned max_batch;  /* most messages per call */
} rx_net_config;

/* SPEC defaults: hidden M, estimator 20, lr 1e-3, max_batch 1024. */
rx_net_config rx_net_config_default(unsigned M, unsigned N, rx_kind kind);

typedef struct rx_net rx_net_t;

rx_net_t *rx_net_create(const rx_net_config *cfg);
void rx_net_destroy(rx_net_t **self_p);

/* Random weights from seed; the estimator starts near h_hat = 1. */
int rx_net_init(rx_net_t *q, uint64_t seed);

/* Logits of B messages.  y [size: B*2N]; returns a pointer to the logits
 * [size: B*M], valid until the next call on q. NULL on error. */
const float *rx_net_forward(rx_net_t *q, const float *y, unsigned B);

/* Hard decisions.  decisions [size: B]. */
int rx_net_decide(rx_net_t *q, const float *y, unsigned B, uint32_t *decisions);

/* Per-message losses with the network frozen (TX training phase).
 * labels [size: B] < M; losses [size: B]; decisions [size: B] or NULL. */
int rx_net_losses(rx_net_t *q, const float *y, const uint32_t *labels, unsigned B,
                  float *losses, uint32_t *decisions);

/* Gradient of the mean loss over the batch, without stepping: zeroes and
 * fills al_model_grads(); writes dL/dy [size: B*2N] when dy is not NULL;
 * *mean_loss (if not NULL) gets the batch mean loss. */
int rx_net_gradient(rx_net_t *q, const float *y, const uint32_t *labels, unsigned B,
                    float *dy, float *mean_loss);

/* Supervised step: rx_net_gradient then one Adam step. */
int rx_net_train_step(rx_net_t *q, const float *y, const uint32_t *labels, unsigned B,
                      float *dy, float *mean_loss);

const rx_net_config *rx_net_get_config(const rx_net_t *q);
al_model_t *rx_net_model(rx_net_t *q);

/* Floating-point operations of one forward pass of B messages (the layers'
 * products, al_dense_forward_flops). */
double rx_net_forward_flops(const rx_net_t *q, unsigned B);

/* Of one rx_net_gradient or rx_net_train_step: the forward pass plus each
 * layer's backward products (al_dense_backward_flops); with_dy as dy !=
 * NULL there. */
double rx_net_train_flops(const rx_net_t *q, unsigned B, int with_dy);

#endif

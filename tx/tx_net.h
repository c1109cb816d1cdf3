/* airlearn — the transmitter network f_T and its two training rules.
 *
 * f_T maps a message m in 0..M-1 to N complex symbols (SPEC §1):
 * Embedding(M -> H, ReLU) (= Dense on one-hot(m)) -> Dense(H -> 2N, linear)
 * -> power normalisation. Because every message is a row of the same
 * table, the network is always evaluated on all M messages at once and the
 * result kept as an M x N complex table (interleaved I, Q): encoding a
 * message is a row lookup, and the table is rebuilt after every update.
 *
 * Training rules:
 *  - tx_net_pg_step: model-free policy gradient from per-message losses
 *    only (what the TX daemon does; nothing of the channel or the RX is
 *    seen): grad = (1/B) sum_i (l_i - b) * (2 sqrt(1-s2)/s2) * w_i chained
 *    through f_T, where x_p,i = sqrt(1-s2) x_i + w_i, w_i ~ CN(0, s2 I).
 *  - tx_net_grad_step: given dL/dx per message (only possible when the
 *    channel is simulated and differentiable), the supervised reference.
 *
 * Threading: one thread at a time per object. Buffers are sized at create
 * (max_batch messages per step); steps allocate nothing.
 */
#ifndef TX_NET_H
#define TX_NET_H

#include <stdint.h>

#include "al_model.h"
#include "al_powernorm.h"
#include "al_rng.h"

typedef enum {
    TX_BASELINE_NONE = 0,  /* exactly the paper's estimator */
    TX_BASELINE_MEAN = 1,  /* subtract the batch-mean loss (less variance) */
} tx_baseline;

/* "none", "mean"; parse returns 0 or AL_EINVAL. The names, index =
 * tx_baseline, NULL-terminated (for option tables). */
extern const char *const tx_baseline_names[];
const char *tx_baseline_name(tx_baseline b);
int tx_baseline_parse(const char *text, tx_baseline *b);

typedef struct {
    unsigned M;            /* messages, 2..65536 */
    unsigned N;            /* complex channel uses per message, 1..64 */
    unsigned hidden;       /* width of the embedding layer (0: M) */
    al_power_mode power;   /* power normalisation */
    float sigma2;          /* policy perturbation variance, in (0, 1) */
    tx_baseline baseline;  /* policy-gradient baseline */
    float lr;              /* Adam learning rate */
    unsigned max_batch;    /* most messages in one training step */
} tx_net_config;

/* Defaults of SPEC §1 for given M, N (hidden = M, average power, sigma2
 * 0.02, mean baseline, lr 1e-3, max_batch 1024). */
tx_net_config tx_net_config_default(unsigned M, unsigned N);

typedef struct tx_net tx_net_t;

tx_net_t *tx_net_create(const tx_net_config *cfg);
void tx_net_destroy(tx_net_t **self_p);

/* Random weights from seed, fresh optimiser, table rebuilt, version 0. */
int tx_net_init(tx_net_t *q, uint64_t seed);

/* Rebuild the table after the parameters changed from outside (a loaded
 * checkpoint). */
int tx_net_rebuild(tx_net_t *q);

/* The current symbol table [size: M*2N], row m = codeword of message m. */
const float *tx_net_table(const tx_net_t *q);

/* x[i] = table[msgs[i]].  msgs [size: B] (< M, else AL_ERANGE);
 * x [size: B*2N]. B may be anything (no buffers involved). */
int tx_net_encode(const tx_net_t *q, const uint32_t *msgs, unsigned B, float *x);

/* Policy sample: x_p = sqrt(1 - sigma2) * table[msgs] + w, w ~ CN(0, sigma2)
 * drawn from rng. x_p, w [size: B*2N]; keep w until the losses return. */
int tx_net_perturb(const tx_net_t *q, const uint32_t *msgs, unsigned B, al_rng_t *rng,
                   float *x_p, float *w);

/* One policy-gradient Adam step from losses [size: B] of the perturbed
 * symbols whose perturbations were w [size: B*2N]; B <= max_batch.
 * Losses must be finite and >= 0 (AL_ERANGE otherwise, nothing changed). */
int tx_net_pg_step(tx_net_t *q, const uint32_t *msgs, const float *w,
                   const float *losses, unsigned B);

/* Gradient of the training objective with respect to the parameters for
 * a policy-gradient batch, without stepping (for tests): accumulates into
 * al_model_grads() after zeroing it. */
int tx_net_pg_gradient(tx_net_t *q, const uint32_t *msgs, const float *w,
                       const float *losses, unsigned B);

/* Supervised reference: one Adam step given dx [size: B*2N] = dL/dx for
 * each message's (unperturbed) symbols, already scaled (e.g. by 1/B). */
int tx_net_grad_step(tx_net_t *q, const uint32_t *msgs, const float *dx, unsigned B);

/* Gradient only (zeroes, then accumulates), for tests. */
int tx_net_gradient(tx_net_t *q, const uint32_t *msgs, const float *dx, unsigned B);

/* Parameter updates since init (the "TX model version" on the air). */
uint32_t tx_net_version(const tx_net_t *q);
void tx_net_set_version(tx_net_t *q, uint32_t version);

const tx_net_config *tx_net_get_config(const tx_net_t *q);
al_model_t *tx_net_model(tx_net_t *q);

/* Floating-point operations of one tx_net_grad_step or tx_net_pg_step:
 * the dense layer's products over the M-row table, backward (dW, dX) and
 * the rebuild's forward; the embedding's are lookups and scatters, the
 * table accumulation and Adam elementwise. */
double tx_net_step_flops(const tx_net_t *q);

#endif

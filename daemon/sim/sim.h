/* airlearn — symbol-level training and evaluation (`airlearn sim`).
 *
 * A sim_trainer owns one TX network, one RX network and a symbol-level
 * channel, and runs the training iterations of one method:
 *  SIM_SUPERVISED : one joint step per iteration, backpropagating through
 *                   the known channel (the reference upper bound).
 *  SIM_MODEL_FREE : per iteration rx_steps supervised RX steps on
 *                   unperturbed symbols, then tx_steps policy-gradient TX
 *                   steps that see only the per-message losses of the
 *                   frozen RX (tx_net_pg_step), exactly the calls the
 *                   daemons make; then `fine_tune` RX-only iterations.
 * Evaluation counts message errors of the trained pair over a channel.
 * Baselines: uncoded QPSK and 16-QAM, analytical for AWGN and simulated
 * with perfect channel knowledge for Rayleigh block fading.
 *
 * Threading: one thread at a time per trainer.
 */
#ifndef AL_SIM_H
#define AL_SIM_H

#include <stdint.h>

#include "al_powernorm.h"
#include "al_symchan.h"
#include "rx_net.h"
#include "tx_net.h"

typedef enum {
    SIM_SUPERVISED = 0,
    SIM_MODEL_FREE = 1,
} sim_method;

const char *sim_method_name(sim_method m); /* "supervised", "model-free" */

typedef struct {
    unsigned M, N;            /* messages, channel uses per message */
    unsigned hidden;          /* hidden width of both networks (0: M) */
    int rx_unscaled;          /* fading RX fed y as received (rx_net_config.unscaled) */
    al_chan_kind channel;     /* AWGN -> awgn receiver, Rayleigh -> fading */
    al_power_mode power;      /* TX power normalisation */
    double train_snr_db;      /* Es/N0 during training */
    double snr_ramp_db;       /* > 0: start this far below train_snr_db and rise
                                 linearly to it over the first half of the
                                 iterations; 0: constant */
    unsigned iterations;      /* training iterations */
    unsigned fine_tune;       /* RX-only iterations after model-free training */
    unsigned batch;           /* messages per step */
    unsigned rx_steps;        /* RX steps per model-free iteration */
    unsigned tx_steps;        /* TX steps per model-free iteration */
    double sigma2;            /* policy perturbation variance */
    tx_baseline baseline;     /* policy-gradient baseline */
    double lr_rx, lr_tx;      /* Adam learning rates at the start */
    double lr_decay;          /* learning rates fall exponentially to
                                 lr * lr_decay at the last iteration */
    uint64_t seed;            /* initial weights and all draws */
} sim_train_config;

typedef struct sim_trainer sim_trainer_t;

sim_trainer_t *sim_trainer_create(const sim_train_config *cfg, sim_method method);
void sim_trainer_destroy(sim_trainer_t **self_p);

/* Runs iteration number `it` (0-based; iterations >= cfg.iterations are
 * fine-tuning iterations). Reports the mean loss of the RX steps
 * (*rx_loss: the cross-entropy of the unperturbed system, or of the joint
 * step for supervised) and of the TX steps (*tx_loss; NAN when there was
 * no TX step). */
int sim_trainer_iteration(sim_trainer_t *q, unsigned it, float *rx_loss, float *tx_loss);

/* Quality of the two TX gradient estimators at the trainer's current
 * networks. The paper explains its model-free method's faster convergence
 * on fading by the variance the random channel adds to the supervised
 * gradient; this measures it. Over `draws` independent batches (drawn from
 * their own stream `stream`, so training is unchanged), each estimator's
 * per-batch gradient g of the TX parameters: the backprop gradient through
 * the known channel (what a supervised step uses) and the policy-gradient
 * estimate from the frozen RX's per-message losses (what a model-free TX
 * step uses). Nothing is stepped. draws >= 2. */
typedef struct {
    double snr_supervised;  /* |E g|^2 / E|g - E g|^2: signal-to-noise of one batch */
    double snr_policy;
    double cosine;          /* between the two estimators' mean gradients */
} sim_grad_stats;

int sim_trainer_grad_stats(sim_trainer_t *q, unsigned draws, uint64_t stream,
                           sim_grad_stats *stats);

tx_net_t *sim_trainer_tx(sim_trainer_t *q);
rx_net_t *sim_trainer_rx(sim_trainer_t *q);

/* Message errors of the trained pair at snr_db: draws batches of random
 * messages until min_errors errors or max_messages messages. */
int sim_eval(tx_net_t *tx, rx_net_t *rx, al_chan_kind channel, double snr_db,
             uint64_t max_messages, uint64_t min_errors, uint64_t seed,
             uint64_t *messages, uint64_t *errors);

/* The same, with the learned constellation detected by maximum likelihood
 * (nearest table entry; AWGN only) instead of the RX network: what the
 * constellation alone is worth. Same noise draws as sim_eval for the same
 * seed (with a receiver sized for 4096-message batches, as sim_trainer
 * makes it), so the two are a paired comparison. M * N <= SIM_ML_MAX_POINTS. */
enum { SIM_ML_MAX_POINTS = 256 };
int sim_eval_ml(tx_net_t *tx, double snr_db, uint64_t max_messages, uint64_t min_errors,
                uint64_t seed, uint64_t *messages, uint64_t *errors);

typedef enum {
    SIM_BASE_QPSK = 0,   /* N QPSK symbols, M = 4^N */
    SIM_BASE_QAM16 = 1,  /* N 16-QAM symbols, M = 16^N */
} sim_baseline_kind;

const char *sim_baseline_name(sim_baseline_kind k); /* "qpsk", "qam16" */

/* Whether the baseline has the same rate as (M, N). */
int sim_baseline_applies(sim_baseline_kind k, unsigned M, unsigned N);

/* Closed-form message error rate of N independent symbols over AWGN. */
double sim_baseline_ser_awgn(sim_baseline_kind k, unsigned N, double snr_db);

/* Simulated message errors with coherent detection (known h for Rayleigh
 * block fading) and per-symbol nearest-point decisions; same stopping rule
 * as sim_eval. */
int sim_baseline_simulate(sim_baseline_kind k, al_chan_kind channel, unsigned N,
                          double snr_db, uint64_t max_messages, uint64_t min_errors,
                          uint64_t seed, uint64_t *messages, uint64_t *errors);

#endif

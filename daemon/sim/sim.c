#include "sim.h"

#include "al_error.h"
#include "al_qam.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { EVAL_BATCH = 4096 };

struct sim_trainer {
    sim_train_config cfg;
    sim_method method;
    tx_net_t *tx;
    rx_net_t *rx;
    al_rng_t rng;      /* messages, channel, perturbations */
    double noise_var;  /* at the training SNR */
    uint32_t *msgs;    /* [batch] */
    float *x;          /* TX output [batch*2N] */
    float *w;          /* perturbations [batch*2N] */
    float *y;          /* RX input [batch*2N] */
    float *dy;         /* [batch*2N] */
    float *h;          /* fading gains [batch*2] */
    float *losses;     /* [batch] */
    double *grad_sum;  /* sim_trainer_grad_stats: [2 * TX parameters], made on first use */
};

const char *sim_method_name(sim_method m)
{
    return m == SIM_MODEL_FREE ? "model-free" : "supervised";
}

void sim_trainer_destroy(sim_trainer_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    sim_trainer_t *q = *self_p;
    tx_net_destroy(&q->tx);
    rx_net_destroy(&q->rx);
    free(q->msgs), free(q->x), free(q->w), free(q->y), free(q->dy), free(q->h), free(q->losses);
    free(q->grad_sum);
    free(q);
    *self_p = NULL;
}

sim_trainer_t *sim_trainer_create(const sim_train_config *cfg, sim_method method)
{
    if (cfg == NULL || cfg->batch == 0 || cfg->M < 2 || cfg->N == 0 ||
        !(cfg->lr_decay > 0.0 && cfg->lr_decay <= 1.0) ||
        !(cfg->snr_ramp_db >= 0.0 && cfg->snr_ramp_db <= 60.0)) {
        AL_FAIL(AL_EINVAL, "need a configuration with batch >= 1, M >= 2, N >= 1, "
                "lr_decay in (0, 1], snr_ramp_db in [0, 60]");
        return NULL;
    }
    sim_trainer_t *q = calloc(1, sizeof *q);
    if (q == NULL) {
        AL_FAIL(AL_ENOMEM, "no memory");
        return NULL;
    }
    q->cfg = *cfg;
    q->method = method;
    tx_net_config tc = tx_net_config_default(cfg->M, cfg->N);
    tc.hidden = cfg->hidden;
    tc.power = cfg->power;
    tc.sigma2 = (float)cfg->sigma2;
    tc.baseline = cfg->baseline;
    tc.lr = (float)cfg->lr_tx;
    tc.max_batch = cfg->batch;
    rx_net_config rc = rx_net_config_default(
        cfg->M, cfg->N, cfg->channel == AL_CHAN_RAYLEIGH_BLOCK ? RX_KIND_FADING : RX_KIND_AWGN);
    rc.hidden = cfg->hidden;
    rc.unscaled = cfg->rx_unscaled;
    rc.lr = (float)cfg->lr_rx;
    rc.max_batch = cfg->batch > EVAL_BATCH ? cfg->batch : EVAL_BATCH;
    q->tx = tx_net_create(&tc);
    q->rx = q->tx ? rx_net_create(&rc) : NULL;
    const size_t B = cfg->batch, two_n = 2 * (size_t)cfg->N;
    q->msgs = malloc(sizeof(uint32_t) * B);
    q->x = malloc(sizeof(float) * B * two_n);
    q->w = malloc(sizeof(float) * B * two_n);
    q->y = malloc(sizeof(float) * B * two_n);
    q->dy = malloc(sizeof(float) * B * two_n);
    q->h = malloc(sizeof(float) * B * 2);
    q->losses = malloc(sizeof(float) * B);
    if (!q->tx || !q->rx || !q->msgs || !q->x || !q->w || !q->y || !q->dy || !q->h || !q->losses) {
        if (q->tx && q->rx)
            AL_FAIL(AL_ENOMEM, "no memory for batch %u", cfg->batch);
        sim_trainer_destroy(&q);
        return NULL;
    }
    /* Same initial networks for both methods under one seed, so their
     * learning curves start from the same point. */
    tx_net_init(q->tx, cfg->seed * 2 + 1);
    rx_net_init(q->rx, cfg->seed * 2 + 2);
    al_rng_seed_stream(&q->rng, cfg->seed, 1000 + (uint64_t)method);
    q->noise_var = al_snr_db_to_noise_var(cfg->train_snr_db);
    return q;
}

/* One batch through the channel, every draw from rng: random messages
 * into msgs, sent as the TX's unperturbed symbols or as a policy sample
 * (perturbations kept in w), received into y with the fading gains in h. */
static int s_transmit(sim_trainer_t *q, al_rng_t *rng, int perturbed)
{
    const unsigned B = q->cfg.batch;
    for (unsigned i = 0; i < B; i++)
        q->msgs[i] = al_rng_below(rng, q->cfg.M);
    int rc = perturbed ? tx_net_perturb(q->tx, q->msgs, B, rng, q->x, q->w)
                       : tx_net_encode(q->tx, q->msgs, B, q->x);
    if (rc < 0)
        return rc;
    al_symchan_apply(q->cfg.channel, q->x, B, q->cfg.N, q->noise_var, rng, q->y, q->h);
    return AL_OK;
}

/* Supervised RX step on unperturbed symbols: what an RX_TRAIN frame does. */
static int s_rx_step(sim_trainer_t *q, float *loss)
{
    int rc = s_transmit(q, &q->rng, 0);
    return rc < 0 ? rc : rx_net_train_step(q->rx, q->y, q->msgs, q->cfg.batch, NULL, loss);
}

/* Policy-gradient TX step: what a TX_TRAIN frame and its loss report do.
 * The TX side sees msgs, its own perturbations and the losses only. */
static int s_tx_step(sim_trainer_t *q, float *loss)
{
    const unsigned B = q->cfg.batch;
    int rc = s_transmit(q, &q->rng, 1);
    if (rc < 0)
        return rc;
    rc = rx_net_losses(q->rx, q->y, q->msgs, B, q->losses, NULL);
    if (rc < 0)
        return rc;
    double s = 0;
    for (unsigned i = 0; i < B; i++)
        s += q->losses[i];
    *loss = (float)(s / B);
    return tx_net_pg_step(q->tx, q->msgs, q->w, q->losses, B);
}

/* Joint step through the known channel (reference). */
static int s_joint_step(sim_trainer_t *q, float *loss)
{
    const unsigned B = q->cfg.batch;
    int rc = s_transmit(q, &q->rng, 0);
    if (rc < 0)
        return rc;
    rc = rx_net_train_step(q->rx, q->y, q->msgs, B, q->dy, loss);
    if (rc < 0)
        return rc;
    al_symchan_backward(q->cfg.channel, q->dy, q->h, B, q->cfg.N, q->dy);
    return tx_net_grad_step(q->tx, q->msgs, q->dy, B);
}

/* Exponential decay from lr to lr * lr_decay over the training iterations;
 * fine-tuning keeps the final rate. With an SNR ramp, the noise starts
 * snr_ramp_db stronger and falls to the training SNR's by half-way: the
 * noisier start spreads the points before the high-SNR phase packs them
 * (for M=16, N=1 it is what reliably finds a hexagonal packing). */
static void s_schedule(sim_trainer_t *q, unsigned it)
{
    if (q->cfg.snr_ramp_db > 0.0) {
        const double half = q->cfg.iterations / 2.0;
        const double below = it >= half ? 0.0 : q->cfg.snr_ramp_db * (1.0 - it / half);
        q->noise_var = al_snr_db_to_noise_var(q->cfg.train_snr_db - below);
    }
    const unsigned total = q->cfg.iterations + (q->method == SIM_MODEL_FREE ? q->cfg.fine_tune : 0);
    if (q->cfg.lr_decay == 1.0 || total < 2)
        return;
    const double f = pow(q->cfg.lr_decay, (double)(it < total ? it : total - 1) / (total - 1));
    al_adam_set_lr(al_model_adam(rx_net_model(q->rx)), (float)(q->cfg.lr_rx * f));
    al_adam_set_lr(al_model_adam(tx_net_model(q->tx)), (float)(q->cfg.lr_tx * f));
}

int sim_trainer_iteration(sim_trainer_t *q, unsigned it, float *rx_loss, float *tx_loss)
{
    *tx_loss = NAN;
    *rx_loss = NAN;
    s_schedule(q, it);
    if (q->method == SIM_SUPERVISED)
        return s_joint_step(q, rx_loss);
    const int fine_tuning = it >= q->cfg.iterations;
    double s = 0;
    for (unsigned k = 0; k < q->cfg.rx_steps; k++) {
        float l;
        int rc = s_rx_step(q, &l);
        if (rc < 0)
            return rc;
        s += l;
    }
    if (q->cfg.rx_steps > 0)
        *rx_loss = (float)(s / q->cfg.rx_steps);
    if (fine_tuning)
        return AL_OK;
    s = 0;
    for (unsigned k = 0; k < q->cfg.tx_steps; k++) {
        float l;
        int rc = s_tx_step(q, &l);
        if (rc < 0)
            return rc;
        s += l;
    }
    if (q->cfg.tx_steps > 0)
        *tx_loss = (float)(s / q->cfg.tx_steps);
    return AL_OK;
}

/* One batch's TX gradient by either estimator, left in the TX model's
 * gradient buffer; draws from rng, steps nothing. */
static int s_tx_gradient(sim_trainer_t *q, int policy, al_rng_t *rng)
{
    const unsigned B = q->cfg.batch;
    int rc = s_transmit(q, rng, policy);
    if (rc < 0)
        return rc;
    if (policy) {
        rc = rx_net_losses(q->rx, q->y, q->msgs, B, q->losses, NULL);
        return rc < 0 ? rc : tx_net_pg_gradient(q->tx, q->msgs, q->w, q->losses, B);
    }
    rc = rx_net_gradient(q->rx, q->y, q->msgs, B, q->dy, NULL);
    if (rc < 0)
        return rc;
    al_symchan_backward(q->cfg.channel, q->dy, q->h, B, q->cfg.N, q->dy);
    return tx_net_gradient(q->tx, q->msgs, q->dy, B);
}

int sim_trainer_grad_stats(sim_trainer_t *q, unsigned draws, uint64_t stream,
                           sim_grad_stats *stats)
{
    if (q == NULL || stats == NULL || draws < 2)
        return AL_FAIL(AL_EINVAL, "need a trainer, a result and at least 2 draws");
    al_model_t *model = tx_net_model(q->tx);
    const size_t P = al_model_num_params(model);
    if (q->grad_sum == NULL && (q->grad_sum = malloc(sizeof(double) * 2 * P)) == NULL)
        return AL_FAIL(AL_ENOMEM, "no memory for %zu gradient sums", 2 * P);
    memset(q->grad_sum, 0, sizeof(double) * 2 * P);
    al_rng_t rng;
    al_rng_seed_stream(&rng, q->cfg.seed, stream);
    double sq[2] = {0.0, 0.0};
    const float *g = al_model_grads(model);
    for (unsigned d = 0; d < draws; d++) {
        for (int policy = 0; policy < 2; policy++) {
            int rc = s_tx_gradient(q, policy, &rng);
            if (rc < 0)
                return rc;
            double *sum = q->grad_sum + (size_t)policy * P;
            for (size_t k = 0; k < P; k++) {
                sum[k] += g[k];
                sq[policy] += (double)g[k] * g[k];
            }
        }
    }
    /* Per batch: noise = E|g|^2 - |E g|^2 with the sample mean's own noise
     * (noise / draws) taken out of the signal; the unbiased forms of both. */
    double mean_sq[2] = {0.0, 0.0}, dot = 0.0;
    for (size_t k = 0; k < P; k++) {
        const double a = q->grad_sum[k] / draws, b = q->grad_sum[P + k] / draws;
        mean_sq[0] += a * a;
        mean_sq[1] += b * b;
        dot += a * b;
    }
    double snr[2];
    for (int e = 0; e < 2; e++) {
        const double noise = (sq[e] / draws - mean_sq[e]) * draws / (draws - 1.0);
        const double signal = mean_sq[e] - noise / draws;
        snr[e] = noise > 0.0 ? signal / noise : INFINITY;
    }
    stats->snr_supervised = snr[0];
    stats->snr_policy = snr[1];
    stats->cosine = mean_sq[0] > 0.0 && mean_sq[1] > 0.0 ? dot / sqrt(mean_sq[0] * mean_sq[1]) : 0.0;
    return AL_OK;
}

tx_net_t *sim_trainer_tx(sim_trainer_t *q) { return q->tx; }
rx_net_t *sim_trainer_rx(sim_trainer_t *q) { return q->rx; }

/* Decides b received messages y [b x 2N] into dec [b]. */
typedef int (*s_decide_fn)(void *ctx, const float *y, unsigned b, uint32_t *dec);

/* Draws batches of random messages through tx and the channel until
 * min_errors errors or max_messages messages; the draws depend only on
 * (seed, snr_db) and the batch size B, so every decision rule sees the
 * same noise. */
static int s_eval(tx_net_t *tx, al_chan_kind channel, double snr_db, uint64_t max_messages,
                  uint64_t min_errors, uint64_t seed, unsigned B, s_decide_fn decide, void *ctx,
                  uint64_t *messages, uint64_t *errors)
{
    const tx_net_config *tc = tx_net_get_config(tx);
    const unsigned N = tc->N, M = tc->M;
    uint32_t *msgs = malloc(sizeof(uint32_t) * B), *dec = malloc(sizeof(uint32_t) * B);
    float *y = malloc(sizeof(float) * B * 2 * N);
    if (!msgs || !dec || !y) {
        free(msgs), free(dec), free(y);
        return AL_FAIL(AL_ENOMEM, "no memory for evaluation buffers");
    }
    al_rng_t rng;
    al_rng_seed_stream(&rng, seed, (uint64_t)llround(snr_db * 1000.0) + (1ull << 40));
    const double nv = al_snr_db_to_noise_var(snr_db);
    uint64_t n = 0, e = 0;
    int rc = AL_OK;
    while (n < max_messages && e < min_errors) {
        unsigned b = max_messages - n < B ? (unsigned)(max_messages - n) : B;
        for (unsigned i = 0; i < b; i++)
            msgs[i] = al_rng_below(&rng, M);
        tx_net_encode(tx, msgs, b, y);
        al_symchan_apply(channel, y, b, N, nv, &rng, y, NULL);
        rc = decide(ctx, y, b, dec);
        if (rc < 0)
            break;
        for (unsigned i = 0; i < b; i++)
            e += dec[i] != msgs[i];
        n += b;
    }
    free(msgs), free(dec), free(y);
    *messages = n;
    *errors = e;
    return rc;
}

static int s_decide_rx(void *ctx, const float *y, unsigned b, uint32_t *dec)
{
    return rx_net_decide(ctx, y, b, dec);
}

/* Nearest table entry. */
static int s_decide_ml(void *ctx, const float *y, unsigned b, uint32_t *dec)
{
    tx_net_t *tx = ctx;
    const tx_net_config *tc = tx_net_get_config(tx);
    const unsigned n = 2 * tc->N;
    const float *table = tx_net_table(tx);
    for (unsigned i = 0; i < b; i++) {
        const float *yi = y + (size_t)i * n;
        unsigned best = 0;
        float best_d = INFINITY;
        for (unsigned m = 0; m < tc->M; m++) {
            const float *t = table + (size_t)m * n;
            float d = 0.0f;
            for (unsigned j = 0; j < n; j++)
                d += (yi[j] - t[j]) * (yi[j] - t[j]);
            if (d < best_d) {
                best_d = d;
                best = m;
            }
        }
        dec[i] = best;
    }
    return AL_OK;
}

int sim_eval(tx_net_t *tx, rx_net_t *rx, al_chan_kind channel, double snr_db,
             uint64_t max_messages, uint64_t min_errors, uint64_t seed,
             uint64_t *messages, uint64_t *errors)
{
    unsigned B = rx_net_get_config(rx)->max_batch;
    if (B > EVAL_BATCH)
        B = EVAL_BATCH;
    return s_eval(tx, channel, snr_db, max_messages, min_errors, seed, B, s_decide_rx, rx,
                  messages, errors);
}

int sim_eval_ml(tx_net_t *tx, double snr_db, uint64_t max_messages, uint64_t min_errors,
                uint64_t seed, uint64_t *messages, uint64_t *errors)
{
    const tx_net_config *tc = tx_net_get_config(tx);
    if ((unsigned long)tc->M * tc->N > SIM_ML_MAX_POINTS)
        return AL_FAIL(AL_EINVAL, "maximum-likelihood evaluation is for M*N <= %d",
                       SIM_ML_MAX_POINTS);
    return s_eval(tx, AL_CHAN_AWGN, snr_db, max_messages, min_errors, seed, EVAL_BATCH,
                  s_decide_ml, tx, messages, errors);
}

/* ---- baselines ------------------------------------------------------ */

const char *sim_baseline_name(sim_baseline_kind k)
{
    return k == SIM_BASE_QAM16 ? "qam16" : "qpsk";
}

int sim_baseline_applies(sim_baseline_kind k, unsigned M, unsigned N)
{
    const double bits = k == SIM_BASE_QAM16 ? 4.0 : 2.0;
    return N * bits <= 30 && (double)M == pow(2.0, N * bits);
}

/* One symbol of the baseline: per-symbol mapping, slicing and closed form
 * are al_qam's, shared with the daemons' EVAL frames. */
static al_qam_t *s_baseline_symbol(sim_baseline_kind k)
{
    return al_qam_create(k == SIM_BASE_QAM16 ? 4 : 2, 1);
}

double sim_baseline_ser_awgn(sim_baseline_kind k, unsigned N, double snr_db)
{
    al_qam_t *q = s_baseline_symbol(k);
    if (q == NULL)
        return NAN;
    /* Each of the N symbols errs independently. */
    const double ser = 1.0 - pow(1.0 - al_qam_ser_awgn(q, snr_db), (double)N);
    al_qam_destroy(&q);
    return ser;
}

int sim_baseline_simulate(sim_baseline_kind k, al_chan_kind channel, unsigned N,
                          double snr_db, uint64_t max_messages, uint64_t min_errors,
                          uint64_t seed, uint64_t *messages, uint64_t *errors)
{
    al_qam_t *q = s_baseline_symbol(k);
    if (q == NULL)
        return AL_ENOMEM;
    const uint32_t L = k == SIM_BASE_QAM16 ? 4 : 2;   /* levels per dimension */
    const unsigned level_bits = k == SIM_BASE_QAM16 ? 2 : 1;
    const double nv = al_snr_db_to_noise_var(snr_db);
    al_rng_t rng;
    al_rng_seed_stream(&rng, seed, (uint64_t)llround(snr_db * 1000.0) + (2ull << 40) + (uint64_t)k);
    uint64_t n = 0, e = 0;
    while (n < max_messages && e < min_errors) {
        float hr = 1.0f, hi = 0.0f;
        if (channel == AL_CHAN_RAYLEIGH_BLOCK)
            al_rng_cnormal(&rng, 1.0, &hr, &hi);
        const float g = hr * hr + hi * hi;
        int wrong = 0;
        for (unsigned s = 0; s < N; s++) {
            const uint32_t ia = al_rng_below(&rng, L), ib = al_rng_below(&rng, L);
            const uint32_t v = ia | ib << level_bits;
            float a, b;
            al_qam_point(q, v, &a, &b);
            float nr, ni;
            al_rng_cnormal(&rng, nv, &nr, &ni);
            const float yr = hr * a - hi * b + nr, yi = hr * b + hi * a + ni;
            /* Coherent detection: equalise with the known h. */
            const float zr = (yr * hr + yi * hi) / g, zi = (yi * hr - yr * hi) / g;
            wrong |= al_qam_slice(q, zr, zi) != v;
        }
        e += (uint64_t)wrong;
        n++;
    }
    al_qam_destroy(&q);
    *messages = n;
    *errors = e;
    return AL_OK;
}

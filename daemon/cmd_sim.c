/* `airlearn sim`: symbol-level training of both methods and SER sweeps. */
#include "commands.h"
#include "al_options.h"
#include "daemon_util.h"
#include "plot.h"
#include "sim.h"

#include "al_error.h"
#include "al_log.h"
#include "al_threads.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

/* Which methods run (--method). */
typedef enum { S_RUN_SUPERVISED, S_RUN_MODEL_FREE, S_RUN_BOTH } s_runs;
static const char *const s_runs_names[] = {"supervised", "model-free", "both", NULL};
typedef enum { S_RX_SCALED, S_RX_UNSCALED } s_rx_input;
static const char *const s_rx_input_names[] = {"scaled", "unscaled", NULL};
/* OPT_ENUM stores an int. */
_Static_assert(sizeof(s_runs) == sizeof(int) && sizeof(s_rx_input) == sizeof(int) &&
                   sizeof(al_chan_kind) == sizeof(int) && sizeof(tx_baseline) == sizeof(int) &&
                   sizeof(al_power_mode) == sizeof(int),
               "enum settings are int-sized");

typedef struct {
    s_runs method;
    al_chan_kind channel;
    unsigned M, N, hidden;
    s_rx_input rx_input;
    char train_snr[16];      /* dB or "auto" */
    double snr_ramp;         /* dB below train_snr at the start; 0: none */
    unsigned iterations;     /* 0: default for the channel */
    unsigned fine_tune;
    unsigned batch, rx_steps, tx_steps;
    double sigma2;
    tx_baseline baseline;
    al_power_mode power;
    double lr_rx, lr_tx, lr_decay;
    uint64_t seed;
    char sweep[64];          /* START:STOP:STEP dB */
    uint64_t eval_messages;  /* at most, per point */
    uint64_t min_errors;     /* stop a point after this many errors */
    unsigned threads;
    unsigned jobs;           /* methods trained at once */
    char out[512];
    unsigned log_every;      /* iterations per training.csv row */
    unsigned grad_every;     /* iterations per gradients.csv row; 0: none */
    unsigned grad_draws;     /* batches per gradient measurement */
} sim_opts;

#define O(field) offsetof(sim_opts, field)
static const opt_desc s_table[] = {
    {"sim", "method", OPT_ENUM, O(method), 0, 0, 0, s_runs_names, "both", "training method(s)"},
    {"sim", "channel", OPT_ENUM, O(channel), 0, 0, 0, al_chan_kind_names, "awgn",
     "awgn (fully connected RX) or rayleigh block fading (RX with h estimator)"},
    {"sim", "M", OPT_UINT, O(M), 0, 2, 65536, 0, "256", "messages"},
    {"sim", "N", OPT_UINT, O(N), 0, 1, 64, 0, "4", "complex channel uses per message"},
    {"sim", "hidden", OPT_UINT, O(hidden), 0, 0, 65536, 0, "0", "hidden layer width (0: M)"},
    {"sim", "rx-input", OPT_ENUM, O(rx_input), 0, 0, 0, s_rx_input_names, "scaled",
     "rayleigh: the RX scales each received message to unit RMS before estimating h, or "
     "takes it as received (the SPEC's literal y / h_hat)"},
    {"sim", "train-snr", OPT_STRING, O(train_snr), 16, 0, 0, 0, "auto",
     "training Es/N0 in dB (auto: 10 for awgn, 20 for rayleigh)"},
    {"sim", "snr-ramp", OPT_DOUBLE, O(snr_ramp), 0, 0, 60, 0, "0",
     "start training this many dB below --train-snr, rising to it by half-way (0: off)"},
    {"sim", "iterations", OPT_UINT, O(iterations), 0, 0, 10000000, 0, "0",
     "training iterations (0: the measured default, 20000)"},
    {"sim", "fine-tune", OPT_UINT, O(fine_tune), 0, 0, 10000000, 0, "3000",
     "RX-only iterations after model-free training"},
    {"sim", "batch", OPT_UINT, O(batch), 0, 1, 65536, 0, "1024", "messages per training step"},
    {"sim", "rx-steps", OPT_UINT, O(rx_steps), 0, 0, 1000, 0, "1", "RX steps per model-free iteration"},
    {"sim", "tx-steps", OPT_UINT, O(tx_steps), 0, 0, 1000, 0, "2", "TX steps per model-free iteration"},
    {"sim", "sigma2", OPT_DOUBLE, O(sigma2), 0, 1e-6, 0.5, 0, "0.02", "policy perturbation variance"},
    {"sim", "baseline", OPT_ENUM, O(baseline), 0, 0, 0, tx_baseline_names, "mean", "policy-gradient baseline"},
    {"sim", "power", OPT_ENUM, O(power), 0, 0, 0, al_power_mode_names, "average", "TX power normalisation"},
    {"sim", "lr-rx", OPT_DOUBLE, O(lr_rx), 0, 1e-7, 1, 0, "0.003", "RX Adam learning rate at the start"},
    {"sim", "lr-tx", OPT_DOUBLE, O(lr_tx), 0, 1e-7, 1, 0, "0.003", "TX Adam learning rate at the start"},
    {"sim", "lr-decay", OPT_DOUBLE, O(lr_decay), 0, 1e-4, 1, 0, "0.01",
     "learning rates decay exponentially to lr * lr-decay by the last iteration"},
    {"sim", "seed", OPT_U64, O(seed), 0, 0, 9007199254740992.0, 0, "1", "random seed"},
    {"sim", "sweep", OPT_STRING, O(sweep), 64, 0, 0, 0, "0:14:1", "evaluation SNRs START:STOP:STEP dB"},
    {"sim", "eval-messages", OPT_U64, O(eval_messages), 0, 1000, 1e12, 0, "10000000",
     "most messages per evaluation point"},
    {"sim", "min-errors", OPT_U64, O(min_errors), 0, 1, 1e9, 0, "100",
     "a point stops after this many errors"},
    {"sim", "threads", OPT_UINT, O(threads), 0, 1, 256, 0, "1", "OpenBLAS threads"},
    {"sim", "jobs", OPT_UINT, O(jobs), 0, 1, 2, 0, "2",
     "with --method both: methods trained and evaluated at once, each in its own thread "
     "(the results are the same; with --threads T they use 2T cores)"},
    {"sim", "out", OPT_STRING, O(out), 512, 0, 0, 0, "sim-out", "output directory"},
    {"sim", "log-every", OPT_UINT, O(log_every), 0, 1, 1000000, 0, "10",
     "iterations per training.csv row"},
    {"sim", "grad-stats", OPT_UINT, O(grad_every), 0, 0, 10000000, 0, "0",
     "every this many iterations, measure both TX gradient estimators (supervised backprop, "
     "policy gradient) at the current networks into gradients.csv (0: off)"},
    {"sim", "grad-draws", OPT_UINT, O(grad_draws), 0, 2, 100000, 0, "32",
     "batches per gradient measurement"},
    {0},
};
#undef O

static void s_usage(FILE *f)
{
    fprintf(f, "usage: airlearn sim [--config FILE] [--KEY VALUE ...]\n"
               "\n"
               "Trains the TX and RX networks at symbol level (no DSP) with the\n"
               "supervised reference and/or the model-free method, then measures\n"
               "the message error rate over an SNR sweep. Writes ser.csv,\n"
               "training.csv, constellation.csv and SVG plots into --out, and a\n"
               "summary table on stdout. A configuration file takes the same keys\n"
               "(key = value, optionally under [sim]).\n\noptions:\n");
    opt_print_help(s_table, f, 0);
}

typedef struct {
    double start, stop, step;
    unsigned count;
} sweep_t;

static int s_parse_sweep(const char *text, sweep_t *s)
{
    char extra;
    if (sscanf(text, "%lf:%lf:%lf%c", &s->start, &s->stop, &s->step, &extra) != 3 ||
        !isfinite(s->start) || !isfinite(s->stop) || !(s->step > 0) || s->stop < s->start)
        return AL_FAIL(AL_EINVAL, "--sweep '%s': expected START:STOP:STEP with STOP >= START, STEP > 0",
                       text);
    double n = floor((s->stop - s->start) / s->step + 1e-9) + 1;
    if (n > 1000)
        return AL_FAIL(AL_EINVAL, "--sweep '%s' has %.0f points (at most 1000)", text, n);
    s->count = (unsigned)n;
    return AL_OK;
}

/* Iterations that reach the documented quality with the defaults
 * (measured; see the README's sim section). */
static unsigned s_default_iterations(al_chan_kind channel, sim_method m)
{
    (void)channel, (void)m;
    return 20000;
}

static FILE *s_open_out(const sim_opts *o, const char *name)
{
    char path[640];
    snprintf(path, sizeof path, "%s/%s", o->out, name);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        AL_FAIL(AL_EIO, "cannot write %s: %s", path, strerror(errno));
    return f;
}

static void s_format_duration(double s, char *buf, size_t len)
{
    if (!(s >= 0) || s > 1e7)
        snprintf(buf, len, "?");
    else if (s >= 60)
        snprintf(buf, len, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(buf, len, "%.0fs", s);
}

typedef struct {
    sim_method method;
    tx_net_t *tx;          /* owned through the trainer */
    sim_trainer_t *trainer;
    double train_s;        /* wall time of training */
    unsigned iterations;   /* including fine-tuning */
    double *ser;           /* [sweep.count] */
    double *ser_ml;        /* the constellation with ML detection [sweep.count]; NULL if not run */
    char ml_name[32];
    /* Where its training.csv and ser.csv rows go: the job's files, or,
     * trained beside another run, buffers copied to them in run order. */
    FILE *training, *ser_csv;
    char *training_buf, *ser_buf;
    size_t training_len, ser_len;
} run_t;

/* One gradients.csv row: the signal-to-noise ratio of one batch's TX
 * gradient by each estimator and the agreement of their means, at the
 * networks after `done` iterations. Every run draws the same batches at
 * the same iteration. */
static int s_grad_row(const sim_opts *o, run_t *r, unsigned done, FILE *grads)
{
    sim_grad_stats st;
    int rc = sim_trainer_grad_stats(r->trainer, o->grad_draws, (1ull << 32) + done, &st);
    if (rc < 0)
        return rc;
    fprintf(grads, "%s,%u,%.6g,%.6g,%.6f\n", sim_method_name(r->method), done, st.snr_supervised,
            st.snr_policy, st.cosine);
    return AL_OK;
}

static int s_train(const sim_opts *o, const sim_train_config *tc, run_t *r, FILE *training,
                   FILE *grads, plot_series *curve)
{
    r->trainer = sim_trainer_create(tc, r->method);
    if (r->trainer == NULL)
        return AL_EINVAL;
    r->tx = sim_trainer_tx(r->trainer);
    const unsigned total = tc->iterations + (r->method == SIM_MODEL_FREE ? tc->fine_tune : 0);
    const double t0 = al_now_s();
    double last_report = t0, rx_acc = 0, tx_acc = 0;
    double diag_s = 0;  /* spent measuring gradients, left out of wall_s */
    unsigned rx_n = 0, tx_n = 0;
    for (unsigned it = 0; it < total; it++) {
        if (grads != NULL && it % o->grad_every == 0 && it < tc->iterations) {
            const double d0 = al_now_s();
            int rc = s_grad_row(o, r, it, grads);
            if (rc < 0)
                return rc;
            diag_s += al_now_s() - d0;
        }
        float rx_loss, tx_loss;
        int rc = sim_trainer_iteration(r->trainer, it, &rx_loss, &tx_loss);
        if (rc < 0)
            return rc;
        if (!isnan(rx_loss))
            rx_acc += rx_loss, rx_n++;
        if (!isnan(tx_loss))
            tx_acc += tx_loss, tx_n++;
        const double now = al_now_s() - diag_s;
        if ((it + 1) % o->log_every == 0 || it + 1 == total) {
            const char *rx_phase = r->method == SIM_SUPERVISED ? "joint"
                                   : it >= tc->iterations   ? "rx-finetune"
                                                            : "rx";
            if (rx_n > 0) {
                fprintf(training, "%s,%u,%s,%.6f,%.3f\n", sim_method_name(r->method), it + 1,
                        rx_phase, rx_acc / rx_n, now - t0);
                plot_series_add(curve, it + 1, rx_acc / rx_n);
            }
            if (tx_n > 0)
                fprintf(training, "%s,%u,tx,%.6f,%.3f\n", sim_method_name(r->method), it + 1,
                        tx_acc / tx_n, now - t0);
            if (now - last_report >= 2.0 || it + 1 == total) {
                char eta[32];
                const double rate = (it + 1) / (now - t0);
                /* The ETA counts the gradient measurements still to come. */
                s_format_duration((total - it - 1) * (now + diag_s - t0) / (it + 1), eta, sizeof eta);
                char tx_part[48] = "";
                if (tx_n > 0)
                    snprintf(tx_part, sizeof tx_part, ", tx phase loss %.4f", tx_acc / tx_n);
                fprintf(stderr, "sim: %s iteration %u/%u phase %s loss %.4f%s (%.0f it/s, ETA %s)\n",
                        sim_method_name(r->method), it + 1, total, rx_phase,
                        rx_n ? rx_acc / rx_n : NAN, tx_part, rate, eta);
                last_report = now;
            }
            rx_acc = tx_acc = 0;
            rx_n = tx_n = 0;
        }
    }
    r->train_s = al_now_s() - diag_s - t0;
    r->iterations = total;
    return AL_OK;
}

static void s_ser_row(FILE *csv, const char *name, al_chan_kind chan, const sim_opts *o,
                      double snr, uint64_t n, uint64_t e, double ser)
{
    fprintf(csv, "%s,%s,%u,%u,%.2f,%llu,%llu,%.6e\n", name, al_chan_name(chan), o->M, o->N, snr,
            (unsigned long long)n, (unsigned long long)e, ser);
}

/* SER of tx over the sweep into *ser (allocated here), one ser.csv row
 * per point: decided by the receiver network rx, or by maximum
 * likelihood on tx's table when rx is NULL. */
static int s_sweep(const sim_opts *o, const sweep_t *sw, al_chan_kind chan, const char *name,
                   tx_net_t *tx, rx_net_t *rx, FILE *csv, double **ser)
{
    *ser = calloc(sw->count, sizeof(double));
    if (*ser == NULL)
        return AL_FAIL(AL_ENOMEM, "no memory");
    for (unsigned i = 0; i < sw->count; i++) {
        const double snr = sw->start + i * sw->step;
        uint64_t n, e;
        int rc = rx ? sim_eval(tx, rx, chan, snr, o->eval_messages, o->min_errors, o->seed, &n, &e)
                    : sim_eval_ml(tx, snr, o->eval_messages, o->min_errors, o->seed, &n, &e);
        if (rc < 0)
            return rc;
        (*ser)[i] = (double)e / (double)n;
        s_ser_row(csv, name, chan, o, snr, n, e, (*ser)[i]);
        if (e < o->min_errors && (*ser)[i] >= 1e-5)
            al_warn("%s at %.1f dB: only %llu errors in %llu messages (raise --eval-messages)",
                    name, snr, (unsigned long long)e, (unsigned long long)n);
    }
    return AL_OK;
}

/* SNR where a curve crosses target (log-linear interpolation); NAN if it
 * never does within the sweep. */
static double s_snr_at(const sweep_t *sw, const double *ser, double target)
{
    for (unsigned i = 1; i < sw->count; i++) {
        if (ser[i - 1] >= target && ser[i] < target && ser[i] > 0) {
            const double x0 = sw->start + (i - 1) * sw->step;
            const double l0 = log10(ser[i - 1]), l1 = log10(ser[i]), lt = log10(target);
            return x0 + sw->step * (l0 - lt) / (l0 - l1);
        }
    }
    return NAN;
}

enum { REACH_ROWS = 5 };

/* The first x of a learning curve at which the mean of the last
 * REACH_ROWS points is below level; NAN if it never is. */
static double s_reach(const plot_series *c, double level)
{
    double sum = 0.0;
    for (size_t i = 0; i < c->n; i++) {
        sum += c->y[i];
        if (i >= REACH_ROWS)
            sum -= c->y[i - REACH_ROWS];
        const size_t rows = i + 1 < REACH_ROWS ? i + 1 : REACH_ROWS;
        if (sum / rows < level)
            return c->x[i];
    }
    return NAN;
}

/* Everything one `airlearn sim` invocation holds between its phases. */
typedef struct {
    sweep_t sw;
    al_chan_kind chan;
    double train_snr;
    run_t runs[2];
    unsigned n_runs;
    plot_series curves[2];          /* learning curves, by run */
    double *baseline_ser[2];        /* by sim_baseline_kind; NULL if it does not apply */
    FILE *training, *ser_csv, *cfg_out, *grads;
} sim_job;

/* Checks what the option table cannot (combinations, the sweep, the
 * training SNR) and fills the job's settings. */
static int s_job_settings(const sim_opts *o, sim_job *j)
{
    int rc = s_parse_sweep(o->sweep, &j->sw);
    if (rc < 0)
        return rc;
    j->chan = o->channel;
    j->train_snr = j->chan == AL_CHAN_RAYLEIGH_BLOCK ? 20.0 : 10.0;
    if (strcmp(o->train_snr, "auto") != 0) {
        char *end;
        j->train_snr = strtod(o->train_snr, &end);
        if (*end != '\0' || !isfinite(j->train_snr) || j->train_snr < -30 || j->train_snr > 60)
            return AL_FAIL(AL_EINVAL, "--train-snr '%s': expected auto or a number of dB in [-30, 60]",
                           o->train_snr);
    }
    if (o->rx_input == S_RX_UNSCALED && j->chan != AL_CHAN_RAYLEIGH_BLOCK)
        return AL_FAIL(AL_EINVAL, "--rx-input unscaled applies to the fading receiver "
                                  "(--channel rayleigh) only");
    if (o->rx_steps == 0 && o->method != S_RUN_SUPERVISED)
        return AL_FAIL(AL_EINVAL, "--rx-steps must be >= 1 for the model-free method");
    if (o->method == S_RUN_SUPERVISED || o->method == S_RUN_BOTH)
        j->runs[j->n_runs++] = (run_t){.method = SIM_SUPERVISED};
    if (o->method == S_RUN_MODEL_FREE || o->method == S_RUN_BOTH)
        j->runs[j->n_runs++] = (run_t){.method = SIM_MODEL_FREE};
    return AL_OK;
}

/* Opens the output files and writes their headers and config.ini. */
static int s_job_open(const sim_opts *o, sim_job *j)
{
    int rc = daemon_mkdir_p(o->out);
    if (rc < 0)
        return rc;
    j->training = s_open_out(o, "training.csv");
    j->ser_csv = s_open_out(o, "ser.csv");
    j->cfg_out = s_open_out(o, "config.ini");
    j->grads = o->grad_every ? s_open_out(o, "gradients.csv") : NULL;
    if (!j->training || !j->ser_csv || !j->cfg_out || (o->grad_every && !j->grads))
        return AL_EIO;
    opt_write_ini(s_table, o, j->cfg_out);
    fprintf(j->training, "method,iteration,phase,loss,wall_s\n");
    fprintf(j->ser_csv, "method,channel,M,N,snr_db,messages,errors,ser\n");
    if (j->grads)
        fprintf(j->grads, "method,iteration,snr_supervised,snr_policy,cosine\n");
    return AL_OK;
}

/* constellation.csv with runs 0..last. */
static int s_job_constellations(const sim_opts *o, sim_job *j, unsigned last)
{
    const char *labels[2];
    const float *tables[2];
    for (unsigned i = 0; i <= last; i++) {
        labels[i] = sim_method_name(j->runs[i].method);
        tables[i] = tx_net_table(j->runs[i].tx);
    }
    char cons_path[640];
    snprintf(cons_path, sizeof cons_path, "%s/constellation.csv", o->out);
    return plot_constellation_csv(cons_path, labels, tables, last + 1, o->M, o->N);
}

/* Trains run k and sweeps its SER (and, for AWGN, its constellation's ML
 * SER); run alone (not beside another), it also rewrites
 * constellation.csv with every run trained so far. */
static int s_job_train_run(const sim_opts *o, sim_job *j, unsigned k, int alone)
{
    run_t *r = &j->runs[k];
    sim_train_config tc = {
        .M = o->M, .N = o->N, .hidden = o->hidden, .rx_unscaled = o->rx_input == S_RX_UNSCALED,
        .channel = j->chan,
        .power = o->power,
        .train_snr_db = j->train_snr, .snr_ramp_db = o->snr_ramp,
        .iterations = o->iterations ? o->iterations : s_default_iterations(j->chan, r->method),
        .fine_tune = o->fine_tune, .batch = o->batch, .rx_steps = o->rx_steps,
        .tx_steps = o->tx_steps, .sigma2 = o->sigma2,
        .baseline = o->baseline,
        .lr_rx = o->lr_rx, .lr_tx = o->lr_tx, .lr_decay = o->lr_decay, .seed = o->seed,
    };
    j->curves[k].label = sim_method_name(r->method);
    int rc = s_train(o, &tc, r, r->training, j->grads, &j->curves[k]);
    if (rc < 0)
        return rc;
    fflush(r->training);
    /* Rewritten with each trained method, the earlier ones first. */
    if (alone && (rc = s_job_constellations(o, j, k)) < 0)
        return rc;
    const double t0 = al_now_s();
    rc = s_sweep(o, &j->sw, j->chan, sim_method_name(r->method), r->tx,
                 sim_trainer_rx(r->trainer), r->ser_csv, &r->ser);
    if (rc < 0)
        return rc;
    /* The learned constellation alone, detected by maximum likelihood
     * on the same noise: separates what the transmitter learned from
     * how well the receiver network decides. */
    if (j->chan == AL_CHAN_AWGN && (unsigned long)o->M * o->N <= SIM_ML_MAX_POINTS) {
        snprintf(r->ml_name, sizeof r->ml_name, "%s-ml", sim_method_name(r->method));
        rc = s_sweep(o, &j->sw, j->chan, r->ml_name, r->tx, NULL, r->ser_csv, &r->ser_ml);
        if (rc < 0)
            return rc;
    }
    fprintf(stderr, "sim: %s evaluated %u SNR points in %.1f s\n", sim_method_name(r->method),
            j->sw.count, al_now_s() - t0);
    fflush(r->ser_csv);
    return AL_OK;
}

typedef struct {
    const sim_opts *o;
    sim_job *j;
    unsigned k;
    int rc;
} s_worker;

static void *s_worker_main(void *arg)
{
    s_worker *w = arg;
    w->rc = s_job_train_run(w->o, w->j, w->k, 0);
    if (w->rc < 0)
        fprintf(stderr, "airlearn sim: %s: %s\n", sim_method_name(w->j->runs[w->k].method),
                al_error_message());
    return NULL;
}

/* Both runs at once, one thread each (the trainers share nothing, and each
 * draws from its own seeded streams, so the results are those of the runs
 * one after the other); their rows go to buffers, copied to the files in
 * run order. A thread inherits the subnormal flushing (al_threads.h). */
static int s_job_train_parallel(const sim_opts *o, sim_job *j)
{
    s_worker w[2];
    pthread_t th[2];
    int started[2] = {0, 0}, rc = AL_OK;
    for (unsigned k = 0; k < 2; k++) {
        run_t *r = &j->runs[k];
        r->training = open_memstream(&r->training_buf, &r->training_len);
        r->ser_csv = open_memstream(&r->ser_buf, &r->ser_len);
        if (r->training == NULL || r->ser_csv == NULL) {
            rc = AL_FAIL(AL_ENOMEM, "out of memory");
            break;
        }
    }
    for (unsigned k = 0; rc == AL_OK && k < 2; k++) {
        w[k] = (s_worker){o, j, k, AL_OK};
        if (pthread_create(&th[k], NULL, s_worker_main, &w[k]) != 0)
            rc = AL_FAIL(AL_ENOMEM, "cannot start a training thread");
        else
            started[k] = 1;
    }
    for (unsigned k = 0; k < 2; k++) {
        if (started[k]) {
            pthread_join(th[k], NULL);
            if (rc == AL_OK && w[k].rc < 0)
                rc = AL_FAIL(w[k].rc, "%s training failed (see above)",
                             sim_method_name(j->runs[k].method));
        }
    }
    for (unsigned k = 0; k < 2; k++) {
        run_t *r = &j->runs[k];
        if (r->training)
            fclose(r->training);
        if (r->ser_csv)
            fclose(r->ser_csv);
        r->training = r->ser_csv = NULL;
        if (r->training_buf)
            fwrite(r->training_buf, 1, r->training_len, j->training);
        if (r->ser_buf)
            fwrite(r->ser_buf, 1, r->ser_len, j->ser_csv);
        free(r->training_buf);
        free(r->ser_buf);
        r->training_buf = r->ser_buf = NULL;
    }
    fflush(j->training);
    fflush(j->ser_csv);
    if (rc == AL_OK)
        rc = s_job_constellations(o, j, 1);
    return rc;
}

/* Baselines of the same rate, on the same grid. */
static int s_job_baselines(const sim_opts *o, sim_job *j)
{
    const sweep_t *sw = &j->sw;
    for (int b = 0; b < 2; b++) {
        if (!sim_baseline_applies((sim_baseline_kind)b, o->M, o->N))
            continue;
        j->baseline_ser[b] = calloc(sw->count, sizeof(double));
        if (j->baseline_ser[b] == NULL)
            return AL_FAIL(AL_ENOMEM, "no memory");
        for (unsigned i = 0; i < sw->count; i++) {
            const double snr = sw->start + i * sw->step;
            uint64_t n = 0, e = 0;
            if (j->chan == AL_CHAN_AWGN) {
                /* Closed form: messages and errors 0 mark an analytical row. */
                j->baseline_ser[b][i] = sim_baseline_ser_awgn((sim_baseline_kind)b, o->N, snr);
            } else {
                sim_baseline_simulate((sim_baseline_kind)b, j->chan, o->N, snr, o->eval_messages,
                                      o->min_errors, o->seed, &n, &e);
                j->baseline_ser[b][i] = (double)e / (double)n;
            }
            s_ser_row(j->ser_csv, sim_baseline_name((sim_baseline_kind)b), j->chan, o, snr, n, e,
                      j->baseline_ser[b][i]);
        }
    }
    return AL_OK;
}

/* The SER table of the runs, their ML rows and the baselines. */
static void s_print_ser_table(const sim_job *j)
{
    printf("\n  snr_db");
    for (unsigned k = 0; k < j->n_runs; k++)
        printf(" %12s", sim_method_name(j->runs[k].method));
    for (unsigned k = 0; k < j->n_runs; k++)
        if (j->runs[k].ser_ml)
            printf(" %15s", j->runs[k].ml_name);
    for (int b = 0; b < 2; b++)
        if (j->baseline_ser[b])
            printf(" %12s", sim_baseline_name((sim_baseline_kind)b));
    printf("\n");
    for (unsigned i = 0; i < j->sw.count; i++) {
        printf("  %6.2f", j->sw.start + i * j->sw.step);
        for (unsigned k = 0; k < j->n_runs; k++)
            printf(" %12.3e", j->runs[k].ser[i]);
        for (unsigned k = 0; k < j->n_runs; k++)
            if (j->runs[k].ser_ml)
                printf(" %15.3e", j->runs[k].ser_ml[i]);
        for (int b = 0; b < 2; b++)
            if (j->baseline_ser[b])
                printf(" %12.3e", j->baseline_ser[b][i]);
        printf("\n");
    }
}

/* Convergence: the first logged iteration at which the loss of the
 * unperturbed system (RX-phase or joint cross-entropy), averaged over
 * the last REACH_ROWS rows of training.csv, falls below each level;
 * one batch's loss alone is too noisy to compare methods by. Levels
 * that no run reaches are left out (fading stops near 0.25). */
static void s_print_convergence(const sim_job *j)
{
    const double levels[] = {2.0, 1.0, 0.5, 0.4, 0.35, 0.3, 0.25, 0.2, 0.1, 0.05, 0.02, 0.01};
    enum { N_LEVELS = sizeof levels / sizeof levels[0] };
    double reach[2][N_LEVELS];
    int shown[N_LEVELS] = {0};
    for (unsigned k = 0; k < j->n_runs; k++)
        for (size_t l = 0; l < N_LEVELS; l++)
            if (!isnan(reach[k][l] = s_reach(&j->curves[k], levels[l])))
                shown[l] = 1;
    printf("\n  iterations to reach loss:");
    for (size_t l = 0; l < N_LEVELS; l++)
        if (shown[l])
            printf(" %6.2f", levels[l]);
    printf("\n");
    for (unsigned k = 0; k < j->n_runs; k++) {
        printf("  %-24s", sim_method_name(j->runs[k].method));
        for (size_t l = 0; l < N_LEVELS; l++) {
            if (!shown[l])
                continue;
            if (isnan(reach[k][l]))
                printf(" %6s", "-");
            else
                printf(" %6.0f", reach[k][l]);
        }
        printf("\n");
    }
}

/* SNR at SER 1e-3 and 1e-4 of every curve. */
static void s_print_snr_at(const sim_job *j)
{
    const double targets[] = {1e-3, 1e-4};
    for (size_t t = 0; t < 2; t++) {
        printf("\n  SNR at SER %.0e:", targets[t]);
        for (unsigned k = 0; k < j->n_runs; k++)
            printf("  %s %.2f dB", sim_method_name(j->runs[k].method),
                   s_snr_at(&j->sw, j->runs[k].ser, targets[t]));
        for (unsigned k = 0; k < j->n_runs; k++)
            if (j->runs[k].ser_ml)
                printf("  %s %.2f dB", j->runs[k].ml_name,
                       s_snr_at(&j->sw, j->runs[k].ser_ml, targets[t]));
        for (int b = 0; b < 2; b++)
            if (j->baseline_ser[b])
                printf("  %s %.2f dB", sim_baseline_name((sim_baseline_kind)b),
                       s_snr_at(&j->sw, j->baseline_ser[b], targets[t]));
    }
    printf("\n");
}

/* The summary on stdout. */
static void s_job_summary(const sim_opts *o, const sim_job *j)
{
    printf("airlearn sim: channel %s, M=%u, N=%u, trained at %.1f dB, seed %llu\n",
           al_chan_name(j->chan), o->M, o->N, j->train_snr, (unsigned long long)o->seed);
    for (unsigned k = 0; k < j->n_runs; k++)
        printf("  %-11s %u iterations in %.1f s (%.1f it/s)\n", sim_method_name(j->runs[k].method),
               j->runs[k].iterations, j->runs[k].train_s,
               j->runs[k].iterations / j->runs[k].train_s);
    s_print_ser_table(j);
    s_print_convergence(j);
    s_print_snr_at(j);
}

/* One plotted line of an SER against the sweep's SNRs. */
static void s_ser_line(plot_series *line, const char *label, const sweep_t *sw, const double *ser)
{
    line->label = label;
    for (unsigned i = 0; i < sw->count; i++)
        plot_series_add(line, sw->start + i * sw->step, ser[i]);
}

static void s_job_plots(const sim_opts *o, sim_job *j)
{
    plot_series ser_lines[6] = {{0}};
    unsigned n_lines = 0;
    for (unsigned k = 0; k < j->n_runs; k++)
        s_ser_line(&ser_lines[n_lines++], sim_method_name(j->runs[k].method), &j->sw,
                   j->runs[k].ser);
    for (unsigned k = 0; k < j->n_runs; k++)
        if (j->runs[k].ser_ml)
            s_ser_line(&ser_lines[n_lines++], j->runs[k].ml_name, &j->sw, j->runs[k].ser_ml);
    for (int b = 0; b < 2; b++)
        if (j->baseline_ser[b])
            s_ser_line(&ser_lines[n_lines++], sim_baseline_name((sim_baseline_kind)b), &j->sw,
                       j->baseline_ser[b]);
    char path[640];
    snprintf(path, sizeof path, "%s/ser.svg", o->out);
    plot_lines(path, "Message error rate", "Es/N0 (dB)", "SER", ser_lines, n_lines, 1);
    snprintf(path, sizeof path, "%s/training.svg", o->out);
    plot_lines(path, "Learning curves (cross-entropy of the unperturbed system)", "iteration",
               "loss", j->curves, j->n_runs, 1);
    for (unsigned k = 0; k < j->n_runs; k++) {
        snprintf(path, sizeof path, "%s/constellation-%s.svg", o->out,
                 sim_method_name(j->runs[k].method));
        plot_constellation(path, sim_method_name(j->runs[k].method), tx_net_table(j->runs[k].tx),
                           o->M, o->N);
    }
    for (unsigned i = 0; i < n_lines; i++)
        plot_series_free(&ser_lines[i]);
}

static void s_job_free(sim_job *j)
{
    for (unsigned k = 0; k < j->n_runs; k++) {
        sim_trainer_destroy(&j->runs[k].trainer);
        free(j->runs[k].ser);
        free(j->runs[k].ser_ml);
        plot_series_free(&j->curves[k]);
    }
    free(j->baseline_ser[0]);
    free(j->baseline_ser[1]);
    FILE *files[] = {j->training, j->grads, j->ser_csv, j->cfg_out};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (files[i])
            fclose(files[i]);
}

static int s_run(const sim_opts *o)
{
    sim_job j;
    memset(&j, 0, sizeof j);
    int rc = s_job_settings(o, &j);
    if (rc == 0)
        rc = al_threads_set((int)o->threads);
    if (rc == 0)
        rc = s_job_open(o, &j);
    if (rc == 0 && j.n_runs == 2 && o->jobs == 2 && j.grads == NULL) {
        rc = s_job_train_parallel(o, &j);
    } else {
        for (unsigned k = 0; rc == 0 && k < j.n_runs; k++) {
            j.runs[k].training = j.training;
            j.runs[k].ser_csv = j.ser_csv;
            rc = s_job_train_run(o, &j, k, 1);
        }
    }
    if (rc == 0)
        rc = s_job_baselines(o, &j);
    if (rc == 0) {
        s_job_summary(o, &j);
        s_job_plots(o, &j);
    }
    s_job_free(&j);
    return rc < 0 ? rc : AL_OK;
}

int cmd_sim(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            s_usage(stdout);
            return 0;
        }
    }
    sim_opts o;
    opt_origin origin;
    if (opt_load(s_table, &o, "sim", argc, argv, &origin) < 0)
        return daemon_settings_failed("sim", origin, EX_USAGE);
    int rc = s_run(&o);
    if (rc < 0) {
        fprintf(stderr, "airlearn sim: %s\n", al_error_message());
        return rc == AL_EINVAL ? EX_USAGE : rc == AL_EIO ? EX_CANTCREAT : EX_SOFTWARE;
    }
    return 0;
}

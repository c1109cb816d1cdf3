/* `airlearn bench nn`: the numeric core against the machine's own sgemm.
 *
 * Figures: sgemm_peak (a large square sgemm, the ceiling for everything
 * else), then for M in {16, 256} and batch in {64, 256, 1024}: the RX
 * forward pass with hard decisions, the RX forward pass with per-message
 * losses (what the RX does in the TX phase), one RX supervised training
 * step, and one TX policy-gradient step. Every figure carries its GFLOP/s
 * (the products counted by rx_net_forward_flops, rx_net_train_flops and
 * tx_net_step_flops; everything else is overhead against them) and the
 * fraction of sgemm_peak measured in the same run.
 *
 * rx_train_subnormal guards against issue 17's slowdown: the training step
 * of a receiver as confident as a trained one, every softmax probability
 * but one per message (and so most of the logits' gradient) subnormal,
 * with its speed relative to rx_train's at the same size. Near 1 when subnormals
 * are flushed (al_threads.h); AIRLEARN_FTZ=0 shows what they cost.
 */
#include "bench.h"

#include "al_error.h"
#include "al_log.h"
#include "al_rng.h"
#include "al_threads.h"
#include "al_model.h"
#include "rx_net.h"
#include "tx_net.h"

#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/* Seconds the calling thread spends running: with one OpenBLAS thread all
 * the work is on it, and time the machine's other processes hold the
 * core is left out. With more threads the workers' time is elsewhere, so
 * wall-clock time. */
static double s_clock(void)
{
    struct timespec ts;
    clock_gettime(al_threads_get() == 1 ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Seconds per call of f: the fastest of several blocks of calls filling
 * `seconds`. Other processes on a shared machine (caches, preemption with
 * several threads) only ever slow a block down, so the fastest block is
 * the closest to this machine's speed, for the peak and every figure
 * alike. */
static double s_time(void (*f)(void *arg), void *arg, double seconds)
{
    enum { BLOCKS = 8, MIN_CALLS = 2 };
    f(arg); /* warm caches and lazily started thread pools */
    double best = INFINITY;
    for (int b = 0; b < BLOCKS; b++) {
        const double t0 = s_clock(), w0 = al_now_s();
        unsigned calls = 0;
        while (calls < MIN_CALLS || al_now_s() - w0 < seconds / BLOCKS) {
            f(arg);
            calls++;
        }
        const double t = (s_clock() - t0) / calls;
        best = t < best ? t : best;
    }
    return best;
}

static void s_print_rate(FILE *out, const char *name, unsigned M, unsigned N, unsigned B,
                         double t, double flops, double peak)
{
    fprintf(out, "{\"bench\":\"%s\",\"M\":%u,\"N\":%u,\"batch\":%u,\"threads\":%d,"
                 "\"msgs_per_s\":%.0f,\"gflops\":%.2f,\"frac_of_peak\":%.3f",
            name, M, N, B, al_threads_get(), B / t, flops / t * 1e-9, flops / t * 1e-9 / peak);
}

typedef struct {
    unsigned n;
    float *a, *b, *c;
} sgemm_ctx;

static void s_sgemm(void *arg)
{
    sgemm_ctx *s = arg;
    const int n = (int)s->n;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, s->a, n, s->b, n,
                0.0f, s->c, n);
}

typedef struct {
    rx_net_t *rx;
    tx_net_t *tx;
    unsigned B;
    float *y;         /* [B*2N] received symbols */
    float *w;         /* [B*2N] perturbations */
    float *losses;    /* [B] */
    uint32_t *labels; /* [B] */
    uint32_t *dec;    /* [B] */
} net_ctx;

static void s_rx_forward(void *arg)
{
    net_ctx *c = arg;
    rx_net_decide(c->rx, c->y, c->B, c->dec);
}

static void s_rx_losses(void *arg)
{
    net_ctx *c = arg;
    rx_net_losses(c->rx, c->y, c->labels, c->B, c->losses, NULL);
}

static void s_rx_train(void *arg)
{
    net_ctx *c = arg;
    rx_net_train_step(c->rx, c->y, c->labels, c->B, NULL, NULL);
}

static void s_tx_pg(void *arg)
{
    net_ctx *c = arg;
    tx_net_pg_step(c->tx, c->labels, c->w, c->losses, c->B);
}

static double s_peak(const bench_opts *opts, FILE *out)
{
    sgemm_ctx s = {.n = opts->quick ? 256 : 1024};
    const size_t nn = (size_t)s.n * s.n;
    s.a = malloc(sizeof(float) * nn);
    s.b = malloc(sizeof(float) * nn);
    s.c = malloc(sizeof(float) * nn);
    if (!s.a || !s.b || !s.c) {
        free(s.a), free(s.b), free(s.c);
        return AL_FAIL(AL_ENOMEM, "no memory for sgemm buffers");
    }
    al_rng_t r;
    al_rng_seed(&r, 1);
    for (size_t i = 0; i < nn; i++) {
        s.a[i] = al_rng_uniformf(&r);
        s.b[i] = al_rng_uniformf(&r);
    }
    double t = s_time(s_sgemm, &s, opts->seconds);
    double gflops = 2.0 * s.n * s.n * s.n / t * 1e-9;
    fprintf(out, "{\"bench\":\"sgemm_peak\",\"n\":%u,\"threads\":%d,\"gflops\":%.2f,"
                 "\"flushing\":%d,\"core\":\"%s\"}\n",
            s.n, al_threads_get(), gflops, al_threads_flushing(), al_threads_blas_core());
    free(s.a), free(s.b), free(s.c);
    return gflops;
}

/* Puts the receiver where a confident one is: the output layer's weights
 * scaled down and its biases such that class 0 wins every message by
 * about 90, so exp(-90) = 8e-40 and every other probability, and its
 * gradient divided by the batch, is subnormal (below 1.2e-38). Adam's
 * steps move the biases by about lr each, so the receiver stays there for
 * thousands of steps. */
static void s_make_confident(rx_net_t *rx)
{
    const rx_net_config *cfg = rx_net_get_config(rx);
    al_dense_t *out = al_model_dense(rx_net_model(rx), 1);
    al_dense_params p = al_dense_get_params(out);
    const size_t n_w = (size_t)al_dense_n_in(out) * al_dense_n_out(out);
    for (size_t i = 0; i < n_w; i++)
        p.W[i] *= 1e-3f;
    for (unsigned j = 0; j < cfg->M; j++)
        p.b[j] = j == 0 ? 0.0f : -90.0f;
}

/* The four figures at M and B, then, when with_subnormal, the training
 * step once the receiver is made confident, relative to rx_train's. */
static int s_bench_net(const bench_opts *opts, FILE *out, unsigned M, unsigned B, double peak,
                       int with_subnormal)
{
    const unsigned N = 4;
    rx_net_config rc = rx_net_config_default(M, N, RX_KIND_AWGN);
    rc.max_batch = B;
    tx_net_config tc = tx_net_config_default(M, N);
    tc.max_batch = B;
    net_ctx c = {.B = B};
    c.rx = rx_net_create(&rc);
    c.tx = tx_net_create(&tc);
    c.y = malloc(sizeof(float) * B * 2 * N);
    c.w = malloc(sizeof(float) * B * 2 * N);
    c.losses = malloc(sizeof(float) * B);
    c.labels = malloc(sizeof(uint32_t) * B);
    c.dec = malloc(sizeof(uint32_t) * B);
    int rc_ = AL_OK;
    if (!c.rx || !c.tx || !c.y || !c.w || !c.losses || !c.labels || !c.dec) {
        rc_ = AL_FAIL(AL_ENOMEM, "cannot create M=%u batch=%u networks", M, B);
        goto out;
    }
    al_rng_t r;
    al_rng_seed(&r, 2);
    for (unsigned i = 0; i < B; i++)
        c.labels[i] = al_rng_below(&r, M);
    tx_net_perturb(c.tx, c.labels, B, &r, c.y, c.w);
    rx_net_losses(c.rx, c.y, c.labels, B, c.losses, NULL);

    const double forward = rx_net_forward_flops(c.rx, B);
    const struct {
        const char *name;
        void (*fn)(void *);
        double flops;
    } cases[] = {
        {"rx_forward", s_rx_forward, forward},
        {"rx_losses", s_rx_losses, forward},
        {"rx_train", s_rx_train, rx_net_train_flops(c.rx, B, 0)},
        {"tx_pg_step", s_tx_pg, tx_net_step_flops(c.tx)},
    };
    double t_train = 0.0;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        double t = s_time(cases[k].fn, &c, opts->seconds);
        if (cases[k].fn == s_rx_train)
            t_train = t;
        s_print_rate(out, cases[k].name, M, N, B, t, cases[k].flops, peak);
        fprintf(out, "}\n");
        fflush(out);
    }
    if (with_subnormal) {
        s_make_confident(c.rx);
        const double t = s_time(s_rx_train, &c, opts->seconds);
        s_print_rate(out, "rx_train_subnormal", M, N, B, t, cases[2].flops, peak);
        fprintf(out, ",\"rel_to_fresh\":%.3f,\"flushing\":%d}\n", t_train / t,
                al_threads_flushing());
        fflush(out);
    }
out:
    rx_net_destroy(&c.rx);
    tx_net_destroy(&c.tx);
    free(c.y), free(c.w), free(c.losses), free(c.labels), free(c.dec);
    return rc_;
}

int bench_nn(const bench_opts *opts, FILE *out)
{
    double peak = s_peak(opts, out);
    if (peak < 0)
        return (int)peak;
    const unsigned Ms[] = {16, 256};
    const unsigned Bs[] = {64, 256, 1024};
    for (size_t i = 0; i < 2; i++)
        for (size_t j = 0; j < 3; j++) {
            if (opts->quick && Bs[j] > 256)
                continue;
            const int subnormal = Ms[i] == 256 && Bs[j] == (opts->quick ? 256 : 1024);
            int rc = s_bench_net(opts, out, Ms[i], Bs[j], peak, subnormal);
            if (rc < 0)
                return rc;
        }
    return AL_OK;
}

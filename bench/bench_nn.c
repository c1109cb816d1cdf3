/* `airlearn bench nn`: the numeric core against the machine's own sgemm.
 *
 * Figures: sgemm_peak (a large square sgemm, the ceiling for everything
 * else), then for M in {16, 256} and batch in {64, 256, 1024}: the RX
 * forward pass with hard decisions, the RX forward pass with per-message
 * losses (what the RX does in the TX phase), one RX supervised training
 * step, and one TX policy-gradient step. Forward figures carry their
 * GFLOP/s and the fraction of sgemm_peak measured in the same run.
 */
#include "bench.h"

#include "al_error.h"
#include "al_rng.h"
#include "al_threads.h"
#include "rx_net.h"
#include "tx_net.h"

#include <cblas.h>
#include <stdint.h>
#include <stdlib.h>

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
    double t = bench_time_per_call(s_sgemm, &s, opts->seconds, 3);
    double gflops = 2.0 * s.n * s.n * s.n / t * 1e-9;
    fprintf(out, "{\"bench\":\"sgemm_peak\",\"n\":%u,\"threads\":%d,\"gflops\":%.2f}\n", s.n,
            al_threads_get(), gflops);
    free(s.a), free(s.b), free(s.c);
    return gflops;
}

static int s_bench_net(const bench_opts *opts, FILE *out, unsigned M, unsigned B, double peak)
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

    const double flops = rx_net_forward_flops(c.rx, B);
    const struct {
        const char *name;
        void (*fn)(void *);
        int is_forward;
    } cases[] = {
        {"rx_forward", s_rx_forward, 1},
        {"rx_losses", s_rx_losses, 1},
        {"rx_train", s_rx_train, 0},
        {"tx_pg_step", s_tx_pg, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        double t = bench_time_per_call(cases[k].fn, &c, opts->seconds, 3);
        fprintf(out, "{\"bench\":\"%s\",\"M\":%u,\"N\":%u,\"batch\":%u,\"threads\":%d,"
                     "\"msgs_per_s\":%.0f",
                cases[k].name, M, N, B, al_threads_get(), B / t);
        if (cases[k].is_forward)
            fprintf(out, ",\"gflops\":%.2f,\"frac_of_peak\":%.3f", flops / t * 1e-9,
                    flops / t * 1e-9 / peak);
        fprintf(out, "}\n");
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
            int rc = s_bench_net(opts, out, Ms[i], Bs[j], peak);
            if (rc < 0)
                return rc;
        }
    return AL_OK;
}

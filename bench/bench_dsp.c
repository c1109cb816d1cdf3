/* `airlearn bench dsp`: the PHY on one core, at sps 2 and 4.
 *
 * tx_frame: frames built per second, as samples/s. rx_frontend: a stream
 * of frames at 10 dB Es/N0 separated by noise (half the samples are
 * frames), fed in 4096-sample blocks through DC removal, detection,
 * synchronisation, matched filtering, header decoding and the timing
 * drift; samples/s (also per second of CPU time) and frames/s. Also without DC removal, and with the
 * frames at an IF of 0.125 cycles/sample shifted down. */
#include "bench.h"

#include "al_error.h"
#include "al_log.h"
#include "al_rng.h"
#include "rx_frame.h"
#include "tx_frame.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void s_count(void *user, const rx_frame_result *r)
{
    (void)r;
    (*(unsigned *)user)++;
}

/* This thread's CPU time, s: on a shared machine the wall clock also
 * counts the other processes' turns. */
static double s_cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The RX stream x [size: frames * slot]: each frame, then noise to the
 * end of its slot (twice the frame), at 10 dB Es/N0. */
static void s_rx_stream(tx_frame_t *tx, al_frame_header *h, const float *pay, float complex *x,
                        unsigned frames, size_t slot, unsigned sps, al_rng_t *r)
{
    const unsigned L = tx_frame_length(tx);
    const double nv = pow(10.0, -1.2) * sps / 10.0;
    for (unsigned f = 0; f < frames; f++) {
        h->seq = f;
        tx_frame_execute(tx, h, pay, x + (size_t)f * slot);
        memset(x + (size_t)f * slot + L, 0, sizeof *x * (slot - L));
    }
    for (size_t i = 0; i < frames * slot; i++) {
        float a, b;
        al_rng_cnormal(r, nv, &a, &b);
        x[i] += a + b * I;
    }
}

/* Feeds the stream x [size: len, frames frames] through rx for the set
 * time and prints a rx_frontend line. */
static void s_rx_bench(const bench_opts *opts, FILE *out, rx_frame_t *rx, unsigned *delivered,
                       const float complex *x, size_t len, unsigned frames, unsigned sps,
                       int dc_removal, float if_offset)
{
    *delivered = 0;
    const double t1 = al_now_s(), c1 = s_cpu_s();
    unsigned passes = 0;
    while (al_now_s() - t1 < opts->seconds || passes < 1) {
        for (size_t at = 0; at < len; at += 4096)
            rx_frame_execute(rx, x + at, len - at < 4096 ? len - at : 4096);
        passes++;
    }
    const double t_rx = al_now_s() - t1, c_rx = s_cpu_s() - c1;
    fprintf(out, "{\"bench\":\"rx_frontend\",\"sps\":%u,\"dc_removal\":%s,\"if_offset\":%g,"
                 "\"msps\":%.2f,\"cpu_msps\":%.2f,\"frames_per_s\":%.0f,\"frames_delivered\":%u,"
                 "\"frames_sent\":%u}\n",
            sps, dc_removal ? "true" : "false", (double)if_offset,
            (double)passes * len / t_rx * 1e-6, (double)passes * len / c_rx * 1e-6,
            *delivered / t_rx, *delivered, passes * frames);
}

static int s_bench_sps(const bench_opts *opts, FILE *out, unsigned sps)
{
    const unsigned P = 64, N = 4;
    tx_frame_config tc = {.frame = {.sps = sps, .rolloff = 0.35f, .messages = P, .N = N},
                          .level_dbfs = -12.0f};
    tx_frame_t *tx = tx_frame_create(&tc);
    unsigned delivered = 0;
    rx_frame_config rc = {.frame = tc.frame, .equalise = 1};
    rx_frame_t *rx = rx_frame_create(&rc, s_count, &delivered);
    const unsigned L = tx ? tx_frame_length(tx) : 0, frames = opts->quick ? 20 : 200;
    const size_t slot = 2 * (size_t)L, len = slot * frames;
    float complex *x = malloc(sizeof *x * len);
    float *pay = malloc(sizeof(float) * 2 * P * N);
    int rc_ = AL_OK;
    if (!tx || !rx || !x || !pay) {
        rc_ = AL_FAIL(AL_ENOMEM, "cannot set up the sps=%u benchmark", sps);
        goto out;
    }
    al_rng_t r;
    al_rng_seed(&r, 1);
    for (unsigned i = 0; i < P * N; i++)
        al_rng_cnormal(&r, 1.0, &pay[2 * i], &pay[2 * i + 1]);
    al_frame_header h = {.version = AL_FRAME_VERSION, .session = 1, .phase = AL_PHASE_TX_TRAIN,
                         .messages = (uint16_t)P};
    /* TX: frames per second. */
    const double t0 = al_now_s();
    unsigned built = 0;
    while (al_now_s() - t0 < opts->seconds || built < 10) {
        h.seq = built;
        tx_frame_execute(tx, &h, pay, x + (size_t)(built % frames) * slot);
        built++;
    }
    const double t_tx = al_now_s() - t0;
    fprintf(out, "{\"bench\":\"tx_frame\",\"sps\":%u,\"samples_per_frame\":%u,\"msps\":%.2f,"
                 "\"papr_db\":%.2f}\n",
            sps, L, (double)built * L / t_tx * 1e-6, tx_frame_papr_db(tx));
    s_rx_stream(tx, &h, pay, x, frames, slot, sps, &r);
    s_rx_bench(opts, out, rx, &delivered, x, len, frames, sps, 1, 0.0f);
    rx_frame_reset(rx);
    rx_frame_set_dc_removal(rx, 0);
    s_rx_bench(opts, out, rx, &delivered, x, len, frames, sps, 0, 0.0f);
    /* The same stream at an IF: frames shifted up at the transmitter. */
    const float if_offset = 0.125f;
    rc_ = tx_frame_set_if_offset(tx, if_offset);
    if (rc_ == AL_OK)
        s_rx_stream(tx, &h, pay, x, frames, slot, sps, &r);
    rx_frame_reset(rx);
    rx_frame_set_dc_removal(rx, 1);
    if (rc_ == AL_OK)
        rc_ = rx_frame_set_if_offset(rx, if_offset);
    if (rc_ == AL_OK)
        s_rx_bench(opts, out, rx, &delivered, x, len, frames, sps, 1, if_offset);
out:
    tx_frame_destroy(&tx);
    rx_frame_destroy(&rx);
    free(x);
    free(pay);
    return rc_;
}

int bench_dsp(const bench_opts *opts, FILE *out)
{
    int rc = s_bench_sps(opts, out, 2);
    return rc < 0 ? rc : s_bench_sps(opts, out, 4);
}

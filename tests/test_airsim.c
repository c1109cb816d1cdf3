/* Tests of driver=airsim: its argument and message parsers, and two
 * processes joined by a link through the real SoapySDR module (the
 * build tree's module, found through SOAPY_SDR_PLUGIN_PATH). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <SoapySDR/Device.h>
#include <SoapySDR/Errors.h>
#include <SoapySDR/Formats.h>
#include <complex.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "airsim_chan.h"
#include "airsim_config.h"
#include "airsim_link.h"
#include "airsim_txbuf.h"
#include "airsim_wire.h"
#include "al_bytes.h"
#include "al_error.h"
#include "al_log.h"
#include "al_radio.h"
#include "al_rng.h"
#include "unit_noise.h"

enum { RATE = 1000000 };   /* 1 Msps: one tick is one microsecond */

/* ---------------------------------------------------------------- */
/* device arguments */

static int s_parse(const char *const *kv)
{
    airsim_config c;
    airsim_config_default(&c);
    for (; kv[0]; kv += 2)
        if (airsim_config_set(&c, kv[0], kv[1]) != 0)
            return -1;
    return airsim_config_finish(&c);
}

static void test_airsim_config_rejects_bad_arguments(void **state)
{
    (void)state;
    const char *ok[] = {"driver", "airsim", "link", "tcp://127.0.0.1:5999", "snr_db", "12",
                        "multipath", "1,0.3+0.2j,-0.1j", "fading", "rayleigh", "doppler", "5",
                        NULL};
    assert_int_equal(s_parse(ok), 0);
    const char *unknown[] = {"snrdb", "10", NULL};
    assert_int_not_equal(s_parse(unknown), 0);
    assert_non_null(strstr(al_error_message(), "snrdb"));
    const char *both[] = {"snr_db", "10", "noise_dbfs", "-40", NULL};
    assert_int_not_equal(s_parse(both), 0);
    const char *link[] = {"link", "udp://x", NULL};
    assert_int_not_equal(s_parse(link), 0);
    const char *taps[] = {"multipath", "1,0.3+j", NULL};
    assert_int_not_equal(s_parse(taps), 0);
    const char *zero[] = {"multipath", "0,0", NULL};
    assert_int_not_equal(s_parse(zero), 0);
    const char *nodop[] = {"fading", "rayleigh", NULL};
    assert_int_not_equal(s_parse(nodop), 0);
    const char *range[] = {"delay", "-1", NULL};
    assert_int_not_equal(s_parse(range), 0);
    const char *nan[] = {"cfo", "nan", NULL};
    assert_int_not_equal(s_parse(nan), 0);
}

static void test_airsim_config_parses_taps(void **state)
{
    (void)state;
    airsim_config c;
    airsim_config_default(&c);
    assert_int_equal(airsim_config_set(&c, "multipath", "1,0.3+0.2j,-0.1j"), 0);
    assert_int_equal(airsim_config_finish(&c), 0);
    assert_int_equal(c.ntaps, 3);
    const float want[6] = {1.0f, 0.0f, 0.3f, 0.2f, 0.0f, -0.1f};
    for (int i = 0; i < 6; i++)
        assert_float_equal(c.taps[i], want[i], 1e-6);
}

/* ---------------------------------------------------------------- */
/* burst messages */

static size_t s_message(uint8_t *buf, unsigned count)
{
    airsim_wire_header h = {AIRSIM_FLAG_START, 42, 7, 1000, 990, count, -12.5, 2.4e9};
    airsim_wire_pack(&h, buf);
    for (unsigned i = 0; i < 2 * count; i++)
        al_put_f32(buf + AIRSIM_WIRE_HEADER + 4 * i, 0.25f * (float)i);
    return AIRSIM_WIRE_HEADER + 8 * (size_t)count;
}

static void test_airsim_wire_round_trip(void **state)
{
    (void)state;
    static uint8_t buf[AIRSIM_WIRE_HEADER + 8 * 16];
    size_t len = s_message(buf, 16);
    airsim_wire_header h;
    assert_int_equal(airsim_wire_parse(buf, len, &h), 0);
    assert_int_equal(h.flags, AIRSIM_FLAG_START);
    assert_int_equal(h.instance, 42);
    assert_int_equal(h.seq, 7);
    assert_int_equal(h.time, 1000);
    assert_int_equal(h.tx_now, 990);
    assert_int_equal(h.count, 16);
    assert_true(h.ppm == -12.5);
    assert_true(h.freq == 2.4e9);
}

static void test_airsim_wire_rejects_malformed(void **state)
{
    (void)state;
    static uint8_t buf[AIRSIM_WIRE_HEADER + 8 * 16];
    airsim_wire_header h;
    size_t len = s_message(buf, 16);
    assert_int_equal(airsim_wire_parse(buf, len - 1, &h), AL_EFORMAT);     /* truncated */
    assert_int_equal(airsim_wire_parse(buf, 10, &h), AL_EFORMAT);          /* no header */
    struct { size_t at; uint8_t value; } bad[] = {
        {0, 'X'},            /* magic */
        {4, 1},              /* version: 1 had no oscillator fields */
        {5, 0x80},           /* unknown flag */
        {6, 1},              /* reserved */
        {40, 17},            /* count does not match the length */
        {44, 1},             /* reserved */
        {31, 0x80},          /* negative time */
        {55, 0x7f},          /* ppm: exponent field 0x7f.. is huge or NaN */
        {63, 0xff},          /* freq negative */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s_message(buf, 16);
        buf[bad[i].at] = bad[i].value;
        assert_int_equal(airsim_wire_parse(buf, len, &h), AL_EFORMAT);
    }
    s_message(buf, 16);
    al_put_f32(buf + AIRSIM_WIRE_HEADER + 4 * 5, NAN);
    assert_int_equal(airsim_wire_parse(buf, len, &h), AL_EFORMAT);
    s_message(buf, 16);
    al_put_le32(buf + 40, 0);
    assert_int_equal(airsim_wire_parse(buf, AIRSIM_WIRE_HEADER, &h), AL_EFORMAT);
}

/* ---------------------------------------------------------------- */
/* two processes */

static void s_link(char *out, size_t len, const char *name)
{
    snprintf(out, len, "ipc://@airlearn-test-%s-%ld", name, (long)getpid());
}

static al_radio_t *s_open(const char *args, int direction)
{
    al_radio_config c = {args, direction, RATE, 915e6, NAN, 0, NULL, NULL};
    al_radio_t *r = al_radio_create(&c);
    if (r == NULL)
        fprintf(stderr, "%s\n", al_error_message());
    return r;
}

/* The other end of a two-process test is this binary again, started in
 * a child role (main below): exec rather than a bare fork, because the
 * parent already runs SoapySDR and ZeroMQ threads, and a fork copies
 * whatever lock one of them held at that instant (it hung a CI run once).
 * The child dies with the parent, so a failed test leaves no process
 * holding the runner's output open. */
static pid_t s_spawn_self(char *const argv[])
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    execv("/proc/self/exe", argv);
    _exit(127);
}

/* Child role: write burst (seed, n) at time t, then a burst of silence so
 * that a fast-clock receiver can see past the end; the exit status says
 * whether both were written. */
static int s_child_writer(const char *args, uint64_t seed, size_t n, int64_t t)
{
    al_radio_t *tx = NULL;
    for (int i = 0; i < 100 && tx == NULL; i++)
        tx = s_open(args, AL_RADIO_TX);
    float complex *x = unit_noise(seed, n);
    float complex *z = calloc(4096, sizeof *z);
    int ok = tx && al_radio_write_burst(tx, x, n, 1, t * 1000, 5000000) == (int)n &&
             al_radio_write_burst(tx, z, 4096, 1, (t + (int64_t)n + 10000) * 1000, 5000000) == 4096;
    al_radio_destroy(&tx);   /* flushes */
    free(x);
    free(z);
    return ok ? 0 : 1;
}

static pid_t s_spawn_writer(const char *args, uint64_t seed, size_t n, int64_t t)
{
    char a_seed[32], a_n[32], a_t[32];
    snprintf(a_seed, sizeof a_seed, "%llu", (unsigned long long)seed);
    snprintf(a_n, sizeof a_n, "%zu", n);
    snprintf(a_t, sizeof a_t, "%lld", (long long)t);
    char *const argv[] = {"test_airsim", "--child-writer", (char *)args, a_seed, a_n, a_t, NULL};
    return s_spawn_self(argv);
}

/* Reads labels [0, upto) into y (zeros where nothing came). */
static void s_collect(al_radio_t *rx, float complex *y, int64_t upto)
{
    float complex *buf = malloc(al_radio_mtu(rx) * sizeof *buf);
    uint64_t deadline = al_now_ms() + 20000;
    int64_t have = 0;
    while (have < upto) {
        if (al_now_ms() >= deadline)
            fail_msg("stream stopped at %lld of %lld", (long long)have, (long long)upto);
        int64_t t_ns;
        int n = al_radio_read(rx, buf, al_radio_mtu(rx), &t_ns, 100000);
        if (n == SOAPY_SDR_TIMEOUT || n == SOAPY_SDR_STREAM_ERROR)
            continue;
        assert_true(n > 0);
        int64_t t = t_ns / 1000;
        for (int i = 0; i < n; i++)
            if (t + i >= 0 && t + i < upto)
                y[t + i] = buf[i];
        have = t + n;
    }
    free(buf);
}

static void s_wait_ok(pid_t pid)
{
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_airsim_burst_arrives_intact_at_its_time(void **state)
{
    (void)state;
    /* Two independent links at once: each receiver gets its own burst. */
    enum { L = 5000, T1 = 10000, T2 = 12345 };
    char link1[128], link2[128], a1[256], a2[256];
    s_link(link1, sizeof link1, "intact1");
    s_link(link2, sizeof link2, "intact2");
    snprintf(a1, sizeof a1, "driver=airsim,clock=fast,link=%s", link1);
    snprintf(a2, sizeof a2, "driver=airsim,clock=fast,link=%s", link2);
    pid_t w1 = s_spawn_writer(a1, 11, L, T1);
    pid_t w2 = s_spawn_writer(a2, 22, L, T2);
    al_radio_t *r1 = s_open(a1, AL_RADIO_RX), *r2 = s_open(a2, AL_RADIO_RX);
    assert_non_null(r1);
    assert_non_null(r2);
    const int64_t upto = 20000;
    float complex *y1 = calloc(upto, sizeof *y1), *y2 = calloc(upto, sizeof *y2);
    s_collect(r1, y1, upto);
    s_collect(r2, y2, upto);
    float complex *x1 = unit_noise(11, L), *x2 = unit_noise(22, L);
    for (int64_t t = 0; t < upto; t++) {
        float complex e1 = (t >= T1 && t < T1 + L) ? x1[t - T1] : 0.0f;
        float complex e2 = (t >= T2 && t < T2 + L) ? x2[t - T2] : 0.0f;
        if (y1[t] != e1 || y2[t] != e2)
            fail_msg("sample at %lld differs", (long long)t);
    }
    s_wait_ok(w1);
    s_wait_ok(w2);
    al_radio_destroy(&r1);
    al_radio_destroy(&r2);
    free(y1); free(y2); free(x1); free(x2);
}

/* Received copy of burst (seed, L) sent at T by a TX device with
 * tx_extra arguments (or none) through an RX device with rx_extra ones;
 * y holds labels [T, T + L + 64). */
static float complex *s_receive_pair(const char *name, const char *tx_extra,
                                     const char *rx_extra, uint64_t seed, int64_t T, size_t L)
{
    char link[128], base[256], tx[512], rx[512];
    s_link(link, sizeof link, name);
    snprintf(base, sizeof base, "driver=airsim,clock=fast,link=%s", link);
    snprintf(tx, sizeof tx, "%s%s%s", base, tx_extra ? "," : "", tx_extra ? tx_extra : "");
    snprintf(rx, sizeof rx, "%s,%s", base, rx_extra);
    pid_t w = s_spawn_writer(tx, seed, L, T);
    al_radio_t *r = s_open(rx, AL_RADIO_RX);
    assert_non_null(r);
    int64_t upto = T + (int64_t)L + 64;
    float complex *all = calloc((size_t)upto, sizeof *all);
    s_collect(r, all, upto);
    s_wait_ok(w);
    al_radio_destroy(&r);
    float complex *y = malloc((L + 64) * sizeof *y);
    memcpy(y, all + T, (L + 64) * sizeof *y);
    free(all);
    return y;
}

/* Received copy of burst (seed, L) sent at T through an RX device with
 * extra arguments; y holds labels [T, T + L + 64). */
static float complex *s_receive_impaired(const char *name, const char *extra, uint64_t seed,
                                         int64_t T, size_t L)
{
    return s_receive_pair(name, NULL, extra, seed, T, L);
}

static void test_airsim_snr_matches_configuration(void **state)
{
    (void)state;
    enum { L = 60000, T = 1000 };
    float complex *y = s_receive_impaired("snr", "snr_db=10,seed=5", 31, T, L);
    float complex *x = unit_noise(31, L);
    double ps = 0, pn = 0;
    for (int i = 0; i < L; i++) {
        ps += crealf(x[i] * conjf(x[i]));
        float complex e = y[i] - x[i];
        pn += crealf(e * conjf(e));
    }
    double snr = 10 * log10(ps / pn);
    printf("airsim measured SNR %.3f dB (configured 10)\n", snr);
    assert_true(fabs(snr - 10.0) < 0.3);
    free(x);
    free(y);
}

/* Carrier offset (Hz) of y against the known x it carries, from the
 * phase advance of y x* over lag samples. */
static double s_cfo_estimate(const float complex *x, const float complex *y, int n, int lag)
{
    double complex acc = 0;
    for (int i = 0; i + lag < n; i++)
        acc += (y[i + lag] * conjf(x[i + lag])) * conj(y[i] * conjf(x[i]));
    return carg(acc) / (2 * M_PI * lag) * RATE;
}

/* Sends burst (seed, n) at time 1000 from a TX device with tx_extra
 * arguments to an RX device with rx_extra ones; the carrier offset
 * measured over `lag` is within 1 % of want. */
static void s_check_cfo(const char *name, const char *tx_extra, const char *rx_extra,
                        uint64_t seed, int n, int lag, double want)
{
    float complex *y = s_receive_pair(name, tx_extra, rx_extra, seed, 1000, (size_t)n);
    float complex *x = unit_noise(seed, (size_t)n);
    double est = s_cfo_estimate(x, y, n, lag);
    printf("airsim measured CFO %.2f Hz (expected %.2f; TX %s, RX %s)\n", est, want,
           tx_extra ? tx_extra : "-", rx_extra);
    assert_true(fabs(est - want) < 0.01 * fabs(want));
    free(x);
    free(y);
}

static void test_airsim_cfo_matches_configuration(void **state)
{
    (void)state;
    s_check_cfo("cfo", NULL, "cfo=1234,phase=0.5,snr_db=30", 32, 60000, 100, 1234.0);
}

static void test_airsim_tx_ppm_reaches_the_receiver(void **state)
{
    (void)state;
    /* The TX device's oscillator travels in the wire header: a TX at
     * +20 ppm tuned to 915 MHz (s_open) arrives 20 ppm x 915 MHz off at an
     * RX device without ppm of its own. 10000 samples drift 0.2 samples
     * apart, too little to decorrelate the estimator's products. */
    s_check_cfo("txppm", "ppm=20", "snr_db=30", 34, 10000, 20, 20e-6 * 915e6);
}

static void test_airsim_retuned_receiver_follows_its_frequency(void **state)
{
    (void)state;
    /* An RX device at ppm=10 retuned from 915 MHz to 2.4 GHz after its
     * stream is set up (SoapySDR setFrequency on a running device): the
     * carrier arrives -10 ppm x 2.4 GHz off, not x 915 MHz. */
    enum { L = 10000, T = 1000, LAG = 10 };
    const double cfo = -10e-6 * 2.4e9;
    char link[128], tx[256], rx[300];
    s_link(link, sizeof link, "retune");
    snprintf(tx, sizeof tx, "driver=airsim,clock=fast,link=%s", link);
    snprintf(rx, sizeof rx, "%s,ppm=10", tx);
    al_radio_route_logs();   /* the module's messages at this test's log level */
    SoapySDRDevice *dev = SoapySDRDevice_makeStrArgs(rx);
    assert_non_null(dev);
    size_t ch = 0;
    assert_int_equal(SoapySDRDevice_setSampleRate(dev, SOAPY_SDR_RX, 0, RATE), 0);
    assert_int_equal(SoapySDRDevice_setFrequency(dev, SOAPY_SDR_RX, 0, 915e6, NULL), 0);
    SoapySDRStream *st = SoapySDRDevice_setupStream(dev, SOAPY_SDR_RX, SOAPY_SDR_CF32, &ch, 1, NULL);
    assert_non_null(st);
    assert_int_equal(SoapySDRDevice_setFrequency(dev, SOAPY_SDR_RX, 0, 2.4e9, NULL), 0);
    assert_int_equal(SoapySDRDevice_activateStream(dev, st, 0, 0, 0), 0);
    pid_t w = s_spawn_writer(tx, 35, L, T);
    float complex *y = calloc(T + L, sizeof *y), *buf = malloc(4096 * sizeof *buf);
    void *buffs[1] = {buf};
    int64_t have = 0;
    uint64_t deadline = al_now_ms() + 20000;
    while (have < T + L && al_now_ms() < deadline) {
        int flags = 0;
        long long t_ns = 0;
        int n = SoapySDRDevice_readStream(dev, st, buffs, 4096, &flags, &t_ns, 100000);
        if (n <= 0)
            continue;
        int64_t t = t_ns / 1000;
        for (int i = 0; i < n; i++)
            if (t + i >= 0 && t + i < T + L)
                y[t + i] = buf[i];
        have = t + n;
    }
    assert_true(have >= T + L);
    s_wait_ok(w);
    SoapySDRDevice_deactivateStream(dev, st, 0, 0);
    SoapySDRDevice_closeStream(dev, st);
    SoapySDRDevice_unmake(dev);
    float complex *x = unit_noise(35, L);
    double est = s_cfo_estimate(x, y + T, L, LAG);
    printf("airsim measured CFO %.1f Hz after retuning to 2.4 GHz (expected %.1f)\n", est, cfo);
    assert_true(fabs(est - cfo) < 0.01 * fabs(cfo));
    free(x);
    free(y);
    free(buf);
}

static void test_airsim_delay_matches_configuration(void **state)
{
    (void)state;
    enum { L = 20000, T = 1000, W = L + 64, NF = 48 };
    const double delay = 3.37;
    float complex *y = s_receive_impaired("delay", "delay=3.37", 33, T, L);
    float complex *x = unit_noise(33, L);
    /* Cross-spectrum phase slope over the band the delay filter passes:
     * arg(Y(f) X*(f)) = -2 pi f d. */
    double num = 0, den = 0;
    for (int k = 1; k <= NF; k++) {
        double f = 0.2 * k / NF;
        double complex X = 0, Y = 0, w = cexp(-2 * M_PI * I * f), p = 1;
        for (int n = 0; n < W; n++, p *= w) {
            if (n < L)
                X += x[n] * p;
            Y += y[n] * p;
        }
        double phi = carg(Y * conj(X) * cexp(2 * M_PI * I * f * 3.0));   /* remove 3 */
        double mag = cabs(Y * conj(X));
        num += mag * f * phi;
        den += mag * f * f;
    }
    double est = 3.0 - num / (2 * M_PI * den);
    printf("airsim measured delay %.4f samples (configured %.2f)\n", est, delay);
    assert_true(fabs(est - delay) < 0.05);
    free(x);
    free(y);
}

/* ---------------------------------------------------------------- */
/* a peer that goes away and comes back */

/* Child role: streams 0.5 (TX) or reads (RX) until killed. */
static _Noreturn void s_child_endless(const char *args, int direction)
{
    al_radio_t *r = NULL;
    while (r == NULL)
        r = s_open(args, direction);
    float complex *buf = calloc(4096, sizeof *buf);
    for (int i = 0; i < 4096; i++)
        buf[i] = 0.5f;
    for (;;) {
        int64_t t;
        if (direction == AL_RADIO_TX)
            al_radio_write(r, buf, 4096, 0, 0, 0, 100000);
        else
            al_radio_read(r, buf, 4096, &t, 100000);
    }
}

static pid_t s_spawn_endless(const char *args, int direction)
{
    char *const argv[] = {"test_airsim", "--child-endless", (char *)args,
                          direction == AL_RADIO_TX ? "tx" : "rx", NULL};
    return s_spawn_self(argv);
}

static void s_kill(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* Reads until a stream error (peer gone); returns the time it took. */
static int s_read_until(al_radio_t *rx, int want_error, uint64_t limit_ms)
{
    float complex buf[4096];
    uint64_t t0 = al_now_ms();
    while (al_now_ms() - t0 < limit_ms) {
        int64_t t;
        int n = al_radio_read(rx, buf, 4096, &t, 100000);
        if (want_error && n == SOAPY_SDR_STREAM_ERROR)
            return 1;
        if (!want_error && n > 0 && crealf(buf[n - 1]) == 0.5f)
            return 1;
    }
    return 0;
}

static void test_airsim_reader_reports_gone_writer_and_recovers(void **state)
{
    (void)state;
    char link[128], args[256];
    s_link(link, sizeof link, "gone-tx");
    snprintf(args, sizeof args, "driver=airsim,clock=fast,link=%s", link);
    al_radio_t *rx = s_open(args, AL_RADIO_RX);
    assert_non_null(rx);
    pid_t w = s_spawn_endless(args, AL_RADIO_TX);
    assert_true(s_read_until(rx, 0, 10000));
    s_kill(w);
    assert_true(s_read_until(rx, 1, 10000));
    w = s_spawn_endless(args, AL_RADIO_TX);
    assert_true(s_read_until(rx, 0, 10000));
    s_kill(w);
    al_radio_destroy(&rx);
}

static void test_airsim_writer_reports_gone_reader_and_recovers(void **state)
{
    (void)state;
    char link[128], args[256];
    s_link(link, sizeof link, "gone-rx");
    snprintf(args, sizeof args, "driver=airsim,clock=fast,link=%s", link);
    pid_t r = s_spawn_endless(args, AL_RADIO_RX);
    al_radio_t *tx = s_open(args, AL_RADIO_TX);
    assert_non_null(tx);
    float complex buf[4096] = {0};
    int wrote = 0, error = 0;
    uint64_t t0 = al_now_ms();
    while (!wrote && al_now_ms() - t0 < 10000)
        wrote = al_radio_write(tx, buf, 4096, 0, 0, 0, 100000) > 0;
    assert_true(wrote);
    s_kill(r);
    t0 = al_now_ms();
    while (!error && al_now_ms() - t0 < 10000)
        error = al_radio_write(tx, buf, 4096, 0, 0, 0, 100000) == SOAPY_SDR_STREAM_ERROR;
    assert_true(error);
    r = s_spawn_endless(args, AL_RADIO_RX);
    wrote = 0;
    t0 = al_now_ms();
    while (!wrote && al_now_ms() - t0 < 10000)
        wrote = al_radio_write(tx, buf, 4096, 0, 0, 0, 100000) > 0;
    assert_true(wrote);
    s_kill(r);
    al_radio_destroy(&tx);
}


/* ---------------------------------------------------------------- */
/* channel statistics and stream semantics, in one process */

static void test_airsim_block_fading_has_unit_power(void **state)
{
    (void)state;
    airsim_config c;
    airsim_config_default(&c);
    assert_int_equal(airsim_config_set(&c, "fading", "rayleigh-block"), 0);
    assert_int_equal(airsim_config_finish(&c), 0);
    airsim_chan_t *ch = airsim_chan_create(&c, RATE);
    assert_non_null(ch);
    enum { BURSTS = 20000 };
    double power = 0;
    float complex first = 0;
    for (int b = 0; b < BURSTS; b++) {
        float complex x[4] = {1, 1, 1, 1};
        airsim_chan_burst(ch, x, 4, 100 * b, 1);
        assert_true(x[3] == x[0]);   /* constant within a burst */
        if (b == 0)
            first = x[0];
        power += crealf(x[0] * conjf(x[0]));
    }
    power /= BURSTS;
    assert_true(fabs(power - 1.0) < 0.05);
    airsim_chan_reset(ch);   /* same seed, same draws */
    float complex x = 1;
    airsim_chan_burst(ch, &x, 1, 0, 1);
    assert_true(x == first);
    airsim_chan_destroy(&ch);
}

static void test_airsim_rayleigh_fading_varies_at_doppler(void **state)
{
    (void)state;
    airsim_config c;
    airsim_config_default(&c);
    assert_int_equal(airsim_config_set(&c, "fading", "rayleigh"), 0);
    assert_int_equal(airsim_config_set(&c, "doppler", "100"), 0);
    assert_int_equal(airsim_config_finish(&c), 0);
    airsim_chan_t *ch = airsim_chan_create(&c, RATE);
    assert_non_null(ch);
    /* 2 s at fd = 100 Hz: power ~ 1, and the autocorrelation at the first
     * zero of J0 (lag 2.405 / (2 pi fd)) is near 0 while 0.1 ms apart the
     * fading is nearly constant. */
    enum { N = 2000000 };
    float complex *h = malloc(N * sizeof *h);
    for (int i = 0; i < N; i++)
        h[i] = 1.0f;
    airsim_chan_burst(ch, h, N, 0, 1);
    double p = 0;
    double complex r_near = 0, r_zero = 0;
    int lag_zero = (int)lround(2.405 / (2 * M_PI * 100.0) * RATE), lag_near = 100;
    for (int i = 0; i < N; i++) {
        p += crealf(h[i] * conjf(h[i]));
        if (i + lag_zero < N)
            r_zero += h[i + lag_zero] * conjf(h[i]);
        if (i + lag_near < N)
            r_near += h[i + lag_near] * conjf(h[i]);
    }
    p /= N;
    double rho_zero = cabs(r_zero) / (N - lag_zero) / p;
    double rho_near = cabs(r_near) / (N - lag_near) / p;
    printf("rayleigh: power %.3f, rho(0.1 ms) %.3f, rho(J0 zero) %.3f\n", p, rho_near, rho_zero);
    assert_true(fabs(p - 1.0) < 0.25);
    assert_true(rho_near > 0.95);
    assert_true(rho_zero < 0.25);
    free(h);
    airsim_chan_destroy(&ch);
}

static void s_link_config(airsim_config *c, const char *name, const char *clock)
{
    char link[128];
    s_link(link, sizeof link, name);
    airsim_config_default(c);
    assert_int_equal(airsim_config_set(c, "link", link), 0);
    assert_int_equal(airsim_config_set(c, "clock", clock), 0);
    assert_int_equal(airsim_config_finish(c), 0);
}

static void test_airsim_read_times_out_without_writer(void **state)
{
    (void)state;
    airsim_config c;
    s_link_config(&c, "timeout", "fast");
    airsim_rx_t *rx = airsim_rx_create(&c, RATE);
    assert_non_null(rx);
    float complex buf[64];
    int64_t t;
    assert_int_equal(airsim_rx_read(rx, buf, AIRSIM_CF32, 64, &t, 20000), SOAPY_SDR_TIMEOUT);
    airsim_rx_destroy(&rx);
}

static void test_airsim_realtime_reports_underflow_and_end_of_burst(void **state)
{
    (void)state;
    airsim_config c;
    s_link_config(&c, "underflow", "realtime");
    airsim_rx_t *rx = airsim_rx_create(&c, RATE);
    airsim_tx_t *tx = airsim_tx_create(&c, RATE);
    assert_non_null(rx);
    assert_non_null(tx);
    float complex x[1000] = {0};
    int end = 0;
    int64_t t;
    assert_int_equal(airsim_tx_write(tx, x, AIRSIM_CF32, 1000, 0, 0, 0, 2000000), 1000);
    /* The writer stalls for 50 ms (50000 samples) inside the burst. */
    nanosleep(&(struct timespec){0, 50000000}, NULL);
    assert_int_equal(airsim_tx_write(tx, x, AIRSIM_CF32, 1000, 0, 0, 1, 2000000), 1000);
    assert_int_equal(airsim_tx_status(tx, &end, &t, 0), SOAPY_SDR_UNDERFLOW);
    assert_int_equal(airsim_tx_status(tx, &end, &t, 0), 0);
    assert_true(end);
    assert_int_equal(airsim_tx_status(tx, &end, &t, 1000), SOAPY_SDR_TIMEOUT);
    assert_int_equal(airsim_tx_counters(tx)->underflows, 1);
    airsim_tx_destroy(&tx);
    airsim_rx_destroy(&rx);
}

static void test_airsim_realtime_reader_too_slow_overflows(void **state)
{
    (void)state;
    airsim_config c;
    s_link_config(&c, "overflow", "realtime");
    airsim_rx_t *rx = airsim_rx_create(&c, 10e6);
    assert_non_null(rx);
    float complex buf[1000];
    int64_t t0, t1;
    assert_int_equal(airsim_rx_read(rx, buf, AIRSIM_CF32, 1000, &t0, 1000000), 1000);
    /* 0.3 s unread at 10 Msps is more than the buffer holds. */
    nanosleep(&(struct timespec){0, 300000000}, NULL);
    assert_int_equal(airsim_rx_read(rx, buf, AIRSIM_CF32, 1000, &t1, 1000000), SOAPY_SDR_OVERFLOW);
    assert_int_equal(airsim_rx_read(rx, buf, AIRSIM_CF32, 1000, &t1, 1000000), 1000);
    assert_true(t1 > t0 + 1000000);   /* it skipped ahead, as hardware does */
    assert_int_equal(airsim_rx_counters(rx)->overflows, 1);
    airsim_rx_destroy(&rx);
}

static void test_airsim_rejects_bad_device_arguments(void **state)
{
    (void)state;
    al_radio_config c = {"driver=airsim,snr_db=ten", AL_RADIO_RX, RATE, 0, NAN, 0, NULL, NULL};
    assert_null(al_radio_create(&c));
    assert_non_null(strstr(al_error_message(), "snr_db"));
    c.args = "driver=airsim,clock=fast,link=ipc://@airlearn-test-cfo,cfo=600000";
    assert_null(al_radio_create(&c));
    assert_non_null(strstr(al_error_message(), "cfo"));
}

/* ---------------------------------------------------------------- */
/* profiles */

static void test_airsim_profile_defaults_yield_to_user_keys(void **state)
{
    (void)state;
    /* SoapySDR hands the keys over sorted: adc_bits before profile. */
    const char *keys[] = {"adc_bits", "driver", "profile"};
    const char *values[] = {"4", "airsim", "hackrf"};
    airsim_config c;
    assert_int_equal(airsim_config_parse(&c, keys, values, 3), 0);
    assert_int_equal(c.profile, AIRSIM_PROFILE_HACKRF);
    assert_int_equal(c.adc_bits, 4);                 /* the user's */
    assert_float_equal(c.nf_db, 11.0, 1e-12);        /* the profile's */
    values[2] = "b2x0";
    assert_int_equal(airsim_config_parse(&c, keys, values, 3), 0);
    assert_int_equal(c.adc_bits, 4);
    assert_float_equal(c.nf_db, 8.0, 1e-12);
    assert_int_equal(airsim_config_parse(&c, keys, values, 2), 0);
    assert_int_equal(c.profile, AIRSIM_PROFILE_IDEAL);
    values[2] = "usrp";
    assert_int_not_equal(airsim_config_parse(&c, keys, values, 3), 0);
    /* Every profile row names a real key with a valid value. */
    for (const airsim_profile_default *d = airsim_profile_defaults; d->profile; d++) {
        airsim_config_default(&c);
        assert_int_equal(airsim_config_set(&c, d->key, d->value), 0);
    }
}

static void test_airsim_accepts_wrapper_keys_and_refuses_typos(void **state)
{
    (void)state;
    /* SoapyRemote (SoapyRemoteDefs.hpp, the client's find and make) and
     * SoapyMultiSDR (Registration.cpp) add these and forward the rest. */
    const char *wrappers[] = {"remote", "tcp://10.0.0.1:55132", "remote:driver", "airsim",
                              "remote:timeout", "100000", "remote:ipver", "4",
                              "remote:format", "CS8", "remote:scale", "128",
                              "remote:prot", "udp", "remote:mtu", "1500",
                              "remote:window", "42000000", "remote:priority", "0.5",
                              "remote:type", "server", "remote:version", "0.5.2",
                              "soapy_remote_no_deeper", "", "soapy_multi_no_deeper", "",
                              "multi:driver", "airsim", "type", "airsim", NULL};
    assert_int_equal(s_parse(wrappers), 0);
    const char *typos[][3] = {{"snrdb", "10", NULL},   {"SNR_DB", "10", NULL},
                              {"dealy", "3", NULL},    {"sede", "1", NULL},
                              {"profil", "hackrf", NULL}, {"adcbits", "8", NULL},
                              {"unplug_afer", "1", NULL}, {"Clock", "fast", NULL}};
    for (size_t i = 0; i < sizeof typos / sizeof typos[0]; i++) {
        if (s_parse(typos[i]) == 0)
            fail_msg("typo %s accepted", typos[i][0]);
        assert_non_null(strstr(al_error_message(), typos[i][0]));
    }
}

static int64_t s_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

enum { HACKRF_RATE = 2000000, HACKRF_BUF = 131072, HACKRF_BUFFERS = 40 };

static SoapySDRDevice *s_make(const char *args, int direction, double rate, double gain,
                              const char *stream_args, SoapySDRStream **stream)
{
    SoapySDRDevice *dev = SoapySDRDevice_makeStrArgs(args);
    if (dev == NULL)
        return NULL;
    SoapySDRKwargs sa = SoapySDRKwargs_fromString(stream_args);
    size_t ch = 0;
    if (SoapySDRDevice_setSampleRate(dev, direction, 0, rate) != 0 ||
        SoapySDRDevice_setGain(dev, direction, 0, gain) != 0 ||
        (*stream = SoapySDRDevice_setupStream(dev, direction, SOAPY_SDR_CF32, &ch, 1, &sa)) == NULL ||
        SoapySDRDevice_activateStream(dev, *stream, 0, 0, 0) != 0) {
        fprintf(stderr, "%s: %s\n", args, SoapySDRDevice_lastError());
        SoapySDRDevice_unmake(dev);
        dev = NULL;
    }
    SoapySDRKwargs_clear(&sa);
    return dev;
}

static void s_report(int fd, int64_t what, int64_t t)
{
    int64_t msg[2] = {what, t};
    if (write(fd, msg, sizeof msg) != (ssize_t)sizeof msg)
        _exit(3);
}

static int s_write_all(SoapySDRDevice *dev, SoapySDRStream *s, const float complex *x, size_t n)
{
    size_t done = 0;
    while (done < n) {
        const void *buffs[1] = {x + done};
        int flags = SOAPY_SDR_END_BURST;   /* ignored by a HackRF */
        int rc = SoapySDRDevice_writeStream(dev, s, buffs, n - done, &flags, 0, 5000000);
        if (rc <= 0)
            return -1;
        done += (size_t)rc;
    }
    return 0;
}

/* Child role: a hackrf TX at 2 Msps, realtime, buffers=40, full gain;
 * reports its activation time (0). 1: 1000 samples of 0.5, then 300 ms of
 * nothing (reports 1), then the rest of that buffer in zeros, just after
 * a tick's callback (reports 2 once written). 3: zero buffers
 * until the queue is full (reports 3), then a buffer starting with one
 * sample of -0.5, then more zero buffers so that it airs. */
static int s_child_hackrf_tx(const char *args, int fd)
{
    SoapySDRStream *s = NULL;
    SoapySDRDevice *dev = NULL;
    for (int i = 0; i < 100 && dev == NULL; i++)
        dev = s_make(args, SOAPY_SDR_TX, HACKRF_RATE, 61, "buffers=40", &s);
    if (dev == NULL)
        return 1;
    const int64_t t0 = s_mono_ns();   /* tick 0's air time, within microseconds */
    const double tick = (double)HACKRF_BUF / HACKRF_RATE;
    s_report(fd, 0, t0);
    float complex *x = calloc(HACKRF_BUF, sizeof *x);
    for (int i = 0; i < 1000; i++)
        x[i] = 0.5f;
    if (s_write_all(dev, s, x, 1000) != 0)
        return 2;
    nanosleep(&(struct timespec){0, 300000000}, NULL);
    s_report(fd, 1, s_mono_ns());
    /* Complete the buffer 5 ms after a tick's callback, far from the
     * next, so that the parent knows which tick airs it. */
    double since = (double)(s_mono_ns() - t0) / 1e9 + AIRSIM_TXBUF_AHEAD_S;
    double next = ceil(since / tick) * tick - AIRSIM_TXBUF_AHEAD_S + 0.005;
    int64_t until = t0 + (int64_t)(next * 1e9), wait_ns = until - s_mono_ns();
    if (wait_ns > 0)
        nanosleep(&(struct timespec){wait_ns / 1000000000, wait_ns % 1000000000}, NULL);
    memset(x, 0, HACKRF_BUF * sizeof *x);
    if (s_write_all(dev, s, x, HACKRF_BUF - 1000) != 0)
        return 2;
    s_report(fd, 2, s_mono_ns());
    /* Until the queue is full: a write that may not wait times out. */
    for (;;) {
        const void *buffs[1] = {x};
        int flags = 0;
        int rc = SoapySDRDevice_writeStream(dev, s, buffs, HACKRF_BUF, &flags, 0, 0);
        if (rc == SOAPY_SDR_TIMEOUT)
            break;
        if (rc != HACKRF_BUF)
            return 2;
    }
    s_report(fd, 3, s_mono_ns());
    x[0] = -0.5f;
    if (s_write_all(dev, s, x, HACKRF_BUF) != 0)
        return 2;
    x[0] = 0.0f;
    for (int i = 0; i < HACKRF_BUFFERS + 4; i++)
        if (s_write_all(dev, s, x, HACKRF_BUF) != 0)
            return 2;
    SoapySDRDevice_deactivateStream(dev, s, 0, 0);
    SoapySDRDevice_closeStream(dev, s);
    SoapySDRDevice_unmake(dev);
    free(x);
    return 0;
}

/* One run of the child's scenario; 0 if every check held, else why not
 * in *why (the shared test machine can starve a realtime reader). */
static int s_hackrf_tx_run(int attempt, const char **why)
{
    char link[128], tx[256], rx[256], name[32];
    snprintf(name, sizeof name, "hackrf-tx%d", attempt);
    s_link(link, sizeof link, name);
    /* ppm=0: the real part of the markers would turn with the profile's
     * oscillator offset. */
    snprintf(tx, sizeof tx, "driver=airsim,profile=hackrf,ppm=0,link=%s", link);
    snprintf(rx, sizeof rx, "driver=airsim,link=%s", link);   /* ideal: no noise */
    al_radio_config rc = {rx, AL_RADIO_RX, HACKRF_RATE, 0, NAN, 0, NULL, NULL};
    al_radio_t *r = al_radio_create(&rc);
    int64_t t_activated = s_mono_ns();   /* the RX clock's 0 */
    assert_non_null(r);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    char a_fd[16];
    snprintf(a_fd, sizeof a_fd, "%d", fds[1]);
    char *const argv[] = {"test_airsim", "--child-hackrf-tx", tx, a_fd, NULL};
    pid_t w = s_spawn_self(argv);
    close(fds[1]);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    int64_t reported[4] = {0}, seen_plus = 0, seen_minus = 0;
    int have_t0 = 0, early = 0, overflowed = 0;
    enum { CHUNK = 4096 };
    float complex buf[CHUNK];
    uint64_t deadline = al_now_ms() + 20000;
    while ((!seen_minus || !reported[3]) && al_now_ms() < deadline) {
        int64_t t;
        int n = al_radio_read(r, buf, CHUNK, &t, 200000);
        int64_t msg[2];
        while (read(fds[0], msg, sizeof msg) == (ssize_t)sizeof msg)
            if (msg[0] >= 0 && msg[0] <= 3) {
                reported[msg[0]] = msg[1];
                have_t0 |= msg[0] == 0;
            }
        overflowed |= n == SOAPY_SDR_OVERFLOW;
        for (int i = 0; i < n; i++) {
            /* When sample i arrived, by the RX's sample clock. */
            int64_t at = t_activated + t + (int64_t)i * 1000000000 / HACKRF_RATE;
            if (!seen_plus && crealf(buf[i]) > 0.2f) {
                seen_plus = at;
                early = reported[2] == 0;   /* before its buffer was full */
            }
            if (!seen_minus && crealf(buf[i]) < -0.2f)
                seen_minus = at;
        }
    }
    s_wait_ok(w);
    close(fds[0]);
    al_radio_destroy(&r);
    *why = overflowed ? "the test's reader overflowed" : NULL;
    if (overflowed || !(have_t0 && seen_plus && seen_minus && reported[3])) {
        if (!*why)
            *why = "a burst never arrived";
        return -1;
    }
    double tick = (double)HACKRF_BUF / HACKRF_RATE;
    double held = (double)(seen_plus - reported[1]) / 1e9 + 0.3;
    double after_full = (double)(seen_plus - reported[2]) / 1e9;
    /* Ticks are on the air at t0 + k tick; each one's callback runs AHEAD
     * before. The first burst airs at the first tick whose callback comes
     * after its buffer was full; the receiver anchors the link's timeline
     * when that burst arrives, late by however long it was descheduled:
     * measure that and take it out of the other arrival. The marker of
     * phase 3 goes into the slot the first callback after the queue was
     * found full frees, and must air the queue's length later. */
    double full = (double)(reported[2] - reported[0]) / 1e9;
    double air1 = ceil((full + AIRSIM_TXBUF_AHEAD_S) / tick) * tick;
    double anchor = (double)(seen_plus - reported[0]) / 1e9 - air1 - AIRSIM_AIR_LATENCY_S;
    double found_full = (double)(reported[3] - reported[0]) / 1e9;
    double freed = ceil((found_full + AIRSIM_TXBUF_AHEAD_S) / tick) * tick - AIRSIM_TXBUF_AHEAD_S;
    double latency = (double)(seen_minus - reported[0]) / 1e9 - anchor - freed;
    double want = HACKRF_BUFFERS * tick + AIRSIM_TXBUF_AHEAD_S + AIRSIM_AIR_LATENCY_S;
    printf("hackrf TX: a short burst waited %.3f s for its buffer to fill and aired %.3f s "
           "after (receiver anchored %+.4f s late); through a full queue of %d buffers: "
           "%.4f s (expected %.4f s)\n",
           held, after_full, anchor, HACKRF_BUFFERS, latency, want);
    if (early || held <= 0.3 || after_full <= 0.0)
        *why = "a short burst aired before its buffer was full";
    else if (fabs(anchor) >= 0.5)
        *why = "the receiver anchored the timeline implausibly late";
    else if (fabs(latency - want) >= 0.01 * HACKRF_BUFFERS * tick)
        *why = "the latency through the full queue is off by more than 1 %";
    return *why ? -1 : 0;
}

static void test_airsim_hackrf_tx_airs_full_buffers_after_the_queue(void **state)
{
    (void)state;
    /* Realtime on a shared machine: a starved reader or writer spoils a
     * run, so up to three; broken buffering fails all of them. */
    const char *why = NULL;
    for (int attempt = 0; attempt < 3; attempt++) {
        if (s_hackrf_tx_run(attempt, &why) == 0)
            return;
        printf("hackrf TX run %d: %s\n", attempt + 1, why);
    }
    fail_msg("%s", why);
}

static void test_airsim_hackrf_tx_underflows_when_idle(void **state)
{
    (void)state;
    char link[128], args[256];
    s_link(link, sizeof link, "hackrf-idle");
    snprintf(args, sizeof args, "driver=airsim,profile=hackrf,link=%s", link);
    SoapySDRStream *s = NULL;
    SoapySDRDevice *dev = s_make(args, SOAPY_SDR_TX, HACKRF_RATE, 0, "", &s);
    assert_non_null(dev);
    size_t mask = 0;
    int flags = 0;
    long long t = 0;
    /* 65.5 ms ticks with nothing queued: the flag, once per call. */
    assert_int_equal(SoapySDRDevice_readStreamStatus(dev, s, &mask, &flags, &t, 200000),
                     SOAPY_SDR_UNDERFLOW);
    nanosleep(&(struct timespec){0, 150000000}, NULL);
    assert_int_equal(SoapySDRDevice_readStreamStatus(dev, s, &mask, &flags, &t, 200000),
                     SOAPY_SDR_UNDERFLOW);
    /* Stopped, the board raises nothing (after the last tick's flag). */
    SoapySDRDevice_deactivateStream(dev, s, 0, 0);
    SoapySDRDevice_readStreamStatus(dev, s, &mask, &flags, &t, 0);
    assert_int_equal(SoapySDRDevice_readStreamStatus(dev, s, &mask, &flags, &t, 200000),
                     SOAPY_SDR_TIMEOUT);
    SoapySDRDevice_closeStream(dev, s);
    SoapySDRDevice_unmake(dev);
}

static void test_airsim_hackrf_fast_clock_airs_full_buffers_back_to_back(void **state)
{
    (void)state;
    airsim_config c;
    s_link_config(&c, "hackrf-fast", "fast");
    airsim_rx_t *rx = airsim_rx_create(&c, HACKRF_RATE);
    airsim_txbuf_t *tx = airsim_txbuf_create(&c, HACKRF_RATE, 4);
    assert_non_null(rx);
    assert_non_null(tx);
    assert_int_equal(airsim_txbuf_activate(tx), 0);
    float complex *x = calloc(HACKRF_BUF, sizeof *x), *y = calloc(2 * HACKRF_BUF, sizeof *y);
    for (int i = 0; i < 1000; i++)
        x[i] = 0.5f;
    int64_t t;
    /* A short burst stays in its buffer: nothing reaches the receiver. */
    assert_int_equal(airsim_txbuf_write(tx, x, AIRSIM_CF32, 1000, 100000), 1000);
    assert_int_equal(airsim_rx_read(rx, y, AIRSIM_CF32, 4096, &t, 50000), SOAPY_SDR_TIMEOUT);
    /* Filled, it airs as TX samples [0, 131072); the next full buffer
     * right after it, whenever it was written. */
    assert_int_equal(airsim_txbuf_write(tx, x + 1000, AIRSIM_CF32, HACKRF_BUF - 1000, 100000),
                     HACKRF_BUF - 1000);
    memset(x, 0, HACKRF_BUF * sizeof *x);
    x[0] = -0.5f;
    assert_int_equal(airsim_txbuf_write(tx, x, AIRSIM_CF32, HACKRF_BUF, 100000), HACKRF_BUF);
    int64_t have = 0, first = -1;
    uint64_t deadline = al_now_ms() + 10000;
    while (have < 2 * HACKRF_BUF && al_now_ms() < deadline) {
        int n = airsim_rx_read(rx, y + have, AIRSIM_CF32, 16384, &t, 10000);
        if (n > 0) {
            if (first < 0)
                first = t;
            have += n;
        }
        airsim_txbuf_write(tx, NULL, AIRSIM_CF32, 0, 10000);   /* lets it send the rest */
    }
    assert_int_equal(have, 2 * HACKRF_BUF);
    /* The stream's labels run from the channel's latency before 0. */
    int64_t at0 = -first;
    for (int64_t i = 0; i < 2 * HACKRF_BUF - at0; i++) {
        /* (int8_t)(x * 127.0) / 127: truncated toward zero */
        float want = i < 1000 ? 63.0f / 127.0f : i == HACKRF_BUF ? -63.0f / 127.0f : 0.0f;
        if (fabsf(crealf(y[at0 + i]) - want) > 1e-6f)
            fail_msg("TX sample %lld: %g, want %g", (long long)i, crealf(y[at0 + i]), want);
    }
    free(x);
    free(y);
    airsim_txbuf_destroy(&tx);
    airsim_rx_destroy(&rx);
}

/* Reads `count` samples of a hackrf RX in clock=fast (no timestamps: the
 * stream starts at 0, as the TX timeline of a fresh pair). */
static float complex *s_hackrf_receive(const char *name, double gain, size_t count)
{
    char link[128], tx[256], rx[256];
    s_link(link, sizeof link, name);
    snprintf(tx, sizeof tx, "driver=airsim,clock=fast,link=%s", link);
    snprintf(rx, sizeof rx, "driver=airsim,clock=fast,profile=hackrf,link=%s", link);
    pid_t w = s_spawn_writer(tx, 41, 20000, 30000);
    al_radio_config c = {rx, AL_RADIO_RX, HACKRF_RATE, 0, gain, 0, NULL, NULL};
    al_radio_t *r = al_radio_create(&c);
    assert_non_null(r);
    float complex *y = calloc(count, sizeof *y);
    size_t have = 0;
    uint64_t deadline = al_now_ms() + 20000;
    while (have < count && al_now_ms() < deadline) {
        int64_t t;
        int n = al_radio_read(r, y + have, count - have, &t, 100000);
        if (n > 0)
            have += (size_t)n;
    }
    assert_int_equal(have, count);
    s_wait_ok(w);
    al_radio_destroy(&r);
    return y;
}

/* Child role: 1000 samples at time 0, then, once a byte comes on fd (or
 * after 5 s), 2000 more at 1000 and silence past them. */
static int s_child_two_blocks(const char *args, int fd)
{
    al_radio_t *tx = NULL;
    for (int i = 0; i < 100 && tx == NULL; i++)
        tx = s_open(args, AL_RADIO_TX);
    float complex *x = unit_noise(5, 3000);
    float complex *z = calloc(4096, sizeof *z);
    int ok = tx && al_radio_write_burst(tx, x, 1000, 1, 0, 5000000) == 1000;
    struct pollfd p = {fd, POLLIN, 0};
    poll(&p, 1, 5000);
    ok = ok && al_radio_write_burst(tx, x + 1000, 2000, 1, 1000 * 1000, 5000000) == 2000 &&
         al_radio_write_burst(tx, z, 4096, 1, 13000 * 1000, 5000000) == 4096;
    al_radio_destroy(&tx);
    free(x);
    free(z);
    return ok ? 0 : 1;
}

/* A hackrf RX under the fast clock hands out what has come rather than
 * wait for its buffer to fill: only the TX makes time there, and a TX
 * that waits for the receiver (for feedback) would hold the read until
 * its timeout. The TX here sends more only once the read has returned
 * (or after 5 s, which a waiting read would then take in). */
static void test_airsim_hackrf_fast_clock_read_returns_what_has_come(void **state)
{
    (void)state;
    char link[128], tx[256], rx[256], a_fd[16];
    s_link(link, sizeof link, "hackrf-partial");
    snprintf(tx, sizeof tx, "driver=airsim,clock=fast,link=%s", link);
    snprintf(rx, sizeof rx, "driver=airsim,clock=fast,profile=hackrf,ppm=0,link=%s", link);
    int go[2];
    assert_int_equal(pipe(go), 0);
    snprintf(a_fd, sizeof a_fd, "%d", go[0]);
    char *const argv[] = {"test_airsim", "--child-two-blocks", tx, a_fd, NULL};
    pid_t w = s_spawn_self(argv);
    close(go[0]);
    al_radio_config c = {rx, AL_RADIO_RX, HACKRF_RATE, 0, 0, 0, NULL, NULL};
    al_radio_t *r = al_radio_create(&c);
    assert_non_null(r);
    float complex *y = calloc(HACKRF_BUF, sizeof *y);
    int64_t t;
    int n = al_radio_read(r, y, HACKRF_BUF, &t, 10000000);
    assert_int_equal(write(go[1], "x", 1), 1);
    printf("hackrf RX, fast clock: the first read returned %d samples of the first 1000\n", n);
    assert_true(n > 0 && n <= 1000);
    size_t have = (size_t)n;
    uint64_t deadline = al_now_ms() + 20000;
    while (have < 3000 && al_now_ms() < deadline) {
        n = al_radio_read(r, y, HACKRF_BUF, &t, 100000);
        if (n > 0)
            have += (size_t)n;
    }
    assert_true(have >= 3000);
    s_wait_ok(w);
    close(go[1]);
    al_radio_destroy(&r);
    free(y);
}

static void test_airsim_hackrf_rx_quantizes_to_8_bits(void **state)
{
    (void)state;
    enum { T = 30000, L = 20000 };
    double rms[2];
    const double gains[2] = {0, 70};
    for (int k = 0; k < 2; k++) {
        float complex *y = s_hackrf_receive(k ? "q8-high" : "q8-low", gains[k], T + L);
        double p = 0, peak = -2, low = 2;
        for (int i = 0; i < T + L; i++) {
            float v[2] = {crealf(y[i]), cimagf(y[i])};
            for (int j = 0; j < 2; j++) {
                float q = v[j] * 127.0f;
                if (fabsf(q - rintf(q)) > 1e-3f)
                    fail_msg("sample %d is not on the 8-bit grid: %g", i, v[j]);
                if (v[j] > peak)
                    peak = v[j];
                if (v[j] < low)
                    low = v[j];
            }
            if (i < T - 100)
                p += (double)crealf(y[i] * conjf(y[i]));
        }
        rms[k] = sqrt(p / (T - 100) / 2) * 127.0;   /* per rail, in LSB */
        printf("hackrf RX gain %.0f dB: noise floor %.3f LSB rms, samples in [%g, %g] x 127\n",
               gains[k], rms[k], low * 127, peak * 127);
        /* A unit-power burst at 0 dB path gain is far above full scale. */
        assert_float_equal(peak, 1.0, 1e-6);
        assert_float_equal(low, -128.0 / 127.0, 1e-6);
        free(y);
    }
    assert_true(rms[0] < 0.5);   /* low gain: the samples are 0 */
    assert_true(rms[1] > 2.0);   /* high gain: the noise fills LSBs */
}

/* Reads for `ms`; returns a bitmask of what came: 1 samples, 2 timeout,
 * 4 stream error, 8 anything else. */
static int s_read_for(al_radio_t *r, uint64_t ms)
{
    float complex buf[4096];
    int seen = 0;
    uint64_t end = al_now_ms() + ms;
    while (al_now_ms() < end) {
        int64_t t;
        int n = al_radio_read(r, buf, 4096, &t, 50000);
        seen |= n > 0 ? 1 : n == SOAPY_SDR_TIMEOUT ? 2 : n == SOAPY_SDR_STREAM_ERROR ? 4 : 8;
    }
    return seen;
}

static void test_airsim_unplug_and_replug_per_profile(void **state)
{
    (void)state;
    const char *profiles[] = {"hackrf", "b2x0", "ideal"};
    const int dead[] = {2, 4, 4};   /* TIMEOUT forever; STREAM_ERROR */
    for (int k = 0; k < 3; k++) {
        char name[64], link[128], tx[256], rx[384];
        snprintf(name, sizeof name, "unplug-%s", profiles[k]);
        s_link(link, sizeof link, name);
        snprintf(tx, sizeof tx, "driver=airsim,clock=fast,link=%s", link);
        snprintf(rx, sizeof rx, "%s,profile=%s,unplug_after=1,replug_after=1", tx, profiles[k]);
        pid_t w = s_spawn_endless(tx, AL_RADIO_TX);
        al_radio_config c = {rx, AL_RADIO_RX, HACKRF_RATE, 0, NAN, 0, NULL, NULL};
        uint64_t t0 = al_now_ms();
        al_radio_t *r = al_radio_create(&c);
        assert_non_null(r);
        assert_true(s_read_for(r, 700) & 1);
        while (al_now_ms() < t0 + 1050)
            s_read_for(r, 10);
        int seen = s_read_for(r, 300);
        printf("unplugged %s: reads gave %s\n", profiles[k],
               seen == 2 ? "TIMEOUT" : seen == 4 ? "STREAM_ERROR" : "a mix");
        assert_int_equal(seen, dead[k]);
        al_radio_destroy(&r);
        assert_null(al_radio_create(&c));   /* still unplugged: no such device */
        while (al_now_ms() < t0 + 2100)
            nanosleep(&(struct timespec){0, 20000000}, NULL);
        r = al_radio_create(&c);
        assert_non_null(r);
        assert_true(s_read_for(r, 1000) & 1);   /* back, */
        assert_int_equal(s_read_for(r, 500), 1);   /* and it stays */
        al_radio_destroy(&r);
        s_kill(w);
    }
}

static void test_airsim_hackrf_is_half_duplex(void **state)
{
    (void)state;
    char link[128], args[256];
    s_link(link, sizeof link, "hackrf-duplex");
    snprintf(args, sizeof args, "driver=airsim,profile=hackrf,link=%s", link);
    SoapySDRDevice *dev = SoapySDRDevice_makeStrArgs(args);
    assert_non_null(dev);
    assert_false(SoapySDRDevice_getFullDuplex(dev, SOAPY_SDR_RX, 0));
    assert_int_equal(SoapySDRDevice_setSampleRate(dev, SOAPY_SDR_RX, 0, HACKRF_RATE), 0);
    assert_int_not_equal(SoapySDRDevice_setSampleRate(dev, SOAPY_SDR_TX, 0, 1e6), 0);
    size_t ch = 0;
    /* Both streams open, as SoapyHackRF allows; one streams at a time. */
    SoapySDRStream *rxs = SoapySDRDevice_setupStream(dev, SOAPY_SDR_RX, SOAPY_SDR_CS8, &ch, 1, NULL);
    SoapySDRStream *txs = SoapySDRDevice_setupStream(dev, SOAPY_SDR_TX, SOAPY_SDR_CF32, &ch, 1, NULL);
    assert_non_null(rxs);
    assert_non_null(txs);
    assert_int_equal(SoapySDRDevice_getStreamMTU(dev, rxs), HACKRF_BUF);
    assert_int_equal(SoapySDRDevice_activateStream(dev, rxs, 0, 0, 0), 0);
    int8_t in[2 * 4096];
    void *ib[1] = {in};
    int flags = 0;
    long long t = 0;
    assert_int_equal(SoapySDRDevice_readStream(dev, rxs, ib, 4096, &flags, &t, 500000), 4096);
    assert_false(flags & SOAPY_SDR_HAS_TIME);
    /* A write turns the board to TX; a read waits for the queue to go. */
    float complex *x = calloc(HACKRF_BUF, sizeof *x);
    const void *ob[1] = {x};
    int rc;
    while ((rc = SoapySDRDevice_writeStream(dev, txs, ob, HACKRF_BUF, &flags, 0, 0)) == HACKRF_BUF) {
    }
    assert_int_equal(rc, SOAPY_SDR_TIMEOUT);   /* 15 buffers queued: about 1 s of air */
    assert_int_equal(SoapySDRDevice_readStream(dev, rxs, ib, 4096, &flags, &t, 1000),
                     SOAPY_SDR_TIMEOUT);
    assert_int_equal(SoapySDRDevice_readStream(dev, rxs, ib, 4096, &flags, &t, 3000000), 4096);
    SoapySDRDevice_deactivateStream(dev, rxs, 0, 0);
    SoapySDRDevice_closeStream(dev, txs);
    SoapySDRDevice_closeStream(dev, rxs);
    SoapySDRDevice_unmake(dev);
    free(x);
}

int main(int argc, char **argv)
{
    al_log_set_level(AL_LOG_ERROR);
    if (argc == 6 && strcmp(argv[1], "--child-writer") == 0)
        return s_child_writer(argv[2], strtoull(argv[3], NULL, 10), strtoull(argv[4], NULL, 10),
                              strtoll(argv[5], NULL, 10));
    if (argc == 4 && strcmp(argv[1], "--child-two-blocks") == 0)
        return s_child_two_blocks(argv[2], atoi(argv[3]));
    if (argc == 4 && strcmp(argv[1], "--child-hackrf-tx") == 0)
        return s_child_hackrf_tx(argv[2], atoi(argv[3]));
    if (argc == 4 && strcmp(argv[1], "--child-endless") == 0)
        s_child_endless(argv[2], strcmp(argv[3], "tx") == 0 ? AL_RADIO_TX : AL_RADIO_RX);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_airsim_config_rejects_bad_arguments),
        cmocka_unit_test(test_airsim_config_parses_taps),
        cmocka_unit_test(test_airsim_wire_round_trip),
        cmocka_unit_test(test_airsim_wire_rejects_malformed),
        cmocka_unit_test(test_airsim_block_fading_has_unit_power),
        cmocka_unit_test(test_airsim_rayleigh_fading_varies_at_doppler),
        cmocka_unit_test(test_airsim_read_times_out_without_writer),
        cmocka_unit_test(test_airsim_realtime_reports_underflow_and_end_of_burst),
        cmocka_unit_test(test_airsim_realtime_reader_too_slow_overflows),
        cmocka_unit_test(test_airsim_rejects_bad_device_arguments),
        cmocka_unit_test(test_airsim_burst_arrives_intact_at_its_time),
        cmocka_unit_test(test_airsim_snr_matches_configuration),
        cmocka_unit_test(test_airsim_cfo_matches_configuration),
        cmocka_unit_test(test_airsim_delay_matches_configuration),
        cmocka_unit_test(test_airsim_tx_ppm_reaches_the_receiver),
        cmocka_unit_test(test_airsim_retuned_receiver_follows_its_frequency),
        cmocka_unit_test(test_airsim_reader_reports_gone_writer_and_recovers),
        cmocka_unit_test(test_airsim_writer_reports_gone_reader_and_recovers),
        cmocka_unit_test(test_airsim_profile_defaults_yield_to_user_keys),
        cmocka_unit_test(test_airsim_accepts_wrapper_keys_and_refuses_typos),
        cmocka_unit_test(test_airsim_hackrf_tx_underflows_when_idle),
        cmocka_unit_test(test_airsim_hackrf_is_half_duplex),
        cmocka_unit_test(test_airsim_hackrf_fast_clock_airs_full_buffers_back_to_back),
        cmocka_unit_test(test_airsim_hackrf_fast_clock_read_returns_what_has_come),
        cmocka_unit_test(test_airsim_hackrf_rx_quantizes_to_8_bits),
        cmocka_unit_test(test_airsim_hackrf_tx_airs_full_buffers_after_the_queue),
        cmocka_unit_test(test_airsim_unplug_and_replug_per_profile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

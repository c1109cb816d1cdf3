/* Tests of driver=airsim: its argument and message parsers, and two
 * processes joined by a link through the real SoapySDR module (the
 * build tree's module, found through SOAPY_SDR_PLUGIN_PATH). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <SoapySDR/Errors.h>
#include <complex.h>
#include <math.h>
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
#include "airsim_wire.h"
#include "al_bytes.h"
#include "al_error.h"
#include "al_log.h"
#include "al_radio.h"
#include "al_rng.h"

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
    airsim_wire_header h = {AIRSIM_FLAG_START, 42, 7, 1000, 990, count};
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
        {4, 2},              /* version */
        {5, 0x80},           /* unknown flag */
        {6, 1},              /* reserved */
        {40, 17},            /* count does not match the length */
        {44, 1},             /* reserved */
        {31, 0x80},          /* negative time */
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

/* A known unit-power burst. */
static float complex *s_burst(uint64_t seed, size_t n)
{
    float complex *x = malloc(n * sizeof *x);
    al_rng_t r;
    al_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) {
        float re, im;
        al_rng_cnormal(&r, 1.0, &re, &im);
        x[i] = re + I * im;
    }
    return x;
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
    float complex *x = s_burst(seed, n);
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
    float complex *x1 = s_burst(11, L), *x2 = s_burst(22, L);
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

/* Received copy of burst (seed, L) sent at T through an RX device with
 * extra arguments; y holds labels [T, T + L + 64). */
static float complex *s_receive_impaired(const char *name, const char *extra, uint64_t seed,
                                         int64_t T, size_t L)
{
    char link[128], tx[256], rx[512];
    s_link(link, sizeof link, name);
    snprintf(tx, sizeof tx, "driver=airsim,clock=fast,link=%s", link);
    snprintf(rx, sizeof rx, "%s,%s", tx, extra);
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

static void test_airsim_snr_matches_configuration(void **state)
{
    (void)state;
    enum { L = 60000, T = 1000 };
    float complex *y = s_receive_impaired("snr", "snr_db=10,seed=5", 31, T, L);
    float complex *x = s_burst(31, L);
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

static void test_airsim_cfo_matches_configuration(void **state)
{
    (void)state;
    enum { L = 60000, T = 1000, LAG = 100 };
    const double cfo = 1234.0;
    float complex *y = s_receive_impaired("cfo", "cfo=1234,phase=0.5,snr_db=30", 32, T, L);
    float complex *x = s_burst(32, L);
    double complex acc = 0;
    for (int i = 0; i + LAG < L; i++)
        acc += (y[i + LAG] * conjf(x[i + LAG])) * conj(y[i] * conjf(x[i]));
    double est = carg(acc) / (2 * M_PI * LAG) * RATE;
    printf("airsim measured CFO %.2f Hz (configured %.0f)\n", est, cfo);
    assert_true(fabs(est - cfo) < 0.01 * cfo);
    free(x);
    free(y);
}

static void test_airsim_delay_matches_configuration(void **state)
{
    (void)state;
    enum { L = 20000, T = 1000, W = L + 64, NF = 48 };
    const double delay = 3.37;
    float complex *y = s_receive_impaired("delay", "delay=3.37", 33, T, L);
    float complex *x = s_burst(33, L);
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

int main(int argc, char **argv)
{
    al_log_set_level(AL_LOG_ERROR);
    if (argc == 6 && strcmp(argv[1], "--child-writer") == 0)
        return s_child_writer(argv[2], strtoull(argv[3], NULL, 10), strtoull(argv[4], NULL, 10),
                              strtoll(argv[5], NULL, 10));
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
        cmocka_unit_test(test_airsim_reader_reports_gone_writer_and_recovers),
        cmocka_unit_test(test_airsim_writer_reports_gone_reader_and_recovers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

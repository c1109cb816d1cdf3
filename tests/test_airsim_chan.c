/* Tests of the airsim RF front end (airsim_chan.c and its placement in
 * airsim_link.c): each impairment is configured, then measured back from
 * what the receiver delivers. The oscillator tests run a TX and an RX
 * link object in this process (clock=fast), so the TX's ppm and frequency
 * travel in the wire header exactly as between two processes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <SoapySDR/Errors.h>
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "airsim_chan.h"
#include "airsim_config.h"
#include "airsim_link.h"
#include "airsim_wire.h"
#include "al_error.h"
#include "al_log.h"
#include "al_rng.h"
#include "unit_noise.h"

enum { RATE = 1000000 };

static void s_config_more(airsim_config *c, const char *const *kv, const char *const *more)
{
    airsim_config_default(c);
    for (; kv && kv[0]; kv += 2)
        assert_int_equal(airsim_config_set(c, kv[0], kv[1]), 0);
    for (; more && more[0]; more += 2)
        assert_int_equal(airsim_config_set(c, more[0], more[1]), 0);
    assert_int_equal(airsim_config_finish(c), 0);
}

static void s_config(airsim_config *c, const char *const *kv)
{
    s_config_more(c, kv, NULL);
}

/* ---------------------------------------------------------------- */
/* the oscillators of a TX and an RX link object */

typedef struct {
    airsim_tx_t *tx;
    airsim_rx_t *rx;
} s_pair;

/* tx_kv, rx_kv: further device arguments of each end. */
static s_pair s_open_pair_args(const char *name, const char *const *tx_kv,
                               const char *const *rx_kv, double f_tx, double f_rx)
{
    char link[128];
    snprintf(link, sizeof link, "ipc://@airlearn-test-chan-%s-%ld", name, (long)getpid());
    airsim_config ct, cr;
    s_config_more(&ct, (const char *const[]){"link", link, "clock", "fast", NULL}, tx_kv);
    s_config_more(&cr, (const char *const[]){"link", link, "clock", "fast", NULL}, rx_kv);
    s_pair p = {airsim_tx_create(&ct, RATE), airsim_rx_create(&cr, RATE)};
    assert_non_null(p.tx);
    assert_non_null(p.rx);
    assert_int_equal(airsim_tx_set_frequency(p.tx, f_tx), 0);
    assert_int_equal(airsim_rx_set_frequency(p.rx, f_rx), 0);
    return p;
}

static s_pair s_open_pair(const char *name, const char *tx_ppm, const char *rx_ppm, double f_tx,
                          double f_rx)
{
    return s_open_pair_args(name, (const char *const[]){"ppm", tx_ppm, NULL},
                            (const char *const[]){"ppm", rx_ppm, NULL}, f_tx, f_rx);
}

static void s_close_pair(s_pair *p)
{
    airsim_tx_destroy(&p->tx);
    airsim_rx_destroy(&p->rx);
}

/* Sends x (n samples) as a burst at TX time t, except samples [gap_from,
 * gap_to), which are left out (two bursts then), then a short burst of
 * silence well after it so that the fast-clock RX sees past its end;
 * y gets the RX labels [t, t + n + 64). Writes and reads alternate: one
 * thread drives both ends. */
static void s_send_bursts(s_pair *p, const float complex *x, size_t n, int64_t t, size_t gap_from,
                          size_t gap_to, float complex *y)
{
    enum { MTU = AIRSIM_WIRE_MAX_SAMPLES, QUIET = 4096 };
    static float complex buf[MTU], silence[QUIET];
    int64_t upto = t + (int64_t)n + 64, have = 0;
    size_t sent = 0;
    int tail_sent = 0;
    memset(y, 0, (n + 64) * sizeof *y);
    uint64_t deadline = al_now_ms() + 60000;
    while (have < upto) {
        if (al_now_ms() > deadline)
            fail_msg("stream stopped at %lld of %lld", (long long)have, (long long)upto);
        if (sent < n) {
            size_t stop = sent < gap_from ? gap_from : n;
            unsigned m = stop - sent > MTU ? MTU : (unsigned)(stop - sent);
            int first = sent == 0 || sent == gap_to;
            int w = airsim_tx_write(p->tx, x + sent, AIRSIM_CF32, m, first, t + (int64_t)sent,
                                    sent + m == stop, 1000);
            if (w > 0)
                sent += (size_t)w;
            if (sent == gap_from)
                sent = gap_to;
        } else if (!tail_sent) {
            tail_sent = airsim_tx_write(p->tx, silence, AIRSIM_CF32, QUIET, 1, upto + 20000, 1,
                                        1000) == QUIET;
        }
        int64_t k;
        int r = airsim_rx_read(p->rx, buf, AIRSIM_CF32, MTU, &k, 1000);
        if (r <= 0)
            continue;
        for (int i = 0; i < r; i++)
            if (k + i >= t && k + i < upto)
                y[k + i - t] = buf[i];
        have = k + r;
    }
}

static void s_send_receive(s_pair *p, const float complex *x, size_t n, int64_t t,
                           float complex *y)
{
    s_send_bursts(p, x, n, t, n, n, y);
}

/* Frequency of y in Hz at RATE, from the phase advance over LAG samples. */
static double s_tone_hz(const float complex *y, size_t n)
{
    enum { LAG = 4 };   /* unambiguous up to RATE / 8 */
    double complex acc = 0;
    for (size_t i = 0; i + LAG < n; i++)
        acc += y[i + LAG] * conj(y[i]);
    return carg(acc) / (2.0 * M_PI * LAG) * RATE;
}

static double s_cfo_of(s_pair p)
{
    enum { L = 50000, T = 1000 };
    float complex *x = malloc(L * sizeof *x), *y = malloc((L + 64) * sizeof *y);
    for (int i = 0; i < L; i++)
        x[i] = 1.0f;   /* the carrier alone */
    s_send_receive(&p, x, L, T, y);
    /* Inside the burst, away from the interpolator's edges. */
    double hz = s_tone_hz(y + 100, L - 200);
    s_close_pair(&p);
    free(x);
    free(y);
    return hz;
}

static double s_cfo_through(const char *name, const char *tx_ppm, const char *rx_ppm, double f)
{
    return s_cfo_of(s_open_pair(name, tx_ppm, rx_ppm, f, f));
}

static void test_airsim_chan_cfo_is_ppm_difference_times_frequency(void **state)
{
    (void)state;
    /* TX +15 ppm, RX -5 ppm: the carriers are 20 ppm of f apart. */
    const double f1 = 915e6, f2 = 2.4e9;
    double hz1 = s_cfo_through("cfo1", "15", "-5", f1);
    double hz2 = s_cfo_through("cfo2", "15", "-5", f2);
    double want1 = 20e-6 * f1, want2 = 20e-6 * f2;
    printf("ppm 15 vs -5: CFO %.1f Hz at %.0f MHz (want %.1f), %.1f Hz at %.0f MHz (want %.1f)\n",
           hz1, f1 / 1e6, want1, hz2, f2 / 1e6, want2);
    assert_true(fabs(hz1 - want1) < 0.01 * want1);
    assert_true(fabs(hz2 - want2) < 0.01 * want2);
    /* Equal oscillators on both ends: no offset at all. */
    double hz0 = s_cfo_through("cfo0", "7", "7", f1);
    printf("ppm 7 vs 7: CFO %.3f Hz\n", hz0);
    assert_true(fabs(hz0) < 1.0);
}

static void test_airsim_chan_profiles_default_to_a_typical_pair(void **state)
{
    (void)state;
    /* Both ends with the same profile and no ppm of their own: a HackRF
     * pair sits 20 ppm apart (TX +10, RX -10), a B2x0 pair 2 ppm; an
     * explicit ppm overrides the profile's. */
    const double f = 915e6;
    static const struct {
        const char *name, *profile, *rx_ppm;
        double want_ppm;
    } cases[] = {
        {"hackrf", "hackrf", NULL, 20.0},
        {"b2x0", "b2x0", NULL, 2.0},
        {"override", "hackrf", "10", 0.0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *const tx[] = {"profile", cases[i].profile, NULL};
        const char *const rx[] = {"profile", cases[i].profile, cases[i].rx_ppm ? "ppm" : NULL,
                                  cases[i].rx_ppm, NULL};
        s_pair p = s_open_pair_args(cases[i].name, tx, rx, f, f);
        /* The profiles' receivers put a unit-power signal at maximum TX
         * gain tx_dbm - fs_dbm above full scale (airsim_front.h): keep the
         * carrier inside it. */
        airsim_rx_set_gain(p.rx, -30.0);
        double hz = s_cfo_of(p);
        double want = cases[i].want_ppm * 1e-6 * f;
        printf("profile %s%s: CFO %.1f Hz (want %.1f)\n", cases[i].profile,
               cases[i].rx_ppm ? ", RX ppm=10" : "", hz, want);
        assert_true(fabs(hz - want) < 0.01 * want + 5.0);
    }
}

/* Delay (samples, fractional) of x in y: y[i] ~ x[i - d], |d| < 64.
 * Integer part from the correlation peak, the rest from the slope of the
 * cross-spectrum phase, arg(Y X*) = -2 pi f d, over |f| <= 0.2. */
static double s_delay(const float complex *x, const float complex *y, int w)
{
    int best = 0;
    double best_mag = -1;
    for (int lag = -63; lag <= 63; lag++) {
        double complex acc = 0;
        for (int i = 64; i < w - 64; i++)
            acc += y[i + lag] * conjf(x[i]);
        if (cabs(acc) > best_mag) {
            best_mag = cabs(acc);
            best = lag;
        }
    }
    enum { NF = 32 };
    double num = 0, den = 0;
    for (int k = 1; k <= NF; k++) {
        double f = 0.2 * k / NF;
        double complex X = 0, Y = 0, step = cexp(-2 * M_PI * I * f), p = 1;
        for (int i = 64; i < w - 64; i++, p *= step) {
            X += x[i] * p;
            Y += y[i + best] * p;
        }
        double phi = carg(Y * conj(X));
        double mag = cabs(Y * conj(X));
        num += mag * f * phi;
        den += mag * f * f;
    }
    return best - num / (2 * M_PI * den);
}

static void test_airsim_chan_sample_clock_drifts_by_ppm(void **state)
{
    (void)state;
    /* TX +12 ppm, RX -8 ppm, no carrier (frequency 0): over 10^6 samples
     * the TX's samples arrive 10^6 (r - 1) ~ -20 RX samples early. Two
     * bursts 10^6 samples apart, as one and then in two pieces: the
     * drift runs on through the silence between bursts. */
    enum { SPAN = 1000000, W = 4096, L = SPAN + W, T = 1000 };
    double r = (1.0 - 8e-6) / (1.0 + 12e-6), want = SPAN * (r - 1.0);
    float complex *x = unit_noise(41, L), *y = malloc((L + 64) * sizeof *y);
    for (int split = 0; split < 2; split++) {
        s_pair p = s_open_pair(split ? "drift2" : "drift1", "12", "-8", 0.0, 0.0);
        s_send_bursts(&p, x, L, T, split ? W : L, split ? SPAN : L, y);
        s_close_pair(&p);
        double d0 = s_delay(x, y, W);
        double d1 = s_delay(x + SPAN, y + SPAN, W);
        double got = d1 - d0;
        printf("drift over %d samples%s: %.3f (start %.3f, end %.3f; want %.3f)\n", SPAN,
               split ? ", two bursts" : "", got, d0, d1, want);
        /* The timeline starts at the first sample: the window's middle
         * has drifted by W/2 (r - 1) already. */
        assert_true(fabs(d0 - W / 2 * (r - 1.0)) < 0.02);
        assert_true(fabs(got - want) < 0.05 * fabs(want));
    }
    free(x);
    free(y);
}

static void test_airsim_chan_resampling_is_continuous_across_messages(void **state)
{
    (void)state;
    /* A tone through a 30 ppm clock offset: the interpolator's pieces
     * from successive messages (MTU 16384) must join without a seam, so
     * the error against the ideal resampled tone stays small everywhere. */
    enum { L = 3 * AIRSIM_WIRE_MAX_SAMPLES, T = 500 };
    s_pair p = s_open_pair("seam", "30", "0", 0.0, 0.0);
    const double w = 2 * M_PI * 0.05;
    float complex *x = malloc(L * sizeof *x), *y = malloc((L + 64) * sizeof *y);
    for (int i = 0; i < L; i++)
        x[i] = (float complex)cexp(I * w * i);
    s_send_receive(&p, x, L, T, y);
    double r = 1.0 / (1.0 + 30e-6), worst = 0;
    for (int k = 32; k < L - 32; k++) {
        double err = cabs(y[k] - cexp(I * w * k / r));
        if (err > worst)
            worst = err;
    }
    printf("resampled tone: worst error %.2e\n", worst);
    assert_true(worst < 3e-3);
    s_close_pair(&p);
    free(x);
    free(y);
}

/* ---------------------------------------------------------------- */
/* the RX front end, on the channel object */

static void test_airsim_chan_dc_offset_measured_back(void **state)
{
    (void)state;
    enum { N = 100000 };
    airsim_config c;
    s_config(&c, (const char *const[]){"dc_dbc", "-30", NULL});
    airsim_chan_t *ch = airsim_chan_create(&c, RATE);
    assert_non_null(ch);
    float complex *x = unit_noise(51, N), *y = malloc(N * sizeof *y);
    airsim_chan_stream(ch, x, y, N);
    /* Relative to the unit-power signal itself: the mean of y - x. */
    double complex dc = 0;
    double ps = 0;
    for (int i = 0; i < N; i++) {
        dc += y[i] - x[i];
        ps += crealf(x[i] * conjf(x[i]));
    }
    dc /= N;
    ps /= N;
    double dbc = 10 * log10(creal(dc * conj(dc)) / ps);
    printf("DC offset %.3f dBc (configured -30)\n", dbc);
    assert_true(fabs(dbc + 30.0) < 0.1);
    airsim_chan_destroy(&ch);
    free(x);
    free(y);
}

static void test_airsim_chan_iq_imbalance_measured_from_the_image(void **state)
{
    (void)state;
    enum { N = 100000 };
    airsim_config c;
    s_config(&c, (const char *const[]){"iq_gain_db", "0.5", "iq_phase_deg", "3", NULL});
    airsim_chan_t *ch = airsim_chan_create(&c, RATE);
    assert_non_null(ch);
    float complex *x = unit_noise(52, N), *y = malloc(N * sizeof *y);
    airsim_chan_stream(ch, x, y, N);
    /* Least squares y = mu x + nu conj(x): nu is the image. */
    double complex a = 0, b = 0, cc = 0, sxy = 0, sy = 0;
    for (int i = 0; i < N; i++) {
        a += conj(x[i]) * x[i];
        b += conj(x[i]) * conj(x[i]);
        cc += x[i] * x[i];
        sxy += conj(x[i]) * y[i];
        sy += x[i] * y[i];
    }
    double complex det = a * a - b * cc;
    double complex mu = (a * sxy - b * sy) / det, nu = (a * sy - cc * sxy) / det;
    /* mu = (1 + g e^-j phi)/2, nu = (1 - g e^j phi)/2: mu - conj(nu) = g e^-j phi. */
    double complex k = mu - conj(nu);
    double gain_db = 20 * log10(cabs(k)), phase_deg = -carg(k) * 180 / M_PI;
    double irr = 10 * log10(creal(mu * conj(mu)) / creal(nu * conj(nu)));
    printf("IQ imbalance %.4f dB, %.4f deg (configured 0.5, 3); image rejection %.2f dB\n",
           gain_db, phase_deg, irr);
    assert_true(fabs(gain_db - 0.5) < 0.01);
    assert_true(fabs(phase_deg - 3.0) < 0.01);
    airsim_chan_destroy(&ch);
    free(x);
    free(y);
}

/* Variance of the phase change over `lag` samples of a unit carrier. */
static double s_phase_var(const float complex *y, int n, int lag)
{
    double s = 0;
    for (int i = 0; i + lag < n; i++) {
        double d = carg(y[i + lag] * conjf(y[i]));
        s += d * d;
    }
    return s / (n - lag);
}

static void test_airsim_chan_phase_noise_grows_with_linewidth(void **state)
{
    (void)state;
    enum { N = 4000000 };
    const double linewidth = 100.0;
    airsim_config c;
    s_config(&c, (const char *const[]){"phase_noise", "100", NULL});
    airsim_chan_t *ch = airsim_chan_create(&c, RATE);
    assert_non_null(ch);
    float complex *y = malloc(N * sizeof *y);
    for (int i = 0; i < N; i++)
        y[i] = 1.0f;
    airsim_chan_stream(ch, y, y, N);
    /* Wiener: Var[theta(t + tau) - theta(t)] = 2 pi linewidth tau. */
    static const int lags[] = {100, 400};
    for (size_t i = 0; i < sizeof lags / sizeof lags[0]; i++) {
        double want = 2 * M_PI * linewidth * lags[i] / RATE;
        double got = s_phase_var(y, N, lags[i]);
        printf("phase noise: variance over %d samples %.5f rad^2 (want %.5f)\n", lags[i], got,
               want);
        assert_true(fabs(got - want) < 0.05 * want);
    }
    airsim_chan_destroy(&ch);
    free(y);
}

static void test_airsim_chan_rejects_bad_front_end_arguments(void **state)
{
    (void)state;
    airsim_config c;
    airsim_config_default(&c);
    assert_int_not_equal(airsim_config_set(&c, "ppm", "1001"), 0);
    assert_int_not_equal(airsim_config_set(&c, "ppm", "nan"), 0);
    assert_int_not_equal(airsim_config_set(&c, "dc_dbc", "3"), 0);
    assert_int_not_equal(airsim_config_set(&c, "iq_phase_deg", "90"), 0);
    assert_int_not_equal(airsim_config_set(&c, "phase_noise", "-1"), 0);
    assert_non_null(strstr(al_error_message(), "phase_noise"));
}

int main(void)
{
    al_log_set_level(AL_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_airsim_chan_rejects_bad_front_end_arguments),
        cmocka_unit_test(test_airsim_chan_dc_offset_measured_back),
        cmocka_unit_test(test_airsim_chan_iq_imbalance_measured_from_the_image),
        cmocka_unit_test(test_airsim_chan_phase_noise_grows_with_linewidth),
        cmocka_unit_test(test_airsim_chan_cfo_is_ppm_difference_times_frequency),
        cmocka_unit_test(test_airsim_chan_profiles_default_to_a_typical_pair),
        cmocka_unit_test(test_airsim_chan_sample_clock_drifts_by_ppm),
        cmocka_unit_test(test_airsim_chan_resampling_is_continuous_across_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

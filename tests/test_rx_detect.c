/* Tests of rx/rx_detect: the shaped preamble alone, placed at a known
 * fractional position in noise with a known carrier offset and phase. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <liquid/liquid.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "al_error.h"
#include "al_frame.h"
#include "phy_channel.h"
#include "rx_detect.h"

enum { K = 2, M = AL_FRAME_FILTER_DELAY, LEN = 6000, START = 2500 };

/* The preamble as the transmitter shapes it [size: (L + 2m) K]; *energy
 * gets the sum of its samples' power. */
static unsigned s_shaped(float complex *out, double *energy)
{
    float complex p[AL_FRAME_PREAMBLE_LEN];
    al_frame_preamble(p);
    firinterp_crcf f = firinterp_crcf_create_prototype(LIQUID_FIRFILT_RRC, K, M, 0.35f, 0);
    for (unsigned i = 0; i < AL_FRAME_PREAMBLE_LEN + 2 * M; i++)
        firinterp_crcf_execute(f, i < AL_FRAME_PREAMBLE_LEN ? p[i] : 0.0f, out + i * K);
    firinterp_crcf_destroy(f);
    const unsigned n = (AL_FRAME_PREAMBLE_LEN + 2 * M) * K;
    *energy = 0.0;
    for (unsigned i = 0; i < n; i++)
        *energy += crealf(out[i] * conjf(out[i]));
    return n;
}

static rx_detect_t *s_detector(void)
{
    float complex p[AL_FRAME_PREAMBLE_LEN];
    al_frame_preamble(p);
    rx_detect_t *d = rx_detect_create(p, AL_FRAME_PREAMBLE_LEN, K, M, 0.35f, 0.5f);
    assert_non_null(d);
    return d;
}

/* Feeds x in blocks of 333 and counts the detections over all of it
 * (the detector starts afresh after each); the first one's result goes
 * to *res and the stream index of its preamble start (buf[0]) to *at. */
static unsigned s_detect(rx_detect_t *d, const float complex *x, size_t n, rx_detect_result *res,
                         long *at)
{
    unsigned count = 0;
    size_t pos = 0;
    while (pos < n) {
        int found = 0;
        rx_detect_result r;
        size_t len = n - pos < 333 ? n - pos : 333;
        pos += rx_detect_execute(d, x + pos, len, &found, &r);
        if (found && count++ == 0) {
            *res = r;
            *at = (long)pos - (long)r.len;
        }
    }
    return count;
}

static unsigned s_count(rx_detect_t *d, const float complex *x, size_t n)
{
    rx_detect_result res;
    long at;
    rx_detect_reset(d);
    return s_detect(d, x, n, &res, &at);
}

/* x rounded to the steps of an 8-bit converter (1/127 of full scale). */
static void s_quantize(float complex *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = roundf(crealf(x[i]) * 127.0f) / 127.0f + roundf(cimagf(x[i]) * 127.0f) / 127.0f * I;
}

static void test_rx_detect_finds_timing_offset_and_phase(void **state)
{
    (void)state;
    float complex s[(AL_FRAME_PREAMBLE_LEN + 2 * M) * K];
    double p;
    const unsigned n_s = s_shaped(s, &p);
    float complex *x = malloc(sizeof *x * LEN);
    rx_detect_t *d = s_detector();
    al_rng_t r;
    al_rng_seed(&r, 5);
    const double es = K * p / (AL_FRAME_PREAMBLE_LEN * K); /* energy per symbol */
    double worst_t = 0, worst_f = 0, worst_p = 0;
    for (int trial = 0; trial < 200; trial++) {
        /* +-5 % of the sample rate: two HackRFs at +-20 ppm at 2.44 GHz
         * and 2 Msps are 4.9 % apart. */
        const double frac = al_rng_uniform(&r);
        const double cfo = (2 * al_rng_uniform(&r) - 1) * 0.05 * 2 * M_PI;
        const double phase = 2 * M_PI * al_rng_uniform(&r);
        phy_channel(s, n_s, x, LEN, START + frac, 1.0, cfo, phase, es / 10.0, &r); /* 10 dB */
        rx_detect_reset(d);
        rx_detect_result res = {0};
        long at = -1;
        assert_int_equal(s_detect(d, x, LEN, &res, &at), 1);
        /* Where the preamble starts, in stream samples, and the carrier
         * at that instant. */
        const double t_err = (double)at + res.tau - (START + frac);
        const double f_err = res.dphi - cfo;
        const double want_phi = phase + cfo * (double)at;
        const double p_err = fabs(carg(cexp(I * (res.phi - want_phi))));
        worst_t = fmax(worst_t, fabs(t_err));
        worst_f = fmax(worst_f, fabs(f_err));
        worst_p = fmax(worst_p, p_err);
    }
    print_message("worst of 200: timing %.3f samples, offset %.2e rad/sample, phase %.3f rad\n",
                  worst_t, worst_f, worst_p);
    /* The receiver searches the alignment +-2 symbols and refines timing
     * and frequency itself: it needs the timing within a sample and the
     * offset far inside the lag-one-symbol range (+-pi/2k). The phase is
     * what the fading receiver starts from (measured: 0.20 samples,
     * 4.4e-3 rad/sample, 0.39 rad; the lag-k estimate alone is off by
     * up to 4e-2, without the half-preamble stage 1e-2 and 0.77 rad). */
    assert_true(worst_t < 0.5);
    assert_true(worst_f < 6e-3);
    assert_true(worst_p < 0.6);
    rx_detect_destroy(&d);
    free(x);
}

static void test_rx_detect_ignores_exact_zeros(void **state)
{
    /* 8-bit samples at low gain: the silence between frames is exact
     * zeros, whose windows have no energy at all. */
    (void)state;
    enum { ZEROS = 20 * LEN };
    float complex *x = calloc(ZEROS, sizeof *x);
    rx_detect_t *d = s_detector();
    assert_int_equal(s_count(d, x, ZEROS), 0);
    rx_detect_reset(d);
    int found = 1;
    rx_detect_result res;
    assert_int_equal(rx_detect_execute(d, x, ZEROS, &found, &res), ZEROS);
    assert_int_equal(found, 0);
    rx_detect_destroy(&d);
    free(x);
}

/* Asserts that no preamble is found in any of reps streams of n samples
 * that fill(x, n, rep, rng) makes. */
static void s_expect_none(void (*fill)(float complex *, size_t, unsigned, al_rng_t *),
                          unsigned reps, size_t n, uint64_t seed)
{
    float complex *x = malloc(sizeof *x * n);
    rx_detect_t *d = s_detector();
    al_rng_t r;
    al_rng_seed(&r, seed);
    for (unsigned rep = 0; rep < reps; rep++) {
        fill(x, n, rep, &r);
        assert_int_equal(s_count(d, x, n), 0);
    }
    rx_detect_destroy(&d);
    free(x);
}

/* A few LSB of noise, with and without a few LSB of DC, as an 8-bit
 * converter delivers it: mostly zeros and +-1 steps. */
static void s_quantized_low_noise(float complex *x, size_t n, unsigned rep, al_rng_t *r)
{
    static const double sigma_lsb[] = {0.2, 0.3, 0.5, 1.0, 2.0, 3.0};
    static const float complex dc_lsb[] = {0.0f, 0.7f + 0.2f * I, 3.0f - 2.0f * I};
    const double sigma = sigma_lsb[rep / 3], v = 2.0 * sigma * sigma / (127.0 * 127.0);
    phy_channel(NULL, 0, x, n, 0.0, 1.0, 0.0, 0.0, v, r);
    for (size_t i = 0; i < n; i++)
        x[i] += dc_lsb[rep % 3] / 127.0f;
    s_quantize(x, n);
}

static void test_rx_detect_ignores_quantized_low_noise(void **state)
{
    (void)state;
    s_expect_none(s_quantized_low_noise, 18, 10 * LEN, 13);
}

/* Near-silence (-100 dBFS) and a -12 dBFS signal in the same blocks:
 * the quiet windows hold nothing but the FFT's rounding. */
static void s_quiet_beside_strong(float complex *x, size_t n, unsigned rep, al_rng_t *r)
{
    (void)rep;
    for (size_t i = 0; i < n; i++) {
        float a, b;
        al_rng_cnormal(r, i % 2000 < 1000 ? 1e-10 : 0.0625, &a, &b);
        x[i] = a + b * I;
    }
}

static void test_rx_detect_ignores_rounding_next_to_a_strong_signal(void **state)
{
    (void)state;
    s_expect_none(s_quiet_beside_strong, 20, LEN, 17);
}

static void s_gaussian_noise(float complex *x, size_t n, unsigned rep, al_rng_t *r)
{
    (void)rep;
    phy_channel(NULL, 0, x, n, 0.0, 1.0, 0.0, 0.0, 1.0, r);
}

static void test_rx_detect_ignores_gaussian_noise(void **state)
{
    (void)state;
    s_expect_none(s_gaussian_noise, 50, LEN, 9);
}

static void test_rx_detect_finds_a_quantized_preamble_between_zeros(void **state)
{
    /* A weak preamble (about 4 LSB RMS) quantized to 8 bits between
     * runs of exact zeros: found once, where it is. */
    (void)state;
    float complex s[(AL_FRAME_PREAMBLE_LEN + 2 * M) * K];
    double p;
    const unsigned n_s = s_shaped(s, &p);
    float complex *x = malloc(sizeof *x * LEN);
    rx_detect_t *d = s_detector();
    al_rng_t r;
    al_rng_seed(&r, 19);
    const double gain = 4.0 / 127.0 / sqrt(p / n_s);
    for (int trial = 0; trial < 20; trial++) {
        const double frac = al_rng_uniform(&r);
        phy_channel(s, n_s, x, LEN, START + frac, gain, 0.3, 0.0, 0.0, &r);
        s_quantize(x, LEN);
        rx_detect_reset(d);
        rx_detect_result res = {0};
        long at = -1;
        assert_int_equal(s_detect(d, x, LEN, &res, &at), 1);
        assert_true(fabs((double)at + res.tau - (START + frac)) < 0.5);
    }
    rx_detect_destroy(&d);
    free(x);
}

static void test_rx_detect_rejects_bad_settings(void **state)
{
    (void)state;
    float complex p[AL_FRAME_PREAMBLE_LEN];
    al_frame_preamble(p);
    assert_null(rx_detect_create(p, AL_FRAME_PREAMBLE_LEN, 1, M, 0.35f, 0.5f));
    assert_null(rx_detect_create(p, AL_FRAME_PREAMBLE_LEN, K, M, 0.35f, 1.0f));
    assert_null(rx_detect_create(p, 4, K, M, 0.35f, 0.5f));
    assert_null(rx_detect_create(NULL, AL_FRAME_PREAMBLE_LEN, K, M, 0.35f, 0.5f));
    assert_non_null(strstr(al_error_message(), "detector"));
    rx_detect_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rx_detect_finds_timing_offset_and_phase),
        cmocka_unit_test(test_rx_detect_ignores_exact_zeros),
        cmocka_unit_test(test_rx_detect_ignores_quantized_low_noise),
        cmocka_unit_test(test_rx_detect_ignores_rounding_next_to_a_strong_signal),
        cmocka_unit_test(test_rx_detect_ignores_gaussian_noise),
        cmocka_unit_test(test_rx_detect_finds_a_quantized_preamble_between_zeros),
        cmocka_unit_test(test_rx_detect_rejects_bad_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

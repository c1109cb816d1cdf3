/* Tests of the conventional same-rate baseline (common/al_qam). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "al_qam.h"
#include "al_rng.h"

static void test_qam_bits_for_rate_is_log2m_over_n_or_none(void **state)
{
    (void)state;
    assert_int_equal(al_qam_bits_for_rate(256, 4), 2);
    assert_int_equal(al_qam_bits_for_rate(16, 1), 4);
    assert_int_equal(al_qam_bits_for_rate(16, 2), 2);
    assert_int_equal(al_qam_bits_for_rate(2, 1), 1);
    assert_int_equal(al_qam_bits_for_rate(8, 1), 3);
    assert_int_equal(al_qam_bits_for_rate(8, 2), 0);      /* 1.5 bits per symbol */
    assert_int_equal(al_qam_bits_for_rate(12, 1), 0);     /* not a power of two */
    assert_int_equal(al_qam_bits_for_rate(65536, 1), 16);
    assert_int_equal(al_qam_bits_for_rate(1, 1), 0);
    assert_int_equal(al_qam_bits_for_rate(16, 0), 0);
}

static void test_qam_create_rejects_what_has_no_scheme(void **state)
{
    (void)state;
    assert_null(al_qam_create(0, 1));
    assert_null(al_qam_create(AL_QAM_MAX_BITS + 1, 1));
    assert_null(al_qam_create(2, 0));
    assert_null(al_qam_create(2, 16));   /* 32 bits: messages are uint32_t */
    al_qam_t *q = al_qam_create(2, 15);
    assert_non_null(q);
    al_qam_destroy(&q);
    assert_null(q);
    al_qam_destroy(&q);
    al_qam_destroy(NULL);
}

static void s_expect_point(const al_qam_t *q, uint32_t v, double re, double im)
{
    float a, b;
    al_qam_point(q, v, &a, &b);
    assert_float_equal(a, re, 1e-6);
    assert_float_equal(b, im, 1e-6);
}

static void test_qam_maps_symbols_to_the_exact_points(void **state)
{
    (void)state;
    const double r2 = 1 / sqrt(2.0), r10 = 1 / sqrt(10.0), r6 = 1 / sqrt(6.0);
    al_qam_t *q = al_qam_create(2, 1);
    assert_string_equal(al_qam_name(q), "qpsk");
    s_expect_point(q, 0, -r2, -r2);
    s_expect_point(q, 1, r2, -r2);
    s_expect_point(q, 2, -r2, r2);
    s_expect_point(q, 3, r2, r2);
    al_qam_destroy(&q);
    q = al_qam_create(4, 1);
    assert_string_equal(al_qam_name(q), "16qam");
    s_expect_point(q, 0, -3 * r10, -3 * r10);
    s_expect_point(q, 1, -1 * r10, -3 * r10);
    s_expect_point(q, 6, 1 * r10, -1 * r10);  /* in-phase level 2, quadrature 1 */
    s_expect_point(q, 15, 3 * r10, 3 * r10);
    al_qam_destroy(&q);
    q = al_qam_create(3, 1);   /* 4 x 2 rectangular 8-QAM, energy 6 d^2 */
    assert_string_equal(al_qam_name(q), "8qam");
    s_expect_point(q, 0, -3 * r6, -r6);
    s_expect_point(q, 7, 3 * r6, r6);
    al_qam_destroy(&q);
    q = al_qam_create(1, 1);
    assert_string_equal(al_qam_name(q), "bpsk");
    s_expect_point(q, 0, -1, 0);
    s_expect_point(q, 1, 1, 0);
    al_qam_destroy(&q);
}

static void test_qam_message_symbols_in_order_low_bits_first(void **state)
{
    (void)state;
    al_qam_t *q = al_qam_create(2, 4);   /* M=256, N=4: four QPSK symbols */
    const uint32_t m = 0xE4;            /* symbols 0, 1, 2, 3 */
    float x[8];
    al_qam_encode(q, &m, 1, x);
    const double r2 = 1 / sqrt(2.0);
    const double want[8] = {-r2, -r2, r2, -r2, -r2, r2, r2, r2};
    for (int i = 0; i < 8; i++)
        assert_float_equal(x[i], want[i], 1e-6);
    al_qam_destroy(&q);
}

static void test_qam_average_energy_per_symbol_is_one(void **state)
{
    (void)state;
    for (unsigned bits = 1; bits <= 10; bits++) {
        al_qam_t *q = al_qam_create(bits, 1);
        double e = 0;
        for (uint32_t v = 0; v < (1u << bits); v++) {
            float a, b;
            al_qam_point(q, v, &a, &b);
            e += (double)a * a + (double)b * b;
        }
        assert_float_equal(e / (1u << bits), 1.0, 1e-5);
        al_qam_destroy(&q);
    }
}

static void s_roundtrip_all(unsigned bits, unsigned N, float offset)
{
    al_qam_t *q = al_qam_create(bits, N);
    assert_non_null(q);
    const uint32_t M = 1u << (bits * N);
    float *x = malloc(sizeof(float) * 2 * N * M);
    uint32_t *msgs = malloc(sizeof(uint32_t) * M), *dec = malloc(sizeof(uint32_t) * M);
    for (uint32_t m = 0; m < M; m++)
        msgs[m] = m;
    al_qam_encode(q, msgs, M, x);
    /* Less than half the distance to a neighbour, alternating in sign. */
    for (size_t i = 0; i < 2 * (size_t)N * M; i++)
        x[i] += i % 2 ? offset : -offset;
    al_qam_decide(q, x, M, dec);
    for (uint32_t m = 0; m < M; m++)
        assert_int_equal(dec[m], m);
    free(x), free(msgs), free(dec);
    al_qam_destroy(&q);
}

static void test_qam_detects_noiseless_and_nearly_noiseless_symbols(void **state)
{
    (void)state;
    s_roundtrip_all(2, 4, 0.0f);    /* M=256, N=4 */
    s_roundtrip_all(2, 2, 0.0f);    /* M=16, N=2 */
    s_roundtrip_all(4, 1, 0.0f);    /* M=16, N=1 */
    s_roundtrip_all(3, 2, 0.0f);
    s_roundtrip_all(1, 3, 0.0f);
    s_roundtrip_all(2, 4, 0.3f);    /* d = 0.707 */
    s_roundtrip_all(4, 1, 0.15f);   /* d = 0.316 */
    s_roundtrip_all(6, 1, 0.07f);   /* d = 0.154 */
}

static void test_qam_slices_outliers_to_the_outer_levels(void **state)
{
    (void)state;
    al_qam_t *q = al_qam_create(4, 1);
    assert_int_equal(al_qam_slice(q, 1e30f, 1e30f), 15);
    assert_int_equal(al_qam_slice(q, -1e30f, -1e30f), 0);
    assert_true(al_qam_slice(q, NAN, INFINITY) < 16);
    al_qam_destroy(&q);
}

static void test_qam_closed_form_matches_known_values(void **state)
{
    (void)state;
    /* Es/N0 = 9 (linear): QPSK per dimension Q(3) = 1.3499e-3. */
    const double p = 1.3498980316e-3;
    al_qam_t *q = al_qam_create(2, 4);
    assert_float_equal(al_qam_ser_awgn(q, 10 * log10(9.0)), 1 - pow(1 - p, 8), 1e-9);
    al_qam_destroy(&q);
    /* 16-QAM at Es/N0 = 45: 1.5 Q(3) per dimension. */
    q = al_qam_create(4, 1);
    assert_float_equal(al_qam_ser_awgn(q, 10 * log10(45.0)), 1 - pow(1 - 1.5 * p, 2), 1e-9);
    al_qam_destroy(&q);
    /* 8-QAM (4 x 2) at Es/N0 = 27: d^2 = 1/6, per-dimension noise
     * variance 1/54, d / sigma = 3; 1.5 Q(3) in-phase, Q(3) quadrature. */
    q = al_qam_create(3, 1);
    assert_float_equal(al_qam_ser_awgn(q, 10 * log10(27.0)), 1 - (1 - 1.5 * p) * (1 - p), 1e-9);
    al_qam_destroy(&q);
}

/* Message error rate over simulated AWGN against the closed form. */
static void s_check_ser(unsigned bits, unsigned N, double snr_db)
{
    al_qam_t *q = al_qam_create(bits, N);
    enum { B = 1000, BATCHES = 200 };
    const uint32_t M = 1u << (bits * N);
    float *x = malloc(sizeof(float) * 2 * N * B);
    uint32_t msgs[B], dec[B];
    al_rng_t r;
    al_rng_seed(&r, 5 + bits);
    const double nv = pow(10.0, -snr_db / 10.0);
    unsigned long errors = 0;
    for (int k = 0; k < BATCHES; k++) {
        for (int i = 0; i < B; i++)
            msgs[i] = al_rng_below(&r, M);
        al_qam_encode(q, msgs, B, x);
        for (size_t i = 0; i < (size_t)N * B; i++) {
            float nr, ni;
            al_rng_cnormal(&r, nv, &nr, &ni);
            x[2 * i] += nr;
            x[2 * i + 1] += ni;
        }
        al_qam_decide(q, x, B, dec);
        for (int i = 0; i < B; i++)
            errors += dec[i] != msgs[i];
    }
    const double ser = (double)errors / (B * BATCHES), expect = al_qam_ser_awgn(q, snr_db);
    print_message("%s x%u at %.0f dB: simulated %.4e (%lu errors), closed form %.4e\n",
                  al_qam_name(q), N, snr_db, ser, errors, expect);
    /* Thousands of errors: a relative standard error of 1-3 %; allow 5 sd. */
    assert_true(errors >= 1000);
    assert_float_equal(ser / expect, 1.0, 5.0 / sqrt((double)errors));
    free(x);
    al_qam_destroy(&q);
}

static void test_qam_simulated_ser_matches_the_closed_form(void **state)
{
    (void)state;
    s_check_ser(2, 4, 6.0);    /* 4 x QPSK */
    s_check_ser(4, 1, 14.0);   /* 16-QAM */
    s_check_ser(3, 1, 10.0);   /* 8-QAM */
    s_check_ser(1, 2, 2.0);    /* 2 x BPSK */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qam_bits_for_rate_is_log2m_over_n_or_none),
        cmocka_unit_test(test_qam_create_rejects_what_has_no_scheme),
        cmocka_unit_test(test_qam_maps_symbols_to_the_exact_points),
        cmocka_unit_test(test_qam_message_symbols_in_order_low_bits_first),
        cmocka_unit_test(test_qam_average_energy_per_symbol_is_one),
        cmocka_unit_test(test_qam_detects_noiseless_and_nearly_noiseless_symbols),
        cmocka_unit_test(test_qam_slices_outliers_to_the_outer_levels),
        cmocka_unit_test(test_qam_closed_form_matches_known_values),
        cmocka_unit_test(test_qam_simulated_ser_matches_the_closed_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests of the EVAL frame payload (common/al_evalmix). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "al_evalmix.h"
#include "al_qam.h"

enum { M = 16, N = 2, P = 7, ROW = 2 * N };

static void s_labels(uint32_t *labels)
{
    for (unsigned i = 0; i < P; i++)
        labels[i] = (5 * i + 3) % M;
}

/* A stand-in for the TX network: learned message m as a row of m + 100. */
static void s_learned_rows(const uint32_t *labels, unsigned n, float *out)
{
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < ROW; j++)
            out[i * ROW + j] = (float)labels[i] + 100.0f + 0.01f * (float)j;
}

static void test_evalmix_alternates_learned_and_baseline_slots(void **state)
{
    (void)state;
    al_evalmix_t *q = al_evalmix_create(M, N, P);
    assert_non_null(q);
    assert_string_equal(al_qam_name(al_evalmix_baseline(q)), "qpsk");
    assert_int_equal(al_evalmix_learned_count(q), 4);
    assert_int_equal(al_evalmix_baseline_count(q), 3);
    uint32_t labels[P];
    s_labels(labels);
    const uint32_t *ll = al_evalmix_learned_labels(q, labels);
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(ll[i], labels[2 * i]);
    float payload[P * ROW];
    memset(payload, 0, sizeof payload);
    s_learned_rows(ll, 4, payload);
    al_evalmix_compose(q, labels, payload);
    float qam[ROW];
    for (unsigned s = 0; s < P; s++) {
        if (s % 2 == 0) {
            for (unsigned j = 0; j < ROW; j++)
                assert_float_equal(payload[s * ROW + j], labels[s] + 100.0f + 0.01f * j, 1e-6);
        } else {
            al_qam_encode(al_evalmix_baseline(q), &labels[s], 1, qam);
            assert_memory_equal(payload + s * ROW, qam, sizeof qam);
        }
    }
    /* The receiver gets the learned rows back in order, and no baseline
     * errors on a noiseless payload. */
    const float *ys = al_evalmix_learned_symbols(q, payload);
    float want[4 * ROW];
    s_learned_rows(ll, 4, want);
    assert_memory_equal(ys, want, sizeof want);
    assert_int_equal(al_evalmix_baseline_errors(q, payload, labels), 0);
    al_evalmix_destroy(&q);
    assert_null(q);
}

static void test_evalmix_counts_each_wrong_baseline_message(void **state)
{
    (void)state;
    al_evalmix_t *q = al_evalmix_create(M, N, P);
    uint32_t labels[P];
    s_labels(labels);
    float payload[P * ROW];
    s_learned_rows(al_evalmix_learned_labels(q, labels), 4, payload);
    al_evalmix_compose(q, labels, payload);
    /* Flip the sign of one dimension in slots 1 and 5: two errors; a
     * learned slot changed does not count. */
    payload[1 * ROW + 3] = -payload[1 * ROW + 3];
    payload[5 * ROW + 0] = -payload[5 * ROW + 0];
    payload[2 * ROW + 0] = -payload[2 * ROW + 0];
    assert_int_equal(al_evalmix_baseline_errors(q, payload, labels), 2);
    al_evalmix_destroy(&q);
}

static void test_evalmix_without_a_same_rate_qam_every_slot_is_learned(void **state)
{
    (void)state;
    al_evalmix_t *q = al_evalmix_create(8, 2, P);   /* 1.5 bits per symbol */
    assert_non_null(q);
    assert_null(al_evalmix_baseline(q));
    assert_int_equal(al_evalmix_learned_count(q), P);
    assert_int_equal(al_evalmix_baseline_count(q), 0);
    uint32_t labels[P];
    for (unsigned i = 0; i < P; i++)
        labels[i] = i % 8;
    assert_memory_equal(al_evalmix_learned_labels(q, labels), labels, sizeof labels);
    float payload[P * ROW], before[P * ROW];
    s_learned_rows(labels, P, payload);
    memcpy(before, payload, sizeof payload);
    al_evalmix_compose(q, labels, payload);
    assert_memory_equal(payload, before, sizeof payload);
    assert_memory_equal(al_evalmix_learned_symbols(q, payload), before, sizeof before);
    assert_int_equal(al_evalmix_baseline_errors(q, payload, labels), 0);
    al_evalmix_destroy(&q);
}

static void test_evalmix_one_slot_frames_carry_only_the_learned_message(void **state)
{
    (void)state;
    al_evalmix_t *q = al_evalmix_create(256, 4, 1);
    assert_int_equal(al_evalmix_learned_count(q), 1);
    assert_int_equal(al_evalmix_baseline_count(q), 0);
    al_evalmix_destroy(&q);
    assert_null(al_evalmix_create(1, 1, 1));
    assert_null(al_evalmix_create(16, 0, 1));
    assert_null(al_evalmix_create(16, 1, 0));
    al_evalmix_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_evalmix_alternates_learned_and_baseline_slots),
        cmocka_unit_test(test_evalmix_counts_each_wrong_baseline_message),
        cmocka_unit_test(test_evalmix_without_a_same_rate_qam_every_slot_is_learned),
        cmocka_unit_test(test_evalmix_one_slot_frames_carry_only_the_learned_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests of the fused softmax + cross-entropy (common/al_softmax_ce). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>

#include "al_error.h"
#include "al_softmax_ce.h"
#include "fd_check.h"

enum { B = 3, M = 5 };

typedef struct {
    float z[B * M];
    uint32_t labels[B];
} ctx_t;

static double s_mean_loss(void *p)
{
    ctx_t *c = p;
    float l[B];
    al_softmax_ce(c->z, c->labels, B, M, l, NULL, 0.0f);
    return ((double)l[0] + l[1] + l[2]) / B;
}

static void test_softmax_ce_loss_matches_definition(void **state)
{
    (void)state;
    const float z[M] = {1.0f, 2.0f, 0.5f, -1.0f, 3.0f};
    const uint32_t label = 1;
    double sum = 0.0;
    for (int j = 0; j < M; j++)
        sum += exp(z[j]);
    float loss;
    assert_int_equal(al_softmax_ce(z, &label, 1, M, &loss, NULL, 0.0f), 0);
    assert_float_equal(loss, -log(exp(2.0) / sum), 1e-6);
}

static void test_softmax_ce_gradient_matches_finite_differences(void **state)
{
    (void)state;
    ctx_t c;
    al_rng_t r;
    al_rng_seed(&r, 3);
    for (int i = 0; i < B * M; i++)
        c.z[i] = 3.0f * (al_rng_uniformf(&r) - 0.5f);
    c.labels[0] = 0, c.labels[1] = 4, c.labels[2] = 2;
    float dz[B * M];
    assert_int_equal(al_softmax_ce(c.z, c.labels, B, M, NULL, dz, 1.0f / B), 0);
    assert_true(fd_compare(s_mean_loss, &c, c.z, dz, B * M, B * M, 1e-3f, 1) < 2e-3);
}

static void test_softmax_ce_is_stable_for_huge_logits(void **state)
{
    (void)state;
    const float z[4] = {1000.0f, -1000.0f, 999.0f, 0.0f};
    const uint32_t label = 2;
    float loss, dz[4];
    assert_int_equal(al_softmax_ce(z, &label, 1, 4, &loss, dz, 1.0f), 0);
    assert_true(isfinite(loss));
    assert_float_equal(loss, log(1.0 + exp(1.0)), 1e-4); /* = 1 + log(1 + e^-1) */
    double s = 0;
    for (int j = 0; j < 4; j++) {
        assert_true(isfinite(dz[j]));
        s += dz[j];
    }
    assert_float_equal(s, 0.0, 1e-6); /* softmax sums to one, minus the label */
}

static void test_softmax_ce_in_place_gradient_equals_separate(void **state)
{
    (void)state;
    float z[M] = {0.1f, -0.2f, 0.3f, 0.7f, -1.0f}, z2[M], dz[M], l1, l2;
    for (int j = 0; j < M; j++)
        z2[j] = z[j];
    const uint32_t label = 3;
    al_softmax_ce(z, &label, 1, M, &l1, dz, 0.5f);
    al_softmax_ce(z2, &label, 1, M, &l2, z2, 0.5f);
    assert_float_equal(l1, l2, 0);
    for (int j = 0; j < M; j++)
        assert_float_equal(dz[j], z2[j], 0);
}

/* The vectorised one-pass kernel against softmax cross-entropy computed
 * the plain way in double, for widths below, at and around multiples of
 * the 16-lane vector, with logits spread far enough that probabilities
 * underflow into the subnormal range and to 0, and ties (integer logits)
 * for the decisions. */
static void test_softmax_ce_matches_unfused_reference_for_many_widths(void **state)
{
    (void)state;
    const unsigned widths[] = {2, 5, 15, 16, 17, 31, 64, 256, 300};
    enum { ROWS = 6, MAX_M = 300 };
    static float z[ROWS * MAX_M], dz[ROWS * MAX_M];
    float losses[ROWS];
    uint32_t labels[ROWS], dec[ROWS], dec2[ROWS];
    al_rng_t r;
    al_rng_seed(&r, 11);
    for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
        const unsigned m = widths[w];
        for (unsigned i = 0; i < ROWS; i++) {
            /* Row spreads 1, 10 (ties: rounded), 60, 200 (underflow). */
            const float spread = (const float[]){1, 10, 60, 200, 3, 120}[i];
            for (unsigned j = 0; j < m; j++) {
                const float v = spread * (al_rng_uniformf(&r) - 0.5f);
                z[i * m + j] = i == 1 ? roundf(v) : v;
            }
            labels[i] = al_rng_below(&r, m);
        }
        const float scale = 0.25f;
        assert_int_equal(al_softmax_ce_decide(z, labels, ROWS, m, losses, dz, scale, dec), 0);
        al_argmax_rows(z, ROWS, m, dec2);
        for (unsigned i = 0; i < ROWS; i++) {
            const float *row = z + i * m;
            unsigned arg = 0;
            for (unsigned j = 1; j < m; j++)
                arg = row[j] > row[arg] ? j : arg;
            assert_int_equal(dec[i], arg);
            assert_int_equal(dec2[i], arg);
            double sum = 0.0;
            for (unsigned j = 0; j < m; j++)
                sum += exp((double)row[j] - row[arg]);
            const double loss = log(sum) + row[arg] - row[labels[i]];
            assert_float_equal(losses[i], loss, 1e-5 * (1.0 + fabs(loss)));
            for (unsigned j = 0; j < m; j++) {
                const double d = (double)row[j] - row[arg];
                const double g = scale * (exp(d) / sum - (j == labels[i] ? 1.0 : 0.0));
                /* The float difference z - max is off by up to half its
                 * last place, |d| 2^-24, and so is e^d relatively;
                 * subnormals carry fewer bits: allow two of their steps. */
                const double tol = fabs(g) * (1e-6 + fabs(d) * 6e-8) + 3e-45;
                assert_float_equal(dz[i * m + j], g, tol);
            }
        }
    }
}

static void test_softmax_ce_rejects_label_out_of_range(void **state)
{
    (void)state;
    float z[M] = {0}, loss = -1.0f;
    const uint32_t label = M;
    assert_int_equal(al_softmax_ce(z, &label, 1, M, &loss, NULL, 0.0f), AL_ERANGE);
    assert_float_equal(loss, -1.0f, 0); /* nothing written */
}

static void test_argmax_picks_largest_and_first_on_ties(void **state)
{
    (void)state;
    const float z[2 * 4] = {0, 3, 1, 3, -5, -4, -6, -7};
    uint32_t out[2];
    al_argmax_rows(z, 2, 4, out);
    assert_int_equal(out[0], 1);
    assert_int_equal(out[1], 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_softmax_ce_loss_matches_definition),
        cmocka_unit_test(test_softmax_ce_gradient_matches_finite_differences),
        cmocka_unit_test(test_softmax_ce_is_stable_for_huge_logits),
        cmocka_unit_test(test_softmax_ce_in_place_gradient_equals_separate),
        cmocka_unit_test(test_softmax_ce_matches_unfused_reference_for_many_widths),
        cmocka_unit_test(test_softmax_ce_rejects_label_out_of_range),
        cmocka_unit_test(test_argmax_picks_largest_and_first_on_ties),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests of the power normalisation (common/al_powernorm). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>

#include "al_error.h"
#include "al_powernorm.h"
#include "fd_check.h"

enum { ROWS = 6, N = 3, LEN = ROWS * 2 * N };

typedef struct {
    al_powernorm_t *q;
    float x[LEN], y[LEN], c[LEN];
} ctx_t;

static double s_loss(void *p)
{
    ctx_t *t = p;
    al_powernorm_forward(t->q, t->x, t->y);
    double s = 0;
    for (int i = 0; i < LEN; i++)
        s += (double)t->c[i] * t->y[i];
    return s;
}

static void s_setup(ctx_t *t, al_power_mode mode)
{
    al_rng_t r;
    al_rng_seed(&r, 11);
    for (int i = 0; i < LEN; i++) {
        t->x[i] = 2.0f * al_rng_uniformf(&r) - 1.0f;
        t->c[i] = 2.0f * al_rng_uniformf(&r) - 1.0f;
    }
    t->q = al_powernorm_create(mode, ROWS, N);
    assert_non_null(t->q);
}

static void s_check_gradient(al_power_mode mode)
{
    ctx_t t;
    s_setup(&t, mode);
    float dx[LEN];
    s_loss(&t);
    assert_int_equal(al_powernorm_backward(t.q, t.y, t.c, dx), 0);
    double rel = fd_compare(s_loss, &t, t.x, dx, LEN, LEN, 1e-3f, 7);
    print_message("%s: relative error %.2e\n", al_power_mode_name(mode), rel);
    assert_true(rel < 3e-3);
    al_powernorm_destroy(&t.q);
}

static void test_powernorm_average_gradient_matches_finite_differences(void **state)
{
    (void)state;
    s_check_gradient(AL_POWER_AVERAGE);
}

static void test_powernorm_per_message_gradient_matches_finite_differences(void **state)
{
    (void)state;
    s_check_gradient(AL_POWER_PER_MESSAGE);
}

static void test_powernorm_average_gives_unit_mean_symbol_energy(void **state)
{
    (void)state;
    ctx_t t;
    s_setup(&t, AL_POWER_AVERAGE);
    assert_int_equal(al_powernorm_forward(t.q, t.x, t.y), 0);
    double e = 0;
    for (int i = 0; i < LEN; i++)
        e += (double)t.y[i] * t.y[i];
    assert_float_equal(e / (ROWS * N), 1.0, 1e-5);
    /* One scale for all: ratios between entries are kept. */
    assert_float_equal(t.y[0] / t.y[LEN - 1], t.x[0] / t.x[LEN - 1], 1e-4);
    al_powernorm_destroy(&t.q);
}

static void test_powernorm_per_message_gives_energy_n_per_row(void **state)
{
    (void)state;
    ctx_t t;
    s_setup(&t, AL_POWER_PER_MESSAGE);
    assert_int_equal(al_powernorm_forward(t.q, t.x, t.y), 0);
    for (int r = 0; r < ROWS; r++) {
        double e = 0;
        for (int i = 0; i < 2 * N; i++)
            e += (double)t.y[r * 2 * N + i] * t.y[r * 2 * N + i];
        assert_float_equal(e, N, 1e-5);
    }
    al_powernorm_destroy(&t.q);
}

static void test_powernorm_keeps_zero_rows_finite_and_rejects_nan(void **state)
{
    (void)state;
    al_powernorm_t *q = al_powernorm_create(AL_POWER_PER_MESSAGE, 2, 1);
    float x[4] = {0, 0, 3, 4}, y[4] = {7, 7, 7, 7}, dx[4], dy[4] = {1, 1, 1, 1};
    assert_int_equal(al_powernorm_forward(q, x, y), 0);
    assert_float_equal(y[0], 0.0f, 0);
    assert_float_equal(y[2], 0.6f, 1e-6);
    assert_int_equal(al_powernorm_backward(q, y, dy, dx), 0);
    for (int i = 0; i < 4; i++)
        assert_true(isfinite(dx[i]));
    x[1] = NAN;
    y[0] = 7.0f;
    assert_int_equal(al_powernorm_forward(q, x, y), AL_ERANGE);
    assert_float_equal(y[0], 7.0f, 0);
    al_powernorm_destroy(&q);
    assert_null(al_powernorm_create(AL_POWER_AVERAGE, 0, 1));
    al_power_mode mode;
    assert_int_equal(al_power_mode_parse("per_message", &mode), 0);
    assert_int_equal(mode, AL_POWER_PER_MESSAGE);
    assert_int_equal(al_power_mode_parse("peak", &mode), AL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_powernorm_average_gradient_matches_finite_differences),
        cmocka_unit_test(test_powernorm_per_message_gradient_matches_finite_differences),
        cmocka_unit_test(test_powernorm_average_gives_unit_mean_symbol_energy),
        cmocka_unit_test(test_powernorm_per_message_gives_energy_n_per_row),
        cmocka_unit_test(test_powernorm_keeps_zero_rows_finite_and_rejects_nan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

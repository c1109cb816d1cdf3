/* Tests of the Adam optimiser (common/al_adam). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>

#include "al_adam.h"
#include "al_error.h"

static void test_adam_first_steps_match_hand_computation(void **state)
{
    (void)state;
    /* lr 0.1, b1 0.9, b2 0.999, eps 1e-8, theta0 = 1, g1 = 2, g2 = -1.
     * Step 1: m = 0.2, v = 0.004, mhat = 2, vhat = 4,
     *         theta = 1 - 0.1 * 2 / (2 + 1e-8) = 0.9 (to 1e-9).
     * Step 2: m = 0.9*0.2 + 0.1*(-1) = 0.08, v = 0.999*0.004 + 0.001*1
     *         = 0.004996, mhat = 0.08/0.19 = 0.42105263,
     *         vhat = 0.004996/0.001999 = 2.4992496, sqrt = 1.5809015,
     *         theta = 0.9 - 0.1 * 0.42105263 / 1.5809015 = 0.87336630. */
    al_adam_t *q = al_adam_create(1, al_adam_defaults(0.1f));
    float theta = 1.0f, g = 2.0f;
    assert_int_equal(al_adam_step(q, &theta, &g), 0);
    assert_float_equal(theta, 0.9, 1e-6);
    g = -1.0f;
    assert_int_equal(al_adam_step(q, &theta, &g), 0);
    assert_float_equal(theta, 0.87336630, 2e-6);
    assert_int_equal(al_adam_steps(q), 2);
    al_adam_destroy(&q);
}

static void test_adam_minimises_a_quadratic(void **state)
{
    (void)state;
    al_adam_t *q = al_adam_create(2, al_adam_defaults(0.05f));
    float x[2] = {3.0f, -2.0f}, g[2];
    for (int i = 0; i < 2000; i++) {
        g[0] = 2.0f * (x[0] - 1.0f);
        g[1] = 8.0f * (x[1] + 0.5f);
        al_adam_step(q, x, g);
    }
    assert_float_equal(x[0], 1.0, 1e-2);
    assert_float_equal(x[1], -0.5, 1e-2);
    al_adam_destroy(&q);
}

static void test_adam_refuses_non_finite_gradient_without_change(void **state)
{
    (void)state;
    al_adam_t *q = al_adam_create(2, al_adam_defaults(0.1f));
    float x[2] = {1.0f, 2.0f}, g[2] = {1.0f, NAN};
    assert_int_equal(al_adam_step(q, x, g), AL_ERANGE);
    assert_float_equal(x[0], 1.0f, 0);
    assert_int_equal(al_adam_steps(q), 0);
    assert_float_equal(al_adam_m(q)[0], 0.0f, 0);
    al_adam_destroy(&q);
}

static void test_adam_rejects_bad_configuration(void **state)
{
    (void)state;
    assert_null(al_adam_create(1, al_adam_defaults(0.0f)));
    al_adam_config c = al_adam_defaults(0.1f);
    c.beta2 = 1.0f;
    assert_null(al_adam_create(1, c));
    assert_null(al_adam_create(0, al_adam_defaults(0.1f)));
    al_adam_t *q = al_adam_create(1, al_adam_defaults(0.1f));
    assert_int_equal(al_adam_set_lr(q, -1.0f), AL_EINVAL);
    assert_float_equal(al_adam_get_config(q).lr, 0.1f, 0);
    al_adam_destroy(&q);
    al_adam_destroy(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adam_first_steps_match_hand_computation),
        cmocka_unit_test(test_adam_minimises_a_quadratic),
        cmocka_unit_test(test_adam_refuses_non_finite_gradient_without_change),
        cmocka_unit_test(test_adam_rejects_bad_configuration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

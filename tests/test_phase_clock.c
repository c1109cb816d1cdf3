/* Tests of daemon/phase_clock: the time between switches goes to the
 * phase that was current, the totals add up to the time elapsed, and the
 * JSON names every phase. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "al_log.h"
#include "phase_clock.h"

static const char *const s_names[] = {"other", "build", "wait"};

static void s_sleep_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_phase_clock_init_rejects_bad_counts(void **state)
{
    (void)state;
    phase_clock pc;
    assert_int_not_equal(phase_clock_init(&pc, s_names, 0), 0);
    assert_int_not_equal(phase_clock_init(&pc, s_names, PHASE_CLOCK_MAX + 1), 0);
    assert_int_not_equal(phase_clock_init(&pc, NULL, 3), 0);
    assert_int_equal(phase_clock_init(&pc, s_names, 3), 0);
}

static void test_phase_clock_time_goes_to_the_phase_that_was_current(void **state)
{
    (void)state;
    phase_clock pc;
    double t0 = al_now_s();
    assert_int_equal(phase_clock_init(&pc, s_names, 3), 0);
    assert_int_equal(phase_clock_enter(&pc, 2), 0);
    s_sleep_ms(30);
    assert_int_equal(phase_clock_enter(&pc, 1), 2);
    double wait = phase_clock_seconds(&pc, 2);
    assert_true(wait >= 0.029);
    s_sleep_ms(10);
    assert_true(phase_clock_seconds(&pc, 1) >= 0.009);   /* the running phase counts */
    assert_int_equal(phase_clock_enter(&pc, 7), 1);      /* out of range: ignored */
    assert_int_equal(phase_clock_enter(&pc, 0), 1);
    assert_true(phase_clock_seconds(&pc, 2) == wait);    /* left alone since */
    double sum = 0;
    for (unsigned i = 0; i < 3; i++)
        sum += phase_clock_seconds(&pc, i);
    double elapsed = al_now_s() - t0;
    assert_true(sum <= elapsed + 1e-9);
    assert_true(sum >= 0.039);
}

static void test_phase_clock_json_names_every_phase(void **state)
{
    (void)state;
    phase_clock pc;
    assert_int_equal(phase_clock_init(&pc, s_names, 3), 0);
    phase_clock_enter(&pc, 1);
    state_json_t *j = state_json_create();
    assert_non_null(j);
    phase_clock_add_json(&pc, j, "phase_s");
    const char *text = state_json_text(j);
    assert_non_null(text);
    double a = -1, b = -1, c = -1;
    assert_int_equal(
        sscanf(text, "{\"phase_s\":{\"other\":%lf,\"build\":%lf,\"wait\":%lf}}", &a, &b, &c), 3);
    assert_true(a >= 0 && b >= 0 && c == 0);
    state_json_destroy(&j);

    phase_clock zero;
    memset(&zero, 0, sizeof zero);
    phase_clock_enter(&zero, 0);
    j = state_json_create();
    assert_non_null(j);
    phase_clock_add_json(&zero, j, "phase_s");
    assert_string_equal(state_json_text(j), "{\"phase_s\":{}}\n");
    state_json_destroy(&j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phase_clock_init_rejects_bad_counts),
        cmocka_unit_test(test_phase_clock_time_goes_to_the_phase_that_was_current),
        cmocka_unit_test(test_phase_clock_json_names_every_phase),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

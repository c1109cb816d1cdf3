/* Tests of the SER-against-SNR sweep (daemon/sweep): the levels it steps,
 * when a level ends, the measured SNR as a ratio of summed energies, the
 * CSV and the interpolation that measures the gap to the simulation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "al_error.h"
#include "sweep.h"

static fb_stats s_batch(uint64_t msgs, uint64_t errs, uint64_t frames, double es, double n0)
{
    return (fb_stats){.eval_messages = msgs, .eval_errors = errs, .eval_frames = frames,
                      .eval_signal = es * (double)frames, .eval_noise = n0 * (double)frames};
}

static fb_stats s_both(uint64_t msgs, uint64_t errs, uint64_t errs_baseline)
{
    fb_stats d = s_batch(msgs, errs, 2, 1.0, 0.1);
    d.baseline_messages = msgs;
    d.baseline_errors = errs_baseline;
    return d;
}

static void test_sweep_steps_down_and_ends_on_the_last_level(void **state)
{
    (void)state;
    sweep_config c = {-8, -20, 2, 1000, 10};
    sweep_t *q = sweep_create(&c);
    assert_non_null(q);
    double want = -8;
    unsigned levels = 0;
    while (!sweep_done(q)) {
        assert_true(fabs(sweep_level(q) - want) < 1e-9);
        fb_stats d = s_batch(1000, 0, 10, 1.0, 0.1);
        assert_int_equal(sweep_add(q, &d), 1);   /* max_messages in one batch */
        want -= 2;
        levels++;
    }
    assert_int_equal(levels, 7);
    sweep_destroy(&q);
    assert_null(q);
    sweep_destroy(&q);

    sweep_config up = {-30, -20, 2.5, 1000, 10};
    q = sweep_create(&up);
    assert_non_null(q);
    fb_stats d = s_batch(1000, 0, 10, 1.0, 0.1);
    sweep_add(q, &d);
    assert_true(fabs(sweep_level(q) - -27.5) < 1e-9);
    sweep_destroy(&q);
}

static void test_sweep_rejects_bad_ranges(void **state)
{
    (void)state;
    sweep_config bad[] = {
        {-8, 1, 2, 1000, 10},      /* above full scale */
        {-61, -20, 2, 1000, 10},   /* below -60 dBFS */
        {-8, -20, 0, 1000, 10},    /* no step */
        {-8, -20, -1, 1000, 10},   /* negative step */
        {-8, -20, 2, 0, 10},       /* no messages */
        {-8, -20, 2, 1000, 0},     /* no errors */
        {0, -60, 0.05, 1000, 10},  /* more than SWEEP_MAX_POINTS */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_null(sweep_create(&bad[i]));
        assert_true(strlen(al_error_message()) > 0);
    }
    assert_null(sweep_create(NULL));
}

/* A level ends on min_errors, on max_messages, or when batch after batch
 * brings nothing back; its SNR is sum(Es) / sum(N0) over its frames. */
static void test_sweep_level_ends_on_errors_messages_or_silence(void **state)
{
    (void)state;
    sweep_config c = {-10, -14, 2, 500, 20};
    sweep_t *q = sweep_create(&c);
    fb_stats d = s_batch(100, 8, 2, 2.0, 0.2);
    assert_int_equal(sweep_add(q, &d), 0);
    d = s_batch(100, 8, 2, 1.0, 0.2);
    assert_int_equal(sweep_add(q, &d), 0);
    d = s_batch(100, 8, 2, 1.0, 0.1);
    assert_int_equal(sweep_add(q, &d), 1);   /* 24 errors */
    unsigned n;
    const sweep_point *p = sweep_points(q, &n);
    assert_int_equal(n, 1);
    assert_int_equal(p[0].messages, 300);
    assert_int_equal(p[0].errors, 24);
    assert_int_equal(p[0].frames, 6);
    /* (4 + 2 + 2) / (0.4 + 0.4 + 0.2): a ratio of sums, not a mean of ratios */
    assert_true(fabs(p[0].snr_db - 10.0 * log10(8.0 / 1.0)) < 1e-9);

    for (int i = 0; i < 5; i++) {
        d = s_batch(100, 0, 2, 1.0, 0.1);
        assert_int_equal(sweep_add(q, &d), i == 4);   /* 500 messages */
    }
    fb_stats none = {0};
    for (int i = 0; i < SWEEP_EMPTY_BATCHES; i++)
        assert_int_equal(sweep_add(q, &none), i == SWEEP_EMPTY_BATCHES - 1);
    assert_true(sweep_done(q));
    p = sweep_points(q, &n);
    assert_int_equal(n, 3);
    assert_int_equal(p[2].messages, 0);
    assert_true(isnan(p[2].snr_db));
    assert_int_equal(sweep_add(q, &d), 0);   /* done: nothing more counts */
    sweep_destroy(&q);
}

/* With the baseline in the frames, a level needs min_errors of each. */
static void test_sweep_level_waits_for_the_baselines_errors_too(void **state)
{
    (void)state;
    sweep_config c = {-10, -12, 2, 10000, 20};
    sweep_t *q = sweep_create(&c);
    fb_stats d = s_both(100, 30, 5);
    assert_int_equal(sweep_add(q, &d), 0);
    d = s_both(100, 30, 10);
    assert_int_equal(sweep_add(q, &d), 0);
    d = s_both(100, 30, 5);
    assert_int_equal(sweep_add(q, &d), 1);
    unsigned n;
    const sweep_point *p = sweep_points(q, &n);
    assert_int_equal(p[0].messages_baseline, 300);
    assert_int_equal(p[0].errors_baseline, 20);
    d = s_both(100, 5, 30);   /* the learned system is the better one here */
    assert_int_equal(sweep_add(q, &d), 0);
    sweep_destroy(&q);
}

static void test_sweep_csv_round_trips_and_leaves_out_empty_levels(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_sweep_XXXXXX";
    assert_non_null(mkdtemp(dir));
    sweep_point p[3] = {
        {.level_dbfs = -8, .snr_db = 16.25, .messages = 50000, .errors = 3},
        {.level_dbfs = -10, .snr_db = 14.5, .messages = 1024, .errors = 200,
         .messages_baseline = 1008, .errors_baseline = 77},
        {.level_dbfs = -40, .snr_db = NAN, .messages = 0, .errors = 0},
    };
    assert_int_equal(sweep_write_csv(dir, p, 3), 0);
    char path[128];
    snprintf(path, sizeof path, "%s/ser-ota.csv", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[256];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "snr_db_measured,ser,ser_baseline,messages,errors,errors_baseline\n");
    fclose(f);
    sweep_point back[4];
    unsigned n = 0;
    assert_int_equal(sweep_read_csv(path, back, 4, &n), 0);
    assert_int_equal(n, 2);
    assert_true(fabs(back[0].snr_db - 16.25) < 1e-9 && back[0].messages == 50000 &&
                back[0].errors == 3);
    assert_int_equal(back[0].messages_baseline, 0);   /* no baseline: empty columns */
    assert_true(fabs(back[1].snr_db - 14.5) < 1e-9 && back[1].errors == 200);
    /* an odd number of messages per frame: fewer baseline messages */
    assert_int_equal(back[1].messages_baseline, 1008);
    assert_int_equal(back[1].errors_baseline, 77);
    assert_int_equal(sweep_read_csv(path, back, 1, &n), AL_EFORMAT);   /* no room */

    f = fopen(path, "a");
    fputs("12.0,0.5,,10,11,\n", f);   /* more errors than messages */
    fclose(f);
    assert_int_equal(sweep_read_csv(path, back, 4, &n), AL_EFORMAT);
    f = fopen(path, "w");
    fputs("snr_db_measured,ser,ser_baseline,messages,errors,errors_baseline\n"
          "12.0,0.5,,10,5,3\n", f);   /* baseline errors without its SER */
    fclose(f);
    assert_int_equal(sweep_read_csv(path, back, 4, &n), AL_EFORMAT);
    f = fopen(path, "w");
    fputs("snr,ser\n1,2\n", f);
    fclose(f);
    assert_int_equal(sweep_read_csv(path, back, 4, &n), AL_EFORMAT);
    unlink(path);
    assert_int_equal(sweep_read_csv(path, back, 4, &n), AL_EIO);
    rmdir(dir);
}

/* The gap to the simulation is read off the simulated curve at the
 * measured SER: linear in log10(SER) between its two points. */
static void test_sweep_snr_at_interpolates_in_log_ser(void **state)
{
    (void)state;
    const double snr[] = {8, 10, 12, 14};
    const double ser[] = {1e-1, 1e-2, 1e-3, 1e-5};
    assert_true(fabs(sweep_snr_at(snr, ser, 4, 1e-2) - 10.0) < 1e-9);
    assert_true(fabs(sweep_snr_at(snr, ser, 4, pow(10, -2.5)) - 11.0) < 1e-9);
    assert_true(fabs(sweep_snr_at(snr, ser, 4, 1e-4) - 13.0) < 1e-9);
    assert_true(isnan(sweep_snr_at(snr, ser, 4, 0.5)));    /* above the curve */
    assert_true(isnan(sweep_snr_at(snr, ser, 4, 1e-6)));   /* beyond its end */
    assert_true(isnan(sweep_snr_at(snr, ser, 4, 0)));
    assert_true(isnan(sweep_snr_at(snr, ser, 1, 1e-1)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sweep_steps_down_and_ends_on_the_last_level),
        cmocka_unit_test(test_sweep_rejects_bad_ranges),
        cmocka_unit_test(test_sweep_level_ends_on_errors_messages_or_silence),
        cmocka_unit_test(test_sweep_level_waits_for_the_baselines_errors_too),
        cmocka_unit_test(test_sweep_csv_round_trips_and_leaves_out_empty_levels),
        cmocka_unit_test(test_sweep_snr_at_interpolates_in_log_ser),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests of the TX's pending-frame table (feedback/fb_pending). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fb_pending.h"

static fb_losses s_report(uint32_t seq, uint32_t version, uint16_t count)
{
    fb_losses l = {.seq = seq, .model_version = version, .count = count};
    return l;
}

static void test_pending_accepts_matching_report_once(void **state)
{
    (void)state;
    fb_pending_t *q = fb_pending_create(8, 4, 1000);
    unsigned s = fb_pending_add(q, 10, 3, 64, 0), got = 99;
    fb_losses l = s_report(10, 3, 64);
    assert_int_equal(fb_pending_match(q, &l, 3, 5, &got), FB_OK);
    assert_int_equal(got, s);
    assert_int_equal(fb_pending_match(q, &l, 3, 6, &got), FB_R_DUPLICATE);
    assert_int_equal(fb_pending_open_count(q), 0);
    fb_pending_destroy(&q);
    assert_null(q);
    fb_pending_destroy(&q);
}

static void test_pending_drops_unknown_wrong_count_and_version(void **state)
{
    (void)state;
    fb_pending_t *q = fb_pending_create(8, 4, 1000);
    unsigned got;
    fb_pending_add(q, 10, 3, 64, 0);
    fb_losses l = s_report(11, 3, 64);
    assert_int_equal(fb_pending_match(q, &l, 3, 1, &got), FB_R_UNKNOWN_FRAME);
    l = s_report(10, 3, 63);
    assert_int_equal(fb_pending_match(q, &l, 3, 1, &got), FB_R_COUNT);
    l = s_report(10, 2, 64);
    assert_int_equal(fb_pending_match(q, &l, 3, 1, &got), FB_R_MODEL_VERSION);
    /* None of those consumed the frame. */
    l = s_report(10, 3, 64);
    assert_int_equal(fb_pending_match(q, &l, 3, 1, &got), FB_OK);
    fb_pending_destroy(&q);
}

static void test_pending_drops_stale_and_timed_out_frames(void **state)
{
    (void)state;
    fb_pending_t *q = fb_pending_create(8, 2, 100);
    unsigned got;
    fb_pending_add(q, 1, 5, 8, 0);
    fb_pending_add(q, 2, 5, 8, 0);
    fb_losses l = s_report(1, 5, 8);
    assert_int_equal(fb_pending_match(q, &l, 8, 10, &got), FB_R_STALE); /* 3 updates > 2 */
    l = s_report(2, 5, 8);
    assert_int_equal(fb_pending_match(q, &l, 7, 101, &got), FB_R_TIMEOUT);
    assert_int_equal(fb_pending_lost(q), 2);
    fb_pending_add(q, 3, 7, 8, 200);
    assert_int_equal(fb_pending_expire(q, 300), 0);
    assert_int_equal(fb_pending_expire(q, 301), 1);
    assert_int_equal(fb_pending_lost(q), 3);
    fb_pending_destroy(&q);
}

static void test_pending_full_table_evicts_oldest(void **state)
{
    (void)state;
    fb_pending_t *q = fb_pending_create(3, 10, 1000);
    unsigned got;
    for (uint32_t seq = 0; seq < 5; seq++)
        fb_pending_add(q, seq, 0, 4, seq);
    assert_int_equal(fb_pending_lost(q), 2); /* seq 0 and 1 evicted */
    fb_losses l = s_report(0, 0, 4);
    assert_int_equal(fb_pending_match(q, &l, 0, 10, &got), FB_R_UNKNOWN_FRAME);
    l = s_report(4, 0, 4);
    assert_int_equal(fb_pending_match(q, &l, 0, 10, &got), FB_OK);
    assert_int_equal(got, 1); /* ring: seq 3 -> slot 0, seq 4 -> slot 1 */
    fb_pending_reset(q);
    l = s_report(3, 0, 4);
    assert_int_equal(fb_pending_match(q, &l, 0, 10, &got), FB_R_UNKNOWN_FRAME);
    assert_null(fb_pending_create(0, 1, 1));
    fb_pending_destroy(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pending_accepts_matching_report_once),
        cmocka_unit_test(test_pending_drops_unknown_wrong_count_and_version),
        cmocka_unit_test(test_pending_drops_stale_and_timed_out_frames),
        cmocka_unit_test(test_pending_full_table_evicts_oldest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

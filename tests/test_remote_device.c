/* Tests of remote_device_wrap: a device string reached through
 * SoapyRemote's driver=remote keeps every key of the original. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "al_error.h"
#include "remote_device.h"

static void test_remote_wrap_moves_driver_and_keeps_keys(void **state)
{
    (void)state;
    char dev[256] = "driver=airsim,clock=fast,link=ipc://@x,snr_db=20.99,cfo=1000";
    assert_int_equal(remote_device_wrap(dev, sizeof dev, "tcp://127.0.0.1:55132"), AL_OK);
    assert_string_equal(dev, "driver=remote,remote=tcp://127.0.0.1:55132,remote:driver=airsim,"
                             "clock=fast,link=ipc://@x,snr_db=20.99,cfo=1000");
}

static void test_remote_wrap_finds_driver_anywhere_and_trims(void **state)
{
    (void)state;
    char dev[256] = " link=ipc://@y , driver = airsim ,, profile=hackrf";
    assert_int_equal(remote_device_wrap(dev, sizeof dev, "tcp://h:1"), AL_OK);
    assert_string_equal(dev, "driver=remote,remote=tcp://h:1,remote:driver=airsim,"
                             "link=ipc://@y,profile=hackrf");
}

static void test_remote_wrap_rejects_bad_input_unchanged(void **state)
{
    (void)state;
    static const struct {
        const char *device, *url;
    } bad[] = {
        {"driver=airsim", ""},
        {"driver=airsim", "tcp://h:1,snr_db=99"},   /* a URL must not add keys */
        {"driver=airsim", "tcp://h:1 x"},
        {"link=ipc://@z", "tcp://h:1"},             /* nothing to reach */
        {"driver=", "tcp://h:1"},
        {"driver=remote,remote=tcp://a:1", "tcp://h:1"},
        {"driver=airsim,remote=tcp://a:1", "tcp://h:1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char dev[256];
        strcpy(dev, bad[i].device);
        assert_int_equal(remote_device_wrap(dev, sizeof dev, bad[i].url), AL_EINVAL);
        assert_string_equal(dev, bad[i].device);
        assert_true(al_error_message()[0] != '\0');
    }
}

static void test_remote_wrap_refuses_to_truncate(void **state)
{
    (void)state;
    char dev[48] = "driver=airsim,link=ipc://@abcdefgh";   /* fits; the result does not */
    char before[48];
    strcpy(before, dev);
    assert_int_equal(remote_device_wrap(dev, sizeof dev, "tcp://127.0.0.1:55132"), AL_EINVAL);
    assert_string_equal(dev, before);
    char fits[128];
    strcpy(fits, before);
    assert_int_equal(remote_device_wrap(fits, sizeof fits, "tcp://127.0.0.1:55132"), AL_OK);
    assert_int_equal(remote_device_wrap(fits, strlen(fits) + 1, "tcp://h:1"), AL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_remote_wrap_moves_driver_and_keeps_keys),
        cmocka_unit_test(test_remote_wrap_finds_driver_anywhere_and_trims),
        cmocka_unit_test(test_remote_wrap_rejects_bad_input_unchanged),
        cmocka_unit_test(test_remote_wrap_refuses_to_truncate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* al_radio's continuous TX stream through driver=airsim (this build's
 * module): frames are staged and handed to the driver only as whole MTU
 * buffers, the last one padded with zeros by a flush (what SoapyHackRF,
 * which sends only full buffers, needs). */
#include "al_error.h"
#include "al_log.h"
#include "al_radio.h"

#include <SoapySDR/Errors.h>
#include <complex.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static al_radio_t *s_open_with(const char *link, int direction, const char *extra)
{
    char args[300];
    snprintf(args, sizeof args, "driver=airsim,clock=fast,link=%s%s", link, extra);
    al_radio_config c = {args, direction, 1e6, 915e6, NAN, 0, NULL, NULL};
    al_radio_t *r = al_radio_create(&c);
    if (r == NULL)
        fprintf(stderr, "%s\n", al_error_message());
    return r;
}

static al_radio_t *s_open(const char *link, int direction)
{
    return s_open_with(link, direction, "");
}

/* Reads until `want` samples came or 5 s passed; returns how many. */
static size_t s_read(al_radio_t *rx, float complex *y, size_t want)
{
    size_t have = 0;
    uint64_t deadline = al_now_ms() + 5000;
    while (have < want && al_now_ms() < deadline) {
        int64_t t;
        int n = al_radio_read(rx, y + have, want - have, &t, 100000);
        if (n > 0)
            have += (size_t)n;
    }
    return have;
}

static void test_radio_stream_hands_the_driver_only_whole_buffers(void **state)
{
    (void)state;
    char link[100];
    snprintf(link, sizeof link, "ipc://@airlearn-test-radio-%ld", (long)getpid());
    al_radio_t *rx = s_open(link, AL_RADIO_RX), *tx = s_open(link, AL_RADIO_TX);
    assert_non_null(rx);
    assert_non_null(tx);
    size_t mtu = al_radio_mtu(tx), frame = 1000;
    float complex *x = malloc(2 * mtu * sizeof *x), *y = calloc(2 * mtu, sizeof *y);
    for (size_t i = 0; i < 2 * mtu; i++)
        x[i] = 0.5f * cosf(0.01f * (float)i) + 0.25f * I;

    /* A frame shorter than a buffer stays staged: nothing on the air. */
    assert_int_equal(al_radio_stream_append(tx, x, frame, 1000000), 0);
    int64_t t;
    assert_int_equal(al_radio_read(rx, y, mtu, &t, 300000), SOAPY_SDR_TIMEOUT);
    /* The flush sends it in one whole buffer, padded with zeros. */
    assert_int_equal(al_radio_stream_flush(tx, 1000000), (int)mtu);
    assert_int_equal(al_radio_stream_flush(tx, 1000000), 0);   /* nothing staged */
    assert_int_equal(s_read(rx, y, mtu), mtu);
    for (size_t i = 0; i < frame; i++)
        assert_true(cabsf(y[i] - x[i]) < 1e-6f);
    for (size_t i = frame; i < mtu; i++)
        assert_true(cabsf(y[i]) == 0.0f);

    /* One and a half buffers: the full one goes, the half waits. */
    assert_int_equal(al_radio_stream_append(tx, x, mtu + mtu / 2, 1000000), (int)mtu);
    assert_int_equal(s_read(rx, y, mtu), mtu);
    for (size_t i = 0; i < mtu; i++)
        assert_true(cabsf(y[i] - x[i]) < 1e-6f);
    assert_int_equal(al_radio_read(rx, y, mtu, &t, 300000), SOAPY_SDR_TIMEOUT);
    assert_int_equal(al_radio_stream_flush(tx, 1000000), (int)mtu);
    assert_int_equal(s_read(rx, y, mtu), mtu);
    for (size_t i = 0; i < mtu / 2; i++)
        assert_true(cabsf(y[i] - x[mtu + i]) < 1e-6f);

    /* The receiving side has no staging buffer. */
    assert_int_equal(al_radio_stream_append(rx, x, 10, 1000), AL_EINVAL);
    free(x);
    free(y);
    al_radio_destroy(&tx);
    al_radio_destroy(&rx);
}

/* A receiver opened twice, as a wrapper that makes one device per
 * connection could: the second is refused, as a real radio already in
 * use is, and the first keeps the whole stream (a second reader must not
 * take every other burst). Other keys make it another SoapySDR device
 * rather than the cached one; ipc:///path is where ZeroMQ would unlink
 * a live listener's socket file on bind. */
static void test_radio_second_receiver_on_a_link_is_refused(void **state)
{
    (void)state;
    char links[2][100];
    snprintf(links[0], sizeof links[0], "ipc://@airlearn-test-radio2-%ld", (long)getpid());
    snprintf(links[1], sizeof links[1], "ipc:///tmp/airlearn-test-radio2-%ld", (long)getpid());
    for (int k = 0; k < 2; k++) {
        al_radio_t *rx = s_open(links[k], AL_RADIO_RX);
        assert_non_null(rx);
        assert_null(s_open_with(links[k], AL_RADIO_RX, ",seed=2"));
        assert_non_null(strstr(al_error_message(), "another RX device"));
        al_radio_t *tx = s_open(links[k], AL_RADIO_TX);
        assert_non_null(tx);
        size_t mtu = al_radio_mtu(tx);
        float complex *x = malloc(4 * mtu * sizeof *x), *y = calloc(4 * mtu, sizeof *y);
        for (size_t i = 0; i < 4 * mtu; i++)
            x[i] = 0.5f * cosf(0.01f * (float)i) + 0.25f * I;
        assert_int_equal(al_radio_stream_append(tx, x, 4 * mtu, 1000000), (int)(4 * mtu));
        assert_int_equal(s_read(rx, y, 4 * mtu), 4 * mtu);
        for (size_t i = 0; i < 4 * mtu; i++)
            assert_true(cabsf(y[i] - x[i]) < 1e-6f);
        free(x);
        free(y);
        al_radio_destroy(&tx);
        al_radio_destroy(&rx);
    }
    unlink(links[1] + strlen("ipc://"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_radio_stream_hands_the_driver_only_whole_buffers),
        cmocka_unit_test(test_radio_second_receiver_on_a_link_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

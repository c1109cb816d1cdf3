/* Tests of the feedback protocol codec (feedback/fb_proto). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "al_bytes.h"
#include "al_error.h"
#include "fb_proto.h"

static uint8_t s_buf[FB_MAX_MESSAGE];
static fb_msg s_in, s_out;

static int s_losses(uint16_t count)
{
    memset(&s_in, 0, sizeof s_in);
    s_in.type = FB_LOSSES;
    s_in.session = 77;
    s_in.u.losses.seq = 1234;
    s_in.u.losses.model_version = 9;
    s_in.u.losses.count = count;
    for (unsigned i = 0; i < count; i++)
        s_in.u.losses.values[i] = 0.01f * (float)i;
    return fb_encode(&s_in, s_buf, sizeof s_buf);
}

/* Rewrites the body CRC after a deliberate body edit, so that the check
 * under test is the one that fires. */
static void s_fix_crc(int len)
{
    al_put_le32(s_buf + 16, al_crc32(0, s_buf + FB_HEADER_SIZE, (size_t)len - FB_HEADER_SIZE));
}

static void test_feedback_every_type_round_trips(void **state)
{
    (void)state;
    fb_msg msgs[8];
    memset(msgs, 0, sizeof msgs);
    msgs[0].type = FB_HELLO, msgs[0].u.hello.version = 1, msgs[0].u.hello.config_hash = 0x0123456789abcdefull;
    msgs[1].type = FB_WELCOME, msgs[1].session = 5, msgs[1].u.welcome.session_id = 5,
    msgs[1].u.welcome.session_seed = 0xfedcba9876543210ull;
    msgs[2].type = FB_REJECT, msgs[2].u.reject.reason = FB_R_CONFIG, msgs[2].u.reject.len = 5;
    memcpy(msgs[2].u.reject.text, "M=16!", 5);
    msgs[3].type = FB_LOSSES, msgs[3].session = 5, msgs[3].u.losses.seq = 42,
    msgs[3].u.losses.model_version = 3, msgs[3].u.losses.count = 256;
    for (int i = 0; i < 256; i++)
        msgs[3].u.losses.values[i] = 1.0f / (float)(i + 1);
    msgs[4].type = FB_LOSSES_ACK, msgs[4].session = 5, msgs[4].u.ack.seq = 42,
    msgs[4].u.ack.status = FB_R_STALE, msgs[4].u.ack.model_version = 11;
    msgs[5].type = FB_STATS, msgs[5].session = 5, msgs[5].u.stats.frames_detected = 100,
    msgs[5].u.stats.frames_decoded = 99, msgs[5].u.stats.header_failures = 1,
    msgs[5].u.stats.frames_dropped = 2, msgs[5].u.stats.eval_messages = 1000,
    msgs[5].u.stats.eval_errors = 3, msgs[5].u.stats.baseline_messages = 900,
    msgs[5].u.stats.baseline_errors = 7;
    msgs[5].u.stats.eval_frames = 16, msgs[5].u.stats.eval_signal = 15.25,
    msgs[5].u.stats.eval_noise = 0.9375;
    msgs[6].type = FB_HEARTBEAT, msgs[6].session = 5, msgs[6].u.heartbeat.time_ms = 123456789;
    msgs[7].type = FB_BYE, msgs[7].session = 5;
    for (int k = 0; k < 8; k++) {
        int len = fb_encode(&msgs[k], s_buf, sizeof s_buf);
        assert_true(len >= FB_HEADER_SIZE);
        memset(&s_out, 0xa5, sizeof s_out);
        assert_int_equal(fb_decode(s_buf, (size_t)len, 0, &s_out), FB_OK);
        assert_int_equal(s_out.type, msgs[k].type);
        assert_int_equal(s_out.session, msgs[k].session);
        /* Re-encoding the decoded message gives the same bytes. */
        static uint8_t again[FB_MAX_MESSAGE];
        assert_int_equal(fb_encode(&s_out, again, sizeof again), len);
        assert_memory_equal(again, s_buf, (size_t)len);
    }
    fb_decode(s_buf, (size_t)fb_encode(&msgs[3], s_buf, sizeof s_buf), 0, &s_out);
    assert_int_equal(s_out.u.losses.count, 256);
    assert_float_equal(s_out.u.losses.values[255], 1.0f / 256, 0);
    fb_decode(s_buf, (size_t)fb_encode(&msgs[2], s_buf, sizeof s_buf), 0, &s_out);
    assert_string_equal(s_out.u.reject.text, "M=16!");
    fb_decode(s_buf, (size_t)fb_encode(&msgs[1], s_buf, sizeof s_buf), 0, &s_out);
    assert_true(s_out.u.welcome.session_seed == 0xfedcba9876543210ull);
}

static void test_feedback_header_layout_is_little_endian(void **state)
{
    (void)state;
    int len = s_losses(2);
    assert_int_equal(len, FB_HEADER_SIZE + 12 + 8);
    assert_memory_equal(s_buf, "ALFB", 4);
    assert_int_equal(s_buf[4], FB_PROTOCOL_VERSION);
    assert_int_equal(s_buf[5], FB_LOSSES);
    assert_int_equal(s_buf[8], 77); /* session, low byte first */
    assert_int_equal(s_buf[12], 20); /* body length */
    assert_int_equal(s_buf[FB_HEADER_SIZE], 1234 & 0xff);
    assert_int_equal(s_buf[FB_HEADER_SIZE + 1], 1234 >> 8);
}

static void test_feedback_rejects_short_message(void **state)
{
    (void)state;
    int len = s_losses(4);
    for (int n = 0; n < FB_HEADER_SIZE; n++)
        assert_int_equal(fb_decode(s_buf, (size_t)n, 0, &s_out), FB_R_SHORT);
    assert_int_equal(fb_decode(s_buf, (size_t)len - 1, 0, &s_out), FB_R_LENGTH);
    assert_int_equal(fb_decode(NULL, 100, 0, &s_out), FB_R_SHORT);
}

static void test_feedback_rejects_bad_magic_version_type_flags(void **state)
{
    (void)state;
    int len = s_losses(4);
    s_buf[0] = 'X';
    assert_int_equal(fb_decode(s_buf, (size_t)len, 0, &s_out), FB_R_MAGIC);
    s_losses(4);
    s_buf[4] = FB_PROTOCOL_VERSION + 1;
    assert_int_equal(fb_decode(s_buf, (size_t)len, 0, &s_out), FB_R_VERSION);
    s_losses(4);
    s_buf[4] = FB_PROTOCOL_VERSION - 1;   /* version 1: STATS without the baseline */
    assert_int_equal(fb_decode(s_buf, (size_t)len, 0, &s_out), FB_R_VERSION);
    s_losses(4);
    s_buf[5] = 0;
    assert_int_equal(fb_decode(s_buf, (size_t)len, 0, &s_out), FB_R_TYPE);
    s_buf[5] = 99;
    assert_int_equal(fb_decode(s_buf, (size_t)len, 0, &s_out), FB_R_TYPE);
    s_losses(4);
    s_buf[7] = 0x80;
    assert_int_equal(fb_decode(s_buf, (size_t)len, 0, &s_out), FB_R_FLAGS);
}

static void test_feedback_rejects_bad_crc(void **state)
{
    (void)state;
    int len = s_losses(8);
    s_buf[len - 1] ^= 0x01;
    assert_int_equal(fb_decode(s_buf, (size_t)len, 0, &s_out), FB_R_CRC);
    s_losses(8);
    s_buf[17] ^= 0x40;
    assert_int_equal(fb_decode(s_buf, (size_t)len, 0, &s_out), FB_R_CRC);
}

static void test_feedback_rejects_wrong_lengths(void **state)
{
    (void)state;
    /* Declared body length differs from what arrived. */
    int len = s_losses(8);
    al_put_le32(s_buf + 12, 40);
    assert_int_equal(fb_decode(s_buf, (size_t)len, 0, &s_out), FB_R_LENGTH);
    /* Count field disagrees with the body. */
    len = s_losses(8);
    al_put_le16(s_buf + FB_HEADER_SIZE + 8, 9);
    s_fix_crc(len);
    assert_int_equal(fb_decode(s_buf, (size_t)len, 0, &s_out), FB_R_LENGTH);
    /* A fixed-size type with a body of another size. */
    fb_msg hb = {.type = FB_HEARTBEAT};
    len = fb_encode(&hb, s_buf, sizeof s_buf);
    s_buf[len] = 0;
    al_put_le32(s_buf + 12, 9);
    s_fix_crc(len + 1);
    assert_int_equal(fb_decode(s_buf, (size_t)len + 1, 0, &s_out), FB_R_LENGTH);
    /* REJECT text length beyond the body. */
    fb_msg rj = {.type = FB_REJECT};
    rj.u.reject.len = 3;
    memcpy(rj.u.reject.text, "abc", 3);
    len = fb_encode(&rj, s_buf, sizeof s_buf);
    al_put_le16(s_buf + FB_HEADER_SIZE + 2, 200);
    s_fix_crc(len);
    assert_int_equal(fb_decode(s_buf, (size_t)len, 0, &s_out), FB_R_LENGTH);
}

static void test_feedback_rejects_nonfinite_and_negative_losses(void **state)
{
    (void)state;
    const float bad[] = {NAN, INFINITY, -INFINITY};
    for (int k = 0; k < 3; k++) {
        int len = s_losses(16);
        al_put_f32(s_buf + FB_HEADER_SIZE + 12 + 4 * 15, bad[k]);
        s_fix_crc(len);
        assert_int_equal(fb_decode(s_buf, (size_t)len, 0, &s_out), FB_R_NONFINITE);
    }
    int len = s_losses(16);
    al_put_f32(s_buf + FB_HEADER_SIZE + 12 + 4 * 3, -0.5f);
    s_fix_crc(len);
    assert_int_equal(fb_decode(s_buf, (size_t)len, 0, &s_out), FB_R_NEGATIVE);
}

/* The EVAL SNR sums are divided by the TX: nothing but finite,
 * non-negative energies may pass. */
static void test_feedback_stats_rejects_nonfinite_and_negative_snr_sums(void **state)
{
    (void)state;
    const double bad[] = {NAN, INFINITY, -1.0};
    const fb_reason want[] = {FB_R_NONFINITE, FB_R_NONFINITE, FB_R_NEGATIVE};
    for (int field = 0; field < 2; field++) {
        for (int k = 0; k < 3; k++) {
            fb_msg m = {.type = FB_STATS, .session = 5};
            m.u.stats.eval_frames = 2, m.u.stats.eval_signal = 2.0, m.u.stats.eval_noise = 0.1;
            int len = fb_encode(&m, s_buf, sizeof s_buf);
            assert_int_equal(fb_decode(s_buf, (size_t)len, 0, &s_out), FB_OK);
            assert_true(s_out.u.stats.eval_signal == 2.0 && s_out.u.stats.eval_noise == 0.1);
            al_put_f64(s_buf + FB_HEADER_SIZE + 72 + 8 * field, bad[k]);
            s_fix_crc(len);
            assert_int_equal(fb_decode(s_buf, (size_t)len, 0, &s_out), want[k]);
        }
    }
}

static void test_feedback_rejects_stats_with_more_errors_than_messages(void **state)
{
    (void)state;
    memset(&s_in, 0, sizeof s_in);
    s_in.type = FB_STATS;
    s_in.session = 77;
    s_in.u.stats.eval_messages = 100, s_in.u.stats.eval_errors = 100;
    s_in.u.stats.baseline_messages = 100, s_in.u.stats.baseline_errors = 100;
    int len = fb_encode(&s_in, s_buf, sizeof s_buf);
    assert_int_equal(len, FB_HEADER_SIZE + 88);
    assert_int_equal(fb_decode(s_buf, (size_t)len, 0, &s_out), FB_OK);
    assert_true(s_out.u.stats.baseline_errors == 100);
    /* Baseline errors (the eighth u64) one above its messages. */
    al_put_le64(s_buf + FB_HEADER_SIZE + 56, 101);
    s_fix_crc(len);
    assert_int_equal(fb_decode(s_buf, (size_t)len, 0, &s_out), FB_R_COUNT);
    s_in.u.stats.eval_errors = 101;
    s_in.u.stats.baseline_errors = 0;
    len = fb_encode(&s_in, s_buf, sizeof s_buf);
    assert_int_equal(fb_decode(s_buf, (size_t)len, 0, &s_out), FB_R_COUNT);
    /* A version-1 STATS body (48 bytes, no baseline) is the wrong length. */
    s_in.u.stats.eval_errors = 0;
    len = fb_encode(&s_in, s_buf, sizeof s_buf);
    al_put_le32(s_buf + 12, 48);
    s_fix_crc(FB_HEADER_SIZE + 48);
    assert_int_equal(fb_decode(s_buf, FB_HEADER_SIZE + 48, 0, &s_out), FB_R_LENGTH);
}

static void test_feedback_rejects_other_session_but_not_hello(void **state)
{
    (void)state;
    int len = s_losses(4);
    assert_int_equal(fb_decode(s_buf, (size_t)len, 78, &s_out), FB_R_SESSION);
    assert_int_equal(fb_decode(s_buf, (size_t)len, 77, &s_out), FB_OK);
    fb_msg hello = {.type = FB_HELLO, .session = 3};
    len = fb_encode(&hello, s_buf, sizeof s_buf);
    assert_int_equal(fb_decode(s_buf, (size_t)len, 77, &s_out), FB_OK);
}

static void test_feedback_encoder_refuses_bad_fields(void **state)
{
    (void)state;
    memset(&s_in, 0, sizeof s_in);
    s_in.type = FB_LOSSES;
    s_in.u.losses.count = FB_MAX_LOSSES + 1;
    assert_int_equal(fb_encode(&s_in, s_buf, sizeof s_buf), AL_EINVAL);
    s_in.u.losses.count = 100;
    assert_int_equal(fb_encode(&s_in, s_buf, 200), AL_ERANGE);
    s_in.type = (fb_type)42;
    assert_int_equal(fb_encode(&s_in, s_buf, sizeof s_buf), AL_EINVAL);
}

static void test_feedback_counters_and_names(void **state)
{
    (void)state;
    fb_counters c;
    memset(&c, 0, sizeof c);
    fb_counters_add(&c, FB_LOSSES, FB_OK);
    fb_counters_add(&c, FB_LOSSES, FB_R_CRC);
    fb_counters_add(&c, FB_LOSSES, FB_R_CRC);
    assert_int_equal(c.received[FB_LOSSES], 1);
    assert_int_equal(c.rejected[FB_R_CRC], 2);
    assert_string_equal(fb_type_name(FB_LOSSES_ACK), "LOSSES_ACK");
    assert_string_equal(fb_reason_name(FB_R_STALE), "FB_R_STALE");
    assert_string_equal(fb_reason_text(FB_R_CRC), "body checksum mismatch");
    /* Hash: FNV-1a 64 of "a" is af63dc4c8601ec8c. */
    assert_true(fb_config_hash("a") == 0xaf63dc4c8601ec8cull);
    assert_true(fb_config_hash("M=256;N=4") != fb_config_hash("M=256;N=2"));
}

/* An offer of a 1000-byte file in 100-byte segments, 16 labels. */
static int s_offer(void)
{
    memset(&s_in, 0, sizeof s_in);
    s_in.type = FB_XFER_OFFER;
    s_in.session = 77;
    fb_xfer_offer *o = &s_in.u.offer;
    o->file_id = 0x12345678;
    o->crc = 0xcafef00d;
    o->size = 1000;
    o->segment_bytes = 100;
    o->segments = 10;
    o->name_len = 8;
    memcpy(o->name, "data.bin", 8);
    o->labels = 16;
    for (unsigned i = 0; i < 16; i++)
        o->label[i] = (uint16_t)(i ^ (i >> 1));   /* Gray */
    return fb_encode(&s_in, s_buf, sizeof s_buf);
}

/* A status at base 40 holding segments 42 and 50 of 12 bits. */
static int s_xstatus(void)
{
    memset(&s_in, 0, sizeof s_in);
    s_in.type = FB_XFER_STATUS;
    s_in.session = 77;
    fb_xfer_status *x = &s_in.u.xstatus;
    x->file_id = 0x12345678;
    x->state = FB_XFER_RECEIVING;
    x->base = 40;
    x->frames_ok = 45;
    x->frames_bad = 3;
    x->bits = 12;
    x->bitmap[0] = 1u << 2;
    x->bitmap[1] = 1u << 2;
    return fb_encode(&s_in, s_buf, sizeof s_buf);
}

static void test_feedback_xfer_messages_round_trip(void **state)
{
    (void)state;
    int len = s_offer();
    assert_int_equal(len, FB_HEADER_SIZE + 32 + 8 + 32);
    assert_int_equal(fb_decode(s_buf, (size_t)len, 77, &s_out), FB_OK);
    assert_int_equal(s_out.type, FB_XFER_OFFER);
    assert_string_equal(s_out.u.offer.name, "data.bin");
    assert_true(s_out.u.offer.size == 1000);
    assert_int_equal(s_out.u.offer.crc, 0xcafef00d);
    assert_int_equal(s_out.u.offer.labels, 16);
    assert_memory_equal(s_out.u.offer.label, s_in.u.offer.label, 32);
    /* No labels: the identity. */
    s_in.u.offer.labels = 0;
    len = fb_encode(&s_in, s_buf, sizeof s_buf);
    assert_int_equal(fb_decode(s_buf, (size_t)len, 77, &s_out), FB_OK);
    assert_int_equal(s_out.u.offer.labels, 0);
    len = s_xstatus();
    assert_int_equal(len, FB_HEADER_SIZE + 24 + 2);
    assert_int_equal(fb_decode(s_buf, (size_t)len, 77, &s_out), FB_OK);
    assert_int_equal(s_out.type, FB_XFER_STATUS);
    assert_int_equal(s_out.u.xstatus.base, 40);
    assert_int_equal(s_out.u.xstatus.bits, 12);
    assert_int_equal(s_out.u.xstatus.bitmap[0], 4);
    assert_int_equal(s_out.u.xstatus.bitmap[1], 4);
    assert_int_equal(s_out.u.xstatus.frames_bad, 3);
}

/* Rewrites a field of the body of the last encoded message and its CRC;
 * the decoder must refuse it with `want`. */
static void s_expect(int len, fb_reason want)
{
    s_fix_crc(len);
    assert_int_equal(fb_decode(s_buf, (size_t)len, 77, &s_out), want);
}

static void test_feedback_rejects_malformed_xfer_offer(void **state)
{
    (void)state;
    uint8_t *b = s_buf + FB_HEADER_SIZE;
    int len = s_offer();
    al_put_le32(b, 0);                         /* file id 0 */
    s_expect(len, FB_R_FIELD);
    len = s_offer();
    al_put_le32(b + 20, 11);                   /* segments != ceil(size / segment bytes) */
    s_expect(len, FB_R_FIELD);
    len = s_offer();
    al_put_le32(b + 16, 0);                    /* segment bytes 0 */
    s_expect(len, FB_R_FIELD);
    len = s_offer();
    al_put_le64(b + 8, UINT64_MAX);            /* size that overflows */
    s_expect(len, FB_R_FIELD);
    len = s_offer();
    al_put_le32(b + 28, 1);                    /* reserved */
    s_expect(len, FB_R_FLAGS);
    len = s_offer();
    al_put_le16(b + 26, 9);                    /* name length beyond the body */
    s_expect(len, FB_R_LENGTH);
    len = s_offer();
    al_put_le16(b + 24, 17);                   /* label count beyond the body */
    s_expect(len, FB_R_LENGTH);
    const char *bad_names[] = {"../x.bin", "a/b.bin\0", ".hidden", "tab\tname"};
    for (int k = 0; k < 4; k++) {
        len = s_offer();
        memcpy(b + 32, bad_names[k], 8);
        s_expect(len, FB_R_FIELD);
    }
    len = s_offer();
    al_put_le16(b + 32 + 8 + 2 * 5, 3);        /* label 3 twice: no permutation */
    s_expect(len, FB_R_FIELD);
    len = s_offer();
    al_put_le16(b + 32 + 8 + 2 * 5, 16);       /* label out of range */
    s_expect(len, FB_R_FIELD);
    /* 12 labels: not a power of two (a valid-length body). */
    s_offer();
    s_in.u.offer.labels = 12;
    for (unsigned i = 0; i < 12; i++)
        s_in.u.offer.label[i] = (uint16_t)i;
    len = fb_encode(&s_in, s_buf, sizeof s_buf);
    assert_int_equal(fb_decode(s_buf, (size_t)len, 77, &s_out), FB_R_FIELD);
    /* The encoder refuses what no decoder would take. */
    s_offer();
    s_in.u.offer.name_len = FB_MAX_NAME + 1;
    assert_int_equal(fb_encode(&s_in, s_buf, sizeof s_buf), AL_EINVAL);
}

static void test_feedback_rejects_malformed_xfer_status(void **state)
{
    (void)state;
    uint8_t *b = s_buf + FB_HEADER_SIZE;
    int len = s_xstatus();
    b[24] |= 1;                                /* base marked held */
    s_expect(len, FB_R_FIELD);
    len = s_xstatus();
    b[25] |= 0x10;                             /* a bit past the 12 in use */
    s_expect(len, FB_R_FLAGS);
    len = s_xstatus();
    b[4] = 3;                                  /* unknown state */
    s_expect(len, FB_R_FIELD);
    len = s_xstatus();
    b[4] = FB_XFER_COMPLETE;                   /* complete, yet a bitmap */
    s_expect(len, FB_R_FIELD);
    len = s_xstatus();
    b[6] = 1;                                  /* reserved */
    s_expect(len, FB_R_FLAGS);
    len = s_xstatus();
    al_put_le32(b, 0);                         /* file id 0 */
    s_expect(len, FB_R_FIELD);
    len = s_xstatus();
    al_put_le32(b + 8, UINT32_MAX - 4);        /* base + bits wraps */
    s_expect(len, FB_R_FIELD);
    len = s_xstatus();
    al_put_le16(b + 20, 17);                   /* bits beyond the body */
    s_expect(len, FB_R_LENGTH);
    s_xstatus();
    s_in.u.xstatus.bits = FB_XFER_WINDOW + 1;
    assert_int_equal(fb_encode(&s_in, s_buf, sizeof s_buf), AL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_feedback_every_type_round_trips),
        cmocka_unit_test(test_feedback_header_layout_is_little_endian),
        cmocka_unit_test(test_feedback_rejects_short_message),
        cmocka_unit_test(test_feedback_rejects_bad_magic_version_type_flags),
        cmocka_unit_test(test_feedback_rejects_bad_crc),
        cmocka_unit_test(test_feedback_rejects_wrong_lengths),
        cmocka_unit_test(test_feedback_rejects_nonfinite_and_negative_losses),
        cmocka_unit_test(test_feedback_stats_rejects_nonfinite_and_negative_snr_sums),
        cmocka_unit_test(test_feedback_rejects_stats_with_more_errors_than_messages),
        cmocka_unit_test(test_feedback_rejects_other_session_but_not_hello),
        cmocka_unit_test(test_feedback_encoder_refuses_bad_fields),
        cmocka_unit_test(test_feedback_counters_and_names),
        cmocka_unit_test(test_feedback_xfer_messages_round_trip),
        cmocka_unit_test(test_feedback_rejects_malformed_xfer_offer),
        cmocka_unit_test(test_feedback_rejects_malformed_xfer_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests of CRC32, little-endian encoding and error messages (common/). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "al_bytes.h"
#include "al_error.h"

static void test_crc32_matches_check_value(void **state)
{
    (void)state;
    /* The CRC-32/ISO-HDLC check value of "123456789". */
    assert_int_equal(al_crc32(0, "123456789", 9), 0xCBF43926u);
    /* Continuing over pieces equals one call over the whole. */
    uint32_t c = al_crc32(0, "1234", 4);
    assert_int_equal(al_crc32(c, "56789", 5), 0xCBF43926u);
}

static void test_le_round_trip_and_byte_order(void **state)
{
    (void)state;
    uint8_t b[8];
    al_put_le32(b, 0x11223344u);
    assert_int_equal(b[0], 0x44);
    assert_int_equal(b[3], 0x11);
    assert_int_equal(al_get_le32(b), 0x11223344u);
    al_put_le16(b, 0xBEEF);
    assert_int_equal(b[0], 0xEF);
    assert_int_equal(al_get_le16(b), 0xBEEF);
    al_put_le64(b, 0x0102030405060708ull);
    assert_int_equal(b[0], 0x08);
    assert_true(al_get_le64(b) == 0x0102030405060708ull);
    al_put_f32(b, -1.5f);
    assert_true(al_get_f32(b) == -1.5f);
}

static void test_error_set_returns_code_and_keeps_message(void **state)
{
    (void)state;
    int rc = al_error_set(AL_EINVAL, "thing_create", "M=%u must be >= 2", 1u);
    assert_int_equal(rc, AL_EINVAL);
    assert_string_equal(al_error_message(), "thing_create: M=1 must be >= 2");
    assert_string_equal(al_strerror(AL_ECRC), "checksum mismatch");
    assert_string_equal(al_strerror(12345), "unknown error");
    al_error_clear();
    assert_string_equal(al_error_message(), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32_matches_check_value),
        cmocka_unit_test(test_le_round_trip_and_byte_order),
        cmocka_unit_test(test_error_set_returns_code_and_keeps_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
